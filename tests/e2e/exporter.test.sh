#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The metrics endpoint of a real observer, probed with curl, node, openssl
# and a real Prometheus: status codes, headers and bodies of every auth case
# (no header, wrong scheme, wrong token, right token, token rotation, token
# in the URL), 404/405/431, health and readiness without auth, gzip and
# OpenMetrics, promtool on every exposition, a bad-token flood beside a
# scraper that keeps getting 200, a slowloris client cut by the deadline,
# TLS (1.2+, certificate rotation), generated and environment tokens, and no
# token value anywhere in the observer's output or in a response body.
# Needs root. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
OBS=${SBA_OBSERVER:-${OUTPUT:-build}/sba-observer}
case $OBS in /*) ;; *) OBS=$ROOT/$OBS ;; esac
tmp=$(mktemp -d /tmp/sba-exporter.XXXXXX)
# shellcheck source=tests/e2e/lib/suite.sh
. tests/e2e/lib/suite.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "skip: needs root"; echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
for cmd in curl openssl node promtool prometheus jq; do
	command -v "$cmd" >/dev/null 2>&1 || scripts/install-deps.sh >/dev/null || true
	command -v "$cmd" >/dev/null 2>&1 || { bad "needs $cmd (scripts/install-deps.sh)"; finish; }
done
[ -x "$OBS" ] || { bad "no observer binary at $OBS (make)"; finish; }

free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
new_token() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# A process to target that does no network I/O: the observer is told to
# watch only it, so the test's own curl and node are not captured.
sleep 3600 &
target=$!
pids+=("$target")

# start NAME ARGS...: starts an observer (stdout/stderr in $tmp/NAME.out/.err)
# and waits for its ready line; sets $obs_pid.
start() {
	local name=$1; shift
	"$OBS" --pid "$target" -v "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
	obs_pid=$!
	pids+=("$obs_pid")
	for _ in $(seq 300); do
		grep -q 'ready:' "$tmp/$name.err" && return 0
		kill -0 "$obs_pid" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/     /' "$tmp/$name.err" | tail -n 5
	return 1
}
stop() {
	kill -INT "$1" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	wait "$1" 2>/dev/null
}

# req CURL_ARGS...: prints the status code; headers in $tmp/hdr, body in
# $tmp/body (and kept in $tmp/bodies/ for the leak check at the end).
mkdir -p "$tmp/bodies"
req() {
	local code
	code=$(curl -sS -m 10 -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' "$@" 2>>"$tmp/curl.err")
	cp "$tmp/body" "$(mktemp "$tmp/bodies/b.XXXXXX")" 2>/dev/null
	echo "$code"
}
# hdr NAME: the value of response header NAME in $tmp/hdr (first one).
hdr() { grep -i "^$1:" "$tmp/hdr" | head -n 1 | cut -d: -f2- | sed -e 's/^ //' -e 's/\r$//'; }
body() { cat "$tmp/body"; }
# check NAME GOT WANT
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got:  $(printf '%q' "$2")" "want: $(printf '%q' "$3")"; fi
}
promtool_ok() {
	local out
	if out=$(promtool check metrics <"$1" 2>&1) && [ -z "$out" ]; then return 0; fi
	echo "$out" | head -n 5
	return 1
}

# ---- start-up errors (no BPF loaded: refused while parsing options) ----
port=$(free_port)
"$OBS" --no-auth --listen "0.0.0.0:$port" >/dev/null 2>"$tmp/e1"; rc=$?
if [ "$rc" -eq 2 ] && grep -q -- '--no-auth is refused on 0.0.0.0' "$tmp/e1"; then ok "--no-auth on a non-loopback address: refused, exit 2"
else bad "--no-auth on a non-loopback address: refused, exit 2" "exit $rc: $(cat "$tmp/e1")"; fi
"$OBS" --listen "localhost" >/dev/null 2>"$tmp/e1"; rc=$?
if [ "$rc" -eq 2 ] && grep -q "is not HOST:PORT" "$tmp/e1"; then ok "bad --listen: exit 2"
else bad "bad --listen: exit 2" "exit $rc: $(cat "$tmp/e1")"; fi
RATE_LIMIT_MAX=0 "$OBS" >/dev/null 2>"$tmp/e1"; rc=$?
if [ "$rc" -eq 2 ] && grep -q "RATE_LIMIT_MAX: '0' is not a number between 1" "$tmp/e1"; then ok "bad RATE_LIMIT_MAX: exit 2"
else bad "bad RATE_LIMIT_MAX: exit 2" "exit $rc: $(cat "$tmp/e1")"; fi
echo tiny-secret-value >"$tmp/bad-token"
"$OBS" --pid "$target" --listen "127.0.0.1:$port" --token-file "$tmp/bad-token" >/dev/null 2>"$tmp/e1"; rc=$?
if [ "$rc" -eq 1 ] && grep -q "line 1: not a token" "$tmp/e1" && ! grep -q tiny-secret "$tmp/e1"; then ok "a token under 32 characters is refused, without echoing it"
else bad "a token under 32 characters is refused, without echoing it" "exit $rc: $(cat "$tmp/e1")"; fi

# ---- the main instance: token file, --trace, env rate limits ----
TOKEN=$(new_token) TOKEN2=$(new_token) WRONG=$(new_token)
printf '%s\n' "$TOKEN" >"$tmp/token"
chmod 600 "$tmp/token"
port=$(free_port)
URL=http://127.0.0.1:$port
if ! RATE_LIMIT_WINDOW=30 RATE_LIMIT_MAX=5 start main --trace --listen "127.0.0.1:$port" --token-file "$tmp/token"; then
	bad "observer with the endpoint starts"; finish
fi
main_pid=$obs_pid
if grep -q "metrics endpoint on http://127.0.0.1:$port/metrics (admin token from $tmp/token)" "$tmp/main.err"; then
	ok "logs where it listens and where the token comes from"
else bad "logs where it listens and where the token comes from" "$(cat "$tmp/main.err")"; fi

AUTH="Authorization: Bearer $TOKEN"
check "/healthz without auth: 200 ok" "$(req "$URL/healthz")|$(body)" "200|ok"
check "/readyz without auth: 200 ready" "$(req "$URL/readyz")|$(body)" "200|ready"
# Failures come from their own loopback addresses (127.0.0.10..12): each
# address may fail RATE_LIMIT_MAX=5 times before it is answered 429.
check "no Authorization header: 401 + WWW-Authenticate: Bearer" \
	"$(req --interface 127.0.0.10 "$URL/metrics")|$(hdr WWW-Authenticate)|$(body)" \
	"401|Bearer|401 unauthorized: send Authorization: Bearer <admin token>"
check "wrong scheme (Basic): 401 + WWW-Authenticate: Bearer" \
	"$(req --interface 127.0.0.10 -u "admin:$TOKEN" "$URL/metrics")|$(hdr WWW-Authenticate)" "401|Bearer"
check "wrong token: 401 + error=\"invalid_token\"" \
	"$(req --interface 127.0.0.10 -H "Authorization: Bearer $WRONG" "$URL/metrics")|$(hdr WWW-Authenticate)|$(body)" \
	"401|Bearer error=\"invalid_token\"|401 unauthorized: invalid token"
check "right token: 200, text 0.0.4, no-store, nosniff" \
	"$(req -H "$AUTH" "$URL/metrics")|$(hdr Content-Type)|$(hdr Cache-Control)|$(hdr X-Content-Type-Options)" \
	"200|text/plain; version=0.0.4; charset=utf-8|no-store|nosniff"
cp "$tmp/body" "$tmp/scrape.txt"
missing=""
for want in 'sba_observer_build_info{version="' 'sba_observer_events_total ' 'sba_observer_bytes_captured_total ' \
	'sba_observer_bytes_seen_total ' 'sba_observer_connections_total{event="opened"}' \
	'sba_observer_connections_total{event="joined"}' 'sba_observer_connections_total{event="closed"}' \
	'sba_observer_ringbuf_size_bytes 8388608' 'sba_observer_ringbuf_used_bytes ' \
	'sba_observer_bpf_run_seconds_total{program="' 'sba_observer_bpf_runs_total{program="' \
	'sba_observer_cpu_seconds_total ' 'sba_observer_resident_memory_bytes ' 'sba_observer_programs_attached ' \
	'sba_observer_http_requests_total{code="401"} 3'; do
	grep -qF "$want" "$tmp/scrape.txt" || missing="$missing [$want]"
done
# every enum sba_drop value, named as in the header (SBA_DROP_RINGBUF_FULL -> ringbuf_full)
reasons=$(sed -nE 's/^\s*SBA_DROP_([A-Z_]+) = [0-9]+,.*/\1/p' include/sba_abi.h | tr '[:upper:]' '[:lower:]')
[ -n "$reasons" ] || missing="$missing [no SBA_DROP_ values in include/sba_abi.h]"
for reason in $reasons; do
	grep -qF "sba_observer_dropped_events_total{reason=\"$reason\"} " "$tmp/scrape.txt" || missing="$missing [drop $reason]"
