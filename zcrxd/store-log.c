// SPDX-License-Identifier: MIT
/*
 * store-log — the state directory as a snapshot and a log (store.h,
 * docs/state.md): reading both, appending the records of what changed,
 * one fdatasync for many writes (group commit), and compaction.
 *
 * Owns: state.log, the generation that ties it to state.json, what was
 * written last of each NIC's settings.  Must not: decide when to write or
 * sync (reconcile.c does), render or parse JSON itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-int.h"
#include "monotime.h"

/* Compact when the log is larger than this and than the snapshot: the
 * log's size, and so the time to read it at start, stays within a few
 * times the state's own, and a compaction's O(state) work is paid at most
 * once per O(state) bytes appended. */
#define STORE_LOG_MIN_COMPACT (256u << 10)

struct store_log {
	char *dir;
	int fd;             /* state.log, O_APPEND */
	uint64_t generation;
	/* appends so far, and how many of them are known durable: fewer
	 * while something was written since the last fdatasync */
	uint64_t appended, durable;
	bool broken;        /* a write failed: the log's end is unknown, compact */
	/* compactions started by the caller (store_log_set_async): due says
	 * one is needed, compacting that one was begun and not ended; held:
	 * a write found changes it could not append meanwhile (they stay
	 * marked in the store, for the next write) */
	bool async, due, compacting, held;
	/* each NIC's settings as last written (entries left empty) */
	size_t n_written;
	struct journal_nic *written;
	struct store_log_stats st;
	/* the records of a write: kept from write to write (a buffer's first
	 * growth cost as much as a record), let go when it grew big */
	struct jtext buf;
};

#define STORE_LOG_BUF_KEEP (64u << 10)

/* --- reading ----------------------------------------------------------------------- */

static int read_file(const char *path, char **ret, size_t *ret_len, struct kerror *err)
{
	struct stat st;
	size_t len = 0;
	char *buf;
	int fd;

	*ret = NULL;
	*ret_len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return kerror_setf(err, store_io_errno(errno), path, "load state", "open: %s",
				   strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		return kerror_setf(err, store_io_errno(errno), path, "load state", "stat: %s",
				   strerror(errno));
	}
	if ((uint64_t)st.st_size > STORE_MAX_BYTES) {
		close(fd);
		return kerror_setf(err, EFBIG, path, "load state", "larger than %u bytes",
				   STORE_MAX_BYTES);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return kerror_set(err, ENOMEM, path, "load state", NULL);
	}
	while (len < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + len, (size_t)st.st_size - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;

			close(fd);
			free(buf);
			return kerror_setf(err, store_io_errno(e), path, "load state", "read: %s",
					   strerror(e));
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 1;
}

/* One line of the log: "<8 hex digits> <JSON>"; false when torn or its
 * checksum does not match. */
static bool record_ok(const char *p, size_t n)
{
	char hex[9];
	char *end;
	unsigned long crc;

	if (n < 10 || p[8] != ' ')
		return false;
	memcpy(hex, p, 8);
	hex[8] = '\0';
	crc = strtoul(hex, &end, 16);
	return *end == '\0' && (uint32_t)crc == store_crc32(p + 9, n - 9);
}

/*
 * Replay the log's text onto s.  The first line must be the "log" record
 * of s's generation; a log of another generation is older than the
 * snapshot (a compaction stopped between its two renames) and already in
 * it.  Replay stops at the first line that is torn or fails its checksum:
 * that is a write no fdatasync finished, so no reply told anyone about it.
 */
static int replay(struct store *s, const char *text, size_t len, struct store_read_info *info,
		  struct kerror *err)
{
	size_t off = 0;
	bool first = true;

	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		uint64_t gen = UINT64_MAX;
		int r;

		if (!nl || !record_ok(text + off, n))
			break;
		r = store_rec_apply(s, text + off + 9, n - 9, &gen, err);
		if (r < 0) {
			kerror_context(err, NULL, "parse state.log");
			return r;
		}
		if (first && gen != s->generation) {
			info->stale_log = true;
			return 0;
		}
		if (!first && gen != UINT64_MAX)
			return kerror_setf(err, EINVAL, NULL, "parse state.log",
					   "a second log header at byte %zu", off);
		if (first && gen == UINT64_MAX)
			return kerror_setf(err, EINVAL, NULL, "parse state.log",
					   "the log does not start with its header");
		first = false;
		if (gen == UINT64_MAX)
			info->records++;
		off += n + 1;
	}
	info->dropped_bytes = len - off;
	return 0;
}

