// SPDX-License-Identifier: MIT
/* Unit tests: the planner's policies, one table test each (zcrxd/plan.c),
 * applied through exec.c to the test-only fake NIC. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "plan-harness.h"

static struct harness *new_h(const struct fake_nic_cfg *cfg)
{
	struct harness *h = malloc(sizeof(*h));

	assert_non_null(h);
	harness_init(h, cfg);
	return h;
}

static struct harness *capable(void)
{
	struct fake_nic_cfg cfg;

	fake_nic_cfg_capable(&cfg, "eth0");
	return new_h(&cfg);
}

static void del_h(struct harness *h)
{
	harness_free(h);
	free(h);
}

static const struct plan_op *find_op(const struct plan *p, enum plan_op_kind k, size_t *ret_i)
{
	size_t i;

	for (i = 0; i < p->n_ops; i++)
		if (p->ops[i].kind == k) {
			if (ret_i)
				*ret_i = i;
			return &p->ops[i];
		}
	return NULL;
}

static ssize_t op_index(const struct plan *p, enum plan_op_kind k)
{
	size_t i;

	return find_op(p, k, &i) ? (ssize_t)i : -1;
}

static void ethtool_is(const struct plan_op *op, const char *want)
{
	char buf[1200];

	assert_non_null(op);
	plan_op_ethtool(op, buf, sizeof(buf));
	if (strcmp(buf, want))
		fprintf(stderr, "ethtool: got '%s' want '%s'\n", buf, want);
	assert_string_equal(buf, want);
}

static bool has_note(const struct plan *p, const char *code, const char *needle)
{
	size_t i;

	for (i = 0; i < p->n_notes; i++)
		if (!strcmp(p->notes[i].code, code) && strstr(p->notes[i].msg, needle))
			return true;
	return false;
}

static const struct attach_reason *reason_of(const struct attach *a, const char *code)
{
	size_t i;

	for (i = 0; i < a->res.n_reasons; i++)
		if (!strcmp(a->res.reasons[i].code, code))
			return &a->res.reasons[i];
	return NULL;
}

static const char *reason_msg(const struct attach *a, const char *code)
{
	const struct attach_reason *r = reason_of(a, code);

	return r ? r->msg : "(no such reason)";
}

static char *dump(struct harness *h)
{
	char *s = fake_net_dump(h->net, h->ifindex);

	assert_non_null(s);
	return s;
}

/* The fake NIC dumps as expect (a dump() from before). */
static void assert_dump(struct harness *h, const char *expect)
{
	char *s = dump(h);

	assert_string_equal(s, expect);
	free(s);
}

static void assert_dump_differs(struct harness *h, const char *before)
{
	char *s = dump(h);

	assert_string_not_equal(s, before);
	free(s);
}

/* --- pool ----------------------------------------------------------------------- */

static void test_pool_count_from_top(void **state)
{
	struct harness *h = capable();
	struct plan p;
	const struct plan_op *op;
	uint32_t i;

	harness_policy(h, 2, 0);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(p.n_pool, 2);
	assert_int_equal(p.pool[0], 6);
	assert_int_equal(p.pool[1], 7);
	assert_int_equal(p.n_shared, 6);
	assert_int_equal(p.n_ops, 1);
	op = &p.ops[0];
	assert_int_equal(op->kind, PLAN_OP_RSS_SET);
	assert_int_equal(op->ctx, 0);
	assert_int_equal(op->prior, PLAN_PRIOR_RECORD);
	for (i = 0; i < op->n_indir; i++)
		assert_true(op->indir[i] < 6);
	ethtool_is(op, "ethtool -X eth0 equal 6");
	plan_clear(&p);

	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_true(h->j.has_rss0_prior);
	assert_int_equal(h->j.n_rss0_prior, 128);
	assert_int_equal(h->j.rss0_prior[7], 7); /* the driver default it replaced */
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	del_h(h);
}

static void test_pool_list(void **state)
{
	struct harness *h = capable();
	struct plan p;

	h->reserve_list[0] = 2;
	h->reserve_list[1] = 5;
	h->reserve_list[2] = 11; /* beyond the 8 queues: noted, skipped */
	h->pol.reserve_list = h->reserve_list;
	h->pol.n_reserve_list = 3;
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(p.n_pool, 2);
	assert_int_equal(p.pool[0], 2);
	assert_int_equal(p.pool[1], 5);
	assert_true(has_note(&p, ATTACH_R_POOL, "queue 11"));
	ethtool_is(find_op(&p, PLAN_OP_RSS_SET, NULL), "ethtool -X eth0 weight 22 22 0 21 21 0 21 21");
	plan_clear(&p);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	del_h(h);
}

static void test_pool_keeps_one_shared(void **state)
{
	struct harness *h = capable();
	struct plan p;

	harness_policy(h, 8, 0);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(p.n_pool, 7);
	assert_int_equal(p.n_shared, 1);
	assert_int_equal(p.shared[0], 0);
	assert_true(has_note(&p, ATTACH_R_POOL, "leaves no shared queue"));
	plan_clear(&p);
	del_h(h);
}

static void test_channels_grow_then_table(void **state)
{
	struct harness *h = capable();
	struct plan p;
	ssize_t ch, rss;

	harness_policy(h, 4, 12);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	ch = op_index(&p, PLAN_OP_SET_CHANNELS);
	rss = op_index(&p, PLAN_OP_RSS_SET);
	assert_true(ch >= 0 && rss > ch); /* grow first, then write the table */
	ethtool_is(&p.ops[ch], "ethtool -L eth0 combined 12");
	ethtool_is(&p.ops[rss], "ethtool -X eth0 equal 8");
	assert_int_equal(p.pool[0], 8);
	assert_int_equal(p.pool[3], 11);
	plan_clear(&p);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->nic.ch.combined, 12);
	assert_true(h->j.has_channels_prior);
	assert_int_equal(h->j.channels_prior.combined, 8);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	del_h(h);
}