done
if [ -z "$missing" ]; then ok "the scrape has every self-metric family"; else bad "the scrape has every self-metric family" "missing:$missing"; fi
if promtool_ok "$tmp/scrape.txt"; then ok "promtool check metrics: text format clean"; else bad "promtool check metrics: text format clean"; fi

code=$(req -H "$AUTH" -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' "$URL/metrics")
check "OpenMetrics when asked: content type and # EOF last" \
	"$code|$(hdr Content-Type)|$(tail -n 1 "$tmp/body")|$(grep -c '^# TYPE sba_observer_events counter$' "$tmp/body")" \
	"200|application/openmetrics-text; version=1.0.0; charset=utf-8|# EOF|1"
code=$(req -H "$AUTH" -H 'Accept-Encoding: gzip' "$URL/metrics")
if [ "$code|$(hdr Content-Encoding)" = "200|gzip" ] && gzip -dc "$tmp/body" >"$tmp/gunzip.txt" &&
	promtool_ok "$tmp/gunzip.txt" && grep -q '^sba_observer_build_info' "$tmp/gunzip.txt"; then
	ok "gzip when accepted (Content-Encoding: gzip, decompresses, promtool clean)"
else bad "gzip when accepted" "code $code, Content-Encoding: $(hdr Content-Encoding)"; fi
# (curl -I writes the headers where the body would go: no exposition line may follow)
check "HEAD /metrics: 200, headers only" \
	"$(req -I -H "$AUTH" "$URL/metrics")|$(grep -c '^sba_\|^# ' "$tmp/body")|$(hdr Content-Type)" \
	"200|0|text/plain; version=0.0.4; charset=utf-8"
check "/metrics/workers: 200, only sba_worker_* families, and all of them" \
	"$(req -H "$AUTH" "$URL/metrics/workers")|$(grep -vc '^# [A-Z]* sba_worker_\|^sba_worker_' "$tmp/body")|$(grep -c '^# TYPE sba_worker_' "$tmp/body")" "200|0|15"
check "/debug/slow: 200, the slow-request log as JSON" \
	"$(req -H "$AUTH" "$URL/debug/slow")|$(hdr Content-Type)|$(body | head -c 20)" \
	'200|application/json|{"window_seconds":60'
check "/debug/slow without token: 401" "$(req --interface 127.0.0.11 "$URL/debug/slow")" "401"
check "token in the query string: 400 invalid_request, even with a good header" \
	"$(req --interface 127.0.0.11 -H "$AUTH" "$URL/metrics?access_token=$TOKEN")|$(hdr WWW-Authenticate)" \
	"400|Bearer error=\"invalid_request\""
check "unknown path: 404" "$(req -H "$AUTH" "$URL/nope")|$(body)" "404|404 not found"
check "/metrics/ (trailing slash): 404" "$(req -H "$AUTH" "$URL/metrics/")" "404"
check "POST /metrics: 405 + Allow: GET, HEAD" "$(req -X POST -H "$AUTH" "$URL/metrics")|$(hdr Allow)" "405|GET, HEAD"
check "PUT /healthz: 405" "$(req -X PUT "$URL/healthz")" "405"
check "oversized headers (40 KiB): 431" \
	"$(req -H "$AUTH" -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)" "$URL/metrics")" "431"