int store_read_dir(const char *dir, struct store *ret, struct store_read_info *info,
		   struct kerror *err)
{
	struct store_read_info dummy;
	char path[4096], *text = NULL;
	size_t len;
	int r;

	if (!info)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	store_init(ret);
	r = store_load(dir, ret, err);
	if (r < 0)
		return r;
	info->schema = ret->schema;
	if (store_path_of(path, sizeof(path), dir, STORE_LOG) < 0)
		return kerror_set(err, ENAMETOOLONG, dir, "load state", NULL);
	r = read_file(path, &text, &len, err);
	if (r < 0)
		goto fail;
	if (r > 0) {
		r = replay(ret, text, len, info, err);
		free(text);
		if (r == -EINVAL) /* what the log says, not how it was read */
			r = -(err->err = EBADMSG);
		if (r < 0) {
			snprintf(err->obj, sizeof(err->obj), "%.*s", (int)sizeof(err->obj) - 1,
				 path);
			goto fail;
		}
	}
	store_marks_clear(ret);
	return 0;
fail:
	store_clear(ret);
	return r;
}

/* --- writing ----------------------------------------------------------------------- */

static bool u32s_equal(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
	return na == nb && (!na || !memcmp(a, b, na * sizeof(*a)));
}

static bool settings_equal(const struct journal_nic *a, const struct journal_nic *b)
{
	return a->ifindex == b->ifindex && a->released == b->released &&
	       a->has_channels_prior == b->has_channels_prior &&
	       (!a->has_channels_prior || (a->channels_prior.rx == b->channels_prior.rx &&
					   a->channels_prior.combined ==
						   b->channels_prior.combined)) &&
	       a->has_ntuple_prior == b->has_ntuple_prior &&
	       (!a->has_ntuple_prior || a->ntuple_prior == b->ntuple_prior) &&
	       a->has_tds_prior == b->has_tds_prior &&
	       (!a->has_tds_prior || a->tds_prior == b->tds_prior) &&
	       a->has_hds_prior == b->has_hds_prior &&
	       (!a->has_hds_prior || a->hds_prior == b->hds_prior) &&
	       a->has_rss0_prior == b->has_rss0_prior &&
	       (!a->has_rss0_prior ||
		u32s_equal(a->rss0_prior, a->n_rss0_prior, b->rss0_prior, b->n_rss0_prior));
}

static void written_clear(struct store_log *l)
{
	size_t i;

	for (i = 0; i < l->n_written; i++)
		journal_nic_clear(&l->written[i]);
	free(l->written);
	l->written = NULL;
	l->n_written = 0;
}

/* Remember s's NIC settings as written; false when out of memory. */
static bool written_take(struct store_log *l, const struct store *s)
{
	size_t i;

	written_clear(l);
	l->written = calloc(s->n_nics ? s->n_nics : 1, sizeof(*l->written));
	if (!l->written)
		return false;
	for (i = 0; i < s->n_nics; i++) {
		struct journal_nic *w = &l->written[l->n_written];
		const struct journal_nic *j = &s->nics[i];

		l->n_written++;
		*w = *j; /* its settings; the entries' arrays not: */
		w->n_leases = w->n_rules = w->n_ctxs = w->n_bindings = 0;
		w->leases = NULL;
		w->rules = NULL;
		w->ctxs = NULL;
		w->bindings = NULL;
		w->rss0_prior = NULL;
		w->n_rss0_prior = 0;
		w->has_rss0_prior = false;
		if (j->has_rss0_prior &&
		    journal_set_rss0_prior(w, j->rss0_prior, j->n_rss0_prior) < 0)
			return false;
	}
	return true;
}

static const struct journal_nic *written_find(const struct store_log *l, const char *nic)
{
	size_t i;

	for (i = 0; i < l->n_written; i++)
		if (!strcmp(l->written[i].name, nic))
			return &l->written[i];
	return NULL;
}

static int fsync_dir(const char *dir, struct kerror *err)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0 || fsync(dfd) < 0) {
		int e = errno;

		if (dfd >= 0)
			close(dfd);
		return kerror_setf(err, e, dir, "save state", "fsync directory: %s", strerror(e));
	}
	close(dfd);
	return 0;
}

