#!/bin/sh
# Fault injection on the output files (docs/hdf5-layout.md, "Crash consistency"):
#  1. write failures: a file-size limit (EFBIG, any user) and a full tmpfs (ENOSPC, root only)
#     make run, sweep and workload fail with the system's reason, no crash, nothing left;
#  2. SIGKILL at random points of `run -o`: the target is absent or complete and equal to an
#     uninterrupted run's; the next job in the folder removes the dead runs' temporaries;
#  3. SIGKILL at random points of `sweep`, then --resume: the file equals an uninterrupted
#     sweep's (h5dump of /runs, /points and /timeseries);
#  4. two writers to one path: the second fails at once with a clear error, the first's file is
#     complete (run, and sweep with --force); a device node as -o is refused, even with --force;
#  5. workload --out: an existing file kept without --force, the umask honoured, Ctrl-C leaves
#     no temporary.
# usage: faults.sh PATH/TO/llmcap SOURCE_DIR [KILL_SEEDS]
# Exit 77 (skipped) only when neither kind of write failure can be made here.
set -u
LLMCAP=$1
SRC=$2
SEEDS=${3:-8}
MD1="$SRC/tests/data/md1.yaml"
T=$(mktemp -d)
MNT=
cleanup() {
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail=0
no() { echo "FAIL: $*"; fail=1; }
ok() { echo "ok: $*"; }
# what a job leaves beside its target while it runs (hidden files: temporaries, locks; any
# name with tmp)
leftovers() { ls -A "$1" | grep -E '^\.|tmp' ; }
# a pseudo-random delay in [0, MAX) seconds for seed S (awk: no $RANDOM in sh)
delay() { awk -v s="$1" -v m="$2" 'BEGIN { srand(s); printf "%.3f", rand() * m }'; }
attr() { h5dump -a "/$2" "$1" 2>/dev/null | sed -n 's/.*(0): *//p' | tr -d '"'; }

# ---- 1. write failures ----
# EFBIG: ulimit -f (llmcap ignores SIGXFSZ itself, whose default action would kill it before
# any message and leave its temporaries)
efbig() { (ulimit -f "$1"; shift; exec "$@"); }
mkdir "$T/w"
made_failure=0
check_failed() { # NAME RC LOG WANT TARGET
	if [ "$2" -ne 1 ]; then
		no "$1 exited $2 (want 1)"; cat "$3"
	elif ! grep -qF "$4" "$3"; then
		no "$1: the message does not say '$4'"; cat "$3"
	elif [ -e "$5" ] || [ -n "$(leftovers "$(dirname "$5")")" ]; then
		no "$1 left a file: $(ls -A "$(dirname "$5")")"
	else
		ok "$1: exit 1, '$4', nothing left"
	fi
}
efbig 40 "$LLMCAP" run --set horizon=1h -o "$T/w/r.h5" -q >"$T/log" 2>&1
check_failed "run -o over a file-size limit" $? "$T/log" "File too large" "$T/w/r.h5"
efbig 40 "$LLMCAP" run --set horizon=1h --set output.requests=false -o "$T/w/r.h5" -q >"$T/log" 2>&1
check_failed "run -o (no per-request table) over a file-size limit" $? "$T/log" "File too large" "$T/w/r.h5"
efbig 20 "$LLMCAP" sweep "$MD1" --vary workload.rate=30:40:10/s --seeds 2 --set horizon=20min \
	--timeseries -o "$T/w/s.h5" -q >"$T/log" 2>&1
rc=$?
rm -f "$T/w/s.h5.partial" # kept on purpose for --resume
check_failed "sweep over a file-size limit" $rc "$T/log" "File too large" "$T/w/s.h5"
efbig 4 "$LLMCAP" workload --set horizon=1d --out "$T/w/a.csv" >"$T/log" 2>&1
check_failed "workload --out over a file-size limit" $? "$T/log" "File too large" "$T/w/a.csv"
made_failure=1
# ENOSPC: a small tmpfs, where mounting is allowed (root: CI)
if [ "$(id -u)" = 0 ] && mkdir "$T/full" && mount -t tmpfs -o size=96k tmpfs "$T/full" 2>/dev/null; then
	MNT="$T/full"
	"$LLMCAP" run --set horizon=1d -o "$MNT/r.h5" -q >"$T/log" 2>&1
	check_failed "run -o on a full disk" $? "$T/log" "No space left on device" "$MNT/r.h5"
	"$LLMCAP" sweep "$MD1" --vary workload.rate=30:40:10/s --seeds 6 --set horizon=30min \
		--timeseries -o "$MNT/s.h5" -q >"$T/log" 2>&1
	rc=$?
	rm -f "$MNT/s.h5.partial"
	check_failed "sweep on a full disk" $rc "$T/log" "No space left on device" "$MNT/s.h5"
	umount "$MNT" && MNT=
else
	echo "skip: no tmpfs can be mounted here (not root): ENOSPC not tried, EFBIG was"
fi
[ $made_failure = 1 ] || { echo "SKIP: no write failure can be made here"; exit 77; }

# ---- 2. SIGKILL during run -o ----
mkdir "$T/k"
RUN="run --set horizon=12h -q"
"$LLMCAP" $RUN -o "$T/ref.h5" || { no "the reference run"; exit 1; }
want=$(attr "$T/ref.h5" digest)
absent=0 whole=0
i=1
while [ $i -le "$SEEDS" ]; do
	rm -f "$T/k/r.h5"
	"$LLMCAP" $RUN -o "$T/k/r.h5" &
	pid=$!
	sleep "$(delay $i 0.6)"
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	if [ ! -e "$T/k/r.h5" ]; then
		absent=$((absent + 1))
	elif [ "$(attr "$T/k/r.h5" complete)" = 1 ] && [ "$(attr "$T/k/r.h5" digest)" = "$want" ] \
		&& h5dump -H "$T/k/r.h5" >/dev/null 2>&1; then
		whole=$((whole + 1))
	else
		no "run -o killed (seed $i) left a partial or different r.h5"
	fi
	i=$((i + 1))
done
ok "run -o killed at $SEEDS random points: $absent times no file, $whole times the whole file"
"$LLMCAP" run --set horizon=10min -q -o "$T/k/other.h5"
if [ -n "$(leftovers "$T/k")" ]; then
	no "the next run in the folder left the killed runs' temporaries: $(leftovers "$T/k" | tr '\n' ' ')"
else
	ok "the next run in the folder removed the killed runs' temporaries and locks"
fi

# ---- 3. SIGKILL during sweep, then --resume ----
SW="$MD1 --vary workload.rate=30:40:10/s --seeds 4 --set horizon=20min --timeseries --jobs 2 -q"
table() { h5dump -d /runs -d /points -g /timeseries "$1" | tail -n +2; }
"$LLMCAP" sweep $SW -o "$T/sref.h5" || { no "the reference sweep"; exit 1; }
table "$T/sref.h5" >"$T/sref.txt"
mkdir "$T/s"
i=1
resumed=0
while [ $i -le "$SEEDS" ]; do
	rm -f "$T/s/s.h5" "$T/s/s.h5.partial"
	"$LLMCAP" sweep $SW -o "$T/s/s.h5" 2>/dev/null &
	pid=$!
	sleep "$(delay $((i + 100)) 0.6)"
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	if [ ! -e "$T/s/s.h5" ]; then
		"$LLMCAP" sweep $SW --resume -o "$T/s/s.h5" >"$T/log" 2>&1 || { no "resume (seed $i) failed"; cat "$T/log"; }
		resumed=$((resumed + 1))
	fi
	table "$T/s/s.h5" >"$T/s.txt" 2>/dev/null
	if ! cmp -s "$T/sref.txt" "$T/s.txt"; then
		no "sweep killed (seed $i) and resumed differs from the uninterrupted sweep"
	elif [ -e "$T/s/s.h5.partial" ]; then
		# killed between the file's commit and the journal's removal (the two cannot be one
		# atomic step; docs/hdf5-layout.md): the file is complete and equal, and a later sweep to
		# that path is refused as "exists" without --force, so the journal is inert
		left_journal=$((${left_journal:-0} + 1))
	fi
	i=$((i + 1))
done
ok "sweep killed at $SEEDS random points ($resumed resumed, ${left_journal:-0} killed between the file's commit and the journal's removal): every file equals the uninterrupted one"

# ---- 4. two writers to one path ----
mkdir "$T/two"
"$LLMCAP" run --set horizon=2d -q -o "$T/two/r.h5" &
pid=$!
i=0
while [ ! -e "$T/two/.r.h5.llmcap-lock" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
"$LLMCAP" run --set horizon=1h -q --force -o "$T/two/r.h5" >"$T/log" 2>&1
rc2=$?
wait $pid
rc1=$?
if [ $rc2 -eq 0 ] || ! grep -qF "another llmcap job is writing this file" "$T/log"; then
	no "a second run -o --force to a path being written: exit $rc2"; cat "$T/log"
elif [ $rc1 -ne 0 ] || [ "$(attr "$T/two/r.h5" complete)" != 1 ] || [ "$(attr "$T/two/r.h5" horizon_s)" != 172800 ]; then
	no "the first writer's file is not whole (exit $rc1)"
else
	ok "two run -o to one path: the second refused ('another llmcap job'), the first's file whole"
fi
SWL="$MD1 --vary workload.rate=30:40:10/s --seeds 12 --set horizon=20min --timeseries --jobs 1 -q"
"$LLMCAP" sweep $SWL -o "$T/two/s.h5" &
pid=$!
i=0
while [ ! -s "$T/two/s.h5.partial" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
"$LLMCAP" sweep $SW --force -o "$T/two/s.h5" >"$T/log" 2>&1
rc2=$?
wait $pid
rc1=$?
"$LLMCAP" sweep $SWL -o "$T/two/sref.h5"
table "$T/two/sref.h5" >"$T/two/sref.txt"
table "$T/two/s.h5" >"$T/two/s.txt" 2>/dev/null
if [ $rc2 -eq 0 ] || ! grep -qF "another llmcap sweep to the same output is running" "$T/log"; then
	no "a second sweep --force to the same output: exit $rc2"; cat "$T/log"
elif [ $rc1 -ne 0 ] || ! [ -s "$T/two/sref.txt" ] || ! cmp -s "$T/two/sref.txt" "$T/two/s.txt"; then
	no "the first sweep's file differs from its undisturbed twin (exit $rc1)"
else
	ok "two sweeps to one output: the second refused, the first's file equals an undisturbed one"
fi

# a device node is never replaced, even with --force, and refused before any work
for cmd in "run --set horizon=1h" "sweep $MD1 --vary workload.rate=30:40:10/s --set horizon=20min"; do
	$LLMCAP $cmd -q --force -o /dev/null >"$T/log" 2>&1
	rc=$?
	if [ $rc -eq 0 ] || [ ! -c /dev/null ] || ! grep -qF "/dev/null: not a regular file (a device)" "$T/log"; then
		no "${cmd%% *} -o /dev/null --force: exit $rc"; cat "$T/log"
	else
		ok "${cmd%% *} -o /dev/null --force refused (exit $rc), the device kept"
	fi
done

# ---- 5. workload --out ----
mkdir "$T/wl"
echo precious >"$T/wl/a.csv"
"$LLMCAP" workload --set horizon=1h --out "$T/wl/a.csv" >"$T/log" 2>&1
rc=$?
if [ $rc -eq 0 ] || [ "$(cat "$T/wl/a.csv")" != precious ] || ! grep -qF "exists; not overwritten" "$T/log"; then
	no "workload --out an existing file: exit $rc, $(head -c 40 "$T/wl/a.csv")"
else
	ok "workload --out keeps an existing file without --force"
fi
(umask 022 && "$LLMCAP" workload --set horizon=1h --out "$T/wl/a.csv" --force >/dev/null 2>&1)
mode=$(stat -c %a "$T/wl/a.csv")
head -n 1 "$T/wl/a.csv" | grep -q '^arrival_s,' && [ "$mode" = 644 ] \
	&& ok "workload --out --force replaces it, mode 644 under umask 022" \
	|| no "workload --out --force: mode $mode, first line $(head -n 1 "$T/wl/a.csv")"
# Ctrl-C: a background job ignores SIGINT in sh; env restores its default action where it can
if env --default-signal=INT true 2>/dev/null; then INT="env --default-signal=INT"; else INT=; fi
for sig in INT TERM; do
	[ $sig = INT ] && [ -z "$INT" ] && { echo "skip: SIGINT (no env --default-signal)"; continue; }
	$INT "$LLMCAP" workload --set horizon=300d --out "$T/wl/big.csv" >/dev/null 2>&1 &
	pid=$!
	i=0
	while [ -z "$(ls -A "$T/wl" | grep llmcap-tmp)" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
	sleep 0.2
	kill -$sig $pid
	wait $pid
	rc=$?
	if [ -e "$T/wl/big.csv" ] || [ -n "$(leftovers "$T/wl")" ] || [ $rc -lt 128 ]; then
		no "workload --out stopped by SIG$sig (exit $rc) left: $(ls -A "$T/wl" | tr '\n' ' ')"
	else
		ok "workload --out stopped by SIG$sig (exit $rc): no file, no temporary"
	fi
done
exit $fail
