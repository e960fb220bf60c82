// SPDX-License-Identifier: MIT
/*
 * virt-domain — per-domain state machine (see virt-domain.h).
 *
 * Owns: the transition table.  Must not: do I/O, look at XML, know about
 * NICs or attachments beyond the one "attached" bit.
 */
#include <stddef.h>
#include <string.h>

#include "virt-domain.h"

void virt_dom_sm_init(struct virt_dom_sm *sm)
{
	memset(sm, 0, sizeof(*sm));
	sm->state = VIRT_DOM_UNKNOWN;
}

bool virt_dom_state_active(enum virt_dom_state s)
{
	switch (s) {
	case VIRT_DOM_RUNNING:
	case VIRT_DOM_PAUSED:
	case VIRT_DOM_MIGRATING_OUT:
	case VIRT_DOM_INCOMING:
		return true;
	case VIRT_DOM_UNKNOWN:
	case VIRT_DOM_SHUTOFF:
		return false;
	}
	return false;
}

/* The domain runs here: attach unless that is done or an operator said no. */
static enum virt_action want_attach(struct virt_dom_sm *sm)
{
	if (sm->attached || sm->held)
		return VIRT_ACT_NONE;
	sm->attached = true;
	return VIRT_ACT_ATTACH;
}

/* It stopped here.  Detach unless we know there is nothing to release. */
static enum virt_action went_away(struct virt_dom_sm *sm)
{
	bool known_clean = sm->state == VIRT_DOM_SHUTOFF && !sm->attached;

	sm->state = VIRT_DOM_SHUTOFF;
	sm->attached = false;
	sm->held = false;
	return known_clean ? VIRT_ACT_NONE : VIRT_ACT_DETACH;
}

static enum virt_action lifecycle(struct virt_dom_sm *sm, int event, int detail,
				  const char **reason)
{
	switch (event) {
	case VIRT_EV_STARTED:
		/* booted, migrated in, restored, from snapshot, woken up: a new
		 * QEMU process whose vNICs get queues.  On a migration
		 * destination this comes before the source pauses; the macvtap
		 * exists already. */
		if (!virt_dom_state_active(sm->state))
			sm->held = false; /* a new run: an earlier operator detach is over */
		sm->state = detail == VIRT_EV_STARTED_MIGRATED ? VIRT_DOM_INCOMING :
								 VIRT_DOM_RUNNING;
		*reason = detail == VIRT_EV_STARTED_MIGRATED ? "migrated in" :
			  detail == VIRT_EV_STARTED_RESTORED ? "restored" :
							       "started";
		return want_attach(sm);
	case VIRT_EV_RESUMED:
		/* On start, QEMU's RESUMED comes before STARTED: act on the first. */
		if (!virt_dom_state_active(sm->state))
			sm->held = false;
		sm->state = VIRT_DOM_RUNNING;
		*reason = detail == VIRT_EV_RESUMED_MIGRATED ? "resumed after migration" : "resumed";
		return want_attach(sm);
	case VIRT_EV_SUSPENDED:
		/* A paused guest keeps its queues: the pause is usually short,
		 * and a migration that fails resumes here. */
		if (detail == VIRT_EV_SUSPENDED_MIGRATED) {
			sm->state = VIRT_DOM_MIGRATING_OUT;
			*reason = "paused for migration";
		} else {
			sm->state = VIRT_DOM_PAUSED;
			*reason = "paused";
		}
		return VIRT_ACT_NONE;
	case VIRT_EV_STOPPED:
		*reason = detail == VIRT_EV_STOPPED_MIGRATED ? "migrated away" :
			  detail == VIRT_EV_STOPPED_SAVED    ? "saved" :
			  detail == VIRT_EV_STOPPED_FAILED   ? "failed to start" :
			  detail == VIRT_EV_STOPPED_CRASHED  ? "crashed" :
							       "stopped";
		return went_away(sm);
	case VIRT_EV_SHUTDOWN:
	case VIRT_EV_CRASHED:
	case VIRT_EV_PMSUSPENDED:
		/* STOPPED follows if the process goes away. */
		*reason = "going down or suspended, process still there";
		return VIRT_ACT_NONE;
	case VIRT_EV_DEFINED:
		if (sm->state == VIRT_DOM_UNKNOWN)
			sm->state = VIRT_DOM_SHUTOFF;
		*reason = "config defined (live XML unchanged)";
		return VIRT_ACT_NONE;
	case VIRT_EV_UNDEFINED:
		*reason = "undefined";
		if (virt_dom_state_active(sm->state))
			return VIRT_ACT_NONE; /* transient now; STOPPED will come */
		return sm->attached ? VIRT_ACT_DETACH : VIRT_ACT_FORGET;
	}
	*reason = "unknown event";
	return VIRT_ACT_NONE;
}

