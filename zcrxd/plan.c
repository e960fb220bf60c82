// SPDX-License-Identifier: MIT
/*
 * plan — the pure planner (plan.h): its working state, what the NIC and
 * the journal show (setup), the attachments to plan, results and op
 * ordering.  The steps live beside it: plan-pool.c (channels, pool, default
 * table), plan-lease.c (queue choice, leases), plan-steer.c (steering,
 * contexts, rules), plan-zc.c (bindings, header split); the attachments
 * by MAC in plan-mac.c; the reasons in plan-reason.c; the ops and their
 * storage in plan-op.c; rendering in plan-render.c; the vNICs that wait for
 * a full pool, planned as one, in plan-tail.c.
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

/* n want_rules out of the planner's chunks (freed with the planner, none
 * one by one); NULL when out of memory. */
static struct want_rule *wr_take(struct planner *pl, size_t n)
{
	struct wr_chunk *c = pl->wr_chunks;

	if (!c || c->cap - c->used < n) {
		size_t cap = n > PLAN_WR_CHUNK ? n : PLAN_WR_CHUNK;

		c = malloc(sizeof(*c) + cap * sizeof(c->v[0]));
		if (!c)
			return NULL;
		c->next = pl->wr_chunks;
		c->used = 0;
		c->cap = cap;
		pl->wr_chunks = c;
	}
	c->used += n;
	return &c->v[c->used - n];
}

struct want_rule *plan_want_rule_add(struct planner *pl, struct aplan *ap)
{
	struct want_rule *v;
	size_t cap;

