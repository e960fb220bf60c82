// SPDX-License-Identifier: MIT
/*
 * Unit tests for kcall: a call that returns within the bound is answered
 * as if it ran on the loop; one that hangs (here: blocked on a pipe, as a
 * driver's handler may sleep) is abandoned at the bound, refuses further
 * calls until it returns, and is collected by the loop when it does.  A
 * job of several calls (a batch) bounds each from its own start and names
 * the one that hangs.  A started job (kcall_start) leaves the loop free
 * at once and is handed back by it when it returned.
 */
#include <errno.h>
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

#include "kcall.h"
#include "monotime.h"

#define BOUND_USEC 100000ULL /* 100 ms */

struct pjob {
	struct kcall_job k;
	int fd;     /* read one byte from it (blocks until written); -1: return at once */
	int result; /* what to return */
	int *freed; /* counts job->free calls */
};

static int pjob_run(struct kcall_job *kj)
{
	struct pjob *j = (struct pjob *)kj;
	char c;

	if (j->fd >= 0 && read(j->fd, &c, 1) != 1)
		return -EIO;
	if (j->result < 0)
		return kerror_set(&kj->err, -j->result, "eth9", "set channels", "driver said no");
	return j->result;
}

static void pjob_free(struct kcall_job *kj)
{
	struct pjob *j = (struct pjob *)kj;

	(*j->freed)++;
	free(j);
}

static struct pjob *pjob_new(int fd, int result, int *freed)
{
	struct pjob *j = calloc(1, sizeof(*j));

	assert_non_null(j);
	j->k.run = pjob_run;
	j->k.free = pjob_free;
	j->fd = fd;
	j->result = result;
	j->freed = freed;
	return j;
}

struct returned {
	int n, result;
	char op[64], obj[64];
	uint64_t took;
};

static void on_returned(void *ud, const char *op, const char *obj, int result, uint64_t took)
{
	struct returned *r = ud;

	r->n++;
	r->result = result;
	snprintf(r->op, sizeof(r->op), "%s", op);
	snprintf(r->obj, sizeof(r->obj), "%s", obj);
	r->took = took;
}

/* What every test has: a loop, a kcall on it, what the loop said of an
 * abandoned call that returned, the pipe a hung job blocks on, and how many
 * jobs were freed. */
struct kfx {
	sd_event *ev;
	struct kcall *kc;
	struct returned ret;
	int p[2];
	int freed;
};

static int kfx_setup(void **state, uint64_t bound_usec)
{
	struct kfx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(pipe(f->p), 0);
	assert_int_equal(sd_event_new(&f->ev), 0);
	assert_int_equal(kcall_new(f->ev, "nic", bound_usec, &f->kc), 0);
	kcall_set_returned(f->kc, on_returned, &f->ret);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return kfx_setup(state, BOUND_USEC);
}

static int setup_1s(void **state)
{
	return kfx_setup(state, 1000000);
}

static int teardown(void **state)
{
	struct kfx *f = *state;

	kcall_free(f->kc);
	sd_event_unref(f->ev);
	close(f->p[0]);
	close(f->p[1]);
	free(f);
	return 0;
}

/* The abandoned call returns (the pipe it blocks on gets a byte): the
 * loop collects it and says so, once. */
static void release_and_collect(sd_event *ev, int wfd, const struct returned *ret)
{
	uint64_t deadline = monotime_usec() + 10000000ULL;

	assert_int_equal(write(wfd, "x", 1), 1);
	while (!ret->n && monotime_usec() < deadline)
		assert_true(sd_event_run(ev, 100000) >= 0);
	assert_int_equal(ret->n, 1);
}

static void test_call_within_bound(void **state)
{
	struct kfx *f = *state;
	struct kcall *kc = f->kc;
	struct kerror err = { 0 };
	struct pjob *j;

	assert_int_equal(kcall_bound_usec(kc), BOUND_USEC);

	j = pjob_new(-1, 7, &f->freed);
	assert_int_equal(kcall_run(kc, &j->k, "read", "eth9", &err), 7);
	assert_false(j->k.kept);
	free(j);

	/* a refusal travels with the kernel's text */
	j = pjob_new(-1, -EINVAL, &f->freed);
	assert_int_equal(kcall_run(kc, &j->k, "set channels", "eth9", &err), -EINVAL);
	assert_int_equal(err.err, EINVAL);
	assert_string_equal(err.msg, "driver said no");
	assert_false(j->k.kept);
	free(j);

	assert_false(kcall_get_stuck(kc, NULL));
	assert_int_equal(kcall_get_stats(kc).calls, 2);
	assert_int_equal(kcall_get_stats(kc).overruns, 0);
	assert_int_equal(f->freed, 0);
}

