# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034,SC2153 # WL_*/APP_PIDS are read by run.sh
# Workload "hello" (issue 2): Node `http` hello world (bench/apps/hello.js)
# on APP_CPU, `wrk -t1 -c$CONNS` keep-alive on LOAD_CPU. The app is a target
# of the observer: this is the cost of being observed.
# Sourced by bench/run.sh, which documents the wl_* contract.
HELLO_PORT=${HELLO_PORT:-18080}

wl_setup() {
	WL_DESC="Node http hello world ($(node --version)), wrk -t1 -c$CONNS keep-alive, app pinned to CPU$APP_CPU, wrk+observer on CPU$LOAD_CPU"
	WL_UNIT=req
	WL_TARGET_NAME="issue 2"
	WL_TARGET_LOSS_PCT=2
	WL_TARGET_ADDED_US=0.5
	need_free_port "$HELLO_PORT" HELLO_PORT
	taskset -c "$APP_CPU" node "$HERE/apps/hello.js" "$HELLO_PORT" \
		>"$OUT/logs/hello.app.log" 2>&1 </dev/null &
	HELLO_PID=$!
	started "$HELLO_PID" TERM
	wait_port "$HELLO_PORT" "$HELLO_PID" || die "hello.js did not listen on $HELLO_PORT (log: $OUT/logs/hello.app.log)"
	APP_PIDS=("$HELLO_PID")
	TARGET_PIDS=("$HELLO_PID")
	# JIT warm-up, unmeasured
	run_wrk "http://127.0.0.1:$HELLO_PORT/" 2 "$OUT/logs/hello.jit-warmup"
}

wl_run() { # secs logprefix measure
	local secs=$1 log=$2 measure=$3
	if [ "$measure" = 1 ]; then mark start; fi
	run_wrk "http://127.0.0.1:$HELLO_PORT/" "$secs" "$log.wrk"
	if [ "$measure" = 1 ]; then mark end; fi
	WL_REQUESTS=$WRK_REQUESTS
	if [ "$measure" = 1 ]; then
		WL_EXTRA=$(jq -nc --arg rps "$(awk '/^Requests\/sec:/{print $2}' "$log.wrk")" --arg p50 "$(wrk_pct_us "$log.wrk" 50)" --arg p99 "$(wrk_pct_us "$log.wrk" 99)" \
			--arg err "$(grep -c -E 'Socket errors|Non-2xx' "$log.wrk" || true)" \
			'{rps: ($rps | tonumber), lat_p50_us: ($p50 | tonumber? // null), lat_p99_us: ($p99 | tonumber? // null),
			  client_errors: ($err | tonumber)}')
	fi
}

wl_teardown() {
	if [ -n "${HELLO_PID:-}" ]; then
		stop_pid "$HELLO_PID" TERM 5
		stopped "$HELLO_PID"
		HELLO_PID=
	fi
}
