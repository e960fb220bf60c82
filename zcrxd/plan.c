// SPDX-License-Identifier: MIT
/*
 * plan — the pure planner (plan.h): pool carving, queue choice, steering,
 * bindings, ordering.  Rendering of ops (text, ethtool, JSON) is in
 * plan-render.c.
 *
 * Owns: deciding.  Must not: do I/O, read the clock, keep globals, log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

#define QMAX_LIMIT 4096       /* queue indexes we are willing to reason about */
#define RULE_SLOTS_LIMIT 65536 /* rule table sizes we pick slots in ourselves */

/* Per-queue facts. */
enum {
	Q_POOL = 1u << 0,
	Q_FOREIGN_RULE = 1u << 1,
	Q_FOREIGN_CTX = 1u << 2,
	Q_PROVIDER = 1u << 3,
	Q_EXISTS = 1u << 4, /* below the target channel count */
};

enum phase {
	PH_UNBIND,
	PH_RULE_DEL,
	PH_CTX_DEL,
	PH_UNLEASE,
	PH_RESTORE,
	PH_RSS0_PRE,
	PH_CHANNELS,
	PH_RSS0_POST,
	PH_PREREQ,
	PH_LEASE,
	PH_CTX_NEW,
	PH_RULE_INS,
	PH_BIND,
	PH_MAX,
};

struct want_rule {
	struct nic_rule rule; /* content; rss_context valid when ctx_op < 0 */
	int ctx_op;           /* local index in PH_CTX_NEW, or -1 */
	bool satisfied;
	bool repair;          /* replaces one deleted outside zcrxd */
};

struct aplan {
	const struct attach *a;
	size_t idx;
	size_t rank;   /* position in planning order */
	bool skip;     /* duplicate or wrong NIC: no resources */
	uint32_t want; /* queues wanted after capability limits */
	uint32_t n_q;
	uint32_t q[ATTACH_QUEUES_MAX];
	bool exhausted;
	int method; /* -1 unsteered, else enum config_steering */
	bool use_ctx;
	bool has_ctx; /* kept owned context */
	uint32_t ctx_id;
	int ctx_op; /* local index in PH_CTX_NEW, or -1 */
	size_t n_wr;
	struct want_rule wr[2 * ATTACH_IP_MAX];
	bool want_bind;
	bool bind_repair;
	struct attach_result *res;
};

struct phase_ops {
	size_t n, cap;
	struct plan_op *v;
};

struct planner {
	const struct plan_input *in;
	const struct nic *nic;
	const struct journal_nic *j;
	const struct config_nic *pol;
	struct plan *p;
	const char *name;
	bool managed;
	int err;

	uint32_t t_cur, t; /* RX queues now / after the plan */
	uint32_t qmax;
	uint8_t *qf;       /* per queue Q_* */
	uint32_t *qrule;   /* a foreign rule location per queue (notes) */
	int32_t *holder;   /* queue -> aplan index, -1 free */
	uint32_t *pos;     /* queue -> position in pool (UINT32_MAX: not in pool) */
	int *qnuma;        /* queue -> NUMA node of its IRQ, -1 unknown */

	const struct nic_rss *rss0;
	bool rss0_writable;
	bool carve_ok; /* pool queues are out of context 0 (or will be) */
	struct kerror carve_err;

	bool chan_op, rings_op;
	bool chan_restore; /* the channel op puts back the pre-zcrxd count */

	size_t n_ap;
	struct aplan *ap;
	size_t *order;    /* ap indexes in planning order */
	size_t *by_mac;   /* ap indexes sorted by MAC (non-skipped) */
	size_t n_by_mac;

	const struct nic_rule **obs_rules; /* observed rules sorted by location */
	size_t n_obs_rules;

	struct phase_ops ph[PH_MAX];
};

/* --- small helpers ------------------------------------------------------- */

static void *xcalloc(struct planner *pl, size_t n, size_t size)
{
	void *p;

	if (!n)
		n = 1;
	p = calloc(n, size);
	if (!p)
		pl->err = -ENOMEM;
	return p;
}

