// SPDX-License-Identifier: MIT
/*
 * plan-mac — the planner's attachments by MAC (plan-int.h): sorted once a
 * plan (pl->by_mac; plan.c finds the duplicates in that order), looked up
 * for the journal's owners (plan_ap_by_mac).
 *
 * Owns: the by-MAC order.  Must not: do I/O, keep state.
 */
#include "plan-int.h"

static int cmp_ap_mac(const void *a, const void *b, void *arg)
{
	const struct aplan *base = arg;
	const struct aplan *x = &base[*(const size_t *)a];
	const struct aplan *y = &base[*(const size_t *)b];
	int c = memcmp(x->a->id.mac, y->a->id.mac, NIC_MAC_LEN);

	if (c)
		return c;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* A MAC as a number (memcmp's order) and its rank: sorting these touches
 * no attachment, where cmp_ap_mac follows two pointers per comparison. */
struct mac_rank {
	uint64_t mac;
	size_t rank, idx;
};

static int cmp_mac_rank(const void *a, const void *b)
{
	const struct mac_rank *x = a, *y = b;

	if (x->mac != y->mac)
		return x->mac < y->mac ? -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static uint64_t mac_number(const uint8_t *mac)
{
	uint64_t v = 0;
	size_t k;

	for (k = 0; k < NIC_MAC_LEN; k++)
		v = v << 8 | mac[k];
	return v;
}

/* v[0..n) ascending (merge sort, tmp: room for n; keys distinct) */
static void sort_u64(uint64_t *v, uint64_t *tmp, size_t n)
{
	uint64_t *src = v, *dst = tmp, *t;
	size_t w, lo, i;

	/* runs of 8 by insertion first: most of the work on a few hundred */
	for (lo = 0; lo < n; lo += 8) {
		size_t hi = lo + 8 < n ? lo + 8 : n;

		for (i = lo + 1; i < hi; i++) {
			uint64_t x = v[i];
			size_t j = i;

			for (; j > lo && v[j - 1] > x; j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
	}
	for (w = 8; w < n; w *= 2) {
		for (lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t a = lo, b = mid, o = lo;

			while (a < mid && b < hi)
				dst[o++] = src[a] < src[b] ? src[a++] : src[b++];
			while (a < mid)
				dst[o++] = src[a++];
			while (b < hi)
				dst[o++] = src[b++];
		}
		t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

/* pl->by_mac in cmp_ap_mac's order (a total order: ranks differ).  With
 * fewer than 2^16 attachments a MAC (48 bits) and its rank make one
 * 64-bit key, and the rank gives the attachment back (pl->order). */
void plan_sort_by_mac(struct planner *pl)
{
	size_t i, n = pl->n_by_mac;
	struct mac_rank *v;

	_Static_assert(NIC_MAC_LEN <= 6, "a MAC and a 16-bit rank fit in 64 bits");
	for (i = 1; i < n; i++)
		if (cmp_ap_mac(&pl->by_mac[i - 1], &pl->by_mac[i], pl->ap) > 0)
			break;
	if (i >= n)
		return; /* sorted already */
	if (pl->n_ap <= 0xffff) {
		uint64_t *key = malloc(2 * n * sizeof(*key));

		if (key) {
			for (i = 0; i < n; i++) {
				const struct aplan *ap = &pl->ap[pl->by_mac[i]];

				key[i] = mac_number(ap->a->id.mac) << 16 | ap->rank;
			}
			sort_u64(key, key + n, n);
			for (i = 0; i < n; i++)
				pl->by_mac[i] = pl->order[key[i] & 0xffff];
			free(key);
			return;
		}
	}
	v = malloc(n * sizeof(*v));
	if (!v) {
		qsort_r(pl->by_mac, n, sizeof(size_t), cmp_ap_mac, pl->ap);
		return;
	}
	for (i = 0; i < n; i++) {
		const struct aplan *ap = &pl->ap[pl->by_mac[i]];

		v[i].mac = mac_number(ap->a->id.mac);
		v[i].rank = ap->rank;
		v[i].idx = pl->by_mac[i];
	}
	qsort(v, n, sizeof(*v), cmp_mac_rank);
	for (i = 0; i < n; i++)
		pl->by_mac[i] = v[i].idx;
	free(v);
}

struct aplan *plan_ap_by_mac(const struct planner *pl, const uint8_t *mac)
{
	size_t lo = 0, hi = pl->n_by_mac;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		struct aplan *ap = &pl->ap[pl->by_mac[mid]];
		int c = memcmp(ap->a->id.mac, mac, NIC_MAC_LEN);

		if (!c)
			return ap;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
