// SPDX-License-Identifier: MIT
/*
 * ipc — the Varlink server.
 *
 * Owns: the listening socket, connections and their buffers, limits, the
 * org.varlink.service interface, authorization (SO_PEERCRED) and dispatch to
 * registered methods.  Calls on one connection are answered in order; a
 * connection whose call is still open (async reply or a "more" stream) keeps
 * further requests buffered until it ends.  No client can stall the loop:
 * sockets are non-blocking, every partial message has a read deadline, and
 * each dispatch round handles a bounded number of messages per connection.
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
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "varlink.h"

#define IPC_MAX_OUTPUT (16u * 1024 * 1024) /* queued replies before we give up on a reader */
#define IPC_MESSAGES_PER_ROUND 16
#define IPC_READ_CHUNK 65536
#define IPC_MAX_GROUPS 256

struct ipc_method_entry {
	struct ipc_method m;
	void *userdata;
};

struct ipc_conn;

struct ipc_call {
	unsigned ref;
	struct ipc_conn *conn; /* NULL once the peer is gone */
	char *method;
	bool more, oneway, done;
	void (*on_disconnect)(struct ipc_call *, void *);
	void *on_disconnect_data;
};

struct ipc_conn {
	struct ipc_server *server;
	struct ipc_conn *prev, *next;
	int fd;
	sd_event_source *io, *deadline, *defer;
	struct varlink_reader rd;
	char *out;
	size_t out_len, out_cap, out_off;
	bool eof, closing, dead;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool admin;
	struct ipc_call *current;
};

struct ipc_server {
	sd_event *ev;
	int fd;
	bool unlink_on_free;
	char *path;
	sd_event_source *listen;
	struct ipc_limits limits;
	gid_t admin_gid;
	char *description;
	char *vendor, *product, *version, *url;
	struct ipc_method_entry *methods;
	size_t n_methods;
	struct ipc_conn *conns;
	unsigned n_conns;
};

static void conn_free(struct ipc_conn *c);
static void conn_schedule(struct ipc_conn *c);

