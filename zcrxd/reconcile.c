// SPDX-License-Identifier: MIT
/*
 * reconcile — the attachment service (reconcile.h): desired state + journal
 * in the store, and observe -> plan -> exec -> store for every trigger.
 *
 * Owns: the store and state.json, learned refusals, holds, the drift timer,
 * counters, the named points crash tests stop at (reconcile_test_point).
 * Must not: speak Varlink, include libvirt, talk to the kernel other than
 * through the NIC monitor (observe) and exec (change).
 */
#include <errno.h>
#include <malloc.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "events.h"
#include "log.h"
#include "nic-monitor.h"
#include "reconcile.h"

#define RC_ROUNDS 6 /* plan/exec rounds per NIC (learning, holds) */

struct rc_nic {
	char name[IF_NAMESIZE];
	struct nic_caps learned;
	/* BINDs the module refused for one queue and tap (reconcile.h says
	 * when they are tried again), for the NIC with this ifindex */
	int refused_ifindex;
	size_t n_refused;
	struct plan_bind_refusal *refused;
	bool dirty;
	/* the last plan's view of the pool, for listings */
	uint32_t channels;
	size_t n_pool, n_shared, n_notes;
	uint32_t *pool, *shared;
	struct attach_reason *notes;
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
	/* reconcile_defer_saves(): state saves after a plan wait for the end of
	 * the burst (one fsync for many); the intent before a kernel change
	 * never waits. */
	bool defer_saves, save_pending;
	int ifsock; /* for SIOCGIFNAME/SIOCGIFINDEX (tap lookups), -1 until needed */
	bool save_failed; /* the last save of state.json failed */
	/* the plan exec is applying: its NIC, and which of its BINDs were
	 * refused (on_bind_refused) */
	struct rc_nic *exec_nic;
	const struct plan *exec_plan;
	bool *exec_refused;
};

/* --- small things -------------------------------------------------------------------- */

/* The production definition: nothing happens at these points.  Weak, so
 * that the test-only daemon can link its own (reconcile.h). */
__attribute__((weak)) void reconcile_test_point(const char *point)
{
	(void)point;
}

static void exec_point(void *ud, enum exec_point pt, size_t op)
{
	static const char *const names[] = { "intent", "before-op", "after-op", "undo" };

	reconcile_test_point(names[pt]);
}

/* state.json, written only when its content changes (after a failed save,
 * always: the file may hold the text without it being durable). */
static int save_now(struct reconcile *rc)
{
	struct kerror e = { 0 };
	char buf[512];
	int r;

	rc->save_pending = false;
	store_gc(&rc->store);
	if (rc->save_failed)
		r = store_save(rc->d.state_dir, &rc->store, &e) < 0 ? -1 : 1;
	else
		r = store_save_changed(rc->d.state_dir, &rc->store, &e);
	rc->save_failed = r < 0;
	if (r < 0) {
		log_error(LOG_SUBSYS_STORE, "%s", kerror_format(&e, buf, sizeof(buf)));
		return -(e.err ? e.err : EIO);
	}
	if (r == 0) {
		rc->st.saves_unchanged++;
		return 0;
	}
	rc->st.saves++;
	reconcile_test_point("saved");
	return 0;
}

static int save(struct reconcile *rc)
{
	if (rc->defer_saves) {
		rc->save_pending = true;
		return 0;
	}
	return save_now(rc);
}

/* The plan's intent, before its kernel changes: always at once. */
static int persist(void *ud, const struct journal_nic *j)
{
	return save_now(ud);
}

void reconcile_defer_saves(struct reconcile *rc, bool defer)
{
	rc->defer_saves = defer;
	if (!defer && rc->save_pending)
		(void)save_now(rc);
}

static void publish(struct reconcile *rc, const char *type, json_object *data)
{
	if (rc->d.events)
		events_publish(rc->d.events, type, data);
	else
		json_object_put(data);
}

/* Only build an event's JSON when someone listens. */
static bool listening(const struct reconcile *rc)
{
	return rc->d.events && events_subscriber_count(rc->d.events) > 0;
}

static struct rc_nic *rc_nic_get(struct reconcile *rc, const char *name)
{
	struct rc_nic *v;
	size_t i;

	for (i = 0; i < rc->n_nics; i++)
		if (!strcmp(rc->nics[i].name, name))
			return &rc->nics[i];
	v = realloc(rc->nics, (rc->n_nics + 1) * sizeof(*v));
	if (!v)
		return NULL;
	rc->nics = v;
	v = &rc->nics[rc->n_nics++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	return v;
}

/* --- refused binds ------------------------------------------------------------------- */

static void refusals_clear(struct rc_nic *n)
{
	free(n->refused);
	n->refused = NULL;
	n->n_refused = 0;
}

static void refusals_del(struct rc_nic *n, size_t i)
{
	n->refused[i] = n->refused[--n->n_refused];
}

/* Try refused binds again: on nic (NULL = every NIC), only those of the
 * attachment with MAC owner (NULL = all). */
static void forget_refusals(struct reconcile *rc, const char *nic, const uint8_t *owner)
{
	size_t i, k;

	for (i = 0; i < rc->n_nics; i++) {
		struct rc_nic *n = &rc->nics[i];

		if (nic && strcmp(n->name, nic))
			continue;
		for (k = n->n_refused; k-- > 0;)
			if (!owner || !memcmp(n->refused[k].owner, owner, NIC_MAC_LEN))
				refusals_del(n, k);
	}
}

/* Forget refusals no attachment of the plan can meet again: its queue or
 * tap changed (or it is gone), so the next BIND is a new question. */
static void refusals_prune(struct rc_nic *n, const struct attach *const *atts, size_t n_atts,
			   const struct plan *p)
{
	size_t k, i, q;

	for (k = n->n_refused; k-- > 0;) {
		const struct plan_bind_refusal *rf = &n->refused[k];
		bool live = false;

		for (i = 0; i < n_atts && i < p->n_results && !live; i++) {
			if (atts[i]->id.tap_ifindex != rf->tap_ifindex)
				continue;
			for (q = 0; q < p->results[i].n_queues && !live; q++)
				live = p->results[i].queues[q].queue == rf->queue;
		}
		if (!live)
			refusals_del(n, k);
	}
}

static void refusals_add(struct rc_nic *n, const struct plan_op *op, const struct kerror *err)
{
	struct plan_bind_refusal *v;
	size_t k;

	if (n->refused_ifindex != op->ifindex) {
		refusals_clear(n);
		n->refused_ifindex = op->ifindex;
	}
	for (k = 0; k < n->n_refused; k++)
		if (n->refused[k].queue == op->queue && n->refused[k].tap_ifindex == op->tap_ifindex)
			break;
	if (k == n->n_refused) {
		v = realloc(n->refused, (n->n_refused + 1) * sizeof(*v));
		if (!v)
			return; /* tried again next time: no worse than before */
		n->refused = v;
		n->n_refused++;
	}
	memset(&n->refused[k], 0, sizeof(n->refused[k]));
	n->refused[k].queue = op->queue;
	n->refused[k].tap_ifindex = op->tap_ifindex;
	memcpy(n->refused[k].owner, op->owner, NIC_MAC_LEN);
	n->refused[k].err = *err;
}

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

static void overlay(struct nic_cap *dst, const struct nic_cap *learned)
{
	if (learned->state == NIC_CAP_NO || (learned->state == NIC_CAP_YES &&
					     dst->state == NIC_CAP_UNKNOWN))
		*dst = *learned;
}

static void apply_learned(struct nic_caps *c, const struct nic_caps *l)
{
	overlay(&c->l2_rules, &l->l2_rules);
	overlay(&c->ip_rules, &l->ip_rules);
	overlay(&c->rss_contexts, &l->rss_contexts);
	overlay(&c->rss_set, &l->rss_set);
	overlay(&c->ntuple, &l->ntuple);
	overlay(&c->header_split, &l->header_split);
	overlay(&c->channels_set, &l->channels_set);
}

/* Is name a NIC zcrxd manages?  Named sections always; [nic *] only for
 * devices that can be physical NICs (not macvtaps, bridges, lo...). */
static bool managed_policy(const struct reconcile *rc, const struct nic *nic,
			   struct config_nic *ret)
{
	const char *kind = nic ? nic->link.kind : "";
	const char *name = nic->link.name;

