// SPDX-License-Identifier: MIT
/*
 * reconcile-commit — the state directory's writes, syncs and compactions
 * as the loop schedules them (docs/state.md, "Group commit", "Compaction",
 * "The bound").
 *
 * Writes go into the log at once (write(2), no fsync).  Everything that
 * waits for the disk runs on the syncer's thread ("zcrxd-kstate", a
 * kcall), one job at a time:
 *   - the group commit: one fdatasync for the writes so far, started
 *     (kcall_start) by a source of idle priority after every request that
 *     is ready; the replies waiting for it go out when it returns;
 *   - a compaction, when the log has grown past its bound: the snapshot
 *     and the new log's header are rendered on the loop, the files
 *     written, synced and renamed on the syncer (started too); nothing is
 *     appended meanwhile (the changes stay marked and go into the new
 *     log); the replies whose changes the snapshot holds go out when it
 *     is done;
 *   - the intent before a kernel change, which the loop must wait for:
 *     the job under way finished, then the fdatasync run (kcall_run),
 *     each within the syncer's bound.  One that does not return in time
 *     fails the plan before it changes anything, and the syncer refuses
 *     further syncs until the call returns.
 * Without the syncer (tests of the loop alone), when a job cannot be
 * made (out of memory) and at shutdown, syncs and compactions run on the
 * loop, as before.
 *
 * Owns: the commit sources, the syncer, the waiting replies.  Must not:
 * render or parse the state (store does), decide what changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kcall.h"
#include "log.h"
#include "reconcile-int.h"

/* Run the waiters w and free them (detached from rc before: a reply may
 * add new ones). */
static void run_waiters(struct reconcile_waiter *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		w[i].fn(w[i].ud);
	free(w);
}

/* Those waiting for the job under way: those that waited when it began. */
static void take_inflight(struct reconcile *rc)
{
	rc->inflight = rc->waiters;
	rc->n_inflight = rc->n_waiters;
	rc->waiters = NULL;
	rc->n_waiters = 0;
}

static void run_inflight(struct reconcile *rc)
{
	struct reconcile_waiter *w = rc->inflight;
	size_t n = rc->n_inflight;

	rc->inflight = NULL;
	rc->n_inflight = 0;
	run_waiters(w, n);
}

/* The commit source runs at the end of this turn of the loop. */
static void commit_soon(struct reconcile *rc)
{
	if (rc->commit)
		(void)sd_event_source_set_enabled(rc->commit, SD_EVENT_ONESHOT);
}

/* Everything written so far made durable on the loop, then the replies
 * that waited for it sent: those of a sync under way too (this one covers
 * their writes; that one hands back none when it ends).  A failed sync is
 * logged; the replies go out all the same, as before group commit (the
 * next write compacts: store_log_sync). */
static int sync_now(struct reconcile *rc)
{
	struct reconcile_waiter *w = rc->waiters, *f = rc->inflight;
	struct kerror e = { 0 };
	char buf[512];
	size_t n = rc->n_waiters, nf = rc->n_inflight;
	bool had = !store_log_synced(rc->log);
	int r = 0;

	if (had && (r = store_log_sync(rc->log, &e)) < 0)
		log_error(LOG_SUBSYS_STORE, "%s", kerror_format(&e, buf, sizeof(buf)));
	if (had && r == 0)
		reconcile_test_point("saved");
	rc->waiters = rc->inflight = NULL;
	rc->n_waiters = rc->n_inflight = 0;
	run_waiters(f, nf);
	run_waiters(w, n);
	return r;
}

/* --- the log's fdatasync on the syncer ------------------------------------------------------ */

struct rc_sync {
	struct kcall_job k;
	struct reconcile *rc; /* (read by sync_done alone, on the loop) */
	struct store_log_sync sync;
};

static int sync_run(struct kcall_job *k)
{
	struct rc_sync *j = (struct rc_sync *)k;
	int r = fdatasync(j->sync.fd) < 0 ? -errno : 0;

	/* closed here too: when a compaction replaced the log meanwhile,
	 * this is the old file's last reference, and freeing it may take
	 * milliseconds */
	close(j->sync.fd);
	j->sync.fd = -1;
	return r;
}

/* An intent's sync that overran, once it returned (kcall). */
static void sync_free(struct kcall_job *k)
{
	free(k);
}

/* The commit returned (the loop): the replies of the writes it covered go
 * out; what was written or waited for since is the next commit's. */