/* --- compaction ------------------------------------------------------------------------- */

/* One compaction: rendered on the log's thread (begin), its file work on
 * any (run), taken in on the log's thread (end).  It owns all it uses:
 * nothing points into the log or the store. */
struct store_log_compaction {
	char *dir;
	uint64_t generation;
	struct jtext snap; /* state.json of generation */
	struct jtext head; /* the new log's first line */
	uint64_t upto;     /* the appends it makes durable */
	size_t snap_bytes; /* the snapshot's size (its text is freed once written) */
	bool written_ok;   /* the NICs' settings as written could be kept */
	/* run's results */
	int fd;            /* the new log, O_APPEND; -1 */
	bool snapshot;     /* state.json of generation is in place */
	int result;
	uint64_t took_usec;
	struct kerror err;
};

/* A new, empty log of c's generation in place of the old one (c->fd). */
static int new_log(struct store_log_compaction *c, struct kerror *err)
{
	char path[4096], tmp[4096];
	int fd, r;

	if (store_path_of(path, sizeof(path), c->dir, STORE_LOG) < 0 ||
	    store_path_of(tmp, sizeof(tmp), c->dir, "." STORE_LOG ".tmp") < 0)
		return kerror_set(err, ENAMETOOLONG, c->dir, "save state", NULL);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return kerror_setf(err, errno, tmp, "save state", "open: %s", strerror(errno));
	if ((r = store_write_all(fd, c->head.s, c->head.n)) < 0) {
		r = kerror_setf(err, -r, tmp, "save state", "write: %s", strerror(-r));
		goto fail;
	}
	if (fdatasync(fd) < 0) {
		r = kerror_setf(err, errno, tmp, "save state", "fdatasync: %s", strerror(errno));
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		r = kerror_setf(err, errno, path, "save state", "rename: %s", strerror(errno));
		goto fail;
	}
	if ((r = fsync_dir(c->dir, err)) < 0)
		goto fail_open;
	c->fd = fd;
	return 0;
fail:
	(void)unlink(tmp);
fail_open:
	close(fd);
	return r;
}

int store_log_compact_begin(struct store_log *l, struct store *s,
			    struct store_log_compaction **ret, struct kerror *err)
{
	struct store_log_compaction *c;
	uint64_t gen = l->generation + 1, was = s->generation;

	if (l->compacting) /* (*ret left alone) */
		return kerror_set(err, EBUSY, STORE_LOG, "save state", "a compaction is under way");
	*ret = NULL;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->dir = strdup(l->dir))) {
		free(c);
		return kerror_set(err, ENOMEM, l->dir, "save state", NULL);
	}
	c->fd = -1;
	c->generation = gen;
	/* 1. the snapshot of generation gen: from the moment it is renamed
	 *    into place the old log is stale;
	 * 2. an empty log of generation gen.  A crash between the two leaves
	 *    the new snapshot and a log of the old generation, ignored. */
	s->generation = gen;
	if (store_to_text(s, &c->snap) < 0)
		c->snap.fail = true;
	s->generation = was;
	store_rec_generation(&c->head, gen);
	if (c->snap.fail || c->head.fail) {
		store_log_compaction_free(c);
		return kerror_set(err, ENOMEM, l->dir, "save state", NULL);
	}
	/* everything in the store now is in the snapshot: what was appended,
	 * what waited (held, marked), the NICs' settings */
	c->upto = l->appended;
	c->written_ok = written_take(l, s);
	store_marks_clear(s);
	l->held = false;
	l->due = false;
	l->compacting = true;
	*ret = c;
	return 0;
}

int store_log_compact_run(struct store_log_compaction *c)
{
	uint64_t t0 = monotime_usec();
	int r;

	kerror_clear(&c->err);
	r = store_save_text(c->dir, c->snap.s, c->snap.n, &c->err);
	c->snap_bytes = c->snap.n;
	jtext_free(&c->snap); /* (O(state): not held longer than needed) */
	if (r >= 0) {
		c->snapshot = true;
		r = new_log(c, &c->err);
	}
	c->took_usec = monotime_usec() - t0;
	return c->result = r;
}

