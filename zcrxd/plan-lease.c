// SPDX-License-Identifier: MIT
/*
 * plan-lease — the planner's queue choice (plan.h): which pool queues each
 * attachment leases (kept leases first, NUMA-local, lowest pool position),
 * exhaustion (degrade or fail), rebalance, and the lease/unlease ops.
 *
 * Owns: those decisions.  Must not: do I/O, read the clock, keep globals, log.
 */
#include "plan-int.h"

/* --- step 4: leases --------------------------------------------------------- */

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
void plan_keep_leases(struct planner *pl)
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

void plan_rebalance(struct planner *pl)
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

			/* a lease's consumer binds its queues: never move them */
			if (ap->skip || !ap->n_q || plan_is_lease(ap))
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

void plan_allocate(struct planner *pl)
{
	const struct config_nic *pol = pl->pol;
	bool fail = pol && pol->on_exhaustion == CONFIG_ON_EXHAUSTION_FAIL;
	uint32_t cand[ATTACH_QUEUES_MAX];
	struct attach_reason waiting = { 0 };
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
			/* the same words for all who wait: written and
			 * compared once */
			if (waiting.text) {
				plan_reason_again(pl, ap, &waiting);
			} else {
				plan_reason(pl, ap, ATTACH_R_POOL_EXHAUSTED, "lease queue", ENOSPC,
					    "pool exhausted: no free queue among %zu reserved; "
					    "traffic uses the shared queues",
					    pl->p->n_pool);
				plan_reason_keep(pl, &waiting);
			}
		} else if (ap->n_q < need) {
			plan_reason(pl, ap, ATTACH_R_PARTIAL, "lease queue", ENOSPC,
			       "pool exhausted: got %u of %u queues", ap->n_q, need);
		}
		if (ap->n_q > 1)
			qsort(ap->q, ap->n_q, sizeof(uint32_t), plan_cmp_u32);
		if (ap->n_q && ap->a->id.numa_node >= 0) {
			unsigned local = count_local(pl, ap->q, ap->n_q, ap->a->id.numa_node);

			if (local < ap->n_q)
				plan_reason(pl, ap, ATTACH_R_NUMA, "lease queue", 0,
				       "%u of %u queues are not on NUMA node %d", ap->n_q - local,
				       ap->n_q, ap->a->id.numa_node);
		}
	}
	attach_reason_clear(&waiting);
}


static unsigned queue_providers(const struct planner *pl, uint32_t q)
{
	size_t i;

	for (i = 0; i < pl->nic->n_queues; i++)
		if (pl->nic->queues[i].id == q)
			return pl->nic->queues[i].providers;
	return 0;
}

/* Each attachment's queues (total of them) in its result, ascending (as
 * attach_result_add_queue keeps them), out of one block for the plan
 * (plan.queue_block) instead of an allocation each; a host lease's with
 * their providers. */
static void result_queues(struct planner *pl, size_t total)
{
	struct attach_queue *block;
	size_t i;

	if (pl->err || !total)
		return;
	block = malloc(total * sizeof(*block)); /* (each set as it is placed) */
	if (!block) {
		pl->err = -ENOMEM;
		return;
	}
	pl->p->queue_block = block;
	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[i];
		struct attach_result *r = ap->res;
		uint32_t k;

		if (!ap->n_q)
			continue;
		r->queues = block;
		block += ap->n_q;
		for (k = 0; k < ap->n_q; k++) {
			size_t at = r->n_queues;

			for (; at > 0 && r->queues[at - 1].queue > ap->q[k]; at--)
				r->queues[at] = r->queues[at - 1];
			memset(&r->queues[at], 0, sizeof(r->queues[at]));
			r->queues[at].queue = ap->q[k];
			r->n_queues++;
		}
		for (k = 0; k < r->n_queues && plan_is_lease(ap); k++)
			r->queues[k].providers = queue_providers(pl, r->queues[k].queue);
	}
}

void plan_lease_ops(struct planner *pl)
{
	const struct journal_nic *j = pl->j;
	struct plan_op *op;
	char why[160];
	size_t i, total = 0;
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
		else if (plan_claim(pl, l->queue, why, sizeof(why))[0])
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
			str_copy(dom, sizeof(dom), ap->a->id.domain);
			op = plan_op_add(pl, PH_LEASE, PLAN_OP_LEASE, ap->a->id.mac,
				    "dedicate pool queue %u to '%s'%s", ap->q[k], dom,
				    plan_queue_local(pl, ap->q[k], ap->a->id.numa_node) ?
					    " (same NUMA node)" :
					    "");
			if (op)
				op->queue = ap->q[k];
		}
		total += ap->n_q;
	}
	result_queues(pl, total);
}
