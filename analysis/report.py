#!/usr/bin/env python3
"""Writes one self-contained HTML page (index.html, every plot embedded) about an llmcap result
file, and each plot as a PNG beside it:

    /usr/bin/python3 analysis/report.py run.h5 report/        # llmcap run -o run.h5
    /usr/bin/python3 analysis/report.py sweep.h5 report/      # llmcap sweep -o sweep.h5
    /usr/bin/python3 analysis/report.py breakeven.h5 report/  # llmcap breakeven -o breakeven.h5

A run's page: the verdict (SLOs, overload, owning against the API), the deployment and its KV
cache, the classes, latency CDFs per class with the SLO targets, utilisation, queue and KV
occupancy over the simulated time (one line per pool), and cost against monthly volume with the
break-even crossing. A sweep's: the verdict per point, p99 latencies per class against the first
numeric varied key with 95% intervals and the SLO lines, utilisation per pool, cost. A
break-even file's: owned fleet per precision against the API over volume, with the crossings.
Every plot has a title and units on its axes. Exit 0, or 1 with a message for a file it cannot
read.
"""
import argparse
import base64
import html
import io
import math
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import llmcap_results as lr  # noqa: E402

CSS = """
body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1a1a1a;line-height:1.4}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
.meta{color:#555;font-size:.9em}
.verdict{border-left:6px solid;padding:.6em 1em;margin:1em 0;background:#f7f7f7}
.verdict.ok{border-color:#2a9d4a}.verdict.bad{border-color:#d0342c}.verdict.warn{border-color:#e0a000}
.verdict p{margin:.3em 0}.verdict .headline{font-size:1.25em;font-weight:600}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#eee}
td:first-child,th:first-child{text-align:left}
td.miss{background:#fbe3e1;color:#9b1c14;font-weight:600}td.met{background:#e3f5e7}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}
figcaption{color:#555;font-size:.9em}
"""


def money(v) -> str:
    """One money format for the page: $273,200 (no cents), '-' for NaN."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"-${-v:,.0f}" if v < 0 else f"${v:,.0f}"


def volume(tokens) -> str:
    """A token volume: 2.73B, 500M."""
    if tokens is None or not math.isfinite(tokens):
        return "-"
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(tokens) >= div:
            return f"{tokens / div:.3g}{suffix}"
    return f"{tokens:.3g}"


def seconds(v) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    if v < 1:
        return f"{v * 1e3:.3g} ms"
    return f"{v:,.3g} s" if v < 1000 else f"{v:,.0f} s"


class Page:
    """The page under construction: sections of HTML, figures embedded as base64 PNG and also
    written beside index.html."""

    def __init__(self, out: Path, title: str):
        self.out, self.title, self.parts, self.figures = out, title, [], []

    def add(self, fragment: str):
        self.parts.append(fragment)

    def table(self, df: pd.DataFrame, classes=None):
        """A DataFrame as a table; classes maps (row, column) to a CSS class."""
        rows = ["<div style='overflow-x:auto'><table><thead><tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
                + "</tr></thead><tbody>"]
        for i, (_, r) in enumerate(df.iterrows()):
            cells = []
            for c in df.columns:
                cls = (classes or {}).get((i, c))
                attr = f" class='{cls}'" if cls else ""
                v = r[c]
                text = f"{v:.4g}" if isinstance(v, float) else str(v)
                cells.append(f"<td{attr}>{html.escape(text)}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        rows.append("</tbody></table></div>")
        self.add("".join(rows))

    def figure(self, fig, name: str, caption: str):
        # every plot says what it shows and in which units: refuse one that does not
        titles = []
        for ax in fig.get_axes():
            if not ax.get_visible():
                continue
            if not (ax.get_title() and ax.get_xlabel() and ax.get_ylabel()):
                raise AssertionError(f"{name}: a plot without a title or axis label")
            titles.append(ax.get_title())
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
        data = buf.getvalue()
        (self.out / name).write_bytes(data)
        self.figures.append(name)
        b64 = base64.b64encode(data).decode("ascii")
        self.add(f"<figure id='{html.escape(name[:-4])}' data-titles='{html.escape(' | '.join(titles))}'>"
                 f"<img alt='{html.escape(caption)}' "
                 f"src='data:image/png;base64,{b64}'><figcaption>{html.escape(caption)}"
                 f"</figcaption></figure>")

    def write(self) -> Path:
        doc = ["<!doctype html>", "<html lang='en'><head><meta charset='utf-8'>",
               "<meta name='viewport' content='width=device-width, initial-scale=1'>",
               f"<title>{html.escape(self.title)}</title><style>{CSS}</style></head><body>",
               *self.parts, "</body></html>"]
        path = self.out / "index.html"
        path.write_text("\n".join(doc), encoding="utf-8")
        return path


def verdict_box(kind: str, headline: str, lines: list) -> str:
    body = "".join(f"<p>{line}</p>" for line in lines)
    return (f"<section class='verdict {kind}' id='verdict'><p class='headline'>{html.escape(headline)}"
            f"</p>{body}</section>")


# ---------------------------------------------------------------- scenario text helpers

def hardware_line(yaml_text: str) -> str:
    """'1 server x 4 h100-sxm-80gb' from the resolved scenario's hardware section."""
    m = re.search(r"^hardware:\n((?:  .*\n?)+)", yaml_text, re.M)
    if not m:
        return ""
    kv = dict(re.findall(r"^  (\w+): *(.*)$", m.group(1), re.M))
    if "gpu" not in kv:
        return ""
    return (f"{kv.get('servers', '?')} server(s) x {kv.get('gpus_per_server', '?')} "
            f"{kv['gpu']}")


