// SPDX-License-Identifier: MIT
/*
 * plan-steer — the planner's steps once leases are known: which steering
 * method each attachment gets (Steering= order, learned refusals), its RSS
 * context, the rules to keep, repair, delete or insert (and in which slot),
 * and rx-ntuple-filter.  The zero-copy bindings and header split are in
 * plan-zc.c.
 *
 * Owns: those decisions.  Must not: do I/O, read the clock, keep globals, log.
 */
#include "plan-int.h"

/* --- step 5: steering, contexts, rules --------------------------------------- */

/* Can this NIC take ntuple rules at all?  Fills *why when not. */
static bool plan_rules_possible(const struct planner *pl, struct plan_why *why)
{
	const struct nic *nic = pl->nic;
	const struct nic_caps *c = &nic->caps;

	if (c->rules.state == NIC_CAP_NO)
		return plan_why_set(why, c->rules.err ? c->rules.err : EOPNOTSUPP, "insert rule",
				    &c->rules, "no ntuple rule table"),
		       false;
	if (c->ntuple.state == NIC_CAP_NO)
		return plan_why_set(why, c->ntuple.err ? c->ntuple.err : EOPNOTSUPP,
				    "enable " PLAN_FEATURE_NTUPLE, &c->ntuple,
				    "feature not available"),
		       false;
	if (nic->ntuple_fixed && !nic->ntuple_active)
		return plan_why_set(why, EOPNOTSUPP, "enable " PLAN_FEATURE_NTUPLE, NULL,
				    PLAN_FEATURE_NTUPLE " is fixed off on this device"),
		       false;
	return true;
}

static const enum config_steering *steer_order(const struct planner *pl, size_t *ret_n)
{
	static const enum config_steering dflt[] = { CONFIG_STEERING_MAC, CONFIG_STEERING_IP };

	if (pl->pol && pl->pol->n_steering) {
		*ret_n = pl->pol->n_steering;
		return pl->pol->steering;
	}
	*ret_n = 2;
	return dflt;
}

/* Rules that match flow f and do a: NULL when not refused, else the
 * refusal's text (the kernel's, as learned) and *ret_err. */
const char *plan_kind_refused(const struct planner *pl, enum nic_rule_match f,
			      enum nic_rule_action a, int *ret_err)
{
	struct nic_caps *c = (struct nic_caps *)&pl->nic->caps;
	const struct nic_cap *k = nic_rule_kind_cap(c, f, a);

	if (!k || k->state != NIC_CAP_NO)
		return NULL;
	*ret_err = k->err ? k->err : EOPNOTSUPP;
	return plan_cap_msg(k, "refused");
}

/* Can method m steer the vNIC id with rules that do a?  NULL when it can
 * (for IP: with at least one of its address families), else why not. */
static const char *method_refused(const struct planner *pl, const struct attach_id *id,
				  enum config_steering m, enum nic_rule_action a, int *ret_err)
{
	const char *v4 = NULL, *v6 = NULL;
	int e4 = 0, e6 = 0;

	*ret_err = 0;
	switch (m) {
	case CONFIG_STEERING_MAC:
		return plan_kind_refused(pl, NIC_RULE_MATCH_ETHER_DST, a, ret_err);
	case CONFIG_STEERING_IP:
		if (!id->n_ip4 && !id->n_ip6)
			return "the vNIC's IP addresses are not known";
		if (id->n_ip4)
			v4 = plan_kind_refused(pl, NIC_RULE_MATCH_IP4_DST, a, &e4);
		if (id->n_ip6)
			v6 = plan_kind_refused(pl, NIC_RULE_MATCH_IP6_DST, a, &e6);
		if ((id->n_ip4 && !v4) || (id->n_ip6 && !v6))
			return NULL;
		*ret_err = v4 ? e4 : e6;
		return v4 ? v4 : v6;
	}
	return "unknown steering method";
}

/* "mac: <why>; ip: <why>" for the methods of the order that cannot do a;
 * returns how many can. */
static size_t methods_for(const struct planner *pl, const struct attach_id *id,
			  enum nic_rule_action a, char *tried, size_t size, int *ret_first_err)
{
	const enum config_steering *order;
	size_t n_order, m, n_ok = 0, len = 0;

