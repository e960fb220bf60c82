/* SPDX-License-Identifier: MIT */
/*
 * jtext — JSON written straight as text, for the answers that are too big
 * to build as a json-c tree first (a listing of thousands of attachments:
 * a tree costs a hash table per object), and a json-c object that carries
 * such text into a reply as it is.
 *
 * Owns: the buffer and JSON string escaping.  Must not: know any model.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "varlink.h"

/* How json-c values are written into a text (jtext_json): as a Varlink
 * message carries them. */
#define JTEXT_JSON_FLAGS VARLINK_JSON_FLAGS
/* Bytes of room before every text, for jtext_wrap's head. */
#define JTEXT_ROOM 32

struct jtext {
	char *s;
	size_t n, cap;
	bool fail; /* out of memory: everything after is dropped */
};

/* n bytes more; out of line only when the buffer must grow (or t failed):
 * a record or reply is hundreds of small pieces. */
void jtext_put_grow(struct jtext *t, const char *p, size_t n);
static inline void jtext_put(struct jtext *t, const char *p, size_t n)
{
	if (t->n + n + 2 <= t->cap && !t->fail) {
		memcpy(t->s + t->n, p, n);
		t->n += n;
		t->s[t->n] = '\0';
		return;
	}
	jtext_put_grow(t, p, n);
}

/* A NUL-terminated piece (a literal's length is known when compiled). */
static inline void jtext_lit(struct jtext *t, const char *p)
{
	jtext_put(t, p, strlen(p));
}
/* A quoted, escaped string, byte for byte as json-c writes it. */
void jtext_str(struct jtext *t, const char *p);
void jtext_u64(struct jtext *t, uint64_t v);
void jtext_int(struct jtext *t, int64_t v);
/* An array of numbers, "[1,2,3]", in one reservation (a plan's pool in
 * every Attach reply). */
void jtext_u32s(struct jtext *t, const uint32_t *v, size_t n);
/* "key": (with a comma before every key but the first of an object);
 * n: the key's length (jtext_key: a literal's known when compiled). */
void jtext_key_n(struct jtext *t, bool *first, const char *key, size_t n);
static inline void jtext_key(struct jtext *t, bool *first, const char *key)
{
	jtext_key_n(t, first, key, strlen(key));
}
/* A json-c value as JTEXT_JSON_FLAGS write it; NULL: null. */
void jtext_json(struct jtext *t, json_object *o);
void jtext_free(struct jtext *t);
/* Empty again, its buffer kept for the next text (and t's failure
 * forgotten). */
void jtext_reset(struct jtext *t);
/* t's text parsed as a json-c value (a tree: for what is small or not in a
 * hurry), NULL when it does not parse or t failed; t is freed. */
json_object *jtext_parse(struct jtext *t);

/* A json-c value that serializes as t's text, which must be one JSON
 * value; takes t's buffer.  NULL when out of memory (t is freed). */
json_object *jtext_to_json(struct jtext *t);
/* A message around such a value without a copy of it: head (at most
 * JTEXT_ROOM bytes), o's text, then tail, written in place in o's buffer
 * (o's own text is left as it is).  Returns the message, NUL-terminated,
 * *ret_len bytes with the NUL, valid while o lives and until the next
 * jtext_wrap of o; NULL when o did not come from jtext_to_json. */
const char *jtext_wrap(json_object *o, const char *head, char tail, size_t *ret_len);