# ---------------------------------------------------------------- a run

def run_verdict(r):
    s = r.summary_classes.merge(r.classes[["name", "slo_ttft_p99_s", "slo_tpot_p99_s"]], on="name")
    misses = []
    for _, c in s.iterrows():
        if int(c["ttft_p99_met"]) == 0:
            misses.append(f"<b>{html.escape(c['name'])}</b> misses its p99 TTFT target: "
                          f"{seconds(c['ttft_p99_s'])} against {seconds(c['slo_ttft_p99_s'])}")
        if int(c["tpot_p99_met"]) == 0:
            misses.append(f"<b>{html.escape(c['name'])}</b> misses its p99 TPOT target: "
                          f"{seconds(c['tpot_p99_s'])} against {seconds(c['slo_tpot_p99_s'])}")
    arrived = int(r.summary_overall["arrived"].iloc[0])
    unfinished = int(r.summary_overall["unfinished"].iloc[0])
    overloaded = arrived > 0 and unfinished > 0.01 * arrived
    c = r.cost.iloc[0]
    months = c["months"]
    owned, api = c["self_hosted_total"], c["api_total"]
    cheaper = "owning is cheaper" if owned < api else "the API is cheaper"
    cost_line = (f"Over {months:.0f} months at {volume(c['tokens_per_month'])} tokens/month, owning costs "
                 f"{money(owned)} and the API {money(api)}: {cheaper} by {money(abs(owned - api))}.")
    be = c["breakeven_tokens_per_month"]
    if math.isfinite(be) and be > 0:
        cost_line += (f" This fleet breaks even with the API at {volume(be)} tokens/month"
                      f" (if it still met its SLOs there: <code>llmcap breakeven</code> finds the fleet"
                      f" each volume needs).")
    lines = []
    if misses:
        lines += misses
    else:
        lines.append("Every class meets its p99 TTFT and TPOT targets.")
    if overloaded:
        lines.append(f"Overloaded: {unfinished:,} of {arrived:,} requests were still unfinished at the"
                     f" horizon ({unfinished / arrived:.1%}); the queue grows faster than it drains.")
    lines.append(cost_line)
    if misses or overloaded:
        headline, kind = "Verdict: this deployment does not meet its SLOs.", "bad"
    elif owned < api:
        headline, kind = "Verdict: meets every SLO, and owning is cheaper than the API.", "ok"
    else:
        headline, kind = "Verdict: meets every SLO, but the API is cheaper at this volume.", "warn"
    return verdict_box(kind, headline, lines)


