// SPDX-License-Identifier: MIT
/*
 * Unit tests: state.json (zcrxd/store.c) and the attachment model's JSON
 * (zcrxd/attach.c): round trips, atomic saves, and garbage of every kind
 * refused with a message and never a crash.
 */
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
#include <dirent.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "jtext.h"
#include "store.h"
#include "store-scan.h"

static void fill(struct store *s)
{
	struct attach_id id;
	struct journal_nic *j;
	struct nic_rule r = { 0 };
	struct journal_binding b = { 0 };
	uint32_t q[2] = { 6, 7 }, t[4] = { 0, 1, 2, 3 };
	uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 1 };

	store_init(s);
	attach_id_init(&id);
	assert_int_equal(attach_id_set_domain(&id, "vm-\"quoted\" \\ ünïcode"), 0);
	snprintf(id.uuid, sizeof(id.uuid), "8c6a7c2e-2f8e-4d9c-9b55-6b0c1a2f0001");
	memcpy(id.mac, mac, 6);
	snprintf(id.nic, sizeof(id.nic), "eth0");
	id.nic_ifindex = 3;
	snprintf(id.tap, sizeof(id.tap), "macvtap0");
	id.tap_ifindex = 12;
	id.queues = 2;
	id.numa_node = 1;
	assert_int_equal(attach_id_add_address(&id, "10.0.0.2"), 0);
	assert_int_equal(attach_id_add_address(&id, "fd00::2"), 0);
	assert_int_equal(store_put_attach(s, &id, NULL), 0);
	attach_id_clear(&id);
	attach_id_init(&id);
	assert_int_equal(attach_id_set_domain(&id, "vm1"), 0);
	id.mac[0] = 0x52;
	id.mac[5] = 2;
	snprintf(id.nic, sizeof(id.nic), "eth1");
	assert_int_equal(store_put_attach(s, &id, NULL), 0);
	attach_id_clear(&id);

	j = store_journal(s, "eth0", 3, true);
	assert_non_null(j);
	j->has_channels_prior = true;
	j->channels_prior.combined = 8;
	j->has_ntuple_prior = true;
	j->has_tds_prior = true;
	j->tds_prior = 1;
	j->has_hds_prior = true;
	j->hds_prior = 256;
	assert_int_equal(journal_set_rss0_prior(j, t, 4), 0);
	assert_int_equal(journal_add_lease(j, 6, mac), 0);
	assert_int_equal(journal_add_lease(j, 7, mac), 0);
	assert_int_equal(journal_add_ctx(j, 1, mac, q, 2, false), 0);
	r.location = 1023;
	r.match = NIC_RULE_MATCH_ETHER_DST;
	memcpy(r.mac, mac, 6);
	r.action = NIC_RULE_ACTION_CONTEXT;
	r.rss_context = 1;
	assert_int_equal(journal_add_rule(j, &r, mac, false), 0);
	r.location = NIC_LOC_ANY;
	r.match = NIC_RULE_MATCH_IP6_DST;
	inet_pton(AF_INET6, "fd00::2", &r.ip6);
	r.action = NIC_RULE_ACTION_QUEUE;
	r.queue = 6;
	assert_int_equal(journal_add_rule(j, &r, mac, true), 0);
	b.id = 5;
	b.queue = 6;
	b.tap_ifindex = 12;
	b.fallback = 1;
	memcpy(b.owner, mac, 6);
	assert_int_equal(journal_add_binding(j, &b), 0);
	j = store_journal(s, "eth1", 4, true);
	j->released = true;
}

static void assert_same(const struct store *a, const struct store *b)
{
	size_t i;

	assert_int_equal(a->n_atts, b->n_atts);
	assert_int_equal(a->n_nics, b->n_nics);
	assert_int_equal(a->next_seq, b->next_seq);
	for (i = 0; i < a->n_atts; i++) {
		assert_true(attach_id_equal(&a->atts[i].id, &b->atts[i].id));
		assert_int_equal(a->atts[i].id.seq, b->atts[i].id.seq);
	}
	for (i = 0; i < a->n_nics; i++)
		assert_true(journal_nic_equal(&a->nics[i], &b->nics[i]));
}

