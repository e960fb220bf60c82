/* SPDX-License-Identifier: MIT */
/*
 * nic-fixture.h — read the captured kernel replies in tests/fixtures/nic/
 * (made by tests/fixtures/nic/capture.sh) from a unit test, whatever the
 * working directory: $ZCRX_SRCDIR if set, else the first ancestor of the
 * test binary that has tests/fixtures/nic.
 */
#pragma once

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline const char *nic_fixture_dir(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX - 64], *slash;
	const char *env = getenv("ZCRX_SRCDIR");
	struct stat st;
	ssize_t n;

	if (dir[0])
		return dir;
	if (env) {
		snprintf(dir, sizeof(dir), "%s/tests/fixtures/nic", env);
		return dir;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	while (n > 0) {
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (!slash)
			break;
		*slash = 0;
		n = slash - exe;
		snprintf(dir, sizeof(dir), "%s/tests/fixtures/nic", exe);
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return dir;
	}
	snprintf(dir, sizeof(dir), "tests/fixtures/nic");
	return dir;
}

/* The whole file in an 8-byte aligned buffer; NULL if unreadable. */
static inline void *nic_fixture_read(const char *name, size_t *ret_len)
{
	char path[PATH_MAX + 256];
	void *buf;
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "%s/%s.bin", nic_fixture_dir(), name);
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "fixture %s: %m\n", path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)len + 8);
	if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		*ret_len = (size_t)len;
	return buf;
}
