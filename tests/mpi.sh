#!/bin/sh
# llmcap-mpi under mpirun (-n 2, and -n 3 and -n 4 oversubscribed) writes the same sweep table
# as the threaded program, bit for bit, with per-run time series too and with --skip-invalid;
# an MPI sweep killed mid-way resumes under mpirun to the same file.
# usage: mpi.sh PATH/TO/llmcap PATH/TO/llmcap-mpi SOURCE_DIR
# Compared: the /runs and /points datasets as h5dump prints them; the root attribute
# command_line differs (it names the program and its options) and is left out.
set -u
LLMCAP=$1
LLMCAP_MPI=$2
SRC=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# CI runs as root; OpenMPI refuses that unless told
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# one machine, no network: keep OpenMPI to shared memory and loopback
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
# Under AddressSanitizer, OpenMPI's own allocations (in plugins it unloads, so no suppression
# can name them) read as leaks: leak checking is off for the MPI ranks only; the same sweep code
# is leak-checked in the threaded program (cli test), and every other ASan check stays on.
MPI_ENV="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fail=0
table() { h5dump -d /runs -d /points "$1" | tail -n +2; }
SW="$SRC/tests/data/md1.yaml --vary workload.rate=20:40:10/s --vary pools.p.max_num_seqs=1,2 --seeds 3 --set horizon=30s"
"$LLMCAP" sweep $SW --jobs 2 -o "$T/serial.h5" -q || { echo "FAIL: serial sweep"; exit 1; }
table "$T/serial.h5" >"$T/serial.txt"
for n in 2 3 4; do
	if env "$MPI_ENV" mpirun -x ASAN_OPTIONS -n $n --oversubscribe "$LLMCAP_MPI" sweep $SW -o "$T/mpi$n.h5" >"$T/mpi$n.log" 2>&1; then
		table "$T/mpi$n.h5" >"$T/mpi$n.txt"
		if [ -s "$T/serial.txt" ] && cmp -s "$T/serial.txt" "$T/mpi$n.txt"; then
			echo "ok: mpirun -n $n gives the serial table"
		else
			echo "FAIL: mpirun -n $n differs from the serial table"; fail=1
		fi
	else
		echo "FAIL: mpirun -n $n exited $?"; cat "$T/mpi$n.log"; fail=1
	fi
done
# per-run time series (variable-length messages) and batch means: the same file under MPI
SWT="$SRC/tests/data/md1.yaml --vary workload.rate=20:40:20/s --seeds 2 --set horizon=2min --set output.timeseries_interval=10s --timeseries --batch-means 3"
full() { h5dump -d /runs -d /points -g /timeseries "$1" | tail -n +2; }
"$LLMCAP" sweep $SWT --jobs 2 -o "$T/ts.h5" -q || { echo "FAIL: serial time-series sweep"; exit 1; }
full "$T/ts.h5" >"$T/ts.txt"
if env "$MPI_ENV" mpirun -x ASAN_OPTIONS -n 3 --oversubscribe "$LLMCAP_MPI" sweep $SWT -o "$T/tsm.h5" >"$T/tsm.log" 2>&1 \
	&& full "$T/tsm.h5" >"$T/tsm.txt" && grep -qF 'DATASET "replicate_1"' "$T/ts.txt" && cmp -s "$T/ts.txt" "$T/tsm.txt"; then
	echo "ok: mpirun -n 3 gives the threaded time series"
else
	echo "FAIL: mpirun -n 3 time series differ from the threaded sweep"; cat "$T/tsm.log"; fail=1
fi
# --skip-invalid: every rank finds the same invalid point (a model that does not fit); rank 0
# hands out only the valid points' runs and writes the threaded program's file
SWI="$SRC/tests/data/md1.yaml --vary pools.p.model=llama-3.1-8b,llama-3.1-405b,mistral-7b --seeds 2 --set horizon=30s --skip-invalid"
"$LLMCAP" sweep $SWI --jobs 2 -o "$T/si.h5" -q || { echo "FAIL: serial --skip-invalid sweep"; exit 1; }
table "$T/si.h5" >"$T/si.txt"
if env "$MPI_ENV" mpirun -x ASAN_OPTIONS -n 3 --oversubscribe "$LLMCAP_MPI" sweep $SWI -o "$T/sim.h5" >"$T/sim.log" 2>&1 \
	&& table "$T/sim.h5" >"$T/sim.txt" && grep -qF "756.0 GiB" "$T/si.txt" && cmp -s "$T/si.txt" "$T/sim.txt" \
	&& grep -qF "1 of 3 points not runnable" "$T/sim.log"; then
	echo "ok: mpirun -n 3 --skip-invalid gives the threaded table"
