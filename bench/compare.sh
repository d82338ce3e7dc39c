#!/bin/sh
# Two builds of llmcap on the benchmark rows, both on one CPU at the same time: in each round
# each program runs the row over and over for W seconds, the two side by side on CPU 0, and the
# round's ratio is the mean CPU time (user + system) of NEW's runs over OLD's. The kernel gives
# the two processes the CPU in turns of a few milliseconds, so both meet the same moments of a
# VM whose speed drifts by ±30% within seconds (docs/performance.md: a neighbour on the
# physical core); a build against a copy of itself measured 0.998-1.002. Prints each row's mean
# CPU times over all rounds and the median and range of the rounds' ratios.
#
#   bench/compare.sh OLD NEW [N] [ROWS] [W]
#     OLD, NEW  the two programs (e.g. a build of an earlier commit, and build/llmcap)
#     N         rounds (default 3)
#     ROWS      month (the reference month, the Azure conversation trace x100, the 24-replica
#               fleet: the default), quick (5 days of the reference scenario, 10 hours of the
#               trace), ref (the reference month alone) or azure (the trace x100 alone)
#     W         seconds of each round (default 40)
# Needs GNU time (/usr/bin/time) and taskset. Checks that both programs print the same digest
# per row.
set -eu
OLD=$1
NEW=$2
N=${3:-3}
ROWS=${4:-month}
W=${5:-40}
HERE=$(dirname "$0")
TMP=$(mktemp -d)
trap 'kill 0 2>/dev/null; rm -rf "$TMP"' INT TERM
trap 'rm -rf "$TMP"' EXIT

# program, file name, then the llmcap arguments: runs until W seconds have passed since it
# began, appending each run's CPU seconds to $TMP/NAME; the last digest goes to $TMP/NAME.digest
runs() {
	prog=$1
	name=$2
	shift 2
	end=$(($(date +%s) + W))
	: >"$TMP/$name"
	while [ "$(date +%s)" -lt "$end" ]; do
		/usr/bin/time -f '%U %S' -o "$TMP/$name.time" taskset -c 0 "$prog" run "$@" \
			>"$TMP/$name.out" 2>/dev/null
		awk '{printf "%.3f\n", $1 + $2}' "$TMP/$name.time" >>"$TMP/$name"
	done
	sed -n 's/^run digest \([0-9a-f]*\).*/\1/p' "$TMP/$name.out" >"$TMP/$name.digest"
}

row() { # label, then the llmcap arguments
	label=$1
	shift
	: >"$TMP/rounds"
	i=0
	while [ "$i" -lt "$N" ]; do
		runs "$OLD" old "$@" &
		pa=$!
		runs "$NEW" new "$@" &
		pb=$!
		wait "$pa" "$pb"
		[ "$(cat "$TMP/old.digest")" = "$(cat "$TMP/new.digest")" ] ||
			echo "  note: digests differ ($(cat "$TMP/old.digest"), $(cat "$TMP/new.digest"))"
		a=$(awk '{ s += $1 } END { printf "%.4f %d", s / NR, NR }' "$TMP/old")
		b=$(awk '{ s += $1 } END { printf "%.4f %d", s / NR, NR }' "$TMP/new")
		echo "$a $b" >>"$TMP/rounds"
		i=$((i + 1))
	done
	awk -v label="$label" '
		{ a += $1 * $2; na += $2; b += $3 * $4; nb += $4; r[NR] = $3 / $1 }
		END {
			for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
			med = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
			printf "%-40s %6.3f (%3d) %6.3f (%3d) %8.3f  (%.3f-%.3f)\n", label, a / na, na, b / nb, nb, med, r[1], r[NR]
		}' "$TMP/rounds"
}

printf '%-40s %12s %12s %8s\n' "run ($N rounds of ${W} s, mean CPU s (runs))" "old" "new" "new/old"
if [ "$ROWS" = quick ]; then
	row "reference, 5 days" --set horizon=5d
	row "Azure conv trace, 10 h" "$HERE/azure-conv-100x.yaml" --set horizon=10h
	exit 0
fi
case $ROWS in
ref)
	row "reference, 30 days" --set horizon=30d
	exit 0
	;;
azure)
	row "Azure conv trace x100 (1.94M requests)" "$HERE/azure-conv-100x.yaml"
	exit 0
	;;
esac
row "reference, 30 days" --set horizon=30d
row "Azure conv trace x100 (1.94M requests)" "$HERE/azure-conv-100x.yaml"
# shellcheck disable=SC2086
row "24 replicas, 8x the rate, 2 days" --set horizon=2d --set workload.rate=400000/day \
	--set pools.utility.replicas=16 --set pools.reasoning.replicas=8 \
	--set pools.reasoning.dtype=fp8 --set pools.reasoning.tensor_parallel_size=2 \
	--set hardware.gpus_per_server=8 --set hardware.servers=4
