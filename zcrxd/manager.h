/* SPDX-License-Identifier: MIT */
/*
 * manager — the one place that knows every module.
 *
 * Holds the configuration, the Varlink server, the event bus and (as they
 * land) the NIC table, the attachments, the libvirt connection and the
 * binder.  Every trigger — request, kernel or libvirt event, timer — ends
 * here and is routed to plan → exec.  Must not: speak any protocol itself.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "api-attach.h"
#include "api-lease.h"
#include "api-nic.h"
#include "binder-api.h"
#include "config.h"
#include "metrics.h"
#include "virt-api.h"

struct ipc_server;
struct events;

struct manager_options {
	const char *config_path;
	const char *runtime_dir;
	const char *state_dir;
	const char *libvirt_uri; /* overrides LibvirtURI= when set; "none" = no libvirt */
	bool config_allow_missing;
	/* Tests only (build/tests/zcrxd-fake): a fake NIC backend instead of
	 * the kernel's.  ops NULL = the kernel (always, in zcrxd itself). */
	struct nic_backend nic_backend;
	/* Tests only (build/tests/zcrxd-fake --fake-binder): the binder's
	 * backend over a fake module's socket, handed to the binder at start.
	 * NULL = generic netlink to the kernel (always, in zcrxd itself). */
	struct binder_vhost *binder_vhost;
	/* Tests only (build/tests/zcrxd-fake --kernel-call-bound-ms): the
	 * bound on one kernel call, and on the state's commit sync before
	 * zcrxd warns.  0 = KCALL_BOUND_USEC (always, in zcrxd itself). */
	uint64_t kernel_call_bound_usec;
};

struct manager {
	sd_event *event;
	struct manager_options opts;
	struct config config;
	char *socket_path;
	struct ipc_server *ipc;
	struct events *events;
	uint64_t start_usec; /* CLOCK_MONOTONIC */
	uint64_t reloads, reload_failures;
	sd_event_source *status_timer;
	struct api_nic nic; /* the NIC layer: backend, observed table, its methods */
	struct virt_api virt; /* libvirt domains (also without libvirt: hook requests) */
	struct binder_api binder; /* vhost_zcrx: availability, probes, bindings, events */
	struct metrics_source metrics; /* GetMetrics gathers through manager_collect_metrics */
	struct reconcile *reconcile; /* attachments: observe -> plan -> exec -> store */
	struct api_attach attach;    /* their Varlink methods and the virt sink */
	struct api_lease lease;      /* leases for host consumers: methods, owners */
	char start_problem[512];     /* the first reconcile's failure, "" when none */
};

int manager_new(sd_event *ev, const struct manager_options *opts, struct manager **ret);
struct manager *manager_free(struct manager *m);
/* Open the control socket; after this returns 0 requests are accepted.
 * A first reconcile that failed does not fail the start (the daemon
 * serves: READY=1 must not wait on a NIC, or libvirtd, ordered after
 * zcrxd, and every VM start would wait); it is logged and kept in
 * start_problem, which STATUS= shows. */
int manager_start(struct manager *m);
/* Re-read the configuration; an invalid one is logged and the old one kept.
 * Returns 0 when the new config is in effect. */
int manager_reload(struct manager *m);
/* Tell systemd (if it listens) what we are doing. */
void manager_notify_status(struct manager *m);

/* The LibvirtURI in effect: the command line wins over the config file.
 * NULL means libvirt is not used. */
const char *manager_libvirt_uri(const struct manager *m);

/* Varlink method tables of the manager's own interface (manager.c). */
int manager_register_methods(struct manager *m);
/* GetMetrics: the daemon's state into a metrics collection. */
int manager_collect_metrics(struct metrics *out, void *userdata);
