#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what sba-observer needs to build and test on Debian 12, and nothing
# when it is all there already (so `make run` and `make test` can call it every
# time). Needs root for apt-get. npm packages of the test apps are installed by
# the suites themselves with `npm ci` into their own folders.
set -eu

# command -> Debian package that provides it
need_cmds=(
	"clang:clang" "llvm-strip:llvm" "bpftool:bpftool" "pkg-config:pkg-config"
	"cc:gcc" "make:make" "git:git" "node:nodejs" "npm:npm" "curl:curl"
	"redis-server:redis-server" "wrk:wrk" "prometheus:prometheus" "promtool:prometheus" "amtool:prometheus-alertmanager"
	"setpriv:util-linux" "ip:iproute2" "jq:jq" "openssl:openssl"
)
need_files=(
	"/usr/include/bpf/libbpf.h:libbpf-dev" "/usr/include/gelf.h:libelf-dev"
	"/usr/include/zlib.h:zlib1g-dev" "/usr/include/microhttpd.h:libmicrohttpd-dev"
	"/usr/include/gnutls/gnutls.h:libgnutls28-dev" "/usr/include/nettle/sha2.h:nettle-dev"
)

missing=()
for pair in "${need_cmds[@]}"; do
	cmd=${pair%%:*} pkg=${pair#*:}
	PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
for pair in "${need_files[@]}"; do
	file=${pair%%:*} pkg=${pair#*:}
	[ -e "$file" ] || missing+=("$pkg")
done
# libFuzzer runtime for the fuzzers in the test suite
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 ||
	[ "$(uname -m)" != x86_64 ] || missing+=("libclang-rt-14-dev")

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# prometheus from Debian starts a service on install; the tests run their own.
if command -v systemctl >/dev/null 2>&1; then
	systemctl disable --now prometheus prometheus-alertmanager prometheus-node-exporter redis-server >/dev/null 2>&1 || true
fi
echo "install-deps: done"
