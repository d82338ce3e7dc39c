"""Load llmcap HDF5 results into pandas DataFrames.

    import llmcap_results as lr
    r = lr.load("run.h5")
    r.summary_classes[["ttft_p99_s", "slo_attainment"]]
    r.timeseries_pools.query("pool == 'reasoning'").plot(x="time_h", y="waiting")

    s = lr.load_sweep("sweep.h5")          # llmcap sweep's file
    s.points[["workload.rate", "workload.rate_si", "utility_ttft_p99_s_mean", "utility_ttft_p99_s_ci95"]]
    s.timeseries.query("point == 3").plot(x="time_h", y="busy")   # with --timeseries

Only h5py and pandas (Debian's python3-h5py, python3-pandas). The layout is documented in
docs/hdf5-layout.md; this module reads format version 1.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

FORMAT_VERSION = 1


def _decode(df: pd.DataFrame) -> pd.DataFrame:
    """Fixed-length HDF5 strings arrive as bytes; make them str."""
    for col in df.columns:
        if df[col].dtype == object and len(df) and isinstance(df[col].iloc[0], bytes):
            df[col] = df[col].str.decode("utf-8")
    return df


def _table(f: h5py.File, name: str) -> pd.DataFrame | None:
    if name not in f:
        return None
    return _decode(pd.DataFrame(f[name][:]))


def _attr(v):
    return v.decode("utf-8") if isinstance(v, bytes) else (v.item() if isinstance(v, np.generic) else v)


@dataclasses.dataclass
class Results:
    """One run. Every table is a DataFrame; times are seconds unless a column says otherwise."""

    path: Path
    attrs: dict
    classes: pd.DataFrame
    pools: pd.DataFrame
    summary_classes: pd.DataFrame
    summary_pools: pd.DataFrame
    summary_overall: pd.DataFrame
    utilisation: pd.DataFrame
    cost: pd.DataFrame
    requests: pd.DataFrame | None
    timeseries_replicas: pd.DataFrame | None
    timeseries_pools: pd.DataFrame | None
    # llmcap run --batch-means K: one row per class and pool metric (name, mean, ci95_half_width);
    # .attrs holds batches, batch_length_s, warmup_s. None for a run without batch means.
    batch_means: pd.DataFrame | None = None

    @property
    def scenario_yaml(self) -> str:
        return self.attrs["scenario_yaml"]

    @property
    def horizon_s(self) -> float:
        return float(self.attrs["horizon_s"])


def load(path) -> Results:
    """Reads a complete llmcap result file. Raises ValueError for an incomplete or newer file."""
    path = Path(path)
    with h5py.File(path, "r") as f:
        attrs = {k: _attr(v) for k, v in f.attrs.items()}
        if attrs.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path}: format version {attrs.get('format_version')}, "
                             f"this loader reads {FORMAT_VERSION}")
        if attrs.get("complete") != 1:
            raise ValueError(f"{path}: the run did not complete")
        classes = _table(f, "classes")
        pools = _table(f, "pools")
        class_names = dict(zip(classes["index"], classes["name"]))
        pool_names = dict(zip(pools["index"], pools["name"]))
        status_names = {}
        requests = _table(f, "requests")
        if requests is not None:
            codes = _attr(f["requests"].attrs["status_codes"])
            status_names = {int(k): v for k, v in (c.split("=", 1) for c in codes.split(","))}
            requests["class"] = requests["class"].map(class_names)
            requests["pool"] = requests["pool"].map(pool_names)
            requests["status"] = requests["status"].map(status_names)
        series = {}
        for which in ("replicas", "pools"):
            ts = _table(f, f"timeseries/{which}")
            if ts is not None:
                ts["pool"] = ts["pool"].map(pool_names)
                ts["time_h"] = ts["time_s"] / 3600.0
            series[which] = ts
        util = _table(f, "summary/utilisation")
        util["pool"] = util["pool"].map(pool_names)
        bm = _table(f, "summary/batch_means")
        if bm is not None:
            bm.attrs = {k: _attr(v) for k, v in f["summary/batch_means"].attrs.items() if k != "units"}
        return Results(
            path=path,
            attrs=attrs,
            classes=classes,
            pools=pools,
            summary_classes=_table(f, "summary/classes"),
            summary_pools=_table(f, "summary/pools"),
            summary_overall=_table(f, "summary/overall"),
            utilisation=util,
            cost=_table(f, "summary/cost"),
            requests=requests,
            timeseries_replicas=series["replicas"],
            timeseries_pools=series["pools"],
            batch_means=bm,
        )


def sweep_table(paths, key_from_attrs=None) -> pd.DataFrame:
    """One row per (run, class): the class summaries of many runs side by side, with the
    run's mean request rate, token volume and cost. Useful for latency-vs-rate plots."""
    rows = []
    for p in paths:
        r = load(p)
        per_run = {
            "run": str(p),
            "scenario": r.attrs["scenario_name"],
            "seed": r.attrs["seed"],
            "arrived_per_s": r.summary_overall["arrived"].iloc[0] / r.horizon_s,
            "tokens_per_month": r.cost["tokens_per_month"].iloc[0],
            "self_hosted_monthly": r.cost["self_hosted_monthly"].iloc[0],
            "api_monthly": r.cost["api_monthly"].iloc[0],
        }
        if key_from_attrs:
            per_run.update(key_from_attrs(r))
        for _, c in r.summary_classes.iterrows():
            rows.append({**per_run, **{f"{k}": v for k, v in c.items()}})
    return pd.DataFrame(rows)