static struct plan_op *op_new(struct planner *pl, enum phase ph, enum plan_op_kind kind,
			      const uint8_t *owner, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static struct plan_op *op_new(struct planner *pl, enum phase ph, enum plan_op_kind kind,
			      const uint8_t *owner, const char *fmt, ...)
{
	struct phase_ops *po = &pl->ph[ph];
	struct plan_op *op;
	va_list ap;

	if (pl->err)
		return NULL;
	if (po->n == po->cap) {
		size_t cap = po->cap ? po->cap * 2 : 8;
		struct plan_op *v = realloc(po->v, cap * sizeof(*v));

		if (!v) {
			pl->err = -ENOMEM;
			return NULL;
		}
		po->v = v;
		po->cap = cap;
	}
	op = &po->v[po->n++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->ctx_op = -1;
	snprintf(op->nic, sizeof(op->nic), "%s", pl->name);
	op->ifindex = pl->nic->link.ifindex;
	if (owner) {
		op->has_owner = true;
		memcpy(op->owner, owner, NIC_MAC_LEN);
	}
	va_start(ap, fmt);
	vsnprintf(op->reason, sizeof(op->reason), fmt, ap);
	va_end(ap);
	return op;
}

static uint32_t *dup_u32(struct planner *pl, const uint32_t *v, uint32_t n)
{
	uint32_t *p;

	if (!n)
		return NULL;
	p = malloc(n * sizeof(uint32_t));
	if (!p) {
		pl->err = -ENOMEM;
		return NULL;
	}
	memcpy(p, v, n * sizeof(uint32_t));
	return p;
}

static void note(struct planner *pl, const char *code, const char *op, int err, const char *fmt,
		 ...) __attribute__((format(printf, 5, 6)));

static void note(struct planner *pl, const char *code, const char *op, int err, const char *fmt,
		 ...)
{
	struct attach_reason *v, *x;
	va_list ap;

	if (pl->err)
		return;
	v = realloc(pl->p->notes, (pl->p->n_notes + 1) * sizeof(*v));
	if (!v) {
		pl->err = -ENOMEM;
		return;
	}
	pl->p->notes = v;
	x = &v[pl->p->n_notes++];
	memset(x, 0, sizeof(*x));
	snprintf(x->code, sizeof(x->code), "%s", code);
	snprintf(x->nic, sizeof(x->nic), "%s", pl->name);
	snprintf(x->op, sizeof(x->op), "%s", op);
	x->err = err < 0 ? -err : err;
	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
}

static void reason(struct planner *pl, struct aplan *ap, const char *code, const char *op,
		   int err, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void reason(struct planner *pl, struct aplan *ap, const char *code, const char *op,
		   int err, const char *fmt, ...)
{
	char msg[KERROR_MSG_MAX];
	va_list va;

	if (pl->err)
		return;
	va_start(va, fmt);
	vsnprintf(msg, sizeof(msg), fmt, va);
	va_end(va);
	if (attach_result_add_reason(ap->res, code, pl->name, op, err, msg) < 0)
		pl->err = -ENOMEM;
}

/* The kernel's words for a "no" capability, or a fallback text. */
static const char *cap_msg(const struct nic_cap *c, const char *fallback)
{
	if (c->msg[0])
		return c->msg;
	if (c->err)
		return strerror(c->err);
	return fallback;
}

static const char *mac_str(const uint8_t *mac, char *buf)
{
	return nic_mac_format(mac, buf);
}

static bool q_ok(const struct planner *pl, uint32_t q)
{
	return q < pl->qmax;
}

static bool queue_local(const struct planner *pl, uint32_t q, int node)
{
	return node >= 0 && q < pl->qmax && pl->qnuma[q] == node;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void spread(uint32_t *indir, uint32_t size, const uint32_t *q, size_t n)
{
	uint32_t i;

	for (i = 0; i < size; i++)
		indir[i] = q[i % n];
}

/* --- observed-state indexes ----------------------------------------------- */

static int cmp_rule_ptr(const void *a, const void *b)
{
	const struct nic_rule *x = *(const struct nic_rule *const *)a;
	const struct nic_rule *y = *(const struct nic_rule *const *)b;

	return x->location < y->location ? -1 : x->location > y->location;
}

static const struct nic_rule *obs_rule(const struct planner *pl, uint32_t loc)
{
	size_t lo = 0, hi = pl->n_obs_rules;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		uint32_t l = pl->obs_rules[mid]->location;

		if (l == loc)
			return pl->obs_rules[mid];
		if (l < loc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The journal entry that owns observed rule r, or -1. */
static ssize_t rule_owner(const struct planner *pl, const struct nic_rule *r)
{
	return journal_find_rule_exact(pl->j, r);
}

static bool ctx_owned(const struct planner *pl, const struct nic_rss *r)
{
	return journal_find_ctx_exact(pl->j, r) >= 0;
}

static bool binding_owned_on(const struct planner *pl, uint32_t q)
{
	size_t i;

	for (i = 0; i < pl->j->n_bindings; i++)
		if (pl->j->bindings[i].queue == q)
			return true;
	return false;
}

static const struct binder_binding *obs_binding(const struct planner *pl, uint32_t id)
{
	const struct plan_binder *b = pl->in->binder;
	size_t i;

	if (!b)
		return NULL;
	for (i = 0; i < b->n_bindings; i++)
		if (b->bindings[i].id == id)
			return &b->bindings[i];
	return NULL;
}

static int cmp_ap_mac(const void *a, const void *b, void *arg)
{
	const struct aplan *base = arg;
	const struct aplan *x = &base[*(const size_t *)a];
	const struct aplan *y = &base[*(const size_t *)b];
	int c = memcmp(x->a->id.mac, y->a->id.mac, NIC_MAC_LEN);

	if (c)
		return c;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static int cmp_ap_order(const void *a, const void *b, void *arg)
{
	const struct aplan *base = arg;
	const struct aplan *x = &base[*(const size_t *)a];
	const struct aplan *y = &base[*(const size_t *)b];
	int c = attach_id_cmp(&x->a->id, &y->a->id);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static struct aplan *ap_by_mac(const struct planner *pl, const uint8_t *mac)
{
	size_t lo = 0, hi = pl->n_by_mac;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		struct aplan *ap = &pl->ap[pl->by_mac[mid]];
		int c = memcmp(ap->a->id.mac, mac, NIC_MAC_LEN);

		if (!c)
			return ap;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* --- step 1: what is there ------------------------------------------------ */

static uint32_t umax(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static int setup(struct planner *pl)
{
	const struct nic *nic = pl->nic;
	const struct journal_nic *j = pl->j;
	uint32_t qmax;
	size_t i, k;

	pl->t_cur = nic_rx_queue_count(nic);
	if (!pl->t_cur)
		pl->t_cur = nic->link.num_rx_queues;
	if (!pl->t_cur)
		pl->t_cur = (uint32_t)nic->n_queues;
	pl->t = pl->t_cur;

	qmax = pl->t_cur;
	qmax = umax(qmax, nic->ch.combined_max + nic->ch.rx_max);
	if (pl->pol)
		qmax = umax(qmax, pl->pol->channels);
	if (pl->pol && pl->pol->n_reserve_list)
		qmax = umax(qmax, pl->pol->reserve_list[pl->pol->n_reserve_list - 1] + 1);
	if (j->has_channels_prior)
		qmax = umax(qmax, j->channels_prior.rx + j->channels_prior.combined);
	for (i = 0; i < j->n_leases; i++)
		qmax = umax(qmax, j->leases[i].queue + 1);
	for (i = 0; i < nic->n_queues; i++)
		qmax = umax(qmax, nic->queues[i].id + 1);
	for (i = 0; i < nic->n_rules; i++)
		if (nic->rules[i].action == NIC_RULE_ACTION_QUEUE)
			qmax = umax(qmax, nic->rules[i].queue + 1);
	for (i = 0; i < nic->n_rss; i++)
		for (k = 0; k < nic->rss[i].indir_size; k++)
			qmax = umax(qmax, nic->rss[i].indir[k] + 1);
	if (qmax > QMAX_LIMIT)
		qmax = QMAX_LIMIT;
	pl->qmax = qmax;

	pl->qf = xcalloc(pl, qmax, sizeof(*pl->qf));
	pl->qrule = xcalloc(pl, qmax, sizeof(*pl->qrule));
	pl->holder = xcalloc(pl, qmax, sizeof(*pl->holder));
	pl->pos = xcalloc(pl, qmax, sizeof(*pl->pos));
	pl->qnuma = xcalloc(pl, qmax, sizeof(*pl->qnuma));
	pl->obs_rules = xcalloc(pl, nic->n_rules, sizeof(*pl->obs_rules));
	if (pl->err)
		return pl->err;
	for (i = 0; i < qmax; i++) {
		pl->holder[i] = -1;
		pl->pos[i] = UINT32_MAX;
		pl->qnuma[i] = -1;
	}
	for (i = 0; i < nic->n_queues; i++)
		if (q_ok(pl, nic->queues[i].id))
			pl->qnuma[nic->queues[i].id] = nic->queues[i].numa_node;

	for (i = 0; i < nic->n_rules; i++)
		pl->obs_rules[i] = &nic->rules[i];
	pl->n_obs_rules = nic->n_rules;
	qsort(pl->obs_rules, pl->n_obs_rules, sizeof(*pl->obs_rules), cmp_rule_ptr);

	/* Foreign claims: rules, contexts and providers zcrxd does not own. */
	for (i = 0; i < nic->n_rules; i++) {
		const struct nic_rule *r = &nic->rules[i];

		if (rule_owner(pl, r) >= 0 || r->action != NIC_RULE_ACTION_QUEUE ||
		    !q_ok(pl, r->queue))
			continue;
		if (!(pl->qf[r->queue] & Q_FOREIGN_RULE))
			pl->qrule[r->queue] = r->location;
		pl->qf[r->queue] |= Q_FOREIGN_RULE;
	}
	for (i = 0; i < nic->n_rss; i++) {
		const struct nic_rss *r = &nic->rss[i];

		if (r->id == 0 || ctx_owned(pl, r))
			continue;
		for (k = 0; k < r->indir_size; k++)
			if (q_ok(pl, r->indir[k]))
				pl->qf[r->indir[k]] |= Q_FOREIGN_CTX;
	}
	for (i = 0; i < nic->n_queues; i++) {
		const struct nic_queue *q = &nic->queues[i];

		if (q->providers && q_ok(pl, q->id) && !binding_owned_on(pl, q->id))
			pl->qf[q->id] |= Q_PROVIDER;
	}

	pl->rss0 = nic_find_rss(nic, 0);
	if (pl->rss0 && !pl->rss0->indir_size)
		pl->rss0 = NULL;
	pl->rss0_writable = pl->rss0 && nic->caps.rss_set.state != NIC_CAP_NO;
	return 0;
}

/* Why queue q may not be taken (or removed): "" when nothing claims it. */
static const char *claim(const struct planner *pl, uint32_t q, char *buf, size_t size)
{
	buf[0] = '\0';
	if (!q_ok(pl, q))
		return buf;
	if (pl->qf[q] & Q_PROVIDER)
		snprintf(buf, size, "queue %u has a memory provider zcrxd did not bind", q);
	else if (pl->qf[q] & Q_FOREIGN_RULE)
		snprintf(buf, size, "queue %u is the target of rule %u, which zcrxd does not own",
			 q, pl->qrule[q]);
	else if (pl->qf[q] & Q_FOREIGN_CTX)
		snprintf(buf, size, "queue %u is in an RSS context zcrxd does not own", q);
	return buf;
}

/* --- step 2: channels ----------------------------------------------------- */

static bool use_combined(const struct nic *nic)
{
	return nic->ch.combined_max > 0 || nic->ch.combined > 0;
}

/* Can the RX queue count drop to t?  Names the first blocker otherwise. */
static bool shrink_blocked(const struct planner *pl, uint32_t t, char *why, size_t size)
{
	uint32_t q;

	for (q = t; q < pl->qmax; q++)
		if (claim(pl, q, why, size)[0])
			return true;
	if (!pl->rss0 || pl->rss0_writable)
		return false;
	for (q = 0; q < pl->rss0->indir_size; q++)
		if (pl->rss0->indir[q] >= t) {
			snprintf(why, size,
				 "the default RSS table uses queue %u and cannot be rewritten",
				 pl->rss0->indir[q]);
			return true;
		}
	return false;
}

static void plan_channels(struct planner *pl)
{
	const struct nic *nic = pl->nic;
	const struct journal_nic *j = pl->j;
	struct nic_channels_req req = { 0 }, prev = { 0 };
	bool comb = use_combined(nic), restore = false;
	uint32_t max = comb ? nic->ch.combined_max : nic->ch.rx_max;
	uint32_t target, extra = comb ? nic->ch.rx : nic->ch.combined;
	struct plan_op *op;
	char why[160];

	if (pl->managed && pl->pol->channels) {
		target = pl->pol->channels;
		if (target == pl->t_cur)
			return;
		if (nic->caps.channels_set.state == NIC_CAP_NO || !max) {
			note(pl, ATTACH_R_CHANNELS, "set channels", nic->caps.channels_set.err,
			     "Channels=%u ignored: the channel count cannot be changed (%s)", target,
			     cap_msg(&nic->caps.channels_set, "no settable channel maximum"));
			return;
		}
		if (target < 1 + extra || target - extra > max) {
			note(pl, ATTACH_R_CHANNELS, "set channels", EINVAL,
			     "Channels=%u ignored: outside 1..%u", target, max + extra);
			return;
		}
		req.has_combined = comb;
		req.has_rx = !comb;
		if (comb)
			req.combined = target - extra;
		else
			req.rx = target - extra;
	} else if (j->has_channels_prior) {
		restore = true;
		req.has_combined = comb;
		req.has_rx = true;
		req.rx = j->channels_prior.rx;
		req.combined = j->channels_prior.combined;
		target = req.rx + (comb ? req.combined : 0);
		if (nic->ch.rx == req.rx && (!comb || nic->ch.combined == req.combined)) {
			op = op_new(pl, PH_RESTORE, PLAN_OP_FORGET, NULL,
				    "channel count is back at its recorded value");
			if (op)
				op->forget = PLAN_FORGET_CHANNELS;
			pl->chan_restore = true;
			return;
		}
	} else {
		return;
	}

	if (target < pl->t_cur && shrink_blocked(pl, target, why, sizeof(why))) {
		note(pl, ATTACH_R_CHANNELS, "set channels", EBUSY,
		     "not changing the RX queue count from %u to %u: %s", pl->t_cur, target, why);
		return;
	}
	prev.has_rx = req.has_rx;
	prev.has_combined = req.has_combined;
	prev.rx = nic->ch.rx;
	prev.combined = nic->ch.combined;
	if (restore)
		op = op_new(pl, PH_CHANNELS, PLAN_OP_SET_CHANNELS, NULL,
			    "restore the RX queue count to %u, as it was before zcrxd", target);
	else
		op = op_new(pl, PH_CHANNELS, PLAN_OP_SET_CHANNELS, NULL,
			    "Channels=%u (now %u)", target, pl->t_cur);
	if (!op)
		return;
	op->ch = req;
	op->ch_prev = prev;
	op->prior = restore ? PLAN_PRIOR_CLEAR : j->has_channels_prior ? PLAN_PRIOR_KEEP :
									 PLAN_PRIOR_RECORD;
	pl->t = target;
	pl->chan_op = true;
	pl->chan_restore = restore;
}

/* --- step 3: the pool and the default table -------------------------------- */

static void pool_add(struct planner *pl, uint32_t q, uint32_t *pool, size_t *n)
{
	char why[160];

	if (claim(pl, q, why, sizeof(why))[0]) {
		note(pl, ATTACH_R_POOL, "reserve queue", EBUSY, "queue %u not reserved: %s", q,
		     why);
		return;
	}
	pool[(*n)++] = q;
}

static void plan_pool(struct planner *pl)
{
	const struct config_nic *pol = pl->pol;
	uint32_t t = pl->t, q, *pool, *shared;
	size_t n = 0, ns = 0, i;

	for (q = 0; q < t && q < pl->qmax; q++)
		pl->qf[q] |= Q_EXISTS;
	if (t > pl->qmax)
		t = pl->qmax;
	pool = xcalloc(pl, t, sizeof(uint32_t));
	shared = xcalloc(pl, t, sizeof(uint32_t));
	if (pl->err) {
		free(pool);
		free(shared);
		return;
	}
	if (pl->managed && t) {
		if (pol->n_reserve_list) {
			for (i = 0; i < pol->n_reserve_list; i++) {
				q = pol->reserve_list[i];
				if (q >= t) {
					note(pl, ATTACH_R_POOL, "reserve queue", ERANGE,
					     "ReserveQueues lists queue %u but the NIC has %u RX queues",
					     q, t);
					continue;
				}
				pool_add(pl, q, pool, &n);
			}
		} else if (pol->reserve_count) {
			uint32_t c = pol->reserve_count;

			if (c >= t) {
				note(pl, ATTACH_R_POOL, "reserve queue", ERANGE,
				     "ReserveQueues=%u leaves no shared queue on %u RX queues; "
				     "reserving %u",
				     c, t, t - 1);
				c = t - 1;
			}
			for (q = t - c; q < t; q++)
				pool_add(pl, q, pool, &n);
		}
		if (n == t) {
			note(pl, ATTACH_R_POOL, "reserve queue", ERANGE,
			     "queue %u kept shared: at least one queue must stay in the default "
			     "RSS table",
			     pool[0]);
			memmove(pool, pool + 1, (n - 1) * sizeof(uint32_t));
			n--;
		}
	}
	for (i = 0; i < n; i++) {
		pl->qf[pool[i]] |= Q_POOL;
		pl->pos[pool[i]] = (uint32_t)i;
	}
	for (q = 0; q < t; q++)
		if (!(pl->qf[q] & Q_POOL))
			shared[ns++] = q;
	pl->p->pool = pool;
	pl->p->n_pool = n;
	pl->p->shared = shared;
	pl->p->n_shared = ns;
	pl->p->channels = pl->t;
}

static bool table_equal(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
	return na == nb && (!na || !memcmp(a, b, na * sizeof(uint32_t)));
}

static bool rss0_high(const struct nic_rss *r0, uint32_t t)
{
	uint32_t i;

	for (i = 0; i < r0->indir_size; i++)
		if (r0->indir[i] >= t)
			return true;
	return false;
}

static void plan_rss0(struct planner *pl)
{
	const struct journal_nic *j = pl->j;
	const struct nic_rss *r0 = pl->rss0;
	const struct nic_caps *caps = &pl->nic->caps;
	enum plan_prior prior;
	uint32_t *want = NULL, size, q, *all = NULL;
	bool shrinking = pl->t < pl->t_cur, restore = false;
	const char *why;
	struct plan_op *op;
	enum phase ph = shrinking ? PH_RSS0_PRE : PH_RSS0_POST;

	pl->carve_ok = !pl->p->n_pool;
	if (!r0 || !pl->rss0_writable) {
		const struct nic_cap *c = !r0 ? &caps->rss : &caps->rss_set;

		kerror_set(&pl->carve_err, c->err ? c->err : EOPNOTSUPP, pl->name,
			   !r0 ? "read RSS table" : "write RSS table",
			   cap_msg(c, "no RSS table to rewrite"));
		if (pl->managed && pl->p->n_pool)
			note(pl, ATTACH_R_SHARED, pl->carve_err.op, pl->carve_err.err,
			     "pool queues stay in the default RSS spread: %s", pl->carve_err.msg);
		if (j->has_rss0_prior && !pl->managed)
			note(pl, ATTACH_R_SHARED, pl->carve_err.op, pl->carve_err.err,
			     "cannot restore the recorded default RSS table: %s",
			     pl->carve_err.msg);
		return;
	}
	size = r0->indir_size;
	want = xcalloc(pl, size, sizeof(uint32_t));
	all = xcalloc(pl, pl->t ? pl->t : 1, sizeof(uint32_t));
	if (pl->err)
		goto out;
	for (q = 0; q < pl->t; q++)
		all[q] = q;

	if (pl->managed && pl->p->n_pool) {
		spread(want, size, pl->p->shared, pl->p->n_shared);
		prior = j->has_rss0_prior ? PLAN_PRIOR_KEEP : PLAN_PRIOR_RECORD;
		why = "spread the default RSS table over the shared queues only";
	} else if (j->has_rss0_prior || rss0_high(r0, pl->t)) {
		bool valid = j->has_rss0_prior && j->n_rss0_prior == size;
		bool chan_ours = (j->has_channels_prior || pl->chan_op) && !pl->chan_restore;

		for (q = 0; valid && q < size; q++)
			valid = j->rss0_prior[q] < pl->t;
		if (valid) {
			memcpy(want, j->rss0_prior, size * sizeof(uint32_t));
			prior = PLAN_PRIOR_CLEAR;
			restore = true;
			why = "restore the default RSS table recorded before zcrxd changed it";
		} else if (chan_ours) {
			/* zcrxd changed the channel count: the recorded table fits
			 * again once that is undone; until then spread evenly */
			if (pl->t)
				spread(want, size, all, pl->t);
			prior = j->has_rss0_prior ? PLAN_PRIOR_KEEP : PLAN_PRIOR_RECORD;
			why = "spread the default RSS table over the queues the channel count "
			      "leaves";
		} else {
			/* The channel count goes back to what it was before zcrxd,
			 * or someone else changed it, and the recorded table (if
			 * any) does not fit: hand the table back to the driver's
			 * default.  When the current table stands in the way of
			 * the queue count, spread it over what remains first. */
			uint32_t *prev = r0->indir;

			if (rss0_high(r0, pl->t) && pl->t) {
				spread(want, size, all, pl->t);
				op = op_new(pl, PH_RSS0_PRE, PLAN_OP_RSS_SET, NULL,
					    "spread the default RSS table over the queues that "
					    "remain");
				if (!op)
					goto out;
				op->indir = want;
				op->n_indir = size;
				op->prev = dup_u32(pl, r0->indir, size);
				op->n_prev = size;
				prev = want;
				want = NULL;
			}
			op = op_new(pl, PH_RSS0_POST, PLAN_OP_RSS_SET, NULL,
				    "reset the default RSS table to the driver's default (the "
				    "recorded one does not fit %u queues)",
				    pl->t);
			if (!op)
				goto out;
			op->prior = j->has_rss0_prior ? PLAN_PRIOR_CLEAR : PLAN_PRIOR_KEEP;
			op->prev = dup_u32(pl, prev, size);
			op->n_prev = size;
			pl->carve_ok = true;
			goto out;
		}
	} else {
		goto out;
	}

	if (table_equal(want, size, r0->indir, r0->indir_size) && !pl->chan_op) {
		if (restore) {
			op = op_new(pl, PH_RESTORE, PLAN_OP_FORGET, NULL,
				    "default RSS table is back at its recorded value");
			if (op)
				op->forget = PLAN_FORGET_RSS0;
		}
		pl->carve_ok = true;
		goto out;
	}
	op = op_new(pl, ph, PLAN_OP_RSS_SET, NULL, "%s", why);
	if (!op)
		goto out;
	op->ctx = 0;
	op->prior = prior;
	op->indir = want;
	op->n_indir = size;
	want = NULL;
	op->prev = dup_u32(pl, r0->indir, r0->indir_size);
	op->n_prev = r0->indir_size;
	pl->carve_ok = true;
out:
	free(want);
	free(all);
}

/* --- step 4: leases --------------------------------------------------------- */

static bool contexts_usable(const struct planner *pl)
{
	const struct nic_caps *c = &pl->nic->caps;

	return c->rss_contexts.state != NIC_CAP_NO && pl->rss0;
}

static int setup_attachments(struct planner *pl)
{
	const struct plan_input *in = pl->in;
	size_t i, k;

	pl->n_ap = in->n_atts;
	pl->ap = xcalloc(pl, in->n_atts, sizeof(*pl->ap));
	pl->order = xcalloc(pl, in->n_atts, sizeof(size_t));
	pl->by_mac = xcalloc(pl, in->n_atts, sizeof(size_t));
	pl->p->results = xcalloc(pl, in->n_atts, sizeof(*pl->p->results));
	if (pl->err)
		return pl->err;
	pl->p->n_results = in->n_atts;
	for (i = 0; i < in->n_atts; i++) {
		struct aplan *ap = &pl->ap[i];

		ap->a = in->atts[i];
		ap->idx = i;
		ap->method = -1;
		ap->ctx_op = -1;
		ap->res = &pl->p->results[i];
		attach_result_init(ap->res);
		pl->order[i] = i;
	}
	qsort_r(pl->order, pl->n_ap, sizeof(size_t), cmp_ap_order, pl->ap);

	/* by MAC, dropping duplicates (the later one in planning order loses) */
	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];
		const struct attach_id *id = &ap->a->id;

		ap->rank = i;
		if (strcmp(id->nic, pl->name)) {
			ap->skip = true;
			reason(pl, ap, ATTACH_R_NIC, "plan", EINVAL,
			       "attachment names NIC '%s', planned on '%s'", id->nic, pl->name);
			continue;
		}
		pl->by_mac[pl->n_by_mac++] = ap->idx;
	}
	qsort_r(pl->by_mac, pl->n_by_mac, sizeof(size_t), cmp_ap_mac, pl->ap);
	for (i = 0, k = 0; i < pl->n_by_mac; i++) {
		struct aplan *ap = &pl->ap[pl->by_mac[i]];
		char mac[18];

		if (k && !memcmp(pl->ap[pl->by_mac[k - 1]].a->id.mac, ap->a->id.mac, NIC_MAC_LEN)) {
			ap->skip = true;
			reason(pl, ap, ATTACH_R_NIC, "plan", EEXIST, "MAC %s is attached twice on %s",
			       mac_str(ap->a->id.mac, mac), pl->name);
			continue;
		}
		pl->by_mac[k++] = pl->by_mac[i];
	}
	pl->n_by_mac = k;

	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[i];

		if (ap->a->held && !ap->skip) {
			const struct kerror *ke = &ap->a->held_err;

			ap->skip = true;
			reason(pl, ap, ATTACH_R_KERNEL, ke->op[0] ? ke->op : "apply",
			       ke->err ? ke->err : EIO, "held back after a refusal: %s",
			       ke->msg[0] ? ke->msg : strerror(ke->err ? ke->err : EIO));
		}
		ap->want = ap->a->id.queues;
		if (ap->want > ATTACH_QUEUES_MAX)
			ap->want = ATTACH_QUEUES_MAX;
		if (ap->want > 1 && !contexts_usable(pl) && !ap->skip && pl->managed) {
			const struct nic_cap *c = &pl->nic->caps.rss_contexts;

			reason(pl, ap, ATTACH_R_NO_CONTEXT, "create RSS context",
			       c->err ? c->err : EOPNOTSUPP,
			       "%u queues requested, using 1: no RSS contexts (%s)", ap->want,
			       cap_msg(c, pl->rss0 ? "unsupported" : "no readable RSS table"));
			ap->want = 1;
		}
	}
	return pl->err;
}

static void take(struct planner *pl, struct aplan *ap, uint32_t q)
{
	ap->q[ap->n_q++] = q;
	pl->holder[q] = (int32_t)ap->idx;
}

static void drop_all(struct planner *pl, struct aplan *ap)
{
	uint32_t i;

	for (i = 0; i < ap->n_q; i++)
		pl->holder[ap->q[i]] = -1;
	ap->n_q = 0;
}

/* Keep the journal's leases that are still valid. */
static void keep_leases(struct planner *pl)
{
	const struct journal_nic *j = pl->j;
	size_t i;

	if (!pl->managed)
		return;
	for (i = 0; i < j->n_leases; i++) {
		uint32_t q = j->leases[i].queue;
		struct aplan *ap = ap_by_mac(pl, j->leases[i].owner);

		if (!ap || ap->skip || !q_ok(pl, q) || !(pl->qf[q] & Q_POOL) || pl->holder[q] >= 0 ||
		    ap->n_q >= ap->want)
			continue;
		take(pl, ap, q);
	}
}

/* Best n queues for ap out of the free ones and its own: NUMA-local first,
 * then lowest pool position.  Returns how many were found. */
static uint32_t best_queues(const struct planner *pl, const struct aplan *ap, uint32_t n,
			    uint32_t *out)
{
	const uint32_t *pool = pl->p->pool;
	int node = ap->a->id.numa_node;
	uint32_t got = 0;
	int pass;
	size_t i;

	for (pass = 0; pass < 2 && got < n; pass++) {
		for (i = 0; i < pl->p->n_pool && got < n; i++) {
			uint32_t q = pool[i];
			int32_t h = pl->holder[q];

			if (h >= 0 && h != (int32_t)ap->idx)
				continue;
			if ((pass == 0) != queue_local(pl, q, node))
				continue;
			out[got++] = q;
		}
	}
	qsort(out, got, sizeof(uint32_t), cmp_u32);
	return got;
}

static unsigned count_local(const struct planner *pl, const uint32_t *q, uint32_t n, int node)
{
	unsigned c = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		c += queue_local(pl, q[i], node);
	return c;
}

static uint64_t sum_pos(const struct planner *pl, const uint32_t *q, uint32_t n)
{
	uint64_t s = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		s += pl->pos[q[i]];
	return s;
}

static void rebalance(struct planner *pl)
{
	unsigned min_numa = pl->in->rebalance.min_numa_gain ? pl->in->rebalance.min_numa_gain : 1;
	unsigned min_comp =
		pl->in->rebalance.min_compact_gain ? pl->in->rebalance.min_compact_gain : 1;
	uint32_t cand[ATTACH_QUEUES_MAX];
	bool moved = true;
	int pass;
	size_t i;

	for (pass = 0; pass < 32 && moved; pass++) {
		moved = false;
		for (i = 0; i < pl->n_ap; i++) {
			struct aplan *ap = &pl->ap[pl->order[i]];
			int node = ap->a->id.numa_node;
			unsigned lc, ln;
			uint64_t pc, pn;
			uint32_t n;

			if (ap->skip || !ap->n_q)
				continue;
			n = best_queues(pl, ap, ap->n_q, cand);
			if (n != ap->n_q || !memcmp(cand, ap->q, n * sizeof(uint32_t)))
				continue;
			lc = count_local(pl, ap->q, ap->n_q, node);
			ln = count_local(pl, cand, n, node);
			pc = sum_pos(pl, ap->q, ap->n_q);
			pn = sum_pos(pl, cand, n);
			if (ln < lc)
				continue;
			if (!(ln - lc >= min_numa || (ln == lc && pc >= pn + min_comp)))
				continue;
			drop_all(pl, ap);
			for (uint32_t k = 0; k < n; k++)
				take(pl, ap, cand[k]);
			moved = true;
		}
	}
}

static void allocate(struct planner *pl)
{
	const struct config_nic *pol = pl->pol;
	bool fail = pol && pol->on_exhaustion == CONFIG_ON_EXHAUSTION_FAIL;
	uint32_t cand[ATTACH_QUEUES_MAX];
	bool changed = true;
	size_t i;

	if (!pl->managed)
		return;
	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];
		uint32_t n, k, need = ap->want;

		if (ap->skip || ap->n_q >= need)
			continue;
		n = best_queues(pl, ap, need, cand);
		if (n >= need || !fail) {
			/* keep what it had, add the best free ones */
			for (k = 0; k < n && ap->n_q < need; k++)
				if (pl->holder[cand[k]] < 0)
					take(pl, ap, cand[k]);
		}
		if (ap->n_q < need && fail) {
			drop_all(pl, ap);
			ap->exhausted = true;
		}
	}
	/* Queues given up by later refused attachments may satisfy earlier
	 * ones: retry in order until nothing changes, so that planning again
	 * finds the same assignment. */
	while (fail && changed) {
		changed = false;
		for (i = 0; i < pl->n_ap; i++) {
			struct aplan *ap = &pl->ap[pl->order[i]];
			uint32_t n, k;

			if (!ap->exhausted)
				continue;
			n = best_queues(pl, ap, ap->want, cand);
			if (n < ap->want)
				continue;
			for (k = 0; k < n; k++)
				take(pl, ap, cand[k]);
			ap->exhausted = false;
			changed = true;
		}
	}
	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];
		uint32_t need = ap->want;

		if (ap->skip)
			continue;
		if (ap->exhausted) {
			pl->p->exhausted = true;
			reason(pl, ap, ATTACH_R_POOL_EXHAUSTED, "lease queue", ENOSPC,
			       "pool exhausted: %u queue%s needed, %zu in the pool "
			       "(OnExhaustion=fail)",
			       need, need == 1 ? "" : "s", pl->p->n_pool);
		} else if (!ap->n_q) {
			reason(pl, ap, ATTACH_R_POOL_EXHAUSTED, "lease queue", ENOSPC,
			       "pool exhausted: no free queue among %zu reserved; traffic uses "
			       "the shared queues",
			       pl->p->n_pool);
		} else if (ap->n_q < need) {
			reason(pl, ap, ATTACH_R_PARTIAL, "lease queue", ENOSPC,
			       "pool exhausted: got %u of %u queues", ap->n_q, need);
		}
		qsort(ap->q, ap->n_q, sizeof(uint32_t), cmp_u32);
		if (ap->n_q && ap->a->id.numa_node >= 0) {
			unsigned local = count_local(pl, ap->q, ap->n_q, ap->a->id.numa_node);

			if (local < ap->n_q)
				reason(pl, ap, ATTACH_R_NUMA, "lease queue", 0,
				       "%u of %u queues are not on NUMA node %d", ap->n_q - local,
				       ap->n_q, ap->a->id.numa_node);
		}
	}
}

static void lease_ops(struct planner *pl)
{
	const struct journal_nic *j = pl->j;
	struct plan_op *op;
	char why[160];
	size_t i;
	uint32_t k;

	for (i = 0; i < j->n_leases; i++) {
		const struct journal_lease *l = &j->leases[i];
		struct aplan *ap = ap_by_mac(pl, l->owner);
		bool kept = q_ok(pl, l->queue) && ap && pl->holder[l->queue] == (int32_t)ap->idx;
		const char *r;

		if (kept)
			continue;
		if (!pl->managed)
			r = "NIC released";
		else if (!ap)
			r = "attachment removed";
		else if (!q_ok(pl, l->queue) || !(pl->qf[l->queue] & Q_EXISTS))
			r = "queue no longer exists";
		else if (claim(pl, l->queue, why, sizeof(why))[0])
			r = why;
		else if (!(pl->qf[l->queue] & Q_POOL))
			r = "queue left the pool";
		else if (ap->exhausted)
			r = "attachment cannot get all its queues";
		else
			r = "queue moved";
		op = op_new(pl, PH_UNLEASE, PLAN_OP_UNLEASE, l->owner, "release queue %u: %s",
			    l->queue, r);
		if (op)
			op->queue = l->queue;
	}
	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];

		for (k = 0; k < ap->n_q; k++) {
			ssize_t li = journal_find_lease(j, ap->q[k]);
			char dom[ATTACH_DOMAIN_MAX + 8];

			if (li >= 0 && !memcmp(j->leases[li].owner, ap->a->id.mac, NIC_MAC_LEN))
				continue;
			snprintf(dom, sizeof(dom), "%s", ap->a->id.domain);
			op = op_new(pl, PH_LEASE, PLAN_OP_LEASE, ap->a->id.mac,
				    "dedicate pool queue %u to '%s'%s", ap->q[k], dom,
				    queue_local(pl, ap->q[k], ap->a->id.numa_node) ?
					    " (same NUMA node)" :
					    "");
			if (op)
				op->queue = ap->q[k];
		}
		for (k = 0; k < ap->n_q; k++)
			if (attach_result_add_queue(ap->res, ap->q[k]) < 0)
				pl->err = -ENOMEM;
	}
}

/* --- step 5: steering, contexts, rules --------------------------------------- */

/* Can this NIC take ntuple rules at all?  Fills *why when not. */
static bool rules_possible(const struct planner *pl, struct kerror *why)
{
	const struct nic *nic = pl->nic;
	const struct nic_caps *c = &nic->caps;

	if (c->rules.state == NIC_CAP_NO)
		return kerror_set(why, c->rules.err ? c->rules.err : EOPNOTSUPP, pl->name,
				  "insert rule", cap_msg(&c->rules, "no ntuple rule table")),
		       false;
	if (c->ntuple.state == NIC_CAP_NO)
		return kerror_set(why, c->ntuple.err ? c->ntuple.err : EOPNOTSUPP, pl->name,
				  "enable " PLAN_FEATURE_NTUPLE,
				  cap_msg(&c->ntuple, "feature not available")),
		       false;
	if (nic->ntuple_fixed && !nic->ntuple_active)
		return kerror_set(why, EOPNOTSUPP, pl->name, "enable " PLAN_FEATURE_NTUPLE,
				  PLAN_FEATURE_NTUPLE " is fixed off on this device"),
		       false;
	return true;
}

static void choose_steering(struct planner *pl)
{
	static const enum config_steering dflt[] = { CONFIG_STEERING_MAC, CONFIG_STEERING_IP };
	const struct nic_caps *c = &pl->nic->caps;
	const enum config_steering *order = dflt;
	size_t n_order = 2, i, m;
	struct kerror base = { 0 };
	bool possible;

	if (!pl->managed)
		return;
	if (pl->pol->n_steering) {
		order = pl->pol->steering;
		n_order = pl->pol->n_steering;
	}
	possible = rules_possible(pl, &base);
	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];
		const struct attach_id *id = &ap->a->id;
		char tried[KERROR_MSG_MAX] = "";
		int first_err = 0;
		size_t len = 0;

		if (ap->skip || !ap->n_q)
			continue;
		if (!possible) {
			reason(pl, ap, ATTACH_R_UNSTEERED, base.op, base.err,
			       "no steering rule: %s", base.msg);
			continue;
		}
		for (m = 0; m < n_order && ap->method < 0; m++) {
			const char *no = NULL;
			int err = 0;

			switch (order[m]) {
			case CONFIG_STEERING_MAC:
				if (c->l2_rules.state == NIC_CAP_NO) {
					no = cap_msg(&c->l2_rules, "L2 rules refused");
					err = c->l2_rules.err ? c->l2_rules.err : EOPNOTSUPP;
				} else {
					ap->method = CONFIG_STEERING_MAC;
				}
				break;
			case CONFIG_STEERING_IP:
				if (!id->n_ip4 && !id->n_ip6) {
					no = "the vNIC's IP addresses are not known";
				} else if (c->ip_rules.state == NIC_CAP_NO) {
					no = cap_msg(&c->ip_rules, "IP rules refused");
					err = c->ip_rules.err ? c->ip_rules.err : EOPNOTSUPP;
				} else {
					ap->method = CONFIG_STEERING_IP;
				}
				break;
			}
			if (no) {
				if (!first_err)
					first_err = err;
				len += (size_t)snprintf(tried + len, len < sizeof(tried) ?
									     sizeof(tried) - len :
									     0,
							"%s%s: %s", len ? "; " : "",
							config_steering_name(order[m]), no);
				if (len >= sizeof(tried))
					len = sizeof(tried) - 1;
			}
		}
		if (ap->method < 0) {
			reason(pl, ap, ATTACH_R_UNSTEERED, "insert rule",
			       first_err ? first_err : EOPNOTSUPP, "no steering method works (%s)",
			       tried);
			continue;
		}
		ap->use_ctx = ap->n_q > 1;
	}
}

