#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cost of single BPF helper calls on this host (root; kernel.bpf_stats_enabled
# is switched on for the run and restored). Prints ns per call, op 0 subtracted.
set -eu
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
out=${OUTPUT:-$root/build}/micro
. ../lib/bpfskel.sh
bpf_skel helpers.bpf.c "$out"
cc -O2 -I"$out" helpers.c -lbpf -o "$out/helpers"
old=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled=$old' EXIT
sysctl -qw kernel.bpf_stats_enabled=1
names=("baseline (pid filter + 8 B kernel read)" "probe_read_user 32 B -> stack"
	"probe_read_user 32 B -> 32 KiB array value" "probe_read_user 32 B -> per-CPU value"
	"probe_read_kernel 168 B" "ktime_get_ns" "hash map lookup (miss)" "bpf_loop, 1 empty iteration"
	"ringbuf_output 100 B" "get_smp_processor_id" "ringbuf_query" "get_current_pid_tgid"
	"probe_read_kernel 8 B" "probe_read_user 200 B -> array value" "ringbuf reserve+submit 100 B")
base=
for op in $(seq 0 14); do
	read -r _ ns < <("$out/helpers" "$op")
	[ -z "$base" ] && base=$ns
	printf '%-45s %7.1f ns/run  %6.1f ns/call\n' "${names[$op]}" "$ns" \
		"$(echo "($ns - $base) / 10" | bc -l)"
done
