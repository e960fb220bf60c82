/* SPDX-License-Identifier: MIT */
/*
 * str — a string copied into a fixed-size buffer, cut to fit: what
 * snprintf(dst, size, "%s", src) does, without parsing a format (~550
 * instructions a call, paid on every domain event for names, reasons and
 * errors copied into records).
 *
 * Owns: bounded copies.  Must not: print, exit, allocate.
 */
#pragma once

#include <stddef.h>

/* src (NULL: "") into dst of size >= 1 bytes: at most size - 1 bytes of it
 * and a NUL.  dst and src must not overlap.  Returns dst. */
char *str_copy(char *dst, size_t size, const char *src);
