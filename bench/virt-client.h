/* SPDX-License-Identifier: MIT */
/*
 * virt-client.h — what the benches' plain libvirt clients (virt-call-cost,
 * virt-follow-cost) share: the process's CPU time, and libvirt set up as
 * zcrxd has it, its errors silenced and its default event loop run on a
 * thread of its own.  (Bench code: it includes libvirt's headers.)
 */
#ifndef ZCRX_BENCH_VIRT_CLIENT_H
#define ZCRX_BENCH_VIRT_CLIENT_H

#include <pthread.h>
#include <sys/resource.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

/* user + system time of every thread of the process, seconds */
static inline double vclient_cpu_s(void)
{
	struct rusage r;

	getrusage(RUSAGE_SELF, &r);
	return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
	       (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static inline void vclient_quiet(void *ud, virErrorPtr e)
{
	(void)ud;
	(void)e;
}

static inline void *vclient_event_loop(void *arg)
{
	(void)arg;
	for (;;)
		if (virEventRunDefaultImpl() < 0)
			return NULL;
}

/* Before any connection: 0, or -1 when the event loop did not start.  The
 * thread is left running: the process's exit ends it. */
static inline int vclient_setup(void)
{
	pthread_t loop;

	virSetErrorFunc(NULL, vclient_quiet);
	if (virEventRegisterDefaultImpl() < 0 ||
	    pthread_create(&loop, NULL, vclient_event_loop, NULL))
		return -1;
	return 0;
}

#endif
