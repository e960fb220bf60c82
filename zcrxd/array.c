// SPDX-License-Identifier: MIT
/*
 * array — helpers for pointer-plus-count arrays (array.h).
 * Owns: copying them.  Must not: know any model, do I/O or log.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

void *array_dup(const void *src, size_t n, size_t size, bool *fail)
{
	void *p;

	if (!src || !n)
		return NULL;
	if (size && n > SIZE_MAX / size) {
		*fail = true;
		return NULL;
	}
	p = malloc(n * size);
	if (!p) {
		*fail = true;
		return NULL;
	}
	memcpy(p, src, n * size);
	return p;
}
