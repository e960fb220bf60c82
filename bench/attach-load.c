// SPDX-License-Identifier: MIT
/*
 * attach-load — issues Attach calls over Varlink as fast as zcrxd answers
 * them, for bench-scale.py's burst figure: the load generator whose own
 * CPU is small next to the daemon's (both share the machine's two cores),
 * and the same program for both sides of the ratio.
 *
 *   attach-load SOCKET TOTAL CLIENTS PREFIX MACBASE
 *
 * Opens CLIENTS connections to SOCKET first (not timed), then issues TOTAL
 * Attach calls: call i is {"domain": PREFIX<i>, "nic": "eth<i % 16>",
 * "mac": 52:54:00 + (MACBASE + i)} on connection i % CLIENTS, each
 * connection with one call in flight at a time (its next call is sent when
 * the reply to the last one came).  CLIENTS 1 is "one at a time".  One
 * thread, poll(2) over the connections.
 *
 * Every reply is read in full and parsed; a reply with an "error" member
 * is counted as an error, never as an attach.  Prints one JSON object:
 * {"attaches", "clients", "seconds", "ok", "errors", "first_error",
 *  "client_cpu_s"} (seconds: first call sent to last reply read).
 * Exit 0 when every call was answered (errors or not), 1 when a
 * connection failed (the run is void).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "jtok.h"

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
	long next; /* the call this connection issues next */
	long busy; /* the call in flight, -1 for none */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int dial(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* Send call i on c (a call of ~150 bytes: one write, one call in flight). */
static int send_call(struct conn *c, long i, const char *prefix, unsigned long macbase)
{
	unsigned long m = macbase + (unsigned long)i;
	char msg[256];
	int n;
	ssize_t w;

	n = snprintf(msg, sizeof(msg),
		     "{\"method\":\"io.zcrx.Manager.Attach\",\"parameters\":{\"domain\":\"%s%ld\","
		     "\"nic\":\"eth%ld\",\"mac\":\"52:54:00:%02lx:%02lx:%02lx\"}}",
		     prefix, i, i % 16, (m >> 16) & 0xff, (m >> 8) & 0xff, m & 0xff);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -E2BIG;
	w = write(c->fd, msg, (size_t)n + 1); /* the NUL ends the message */
	if (w != n + 1)
		return w < 0 ? -errno : -EIO;
	c->busy = i;
	return 0;
}

/* The reply msg[0..len) (NUL excluded): 1 when it is an error, 0 when not,
 * -1 when it is no Varlink reply; the error's text into why. */
static int reply_error(char *msg, size_t len, char *why, size_t why_len)
{
	struct jtok_doc d = { 0 };
	int e, r;

	if (jtok_parse(&d, msg, len) < 0 || !jtok_is(&d, 0, JTOK_OBJECT)) {
		jtok_free(&d);
		snprintf(why, why_len, "not a Varlink reply");
		return -1;
	}
	e = jtok_get(&d, 0, "error");
	r = e >= 0;
	if (r)
		snprintf(why, why_len, "%s", jtok_str(&d, e, "(error not a string)"));
	jtok_free(&d);
	return r;
}

int main(int argc, char **argv)
{
	const char *path, *prefix;
	unsigned long macbase;
	struct conn *cs;
	struct pollfd *pf;
	long total, clients, k, answered = 0, errors = 0;
	char first_error[256] = "";
	double t0, dt, c0;
	int bad = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: attach-load SOCKET TOTAL CLIENTS PREFIX MACBASE\n");
		return 2;
	}
	path = argv[1];
	total = strtol(argv[2], NULL, 0);
	clients = strtol(argv[3], NULL, 0);
	prefix = argv[4];
	macbase = strtoul(argv[5], NULL, 0);
	if (total < 1 || clients < 1 || clients > total || strlen(prefix) > 64) {
		fprintf(stderr, "attach-load: bad TOTAL, CLIENTS or PREFIX\n");
		return 2;
	}
	cs = calloc((size_t)clients, sizeof(*cs));
	pf = calloc((size_t)clients, sizeof(*pf));
	if (!cs || !pf)
		return 1;
	for (k = 0; k < clients; k++) {
		cs[k].fd = dial(path);
		if (cs[k].fd < 0) {
			fprintf(stderr, "attach-load: connect %s: %s\n", path, strerror(-cs[k].fd));
			return 1;
		}
		cs[k].next = k;
		cs[k].busy = -1;
		pf[k].fd = cs[k].fd;
		pf[k].events = POLLIN;
	}

	c0 = cpu_s();
	t0 = now();
	for (k = 0; k < clients; k++) {
		if (send_call(&cs[k], cs[k].next, prefix, macbase) < 0) {
			fprintf(stderr, "attach-load: send: %s\n", strerror(errno));
			return 1;
		}
		cs[k].next += clients;
	}
	while (answered < total) {
		if (poll(pf, (nfds_t)clients, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "attach-load: poll: %s\n", strerror(errno));
			return 1;
		}
		for (k = 0; k < clients; k++) {
			struct conn *c = &cs[k];
			char *end;
			ssize_t n;

			if (!pf[k].revents)
				continue;
			if (c->cap - c->len < 4096) {
				char *nb = realloc(c->buf, c->cap * 2 + 8192);

				if (!nb)
					return 1;
				c->buf = nb;
				c->cap = c->cap * 2 + 8192;
			}
			n = read(c->fd, c->buf + c->len, c->cap - c->len);
			if (n <= 0) {
				fprintf(stderr, "attach-load: connection %ld: %s\n", k,
					n ? strerror(errno) : "closed by zcrxd");
				return 1;
			}
			c->len += (size_t)n;
			end = memchr(c->buf, '\0', c->len);
			if (!end)
				continue;
			if (c->busy < 0 || (size_t)(end - c->buf) + 1 != c->len) {
				fprintf(stderr, "attach-load: connection %ld: a reply nobody asked for\n",
					k);
				return 1;
			}
			{
				char why[200];
				int r = reply_error(c->buf, (size_t)(end - c->buf), why,
						    sizeof(why));

				if (r < 0)
					bad = 1;
				if (r != 0) {
					errors++;
					if (!first_error[0])
						snprintf(first_error, sizeof(first_error),
							 "%s%ld: %s", prefix, c->busy, why);
				}
			}
			c->len = 0;
			c->busy = -1;
			answered++;
			if (c->next < total) {
				if (send_call(c, c->next, prefix, macbase) < 0) {
					fprintf(stderr, "attach-load: send: %s\n", strerror(errno));
					return 1;
				}
				c->next += clients;
			}
		}
	}
	dt = now() - t0;
	c0 = cpu_s() - c0;
	/* first_error goes into a JSON string as it is: nothing to escape in it */
	for (k = 0; first_error[k]; k++)
		if (first_error[k] == '"' || first_error[k] == '\\' ||
		    (unsigned char)first_error[k] < 0x20)
			first_error[k] = '?';
	printf("{\"attaches\": %ld, \"clients\": %ld, \"seconds\": %.6f, \"ok\": %ld, "
	       "\"errors\": %ld, \"first_error\": \"%s\", \"client_cpu_s\": %.6f}\n",
	       total, clients, dt, answered - errors, errors, first_error, c0);
	for (k = 0; k < clients; k++) {
		close(cs[k].fd);
		free(cs[k].buf);
	}
	free(cs);
	free(pf);
	return bad ? 1 : 0;
}
