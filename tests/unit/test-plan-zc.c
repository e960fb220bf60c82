// SPDX-License-Identifier: MIT
/* Unit tests of the planner: zero-copy bindings and header split (zcrxd/plan-steer.c, exec.c); one table test each, applied through
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

#include "plan-check.h"

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
	struct plan p;
	size_t i;

	harness_enable_binder(h, 0);
	h->sb.available = false;
	harness_attach(h, "vm0", 1, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	r = reason_of(&h->atts[0], ATTACH_R_NO_ZEROCOPY);
	assert_non_null(r);
	assert_non_null(strstr(reason_msg(&h->atts[0], ATTACH_R_NO_ZEROCOPY),
			       "kernel module vhost_zcrx not available"));
	assert_int_equal(h->atts[0].res.n_rules, 1); /* steering still happens */
	/* the words: the module's own text when its answer is no ENOENT */
	assert_string_equal(reason_msg(&h->atts[0], ATTACH_R_NO_ZEROCOPY),
			    "no zero-copy (kernel module vhost_zcrx not available)");
	assert_int_equal(r->err, ENOENT);
	harness_observe(h);
	kerror_set(&h->pb.resolve_err, EPERM, NULL, "resolve vhost_zcrx", "denied by policy");
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	plan_clear(&p);
	assert_string_equal(reason_msg(&h->atts[0], ATTACH_R_NO_ZEROCOPY),
			    "no zero-copy (kernel module vhost_zcrx not available: denied by policy)");
	assert_int_equal(reason_of(&h->atts[0], ATTACH_R_NO_ZEROCOPY)->err, EPERM);
	/* each vNIC with a queue says it (written once a plan) */
	harness_policy(h, 4, 0);
	harness_attach(h, "vm1", 2, 1);
	harness_attach(h, "vm2", 3, 1);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	plan_clear(&p);
	for (i = 0; i < 3; i++) {
		assert_int_equal(h->atts[i].res.n_queues, 1);
		r = reason_of(&h->atts[i], ATTACH_R_NO_ZEROCOPY);
		assert_non_null(r);
		assert_string_equal(r->msg, "no zero-copy (kernel module vhost_zcrx not available: "
					    "denied by policy)");
		assert_string_equal(r->op, "bind");
		assert_int_equal(r->err, EPERM);
	}
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

/* The module's words for a binding's state reach the attachment's reason. */
static void test_binding_reason_text(void **state)
{
	struct harness *h = capable();
	const char *why;

	harness_enable_binder(h, 0);
	harness_attach(h, "vm0", 1, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->sb.n, 1);
	h->sb.v[0].state = BINDER_STATE_DEGRADED;
	h->sb.v[0].reason = EOPNOTSUPP;
	snprintf(h->sb.v[0].reason_msg, sizeof(h->sb.v[0].reason_msg),
		 "reference module: no data path");
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->atts[0].res.state, ATTACH_STATE_DEGRADED);
	why = reason_msg(&h->atts[0], ATTACH_R_BINDING);
	assert_non_null(why);
	assert_non_null(strstr(why, "is degraded: reference module: no data path"));
	assert_string_equal(h->atts[0].res.queues[0].binding_msg, "reference module: no data path");
	del_h(h);
}

/* A BROKEN binding that the module did not tear down (not ENODEV) is
 * unbound and bound again, once: while the caller remembers that (a
 * "rebound" entry), a binding broken again stays, shown broken; an
 * ENODEV one is gone and bound again as any lost binding. */
