// SPDX-License-Identifier: MIT
/*
 * zxsim connect PATH SEC [PID]
 *      wait until the Unix stream socket PATH accepts a connection (a
 *      daemon that has started listening), at most SEC seconds; with PID,
 *      give up as soon as that process has ended (a zombie counts as
 *      ended).  Tries every 2 ms without a new process each time, which is
 *      what makes it cheaper under TCG than a shell loop around sleep and
 *      test -S.  Exit 0 connected, 1 timed out or PID ended, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "zxsim.h"

static int ended(long pid)
{
	char path[64], buf[256], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p)
		return 1;
	p = strrchr(buf, ')'); /* the state follows the command name */
	return p && (p[2] == 'Z' || p[2] == 'X');
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int zxsim_connect(int argc, char **argv)
{
	static const struct timespec pause = { 0, 2000000 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long pid = 0;
	double until;
	int fd, err = 0;

	if (argc < 3 || argc > 4 || strlen(argv[1]) >= sizeof(sa.sun_path))
		return 2;
	strcpy(sa.sun_path, argv[1]);
	until = now() + atof(argv[2]);
	if (argc == 4)
		pid = atol(argv[3]);
	while (now() < until) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return 1;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			close(fd);
			return 0;
		}
		err = errno;
		close(fd);
		if (pid && ended(pid)) {
			fprintf(stderr, "zxsim connect: %s: process %ld ended\n", argv[1], pid);
			return 1;
		}
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "zxsim connect: %s: %s after %s s\n", argv[1], strerror(err), argv[2]);
	return 1;
}