static char *to_text(const struct store *s)
{
	json_object *o = store_to_json(s);
	char *t;

	assert_non_null(o);
	t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
	return t;
}

static void test_round_trip(void **state)
{
	struct store a, b;
	struct kerror err = { 0 };
	char *text;

	fill(&a);
	assert_int_equal(a.atts[0].id.seq, 1);
	assert_int_equal(a.atts[1].id.seq, 2);
	text = to_text(&a);
	assert_int_equal(store_parse(text, strlen(text), &b, &err), 0);
	assert_same(&a, &b);
	free(text);
	store_clear(&b);
	/* the streaming writer store_save uses says the same */
	{
		struct jtext t = { 0 };

		assert_int_equal(store_to_text(&a, &t), 0);
		assert_int_equal(strlen(t.s), t.n);
		assert_int_equal(store_parse(t.s, t.n, &b, &err), 0);
		assert_same(&a, &b);
		jtext_free(&t);
		store_clear(&b);
	}
	store_clear(&a);
}

/* Every (NIC, MAC) of 0..n on two NICs: found where a plain scan finds it,
 * the keys cover every attachment, and say which NIC each is on. */
static void assert_finds(const struct store *s, unsigned n)
{
	uint8_t mac[NIC_MAC_LEN] = { 0x52, 0x54, 0, 0, 0, 0 };
	unsigned k, x;

	assert_int_equal(s->n_keys, s->n_atts);
	for (k = 0; k < s->n_atts; k++) {
		assert_int_equal(store_att_on(s, k, "eth0"), !strcmp(s->atts[k].id.nic, "eth0"));
		assert_int_equal(store_att_on(s, k, "eth1"), !strcmp(s->atts[k].id.nic, "eth1"));
	}
	for (k = 0; k < n; k++)
		for (x = 0; x < 2; x++) {
			const char *nic = x ? "eth1" : "eth0";

			mac[4] = (uint8_t)(k >> 8);
			mac[5] = (uint8_t)k;
			assert_int_equal(store_find_attach(s, nic, mac), store_scan_find(s, nic, mac));
		}
}

static void test_find_by_key(void **state)
{
	struct kerror err = { 0 };
	struct store s, c, r;
	struct attach_id id;
	unsigned k;
	char *text;

	store_init(&s);
	assert_finds(&s, 4);
	for (k = 0; k < 200; k++) {
		char name[16];

		attach_id_init(&id);
		snprintf(name, sizeof(name), "vm%u", k);
		assert_int_equal(attach_id_set_domain(&id, name), 0);
		/* the same MAC on both NICs for some: the NIC tells them apart */
		snprintf(id.nic, sizeof(id.nic), "%s", k % 3 ? "eth0" : "eth1");
		id.mac[0] = 0x52;
		id.mac[1] = 0x54;
		id.mac[4] = (uint8_t)((k % 150) >> 8);
		id.mac[5] = (uint8_t)(k % 150);
		id.queues = 1;
		assert_int_equal(store_put_attach(&s, &id, NULL), 0);
		attach_id_clear(&id);
	}
	assert_finds(&s, 160);
	/* deletions from the front, the middle and the end */
	store_del_attach(&s, 0);
	store_del_attach(&s, 57);
	store_del_attach(&s, s.n_atts - 1);
	assert_finds(&s, 160);
	assert_int_equal(store_copy(&c, &s), 0);
	assert_finds(&c, 160);
	text = to_text(&s);
	assert_int_equal(store_parse(text, strlen(text), &r, &err), 0);
	assert_finds(&r, 160);
	free(text);
	store_clear(&r);
	store_clear(&c);
	store_clear(&s);
}

