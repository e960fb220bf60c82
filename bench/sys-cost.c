// SPDX-License-Identifier: MIT
/*
 * sys-cost — what the machine charges for the two things zcrxd's CPU per
 * libvirt event is mostly made of, for bench-libvirt.py to print beside it:
 *
 *   syscall_us          one system call that does nothing (getppid), wall
 *   round_trip_us       one thread waking another through an eventfd and
 *                       being woken back, wall
 *   round_trip_cpu_us   the CPU both threads spent on one such round trip
 *
 * Each is the median of 5 runs.  Prints one JSON object.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define RUNS 5
#define CALLS 100000
#define TRIPS 20000

static int ping_fd, pong_fd;

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *ponger(void *arg)
{
	uint64_t v;
	int i;

	(void)arg;
	for (i = 0; i < TRIPS; i++) {
		if (read(ping_fd, &v, sizeof(v)) != sizeof(v) || write(pong_fd, &v, sizeof(v)) != sizeof(v))
			break;
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_double);
	return v[RUNS / 2];
}

int main(void)
{
	double sc[RUNS], rt[RUNS], rtc[RUNS], t0, c0;
	uint64_t v = 1;
	pthread_t th;
	int r, i;

	for (r = 0; r < RUNS; r++) {
		t0 = clock_s(CLOCK_MONOTONIC);
		for (i = 0; i < CALLS; i++)
			(void)syscall(SYS_getppid);
		sc[r] = (clock_s(CLOCK_MONOTONIC) - t0) / CALLS * 1e6;

		ping_fd = eventfd(0, EFD_CLOEXEC);
		pong_fd = eventfd(0, EFD_CLOEXEC);
		if (ping_fd < 0 || pong_fd < 0 || pthread_create(&th, NULL, ponger, NULL)) {
			perror("sys-cost");
			return 1;
		}
		t0 = clock_s(CLOCK_MONOTONIC);
		c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		for (i = 0; i < TRIPS; i++) {
			if (write(ping_fd, &v, sizeof(v)) != sizeof(v) ||
			    read(pong_fd, &v, sizeof(v)) != sizeof(v)) {
				perror("sys-cost");
				return 1;
			}
		}
		rt[r] = (clock_s(CLOCK_MONOTONIC) - t0) / TRIPS * 1e6;
		rtc[r] = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) / TRIPS * 1e6;
		pthread_join(th, NULL);
		close(ping_fd);
		close(pong_fd);
	}
	printf("{\"syscall_us\": %.3f, \"round_trip_us\": %.2f, \"round_trip_cpu_us\": %.2f}\n",
	       median(sc), median(rt), median(rtc));
	return 0;
}
