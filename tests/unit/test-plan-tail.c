// SPDX-License-Identifier: MIT
/*
 * Unit tests of the planner's waiting tail (zcrxd/plan-tail.c): on a NIC
 * whose pool is full, the vNICs that own nothing and wait are planned as
 * one, and the plan is the plan of every one of them (planned in the
 * reverse order, where the shortcut cannot be taken); where the proof is
 * not at hand the shortcut is not taken.  On the test-only fake NIC.
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
#include "plan-int.h"

/* bench-libvirt's NIC: a veth of 8 queues, 4 of them reserved, n vNICs
 * (one queue each) applied: 4 hold a queue, the others wait. */
static struct harness *waiting_nic(unsigned n)
{
	struct harness *h = harness_new_veth8("zxlb0");
	unsigned k;

	for (k = 1; k <= n; k++)
		harness_attach(h, "vm", k, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	harness_observe(h);
	return h;
}

static struct plan_input input(struct harness *h, const struct attach **ptrs, bool reversed)
{
	struct plan_input in = { 0 };
	size_t i;

	for (i = 0; i < h->n_atts; i++)
		ptrs[i] = &h->atts[reversed ? h->n_atts - 1 - i : i];
	in.policy = &h->pol;
	in.nic = &h->nic;
	in.journal = &h->j;
	in.atts = ptrs;
	in.n_atts = h->n_atts;
	in.mode = PLAN_MODE_NORMAL;
	return in;
}

/* plan_tail takes the shortcut for h, its plan is the whole plan (the
 * attachments in the reverse order, where it cannot be taken) and in it
 * `waiting` vNICs wait. */
static void tail_taken(struct harness *h, size_t waiting)
{
	static const struct attach *ptrs[HARNESS_ATTS_MAX], *rev[HARNESS_ATTS_MAX];
	struct plan_input in = input(h, ptrs, false), in_rev = input(h, rev, true);
	struct plan p, whole;
	const char *diff;
	size_t i, n = 0;

	assert_int_equal(plan_tail(&in, &p), 1);
	assert_int_equal(plan_tail(&in_rev, &whole), 0); /* not in planning order */
	assert_int_equal(plan_once(&in_rev, &whole, NULL, NULL), 0);
	diff = harness_order_differs(&p, &whole);
	if (diff)
		fprintf(stderr, "the tail's plan differs from the whole plan: %s\n", diff);
	assert_null(diff);
	for (i = 0; i < p.n_results; i++)
		n += attach_result_has_reason(&p.results[i], ATTACH_R_POOL_EXHAUSTED);
	assert_int_equal(n, waiting);
	plan_clear(&p);
	plan_clear(&whole);
}

static void test_tail_full_pool(void **state)
{
	struct harness *h = waiting_nic(40);

	(void)state;
	tail_taken(h, 36);
	/* a newcomer waits as well */
	harness_attach(h, "new", 41, 1);
	tail_taken(h, 37);
	harness_destroy(h);
}

/* Queues free: the first candidates get them, the shortcut starts past
 * the pool's size. */
static void test_tail_pool_not_full(void **state)
{
	struct harness *h = waiting_nic(2);
	unsigned k;

	(void)state;
	for (k = 3; k <= 20; k++)
		harness_attach(h, "new", k, 1);
	tail_taken(h, 16);
	harness_destroy(h);
}

/* A detach frees a queue: the first vNIC that waits gets it, in the
 * shortcut's plan as in the whole one. */
static void test_tail_queue_freed(void **state)
{
	struct harness *h = waiting_nic(30);

	(void)state;
	assert_true(harness_detach(h, 2));
	harness_observe(h);
	tail_taken(h, 25);
	harness_destroy(h);
}

static void test_tail_not_taken(void **state)
{
	static const struct attach *ptrs[HARNESS_ATTS_MAX];
	struct harness *h = waiting_nic(20);
	struct plan_input in;
	struct plan p;
	unsigned k;

	(void)state;
	/* not in planning order */
	in = input(h, ptrs, true);
	assert_int_equal(plan_tail(&in, &p), 0);
	/* other modes */
	in = input(h, ptrs, false);
	in.mode = PLAN_MODE_REBALANCE;
	assert_int_equal(plan_tail(&in, &p), 0);
	in.mode = PLAN_MODE_RELEASE;
	assert_int_equal(plan_tail(&in, &p), 0);
	/* OnExhaustion=fail: queues given back by refused ones go to earlier
	 * ones (plan_allocate) */
	in.mode = PLAN_MODE_NORMAL;
	h->pol.on_exhaustion = CONFIG_ON_EXHAUSTION_FAIL;
	assert_int_equal(plan_tail(&in, &p), 0);
	h->pol.on_exhaustion = CONFIG_ON_EXHAUSTION_DEGRADE;
	assert_int_equal(plan_tail(&in, &p), 1);
	plan_clear(&p);
	/* a few newcomers among those that hold queues: not worth a try */
	harness_destroy(h);
	h = waiting_nic(4);
	harness_attach(h, "new", 5, 1);
	harness_attach(h, "new", 6, 1);
	in = input(h, ptrs, false);
	assert_int_equal(plan_tail(&in, &p), 0);
	/* ten newcomers, twice the four holders and one: tried, taken */
	for (k = 7; k <= 14; k++)
		harness_attach(h, "new", k, 1);
	in = input(h, ptrs, false);
	assert_int_equal(plan_tail(&in, &p), 1);
	plan_clear(&p);
	/* no candidates: each asks for two queues, or is held back */
	for (k = 0; k < h->n_atts; k++)
		h->atts[k].id.queues = 2;
	assert_int_equal(plan_tail(&in, &p), 0);
	for (k = 0; k < h->n_atts; k++) {
		h->atts[k].id.queues = 1;
		h->atts[k].held = true;
	}
	assert_int_equal(plan_tail(&in, &p), 0);
	harness_destroy(h);
}

/* A MAC twice: neither is a candidate (the first in planning order holds
 * it, the other is refused), and the plan is still the whole plan's. */
static void test_tail_mac_twice(void **state)
{
	struct harness *h = waiting_nic(20);

	(void)state;
	memcpy(h->atts[15].id.mac, h->atts[12].id.mac, NIC_MAC_LEN);
	tail_taken(h, 15);
	harness_destroy(h);
}

/* A vNIC that holds a queue and comes after those that wait (its seq the
 * highest, as the store's order has it): it owns a lease, so it is no
 * candidate and keeps its queue, where the later candidates all wait. */
static void test_tail_holder_last(void **state)
{
	struct harness *h = waiting_nic(20);
	struct attach a = h->atts[0];

	(void)state;
	assert_int_equal(a.res.n_queues, 1);
	memmove(&h->atts[0], &h->atts[1], (h->n_atts - 1) * sizeof(h->atts[0]));
	a.id.seq = 100;
	h->atts[h->n_atts - 1] = a;
	tail_taken(h, 16);
	harness_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tail_full_pool),
		cmocka_unit_test(test_tail_pool_not_full),
		cmocka_unit_test(test_tail_queue_freed),
		cmocka_unit_test(test_tail_not_taken),
		cmocka_unit_test(test_tail_mac_twice),
		cmocka_unit_test(test_tail_holder_last),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
