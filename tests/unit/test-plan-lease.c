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

/* zcrxd's vNICs on a veth (no rules, no RSS table) and a pool smaller
 * than they: a detach returns the queue and leases it to one who waited,
 * the journal only.  Such a plan settles by itself (plan_journal_only):
 * planned again, nothing to do and the results, notes and pool it gave,
 * which is why the reconciler does not plan again after it.  A plan that
 * changes the kernel is not one. */
static void test_journal_only_plan_settles(void **state)
{
	struct exec_result res;
	struct fake_nic_cfg cfg;
	struct plan p, again;
	struct exec_env env;
	struct harness *h;
	unsigned i;

	fake_nic_cfg_veth(&cfg, "zx0");
	cfg.rx_max = cfg.tx_max = cfg.rx = cfg.tx = 8;
	h = new_h(&cfg);
	env = harness_exec_env(h);
	harness_policy(h, 4, 0); /* pool 4..7 */
	for (i = 1; i <= 6; i++)
		harness_attach(h, "vm", i, 1)->id.tap_ifindex = 0; /* no tap yet */
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(p.n_ops, 4); /* four leases */
	assert_true(plan_journal_only(&p));
	assert_int_equal(exec_plan(&env, &p, &h->j, &res), 0);
	assert_int_equal(res.n_applied, p.n_ops);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &again);
	assert_null(harness_settled_differs(&p, &again));
	assert_false(plan_journal_only(&again)); /* no ops: nothing to settle */
	plan_clear(&p);
	plan_clear(&again);

	assert_int_equal(h->atts[1].res.n_queues, 1);
	assert_int_equal(h->atts[1].res.queues[0].queue, 5);
	assert_int_equal(h->atts[4].res.n_queues, 0);
	harness_detach(h, 2); /* had queue 5; the fifth waited for one */
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(p.n_ops, 2);
	assert_non_null(find_op(&p, PLAN_OP_UNLEASE, NULL));
	assert_non_null(find_op(&p, PLAN_OP_LEASE, NULL));
	assert_true(plan_journal_only(&p));
	assert_int_equal(exec_plan(&env, &p, &h->j, &res), 0);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &again);
	assert_int_equal(again.n_ops, 0);
	assert_null(harness_settled_differs(&p, &again));
	for (i = 0; i < h->n_atts; i++)
		assert_true(attach_result_same(&h->atts[i].res, &p.results[i], false));
	plan_clear(&p);
	plan_clear(&again);
	del_h(h);

	/* steering: a rule is inserted, the kernel picks what it shows */
	h = capable();
	harness_policy(h, 4, 0);
	harness_attach(h, "vm", 1, 1);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_non_null(find_op(&p, PLAN_OP_LEASE, NULL));
	assert_non_null(find_op(&p, PLAN_OP_RULE_INSERT, NULL));
	assert_false(plan_journal_only(&p));
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

/* Each attachment's reasons in the order given, though the planner gives
 * them step by step over all attachments; the same words shared, other
 * words (written into the same buffer one after the other) each their own;
 * planned again, each keeps the text it has. */
static void test_reasons_in_order_each_own_words(void **state)
{
	static const unsigned want[4] = { 2, 3, 2, 3 };
	struct fake_nic_cfg cfg;
	struct harness *h;
	struct plan p;
	size_t i;

	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.rss_contexts = false;
	h = new_h(&cfg);
	harness_policy(h, 3, 0);
	for (i = 0; i < 4; i++)
		harness_attach(h, "vm", (unsigned)i + 1, want[i]);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(p.n_results, 4);
	for (i = 0; i < 4; i++) {
		char words[64];

		snprintf(words, sizeof(words), "%u queues requested, using 1", want[i]);
		/* the contexts' reason (setup), then the pool's (queue choice)
		 * or the binder's (zero-copy) */
		assert_int_equal(p.results[i].n_reasons, 2);
		assert_string_equal(p.results[i].reasons[0].code, ATTACH_R_NO_CONTEXT);
		assert_non_null(strstr(p.results[i].reasons[0].msg, words));
		assert_string_equal(p.results[i].reasons[1].code,
				    i == 3 ? ATTACH_R_POOL_EXHAUSTED : ATTACH_R_NO_ZEROCOPY);
	}
	assert_ptr_equal(p.results[0].reasons[0].msg, p.results[2].reasons[0].msg);
	assert_ptr_equal(p.results[1].reasons[0].msg, p.results[3].reasons[0].msg);
	plan_clear(&p);

	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	for (i = 0; i < 4; i++) {
		size_t k;

		assert_int_equal(p.results[i].n_reasons, h->atts[i].res.n_reasons);
		for (k = 0; k < p.results[i].n_reasons; k++)
			assert_ptr_equal(p.results[i].reasons[k].msg, h->atts[i].res.reasons[k].msg);
		assert_true(attach_result_same(&p.results[i], &h->atts[i].res, false));
	}
	plan_clear(&p);
	del_h(h);
}