static void test_channels_shrink_table_first(void **state)
{
	struct harness *h = capable();
	struct plan p;
	ssize_t ch, rss;

	harness_policy(h, 2, 6);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	ch = op_index(&p, PLAN_OP_SET_CHANNELS);
	rss = op_index(&p, PLAN_OP_RSS_SET);
	assert_true(rss >= 0 && ch > rss); /* table first, then shrink */
	ethtool_is(&p.ops[rss], "ethtool -X eth0 equal 4");
	plan_clear(&p);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->nic.ch.combined, 6);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);

	/* Channels= removed from the config: back to 8, table spread again */
	harness_policy(h, 2, 0);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->nic.ch.combined, 8);
	assert_false(h->j.has_channels_prior);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	del_h(h);
}

static void test_channels_refused_above_max(void **state)
{
	struct harness *h = capable();
	struct plan p;

	harness_policy(h, 2, 64);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(op_index(&p, PLAN_OP_SET_CHANNELS), -1);
	assert_true(has_note(&p, ATTACH_R_CHANNELS, "Channels=64 ignored"));
	plan_clear(&p);
	del_h(h);
}

static void test_shrink_blocked_by_foreign_rule(void **state)
{
	struct harness *h = capable();
	struct nic_rule r = { .location = 5, .match = NIC_RULE_MATCH_ETHER_DST,
			      .mac = { 2, 0, 0, 0, 0, 9 }, .action = NIC_RULE_ACTION_QUEUE,
			      .queue = 7 };
	struct plan p;

	assert_int_equal(fake_net_ext_set_ntuple(h->net, h->ifindex, true), 0);
	assert_int_equal(fake_net_ext_rule_insert(h->net, h->ifindex, &r), 0);
	harness_policy(h, 2, 4);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(op_index(&p, PLAN_OP_SET_CHANNELS), -1);
	assert_true(has_note(&p, ATTACH_R_CHANNELS, "rule 5"));
	/* and queue 7 is never carved into the pool */
	assert_int_equal(p.n_pool, 1);
	assert_int_equal(p.pool[0], 6);
	assert_true(has_note(&p, ATTACH_R_POOL, "queue 7 not reserved"));
	plan_clear(&p);
	del_h(h);
}

static void test_never_carve_provider_queue(void **state)
{
	struct harness *h = capable();
	struct plan p;

	assert_int_equal(fake_net_ext_set_provider(h->net, h->ifindex, 6, NIC_PROVIDER_IO_URING), 0);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(p.n_pool, 1);
	assert_int_equal(p.pool[0], 7);
	assert_true(has_note(&p, ATTACH_R_POOL, "memory provider"));
	plan_clear(&p);
	del_h(h);
}

/* --- attachments ------------------------------------------------------------------- */

static void test_single_queue_attach(void **state)
{
	struct harness *h = capable();
	struct attach *a;
	struct plan p;
	ssize_t feat, lease, ins;
	char *before, *after;

	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0); /* carve the pool */
	before = dump(h);
	a = harness_attach(h, "vm0", 1, 1);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	feat = op_index(&p, PLAN_OP_SET_FEATURE);
	lease = op_index(&p, PLAN_OP_LEASE);
	ins = op_index(&p, PLAN_OP_RULE_INSERT);
	assert_true(feat >= 0 && lease > feat && ins > lease);
	assert_int_equal(p.n_ops, 3);
	ethtool_is(&p.ops[feat], "ethtool -K eth0 ntuple on");
	ethtool_is(&p.ops[ins],
		   "ethtool -N eth0 flow-type ether dst 52:54:00:00:00:01 action 6 loc 1023");
	assert_int_equal(p.ops[lease].queue, 6);
	plan_clear(&p);

	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	a = &h->atts[0];
	assert_int_equal(a->res.n_queues, 1);
	assert_int_equal(a->res.queues[0].queue, 6);
	assert_int_equal(a->res.n_rules, 1);
	assert_int_equal(a->res.rule_locs[0], 1023);
	assert_string_equal(a->res.steering, "mac");
	/* no binder: degraded, and says why */
	assert_int_equal(a->res.state, ATTACH_STATE_DEGRADED);
	assert_non_null(reason_of(a, ATTACH_R_NO_ZEROCOPY));
	assert_null(reason_of(a, ATTACH_R_UNSTEERED));

	/* detach: the rule set and the RSS table are exactly as before */
	assert_true(harness_detach(h, 1));
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	after = dump(h);
	assert_string_equal(before, after);
	assert_int_equal(h->j.n_rules, 0);
	assert_int_equal(h->j.n_leases, 0);
	assert_false(h->j.has_ntuple_prior);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	free(before);
	free(after);
	del_h(h);
}