check "every response: no-store, nosniff, DENY" \
	"$(req "$URL/nope")|$(hdr Cache-Control)|$(hdr X-Content-Type-Options)|$(hdr X-Frame-Options)" "404|no-store|nosniff|DENY"

# ---- rotation: two tokens during the rotation, then the old one removed ----
printf '%s\n%s\n' "$TOKEN" "$TOKEN2" >"$tmp/token.new" && mv "$tmp/token.new" "$tmp/token"
for _ in $(seq 30); do [ "$(req -H "Authorization: Bearer $TOKEN2" "$URL/metrics")" = 200 ] && break; sleep 0.1; done
check "rotation: both tokens accepted while the file holds both" \
	"$(req -H "Authorization: Bearer $TOKEN2" "$URL/metrics")|$(req -H "$AUTH" "$URL/metrics")" "200|200"
printf '%s\n' "$TOKEN2" >"$tmp/token.new" && mv "$tmp/token.new" "$tmp/token"
for _ in $(seq 30); do [ "$(req --interface 127.0.0.12 -H "$AUTH" "$URL/metrics")" = 401 ] && break; sleep 0.1; done
check "rotation: the removed token is refused, the new one served" \
	"$(req --interface 127.0.0.12 -H "$AUTH" "$URL/metrics")|$(req -H "Authorization: Bearer $TOKEN2" "$URL/metrics")" "401|200"