@dataclasses.dataclass
class Sweep:
    """An `llmcap sweep` file: /runs (one row per point and seed) and /points (mean and 95%
    interval per metric), the varied keys as text columns (`workload.rate`: '20000/day') each
    with its number in SI base units beside it (`workload.rate_si`: 0.2315 per second; NaN for
    a name such as 'fp8'); with --timeseries, every run's pool
    time series in one DataFrame with point, replicate, seed and the varied values as columns.
    Both tables have `valid` (0 for a point --skip-invalid did not run: its metrics are NaN)
    and `error` (why); `s.runs.query("valid == 1")` keeps the runs that ran."""

    path: Path
    attrs: dict
    keys: list  # the varied keys' column names, in axis order (the last varied fastest)
    runs: pd.DataFrame
    points: pd.DataFrame
    timeseries: pd.DataFrame | None

    @property
    def scenario_yaml(self) -> str:
        return self.attrs["scenario_yaml"]

    @property
    def invalid(self) -> pd.DataFrame:
        """The points that were not run (--skip-invalid): point, the varied values, error."""
        return self.points.loc[self.points["valid"] == 0, ["point", *self.keys, "error"]]


def load_sweep(path, timeseries=True) -> Sweep:
    """Reads a complete sweep file (docs/sweeps.md, docs/hdf5-layout.md). Pool indices in the
    time series become pool names (from the base scenario's pools, in order). Raises ValueError
    for an incomplete, newer or non-sweep file."""
    path = Path(path)
    with h5py.File(path, "r") as f:
        attrs = {k: _attr(v) for k, v in f.attrs.items()}
        if attrs.get("kind") != "sweep":
            raise ValueError(f"{path}: not a sweep file (kind {attrs.get('kind')!r})")
        if attrs.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path}: format version {attrs.get('format_version')}, "
                             f"this loader reads {FORMAT_VERSION}")
        if attrs.get("complete") != 1:
            raise ValueError(f"{path}: the sweep did not complete")
        runs = _table(f, "runs")
        points = _table(f, "points")
        # the varied keys' columns, in axis order: the text columns after point and n_seeds
        # (a varied `seed` is the column `vary.seed`)
        # (the text column `error` after the metrics is no key)
        for t in (runs, points):
            if "valid" not in t.columns:  # written before --skip-invalid: every point ran
                t["valid"], t["error"] = 1, ""
        keys = [c for c in points.columns[2:] if points[c].dtype == object and c != "error"]
        ts = None
        if timeseries and "timeseries" in f:
            pool_names = _pool_names(attrs.get("scenario_yaml", ""))
            parts = []
            for gname in sorted(f["timeseries"]):
                g = f["timeseries"][gname]
                values = {k: _attr(v) for k, v in g.attrs.items() if k not in ("point", "valid")}
                for dname in sorted(g, key=lambda n: int(n.rsplit("_", 1)[1])):
                    d = _decode(pd.DataFrame(g[dname][:]))
                    d.insert(0, "point", int(_attr(g.attrs["point"])))
                    d.insert(1, "replicate", int(dname.rsplit("_", 1)[1]))
                    d.insert(2, "seed", int(_attr(g[dname].attrs["seed"])))
                    for k, v in values.items():
                        d[k] = v
                    parts.append(d)
            if parts:
                ts = pd.concat(parts, ignore_index=True)
                if pool_names:
                    ts["pool"] = ts["pool"].map(dict(enumerate(pool_names)))
                ts["time_h"] = ts["time_s"] / 3600.0
        return Sweep(path=path, attrs=attrs, keys=keys, runs=runs, points=points, timeseries=ts)


def _pool_names(scenario_yaml: str) -> list:
    """The pool names of a resolved scenario, in order (as llmcap writes it: 'pools:' at the
    top level, then one 2-space-indented 'NAME:' line per pool)."""
    names, inside = [], False
    for line in scenario_yaml.splitlines():
        if not line.startswith(" "):
            inside = line.startswith("pools:")
            continue
        if inside and line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(":"):
            names.append(line.strip()[:-1].strip('"'))
    return names


def _seconds(text: str) -> float:
    """A duration as llmcap writes it ("500ms", "5s", "2min", "1h") in seconds; NaN otherwise."""
    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*(ns|us|ms|s|min|h|d|w)\s*", text)
    if not m:
        return float("nan")
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0,
             "w": 604800.0}[m.group(2)]
    return float(m.group(1)) * scale


def class_slos(scenario_yaml: str) -> dict:
    """{class: {"slo_ttft_p99": s, "slo_tpot_p99": s}} of a resolved scenario as llmcap writes
    it (workload: / classes: / NAME: / slo_*: VALUE, indented by two spaces a level), in order;
    for a sweep file, whose /points has no /classes table."""
    out, section, inside, name = {}, None, False, None
    for line in scenario_yaml.splitlines():
        if not line.startswith(" "):
            section = line.rstrip(":")
            inside = False
            continue
        if section != "workload":
            continue
        if line.startswith("  ") and not line.startswith("   "):
            inside = line.strip() == "classes:"
            continue
        if not inside:
            continue
        if line.startswith("    ") and not line.startswith("     ") and line.rstrip().endswith(":"):
            name = line.strip()[:-1].strip('"')
            out[name] = {}
        elif name and line.startswith("      ") and not line.startswith("       "):
            k, _, v = line.strip().partition(":")
            if k in ("slo_ttft_p99", "slo_tpot_p99"):
                out[name][k] = _seconds(v)
    return out
