// SPDX-License-Identifier: MIT
/*
 * Unit tests for bigmem (lib/bigmem.h): a buffer keeps its contents as it
 * grows from malloc'd memory into a mapping and on through bigger ones,
 * and a mapping carries the huge-page hint wherever the kernel takes it;
 * a growing buffer (bigmem_grow) doubles from its first size, keeps its
 * contents, and is left as it was when the size asked for is absurd; the
 * rule alone (bigmem_grow_size) gives the same sizes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bigmem.h"

static void fill(unsigned char *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		p[i] = (unsigned char)(i * 7 + 3);
}

static void check(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(i * 7 + 3))
			fail_msg("byte %zu of %zu lost", i, n);
}

static void test_grows_keeping_contents(void **state)
{
	const size_t sizes[] = { 16, 4000, BIGMEM_HUGE - 1, BIGMEM_HUGE, 3 * BIGMEM_HUGE,
				 (size_t)9 << 20, (size_t)20 << 20 };
	unsigned char *p = NULL, *q;
	size_t have = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		q = bigmem_realloc(p, sizes[i]);
		assert_non_null(q);
		check(q, have);
		fill(q, have, sizes[i]);
		p = q;
		have = sizes[i];
	}
	/* smaller again: the same memory, the first bytes kept */
	q = bigmem_realloc(p, 100);
	assert_ptr_equal(q, p);
	check(q, 100);
	bigmem_free(q);
	bigmem_free(NULL);
}

static void test_grow_doubles(void **state)
{
	unsigned char *p = NULL, *q;
	size_t cap = 0, have = 0;
	const size_t needs[] = { 1, 100, 101, 4097, BIGMEM_HUGE + 1, 5 * BIGMEM_HUGE };
	const size_t caps[] = { 100, 100, 200, 6400, 409600, 1638400 };

	(void)state;
	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++) {
		q = bigmem_grow(p, &cap, needs[i], 100);
		assert_non_null(q);
		assert_int_equal(cap, caps[i]);
		check(q, have);
		fill(q, have, needs[i]);
		p = q;
		have = needs[i];
	}
	/* the rule alone, for a buffer that stays plain memory */
	assert_int_equal(bigmem_grow_size(0, 4097, 100), 6400);
	assert_int_equal(bigmem_grow_size(6400, 6400, 100), 6400);
	assert_int_equal(bigmem_grow_size(6400, 6401, 100), 12800);
	assert_int_equal(bigmem_grow_size(0, 1, 0), 0);
	assert_int_equal(bigmem_grow_size(cap, SIZE_MAX / 2, 100), 0);
	q = bigmem_grow(p, &cap, SIZE_MAX / 2, 100);
	assert_null(q);
	assert_int_equal(cap, caps[5]); /* untouched, and p still good */
	check(p, have);
	bigmem_free(p);
}

/* The VmFlags of the mapping that holds p, from /proc/self/smaps. */
static void vm_flags(const void *p, char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false;

	buf[0] = '\0';
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
		else if (in && !strncmp(line, "VmFlags:", 8))
			snprintf(buf, size, "%s", line + 8);
	}
	fclose(f);
}

static void test_huge_page_hint(void **state)
{
	char flags[512], mode[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	void *p;

	(void)state;
	if (f) {
		if (!fgets(mode, sizeof(mode), f))
			mode[0] = '\0';
		fclose(f);
	}
	if (!strstr(mode, "[madvise]") && !strstr(mode, "[always]")) {
		printf("SKIP: transparent huge pages are off here (%s)\n",
		       mode[0] ? mode : "no /sys/kernel/mm/transparent_hugepage");
		skip();
	}
	p = bigmem_realloc(NULL, (size_t)3 << 20);
	assert_non_null(p);
	memset(p, 1, (size_t)3 << 20);
	vm_flags(p, flags, sizeof(flags));
	if (!strstr(flags, " hg"))
		fail_msg("a mapping of 3 MiB without the huge-page hint (VmFlags:%s)", flags);
	bigmem_free(p);
	p = bigmem_realloc(NULL, 1000); /* small: malloc's, no hint of its own */
	assert_non_null(p);
	bigmem_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_keeping_contents),
		cmocka_unit_test(test_grow_doubles),
		cmocka_unit_test(test_huge_page_hint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
