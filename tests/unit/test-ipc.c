// SPDX-License-Identifier: MIT
/*
 * Unit tests: the Varlink server (zcrxd/ipc.c) in-process: asynchronous
 * replies keep pipelined calls in order, streams with "more", the disconnect
 * handler, oneway, parameter checking, a big reply sent from its own text
 * with more queued behind it.  Client side: plain sockets.
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

#include "ipc.h"
#include "varlink.h"

struct fx {
	sd_event *ev;
	struct ipc_server *srv;
	char dir[64], path[128];
	struct ipc_call *held; /* an open call kept by a handler */
	int disconnects;
	int echo_count;
};

static void m_echo(struct ipc_call *call, json_object *params, void *userdata)
{
	struct fx *f = userdata;
	json_object *r = json_object_new_object();

	f->echo_count++;
	json_object_object_add(r, "echo", params ? json_object_get(params) : NULL);
	ipc_reply(call, r);
}

static void m_hold(struct ipc_call *call, json_object *params, void *userdata)
{
	struct fx *f = userdata;

	f->held = ipc_call_ref(call); /* answered later by the test */
}

static void on_gone(struct ipc_call *call, void *userdata)
{
	struct fx *f = userdata;

	f->disconnects++;
}

static void m_stream(struct ipc_call *call, json_object *params, void *userdata)
{
	struct fx *f = userdata;

	if (!ipc_call_more(call)) {
		ipc_reply_error(call, "org.varlink.service.ExpectedMore", NULL);
		return;
	}
	f->held = ipc_call_ref(call);
	ipc_call_set_disconnect_handler(call, on_gone, f);
	ipc_reply_continues(call, json_object_new_object());
}

static void m_params(struct ipc_call *call, json_object *params, void *userdata)
{
	const char *name = NULL;
	int64_t count = 0;
	bool flag = false, have_flag = false;
	const struct ipc_param spec[] = {
		{ "name", IPC_PARAM_STRING, true, &name, NULL },
		{ "count", IPC_PARAM_INT, false, &count, NULL },
		{ "flag", IPC_PARAM_BOOL, false, &flag, &have_flag },
		IPC_PARAM_END,
	};
	json_object *r;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	r = json_object_new_object();
	json_object_object_add(r, "name", json_object_new_string(name));
	json_object_object_add(r, "count", json_object_new_int64(count));
	json_object_object_add(r, "flag", have_flag ? json_object_new_boolean(flag) : NULL);
	ipc_reply(call, r);
}

static const struct ipc_method methods[] = {
	{ "test.x.Echo", 0, m_echo },
	{ "test.x.Hold", 0, m_hold },
	{ "test.x.Stream", IPC_METHOD_STREAMING, m_stream },
	{ "test.x.Params", 0, m_params },
	{ "test.x.Mutate", IPC_METHOD_MUTATING, m_echo },
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ipc_server_config cfg = {
		.socket_gid = (gid_t)-1,
		.admin_gid = (gid_t)-1,
		.limits = { .max_message = 4096, .max_connections = 8 },
		.version = "t",
	};

	snprintf(f->dir, sizeof(f->dir), "/tmp/zxc-ipc-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/sock", f->dir);
	cfg.path = f->path;
	assert_int_equal(sd_event_new(&f->ev), 0);
	assert_int_equal(ipc_server_new(f->ev, &cfg, &f->srv), 0);
	assert_int_equal(ipc_server_add_methods(f->srv, methods, sizeof(methods) / sizeof(methods[0]), f), 0);
	/* registering a name twice is refused */
	assert_int_equal(ipc_server_add_methods(f->srv, methods, 1, f), -EEXIST);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ipc_call_unref(f->held);
	ipc_server_free(f->srv);
	/* the socket is removed with the server */
	assert_int_equal(access(f->path, F_OK), -1);
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

static void pump(struct fx *f)
{
	int i;

	for (i = 0; i < 50; i++)
		if (sd_event_run(f->ev, 0) == 0 && i > 5)
			break;
}

static void send_str(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s) + 1), (ssize_t)strlen(s) + 1);
}

