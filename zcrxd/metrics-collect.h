/* SPDX-License-Identifier: MIT */
/*
 * metrics-collect — gathers GetMetrics' collection from the daemon's parts:
 * the NIC table, the reconciler (attachments, pools, counters) and the
 * binder (availability, bindings and their STATS).
 *
 * Owns: the mapping from those models to metrics.h entries.  Must not:
 * change anything or ask the kernel (bindings' STATS come from the binder's
 * last dump).
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
	const struct reconcile *reconcile; /* may be NULL */
	struct binder_api *binder;         /* may be NULL */
};

int metrics_collect(struct metrics *out, const struct metrics_sources *src);
