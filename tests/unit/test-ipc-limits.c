// SPDX-License-Identifier: MIT
/*
 * Unit tests: what bounds one client's effect on the Varlink server and on
 * the others (zcrxd/ipc*.c), in-process, with plain sockets as clients:
 *   - a client that pipelines thousands of requests delays another client's
 *     request by a bounded number of requests, not by its whole backlog;
 *   - a client that does not read its replies gets no further request
 *     handled (backpressure), and all of them once it reads;
 *   - a stream whose client does not read is cut at its limit, with the
 *     reason counted;
 *   - all connections' unread output together stays within the budget;
 *   - a connection with nothing in flight is closed after the idle timeout,
 *     one with a call in flight is not;
 *   - the limits apply to connections already open after a change.
 * The event loop is stepped by the test: ordering, not time, is asserted.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "deadline.h"
#include "ipc.h"

struct fx {
	sd_event *ev;
	struct ipc_server *srv;
	char dir[64], path[128];
	struct ipc_call *held[8];
	int n_held;
	int echo_count;
	int echo_at_mark; /* echo_count when Mark ran, -1 before */
	size_t big_size;
};

static void m_echo(struct ipc_call *call, json_object *params, void *userdata)
{
	struct fx *f = userdata;
	json_object *r = json_object_new_object();

	f->echo_count++;
	json_object_object_add(r, "echo", params ? json_object_get(params) : NULL);
	ipc_reply(call, r);
}

static void m_mark(struct ipc_call *call, json_object *params, void *userdata)
{
	struct fx *f = userdata;

	f->echo_at_mark = f->echo_count;
	ipc_reply(call, NULL);
}

static void m_hold(struct ipc_call *call, json_object *params, void *userdata)
{
	struct fx *f = userdata;

	f->held[f->n_held++] = ipc_call_ref(call);
}

/* A reply of f->big_size bytes. */
static void m_big(struct ipc_call *call, json_object *params, void *userdata)
{
	struct fx *f = userdata;
	json_object *r = json_object_new_object();
	char *s = malloc(f->big_size + 1);

	memset(s, 'x', f->big_size);
	s[f->big_size] = '\0';
	json_object_object_add(r, "blob", json_object_new_string(s));
	free(s);
	ipc_reply(call, r);
}