static void test_put_is_idempotent(void **state)
{
	struct store s;
	struct attach_id id;
	size_t i1, i2;

	fill(&s);
	assert_int_equal(attach_id_copy(&id, &s.atts[0].id), 0);
	id.seq = 999;
	id.queues = 3;
	assert_int_equal(store_put_attach(&s, &id, &i1), 0);
	assert_int_equal(s.n_atts, 2);
	assert_int_equal(s.atts[i1].id.queues, 3);
	assert_int_equal(s.atts[i1].id.seq, 1); /* keeps its place in line */
	id.mac[5] = 9;
	assert_int_equal(store_put_attach(&s, &id, &i2), 0);
	assert_int_equal(s.n_atts, 3);
	assert_int_equal(s.atts[i2].id.seq, 3);
	store_del_attach(&s, i1);
	assert_int_equal(s.n_atts, 2);
	assert_true(store_find_attach(&s, "eth0", s.atts[0].id.mac) >= 0 ||
		    store_find_attach(&s, "eth1", s.atts[0].id.mac) >= 0);
	attach_id_clear(&id);
	store_clear(&s);
}

static char tmpdir[64];

static int setup_dir(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/zxp-store-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown_dir(void **state)
{
	char p[512];
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
	return 0;
}

static void write_file(const char *name, const void *buf, size_t n)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
}