/* ---- small helpers ------------------------------------------------------ */

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static char *xstrdup0(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* ---- output ------------------------------------------------------------- */

static int conn_update_events(struct ipc_conn *c)
{
	uint32_t ev = 0;

	if (c->dead)
		return 0;
	/* Stop reading while a large backlog of requests waits behind an open call.
	 * After EOF, EPOLLHUP/EPOLLERR still arrive without being asked for. */
	if (!c->eof && !c->closing) {
		ev |= EPOLLRDHUP;
		if ((c->rd.len - c->rd.start) <= c->server->limits.max_message)
			ev |= EPOLLIN;
	}
	if (c->out_len > c->out_off)
		ev |= EPOLLOUT;
	return sd_event_source_set_io_events(c->io, ev);
}

static void conn_flush(struct ipc_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		/* peer gone */
		c->dead = true;
		return;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
}

static int conn_send(struct ipc_conn *c, json_object *msg)
{
	size_t len;
	char *buf;
	int r;

	r = varlink_encode(msg, &buf, &len);
	json_object_put(msg);
	if (r < 0)
		return r;
	if (c->out_len - c->out_off + len > IPC_MAX_OUTPUT) {
		log_warning(LOG_SUBSYS_IPC, "client pid %d does not read its replies, disconnecting",
			    (int)c->pid);
		free(buf);
		c->dead = true;
		conn_schedule(c);
		return -ENOBUFS;
	}
	if (c->out_cap - c->out_len < len) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		if (c->out_off) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (cap - c->out_len < len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p) {
			free(buf);
			return -ENOMEM;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	free(buf);
	conn_flush(c);
	conn_update_events(c);
	if (c->dead)
		conn_schedule(c);
	return 0;
}

/* ---- calls -------------------------------------------------------------- */

struct ipc_call *ipc_call_ref(struct ipc_call *call)
{
	if (call)
		call->ref++;
	return call;
}

struct ipc_call *ipc_call_unref(struct ipc_call *call)
{
	if (!call || --call->ref > 0)
		return NULL;
	free(call->method);
	free(call);
	return NULL;
}

const char *ipc_call_method(const struct ipc_call *call)
{
	return call->method;
}

bool ipc_call_more(const struct ipc_call *call)
{
	return call->more;
}

bool ipc_call_oneway(const struct ipc_call *call)
{
	return call->oneway;
}

uid_t ipc_call_uid(const struct ipc_call *call)
{
	return call->conn ? call->conn->uid : (uid_t)-1;
}

pid_t ipc_call_pid(const struct ipc_call *call)
{
	return call->conn ? call->conn->pid : 0;
}

bool ipc_call_is_admin(const struct ipc_call *call)
{
	return call->conn && call->conn->admin;
}

bool ipc_call_disconnected(const struct ipc_call *call)
{
	return !call->conn || call->conn->dead;
}

void ipc_call_set_disconnect_handler(struct ipc_call *call, void (*fn)(struct ipc_call *, void *),
				     void *userdata)
{
	call->on_disconnect = fn;
	call->on_disconnect_data = userdata;
}

/* The call is answered: let the connection go on with the next request. */
static void call_finish(struct ipc_call *call)
{
	struct ipc_conn *c = call->conn;

	call->done = true;
	if (c && c->current == call) {
		c->current = NULL;
		ipc_call_unref(call);
		conn_update_events(c);
		conn_schedule(c);
	}
}

static int call_send(struct ipc_call *call, json_object *msg, bool final)
{
	int r = 0;

	if (call->done) {
		json_object_put(msg);
		return -EALREADY;
	}
	if (!call->conn || call->oneway || call->conn->dead)
		json_object_put(msg);
	else
		r = conn_send(call->conn, msg);
	if (final)
		call_finish(call);
	return r;
}

int ipc_reply(struct ipc_call *call, json_object *params)
{
	json_object *msg = varlink_reply_new(params, false);

	if (!msg)
		return -ENOMEM;
	return call_send(call, msg, true);
}

int ipc_reply_continues(struct ipc_call *call, json_object *params)
{
	json_object *msg;

	if (!call->more) {
		json_object_put(params);
		return -EINVAL;
	}
	msg = varlink_reply_new(params, true);
	if (!msg)
		return -ENOMEM;
	return call_send(call, msg, false);
}

int ipc_reply_error(struct ipc_call *call, const char *error, json_object *params)
{
	json_object *msg = varlink_error_new(error, params);

	if (!msg)
		return -ENOMEM;
	return call_send(call, msg, true);
}

int ipc_reply_invalid_parameter(struct ipc_call *call, const char *name)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "parameter", json_object_new_string(name));
	return ipc_reply_error(call, "org.varlink.service.InvalidParameter", p);
}

int ipc_reply_permission_denied(struct ipc_call *call)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "message",
			       json_object_new_string("this method needs root or the admin group"));
	return ipc_reply_error(call, "io.zcrx.Manager.PermissionDenied", p);
}

static bool type_ok(json_object *v, enum ipc_param_type t)
{
	switch (t) {
	case IPC_PARAM_STRING: return json_object_is_type(v, json_type_string);
	case IPC_PARAM_INT: return json_object_is_type(v, json_type_int);
	case IPC_PARAM_BOOL: return json_object_is_type(v, json_type_boolean);
	case IPC_PARAM_OBJECT: return json_object_is_type(v, json_type_object);
	case IPC_PARAM_ARRAY: return json_object_is_type(v, json_type_array);
	}
	return false;
}

int ipc_params_parse(struct ipc_call *call, json_object *params, const struct ipc_param *spec)
{
	const struct ipc_param *p;

	if (params) {
		json_object_object_foreach(params, key, val) {
			(void)val;
			for (p = spec; p->name; p++)
				if (!strcmp(p->name, key))
					break;
			if (!p->name) {
				ipc_reply_invalid_parameter(call, key);
				return -EINVAL;
			}
		}
	}
	for (p = spec; p->name; p++) {
		json_object *v = NULL;
		bool have = params && json_object_object_get_ex(params, p->name, &v) &&
			    !json_object_is_type(v, json_type_null);

		if (p->present)
			*p->present = have;
		if (!have) {
			if (p->required) {
				ipc_reply_invalid_parameter(call, p->name);
				return -EINVAL;
			}
			continue;
		}
		if (!type_ok(v, p->type)) {
			ipc_reply_invalid_parameter(call, p->name);
			return -EINVAL;
		}
		if (!p->out)
			continue;
		switch (p->type) {
		case IPC_PARAM_STRING: *(const char **)p->out = json_object_get_string(v); break;
		case IPC_PARAM_INT: *(int64_t *)p->out = json_object_get_int64(v); break;
		case IPC_PARAM_BOOL: *(bool *)p->out = json_object_get_boolean(v); break;
		case IPC_PARAM_OBJECT:
		case IPC_PARAM_ARRAY: *(json_object **)p->out = v; break;
		}
	}
	return 0;
}

