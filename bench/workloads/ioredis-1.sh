# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Workload "ioredis-1" (issue 5): bench/workloads/ioredis.sh with one command
# outstanding at a time (each GET/SET waits for the previous reply).
# shellcheck source=bench/workloads/ioredis.sh
. "$HERE/workloads/ioredis.sh"
IOREDIS_DEPTH=1
