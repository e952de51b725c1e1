#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The floor of syscall-tracepoint capture: bench/run.sh's hello workload with
# empty programs on the observer's 15 sys_exit tracepoints instead of the
# observer (root). Knobs as bench/run.sh (ROUNDS, PHASE_SECONDS...).
set -eu
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
noop=$(./build.sh)
OBSERVER="$noop" STATS_SIGNAL=none TARGET_PID=${TARGET_PID:-1} HOOKS=${HOOKS:-tp} WORKLOADS=${WORKLOADS:-hello} \
	RESULTS=${RESULTS:-$root/bench/results/floor} exec "$root/bench/run.sh"