if grep -q "admin token file $tmp/token reloaded: 2 token(s)" "$tmp/main.err" &&
	grep -q "admin token file $tmp/token reloaded: 1 token(s)" "$tmp/main.err"; then
	ok "rotation: each reload logged with its token count"
else bad "rotation: each reload logged with its token count" "$(grep reload "$tmp/main.err")"; fi
AUTH="Authorization: Bearer $TOKEN2"

# ---- a bad-token flood from 127.0.0.2 beside a scraper on 127.0.0.1 ----
cat >"$tmp/flood.js" <<'EOF'
// node flood.js PORT LOCAL_ADDR MS CONCURRENCY: bad tokens as fast as possible.
const http = require('http');
const [port, addr, ms, conc] = process.argv.slice(2);
const end = Date.now() + Number(ms);
const codes = {};
let retryAfter = null, inflight = 0;
function one() {
	if (Date.now() > end) { if (!inflight) done(); return; }
	inflight++;
	const req = http.request({ host: '127.0.0.1', port: Number(port), path: '/metrics', localAddress: addr,
		agent: false, headers: { Authorization: 'Bearer ' + 'f'.repeat(64) } }, (res) => {
		codes[res.statusCode] = (codes[res.statusCode] || 0) + 1;
		if (res.statusCode === 429) retryAfter = res.headers['retry-after'];
		res.resume();
		res.on('end', () => { inflight--; one(); });
	});
	req.on('error', () => { codes.err = (codes.err || 0) + 1; inflight--; setTimeout(one, 5); });
	req.end();
}
let printed = false;
function done() { if (printed) return; printed = true; console.log(JSON.stringify({ codes, retryAfter })); process.exit(0); }
for (let i = 0; i < Number(conc); i++) one();
setTimeout(done, Number(ms) + 5000);
EOF
node "$tmp/flood.js" "$port" 127.0.0.2 5000 4 >"$tmp/flood.json" &
flood=$!
pids+=("$flood")
scrapes=0 good=0 slowest=0
end=$((SECONDS + 5))
while [ "$SECONDS" -lt "$end" ]; do
	t=$(curl -sS -m 5 -o /dev/null -w '%{http_code} %{time_total}' -H "$AUTH" "$URL/metrics" 2>/dev/null)
	scrapes=$((scrapes + 1))
	[ "${t% *}" = 200 ] && good=$((good + 1))
	slowest=$(awk -v a="$slowest" -v b="${t#* }" 'BEGIN { print (b > a ? b : a) }')
	sleep 0.2