static void test_attach_idempotent(void **state)
{
	struct harness *h = capable();

	harness_attach(h, "vm0", 1, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	harness_attach(h, "vm0", 1, 1); /* same key: same attachment */
	assert_int_equal(h->n_atts, 1);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	del_h(h);
}

static void test_multi_queue_context(void **state)
{
	struct harness *h = capable();
	struct plan p;
	const struct plan_op *cr, *ins;
	size_t ci, ii;
	char *s;

	harness_policy(h, 4, 0);
	harness_attach(h, "vm0", 1, 2);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	cr = find_op(&p, PLAN_OP_RSS_CREATE, &ci);
	ins = find_op(&p, PLAN_OP_RULE_INSERT, &ii);
	assert_non_null(cr);
	assert_non_null(ins);
	assert_true(ii > ci);
	assert_int_equal(ins->rule.action, NIC_RULE_ACTION_CONTEXT);
	assert_int_equal(ins->ctx_op, (int)ci);
	assert_int_equal(cr->n_ctx_queues, 2);
	assert_int_equal(cr->ctx_queues[0], 4);
	assert_int_equal(cr->ctx_queues[1], 5);
	/* the lines in order are a script: the rule uses the new id */
	{
		char want[256], mac[18];

		snprintf(want, sizeof(want),
			 "CTX%zu=$(ethtool -X eth0 context new start 4 equal 2 | "
			 "sed -n 's/^New RSS context is //p')",
			 ci + 1);
		ethtool_is(cr, want);
		snprintf(want, sizeof(want),
			 "ethtool -N eth0 flow-type ether dst %s context $CTX%zu loc %u",
			 nic_mac_format(h->atts[0].id.mac, mac), ci + 1, ins->rule.location);
		ethtool_is(ins, want);
		plan_op_describe(ins, want, sizeof(want));
		assert_non_null(strstr(want, "the context of step"));
	}
	plan_clear(&p);

	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	assert_true(h->atts[0].res.has_context);
	assert_int_equal(h->atts[0].res.rss_context, 1);
	assert_int_equal(h->atts[0].res.n_queues, 2);
	s = dump(h);
	assert_non_null(strstr(s, " ctx 1 4,5,4,5"));
	assert_non_null(strstr(s, "act 1 q 0 ctx 1"));
	free(s);

	/* shrink to one queue: rule re-pointed, context deleted */
	h->atts[0].id.queues = 1;
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	s = dump(h);
	assert_null(strstr(s, " ctx 1"));
	free(s);
	assert_false(h->atts[0].res.has_context);
	assert_int_equal(h->j.n_ctxs, 0);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	del_h(h);
}

static void test_multi_queue_without_contexts(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;

	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.rss_contexts = false;
	h = new_h(&cfg);
	harness_policy(h, 4, 0);
	harness_attach(h, "vm0", 1, 3);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->atts[0].res.n_queues, 1);
	assert_non_null(reason_of(&h->atts[0], ATTACH_R_NO_CONTEXT));
	assert_int_equal(h->atts[0].res.state, ATTACH_STATE_DEGRADED);
	del_h(h);
}

static void test_l2_refused_falls_back_to_ip(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;
	struct attach *a;
	char *before, *s;

	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.l2_rules = false;
	h = new_h(&cfg);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	before = dump(h);
	a = harness_attach(h, "vm0", 1, 1);
	inet_pton(AF_INET, "10.0.0.2", &a->id.ip4[0]);
	a->id.n_ip4 = 1;
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_int_equal(h->learned.l2_rules.state, NIC_CAP_NO);
	assert_string_equal(h->atts[0].res.steering, "ip");
	s = dump(h);
	assert_non_null(strstr(s, "match 2")); /* IP4_DST */
	free(s);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);

	/* a second vNIC without addresses: unsteered, with the kernel's words */
	harness_attach(h, "vm1", 2, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	{
		const struct attach_reason *r = reason_of(&h->atts[1], ATTACH_R_UNSTEERED);

		assert_non_null(r);
		assert_non_null(strstr(reason_msg(&h->atts[1], ATTACH_R_UNSTEERED),
				       "fake: ETHER_FLOW rules not supported"));
		assert_non_null(strstr(reason_msg(&h->atts[1], ATTACH_R_UNSTEERED),
				       "ip: the vNIC's IP addresses are not known"));
		assert_int_equal(r->err, EOPNOTSUPP);
		assert_string_equal(r->nic, "eth0");
	}
	assert_int_equal(h->atts[1].res.state, ATTACH_STATE_DEGRADED);
	assert_int_equal(h->atts[1].res.n_queues, 1); /* still leased */
	harness_detach(h, 1);
	harness_detach(h, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_dump(h, before);
	free(before);
	del_h(h);
}

static void test_steering_order_ip_first(void **state)
{
	struct harness *h = capable();
	struct attach *a;
	struct plan p;
	const struct plan_op *ins;

	h->pol.steering[0] = CONFIG_STEERING_IP;
	h->pol.steering[1] = CONFIG_STEERING_MAC;
	a = harness_attach(h, "vm0", 1, 1);
	inet_pton(AF_INET6, "fd00::2", &a->id.ip6[0]);
	a->id.n_ip6 = 1;
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	ins = find_op(&p, PLAN_OP_RULE_INSERT, NULL);
	ethtool_is(ins, "ethtool -N eth0 flow-type ip6 dst-ip fd00::2 action 6 loc 1023");
	plan_clear(&p);
	del_h(h);
}

static void test_numa_preference(void **state)
{
	struct harness *h = capable();
	struct attach *a;

	harness_policy(h, 4, 0); /* pool 4..7; queue q sits on node q % 2 */
	a = harness_attach(h, "vm0", 1, 1);
	a->id.numa_node = 1;
	a = harness_attach(h, "vm1", 2, 1);
	a->id.numa_node = 0;
	a = harness_attach(h, "vm2", 3, 1); /* node unknown: first free in order */
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->atts[0].res.queues[0].queue, 5);
	assert_int_equal(h->atts[1].res.queues[0].queue, 4);
	assert_int_equal(h->atts[2].res.queues[0].queue, 6);
	del_h(h);
}

