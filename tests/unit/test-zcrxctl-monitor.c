// SPDX-License-Identifier: MIT
/*
 * Unit tests: `zcrxctl monitor` and `zcrxctl metrics` against a scripted
 * server thread (not zcrxd) that streams canned Varlink replies, so every
 * event rendering, JSON lines, --count, the end of a stream and errors can
 * be checked exactly.
 */
#include <errno.h>
#include <pthread.h>
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

#include "ctl.h"

struct script {
	int lfd;
	const char *const *replies; /* sent in order after the first request */
	char request[4096];
};

static void *serve(void *arg)
{
	struct script *s = arg;
	int fd = accept(s->lfd, NULL, NULL);
	size_t len = 0;

	if (fd < 0)
		return NULL;
	while (len < sizeof(s->request) - 1) {
		ssize_t n = read(fd, s->request + len, sizeof(s->request) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(s->request, '\0', len))
			break;
	}
	/* a client with --count may hang up before the last reply: EPIPE, not
	 * a SIGPIPE that kills the test */
	for (const char *const *r = s->replies; *r; r++)
		if (send(fd, *r, strlen(*r) + 1, MSG_NOSIGNAL) < 0)
			break;
	/* wait for the client to hang up */
	while (read(fd, s->request + len, 1) > 0)
		;
	close(fd);
	return NULL;
}

static int run(const char *const *replies, const char *const *argv_tail, char *out, size_t size,
	       struct script *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/zxb-ctl-XXXXXX", path[64];
	char *argv[16];
	int argc = 0, rc;
	pthread_t th;
	FILE *fo, *fe;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	memset(s, 0, sizeof(*s));
	s->replies = replies;
	s->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 1), 0);
	assert_int_equal(pthread_create(&th, NULL, serve, s), 0);

	argv[argc++] = (char *)"zcrxctl";
	argv[argc++] = (char *)"--socket";
	argv[argc++] = path;
	for (; *argv_tail; argv_tail++)
		argv[argc++] = (char *)*argv_tail;
	argv[argc] = NULL;
	fo = fmemopen(out, size, "w");
	fe = fopen("/dev/null", "w");
	rc = ctl_main(argc, argv, fo, fe);
	fclose(fo);
	fclose(fe);
	pthread_join(th, NULL);
	close(s->lfd);
	unlink(path);
	rmdir(dir);
	return rc;
}

#define EV(json) "{\"parameters\":{\"event\":" json "},\"continues\":true}"

static const char *const stream[] = {
	EV("{\"type\":\"subscribed\",\"timestamp_usec\":1}"),
	EV("{\"type\":\"binding-state\",\"timestamp_usec\":0,\"binding_id\":3,\"ifindex\":2,"
	   "\"nic\":\"eth0\",\"queue\":5,\"tap\":\"macvtap0\",\"state\":\"degraded\","
	   "\"errno\":105,\"reason\":\"ENOBUFS\",\"path\":\"/dev/vhost-zcrx\"}"),
	EV("{\"type\":\"binding-gone\",\"timestamp_usec\":0,\"binding_id\":3,\"ifindex\":2,"
	   "\"queue\":5,\"state\":\"broken\",\"errno\":19,\"reason\":\"ENODEV\"}"),
	EV("{\"type\":\"binder-unavailable\",\"timestamp_usec\":0,\"module\":\"vhost_zcrx\","
	   "\"message\":\"kernel module vhost_zcrx not available\"}"),
	EV("{\"type\":\"binder-available\",\"timestamp_usec\":0,\"module\":\"vhost_zcrx\","
	   "\"bindings\":2}"),
	EV("{\"type\":\"nic-changed\",\"timestamp_usec\":0,\"nic\":\"eth0\",\"ifindex\":2,"
	   "\"changed\":[\"channels\",\"rss\"]}"),
	EV("{\"type\":\"attachment-created\",\"timestamp_usec\":0,\"domain\":\"vm0\","
	   "\"mac\":\"52:54:00:00:00:01\",\"nic\":\"eth0\",\"queues_requested\":2}"),
	EV("{\"type\":\"attachment-changed\",\"timestamp_usec\":0,\"domain\":\"vm0\","
	   "\"mac\":\"52:54:00:00:00:01\",\"nic\":\"eth0\",\"state\":\"degraded\","
	   "\"queues\":[6,7],\"bindings\":[{\"queue\":7,\"id\":1,\"state\":\"active\"}],"
	   "\"reasons\":[{\"code\":\"no-zero-copy\",\"nic\":\"eth0\",\"op\":\"bind\","
	   "\"message\":\"no zero-copy: vhost_zcrx refused to bind queue 6: busy\","
	   "\"errno\":16,\"errno_name\":\"EBUSY\"}]}"),
	EV("{\"type\":\"config-reloaded\",\"timestamp_usec\":0,\"files\":3,\"ok\":true,"
	   "\"who\":\"hup\",\"list\":[1]}"),
	"{\"parameters\":{}}",
	NULL,
};

