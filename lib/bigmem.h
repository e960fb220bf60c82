/* SPDX-License-Identifier: MIT */
/*
 * bigmem — memory for the big, short-lived buffers of a listing (its text
 * in zcrxd, the reply and its tokens in zcrxctl).  Once a buffer passes
 * BIGMEM_HUGE it is mapped in 2 MiB-aligned pieces the kernel may back
 * with transparent huge pages (madvise): a listing of 4,096 attachments
 * touches megabytes that were never mapped before, and on a virtual
 * machine each 4 KiB page's first touch is a fault of several
 * microseconds (12 us on the CI machine: 4 MiB touched in 12 ms, in
 * 0.3 ms as huge pages; `bench/bench-scale.py listing`).  Below it, or
 * where the kernel says no, it is plain memory.
 *
 * A growing buffer (jtext's text, a Varlink reader's bytes, zcrxctl's
 * table) grows with bigmem_grow: doubled, so appending n bytes one piece
 * at a time costs O(n).  A growing buffer that must stay plain memory
 * takes its sizes from bigmem_grow_size, the same rule.
 *
 * Owns: those mappings and the growth of a buffer.  Must not: print, exit.
 */
#pragma once

#include <stddef.h>

#define BIGMEM_HUGE ((size_t)256 << 10)

/* realloc() for bigmem: p is NULL or from bigmem_realloc; the contents
 * up to the smaller size are kept.  NULL (p untouched) when out of
 * memory. */
void *bigmem_realloc(void *p, size_t n);
void bigmem_free(void *p);
/* A growing buffer p (NULL or from bigmem_realloc) of *cap bytes made to
 * hold at least need: its size doubled, from first when it is empty, until
 * it does.  Returns the buffer, maybe moved, and its new size in *cap; NULL
 * (p and *cap untouched) when out of memory.  For the rare call: the
 * caller checks need against *cap itself. */
void *bigmem_grow(void *p, size_t *cap, size_t need, size_t first);
/* bigmem_grow's rule alone: the size a growing buffer of cap bytes (0:
 * empty) takes to hold need, or 0 when that is absurd.  For the buffers
 * that are many at once and stay plain memory (zcrxd's connection output
 * queues, realloc'd): a huge page each would be 2 MiB resident for a
 * queue of a few hundred KiB. */
size_t bigmem_grow_size(size_t cap, size_t need, size_t first);
