#!/bin/sh
# Wall time, CPU time and peak memory of `llmcap run` on the reference scenario, fast mode against
# --exact-steps, with and without HDF5 output, exact and streaming percentiles
# (docs/performance.md records the numbers). Checks that both modes print the same digest.
#
#   bench/speed.sh [LLMCAP] [RUNS]
#     LLMCAP  the program (default build/llmcap)
#     RUNS    which rows: quick (1 day), month (adds 30 days, the Azure conversation trace
#             replayed 100 times and a 24-replica fleet; the default), year (adds 90 and 365
#             days in fast mode with streaming percentiles and output to a file)
# Needs GNU time (/usr/bin/time). Timings are of one run each: run it on an idle machine, and
# read the CPU column (user + system) where other work shares the cores.
set -eu
LLMCAP=${1:-build/llmcap}
RUNS=${2:-month}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

printf '%-44s %8s %8s %9s  %s\n' "run" "wall s" "cpu s" "peak MB" "digest"
row() { # label, then the llmcap arguments
	label=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$TMP/time" "$LLMCAP" run "$@" >"$TMP/out" 2>"$TMP/err"
	digest=$(sed -n 's/^run digest \([0-9a-f]*\).*/\1/p' "$TMP/out")
	read -r wall user sys kb <"$TMP/time"
	cpu=$(echo "$user $sys" | awk '{printf "%.2f", $1 + $2}')
	mb=$(echo "$kb" | awk '{printf "%.0f", $1 / 1024}')
	printf '%-44s %8s %8s %9s  %s\n' "$label" "$wall" "$cpu" "$mb" "$digest"
	echo "$digest" >"$TMP/digest-$(echo "$label" | tr -c 'a-z0-9' '_')"
}
same() {
	a=$(cat "$TMP/digest-$(echo "$1" | tr -c 'a-z0-9' '_')")
	b=$(cat "$TMP/digest-$(echo "$2" | tr -c 'a-z0-9' '_')")
	if [ "$a" = "$b" ]; then echo "  same digest: $1 / $2"; else echo "  DIGESTS DIFFER: $1 / $2" && exit 1; fi
}

row "1 day, fast" --set horizon=1d
row "1 day, exact steps" --set horizon=1d --exact-steps
row "1 day, fast, -o" --set horizon=1d -o "$TMP/r.h5" --force
same "1 day, fast" "1 day, exact steps"
[ "$RUNS" = quick ] && exit 0
row "30 days, fast" --set horizon=30d
row "30 days, fast, -o" --set horizon=30d -o "$TMP/r.h5" --force
row "30 days, fast, -o, output.compression 0" --set horizon=30d -o "$TMP/r.h5" --force --set output.compression=0
row "30 days, fast, streaming percentiles" --set horizon=30d --set output.percentiles=streaming
row "30 days, fast, streaming, -o" --set horizon=30d --set output.percentiles=streaming -o "$TMP/r.h5" --force
row "30 days, exact steps" --set horizon=30d --exact-steps
same "30 days, fast" "30 days, exact steps"
HERE=$(dirname "$0")
row "Azure conv trace x100 (1.94M requests), fast" "$HERE/azure-conv-100x.yaml"
FLEET="--set workload.rate=400000/day --set pools.utility.replicas=16 --set pools.reasoning.replicas=8 --set pools.reasoning.dtype=fp8 --set pools.reasoning.tensor_parallel_size=2 --set hardware.gpus_per_server=8 --set hardware.servers=4"
# shellcheck disable=SC2086
row "24 replicas, 8x the rate, 2 days, fast" --set horizon=2d $FLEET
# shellcheck disable=SC2086
row "24 replicas, 8x the rate, 2 days, exact steps" --set horizon=2d $FLEET --exact-steps
same "24 replicas, 8x the rate, 2 days, fast" "24 replicas, 8x the rate, 2 days, exact steps"
[ "$RUNS" = month ] && exit 0
row "90 days, fast, streaming, -o" --set horizon=90d --set output.percentiles=streaming -o "$TMP/r.h5" --force
row "365 days, fast, streaming, -o" --set horizon=365d --set output.percentiles=streaming -o "$TMP/r.h5" --force