static void test_exhaustion_degrade(void **state)
{
	struct harness *h = capable();

	harness_policy(h, 1, 0);
	harness_attach(h, "vm0", 1, 1);
	harness_attach(h, "vm1", 2, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->atts[0].res.n_queues, 1);
	assert_int_equal(h->atts[1].res.n_queues, 0);
	assert_int_equal(h->atts[1].res.state, ATTACH_STATE_DEGRADED);
	assert_non_null(reason_of(&h->atts[1], ATTACH_R_POOL_EXHAUSTED));
	assert_int_equal(h->j.n_rules, 1);
	/* the first leaves: the second gets the queue */
	harness_detach(h, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->atts[0].res.n_queues, 1);
	assert_null(reason_of(&h->atts[0], ATTACH_R_POOL_EXHAUSTED));
	del_h(h);
}

static void test_exhaustion_fail(void **state)
{
	struct harness *h = capable();
	struct plan p;

	harness_policy(h, 2, 0);
	h->pol.on_exhaustion = CONFIG_ON_EXHAUSTION_FAIL;
	harness_attach(h, "vm0", 1, 1);
	harness_attach(h, "vm1", 2, 2); /* wants 2, only 1 left */
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_true(p.exhausted);
	assert_int_equal(p.results[1].state, ATTACH_STATE_FAILED);
	assert_int_equal(p.results[1].n_queues, 0);
	assert_true(attach_result_has_reason(&p.results[1], ATTACH_R_POOL_EXHAUSTED));
	assert_int_equal(p.results[0].n_queues, 1);
	plan_clear(&p);
	del_h(h);
}

/* Attachments with the same reason share its text (memory with thousands
 * of attachments); copies keep it alive after the plan is gone. */
static void test_same_reasons_share_text(void **state)
{
	struct harness *h = capable();
	struct attach_result copy;
	const struct attach_reason *a, *b, *c;
	struct plan p;
	size_t i;

	harness_policy(h, 1, 0);
	for (i = 0; i < 4; i++)
		harness_attach(h, "vm", (unsigned)i + 1, 1);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(p.n_results, 4);
	for (i = 1; i < 4; i++)
		assert_int_equal(p.results[i].n_queues, 0);
	a = &p.results[1].reasons[0];
	b = &p.results[2].reasons[0];
	c = &p.results[3].reasons[0];
	assert_string_equal(a->code, ATTACH_R_POOL_EXHAUSTED);
	assert_ptr_equal(a->msg, b->msg);
	assert_ptr_equal(a->msg, c->msg);
	assert_true(attach_reason_is(a, ATTACH_R_POOL_EXHAUSTED, "eth0", a->op, ENOSPC, a->msg));
	assert_false(attach_reason_is(a, ATTACH_R_POOL_EXHAUSTED, "eth1", a->op, ENOSPC, a->msg));
	assert_int_equal(attach_result_copy(&copy, &p.results[2]), 0);
	plan_clear(&p);
	assert_string_equal(copy.reasons[0].code, ATTACH_R_POOL_EXHAUSTED);
	assert_non_null(strstr(copy.reasons[0].msg, "pool exhausted"));
	assert_int_equal(copy.reasons[0].err, ENOSPC);
	attach_result_clear(&copy);
	/* capped as before: a code longer than 23 bytes is cut */
	{
		struct attach_reason r;

		assert_int_equal(attach_reason_set(&r, "0123456789012345678901234567", "eth0",
						   "op", -EINVAL, "m"),
				 0);
		assert_string_equal(r.code, "01234567890123456789012");
		assert_int_equal(r.err, EINVAL);
		attach_reason_clear(&r);
	}
	del_h(h);
}

static void test_partial_degrade(void **state)
{
	struct harness *h = capable();

	harness_policy(h, 3, 0);
	harness_attach(h, "vm0", 1, 2);
	harness_attach(h, "vm1", 2, 2); /* gets 1 of 2 */
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->atts[1].res.n_queues, 1);
	assert_non_null(reason_of(&h->atts[1], ATTACH_R_PARTIAL));
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	del_h(h);
}

static void test_veth_unsteered_with_kernel_reason(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;
	const struct attach_reason *r;
	char *pristine;

	fake_nic_cfg_veth(&cfg, "zxp0");
	h = new_h(&cfg);
	pristine = dump(h);
	harness_policy(h, 1, 4);
	harness_attach(h, "vm0", 1, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->nic.ch.rx, 4);
	assert_int_equal(h->atts[0].res.n_queues, 1);
	assert_int_equal(h->atts[0].res.queues[0].queue, 3);
	r = reason_of(&h->atts[0], ATTACH_R_UNSTEERED);
	assert_non_null(r);
	assert_int_equal(r->err, EOPNOTSUPP);
	assert_non_null(strstr(reason_msg(&h->atts[0], ATTACH_R_UNSTEERED), "Operation not supported"));
	assert_non_null(reason_of(&h->atts[0], ATTACH_R_SHARED));
	assert_int_equal(h->atts[0].res.state, ATTACH_STATE_DEGRADED);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	/* release: channel count back */
	harness_detach(h, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_RELEASE, 3), 0);
	assert_dump(h, pristine);
	assert_true(journal_nic_empty(&h->j));
	free(pristine);
	del_h(h);
}

/* --- release, drift, reconcile ---------------------------------------------------- */