	order = steer_order(pl, &n_order);
	tried[0] = '\0';
	*ret_first_err = 0;
	for (m = 0; m < n_order; m++) {
		int err;
		const char *no = method_refused(pl, id, order[m], a, &err);

		if (!no) {
			n_ok++;
			continue;
		}
		if (!*ret_first_err)
			*ret_first_err = err;
		if (len < size)
			len += (size_t)snprintf(tried + len, size - len, "%s%s: %s", len ? "; " : "",
						config_steering_name(order[m]), no);
	}
	return n_ok;
}

bool plan_steer_context_refused(const struct planner *pl, const struct attach_id *id, char *why,
				size_t size, int *ret_err)
{
	struct plan_why base;
	char q[8];
	int e;

	if (!pl->managed || !plan_rules_possible(pl, &base))
		return false;
	if (id->kind == ATTACH_KIND_LEASE)
		return plan_flow_context_refused(pl, id, why, size, ret_err);
	if (methods_for(pl, id, NIC_RULE_ACTION_CONTEXT, why, size, ret_err))
		return false;
	/* only worth one queue when a rule to a queue is still possible */
	return methods_for(pl, id, NIC_RULE_ACTION_QUEUE, q, sizeof(q), &e) > 0;
}

void plan_steer_choose(struct planner *pl)
{
	const enum config_steering *order;
	size_t n_order, i, m;
	struct attach_reason unsteered = { 0 };
	struct plan_why base;
	bool possible;

	if (!pl->managed)
		return;
	order = steer_order(pl, &n_order);
	possible = plan_rules_possible(pl, &base);
	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];
		const struct attach_id *id = &ap->a->id;
		enum nic_rule_action act =
			ap->n_q > 1 ? NIC_RULE_ACTION_CONTEXT : NIC_RULE_ACTION_QUEUE;
		char tried[KERROR_MSG_MAX];
		int first_err, err;

		if (ap->skip || !ap->n_q)
			continue;
		if (!possible) {
			/* the same words for all: written and compared once */
			if (unsteered.text) {
				plan_reason_again(pl, ap, &unsteered);
			} else {
				plan_reason(pl, ap, ATTACH_R_UNSTEERED, base.op, base.err,
					    "no steering rule: %s", plan_why_msg(&base));
				plan_reason_keep(pl, &unsteered);
			}
			continue;
		}
		if (plan_is_lease(ap)) {
			plan_flow_steer(pl, ap, act);
			continue;
		}
		for (m = 0; m < n_order && ap->method < 0; m++)
			if (!method_refused(pl, id, order[m], act, &err))
				ap->method = (int)order[m];
		if (ap->method < 0) {
			(void)methods_for(pl, id, act, tried, sizeof(tried), &first_err);
			plan_reason(pl, ap, ATTACH_R_UNSTEERED, "insert rule",
			       first_err ? first_err : EOPNOTSUPP,
			       "no steering method works for rules to %s (%s)",
			       act == NIC_RULE_ACTION_CONTEXT ? "an RSS context" : "a queue", tried);
			continue;
		}
		ap->use_ctx = act == NIC_RULE_ACTION_CONTEXT;
	}
	attach_reason_clear(&unsteered);
}

/* One rule per address of a family whose kind is not refused; a refused
 * family is named (its traffic is not steered). */
static void want_ip_rules(struct planner *pl, struct aplan *ap, const struct nic_rule *base,
			  enum nic_rule_match f)
{
	const struct attach_id *id = &ap->a->id;
	size_t k, n = f == NIC_RULE_MATCH_IP4_DST ? id->n_ip4 : id->n_ip6;
	const char *no;
	int err;

	if (!n)
		return;
	no = plan_kind_refused(pl, f, base->action, &err);
	if (no) {
		plan_reason(pl, ap, ATTACH_R_UNSTEERED, "insert rule", err,
		       "%s rules to %s refused (%s): the vNIC's %s traffic is not steered",
		       f == NIC_RULE_MATCH_IP4_DST ? "IPv4" : "IPv6",
		       ap->use_ctx ? "an RSS context" : "a queue", no,
		       f == NIC_RULE_MATCH_IP4_DST ? "IPv4" : "IPv6");
		return;
	}
	for (k = 0; k < n; k++) {
		struct want_rule *w = plan_want_rule_add(pl, ap);

		if (!w)
			return;
		w->rule = *base;
		w->rule.match = f;
		if (f == NIC_RULE_MATCH_IP4_DST)
			w->rule.ip4 = id->ip4[k];
		else
			w->rule.ip6 = id->ip6[k];
		w->ctx_op = ap->use_ctx && !ap->has_ctx ? ap->ctx_op : -1;
	}
}

