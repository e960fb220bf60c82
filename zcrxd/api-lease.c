// SPDX-License-Identifier: MIT
/*
 * api-lease — the lease methods and the owner watches (api-lease.h).
 * Must not: plan or talk to the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "api-attach.h"
#include "api-lease.h"
#include "ipc.h"
#include "log.h"

struct api_lease_watch {
	uint32_t id;
	pid_t pid;
	int fd;
	sd_event_source *src;
	struct api_lease *owner;
};

/* --- owner processes ---------------------------------------------------------------- */

int api_lease_pid_start(pid_t pid, uint64_t *ret)
{
	char path[64], buf[1024], *p;
	unsigned long long start;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	/* the name (field 2) may hold anything: fields count from its ')' */
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p++;
	for (i = 3; i < 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", &start) != 1)
		return -EINVAL;
	*ret = start;
	return 0;
}

static void watch_drop(struct api_lease *l, size_t i)
{
	sd_event_source_disable_unref(l->watch[i].src);
	if (l->watch[i].fd >= 0)
		close(l->watch[i].fd);
	memmove(&l->watch[i], &l->watch[i + 1], (l->n_watch - i - 1) * sizeof(*l->watch));
	l->n_watch--;
}

static void watch_forget(struct api_lease *l, uint32_t id)
{
	size_t i;

	for (i = l->n_watch; i-- > 0;)
		if (l->watch[i].id == id)
			watch_drop(l, i);
}

static void release(struct api_lease *l, uint32_t id, const char *why)
{
	struct reconcile_outcome out = { 0 };
	char key[16];

	snprintf(key, sizeof(key), "%u", id);
	if (reconcile_find_lease(l->rc, key))
		(void)reconcile_unlease(l->rc, key, why, &out, NULL);
	reconcile_outcome_clear(&out);
}

static int on_owner_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct api_lease_watch *w = userdata;
	struct api_lease *l = w->owner;
	uint32_t id = w->id;
	char why[64];

	snprintf(why, sizeof(why), "owner process %d exited", (int)w->pid);
	watch_forget(l, id); /* w is gone after this */
	release(l, id, why);
	return 0;
}

/* Watch pid for lease id; -errno (-ESRCH: it is gone already). */
static int watch_add(struct api_lease *l, uint32_t id, pid_t pid)
{
	struct api_lease_watch *v, *w;
	int fd, r;
	size_t i;

	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	v = realloc(l->watch, (l->n_watch + 1) * sizeof(*v));
	if (!v) {
		close(fd);
		return -ENOMEM;
	}
	l->watch = v;
	/* sources point at their entry: re-point them after the move */
	for (i = 0; i < l->n_watch; i++)
		sd_event_source_set_userdata(l->watch[i].src, &l->watch[i]);
	w = &l->watch[l->n_watch];
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->pid = pid;
	w->fd = fd;
	w->owner = l;
	r = sd_event_add_io(l->event, &w->src, fd, EPOLLIN, on_owner_exit, w);
	if (r < 0) {
		close(fd);
		return r;
	}
	l->n_watch++;
	return 0;
}

void api_lease_adopt(struct api_lease *l)
{
	struct reconcile_lease_owner v[256];
	size_t n = reconcile_lease_owners(l->rc, v, 256), i;

	if (n > 256) {
		log_warning(LOG_SUBSYS_MANAGER, "%zu process-owned leases; watching the first 256",
			    n);
		n = 256;
	}
	for (i = 0; i < n; i++) {
		uint64_t start;
		char why[96];

		if (api_lease_pid_start(v[i].pid, &start) < 0 || start != v[i].pid_start) {
			snprintf(why, sizeof(why), "owner process %d exited while zcrxd was down",
				 (int)v[i].pid);
			release(l, v[i].id, why);
			continue;
		}
		if (watch_add(l, v[i].id, v[i].pid) < 0) {
			snprintf(why, sizeof(why), "owner process %d cannot be watched", (int)v[i].pid);
			release(l, v[i].id, why);
		}
	}
}

void api_lease_stop(struct api_lease *l)
{
	while (l->n_watch)
		watch_drop(l, l->n_watch - 1);
	free(l->watch);
	l->watch = NULL;
}

/* --- replies -------------------------------------------------------------------------- */

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

static void reply_error(struct api_lease *l, struct ipc_call *call,
			const struct reconcile_outcome *o, int r)
{
	const char *name = o->error_name ? o->error_name : "io.zcrx.Manager.KernelError";
	const struct kerror *e = &o->err;
	json_object *p;
	char msg[512];

	if (!strcmp(name, "org.varlink.service.InvalidParameter")) {
		ipc_reply_invalid_parameter(call, e->msg[0] ? e->msg : "parameters");
		return;
	}
	p = json_object_new_object();
	kerror_format(e, msg, sizeof(msg));
	if (!strcmp(name, "io.zcrx.Manager.KernelError")) {
		add(p, "errno", json_object_new_int(e->err ? e->err : -r));
	} else if (!strcmp(name, "io.zcrx.Manager.NoSuchLease")) {
		add(p, "lease", json_object_new_string(o->lease));
		api_attach_reply_durable(l->rc, call, name, p);
		return;
	} else if (!strcmp(name, "io.zcrx.Manager.InvalidFlow")) {
		/* message only */
	} else {
		add(p, "nic", json_object_new_string(e->obj));
		if (!strcmp(name, "io.zcrx.Manager.FlowInUse"))
			add(p, "lease", json_object_new_string(o->lease));
		if (!strcmp(name, "io.zcrx.Manager.NicUnsupported"))
			add(p, "capability", json_object_new_string(e->op));
	}
	add(p, "message", json_object_new_string(e->msg[0] ? e->msg : msg));
	api_attach_reply_durable(l->rc, call, name, p);
}

