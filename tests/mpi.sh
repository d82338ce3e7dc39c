#!/bin/sh
# llmcap-mpi under mpirun writes the same sweep table as the threaded program, bit for bit.
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
for n in 2 3; do
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
# an error before any run stops every rank (none waits forever)
if env "$MPI_ENV" mpirun -x ASAN_OPTIONS -n 2 --oversubscribe "$LLMCAP_MPI" sweep $SW -o "$T/serial.h5" >"$T/err.log" 2>&1; then
	echo "FAIL: mpirun sweep overwrote an existing file"; fail=1
elif grep -qF "exists; not overwritten" "$T/err.log"; then
	echo "ok: an existing output stops every rank"
else
	echo "FAIL: no message for an existing output"; cat "$T/err.log"; fail=1
fi
exit $fail