	if (ap->n_wr == ap->cap_wr) {
		cap = ap->cap_wr ? 2 * ap->cap_wr : 2;
		if (cap > 2 * ATTACH_IP_MAX)
			cap = 2 * ATTACH_IP_MAX;
		if (ap->n_wr >= cap) {
			pl->err = -EOVERFLOW;
			return NULL;
		}
		v = wr_take(pl, cap);
		if (!v) {
			pl->err = -ENOMEM;
			return NULL;
		}
		if (ap->n_wr)
			memcpy(v, ap->wr, ap->n_wr * sizeof(*v));
		ap->wr = v; /* (the smaller room stays in its chunk, unused) */
		ap->cap_wr = cap;
	}
	v = &ap->wr[ap->n_wr++];
	memset(v, 0, sizeof(*v));
	return v;
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

/* pl->jrules by location, as the stable qsort_r would leave them: zcrxd
 * takes rule slots from the top down, so the journal most often holds its
 * rules in descending order (reversed here), else ascending (kept). */
static void sort_jrules(struct planner *pl)
{
	size_t i, n = pl->n_jrules;
	void *j = (void *)pl->j;

	for (i = 1; i < n; i++)
		if (cmp_jrule(&pl->jrules[i - 1], &pl->jrules[i], j) > 0)
			break;
	if (i >= n)
		return;
	for (i = 1; i < n; i++)
		if (cmp_jrule(&pl->jrules[i - 1], &pl->jrules[i], j) <= 0)
			break;
	if (i < n) {
		qsort_r(pl->jrules, n, sizeof(size_t), cmp_jrule, j);
		return;
	}
	for (i = 0; i < n / 2; i++) { /* strictly descending: no ties to keep */
		size_t t = pl->jrules[i];

		pl->jrules[i] = pl->jrules[n - 1 - i];
		pl->jrules[n - 1 - i] = t;
	}
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

/* cmp_ap_order where both are on this NIC (their names compare equal). */
static int cmp_ap_order_here(const struct aplan *x, const struct aplan *y)
{
	int c;

	if (x->a->id.seq != y->a->id.seq)
		return x->a->id.seq < y->a->id.seq ? -1 : 1;
	c = memcmp(x->a->id.mac, y->a->id.mac, NIC_MAC_LEN);
	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
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

/* --- step 1: what is there ------------------------------------------------ */

static uint32_t umax(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* What holds queue q, in words. */
static const char *provider_words(const struct planner *pl, uint32_t q)
{
	size_t i;

	for (i = 0; i < pl->nic->n_queues; i++) {
		unsigned p = pl->nic->queues[i].providers;

		if (pl->nic->queues[i].id != q)
			continue;
		if (p & NIC_PROVIDER_IO_URING)
			return "a memory provider (io-uring)";
		if (p & NIC_PROVIDER_DMABUF)
			return "a memory provider (dmabuf)";
		if (p & NIC_PROVIDER_XSK)
			return "an AF_XDP socket";
	}
	return "a memory provider";
}

/* Is queue q leased (journal) to an attachment that is still wanted?  Then
 * a provider on it is no claim on a free queue.  For a host lease it is the
 * lease's consumer.  For a vNIC it is someone who took the vNIC's queue
 * after zcrxd leased it: the lease and the vNIC's steering stay, the
 * binder's BIND says who holds the queue (EBUSY, the attachment's reason)
 * and is asked again when the provider leaves (reconcile.h), instead of
 * the vNIC being moved off its queue. */
static bool leased_to_wanted(const struct planner *pl, uint32_t q)
{
	ssize_t li = journal_find_lease(pl->j, q);
	size_t i;

	if (li < 0)
		return false;
	for (i = 0; i < pl->in->n_atts; i++)
		if (!memcmp(pl->in->atts[i]->id.mac, pl->j->leases[li].owner, NIC_MAC_LEN) &&
		    !strcmp(pl->in->atts[i]->id.nic, pl->name))
			return true;
	return false;
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

	/* the per-queue facts in one block, each array written here in full
	 * (a plan's blocks are no calloc each: zeroing is most of their cost) */
	pl->qblock = malloc((qmax ? qmax : 1) * (sizeof(*pl->qrule) + sizeof(*pl->holder) +
						 sizeof(*pl->pos) + sizeof(*pl->qnuma) +
						 sizeof(*pl->qf)));
	if (!pl->qblock)
		return pl->err = -ENOMEM;
	pl->qrule = pl->qblock;
	pl->holder = (int32_t *)(pl->qrule + qmax);
	pl->pos = (uint32_t *)(pl->holder + qmax);
	pl->qnuma = (int *)(pl->pos + qmax);
	pl->qf = (uint8_t *)(pl->qnuma + qmax);
	memset(pl->qf, 0, qmax * sizeof(*pl->qf));
	memset(pl->qrule, 0, qmax * sizeof(*pl->qrule));
	for (i = 0; i < qmax; i++) {
		pl->holder[i] = -1;
		pl->pos[i] = UINT32_MAX;
		pl->qnuma[i] = -1;
	}
	/* (written in full below: no zeroing; none for a NIC without rules) */
	if (nic->n_rules && !(pl->obs_rules = malloc(nic->n_rules * sizeof(*pl->obs_rules))))
		return pl->err = -ENOMEM;
	for (i = 0; i < nic->n_queues; i++)
		if (plan_q_ok(pl, nic->queues[i].id))
			pl->qnuma[nic->queues[i].id] = nic->queues[i].numa_node;

	for (i = 0; i < nic->n_rules; i++)
		pl->obs_rules[i] = &nic->rules[i];
	pl->n_obs_rules = nic->n_rules;
	/* (a NIC lists its rules by location, the journal keeps them so:
	 * sorted already, most often; a sorted array stays as it is) */
	for (i = 1; i < pl->n_obs_rules; i++)
		if (cmp_rule_ptr(&pl->obs_rules[i - 1], &pl->obs_rules[i]) > 0)
			break;
	if (i < pl->n_obs_rules)
		qsort(pl->obs_rules, pl->n_obs_rules, sizeof(*pl->obs_rules), cmp_rule_ptr);
	/* (read up to n_jrules, written so far) */
	if (j->n_rules && !(pl->jrules = malloc(j->n_rules * sizeof(size_t))))
		return pl->err = -ENOMEM;
	for (i = 0; i < j->n_rules; i++)
		if (!j->rules[i].pending)
			pl->jrules[pl->n_jrules++] = i;
	sort_jrules(pl);

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

		if (q->providers && plan_q_ok(pl, q->id) && !plan_binding_owned_on(pl, q->id) &&
		    !leased_to_wanted(pl, q->id))
			pl->qf[q->id] |= Q_PROVIDER;
	}

	pl->rss0 = nic_find_rss(nic, 0);
	if (pl->rss0 && !pl->rss0->indir_size)
		pl->rss0 = NULL;
	pl->rss0_writable = pl->rss0 && nic->caps.rss_set.state != NIC_CAP_NO;
	return 0;
}

/* Why queue q may not be taken (or removed): "" when nothing claims it. */
const char *plan_claim(const struct planner *pl, uint32_t q, char *buf, size_t size)
{
	buf[0] = '\0';
	if (!plan_q_ok(pl, q))
		return buf;
	if (pl->qf[q] & Q_PROVIDER)
		snprintf(buf, size, "queue %u has %s zcrxd did not make", q, provider_words(pl, q));
	else if (pl->qf[q] & Q_FOREIGN_RULE)
		snprintf(buf, size, "queue %u is the target of rule %u, which zcrxd does not own",
			 q, pl->qrule[q]);
	else if (pl->qf[q] & Q_FOREIGN_CTX)
		snprintf(buf, size, "queue %u is in an RSS context zcrxd does not own", q);
	return buf;
}

/* --- step 1b: the attachments to plan --------------------------------------- */

static bool contexts_usable(const struct planner *pl)
{
	const struct nic_caps *c = &pl->nic->caps;

	return c->rss_contexts.state != NIC_CAP_NO && pl->rss0;
}

uint32_t plan_contexts_on_nic(const struct nic *nic)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < nic->n_rss; i++)
		n += nic->rss[i].id != 0;
	return n;
}

/* Each ap's q: room for what it wants (at least 1), out of one block. */
static int assign_queue_room(struct planner *pl)
{
	size_t i, total = 0;

	if (pl->err)
		return pl->err;
	for (i = 0; i < pl->n_ap; i++)
		total += pl->ap[i].want ? pl->ap[i].want : 1;
	pl->qpool = plan_xcalloc(pl, total, sizeof(uint32_t));
	if (pl->err)
		return pl->err;
	for (i = 0, total = 0; i < pl->n_ap; i++) {
		pl->ap[i].q = pl->qpool + total;
		total += pl->ap[i].want ? pl->ap[i].want : 1;
	}
	return 0;
}

static int setup_attachments(struct planner *pl)
{
	const struct plan_input *in = pl->in;
	size_t i;

	/* each element written in full below: no calloc, whose zeroing of
	 * blocks of thousands of bytes was most of a plan's allocation cost */
	pl->n_ap = in->n_atts;
	pl->ap = malloc((in->n_atts ? in->n_atts : 1) * sizeof(*pl->ap));
	pl->order = malloc((in->n_atts ? in->n_atts : 1) * sizeof(size_t));
	pl->p->results = malloc((in->n_atts ? in->n_atts : 1) * sizeof(*pl->p->results));
	if (!pl->ap || !pl->order || !pl->p->results) {
		pl->n_ap = 0;
		return pl->err = -ENOMEM;
	}
	pl->p->n_results = in->n_atts;
	for (i = 0; i < in->n_atts; i++) {
		struct attach_result *r = &pl->p->results[i];

		memset(r, 0, sizeof(*r));
		pl->ap[i] = (struct aplan){
			.a = in->atts[i],
			.idx = i,
			.method = -1,
			.ctx_op = -1,
			.res = r,
			.other_nic = strcmp(in->atts[i]->id.nic, pl->name) != 0,
		};
		pl->order[i] = i;
	}
	/* the store keeps attachments in creation order: most often they
	 * come sorted already (the order is total, so skipping the sort
	 * gives the same order) */
	for (i = 1; i < pl->n_ap; i++) {
		const struct aplan *x = &pl->ap[i - 1], *y = &pl->ap[i];

		if (x->other_nic || y->other_nic ? cmp_ap_order(&pl->order[i - 1], &pl->order[i],
								  pl->ap) > 0 :
						   cmp_ap_order_here(x, y) > 0)
			break;
	}
	if (i < pl->n_ap)
		qsort_r(pl->order, pl->n_ap, sizeof(size_t), cmp_ap_order, pl->ap);

	/* by MAC, dropping duplicates (the later one in planning order loses:
	 * the first holds the MAC) */
	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];
		const struct attach_id *id = &ap->a->id;