static void want_rules(struct planner *pl, struct aplan *ap)
{
	const struct attach_id *id = &ap->a->id;
	struct nic_rule base = { 0 };
	size_t k;

	base.location = NIC_LOC_ANY;
	if (ap->use_ctx) {
		base.action = NIC_RULE_ACTION_CONTEXT;
		base.rss_context = ap->has_ctx ? ap->ctx_id : 0;
	} else {
		base.action = NIC_RULE_ACTION_QUEUE;
		base.queue = ap->q[0];
	}
	ap->n_wr = 0;
	if (ap->method == CONFIG_STEERING_MAC) {
		struct want_rule *w = &ap->wr[ap->n_wr++];

		w->rule = base;
		w->rule.match = NIC_RULE_MATCH_ETHER_DST;
		memcpy(w->rule.mac, id->mac, NIC_MAC_LEN);
		w->ctx_op = ap->use_ctx && !ap->has_ctx ? ap->ctx_op : -1;
		return;
	}
	for (k = 0; k < id->n_ip4; k++) {
		struct want_rule *w = &ap->wr[ap->n_wr++];

		w->rule = base;
		w->rule.match = NIC_RULE_MATCH_IP4_DST;
		w->rule.ip4 = id->ip4[k];
		w->ctx_op = ap->use_ctx && !ap->has_ctx ? ap->ctx_op : -1;
	}
	for (k = 0; k < id->n_ip6; k++) {
		struct want_rule *w = &ap->wr[ap->n_wr++];

		w->rule = base;
		w->rule.match = NIC_RULE_MATCH_IP6_DST;
		w->rule.ip6 = id->ip6[k];
		w->ctx_op = ap->use_ctx && !ap->has_ctx ? ap->ctx_op : -1;
	}
}

