// SPDX-License-Identifier: MIT
/*
 * plan-render — how a plan looks to people and programs: one-line
 * descriptions, the equivalent ethtool command lines, JSON; and what a
 * failed op teaches about the NIC (plan_learn).
 *
 * Owns: rendering.  Must not: do I/O or decide anything about the plan.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jtext.h"
#include "plan.h"

const char *plan_op_kind_name(enum plan_op_kind k)
{
	switch (k) {
	case PLAN_OP_UNBIND: return "unbind";
	case PLAN_OP_RULE_DELETE: return "delete-rule";
	case PLAN_OP_RSS_DELETE: return "delete-context";
	case PLAN_OP_FORGET: return "forget";
	case PLAN_OP_UNLEASE: return "unlease";
	case PLAN_OP_SET_CHANNELS: return "set-channels";
	case PLAN_OP_SET_FEATURE: return "set-feature";
	case PLAN_OP_SET_RINGS: return "set-rings";
	case PLAN_OP_RSS_SET: return "set-rss-table";
	case PLAN_OP_LEASE: return "lease";
	case PLAN_OP_RSS_CREATE: return "create-context";
	case PLAN_OP_RULE_INSERT: return "insert-rule";
	case PLAN_OP_BIND: return "bind";
	}
	return "?";
}

bool plan_op_is_kernel(const struct plan_op *op)
{
	switch (op->kind) {
	case PLAN_OP_FORGET:
	case PLAN_OP_UNLEASE:
	case PLAN_OP_LEASE:
		return false;
	case PLAN_OP_UNBIND:
	case PLAN_OP_RULE_DELETE:
	case PLAN_OP_RSS_DELETE:
	case PLAN_OP_SET_CHANNELS:
	case PLAN_OP_SET_FEATURE:
	case PLAN_OP_SET_RINGS:
	case PLAN_OP_RSS_SET:
	case PLAN_OP_RSS_CREATE:
	case PLAN_OP_RULE_INSERT:
	case PLAN_OP_BIND:
		return true;
	}
	return false;
}

static const char *forget_name(enum plan_forget f)
{
	switch (f) {
	case PLAN_FORGET_RULE: return "rule";
	case PLAN_FORGET_CTX: return "context";
	case PLAN_FORGET_BINDING: return "binding";
	case PLAN_FORGET_CHANNELS: return "channels";
	case PLAN_FORGET_NTUPLE: return "ntuple";
	case PLAN_FORGET_RINGS: return "rings";
	case PLAN_FORGET_RSS0: return "rss0";
	}
	return "?";
}

/* "ether dst 52:54:00:00:00:01" / "ip4 dst-ip 10.0.0.2" */
static const char *match_text(const struct nic_rule *r, bool ethtool, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN], mac[18];

	switch (r->match) {
	case NIC_RULE_MATCH_ETHER_DST:
		snprintf(buf, size, "%s dst %s", ethtool ? "flow-type ether" : "ether",
			 nic_mac_format(r->mac, mac));
		break;
	case NIC_RULE_MATCH_IP4_DST:
		snprintf(buf, size, "%s dst-ip %s", ethtool ? "flow-type ip4" : "ip4",
			 inet_ntop(AF_INET, &r->ip4, a, sizeof(a)));
		break;
	case NIC_RULE_MATCH_IP6_DST:
		snprintf(buf, size, "%s dst-ip %s", ethtool ? "flow-type ip6" : "ip6",
			 inet_ntop(AF_INET6, &r->ip6, a, sizeof(a)));
		break;
	case NIC_RULE_MATCH_FLOW4:
	case NIC_RULE_MATCH_FLOW6:
		nic_flow_format(&r->flow, ethtool, buf, size);
		break;
	case NIC_RULE_MATCH_OTHER:
		snprintf(buf, size, "flow-type 0x%x", r->flow_type);
		break;
	}
	return buf;
}

/* Queue set of a table in ethtool -X terms: "equal N" or "start S equal N"
 * for a round robin over consecutive queues, else "weight w0 w1 ..." with
 * each queue's count of buckets.  ethtool's weight form gives queue j the
 * buckets from size*(w0+..+w(j-1))/sum on; with the counts as weights
 * (sum = size) that is one block per queue in queue order, so it writes
 * this very table when the table is such blocks, which is how zcrxd makes
 * tables over queues that are not consecutive (plan_spread).  Any other
 * table (one recorded before zcrxd) has no exact ethtool form: the line is
 * marked.  Returns whether the line is exact. */
