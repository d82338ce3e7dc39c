#!/usr/bin/env python3
"""Plots an `llmcap breakeven -o FILE.h5` table: 3-year cost of the smallest SLO-meeting owned
fleet and of the API against monthly token volume, one line per precision of the largest model.
Or an `llmcap decide -o FILE.csv` table: cost per month of every option (API, hybrid, rent on
demand, reserved, spot, own), each kind at its cheapest SLO-meeting GPU and precision, with a
95% interval over seeds, against monthly volume; the volumes where the cheapest option changes
are marked.

    /usr/bin/python3 analysis/plot_breakeven.py breakeven.h5 breakeven.png
    /usr/bin/python3 analysis/plot_breakeven.py decide.csv decide.png
"""
import sys
from pathlib import Path

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def load(path) -> pd.DataFrame:
    """The break-even table as a DataFrame (strings decoded); raises ValueError if incomplete."""
    with h5py.File(path, "r") as f:
        if int(f.attrs.get("complete", 0)) != 1 or "breakeven" not in f:
            raise ValueError(f"{path}: not a complete llmcap breakeven file")
        df = pd.DataFrame(f["breakeven"][:])
    df["dtype"] = df["dtype"].str.decode("utf-8")
    return df


def load_decide(path) -> pd.DataFrame:
    """`llmcap decide -o FILE.csv`; raises ValueError when a column is missing."""
    df = pd.read_csv(path, keep_default_na=False, na_values=["nan"])
    need = {"tokens_per_month", "option", "gpu", "dtype", "slo_met", "monthly", "monthly_ci95",
            "best"}
    if not need <= set(df.columns):
        raise ValueError(f"{path}: not an llmcap decide table (columns {sorted(need)})")
    return df


def plot_decide(df: pd.DataFrame, out: str) -> None:
    """Each option kind's cheapest SLO-meeting cost per month against volume, crossings marked."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ok = df[(df["slo_met"] == 1) & df["monthly"].notna()]
    for option, g in ok.groupby("option", sort=False):
        g = g.sort_values("monthly").drop_duplicates("tokens_per_month").sort_values(
            "tokens_per_month")
        x = g["tokens_per_month"] / 1e9
        ax.plot(x, g["monthly"], marker="o", label=option)
        half = g["monthly_ci95"].fillna(0)
        ax.fill_between(x, g["monthly"] - half, g["monthly"] + half, alpha=0.2)
    best = df[df["best"] == 1].sort_values("tokens_per_month")
    prev = None
    for _, r in best.iterrows():
        if prev is not None and r["option"] != prev["option"]:
            x = (prev["tokens_per_month"] * r["tokens_per_month"]) ** 0.5 / 1e9
            ax.axvline(x, color="grey", ls=":")
            ax.annotate(f"{prev['option']} -> {r['option']}", (x, r["monthly"]), rotation=90,
                        fontsize=7, va="bottom")
        prev = r
    ax.set_xlabel("tokens per month (billions)")
    ax.set_ylabel("cost per month (USD)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0].endswith(".csv"):
        try:
            plot_decide(load_decide(argv[0]), argv[1])
        except (OSError, ValueError, KeyError) as e:
            print(f"plot_breakeven.py: {e}", file=sys.stderr)
            return 1
        print(f"wrote {argv[1]}")
        return 0
    try:
        df = load(argv[0])
    except (OSError, ValueError, KeyError) as e:
        print(f"plot_breakeven.py: {e}", file=sys.stderr)
        return 1
    fig, ax = plt.subplots(figsize=(8, 4))
    # A fleet is known at the simulated volumes only; the step rises before each (where="pre"):
    # between two volumes the plot shows the larger fleet, the one known to suffice.
    for dtype, g in df[df["feasible"] == 1].groupby("dtype"):
        g = g.sort_values("tokens_per_month")
        ax.step(g["tokens_per_month"] / 1e9, g["self_hosted_total"] / 1e3, where="pre", marker="o",
                label=f"owned, largest model in {dtype}")
    api = df.sort_values("tokens_per_month").drop_duplicates("tokens_per_month")
    ax.plot(api["tokens_per_month"] / 1e9, api["api_total"] / 1e3, "k--", label="API")
    ax.set_title("Smallest SLO-meeting owned fleet against the API")
    ax.set_xlabel("tokens per month (billions, log scale)")
    ax.set_ylabel("cost over the horizon (k$, log scale)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    Path(argv[1]).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(argv[1], dpi=100)
    print(f"wrote {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
