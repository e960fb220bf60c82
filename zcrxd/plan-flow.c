// SPDX-License-Identifier: MIT
/*
 * plan-flow — the planner's steering of leases (plan.h, DESIGN.md §14): a
 * lease is steered by rules of its flow, one per address family
 * (TCP_V4/UDP_V4, TCP_V6/UDP_V6), to its queue or to an RSS context over
 * its queues.  A family whose rules the NIC refuses is left out, with the
 * reason "flow-family", as long as another family works.
 *
 * Owns: those decisions.  Must not: do I/O, read the clock, keep globals, log.
 */
#include "plan-int.h"

static enum nic_rule_match flow_match(const struct nic_flow *f)
{
	return f->family == AF_INET ? NIC_RULE_MATCH_FLOW4 : NIC_RULE_MATCH_FLOW6;
}

static uint8_t family_bit(const struct nic_flow *f)
{
	return f->family == AF_INET ? 1 : 2;
}

void plan_flow_steer(struct planner *pl, struct aplan *ap, enum nic_rule_action act)
{
	struct nic_flow f[FLOW_RULES_MAX];
	size_t n = flow_nic_flows(&ap->a->id.lease.flow, f), k, n_ok = 0;
	const char *no = NULL;
	int err = 0, e;

	ap->flow_skip = 0;
	for (k = 0; k < n; k++) {
		const char *x = plan_kind_refused(pl, flow_match(&f[k]), act, &e);

		if (!x) {
			n_ok++;
			continue;
		}
		ap->flow_skip |= family_bit(&f[k]);
		no = x;
		err = e;
	}
	if (!n_ok) {
		plan_reason(pl, ap, ATTACH_R_UNSTEERED, "insert rule", err,
		       "no steering rule: TCP/UDP flow rules to a %s refused (%s)",
		       nic_rule_act_name(act), no);
		return;
	}
	if (ap->flow_skip)
		plan_reason(pl, ap, ATTACH_R_FLOW_FAMILY, "insert rule", err,
		       "IPv%c packets of the flow are not steered: %s rules to a %s refused (%s)",
		       ap->flow_skip & 1 ? '4' : '6', ap->flow_skip & 1 ? "TCP_V4/UDP_V4" :
									  "TCP_V6/UDP_V6",
		       nic_rule_act_name(act), no);
	ap->method = PLAN_STEER_FLOW;
	ap->use_ctx = act == NIC_RULE_ACTION_CONTEXT;
}

bool plan_flow_context_refused(const struct planner *pl, const struct attach_id *id, char *why,
			       size_t size, int *ret_err)
{
	/* contexts for none of the flow's families, queues for some */
	struct nic_flow f[FLOW_RULES_MAX];
	size_t n = flow_nic_flows(&id->lease.flow, f), k;
	const char *no = NULL;
	bool ctx_ok = false, q_ok = false;
	int e;

	for (k = 0; k < n; k++) {
		const char *x = plan_kind_refused(pl, flow_match(&f[k]), NIC_RULE_ACTION_CONTEXT,
						  ret_err);

		ctx_ok |= !x;
		no = x ? x : no;
		q_ok |= !plan_kind_refused(pl, flow_match(&f[k]), NIC_RULE_ACTION_QUEUE, &e);
	}
	if (ctx_ok || !q_ok)
		return false;
	snprintf(why, size, "flow: %s", no);
	return true;
}

void plan_flow_want_rules(struct planner *pl, struct aplan *ap, const struct nic_rule *base)
{
	struct nic_flow f[FLOW_RULES_MAX];
	size_t n = flow_nic_flows(&ap->a->id.lease.flow, f), k;

	for (k = 0; k < n; k++) {
		struct want_rule *w;

		if (ap->flow_skip & family_bit(&f[k]))
			continue;
		w = plan_want_rule_add(pl, ap);
		if (!w)
			return;
		w->rule = *base;
		w->rule.match = flow_match(&f[k]);
		w->rule.flow = f[k];
		w->ctx_op = ap->use_ctx && !ap->has_ctx ? ap->ctx_op : -1;
	}
}
