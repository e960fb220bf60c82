// SPDX-License-Identifier: MIT
/*
 * Unit tests of the planner's RSS context room (zcrxd/plan-room.c): where
 * the driver said it has no room for one more context (ENOSPC, learned as
 * rss_contexts_full), a plan makes no more contexts than there is room for;
 * the vNICs past that, in planning order, are held to one queue and say
 * why.  Applied through exec.c to the test-only fake NIC.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plan-check.h"

/* A NIC with 16 queues and room for two RSS contexts. */
static struct harness *two_contexts(void)
{
	struct fake_nic_cfg cfg;
	struct harness *h;

	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.combined = 16;
	cfg.max_contexts = 2;
	h = new_h(&cfg);
	harness_policy(h, 12, 0);
	return h;
}

/* The contexts the plan made now would make: never more than the room. */
static void plan_fits(struct harness *h)
{
	struct plan p;
	size_t i, made = 0;

	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	for (i = 0; i < p.n_ops; i++)
		if (p.ops[i].kind == PLAN_OP_RSS_CREATE) {
			assert_true(p.ops[i].ctx_count < h->learned.rss_contexts_full);
			made++;
		}
	assert_true(made <= h->learned.rss_contexts_full);
	plan_clear(&p);
}

static void has_context(const struct attach *a)
{
	assert_int_equal(a->res.n_queues, 2);
	assert_true(a->res.has_context);
	assert_null(reason_of(a, ATTACH_R_NO_CONTEXT));
	assert_false(a->held);
}

/* Held to one queue for want of room, in the words it had. */
static void held_to_one(const struct attach *a)
{
	assert_int_equal(a->res.n_queues, 1);
	assert_false(a->res.has_context);
	assert_false(a->held); /* not held back: degraded */
	assert_int_equal(a->res.state, ATTACH_STATE_DEGRADED);
	assert_non_null(strstr(reason_msg(a, ATTACH_R_NO_CONTEXT),
			       "2 queues requested, using 1: no RSS context left (2 in use"));
}

/* The property test's seed 15, shape 1454, reduced: four vNICs of two
 * queues come at once; the third context is refused (ENOSPC, learned full
 * at 2).  Planning again makes two contexts, for the first two in planning
 * order, and holds the other two to one queue, instead of asking for all
 * four again (refused again: an attachment held back, on and on until the
 * harness ran out of rounds). */
