/* SPDX-License-Identifier: MIT */
/*
 * utf8 — the text rules both JSON readers share (lib/varlink.c checks a
 * message before json-c reads it, lib/jtok.c reads large replies itself):
 * strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF) and JSON's \u escapes (RFC 8259: a surrogate only as a pair).
 *
 * Owns: nothing.  Must not: allocate, print, exit.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Bytes of the strict UTF-8 sequence at p (p < end): 1 for ASCII, 2 to 4
 * for the rest; 0 when it is invalid or cut off by end. */
size_t utf8_seq_len(const unsigned char *p, const unsigned char *end);

/* The code point of the JSON escape whose four hex digits start at p (just
 * after its "\u"); a high surrogate must be followed by a "\u" escape of a
 * low one, and the pair is read as one code point.  Returns the bytes read
 * from p (4 or 10), 0 when they are no such escape: not four hex digits, cut
 * off by end, a surrogate alone.  \u0000 is read as 0: whether a NUL may
 * stand in a string is the caller's rule. */
size_t utf8_json_unescape(const unsigned char *p, const unsigned char *end, uint32_t *ret_cp);

/* Writes cp (at most U+10FFFF, no surrogate) as UTF-8 at w: 1 to 4 bytes.
 * Returns the byte after them. */
char *utf8_put(char *w, uint32_t cp);
