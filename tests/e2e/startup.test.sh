#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# How the observer starts, fails to start, and stops: each way of failing
# gives one clear message and the documented exit code; tracefs and bpffs are
# mounted when missing, and said so; a stopped observer can be restarted at
# once. Needs root. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
OBS=${SBA_OBSERVER:-${OUTPUT:-build}/sba-observer}
pass=0 fail=0 skip=0
err=$(mktemp) out=$(mktemp)
trap 'rm -f "$err" "$out"' EXIT

ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; sed 's/^/     /' "$err" | tail -n 5; fail=$((fail + 1)); }
skipped() { echo "skip $1: $2"; skip=$((skip + 1)); }

# expect NAME RC PATTERN -- CMD...: CMD exits RC and stderr matches PATTERN.
expect() {
	local name=$1 rc=$2 pat=$3; shift 4
	"$@" >"$out" 2>"$err" </dev/null
	local got=$?
	if [ "$got" -eq "$rc" ] && grep -qE "$pat" "$err"; then ok "$name"; else
		echo "     exit $got, expected $rc; stderr should match: $pat"; bad "$name"; fi
}

# start_wait ARGS...: starts the observer in the background, waits for ready.
start_wait() {
	"$OBS" --listen none "$@" >"$out" 2>"$err" &
	obs_pid=$!
	for _ in $(seq 100); do
		grep -q 'ready:' "$err" && return 0
		kill -0 "$obs_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

if [ "$(id -u)" -ne 0 ]; then
	echo "skip: needs root"; echo "0 passed, 0 failed, 1 skipped"; exit 0
fi

expect "unknown option: exit 2" 2 "unrecognized option|see --help" -- "$OBS" --no-such-option
expect "bad number: exit 2, says the range" 2 "not a number between 0 and 16384" -- "$OBS" --capture-head 99999
expect "bad hooks: exit 2" 2 "not raw, tp or skb" -- "$OBS" --hooks fast
expect "pid and exe together: exit 2" 2 "cannot be combined" -- "$OBS" --pid 1 --exe-name node
expect "missing BTF file: exit 1, names it" 1 "error: cannot read BTF file /nonexistent/btf" -- "$OBS" --btf /nonexistent/btf
expect "no capabilities: exit 1, says which" 1 "error: missing capabilities: .*CAP_BPF and CAP_PERFMON" -- \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$OBS"
expect "not a cgroup2 dir: exit 1" 1 "not a cgroup v2 directory" -- "$OBS" --cgroup /tmp

# tracefs: only --hooks tp needs it; mounted when missing.
if mountpoint -q /sys/kernel/tracing && ! umount /sys/kernel/tracing 2>/dev/null; then
	skipped "tracefs mounted when missing" "tracefs is in use by someone else"
else
	if start_wait --hooks tp && grep -q "mounted tracefs at /sys/kernel/tracing" "$err" &&
		mountpoint -q /sys/kernel/tracing; then
		ok "tracefs mounted when missing, and said so"
	else
		bad "tracefs mounted when missing, and said so"
	fi
	kill -INT "$obs_pid" 2>/dev/null; wait "$obs_pid" 2>/dev/null
fi

# bpffs: --pin-maps needs it; mounted when missing; the pin is removed at exit.
if mountpoint -q /sys/fs/bpf && ! umount /sys/fs/bpf 2>/dev/null; then
	skipped "bpffs mounted when missing" "bpffs is in use by someone else"
else
	if start_wait --pin-maps /sys/fs/bpf/sba-test && grep -q "mounted bpffs at /sys/fs/bpf" "$err" &&
		[ -e /sys/fs/bpf/sba-test/sba_counters ]; then
		kill -INT "$obs_pid"; wait "$obs_pid"
		if [ ! -e /sys/fs/bpf/sba-test/sba_counters ]; then ok "bpffs mounted when missing, pin removed at exit"
		else bad "bpffs mounted when missing, pin removed at exit"; fi
	else
		kill -INT "$obs_pid" 2>/dev/null; wait "$obs_pid" 2>/dev/null
		bad "bpffs mounted when missing, pin removed at exit"
	fi
	rmdir /sys/fs/bpf/sba-test 2>/dev/null
fi

# SIGTERM detaches everything: exit 0, none of the programs it loaded is left
# (ids seen only while it ran), and a new observer starts at once.
# bpftool fails when a program goes away while it lists them (other tests
# load and free programs too): list again until one listing succeeds.
prog_ids() {
	local out
	for _ in 1 2 3 4 5; do
		out=$(bpftool prog show 2>/dev/null) && break
		sleep 0.1
	done
	sed -nE 's/^([0-9]+): .* name handle_.*/\1/p' <<<"$out" | sort
}
for flavour in raw tp; do
	before=$(prog_ids)
	if start_wait --hooks "$flavour"; then
		ours=$(comm -13 <(echo "$before") <(prog_ids))
		kill -TERM "$obs_pid"; wait "$obs_pid"; rc=$?
		# The kernel frees programs after an RCU grace period: allow 3 s.
		for _ in $(seq 30); do
			left=$(comm -12 <(echo "$ours") <(prog_ids) | wc -l)
			[ "$left" -eq 0 ] && break
			sleep 0.1
		done
		if [ "$rc" -eq 0 ] && [ -n "$ours" ] && [ "$left" -eq 0 ] && start_wait --hooks "$flavour"; then
			ok "SIGTERM detaches all ($flavour) and a restart works at once"
		else
			echo "     exit $rc, $(echo "$ours" | wc -w) programs loaded, $left left after exit"
			bad "SIGTERM detaches all ($flavour) and a restart works at once"
		fi
		kill -INT "$obs_pid" 2>/dev/null; wait "$obs_pid" 2>/dev/null
	else
		bad "SIGTERM detaches all ($flavour): did not start"
	fi
done

# --hooks skb in a container: a cgroup namespace of its own (a child cgroup,
# a cgroup2 mount of it) hides the rest of the hierarchy. With the host's PID
# namespace the observer attaches at the host's root through /proc/N/root and
# sees a server outside its cgroup; in a PID namespace of its own too, it
# cannot, and says so.
cg_parent=$(awk '$(NF-2) == "cgroup2" && $4 == "/" { print $5; exit }' /proc/self/mountinfo)
if [ -z "$cg_parent" ] || ! command -v unshare >/dev/null; then
	skipped "skb in a cgroup namespace" "no cgroup2 mount or no unshare"
else
	cg=$cg_parent/sba-startup-$$ mnt=/tmp/sba-startup-cg-$$ srv_cg=$cg_parent/sba-startup-srv-$$
	mkdir "$cg" "$srv_cg"
	# the server in a cgroup of its own, outside the observer's namespace:
	# /proc names it right only in the host's cgroup namespace
	scripts/in-cgroup "$srv_cg" node -e \
		'require("http").createServer((q, s) => s.end("ok")).listen(0, "127.0.0.1", function () { console.log(this.address().port) })' >"$out.port" &
	srv=$!
	for _ in $(seq 50); do [ -s "$out.port" ] && break; sleep 0.1; done
	port=$(cat "$out.port")
	# in_ns PIDNS: the observer in $cg, in its own cgroup (and PID) namespace
	in_ns() {
		scripts/in-cgroup "$cg" unshare -C -m $1 sh -c "mkdir -p $mnt && mount -t cgroup2 none $mnt && exec $OBS --hooks skb --pid $srv --listen none --trace=http --poll-ms 100" \
			>"$out" 2>"$err" &
		obs_pid=$!
		for _ in $(seq 100); do grep -q 'ready:' "$err" && break; sleep 0.1; done
		for i in 1 2 3; do curl -s "http://127.0.0.1:$port/ns/$i" >/dev/null; done
		sleep 0.5
		# unshare --fork ignores SIGINT while it waits: its child gets it
		pkill -INT -P "$obs_pid"; kill -INT "$obs_pid" 2>/dev/null; wait "$obs_pid" 2>/dev/null
	}
	in_ns ""
	n=$(grep -c '"ev":"http"' "$out")
	if grep -q "in a cgroup namespace of our own: --hooks skb attaches below the host's cgroup v2 root, /proc/[12]/root.*, in the host's cgroup namespace" "$err" &&
	   grep -q "packet capture attached to cgroup /proc/[12]/root.*/sba-startup-srv-$$ (process $srv)" "$err" && [ "$n" -eq 3 ]; then
		ok "skb in a cgroup namespace: attaches at a server's cgroup outside it, sees its requests"
	else
		echo "     $n of 3 requests seen"; bad "skb in a cgroup namespace: attaches at a server's cgroup outside it, sees its requests"
	fi
	in_ns "-p --fork --mount-proc --kill-child=SIGINT"
	if grep -q "is a cgroup namespace's root, not the host's: --hooks skb sees only the sockets of processes under it" "$err"; then
		ok "skb in cgroup and PID namespaces of its own: says it sees only its subtree"
	else
		bad "skb in cgroup and PID namespaces of its own: says it sees only its subtree"
	fi
	kill "$srv"; wait "$srv" 2>/dev/null
	rm -f "$out.port"
	for _ in $(seq 50); do [ -s "$cg/cgroup.procs" ] || break; sleep 0.1; done	# the observer's exit
	rmdir "$cg" "$srv_cg" "$mnt" 2>/dev/null
fi

# --hooks skb puts its packet programs on the targets' own cgroups (here
# two servers', one started after the observer), nowhere else; every
# request of both is seen, from a client outside; a cgroup removed is let go.
if [ -z "$cg_parent" ] || ! command -v bpftool >/dev/null; then
	skipped "skb scoped to the targets' cgroups" "no cgroup2 mount or no bpftool"
else
	top=$cg_parent/sba-scope-$$
	mkdir -p "$top/a" "$top/b"
	# serve DIR: a node server in cgroup DIR, its port in $out.DIR
	serve() {
		rm -f "$out.$1"
		scripts/in-cgroup "$top/$1" node -e \
			'require("http").createServer((q, s) => s.end("ok")).listen(0, "127.0.0.1", function () { console.log(this.address().port) })' >"$out.$1" &
		for _ in $(seq 50); do [ -s "$out.$1" ] && break; sleep 0.1; done
	}
	ours() { bpftool cgroup show "$1" 2>/dev/null | grep -c handle_skb_; }
	links() { ls -l "/proc/$obs_pid/fd" 2>/dev/null | grep -c 'anon_inode:bpf_link'; }
	mport=$((20000 + $$ % 20000))
	gauge() { curl -s "http://127.0.0.1:$mport/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
	serve a; srv_a=$!
	if start_wait --hooks skb --cgroup "$top" --trace=http --poll-ms 100 --listen "127.0.0.1:$mport" --no-auth; then
		serve b; srv_b=$!
		for _ in $(seq 30); do grep -q "attached to cgroup $top/b" "$err" && break; sleep 0.1; done
		for i in 1 2 3; do
			curl -s "http://127.0.0.1:$(cat "$out.a")/a/$i" >/dev/null
			curl -s "http://127.0.0.1:$(cat "$out.b")/b/$i" >/dev/null
		done
		sleep 0.5
		na=$(grep -c "\"ev\":\"http\",\"side\":\"server\",\"pid\":$srv_a," "$out")
		nb=$(grep -c "\"ev\":\"http\",\"side\":\"server\",\"pid\":$srv_b," "$out")
		at=$(printf '%s %s %s' "$(ours "$top/a")" "$(ours "$top/b")" "$(ours "$cg_parent")")
		at="$at; metrics $(gauge sba_observer_skb_cgroups) $(gauge sba_observer_skb_uncovered_targets_total)"
		if grep -q "packet capture attached to cgroup $top/a (process $srv_a)" "$err" &&
		   grep -q "packet capture attached to cgroup $top/b (process $srv_b)" "$err" &&
		   [ "$at" = "2 2 0; metrics 2 0" ] && [ "$na" -eq 3 ] && [ "$nb" -eq 3 ]; then
			ok "skb scoped: programs on each server's cgroup only, one started later; all requests seen"
		else
			echo "     requests seen $na/3 and $nb/3; programs on a, b, root (and the metrics' count, uncovered): $at"
			bad "skb scoped: programs on each server's cgroup only, one started later; all requests seen"
		fi
		before=$(links)
		kill "$srv_b"; wait "$srv_b" 2>/dev/null
		for _ in $(seq 50); do rmdir "$top/b" 2>/dev/null && break; sleep 0.1; done
		for _ in $(seq 30); do [ "$(links)" -lt "$before" ] && break; sleep 0.1; done
		if [ "$((before - $(links)))" -eq 2 ] && [ "$(gauge sba_observer_skb_cgroups)" = 1 ]; then
			ok "skb scoped: a removed cgroup's two links are let go"
		else
			echo "     bpf links $before before, $(links) after; sba_observer_skb_cgroups $(gauge sba_observer_skb_cgroups)"; bad "skb scoped: a removed cgroup's two links are let go"
		fi
		kill -INT "$obs_pid"; wait "$obs_pid" 2>/dev/null
	else
		bad "skb scoped: did not start"
	fi
	kill "$srv_a" 2>/dev/null; wait "$srv_a" 2>/dev/null
	rm -f "$out.a" "$out.b"
	for _ in $(seq 50); do rmdir "$top/a" "$top/b" "$top" 2>/dev/null; [ -d "$top" ] || break; sleep 0.1; done
fi

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