/* All who wait for a queue get one reason, its words compared once a plan
 * (plan_reason_again): planned again after the pool grew, with the last
 * plan's results in place, each says the new size, as a plan of the same
 * attachments without results says. */
static void test_waiting_reason_follows_the_pool(void **state)
{
	struct harness *h = capable();
	struct plan p, fresh;
	size_t i, k;

	harness_policy(h, 2, 0);
	for (i = 0; i < 6; i++) {
		struct attach *a = harness_attach(h, "vm", (unsigned)i + 1, 1);

		a->id.numa_node = 1; /* pool 6, 7: queue 6 is not on node 1 */
	}
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p); /* the results stay in h->atts */
	for (i = 2; i < 6; i++) {
		assert_int_equal(p.results[i].n_queues, 0);
		assert_non_null(strstr(p.results[i].reasons[0].msg, "among 2 reserved"));
	}
	assert_ptr_equal(p.results[2].reasons[0].msg, p.results[5].reasons[0].msg);
	plan_clear(&p);

	harness_policy(h, 3, 0); /* pool 5, 6, 7 */
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	for (i = 0; i < 6; i++) {
		attach_result_clear(&h->atts[i].res);
		attach_result_init(&h->atts[i].res);
	}
	harness_plan(h, PLAN_MODE_NORMAL, &fresh);
	for (i = 3; i < 6; i++) {
		const struct attach_reason *r = &p.results[i].reasons[0];

		assert_int_equal(p.results[i].n_queues, 0);
		assert_true(attach_reason_is(r, ATTACH_R_POOL_EXHAUSTED, "eth0", "lease queue", ENOSPC,
					     "pool exhausted: no free queue among 3 reserved; "
					     "traffic uses the shared queues"));
	}
	for (i = 0; i < 6; i++) {
		assert_true(attach_result_same(&p.results[i], &fresh.results[i], false));
		for (k = 0; k < p.results[i].n_reasons; k++)
			assert_string_equal(p.results[i].reasons[k].msg,
					    fresh.results[i].reasons[k].msg);
	}
	plan_clear(&p);
	plan_clear(&fresh);
	del_h(h);
}

/* A NUMA reason alone does not degrade (ATTACH_R_NUMA): the planner
 * remembers whether the reason given last is one (pl->last_numa) while
 * attachments take the same reason in a row; a pool reason right after
 * one does degrade. */
