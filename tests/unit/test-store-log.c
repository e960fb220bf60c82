// SPDX-License-Identifier: MIT
/*
 * Unit tests: the state directory as snapshot + log (zcrxd/store-log.c):
 * every change written as records reads back the same, a torn last write
 * is dropped and counted, a log older than its snapshot is ignored, a bad
 * record is refused, the log is compacted past its bound, and a schema 1
 * state.json of the previous release (tests/fixtures/state) is migrated
 * without losing an attachment or an owned object.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "store-int.h" /* store_crc32, to write a record by hand */

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/zx-storelog-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *path(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static off_t size_of(const char *name)
{
	struct stat st;

	return stat(path(name), &st) == 0 ? st.st_size : -1;
}

static void append(const char *name, const char *text)
{
	int fd = open(path(name), O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* --- comparing stores, whatever the order of their arrays ----------------------------- */

static size_t count_lease(const struct journal_nic *j, const struct journal_lease *x)
{
	size_t i, n = 0;

	for (i = 0; i < j->n_leases; i++)
		n += j->leases[i].queue == x->queue && !memcmp(j->leases[i].owner, x->owner, 6);
	return n;
}

static size_t count_rule(const struct journal_nic *j, const struct journal_rule *x)
{
	size_t i, n = 0;

	for (i = 0; i < j->n_rules; i++)
		n += journal_rule_same_content(&j->rules[i].rule, &x->rule) &&
		     j->rules[i].rule.location == x->rule.location &&
		     j->rules[i].pending == x->pending && !memcmp(j->rules[i].owner, x->owner, 6);
	return n;
}

static size_t count_ctx(const struct journal_nic *j, const struct journal_ctx *x)
{
	size_t i, n = 0;

	for (i = 0; i < j->n_ctxs; i++)
		n += j->ctxs[i].id == x->id && j->ctxs[i].pending == x->pending &&
		     j->ctxs[i].n_queues == x->n_queues &&
		     !memcmp(j->ctxs[i].queues, x->queues, x->n_queues * sizeof(uint32_t)) &&
		     !memcmp(j->ctxs[i].owner, x->owner, 6);
	return n;
}

static size_t count_binding(const struct journal_nic *j, const struct journal_binding *x)
{
	size_t i, n = 0;

	for (i = 0; i < j->n_bindings; i++)
		n += j->bindings[i].id == x->id && j->bindings[i].queue == x->queue &&
		     j->bindings[i].tap_ifindex == x->tap_ifindex &&
		     j->bindings[i].fallback == x->fallback &&
		     j->bindings[i].pending == x->pending && !memcmp(j->bindings[i].owner, x->owner, 6);
	return n;
}

static void assert_same_journal(const struct journal_nic *a, const struct journal_nic *b)
{
	size_t i;

	assert_string_equal(a->name, b->name);
	assert_int_equal(a->ifindex, b->ifindex);
	assert_int_equal(a->released, b->released);
	assert_int_equal(a->has_channels_prior, b->has_channels_prior);
	assert_int_equal(a->channels_prior.combined, b->channels_prior.combined);
	assert_int_equal(a->channels_prior.rx, b->channels_prior.rx);
	assert_int_equal(a->has_ntuple_prior, b->has_ntuple_prior);
	assert_int_equal(a->ntuple_prior, b->ntuple_prior);
	assert_int_equal(a->has_tds_prior, b->has_tds_prior);
	assert_int_equal(a->has_hds_prior, b->has_hds_prior);
	assert_int_equal(a->hds_prior, b->hds_prior);
	assert_int_equal(a->has_rss0_prior, b->has_rss0_prior);
	assert_int_equal(a->n_rss0_prior, b->n_rss0_prior);
	if (a->n_rss0_prior)
		assert_memory_equal(a->rss0_prior, b->rss0_prior, a->n_rss0_prior * 4);
	assert_int_equal(a->n_leases, b->n_leases);
	assert_int_equal(a->n_rules, b->n_rules);
	assert_int_equal(a->n_ctxs, b->n_ctxs);
	assert_int_equal(a->n_bindings, b->n_bindings);
	for (i = 0; i < a->n_leases; i++)
		assert_int_equal(count_lease(a, &a->leases[i]), count_lease(b, &a->leases[i]));
	for (i = 0; i < a->n_rules; i++)
		assert_int_equal(count_rule(a, &a->rules[i]), count_rule(b, &a->rules[i]));
	for (i = 0; i < a->n_ctxs; i++)
		assert_int_equal(count_ctx(a, &a->ctxs[i]), count_ctx(b, &a->ctxs[i]));
	for (i = 0; i < a->n_bindings; i++)
		assert_int_equal(count_binding(a, &a->bindings[i]),
				 count_binding(b, &a->bindings[i]));
}

static void assert_same(const struct store *a, const struct store *b)
{
	size_t i, k;

	assert_int_equal(a->n_atts, b->n_atts);
	assert_int_equal(a->n_nics, b->n_nics);
	assert_int_equal(a->next_seq, b->next_seq);
	for (i = 0; i < a->n_atts; i++) {
		ssize_t x = store_find_attach(b, a->atts[i].id.nic, a->atts[i].id.mac);

		assert_true(x >= 0);
		assert_true(attach_id_equal(&a->atts[i].id, &b->atts[x].id));
		assert_int_equal(a->atts[i].id.seq, b->atts[x].id.seq);
	}
	for (i = 0; i < a->n_nics; i++) {
		for (k = 0; k < b->n_nics && strcmp(a->nics[i].name, b->nics[k].name); k++)
			;
		assert_true(k < b->n_nics);
		assert_same_journal(&a->nics[i], &b->nics[k]);
	}
}

static void reread_same(const struct store *s, struct store_read_info *info)
{
	struct kerror e = { 0 };
	struct store r;

	if (store_read_dir(dir, &r, info, &e) < 0)
		fail_msg("store_read_dir: %s", e.msg);
	assert_same(s, &r);
	store_clear(&r);
}

/* --- a store that changes ------------------------------------------------------------ */

static void mac_of(uint8_t *mac, unsigned i)
{
	static const uint8_t base[6] = { 0x52, 0x54, 0, 0, 0, 0 };

	memcpy(mac, base, 6);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

static void put(struct store *s, const char *nic, unsigned i, const char *domain)
{
	struct attach_id id;

	attach_id_init(&id);
	assert_int_equal(attach_id_set_domain(&id, domain), 0);
	snprintf(id.nic, sizeof(id.nic), "%s", nic);
	mac_of(id.mac, i);
	assert_int_equal(store_put_attach(s, &id, NULL), 0);
	attach_id_clear(&id);
}

/* What exec does for an attachment on nic: a lease, a rule, maybe a context
 * and a binding, marked. */
static void own(struct store *s, const char *nic, unsigned i, bool pending)
{
	struct journal_nic *j = store_journal(s, nic, 3, true);
	struct journal_binding b = { 0 };
	struct nic_rule r = { 0 };
	uint32_t q[2] = { i % 64, (i + 1) % 64 };
	uint8_t mac[6];

	mac_of(mac, i);
	assert_int_equal(journal_add_lease(j, 1000 + i, mac), 0);
	r.location = pending ? NIC_LOC_ANY : 2000 + i;
	r.match = NIC_RULE_MATCH_ETHER_DST;
	memcpy(r.mac, mac, 6);
	r.action = NIC_RULE_ACTION_QUEUE;
	r.queue = 1000 + i;
	assert_int_equal(journal_add_rule(j, &r, mac, pending), 0);
	if (i % 3 == 0)
		assert_int_equal(journal_add_ctx(j, pending ? 0 : i + 1, mac, q, 2, pending), 0);
	if (i % 2 == 0) {
		b.id = pending ? 0 : i + 7;
		b.queue = 1000 + i;
		b.tap_ifindex = (int)i + 100;
		b.fallback = 1;
		b.pending = pending;
		memcpy(b.owner, mac, 6);
		assert_int_equal(journal_add_binding(j, &b), 0);
	}
	store_mark(s, nic, mac);
}

/* What exec does when it removes them. */
static void disown(struct store *s, const char *nic, unsigned i)
{
	struct journal_nic *j = store_journal(s, nic, 0, false);
	uint8_t mac[6];
	size_t k;

	if (!j)
		return;
	mac_of(mac, i);
	for (k = j->n_leases; k-- > 0;)
		if (!memcmp(j->leases[k].owner, mac, 6))
			journal_del_lease(j, k);
	for (k = j->n_rules; k-- > 0;)
		if (!memcmp(j->rules[k].owner, mac, 6))
			journal_del_rule(j, k);
	for (k = j->n_ctxs; k-- > 0;)
		if (!memcmp(j->ctxs[k].owner, mac, 6))
			journal_del_ctx(j, k);
	for (k = j->n_bindings; k-- > 0;)
		if (!memcmp(j->bindings[k].owner, mac, 6))
			journal_del_binding(j, k);
	store_mark(s, nic, mac);
}

static void del(struct store *s, const char *nic, unsigned i)
{
	uint8_t mac[6];
	ssize_t k;

	mac_of(mac, i);
	k = store_find_attach(s, nic, mac);
	if (k >= 0)
		store_del_attach(s, (size_t)k);
}

static struct store_log *open_log(struct store *s, struct store_read_info *info)
{
	struct store_log *l = NULL;
	struct kerror e = { 0 };

	if (store_log_open(dir, s, &l, info, &e) != 0)
		fail_msg("store_log_open: %s", e.msg);
	return l;
}

static void write_sync(struct store_log *l, struct store *s)
{
	struct kerror e = { 0 };

	if (store_log_write(l, s, &e) < 0 || store_log_sync(l, &e) < 0)
		fail_msg("write: %s", e.msg);
}

/* --- tests -------------------------------------------------------------------------- */

static void test_changes_read_back(void **state)
{
	struct store_read_info info;
	struct store s;
	struct store_log *l = open_log(&s, &info);
	struct store_log_stats st;
	off_t snap;
	uint32_t t[3] = { 1, 2, 3 };

	assert_int_equal(info.schema, 0);
	snap = size_of(STORE_FILE);
	put(&s, "eth0", 1, "vm1");
	put(&s, "eth0", 2, "vm2");
	put(&s, "eth1", 3, "vm3");
	own(&s, "eth0", 1, true);
	own(&s, "eth0", 2, false);
	own(&s, "eth1", 3, false);
	write_sync(l, &s);
	reread_same(&s, &info);
	assert_true(info.records >= 3);
	/* pending made real, one gone, settings changed, a NIC released */
	disown(&s, "eth0", 1);
	own(&s, "eth0", 1, false);
	del(&s, "eth0", 2);
	disown(&s, "eth0", 2);
	store_journal(&s, "eth0", 0, false)->has_ntuple_prior = true;
	assert_int_equal(journal_set_rss0_prior(store_journal(&s, "eth0", 0, false), t, 3), 0);
	store_journal(&s, "eth1", 0, false)->released = true;
	write_sync(l, &s);
	reread_same(&s, &info);
	/* a NIC's journal emptied and dropped */
	del(&s, "eth1", 3);
	disown(&s, "eth1", 3);
	store_journal(&s, "eth1", 0, false)->released = false;
	store_gc(&s);
	assert_null(store_journal(&s, "eth1", 0, false));
	write_sync(l, &s);
	reread_same(&s, &info);
	/* nothing changed: nothing written */
	st = store_log_get_stats(l);
	{
		struct kerror e = { 0 };

		assert_int_equal(store_log_write(l, &s, &e), 0);
	}
	assert_int_equal(store_log_get_stats(l).writes, st.writes);
	/* the snapshot was not rewritten: every change went to the log */
	assert_int_equal(size_of(STORE_FILE), snap);
	assert_int_equal(st.compactions, 1); /* the one at open */
	/* timed: it wrote and synced two files */
	assert_true(st.compaction_usec_last > 0);
	assert_int_equal(st.compaction_usec_max, st.compaction_usec_last);
	store_log_close(l);
	store_clear(&s);
}

/* A sync off the log's thread (store_log_sync_begin/_end): it covers the
 * writes made before it began, not those after; a compaction while it
 * runs leaves its descriptor valid (the old file) and makes everything
 * durable; a failed one makes the next write a compaction. */
static void test_sync_off_thread(void **state)
{
	struct store_read_info info;
	struct store s;
	struct store_log *l = open_log(&s, &info);
	struct store_log_sync a, b;
	struct kerror e = { 0 };
	uint64_t syncs = store_log_get_stats(l).syncs;
	struct stat st;

	/* nothing written: nothing to sync */
	assert_int_equal(store_log_sync_begin(l, &a, &e), 0);
	assert_int_equal(a.fd, -1);
	put(&s, "eth0", 1, "vm1");
	own(&s, "eth0", 1, false);
	assert_int_equal(store_log_write(l, &s, &e), 1);
	assert_false(store_log_synced(l));
	assert_int_equal(store_log_sync_begin(l, &a, &e), 1);
	assert_true(a.fd >= 0);
	/* written after it began: not covered */
	put(&s, "eth0", 2, "vm2");
	own(&s, "eth0", 2, false);
	assert_int_equal(store_log_write(l, &s, &e), 1);
	assert_int_equal(fdatasync(a.fd), 0);
	assert_int_equal(store_log_sync_end(l, &a, 0, &e), 0);
	assert_int_equal(a.fd, -1); /* closed */
	assert_false(store_log_synced(l));
	assert_int_equal(store_log_get_stats(l).syncs, syncs + 1);
	/* the next covers it */
	assert_int_equal(store_log_sync_begin(l, &a, &e), 1);
	assert_int_equal(fdatasync(a.fd), 0);
	assert_int_equal(store_log_sync_end(l, &a, 0, &e), 0);
	assert_true(store_log_synced(l));

	/* a compaction while one runs: its descriptor is still the old file */
	put(&s, "eth0", 3, "vm3");
	own(&s, "eth0", 3, false);
	assert_int_equal(store_log_write(l, &s, &e), 1);
	assert_int_equal(store_log_sync_begin(l, &b, &e), 1);
	assert_int_equal(store_log_compact(l, &s, &e), 0);
	assert_true(store_log_synced(l));
	assert_int_equal(fstat(b.fd, &st), 0);
	assert_int_equal(st.st_nlink, 0); /* replaced by the compaction */
	assert_int_equal(fdatasync(b.fd), 0);
	assert_int_equal(store_log_sync_end(l, &b, 0, &e), 0);
	assert_true(store_log_synced(l));
	reread_same(&s, &info);

	/* a failed one: logged by the caller, the next write compacts */
	put(&s, "eth0", 4, "vm4");
	own(&s, "eth0", 4, false);
	assert_int_equal(store_log_write(l, &s, &e), 1);
	assert_int_equal(store_log_sync_begin(l, &b, &e), 1);
	assert_int_equal(store_log_sync_end(l, &b, -EIO, &e), -EIO);
	assert_non_null(strstr(e.msg, "fdatasync"));
	assert_false(store_log_synced(l));
	syncs = store_log_get_stats(l).compactions;
	put(&s, "eth0", 5, "vm5");
	assert_int_equal(store_log_write(l, &s, &e), 1);
	assert_int_equal(store_log_get_stats(l).compactions, syncs + 1);
	assert_true(store_log_synced(l));
	reread_same(&s, &info);
	store_log_close(l);
	store_clear(&s);
}

/* A compaction off the log's thread (store_log_set_async, begin / run /
 * end): store_log_write leaves it to the caller; from begin to end
 * nothing is appended (the changes stay marked, held, not synced, no sync
 * can begin); the end takes the new log in, makes what was appended
 * before begin durable, and the held changes go into the new log.  A run
 * that fails leaves the log broken and the store whole: the next one
 * writes everything. */
static void test_compaction_split(void **state)
{
	struct store_read_info info;
	struct store s;
	struct store_log *l = open_log(&s, &info);
	struct store_log_compaction *c;
	struct store_log_sync y;
	struct kerror e = { 0 };
	uint64_t n0 = store_log_get_stats(l).compactions;
	off_t log_size;
	unsigned i;

	store_log_set_async(l, true);
	for (i = 0; !store_log_compact_due(l); i++) {
		assert_true(i < 20000);
		put(&s, "eth0", i % 50, i % 2 ? "odd" : "even");
		disown(&s, "eth0", i % 50);
		own(&s, "eth0", i % 50, false);
		assert_true(store_log_write(l, &s, &e) >= 0);
	}
	/* due, not done; a write meanwhile still appends */
	assert_int_equal(store_log_get_stats(l).compactions, n0);
	assert_false(store_log_synced(l));
	put(&s, "eth0", 60, "before");
	assert_int_equal(store_log_write(l, &s, &e), 1);
	assert_false(store_log_held(l));

	assert_int_equal(store_log_compact_begin(l, &s, &c, &e), 0);
	assert_true(store_log_compacting(l));
	assert_false(store_log_compact_due(l));
	assert_int_equal(s.n_marks, 0); /* all of it in the snapshot */
	assert_int_equal(store_log_compact_begin(l, &s, &c, &e), -EBUSY);
	log_size = size_of(STORE_LOG);
	put(&s, "eth0", 61, "during");
	assert_int_equal(store_log_write(l, &s, &e), 1);
	assert_true(store_log_held(l));
	assert_int_equal(s.n_marks, 1); /* kept for the new log */
	assert_int_equal(size_of(STORE_LOG), log_size);
	assert_int_equal(store_log_sync_begin(l, &y, &e), -EBUSY);
	assert_int_equal(store_log_sync(l, &e), -EBUSY);

	assert_int_equal(store_log_compact_run(c), 0); /* (any thread) */
	assert_int_equal(store_log_compact_end(l, &s, c, &e), 0);
	assert_false(store_log_compacting(l));
	assert_int_equal(store_log_get_stats(l).compactions, n0 + 1);
	assert_true(store_log_held(l)); /* "during" is in no file yet */
	assert_false(store_log_synced(l));
	assert_int_equal(store_log_write(l, &s, &e), 1);
	assert_false(store_log_held(l));
	assert_int_equal(store_log_sync(l, &e), 0);
	assert_true(store_log_synced(l));
	reread_same(&s, &info);

	/* a run that fails: broken, the next write is held for a compaction */
	assert_int_equal(mkdir(path("." STORE_FILE ".tmp"), 0700), 0);
	put(&s, "eth0", 63, "again");
	assert_int_equal(store_log_write(l, &s, &e), 1);
	assert_int_equal(store_log_compact_begin(l, &s, &c, &e), 0);
	assert_true(store_log_compact_run(c) < 0);
	assert_non_null(strstr(store_log_compaction_error(c)->msg, "open"));
	assert_true(store_log_compact_end(l, &s, c, &e) < 0);
	assert_int_equal(store_log_get_stats(l).compactions, n0 + 1);
	put(&s, "eth0", 64, "after");
	assert_int_equal(store_log_write(l, &s, &e), 1);
	assert_true(store_log_held(l));
	assert_true(store_log_compact_due(l));
	assert_int_equal(rmdir(path("." STORE_FILE ".tmp")), 0);
	assert_int_equal(store_log_compact_begin(l, &s, &c, &e), 0);
	assert_int_equal(store_log_compact_run(c), 0);
	assert_int_equal(store_log_compact_end(l, &s, c, &e), 0);
	assert_int_equal(store_log_get_stats(l).compactions, n0 + 2);
	assert_false(store_log_held(l)); /* nothing changed since begin */
	assert_int_equal(store_log_write(l, &s, &e), 0);
	assert_true(store_log_synced(l));
	reread_same(&s, &info);
	store_log_close(l);
	store_clear(&s);
}

static void test_torn_tail_dropped(void **state)
{
	struct store_read_info info;
	struct store s;
	struct store_log *l = open_log(&s, &info);
	char line[256];
	off_t good;
	int fd;

	put(&s, "eth0", 1, "vm1");
	own(&s, "eth0", 1, false);
	write_sync(l, &s);
	good = size_of(STORE_LOG);
	/* half a record: a write cut short by a crash */
	append(STORE_LOG, "0123abcd {\"t\":\"owner\",\"nic\":\"eth0\",\"ma");
	reread_same(&s, &info);
	assert_int_equal(info.dropped_bytes, size_of(STORE_LOG) - good);
	/* a whole line whose checksum does not match, and what follows */
	assert_int_equal(truncate(path(STORE_LOG), good), 0);
	snprintf(line, sizeof(line), "00000000 {\"t\":\"drop\",\"nic\":\"eth0\"}\n");
	append(STORE_LOG, line);
	append(STORE_LOG, line);
	reread_same(&s, &info);
	assert_int_equal(info.dropped_bytes, 2 * strlen(line));
	/* reopening starts a clean log: the torn tail is gone for good */
	store_log_close(l);
	store_clear(&s);
	l = open_log(&s, &info);
	assert_int_equal(info.dropped_bytes, 2 * strlen(line));
	assert_int_equal(s.n_atts, 1);
	fd = open(path(STORE_LOG), O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
	reread_same(&s, &info);
	assert_int_equal(info.dropped_bytes, 0);
	store_log_close(l);
	store_clear(&s);
}

static void test_bad_record_refused(void **state)
{
	struct store_read_info info;
	struct kerror e = { 0 };
	struct store s, r;
	struct store_log *l = open_log(&s, &info);
	const char *json = "{\"t\":\"frobnicate\"}";
	char line[128];

	put(&s, "eth0", 1, "vm1");
	write_sync(l, &s);
	snprintf(line, sizeof(line), "%08x %s\n", store_crc32(json, strlen(json)), json);
	append(STORE_LOG, line);
	assert_true(store_read_dir(dir, &r, &info, &e) < 0);
	assert_non_null(strstr(e.msg, "unknown log record type"));
	assert_non_null(strstr(e.obj, STORE_LOG));
	store_log_close(l);
	store_clear(&s);
}

static void test_stale_log_ignored(void **state)
{
	struct store_read_info info;
	struct kerror e = { 0 };
	struct store s, snap;
	struct store_log *l = open_log(&s, &info);

	put(&s, "eth0", 1, "vm1");
	write_sync(l, &s);
	/* a compaction that stopped after its new snapshot, before its new
	 * log: the old log's records are all in the snapshot */
	assert_int_equal(store_copy(&snap, &s), 0);
	snap.generation = s.generation + 1;
	assert_int_equal(store_save(dir, &snap, &e), 0);
	put(&s, "eth0", 2, "vm2"); /* in neither */
	store_marks_clear(&s);
	reread_same(&snap, &info);
	assert_true(info.stale_log);
	store_log_close(l);
	store_clear(&s);
	store_clear(&snap);
}

static void test_compaction_bounds_the_log(void **state)
{
	struct store_read_info info;
	struct store s;
	struct store_log *l = open_log(&s, &info);
	unsigned i;

	for (i = 0; i < 3000; i++) {
		put(&s, "eth0", i % 50, i % 2 ? "odd" : "even");
		disown(&s, "eth0", i % 50);
		own(&s, "eth0", i % 50, i % 7 == 0);
		write_sync(l, &s);
	}
	assert_true(store_log_get_stats(l).compactions >= 2);
	assert_true(size_of(STORE_LOG) <= 2 * (256 << 10));
	reread_same(&s, &info);
	store_log_close(l);
	store_clear(&s);
}

static void put_full(struct store *s, const char *nic, unsigned i);
static void own_more(struct store *s, const char *nic, unsigned i);

/* One change to s picked by the random word r: an attachment put or
 * removed, owned objects given up or taken, a NIC released or not, a
 * collection.  full: attachments with every field (put_full) and more
 * owned objects (own_more) among them. */
static void random_change(struct store *s, const char *nic, unsigned who, unsigned r, bool full)
{
	struct journal_nic *j;

	switch ((r >> 12) % (full ? 7 : 6)) {
	case 0:
		if (full)
			put_full(s, nic, who);
		else
			put(s, nic, who, (r >> 20) % 2 ? "a" : "b");
		break;
	case 1:
		del(s, nic, who);
		break;
	case 2:
		disown(s, nic, who);
		own(s, nic, who, (r >> 20) % 3 == 0);
		break;
	case 3:
		disown(s, nic, who);
		break;
	case 4:
		if ((j = store_journal(s, nic, (int)(r >> 20) % 5 + 1, false)))
			j->released = !j->released;
		break;
	case 5:
		if (full) {
			own_more(s, nic, who);
			break;
		}
		store_gc(s);
		break;
	default:
		store_gc(s);
		break;
	}
}

/* Random changes, written at random points: what is read back is always
 * what is in memory. */
static void test_random_changes(void **state)
{
	static const char *const nics[] = { "eth0", "eth1", "eth2" };
	struct store_read_info info;
	struct store s;
	struct store_log *l = open_log(&s, &info);
	unsigned seed = 12345, i;

	for (i = 0; i < 4000; i++) {
		unsigned r = (seed = seed * 1103515245u + 12345u) >> 8;

		random_change(&s, nics[r % 3], (r >> 4) % 40, r, false);
		if ((r >> 24) % 4 == 0) {
			write_sync(l, &s);
			if (i % 97 == 0)
				reread_same(&s, &info);
		}
	}
	write_sync(l, &s);
	reread_same(&s, &info);
	store_log_close(l);
	store_clear(&s);
}

/* The log's checksum is CRC-32 (IEEE 802.3, reflected, as zlib's crc32):
 * the check value of "123456789", and the same as a bit-at-a-time
 * reference for every length up to 600 at every alignment. */
static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

static void test_crc32(void **state)
{
	static uint8_t b[616];
	unsigned seed = 99;

	assert_int_equal(store_crc32("123456789", 9), 0xcbf43926u);
	assert_int_equal(store_crc32("", 0), 0);
	assert_int_equal(store_crc32("a", 1), 0xe8b7be43u);
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n <= 600; n++)
			assert_int_equal(store_crc32(b + off, n), crc_bitwise(b + off, n));
}

/* --- the bytes written ------------------------------------------------------------------ */

static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 0x100000001b3u;
	return h;
}

/* records of each kind folded so far (the history covers them all) */
static const char *const kinds[] = { "{\"t\":\"log\"", "{\"t\":\"owner\"",
				     "{\"t\":\"nic\"", "{\"t\":\"nic-settings\"",
				     "{\"t\":\"drop\"" };
static unsigned seen[5];

/* The bytes of name from offset on, folded into h. */
static uint64_t fold_file(uint64_t h, const char *name, off_t from, off_t *ret_size)
{
	off_t size = size_of(name);
	char *b;
	int fd;

	assert_true(size >= from);
	b = malloc((size_t)(size - from) + 1);
	assert_non_null(b);
	fd = open(path(name), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, b, (size_t)(size - from), from), (ssize_t)(size - from));
	close(fd);
	b[size - from] = '\0';
	for (size_t k = 0; k < 5; k++)
		for (const char *x = b; (x = strstr(x, kinds[k])); x++)
			seen[k]++;
	h = fnv(h, b, (size_t)(size - from));
	free(b);
	if (ret_size)
		*ret_size = size;
	return h;
}

/* An attachment with every field of an identity that the log writes. */
static void put_full(struct store *s, const char *nic, unsigned i)
{
	struct attach_id id;
	struct in6_addr a6 = { .s6_addr = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };
	struct in_addr a4 = { .s_addr = htonl(0x0a000001u + i) };
	char name[32];

	attach_id_init(&id);
	snprintf(name, sizeof(name), i % 5 ? "vm-%u" : "v\"m\\\t%u", i); /* escapes too */
	assert_int_equal(attach_id_set_domain(&id, name), 0);
	snprintf(id.nic, sizeof(id.nic), "%s", nic);
	mac_of(id.mac, i);
	if (i % 2)
		snprintf(id.uuid, sizeof(id.uuid), "5a1b%04x-0000-4000-8000-0000000010a0", i);
	if (i % 3)
		snprintf(id.tap, sizeof(id.tap), "macvtap%u", i);
	id.nic_ifindex = i % 4 ? 3 : 0;
	id.tap_ifindex = i % 3 ? (int)i + 100 : 0;
	id.queues = 1 + i % 4;
	id.numa_node = i % 4 ? (int)(i % 2) : -1;
	if (i % 4 == 1)
		assert_int_equal(attach_id_add_ip4(&id, &a4), 0);
	if (i % 4 == 2) {
		a6.s6_addr[15] = (uint8_t)i;
		assert_int_equal(attach_id_add_ip4(&id, &a4), 0);
		assert_int_equal(attach_id_add_ip6(&id, &a6), 0);
	}
	assert_int_equal(store_put_attach(s, &id, NULL), 0);
	attach_id_clear(&id);
}

/* Rules of every match and action the log writes, and NIC settings. */
static void own_more(struct store *s, const char *nic, unsigned i)
{
	struct journal_nic *j = store_journal(s, nic, 3, true);
	struct nic_rule r = { 0 };
	uint32_t indir[4] = { i % 8, 1, 2, 3 };
	uint8_t mac[6];

	mac_of(mac, i);
	r.location = 3000 + i;
	r.match = i % 3 == 0 ? NIC_RULE_MATCH_IP4_DST
		  : i % 3 == 1 ? NIC_RULE_MATCH_IP6_DST : NIC_RULE_MATCH_OTHER;
	r.ip4.s_addr = htonl(0xc0a80000u + i);
	r.ip6.s6_addr[0] = 0xfe;
	r.ip6.s6_addr[15] = (uint8_t)i;
	r.action = i % 2 ? NIC_RULE_ACTION_CONTEXT : NIC_RULE_ACTION_DROP;
	r.rss_context = i + 1;
	assert_int_equal(journal_add_rule(j, &r, mac, false), 0);
	j->has_channels_prior = i % 2;
	j->channels_prior.rx = i;
	j->channels_prior.combined = 8 + i;
	j->has_ntuple_prior = i % 3 != 0;
	j->ntuple_prior = i % 2;
	j->has_tds_prior = i % 4 != 0;
	j->tds_prior = (uint8_t)(i % 3);
	j->has_hds_prior = i % 5 != 0;
	j->hds_prior = 256 * i;
	if (i % 2)
		assert_int_equal(journal_set_rss0_prior(j, indir, 4), 0);
	store_mark(s, nic, mac);
}

/*
 * Every byte the log and the snapshot get over a fixed history that
 * writes every kind of record and field, digested: these bytes are the
 * format (a restart replays them, the crash and migration tests read
 * them), so a writer made cheaper must write exactly the same.  The digest
 * was taken with the writer of commit 547952e (checksums by snprintf,
 * every piece its own jtext call).
 */
static void test_bytes_unchanged(void **state)
{
	static const char *const nics[] = { "eth0", "eth1", "e\\th2" };
	struct store_read_info info;
	struct store s;
	struct store_log *l = open_log(&s, &info);
	uint64_t h = 0xcbf29ce484222325u, compactions = 0;
	unsigned seed = 777, i;
	off_t at = 0;

	h = fold_file(h, "state.json", 0, NULL);
	h = fold_file(h, "state.log", 0, &at);
	for (i = 0; i < 3000; i++) {
		unsigned r = (seed = seed * 1103515245u + 12345u) >> 8;
		const char *nic = nics[r % 3];
		struct journal_nic *j;

		random_change(&s, nic, (r >> 4) % 40, r, true);
		if (i % 700 == 350) { /* a NIC emptied: its journal dropped */
			for (unsigned w = 0; w < 40; w++)
				disown(&s, nic, w);
			if ((j = store_journal(&s, nic, 0, false))) {
				j->released = false;
				j->has_channels_prior = j->has_ntuple_prior = false;
				j->has_tds_prior = j->has_hds_prior = false;
				j->has_rss0_prior = false;
			}
			store_gc(&s);
		}
		if ((r >> 24) % 4 == 0) {
			write_sync(l, &s);
			if (store_log_get_stats(l).compactions != compactions) {
				compactions = store_log_get_stats(l).compactions;
				h = fold_file(h, "state.json", 0, NULL);
				at = 0;
			}
			h = fold_file(h, "state.log", at, &at);
		}
	}
	assert_true(compactions >= 2); /* snapshots were written too */
	print_message("records: %u log, %u owner, %u nic, %u nic-settings, %u drop\n", seen[0],
		      seen[1], seen[2], seen[3], seen[4]);
	for (size_t k = 0; k < 5; k++)
		assert_true(seen[k] > 0);
	print_message("bytes digest %016llx after %llu compactions\n", (unsigned long long)h,
		      (unsigned long long)compactions);
	assert_int_equal(h, UINT64_C(0x6052133a435aaa16));
	store_log_close(l);
	store_clear(&s);
}

/* state.json as the previous release wrote it (schema 1, no log),
 * generated with that release's zcrxd-fake: read and migrated to schema 2,
 * every attachment and every owned object kept. */
static void test_migrates_schema1(void **state)
{
	struct store_read_info info;
	struct kerror e = { 0 };
	struct store old, s;
	struct store_log *l;
	size_t len, i, rules = 0, leases = 0, ctxs = 0;
	char *text = fixture_read("state", "schema1-state.json", &len), *now;

	assert_non_null(text);
	assert_non_null(strstr(text, "\"schema\": 1") ? text : strstr(text, "\"schema\":1"));
	if (store_parse(text, len, &old, &e) < 0)
		fail_msg("fixture: %s", e.msg);
	assert_int_equal(old.schema, 1);
	assert_int_equal(old.n_atts, 4);
	for (i = 0; i < old.n_nics; i++) {
		rules += old.nics[i].n_rules;
		leases += old.nics[i].n_leases;
		ctxs += old.nics[i].n_ctxs;
	}
	assert_true(rules >= 4 && leases >= 4 && ctxs >= 1);
	{
		FILE *f = fopen(path(STORE_FILE), "w");

		assert_non_null(f);
		assert_int_equal(fwrite(text, 1, len, f), len);
		fclose(f);
	}
	l = open_log(&s, &info);
	assert_int_equal(info.schema, 1);
	assert_same(&old, &s);
	/* on disk now: schema 2 and an empty log of its generation */
	now = NULL;
	{
		FILE *f = fopen(path(STORE_FILE), "r");
		char buf[256];

		assert_non_null(f);
		assert_non_null(fgets(buf, sizeof(buf), f));
		fclose(f);
		now = strstr(buf, "\"schema\":2");
	}
	assert_non_null(now);
	assert_true(size_of(STORE_LOG) > 0);
	reread_same(&old, &info);
	assert_int_equal(info.schema, 2);
	assert_int_equal(info.records, 0);
	/* and it goes on from there */
	put(&s, "eth0", 9, "vm9");
	write_sync(l, &s);
	reread_same(&s, &info);
	store_log_close(l);
	store_clear(&s);
	store_clear(&old);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_changes_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_off_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compaction_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_record_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_log_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compaction_bounds_the_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrates_schema1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bytes_unchanged, setup, teardown),
		cmocka_unit_test(test_crc32),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
