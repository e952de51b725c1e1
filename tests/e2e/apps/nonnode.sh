#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# nonnode.sh - TCP traffic between two processes that are not node.
# redis-server on a free port and redis-cli SET/GET $E2E_MARKER. Both are
# children of this shell, which is not node either, so none of their pids
# may appear in any event. Prints one JSON line with the pids.
set -eu
port=$(( 20000 + $$ % 20000 ))
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
	--daemonize no --loglevel warning >/dev/null 2>&1 &
srv=$!
i=0
until redis-cli -p "$port" ping >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "redis-server did not start" >&2; exit 1; }
	sleep 0.05
done
redis-cli -p "$port" set e2e:marker "$E2E_MARKER" >/dev/null &
cli1=$!
wait $cli1
redis-cli -p "$port" get e2e:marker >/dev/null &
cli2=$!
wait $cli2
redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
wait $srv || true
printf '{"sh":%d,"server":%d,"clients":[%d,%d]}\n' $$ "$srv" "$cli1" "$cli2"