/* All complete replies available now, as a NUL-joined string in buf. */
static size_t read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while ((n = read(fd, buf + len, size - len - 1)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return len;
}

static int count_msgs(const char *buf, size_t len)
{
	int n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		n += buf[i] == '\0';
	return n;
}

static void test_async_keeps_order(void **state)
{
	struct fx *f = *state;
	char buf[4096];
	size_t len;
	int fd = client(f);

	/* Hold is answered later; the Echo behind it must wait */
	send_str(fd, "{\"method\":\"test.x.Hold\"}");
	send_str(fd, "{\"method\":\"test.x.Echo\",\"parameters\":{\"n\":2}}");
	pump(f);
	assert_non_null(f->held);
	assert_int_equal(f->echo_count, 0);
	assert_int_equal(read_all(fd, buf, sizeof(buf)), 0);

	ipc_reply(f->held, NULL);
	f->held = ipc_call_unref(f->held);
	pump(f);
	len = read_all(fd, buf, sizeof(buf));
	assert_int_equal(count_msgs(buf, len), 2);
	assert_string_equal(buf, "{\"parameters\":{}}");
	assert_non_null(strstr(buf + strlen(buf) + 1, "\"echo\":{\"n\":2}"));
	assert_int_equal(f->echo_count, 1);
	close(fd);
	pump(f);
}

static void test_stream_and_disconnect(void **state)
{
	struct fx *f = *state;
	char buf[4096];
	size_t len;
	int fd = client(f);

	send_str(fd, "{\"method\":\"test.x.Stream\"}"); /* no more */
	pump(f);
	len = read_all(fd, buf, sizeof(buf));
	assert_non_null(strstr(buf, "ExpectedMore"));
	send_str(fd, "{\"method\":\"test.x.Stream\",\"more\":true}");
	pump(f);
	assert_non_null(f->held);
	assert_int_equal(ipc_reply_continues(f->held, json_object_new_object()), 0);
	pump(f);
	len = read_all(fd, buf, sizeof(buf));
	assert_int_equal(count_msgs(buf, len), 2);
	assert_string_equal(buf, "{\"parameters\":{},\"continues\":true}");
	assert_int_equal(f->disconnects, 0);
	close(fd);
	pump(f);
	assert_int_equal(f->disconnects, 1);
	assert_true(ipc_call_disconnected(f->held));
	/* replying to a gone peer is harmless */
	ipc_reply(f->held, NULL);
	f->held = ipc_call_unref(f->held);
	assert_int_equal(ipc_server_connection_count(f->srv), 0);
}

static void test_oneway_and_params(void **state)
{
	struct fx *f = *state;
	char buf[4096];
	size_t len;
	int fd = client(f);

	send_str(fd, "{\"method\":\"test.x.Echo\",\"oneway\":true}");
	send_str(fd, "{\"method\":\"test.x.Params\",\"parameters\":{\"name\":\"a\",\"count\":3,\"flag\":false}}");
	send_str(fd, "{\"method\":\"test.x.Params\",\"parameters\":{\"count\":3}}");
	send_str(fd, "{\"method\":\"test.x.Params\",\"parameters\":{\"name\":1}}");
	send_str(fd, "{\"method\":\"test.x.Params\",\"parameters\":{\"name\":\"a\",\"zzz\":1}}");
	send_str(fd, "{\"method\":\"test.x.Params\",\"parameters\":{\"name\":\"a\",\"flag\":null}}");
	pump(f);
	len = read_all(fd, buf, sizeof(buf));
	assert_int_equal(f->echo_count, 1); /* the oneway call ran ... */
	assert_int_equal(count_msgs(buf, len), 5); /* ... but got no reply */
	assert_string_equal(buf, "{\"parameters\":{\"name\":\"a\",\"count\":3,\"flag\":false}}");
	{
		const char *p = buf + strlen(buf) + 1;

		assert_non_null(strstr(p, "InvalidParameter") && strstr(p, "\"parameter\":\"name\""));
		p += strlen(p) + 1;
		assert_non_null(strstr(p, "\"parameter\":\"name\""));
		p += strlen(p) + 1;
		assert_non_null(strstr(p, "\"parameter\":\"zzz\""));
		p += strlen(p) + 1;
		/* null counts as absent */
		assert_string_equal(p, "{\"parameters\":{\"name\":\"a\",\"count\":0,\"flag\":null}}");
	}
	close(fd);
	pump(f);
}

/* A streamed reply of n (and a blob of size bytes when size). */
static void stream_reply(struct fx *f, int n, const char *blob)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "n", json_object_new_int(n));
	if (blob)
		json_object_object_add(p, "blob", json_object_new_string(blob));
	assert_int_equal(ipc_reply_continues(f->held, p), 0);
}

