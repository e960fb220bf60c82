// SPDX-License-Identifier: MIT
/*
 * api-nic — ListNics / GetNic / ListQueues and NIC events (api-nic.h).
 * Must not talk to the kernel except through the backend and the monitor.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-nic.h"
#include "events.h"
#include "ipc.h"
#include "log.h"
#include "nic-json.h"
#include "nic-bound.h"
#include "nic-kernel.h"
#include "nic-monitor.h"
#include "monotime.h"

static const char *const part_names[] = {
	"link", "channels", "rings", "features", "rss", "rules", "queues",
};

static json_object *parts(unsigned what)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < sizeof(part_names) / sizeof(part_names[0]); i++)
		if (what & (1u << i))
			json_object_array_add(a, json_object_new_string(part_names[i]));
	return a;
}

static void on_change(struct nic_monitor *m, const struct nic *nic, enum nic_change c,
		      unsigned what, void *userdata)
{
	struct api_nic *a = userdata;
	const char *type = c == NIC_CHANGE_ADDED	   ? "nic-added"
			   : c == NIC_CHANGE_REMOVED ? "nic-removed"
						     : "nic-changed";
	json_object *d;

	log_debug(LOG_SUBSYS_NIC, "%s: %s (generation %llu)%s", nic->link.name, type,
		  (unsigned long long)nic->generation, a->refreshing ? " by a caller's refresh" : "");
	/* What a caller's refresh finds is for the caller: the reconcile
	 * acts on drift at its own time (its timer), never because a reader
	 * asked.  Devices that come and go are the kernel's news either way. */
	if (a->changed && (!a->refreshing || c != NIC_CHANGE_UPDATED))
		a->changed(a->changed_ud, nic, (int)c, what);
	if (!a->events)
		return;
	d = json_object_new_object();
	json_object_object_add(d, "nic", json_object_new_string(nic->link.name));
	json_object_object_add(d, "ifindex", json_object_new_int(nic->link.ifindex));
	json_object_object_add(d, "generation", json_object_new_int64((int64_t)nic->generation));
	if (c == NIC_CHANGE_UPDATED)
		json_object_object_add(d, "changed", parts(what));
	events_publish(a->events, type, d);
}

/* ---- method helpers ------------------------------------------------------------ */

static void no_such_nic(struct ipc_call *call, const char *name)
{
	json_object *p = json_object_new_object();
	char msg[128];

	snprintf(msg, sizeof(msg), "no NIC '%s' in zcrxd's network namespace", name);
	json_object_object_add(p, "nic", json_object_new_string(name));
	json_object_object_add(p, "message", json_object_new_string(msg));
	ipc_reply_error(call, "io.zcrx.Manager.NoSuchNic", p);
}

static void kernel_error(struct ipc_call *call, const struct kerror *e)
{
	json_object *p = json_object_new_object();
	char msg[512];

	json_object_object_add(p, "errno", json_object_new_int(e->err));
	json_object_object_add(p, "message",
			       json_object_new_string(kerror_format(e, msg, sizeof(msg))));
	ipc_reply_error(call, "io.zcrx.Manager.KernelError", p);
}

/* Whether a caller's refresh of ifindex (0: of every NIC) re-reads now; a
 * caller that is neither root nor an admin is held to the rate limit. */
static bool may_reread(struct api_nic *a, struct ipc_call *call, int ifindex)
{
	uint64_t now = monotime_usec();
	struct api_nic_reread *v;
	size_t i;

	if (!ifindex) {
		if (!ipc_call_is_admin(call) && a->resync_at &&
		    now - a->resync_at < API_NIC_RESYNC_USEC)
			return false;
		a->resync_at = now;
		return true;
	}
	for (i = 0; i < a->n_reread; i++)
		if (a->reread[i].ifindex == ifindex)
			break;
	if (i < a->n_reread) {
		if (!ipc_call_is_admin(call) && now - a->reread[i].at < API_NIC_REFRESH_USEC)
			return false;
		a->reread[i].at = now;
		return true;
	}
	/* entries past the window hold nothing back: the table stays small */
	for (i = 0; i < a->n_reread;)
		if (now - a->reread[i].at >= API_NIC_REFRESH_USEC)
			a->reread[i] = a->reread[--a->n_reread];
		else
			i++;
	v = realloc(a->reread, (a->n_reread + 1) * sizeof(*v));
	if (!v)
		return false;
	a->reread = v;
	a->reread[a->n_reread++] = (struct api_nic_reread){ .ifindex = ifindex, .at = now };
	return true;
}

/* The NIC named name, re-read first when asked (*refreshed says whether it
 * was); NULL after replying. */