static void test_release_restores_everything(void **state)
{
	struct harness *h = capable();
	char *pristine;
	struct plan p;
	ssize_t rule, ctx, rss, ch, feat;

	pristine = dump(h);
	harness_policy(h, 4, 12);
	harness_attach(h, "vm0", 1, 2);
	harness_attach(h, "vm1", 2, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_dump_differs(h, pristine);

	harness_observe(h);
	harness_plan(h, PLAN_MODE_RELEASE, &p);
	rule = op_index(&p, PLAN_OP_RULE_DELETE);
	ctx = op_index(&p, PLAN_OP_RSS_DELETE);
	rss = op_index(&p, PLAN_OP_RSS_SET);
	ch = op_index(&p, PLAN_OP_SET_CHANNELS);
	feat = op_index(&p, PLAN_OP_SET_FEATURE);
	/* rules before contexts before the table before the channel shrink */
	assert_true(rule >= 0 && ctx > rule && rss > ctx && ch > rss && feat > rule);
	assert_int_equal(p.results[0].state, ATTACH_STATE_FAILED);
	plan_clear(&p);

	assert_int_equal(harness_apply(h, PLAN_MODE_RELEASE, 3), 0);
	assert_dump(h, pristine);
	assert_true(journal_nic_empty(&h->j));
	free(pristine);
	del_h(h);
}

/* The driver's own default table was in place before zcrxd: release hands the
 * table back to the driver (a reset) rather than writing the same numbers as
 * a user table, which would pin the queues against later channel changes. */
static void test_release_resets_a_default_table(void **state)
{
	struct harness *h = capable();
	char *pristine;
	struct plan p;
	const struct plan_op *op;

	pristine = dump(h);
	harness_policy(h, 2, 0);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_dump_differs(h, pristine);

	harness_observe(h);
	harness_plan(h, PLAN_MODE_RELEASE, &p);
	op = find_op(&p, PLAN_OP_RSS_SET, NULL);
	assert_non_null(op);
	assert_int_equal(op->n_indir, 0);
	ethtool_is(op, "ethtool -X eth0 default");
	plan_clear(&p);
	assert_int_equal(harness_apply(h, PLAN_MODE_RELEASE, 3), 0);
	assert_dump(h, pristine);
	free(pristine);
	del_h(h);
}

static void test_rule_deleted_outside_is_repaired(void **state)
{
	struct harness *h = capable();
	struct plan p;
	char *good;

	harness_attach(h, "vm0", 1, 1);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	for (size_t i = 0; i < p.n_ops; i++)
		assert_false(p.ops[i].repair); /* making is no repair */
	plan_clear(&p);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	good = dump(h);
	assert_int_equal(fake_net_ext_rule_delete(h->net, h->ifindex, 1023), 0);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(p.n_ops, 2);
	assert_int_equal(p.ops[0].kind, PLAN_OP_FORGET);
	assert_int_equal(p.ops[1].kind, PLAN_OP_RULE_INSERT);
	assert_non_null(strstr(p.ops[0].reason, "deleted outside zcrxd"));
	assert_non_null(strstr(p.ops[1].reason, "repair"));
	assert_true(p.ops[1].repair);
	plan_clear(&p);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_dump(h, good);
	free(good);
	del_h(h);
}

static void test_foreign_rule_in_our_slot(void **state)
{
	struct harness *h = capable();
	struct nic_rule r = { .location = 1023, .match = NIC_RULE_MATCH_ETHER_DST,
			      .mac = { 2, 0, 0, 0, 0, 9 }, .action = NIC_RULE_ACTION_QUEUE,
			      .queue = 1 };
	char *s;

	harness_attach(h, "vm0", 1, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	/* someone deletes our rule and puts their own in the slot */
	assert_int_equal(fake_net_ext_rule_delete(h->net, h->ifindex, 1023), 0);
	assert_int_equal(fake_net_ext_rule_insert(h->net, h->ifindex, &r), 0);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	s = dump(h);
	assert_non_null(strstr(s, "rule 1023 match 1 mac 02:00:00:00:00:09")); /* untouched */
	assert_non_null(strstr(s, "rule 1022 match 1 mac 52:54:00:00:00:01"));
	free(s);
	/* release leaves the foreign rule and ntuple on */
	harness_detach(h, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_RELEASE, 3), 0);
	s = dump(h);
	assert_non_null(strstr(s, "rule 1023 match 1 mac 02:00:00:00:00:09"));
	assert_null(strstr(s, "52:54:00:00:00:01"));
	assert_non_null(strstr(s, "ntuple 1"));
	free(s);
	del_h(h);
}

static void test_channels_changed_outside(void **state)
{
	struct harness *h = capable();

	harness_policy(h, 2, 0);
	harness_attach(h, "vm0", 1, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->atts[0].res.queues[0].queue, 6);
	/* an operator adds channels: pool moves to the top, the lease follows */
	assert_int_equal(fake_net_ext_set_channels(h->net, h->ifindex, 10, 0), 0);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->atts[0].res.queues[0].queue, 8);
	assert_int_equal(h->atts[0].res.n_rules, 1);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	del_h(h);
}