		ap->rank = i;
		if (ap->other_nic) {
			ap->skip = true;
			plan_reason(pl, ap, ATTACH_R_NIC, "plan", EINVAL,
			       "attachment names NIC '%s', planned on '%s'", id->nic, pl->name);
			continue;
		}
	}
	if (plan_mac_index(pl) < 0)
		return pl->err;
	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];
		char mac[18];

		if (ap->skip || !plan_mac_add(pl, ap))
			continue;
		ap->skip = true;
		plan_reason(pl, ap, ATTACH_R_NIC, "plan", EEXIST, "MAC %s is attached twice on %s",
			    plan_mac_str(ap->a->id.mac, mac), pl->name);
	}

	/* the driver had no room for one more context: as many as are left */
	if (pl->room && pl->managed && contexts_usable(pl))
		plan_room_hand_out(pl);
	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[i];

		if (ap->a->held && !ap->skip) {
			struct kerror none = { .err = EIO };
			const struct kerror *ke = ap->a->held_err ? ap->a->held_err : &none;

			ap->skip = true;
			plan_reason(pl, ap, ATTACH_R_KERNEL, ke->op[0] ? ke->op : "apply",
			       ke->err ? ke->err : EIO, "held back after a refusal: %s",
			       ke->msg[0] ? ke->msg : strerror(ke->err ? ke->err : EIO));
			/* a refused rule or context is steering that failed */
			if (!strncmp(ke->op, "insert rule", 11) ||
			    !strncmp(ke->op, "create RSS context", 18))
				plan_reason(pl, ap, ATTACH_R_UNSTEERED, ke->op, ke->err ? ke->err : EIO,
				       "no steering rule: %s",
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
		} else if (ap->want > 1 && !ap->skip && pl->managed && ap->room_held) {
			const struct nic_cap *c = &pl->nic->caps.rss_contexts_room;

			plan_reason(pl, ap, ATTACH_R_NO_CONTEXT, "create RSS context",
			       c->err ? c->err : ENOSPC,
			       "%u queues requested, using 1: no RSS context left (%u in use: %s)",
			       ap->want, pl->nic->caps.rss_contexts_full,
			       plan_cap_msg(c, "exhausted"));
			ap->want = 1;
		} else if (ap->want > 1 && !ap->skip) {
			char why[KERROR_MSG_MAX];
			int e;

			if (plan_steer_context_refused(pl, &ap->a->id, why, sizeof(why), &e)) {
				plan_reason(pl, ap, ATTACH_R_NO_CONTEXT, "insert rule", e,
				       "%u queues requested, using 1: no steering rule to an RSS "
				       "context is taken (%s)",
				       ap->want, why);
				ap->want = 1;
			}
		}
	}
	return assign_queue_room(pl);
}

