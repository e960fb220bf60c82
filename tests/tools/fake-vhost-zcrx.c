// SPDX-License-Identifier: MIT
/*
 * fake-vhost-zcrx — the test-only fake vhost_zcrx module (tests/lib/
 * fake-binder) as a process of its own, so bindings outlive a zcrxd restart
 * in integration tests.  Start the test daemon build/tests/zcrxd-fake with
 * --fake-binder SOCKET to make it talk to this instead of the kernel
 * (zcrxd itself cannot).
 *
 *   fake-vhost-zcrx --socket PATH [--absent] [--check-links] [--watch-links]
 *                   [--auto-active] [--features N] [--max-bindings N]
 *
 * Control: a stream socket at PATH.ctl; each line is a fake_binder_control()
 * command ("present 1", "state 1 active", "gone 7", "list", "log", ...) and
 * is answered with lines ending in "ok" or "error: ...".  Prints "ready" on
 * stdout once both sockets listen.  SIGTERM/SIGINT stop it.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake-binder.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int listen_stream(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* One control connection: read lines until EOF, answer each. */
static void serve_control(struct fake_binder *fb, int fd)
{
	char in[1024], out[16384];
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, in + len, sizeof(in) - 1 - len);
		char *nl;

		if (n <= 0)
			return;
		len += (size_t)n;
		in[len] = '\0';
		while ((nl = strchr(in, '\n'))) {
			*nl = '\0';
			(void)fake_binder_control(fb, in, out, sizeof(out));
			if (write(fd, out, strlen(out)) < 0)
				return;
			len -= (size_t)(nl + 1 - in);
			memmove(in, nl + 1, len + 1);
		}
		if (len == sizeof(in) - 1)
			return; /* a line too long */
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "absent", no_argument, NULL, 'a' },
		{ "check-links", no_argument, NULL, 'c' },
		{ "watch-links", no_argument, NULL, 'w' },
		{ "auto-active", no_argument, NULL, 'A' },
		{ "features", required_argument, NULL, 'f' },
		{ "max-bindings", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct fake_binder_options o = { 0 };
	struct fake_binder *fb = NULL;
	const char *path = NULL;
	char ctl[128];
	int c, r, ctl_fd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'a': o.absent = true; break;
		case 'c': o.check_links = true; break;
		case 'w': o.watch_links = true; break;
		case 'A': o.auto_active = true; break;
		case 'f':
			o.features = strtoull(optarg, NULL, 0);
			o.no_features_set = true;
			break;
		case 'm': o.max_bindings = (uint32_t)strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: fake-vhost-zcrx --socket PATH [options]\n");
			return 2;
		}
	}
	if (!path || optind != argc) {
		fprintf(stderr, "usage: fake-vhost-zcrx --socket PATH [options]\n");
		return 2;
	}
	snprintf(ctl, sizeof(ctl), "%s.ctl", path);
	r = fake_binder_new(path, &o, &fb);
	if (r < 0) {
		fprintf(stderr, "fake-vhost-zcrx: %s: %s\n", path, strerror(-r));
		return 1;
	}
	ctl_fd = listen_stream(ctl);
	if (ctl_fd < 0) {
		fprintf(stderr, "fake-vhost-zcrx: %s: %s\n", ctl, strerror(-ctl_fd));
		fake_binder_free(fb);
		return 1;
	}
	r = fake_binder_start(fb);
	if (r < 0) {
		fprintf(stderr, "fake-vhost-zcrx: thread: %s\n", strerror(-r));
		close(ctl_fd);
		fake_binder_free(fb);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd p = { .fd = ctl_fd, .events = POLLIN };
		int fd;

		if (poll(&p, 1, 200) <= 0)
			continue;
		fd = accept4(ctl_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_control(fb, fd);
		close(fd);
	}
	close(ctl_fd);
	(void)unlink(ctl);
	fake_binder_free(fb);
	return 0;
}
