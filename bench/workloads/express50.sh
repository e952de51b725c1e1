# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034,SC2153 # WL_*/APP_PIDS are read by run.sh
# Workload "express50" (issue 3): Express 4 with 50 routes (bench/apps/express)
# on APP_CPU, wrk -t1 -c$CONNS on LOAD_CPU with bench/apps/express/express50.lua
# (requests spread over the 50 routes with ids and 20 tenants), as fast as
# the server answers (100 % of the machine's rate for this topology).
# In `on` phases the observer also serves /metrics on a loopback port: after
# each phase, captured = sba_http_server_requests_total{service="bench-express"}
# over the observer's life (warm-up + measure), sent = what the app itself
# answered in that time (its count, read by SIGUSR2), with the observer's drop
# and parse-error counters. express50-half.sh paces the same load at 50 %.
# Sourced by bench/run.sh, which documents the wl_* contract.
EXP_PORT=${EXP_PORT:-18090}
EXP_OBS_PORT=${EXP_OBS_PORT:-18091}
EXP_DIR=$HERE/apps/express
EXP_DELAY_MS=0
# The app runs in a cgroup v2 directory of its own, as in a pod, apart
# from wrk and the observer: what `--hooks skb` attaches to (its programs
# then never run for wrk's packets). APP_CGROUP= (empty) keeps it in ours.
EXP_CGROUP=${APP_CGROUP-auto}
if [ "$EXP_CGROUP" = auto ]; then
	EXP_CGROUP=$(awk '$(NF-2) == "cgroup2" && $4 == "/" { print $5 "/sba-bench-express"; exit }' /proc/self/mountinfo)
fi

exp_count() { # the app's own count of answered requests
	local f=$OUT/logs/express50.count
	rm -f "$f"
	kill -USR2 "$EXP_PID"
	for _ in $(seq 100); do [ -s "$f" ] && break; sleep 0.02; done
	cat "$f"
}