static void want_rules(struct planner *pl, struct aplan *ap)
{
	const struct attach_id *id = &ap->a->id;
	struct nic_rule base = { 0 };

	base.location = NIC_LOC_ANY;
	if (ap->use_ctx) {
		base.action = NIC_RULE_ACTION_CONTEXT;
		base.rss_context = ap->has_ctx ? ap->ctx_id : 0;
	} else {
		base.action = NIC_RULE_ACTION_QUEUE;
		base.queue = ap->q[0];
	}
	ap->n_wr = 0;
	if (ap->method == PLAN_STEER_FLOW) {
		plan_flow_want_rules(pl, ap, &base);
		return;
	}
	if (ap->method == CONFIG_STEERING_MAC) {
		struct want_rule *w = plan_want_rule_add(pl, ap);

		if (!w)
			return;
		w->rule = base;
		w->rule.match = NIC_RULE_MATCH_ETHER_DST;
		memcpy(w->rule.mac, id->mac, NIC_MAC_LEN);
		w->ctx_op = ap->use_ctx && !ap->has_ctx ? ap->ctx_op : -1;
		return;
	}
	want_ip_rules(pl, ap, &base, NIC_RULE_MATCH_IP4_DST);
	want_ip_rules(pl, ap, &base, NIC_RULE_MATCH_IP6_DST);
}

/* Is owned context c, as far as can be told, a table over exactly the
 * queues q?  Seen: its table says; gone: no; unknown (the kernel cannot
 * list contexts and it was not read by id): the journal's word. */
static bool ctx_spans(const struct planner *pl, const struct journal_ctx *c, const uint32_t *q,
		      uint32_t n)
{
	switch (nic_ctx_state(pl->nic, c->id)) {
	case NIC_CTX_SEEN:
		return journal_rss_spans(nic_find_rss(pl->nic, c->id), q, n);
	case NIC_CTX_GONE:
		return false;
	case NIC_CTX_UNKNOWN:
		return c->n_queues == n && !memcmp(c->queues, q, n * sizeof(uint32_t));
	}
	return false;
}

