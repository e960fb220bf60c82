// SPDX-License-Identifier: MIT
/*
 * test-nic-monitor — the observed-NIC table: nic_diff() on hand-made models,
 * and (as root) the real thing in a private network namespace of this test
 * process: a veth pair appears, `ethtool -L` from outside shows up through
 * the ethtool monitor group with one generation bump, a no-op change bumps
 * nothing, link down/up is seen, the interval's re-read (through zcrxd's
 * bounded calls: one hand-over for the listing and the links known) finds a
 * change, and a
 * deleted device leaves the table.
 * Waits poll the event loop with a deadline; nothing sleeps.
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

#include "deadline.h"
#include "nic-bound.h"
#include "kernel-netns.h"
#include "nic-kernel.h"
#include "nic-monitor.h"

/* ---- nic_diff ------------------------------------------------------------------ */

static void test_diff(void **state)
{
	struct nic a, b;
	struct nic_queue qa[2] = { { .id = 0, .irq = -1 }, { .id = 1, .irq = -1 } };
	struct nic_queue qb[2] = { { .id = 0, .irq = -1 }, { .id = 1, .irq = -1 } };
	uint32_t ia[4] = { 0, 1, 0, 1 }, ib[4] = { 0, 1, 0, 1 };
	struct nic_rss ra = { .indir_size = 4, .indir = ia }, rb = { .indir_size = 4, .indir = ib };

	nic_init(&a);
	nic_init(&b);
	assert_int_equal(nic_diff(&a, &b), 0);
	a.queues = qa;
	b.queues = qb;
	a.n_queues = b.n_queues = 2;
	a.rss = &ra;
	b.rss = &rb;
	a.n_rss = b.n_rss = 1;
	assert_int_equal(nic_diff(&a, &b), 0);

	/* counters and the generation are not content */
	qb[1].rx_packets = 99;
	qb[1].has_qstats = qa[1].has_qstats = true;
	b.generation = 7;
	assert_int_equal(nic_diff(&a, &b), 0);

	ib[3] = 0;
	assert_int_equal(nic_diff(&a, &b), NIC_OBSERVE_RSS);
	ib[3] = 1;
	b.ch.rx = 3;
	assert_int_equal(nic_diff(&a, &b), NIC_OBSERVE_CHANNELS);
	b.ch.rx = 0;
	qb[0].providers = NIC_PROVIDER_XSK;
	assert_int_equal(nic_diff(&a, &b), NIC_OBSERVE_QUEUES);
	qb[0].providers = 0;
	b.link.up = true;
	assert_int_equal(nic_diff(&a, &b), NIC_OBSERVE_LINK);
	b.link.up = false;
	nic_cap_set(&b.caps.ntuple, NIC_CAP_NO, 95, "x");
	assert_int_equal(nic_diff(&a, &b), NIC_OBSERVE_FEATURES);
	nic_cap_set(&a.caps.ntuple, NIC_CAP_NO, 95, "x");
	/* the same text in a buffer with different bytes after the NUL */
	memset(b.caps.rules.msg, 'z', sizeof(b.caps.rules.msg));
	nic_cap_set(&b.caps.rules, NIC_CAP_UNKNOWN, 0, "");
	assert_int_equal(nic_diff(&a, &b), 0);
}

/* ---- live ---------------------------------------------------------------------- */

struct seen {
	int added, updated, removed;
	unsigned what;
	uint64_t generation;
	int last_ifindex;
};

static void on_change(struct nic_monitor *m, const struct nic *nic, enum nic_change c,
		      unsigned what, void *userdata)
{
	struct seen *s = userdata;

	if (strncmp(nic->link.name, "zxn", 3))
		return;
	s->last_ifindex = nic->link.ifindex;
	s->what |= what;
	s->generation = nic->generation;
	if (c == NIC_CHANGE_ADDED)
		s->added++;
	else if (c == NIC_CHANGE_UPDATED)
		s->updated++;
	else
		s->removed++;
}

