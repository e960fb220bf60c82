/* SPDX-License-Identifier: MIT */
/*
 * monotime — the time now on CLOCK_MONOTONIC, in microseconds: the
 * project's one reading of it for stamps, deadlines and durations (an
 * sd-event loop's own "now" of the turn is sd_event_now's).
 *
 * Owns: nothing.  Must not: print, exit, allocate.
 */
#pragma once

#include <stdint.h>

uint64_t monotime_usec(void);
