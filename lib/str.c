// SPDX-License-Identifier: MIT
/*
 * str — bounded string copies (str.h).
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
