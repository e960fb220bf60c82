/* SPDX-License-Identifier: MIT */
/*
 * reconcile — the attachment service: desired attachments and the
 * ownership journal (store), and the one path every trigger takes to the
 * kernel: observe -> plan -> exec -> store.
 *
 * Triggers: start (after loading state.json and settling a crash's pending
 * entries), SIGHUP (config reload), NIC change notifications (coalesced,
 * deferred), the drift timer (ReconcileIntervalSec: rules have no
 * notifications), and requests (Attach, Detach, Rebalance, Reconcile,
 * Release).  Repairs found by a reconcile that no request asked for
 * (a rule deleted behind zcrxd's back, channels changed from outside, an
 * owned object nobody wants) are logged with their reason and counted.
 *
 * A refusal the planner can plan around (L2 rules, contexts, header split)
 * is learned and the NIC is planned again; any other refusal holds back the
 * attachment whose op failed (reason "kernel-error") until it is asked for
 * again, the config is reloaded or the NIC changes.
 *
 * A BIND the vhost_zcrx module refuses is neither: exec leaves it out and
 * keeps the steering (exec.h).  EOPNOTSUPP or ENOENT is about the whole NIC
 * (binder-mgr keeps it as the NIC's PROBE verdict until the NIC's link
 * changes or the module appears again).  Any other errno (EBUSY, EEXIST,
 * ENOSPC, EINVAL, ...) is remembered for that (NIC, queue, tap) only and
 * given to the planner (plan_binder.refused): that attachment is planned
 * without the BIND, degraded with the module's errno and text; the other
 * attachments of the NIC still bind.  Such a refusal is asked again -- at
 * most once per trigger, never in a loop -- when
 *   - the attachment moves to another queue or gets another tap (the
 *     refusal no longer applies and is dropped),
 *   - the attachment is asked for again (Attach, not its dry run), an
 *     explicit Reconcile covers its NIC, or the config is reloaded,
 *   - zcrxd unbinds something on that NIC, or the module reports a binding
 *     gone, appears, vanishes or needs a resync (a queue, tap or binding
 *     slot may be free now),
 *   - the NIC's queues change as queue-get shows them: another memory
 *     provider (an io_uring zcrx or devmem consumer), AF_XDP socket or
 *     lease left a queue or took one (page-pool notifications tell),
 *   - the NIC under that name is another device (new ifindex).
 * Not on the drift timer (unlike holds): a refused attachment works, and
 * asking every interval would count a kernel error and warn each time.
 * Refusals are not saved: a restarted zcrxd asks once more.
 *
 * A binding the module reports BROKEN with any errno but ENODEV (with
 * ENODEV it is gone, and bound again like any lost binding) still exists:
 * it is unbound and bound again, once.  The (queue, tap) is then remembered
 * beside the refusals (plan_bind_refusal.rebound) and forgotten with them,
 * on the same triggers: should the new binding break too, it stays,
 * shown broken with the module's reason, until one of them.
 *
 * Owns: the store and its file, learned refusals, holds, refused binds, the
 * drift timer, counters.  Must not: speak Varlink (api-attach.c does),
 * include libvirt.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "attach.h"
#include "binder.h"
#include "config.h"
#include "exec.h"
#include "kerror.h"
#include "nic.h"
#include "plan.h"
#include "store.h"

struct reconcile;
struct nic_monitor;
struct events;

struct kcall;

struct reconcile_deps {
	sd_event *event;
	struct nic_monitor *monitor;  /* the observed NIC table */
	struct nic_backend nic;       /* what exec drives */
	struct kcall *nic_calls;      /* its bound (kcall.h): no run while stuck; optional */
	const struct config *config;  /* the manager's, current at every call */
	struct events *events;        /* Monitor stream, may be NULL */
	const char *state_dir;
	unsigned interval_sec;        /* drift timer, 0 = none */
	/* how long the commit's fdatasync may run before zcrxd warns;
	 * 0 = KCALL_BOUND_USEC (always, in zcrxd itself) */
	uint64_t sync_bound_usec;
};

