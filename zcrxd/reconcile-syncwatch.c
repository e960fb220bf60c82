// SPDX-License-Identifier: MIT
/*
 * reconcile-syncwatch — the commit's fdatasync or the compaction under
 * way on the syncer, as the operator sees it (docs/state.md, "A commit sync that hangs"): since when it runs
 * and how many replies wait for it (GetStatus commit_sync, the
 * zcrx_state_sync_seconds gauge), and one warning when it has not
 * returned within the syncer's bound (the kernel calls' bound, kcall.h).
 *
 * The warning's timer is armed when a sync starts and disarmed when it
 * returns: no wake-up while none runs.  The watchdog is left alone: the
 * loop is healthy, and a zcrxd restarted meanwhile would block in the
 * same fdatasync.
 *
 * Owns: the timer and the sync's start time.  Must not: start or end a
 * sync (reconcile.c does).
 */
#include <errno.h>
#include <string.h>

#include "kcall.h"
#include "log.h"
#include "reconcile-int.h"
#include "store.h"

static uint64_t loop_now(const struct reconcile *rc)
{
	uint64_t now = 0;

	(void)sd_event_now(rc->d.event, CLOCK_MONOTONIC, &now);
	return now;
}

static uint64_t bound_usec(const struct reconcile *rc)
{
	return rc->syncer ? kcall_bound_usec(rc->syncer) : KCALL_BOUND_USEC;
}

static const char *what(const struct reconcile *rc)
{
	return rc->compacting ? "compaction (" STORE_FILE " and a new " STORE_LOG
				" written and synced)" :
				"commit sync (fdatasync of " STORE_LOG ")";
}

static int on_overdue(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct reconcile *rc = userdata;
	struct reconcile_commit_sync cs;

	if (!reconcile_get_commit_sync(rc, &cs))
		return 0;
	rc->sync_warned = true;
	log_warning(LOG_SUBSYS_STORE,
		    "the state's %s has not returned for %llu ms "
		    "(bound %llu ms); %zu %s for it (zcrxd serves meanwhile)",
		    what(rc), (unsigned long long)(cs.for_usec / 1000),
		    (unsigned long long)(bound_usec(rc) / 1000), cs.waiting,
		    cs.waiting == 1 ? "reply waits" : "replies wait");
	return 0;
}

int reconcile_sync_watch_new(struct reconcile *rc)
{
	int r = sd_event_add_time(rc->d.event, &rc->sync_watch, CLOCK_MONOTONIC, UINT64_MAX, 1000,
				  on_overdue, rc);

	return r < 0 ? r : sd_event_source_set_enabled(rc->sync_watch, SD_EVENT_OFF);
}

void reconcile_sync_watch_begin(struct reconcile *rc)
{
	rc->sync_since_usec = loop_now(rc);
	rc->sync_warned = false;
	if (rc->sync_watch &&
	    sd_event_source_set_time(rc->sync_watch, rc->sync_since_usec + bound_usec(rc)) >= 0)
		(void)sd_event_source_set_enabled(rc->sync_watch, SD_EVENT_ONESHOT);
}

void reconcile_sync_watch_end(struct reconcile *rc, int result)
{
	if (rc->sync_watch)
		(void)sd_event_source_set_enabled(rc->sync_watch, SD_EVENT_OFF);
	if (rc->sync_warned)
		log_warning(LOG_SUBSYS_STORE,
			    "the state's %s returned after %llu ms%s%s", what(rc),
			    (unsigned long long)((loop_now(rc) - rc->sync_since_usec) / 1000),
			    result < 0 ? ": " : "", result < 0 ? strerror(-result) : "");
	rc->sync_warned = false;
}

bool reconcile_get_commit_sync(const struct reconcile *rc, struct reconcile_commit_sync *ret)
{
	uint64_t now;

	if (!rc || (!rc->syncing && !rc->compacting))
		return false;
	ret->compaction = rc->compacting != NULL;
	now = loop_now(rc);
	ret->for_usec = now > rc->sync_since_usec ? now - rc->sync_since_usec : 0;
	ret->bound_usec = bound_usec(rc);
	/* those it covers, and the next commit's: it starts when this returns */
	ret->waiting = rc->n_inflight + rc->n_waiters;
	return true;
}

const struct kcall *reconcile_syncer(const struct reconcile *rc)
{
	return rc ? rc->syncer : NULL;
}

bool reconcile_state_stuck(const struct reconcile *rc)
{
	return rc && rc->syncer && kcall_get_stuck(rc->syncer, NULL);
}
