#!/usr/bin/env python3
"""Every command in README.md and docs/*.md runs: the ```sh and ```python fenced blocks of each
document are run in order, as written, in a fresh folder per document (the source tree and the
build linked in, so `./build/llmcap`, `models/...`, `analysis/...` resolve and what a command
writes stays in the folder), each command must exit 0 and, where EXPECT says, print what the text
claims. A document's commands share its folder, so an example may use a file an earlier example
of the same document made, and none other: a command that needs a file the text does not create
fails here.

Blocks fenced ```text (synopses) or without a language (formulas, printed output) are not run.
SKIP names the few commands that are not run here, each with the reason (the place that runs
them instead); KNOWN the ones that fail because of a known bug, each with who fixes it: such a
command is still run, and it fails this test once it passes (remove it from KNOWN then), so no
check is disabled silently.

usage: doc_examples.py SOURCE_DIR BUILD_DIR [DOC.md...]
"""
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# command (regex, matched at the start of the command) -> why it is not run here
SKIP = {
    r"sh \.ci/setup": "the quick start is what .ci/run does (setup, build, run)",
    r"meson test -C build$": "the test suite itself (this test is part of it)",
    r"CC=clang-14 meson setup build-fuzz|meson compile -C build-fuzz|meson test -C build-fuzz":
        "the fuzz build and run: .ci/run's fuzz stage",
    r"UBSAN_OPTIONS=.* sh tests/fuzz/run\.sh|build-fuzz/tests/fuzz/": "an hour-long fuzz campaign (manual)",
    r"meson test -C build --setup valgrind": "the valgrind suite: .ci/run's valgrind stage",
    r"srun ": "needs a Slurm cluster (docs/sweeps.md says it is untested)",
}

# command regex -> what the output must contain (a regex searched in stdout + stderr)
EXPECT = {
    r"\./build/llmcap run$": r"digest",
    r"\./build/llmcap run my\.yaml": r"digest",
    r"\./build/llmcap run --set horizon=30d": r"digest",
    r"\./build/llmcap run --exact-steps": r"digest",
    r"\./build/llmcap run --set workload\.diurnal\.shape=none --batch-means": r"(?i)batch",
    r"\./build/llmcap run -o result\.h5": r"digest",
    r"\./build/llmcap workload my\.yaml --out": r"(?i)tokens/month",
    r"\./build/llmcap workload models/scenarios/bursty-week": r"(?i)tokens/month",
    r"\./build/llmcap trace stats": r"(?i)rows",
    r"\./build/llmcap sweep .*-o (\S+)": r"written to",
    r"mpirun .*llmcap-mpi sweep": r"written to",
    r"\./build/llmcap plan": r"(?i)cost|\$",
    r"\./build/llmcap maxrate": r"(?i)rate",
    r"\./build/llmcap breakeven": r"(?i)break-even",
    r"\./build/llmcap schema": r"workload",
    r"\./build/llmcap catalog": r"(?s)h100.*no FP8",  # A100: no FP8 tensor cores
    r"\./build/llmcap config": r"workload:",
    r"/usr/bin/python3 analysis/report\.py": r"index\.html",
    r"/usr/bin/python3 analysis/plot_breakeven\.py": r"wrote",
    r"\./build/bench/fidelity": r"measured .* predicted",
}

# command regex -> the known bug that makes it fail, and who fixes it (issue 24)
KNOWN = {
}

TIMEOUT_S = 600


def commands(doc: Path):
    """(line, kind, text) for every command of the document's sh and python blocks, in order."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    out, i = [], 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i + 1
        j = start
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        body = lines[start:j]
        if lang == "python":
            out.append((start + 1, "python", "\n".join(body)))
        elif lang in ("sh", "bash", "shell"):
            k = 0
            while k < len(body):
                line = body[k]
                if not line.strip() or line.lstrip().startswith("#"):
                    k += 1
                    continue
                first, text = k, line
                while text.rstrip().endswith("\\") and k + 1 < len(body):
                    k += 1
                    text = text.rstrip()[:-1] + " " + body[k].strip()
                out.append((start + first + 1, "sh", text))
                k += 1
        i = j + 1
    return out


def strip_comment(cmd: str) -> str:
    """The command without its trailing comment (a '#' after whitespace, outside quotes)."""
    quote = None
    for n, ch in enumerate(cmd):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and n > 0 and cmd[n - 1].isspace():
            return cmd[:n].rstrip()
    return cmd.rstrip()


def match(table: dict, cmd: str):
    for pattern, value in table.items():
        if re.match(pattern, cmd):
            return value
    return None


def workspace(src: Path, build: Path, top: Path) -> Path:
    """top/work: the source tree's entries and the build linked in; top/shared: the shared data
    (../shared from the work folder, as from a checkout beside it)."""
    work = top / "work"
    work.mkdir()
    for entry in src.iterdir():
        if entry.name in ("build", ".git") or entry.name.startswith("build-"):
            continue
        (work / entry.name).symlink_to(entry)
    (work / "build").symlink_to(build)
    shared = src.parent / "shared"
    if shared.is_dir():
        (top / "shared").symlink_to(shared)
    return work


def main() -> int:
    src, build = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    docs = [Path(d) for d in sys.argv[3:]] or [src / "README.md", *sorted((src / "docs").glob("*.md"))]
    env = dict(os.environ, MPLBACKEND="Agg", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_btl="self,vader")
    passed = failed = skipped = 0
    for doc in docs:
        cmds = commands(doc)
        if not cmds:
            continue
        with tempfile.TemporaryDirectory(prefix="llmcap-doc-") as tmp:
            work = workspace(src, build, Path(tmp))
            for line, kind, text in cmds:
                where = f"{doc.relative_to(src)}:{line}"
                cmd = strip_comment(text) if kind == "sh" else text
                if kind == "sh":
                    why = match(SKIP, cmd)
                    if why:
                        skipped += 1
                        print(f"SKIP {where}: {cmd} ({why})")
                        continue
                    if cmd.startswith("mpirun") and not (build / "llmcap-mpi").exists():
                        skipped += 1
                        print(f"SKIP {where}: {cmd} (llmcap-mpi not built: -Dmpi=enabled)")
                        continue
                    argv = ["bash", "-c", cmd]
                else:
                    argv = ["/usr/bin/python3", "-c", cmd]
                t0 = time.monotonic()
                try:
                    r = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True,
                                       timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
                    rc, output = r.returncode, r.stdout + r.stderr
                except subprocess.TimeoutExpired:
                    rc, output = 124, f"timed out after {TIMEOUT_S} s"
                dt = time.monotonic() - t0
                known = match(KNOWN, cmd) if kind == "sh" else None
                want = match(EXPECT, cmd) if kind == "sh" else None
                ok = rc == 0 and (want is None or re.search(want, output) is not None)
                short = cmd if kind == "sh" else cmd.splitlines()[-1]
                if known:
                    if ok:
                        failed += 1
                        print(f"FAIL {where}: {short}: passes now; remove it from KNOWN ({known})")
                    else:
                        skipped += 1
                        print(f"KNOWN {where}: {short}: exit {rc} ({known})")
                    continue
                if ok:
                    passed += 1
                    print(f"ok   {where} ({dt:.1f} s): {short}")
                else:
                    failed += 1
                    why = f"exit {rc}" if rc else f"output lacks /{want}/"
                    print(f"FAIL {where}: {short}: {why}\n" + "\n".join("    " + x for x in output.splitlines()[-15:]))
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