done
wait "$flood"
flood_out=$(cat "$tmp/flood.json")
n401=$(jq -r '.codes["401"] // 0' <<<"$flood_out") n429=$(jq -r '.codes["429"] // 0' <<<"$flood_out")
retry=$(jq -r '.retryAfter // 0' <<<"$flood_out")
if [ "$n401" -eq 5 ] && [ "$n429" -gt 100 ] && [ "$retry" -ge 1 ] && [ "$retry" -le 30 ]; then
	ok "flood: 5 failures allowed (RATE_LIMIT_MAX), then 429 with Retry-After <= 30 (RATE_LIMIT_WINDOW)"
else bad "flood: 5 failures allowed, then 429 with Retry-After" "$flood_out"; fi
if [ "$scrapes" -ge 10 ] && [ "$good" -eq "$scrapes" ]; then
	ok "flood: the scraper got 200 on all $scrapes scrapes (slowest ${slowest}s)"
else bad "flood: the scraper got 200 on every scrape" "$good of $scrapes"; fi
check "flood: the right token from the limited address is still served" \
	"$(req --interface 127.0.0.2 -H "$AUTH" "$URL/metrics")|$(req --interface 127.0.0.2 "$URL/metrics")" "200|429"

# ---- slowloris: one byte per second is cut at the deadline, others served ----
cat >"$tmp/slow.js" <<'EOF'
// node slow.js PORT: sends request headers one byte per second; prints the
// seconds until the server closed the connection.
const net = require('net');
const s = net.connect(Number(process.argv[2]), '127.0.0.1');
const req = 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(100);
const t0 = Date.now();
let i = 0, timer;
s.on('connect', () => { timer = setInterval(() => { if (i < req.length) s.write(req[i++]); }, 1000); });
s.on('close', () => { clearInterval(timer); console.log(((Date.now() - t0) / 1000).toFixed(1)); process.exit(0); });
s.on('error', () => {});
setTimeout(() => { console.log('never'); process.exit(1); }, 40000);
EOF
node "$tmp/slow.js" "$port" >"$tmp/slow.out" &
slow=$!
pids+=("$slow")
sleep 3
during=$(req -H "$AUTH" "$URL/metrics")
wait "$slow"
cut=$(cat "$tmp/slow.out")
if [ "$during" = 200 ] && awk -v t="$cut" 'BEGIN { exit !(t + 0 >= 9 && t + 0 <= 13) }'; then
	ok "slowloris: cut after ${cut}s (deadline 10 s) while another scrape got 200"
else bad "slowloris: cut after ~10 s while another scrape got 200" "cut after: $cut, scrape: $during"; fi
req -H "$AUTH" "$URL/metrics" >/dev/null
check "slowloris: counted in sba_observer_http_deadline_cuts_total" \
	"$(grep '^sba_observer_http_deadline_cuts_total ' "$tmp/body")" "sba_observer_http_deadline_cuts_total 1"

