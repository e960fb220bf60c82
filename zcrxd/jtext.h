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

struct jtext {
	char *s;
	size_t n, cap;
	bool fail; /* out of memory: everything after is dropped */
};

void jtext_put(struct jtext *t, const char *p, size_t n);
void jtext_lit(struct jtext *t, const char *p);
void jtext_str(struct jtext *t, const char *p); /* a quoted, escaped string */
void jtext_u64(struct jtext *t, uint64_t v);
void jtext_int(struct jtext *t, int64_t v);
/* "key": (with a comma before every key but the first of an object) */
void jtext_key(struct jtext *t, bool *first, const char *key);
void jtext_free(struct jtext *t);

/* A json-c value that serializes as t's text, which must be one JSON
 * value; takes t's buffer.  NULL when out of memory (t is freed). */
json_object *jtext_to_json(struct jtext *t);
