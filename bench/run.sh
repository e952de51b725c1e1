#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Overhead benchmark of sba-observer (issue 2): what the observer costs the
# processes it watches (and, for raw tracepoints, the ones it does not).
# Method, knobs and how to read the output: bench/README.md.
#
# For each workload (bench/workloads/<name>.sh) it starts the app pinned to
# APP_CPU, then runs ROUNDS rounds; each round runs every condition once
# (`off`, `on-raw`, `on-tp`) in a balanced, seeded order. A phase is WARMUP s
# of load, then PHASE_SECONDS s measured. `on-*` phases start the observer
# (pinned to LOAD_CPU, next to the load generator) before the warm-up and
# stop it with SIGINT after the measurement. Per phase it records requests,
# app CPU from /proc, BPF run time from kernel.bpf_stats_enabled, the
# observer's own CPU and its stats line; bench/lib/summarize.js turns that
# into the table.
#
#   sudo bench/run.sh                    full run (10 rounds x 10 s phases)
#   sudo QUICK=1 bench/run.sh            smoke run (2 rounds x 3 s phases)
#   sudo WORKLOADS=hello HOOKS=raw ROUNDS=20 bench/run.sh
# M_start_* / M_end_* are assigned by eval in mark(); WL_* by the workload.
# shellcheck disable=SC2154,SC2153
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
export PATH=$PATH:/usr/sbin:/sbin

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	: "${ROUNDS:=2}" "${PHASE_SECONDS:=3}" "${WARMUP:=1}"
fi
ROUNDS=${ROUNDS:-10}		# rounds; each runs every condition once
PHASE_SECONDS=${PHASE_SECONDS:-10}	# measured seconds per phase
WARMUP=${WARMUP:-3}		# unmeasured load before each measurement
SETTLE=${SETTLE:-1}		# idle seconds between phases
HOOKS=${HOOKS:-raw tp}		# observer flavours to compare (--hooks)
WORKLOADS=${WORKLOADS:-hello tax-syscall tax-redis}
APP_CPU=${APP_CPU:-0}		# CPU of the app under test
LOAD_CPU=${LOAD_CPU:-1}		# CPU of the load generator and the observer
CONNS=${CONNS:-50}
OBSERVER=${OBSERVER:-$ROOT/build/sba-observer}
OBSERVER_ARGS=${OBSERVER_ARGS:-}	# extra flags, e.g. "--capture-head 256"
READY_TIMEOUT=${READY_TIMEOUT:-30}
BPF_STATS=${BPF_STATS:-1}	# 0: leave kernel.bpf_stats_enabled alone (no BPF ns)
# USR1: read the observer's stats (SIGUSR1) at both ends of the measured window
# so ring bytes/drops cover exactly the window; none: divide the stats printed
# at exit by every request the observer saw (warm-up + measured); auto: USR1
# if `--help` mentions it (the default action of SIGUSR1 is to die).
STATS_SIGNAL=${STATS_SIGNAL:-auto}
# 1: pass --pid <app pid> so only the app is a target (other Node processes on
# a shared machine then add nothing to ring bytes and observer CPU); 0: the
# default targets (every Node process), which is what a user runs.
TARGET_PID=${TARGET_PID:-0}
SEED=${SEED:-$(( $(date +%s) % 100000 ))}
RESULTS=${RESULTS:-$HERE/results}
RUN_ID=${RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)}
OUT=$RESULTS/$RUN_ID

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- preflight
[ "$(id -u)" -eq 0 ] || die "needs root (BPF, sysctl): sudo $0"
[ "$(nproc)" -ge 2 ] || log "warning: fewer than 2 CPUs, pinning is meaningless"
if [ -x "$ROOT/scripts/install-deps.sh" ]; then
	"$ROOT/scripts/install-deps.sh" >&2 || die "scripts/install-deps.sh failed"
fi
for c in node wrk jq bpftool taskset sysctl; do
	command -v "$c" >/dev/null || die "missing $c (scripts/install-deps.sh installs it)"
