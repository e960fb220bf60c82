// SPDX-License-Identifier: MIT
/*
 * Unit tests for str (lib/str.h): str_copy leaves the buffer as
 * snprintf(dst, size, "%s", src) does, byte for byte, for every length of
 * source and buffer up to 40 (shorter, equal, longer, empty, NULL), and
 * writes nothing past size; str_same_in says what strcmp says of strings
 * in fixed arrays, whatever follows their NUL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "str.h"

static void test_as_snprintf(void **state)
{
	static char src[48];
	char *volatile from = src; /* the reference's cut not known when compiled */
	char got[64], want[64];

	(void)state;
	for (size_t n = 0; n <= 40; n++) {
		for (size_t i = 0; i < n; i++)
			src[i] = (char)('a' + (i * 7 + n) % 26);
		src[n] = '\0';
		for (size_t size = 1; size <= 40; size++) {
			memset(got, '#', sizeof(got));
			memset(want, '#', sizeof(want));
			assert_ptr_equal(str_copy(got, size, src), got);
			snprintf(want, size, "%s", from);
			assert_memory_equal(got, want, sizeof(got)); /* nothing past size */
		}
	}
	memset(got, '#', sizeof(got));
	assert_string_equal(str_copy(got, 8, NULL), "");
	assert_int_equal(got[1], '#');
}

static void test_same_in(void **state)
{
	static const char *const s[] = { "", "a", "b", "ab", "abc", "abd", "abcdefg", "abcdefh",
					 "mac", "ip", "ma", "mac2" };
	char a[8], b[8];

	(void)state;
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		for (size_t k = 0; k < sizeof(s) / sizeof(s[0]); k++) {
			memset(a, 'x', sizeof(a));
			memset(b, 'y', sizeof(b)); /* what follows the NULs differs */
			memcpy(a, s[i], strlen(s[i]) + 1);
			memcpy(b, s[k], strlen(s[k]) + 1);
			assert_int_equal(str_same_in(a, b, sizeof(a)), !strcmp(a, b));
			assert_int_equal(str_same_in(b, a, sizeof(a)), !strcmp(a, b));
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_as_snprintf),
		cmocka_unit_test(test_same_in),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
