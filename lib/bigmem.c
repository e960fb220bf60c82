// SPDX-License-Identifier: MIT
/*
 * bigmem — big, short-lived buffers (bigmem.h).
 *
 * Every buffer has a header in front of it: the size of its mapping, or 0
 * when it came from malloc.  A mapping is reserved at twice what is asked
 * (untouched pages cost nothing), so a growing buffer is moved rarely.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bigmem.h"

#define HUGE_PAGE ((size_t)2 << 20)

struct head {
	size_t map;  /* bytes mapped at the header, 0: malloc'd */
	size_t size; /* bytes usable after the header */
};

#define HEAD ((sizeof(struct head) + 15) & ~(size_t)15)

static struct head *head_of(void *p)
{
	return (struct head *)(void *)((char *)p - HEAD);
}

/* A mapping of at least n bytes starting on a 2 MiB boundary. */
static struct head *map_aligned(size_t n)
{
	size_t len = (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1), lead;
	char *p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	struct head *h;

	if (p == MAP_FAILED)
		return NULL;
	lead = (HUGE_PAGE - ((uintptr_t)p & (HUGE_PAGE - 1))) & (HUGE_PAGE - 1);
	if (lead)
		munmap(p, lead);
	if (HUGE_PAGE - lead)
		munmap(p + lead + len, HUGE_PAGE - lead);
	h = (struct head *)(void *)(p + lead);
#ifdef MADV_HUGEPAGE
	(void)madvise(h, len, MADV_HUGEPAGE); /* a hint: refused, it is 4 KiB pages */
#endif
	h->map = len;
	h->size = len - HEAD;
	return h;
}

void *bigmem_realloc(void *p, size_t n)
{
	struct head *h = p ? head_of(p) : NULL, *x;

	if (n > SIZE_MAX / 2 - HUGE_PAGE)
		return NULL;
	if (h && h->map && n <= h->size)
		return p;
	if (n < BIGMEM_HUGE && (!h || !h->map)) {
		x = realloc(h, HEAD + n);
		if (!x)
			return NULL;
		x->map = 0;
		x->size = n;
		return (char *)x + HEAD;
	}
	x = map_aligned(HEAD + 2 * n);
	if (!x)
		return NULL;
	if (h) {
		memcpy((char *)x + HEAD, p, h->size < n ? h->size : n);
		bigmem_free(p);
	}
	return (char *)x + HEAD;
}

void bigmem_free(void *p)
{
	struct head *h;

	if (!p)
		return;
	h = head_of(p);
	if (h->map)
		munmap(h, h->map);
	else
		free(h);
}

size_t bigmem_grow_size(size_t cap, size_t need, size_t first)
{
	size_t n = cap ? cap : first;

	if (!n || need > SIZE_MAX / 4)
		return 0;
	while (n < need)
		n *= 2;
	return n;
}

void *bigmem_grow(void *p, size_t *cap, size_t need, size_t first)
{
	size_t n = bigmem_grow_size(*cap, need, first);

	if (!n)
		return NULL;
	p = bigmem_realloc(p, n);
	if (p)
		*cap = n;
	return p;
}
