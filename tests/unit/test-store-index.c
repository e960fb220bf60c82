// SPDX-License-Identifier: MIT
/*
 * test-store-index — the store's index of each NIC's attachments
 * (store_atts_on, and store_find_attach through it) against a plain scan
 * of every attachment, after random puts and removals, a copy, a parse of
 * the snapshot and a replay of the log; and the attachments' order (the
 * snapshot's) against a plain list, removed oldest first, newest first or
 * anywhere, with puts between.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "jtext.h"
#include "store.h"
#include "store-scan.h"

/* NIC names that share prefixes, and one that never holds anything. */
static const char *const nics[] = { "eth1", "eth10", "eth1x", "enp3s0f0", "enp3s0f1", "zx0" };
#define N_NICS (sizeof(nics) / sizeof(nics[0]))
#define N_USED (N_NICS - 1)
#define N_MACS 300u

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned below)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % below);
}

static void mac_of(uint8_t *mac, unsigned i)
{
	static const uint8_t base[NIC_MAC_LEN] = { 0x52, 0x54, 0, 0, 0, 0 };

	memcpy(mac, base, NIC_MAC_LEN);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

/* The index says, for every NIC, exactly what a scan of every attachment
 * finds, in the store's order; every attachment is in it once; lookups
 * find what a scan finds. */
static void assert_index(const struct store *s)
{
	size_t x, i, k, total = 0;
	uint8_t mac[NIC_MAC_LEN];
	unsigned m;

	for (x = 0; x < N_NICS; x++) {
		size_t n;
		const size_t *on = store_atts_on(s, nics[x], &n);

		k = 0;
		for (i = 0; i < s->n_atts; i++) {
			if (strcmp(s->atts[i].id.nic, nics[x]))
				continue;
			assert_true(k < n);
			assert_int_equal(on[k], i);
			k++;
		}
		assert_int_equal(k, n);
		if (!n)
			assert_null(on);
		total += n;
	}
	assert_int_equal(total, s->n_atts);
	for (x = 0; x < N_NICS; x++)
		for (m = 0; m < N_MACS; m += 7) {
			mac_of(mac, m);
			assert_int_equal(store_find_attach(s, nics[x], mac),
					 store_scan_find(s, nics[x], mac));
		}
}

static void put(struct store *s, const char *nic, unsigned m)
{
	struct attach_id id;
	size_t k;
	char dom[32];

	attach_id_init(&id);
	snprintf(dom, sizeof(dom), "vm%u-%u", m, rnd(5));
	assert_int_equal(attach_id_set_domain(&id, dom), 0);
	snprintf(id.nic, sizeof(id.nic), "%s", nic);
	mac_of(id.mac, m);
	id.queues = 1 + rnd(3);
	assert_int_equal(store_put_attach(s, &id, &k), 0);
	assert_int_equal(store_scan_find(s, nic, id.mac), (ssize_t)k);
	attach_id_clear(&id);
}

/* One random change: mostly new attachments early, then as many removals
 * (from anywhere) as additions; some puts replace one already there. */
static void change(struct store *s, unsigned step)
{
	if (s->n_atts && rnd(100) < (step < 200 ? 25u : 50u)) {
		store_del_attach(s, rnd((unsigned)s->n_atts));
		return;
	}
	put(s, nics[rnd(N_USED)], rnd(N_MACS));
}

static char *to_text(const struct store *s)
{
	struct jtext t;
	char *copy;

	assert_int_equal(store_to_text(s, &t), 0);
	copy = strndup(t.s, t.n);
	assert_non_null(copy);
	jtext_free(&t);
	return copy;
}

static void test_index_random(void **state)
{
	struct kerror err = { 0 };
	struct store s, c, r;
	unsigned step;
	char *text;

	(void)state;
	store_init(&s);
	assert_index(&s);
	for (step = 0; step < 1500; step++) {
		change(&s, step);
		assert_index(&s);
	}
	assert_true(s.n_atts > 50);
	/* removals down to none: every NIC's entry goes */
	assert_int_equal(store_copy(&c, &s), 0);
	assert_index(&c);
	text = to_text(&s);
	assert_int_equal(store_parse(text, strlen(text), &r, &err), 0);
	assert_index(&r);
	free(text);
	while (c.n_atts) {
		store_del_attach(&c, rnd((unsigned)c.n_atts));
		assert_index(&c);
	}
	assert_int_equal(c.n_on, 0);
	put(&c, nics[0], 1);
	assert_index(&c);
	assert_index(&s); /* the copy's index is its own */
	store_clear(&r);
	store_clear(&c);
	store_clear(&s);
}

/* A plain list of what the store holds, in its order. */
struct model {
	size_t n;
	struct {
		unsigned nic, m;
		uint64_t seq;
	} e[4096];
};

static void assert_model(const struct store *s, const struct model *md)
{
	uint8_t mac[NIC_MAC_LEN];
	size_t i;

	assert_int_equal(s->n_atts, md->n);
	for (i = 0; i < md->n; i++) {
		mac_of(mac, md->e[i].m);
		assert_string_equal(s->atts[i].id.nic, nics[md->e[i].nic]);
		assert_memory_equal(s->atts[i].id.mac, mac, NIC_MAC_LEN);
		assert_int_equal(s->atts[i].id.seq, md->e[i].seq);
		assert_true(store_att_on(s, i, nics[md->e[i].nic]));
		assert_int_equal(store_find_attach(s, nics[md->e[i].nic], mac), (ssize_t)i);
	}
}

static void model_put(struct store *s, struct model *md, unsigned nic, unsigned m)
{
	uint8_t mac[NIC_MAC_LEN];
	size_t i;

	mac_of(mac, m);
	if (store_find_attach(s, nics[nic], mac) >= 0)
		return;
	put(s, nics[nic], m);
	i = md->n++;
	md->e[i].nic = nic;
	md->e[i].m = m;
	md->e[i].seq = s->atts[s->n_atts - 1].id.seq;
}

static void model_del(struct store *s, struct model *md, size_t i)
{
	store_del_attach(s, i);
	memmove(&md->e[i], &md->e[i + 1], (md->n - i - 1) * sizeof(md->e[0]));
	md->n--;
}

static void test_order_kept(void **state)
{
	static struct model md;
	struct store s, c;
	unsigned round, k;

	(void)state;
	store_init(&s);
	md.n = 0;
	for (round = 0; round < 12; round++) {
		unsigned adds = 20 + rnd(200);

		for (k = 0; k < adds; k++)
			model_put(&s, &md, rnd(N_USED), rnd(N_MACS));
		assert_model(&s, &md);
		/* removals: oldest first (domains stopping in the order they
		 * started), newest first, anywhere; some puts between */
		for (k = 0; md.n > 5 && k < adds; k++) {
			size_t i = round % 3 == 0 ? 0 : round % 3 == 1 ? md.n - 1 : rnd((unsigned)md.n);

			model_del(&s, &md, i);
			if (rnd(4) == 0)
				model_put(&s, &md, rnd(N_USED), rnd(N_MACS));
			assert_model(&s, &md);
		}
		assert_index(&s);
		assert_int_equal(store_copy(&c, &s), 0);
		assert_model(&c, &md);
		store_clear(&c);
	}
	while (md.n) {
		model_del(&s, &md, 0);
		assert_model(&s, &md);
	}
	for (k = 0; k < 300; k++) /* and it grows again from there */
		model_put(&s, &md, rnd(N_USED), k);
	assert_model(&s, &md);
	assert_index(&s);
	store_clear(&s);
}

/* The log's replay (owner records put and remove attachments) and its
 * compaction keep the index exact. */
static void test_index_log_replay(void **state)
{
	char dir[] = "/tmp/zxp-store-index-XXXXXX", path[128];
	struct store_read_info info;
	struct kerror err = { 0 };
	struct store_log *l = NULL;
	struct store s, back;
	unsigned round, step;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_log_open(dir, &s, &l, &info, &err), 0);
	for (round = 0; round < 4; round++) {
		for (step = 0; step < 300; step++) {
			change(&s, 100 + step);
			if (step % 10 == 9)
				assert_true(store_log_write(l, &s, &err) >= 0);
		}
		assert_true(store_log_write(l, &s, &err) >= 0);
		assert_int_equal(store_log_sync(l, &err), 0);
		/* what the files say, replayed into a store of its own */
		assert_int_equal(store_read_dir(dir, &back, &info, &err), 0);
		assert_true(info.records > 0);
		assert_int_equal(back.n_atts, s.n_atts);
		assert_index(&back);
		store_clear(&back);
		assert_index(&s);
	}
	l = store_log_close(l);
	store_clear(&s);
	/* reopened: read, replayed and compacted */
	assert_int_equal(store_log_open(dir, &s, &l, &info, &err), 0);
	assert_index(&s);
	l = store_log_close(l);
	store_clear(&s);
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_LOG);
	(void)unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_random),
		cmocka_unit_test(test_order_kept),
		cmocka_unit_test(test_index_log_replay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
