#!/bin/sh
# Regenerates the example results that capacity_planning.ipynb reads: the reference scenario
# at four request rates, with BF16 and with FP8 weights for the 70B pool (summaries and time
# series; no per-request table, to keep the files small).
# usage: sh analysis/examples/make_examples.sh [path/to/llmcap]
set -eu
LLMCAP=${1:-build/llmcap}
here=$(dirname "$0")
for rate in 25000 50000 75000 100000; do
	"$LLMCAP" run --set workload.rate=$rate/day --no-requests --force --quiet \
		-o "$here/reference-bf16-$rate.h5"
	"$LLMCAP" run --set workload.rate=$rate/day --set pools.reasoning.dtype=fp8 --no-requests \
		--force --quiet -o "$here/reference-fp8-$rate.h5"
done