	if (config_nic_is_named(rc->d.config, name))
		return config_nic_policy(rc->d.config, name, ret);
	if (!strcmp(name, "lo") ||
	    (kind[0] && strcmp(kind, "veth") && strcmp(kind, "fake")))
		return false;
	return config_nic_policy(rc->d.config, name, ret);
}

void reconcile_outcome_clear(struct reconcile_outcome *o)
{
	size_t i;

	for (i = 0; i < o->n_plans; i++)
		plan_clear(&o->plans[i]);
	free(o->plans);
	memset(o, 0, sizeof(*o));
}

static struct plan *outcome_plan(struct reconcile_outcome *o, const char *nic)
{
	struct plan *v;
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; i < o->n_plans; i++)
		if (!strcmp(o->plans[i].nic, nic))
			return &o->plans[i];
	v = realloc(o->plans, (o->n_plans + 1) * sizeof(*v));
	if (!v)
		return NULL;
	o->plans = v;
	v = &o->plans[o->n_plans++];
	plan_init(v);
	snprintf(v->nic, sizeof(v->nic), "%s", nic);
	return v;
}

/* Append op (deep copy) to p; base: where op's plan starts in p (op
 * indexes in it move by that much). */
static void plan_append(struct plan *p, const struct plan_op *op, size_t base)
{
	struct plan_op *v, *x;

	if (!p)
		return;
	v = realloc(p->ops, (p->n_ops + 1) * sizeof(*v));
	if (!v)
		return;
	p->ops = v;
	x = &v[p->n_ops];
	*x = *op;
	if (x->ctx_op >= 0)
		x->ctx_op += (int)base;
	x->indir = NULL;
	x->prev = NULL;
	if (op->n_indir && op->indir && (x->indir = malloc(op->n_indir * sizeof(uint32_t))))
		memcpy(x->indir, op->indir, op->n_indir * sizeof(uint32_t));
	else
		x->n_indir = 0;
	if (op->n_prev && op->prev && (x->prev = malloc(op->n_prev * sizeof(uint32_t))))
		memcpy(x->prev, op->prev, op->n_prev * sizeof(uint32_t));
	else
		x->n_prev = 0;
	p->n_ops++;
}

/* The pool summary (channels, pool, shared, notes) of src into dst. */
static void plan_summary_copy(struct plan *dst, const struct plan *src)
{
	dst->channels = src->channels;
	free(dst->pool);
	free(dst->shared);
	attach_reasons_free(dst->notes, dst->n_notes);
	dst->pool = src->n_pool ? malloc(src->n_pool * sizeof(uint32_t)) : NULL;
	dst->shared = src->n_shared ? malloc(src->n_shared * sizeof(uint32_t)) : NULL;
	dst->notes = attach_reasons_dup(src->notes, src->n_notes);
	dst->n_pool = dst->pool ? src->n_pool : 0;
	dst->n_shared = dst->shared ? src->n_shared : 0;
	dst->n_notes = dst->notes ? src->n_notes : 0;
	if (dst->n_pool)
		memcpy(dst->pool, src->pool, dst->n_pool * sizeof(uint32_t));
	if (dst->n_shared)
		memcpy(dst->shared, src->shared, dst->n_shared * sizeof(uint32_t));
}

/* Move the plan's pool summary and notes into dst (a dry run's answer). */
static void plan_take(struct plan *dst, struct plan *src)
{
	char name[IF_NAMESIZE];

	snprintf(name, sizeof(name), "%s", dst->nic);
	plan_clear(dst);
	*dst = *src;
	snprintf(dst->nic, sizeof(dst->nic), "%s", name);
	plan_init(src);
}

/* The vNIC's macvtap as the kernel knows it now: gone (the VM stopped, the
 * binding went with it) means no ifindex, so nothing is bound to a dead
 * device; one made again under the same name is found again. */
static void refresh_tap(struct reconcile *rc, struct attach_id *id)
{
	struct ifreq ifr;

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
	if (!id->tap_ifindex && id->tap[0] && strlen(id->tap) < sizeof(ifr.ifr_name)) {
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, id->tap, strlen(id->tap));
		if (ioctl(rc->ifsock, SIOCGIFINDEX, &ifr) == 0)
			id->tap_ifindex = ifr.ifr_ifindex;
	}
}

/* --- the binder's view of one NIC ------------------------------------------------------ */

struct binder_view {
	struct plan_binder pb;
	struct binder_binding *all;
	size_t n_all;
	struct binder_binding *mine;
};

/* rn (optional): the NIC's refused binds go into the planner's input. */
static void binder_view_fill(struct reconcile *rc, const struct nic *nic, struct rc_nic *rn,
			     struct binder_view *v)
{
	const struct binder_ops *ops = rc->binder.ops;
	size_t i, k = 0;

	memset(v, 0, sizeof(*v));
	if (rn && rn->n_refused && rn->refused_ifindex != nic->link.ifindex)
		refusals_clear(rn); /* another device under the name now */
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

static void binder_view_clear(struct binder_view *v)
{
	free(v->all);
	free(v->mine);
}

/* --- one NIC ------------------------------------------------------------------------------ */

static struct attach *find_att(struct reconcile *rc, const char *nic, const uint8_t *mac)
{
	ssize_t i = store_find_attach(&rc->store, nic, mac);

