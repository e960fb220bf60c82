/* SPDX-License-Identifier: MIT */
/*
 * virt-fixture.h — find and read the captured libvirt fixtures
 * (tests/fixtures/libvirt/) from a unit test, whatever the working directory:
 * $ZCRX_SRCDIR if set, else walk up from the test binary (build/tests/,
 * build/asan/tests/, ...) until tests/fixtures/libvirt exists.
 */
#pragma once

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline const char *virt_fixture_dir(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX - 64], *slash;
	struct stat st;
	const char *env = getenv("ZCRX_SRCDIR");
	ssize_t n;
	int up;

	if (dir[0])
		return dir;
	if (env) {
		snprintf(dir, sizeof(dir), "%s/tests/fixtures/libvirt", env);
		return dir;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		for (up = 0; up < 6; up++) {
			slash = strrchr(exe, '/');
			if (!slash)
				break;
			*slash = 0;
			snprintf(dir, sizeof(dir), "%s/tests/fixtures/libvirt", exe);
			if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
				return dir;
		}
	}
	snprintf(dir, sizeof(dir), "tests/fixtures/libvirt");
	return dir;
}

/* The whole fixture file, NUL-terminated; NULL if unreadable. */
static inline char *virt_fixture_read(const char *name, size_t *ret_len)
{
	char path[PATH_MAX + 256];
	FILE *f;
	char *buf;
	long len;

	if (strlen(name) > 200)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", virt_fixture_dir(), name);
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "fixture %s: %m\n", path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)len + 1);
	if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[len] = 0;
		if (ret_len)
			*ret_len = (size_t)len;
	}
	return buf;
}
