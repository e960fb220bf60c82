// SPDX-License-Identifier: MIT
/*
 * manager — wiring of config, control socket, event bus and subsystems.
 * Owns: the daemon's lifecycle (start, reload, stop) and the methods that are
 * about the daemon itself (GetStatus, Monitor).  Must not: speak netlink,
 * libvirt or the Varlink wire format itself.
 */
#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "binder-vhost.h"
#include "events.h"
#include "ipc.h"
#include "kcall.h"
#include "log.h"
#include "manager.h"
#include "metrics-collect.h"
#include "nic-bound.h"
#include "nic-monitor.h"
#include "zcrx.h"

extern const char manager_interface_description[];

static uint64_t now_usec(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void log_diags(const struct config_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		if (d->v[i].line)
			log_error(LOG_SUBSYS_CONFIG, "%s:%u: %s", d->v[i].file, d->v[i].line, d->v[i].msg);
		else
			log_error(LOG_SUBSYS_CONFIG, "%s: %s", d->v[i].file, d->v[i].msg);
	}
}

static int load_config(struct manager *m, struct config *ret)
{
	struct config_diags d;
	int r;

	r = config_load(m->opts.config_path, m->opts.config_allow_missing, ret, &d);
	if (r < 0)
		log_diags(&d);
	config_diags_free(&d);
	if (r < 0)
		config_free(ret);
	return r;
}

static gid_t group_gid(const char *name)
{
	struct group *g;

	if (!name)
		return (gid_t)-1;
	g = getgrnam(name);
	return g ? g->gr_gid : (gid_t)-1;
}

const char *manager_libvirt_uri(const struct manager *m)
{
	const char *u = m->opts.libvirt_uri ? m->opts.libvirt_uri : m->config.libvirt_uri;

	if (!u || !strcmp(u, "none"))
		return NULL;
	return u;
}