static void test_context_deleted_outside(void **state)
{
	struct harness *h = capable();

	harness_policy(h, 4, 0);
	harness_attach(h, "vm0", 1, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	/* the rule pins the context, so delete rule and context behind our back */
	assert_int_equal(fake_net_ext_rule_delete(h->net, h->ifindex, 1023), 0);
	assert_int_equal(fake_net_ext_rss_delete(h->net, h->ifindex, 1), 0);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_true(h->atts[0].res.has_context);
	assert_int_equal(h->atts[0].res.n_rules, 1);
	assert_int_equal(h->j.n_ctxs, 1);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	del_h(h);
}

static void test_unmanaged_nic_cleaned_up(void **state)
{
	struct harness *h = capable();
	struct plan p;
	struct plan_input in = { 0 };
	const struct attach *none[1];
	char *pristine = dump(h);

	harness_attach(h, "vm0", 1, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	harness_detach(h, 1);
	/* the NIC's section is gone from the config: undo what we own */
	harness_observe(h);
	in.policy = NULL;
	in.nic = &h->nic;
	in.journal = &h->j;
	in.atts = none;
	assert_int_equal(plan_nic(&in, &p), 0);
	assert_true(p.n_ops > 0);
	{
		struct exec_env env = { .nic = fake_net_backend(h->net) };
		struct exec_result res;

		assert_int_equal(exec_plan(&env, &p, &h->j, &res), 0);
	}
	plan_clear(&p);
	assert_dump(h, pristine);
	assert_true(journal_nic_empty(&h->j));
	free(pristine);
	del_h(h);
}

/* --- zero-copy bindings ------------------------------------------------------------ */

static void test_binding_needs_hds(void **state)
{
	struct harness *h = capable();
	struct plan p;
	ssize_t rings, bind, ins;
	char *pristine = dump(h);

	harness_enable_binder(h, BINDER_FEATURE_NEEDS_HDS);
	harness_attach(h, "vm0", 1, 1);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	rings = op_index(&p, PLAN_OP_SET_RINGS);
	ins = op_index(&p, PLAN_OP_RULE_INSERT);
	bind = op_index(&p, PLAN_OP_BIND);
	assert_true(rings >= 0 && ins > rings && bind > ins);
	ethtool_is(&p.ops[rings], "ethtool -G eth0 tcp-data-split on hds-thresh 0");
	assert_int_equal(p.results[0].state, ATTACH_STATE_PENDING);
	plan_clear(&p);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->sb.n, 1);
	assert_int_equal(h->sb.v[0].queue, 6);
	assert_int_equal(h->sb.v[0].tap_ifindex, 101);
	assert_int_equal(h->atts[0].res.state, ATTACH_STATE_ACTIVE);
	assert_true(h->atts[0].res.queues[0].bound);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);

	/* a channel change unbinds first and binds again last */
	harness_policy(h, 2, 10);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(p.ops[0].kind, PLAN_OP_UNBIND);
	assert_int_equal(p.ops[p.n_ops - 1].kind, PLAN_OP_BIND);
	assert_true(op_index(&p, PLAN_OP_SET_CHANNELS) > 0);
	plan_clear(&p);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->sb.n, 1);
	assert_int_equal(h->sb.v[0].queue, 8);

	/* release: unbind before the rings are restored */
	harness_detach(h, 1);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_RELEASE, &p);
	assert_int_equal(p.ops[0].kind, PLAN_OP_UNBIND);
	assert_true(op_index(&p, PLAN_OP_SET_RINGS) > 0);
	plan_clear(&p);
	assert_int_equal(harness_apply(h, PLAN_MODE_RELEASE, 3), 0);
	assert_int_equal(h->sb.n, 0);
	assert_dump(h, pristine);
	free(pristine);
	del_h(h);
}

static void test_binding_hds_off_is_degraded(void **state)
{
	struct harness *h = capable();

	harness_enable_binder(h, BINDER_FEATURE_NEEDS_HDS);
	h->pol.header_split = CONFIG_HEADER_SPLIT_OFF;
	harness_attach(h, "vm0", 1, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->sb.n, 0);
	assert_int_equal(h->atts[0].res.state, ATTACH_STATE_DEGRADED);
	assert_non_null(strstr(reason_msg(&h->atts[0], ATTACH_R_NO_ZEROCOPY), "HeaderSplit=off"));
	del_h(h);
}

static void test_binding_module_absent(void **state)
{
	struct harness *h = capable();
	const struct attach_reason *r;

	harness_enable_binder(h, 0);
	h->sb.available = false;
	harness_attach(h, "vm0", 1, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	r = reason_of(&h->atts[0], ATTACH_R_NO_ZEROCOPY);
	assert_non_null(r);
	assert_non_null(strstr(reason_msg(&h->atts[0], ATTACH_R_NO_ZEROCOPY),
			       "kernel module vhost_zcrx not available"));
	assert_int_equal(h->atts[0].res.n_rules, 1); /* steering still happens */
	del_h(h);
}

static void test_binding_lost_is_rebound(void **state)
{
	struct harness *h = capable();

	harness_enable_binder(h, 0);
	harness_attach(h, "vm0", 1, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->sb.n, 1);
	h->sb.n = 0; /* the module tore it down */
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->sb.n, 1);
	assert_int_equal(h->j.n_bindings, 1);
	assert_int_equal(h->j.bindings[0].id, h->sb.v[0].id);
	del_h(h);
}

/* The caller remembers a BIND the module refused for one queue and tap: the
 * planner leaves that queue out, keeps the steering and the attachment's
 * other queue bound, names the reason with the module's errno and text, and
 * keeps header split on for the retry; another attachment still binds.  A
 * moved tap is a new question. */
