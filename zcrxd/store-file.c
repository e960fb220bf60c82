// SPDX-License-Identifier: MIT
/*
 * store-file — <state-dir>/state.json on disk: load, atomic save (temp file,
 * fsync, rename, fsync of the directory), save only when changed, and
 * moving files that do not parse aside under names of their own.
 * Owns: the file.  Must not: parse or render JSON itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store-int.h"

/* --- files ----------------------------------------------------------------------- */

int store_path_of(char *buf, size_t size, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int store_io_errno(int e)
{
	return e == EBADMSG ? EIO : e;
}

int store_load(const char *dir, struct store *ret, struct kerror *err)
{
	char path[4096], *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, r;

	store_init(ret);
	if (store_path_of(path, sizeof(path), dir, STORE_FILE) < 0)
		return kerror_set(err, ENAMETOOLONG, dir, "load state", NULL);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return kerror_setf(err, store_io_errno(errno), path, "load state", "open: %s",
				   strerror(errno));
	}
	for (;;) {
		ssize_t k;

		if (len == cap) {
			char *p;

			cap = cap ? cap * 2 : 65536;
			if (cap > STORE_MAX_BYTES + 1)
				cap = STORE_MAX_BYTES + 1;
			if (len == cap) {
				r = kerror_set(err, EFBIG, path, "load state", "file too large");
				goto out;
			}
			p = realloc(buf, cap);
			if (!p) {
				r = kerror_set(err, ENOMEM, path, "load state", NULL);
				goto out;
			}
			buf = p;
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = kerror_setf(err, store_io_errno(errno), path, "load state", "read: %s",
					strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	r = store_parse(buf ? buf : "", len, ret, err);
	if (r == -EINVAL) /* what the file says, not how it was read */
		r = -(err->err = EBADMSG);
	if (r < 0)
		snprintf(err->obj, sizeof(err->obj), "%.*s", (int)sizeof(err->obj) - 1, path);
out:
	close(fd);
	free(buf);
	return r;
}

int store_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Does the file at path hold exactly text[0..len)?  Any doubt is "no". */
static bool file_holds(const char *path, const char *text, size_t len)
{
	char buf[16384];
	struct stat st;
	size_t off = 0;
	bool same = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != len)
		goto out;
	while (off < len) {
		size_t want = len - off < sizeof(buf) ? len - off : sizeof(buf);
		ssize_t k = read(fd, buf, want);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || memcmp(buf, text + off, (size_t)k))
			goto out;
		off += (size_t)k;
	}
	same = true;
out:
	close(fd);
	return same;
}

int store_save_text(const char *dir, const char *text, size_t len, struct kerror *err)
{
	char path[4096], tmp[4096];
	int fd = -1, dfd = -1, r;

	if (store_path_of(path, sizeof(path), dir, STORE_FILE) < 0 ||
	    store_path_of(tmp, sizeof(tmp), dir, "." STORE_FILE ".tmp") < 0)
		return kerror_set(err, ENAMETOOLONG, dir, "save state", NULL);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return kerror_setf(err, errno, tmp, "save state", "open: %s", strerror(errno));
	if ((r = store_write_all(fd, text, len)) < 0) {
		r = kerror_setf(err, -r, tmp, "save state", "write: %s", strerror(-r));
		goto out_unlink;
	}
	if (fsync(fd) < 0) {
		r = kerror_setf(err, errno, tmp, "save state", "fsync: %s", strerror(errno));
		goto out_unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = kerror_setf(err, errno, tmp, "save state", "close: %s", strerror(errno));
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = kerror_setf(err, errno, path, "save state", "rename: %s", strerror(errno));
		goto out_unlink;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		/* renamed: the new file is in place, not known durable */
		r = kerror_setf(err, errno, dir, "save state", "fsync directory: %s",
				strerror(errno));
		goto out;
	}
	r = 0;
	goto out;
out_unlink:
	(void)unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return r;
}

static int save(const char *dir, const struct store *s, bool if_changed, struct kerror *err)
{
	char path[4096];
	struct jtext text = { 0 };
	int r;

	if (store_path_of(path, sizeof(path), dir, STORE_FILE) < 0)
		return kerror_set(err, ENAMETOOLONG, dir, "save state", NULL);
	if (store_to_text(s, &text) < 0)
		return kerror_set(err, ENOMEM, path, "save state", NULL);
	if (if_changed && file_holds(path, text.s, text.n)) {
		jtext_free(&text);
		return 0;
	}
	r = store_save_text(dir, text.s, text.n, err);
	jtext_free(&text);
	return r < 0 ? r : 1;
}

int store_save(const char *dir, const struct store *s, struct kerror *err)
{
	int r = save(dir, s, false, err);

	return r < 0 ? r : 0;
}

int store_save_changed(const char *dir, const struct store *s, struct kerror *err)
{
	return save(dir, s, true, err);
}

/* Move dir/name to dir/name.corrupt-<stamp>[-N]: link() never replaces, so
 * an earlier bad file (even of the same second) stays.  0 when moved (its
 * new path in moved), 1 when there was no such file. */
static int move_aside(const char *dir, const char *name, const char *stamp, char *moved,
		      size_t size, struct kerror *err)
{
	char path[4096], bad[4096];
	int k, n;

	if (store_path_of(path, sizeof(path), dir, name) < 0)
		return kerror_set(err, ENAMETOOLONG, dir, "quarantine state", NULL);
	for (k = 0; k < 1000; k++) {
		n = k ? snprintf(bad, sizeof(bad), "%s/%s.corrupt-%s-%d", dir, name, stamp, k) :
			snprintf(bad, sizeof(bad), "%s/%s.corrupt-%s", dir, name, stamp);
		if (n < 0 || (size_t)n >= sizeof(bad))
			return kerror_set(err, ENAMETOOLONG, dir, "quarantine state", NULL);
		if (link(path, bad) == 0)
			break;
		if (errno == ENOENT)
			return 1;
		if (errno != EEXIST)
			return kerror_setf(err, errno, path, "quarantine state", "link to %s: %s", bad,
					   strerror(errno));
	}
	if (k == 1000)
		return kerror_set(err, EEXIST, path, "quarantine state", "no free name");
	if (unlink(path) < 0) {
		int e = errno;

		(void)unlink(bad);
		return kerror_setf(err, e, path, "quarantine state", "unlink: %s", strerror(e));
	}
	snprintf(moved, size, "%s", bad);
	return 0;
}

int store_quarantine(const char *dir, char *moved, size_t size, struct kerror *err)
{
	char stamp[32], one[4200];
	struct tm tm;
	time_t now = time(NULL);
	size_t len = 0;
	int r, k;
	static const char *const names[] = { STORE_FILE, STORE_LOG };

	if (!gmtime_r(&now, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm))
		snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
	if (size)
		moved[0] = '\0';
	/* the log goes with its snapshot: it is a list of changes to it */
	for (k = 0; k < 2; k++) {
		r = move_aside(dir, names[k], stamp, one, sizeof(one), err);
		if (r < 0)
			return r;
		if (r == 0 && len < size)
			len += (size_t)snprintf(moved + len, size - len, "%s%s", len ? " and " : "",
						one);
	}
	return 0;
}
