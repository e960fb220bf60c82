// SPDX-License-Identifier: MIT
/*
 * Unit tests: the staged plans' first rule inserts made in one hand-over
 * (exec_prefetch, zcrxd/exec.h) through the bounded backend (nic-bound,
 * its real worker thread) over the test-only fake NIC:
 *   - the plans then apply as exec_plan applies them, without one more
 *     NIC call of their own: same NIC, same journal, nothing left to do;
 *   - an insert the NIC refuses fails its plan at that op with the NIC's
 *     text, the plan's later inserts are not tried, and the rollback
 *     leaves NIC and journal as before the staging;
 *   - a hand-over whose outcome is unknown (it overran) fails the plan
 *     with ETIMEDOUT and keeps every insert it held owned, pending;
 *   - a staged plan taken back after its inserts were made (the NIC
 *     calls hang) keeps them owned, pending.
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

#include "nic-bound.h"
#include "plan-harness.h"

/* A NIC with vm1 attached and applied, then n more (vm2, vm3, ..., one
 * queue each) to attach: a plan whose kernel ops are their steering rules. */
static struct harness *setup_n(int n)
{
	static const char *const names[] = { "vm2", "vm3" };
	struct fake_nic_cfg cfg;
	struct harness *h;
	int k;

	fake_nic_cfg_capable(&cfg, "eth0");
	h = harness_new(&cfg);
	harness_policy(h, 4, 12);
	harness_attach(h, "vm1", 1, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_true(n >= 0 && n <= 2);
	for (k = 0; k < n; k++)
		harness_attach(h, names[k], 2 + k, 1);
	harness_observe(h);
	return h;
}

static struct harness *setup(void)
{
	return setup_n(2);
}

static size_t count_kernel(const struct plan *p, enum plan_op_kind kind)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_ops; i++)
		n += p->ops[i].kind == kind && plan_op_is_kernel(&p->ops[i]);
	return n;
}

static size_t pending_rules(const struct journal_nic *j)
{
	size_t i, n = 0;

	for (i = 0; i < j->n_rules; i++)
		n += j->rules[i].pending;
	return n;
}

struct bound {
	struct nic_bound *b;
	struct exec_env env;
};

static void bound_begin(struct bound *x, struct harness *h)
{
	struct exec_env inner = harness_exec_env(h);

	assert_int_equal(nic_bound_new(NULL, inner.nic, 0, &x->b), 0);
	x->env = inner;
	x->env.nic = nic_bound_backend(x->b);
	assert_non_null(x->env.nic.ops->rule_insert_many);
}

static void test_prefetched_apply_as_exec_plan(void **state)
{
	struct harness *h1 = setup(), *h2 = setup();
	struct exec_env env1 = harness_exec_env(h1), env2 = harness_exec_env(h2);
	struct exec_staged st, *sts[1] = { &st };
	const struct plan *plans[1];
	struct exec_result res;
	struct bound x;
	struct plan p1, p2;
	char *d0, *d1, *d2;

	(void)state;
	harness_plan(h1, PLAN_MODE_NORMAL, &p1);
	harness_plan(h2, PLAN_MODE_NORMAL, &p2);
	assert_int_equal(count_kernel(&p2, PLAN_OP_RULE_INSERT), 2);
	assert_int_equal(exec_plan(&env1, &p1, &h1->j, &res), 0);

	bound_begin(&x, h2);
	d0 = fake_net_dump(h2->net, h2->ifindex);
	assert_int_equal(exec_stage(&p2, &h2->j, &st), 1);
	plans[0] = &p2;
	assert_int_equal(exec_prefetch(&x.env, plans, sts, 1), 2);
	assert_non_null(st.pre);
	/* made: the NIC has the rules before the plan runs */
	d2 = fake_net_dump(h2->net, h2->ifindex);
	assert_string_not_equal(d0, d2);
	free(d2);
	/* any NIC call the plan made itself now would fail */
	fake_net_fail_at(h2->net, 1, EIO, "fake: the plan called the NIC itself");
	assert_int_equal(exec_plan_staged(&env2, &p2, &h2->j, &st, &res, NULL), 0);
	fake_net_fail_at(h2->net, 0, 0, NULL);
	assert_null(st.pre);
	assert_false(journal_nic_has_pending(&h2->j));

	d1 = fake_net_dump(h1->net, h1->ifindex);
	d2 = fake_net_dump(h2->net, h2->ifindex);
	assert_string_equal(d1, d2);
	assert_int_equal(h1->j.n_rules, h2->j.n_rules);
	harness_observe(h2);
	assert_int_equal(harness_pending_ops(h2, PLAN_MODE_NORMAL), 0);
	free(d0);
	free(d1);
	free(d2);
	nic_bound_free(x.b);
	plan_clear(&p1);
	plan_clear(&p2);
	harness_destroy(h1);
	harness_destroy(h2);
}

/* One NIC's plan, staged over the bounded backend, ready for exec_prefetch;
 * before is the journal as it was. */
struct staged_case {
	struct harness *h;
	struct exec_staged st, *sts[1];
	const struct plan *plans[1];
	struct journal_nic before;
	struct bound x;
	struct plan p;
};

