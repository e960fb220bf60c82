// SPDX-License-Identifier: MIT
/*
 * reconcile-nic — observe -> plan -> exec -> store for one NIC: the NIC's
 * view (learned caps, refusals, the binder's bindings, the vNICs' taps), up
 * to RC_ROUNDS plans and their execution, the results into the
 * attachments, repairs logged and counted.
 *
 * Owns: one NIC's run (reconcile_run_nic), the binder's view of a NIC.
 * Must not: answer requests (reconcile-request.c) or decide when to run
 * (reconcile.c).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "kcall.h"
#include "log.h"
#include "nic-monitor.h"
#include "reconcile-int.h"

static void rc_nic_summary(struct rc_nic *n, const struct plan *p)
{
	free(n->pool);
	free(n->shared);
	attach_reasons_free(n->notes, n->n_notes);
	n->channels = p->channels;
	n->n_pool = p->n_pool;
	n->n_shared = p->n_shared;
	n->n_notes = p->n_notes;
	n->pool = n->n_pool ? malloc(n->n_pool * sizeof(uint32_t)) : NULL;
	n->shared = n->n_shared ? malloc(n->n_shared * sizeof(uint32_t)) : NULL;
	n->notes = attach_reasons_dup(p->notes, p->n_notes);
	if ((n->n_pool && !n->pool) || (n->n_shared && !n->shared) || (n->n_notes && !n->notes)) {
		n->n_pool = n->n_shared = 0;
		if (!n->notes)
			n->n_notes = 0;
		return;
	}
	if (n->n_pool)
		memcpy(n->pool, p->pool, n->n_pool * sizeof(uint32_t));
	if (n->n_shared)
		memcpy(n->shared, p->shared, n->n_shared * sizeof(uint32_t));
}

/* Which name lengths the links in the monitor's table have (bit n: a name
 * of n bytes).  While the table is the kernel's (rc->links_current), a tap
 * whose name has a length no link's has is no link: no lookup, which
 * compares the name with every link's.  With no tap made (the VM not
 * started yet, libvirt's test driver) that lookup was most of a run's
 * work per attachment. */
static uint32_t link_name_lengths(const struct nic_monitor *m)
{
	size_t i, n = nic_monitor_count(m);
	uint32_t lens = 0;

	for (i = 0; i < n; i++)
		lens |= 1u << strnlen(nic_monitor_at(m, i)->link.name, IF_NAMESIZE - 1);
	return lens;
}

/* The vNIC's macvtap as the kernel knows it now: gone (the VM stopped, the
 * binding went with it) means no ifindex, so nothing is bound to a dead
 * device; one made again under the same name is found again.  lens: the
 * table's name lengths (link_name_lengths) while rc->links_current. */
static void refresh_tap(struct reconcile *rc, struct attach_id *id, uint32_t lens)
{
	int was = id->tap_ifindex;
	const struct nic *tap;
	char why[128];
	struct ifreq ifr;

	/* the rtnl monitor's table first: a tap it holds is there, no kernel
	 * call per attachment per round (it follows RTM_NEWLINK/DELLINK); one
	 * it does not hold may be too new for it: ask the kernel */
	if (id->tap_ifindex > 0 && rc->d.monitor && nic_monitor_get(rc->d.monitor, id->tap_ifindex))
		return;
	if (rc->links_current) {
		/* the table is the kernel's now: one it does not hold is gone,
		 * a name it does not hold is no link */
		id->tap_ifindex = 0;
		if (id->tap[0] && (lens >> strnlen(id->tap, IF_NAMESIZE - 1) & 1) &&
		    (tap = reconcile_find_link(rc, id->tap)) &&
		    !reconcile_tap_mismatch(id, tap, why, sizeof(why)))
			id->tap_ifindex = tap->link.ifindex;
		if (id->tap_ifindex != was)
			store_mark(&rc->store, id->nic, id->mac);
		return;
	}
	/* if_indextoname()/if_nametoindex() open a socket per call; this runs
	 * for every attachment of a NIC on every run: keep one. */
	if (rc->ifsock < 0)
		rc->ifsock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (rc->ifsock < 0)
		return;
	if (id->tap_ifindex > 0) {
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_ifindex = id->tap_ifindex;
		if (ioctl(rc->ifsock, SIOCGIFNAME, &ifr) < 0)
			id->tap_ifindex = 0;
	}
	/* a device of that name is the tap only when it is the vNIC's own
	 * macvtap (reconcile_tap_mismatch) */
	if (!id->tap_ifindex && id->tap[0] && (tap = reconcile_find_link(rc, id->tap)) &&
	    !reconcile_tap_mismatch(id, tap, why, sizeof(why)))
		id->tap_ifindex = tap->link.ifindex;
	if (id->tap_ifindex != was)
		store_mark(&rc->store, id->nic, id->mac);
}