def deployment_table(r) -> pd.DataFrame:
    p = r.pools
    gib = 1024.0 ** 3
    return pd.DataFrame({
        "pool": p["name"], "model": p["model"], "dtype": p["dtype"],
        "tensor parallel": p["tensor_parallel_size"], "replicas": p["replicas"],
        "GPUs": p["tensor_parallel_size"] * p["replicas"],
        "weights (GiB/GPU)": (p["weight_bytes_per_gpu"] / gib).round(1),
        "KV cache (GiB/GPU)": (p["kv_bytes_per_gpu"] / gib).round(1),
        "KV blocks": p["num_blocks"], "block size (tokens)": p["block_size"],
        "KV tokens per replica": p["num_blocks"] * p["block_size"],
        "max_model_len": p["max_model_len"],
    })


def classes_table(r):
    s = r.summary_classes.merge(r.classes[["name", "pool", "share", "slo_ttft_p99_s", "slo_tpot_p99_s"]],
                                on="name")
    t = pd.DataFrame({
        "class": s["name"], "pool": s["pool"], "share": s["share"],
        "arrived": s["arrived"], "completed": s["completed"], "rejected": s["rejected"],
        "unfinished": s["unfinished"],
        "TTFT p50": s["ttft_p50_s"].map(seconds), "TTFT p99": s["ttft_p99_s"].map(seconds),
        "TTFT p99 target": s["slo_ttft_p99_s"].map(seconds),
        "TPOT p99": s["tpot_p99_s"].map(seconds), "TPOT p99 target": s["slo_tpot_p99_s"].map(seconds),
        "SLO attainment": s["slo_attainment"].map(lambda v: f"{v:.1%}" if math.isfinite(v) else "-"),
    })
    marks = {}
    for i, (_, c) in enumerate(s.iterrows()):
        marks[(i, "TTFT p99")] = "met" if int(c["ttft_p99_met"]) else "miss"
        marks[(i, "TPOT p99")] = "met" if int(c["tpot_p99_met"]) else "miss"
    return t, marks


def plot_latency_cdfs(r, page: Page):
    """Per class, the CDF of TTFT and TPOT of completed requests with the p99 targets."""
    cls = r.classes
    done = r.requests[r.requests["status"] == "completed"]
    for metric, label, slo_col in (("ttft_s", "time to first token", "slo_ttft_p99_s"),
                                   ("tpot_s", "time per output token", "slo_tpot_p99_s")):
        fig, axes = plt.subplots(1, len(cls), figsize=(5.2 * len(cls), 3.6), squeeze=False)
        for ax, (_, c) in zip(axes[0], cls.iterrows()):
            x = done.loc[done["class"] == c["name"], metric].dropna().sort_values().to_numpy()
            if len(x):
                ax.plot(x, np.arange(1, len(x) + 1) / len(x), color="C0", label="completed requests")
                ax.set_xscale("log")
            ax.axvline(c[slo_col], color="C3", ls="--", label=f"p99 target {seconds(c[slo_col])}")
            ax.axhline(0.99, color="0.5", ls=":", label="99th percentile")
            left = int(((r.requests["class"] == c["name"]) & (r.requests["status"] != "completed")).sum())
            ax.set_title(f"{c['name']}: {label} (CDF, n={len(x):,})"
                         + (f"\n{left:,} requests not completed are not in it" if left else ""))
            ax.set_xlabel(f"{label} (s, log scale)")
            ax.set_ylabel("share of completed requests")
            ax.set_ylim(0, 1.02)
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        page.figure(fig, f"{metric[:-2]}_cdf.png",
                    f"Distribution of {label} per class; dashed red: the class's p99 target. "
                    f"The SLO is met where the curve crosses 99% left of the target.")


