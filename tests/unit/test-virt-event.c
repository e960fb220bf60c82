// SPDX-License-Identifier: MIT
/*
 * Unit tests for virt-event: libvirt's event contract on sd-event — io
 * watches (also two on one fd), timers with period >0 / 0 / -1, free
 * callbacks deferred out of remove, and calls from another thread while the
 * loop sleeps.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
#include "virt-event.h"

struct ctx {
	sd_event *ev;
	struct virt_event *ve;
	int pipefd[2];
	int calls, calls2, frees, events_seen, last_watch, last_fd;
	bool in_remove;
	bool ff_in_remove; /* a free callback ran inside remove: the bug */
	pthread_t loop_thread;
	bool wrong_thread;
	int remove_self; /* watch/timer id to remove from inside its callback */
	int timer_calls, zero_calls;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(sd_event_new(&c->ev), 0);
	assert_int_equal(virt_event_new(c->ev, &c->ve), 0);
	assert_int_equal(pipe2(c->pipefd, O_CLOEXEC | O_NONBLOCK), 0);
	c->loop_thread = pthread_self();
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	virt_event_free(c->ve);
	sd_event_unref(c->ev);
	close(c->pipefd[0]);
	close(c->pipefd[1]);
	free(c);
	return 0;
}

/* Run the loop until cond holds or ms pass.  Returns whether it held. */
static bool run_until(struct ctx *c, bool (*cond)(void *c), unsigned ms)
{
	int r = deadline_run_until(c->ev, cond, c, ms, 10);

	assert_true(r >= 0);
	return r > 0;
}

static void run_for(struct ctx *c, unsigned ms)
{
	assert_true(deadline_run_for(c->ev, ms, 5) >= 0);
}

static void on_handle(int watch, int fd, int events, void *opaque)
{
	struct ctx *c = opaque;
	char buf[64];

	c->calls++;
	c->last_watch = watch;
	c->last_fd = fd;
	c->events_seen |= events;
	if (!pthread_equal(pthread_self(), c->loop_thread))
		c->wrong_thread = true;
	if (c->remove_self == watch) {
		c->in_remove = true;
		assert_int_equal(virt_event_remove_handle(c->ve, watch), 0);
		c->in_remove = false;
		/* removing twice is an error, not a crash */
		assert_int_equal(virt_event_remove_handle(c->ve, watch), -1);
	}
	(void)!read(fd, buf, sizeof(buf));
}

static void on_handle2(int watch, int fd, int events, void *opaque)
{
	((struct ctx *)opaque)->calls2++;
}

static void on_free(void *opaque)
{
	struct ctx *c = opaque;

	c->frees++;
	if (c->in_remove)
		c->ff_in_remove = true;
}

static bool got_call(void *p)
{
	const struct ctx *c = p;

	return c->calls > 0;
}
static bool got_free(void *p)
{
	const struct ctx *c = p;

	return c->frees > 0;
}

static void test_handle_basic(void **state)
{
	struct ctx *c = *state;
	unsigned nh, nt;
	int w;

	w = virt_event_add_handle(c->ve, c->pipefd[0], VIRT_EVENT_READABLE, on_handle, c, on_free);
	assert_true(w > 0);
	virt_event_counts(c->ve, &nh, &nt);
	assert_int_equal(nh, 1);
	assert_int_equal(nt, 0);

	/* nothing to read: no call */
	run_for(c, 30);
	assert_int_equal(c->calls, 0);

	assert_int_equal(write(c->pipefd[1], "x", 1), 1);
	assert_true(run_until(c, got_call, 1000));
	assert_int_equal(c->last_watch, w);
	assert_int_equal(c->last_fd, c->pipefd[0]); /* the caller's fd, not our dup */
	assert_true(c->events_seen & VIRT_EVENT_READABLE);
	assert_false(c->wrong_thread);

	/* interest 0: readable data is not reported */
	virt_event_update_handle(c->ve, w, 0);
	c->calls = 0;
	assert_int_equal(write(c->pipefd[1], "x", 1), 1);
	run_for(c, 30);
	assert_int_equal(c->calls, 0);
	virt_event_update_handle(c->ve, w, VIRT_EVENT_READABLE);
	assert_true(run_until(c, got_call, 1000));

	/* hangup is reported */
	c->events_seen = 0;
	close(c->pipefd[1]);
	c->pipefd[1] = open("/dev/null", O_WRONLY | O_CLOEXEC);
	assert_true(run_until(c, got_call, 1000));
	c->calls = 0;
	run_until(c, got_call, 200);
	assert_true(c->events_seen & VIRT_EVENT_HANGUP);

	assert_int_equal(virt_event_remove_handle(c->ve, w), 0);
	assert_int_equal(c->frees, 0); /* not inside remove */
	assert_true(run_until(c, got_free, 1000));
	assert_int_equal(c->frees, 1);
	virt_event_counts(c->ve, &nh, &nt);
	assert_int_equal(nh, 0);
	assert_int_equal(virt_event_remove_handle(c->ve, w), -1);
	assert_int_equal(virt_event_remove_handle(c->ve, 12345), -1);
	virt_event_update_handle(c->ve, 12345, VIRT_EVENT_READABLE); /* ignored */
	assert_int_equal(virt_event_add_handle(c->ve, -1, VIRT_EVENT_READABLE, on_handle, c, NULL),
			 -1);
}

