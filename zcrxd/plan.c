// SPDX-License-Identifier: MIT
/*
 * plan — the pure planner (plan.h): channels, pool carving, the default
 * table, queue choice (NUMA, exhaustion, rebalance), results and op
 * ordering.  Steering, contexts, rules and bindings are in plan-steer.c;
 * rendering in plan-render.c.
 *
 * Owns: deciding.  Must not: do I/O, read the clock, keep globals, log.
 */
#include "plan-int.h"

/* --- small helpers ------------------------------------------------------- */

void *plan_xcalloc(struct planner *pl, size_t n, size_t size)
{
	void *p;

	if (!n)
		n = 1;
	p = calloc(n, size);
	if (!p)
		pl->err = -ENOMEM;
	return p;
}

struct plan_op *plan_op_add(struct planner *pl, enum phase ph, enum plan_op_kind kind,
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

uint32_t *plan_dup_u32(struct planner *pl, const uint32_t *v, uint32_t n)
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

void plan_note(struct planner *pl, const char *code, const char *op, int err, const char *fmt,
		 ...)
{
	struct attach_reason *v;
	char msg[KERROR_MSG_MAX];
	va_list ap;

	if (pl->err)
		return;
	v = realloc(pl->p->notes, (pl->p->n_notes + 1) * sizeof(*v));
	if (!v) {
		pl->err = -ENOMEM;
		return;
	}
	pl->p->notes = v;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (attach_reason_set(&v[pl->p->n_notes], code, pl->name, op, err, msg) < 0) {
		pl->err = -ENOMEM;
		return;
	}
	pl->p->n_notes++;
}

/* Many attachments get the same reason (a full pool, no binder): they
 * share one text (attach_reason), found in a small cache of this plan's. */
static void add_reason(struct planner *pl, struct aplan *ap, const char *code, const char *op,
		       int err, const char *msg)
{
	struct attach_reason *c;
	size_t i;

	for (i = 0; i < PLAN_RCACHE; i++) {
		c = &pl->rcache[i];
		if (c->text && attach_reason_is(c, code, pl->name, op, err, msg)) {
			if (attach_result_add_reason_copy(ap->res, c) < 0)
				pl->err = -ENOMEM;
			return;
		}
	}
	if (attach_result_add_reason(ap->res, code, pl->name, op, err, msg) < 0) {
		pl->err = -ENOMEM;
		return;
	}
	c = &pl->rcache[pl->rcache_next++ % PLAN_RCACHE];
	attach_reason_clear(c);
	attach_reason_copy(c, &ap->res->reasons[ap->res->n_reasons - 1]);
}

void plan_reason(struct planner *pl, struct aplan *ap, const char *code, const char *op,
		   int err, const char *fmt, ...)
{
	char msg[KERROR_MSG_MAX];
	va_list va;

	if (pl->err)
		return;
	if (!strchr(fmt, '%')) {
		/* most reasons are fixed text: no formatting */
		add_reason(pl, ap, code, op, err, fmt);
		return;
	}
	va_start(va, fmt);
	vsnprintf(msg, sizeof(msg), fmt, va);
	va_end(va);
	add_reason(pl, ap, code, op, err, msg);
}

/* --- observed-state indexes ----------------------------------------------- */

static int cmp_rule_ptr(const void *a, const void *b)
{
	const struct nic_rule *x = *(const struct nic_rule *const *)a;
	const struct nic_rule *y = *(const struct nic_rule *const *)b;

	return x->location < y->location ? -1 : x->location > y->location;
}

const struct nic_rule *plan_obs_rule(const struct planner *pl, uint32_t loc)
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
ssize_t plan_rule_owner(const struct planner *pl, const struct nic_rule *r)
{
	size_t lo = 0, hi = pl->n_jrules;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pl->j->rules[pl->jrules[mid]].rule.location < r->location)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < pl->n_jrules; lo++) {
		const struct journal_rule *jr = &pl->j->rules[pl->jrules[lo]];

		if (jr->rule.location != r->location)
			break;
		if (journal_rule_same_content(&jr->rule, r))
			return (ssize_t)pl->jrules[lo];
	}
	return -1;
}