static void sync_done(struct kcall_job *k)
{
	struct rc_sync *j = (struct rc_sync *)k;
	struct reconcile *rc = j->rc;
	struct kerror e = { 0 };
	char buf[512];
	int r = store_log_sync_end(rc->log, &j->sync, k->result, &e);

	reconcile_sync_watch_end(rc, k->result);
	free(j);
	rc->syncing = NULL;
	if (r < 0)
		log_error(LOG_SUBSYS_STORE, "%s", kerror_format(&e, buf, sizeof(buf)));
	else
		reconcile_test_point("saved");
	run_inflight(rc);
	/* the commits asked for meanwhile (a lazy one not due yet keeps its
	 * timer: a storm of libvirt events still shares one per
	 * RC_LAZY_COMMIT_USEC) */
	if (rc->n_waiters || rc->commit_due || store_log_compact_due(rc->log))
		commit_soon(rc);
	rc->commit_due = false;
}

/* --- compaction on the syncer ---------------------------------------------------------------- */

struct rc_compaction {
	struct kcall_job k;
	struct reconcile *rc; /* (read by compaction_done alone, on the loop) */
	struct store_log_compaction *c;
};

static int compaction_run(struct kcall_job *k)
{
	struct rc_compaction *j = (struct rc_compaction *)k;
	int r = store_log_compact_run(j->c);

	if (r < 0)
		k->err = *store_log_compaction_error(j->c);
	return r;
}

/* The compaction ended (the loop, or on the loop's thread without the
 * syncer): the new log taken in; the replies whose changes the snapshot
 * holds go out (after a failure too, logged, as after a failed sync: the
 * next write compacts again); what changed since goes into the new log
 * and waits for the next commit. */
static void compaction_ended(struct reconcile *rc, struct store_log_compaction *c)
{
	struct store_log_stats ls;
	struct kerror e = { 0 };
	char buf[512];
	int r = store_log_compact_end(rc->log, &rc->store, c, &e);

	rc->compact_err = e;
	ls = store_log_get_stats(rc->log);
	if (r < 0)
		log_error(LOG_SUBSYS_STORE, "compacting the state log: %s",
			  kerror_format(&e, buf, sizeof(buf)));
	else if (ls.compaction_usec_last >= RC_COMPACTION_WARN_USEC)
		log_warning(LOG_SUBSYS_STORE,
			    "compacting the state log took %llu ms on the syncer thread (%llu KiB "
			    "written and synced; the disk was slow); zcrxd served meanwhile",
			    (unsigned long long)(ls.compaction_usec_last / 1000),
			    (unsigned long long)(ls.snapshot_bytes / 1024));
	run_inflight(rc);
	rc->commit_due = false;
	if (r < 0) {
		/* nothing more now (a disk that fails would fail again at
		 * once): the replies that waited go out, as after a failed
		 * sync, and the next write compacts again */
		struct reconcile_waiter *w = rc->waiters;
		size_t n = rc->n_waiters;

		rc->waiters = NULL;
		rc->n_waiters = 0;
		run_waiters(w, n);
		return;
	}
	reconcile_test_point("compacted");
	if (store_log_held(rc->log) || rc->n_waiters || store_log_compact_due(rc->log))
		commit_soon(rc);
}

static void compaction_done(struct kcall_job *k)
{
	struct rc_compaction *j = (struct rc_compaction *)k;
	struct reconcile *rc = j->rc;
	struct store_log_compaction *c = j->c;

	reconcile_sync_watch_end(rc, k->result);
	rc->compacting = NULL;
	free(j);
	compaction_ended(rc, c);
}

static void compaction_free(struct kcall_job *k)
{
	struct rc_compaction *j = (struct rc_compaction *)k;

	store_log_compaction_free(j->c);
	free(j);
}

/* Start the compaction that is due: rendered now, its files written on
 * the syncer.  Out of memory for the job, or the syncer refusing: on the
 * loop, as before.  -errno (with *err) when it could not even be
 * rendered (the log stays broken, the next write tries again). */