static const struct nic_rss *obs_ctx(const struct planner *pl, uint32_t id)
{
	return id ? nic_find_rss(pl->nic, id) : NULL;
}

static void plan_contexts(struct planner *pl)
{
	const struct journal_nic *j = pl->j;
	struct plan_op *op;
	size_t i;
	uint32_t k;

	/* keep an owned context that already spans exactly the right queues */
	for (i = 0; i < j->n_ctxs; i++) {
		const struct journal_ctx *c = &j->ctxs[i];
		struct aplan *ap;
		const struct nic_rss *r;

		if (c->pending)
			continue;
		ap = ap_by_mac(pl, c->owner);
		r = obs_ctx(pl, c->id);
		if (ap && ap->use_ctx && !ap->has_ctx && r &&
		    journal_rss_spans(r, ap->q, ap->n_q)) {
			ap->has_ctx = true;
			ap->ctx_id = c->id;
		}
	}
	for (i = 0; i < j->n_ctxs; i++) {
		const struct journal_ctx *c = &j->ctxs[i];
		struct aplan *ap = ap_by_mac(pl, c->owner);
		const struct nic_rss *r;

		r = obs_ctx(pl, c->id);
		if (c->pending ||
		    (ap && ap->has_ctx && ap->ctx_id == c->id && r &&
		     journal_rss_spans(r, c->queues, c->n_queues)))
			continue;
		if (!r || !journal_rss_spans(r, c->queues, c->n_queues)) {
			op = op_new(pl, PH_CTX_DEL, PLAN_OP_FORGET, c->owner,
				    "RSS context %u was deleted outside zcrxd", c->id);
			if (op) {
				op->forget = PLAN_FORGET_CTX;
				op->forget_id = c->id;
				op->n_ctx_queues = c->n_queues;
				memcpy(op->ctx_queues, c->queues, c->n_queues * sizeof(uint32_t));
			}
			continue;
		}
		op = op_new(pl, PH_CTX_DEL, PLAN_OP_RSS_DELETE, c->owner, "%s",
			    !ap || !ap->use_ctx ? "RSS context no longer needed" :
						  "the attachment's queues changed");
		if (!op)
			return;
		op->ctx = c->id;
		op->prev = dup_u32(pl, r->indir, r->indir_size);
		op->n_prev = r->indir_size;
	}
	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];
		uint32_t size = pl->rss0 ? pl->rss0->indir_size : ap->n_q;

		if (!ap->use_ctx || ap->has_ctx)
			continue;
		ap->ctx_op = (int)pl->ph[PH_CTX_NEW].n;
		op = op_new(pl, PH_CTX_NEW, PLAN_OP_RSS_CREATE, ap->a->id.mac,
			    "RSS context over the %u queues of '%s'", ap->n_q, ap->a->id.domain);
		if (!op)
			return;
		op->indir = xcalloc(pl, size, sizeof(uint32_t));
		if (!op->indir)
			return;
		op->n_indir = size;
		spread(op->indir, size, ap->q, ap->n_q);
		op->n_ctx_queues = ap->n_q;
		for (k = 0; k < ap->n_q; k++)
			op->ctx_queues[k] = ap->q[k];
	}
}

