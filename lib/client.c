// SPDX-License-Identifier: MIT
/*
 * client — libzcrx: talk Varlink to zcrxd over its UNIX socket.
 * Owns: the connection, timeouts, reply decoding into struct zcrx_error.
 * Must not: print, log, exit, or install signal handlers.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bigmem.h"
#include "jtok.h"
#include "varlink.h"
#include "zcrx.h"

#define CLIENT_MAX_MESSAGE (16u * 1024 * 1024)

struct zcrx_conn {
	int fd;
	unsigned timeout_ms;
	char *path;
	struct varlink_reader rd;
};

static int fail(struct zcrx_error *e, enum zcrx_error_kind kind, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct zcrx_error *e, enum zcrx_error_kind kind, int err, const char *fmt, ...)
{
	va_list ap;

	if (err < 0)
		err = -err;
	if (e) {
		zcrx_error_clear(e);
		e->kind = kind;
		e->err = err;
		va_start(ap, fmt);
		vsnprintf(e->message, sizeof(e->message), fmt, ap);
		va_end(ap);
	}
	return -err;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int zcrx_connect(const char *path, unsigned timeout_ms, struct zcrx_conn **ret, struct zcrx_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct zcrx_conn *c;
	int fd;

	if (!path)
		path = ZCRX_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(err, ZCRX_ERROR_LOCAL, ENAMETOOLONG, "socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fail(err, ZCRX_ERROR_LOCAL, errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		if (e == ENOENT)
			return fail(err, ZCRX_ERROR_UNREACHABLE, e, "no socket at %s", path);
		if (e == ECONNREFUSED)
			return fail(err, ZCRX_ERROR_UNREACHABLE, e, "nothing listens on %s", path);
		if (e == EACCES || e == EPERM)
			return fail(err, ZCRX_ERROR_UNREACHABLE, e, "permission denied on %s", path);
		if (e == EAGAIN)
			return fail(err, ZCRX_ERROR_UNREACHABLE, e,
				    "%s is not accepting connections (backlog full)", path);
		return fail(err, ZCRX_ERROR_UNREACHABLE, e, "connect %s: %s", path, strerror(e));
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path))) {
		free(c);
		close(fd);
		return fail(err, ZCRX_ERROR_LOCAL, ENOMEM, "out of memory");
	}
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	varlink_reader_init(&c->rd, CLIENT_MAX_MESSAGE);
	*ret = c;
	return 0;
}

struct zcrx_conn *zcrx_disconnect(struct zcrx_conn *c)
{
	if (!c)
		return NULL;
	if (c->fd >= 0)
		close(c->fd);
	varlink_reader_free(&c->rd);
	free(c->path);
	free(c);
	return NULL;
}

int zcrx_conn_fd(const struct zcrx_conn *c)
{
	return c->fd;
}

void zcrx_set_timeout(struct zcrx_conn *c, unsigned timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

/* Wait for events on the socket until the deadline (-1 = none).  0 ok,
 * -ETIMEDOUT, or -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	for (;;) {
		int t = -1;

		if (deadline >= 0) {
			long long left = deadline - now_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			t = left > 60000 ? 60000 : (int)left;
		}
		r = poll(&p, 1, t);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int read_refusal(struct zcrx_conn *c, struct zcrx_error *err);

static long long deadline_for(const struct zcrx_conn *c)
{
	return c->timeout_ms ? now_ms() + c->timeout_ms : -1;
}

int zcrx_send(struct zcrx_conn *c, const char *method, json_object *params, unsigned flags,
	      struct zcrx_error *err)
{
	long long deadline = deadline_for(c);
	json_object *msg;
	size_t len, off = 0;
	char *buf;
	int r;

	if (!method || !varlink_method_name_valid(method))
		return fail(err, ZCRX_ERROR_LOCAL, EINVAL, "invalid method name");
	msg = varlink_call_new(method, params, flags & ZCRX_CALL_MORE, flags & ZCRX_CALL_ONEWAY);
	if (!msg)
		return fail(err, ZCRX_ERROR_LOCAL, ENOMEM, "out of memory");
	r = varlink_encode(msg, &buf, &len);
	json_object_put(msg);
	if (r < 0)
		return fail(err, ZCRX_ERROR_LOCAL, -r, "cannot encode the request");
	while (off < len) {
		ssize_t n = send(c->fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			r = wait_fd(c->fd, POLLOUT, deadline);
			if (r == -ETIMEDOUT) {
				free(buf);
				return fail(err, ZCRX_ERROR_TIMEOUT, ETIMEDOUT,
					    "zcrxd did not accept the request within %u ms",
					    c->timeout_ms);
			}
			if (r < 0)
				break;
			continue;
		}
		if (n < 0 && (errno == ENOTCONN || errno == EAGAIN)) {
			/* connect() still in progress */
			r = wait_fd(c->fd, POLLOUT, deadline);
			if (r < 0)
				break;
			continue;
		}
		r = n < 0 ? -errno : -EPIPE;
		free(buf);
		if ((r == -EPIPE || r == -ECONNRESET) && read_refusal(c, err))
			return err && err->kind == ZCRX_ERROR_UNREACHABLE ? -err->err : -EBADMSG;
		if (r == -ECONNREFUSED || r == -ENOENT)
			return fail(err, ZCRX_ERROR_UNREACHABLE, -r, "zcrxd is not running (%s)", c->path);
		return fail(err, ZCRX_ERROR_PROTOCOL, -r, "sending to zcrxd: %s", strerror(-r));
	}
	free(buf);
	if (off < len)
		return fail(err, ZCRX_ERROR_PROTOCOL, EPIPE, "sending to zcrxd failed");
	return 0;
}

