// SPDX-License-Identifier: MIT
/*
 * test-nic-read-many — nic_monitor_refresh_many(), what a batch of Attach
 * requests reads its NICs with: over the bounded backend (nic-bound.c) and
 * the fake NIC, the NICs are read in one kernel-call hand-over, what
 * changed outside on each (where no notification tells) is taken into the
 * table with a new generation only where something changed, and a device
 * that went away leaves the table while the others are read.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake-nic.h"
#include "kcall.h"
#include "nic-bound.h"
#include "nic-monitor.h"

#define BOUND_USEC 2000000ULL

struct fixture {
	sd_event *ev;
	struct fake_net *net;
	struct nic_bound *b;
	int ifx[3];
};

static void setup(struct fixture *f)
{
	static const char *const names[] = { "eth0", "eth1", "eth2" };
	size_t i;

	memset(f, 0, sizeof(*f));
	assert_int_equal(sd_event_new(&f->ev), 0);
	assert_int_equal(fake_net_new(&f->net), 0);
	for (i = 0; i < 3; i++) {
		struct fake_nic_cfg cfg;

		fake_nic_cfg_capable(&cfg, names[i]);
		assert_int_equal(fake_net_add(f->net, &cfg, &f->ifx[i]), 0);
	}
	assert_int_equal(nic_bound_new(f->ev, fake_net_backend(f->net), BOUND_USEC, &f->b), 0);
}

static void teardown(struct fixture *f)
{
	nic_bound_free(f->b);
	fake_net_free(f->net);
	sd_event_unref(f->ev);
}

static uint64_t calls(const struct fixture *f)
{
	return kcall_get_stats(nic_bound_kcall(f->b)).calls;
}

static void test_refresh_many(void **state)
{
	struct fixture f;
	struct nic_monitor *m;
	struct kerror err;
	struct nic_rule rule = { 0 };
	uint64_t gen[3], c0;
	int all[3];
	size_t i;

	(void)state;
	/* the monitor listens to the kernel's notifications: in a network
	 * namespace of its own where it can have one (none of them names a
	 * fake NIC either way) */
	if (geteuid() == 0)
		assert_int_equal(unshare(CLONE_NEWNET), 0);
	setup(&f);
	assert_int_equal(fake_net_ext_set_ntuple(f.net, f.ifx[1], true), 0); /* rules on */
	assert_int_equal(nic_monitor_new(f.ev, nic_bound_backend(f.b), &m, &err), 0);
	for (i = 0; i < 3; i++) {
		assert_non_null(nic_monitor_get(m, f.ifx[i]));
		gen[i] = nic_monitor_get(m, f.ifx[i])->generation;
		all[i] = f.ifx[i];
	}
	/* from outside, where no notification tells: channels on eth0, a rule
	 * on eth1; nothing on eth2 */
	assert_int_equal(fake_net_ext_set_channels(f.net, f.ifx[0], 2, 0), 0);
	rule.location = 7;
	rule.match = NIC_RULE_MATCH_ETHER_DST;
	memcpy(rule.mac, "\x52\x54\x00\x00\x00\x07", NIC_MAC_LEN);
	rule.action = NIC_RULE_ACTION_QUEUE;
	rule.queue = 1;
	assert_int_equal(fake_net_ext_rule_insert(f.net, f.ifx[1], &rule), 0);
	c0 = calls(&f);
	assert_int_equal(nic_monitor_refresh_many(m, all, 3, NIC_OBSERVE_ALL), 0);
	assert_int_equal(calls(&f) - c0, 1);
	assert_int_equal(nic_monitor_get(m, f.ifx[0])->ch.combined, 2);
	assert_int_equal(nic_monitor_get(m, f.ifx[0])->generation, gen[0] + 1);
	assert_int_equal(nic_monitor_get(m, f.ifx[1])->n_rules, 1);
	assert_int_equal(nic_monitor_get(m, f.ifx[1])->rules[0].location, 7);
	assert_int_equal(nic_monitor_get(m, f.ifx[1])->generation, gen[1] + 1);
	assert_int_equal(nic_monitor_get(m, f.ifx[2])->generation, gen[2]);

	/* eth1 goes away: it leaves the table, the others are read */
	assert_int_equal(fake_net_remove(f.net, f.ifx[1]), 0);
	assert_int_equal(fake_net_ext_set_channels(f.net, f.ifx[2], 5, 0), 0);
	assert_int_equal(nic_monitor_refresh_many(m, all, 3, NIC_OBSERVE_ALL), 0);
	assert_null(nic_monitor_get(m, f.ifx[1]));
	assert_int_equal(nic_monitor_get(m, f.ifx[2])->ch.combined, 5);
	assert_int_equal(nic_monitor_get(m, f.ifx[0])->ch.combined, 2);

	nic_monitor_free(m);
	teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refresh_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
