// SPDX-License-Identifier: MIT
/* Unit tests of the planner: steering (zcrxd/plan-steer.c): rules, RSS contexts, fallbacks, what refusals teach, outside changes to rules and contexts, rendering; one table test each, applied through
 * exec.c to the test-only fake NIC. */
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

#include "jtext.h"
#include "nic-json.h"
#include "plan-check.h"

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

/* A pool of 4 queues, vm0 attached with 1 queue, observed and planned into
 * P: the plan's rule insert (which must be there). */
static const struct plan_op *plan_vm0_rule(struct harness *h, struct plan *p)
{
	const struct plan_op *ins;

	harness_policy(h, 4, 0);
	harness_attach(h, "vm0", 1, 1);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, p);
	ins = find_op(p, PLAN_OP_RULE_INSERT, NULL);
	assert_non_null(ins);
	return ins;
}

/* Issue 9, bug 5: on a driver that picks the slot (RX_CLS_LOC_SPECIAL)
 * zcrxd asks for the last one (RX_CLS_LOC_LAST); ethtool -N cannot, so the
 * printed line says it is not exact there.  Elsewhere the line has its
 * loc and no such note. */
static void test_printed_rule_driver_picks(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;
	struct plan p;
	const struct plan_op *ins;
	char buf[512];

	(void)state;
	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.loc_special = true;
	h = new_h(&cfg);
	ins = plan_vm0_rule(h, &p);
	assert_int_equal(ins->rule.location, NIC_LOC_ANY);
	assert_true(ins->driver_picks);
	plan_op_ethtool(ins, buf, sizeof(buf));
	assert_null(strstr(buf, " loc "));
	assert_non_null(strstr(buf, "  # not exact: zcrxd asks the driver for its last slot "
				    "(RX_CLS_LOC_LAST), ethtool -N lets it pick any"));
	plan_clear(&p);
	del_h(h);

	h = capable();
	ins = plan_vm0_rule(h, &p);
	assert_false(ins->driver_picks);
	plan_op_ethtool(ins, buf, sizeof(buf));
	assert_non_null(strstr(buf, " loc "));
	assert_null(strstr(buf, "not exact"));
	plan_clear(&p);
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

/* The driver has contexts, but no room for one more (ENOSPC): the vNIC
 * that does not get one is attached with one queue and says why, and gets
 * its context once one is free (issue 9: exhaustion degrades honestly). */
static void test_contexts_exhausted_degrade_to_one_queue(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;
	const char *msg;

	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.max_contexts = 1;
	h = new_h(&cfg);
	harness_policy(h, 6, 0);
	harness_attach(h, "vm0", 1, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_true(h->atts[0].res.has_context);
	harness_attach(h, "vm1", 2, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_int_equal(h->held_count, 0); /* not held back: degraded */
	assert_int_equal(h->learned.rss_contexts_room.state, NIC_CAP_NO);
	assert_int_equal(h->learned.rss_contexts_full, 1);
	assert_int_equal(h->atts[1].res.state, ATTACH_STATE_DEGRADED);
	assert_int_equal(h->atts[1].res.n_queues, 1);
	assert_false(h->atts[1].res.has_context);
	msg = reason_msg(&h->atts[1], ATTACH_R_NO_CONTEXT);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "2 queues requested, using 1: no RSS context left (1 in use"));
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0); /* no retry */
	assert_int_equal(h->j.n_ctxs, 1);

	/* vm0 leaves: its context is deleted and, in the same plan, vm1 gets
	 * a context and both its queues (planning again finds nothing to do) */
	harness_detach(h, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	assert_int_equal(h->atts[0].res.n_queues, 2);
	assert_true(h->atts[0].res.has_context);
	assert_null(reason_of(&h->atts[0], ATTACH_R_NO_CONTEXT));
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	del_h(h);
}

/* The property test's seed 2, shape 971, reduced: no room for a second
 * context, OnExhaustion=fail; vm1 is held to one queue.  vm0 asks for more
 * queues than the pool can give it with a context, so its context goes:
 * the same plan gives vm1 both its queues and the freed context, and vm0,
 * now without a context and no room for one, one queue.  Planning again
 * finds nothing to do.  (Before, that took three plans, each one changing
 * the NIC again.) */
static void test_context_freed_in_the_plan_that_frees_it(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;

	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.max_contexts = 1;
	h = new_h(&cfg);
	harness_policy(h, 4, 0);
	h->pol.on_exhaustion = CONFIG_ON_EXHAUSTION_FAIL;
	harness_attach(h, "vm0", 1, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	harness_attach(h, "vm1", 2, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_int_equal(h->learned.rss_contexts_room.state, NIC_CAP_NO);
	assert_int_equal(h->atts[1].res.n_queues, 1);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);

	h->atts[0].id.queues = 4; /* more than the three vm1 leaves it */
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	assert_int_equal(h->atts[0].res.n_queues, 1);
	assert_false(h->atts[0].res.has_context);
	assert_non_null(reason_of(&h->atts[0], ATTACH_R_NO_CONTEXT));
	assert_int_equal(h->atts[1].res.n_queues, 2);
	assert_true(h->atts[1].res.has_context);
	assert_null(reason_of(&h->atts[1], ATTACH_R_NO_CONTEXT));
	assert_int_equal(h->j.n_ctxs, 1);
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
	assert_int_equal(attach_id_add_address(&a->id, "10.0.0.2"), 0);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_int_equal(h->learned.rule_kinds[0][NIC_RULE_ACTION_QUEUE].state, NIC_CAP_NO);
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
	assert_int_equal(attach_id_add_address(&a->id, "fd00::2"), 0);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	ins = find_op(&p, PLAN_OP_RULE_INSERT, NULL);
	ethtool_is(ins, "ethtool -N eth0 flow-type ip6 dst-ip fd00::2 action 6 loc 1023");
	plan_clear(&p);
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

/* The plan written as text (what an Attach reply carries) is byte for
 * byte what json-c writes for the same values: parsed and written again by
 * json-c, the same text; its ops and pool read back as the plan's. */
static void test_render_jtext(void **state)
{
	struct harness *h = capable();
	struct jtext t = { 0 };
	struct plan_op *op;
	struct plan p;
	json_object *o, *ops, *x;
	const char *again;
	char *text;
	size_t i;

	harness_attach(h, "vm0", 1, 1);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_true(p.n_ops > 0);
	/* every field the writer has: a repair, a located rule, a table, a
	 * reason to escape */
	op = &p.ops[p.n_ops - 1];
	op->repair = true;
	op->reason = "put \"back\" /\t\x01 \xc3\xa9";
	for (i = 0; i < p.n_ops; i++)
		if (p.ops[i].kind == PLAN_OP_RULE_INSERT)
			p.ops[i].rule.location = 1023;
	plan_to_jtext(&p, &t);
	assert_false(t.fail);
	text = strndup(t.s, t.n);
	assert_non_null(text);
	o = jtext_parse(&t);
	assert_non_null(o);
	again = json_object_to_json_string_ext(o, JTEXT_JSON_FLAGS);
	assert_string_equal(text, again);
	assert_true(json_object_object_get_ex(o, "ops", &ops));
	assert_int_equal(json_object_array_length(ops), p.n_ops);
	x = json_object_array_get_idx(ops, p.n_ops - 1);
	assert_true(json_object_object_get_ex(x, "repair", NULL));
	assert_true(json_object_object_get_ex(x, "reason", &x));
	assert_string_equal(json_object_get_string(x), op->reason);
	assert_true(json_object_object_get_ex(o, "pool", &x));
	assert_int_equal(json_object_array_length(x), p.n_pool);
	for (i = 0; i < p.n_pool; i++)
		assert_int_equal(json_object_get_int64(json_object_array_get_idx(x, i)), p.pool[i]);
	json_object_put(o);
	free(text);
	plan_clear(&p);
	del_h(h);
}

static void test_learn(void **state)
{
	struct nic_caps caps;
	struct nic_cap *eq, *ec;
	struct plan_op op;
	struct kerror e;

	memset(&caps, 0, sizeof(caps));
	memset(&op, 0, sizeof(op));
	eq = nic_rule_kind_cap(&caps, NIC_RULE_MATCH_ETHER_DST, NIC_RULE_ACTION_QUEUE);
	ec = nic_rule_kind_cap(&caps, NIC_RULE_MATCH_ETHER_DST, NIC_RULE_ACTION_CONTEXT);
	op.kind = PLAN_OP_RULE_INSERT;
	op.rule.match = NIC_RULE_MATCH_ETHER_DST;
	op.rule.action = NIC_RULE_ACTION_QUEUE;
	kerror_set(&e, EAGAIN, "eth0", "insert rule", "device down");
	assert_false(plan_learn(&caps, &op, &e)); /* transient: nothing learned */
	kerror_set(&e, EOPNOTSUPP, "eth0", "insert rule", "L2 rules unsupported");
	assert_true(plan_learn(&caps, &op, &e));
	assert_int_equal(eq->state, NIC_CAP_NO);
	assert_string_equal(eq->msg, "L2 rules unsupported");
	assert_false(plan_learn(&caps, &op, &e)); /* already known */
	assert_int_equal(ec->state, NIC_CAP_UNKNOWN); /* another kind: not learned */

	/* issue 9, bug 2: a rule to a context teaches about that kind only:
	 * neither MAC rules to a queue nor contexts themselves are blamed */
	memset(&caps, 0, sizeof(caps));
	op.rule.action = NIC_RULE_ACTION_CONTEXT;
	kerror_set(&e, EOPNOTSUPP, "eth0", "insert rule", NULL); /* the ioctl: no text */
	assert_true(plan_learn(&caps, &op, &e));
	assert_int_equal(ec->state, NIC_CAP_NO);
	assert_string_equal(ec->msg, strerror(EOPNOTSUPP));
	assert_int_equal(eq->state, NIC_CAP_UNKNOWN);
	assert_int_equal(caps.rss_contexts.state, NIC_CAP_UNKNOWN);
	memset(&caps, 0, sizeof(caps));
	op.rule.action = NIC_RULE_ACTION_QUEUE;
	plan_learn_ok(&caps, &op);
	assert_int_equal(eq->state, NIC_CAP_YES);
	op.rule.action = NIC_RULE_ACTION_CONTEXT;
	assert_true(plan_learn(&caps, &op, &e));
	assert_int_equal(ec->state, NIC_CAP_NO);
	assert_int_equal(eq->state, NIC_CAP_YES);
	assert_int_equal(caps.rss_contexts.state, NIC_CAP_UNKNOWN);
	/* kinds zcrxd never makes teach nothing */
	op.rule.match = NIC_RULE_MATCH_OTHER;
	assert_false(plan_learn(&caps, &op, &e));
}

/* Issue 9, bug 3: zcrxd's RSS writes (the default table, a context's
 * create, release's reset) leave the hash function and an admin's
 * symmetric-xor hashing alone.  The fake applies the SRSSH request zcrxd's
 * encoder builds, as a 6.8+ kernel does. */
static void test_rss_writes_keep_hash_settings(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;
	char *s;

	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.sym_xor = true;
	h = new_h(&cfg);
	s = dump(h);
	assert_non_null(strstr(s, " rss0 hash hfunc 1 xfrm 1\n"));
	free(s);
	harness_policy(h, 4, 0);
	harness_attach(h, "vm0", 1, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	s = dump(h);
	assert_non_null(strstr(s, " rss0 0,1,2,3,0,1,2,3,")); /* the pool was carved */
	assert_non_null(strstr(s, " rss0 hash hfunc 1 xfrm 1\n"));
	/* a new context keeps the driver's defaults */
	assert_non_null(strstr(s, " ctx 1 hash hfunc 1 xfrm 0\n"));
	free(s);
	assert_int_equal(harness_apply(h, PLAN_MODE_RELEASE, 3), 0);
	s = dump(h);
	assert_null(strstr(s, " ctx 1"));
	assert_non_null(strstr(s, " rss0 0,1,2,3,4,5,6,7,0,")); /* the driver's table again */
	assert_non_null(strstr(s, " rss0 hash hfunc 1 xfrm 1\n"));
	free(s);
	del_h(h);
}

/* Issue 9, bug 2: a driver that refuses MAC rules to an RSS context but
 * takes them to a queue (bnxt: no FLOW_RSS with ETHER_FLOW).  One refused
 * 2-queue attach must not switch off MAC steering for the NIC: the 2-queue
 * vNIC gets one queue and a MAC rule to it, a 1-queue vNIC a MAC rule too,
 * and the capability matrix says what was learned, with the kernel's text
 * (the ioctl has none: the errno's). */
static void test_refusal_learned_per_rule_kind(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;
	json_object *caps, *k;
	char *s, mac[18], want[96];

	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.l2_context = false;
	h = new_h(&cfg);
	harness_policy(h, 4, 0);
	harness_attach(h, "vm2q", 1, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_int_equal(h->learned_count, 1);
	assert_int_equal(h->learned.rule_kinds[0][NIC_RULE_ACTION_CONTEXT].state, NIC_CAP_NO);
	assert_int_equal(h->learned.rule_kinds[0][NIC_RULE_ACTION_QUEUE].state, NIC_CAP_YES);
	assert_string_equal(h->atts[0].res.steering, "mac");
	assert_int_equal(h->atts[0].res.n_queues, 1);
	assert_false(h->atts[0].res.has_context);
	assert_non_null(strstr(reason_msg(&h->atts[0], ATTACH_R_NO_CONTEXT),
			       "2 queues requested, using 1: no steering rule to an RSS context is "
			       "taken (mac: Operation not supported; ip: the vNIC's IP addresses "
			       "are not known)"));
	assert_null(reason_of(&h->atts[0], ATTACH_R_UNSTEERED));

	harness_attach(h, "vm1q", 2, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_string_equal(h->atts[1].res.steering, "mac");
	assert_null(reason_of(&h->atts[1], ATTACH_R_UNSTEERED));
	assert_int_equal(h->atts[1].res.n_rules, 1);
	s = dump(h);
	snprintf(want, sizeof(want), "mac %s ip4 00000000 act 0 q %u",
		 nic_mac_format(h->atts[1].id.mac, mac), h->atts[1].res.queues[0].queue);
	assert_non_null(strstr(s, want));
	assert_null(strstr(s, " ctx 1")); /* the context made for the refused rule is gone */
	free(s);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);

	/* the matrix: per kind, with what taught it */
	harness_observe(h);
	caps = nic_json_caps(&h->nic.caps);
	k = json_object_object_get(json_object_object_get(caps, "rule_kinds"), "ether-context");
	assert_string_equal(json_object_get_string(json_object_object_get(k, "state")), "no");
	assert_string_equal(json_object_get_string(json_object_object_get(k, "error")),
			    "EOPNOTSUPP");
	assert_string_equal(json_object_get_string(json_object_object_get(k, "message")),
			    "Operation not supported");
	k = json_object_object_get(json_object_object_get(caps, "rule_kinds"), "ether-queue");
	assert_string_equal(json_object_get_string(json_object_object_get(k, "state")), "yes");
	k = json_object_object_get(json_object_object_get(caps, "rule_kinds"), "ip4-queue");
	assert_string_equal(json_object_get_string(json_object_object_get(k, "state")), "unknown");
	k = json_object_object_get(caps, "l2_rules");
	assert_string_equal(json_object_get_string(json_object_object_get(k, "state")), "yes");
	assert_non_null(strstr(json_object_get_string(json_object_object_get(k, "message")),
			       "ether-context no: Operation not supported"));
	json_object_put(caps);
	del_h(h);
}

/* RSS contexts on the fake NIC (its dump has one " ctx N hash" line each). */
static unsigned contexts_in(struct harness *h)
{
	char *s = dump(h), *p = s;
	unsigned n = 0;

	while ((p = strstr(p, " hash hfunc"))) {
		n += p - s > 4 && strncmp(p - 4, "rss0", 4);
		p++;
	}
	free(s);
	return n;
}

/* Issue 9, bug 1: on a kernel that cannot list RSS contexts (no RSS netlink
 * dump, before 6.12: only context 0 is read), a context zcrxd made and
 * recorded was taken for "deleted outside", forgotten and made again on
 * every pass: contexts leaked until the driver said ENOSPC.  The contexts
 * the journal owns are read by id; a context that cannot be read is kept
 * on the journal's word; only a read that sees contexts says one is gone. */
static void test_contexts_not_listed_keep_the_journals_word(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;
	struct plan p;
	int i;

	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.no_ctx_dump = true;
	h = new_h(&cfg);
	harness_policy(h, 4, 0);
	harness_attach(h, "vm0", 1, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	/* pass after pass (the daemon plans again after each change, and on
	 * its timer): nothing forgotten, nothing made again */
	for (i = 0; i < 4; i++)
		assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 1), 0);
	assert_int_equal(contexts_in(h), 1);
	assert_int_equal(h->j.n_ctxs, 1);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	assert_int_equal(h->learned_count + h->held_count, 0);
	assert_true(h->atts[0].res.has_context);
	assert_int_equal(h->atts[0].res.n_rules, 1);
	assert_false(h->nic.rss_listed);
	assert_int_equal(nic_ctx_state(&h->nic, 1), NIC_CTX_SEEN); /* read by id */

	/* a context that cannot be read is not "deleted outside": the
	 * journal's word stands */
	harness_observe(h);
	assert_int_equal(h->nic.n_rss, 2);
	nic_rss_clear(&h->nic.rss[1]);
	h->nic.n_rss = 1;
	assert_int_equal(nic_ctx_state(&h->nic, 1), NIC_CTX_UNKNOWN);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(p.n_ops, 0);
	plan_clear(&p);

	/* a read by id that finds it gone is: forgotten and made again */
	assert_int_equal(fake_net_ext_rule_delete(h->net, h->ifindex, h->atts[0].res.rule_locs[0]), 0);
	assert_int_equal(fake_net_ext_rss_delete(h->net, h->ifindex, 1), 0);
	harness_observe(h);
	assert_int_equal(nic_ctx_state(&h->nic, 1), NIC_CTX_GONE);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	for (i = 0; i < (int)p.n_ops; i++)
		if (p.ops[i].kind == PLAN_OP_FORGET && p.ops[i].forget == PLAN_FORGET_CTX)
			break;
	assert_true(i < (int)p.n_ops);
	assert_string_equal(p.ops[i].reason, "RSS context 1 was deleted outside zcrxd");
	plan_clear(&p);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(contexts_in(h), 1);
	assert_int_equal(h->j.n_ctxs, 1);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);

	/* detach removes what was made */
	harness_detach(h, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(contexts_in(h), 0);
	assert_int_equal(h->j.n_ctxs, 0);
	assert_int_equal(h->j.n_rules, 0);
	del_h(h);
}

/* Issue 9, bug 1: an attachment held back after its rule was refused (not
 * a capability: ENOSPC) says it is unsteered, not only that it failed. */
static void test_held_rule_refusal_is_unsteered(void **state)
{
	struct harness *h = capable();
	const struct attach_reason *r;

	harness_policy(h, 4, 0);
	harness_attach(h, "vm0", 1, 1);
	fake_net_reset_calls(h->net);
	/* the plan: the default table, rx-ntuple-filter on, the rule */
	fake_net_fail_at(h->net, 3, ENOSPC, "rule table full");
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->held_count, 1);
	assert_int_equal(h->atts[0].res.state, ATTACH_STATE_FAILED);
	assert_non_null(reason_of(&h->atts[0], ATTACH_R_KERNEL));
	r = reason_of(&h->atts[0], ATTACH_R_UNSTEERED);
	assert_non_null(r);
	assert_int_equal(r->err, ENOSPC);
	assert_string_equal(r->msg, "no steering rule: rule table full");
	assert_non_null(strstr(r->op, "insert rule ether dst"));
	del_h(h);
}

/* The reason an unsteered vNIC of ours gets, and the words of the shared
 * queue, on a veth with caps set after observing it. */
static void words_of(struct harness *h, char **steer, int *steer_err, char **steer_op,
		     char **shared)
{
	const struct attach_reason *r;
	struct plan p;

	harness_plan(h, PLAN_MODE_NORMAL, &p);
	r = reason_of(&h->atts[0], ATTACH_R_UNSTEERED);
	assert_non_null(r);
	*steer = strdup(r->msg);
	*steer_err = r->err;
	*steer_op = strdup(r->op);
	r = reason_of(&h->atts[0], ATTACH_R_SHARED);
	*shared = r ? strdup(r->msg) : NULL;
	plan_clear(&p);
}

static void free_words(char *steer, char *op, char *shared)
{
	free(steer);
	free(op);
	free(shared);
}

/* The words of what a NIC cannot do, as the reasons and notes give them
 * (the planner keeps them where they are, not copied: plan_why): the
 * bench's veth (no rule table, no RSS table: the fake's texts), no texts
 * (the errno's, or the fallback when there is no errno either), a
 * refusal of rx-ntuple-filter with the kernel's text, and rx-ntuple-filter
 * fixed off. */
static void test_refusal_words(void **state)
{
	char *steer, *op, *shared;
	const struct attach_reason *r;
	struct fake_nic_cfg cfg;
	struct harness *h;
	struct plan p;
	size_t i;
	int err;

	fake_nic_cfg_veth(&cfg, "zx0");
	cfg.rx_max = cfg.tx_max = cfg.rx = cfg.tx = 8;
	h = new_h(&cfg);
	harness_policy(h, 4, 0);
	harness_attach(h, "vm", 1, 1);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_true(has_note(&p, ATTACH_R_SHARED,
			     "pool queues stay in the default RSS spread: Operation not supported"));
	assert_string_equal(p.notes[0].op, "read RSS table");
	assert_int_equal(p.notes[0].err, EOPNOTSUPP);
	plan_clear(&p);
	r = reason_of(&h->atts[0], ATTACH_R_SHARED);
	assert_non_null(r);
	assert_string_equal(r->op, "read RSS table");
	assert_int_equal(r->err, EOPNOTSUPP);
	assert_string_equal(r->msg,
			    "dedicated queues also take default RSS traffic: Operation not supported");
	words_of(h, &steer, &err, &op, &shared);
	assert_string_equal(steer, "no steering rule: Operation not supported");
	assert_string_equal(op, "insert rule");
	assert_int_equal(err, EOPNOTSUPP);
	free_words(steer, op, shared);
	/* more vNICs with queues: each says the same (written once a plan,
	 * then given to the others), in the same order */
	harness_attach(h, "vm", 2, 1);
	harness_attach(h, "vm", 3, 1);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	for (i = 0; i < 3; i++) {
		const struct attach_result *res = &h->atts[i].res;

		assert_int_equal(res->n_queues, 1);
		assert_int_equal(res->n_reasons, 3);
		assert_string_equal(res->reasons[0].code, ATTACH_R_UNSTEERED);
		assert_string_equal(res->reasons[0].msg, "no steering rule: Operation not supported");
		assert_string_equal(res->reasons[0].op, "insert rule");
		assert_int_equal(res->reasons[0].err, EOPNOTSUPP);
		assert_string_equal(res->reasons[2].code, ATTACH_R_SHARED);
		assert_string_equal(res->reasons[2].msg, "dedicated queues also take default RSS "
							 "traffic: Operation not supported");
		assert_string_equal(res->reasons[2].op, "read RSS table");
		assert_int_equal(res->reasons[2].err, EOPNOTSUPP);
	}
	plan_clear(&p);
	harness_detach(h, 2);
	harness_detach(h, 3);

	/* no texts: the errno's words; no errno either: the fallback */
	nic_cap_set(&h->nic.caps.rules, NIC_CAP_NO, 0, "");
	nic_cap_set(&h->nic.caps.rss, NIC_CAP_NO, -EPERM, "");
	words_of(h, &steer, &err, &op, &shared);
	assert_string_equal(steer, "no steering rule: no ntuple rule table");
	assert_int_equal(err, EOPNOTSUPP);
	assert_string_equal(shared, "dedicated queues also take default RSS traffic: "
				    "Operation not permitted");
	free_words(steer, op, shared);

	/* rules, but rx-ntuple-filter refused with the kernel's words */
	nic_cap_set(&h->nic.caps.rules, NIC_CAP_YES, 0, "");
	nic_cap_set(&h->nic.caps.ntuple, NIC_CAP_NO, EBUSY, "not now, says the driver");
	words_of(h, &steer, &err, &op, &shared);
	assert_string_equal(steer, "no steering rule: not now, says the driver");
	assert_string_equal(op, "enable rx-ntuple-filter");
	assert_int_equal(err, EBUSY);
	free_words(steer, op, shared);

	/* rx-ntuple-filter there, fixed off */
	nic_cap_set(&h->nic.caps.ntuple, NIC_CAP_YES, 0, "");
	h->nic.ntuple_fixed = true;
	h->nic.ntuple_active = false;
	words_of(h, &steer, &err, &op, &shared);
	assert_string_equal(steer, "no steering rule: rx-ntuple-filter is fixed off on this device");
	assert_string_equal(op, "enable rx-ntuple-filter");
	assert_int_equal(err, EOPNOTSUPP);
	free_words(steer, op, shared);
	del_h(h);
}

/* The property test's seed 10, shape 508, reduced: Steering=mac alone,
 * OnExhaustion=fail, a driver that takes ether rules to a queue but not to
 * an RSS context.  vm1 asks for 4 queues of a pool of 3: nothing.  vm2 (2
 * queues) is the first to try a rule to a context: refused, learned, and
 * that holds for vm1 too, which now fits with one queue and a rule of its
 * own.  vm2's detach removes what vm2 made, not vm1's rule. */
static void test_context_rule_refusal_replans_the_others(void **state)
{
	const uint8_t vm1[NIC_MAC_LEN] = { 0x52, 0x54, 0, 0, 0, 1 };
	struct fake_nic_cfg cfg;
	struct harness *h;

	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.l2_context = false;
	h = new_h(&cfg);
	harness_policy(h, 3, 0);
	h->pol.n_steering = 1;
	h->pol.on_exhaustion = CONFIG_ON_EXHAUSTION_FAIL;
	harness_attach(h, "vm1", 1, 4);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->atts[0].res.n_queues, 0);
	assert_non_null(reason_of(&h->atts[0], ATTACH_R_POOL_EXHAUSTED));
	assert_int_equal(h->j.n_rules, 0);

	harness_attach(h, "vm2", 2, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_int_equal(h->learned_count, 1);
	assert_int_equal(h->atts[0].res.n_queues, 1);
	assert_non_null(reason_of(&h->atts[0], ATTACH_R_NO_CONTEXT));
	assert_int_equal(h->atts[1].res.n_queues, 1);
	assert_int_equal(h->j.n_rules, 2);

	harness_detach(h, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	assert_int_equal(h->j.n_rules, 1);
	assert_memory_equal(h->j.rules[0].owner, vm1, NIC_MAC_LEN);
	assert_int_equal(h->j.n_leases, 1);
	assert_memory_equal(h->j.leases[0].owner, vm1, NIC_MAC_LEN);
	del_h(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_queue_attach),
		cmocka_unit_test(test_attach_idempotent),
		cmocka_unit_test(test_multi_queue_context),
		cmocka_unit_test(test_printed_rule_driver_picks),
		cmocka_unit_test(test_multi_queue_without_contexts),
		cmocka_unit_test(test_l2_refused_falls_back_to_ip),
		cmocka_unit_test(test_steering_order_ip_first),
		cmocka_unit_test(test_veth_unsteered_with_kernel_reason),
		cmocka_unit_test(test_rule_deleted_outside_is_repaired),
		cmocka_unit_test(test_foreign_rule_in_our_slot),
		cmocka_unit_test(test_context_deleted_outside),
		cmocka_unit_test(test_render_json),
		cmocka_unit_test(test_render_jtext),
		cmocka_unit_test(test_learn),
		cmocka_unit_test(test_rss_writes_keep_hash_settings),
		cmocka_unit_test(test_refusal_learned_per_rule_kind),
		cmocka_unit_test(test_contexts_not_listed_keep_the_journals_word),
		cmocka_unit_test(test_held_rule_refusal_is_unsteered),
		cmocka_unit_test(test_refusal_words),
		cmocka_unit_test(test_contexts_exhausted_degrade_to_one_queue),
		cmocka_unit_test(test_context_freed_in_the_plan_that_frees_it),
		cmocka_unit_test(test_context_rule_refusal_replans_the_others),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
