#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make demo`: a small SaaS on this machine, watched by sba-observer.
#   demo-web (front tier) -> demo-api (back end) -> BullMQ queue "emails"
#   demo-producer (invoices, reports) -> redis-server <- demo-worker
#   demo-load: customers of four tenants using demo-web
# Everything runs on 127.0.0.1 on free ports, in a temporary directory, and
# is stopped and removed on exit, Ctrl-C included. Needs root (the observer
# loads BPF programs) and `make` (build/sba-observer).
#
# Environment:
#   DEMO_SECONDS=30   how long the traffic runs before the summary
#   DEMO_RPS=30       requests a second sent to demo-web
#   DEMO_KEEP=1       keep everything running after the summary, until
#                     Ctrl-C or SIGTERM (the traffic goes on)
#   DEMO_STATE=FILE   write OBS_PORT, TOKEN_FILE, ... there once the demo is
#                     up (for tests/e2e/dashboard.test.mjs)
#   OUTPUT=build      where the observer was built
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
OBS=$ROOT/${OUTPUT:-build}/sba-observer
SECONDS_RUN=${DEMO_SECONDS:-30}
KEEP=${DEMO_KEEP:-0}

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (the observer loads BPF programs): sudo make demo"
[ -x "$OBS" ] || die "$OBS is missing: run make first"
for c in node npm redis-server redis-cli curl; do
	command -v "$c" >/dev/null || die "$c is missing: run scripts/install-deps.sh"
done
case $SECONDS_RUN in '' | *[!0-9]*) die "DEMO_SECONDS must be a number of seconds" ;; esac

if [ ! -d demo/node_modules/bullmq ]; then
	say "installing the demo's npm packages (demo/package-lock.json)"
	(cd demo && npm install --no-save --no-audit --no-fund --loglevel=error >/dev/null) ||
		die "npm install in demo/ failed"
fi

TMP=$(mktemp -d /tmp/sba-demo.XXXXXX)
pids=() cgroup=""
cleanup() {
	local rc=$? p
	trap '' INT TERM
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for _ in $(seq 50); do
		local alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive -eq 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	[ -z "$cgroup" ] || rmdir "$cgroup" 2>/dev/null || true
	rm -rf "$TMP"
	[ -z "${DEMO_STATE:-}" ] || rm -f "$DEMO_STATE"
	say "stopped and cleaned up"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Four distinct free ports, held open together so they differ.
read -r REDIS_PORT API_PORT WEB_PORT OBS_PORT < <(node -e '
	const net = require("net"); const s = [];
	for (let i = 0; i < 4; i++) s.push(net.createServer().listen(0, "127.0.0.1"));
	Promise.all(s.map((x) => new Promise((r) => x.on("listening", r)))).then(() => {
		console.log(s.map((x) => x.address().port).join(" ")); s.forEach((x) => x.close()); });')
export REDIS_PORT API_PORT WEB_PORT

# A fresh admin token, only in a file (never printed).
umask 077
od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$TMP/token"
umask 022
TOKEN_FILE=$TMP/token

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
	--logfile "$TMP/redis.log" &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || die "redis-server did not start ($TMP/redis.log)"

"$OBS" --listen "127.0.0.1:$OBS_PORT" --token-file "$TOKEN_FILE" --redis-port "$REDIS_PORT" \
	--routes demo/routes.txt 2>"$TMP/observer.log" &
obs_pid=$!
pids+=($obs_pid)
for _ in $(seq 300); do grep -q 'ready:' "$TMP/observer.log" && break; kill -0 $obs_pid 2>/dev/null || break; sleep 0.1; done
grep -q 'ready:' "$TMP/observer.log" || { cat "$TMP/observer.log" >&2; die "the observer did not start"; }
say "observer ready on 127.0.0.1:$OBS_PORT (log: $TMP/observer.log)"

# start NAME SCRIPT: a demo app, named for the observer by OTEL_SERVICE_NAME
start() {
	OTEL_SERVICE_NAME=$1 node "demo/$2" >"$TMP/$1.log" 2>&1 &
	pids+=($!)
}
start demo-api api.js
api_pid=${pids[-1]}
# A memory limit on the API's cgroup, so that memory-vs-limit has a limit
# to show (cgroup v1 memory controller, or v2 with memory delegated).
if [ -w /sys/fs/cgroup/memory/cgroup.procs ]; then
	cgroup=/sys/fs/cgroup/memory/sba-demo-$$
	mkdir -p "$cgroup" && echo $((512 * 1024 * 1024)) >"$cgroup/memory.limit_in_bytes" &&
		echo "$api_pid" >"$cgroup/cgroup.procs" || cgroup=""
elif grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
	cgroup=/sys/fs/cgroup/sba-demo-$$
	mkdir -p "$cgroup" && echo 512M >"$cgroup/memory.max" &&
		echo "$api_pid" >"$cgroup/cgroup.procs" || cgroup=""
fi
start demo-web web.js
start demo-worker worker.js
start demo-producer producer.js
for _ in $(seq 100); do
	curl -fs -o /dev/null "http://127.0.0.1:$WEB_PORT/" && break
	sleep 0.1
done
curl -fs -o /dev/null "http://127.0.0.1:$WEB_PORT/" || { tail -n 5 "$TMP"/demo-*.log >&2; die "the demo apps did not start"; }

CURL="curl -s -H \"Authorization: Bearer \$(cat $TOKEN_FILE)\" http://127.0.0.1:$OBS_PORT/metrics"
if [ -n "${DEMO_STATE:-}" ]; then
	printf 'OBS_PORT=%s\nTOKEN_FILE=%s\nWEB_PORT=%s\nAPI_PORT=%s\nREDIS_PORT=%s\n' \
		"$OBS_PORT" "$TOKEN_FILE" "$WEB_PORT" "$API_PORT" "$REDIS_PORT" >"$DEMO_STATE.tmp"
	mv "$DEMO_STATE.tmp" "$DEMO_STATE"
fi
say "web tier http://127.0.0.1:$WEB_PORT, API http://127.0.0.1:$API_PORT, redis 127.0.0.1:$REDIS_PORT"
say "read the metrics while it runs:"
echo "  $CURL"
say "traffic from 4 tenants for ${SECONDS_RUN}s at ${DEMO_RPS:-30} requests/s..."

if [ "$KEEP" = 1 ]; then
	DEMO_SECONDS=0 OTEL_SERVICE_NAME=demo-load node demo/load.js >"$TMP/demo-load.log" 2>&1 &
	pids+=($!)
	sleep "$SECONDS_RUN" & wait $! # (wait: a signal stops it at once)
else
	DEMO_SECONDS=$SECONDS_RUN OTEL_SERVICE_NAME=demo-load node demo/load.js >"$TMP/demo-load.log" 2>&1 &
	load_pid=$!
	pids+=($load_pid)
	wait $load_pid || true
fi
sleep 1.5 # the jobs in flight finish, the observer drains its ring

curl -s -H "Authorization: Bearer $(cat "$TOKEN_FILE")" "http://127.0.0.1:$OBS_PORT/metrics" >"$TMP/scrape.txt"
echo
node demo/summary.js demo- <"$TMP/scrape.txt" || die "the scrape has no demo numbers"
echo
say "read the metrics (all families; /metrics/workers has the sba_worker_* ones):"
echo "  $CURL"
if [ "$KEEP" = 1 ]; then
	say "DEMO_KEEP=1: still running, Ctrl-C to stop"
	while :; do sleep 1 & wait $!; done
else
	say "the curl above works while the demo runs: DEMO_KEEP=1 make demo keeps it up until Ctrl-C"
fi