static bool both_called(void *p)
{
	const struct ctx *c = p;

	return c->calls > 0 && c->calls2 > 0;
}

/* libvirt may watch one fd twice (e.g. read and write interest apart). */
static void test_same_fd_twice(void **state)
{
	struct ctx *c = *state;
	int w1, w2;

	w1 = virt_event_add_handle(c->ve, c->pipefd[0], VIRT_EVENT_READABLE, on_handle2, c, NULL);
	w2 = virt_event_add_handle(c->ve, c->pipefd[0], VIRT_EVENT_READABLE, on_handle, c, NULL);
	assert_true(w1 > 0 && w2 > 0 && w1 != w2);
	assert_int_equal(write(c->pipefd[1], "x", 1), 1);
	assert_true(run_until(c, both_called, 1000));
	assert_int_equal(virt_event_remove_handle(c->ve, w1), 0);
	assert_int_equal(virt_event_remove_handle(c->ve, w2), 0);
	run_for(c, 10);
}

/* Removing a watch from its own callback: the free callback comes later,
 * from the loop, not from inside remove. */
static void test_remove_in_callback(void **state)
{
	struct ctx *c = *state;
	int w;

	w = virt_event_add_handle(c->ve, c->pipefd[0], VIRT_EVENT_READABLE, on_handle, c, on_free);
	c->remove_self = w;
	assert_int_equal(write(c->pipefd[1], "xx", 2), 2);
	assert_true(run_until(c, got_free, 1000));
	assert_int_equal(c->calls, 1);
	assert_false(c->ff_in_remove);
	/* no further calls after the removal, although the pipe stays readable */
	assert_int_equal(write(c->pipefd[1], "x", 1), 1);
	run_for(c, 30);
	assert_int_equal(c->calls, 1);
}

static void on_timer(int timer, void *opaque)
{
	struct ctx *c = opaque;

	c->timer_calls++;
	if (!pthread_equal(pthread_self(), c->loop_thread))
		c->wrong_thread = true;
	if (c->remove_self == timer) {
		c->in_remove = true;
		assert_int_equal(virt_event_remove_timeout(c->ve, timer), 0);
		c->in_remove = false;
	}
}

static void on_zero(int timer, void *opaque)
{
	((struct ctx *)opaque)->zero_calls++;
}

static bool three_timer_calls(void *p)
{
	const struct ctx *c = p;

	return c->timer_calls >= 3;
}
static bool zero_called_5(void *p)
{
	const struct ctx *c = p;

	return c->zero_calls >= 5;
}

static void test_timer_periodic(void **state)
{
	struct ctx *c = *state;
	uint64_t t0 = deadline_now_ms(), dt;
	int t;

	t = virt_event_add_timeout(c->ve, 20, on_timer, c, on_free);
	assert_true(t > 0);
	assert_true(run_until(c, three_timer_calls, 2000));
	dt = deadline_now_ms() - t0;
	/* three periods of 20 ms: not early, and not absurdly late */
	assert_true(dt >= 58);
	assert_true(dt < 1000);

	/* -1 disables */
	virt_event_update_timeout(c->ve, t, -1);
	c->timer_calls = 0;
	run_for(c, 60);
	assert_int_equal(c->timer_calls, 0);

	/* re-enabled with a new period */
	virt_event_update_timeout(c->ve, t, 5);
	assert_true(run_until(c, three_timer_calls, 1000));
	assert_int_equal(virt_event_remove_timeout(c->ve, t), 0);
	assert_int_equal(c->frees, 0);
	c->timer_calls = 0;
	run_for(c, 30);
	assert_int_equal(c->timer_calls, 0);
	assert_int_equal(c->frees, 1);
	assert_false(c->wrong_thread);
	assert_int_equal(virt_event_remove_timeout(c->ve, t), -1);
}

