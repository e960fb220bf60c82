/* SPDX-License-Identifier: MIT */
/*
 * str — a string copied into a fixed-size buffer, cut to fit: what
 * snprintf(dst, size, "%s", src) does, without parsing a format (~550
 * instructions a call, paid on every domain event for names, reasons and
 * errors copied into records).
 *
 * And such strings compared in place (a short name in a fixed array,
 * compared where a call to strcmp cost more than the comparison).
 *
 * Owns: bounded copies and comparisons.  Must not: print, exit, allocate.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* src (NULL: "") into dst of size >= 1 bytes: at most size - 1 bytes of it
 * and a NUL.  dst and src must not overlap.  Returns dst. */
char *str_copy(char *dst, size_t size, const char *src);
/* Do a and b, each NUL-terminated within its size bytes, hold the same
 * text (strcmp(a, b) == 0)?  Bytes after the NUL do not count. */
bool str_same_in(const char *a, const char *b, size_t size);