const struct kerror *store_log_compaction_error(const struct store_log_compaction *c)
{
	return &c->err;
}

int store_log_compact_end(struct store_log *l, struct store *s, struct store_log_compaction *c,
			  struct kerror *err)
{
	struct store_log_compaction one = *c;
	int r = c->result;

	free(c);
	l->compacting = false;
	l->st.compaction_usec_last = one.took_usec;
	if (one.took_usec > l->st.compaction_usec_max)
		l->st.compaction_usec_max = one.took_usec;
	if (one.snapshot) { /* the old log is stale from here on */
		l->generation = one.generation;
		s->generation = one.generation;
		l->st.snapshot_bytes = one.snap_bytes;
	}
	if (r < 0) {
		if (err)
			*err = one.err;
		l->broken = true; /* the next write compacts again */
	} else {
		if (l->fd >= 0)
			close(l->fd);
		l->fd = one.fd;
		one.fd = -1;
		l->broken = !one.written_ok; /* (compact again next time) */
		if (l->durable < one.upto)
			l->durable = one.upto; /* all of it is in the new snapshot */
		l->st.log_bytes = one.head.n;
		l->st.compactions++;
		l->st.syncs++;
	}
	if (one.fd >= 0)
		close(one.fd);
	free(one.dir);
	jtext_free(&one.snap);
	jtext_free(&one.head);
	return r;
}

void store_log_compaction_free(struct store_log_compaction *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->dir);
	jtext_free(&c->snap);
	jtext_free(&c->head);
	free(c);
}

/* A compaction on the caller's thread, timed (store_log_stats). */
int store_log_compact(struct store_log *l, struct store *s, struct kerror *err)
{
	struct store_log_compaction *c;
	int r = store_log_compact_begin(l, s, &c, err);

	if (r < 0) {
		if (r != -EBUSY)
			l->broken = true;
		return r;
	}
	(void)store_log_compact_run(c);
	return store_log_compact_end(l, s, c, err);
}

void store_log_set_async(struct store_log *l, bool on)
{
	l->async = on;
}

bool store_log_compact_due(const struct store_log *l)
{
	return l && l->due && !l->compacting;
}

bool store_log_compacting(const struct store_log *l)
{
	return l && l->compacting;
}

bool store_log_held(const struct store_log *l)
{
	return l && l->held;
}

int store_log_open(const char *dir, struct store *ret, struct store_log **log,
		   struct store_read_info *info, struct kerror *err)
{
	struct store_log *l;
	int r;

	*log = NULL;
	r = store_read_dir(dir, ret, info, err);
	if (r < 0)
		return r;
	l = calloc(1, sizeof(*l));
	if (!l || !(l->dir = strdup(dir))) {
		free(l);
		store_clear(ret);
		return kerror_set(err, ENOMEM, dir, "load state", NULL);
	}
	l->fd = -1;
	l->generation = ret->generation;
	*log = l;
	/* not written: the store is still good, the next write tries again */
	return store_log_compact(l, ret, err) < 0 ? 1 : 0;
}