	return i >= 0 ? &rc->store.atts[i] : NULL;
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Does the attachment show something else now: its state, queues and their
 * bindings (whether it is zero-copy), steering, rules, or the reasons why
 * it is not everything it could be? */
static bool result_changed(const struct attach_result *a, const struct attach_result *b)
{
	size_t i;

	if (a->state != b->state || a->n_queues != b->n_queues || a->n_rules != b->n_rules ||
	    a->n_reasons != b->n_reasons || strcmp(a->steering, b->steering) ||
	    a->has_context != b->has_context || a->rss_context != b->rss_context)
		return true;
	for (i = 0; i < a->n_queues; i++) {
		const struct attach_queue *x = &a->queues[i], *y = &b->queues[i];

		if (x->queue != y->queue || x->bound != y->bound ||
		    (x->bound && (x->binding_id != y->binding_id ||
				  x->binding_state != y->binding_state ||
				  x->binding_reason != y->binding_reason)))
			return true;
	}
	if (a->n_rules && memcmp(a->rule_locs, b->rule_locs, a->n_rules * sizeof(*a->rule_locs)))
		return true;
	for (i = 0; i < a->n_reasons; i++) {
		const struct attach_reason *x = &a->reasons[i], *y = &b->reasons[i];

		if (x->err != y->err || !same_text(x->code, y->code) || !same_text(x->op, y->op) ||
		    !same_text(x->msg, y->msg) || !same_text(x->nic, y->nic))
			return true;
	}
	return false;
}

/* The plan's results into the attachments; announce: tell Monitor
 * subscribers what changed (not for dry runs: nothing happened). */
static void set_results(struct reconcile *rc, const struct attach *const *atts, size_t n,
			const struct plan *p, bool announce)
{
	size_t i;

	for (i = 0; i < n && i < p->n_results; i++) {
		struct attach *a = (struct attach *)atts[i];
		struct attach_result before = a->res;
		bool had = a->res.n_reasons || a->res.n_queues || a->res.steering[0];

		attach_result_init(&a->res);
		if (attach_result_copy(&a->res, &p->results[i]) < 0) {
			attach_result_clear(&before);
			continue;
		}
		if (announce && had && listening(rc) && result_changed(&before, &a->res))
			publish(rc, "attachment-changed", attach_to_json(a));
		attach_result_clear(&before);
	}
}

/* Hold back the attachment that owns op after a refusal. */
static bool hold(struct reconcile *rc, const char *nic, const struct plan_op *op,
		 const struct kerror *err)
{
	struct attach *a;
	char buf[512];

	if (!op->has_owner)
		return false;
	a = find_att(rc, nic, op->owner);
	if (!a || a->held || attach_hold(a, err) < 0)
		return false;
	rc->st.holds++;
	log_domain(LOG_WARNING, LOG_SUBSYS_MANAGER, a->id.domain,
		   "%s: holding the attachment back: %s", nic,
		   kerror_format(err, buf, sizeof(buf)));
	return true;
}

/* exec's report of a BIND the module refused (the steering stays). */
static void on_bind_refused(void *ud, const struct plan_op *op, const struct kerror *err)
{
	struct reconcile *rc = ud;
	const struct attach *a = op->has_owner ? find_att(rc, op->nic, op->owner) : NULL;
	char buf[512];

	rc->st.kernel_errors++;
	if (rc->exec_refused && rc->exec_plan && op >= rc->exec_plan->ops &&
	    op < rc->exec_plan->ops + rc->exec_plan->n_ops)
		rc->exec_refused[op - rc->exec_plan->ops] = true;
	kerror_format(err, buf, sizeof(buf));
	if (binder_refusal_is_nic_wide(err->err)) {
		/* binder-mgr made it the NIC's verdict */
		log_nic(LOG_WARNING, LOG_SUBSYS_MANAGER, op->nic,
			"%s: no zero-copy on this NIC until it or the module changes", buf);
		return;
	}
	if (rc->exec_nic)
		refusals_add(rc->exec_nic, op, err);
	log_domain(LOG_WARNING, LOG_SUBSYS_MANAGER, a ? a->id.domain : NULL,
		   "%s; steered without zero-copy until the bind is tried again", buf);
}

/*
 * observe -> plan -> exec -> store for one NIC.  dry_run: plan only (into
 * out).  Returns 0, or -errno with *err when a refusal could not be planned
 * around.
 */
static int run_nic(struct reconcile *rc, const char *name, enum plan_mode mode, bool dry_run,
		   const struct plan_rebalance_opts *rb, struct reconcile_outcome *out,
		   struct kerror *err)
{
	struct exec_env env = { 0 };
	struct rc_nic *rn = rc_nic_get(rc, name);
	const struct nic *nic;
	struct config_nic pol;
	bool has_pol, converged = false;
	int round, r = 0;

	if (!rn)
		return kerror_set(err, ENOMEM, name, "reconcile", NULL);
	if (!dry_run)
		rn->dirty = false; /* a dry run changes nothing: a pending reconcile stays */
	nic = nic_monitor_find(rc->d.monitor, name);
	if (nic && !dry_run)
		(void)nic_monitor_refresh(rc->d.monitor, nic->link.ifindex, NIC_OBSERVE_ALL);
	nic = nic_monitor_find(rc->d.monitor, name);
	if (!nic) {
		size_t i;

		/* the NIC is gone: its attachments wait for it */
		for (i = 0; i < rc->store.n_atts; i++) {
			struct attach *a = &rc->store.atts[i];

			if (strcmp(a->id.nic, name))
				continue;
			attach_result_clear(&a->res);
			a->res.state = ATTACH_STATE_FAILED;
			(void)attach_result_add_reasonf(&a->res, ATTACH_R_NIC, name, "observe",
							ENODEV, "%s is not present", name);
		}
		return 0;
	}
	if (!dry_run)
		rc->st.runs++;
	env.nic = rc->d.nic;
	env.binder = rc->binder.ops ? &rc->binder : NULL;
	env.persist = persist;
	env.fault = exec_point;
	env.bind_refused = on_bind_refused;
	env.userdata = rc;