static void test_binding_broken_rebound_once(void **state)
{
	struct harness *h = capable();
	struct plan_bind_refusal rb = { 0 };
	const struct plan_op *op;
	uint32_t old_id;
	ssize_t un, bind;
	struct plan p;

	harness_enable_binder(h, 0);
	harness_attach(h, "vm0", 1, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	old_id = h->sb.v[0].id;
	h->sb.v[0].state = BINDER_STATE_BROKEN;
	h->sb.v[0].reason = ERANGE;
	snprintf(h->sb.v[0].reason_msg, sizeof(h->sb.v[0].reason_msg), "queue is gone");
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	un = op_index(&p, PLAN_OP_UNBIND);
	bind = op_index(&p, PLAN_OP_BIND);
	assert_true(un >= 0 && bind > un);
	op = &p.ops[un];
	assert_true(op->rebind);
	assert_int_equal(op->binding_id, old_id);
	assert_non_null(strstr(op->reason, "is broken (ERANGE: queue is gone): bind it again"));
	assert_true(p.ops[bind].repair);
	assert_int_equal(op_index(&p, PLAN_OP_RULE_DELETE), -1); /* steering untouched */
	plan_clear(&p);

	/* bound again once already: left as it is, and said so */
	rb.queue = h->sb.v[0].queue;
	rb.tap_ifindex = h->sb.v[0].tap_ifindex;
	rb.rebound = true;
	harness_observe(h);
	h->pb.refused = &rb;
	h->pb.n_refused = 1;
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(p.n_ops, 0);
	assert_int_equal(p.results[0].state, ATTACH_STATE_DEGRADED);
	assert_true(p.results[0].queues[0].bound);
	plan_clear(&p);

	/* a rebound entry is no refusal: a binding that is gone is bound */
	h->sb.n = 0;
	harness_observe(h);
	h->pb.refused = &rb;
	h->pb.n_refused = 1;
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_true(op_index(&p, PLAN_OP_BIND) >= 0);
	plan_clear(&p);
	del_h(h);
}

/* Someone puts a memory provider on a vNIC's queue after zcrxd leased it
 * (its binding is not there: the module was away, or broke it): the vNIC
 * keeps its queue and steering, the BIND on that queue is what names the
 * holder (EBUSY from the module, remembered as a refusal); once the
 * provider left and the refusal is forgotten, the queue is bound again. */
static void test_provider_on_leased_queue_keeps_the_vnic(void **state)
{
	struct harness *h = capable();
	const struct attach_reason *why;
	uint32_t q, loc;

	harness_enable_binder(h, 0);
	harness_take_refusals(h);
	harness_attach(h, "vm0", 1, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	q = h->atts[0].res.queues[0].queue;
	loc = h->atts[0].res.rule_locs[0];
	h->sb.n = 0; /* the binding went */
	assert_int_equal(fake_net_ext_set_provider(h->net, h->ifindex, q, NIC_PROVIDER_IO_URING), 0);
	h->sb.refuse_tap_mod = 1; /* the module sees the provider: EBUSY */
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->atts[0].res.queues[0].queue, q);
	assert_int_equal(h->atts[0].res.rule_locs[0], loc);
	assert_false(h->atts[0].res.queues[0].bound);
	why = reason_of(&h->atts[0], ATTACH_R_NO_ZEROCOPY);
	assert_non_null(why);
	assert_int_equal(why->err, EBUSY);
	assert_int_equal(h->n_refused, 1);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);

	/* the provider left, the refusal was forgotten: bound, nothing moved */
	assert_int_equal(fake_net_ext_set_provider(h->net, h->ifindex, q, 0), 0);
	h->sb.refuse_tap_mod = 0;
	h->n_refused = 0;
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_true(h->atts[0].res.queues[0].bound);
	assert_int_equal(h->atts[0].res.queues[0].queue, q);
	assert_int_equal(h->atts[0].res.rule_locs[0], loc);
	del_h(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binding_needs_hds),
		cmocka_unit_test(test_binding_hds_off_is_degraded),
		cmocka_unit_test(test_binding_reason_text),
		cmocka_unit_test(test_binding_broken_rebound_once),
		cmocka_unit_test(test_provider_on_leased_queue_keeps_the_vnic),
		cmocka_unit_test(test_binding_module_absent),
		cmocka_unit_test(test_binding_lost_is_rebound),
		cmocka_unit_test(test_binding_refused_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
