// SPDX-License-Identifier: MIT
/*
 * Unit tests for utf8 (lib/utf8.h), the one strict UTF-8 rule and \u escape
 * reader under both JSON readers (lib/varlink.c, lib/jtok.c): the bounds of
 * every byte range RFC 3629 names, every code point written and read back,
 * and JSON's surrogate pairs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

static size_t seq_len(const char *s, size_t n)
{
	return utf8_seq_len((const unsigned char *)s, (const unsigned char *)s + n);
}

static void test_seq_bounds(void **state)
{
	static const struct {
		const char *s;
		size_t n, want;
	} cases[] = {
		{ "\x00", 1, 1 },                 /* NUL is ASCII: the caller's rule */
		{ "A", 1, 1 },
		{ "\x7f", 1, 1 },
		{ "\x80", 1, 0 },                 /* a continuation byte first */
		{ "\xbf", 1, 0 },
		{ "\xc0\x80", 2, 0 },             /* overlong NUL */
		{ "\xc1\xbf", 2, 0 },             /* overlong U+7F */
		{ "\xc2\x80", 2, 2 },             /* U+80 */
		{ "\xdf\xbf", 2, 2 },             /* U+7FF */
		{ "\xc2\x7f", 2, 0 },             /* no continuation */
		{ "\xc2\xc0", 2, 0 },
		{ "\xc2", 1, 0 },                 /* cut off */
		{ "\xe0\x9f\xbf", 3, 0 },         /* overlong U+7FF */
		{ "\xe0\xa0\x80", 3, 3 },         /* U+800 */
		{ "\xed\x9f\xbf", 3, 3 },         /* U+D7FF */
		{ "\xed\xa0\x80", 3, 0 },         /* U+D800, a surrogate */
		{ "\xed\xbf\xbf", 3, 0 },         /* U+DFFF */
		{ "\xee\x80\x80", 3, 3 },         /* U+E000 */
		{ "\xef\xbf\xbf", 3, 3 },         /* U+FFFF */
		{ "\xe2\x82", 2, 0 },             /* cut off */
		{ "\xe2\x28\xa1", 3, 0 },
		{ "\xe2\x82\x28", 3, 0 },
		{ "\xf0\x8f\xbf\xbf", 4, 0 },     /* overlong U+FFFF */
		{ "\xf0\x90\x80\x80", 4, 4 },     /* U+10000 */
		{ "\xf4\x8f\xbf\xbf", 4, 4 },     /* U+10FFFF */
		{ "\xf4\x90\x80\x80", 4, 0 },     /* U+110000 */
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xf7\xbf\xbf\xbf", 4, 0 },
		{ "\xf8\x88\x80\x80\x80", 5, 0 }, /* five bytes: never */
		{ "\xfe", 1, 0 },
		{ "\xff", 1, 0 },
		{ "\xf0\x9f\x98", 3, 0 },         /* cut off */
		{ "\xf0\x9f\x98\x41", 4, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (seq_len(cases[i].s, cases[i].n) != cases[i].want)
			fail_msg("case %zu: %zu bytes, want %zu", i,
				 seq_len(cases[i].s, cases[i].n), cases[i].want);
	}
	/* the end bounds the read: a valid sequence with one byte too few */
	assert_int_equal(seq_len("\xf0\x9f\x98\x80", 3), 0);
	assert_int_equal(seq_len("\xf0\x9f\x98\x80", 4), 4);
}

/* Every code point written by utf8_put() is read back as one sequence of
 * its length; a surrogate written so is refused. */
static void test_every_code_point(void **state)
{
	char buf[4];
	uint32_t cp;

	(void)state;
	for (cp = 0; cp <= 0x10ffff; cp++) {
		size_t n = (size_t)(utf8_put(buf, cp) - buf);
		size_t want = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;

		if (n != want)
			fail_msg("U+%04X written in %zu bytes", cp, n);
		if (cp >= 0xd800 && cp <= 0xdfff)
			want = 0;
		if (seq_len(buf, n) != want)
			fail_msg("U+%04X read as %zu bytes, want %zu", cp, seq_len(buf, n), want);
	}
}

