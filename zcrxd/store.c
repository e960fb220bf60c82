// SPDX-License-Identifier: MIT
/*
 * store — the in-memory store (store.h): desired attachments and the NIC
 * journals, and the names of rule matches and actions its files use.
 * Its JSON forms are in store-write.c and store-read.c, its file in
 * store-file.c.
 * Owns: the data model.  Must not: touch the kernel or log above debug.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"
#include "str.h"

void store_init(struct store *s)
{
	memset(s, 0, sizeof(*s));
	s->next_seq = 1;
}

void store_clear(struct store *s)
{
	size_t i;

	for (i = 0; i < s->n_atts; i++)
		attach_clear(&s->atts[i]);
	if (s->atts)
		free(s->atts - s->lead_atts);
	if (s->keys)
		free(s->keys - s->lead_keys);
	for (i = 0; i < s->n_on; i++)
		free(s->on[i].idx);
	free(s->on);
	for (i = 0; i < s->n_nics; i++)
		journal_nic_clear(&s->nics[i]);
	free(s->nics);
	free(s->marks);
	free(s->nic_marks);
	store_init(s);
}

int store_copy(struct store *dst, const struct store *src)
{
	size_t i;

	store_init(dst);
	dst->next_seq = src->next_seq;
	dst->generation = src->generation;
	dst->atts = calloc(src->n_atts ? src->n_atts : 1, sizeof(*dst->atts));
	dst->nics = calloc(src->n_nics ? src->n_nics : 1, sizeof(*dst->nics));
	if (!dst->atts || !dst->nics)
		goto nomem;
	dst->cap_atts = src->n_atts ? src->n_atts : 1;
	for (i = 0; i < src->n_atts; i++) {
		attach_init(&dst->atts[i]);
		if (attach_copy(&dst->atts[i], &src->atts[i]) < 0) {
			attach_clear(&dst->atts[i]);
			goto nomem;
		}
		dst->n_atts++;
	}
	/* the index as it is (no lookup of each attachment's NIC) */
	if (src->n_on) {
		dst->on = calloc(src->n_on, sizeof(*dst->on));
		if (!dst->on)
			goto nomem;
		dst->cap_on = src->n_on;
	}
	for (i = 0; i < src->n_on; i++) {
		struct store_on *o = &dst->on[i];

		*o = src->on[i];
		o->idx = malloc(o->n * sizeof(*o->idx));
		if (!o->idx)
			goto nomem;
		memcpy(o->idx, src->on[i].idx, o->n * sizeof(*o->idx));
		o->cap = o->n;
		dst->n_on++;
	}
	for (i = 0; i < src->n_nics; i++) {
		if (journal_nic_copy(&dst->nics[i], &src->nics[i]) < 0)
			goto nomem;
		dst->n_nics++;
	}
	store_rekey(dst);
	return 0;
nomem:
	store_clear(dst);
	return -ENOMEM;
}

static void key_of(struct store_key *k, const struct attach_id *id)
{
	memcpy(k->mac, id->mac, NIC_MAC_LEN);
	str_copy(k->nic, sizeof(k->nic), id->nic);
}

void store_rekey(struct store *s)
{
	size_t i;

	if (s->keys)
		free(s->keys - s->lead_keys);
	s->lead_keys = 0;
	s->keys = s->n_atts ? calloc(s->n_atts, sizeof(*s->keys)) : NULL;
	s->n_keys = s->keys ? s->n_atts : 0;
	s->cap_keys = s->n_keys;
	for (i = 0; i < s->n_keys; i++)
		key_of(&s->keys[i], &s->atts[i].id);
}

/* --- the index of each NIC's attachments ------------------------------------------------- */

static struct store_on *on_find(const struct store *s, const char *nic)
{
	size_t i;

	for (i = 0; i < s->n_on; i++)
		if (!strcmp(s->on[i].nic, nic))
			return &s->on[i];
	return NULL;
}

int store_index_add(struct store *s, const char *nic, size_t i)
{
	struct store_on *o = on_find(s, nic);
	bool fresh = !o;

	if (fresh) {
		if (s->n_on >= s->cap_on) {
			size_t cap = s->cap_on ? 2 * s->cap_on : 8;
			struct store_on *v = reallocarray(s->on, cap, sizeof(*v));

			if (!v)
				return -ENOMEM;
			s->on = v;
			s->cap_on = cap;
		}
		o = &s->on[s->n_on];
		memset(o, 0, sizeof(*o));
		str_copy(o->nic, sizeof(o->nic), nic);
	}
	if (o->n >= o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 8;
		size_t *v = reallocarray(o->idx, cap, sizeof(*v));

		if (!v)
			return -ENOMEM; /* (a fresh entry is not counted yet) */
		o->idx = v;
		o->cap = cap;
	}
	o->idx[o->n++] = i;
	if (fresh)
		s->n_on++;
	return 0;
}

/* Attachment index is gone: out of its NIC's list, the ones above it one
 * down (each list is ascending: only its tail moves). */