done
[ -x "$OBSERVER" ] || die "no observer at $OBSERVER: run make first (make bench does)"
[[ "$ROUNDS" =~ ^[0-9]+$ && "$ROUNDS" -ge 1 ]] || die "ROUNDS must be a positive integer"

if [ "$STATS_SIGNAL" = auto ]; then
	STATS_SIGNAL=
	timeout 5 "$OBSERVER" --help 2>&1 | grep -q SIGUSR1 && STATS_SIGNAL=USR1
fi
[ "$STATS_SIGNAL" = none ] && STATS_SIGNAL=
CLK_TCK=$(getconf CLK_TCK)
SIGINT_DFL=
env --default-signal=INT true 2>/dev/null && SIGINT_DFL="env --default-signal=INT"
CONDS=(off)
for h in $HOOKS; do CONDS+=("on-$h"); done

mkdir -p "$OUT/logs"
exec 9>"$RESULTS/.lock"
flock -n 9 || die "another bench run holds $RESULTS/.lock"
ln -sfn "$RUN_ID" "$RESULTS/latest"
PHASES=$OUT/phases.jsonl
: >"$PHASES"

# ---------------------------------------------------------------- cleanup
# pid -> signal to stop it with; everything this script starts is listed here.
declare -A STARTED=()
BPF_STATS_OLD=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo "")

