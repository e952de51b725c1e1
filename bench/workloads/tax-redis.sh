# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034,SC2153 # WL_*/APP_PIDS are read by run.sh
# Workload "tax-redis": the global tax. redis-server (not Node, so never a
# target) on APP_CPU, `redis-benchmark -c$CONNS -t set,get -l` on LOAD_CPU.
# Whatever CPU redis-server gains per op with the observer attached is what the
# observer costs processes it does not observe: with raw tracepoints every
# syscall of every process enters a BPF program that must reject it.
# Requests are redis' own count (INFO total_commands_processed).
# Sourced by bench/run.sh, which documents the wl_* contract.
REDIS_PORT=${REDIS_PORT:-16390}

redis_cmds() {
	redis-cli -p "$REDIS_PORT" info stats 2>/dev/null |
		awk -F: '/^total_commands_processed:/{gsub(/\r/, "", $2); print $2}'
}

wl_setup() {
	for c in redis-server redis-benchmark redis-cli; do
		command -v "$c" >/dev/null || die "missing $c (Debian package redis-server / redis-tools)"
	done
	WL_DESC="redis-server (non-target) $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), redis-benchmark -c$CONNS -t set,get, no pipelining; server on CPU$APP_CPU, client+observer on CPU$LOAD_CPU"
	WL_UNIT=op
	WL_TARGET_NAME="" WL_TARGET_LOSS_PCT="" WL_TARGET_ADDED_US=""
	need_free_port "$REDIS_PORT" REDIS_PORT
	taskset -c "$APP_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" \
		--appendonly no --daemonize no --logfile "$OUT/logs/redis.log" </dev/null >/dev/null 2>&1 &
	REDIS_PID=$!
	started "$REDIS_PID" TERM
	wait_port "$REDIS_PORT" "$REDIS_PID" || die "redis-server did not listen on $REDIS_PORT"
	APP_PIDS=("$REDIS_PID")
}

wl_run() { # secs logprefix measure
	local secs=$1 log=$2 measure=$3 pid c0 c1
	taskset -c "$LOAD_CPU" redis-benchmark -p "$REDIS_PORT" -c "$CONNS" -t set,get -n 100000000 -l -q \
		>/dev/null 2>"$log.redis-benchmark.err" </dev/null &
	pid=$!
	started "$pid" TERM
	sleep 0.3	# connections up
	if [ "$measure" = 1 ]; then mark start; fi
	c0=$(redis_cmds)
	sleep "$secs"
	c1=$(redis_cmds)
	if [ "$measure" = 1 ]; then mark end; fi
	stop_pid "$pid" TERM 5
	stopped "$pid"
	{ [ -n "$c0" ] && [ -n "$c1" ]; } || die "cannot read redis INFO on port $REDIS_PORT"
	WL_REQUESTS=$((c1 - c0 - 1))	# minus our own INFO
}

wl_teardown() {
	if [ -n "${REDIS_PID:-}" ]; then
		stop_pid "$REDIS_PID" TERM 5
		stopped "$REDIS_PID"
		REDIS_PID=
	fi
}
