#!/bin/sh
# The fast mode against --exact-steps on the reference month, as issue 10 states its target
# ("at least 20x"): rounds of fast, exact, fast, ... with each exact run's CPU time divided by
# the mean of the fast runs on either side of it, so that both see the same moment of a VM whose
# speed drifts (docs/performance.md). Prints each round and the median and range of the ratios,
# and checks that both modes print the same digest.
#
#   bench/ratio.sh [LLMCAP] [N] [HORIZON]
#     LLMCAP   the program (default build/llmcap)
#     N        exact runs (default 5; each ~30 s for the month on this project's VM)
#     HORIZON  simulated time (default 30d)
# Needs GNU time (/usr/bin/time).
set -eu
LLMCAP=${1:-build/llmcap}
N=${2:-5}
HORIZON=${3:-30d}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

cpu() { # llmcap arguments: prints the CPU seconds; the digest goes to $TMP/digest
	/usr/bin/time -f '%U %S' -o "$TMP/time" "$LLMCAP" run --set horizon="$HORIZON" "$@" \
		>"$TMP/out" 2>/dev/null
	sed -n 's/^run digest \([0-9a-f]*\).*/\1/p' "$TMP/out" >"$TMP/digest"
	awk '{printf "%.2f\n", $1 + $2}' "$TMP/time"
}

: >"$TMP/ratios"
before=$(cpu)
fast_digest=$(cat "$TMP/digest")
i=0
while [ "$i" -lt "$N" ]; do
	exact=$(cpu --exact-steps)
	if [ "$(cat "$TMP/digest")" != "$fast_digest" ]; then
		echo "DIGESTS DIFFER: fast $fast_digest, exact $(cat "$TMP/digest")" >&2
		exit 1
	fi
	after=$(cpu)
	ratio=$(echo "$exact $before $after" | awk '{printf "%.1f", $1 / (($2 + $3) / 2)}')
	echo "round $i: fast $before s / $after s, exact $exact s: $ratio x"
	echo "$ratio" >>"$TMP/ratios"
	before=$after
	i=$((i + 1))
done
sort -n "$TMP/ratios" | awk '{r[NR] = $1} END {
	m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
	printf "exact / fast: median %.1fx (%.1f-%.1fx over %d rounds)\n", m, r[1], r[NR], NR }'
