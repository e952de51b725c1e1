#!/bin/bash
# pingpong.sh SRV_CPU CLI_CPU [N] - BPF ns per run of the observer's programs
# on a plain loopback ping-pong (pingpong.py: a request-sized write, a
# response-sized reply), the server the only target. What the programs cost
# with warm caches, to compare with what they cost inside a Node app.
# HOOKS=skb|tp|raw (default skb), OBS=binary (default build/sba-observer).
set -euo pipefail
cd "$(dirname "$0")/../.."
OBS=${OBS:-build/sba-observer}
old=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
coproc PP { python3 bench/skb/pingpong.py "$1" "$2" "${3:-100000}"; }
read -r -u "${PP[0]}" pid
"$OBS" --hooks "${HOOKS:-skb}" --pid "$pid" --listen none >/dev/null 2>&1 & obs=$!
sleep 2
echo go >&"${PP[1]}"
read -r -u "${PP[0]}" res
echo "client: $res"
bpftool -j prog show | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    n = p.get("name", "")
    if n.startswith("handle_") and p.get("run_cnt"):
        print(f"  {n:24} {p[\"run_cnt\"]:>9} runs {p[\"run_time_ns\"] / p[\"run_cnt\"]:7.0f} ns/run")'
kill -INT $obs; wait $obs 2>/dev/null || true
sysctl -qw kernel.bpf_stats_enabled="$old"
