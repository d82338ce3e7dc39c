#!/usr/bin/env python3
"""Writes the standard plots of an llmcap result file as PNG files and an HTML page.

    /usr/bin/python3 analysis/report.py run.h5 out-dir/
"""
import argparse
import html
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import llmcap_results as lr  # noqa: E402


def plot_timeseries(r, out: Path) -> list:
    files = []
    ts = r.timeseries_pools
    if ts is None or ts.empty:
        return files
    for column, label in [("waiting", "requests waiting"), ("kv_occupancy", "KV-cache occupancy"),
                          ("busy", "busy fraction"), ("output_tokens_per_s", "output tokens/s")]:
        fig, ax = plt.subplots(figsize=(8, 3.2))
        for pool, g in ts.groupby("pool"):
            ax.plot(g["time_h"], g[column], label=pool)
        ax.set_xlabel("simulated time (h)")
        ax.set_ylabel(label)
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        name = f"timeseries_{column}.png"
        fig.savefig(out / name, dpi=100)
        plt.close(fig)
        files.append((name, f"{label} per pool"))
    return files


def plot_latency(r, out: Path) -> list:
    files = []
    if r.requests is not None and not r.requests.empty:
        done = r.requests[r.requests["status"] == "completed"]
        fig, ax = plt.subplots(figsize=(8, 3.2))
        for cls, g in done.groupby("class"):
            x = g["ttft_s"].sort_values().to_numpy()
            ax.plot(x, (1 + pd_index(len(x))) / len(x), label=cls)
        ax.set_xscale("log")
        ax.set_xlabel("time to first token (s)")
        ax.set_ylabel("share of requests")
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "ttft_cdf.png", dpi=100)
        plt.close(fig)
        files.append(("ttft_cdf.png", "TTFT distribution per class"))
    s = r.summary_classes
    fig, ax = plt.subplots(figsize=(8, 3.2))
    stats = ["p50", "p90", "p99"]
    width = 0.8 / len(stats)
    for i, st in enumerate(stats):
        ax.bar([k + i * width for k in range(len(s))], s[f"ttft_{st}_s"], width, label=st)
    ax.set_xticks([k + width for k in range(len(s))], s["name"])
    ax.set_yscale("log")
    ax.set_ylabel("TTFT (s)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "ttft_percentiles.png", dpi=100)
    plt.close(fig)
    files.append(("ttft_percentiles.png", "TTFT percentiles per class"))
    return files


def pd_index(n):
    import numpy as np
    return np.arange(n)


def plot_utilisation(r, out: Path) -> list:
    u = r.utilisation[r.utilisation["replica"] == -1]
    fig, ax = plt.subplots(figsize=(8, 3.2))
    cols = ["busy", "mfu", "hbm_fraction", "kv_mean", "kv_peak"]
    width = 0.8 / len(cols)
    for i, c in enumerate(cols):
        ax.bar([k + i * width for k in range(len(u))], u[c], width, label=c)
    ax.set_xticks([k + 2 * width for k in range(len(u))], u["pool"])
    ax.set_ylim(0, 1)
    ax.set_ylabel("share")
    ax.legend(ncol=len(cols), fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "utilisation.png", dpi=100)
    plt.close(fig)
    return [("utilisation.png", "utilisation per pool")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("result", help="llmcap HDF5 result file")
    ap.add_argument("outdir", help="folder for the PNG files and index.html")
    a = ap.parse_args(argv)
    try:
        r = lr.load(a.result)
    except (OSError, ValueError, KeyError) as e:
        print(f"report.py: {a.result}: {e}", file=sys.stderr)
        return 1
    out = Path(a.outdir)
    out.mkdir(parents=True, exist_ok=True)
    figures = plot_latency(r, out) + plot_timeseries(r, out) + plot_utilisation(r, out)
    c = r.cost.iloc[0]
    summary = r.summary_classes[["name", "arrived", "completed", "rejected", "unfinished",
                                 "ttft_p50_s", "ttft_p99_s", "tpot_p99_s", "e2e_p99_s",
                                 "slo_attainment"]]
    page = [
        "<!doctype html><meta charset='utf-8'>",
        f"<title>llmcap: {html.escape(r.attrs['scenario_name'])}</title>",
        f"<h1>{html.escape(r.attrs['scenario_name'])}</h1>",
        f"<p>seed {r.attrs['seed']}, horizon {r.horizon_s / 3600:.1f} h, llmcap "
        f"{html.escape(str(r.attrs['llmcap_version']))}, digest {html.escape(str(r.attrs['digest']))}</p>",
        "<h2>Classes</h2>", summary.to_html(index=False, float_format=lambda v: f"{v:.4g}"),
        "<h2>Cost</h2>",
        f"<p>self-hosted ${c['self_hosted_total']:,.0f} vs API ${c['api_total']:,.0f} over "
        f"{c['months']:.0f} months; {c['tokens_per_month'] / 1e9:.2f}B tokens/month</p>",
    ]
    for name, caption in figures:
        page.append(f"<figure><img src='{name}'><figcaption>{html.escape(caption)}</figcaption></figure>")
    (out / "index.html").write_text("\n".join(page))
    print(f"wrote {len(figures)} figures and index.html to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