struct slots {
	uint32_t cap;
	uint8_t *used;  /* NULL: the driver picks (RX_CLS_LOC_ANY) */
	uint32_t next;  /* scan downwards from here */
	bool counted;   /* capacity known: count free entries */
	uint32_t n_free;
};

static int slots_init(struct planner *pl, struct slots *s)
{
	const struct nic *nic = pl->nic;
	const struct phase_ops *del = &pl->ph[PH_RULE_DEL];
	size_t i, n_del = 0;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < del->n; i++)
		n_del += del->v[i].kind == PLAN_OP_RULE_DELETE;
	if (nic->rule_capacity) {
		s->counted = true;
		s->n_free = nic->n_rules - n_del >= nic->rule_capacity ?
				    0 :
				    nic->rule_capacity - (uint32_t)(nic->n_rules - n_del);
	}
	if (nic->rule_loc_special || !nic->rule_capacity ||
	    nic->rule_capacity > RULE_SLOTS_LIMIT)
		return 0;
	s->cap = nic->rule_capacity;
	s->next = s->cap;
	s->used = xcalloc(pl, s->cap, 1);
	if (!s->used)
		return pl->err;
	for (i = 0; i < nic->n_rules; i++)
		if (nic->rules[i].location < s->cap)
			s->used[nic->rules[i].location] = 1;
	/* slots this plan empties first can be used again */
	for (i = 0; i < del->n; i++)
		if (del->v[i].kind == PLAN_OP_RULE_DELETE && del->v[i].rule.location < s->cap)
			s->used[del->v[i].rule.location] = 0;
	return 0;
}

