# shellcheck shell=bash disable=SC2154 # tmp is set by the suite that sources this
# SPDX-License-Identifier: Apache-2.0
# What the shell suites (tests/e2e/*.test.sh) share: the counters, the
# ok/bad/skip lines, stopping the processes they started, and the summary
# line tests/run.sh adds up. Source it once `tmp` (a directory removed at
# exit) is set; append the pid of every background process to `pids`.
# STOP_SIGNAL (default INT) is sent first, KILL 5 s later.
pass=0 fail=0 skip=0 todo=0
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill -"${STOP_SIGNAL:-INT}" "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { echo "ok   $1"; pass=$((pass + 1)); }
# bad NAME [DETAIL...]: each detail on a line of its own, indented
bad() { echo "FAIL $1"; shift; for l in "$@"; do echo "     $l"; done; fail=$((fail + 1)); }
skipped() { echo "skip $1: $2"; skip=$((skip + 1)); }
finish() {
	[ "$todo" -gt 0 ] && echo "($todo todo: see the lines above)"
	if [ "$skip" -gt 0 ]; then echo "$pass passed, $fail failed, $skip skipped"
	else echo "$pass passed, $fail failed"; fi
	[ "$fail" -eq 0 ]
	exit $?
}