struct reconcile_stats {
	uint64_t runs;          /* NIC reconciles (any trigger; dry runs are not) */
	uint64_t plans_applied; /* plans with at least one op that applied */
	uint64_t ops;           /* ops applied */
	uint64_t repairs;       /* ops applied without a request asking */
	uint64_t exec_failures; /* plans that failed and were rolled back */
	uint64_t kernel_errors; /* refusals seen (learned or held) */
	uint64_t learned;       /* refusals the planner now plans around */
	uint64_t holds;         /* attachments held back after a refusal */
	uint64_t saves;         /* state.json writes */
	uint64_t saves_unchanged; /* saves skipped: the file already held the content */
	uint64_t adopted;       /* pending objects adopted after a crash */
	uint64_t syncs;         /* the state's syncs to disk (store_log_stats.syncs) */
	uint64_t compactions;   /* of the state's log (store_log_stats) */
	uint64_t compaction_usec_max; /* the longest: it held the loop */
};

/* What a request did (or would do, with dry_run). */
struct reconcile_outcome {
	size_t n_plans;
	struct plan *plans; /* per NIC touched; for dry runs the plan, else the ops applied */
	struct kerror err;  /* set when the request failed (the first failure) */
	const char *error_name; /* Varlink error name for err (NULL = generic) */
	size_t n_failed_nics; /* NICs whose run or plan failed (reconcile_all, Plan) */
	bool changed;       /* something was applied */
	char lease[ATTACH_LEASE_NAME_MAX]; /* lease errors: the lease concerned */
};

void reconcile_outcome_clear(struct reconcile_outcome *o);
/* The plans as a JSON array: text appended to t (what a reply carries),
 * or parsed into a json-c tree. */
struct jtext;
void reconcile_outcome_plans_jtext(const struct reconcile_outcome *o, struct jtext *t);
json_object *reconcile_outcome_plans_json(const struct reconcile_outcome *o);

/* Load state.json (a bad file is moved aside to state.json.corrupt and
 * zcrxd starts empty, logging why), start the timer.  Does not touch the
 * kernel: call reconcile_start next. */
int reconcile_new(const struct reconcile_deps *deps, struct reconcile **ret, struct kerror *err);
struct reconcile *reconcile_free(struct reconcile *rc);
/* Settle pending entries of a crash and reconcile every NIC once; a
 * failure is in *out (may be NULL: n_failed_nics, the first error; its
 * plans stay empty, the ops applied are not copied). */
int reconcile_start(struct reconcile *rc, struct reconcile_outcome *out);
void reconcile_set_interval(struct reconcile *rc, unsigned interval_sec);
/* The zero-copy binder (issue 6); ops NULL = none (every attachment then
 * reports "no zero-copy"). */
void reconcile_set_binder(struct reconcile *rc, struct binder_backend be);

/* Triggers. */
int reconcile_all(struct reconcile *rc, const char *why, struct reconcile_outcome *out);
/* A config reload: holds are cleared, every NIC planned again. */
void reconcile_config_changed(struct reconcile *rc);
/* The binder's view changed (ev: module appeared or vanished, a binding
 * changed state or went away; NULL = anything): plan every NIC with a
 * journal again soon.  Anything but a state change also tries refused binds
 * again. */
void reconcile_binder_changed(struct reconcile *rc, const struct binder_event *ev);
/* A NIC changed (monitor callback): reconcile it soon (coalesced). */
void reconcile_nic_changed(struct reconcile *rc, const char *nic);
/* Its queues changed as netdev queue-get shows them (a memory provider,
 * AF_XDP socket or lease came or went, the queue count changed): as
 * reconcile_nic_changed, and its refused binds are asked again. */
void reconcile_queues_changed(struct reconcile *rc, const char *nic);

/* Requests.  Each returns 0 or -errno with out->err / out->error_name. */
/* *ret (attach_init'ed by the caller, optional) gets a copy of the
 * attachment as planned (dry run) or made. */
int reconcile_attach(struct reconcile *rc, const struct attach_id *id, bool dry_run,
		     struct reconcile_outcome *out, struct attach *ret);
/* The same Attach (not a dry run), sharing its NIC's run with the other
 * Attach requests the loop has ready (reconcile-batch.c).  Returns 0 when
 * queued: done(ud, r, out, a) is called once the NIC ran, with the
 * request's answer as reconcile_attach gives it (a: the attachment made,
 * valid during the call; NULL when r < 0).  Returns -errno with out set
 * when refused at once (invalid, not managed, taken), -EOPNOTSUPP without
 * an event loop (then call reconcile_attach). */
typedef void (*reconcile_attach_done_fn)(void *ud, int r, struct reconcile_outcome *out,
					 const struct attach *a);
int reconcile_attach_queue(struct reconcile *rc, const struct attach_id *id,
			   struct reconcile_outcome *out, reconcile_attach_done_fn done, void *ud);