/* Highest free slot (lowest priority, so rules of others keep theirs). */
static bool slot_take(struct slots *s, uint32_t *ret)
{
	if (s->counted) {
		if (!s->n_free)
			return false;
		s->n_free--;
	}
	if (!s->used) {
		*ret = NIC_LOC_ANY;
		return true;
	}
	while (s->next > 0) {
		uint32_t l = --s->next;

		if (!s->used[l]) {
			s->used[l] = 1;
			*ret = l;
			return true;
		}
	}
	return false;
}

static void plan_rules(struct planner *pl)
{
	const struct journal_nic *j = pl->j;
	struct plan_op *op;
	struct slots slots;
	size_t i, k;

	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[i];

		if (ap->method >= 0)
			want_rules(pl, ap);
	}
	for (i = 0; i < j->n_rules; i++) {
		const struct journal_rule *jr = &j->rules[i];
		const struct nic_rule *o;
		struct aplan *ap;
		bool present, kept = false;

		if (jr->pending)
			continue;
		o = obs_rule(pl, jr->rule.location);
		present = o && journal_rule_same_content(o, &jr->rule);
		ap = ap_by_mac(pl, jr->owner);
		if (ap && ap->method < 0)
			ap = NULL;
		for (k = 0; ap && k < ap->n_wr; k++) {
			struct want_rule *w = &ap->wr[k];

			if (w->satisfied || w->repair || w->ctx_op >= 0 ||
			    !journal_rule_same_content(&w->rule, &jr->rule))
				continue;
			if (present) {
				w->satisfied = true;
				kept = true;
				if (attach_result_add_rule(ap->res, jr->rule.location) < 0)
					pl->err = -ENOMEM;
			} else {
				w->repair = true;
			}
			break;
		}
		if (kept)
			continue;
		if (!present) {
			op = op_new(pl, PH_RULE_DEL, PLAN_OP_FORGET, jr->owner,
				    "rule %u was deleted outside zcrxd", jr->rule.location);
			if (op) {
				op->forget = PLAN_FORGET_RULE;
				op->forget_id = jr->rule.location;
				op->rule = jr->rule;
			}
			continue;
		}
		op = op_new(pl, PH_RULE_DEL, PLAN_OP_RULE_DELETE, jr->owner, "%s",
			    !ap_by_mac(pl, jr->owner) ? "attachment removed" :
			    !ap				    ? "steering no longer possible or wanted" :
							      "steering target changed");
		if (op) {
			op->rule = *o;
			op->undo_loc_any = pl->nic->rule_loc_special;
		}
	}

	if (slots_init(pl, &slots) < 0)
		return;
	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];
		size_t missing = 0;
		uint32_t loc[2 * ATTACH_IP_MAX];

		for (k = 0; k < ap->n_wr; k++)
			missing += !ap->wr[k].satisfied;
		if (!missing)
			continue;
		for (k = 0; k < ap->n_wr; k++) {
			if (ap->wr[k].satisfied)
				continue;
			if (!slot_take(&slots, &loc[k])) {
				reason(pl, ap, ATTACH_R_UNSTEERED, "insert rule", ENOSPC,
				       "no free slot in the rule table (%u entries)",
				       pl->nic->rule_capacity);
				ap->method = -1;
				break;
			}
		}
		if (ap->method < 0)
			continue;
		for (k = 0; k < ap->n_wr; k++) {
			struct want_rule *w = &ap->wr[k];
			char mac[18];

			if (w->satisfied)
				continue;
			op = op_new(pl, PH_RULE_INS, PLAN_OP_RULE_INSERT, ap->a->id.mac,
				    "%ssteer %s of '%s' to its %s", w->repair ? "repair: " : "",
				    ap->method == CONFIG_STEERING_MAC ?
					    mac_str(ap->a->id.mac, mac) :
					    "an IP address",
				    ap->a->id.domain, ap->use_ctx ? "RSS context" : "queue");
			if (!op)
				return;
			op->rule = w->rule;
			op->rule.location = loc[k];
			op->ctx_op = w->ctx_op;
		}
	}
	free(slots.used);
}

