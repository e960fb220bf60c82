/* SPDX-License-Identifier: MIT */
/*
 * array — small helpers for the plain C arrays of the daemon's models
 * (a pointer plus a count), shared by the models' copy functions.
 *
 * Owns: copying such arrays.  Must not: know any model, do I/O or log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* A malloc()ed copy of the n elements of size bytes at src, or NULL when
 * there is nothing to copy (n == 0 or src NULL).  On allocation failure
 * returns NULL and sets *fail, which is left alone otherwise: a copy
 * function duplicates all its arrays, then checks *fail once. */
void *array_dup(const void *src, size_t n, size_t size, bool *fail);
