# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # WL_* are read by run.sh
# Workload "express50-half" (issue 3): express50.sh paced at about 50 % of
# the rate this machine reaches unpaced. wrk2 is not available: wrk's Lua
# delay() hook makes each of the $CONNS connections wait DELAY_MS between a
# response and its next request, DELAY_MS = CONNS * 1000 / (max_rps / 2)
# (max_rps: an unpaced 4 s run after the JIT warm-up, observer off), then
# corrected once by the rate a 4 s paced run reaches (the response time adds
# to each period). The rate reached is measured per phase (rps) and
# reported, not assumed.
# shellcheck source=bench/workloads/express50.sh
. "$HERE/workloads/express50.sh"

wl_setup() {
	exp_start_app
	[ "${EXP_MAX_RPS:-0}" -gt 0 ] || die "express50-half: no calibration rate"
	EXP_DELAY_MS=$(( (CONNS * 1000 * 2 + EXP_MAX_RPS / 2) / EXP_MAX_RPS ))
	[ "$EXP_DELAY_MS" -ge 1 ] || EXP_DELAY_MS=1
	# the response time adds to each connection's period: correct once by
	# what a paced run reaches
	local got
	DELAY_MS=$EXP_DELAY_MS run_wrk "http://127.0.0.1:$EXP_PORT" 4 "$OUT/logs/express50.calibrate-half" -s "$EXP_DIR/express50.lua"
	got=$(awk '/^Requests\/sec:/{printf "%d", $2}' "$OUT/logs/express50.calibrate-half")
	EXP_DELAY_MS=$(( EXP_DELAY_MS * got * 2 / EXP_MAX_RPS ))
	[ "$EXP_DELAY_MS" -ge 1 ] || EXP_DELAY_MS=1
	log "express50-half: unpaced $EXP_MAX_RPS req/s, a first paced run $got req/s, pacing at DELAY_MS=$EXP_DELAY_MS per connection"
	WL_DESC="express50 paced to ~50 % (wrk Lua delay() ${EXP_DELAY_MS} ms/conn, $CONNS conns; unpaced calibration $EXP_MAX_RPS req/s)"
	WL_UNIT=req
	WL_TARGET_NAME="issue 3"
	WL_TARGET_LOSS_PCT=""
	WL_TARGET_ADDED_US=""
}
