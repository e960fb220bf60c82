// SPDX-License-Identifier: MIT
/*
 * ipc-conn — one connection of the Varlink server (ipc-int.h).
 *
 * Owns: the socket's reading and writing, the input buffer (at most one
 * message's worth is held: the rest waits in the kernel), the output queue
 * and its share of the server's output budget, the connection's one
 * deadline (read, write or idle, whichever comes first), and closing with
 * a named reason.  Must not: parse requests or call methods (ipc.c does).
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bigmem.h"
#include "ipc-int.h"
#include "jtext.h"
#include "log.h"
#include "monotime.h"

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata);
static int on_timer(sd_event_source *src, uint64_t usec, void *userdata);

static size_t out_pending(const struct ipc_conn *c)
{
	return c->out_len - c->out_off;
}

static size_t in_pending(const struct ipc_conn *c)
{
	return c->rd.len - c->rd.start;
}

static bool has_complete(const struct ipc_conn *c)
{
	return in_pending(c) && memchr(c->rd.buf + c->rd.start, '\0', in_pending(c));
}

size_t ipc_conn_max_message(const struct ipc_conn *c)
{
	size_t max = c->server->limits.max_message;

	if (!c->admin && max > IPC_MESSAGE_MAX_UNPRIVILEGED)
		max = IPC_MESSAGE_MAX_UNPRIVILEGED;
	return max;
}

/* A message bigger than allowed and still without its end. */
static bool too_large(const struct ipc_conn *c)
{
	return !has_complete(c) && in_pending(c) > c->rd.max_message;
}

bool ipc_conn_ready(const struct ipc_conn *c)
{
	return !c->dead && !c->closing && !c->current && out_pending(c) < IPC_OUTPUT_LOW &&
	       (has_complete(c) || too_large(c));
}

bool ipc_conn_finished(const struct ipc_conn *c)
{
	bool flushed = out_pending(c) == 0;

	if (c->dead)
		return true;
	if (c->current || !flushed)
		return false;
	return c->closing || (c->eof && !has_complete(c) && !too_large(c));
}

int ipc_conn_new(struct ipc_server *s, int fd, const struct ucred *cred, bool admin,
		 struct ipc_conn **ret)
{
	struct ipc_conn *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->server = s;
	c->fd = fd;
	c->uid = cred->uid;
	c->gid = cred->gid;
	c->pid = cred->pid;
	c->admin = admin;
	varlink_reader_init(&c->rd, ipc_conn_max_message(c));
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	c->io_events = EPOLLIN | EPOLLRDHUP;
	r = sd_event_add_io(s->ev, &c->io, fd, c->io_events, on_io, c);
	if (r >= 0)
		r = sd_event_add_time(s->ev, &c->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_timer, c);
	if (r >= 0)
		r = sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
	if (r < 0) {
		ipc_conn_free(c);
		return r;
	}
	*ret = c;
	ipc_conn_update(c);
	return 0;
}

static void drop_output(struct ipc_conn *c)
{
	c->server->out_total -= out_pending(c);
	c->out_off = c->out_len = 0;
}

/* The output buffer freed: ours, or the message whose text it was. */
static void out_release(struct ipc_conn *c)
{
	if (c->out_msg)
		json_object_put(c->out_msg);
	else
		free(c->out);
	c->out_msg = NULL;
	c->out = NULL;
	c->out_cap = 0;
}

static void rq_remove(struct ipc_rq *q, struct ipc_conn *c)
{
	struct ipc_conn **pp, *prev = NULL;

	for (pp = &q->head; *pp; prev = *pp, pp = &(*pp)->rq_next)
		if (*pp == c) {
			*pp = c->rq_next;
			if (q->tail == c)
				q->tail = prev;
			c->rq_next = NULL;
			return;
		}
}

void ipc_conn_free(struct ipc_conn *c)
{
	struct ipc_server *s = c->server;
	struct ipc_call *call = c->current;

	c->reaping = true;
	if (call) {
		c->current = NULL;
		ipc_call_detach(call);
		ipc_call_unref(call);
	}
	if (c->in_rq) {
		rq_remove(&s->rq_admin, c);
		rq_remove(&s->rq_user, c);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
	drop_output(c);
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->timer);
	if (c->fd >= 0)
		close(c->fd);
	varlink_reader_free(&c->rd);
	out_release(c);
	log_debug(LOG_SUBSYS_IPC, "connection of pid %d closed (%u open)", (int)c->pid, s->n_conns);
	free(c);
}