static bool one_timer_call(void *p)
{
	return ((const struct ctx *)p)->timer_calls > 0;
}

/* A periodic timer of ms added, and the loop run for settle_ms. */
static int timer_armed(struct ctx *c, int ms, unsigned settle_ms)
{
	int t = virt_event_add_timeout(c->ve, ms, on_timer, c, NULL);

	assert_true(t > 0);
	run_for(c, settle_ms);
	return t;
}

/* A timer pushed later again and again (libvirt's keepalive, at every
 * message it reads) fires once, at its last time: never at one it was
 * moved from, although the loop's source keeps the earlier time. */
static void test_timer_postponed(void **state)
{
	struct ctx *c = *state;
	uint64_t t0, dt;
	int t, k;

	t = timer_armed(c, 30, 5); /* armed for +30 ms */
	t0 = deadline_now_ms();
	for (k = 0; k < 5; k++) {
		virt_event_update_timeout(c->ve, t, 60); /* +60 ms from now */
		run_for(c, 20);
	}
	/* ~100 ms past every time it had before the last update: not called */
	assert_int_equal(c->timer_calls, 0);
	assert_true(run_until(c, one_timer_call, 2000));
	dt = deadline_now_ms() - t0;
	assert_true(dt >= 80 + 60 - 2); /* the last update came at ~80 ms */
	assert_int_equal(c->timer_calls, 1);
	/* and it is periodic again from there, the source re-armed */
	assert_true(run_until(c, three_timer_calls, 2000));
	assert_false(c->wrong_thread);
	assert_int_equal(virt_event_remove_timeout(c->ve, t), 0);
}

/* A timer brought forward while the loop's source is armed for a later
 * time fires at its new time (the source is set again, not left where a
 * sync with nothing changed would leave it); one left alone then keeps
 * its own time. */
static void test_timer_brought_forward(void **state)
{
	struct ctx *c = *state;
	uint64_t t0, dt;
	int t, u;

	t = timer_armed(c, 2000, 10); /* armed for +2 s, synced a few times */
	t0 = deadline_now_ms();
	virt_event_update_timeout(c->ve, t, 20);
	assert_true(run_until(c, one_timer_call, 2000));
	dt = deadline_now_ms() - t0;
	assert_true(dt >= 18);
	assert_true(dt < 1500);
	/* a second, later timer: armed after the first's period changes */
	virt_event_update_timeout(c->ve, t, -1);
	c->timer_calls = 0;
	u = virt_event_add_timeout(c->ve, 50, on_timer, c, NULL);
	t0 = deadline_now_ms();
	assert_true(run_until(c, one_timer_call, 2000));
	dt = deadline_now_ms() - t0;
	assert_true(dt >= 48);
	assert_true(dt < 1500);
	assert_int_equal(virt_event_remove_timeout(c->ve, u), 0);
	assert_int_equal(virt_event_remove_timeout(c->ve, t), 0);
}

static void test_timer_zero_and_disabled(void **state)
{
	struct ctx *c = *state;
	int z, d;
	unsigned nh, nt;

	d = virt_event_add_timeout(c->ve, -1, on_timer, c, NULL);
	z = virt_event_add_timeout(c->ve, 0, on_zero, c, NULL);
	assert_true(z > 0 && d > 0);
	virt_event_counts(c->ve, &nh, &nt);
	assert_int_equal(nt, 2);

	/* 0 fires on every iteration, without anything else happening */
	assert_true(run_until(c, zero_called_5, 1000));
	assert_int_equal(c->timer_calls, 0);

	/* and stops when disabled */
	virt_event_update_timeout(c->ve, z, -1);
	run_for(c, 5);
	c->zero_calls = 0;
	run_for(c, 30);
	assert_int_equal(c->zero_calls, 0);

	/* the disabled one starts when given a period */
	virt_event_update_timeout(c->ve, d, 1);
	assert_true(run_until(c, three_timer_calls, 1000));
	assert_int_equal(virt_event_remove_timeout(c->ve, d), 0);
	assert_int_equal(virt_event_remove_timeout(c->ve, z), 0);
	run_for(c, 5);
	virt_event_counts(c->ve, &nh, &nt);
	assert_int_equal(nt, 0);
}

