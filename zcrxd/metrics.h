/* SPDX-License-Identifier: MIT */
/*
 * metrics — io.zcrx.Manager.GetMetrics: the daemon's state as Prometheus
 * text exposition format (version 0.0.4), suitable for node_exporter's
 * textfile collector (`zcrxctl metrics > dir/zcrx.prom.tmp && mv ...`).
 *
 * The manager fills a collection (daemon counters, one entry per NIC, one
 * per attachment with its queues and bindings) in a callback; this module
 * renders it and serves the method.  Series:
 *   daemon:      zcrx_info, zcrx_uptime_seconds, zcrx_binder_available,
 *                zcrx_kernel_errors_total, zcrx_reconcile_{runs,repairs}_total,
 *                zcrx_binder_{requests,errors,notifications,bad_messages}_total
 *   per NIC:     zcrx_nic_{channels,pool_queues,pool_used_queues,attachments,
 *                degraded_attachments,failed_attachments,binder_supported}
 *   per attachment: zcrx_attachment_state{state}, zcrx_attachment_zero_copy,
 *                zcrx_attachment_reason{reason}
 *   per bound queue: zcrx_binding_state{state}, zcrx_binding_errno,
 *                zcrx_binding_{rx_packets,rx_bytes,zc_packets,copy_packets,
 *                drop_nobuf,bufs_posted}_total
 * Attachment and binding series carry domain, mac, nic (and queue) labels.
 *
 * Owns: metric names, help texts, label escaping, the method.  Must not:
 * gather anything itself (the manager does) or talk to the kernel.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "binder.h"

struct ipc_server;
struct metrics;

struct metrics_daemon {
	const char *version;
	uint64_t uptime_usec;
	uint64_t kernel_errors; /* every refusal by the kernel, NIC and binder */
	uint64_t reconcile_runs, reconcile_repairs;
	uint64_t state_syncs;
	uint64_t state_writes;
	uint64_t state_compactions;
	uint64_t state_compaction_usec_max;
	/* the commit sync under way: for how long, replies waiting (0, 0: none) */
	uint64_t state_sync_usec;
	uint64_t state_sync_waiting;
	bool binder_available;
	uint64_t binder_requests, binder_errors, binder_notifications, binder_bad_messages;
};

struct metrics_nic {
	const char *name;
	uint32_t channels;  /* RX queues in use */
	uint32_t pool;      /* queues reserved for dedicated use */
	uint32_t pool_used; /* of those, leased to attachments */
	unsigned attachments, degraded, failed;
	int binder; /* 1 the module supports it, 0 not (or absent), -1 unknown */
};

struct metrics_queue {
	uint32_t queue;
	bool bound;
	uint32_t binding_id;
	enum binder_state state;
	int reason; /* errno */
	bool has_stats;
	struct binder_stats stats;
};

struct metrics_attachment {
	const char *domain, *mac, *nic;
	const char *state; /* "pending", "active", "degraded", "failed" */
	size_t n_reasons;
	const char *const *reasons; /* reason codes ("no-zero-copy", ...) */
	size_t n_queues;
	const struct metrics_queue *queues;
};

/* A collection being filled.  The add functions copy what they get. */
int metrics_new(struct metrics **ret);
struct metrics *metrics_free(struct metrics *m);
void metrics_set_daemon(struct metrics *m, const struct metrics_daemon *d);
int metrics_add_nic(struct metrics *m, const struct metrics_nic *n);
int metrics_add_attachment(struct metrics *m, const struct metrics_attachment *a);

/* The text (malloc'd, NUL-terminated, ends with a newline). */
int metrics_render(const struct metrics *m, char **ret);

/* Serve io.zcrx.Manager.GetMetrics: collect fills the collection on every
 * call (return -errno to fail the call).  src must outlive the server. */
struct metrics_source {
	int (*collect)(struct metrics *m, void *userdata);
	void *userdata;
};
int metrics_register_methods(struct ipc_server *s, const struct metrics_source *src);

#define METRICS_FORMAT "prometheus-text-0.0.4"
