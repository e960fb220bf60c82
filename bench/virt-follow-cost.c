// SPDX-License-Identifier: MIT
/*
 * virt-follow-cost — what following libvirt costs a client that does
 * nothing else, for bench-libvirt.py to print beside zcrxd's CPU per event:
 * the floor under that figure on this machine.
 *
 *   virt-follow-cost URI PREFIX N MODE
 *
 * The client has zcrxd's shape without zcrxd's work: a read-only
 * connection, libvirt's default event loop on a thread of its own,
 * subscribed to lifecycle events.  MODE:
 *   events   the events are received and counted, nothing more
 *   read     each STARTED domain's live XML is read (virDomainGetXMLDesc)
 *            on a worker thread, as zcrxd's workers do: zcrxd never makes a
 *            libvirt call on its loop, which hooks and clients need awake
 * Counted are the domains named PREFIX*: it prints "ready" once subscribed,
 * then ends when N of them started (and were read) and N stopped, printing
 * one JSON object: the events counted and the process's CPU time (user +
 * system, every thread) per event, from the first event to the last.
 * Exits 1 when they do not come within 120 s.
 * (Bench code: it includes libvirt's headers.)
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "virt-client.h"

#define QUEUE_MAX 4096

struct follow {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const char *prefix;
	bool read;
	int want;
	int starts, stops, reads, failed;
	double cpu0;           /* at the first event counted */
	virDomainPtr queue[QUEUE_MAX]; /* started, to be read */
	unsigned head, tail;
};

static struct follow f = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static bool done_locked(void)
{
	return f.starts >= f.want && f.stops >= f.want && (!f.read || f.reads >= f.want);
}

static int on_lifecycle(virConnectPtr c, virDomainPtr d, int event, int detail, void *ud)
{
	const char *name = virDomainGetName(d);

	(void)c;
	(void)detail;
	(void)ud;
	if (!name || strncmp(name, f.prefix, strlen(f.prefix)))
		return 0;
	pthread_mutex_lock(&f.lock);
	if (!f.starts && !f.stops)
		f.cpu0 = vclient_cpu_s();
	if (event == VIR_DOMAIN_EVENT_STARTED) {
		f.starts++;
		if (f.read && f.tail - f.head < QUEUE_MAX && virDomainRef(d) == 0)
			f.queue[f.tail++ % QUEUE_MAX] = d;
		else if (f.read)
			f.failed++;
	} else if (event == VIR_DOMAIN_EVENT_STOPPED) {
		f.stops++;
	}
	pthread_cond_signal(&f.cond);
	pthread_mutex_unlock(&f.lock);
	return 0;
}

/* The worker: reads what the event loop queued until every event came. */
static int follow_run(double *cpu1)
{
	struct timespec deadline;
	virDomainPtr d;
	char *xml;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 120;
	pthread_mutex_lock(&f.lock);
	while (!done_locked() && !f.failed) {
		if (f.head == f.tail) {
			if (pthread_cond_timedwait(&f.cond, &f.lock, &deadline)) {
				r = -1;
				break;
			}
			continue;
		}
		d = f.queue[f.head++ % QUEUE_MAX];
		pthread_mutex_unlock(&f.lock);
		xml = virDomainGetXMLDesc(d, 0);
		virDomainFree(d);
		pthread_mutex_lock(&f.lock);
		if (xml)
			f.reads++;
		else
			f.failed++;
		free(xml);
	}
	*cpu1 = vclient_cpu_s();
	pthread_mutex_unlock(&f.lock);
	return f.failed ? -1 : r;
}

int main(int argc, char **argv)
{
	virConnectPtr c;
	double cpu1;
	int events;

	if (argc != 5 || (strcmp(argv[4], "events") && strcmp(argv[4], "read"))) {
		fprintf(stderr, "usage: virt-follow-cost URI PREFIX N events|read\n");
		return 2;
	}
	f.prefix = argv[2];
	f.want = atoi(argv[3]);
	f.read = !strcmp(argv[4], "read");
	if (f.want <= 0) {
		fprintf(stderr, "virt-follow-cost: N > 0, please\n");
		return 2;
	}
	if (vclient_setup() < 0) {
		fprintf(stderr, "virt-follow-cost: no event loop\n");
		return 1;
	}
	c = virConnectOpenReadOnly(argv[1]);
	if (!c) {
		fprintf(stderr, "virt-follow-cost: %s: %s\n", argv[1], virGetLastErrorMessage());
		return 1;
	}
	if (virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
					     VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), NULL,
					     NULL) < 0) {
		fprintf(stderr, "virt-follow-cost: subscribing: %s\n", virGetLastErrorMessage());
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	if (follow_run(&cpu1) < 0) {
		fprintf(stderr, "virt-follow-cost: %d starts, %d stops, %d read, %d reads failed "
			"of %d within 120 s\n", f.starts, f.stops, f.reads, f.failed, f.want);
		return 1;
	}
	events = f.starts + f.stops;
	printf("{\"mode\": \"%s\", \"events\": %d, \"reads\": %d, \"cpu_us_per_event\": %.1f}\n",
	       argv[4], events, f.reads, (cpu1 - f.cpu0) * 1e6 / events);
	/* the event loop thread is left running: exit ends it */
	virConnectClose(c);
	return 0;
}