static void test_timer_remove_in_callback(void **state)
{
	struct ctx *c = *state;
	int t;

	t = virt_event_add_timeout(c->ve, 0, on_timer, c, on_free);
	c->remove_self = t;
	assert_true(run_until(c, got_free, 1000));
	assert_int_equal(c->timer_calls, 1);
	assert_false(c->ff_in_remove);
}

/* --- another thread registers while the loop sleeps in epoll ------------------- */

struct thr {
	struct ctx *c;
	int id;
};

static void *add_from_thread(void *p)
{
	struct thr *t = p;

	usleep(50 * 1000); /* let the loop go to sleep first (the check does not rely on it) */
	t->id = virt_event_add_timeout(t->c->ve, 0, on_timer, t->c, on_free);
	return NULL;
}

static void test_thread_wakes_loop(void **state)
{
	struct ctx *c = *state;
	struct thr t = { .c = c };
	pthread_t th;
	uint64_t t0;

	assert_int_equal(pthread_create(&th, NULL, add_from_thread, &t), 0);
	t0 = deadline_now_ms();
	/* one long sd_event_run: only the eventfd can wake it early */
	while (c->timer_calls == 0 && deadline_now_ms() - t0 < 3000)
		assert_true(sd_event_run(c->ev, 5 * 1000 * 1000) >= 0);
	pthread_join(th, NULL);
	assert_true(c->timer_calls > 0);
	assert_true(deadline_now_ms() - t0 < 2000);
	assert_false(c->wrong_thread); /* called on the loop thread */
	assert_int_equal(virt_event_remove_timeout(c->ve, t.id), 0);
	assert_true(run_until(c, got_free, 1000));
}

struct hammer {
	struct ctx *c;
	bool stop; /* atomic */
	int ops;
};

static void *hammer_thread(void *p)
{
	struct hammer *h = p;
	int k = 0;

	while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED) && k < 20000) {
		int w = virt_event_add_handle(h->c->ve, h->c->pipefd[0], VIRT_EVENT_READABLE,
					      on_handle2, h->c, NULL);
		int t = virt_event_add_timeout(h->c->ve, k % 3 - 1, on_zero, h->c, NULL);

		virt_event_update_handle(h->c->ve, w, k & 1 ? VIRT_EVENT_WRITABLE : 0);
		virt_event_update_timeout(h->c->ve, t, k % 2);
		virt_event_remove_handle(h->c->ve, w);
		virt_event_remove_timeout(h->c->ve, t);
		k++;
	}
	h->ops = k;
	return NULL;
}

/* Many changes from another thread while the loop dispatches: no crash, no
 * leak (ASan), and everything removed is gone afterwards. */
