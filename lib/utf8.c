// SPDX-License-Identifier: MIT
/*
 * utf8 — strict UTF-8 and JSON's \u escapes (utf8.h).
 */
#include "hex.h"
#include "utf8.h"

size_t utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0; /* a continuation byte, an overlong lead (c0, c1), above f4 */
	if ((size_t)(end - p) < n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* Four hex digits at p, -1 when there are not. */
static int32_t hex4(const unsigned char *p, const unsigned char *end)
{
	int hi, lo;

	if (end - p < 4)
		return -1;
	hi = hex_byte((const char *)p);
	lo = hex_byte((const char *)p + 2);
	return hi < 0 || lo < 0 ? -1 : hi << 8 | lo;
}

size_t utf8_json_unescape(const unsigned char *p, const unsigned char *end, uint32_t *ret_cp)
{
	int32_t cp = hex4(p, end), lo;

	if (cp < 0 || (cp >= 0xdc00 && cp <= 0xdfff))
		return 0; /* no hex, a low surrogate alone */
	if (cp < 0xd800 || cp > 0xdbff) {
		*ret_cp = (uint32_t)cp;
		return 4;
	}
	p += 4;
	if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
		return 0; /* a high surrogate alone */
	lo = hex4(p + 2, end);
	if (lo < 0xdc00 || lo > 0xdfff)
		return 0;
	*ret_cp = 0x10000 + (((uint32_t)cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
	return 10;
}

char *utf8_put(char *w, uint32_t cp)
{
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xc0 | (cp >> 6));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | (cp >> 12));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | (cp >> 18));
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	return w;
}
