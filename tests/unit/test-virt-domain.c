// SPDX-License-Identifier: MIT
/*
 * Unit tests for the per-domain state machine, fed the event sequences
 * recorded on libvirtd 9.0 + QEMU (research/libvirt.md §2.5) and their mix
 * with hook calls, operator requests and resyncs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "virt-domain.h"

#define EV(e, d) { VIRT_IN_LIFECYCLE, VIRT_EV_##e, d }
#define IN(k) { VIRT_IN_##k, 0, 0 }

struct step {
	struct virt_input in;
	enum virt_action want;
	enum virt_dom_state state;
};

static void run(struct virt_dom_sm *sm, const struct step *s, size_t n)
{
	const char *reason;
	size_t i;

	for (i = 0; i < n; i++) {
		enum virt_action a = virt_dom_step(sm, &s[i].in, &reason);

		if (a != s[i].want || sm->state != s[i].state) {
			fprintf(stderr, "step %zu (%s/%s): action %s want %s, state %s want %s\n", i,
				virt_ev_name(s[i].in.event),
				virt_ev_detail_name(s[i].in.event, s[i].in.detail),
				virt_action_name(a), virt_action_name(s[i].want),
				virt_dom_state_name(sm->state), virt_dom_state_name(s[i].state));
			fail();
		}
		assert_non_null(reason);
		assert_true(reason[0] != 0);
	}
}

#define RUN(sm, steps) run(sm, steps, sizeof(steps) / sizeof(steps[0]))

/* start: RESUMED/0 then STARTED/0; destroy: SHUTDOWN/2 then STOPPED/1 */
static void test_start_destroy(void **state)
{
	static const struct step s[] = {
		{ EV(DEFINED, 0), VIRT_ACT_NONE, VIRT_DOM_SHUTOFF },
		{ EV(RESUMED, 0), VIRT_ACT_ATTACH, VIRT_DOM_RUNNING },
		{ EV(STARTED, 0), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ EV(SHUTDOWN, 2), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ EV(STOPPED, 1), VIRT_ACT_DETACH, VIRT_DOM_SHUTOFF },
		/* and again: a second run attaches again, once */
		{ EV(RESUMED, 0), VIRT_ACT_ATTACH, VIRT_DOM_RUNNING },
		{ EV(STARTED, 0), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ EV(STOPPED, 0), VIRT_ACT_DETACH, VIRT_DOM_SHUTOFF },
		{ EV(UNDEFINED, 0), VIRT_ACT_FORGET, VIRT_DOM_SHUTOFF },
	};
	struct virt_dom_sm sm;

	virt_dom_sm_init(&sm);
	RUN(&sm, s);
	(void)state;
}

/* The test driver sends STARTED only (no RESUMED), STOPPED without SHUTDOWN. */
static void test_test_driver_start(void **state)
{
	static const struct step s[] = {
		{ EV(STARTED, 0), VIRT_ACT_ATTACH, VIRT_DOM_RUNNING },
		{ EV(STOPPED, 1), VIRT_ACT_DETACH, VIRT_DOM_SHUTOFF },
		{ EV(STOPPED, 1), VIRT_ACT_NONE, VIRT_DOM_SHUTOFF },
	};
	struct virt_dom_sm sm;

	virt_dom_sm_init(&sm);
	RUN(&sm, s);
	(void)state;
}

