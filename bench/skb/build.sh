#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds build/skb/skb (the loader, with skb.bpf.c and probe.bpf.c inside).
set -eu
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
out=${OUTPUT:-$root/build}/skb
. ../lib/bpfskel.sh
for b in skb probe; do
	bpf_skel "$b.bpf.c" "$out" -mcpu=v3 -Wall -Werror
done
cc -O2 -Wall -Wextra -I. -I"$out" skb.c -lbpf -o "$out/skb"
echo "$out/skb"
