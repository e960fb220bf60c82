// SPDX-License-Identifier: MIT
/* Unit tests of the planner: queue choice (zcrxd/plan-lease.c): NUMA, exhaustion, rebalance, duplicates; one table test each, applied through
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
		cmocka_unit_test(test_numa_preference),
		cmocka_unit_test(test_exhaustion_degrade),
		cmocka_unit_test(test_exhaustion_fail),
		cmocka_unit_test(test_partial_degrade),
		cmocka_unit_test(test_same_reasons_share_text),
		cmocka_unit_test(test_rebalance_compacts_and_numa),
		cmocka_unit_test(test_rebalance_threshold),
		cmocka_unit_test(test_duplicate_mac_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