static void index_del(struct store *s, size_t index)
{
	size_t i = 0;

	while (i < s->n_on) {
		struct store_on *o = &s->on[i];
		size_t lo = 0, hi = o->n, k;

		while (lo < hi) { /* the first entry >= index */
			size_t mid = lo + (hi - lo) / 2;

			if (o->idx[mid] < index)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < o->n && o->idx[lo] == index) {
			memmove(&o->idx[lo], &o->idx[lo + 1], (o->n - lo - 1) * sizeof(*o->idx));
			o->n--;
		}
		for (k = lo; k < o->n; k++)
			o->idx[k]--;
		if (!o->n) {
			free(o->idx);
			memmove(o, o + 1, (s->n_on - i - 1) * sizeof(*o));
			s->n_on--;
		} else {
			i++;
		}
	}
}

const size_t *store_atts_on(const struct store *s, const char *nic, size_t *n)
{
	const struct store_on *o = on_find(s, nic);

	*n = o ? o->n : 0;
	return o && o->n ? o->idx : NULL;
}

ssize_t store_find_attach(const struct store *s, const char *nic, const uint8_t *mac)
{
	const struct store_on *o = on_find(s, nic);
	uint32_t hi, khi;
	uint16_t lo, klo;
	size_t k;

	/* among the NIC's attachments alone (the index is exact) */
	if (!o)
		return -1;
	if (s->n_keys != s->n_atts) { /* (keys lost to a failed allocation) */
		for (k = 0; k < o->n; k++)
			if (!memcmp(s->atts[o->idx[k]].id.mac, mac, NIC_MAC_LEN))
				return (ssize_t)o->idx[k];
		return -1;
	}
	/* the MAC as two words, compared with each key's: a lookup that
	 * finds nothing (a removed attachment's record) reads them all */
	memcpy(&hi, mac, 4);
	memcpy(&lo, mac + 4, 2);
	for (k = 0; k < o->n; k++) {
		const uint8_t *m = s->keys[o->idx[k]].mac;

		memcpy(&khi, m, 4);
		memcpy(&klo, m + 4, 2);
		if (khi == hi && klo == lo)
			return (ssize_t)o->idx[k];
	}
	return -1;
}

bool store_att_on(const struct store *s, size_t i, const char *nic)
{
	return !strcmp(s->n_keys == s->n_atts ? s->keys[i].nic : s->atts[i].id.nic, nic);
}

/* Element i (of n, size bytes each) out of the array *a: the shorter side
 * moves by one.  The ones before it move up and *a with them, its slots
 * before the first counted in *lead (and out of *cap): attachments are
 * mostly removed oldest first (domains stop in the order they started),
 * and an array of hundreds of 288-byte attachments moved on every
 * removal cost ~13,000 instructions. */
static void remove_at(void **a, size_t size, size_t n, size_t i, size_t *cap, size_t *lead)
{
	char *p = *a;

	if (i < n / 2) {
		memmove(p + size, p, i * size);
		*a = p + size;
		(*lead)++;
		if (*cap)
			(*cap)--;
	} else {
		memmove(p + i * size, p + (i + 1) * size, (n - i - 1) * size);
	}
}

/* The slots before *a given back to its end (the array moved to the
 * start of its allocation). */
static void slide_down(void **a, size_t size, size_t n, size_t *cap, size_t *lead)
{
	char *base = (char *)*a - *lead * size;

	memmove(base, *a, n * size);
	*a = base;
	*cap += *lead;
	*lead = 0;
}

int store_put_attach(struct store *s, const struct attach_id *id, size_t *ret_index)
{
	ssize_t i = store_find_attach(s, id->nic, id->mac);
	struct attach_id copy;
	struct attach *v;

	if (attach_id_copy(&copy, id) < 0)
		return -ENOMEM;
	if (i >= 0) {
		struct attach_id was = s->atts[i].id;

		s->atts[i].id = copy;
		s->atts[i].id.seq = was.seq;
		if (!attach_id_equal(&was, &s->atts[i].id))
			store_mark(s, id->nic, id->mac);
		attach_id_clear(&was);
		if (ret_index)
			*ret_index = (size_t)i;
		return 0;
	}
	if (s->n_atts >= s->cap_atts && s->lead_atts) /* room before it: move down */
		slide_down((void **)&s->atts, sizeof(*s->atts), s->n_atts, &s->cap_atts,
			   &s->lead_atts);
	if (s->n_atts >= s->cap_atts) {
		size_t cap = s->n_atts < 8 ? 16 : 2 * s->n_atts;

		v = realloc(s->atts, cap * sizeof(*v));
		if (!v) {
			attach_id_clear(&copy);
			return -ENOMEM;
		}
		s->atts = v;
		s->cap_atts = cap;
	}
	if (store_index_add(s, id->nic, s->n_atts) < 0) {
		attach_id_clear(&copy);
		return -ENOMEM;
	}
	v = s->atts;
	if (s->n_keys == s->n_atts) { /* (else lost to a failed allocation: scans atts) */
		struct store_key *k;

		if (s->n_keys >= s->cap_keys && s->lead_keys)
			slide_down((void **)&s->keys, sizeof(*s->keys), s->n_keys, &s->cap_keys,
				   &s->lead_keys);
		k = s->keys;
		if (s->n_keys >= s->cap_keys) {
			size_t cap = s->n_keys < 8 ? 16 : 2 * s->n_keys;

			k = realloc(s->keys, cap * sizeof(*k));
			if (k) {
				s->keys = k;
				s->cap_keys = cap;
			}
		}
		if (k)
			key_of(&k[s->n_keys++], id);
	}
	attach_init(&v[s->n_atts]);
	v[s->n_atts].id = copy;
	v[s->n_atts].id.seq = s->next_seq++;
	store_mark(s, id->nic, id->mac);
	if (ret_index)
		*ret_index = s->n_atts;
	s->n_atts++;
	return 0;
}

