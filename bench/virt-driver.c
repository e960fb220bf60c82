// SPDX-License-Identifier: MIT
/*
 * virt-driver — drives many libvirt domains fast, for bench-libvirt.py: the
 * second process that defines, starts and stops domains while zcrxd
 * follows them (test+unix:///default through a libvirtd).
 *
 *   virt-driver URI define N PREFIX NIC   define PREFIX0..N-1 (direct vNIC
 *                                         on NIC, zcrx metadata)
 *   (every op: a 6th argument FIRST works on PREFIX<FIRST>..<FIRST+N-1>,
 *   so several drivers can run side by side)
 *   virt-driver URI cycles N PREFIX       start then destroy PREFIX0..N-1
 *   virt-driver URI start N PREFIX        start them all
 *   virt-driver URI destroy N PREFIX      destroy them (ignores shut off)
 *   virt-driver URI undefine N PREFIX     undefine them
 *
 * $ZXL_PACE_US: wait that long between operations (a steady rate).
 * Prints one JSON object: {"op", "n", "seconds", "ops_per_sec", "first",
 * "last"}: first is when the first call began, last when the last call
 * returned (CLOCK_MONOTONIC seconds, the clock zcrxd's timestamps use), so
 * the caller can tell the span over which several drivers offered events.
 * (Bench code: it includes libvirt's headers; zcrxd's code does so only in
 * virt.c.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define NS "http://zcrx.dev/xmlns/libvirt/1.0"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void quiet(void *ud, virErrorPtr e)
{
}

static virDomainPtr lookup(virConnectPtr c, const char *prefix, int i)
{
	char name[128];

	snprintf(name, sizeof(name), "%s%d", prefix, i);
	return virDomainLookupByName(c, name);
}

int main(int argc, char **argv)
{
	const char *uri, *op, *prefix;
	virConnectPtr c;
	double t0, t_last, dt;
	int n, i, first = 0, done = 0, pace = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: virt-driver URI define|cycles|start|destroy|undefine N PREFIX "
				"[NIC [FIRST]]\n");
		return 2;
	}
	uri = argv[1];
	op = argv[2];
	n = atoi(argv[3]);
	prefix = argv[4];
	if (argc > 6)
		first = atoi(argv[6]);
	if (getenv("ZXL_PACE_US"))
		pace = atoi(getenv("ZXL_PACE_US"));
	virSetErrorFunc(NULL, quiet);
	c = virConnectOpen(uri);
	if (!c) {
		fprintf(stderr, "virt-driver: %s: %s\n", uri, virGetLastErrorMessage());
		return 1;
	}
	t0 = now();
	t_last = t0;
	for (i = first; i < first + n; i++) {
		virDomainPtr d = NULL;
		int r = 0;

		if (!strcmp(op, "define")) {
			char xml[2048];

			snprintf(xml, sizeof(xml),
				 "<domain type='test'><name>%s%d</name>"
				 "<uuid>6b1b0000-0000-4000-8000-%012x</uuid>"
				 "<metadata><zcrx:config xmlns:zcrx='" NS "'>"
				 "<zcrx:nic mac='52:54:01:%02x:%02x:01'/></zcrx:config></metadata>"
				 "<memory>65536</memory><os><type>hvm</type></os><devices>"
				 "<interface type='direct'><mac address='52:54:01:%02x:%02x:01'/>"
				 "<source dev='%s' mode='bridge'/></interface></devices></domain>",
				 prefix, i, i, (i >> 8) & 0xff, i & 0xff, (i >> 8) & 0xff, i & 0xff,
				 argc > 5 ? argv[5] : "eth0");
			d = virDomainDefineXML(c, xml);
			r = d ? 0 : -1;
		} else {
			d = lookup(c, prefix, i);
			if (!d) {
				r = -1;
			} else if (!strcmp(op, "cycles")) {
				r = virDomainCreate(d);
				if (r == 0)
					r = virDomainDestroy(d);
			} else if (!strcmp(op, "start")) {
				r = virDomainCreate(d);
			} else if (!strcmp(op, "destroy")) {
				if (virDomainIsActive(d) == 1)
					r = virDomainDestroy(d);
			} else if (!strcmp(op, "undefine")) {
				r = virDomainUndefine(d);
			} else {
				fprintf(stderr, "virt-driver: unknown op '%s'\n", op);
				return 2;
			}
		}
		if (r < 0) {
			fprintf(stderr, "virt-driver: %s %s%d: %s\n", op, prefix, i,
				virGetLastErrorMessage());
			if (d)
				virDomainFree(d);
			virConnectClose(c);
			return 1;
		}
		t_last = now();
		if (d)
			virDomainFree(d);
		done++;
		if (pace > 0)
			usleep((useconds_t)pace);
	}
	dt = now() - t0;
	printf("{\"op\": \"%s\", \"n\": %d, \"seconds\": %.6f, \"ops_per_sec\": %.1f, "
	       "\"first\": %.6f, \"last\": %.6f}\n",
	       op, done, dt, dt > 0 ? done / dt : 0.0, t0, t_last);
	virConnectClose(c);
	return 0;
}
