// SPDX-License-Identifier: MIT
/*
 * ipc — the Varlink server (ipc.h): listening, accepting within the
 * connection caps, the run queue that takes requests fairly, dispatch and
 * authorization.  Calls on one connection are answered in order; a
 * connection whose call is still open (async reply or a "more" stream)
 * keeps further requests buffered until it ends.
 *
 * No client can stall the loop or starve another: sockets are
 * non-blocking; a connection holds at most one message's worth of input
 * and is not read again before its buffered requests are handled; requests
 * are handled by one low-priority work source, one request per connection
 * in turn (root's and the admins' first), so that every socket event is
 * dispatched between two batches.
 *
 * Must not: talk to the kernel or libvirt.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc-int.h"
#include "log.h"
#include "monotime.h"

#define IPC_MAX_GROUPS 256
/* After every socket event: requests wait while any socket has something. */
#define IPC_WORK_PRIORITY (SD_EVENT_PRIORITY_NORMAL + 10)

static char *xstrdup0(const char *s)
{
	return s ? strdup(s) : NULL;
}

bool ipc_server_log_ok(struct ipc_server *s)
{
	uint64_t now = monotime_usec();

	if (now - s->log_window_us > 10u * 1000000u) {
		if (s->log_suppressed)
			log_warning(LOG_SUBSYS_IPC,
				    "%u more connection(s) refused or closed, not logged "
				    "(zcrxctl status counts them)", s->log_suppressed);
		s->log_window_us = now;
		s->log_lines = 0;
		s->log_suppressed = 0;
	}
	if (s->log_lines < 20) {
		s->log_lines++;
		return true;
	}
	s->log_suppressed++;
	return false;
}

/* ---- the run queue ------------------------------------------------------- */

static void rq_push(struct ipc_rq *q, struct ipc_conn *c)
{
	c->rq_next = NULL;
	if (q->tail)
		q->tail->rq_next = c;
	else
		q->head = c;
	q->tail = c;
	c->in_rq = true;
}

static struct ipc_conn *rq_pop(struct ipc_rq *q)
{
	struct ipc_conn *c = q->head;

	if (!c)
		return NULL;
	q->head = c->rq_next;
	if (!q->head)
		q->tail = NULL;
	c->rq_next = NULL;
	c->in_rq = false;
	return c;
}

void ipc_server_wake(struct ipc_server *s, struct ipc_conn *c)
{
	if (c && !c->in_rq && (ipc_conn_ready(c) || ipc_conn_finished(c)))
		rq_push(c->admin ? &s->rq_admin : &s->rq_user, c);
	if (s->work && (s->rq_admin.head || s->rq_user.head))
		(void)sd_event_source_set_enabled(s->work, SD_EVENT_ONESHOT);
}

/* ---- dispatch ----------------------------------------------------------- */

static const struct ipc_method_entry *find_method(struct ipc_server *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n_methods; i++)
		if (!strcmp(s->methods[i].m.name, name))
			return &s->methods[i];
	return NULL;
}

/* Whether an interface of n bytes named like method's prefix is served. */
static bool interface_known(struct ipc_server *s, const char *method, size_t n)
{
	size_t i;

	for (i = 0; i < s->n_methods; i++)
		if (!strncmp(s->methods[i].m.name, method, n) && s->methods[i].m.name[n] == '.' &&
		    !strchr(s->methods[i].m.name + n + 1, '.'))
			return true;
	return false;
}

static void send_protocol_error(struct ipc_conn *c, const char *why)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "message", json_object_new_string(why));
	(void)ipc_conn_send(c, varlink_error_new("io.zcrx.Manager.ProtocolError", p), false);
}

/* An unknown method: MethodNotFound when its interface is served (whatever
 * the method part looks like: docs/ipc.md), InterfaceNotFound otherwise. */
static void reply_not_found(struct ipc_server *s, struct ipc_call *call, const char *method)
{
	const char *dot = strrchr(method, '.');
	size_t n = dot ? (size_t)(dot - method) : strlen(method);
	json_object *p = json_object_new_object();

	if (dot && interface_known(s, method, n)) {
		json_object_object_add(p, "method", json_object_new_string(method));
		ipc_reply_error(call, "org.varlink.service.MethodNotFound", p);
	} else {
		json_object_object_add(p, "interface", json_object_new_string_len(method, (int)n));
		ipc_reply_error(call, "org.varlink.service.InterfaceNotFound", p);
	}
}