static void add_owner(struct reconcile *rc, const uint8_t *mac)
{
	uint8_t(*v)[NIC_MAC_LEN];
	size_t i;

	for (i = 0; i < rc->n_exec_owners; i++)
		if (!memcmp(rc->exec_owners[i], mac, NIC_MAC_LEN))
			return;
	v = realloc(rc->exec_owners, (rc->n_exec_owners + 1) * sizeof(*v));
	if (!v) {
		rc->exec_whole = true;
		return;
	}
	rc->exec_owners = v;
	memcpy(v[rc->n_exec_owners++], mac, NIC_MAC_LEN);
}

/* Whose journal entries can executing p create or remove?  The owner of
 * each op, and of the entry each removal finds in j now.  An entry found by
 * no op's owner nor lookup: the whole journal (rare; a FORGET of something
 * without owner). */
static void exec_owners(struct reconcile *rc, const struct journal_nic *j, const struct plan *p)
{
	size_t i;

	rc->n_exec_owners = 0;
	rc->exec_whole = false;
	rc->exec_persists = 0;
	for (i = 0; i < p->n_ops; i++) {
		const struct plan_op *op = &p->ops[i];
		ssize_t k = -1;

		if (op->has_owner)
			add_owner(rc, op->owner);
		switch (op->kind) {
		case PLAN_OP_RULE_DELETE:
			if ((k = journal_find_rule_exact(j, &op->rule)) >= 0)
				add_owner(rc, j->rules[k].owner);
			break;
		case PLAN_OP_RSS_DELETE:
			if ((k = journal_find_ctx(j, op->ctx)) >= 0)
				add_owner(rc, j->ctxs[k].owner);
			break;
		case PLAN_OP_UNBIND:
			if ((k = journal_find_binding(j, op->binding_id)) >= 0)
				add_owner(rc, j->bindings[k].owner);
			break;
		case PLAN_OP_UNLEASE:
			if ((k = journal_find_lease(j, op->queue)) >= 0)
				add_owner(rc, j->leases[k].owner);
			break;
		case PLAN_OP_FORGET:
			if (op->forget == PLAN_FORGET_RULE || op->forget == PLAN_FORGET_CTX ||
			    op->forget == PLAN_FORGET_BINDING)
				rc->exec_whole = rc->exec_whole || !op->has_owner;
			break;
		default:
			break;
		}
	}
}

/* --- the binder's view of one NIC ------------------------------------------------------ */

/* rn (optional): the NIC's refused binds go into the planner's input. */
void reconcile_binder_view_fill(struct reconcile *rc, const struct nic *nic, struct rc_nic *rn,
				struct reconcile_binder_view *v)
{
	const struct binder_ops *ops = rc->binder.ops;
	size_t i, k = 0;

	memset(v, 0, sizeof(*v));
	if (rn && rn->n_refused && rn->refused_ifindex != nic->link.ifindex)
		reconcile_refusals_clear(rn); /* another device under the name now */
	if (rn) {
		v->pb.refused = rn->refused;
		v->pb.n_refused = rn->n_refused;
	}
	if (!ops) {
		kerror_set(&v->pb.resolve_err, ENOENT, NULL, "resolve vhost_zcrx",
			   "no zero-copy binder in this zcrxd");
		return;
	}
	if (ops->resolve(rc->binder.be, &v->pb.resolve_err) < 0)
		return;
	v->pb.available = true;
	if (ops->probe && ops->probe(rc->binder.be, nic->link.ifindex, &v->pb.probe,
				     &v->pb.probe_err) == 0)
		v->pb.probed = true;
	if (ops->dump) {
		struct kerror e = { 0 };

		if (ops->dump(rc->binder.be, &v->all, &v->n_all, &e) < 0) {
			v->all = NULL;
			v->n_all = 0;
		}
	}
	v->mine = calloc(v->n_all ? v->n_all : 1, sizeof(*v->mine));
	for (i = 0; v->mine && i < v->n_all; i++)
		if (v->all[i].ifindex == nic->link.ifindex)
			v->mine[k++] = v->all[i];
	v->pb.bindings = v->mine;
	v->pb.n_bindings = v->mine ? k : 0;
}

void reconcile_binder_view_clear(struct reconcile_binder_view *v)
{
	free(v->all);
	free(v->mine);
}

/* --- one NIC ------------------------------------------------------------------------------ */

struct attach *reconcile_find_att(struct reconcile *rc, const char *nic, const uint8_t *mac)
{
	ssize_t i = store_find_attach(&rc->store, nic, mac);

	return i >= 0 ? &rc->store.atts[i] : NULL;
}

/* The attachments on NIC name into *buf (grown as needed, kept for the
 * next round), in the store's order; their count in *n.  -ENOMEM. */
