// SPDX-License-Identifier: MIT
/*
 * Unit tests: zcrxctl option parsing and exit codes (zcrxctl/ctl.c).
 * A tiny scripted server thread (not zcrxd) plays the daemon, so every exit
 * code can be provoked: 0 ok, 1 refused, 2 usage, 3 unreachable/timeout.
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
	const char *reply; /* sent (with NUL) after each request; NULL = say nothing */
	int requests;
	char last[4096];
};

static void *serve(void *arg)
{
	struct script *s = arg;
	int fd = accept(s->lfd, NULL, NULL);
	char buf[4096];
	size_t len = 0;

	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len - 1);
		char *nul;

		if (n <= 0)
			break;
		len += (size_t)n;
		while ((nul = memchr(buf, '\0', len))) {
			size_t m = (size_t)(nul - buf) + 1;

			snprintf(s->last, sizeof(s->last), "%s", buf);
			s->requests++;
			memmove(buf, buf + m, len - m);
			len -= m;
			if (s->reply && write(fd, s->reply, strlen(s->reply) + 1) < 0)
				break;
		}
	}
	close(fd);
	return NULL;
}

struct fixture {
	char dir[64], path[128];
	struct script s;
	pthread_t t;
	bool started;
};

static void start(struct fixture *f, const char *reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(f->dir, sizeof(f->dir), "/tmp/zxc-ctl-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/sock", f->dir);
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	f->s.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->s.lfd >= 0);
	assert_int_equal(bind(f->s.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->s.lfd, 4), 0);
	f->s.reply = reply;
	assert_int_equal(pthread_create(&f->t, NULL, serve, &f->s), 0);
	f->started = true;
}

static void stop(struct fixture *f)
{
	if (f->started)
		pthread_join(f->t, NULL);
	close(f->s.lfd);
	unlink(f->path);
	rmdir(f->dir);
}