void plan_steer_contexts(struct planner *pl)
{
	const struct journal_nic *j = pl->j;
	struct plan_op *op;
	size_t i;
	uint32_t size = pl->rss0 ? pl->rss0->indir_size : 0;

	/* keep an owned context that already spans exactly the right queues */
	for (i = 0; i < j->n_ctxs; i++) {
		const struct journal_ctx *c = &j->ctxs[i];
		struct aplan *ap;

		if (c->pending)
			continue;
		ap = plan_ap_by_mac(pl, c->owner);
		if (ap && ap->use_ctx && !ap->has_ctx && ctx_spans(pl, c, ap->q, ap->n_q)) {
			ap->has_ctx = true;
			ap->ctx_id = c->id;
		}
	}
	for (i = 0; i < j->n_ctxs; i++) {
		const struct journal_ctx *c = &j->ctxs[i];
		struct aplan *ap = plan_ap_by_mac(pl, c->owner);
		enum nic_ctx_seen seen = nic_ctx_state(pl->nic, c->id);
		const struct nic_rss *r = nic_find_rss(pl->nic, c->id);

		if (c->pending ||
		    (ap && ap->has_ctx && ap->ctx_id == c->id && ctx_spans(pl, c, c->queues,
									    c->n_queues)))
			continue;
		/* "deleted outside" only when a read that sees contexts says
		 * so: a listing of them all, or this one read by id */
		if (!ctx_spans(pl, c, c->queues, c->n_queues)) {
			op = plan_op_add(pl, PH_CTX_DEL, PLAN_OP_FORGET, c->owner,
				    seen == NIC_CTX_GONE ?
					    "RSS context %u was deleted outside zcrxd" :
					    "RSS context %u was changed outside zcrxd",
				    c->id);
			if (op) {
				op->forget = PLAN_FORGET_CTX;
				op->forget_id = c->id;
				op->ctx_queues = plan_dup_u32(pl, c->queues, c->n_queues);
				op->n_ctx_queues = op->ctx_queues ? c->n_queues : 0;
			}
			continue;
		}
		op = plan_op_add(pl, PH_CTX_DEL, PLAN_OP_RSS_DELETE, c->owner, "%s",
			    !ap || !ap->use_ctx ? "RSS context no longer needed" :
						  "the attachment's queues changed");
		if (!op)
			return;
		op->ctx = c->id;
		if (r) {
			op->prev = plan_dup_u32(pl, r->indir, r->indir_size);
			op->n_prev = r->indir_size;
		} else if (size) {
			/* not readable here: undo makes it again from the
			 * journal's queues */
			op->prev = plan_xcalloc(pl, size, sizeof(uint32_t));
			if (!op->prev)
				return;
			op->n_prev = size;
			plan_spread(op->prev, size, c->queues, c->n_queues);
		}
	}
	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[pl->order[i]];

		size = pl->rss0 ? pl->rss0->indir_size : ap->n_q;
		if (!ap->use_ctx || ap->has_ctx)
			continue;
		ap->ctx_op = (int)pl->ph[PH_CTX_NEW].n;
		op = plan_op_add(pl, PH_CTX_NEW, PLAN_OP_RSS_CREATE, ap->a->id.mac,
			    "RSS context over the %u queues of '%s'", ap->n_q, ap->a->id.domain);
		if (!op)
			return;
		/* the NIC's contexts, less those this plan deletes first, and
		 * those it makes before it */
		op->ctx_count = plan_contexts_on_nic(pl->nic) - plan_contexts_deleted(pl) +
				(uint32_t)ap->ctx_op;
		op->indir = plan_xcalloc(pl, size, sizeof(uint32_t));
		if (!op->indir)
			return;
		op->n_indir = size;
		plan_spread(op->indir, size, ap->q, ap->n_q);
		op->ctx_queues = plan_dup_u32(pl, ap->q, ap->n_q);
		if (!op->ctx_queues)
			return;
		op->n_ctx_queues = ap->n_q;
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
		n_del += del->v[i].op.kind == PLAN_OP_RULE_DELETE;
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
	s->used = plan_xcalloc(pl, s->cap, 1);
	if (!s->used)
		return pl->err;
	for (i = 0; i < nic->n_rules; i++)
		if (nic->rules[i].location < s->cap)
			s->used[nic->rules[i].location] = 1;
	/* slots this plan empties first can be used again */
	for (i = 0; i < del->n; i++)
		if (del->v[i].op.kind == PLAN_OP_RULE_DELETE && del->v[i].op.rule.location < s->cap)
			s->used[del->v[i].op.rule.location] = 0;
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

/* Room for the locations of each attachment's kept rules (one each of
 * its wanted rules at most) in its result, out of one block for the plan
 * (plan.rule_block) instead of an allocation each. */
static void rule_room(struct planner *pl, size_t total)
{
	uint32_t *block;
	size_t i;

	if (pl->err || !total)
		return;
	block = malloc(total * sizeof(*block));
	if (!block) {
		pl->err = -ENOMEM;
		return;
	}
	pl->p->rule_block = block;
	for (i = 0; i < pl->n_ap; i++) {
		if (!pl->ap[i].n_wr)
			continue;
		pl->ap[i].rule_room = block;
		block += pl->ap[i].n_wr;
	}
}

void plan_steer_rules(struct planner *pl)
{
	const struct journal_nic *j = pl->j;
	struct plan_op *op;
	struct slots slots;
	size_t i, k, total = 0;

	for (i = 0; i < pl->n_ap; i++) {
		struct aplan *ap = &pl->ap[i];

		if (ap->method >= 0)
			want_rules(pl, ap);
		total += ap->n_wr;
	}
	rule_room(pl, total);
	for (i = 0; i < j->n_rules; i++) {
		const struct journal_rule *jr = &j->rules[i];
		const struct nic_rule *o;
		struct aplan *ap;
		bool present, kept = false;

		if (jr->pending)
			continue;
		o = plan_obs_rule(pl, jr->rule.location);
		present = o && journal_rule_same_content(o, &jr->rule);
		ap = plan_ap_by_mac(pl, jr->owner);
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
				if (ap->rule_room) { /* (none after a failure) */
					ap->res->rule_locs = ap->rule_room;
					ap->rule_room[ap->res->n_rules++] = jr->rule.location;
				}
			} else {
				w->repair = true;
			}
			break;
		}
		if (kept)
			continue;
		if (!present) {
			op = plan_op_add(pl, PH_RULE_DEL, PLAN_OP_FORGET, jr->owner,
				    "rule %u was deleted outside zcrxd", jr->rule.location);
			if (op) {
				op->forget = PLAN_FORGET_RULE;
				op->forget_id = jr->rule.location;
				op->rule = jr->rule;
			}
			continue;
		}
		op = plan_op_add(pl, PH_RULE_DEL, PLAN_OP_RULE_DELETE, jr->owner, "%s",
			    !plan_ap_by_mac(pl, jr->owner) ? "attachment removed" :
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
				plan_reason(pl, ap, ATTACH_R_UNSTEERED, "insert rule", ENOSPC,
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
			char mac[18], flow[96], what[104] = "";

			if (w->satisfied)
				continue;
			if (ap->method == PLAN_STEER_FLOW)
				snprintf(what, sizeof(what), "flow %s",
					 flow_format(&ap->a->id.lease.flow, flow, sizeof(flow)));
			op = plan_op_add(pl, PH_RULE_INS, PLAN_OP_RULE_INSERT, ap->a->id.mac,
				    "%ssteer %s of %s'%s' to its %s", w->repair ? "repair: " : "",
				    ap->method == PLAN_STEER_FLOW ? what :
				    ap->method == CONFIG_STEERING_MAC ?
					    plan_mac_str(ap->a->id.mac, mac) :
					    "an IP address",
				    plan_is_lease(ap) ? "lease " : "", ap->a->id.domain,
				    ap->use_ctx ? "RSS context" : "queue");
			if (!op)
				return;
			op->rule = w->rule;
			op->rule.location = loc[k];
			op->driver_picks = loc[k] == NIC_LOC_ANY && pl->nic->rule_loc_special;
			op->ctx_op = w->ctx_op;
			op->repair = w->repair;
		}
	}
	free(slots.used);
}

