#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run.sh's hello workload with the cgroup_skb capture prototype as a
# condition (`on-skb`), next to `off` and, with HOOKS="skb tp", the real
# observer; then bench/skb/report.mjs adds wrk's CPU per request and the
# paired figures. Root. Knobs as bench/run.sh (ROUNDS, PHASE_SECONDS, ...).
#   sudo flock -x /tmp/sba-quiet.lock bench/skb/run.sh
#   sudo flock -x /tmp/sba-quiet.lock env HOOKS=skb BPF_STATS=0 bench/skb/run.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
"$here/build.sh" >/dev/null
if [[ " ${HOOKS:-skb tp} " == *" tp "* || " ${HOOKS:-skb tp} " == *" raw "* ]]; then
	[ -x "${OUTPUT:-$root/build}/sba-observer" ] || make -C "$root" >/dev/null
fi
results=${RESULTS:-$root/bench/results/skb}
run_id=${RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)}
export PATH="$here/bin:$PATH"
OBSERVER="$here/bin/observer" HOOKS=${HOOKS:-skb tp} WORKLOADS=hello TARGET_PID=${TARGET_PID:-1} \
	RESULTS=$results RUN_ID=$run_id "$root/bench/run.sh"
node "$here/report.mjs" "$results/$run_id" | tee "$results/$run_id/skb-report.txt"