static void test_binding_refused_queue(void **state)
{
	struct harness *h = capable();
	struct plan_bind_refusal rf = { 0 };
	const struct attach_result *r;
	const struct plan_op *op;
	struct plan p;
	size_t i, n_bind = 0;
	uint32_t q1;

	harness_enable_binder(h, BINDER_FEATURE_NEEDS_HDS);
	harness_policy(h, 4, 0);
	harness_attach(h, "vm0", 1, 2);
	harness_attach(h, "vm1", 2, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->sb.n, 3);
	/* the module tore vm0's second queue down, and refuses it now */
	q1 = h->atts[0].res.queues[1].queue;
	for (i = 0; i < h->sb.n; i++)
		if (h->sb.v[i].queue == q1)
			h->sb.v[i] = h->sb.v[--h->sb.n];
	rf.queue = q1;
	rf.tap_ifindex = 101;
	kerror_set(&rf.err, EBUSY, "eth0", "bind", "queue has another memory provider");
	harness_observe(h);
	h->pb.refused = &rf;
	h->pb.n_refused = 1;
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	/* forget the binding that is gone, nothing else: no BIND, no rule,
	 * no header split change */
	for (i = 0; i < p.n_ops; i++) {
		assert_true(p.ops[i].kind == PLAN_OP_FORGET);
		assert_int_equal(p.ops[i].forget, PLAN_FORGET_BINDING);
	}
	r = &p.results[0];
	assert_int_equal(r->state, ATTACH_STATE_DEGRADED);
	assert_true(r->queues[0].bound);
	assert_false(r->queues[1].bound);
	assert_int_equal(r->n_rules, 1);
	for (i = 0; i < r->n_reasons; i++)
		if (!strcmp(r->reasons[i].code, ATTACH_R_NO_ZEROCOPY))
			break;
	assert_true(i < r->n_reasons);
	assert_int_equal(r->reasons[i].err, EBUSY);
	assert_non_null(strstr(r->reasons[i].msg, "refused to bind queue"));
	assert_non_null(strstr(r->reasons[i].msg, "queue has another memory provider"));
	assert_int_equal(p.results[1].state, ATTACH_STATE_ACTIVE);
	plan_clear(&p);

	/* both queues refused: still steered, header split kept for the retry */
	harness_observe(h);
	h->pb.refused = &rf;
	h->pb.n_refused = 1;
	rf.queue = h->atts[0].res.queues[0].queue;
	{
		struct plan_bind_refusal two[2] = { rf, rf };

		two[1].queue = q1;
		h->pb.refused = two;
		h->pb.n_refused = 2;
		harness_plan(h, PLAN_MODE_NORMAL, &p);
		assert_int_equal(op_index(&p, PLAN_OP_BIND), -1);
		assert_int_equal(op_index(&p, PLAN_OP_SET_RINGS), -1);
		assert_int_equal(op_index(&p, PLAN_OP_RULE_DELETE), -1);
		assert_int_equal(p.results[0].n_rules, 1);
		plan_clear(&p);
	}

	/* the refusal was for another tap: the queue is asked again */
	harness_observe(h);
	rf.queue = q1;
	rf.tap_ifindex = 999;
	h->pb.refused = &rf;
	h->pb.n_refused = 1;
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	for (i = 0; i < p.n_ops; i++)
		n_bind += p.ops[i].kind == PLAN_OP_BIND;
	assert_int_equal(n_bind, 1);
	op = find_op(&p, PLAN_OP_BIND, NULL);
	assert_int_equal(op->queue, q1);
	plan_clear(&p);
	del_h(h);
}

/* --- rebalance ------------------------------------------------------------------ */

static void test_rebalance_compacts_and_numa(void **state)
{
	struct harness *h = capable();
	struct plan p;
	struct attach *a;

	harness_policy(h, 4, 0); /* pool 4,5,6,7 */
	harness_attach(h, "vm0", 1, 1);
	harness_attach(h, "vm1", 2, 1);
	harness_attach(h, "vm2", 3, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->atts[2].res.queues[0].queue, 6);
	harness_detach(h, 1); /* frees queue 4: vm1 on 5, vm2 on 6 */
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	/* normal planning never moves; rebalance compacts */
	harness_observe(h);
	harness_plan(h, PLAN_MODE_REBALANCE, &p);
	assert_non_null(find_op(&p, PLAN_OP_UNLEASE, NULL));
	plan_clear(&p);
	assert_int_equal(harness_apply(h, PLAN_MODE_REBALANCE, 3), 0);
	a = h->atts[0].id.mac[5] == 2 ? &h->atts[0] : &h->atts[1];
	assert_int_equal(a->res.queues[0].queue, 4);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_REBALANCE), 0);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);

	/* NUMA: vm on node 1 sitting on queue 4 (node 0) moves to 5 */
	harness_detach(h, 2);
	harness_detach(h, 3);
	a = harness_attach(h, "vm4", 4, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->atts[0].res.queues[0].queue, 4);
	h->atts[0].id.numa_node = 1; /* learned later */
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	assert_int_equal(harness_apply(h, PLAN_MODE_REBALANCE, 3), 0);
	assert_int_equal(h->atts[0].res.queues[0].queue, 5);
	assert_null(reason_of(&h->atts[0], ATTACH_R_NUMA));
	del_h(h);
}

static void test_rebalance_threshold(void **state)
{
	struct harness *h = capable();
	struct plan_input in = { 0 };
	const struct attach *ptrs[1];
	struct plan p;

	harness_policy(h, 4, 0);
	harness_attach(h, "vm0", 1, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0); /* queues 4,5: one local each */
	h->atts[0].id.numa_node = 0;
	harness_observe(h);
	ptrs[0] = &h->atts[0];
	in.policy = &h->pol;
	in.nic = &h->nic;
	in.journal = &h->j;
	in.atts = ptrs;
	in.n_atts = 1;
	in.mode = PLAN_MODE_REBALANCE;
	in.rebalance.min_numa_gain = 2; /* 4,6 would gain one local queue only */
	in.rebalance.min_compact_gain = 1000;
	assert_int_equal(plan_nic(&in, &p), 0);
	assert_int_equal(p.n_ops, 0);
	plan_clear(&p);
	in.rebalance.min_numa_gain = 1;
	assert_int_equal(plan_nic(&in, &p), 0);
	assert_true(p.n_ops > 0);
	plan_clear(&p);
	del_h(h);
}