/* Run the loop until *flag reaches want or 5 s pass. */
static bool run_until(sd_event *ev, const int *flag, int want)
{
	uint64_t end = deadline_now_ms() + 5000;

	while (*flag < want && deadline_now_ms() < end)
		(void)sd_event_run(ev, 100 * 1000);
	return *flag >= want;
}

/* Let the loop settle: process whatever is pending right now. */
static void drain(sd_event *ev)
{
	int i;

	for (i = 0; i < 20; i++)
		if (sd_event_run(ev, 0) == 0)
			break;
}

static bool only_zxn0(const struct nic *nic, void *userdata)
{
	return !strcmp(nic->link.name, "zxn0");
}

static void test_live(void **state)
{
	struct nic_kernel *k;
	struct nic_monitor *m;
	struct kerror err;
	struct seen s = { 0 };
	const struct nic *n;
	sd_event *ev;
	uint64_t gen;
	int ifindex;

	if (!kernel_netns_enter())
		skip();
	assert_int_equal(kernel_netns_monitor(&ev, &k, &m), 0);
	nic_monitor_set_callback(m, on_change, &s);
	assert_int_equal(nic_monitor_count(m), 0); /* lo is not a NIC */

	assert_int_equal(kernel_netns_sh("ip link add zxn0 numrxqueues 8 numtxqueues 8 type veth peer name zxn1 "
			    "numrxqueues 8 numtxqueues 8"), 0);
	assert_true(run_until(ev, &s.added, 2));
	n = nic_monitor_find(m, "zxn0");
	assert_non_null(n);
	ifindex = n->link.ifindex;
	assert_int_equal(n->ch.rx, 8);
	assert_int_equal(n->generation, 1);
	assert_string_equal(n->link.kind, "veth");

	/* a change from outside arrives through the ethtool monitor group */
	s.updated = 0;
	s.what = 0;
	assert_int_equal(kernel_netns_sh("ethtool -L zxn0 rx 3"), 0);
	assert_true(run_until(ev, &s.updated, 1));
	drain(ev);
	n = nic_monitor_get(m, ifindex);
	assert_int_equal(n->ch.rx, 3);
	assert_true(s.what & NIC_OBSERVE_CHANNELS);
	gen = n->generation;
	assert_int_equal(gen, 2);

	/* a no-op: the kernel may or may not notify; nothing must change */
	assert_int_equal(kernel_netns_sh("ethtool -L zxn0 rx 3"), 0);
	assert_int_equal(nic_monitor_refresh(m, ifindex, NIC_OBSERVE_ALL), 0);
	drain(ev);
	assert_int_equal(nic_monitor_get(m, ifindex)->generation, gen);

	/* up: rtnetlink, and queue-get starts listing queues */
	s.updated = 0;
	assert_int_equal(kernel_netns_sh("ip link set zxn0 up"), 0);
	assert_true(run_until(ev, &s.updated, 1));
	drain(ev);
	n = nic_monitor_get(m, ifindex);
	assert_true(n->link.up);
	assert_int_equal(n->n_queues, 3);
	assert_int_equal(n->caps.queue_info.state, NIC_CAP_YES);

	/* the interval's re-read: a link of no interest (zxn1) is read for
	 * its link attributes only, and keeps what was read of it before */
	{
		struct nic_monitor_stats st0 = nic_monitor_stats(m);

		nic_monitor_set_interest(m, only_zxn0, NULL);
		assert_int_equal(nic_monitor_reread(m), 0);
		assert_int_equal(nic_monitor_stats(m).link_only - st0.link_only, 1);
		assert_int_equal(nic_monitor_stats(m).refreshes - st0.refreshes, 2);
		assert_int_equal(nic_monitor_find(m, "zxn1")->ch.rx, 8);
		assert_int_equal(nic_monitor_get(m, ifindex)->ch.rx, 3);
		/* without an interest, everything in full, as a resync */
		st0 = nic_monitor_stats(m);
		nic_monitor_set_interest(m, NULL, NULL);
		assert_int_equal(nic_monitor_reread(m), 0);
		assert_int_equal(nic_monitor_stats(m).link_only, st0.link_only);
		drain(ev);
	}

	/* the same re-read through zcrxd's bounded calls (nic-bound): the
	 * links listed and those the table holds read in one hand-over
	 * (observe_many), and what changed unnoticed (no event run in
	 * between) is found */
	{
		struct nic_bound *b;
		struct nic_monitor *mb;
		struct kcall_stats k0;
		const struct nic *n0, *n1;
		uint64_t all0, all1, gen0;

		assert_int_equal(nic_bound_new(ev, nic_kernel_backend(k), 0, &b), 0);
		assert_non_null(nic_bound_backend(b).ops->observe_many);
		assert_int_equal(nic_monitor_new(ev, nic_bound_backend(b), &mb, &err), 0);
		assert_int_equal(nic_monitor_count(mb), 2);
		nic_monitor_set_interest(mb, only_zxn0, NULL);
		n0 = nic_monitor_find(mb, "zxn0");
		n1 = nic_monitor_find(mb, "zxn1");
		assert_true(n0->read_all_usec > 0);
		gen0 = n0->generation;
		all1 = n1->read_all_usec;
		assert_int_equal(kernel_netns_sh("ethtool -L zxn0 rx 2"), 0);
		k0 = kcall_get_stats(nic_bound_kcall(b));
		assert_int_equal(nic_monitor_reread(mb), 0);
		/* one hand-over: the links listed and both read */
		assert_int_equal(kcall_get_stats(nic_bound_kcall(b)).calls - k0.calls, 1);
		n0 = nic_monitor_find(mb, "zxn0");
		n1 = nic_monitor_find(mb, "zxn1");
		assert_int_equal(n0->ch.rx, 2);
		assert_int_equal(n0->generation, gen0 + 1);
		assert_int_equal(n1->ch.rx, 8); /* link only: the rest as read before */
		assert_int_equal(n1->read_all_usec, all1);
		all0 = n0->read_all_usec;
		assert_true(all0 >= all1);
		nic_monitor_free(mb);
		nic_bound_free(b);
		assert_int_equal(kernel_netns_sh("ethtool -L zxn0 rx 3"), 0);
		drain(ev);
		assert_int_equal(nic_monitor_get(m, ifindex)->ch.rx, 3);
	}

	/* lost notifications: a receive buffer too small for a burst of changes
	 * overflows (ENOBUFS) and the monitor resyncs everything */
	assert_int_equal(nic_monitor_set_rcvbuf(m, 1), 0);
	{
		struct nic_monitor_stats st0 = nic_monitor_stats(m);
		int i;

		for (i = 0; i < 16; i++)
			assert_int_equal(kernel_netns_sh(i % 2 ? "ethtool -L zxn0 rx 2" : "ethtool -L zxn0 rx 4"), 0);
		assert_int_equal(kernel_netns_sh("ethtool -L zxn0 rx 5"), 0);
		drain(ev);
		assert_true(nic_monitor_stats(m).overruns > st0.overruns);
		assert_true(nic_monitor_stats(m).resyncs > st0.resyncs);
		assert_int_equal(nic_monitor_get(m, ifindex)->ch.rx, 5);
	}
	assert_int_equal(nic_monitor_set_rcvbuf(m, 1 << 20), 0);

	/* deleted: both ends leave the table */
	s.removed = 0;
	assert_int_equal(kernel_netns_sh("ip link del zxn0"), 0);
	assert_true(run_until(ev, &s.removed, 2));
	assert_null(nic_monitor_find(m, "zxn0"));
	assert_null(nic_monitor_find(m, "zxn1"));
	assert_int_equal(nic_monitor_count(m), 0);

	nic_monitor_free(m);
	nic_kernel_free(k);
	sd_event_unref(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
