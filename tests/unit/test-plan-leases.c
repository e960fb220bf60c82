// SPDX-License-Identifier: MIT
/* Unit tests of the planner for leases (issue 12, DESIGN.md §14): a lease
 * is an attachment with a flow instead of a MAC; it gets pool queues, flow
 * rules (one per address family, or to an RSS context), header split with
 * hds-thresh 0, never a binding; its consumer's provider does not make its
 * queue foreign; release puts everything back.  Applied through exec.c to
 * the test-only fake NIC. */
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

/* A lease of queues for tcp dport (and dst, when given) as reconcile makes one. */
static struct attach *lease(struct harness *h, uint32_t id, uint16_t dport, const char *dst,
			    uint32_t queues)
{
	struct attach *a = harness_attach(h, "lease", id, queues);
	char name[ATTACH_LEASE_NAME_MAX];

	a->id.kind = ATTACH_KIND_LEASE;
	a->id.lease.id = id;
	attach_lease_key(id, a->id.mac);
	a->id.tap_ifindex = 0;
	memset(&a->id.lease.flow, 0, sizeof(a->id.lease.flow));
	a->id.lease.flow.proto = IPPROTO_TCP;
	a->id.lease.flow.dport = dport;
	if (dst) {
		a->id.lease.flow.dst_family = strchr(dst, ':') ? AF_INET6 : AF_INET;
		assert_int_equal(inet_pton(a->id.lease.flow.dst_family, dst, &a->id.lease.flow.dst), 1);
	}
	snprintf(name, sizeof(name), "lease-%u", id);
	assert_int_equal(attach_id_set_domain(&a->id, name), 0);
	assert_int_equal(attach_id_validate(&a->id, &(struct kerror){ 0 }), 0);
	return a;
}

static const struct nic_rule *fake_rule(struct harness *h, uint32_t loc)
{
	harness_observe(h);
	return nic_find_rule(&h->nic, loc);
}

static void test_lease_prepares_the_queue(void **state)
{
	struct harness *h = capable();
	struct attach *a;
	struct plan p;
	const struct plan_op *op;
	char *pristine = dump(h);
	char buf[256];
	size_t i, n_rules = 0;

	harness_policy(h, 2, 0);
	harness_enable_binder(h, 0); /* a binder is there: a lease still gets no binding */
	a = lease(h, 1, 9000, NULL, 1);
	harness_observe(h);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_null(find_op(&p, PLAN_OP_BIND, NULL));
	op = find_op(&p, PLAN_OP_SET_RINGS, NULL);
	assert_non_null(op);
	assert_true(op->rings.has_tcp_data_split && op->rings.tcp_data_split == NIC_TDS_ENABLED);
	assert_true(op->rings.has_hds_thresh && op->rings.hds_thresh == 0);
	ethtool_is(op, "ethtool -G eth0 tcp-data-split on hds-thresh 0");
	for (i = 0; i < p.n_ops; i++) {
		if (p.ops[i].kind != PLAN_OP_RULE_INSERT)
			continue;
		n_rules++;
		assert_true(nic_rule_match_is_flow(p.ops[i].rule.match));
		assert_int_equal(p.ops[i].rule.action, NIC_RULE_ACTION_QUEUE);
		plan_op_ethtool(&p.ops[i], buf, sizeof(buf));
		assert_non_null(strstr(buf, "flow-type tcp"));
		assert_non_null(strstr(buf, " dst-port 9000 "));
	}
	assert_int_equal(n_rules, 2); /* tcp4 and tcp6 */
	plan_clear(&p);

	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(a->res.n_queues, 1);
	assert_string_equal(a->res.steering, "flow");
	assert_int_equal(a->res.n_rules, 2);
	assert_int_equal(a->res.n_reasons, 0);
	assert_int_equal(a->res.state, ATTACH_STATE_PENDING); /* waiting for its consumer */
	assert_true(h->j.has_tds_prior && h->j.has_hds_prior);
	assert_int_equal(h->j.hds_prior, 256);
	for (i = 0; i < a->res.n_rules; i++)
		assert_int_equal(fake_rule(h, a->res.rule_locs[i])->queue, a->res.queues[0].queue);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);

	/* the consumer binds: active, and nothing moves or is undone */
	assert_int_equal(fake_net_ext_set_provider(h->net, h->ifindex, a->res.queues[0].queue,
						   NIC_PROVIDER_IO_URING),
			 0);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_REBALANCE), 0);
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_int_equal(p.results[0].state, ATTACH_STATE_ACTIVE);
	assert_int_equal(p.results[0].queues[0].providers, NIC_PROVIDER_IO_URING);
	plan_clear(&p);
	assert_int_equal(fake_net_ext_set_provider(h->net, h->ifindex, a->res.queues[0].queue, 0), 0);

	/* released: the NIC as it was (header split, rules, table) */
	assert_true(harness_detach(h, 1));
	harness_policy(h, 0, 0);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_dump(h, pristine);
	assert_true(journal_nic_empty(&h->j));
	free(pristine);
	del_h(h);
}

