// SPDX-License-Identifier: MIT
/*
 * Unit tests for binder-mgr: the daemon's view of the binder in a real
 * sd-event loop, against the test-only fake module through the production
 * backend.  Absent module (named reason, capability NO, nothing counted as a
 * kernel error), the module appearing and vanishing, adoption of bindings
 * made before "a restart", STATE_NTF updating the observed bindings, the
 * wrapper backend exec uses, and the Monitor events.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "binder-mgr.h"
#include "binder-vhost.h"
#include "deadline.h"
#include "events.h"
#include "fake-binder.h"

struct fixture {
	sd_event *ev;
	struct events *events;
	struct fake_binder *fb;
	struct binder_mgr *bm;
	struct binder_event seen[32];
	size_t n_seen, want_seen;
};

static void on_change(struct binder_mgr *bm, const struct binder_event *ev, void *userdata)
{
	struct fixture *f = userdata;

	if (f->n_seen < 32)
		f->seen[f->n_seen++] = *ev;
}

static void destroy_vhost(void *be)
{
	binder_vhost_free(be);
}

static bool seen_enough(void *p)
{
	const struct fixture *f = p;

	return f->n_seen >= f->want_seen;
}

/* Run the loop until n callbacks have been seen (2 s deadline). */
static void run_until(struct fixture *f, size_t n)
{
	f->want_seen = n;
	assert_true(deadline_run_until(f->ev, seen_enough, f, 2000, 100) >= 0);
	assert_int_equal(f->n_seen, n);
}

static struct binder_mgr *new_mgr(struct fixture *f)
{
	struct binder_vhost *bv;
	struct binder_mgr *bm;

	assert_int_equal(fake_binder_connect(f->fb, &bv), 0);
	assert_int_equal(binder_mgr_new(f->ev, binder_vhost_backend(bv), destroy_vhost, f->events,
					&bm),
			 0);
	binder_mgr_set_callback(bm, on_change, f);
	return bm;
}

