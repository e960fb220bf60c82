/* SPDX-License-Identifier: MIT */
/*
 * nic-monitor — the daemon's table of observed NICs (struct nic keyed by
 * ifindex), kept current inside the sd-event loop.
 *
 * Sources: rtnetlink link events (add/del/up/down/rename), the ethtool
 * "monitor" group (CHANNELS/RINGS/FEATURES/RSS notifications), netdev
 * "mgmt" (dev add/del/change) and netdev "page-pool" (a memory provider
 * bound or gone restarts its queue: the queues are read again).  Notifications only say *what* to re-read:
 * bursts are coalesced per NIC and re-observed once from a deferred source.
 * A changed model bumps nic->generation; a re-read that finds the same
 * content (no-op notifications exist in both directions) changes nothing.
 * ENOBUFS on any socket means events were lost: a full resync follows.
 * Rules have no notifications, so the reconcile's timer (ReconcileIntervalSec)
 * has everything re-read (nic_monitor_reread).  Devices vanish quietly: a
 * failing read of a device that is gone removes it, it does not log an
 * error per request.
 *
 * Owns: the table, the notification sockets and their event sources.  Must
 * not: change any NIC, log above debug (the manager reports changes).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "nic.h"

struct nic_monitor;

enum nic_change {
	NIC_CHANGE_ADDED = 1,
	NIC_CHANGE_UPDATED,
	NIC_CHANGE_REMOVED,
};

/* what: NIC_OBSERVE_* bits whose content changed (all for ADDED/REMOVED).
 * nic is the new state (the old one for REMOVED); valid during the call. */
typedef void (*nic_monitor_cb)(struct nic_monitor *m, const struct nic *nic,
			       enum nic_change change, unsigned what, void *userdata);

struct nic_monitor_stats {
	uint64_t notifications; /* messages received from the kernel */
	uint64_t refreshes;     /* NIC re-reads */
	uint64_t changes;       /* re-reads that found new content */
	uint64_t resyncs;       /* full resyncs (start, ENOBUFS, the interval's re-read) */
	uint64_t overruns;      /* ENOBUFS seen */
	uint64_t link_only;     /* interval re-reads of a link of no interest: link only */
	uint64_t catch_up_reads;   /* catch-ups that read the rtnl socket */
	uint64_t catch_up_skipped; /* catch-ups that knew it held nothing for them */
};

/* Open the notification sockets, subscribe, read every link once (blocking)
 * and register the event sources on ev.  be is borrowed. */
int nic_monitor_new(sd_event *ev, struct nic_backend be, struct nic_monitor **ret,
		    struct kerror *err);
struct nic_monitor *nic_monitor_free(struct nic_monitor *m);
void nic_monitor_set_callback(struct nic_monitor *m, nic_monitor_cb cb, void *userdata);

/* Another layer's part of the model (caps.binder from the zero-copy binder):
 * called on every NIC after each observation, before it is compared and
 * stored.  Setting it decorates the NICs already in the table. */
typedef void (*nic_monitor_decorate_fn)(struct nic *nic, void *userdata);
void nic_monitor_set_decorator(struct nic_monitor *m, nic_monitor_decorate_fn fn, void *userdata);
/* The decorator's inputs changed: apply it to every NIC again (changes are
 * notified like any other). */
void nic_monitor_redecorate(struct nic_monitor *m);

/* The RSS contexts another layer needs to see (the ones zcrxd owns) where
 * the kernel cannot list them (nic->rss_listed false, before 6.12): fn
 * writes up to max ids for nic and returns how many.  After each read of
 * such a NIC's RSS state the monitor reads each of them by id (ops
 * rss_get) into nic->rss, or nic->rss_gone when the kernel says it does
 * not exist.  Setting it reads the NICs in the table again. */
#define NIC_MONITOR_CTX_IDS_MAX 256
typedef size_t (*nic_monitor_ctx_ids_fn)(const struct nic *nic, uint32_t *ids, size_t max,
					 void *userdata);
void nic_monitor_set_ctx_ids(struct nic_monitor *m, nic_monitor_ctx_ids_fn fn, void *userdata);
/* That read by id, on its own (for callers that observe through a
 * backend without a monitor): each of ids[0..n) that nic neither shows
 * nor knows to be gone goes into nic->rss or nic->rss_gone (-ENOENT or
 * -EINVAL); another answer leaves it unknown.  Nothing where nic lists its
 * contexts or has no RSS table. */