static void fill_reply_error(struct zcrx_error *e, const char *name, json_object *params)
{
	json_object *v;
	char msg[sizeof(e->message)];

	zcrx_error_clear(e);
	e->kind = ZCRX_ERROR_REPLY;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->err = 0;
	if (params) {
		e->parameters = json_object_get(params);
		if (json_object_object_get_ex(params, "errno", &v) && json_object_is_type(v, json_type_int))
			e->err = json_object_get_int(v);
		if (json_object_object_get_ex(params, "message", &v) &&
		    json_object_is_type(v, json_type_string))
			snprintf(e->message, sizeof(e->message), "%s", json_object_get_string(v));
		else if (json_object_object_get_ex(params, "parameter", &v) &&
			 json_object_is_type(v, json_type_string))
			snprintf(e->message, sizeof(e->message), "invalid parameter '%s'",
				 json_object_get_string(v));
	}
	/* zcrxd is there but serves no more connections now: unreachable,
	 * like a full backlog, not a refusal of the request */
	if (!strcmp(name, "io.zcrx.Manager.TooManyConnections")) {
		e->kind = ZCRX_ERROR_UNREACHABLE;
		e->err = EBUSY;
		snprintf(msg, sizeof(msg), "%s", e->message[0] ? e->message : "connection limit reached");
		snprintf(e->message, sizeof(e->message), "zcrxd refused the connection: %.400s", msg);
	}
}

/* zcrxd refuses a connection over its limits with an error it sends at
 * once, then closes: a request written after that fails (EPIPE,
 * ECONNRESET), yet the refusal is waiting to be read.  1 with *err filled
 * from it, 0 when there is none. */
static int read_refusal(struct zcrx_conn *c, struct zcrx_error *err)
{
	json_object *msg = NULL, *params;
	const char *ename = NULL;
	bool cont;

	for (;;) {
		size_t avail;
		ssize_t n;
		char *p;

		if (varlink_reader_next(&c->rd, &msg) != 0)
			break;
		p = varlink_reader_space(&c->rd, 4096, &avail);
		if (!p)
			return 0;
		n = recv(c->fd, p, avail, MSG_DONTWAIT);
		if (n <= 0)
			return 0;
		varlink_reader_commit(&c->rd, (size_t)n);
	}
	if (!msg || varlink_reply_parse(msg, &ename, &params, &cont) < 0 || !ename) {
		json_object_put(msg);
		return 0;
	}
	if (err)
		fill_reply_error(err, ename, params);
	json_object_put(msg);
	return 1;
}

/* Read one message: parsed into *msg, or (msg NULL) its text into *text. */
static int read_message(struct zcrx_conn *c, json_object **msg, char **text, size_t *text_len,
			struct zcrx_error *err)
{
	long long deadline = deadline_for(c);
	int r;

	for (;;) {
		size_t avail;
		ssize_t n;
		char *p;

		r = msg ? varlink_reader_next(&c->rd, msg) :
			  varlink_reader_next_text(&c->rd, text, text_len);
		if (r > 0)
			return 0;
		if (r < 0)
			return fail(err, ZCRX_ERROR_PROTOCOL, EBADMSG, "zcrxd sent a malformed reply");
		p = varlink_reader_space(&c->rd, 4096, &avail);
		if (!p)
			return fail(err, ZCRX_ERROR_LOCAL, ENOMEM, "out of memory");
		n = recv(c->fd, p, avail, 0);
		if (n > 0) {
			varlink_reader_commit(&c->rd, (size_t)n);
			continue;
		}
		if (n == 0)
			return fail(err, ZCRX_ERROR_PROTOCOL, ECONNRESET,
				    "zcrxd closed the connection before replying");
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			r = wait_fd(c->fd, POLLIN, deadline);
			if (r == -ETIMEDOUT)
				return fail(err, ZCRX_ERROR_TIMEOUT, ETIMEDOUT,
					    "zcrxd did not answer within %u ms", c->timeout_ms);
			if (r < 0)
				return fail(err, ZCRX_ERROR_PROTOCOL, -r, "poll: %s", strerror(-r));
			continue;
		}
		if (errno == ECONNREFUSED || errno == ENOENT)
			return fail(err, ZCRX_ERROR_UNREACHABLE, errno, "zcrxd is not running (%s)",
				    c->path);
		if (errno == ECONNRESET && read_refusal(c, err))
			return err && err->kind == ZCRX_ERROR_UNREACHABLE ? -err->err : -EBADMSG;
		return fail(err, ZCRX_ERROR_PROTOCOL, errno, "receiving from zcrxd: %s", strerror(errno));
	}
}

