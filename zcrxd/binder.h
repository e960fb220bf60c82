/* SPDX-License-Identifier: MIT */
/*
 * binder — the ops table for zero-copy binders (DESIGN.md §7).  The real
 * backend speaks the vhost_zcrx generic netlink family (binder-vhost.c); a
 * test-only fake in tests/lib/ implements the same table.
 *
 * Must not: know about attachments, plans or libvirt.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kerror.h"

enum binder_state {
	BINDER_STATE_PENDING = 0, /* waiting for guest buffers */
	BINDER_STATE_ACTIVE = 1,
	BINDER_STATE_DEGRADED = 2, /* copy fallback in use */
	BINDER_STATE_BROKEN = 3,
};

enum binder_fallback {
	BINDER_FALLBACK_DROP = 0,
	BINDER_FALLBACK_COPY = 1,
};

enum binder_feature {
	BINDER_FEATURE_NEEDS_HDS = 1ull << 0,
	BINDER_FEATURE_COPY_FALLBACK = 1ull << 1,
};

struct binder_probe {
	uint64_t features; /* enum binder_feature bits */
	uint32_t max_bindings;
};

struct binder_stats {
	uint64_t rx_packets, rx_bytes, zc_packets, copy_packets, drop_nobuf, bufs_posted;
};

struct binder_binding {
	uint32_t id;
	int ifindex;
	uint32_t queue;
	int tap_ifindex;
	uint32_t fallback; /* enum binder_fallback */
	enum binder_state state;
	int reason; /* errno with BROKEN/DEGRADED, 0 otherwise */
	bool has_stats;
	struct binder_stats stats;
};

struct binder_ops {
	const char *name;
	/* 0 when the family/module is there, -ENOENT when it is absent. */
	int (*resolve)(void *be, struct kerror *err);
	int (*probe)(void *be, int ifindex, struct binder_probe *ret, struct kerror *err);
	int (*bind)(void *be, int ifindex, uint32_t queue, int tap_ifindex, uint32_t fallback,
		    uint32_t *ret_id, struct kerror *err);
	int (*unbind)(void *be, uint32_t id, struct kerror *err);
	int (*get)(void *be, uint32_t id, struct binder_binding *ret, struct kerror *err);
	/* All bindings the module holds; *ret is malloc'd. */
	int (*dump)(void *be, struct binder_binding **ret, size_t *ret_n, struct kerror *err);
};

struct binder_backend {
	const struct binder_ops *ops;
	void *be;
};

const char *binder_state_name(enum binder_state s);