/* --- step 7: results and assembly -------------------------------------------- */

/* r->steering = name, cut as snprintf(.., "%s", name) cuts it (no
 * formatting for each attachment) */
static void steering_set(struct attach_result *r, const char *name)
{
	size_t n = strnlen(name, sizeof(r->steering) - 1);

	memcpy(r->steering, name, n);
	r->steering[n] = '\0';
}

static void results(struct planner *pl)
{
	struct attach_reason shared = { 0 };
	size_t i, k;

	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[i];
		struct attach_result *r = ap->res;
		bool degraded = false, pending = false, binding_bad = false;

		if (!pl->managed && !ap->skip)
			plan_reason(pl, ap, ATTACH_R_NIC, "plan", ENODEV, "%s is not managed by zcrxd%s",
			       pl->name, pl->j->released ? " (released)" : "");
		if (ap->method == PLAN_STEER_FLOW)
			steering_set(r, "flow");
		else if (ap->method >= 0)
			steering_set(r, config_steering_name((enum config_steering)ap->method));
		if (ap->has_ctx) {
			r->has_context = true;
			r->rss_context = ap->ctx_id;
		}
		/* (the same words for all: written and compared once) */
		if (ap->n_q && !pl->carve_ok && pl->managed && shared.text) {
			plan_reason_again(pl, ap, &shared);
		} else if (ap->n_q && !pl->carve_ok && pl->managed) {
			plan_reason(pl, ap, ATTACH_R_SHARED, pl->carve_err.op, pl->carve_err.err,
			       "dedicated queues also take default RSS traffic: %s",
			       plan_why_msg(&pl->carve_err));
			plan_reason_keep(pl, &shared);
		}
		for (k = 0; k < r->n_queues && plan_is_lease(ap); k++)
			pending |= !(r->queues[k].providers &
				     (NIC_PROVIDER_IO_URING | NIC_PROVIDER_DMABUF));
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
				const char *st = q->binding_state == BINDER_STATE_DEGRADED ?
							 "degraded" : "broken";

				if (q->binding_msg[0])
					plan_reason(pl, ap, ATTACH_R_BINDING, "bind",
						    q->binding_reason, "binding %u on queue %u is %s: %s",
						    q->binding_id, q->queue, st, q->binding_msg);
				else
					plan_reason(pl, ap, ATTACH_R_BINDING, "bind",
						    q->binding_reason, "binding %u on queue %u is %s%s",
						    q->binding_id, q->queue, st,
						    q->binding_state == BINDER_STATE_DEGRADED ?
							    " (copy fallback in use)" : "");
			}
		}
		degraded = ap->degraded;
		if (!pl->managed || ap->skip || ap->exhausted)
			r->state = ATTACH_STATE_FAILED;
		else if (degraded || binding_bad)
			r->state = ATTACH_STATE_DEGRADED;
		else if (pending)
			r->state = ATTACH_STATE_PENDING;
		else
			r->state = ATTACH_STATE_ACTIVE;
	}
	attach_reason_clear(&shared);
}

