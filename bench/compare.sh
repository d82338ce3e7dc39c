#!/bin/sh
# Two builds of llmcap, run in pairs on the benchmark rows: the fastest CPU time (user + system)
# of each over N rounds, and the median of the per-round ratio NEW / OLD. On a shared VM whose
# speed drifts by ±30% over seconds to minutes, a pair run back to back sees the same machine,
# so the ratio is steadier than either time (docs/performance.md).
#
#   bench/compare.sh OLD NEW [N] [ROWS]
#     OLD, NEW  the two programs (e.g. a build of an earlier commit, and build/llmcap)
#     N         rounds (default 5); the pair's order alternates from round to round
#     ROWS      month (the reference month, the Azure conversation trace x100, the 24-replica
#               fleet: the default), or quick (5 days of the reference scenario, 10 hours of
#               the trace)
# Needs GNU time (/usr/bin/time). Checks that both programs print the same digest per row.
set -eu
OLD=$1
NEW=$2
N=${3:-5}
ROWS=${4:-month}
HERE=$(dirname "$0")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

cpu() { # program, arguments: prints the CPU seconds; the digest goes to $TMP/digest
	prog=$1
	shift
	/usr/bin/time -f '%U %S' -o "$TMP/time" "$prog" run "$@" >"$TMP/out" 2>/dev/null
	sed -n 's/^run digest \([0-9a-f]*\).*/\1/p' "$TMP/out" >"$TMP/digest"
	awk '{printf "%.2f\n", $1 + $2}' "$TMP/time"
}

row() { # label, then the llmcap arguments
	label=$1
	shift
	: >"$TMP/pairs"
	i=0
	while [ "$i" -lt "$N" ]; do
		if [ $((i % 2)) -eq 0 ]; then
			a=$(cpu "$OLD" "$@")
			da=$(cat "$TMP/digest")
			b=$(cpu "$NEW" "$@")
			db=$(cat "$TMP/digest")
		else
			b=$(cpu "$NEW" "$@")
			db=$(cat "$TMP/digest")
			a=$(cpu "$OLD" "$@")
			da=$(cat "$TMP/digest")
		fi
		[ "$da" = "$db" ] || echo "  note: digests differ ($da, $db)"
		echo "$a $b" >>"$TMP/pairs"
		i=$((i + 1))
	done
	awk -v label="$label" '
		{ a[NR] = $1; b[NR] = $2; r[NR] = ($1 > 0) ? $2 / $1 : 0 }
		END {
			ma = a[1]; mb = b[1]
			for (i = 2; i <= NR; i++) { if (a[i] < ma) ma = a[i]; if (b[i] < mb) mb = b[i] }
			for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
			med = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
			printf "%-44s %8.2f %8.2f %8.3f  (%.3f-%.3f)\n", label, ma, mb, med, r[1], r[NR]
		}' "$TMP/pairs"
}

printf '%-44s %8s %8s %8s\n' "run ($N rounds, fastest CPU s)" "old" "new" "new/old"
if [ "$ROWS" = quick ]; then
	row "reference, 5 days" --set horizon=5d
	row "Azure conv trace, 10 h" "$HERE/azure-conv-100x.yaml" --set horizon=10h
	exit 0
fi
row "reference, 30 days" --set horizon=30d
row "Azure conv trace x100 (1.94M requests)" "$HERE/azure-conv-100x.yaml"
# shellcheck disable=SC2086
row "24 replicas, 8x the rate, 2 days" --set horizon=2d --set workload.rate=400000/day \
	--set pools.utility.replicas=16 --set pools.reasoning.replicas=8 \
	--set pools.reasoning.dtype=fp8 --set pools.reasoning.tensor_parallel_size=1 \
	--set hardware.gpus_per_server=8 --set hardware.servers=4
