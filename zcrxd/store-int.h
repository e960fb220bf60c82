/* SPDX-License-Identifier: MIT */
/*
 * store-int — what the store's files share (store.c, store-write.c,
 * store-read.c, store-file.c).  Not for other modules.
 */
#pragma once

#include "jtext.h"
#include "store.h"

#define STORE_MAX_BYTES (64u << 20)

/* The names state.json gives rule matches and actions. */
const char *store_match_name(enum nic_rule_match m);
const char *store_action_name(enum nic_rule_action a);

uint32_t store_crc32(const void *p, size_t n);

/* Note attachment i on nic (i above every index noted so far: a new last
 * one) in the index of its NIC (store_atts_on); -ENOMEM changes nothing. */
int store_index_add(struct store *s, const char *nic, size_t i);

/* (Re)build s->keys from s->atts; out of memory: none (lookups scan atts). */
void store_rekey(struct store *s);

/* Log records (docs/state.md), each one line appended to b (out of memory:
 * b->fail, as jtext.h says):
 *   log           the log's first line: the snapshot generation it follows
 *   owner         attachment (nic, mac) and the journal entries it owns on
 *                 nic, as they are now (absent: none)
 *   nic           a NIC's whole journal
 *   nic-settings  a NIC's ifindex, released flag and priors
 *   drop          a NIC's journal is gone */
void store_rec_generation(struct jtext *b, uint64_t generation);
void store_rec_owner(struct jtext *b, const struct store *s, const char *nic,
		     const uint8_t *mac);
void store_rec_nic(struct jtext *b, const struct journal_nic *j, bool settings_only);
void store_rec_drop(struct jtext *b, const char *nic);

/* Apply one record's JSON (without its checksum) to s (store-read.c);
 * *generation gets a "log" record's generation. */
int store_rec_apply(struct store *s, const char *json, size_t len, uint64_t *generation,
		    struct kerror *err);

/* errno of a failed read of a state file: never EBADMSG, which the loaders
 * keep for content that does not parse (ext4 reports a bad checksum as
 * EBADMSG: that is the disk, not the content). */
int store_io_errno(int e);
/* dir/name into buf; -ENAMETOOLONG when it does not fit. */
int store_path_of(char *buf, size_t size, const char *dir, const char *name);
/* All n bytes, through EINTR and short writes; 0 or -errno. */
int store_write_all(int fd, const char *p, size_t n);