/* Counted over every two- and three-byte string: exactly the code points
 * of that length are valid, so no other string is. */
static void test_counts(void **state)
{
	unsigned a, b, c;
	size_t two = 0, three = 0;
	char s[3];

	(void)state;
	for (a = 0x80; a < 0x100; a++)
		for (b = 0; b < 0x100; b++) {
			s[0] = (char)a;
			s[1] = (char)b;
			two += seq_len(s, 2) == 2;
			for (c = 0; c < 0x100; c++) {
				s[2] = (char)c;
				three += seq_len(s, 3) == 3;
			}
		}
	assert_int_equal(two, 0x800 - 0x80);
	assert_int_equal(three, 0x10000 - 0x800 - 0x800); /* less the surrogates */
}

static size_t unescape(const char *hex, uint32_t *cp)
{
	*cp = 0xdeadbeef;
	return utf8_json_unescape((const unsigned char *)hex,
				  (const unsigned char *)hex + strlen(hex), cp);
}

static void test_json_unescape(void **state)
{
	static const struct {
		const char *hex;
		size_t want;
		uint32_t cp;
	} cases[] = {
		{ "0041", 4, 0x41 },
		{ "0041rest", 4, 0x41 },          /* only four digits are read */
		{ "0000", 4, 0 },                 /* NUL: the caller's rule */
		{ "00e9", 4, 0xe9 },
		{ "00E9", 4, 0xe9 },
		{ "d7ff", 4, 0xd7ff },
		{ "e000", 4, 0xe000 },
		{ "FFFF", 4, 0xffff },
		{ "d800\\udc00", 10, 0x10000 },   /* the first pair */
		{ "d83d\\ude00", 10, 0x1f600 },
		{ "DBFF\\uDFFF", 10, 0x10ffff },  /* the last */
		{ "dc00", 0, 0 },                 /* a low surrogate alone */
		{ "dfff\\udc00", 0, 0 },
		{ "d800", 0, 0 },                 /* a high surrogate alone */
		{ "dbff\\u0041", 0, 0 },          /* ... then no low one */
		{ "d800\\ud800", 0, 0 },
		{ "d800\\ue000", 0, 0 },
		{ "d800\\\\udc00", 0, 0 },
		{ "d800 \\udc00", 0, 0 },
		{ "d800\\Udc00", 0, 0 },
		{ "d800\\udc0", 0, 0 },           /* cut off */
		{ "004", 0, 0 },
		{ "", 0, 0 },
		{ "00g1", 0, 0 },
		{ "-041", 0, 0 },
		{ " 041", 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t cp;
		size_t n = unescape(cases[i].hex, &cp);

		if (n != cases[i].want)
			fail_msg("\\u%s: %zu bytes, want %zu", cases[i].hex, n, cases[i].want);
		if (n && cp != cases[i].cp)
			fail_msg("\\u%s: U+%04X, want U+%04X", cases[i].hex, cp, cases[i].cp);
	}
}

static void test_put_bounds(void **state)
{
	static const struct {
		uint32_t cp;
		const char *bytes;
	} cases[] = {
		{ 0x7f, "\x7f" },
		{ 0x80, "\xc2\x80" },
		{ 0x7ff, "\xdf\xbf" },
		{ 0x800, "\xe0\xa0\x80" },
		{ 0xffff, "\xef\xbf\xbf" },
		{ 0x10000, "\xf0\x90\x80\x80" },
		{ 0x10ffff, "\xf4\x8f\xbf\xbf" },
	};
	char buf[4];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = (size_t)(utf8_put(buf, cases[i].cp) - buf);

		assert_int_equal(n, strlen(cases[i].bytes));
		assert_memory_equal(buf, cases[i].bytes, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_bounds),
		cmocka_unit_test(test_every_code_point),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_json_unescape),
		cmocka_unit_test(test_put_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