static void test_monitor_lines(void **state)
{
	static const char *const args[] = { "monitor", NULL };
	char out[4096] = "";
	struct script s;

	(void)state;
	assert_int_equal(run(stream, args, out, sizeof(out), &s), CTL_EXIT_OK);
	assert_non_null(strstr(s.request, "\"method\":\"io.zcrx.Manager.Monitor\""));
	assert_non_null(strstr(s.request, "\"more\":true"));
	assert_string_equal(out,
			    "- binding-state binding 3 on eth0 queue 5 (macvtap0): degraded (ENOBUFS)\n"
			    "- binding-gone binding 3 on ifindex 2 queue 5: torn down by vhost_zcrx (ENODEV)\n"
			    "- binder-unavailable no zero-copy: kernel module vhost_zcrx not available\n"
			    "- binder-available kernel module vhost_zcrx is available (2 bindings)\n"
			    "- nic-changed eth0 (ifindex 2) channels,rss\n"
			    "- attachment-created vm0 52:54:00:00:00:01 on eth0\n"
			    "- attachment-changed vm0 52:54:00:00:00:01 on eth0: degraded, zero-copy "
			    "active,no; no-zero-copy: bind: no zero-copy: vhost_zcrx refused to bind "
			    "queue 6: busy (EBUSY)\n"
			    "- config-reloaded files=3 ok=true who='hup'\n");
}

static void test_monitor_json_lines_and_count(void **state)
{
	static const char *const args[] = { "--json", "monitor", "--count", "2", NULL };
	char out[4096] = "";
	struct script s;
	char *second;

	(void)state;
	assert_int_equal(run(stream, args, out, sizeof(out), &s), CTL_EXIT_OK);
	/* two lines, each a JSON object, subscribed not among them */
	assert_true(strncmp(out, "{\"type\":\"binding-state\"", 23) == 0);
	/* "/" as it is, as every JSON zcrxctl prints writes it */
	assert_non_null(strstr(out, "\"path\":\"/dev/vhost-zcrx\""));
	second = strchr(out, '\n');
	assert_non_null(second);
	assert_true(strncmp(second + 1, "{\"type\":\"binding-gone\"", 22) == 0);
	assert_non_null(strchr(second + 1, '\n'));
	assert_string_equal(strchr(second + 1, '\n'), "\n");
}

static void test_monitor_refused(void **state)
{
	static const char *const replies[] = {
		"{\"error\":\"org.varlink.service.MethodNotFound\",\"parameters\":{\"method\":\"x\"}}",
		NULL,
	};
	static const char *const args[] = { "monitor", NULL };
	char *bad[] = { (char *)"zcrxctl", (char *)"--socket", (char *)"/nonexistent",
			(char *)"monitor", (char *)"--count", (char *)"0", NULL };
	char out[256] = "";
	struct script s;
	FILE *devnull;

	(void)state;
	assert_int_equal(run(replies, args, out, sizeof(out), &s), CTL_EXIT_REFUSED);
	/* a usage error is found before connecting */
	devnull = fopen("/dev/null", "w");
	assert_int_equal(ctl_main(6, bad, devnull, devnull), CTL_EXIT_USAGE);
	fclose(devnull);
}

static void test_metrics(void **state)
{
	static const char *const replies[] = {
		"{\"parameters\":{\"format\":\"prometheus-text-0.0.4\",\"text\":"
		"\"# HELP zcrx_binder_available x\\n# TYPE zcrx_binder_available gauge\\n"
		"zcrx_binder_available 0\\n\"}}",
		NULL,
	};
	static const char *const args[] = { "metrics", NULL };
	static const char *const jargs[] = { "--json=short", "metrics", NULL };
	char out[1024] = "";
	struct script s;

	(void)state;
	assert_int_equal(run(replies, args, out, sizeof(out), &s), CTL_EXIT_OK);
	assert_non_null(strstr(s.request, "io.zcrx.Manager.GetMetrics"));
	assert_string_equal(out, "# HELP zcrx_binder_available x\n# TYPE zcrx_binder_available "
				 "gauge\nzcrx_binder_available 0\n");
	assert_int_equal(run(replies, jargs, out, sizeof(out), &s), CTL_EXIT_OK);
	assert_non_null(strstr(out, "\"format\":\"prometheus-text-0.0.4\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_monitor_lines),
		cmocka_unit_test(test_monitor_json_lines_and_count),
		cmocka_unit_test(test_monitor_refused),
		cmocka_unit_test(test_metrics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