static int nic_atts(struct reconcile *rc, const char *name, const struct attach ***buf,
		    size_t *cap, size_t *n)
{
	const size_t *on = store_atts_on(&rc->store, name, n);
	size_t i;

	if (*n > *cap) {
		const struct attach **v = reallocarray(*buf, *n, sizeof(*v));

		if (!v)
			return -ENOMEM;
		*buf = v;
		*cap = *n;
	}
	for (i = 0; i < *n; i++)
		(*buf)[i] = &rc->store.atts[on[i]];
	return 0;
}

/* The plan's results into the attachments; announce: tell Monitor
 * subscribers what changed (not for dry runs: nothing happened). */
static void set_results(struct reconcile *rc, const struct attach *const *atts, size_t n,
			const struct plan *p, bool announce)
{
	size_t i;

	for (i = 0; i < n && i < p->n_results; i++) {
		struct attach *a = (struct attach *)atts[i];
		struct attach_result before;
		bool had;

		if (attach_result_same(&a->res, &p->results[i], false)) {
			/* nothing to copy, nothing to announce (most of a NIC's
			 * attachments on each run): nothing kept of it either */
			if (a->id.kind == ATTACH_KIND_LEASE)
				reconcile_lease_observed(rc, a, announce);
			continue;
		}
		before = a->res;
		had = a->res.n_reasons || a->res.n_queues || a->res.steering[0];
		attach_result_init(&a->res);
		if (attach_result_copy(&a->res, &p->results[i]) < 0) {
			attach_result_clear(&before);
			continue;
		}
		if (announce && had && reconcile_listening(rc) &&
		    !attach_result_same(&before, &a->res, true))
			reconcile_publish(rc, "attachment-changed", attach_to_json(a));
		if (a->id.kind == ATTACH_KIND_LEASE)
			reconcile_lease_observed(rc, a, announce);
		attach_result_clear(&before);
	}
}

/* --- changes that do not settle ------------------------------------------------------------ */

/* The ids of the contexts p made (exec recorded them in j), into made. */
static size_t note_made(const struct plan *p, const struct journal_nic *j, uint32_t *made,
			size_t n, size_t max)
{
	size_t i, k;

	for (i = 0; i < p->n_ops; i++) {
		const struct plan_op *op = &p->ops[i];

		if (op->kind != PLAN_OP_RSS_CREATE)
			continue;
		for (k = 0; k < j->n_ctxs && n < max; k++) {
			const struct journal_ctx *c = &j->ctxs[k];

			if (!c->pending && !memcmp(c->owner, op->owner, NIC_MAC_LEN) &&
			    c->n_queues == op->n_ctx_queues &&
			    !memcmp(c->queues, op->ctx_queues, c->n_queues * sizeof(uint32_t))) {
				made[n++] = c->id;
				break;
			}
		}
	}
	return n;
}

/* A context this run made that the kernel reads back as gone right after:
 * planning with that read would forget it and make another, and another
 * (issue 9: contexts leaked until the driver said ENOSPC).  Learn that
 * contexts cannot be followed on this NIC: the next plan uses one queue
 * per vNIC (and deletes the context, which the read is not believed
 * about: unbelieved_gone).  Returns true when this was learned now. */
static bool made_then_gone(struct reconcile *rc, struct rc_nic *rn, const char *name,
			   const struct nic *nic, const uint32_t *made, size_t n_made)
{
	char msg[KERROR_MSG_MAX];
	size_t k;

	if (rn->learned.rss_contexts.state == NIC_CAP_NO)
		return false;
	for (k = 0; k < n_made && nic_ctx_state(nic, made[k]) != NIC_CTX_GONE; k++)
		;
	if (k == n_made)
		return false;
	snprintf(msg, sizeof(msg),
		 "RSS context %u, made by zcrxd, reads back as gone: contexts cannot be "
		 "followed on this NIC, none are made",
		 made[k]);
	nic_cap_set(&rn->learned.rss_contexts, NIC_CAP_NO, ESTALE, msg);
	rc->st.learned++;
	log_nic(LOG_WARNING, LOG_SUBSYS_MANAGER, name, "learned: %s; planning again", msg);
	return true;
}

/* The view's contexts read as gone, less those this run made: a read that
 * says a context zcrxd just made is gone is not believed (the journal's
 * word stands, and what is no longer wanted is deleted, not forgotten).
 * *ret_gone (malloc'd) replaces view->rss_gone while planning. */
static void unbelieved_gone(struct nic *view, const uint32_t *made, size_t n_made,
			    uint32_t **ret_gone)
{
	uint32_t *g;
	size_t i, k, n = 0;

	*ret_gone = NULL;
	if (!n_made || !view->n_rss_gone)
		return;
	g = malloc(view->n_rss_gone * sizeof(*g));
	if (!g)
		return;
	for (i = 0; i < view->n_rss_gone; i++) {
		for (k = 0; k < n_made && made[k] != view->rss_gone[i]; k++)
			;
		if (k == n_made)
			g[n++] = view->rss_gone[i];
	}
	view->rss_gone = g;
	view->n_rss_gone = n;
	*ret_gone = g;
}

