/* SPDX-License-Identifier: MIT */
/*
 * nic-bound — any NIC backend with its kernel calls bounded (kcall.h): the
 * same struct nic_ops, every call run on the backend's worker thread.
 *
 * Each call copies its arguments into a job of its own and copies the
 * results back (observe moves the caller's scratch struct nic in and out),
 * so a call that overruns the bound touches nothing of the caller's when
 * it returns at last.  A call that overruns fails with
 * -ETIMEDOUT (outcome unknown: exec keeps what it may have made, see
 * exec.h); while it hangs every call fails at once with -EAGAIN naming it.
 * forget() is no kernel call: it runs on the loop, or when the stuck call
 * returned.
 *
 * zcrxd wraps its one NIC backend (the kernel's; the test daemon's fake)
 * in this before anything calls it.  Owns: the wrapper and its kcall.
 * Must not: log, change the calls.
 */
#pragma once

#include <systemd/sd-event.h>

#include "kcall.h"
#include "nic.h"

struct nic_bound;

/* inner is borrowed and must outlive the wrapper's worker (nic_bound_free
 * first).  bound_usec 0 = KCALL_BOUND_USEC. */
int nic_bound_new(sd_event *ev, struct nic_backend inner, uint64_t bound_usec,
		  struct nic_bound **ret);
struct nic_bound *nic_bound_free(struct nic_bound *b);
struct nic_backend nic_bound_backend(struct nic_bound *b);
struct kcall *nic_bound_kcall(const struct nic_bound *b);
/* Told when a stuck call returned (after pending forget()s were applied). */
void nic_bound_set_returned(struct nic_bound *b, kcall_returned_fn fn, void *userdata);
