#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The floor of syscall-tracepoint capture: bench/run.sh's hello workload with
# empty programs on the observer's 15 sys_exit tracepoints instead of the
# observer (root). Knobs as bench/run.sh (ROUNDS, PHASE_SECONDS...).
set -eu
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
out=${OUTPUT:-$root/build}/floor
arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
mkdir -p "$out"
clang -g -O2 -target bpf -D__TARGET_ARCH_$arch -I"$root/vmlinux/$arch" -c noop.bpf.c -o "$out/noop.bpf.o"
bpftool gen skeleton "$out/noop.bpf.o" name noop_bpf > "$out/noop.skel.h"
cc -O2 -Wall -I"$out" noop.c -lbpf -o "$out/noop"
OBSERVER="$out/noop" STATS_SIGNAL=none TARGET_PID=${TARGET_PID:-1} HOOKS=${HOOKS:-tp} WORKLOADS=${WORKLOADS:-hello} \
	RESULTS=${RESULTS:-$root/bench/results/floor} exec "$root/bench/run.sh"