	for (round = 0; round < RC_ROUNDS; round++) {
		const struct attach **atts;
		struct journal_nic *j, dry_j;
		struct binder_view bv;
		struct plan_input in = { 0 };
		struct exec_result res;
		struct nic view;
		struct plan p;
		bool *refused;
		size_t i, n = 0;

		nic = nic_monitor_find(rc->d.monitor, name);
		if (!nic)
			break;
		has_pol = managed_policy(rc, nic, &pol);
		j = store_journal(&rc->store, name, nic->link.ifindex, false);
		if (!has_pol && !j) {
			bool any = false;

			for (i = 0; i < rc->store.n_atts && !any; i++)
				any = !strcmp(rc->store.atts[i].id.nic, name);
			if (!any)
				break; /* not ours in any way */
		}
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
		atts = calloc(rc->store.n_atts ? rc->store.n_atts : 1, sizeof(*atts));
		if (!atts) {
			r = kerror_set(err, ENOMEM, name, "reconcile", NULL);
			break;
		}
		for (i = 0; i < rc->store.n_atts; i++)
			if (!strcmp(rc->store.atts[i].id.nic, name)) {
				refresh_tap(rc, &rc->store.atts[i].id);
				atts[n++] = &rc->store.atts[i];
			}
		view = *nic; /* shallow: arrays stay the monitor's */
		apply_learned(&view.caps, &rn->learned);
		binder_view_fill(rc, nic, rn, &bv);
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
		binder_view_clear(&bv);
		if (r < 0) {
			free(atts);
			kerror_set(err, -r, name, "plan", NULL);
			break;
		}
		if (dry_run) {
			set_results(rc, atts, n, &p, false);
			plan_take(outcome_plan(out, name), &p);
			if (j == &dry_j)
				journal_nic_clear(&dry_j);
			free(atts);
			return 0;
		}
		set_results(rc, atts, n, &p, true);
		rc_nic_summary(rn, &p);
		refusals_prune(rn, atts, n, &p);
		if (!p.n_ops) {
			plan_clear(&p);
			free(atts);
			converged = true;
			break;
		}

		/* zcrxd unbinding frees a queue or tap (or a binding of the
		 * module's budget): what was refused gets its chance again */
		for (i = 0; i < p.n_ops && p.ops[i].kind != PLAN_OP_UNBIND; i++)
			;
		if (i < p.n_ops)
			refusals_clear(rn);
		rc->exec_nic = rn;
		rc->exec_plan = &p;
		rc->exec_refused = calloc(p.n_ops, sizeof(bool));
		r = exec_plan(&env, &p, j, &res);
		refused = rc->exec_refused;
		rc->exec_nic = NULL;
		rc->exec_plan = NULL;
		rc->exec_refused = NULL;
		for (i = 0; i < res.n_applied; i++)
			plan_learn_ok(&rn->learned, &p.ops[i]);
		if (r == 0) {
			struct plan *o = outcome_plan(out, name);
			size_t base;

			if (o && !o->channels)
				plan_summary_copy(o, &p);
			if (res.n_applied > res.n_bind_refused)
				rc->st.plans_applied++;
			base = o ? o->n_ops : 0;
			for (i = 0; i < p.n_ops; i++) {
				const struct plan_op *op = &p.ops[i];
				bool kernel = plan_op_is_kernel(op);
				char d[256];

				if (refused && refused[i])
					continue; /* left out: not applied */
				rc->st.ops++;
				/* a repair: what no request asked for, or what the
				 * planner says puts back a thing removed outside */
				if (kernel && (op->repair || (!rc->request && !rc->applying))) {
					rc->st.repairs++;
					log_nic(LOG_NOTICE, LOG_SUBSYS_MANAGER, name, "repair: %s (%s)",
						plan_op_describe(op, d, sizeof(d)), op->reason);
					if (listening(rc))
						publish(rc, "reconcile-repair",
							plan_op_to_json(op));
				} else if (op->kind == PLAN_OP_FORGET) {
					/* what changed outside, found by this run */
					log_nic(LOG_NOTICE, LOG_SUBSYS_MANAGER, name, "drift: %s (%s)",
						plan_op_describe(op, d, sizeof(d)), op->reason);
				} else if (rc->applying && plan_op_is_kernel(&p.ops[i])) {
					log_nic(LOG_INFO, LOG_SUBSYS_MANAGER, name, "apply: %s (%s)",
						plan_op_describe(&p.ops[i], d, sizeof(d)),
						p.ops[i].reason);
				} else {
					log_debug(LOG_SUBSYS_EXEC, "%s: %s (%s)", name,
						  plan_op_describe(&p.ops[i], d, sizeof(d)),
						  p.ops[i].reason);
				}
				plan_append(o, &p.ops[i], base);
			}
			if (out && res.n_applied > res.n_bind_refused)
				out->changed = true;
			(void)save(rc);
			for (i = 0; i < p.n_ops &&
				    (!plan_op_is_kernel(&p.ops[i]) || (refused && refused[i]));
			     i++)
				;
			if (i < p.n_ops) /* the kernel changed: read it back */
				(void)nic_monitor_refresh(rc->d.monitor, nic->link.ifindex,
							  NIC_OBSERVE_ALL);
			plan_clear(&p);
			free(atts);
			free(refused);
			continue; /* plan again: verify, and take the kernel's answers */
		}
		free(refused);

		/* refused and rolled back */
		rc->st.exec_failures++;
		rc->st.kernel_errors++;
		{
			char buf[768];

			log_nic(LOG_WARNING, LOG_SUBSYS_EXEC, name, "%s",
				exec_result_format(&res, buf, sizeof(buf)));
		}
		(void)save(rc); /* the journal without the intent's pending entries */
		if (res.failed >= 0 && plan_learn(&rn->learned, &p.ops[res.failed], &res.err)) {
			rc->st.learned++;
			log_nic(LOG_INFO, LOG_SUBSYS_MANAGER, name, "learned: %s; planning again",
				res.err.msg);
		} else if (res.failed >= 0 && hold(rc, name, &p.ops[res.failed], &res.err)) {
			/* planned again without it */
		} else {
			*err = res.err;
			r = -(res.err.err ? res.err.err : EIO);
			plan_clear(&p);
			free(atts);
			break;
		}
		r = 0;
		plan_clear(&p);
		free(atts);
		(void)nic_monitor_refresh(rc->d.monitor, nic->link.ifindex, NIC_OBSERVE_ALL);
	}
	/* Our own read-backs report our own changes (nic_monitor callback ->
	 * reconcile_nic_changed): planned already, with what they read. */
	if (converged && (rn = rc_nic_get(rc, name)))
		rn->dirty = false;
	return r;
}

/* --- triggers ------------------------------------------------------------------------------ */

static bool wants_reconcile(struct reconcile *rc, const struct nic *nic)
{
	struct config_nic pol;
	size_t i;

	if (managed_policy(rc, nic, &pol))
		return true;
	if (store_journal(&rc->store, nic->link.name, 0, false))
		return true;
	for (i = 0; i < rc->store.n_atts; i++)
		if (!strcmp(rc->store.atts[i].id.nic, nic->link.name))
			return true;
	return false;
}

int reconcile_all(struct reconcile *rc, const char *why, struct reconcile_outcome *out)
{
	struct kerror e = { 0 };
	char names[256][IF_NAMESIZE];
	size_t i, n = 0;
	int r = 0;

	log_debug(LOG_SUBSYS_MANAGER, "reconcile: %s", why);
	for (i = 0; i < nic_monitor_count(rc->d.monitor) && n < 256; i++) {
		const struct nic *nic = nic_monitor_at(rc->d.monitor, i);

		if (wants_reconcile(rc, nic))
			snprintf(names[n++], IF_NAMESIZE, "%s", nic->link.name);
	}
	/* NICs that went away: their attachments wait, their journal stays */
	for (i = 0; i < rc->store.n_atts && n < 256; i++) {
		size_t k;

		for (k = 0; k < n && strcmp(names[k], rc->store.atts[i].id.nic); k++)
			;
		if (k == n)
			snprintf(names[n++], IF_NAMESIZE, "%s", rc->store.atts[i].id.nic);
	}
	for (i = 0; i < n; i++) {
		struct kerror ke = { 0 };
		char buf[512];

		if (run_nic(rc, names[i], PLAN_MODE_NORMAL, false, NULL, out, &ke) < 0) {
			log_nic(LOG_ERR, LOG_SUBSYS_MANAGER, names[i], "reconcile failed: %s",
				kerror_format(&ke, buf, sizeof(buf)));
			if (!r) {
				r = -ke.err;
				e = ke;
			}
		}
	}
	if (r < 0 && out) {
		out->err = e;
		out->error_name = "io.zcrx.Manager.KernelError";
	}
	return r;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct reconcile *rc = userdata;
	size_t i;

	for (i = 0; i < rc->store.n_atts; i++)
		attach_unhold(&rc->store.atts[i]); /* retry what was refused */
	/* not refused binds (reconcile.h): their attachments work, and asking
	 * every interval would count a kernel error and warn each time */
	(void)reconcile_all(rc, "drift timer", NULL);
	if (rc->d.interval_sec)
		(void)sd_event_source_set_time_relative(s, (uint64_t)rc->d.interval_sec * 1000000u);
	(void)sd_event_source_set_enabled(s, rc->d.interval_sec ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
	return 0;
}

static int on_defer(sd_event_source *s, void *userdata)
{
	struct reconcile *rc = userdata;
	size_t i;

	for (i = 0; i < rc->n_nics; i++) {
		struct kerror e = { 0 };
		char name[IF_NAMESIZE], buf[512];

		if (!rc->nics[i].dirty)
			continue;
		snprintf(name, sizeof(name), "%s", rc->nics[i].name);
		if (run_nic(rc, name, PLAN_MODE_NORMAL, false, NULL, NULL, &e) < 0)
			log_nic(LOG_ERR, LOG_SUBSYS_MANAGER, name, "reconcile failed: %s",
				kerror_format(&e, buf, sizeof(buf)));
	}
	return 0;
}

void reconcile_nic_changed(struct reconcile *rc, const char *nic)
{
	const struct nic *n = nic_monitor_find(rc->d.monitor, nic);
	struct rc_nic *rn;

	if (!rc || (n && !wants_reconcile(rc, n)) || (!n && !store_journal(&rc->store, nic, 0, false)))
		return;
	rn = rc_nic_get(rc, nic);
	if (!rn)
		return;
	rn->dirty = true;
	if (rc->defer)
		(void)sd_event_source_set_enabled(rc->defer, SD_EVENT_ONESHOT);
}

void reconcile_binder_changed(struct reconcile *rc, const struct binder_event *ev)
{
	size_t i;

	if (!rc)
		return;
	/* a binding gone frees its queue and tap, the module (re)appearing or
	 * a resync may answer differently: refused binds are tried again */
	if (!ev || ev->type != BINDER_EVENT_STATE)
		forget_refusals(rc, NULL, NULL);
	for (i = 0; i < rc->store.n_nics; i++)
		reconcile_nic_changed(rc, rc->store.nics[i].name);
}

void reconcile_config_changed(struct reconcile *rc)
{
	size_t i;

	for (i = 0; i < rc->store.n_atts; i++)
		attach_unhold(&rc->store.atts[i]);
	forget_refusals(rc, NULL, NULL);
	rc->applying = true;
	(void)reconcile_all(rc, "configuration reloaded", NULL);
	rc->applying = false;
}

void reconcile_set_interval(struct reconcile *rc, unsigned interval_sec)
{
	rc->d.interval_sec = interval_sec;
	if (!rc->timer)
		return;
	if (interval_sec) {
		(void)sd_event_source_set_time_relative(rc->timer,
							(uint64_t)interval_sec * 1000000u);
		(void)sd_event_source_set_enabled(rc->timer, SD_EVENT_ONESHOT);
	} else {
		(void)sd_event_source_set_enabled(rc->timer, SD_EVENT_OFF);
	}
}

void reconcile_set_binder(struct reconcile *rc, struct binder_backend be)
{
	rc->binder = be;
}

/* --- lifecycle ------------------------------------------------------------------------------ */

int reconcile_new(const struct reconcile_deps *deps, struct reconcile **ret, struct kerror *err)
{
	struct reconcile *rc = calloc(1, sizeof(*rc));
	char buf[512];
	int r;

	if (!rc)
		return kerror_set(err, ENOMEM, NULL, "reconcile", NULL);
	rc->d = *deps;
	rc->ifsock = -1;
	store_init(&rc->store);
	r = store_load(deps->state_dir, &rc->store, err);
	if (r < 0) {
		struct kerror q = { 0 };

		log_error(LOG_SUBSYS_STORE, "%s; moving it aside and starting empty",
			  kerror_format(err, buf, sizeof(buf)));
		if (store_quarantine(deps->state_dir, &q) < 0)
			log_error(LOG_SUBSYS_STORE, "%s", kerror_format(&q, buf, sizeof(buf)));
		store_clear(&rc->store);
		kerror_clear(err);
	} else {
		log_info(LOG_SUBSYS_STORE, "%zu attachment(s), %zu NIC journal(s) in %s/%s",
			 rc->store.n_atts, rc->store.n_nics, deps->state_dir, STORE_FILE);
	}
	if (deps->event) {
		r = sd_event_add_defer(deps->event, &rc->defer, on_defer, rc);
		if (r >= 0)
			r = sd_event_source_set_enabled(rc->defer, SD_EVENT_OFF);
		if (r >= 0)
			r = sd_event_add_time_relative(deps->event, &rc->timer, CLOCK_MONOTONIC,
						       (uint64_t)(deps->interval_sec ?
									  deps->interval_sec :
									  1) * 1000000u,
						       0, on_timer, rc);
		if (r >= 0)
			r = sd_event_source_set_enabled(rc->timer, deps->interval_sec ?
									    SD_EVENT_ONESHOT :
									    SD_EVENT_OFF);
		if (r < 0) {
			reconcile_free(rc);
			return kerror_set(err, -r, NULL, "reconcile timer", NULL);
		}
	}
	*ret = rc;
	return 0;
}

struct reconcile *reconcile_free(struct reconcile *rc)
{
	size_t i;

	if (!rc)
		return NULL;
	sd_event_source_disable_unref(rc->timer);
	sd_event_source_disable_unref(rc->defer);
	for (i = 0; i < rc->n_nics; i++) {
		free(rc->nics[i].pool);
		free(rc->nics[i].shared);
		free(rc->nics[i].refused);
		attach_reasons_free(rc->nics[i].notes, rc->nics[i].n_notes);
	}
	free(rc->nics);
	store_clear(&rc->store);
	if (rc->ifsock >= 0)
		close(rc->ifsock);
	free(rc);
	return NULL;
}

int reconcile_start(struct reconcile *rc)
{
	size_t i, adopted = 0;
	bool pending = false;
	int r;

	/* a crash between intent and commit: adopt what was made, drop the rest */
	for (i = 0; i < rc->store.n_nics; i++) {
		struct journal_nic *j = &rc->store.nics[i];
		const struct nic *nic;
		struct binder_view bv;
		size_t n;

		if (!journal_nic_has_pending(j))
			continue;
		pending = true;
		nic = nic_monitor_find(rc->d.monitor, j->name);
		if (!nic) {
			journal_drop_pending(j);
			continue;
		}
		binder_view_fill(rc, nic, NULL, &bv);
		n = journal_resolve_pending(j, nic, bv.pb.bindings, bv.pb.n_bindings);
		binder_view_clear(&bv);
		if (n)
			log_nic(LOG_NOTICE, LOG_SUBSYS_MANAGER, j->name,
				"adopted %zu object(s) made just before zcrxd stopped", n);
		adopted += n;
	}
	rc->st.adopted += adopted;
	if (pending)
		(void)save(rc);
	rc->applying = true;
	r = reconcile_all(rc, "start", NULL);
	rc->applying = false;
	/* loading a big state.json leaves a parse tree's worth of free heap */
	(void)malloc_trim(0);
	return r;
}

/* --- requests ------------------------------------------------------------------------------- */

static int fail(struct reconcile_outcome *out, const char *name, int err, const char *obj,
		const char *op, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int fail(struct reconcile_outcome *out, const char *name, int err, const char *obj,
		const char *op, const char *fmt, ...)
{
	char msg[KERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	out->error_name = name;
	return kerror_set(&out->err, err, obj, op, msg);
}

static int need_nic(struct reconcile *rc, const char *name, struct reconcile_outcome *out,
		    const struct nic **ret)
{
	const struct nic *nic = nic_monitor_find(rc->d.monitor, name);

	*ret = nic;
	if (!nic)
		return fail(out, "io.zcrx.Manager.NoSuchNic", ENODEV, name, "lookup",
			    "no NIC '%s' in zcrxd's network namespace", name);
	return 0;
}

/* Run fn on a copy of the store and throw the copy away (dry runs). */
static int with_scratch_store(struct reconcile *rc, struct store *scratch)
{
	int r = store_copy(scratch, &rc->store);

	if (r < 0)
		return r;
	/* swap: requests work on rc->store */
	{
		struct store t = rc->store;

		rc->store = *scratch;
		*scratch = t;
	}
	return 0;
}

static void end_scratch_store(struct reconcile *rc, struct store *scratch)
{
	store_clear(&rc->store);
	rc->store = *scratch;
}

/* What every Attach checks before anything else: a valid identity on a NIC
 * zcrxd manages, not taken by another domain.  *id gets the identity with
 * what zcrxd knows filled in, *ret_k the index of an attachment with the
 * same key (or -1). */
static int attach_check(struct reconcile *rc, const struct attach_id *idp,
			struct reconcile_outcome *out, struct attach_id *id, ssize_t *ret_k)
{
	const struct nic *nic, *tap;
	struct config_nic pol;
	ssize_t k;
	int r;

	*id = *idp;
	*ret_k = -1;
	if (attach_id_validate(id, &out->err) < 0) {
		out->error_name = "org.varlink.service.InvalidParameter";
		return -EINVAL;
	}
	if ((r = need_nic(rc, id->nic, out, &nic)) < 0)
		return r;
	if (!managed_policy(rc, nic, &pol))
		return fail(out, "io.zcrx.Manager.NicNotManaged", EPERM, id->nic, "attach",
			    "zcrxd does not manage %s (no [nic %s] or [nic *] section applies)",
			    id->nic, id->nic);
	id->nic_ifindex = nic->link.ifindex;
	if (id->tap[0] && !id->tap_ifindex) {
		tap = nic_monitor_find(rc->d.monitor, id->tap);
		if (tap)
			id->tap_ifindex = tap->link.ifindex;
		else /* a macvtap made a moment ago, not observed yet */
			id->tap_ifindex = (int)if_nametoindex(id->tap);
	}
	k = store_find_attach(&rc->store, id->nic, id->mac);
	if (k >= 0 && strcmp(rc->store.atts[k].id.domain, id->domain) &&
	    strcmp(rc->store.atts[k].id.uuid[0] ? rc->store.atts[k].id.uuid : "-",
		   id->uuid[0] ? id->uuid : "+")) {
		char mac[18];

		return fail(out, "io.zcrx.Manager.AttachmentExists", EEXIST, id->nic, "attach",
			    "%s on %s is attached for domain '%s'", attach_mac(id, mac), id->nic,
			    rc->store.atts[k].id.domain);
	}
	*ret_k = k;
	return 0;
}

/* id into the desired set (an attach resumes management of a released
 * NIC; *was_released says whether it was). */
static int attach_put(struct reconcile *rc, const struct attach_id *id,
		      struct reconcile_outcome *out, bool *was_released)
{
	struct journal_nic *j = store_journal(&rc->store, id->nic, 0, false);
	size_t idx;

	*was_released = j && j->released;
	if (j)
		j->released = false;
	if (store_put_attach(&rc->store, id, &idx) < 0) {
		if (j)
			j->released = *was_released;
		return fail(out, NULL, ENOMEM, id->nic, "attach", "out of memory");
	}
	attach_unhold(&rc->store.atts[idx]);
	return 0;
}

/* Back to the desired state before attach_put (old: the identity the
 * attachment had, NULL when it was new). */
static void attach_unput(struct reconcile *rc, const struct attach_id *id,
			 const struct attach_id *old, bool was_released)
{
	struct attach *a = find_att(rc, id->nic, id->mac);
	struct journal_nic *j;

	if (a) {
		if (old) {
			a->id = *old;
			attach_unhold(a);
		} else {
			store_del_attach(&rc->store, (size_t)(a - rc->store.atts));
		}
	}
	if (was_released && (j = store_journal(&rc->store, id->nic, 0, false)))
		j->released = true;
}

/* With id in the desired set: does OnExhaustion=fail refuse it?  Plans its
 * NIC without changing anything; -ENOSPC with io.zcrx.Manager.PoolExhausted
 * in out when refused.  probe (optional) gets the dry plan. */
static int attach_pool_check(struct reconcile *rc, const struct attach_id *id,
			     struct reconcile_outcome *out, struct reconcile_outcome *probe)
{
	struct reconcile_outcome o = { 0 };
	struct kerror e = { 0 };
	const struct attach *a;
	char msg[KERROR_MSG_MAX];
	size_t q;
	int r;

	if (!probe)
		probe = &o;
	r = run_nic(rc, id->nic, PLAN_MODE_NORMAL, true, NULL, probe, &e);
	a = find_att(rc, id->nic, id->mac);
	if (r < 0 || !a || a->res.state != ATTACH_STATE_FAILED ||
	    !attach_result_has_reason(&a->res, ATTACH_R_POOL_EXHAUSTED)) {
		reconcile_outcome_clear(&o);
		return 0;
	}
	snprintf(msg, sizeof(msg), "%s", a->res.n_reasons ? a->res.reasons[0].msg : "");
	for (q = 0; q < a->res.n_reasons; q++)
		if (!strcmp(a->res.reasons[q].code, ATTACH_R_POOL_EXHAUSTED))
			snprintf(msg, sizeof(msg), "%s", a->res.reasons[q].msg);
	reconcile_outcome_clear(&o);
	return fail(out, "io.zcrx.Manager.PoolExhausted", ENOSPC, id->nic, "attach", "%s", msg);
}

int reconcile_attach(struct reconcile *rc, const struct attach_id *idp, bool dry_run,
		     struct reconcile_outcome *out, struct attach *ret)
{
	struct reconcile_outcome probe = { 0 };
	struct attach_id id, old_id;
	struct store scratch;
	struct attach *a;
	bool existed, was_released = false;
	uint64_t saves_before;
	ssize_t k;
	size_t i;
	int r;

	if ((r = attach_check(rc, idp, out, &id, &k)) < 0)
		return r;
	existed = k >= 0;
	if (existed)
		old_id = rc->store.atts[k].id;
	if (dry_run && with_scratch_store(rc, &scratch) < 0)
		return fail(out, NULL, ENOMEM, id.nic, "attach", "out of memory");
	rc->request = true;
	if ((r = attach_put(rc, &id, out, &was_released)) < 0)
		goto out;

	/* refuse before touching anything when the pool cannot take it */
	r = attach_pool_check(rc, &id, out, dry_run ? &probe : NULL);
	if (r < 0) {
		attach_unput(rc, &id, existed ? &old_id : NULL, was_released);
		if (!dry_run)
			(void)save(rc); /* a released NIC may have been resumed and back */
		goto out;
	}
	if (dry_run) {
		/* the answer is the plan */
		for (i = 0; i < probe.n_plans; i++)
			plan_take(outcome_plan(out, probe.plans[i].nic), &probe.plans[i]);
		a = find_att(rc, id.nic, id.mac);
		if (ret && a) /* a copy: the scratch store goes away */
			(void)attach_copy(ret, a);
		goto out;
	}

	if (!existed)
		publish(rc, "attachment-created", attach_id_to_json(&id));
	/* asked for again: binds the module refused for it are tried again */
	forget_refusals(rc, id.nic, id.mac);
	saves_before = rc->st.saves;
	r = run_nic(rc, id.nic, PLAN_MODE_NORMAL, false, NULL, out, &out->err);
	a = find_att(rc, id.nic, id.mac);
	if (r == 0 && a && a->held) {
		/* the kernel refused this attachment's own op */
		if (a->held_err)
			out->err = *a->held_err;
		r = -(out->err.err ? out->err.err : EIO);
	}
	if (r < 0) {
		/* the request did not happen: back to the previous desired state */
		struct kerror e = { 0 };

		out->error_name = "io.zcrx.Manager.KernelError";
		attach_unput(rc, &id, existed ? &old_id : NULL, was_released);
		(void)run_nic(rc, id.nic, PLAN_MODE_NORMAL, false, NULL, NULL, &e);
		if (!existed)
			publish(rc, "attachment-removed", attach_id_to_json(&id));
		(void)save(rc);
		goto out;
	}
	if (rc->st.saves == saves_before) /* nothing applied: the desired set still changed */
		(void)save(rc);
	if (ret && a)
		(void)attach_copy(ret, a);
out:
	reconcile_outcome_clear(&probe);
	rc->request = false;
	if (dry_run)
		end_scratch_store(rc, &scratch);
	return r;
}

/* A refused vNIC of a dry run: its identity, failed, with the refusal. */
static void dry_refused(struct attach *ret, const struct attach_id *id,
			const struct reconcile_outcome *o)
{
	struct kerror e = o->err;

	attach_clear(ret);
	attach_init(ret);
	ret->id = *id;
	ret->res.state = ATTACH_STATE_FAILED;
	if (!e.op[0])
		snprintf(e.op, sizeof(e.op), "attach");
	(void)attach_result_add_kerror(&ret->res,
				       o->error_name && strstr(o->error_name, "PoolExhausted") ?
					       ATTACH_R_POOL_EXHAUSTED :
					       ATTACH_R_REFUSED,
				       &e);
}

int reconcile_attach_dry(struct reconcile *rc, const struct attach_id *ids, size_t n,
			 struct reconcile_outcome *out, struct attach *rets)
{
	char (*nics)[IF_NAMESIZE] = calloc(n ? n : 1, IF_NAMESIZE);
	bool *ok = calloc(n ? n : 1, sizeof(bool));
	struct store scratch;
	size_t i, k, n_nics = 0;

	if (!nics || !ok || with_scratch_store(rc, &scratch) < 0) {
		free(nics);
		free(ok);
		return fail(out, NULL, ENOMEM, NULL, "attach", "out of memory");
	}
	rc->request = true;
	/* one after the other, as the real requests would come */
	for (i = 0; i < n; i++) {
		struct reconcile_outcome o = { 0 };
		struct attach_id id, old_id;
		bool was_released;
		ssize_t kk;

		if (attach_check(rc, &ids[i], &o, &id, &kk) < 0) {
			dry_refused(&rets[i], &ids[i], &o);
			continue;
		}
		if (kk >= 0)
			old_id = rc->store.atts[kk].id;
		if (attach_put(rc, &id, &o, &was_released) < 0) {
			dry_refused(&rets[i], &id, &o);
			continue;
		}
		if (attach_pool_check(rc, &id, &o, NULL) < 0) {
			attach_unput(rc, &id, kk >= 0 ? &old_id : NULL, was_released);
			dry_refused(&rets[i], &id, &o);
			continue;
		}
		ok[i] = true;
		rets[i].id = id;
		for (k = 0; k < n_nics && strcmp(nics[k], id.nic); k++)
			;
		if (k == n_nics)
			snprintf(nics[n_nics++], IF_NAMESIZE, "%s", id.nic);
	}
	/* then each NIC planned once with all of them */
	for (k = 0; k < n_nics; k++) {
		struct kerror e = { 0 };

		(void)run_nic(rc, nics[k], PLAN_MODE_NORMAL, true, NULL, out, &e);
	}
	for (i = 0; i < n; i++) {
		const struct attach *a;

		if (!ok[i] || !(a = find_att(rc, rets[i].id.nic, rets[i].id.mac)))
			continue;
		attach_clear(&rets[i]);
		attach_init(&rets[i]);
		(void)attach_copy(&rets[i], a);
	}
	rc->request = false;
	end_scratch_store(rc, &scratch);
	free(nics);
	free(ok);
	return 0;
}

static bool matches(const struct attach *a, const char *domain, const char *uuid,
		    const char *nic, const uint8_t *mac)
{
	if (uuid && *uuid) {
		if (strcmp(a->id.uuid, uuid) && (!domain || strcmp(a->id.domain, domain)))
			return false;
	} else if (domain && *domain && strcmp(a->id.domain, domain) && strcmp(a->id.uuid, domain)) {
		return false;
	}
	if (nic && strcmp(a->id.nic, nic))
		return false;
	if (mac && memcmp(a->id.mac, mac, NIC_MAC_LEN))
		return false;
	return true;
}

int reconcile_detach(struct reconcile *rc, const char *domain, const char *uuid, const char *nic,
		     const uint8_t *mac, bool dry_run, struct reconcile_outcome *out)
{
	char nics[64][IF_NAMESIZE];
	size_t n_nics = 0, i, k;
	struct store scratch;
	int removed = 0, r = 0;
	uint64_t saves_before = rc->st.saves;

	if (dry_run && with_scratch_store(rc, &scratch) < 0)
		return fail(out, NULL, ENOMEM, nic, "detach", "out of memory");
	rc->request = true;
	for (i = rc->store.n_atts; i-- > 0;) {
		struct attach *a = &rc->store.atts[i];

		if (!matches(a, domain, uuid, nic, mac))
			continue;
		for (k = 0; k < n_nics && strcmp(nics[k], a->id.nic); k++)
			;
		if (k == n_nics && n_nics < 64)
			snprintf(nics[n_nics++], IF_NAMESIZE, "%s", a->id.nic);
		if (!dry_run)
			publish(rc, "attachment-removed", attach_id_to_json(&a->id));
		store_del_attach(&rc->store, i);
		removed++;
	}
	for (k = 0; k < n_nics; k++) {
		struct kerror e = { 0 };

		if (run_nic(rc, nics[k], PLAN_MODE_NORMAL, dry_run, NULL, out, &e) < 0 && !r) {
			out->err = e;
			out->error_name = "io.zcrx.Manager.KernelError";
			r = -e.err;
		}
	}
	if (dry_run)
		end_scratch_store(rc, &scratch);
	else if (removed && rc->st.saves == saves_before)
		(void)save(rc);
	rc->request = false;
	return r < 0 ? r : removed;
}

int reconcile_rebalance(struct reconcile *rc, const char *nic, bool dry_run,
			const struct plan_rebalance_opts *opts, struct reconcile_outcome *out)
{
	struct store scratch;
	const struct nic *n;
	size_t i;
	int r = 0;

	if (nic && need_nic(rc, nic, out, &n) < 0)
		return -out->err.err;
	/* a dry run on a copy: the attachments keep showing what is */
	if (dry_run && with_scratch_store(rc, &scratch) < 0)
		return fail(out, NULL, ENOMEM, nic, "rebalance", "out of memory");
	rc->request = true;
	for (i = 0; i < nic_monitor_count(rc->d.monitor); i++) {
		struct kerror e = { 0 };

		n = nic_monitor_at(rc->d.monitor, i);
		if ((nic && strcmp(n->link.name, nic)) || !wants_reconcile(rc, n))
			continue;
		if (run_nic(rc, n->link.name, PLAN_MODE_REBALANCE, dry_run, opts, out, &e) < 0 &&
		    !r) {
			out->err = e;
			out->error_name = "io.zcrx.Manager.KernelError";
			r = -e.err;
		}
	}
	rc->request = false;
	if (dry_run)
		end_scratch_store(rc, &scratch);
	return r;
}

int reconcile_release(struct reconcile *rc, const char *nic, bool dry_run,
		      struct reconcile_outcome *out)
{
	const struct nic *n;
	struct journal_nic *j;
	struct store scratch;
	struct kerror e = { 0 };
	size_t i;
	int r;

	if ((r = need_nic(rc, nic, out, &n)) < 0)
		return r;
	if (dry_run && with_scratch_store(rc, &scratch) < 0)
		return fail(out, NULL, ENOMEM, nic, "release", "out of memory");
	rc->request = true;
	for (i = rc->store.n_atts; i-- > 0;)
		if (!strcmp(rc->store.atts[i].id.nic, nic)) {
			if (!dry_run)
				publish(rc, "attachment-removed",
					attach_id_to_json(&rc->store.atts[i].id));
			store_del_attach(&rc->store, i);
		}
	r = run_nic(rc, nic, PLAN_MODE_RELEASE, dry_run, NULL, out, &e);
	if (!dry_run) {
		j = store_journal(&rc->store, nic, n->link.ifindex, true);
		if (j)
			j->released = true;
		(void)save(rc);
	} else {
		end_scratch_store(rc, &scratch);
	}
	rc->request = false;
	if (r < 0) {
		out->err = e;
		out->error_name = "io.zcrx.Manager.KernelError";
	}
	return r;
}

int reconcile_nic(struct reconcile *rc, const char *nic, struct reconcile_outcome *out)
{
	const struct nic *n;
	int r;

	if (nic && (r = need_nic(rc, nic, out, &n)) < 0)
		return r;
	/* asked for: what the module refused is asked again */
	forget_refusals(rc, nic, NULL);
	if (!nic)
		return reconcile_all(rc, "request", out);
	r = run_nic(rc, nic, PLAN_MODE_NORMAL, false, NULL, out, &out->err);
	if (r < 0)
		out->error_name = "io.zcrx.Manager.KernelError";
	return r;
}

int reconcile_plan(struct reconcile *rc, const char *nic, struct reconcile_outcome *out)
{
	struct store scratch;
	const struct nic *n;
	size_t i;
	int r;

	if (nic && (r = need_nic(rc, nic, out, &n)) < 0)
		return r;
	/* on a copy: the attachments keep showing what is, not what would be */
	if (with_scratch_store(rc, &scratch) < 0)
		return fail(out, NULL, ENOMEM, nic, "plan", "out of memory");
	for (i = 0; i < nic_monitor_count(rc->d.monitor); i++) {
		struct kerror e = { 0 };

		n = nic_monitor_at(rc->d.monitor, i);
		if ((nic && strcmp(n->link.name, nic)) || (!nic && !wants_reconcile(rc, n)))
			continue;
		(void)run_nic(rc, n->link.name, PLAN_MODE_NORMAL, true, NULL, out, &e);
	}
	end_scratch_store(rc, &scratch);
	return 0;
}

int reconcile_prune(struct reconcile *rc, const char *const *running, size_t n)
{
	size_t i, k;
	int removed = 0;

	for (i = rc->store.n_atts; i-- > 0;) {
		const struct attach *a = &rc->store.atts[i];
		struct reconcile_outcome o = { 0 };
		char uuid[ATTACH_UUID_MAX];

		if (!a->id.uuid[0])
			continue;
		for (k = 0; k < n && strcmp(running[k], a->id.uuid); k++)
			;
		if (k < n)
			continue;
		snprintf(uuid, sizeof(uuid), "%s", a->id.uuid);
		if (reconcile_detach(rc, NULL, uuid, NULL, NULL, false, &o) > 0)
			removed++;
		reconcile_outcome_clear(&o);
		i = rc->store.n_atts; /* the table changed: start over */
	}
	return removed;
}

/* --- reading --------------------------------------------------------------------------------- */

size_t reconcile_count(const struct reconcile *rc)
{
	return rc->store.n_atts;
}

const struct attach *reconcile_at(const struct reconcile *rc, size_t i)
{
	return i < rc->store.n_atts ? &rc->store.atts[i] : NULL;
}

const struct store *reconcile_store(const struct reconcile *rc)
{
	return &rc->store;
}

struct reconcile_stats reconcile_get_stats(const struct reconcile *rc)
{
	return rc->st;
}

static json_object *u32s(const uint32_t *v, size_t n)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int64(v[i]));
	return a;
}

json_object *reconcile_list_json(const struct reconcile *rc, const char *nic, const char *domain)
{
	json_object *o = json_object_new_object(), *atts = json_object_new_array(),
		    *nics = json_object_new_array();
	size_t i;

	for (i = 0; i < rc->store.n_atts; i++) {
		const struct attach *a = &rc->store.atts[i];

		if ((nic && strcmp(a->id.nic, nic)) || !matches(a, domain, NULL, NULL, NULL))
			continue;
		json_object_array_add(atts, attach_to_json(a));
	}
	for (i = 0; i < rc->n_nics; i++) {
		const struct rc_nic *n = &rc->nics[i];
		const struct journal_nic *j = NULL;
		json_object *x, *notes;
		size_t k;

		if (nic && strcmp(n->name, nic))
			continue;
		for (k = 0; k < rc->store.n_nics; k++)
			if (!strcmp(rc->store.nics[k].name, n->name))
				j = &rc->store.nics[k];
		if (!n->n_pool && !j)
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "nic", json_object_new_string(n->name));
		json_object_object_add(x, "released", json_object_new_boolean(j && j->released));
		json_object_object_add(x, "channels", json_object_new_int64(n->channels));
		json_object_object_add(x, "pool", u32s(n->pool, n->n_pool));
		json_object_object_add(x, "shared", u32s(n->shared, n->n_shared));
		json_object_object_add(x, "leased",
				       json_object_new_int64(j ? (int64_t)j->n_leases : 0));
		notes = json_object_new_array();
		for (k = 0; k < n->n_notes; k++)
			json_object_array_add(notes, attach_reason_to_json(&n->notes[k]));
		json_object_object_add(x, "notes", notes);
		json_object_array_add(nics, x);
	}
	json_object_object_add(o, "attachments", atts);
	json_object_object_add(o, "nics", nics);
	return o;
}

json_object *reconcile_outcome_plans_json(const struct reconcile_outcome *o)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < o->n_plans; i++)
		json_object_array_add(a, plan_to_json(&o->plans[i]));
	return a;
}
