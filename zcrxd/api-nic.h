/* SPDX-License-Identifier: MIT */
/*
 * api-nic — the daemon's NIC layer as the manager holds it: the kernel
 * backend, the observed NIC table (nic-monitor) in the manager's event loop,
 * the Varlink methods io.zcrx.Manager.ListNics / GetNic / ListQueues, and the
 * nic-added / nic-changed / nic-removed events on the Monitor stream.
 *
 * Owns: the request/reply shape of those methods (docs/ipc.md) and the
 * mapping of kernel errors to io.zcrx.Manager.KernelError.  Must not: talk
 * to the kernel other than through the NIC backend and monitor.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "nic.h"

struct kcall;
struct nic_bound;

struct ipc_server;
struct events;
struct nic_kernel;
struct nic_monitor;

struct api_nic {
	struct nic_kernel *kernel;
	struct nic_bound *bound; /* the backend in use, bounded */
	uint64_t bound_usec;     /* its bound; 0 = KCALL_BOUND_USEC (set before start) */
	struct nic_monitor *monitor;
	struct events *events; /* borrowed, may be NULL */
	/* Told about every NIC change (the manager); optional.  c is an
	 * enum nic_change, what the NIC_OBSERVE_* parts that changed. */
	void (*changed)(void *ud, const struct nic *nic, int c, unsigned what);
	void *changed_ud;
	struct nic_backend other; /* api_nic_start_backend's backend */
	/* Lays what changes taught (the reconciler's learned refusals) over a
	 * NIC's capabilities before GetNic shows them; optional. */
	void (*learned)(void *ud, const char *nic, struct nic_caps *caps);
	void *learned_ud;
	/* A caller's refresh only re-reads: the changes it finds are
	 * published but not handed to changed (the reconcile), and callers
	 * that are neither root nor admins re-read a NIC at most once per
	 * API_NIC_REFRESH_USEC, every NIC at most once per
	 * API_NIC_RESYNC_USEC. */
	bool refreshing;
	struct api_nic_reread {
		int ifindex;
		uint64_t at; /* CLOCK_MONOTONIC usec */
	} *reread;
	size_t n_reread;
	uint64_t resync_at;
};

#define API_NIC_REFRESH_USEC 1000000u
#define API_NIC_RESYNC_USEC 5000000u

/* Open the backend, read every NIC, follow changes on ev, register the
 * methods on ipc.  (The interval's re-read is the reconcile's timer.) */
int api_nic_start(struct api_nic *a, sd_event *ev, struct ipc_server *ipc, struct events *events,
		  struct kerror *err);
/* The same with another backend instead of the kernel's (tests: a fake
 * NIC); be is borrowed and must outlive the layer. */
int api_nic_start_backend(struct api_nic *a, struct nic_backend be, sd_event *ev,
			  struct ipc_server *ipc, struct events *events, struct kerror *err);
void api_nic_stop(struct api_nic *a);
/* NICs in the table (0 before start). */
size_t api_nic_count(const struct api_nic *a);
/* The backend exec will drive (ops NULL before start): the kernel's (or
 * the test daemon's) with every call bounded (nic-bound.h). */
struct nic_backend api_nic_backend(const struct api_nic *a);
/* The bound's worker: stuck or not, its counts (NULL before start). */
struct kcall *api_nic_kcall(const struct api_nic *a);
