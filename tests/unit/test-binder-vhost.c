// SPDX-License-Identifier: MIT
/*
 * Unit tests for binder-vhost, the production vhost_zcrx backend: once
 * against the running kernel (where the family does not exist: resolve must
 * say ENOENT and every call "module not available"), and against the
 * test-only fake module (tests/lib/fake-binder) for everything the module
 * does: probe, bind accepted and refused with extack text, unbind, get,
 * dump, state notifications, teardown, bindings surviving a reconnect, and
 * the family appearing and disappearing.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "binder-vhost.h"
#include "deadline.h"
#include "fake-binder.h"
#include "vhost_zcrx.h"

#define MAX_EVENTS 64

struct fixture {
	struct fake_binder *fb;
	struct binder_vhost *bv;
	struct binder_backend be;
	struct binder_event ev[MAX_EVENTS];
	size_t n_ev;
};

static void on_event(const struct binder_event *ev, void *userdata)
{
	struct fixture *f = userdata;

	if (f->n_ev < MAX_EVENTS)
		f->ev[f->n_ev++] = *ev;
}

/* Drain the notification socket into f->ev. */
static int pump(struct fixture *f)
{
	f->n_ev = 0;
	return f->be.ops->process_events(f->be.be, on_event, f);
}

/* Pump until n events came or 2 s passed: for a notification the fake
 * sends after its reply (auto-active), not by a control call. */
static int pump_until(struct fixture *f, size_t n)
{
	struct pollfd p = { .fd = f->be.ops->event_fd(f->be.be), .events = POLLIN };
	uint64_t end = deadline_now_ms() + 2000;
	int r;

	f->n_ev = 0;
	do {
		(void)poll(&p, 1, 100);
		r = f->be.ops->process_events(f->be.be, on_event, f);
	} while (r == 0 && f->n_ev < n && deadline_now_ms() < end);
	return r;
}

static int setup_opts(void **state, const struct fake_binder_options *o)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(fake_binder_new_tmp("unit", o, &f->fb), 0);
	assert_int_equal(fake_binder_start(f->fb), 0);
	assert_int_equal(fake_binder_connect(f->fb, &f->bv), 0);
	f->be = binder_vhost_backend(f->bv);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_opts(state, NULL);
}

static int setup_absent(void **state)
{
	struct fake_binder_options o = { .absent = true };

	return setup_opts(state, &o);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	binder_vhost_free(f->bv);
	fake_binder_free(f->fb);
	free(f);
	return 0;
}

/* --- the real kernel ------------------------------------------------------ */

static void test_kernel_family_absent(void **state)
{
	struct binder_vhost *bv;
	struct binder_backend be;
	struct binder_probe p;
	struct kerror err = { 0 };
	uint32_t id;
	int r;

	(void)state;
	r = binder_vhost_new(&bv);
	if (r < 0)
		skip(); /* no generic netlink at all */
	be = binder_vhost_backend(bv);
	assert_string_equal(binder_vhost_transport(bv), "netlink");
	r = be.ops->resolve(be.be, &err);
	if (r == 0) {
		/* a kernel that has the module: nothing to assert here */
		binder_vhost_free(bv);
		skip();
	}
	assert_int_equal(r, -ENOENT);
	assert_int_equal(err.err, ENOENT);
	assert_string_equal(err.msg, BINDER_ABSENT_MSG);
	assert_false(be.ops->available(be.be));
	assert_int_equal(binder_vhost_family_id(bv), 0);
	assert_true(be.ops->event_fd(be.be) >= 0);
	assert_int_equal(be.ops->probe(be.be, 1, &p, &err), -ENOENT);
	assert_string_equal(err.msg, BINDER_ABSENT_MSG);
	assert_string_equal(err.op, "vhost_zcrx probe");
	assert_int_equal(be.ops->bind(be.be, 1, 0, 1, 0, &id, &err), -ENOENT);
	/* nothing pending, and asking did not count as a kernel error */
	assert_int_equal(be.ops->process_events(be.be, NULL, NULL), 0);
	assert_int_equal(binder_vhost_get_counters(bv)->errors, 0);
	assert_true(binder_vhost_get_counters(bv)->requests >= 1);
	binder_vhost_free(bv);
}

/* --- the fake module --------------------------------------------------------- */

