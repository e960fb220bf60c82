/* SPDX-License-Identifier: MIT */
/*
 * store — the desired attachments and the ownership journal, persisted in
 * <state-dir> as a snapshot (state.json) and a log of changes since it
 * (state.log); docs/state.md describes both and why a crash loses nothing
 * that was acknowledged.
 *
 * The snapshot carries a schema version and a generation.  It is written
 * atomically: a temp file in the same directory, fsync, rename over
 * state.json, fsync of the directory; a crash leaves either the old or the
 * new file, never a torn one.  The log holds one checksummed record per
 * line, each the whole new value of what changed: an attachment and the
 * journal entries it owns on its NIC, a NIC's settings, or a NIC's whole
 * journal.  Loading never trusts the files blindly and never crashes on
 * garbage: anything malformed is refused with a message naming what is
 * wrong (the caller keeps the bad files aside and starts empty); a torn
 * last write of the log (a crash before its fsync, so never acknowledged)
 * is dropped.
 *
 * Owns: the in-memory store, its JSON form and the files.  Must not: talk
 * to the kernel or decide anything.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach.h"
#include "journal.h"
#include "kerror.h"

#define STORE_SCHEMA 2 /* 1: state.json alone (read and migrated) */
#define STORE_FILE "state.json"
#define STORE_LOG "state.log"

/* An attachment and what it owns on its NIC, changed since the last write. */
struct store_mark {
	char nic[IF_NAMESIZE];
	uint8_t mac[NIC_MAC_LEN];
};

struct store_key {
	uint8_t mac[NIC_MAC_LEN];
	char nic[IF_NAMESIZE];
};

/* The attachments on one NIC: their indexes in store.atts, ascending. */
struct store_on {
	char nic[IF_NAMESIZE];
	size_t n, cap;
	size_t *idx;
};

struct store {
	uint64_t next_seq;   /* seq for the next new attachment */
	uint64_t generation; /* the snapshot's; its log carries the same */
	int schema;          /* of the file it was read from (0: none) */
	size_t n_atts;
	struct attach *atts; /* desired attachments (identity; results are not stored) */
	/* atts and keys allocated for: grown by doubling, not by one (a
	 * realloc of the array per new attachment); 0 when not known (an
	 * array made elsewhere is grown from its n) */
	size_t cap_atts, cap_keys;
	/* slots of their allocations before atts and keys (store_del_attach
	 * moves the shorter side of a removal: the front, for the oldest) */
	size_t lead_atts, lead_keys;
	/* their keys in the same order, for store_find_attach (among its
	 * NIC's, from the index below) and store_att_on: 22 bytes each, not
	 * whole attachments;
	 * used while n_keys == n_atts (kept by store.c's own changes, built
	 * by store_copy and loading) */
	size_t n_keys;
	struct store_key *keys;
	/* per NIC, the attachments on it (store_atts_on): kept exact by
	 * every change the store makes (put, del, loading, copy), so that
	 * one NIC's work touches that NIC's attachments alone; a NIC with
	 * none has no entry */
	size_t n_on, cap_on;
	struct store_on *on;
	size_t n_nics;
	struct journal_nic *nics;
	/* what changed since the last store_log_write (not copied) */
	size_t n_marks, n_nic_marks;
	struct store_mark *marks;
	char (*nic_marks)[IF_NAMESIZE]; /* whole journals */
};

void store_init(struct store *s);
void store_clear(struct store *s);
int store_copy(struct store *dst, const struct store *src);

/* Attachments.  add: a new identity gets seq = next_seq++ (the caller's
 * seq is ignored); an identity with the same key replaces the old one and
 * keeps its seq.  Returns the index. */
ssize_t store_find_attach(const struct store *s, const char *nic, const uint8_t *mac);
/* Is attachment i (< n_atts) on nic? */
bool store_att_on(const struct store *s, size_t i, const char *nic);
/* The indexes of the attachments on nic, ascending (the store's order),
 * *n of them (0: none, and NULL); valid until the store next changes. */