static int compaction_start(struct reconcile *rc, struct kerror *err)
{
	struct store_log_compaction *c;
	struct rc_compaction *j;
	int r;

	kerror_clear(&rc->compact_err);
	r = store_log_compact_begin(rc->log, &rc->store, &c, err);
	if (r < 0)
		return r;
	take_inflight(rc);
	j = calloc(1, sizeof(*j));
	if (j) {
		j->rc = rc;
		j->c = c;
		j->k.run = compaction_run;
		j->k.done = compaction_done;
		j->k.free = compaction_free;
		if (kcall_start(rc->syncer, &j->k, "compaction", STORE_FILE) == 0) {
			rc->compacting = j;
			reconcile_sync_watch_begin(rc);
			return 0;
		}
		free(j);
	}
	(void)store_log_compact_run(c);
	compaction_ended(rc, c);
	if (!rc->compact_err.err)
		return 0;
	*err = rc->compact_err;
	return -err->err;
}

/* --- writes ---------------------------------------------------------------------------------- */

/* The changes since the last write into the log (not synced yet); held
 * while a compaction is due or under way.  Without the syncer a
 * compaction runs here, on the loop. */
static int write_changes(struct reconcile *rc, struct kerror *err)
{
	uint64_t compactions;
	char buf[512];
	int r;

	rc->save_pending = false;
	store_gc(&rc->store);
	if (!rc->log) /* no state directory (tests of the loop alone) */
		return 0;
	compactions = store_log_get_stats(rc->log).compactions;
	r = store_log_write(rc->log, &rc->store, err);
	if (store_log_get_stats(rc->log).compactions != compactions &&
	    store_log_get_stats(rc->log).compaction_usec_last >= RC_COMPACTION_WARN_USEC)
		log_warning(LOG_SUBSYS_STORE, "compacting the state log held the loop %llu ms",
			    (unsigned long long)(store_log_get_stats(rc->log).compaction_usec_last /
						 1000));
	if (r < 0) {
		log_error(LOG_SUBSYS_STORE, "%s", kerror_format(err, buf, sizeof(buf)));
		return -(err->err ? err->err : EIO);
	}
	if (r == 0)
		rc->st.saves_unchanged++;
	else
		rc->st.saves++;
	if (store_log_compact_due(rc->log))
		commit_soon(rc);
	return 0;
}

/* The commit: the syncer's next job, at the end of a turn of the loop.
 * One job at a time: while one is under way (or the syncer is stuck) the
 * next waits for its end.  The changes held during a compaction are
 * written first; a compaction due goes before a sync (it makes
 * everything durable itself).  Without the syncer, or when the job cannot
 * be made, on the loop. */
static void commit(struct reconcile *rc)
{
	struct kerror e = { 0 };
	struct rc_sync *j;
	char buf[512];
	int r;

	if (rc->syncing || rc->compacting ||
	    (rc->syncer && kcall_get_stuck(rc->syncer, NULL))) {
		rc->commit_due = true; /* when it ends (or returned: syncer_returned) */
		return;
	}
	if (rc->log && rc->syncer && store_log_held(rc->log))
		(void)write_changes(rc, &e);
	if (rc->syncer && store_log_compact_due(rc->log)) {
		if (compaction_start(rc, &e) >= 0 && rc->compacting)
			return;
	}
	if (!rc->syncer || !(j = calloc(1, sizeof(*j)))) {
		(void)sync_now(rc);
		return;
	}
	r = store_log_sync_begin(rc->log, &j->sync, &e);
	if (r <= 0) {
		if (r < 0)
			log_error(LOG_SUBSYS_STORE, "%s", kerror_format(&e, buf, sizeof(buf)));
		free(j);
		(void)sync_now(rc); /* nothing to sync (or cannot hand it over) */
		return;
	}
	j->rc = rc;
	j->k.run = sync_run;
	j->k.done = sync_done;
	j->k.free = sync_free;
	if (kcall_start(rc->syncer, &j->k, "fdatasync", STORE_LOG) < 0) {
		struct store_log_sync gone = j->sync;

		free(j);
		close(gone.fd);
		(void)sync_now(rc);
		return;
	}
	rc->syncing = j;
	take_inflight(rc);
	reconcile_sync_watch_begin(rc);
}

static int on_commit(sd_event_source *s, void *userdata)
{
	commit(userdata);
	return 0;
}

static int on_commit_later(sd_event_source *s, uint64_t usec, void *userdata)
{
	commit(userdata);
	return 0;
}

/* A sync or compaction the loop stopped waiting for returned at last: the
 * commits refused meanwhile go on. */
static void syncer_returned(void *userdata, const char *op, const char *obj, int result,
			    uint64_t took_usec)
{
	struct reconcile *rc = userdata;

	log_notice(LOG_SUBSYS_STORE, "the state's %s of %s returned after %llu ms%s%s; syncing "
		   "again", op, obj, (unsigned long long)(took_usec / 1000),
		   result < 0 ? ": " : "", result < 0 ? strerror(-result) : "");
	commit_soon(rc);
}

