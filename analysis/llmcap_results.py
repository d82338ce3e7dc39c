"""Load llmcap HDF5 results into pandas DataFrames.

    import llmcap_results as lr
    r = lr.load("run.h5")
    r.summary_classes[["ttft_p99_s", "slo_attainment"]]
    r.timeseries_pools.query("pool == 'reasoning'").plot(x="time_h", y="waiting")

Only h5py and pandas (Debian's python3-h5py, python3-pandas). The layout is documented in
docs/hdf5-layout.md; this module reads format version 1.
"""
from __future__ import annotations

import dataclasses
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