static void dispatch(struct ipc_conn *c, json_object *msg)
{
	struct ipc_server *s = c->server;
	const struct ipc_method_entry *e;
	struct varlink_call vc;
	struct ipc_call *call;
	const char *why = NULL;
	json_object *p;

	if (varlink_call_parse(msg, &vc, &why) < 0) {
		send_protocol_error(c, why);
		return;
	}
	call = ipc_call_new(c, &vc);
	if (!call) {
		ipc_conn_cut(c, IPC_CUT_OUTPUT_BUDGET, "out of memory");
		return;
	}
	c->current = call;

	log_debug(LOG_SUBSYS_IPC, "pid %d uid %u calls %s%s%s", (int)c->pid, (unsigned)c->uid,
		  vc.method, vc.more ? " (more)" : "", vc.oneway ? " (oneway)" : "");

	e = find_method(s, vc.method);
	if (!e) {
		reply_not_found(s, call, vc.method);
		return;
	}
	if ((e->m.flags & IPC_METHOD_MUTATING) && !c->admin) {
		log_notice(LOG_SUBSYS_IPC, "refused %s to pid %d uid %u (not root, not in the admin group)",
			   vc.method, (int)c->pid, (unsigned)c->uid);
		ipc_reply_permission_denied(call);
		return;
	}
	if (vc.more && !(e->m.flags & IPC_METHOD_STREAMING))
		call->more = false; /* answered with a single reply, as Varlink allows */
	if (vc.upgrade) {
		p = json_object_new_object();
		json_object_object_add(p, "method", json_object_new_string(vc.method));
		ipc_reply_error(call, "org.varlink.service.MethodNotImplemented", p);
		return;
	}
	e->m.handler(call, vc.parameters, e->userdata);
}

/* One buffered request of c. */
static void handle_one(struct ipc_conn *c)
{
	json_object *msg = NULL;
	char why[96];
	int r = ipc_conn_next(c, &msg);

	if (r == -EMSGSIZE) {
		snprintf(why, sizeof(why), "message too large (over %zu bytes)", c->rd.max_message);
		ipc_conn_fail(c, IPC_CUT_TOO_LARGE, why);
	} else if (r < 0) {
		log_debug(LOG_SUBSYS_IPC, "pid %d sent an invalid message", (int)c->pid);
		send_protocol_error(c, "not a valid request: invalid JSON, invalid UTF-8 (also "
				       "surrogates, overlong forms, code points over U+10FFFF), "
				       "\\u0000, or not a JSON object");
	} else if (r > 0) {
		dispatch(c, msg);
		json_object_put(msg);
	}
}

/* The run queue: a batch of requests, one per connection in turn, root's
 * and the admins' first; then the loop looks at the sockets again. */
static int on_work(sd_event_source *src, void *userdata)
{
	struct ipc_server *s = userdata;
	uint64_t start = monotime_usec();
	unsigned handled = 0;

	while (handled < IPC_BATCH && (!handled || monotime_usec() - start < IPC_BATCH_USEC)) {
		struct ipc_conn *c = rq_pop(&s->rq_admin);

		if (!c)
			c = rq_pop(&s->rq_user);
		if (!c)
			break;
		if (ipc_conn_finished(c)) {
			ipc_conn_free(c);
			continue;
		}
		if (!ipc_conn_ready(c))
			continue; /* it is queued again when it is */
		handle_one(c);
		handled++;
		ipc_conn_update(c);
	}
	ipc_server_wake(s, NULL);
	return 0;
}

/* ---- accepting ----------------------------------------------------------- */