static void test_resolve_probe(void **state)
{
	struct fixture *f = *state;
	struct binder_probe p = { 0 };
	struct kerror err = { 0 };

	assert_false(f->be.ops->available(f->be.be));
	assert_int_equal(f->be.ops->resolve(f->be.be, &err), 0);
	assert_true(f->be.ops->available(f->be.be));
	assert_int_equal(binder_vhost_family_id(f->bv), FAKE_BINDER_FAMILY_ID);
	assert_int_equal(f->be.ops->probe(f->be.be, 3, &p, &err), 0);
	assert_int_equal(p.features, BINDER_FEATURE_NEEDS_HDS | BINDER_FEATURE_COPY_FALLBACK);
	assert_int_equal(p.max_bindings, 64);

	fake_binder_set_features(f->fb, 4, 0);
	assert_int_equal(f->be.ops->probe(f->be.be, 4, &p, &err), 0);
	assert_int_equal(p.features, 0);

	fake_binder_refuse_nic(f->fb, 5, EOPNOTSUPP, "driver has no queue management ops");
	assert_int_equal(f->be.ops->probe(f->be.be, 5, &p, &err), -EOPNOTSUPP);
	assert_string_equal(err.msg, "driver has no queue management ops");
	assert_string_equal(err.op, "vhost_zcrx probe");
}

static void test_bind_get_unbind(void **state)
{
	struct fixture *f = *state;
	struct binder_binding b, *v = NULL;
	struct kerror err = { 0 };
	uint32_t id = 0, id2 = 0;
	size_t n = 0;

	assert_int_equal(f->be.ops->resolve(f->be.be, &err), 0);
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 5, 9, BINDER_FALLBACK_COPY, &id, &err), 0);
	assert_int_equal(id, 1);
	assert_int_equal(f->be.ops->get(f->be.be, id, &b, &err), 0);
	assert_int_equal(b.ifindex, 3);
	assert_int_equal(b.queue, 5);
	assert_int_equal(b.tap_ifindex, 9);
	assert_int_equal(b.fallback, BINDER_FALLBACK_COPY);
	assert_int_equal(b.state, BINDER_STATE_PENDING);

	/* the same queue again: EEXIST with the module's text */
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 5, 10, BINDER_FALLBACK_DROP, &id2, &err),
			 -EEXIST);
	assert_string_equal(err.msg, "queue 5 already bound (binding 1)");
	assert_string_equal(err.op, "vhost_zcrx bind");
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 6, 10, BINDER_FALLBACK_DROP, &id2, &err), 0);
	assert_int_equal(id2, 2);

	assert_int_equal(f->be.ops->dump(f->be.be, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, 1);
	assert_int_equal(v[1].id, 2);
	assert_int_equal(v[1].fallback, BINDER_FALLBACK_DROP);
	free(v);

	assert_int_equal(f->be.ops->unbind(f->be.be, id, &err), 0);
	assert_int_equal(f->be.ops->unbind(f->be.be, id, &err), -ENOENT);
	assert_string_equal(err.msg, "no such binding");
	assert_int_equal(f->be.ops->get(f->be.be, id, &b, &err), -ENOENT);
	assert_int_equal(fake_binder_bindings(f->fb, NULL, 0), 1);
}

static void test_bind_refusals(void **state)
{
	struct fixture *f = *state;
	struct kerror err = { 0 };
	uint32_t id = 77;

	assert_int_equal(f->be.ops->resolve(f->be.be, &err), 0);
	fake_binder_refuse_next_bind(f->fb, EBUSY, "designated queue already memory provider bound");
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 5, 9, BINDER_FALLBACK_DROP, &id, &err), -EBUSY);
	assert_int_equal(id, 77); /* untouched */
	assert_string_equal(err.msg, "designated queue already memory provider bound");
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 5, 9, BINDER_FALLBACK_DROP, &id, &err), 0);

	fake_binder_refuse_nic(f->fb, 4, EOPNOTSUPP, "driver lacks support");
	assert_int_equal(f->be.ops->bind(f->be.be, 4, 1, 11, BINDER_FALLBACK_DROP, &id, &err),
			 -EOPNOTSUPP);
	assert_string_equal(err.msg, "driver lacks support");

	/* COPY on a NIC without COPY_FALLBACK */
	fake_binder_set_features(f->fb, 6, BINDER_FEATURE_NEEDS_HDS);
	assert_int_equal(f->be.ops->bind(f->be.be, 6, 1, 12, BINDER_FALLBACK_COPY, &id, &err),
			 -EOPNOTSUPP);

	/* the module's strict request policy, with the extack pointing at the
	 * attribute: ifindex 0 is not an interface (out of range: ERANGE, as
	 * the kernel's netlink policy says it) */
	assert_int_equal(f->be.ops->bind(f->be.be, 0, 1, 12, BINDER_FALLBACK_DROP, &id, &err),
			 -ERANGE);
	assert_non_null(strstr(err.msg, "IFINDEX: 0 is not an interface index"));
	/* ...and the tap too */
	assert_int_equal(f->be.ops->bind(f->be.be, 7, 1, 0, BINDER_FALLBACK_DROP, &id, &err),
			 -ERANGE);
	assert_non_null(strstr(err.msg, "TAP_IFINDEX"));
	/* refusals are counted as kernel errors */
	assert_true(binder_vhost_get_counters(f->bv)->errors >= 5);
}