/* Once what the request changed is durable (group commit). */
static void reply_lease(struct api_lease *l, struct ipc_call *call, const struct attach *a)
{
	json_object *r = json_object_new_object();

	add(r, "lease", reconcile_lease_json(a));
	api_attach_reply_durable(l->rc, call, NULL, r);
}

/* --- methods ---------------------------------------------------------------------------- */

static void method_lease(struct ipc_call *call, json_object *params, void *userdata)
{
	struct api_lease *l = userdata;
	const char *nic = NULL, *name = NULL, *owner = NULL;
	json_object *flow = NULL;
	int64_t queues = 1;
	bool has_queues = false;
	const struct ipc_param spec[] = {
		{ "nic", IPC_PARAM_STRING, true, &nic, NULL },
		{ "flow", IPC_PARAM_OBJECT, true, &flow, NULL },
		{ "queues", IPC_PARAM_INT, false, &queues, &has_queues },
		{ "name", IPC_PARAM_STRING, false, &name, NULL },
		{ "owner", IPC_PARAM_STRING, false, &owner, NULL },
		IPC_PARAM_END,
	};
	struct reconcile_outcome out = { 0 };
	struct reconcile_lease_req req = { 0 };
	struct attach a;
	int r;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	if (queues < 1 || queues > ATTACH_QUEUES_MAX) {
		ipc_reply_invalid_parameter(call, "queues");
		return;
	}
	if (strlen(nic) >= IF_NAMESIZE) {
		ipc_reply_invalid_parameter(call, "nic");
		return;
	}
	if (owner && strcmp(owner, "process") && strcmp(owner, "name")) {
		ipc_reply_invalid_parameter(call, "owner");
		return;
	}
	if (flow_from_json(flow, &req.flow, &out.err) < 0) {
		out.error_name = "io.zcrx.Manager.InvalidFlow";
		reply_error(l, call, &out, -EINVAL);
		return;
	}
	req.nic = nic;
	req.queues = (uint32_t)queues;
	req.name = name;
	if (owner && !strcmp(owner, "process")) {
		uint64_t again;

		req.pid = ipc_call_pid(call);
		if (req.pid <= 0 || api_lease_pid_start(req.pid, &req.pid_start) < 0) {
			ipc_reply_invalid_parameter(call, "owner");
			return;
		}
		/* the pid names this process only while its start time holds */
		if (api_lease_pid_start(req.pid, &again) < 0 || again != req.pid_start) {
			ipc_reply_invalid_parameter(call, "owner");
			return;
		}
	}
	attach_init(&a);
	r = reconcile_lease(l->rc, &req, &out, &a);
	if (r < 0) {
		reply_error(l, call, &out, r);
	} else if (req.pid && (r = watch_add(l, a.id.lease.id, req.pid)) < 0) {
		/* the owner is gone already (or cannot be held): no lease */
		char why[96];

		snprintf(why, sizeof(why), "owner process %d cannot be watched: %s", (int)req.pid,
			 strerror(-r));
		release(l, a.id.lease.id, why);
		out.error_name = "org.varlink.service.InvalidParameter";
		snprintf(out.err.msg, sizeof(out.err.msg), "owner");
		reply_error(l, call, &out, r);
	} else {
		reply_lease(l, call, &a);
	}
	attach_clear(&a);
	reconcile_outcome_clear(&out);
}

static void method_release_lease(struct ipc_call *call, json_object *params, void *userdata)
{
	struct api_lease *l = userdata;
	const char *lease = NULL;
	const struct ipc_param spec[] = {
		{ "lease", IPC_PARAM_STRING, true, &lease, NULL },
		IPC_PARAM_END,
	};
	struct reconcile_outcome out = { 0 };
	struct attach a;
	uint32_t id = 0;
	char why[64];
	int r;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	if (reconcile_find_lease(l->rc, lease))
		id = reconcile_find_lease(l->rc, lease)->id.lease.id;
	snprintf(why, sizeof(why), "released by pid %d", (int)ipc_call_pid(call));
	attach_init(&a);
	r = reconcile_unlease(l->rc, lease, why, &out, &a);
	if (id)
		watch_forget(l, id);
	if (r < 0) /* no such lease, or released but restoring the NIC failed */
		reply_error(l, call, &out, r);
	else
		reply_lease(l, call, &a);
	attach_clear(&a);
	reconcile_outcome_clear(&out);
}

static void method_list_leases(struct ipc_call *call, json_object *params, void *userdata)
{
	struct api_lease *l = userdata;
	const char *nic = NULL;
	const struct ipc_param spec[] = {
		{ "nic", IPC_PARAM_STRING, false, &nic, NULL },
		IPC_PARAM_END,
	};
	json_object *r;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	r = json_object_new_object();
	add(r, "leases", reconcile_leases_json(l->rc, nic));
	ipc_reply(call, r);
}

static const struct ipc_method methods[] = {
	{ "io.zcrx.Manager.Lease", IPC_METHOD_MUTATING, method_lease },
	{ "io.zcrx.Manager.ReleaseLease", IPC_METHOD_MUTATING, method_release_lease },
	{ "io.zcrx.Manager.ListLeases", 0, method_list_leases },
};

int api_lease_register(struct api_lease *l, struct ipc_server *ipc)
{
	return ipc_server_add_methods(ipc, methods, sizeof(methods) / sizeof(methods[0]), l);
}