static int cmp_jrule(const void *a, const void *b, void *arg)
{
	const struct journal_nic *j = arg;
	uint32_t x = j->rules[*(const size_t *)a].rule.location;
	uint32_t y = j->rules[*(const size_t *)b].rule.location;

	return x < y ? -1 : x > y;
}

bool plan_ctx_owned(const struct planner *pl, const struct nic_rss *r)
{
	return journal_find_ctx_exact(pl->j, r) >= 0;
}

bool plan_binding_owned_on(const struct planner *pl, uint32_t q)
{
	size_t i;

	for (i = 0; i < pl->j->n_bindings; i++)
		if (pl->j->bindings[i].queue == q)
			return true;
	return false;
}

const struct binder_binding *plan_obs_binding(const struct planner *pl, uint32_t id)
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

struct aplan *plan_ap_by_mac(const struct planner *pl, const uint8_t *mac)
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

	pl->qf = plan_xcalloc(pl, qmax, sizeof(*pl->qf));
	pl->qrule = plan_xcalloc(pl, qmax, sizeof(*pl->qrule));
	pl->holder = plan_xcalloc(pl, qmax, sizeof(*pl->holder));
	pl->pos = plan_xcalloc(pl, qmax, sizeof(*pl->pos));
	pl->qnuma = plan_xcalloc(pl, qmax, sizeof(*pl->qnuma));
	pl->obs_rules = plan_xcalloc(pl, nic->n_rules, sizeof(*pl->obs_rules));
	if (pl->err)
		return pl->err;
	for (i = 0; i < qmax; i++) {
		pl->holder[i] = -1;
		pl->pos[i] = UINT32_MAX;
		pl->qnuma[i] = -1;
	}
	for (i = 0; i < nic->n_queues; i++)
		if (plan_q_ok(pl, nic->queues[i].id))
			pl->qnuma[nic->queues[i].id] = nic->queues[i].numa_node;

	for (i = 0; i < nic->n_rules; i++)
		pl->obs_rules[i] = &nic->rules[i];
	pl->n_obs_rules = nic->n_rules;
	qsort(pl->obs_rules, pl->n_obs_rules, sizeof(*pl->obs_rules), cmp_rule_ptr);
	pl->jrules = plan_xcalloc(pl, j->n_rules, sizeof(size_t));
	if (pl->err)
		return pl->err;
	for (i = 0; i < j->n_rules; i++)
		if (!j->rules[i].pending)
			pl->jrules[pl->n_jrules++] = i;
	qsort_r(pl->jrules, pl->n_jrules, sizeof(size_t), cmp_jrule, (void *)j);

	/* Foreign claims: rules, contexts and providers zcrxd does not own. */
	for (i = 0; i < nic->n_rules; i++) {
		const struct nic_rule *r = &nic->rules[i];

		if (plan_rule_owner(pl, r) >= 0 || r->action != NIC_RULE_ACTION_QUEUE ||
		    !plan_q_ok(pl, r->queue))
			continue;
		if (!(pl->qf[r->queue] & Q_FOREIGN_RULE))
			pl->qrule[r->queue] = r->location;
		pl->qf[r->queue] |= Q_FOREIGN_RULE;
	}
	for (i = 0; i < nic->n_rss; i++) {
		const struct nic_rss *r = &nic->rss[i];

		if (r->id == 0 || plan_ctx_owned(pl, r))
			continue;
		for (k = 0; k < r->indir_size; k++)
			if (plan_q_ok(pl, r->indir[k]))
				pl->qf[r->indir[k]] |= Q_FOREIGN_CTX;
	}
	for (i = 0; i < nic->n_queues; i++) {
		const struct nic_queue *q = &nic->queues[i];

		if (q->providers && plan_q_ok(pl, q->id) && !plan_binding_owned_on(pl, q->id))
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
	if (!plan_q_ok(pl, q))
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
			plan_note(pl, ATTACH_R_CHANNELS, "set channels", nic->caps.channels_set.err,
			     "Channels=%u ignored: the channel count cannot be changed (%s)", target,
			     plan_cap_msg(&nic->caps.channels_set, "no settable channel maximum"));
			return;
		}
		if (target < 1 + extra || target - extra > max) {
			plan_note(pl, ATTACH_R_CHANNELS, "set channels", EINVAL,
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
			op = plan_op_add(pl, PH_RESTORE, PLAN_OP_FORGET, NULL,
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
		plan_note(pl, ATTACH_R_CHANNELS, "set channels", EBUSY,
		     "not changing the RX queue count from %u to %u: %s", pl->t_cur, target, why);
		return;
	}
	prev.has_rx = req.has_rx;
	prev.has_combined = req.has_combined;
	prev.rx = nic->ch.rx;
	prev.combined = nic->ch.combined;
	if (restore)
		op = plan_op_add(pl, PH_CHANNELS, PLAN_OP_SET_CHANNELS, NULL,
			    "restore the RX queue count to %u, as it was before zcrxd", target);
	else
		op = plan_op_add(pl, PH_CHANNELS, PLAN_OP_SET_CHANNELS, NULL,
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
		plan_note(pl, ATTACH_R_POOL, "reserve queue", EBUSY, "queue %u not reserved: %s", q,
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
	pool = plan_xcalloc(pl, t, sizeof(uint32_t));
	shared = plan_xcalloc(pl, t, sizeof(uint32_t));
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
					plan_note(pl, ATTACH_R_POOL, "reserve queue", ERANGE,
					     "ReserveQueues lists queue %u but the NIC has %u RX queues",
					     q, t);
					continue;
				}
				pool_add(pl, q, pool, &n);
			}
		} else if (pol->reserve_count) {
			uint32_t c = pol->reserve_count;

			if (c >= t) {
				plan_note(pl, ATTACH_R_POOL, "reserve queue", ERANGE,
				     "ReserveQueues=%u leaves no shared queue on %u RX queues; "
				     "reserving %u",
				     c, t, t - 1);
				c = t - 1;
			}
			for (q = t - c; q < t; q++)
				pool_add(pl, q, pool, &n);
		}
		if (n == t) {
			plan_note(pl, ATTACH_R_POOL, "reserve queue", ERANGE,
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

/* The spread drivers set up by themselves (ethtool_rxfh_indir_default()). */
static bool is_driver_default(const uint32_t *indir, uint32_t size, uint32_t t)
{
	uint32_t i;

	for (i = 0; t && i < size; i++)
		if (indir[i] != i % t)
			return false;
	return t > 0;
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
			   plan_cap_msg(c, "no RSS table to rewrite"));
		if (pl->managed && pl->p->n_pool)
			plan_note(pl, ATTACH_R_SHARED, pl->carve_err.op, pl->carve_err.err,
			     "pool queues stay in the default RSS spread: %s", pl->carve_err.msg);
		if (j->has_rss0_prior && !pl->managed)
			plan_note(pl, ATTACH_R_SHARED, pl->carve_err.op, pl->carve_err.err,
			     "cannot restore the recorded default RSS table: %s",
			     pl->carve_err.msg);
		return;
	}
	size = r0->indir_size;
	want = plan_xcalloc(pl, size, sizeof(uint32_t));
	all = plan_xcalloc(pl, pl->t ? pl->t : 1, sizeof(uint32_t));
	if (pl->err)
		goto out;
	for (q = 0; q < pl->t; q++)
		all[q] = q;

	if (pl->managed && pl->p->n_pool) {
		plan_spread(want, size, pl->p->shared, pl->p->n_shared);
		prior = j->has_rss0_prior ? PLAN_PRIOR_KEEP : PLAN_PRIOR_RECORD;
		why = "spread the default RSS table over the shared queues only";
	} else if (j->has_rss0_prior || rss0_high(r0, pl->t)) {
		bool valid = j->has_rss0_prior && j->n_rss0_prior == size;
		bool chan_ours = (j->has_channels_prior || pl->chan_op) && !pl->chan_restore;

		for (q = 0; valid && q < size; q++)
			valid = j->rss0_prior[q] < pl->t;
		if (valid && is_driver_default(j->rss0_prior, size, pl->t) &&
		    !table_equal(j->rss0_prior, size, r0->indir, r0->indir_size)) {
			/* What zcrxd found was the driver's own even spread: hand
			 * the table back to the driver instead of writing the same
			 * numbers as a user table, which would pin the queues
			 * against later channel changes. */
			/* before a channel shrink: an unconfigured table pins nothing */
			op = plan_op_add(pl, ph, PLAN_OP_RSS_SET, NULL,
				    "reset the default RSS table to the driver's default, as it "
				    "was before zcrxd");
			if (!op)
				goto out;
			op->prior = PLAN_PRIOR_CLEAR;
			op->prev = plan_dup_u32(pl, r0->indir, r0->indir_size);
			op->n_prev = r0->indir_size;
			pl->carve_ok = true;
			goto out;
		}
		if (valid) {
			memcpy(want, j->rss0_prior, size * sizeof(uint32_t));
			prior = PLAN_PRIOR_CLEAR;
			restore = true;
			why = "restore the default RSS table recorded before zcrxd changed it";
		} else if (chan_ours) {
			/* zcrxd changed the channel count: the recorded table fits
			 * again once that is undone; until then spread evenly */
			if (pl->t)
				plan_spread(want, size, all, pl->t);
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
				plan_spread(want, size, all, pl->t);
				op = plan_op_add(pl, PH_RSS0_PRE, PLAN_OP_RSS_SET, NULL,
					    "spread the default RSS table over the queues that "
					    "remain");
				if (!op)
					goto out;
				op->indir = want;
				op->n_indir = size;
				op->prev = plan_dup_u32(pl, r0->indir, size);
				op->n_prev = size;
				prev = want;
				want = NULL;
			}
			op = plan_op_add(pl, PH_RSS0_POST, PLAN_OP_RSS_SET, NULL,
				    "reset the default RSS table to the driver's default (the "
				    "recorded one does not fit %u queues)",
				    pl->t);
			if (!op)
				goto out;
			op->prior = j->has_rss0_prior ? PLAN_PRIOR_CLEAR : PLAN_PRIOR_KEEP;
			op->prev = plan_dup_u32(pl, prev, size);
			op->n_prev = size;
			pl->carve_ok = true;
			goto out;
		}
	} else {
		goto out;
	}

	if (table_equal(want, size, r0->indir, r0->indir_size) && !pl->chan_op) {
		if (restore) {
			op = plan_op_add(pl, PH_RESTORE, PLAN_OP_FORGET, NULL,
				    "default RSS table is back at its recorded value");
			if (op)
				op->forget = PLAN_FORGET_RSS0;
		}
		pl->carve_ok = true;
		goto out;
	}
	op = plan_op_add(pl, ph, PLAN_OP_RSS_SET, NULL, "%s", why);
	if (!op)
		goto out;
	op->ctx = 0;
	op->prior = prior;
	op->indir = want;
	op->n_indir = size;
	want = NULL;
	op->prev = plan_dup_u32(pl, r0->indir, r0->indir_size);
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
	pl->ap = plan_xcalloc(pl, in->n_atts, sizeof(*pl->ap));
	pl->order = plan_xcalloc(pl, in->n_atts, sizeof(size_t));
	pl->by_mac = plan_xcalloc(pl, in->n_atts, sizeof(size_t));
	pl->p->results = plan_xcalloc(pl, in->n_atts, sizeof(*pl->p->results));
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
			plan_reason(pl, ap, ATTACH_R_NIC, "plan", EINVAL,
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
			plan_reason(pl, ap, ATTACH_R_NIC, "plan", EEXIST, "MAC %s is attached twice on %s",
			       plan_mac_str(ap->a->id.mac, mac), pl->name);
			continue;
		}
		pl->by_mac[k++] = pl->by_mac[i];
	}
	pl->n_by_mac = k;

	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[i];

		if (ap->a->held && !ap->skip) {
			static const struct kerror none = { .err = EIO };
			const struct kerror *ke = ap->a->held_err ? ap->a->held_err : &none;

			ap->skip = true;
			plan_reason(pl, ap, ATTACH_R_KERNEL, ke->op[0] ? ke->op : "apply",
			       ke->err ? ke->err : EIO, "held back after a refusal: %s",
			       ke->msg[0] ? ke->msg : strerror(ke->err ? ke->err : EIO));
		}
		ap->want = ap->a->id.queues;
		if (ap->want > ATTACH_QUEUES_MAX)
			ap->want = ATTACH_QUEUES_MAX;
		if (ap->want > 1 && !contexts_usable(pl) && !ap->skip && pl->managed) {
			const struct nic_cap *c = &pl->nic->caps.rss_contexts;

			plan_reason(pl, ap, ATTACH_R_NO_CONTEXT, "create RSS context",
			       c->err ? c->err : EOPNOTSUPP,
			       "%u queues requested, using 1: no RSS contexts (%s)", ap->want,
			       plan_cap_msg(c, pl->rss0 ? "unsupported" : "no readable RSS table"));
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
		struct aplan *ap = plan_ap_by_mac(pl, j->leases[i].owner);

		if (!ap || ap->skip || !plan_q_ok(pl, q) || !(pl->qf[q] & Q_POOL) || pl->holder[q] >= 0 ||
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
			if ((pass == 0) != plan_queue_local(pl, q, node))
				continue;
			out[got++] = q;
		}
	}
	qsort(out, got, sizeof(uint32_t), plan_cmp_u32);
	return got;
}