/* The dry run of attaching several vNICs (a domain's, by its XML): planned
 * together, as the real requests would leave them, one after the other
 * (each checked as reconcile_attach checks it, a refusal leaving out only
 * that vNIC) and then every NIC touched planned once.  rets[i]
 * (attach_init'ed by the caller) gets what ids[i] would get, or for a
 * refused one its identity, state failed and the refusal as the reason
 * (code "pool-exhausted" or "refused").  out gets one plan per NIC. */
int reconcile_attach_dry(struct reconcile *rc, const struct attach_id *ids, size_t n,
			 struct reconcile_outcome *out, struct attach *rets);
/* Remove attachments matching (domain or uuid, nic, mac; NULL = any);
 * returns how many matched. */
int reconcile_detach(struct reconcile *rc, const char *domain, const char *uuid, const char *nic,
		     const uint8_t *mac, bool dry_run, struct reconcile_outcome *out);
int reconcile_rebalance(struct reconcile *rc, const char *nic, bool dry_run,
			const struct plan_rebalance_opts *opts, struct reconcile_outcome *out);
int reconcile_release(struct reconcile *rc, const char *nic, bool dry_run,
		      struct reconcile_outcome *out);
/* Reconcile one NIC now (nic NULL: every NIC; the Reconcile method), trying
 * the binds the module refused there again; its ops count as repairs. */
int reconcile_nic(struct reconcile *rc, const char *nic, struct reconcile_outcome *out);
/* What reconcile would do now (nic NULL = every NIC), against each NIC
 * read again from the kernel; limited: a reader's, whose reads of a NIC
 * are at most one per second (its plan may be that old). */
int reconcile_plan(struct reconcile *rc, const char *nic, bool limited,
		   struct reconcile_outcome *out);
/* Detach attachments of libvirt domains (those with a UUID) not running. */
int reconcile_prune(struct reconcile *rc, const char *const *running_uuids, size_t n);

/*
 * The crash tests' seam: called when a change reaches a named point
 * ("intent" persisted, "before-op" / "after-op" / "undo" of an op, state
 * "saved").  zcrxd's definition does nothing; the test-only daemon
 * (tests/tools/zcrxd-fake.c) links one that can kill the process there.
 * Nothing in the production binary reads the environment for it.
 */
void reconcile_test_point(const char *point);

/*
 * Leases (reconcile-lease.c, DESIGN.md §14): attachments of kind
 * ATTACH_KIND_LEASE for host zero-copy consumers (io_uring zcrx, devmem).
 * A lease is all or nothing: it is refused with a named error
 * (io.zcrx.Manager.NicUnsupported with the capability in err.op,
 * QueueInUse, PoolExhausted, FlowInUse, LeaseExists, InvalidFlow,
 * KernelError) unless its queues, rules and header split (hds-thresh 0)
 * are all in place.  Its consumer's state follows queue-get:
 * reconcile_lease_observed() after every run of its NIC.
 */
struct reconcile_lease_req {
	const char *nic;
	struct flow flow;
	uint32_t queues;  /* >= 1; > 1 is an RSS context */
	const char *name; /* NULL/"": "lease-ID" */
	pid_t pid;        /* owner process, 0 = owned by its name */
	uint64_t pid_start;
};

/* A new lease, or the same one when asked again with the same name and
 * content.  *ret (attach_init'ed, optional) gets a copy. */
int reconcile_lease(struct reconcile *rc, const struct reconcile_lease_req *req,
		    struct reconcile_outcome *out, struct attach *ret);
/* Release a lease by name or id; why goes to the log and the event.
 * *ret (optional) gets the lease as it was, state released. */
int reconcile_unlease(struct reconcile *rc, const char *lease, const char *why,
		      struct reconcile_outcome *out, struct attach *ret);
struct attach *reconcile_find_lease(struct reconcile *rc, const char *lease);
bool reconcile_lease_name_ok(const char *name);
/* Log and publish that lease a is gone (why: "released by pid N", ...). */
void reconcile_lease_released(struct reconcile *rc, const struct attach *a, const char *why);
/* The consumer's state from a's results; announce: log and publish a change. */
void reconcile_lease_observed(struct reconcile *rc, struct attach *a, bool announce);
json_object *reconcile_lease_json(const struct attach *a);
/* The leases (of nic, NULL = all) as a JSON array. */
json_object *reconcile_leases_json(struct reconcile *rc, const char *nic);

