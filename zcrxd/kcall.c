// SPDX-License-Identifier: MIT
/*
 * kcall — kernel calls off the loop thread, with a bound the loop enforces
 * (kcall.h).
 *
 * Hand-over: the loop puts the job in kc->job (state QUEUED) and waits on
 * kc->done_cv until the worker sets DONE or the bound passes since the
 * start of the job's current call (kc->call_usec: the hand-over, then each
 * kcall_job_next of a batch; the loop, woken at the bound, waits on when a
 * later call started).  A job whose wait ran out is ABANDONED: the worker,
 * once the call returns, sets DONE and writes the eventfd, and the loop's
 * event source collects it.  A started job (kcall_start) is handed over
 * the same way but the loop does not wait at all: the worker writes the
 * eventfd as for an abandoned one, and the event source hands it back.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "kcall.h"
#include "log.h"
#include "monotime.h"

enum job_state {
	JOB_NONE = 0,
	JOB_QUEUED,  /* handed over, the loop waits */
	JOB_RUNNING, /* the worker runs it, the loop waits */
	JOB_DONE,    /* returned; the loop takes it */
};

struct kcall {
	sd_event *ev;
	sd_event_source *src;
	int efd;
	char name[16];
	uint64_t bound_usec;
	kcall_returned_fn returned;
	void *returned_ud;

	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* the worker waits for a job */
	pthread_cond_t done_cv; /* the loop waits for its job */
	/* under mu: */
	struct kcall_job *job;
	enum job_state state;
	bool abandoned; /* the loop stopped waiting: the backend is stuck */
	bool async;     /* a started job: the loop does not wait for it */
	bool quit;
	uint64_t call_usec;		/* when the job's current call started */
	char call_op[KERROR_OP_MAX];	/* what it does, "" = the job's op */
	char call_obj[KERROR_OBJ_MAX]; /* and what it works on */

	/* loop thread only: */
	struct kcall_job *running; /* a started job not handed back yet */
	struct kcall_stuck stuck;
	struct kcall_stats st;
};

static void *worker(void *arg)
{
	struct kcall *kc = arg;
	sigset_t all;
	char tname[16];

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	snprintf(tname, sizeof(tname), "zcrxd-k%.8s", kc->name);
	(void)pthread_setname_np(pthread_self(), tname);
	pthread_mutex_lock(&kc->mu);
	for (;;) {
		struct kcall_job *job;
		bool late;

		while (kc->state != JOB_QUEUED && !kc->quit)
			pthread_cond_wait(&kc->work_cv, &kc->mu);
		if (kc->quit)
			break;
		job = kc->job;
		kc->state = JOB_RUNNING;
		pthread_mutex_unlock(&kc->mu);

		kerror_clear(&job->err);
		job->result = job->run(job);

		pthread_mutex_lock(&kc->mu);
		kc->state = JOB_DONE;
		late = kc->abandoned || kc->async;
		pthread_mutex_unlock(&kc->mu);
		/* signalled after the unlock: the loop wakes to a free mutex
		 * (kcall_free joins this thread before the condition goes) */
		pthread_cond_signal(&kc->done_cv);
		if (late) {
			uint64_t one = 1;

			/* the loop no longer waits: wake its event source */
			if (write(kc->efd, &one, sizeof(one)) < 0)
				(void)0; /* an eventfd write only fails on overflow */
		}
		pthread_mutex_lock(&kc->mu);
	}
	pthread_mutex_unlock(&kc->mu);
	return NULL;
}

/* The job the loop stopped waiting for (*late: abandoned or started), once
 * it returned; NULL while it runs (loop thread). */
static struct kcall_job *take_returned(struct kcall *kc, bool *late)
{
	struct kcall_job *job = NULL;

	pthread_mutex_lock(&kc->mu);
	if (*late && kc->state == JOB_DONE) {
		job = kc->job;
		kc->job = NULL;
		kc->state = JOB_NONE;
		*late = false;
	}
	pthread_mutex_unlock(&kc->mu);
	return job;
}

/* A started job returned: hand it back (loop thread).  One the loop
 * stopped waiting for (kcall_finish_within) made the backend stuck: no
 * more, and the returned callback says so after its owner had it back. */