/* Op i of p as applied: with the ids the kernel gave (ids from
 * exec_plan_ids; without them, the plan's own words). */
static const char *done(const struct plan *p, const uint32_t *ids, size_t i, char *buf,
			size_t size)
{
	const struct plan_op *op = &p->ops[i];

	if (!ids)
		return plan_op_describe(op, buf, size);
	return plan_op_describe_done(op, ids[i], op->ctx_op >= 0 ? ids[op->ctx_op] : 0, buf,
				     size);
}

/* RC_ROUNDS plans applied and the kernel still shows something to change:
 * stop (the next trigger tries again) and say so in the attachments whose
 * steering is not in place. */
static void unsettled(const char *name, const struct attach *const *atts, size_t n,
		      const struct plan *p)
{
	char d[256];
	size_t i, k;

	log_nic(LOG_WARNING, LOG_SUBSYS_MANAGER, name,
		"changes did not settle in %d rounds: %s (%s) is planned again; the next run "
		"tries again",
		RC_ROUNDS, plan_op_describe(&p->ops[0], d, sizeof(d)), p->ops[0].reason);
	for (i = 0; i < n; i++) {
		struct attach *a = (struct attach *)atts[i];

		for (k = 0; k < p->n_ops; k++) {
			const struct plan_op *op = &p->ops[k];

			if (!op->has_owner || memcmp(op->owner, a->id.mac, NIC_MAC_LEN) ||
			    (op->kind != PLAN_OP_RULE_INSERT && op->kind != PLAN_OP_RSS_CREATE))
				continue;
			(void)attach_result_add_reasonf(
				&a->res, ATTACH_R_UNSTEERED, name, plan_op_kind_name(op->kind),
				EAGAIN,
				"steering not in place: '%s' is still planned after %d rounds "
				"of changes",
				plan_op_describe(op, d, sizeof(d)), RC_ROUNDS);
			if (a->res.state == ATTACH_STATE_ACTIVE || a->res.state == ATTACH_STATE_PENDING)
				a->res.state = ATTACH_STATE_DEGRADED;
			break;
		}
	}
}

/* Does the plan refuse one of the attachments a request watches
 * (rc->watch) because the pool cannot take it (OnExhaustion=fail)?  Then
 * rc->watch_hit says which, *err why.  The request's one plan is its pool
 * check too: no dry run first. */
static bool pool_refused(struct reconcile *rc, const struct attach **atts, size_t n,
			 const struct plan *p, const char *name, struct kerror *err)
{
	size_t i, w, q;

	for (i = 0; i < n && i < p->n_results; i++) {
		const struct attach_result *res = &p->results[i];

		if (res->state != ATTACH_STATE_FAILED ||
		    !attach_result_has_reason(res, ATTACH_R_POOL_EXHAUSTED))
			continue;
		for (w = 0; w < rc->n_watch; w++) {
			if (memcmp(rc->watch[w], atts[i]->id.mac, NIC_MAC_LEN))
				continue;
			rc->watch_hit = (ssize_t)w;
			for (q = 0; q < res->n_reasons; q++)
				if (!strcmp(res->reasons[q].code, ATTACH_R_POOL_EXHAUSTED))
					break;
			kerror_set(err, ENOSPC, name, "attach",
				   q < res->n_reasons ? res->reasons[q].msg : "pool exhausted");
			return true;
		}
	}
	return false;
}