exp_scrape() { # jq object of the observer's counters for our service ({} when it serves none: bench/floor)
	local m
	m=$(curl -sf -H "Authorization: Bearer $(cat "$OUT/logs/express50.token")" "http://127.0.0.1:$EXP_OBS_PORT/metrics") ||
		{ echo '{}'; return 0; }
	awk <<<"$m" '
		/^sba_http_server_requests_total\{service="bench-express"/ { cap += $NF }
		/^sba_http_server_requests_total\{/ && !/service="bench-express"/ { other += $NF }
		/^sba_observer_dropped_events_total\{/ { drops += $NF }
		/^sba_observer_lost_bytes_total / { lost += $NF }
		/^sba_observer_parse_errors_total\{protocol="http"\}/ { perr += $NF }
		/^sba_observer_routes_folded_total / { rfold += $NF }
		/^sba_observer_tenants_folded_total / { tfold += $NF }
		END { printf "{\"captured\":%d,\"other_services\":%d,\"obs_drops\":%d,\"obs_lost_bytes\":%d,\"parse_errors\":%d,\"routes_folded\":%d,\"tenants_folded\":%d}\n", cap, other, drops, lost, perr, rfold, tfold }'
}

exp_start_app() {
	if [ ! -d "$EXP_DIR/node_modules/express" ]; then
		(cd "$EXP_DIR" && npm install --no-save --no-audit --no-fund >&2) || die "npm install in $EXP_DIR failed"
	fi
	need_free_port "$EXP_PORT" EXP_PORT
	need_free_port "$EXP_OBS_PORT" EXP_OBS_PORT
	# the script's name (express50) names the service: --service express50=...
	if [ -n "$EXP_CGROUP" ]; then mkdir -p "$EXP_CGROUP" || die "cannot make cgroup $EXP_CGROUP"; fi
	"$HERE/../scripts/in-cgroup" "$EXP_CGROUP" taskset -c "$APP_CPU" \
		node "$EXP_DIR/express50.js" "$EXP_PORT" "$OUT/logs/express50.count" >"$OUT/logs/express50.app.log" 2>&1 </dev/null &
	EXP_PID=$!
	started "$EXP_PID" TERM
	wait_port "$EXP_PORT" "$EXP_PID" || die "express50.js did not listen on $EXP_PORT (log: $OUT/logs/express50.app.log)"
	APP_PIDS=("$EXP_PID")
	TARGET_PIDS=("$EXP_PID")
	head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$OUT/logs/express50.token"
	chmod 600 "$OUT/logs/express50.token"
	# the app's route patterns, as a user of --routes would give them
	WL_OBS_ARGS="--listen 127.0.0.1:$EXP_OBS_PORT --token-file $OUT/logs/express50.token --service express50=bench-express --routes $EXP_DIR/routes.txt"
	# JIT warm-up, unmeasured; then the unpaced rate, observer off (the
	# 100 % that express50-half paces against)
	DELAY_MS=0 run_wrk "http://127.0.0.1:$EXP_PORT" 3 "$OUT/logs/express50.jit-warmup" -s "$EXP_DIR/express50.lua"
	DELAY_MS=0 run_wrk "http://127.0.0.1:$EXP_PORT" 4 "$OUT/logs/express50.calibrate" -s "$EXP_DIR/express50.lua"
	EXP_MAX_RPS=$(awk '/^Requests\/sec:/{printf "%d", $2}' "$OUT/logs/express50.calibrate")
}

wl_setup() {
	exp_start_app
	WL_DESC="Express 4, 50 routes x 20 tenants ($(node --version)), wrk -t1 -c$CONNS keep-alive + express50.lua, unpaced (100 %), app pinned to CPU$APP_CPU${EXP_CGROUP:+ in cgroup $EXP_CGROUP}, wrk+observer on CPU$LOAD_CPU"
	WL_UNIT=req
	WL_TARGET_NAME="issue 3"
	WL_TARGET_LOSS_PCT=1
	WL_TARGET_ADDED_US=""
}

wl_run() { # secs logprefix measure
	local secs=$1 log=$2 measure=$3 c1 sc
	# the warm-up phase starts right after the observer's ready: count from here
	if [ "$measure" = 0 ]; then EXP_C0=$(exp_count); fi
	if [ "$measure" = 1 ]; then mark start; fi
	DELAY_MS=$EXP_DELAY_MS run_wrk "http://127.0.0.1:$EXP_PORT" "$secs" "$log.wrk" -s "$EXP_DIR/express50.lua"
	if [ "$measure" = 1 ]; then mark end; fi
	WL_REQUESTS=$WRK_REQUESTS
	if [ "$measure" = 1 ]; then
		sc='{}'
		if [ -n "${OBS_PID:-}" ]; then
			sleep 0.5	# > a drain interval: every exchange of the phase is in
			c1=$(exp_count)
			sc=$(exp_scrape | jq -c --argjson sent "$((c1 - EXP_C0))" '. + {sent: $sent,
				captured_ratio: (if $sent > 0 and .captured != null then .captured / $sent else null end)}')
		fi
		WL_EXTRA=$(jq -nc --arg rps "$(awk '/^Requests\/sec:/{print $2}' "$log.wrk")" --arg p50 "$(wrk_pct_us "$log.wrk" 50)" --arg p99 "$(wrk_pct_us "$log.wrk" 99)" \
			--arg err "$(grep -c -E 'Socket errors|Non-2xx' "$log.wrk" || true)" --argjson sc "$sc" --argjson delay "$EXP_DELAY_MS" --argjson max "${EXP_MAX_RPS:-0}" \
			'{rps: ($rps | tonumber), lat_p50_us: ($p50 | tonumber? // null), lat_p99_us: ($p99 | tonumber? // null),
			  client_errors: ($err | tonumber), delay_ms: $delay, calibration_rps: $max} + $sc')
	fi
}

wl_teardown() {
	if [ -n "${EXP_PID:-}" ]; then
		stop_pid "$EXP_PID" TERM 5
		stopped "$EXP_PID"
		EXP_PID=
	fi
	if [ -n "$EXP_CGROUP" ]; then rmdir "$EXP_CGROUP" 2>/dev/null || true; fi
}
