/* SPDX-License-Identifier: MIT */
/*
 * binder-vhost — the real binder backend: struct binder_ops over the
 * vhost_zcrx generic netlink family (lib/vhost_zcrx.h).
 *
 * It resolves the family (the kernel autoloads the module by its alias;
 * ENOENT = module absent), listens on the generic netlink controller's
 * "notify" group so a family that appears or disappears later is noticed,
 * and joins the family's "events" group for STATE_NTF.  Requests go over
 * one socket, notifications arrive on another, non-blocking one
 * (binder_ops.event_fd / process_events).
 *
 * Transport.  In production both sockets are NETLINK_GENERIC (genl.h).
 * For tests the same code can talk to a fake module over two connected
 * SOCK_SEQPACKET unix sockets carrying the very same netlink messages
 * (tests/lib/fake-binder.h): every message is built, sent, received and
 * parsed by the code below either way; only send/recv and group membership
 * differ.  The unix convention: connect twice to the fake's path; the second
 * connection sends one NLMSG_NOOP with NLM_F_ACK, waits for the ACK, and
 * from then on receives every notification (controller and "events").
 *
 * Must not: know attachments, NICs by name, plans; log above debug.
 */
#pragma once

#include <stdint.h>

#include "binder.h"

struct binder_vhost;

struct binder_vhost_counters {
	uint64_t requests;      /* requests sent */
	uint64_t errors;        /* requests the module refused (any errno) */
	uint64_t bad_messages;  /* replies/notifications refused by binder-msg */
	uint64_t notifications; /* STATE_NTF received */
	uint64_t resyncs;       /* notification overruns (ENOBUFS) */
	uint64_t appeared, vanished;
};

/* Over NETLINK_GENERIC (the kernel). */
int binder_vhost_new(struct binder_vhost **ret);
/* Over a fake module listening on a unix SOCK_SEQPACKET socket at path:
 * tests only, opened by a test program (build/tests/zcrxd-fake), never by
 * zcrxd. */
int binder_vhost_new_unix(const char *path, struct binder_vhost **ret);
struct binder_vhost *binder_vhost_free(struct binder_vhost *bv);

extern const struct binder_ops binder_vhost_ops;
/* { &binder_vhost_ops, bv } */
struct binder_backend binder_vhost_backend(struct binder_vhost *bv);

const struct binder_vhost_counters *binder_vhost_get_counters(const struct binder_vhost *bv);
/* "netlink" or "unix:<path>" */
const char *binder_vhost_transport(const struct binder_vhost *bv);
/* The resolved family id, 0 when absent. */
uint16_t binder_vhost_family_id(const struct binder_vhost *bv);
