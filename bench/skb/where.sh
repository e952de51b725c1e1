#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where the real observer's programs spend their time inside the app: the
# express50 app on CPU0, wrk -t1 -c50 + express50.lua and the observer
# (--hooks $HOOKS --pid <app>) on CPU1, `perf record -g` of CPU0 for SECS s.
# The app runs in a cgroup v2 directory of its own (APP_CGROUP; empty: ours),
# as in a pod and as in bench/workloads/express50.sh.
# Prints, per BPF program that ran in node's context, the samples per
# request and the leaf functions under it (helpers, map code, the program's
# own body). Sampling taxes the app, so the rate is lower than in
# bench/run.sh: compare runs of this script with each other, not with it.
#   flock -x /tmp/sba-quiet.lock bench/skb/where.sh     (root, perf, wrk)
#   OBSERVER=build/sba-observer HOOKS=skb SECS=8 PORT=18190 OUT=dir
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
OBSERVER=${OBSERVER:-$root/build/sba-observer}
HOOKS=${HOOKS:-skb}
SECS=${SECS:-8}
PORT=${PORT:-18190}
PERIOD_US=50
out=${OUT:-$root/bench/results/skb/where-$(date -u +%Y%m%dT%H%M%SZ)}
app_dir=$root/bench/apps/express
mkdir -p "$out"
[ -d "$app_dir/node_modules/express" ] || (cd "$app_dir" && npm install --no-save --no-audit --no-fund >&2)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

APP_CGROUP=${APP_CGROUP-$(awk '$(NF-2) == "cgroup2" && $4 == "/" { print $5 "/sba-where"; exit }' /proc/self/mountinfo)}
[ -z "$APP_CGROUP" ] || mkdir -p "$APP_CGROUP"
trap 'cleanup; [ -z "$APP_CGROUP" ] || { sleep 0.3; rmdir "$APP_CGROUP" 2>/dev/null || true; }' EXIT
"$root/scripts/in-cgroup" "$APP_CGROUP" taskset -c 0 node "$app_dir/express50.js" "$PORT" "$out/count" >"$out/app.log" 2>&1 &
pids+=($!)
app=$!
sleep 1
taskset -c 1 wrk -t1 -c50 -d3s -s "$app_dir/express50.lua" "http://127.0.0.1:$PORT" >/dev/null # JIT warm-up
taskset -c 1 "$OBSERVER" --hooks "$HOOKS" --pid "$app" --listen "127.0.0.1:$((PORT + 1))" \
	--service express50=bench-express --routes "$app_dir/routes.txt" >"$out/obs.out" 2>"$out/obs.err" &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$out/obs.err" && break; sleep 0.1; done
taskset -c 1 wrk -t1 -c50 -d$((SECS + 4))s -s "$app_dir/express50.lua" "http://127.0.0.1:$PORT" >"$out/wrk.txt" &
w=$!
sleep 2
perf record -q -C 0 -g -e cpu-clock -c $((PERIOD_US * 1000)) -o "$out/perf.data" -- sleep "$SECS" 2>/dev/null
wait "$w"
rps=$(awk '/^Requests\/sec:/{print $2}' "$out/wrk.txt")
perf script -i "$out/perf.data" -F comm,ip,sym 2>/dev/null | awk -v reqs="$(awk -v r="$rps" -v s="$SECS" 'BEGIN{print r*s}')" \
	-v per="$PERIOD_US" -v rps="$rps" '
	function flush(   i, p) {
		if (comm != "node") return
		all++; p = ""
		for (i = 0; i < n; i++) if (st[i] ~ /^bpf_prog_/) p = st[i]
		if (p == "") return
		sub(/^bpf_prog_[0-9a-f]+_/, "", p)
		prog[p]++
		leaf = st[0]; sub(/^bpf_prog_[0-9a-f]+_.*/, "(program body)", leaf)
		lf[p "\t" leaf]++
	}
	/^[^\t ]/ || /^ +[^ \t]+ *$/ { flush(); comm = $1; n = 0; next }	# a sample header: its comm
	NF >= 2 { st[n++] = $2 }
	END {
		flush()
		printf "%.0f req/s while sampled; node: %.1f µs/req in all\n", rps, all * per / reqs
		for (p in prog) {
			printf "%-22s %6.3f µs/req (%d samples)\n", p, prog[p] * per / reqs, prog[p]
			for (k in lf) { split(k, a, "\t"); if (a[1] == p && lf[k] * 100 >= prog[p] * 3)
				printf "    %-34s %5.1f %%\n", a[2], lf[k] * 100 / prog[p] } }
	}' | tee "$out/where.txt"