void store_del_attach(struct store *s, size_t index)
{
	if (index >= s->n_atts)
		return;
	store_mark(s, s->atts[index].id.nic, s->atts[index].id.mac);
	attach_clear(&s->atts[index]);
	index_del(s, index);
	remove_at((void **)&s->atts, sizeof(*s->atts), s->n_atts, index, &s->cap_atts,
		  &s->lead_atts);
	if (s->n_keys == s->n_atts) {
		remove_at((void **)&s->keys, sizeof(*s->keys), s->n_keys, index, &s->cap_keys,
			  &s->lead_keys);
		s->n_keys--;
	}
	s->n_atts--;
}

/* A mark that cannot be kept (out of memory) marks everything: the next
 * write is then a compaction (store-log.c), so nothing is lost. */
static void mark_all(struct store *s)
{
	s->n_marks = SIZE_MAX;
}

void store_mark(struct store *s, const char *nic, const uint8_t *mac)
{
	struct store_mark *v;
	size_t i;

	if (s->n_marks == SIZE_MAX)
		return;
	for (i = s->n_marks; i-- > 0;)
		if (!memcmp(s->marks[i].mac, mac, NIC_MAC_LEN) && !strcmp(s->marks[i].nic, nic))
			return;
	v = realloc(s->marks, (s->n_marks + 1) * sizeof(*v));
	if (!v) {
		mark_all(s);
		return;
	}
	s->marks = v;
	v = &v[s->n_marks++];
	memset(v, 0, sizeof(*v));
	str_copy(v->nic, sizeof(v->nic), nic);
	memcpy(v->mac, mac, NIC_MAC_LEN);
}

void store_mark_nic(struct store *s, const char *nic)
{
	char(*v)[IF_NAMESIZE];
	size_t i;

	if (s->n_marks == SIZE_MAX)
		return;
	for (i = 0; i < s->n_nic_marks; i++)
		if (!strcmp(s->nic_marks[i], nic))
			return;
	v = realloc(s->nic_marks, (s->n_nic_marks + 1) * sizeof(*v));
	if (!v) {
		mark_all(s);
		return;
	}
	s->nic_marks = v;
	str_copy(v[s->n_nic_marks++], IF_NAMESIZE, nic);
}

void store_marks_clear(struct store *s)
{
	s->n_marks = 0;
	s->n_nic_marks = 0;
}

struct journal_nic *store_journal(struct store *s, const char *nic, int ifindex, bool create)
{
	struct journal_nic *v;
	size_t i;

	for (i = 0; i < s->n_nics; i++)
		if (!strcmp(s->nics[i].name, nic)) {
			if (ifindex > 0)
				s->nics[i].ifindex = ifindex;
			return &s->nics[i];
		}
	if (!create)
		return NULL;
	v = realloc(s->nics, (s->n_nics + 1) * sizeof(*v));
	if (!v)
		return NULL;
	s->nics = v;
	journal_nic_init(&v[s->n_nics], nic, ifindex);
	return &v[s->n_nics++];
}

void store_gc(struct store *s)
{
	size_t i = 0;

	while (i < s->n_nics) {
		if (journal_nic_empty(&s->nics[i]) && !s->nics[i].released) {
			journal_nic_clear(&s->nics[i]);
			memmove(&s->nics[i], &s->nics[i + 1],
				(s->n_nics - i - 1) * sizeof(*s->nics));
			s->n_nics--;
		} else {
			i++;
		}
	}
}


const char *store_match_name(enum nic_rule_match m)
{
	switch (m) {
	case NIC_RULE_MATCH_ETHER_DST: return "ether-dst";
	case NIC_RULE_MATCH_IP4_DST: return "ip4-dst";
	case NIC_RULE_MATCH_IP6_DST: return "ip6-dst";
	case NIC_RULE_MATCH_FLOW4: return "flow4";
	case NIC_RULE_MATCH_FLOW6: return "flow6";
	case NIC_RULE_MATCH_OTHER: return "other";
	}
	return "other";
}

const char *store_action_name(enum nic_rule_action a)
{
	switch (a) {
	case NIC_RULE_ACTION_QUEUE: return "queue";
	case NIC_RULE_ACTION_CONTEXT: return "context";
	case NIC_RULE_ACTION_DROP: return "drop";
	case NIC_RULE_ACTION_OTHER: return "other";
	}
	return "other";
}