struct reconcile_lease_owner {
	uint32_t id;
	pid_t pid;
	uint64_t pid_start;
};
/* The leases owned by processes: fills up to max, returns how many exist. */
size_t reconcile_lease_owners(struct reconcile *rc, struct reconcile_lease_owner *v, size_t max);

/* Reading. */
/*
 * Group commit for bursts (the libvirt follower handling many events at
 * once): while deferred, the state save after each applied plan is held
 * back and written once when deferral ends, and synced within
 * RC_LAZY_COMMIT_USEC (50 ms: a storm of batches shares its fdatasyncs;
 * a reply that waits for durability syncs at once).  The intent written
 * before a plan changes the kernel is never held back, so a crash still
 * orphans nothing; a crash loses at most the held-back bookkeeping (a
 * process crash not even that: it is written), which the next start
 * re-derives (libvirt resync, journal_resolve_pending).
 */
void reconcile_defer_saves(struct reconcile *rc, bool defer);

/*
 * Group commit: a request's change is written to the state log at once but
 * synced later, once for every request the loop had ready (an idle-priority
 * source).  fn(ud) runs when everything written so far is durable: at once
 * when it is, else after that sync.  Replies to requests that changed
 * something go out through it (api-attach.c), so no reply tells of a
 * change a crash could lose.
 */
void reconcile_when_durable(struct reconcile *rc, void (*fn)(void *ud), void *ud);

/* Is nic within what zcrxd looks after: a NIC it manages or may manage
 * (named, covered by [nic *], or with something of zcrxd's on it)?  The
 * binder's capability entry and the metrics list only these. */
bool reconcile_nic_in_scope(struct reconcile *rc, const struct nic *nic);
/* A link by name, observed now when the monitor has not seen it yet (a
 * macvtap made a moment ago); NULL when there is none. */
const struct nic *reconcile_find_link(struct reconcile *rc, const char *name);
/* Is tap the vNIC id's own: a macvtap on id's NIC (id->nic_ifindex), in
 * zcrxd's namespace, carrying id's MAC?  NULL when it is, else why not (in
 * buf).  Nothing else is ever taken as an attachment's tap. */
const char *reconcile_tap_mismatch(const struct attach_id *id, const struct nic *tap, char *buf,
				   size_t size);
size_t reconcile_count(const struct reconcile *rc);
const struct attach *reconcile_at(const struct reconcile *rc, size_t i);
const struct store *reconcile_store(const struct reconcile *rc);
struct reconcile_stats reconcile_get_stats(const struct reconcile *rc);
/* The commit's fdatasync under way (on the syncer's thread): for how
 * long, its bound, the replies that wait for it (those it covers and the
 * next commit's, which starts when it returns).  False when none runs. */
struct reconcile_commit_sync {
	uint64_t for_usec;
	uint64_t bound_usec;
	size_t waiting;
	bool compaction; /* the job under way is a compaction, not an fdatasync */
};
bool reconcile_get_commit_sync(const struct reconcile *rc, struct reconcile_commit_sync *ret);
/* The state directory's bounded calls (GetStatus kernel_calls "state");
 * NULL without a state directory or an event loop. */
struct kcall;
const struct kcall *reconcile_syncer(const struct reconcile *rc);
/* A sync of the state directory did not return within its bound and has
 * not returned since: nothing can be made durable now. */
bool reconcile_state_stuck(const struct reconcile *rc);
/* Lay what refused and accepted changes on nic taught (the capabilities
 * the planner goes by) over caps, for showing them. */
void reconcile_overlay_learned(const struct reconcile *rc, const char *nic,
			       struct nic_caps *caps);
/* The NICs of a listing: [{nic, released, channels, pool, shared, leased,
 * notes}] (nic, domain: only those, as reconcile_list_json). */
json_object *reconcile_list_nics_json(const struct reconcile *rc, const char *nic,
				      const char *domain);
/* ListAttachments' parameters: {attachments: [...], nics: [...] (above),
 * refused}.  domain_state (optional): each attachment's "domain_state"
 * (NULL: null).  refused is consumed (NULL: null).  The value is text
 * already (jtext.h): it serializes and is sent as it is, it cannot be
 * walked as a tree.  NULL when out of memory. */
json_object *reconcile_list_json(const struct reconcile *rc, const char *nic, const char *domain,
				 const char *(*domain_state)(void *ud, const struct attach *a),
				 void *ud, json_object *refused);
