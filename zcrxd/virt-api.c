// SPDX-License-Identifier: MIT
/*
 * virt-api — the domain follower inside the daemon (see virt-api.h).
 * Owns: its life cycle in the manager, status JSON and Monitor events.
 * Must not: include libvirt headers, block.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "ipc.h"
#include "log.h"
#include "virt-api.h"

/* A key new to o, a literal: neither looked up first nor copied (every
 * domain event builds one such object for the Monitor's subscribers). */
static void add_new(json_object *o, const char *key, const char *value)
{
	(void)json_object_object_add_ex(o, key, json_object_new_string(value),
					JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

static void notify_domain(void *ud, const struct virt_domain_ref *dom, const char *state,
			  const char *action, const char *reason)
{
	struct virt_api *a = ud;
	json_object *o;

	if (!events_listening(a->events))
		return;
	o = json_object_new_object();
	add_new(o, "domain", dom->name);
	add_new(o, "uuid", dom->uuid);
	add_new(o, "state", state);
	add_new(o, "action", action);
	add_new(o, "reason", reason);
	events_publish(a->events, "domain-changed", o);
}

static void notify_connection(void *ud, const char *state, const char *message)
{
	struct virt_api *a = ud;
	json_object *o;

	if (!a->events)
		return;
	o = json_object_new_object();
	add_new(o, "state", state);
	add_new(o, "message", message ? message : "");
	events_publish(a->events, "libvirt-connection", o);
}

static void method_list_domains(struct ipc_call *call, json_object *params, void *userdata)
{
	struct virt_api *a = userdata;
	const char *domain = NULL;
	const struct ipc_param spec[] = {
		{ "domain", IPC_PARAM_STRING, false, &domain, NULL },
		IPC_PARAM_END,
	};
	json_object *r, *doms = NULL;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	if (!a->follow || virt_follow_domains_json(a->follow, domain, &doms) < 0) {
		if (domain) {
			r = json_object_new_object();
			json_object_object_add(r, "domain", json_object_new_string(domain));
			ipc_reply_error(call, "io.zcrx.Manager.NoSuchDomain", r);
			return;
		}
		doms = json_object_new_array();
	}
	r = json_object_new_object();
	json_object_object_add(r, "domains", doms);
	ipc_reply(call, r);
}

static const struct ipc_method methods[] = {
	{ "io.zcrx.Manager.ListDomains", 0, method_list_domains },
};

/* A follower of uri ("none"/NULL: without libvirt) into *ret_f, its URI
 * (NULL: none) into *ret_uri. */
static int new_follower(struct virt_api *a, sd_event *ev, const char *uri,
			enum config_autoattach mode, const struct virt_sink *sink, void *sink_ud,
			struct virt_follow **ret_f, char **ret_uri)
{
	struct virt_follow_options o = {
		.autoattach = mode,
		.notify = { notify_domain, notify_connection },
		.notify_ud = a,
	};
	char *u = NULL;
	int r;

	if (uri && *uri && strcmp(uri, "none") && !(u = strdup(uri)))
		return -ENOMEM;
	o.uri = u;
	r = virt_follow_new(ev, &o, sink, sink_ud, ret_f);
	if (r < 0) {
		free(u);
		return r;
	}
	*ret_uri = u;
	return 0;
}

int virt_api_start(struct virt_api *a, sd_event *ev, struct ipc_server *ipc,
		   struct events *events, const char *uri, enum config_autoattach mode,
		   const struct virt_sink *sink, void *sink_ud)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->events = events;
	r = new_follower(a, ev, uri, mode, sink, sink_ud, &a->follow, &a->uri);
	if (r < 0)
		return r;
	if (ipc) {
		r = ipc_server_add_methods(ipc, methods, sizeof(methods) / sizeof(methods[0]), a);
		if (r < 0) {
			virt_api_stop(a);
			return r;
		}
	}
	if (a->uri)
		log_info(LOG_SUBSYS_VIRT, "following libvirt domains at '%s' (AutoAttach=%s)",
			 a->uri, config_autoattach_name(mode));
	else
		log_info(LOG_SUBSYS_VIRT, "running without libvirt");
	return 0;
}

int virt_api_set_uri(struct virt_api *a, sd_event *ev, const char *uri,
		     enum config_autoattach mode, const struct virt_sink *sink, void *sink_ud)
{
	const char *want = uri && *uri ? uri : "none";
	struct virt_follow *f;
	char now[512], *u;
	int r;

	snprintf(now, sizeof(now), "%s", a->uri ? a->uri : "none");
	if (!strcmp(now, want))
		return 0;
	r = new_follower(a, ev, want, mode, sink, sink_ud, &f, &u);
	if (r < 0)
		return r;
	a->follow = virt_follow_free(a->follow);
	free(a->uri);
	a->follow = f;
	a->uri = u;
	log_notice(LOG_SUBSYS_VIRT, "libvirt: now %s%s%s (was %s)", u ? "following '" : "without libvirt",
		   u ? u : "", u ? "'" : "", now);
	return 1;
}

void virt_api_stop(struct virt_api *a)
{
	a->follow = virt_follow_free(a->follow);
	free(a->uri);
	a->uri = NULL;
}

void virt_api_set_autoattach(struct virt_api *a, enum config_autoattach mode)
{
	if (a->follow)
		virt_follow_set_autoattach(a->follow, mode);
}

json_object *virt_api_status_json(const struct virt_api *a)
{
	json_object *o = a->follow ? virt_follow_status_json(a->follow) : NULL;

	if (o)
		return o;
	o = json_object_new_object();
	json_object_object_add(o, "uri", NULL);
	json_object_object_add(o, "state", json_object_new_string("disabled"));
	return o;
}