const size_t *store_atts_on(const struct store *s, const char *nic, size_t *n);
/* put: -ENOMEM changes nothing.  del: indexes above index move down by one. */
int store_put_attach(struct store *s, const struct attach_id *id, size_t *ret_index);
void store_del_attach(struct store *s, size_t index);

/*
 * What changed, for the log.  put/del of an attachment mark it themselves;
 * whoever changes journal entries in place marks their owner (store_mark)
 * or the NIC's whole journal (store_mark_nic).  A NIC's own settings
 * (ifindex, released, the priors) and journals added or dropped need no
 * mark: store_log_write compares them with what it wrote last.
 */
void store_mark(struct store *s, const char *nic, const uint8_t *mac);
void store_mark_nic(struct store *s, const char *nic);
void store_marks_clear(struct store *s);

/* The journal of a NIC; with create, an empty one is added when missing. */
struct journal_nic *store_journal(struct store *s, const char *nic, int ifindex, bool create);
/* Drop journals that own nothing and are not marked released. */
void store_gc(struct store *s);

json_object *store_to_json(const struct store *s);
/* The file's text, written without building a JSON tree (what store_save
 * writes); same content as store_to_json.  *ret is the caller's to
 * jtext_free(); -ENOMEM. */
struct jtext;
int store_to_text(const struct store *s, struct jtext *ret);
int store_from_json(json_object *o, struct store *ret, struct kerror *err);
json_object *store_journal_to_json(const struct journal_nic *j);
int store_journal_from_json(json_object *o, struct journal_nic *ret, struct kerror *err);

/* Parse a whole file's text (tests, fuzzing). */
int store_parse(const char *text, size_t len, struct store *ret, struct kerror *err);

/*
 * <dir>/state.json.  load: a missing file gives an empty store and 0; a
 * file that does not parse (not JSON, not a state file, a bad value) gives
 * -EBADMSG, one that cannot be read (EACCES, EIO, ENOMEM, a directory, too
 * large...) its -errno, never -EBADMSG; *err says what, *ret is empty.
 * save: atomic as described above.
 */
int store_load(const char *dir, struct store *ret, struct kerror *err);
int store_save(const char *dir, const struct store *s, struct kerror *err);
/* The same with the file's text rendered already (store_to_text): only
 * file work, on any thread. */
int store_save_text(const char *dir, const char *text, size_t len, struct kerror *err);
/* The same, unless state.json already holds exactly this content (and the
 * caller knows the last save went through): then nothing is written.
 * Returns 1 when written, 0 when left alone. */
int store_save_changed(const char *dir, const struct store *s, struct kerror *err);
/* Move a state.json or state.log that does not parse aside, both of them
 * (the log is a list of changes to its snapshot), to
 * <name>.corrupt-<UTC time>[-N]: never over an earlier one.  The new paths
 * go to moved ("A and B"; size may be 0). */
int store_quarantine(const char *dir, char *moved, size_t size, struct kerror *err);