static int setup_opts(void **state, bool absent)
{
	struct fake_binder_options o = { .absent = absent };
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(sd_event_new(&f->ev), 0);
	assert_int_equal(events_new(&f->events), 0);
	assert_int_equal(fake_binder_new_tmp("mgr", &o, &f->fb), 0);
	assert_int_equal(fake_binder_start(f->fb), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_opts(state, false);
}

static int setup_absent(void **state)
{
	return setup_opts(state, true);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	binder_mgr_free(f->bm);
	fake_binder_free(f->fb);
	events_free(f->events);
	sd_event_unref(f->ev);
	free(f);
	return 0;
}

static void test_absent_then_appears(void **state)
{
	struct fixture *f = *state;
	const struct binder_backend *be;
	struct nic_cap cap = { 0 };
	struct kerror err = { 0 };
	json_object *st;
	uint32_t id;

	f->bm = new_mgr(f);
	assert_int_equal(binder_mgr_start(f->bm), 0);
	assert_false(binder_mgr_available(f->bm));
	assert_int_equal(binder_mgr_error(f->bm)->err, ENOENT);
	assert_string_equal(binder_mgr_error(f->bm)->msg, BINDER_ABSENT_MSG);

	/* the capability matrix says why */
	binder_mgr_nic_cap(f->bm, 3, &cap);
	assert_int_equal(cap.state, NIC_CAP_NO);
	assert_int_equal(cap.err, ENOENT);
	assert_string_equal(cap.msg, BINDER_ABSENT_MSG);
	assert_false(binder_mgr_probe(f->bm, 3)->probed);

	/* exec's bind is refused with the reason, not counted as a kernel error */
	be = binder_mgr_backend(f->bm);
	assert_int_equal(be->ops->bind(be->be, 3, 1, 9, 0, &id, &err), -ENOENT);
	assert_string_equal(err.msg, BINDER_ABSENT_MSG);
	assert_int_equal(binder_mgr_counters(f->bm).kernel_errors, 0);

	st = binder_mgr_status_json(f->bm);
	assert_false(json_object_get_boolean(json_object_object_get(st, "available")));
	assert_string_equal(json_object_get_string(json_object_object_get(st, "message")),
			    BINDER_ABSENT_MSG);
	json_object_put(st);

	/* the module is loaded later: the loop notices, probes are fresh */
	fake_binder_set_present(f->fb, true);
	run_until(f, 1);
	assert_int_equal(f->seen[0].type, BINDER_EVENT_APPEARED);
	assert_true(binder_mgr_available(f->bm));
	assert_int_equal(binder_mgr_error(f->bm)->err, 0);
	binder_mgr_nic_cap(f->bm, 3, &cap);
	assert_int_equal(cap.state, NIC_CAP_YES);
	assert_string_equal(cap.msg, "vhost_zcrx: needs-hds,copy-fallback, up to 64 bindings");
	assert_int_equal(binder_mgr_counters(f->bm).appeared, 1);
	assert_true(events_published_count(f->events) >= 1);

	/* and vanishes again */
	fake_binder_set_present(f->fb, false);
	run_until(f, 2);
	assert_int_equal(f->seen[1].type, BINDER_EVENT_VANISHED);
	assert_false(binder_mgr_available(f->bm));
	binder_mgr_nic_cap(f->bm, 3, &cap);
	assert_int_equal(cap.state, NIC_CAP_NO);
	assert_string_equal(cap.msg, BINDER_ABSENT_MSG);
}

static void test_adopt_after_restart(void **state)
{
	struct fixture *f = *state;
	struct binder_vhost *prev;
	struct binder_backend pb;
	struct binder_binding *v = NULL;
	struct kerror err = { 0 };
	uint32_t a, b, c;
	size_t n = 0;

	/* a previous zcrxd made three bindings and went away */
	assert_int_equal(fake_binder_connect(f->fb, &prev), 0);
	pb = binder_vhost_backend(prev);
	assert_int_equal(pb.ops->resolve(pb.be, &err), 0);
	assert_int_equal(pb.ops->bind(pb.be, 3, 5, 9, 1, &a, &err), 0);
	assert_int_equal(pb.ops->bind(pb.be, 3, 6, 10, 1, &b, &err), 0);
	assert_int_equal(pb.ops->bind(pb.be, 4, 1, 11, 0, &c, &err), 0);
	binder_vhost_free(prev);
	assert_int_equal(fake_binder_set_state(f->fb, a, BINDER_STATE_ACTIVE, 0), 0);

	/* the new one finds them with a dump at start */
	f->bm = new_mgr(f);
	assert_int_equal(binder_mgr_start(f->bm), 0);
	assert_true(binder_mgr_available(f->bm));
	assert_int_equal(binder_mgr_count(f->bm), 3);
	assert_int_equal(binder_mgr_find(f->bm, a)->state, BINDER_STATE_ACTIVE);
	assert_int_equal(binder_mgr_find(f->bm, b)->queue, 6);
	assert_int_equal(binder_mgr_on_nic(f->bm, 3, &v, &n), 0);
	assert_int_equal(n, 2);
	free(v);
	assert_int_equal(binder_mgr_on_nic(f->bm, 7, &v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_int_equal(binder_mgr_counters(f->bm).dumps, 1);
}

static void test_bind_and_notifications(void **state)
{
	struct fixture *f = *state;
	const struct binder_backend *be;
	struct kerror err = { 0 };
	uint64_t published;
	uint32_t a, b;

	f->bm = new_mgr(f);
	assert_int_equal(binder_mgr_start(f->bm), 0);
	be = binder_mgr_backend(f->bm);
	assert_int_equal(be->ops->bind(be->be, 3, 5, 9, 1, &a, &err), 0);
	assert_int_equal(be->ops->bind(be->be, 3, 6, 10, 0, &b, &err), 0);
	assert_int_equal(binder_mgr_count(f->bm), 2);
	assert_int_equal(binder_mgr_find(f->bm, a)->state, BINDER_STATE_PENDING);
	assert_int_equal(binder_mgr_find(f->bm, b)->fallback, BINDER_FALLBACK_DROP);

	published = events_published_count(f->events);
	assert_int_equal(fake_binder_set_state(f->fb, a, BINDER_STATE_ACTIVE, 0), 0);
	run_until(f, 1);
	assert_int_equal(f->seen[0].type, BINDER_EVENT_STATE);
	assert_int_equal(f->seen[0].id, a);
	assert_int_equal(binder_mgr_find(f->bm, a)->state, BINDER_STATE_ACTIVE);

	assert_int_equal(fake_binder_set_state(f->fb, b, BINDER_STATE_DEGRADED, ENOBUFS), 0);
	run_until(f, 2);
	assert_int_equal(binder_mgr_find(f->bm, b)->state, BINDER_STATE_DEGRADED);
	assert_int_equal(binder_mgr_find(f->bm, b)->reason, ENOBUFS);

	/* the macvtap of a goes away */
	assert_int_equal(fake_binder_link_gone(f->fb, 9), 1);
	run_until(f, 3);
	assert_int_equal(f->seen[2].type, BINDER_EVENT_GONE);
	assert_null(binder_mgr_find(f->bm, a));
	assert_int_equal(binder_mgr_count(f->bm), 1);
	assert_int_equal(events_published_count(f->events), published + 3);
	assert_int_equal(binder_mgr_counters(f->bm).notifications, 3);

	/* unbind through the wrapper */
	assert_int_equal(be->ops->unbind(be->be, b, &err), 0);
	assert_int_equal(binder_mgr_count(f->bm), 0);
	assert_int_equal(fake_binder_bindings(f->fb, NULL, 0), 0);

	/* a refusal is a kernel error with the module's text */
	fake_binder_refuse_next_bind(f->fb, EBUSY, "queue has another memory provider");
	assert_int_equal(be->ops->bind(be->be, 3, 5, 9, 1, &a, &err), -EBUSY);
	assert_string_equal(err.msg, "queue has another memory provider");
	assert_int_equal(binder_mgr_counters(f->bm).kernel_errors, 1);
	assert_int_equal(binder_mgr_count(f->bm), 0);

	/* a state change for a binding made behind our back is looked up */
	{
		struct binder_vhost *other;
		struct binder_backend ob;
		uint32_t x;

		assert_int_equal(fake_binder_connect(f->fb, &other), 0);
		ob = binder_vhost_backend(other);
		assert_int_equal(ob.ops->resolve(ob.be, &err), 0);
		assert_int_equal(ob.ops->bind(ob.be, 4, 2, 12, 0, &x, &err), 0);
		binder_vhost_free(other);
		assert_int_equal(fake_binder_set_state(f->fb, x, BINDER_STATE_BROKEN, EIO), 0);
		run_until(f, 4);
		assert_non_null(binder_mgr_find(f->bm, x));
		assert_int_equal(binder_mgr_find(f->bm, x)->state, BINDER_STATE_BROKEN);
		assert_int_equal(binder_mgr_find(f->bm, x)->ifindex, 4);
	}
}

/* Each plan asks for every binding on the host: with the module's
 * notifications followed, the table they keep current answers, not a dump
 * per plan; it shows zcrxd's own binds and the module's state changes. */
static void test_dump_from_table(void **state)
{
	struct fixture *f = *state;
	const struct binder_backend *be;
	struct binder_binding *v = NULL;
	struct kerror err = { 0 };
	uint64_t dumps;
	size_t n = 0;
	uint32_t a;

	f->bm = new_mgr(f);
	assert_int_equal(binder_mgr_start(f->bm), 0);
	be = binder_mgr_backend(f->bm);
	assert_int_equal(be->ops->dump(be->be, &v, &n, &err), 0); /* may dump once */
	free(v);
	dumps = binder_mgr_counters(f->bm).dumps;
	assert_int_equal(be->ops->bind(be->be, 3, 5, 9, 1, &a, &err), 0);
	assert_int_equal(be->ops->dump(be->be, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, a);
	assert_int_equal(v[0].state, BINDER_STATE_PENDING);
	free(v);
	assert_int_equal(fake_binder_set_state(f->fb, a, BINDER_STATE_ACTIVE, 0), 0);
	run_until(f, 1);
	assert_int_equal(be->ops->dump(be->be, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].state, BINDER_STATE_ACTIVE);
	free(v);
	assert_int_equal(be->ops->unbind(be->be, a, &err), 0);
	assert_int_equal(be->ops->dump(be->be, &v, &n, &err), 0);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(binder_mgr_counters(f->bm).dumps, dumps);
	assert_int_equal(binder_mgr_counters(f->bm).dumps_cached, 3);
}

static void test_probe_cache_and_refusal(void **state)
{
	struct fixture *f = *state;
	struct nic_cap cap = { 0 };
	unsigned before;

	fake_binder_refuse_nic(f->fb, 5, EOPNOTSUPP, "driver has no queue management ops");
	fake_binder_set_features(f->fb, 6, 0);
	f->bm = new_mgr(f);
	assert_int_equal(binder_mgr_start(f->bm), 0);

	binder_mgr_nic_cap(f->bm, 5, &cap);
	assert_int_equal(cap.state, NIC_CAP_NO);
	assert_int_equal(cap.err, EOPNOTSUPP);
	assert_string_equal(cap.msg, "vhost_zcrx: driver has no queue management ops");
	binder_mgr_nic_cap(f->bm, 6, &cap);
	assert_int_equal(cap.state, NIC_CAP_YES);
	assert_string_equal(cap.msg, "vhost_zcrx: none, up to 64 bindings");

	/* cached: no new request */
	before = fake_binder_request_count(f->fb);
	assert_true(binder_mgr_probe(f->bm, 6)->probed);
	assert_false(binder_mgr_probe(f->bm, 5)->probed);
	assert_int_equal(fake_binder_request_count(f->fb), before);
	/* forgotten: asked again */
	binder_mgr_forget_nic(f->bm, 6);
	assert_true(binder_mgr_probe(f->bm, 6)->probed);
	assert_int_equal(fake_binder_request_count(f->fb), before + 1);
}

/* A BIND refused for the whole NIC (EOPNOTSUPP) is its verdict; one refused
 * for a queue or tap (EBUSY) is not.  The verdict stands through re-reads of
 * the same device, its capability changing included, and is forgotten when
 * the ifindex is another device (driver, bus, down and up). */
static void test_bind_refusal_verdict_and_link(void **state)
{
	struct fixture *f = *state;
	const struct binder_backend *be;
	struct nic_cap cap = { 0 };
	struct kerror err = { 0 };
	struct nic nic;
	unsigned before;
	uint32_t id;

	f->bm = new_mgr(f);
	assert_int_equal(binder_mgr_start(f->bm), 0);
	be = binder_mgr_backend(f->bm);
	nic_init(&nic);
	nic.link.ifindex = 3;
	snprintf(nic.link.name, sizeof(nic.link.name), "eth0");
	snprintf(nic.driver, sizeof(nic.driver), "mlx5_core");
	nic.link.up = true;
	binder_mgr_check_link(f->bm, &nic); /* nothing known yet: nothing to forget */
	assert_true(binder_mgr_probe(f->bm, 3)->probed);
	binder_mgr_check_link(f->bm, &nic);

	/* EBUSY: this queue only */
	fake_binder_refuse_next_bind(f->fb, EBUSY, "queue has another memory provider");
	assert_int_equal(be->ops->bind(be->be, 3, 5, 9, 1, &id, &err), -EBUSY);
	assert_true(binder_mgr_probe(f->bm, 3)->probed);
	binder_mgr_nic_cap(f->bm, 3, &cap);
	assert_int_equal(cap.state, NIC_CAP_YES);

	/* EOPNOTSUPP: the NIC */
	fake_binder_refuse_next_bind(f->fb, EOPNOTSUPP, "driver has no queue management ops");
	assert_int_equal(be->ops->bind(be->be, 3, 6, 10, 1, &id, &err), -EOPNOTSUPP);
	assert_false(binder_mgr_probe(f->bm, 3)->probed);
	binder_mgr_nic_cap(f->bm, 3, &cap);
	assert_int_equal(cap.state, NIC_CAP_NO);
	assert_string_equal(cap.msg, "vhost_zcrx: driver has no queue management ops");

	/* the same device read again, with its new capability: kept */
	nic.caps.binder = cap;
	before = fake_binder_request_count(f->fb);
	binder_mgr_check_link(f->bm, &nic);
	assert_false(binder_mgr_probe(f->bm, 3)->probed);
	assert_int_equal(fake_binder_request_count(f->fb), before);

	/* the driver was rebound: asked again */
	snprintf(nic.driver, sizeof(nic.driver), "mlx5_core2");
	binder_mgr_check_link(f->bm, &nic);
	assert_true(binder_mgr_probe(f->bm, 3)->probed);
	assert_int_equal(fake_binder_request_count(f->fb), before + 1);
	binder_mgr_check_link(f->bm, &nic);
	assert_true(binder_mgr_probe(f->bm, 3)->probed);
	assert_int_equal(fake_binder_request_count(f->fb), before + 1);
	nic_clear(&nic);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_absent_then_appears, setup_absent, teardown),
		cmocka_unit_test_setup_teardown(test_adopt_after_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_and_notifications, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_from_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_cache_and_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_refusal_verdict_and_link, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