/* A big reply waiting on an idle connection is sent from its message's own
 * text; a reply after it, while part of it is still unsent, moves that
 * part into the connection's own buffer first.  Every reply arrives whole
 * and in order, and nothing is left queued. */
static void test_big_reply_then_more(void **state)
{
	struct fx *f = *state;
	const size_t big = 100 * 1024, cap = 4u << 20;
	char *blob = malloc(big + 1), *buf = malloc(cap);
	size_t len = 0;
	struct ipc_stats st;
	int fd = client(f), sent = 0, i, first_small;
	json_object *m, *p, *v;
	const char *msg;

	assert_non_null(blob);
	assert_non_null(buf);
	memset(blob, 'b', big);
	blob[big] = '\0';
	send_str(fd, "{\"method\":\"test.x.Stream\",\"more\":true}");
	pump(f);
	assert_non_null(f->held);
	/* big replies, the client reading nothing, until one is left partly
	 * unsent: the socket's buffer is full.  Nothing was queued before it,
	 * so it waits in its own text. */
	do {
		stream_reply(f, sent++, blob);
		ipc_server_get_stats(f->srv, &st);
	} while (!st.output_bytes && sent < 64);
	assert_true(st.output_bytes > 0);
	/* two small ones behind it: the first takes the rest of the big one
	 * into a buffer of the connection's, the second is appended there */
	first_small = sent;
	stream_reply(f, sent++, NULL);
	stream_reply(f, sent++, NULL);
	ipc_server_get_stats(f->srv, &st);
	assert_true(st.output_bytes > 0);
	/* the client reads everything: the first {} reply and sent more */
	for (i = 0; i < 100000 && count_msgs(buf, len) < sent + 1; i++) {
		ssize_t n = read(fd, buf + len, cap - len - 1);

		if (n > 0)
			len += (size_t)n;
		assert_true(sd_event_run(f->ev, 0) >= 0);
	}
	assert_int_equal(count_msgs(buf, len), sent + 1);
	assert_true(len < cap - 1);
	buf[len] = '\0';
	ipc_server_get_stats(f->srv, &st);
	assert_int_equal(st.output_bytes, 0);
	assert_string_equal(buf, "{\"parameters\":{},\"continues\":true}");
	msg = buf + strlen(buf) + 1;
	for (i = 0; i < sent; i++, msg += strlen(msg) + 1) {
		m = json_tokener_parse(msg);
		assert_non_null(m);
		assert_true(json_object_object_get_ex(m, "parameters", &p));
		assert_true(json_object_object_get_ex(p, "n", &v));
		assert_int_equal(json_object_get_int(v), i);
		if (i < first_small) {
			assert_true(json_object_object_get_ex(p, "blob", &v));
			assert_string_equal(json_object_get_string(v), blob);
		} else {
			assert_false(json_object_object_get_ex(p, "blob", &v));
		}
		json_object_put(m);
	}
	free(blob);
	free(buf);
	close(fd);
	pump(f);
}

static void test_root_may_mutate(void **state)
{
	struct fx *f = *state;
	char buf[4096];
	int fd = client(f);

	send_str(fd, "{\"method\":\"test.x.Mutate\"}");
	pump(f);
	read_all(fd, buf, sizeof(buf));
	if (getuid() == 0)
		assert_non_null(strstr(buf, "\"echo\""));
	else
		assert_non_null(strstr(buf, "io.zcrx.Manager.PermissionDenied"));
	close(fd);
	pump(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_async_keeps_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_and_disconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oneway_and_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_reply_then_more, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_may_mutate, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
