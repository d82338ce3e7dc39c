#!/bin/sh
# Times the default tipping-point study (issue 21's target: 12 volumes x 3 precisions x the
# options, 3 seeds, under 10 s on 2 cores): `llmcap decide` on the reference scenario with
# --jobs JOBS (default 2), and one decision at the reference volume (`llmcap run --decide`).
# Prints the wall and CPU seconds of each; then, where built (build/bench/decide_bracket), the
# default study with and without the closed-form bracket: simulations, CPU and wall seconds, and
# whether the decisions agree. Usage: bench/decide_time.sh build/llmcap [JOBS]
set -eu
LLMCAP=${1:?usage: bench/decide_time.sh build/llmcap [JOBS]}
JOBS=${2:-2}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
run() {
	name=$1; shift
	/usr/bin/time -f "%e %U %S" -o "$T/time" "$@" >"$T/out" 2>/dev/null
	read -r wall user sys <"$T/time"
	echo "$name: ${wall} s wall, $(echo "$user + $sys" | bc) s CPU (--jobs $JOBS, $(nproc) CPUs)"
}
run "run --decide (reference volume, 3 precisions, 3 seeds)" "$LLMCAP" run --decide --jobs "$JOBS"
run "decide (12 volumes x 3 precisions, 3 seeds)" "$LLMCAP" decide --jobs "$JOBS"
grep -A6 'where the cheapest option changes' "$T/out"
BRACKET=$(dirname "$LLMCAP")/bench/decide_bracket
if [ -x "$BRACKET" ]; then
	echo "the closed-form bracket (bench/decide_bracket.c):"
	"$BRACKET" "$JOBS"
fi