static unsigned count_local(const struct planner *pl, const uint32_t *q, uint32_t n, int node)
{
	unsigned c = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		c += plan_queue_local(pl, q[i], node);
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
	size_t i, n_free = 0;

	if (!pl->managed)
		return;
	for (i = 0; i < pl->p->n_pool; i++)
		n_free += pl->holder[pl->p->pool[i]] < 0;
	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];
		uint32_t n, k, need = ap->want, had = ap->n_q;

		if (ap->skip || ap->n_q >= need)
			continue;
		if (!n_free && (!fail || !ap->n_q)) {
			/* nothing free: no need to look (the common case when
			 * many wait for a full pool) */
			if (fail) {
				drop_all(pl, ap);
				ap->exhausted = true;
			}
			continue;
		}
		n = best_queues(pl, ap, need, cand);
		if (n >= need || !fail) {
			/* keep what it had, add the best free ones */
			for (k = 0; k < n && ap->n_q < need; k++)
				if (pl->holder[cand[k]] < 0)
					take(pl, ap, cand[k]);
		}
		if (ap->n_q < need && fail) {
			n_free += ap->n_q;
			drop_all(pl, ap);
			ap->exhausted = true;
			had = 0;
		}
		n_free -= ap->n_q - had;
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
			plan_reason(pl, ap, ATTACH_R_POOL_EXHAUSTED, "lease queue", ENOSPC,
			       "pool exhausted: %u queue%s needed, %zu in the pool "
			       "(OnExhaustion=fail)",
			       need, need == 1 ? "" : "s", pl->p->n_pool);
		} else if (!ap->n_q) {
			plan_reason(pl, ap, ATTACH_R_POOL_EXHAUSTED, "lease queue", ENOSPC,
			       "pool exhausted: no free queue among %zu reserved; traffic uses "
			       "the shared queues",
			       pl->p->n_pool);
		} else if (ap->n_q < need) {
			plan_reason(pl, ap, ATTACH_R_PARTIAL, "lease queue", ENOSPC,
			       "pool exhausted: got %u of %u queues", ap->n_q, need);
		}
		qsort(ap->q, ap->n_q, sizeof(uint32_t), plan_cmp_u32);
		if (ap->n_q && ap->a->id.numa_node >= 0) {
			unsigned local = count_local(pl, ap->q, ap->n_q, ap->a->id.numa_node);

			if (local < ap->n_q)
				plan_reason(pl, ap, ATTACH_R_NUMA, "lease queue", 0,
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
		struct aplan *ap = plan_ap_by_mac(pl, l->owner);
		bool kept = plan_q_ok(pl, l->queue) && ap && pl->holder[l->queue] == (int32_t)ap->idx;
		const char *r;

		if (kept)
			continue;
		if (!pl->managed)
			r = "NIC released";
		else if (!ap)
			r = "attachment removed";
		else if (!plan_q_ok(pl, l->queue) || !(pl->qf[l->queue] & Q_EXISTS))
			r = "queue no longer exists";
		else if (claim(pl, l->queue, why, sizeof(why))[0])
			r = why;
		else if (!(pl->qf[l->queue] & Q_POOL))
			r = "queue left the pool";
		else if (ap->exhausted)
			r = "attachment cannot get all its queues";
		else
			r = "queue moved";
		op = plan_op_add(pl, PH_UNLEASE, PLAN_OP_UNLEASE, l->owner, "release queue %u: %s",
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
			op = plan_op_add(pl, PH_LEASE, PLAN_OP_LEASE, ap->a->id.mac,
				    "dedicate pool queue %u to '%s'%s", ap->q[k], dom,
				    plan_queue_local(pl, ap->q[k], ap->a->id.numa_node) ?
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

/* --- step 7: results and assembly -------------------------------------------- */

static void results(struct planner *pl)
{
	size_t i, k;

	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[i];
		struct attach_result *r = ap->res;
		bool degraded = false, pending = false, binding_bad = false;

		if (!pl->managed && !ap->skip)
			plan_reason(pl, ap, ATTACH_R_NIC, "plan", ENODEV, "%s is not managed by zcrxd%s",
			       pl->name, pl->j->released ? " (released)" : "");
		if (ap->method >= 0)
			snprintf(r->steering, sizeof(r->steering), "%s",
				 config_steering_name((enum config_steering)ap->method));
		if (ap->has_ctx) {
			r->has_context = true;
			r->rss_context = ap->ctx_id;
		}
		if (ap->n_q && !pl->carve_ok && pl->managed)
			plan_reason(pl, ap, ATTACH_R_SHARED, pl->carve_err.op, pl->carve_err.err,
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
				plan_reason(pl, ap, ATTACH_R_BINDING, "bind", q->binding_reason,
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
			else if (ops[off].kind == PLAN_OP_RSS_CREATE)
				ops[off].ctx_op = (int)off; /* names the new id for the rules */
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
	free(pl->jrules);
	for (i = 0; i < PLAN_RCACHE; i++)
		attach_reason_clear(&pl->rcache[i]);
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
	attach_reasons_free(p->notes, p->n_notes);
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
	plan_steer_choose(&pl);
	plan_steer_contexts(&pl);
	plan_steer_rules(&pl);
	plan_steer_ntuple(&pl);
	need_hds = plan_zc_want(&pl);
	plan_zc_rings(&pl, need_hds);
	plan_zc_bindings(&pl);
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
