// SPDX-License-Identifier: MIT
/*
 * Unit tests for str (lib/str.h): str_copy leaves the buffer as
 * snprintf(dst, size, "%s", src) does, byte for byte, for every length of
 * source and buffer up to 40 (shorter, equal, longer, empty, NULL), and
 * writes nothing past size.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_as_snprintf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
