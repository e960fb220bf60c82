// SPDX-License-Identifier: MIT
/*
 * Unit tests for the worker -> loop message queue of virt (virt-queue.c):
 * the loop takes at most VIRT_MSGS_PER_TURN messages per turn, oldest
 * first, and is woken again while more wait, so that a storm of libvirt
 * events is handled in batches with the control socket answered between
 * them; and the loop -> worker job queue as two workers take from it: one
 * event per domain at a time, in order, a connect or resync alone, the
 * second only behind a call of the first that takes long; and
 * the callbacks' name -> UUID memory, which never answers with another
 * name's UUID, forgets what it is told is gone (and nothing else), and
 * nothing of another connection.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "monotime.h"
#include "virt-int.h"

static bool woken(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v) && v > 0;
}

static size_t take_all(struct virt_shared *sh, unsigned *next)
{
	struct vmsg *list = virt_take_msgs(sh, VIRT_MSGS_PER_TURN), *m;
	size_t n = 0;

	while ((m = list)) {
		list = m->next;
		assert_int_equal(m->gen, (*next)++); /* in order */
		virt_msg_free(m);
		n++;
	}
	return n;
}

static void test_storm_taken_in_turns(void **state)
{
	struct virt_shared *sh = virt_shared_new();
	unsigned k, next = 0;

	(void)state;
	assert_non_null(sh);

	for (k = 0; k < 150; k++) {
		struct vmsg *m = calloc(1, sizeof(*m));

		assert_non_null(m);
		m->type = VMSG_CONN;
		m->gen = k;
		virt_post(sh, m);
	}
	assert_true(woken(sh->msgfd));
	assert_int_equal(take_all(sh, &next), VIRT_MSGS_PER_TURN);
	assert_true(woken(sh->msgfd)); /* more wait: the loop comes back */
	assert_int_equal(take_all(sh, &next), VIRT_MSGS_PER_TURN);
	assert_true(woken(sh->msgfd));
	assert_int_equal(take_all(sh, &next), 150 - 2 * VIRT_MSGS_PER_TURN);
	assert_false(woken(sh->msgfd)); /* all taken: no wake-up for nothing */
	assert_int_equal(take_all(sh, &next), 0);

	/* the queue still works after it was emptied */
	{
		struct vmsg *m = calloc(1, sizeof(*m));

		assert_non_null(m);
		m->gen = next;
		virt_post(sh, m);
		assert_true(woken(sh->msgfd));
		assert_int_equal(take_all(sh, &next), 1);
	}
	virt_shared_unref(sh);
}

static struct vjob *event_job(struct virt_shared *sh, uint8_t dom, unsigned seq)
{
	struct vjob *j = calloc(1, sizeof(*j));
	bool standby;

	assert_non_null(j);
	j->type = VJOB_EVENT;
	j->uuid[15] = dom;
	j->gen = seq; /* here: the order it was queued in */
	pthread_mutex_lock(&sh->lock);
	standby = virt_push_job_locked(sh, j);
	pthread_mutex_unlock(&sh->lock);
	virt_wake_worker(sh, standby); /* as queue_event does */
	return j;
}

static struct vjob *take(struct virt_shared *sh)
{
	struct vjob *j;

	pthread_mutex_lock(&sh->lock);
	j = virt_take_job_locked(sh);
	pthread_mutex_unlock(&sh->lock);
	return j;
}

static void done(struct virt_shared *sh, struct vjob *j)
{
	pthread_mutex_lock(&sh->lock);
	virt_done_job_locked(sh, j, 1);
	pthread_mutex_unlock(&sh->lock);
	virt_job_free(j);
}

/* The standby worker takes a job only while one waits and the first
 * worker's call has been in flight VIRT_STANDBY_USEC; before that it is
 * told when to look again, and with the first idle or nothing queued it
 * sleeps until woken. */
static void test_standby_only_behind_a_long_call(void **state)
{
	struct virt_shared *sh = virt_shared_new();
	const uint64_t t0 = 5000000;
	uint64_t wake_at = 1;
	struct vjob *j;

	(void)state;
	assert_non_null(sh);
	sh->first_since = t0;
	assert_false(virt_standby_may_take_locked(sh, t0 + VIRT_STANDBY_USEC, &wake_at));
	assert_int_equal(wake_at, 0); /* nothing queued */

	event_job(sh, 0xa, 1);
	sh->first_since = 0;
	wake_at = 1;
	assert_false(virt_standby_may_take_locked(sh, t0, &wake_at));
	assert_int_equal(wake_at, 0); /* the first is idle: the job is its */

	sh->first_since = t0;
	assert_false(virt_standby_may_take_locked(sh, t0 + VIRT_STANDBY_USEC - 1, &wake_at));
	assert_int_equal(wake_at, t0 + VIRT_STANDBY_USEC);
	assert_true(virt_standby_may_take_locked(sh, t0 + VIRT_STANDBY_USEC, &wake_at));
	assert_true(virt_standby_may_take_locked(sh, t0 + 10 * VIRT_STANDBY_USEC, &wake_at));

	j = take(sh);
	assert_non_null(j);
	done(sh, j);
	assert_false(virt_standby_may_take_locked(sh, t0 + 10 * VIRT_STANDBY_USEC, &wake_at));
	assert_int_equal(wake_at, 0);
	virt_shared_unref(sh);
}

