#!/usr/bin/env python3
"""Derives llmcap's built-in diurnal profiles from the shared trace aggregates.

usage: derive.py SHARED_TRACES_DIR OUT_DIR

Writes one CSV per profile: comment lines (#) with the provenance, a header `hour,rate`, then
one row per hour (24 rows: hour of day; 168 rows: hour of week starting Monday 00:00). Rates
are normalised to mean 1 over the period, so a profile multiplies the scenario's mean rate.
The output is deterministic: rerunning the script on the same inputs gives the same bytes.
"""
import csv
import os
import sys


def write(out_dir, name, rates, lines):
    mean = sum(rates) / len(rates)
    norm = [r / mean for r in rates]
    path = os.path.join(out_dir, name + ".csv")
    with open(path, "w", newline="\n") as f:
        for line in lines:
            f.write("# " + line + "\n")
        f.write("# peak/mean %.3f, trough/mean %.3f (hourly means)\n" % (max(norm), min(norm)))
        f.write("hour,rate\n")
        for h, r in enumerate(norm):
            f.write("%d,%.6f\n" % (h, r))


def azure(src, out_dir, kind, label):
    # Hours since 2024-05-10 00:00 UTC, a Friday: Monday is 3 days later, so hour-of-week
    # (Monday first) is (h + 4 * 24) mod 168.
    sums, counts = [0.0] * 168, [0] * 168
    with open(os.path.join(src, "diurnal_shapes", "azure2024_%s_digitized_per_minute.csv" % kind)) as f:
        for row in csv.DictReader(f):
            h = float(row["hours_since_start_utc"])
            how = (int(h) + 4 * 24) % 168
            sums[how] += float(row["approx_invocations_per_min_mid"])
            counts[how] += 1
    assert all(counts), "an hour of the week without samples"
    rates = [s / c for s, c in zip(sums, counts)]
    write(out_dir, "azure-" + kind, rates, [
        "Built-in llmcap profile azure-%s: Azure LLM inference %s service, one week of May 2024." % (kind, label),
        "Source: Azure/AzurePublicDataset (CC-BY-4.0), analysis/AzureLLMInferenceDataset2024.ipynb,",
        "per-minute invocation plot digitized (~7-minute resolution, approximate; digitized mean",
        "within 1%% of the true mean), via ../shared/traces/diurnal_shapes/azure2024_%s_digitized_per_minute.csv." % kind,
        "Derived by models/profiles/derive.py: mean of the digitized points in each hour of the week,",
        "UTC, Monday 00:00 first (the trace starts Friday 2024-05-10 00:00 UTC), normalised to mean 1.",
        "Cite: Stojkovic et al., DynamoLLM, HPCA 2025. License: CC-BY-4.0 (see LICENSE.CC-BY-4.0).",
    ])


def servegen(src, out_dir):
    series = {}
    with open(os.path.join(src, "diurnal_shapes", "servegen_aggregate_rate.csv")) as f:
        for row in csv.DictReader(f):
            series.setdefault(row["model"], []).append((int(row["window_start_s"]), float(row["total_rate_rps"])))
    names = {
        "language/m-large": "servegen-m-large",
        "language/m-mid": "servegen-m-mid",
        "language/m-small": "servegen-m-small",
        "reason/deepseek-r1": "servegen-deepseek-r1",
        "multimodal/mm-image": "servegen-mm-image",
    }
    for model, name in names.items():
        sums, counts = [0.0] * 24, [0] * 24
        days = len(series[model]) * 600 / 86400
        gaps = 0
        for start, rate in series[model]:
            if rate == 0:
                gaps += 1  # a collection gap, not a quiet window
                continue
            h = (start // 3600) % 24
            sums[h] += rate
            counts[h] += 1
        assert all(counts), model
        rates = [s / c for s, c in zip(sums, counts)]
        write(out_dir, name, rates, [
            "Built-in llmcap profile %s: ServeGen (Alibaba Bailian) aggregate request rate of %s," % (name, model),
            "%g day(s) of 600-second windows (per-client rates summed), hour of day." % days,
            "Source: alibaba/ServeGen @ f891d118 data/*/chunk-*-trace.csv (Apache-2.0, see",
            "LICENSE.servegen-Apache-2.0), via ../shared/traces/diurnal_shapes/servegen_aggregate_rate.csv.",
            "Derived by models/profiles/derive.py: mean rate of the windows in each hour of the day over all",
            "days, skipping %d zero-rate windows (collection gaps), normalised to mean 1. Hour 0 is the" % gaps,
            "data's first window; its time zone is not documented.",
        ])


def main():
    src, out_dir = sys.argv[1], sys.argv[2]
    azure(src, out_dir, "code", "code-completion")
    azure(src, out_dir, "conv", "conversation")
    servegen(src, out_dir)


if __name__ == "__main__":
    main()