enum virt_action virt_dom_step(struct virt_dom_sm *sm, const struct virt_input *in,
			       const char **ret_reason)
{
	const char *reason = "";
	enum virt_action a = VIRT_ACT_NONE;

	switch (in->kind) {
	case VIRT_IN_LIFECYCLE:
		a = lifecycle(sm, in->event, in->detail, &reason);
		break;
	case VIRT_IN_METADATA:
	case VIRT_IN_DEVICE:
		reason = in->kind == VIRT_IN_METADATA ? "metadata changed" : "devices changed";
		if (!virt_dom_state_active(sm->state) || sm->held)
			break;
		/* Plan again from the new XML: this may attach, change or detach. */
		sm->attached = true;
		a = VIRT_ACT_REPLAN;
		break;
	case VIRT_IN_HOOK_ATTACH:
		/* start/begin: the macvtap exists, QEMU does not run yet.  The
		 * RESUMED/STARTED events that follow find the work done. */
		reason = "hook: starting";
		if (!virt_dom_state_active(sm->state))
			sm->held = false;
		sm->state = VIRT_DOM_RUNNING;
		a = want_attach(sm);
		break;
	case VIRT_IN_HOOK_DETACH:
		reason = "hook: stopped";
		a = went_away(sm);
		break;
	case VIRT_IN_OP_ATTACH:
		/* The operator's own request is carried out by the caller; this
		 * only records it so later events do not repeat it. */
		reason = "operator attach";
		sm->held = false;
		sm->attached = true;
		a = VIRT_ACT_NONE;
		break;
	case VIRT_IN_OP_DETACH:
		reason = "operator detach";
		sm->attached = false;
		sm->held = virt_dom_state_active(sm->state);
		a = VIRT_ACT_NONE;
		break;
	case VIRT_IN_RESYNC_ACTIVE:
		/* Nothing was replayed while we were away: plan from fresh XML. */
		reason = "running at resync";
		if (sm->state != VIRT_DOM_PAUSED && sm->state != VIRT_DOM_MIGRATING_OUT &&
		    sm->state != VIRT_DOM_INCOMING)
			sm->state = VIRT_DOM_RUNNING;
		if (sm->held)
			break;
		a = sm->attached ? VIRT_ACT_REPLAN : VIRT_ACT_ATTACH;
		sm->attached = true;
		break;
	case VIRT_IN_RESYNC_GONE:
		reason = "not running at resync";
		a = went_away(sm);
		break;
	}
	if (ret_reason)
		*ret_reason = reason;
	return a;
}

int virt_hook_input(const char *op, const char *subop, enum virt_input_kind *ret)
{
	if (!op || !subop)
		return -1;
	if ((!strcmp(op, "start") || !strcmp(op, "started")) && !strcmp(subop, "begin")) {
		*ret = VIRT_IN_HOOK_ATTACH;
		return 0;
	}
	if ((!strcmp(op, "stopped") || !strcmp(op, "release")) && !strcmp(subop, "end")) {
		*ret = VIRT_IN_HOOK_DETACH;
		return 0;
	}
	return -1;
}

const char *virt_dom_state_name(enum virt_dom_state s)
{
	switch (s) {
	case VIRT_DOM_UNKNOWN: return "unknown";
	case VIRT_DOM_SHUTOFF: return "shut off";
	case VIRT_DOM_RUNNING: return "running";
	case VIRT_DOM_PAUSED: return "paused";
	case VIRT_DOM_MIGRATING_OUT: return "migrating out";
	case VIRT_DOM_INCOMING: return "migrating in";
	}
	return "?";
}

const char *virt_action_name(enum virt_action a)
{
	switch (a) {
	case VIRT_ACT_NONE: return "none";
	case VIRT_ACT_ATTACH: return "attach";
	case VIRT_ACT_REPLAN: return "replan";
	case VIRT_ACT_DETACH: return "detach";
	case VIRT_ACT_FORGET: return "forget";
	}
	return "?";
}

const char *virt_ev_name(int event)
{
	static const char *const n[VIRT_EV_MAX] = {
		"defined", "undefined", "started", "suspended", "resumed",
		"stopped", "shutdown", "pmsuspended", "crashed",
	};

	return event >= 0 && event < VIRT_EV_MAX ? n[event] : "?";
}

const char *virt_ev_detail_name(int event, int detail)
{
	static const char *const started[] = { "booted", "migrated", "restored", "from snapshot",
					       "wakeup" };
	static const char *const suspended[] = { "paused", "migrated", "I/O error", "watchdog",
						 "restored", "from snapshot", "API error",
						 "postcopy", "postcopy failed" };
	static const char *const resumed[] = { "unpaused", "migrated", "from snapshot",
					       "postcopy", "postcopy failed" };
	static const char *const stopped[] = { "shutdown", "destroyed", "crashed", "migrated",
					       "saved", "failed", "from snapshot" };
	static const char *const shutdown[] = { "finished", "guest", "host" };
	static const char *const defined[] = { "added", "updated", "renamed", "from snapshot" };
#define PICK(a) (detail >= 0 && (size_t)detail < sizeof(a) / sizeof(a[0]) ? a[detail] : "")
	switch (event) {
	case VIRT_EV_STARTED: return PICK(started);
	case VIRT_EV_SUSPENDED: return PICK(suspended);
	case VIRT_EV_RESUMED: return PICK(resumed);
	case VIRT_EV_STOPPED: return PICK(stopped);
	case VIRT_EV_SHUTDOWN: return PICK(shutdown);
	case VIRT_EV_DEFINED: return PICK(defined);
	default: return "";
	}
#undef PICK
}