/* ---- org.varlink.service ------------------------------------------------ */

static void service_get_info(struct ipc_call *call, json_object *params, void *userdata)
{
	struct ipc_server *s = userdata;
	json_object *r, *ifs;
	static const struct ipc_param spec[] = { IPC_PARAM_END };

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	r = json_object_new_object();
	ifs = json_object_new_array();
	json_object_array_add(ifs, json_object_new_string("org.varlink.service"));
	json_object_array_add(ifs, json_object_new_string("io.zcrx.Manager"));
	json_object_object_add(r, "vendor", json_object_new_string(s->vendor ? s->vendor : ""));
	json_object_object_add(r, "product", json_object_new_string(s->product ? s->product : ""));
	json_object_object_add(r, "version", json_object_new_string(s->version ? s->version : ""));
	json_object_object_add(r, "url", json_object_new_string(s->url ? s->url : ""));
	json_object_object_add(r, "interfaces", ifs);
	ipc_reply(call, r);
}

static const char service_description[] =
	"# The Varlink Service Interface is provided by every varlink service. It\n"
	"# describes the service and the interfaces it implements.\n"
	"interface org.varlink.service\n"
	"\n"
	"method GetInfo() -> (\n"
	"  vendor: string,\n"
	"  product: string,\n"
	"  version: string,\n"
	"  url: string,\n"
	"  interfaces: []string\n"
	")\n"
	"\n"
	"method GetInterfaceDescription(interface: string) -> (description: string)\n"
	"\n"
	"error InterfaceNotFound (interface: string)\n"
	"error MethodNotFound (method: string)\n"
	"error MethodNotImplemented (method: string)\n"
	"error InvalidParameter (parameter: string)\n"
	"error PermissionDenied ()\n"
	"error ExpectedMore ()\n";

static void service_get_description(struct ipc_call *call, json_object *params, void *userdata)
{
	struct ipc_server *s = userdata;
	const char *name = NULL, *text = NULL;
	const struct ipc_param spec[] = {
		{ "interface", IPC_PARAM_STRING, true, &name, NULL },
		IPC_PARAM_END,
	};
	json_object *r;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	if (!strcmp(name, "org.varlink.service"))
		text = service_description;
	else if (!strcmp(name, "io.zcrx.Manager") && s->description)
		text = s->description;
	if (!text) {
		r = json_object_new_object();
		json_object_object_add(r, "interface", json_object_new_string(name));
		ipc_reply_error(call, "org.varlink.service.InterfaceNotFound", r);
		return;
	}
	r = json_object_new_object();
	json_object_object_add(r, "description", json_object_new_string(text));
	ipc_reply(call, r);
}

static const struct ipc_method service_methods[] = {
	{ "org.varlink.service.GetInfo", 0, service_get_info },
	{ "org.varlink.service.GetInterfaceDescription", 0, service_get_description },
};

/* ---- dispatch ----------------------------------------------------------- */

static const struct ipc_method_entry *find_method(struct ipc_server *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n_methods; i++)
		if (!strcmp(s->methods[i].m.name, name))
			return &s->methods[i];
	return NULL;
}

static bool interface_known(struct ipc_server *s, const char *method)
{
	const char *dot = strrchr(method, '.');
	size_t i, n = dot ? (size_t)(dot - method) : 0;

	for (i = 0; i < s->n_methods; i++)
		if (!strncmp(s->methods[i].m.name, method, n) && s->methods[i].m.name[n] == '.')
			return true;
	return false;
}

