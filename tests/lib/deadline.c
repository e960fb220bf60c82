// SPDX-License-Identifier: MIT
/*
 * deadline — run a test's event loop until a condition or a deadline
 * (deadline.h).  Test-only.
 */
#include <time.h>

#include "deadline.h"

uint64_t deadline_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int deadline_run_until(sd_event *ev, bool (*cond)(void *arg), void *arg, unsigned ms,
		       unsigned step_ms)
{
	uint64_t end = deadline_now_ms() + ms;
	int r;

	while (!cond(arg)) {
		if (deadline_now_ms() >= end)
			return 0;
		r = sd_event_run(ev, (uint64_t)step_ms * 1000);
		if (r < 0)
			return r;
	}
	return 1;
}

int deadline_run_for(sd_event *ev, unsigned ms, unsigned step_ms)
{
	uint64_t end = deadline_now_ms() + ms;
	int r;

	while (deadline_now_ms() < end) {
		r = sd_event_run(ev, (uint64_t)step_ms * 1000);
		if (r < 0)
			return r;
	}
	return 0;
}