else
	echo "FAIL: mpirun -n 3 --skip-invalid differs from the threaded sweep"; cat "$T/sim.log"; fail=1
fi
# killed mid-sweep (mpirun gets SIGTERM and ends every rank), then resumed under mpirun: the
# same table as an uninterrupted run, without redoing the runs the journal kept. The resume is
# itself cut once by a SIGKILL to its worker rank, as the OOM killer or a kill by name (pkill
# llmcap) would: mpirun then exits 137 (128 + SIGKILL) and says which rank died, and the journal
# still resumes. Issue 23's "mpirun --resume exited 137" is this: nothing in this test or in
# llmcap-mpi sends SIGKILL to a running job of the test (mpirun's own SIGKILLs go to the ranks of
# the job it stops, before it returns; every refusal of rank 0 ends the job with 1 or 2).
SWK="$SRC/tests/data/md1.yaml --vary workload.rate=30:40:10/s --seeds 10 --set horizon=2h --timeseries"
# header 32 bytes; a record (36 words, a head check, 120 samples of 80 bytes, a check) 9904 bytes
REC=9904
"$LLMCAP" sweep $SWK --jobs 2 -o "$T/kfull.h5" -q || { echo "FAIL: serial sweep to resume against"; exit 1; }
# the size of FILE (0 while absent)
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
# waits (up to 60 s) until FILE has at least BYTES
wait_size() {
	i=0
	while [ "$(size "$1")" -lt "$2" ] && [ $i -lt 3000 ]; do
		sleep 0.02; i=$((i + 1))
	done
}
# The ranks of the mpirun with pid $1 (its children), taken while it runs: mpirun stops a job by
# SIGCONT, SIGTERM a second later and SIGKILL a second after that (a rank that took the SIGTERM
# waits in MPI_Finalize, which mpirun no longer serves), and returns without waiting for the
# ranks to be gone, so the next job must wait for them itself.
ranks_of() { ps -o pid= --ppid "$1" 2>/dev/null; }
# Waits (up to 60 s) until none of the pids given is a live llmcap-mpi (gone, or a zombie: its
# files and the journal's lock are released by then), and the journal's lock is free (where ps
# found no ranks); fails saying which still run.
wait_gone() {
	i=0
	while :; do
		left=""
		for r in "$@"; do
			[ -n "$(sed -n 's/^[0-9]* (llmcap-mpi) [^ZX] .*/x/p' "/proc/$r/stat" 2>/dev/null)" ] && left="$left $r"
		done
		[ -z "$left" ] && break
		[ $i -ge 3000 ] && { echo "FAIL: ranks$left of a stopped mpirun still run 60 s after it returned"; return 1; }
		sleep 0.02; i=$((i + 1))
	done
	if command -v flock >/dev/null 2>&1 && [ -e "$T/k.h5.partial" ] && ! flock -w 60 "$T/k.h5.partial" true; then
		echo "FAIL: a stopped MPI sweep's rank 0 still holds its journal after 60 s"; return 1
	fi
}
# the kernel's count of OOM kills (empty where /proc/vmstat has none)
ooms() { awk '/^oom_kill /{print $2}' /proc/vmstat 2>/dev/null; }
# why a job ended by signal $1: what is left, and whether the OOM killer did it ($2: ooms before)
signal_note() {
	echo "(signal $1; processes left:)"; ps -eo pid,ppid,stat,rss,etime,args | grep '[l]lmcap-mpi' || true
	now=$(ooms)
	if [ -n "$now" ] && [ "$now" != "$2" ]; then
		echo "(the kernel's OOM killer ended $((now - $2)) processes meanwhile: see dmesg)"
	elif [ "$1" = 9 ] && [ -n "$now" ]; then
		echo "(no OOM kill counted: a process outside this test sent SIGKILL, e.g. a kill by name)"
	fi
}
env "$MPI_ENV" mpirun -x ASAN_OPTIONS -n 2 --oversubscribe "$LLMCAP_MPI" sweep $SWK -o "$T/k.h5" >"$T/k.log" 2>&1 &
pid=$!
wait_size "$T/k.h5.partial" $((32 + 2 * REC)) # two are in
ranks=$(ranks_of "$pid")
kill -TERM "$pid"
wait "$pid" 2>/dev/null
# under ASan a rank finishing a run and its journal record is often past mpirun's second of grace
# and ends by SIGKILL: the journal may end in a torn record, which --resume cuts and reports.
# The resume must not start while rank 0 still holds the journal (its lock: the resume would be
# refused, "another llmcap sweep ... is running").
wait_gone $ranks || fail=1
# resumed, and the worker rank SIGKILLed once one more run is in
resume_killed() {
	oom0=$(ooms)
	env "$MPI_ENV" mpirun -x ASAN_OPTIONS -n 2 --oversubscribe "$LLMCAP_MPI" sweep $SWK --resume -o "$T/k.h5" >"$T/kk.log" 2>&1 &
	pid=$!
	i=0
	done=""
	while [ -z "$done" ] && [ $i -lt 3000 ]; do
		sleep 0.02; i=$((i + 1))
		done=$(sed -n 's/.*= 20 runs (\([0-9]*\) already done).*/\1/p' "$T/kk.log")
	done
	wait_size "$T/k.h5.partial" $((32 + (${done:-0} + 1) * REC))
	ranks=$(ranks_of "$pid")
	worker=""
	for r in $ranks; do
		ls -l "/proc/$r/fd" 2>/dev/null | grep -qF k.h5.partial || worker=$r
	done
	[ -n "$worker" ] && [ ! -e "$T/k.h5" ] && kill -KILL "$worker"
	wait "$pid"
	rc=$?
	wait_gone $ranks || fail=1
	if [ $rc -eq 137 ] && grep -qF "exited on signal 9" "$T/kk.log" && [ ! -e "$T/k.h5" ]; then
		echo "ok: a worker rank ended by SIGKILL makes mpirun --resume exit 137 and name it"
	else
		echo "FAIL: the resume whose worker was SIGKILLed exited $rc (not 137 or no word of the signal)"
		cat "$T/kk.log"; fail=1
	fi
}
if [ -e "$T/k.h5" ]; then
	echo "FAIL: the MPI sweep finished before it was killed: make it longer"; fail=1
