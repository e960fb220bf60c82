/* SPDX-License-Identifier: MIT */
/*
 * metrics-collect — gathers GetMetrics' collection from the daemon's parts:
 * the NIC table, the reconciler (attachments, pools, counters) and the
 * binder (availability, bindings and their STATS).
 *
 * Owns: the mapping from those models to metrics.h entries.  Must not:
 * change anything or ask the kernel itself.  The one question per scrape
 * is the binder's (binder_api_refresh: a GET dump), because the bindings'
 * STATS counters move without notifications and would otherwise be as old
 * as the last reconcile (forever with ReconcileIntervalSec=0).
 */
#pragma once

#include <stdint.h>

struct metrics;
struct nic_monitor;
struct reconcile;
struct binder_api;

struct metrics_sources {
	const char *version;
	uint64_t uptime_usec;
	const struct nic_monitor *monitor; /* may be NULL */
	struct reconcile *reconcile;       /* may be NULL */
	struct binder_api *binder;         /* may be NULL */
};

int metrics_collect(struct metrics *out, const struct metrics_sources *src);
