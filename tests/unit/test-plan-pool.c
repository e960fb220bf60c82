// SPDX-License-Identifier: MIT
/* Unit tests of the planner: the pool, the channel count and the default RSS table (zcrxd/plan-pool.c), release and outside changes to them; one table test each, applied through
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
	ethtool_is(find_op(&p, PLAN_OP_RSS_SET, NULL), "ethtool -X eth0 weight 21 21 0 22 21 0 21 22");
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
		cmocka_unit_test(test_release_restores_everything),
		cmocka_unit_test(test_release_resets_a_default_table),
		cmocka_unit_test(test_channels_changed_outside),
		cmocka_unit_test(test_unmanaged_nic_cleaned_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
