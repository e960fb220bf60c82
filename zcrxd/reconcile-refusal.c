// SPDX-License-Identifier: MIT
/*
 * reconcile-refusal — what the kernel refused and what zcrxd does about it
 * (reconcile.h has the rules): refusals learned and planned around, holds
 * of the attachment whose op was refused, and BINDs the module refused for
 * one (NIC, queue, tap), with when each is asked again.
 *
 * Owns: the refusal bookkeeping of struct rc_nic and the hold of an
 * attachment.  Must not: run plans or save state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reconcile-int.h"

/* --- refused binds ------------------------------------------------------------------- */

void reconcile_refusals_clear(struct rc_nic *n)
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
 * attachment with MAC owner (NULL = all).  The driver's "no room for one
 * more RSS context" is asked again too: its capacity may have changed. */
void reconcile_forget_refusals(struct reconcile *rc, const char *nic, const uint8_t *owner)
{
	size_t i, k;

	for (i = 0; i < rc->n_nics; i++) {
		struct rc_nic *n = &rc->nics[i];

		if (nic && strcmp(n->name, nic))
			continue;
		nic_cap_set(&n->learned.rss_contexts_room, NIC_CAP_UNKNOWN, 0, "");
		n->learned.rss_contexts_full = 0;
		for (k = n->n_refused; k-- > 0;)
			if (!owner || !memcmp(n->refused[k].owner, owner, NIC_MAC_LEN))
				refusals_del(n, k);
	}
}

/* Forget refusals no attachment of the plan can meet again: its queue or
 * tap changed (or it is gone), so the next BIND is a new question. */
void reconcile_refusals_prune(struct rc_nic *n, const struct attach *const *atts, size_t n_atts,
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
		reconcile_refusals_clear(n);
		n->refused_ifindex = op->ifindex;
	}
	for (k = 0; k < n->n_refused; k++)
		if (n->refused[k].queue == op->queue &&
		    n->refused[k].tap_ifindex == op->tap_ifindex)
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

/* A broken binding was unbound and bound again (op: its UNBIND): should
 * the new one break too, it is left as it is until the refusals are
 * forgotten.  A refusal of that BIND, if any, stays what it is. */
void reconcile_rebound(struct rc_nic *n, const struct plan_op *op)
{
	struct kerror none = { 0 };
	size_t k;

	if (n->refused_ifindex == op->ifindex)
		for (k = 0; k < n->n_refused; k++)
			if (n->refused[k].queue == op->queue &&
			    n->refused[k].tap_ifindex == op->tap_ifindex)
				return;
	refusals_add(n, op, &none);
	for (k = 0; k < n->n_refused; k++)
		if (n->refused[k].queue == op->queue && n->refused[k].tap_ifindex == op->tap_ifindex)
			n->refused[k].rebound = true;
}

/* Hold back the attachment that owns op after a refusal. */
bool reconcile_hold(struct reconcile *rc, const char *nic, const struct plan_op *op,
		    const struct kerror *err)
{
	struct attach *a;
	char buf[512];

	if (!op->has_owner)
		return false;
	a = reconcile_find_att(rc, nic, op->owner);
	if (!a || a->held || attach_hold(a, err) < 0)
		return false;
	rc->st.holds++;
	log_domain(LOG_WARNING, LOG_SUBSYS_MANAGER, a->id.domain,
		   "%s: holding the attachment back: %s", nic,
		   kerror_format(err, buf, sizeof(buf)));
	return true;
}

/* exec's report of a BIND the module refused (the steering stays). */
void reconcile_on_bind_refused(void *ud, const struct plan_op *op, const struct kerror *err)
{
	struct reconcile *rc = ud;
	const struct attach *a = op->has_owner ? reconcile_find_att(rc, op->nic, op->owner) : NULL;
	char buf[512];

	rc->st.kernel_errors++;
	if (rc->exec_refused && rc->exec_plan && op >= rc->exec_plan->ops &&
	    op < rc->exec_plan->ops + rc->exec_plan->n_ops)
		rc->exec_refused[op - rc->exec_plan->ops] = true;
	if (binder_refusal_is_nic_wide(err->err)) {
		/* binder-mgr made it the NIC's verdict */
		log_nic(LOG_WARNING, LOG_SUBSYS_MANAGER, op->nic,
			"%s: no zero-copy on this NIC until it or the module changes",
			kerror_format_in(err, op->nic, buf, sizeof(buf)));
		return;
	}
	kerror_format(err, buf, sizeof(buf));
	if (rc->exec_nic)
		refusals_add(rc->exec_nic, op, err);
	log_domain(LOG_WARNING, LOG_SUBSYS_MANAGER, a ? a->id.domain : NULL,
		   "%s; steered without zero-copy until the bind is tried again", buf);
}
