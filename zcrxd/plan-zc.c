// SPDX-License-Identifier: MIT
/*
 * plan-zc — the planner's zero-copy step (plan.h): which attachments get a
 * binding (none for a queue and tap the module refused: plan_binder.refused),
 * header split and hds-thresh for them, restoring those when no binding
 * needs them any more, and the bind/unbind ops.
 *
 * Owns: those decisions.  Must not: do I/O, read the clock, keep globals, log.
 */
#include "plan-int.h"

/* --- step 6: zero-copy bindings and header split ------------------------------ */

static const struct plan_bind_refusal *refusal_of(const struct plan_binder *b, uint32_t q,
						   int tap, bool rebound)
{
	size_t i;

	for (i = 0; b && i < b->n_refused; i++)
		if (b->refused[i].queue == q && b->refused[i].tap_ifindex == tap &&
		    b->refused[i].rebound == rebound)
			return &b->refused[i];
	return NULL;
}

/* The module's refusal of binding queue q to tap, remembered by the caller. */
static const struct plan_bind_refusal *bind_refused(const struct plan_binder *b, uint32_t q,
						      int tap)
{
	return refusal_of(b, q, tap, false);
}

/* A broken binding of q and tap that may be bound again: it is not gone
 * (ENODEV: the module tore it down, and the binding is no longer there)
 * and was not bound again since the caller last forgot. */
static bool rebind_broken(const struct plan_binder *b, const struct binder_binding *o, int tap)
{
	return o->state == BINDER_STATE_BROKEN && o->reason != ENODEV &&
	       !refusal_of(b, o->queue, tap, true);
}

/* Named reasons for the queues of ap the module refused; returns how many
 * of its queues are still worth a BIND. */
static uint32_t zc_refusals(struct planner *pl, struct aplan *ap)
{
	const struct plan_binder *b = pl->in->binder;
	uint32_t k, n_ok = 0;

	for (k = 0; k < ap->n_q; k++) {
		const struct plan_bind_refusal *rf = bind_refused(b, ap->q[k], ap->a->id.tap_ifindex);
		int e;

		if (!rf) {
			n_ok++;
			continue;
		}
		e = rf->err.err ? rf->err.err : EIO;
		plan_reason(pl, ap, ATTACH_R_NO_ZEROCOPY, "bind", e,
		       "no zero-copy: vhost_zcrx refused to bind queue %u: %s", ap->q[k],
		       rf->err.msg[0] ? rf->err.msg : strerror(e));
	}
	return n_ok;
}

/* Why header split cannot be had (hds_blocked in plan_zc_want), in words:
 * made only for the attachments that say it. */
static const char *hds_why(const struct planner *pl, char *why, size_t size)
{
	const struct nic_cap *hs = &pl->nic->caps.header_split;

	why[0] = '\0';
	if (pl->pol->header_split == CONFIG_HEADER_SPLIT_OFF)
		snprintf(why, size, "HeaderSplit=off, but the binder needs header split");
	else if (hs->state == NIC_CAP_NO)
		snprintf(why, size, "header split not available: %s", plan_cap_msg(hs, "unsupported"));
	else if (pl->nic->has_xdp)
		snprintf(why, size, "an XDP program is attached (header split refused)");
	return why;
}

