#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two observer binaries under the same live load (live.sh), alternated
# ABBA for ROUNDS rounds, so that the drift of a shared VM falls on both:
# prints each run's figure and the median of the paired ratios B/A.
#   METRIC=cpu (default): the observer's CPU per request (µs).
#   METRIC=bpf: the time its BPF programs take per request (ns, live.sh
#     BPF=1), the total and, per program, the median ns/req of A and of B.
# Take the benchmark lock around it, or set LOCK=round to take it for each
# round (A and B) only, so that a long comparison leaves gaps for others.
#   bench/pipeline/ab.sh OBSERVER_A OBSERVER_B
#       env: ROUNDS (4), SECS (8), METRIC (cpu|bpf), LOCK (none|round), OBS_ARGS, ROUTES
set -euo pipefail
cd "$(dirname "$0")/../.."
A=$1 B=$2 ROUNDS=${ROUNDS:-4} SECS=${SECS:-8} METRIC=${METRIC:-cpu} LOCK=${LOCK:-none}
LOCKFILE=${LOCKFILE:-/tmp/sba-quiet.lock}
log=$(mktemp /tmp/sba-ab.XXXXXX.log)
# run BIN LABEL PORT: one live run; prints its figure, logs its per-program
# lines. Each run has its own metrics port: the last one's may be in TIME_WAIT.
OBS_PORT0=${OBS_PORT:-18291}
run() {
	local out
	export OBS_PORT=$3
	if [ "$METRIC" = bpf ]; then
		out=$(BPF=1 OBSERVER=$1 OUT=$(mktemp -d /tmp/sba-ab.XXXXXX) bench/pipeline/live.sh "$SECS")
		grep '^bpf ' <<<"$out" | sed "s/^/$2 /" >>"$log"
		awk '/^bpf total/ {print $3}' <<<"$out"
	else
		OBSERVER=$1 OUT=$(mktemp -d /tmp/sba-ab.XXXXXX) bench/pipeline/live.sh "$SECS" |
			awk '/^observer CPU/ {print $3}'
	fi
}
unit=us/req
[ "$METRIC" = bpf ] && unit="BPF ns/req"
ratios=()
for r in $(seq "$ROUNDS"); do
	[ "$LOCK" = round ] && { exec 9>"$LOCKFILE"; flock -x 9; }
	pa=$((OBS_PORT0 + 2 * (r % 20))) pb=$((OBS_PORT0 + 2 * (r % 20) + 1))
	if [ $((r % 2)) = 1 ]; then a=$(run "$A" A $pa); b=$(run "$B" B $pb); else b=$(run "$B" B $pb); a=$(run "$A" A $pa); fi
	[ "$LOCK" = round ] && { flock -u 9; exec 9>&-; sleep 1; }
	echo "round $r: A $a $unit, B $b $unit"
	[ -n "$a" ] && [ -n "$b" ] || { echo "round $r: a run failed, not counted"; continue; }
	ratios+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')")
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "B/A median %.3f over %d rounds (min %s, max %s)\n", m, NR, v[1], v[NR] }'
if [ "$METRIC" = bpf ]; then
	# per program, A and B: the run of median ns/req (its runs/req, ns/run)
	sort -k1,1 -k3,3 -k8,8n "$log" | awk '
		function flush() { if (!n) return
			printf "  %s %-24s %5.2f runs/req %6.0f ns/run %6.0f ns/req (median of %d)\n",
				who, prog, rr[int((n + 1) / 2)], nr[int((n + 1) / 2)], v[int((n + 1) / 2)], n
			n = 0 }
		$3 == "total" || $4 < 0.05 { next }
		$1 != who || $3 != prog { flush(); who = $1; prog = $3 }
		{ n++; v[n] = $8; rr[n] = $4; nr[n] = $6 }
		END { flush() }'
fi
rm -f "$log"