/* What the standby thread of the next test took, and when. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned taken; /* the gen of the job it took, 0: none yet */
	uint64_t taken_usec;
} standby_seen = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };

static void *standby_main(void *p)
{
	struct virt_shared *sh = p;
	struct vjob *j;
	bool others;

	for (;;) {
		pthread_mutex_lock(&sh->lock);
		j = virt_wait_job_locked(sh, 1);
		if (!j) {
			pthread_mutex_unlock(&sh->lock);
			return NULL;
		}
		others = virt_done_job_locked(sh, j, 1);
		pthread_mutex_unlock(&sh->lock);
		if (others)
			virt_wake_workers(sh);
		pthread_mutex_lock(&standby_seen.lock);
		standby_seen.taken = j->gen;
		standby_seen.taken_usec = monotime_usec();
		pthread_cond_signal(&standby_seen.cond);
		pthread_mutex_unlock(&standby_seen.lock);
		virt_job_free(j);
	}
}

/* The workers' own wait (virt_wait_job_locked) on two threads: this one is
 * the first worker, whose call on domain A does not return; the standby
 * takes domain B's event, queued behind it, and not before that call has
 * been in flight VIRT_STANDBY_USEC.  Stopping ends the standby's wait. */
static void test_standby_takes_behind_a_stuck_call(void **state)
{
	struct virt_shared *sh = virt_shared_new();
	uint64_t since, deadline;
	struct vjob *a;
	pthread_t t;

	(void)state;
	assert_non_null(sh);
	assert_int_equal(pthread_create(&t, NULL, standby_main, sh), 0);
	/* the standby asleep with nothing to do: only a wake-up can bring it
	 * to B below */
	deadline = monotime_usec() + 5 * 1000000u;
	for (;;) {
		bool idle;

		pthread_mutex_lock(&sh->lock);
		idle = sh->standby_idle;
		pthread_mutex_unlock(&sh->lock);
		if (idle)
			break;
		assert_true(monotime_usec() < deadline);
		sched_yield();
	}
	event_job(sh, 0xa, 1);
	pthread_mutex_lock(&sh->lock);
	a = virt_wait_job_locked(sh, 0);
	since = sh->first_since;
	pthread_mutex_unlock(&sh->lock);
	assert_non_null(a);
	assert_int_equal(a->gen, 1);
	assert_true(since > 0);

	event_job(sh, 0xb, 2); /* A's call is "stuck": B waits behind it */
	deadline = monotime_usec() + 5 * 1000000u;
	pthread_mutex_lock(&standby_seen.lock);
	while (!standby_seen.taken && monotime_usec() < deadline) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&standby_seen.cond, &standby_seen.lock, &ts);
	}
	assert_int_equal(standby_seen.taken, 2);
	assert_true(standby_seen.taken_usec >= since + VIRT_STANDBY_USEC);
	pthread_mutex_unlock(&standby_seen.lock);

	pthread_mutex_lock(&sh->lock);
	assert_false(virt_done_job_locked(sh, a, 0));
	assert_int_equal(sh->first_since, 0);
	assert_int_equal(sh->busy, 0);
	sh->stopping = true;
	pthread_mutex_unlock(&sh->lock);
	virt_wake_workers(sh);
	assert_int_equal(pthread_join(t, NULL), 0);
	virt_job_free(a);
	virt_shared_unref(sh);
}