static int refuse_without_hds(int ifindex, uint32_t queue, int tap, char *msg, size_t size,
			      void *userdata)
{
	int *hds_enabled = userdata;

	if (*hds_enabled)
		return 0;
	snprintf(msg, size, "tcp-data-split is disabled");
	return EINVAL;
}

static void test_bind_check_hook(void **state)
{
	struct fixture *f = *state;
	struct kerror err = { 0 };
	int hds = 0;
	uint32_t id;

	assert_int_equal(f->be.ops->resolve(f->be.be, &err), 0);
	fake_binder_set_bind_check(f->fb, refuse_without_hds, &hds);
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 5, 9, 0, &id, &err), -EINVAL);
	assert_string_equal(err.msg, "tcp-data-split is disabled");
	hds = 1;
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 5, 9, 0, &id, &err), 0);
	fake_binder_set_bind_check(f->fb, NULL, NULL);
}

static void test_state_notifications(void **state)
{
	struct fixture *f = *state;
	struct kerror err = { 0 };
	uint32_t a, b;

	assert_int_equal(f->be.ops->resolve(f->be.be, &err), 0);
	assert_true(f->be.ops->event_fd(f->be.be) >= 0);
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 5, 9, 1, &a, &err), 0);
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 6, 10, 1, &b, &err), 0);
	assert_int_equal(pump(f), 0);
	assert_int_equal(f->n_ev, 0);

	assert_int_equal(fake_binder_set_state(f->fb, a, BINDER_STATE_ACTIVE, 0), 0);
	assert_int_equal(fake_binder_set_state(f->fb, b, BINDER_STATE_DEGRADED, ENOBUFS), 0);
	assert_int_equal(fake_binder_set_state(f->fb, a, BINDER_STATE_BROKEN, EIO), 0);
	assert_int_equal(fake_binder_set_state(f->fb, 99, BINDER_STATE_ACTIVE, 0), -ENOENT);
	assert_int_equal(pump(f), 0);
	assert_int_equal(f->n_ev, 3);
	assert_int_equal(f->ev[0].type, BINDER_EVENT_STATE);
	assert_int_equal(f->ev[0].id, a);
	assert_int_equal(f->ev[0].state, BINDER_STATE_ACTIVE);
	assert_int_equal(f->ev[1].id, b);
	assert_int_equal(f->ev[1].state, BINDER_STATE_DEGRADED);
	assert_int_equal(f->ev[1].reason, ENOBUFS);
	assert_int_equal(f->ev[2].state, BINDER_STATE_BROKEN);
	assert_int_equal(f->ev[2].reason, EIO);
	assert_int_equal(binder_vhost_get_counters(f->bv)->notifications, 3);

	/* the tap of b goes away: the module tears b down, a stays (BROKEN) */
	assert_int_equal(fake_binder_link_gone(f->fb, 10), 1);
	assert_int_equal(pump(f), 0);
	assert_int_equal(f->n_ev, 1);
	assert_int_equal(f->ev[0].type, BINDER_EVENT_GONE);
	assert_int_equal(f->ev[0].id, b);
	assert_int_equal(fake_binder_bindings(f->fb, NULL, 0), 1);

	/* auto-active: BIND, then ACTIVE arrives as a notification */
	fake_binder_set_auto_active(f->fb, true);
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 7, 11, 1, &b, &err), 0);
	assert_int_equal(pump_until(f, 1), 0);
	assert_int_equal(f->n_ev, 1);
	assert_int_equal(f->ev[0].id, b);
	assert_int_equal(f->ev[0].state, BINDER_STATE_ACTIVE);
}