static bool table_args(const uint32_t *indir, uint32_t n, char *buf, size_t size)
{
	uint32_t max = 0, i, k, start, cnt;
	bool rr = n > 0, blocks = true;
	size_t len = 0;

	buf[0] = '\0';
	if (!n) {
		snprintf(buf, size, "default");
		return true;
	}
	for (i = 0; i < n; i++)
		max = indir[i] > max ? indir[i] : max;
	/* round robin over a contiguous range? */
	start = indir[0];
	for (cnt = 1; cnt < n && indir[cnt] != start; cnt++)
		;
	for (i = 0; rr && i < n; i++)
		rr = indir[i] == start + (i % cnt);
	if (rr) {
		if (start)
			snprintf(buf, size, "start %u equal %u", start, cnt);
		else
			snprintf(buf, size, "equal %u", cnt);
		return true;
	}
	for (i = 1; i < n && blocks; i++)
		blocks = indir[i] >= indir[i - 1];
	len += (size_t)snprintf(buf, size, "weight");
	for (k = 0; k <= max && len < size; k++) {
		uint32_t w = 0;

		for (i = 0; i < n; i++)
			w += indir[i] == k;
		len += (size_t)snprintf(buf + len, size - len, " %u", w);
	}
	if (!blocks && len < size)
		snprintf(buf + len, size - len,
			 "  # not exact: ethtool -X cannot write this table, only its weights");
	return blocks;
}

const char *plan_op_ethtool(const struct plan_op *op, char *buf, size_t size)
{
	char m[96], t[1024];

	buf[0] = '\0';
	switch (op->kind) {
	case PLAN_OP_SET_CHANNELS: {
		size_t len = (size_t)snprintf(buf, size, "ethtool -L %s", op->nic);

		if (op->ch.has_combined && len < size)
			len += (size_t)snprintf(buf + len, size - len, " combined %u",
						op->ch.combined);
		if (op->ch.has_rx && len < size)
			len += (size_t)snprintf(buf + len, size - len, " rx %u", op->ch.rx);
		if (op->ch.has_tx && len < size)
			snprintf(buf + len, size - len, " tx %u", op->ch.tx);
		break;
	}
	case PLAN_OP_SET_FEATURE:
		snprintf(buf, size, "ethtool -K %s ntuple %s", op->nic, op->on ? "on" : "off");
		break;
	case PLAN_OP_SET_RINGS: {
		size_t len = (size_t)snprintf(buf, size, "ethtool -G %s", op->nic);

		if (op->rings.has_tcp_data_split && len < size)
			len += (size_t)snprintf(buf + len, size - len, " tcp-data-split %s",
						op->rings.tcp_data_split == NIC_TDS_ENABLED ? "on" :
						op->rings.tcp_data_split == NIC_TDS_DISABLED ? "off" :
											 "auto");
		if (op->rings.has_hds_thresh && len < size)
			snprintf(buf + len, size - len, " hds-thresh %u", op->rings.hds_thresh);
		break;
	}
	case PLAN_OP_RSS_SET:
		table_args(op->indir, op->n_indir, t, sizeof(t));
		if (op->ctx)
			snprintf(buf, size, "ethtool -X %s context %u %s", op->nic, op->ctx, t);
		else
			snprintf(buf, size, "ethtool -X %s %s", op->nic, t);
		break;
	case PLAN_OP_RSS_CREATE:
		table_args(op->indir, op->n_indir, t, sizeof(t));
		if (op->ctx_op >= 0) /* ethtool prints "New RSS context is N" */
			snprintf(buf, size,
				 "CTX%d=$(ethtool -X %s context new %s | "
				 "sed -n 's/^New RSS context is //p')",
				 op->ctx_op + 1, op->nic, t);
		else
			snprintf(buf, size, "ethtool -X %s context new %s", op->nic, t);
		break;
	case PLAN_OP_RSS_DELETE:
		snprintf(buf, size, "ethtool -X %s context %u delete", op->nic, op->ctx);
		break;
	case PLAN_OP_RULE_INSERT: {
		char loc[32] = "";

		if (op->rule.location != NIC_LOC_ANY)
			snprintf(loc, sizeof(loc), " loc %u", op->rule.location);
		match_text(&op->rule, true, m, sizeof(m));
		if (op->rule.action == NIC_RULE_ACTION_CONTEXT) {
			if (op->ctx_op >= 0)
				snprintf(buf, size, "ethtool -N %s %s context $CTX%d%s", op->nic, m,
					 op->ctx_op + 1, loc);
			else
				snprintf(buf, size, "ethtool -N %s %s context %u%s", op->nic, m,
					 op->rule.rss_context, loc);
		} else {
			snprintf(buf, size, "ethtool -N %s %s action %u%s", op->nic, m,
				 op->rule.queue, loc);
		}
		if (op->driver_picks) {
			size_t len = strlen(buf);

			if (len < size)
				snprintf(buf + len, size - len,
					 "  # not exact: zcrxd asks the driver for its last slot "
					 "(RX_CLS_LOC_LAST), ethtool -N lets it pick any");
		}
		break;
	}
	case PLAN_OP_RULE_DELETE:
		snprintf(buf, size, "ethtool -N %s delete %u", op->nic, op->rule.location);
		break;
	case PLAN_OP_UNBIND:
	case PLAN_OP_BIND:
	case PLAN_OP_FORGET:
	case PLAN_OP_UNLEASE:
	case PLAN_OP_LEASE:
		break;
	}
	return buf;
}

