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

/* Longest reason text a module gives with a state (VHOST_ZCRX_REASON_MSG_MAX). */
#define BINDER_REASON_MSG_MAX 128

struct binder_binding {
	uint32_t id;
	int ifindex;
	uint32_t queue;
	int tap_ifindex;
	uint32_t fallback; /* enum binder_fallback */
	enum binder_state state;
	int reason; /* errno with BROKEN/DEGRADED, 0 otherwise */
	char reason_msg[BINDER_REASON_MSG_MAX]; /* the module's words for it, "" when none */
	bool has_stats;
	struct binder_stats stats;
};

/* Something the module (or the generic netlink controller) announced. */
enum binder_event_type {
	BINDER_EVENT_STATE = 1, /* STATE_NTF: id changed to state (reason = errno) */
	BINDER_EVENT_GONE,      /* id was torn down by the module (NIC or tap went away) */
	BINDER_EVENT_APPEARED,  /* the family was registered: resolve and probe again */
	BINDER_EVENT_VANISHED,  /* the family went away: every binding is gone */
	BINDER_EVENT_RESYNC,    /* notifications were lost: dump and compare */
};

struct binder_event {
	enum binder_event_type type;
	uint32_t id;             /* STATE, GONE */
	enum binder_state state; /* STATE, GONE (BROKEN) */
	int reason;              /* STATE, GONE: errno, 0 = none */
	char reason_msg[BINDER_REASON_MSG_MAX]; /* STATE, GONE: the module's words, "" = none */
};

typedef void (*binder_event_fn)(const struct binder_event *ev, void *userdata);

/*
 * Every call returns 0 or -errno and fills *err (errno, operation, the
 * module's extack text) on failure.  When the module is absent every call but
 * resolve returns -ENOENT with BINDER_ABSENT_MSG.
 */
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

	/* Added for notifications (may be NULL in a backend without them). */
	/* An fd that becomes readable when events are pending, -1 if none. */
	int (*event_fd)(void *be);
	/* Drain pending events without blocking, calling fn for each.  Returns
	 * 0, or -errno when the event source failed (fn then got RESYNC when
	 * a resync can repair it). */
	int (*process_events)(void *be, binder_event_fn fn, void *userdata);
	/* True after a successful resolve and until the family vanishes. */
	bool (*available)(void *be);
};

struct binder_backend {
	const struct binder_ops *ops;
	void *be;
};

/* The degraded reason an attachment shows while the module is absent. */
#define BINDER_ABSENT_MSG "kernel module vhost_zcrx not available"

/* Names (binder.c): "pending", "active", "degraded", "broken"; "drop", "copy". */
const char *binder_state_name(enum binder_state s);
const char *binder_fallback_name(uint32_t fallback);
const char *binder_event_type_name(enum binder_event_type t);
/* "needs-hds,copy-fallback" (or "none") into buf; returns buf. */
const char *binder_features_format(uint64_t features, char *buf, size_t size);
/* Parse "pending"/"active"/...; -EINVAL when unknown. */
int binder_state_from_name(const char *s, enum binder_state *ret);
/*
 * Does a BIND refused with err (positive errno) speak for the whole NIC?
 * EOPNOTSUPP (the driver or the module cannot do it on this NIC) and ENOENT
 * (the module went away) do: no queue of the NIC can be bound.  Any other
 * refusal (EBUSY: the queue has another provider, EEXIST: queue or tap
 * already bound, ENOSPC, EINVAL, ENODEV, ...) is about that one (NIC, queue,
 * tap) and must not cost the other attachments of the NIC their zero-copy.
 */
bool binder_refusal_is_nic_wide(int err);
