#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the floor's no-op observer (noop.c, noop.bpf.c) into
# ${OUTPUT:-build}/floor/noop and prints its path.
set -eu
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
out=${OUTPUT:-$root/build}/floor
. ../lib/bpfskel.sh
bpf_skel noop.bpf.c "$out"
cc -O2 -Wall -I"$out" noop.c -lbpf -o "$out/noop"
echo "$out/noop"