static void test_save_load(void **state)
{
	struct store a, b;
	struct kerror err = { 0 };
	struct stat st;
	char p[128];
	DIR *d;
	struct dirent *e;
	int n = 0;

	/* missing file: empty store, no error */
	assert_int_equal(store_load(tmpdir, &b, &err), 0);
	assert_int_equal(b.n_atts, 0);
	store_clear(&b);

	fill(&a);
	assert_int_equal(store_save(tmpdir, &a, &err), 0);
	assert_int_equal(store_save(tmpdir, &a, &err), 0); /* replaces */
	snprintf(p, sizeof(p), "%s/state.json", tmpdir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* no temp file left behind */
	d = opendir(tmpdir);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 1);
	assert_int_equal(store_load(tmpdir, &b, &err), 0);
	assert_same(&a, &b);
	store_clear(&a);
	store_clear(&b);

	/* a file that does not parse: EBADMSG (not an I/O error), quarantined
	 * on request under a name of its own, never over an earlier one */
	write_file("state.json", "{\"schema\": 1, \"attachments\": 7}", 31);
	assert_int_equal(store_load(tmpdir, &b, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "'attachments' is not an array"));
	assert_non_null(strstr(err.obj, "state.json"));
	{
		char first[4200], second[4200];
		struct stat st1;

		assert_int_equal(store_quarantine(tmpdir, first, sizeof(first), &err), 0);
		assert_non_null(strstr(first, "/state.json.corrupt-"));
		assert_int_equal(stat(first, &st1), 0);
		write_file("state.json", "not json", 8);
		assert_int_equal(store_load(tmpdir, &b, &err), -EBADMSG);
		assert_int_equal(store_quarantine(tmpdir, second, sizeof(second), &err), 0);
		assert_string_not_equal(first, second);
		assert_int_equal(stat(first, &st), 0);
		assert_int_equal(st.st_size, 31); /* the first one is still there */
		assert_int_equal(stat(second, &st), 0);
		assert_int_equal(st.st_size, 8);
		unlink(first);
		unlink(second);
	}
	assert_int_equal(store_load(tmpdir, &b, &err), 0);
	store_clear(&b);
	/* an unreadable file is an I/O error, never EBADMSG */
	snprintf(p, sizeof(p), "%s/state.json", tmpdir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(store_load(tmpdir, &b, &err), -EISDIR);
	assert_int_equal(rmdir(p), 0);

	/* save into a directory that does not exist: error, not a crash */
	assert_true(store_save("/nonexistent/zxp", &a, &err) < 0);
	assert_non_null(strstr(err.msg, "open"));
}

/* A save that would write what the file already holds writes nothing. */
static void test_save_changed(void **state)
{
	struct store a;
	struct kerror err = { 0 };
	struct stat st0, st1;
	char p[128];

	snprintf(p, sizeof(p), "%s/state.json", tmpdir);
	fill(&a);
	assert_int_equal(store_save_changed(tmpdir, &a, &err), 1); /* no file yet */
	assert_int_equal(stat(p, &st0), 0);
	assert_int_equal(store_save_changed(tmpdir, &a, &err), 0);
	assert_int_equal(stat(p, &st1), 0);
	assert_true(st0.st_ino == st1.st_ino); /* not replaced */
	/* other content: written */
	a.next_seq++;
	assert_int_equal(store_save_changed(tmpdir, &a, &err), 1);
	assert_int_equal(stat(p, &st1), 0);
	assert_true(st0.st_ino != st1.st_ino);
	/* a file changed behind our back is written again */
	write_file("state.json", "{}", 2);
	assert_int_equal(store_save_changed(tmpdir, &a, &err), 1);
	assert_int_equal(store_save_changed(tmpdir, &a, &err), 0);
	/* store_save always writes */
	assert_int_equal(stat(p, &st0), 0);
	assert_int_equal(store_save(tmpdir, &a, &err), 0);
	assert_int_equal(stat(p, &st1), 0);
	assert_true(st0.st_ino != st1.st_ino);
	store_clear(&a);
}

static void expect_bad(const char *text, const char *needle)
{
	struct store s;
	struct kerror err = { 0 };
	int r = store_parse(text, strlen(text), &s, &err);

	if (r == 0 || (needle && !strstr(err.msg, needle)))
		fprintf(stderr, "input %s: r=%d msg '%s' (want '%s')\n", text, r, err.msg,
			needle ? needle : "");
	assert_true(r < 0);
	assert_true(err.msg[0]);
	if (needle)
		assert_non_null(strstr(err.msg, needle));
	assert_int_equal(s.n_atts, 0);
	assert_int_equal(s.n_nics, 0);
}

static void test_garbage(void **state)
{
	static const char deep_open[] = "[";
	char *deep;
	size_t i;

	expect_bad("", "not valid JSON");
	expect_bad("null", "top level");
	expect_bad("[]", "top level");
	expect_bad("{}", "'schema' missing");
	expect_bad("{\"schema\": 3}", "schema 3 is not supported");
	expect_bad("{\"schema\": 0}", "schema 0 is not supported");
	expect_bad("{\"schema\": 2, \"generation\": -1}", "generation");
	expect_bad("{\"schema\": \"1\"}", "'schema' missing");
	expect_bad("{\"schema\": 1} trailing", "not valid JSON");
	expect_bad("{\"schema\": 1, \"next_seq\": -4}", "next_seq");
	expect_bad("{\"schema\": 1, \"attachments\": [1]}", "not an object");
	expect_bad("{\"schema\": 1, \"attachments\": [{\"domain\": \"a\", \"nic\": \"eth0\"}]}",
		   "'mac' missing");
	expect_bad("{\"schema\": 1, \"attachments\": [{\"domain\": \"a\", \"nic\": \"eth0\", "
		   "\"mac\": \"zz:54:00:00:00:01\"}]}",
		   "bad MAC");
	expect_bad("{\"schema\": 1, \"attachments\": [{\"domain\": \"a\", \"nic\": \"eth0\", "
		   "\"mac\": \"52:54:00:00:00:01\", \"queues_requested\": 9999}]}",
		   "out of range");
	expect_bad("{\"schema\": 1, \"attachments\": [{\"domain\": \"a\", \"nic\": "
		   "\"waytoolongnicname0\", \"mac\": \"52:54:00:00:00:01\"}]}",
		   "too long");
	expect_bad("{\"schema\": 1, \"attachments\": [{\"domain\": \"a\", \"nic\": \"eth0\", "
		   "\"mac\": \"52:54:00:00:00:01\", \"addresses\": [\"10.0.0.300\"]}]}",
		   "address");
	expect_bad("{\"schema\": 1, \"attachments\": [{\"domain\": \"a\", \"nic\": \"eth0\", "
		   "\"mac\": \"52:54:00:00:00:01\"}, {\"domain\": \"b\", \"nic\": \"eth0\", "
		   "\"mac\": \"52:54:00:00:00:01\"}]}",
		   "twice");
	expect_bad("{\"schema\": 1, \"nics\": [{\"name\": \"\"}]}", "name");
	expect_bad("{\"schema\": 1, \"nics\": [{\"name\": \"eth0\", \"leases\": [{\"queue\": 1, "
		   "\"owner\": \"52:54:00:00:00:01\"}, {\"queue\": 1, \"owner\": "
		   "\"52:54:00:00:00:02\"}]}]}",
		   "leased twice");
	expect_bad("{\"schema\": 1, \"nics\": [{\"name\": \"eth0\", \"rules\": [{\"location\": 1, "
		   "\"owner\": \"52:54:00:00:00:01\", \"match\": \"other\", \"action\": "
		   "\"queue\", \"queue\": 1}]}]}",
		   "match");
	expect_bad("{\"schema\": 1, \"nics\": [{\"name\": \"eth0\", \"rules\": [{\"location\": 1, "
		   "\"owner\": \"52:54:00:00:00:01\", \"match\": \"ip4-dst\", \"ip\": \"::1\", "
		   "\"action\": \"queue\", \"queue\": 1}]}]}",
		   "'ip'");
	expect_bad("{\"schema\": 1, \"nics\": [{\"name\": \"eth0\", \"rules\": [{\"location\": "
		   "99999999999, \"owner\": \"52:54:00:00:00:01\"}]}]}",
		   "out of range");
	expect_bad("{\"schema\": 1, \"nics\": [{\"name\": \"eth0\", \"contexts\": [{\"id\": 0, "
		   "\"owner\": \"52:54:00:00:00:01\", \"queues\": [1]}]}]}",
		   "context");
	expect_bad("{\"schema\": 1, \"nics\": [{\"name\": \"eth0\", \"rss0_prior\": [1, -1]}]}",
		   "rss0_prior");
	expect_bad("{\"schema\": 1, \"nics\": [{\"name\": \"eth0\", \"tcp_data_split_prior\": 7}]}",
		   "out of range");
	expect_bad("{\"schema\": 1, \"nics\": [{\"name\": \"eth0\"}, {\"name\": \"eth0\"}]}",
		   "twice");
	{
		struct store s;
		struct kerror err = { 0 };
		static const char nul[] = "{\"schema\": 1}\0{}";

		assert_true(store_parse(nul, sizeof(nul) - 1, &s, &err) < 0);
		assert_non_null(strstr(err.msg, "NUL"));
	}
	/* nesting far beyond any real file */
	deep = malloc(200001);
	for (i = 0; i < 200000; i++)
		deep[i] = deep_open[0];
	deep[200000] = 0;
	expect_bad(deep, "not valid JSON");
	free(deep);
}

static void test_truncations_and_flips(void **state)
{
	struct store a, s;
	struct kerror err;
	char *text, *mut;
	size_t len, i, ok = 0, bad = 0;
	unsigned seed = 12345;

	fill(&a);
	text = to_text(&a);
	len = strlen(text);
	/* every truncation: refused (only the full text parses) */
	for (i = 0; i < len; i++) {
		memset(&err, 0, sizeof(err));
		if (store_parse(text, i, &s, &err) == 0) {
			/* whitespace at the very end may be cut */
			assert_true(i >= len - 2);
			store_clear(&s);
			continue;
		}
		assert_true(err.msg[0]);
		bad++;
	}
	/* thousands of random byte flips: parse or refuse, never crash */
	mut = malloc(len + 1);
	for (i = 0; i < 20000; i++) {
		size_t k, n = 1 + (size_t)(rand_r(&seed) % 4);

		memcpy(mut, text, len + 1);
		for (k = 0; k < n; k++)
			mut[rand_r(&seed) % len] = (char)(rand_r(&seed) % 256);
		memset(&err, 0, sizeof(err));
		if (store_parse(mut, len, &s, &err) == 0) {
			ok++;
			store_clear(&s);
		} else {
			assert_true(err.msg[0]);
			bad++;
		}
	}
	fprintf(stderr, "store: %zu mutated/truncated inputs refused, %zu still valid\n", bad, ok);
	assert_true(bad > 10000);
	free(mut);
	free(text);
	store_clear(&a);
}

static void test_attach_json(void **state)
{
	struct attach a;
	struct attach_id back;
	struct kerror err = { 0 };
	json_object *o, *v;

	attach_init(&a);
	assert_int_equal(attach_id_set_domain(&a.id, "vm0"), 0);
	snprintf(a.id.nic, sizeof(a.id.nic), "eth0");
	assert_int_equal(nic_mac_parse("52:54:00:00:00:01", a.id.mac), 0);
	assert_int_equal(attach_id_validate(&a.id, &err), 0);
	a.res.state = ATTACH_STATE_DEGRADED;
	assert_int_equal(attach_result_add_queue(&a.res, 7), 0);
	assert_int_equal(attach_result_add_queue(&a.res, 6), 0);
	assert_int_equal(attach_result_add_rule(&a.res, 1023), 0);
	assert_int_equal(attach_result_add_reason(&a.res, ATTACH_R_UNSTEERED, "eth0", "insert rule",
						  EOPNOTSUPP, "Operation not supported"),
			 0);
	o = attach_to_json(&a);
	assert_true(json_object_object_get_ex(o, "state", &v));
	assert_string_equal(json_object_get_string(v), "degraded");
	assert_true(json_object_object_get_ex(o, "queues", &v));
	assert_int_equal(json_object_array_length(v), 2);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(v, 0)), 6);
	assert_true(json_object_object_get_ex(o, "reasons", &v));
	v = json_object_array_get_idx(v, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(v, "errno_name")),
			    "EOPNOTSUPP");
	assert_string_equal(json_object_get_string(json_object_object_get(v, "nic")), "eth0");
	assert_int_equal(attach_id_from_json(o, &back, &err), 0);
	assert_true(attach_id_equal(&back, &a.id));
	attach_id_clear(&back);
	json_object_put(o);

	/* validation */
	a.id.mac[0] = 0x01;
	assert_int_equal(attach_id_validate(&a.id, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "multicast"));
	a.id.mac[0] = 0x52;
	a.id.queues = 0;
	assert_int_equal(attach_id_validate(&a.id, &err), -EINVAL);
	attach_clear(&a);
}