def plot_latency_percentiles(r, page: Page):
    """Without per-request rows (--no-requests): p50/p90/p99 per class against the targets."""
    s = r.summary_classes.merge(r.classes[["name", "slo_ttft_p99_s", "slo_tpot_p99_s"]], on="name")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, lat, slo, label in ((axes[0], "ttft", "slo_ttft_p99_s", "time to first token"),
                                (axes[1], "tpot", "slo_tpot_p99_s", "time per output token")):
        stats = ["p50", "p90", "p99"]
        width = 0.8 / len(stats)
        for i, st in enumerate(stats):
            ax.bar([k + i * width for k in range(len(s))], s[f"{lat}_{st}_s"], width, label=st)
        for k, (_, c) in enumerate(s.iterrows()):
            ax.hlines(c[slo], k - 0.1, k + 0.9, color="C3", ls="--",
                      label="p99 target" if k == 0 else None)
        ax.set_xticks([k + width for k in range(len(s))], s["name"])
        ax.set_xlabel("class")
        ax.set_yscale("log")
        ax.set_ylabel(f"{label} (s, log scale)")
        ax.set_title(f"{label}: percentiles per class")
        ax.legend(fontsize=8)
    fig.tight_layout()
    page.figure(fig, "latency_percentiles.png",
                "Latency percentiles per class (the file has no per-request table); dashed red: p99 targets.")


def plot_over_time(r, page: Page):
    ts = r.timeseries_pools
    if ts is None or ts.empty:
        page.add("<p>No time series in this file (<code>output.timeseries: false</code>).</p>")
        return
    interval = ts["time_s"].diff().dropna()
    interval_s = float(interval[interval > 0].min()) if (interval > 0).any() else 60.0
    for column, title, ylabel, name in (
            ("busy", "Utilisation over time", "busy fraction of the interval (0-1)", "utilisation_over_time.png"),
            ("waiting", "Queue over time", "requests waiting (at interval end)", "queue_over_time.png"),
            ("kv_occupancy", "KV-cache occupancy over time", "share of KV blocks in use (0-1)",
             "kv_over_time.png")):
        fig, ax = plt.subplots(figsize=(10, 3.4))
        for pool, g in ts.groupby("pool", sort=False):  # one line per pool, never interleaved
            g = g.sort_values("time_s")
            ax.plot(g["time_h"], g[column], label=f"pool {pool}", lw=1.2)
        ax.set_title(f"{title}, per pool ({interval_s:g} s samples)")
        ax.set_xlabel("simulated time (h since midnight)")
        ax.set_ylabel(ylabel)
        if column != "waiting":
            ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        page.figure(fig, name, f"{title}: one line per pool.")


def plot_cost_vs_volume(r, page: Page):
    """This deployment's cost against the API's over monthly volume, with the crossing."""
    c = r.cost.iloc[0]
    months = c["months"]
    vol = c["tokens_per_month"]
    be = c["breakeven_tokens_per_month"]
    hi = max(vol * 10, be * 3 if math.isfinite(be) else 0, 1e9)
    lo = max(min(vol / 10, be / 10 if math.isfinite(be) and be > 0 else vol / 10), 1e6)
    x = np.geomspace(lo, hi, 200)
    flat = c["flat_bill"] if "flat_bill" in c and c["flat_bill"] > 0 else 0.0
    api = (flat if flat else 0.0) + x / 1e6 * c["api_price_per_1m"] * (0 if flat else 1)
    fig, ax = plt.subplots(figsize=(10, 3.8))
    ax.plot(x / 1e9, np.full_like(x, c["self_hosted_total"]) / 1e3, color="C0",
            label=f"owned: this deployment ({money(c['self_hosted_total'])})")
    ax.plot(x / 1e9, api * months / 1e3, "k--",
            label=f"API at ${c['api_price_per_1m']:.3g} per 1M tokens")
    ax.axvline(vol / 1e9, color="0.4", ls=":", label=f"simulated volume {volume(vol)}/month")
    if math.isfinite(be) and lo <= be <= hi:
        ax.plot([be / 1e9], [c["self_hosted_total"] / 1e3], "o", color="C3", ms=9,
                label=f"break-even {volume(be)} tokens/month")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(f"Cost over {months:.0f} months against monthly token volume")
    ax.set_xlabel("tokens per month (billions, log scale)")
    ax.set_ylabel(f"total cost over {months:.0f} months (k$)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    page.figure(fig, "cost_vs_volume.png",
                "This deployment's cost is fixed whatever it serves; the API's grows with volume. The fleet "
                "is only valid up to the volume where it still meets its SLOs (simulated: the dotted line).")


