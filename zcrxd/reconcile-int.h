/* SPDX-License-Identifier: MIT */
/*
 * reconcile-int — the attachment service's private state, shared by its
 * files: reconcile.c (run loop, saves, lifecycle), reconcile-nic.c (one
 * NIC's run), reconcile-request.c (requests), reconcile-refusal.c (refusal
 * bookkeeping), reconcile-outcome.c and reconcile-json.c.  Not for other
 * modules.
 */
#pragma once

#include <net/if.h>

#include "nic-monitor.h"
#include "reconcile.h"

#define RC_ROUNDS 6 /* plan/exec rounds per NIC (learning, holds) */
#define RC_MADE_MAX 64 /* contexts one run follows as made by it */
/* A reader's Plan re-reads a NIC at most this often (its plan may be this
 * old); root's and admins', and every other dry run, once per loop turn. */
#define RC_DRY_READ_USEC 1000000u
/* In a storm of libvirt events, a NIC is read in full once per batch and
 * at most this often (its plans see what its own runs changed and read
 * back, and what changed outside at most this late). */
#define RC_EVENT_READ_USEC 50000u
/* What a batch of libvirt events changed (no reply waits for it) is synced
 * at most this late: a storm shares its fdatasyncs.  The intent before a
 * kernel change is synced at once all the same, and a reply that waits
 * syncs everything. */
#define RC_LAZY_COMMIT_USEC 50000u
/* A compaction that held the loop this long is logged (a healthy one of
 * 4,096 attachments takes a few milliseconds). */
#define RC_COMPACTION_WARN_USEC 100000u

struct rc_nic {
	char name[IF_NAMESIZE];
	struct nic_caps learned;
	/* BINDs the module refused for one queue and tap (reconcile.h says
	 * when they are tried again), for the NIC with this ifindex */
	int refused_ifindex;
	size_t n_refused;
	struct plan_bind_refusal *refused;
	bool dirty;
	/* read in full (as ifindex) in this batch of libvirt events (save_batch) */
	uint64_t read_batch;
	int read_ifindex;
	uint64_t read_usec; /* when (the loop's CLOCK_MONOTONIC usec) */
	/* read in full (as ifindex) by a batch of Attach requests for the
	 * NIC's next run, with the batch's other NICs (reconcile-batch.c):
	 * that run reads it no more; 0 for none */
	int read_fresh;
	/* a batch's run stopped after its first plan was applied
	 * (RC_APPLIED): what it has to read back (NIC_OBSERVE_*), read with
	 * the batch's other NICs, and the contexts it made so far */
	bool applied;
	unsigned readback;
	uint32_t made[RC_MADE_MAX];
	size_t n_made;
	/* when a dry run last read the NIC from the kernel (CLOCK_MONOTONIC
	 * usec, the loop's time): once per loop turn, and for readers'
	 * plans once per RC_DRY_READ_USEC */
	uint64_t dry_read_at;
	/* the last plan's view of the pool, for listings */
	uint32_t channels;
	size_t n_pool, n_shared, n_notes;
	uint32_t *pool, *shared;
	struct attach_reason *notes;
	/* a plan whose intent waits for its batch's one sync (reconcile_stage):
	 * planned, intent recorded in the journal, nothing applied yet */
	bool staged;
	struct plan staged_plan;
	struct exec_staged staged_x;
};

struct reconcile_waiter {
	void (*fn)(void *ud);
	void *ud;
};

