# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034,SC2153 # WL_*/APP_PIDS are read by run.sh
# Workload "tax-syscall": the global tax per syscall, without network noise.
# bench/apps/syscall-loop.c (not Node, never a target) loops on getppid() +
# read(/dev/zero) on APP_CPU; "op" = one iteration (2 syscalls). Its CPU per op
# on/off is what an attached observer adds to every syscall of every process
# on the host: with `--hooks raw` both syscalls enter sys_enter/sys_exit
# programs; with `--hooks tp` only the read does (and getppid costs nothing).
# Sourced by bench/run.sh, which documents the wl_* contract.

wl_setup() {
	command -v cc >/dev/null || die "missing cc (Debian package gcc)"
	mkdir -p "$OUT/bin"
	cc -O2 -o "$OUT/bin/syscall-loop" "$HERE/apps/syscall-loop.c" || die "cannot build syscall-loop"
	WL_DESC="syscall loop (non-target, C): getppid + read(/dev/zero, 1) per op, pinned to CPU$APP_CPU"
	WL_UNIT=op
	WL_TARGET_NAME="" WL_TARGET_LOSS_PCT="" WL_TARGET_ADDED_US=""
	SYSLOOP_OUT=$OUT/logs/syscall-loop.out
	taskset -c "$APP_CPU" "$OUT/bin/syscall-loop" >"$SYSLOOP_OUT" 2>&1 </dev/null &
	SYSLOOP_PID=$!
	started "$SYSLOOP_PID" TERM
	local i
	for ((i = 0; i < 100; i++)); do grep -q ready "$SYSLOOP_OUT" && break; sleep 0.05; done
	grep -q ready "$SYSLOOP_OUT" || die "syscall-loop did not start"
	APP_PIDS=("$SYSLOOP_PID")
}

sysloop_count() { # ask for the count, print it
	local n
	n=$(wc -l <"$SYSLOOP_OUT")
	kill -USR1 "$SYSLOOP_PID"
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(wc -l <"$SYSLOOP_OUT")" -gt "$n" ] && break
		sleep 0.01
	done
	tail -n 1 "$SYSLOOP_OUT"
}

wl_run() { # secs logprefix measure (the loop never stops: just count a window)
	local secs=$1 measure=$3 c0 c1
	if [ "$measure" = 1 ]; then mark start; fi
	c0=$(sysloop_count)
	sleep "$secs"
	c1=$(sysloop_count)
	if [ "$measure" = 1 ]; then mark end; fi
	WL_REQUESTS=$((c1 - c0))
}

wl_teardown() {
	if [ -n "${SYSLOOP_PID:-}" ]; then
		stop_pid "$SYSLOOP_PID" TERM 5
		stopped "$SYSLOOP_PID"
		SYSLOOP_PID=
	fi
}