static void test_room_learned_in_the_same_apply(void **state)
{
	struct harness *h = two_contexts();
	unsigned id;

	for (id = 1; id <= 4; id++)
		harness_attach(h, "vm", id, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(h->learned_count, 1);
	assert_int_equal(h->learned.rss_contexts_room.state, NIC_CAP_NO);
	assert_int_equal(h->learned.rss_contexts_full, 2);
	assert_int_equal(h->held_count, 0);
	has_context(&h->atts[0]);
	has_context(&h->atts[1]);
	held_to_one(&h->atts[2]);
	held_to_one(&h->atts[3]);
	assert_int_equal(h->j.n_ctxs, 2);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	del_h(h);
}

/* Three vNICs wait for room; the two context owners leave.  Their two
 * contexts go and two of the three waiting (the first in planning order)
 * get one each in the same plan; the third stays held to one queue, with
 * the same reason.  The driver refuses nothing. */
static void test_room_freed_for_fewer_than_wait(void **state)
{
	struct harness *h = two_contexts();
	unsigned id, learned;

	harness_attach(h, "vm", 1, 2);
	harness_attach(h, "vm", 2, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	for (id = 3; id <= 5; id++)
		harness_attach(h, "vm", id, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_int_equal(h->learned.rss_contexts_room.state, NIC_CAP_NO);
	assert_int_equal(h->learned.rss_contexts_full, 2);
	for (id = 2; id < 5; id++)
		held_to_one(&h->atts[id]);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	learned = h->learned_count;

	assert_true(harness_detach(h, 1));
	assert_true(harness_detach(h, 2));
	plan_fits(h);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_int_equal(h->learned_count, learned); /* no refusal on the way */
	assert_int_equal(h->held_count, 0);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	/* (vm3, vm4, vm5: the detaches keep the order) */
	has_context(&h->atts[0]);
	has_context(&h->atts[1]);
	held_to_one(&h->atts[2]);
	assert_int_equal(h->atts[2].id.seq, 5);
	assert_int_equal(h->j.n_ctxs, 2);

	/* vm3 leaves: vm5 gets the context it frees, in the same plan */
	assert_true(harness_detach(h, 3));
	plan_fits(h);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_int_equal(h->learned_count, learned);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	has_context(&h->atts[0]);
	has_context(&h->atts[1]);
	assert_int_equal(h->j.n_ctxs, 2);
	del_h(h);
}

/* The queues of each attachment: for comparing two plans' hand-outs. */
static void queues_of(const struct harness *h, uint32_t *n)
{
	size_t i;

	for (i = 0; i < h->n_atts; i++)
		n[i] = h->atts[i].res.n_queues;
}

/* The property test's seed 39, shape 1691 (and ten more like it), reduced:
 * room for one context, OnExhaustion=fail, and a pool too small for any
 * vNIC to have its four queues.  The owner asks for more than it can get:
 * its context goes, and the one left is handed out; whoever takes it cannot
 * get its queues either, makes none and goes last, so the next one takes
 * it: one more each plan, more plans than plan_nic's PLAN_ROOM_PASSES.  The
 * plan that applied stopped at one order, the plan after it (which sees
 * none of that, only no context and no owner) at another: a queue moved
 * from one vNIC to another each time it planned.  Now applying converges:
 * planning again finds nothing to do, and the same vNICs keep their
 * queues. */
static void test_room_no_one_can_use(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;
	uint32_t was[8], now[8];
	unsigned id;
	size_t i;

	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.combined = 16;
	cfg.max_contexts = 1;
	h = new_h(&cfg);
	harness_policy(h, 5, 0);
	h->pol.on_exhaustion = CONFIG_ON_EXHAUSTION_FAIL;
	harness_attach(h, "vm", 1, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_true(h->atts[0].res.has_context);
	for (id = 2; id <= 4; id++)
		harness_attach(h, "vm", id, 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_int_equal(h->learned.rss_contexts_room.state, NIC_CAP_NO);
	assert_int_equal(h->learned.rss_contexts_full, 1);
	for (id = 1; id < 4; id++) {
		assert_int_equal(h->atts[id].res.n_queues, 1);
		assert_non_null(reason_of(&h->atts[id], ATTACH_R_NO_CONTEXT));
	}
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);

	for (i = 0; i < 4; i++)
		h->atts[i].id.queues = 4; /* the pool has five */
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_int_equal(h->held_count, 0);
	queues_of(h, was);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	queues_of(h, now);
	assert_memory_equal(was, now, 4 * sizeof(uint32_t));
	/* each took the context in turn and could not use it; once all had,
	 * the first in planning order takes it: it has no queue (failed, the
	 * pool cannot give it four), the others one each */
	assert_int_equal(now[0], 0);
	assert_int_equal(h->atts[0].res.state, ATTACH_STATE_FAILED);
	assert_non_null(reason_of(&h->atts[0], ATTACH_R_POOL_EXHAUSTED));
	for (i = 1; i < 4; i++) {
		assert_int_equal(now[i], 1);
		assert_int_equal(h->atts[i].res.state, ATTACH_STATE_DEGRADED);
		assert_non_null(reason_of(&h->atts[i], ATTACH_R_NO_CONTEXT));
	}
	assert_int_equal(h->j.n_ctxs, 0);
	del_h(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_room_learned_in_the_same_apply),
		cmocka_unit_test(test_room_freed_for_fewer_than_wait),
		cmocka_unit_test(test_room_no_one_can_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
