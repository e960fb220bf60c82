/* SPDX-License-Identifier: MIT */
/*
 * deadline — run a test's sd-event loop until a condition holds, with a
 * deadline instead of a sleep (COMMON.md: poll a condition, never sleep to
 * synchronize).
 *
 * Test-only.  Never linked into zcrxd.  No assertions here (tools link this
 * too): callers assert on what these return.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t deadline_now_ms(void);

/* Run ev until cond(arg) holds (checked before each iteration) or ms pass,
 * each iteration waiting at most step_ms.  Returns 1 when cond held, 0 at
 * the deadline, or sd_event_run()'s -errno (the loop stops there). */
int deadline_run_until(sd_event *ev, bool (*cond)(void *arg), void *arg, unsigned ms,
		       unsigned step_ms);

/* Run ev for ms (let queued work drain), each iteration waiting at most
 * step_ms.  Returns 0, or sd_event_run()'s -errno (the loop stops there). */
int deadline_run_for(sd_event *ev, unsigned ms, unsigned step_ms);
