#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The userspace pipeline replay (replay.c): ns per HTTP exchange of the
# express50 workload, from ring record to series, with the bench app's
# --routes file; wrk's headers and browser-like ones, caches warm and
# evicted between drains; then each stage alone. Not part of `make test`.
# Take the benchmark lock: flock -x /tmp/sba-quiet.lock bench/pipeline/run.sh
#   env: N (exchanges per run, default 300000), CPU (pin to it, default 1),
#        REPLAY_ARGS (more flags for every run)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUTPUT=${OUTPUT:-build}
N=${N:-300000}
CPU=${CPU:-1}
make -s OUTPUT="$OUTPUT" "$OUTPUT/bench/replay"
r() { taskset -c "$CPU" "$OUTPUT/bench/replay" -n "$N" ${REPLAY_ARGS:-} "$@"; }
r --stages
r --rich | tail -n 2
r -t 4096 | tail -n 2
r -r none | tail -n 2