static void test_hung_call_is_abandoned_and_collected(void **state)
{
	struct kfx *f = *state;
	sd_event *ev = f->ev;
	struct kcall *kc = f->kc;
	struct kerror err = { 0 };
	struct kcall_stuck st;
	struct pjob *hung, *j;
	uint64_t t0, waited;
	char why[160];

	hung = pjob_new(f->p[0], 3, &f->freed);
	t0 = monotime_usec();
	assert_int_equal(kcall_run(kc, &hung->k, "insert rule", "eth9", &err), -ETIMEDOUT);
	waited = monotime_usec() - t0;
	assert_true(hung->k.kept);
	assert_int_equal(err.err, ETIMEDOUT);
	assert_non_null(strstr(err.msg, "did not return within 100 ms"));
	/* the loop waited for the bound, not for the call (which never
	 * returns before the write below) */
	assert_true(waited >= BOUND_USEC);
	assert_true(kcall_get_stuck(kc, &st));
	assert_string_equal(st.op, "insert rule");
	assert_string_equal(st.obj, "eth9");
	assert_non_null(strstr(kcall_stuck_format(kc, why, sizeof(why)),
			       "insert rule on eth9 has not returned for"));

	/* meanwhile: refused at once, not run (its pipe has nothing to read:
	 * running it would block) */
	j = pjob_new(f->p[0], 0, &f->freed);
	assert_int_equal(kcall_run(kc, &j->k, "read", "eth8", &err), -EAGAIN);
	assert_false(j->k.kept);
	assert_non_null(strstr(err.msg, "not tried: zcrxd's nic calls are stuck: insert rule on "
					"eth9"));
	free(j);
	assert_int_equal(kcall_get_stats(kc).refused, 1);
	assert_int_equal(kcall_get_stats(kc).overruns, 1);
	assert_int_equal(f->ret.n, 0);

	/* it returns: the loop collects it, frees it, says so */
	release_and_collect(ev, f->p[1], &f->ret);
	assert_int_equal(f->ret.result, 3);
	assert_string_equal(f->ret.op, "insert rule");
	assert_string_equal(f->ret.obj, "eth9");
	assert_true(f->ret.took >= BOUND_USEC);
	assert_int_equal(f->freed, 1);
	assert_false(kcall_get_stuck(kc, NULL));

	/* and calls run again */
	j = pjob_new(-1, 0, &f->freed);
	assert_int_equal(kcall_run(kc, &j->k, "read", "eth9", &err), 0);
	free(j);
}

/* A job of several kernel calls (a batch): call i is named names[i]; it
 * takes sleep_usec (a slow driver), or, for i == hang, blocks on fd. */
struct bjob {
	struct kcall_job k;
	const char *const *names;
	size_t n, hang, ran;
	uint64_t sleep_usec;
	int fd;
	int *freed;
};

static int bjob_run(struct kcall_job *kj)
{
	struct bjob *j = (struct bjob *)kj;
	size_t i;
	char c;

	for (i = 0; i < j->n; i++) {
		if (i)
			kcall_job_next(kj, i == 1 ? "read" : NULL, j->names[i]);
		if (i == j->hang) {
			if (read(j->fd, &c, 1) != 1)
				return -EIO;
		} else if (j->sleep_usec) {
			struct timespec ts = { (time_t)(j->sleep_usec / 1000000),
					       (long)(j->sleep_usec % 1000000) * 1000 };

			nanosleep(&ts, NULL);
		}
		j->ran++;
	}
	return 0;
}

static void bjob_free(struct kcall_job *kj)
{
	struct bjob *j = (struct bjob *)kj;

	(*j->freed)++;
	free(j);
}

static struct bjob *bjob_new(const char *const *names, size_t n, int *freed)
{
	struct bjob *j = calloc(1, sizeof(*j));

	assert_non_null(j);
	j->k.run = bjob_run;
	j->k.free = bjob_free;
	j->names = names;
	j->n = n;
	j->hang = SIZE_MAX;
	j->fd = -1;
	j->freed = freed;
	return j;
}

static const char *const batch_names[] = { "eth0", "eth1", "eth2", "eth3" };

/* Each call of a batch has the bound from its own start: four calls of
 * 0.4 s each under a bound of 1 s return (1.6 s in all), as four calls
 * handed over one by one would. */