static bool foreign_rules(const struct planner *pl)
{
	size_t i;

	for (i = 0; i < pl->nic->n_rules; i++)
		if (rule_owner(pl, &pl->nic->rules[i]) < 0)
			return true;
	return false;
}

static void plan_ntuple(struct planner *pl)
{
	const struct nic *nic = pl->nic;
	const struct journal_nic *j = pl->j;
	bool need = false;
	struct plan_op *op;
	size_t i;

	for (i = 0; i < pl->n_ap; i++)
		need |= pl->ap[i].method >= 0;
	if (need && !nic->ntuple_active) {
		op = op_new(pl, PH_PREREQ, PLAN_OP_SET_FEATURE, NULL,
			    "steering rules need " PLAN_FEATURE_NTUPLE);
		if (!op)
			return;
		op->on = true;
		op->prev_on = false;
		op->prior = j->has_ntuple_prior ? PLAN_PRIOR_KEEP : PLAN_PRIOR_RECORD;
		return;
	}
	if (need || !j->has_ntuple_prior)
		return;
	if (nic->ntuple_active == j->ntuple_prior) {
		op = op_new(pl, PH_RESTORE, PLAN_OP_FORGET, NULL,
			    PLAN_FEATURE_NTUPLE " is back at its recorded value");
		if (op)
			op->forget = PLAN_FORGET_NTUPLE;
		return;
	}
	if (!j->ntuple_prior && foreign_rules(pl)) {
		note(pl, ATTACH_R_NIC, "restore " PLAN_FEATURE_NTUPLE, EBUSY,
		     "leaving " PLAN_FEATURE_NTUPLE " on: rules zcrxd does not own depend on it");
		return;
	}
	op = op_new(pl, PH_RESTORE, PLAN_OP_SET_FEATURE, NULL,
		    "restore " PLAN_FEATURE_NTUPLE " %s, as it was before zcrxd",
		    j->ntuple_prior ? "on" : "off");
	if (!op)
		return;
	op->on = j->ntuple_prior;
	op->prev_on = nic->ntuple_active;
	op->prior = PLAN_PRIOR_CLEAR;
}

/* --- step 6: zero-copy bindings and header split ------------------------------ */

static bool want_bindings(struct planner *pl)
{
	const struct plan_binder *b = pl->in->binder;
	const struct nic *nic = pl->nic;
	const struct nic_cap *hs = &nic->caps.header_split;
	bool need_hds = false, hds_blocked = false;
	uint32_t budget = UINT32_MAX;
	char why[KERROR_MSG_MAX];
	size_t i;

	if (!pl->managed)
		return false;
	if (b && b->probed && b->probe.max_bindings)
		budget = b->probe.max_bindings;
	why[0] = '\0';
	if (pl->pol->header_split == CONFIG_HEADER_SPLIT_OFF)
		snprintf(why, sizeof(why), "HeaderSplit=off, but the binder needs header split");
	else if (hs->state == NIC_CAP_NO)
		snprintf(why, sizeof(why), "header split not available: %s",
			 cap_msg(hs, "unsupported"));
	else if (nic->has_xdp)
		snprintf(why, sizeof(why), "an XDP program is attached (header split refused)");
	hds_blocked = why[0];

	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];

		if (ap->skip || !ap->n_q)
			continue;
		if (ap->method < 0) {
			reason(pl, ap, ATTACH_R_NO_ZEROCOPY, "bind", 0,
			       "no zero-copy: traffic is not steered to a dedicated queue");
			continue;
		}
		if (!b) {
			reason(pl, ap, ATTACH_R_NO_ZEROCOPY, "bind", 0,
			       "no zero-copy: binder state unknown");
			continue;
		}
		if (!b->available) {
			reason(pl, ap, ATTACH_R_NO_ZEROCOPY, "bind",
			       b->resolve_err.err ? b->resolve_err.err : ENOENT,
			       "no zero-copy (kernel module vhost_zcrx not available%s%s)",
			       b->resolve_err.msg[0] ? ": " : "", b->resolve_err.msg);
			continue;
		}
		if (!b->probed) {
			reason(pl, ap, ATTACH_R_NO_ZEROCOPY, "probe", b->probe_err.err,
			       "no zero-copy: vhost_zcrx cannot use this NIC (%s)",
			       b->probe_err.msg[0] ? b->probe_err.msg :
						     strerror(b->probe_err.err ? b->probe_err.err :
										 EOPNOTSUPP));
			continue;
		}
		if (!ap->a->id.tap_ifindex) {
			reason(pl, ap, ATTACH_R_NO_ZEROCOPY, "bind", 0,
			       "no zero-copy: the vNIC's macvtap is not known");
			continue;
		}
		if ((b->probe.features & BINDER_FEATURE_NEEDS_HDS) && hds_blocked) {
			reason(pl, ap, ATTACH_R_NO_ZEROCOPY, "enable header split",
			       hs->state == NIC_CAP_NO ? (hs->err ? hs->err : EOPNOTSUPP) : 0,
			       "no zero-copy: %s", why);
			continue;
		}
		if (budget < ap->n_q) {
			reason(pl, ap, ATTACH_R_NO_ZEROCOPY, "bind", ENOSPC,
			       "no zero-copy: vhost_zcrx allows %u bindings on this NIC",
			       b->probe.max_bindings);
			continue;
		}
		budget -= ap->n_q;
		ap->want_bind = true;
		if (b->probe.features & BINDER_FEATURE_NEEDS_HDS)
			need_hds = true;
	}
	if (pl->pol->header_split == CONFIG_HEADER_SPLIT_ON && hs->state != NIC_CAP_NO &&
	    !nic->has_xdp)
		need_hds = true;
	return need_hds;
}

static void plan_rings(struct planner *pl, bool need_hds)
{
	const struct nic_rings *r = &pl->nic->rings;
	const struct journal_nic *j = pl->j;
	struct nic_rings_req req = { 0 }, prev = { 0 };
	struct plan_op *op;
	uint32_t q;

	if (need_hds) {
		if (r->tcp_data_split != NIC_TDS_ENABLED) {
			req.has_tcp_data_split = prev.has_tcp_data_split = true;
			req.tcp_data_split = NIC_TDS_ENABLED;
			prev.tcp_data_split = r->tcp_data_split;
		}
		if (r->has_hds_thresh && r->hds_thresh != 0) {
			req.has_hds_thresh = prev.has_hds_thresh = true;
			req.hds_thresh = 0;
			prev.hds_thresh = r->hds_thresh;
		}
		if (!req.has_tcp_data_split && !req.has_hds_thresh)
			return;
		op = op_new(pl, PH_PREREQ, PLAN_OP_SET_RINGS, NULL,
			    "zero-copy needs header split with hds-thresh 0");
		if (!op)
			return;
		op->rings = req;
		op->rings_prev = prev;
		op->prior = PLAN_PRIOR_RECORD; /* fields not recorded yet */
		pl->rings_op = true;
		return;
	}
	if (!j->has_tds_prior && !j->has_hds_prior)
		return;
	for (q = 0; q < pl->qmax; q++)
		if (pl->qf[q] & Q_PROVIDER) {
			note(pl, ATTACH_R_NIC, "restore header split", EBUSY,
			     "leaving header split as it is: queue %u has a memory provider that "
			     "needs it",
			     q);
			return;
		}
	if (j->has_tds_prior && r->tcp_data_split != j->tds_prior) {
		req.has_tcp_data_split = prev.has_tcp_data_split = true;
		req.tcp_data_split = j->tds_prior;
		prev.tcp_data_split = r->tcp_data_split;
	}
	if (j->has_hds_prior && r->hds_thresh != j->hds_prior) {
		req.has_hds_thresh = prev.has_hds_thresh = true;
		req.hds_thresh = j->hds_prior;
		prev.hds_thresh = r->hds_thresh;
	}
	if (!req.has_tcp_data_split && !req.has_hds_thresh) {
		op = op_new(pl, PH_RESTORE, PLAN_OP_FORGET, NULL,
			    "header split is back at its recorded value");
		if (op)
			op->forget = PLAN_FORGET_RINGS;
		return;
	}
	op = op_new(pl, PH_RESTORE, PLAN_OP_SET_RINGS, NULL,
		    "restore header split settings recorded before zcrxd changed them");
	if (!op)
		return;
	op->rings = req;
	op->rings_prev = prev;
	op->prior = PLAN_PRIOR_CLEAR;
	pl->rings_op = true;
}