void nic_monitor_read_contexts(struct nic_backend be, struct nic *nic, const uint32_t *ids,
			       size_t n);

size_t nic_monitor_count(const struct nic_monitor *m);
/* In ifindex order; NULL past the end. */
const struct nic *nic_monitor_at(const struct nic_monitor *m, size_t i);
const struct nic *nic_monitor_get(const struct nic_monitor *m, int ifindex);
const struct nic *nic_monitor_find(const struct nic_monitor *m, const char *name);

/* Re-read parts of one NIC now (after a change zcrxd made); 0, or -ENODEV
 * when the NIC is gone (it is then removed). */
int nic_monitor_refresh(struct nic_monitor *m, int ifindex, unsigned what);
/* nic_monitor_refresh() of several devices: the ones the table holds
 * read in one call of the backend where it has observe_many (one
 * hand-over to zcrxd's NIC thread for all of them), up to 32 at a time. */
int nic_monitor_refresh_many(struct nic_monitor *m, const int *ifindexes, size_t n, unsigned what);
/* When the cause of the caller's work (a request, a libvirt event, a
 * notification) was read, for nic_monitor_catch_up(): what it must read.
 * The loop (sd-event) looks at every socket (epoll_wait) at the start of
 * each turn, marks the readable ones pending and then dispatches one
 * source; a link made before the cause was announced on the rtnl socket
 * before the cause was sent. */
enum nic_catch_up {
	/* in this turn of the loop, or outside the loop: a cause read after
	 * the turn's look may follow a link announced after it too, so the
	 * socket is read (one recvmsg, -EAGAIN when empty) */
	NIC_CATCH_UP_READ,
	/* in an earlier turn, and the caller runs from a source the loop
	 * dispatches (a deferred run): what was announced before the cause
	 * was there at this turn's look, so the socket is read only when
	 * that look found it readable (the source pending) and no catch-up
	 * of this turn read it to the end since; outside a dispatch of the
	 * monitor's loop (tests, start-up): as _READ */
	NIC_CATCH_UP_TURN,
	/* a catch-up after the cause was read has read the socket (a
	 * request's check before its run, a run's later rounds): nothing is
	 * read, only what that one queued is observed */
	NIC_CATCH_UP_DONE,
};
/* Read the link notifications that since says may be queued and observe
 * the links they name, now, instead of at the loop's next turn.  true: the
 * table holds every link that existed when the cause was read, so a name
 * it does not hold named no link then (no kernel call needed to be sure);
 * false: notifications were lost (a resync is due), ask the kernel. */
bool nic_monitor_catch_up(struct nic_monitor *m, enum nic_catch_up since);
/* Re-read every link now. */
int nic_monitor_resync(struct nic_monitor *m);
/* The interval's re-read (the reconcile's timer calls it, ReconcileIntervalSec):
 * every link re-read, but those of no interest (below) only their link
 * attributes; the links listed and the NICs the table holds read up to 32
 * in one call of the backend (ops observe_many: one hand-over to zcrxd's
 * NIC thread for all of it).
 * Each NIC read in full records when (nic->read_all_usec). */
int nic_monitor_reread(struct nic_monitor *m);
/* Which NICs the interval re-read reads in full (channels, rings, RSS,
 * rules, ...): another layer's (the NICs zcrxd manages or owns something
 * on); the others, macvtaps and foreign NICs, get their link attributes
 * only -- with thousands of vNICs, reading each one's ethtool state every
 * interval is work for nothing.  NULL: all.  A resync (start, lost
 * notifications) and the notifications themselves still read everything. */
typedef bool (*nic_monitor_interest_fn)(const struct nic *nic, void *userdata);
void nic_monitor_set_interest(struct nic_monitor *m, nic_monitor_interest_fn fn, void *userdata);
struct nic_monitor_stats nic_monitor_stats(const struct nic_monitor *m);
/* Receive buffer of the notification sockets (default 4 MiB); a smaller one
 * overflows sooner (tests use it to exercise the ENOBUFS resync). */
int nic_monitor_set_rcvbuf(struct nic_monitor *m, int bytes);

/* Which parts differ between two observations (NIC_OBSERVE_* bits);
 * counters (qstats) and the generation are not content. */
unsigned nic_diff(const struct nic *a, const struct nic *b);
