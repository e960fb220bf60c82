// SPDX-License-Identifier: MIT
/*
 * Unit tests: what the executor (zcrxd/exec.c) and the plan's op
 * descriptions say, on the test-only fake NIC:
 *   - a refused op's text names the NIC once, keeps its step number whole
 *     and has the errno's text where the kernel gave none (issue 9, bug 6);
 *   - a description too long for the op field is cut at a word;
 *   - an RSS context made in the same plan is never shown as a "$CTXn"
 *     placeholder: in words before it exists, by the kernel's id after.
 */
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

/* A harness on one NIC of cfg with vm1's 2-queue vNIC, planned in *p. */
static struct harness *vm1_planned(const struct fake_nic_cfg *cfg, struct plan *p)
{
	struct harness *h = harness_new(cfg);

	harness_policy(h, 4, 0);
	harness_attach(h, "vm1", 1, 2);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, p);
	return h;
}

/* The last op of p of that kind, -1 when there is none. */
static int op_index(const struct plan *p, enum plan_op_kind kind)
{
	int k = -1;
	size_t i;

	for (i = 0; i < p->n_ops; i++)
		if (p->ops[i].kind == kind)
			k = (int)i;
	return k;
}

/* Issue 9, bug 6: the log line of a refused op names the NIC once, keeps
 * the op's step number whole, and has the errno's text where the kernel
 * gave none (the ioctl). */
static void test_failure_text(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;
	struct exec_env env;
	struct exec_result res;
	struct plan_op long_op;
	struct plan p;
	char buf[512], want[256], mac[18];
	int ins, ctx;

	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.l2_context = false; /* MAC rules to a context: EOPNOTSUPP, no text */
	h = vm1_planned(&cfg, &p);
	env = harness_exec_env(h);
	ins = op_index(&p, PLAN_OP_RULE_INSERT);
	ctx = op_index(&p, PLAN_OP_RSS_CREATE);
	assert_true(ins >= 0 && ctx >= 0);
	assert_true(exec_plan(&env, &p, &h->j, &res) < 0);
	assert_int_equal(res.failed, ins);
	assert_string_equal(res.err.obj, "eth0");
	snprintf(want, sizeof(want),
		 "insert rule ether dst %s -> the context of step %d: Operation not supported "
		 "(EOPNOTSUPP); rolled back %zu ops",
		 nic_mac_format(h->atts[0].id.mac, mac), ctx + 1, res.n_applied);
	assert_string_equal(exec_result_format_in(&res, "eth0", buf, sizeof(buf)), want);
	/* without the NIC in the line: it is named, once */
	exec_result_format(&res, buf, sizeof(buf));
	assert_int_equal(strncmp(buf, "eth0: insert rule", 17), 0);
	assert_null(strstr(buf, "eth0: eth0:"));
	plan_clear(&p);

	/* a description longer than the op field (a lease's IPv6 flow with
	 * both addresses) is cut at a word, not inside an address or number */
	memset(&long_op, 0, sizeof(long_op));
	long_op.kind = PLAN_OP_RULE_INSERT;
	long_op.ctx_op = 0; /* its own index: x.out has one entry per op */
	snprintf(long_op.nic, sizeof(long_op.nic), "eth0");
	long_op.rule.match = NIC_RULE_MATCH_FLOW6;
	long_op.rule.action = NIC_RULE_ACTION_CONTEXT;
	long_op.rule.flow.proto = 6;
	long_op.rule.flow.family = AF_INET6;
	long_op.rule.flow.has_dst = long_op.rule.flow.has_src = true;
	long_op.rule.flow.dport = 65001;
	long_op.rule.flow.sport = 65002;
	memset(&long_op.rule.flow.dst, 0xab, sizeof(long_op.rule.flow.dst));
	memset(&long_op.rule.flow.src, 0xcd, sizeof(long_op.rule.flow.src));
	plan_op_describe(&long_op, buf, sizeof(buf));
	assert_true(strlen(buf) >= KERROR_OP_MAX);
	fake_net_reset_calls(h->net);
	harness_policy(h, 4, 0);
	p.n_ops = 1;
	p.ops = &long_op;
	snprintf(p.nic, sizeof(p.nic), "eth0");
	env.nic = fake_net_backend(h->net);
	fake_net_fail_at(h->net, 1, EINVAL, NULL);
	assert_true(exec_plan(&env, &p, &h->j, &res) < 0);
	fake_net_fail_at(h->net, 0, 0, NULL);
	assert_true(strlen(res.err.op) < KERROR_OP_MAX);
	assert_int_equal(strncmp(res.err.op, buf, strlen(res.err.op) - 3), 0);
	assert_string_equal(res.err.op + strlen(res.err.op) - 4, " ...");
	harness_destroy(h);
}