static const struct ipc_method methods[] = {
	{ "test.x.Echo", 0, m_echo },
	{ "test.x.Mark", 0, m_mark },
	{ "test.x.Hold", IPC_METHOD_STREAMING, m_hold },
	{ "test.x.Big", 0, m_big },
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ipc_server_config cfg = {
		.socket_gid = (gid_t)-1,
		.admin_gid = (gid_t)-1,
		.limits = { .max_message = 4096, .max_connections = 16 },
		.version = "t",
	};

	f->echo_at_mark = -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/zxc-ipcl-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/sock", f->dir);
	cfg.path = f->path;
	assert_int_equal(sd_event_new(&f->ev), 0);
	assert_int_equal(ipc_server_new(f->ev, &cfg, &f->srv), 0);
	assert_int_equal(ipc_server_add_methods(f->srv, methods, sizeof(methods) / sizeof(methods[0]), f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int i;

	for (i = 0; i < f->n_held; i++)
		ipc_call_unref(f->held[i]);
	ipc_server_free(f->srv);
	sd_event_unref(f->ev);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int client(struct fx *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Let every source that is ready run (no waiting). */
static void pump(struct fx *f)
{
	int i;

	for (i = 0; i < 100000; i++)
		if (sd_event_run(f->ev, 0) == 0)
			break;
}

/* A client's pipeline: n copies of one request, written as the socket
 * takes them (in large writes: the kernel charges each write's overhead). */
struct pipeline {
	char *buf;
	size_t len, off, msg_len;
};

static void pipeline_init(struct pipeline *p, const char *msg, int n)
{
	int i;

	p->msg_len = strlen(msg) + 1;
	p->len = p->msg_len * (size_t)n;
	p->off = 0;
	p->buf = malloc(p->len);
	for (i = 0; i < n; i++)
		memcpy(p->buf + (size_t)i * p->msg_len, msg, p->msg_len);
}

/* Write what the socket takes; returns the requests written completely. */
static int pipeline_write(struct pipeline *p, int fd)
{
	while (p->off < p->len) {
		ssize_t r = write(fd, p->buf + p->off, p->len - p->off);

		if (r <= 0)
			break;
		p->off += (size_t)r;
	}
	return (int)(p->off / p->msg_len);
}

static int write_many(int fd, const char *msg, int n)
{
	struct pipeline p;
	int r;

	pipeline_init(&p, msg, n);
	r = pipeline_write(&p, fd);
	free(p.buf);
	return r;
}

/* Read and count complete messages until nothing more is there now. */
static int drain(int fd)
{
	char buf[65536];
	int n = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < r; i++)
			n += buf[i] == '\0';
	return n;
}

static bool peer_closed(int fd)
{
	char buf[4096];
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0)
		;
	return r == 0 || (r < 0 && errno != EAGAIN);
}

static void test_pipelining_client_does_not_starve_another(void **state)
{
	struct fx *f = *state;
	int a = client(f), b = client(f);
	int sent, rounds = 0;
	struct pipeline p;

	/* a's backlog: as many of 100000 requests as its socket takes */
	pipeline_init(&p, "{\"method\":\"test.x.Echo\"}", 100000);
	sent = pipeline_write(&p, a);
	assert_true(sent > 1000);
	/* the loop takes up a's backlog, then b asks */
	assert_true(sd_event_run(f->ev, 0) > 0);
	assert_true(sd_event_run(f->ev, 0) > 0);
	assert_int_equal(write_many(b, "{\"method\":\"test.x.Mark\"}", 1), 1);
	while (f->echo_at_mark < 0 && rounds++ < 1000000) {
		assert_true(sd_event_run(f->ev, 0) >= 0);
		(void)drain(a); /* a reads its replies and keeps its pipe full */
		sent = pipeline_write(&p, a);
	}
	free(p.buf);
	assert_true(f->echo_at_mark >= 0);
	/* b waited for a bounded part of a's backlog, not for all of it */
	print_message("a sent %d, b was answered after %d of them\n", sent, f->echo_at_mark);
	assert_true(f->echo_at_mark <= 2 * 32);
	close(a);
	close(b);
	pump(f);
}

static void test_unread_replies_stop_the_requests(void **state)
{
	struct fx *f = *state;
	char req[2048];
	int a = client(f), sent, handled, got = 0, i;
	struct pipeline p;
	struct ipc_stats st;

	/* each reply is about 1.5 KiB; a never reads while it sends */
	snprintf(req, sizeof(req), "{\"method\":\"test.x.Echo\",\"parameters\":{\"s\":\"%01500d\"}}", 0);
	pipeline_init(&p, req, 2000);
	for (i = 0; i < 20; i++) {
		sent = pipeline_write(&p, a);
		pump(f);
	}
	sent = pipeline_write(&p, a);
	handled = f->echo_count;
	print_message("%d requests sent, %d handled while their client read nothing\n", sent,
		      handled);
	assert_true(sent > 200);
	/* the replies waiting in zcrxd are at most 64 KiB and one reply: what
	 * was handled is what the kernel's buffer and that hold, far from all */
	ipc_server_get_stats(f->srv, &st);
	assert_true(st.output_bytes <= 64 * 1024 + 2048);
	assert_true(handled < sent);
	/* once a reads, the rest is handled, nothing lost */
	for (i = 0; i < 1000000 && got < 2000; i++) {
		got += drain(a);
		(void)pipeline_write(&p, a);
		assert_true(sd_event_run(f->ev, 0) >= 0);
	}
	got += drain(a);
	free(p.buf);
	assert_int_equal(got, 2000);
	assert_int_equal(f->echo_count, 2000);
	ipc_server_get_stats(f->srv, &st);
	assert_int_equal(st.cut[IPC_CUT_SLOW_READER], 0);
	close(a);
	pump(f);
}

static void test_stream_that_is_not_read_is_cut(void **state)
{
	struct fx *f = *state;
	int a = client(f), other = client(f), i;
	json_object *p;
	char big[1024];
	struct ipc_stats st;

	memset(big, 'e', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(write_many(a, "{\"method\":\"test.x.Hold\",\"more\":true}", 1), 1);
	pump(f);
	assert_int_equal(f->n_held, 1);
	/* 4 MiB of events, never read: the stream is cut long before */
	for (i = 0; i < 4096 && !ipc_call_disconnected(f->held[0]); i++) {
		p = json_object_new_object();
		json_object_object_add(p, "event", json_object_new_string(big));
		ipc_reply_continues(f->held[0], p);
	}
	assert_true(ipc_call_disconnected(f->held[0]));
	print_message("cut after %d events of 1 KiB\n", i);
	/* what the kernel's socket buffer took, plus at most 256 KiB here */
	assert_true(i < 1024);
	ipc_server_get_stats(f->srv, &st);
	assert_int_equal(st.cut[IPC_CUT_SLOW_READER], 1);
	pump(f);
	assert_true(peer_closed(a));
	/* the others are served */
	assert_int_equal(write_many(other, "{\"method\":\"test.x.Echo\"}", 1), 1);
	pump(f);
	assert_int_equal(drain(other), 1);
	ipc_server_get_stats(f->srv, &st);
	assert_int_equal(st.output_bytes, 0);
	close(a);
	close(other);
	pump(f);
}

static void test_output_budget_of_all_connections(void **state)
{
	struct fx *f = *state;
	int fds[8], i, cut = 0;
	struct ipc_stats st;

	f->big_size = 3 * 1024 * 1024; /* 8 x 3 MiB unread: over the 16 MiB budget */
	for (i = 0; i < 8; i++) {
		fds[i] = client(f);
		assert_int_equal(write_many(fds[i], "{\"method\":\"test.x.Big\"}", 1), 1);
		pump(f);
		ipc_server_get_stats(f->srv, &st);
		assert_true(st.output_bytes <= 16u * 1024 * 1024);
	}
	ipc_server_get_stats(f->srv, &st);
	assert_true(st.cut[IPC_CUT_OUTPUT_BUDGET] >= 1);
	for (i = 0; i < 8; i++)
		cut += peer_closed(fds[i]);
	assert_int_equal(cut, (int)st.cut[IPC_CUT_OUTPUT_BUDGET]);
	for (i = 0; i < 8; i++)
		close(fds[i]);
	pump(f);
	ipc_server_get_stats(f->srv, &st);
	assert_int_equal(st.output_bytes, 0);
	assert_int_equal(st.connections, 0);
}

static bool one_left(void *arg)
{
	struct fx *f = arg;

	return ipc_server_connection_count(f->srv) == 1;
}

static void test_idle_connection_is_closed(void **state)
{
	struct fx *f = *state;
	struct ipc_limits l = { .max_message = 4096, .max_connections = 16,
				.idle_timeout_us = 50000 };
	int idle, busy;
	char buf[512];
	ssize_t n;
	struct ipc_stats st;

	ipc_server_set_limits(f->srv, &l);
	idle = client(f);
	busy = client(f);
	assert_int_equal(write_many(busy, "{\"method\":\"test.x.Hold\",\"more\":true}", 1), 1);
	pump(f);
	assert_int_equal(ipc_server_connection_count(f->srv), 2);
	assert_int_equal(deadline_run_until(f->ev, one_left, f, 5000, 100), 1);
	/* the idle one was told why, then closed; the one with a call stays */
	n = read(idle, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "io.zcrx.Manager.ProtocolError"));
	assert_non_null(strstr(buf, "idle"));
	assert_true(peer_closed(idle));
	assert_false(ipc_call_disconnected(f->held[0]));
	ipc_server_get_stats(f->srv, &st);
	assert_int_equal(st.cut[IPC_CUT_IDLE], 1);
	close(idle);
	close(busy);
	pump(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pipelining_client_does_not_starve_another, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unread_replies_stop_the_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_that_is_not_read_is_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_budget_of_all_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_connection_is_closed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
