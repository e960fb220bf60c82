// SPDX-License-Identifier: MIT
/*
 * plan-room — the planner's count of RSS contexts where the driver said it
 * has no room for one more (plan.h, plan_learn): how many the NIC has once
 * a plan is applied, which attachments then own one, and which of the
 * others get one of those left (plan_nic plans again with what a plan left
 * until it agrees).
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

/* How many contexts are left to make while the room is learned: none
 * when as many as the driver refused one more at exist. */
static uint32_t room_left(const struct nic *nic, uint32_t n_ctx)
{
	uint32_t full = nic->caps.rss_contexts_full;

	return n_ctx < full ? full - n_ctx : 0;
}

void plan_room_after(const struct plan_input *in, const struct plan *p,
		     const struct plan_room *before, const bool *took, struct plan_room *ret)
{
	const struct nic *nic = in->nic;
	uint32_t n = plan_contexts_on_nic(nic);
	size_t i;

	for (i = 0; p && i < p->n_ops; i++)
		if (p->ops[i].kind == PLAN_OP_RSS_CREATE)
			n++;
		else if (p->ops[i].kind == PLAN_OP_RSS_DELETE && nic_find_rss(nic, p->ops[i].ctx) &&
			 n > 0)
			n--;
	ret->n_ctx = n;
	for (i = 0; i < in->n_atts; i++) {
		ret->owns[i] = owns_context(in->journal, p, in->atts[i]->id.mac);
		ret->last[i] = (before && before->last[i]) || (took && took[i] && !ret->owns[i]);
	}
}

bool plan_room_same(const struct plan_input *in, const struct plan_room *a,
		    const struct plan_room *b)
{
	return room_left(in->nic, a->n_ctx) == room_left(in->nic, b->n_ctx) &&
	       !memcmp(a->owns, b->owns, in->n_atts * sizeof(bool));
}

bool plan_room_last_same(const struct plan_input *in, const struct plan_room *a,
			 const struct plan_room *b)
{
	return !memcmp(a->last, b->last, in->n_atts * sizeof(bool));
}

/* One round of the hand-out: the attachments room->last says (or not). */
static void hand_out(struct planner *pl, bool last, uint32_t *left)
{
	const struct plan_room *room = pl->room;
	char why[KERROR_MSG_MAX];
	size_t i;
	int e;

	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];

		if (room->last[ap->idx] != last || ap->skip || ap->a->held ||
		    ap->a->id.queues < 2 || room->owns[ap->idx])
			continue;
		if (!*left) {
			ap->room_held = true;
		} else if (!plan_steer_context_refused(pl, &ap->a->id, why, sizeof(why), &e)) {
			(*left)--;
			pl->room_took[ap->idx] = true;
		}
	}
}

void plan_room_hand_out(struct planner *pl)
{
	uint32_t left = room_left(pl->nic, pl->room->n_ctx);

	/* A context of its own is kept (it is counted among the NIC's); the
	 * others take what is left, first in planning order first, except
	 * those that took one before and made none with it (too few queues
	 * for a context, no rule to one): they come after the others, so
	 * that no one is held to one queue for a context no one makes.  One
	 * whose rules to a context are refused takes none (it gets one queue
	 * for that; the room's reason where there was none left for it
	 * either, as before). */
	hand_out(pl, false, &left);
	hand_out(pl, true, &left);
}
