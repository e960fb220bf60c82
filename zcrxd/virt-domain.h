/* SPDX-License-Identifier: MIT */
/*
 * virt-domain — the per-domain state machine: what one libvirt domain is
 * doing, and whether its vNICs should hold queues.
 *
 * Owns: the decision attach / re-plan / detach / forget for every input —
 * lifecycle events (with libvirt's event and detail numbers), metadata and
 * device changes, hook calls, operator requests and the result of a resync
 * after (re)connecting.  Pure: no I/O, no clock, no libvirt headers (the
 * enum values are libvirt's, checked with _Static_assert in virt.c).
 *
 * The sequences it is built for were recorded on libvirtd 9.0 + QEMU
 * (research/libvirt.md §2.5): start gives RESUMED before STARTED; destroy
 * SHUTDOWN/2 then STOPPED/1; save SUSPENDED/0, STOPPED/4; restore STARTED/2,
 * RESUMED/2; migration source SUSPENDED/1, STOPPED/3; destination STARTED/1
 * (before the source pauses), RESUMED/1.  Events are hints: ATTACH and
 * REPLAN mean "read the live XML and plan from it".
 */
#pragma once

#include <stdbool.h>

/* virDomainEventType */
enum virt_ev {
	VIRT_EV_DEFINED = 0,
	VIRT_EV_UNDEFINED = 1,
	VIRT_EV_STARTED = 2,
	VIRT_EV_SUSPENDED = 3,
	VIRT_EV_RESUMED = 4,
	VIRT_EV_STOPPED = 5,
	VIRT_EV_SHUTDOWN = 6,
	VIRT_EV_PMSUSPENDED = 7,
	VIRT_EV_CRASHED = 8,
	VIRT_EV_MAX,
};

/* The details this machine looks at (virDomainEvent*DetailType). */
enum {
	VIRT_EV_STARTED_BOOTED = 0,
	VIRT_EV_STARTED_MIGRATED = 1,
	VIRT_EV_STARTED_RESTORED = 2,
	VIRT_EV_SUSPENDED_PAUSED = 0,
	VIRT_EV_SUSPENDED_MIGRATED = 1,
	VIRT_EV_RESUMED_UNPAUSED = 0,
	VIRT_EV_RESUMED_MIGRATED = 1,
	VIRT_EV_STOPPED_SHUTDOWN = 0,
	VIRT_EV_STOPPED_DESTROYED = 1,
	VIRT_EV_STOPPED_CRASHED = 2,
	VIRT_EV_STOPPED_MIGRATED = 3,
	VIRT_EV_STOPPED_SAVED = 4,
	VIRT_EV_STOPPED_FAILED = 5,
	VIRT_EV_SHUTDOWN_HOST = 2,
};

enum virt_input_kind {
	VIRT_IN_LIFECYCLE = 0, /* event + detail */
	VIRT_IN_METADATA,      /* METADATA_CHANGE (any type) */
	VIRT_IN_DEVICE,        /* DEVICE_ADDED / DEVICE_REMOVED */
	VIRT_IN_HOOK_ATTACH,   /* the hook at start/started (XML from stdin) */
	VIRT_IN_HOOK_DETACH,   /* the hook at stopped/release */
	VIRT_IN_OP_ATTACH,     /* zcrxctl attach by an operator */
	VIRT_IN_OP_DETACH,     /* zcrxctl detach by an operator */
	VIRT_IN_RESYNC_ACTIVE, /* listed as active after (re)connect */
	VIRT_IN_RESYNC_GONE,   /* known here but not active in the list */
};

struct virt_input {
	enum virt_input_kind kind;
	int event;  /* enum virt_ev, VIRT_IN_LIFECYCLE only */
	int detail;
};

enum virt_dom_state {
	VIRT_DOM_UNKNOWN = 0, /* never seen running or stopped */
	VIRT_DOM_SHUTOFF,
	VIRT_DOM_RUNNING,
	VIRT_DOM_PAUSED,
	VIRT_DOM_MIGRATING_OUT, /* source: paused for the final migration phase */
	VIRT_DOM_INCOMING,      /* destination: started, not yet resumed */
};

enum virt_action {
	VIRT_ACT_NONE = 0,
	VIRT_ACT_ATTACH, /* it runs and holds nothing yet: read its XML, attach */
	VIRT_ACT_REPLAN, /* it runs and may have changed: read its XML, plan again */
	VIRT_ACT_DETACH, /* it no longer runs here: release everything it holds */
	VIRT_ACT_FORGET, /* undefined while shut off: drop the record */
};

struct virt_dom_sm {
	enum virt_dom_state state;
	bool attached; /* the attach decision was made (hook, event or operator) */
	bool held;     /* an operator detached it: no automatic attach until next start */
};

void virt_dom_sm_init(struct virt_dom_sm *sm);

/* Feed one input; returns what to do and (if ret_reason) a short static
 * text for logs, e.g. "started (booted)". */
enum virt_action virt_dom_step(struct virt_dom_sm *sm, const struct virt_input *in,
			       const char **ret_reason);

/* True while the domain has a QEMU process here (running, paused, incoming,
 * migrating out). */
bool virt_dom_state_active(enum virt_dom_state s);

/*
 * The libvirt hook operation (argv[2], argv[3] of /etc/libvirt/hooks/qemu)
 * mapped to an input: start/begin and started/begin attach, stopped/end and
 * release/end detach, everything else (prepare, migrate, restore, reconnect)
 * is not acted on (returns -1).  conf/libvirt/qemu.d/zcrx does the same.
 */
int virt_hook_input(const char *op, const char *subop, enum virt_input_kind *ret);

const char *virt_dom_state_name(enum virt_dom_state s);
const char *virt_action_name(enum virt_action a);
/* "started", "stopped", ...; "?" out of range. */
const char *virt_ev_name(int event);
/* "booted", "destroyed", ... for the pair; "" when unknown. */
const char *virt_ev_detail_name(int event, int detail);