static void hand_back(struct kcall *kc)
{
	struct kcall_job *job = take_returned(kc, &kc->async);
	struct kcall_stuck was = kc->stuck;
	int result;

	if (!job)
		return;
	result = job->result; /* (done may free the job) */
	kc->running = NULL;
	memset(&kc->stuck, 0, sizeof(kc->stuck));
	job->done(job);
	if (was.stuck && kc->returned)
		kc->returned(kc->returned_ud, was.op, was.obj, result,
			     monotime_usec() - was.since_usec);
}

/* A stuck call returned: collect it; a started job: hand it back (loop
 * thread). */
static int on_late(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct kcall *kc = userdata;
	struct kcall_job *job;
	uint64_t v, took;
	char op[KERROR_OP_MAX], obj[KERROR_OBJ_MAX];
	int result = 0;

	(void)s;
	(void)revents;
	if (read(fd, &v, sizeof(v)) < 0)
		(void)0; /* EAGAIN: nothing to read, the state says what happened */
	if (kc->running) {
		hand_back(kc);
		return 0;
	}
	job = take_returned(kc, &kc->abandoned);
	if (!job)
		return 0;
	result = job->result;
	took = monotime_usec() - kc->stuck.since_usec;
	snprintf(op, sizeof(op), "%s", kc->stuck.op);
	snprintf(obj, sizeof(obj), "%s", kc->stuck.obj);
	memset(&kc->stuck, 0, sizeof(kc->stuck));
	if (job->free)
		job->free(job);
	if (kc->returned)
		kc->returned(kc->returned_ud, op, obj, result, took);
	return 0;
}