/* An identity owns its domain and addresses: a copy is a copy, a cleared
 * one owns nothing, a name is kept up to its cap, a fifth address of a
 * family is refused. */
static void test_attach_id_owns(void **state)
{
	char name[ATTACH_DOMAIN_MAX + 10];
	struct attach_id a, b;
	struct kerror err = { 0 };
	json_object *o;
	size_t i;

	attach_id_init(&a);
	assert_string_equal(a.domain, "");
	assert_null(a.ip4);
	assert_int_equal(attach_id_set_domain(&a, "vm0"), 0);
	assert_int_equal(attach_id_add_address(&a, "10.0.0.1"), 0);
	assert_int_equal(attach_id_add_address(&a, "fd00::1"), 0);
	assert_int_equal(attach_id_add_address(&a, "not an address"), -EINVAL);
	assert_int_equal(attach_id_copy(&b, &a), 0);
	assert_true(attach_id_equal(&a, &b));
	assert_ptr_not_equal(a.domain, b.domain);
	assert_ptr_not_equal(a.ip4, b.ip4);
	assert_int_equal(attach_id_set_domain(&b, "vm1"), 0);
	assert_string_equal(a.domain, "vm0");
	b.ip4[0].s_addr = htonl(0x0a000002u);
	assert_false(attach_id_equal(&a, &b));
	attach_id_clear(&b);
	assert_string_equal(b.domain, "");
	assert_int_equal(b.n_ip4 + b.n_ip6, 0);
	for (i = 1; i < ATTACH_IP_MAX; i++)
		assert_int_equal(attach_id_add_address(&a, "10.0.0.9"), 0);
	assert_int_equal(a.n_ip4, ATTACH_IP_MAX);
	assert_int_equal(attach_id_add_address(&a, "10.0.0.9"), -EINVAL);
	assert_int_equal(a.n_ip4, ATTACH_IP_MAX);
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(attach_id_set_domain(&a, name), 0);
	assert_int_equal(strlen(a.domain), ATTACH_DOMAIN_MAX - 1);
	assert_int_equal(attach_id_set_domain(&a, NULL), 0);
	assert_string_equal(a.domain, "");
	attach_id_clear(&a);

	/* a file's identity with too many addresses: refused, nothing kept */
	o = json_tokener_parse("{\"domain\":\"vm0\",\"nic\":\"eth0\",\"mac\":"
			       "\"52:54:00:00:00:01\",\"addresses\":[\"10.0.0.1\",\"10.0.0.2\","
			       "\"10.0.0.3\",\"10.0.0.4\",\"10.0.0.5\"]}");
	assert_non_null(o);
	assert_int_equal(attach_id_from_json(o, &a, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "too many addresses"));
	json_object_array_del_idx(json_object_object_get(o, "addresses"), 0, 1);
	assert_int_equal(attach_id_from_json(o, &a, &err), 0);
	assert_string_equal(a.domain, "vm0");
	assert_int_equal(a.n_ip4, 4);
	attach_id_clear(&a);
	json_object_put(o);
}

