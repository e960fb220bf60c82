// SPDX-License-Identifier: MIT
/*
 * plan-room — the planner's count of RSS contexts where the driver said it
 * has no room for one more (plan.h, plan_learn): how many the NIC has once
 * a plan is applied, and which attachments then have no room for one of
 * their own (plan_nic plans again with that until it agrees).
 *
 * Owns: that count.  Must not: do I/O, read the clock, keep globals, log.
 */
#include "plan-int.h"

uint32_t plan_contexts_deleted(const struct planner *pl)
{
	const struct phase_ops *d = &pl->ph[PH_CTX_DEL];
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < d->n; i++)
		n += d->v[i].op.kind == PLAN_OP_RSS_DELETE && nic_find_rss(pl->nic, d->v[i].op.ctx);
	return n;
}

/* Is context id (journal) deleted or forgotten by plan p? */
static bool ctx_dropped(const struct plan *p, uint32_t id)
{
	size_t i;

	for (i = 0; i < p->n_ops; i++)
		if ((p->ops[i].kind == PLAN_OP_RSS_DELETE && p->ops[i].ctx == id) ||
		    (p->ops[i].kind == PLAN_OP_FORGET && p->ops[i].forget == PLAN_FORGET_CTX &&
		     p->ops[i].forget_id == id))
			return true;
	return false;
}

/* Does mac own a context now (p NULL) or once p is applied? */
static bool owns_context(const struct journal_nic *j, const struct plan *p, const uint8_t *mac)
{
	size_t i;

	for (i = 0; p && i < p->n_ops; i++)
		if (p->ops[i].kind == PLAN_OP_RSS_CREATE && p->ops[i].has_owner &&
		    !memcmp(p->ops[i].owner, mac, NIC_MAC_LEN))
			return true;
	for (i = 0; j && i < j->n_ctxs; i++)
		if (!j->ctxs[i].pending && !memcmp(j->ctxs[i].owner, mac, NIC_MAC_LEN) &&
		    !(p && ctx_dropped(p, j->ctxs[i].id)))
			return true;
	return false;
}

void plan_room_full(const struct plan_input *in, const struct plan *p, bool *ret_full)
{
	const struct nic *nic = in->nic;
	uint32_t n = plan_contexts_on_nic(nic);
	bool full;
	size_t i;

	for (i = 0; p && i < p->n_ops; i++)
		if (p->ops[i].kind == PLAN_OP_RSS_CREATE)
			n++;
		else if (p->ops[i].kind == PLAN_OP_RSS_DELETE && nic_find_rss(nic, p->ops[i].ctx) &&
			 n > 0)
			n--;
	full = nic->caps.rss_contexts_room.state == NIC_CAP_NO && n >= nic->caps.rss_contexts_full;
	for (i = 0; i < in->n_atts; i++)
		ret_full[i] = full && !owns_context(in->journal, p, in->atts[i]->id.mac);
}