bool plan_zc_want(struct planner *pl)
{
	const struct plan_binder *b = pl->in->binder;
	const struct nic *nic = pl->nic;
	const struct nic_cap *hs = &nic->caps.header_split;
	bool need_hds = false, hds_blocked = false;
	uint32_t budget = UINT32_MAX;
	char why[KERROR_MSG_MAX], absent[KERROR_MSG_MAX + 64];
	struct attach_reason none = { 0 }; /* an absent module's, once given */
	size_t i;

	if (!pl->managed)
		return false;
	if (b && b->probed && b->probe.max_bindings)
		budget = b->probe.max_bindings;
	/* the words only where an attachment says them (hds_why) */
	hds_blocked = pl->pol->header_split == CONFIG_HEADER_SPLIT_OFF ||
		      hs->state == NIC_CAP_NO || nic->has_xdp;
	if (b && !b->available) {
		/* the same for every attachment: made once per plan, not once
		 * per attachment (ENOENT is the module's absence itself: its
		 * text would only repeat it, and the words are fixed) */
		bool more = b->resolve_err.msg[0] && b->resolve_err.err != ENOENT;

		if (more)
			snprintf(absent, sizeof(absent),
				 "no zero-copy (kernel module vhost_zcrx not available: %s)",
				 b->resolve_err.msg);
		else
			str_copy(absent, sizeof(absent),
				 "no zero-copy (kernel module vhost_zcrx not available)");
		absent[KERROR_MSG_MAX - 1] = '\0'; /* cut as plan_reason() cuts any reason */
	}

	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];
		uint32_t n_ok;

		if (ap->skip || !ap->n_q)
			continue;
		if (plan_is_lease(ap)) {
			/* zcrxd does not bind a lease's queues: its consumer does,
			 * and the kernel wants header split with hds-thresh 0 */
			if (ap->method < 0)
				continue; /* unsteered: said already */
			if (pl->pol->header_split == CONFIG_HEADER_SPLIT_OFF || hds_blocked) {
				plan_reason(pl, ap, ATTACH_R_HEADER_SPLIT, "enable header split",
				       hs->state == NIC_CAP_NO ? (hs->err ? hs->err : EOPNOTSUPP) :
								 EPERM,
				       "the lease's consumer needs header split: %s",
				       pl->pol->header_split == CONFIG_HEADER_SPLIT_OFF ?
					       "HeaderSplit=off" :
					       hds_why(pl, why, sizeof(why)));
				continue;
			}
			need_hds = true;
			continue;
		}
		/* An absent module is said first: it is the reason whatever
		 * else is missing (an unsteered vNIC would not get zero-copy
		 * either, but the operator should see both). */
		if (b && !b->available && none.text) { /* (the same words for all) */
			plan_reason_again(pl, ap, &none);
			continue;
		}
		if (b && !b->available) {
			plan_reason_text(pl, ap, ATTACH_R_NO_ZEROCOPY, "bind",
					 b->resolve_err.err ? b->resolve_err.err : ENOENT, absent);
			plan_reason_keep(pl, &none);
			continue;
		}
		if (ap->method < 0) {
			plan_reason(pl, ap, ATTACH_R_NO_ZEROCOPY, "bind", 0,
			       "no zero-copy: traffic is not steered to a dedicated queue");
			continue;
		}
		if (!b) {
			plan_reason(pl, ap, ATTACH_R_NO_ZEROCOPY, "bind", 0,
			       "no zero-copy: binder state unknown");
			continue;
		}
		if (!b->probed) {
			plan_reason(pl, ap, ATTACH_R_NO_ZEROCOPY, "probe", b->probe_err.err,
			       "no zero-copy: vhost_zcrx cannot use this NIC (%s)",
			       b->probe_err.msg[0] ? b->probe_err.msg :
						     strerror(b->probe_err.err ? b->probe_err.err :
										 EOPNOTSUPP));
			continue;
		}
		if (!ap->a->id.tap_ifindex) {
			plan_reason(pl, ap, ATTACH_R_NO_ZEROCOPY, "bind", 0,
			       "no zero-copy: the vNIC's macvtap is not known");
			continue;
		}
		if ((b->probe.features & BINDER_FEATURE_NEEDS_HDS) && hds_blocked) {
			plan_reason(pl, ap, ATTACH_R_NO_ZEROCOPY, "enable header split",
			       hs->state == NIC_CAP_NO ? (hs->err ? hs->err : EOPNOTSUPP) : 0,
			       "no zero-copy: %s", hds_why(pl, why, sizeof(why)));
			continue;
		}
		/* A refusal for one queue and tap leaves that queue out; the
		 * steering and the attachment's other queues stay.  Header
		 * split stays ready for it too: the refusal is asked again
		 * later, and turning header split off and on around it would
		 * reconfigure the NIC's rings each time. */
		n_ok = zc_refusals(pl, ap);
		if (n_ok < ap->n_q && (b->probe.features & BINDER_FEATURE_NEEDS_HDS))
			need_hds = true;
		if (!n_ok)
			continue;
		if (budget < n_ok) {
			plan_reason(pl, ap, ATTACH_R_NO_ZEROCOPY, "bind", ENOSPC,
			       "no zero-copy: vhost_zcrx allows %u bindings on this NIC",
			       b->probe.max_bindings);
			continue;
		}
		budget -= n_ok;
		ap->want_bind = true;
		if (b->probe.features & BINDER_FEATURE_NEEDS_HDS)
			need_hds = true;
	}
	attach_reason_clear(&none);
	if (pl->pol->header_split == CONFIG_HEADER_SPLIT_ON && hs->state != NIC_CAP_NO &&
	    !nic->has_xdp)
		need_hds = true;
	return need_hds;
}

