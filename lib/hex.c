// SPDX-License-Identifier: MIT
/*
 * hex — hexadecimal digits read from text (hex.h).
 */
#include <errno.h>
#include <string.h>

#include "hex.h"

int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_byte(const char *s)
{
	int hi = hex_digit((unsigned char)s[0]), lo;

	if (hi < 0)
		return -1;
	lo = hex_digit((unsigned char)s[1]);
	return lo < 0 ? -1 : hi << 4 | lo;
}

int hex_pairs_parse(const char *s, char sep, uint8_t *out, size_t n)
{
	size_t i;

	if (!s || !n || strlen(s) != n * 3 - 1)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (hex_byte(s + i * 3) < 0 || (i < n - 1 && s[i * 3 + 2] != sep))
			return -EINVAL;
	for (i = 0; i < n; i++)
		out[i] = (uint8_t)hex_byte(s + i * 3);
	return 0;
}
