/* SPDX-License-Identifier: MIT */
/*
 * virt — the connection to libvirt.  The only code that includes libvirt's
 * headers (virt.c, virt-worker.c, virt-queue.c).
 *
 * Owns: libvirt's event implementation (registered once per process, before
 * the first connection, on the loop's sd_event via virt-event), the
 * connection (read-only, close callback, keepalive), reconnecting with
 * backoff, the full resync after every (re)connect, and the event
 * subscriptions (lifecycle, metadata change, device added/removed).
 *
 * Threads: every blocking libvirt call (open, register, list, GetXMLDesc,
 * GetState, close) runs on a worker thread (two of them), so a hung or
 * absent libvirtd never stalls the loop (zcrxctl keeps being answered).
 * libvirt's event callbacks run on the loop thread and only queue work for
 * the workers.  The workers handle the queue in order — the resync after
 * connecting first and alone, then the events, two domains at a time, each
 * domain's in order, with the domain's XML fetched at that moment — and
 * hand results back to the loop through an eventfd, so the user sees
 * resync, then events, each domain's in order (two domains' events may
 * arrive in either order).  Events are hints: each carries the domain's
 * state and live XML as read when a worker got to it.
 *
 * Must not: decide anything about attachments, or ever be asked about a
 * domain while a libvirt hook for it waits on zcrxd (the hook path works
 * from the hook's own XML; see virt-follow).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "domxml.h"
#include "virt-domain.h"

struct virt;

enum virt_conn_state {
	VIRT_CONN_CONNECTING = 0, /* the worker is opening the connection */
	VIRT_CONN_CONNECTED,
	VIRT_CONN_DISCONNECTED, /* lost or failed; a retry is scheduled */
	VIRT_CONN_STOPPED,      /* virt_stop() was called */
};

/* What libvirt says about a domain (virDomainState, folded). */
enum virt_run_state {
	VIRT_RUN_UNKNOWN = 0, /* not asked (no XML needed for this event) or failed */
	VIRT_RUN_RUNNING,     /* running or blocked */
	VIRT_RUN_PAUSED,      /* paused, pmsuspended */
	VIRT_RUN_STOPPING,    /* being shut down, crashed (process may remain) */
	VIRT_RUN_SHUTOFF,
	VIRT_RUN_GONE,        /* no such domain any more (transient, undefined) */
};

/* One domain as the worker read it.  dom is the parsed live XML (NULL when
 * not read or unreadable: see err); the callee may take it (set it NULL). */
struct virt_domain_info {
	uint8_t uuid[16];
	char name[DOMXML_NAME_MAX];
	enum virt_run_state run;
	struct domxml_domain *dom;
	char err[DOMXML_ERR_MAX];
	uint64_t event_usec; /* CLOCK_MONOTONIC when libvirt's event reached us (0: resync) */
	uint64_t read_usec;  /* CLOCK_MONOTONIC when the worker read (or handled) it */
};

struct virt_callbacks {
	/* The connection changed state; msg says why (libvirt's text). */
	void (*connection)(void *userdata, enum virt_conn_state state, const char *msg);
	/* After each (re)connect: every active domain, listed at listed_usec
	 * (CLOCK_MONOTONIC).  Domains the user knows as active but not listed
	 * here stopped while we were not looking — unless the user learned
	 * about them after listed_usec (a hook may have run meanwhile). */
	void (*resync)(void *userdata, struct virt_domain_info *doms, size_t n,
		       uint64_t listed_usec);
	/* One event (in.kind is VIRT_IN_LIFECYCLE, VIRT_IN_METADATA or
	 * VIRT_IN_DEVICE) with the domain's state and, for events that may
	 * need it (started, resumed, metadata, devices), its live XML; for a
	 * stop, the state only (it may have started again meanwhile). */
	void (*event)(void *userdata, const struct virt_input *in, struct virt_domain_info *info);
	/* Around results handled in one loop iteration (begin true, then
	 * false), so the user can commit once for a burst.  Optional. */
	void (*batch)(void *userdata, bool begin);
};

struct virt_options {
	const char *uri;               /* e.g. qemu:///system, test:///default */
	unsigned keepalive_interval_s; /* 0 = default 2 */
	unsigned keepalive_count;      /* 0 = default 3 */
	unsigned backoff_min_ms;       /* 0 = default 100 */
	unsigned backoff_max_ms;       /* 0 = default 5000 */
};

struct virt_status {
	enum virt_conn_state state;
	char uri[256];
	char last_error[256];
	uint64_t connects;   /* successful (re)connects */
	uint64_t failures;   /* failed attempts and losses */
	uint64_t events;     /* events received from libvirt */
	uint64_t queued;     /* jobs waiting for the worker now */
	uint64_t reads;      /* domains read (GetXMLDesc or GetState) for events */
	uint64_t direct;     /* events passed on without a worker (nothing to read) */
	uint64_t hooked;     /* of those, a run's boot events whose XML its start hook gave */
	uint64_t since_usec; /* CLOCK_MONOTONIC of the last state change */
};

/*
 * Set up libvirt for this process on ev (first call only: libvirt's event
 * implementation cannot be replaced later; a second call with another
 * sd_event gives -EBUSY).  Also silences libvirt's default error printer
 * and ignores SIGPIPE (libvirt writes to sockets that may be closed).
 */
int virt_global_init(sd_event *ev);

/* Create and start connecting (asynchronously). */
int virt_new(sd_event *ev, const struct virt_options *opts, const struct virt_callbacks *cb,
	     void *userdata, struct virt **ret);
/* Stop: no more callbacks after this returns.  Waits up to 2 s for the
 * worker (it may be stuck in a call to a hung libvirtd: then it is left
 * behind, and cleans up after itself when that call returns). */
struct virt *virt_free(struct virt *v);

/* Ask for a resync (e.g. after a queue overflow or on operator request). */
void virt_request_resync(struct virt *v);
void virt_get_status(struct virt *v, struct virt_status *ret);
/* A hook told the loop about a domain: from now on a stop event is checked
 * against the domain's state (GetState) before it is passed on — the stop of
 * a previous run may arrive after the next run's hook.  Without hooks a stop
 * is passed on as it came (events of a domain stay in order, and a start that
 * follows reads the live XML), without a call to libvirtd. */
void virt_note_hook(struct virt *v);
/* The start hook gave the live XML of run id (> 0) of the domain name/uuid:
 * that run's RESUMED and STARTED events need not read it again (libvirtd
 * runs the hook before it emits them; each event's domain carries its run's
 * id, so an event of another run still reads).  The STARTED event ends it;
 * so do the domain's stop, a reconnect, and another name in its slot. */
void virt_note_hook_run(struct virt *v, const char *name, const uint8_t uuid[16], int id);

const char *virt_conn_state_name(enum virt_conn_state s);
const char *virt_run_state_name(enum virt_run_state s);
bool virt_run_state_active(enum virt_run_state s);