static void test_jobs_by_domain_in_order(void **state)
{
	struct virt_shared *sh = virt_shared_new();
	struct vjob *a1, *b1, *a2, *c1, *r, *d1;

	(void)state;
	assert_non_null(sh);

	/* queued: A1 B1 A2 C1 resync D1 */
	event_job(sh, 0xa, 1);
	event_job(sh, 0xb, 2);
	event_job(sh, 0xa, 3);
	event_job(sh, 0xc, 4);
	assert_int_equal(virt_push_simple_job(sh, VJOB_RESYNC), 0);
	event_job(sh, 0xd, 6);
	assert_int_equal(sh->st.queued, 6);

	a1 = take(sh);
	assert_non_null(a1);
	assert_int_equal(a1->gen, 1);
	b1 = take(sh); /* A's next waits for A1: B1 goes beside it */
	assert_non_null(b1);
	assert_int_equal(b1->gen, 2);
	assert_null(take(sh)); /* both workers busy */
	done(sh, a1);
	a2 = take(sh); /* A2 before C1: it was queued first */
	assert_non_null(a2);
	assert_int_equal(a2->gen, 3);
	done(sh, b1);
	c1 = take(sh);
	assert_non_null(c1);
	assert_int_equal(c1->gen, 4);
	/* the resync waits for A2 and C1; D1 behind it waits for the resync */
	assert_null(take(sh));
	done(sh, a2);
	assert_null(take(sh));
	done(sh, c1);
	r = take(sh);
	assert_non_null(r);
	assert_int_equal(r->type, VJOB_RESYNC);
	assert_null(take(sh)); /* nothing beside a resync */
	done(sh, r);
	d1 = take(sh);
	assert_non_null(d1);
	assert_int_equal(d1->gen, 6);
	assert_int_equal(sh->st.queued, 0);
	assert_null(take(sh));
	done(sh, d1);
	assert_int_equal(sh->busy, 0);
	/* the queue still works after it was emptied */
	event_job(sh, 0xa, 7);
	a1 = take(sh);
	assert_non_null(a1);
	assert_int_equal(a1->gen, 7);
	done(sh, a1);
	virt_shared_unref(sh);
}

static void uuid_of(uint8_t u[16], unsigned k)
{
	memset(u, 0, 16);
	u[0] = 0x5a;
	u[14] = (uint8_t)(k >> 8);
	u[15] = (uint8_t)k;
}

static void test_name_memory(void **state)
{
	struct virt_shared *sh = virt_shared_new();
	char name[300], other[40];
	uint8_t u[16], want[16];
	unsigned k;

	(void)state;
	assert_non_null(sh);
	pthread_mutex_lock(&sh->lock);
	assert_false(virt_name_find_locked(sh, 1, "vm-a", u)); /* empty */
	uuid_of(want, 1);
	virt_name_note_locked(sh, 1, "vm-a", want, false);
	memset(u, 0, 16);
	assert_true(virt_name_find_locked(sh, 1, "vm-a", u));
	assert_memory_equal(u, want, 16);
	assert_false(virt_name_find_locked(sh, 1, "vm-A", u));
	assert_false(virt_name_find_locked(sh, 1, "vm-", u));
	assert_false(virt_name_find_locked(sh, 2, "vm-a", u)); /* another connection */
	assert_false(virt_name_find_locked(sh, 1, "vm-a", u)); /* ... forgot all */

	/* many names (more than the slots): a name found is found with its
	 * own UUID, the last one noted always is; a name told gone is gone,
	 * another name told gone (of the same slot, for some) leaves it */
	for (k = 0; k < 5000; k++) {
		snprintf(other, sizeof(other), "dom-%u", k);
		uuid_of(want, k);
		virt_name_note_locked(sh, 1, other, want, false);
		assert_true(virt_name_find_locked(sh, 1, other, u));
		assert_memory_equal(u, want, 16);
	}
	for (k = 0; k < 5000; k++) {
		snprintf(other, sizeof(other), "dom-%u", k);
		uuid_of(want, k);
		if (virt_name_find_locked(sh, 1, other, u))
			assert_memory_equal(u, want, 16);
	}
	uuid_of(want, 7);
	virt_name_note_locked(sh, 1, "kept", want, false);
	for (k = 0; k < 5000; k++) {
		snprintf(other, sizeof(other), "gone-%u", k);
		virt_name_note_locked(sh, 1, other, want, true);
		assert_false(virt_name_find_locked(sh, 1, other, u));
	}
	assert_true(virt_name_find_locked(sh, 1, "kept", u));
	assert_memory_equal(u, want, 16);
	virt_name_note_locked(sh, 1, "kept", want, true);
	assert_false(virt_name_find_locked(sh, 1, "kept", u));
	/* a new UUID for a name replaces the old */
	uuid_of(want, 8);
	virt_name_note_locked(sh, 1, "dom-3", want, false);
	assert_true(virt_name_find_locked(sh, 1, "dom-3", u));
	assert_memory_equal(u, want, 16);

	/* a name too long to keep whole is not kept */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	virt_name_note_locked(sh, 1, name, want, false);
	assert_false(virt_name_find_locked(sh, 1, name, u));
	pthread_mutex_unlock(&sh->lock);
	virt_shared_unref(sh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storm_taken_in_turns),
		cmocka_unit_test(test_jobs_by_domain_in_order),
		cmocka_unit_test(test_standby_only_behind_a_long_call),
		cmocka_unit_test(test_standby_takes_behind_a_stuck_call),
		cmocka_unit_test(test_name_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