elif [ ! -s "$T/k.h5.partial" ]; then
	echo "FAIL: the killed MPI sweep left no journal"; cat "$T/k.log"; fail=1
elif resume_killed && oom0=$(ooms) &&
	env "$MPI_ENV" mpirun -x ASAN_OPTIONS -n 2 --oversubscribe "$LLMCAP_MPI" sweep $SWK --resume -o "$T/k.h5" >"$T/kr.log" 2>&1; then
	full "$T/kfull.h5" >"$T/kfull.txt"
	full "$T/k.h5" >"$T/k.txt"
	if ! grep -qE '= 20 runs \(([3-9]|[1-9][0-9])[0-9]* already done\)' "$T/kr.log"; then
		echo "FAIL: the MPI resume redid runs the journal kept"; cat "$T/kr.log"; fail=1
	elif [ -s "$T/kfull.txt" ] && cmp -s "$T/kfull.txt" "$T/k.txt" && [ ! -e "$T/k.h5.partial" ]; then
		echo "ok: mpirun -n 2 killed mid-sweep, resumed, SIGKILLed and resumed gives the uninterrupted file"
	else
		echo "FAIL: the resumed MPI sweep differs from the uninterrupted one"; fail=1
	fi
else
	rc=$?
	echo "FAIL: mpirun --resume exited $rc"
	[ $rc -gt 128 ] && signal_note $((rc - 128)) "$oom0"
	cat "$T/kr.log"; fail=1
fi
# an error before any run stops every rank (none waits forever)
if env "$MPI_ENV" mpirun -x ASAN_OPTIONS -n 2 --oversubscribe "$LLMCAP_MPI" sweep $SW -o "$T/serial.h5" >"$T/err.log" 2>&1; then
	echo "FAIL: mpirun sweep overwrote an existing file"; fail=1
elif grep -qF "exists; not overwritten" "$T/err.log"; then
	echo "ok: an existing output stops every rank"
else
	echo "FAIL: no message for an existing output"; cat "$T/err.log"; fail=1
fi
exit $fail