/* Issue 9: a context made in the same plan has no id until the kernel
 * gives one; no description shows a placeholder for it ("create RSS
 * context $CTX3"): a refusal says "create RSS context: TABLE", and once
 * applied the log lines name the kernel's id (exec_plan_ids). */
static void test_context_named_by_id(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;
	struct exec_env env;
	struct exec_result res;
	struct plan p;
	char buf[512], want[256], mac[18];
	uint32_t *ids;
	int ins, ctx;

	(void)state;
	fake_nic_cfg_capable(&cfg, "eth0");
	h = vm1_planned(&cfg, &p);
	env = harness_exec_env(h);
	ins = op_index(&p, PLAN_OP_RULE_INSERT);
	ctx = op_index(&p, PLAN_OP_RSS_CREATE);
	assert_true(ins >= 0 && ctx >= 0 && p.ops[ins].ctx_op == ctx);
	plan_op_describe(&p.ops[ctx], buf, sizeof(buf));
	assert_null(strchr(buf, '$'));
	assert_int_equal(strncmp(buf, "create RSS context: ", 20), 0);

	ids = calloc(p.n_ops, sizeof(*ids));
	assert_non_null(ids);
	/* applied: the ids the kernel gave */
	assert_int_equal(exec_plan_ids(&env, &p, &h->j, &res, ids), 0);
	assert_true(ids[ctx] > 0);
	snprintf(want, sizeof(want), "create RSS context %u: ", ids[ctx]);
	plan_op_describe_done(&p.ops[ctx], ids[ctx], 0, buf, sizeof(buf));
	assert_int_equal(strncmp(buf, want, strlen(want)), 0);
	snprintf(want, sizeof(want), "insert rule ether dst %s -> context %u",
		 nic_mac_format(h->atts[0].id.mac, mac), ids[ctx]);
	assert_string_equal(plan_op_describe_done(&p.ops[ins], ids[ins], ids[ctx], buf,
						  sizeof(buf)), want);
	free(ids);
	plan_clear(&p);
	harness_destroy(h);
}

/* A refused context creation is named in words, not "$CTXn". */
static void test_context_refusal_text(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;
	struct exec_env env;
	struct exec_result res;
	struct plan p;
	char buf[512];

	(void)state;
	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.max_contexts = 1;
	h = vm1_planned(&cfg, &p);
	env = harness_exec_env(h);
	assert_int_equal(exec_plan(&env, &p, &h->j, &res), 0);
	plan_clear(&p);
	/* a second 2-queue vNIC: its context is refused (one context only) */
	harness_attach(h, "vm2", 2, 2);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_true(exec_plan(&env, &p, &h->j, &res) < 0);
	assert_true(res.failed >= 0);
	assert_int_equal(p.ops[res.failed].kind, PLAN_OP_RSS_CREATE);
	exec_result_format_in(&res, "eth0", buf, sizeof(buf));
	assert_null(strchr(buf, '$'));
	assert_int_equal(strncmp(buf, "create RSS context: ", 20), 0);
	plan_clear(&p);
	harness_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failure_text),
		cmocka_unit_test(test_context_named_by_id),
		cmocka_unit_test(test_context_refusal_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
