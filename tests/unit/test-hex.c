// SPDX-License-Identifier: MIT
/*
 * Unit tests for hex (lib/hex.h): every byte value is a digit or not as
 * the hex alphabet says, in either case; two digits make a byte and
 * nothing else does; pairs with a separator read back exactly n bytes, and
 * nothing near that form (short pair, sign, space, other separator, one
 * pair too many or too few) is read at all.  Written, bytes and 32-bit
 * values come out as "%02x" and "%08x" write them, for every byte value
 * and many values of each length, and nothing past their digits is
 * touched.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"

static void test_digits(void **state)
{
	const char *alphabet = "0123456789abcdef", *upper = "0123456789ABCDEF";

	(void)state;
	for (int c = -1; c < 256; c++) {
		const char *lo = c > 0 ? strchr(alphabet, c) : NULL;
		const char *up = c > 0 ? strchr(upper, c) : NULL;
		int want = lo ? (int)(lo - alphabet) : up ? (int)(up - upper) : -1;

		assert_int_equal(hex_digit(c), want);
	}
}

static void test_bytes(void **state)
{
	char s[3];

	(void)state;
	for (int v = 0; v < 256; v++) {
		snprintf(s, sizeof(s), "%02x", v);
		assert_int_equal(hex_byte(s), v);
		snprintf(s, sizeof(s), "%02X", v);
		assert_int_equal(hex_byte(s), v);
	}
	assert_int_equal(hex_byte("g0"), -1);
	assert_int_equal(hex_byte("0g"), -1);
	assert_int_equal(hex_byte("0"), -1); /* the NUL is no digit */
	assert_int_equal(hex_byte(""), -1);  /* s[1] not read */
	assert_int_equal(hex_byte("-1"), -1);
	assert_int_equal(hex_byte(" 1"), -1);
}

static void test_pairs(void **state)
{
	uint8_t b[6], keep[6];
	const char *bad[] = { "52:54:00:ab:cd:0",  "52-54-00-ab-cd-0f", "52:54:00:ab:cd:0fx",
			      "+2:54:00:ab:cd:0f", "-2:00:00:00:00:01", "52:54:00:ab:cd:-1",
			      " 2:54:00:ab:cd:0f", "52:54:00:ab:cd",    "52:54:00:ab:cd:0f:01",
			      "52:54:00:ab:cd:0f:", ":52:54:00:ab:cd:0", "",
			      "5254:00:ab:cd:0f:1" };

	(void)state;
	assert_int_equal(hex_pairs_parse("52:54:00:AB:cd:0F", ':', b, 6), 0);
	assert_memory_equal(b, ((uint8_t[]){ 0x52, 0x54, 0x00, 0xab, 0xcd, 0x0f }), 6);
	assert_int_equal(hex_pairs_parse("01-ff", '-', b, 2), 0);
	assert_memory_equal(b, ((uint8_t[]){ 0x01, 0xff }), 2);
	assert_int_equal(hex_pairs_parse("7e", ':', b, 1), 0);
	assert_int_equal(b[0], 0x7e);
	memcpy(keep, b, sizeof(b));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hex_pairs_parse(bad[i], ':', b, 6), -EINVAL);
		assert_memory_equal(b, keep, sizeof(b)); /* untouched */
	}
	assert_int_equal(hex_pairs_parse(NULL, ':', b, 6), -EINVAL);
	assert_int_equal(hex_pairs_parse("", ':', b, 0), -EINVAL);
}

/* A fixed pseudo-random sequence (a 64-bit LCG's top bits): the same
 * inputs on every run. */
static uint32_t next(uint64_t *x)
{
	*x = *x * 6364136223846793005u + 1442695040888963407u;
	return (uint32_t)(*x >> 32);
}

static void test_put(void **state)
{
	uint8_t b[40];
	char got[96], want[96];
	uint64_t x = 1;

	(void)state;
	for (int v = 0; v < 256; v++) {
		b[0] = (uint8_t)v;
		memset(got, '#', sizeof(got));
		assert_ptr_equal(hex_put(got, b, 1), got + 2);
		snprintf(want, sizeof(want), "%02x", v);
		assert_memory_equal(got, want, 2);
		assert_int_equal(got[2], '#'); /* no NUL, nothing after */
	}
	for (int k = 0; k < 2000; k++) {
		size_t n = next(&x) % sizeof(b), i;
		char *w = want;

		for (i = 0; i < n; i++) {
			b[i] = (uint8_t)next(&x);
			w += sprintf(w, "%02x", b[i]);
		}
		memset(got, '#', sizeof(got));
		assert_ptr_equal(hex_put(got, b, n), got + 2 * n);
		assert_memory_equal(got, want, 2 * n);
		assert_int_equal(got[2 * n], '#');
	}
	assert_ptr_equal(hex_put(got, b, 0), got);
}

static void test_put_u32(void **state)
{
	static const uint32_t edge[] = { 0, 1, 0xf, 0x10, 0xff, 0x100, 0x7fffffff, 0x80000000u,
					 0xdeadbeefu, 0xfffffffeu, 0xffffffffu };
	char got[16], want[16];
	uint64_t x = 7;

	(void)state;
	for (int k = 0; k < 20000; k++) {
		uint32_t v = k < (int)(sizeof(edge) / sizeof(edge[0])) ? edge[k] : next(&x);

		memset(got, '#', sizeof(got));
		assert_ptr_equal(hex_put_u32(got, v), got + 8);
		snprintf(want, sizeof(want), "%08x", v);
		assert_memory_equal(got, want, 8);
		assert_int_equal(got[8], '#');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digits),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_put),
		cmocka_unit_test(test_put_u32),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