static void test_numa_reason_alone_not_degraded(void **state)
{
	struct harness *h = capable();
	size_t i;

	harness_enable_binder(h, BINDER_FEATURE_NEEDS_HDS);
	harness_policy(h, 4, 0); /* pool 4..7; queue q sits on node q % 2 */
	for (i = 0; i < 5; i++) {
		struct attach *a = harness_attach(h, "vm", (unsigned)i + 1, 1);

		a->id.numa_node = 1;
	}
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	/* two on their node, two not (the same reason in a row), one waits */
	for (i = 0; i < 4; i++) {
		assert_int_equal(h->atts[i].res.n_queues, 1);
		assert_int_equal(h->atts[i].res.state, ATTACH_STATE_ACTIVE);
		assert_int_equal(reason_of(&h->atts[i], ATTACH_R_NUMA) != NULL, i >= 2);
	}
	assert_ptr_equal(reason_of(&h->atts[2], ATTACH_R_NUMA)->msg,
			 reason_of(&h->atts[3], ATTACH_R_NUMA)->msg);
	assert_int_equal(h->atts[4].res.state, ATTACH_STATE_DEGRADED);
	assert_non_null(reason_of(&h->atts[4], ATTACH_R_POOL_EXHAUSTED));
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
	assert_int_equal(attach_id_copy(&a->id, &h->atts[0].id), 0);
	assert_int_equal(attach_id_set_domain(&a->id, "other"), 0);
	a->id.seq = 99;
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(p.results[0].n_queues, 1);
	assert_int_equal(p.results[1].state, ATTACH_STATE_FAILED);
	plan_clear(&p);
	del_h(h);
}

/* Hundreds of attachments in no order, MACs repeated: of each MAC the
 * first in planning order (seq) is planned, each later one is refused as
 * attached twice, whatever order the store holds them in (the planner
 * sorts them by MAC: several runs of its merge). */
static void test_duplicate_macs_in_any_order(void **state)
{
	unsigned seed;

	for (seed = 1; seed <= 8; seed++) {
		struct harness *h = capable();
		uint64_t macs[97];
		size_t n = 64 + 37 * seed, i, k;
		struct plan p;

		srand(seed);
		for (i = 0; i < 97; i++)
			macs[i] = ((uint64_t)rand() << 24 ^ (uint64_t)rand()) & 0xffffffffffffull;
		harness_policy(h, 4, 0);
		for (i = 0; i < n; i++)
			harness_attach(h, "vm", (unsigned)i + 1, 1);
		for (i = 0; i < n; i++) { /* seq: a permutation; MAC: one of 97 */
			struct attach_id *id = &h->atts[i].id;
			uint64_t m = macs[(size_t)rand() % (seed % 2 ? 97 : 13)];
			size_t j = (size_t)rand() % (i + 1);
			uint64_t t = h->atts[j].id.seq;

			for (k = 0; k < NIC_MAC_LEN; k++)
				id->mac[k] = (uint8_t)(m >> (8 * (NIC_MAC_LEN - 1 - k)));
			h->atts[j].id.seq = id->seq;
			id->seq = t;
		}
		harness_observe(h);
		harness_plan(h, PLAN_MODE_NORMAL, &p);
		assert_int_equal(p.n_results, n);
		for (i = 0; i < n; i++) {
			bool later = false, refused = false;

			for (k = 0; k < n && !later; k++)
				later = k != i &&
					!memcmp(h->atts[k].id.mac, h->atts[i].id.mac, NIC_MAC_LEN) &&
					h->atts[k].id.seq < h->atts[i].id.seq;
			for (k = 0; k < p.results[i].n_reasons; k++)
				refused |= p.results[i].reasons[k].err == EEXIST &&
					   strstr(p.results[i].reasons[k].msg, "attached twice");
			assert_int_equal(refused, later);
			assert_int_equal(p.results[i].state == ATTACH_STATE_FAILED, later);
		}
		plan_clear(&p);
		del_h(h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numa_preference),
		cmocka_unit_test(test_exhaustion_degrade),
		cmocka_unit_test(test_exhaustion_fail),
		cmocka_unit_test(test_partial_degrade),
		cmocka_unit_test(test_journal_only_plan_settles),
		cmocka_unit_test(test_same_reasons_share_text),
		cmocka_unit_test(test_reasons_in_order_each_own_words),
		cmocka_unit_test(test_waiting_reason_follows_the_pool),
		cmocka_unit_test(test_numa_reason_alone_not_degraded),
		cmocka_unit_test(test_rebalance_compacts_and_numa),
		cmocka_unit_test(test_rebalance_threshold),
		cmocka_unit_test(test_duplicate_mac_rejected),
		cmocka_unit_test(test_duplicate_macs_in_any_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
