/* SPDX-License-Identifier: Apache-2.0 */
/*
 * procscan.h - finding the target processes that already run at start-up.
 * The kernel side only sees exec and fork; processes that exec'd before the
 * observer started are found here, by the same rules, from /proc.
 */
#ifndef SBA_PROCSCAN_H
#define SBA_PROCSCAN_H

#include "config.h"
#include "loader.h"

/* Adds every running process that matches cfg to the targets map.
 * Returns the number of processes added, or -errno. */
int procscan_seed(struct loader *l, const struct sba_config *cfg);

#endif /* SBA_PROCSCAN_H */
