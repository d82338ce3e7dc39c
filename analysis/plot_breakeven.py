#!/usr/bin/env python3
"""Plots an `llmcap breakeven -o FILE.h5` table: 3-year cost of the smallest SLO-meeting owned
fleet and of the API against monthly token volume, one line per precision of the largest model.

    /usr/bin/python3 analysis/plot_breakeven.py breakeven.h5 breakeven.png
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


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
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