struct reconcile {
	struct reconcile_deps d;
	struct store store;
	struct rc_nic *nics;
	size_t n_nics;
	struct binder_backend binder;
	sd_event_source *timer, *defer;
	struct reconcile_stats st;
	bool request; /* the current run answers a request (its ops are not repairs) */
	bool applying; /* start / config reload: ops apply the config, not repairs */
	/* a dry run's read of its NIC is under way: what it finds is not
	 * drift to act on (reconcile_nic_changed), a read-only caller never
	 * causes a change; dry_limited: the caller is held to
	 * RC_DRY_READ_USEC (a reader's Plan) */
	bool dry_reading, dry_limited;
	/* the drift timer's runs: the interval's re-read (nic_monitor_reread)
	 * read their NICs in full in this loop turn, not read again */
	bool interval_read;
	/* reconcile_defer_saves(): state saves after a plan wait for the end of
	 * the burst (one fsync for many); the intent before a kernel change
	 * never waits. */
	bool defer_saves, save_pending;
	/* which batch of deferred saves this is: a NIC is read in full once
	 * per batch (its own changes are read back after they are made) */
	uint64_t save_batch;
	int ifsock; /* for SIOCGIFNAME/SIOCGIFINDEX (tap lookups), -1 until needed */
	/* the monitor caught up with the kernel's link notifications just now
	 * (nic_monitor_catch_up): a link it does not hold does not exist, no
	 * kernel call per tap to be sure; set only around the taps' refresh */
	bool links_current;
	/* when the cause of the work at hand was read, for those catch-ups:
	 * in this turn of the loop (a request or libvirt event handled as it
	 * is read: NIC_CATCH_UP_READ, the default), in an earlier one (a run
	 * from a source of its own, on_defer and the Attach batch:
	 * NIC_CATCH_UP_TURN), or a catch-up read the notifications after it
	 * (an Attach's run after its check: NIC_CATCH_UP_DONE) */
	enum nic_catch_up links_since;
	uint32_t lease_id_last; /* the last lease id given: not reused while zcrxd runs */
	/* the state directory's log (store.h); group commit: writes are
	 * synced once by the commit source, after every request ready, and
	 * the replies that wait for them are sent then.  The commit's
	 * fdatasync runs on the syncer's thread (kcall_start): the loop goes
	 * on meanwhile; syncing: the one under way, inflight its waiters
	 * (those that waited when it started; later ones wait for the next) */
	struct store_log *log;
	sd_event_source *commit;
	struct kcall *syncer;
	struct rc_sync *syncing;
	/* the compaction under way on the syncer (reconcile-commit.c), and
	 * how the last one ended */
	struct rc_compaction *compacting;
	struct kerror compact_err;
	bool commit_due; /* a commit was due while one was under way */
	/* the sync under way as the operator sees it (reconcile-syncwatch.c):
	 * since when, the warning's timer (armed only while one runs), and
	 * whether it warned */
	uint64_t sync_since_usec;
	sd_event_source *sync_watch;
	bool sync_warned;
	size_t n_inflight;
	struct reconcile_waiter *inflight;
	/* the lazy commit (RC_LAZY_COMMIT_USEC) of what libvirt events
	 * changed; lazy: the save being made is such a change */
	sd_event_source *commit_later;
	bool lazy;
	size_t n_waiters;
	struct reconcile_waiter *waiters;
	/* the owners of the journal entries the plan being executed creates
	 * or removes (marked for the log again at each save); whole: the
	 * NIC's whole journal (a rollback) */
	size_t n_exec_owners;
	uint8_t (*exec_owners)[NIC_MAC_LEN];
	bool exec_whole;
	unsigned exec_persists;
	/* the attachments the running request adds (MACs, on the NIC it
	 * runs): refused by the pool, the run stops before anything happens
	 * (reconcile_run_nic returns -ENOSPC, watch_hit says which) */
	size_t n_watch;
	const uint8_t (*watch)[NIC_MAC_LEN];
	ssize_t watch_hit;
	/* a batch's first pass (reconcile-batch.c): a run whose first plan
	 * needs an intent stops once it is recorded (RC_STAGED) */
	bool stage_intents;
	/* a batch's second pass: a staged run stops once its plan is applied,
	 * its read-back left for the batch (RC_APPLIED) */
	bool defer_readback;
	/* Attach requests waiting for their NIC's run (reconcile-batch.c) */
	size_t n_queued, cap_queued;
	struct reconcile_queued *queued;
	sd_event_source *batch;
	/* the plan exec is applying: its NIC, and which of its BINDs were
	 * refused (reconcile_on_bind_refused) */
	struct rc_nic *exec_nic;
	const struct plan *exec_plan;
	bool *exec_refused;
};

/* reconcile.c */
/* Settle j's pending entries (a crash's, or an op whose call overran)
 * against the NIC as the monitor holds it: adopt what was made, drop the
 * rest.  why ends "adopted N object(s) made ...".  False when there were
 * none. */
bool reconcile_settle_pending(struct reconcile *rc, struct journal_nic *j, const char *why);
void reconcile_exec_point(void *ud, enum exec_point pt, size_t op);
/* reconcile-syncwatch.c: the commit sync's timer made (off), armed when
 * a sync starts, disarmed (and its end logged if it warned) when it
 * returned */
int reconcile_sync_watch_new(struct reconcile *rc);
void reconcile_sync_watch_begin(struct reconcile *rc);
void reconcile_sync_watch_end(struct reconcile *rc, int result);
/* reconcile-commit.c: the commit sources and the syncer made (rc->log
 * read), and at shutdown what remains written and synced on the loop */
int reconcile_commit_new(struct reconcile *rc);
void reconcile_commit_stop(struct reconcile *rc);
/* zcrxd starting, before the loop serves: a compaction that the start's
 * writes made due runs now, on the loop, as the one at open (its heap is
 * the start's, given back with it) */
void reconcile_commit_settle(struct reconcile *rc);
/* state.json after a change (held back while saves are deferred) */
int reconcile_save(struct reconcile *rc);
/* exec's persist hook: the plan's intent, before its kernel changes, at
 * once (durable within the syncer's bound, or -errno with *err) */
