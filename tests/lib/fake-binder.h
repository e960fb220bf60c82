/* SPDX-License-Identifier: MIT */
/*
 * fake-binder — a test-only FAKE vhost_zcrx kernel module.
 *
 * No kernel here has the module, so tests run the production binder backend
 * (zcrxd/binder-vhost.c) against this fake: it listens on a unix
 * SOCK_SEQPACKET socket and speaks the very netlink messages the module would
 * (controller GETFAMILY with ops and groups, PROBE, BIND, UNBIND, GET do and
 * dump, extack errors, STATE_NTF and NEWFAMILY/DELFAMILY notifications), see
 * binder-vhost.h for the transport convention.  Its bindings live in the fake,
 * not in the daemon, so they survive a daemon restart (free the binder_vhost
 * and connect a new one, or restart zcrxd against tests/tools/fake-vhost-zcrx).
 *
 * It models: bind accepted or refused (per NIC, one-shot, or by a test hook
 * that looks at the fake NIC), duplicate queue/tap (EEXIST), MAX_BINDINGS
 * (ENOSPC), state changes with STATE_NTF, teardown when a NIC or tap goes
 * away (explicitly, or by watching rtnetlink for RTM_DELLINK), and the
 * family appearing and disappearing.
 *
 * Thread model: the fake serves in its own thread (fake_binder_start) or in
 * the caller's loop (fake_binder_serve).  Control calls may come from any
 * thread; a notification they cause has been written to every listener's
 * socket when they return, so a test can process events without sleeping.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "binder.h"

struct binder_vhost;
struct fake_binder;

#define FAKE_BINDER_FAMILY_ID 0x2a
#define FAKE_BINDER_EVENTS_GROUP 0x2b

struct fake_binder_options {
	bool absent;          /* family not registered at start */
	bool check_links;     /* BIND/PROBE: ENODEV unless the ifindex exists in this netns */
	bool watch_links;     /* tear bindings down on RTM_DELLINK (this netns) */
	bool auto_active;     /* a new binding goes ACTIVE right after BIND (with STATE_NTF) */
	bool no_features_set; /* use features below even when 0 */
	uint64_t features;    /* PROBE FEATURES (default NEEDS_HDS | COPY_FALLBACK) */
	uint32_t max_bindings; /* per NIC, 0 = 64 */
};

/* Listen on path (unlinked first).  o may be NULL. */
int fake_binder_new(const char *path, const struct fake_binder_options *o, struct fake_binder **ret);
/* Listen on vhost_zcrx.sock in a new directory /tmp/zxb-<tag>-XXXXXX, which
 * fake_binder_free() removes again. */
int fake_binder_new_tmp(const char *tag, const struct fake_binder_options *o,
			struct fake_binder **ret);
/* Stops the thread, closes every connection, unlinks the socket. */
struct fake_binder *fake_binder_free(struct fake_binder *fb);
const char *fake_binder_path(const struct fake_binder *fb);

/* Serve in a thread of its own. */
int fake_binder_start(struct fake_binder *fb);
/* Or serve in the caller: handle what is ready within timeout_ms. */
int fake_binder_serve(struct fake_binder *fb, int timeout_ms);

/* The production backend connected to this fake (binder_vhost_new_unix). */
int fake_binder_connect(struct fake_binder *fb, struct binder_vhost **ret);

/* --- control (any thread) --- */
/* Register (NEWFAMILY) or unregister (DELFAMILY: every binding is dropped). */
void fake_binder_set_present(struct fake_binder *fb, bool present);
/* The next BIND fails with err (positive errno) and extack msg. */
void fake_binder_refuse_next_bind(struct fake_binder *fb, int err, const char *msg);
/* PROBE and BIND on ifindex fail with err (0 clears). */
void fake_binder_refuse_nic(struct fake_binder *fb, int ifindex, int err, const char *msg);
/* FEATURES that PROBE reports for ifindex (0 = every NIC). */
void fake_binder_set_features(struct fake_binder *fb, int ifindex, uint64_t features);
void fake_binder_set_auto_active(struct fake_binder *fb, bool on);
/* Change a binding's state and send STATE_NTF; -ENOENT if no such id. */
int fake_binder_set_state(struct fake_binder *fb, uint32_t id, enum binder_state state, int reason);
int fake_binder_set_stats(struct fake_binder *fb, uint32_t id, const struct binder_stats *s);
/* A NIC or tap went away: its bindings are torn down with STATE_NTF
 * BROKEN/ENODEV.  Returns how many. */
int fake_binder_link_gone(struct fake_binder *fb, int ifindex);
/* Copy of the bindings (up to max); returns the total count. */
size_t fake_binder_bindings(struct fake_binder *fb, struct binder_binding *v, size_t max);
/* A test hook consulted on every BIND that passed the fake's own checks:
 * return 0 to accept or a positive errno (with text in msg) to refuse.
 * Runs in the serving thread with the fake locked: do not call back. */
typedef int (*fake_binder_bind_check_fn)(int ifindex, uint32_t queue, int tap_ifindex,
					 char *msg, size_t msg_size, void *userdata);
void fake_binder_set_bind_check(struct fake_binder *fb, fake_binder_bind_check_fn fn,
				void *userdata);
/* Called with one line per request the module answered, e.g.
 * "BIND ifindex=3 queue=5 tap=9 fallback=copy -> 1" or "UNBIND 1 -> ENOENT".
 * Same thread rules as the bind check. */
typedef void (*fake_binder_observer_fn)(const char *line, void *userdata);
void fake_binder_set_observer(struct fake_binder *fb, fake_binder_observer_fn fn, void *userdata);
/* Requests answered so far (every kind). */
unsigned fake_binder_request_count(struct fake_binder *fb);

/*
 * The same control as text, one command per line (tests/tools/fake-vhost-zcrx
 * serves it on <path>.ctl):
 *   present 0|1            refuse-next ERRNO [MSG]      refuse IFINDEX ERRNO|0 [MSG]
 *   features IFINDEX|* N   auto-active 0|1             state ID STATE [ERRNO]
 *   stats ID RXP RXB ZC COPY DROP BUFS                 gone IFINDEX
 *   bind IFINDEX QUEUE TAP [copy|drop]   (as if an earlier zcrxd had bound it)
 *   list                   log                          count
 * ERRNO is a number or a name (EOPNOTSUPP); STATE pending|active|degraded|broken.
 * Writes the answer lines to out, the last one "ok" or "error: ...".  Returns
 * 0 or -EINVAL.
 */
int fake_binder_control(struct fake_binder *fb, const char *line, char *out, size_t out_size);
