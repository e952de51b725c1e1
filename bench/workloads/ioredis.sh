# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034,SC2153 # WL_*/APP_PIDS are read by run.sh
# Workload "ioredis" (issue 5): a Node ioredis client (bench/apps/redis-client.js)
# doing GET/SET as fast as it can with IOREDIS_DEPTH commands outstanding
# (default 32; ioredis still writes each command with its own write(2)), on
# APP_CPU; redis-server and the observer on LOAD_CPU. The client is both the
# load and the target: "app CPU" is its CPU, an op is one GET or SET, counted
# by redis (INFO total_commands_processed, minus our own INFO).
# Each phase starts a fresh client after the observer is ready (warm-up
# included), so the observer sees its connection from the first byte; at the
# end of the measured window the client stops, prints how many ops it did,
# and the phase checks the observer's sba_redis_commands_total{command=GET|SET}
# of the client's service against that number (ops_match, cut_commands).
# `ioredis-1.sh` is the one-at-a-time variant (IOREDIS_DEPTH=1).
# Sourced by bench/run.sh, which documents the wl_* contract.
REDIS_PORT=${REDIS_PORT:-16391}
# The user's IOREDIS_DEPTH (or 32), kept apart from what ioredis-1.sh sets.
: "${IOREDIS_DEPTH_USER:=${IOREDIS_DEPTH:-32}}"
IOREDIS_DEPTH=$IOREDIS_DEPTH_USER
IOREDIS_OBS_PORT=${IOREDIS_OBS_PORT:-19464}	# the observer's endpoint during on-* phases
IOREDIS_DIR=$HERE/apps/ioredis
IOREDIS_SERVICE=sba-bench-ioredis	# process.title of the client: its service label

redis_cmds() {
	redis-cli -p "$REDIS_PORT" info stats 2>/dev/null |
		awk -F: '/^total_commands_processed:/{gsub(/\r/, "", $2); print $2}'
}

wl_setup() {
	for c in redis-server redis-cli curl; do
		command -v "$c" >/dev/null || die "missing $c (Debian packages redis-server, redis-tools, curl)"
	done
	if [ ! -d "$IOREDIS_DIR/node_modules/ioredis" ]; then
		(cd "$IOREDIS_DIR" && npm install --no-save --no-audit --no-fund >&2) || die "npm install in $IOREDIS_DIR failed"
	fi
	WL_DESC="Node ioredis $(jq -r .version "$IOREDIS_DIR/node_modules/ioredis/package.json") client ($(node --version)), GET/SET, $IOREDIS_DEPTH outstanding, on CPU$APP_CPU; redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') + observer on CPU$LOAD_CPU"
	WL_UNIT=op
	WL_TARGET_NAME="issue 5"
	WL_TARGET_LOSS_PCT=1
	WL_TARGET_ADDED_US=0.2
	need_free_port "$REDIS_PORT" REDIS_PORT
	need_free_port "$IOREDIS_OBS_PORT" IOREDIS_OBS_PORT
	taskset -c "$LOAD_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" \
		--appendonly no --daemonize no --logfile "$OUT/logs/redis.log" </dev/null >/dev/null 2>&1 &
	REDIS_PID=$!
	started "$REDIS_PID" TERM
	wait_port "$REDIS_PORT" "$REDIS_PID" || die "redis-server did not listen on $REDIS_PORT"
	# The observer's endpoint, to read its command counts; a token of our own.
	IOREDIS_TOKEN=$OUT/ioredis.token
	(umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$IOREDIS_TOKEN")
	IOREDIS_OBS_ARGS_SAVED=$OBSERVER_ARGS
	OBSERVER_ARGS="$OBSERVER_ARGS --redis-port $REDIS_PORT --listen 127.0.0.1:$IOREDIS_OBS_PORT --token-file $IOREDIS_TOKEN"
	CLIENT_PID=
	# Replaced by the client's pid in each phase (run.sh wants one now).
	APP_PIDS=("$REDIS_PID")
}

# The observer's sba_redis_commands_total for GET+SET of the client, and its
# redis cut-command count: "GETSET CUT".
obs_counts() {
	curl -sf -H "@$OUT/ioredis.hdr" "http://127.0.0.1:$IOREDIS_OBS_PORT/metrics" | awk -v svc="$IOREDIS_SERVICE" '
		/^sba_redis_commands_total\{/ && index($0, "service=\"" svc "\"") &&
			($0 ~ /command="GET"/ || $0 ~ /command="SET"/) { n += $NF }
		/^sba_observer_capture_cut_commands_total\{protocol="redis"\}/ { cut = $NF }
		END { printf "%d %d\n", n, cut }'
}

wl_run() { # secs logprefix measure
	local secs=$1 log=$2 measure=$3 c0 c1 ops got
	# The warm-up call starts the client; the measured one stops it.
	if [ -z "$CLIENT_PID" ]; then
		taskset -c "$APP_CPU" node "$HERE/apps/redis-client.js" "$REDIS_PORT" "$IOREDIS_DEPTH" \
			>"$log.client.out" 2>"$log.client.err" </dev/null &
		CLIENT_PID=$!
		CLIENT_OUT=$log.client.out
		started "$CLIENT_PID" TERM
		APP_PIDS=("$CLIENT_PID")
		sleep 0.3	# connected
	fi
	if [ "$measure" = 1 ]; then mark start; fi
	c0=$(redis_cmds)
	sleep "$secs"
	c1=$(redis_cmds)
	if [ "$measure" = 1 ]; then mark end; fi
	{ [ -n "$c0" ] && [ -n "$c1" ]; } || die "cannot read redis INFO on port $REDIS_PORT"
	WL_REQUESTS=$((c1 - c0 - 1))	# minus our own INFO
	[ "$measure" = 1 ] || return 0
	stop_pid "$CLIENT_PID" TERM 10
	stopped "$CLIENT_PID"
	CLIENT_PID=
	ops=$(jq -r '.ops // empty' "$CLIENT_OUT" 2>/dev/null)
	[ -n "$ops" ] || die "the client printed no op count ($CLIENT_OUT)"
	if [ -n "${OBS_PID:-}" ]; then
		printf 'Authorization: Bearer %s\n' "$(cat "$IOREDIS_TOKEN")" >"$OUT/ioredis.hdr"
		read -r got cut < <(obs_counts)
		rm -f "$OUT/ioredis.hdr"
		[ "$got" = "$ops" ] || log "WARNING: observer counted $got GET/SET, the client did $ops"
		WL_EXTRA=$(jq -nc --argjson ops "$ops" --argjson got "${got:-0}" --argjson cut "${cut:-0}" \
			'{client_ops: $ops, obs_getset: $got, ops_match: ($ops == $got), cut_commands: $cut}')
	else
		WL_EXTRA=$(jq -nc --argjson ops "$ops" '{client_ops: $ops}')
	fi
}

wl_teardown() {
	if [ -n "${CLIENT_PID:-}" ]; then
		stop_pid "$CLIENT_PID" TERM 5
		stopped "$CLIENT_PID"
		CLIENT_PID=
	fi
	if [ -n "${REDIS_PID:-}" ]; then
		stop_pid "$REDIS_PID" TERM 5
		stopped "$REDIS_PID"
		REDIS_PID=
	fi
	OBSERVER_ARGS=$IOREDIS_OBS_ARGS_SAVED
}