# ---- a real Prometheus scrapes with authorization.credentials_file ----
pport=$(free_port)
printf '%s\n' "$TOKEN2" >"$tmp/prom-token"
chmod 600 "$tmp/prom-token"
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: sba-e2e
    static_configs:
      - targets: ['127.0.0.1:$port']
    authorization:
      type: Bearer
      credentials_file: $tmp/prom-token
EOF
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prom" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn >"$tmp/prom.log" 2>&1 &
prom=$!
pids+=("$prom")
pq() { curl -sS -m 5 "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" 2>/dev/null; }
up="" info=""
for _ in $(seq 120); do
	up=$(pq 'up{job="sba-e2e"}' | jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
	info=$(pq 'sba_observer_build_info{job="sba-e2e"}' | jq -r '.data.result | length' 2>/dev/null)
	[ "$up" = 1 ] && [ "${info:-0}" -ge 1 ] && break
	sleep 0.5
done
if [ "$up" = 1 ] && [ "${info:-0}" -ge 1 ]; then
	ok "Prometheus (credentials_file) scrapes it: up == 1 and sba_observer_build_info present"
else bad "Prometheus scrapes it: up == 1 and sba_observer_build_info present" "up=$up build_info series=$info" \
	"$(curl -sS "http://127.0.0.1:$pport/api/v1/targets" 2>/dev/null | jq -c '.data.activeTargets[0] | {health, lastError}' 2>/dev/null)"; fi
drops=$(pq 'count(sba_observer_dropped_events_total{job="sba-e2e"})' | jq -r '.data.result[0].value[1] // 0' 2>/dev/null)
check "Prometheus has one series per drop reason" "$drops" "$(grep -c '^sba_observer_dropped_events_total{' "$tmp/scrape.txt")"
kill -TERM "$prom" 2>/dev/null; wait "$prom" 2>/dev/null

# ---- the main instance stops cleanly; --trace stdout is only JSON ----
stop "$main_pid"; rc=$?
if [ "$rc" -eq 0 ] && node -e '
	const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
	for (const l of lines) JSON.parse(l);
	if (!lines.some((l) => JSON.parse(l).ev === "ready")) process.exit(1);' "$tmp/main.out"; then
	ok "SIGINT: exit 0, and --trace stdout is only JSON lines"
else bad "SIGINT: exit 0, and --trace stdout is only JSON lines" "exit $rc" "$(head -n 3 "$tmp/main.out")"; fi

# ---- a generated token ----
port=$(free_port)
if start gen --listen "127.0.0.1:$port" --token-out "$tmp/gen/admin-token"; then
	GEN=$(tr -d '\n' <"$tmp/gen/admin-token")
	mode=$(stat -c %a "$tmp/gen/admin-token")
	if [ "$mode" = 600 ] && [ "${#GEN}" -eq 64 ] &&
		grep -q "admin token generated and written to $tmp/gen/admin-token (mode 0600)" "$tmp/gen.err"; then
		ok "generated token: 64 hex characters in a 0600 file, its path logged"
	else bad "generated token: 64 hex characters in a 0600 file, its path logged" "mode $mode, ${#GEN} chars"; fi
	check "generated token: accepted" "$(req -H "Authorization: Bearer $GEN" "http://127.0.0.1:$port/metrics")" "200"
	stop "$obs_pid"
else
	bad "generated token: observer starts"
fi

# ---- SBA_ADMIN_TOKEN, with TLS ----
ENVTOK=$(new_token)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=sba-e2e-1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
port=$(free_port)
if SBA_ADMIN_TOKEN=$ENVTOK start tls --listen "127.0.0.1:$port" --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"; then
	TURL=https://127.0.0.1:$port
	check "TLS + SBA_ADMIN_TOKEN: 200 with the env token, HSTS" \
		"$(req --cacert "$tmp/cert.pem" -H "Authorization: Bearer $ENVTOK" "$TURL/metrics")|$(hdr Strict-Transport-Security)" \
		"200|max-age=31536000"
	check "TLS: wrong token 401" "$(req --cacert "$tmp/cert.pem" -H "Authorization: Bearer $WRONG" "$TURL/metrics")" "401"
	if tr '\0' '\n' <"/proc/$obs_pid/environ" | grep -q "^SBA_ADMIN_TOKEN=$ENVTOK"; then
		bad "SBA_ADMIN_TOKEN wiped from /proc/PID/environ once read"
	else ok "SBA_ADMIN_TOKEN wiped from /proc/PID/environ once read"; fi
	check "plain HTTP to the TLS port: no response" "$(req "http://127.0.0.1:$port/healthz")" "000"
	v=""
	for p in tls1_1 tls1_2 tls1_3; do
		if echo | timeout 5 openssl s_client -"$p" -cipher 'DEFAULT:@SECLEVEL=0' -connect "127.0.0.1:$port" >/dev/null 2>&1; then
			v="$v $p:ok"; else v="$v $p:refused"; fi
	done
	check "TLS versions: 1.1 refused, 1.2 and 1.3 accepted" "$v" " tls1_1:refused tls1_2:ok tls1_3:ok"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=sba-e2e-2 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key2.pem" -out "$tmp/cert2.pem" 2>/dev/null
	cp "$tmp/key2.pem" "$tmp/key.new" && cp "$tmp/cert2.pem" "$tmp/cert.new"
	mv "$tmp/key.new" "$tmp/key.pem" && mv "$tmp/cert.new" "$tmp/cert.pem"
	subj=""
	for _ in $(seq 30); do
		subj=$(echo | timeout 5 openssl s_client -connect "127.0.0.1:$port" 2>/dev/null | openssl x509 -noout -subject 2>/dev/null)
		case $subj in *sba-e2e-2*) break ;; esac
		sleep 0.2
	done
	case $subj in *sba-e2e-2*) ok "TLS: a rotated certificate is served without a restart" ;;
	*) bad "TLS: a rotated certificate is served without a restart" "$subj" ;; esac
	check "TLS: the new certificate verifies" \
		"$(req --cacert "$tmp/cert2.pem" -H "Authorization: Bearer $ENVTOK" "$TURL/metrics")" "200"
	stop "$obs_pid"
