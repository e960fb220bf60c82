/* SPDX-License-Identifier: MIT */
/*
 * jtok — a one-pass JSON reader for large replies: every value of a
 * document becomes one token in one array (no tree of objects, no
 * allocation per value), and strings are unescaped in place in the
 * document's own text, NUL-terminated.  A listing of thousands of
 * attachments is read this way in a fraction of what json-c's tree costs;
 * everything that is small keeps json-c.
 *
 * Strict JSON (RFC 8259): one value, no trailing garbage; strings hold no
 * control characters and only valid UTF-8 (no overlong forms, no
 * surrogates), \u escapes included; nesting at most JTOK_DEPTH.
 *
 * Owns: the token array.  Must not: print, exit.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JTOK_DEPTH 64

enum jtok_type {
	JTOK_OBJECT = 1,
	JTOK_ARRAY,
	JTOK_STRING,
	JTOK_NUMBER,
	JTOK_TRUE,
	JTOK_FALSE,
	JTOK_NULL,
};

struct jtok {
	uint8_t type;  /* enum jtok_type */
	uint32_t n;    /* object: members; array: elements */
	uint32_t next; /* the token after this value and everything inside it */
	uint32_t off;  /* string: its unescaped text; other scalars: where it starts */
	uint32_t len;  /* string: bytes of the unescaped text */
};

struct jtok_doc {
	char *text; /* the caller's, modified in place (strings unescaped) */
	struct jtok *t;
	size_t n, cap;
};

/* Tokenize text[0..len) (text[len] need not be NUL).  Returns 0, or
 * -EBADMSG (not JSON as above), -E2BIG (too deep or over 4 GiB), -ENOMEM.
 * The root is token 0.  A failed parse leaves text partly unescaped. */
int jtok_parse(struct jtok_doc *d, char *text, size_t len);
void jtok_free(struct jtok_doc *d);

/* Object member by key, -1 when obj is no object or has no such key. */
int jtok_get(const struct jtok_doc *d, int obj, const char *key);
/* Array element k (counted from 0), -1 when there is none. */
int jtok_at(const struct jtok_doc *d, int arr, size_t k);
/* Elements of an array (0 for anything else). */
size_t jtok_len(const struct jtok_doc *d, int arr);
/* Iterating an array: first = jtok_first(d, arr) (-1 when empty), then
 * jtok_after(d, i) until -1 after jtok_len() elements. */
int jtok_first(const struct jtok_doc *d, int arr);
int jtok_after(const struct jtok_doc *d, int i);
bool jtok_is(const struct jtok_doc *d, int i, enum jtok_type type);

/* Typed reads of a value (i may be -1): def when it is not of that type. */
const char *jtok_str(const struct jtok_doc *d, int i, const char *def);
long long jtok_int(const struct jtok_doc *d, int i, long long def);
bool jtok_bool(const struct jtok_doc *d, int i, bool def);
/* The same for a member of obj. */
const char *jtok_get_str(const struct jtok_doc *d, int obj, const char *key, const char *def);
long long jtok_get_int(const struct jtok_doc *d, int obj, const char *key, long long def);
bool jtok_get_bool(const struct jtok_doc *d, int obj, const char *key, bool def);