int zcrx_recv(struct zcrx_conn *c, json_object **ret_params, bool *ret_continues, struct zcrx_error *err)
{
	json_object *msg = NULL, *params;
	const char *ename;
	bool cont;
	int r;

	r = read_message(c, &msg, NULL, NULL, err);
	if (r < 0)
		return r;
	if (varlink_reply_parse(msg, &ename, &params, &cont) < 0) {
		json_object_put(msg);
		return fail(err, ZCRX_ERROR_PROTOCOL, EBADMSG, "zcrxd sent a reply of the wrong shape");
	}
	if (ename) {
		bool unreachable = !strcmp(ename, "io.zcrx.Manager.TooManyConnections");

		if (err)
			fill_reply_error(err, ename, params);
		json_object_put(msg);
		return unreachable ? -EBUSY : -EBADMSG;
	}
	*ret_params = params ? json_object_get(params) : json_object_new_object();
	if (ret_continues)
		*ret_continues = cont;
	json_object_put(msg);
	return 0;
}

int zcrx_recv_doc(struct zcrx_conn *c, struct jtok_doc *doc, int *ret_params,
		  struct zcrx_error *err)
{
	json_object *msg = NULL, *params;
	const char *ename;
	char *text, *copy;
	size_t len;
	bool cont;
	int r, e, p;

	memset(doc, 0, sizeof(*doc));
	r = read_message(c, NULL, &text, &len, err);
	if (r < 0)
		return r;
	copy = bigmem_realloc(NULL, len + 1); /* a listing's megabytes: bigmem.h */
	if (!copy)
		return fail(err, ZCRX_ERROR_LOCAL, ENOMEM, "out of memory");
	memcpy(copy, text, len + 1);
	r = jtok_parse(doc, copy, len);
	e = r < 0 ? -1 : jtok_get(doc, 0, "error");
	p = r < 0 ? -1 : jtok_get(doc, 0, "parameters");
	if (r < 0 || e >= 0 || (p >= 0 && !jtok_is(doc, p, JTOK_OBJECT))) {
		/* an error reply, or something wrong: as zcrx_recv says it
		 * (the reader's copy of the text is intact until its next read) */
		jtok_free(doc);
		bigmem_free(copy);
		if (varlink_parse_json(text, len, &msg) < 0)
			return fail(err, ZCRX_ERROR_PROTOCOL, EBADMSG, "zcrxd sent a malformed reply");
		if (varlink_reply_parse(msg, &ename, &params, &cont) < 0 || !ename) {
			json_object_put(msg);
			return fail(err, ZCRX_ERROR_PROTOCOL, EBADMSG,
				    "zcrxd sent a reply of the wrong shape");
		}
		if (err)
			fill_reply_error(err, ename, params);
		json_object_put(msg);
		return !strcmp(ename, "io.zcrx.Manager.TooManyConnections") ? -EBUSY : -EBADMSG;
	}
	*ret_params = p;
	return 0;
}

void zcrx_doc_free(struct jtok_doc *doc)
{
	bigmem_free(doc->text);
	jtok_free(doc);
}

int zcrx_call_doc(struct zcrx_conn *c, const char *method, json_object *params,
		  struct jtok_doc *doc, int *ret_params, struct zcrx_error *err)
{
	int r = zcrx_send(c, method, params, 0, err);

	if (r < 0) {
		memset(doc, 0, sizeof(*doc));
		return r;
	}
	return zcrx_recv_doc(c, doc, ret_params, err);
}

int zcrx_call(struct zcrx_conn *c, const char *method, json_object *params, json_object **ret_params,
	      struct zcrx_error *err)
{
	json_object *reply = NULL;
	int r;

	r = zcrx_send(c, method, params, 0, err);
	if (r < 0)
		return r;
	r = zcrx_recv(c, &reply, NULL, err);
	if (r < 0)
		return r;
	if (ret_params)
		*ret_params = reply;
	else
		json_object_put(reply);
	return 0;
}