int kcall_new(sd_event *ev, const char *name, uint64_t bound_usec, struct kcall **ret)
{
	struct kcall *kc;
	pthread_attr_t attr;
	pthread_condattr_t ca;
	int r;

	kc = calloc(1, sizeof(*kc));
	if (!kc)
		return -ENOMEM;
	kc->ev = ev;
	kc->efd = -1;
	snprintf(kc->name, sizeof(kc->name), "%s", name ? name : "kernel");
	kc->bound_usec = bound_usec ? bound_usec : KCALL_BOUND_USEC;
	pthread_mutex_init(&kc->mu, NULL);
	pthread_cond_init(&kc->work_cv, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&kc->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	kc->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (kc->efd < 0) {
		r = -errno;
		goto fail;
	}
	if (ev) {
		r = sd_event_add_io(ev, &kc->src, kc->efd, EPOLLIN, on_late, kc);
		if (r < 0)
			goto fail;
		(void)sd_event_source_set_description(kc->src, "kcall-returned");
	}
	/* the backends keep their buffers in their own structs: a small stack */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	r = -pthread_create(&kc->thread, &attr, worker, kc);
	pthread_attr_destroy(&attr);
	if (r < 0)
		goto fail;
	kc->started = true;
	*ret = kc;
	return 0;
fail:
	kcall_free(kc);
	return r;
}

struct kcall *kcall_free(struct kcall *kc)
{
	bool stuck;

	if (!kc)
		return NULL;
	kcall_finish(kc); /* a started job is its owner's: handed back */
	pthread_mutex_lock(&kc->mu);
	kc->quit = true;
	stuck = kc->state == JOB_RUNNING || kc->state == JOB_QUEUED;
	pthread_cond_signal(&kc->work_cv);
	pthread_mutex_unlock(&kc->mu);
	sd_event_source_disable_unref(kc->src);
	if (kc->started && stuck) {
		/* It hangs in the kernel: neither it nor its job can be freed
		 * safely.  The process is about to exit. */
		log_warning(LOG_SUBSYS_MAIN, "kernel calls (%s): %s on %s still has not returned; "
			    "left to exit", kc->name, kc->stuck.op, kc->stuck.obj);
		pthread_detach(kc->thread);
		return NULL;
	}
	if (kc->started)
		pthread_join(kc->thread, NULL);
	if (kc->job && kc->job->free)
		kc->job->free(kc->job); /* done, never collected */
	if (kc->efd >= 0)
		close(kc->efd);
	pthread_cond_destroy(&kc->done_cv);
	pthread_cond_destroy(&kc->work_cv);
	pthread_mutex_destroy(&kc->mu);
	free(kc);
	return NULL;
}

void kcall_set_returned(struct kcall *kc, kcall_returned_fn fn, void *userdata)
{
	kc->returned = fn;
	kc->returned_ud = userdata;
}

const char *kcall_stuck_format(const struct kcall *kc, char *buf, size_t size)
{
	uint64_t s = (monotime_usec() - kc->stuck.since_usec) / 1000000;

	if (!kc->stuck.stuck)
		snprintf(buf, size, "not stuck");
	else
		snprintf(buf, size, "%s on %s has not returned for %llu s", kc->stuck.op,
			 kc->stuck.obj[0] ? kc->stuck.obj : "-", (unsigned long long)s);
	return buf;
}

static void to_timespec(uint64_t usec, struct timespec *ts)
{
	ts->tv_sec = (time_t)(usec / 1000000);
	ts->tv_nsec = (long)(usec % 1000000) * 1000;
}

/* A call refused without running: the backend is stuck (kc->stuck). */
static int refuse_stuck(struct kcall *kc, const char *op, const char *obj, struct kerror *err)
{
	char why[KERROR_MSG_MAX - 64];

	kc->st.refused++;
	return kerror_setf(err, EAGAIN, obj, op, "not tried: zcrxd's %s calls are stuck: %s",
			   kc->name, kcall_stuck_format(kc, why, sizeof(why)));
}

/* The call in kc->stuck (op, obj, since) did not return within the bound:
 * the backend is stuck from now on, said once in the log and in *err.
 * unknown: what the caller cannot know of its outcome ("" or "; ..."). */
static int overran(struct kcall *kc, const char *unknown, struct kerror *err)
{
	kc->st.overruns++;
	kc->stuck.stuck = true;
	log_warning(LOG_SUBSYS_MAIN,
		    "kernel calls (%s): %s on %s did not return within %llu ms%s; further calls "
		    "are refused until it returns",
		    kc->name, kc->stuck.op, kc->stuck.obj[0] ? kc->stuck.obj : "-",
		    (unsigned long long)(kc->bound_usec / 1000), unknown);
	return kerror_setf(err, ETIMEDOUT, kc->stuck.obj, kc->stuck.op,
			   "did not return within %llu ms (the call goes on in the kernel%s)",
			   (unsigned long long)(kc->bound_usec / 1000), unknown);
}

int kcall_run(struct kcall *kc, struct kcall_job *job, const char *op, const char *obj,
	      struct kerror *err)
{
	struct timespec dl;
	uint64_t start, took, call_start;
	bool done;

	if (kc->running)
		return kerror_setf(err, EBUSY, obj, op, "not tried: a started %s call is under way",
				   kc->name);
	if (kc->stuck.stuck)
		return refuse_stuck(kc, op, obj, err);
	job->kept = false;
	job->kc = kc;
	start = monotime_usec();
	pthread_mutex_lock(&kc->mu);
	kc->job = job;
	kc->state = JOB_QUEUED;
	kc->call_usec = start;
	kc->call_op[0] = '\0';
	snprintf(kc->call_obj, sizeof(kc->call_obj), "%s", obj ? obj : "");
	pthread_mutex_unlock(&kc->mu);
	/* signalled after the unlock: the worker wakes to a free mutex
	 * instead of blocking on it at once (two futex calls and a switch
	 * less per call) */
	pthread_cond_signal(&kc->work_cv);
	pthread_mutex_lock(&kc->mu);
	to_timespec(start + kc->bound_usec, &dl);
	while (kc->state != JOB_DONE) {
		if (pthread_cond_timedwait(&kc->done_cv, &kc->mu, &dl) != ETIMEDOUT)
			continue;
		/* a batch's later call has the bound from its own start */
		if (kc->state == JOB_DONE || kc->call_usec + kc->bound_usec <= monotime_usec())
			break;
		to_timespec(kc->call_usec + kc->bound_usec, &dl);
	}
	done = kc->state == JOB_DONE;
	if (done) {
		kc->job = NULL;
		kc->state = JOB_NONE;
	} else {
		kc->abandoned = true;
	}
	call_start = kc->call_usec;
	if (!done) {
		snprintf(kc->stuck.op, sizeof(kc->stuck.op), "%s",
			 kc->call_op[0] ? kc->call_op : op ? op : "");
		snprintf(kc->stuck.obj, sizeof(kc->stuck.obj), "%s", kc->call_obj);
	}
	pthread_mutex_unlock(&kc->mu);
	took = monotime_usec() - start;
	kc->st.calls++;
	if (done) {
		if (took > kc->st.max_usec)
			kc->st.max_usec = took;
		if (job->result < 0 && err)
			*err = job->err;
		return job->result;
	}
	job->kept = true;
	kc->stuck.since_usec = call_start;
	return overran(kc, "; its outcome is unknown", err);
}

void kcall_job_next(struct kcall_job *job, const char *op, const char *obj)
{
	struct kcall *kc = job->kc;

	pthread_mutex_lock(&kc->mu);
	kc->call_usec = monotime_usec();
	if (op)
		snprintf(kc->call_op, sizeof(kc->call_op), "%s", op);
	snprintf(kc->call_obj, sizeof(kc->call_obj), "%s", obj ? obj : "");
	pthread_mutex_unlock(&kc->mu);
}

int kcall_start(struct kcall *kc, struct kcall_job *job, const char *op, const char *obj)
{
	if (kc->running)
		return -EBUSY;
	if (kc->stuck.stuck) {
		kc->st.refused++;
		return -EAGAIN;
	}
	job->kept = false;
	job->kc = kc;
	kc->running = job;
	kc->st.calls++;
	pthread_mutex_lock(&kc->mu);
	kc->job = job;
	kc->state = JOB_QUEUED;
	kc->async = true;
	kc->call_usec = monotime_usec();
	snprintf(kc->call_op, sizeof(kc->call_op), "%s", op ? op : "");
	snprintf(kc->call_obj, sizeof(kc->call_obj), "%s", obj ? obj : "");
	pthread_mutex_unlock(&kc->mu);
	pthread_cond_signal(&kc->work_cv);
	return 0;
}

bool kcall_started(const struct kcall *kc)
{
	return kc && kc->running;
}

int kcall_finish_within(struct kcall *kc, struct kerror *err)
{
	struct timespec dl;
	bool done;

	if (!kc || !kc->running)
		return 0;
	if (kc->stuck.stuck)
		return refuse_stuck(kc, kc->stuck.op, kc->stuck.obj, err);
	pthread_mutex_lock(&kc->mu);
	/* the bound from the job's start, as for a call the loop waits for */
	to_timespec(kc->call_usec + kc->bound_usec, &dl);
	while (kc->state != JOB_DONE)
		if (pthread_cond_timedwait(&kc->done_cv, &kc->mu, &dl) == ETIMEDOUT)
			break;
	done = kc->state == JOB_DONE;
	if (!done) {
		snprintf(kc->stuck.op, sizeof(kc->stuck.op), "%s", kc->call_op);
		snprintf(kc->stuck.obj, sizeof(kc->stuck.obj), "%s", kc->call_obj);
		kc->stuck.since_usec = kc->call_usec;
	}
	pthread_mutex_unlock(&kc->mu);
	if (done) {
		hand_back(kc);
		return 0;
	}
	/* it stays started: handed back (job->done) when it returns */
	return overran(kc, "", err);
}

void kcall_finish(struct kcall *kc)
{
	if (!kc || !kc->running)
		return;
	pthread_mutex_lock(&kc->mu);
	while (kc->state != JOB_DONE)
		pthread_cond_wait(&kc->done_cv, &kc->mu);
	pthread_mutex_unlock(&kc->mu);
	hand_back(kc);
}

bool kcall_get_stuck(const struct kcall *kc, struct kcall_stuck *ret)
{
	if (ret)
		*ret = kc->stuck;
	return kc->stuck.stuck;
}

struct kcall_stats kcall_get_stats(const struct kcall *kc)
{
	return kc->st;
}

uint64_t kcall_bound_usec(const struct kcall *kc)
{
	return kc->bound_usec;
}

const char *kcall_name(const struct kcall *kc)
{
	return kc->name;
}
