// SPDX-License-Identifier: MIT
/*
 * Unit tests: a plan's intent staged (exec_stage), so that one sync makes
 * several plans' intents durable (zcrxd/exec.h), on the test-only fake NIC
 * and a stub binder:
 *   - staged, then applied: the same NIC, bindings and journal as exec_plan,
 *     and the intent is not persisted a second time;
 *   - the staged intent is in the journal before anything is applied, and
 *     a refused op rolls the plan back to the journal before the intent;
 *   - unstaged (the sync failed): the journal as before, the NIC untouched;
 *   - a plan that needs no intent is not staged.
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

#include "plan-harness.h"

static unsigned persists;

static int count_persist(void *ud, const struct journal_nic *j, struct kerror *err)
{
	(void)ud;
	(void)j;
	persists++;
	return 0;
}

/* A fresh NIC with two vNICs to attach (contexts, rules, bindings). */
static struct harness *setup(void)
{
	struct fake_nic_cfg cfg;
	struct harness *h;

	fake_nic_cfg_capable(&cfg, "eth0");
	h = harness_new(&cfg);
	harness_enable_binder(h, BINDER_FEATURE_NEEDS_HDS);
	harness_policy(h, 4, 12);
	harness_attach(h, "vm1", 1, 2);
	harness_attach(h, "vm2", 2, 1);
	harness_observe(h);
	return h;
}

static void assert_same_journal(const struct journal_nic *a, const struct journal_nic *b)
{
	assert_int_equal(a->n_rules, b->n_rules);
	assert_int_equal(a->n_ctxs, b->n_ctxs);
	assert_int_equal(a->n_bindings, b->n_bindings);
	assert_int_equal(a->n_leases, b->n_leases);
	assert_int_equal(journal_nic_has_pending(a), journal_nic_has_pending(b));
	assert_int_equal(a->has_channels_prior, b->has_channels_prior);
	assert_int_equal(a->has_ntuple_prior, b->has_ntuple_prior);
}

/* The journal and the fake NIC as they were, to show that nothing changed. */
struct before {
	struct journal_nic j;
	char *nic;
};

static void before_take(struct harness *h, struct before *b)
{
	assert_int_equal(journal_nic_copy(&b->j, &h->j), 0);
	b->nic = fake_net_dump(h->net, h->ifindex);
	assert_non_null(b->nic);
}

/* Asserts that journal and NIC are as taken, then frees what was taken. */
static void before_check_clear(struct harness *h, struct before *b)
{
	char *now = fake_net_dump(h->net, h->ifindex);

	assert_same_journal(&h->j, &b->j);
	assert_string_equal(b->nic, now);
	free(now);
	free(b->nic);
	journal_nic_clear(&b->j);
}

static void test_staged_applies_as_exec_plan(void **state)
{
	struct harness *h1 = setup(), *h2 = setup();
	struct exec_env env1 = harness_exec_env(h1), env2 = harness_exec_env(h2);
	struct exec_result res;
	struct exec_staged st;
	struct plan p1, p2;
	char *d1, *d2;

	harness_plan(h1, PLAN_MODE_NORMAL, &p1);
	harness_plan(h2, PLAN_MODE_NORMAL, &p2);
	assert_int_equal(exec_plan(&env1, &p1, &h1->j, &res), 0);

	env2.persist = count_persist;
	persists = 0;
	assert_false(journal_nic_has_pending(&h2->j));
	assert_int_equal(exec_stage(&p2, &h2->j, &st), 1);
	/* the intent is in the journal, nothing is on the NIC yet */
	assert_true(journal_nic_has_pending(&h2->j));
	assert_true(h2->j.n_rules > 0);
	assert_int_equal(h2->sb.n, 0);
	assert_int_equal(exec_plan_staged(&env2, &p2, &h2->j, &st, &res, NULL), 0);
	assert_int_equal(persists, 0); /* the caller's, once for all */
	assert_false(journal_nic_has_pending(&h2->j));

	d1 = fake_net_dump(h1->net, h1->ifindex);
	d2 = fake_net_dump(h2->net, h2->ifindex);
	assert_string_equal(d1, d2);
	assert_int_equal(h1->sb.n, h2->sb.n);
	assert_true(h2->sb.n > 0);
	assert_same_journal(&h1->j, &h2->j);
	/* and there is nothing left to do */
	harness_observe(h2);
	assert_int_equal(harness_pending_ops(h2, PLAN_MODE_NORMAL), 0);
	free(d1);
	free(d2);
	plan_clear(&p1);
	plan_clear(&p2);
	harness_destroy(h1);
	harness_destroy(h2);
}

/* A fresh NIC, its plan staged (its intent in the journal, nothing
 * applied), and the journal and NIC as they were before the staging. */
struct staged {
	struct harness *h;
	struct plan p;
	struct exec_staged st;
	struct before before;
};

static void staged_begin(struct staged *c)
{
	c->h = setup();
	harness_plan(c->h, PLAN_MODE_NORMAL, &c->p);
	before_take(c->h, &c->before);
	assert_int_equal(exec_stage(&c->p, &c->h->j, &c->st), 1);
	assert_true(journal_nic_has_pending(&c->h->j));
}

/* Asserts that journal and NIC are back as before the staging; frees. */
static void staged_end_unchanged(struct staged *c)
{
	before_check_clear(c->h, &c->before);
	plan_clear(&c->p);
	harness_destroy(c->h);
}

static void test_staged_rollback(void **state)
{
	struct exec_result res;
	struct exec_env env;
	struct staged c;

	staged_begin(&c);
	env = harness_exec_env(c.h);
	/* the third NIC call fails: two applied, undone */
	fake_net_fail_at(c.h->net, 3, EINVAL, "fake: injected failure");
	assert_true(exec_plan_staged(&env, &c.p, &c.h->j, &c.st, &res, NULL) < 0);
	fake_net_fail_at(c.h->net, 0, 0, NULL);
	assert_true(res.failed >= 0);
	assert_true(res.rolled_back);
	assert_int_equal(res.n_undo_failed, 0);
	staged_end_unchanged(&c);
}

static void test_unstage(void **state)
{
	struct staged c;

	staged_begin(&c);
	exec_unstage(&c.p, &c.h->j, &c.st);
	assert_false(c.st.intent);
	staged_end_unchanged(&c);
}

static void test_no_intent_not_staged(void **state)
{
	struct harness *h = setup();
	struct exec_staged st;
	struct before before;
	struct plan p;

	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	harness_detach(h, 1);
	harness_detach(h, 2);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_true(p.n_ops > 0);
	before_take(h, &before);
	/* only removals of what the journal owns: no intent, nothing recorded */
	assert_int_equal(exec_stage(&p, &h->j, &st), 0);
	assert_false(st.intent);
	before_check_clear(h, &before);
	plan_clear(&p);
	harness_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_staged_applies_as_exec_plan),
		cmocka_unit_test(test_staged_rollback),
		cmocka_unit_test(test_unstage),
		cmocka_unit_test(test_no_intent_not_staged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
