/* SPDX-License-Identifier: MIT */
/*
 * store — the desired attachments and the ownership journal, persisted in
 * <state-dir>/state.json.
 *
 * The file carries a schema version.  It is written atomically: a temp file
 * in the same directory, fsync, rename over state.json, fsync of the
 * directory; a crash leaves either the old or the new file, never a torn
 * one.  Loading never trusts the file blindly and never crashes on garbage:
 * anything malformed is refused with a message naming what is wrong (the
 * caller keeps the bad file aside and starts empty).
 *
 * Owns: the in-memory store, its JSON form and the file.  Must not: talk to
 * the kernel or decide anything.
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

#define STORE_SCHEMA 1
#define STORE_FILE "state.json"

struct store {
	uint64_t next_seq;   /* seq for the next new attachment */
	size_t n_atts;
	struct attach *atts; /* desired attachments (identity; results are not stored) */
	size_t n_nics;
	struct journal_nic *nics;
};

void store_init(struct store *s);
void store_clear(struct store *s);
int store_copy(struct store *dst, const struct store *src);

/* Attachments.  add: a new identity gets seq = next_seq++ (the caller's
 * seq is ignored); an identity with the same key replaces the old one and
 * keeps its seq.  Returns the index. */
ssize_t store_find_attach(const struct store *s, const char *nic, const uint8_t *mac);
int store_put_attach(struct store *s, const struct attach_id *id, size_t *ret_index);
void store_del_attach(struct store *s, size_t index);

/* The journal of a NIC; with create, an empty one is added when missing. */
struct journal_nic *store_journal(struct store *s, const char *nic, int ifindex, bool create);
/* Drop journals that own nothing and are not marked released. */
void store_gc(struct store *s);

json_object *store_to_json(const struct store *s);
/* The file's text, written without building a JSON tree (what store_save
 * writes); same content as store_to_json.  *ret malloc'd. */
int store_to_text(const struct store *s, char **ret, size_t *ret_len);
int store_from_json(json_object *o, struct store *ret, struct kerror *err);
json_object *store_journal_to_json(const struct journal_nic *j);
int store_journal_from_json(json_object *o, struct journal_nic *ret, struct kerror *err);

/* Parse a whole file's text (tests, fuzzing). */
int store_parse(const char *text, size_t len, struct store *ret, struct kerror *err);

/*
 * <dir>/state.json.  load: a missing file gives an empty store and 0;
 * unreadable or malformed gives -errno / -EINVAL with *err set and *ret
 * empty.  save: atomic as described above.
 */
int store_load(const char *dir, struct store *ret, struct kerror *err);
int store_save(const char *dir, const struct store *s, struct kerror *err);
/* The same, unless state.json already holds exactly this content (and the
 * caller knows the last save went through): then nothing is written.
 * Returns 1 when written, 0 when left alone. */
int store_save_changed(const char *dir, const struct store *s, struct kerror *err);
/* Move a bad state.json aside to state.json.corrupt (replacing an older one). */
int store_quarantine(const char *dir, struct kerror *err);