static void test_lease_with_address_and_context(void **state)
{
	struct harness *h = capable();
	struct attach *a;
	const struct nic_rule *r;

	harness_policy(h, 4, 0);
	a = lease(h, 2, 443, "fd00::5", 2);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(a->res.n_queues, 2);
	assert_true(a->res.has_context);
	assert_int_equal(a->res.n_rules, 1); /* only IPv6 */
	r = fake_rule(h, a->res.rule_locs[0]);
	assert_non_null(r);
	assert_int_equal(r->match, NIC_RULE_MATCH_FLOW6);
	assert_int_equal(r->flow.family, AF_INET6);
	assert_true(r->flow.has_dst);
	assert_int_equal(r->action, NIC_RULE_ACTION_CONTEXT);
	assert_int_equal(r->rss_context, a->res.rss_context);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	del_h(h);
}

static void test_lease_without_header_split(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;
	struct attach *a;

	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.header_split = cfg.hds_thresh = false;
	h = new_h(&cfg);
	harness_policy(h, 2, 0);
	a = lease(h, 3, 80, NULL, 1);
	harness_observe(h);
	{
		struct plan p;

		harness_plan(h, PLAN_MODE_NORMAL, &p);
		assert_non_null(reason_of(&(struct attach){ .res = p.results[0] },
					  ATTACH_R_HEADER_SPLIT));
		assert_int_equal(p.results[0].state, ATTACH_STATE_DEGRADED);
		plan_clear(&p);
	}
	(void)a;
	del_h(h);
}

static void test_flow_rules_refused_are_learned(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;
	struct attach *a;

	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.flow_rules = false; /* the driver takes MAC rules, not TCP/UDP ones */
	h = new_h(&cfg);
	harness_policy(h, 2, 0);
	a = lease(h, 4, 80, NULL, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_true(h->learned_count >= 1);
	assert_string_equal(a->res.steering, "");
	assert_non_null(strstr(reason_msg(a, ATTACH_R_UNSTEERED), "TCP/UDP flow rules"));
	del_h(h);
}

static void test_ipv6_flow_rules_refused_leave_ipv4(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;
	struct attach *a, *b;

	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.flow6_rules = false; /* like netdevsim-zx: TCP_V4/UDP_V4 only */
	h = new_h(&cfg);
	harness_policy(h, 2, 0);
	a = lease(h, 6, 80, NULL, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_int_equal(h->learned_count, 1);
	assert_string_equal(a->res.steering, "flow");
	assert_int_equal(a->res.n_rules, 1);
	assert_int_equal(fake_rule(h, a->res.rule_locs[0])->match, NIC_RULE_MATCH_FLOW4);
	assert_non_null(strstr(reason_msg(a, ATTACH_R_FLOW_FAMILY), "IPv6 packets"));
	/* an IPv6-only flow cannot be steered there at all */
	b = lease(h, 7, 81, "fd00::1", 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 4), 0);
	assert_non_null(reason_of(b, ATTACH_R_UNSTEERED));
	assert_int_equal(b->res.n_rules, 0);
	assert_int_equal(harness_pending_ops(h, PLAN_MODE_NORMAL), 0);
	del_h(h);
}

static void test_foreign_provider_queue_not_leased_consumer_queue_kept(void **state)
{
	struct harness *h = capable();
	struct attach *a, *vm;

	harness_policy(h, 2, 0);
	/* queue 7 has an io_uring provider zcrxd did not make: never leased */
	assert_int_equal(fake_net_ext_set_provider(h->net, h->ifindex, 7, NIC_PROVIDER_IO_URING), 0);
	a = lease(h, 5, 80, NULL, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(a->res.n_queues, 1);
	assert_int_equal(a->res.queues[0].queue, 6);
	/* its own consumer on queue 6: still the lease's, and a vNIC gets nothing */
	assert_int_equal(fake_net_ext_set_provider(h->net, h->ifindex, 6, NIC_PROVIDER_DMABUF), 0);
	vm = harness_attach(h, "vm", 0x77, 1);
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(a->res.n_queues, 1);
	assert_int_equal(a->res.queues[0].queue, 6);
	assert_int_equal(a->res.state, ATTACH_STATE_ACTIVE);
	assert_int_equal(vm->res.n_queues, 0);
	assert_non_null(reason_of(vm, ATTACH_R_POOL_EXHAUSTED));
	/* the lease released while its consumer holds the queue: the queue is
	 * foreign now, and header split stays for the provider */
	assert_true(harness_detach(h, 5));
	assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	assert_int_equal(vm->res.n_queues, 0);
	harness_observe(h);
	assert_int_equal(h->nic.rings.tcp_data_split, NIC_TDS_ENABLED);
	del_h(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_prepares_the_queue),
		cmocka_unit_test(test_lease_with_address_and_context),
		cmocka_unit_test(test_lease_without_header_split),
		cmocka_unit_test(test_flow_rules_refused_are_learned),
		cmocka_unit_test(test_ipv6_flow_rules_refused_leave_ipv4),
		cmocka_unit_test(test_foreign_provider_queue_not_leased_consumer_queue_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