void plan_zc_rings(struct planner *pl, bool need_hds)
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
		op = plan_op_add(pl, PH_PREREQ, PLAN_OP_SET_RINGS, NULL,
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
			plan_note(pl, ATTACH_R_NIC, "restore header split", EBUSY,
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
		op = plan_op_add(pl, PH_RESTORE, PLAN_OP_FORGET, NULL,
			    "header split is back at its recorded value");
		if (op)
			op->forget = PLAN_FORGET_RINGS;
		return;
	}
	op = plan_op_add(pl, PH_RESTORE, PLAN_OP_SET_RINGS, NULL,
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

void plan_zc_bindings(struct planner *pl)
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
		const struct binder_binding *o = b->available ? plan_obs_binding(pl, jb->id) : NULL;
		struct aplan *ap = plan_ap_by_mac(pl, jb->owner);
		struct attach_queue *aq = ap && ap->want_bind ? res_queue(ap, jb->queue) : NULL;
		bool wanted = aq && !aq->bound && jb->tap_ifindex == ap->a->id.tap_ifindex &&
			      jb->fallback == fallback;
		bool present = o && o->queue == jb->queue && o->ifindex == pl->nic->link.ifindex;

		if (jb->pending)
			continue;
		if (!present) {
			op = plan_op_add(pl, PH_UNBIND, PLAN_OP_FORGET, jb->owner,
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
		if (wanted && !rebind_all && !rebind_broken(b, o, jb->tap_ifindex)) {
			aq->bound = true;
			aq->binding_id = jb->id;
			aq->binding_state = o->state;
			aq->binding_reason = o->reason;
			snprintf(aq->binding_msg, sizeof(aq->binding_msg), "%s", o->reason_msg);
			continue;
		}
		if (wanted && !rebind_all) {
			op = plan_op_add(pl, PH_UNBIND, PLAN_OP_UNBIND, jb->owner,
				    "binding %u on queue %u is broken (%s%s%s): bind it again",
				    jb->id, jb->queue, kerror_errno_name(o->reason),
				    o->reason_msg[0] ? ": " : "", o->reason_msg);
			if (!op)
				return;
			op->rebind = true;
			ap->bind_repair = true;
		} else {
			op = plan_op_add(pl, PH_UNBIND, PLAN_OP_UNBIND, jb->owner, "%s",
				    wanted ? "unbind before changing channels or header split" :
					     "binding no longer wanted");
			if (!op)
				return;
		}
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

			if (aq->bound || bind_refused(b, aq->queue, ap->a->id.tap_ifindex))
				continue;
			op = plan_op_add(pl, PH_BIND, PLAN_OP_BIND, ap->a->id.mac,
				    "%szero-copy for queue %u of '%s'",
				    ap->bind_repair ? "repair: " : "", aq->queue, ap->a->id.domain);
			if (!op)
				return;
			op->queue = aq->queue;
			op->tap_ifindex = ap->a->id.tap_ifindex;
			op->fallback = fallback;
			op->repair = ap->bind_repair;
		}
	}
}