static void test_batch_each_call_bounded(void **state)
{
	struct kfx *f = *state;
	struct kcall *kc = f->kc;
	struct kerror err = { 0 };
	struct bjob *j;
	uint64_t t0, took;

	j = bjob_new(batch_names, 4, &f->freed);
	j->sleep_usec = 400000;
	t0 = monotime_usec();
	assert_int_equal(kcall_run(kc, &j->k, "read", "eth0", &err), 0);
	took = monotime_usec() - t0;
	assert_false(j->k.kept);
	assert_int_equal(j->ran, 4);
	assert_true(took > kcall_bound_usec(kc)); /* longer than one bound in all */
	assert_false(kcall_get_stuck(kc, NULL));
	assert_int_equal(kcall_get_stats(kc).overruns, 0);
	assert_int_equal(kcall_get_stats(kc).calls, 1); /* one hand-over */
	free(j);
	assert_int_equal(f->freed, 0);
}

/* A batch's call that hangs overruns its bound: the batch is abandoned,
 * and the call named is the one that hangs (its op and obj), not the
 * batch's first. */
static void test_batch_hung_call_named(void **state)
{
	struct kfx *f = *state;
	sd_event *ev = f->ev;
	struct kcall *kc = f->kc;
	struct kerror err = { 0 };
	struct kcall_stuck st;
	struct bjob *j;
	uint64_t t0;

	j = bjob_new(batch_names, 4, &f->freed);
	j->hang = 2;
	j->fd = f->p[0];
	t0 = monotime_usec();
	/* the job's first call lists, the others read (kcall_job_next's op) */
	assert_int_equal(kcall_run(kc, &j->k, "list links", "", &err), -ETIMEDOUT);
	assert_true(monotime_usec() - t0 >= BOUND_USEC);
	assert_true(j->k.kept);
	assert_string_equal(err.op, "read");
	assert_string_equal(err.obj, "eth2");
	assert_true(kcall_get_stuck(kc, &st));
	assert_string_equal(st.op, "read");
	assert_string_equal(st.obj, "eth2");

	/* it returns: collected, the rest of the batch ran */
	release_and_collect(ev, f->p[1], &f->ret);
	assert_string_equal(f->ret.op, "read");
	assert_string_equal(f->ret.obj, "eth2");
	assert_int_equal(f->freed, 1);
	assert_false(kcall_get_stuck(kc, NULL));
}

/* A started job: the worker runs it while the loop goes on (here: a
 * timer fires while the job is blocked on its pipe); the loop hands it
 * back when it returned, not before; kcall_run is refused meanwhile. */
struct sjob {
	struct kcall_job k;
	int fd;     /* read one byte from it (blocks until written) */
	int result; /* what to return */
	int *done;  /* counts hand-backs */
	int *got;   /* the result handed back */
};

static int sjob_run(struct kcall_job *kj)
{
	struct sjob *j = (struct sjob *)kj;
	char c;

	return read(j->fd, &c, 1) == 1 ? j->result : -EPIPE;
}

static void sjob_done(struct kcall_job *kj)
{
	struct sjob *j = (struct sjob *)kj;

	(*j->done)++;
	*j->got = kj->result;
	free(j);
}

static struct sjob *sjob_new(int fd, int result, int *done, int *got)
{
	struct sjob *j = calloc(1, sizeof(*j));

	assert_non_null(j);
	j->k.run = sjob_run;
	j->k.done = sjob_done;
	j->fd = fd;
	j->result = result;
	j->done = done;
	j->got = got;
	return j;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *ud)
{
	(*(int *)ud)++;
	return 0;
}