else
	bad "TLS + SBA_ADMIN_TOKEN: observer starts"
fi

# ---- the port is taken: a clear error, exit 1 ----
node -e 'require("net").createServer().listen(Number(process.argv[1]), "127.0.0.1")' "$port" &
holder=$!
pids+=("$holder")
sleep 0.5
"$OBS" --pid "$target" --listen "127.0.0.1:$port" --token-file "$tmp/token" >/dev/null 2>"$tmp/busy.err"; rc=$?
if [ "$rc" -eq 1 ] && grep -q "cannot start the metrics endpoint on 127.0.0.1:$port" "$tmp/busy.err"; then
	ok "port in use: exit 1 with a clear message"
else bad "port in use: exit 1 with a clear message" "exit $rc: $(tail -n 2 "$tmp/busy.err")"; fi
kill "$holder" 2>/dev/null

# ---- no token value anywhere: observer output, response bodies ----
leaks=""
for t in "$TOKEN" "$TOKEN2" "$WRONG" "${GEN:-none}" "$ENVTOK"; do
	if grep -rlF "$t" "$tmp"/*.out "$tmp"/*.err "$tmp/bodies" "$tmp/e1" "$tmp/busy.err" 2>/dev/null | grep -q .; then
		leaks="$leaks ${t:0:6}..."
	fi
done
n_files=$(find "$tmp/bodies" -type f | wc -l)
# 40 requests at least: the rotation checks poll until the reload shows, so
# there are more when it takes longer
if [ -z "$leaks" ] && [ "$n_files" -ge 40 ]; then
	ok "no token value in stdout, stderr or any of $n_files response bodies"
else bad "no token value in stdout, stderr or any response body" "leaked:$leaks ($n_files bodies)"; fi

finish
