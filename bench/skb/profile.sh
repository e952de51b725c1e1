#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where the capture's CPU lands, by sampling instead of by difference: the
# hello workload (node on CPU0, wrk -t1 -c50 on CPU1) under `perf record -a -g`
# (cpu-clock, one sample per 100 µs of CPU), once per condition, and per
# process the µs per request spent under the capture hooks:
#   cgroup_skb: stacks through __cgroup_bpf_run_filter_skb (hook + program +
#               helpers, whichever socket, in process or softirq context)
#   syscall tp: stacks through syscall_exit_work / syscall_trace_enter
#               (the syscall slow path's tracepoint dispatch + programs)
# POD=1 starts node in its own cgroup v2 child (like a Kubernetes pod) and
# attaches the skb programs there instead of at the root: wrk's sockets (root
# cgroup) then run no program at all.
# Needs root, perf. Wrap it: flock -x /tmp/sba-quiet.lock bench/skb/profile.sh
#   CONDS="off skbempty skbnone skb tp" REPEAT=2 SECS=6 PORT=18097 POD=0
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CONDS=${CONDS:-off skbempty skbnone skb tp}
REPEAT=${REPEAT:-2}
SECS=${SECS:-6}
PORT=${PORT:-18097}
POD=${POD:-0}
PERIOD_US=100
out=${OUT:-$root/bench/results/skb/profile-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
"$here/build.sh" >/dev/null
export PATH=$PATH:/usr/sbin:/sbin
pids=()
pod=
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null && while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
	[ -z "$pod" ] || rmdir "$pod"
}
trap cleanup EXIT

if [ "$POD" = 1 ]; then
	pod=/sys/fs/cgroup/unified/sba-skb-pod-$$
	mkdir "$pod"
	export SKB_CGROUP=$pod	# bin/observer passes it to skb as --cgroup
fi
taskset -c 0 "$root/scripts/in-cgroup" "$pod" node "$root/bench/apps/hello.js" "$PORT" >"$out/hello.log" 2>&1 &
app=$!
pids+=("$app")
sleep 1
[ -z "$pod" ] || grep -qx "$app" "$pod/cgroup.procs" || { echo "node is not in $pod" >&2; exit 1; }
taskset -c 1 wrk -t1 -c50 -d3s "http://127.0.0.1:$PORT/" >/dev/null	# JIT warm-up
for rep in $(seq "$REPEAT"); do
	[ "$rep" = 1 ] && printf '%-9s %3s %8s | %-28s | %-28s | %s\n' cond rep req/s \
		"node µs/req: all cgskb systp" "wrk µs/req: all cgskb systp" "observer µs/req"
	for cond in $CONDS; do
		obs=
		if [ "$cond" != off ]; then
			HELLO_PORT=$PORT taskset -c 1 "$here/bin/observer" --hooks "$cond" --pid "$app" \
				>"$out/$cond.$rep.obs.out" 2>"$out/$cond.$rep.obs.err" &
			obs=$!
			pids+=("$obs")
			for _ in $(seq 100); do grep -q ready "$out/$cond.$rep.obs.err" && break; sleep 0.1; done
		fi
		taskset -c 1 wrk -t1 -c50 -d$((SECS + 3))s "http://127.0.0.1:$PORT/" >"$out/$cond.$rep.wrk" &
		w=$!
		sleep 2
		perf record -q -a -g -e cpu-clock -c $((PERIOD_US * 1000)) -o "$out/$cond.$rep.data" -- sleep "$SECS" 2>/dev/null
		wait "$w"
		[ -n "$obs" ] && { kill -INT "$obs"; wait "$obs" || true; }
		rps=$(awk '/^Requests\/sec:/{print $2}' "$out/$cond.$rep.wrk")
		obs_comm=$([ "$cond" = tp ] && echo sba-observer || echo skb)
		perf script -i "$out/$cond.$rep.data" -F comm,ip,sym 2>/dev/null | awk -v rps="$rps" -v secs="$SECS" \
			-v per="$PERIOD_US" -v cond="$cond" -v rep="$rep" -v oc="$obs_comm" '
			function flush() { if (comm == "") return; all[comm]++
				if (cg) cgskb[comm]++; if (tp) systp[comm]++ }
			/^[^\t]/ && NF { flush(); comm = $1; cg = tp = 0; next }	# sample header; frames start with a tab
			/__cgroup_bpf_run_filter_skb/ { cg = 1 }
			/syscall_exit_work|syscall_trace_enter/ { tp = 1 }
			END { flush(); r = rps * secs
				f = "%5.2f %5.2f %5.2f"
				printf "%-9s %3s %8.0f | " f "             | " f "             | %5.2f\n", cond, rep, rps,
					all["node"] * per / r, cgskb["node"] * per / r, systp["node"] * per / r,
					all["wrk"] * per / r, cgskb["wrk"] * per / r, systp["wrk"] * per / r,
					all[oc] * per / r }'
	done
done | tee "$out/profile.txt"
