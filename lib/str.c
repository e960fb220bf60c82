// SPDX-License-Identifier: MIT
/*
 * str — bounded string copies and comparisons (str.h).
 */
#include <string.h>

#include "str.h"

char *str_copy(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
	return dst;
}

bool str_same_in(const char *a, const char *b, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if (a[i] != b[i])
			return false;
		if (!a[i])
			return true;
	}
	return true;
}