/*
 * The log (store-log.c).  store_log_open: the snapshot and its log read
 * (store_read_dir), then compacted at once: a new snapshot (generation + 1,
 * schema 2, which also migrates a schema 1 file) and an empty log.  Returns
 * -EBADMSG when state.json or state.log does not parse, another -errno
 * when reading failed (as store_load), 1 (with *err) when the files were
 * read but could not be written (every later write tries again).
 * store_log_write appends the records of what changed (marks, and the NIC
 * settings that differ from the last write) with one write(2), without
 * fsync; compacts instead when the log has grown past its bound.  Returns
 * the bytes appended (0: nothing changed).  store_log_sync makes every
 * write so far durable (one fdatasync for all of them).
 *
 * The same off the caller's thread: store_log_sync_begin notes the writes
 * so far and gives a descriptor of the log of its own (0: nothing to sync,
 * 1: fdatasync(ret->fd) on any thread, then store_log_sync_end with its
 * result, 0 or -errno, on the log's thread; it closes ret->fd unless it
 * is -1 by then).  Writes made in between are
 * not covered: store_log_synced stays false for them.  The log's own
 * calls go on meanwhile (a compaction makes everything durable itself).
 *
 * Compactions off the caller's thread (store_log_set_async): then
 * store_log_write never compacts itself; store_log_compact_due says one
 * is needed, and the caller runs it in three steps:
 * store_log_compact_begin renders the snapshot of the store as it is and
 * the new log's header (the log's thread: everything in the store now is
 * in it, its marks are cleared), store_log_compact_run does the file work
 * (temp files, fsyncs, renames; any thread, touching nothing of the log's
 * or the store's), store_log_compact_end takes the new log in (the log's
 * thread; it frees the compaction, and fails as store_log_compact does:
 * the next write compacts again).  From begin to end nothing is appended:
 * a write that finds changes leaves them marked (store_log_held) and
 * store_log_synced false; the first write after the end appends them to
 * the new log.  Syncing is refused (-EBUSY) meanwhile.
 */
struct store_log;

/* One sync off the log's thread (store_log_sync_begin). */
struct store_log_sync {
	int fd;        /* the log's, duplicated; -1: none */
	uint64_t upto; /* the writes it covers */
};

struct store_log_stats {
	uint64_t writes;      /* store_log_write calls that appended */
	uint64_t records;
	uint64_t syncs;       /* fdatasync calls */
	uint64_t compactions;
	/* how long the last and the longest compaction's file work took
	 * (microseconds: writes, fsyncs, renames; on zcrxd's syncer thread,
	 * the loop serves meanwhile) */
	uint64_t compaction_usec_last, compaction_usec_max;
	uint64_t log_bytes;   /* the log's size now */
	uint64_t snapshot_bytes;
};

/* What reading a state directory found. */
struct store_read_info {
	int schema;              /* of state.json (0: none) */
	uint64_t records;        /* log records replayed */
	uint64_t dropped_bytes;  /* a torn tail of the log, dropped */
	bool stale_log;          /* a log older than the snapshot, ignored */
};

int store_read_dir(const char *dir, struct store *ret, struct store_read_info *info,
		   struct kerror *err);
int store_log_open(const char *dir, struct store *ret, struct store_log **log,
		   struct store_read_info *info, struct kerror *err);
int store_log_write(struct store_log *l, struct store *s, struct kerror *err);
int store_log_sync(struct store_log *l, struct kerror *err);
int store_log_sync_begin(struct store_log *l, struct store_log_sync *ret, struct kerror *err);
int store_log_sync_end(struct store_log *l, struct store_log_sync *sync, int result,
		       struct kerror *err);
bool store_log_synced(const struct store_log *l);
int store_log_compact(struct store_log *l, struct store *s, struct kerror *err);
struct store_log_compaction;
void store_log_set_async(struct store_log *l, bool on);
bool store_log_compact_due(const struct store_log *l);
bool store_log_compacting(const struct store_log *l);
bool store_log_held(const struct store_log *l);
int store_log_compact_begin(struct store_log *l, struct store *s,
			    struct store_log_compaction **ret, struct kerror *err);
/* 0 or -errno (store_log_compaction_error says what) */
int store_log_compact_run(struct store_log_compaction *c);
const struct kerror *store_log_compaction_error(const struct store_log_compaction *c);
int store_log_compact_end(struct store_log *l, struct store *s, struct store_log_compaction *c,
			  struct kerror *err);
/* One begun and never ended (zcrxd stopping while it hangs). */
void store_log_compaction_free(struct store_log_compaction *c);
struct store_log_stats store_log_get_stats(const struct store_log *l);
struct store_log *store_log_close(struct store_log *l);