static bool peer_in_group(int fd, gid_t gid, gid_t primary)
{
	gid_t groups[IPC_MAX_GROUPS];
	socklen_t len = sizeof(groups);
	size_t i;

	if (gid == (gid_t)-1)
		return false;
	if (primary == gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return true;
	return false;
}

static unsigned count_uid(const struct ipc_server *s, uid_t uid)
{
	const struct ipc_conn *c;
	unsigned n = 0;

	for (c = s->conns; c; c = c->next)
		n += c->uid == uid;
	return n;
}

/* Why a new connection of cred may not be served, or NULL. */
static const char *refusal(struct ipc_server *s, const struct ucred *cred, bool admin, char *buf,
			   size_t size)
{
	const struct ipc_limits *l = &s->limits;

	if (s->n_conns >= l->max_connections) {
		s->stats.refused_full++;
		snprintf(buf, size, "connection limit reached (%u connections)", l->max_connections);
		return buf;
	}
	if (!admin && s->n_conns + l->reserved >= l->max_connections) {
		s->stats.refused_reserved++;
		snprintf(buf, size,
			 "connection limit reached (the last %u of %u connections are kept for root "
			 "and AdminGroup)", l->reserved, l->max_connections);
		return buf;
	}
	if (cred->uid != 0 && l->max_per_user && count_uid(s, cred->uid) >= l->max_per_user) {
		s->stats.refused_per_user++;
		snprintf(buf, size, "connection limit for uid %u reached (%u connections)",
			 (unsigned)cred->uid, l->max_per_user);
		return buf;
	}
	return NULL;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct ipc_server *s = userdata;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ipc_conn *c;
	const char *why;
	char buf[160];
	bool admin;
	int cfd, r;

	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warning(LOG_SUBSYS_IPC, "accept: %s, ignoring", strerror(errno));
		return 0;
	}
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		close(cfd);
		return 0;
	}
	admin = cred.uid == 0 || peer_in_group(cfd, s->admin_gid, cred.gid);
	why = refusal(s, &cred, admin, buf, sizeof(buf));
	if (why) {
		json_object *p = json_object_new_object(), *m;
		char *out;
		size_t n;

		json_object_object_add(p, "message", json_object_new_string(why));
		m = varlink_error_new("io.zcrx.Manager.TooManyConnections", p);
		if (m && varlink_encode(m, &out, &n) == 0) {
			(void)!send(cfd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			free(out);
		}
		json_object_put(m);
		if (ipc_server_log_ok(s))
			log_warning(LOG_SUBSYS_IPC, "refused a connection of pid %d uid %u: %s",
				    (int)cred.pid, (unsigned)cred.uid, why);
		close(cfd);
		return 0;
	}
	r = ipc_conn_new(s, cfd, &cred, admin, &c);
	if (r < 0) {
		log_warning(LOG_SUBSYS_IPC, "cannot watch connection: %s", strerror(-r));
		return 0;
	}
	s->stats.accepted++;
	log_debug(LOG_SUBSYS_IPC, "connection from pid %d uid %u%s (%u open)", (int)cred.pid,
		  (unsigned)cred.uid, admin ? " (admin)" : "", s->n_conns);
	return 0;
}

/* ---- server ------------------------------------------------------------- */

static int server_setup(struct ipc_server *s, sd_event *ev, int fd, const struct ipc_server_config *cfg)
{
	int r;

	s->ev = sd_event_ref(ev);
	s->fd = fd;
	ipc_server_set_limits(s, &cfg->limits);
	s->admin_gid = cfg->admin_gid;
	s->description = xstrdup0(cfg->interface_description);
	s->vendor = xstrdup0(cfg->vendor);
	s->product = xstrdup0(cfg->product);
	s->version = xstrdup0(cfg->version);
	s->url = xstrdup0(cfg->url);
	r = sd_event_add_io(ev, &s->listen, fd, EPOLLIN, on_accept, s);
	if (r >= 0)
		r = sd_event_add_defer(ev, &s->work, on_work, s);
	if (r >= 0)
		r = sd_event_source_set_priority(s->work, IPC_WORK_PRIORITY);
	if (r >= 0)
		r = sd_event_source_set_enabled(s->work, SD_EVENT_OFF);
	if (r < 0)
		return r;
	return ipc_service_register(s);
}