static void send_protocol_error(struct ipc_conn *c, const char *why)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "message", json_object_new_string(why));
	conn_send(c, varlink_error_new("io.zcrx.Manager.ProtocolError", p));
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
	call = calloc(1, sizeof(*call));
	if (!call || !(call->method = strdup(vc.method))) {
		free(call);
		c->dead = true;
		return;
	}
	call->ref = 1;
	call->conn = c;
	call->more = vc.more;
	call->oneway = vc.oneway;
	c->current = call;

	log_debug(LOG_SUBSYS_IPC, "pid %d uid %u calls %s%s%s", (int)c->pid, (unsigned)c->uid,
		  vc.method, vc.more ? " (more)" : "", vc.oneway ? " (oneway)" : "");

	e = find_method(s, vc.method);
	if (!e) {
		p = json_object_new_object();
		if (!varlink_method_name_valid(vc.method) || !interface_known(s, vc.method)) {
			const char *dot = strrchr(vc.method, '.');

			json_object_object_add(p, "interface",
					       json_object_new_string_len(vc.method,
									  dot ? (int)(dot - vc.method) : (int)strlen(vc.method)));
			ipc_reply_error(call, "org.varlink.service.InterfaceNotFound", p);
		} else {
			json_object_object_add(p, "method", json_object_new_string(vc.method));
			ipc_reply_error(call, "org.varlink.service.MethodNotFound", p);
		}
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

/* Handle buffered requests, a bounded number per round. */
static void conn_process(struct ipc_conn *c)
{
	int i;

	for (i = 0; i < IPC_MESSAGES_PER_ROUND && !c->current && !c->dead && !c->closing; i++) {
		json_object *msg = NULL;
		int r = varlink_reader_next(&c->rd, &msg);

		if (r == 0)
			break;
		if (r == -EMSGSIZE) {
			log_warning(LOG_SUBSYS_IPC, "pid %d sent a message over %zu bytes, disconnecting",
				    (int)c->pid, c->server->limits.max_message);
			send_protocol_error(c, "message too large");
			c->closing = true;
			break;
		}
		if (r < 0) {
			log_debug(LOG_SUBSYS_IPC, "pid %d sent an invalid message", (int)c->pid);
			send_protocol_error(c, "invalid JSON or UTF-8, or not a JSON object");
			continue;
		}
		dispatch(c, msg);
		json_object_put(msg);
	}
}

static int on_deadline(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct ipc_conn *c = userdata;

	log_warning(LOG_SUBSYS_IPC, "pid %d did not complete its message in time, disconnecting",
		    (int)c->pid);
	send_protocol_error(c, "read deadline exceeded");
	c->closing = true;
	conn_schedule(c);
	return 0;
}

static bool conn_has_complete(const struct ipc_conn *c)
{
	return varlink_reader_has_partial(&c->rd) &&
	       memchr(c->rd.buf + c->rd.start, '\0', c->rd.len - c->rd.start);
}

/* Arm the read deadline while part of a message is buffered. */
static void conn_arm_deadline(struct ipc_conn *c)
{
	bool partial = varlink_reader_has_partial(&c->rd) && !conn_has_complete(c);
	int on = SD_EVENT_OFF;

	if (!c->server->limits.read_deadline_us)
		return;
	(void)sd_event_source_get_enabled(c->deadline, &on);
	if (partial && on == SD_EVENT_OFF) {
		sd_event_source_set_time(c->deadline, now_us() + c->server->limits.read_deadline_us);
		sd_event_source_set_enabled(c->deadline, SD_EVENT_ONESHOT);
	} else if (!partial && on != SD_EVENT_OFF) {
		sd_event_source_set_enabled(c->deadline, SD_EVENT_OFF);
	}
}

/* Everything after I/O: handle requests, decide whether to close. */
static int on_defer(sd_event_source *src, void *userdata)
{
	struct ipc_conn *c = userdata;
	bool flushed;

	sd_event_source_set_enabled(src, SD_EVENT_OFF);
	if (!c->dead)
		conn_process(c);
	if (!c->dead)
		conn_flush(c);
	flushed = c->out_off == c->out_len;
	if (c->dead || (c->closing && !c->current && flushed) ||
	    (c->eof && !c->current && flushed && !conn_has_complete(c))) {
		conn_free(c);
		return 0;
	}
	conn_arm_deadline(c);
	conn_update_events(c);
	/* more complete messages buffered and nothing in flight: another round */
	if (!c->current && !c->closing && conn_has_complete(c))
		conn_schedule(c);
	return 0;
}

static void conn_schedule(struct ipc_conn *c)
{
	if (c->defer)
		sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct ipc_conn *c = userdata;

	if (revents & EPOLLIN) {
		size_t avail;
		char *p = varlink_reader_space(&c->rd, IPC_READ_CHUNK, &avail);
		ssize_t n;

		if (!p) {
			c->dead = true;
		} else {
			n = recv(fd, p, avail < IPC_READ_CHUNK ? avail : IPC_READ_CHUNK, MSG_DONTWAIT);
			if (n > 0)
				varlink_reader_commit(&c->rd, (size_t)n);
			else if (n == 0)
				c->eof = true;
			else if (errno != EAGAIN && errno != EINTR)
				c->dead = true;
		}
	} else if (revents & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) {
		/* No more input will come; replies may still be written on RDHUP. */
		if (revents & (EPOLLHUP | EPOLLERR))
			c->dead = true;
		else
			c->eof = true;
	}
	if ((revents & EPOLLOUT) && !c->dead)
		conn_flush(c);
	conn_schedule(c);
	return 0;
}

static void conn_free(struct ipc_conn *c)
{
	struct ipc_server *s = c->server;
	struct ipc_call *call = c->current;

	if (call) {
		c->current = NULL;
		call->conn = NULL;
		if (!call->done && call->on_disconnect)
			call->on_disconnect(call, call->on_disconnect_data);
		ipc_call_unref(call);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->deadline);
	sd_event_source_disable_unref(c->defer);
	if (c->fd >= 0)
		close(c->fd);
	varlink_reader_free(&c->rd);
	free(c->out);
	log_debug(LOG_SUBSYS_IPC, "connection of pid %d closed (%u open)", (int)c->pid, s->n_conns);
	free(c);
}

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

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct ipc_server *s = userdata;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ipc_conn *c;
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
	if (s->n_conns >= s->limits.max_connections) {
		static const char msg[] = "{\"error\":\"io.zcrx.Manager.TooManyConnections\","
					  "\"parameters\":{\"message\":\"connection limit reached\"}}";

		log_warning(LOG_SUBSYS_IPC, "connection limit (%u) reached, refusing pid %d",
			    s->limits.max_connections, (int)cred.pid);
		(void)!send(cfd, msg, sizeof(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
		close(cfd);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return 0;
	}
	c->server = s;
	c->fd = cfd;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	c->admin = cred.uid == 0 || peer_in_group(cfd, s->admin_gid, cred.gid);
	varlink_reader_init(&c->rd, s->limits.max_message);
	r = sd_event_add_io(s->ev, &c->io, cfd, EPOLLIN | EPOLLRDHUP, on_io, c);
	if (r >= 0)
		r = sd_event_add_time(s->ev, &c->deadline, CLOCK_MONOTONIC, UINT64_MAX, 0, on_deadline, c);
	if (r >= 0)
		r = sd_event_source_set_enabled(c->deadline, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_defer(s->ev, &c->defer, on_defer, c);
	if (r >= 0)
		r = sd_event_source_set_enabled(c->defer, SD_EVENT_OFF);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	if (r < 0) {
		log_warning(LOG_SUBSYS_IPC, "cannot watch connection: %s", strerror(-r));
		conn_free(c);
		return 0;
	}
	log_debug(LOG_SUBSYS_IPC, "connection from pid %d uid %u%s (%u open)", (int)c->pid,
		  (unsigned)c->uid, c->admin ? " (admin)" : "", s->n_conns);
	return 0;
}

/* ---- server ------------------------------------------------------------- */

static int server_setup(struct ipc_server *s, sd_event *ev, int fd, const struct ipc_server_config *cfg)
{
	int r;

	s->ev = sd_event_ref(ev);
	s->fd = fd;
	s->limits = cfg->limits;
	if (!s->limits.max_message)
		s->limits.max_message = IPC_MESSAGE_MAX;
	if (!s->limits.max_connections)
		s->limits.max_connections = 64;
	s->admin_gid = cfg->admin_gid;
	s->description = xstrdup0(cfg->interface_description);
	s->vendor = xstrdup0(cfg->vendor);
	s->product = xstrdup0(cfg->product);
	s->version = xstrdup0(cfg->version);
	s->url = xstrdup0(cfg->url);
	r = sd_event_add_io(ev, &s->listen, fd, EPOLLIN, on_accept, s);
	if (r < 0)
		return r;
	return ipc_server_add_methods(s, service_methods,
				      sizeof(service_methods) / sizeof(service_methods[0]), s);
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
		conn_free(s->conns);
	sd_event_source_disable_unref(s->listen);
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
	for (c = s->conns; c; c = c->next)
		c->admin = c->uid == 0 || peer_in_group(c->fd, gid, c->gid);
}

unsigned ipc_server_connection_count(const struct ipc_server *s)
{
	return s->n_conns;
}
