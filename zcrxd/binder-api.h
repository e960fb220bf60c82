/* SPDX-License-Identifier: MIT */
/*
 * binder-api — the zero-copy binder as the manager holds it: the production
 * backend (binder-vhost over generic netlink; a test program may hand in one
 * it opened over a fake module's socket), its daemon-side view (binder-mgr)
 * in the event loop, and
 * the binder's entry in every NIC's capability matrix (through the NIC
 * monitor's decorator, refreshed when the module appears or goes away).
 *
 * Owns: wiring the binder into the daemon.  Must not: plan or bind (the
 * planner and exec do, with binder_api_backend()).
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "binder-mgr.h"

struct events;
struct nic;
struct nic_monitor;
struct metrics_daemon;

struct binder_vhost;

struct binder_api {
	struct binder_mgr *mgr;        /* NULL before start */
	char transport[128];           /* binder_vhost_transport() of the backend */
	struct nic_monitor *monitor;   /* borrowed, may be NULL */
	binder_mgr_fn fn;              /* the manager's reaction (replan, attachments) */
	void *userdata;
	/* Which NICs get the binder's verdict (set before start; NULL: none):
	 * reconcile_nic_in_scope(), the same rule as everywhere. */
	bool (*in_scope)(const struct nic *nic, void *ud);
	void *in_scope_ud;
};

/* Open the backend (generic netlink; or take bv, opened by a test program,
 * which the binder then owns), resolve, dump, watch; decorate monitor's
 * NICs.  An absent module is not an error.  fn (may be NULL) is called
 * after the binder's view changed (binder-mgr.h). */
int binder_api_start(struct binder_api *a, sd_event *ev, struct events *events,
		     struct nic_monitor *monitor, struct binder_vhost *bv, binder_mgr_fn fn,
		     void *userdata);
void binder_api_stop(struct binder_api *a);
bool binder_api_available(const struct binder_api *a);
/* The backend exec drives (NULL before start). */
const struct binder_backend *binder_api_backend(const struct binder_api *a);
/* GetStatus's "binder" object; "backend" says what answers as the module:
 * "netlink" (the kernel), or "unix:PATH" (a test's fake module). */
json_object *binder_api_status_json(const struct binder_api *a);
/* The binder's part of GetMetrics. */
void binder_api_metrics(const struct binder_api *a, struct metrics_daemon *d);
/* Ask the module for its bindings again (their STATS move without
 * notifications): before a metrics scrape.  0, or -errno when it could not
 * (absent module: nothing to ask). */
int binder_api_refresh(struct binder_api *a);
/* 1 the module can bind this NIC's queues, 0 not (absent, refused). */
int binder_api_nic_supported(struct binder_api *a, int ifindex);
