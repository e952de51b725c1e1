#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The real observer under the express50 load, on its own: the Express app
# (bench/apps/express) on CPU0, wrk + express50.lua and the observer on CPU1
# as in bench/workloads/express50.sh, for SECS seconds after a warm-up.
# Prints the observer's CPU per request (schedstat of every thread, and the
# split: main loop vs other threads), and with PERF=1 records a profile of
# the observer (perf record -g) into $OUT/perf.data and prints its top.
# With BPF=1 it turns kernel.bpf_stats_enabled on for the measured span only
# (and back to what it was) and prints, per observer program that ran, its
# runs per request, ns per run and ns per request, and the total: the time
# the probes add inside the syscalls of the app (and of wrk, which the
# filter turns away), from the deltas of run_time_ns/run_cnt.
# APP_CGROUP=DIR (a cgroup v2 directory, made and removed here) runs the
# app in a cgroup of its own, as in a pod, away from wrk and the observer.
# Run it under `flock -x /tmp/sba-quiet.lock`: it is a benchmark.
#   bench/pipeline/live.sh [SECS]      env: OBSERVER, OBS_ARGS, ROUTES=0|1, PERF=0|1, BPF=0|1, OUT, APP_CGROUP
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-8}
OBSERVER=${OBSERVER:-build/sba-observer}
ROUTES=${ROUTES:-1}
PERF=${PERF:-0}
BPF=${BPF:-0}
OUT=${OUT:-$(mktemp -d /tmp/sba-live.XXXXXX)}
PORT=${PORT:-18290}
OBS_PORT=${OBS_PORT:-18291}
APP_DIR=bench/apps/express
mkdir -p "$OUT"
[ -d "$APP_DIR/node_modules/express" ] || (cd "$APP_DIR" && npm install --no-save --no-audit --no-fund >&2)

pids=()
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	[ "$BPF" = 1 ] && sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	sleep 0.3
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	if [ -n "${APP_CGROUP:-}" ]; then sleep 0.2; rmdir "$APP_CGROUP" 2>/dev/null || true; fi
}
trap cleanup EXIT

sched_ns() { # sum of schedstat run time over the threads of $1
	local s=0 t
	for t in /proc/"$1"/task/*/schedstat; do s=$((s + $(cut -d' ' -f1 "$t"))); done
	echo "$s"
}
main_ns() { cut -d' ' -f1 "/proc/$1/task/$1/schedstat"; }
# "name run_time_ns run_cnt" of each BPF program the process $1 holds open
# (its fds' fdinfo name the programs: other observers' are left out).
bpf_snap() {
	local ids
	ids=$(grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un | paste -sd,)
	bpftool prog show -j | jq -r --argjson ids "[$ids]" \
		'.[] | select(.id as $i | $ids | index($i)) | "\(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"'
}

[ -z "${APP_CGROUP:-}" ] || mkdir -p "$APP_CGROUP"
scripts/in-cgroup "${APP_CGROUP:-}" taskset -c 0 node "$APP_DIR/express50.js" "$PORT" "$OUT/count" >"$OUT/app.log" 2>&1 &
app=$!
pids+=("$app")
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$OUT/token"
chmod 600 "$OUT/token"
args=(--hooks tp --pid "$app" --listen "127.0.0.1:$OBS_PORT" --token-file "$OUT/token"
      --service express50=bench-express)
[ "$ROUTES" = 1 ] && args+=(--routes "$APP_DIR/routes.txt")
# shellcheck disable=SC2086 # OBS_ARGS is a list of flags
taskset -c 1 "$OBSERVER" "${args[@]}" ${OBS_ARGS:-} >"$OUT/obs.out" 2>"$OUT/obs.err" &
obs=$!
pids+=("$obs")
for _ in $(seq 100); do grep -q ready "$OUT/obs.err" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$OUT/obs.err" || { cat "$OUT/obs.err"; exit 1; }

wrk_run() { taskset -c 1 wrk -t1 -c50 -d"$1"s -s "$APP_DIR/express50.lua" "http://127.0.0.1:$PORT" >"$2"; }
wrk_run 3 "$OUT/warmup.wrk"
t0=$(sched_ns "$obs") m0=$(main_ns "$obs")
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$obs/stat")
if [ "$BPF" = 1 ]; then
	sysctl -qw kernel.bpf_stats_enabled=1
	bpf_snap "$obs" >"$OUT/bpf.0"
fi
if [ "$PERF" = 1 ]; then
	perf record -q -F "${PERF_FREQ:-4000}" ${PERF_CG:--g} -p "$obs" -o "$OUT/perf.data" -- sleep "$SECS" >/dev/null 2>&1 &
	perf_pid=$!
fi
wrk_run "$SECS" "$OUT/run.wrk"
[ "$BPF" = 1 ] && bpf_snap "$obs" >"$OUT/bpf.1" && sysctl -qw kernel.bpf_stats_enabled="$stats_was"
t1=$(sched_ns "$obs") m1=$(main_ns "$obs")
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$obs/stat")
[ "$PERF" = 1 ] && wait "$perf_pid"
reqs=$(awk '/requests in/ {print $1}' "$OUT/run.wrk")
rps=$(awk '/^Requests\/sec:/ {print $2}' "$OUT/run.wrk")
captured=$(curl -s -H "Authorization: Bearer $(cat "$OUT/token")" "http://127.0.0.1:$OBS_PORT/metrics" |
	awk '/^sba_http_server_requests_total\{service="bench-express"/ { s += $NF } END { print s + 0 }')
awk -v ut="$((u1 - u0))" -v st="$((s1 - s0))" -v t="$((t1 - t0))" -v m="$((m1 - m0))" -v r="$reqs" -v rps="$rps" -v c="$captured" -v s="$SECS" 'BEGIN {
	printf "live: %d requests in %d s (%s req/s), captured in total %d\n", r, s, rps, c
	printf "observer CPU %.2f us/req (main thread %.2f, other threads %.2f); %.1f ms per second\n",
		t / r / 1000, m / r / 1000, (t - m) / r / 1000, t / s / 1e6
	printf "user %d%%, system %d%% (clock ticks)\n", 100 * ut / (ut + st + 1e-9), 100 * st / (ut + st + 1e-9) }'
if [ "$BPF" = 1 ]; then
	awk -v r="$reqs" 'NR == FNR { t0[$1] = $2; c0[$1] = $3; next }
		{ dt = $2 - t0[$1]; dc = $3 - c0[$1]; if (dc <= 0) next
		  printf "bpf %-24s %6.2f runs/req %7.0f ns/run %7.0f ns/req\n", $1, dc / r, dt / dc, dt / r
		  tt += dt }
		END { printf "bpf total %.0f ns/req\n", tt / r }' "$OUT/bpf.0" "$OUT/bpf.1"
fi
if [ "$PERF" = 1 ]; then
	perf report -i "$OUT/perf.data" --no-children --stdio --sort sym 2>/dev/null | grep -E '^ +[0-9]' | head -40
fi
echo "files: $OUT"