def report_run(r, page: Page):
    a = r.attrs
    page.add(f"<h1>llmcap run: {html.escape(str(a['scenario_name']))}</h1>")
    page.add(f"<p class='meta'>seed {a['seed']}, {r.horizon_s / 3600:g} h simulated, llmcap "
             f"{html.escape(str(a['llmcap_version']))}, model {html.escape(str(a.get('performance_model', '')))}"
             f", digest <code>{html.escape(str(a['digest']))}</code>; file {html.escape(r.path.name)}</p>")
    page.add(run_verdict(r))
    page.add("<h2 id='deployment'>Deployment and KV cache</h2>")
    hw = hardware_line(r.scenario_yaml)
    if hw:
        page.add(f"<p>Hardware: {html.escape(hw)}.</p>")
    page.table(deployment_table(r))
    page.add("<h2 id='classes'>Classes and their SLOs</h2>")
    t, marks = classes_table(r)
    page.table(t, marks)
    page.add("<h2 id='latency'>Latency</h2>")
    if r.requests is not None and not r.requests.empty:
        plot_latency_cdfs(r, page)
    else:
        plot_latency_percentiles(r, page)
    page.add("<h2 id='over-time'>Utilisation, queue and KV cache over time</h2>")
    plot_over_time(r, page)
    u = r.utilisation[r.utilisation["replica"] == -1]
    cols = [c for c in ("pool", "busy", "mfu", "hbm_fraction", "kv_mean", "kv_peak", "batch_mean",
                        "preemptions", "energy_kwh") if c in u.columns]
    page.add("<h3>Per pool, over the whole run</h3>")
    page.table(u[cols])
    page.add("<h2 id='cost'>Cost against volume</h2>")
    plot_cost_vs_volume(r, page)


# ---------------------------------------------------------------- a sweep

def _x_axis(s):
    """The first varied key with a numeric column (KEY_si), else the first key as categories."""
    for k in s.keys:
        col = f"{k}_si"
        if col in s.points.columns and s.points[col].notna().all() and s.points[col].nunique() > 1:
            return k, col
    return (s.keys[0], None) if s.keys else (None, None)


def _unit_of(key: str, values):
    """The axis unit and the factor from the SI column (KEY_si) to it: a rate keeps the unit it
    was typed in (/day: requests per day), a duration is in seconds."""
    v = str(values.iloc[0]) if len(values) else ""
    per = {"/day": 86400.0, "/d": 86400.0, "/hour": 3600.0, "/h": 3600.0, "/min": 60.0, "/s": 1.0}
    for suffix, factor in per.items():
        if v.endswith(suffix):
            return f"per {suffix[1:]}", factor
    if re.fullmatch(r"[0-9.eE+-]+(ms|us|ns|s|min|h|d|w)", v):
        return "s", 1.0
    return "", 1.0