stop_pid() { # pid signal timeout_s: signal, wait, then SIGKILL
	local pid=$1 sig=$2 t=$3 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -"$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < t * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid ignored SIG$sig for ${t}s, killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}
started() { STARTED[$1]=$2; }
stopped() { unset 'STARTED[$1]'; }

cleanup() {
	local pid
	for pid in "${!STARTED[@]}"; do
		stop_pid "$pid" "${STARTED[$pid]}" 5
	done
	STARTED=()
	if [ "$BPF_STATS" = 1 ] && [ -n "$BPF_STATS_OLD" ]; then
		sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS_OLD" || true
	fi
}
on_signal() {
	trap '' INT TERM
	log "interrupted: stopping everything this run started"
	type wl_teardown >/dev/null 2>&1 && { wl_teardown || true; }
	cleanup
	if [ -s "$PHASES" ]; then
		log "partial results in $OUT"
		node "$HERE/lib/summarize.js" "$OUT" || true
	fi
	exit 130
}
trap on_signal INT TERM
trap cleanup EXIT

if [ "$BPF_STATS" = 1 ]; then
	sysctl -qw kernel.bpf_stats_enabled=1 || die "cannot enable kernel.bpf_stats_enabled"
fi

# ---------------------------------------------------------------- probes
# CPU of a process (all its threads, live and exited) in µs, from
# utime+stime of /proc/PID/stat (clock ticks: 10 ms resolution).
cpu_stat_us() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	s=${s##*) }	# comm may contain spaces and parentheses
	local -a f
	read -ra f <<<"$s"	# f[0] is field 3 (state): utime=f[11] stime=f[12]
	echo $(( (f[11] + f[12]) * 1000000 / CLK_TCK ))
}
# Same in ns from the scheduler (exact, but live threads only).
cpu_sched_ns() {
	local t sum=0 a
	for t in /proc/"$1"/task/*/schedstat; do
		read -r a _ <"$t" 2>/dev/null || continue
		sum=$((sum + a))
	done
	echo "$sum"
}
sum_over() { # fn pid...
	local fn=$1 p tot=0; shift
	for p in "$@"; do tot=$((tot + $($fn "$p"))); done
	echo "$tot"
}
# Busy time of every CPU in µs (from /proc/stat: all but idle and iowait).
machine_busy_us() {
	awk -v hz="$CLK_TCK" '/^cpu /{b=$2+$3+$4+$7+$8+$9; printf "%.0f\n", b*1000000/hz}' /proc/stat
}
# {"<id>":{"name":..,"run_time_ns":..,"run_cnt":..}} of the observer's programs.
bpf_snapshot() {
	[ -n "$OBS_PROG_IDS" ] || { echo '{}'; return; }
	bpftool prog show --json 2>/dev/null | jq -c --argjson ids "[$OBS_PROG_IDS]" '
		[.[] | select(.id as $i | $ids | index($i))
		     | {key: (.id | tostring),
		        value: {name, run_time_ns: (.run_time_ns // 0), run_cnt: (.run_cnt // 0)}}]
		| from_entries' || echo '{}'
}

# Tracing BPF programs on the host that are not ours (another observer, a
# bpftrace...): they tax the app in every phase, so `off` is not off. JSON list.
foreign_progs() {
	bpftool prog show --json 2>/dev/null | jq -c --argjson ours "[${OBS_PROG_IDS}]" '
		[.[] | select(.type | IN("tracepoint", "raw_tracepoint", "kprobe", "tracing", "perf_event"))
		     | select(.id as $i | $ours | index($i) | not) | {id, name, type}]' || echo '[]'
}
# "pid (cmdline)" of the processes holding BPF program ids $@ (from fdinfo).
prog_owners() {
	local id f pid
	for id in "$@"; do
		grep -l -E "^prog_id:[[:space:]]+$id\$" /proc/[0-9]*/fdinfo/* 2>/dev/null
	done | awk -F/ '{print $3}' | sort -un | while read -r pid; do
		printf '%s (%s) ' "$pid" "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-60)"
	done
}
warn_foreign() {
	local fp ids
	fp=$(foreign_progs)
	[ "$(jq length <<<"$fp")" -gt 0 ] || return 0
	ids=$(jq -r '.[].id' <<<"$fp")
	# shellcheck disable=SC2086
	log "WARNING: $(jq length <<<"$fp") tracing BPF program(s) not started by this run are attached" \
		"($(jq -r 'map(.name) | unique | join(", ")' <<<"$fp")), held by: $(prog_owners $ids)"
	log "WARNING: they tax the app in every phase (off is not off) and add noise; stop them for a real run"
}

# `mark start` / `mark end`: workloads call these right around the measured
# window; they snapshot every counter the phase record is built from.
mark() {
	local w=$1
	# stats line first at the start and last at the end: its window covers
	# the CPU window (the stats round trip is idle time for wrk workloads).
	if [ -n "${OBS_PID:-}" ] && [ "$STATS_SIGNAL" = USR1 ] && [ "$w" = start ]; then mark_stats "$w"; fi
	[ "$w" = start ] && M_foreign=$(foreign_progs)
	eval "M_${w}_t=\$(date +%s%N)"
	eval "M_${w}_app_us=\$(sum_over cpu_stat_us \"\${APP_PIDS[@]}\")"
	eval "M_${w}_app_ns=\$(sum_over cpu_sched_ns \"\${APP_PIDS[@]}\")"
	eval "M_${w}_busy_us=\$(machine_busy_us)"
	if [ -n "${OBS_PID:-}" ]; then
		eval "M_${w}_obs_us=\$(cpu_stat_us $OBS_PID)"
		eval "M_${w}_obs_ns=\$(cpu_sched_ns $OBS_PID)"
		eval "M_${w}_bpf=\$(bpf_snapshot)"
		if [ "$STATS_SIGNAL" = USR1 ] && [ "$w" = end ]; then mark_stats "$w"; fi
	else
		eval "M_${w}_obs_us=0 M_${w}_obs_ns=0 M_${w}_bpf='{}' M_${w}_stats=''"
	fi
}

mark_stats() {
	OBS_STATS_SEEN=$((OBS_STATS_SEEN + 1))
	kill -USR1 "$OBS_PID"
	eval "M_${1}_stats=\$(wait_stats_line $OBS_STATS_SEEN)"
}

# ---------------------------------------------------------------- observer
OBS_PID=
OBS_PROG_IDS=
OBS_STATS_SEEN=0

wait_stats_line() { # n: wait for the n-th stats line on the observer's stdout
	local n=$1 i line
	for ((i = 0; i < 50; i++)); do
		line=$(grep '"ev":"stats"' "$OBS_OUT" 2>/dev/null | sed -n "${n}p")
		if [ -n "$line" ]; then echo "$line"; return; fi
		sleep 0.1
	done
	log "observer printed no stats line after SIGUSR1"
	echo ''
}

obs_start() { # flavour tag
	local flavour=$1 tag=$2 before i t0 t1
	OBS_OUT=$OUT/logs/$tag.observer.out
	OBS_ERR=$OUT/logs/$tag.observer.err
	OBS_STATS_SEEN=0
	before=$(bpftool prog show --json 2>/dev/null | jq -c '[.[].id]')
	t0=$(date +%s%N)
	# shellcheck disable=SC2086
	local target=""
	if [ "$TARGET_PID" = 1 ] && [ ${#TARGET_PIDS[@]} -gt 0 ]; then
		target=$(printf -- '--pid %s ' "${TARGET_PIDS[@]}")
	fi
	# Background jobs of a script start with SIGINT ignored; give it back.
	# shellcheck disable=SC2086 # word splitting of the flag lists is wanted
	$SIGINT_DFL taskset -c "$LOAD_CPU" "$OBSERVER" --hooks "$flavour" --stats $target $OBSERVER_ARGS ${WL_OBS_ARGS:-} \
		>"$OBS_OUT" 2>"$OBS_ERR" </dev/null &
	OBS_PID=$!
	started "$OBS_PID" INT
	for ((i = 0; i < READY_TIMEOUT * 20; i++)); do
		grep -q ready "$OBS_ERR" 2>/dev/null && break
		kill -0 "$OBS_PID" 2>/dev/null || {
			tail -n 20 "$OBS_ERR" >&2
			die "observer exited before ready (log: $OBS_ERR)"
		}
		sleep 0.05
	done
	grep -q ready "$OBS_ERR" || die "observer not ready after ${READY_TIMEOUT}s (log: $OBS_ERR)"
	t1=$(date +%s%N)
	OBS_READY_MS=$(( (t1 - t0) / 1000000 ))
	# Its programs: those its pid holds (bpftool pids; bench/floor's noop_*
	# too), else the new handle_* ones.
	OBS_PROG_IDS=$(bpftool prog show --json 2>/dev/null | jq -r --argjson before "$before" --argjson pid "$OBS_PID" '
		[.[] | select((.name // "") | startswith("handle_"))] as $h
		| ([.[] | select(any(.pids[]?; .pid == $pid)) | .id]) as $own
		| (if ($own | length) > 0 then $own
		   else [$h[] | select(.id as $i | $before | index($i) | not) | .id] end)
		| map(tostring) | join(",")')
	[ -n "$OBS_PROG_IDS" ] || log "warning: no handle_* BPF programs found for the observer"
}

obs_stop() { # SIGINT; sets OBS_LAST_STATS to its last stats line
	local pid=$OBS_PID
	stop_pid "$pid" INT 15
	stopped "$pid"
	OBS_PID=
	OBS_PROG_IDS=
	OBS_LAST_STATS=$(grep '"ev":"stats"' "$OBS_OUT" 2>/dev/null | tail -n 1 || true)
}

# ---------------------------------------------------------------- load helpers
# Run wrk on LOAD_CPU for $2 seconds against URL $1; its report goes to $3.
# Sets WRK_REQUESTS.
run_wrk() {
	local url=$1 secs=$2 out=$3; shift 3
	taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${secs}s" --latency "$@" "$url" >"$out" 2>&1 &
	local pid=$!
	started "$pid" INT
	wait "$pid" || true
	stopped "$pid"
	WRK_REQUESTS=$(awk '/requests in/{print $1; exit}' "$out")
	[ -n "$WRK_REQUESTS" ] || { cat "$out" >&2; die "wrk printed no request count ($out)"; }
}
# Latency percentile from a wrk --latency report, in µs ("" if absent).
wrk_pct_us() {
	awk -v p="$2%" '$1 == p {
		v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		m = (u == "us") ? 1 : (u == "ms") ? 1000 : (u == "s") ? 1000000 : (u == "m") ? 60000000 : 1
		printf "%.1f\n", v * m; exit }' "$1"
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Die if something already listens on TCP port $1 (another run, a test...).
need_free_port() {
	! port_open "$1" || die "port $1 is already in use (another bench run?); set $2"
}
# Wait until TCP port $1 on 127.0.0.1 accepts connections from pid $2.
wait_port() {
	local i
	for ((i = 0; i < 200; i++)); do
		kill -0 "$2" 2>/dev/null || return 1
		port_open "$1" && return 0
		sleep 0.05
	done
	return 1
}

# ---------------------------------------------------------------- one phase
# Globals a workload sets in wl_setup: APP_PIDS (array: pids whose CPU is the
# "app CPU"), TARGET_PIDS (array: what --pid names when TARGET_PID=1; leave
# empty for a workload whose app must not be a target), WL_DESC, WL_UNIT (req|op), WL_TARGET_LOSS_PCT and
# WL_TARGET_ADDED_US (empty: no target), WL_TARGET_NAME.
# wl_run SECS LOGPREFIX MEASURE(0|1): load for SECS; when MEASURE=1 call
# `mark start`/`mark end` around the counted window; set WL_REQUESTS and
# optionally WL_EXTRA (a JSON object merged into the phase record).

run_phase() { # round pos cond
	local round=$1 pos=$2 cond=$3 flavour="" tag stats0="" stats1="" warm_req
	tag=$WL_NAME.r$round.$cond
	OBS_READY_MS=null
	if [[ $cond == on-* ]]; then
		flavour=${cond#on-}
		obs_start "$flavour" "$tag"
	fi
	WL_EXTRA='{}'
	wl_run "$WARMUP" "$OUT/logs/$tag.warmup" 0
	warm_req=$WL_REQUESTS
	WL_EXTRA='{}'
	wl_run "$PHASE_SECONDS" "$OUT/logs/$tag" 1
	local req=$WL_REQUESTS
	if [ -n "$flavour" ]; then
		obs_stop
		stats1=$OBS_LAST_STATS
		[ -n "$stats1" ] || log "warning: observer printed no stats line (${tag})"
		if [ "$STATS_SIGNAL" = USR1 ]; then stats0=$M_start_stats stats1=$M_end_stats; fi
	fi
	jq -nc \
		--arg workload "$WL_NAME" --arg unit "$WL_UNIT" --argjson round "$round" \
		--argjson pos "$pos" --arg cond "$cond" --arg hooks "$flavour" \
		--argjson t0 "$M_start_t" --argjson t1 "$M_end_t" \
		--argjson requests "$req" --argjson warm_requests "$warm_req" \
		--argjson app_us0 "$M_start_app_us" --argjson app_us1 "$M_end_app_us" \
		--argjson app_ns0 "$M_start_app_ns" --argjson app_ns1 "$M_end_app_ns" \
		--argjson busy0 "$M_start_busy_us" --argjson busy1 "$M_end_busy_us" \
		--argjson obs_us0 "$M_start_obs_us" --argjson obs_us1 "$M_end_obs_us" \
		--argjson obs_ns0 "$M_start_obs_ns" --argjson obs_ns1 "$M_end_obs_ns" \
		--argjson bpf0 "$M_start_bpf" --argjson bpf1 "$M_end_bpf" \
		--arg stats0 "$stats0" --arg stats1 "$stats1" \
		--argjson ready_ms "$OBS_READY_MS" --argjson extra "$WL_EXTRA" --argjson foreign "$M_foreign" \
		--arg sig "$STATS_SIGNAL" '
		def per(x): if $requests > 0 then x / $requests else null end;
		def st(s): if s == "" then null else (s | fromjson? // null) end;
		(st($stats0)) as $s0 | (st($stats1)) as $s1
		| ($bpf1 | to_entries | map(
			.key as $k | ($bpf0[$k] // {run_time_ns: 0, run_cnt: 0}) as $b
			| {name: .value.name, id: ($k | tonumber),
			   run_cnt: (.value.run_cnt - $b.run_cnt),
			   run_time_ns: (.value.run_time_ns - $b.run_time_ns)})) as $progs
		| (if $sig == "USR1" then $requests else $requests + $warm_requests end) as $stats_req
		| def sdelta(f): if $s1 == null then null
			else (($s1 | f) // 0) - (if $s0 == null then 0 else (($s0 | f) // 0) end) end;
		  def sper(f): (sdelta(f)) as $d
			| if $d == null or $stats_req == 0 then null else $d / $stats_req end;
		{workload: $workload, unit: $unit, round: $round, pos: $pos, cond: $cond,
		 hooks: (if $hooks == "" then null else $hooks end),
		 secs: (($t1 - $t0) / 1e9), requests: $requests,
		 rps: ($requests / (($t1 - $t0) / 1e9)),
		 app_cpu_us: ($app_us1 - $app_us0), app_cpu_us_per_req: per($app_us1 - $app_us0),
		 app_sched_us_per_req: per(($app_ns1 - $app_ns0) / 1000),
		 machine_busy_us_per_req: per($busy1 - $busy0),
		 obs_cpu_us_per_req: (if $hooks == "" then null else per($obs_us1 - $obs_us0) end),
		 obs_sched_us_per_req: (if $hooks == "" then null else per(($obs_ns1 - $obs_ns0) / 1000) end),
		 obs_ready_ms: $ready_ms,
		 bpf_ns_per_req: (if $hooks == "" or ($progs | map(.run_cnt) | add // 0) == 0 then null
			else per($progs | map(.run_time_ns) | add) end),
		 bpf_runs_per_req: (if $hooks == "" or ($progs | map(.run_cnt) | add // 0) == 0 then null
			else per($progs | map(.run_cnt) | add) end),
		 bpf_progs: $progs,
		 stats_window: (if $hooks == "" then null elif $sig == "USR1" then "measured" else "observer-lifetime" end),
		 stats_requests: (if $hooks == "" then null else $stats_req end),
		 ring_bytes_per_req: sper(.stats.ring_bytes),
		 data_events_per_req: sper(.stats.data_events),
		 bytes_captured_per_req: sper(.stats.bytes_captured),
		 drops: (if $s1 == null then null else
			($s1.drops // {} | with_entries(.value = (.value - (($s0.drops // {})[.key] // 0)))) end),
		 drops_total: (if $s1 == null then null else
			([($s1.drops // {})[]] | add // 0) - ([(($s0 // {}).drops // {})[]] | add // 0) end),
		 foreign_bpf_progs: ($foreign | length),
		 observer_stats: $s1}
		+ $extra' >>"$PHASES"
	local rec
	rec=$(tail -n 1 "$PHASES")
	log "$(jq -r '"  \(.workload) r\(.round) \(.cond | . + "      " | .[0:6]) \(.requests) \(.unit)s  \(.rps | floor) \(.unit)/s  app \(.app_cpu_us_per_req * 100 | round / 100) µs/\(.unit)"
		+ (if .hooks then "  bpf \(.bpf_ns_per_req // "?" | if type == "number" then round else . end) ns/\(.unit)  ring \(.ring_bytes_per_req // "?" | if type == "number" then round else . end) B/\(.unit)  drops \(.drops_total // "?")  obs \(.obs_sched_us_per_req // 0 | . * 100 | round / 100) µs/\(.unit)" else "" end)' <<<"$rec")"
	sleep "$SETTLE"
}

# ---------------------------------------------------------------- main
jq -n --arg run "$RUN_ID" --argjson rounds "$ROUNDS" --argjson phase "$PHASE_SECONDS" \
	--argjson warmup "$WARMUP" --arg hooks "$HOOKS" --arg workloads "$WORKLOADS" \
	--argjson app_cpu "$APP_CPU" --argjson load_cpu "$LOAD_CPU" --argjson conns "$CONNS" \
	--arg observer "$OBSERVER" --arg obs_args "$OBSERVER_ARGS" --argjson seed "$SEED" \
	--arg stats_signal "$STATS_SIGNAL" --argjson bpf_stats "$BPF_STATS" --argjson target_pid "$TARGET_PID" \
	--arg kernel "$(uname -r)" --arg node "$(node --version)" \
	--arg cpu "$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)" \
	--argjson ncpu "$(nproc)" --arg git "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)" \
	--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '
	{run: $run, rounds: $rounds, phase_seconds: $phase, warmup_seconds: $warmup,
	 hooks: ($hooks | split(" ") | map(select(. != ""))), workloads: ($workloads | split(" ") | map(select(. != ""))),
	 app_cpu: $app_cpu, load_cpu: $load_cpu, conns: $conns, observer: $observer,
	 observer_args: $obs_args, target_pid: $target_pid, seed: $seed, stats_signal: $stats_signal, bpf_stats: $bpf_stats,
	 kernel: $kernel, node: $node, cpu_model: $cpu, ncpu: $ncpu, git: $git, loadavg_start: $load,
	 workload_meta: {}}' >"$OUT/meta.json"

log "run $RUN_ID: workloads [$WORKLOADS], conditions [${CONDS[*]}], $ROUNDS rounds x ${PHASE_SECONDS}s (+${WARMUP}s warm-up), seed $SEED"
log "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (want < 0.3 for a real run)"
warn_foreign

for WL_NAME in $WORKLOADS; do
	wl_file=$HERE/workloads/$WL_NAME.sh
	[ -f "$wl_file" ] || die "no workload $WL_NAME ($wl_file)"
	unset -f wl_setup wl_run wl_teardown
	WL_DESC=$WL_NAME WL_UNIT=req WL_TARGET_NAME="" WL_TARGET_LOSS_PCT="" WL_TARGET_ADDED_US=""
	WL_OBS_ARGS=""	# observer flags of this workload (e.g. --listen for a scrape)
	APP_PIDS=() TARGET_PIDS=()
	# shellcheck source=/dev/null
	. "$wl_file"
	wl_setup
	[ ${#APP_PIDS[@]} -gt 0 ] || die "workload $WL_NAME set no APP_PIDS"
	tmp=$(mktemp)
	jq --arg w "$WL_NAME" --arg d "$WL_DESC" --arg u "$WL_UNIT" --arg tn "$WL_TARGET_NAME" \
		--arg tl "$WL_TARGET_LOSS_PCT" --arg ta "$WL_TARGET_ADDED_US" '
		.workload_meta[$w] = {desc: $d, unit: $u, target_name: $tn,
			target_loss_pct: ($tl | tonumber? // null), target_added_us: ($ta | tonumber? // null)}' \
		"$OUT/meta.json" >"$tmp" && mv "$tmp" "$OUT/meta.json"
	log "workload $WL_NAME: $WL_DESC (app pids ${APP_PIDS[*]} on CPU$APP_CPU)"
	round=0
	while read -r -a order; do
		round=$((round + 1))
		log "round $round/$ROUNDS: ${order[*]}"
		pos=0
		for cond in "${order[@]}"; do
			pos=$((pos + 1))
			run_phase "$round" "$pos" "$cond"
		done
	done < <(node "$HERE/lib/schedule.js" "$ROUNDS" "$SEED" "${CONDS[@]}")
	wl_teardown
done

cleanup
trap - EXIT
log "raw data: $PHASES, $OUT/phases.csv"
node "$HERE/lib/summarize.js" "$OUT" | tee "$OUT/summary.txt"
