// SPDX-License-Identifier: MIT
/*
 * binder-api — the binder wired into the daemon (binder-api.h).
 * Must not: plan, bind or unbind.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "binder-api.h"
#include "binder-vhost.h"
#include "log.h"
#include "metrics.h"
#include "nic-monitor.h"

static void destroy_vhost(void *be)
{
	binder_vhost_free(be);
}

/* Every NIC the monitor observes gets the binder's verdict: those zcrxd
 * looks after (binder_api.in_scope, the reconcile's one rule) are asked
 * about, the others are said to be none of zcrxd's. */
static void decorate(struct nic *nic, void *userdata)
{
	struct binder_api *a = userdata;

	if (a->in_scope && a->in_scope(nic, a->in_scope_ud)) {
		binder_mgr_check_link(a->mgr, nic);
		binder_mgr_nic_cap(a->mgr, nic->link.ifindex, &nic->caps.binder);
		binder_mgr_check_link(a->mgr, nic); /* a new entry: its device */
	} else {
		nic_cap_set(&nic->caps.binder, NIC_CAP_NO, 0,
			    "not a NIC zcrxd manages (no [nic] section covers it)");
	}
}

static void on_change(struct binder_mgr *bm, const struct binder_event *ev, void *userdata)
{
	struct binder_api *a = userdata;

	if (a->monitor && (ev->type == BINDER_EVENT_APPEARED || ev->type == BINDER_EVENT_VANISHED ||
			   ev->type == BINDER_EVENT_RESYNC))
		nic_monitor_redecorate(a->monitor);
	if (a->fn)
		a->fn(bm, ev, a->userdata);
}

int binder_api_start(struct binder_api *a, sd_event *ev, struct events *events,
		     struct nic_monitor *monitor, struct binder_vhost *bv, binder_mgr_fn fn,
		     void *userdata)
{
	int r;

	a->monitor = monitor;
	a->fn = fn;
	a->userdata = userdata;
	r = bv ? 0 : binder_vhost_new(&bv);
	if (r < 0)
		return log_errno(LOG_ERR, LOG_SUBSYS_BINDER, r, "cannot open the binder's sockets: %s",
				 strerror(-r));
	snprintf(a->transport, sizeof(a->transport), "%s", binder_vhost_transport(bv));
	if (strcmp(a->transport, "netlink") != 0)
		log_notice(LOG_SUBSYS_BINDER, "binder talks to a FAKE vhost_zcrx module at %s (tests)",
			   a->transport + 5);
	r = binder_mgr_new(ev, binder_vhost_backend(bv), destroy_vhost, events, &a->mgr);
	if (r < 0) {
		binder_vhost_free(bv);
		return r;
	}
	binder_mgr_set_callback(a->mgr, on_change, a);
	r = binder_mgr_start(a->mgr);
	if (r < 0)
		return log_errno(LOG_ERR, LOG_SUBSYS_BINDER, r, "cannot watch the binder: %s",
				 strerror(-r));
	if (monitor)
		nic_monitor_set_decorator(monitor, decorate, a);
	return 0;
}

void binder_api_stop(struct binder_api *a)
{
	if (a->monitor && a->mgr)
		nic_monitor_set_decorator(a->monitor, NULL, NULL);
	a->mgr = binder_mgr_free(a->mgr);
	a->monitor = NULL;
}

bool binder_api_available(const struct binder_api *a)
{
	return a->mgr && binder_mgr_available(a->mgr);
}

const struct binder_backend *binder_api_backend(const struct binder_api *a)
{
	return a->mgr ? binder_mgr_backend(a->mgr) : NULL;
}

json_object *binder_api_status_json(const struct binder_api *a)
{
	json_object *o;

	if (a->mgr) {
		o = binder_mgr_status_json(a->mgr);
		json_object_object_add(o, "backend", json_object_new_string(a->transport));
		return o;
	}
	o = json_object_new_object();
	json_object_object_add(o, "module", json_object_new_string("vhost_zcrx"));
	json_object_object_add(o, "available", json_object_new_boolean(false));
	json_object_object_add(o, "message", json_object_new_string("binder not started"));
	return o;
}

void binder_api_metrics(const struct binder_api *a, struct metrics_daemon *d)
{
	struct binder_mgr_counters c;

	if (!a->mgr)
		return;
	c = binder_mgr_counters(a->mgr);
	d->binder_available = binder_mgr_available(a->mgr);
	d->binder_requests = c.requests;
	d->binder_notifications = c.notifications;
	d->binder_bad_messages = c.bad_messages;
	d->binder_errors = c.kernel_errors;
}

int binder_api_refresh(struct binder_api *a)
{
	struct kerror err = { 0 };

	if (!a->mgr || !binder_mgr_available(a->mgr))
		return 0;
	return binder_mgr_refresh(a->mgr, &err);
}

int binder_api_nic_supported(struct binder_api *a, int ifindex)
{
	if (!a->mgr || !binder_mgr_available(a->mgr))
		return 0;
	return binder_mgr_probe(a->mgr, ifindex)->probed ? 1 : 0;
}
