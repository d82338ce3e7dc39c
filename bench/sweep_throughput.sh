#!/bin/sh
# Sweep throughput: runs (simulations) per second of `llmcap sweep` with 1 and 2 threads, and of
# llmcap-mpi under mpirun -n 3 (two worker ranks) when built. No assertion: a measurement.
# usage: bench/sweep_throughput.sh [BUILD_DIR]   (default: build)
set -eu
B=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
# small points: the M/D/1 scenario, 2 simulated minutes (6,000 requests) each, 10 x 4 runs;
# large points: the reference scenario's busiest two hours, 4 x 2 runs
small="$SRC/tests/data/md1.yaml --vary workload.rate=10:100:10/s --seeds 4"
large="--vary workload.rate=25000/day,50000/day,75000/day,100000/day --seeds 2 --set horizon=2h"
rate() { sed -n 's/.* in \([0-9.]*\) s wall time (\([0-9.]*\) runs\/s).*/\2 runs\/s (\1 s)/p' "$1"; }
for what in small large; do
	eval "args=\$$what"
	for j in 1 2; do
		"$B/llmcap" sweep $args --jobs $j -o "$T/$what$j.h5" 2>"$T/log" >/dev/null
		echo "$what points, --jobs $j: $(rate "$T/log")"
	done
	if [ -x "$B/llmcap-mpi" ] && command -v mpirun >/dev/null; then
		mpirun -n 3 --oversubscribe "$B/llmcap-mpi" sweep $args -o "$T/${what}mpi.h5" 2>"$T/log" >/dev/null
		echo "$what points, mpirun -n 3 (2 workers): $(rate "$T/log")"
	fi
done
