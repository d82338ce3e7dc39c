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

    # the report script
    outdir = Path(tmp) / "report"
    rc = subprocess.run([sys.executable, str(src / "analysis" / "report.py"), str(h5), str(outdir)],
                        capture_output=True, text=True)
    check(rc.returncode == 0, f"report.py exit {rc.returncode}: {rc.stderr}")
    for name in ("index.html", "ttft_cdf.png", "timeseries_waiting.png", "utilisation.png"):
        check((outdir / name).is_file() and (outdir / name).stat().st_size > 1000, f"report wrote {name}")

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
    try:
        lr.load_sweep(h5)
        check(False, "load_sweep on a run file")
    except ValueError as e:
        check("not a sweep file" in str(e), "load_sweep message")

print(f"{passes} passed, {failures} failed")
sys.exit(1 if failures else 0)