static bool foreign_rules(const struct planner *pl)
{
	size_t i;

	for (i = 0; i < pl->nic->n_rules; i++)
		if (plan_rule_owner(pl, &pl->nic->rules[i]) < 0)
			return true;
	return false;
}

void plan_steer_ntuple(struct planner *pl)
{
	const struct nic *nic = pl->nic;
	const struct journal_nic *j = pl->j;
	bool need = false;
	struct plan_op *op;
	size_t i;

	for (i = 0; i < pl->n_ap; i++)
		need |= pl->ap[i].method >= 0;
	if (need && !nic->ntuple_active) {
		op = plan_op_add(pl, PH_PREREQ, PLAN_OP_SET_FEATURE, NULL,
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
		op = plan_op_add(pl, PH_RESTORE, PLAN_OP_FORGET, NULL,
			    PLAN_FEATURE_NTUPLE " is back at its recorded value");
		if (op)
			op->forget = PLAN_FORGET_NTUPLE;
		return;
	}
	if (!j->ntuple_prior && foreign_rules(pl)) {
		plan_note(pl, ATTACH_R_NIC, "restore " PLAN_FEATURE_NTUPLE, EBUSY,
		     "leaving " PLAN_FEATURE_NTUPLE " on: rules zcrxd does not own depend on it");
		return;
	}
	op = plan_op_add(pl, PH_RESTORE, PLAN_OP_SET_FEATURE, NULL,
		    "restore " PLAN_FEATURE_NTUPLE " %s, as it was before zcrxd",
		    j->ntuple_prior ? "on" : "off");
	if (!op)
		return;
	op->on = j->ntuple_prior;
	op->prev_on = nic->ntuple_active;
	op->prior = PLAN_PRIOR_CLEAR;
}
