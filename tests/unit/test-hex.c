// SPDX-License-Identifier: MIT
/*
 * Unit tests for hex (lib/hex.h): every byte value is a digit or not as
 * the hex alphabet says, in either case; two digits make a byte and
 * nothing else does; pairs with a separator read back exactly n bytes, and
 * nothing near that form (short pair, sign, space, other separator, one
 * pair too many or too few) is read at all.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digits),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_pairs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
