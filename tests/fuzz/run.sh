#!/bin/sh
# Runs one libFuzzer harness: run.sh HARNESS SECONDS WORK_CORPUS SEED_CORPUS [REGRESSIONS]
# FUZZ_MAX_LEN, when set, is the largest input to try (-max_len; tests/fuzz/meson.build sets it
# per harness).
# New inputs go to WORK_CORPUS (in the build folder); the seeds in the source tree stay as they
# are. A crash, leak, timeout or out-of-memory leaves crash-*/leak-*/timeout-*/oom-* files in
# the build folder's tests/fuzz/artifacts/ and fails the test.
set -eu
harness=$1 seconds=$2 work=$3 seeds=$4
art=$(dirname "$(dirname "$work")")/artifacts
mkdir -p "$work" "$art"
shift 4
for d in "$@"; do # saved crashes, where there are any
	[ -e "$d" ] && set -- "$@" "$d"
	shift
done
# libFuzzer's own failure status is 77, which meson reads as "skipped": ask for 1, a failure.
# Leaks inside libfyaml itself are suppressed here (lsan.supp says which and why).
here=$(dirname "$0")
LSAN_OPTIONS="suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" exec "$harness" \
	-error_exitcode=1 -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-malloc_limit_mb=1024 ${FUZZ_MAX_LEN:+-max_len="$FUZZ_MAX_LEN"} -print_final_stats=1 -artifact_prefix="$art/$(basename "$harness")-" \
	"$work" "$seeds" "$@"
