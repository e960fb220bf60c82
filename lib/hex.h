/* SPDX-License-Identifier: MIT */
/*
 * hex — hexadecimal digits read from text: a digit, a byte's two, and
 * bytes written as pairs with a separator between them (a MAC address);
 * and bytes written as lowercase digits, by table (snprintf's "%02x"
 * parses its format for every byte: a UUID cost ~7,000 instructions).
 * The project's one reader of hex digits: zcrxd's MAC and UUID parsers,
 * the JSON \u escapes (utf8.c), the sim-nic guest's helper; and its
 * writer of them: MACs, UUIDs, RSS keys, the state log's checksums,
 * JSON's \u00XX.
 *
 * Owns: reading and writing hex.  Must not: print, exit, allocate.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* 0..15 for '0'-'9', 'a'-'f', 'A'-'F'; -1 for anything else. */
int hex_digit(int c);
/* The byte of the two hex digits at s, 0..255; -1 when they are not two
 * hex digits (s[1] is read only when s[0] is one, so a NUL-terminated s
 * may end at s[0]). */
int hex_byte(const char *s);
/* Exactly n bytes as pairs of hex digits (either case) with sep between
 * pairs, nothing before or after: no sign, no space, no short pair.  0 and
 * the bytes in out, or -EINVAL (s NULL or not of that form; out untouched). */
int hex_pairs_parse(const char *s, char sep, uint8_t *out, size_t n);
/* n bytes as 2n lowercase hex digits at out, no separator, no NUL (what
 * "%02x" wrote for each).  Returns out + 2n, where the next text goes. */
char *hex_put(char *out, const uint8_t *b, size_t n);
/* v as 8 lowercase hex digits at out, no NUL ("%08x"); returns out + 8. */
char *hex_put_u32(char *out, uint32_t v);