static void test_resolve_pending(void **state)
{
	struct journal_nic j;
	struct nic nic;
	struct nic_rule r = { 0 }, k = { 0 };
	uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 1 };
	struct binder_binding bb = { .id = 9, .ifindex = 3, .queue = 6, .tap_ifindex = 12 };
	struct journal_binding b = { .queue = 6, .tap_ifindex = 12, .pending = true };

	journal_nic_init(&j, "eth0", 3);
	nic_init(&nic);
	r.location = NIC_LOC_ANY;
	r.match = NIC_RULE_MATCH_ETHER_DST;
	memcpy(r.mac, mac, 6);
	r.action = NIC_RULE_ACTION_QUEUE;
	r.queue = 6;
	assert_int_equal(journal_add_rule(&j, &r, mac, true), 0);
	r.queue = 7; /* never made */
	assert_int_equal(journal_add_rule(&j, &r, mac, true), 0);
	memcpy(b.owner, mac, 6);
	assert_int_equal(journal_add_binding(&j, &b), 0);
	/* the kernel has the first rule (made before the crash) and a foreign
	 * rule with other content */
	k = r;
	k.queue = 6;
	k.location = 500;
	nic.rules = calloc(2, sizeof(*nic.rules));
	nic.rules[0] = k;
	k.location = 501;
	k.mac[5] = 9;
	nic.rules[1] = k;
	nic.n_rules = 2;
	assert_int_equal(journal_resolve_pending(&j, &nic, &bb, 1), 2);
	assert_false(journal_nic_has_pending(&j));
	assert_int_equal(j.n_rules, 1);
	assert_int_equal(j.rules[0].rule.location, 500);
	assert_int_equal(j.n_bindings, 1);
	assert_int_equal(j.bindings[0].id, 9);
	journal_nic_clear(&j);
	nic_clear(&nic);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_put_is_idempotent),
		cmocka_unit_test(test_find_by_key),
		cmocka_unit_test_setup_teardown(test_save_load, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_save_changed, setup_dir, teardown_dir),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncations_and_flips),
		cmocka_unit_test(test_attach_json),
		cmocka_unit_test(test_attach_id_owns),
		cmocka_unit_test(test_resolve_pending),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