/* --- rendering and learning ------------------------------------------------------ */

static void test_render_json(void **state)
{
	struct harness *h = capable();
	struct plan p;
	json_object *o, *ops, *op0;

	harness_attach(h, "vm0", 1, 1);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	o = plan_to_json(&p);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "ops", &ops));
	assert_int_equal(json_object_array_length(ops), p.n_ops);
	op0 = json_object_array_get_idx(ops, 0);
	assert_true(json_object_object_get_ex(op0, "reason", NULL));
	assert_true(json_object_object_get_ex(op0, "ethtool", NULL));
	assert_true(json_object_object_get_ex(op0, "description", NULL));
	json_object_put(o);
	o = attach_result_to_json(&p.results[0]);
	assert_non_null(o);
	json_object_put(o);
	plan_clear(&p);
	del_h(h);
}

static void test_learn(void **state)
{
	struct nic_caps caps;
	struct plan_op op;
	struct kerror e;

	memset(&caps, 0, sizeof(caps));
	memset(&op, 0, sizeof(op));
	op.kind = PLAN_OP_RULE_INSERT;
	op.rule.match = NIC_RULE_MATCH_ETHER_DST;
	op.rule.action = NIC_RULE_ACTION_QUEUE;
	kerror_set(&e, EAGAIN, "eth0", "insert rule", "device down");
	assert_false(plan_learn(&caps, &op, &e)); /* transient: nothing learned */
	kerror_set(&e, EOPNOTSUPP, "eth0", "insert rule", "L2 rules unsupported");
	assert_true(plan_learn(&caps, &op, &e));
	assert_int_equal(caps.l2_rules.state, NIC_CAP_NO);
	assert_string_equal(caps.l2_rules.msg, "L2 rules unsupported");
	assert_false(plan_learn(&caps, &op, &e)); /* already known */

	/* a rule to a context: blamed on the match unless the match is known
	 * to work */
	memset(&caps, 0, sizeof(caps));
	op.rule.action = NIC_RULE_ACTION_CONTEXT;
	assert_true(plan_learn(&caps, &op, &e));
	assert_int_equal(caps.l2_rules.state, NIC_CAP_NO);
	assert_int_equal(caps.rss_contexts.state, NIC_CAP_UNKNOWN);
	memset(&caps, 0, sizeof(caps));
	op.rule.action = NIC_RULE_ACTION_QUEUE;
	plan_learn_ok(&caps, &op);
	assert_int_equal(caps.l2_rules.state, NIC_CAP_YES);
	op.rule.action = NIC_RULE_ACTION_CONTEXT;
	assert_true(plan_learn(&caps, &op, &e));
	assert_int_equal(caps.rss_contexts.state, NIC_CAP_NO);
	assert_int_equal(caps.l2_rules.state, NIC_CAP_YES);
}

static void test_duplicate_mac_rejected(void **state)
{
	struct harness *h = capable();
	struct attach *a;
	struct plan p;

	harness_attach(h, "vm0", 1, 1);
	a = &h->atts[h->n_atts++];
	attach_init(a);
	a->id = h->atts[0].id;
	snprintf(a->id.domain, sizeof(a->id.domain), "other");
	a->id.seq = 99;
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(p.results[0].n_queues, 1);
	assert_int_equal(p.results[1].state, ATTACH_STATE_FAILED);
	plan_clear(&p);
	del_h(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_count_from_top),
		cmocka_unit_test(test_pool_list),
		cmocka_unit_test(test_pool_keeps_one_shared),
		cmocka_unit_test(test_channels_grow_then_table),
		cmocka_unit_test(test_channels_shrink_table_first),
		cmocka_unit_test(test_channels_refused_above_max),
		cmocka_unit_test(test_shrink_blocked_by_foreign_rule),
		cmocka_unit_test(test_never_carve_provider_queue),
		cmocka_unit_test(test_single_queue_attach),
		cmocka_unit_test(test_attach_idempotent),
		cmocka_unit_test(test_multi_queue_context),
		cmocka_unit_test(test_multi_queue_without_contexts),
		cmocka_unit_test(test_l2_refused_falls_back_to_ip),
		cmocka_unit_test(test_steering_order_ip_first),
		cmocka_unit_test(test_numa_preference),
		cmocka_unit_test(test_exhaustion_degrade),
		cmocka_unit_test(test_exhaustion_fail),
		cmocka_unit_test(test_partial_degrade),
		cmocka_unit_test(test_veth_unsteered_with_kernel_reason),
		cmocka_unit_test(test_release_restores_everything),
		cmocka_unit_test(test_release_resets_a_default_table),
		cmocka_unit_test(test_rule_deleted_outside_is_repaired),
		cmocka_unit_test(test_foreign_rule_in_our_slot),
		cmocka_unit_test(test_channels_changed_outside),
		cmocka_unit_test(test_context_deleted_outside),
		cmocka_unit_test(test_unmanaged_nic_cleaned_up),
		cmocka_unit_test(test_binding_needs_hds),
		cmocka_unit_test(test_binding_hds_off_is_degraded),
		cmocka_unit_test(test_binding_module_absent),
		cmocka_unit_test(test_binding_lost_is_rebound),
		cmocka_unit_test(test_binding_refused_queue),
		cmocka_unit_test(test_rebalance_compacts_and_numa),
		cmocka_unit_test(test_rebalance_threshold),
		cmocka_unit_test(test_render_json),
		cmocka_unit_test(test_learn),
		cmocka_unit_test(test_duplicate_mac_rejected),
		cmocka_unit_test(test_same_reasons_share_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
