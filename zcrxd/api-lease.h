/* SPDX-License-Identifier: MIT */
/*
 * api-lease — io.zcrx.Manager.Lease, ReleaseLease and ListLeases
 * (docs/ipc.md), and the owners of process-owned leases: zcrxd holds a
 * pidfd of each owner and releases its leases when it exits (also when
 * zcrxd was down then: a restart checks each owner's pid and start time).
 *
 * Owns: request/reply shapes, error mapping, the pidfd watches.
 * Must not: plan or talk to the kernel (reconcile-lease.c does).
 */
#pragma once

#include <stddef.h>
#include <systemd/sd-event.h>

#include "reconcile.h"

struct ipc_server;
struct api_lease_watch;

struct api_lease {
	struct reconcile *rc;
	sd_event *event;
	size_t n_watch;
	struct api_lease_watch *watch;
};

int api_lease_register(struct api_lease *l, struct ipc_server *ipc);
/* After reconcile_start: release the leases whose owner is gone, watch the
 * others. */
void api_lease_adopt(struct api_lease *l);
void api_lease_stop(struct api_lease *l);
/* The start time of process pid (field 22 of /proc/PID/stat); -errno. */
int api_lease_pid_start(pid_t pid, uint64_t *ret);
