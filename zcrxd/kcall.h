/* SPDX-License-Identifier: MIT */
/*
 * kcall — kernel calls off the loop thread, with a bound the loop enforces.
 *
 * A driver's ethtool handler, or anything that waits for the rtnl lock
 * behind one, can sleep for as long as it likes inside ioctl() or inside
 * the sendmsg() of a netlink request (the kernel runs the request in the
 * sender's context; SO_RCVTIMEO does not help there).  Every call a
 * backend makes to the kernel therefore runs on one worker thread per
 * backend, and the loop waits for it at most the bound
 * (KCALL_BOUND_USEC, zcrxd(8)):
 *
 *   - a call that returns within the bound is answered as if it had run on
 *     the loop;
 *   - a call that does not has an unknown outcome: kcall_run() returns
 *     -ETIMEDOUT ("did not return within ..."), the call goes on in the
 *     kernel, and the backend is *stuck*: every further call is refused at
 *     once with -EAGAIN naming the call that hangs, without running;
 *   - when the stuck call returns at last, its result is discarded, the
 *     job freed, and the returned callback tells the owner (which re-reads
 *     what the call may have changed).
 *
 * The loop is thus held at most one bound per stall, far below the unit's
 * WatchdogSec=.  One call at a time: the loop waits for each (calls are
 * serialized as they were on the loop, so backends need no locks).
 *
 * A call whose end the loop need not wait for (the state log's fdatasync:
 * only the replies that wait for it do) is *started* instead
 * (kcall_start): the loop goes on serving at once, and when the call
 * returns, the worker wakes the loop's event source, which hands the job
 * back (job->done).  No bound applies while nothing waits on the loop;
 * when the loop must wait for it after all (kcall_finish_within: a call
 * of its own must run next), the job has the bound from its start, and
 * one that overruns makes the backend stuck as a call would.
 *
 * Owns: the worker thread and its job hand-over, the warning that a call
 * overran.  Must not: know what the calls do.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "kerror.h"

/* The bound on one kernel call while the loop waits (zcrxd(8)). */
#define KCALL_BOUND_USEC (5ULL * 1000000ULL)

struct kcall;

/*
 * One call.  The caller allocates it (usually inside a larger struct with
 * the call's arguments and results, none of which may point into the
 * caller's memory: an abandoned job outlives the caller's frame).
 */
struct kcall_job {
	/* Runs on the worker; returns 0 or -errno and fills err. */
	int (*run)(struct kcall_job *job);
	/* Frees the job; called by the loop for a job that overran, once it
	 * returned (or never, when zcrxd stops first). */
	void (*free)(struct kcall_job *job);
	/* A started job (kcall_start): called by the loop once it returned
	 * (result and err set); the job is the caller's again. */
	void (*done)(struct kcall_job *job);
	struct kerror err;
	int result;
	bool kept; /* set by kcall_run: it overran, kcall owns the job now */
	struct kcall *kc; /* set by kcall_run (kcall_job_next) */
};

struct kcall_stats {
	uint64_t calls;     /* run on the worker */
	uint64_t overruns;  /* did not return within the bound */
	uint64_t refused;   /* not run: the backend was stuck */
	uint64_t max_usec;  /* the longest call (a batch: all of it) that returned in time */
};

/* What the worker hangs in, when it does. */
struct kcall_stuck {
	bool stuck;
	char op[KERROR_OP_MAX];
	char obj[KERROR_OBJ_MAX];
	uint64_t since_usec; /* CLOCK_MONOTONIC when the call started */
};

/* A stuck call returned: op and obj as it was started, its result (the
 * outcome the caller never saw) and how long it took. */
typedef void (*kcall_returned_fn)(void *userdata, const char *op, const char *obj, int result,
				  uint64_t took_usec);

/* name: "nic", "binder" (thread name, messages).  bound_usec 0 = the
 * default bound. */
int kcall_new(sd_event *ev, const char *name, uint64_t bound_usec, struct kcall **ret);
/* Stops the worker.  A stuck worker cannot be stopped: it is left to the
 * process's exit, with its job. */
struct kcall *kcall_free(struct kcall *kc);
void kcall_set_returned(struct kcall *kc, kcall_returned_fn fn, void *userdata);

/* Run job on the worker and wait for it within the bound.  op/obj name it
 * ("set channels", "eth0") for errors and for kcall_get_stuck().  Returns
 * the job's result (job->err copied to *err on failure; the caller owns
 * the job again), -ETIMEDOUT when it overran (the job is kcall's now), or
 * -EAGAIN without running it while the backend is stuck (the caller owns
 * the job). */
int kcall_run(struct kcall *kc, struct kcall_job *job, const char *op, const char *obj,
	      struct kerror *err);

/*
 * For a job that makes several kernel calls (a batch: one hand-over, one
 * wake-up of each thread for all of them): run() calls this on the worker
 * before each call after the first.  Each call then has the bound from its
 * own start, as if handed over alone (the loop waits on while a call
 * started less than the bound ago), and op/obj name the call that hangs
 * when one does ("read on eth3"; op NULL: the job's).
 */
void kcall_job_next(struct kcall_job *job, const char *op, const char *obj);

/*
 * Start job (job->done set) on the worker and return at once; the loop
 * calls job->done when it returned.  -EBUSY while another job is on the
 * worker (one at a time: a kcall is used either way, not both), -EAGAIN
 * while the backend is stuck.  kcall_run() refuses with -EBUSY while a
 * started job is on the worker.
 */
int kcall_start(struct kcall *kc, struct kcall_job *job, const char *op, const char *obj);
/* True while a started job has not been handed back. */
bool kcall_started(const struct kcall *kc);
/* Wait until the started job returned, and hand it back (job->done) now
 * (zcrxd stopping).  Nothing when none is started. */
void kcall_finish(struct kcall *kc);
/*
 * The same within the bound, counted from the job's start as for a call
 * kcall_run waits for (a caller that must run a call of its own next):
 * 0 when none is started or it was handed back (job->done ran);
 * -ETIMEDOUT when it did not return in time: it stays started (handed
 * back when it returns, then the returned callback runs) and the backend
 * is stuck until then (kcall_run, kcall_start and this refuse with
 * -EAGAIN meanwhile, naming it).
 */
int kcall_finish_within(struct kcall *kc, struct kerror *err);

/* True while a call overran and has not returned; *ret (optional) says
 * which. */
bool kcall_get_stuck(const struct kcall *kc, struct kcall_stuck *ret);
struct kcall_stats kcall_get_stats(const struct kcall *kc);
uint64_t kcall_bound_usec(const struct kcall *kc);
const char *kcall_name(const struct kcall *kc);
/* "set channels on eth0 has not returned for 7 s", for refusals and
 * status lines. */
const char *kcall_stuck_format(const struct kcall *kc, char *buf, size_t size);
