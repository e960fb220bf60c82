// SPDX-License-Identifier: MIT
/*
 * plan-mac — the planner's attachments by MAC (plan-int.h): a hash table
 * made once a plan in planning order (the first of a MAC holds it; plan.c
 * refuses the later ones as duplicates), looked up for the journal's
 * owners (plan_ap_by_mac).  Made in one pass, where a sorted index costs
 * a sort of every attachment on every plan.
 *
 * Owns: the by-MAC index.  Must not: do I/O, keep state.
 */
#include "plan-int.h"

/* Where a MAC's search starts: its 48 bits in a number (any byte order
 * will do) times a 64-bit odd constant, the top bits of the product (they
 * depend on every bit of it: MACs that differ in one byte, libvirt's or
 * a test's, spread over the table). */
static size_t mac_slot(const struct planner *pl, const uint8_t *mac)
{
	uint32_t lo;
	uint16_t hi;

	_Static_assert(NIC_MAC_LEN == 6, "a MAC is 4 + 2 bytes");
	memcpy(&lo, mac, 4);
	memcpy(&hi, mac + 4, 2);
	return (size_t)((((uint64_t)hi << 32 | lo) * 0x9e3779b97f4a7c15ull) >> pl->mac_shift);
}

int plan_mac_index(struct planner *pl)
{
	size_t size = 16;
	unsigned shift = 64 - 4;

	if (pl->n_ap >= UINT32_MAX / 2) {
		pl->err = -ENOMEM; /* (no host has 2^31 vNICs on one NIC) */
		return pl->err;
	}
	while (size < 2 * pl->n_ap) {
		size *= 2;
		shift--;
	}
	pl->mac_slots = plan_xcalloc(pl, size, sizeof(*pl->mac_slots));
	if (!pl->mac_slots)
		return pl->err;
	pl->mac_mask = size - 1;
	pl->mac_shift = shift;
	return 0;
}

struct aplan *plan_mac_add(struct planner *pl, struct aplan *ap)
{
	size_t s = mac_slot(pl, ap->a->id.mac);

	for (; pl->mac_slots[s]; s = (s + 1) & pl->mac_mask) {
		struct aplan *have = &pl->ap[pl->mac_slots[s] - 1];

		if (!memcmp(have->a->id.mac, ap->a->id.mac, NIC_MAC_LEN))
			return have;
	}
	pl->mac_slots[s] = (uint32_t)ap->idx + 1;
	return NULL;
}

struct aplan *plan_ap_by_mac(const struct planner *pl, const uint8_t *mac)
{
	size_t s;

	if (!pl->mac_slots)
		return NULL;
	for (s = mac_slot(pl, mac); pl->mac_slots[s]; s = (s + 1) & pl->mac_mask) {
		struct aplan *ap = &pl->ap[pl->mac_slots[s] - 1];

		if (!memcmp(ap->a->id.mac, mac, NIC_MAC_LEN))
			return ap;
	}
	return NULL;
}
