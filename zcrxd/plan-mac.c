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

static uint64_t mac_number(const uint8_t *mac)
{
	uint64_t v = 0;
	size_t k;

	for (k = 0; k < NIC_MAC_LEN; k++)
		v = v << 8 | mac[k];
	return v;
}

/* Where a MAC's search starts (multiplicative hashing: libvirt's MACs
 * differ in their last bytes, the high bits of the product mix them all). */
static size_t mac_slot(const struct planner *pl, const uint8_t *mac)
{
	return (size_t)((mac_number(mac) * 0x9e3779b97f4a7c15ull) >> 32) & pl->mac_mask;
}

int plan_mac_index(struct planner *pl)
{
	size_t size = 16;

	while (size < 2 * pl->n_ap)
		size *= 2;
	pl->mac_slots = plan_xcalloc(pl, size, sizeof(*pl->mac_slots));
	if (!pl->mac_slots)
		return pl->err;
	pl->mac_mask = size - 1;
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
	pl->mac_slots[s] = ap->idx + 1;
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
