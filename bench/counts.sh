#!/bin/sh
# Two builds of llmcap compared by what cachegrind counts, which do not drift with the machine:
# instructions, and branches mispredicted by cachegrind's simple predictor (a model of the real
# one: read it as a direction, not a cycle count). On this project's VM, whose speed drifts by
# ±30%, timings cannot separate changes of a few per cent; these counts can. Confirm the whole
# of a series of changes with bench/compare.sh (docs/performance.md).
#
#   bench/counts.sh OLD NEW [DAYS]
#     OLD, NEW  the two programs
#     DAYS      simulated days of the reference scenario (default 3; ~15 s each under valgrind)
# Needs valgrind. Checks that both programs print the same digest.
set -eu
OLD=$1
NEW=$2
DAYS=${3:-3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

count() { # label, program: prints instructions and mispredictions; the digest goes to $TMP/$1
	valgrind --tool=cachegrind --cache-sim=no --branch-sim=yes \
		--cachegrind-out-file=/dev/null "$2" run --set horizon="${DAYS}d" \
		>"$TMP/out" 2>"$TMP/err"
	sed -n 's/^run digest \([0-9a-f]*\).*/\1/p' "$TMP/out" >"$TMP/$1"
	ir=$(sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' "$TMP/err" | tr -d ,)
	bm=$(sed -n 's/.*Mispredicts: *\([0-9,]*\).*/\1/p' "$TMP/err" | tr -d ,)
	echo "$ir $bm"
}

read -r ir_old bm_old <<EOF
$(count old "$OLD")
EOF
read -r ir_new bm_new <<EOF
$(count new "$NEW")
EOF
if ! cmp -s "$TMP/old" "$TMP/new"; then
	echo "DIGESTS DIFFER: $(cat "$TMP/old") / $(cat "$TMP/new")"
	exit 1
fi
printf '%-36s %14s %14s %8s\n' "reference, $DAYS days" old new new/old
printf '%-36s %14s %14s %8s\n' instructions "$ir_old" "$ir_new" \
	"$(awk -v a="$ir_old" -v b="$ir_new" 'BEGIN {printf "%.3f", b / a}')"
printf '%-36s %14s %14s %8s\n' "mispredicted branches (model)" "$bm_old" "$bm_new" \
	"$(awk -v a="$bm_old" -v b="$bm_new" 'BEGIN {printf "%.3f", b / a}')"