/* What a batch of libvirt events wrote is synced within RC_LAZY_COMMIT_USEC
 * (armed once: the first write of a storm sets the time).  False when it
 * cannot be: then at the end of the loop's turn, as any save. */
static bool commit_lazily(struct reconcile *rc)
{
	int on = SD_EVENT_OFF;
	uint64_t now;

	if (!rc->lazy || rc->n_waiters || !rc->commit_later)
		return false;
	if (sd_event_source_get_enabled(rc->commit_later, &on) >= 0 && on != SD_EVENT_OFF)
		return true;
	if (sd_event_now(rc->d.event, CLOCK_MONOTONIC, &now) < 0 ||
	    sd_event_source_set_time(rc->commit_later, now + RC_LAZY_COMMIT_USEC) < 0)
		return false;
	return sd_event_source_set_enabled(rc->commit_later, SD_EVENT_ONESHOT) >= 0;
}

/* --- the intent: durable before a kernel change, within the bound ----------------------------- */

/* An intent's fdatasync on the syncer, the loop waiting at most the bound. */
static int intent_fdatasync(struct reconcile *rc, struct kerror *err)
{
	struct rc_sync *j = calloc(1, sizeof(*j));
	char buf[512];
	int r;

	if (!j)
		return kerror_set(err, ENOMEM, STORE_LOG, "save state", NULL);
	r = store_log_sync_begin(rc->log, &j->sync, err);
	if (r <= 0) {
		free(j);
		return r;
	}
	j->k.run = sync_run;
	j->k.free = sync_free;
	r = kcall_run(rc->syncer, &j->k, "fdatasync", STORE_LOG, err);
	if (j->k.kept) /* overran: kcall frees it when it returns */
		return r;
	if (j->sync.fd >= 0) { /* not run: the syncer refused */
		close(j->sync.fd);
		free(j);
		return r;
	}
	r = store_log_sync_end(rc->log, &j->sync, r, err);
	free(j);
	if (r < 0)
		log_error(LOG_SUBSYS_STORE, "%s", kerror_format(err, buf, sizeof(buf)));
	else
		reconcile_test_point("saved");
	return r;
}

/* Written and made durable now, on the syncer within its bound: first the
 * job under way (its replies go out), then a compaction that is due, then
 * the fdatasync.  The replies waiting go out once it is durable. */
static int intent_sync(struct reconcile *rc, struct kerror *err)
{
	int r = kcall_finish_within(rc->syncer, err);

	if (r >= 0)
		r = write_changes(rc, err);
	/* the log cannot take it (a failed write or sync, marks lost): a
	 * compaction first (one merely due waits for the commit) */
	if (r >= 0 && store_log_held(rc->log) && store_log_compact_due(rc->log)) {
		r = compaction_start(rc, err);
		if (r >= 0)
			r = kcall_finish_within(rc->syncer, err);
		if (r >= 0 && rc->compact_err.err) {
			*err = rc->compact_err;
			r = -err->err;
		}
		if (r >= 0)
			r = write_changes(rc, err); /* (none: the loop waited) */
	}
	if (r >= 0 && !store_log_synced(rc->log))
		r = intent_fdatasync(rc, err);
	if (r >= 0 && store_log_synced(rc->log)) {
		struct reconcile_waiter *w = rc->waiters;
		size_t n = rc->n_waiters;

		rc->waiters = NULL;
		rc->n_waiters = 0;
		run_waiters(w, n);
	}
	if (r == -ETIMEDOUT) {
		struct kerror k = *err;

		kerror_setf(err, ETIMEDOUT, "state directory", "record intent",
			    "%s of %s did not return within %llu ms; nothing was changed on the NIC",
			    k.op, k.obj, (unsigned long long)(kcall_bound_usec(rc->syncer) / 1000));
	}
	return r;
}

/* Written now, synced at once (the intent before a kernel change). */
static int save_now(struct reconcile *rc, struct kerror *err)
{
	int r;

	if (rc->log && rc->syncer)
		return intent_sync(rc, err);
	r = write_changes(rc, err);
	if (r < 0)
		return r;
	return rc->log ? sync_now(rc) : 0;
}