int ipc_server_new_from_fd(sd_event *ev, int fd, const struct ipc_server_config *cfg,
			   struct ipc_server **ret)
{
	struct ipc_server *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	r = server_setup(s, ev, fd, cfg);
	if (r < 0) {
		s->fd = -1;
		ipc_server_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int ipc_server_new(sd_event *ev, const struct ipc_server_config *cfg, struct ipc_server **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ipc_server *s;
	mode_t old;
	int fd, r;

	if (strlen(cfg->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, cfg->path, strlen(cfg->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A stale socket from a crashed daemon: replace it, but never steal a live one. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		return -EADDRINUSE;
	}
	(void)unlink(cfg->path);
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if ((cfg->socket_gid != (gid_t)-1 && chown(cfg->path, (uid_t)-1, cfg->socket_gid) < 0) ||
	    chmod(cfg->path, cfg->socket_mode ? cfg->socket_mode : 0660) < 0 || listen(fd, 64) < 0) {
		r = -errno;
		unlink(cfg->path);
		close(fd);
		return r;
	}
	r = ipc_server_new_from_fd(ev, fd, cfg, &s);
	if (r < 0) {
		unlink(cfg->path);
		return r;
	}
	s->path = strdup(cfg->path);
	s->unlink_on_free = true;
	*ret = s;
	return 0;
}

struct ipc_server *ipc_server_free(struct ipc_server *s)
{
	if (!s)
		return NULL;
	while (s->conns)
		ipc_conn_free(s->conns);
	sd_event_source_disable_unref(s->listen);
	sd_event_source_disable_unref(s->work);
	if (s->fd >= 0)
		close(s->fd);
	if (s->unlink_on_free && s->path)
		unlink(s->path);
	free(s->path);
	free(s->methods);
	free(s->description);
	free(s->vendor);
	free(s->product);
	free(s->version);
	free(s->url);
	sd_event_unref(s->ev);
	free(s);
	return NULL;
}

int ipc_server_add_methods(struct ipc_server *s, const struct ipc_method *methods, size_t n,
			   void *userdata)
{
	struct ipc_method_entry *v;
	size_t i;

	for (i = 0; i < n; i++)
		if (find_method(s, methods[i].name))
			return -EEXIST;
	v = realloc(s->methods, (s->n_methods + n) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->methods = v;
	for (i = 0; i < n; i++) {
		v[s->n_methods + i].m = methods[i];
		v[s->n_methods + i].userdata = userdata;
	}
	s->n_methods += n;
	return 0;
}

void ipc_server_set_admin_gid(struct ipc_server *s, gid_t gid)
{
	struct ipc_conn *c;

	s->admin_gid = gid;
	for (c = s->conns; c; c = c->next) {
		c->admin = c->uid == 0 || peer_in_group(c->fd, gid, c->gid);
		c->rd.max_message = ipc_conn_max_message(c);
	}
}

void ipc_server_set_limits(struct ipc_server *s, const struct ipc_limits *limits)
{
	struct ipc_conn *c;

	s->limits = *limits;
	if (!s->limits.max_message)
		s->limits.max_message = IPC_MESSAGE_MAX;
	if (!s->limits.max_connections)
		s->limits.max_connections = 64;
	if (s->limits.reserved >= s->limits.max_connections)
		s->limits.reserved = s->limits.max_connections - 1;
	for (c = s->conns; c; c = c->next) {
		c->rd.max_message = ipc_conn_max_message(c);
		c->timer_at = UINT64_MAX; /* re-arm with the new timeouts */
		ipc_conn_update(c);
	}
}

void ipc_server_get_stats(const struct ipc_server *s, struct ipc_stats *ret)
{
	const struct ipc_conn *c;

	*ret = s->stats;
	ret->connections = s->n_conns;
	ret->admin_connections = 0;
	for (c = s->conns; c; c = c->next)
		ret->admin_connections += c->admin;
	ret->output_bytes = s->out_total;
}

json_object *ipc_server_status_json(const struct ipc_server *s)
{
	const struct ipc_limits *l = &s->limits;
	json_object *o = json_object_new_object(), *cut = json_object_new_object();
	struct ipc_stats st;
	unsigned i;

	ipc_server_get_stats(s, &st);
#define ADD(k, v) json_object_object_add(o, k, json_object_new_int64((int64_t)(v)))
	ADD("connections", st.connections);
	ADD("admin_connections", st.admin_connections);
	ADD("max_connections", l->max_connections);
	ADD("max_connections_per_user", l->max_per_user);
	ADD("reserved_connections", l->reserved);
	ADD("read_timeout_usec", l->read_timeout_us);
	ADD("write_timeout_usec", l->write_timeout_us);
	ADD("idle_timeout_usec", l->idle_timeout_us);
	ADD("output_bytes", st.output_bytes);
	ADD("output_max_bytes", IPC_OUTPUT_TOTAL_MAX);
	ADD("accepted", st.accepted);
	ADD("refused_full", st.refused_full);
	ADD("refused_reserved", st.refused_reserved);
	ADD("refused_per_user", st.refused_per_user);
#undef ADD
	for (i = 0; i < _IPC_CUT_MAX; i++)
		json_object_object_add(cut, ipc_cut_name(i), json_object_new_int64((int64_t)st.cut[i]));
	json_object_object_add(o, "closed", cut);
	return o;
}

unsigned ipc_server_connection_count(const struct ipc_server *s)
{
	return s->n_conns;
}