const char *plan_op_describe(const struct plan_op *op, char *buf, size_t size)
{
	char m[96], t[1024], mac[18];

	switch (op->kind) {
	case PLAN_OP_UNBIND:
		snprintf(buf, size, "unbind binding %u (queue %u)", op->binding_id, op->queue);
		break;
	case PLAN_OP_RULE_DELETE:
		snprintf(buf, size, "delete rule %u (%s)", op->rule.location,
			 match_text(&op->rule, false, m, sizeof(m)));
		break;
	case PLAN_OP_RSS_DELETE:
		snprintf(buf, size, "delete RSS context %u", op->ctx);
		break;
	case PLAN_OP_FORGET:
		snprintf(buf, size, "forget %s %u", forget_name(op->forget), op->forget_id);
		break;
	case PLAN_OP_UNLEASE:
		snprintf(buf, size, "return queue %u to the pool", op->queue);
		break;
	case PLAN_OP_SET_CHANNELS:
		plan_op_ethtool(op, t, sizeof(t));
		snprintf(buf, size, "set channels%s", t + strlen("ethtool -L ") + strlen(op->nic));
		break;
	case PLAN_OP_SET_FEATURE:
		snprintf(buf, size, "set %s %s", PLAN_FEATURE_NTUPLE, op->on ? "on" : "off");
		break;
	case PLAN_OP_SET_RINGS:
		plan_op_ethtool(op, t, sizeof(t));
		snprintf(buf, size, "set rings%s", t + strlen("ethtool -G ") + strlen(op->nic));
		break;
	case PLAN_OP_RSS_SET:
		table_args(op->indir, op->n_indir, t, sizeof(t));
		snprintf(buf, size, "set RSS context %u table: %s", op->ctx, t);
		break;
	case PLAN_OP_LEASE:
		snprintf(buf, size, "lease queue %u to %s", op->queue,
			 nic_mac_format(op->owner, mac));
		break;
	case PLAN_OP_RSS_CREATE:
		table_args(op->indir, op->n_indir, t, sizeof(t));
		/* its id is the kernel's answer: none yet (the ethtool line
		 * names it $CTXn, a description never does) */
		snprintf(buf, size, "create RSS context: %s", t);
		break;
	case PLAN_OP_RULE_INSERT:
		match_text(&op->rule, false, m, sizeof(m));
		if (op->rule.action == NIC_RULE_ACTION_CONTEXT && op->ctx_op >= 0)
			snprintf(buf, size, "insert rule %s -> the context of step %d", m,
				 op->ctx_op + 1);
		else if (op->rule.action == NIC_RULE_ACTION_CONTEXT)
			snprintf(buf, size, "insert rule %s -> context %u", m, op->rule.rss_context);
		else
			snprintf(buf, size, "insert rule %s -> queue %u", m, op->rule.queue);
		break;
	case PLAN_OP_BIND:
		snprintf(buf, size, "bind queue %u to tap ifindex %d (fallback %s)", op->queue,
			 op->tap_ifindex, op->fallback == BINDER_FALLBACK_DROP ? "drop" : "copy");
		break;
	}
	return buf;
}