int manager_new(sd_event *ev, const struct manager_options *opts, struct manager **ret)
{
	struct manager *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->event = sd_event_ref(ev);
	m->opts = *opts;
	m->start_usec = now_usec(CLOCK_MONOTONIC);
	r = load_config(m, &m->config);
	if (r < 0) {
		config_init(&m->config); /* so that manager_free has something to free */
		manager_free(m);
		return r;
	}
	r = events_new(&m->events);
	if (r < 0) {
		manager_free(m);
		return r;
	}
	if (asprintf(&m->socket_path, "%s/io.zcrx.Manager", opts->runtime_dir) < 0) {
		m->socket_path = NULL;
		manager_free(m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

struct manager *manager_free(struct manager *m)
{
	if (!m)
		return NULL;
	sd_event_source_disable_unref(m->status_timer);
	virt_api_stop(&m->virt);
	api_lease_stop(&m->lease);
	m->reconcile = reconcile_free(m->reconcile);
	binder_api_stop(&m->binder);
	api_nic_stop(&m->nic);
	m->events = events_free(m->events);
	m->ipc = ipc_server_free(m->ipc);
	config_free(&m->config);
	binder_vhost_free(m->opts.binder_vhost); /* not started */
	free(m->socket_path);
	sd_event_unref(m->event);
	free(m);
	return NULL;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void nic_changed(void *ud, const struct nic *nic, int c, unsigned what)
{
	struct manager *m = ud;

	/* A NIC that went away must be probed again before the next bind; one
	 * that became another device is noticed by the binder's decorator. */
	if (m->binder.mgr && c == NIC_CHANGE_REMOVED)
		binder_mgr_forget_nic(m->binder.mgr, nic->link.ifindex);
	if (c == NIC_CHANGE_UPDATED && (what & NIC_OBSERVE_QUEUES))
		reconcile_queues_changed(m->reconcile, nic->link.name);
	else
		reconcile_nic_changed(m->reconcile, nic->link.name);
}

static void nic_learned(void *ud, const char *nic, struct nic_caps *caps)
{
	struct manager *m = ud;

	if (m->reconcile)
		reconcile_overlay_learned(m->reconcile, nic, caps);
}

static bool nic_in_scope(const struct nic *nic, void *ud)
{
	return reconcile_nic_in_scope(ud, nic);
}

/* A NIC call that had overrun its bound returned at last (kcall.h): what
 * it did is unknown until read, and every run it refused waits. */
static void nic_calls_returned(void *ud, const char *op, const char *obj, int result,
			       uint64_t took_usec)
{
	struct manager *m = ud;

	log_nic(LOG_NOTICE, LOG_SUBSYS_NIC, obj[0] ? obj : NULL,
		"%s returned after %.1f s (%s): reading every NIC again", op,
		(double)took_usec / 1e6, result < 0 ? strerror(-result) : "ok");
	if (m->nic.monitor)
		(void)nic_monitor_resync(m->nic.monitor);
	if (m->reconcile)
		(void)reconcile_all(m->reconcile, "kernel calls returned", NULL);
}

static void binder_changed(struct binder_mgr *bm, const struct binder_event *ev, void *ud)
{
	reconcile_binder_changed(ud, ev);
}

/* The control socket's limits from the [daemon] keys of the config. */
static struct ipc_limits ipc_limits(const struct config *c)
{
	struct ipc_limits l = {
		.max_message = IPC_MESSAGE_MAX,
		.max_connections = c->control.max_connections,
		.max_per_user = c->control.max_per_user,
		.reserved = c->control.reserved,
		.read_timeout_us = c->control.read_timeout_usec,
		.write_timeout_us = c->control.write_timeout_usec,
		.idle_timeout_us = c->control.idle_timeout_usec,
	};

	return l;
}

/* The runtime and state directories, and the control socket with the
 * manager's own methods. */
static int start_ipc(struct manager *m)
{
	struct ipc_server_config cfg = {
		.path = m->socket_path,
		.socket_gid = group_gid(m->config.socket_group),
		.socket_mode = 0660,
		.admin_gid = group_gid(m->config.admin_group),
		.limits = ipc_limits(&m->config),
		.interface_description = manager_interface_description,
		.vendor = "zcrx",
		.product = "zcrxd",
		.version = ZCRX_VERSION,
		.url = "https://zcrx.dev/",
	};
	int r;

	r = mkdir_p(m->opts.runtime_dir, 0755);
	if (r < 0)
		return log_errno(LOG_ERR, LOG_SUBSYS_MAIN, r, "cannot create runtime directory %s: %s",
				 m->opts.runtime_dir, strerror(-r));
	r = mkdir_p(m->opts.state_dir, 0700);
	if (r < 0)
		return log_errno(LOG_ERR, LOG_SUBSYS_MAIN, r, "cannot create state directory %s: %s",
				 m->opts.state_dir, strerror(-r));
	r = ipc_server_new(m->event, &cfg, &m->ipc);
	if (r == -EADDRINUSE)
		return log_errno(LOG_ERR, LOG_SUBSYS_MAIN, r,
				 "another zcrxd already answers on %s", m->socket_path);
	if (r < 0)
		return log_errno(LOG_ERR, LOG_SUBSYS_MAIN, r, "cannot listen on %s: %s", m->socket_path,
				 strerror(-r));
	r = manager_register_methods(m);
	if (r < 0)
		return log_errno(LOG_ERR, LOG_SUBSYS_MAIN, r, "cannot register methods: %s", strerror(-r));
	return 0;
}

/* Attachments: the reconcile loop over the NIC layer and their methods. */
static int start_attachments(struct manager *m)
{
	struct reconcile_deps deps = {
		.event = m->event,
		.monitor = m->nic.monitor,
		.nic = api_nic_backend(&m->nic),
		.nic_calls = api_nic_kcall(&m->nic),
		.config = &m->config,
		.events = m->events,
		.state_dir = m->opts.state_dir,
		.interval_sec = m->config.reconcile_interval_sec,
		.sync_bound_usec = m->opts.kernel_call_bound_usec,
	};
	struct kerror ke = { 0 };
	char kbuf[512];
	int r;

	r = reconcile_new(&deps, &m->reconcile, &ke);
	if (r < 0)
		return log_errno(LOG_ERR, LOG_SUBSYS_MANAGER, r, "cannot start attachments: %s",
				 kerror_format(&ke, kbuf, sizeof(kbuf)));
	m->attach.rc = m->reconcile;
	m->attach.monitor = m->nic.monitor;
	r = api_attach_register(&m->attach, m->ipc);
	if (r == 0) {
		m->lease.rc = m->reconcile;
		m->lease.event = m->event;
		r = api_lease_register(&m->lease, m->ipc);
	}
	if (r < 0)
		return log_errno(LOG_ERR, LOG_SUBSYS_MANAGER, r, "cannot register methods: %s",
				 strerror(-r));
	m->nic.changed = nic_changed;
	m->nic.changed_ud = m;
	m->nic.learned = nic_learned;
	m->nic.learned_ud = m;
	if (m->nic.bound)
		nic_bound_set_returned(m->nic.bound, nic_calls_returned, m);
	return 0;
}

int manager_start(struct manager *m)
{
	struct kerror ke = { 0 };
	char kbuf[512];
	int r;

	r = start_ipc(m);
	if (r < 0)
		return r;
	m->nic.bound_usec = m->opts.kernel_call_bound_usec;
	if (m->opts.nic_backend.ops)
		r = api_nic_start_backend(&m->nic, m->opts.nic_backend, m->event, m->ipc, m->events,
					  &ke);
	else
		r = api_nic_start(&m->nic, m->event, m->ipc, m->events, &ke);
	if (r < 0)
		return log_errno(LOG_ERR, LOG_SUBSYS_NIC, r, "cannot start the NIC layer: %s",
				 kerror_format(&ke, kbuf, sizeof(kbuf)));
	r = start_attachments(m);
	if (r < 0)
		return r;
	/* An absent vhost_zcrx module is not an error: attachments say so. */
	m->binder.in_scope = nic_in_scope;
	m->binder.in_scope_ud = m->reconcile;
	r = binder_api_start(&m->binder, m->event, m->events, m->nic.monitor,
			     m->opts.binder_vhost, binder_changed, m->reconcile);
	m->opts.binder_vhost = NULL; /* the binder's now */
	if (r < 0)
		return r;
	if (binder_api_backend(&m->binder))
		reconcile_set_binder(m->reconcile, *binder_api_backend(&m->binder));
	r = virt_api_start(&m->virt, m->event, m->ipc, m->events, manager_libvirt_uri(m),
			   m->config.autoattach, api_attach_sink(), &m->attach);
	if (r < 0)
		return log_errno(LOG_ERR, LOG_SUBSYS_VIRT, r, "cannot start following libvirt: %s",
				 strerror(-r));
	m->attach.follow = m->virt.follow;
	/* settle a crash's leftovers, then make the kernel match the state */
	{
		struct reconcile_outcome out = { 0 };
		char ebuf[400];

		if (reconcile_start(m->reconcile, &out) < 0) {
			snprintf(m->start_problem, sizeof(m->start_problem),
				 "the first reconcile failed on %zu NIC(s): %s", out.n_failed_nics,
				 kerror_format(&out.err, ebuf, sizeof(ebuf)));
			log_error(LOG_SUBSYS_MAIN, "%s; serving anyway (the drift timer and "
				  "'zcrxctl reconcile' try again)", m->start_problem);
		}
		reconcile_outcome_clear(&out);
	}
	/* Loading a big state.json left a parse tree's worth of free heap,
	 * and the first run's plans (out keeps none of their ops) their
	 * working arrays: give it back once, here.  Trimmed
	 * inside reconcile_start, before out was cleared, 2.8 MiB of a zcrxd
	 * holding 4,096 attachments on 16 NICs stayed resident until the
	 * first listing (bench-scale's fixture: 8,976 KiB anonymous at rest,
	 * 6,160 KiB trimmed here). */
	(void)malloc_trim(0);
	/* leases of processes that exited meanwhile go; the others are watched */
	api_lease_adopt(&m->lease);
	log_info(LOG_SUBSYS_MAIN, "listening on %s", m->socket_path);
	return 0;
}

int manager_reload(struct manager *m)
{
	struct config next;
	int r;

	log_info(LOG_SUBSYS_CONFIG, "reloading %s", m->opts.config_path);
	(void)sd_notify(0, "RELOADING=1\nSTATUS=Reloading configuration");
	r = load_config(m, &next);
	if (r < 0) {
		m->reload_failures++;
		log_error(LOG_SUBSYS_CONFIG, "new configuration rejected, keeping the old one");
		events_publish(m->events, "config-rejected", NULL);
		(void)sd_notify(0, "READY=1");
		manager_notify_status(m);
		return r;
	}
	config_free(&m->config);
	m->config = next;
	m->reloads++;
	/* a new LibvirtURI (unless --libvirt-uri fixes it) is followed now */
	r = virt_api_set_uri(&m->virt, m->event, manager_libvirt_uri(m), m->config.autoattach,
			     api_attach_sink(), &m->attach);
	if (r < 0)
		log_error(LOG_SUBSYS_VIRT, "cannot follow libvirt at '%s': %s; still at '%s'",
			  manager_libvirt_uri(m) ? manager_libvirt_uri(m) : "none", strerror(-r),
			  m->virt.uri ? m->virt.uri : "none");
	m->attach.follow = m->virt.follow;
	virt_api_set_autoattach(&m->virt, m->config.autoattach);
	if (m->reconcile) {
		reconcile_set_interval(m->reconcile, m->config.reconcile_interval_sec);
		reconcile_config_changed(m->reconcile);
	}
	/* which NICs zcrxd looks after may have changed: the binder's verdicts */
	if (m->nic.monitor)
		nic_monitor_redecorate(m->nic.monitor);
	/* and so what the running domains may have: plan them again */
	virt_follow_reevaluate(m->virt.follow, "configuration reloaded");
	if (m->ipc) {
		struct ipc_limits l = ipc_limits(&m->config);

		ipc_server_set_admin_gid(m->ipc, group_gid(m->config.admin_group));
		ipc_server_set_limits(m->ipc, &l);
	}
	if (m->config.socket_group && m->socket_path &&
	    chown(m->socket_path, (uid_t)-1, group_gid(m->config.socket_group)) < 0)
		log_warning(LOG_SUBSYS_CONFIG, "cannot give %s to group '%s': %s, ignoring",
			    m->socket_path, m->config.socket_group, strerror(errno));
	events_publish(m->events, "config-reloaded", NULL);
	(void)sd_notify(0, "READY=1");
	manager_notify_status(m);
	return 0;
}

void manager_notify_status(struct manager *m)
{
	char buf[1024];

	/* what is in effect: the libvirt followed now, not what is configured */
	snprintf(buf, sizeof(buf), "STATUS=Serving %u connection(s); libvirt %s%s%s",
		 m->ipc ? ipc_server_connection_count(m->ipc) : 0,
		 m->virt.uri ? m->virt.uri : "off", m->start_problem[0] ? "; at start " : "",
		 m->start_problem);
	(void)sd_notify(0, buf);
}

/* ---- io.zcrx.Manager: daemon methods ------------------------------------ */

/* One backend's bounded kernel calls (GetStatus's KernelCalls). */
static json_object *kernel_calls_json(const struct kcall *kc)
{
	struct kcall_stats st = kcall_get_stats(kc);
	struct kcall_stuck stuck;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "backend", json_object_new_string(kcall_name(kc)));
	json_object_object_add(o, "bound_ms", json_object_new_int64(
						      (int64_t)(kcall_bound_usec(kc) / 1000)));
	json_object_object_add(o, "calls", json_object_new_int64((int64_t)st.calls));
	json_object_object_add(o, "overruns", json_object_new_int64((int64_t)st.overruns));
	json_object_object_add(o, "refused", json_object_new_int64((int64_t)st.refused));
	json_object_object_add(o, "max_usec", json_object_new_int64((int64_t)st.max_usec));
	if (kcall_get_stuck(kc, &stuck)) {
		json_object *s = json_object_new_object();

		json_object_object_add(s, "op", json_object_new_string(stuck.op));
		json_object_object_add(s, "object", json_object_new_string(stuck.obj));
		json_object_object_add(s, "for_ms", json_object_new_int64((int64_t)(
			(now_usec(CLOCK_MONOTONIC) - stuck.since_usec) / 1000)));
		json_object_object_add(o, "stuck", s);
	}
	return o;
}

static void method_get_status(struct ipc_call *call, json_object *params, void *userdata)
{
	struct manager *m = userdata;
	static const struct ipc_param spec[] = { IPC_PARAM_END };
	const char *uri = manager_libvirt_uri(m);
	json_object *r, *lv, *files, *calls;
	struct reconcile_commit_sync cs;
	size_t i;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	r = json_object_new_object();
	json_object_object_add(r, "version", json_object_new_string(ZCRX_VERSION));
	json_object_object_add(r, "protocol", json_object_new_int(ZCRX_PROTOCOL));
	json_object_object_add(r, "uptime_usec",
			       json_object_new_int64((int64_t)(now_usec(CLOCK_MONOTONIC) - m->start_usec)));
	lv = virt_api_status_json(&m->virt);
	if (!json_object_object_get(lv, "uri") && uri) /* before start */
		json_object_object_add(lv, "uri", json_object_new_string(uri));
	json_object_object_add(r, "libvirt", lv);
	json_object_object_add(r, "nics", json_object_new_int((int)api_nic_count(&m->nic)));
	json_object_object_add(r, "attachments",
			       json_object_new_int(m->reconcile ? (int)reconcile_count(m->reconcile) : 0));
	json_object_object_add(r, "connections",
			       json_object_new_int((int)ipc_server_connection_count(m->ipc)));
	json_object_object_add(r, "control", ipc_server_status_json(m->ipc));
	json_object_object_add(r, "monitors",
			       json_object_new_int((int)events_subscriber_count(m->events)));
	json_object_object_add(r, "reloads", json_object_new_int64((int64_t)m->reloads));
	json_object_object_add(r, "reload_failures", json_object_new_int64((int64_t)m->reload_failures));
	json_object_object_add(r, "binder", binder_api_status_json(&m->binder));
	calls = json_object_new_array();
	if (api_nic_kcall(&m->nic))
		json_object_array_add(calls, kernel_calls_json(api_nic_kcall(&m->nic)));
	json_object_object_add(r, "kernel_calls", calls);
	if (m->reconcile && reconcile_syncer(m->reconcile))
		json_object_object_add(r, "state_calls",
				       kernel_calls_json(reconcile_syncer(m->reconcile)));
	if (m->reconcile && reconcile_get_commit_sync(m->reconcile, &cs)) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "for_ms", json_object_new_int64((int64_t)(cs.for_usec / 1000)));
		json_object_object_add(o, "bound_ms",
				       json_object_new_int64((int64_t)(cs.bound_usec / 1000)));
		json_object_object_add(o, "waiting", json_object_new_int64((int64_t)cs.waiting));
		json_object_object_add(o, "compaction", json_object_new_boolean(cs.compaction));
		json_object_object_add(r, "commit_sync", o);
	}
	files = json_object_new_array();
	for (i = 0; i < m->config.n_files; i++)
		json_object_array_add(files, json_object_new_string(m->config.files[i]));
	json_object_object_add(r, "config_files", files);
	ipc_reply(call, r);
}

static void method_monitor(struct ipc_call *call, json_object *params, void *userdata)
{
	struct manager *m = userdata;
	static const struct ipc_param spec[] = { IPC_PARAM_END };
	json_object *hello;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	if (!ipc_call_more(call)) {
		ipc_reply_error(call, "org.varlink.service.ExpectedMore", NULL);
		return;
	}
	if (events_subscribe(m->events, call) < 0) {
		ipc_reply_error(call, "io.zcrx.Manager.KernelError", NULL);
		return;
	}
	/* First message: the stream is live, so a client may now trigger events. */
	hello = json_object_new_object();
	json_object_object_add(hello, "type", json_object_new_string("subscribed"));
	json_object_object_add(hello, "timestamp_usec",
			       json_object_new_int64((int64_t)now_usec(CLOCK_REALTIME)));
	{
		json_object *p = json_object_new_object();

		json_object_object_add(p, "event", hello);
		ipc_reply_continues(call, p);
	}
}

static const struct ipc_method manager_methods[] = {
	{ "io.zcrx.Manager.GetStatus", 0, method_get_status },
	{ "io.zcrx.Manager.Monitor", IPC_METHOD_STREAMING, method_monitor },
};

int manager_register_methods(struct manager *m)
{
	int r;

	r = ipc_server_add_methods(m->ipc, manager_methods,
				   sizeof(manager_methods) / sizeof(manager_methods[0]), m);
	if (r < 0)
		return r;
	m->metrics.collect = manager_collect_metrics;
	m->metrics.userdata = m;
	return metrics_register_methods(m->ipc, &m->metrics);
}

int manager_collect_metrics(struct metrics *out, void *userdata)
{
	struct manager *m = userdata;
	struct metrics_sources src = {
		.version = ZCRX_VERSION,
		.uptime_usec = now_usec(CLOCK_MONOTONIC) - m->start_usec,
		.monitor = m->nic.monitor,
		.reconcile = m->reconcile,
		.binder = &m->binder,
	};

	return metrics_collect(out, &src);
}
