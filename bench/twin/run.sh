#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Twin benchmark: the observer's cost to the app it watches, measured
# against an identical app beside it at the same moment, so that the host's
# drift (a shared VM's steal time moves bench/run.sh's phases by +-10 %)
# falls on both alike and cancels in their ratio.
#
# Two copies of the express50 app (bench/apps/express), A and B, each in a
# cgroup v2 directory of its own as in a pod, share APP_CPU; each has its own
# wrk (-c CONNS, express50.lua) on LOAD_CPU, and both run flat out. The
# scheduler gives two always-runnable processes equal CPU time, so each
# answers in inverse proportion to its CPU per request. Every round runs
# three phases in a seeded order: `off` (no observer), `on-a` (the observer
# with --pid A) and `on-b` (--pid B). A phase is WARMUP s of load, then
# PHASE_SECONDS s counted by the apps themselves (express50.js's count, read
# by SIGUSR2 at both ends of the window).
#
# The loss of a round: 1 - ((nA/nB) in on-a / (nA/nB) in off), and the same
# for B, averaged (A and B swap roles, so a difference between the two
# copies cancels too). The summary prints its median over rounds with a 95 %
# bootstrap interval, and the added CPU per request of the watched copy.
# Each on phase also checks that the observer counted every request the
# watched copy answered while it ran (sba_http_server_requests_total) and
# none of the other's.
#
# What the twin pays: with --hooks skb, nothing of the packet programs (they
# sit on A's cgroup only) and the read hook's first test (a socket without a
# cookie) on its reads; with tp, every syscall tracepoint's program up to the
# target filter. The twin measures the watched app's cost beyond what every
# process on the node pays; bench/floor measures that part for tp.
#
# FLOOR=1 runs bench/floor's no-op in place of the observer: empty programs
# on the same hooks (with --hooks skb on the watched app's cgroup), so the
# loss is what the hooks cost before any work (no counts are checked).
#
# OBSERVER2 compares two builds (or two sets of flags, with OBSERVER2_ARGS)
# in the same rounds: each round then has five phases, `on2-a` and `on2-b`
# running OBSERVER2, and the summary adds the second build's loss and the
# paired per-round difference between the two (same off phase, same host
# minute), which separate runs minutes apart cannot give on a drifting host.
#
# WATCH=none is the method's own check (an A/A test): the observer runs in
# the on phases as ever but watches an idle process in a third cgroup, so
# neither copy is watched and the loss must come out 0 within its interval.
#
#   flock -x /tmp/sba-quiet.lock bench/twin/run.sh
#   env: HOOKS (skb), WATCH (apps|none), FLOOR (0|1), ROUNDS (8), PHASE_SECONDS (8), WARMUP (2), CONNS (25),
#        APP_CPU (0), LOAD_CPU (1), OBSERVER, OBSERVER_ARGS, OBSERVER2, OBSERVER2_ARGS, SEED, RESULTS
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
HOOKS=${HOOKS:-skb}
WATCH=${WATCH:-apps}
FLOOR=${FLOOR:-0}
ROUNDS=${ROUNDS:-8}
PHASE_SECONDS=${PHASE_SECONDS:-8}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-25}
APP_CPU=${APP_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
OBSERVER=${OBSERVER:-$ROOT/build/sba-observer}
[ "$FLOOR" = 1 ] && OBSERVER=$("$ROOT/bench/floor/build.sh")
OBSERVER_ARGS=${OBSERVER_ARGS:-}
OBSERVER2=${OBSERVER2:-}
OBSERVER2_ARGS=${OBSERVER2_ARGS-$OBSERVER_ARGS}
SEED=${SEED:-$(( $(date +%s) % 100000 ))}
RESULTS=${RESULTS:-$ROOT/bench/results}
RUN_ID=${RUN_ID:-twin-$(date -u +%Y%m%dT%H%M%SZ)}
OUT=$RESULTS/$RUN_ID
PORT_A=${PORT_A:-18390} PORT_B=${PORT_B:-18391} OBS_PORT=${OBS_PORT:-18392}
APP_DIR=$ROOT/bench/apps/express

log() { printf '[twin %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (BPF, cgroups)"
for c in node wrk curl taskset; do command -v "$c" >/dev/null || die "missing $c (scripts/install-deps.sh installs it)"; done
[ -x "$OBSERVER" ] || die "no observer at $OBSERVER: run make first"
[ -z "$OBSERVER2" ] || [ -x "$OBSERVER2" ] || die "no observer at OBSERVER2=$OBSERVER2"
[ -z "$OBSERVER2" ] || [ "$FLOOR" = 0 ] || die "OBSERVER2 and FLOOR=1 do not go together"
[ -d "$APP_DIR/node_modules/express" ] ||
	(cd "$APP_DIR" && npm install --no-save --no-audit --no-fund >&2) || die "npm install in $APP_DIR failed"
CG_ROOT=$(awk '$(NF-2) == "cgroup2" && $4 == "/" { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG_ROOT" ] || die "no cgroup v2 hierarchy mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)"
[ "$WATCH" = apps ] || [ "$WATCH" = none ] || die "WATCH must be apps or none"
mkdir -p "$OUT/logs"

pids=()
cgs=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	for p in "${cgs[@]}"; do rmdir "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# app NAME PORT: the express50 app in cgroup $CG_ROOT/sba-twin-NAME on APP_CPU
app() {
	local cg=$CG_ROOT/sba-twin-$1
	mkdir -p "$cg"
	cgs+=("$cg")
	"$ROOT/scripts/in-cgroup" "$cg" taskset -c "$APP_CPU" \
		node "$APP_DIR/express50.js" "$2" "$OUT/logs/$1.count" >"$OUT/logs/$1.log" 2>&1 </dev/null &
	pids+=($!)
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return; sleep 0.1; done
	die "app $1 did not listen on $2 (log: $OUT/logs/$1.log)"
}
count() { # PID NAME: requests the app answered so far
	local f=$OUT/logs/$2.count
	rm -f "$f"
	kill -USR2 "$1"
	for _ in $(seq 100); do [ -s "$f" ] && break; sleep 0.02; done
	cat "$f"
}
cpu_ns() { # PID: schedstat run time of its threads
	local s=0 t a
	for t in /proc/"$1"/task/*/schedstat; do read -r a _ <"$t" && s=$((s + a)); done
	echo "$s"
}
load() { # SECS: both wrks, in the background
	local secs=$1
	taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${secs}s" -s "$APP_DIR/express50.lua" \
		"http://127.0.0.1:$PORT_A" >"$OUT/logs/wrk.a" 2>&1 &
	WRK_A=$!
	taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${secs}s" -s "$APP_DIR/express50.lua" \
		"http://127.0.0.1:$PORT_B" >"$OUT/logs/wrk.b" 2>&1 &
	WRK_B=$!
}

app a "$PORT_A"; PID_A=${pids[-1]}
app b "$PORT_B"; PID_B=${pids[-1]}
if [ "$WATCH" = none ]; then	# the idle process the observer watches instead
	mkdir -p "$CG_ROOT/sba-twin-idle"
	cgs+=("$CG_ROOT/sba-twin-idle")
	"$ROOT/scripts/in-cgroup" "$CG_ROOT/sba-twin-idle" sleep infinity &
	pids+=($!)
	PID_IDLE=$!
fi
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$OUT/logs/token"
chmod 600 "$OUT/logs/token"
log "apps A (pid $PID_A) and B (pid $PID_B) on CPU$APP_CPU, each in a cgroup of its own; wrk x2 and the observer on CPU$LOAD_CPU"
load 3; wait "$WRK_A" "$WRK_B" || true	# JIT warm-up, unmeasured
cat >"$OUT/meta.json" <<EOF
{"run":"$RUN_ID","hooks":"$HOOKS","watch":"$WATCH","floor":$FLOOR,"rounds":$ROUNDS,"phase_seconds":$PHASE_SECONDS,"warmup_seconds":$WARMUP,
 "conns_per_app":$CONNS,"seed":$SEED,"observer":"$OBSERVER","observer_args":"$OBSERVER_ARGS",
 "observer2":"$OBSERVER2","observer2_args":"$OBSERVER2_ARGS",
 "kernel":"$(uname -r)","node":"$(node --version)","cpus":$(nproc)}
EOF
: >"$OUT/phases.jsonl"

# phase ROUND COND: one phase, a line of phases.jsonl
phase() {
	local r=$1 cond=$2 obs="" tpid=0 t=${2##*-} a0 b0 a1 b1 ca0 cb0 ca1 cb1 s0 s1
	local cap=null answered=null other=null drops=null exe=$OBSERVER args=$OBSERVER_ARGS
	[ "${cond%-*}" != on2 ] || exe=$OBSERVER2 args=$OBSERVER2_ARGS
	if [ "$cond" != off ]; then
		[ "$t" = a ] && tpid=$PID_A || tpid=$PID_B
		[ "$WATCH" = apps ] || tpid=$PID_IDLE
		# shellcheck disable=SC2086 # the args are a list of flags
		taskset -c "$LOAD_CPU" "$exe" --hooks "$HOOKS" --pid "$tpid" \
			--listen "127.0.0.1:$OBS_PORT" --token-file "$OUT/logs/token" $args \
			>"$OUT/logs/r$r.$cond.out" 2>"$OUT/logs/r$r.$cond.err" </dev/null &
		obs=$!
		pids+=("$obs")
		for _ in $(seq 300); do grep -q ready "$OUT/logs/r$r.$cond.err" && break; sleep 0.1; done
		grep -q ready "$OUT/logs/r$r.$cond.err" || die "observer not ready (log: $OUT/logs/r$r.$cond.err)"
		s0=0 s1=0
		[ "$WATCH" = none ] || [ "$FLOOR" = 1 ] || s0=$(count "$tpid" "$t")
	fi
	load $((WARMUP + PHASE_SECONDS + 1))
	sleep "$WARMUP"
	a0=$(count "$PID_A" a) b0=$(count "$PID_B" b) ca0=$(cpu_ns "$PID_A") cb0=$(cpu_ns "$PID_B")
	sleep "$PHASE_SECONDS"
	a1=$(count "$PID_A" a) b1=$(count "$PID_B" b) ca1=$(cpu_ns "$PID_A") cb1=$(cpu_ns "$PID_B")
	wait "$WRK_A" "$WRK_B" || true
	if [ -n "$obs" ] && [ "$FLOOR" = 1 ]; then
		kill -INT "$obs"
		wait "$obs" 2>/dev/null || true
	elif [ -n "$obs" ]; then
		sleep 1.5	# the last answers' records: one drain (1 s) at most
		[ "$WATCH" = none ] || s1=$(count "$tpid" "$t")
		answered=$((s1 - s0))	# WATCH=none: 0
		local m
		m=$(curl -sf -H "Authorization: Bearer $(cat "$OUT/logs/token")" "http://127.0.0.1:$OBS_PORT/metrics") ||
			die "no /metrics from the observer (log: $OUT/logs/r$r.$cond.err)"
		read -r cap drops < <(awk '/^sba_http_server_requests_total\{/ { c += $NF }
			/^sba_observer_dropped_events_total\{/ { d += $NF } END { print c + 0, d + 0 }' <<<"$m")
		other=$((cap - answered))	# the other app's, or lost: 0
		kill -INT "$obs"
		wait "$obs" 2>/dev/null || true
	fi
	printf '{"round":%d,"cond":"%s","a_reqs":%d,"b_reqs":%d,"a_cpu_ns":%d,"b_cpu_ns":%d,"captured":%s,"answered":%s,"captured_minus_answered":%s,"drops":%s}\n' \
		"$r" "$cond" $((a1 - a0)) $((b1 - b0)) $((ca1 - ca0)) $((cb1 - cb0)) \
		"$cap" "$answered" "$other" "$drops" >>"$OUT/phases.jsonl"
	log "  r$r $cond: A $((a1 - a0)) B $((b1 - b0)) reqs${obs:+, captured $cap of $answered answered, drops $drops}"
}

RANDOM=$SEED
for ((r = 1; r <= ROUNDS; r++)); do
	conds=(off on-a on-b)
	[ -z "$OBSERVER2" ] || conds+=(on2-a on2-b)
	for ((i = ${#conds[@]} - 1; i > 0; i--)); do	# seeded shuffle
		j=$((RANDOM % (i + 1)))
		t=${conds[i]} conds[i]=${conds[j]} conds[j]=$t
	done
	log "round $r/$ROUNDS: ${conds[*]}"
	for c in "${conds[@]}"; do phase "$r" "$c"; sleep 1; done
done
node "$HERE/summarize.js" "$OUT" | tee "$OUT/summary.txt"
log "results: $OUT"