int reconcile_persist(void *ud, const struct journal_nic *j, struct kerror *err);
void reconcile_mark_exec(struct reconcile *rc, const char *nic);
void reconcile_publish(struct reconcile *rc, const char *type, json_object *data);
bool reconcile_listening(const struct reconcile *rc);
/* The NIC's private state, made on first use; NULL when out of memory. */
struct rc_nic *reconcile_nic_state(struct reconcile *rc, const char *name);
/* Which NICs are zcrxd's (reconcile.c, DESIGN.md §14).  eligible: a policy
 * would apply once something lives there ([nic NAME], or [nic *] for a
 * device it covers) — what an attach needs.  policy: the policy that
 * applies now ([nic NAME]; [nic *] only while an attachment or lease lives
 * there: it claims nothing).  wants: zcrxd must look at the NIC ([nic
 * NAME], or an attachment, lease or journal of its own lives there). */
bool reconcile_nic_eligible(const struct reconcile *rc, const struct nic *nic,
			    struct config_nic *ret);
bool reconcile_nic_policy(const struct reconcile *rc, const struct nic *nic,
			  struct config_nic *ret);
bool reconcile_wants(struct reconcile *rc, const struct nic *nic);

/* reconcile-nic.c */
struct reconcile_binder_view {
	struct plan_binder pb;
	struct binder_binding *all;
	size_t n_all;
	struct binder_binding *mine;
};

void reconcile_binder_view_fill(struct reconcile *rc, const struct nic *nic, struct rc_nic *rn,
				struct reconcile_binder_view *v);
void reconcile_binder_view_clear(struct reconcile_binder_view *v);
struct attach *reconcile_find_att(struct reconcile *rc, const char *nic, const uint8_t *mac);
/* 0, or -errno with *err; RC_STAGED while rc->stage_intents: the run's
 * first plan and its intent are in the NIC's journal (not written yet),
 * nothing applied: make the journal durable (reconcile_sync_staged), then
 * run the NIC again, with the same out, to apply it and go on. */
#define RC_STAGED 1
/* While rc->defer_readback: the staged plan is applied and what it
 * changed is to be read back (rn->readback, for the caller to read with
 * nic_monitor_refresh_many()); run the NIC again, with the same out, to
 * plan again and go on. */
#define RC_APPLIED 2
int reconcile_run_nic(struct reconcile *rc, const char *name, enum plan_mode mode, bool dry_run,
		      const struct plan_rebalance_opts *rb, struct reconcile_outcome *out,
		      struct kerror *err);
/* Every staged intent written and synced: 0, or -errno (with *err) when
 * they could not be made durable: the staged runs then apply nothing
 * (reconcile_unstage). */
int reconcile_sync_staged(struct reconcile *rc, struct kerror *err);
/* The staged plans dropped, their journals as before their intents (a
 * run that cannot go on: -errno for each, in its next reconcile_run_nic). */
void reconcile_unstage(struct reconcile *rc, struct rc_nic *rn);

/* reconcile-refusal.c */
void reconcile_refusals_clear(struct rc_nic *n);
void reconcile_rebound(struct rc_nic *n, const struct plan_op *op);
void reconcile_forget_refusals(struct reconcile *rc, const char *nic, const uint8_t *owner);
void reconcile_refusals_prune(struct rc_nic *n, const struct attach *const *atts, size_t n_atts,
			      const struct plan *p);
bool reconcile_hold(struct reconcile *rc, const char *nic, const struct plan_op *op,
		    const struct kerror *err);
void reconcile_on_bind_refused(void *ud, const struct plan_op *op, const struct kerror *err);

/* reconcile-batch.c: run every queued Attach now */
void reconcile_batch_run(struct reconcile *rc);

/* reconcile-outcome.c */
struct plan *reconcile_outcome_plan(struct reconcile_outcome *o, const char *nic);
void reconcile_plan_append(struct plan *p, const struct plan_op *op, size_t base);
void reconcile_plan_summary_copy(struct plan *dst, const struct plan *src);
void reconcile_plan_take(struct plan *dst, struct plan *src);

/* reconcile-request.c: an Attach in three steps, so that Attach requests
 * can share their NIC's run (reconcile-batch.c).  prepare: checked and
 * put into the desired set (what undo takes back); result: the request's
 * answer after its NIC ran (r: the run's).  The undo owns copies of the
 * identities (their domains): undo_clear drops them when the request is
 * done (prepare leaves nothing to drop when it fails). */
struct reconcile_attach_undo {
	struct attach_id id, old_id;
	bool existed, was_released;
	bool announced; /* attachment-created was published */
	bool links_read; /* the check caught the monitor up (it looked the tap up) */
};

int reconcile_attach_prepare(struct reconcile *rc, const struct attach_id *idp,
			     struct reconcile_outcome *out, struct reconcile_attach_undo *u);
int reconcile_attach_result(struct reconcile *rc, struct reconcile_attach_undo *u, int r,
			    struct reconcile_outcome *out);
void reconcile_attach_undo(struct reconcile *rc, const struct reconcile_attach_undo *u);
void reconcile_attach_undo_clear(struct reconcile_attach_undo *u);
bool reconcile_matches(const struct attach *a, const char *domain, const char *uuid,
		       const char *nic, const uint8_t *mac);