/* Run zcrxctl with the given arguments; output captured. */
static int run(char **out, char **err, const char *first, ...)
{
	char *argv[32];
	size_t olen, elen;
	FILE *fo, *fe;
	va_list ap;
	int argc = 0, rc;
	const char *a;

	argv[argc++] = (char *)"zcrxctl";
	va_start(ap, first);
	for (a = first; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	fo = open_memstream(out, &olen);
	fe = open_memstream(err, &elen);
	rc = ctl_main(argc, argv, fo, fe);
	fclose(fo);
	fclose(fe);
	return rc;
}

static void test_usage_errors(void **state)
{
	char *o, *e;

	assert_int_equal(run(&o, &e, NULL), CTL_EXIT_USAGE);
	assert_non_null(strstr(e, "missing verb"));
	free(o), free(e);
	assert_int_equal(run(&o, &e, "frobnicate", NULL), CTL_EXIT_USAGE);
	assert_non_null(strstr(e, "unknown verb 'frobnicate'"));
	free(o), free(e);
	assert_int_equal(run(&o, &e, "--bogus", "status", NULL), CTL_EXIT_USAGE);
	free(o), free(e);
	assert_int_equal(run(&o, &e, "status", "extra", NULL), CTL_EXIT_USAGE);
	assert_non_null(strstr(e, "too many arguments"));
	free(o), free(e);
	assert_int_equal(run(&o, &e, "status", "--frob", NULL), CTL_EXIT_USAGE);
	assert_non_null(strstr(e, "'--frob'"));
	free(o), free(e);
	assert_int_equal(run(&o, &e, "--timeout", "soon", "status", NULL), CTL_EXIT_USAGE);
	free(o), free(e);
	assert_int_equal(run(&o, &e, "--json=yaml", "status", NULL), CTL_EXIT_USAGE);
	free(o), free(e);
	assert_int_equal(run(&o, &e, "--help", NULL), CTL_EXIT_OK);
	assert_non_null(strstr(o, "Verbs:"));
	assert_non_null(strstr(o, "status"));
	free(o), free(e);
	assert_int_equal(run(&o, &e, "--version", NULL), CTL_EXIT_OK);
	assert_non_null(strstr(o, "zcrxctl " ZCRX_VERSION));
	free(o), free(e);
}

static void test_unreachable(void **state)
{
	char *o, *e;

	assert_int_equal(run(&o, &e, "--socket", "/tmp/zxc-does-not-exist/sock", "status", NULL),
			 CTL_EXIT_UNREACHABLE);
	assert_non_null(strstr(e, "zcrxd is not running (no socket at /tmp/zxc-does-not-exist/sock)"));
	assert_string_equal(o, "");
	free(o), free(e);
}

static void test_timeout(void **state)
{
	struct fixture f = { 0 };
	char *o, *e;

	start(&f, NULL); /* accepts and reads, never answers */
	assert_int_equal(run(&o, &e, "--socket", f.path, "--timeout", "0.2", "status", NULL),
			 CTL_EXIT_UNREACHABLE);
	assert_non_null(strstr(e, "did not answer within 200 ms"));
	free(o), free(e);
	stop(&f);
}

static void test_ok_and_json(void **state)
{
	struct fixture f = { 0 };
	char *o, *e;

	start(&f, "{\"parameters\":{\"version\":\"9.9\",\"protocol\":1,\"uptime_usec\":61000000,"
		  "\"libvirt\":{\"uri\":null,\"state\":\"disabled\"},\"nics\":2,\"attachments\":5,"
		  "\"new_field_from_the_future\":true}}");
	/* global options after the verb work too */
	assert_int_equal(run(&o, &e, "--socket", f.path, "status", "--json=short", NULL), CTL_EXIT_OK);
	assert_non_null(strstr(f.s.last, "\"method\":\"io.zcrx.Manager.GetStatus\""));
	/* --json prints the parameters as they came, unknown fields included */
	assert_non_null(strstr(o, "\"new_field_from_the_future\":true"));
	assert_non_null(strstr(o, "\"nics\":2"));
	free(o), free(e);
	stop(&f);

	memset(&f, 0, sizeof(f));
	start(&f, "{\"parameters\":{\"version\":\"9.9\",\"protocol\":1,\"uptime_usec\":61000000,"
		  "\"libvirt\":{\"uri\":null,\"state\":\"disabled\"},\"nics\":2,\"attachments\":5}}");
	assert_int_equal(run(&o, &e, "--socket", f.path, "status", NULL), CTL_EXIT_OK);
	assert_non_null(strstr(o, "9.9 (protocol 1)"));
	assert_non_null(strstr(o, "1m 1s"));
	assert_non_null(strstr(o, "Attachments:   5"));
	assert_null(strstr(o, "last error"));
	free(o), free(e);
	stop(&f);

	/* not connected: why */
	memset(&f, 0, sizeof(f));
	start(&f, "{\"parameters\":{\"version\":\"9.9\",\"protocol\":1,\"uptime_usec\":1,"
		  "\"libvirt\":{\"uri\":\"qemu:///system\",\"state\":\"connecting\","
		  "\"last_error\":\"authentication failed: polkit said no\"},\"nics\":0,"
		  "\"attachments\":0}}");
	assert_int_equal(run(&o, &e, "--socket", f.path, "status", NULL), CTL_EXIT_OK);
	assert_non_null(strstr(o, "connecting (qemu:///system)\n"
				  "               last error: authentication failed: polkit said no\n"));
	free(o), free(e);
	stop(&f);
}

static void test_refused(void **state)
{
	struct fixture f = { 0 };
	char *o, *e;

	start(&f, "{\"error\":\"io.zcrx.Manager.KernelError\",\"parameters\":{\"errno\":22,"
		  "\"message\":\"eth0: set channels: requested channel count exceeds maximum (EINVAL)\"}}");
	assert_int_equal(run(&o, &e, "--socket", f.path, "status", NULL), CTL_EXIT_REFUSED);
	assert_string_equal(e, "Error: eth0: set channels: requested channel count exceeds maximum (EINVAL)\n");
	free(o), free(e);
	stop(&f);

	memset(&f, 0, sizeof(f));
	start(&f, "{\"error\":\"io.zcrx.Manager.PermissionDenied\",\"parameters\":{}}");
	assert_int_equal(run(&o, &e, "--socket", f.path, "status", NULL), CTL_EXIT_REFUSED);
	assert_non_null(strstr(e, "permission denied"));
	free(o), free(e);
	stop(&f);
}

static void test_garbage_reply(void **state)
{
	struct fixture f = { 0 };
	char *o, *e;

	start(&f, "this is not json");
	assert_int_equal(run(&o, &e, "--socket", f.path, "status", NULL), CTL_EXIT_UNREACHABLE);
	assert_non_null(strstr(e, "malformed reply"));
	free(o), free(e);
	stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_ok_and_json),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_garbage_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