/* ---- closing with a reason ----------------------------------------------- */

const char *ipc_cut_name(enum ipc_cut reason)
{
	static const char *const names[_IPC_CUT_MAX] = {
		[IPC_CUT_IDLE] = "idle_timeout",
		[IPC_CUT_READ_TIMEOUT] = "read_timeout",
		[IPC_CUT_TOO_LARGE] = "message_too_large",
		[IPC_CUT_SLOW_READER] = "slow_reader",
		[IPC_CUT_OUTPUT_BUDGET] = "output_budget",
	};

	return (unsigned)reason < _IPC_CUT_MAX ? names[reason] : "?";
}

static void count_cut(struct ipc_conn *c, enum ipc_cut reason, const char *detail)
{
	struct ipc_server *s = c->server;

	s->stats.cut[reason]++;
	if (ipc_server_log_ok(s))
		log_warning(LOG_SUBSYS_IPC, "closing the connection of pid %d uid %u: %s (%s)",
			    (int)c->pid, (unsigned)c->uid, ipc_cut_name(reason), detail);
}

void ipc_conn_cut(struct ipc_conn *c, enum ipc_cut reason, const char *detail)
{
	if (c->dead)
		return;
	count_cut(c, reason, detail);
	drop_output(c);
	c->dead = true;
	ipc_conn_update(c);
}

void ipc_conn_fail(struct ipc_conn *c, enum ipc_cut reason, const char *message)
{
	json_object *p;

	if (c->dead || c->closing)
		return;
	count_cut(c, reason, message);
	p = json_object_new_object();
	json_object_object_add(p, "message", json_object_new_string(message));
	(void)ipc_conn_send(c, varlink_error_new("io.zcrx.Manager.ProtocolError", p), false);
	c->closing = true;
	ipc_conn_update(c);
}

/* ---- output -------------------------------------------------------------- */