static void test_started_job(void **state)
{
	struct kfx *f = *state;
	struct kcall *kc = f->kc;
	struct kerror err = { 0 };
	struct sjob *j;
	struct pjob *other;
	int done = 0, got = 0;
	uint64_t deadline = monotime_usec() + 10000000ULL;
	int ticks = 0;

	j = sjob_new(f->p[0], 5, &done, &got);
	assert_int_equal(kcall_start(kc, &j->k, "fdatasync", "state.log"), 0);
	assert_true(kcall_started(kc));
	/* the loop serves its other sources while the job blocks */
	assert_int_equal(sd_event_add_time_relative(f->ev, NULL, CLOCK_MONOTONIC, 1000, 0, on_tick,
						    &ticks), 0);
	while (!ticks && monotime_usec() < deadline)
		assert_true(sd_event_run(f->ev, 100000) >= 0);
	assert_int_equal(ticks, 1);
	assert_int_equal(done, 0);
	/* one job at a time */
	other = pjob_new(-1, 0, &f->freed);
	assert_int_equal(kcall_start(kc, &other->k, "fdatasync", "state.log"), -EBUSY);
	assert_int_equal(kcall_run(kc, &other->k, "read", "eth9", &err), -EBUSY);
	free(other);
	assert_false(kcall_get_stuck(kc, NULL));

	/* it returns: handed back by the loop, with its result */
	assert_int_equal(write(f->p[1], "x", 1), 1);
	while (!done && monotime_usec() < deadline)
		assert_true(sd_event_run(f->ev, 100000) >= 0);
	assert_int_equal(done, 1);
	assert_int_equal(got, 5);
	assert_false(kcall_started(kc));
	assert_int_equal(f->ret.n, 0); /* not a stuck call's return */

	/* kcall_finish waits for one and hands it back at once */
	j = sjob_new(f->p[0], -EIO, &done, &got);
	assert_int_equal(kcall_start(kc, &j->k, "fdatasync", "state.log"), 0);
	assert_int_equal(write(f->p[1], "x", 1), 1);
	kcall_finish(kc);
	assert_int_equal(done, 2);
	assert_int_equal(got, -EIO);
	assert_false(kcall_started(kc));
	assert_int_equal(f->freed, 0);
	assert_int_equal(kcall_get_stats(kc).calls, 2);
}

/* kcall_finish_within: a started job that returns in time is handed back
 * at once (0); one that does not is waited for the bound from its start,
 * no longer (-ETIMEDOUT, named), makes the backend stuck (calls, starts
 * and further waits refused with -EAGAIN), and is handed back when it
 * returns, the returned callback after. */
static void test_started_job_waited_within_bound(void **state)
{
	struct kfx *f = *state;
	struct kcall *kc = f->kc;
	struct kerror err = { 0 };
	struct sjob *j;
	struct pjob *other;
	int done = 0, got = 0;
	uint64_t t0, deadline = monotime_usec() + 10000000ULL;

	assert_int_equal(kcall_finish_within(kc, &err), 0); /* none */
	j = sjob_new(f->p[0], 3, &done, &got);
	assert_int_equal(kcall_start(kc, &j->k, "fdatasync", "state.log"), 0);
	assert_int_equal(write(f->p[1], "x", 1), 1);
	assert_int_equal(kcall_finish_within(kc, &err), 0);
	assert_int_equal(done, 1);
	assert_int_equal(got, 3);

	j = sjob_new(f->p[0], 4, &done, &got);
	assert_int_equal(kcall_start(kc, &j->k, "compaction", "state.json"), 0);
	t0 = monotime_usec();
	assert_int_equal(kcall_finish_within(kc, &err), -ETIMEDOUT);
	assert_true(monotime_usec() - t0 >= BOUND_USEC - 1000);
	assert_true(monotime_usec() - t0 < 10 * BOUND_USEC);
	assert_string_equal(err.op, "compaction");
	assert_string_equal(err.obj, "state.json");
	assert_non_null(strstr(err.msg, "did not return within 100 ms"));
	assert_true(kcall_get_stuck(kc, NULL));
	assert_int_equal(kcall_get_stats(kc).overruns, 1);
	assert_int_equal(done, 1);
	/* stuck: refused at once */
	t0 = monotime_usec();
	assert_int_equal(kcall_finish_within(kc, &err), -EAGAIN);
	assert_non_null(strstr(err.msg, "compaction on state.json has not returned"));
	other = pjob_new(-1, 0, &f->freed);
	assert_int_equal(kcall_run(kc, &other->k, "fdatasync", "state.log", &err), -EBUSY);
	free(other);
	assert_true(monotime_usec() - t0 < BOUND_USEC);
	/* it returns: handed back, then the returned callback; free again */
	assert_int_equal(write(f->p[1], "x", 1), 1);
	while (!f->ret.n && monotime_usec() < deadline)
		assert_true(sd_event_run(f->ev, 100000) >= 0);
	assert_int_equal(done, 2);
	assert_int_equal(got, 4);
	assert_int_equal(f->ret.n, 1);
	assert_string_equal(f->ret.op, "compaction");
	assert_int_equal(f->ret.result, 4);
	assert_false(kcall_get_stuck(kc, NULL));
	assert_false(kcall_started(kc));
	other = pjob_new(-1, 7, &f->freed);
	assert_int_equal(kcall_run(kc, &other->k, "fdatasync", "state.log", &err), 7);
	free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_call_within_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hung_call_is_abandoned_and_collected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_batch_each_call_bounded, setup_1s, teardown),
		cmocka_unit_test_setup_teardown(test_batch_hung_call_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_started_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_started_job_waited_within_bound, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