int store_log_write(struct store_log *l, struct store *s, struct kerror *err)
{
	struct jtext *b = &l->buf;
	uint64_t records = 0, settings = 0;
	size_t i, k;
	int r;

	/* (one merely due appends on: the snapshot, rendered when it
	 * starts, holds everything written until then) */
	bool hold = l->async && (l->compacting || l->broken || s->n_marks == SIZE_MAX);

	if (hold && !l->compacting)
		l->due = true; /* (the caller starts it) */
	if (hold && (l->broken || s->n_marks == SIZE_MAX)) {
		l->held = true;
		return 1;
	}
	if (!hold && (l->broken || s->n_marks == SIZE_MAX)) {
		r = store_log_compact(l, s, err);
		return r < 0 ? r : 1;
	}
	jtext_reset(b);
	/* NICs' settings, and journals gone */
	for (i = 0; i < s->n_nics; i++) {
		const struct journal_nic *j = &s->nics[i], *w = written_find(l, j->name);
		bool whole = false;

		for (k = 0; k < s->n_nic_marks && !whole; k++)
			whole = !strcmp(s->nic_marks[k], j->name);
		if (whole || !w)
			store_rec_nic(b, j, false);
		else if (!settings_equal(j, w))
			store_rec_nic(b, j, true);
		else
			continue;
		records++;
		settings++;
	}
	for (i = 0; i < l->n_written; i++)
		if (!store_journal(s, l->written[i].name, 0, false)) {
			store_rec_drop(b, l->written[i].name);
			records++;
			settings++;
		}
	for (i = 0; i < s->n_marks; i++) {
		store_rec_owner(b, s, s->marks[i].nic, s->marks[i].mac);
		records++;
	}
	if (b->fail || (hold && b->n)) {
		/* nothing appended meanwhile: the changes stay marked and go
		 * into the next log (or the next snapshot) */
		jtext_free(b);
		if (l->async) {
			l->held = true;
			l->due |= !l->compacting;
			return 1;
		}
		r = store_log_compact(l, s, err);
		return r < 0 ? r : 1;
	}
	if (!b->n) {
		if (!hold)
			l->held = false;
		store_marks_clear(s);
		return 0;
	}
	r = store_write_all(l->fd, b->s, b->n);
	if (r < 0) {
		/* part of it may be in the file: its end is unknown now */
		l->broken = true;
		jtext_free(b);
		return kerror_setf(err, -r, STORE_LOG, "save state", "write: %s", strerror(-r));
	}
	l->appended++;
	l->held = false;
	l->st.writes++;
	l->st.records += records;
	l->st.log_bytes += b->n;
	if (b->cap > STORE_LOG_BUF_KEEP)
		jtext_free(b);
	store_marks_clear(s);
	/* no NIC record written: every NIC's settings are as written (and
	 * no journal came or went), the copy stays as it is */
	if (settings && !written_take(l, s))
		l->broken = true;
	if (l->st.log_bytes > STORE_LOG_MIN_COMPACT && l->st.log_bytes > l->st.snapshot_bytes) {
		if (l->async) {
			l->due = true;
			return 1;
		}
		r = store_log_compact(l, s, err);
		if (r < 0)
			return r;
	}
	return 1;
}

/* A failed fdatasync: what the kernel could not write is gone from its
 * cache, write everything again, as a compaction. */
static int sync_failed(struct store_log *l, int e, struct kerror *err)
{
	l->broken = true;
	return kerror_setf(err, e, STORE_LOG, "save state", "fdatasync: %s", strerror(e));
}

int store_log_sync(struct store_log *l, struct kerror *err)
{
	if (l->compacting) /* the log is being replaced: the compaction's end syncs */
		return kerror_set(err, EBUSY, STORE_LOG, "save state", "a compaction is under way");
	if (l->durable == l->appended)
		return 0;
	if (fdatasync(l->fd) < 0)
		return sync_failed(l, errno, err);
	l->durable = l->appended;
	l->st.syncs++;
	return 0;
}

int store_log_sync_begin(struct store_log *l, struct store_log_sync *ret, struct kerror *err)
{
	ret->fd = -1;
	ret->upto = l->appended;
	if (l->compacting)
		return kerror_set(err, EBUSY, STORE_LOG, "save state", "a compaction is under way");
	if (l->durable == l->appended)
		return 0;
	/* its own descriptor: a compaction may close and replace l->fd
	 * while the sync runs (fdatasync of the file it replaced is then
	 * harmless, the compaction made everything durable) */
	ret->fd = fcntl(l->fd, F_DUPFD_CLOEXEC, 3);
	if (ret->fd < 0)
		return kerror_setf(err, errno, STORE_LOG, "save state", "dup: %s",
				   strerror(errno));
	return 1;
}

int store_log_sync_end(struct store_log *l, struct store_log_sync *sync, int result,
		       struct kerror *err)
{
	if (sync->fd >= 0)
		close(sync->fd);
	sync->fd = -1;
	if (result < 0)
		return sync_failed(l, -result, err);
	l->st.syncs++;
	if (l->durable < sync->upto)
		l->durable = sync->upto;
	return 0;
}

bool store_log_synced(const struct store_log *l)
{
	return !l || (l->durable == l->appended && !l->held);
}

struct store_log_stats store_log_get_stats(const struct store_log *l)
{
	return l->st;
}

struct store_log *store_log_close(struct store_log *l)
{
	if (!l)
		return NULL;
	if (l->fd >= 0)
		close(l->fd);
	written_clear(l);
	jtext_free(&l->buf);
	free(l->dir);
	free(l);
	return NULL;
}