static void test_survives_reconnect(void **state)
{
	struct fixture *f = *state;
	struct binder_binding *v = NULL, got;
	struct binder_stats s = { 100, 150000, 90, 10, 3, 512 };
	struct kerror err = { 0 };
	uint32_t a, b;
	size_t n = 0;

	assert_int_equal(f->be.ops->resolve(f->be.be, &err), 0);
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 5, 9, 1, &a, &err), 0);
	assert_int_equal(f->be.ops->bind(f->be.be, 4, 2, 10, 0, &b, &err), 0);
	assert_int_equal(fake_binder_set_state(f->fb, a, BINDER_STATE_ACTIVE, 0), 0);
	assert_int_equal(fake_binder_set_stats(f->fb, a, &s), 0);

	/* "zcrxd restarts": the backend goes away, a new one connects */
	binder_vhost_free(f->bv);
	assert_int_equal(fake_binder_connect(f->fb, &f->bv), 0);
	f->be = binder_vhost_backend(f->bv);
	assert_int_equal(f->be.ops->resolve(f->be.be, &err), 0);
	assert_int_equal(f->be.ops->dump(f->be.be, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, a);
	assert_int_equal(v[0].state, BINDER_STATE_ACTIVE);
	assert_true(v[0].has_stats);
	assert_int_equal(v[0].stats.zc_packets, 90);
	assert_int_equal(v[0].stats.bufs_posted, 512);
	assert_int_equal(v[1].id, b);
	assert_int_equal(v[1].ifindex, 4);
	free(v);
	assert_int_equal(f->be.ops->get(f->be.be, a, &got, &err), 0);
	assert_int_equal(got.stats.rx_bytes, 150000);
	/* and notifications reach the new connection */
	assert_int_equal(fake_binder_set_state(f->fb, b, BINDER_STATE_ACTIVE, 0), 0);
	assert_int_equal(pump(f), 0);
	assert_int_equal(f->n_ev, 1);
	assert_int_equal(f->ev[0].id, b);
}

static void test_big_dump(void **state)
{
	struct fixture *f = *state;
	struct binder_binding *v = NULL;
	struct kerror err = { 0 };
	uint32_t id;
	size_t n = 0;

	assert_int_equal(f->be.ops->resolve(f->be.be, &err), 0);
	/* 300 bindings over 5 NICs: the dump spans several datagrams */
	for (int i = 0; i < 300; i++)
		assert_int_equal(f->be.ops->bind(f->be.be, 10 + i / 60, (uint32_t)(i % 60), 100 + i,
						 1, &id, &err),
				 0);
	assert_int_equal(f->be.ops->bind(f->be.be, 10, 61, 999, 1, &id, &err), 0);
	assert_int_equal(f->be.ops->bind(f->be.be, 10, 62, 998, 1, &id, &err), 0);
	assert_int_equal(f->be.ops->bind(f->be.be, 10, 63, 997, 1, &id, &err), 0);
	assert_int_equal(f->be.ops->bind(f->be.be, 10, 64, 996, 1, &id, &err), 0);
	/* 64 per NIC */
	assert_int_equal(f->be.ops->bind(f->be.be, 10, 65, 995, 1, &id, &err), -ENOSPC);
	assert_int_equal(f->be.ops->dump(f->be.be, &v, &n, &err), 0);
	assert_int_equal(n, 304);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i].id, i + 1);
	free(v);
}

static void test_family_appears_and_vanishes(void **state)
{
	struct fixture *f = *state;
	struct binder_probe p;
	struct kerror err = { 0 };
	uint32_t id;

	/* absent at start: ENOENT and the operator-facing text */
	assert_int_equal(f->be.ops->resolve(f->be.be, &err), -ENOENT);
	assert_string_equal(err.msg, BINDER_ABSENT_MSG);
	assert_int_equal(f->be.ops->probe(f->be.be, 3, &p, &err), -ENOENT);
	assert_false(f->be.ops->available(f->be.be));

	/* the module is loaded: NEWFAMILY on the controller's notify group */
	fake_binder_set_present(f->fb, true);
	assert_int_equal(pump(f), 0);
	assert_int_equal(f->n_ev, 1);
	assert_int_equal(f->ev[0].type, BINDER_EVENT_APPEARED);
	assert_true(f->be.ops->available(f->be.be));
	assert_int_equal(f->be.ops->probe(f->be.be, 3, &p, &err), 0);
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 5, 9, 1, &id, &err), 0);

	/* unloaded: DELFAMILY; every binding is gone with it */
	fake_binder_set_present(f->fb, false);
	assert_int_equal(pump(f), 0);
	assert_int_equal(f->n_ev, 1);
	assert_int_equal(f->ev[0].type, BINDER_EVENT_VANISHED);
	assert_false(f->be.ops->available(f->be.be));
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 5, 9, 1, &id, &err), -ENOENT);
	assert_string_equal(err.msg, BINDER_ABSENT_MSG);
	assert_int_equal(binder_vhost_get_counters(f->bv)->appeared, 1);
	assert_int_equal(binder_vhost_get_counters(f->bv)->vanished, 1);

	/* and back: resolve works again */
	fake_binder_set_present(f->fb, true);
	assert_int_equal(pump(f), 0);
	assert_int_equal(f->be.ops->resolve(f->be.be, &err), 0);
	assert_int_equal(fake_binder_bindings(f->fb, NULL, 0), 0);
}

