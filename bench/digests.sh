#!/bin/sh
# The digest of every shipped scenario, of the test scenarios and of the benchmark rows, in
# both engine modes where the run is short enough: one line "NAME MODE DIGEST JSON-SHA256" each
# (the run's digest and a hash of its whole JSON report). A change
# that must not change behaviour (a refactor) prints the same lines before and after:
#
#   bench/digests.sh OLD_BUILD/llmcap > old.txt; bench/digests.sh build/llmcap > new.txt
#   diff old.txt new.txt
#
# The digest is FNV-1a over every request's outcome in the order they ended (llmcap_results).
# The JSON of a replay names its trace by absolute path: the checkout's root is replaced by
# ROOT before hashing, so two checkouts of one commit print the same lines.
set -eu
LLMCAP=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
digest() {
	name=$1
	shift
	json=$("$LLMCAP" run --json "$@" 2>/dev/null)
	d=$(printf '%s\n' "$json" | sed -n 's/.*"digest": *"\([0-9a-f]*\)".*/\1/p' | head -n 1)
	[ -n "$d" ] || { echo "$name: no digest" >&2; exit 1; }
	echo "$name $d $(printf '%s\n' "$json" | sed "s|$ROOT|ROOT|g" | sha256sum | cut -c1-16)"
}
for f in "$ROOT"/models/scenarios/*.yaml "$ROOT"/tests/data/*.yaml; do
	n=${f#"$ROOT"/}
	digest "$n fast" "$f"
	digest "$n exact" "$f" --exact-steps
done
digest "reference 30d fast" --set horizon=30d
digest "reference 3d exact" --set horizon=3d --exact-steps
digest "azure-conv x100 10h fast" "$ROOT/bench/azure-conv-100x.yaml" --set horizon=10h
digest "24 replicas 2d fast" --set horizon=2d --set workload.rate=400000/day \
	--set pools.utility.replicas=16 --set pools.reasoning.replicas=8 \
	--set pools.reasoning.dtype=fp8 --set pools.reasoning.tensor_parallel_size=2 \
	--set hardware.gpus_per_server=8 --set hardware.servers=4
