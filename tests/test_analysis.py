#!/usr/bin/env python3
"""The analysis side: a result file read back with h5py/pandas through analysis/llmcap_results.py
must hold the values the simulator printed (its --json summary of the same run), and the report
script must produce its figures.
usage: test_analysis.py PATH/TO/llmcap SOURCE_DIR"""
import json
import math
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

llmcap, src = sys.argv[1], Path(sys.argv[2])
sys.path.insert(0, str(src / "analysis"))
import llmcap_results as lr  # noqa: E402

failures = 0
passes = 0


def check(cond, what):
    global failures, passes
    if cond:
        passes += 1
    else:
        failures += 1
        print("FAIL:", what)


class report_page(HTMLParser):
    """The report's index.html, parsed: section and figure ids, images, their sources, headings,
    the page's text."""

    def __init__(self, path):
        super().__init__()
        self.ids, self.figures, self.imgs, self.captions, self.titles = set(), [], [], 0, {}
        self.text, self._in_caption = "", False
        self.feed(Path(path).read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "figure":
            self.figures.append(a.get("id"))
            self.titles[a.get("id")] = a.get("data-titles", "")
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag == "figcaption":
            self.captions += 1

    def handle_data(self, data):
        self.text += data


def check_page(pg, what, sections, figures):
    for sid in sections:
        check(sid in pg.ids, f"{what} report: section #{sid}")
    for fid in figures:
        check(fid in pg.figures, f"{what} report: figure {fid} (has {pg.figures})")
        check(pg.titles.get(fid, "").strip() != "", f"{what} report: {fid} has titles")
    check(pg.imgs and all(i.startswith("data:image/png;base64,") for i in pg.imgs),
          f"{what} report: every image embedded (self-contained)")
    check(pg.captions == len(pg.imgs), f"{what} report: a caption per figure")
    check("Verdict:" in pg.text, f"{what} report: a verdict")


def close(a, b, rtol=1e-12):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and math.isnan(a):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return abs(a - b) <= rtol * max(abs(a), abs(b), 1e-300)


with tempfile.TemporaryDirectory() as tmp:
    h5 = Path(tmp) / "run.h5"
    args = [llmcap, "run", "--set", "horizon=4h", "--set", "workload.diurnal.peak_hour=2", "-o", str(h5), "--json"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    js = json.loads(out)
    r = lr.load(h5)

    check(r.attrs["format_version"] == 1, "format_version attribute")
    check(r.attrs["digest"] == js["digest"], "digest attribute matches the run")
    check("workload:" in r.scenario_yaml, "resolved scenario stored as YAML")
    check(r.horizon_s == 4 * 3600, "horizon_s")

    # per-class summaries equal what the simulator reported
    for c in js["classes"]:
        row = r.summary_classes.set_index("name").loc[c["name"]]
        for key in ("arrived", "completed", "rejected", "unfinished"):
            check(int(row[key]) == c[key], f"{c['name']}.{key}")
        for lat in ("ttft", "tpot", "e2e", "queue"):
            for st in ("p50", "p90", "p99", "p99.9", "mean"):
                check(close(float(row[f"{lat}_{st}_s"]), c[f"{lat}_s"][st]), f"{c['name']} {lat} {st}")
        check(close(float(row["slo_attainment"]), c["slo_attainment"]), f"{c['name']} slo_attainment")

    # the per-request table reproduces the class percentiles (pandas uses the same linear
    # interpolation as GSL) and counts
    req = r.requests
    check(len(req) == sum(c["arrived"] for c in js["classes"]), "one row per arrived request")
    for c in js["classes"]:
        done = req[(req["class"] == c["name"]) & (req["status"] == "completed")]
        check(len(done) == c["completed"], f"{c['name']} completed rows")
        if len(done):
            check(close(done["ttft_s"].quantile(0.99), c["ttft_s"]["p99"], 1e-9), f"{c['name']} p99 TTFT from rows")
            check(close(done["e2e_s"].median(), c["e2e_s"]["p50"], 1e-9), f"{c['name']} median E2E from rows")
    check(set(req["status"].unique()) <= {"completed", "rejected:max_model_len", "unfinished"}, "status names")

    # utilisation and cost
    u = r.utilisation.query("replica == -1").set_index("pool")
    for p in js["utilisation"]:
        check(close(float(u.loc[p["pool"], "busy"]), p["busy"]), f"{p['pool']} busy")
    check(close(float(r.cost["self_hosted_total"].iloc[0]), js["cost"]["self_hosted_total"]), "TCO")

    # time series: 4 h of 60 s samples; arrivals add up
    ts = r.timeseries_replicas
    check(len(r.timeseries_pools) == 240 * len(r.pools), "pool time-series rows")
    check(int(ts["arrivals"].sum()) == len(req) - int((req["status"] == "rejected:max_model_len").sum()),
          "time-series arrivals add up")

    check(r.batch_means is None, "no batch_means table without --batch-means")

    # llmcap run --batch-means: /summary/batch_means equals the run's --json batch_means object
    bmf = Path(tmp) / "bm.h5"
    args = [llmcap, "run", str(src / "tests" / "data" / "md1.yaml"), "--set", "horizon=125s",
            "--set", "output.timeseries_interval=1s", "--batch-means", "4", "-o", str(bmf), "--json"]
    bjs = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)["batch_means"]
    bm = lr.load(bmf).batch_means
    check(bm is not None and list(bm["name"]) == [m["name"] for m in bjs["metrics"]], "batch_means names")
    if bm is not None:
        check(bm.attrs.get("batches") == 4 and bm.attrs.get("batch_length_s") == 25.0
              and bm.attrs.get("warmup_s") == 25.0, f"batch_means attributes {bm.attrs}")
        nan = float("nan")  # JSON writes NaN (no TPOT of 1-token outputs) as null
        for (_, row), m in zip(bm.iterrows(), bjs["metrics"]):
            for key in ("mean", "ci95_half_width"):
                want = nan if m[key] is None else m[key]
                check(close(float(row[key]), want), f"batch {key} {m['name']}: {row[key]} vs {m[key]}")
        q = bm.set_index("name").loc["c_queue_mean_s"]
        check(0 < q["mean"] < 0.05 and q["ci95_half_width"] > 0, f"M/D/1 queueing mean {q.to_dict()}")

    # the report script: one self-contained page with the verdict, the deployment, latency CDFs
    # with the SLO lines, the day per pool, cost against volume (report_page checks the HTML)
    outdir = Path(tmp) / "report"
    rc = subprocess.run([sys.executable, str(src / "analysis" / "report.py"), str(h5), str(outdir)],
                        capture_output=True, text=True)
    check(rc.returncode == 0, f"report.py exit {rc.returncode}: {rc.stderr}")
    for name in ("index.html", "ttft_cdf.png", "tpot_cdf.png", "queue_over_time.png",
                 "utilisation_over_time.png", "kv_over_time.png", "cost_vs_volume.png"):
        check((outdir / name).is_file() and (outdir / name).stat().st_size > 1000, f"report wrote {name}")
    if (outdir / "index.html").is_file():
        pg = report_page(outdir / "index.html")
        check_page(pg, "run", ["verdict", "deployment", "classes", "latency", "over-time", "cost"],
                   ["ttft_cdf", "tpot_cdf", "utilisation_over_time", "queue_over_time", "kv_over_time",
                    "cost_vs_volume"])
        check(all(p in pg.text for p in list(r.pools["name"])), "the deployment names every pool")
        check(str(int(r.pools["num_blocks"].iloc[0])) in pg.text, "the KV table shows the blocks")
        check(pg.text.count("p99 target") >= 2, "the CDFs draw the SLO lines")

    # docs/hdf5-layout.md names every column of the file and has its status codes (generated)
    rc = subprocess.run([sys.executable, str(src / "analysis" / "hdf5_doc.py"), str(h5),
                         str(src / "docs" / "hdf5-layout.md")], capture_output=True, text=True)
    check(rc.returncode == 0, f"docs/hdf5-layout.md matches the file: {rc.stderr}")
    stale = Path(tmp) / "stale.md"
    stale.write_text((src / "docs" / "hdf5-layout.md").read_text().replace("`energy_kwh`", "energy")
                     .replace("| 8 |", "| 9 |"))
    rc = subprocess.run([sys.executable, str(src / "analysis" / "hdf5_doc.py"), str(h5), str(stale)],
                        capture_output=True, text=True)
    check(rc.returncode == 1 and "energy_kwh" in rc.stderr and "stale" in rc.stderr,
          f"hdf5_doc.py finds a stale page: {rc.returncode} {rc.stderr}")

    # a file that is not a complete result is refused with a clear message
    bad = Path(tmp) / "bad.h5"
    bad.write_bytes(b"not hdf5")
    rc = subprocess.run([sys.executable, str(src / "analysis" / "report.py"), str(bad), str(outdir)],
                        capture_output=True, text=True)
    check(rc.returncode == 1 and "bad.h5" in rc.stderr, "report.py on a bad file")

    # a sweep file: tables and per-run time series in DataFrames
    sw = Path(tmp) / "sweep.h5"
    args = [llmcap, "sweep", str(src / "tests" / "data" / "md1.yaml"), "--vary", "workload.rate=20/s,40/s",
            "--vary", "pools.p.engine=vllm",
            "--seeds", "2", "--set", "horizon=30s", "--set", "output.timeseries_interval=5s",
            "--timeseries", "--batch-means", "2", "-o", str(sw), "-q"]
    rc = subprocess.run(args, capture_output=True, text=True)
    check(rc.returncode == 0, f"sweep exit {rc.returncode}: {rc.stderr}")
    s = lr.load_sweep(sw)
    check(s.keys == ["workload.rate", "pools.p.engine"], f"sweep keys in axis order: {s.keys}")
    check(len(s.runs) == 4 and len(s.points) == 2, "sweep rows")
    check(list(s.points["workload.rate"]) == ["20/s", "40/s"], "varied values as text")
    # beside each typed value its number in SI base units (a rate in 1/s); NaN for a name
    check(list(s.points["workload.rate_si"]) == [20.0, 40.0], f"numeric rate {list(s.points['workload.rate_si'])}")
    check(list(s.runs["workload.rate_si"]) == [20.0, 20.0, 40.0, 40.0], "numeric rate in /runs")
    check(s.points["pools.p.engine_si"].isna().all(), "a name has no number")
    swd = Path(tmp) / "sweep-durations.h5"
    rc = subprocess.run([llmcap, "sweep", str(src / "tests" / "data" / "md1.yaml"), "--vary",
                         "workload.classes.c.slo_ttft_p99=500ms,2s,1min", "--set", "horizon=10s", "-q",
                         "-o", str(swd)], capture_output=True, text=True)
    check(rc.returncode == 0, f"duration sweep: {rc.stderr}")
    if rc.returncode == 0:
        got = list(lr.load_sweep(swd).points["workload.classes.c.slo_ttft_p99_si"])
        check(got == [0.5, 2.0, 60.0], f"durations in seconds: {got}")
    swr = Path(tmp) / "sweep-report"
    rc = subprocess.run([sys.executable, str(src / "analysis" / "report.py"), str(sw), str(swr)],
                        capture_output=True, text=True)
    check(rc.returncode == 0, f"report.py on a sweep file: exit {rc.returncode}: {rc.stderr}")
    if rc.returncode == 0:
        check_page(report_page(swr / "index.html"), "sweep", ["verdict", "latency", "utilisation", "cost", "points"],
                   ["sweep_ttft_p99", "sweep_tpot_p99", "sweep_busy", "sweep_cost"])
    check("c_queue_mean_s_bm_ci95" in s.runs.columns, "batch-means columns")
    ts = s.timeseries
    check(ts is not None and len(ts) == 4 * 6, "6 samples of 5 s per run")
    if ts is not None:
        check(set(ts["pool"]) == {"p"}, "pool names in the time series")
        check(list(ts.groupby(["point", "replicate"]).size()) == [6] * 4, "rows per run")
        check(list(ts.drop_duplicates("point")["workload.rate"]) == ["20/s", "40/s"], "point values")
        # the arrivals of each run's series add up to what /runs counts
        arr = ts.groupby(["point", "replicate"])["arrivals"].sum().to_numpy()
        done = (s.runs["c_completed"] + s.runs["c_rejected"] + s.runs["c_unfinished"]
                + s.runs["c_spilled"]).to_numpy()
        check((arr == done).all(), f"time-series arrivals {arr} vs /runs {done}")
        check(list(ts.query("point == 1 and replicate == 1")["seed"].unique()) == [2], "seed column")
    check(list(s.runs["valid"]) == [1] * 4 and list(s.runs["error"]) == [""] * 4, "valid runs")
    # --skip-invalid: the point that does not fit keeps its rows, NaN metrics, valid 0, its reason
    swi = Path(tmp) / "sweep-skip.h5"
    rc = subprocess.run([llmcap, "sweep", str(src / "tests" / "data" / "md1.yaml"), "--vary",
                         "pools.p.model=llama-3.1-405b,llama-3.1-8b", "--set", "horizon=10s",
                         "--skip-invalid", "-o", str(swi), "-q"], capture_output=True, text=True)
    check(rc.returncode == 0, f"sweep --skip-invalid exit {rc.returncode}: {rc.stderr}")
    si = lr.load_sweep(swi)
    check(si.keys == ["pools.p.model"], f"the error column is no key: {si.keys}")
    check(list(si.runs["valid"]) == [0, 1], "valid column")
    check(si.runs["c_completed"].isna().tolist() == [True, False], "NaN metrics of the invalid run")
    inv = si.invalid
    check(list(inv["pools.p.model"]) == ["llama-3.1-405b"] and "756.0 GiB" in inv["error"].iloc[0],
          f"Sweep.invalid: {inv.to_dict('list')}")
    # a break-even file (the shipped example): the crossings and one plot per option
    ber = Path(tmp) / "be-report"
    rc = subprocess.run([sys.executable, str(src / "analysis" / "report.py"),
                         str(src / "analysis" / "examples" / "breakeven-reference.h5"), str(ber)],
                        capture_output=True, text=True)
    check(rc.returncode == 0, f"report.py on a breakeven file: exit {rc.returncode}: {rc.stderr}")
    if rc.returncode == 0:
        pg = report_page(ber / "index.html")
        check_page(pg, "breakeven", ["verdict", "cost", "table"], ["breakeven_cost"])
        check(all(d in pg.text for d in ("bf16", "fp8", "int4-awq")), "every precision in the break-even page")
    sys.path.insert(0, str(src / "analysis"))
    import report  # noqa: E402
    import pandas as pd  # noqa: E402
    # owned 300 then 100 against an API of 200 then 400: one crossing between the volumes,
    # owned cheaper above it
    cx = report.crossings(pd.DataFrame({"dtype": ["a", "a"], "feasible": [1, 1], "tokens_per_month": [1e9, 4e9],
                                        "self_hosted_total": [300.0, 100.0], "api_total": [200.0, 400.0]}))
    check(len(cx) == 1 and 1e9 < cx["tokens_per_month"].iloc[0] < 4e9 and bool(cx["owned_cheaper_above"].iloc[0]),
          f"crossings {cx.to_dict('list')}")
    try:
        lr.load_sweep(h5)
        check(False, "load_sweep on a run file")
    except ValueError as e:
        check("not a sweep file" in str(e), "load_sweep message")

print(f"{passes} passed, {failures} failed")
sys.exit(1 if failures else 0)
