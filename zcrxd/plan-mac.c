// SPDX-License-Identifier: MIT
/*
 * plan-mac — a plan's attachments by MAC (plan-int.h): a hash table of
 * their indexes, filled in the order the caller adds them (the first of a
 * MAC holds it), looked up for the journal's owners.  The planner fills
 * it in planning order (plan.c refuses the later ones as duplicates,
 * plan_ap_by_mac finds an owner's); plan-tail.c finds with it the MACs
 * two attachments have and those the journal owns.  Made in one pass,
 * where a sorted index costs a sort of every attachment on every plan.
 *
 * Owns: the by-MAC index.  Must not: do I/O, keep state.
 */
#include "plan-int.h"

/* Where a MAC's search starts: its 48 bits in a number (any byte order
 * will do) times a 64-bit odd constant, the top bits of the product (they
 * depend on every bit of it: MACs that differ in one byte, libvirt's or
 * a test's, spread over the table). */
static size_t mac_slot(const struct plan_macs *m, const uint8_t *mac)
{
	uint32_t lo;
	uint16_t hi;

	_Static_assert(NIC_MAC_LEN == 6, "a MAC is 4 + 2 bytes");
	memcpy(&lo, mac, 4);
	memcpy(&hi, mac + 4, 2);
	return (size_t)((((uint64_t)hi << 32 | lo) * 0x9e3779b97f4a7c15ull) >> m->shift);
}

int plan_macs_init(struct plan_macs *m, const struct attach *const *atts, size_t n)
{
	size_t size = 16;
	unsigned shift = 64 - 4;

	memset(m, 0, sizeof(*m));
	if (n >= UINT32_MAX / 2)
		return -ENOMEM; /* (no host has 2^31 vNICs on one NIC) */
	while (size < 2 * n) {
		size *= 2;
		shift--;
	}
	m->slots = calloc(size, sizeof(*m->slots));
	if (!m->slots)
		return -ENOMEM;
	m->atts = atts;
	m->mask = size - 1;
	m->shift = shift;
	return 0;
}

void plan_macs_free(struct plan_macs *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

ssize_t plan_macs_add(struct plan_macs *m, size_t i)
{
	const uint8_t *mac = m->atts[i]->id.mac;
	size_t s = mac_slot(m, mac);

	for (; m->slots[s]; s = (s + 1) & m->mask)
		if (!memcmp(m->atts[m->slots[s] - 1]->id.mac, mac, NIC_MAC_LEN))
			return (ssize_t)m->slots[s] - 1;
	m->slots[s] = (uint32_t)i + 1;
	return -1;
}

ssize_t plan_macs_find(const struct plan_macs *m, const uint8_t *mac)
{
	size_t s;

	if (!m->slots)
		return -1;
	for (s = mac_slot(m, mac); m->slots[s]; s = (s + 1) & m->mask)
		if (!memcmp(m->atts[m->slots[s] - 1]->id.mac, mac, NIC_MAC_LEN))
			return (ssize_t)m->slots[s] - 1;
	return -1;
}

/* --- the planner's ------------------------------------------------------------- */

int plan_mac_index(struct planner *pl)
{
	if (plan_macs_init(&pl->macs, pl->in->atts, pl->n_ap) < 0)
		pl->err = -ENOMEM;
	return pl->err;
}

struct aplan *plan_mac_add(struct planner *pl, struct aplan *ap)
{
	ssize_t k = plan_macs_add(&pl->macs, ap->idx);

	return k < 0 ? NULL : &pl->ap[k];
}

struct aplan *plan_ap_by_mac(const struct planner *pl, const uint8_t *mac)
{
	ssize_t k = plan_macs_find(&pl->macs, mac);

	return k < 0 ? NULL : &pl->ap[k];
}