const char *plan_op_describe_done(const struct plan_op *op, uint32_t out, uint32_t ctx_id,
				  char *buf, size_t size)
{
	char m[96], t[1024];

	if (op->kind == PLAN_OP_RSS_CREATE) {
		table_args(op->indir, op->n_indir, t, sizeof(t));
		snprintf(buf, size, "create RSS context %u: %s", out, t);
	} else if (op->kind == PLAN_OP_RULE_INSERT && op->rule.action == NIC_RULE_ACTION_CONTEXT &&
		   op->ctx_op >= 0) {
		snprintf(buf, size, "insert rule %s -> context %u",
			 match_text(&op->rule, false, m, sizeof(m)), ctx_id);
	} else {
		plan_op_describe(op, buf, size);
	}
	return buf;
}

void plan_op_to_jtext(const struct plan_op *op, struct jtext *t)
{
	char buf[1200], mac[18];
	bool f = true;

	jtext_lit(t, "{");
	jtext_key(t, &f, "kind");
	jtext_str(t, plan_op_kind_name(op->kind));
	jtext_key(t, &f, "nic");
	jtext_str(t, op->nic);
	if (op->has_owner) {
		jtext_key(t, &f, "mac");
		jtext_str(t, nic_mac_format(op->owner, mac));
	}
	jtext_key(t, &f, "description");
	jtext_str(t, plan_op_describe(op, buf, sizeof(buf)));
	jtext_key(t, &f, "reason");
	jtext_str(t, op->reason ? op->reason : "");
	plan_op_ethtool(op, buf, sizeof(buf));
	if (buf[0]) {
		jtext_key(t, &f, "ethtool");
		jtext_str(t, buf);
	}
	jtext_key(t, &f, "kernel");
	jtext_lit(t, plan_op_is_kernel(op) ? "true" : "false");
	if (op->repair) {
		jtext_key(t, &f, "repair");
		jtext_lit(t, "true");
	}
	switch (op->kind) {
	case PLAN_OP_RULE_INSERT:
	case PLAN_OP_RULE_DELETE:
		if (op->rule.location != NIC_LOC_ANY) {
			jtext_key(t, &f, "location");
			jtext_u64(t, op->rule.location);
		}
		if (op->rule.action == NIC_RULE_ACTION_QUEUE) {
			jtext_key(t, &f, "queue");
			jtext_u64(t, op->rule.queue);
		}
		break;
	case PLAN_OP_RSS_SET:
	case PLAN_OP_RSS_CREATE:
		jtext_key(t, &f, "context");
		jtext_u64(t, op->ctx);
		jtext_key(t, &f, "table");
		jtext_u32s(t, op->indir, op->n_indir);
		break;
	case PLAN_OP_LEASE:
	case PLAN_OP_UNLEASE:
	case PLAN_OP_BIND:
	case PLAN_OP_UNBIND:
		jtext_key(t, &f, "queue");
		jtext_u64(t, op->queue);
		break;
	case PLAN_OP_RSS_DELETE:
	case PLAN_OP_FORGET:
	case PLAN_OP_SET_CHANNELS:
	case PLAN_OP_SET_FEATURE:
	case PLAN_OP_SET_RINGS:
		break;
	}
	jtext_lit(t, "}");
}

void plan_to_jtext(const struct plan *p, struct jtext *t)
{
	bool f = true;
	size_t i;

	jtext_lit(t, "{");
	jtext_key(t, &f, "nic");
	jtext_str(t, p->nic);
	jtext_key(t, &f, "channels");
	jtext_u64(t, p->channels);
	jtext_key(t, &f, "pool");
	jtext_u32s(t, p->pool, p->n_pool);
	jtext_key(t, &f, "shared");
	jtext_u32s(t, p->shared, p->n_shared);
	jtext_key(t, &f, "ops");
	jtext_lit(t, "[");
	for (i = 0; i < p->n_ops; i++) {
		if (i)
			jtext_lit(t, ",");
		plan_op_to_jtext(&p->ops[i], t);
	}
	jtext_lit(t, "]");
	jtext_key(t, &f, "notes");
	jtext_lit(t, "[");
	for (i = 0; i < p->n_notes; i++) {
		if (i)
			jtext_lit(t, ",");
		attach_reason_to_jtext(&p->notes[i], t);
	}
	jtext_lit(t, "]}");
}

json_object *plan_op_to_json(const struct plan_op *op)
{
	struct jtext t = { 0 };

	plan_op_to_jtext(op, &t);
	return jtext_parse(&t);
}