static void test_thread_hammer(void **state)
{
	struct ctx *c = *state;
	struct hammer h = { .c = c };
	pthread_t th;
	unsigned nh, nt;
	uint64_t end = deadline_now_ms() + 300;

	assert_int_equal(write(c->pipefd[1], "x", 1), 1);
	assert_int_equal(pthread_create(&th, NULL, hammer_thread, &h), 0);
	while (deadline_now_ms() < end)
		assert_true(sd_event_run(c->ev, 1000) >= 0);
	__atomic_store_n(&h.stop, true, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	run_for(c, 10);
	virt_event_counts(c->ve, &nh, &nt);
	assert_int_equal(nh, 0);
	assert_int_equal(nt, 0);
	assert_true(h.ops > 10);
}

/* Freeing the loop glue owes the free callbacks of removed entries only. */
static void test_free_runs_pending(void **state)
{
	struct ctx *c = *state;
	int w, t;

	w = virt_event_add_handle(c->ve, c->pipefd[0], VIRT_EVENT_READABLE, on_handle, c, on_free);
	t = virt_event_add_timeout(c->ve, 10, on_timer, c, on_free);
	(void)virt_event_add_timeout(c->ve, 10, on_timer, c, on_free); /* still registered */
	assert_int_equal(virt_event_remove_handle(c->ve, w), 0);
	assert_int_equal(virt_event_remove_timeout(c->ve, t), 0);
	c->ve = virt_event_free(c->ve);
	assert_int_equal(c->frees, 2);
	assert_int_equal(virt_event_new(c->ev, &c->ve), 0);
}

/* What another thread changes wakes the loop only when its sources would
 * miss it (libvirt's RPC code narrows a socket's interest and postpones its
 * keepalive timer on every call), and what the sources still poll for after
 * a narrowing is never passed on. */
struct changes {
	struct ctx *c;
	int w, t, step;
	unsigned long wakes[10];
	bool held;
};

static void *change_from_thread(void *p)
{
	struct changes *ch = p;
	struct virt_event *ve = ch->c->ve;

	switch (ch->step) {
	case 0: /* less interest, a later timer, a disabled one: no wake */
		ch->wakes[0] = virt_event_wakes(ve);
		virt_event_update_handle(ve, ch->w, 0);
		virt_event_update_timeout(ve, ch->t, 60 * 1000);
		virt_event_update_timeout(ve, ch->t, -1);
		ch->wakes[1] = virt_event_wakes(ve);
		break;
	case 1: /* more interest: a wake */
		ch->wakes[2] = virt_event_wakes(ve);
		virt_event_update_handle(ve, ch->w, VIRT_EVENT_READABLE);
		ch->wakes[3] = virt_event_wakes(ve);
		break;
	case 2: /* an earlier timer, a 0-period one: a wake each */
		ch->wakes[4] = virt_event_wakes(ve);
		virt_event_update_timeout(ve, ch->t, 5);
		ch->wakes[5] = virt_event_wakes(ve);
		virt_event_update_timeout(ve, ch->t, 0);
		ch->wakes[6] = virt_event_wakes(ve);
		break;
	case 3: /* quiet: more interest wakes nobody (told back); a timer does */
		virt_event_quiet_begin();
		ch->wakes[7] = virt_event_wakes(ve);
		virt_event_update_handle(ve, ch->w, VIRT_EVENT_READABLE);
		ch->wakes[8] = virt_event_wakes(ve);
		virt_event_update_timeout(ve, ch->t, 5);
		ch->wakes[9] = virt_event_wakes(ve);
		ch->held = virt_event_quiet_end();
		break;
	}
	return NULL;
}

static void change(struct changes *ch, int step)
{
	pthread_t th;

	ch->step = step;
	assert_int_equal(pthread_create(&th, NULL, change_from_thread, ch), 0);
	pthread_join(th, NULL);
}

static bool timer_called(void *p)
{
	return ((const struct ctx *)p)->timer_calls > 0;
}

static void test_thread_wakes_only_when_needed(void **state)
{
	struct ctx *c = *state;
	struct changes ch = { .c = c };

	ch.w = virt_event_add_handle(c->ve, c->pipefd[0], VIRT_EVENT_READABLE, on_handle, c,
				     NULL);
	ch.t = virt_event_add_timeout(c->ve, 60 * 1000, on_timer, c, NULL);
	assert_true(ch.w > 0 && ch.t > 0);
	run_for(c, 20); /* the sources follow the table */

	change(&ch, 0);
	assert_int_equal(ch.wakes[1], ch.wakes[0]);
	/* the source still polls for readable: the loop wakes, passes nothing */
	assert_int_equal(write(c->pipefd[1], "x", 1), 1);
	run_for(c, 30);
	assert_int_equal(c->calls, 0);
	assert_int_equal(c->timer_calls, 0);

	change(&ch, 1);
	assert_int_equal(ch.wakes[3], ch.wakes[2] + 1);
	assert_true(run_until(c, got_call, 1000));

	change(&ch, 2);
	assert_int_equal(ch.wakes[5], ch.wakes[4] + 1);
	assert_int_equal(ch.wakes[6], ch.wakes[5] + 1);
	assert_true(run_until(c, timer_called, 1000));

	/* quiet (a worker that wakes the loop itself after its call): the
	 * wider interest waits for the loop's next turn, here the timer's */
	change(&ch, 0);
	run_for(c, 20); /* the source narrowed */
	c->calls = 0;
	c->timer_calls = 0;
	change(&ch, 3);
	assert_int_equal(ch.wakes[8], ch.wakes[7]);
	assert_true(ch.held);
	assert_int_equal(ch.wakes[9], ch.wakes[8] + 1);
	assert_int_equal(write(c->pipefd[1], "x", 1), 1);
	assert_true(run_until(c, got_call, 1000));
	assert_int_equal(virt_event_remove_handle(c->ve, ch.w), 0);
	assert_int_equal(virt_event_remove_timeout(c->ve, ch.t), 0);
	run_for(c, 10);
}

struct arming {
	struct ctx *c;
	int timer;
};

/* As libvirt's client does: what it read it passes on from a 0-period timer. */
static void on_handle_arms(int watch, int fd, int events, void *opaque)
{
	struct arming *a = opaque;
	char buf[8];

	(void)!read(fd, buf, sizeof(buf));
	a->c->calls++;
	virt_event_update_timeout(a->c->ve, a->timer, 0);
}

static void on_zero_disarms(int timer, void *opaque)
{
	struct arming *a = opaque;

	a->c->zero_calls++;
	virt_event_update_timeout(a->c->ve, timer, -1);
}

/* A 0-period timer armed by a watch's callback runs in the same turn of
 * the loop (one sd_event_run), not one later. */
static void test_timer_armed_in_handle_same_turn(void **state)
{
	struct ctx *c = *state;
	struct arming a = { .c = c };
	int w;

	a.timer = virt_event_add_timeout(c->ve, -1, on_zero_disarms, &a, NULL);
	w = virt_event_add_handle(c->ve, c->pipefd[0], VIRT_EVENT_READABLE, on_handle_arms, &a,
				  NULL);
	assert_true(a.timer > 0 && w > 0);
	run_for(c, 10);
	assert_int_equal(write(c->pipefd[1], "x", 1), 1);
	while (!c->calls)
		assert_true(sd_event_run(c->ev, 1000 * 1000) >= 0);
	assert_int_equal(c->zero_calls, 1);
	run_for(c, 20); /* disarmed in its callback: not again */
	assert_int_equal(c->zero_calls, 1);
	assert_int_equal(virt_event_remove_handle(c->ve, w), 0);
	assert_int_equal(virt_event_remove_timeout(c->ve, a.timer), 0);
	run_for(c, 10);
}

struct after {
	struct ctx *c;
	int zero_calls_seen; /* the 0-period timer's calls when the hook ran */
	int runs;
};

static void on_after(void *ud)
{
	struct after *a = ud;

	a->runs++;
	a->zero_calls_seen = a->c->zero_calls;
}

/* The after-dispatch hook runs in the turn that dispatched a watch, once
 * the watch's callback and the 0-period timer it armed have returned (what
 * libvirt's callbacks left for the loop is taken then); cleared, it runs
 * no more. */
static void test_after_dispatch(void **state)
{
	struct ctx *c = *state;
	struct arming a = { .c = c };
	struct after af = { .c = c };
	int w, runs;

	a.timer = virt_event_add_timeout(c->ve, -1, on_zero_disarms, &a, NULL);
	w = virt_event_add_handle(c->ve, c->pipefd[0], VIRT_EVENT_READABLE, on_handle_arms, &a,
				  NULL);
	assert_true(a.timer > 0 && w > 0);
	run_for(c, 10);
	virt_event_set_after(c->ve, on_after, &af);
	assert_int_equal(write(c->pipefd[1], "x", 1), 1);
	while (!c->calls)
		assert_true(sd_event_run(c->ev, 1000 * 1000) >= 0);
	assert_true(af.runs >= 1);
	assert_int_equal(af.zero_calls_seen, 1);
	virt_event_set_after(c->ve, NULL, NULL);
	runs = af.runs;
	assert_int_equal(write(c->pipefd[1], "x", 1), 1);
	while (c->calls < 2)
		assert_true(sd_event_run(c->ev, 1000 * 1000) >= 0);
	assert_int_equal(af.runs, runs);
	assert_int_equal(virt_event_remove_handle(c->ve, w), 0);
	assert_int_equal(virt_event_remove_timeout(c->ve, a.timer), 0);
	run_for(c, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handle_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_fd_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_periodic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_postponed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_brought_forward, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_zero_and_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_remove_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_wakes_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_hammer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_wakes_only_when_needed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_runs_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_armed_in_handle_same_turn, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_after_dispatch, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