static uint64_t loop_usec(const struct reconcile *rc)
{
	struct timespec ts;
	uint64_t now;

	if (rc->d.event && sd_event_now(rc->d.event, CLOCK_MONOTONIC, &now) >= 0)
		return now; /* the loop turn's: the same for every dry run of a request */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A dry run plans against the NIC as the kernel shows it now, not as zcrxd
 * last read it (rules have no notifications): read it again, through the
 * same bounded calls as a run -- once per loop turn (a request's dry runs
 * share it), for a reader's Plan (rc->dry_limited) at most once per
 * RC_DRY_READ_USEC.  The monitor publishes what the read finds
 * (nic-changed), but it is no drift to act on: a read-only caller never
 * causes a change (reconcile_nic_changed); the reconcile repairs at its own
 * time.  0, or -errno with *err: not planned (an old reading would say
 * "nothing to do" where the kernel differs). */
static int dry_read(struct reconcile *rc, struct rc_nic *rn, const char *name, int ifindex,
		    struct kerror *err)
{
	uint64_t now = loop_usec(rc);
	int r;

	if (rn->dry_read_at && (rc->dry_limited ? now - rn->dry_read_at < RC_DRY_READ_USEC :
						  now == rn->dry_read_at))
		return 0;
	rn->dry_read_at = now;
	rc->dry_reading = true;
	r = nic_monitor_refresh(rc->d.monitor, ifindex, NIC_OBSERVE_ALL);
	rc->dry_reading = false;
	if (r < 0 && r != -ENODEV) /* gone: its attachments wait for it, below */
		return kerror_set(err, r, name, "plan", "not planned: the NIC could not be read");
	return 0;
}

/* What an applied op can have changed on the NIC, to read back: a rule
 * inserted or deleted changes the rule table alone (and the kernel's
 * answer, its location, is in it); anything else is read in full (a
 * channel count moves the RSS table and contexts, a context made must be
 * seen to exist, a binding shows in the queues). */
static unsigned readback_parts(const struct plan_op *op)
{
	if (op->kind == PLAN_OP_RULE_INSERT || op->kind == PLAN_OP_RULE_DELETE)
		return NIC_OBSERVE_RULES;
	return NIC_OBSERVE_ALL;
}

/* Apply p, planned for name (its journal j), and take the kernel's answers
 * into the run's outcome, the counters and the journal (saved); st: its
 * intent is recorded and durable already (stage()).  Returns 1 when the
 * run plans again (applied, or refused and learned or held); 0 when p
 * changed the journal only and was applied in full: it settled by itself
 * (plan_journal_only), a plan again would find nothing to do and give the
 * results p gave; -errno with *err when the refusal ends the run. */
static int apply_plan(struct reconcile *rc, struct rc_nic *rn, const char *name, int ifindex,
		      struct journal_nic *j, struct plan *pp, struct exec_staged *st,
		      struct reconcile_outcome *out, struct kerror *err, uint32_t *made,
		      size_t *n_made)
{
	const struct plan p = *pp; /* (read only: the caller clears it) */
	struct exec_env env = { 0 };
	struct exec_result res;
	bool *refused;
	uint32_t *ids;
	unsigned what;
	size_t i;
	int r;

	env.nic = rc->d.nic;
	env.binder = rc->binder.ops ? &rc->binder : NULL;
	env.persist = reconcile_persist;
	env.fault = reconcile_exec_point;
	env.bind_refused = reconcile_on_bind_refused;
	env.userdata = rc;
	/* zcrxd unbinding frees a queue or tap (or a binding of the
	 * module's budget): what was refused gets its chance again */
	for (i = 0; i < p.n_ops && p.ops[i].kind != PLAN_OP_UNBIND; i++)
		;
	if (i < p.n_ops)
		reconcile_refusals_clear(rn);
	rc->exec_nic = rn;
	rc->exec_plan = pp;
	rc->exec_refused = calloc(p.n_ops, sizeof(bool));
	exec_owners(rc, j, pp);
	if (st && st->intent)
		rc->exec_persists = 1; /* the intent's (a second one is the rollback's) */
	/* the kernel's ids of what the plan made, for the log lines */
	ids = calloc(p.n_ops, sizeof(*ids));
	r = st ? exec_plan_staged(&env, pp, j, st, &res, ids) : exec_plan_ids(&env, pp, j, &res, ids);
	if (r < 0 || res.failed >= 0 || res.rolled_back)
		rc->exec_whole = true;
	reconcile_mark_exec(rc, name);
	refused = rc->exec_refused;
	rc->exec_nic = NULL;
	rc->exec_plan = NULL;
	rc->exec_refused = NULL;
	for (i = 0; i < res.n_applied; i++)
		plan_learn_ok(&rn->learned, &p.ops[i]);
	if (r == 0)
		*n_made = note_made(pp, j, made, *n_made, RC_MADE_MAX);
	if (r == 0) {
		struct plan *o = reconcile_outcome_plan(out, name);
		bool settled = plan_journal_only(pp) && res.n_applied == p.n_ops;
		size_t base;

		if (o && !o->channels)
			reconcile_plan_summary_copy(o, pp);
		if (res.n_applied > res.n_bind_refused)
			rc->st.plans_applied++;
		base = o ? o->n_ops : 0;
		for (i = 0; i < p.n_ops; i++) {
			const struct plan_op *op = &p.ops[i];
			bool kernel = plan_op_is_kernel(op);
			char d[256];

			if (refused && refused[i])
				continue; /* left out: not applied */
			if (op->kind == PLAN_OP_UNBIND && op->rebind)
				reconcile_rebound(rn, op);
			rc->st.ops++;
			/* a repair: what no request asked for, or what the
			 * planner says puts back a thing removed outside */
			if (kernel && (op->repair || (!rc->request && !rc->applying))) {
				rc->st.repairs++;
				log_nic(LOG_NOTICE, LOG_SUBSYS_MANAGER, name, "repair: %s (%s)",
					done(pp, ids, i, d, sizeof(d)), op->reason);
				if (reconcile_listening(rc))
					reconcile_publish(rc, "reconcile-repair", plan_op_to_json(op));
			} else if (op->kind == PLAN_OP_FORGET) {
				/* what changed outside, found by this run */
				log_nic(LOG_NOTICE, LOG_SUBSYS_MANAGER, name, "drift: %s (%s)",
					plan_op_describe(op, d, sizeof(d)), op->reason);
			} else if (rc->applying && kernel) {
				log_nic(LOG_INFO, LOG_SUBSYS_MANAGER, name, "apply: %s (%s)",
					done(pp, ids, i, d, sizeof(d)), op->reason);
			} else {
				log_debug(LOG_SUBSYS_EXEC, "%s: %s (%s)", name,
					  done(pp, ids, i, d, sizeof(d)), op->reason);
			}
			reconcile_plan_append(o, op, base);
		}
		if (out && res.n_applied > res.n_bind_refused)
			out->changed = true;
		(void)reconcile_save(rc);
		for (i = 0, what = 0; i < p.n_ops; i++)
			if (plan_op_is_kernel(&p.ops[i]) && !(refused && refused[i]))
				what |= readback_parts(&p.ops[i]);
		if (what && st && rc->defer_readback) /* with the batch's others */
			rn->readback |= what;
		else if (what) /* the kernel changed: read it back */
			(void)nic_monitor_refresh(rc->d.monitor, ifindex, what);
		free(refused);
		free(ids);
		return settled ? 0 : 1;
	}
	free(refused);
	free(ids);

	/* refused and rolled back */
	rc->st.exec_failures++;
	rc->st.kernel_errors++;
	{
		char buf[768];

		log_nic(LOG_WARNING, LOG_SUBSYS_EXEC, name, "%s",
			exec_result_format_in(&res, name, buf, sizeof(buf)));
	}
	(void)reconcile_save(rc); /* the journal without the intent's pending entries */
	if (res.failed >= 0 && plan_learn(&rn->learned, &p.ops[res.failed], &res.err)) {
		char buf[768];

		rc->st.learned++;
		/* the op and the kernel's answer (an ioctl has no text: then
		 * the errno's) */
		log_nic(LOG_INFO, LOG_SUBSYS_MANAGER, name, "learned: %s; planning again",
			kerror_format_in(&res.err, name, buf, sizeof(buf)));
	} else if (res.failed >= 0 && reconcile_hold(rc, name, &p.ops[res.failed], &res.err)) {
		/* planned again without it */
	} else {
		*err = res.err;
		return -(res.err.err ? res.err.err : EIO);
	}
	(void)nic_monitor_refresh(rc->d.monitor, ifindex, NIC_OBSERVE_ALL);
	return 1;
}

/* The first plan of a batch's run (rc->stage_intents) that needs an intent:
 * recorded in j and marked for the batch's one write and sync, kept in rn
 * until the next call applies it.  False: applied now (it needs no intent,
 * or recording it failed: exec tries again and says why). */
static bool stage(struct reconcile *rc, struct rc_nic *rn, const char *name,
		  struct journal_nic *j, struct plan *p)
{
	exec_owners(rc, j, p);
	if (exec_stage(p, j, &rn->staged_x) <= 0)
		return false;
	reconcile_mark_exec(rc, name);
	rn->staged_plan = *p;
	memset(p, 0, sizeof(*p));
	rn->staged = true;
	return true;
}

void reconcile_unstage(struct reconcile *rc, struct rc_nic *rn)
{
	struct journal_nic *j = store_journal(&rc->store, rn->name, 0, false);

	if (!rn->staged)
		return;
	if (j)
		exec_unstage(&rn->staged_plan, j, &rn->staged_x);
	else
		free(rn->staged_x.pre);
	rn->staged_x.pre = NULL;
	store_mark_nic(&rc->store, rn->name);
	plan_clear(&rn->staged_plan);
	rn->staged = false;
}

/*
 * observe -> plan -> exec -> store for one NIC.  dry_run: plan only (into
 * out).  Returns 0, or -errno with *err when a refusal could not be planned
 * around.
 */
int reconcile_run_nic(struct reconcile *rc, const char *name, enum plan_mode mode, bool dry_run,
		      const struct plan_rebalance_opts *rb, struct reconcile_outcome *out,
		      struct kerror *err)
{
	struct rc_nic *rn = reconcile_nic_state(rc, name);
	const struct nic *nic;
	struct config_nic pol;
	bool has_pol, converged = false, settled = true, resume, applied;
	uint32_t made[RC_MADE_MAX]; /* contexts this run made */
	const struct attach **atts = NULL; /* the NIC's, for every round */
	size_t n_made = 0, cap_atts = 0;
	int round = 0, r = 0, fresh;
	/* the first round's catch-up is for the run's cause; the later
	 * rounds' need not read again (zcrxd makes, renames and deletes no
	 * link: its own changes, read back after each round, move none) */
	enum nic_catch_up since = rc->links_since;

	if (!rn)
		return kerror_set(err, ENOMEM, name, "reconcile", NULL);
	fresh = rn->read_fresh; /* for this run only */
	rn->read_fresh = 0;
	/* the third call of a staged run: applied, read back (RC_APPLIED) */
	applied = rn->applied && !dry_run;
	rn->applied = false;
	rn->readback = 0;
	/* the second call of a staged run: its first plan, intent durable */
	resume = rn->staged && !dry_run;
	if (rc->d.nic_calls && kcall_get_stuck(rc->d.nic_calls, NULL)) {
		char why[KERROR_MSG_MAX - 64];

		if (resume) { /* nothing applied: the journal as before */
			reconcile_unstage(rc, rn);
			(void)reconcile_save(rc);
		}

		/* nothing can be read or changed: the run waits for the call
		 * that hangs (the manager runs every NIC when it returned); a
		 * dry run cannot read the NIC either: no plan from an old
		 * reading */
		if (!dry_run)
			rn->dirty = true;
		return kerror_setf(err, EAGAIN, name, dry_run ? "plan" : "reconcile",
				   "not tried: zcrxd's NIC calls are stuck: %s",
				   kcall_stuck_format(rc->d.nic_calls, why, sizeof(why)));
	}
	if (!dry_run)
		rn->dirty = false; /* a dry run changes nothing: a pending reconcile stays */
	nic = nic_monitor_find(rc->d.monitor, name);
	if (resume && !nic) { /* (cannot go between the calls: no event runs) */
		reconcile_unstage(rc, rn);
		(void)reconcile_save(rc);
		resume = false;
	}
	if (applied && nic) { /* (gone when read back: its attachments wait, below) */
		n_made = rn->n_made;
		memcpy(made, rn->made, n_made * sizeof(*made));
		round = 1;
		goto rounds;
	}
	if (resume) {
		struct journal_nic *j = store_journal(&rc->store, name, nic->link.ifindex, false);
		struct plan sp = rn->staged_plan;
		struct exec_staged sx = rn->staged_x;

		rn->staged = false;
		memset(&rn->staged_plan, 0, sizeof(rn->staged_plan));
		memset(&rn->staged_x, 0, sizeof(rn->staged_x));
		/* (a journal with an intent is never collected) */
		r = j ? apply_plan(rc, rn, name, nic->link.ifindex, j, &sp, &sx, out, err, made,
				   &n_made) :
			kerror_set(err, ENOENT, name, "reconcile", "the staged journal is gone");
		if (!j) {
			journal_nic_clear(&sx.snap);
			free(sx.pre);
		}
		plan_clear(&sp);
		if (r < 0)
			return r;
		r = 0;
		if (rn->readback) { /* the batch reads it back (rc->defer_readback) */
			rn->n_made = n_made;
			memcpy(rn->made, made, n_made * sizeof(*made));
			rn->applied = true;
			return RC_APPLIED;
		}
		round = 1;
		goto rounds;
	}
	/* read in full before acting: for libvirt events once per batch and
	 * at most every RC_EVENT_READ_USEC (a storm of them on one NIC is not
	 * a storm of re-reads), on the drift timer by its re-read of every
	 * link in this loop turn, for a batch of Attach requests right before
	 * it, with its other NICs (fresh); what the run changes it reads back
	 * right after */
	if (nic && !dry_run && !(rc->interval_read && nic->read_all_usec == loop_usec(rc)) &&
	    fresh != nic->link.ifindex &&
	    !(rc->defer_saves && rn->read_ifindex == nic->link.ifindex &&
	      (rn->read_batch == rc->save_batch ||
	       loop_usec(rc) - rn->read_usec < RC_EVENT_READ_USEC))) {
		int ifindex = nic->link.ifindex;

		(void)nic_monitor_refresh(rc->d.monitor, ifindex, NIC_OBSERVE_ALL);
		rn->read_batch = rc->defer_saves ? rc->save_batch : 0;
		rn->read_ifindex = ifindex;
		rn->read_usec = rc->defer_saves ? loop_usec(rc) : 0;
	} else if (nic && dry_run && (r = dry_read(rc, rn, name, nic->link.ifindex, err)) < 0) {
		return r;
	}
	nic = nic_monitor_find(rc->d.monitor, name);
	if (!nic) {
		struct attach_reason gone;
		char msg[IF_NAMESIZE + 32];
		const size_t *on;
		bool shared;
		size_t i, n;

		/* the NIC is gone: its attachments wait for it, all with one
		 * reason's text (thousands of them may) */
		snprintf(msg, sizeof(msg), "%s is not present", name);
		shared = attach_reason_set(&gone, ATTACH_R_NIC, name, "observe", ENODEV, msg) == 0;
		on = store_atts_on(&rc->store, name, &n);
		for (i = 0; i < n; i++) {
			struct attach *a = &rc->store.atts[on[i]];

			attach_result_clear(&a->res);
			a->res.state = ATTACH_STATE_FAILED;
			if (shared)
				(void)attach_result_add_reason_copy(&a->res, &gone);
		}
		attach_reason_clear(&gone);
		return 0;
	}
	if (!dry_run) {
		struct journal_nic *pj = store_journal(&rc->store, name, nic->link.ifindex, false);

		/* what a call that overran its bound left pending (exec.h),
		 * against the NIC as just read */
		if (pj && reconcile_settle_pending(rc, pj, "by a call that overran its bound"))
			(void)reconcile_save(rc);
		rc->st.runs++;
	}

rounds:
	/* RC_ROUNDS plans may run; one more only checks that they settled (none
	 * after a plan of journal-only ops applied in full: it settles by itself) */
	for (; round <= RC_ROUNDS; round++) {
		struct journal_nic *j, dry_j;
		struct reconcile_binder_view bv;
		struct plan_input in = { 0 };
		struct nic view;
		uint32_t *gone, lens;
		struct plan p;
		size_t i, n = 0;

		/* the NIC's attachments, from the store's index of them, in the
		 * store's order (nothing below adds or removes one) */
		if ((r = nic_atts(rc, name, &atts, &cap_atts, &n)) < 0) {
			kerror_set(err, -r, name, "reconcile", NULL);
			break;
		}
		/* taps first: finding one may observe a new link, which moves the
		 * monitor's table (and so nic) */
		rc->links_current = rc->d.monitor && nic_monitor_catch_up(rc->d.monitor, since);
		since = NIC_CATCH_UP_DONE;
		/* (looking taps up moves no link while the table is the kernel's) */
		lens = rc->links_current && n ? link_name_lengths(rc->d.monitor) : 0;
		for (i = 0; i < n; i++)
			refresh_tap(rc, &((struct attach *)atts[i])->id, lens);
		rc->links_current = false;
		nic = nic_monitor_find(rc->d.monitor, name);
		has_pol = nic && reconcile_nic_policy(rc, nic, &pol);
		j = nic ? store_journal(&rc->store, name, nic->link.ifindex, false) : NULL;
		if (!nic || (!has_pol && !j && !n))
			break; /* gone, or not ours in any way */
		if (!j) {
			if (dry_run) {
				journal_nic_init(&dry_j, name, nic->link.ifindex);
				j = &dry_j;
			} else {
				j = store_journal(&rc->store, name, nic->link.ifindex, true);
				if (!j) {
					r = kerror_set(err, ENOMEM, name, "reconcile", NULL);
					break;
				}
			}
		}
		(void)made_then_gone(rc, rn, name, nic, made, n_made);
		view = *nic; /* shallow: arrays stay the monitor's */
		nic_caps_overlay(&view.caps, &rn->learned);
		unbelieved_gone(&view, made, n_made, &gone);
		reconcile_binder_view_fill(rc, nic, rn, &bv);
		in.policy = has_pol ? &pol : NULL;
		in.nic = &view;
		in.journal = j;
		in.atts = atts;
		in.n_atts = n;
		in.binder = &bv.pb;
		in.mode = mode;
		if (rb)
			in.rebalance = *rb;
		r = plan_nic(&in, &p);
		reconcile_binder_view_clear(&bv);
		free(gone);
		if (r < 0) {
			kerror_set(err, -r, name, "plan", NULL);
			break;
		}
		if (dry_run) {
			set_results(rc, atts, n, &p, false);
			reconcile_plan_take(reconcile_outcome_plan(out, name), &p);
			if (j == &dry_j)
				journal_nic_clear(&dry_j);
			free(atts);
			return 0;
		}
		if (round == 0 && pool_refused(rc, atts, n, &p, name, err)) {
			/* OnExhaustion=fail: nothing happens, nothing is shown */
			plan_clear(&p);
			free(atts);
			return -ENOSPC;
		}
		set_results(rc, atts, n, &p, true);
		rc_nic_summary(rn, &p);
		reconcile_refusals_prune(rn, atts, n, &p);
		if (!p.n_ops) {
			plan_clear(&p);
			converged = true;
			break;
		}
		if (round == RC_ROUNDS) {
			unsettled(name, atts, n, &p);
			settled = false;
			plan_clear(&p);
			break;
		}

		if (round == 0 && rc->stage_intents && stage(rc, rn, name, j, &p)) {
			free(atts);
			return RC_STAGED; /* applied by the next call, after the sync */
		}
		r = apply_plan(rc, rn, name, nic->link.ifindex, j, &p, NULL, out, err, made,
			       &n_made);
		plan_clear(&p);
		if (r < 0)
			break;
		if (r == 0) { /* the journal only: settled as planned, as shown */
			converged = true;
			break;
		}
		r = 0; /* plan again: verify, and take the kernel's answers */
	}
	free(atts);
	/* Our own read-backs report our own changes (nic_monitor callback ->
	 * reconcile_nic_changed): planned already, with what they read. */
	if ((converged || !settled) && (rn = reconcile_nic_state(rc, name)))
		rn->dirty = false; /* unsettled: not again at once, not in a loop */
	return r;
}