json_object *plan_to_json(const struct plan *p)
{
	struct jtext t = { 0 };

	plan_to_jtext(p, &t);
	return jtext_parse(&t);
}

/* A refusal that means "this driver cannot", not "try again later". */
static bool is_refusal(int err)
{
	return err == EOPNOTSUPP || err == EINVAL || err == EPROTONOSUPPORT || err == ENOTSUP;
}

bool plan_learn(struct nic_caps *caps, const struct plan_op *op, const struct kerror *err)
{
	struct nic_cap *c = NULL;

	/* A bind refused for the whole NIC is remembered by the binder backend
	 * (binder-mgr makes it the NIC's PROBE verdict): planning again leaves
	 * zero-copy out with the module's reason and keeps the steering.  A
	 * refusal for one queue and tap teaches nothing about the NIC (exec
	 * hands it to env->bind_refused; the planner gets it back in
	 * plan_binder.refused). */
	if (err && err->err && op->kind == PLAN_OP_BIND)
		return binder_refusal_is_nic_wide(err->err);
	/* No room for one more context: the driver has them, but not one
	 * more while ctx_count exist.  Planning again gives the vNIC one
	 * queue instead, and a context once there are fewer. */
	if (err && err->err == ENOSPC && op->kind == PLAN_OP_RSS_CREATE) {
		if (caps->rss_contexts_room.state == NIC_CAP_NO &&
		    caps->rss_contexts_full == op->ctx_count)
			return false; /* the same answer again: nothing new */
		nic_cap_set(&caps->rss_contexts_room, NIC_CAP_NO, err->err,
			    err->msg[0] ? err->msg : strerror(err->err));
		caps->rss_contexts_full = op->ctx_count;
		return true;
	}
	if (!err || !is_refusal(err->err))
		return false;
	switch (op->kind) {
	case PLAN_OP_RULE_INSERT:
		/* per kind: a driver that refuses MAC rules to a context
		 * (bnxt has no FLOW_RSS with ETHER_FLOW) may take MAC rules
		 * to a queue, and the context itself was made */
		c = nic_rule_kind_cap(caps, op->rule.match, op->rule.action);
		break;
	case PLAN_OP_RSS_CREATE:
		c = &caps->rss_contexts;
		break;
	case PLAN_OP_RSS_SET:
		if (op->ctx == 0)
			c = &caps->rss_set;
		break;
	case PLAN_OP_SET_FEATURE:
		c = &caps->ntuple;
		break;
	case PLAN_OP_SET_RINGS:
		c = &caps->header_split;
		break;
	case PLAN_OP_SET_CHANNELS:
		c = &caps->channels_set;
		break;
	case PLAN_OP_UNBIND:
	case PLAN_OP_RULE_DELETE:
	case PLAN_OP_RSS_DELETE:
	case PLAN_OP_FORGET:
	case PLAN_OP_UNLEASE:
	case PLAN_OP_LEASE:
	case PLAN_OP_BIND:
		break;
	}
	if (!c || c->state == NIC_CAP_NO)
		return false;
	nic_cap_set(c, NIC_CAP_NO, err->err, err->msg[0] ? err->msg : strerror(err->err));
	return true;
}

void plan_learn_ok(struct nic_caps *caps, const struct plan_op *op)
{
	struct nic_cap *c = NULL;

	if (op->kind == PLAN_OP_RULE_INSERT) {
		c = nic_rule_kind_cap(caps, op->rule.match, op->rule.action);
		if (c && c->state == NIC_CAP_UNKNOWN)
			nic_cap_set(c, NIC_CAP_YES, 0, "a rule of this kind was accepted");
		if (op->rule.action == NIC_RULE_ACTION_CONTEXT &&
		    caps->rss_contexts.state == NIC_CAP_UNKNOWN)
			nic_cap_set(&caps->rss_contexts, NIC_CAP_YES, 0,
				    "a rule to an RSS context was accepted");
	}
	/* one more made while as many as were learned full existed: the
	 * driver has more room than it said, ask again.  (A context freed
	 * teaches nothing: the planner counts the contexts left, and gives
	 * a context again once there are fewer than rss_contexts_full.) */
	if (op->kind == PLAN_OP_RSS_CREATE && caps->rss_contexts_room.state == NIC_CAP_NO &&
	    op->ctx_count >= caps->rss_contexts_full)
		nic_cap_set(&caps->rss_contexts_room, NIC_CAP_UNKNOWN, 0, "");
}
