// SPDX-License-Identifier: MIT
/*
 * test-nic-catch-up — nic_monitor_catch_up() on the real kernel, in a
 * private network namespace of this test process (root): a link made
 * before the cause of the caller's work was read is in the table after the
 * catch-up, whichever way it knows that (enum nic_catch_up):
 *   - READ reads the rtnl socket, in a turn of the loop or outside it,
 *     also after a catch-up of the same turn read it;
 *   - TURN outside a dispatch of the loop reads it too;
 *   - TURN in a dispatch reads it when the turn's look at the sockets
 *     found it readable (a probe dispatched before the monitor's own
 *     source), observes what the monitor's source read but did not
 *     observe yet (a probe between the two), and reads nothing when
 *     nothing was announced (and after a read to the end in the turn);
 *   - DONE reads nothing.
 * The probes run from a deferred source of the test's loop at a chosen
 * priority: sd-event dispatches one source per turn, the most urgent
 * first.  The counts of reads and skips are the monitor's own stats.
 * No sleeps: each step runs the loop for exactly the turns it needs.
 */
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

#include "kernel-netns.h"
#include "nic-kernel.h"
#include "nic-monitor.h"

/* A veth pair NAMEa/NAMEb, down (no deferred carrier notifications). */
static void add_veth(const char *name)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ip link add %sa type veth peer name %sb", name, name);
	assert_int_equal(kernel_netns_sh(cmd), 0);
}

static bool holds(struct nic_monitor *m, const char *name)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%sa", name);
	return nic_monitor_find(m, buf) != NULL;
}

/* What a probe did from inside a dispatch of the loop. */
struct probe {
	struct nic_monitor *m;
	void (*fn)(struct probe *p);
	int runs;
	bool ok[3];
	bool found[3];
	struct nic_monitor_stats st[4]; /* before, and after each call */
};

static int on_probe(sd_event_source *s, void *userdata)
{
	struct probe *p = userdata;

	p->runs++;
	p->st[0] = nic_monitor_stats(p->m);
	p->fn(p);
	return 0;
}

static uint64_t reads(const struct probe *p, int i)
{
	return p->st[i].catch_up_reads - p->st[i - 1].catch_up_reads;
}

static uint64_t skipped(const struct probe *p, int i)
{
	return p->st[i].catch_up_skipped - p->st[i - 1].catch_up_skipped;
}

static void step(struct probe *p, int i, enum nic_catch_up since, const char *name)
{
	p->ok[i - 1] = nic_monitor_catch_up(p->m, since);
	p->found[i - 1] = holds(p->m, name);
	p->st[i] = nic_monitor_stats(p->m);
}

static void turn_c1(struct probe *p)
{
	step(p, 1, NIC_CATCH_UP_TURN, "zxc1");
}

static void turn_c2(struct probe *p)
{
	step(p, 1, NIC_CATCH_UP_TURN, "zxc2");
}

static void done_c3(struct probe *p)
{
	step(p, 1, NIC_CATCH_UP_DONE, "zxc3");
}

/* a read to the end, a link made in the turn after it, TURN and READ */
static void read_then_turn_then_read(struct probe *p)
{
	step(p, 1, NIC_CATCH_UP_READ, "zxc4");
	add_veth("zxc5");
	step(p, 2, NIC_CATCH_UP_TURN, "zxc5");
	step(p, 3, NIC_CATCH_UP_READ, "zxc5");
}

/* Run the loop one turn with the probe pending at priority prio. */
static void turn(sd_event *ev, sd_event_source *src, struct probe *p, int64_t prio,
		 void (*fn)(struct probe *p))
{
	p->fn = fn;
	assert_int_equal(sd_event_source_set_priority(src, prio), 0);
	assert_int_equal(sd_event_source_set_enabled(src, SD_EVENT_ONESHOT), 0);
	assert_true(sd_event_run(ev, 0) > 0);
}

/* Turns until nothing is pending (the probe off). */
static void settle(sd_event *ev)
{
	int i;

	for (i = 0; i < 50; i++)
		if (sd_event_run(ev, 0) == 0)
			return;
	fail_msg("the loop did not settle");
}

