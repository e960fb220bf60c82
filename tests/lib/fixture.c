// SPDX-License-Identifier: MIT
/*
 * fixture — find and read the captured test fixtures (fixture.h).
 * Test-only.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directory holding tests/fixtures: $ZCRX_SRCDIR, an ancestor of the
 * test binary, or "." (the working directory) when neither. */
static const char *source_root(void)
{
	static char root[PATH_MAX];
	char probe[PATH_MAX + 32], *slash;
	const char *env = getenv("ZCRX_SRCDIR");
	ssize_t n;

	if (root[0])
		return root;
	if (env) {
		snprintf(root, sizeof(root), "%s", env);
		return root;
	}
	n = readlink("/proc/self/exe", root, sizeof(root) - 1);
	while (n > 0) {
		root[n] = '\0';
		slash = strrchr(root, '/');
		if (!slash)
			break;
		*slash = '\0';
		n = slash - root;
		snprintf(probe, sizeof(probe), "%s/tests/fixtures", root);
		if (is_dir(probe))
			return root;
	}
	snprintf(root, sizeof(root), ".");
	return root;
}

const char *fixture_dir(const char *sub)
{
	static char dir[PATH_MAX + 64];

	snprintf(dir, sizeof(dir), "%s/tests/fixtures/%s", source_root(), sub);
	return dir;
}

void *fixture_read(const char *sub, const char *name, size_t *ret_len)
{
	char path[PATH_MAX + 320];
	char *buf;
	FILE *f;
	long len;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", fixture_dir(sub), name) >= sizeof(path))
		return NULL;
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
	if (!buf)
		return NULL;
	buf[len] = '\0';
	if (ret_len)
		*ret_len = (size_t)len;
	return buf;
}
