// SPDX-License-Identifier: MIT
/*
 * virt-call-cost — what one libvirt call costs a plain libvirt client on
 * this machine, for bench-libvirt.py to print beside zcrxd's CPU per event:
 * zcrxd's workers make one virDomainGetXMLDesc per domain start, and how
 * much of their CPU is libvirt's own client is only known against a client
 * that does nothing else.
 *
 *   virt-call-cost URI DOMAIN N PACE_US
 *
 * The client has zcrxd's shape: a read-only connection, libvirt's default
 * event loop on a thread of its own, subscribed to lifecycle events; the
 * main thread calls virDomainGetXMLDesc(DOMAIN) N times, PACE_US apart
 * (0: back to back).  Prints one JSON object: calls, the process's CPU time
 * (user + system, every thread: the event loop's share is libvirt's too)
 * per call, and wall time per call excluding the pauses.
 * (Bench code: it includes libvirt's headers.)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "virt-client.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int on_lifecycle(virConnectPtr c, virDomainPtr d, int event, int detail, void *ud)
{
	(void)c;
	(void)d;
	(void)event;
	(void)detail;
	(void)ud;
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec pause = { 0, 0 };
	double cpu0, cpu1, wall = 0, t;
	virConnectPtr c;
	virDomainPtr d;
	int n, pace, i;
	char *xml;

	if (argc != 5) {
		fprintf(stderr, "usage: virt-call-cost URI DOMAIN N PACE_US\n");
		return 2;
	}
	n = atoi(argv[3]);
	pace = atoi(argv[4]);
	if (n <= 0 || pace < 0) {
		fprintf(stderr, "virt-call-cost: N > 0 and PACE_US >= 0, please\n");
		return 2;
	}
	pause.tv_sec = pace / 1000000;
	pause.tv_nsec = (long)(pace % 1000000) * 1000;
	if (vclient_setup() < 0) {
		fprintf(stderr, "virt-call-cost: no event loop\n");
		return 1;
	}
	c = virConnectOpenReadOnly(argv[1]);
	if (!c) {
		fprintf(stderr, "virt-call-cost: %s: %s\n", argv[1], virGetLastErrorMessage());
		return 1;
	}
	if (virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
					     VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), NULL,
					     NULL) < 0 ||
	    !(d = virDomainLookupByName(c, argv[2]))) {
		fprintf(stderr, "virt-call-cost: %s: %s\n", argv[2], virGetLastErrorMessage());
		return 1;
	}
	cpu0 = vclient_cpu_s();
	for (i = 0; i < n; i++) {
		t = now_s();
		xml = virDomainGetXMLDesc(d, 0);
		wall += now_s() - t;
		if (!xml) {
			fprintf(stderr, "virt-call-cost: GetXMLDesc: %s\n", virGetLastErrorMessage());
			return 1;
		}
		free(xml);
		if (pace)
			nanosleep(&pause, NULL);
	}
	cpu1 = vclient_cpu_s();
	printf("{\"calls\": %d, \"pace_us\": %d, \"cpu_us_per_call\": %.1f, "
	       "\"wall_us_per_call\": %.1f}\n",
	       n, pace, (cpu1 - cpu0) * 1e6 / n, wall * 1e6 / n);
	/* the event loop thread is left running: exit ends it */
	virDomainFree(d);
	virConnectClose(c);
	return 0;
}