static void case_begin(struct staged_case *c)
{
	c->h = setup();
	harness_plan(c->h, PLAN_MODE_NORMAL, &c->p);
	bound_begin(&c->x, c->h);
	assert_int_equal(journal_nic_copy(&c->before, &c->h->j), 0);
	assert_int_equal(exec_stage(&c->p, &c->h->j, &c->st), 1);
	c->sts[0] = &c->st;
	c->plans[0] = &c->p;
}

static void case_end(struct staged_case *c)
{
	journal_nic_clear(&c->before);
	nic_bound_free(c->x.b);
	plan_clear(&c->p);
	harness_destroy(c->h);
}

static void test_prefetched_refusal_rolls_back(void **state)
{
	struct staged_case c;
	struct exec_result res;
	char *d0, *d1;

	(void)state;
	case_begin(&c);
	assert_int_equal(count_kernel(&c.p, PLAN_OP_RULE_INSERT), 2);
	d0 = fake_net_dump(c.h->net, c.h->ifindex);
	/* the first insert is refused: the second is not tried */
	fake_net_fail_at(c.h->net, 1, EINVAL, "fake: refused");
	assert_int_equal(exec_prefetch(&c.x.env, c.plans, c.sts, 1), 2);
	fake_net_fail_at(c.h->net, 0, 0, NULL);
	d1 = fake_net_dump(c.h->net, c.h->ifindex);
	assert_string_equal(d0, d1);
	free(d1);
	assert_true(exec_plan_staged(&c.x.env, &c.p, &c.h->j, &c.st, &res, NULL) < 0);
	assert_int_equal(res.err.err, EINVAL);
	assert_non_null(strstr(res.err.msg, "fake: refused"));
	assert_int_equal(c.p.ops[res.failed].kind, PLAN_OP_RULE_INSERT);
	assert_true(res.rolled_back);
	assert_int_equal(res.n_undo_failed, 0);
	d1 = fake_net_dump(c.h->net, c.h->ifindex);
	assert_string_equal(d0, d1);
	assert_int_equal(c.h->j.n_rules, c.before.n_rules);
	assert_false(journal_nic_has_pending(&c.h->j));
	free(d0);
	free(d1);
	case_end(&c);
}

/* The bounded backend's inserts, then "overran": every outcome unknown. */
static struct nic_ops overran_ops;
static const struct nic_ops *overran_inner;

static int overran_insert_many(void *be, struct nic_rule_call *calls, size_t n,
			       struct kerror *err)
{
	int r = overran_inner->rule_insert_many(be, calls, n, err);

	assert_int_equal(r, 0);
	return kerror_set(err, ETIMEDOUT, calls[0].name, "insert rule", "fake: overran");
}

static void test_prefetch_overran_keeps_pending(void **state)
{
	struct staged_case c;
	struct exec_result res;

	(void)state;
	case_begin(&c);
	overran_inner = c.x.env.nic.ops;
	overran_ops = *c.x.env.nic.ops;
	overran_ops.rule_insert_many = overran_insert_many;
	c.x.env.nic.ops = &overran_ops;
	assert_int_equal(exec_prefetch(&c.x.env, c.plans, c.sts, 1), 2);
	assert_true(exec_plan_staged(&c.x.env, &c.p, &c.h->j, &c.st, &res, NULL) < 0);
	assert_int_equal(res.err.err, ETIMEDOUT);
	assert_true(res.outcome_unknown);
	/* both rules are on the NIC, and both are owned (pending) */
	assert_int_equal(c.h->j.n_rules, c.before.n_rules + 2);
	assert_int_equal(pending_rules(&c.h->j), 2);
	case_end(&c);
}

static void test_unstage_after_prefetch_keeps_pending(void **state)
{
	struct staged_case c;

	(void)state;
	case_begin(&c);
	assert_int_equal(exec_prefetch(&c.x.env, c.plans, c.sts, 1), 2);
	exec_unstage(&c.p, &c.h->j, &c.st);
	assert_null(c.st.pre);
	assert_int_equal(c.h->j.n_rules, c.before.n_rules + 2);
	assert_int_equal(pending_rules(&c.h->j), 2);
	case_end(&c);
}

static void test_one_insert_not_prefetched(void **state)
{
	struct harness *h = setup_n(1);
	struct exec_staged st, *sts[1] = { &st };
	const struct plan *plans[1];
	struct bound x;
	struct plan p;

	(void)state;
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(count_kernel(&p, PLAN_OP_RULE_INSERT), 1);
	bound_begin(&x, h);
	assert_int_equal(exec_stage(&p, &h->j, &st), 1);
	plans[0] = &p;
	/* one hand-over for one insert gains nothing: the plan makes it */
	assert_int_equal(exec_prefetch(&x.env, plans, sts, 1), 0);
	assert_null(st.pre);
	exec_unstage(&p, &h->j, &st);
	nic_bound_free(x.b);
	plan_clear(&p);
	harness_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefetched_apply_as_exec_plan),
		cmocka_unit_test(test_prefetched_refusal_rolls_back),
		cmocka_unit_test(test_prefetch_overran_keeps_pending),
		cmocka_unit_test(test_unstage_after_prefetch_keeps_pending),
		cmocka_unit_test(test_one_insert_not_prefetched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