int reconcile_sync_staged(struct reconcile *rc, struct kerror *err)
{
	size_t i;
	int r = save_now(rc, err);

	if (r < 0) /* the staged runs apply nothing */
		for (i = 0; i < rc->n_nics; i++)
			reconcile_unstage(rc, &rc->nics[i]);
	return r;
}

int reconcile_save(struct reconcile *rc)
{
	struct kerror e = { 0 };
	int r;

	if (rc->defer_saves) {
		rc->save_pending = true;
		return 0;
	}
	r = write_changes(rc, &e);
	if (!rc->commit)
		(void)sync_now(rc);
	else if (rc->n_waiters || (!store_log_synced(rc->log) && !commit_lazily(rc)))
		commit_soon(rc);
	return r;
}

void reconcile_when_durable(struct reconcile *rc, void (*fn)(void *ud), void *ud)
{
	struct reconcile_waiter *v;

	if (store_log_synced(rc->log) && !rc->save_pending) {
		fn(ud);
		return;
	}
	v = realloc(rc->waiters, (rc->n_waiters + 1) * sizeof(*v));
	if (!v) { /* (during a compaction: refused, as a failed sync) */
		(void)sync_now(rc);
		fn(ud);
		return;
	}
	rc->waiters = v;
	v[rc->n_waiters].fn = fn;
	v[rc->n_waiters++].ud = ud;
	commit_soon(rc);
}

/* The plan's intent, before its kernel changes: always at once.  A second
 * persist of the same plan is its rollback's (exec.h): the journal went
 * back to what it was, so all of it is written. */
int reconcile_persist(void *ud, const struct journal_nic *j, struct kerror *err)
{
	struct reconcile *rc = ud;

	if (rc->exec_persists++)
		rc->exec_whole = true;
	reconcile_mark_exec(rc, j->name);
	return save_now(rc, err);
}

void reconcile_defer_saves(struct reconcile *rc, bool defer)
{
	rc->defer_saves = defer;
	if (defer)
		rc->save_batch++;
	if (!defer && rc->save_pending) {
		/* the end of a batch of libvirt events: synced lazily */
		rc->lazy = true;
		(void)reconcile_save(rc);
		rc->lazy = false;
	}
}

/* --- lifecycle ---------------------------------------------------------------------------------- */

void reconcile_commit_settle(struct reconcile *rc)
{
	struct kerror e = { 0 };
	char buf[512];

	if (!rc->log || rc->compacting || !store_log_compact_due(rc->log))
		return;
	if (store_log_compact(rc->log, &rc->store, &e) < 0)
		log_error(LOG_SUBSYS_STORE, "compacting the state log: %s",
			  kerror_format(&e, buf, sizeof(buf)));
}

int reconcile_commit_new(struct reconcile *rc)
{
	sd_event *ev = rc->d.event;
	int r = sd_event_add_defer(ev, &rc->commit, on_commit, rc);

	if (r >= 0)
		r = sd_event_source_set_enabled(rc->commit, SD_EVENT_OFF);
	/* after every request that is ready: one sync for all of them */
	if (r >= 0)
		r = sd_event_source_set_priority(rc->commit, SD_EVENT_PRIORITY_IDLE);
	if (r >= 0)
		r = sd_event_add_time(ev, &rc->commit_later, CLOCK_MONOTONIC, UINT64_MAX, 1000,
				      on_commit_later, rc);
	if (r >= 0)
		r = sd_event_source_set_enabled(rc->commit_later, SD_EVENT_OFF);
	/* the log's syncs and compactions off the loop ("zcrxd-kstate") */
	if (r >= 0 && rc->log)
		r = kcall_new(ev, "state", rc->d.sync_bound_usec, &rc->syncer);
	if (r >= 0 && rc->log) {
		kcall_set_returned(rc->syncer, syncer_returned, rc);
		store_log_set_async(rc->log, true);
		r = reconcile_sync_watch_new(rc);
	}
	return r;
}

void reconcile_commit_stop(struct reconcile *rc)
{
	struct kerror e = { 0 };

	/* the job under way ends, its replies go out; then the rest, on
	 * the loop (a compaction due runs here) */
	kcall_finish(rc->syncer);
	if (rc->log) {
		store_log_set_async(rc->log, false);
		(void)write_changes(rc, &e);
		(void)sync_now(rc);
	}
	rc->syncer = kcall_free(rc->syncer);
	rc->commit = sd_event_source_disable_unref(rc->commit);
	rc->commit_later = sd_event_source_disable_unref(rc->commit_later);
}