def report_sweep(s, page: Page):
    a = s.attrs
    yaml_text = s.scenario_yaml
    classes = lr.class_slos(yaml_text)
    pools = lr._pool_names(yaml_text)
    p = s.points
    page.add(f"<h1>llmcap sweep: {len(p)} points x {a.get('seeds', '?')} seeds</h1>")
    page.add(f"<p class='meta'>llmcap {html.escape(str(a.get('llmcap_version', '')))}; varied: "
             + ", ".join(f"<code>{html.escape(k)}</code> = {html.escape(str(a.get('vary:' + k, '')))}"
                         for k in s.keys)
             + f"; file {html.escape(s.path.name)}</p>")
    valid = p[p["valid"] == 1]
    met = valid[valid.get("all_slo_met_mean", pd.Series(np.nan, index=valid.index)) == 1]
    lines = [f"{len(met)} of {len(p)} points meet every class's p99 targets in the busiest hour"
             f" in every seed (all_slo_met = 1)."]
    if len(p) - len(valid):
        lines.append(f"{len(p) - len(valid)} points were not run (invalid scenario: see the table).")
    if len(met):
        best = met.sort_values("self_hosted_total_mean").iloc[0]
        label = ", ".join(f"{k} = {best[k]}" for k in s.keys)
        owned, api = best["self_hosted_total_mean"], best["api_total_mean"]
        lines.append(f"Cheapest point that meets them: {html.escape(label)}, owned {money(owned)}"
                     f" against the API's {money(api)} at the same volume: "
                     + ("owning is cheaper." if owned < api else "the API is cheaper."))
        kind, headline = ("ok", f"Verdict: {len(met)} of {len(p)} points meet their SLOs.") if owned < api else \
            ("warn", f"Verdict: {len(met)} of {len(p)} points meet their SLOs, but the API is cheaper.")
    else:
        kind, headline = "bad", "Verdict: no point of this sweep meets every SLO."
    page.add(verdict_box(kind, headline, lines))
    key, xcol = _x_axis(s)
    others = [k for k in s.keys if k != key]
    if key is not None:
        unit, xscale = _unit_of(key, p[key]) if xcol else ("", 1.0)
        xs = p[xcol] * xscale if xcol else p[key]
        xlabel = f"{key} ({unit})" if unit else key
        group = p.groupby(others[0] if len(others) == 1 else others, sort=False) if others else [("", p)]

        def draw(ax, metric, scale=1.0, default_label=None):
            # one line per combination of the other keys; lines that coincide (a pool the
            # varied key does not touch) stay visible: each later line is thinner, with a
            # different and smaller marker, drawn on top
            for i, (name, g) in enumerate(group):
                g = g[g["valid"] == 1]
                gx = (g[xcol] * xscale) if xcol else g[key]
                lab = ", ".join(f"{k}={v}" for k, v in zip(others, name if isinstance(name, tuple) else (name,))) \
                    if others else None
                # categories (names) get markers only: a line between them would suggest values
                # in between
                ax.errorbar(gx, g[f"{metric}_mean"] * scale, yerr=g[f"{metric}_ci95"].fillna(0) * scale,
                            marker="osD^v<>"[i % 7], ms=max(8 - 2 * i, 3), lw=max(2.4 - 0.6 * i, 0.8),
                            ls="-" if xcol else "none", capsize=3, label=lab or default_label, zorder=2 + i)
            if xcol:
                ax.set_xscale("log" if xs.min() > 0 and xs.max() / xs.min() >= 5 else "linear")
            ax.set_xlabel(xlabel)
            ax.grid(alpha=0.3, which="both")

        page.add("<h2 id='latency'>p99 latency per class</h2>")
        for lat, slo_key, label in (("ttft", "slo_ttft_p99", "time to first token"),
                                    ("tpot", "slo_tpot_p99", "time per output token")):
            names = [c for c in classes if f"{c}_{lat}_p99_s_mean" in p.columns] or \
                [m[:-len(f"_{lat}_p99_s_mean")] for m in p.columns if m.endswith(f"_{lat}_p99_s_mean")
                 and not m.startswith("peak")]
            if not names:
                continue
            fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 3.6), squeeze=False)
            for ax, c in zip(axes[0], names):
                draw(ax, f"{c}_{lat}_p99_s")
                slo = classes.get(c, {}).get(slo_key)
                if slo:
                    ax.axhline(slo, color="C3", ls="--", label=f"target {seconds(slo)}")
                ax.set_yscale("log")
                ax.set_title(f"{c}: p99 {label}")
                ax.set_ylabel(f"p99 {label} (s, log scale)")
                ax.legend(fontsize=8)
            fig.tight_layout()
            page.figure(fig, f"sweep_{lat}_p99.png",
                        f"p99 {label} per class, mean over seeds with 95% intervals; dashed red: the target.")
        page.add("<h2 id='utilisation'>Utilisation per pool</h2>")
        pool_names = [q for q in pools if f"{q}_busy_mean" in p.columns]
        if pool_names:
            fig, axes = plt.subplots(1, len(pool_names), figsize=(5.2 * len(pool_names), 3.4), squeeze=False)
            for ax, q in zip(axes[0], pool_names):
                draw(ax, f"{q}_busy")
                ax.set_ylim(0, 1.02)
                ax.set_title(f"pool {q}: busy fraction")
                ax.set_ylabel("busy fraction (0-1)")
                if others:
                    ax.legend(fontsize=8)
            fig.tight_layout()
            page.figure(fig, "sweep_busy.png", "Busy fraction per pool, mean over seeds with 95% intervals.")
        page.add("<h2 id='cost'>Cost</h2>")
        if "self_hosted_total_mean" in p.columns:
            fig, ax = plt.subplots(figsize=(10, 3.6))
            draw(ax, "self_hosted_total", 1e-3, default_label="owned: the point's fleet")
            for c in ax.containers:
                if not str(c.get_label()).startswith(("_", "owned")):
                    c.set_label(f"owned: {c.get_label()}")
            vp = p[p["valid"] == 1].sort_values(xcol or key)
            ax.plot(vp[xcol] * xscale if xcol else vp[key], vp["api_total_mean"] / 1e3, "k--",
                    label="API at the simulated volume")
            ax.set_title("Owned fleet against the API over the cost horizon")
            ax.set_ylabel("total cost over the horizon (k$)")
            ax.legend(fontsize=8)
            fig.tight_layout()
            page.figure(fig, "sweep_cost.png", "Owned cost (this sweep's fleets) and the API at the simulated volume.")
    page.add("<h2 id='points'>Points</h2>")
    cols = ["point", *s.keys]
    for m in ("all_slo_met_mean", "tokens_per_month_mean", "self_hosted_total_mean", "api_total_mean"):
        if m in p.columns:
            cols.append(m)
    for c in classes:
        if f"{c}_ttft_p99_s_mean" in p.columns:
            cols.append(f"{c}_ttft_p99_s_mean")
    cols += ["valid", "error"]
    t = p[[c for c in cols if c in p.columns]].copy()
    for c in t.columns:
        if c.endswith("_total_mean"):
            t[c] = t[c].map(money)
        elif c == "tokens_per_month_mean":
            t[c] = t[c].map(volume)
        elif c.endswith("_s_mean"):
            t[c] = t[c].map(seconds)
    page.table(t)