static void flush(struct ipc_conn *c)
{
	bool progress = false;

	while (!c->dead && out_pending(c)) {
		ssize_t n = send(c->fd, c->out + c->out_off, out_pending(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->out_off += (size_t)n;
			c->server->out_total -= (size_t)n;
			progress = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		drop_output(c); /* the peer is gone */
		c->dead = true;
	}
	if (!out_pending(c)) {
		c->out_off = c->out_len = 0;
		c->out_since = 0;
		if (c->out_msg || c->out_cap > IPC_OUTPUT_LOW) { /* give a burst's memory back */
			bool big = c->out_cap >= IPC_OUTPUT_TRIM;

			out_release(c);
			/* building a reply of megabytes (a listing of thousands)
			 * left its scratch freed all over the heap: 4 MiB of a
			 * zcrxd holding 4,096 attachments stayed resident */
			if (big)
				(void)malloc_trim(0);
		}
	} else if (progress) {
		c->out_since = monotime_usec();
	}
}

/* Make room for len more bytes in the server's budget by cutting the
 * connections with the largest backlogs.  False when c itself was cut. */
static bool make_room(struct ipc_conn *c, size_t len)
{
	struct ipc_server *s = c->server;

	while (s->out_total + len > IPC_OUTPUT_TOTAL_MAX) {
		struct ipc_conn *v, *victim = NULL;
		char why[96];

		for (v = s->conns; v; v = v->next)
			if (!v->dead && (!victim || out_pending(v) > out_pending(victim)))
				victim = v;
		if (!victim || !out_pending(victim))
			return true; /* one reply larger than the budget, to a reader keeping up */
		snprintf(why, sizeof(why), "%zu KiB of %u KiB unread replies of all clients",
			 out_pending(victim) / 1024, IPC_OUTPUT_TOTAL_MAX / 1024);
		ipc_conn_cut(victim, IPC_CUT_OUTPUT_BUDGET, why);
		if (victim == c)
			return false;
	}
	return true;
}

/* Room for len more bytes at the end of the output, in a buffer of ours:
 * malloc'd, its sizes bigmem_grow_size's.  Not bigmem's mappings: a queue
 * past 256 KiB would be a huge page, 2 MiB resident (test_socket's 60
 * unread Monitors peaked at 128 MiB so, 25 MiB with malloc).  After a
 * reply sent from its own text (out_msg: borrowed, never written to nor
 * grown) what is left of that text is copied into a new buffer of ours
 * first and the message let go. */
static int out_room(struct ipc_conn *c, size_t len)
{
	bool borrowed = c->out_msg;
	char *own = borrowed ? NULL : c->out;
	size_t cap = borrowed ? 0 : c->out_cap, n = out_pending(c);

	if (!borrowed && cap - c->out_len >= len)
		return 0;
	if (!borrowed && c->out_off) {
		memmove(own, own + c->out_off, n);
		c->out_off = 0;
		c->out_len = n;
	}
	cap = bigmem_grow_size(cap, n + len, 4096);
	own = cap ? realloc(own, cap) : NULL;
	if (!own)
		return -ENOMEM;
	if (borrowed) {
		memcpy(own, c->out + c->out_off, n);
		json_object_put(c->out_msg);
		c->out_msg = NULL;
		c->out_off = 0;
		c->out_len = n;
	}
	c->out = own;
	c->out_cap = cap;
	return 0;
}

static int append(struct ipc_conn *c, const char *buf, size_t len)
{
	int r = out_room(c, len);

	if (r < 0)
		return r;
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	c->server->out_total += len;
	return 0;
}

/* A reply whose parameters are text already (a listing, jtext.h) is sent
 * from that text, the envelope written around it: no copy of megabytes.
 * The bytes are what json-c would write for msg. */
static const char *encoded(json_object *msg, size_t *ret_len)
{
	json_object *p;
	const char *text;

	if (json_object_is_type(msg, json_type_object) && json_object_object_length(msg) == 1 &&
	    json_object_object_get_ex(msg, "parameters", &p) &&
	    (text = jtext_wrap(p, "{\"parameters\":", '}', ret_len)))
		return text;
	return varlink_encoded(msg, ret_len);
}

int ipc_conn_send(struct ipc_conn *c, json_object *msg, bool stream)
{
	const char *text;
	size_t len;
	int r;

	if (c->dead) {
		json_object_put(msg);
		return -ECONNRESET;
	}
	text = encoded(msg, &len);
	if (!text) {
		json_object_put(msg);
		return -ENOMEM;
	}
	if (stream && out_pending(c) >= IPC_OUTPUT_STREAM_MAX) {
		char why[96];

		snprintf(why, sizeof(why), "%zu KiB of streamed replies unread, the limit is %u KiB",
			 out_pending(c) / 1024, IPC_OUTPUT_STREAM_MAX / 1024);
		json_object_put(msg);
		ipc_conn_cut(c, IPC_CUT_SLOW_READER, why);
		return -ENOBUFS;
	}
	if (!make_room(c, len)) {
		json_object_put(msg);
		return -ENOBUFS;
	}
	if (len >= IPC_OUTPUT_ADOPT && !out_pending(c)) {
		/* a big reply (a listing of thousands) on an idle connection is
		 * sent from the message's own text: no copy of megabytes */
		out_release(c);
		c->out = (char *)text;
		c->out_msg = msg;
		c->out_off = 0;
		c->out_len = c->out_cap = len;
		c->server->out_total += len;
		r = 0;
	} else {
		r = append(c, text, len);
		json_object_put(msg);
	}
	if (r < 0) {
		c->dead = true;
		drop_output(c);
		ipc_conn_update(c);
		return r;
	}
	flush(c);
	ipc_conn_update(c);
	return 0;
}

/* ---- input --------------------------------------------------------------- */

int ipc_conn_next(struct ipc_conn *c, json_object **ret)
{
	int r = varlink_reader_next(&c->rd, ret);

	/* an emptied buffer gives a burst's memory back */
	if (!in_pending(c) && c->rd.cap > IPC_READ_CHUNK) {
		varlink_reader_free(&c->rd);
		varlink_reader_init(&c->rd, ipc_conn_max_message(c));
	}
	return r;
}

static void conn_read(struct ipc_conn *c)
{
	size_t pending = in_pending(c), want, avail;
	ssize_t n;
	char *p;

	/* never more than one message's worth (and the byte that shows it is
	 * too long) is held here, of one request or of several sent ahead:
	 * the rest waits in the kernel */
	want = pending <= c->rd.max_message ? c->rd.max_message + 1 - pending : 1;
	if (want > IPC_READ_CHUNK)
		want = IPC_READ_CHUNK;
	p = varlink_reader_space(&c->rd, want, &avail);
	if (!p) {
		c->dead = true;
		return;
	}
	n = recv(c->fd, p, want, MSG_DONTWAIT);
	if (n > 0)
		varlink_reader_commit(&c->rd, (size_t)n);
	else if (n == 0)
		c->eof = true;
	else if (errno != EAGAIN && errno != EINTR)
		c->dead = true;
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct ipc_conn *c = userdata;

	if (!c->dead && (revents & EPOLLIN) && (c->io_events & EPOLLIN))
		conn_read(c); /* the end of input shows as a read of 0 bytes */
	if (revents & (EPOLLHUP | EPOLLERR)) {
		/* the peer is gone: nobody reads replies any more */
		drop_output(c);
		c->dead = true;
	} else if (revents & EPOLLRDHUP) {
		/* the client sends nothing more; what it sent is still read */
		c->rdhup = true;
	}
	if ((revents & EPOLLOUT) && !c->dead)
		flush(c);
	ipc_conn_update(c);
	return 0;
}

/* ---- what the connection waits for --------------------------------------- */

static uint64_t next_deadline(struct ipc_conn *c)
{
	const struct ipc_limits *l = &c->server->limits;
	uint64_t d = 0, t;

#define EARLIEST(since, timeout)                                                   \
	if ((since) && (timeout)) {                                                \
		t = (since) + (timeout);                                           \
		if (!d || t < d)                                                   \
			d = t;                                                     \
	}
	EARLIEST(c->partial_since, l->read_timeout_us);
	EARLIEST(c->out_since, l->write_timeout_us);
	EARLIEST(c->idle_since, l->idle_timeout_us);
#undef EARLIEST
	return d;
}

void ipc_conn_update(struct ipc_conn *c)
{
	struct ipc_server *s = c->server;
	uint32_t ev = 0;
	uint64_t now, d;

	if (c->reaping)
		return;
	if (ipc_conn_finished(c)) {
		if (c->io_events) {
			(void)sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
			c->io_events = 0;
		}
		ipc_server_wake(s, c);
		return;
	}
	if (!c->eof && !c->closing) {
		if (!c->rdhup)
			ev |= EPOLLRDHUP;
		/* read while nothing complete waits; and go on reading while
		 * a request waits for its turn (what a client sends before its
		 * reply is buffered, up to one message's worth), so that a
		 * client that waits for each reply costs no change of interest
		 * per request.  Once stopped, reading starts again when the
		 * complete ones are taken: a client that sends ahead costs no
		 * change of interest per request either */
		if (in_pending(c) <= c->rd.max_message &&
		    (!has_complete(c) || (c->io_events & EPOLLIN)))
			ev |= EPOLLIN;
	}
	if (out_pending(c))
		ev |= EPOLLOUT;
	if (ev != c->io_events) {
		(void)sd_event_source_set_io_events(c->io, ev);
		c->io_events = ev;
	}

	now = monotime_usec();
	if (in_pending(c) && !has_complete(c)) {
		if (!c->partial_since)
			c->partial_since = now;
	} else {
		c->partial_since = 0;
	}
	if (out_pending(c)) {
		if (!c->out_since)
			c->out_since = now;
	} else {
		c->out_since = 0;
	}
	if (!c->current && !in_pending(c) && !out_pending(c) && !c->closing) {
		if (!c->idle_since)
			c->idle_since = now;
	} else {
		c->idle_since = 0;
	}
	d = next_deadline(c);
	if (d != c->timer_at) {
		if (d) {
			(void)sd_event_source_set_time(c->timer, d);
			(void)sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
		} else {
			(void)sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
		}
		c->timer_at = d;
	}
	ipc_server_wake(s, c);
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct ipc_conn *c = userdata;
	const struct ipc_limits *l = &c->server->limits;
	uint64_t now = monotime_usec();
	char why[96];

	c->timer_at = 0;
	if (c->out_since && l->write_timeout_us && now >= c->out_since + l->write_timeout_us) {
		snprintf(why, sizeof(why), "%zu bytes of replies unread for %llu ms", out_pending(c),
			 (unsigned long long)(l->write_timeout_us / 1000));
		ipc_conn_cut(c, IPC_CUT_SLOW_READER, why);
	} else if (c->partial_since && l->read_timeout_us &&
		   now >= c->partial_since + l->read_timeout_us) {
		ipc_conn_fail(c, IPC_CUT_READ_TIMEOUT, "read deadline exceeded");
	} else if (c->idle_since && l->idle_timeout_us && now >= c->idle_since + l->idle_timeout_us) {
		snprintf(why, sizeof(why), "idle for %llu ms, closing",
			 (unsigned long long)(l->idle_timeout_us / 1000));
		ipc_conn_fail(c, IPC_CUT_IDLE, why);
	}
	ipc_conn_update(c);
	return 0;
}