static int assemble(struct planner *pl)
{
	size_t total = 0, off = 0, ctx_base = 0, ph, i;
	struct plan_op *ops;
	char *text;

	for (ph = 0; ph < PH_MAX; ph++) {
		if (ph == PH_CTX_NEW)
			ctx_base = total;
		total += pl->ph[ph].n;
	}
	ops = malloc((total ? total : 1) * sizeof(*ops));
	if (!ops)
		return -ENOMEM;
	/* the text block the plan keeps: no more than its reasons (shrunk in
	 * place) */
	text = pl->n_text ? realloc(pl->text, pl->n_text) : NULL;
	if (text) {
		pl->text = NULL;
		pl->cap_text = 0;
		pl->p->text = text;
		pl->p->n_text = pl->p->cap_text = pl->n_text;
	} else if (pl->n_text) {
		free(ops);
		return -ENOMEM;
	}
	for (ph = 0; ph < PH_MAX; ph++) {
		for (i = 0; i < pl->ph[ph].n; i++) {
			ops[off] = pl->ph[ph].v[i].op;
			ops[off].reason = text + pl->ph[ph].v[i].reason;
			if (ops[off].kind == PLAN_OP_RULE_INSERT && ops[off].ctx_op >= 0)
				ops[off].ctx_op += (int)ctx_base;
			else if (ops[off].kind == PLAN_OP_RSS_CREATE)
				ops[off].ctx_op = (int)off; /* names the new id for the rules */
			off++;
		}
		pl->ph[ph].n = 0; /* ownership of indir/prev/ctx_queues moved */
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
			free(pl->ph[ph].v[i].op.indir);
			free(pl->ph[ph].v[i].op.prev);
			free(pl->ph[ph].v[i].op.ctx_queues);
		}
		free(pl->ph[ph].v);
	}
	free(pl->text);
	free(pl->qblock);
	while (pl->wr_chunks) {
		struct wr_chunk *c = pl->wr_chunks;

		pl->wr_chunks = c->next;
		free(c);
	}
	free(pl->ap);
	free(pl->qpool);
	free(pl->order);
	plan_macs_free(&pl->macs);
	free(pl->obs_rules);
	free(pl->jrules);
	for (i = 0; i < PLAN_RCACHE; i++)
		attach_reason_clear(&pl->rcache[i]);
	attach_reason_clear(&pl->last);
	for (i = 0; i < pl->n_said; i++)
		attach_reason_clear(&pl->said[i].r);
	free(pl->said);
}