static void test_suspend_resume(void **state)
{
	static const struct step s[] = {
		{ EV(STARTED, 0), VIRT_ACT_ATTACH, VIRT_DOM_RUNNING },
		{ EV(SUSPENDED, 0), VIRT_ACT_NONE, VIRT_DOM_PAUSED },
		{ EV(RESUMED, 0), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ EV(SUSPENDED, 2), VIRT_ACT_NONE, VIRT_DOM_PAUSED }, /* I/O error */
		{ EV(RESUMED, 0), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
	};
	struct virt_dom_sm sm;

	virt_dom_sm_init(&sm);
	RUN(&sm, s);
	(void)state;
}

/* save: SUSPENDED/0, STOPPED/4; restore: STARTED/2, RESUMED/2 */
static void test_save_restore(void **state)
{
	static const struct step s[] = {
		{ EV(RESUMED, 0), VIRT_ACT_ATTACH, VIRT_DOM_RUNNING },
		{ EV(STARTED, 0), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ EV(SUSPENDED, 0), VIRT_ACT_NONE, VIRT_DOM_PAUSED },
		{ EV(STOPPED, 4), VIRT_ACT_DETACH, VIRT_DOM_SHUTOFF },
		{ EV(STARTED, 2), VIRT_ACT_ATTACH, VIRT_DOM_RUNNING },
		{ EV(RESUMED, 2), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
	};
	struct virt_dom_sm sm;

	virt_dom_sm_init(&sm);
	RUN(&sm, s);
	(void)state;
}

/* source: SUSPENDED/1, STOPPED/3 */
static void test_migration_source(void **state)
{
	static const struct step s[] = {
		{ IN(RESYNC_ACTIVE), VIRT_ACT_ATTACH, VIRT_DOM_RUNNING },
		{ EV(SUSPENDED, 1), VIRT_ACT_NONE, VIRT_DOM_MIGRATING_OUT },
		{ EV(STOPPED, 3), VIRT_ACT_DETACH, VIRT_DOM_SHUTOFF },
		/* transient on the source: undefined after the detach */
		{ EV(UNDEFINED, 0), VIRT_ACT_FORGET, VIRT_DOM_SHUTOFF },
	};
	struct virt_dom_sm sm;

	virt_dom_sm_init(&sm);
	RUN(&sm, s);
	(void)state;
}

/* A migration that fails resumes on the source, still attached. */
static void test_migration_source_cancelled(void **state)
{
	static const struct step s[] = {
		{ EV(STARTED, 0), VIRT_ACT_ATTACH, VIRT_DOM_RUNNING },
		{ EV(SUSPENDED, 1), VIRT_ACT_NONE, VIRT_DOM_MIGRATING_OUT },
		{ EV(RESUMED, 1), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
	};
	struct virt_dom_sm sm;

	virt_dom_sm_init(&sm);
	RUN(&sm, s);
	(void)state;
}

/* destination: DEFINED (transient), STARTED/1 before the source pauses, RESUMED/1 */
static void test_migration_destination(void **state)
{
	static const struct step s[] = {
		{ EV(STARTED, 1), VIRT_ACT_ATTACH, VIRT_DOM_INCOMING },
		{ EV(RESUMED, 1), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ EV(STOPPED, 1), VIRT_ACT_DETACH, VIRT_DOM_SHUTOFF },
	};
	struct virt_dom_sm sm;
	const char *reason;
	struct virt_input in = EV(STOPPED, 5);

	virt_dom_sm_init(&sm);
	RUN(&sm, s);

	/* the incoming side fails: STOPPED/FAILED detaches what it attached */
	virt_dom_sm_init(&sm);
	assert_int_equal(virt_dom_step(&sm, &s[0].in, NULL), VIRT_ACT_ATTACH);
	assert_int_equal(virt_dom_step(&sm, &in, &reason), VIRT_ACT_DETACH);
	assert_string_equal(reason, "failed to start");
	(void)state;
}

/* The hook attaches from its stdin XML at start/begin; the events that
 * follow find the work done: one attachment, not two. */
static void test_hook_then_events(void **state)
{
	static const struct step s[] = {
		{ IN(HOOK_ATTACH), VIRT_ACT_ATTACH, VIRT_DOM_RUNNING },  /* start begin */
		{ IN(HOOK_ATTACH), VIRT_ACT_NONE, VIRT_DOM_RUNNING },    /* started begin */
		{ EV(RESUMED, 0), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ EV(STARTED, 0), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ IN(HOOK_DETACH), VIRT_ACT_DETACH, VIRT_DOM_SHUTOFF },  /* stopped end */
		{ IN(HOOK_DETACH), VIRT_ACT_NONE, VIRT_DOM_SHUTOFF },    /* release end */
		{ EV(SHUTDOWN, 2), VIRT_ACT_NONE, VIRT_DOM_SHUTOFF },
		{ EV(STOPPED, 1), VIRT_ACT_NONE, VIRT_DOM_SHUTOFF },
	};
	struct virt_dom_sm sm;

	virt_dom_sm_init(&sm);
	RUN(&sm, s);
	(void)state;
}

/* zcrxd was down during the start: the resync after connecting attaches. */
static void test_resync(void **state)
{
	static const struct step s[] = {
		{ IN(RESYNC_ACTIVE), VIRT_ACT_ATTACH, VIRT_DOM_RUNNING },
		{ IN(RESYNC_ACTIVE), VIRT_ACT_REPLAN, VIRT_DOM_RUNNING }, /* reconnect */
		{ IN(RESYNC_GONE), VIRT_ACT_DETACH, VIRT_DOM_SHUTOFF },   /* stopped meanwhile */
		{ IN(RESYNC_GONE), VIRT_ACT_NONE, VIRT_DOM_SHUTOFF },
	};
	struct virt_dom_sm sm;

	virt_dom_sm_init(&sm);
	RUN(&sm, s);

	/* an unknown domain that is gone still gets a (no-op) detach */
	virt_dom_sm_init(&sm);
	{
		struct virt_input in = IN(RESYNC_GONE);

		assert_int_equal(virt_dom_step(&sm, &in, NULL), VIRT_ACT_DETACH);
	}
	(void)state;
}

static void test_metadata_and_devices(void **state)
{
	static const struct step s[] = {
		{ IN(METADATA), VIRT_ACT_NONE, VIRT_DOM_UNKNOWN },  /* not running */
		{ EV(STARTED, 0), VIRT_ACT_ATTACH, VIRT_DOM_RUNNING },
		{ IN(METADATA), VIRT_ACT_REPLAN, VIRT_DOM_RUNNING },
		{ IN(DEVICE), VIRT_ACT_REPLAN, VIRT_DOM_RUNNING },
		{ EV(SUSPENDED, 0), VIRT_ACT_NONE, VIRT_DOM_PAUSED },
		{ IN(METADATA), VIRT_ACT_REPLAN, VIRT_DOM_PAUSED },
		{ EV(STOPPED, 0), VIRT_ACT_DETACH, VIRT_DOM_SHUTOFF },
		{ IN(METADATA), VIRT_ACT_NONE, VIRT_DOM_SHUTOFF },
		{ EV(DEFINED, 1), VIRT_ACT_NONE, VIRT_DOM_SHUTOFF },
	};
	struct virt_dom_sm sm;

	virt_dom_sm_init(&sm);
	RUN(&sm, s);
	(void)state;
}

/* An operator's detach holds until the next start. */
static void test_operator(void **state)
{
	static const struct step s[] = {
		{ EV(STARTED, 0), VIRT_ACT_ATTACH, VIRT_DOM_RUNNING },
		{ IN(OP_DETACH), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ IN(METADATA), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ IN(RESYNC_ACTIVE), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ EV(SUSPENDED, 0), VIRT_ACT_NONE, VIRT_DOM_PAUSED },
		{ EV(RESUMED, 0), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ IN(OP_ATTACH), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ IN(METADATA), VIRT_ACT_REPLAN, VIRT_DOM_RUNNING },
		{ IN(OP_DETACH), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ EV(STOPPED, 1), VIRT_ACT_DETACH, VIRT_DOM_SHUTOFF },
		{ EV(STARTED, 0), VIRT_ACT_ATTACH, VIRT_DOM_RUNNING },
	};
	struct virt_dom_sm sm;

	virt_dom_sm_init(&sm);
	RUN(&sm, s);
	(void)state;
}

/* Transient domain undefined while running: nothing until STOPPED. */
static void test_undefine_running(void **state)
{
	static const struct step s[] = {
		{ EV(STARTED, 0), VIRT_ACT_ATTACH, VIRT_DOM_RUNNING },
		{ EV(UNDEFINED, 0), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ EV(CRASHED, 0), VIRT_ACT_NONE, VIRT_DOM_RUNNING },
		{ EV(STOPPED, 2), VIRT_ACT_DETACH, VIRT_DOM_SHUTOFF },
		{ EV(UNDEFINED, 0), VIRT_ACT_FORGET, VIRT_DOM_SHUTOFF },
	};
	struct virt_dom_sm sm;

	virt_dom_sm_init(&sm);
	RUN(&sm, s);
	(void)state;
}

static void test_hook_mapping(void **state)
{
	enum virt_input_kind k;

	assert_int_equal(virt_hook_input("start", "begin", &k), 0);
	assert_int_equal(k, VIRT_IN_HOOK_ATTACH);
	assert_int_equal(virt_hook_input("started", "begin", &k), 0);
	assert_int_equal(k, VIRT_IN_HOOK_ATTACH);
	assert_int_equal(virt_hook_input("stopped", "end", &k), 0);
	assert_int_equal(k, VIRT_IN_HOOK_DETACH);
	assert_int_equal(virt_hook_input("release", "end", &k), 0);
	assert_int_equal(k, VIRT_IN_HOOK_DETACH);
	assert_int_equal(virt_hook_input("prepare", "begin", &k), -1);
	assert_int_equal(virt_hook_input("migrate", "begin", &k), -1);
	assert_int_equal(virt_hook_input("restore", "begin", &k), -1);
	assert_int_equal(virt_hook_input("reconnect", "begin", &k), -1);
	assert_int_equal(virt_hook_input("start", "end", &k), -1);
	assert_int_equal(virt_hook_input(NULL, "end", &k), -1);
	(void)state;
}

static void test_names(void **state)
{
	assert_string_equal(virt_ev_name(VIRT_EV_STOPPED), "stopped");
	assert_string_equal(virt_ev_name(99), "?");
	assert_string_equal(virt_ev_name(-1), "?");
	assert_string_equal(virt_ev_detail_name(VIRT_EV_STOPPED, 3), "migrated");
	assert_string_equal(virt_ev_detail_name(VIRT_EV_STOPPED, 77), "");
	assert_string_equal(virt_ev_detail_name(VIRT_EV_CRASHED, 0), "");
	assert_string_equal(virt_action_name(VIRT_ACT_REPLAN), "replan");
	assert_string_equal(virt_dom_state_name(VIRT_DOM_INCOMING), "migrating in");
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_destroy),
		cmocka_unit_test(test_test_driver_start),
		cmocka_unit_test(test_suspend_resume),
		cmocka_unit_test(test_save_restore),
		cmocka_unit_test(test_migration_source),
		cmocka_unit_test(test_migration_source_cancelled),
		cmocka_unit_test(test_migration_destination),
		cmocka_unit_test(test_hook_then_events),
		cmocka_unit_test(test_resync),
		cmocka_unit_test(test_metadata_and_devices),
		cmocka_unit_test(test_operator),
		cmocka_unit_test(test_undefine_running),
		cmocka_unit_test(test_hook_mapping),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