static void test_fake_goes_away(void **state)
{
	struct fixture *f = *state;
	struct binder_probe p;
	struct kerror err = { 0 };

	assert_int_equal(f->be.ops->resolve(f->be.be, &err), 0);
	f->fb = fake_binder_free(f->fb);
	assert_int_equal(pump(f), -ECONNRESET);
	assert_int_equal(f->n_ev, 1);
	assert_int_equal(f->ev[0].type, BINDER_EVENT_VANISHED);
	assert_int_equal(f->be.ops->probe(f->be.be, 3, &p, &err), -ENOENT);
	/* a request on the dead connection fails, it does not hang */
	assert_true(f->be.ops->resolve(f->be.be, &err) < 0);
}

static void test_text_control(void **state)
{
	struct fixture *f = *state;
	struct kerror err = { 0 };
	char out[1024];
	uint32_t id;

	assert_int_equal(f->be.ops->resolve(f->be.be, &err), 0);
	assert_int_equal(fake_binder_control(f->fb, "refuse-next EBUSY queue in use\n", out,
					     sizeof(out)),
			 0);
	assert_string_equal(out, "ok\n");
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 5, 9, 0, &id, &err), -EBUSY);
	assert_string_equal(err.msg, "queue in use");
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 5, 9, 0, &id, &err), 0);
	assert_int_equal(fake_binder_control(f->fb, "state 1 degraded ENOBUFS", out, sizeof(out)), 0);
	assert_int_equal(fake_binder_control(f->fb, "stats 1 1 2 3 4 5 6", out, sizeof(out)), 0);
	assert_int_equal(fake_binder_control(f->fb, "list", out, sizeof(out)), 0);
	assert_string_equal(out, "id=1 ifindex=3 queue=5 tap=9 fallback=drop state=degraded "
				 "reason=105\nok\n");
	assert_int_equal(fake_binder_control(f->fb, "refuse 3 95 no queue API", out, sizeof(out)), 0);
	assert_int_equal(f->be.ops->bind(f->be.be, 3, 6, 10, 0, &id, &err), -EOPNOTSUPP);
	assert_string_equal(err.msg, "no queue API");
	assert_int_equal(fake_binder_control(f->fb, "gone 9", out, sizeof(out)), 0);
	assert_string_equal(out, "1\nok\n");
	assert_int_equal(fake_binder_control(f->fb, "state 1 active", out, sizeof(out)), -EINVAL);
	assert_int_equal(fake_binder_control(f->fb, "frobnicate", out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "error: bad command\n");
	assert_int_equal(fake_binder_control(f->fb, "state x active", out, sizeof(out)), -EINVAL);
	assert_int_equal(fake_binder_control(f->fb, "bind 4 7 20 copy", out, sizeof(out)), 0);
	assert_string_equal(out, "2\nok\n");
	assert_int_equal(fake_binder_control(f->fb, "bind 4 7 21", out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "error: EEXIST queue 7 already bound (binding 2)\n");
	assert_int_equal(fake_binder_control(f->fb, "log", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "BIND ifindex=3 queue=5 tap=9 fallback=drop -> EBUSY\n"));
	assert_non_null(strstr(out, "TEARDOWN 1 (ifindex 9 gone)\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_family_absent),
		cmocka_unit_test_setup_teardown(test_resolve_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_get_unbind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_check_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_notifications, setup, teardown),
		cmocka_unit_test_setup_teardown(test_survives_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_family_appears_and_vanishes, setup_absent,
						teardown),
		cmocka_unit_test_setup_teardown(test_fake_goes_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_control, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