static void test_catch_up(void **state)
{
	struct nic_kernel *k;
	struct nic_monitor *m;
	struct nic_monitor_stats s0;
	sd_event_source *src;
	struct probe p = { 0 };
	sd_event *ev;
	int runs, i;

	if (!kernel_netns_enter())
		skip();
	assert_int_equal(kernel_netns_monitor(&ev, &k, &m), 0);
	assert_int_equal(sd_event_add_defer(ev, &src, on_probe, &p), 0);
	assert_int_equal(sd_event_source_set_enabled(src, SD_EVENT_OFF), 0);
	p.m = m;

	/* outside the loop, TURN as READ: the socket is read */
	add_veth("zxc0");
	s0 = nic_monitor_stats(m);
	assert_true(nic_monitor_catch_up(m, NIC_CATCH_UP_TURN));
	assert_true(holds(m, "zxc0"));
	assert_int_equal(nic_monitor_stats(m).catch_up_reads - s0.catch_up_reads, 1);
	settle(ev);

	/* made before the turn, the probe dispatched before the monitor's
	 * own source: the turn's look found the socket readable, TURN reads */
	add_veth("zxc1");
	turn(ev, src, &p, SD_EVENT_PRIORITY_IMPORTANT, turn_c1);
	assert_int_equal(p.runs, 1);
	assert_true(p.ok[0]);
	assert_true(p.found[0]);
	assert_int_equal(reads(&p, 1), 1);
	settle(ev);

	/* nothing announced since: TURN reads nothing, the table stands */
	turn(ev, src, &p, SD_EVENT_PRIORITY_IMPORTANT, turn_c1);
	assert_true(p.ok[0]);
	assert_true(p.found[0]);
	assert_int_equal(reads(&p, 1), 0);
	assert_int_equal(skipped(&p, 1), 1);

	/* made before the turn, its notification read by the monitor's
	 * source (priority 0) but not observed yet (its deferred source,
	 * +10): the probe between the two reads nothing and observes it */
	add_veth("zxc2");
	runs = p.runs;
	turn(ev, src, &p, SD_EVENT_PRIORITY_NORMAL + 5, turn_c2);
	assert_int_equal(p.runs, runs); /* the monitor's source went first */
	assert_false(holds(m, "zxc2"));
	for (i = 0; p.runs == runs && i < 4; i++) /* (the genl socket's source is at 0 too) */
		assert_true(sd_event_run(ev, 0) > 0);
	assert_int_equal(p.runs, runs + 1);
	assert_true(p.ok[0]);
	assert_true(p.found[0]);
	assert_int_equal(reads(&p, 1), 0);
	settle(ev);

	/* DONE reads nothing: a link made a moment ago is not seen yet */
	add_veth("zxc3");
	turn(ev, src, &p, SD_EVENT_PRIORITY_IMPORTANT, done_c3);
	assert_true(p.ok[0]);
	assert_false(p.found[0]);
	assert_int_equal(reads(&p, 1), 0);
	assert_int_equal(skipped(&p, 1), 1);
	settle(ev);
	assert_true(holds(m, "zxc3"));

	/* READ in a turn reads; TURN after it in the same turn does not
	 * (what it is for was there before the turn); READ again does */
	add_veth("zxc4");
	turn(ev, src, &p, SD_EVENT_PRIORITY_IMPORTANT, read_then_turn_then_read);
	assert_true(p.ok[0] && p.ok[1] && p.ok[2]);
	assert_true(p.found[0]);
	assert_int_equal(reads(&p, 1), 1);
	assert_int_equal(reads(&p, 2), 0);
	assert_int_equal(skipped(&p, 2), 1);
	assert_true(p.found[2]);
	assert_int_equal(reads(&p, 3), 1);
	settle(ev);

	/* lost notifications: false whatever is read, until the resync */
	assert_int_equal(nic_monitor_set_rcvbuf(m, 1), 0);
	{
		char name[16];

		for (i = 0; i < 16; i++) {
			snprintf(name, sizeof(name), "zxd%d", i);
			add_veth(name);
		}
	}
	assert_false(nic_monitor_catch_up(m, NIC_CATCH_UP_READ));
	assert_false(nic_monitor_catch_up(m, NIC_CATCH_UP_DONE));
	assert_true(nic_monitor_stats(m).overruns > 0);
	assert_int_equal(nic_monitor_set_rcvbuf(m, 1 << 20), 0);
	settle(ev); /* the resync */
	assert_true(nic_monitor_catch_up(m, NIC_CATCH_UP_READ));
	assert_true(holds(m, "zxd15"));

	sd_event_source_unref(src);
	nic_monitor_free(m);
	nic_kernel_free(k);
	sd_event_unref(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catch_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