int plan_once(const struct plan_input *in, struct plan *ret, const struct plan_room *room,
	      bool *room_took)
{
	struct planner pl = { 0 };
	struct journal_nic empty;
	bool need_hds;
	int r;

	plan_init(ret);
	if (!in->journal)
		journal_nic_init(&empty, in->nic->link.name, in->nic->link.ifindex);
	pl.in = in;
	pl.nic = in->nic;
	pl.j = in->journal ? in->journal : &empty;
	pl.pol = in->policy;
	pl.p = ret;
	pl.name = in->nic->link.name;
	pl.managed = in->policy && !pl.j->released && in->mode != PLAN_MODE_RELEASE;
	pl.room = room;
	pl.room_took = room_took;
	pl.carve_err.op = pl.carve_err.msg = ""; /* (set when the table cannot be written) */
	str_copy(ret->nic, sizeof(ret->nic), pl.name);

	if (setup(&pl) < 0 || setup_attachments(&pl) < 0)
		goto out;
	plan_channels(&pl);
	plan_pool(&pl);
	plan_rss0(&pl);
	plan_keep_leases(&pl);
	if (in->mode == PLAN_MODE_REBALANCE)
		plan_rebalance(&pl);
	plan_allocate(&pl);
	plan_lease_ops(&pl);
	plan_steer_choose(&pl);
	plan_steer_contexts(&pl);
	plan_steer_rules(&pl);
	plan_steer_ntuple(&pl);
	need_hds = plan_zc_want(&pl);
	plan_zc_rings(&pl, need_hds);
	plan_zc_bindings(&pl);
	results(&pl);
	if (!pl.err)
		pl.err = plan_reasons_lay_out(&pl);
	if (!pl.err)
		pl.err = assemble(&pl);
out:
	r = pl.err;
	planner_free(&pl);
	if (r < 0)
		plan_clear(ret);
	return r;
}

/* Plan with room (its contexts left and owners) handed out, the order of
 * the hand-out settled: those that took a context and made none with it
 * come last (room->last, grown here from none) until that no longer
 * changes.  It only grows, so at most one plan more than the attachments;
 * *after gets the room the plan leaves. */
static int plan_once_settled(const struct plan_input *in, struct plan *ret,
			     struct plan_room *room, bool *took, struct plan_room *after)
{
	size_t n = in->n_atts, k;
	int r;

	memset(room->last, 0, n * sizeof(bool));
	for (k = 0;; k++) {
		memset(took, 0, n * sizeof(bool));
		r = plan_once(in, ret, room, took);
		if (r < 0)
			return r;
		plan_room_after(in, ret, room, took, after);
		if (k == n || plan_room_last_same(in, room, after))
			return 0;
		plan_clear(ret);
		memcpy(room->last, after->last, n * sizeof(bool));
	}
}

int plan_nic(const struct plan_input *in, struct plan *ret)
{
	struct plan_room used, next, t;
	size_t n = in->n_atts;
	bool *block, *took;
	int r, pass;

	if (in->nic->caps.rss_contexts_room.state != NIC_CAP_NO || !n) {
		/* the vNICs that wait for a full pool as one (plan-tail.c) */
		r = plan_tail(in, ret);
		if (r)
			return r < 0 ? r : 0;
		return plan_once(in, ret, NULL, NULL);
	}
	/* The driver had no room for one more context: as many as are left
	 * are handed out, and how many are left, and who keeps its own,
	 * depends on the contexts there are, which this plan may delete or
	 * make.  The plan after it decides from what it left: plan again with
	 * that until the two agree, so that applying converges (at most a few
	 * times; only while the room is learned).  Who comes last in the
	 * hand-out is no part of what a plan leaves (the plan after it sees
	 * only the contexts and their owners): it is settled anew for each
	 * room, from none, as the plan after it settles it. */
	block = calloc(5 * n, sizeof(bool));
	if (!block) {
		plan_init(ret);
		return -ENOMEM;
	}
	used = (struct plan_room){ .owns = block, .last = block + n };
	next = (struct plan_room){ .owns = block + 2 * n, .last = block + 3 * n };
	took = block + 4 * n;
	plan_room_after(in, NULL, NULL, NULL, &used);
	for (pass = 0;; pass++) {
		r = plan_once_settled(in, ret, &used, took, &next);
		if (r < 0 || pass == PLAN_ROOM_PASSES || plan_room_same(in, &used, &next))
			break;
		plan_clear(ret);
		t = used;
		used = next;
		next = t;
	}
	free(block);
	return r;
}