# ---------------------------------------------------------------- a break-even file

def crossings(df):
    """Per precision, the volumes where the owned fleet's cost crosses the API's: each pair of
    adjacent feasible volumes whose sign of (owned - API) differs, interpolated in log space."""
    out = []
    for dtype, g in df[df["feasible"] == 1].groupby("dtype", sort=False):
        g = g.sort_values("tokens_per_month")
        d = (g["self_hosted_total"] - g["api_total"]).to_numpy()
        v = g["tokens_per_month"].to_numpy()
        for i in range(1, len(d)):
            if np.sign(d[i]) != np.sign(d[i - 1]) and d[i - 1] != 0:
                t = d[i - 1] / (d[i - 1] - d[i])
                x = math.exp(math.log(v[i - 1]) + t * (math.log(v[i]) - math.log(v[i - 1])))
                owned = g["self_hosted_total"].to_numpy()
                out.append({"dtype": dtype, "tokens_per_month": x,
                            "owned_cheaper_above": bool(d[i] < 0), "cost": owned[i - 1]})
    return pd.DataFrame(out, columns=["dtype", "tokens_per_month", "owned_cheaper_above", "cost"])


def report_breakeven(path: Path, page: Page):
    import plot_breakeven as pb
    df = pb.load(path)
    attrs = read_attrs(path)
    years = attrs.get("horizon_years", float("nan"))
    page.add(f"<h1>llmcap breakeven: {html.escape(str(attrs.get('scenario_name', '')))}</h1>")
    page.add(f"<p class='meta'>llmcap {html.escape(str(attrs.get('llmcap_version', '')))}; costs over "
             f"{years:g} years; file {html.escape(path.name)}</p>")
    cross = crossings(df)
    feas = df[df["feasible"] == 1]
    lines = []
    any_cheaper = False
    for dtype, g in feas.groupby("dtype", sort=False):
        cheaper = g[g["self_hosted_total"] < g["api_total"]].sort_values("tokens_per_month")
        if len(cheaper):
            any_cheaper = True
            lines.append(f"<b>{html.escape(dtype)}</b>: owning is cheaper from {volume(cheaper['tokens_per_month'].iloc[0])}"
                         f" tokens/month ({int(cheaper['servers'].iloc[0])} server(s), "
                         f"{money(cheaper['self_hosted_total'].iloc[0])} against "
                         f"{money(cheaper['api_total'].iloc[0])}).")
        else:
            lines.append(f"<b>{html.escape(dtype)}</b>: owning never beats the API up to "
                         f"{volume(g['tokens_per_month'].max())} tokens/month.")
    infeasible = df[df["feasible"] != 1]
    if len(infeasible):
        lines.append(f"{len(infeasible)} (volume, precision) pairs have no SLO-meeting fleet within the search.")
    headline = ("Verdict: owning beats the API at some volumes." if any_cheaper
                else "Verdict: the API is cheaper at every volume simulated.")
    page.add(verdict_box("ok" if any_cheaper else "warn", headline, lines))
    fig, ax = plt.subplots(figsize=(10, 4.2))
    markers = "osD^v<>"
    for i, (dtype, g) in enumerate(feas.groupby("dtype", sort=False)):
        g = g.sort_values("tokens_per_month")
        # precisions whose fleets coincide are told apart by marker and a small offset in
        # marker size, so no line hides another
        ax.step(g["tokens_per_month"] / 1e9, g["self_hosted_total"] / 1e3, where="pre",
                marker=markers[i % len(markers)], ms=max(9 - 2 * i, 3), lw=max(2.2 - 0.5 * i, 0.8),
                label=f"owned, largest model in {dtype}")
    api = df.sort_values("tokens_per_month").drop_duplicates("tokens_per_month")
    ax.plot(api["tokens_per_month"] / 1e9, api["api_total"] / 1e3, "k--", label="API")
    for _, c in cross.iterrows():
        ax.plot([c["tokens_per_month"] / 1e9], [c["cost"] / 1e3], "x", color="C3", ms=12, mew=2)
    if len(cross):
        ax.plot([], [], "x", color="C3", ms=10, mew=2, label="owned and API cross")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(f"Smallest SLO-meeting owned fleet against the API, over {years:g} years")
    ax.set_xlabel("tokens per month (billions, log scale)")
    ax.set_ylabel(f"total cost over {years:g} years (k$, log scale)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    page.add("<h2 id='cost'>Cost per option against volume</h2>")
    page.figure(fig, "breakeven_cost.png",
                "Each precision's fleet is the fewest servers that meet every SLO at that volume (between two "
                "simulated volumes the step shows the larger volume's fleet, the one known to suffice); "
                + ("red x: where an owned fleet and the API cross." if len(cross) else
                   "no owned fleet crosses the API in this range."))
    page.add("<h2 id='table'>Fleets</h2>")
    t = df[[c for c in ("tokens_per_month", "dtype", "feasible", "slo_met", "servers", "gpus",
                        "self_hosted_total", "api_total") if c in df.columns]].copy()
    t["tokens_per_month"] = t["tokens_per_month"].map(volume)
    t["self_hosted_total"] = t["self_hosted_total"].map(money)
    t["api_total"] = t["api_total"].map(money)
    page.table(t)


def read_attrs(path) -> dict:
    import h5py
    with h5py.File(path, "r") as f:
        return {k: lr._attr(v) for k, v in f.attrs.items()}


def file_kind(path) -> str:
    import h5py
    with h5py.File(path, "r") as f:
        if "breakeven" in f:
            return "breakeven"
        kind = lr._attr(f.attrs.get("kind", "run"))
        return kind if kind in ("sweep",) else "run"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("result", help="llmcap HDF5 file: a run, a sweep or a breakeven table")
    ap.add_argument("outdir", help="folder for index.html and the PNG files")
    a = ap.parse_args(argv)
    out = Path(a.outdir)
    try:
        kind = file_kind(a.result)
        if kind == "sweep":
            data = lr.load_sweep(a.result)
        elif kind == "run":
            data = lr.load(a.result)
        else:
            data = Path(a.result)
    except (OSError, ValueError, KeyError) as e:
        print(f"report.py: {a.result}: {e}", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    page = Page(out, f"llmcap {kind}: {Path(a.result).name}")
    if kind == "sweep":
        report_sweep(data, page)
    elif kind == "run":
        report_run(data, page)
    else:
        report_breakeven(data, page)
    page.add("<p class='meta'>Written by analysis/report.py from the HDF5 file alone "
             "(layout: docs/hdf5-layout.md).</p>")
    path = page.write()
    print(f"report.py: wrote {path} ({kind}, {len(page.figures)} figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