static struct attach_queue *res_queue(struct aplan *ap, uint32_t q)
{
	size_t i;

	for (i = 0; i < ap->res->n_queues; i++)
		if (ap->res->queues[i].queue == q)
			return &ap->res->queues[i];
	return NULL;
}

static void plan_bindings(struct planner *pl)
{
	const struct plan_binder *b = pl->in->binder;
	const struct journal_nic *j = pl->j;
	bool rebind_all = pl->chan_op || pl->rings_op;
	uint32_t fallback = BINDER_FALLBACK_COPY;
	struct plan_op *op;
	size_t i;
	uint32_t k;

	if (!b)
		return; /* nothing known: leave bindings as they are */
	if (pl->pol && pl->pol->fallback == CONFIG_FALLBACK_DROP)
		fallback = BINDER_FALLBACK_DROP;
	for (i = 0; i < j->n_bindings; i++) {
		const struct journal_binding *jb = &j->bindings[i];
		const struct binder_binding *o = b->available ? obs_binding(pl, jb->id) : NULL;
		struct aplan *ap = ap_by_mac(pl, jb->owner);
		struct attach_queue *aq = ap && ap->want_bind ? res_queue(ap, jb->queue) : NULL;
		bool wanted = aq && !aq->bound && jb->tap_ifindex == ap->a->id.tap_ifindex &&
			      jb->fallback == fallback;
		bool present = o && o->queue == jb->queue && o->ifindex == pl->nic->link.ifindex;

		if (jb->pending)
			continue;
		if (!present) {
			op = op_new(pl, PH_UNBIND, PLAN_OP_FORGET, jb->owner,
				    "binding %u on queue %u is gone%s", jb->id, jb->queue,
				    b->available ? "" : " (vhost_zcrx not available)");
			if (op) {
				op->forget = PLAN_FORGET_BINDING;
				op->forget_id = jb->id;
			}
			if (wanted)
				ap->bind_repair = true;
			continue;
		}
		if (wanted && !rebind_all) {
			aq->bound = true;
			aq->binding_id = jb->id;
			aq->binding_state = o->state;
			aq->binding_reason = o->reason;
			continue;
		}
		op = op_new(pl, PH_UNBIND, PLAN_OP_UNBIND, jb->owner, "%s",
			    wanted ? "unbind before changing channels or header split" :
				     "binding no longer wanted");
		if (!op)
			return;
		op->binding_id = jb->id;
		op->queue = jb->queue;
		op->tap_ifindex = jb->tap_ifindex;
		op->fallback = jb->fallback;
	}
	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];

		if (!ap->want_bind)
			continue;
		for (k = 0; k < ap->res->n_queues; k++) {
			struct attach_queue *aq = &ap->res->queues[k];

			if (aq->bound)
				continue;
			op = op_new(pl, PH_BIND, PLAN_OP_BIND, ap->a->id.mac,
				    "%szero-copy for queue %u of '%s'",
				    ap->bind_repair ? "repair: " : "", aq->queue, ap->a->id.domain);
			if (!op)
				return;
			op->queue = aq->queue;
			op->tap_ifindex = ap->a->id.tap_ifindex;
			op->fallback = fallback;
		}
	}
}

/* --- step 7: results and assembly -------------------------------------------- */

static void results(struct planner *pl)
{
	size_t i, k;

	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[i];
		struct attach_result *r = ap->res;
		bool degraded = false, pending = false, binding_bad = false;

		if (!pl->managed && !ap->skip)
			reason(pl, ap, ATTACH_R_NIC, "plan", ENODEV, "%s is not managed by zcrxd%s",
			       pl->name, pl->j->released ? " (released)" : "");
		if (ap->method >= 0)
			snprintf(r->steering, sizeof(r->steering), "%s",
				 config_steering_name((enum config_steering)ap->method));
		if (ap->has_ctx) {
			r->has_context = true;
			r->rss_context = ap->ctx_id;
		}
		if (ap->n_q && !pl->carve_ok && pl->managed)
			reason(pl, ap, ATTACH_R_SHARED, pl->carve_err.op, pl->carve_err.err,
			       "dedicated queues also take default RSS traffic: %s",
			       pl->carve_err.msg);
		for (k = 0; k < r->n_queues; k++) {
			const struct attach_queue *q = &r->queues[k];

			if (!ap->want_bind)
				break;
			if (!q->bound) {
				pending = true;
			} else if (q->binding_state == BINDER_STATE_PENDING) {
				pending = true;
			} else if (q->binding_state == BINDER_STATE_DEGRADED ||
				   q->binding_state == BINDER_STATE_BROKEN) {
				binding_bad = true;
				reason(pl, ap, ATTACH_R_BINDING, "bind", q->binding_reason,
				       "binding %u on queue %u is %s%s", q->binding_id, q->queue,
				       q->binding_state == BINDER_STATE_DEGRADED ? "degraded" :
										   "broken",
				       q->binding_state == BINDER_STATE_DEGRADED ?
					       " (copy fallback in use)" :
					       "");
			}
		}
		for (k = 0; k < r->n_reasons; k++)
			degraded |= strcmp(r->reasons[k].code, ATTACH_R_NUMA) != 0;
		if (!pl->managed || ap->skip || ap->exhausted)
			r->state = ATTACH_STATE_FAILED;
		else if (degraded || binding_bad)
			r->state = ATTACH_STATE_DEGRADED;
		else if (pending)
			r->state = ATTACH_STATE_PENDING;
		else
			r->state = ATTACH_STATE_ACTIVE;
	}
}

static int assemble(struct planner *pl)
{
	size_t total = 0, off = 0, ctx_base = 0, ph, i;
	struct plan_op *ops;

	for (ph = 0; ph < PH_MAX; ph++) {
		if (ph == PH_CTX_NEW)
			ctx_base = total;
		total += pl->ph[ph].n;
	}
	ops = calloc(total ? total : 1, sizeof(*ops));
	if (!ops)
		return -ENOMEM;
	for (ph = 0; ph < PH_MAX; ph++) {
		for (i = 0; i < pl->ph[ph].n; i++) {
			ops[off] = pl->ph[ph].v[i];
			if (ops[off].kind == PLAN_OP_RULE_INSERT && ops[off].ctx_op >= 0)
				ops[off].ctx_op += (int)ctx_base;
			off++;
		}
		pl->ph[ph].n = 0; /* ownership of indir/prev moved */
	}
	pl->p->ops = ops;
	pl->p->n_ops = total;
	return 0;
}

static void planner_free(struct planner *pl)
{
	size_t ph, i;

	for (ph = 0; ph < PH_MAX; ph++) {
		for (i = 0; i < pl->ph[ph].n; i++) {
			free(pl->ph[ph].v[i].indir);
			free(pl->ph[ph].v[i].prev);
		}
		free(pl->ph[ph].v);
	}
	free(pl->qf);
	free(pl->qrule);
	free(pl->holder);
	free(pl->pos);
	free(pl->qnuma);
	free(pl->ap);
	free(pl->order);
	free(pl->by_mac);
	free(pl->obs_rules);
}

void plan_init(struct plan *p)
{
	memset(p, 0, sizeof(*p));
}

void plan_clear(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n_ops; i++) {
		free(p->ops[i].indir);
		free(p->ops[i].prev);
	}
	free(p->ops);
	for (i = 0; i < p->n_results; i++)
		attach_result_clear(&p->results[i]);
	free(p->results);
	free(p->notes);
	free(p->pool);
	free(p->shared);
	plan_init(p);
}

int plan_nic(const struct plan_input *in, struct plan *ret)
{
	struct planner pl = { 0 };
	struct journal_nic empty;
	bool need_hds;
	int r;

	plan_init(ret);
	journal_nic_init(&empty, in->nic->link.name, in->nic->link.ifindex);
	pl.in = in;
	pl.nic = in->nic;
	pl.j = in->journal ? in->journal : &empty;
	pl.pol = in->policy;
	pl.p = ret;
	pl.name = in->nic->link.name;
	pl.managed = in->policy && !pl.j->released && in->mode != PLAN_MODE_RELEASE;
	snprintf(ret->nic, sizeof(ret->nic), "%s", pl.name);

	if (setup(&pl) < 0 || setup_attachments(&pl) < 0)
		goto out;
	plan_channels(&pl);
	plan_pool(&pl);
	plan_rss0(&pl);
	keep_leases(&pl);
	if (in->mode == PLAN_MODE_REBALANCE)
		rebalance(&pl);
	allocate(&pl);
	lease_ops(&pl);
	choose_steering(&pl);
	plan_contexts(&pl);
	plan_rules(&pl);
	plan_ntuple(&pl);
	need_hds = want_bindings(&pl);
	plan_rings(&pl, need_hds);
	plan_bindings(&pl);
	results(&pl);
	if (!pl.err)
		pl.err = assemble(&pl);
out:
	r = pl.err;
	planner_free(&pl);
	if (r < 0)
		plan_clear(ret);
	return r;
}
