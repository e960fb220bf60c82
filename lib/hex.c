// SPDX-License-Identifier: MIT
/*
 * hex — hexadecimal digits read from and written to text (hex.h).
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

static const char lower[16] = "0123456789abcdef";

char *hex_put(char *out, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		*out++ = lower[b[i] >> 4];
		*out++ = lower[b[i] & 15];
	}
	return out;
}

char *hex_put_u32(char *out, uint32_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 4)
		out[i] = lower[v & 15];
	return out + 8;
}