static const struct nic *lookup(struct api_nic *a, struct ipc_call *call, const char *name,
				bool refresh, bool *refreshed)
{
	const struct nic *nic = nic_monitor_find(a->monitor, name);
	struct kerror e;
	int r;

	*refreshed = false;
	if (!nic) {
		no_such_nic(call, name);
		return NULL;
	}
	if (!refresh || !may_reread(a, call, nic->link.ifindex))
		return nic;
	a->refreshing = true;
	r = nic_monitor_refresh(a->monitor, nic->link.ifindex, NIC_OBSERVE_ALL);
	a->refreshing = false;
	if (r == -ENODEV) {
		no_such_nic(call, name);
		return NULL;
	}
	if (r < 0) {
		kerror_set(&e, r, name, "refresh", NULL);
		kernel_error(call, &e);
		return NULL;
	}
	*refreshed = true;
	return nic_monitor_find(a->monitor, name);
}

static const char *lower_name(const struct api_nic *a, const struct nic *nic)
{
	const struct nic *l;

	if (nic->link.link_ifindex <= 0 || nic->link.link_netnsid >= 0 ||
	    (strcmp(nic->link.kind, "macvtap") && strcmp(nic->link.kind, "macvlan")))
		return NULL;
	l = nic_monitor_get(a->monitor, nic->link.link_ifindex);
	return l ? l->link.name : NULL;
}

/* ---- methods --------------------------------------------------------------------- */

/* The NIC where a kernel call hangs (kcall.h) says so. */
static void add_stuck(struct api_nic *a, json_object *o, const char *name)
{
	struct kcall_stuck st;
	char why[160];

	if (!a->bound || !kcall_get_stuck(nic_bound_kcall(a->bound), &st) || strcmp(st.obj, name))
		return;
	json_object_object_add(o, "stuck", json_object_new_string(kcall_stuck_format(
						   nic_bound_kcall(a->bound), why, sizeof(why))));
}

static void method_list_nics(struct ipc_call *call, json_object *params, void *userdata)
{
	struct api_nic *a = userdata;
	static const struct ipc_param spec[] = { IPC_PARAM_END };
	json_object *r, *arr;
	char why[160];
	size_t i;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	arr = json_object_new_array();
	for (i = 0; i < nic_monitor_count(a->monitor); i++) {
		const struct nic *nic = nic_monitor_at(a->monitor, i);
		json_object *o = nic_json_summary(nic);
		const char *lower = lower_name(a, nic);

		json_object_object_add(o, "lower", lower ? json_object_new_string(lower) : NULL);
		add_stuck(a, o, nic->link.name);
		json_object_array_add(arr, o);
	}
	r = json_object_new_object();
	json_object_object_add(r, "nics", arr);
	if (a->bound && kcall_get_stuck(nic_bound_kcall(a->bound), NULL))
		json_object_object_add(r, "stuck",
				       json_object_new_string(kcall_stuck_format(
					       nic_bound_kcall(a->bound), why, sizeof(why))));
	ipc_reply(call, r);
}

static void method_get_nic(struct ipc_call *call, json_object *params, void *userdata)
{
	struct api_nic *a = userdata;
	const char *name = NULL;
	bool refresh = false;
	const struct ipc_param spec[] = {
		{ "nic", IPC_PARAM_STRING, true, &name, NULL },
		{ "refresh", IPC_PARAM_BOOL, false, &refresh, NULL },
		IPC_PARAM_END,
	};
	const struct nic *nic;
	struct nic view;
	bool refreshed;
	json_object *r;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	nic = lookup(a, call, name, refresh, &refreshed);
	if (!nic)
		return;
	view = *nic; /* shallow: the capabilities zcrxd goes by, the monitor's arrays */
	if (a->learned)
		a->learned(a->learned_ud, nic->link.name, &view.caps);
	r = json_object_new_object();
	json_object_object_add(r, "nic", nic_json_nic(&view, lower_name(a, nic)));
	add_stuck(a, json_object_object_get(r, "nic"), nic->link.name);
	if (refresh)
		json_object_object_add(r, "refreshed", json_object_new_boolean(refreshed));
	ipc_reply(call, r);
}

static void add_queues(json_object *arr, const struct nic *nic)
{
	json_object *q = nic_json_queues(nic);
	size_t i, n = json_object_array_length(q);

	for (i = 0; i < n; i++) {
		json_object *o = json_object_get(json_object_array_get_idx(q, i));

		json_object_object_add(o, "nic", json_object_new_string(nic->link.name));
		json_object_array_add(arr, o);
	}
	json_object_put(q);
}

