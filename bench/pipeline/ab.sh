#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two observer binaries under the same live load (live.sh), alternated
# ABBA for ROUNDS rounds, so that the drift of a shared VM falls on both:
# prints each run's observer CPU per request and the median of the paired
# ratios B/A. Take the benchmark lock around it.
#   bench/pipeline/ab.sh OBSERVER_A OBSERVER_B     env: ROUNDS (4), SECS (8), OBS_ARGS, ROUTES
set -euo pipefail
cd "$(dirname "$0")/../.."
A=$1 B=$2 ROUNDS=${ROUNDS:-4} SECS=${SECS:-8}
run() { OBSERVER=$1 OUT=$(mktemp -d /tmp/sba-ab.XXXXXX) bench/pipeline/live.sh "$SECS" |
	awk '/^observer CPU/ {print $3}'; }
ratios=()
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then a=$(run "$A"); b=$(run "$B"); else b=$(run "$B"); a=$(run "$A"); fi
	echo "round $r: A $a us/req, B $b us/req"
	ratios+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')")
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "B/A median %.3f over %d rounds (min %s, max %s)\n", m, NR, v[1], v[NR] }'