static void method_list_queues(struct ipc_call *call, json_object *params, void *userdata)
{
	struct api_nic *a = userdata;
	const char *name = NULL;
	bool refresh = false;
	const struct ipc_param spec[] = {
		{ "nic", IPC_PARAM_STRING, false, &name, NULL },
		{ "refresh", IPC_PARAM_BOOL, false, &refresh, NULL },
		IPC_PARAM_END,
	};
	const struct nic *nic;
	bool refreshed = false;
	json_object *r, *arr;
	size_t i;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	arr = json_object_new_array();
	if (name) {
		nic = lookup(a, call, name, refresh, &refreshed);
		if (!nic) {
			json_object_put(arr);
			return;
		}
		add_queues(arr, nic);
	} else {
		if (refresh && may_reread(a, call, 0)) {
			a->refreshing = true;
			refreshed = nic_monitor_resync(a->monitor) >= 0;
			a->refreshing = false;
		}
		for (i = 0; i < nic_monitor_count(a->monitor); i++)
			add_queues(arr, nic_monitor_at(a->monitor, i));
	}
	r = json_object_new_object();
	json_object_object_add(r, "queues", arr);
	if (refresh)
		json_object_object_add(r, "refreshed", json_object_new_boolean(refreshed));
	ipc_reply(call, r);
}

static const struct ipc_method methods[] = {
	{ "io.zcrx.Manager.ListNics", 0, method_list_nics },
	{ "io.zcrx.Manager.GetNic", 0, method_get_nic },
	{ "io.zcrx.Manager.ListQueues", 0, method_list_queues },
};

/* ---- lifecycle ------------------------------------------------------------------- */

static int start(struct api_nic *a, struct nic_backend be, sd_event *ev, struct ipc_server *ipc,
		 struct events *events, struct kerror *err);

int api_nic_start(struct api_nic *a, sd_event *ev, struct ipc_server *ipc, struct events *events,
		  struct kerror *err)
{
	int r;

	r = nic_kernel_new(&a->kernel, err);
	if (r < 0)
		return r;
	return start(a, nic_kernel_backend(a->kernel), ev, ipc, events, err);
}

int api_nic_start_backend(struct api_nic *a, struct nic_backend be, sd_event *ev,
			  struct ipc_server *ipc, struct events *events, struct kerror *err)
{
	a->other = be;
	return start(a, be, ev, ipc, events, err);
}

static int start(struct api_nic *a, struct nic_backend be, sd_event *ev, struct ipc_server *ipc,
		 struct events *events, struct kerror *err)
{
	int r;

	a->events = events;
	/* every kernel call of the NIC layer, the reconcile's included, goes
	 * through the bound (nic-bound.h) */
	r = nic_bound_new(ev, be, a->bound_usec, &a->bound);
	if (r < 0) {
		api_nic_stop(a);
		return kerror_set(err, r, NULL, "start the NIC calls' worker", NULL);
	}
	r = nic_monitor_new(ev, nic_bound_backend(a->bound), &a->monitor, err);
	if (r < 0) {
		api_nic_stop(a);
		return r;
	}
	nic_monitor_set_callback(a->monitor, on_change, a);
	r = ipc_server_add_methods(ipc, methods, sizeof(methods) / sizeof(methods[0]), a);
	if (r < 0) {
		api_nic_stop(a);
		return kerror_set(err, r, NULL, "register NIC methods", NULL);
	}
	if (a->kernel)
		log_debug(LOG_SUBSYS_NIC, "%zu NICs, ethtool RSS netlink %s, netdev family %s",
			  nic_monitor_count(a->monitor),
			  nic_kernel_has_rss_netlink(a->kernel) ? "yes" : "no",
			  nic_kernel_has_netdev(a->kernel) ? "yes" : "no");
	return 0;
}

void api_nic_stop(struct api_nic *a)
{
	a->monitor = nic_monitor_free(a->monitor);
	/* the worker first; a stuck one still uses the backend: left to exit */
	if (a->bound && kcall_get_stuck(nic_bound_kcall(a->bound), NULL))
		a->kernel = NULL;
	a->bound = nic_bound_free(a->bound);
	a->kernel = nic_kernel_free(a->kernel);
	free(a->reread);
	a->reread = NULL;
	a->n_reread = 0;
}

size_t api_nic_count(const struct api_nic *a)
{
	return a->monitor ? nic_monitor_count(a->monitor) : 0;
}

struct nic_backend api_nic_backend(const struct api_nic *a)
{
	if (!a->bound)
		return (struct nic_backend){ 0 };
	return nic_bound_backend(a->bound);
}

struct kcall *api_nic_kcall(const struct api_nic *a)
{
	return a->bound ? nic_bound_kcall(a->bound) : NULL;
}
