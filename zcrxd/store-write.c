// SPDX-License-Identifier: MIT
/*
 * store-write — the store as JSON: state.json's text and the log's records
 * written straight as text with jtext (store_to_text, store_rec_*), which
 * builds no tree of thousands of objects, and the json-c trees of tests and
 * tools (store_to_json, store_journal_to_json) as that text parsed: one
 * writer of the schema.  An attachment's identity is attach.c's writer
 * (attach_id_to_jtext).
 * Owns: the schema, written.  Must not: do I/O.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "store-int.h"

/* --- as text (what store_save and the log write: no tree of thousands of objects) --- */

static void put_mac(struct jtext *b, const uint8_t *mac)
{
	char m[18];

	jtext_str(b, nic_mac_format(mac, m));
}

static void put_u32s(struct jtext *b, const uint32_t *v, size_t n)
{
	size_t i;

	jtext_put(b, "[", 1);
	for (i = 0; i < n; i++) {
		if (i)
			jtext_put(b, ",", 1);
		jtext_u64(b, v[i]);
	}
	jtext_put(b, "]", 1);
}

/* The *_prior fields of a journal: what zcrxd changed and must restore. */
static void put_priors(struct jtext *b, bool *f, const struct journal_nic *j)
{
	if (j->has_channels_prior) {
		jtext_key(b, f, "channels_prior");
		jtext_lit(b, "{\"rx\":");
		jtext_u64(b, j->channels_prior.rx);
		jtext_lit(b, ",\"combined\":");
		jtext_u64(b, j->channels_prior.combined);
		jtext_lit(b, "}");
	}
	if (j->has_ntuple_prior) {
		jtext_key(b, f, "ntuple_prior");
		jtext_lit(b, j->ntuple_prior ? "true" : "false");
	}
	if (j->has_tds_prior) {
		jtext_key(b, f, "tcp_data_split_prior");
		jtext_u64(b, j->tds_prior);
	}
	if (j->has_hds_prior) {
		jtext_key(b, f, "hds_thresh_prior");
		jtext_u64(b, j->hds_prior);
	}
	if (j->has_rss0_prior) {
		jtext_key(b, f, "rss0_prior");
		put_u32s(b, j->rss0_prior, j->n_rss0_prior);
	}
}

static void put_rule(struct jtext *b, const struct journal_rule *r)
{
	char ip[INET6_ADDRSTRLEN], flow[160];

	jtext_lit(b, "{\"location\":");
	jtext_u64(b, r->rule.location);
	jtext_lit(b, ",\"owner\":");
	put_mac(b, r->owner);
	jtext_lit(b, r->pending ? ",\"pending\":true,\"match\":" : ",\"pending\":false,\"match\":");
	jtext_str(b, store_match_name(r->rule.match));
	switch (r->rule.match) {
	case NIC_RULE_MATCH_ETHER_DST:
		jtext_lit(b, ",\"mac\":");
		put_mac(b, r->rule.mac);
		break;
	case NIC_RULE_MATCH_IP4_DST:
		jtext_lit(b, ",\"ip\":");
		jtext_str(b, inet_ntop(AF_INET, &r->rule.ip4, ip, sizeof(ip)));
		break;
	case NIC_RULE_MATCH_IP6_DST:
		jtext_lit(b, ",\"ip\":");
		jtext_str(b, inet_ntop(AF_INET6, &r->rule.ip6, ip, sizeof(ip)));
		break;
	case NIC_RULE_MATCH_FLOW4:
	case NIC_RULE_MATCH_FLOW6:
		jtext_lit(b, ",\"flow\":");
		jtext_str(b, nic_flow_format(&r->rule.flow, false, flow, sizeof(flow)));
		break;
	case NIC_RULE_MATCH_OTHER:
		break;
	}
	jtext_lit(b, ",\"action\":");
	jtext_str(b, store_action_name(r->rule.action));
	if (r->rule.action == NIC_RULE_ACTION_QUEUE) {
		jtext_lit(b, ",\"queue\":");
		jtext_u64(b, r->rule.queue);
	}
	if (r->rule.action == NIC_RULE_ACTION_CONTEXT) {
		jtext_lit(b, ",\"context\":");
		jtext_u64(b, r->rule.rss_context);
	}
	jtext_lit(b, "}");
}

static bool owned_by(const uint8_t *owner, const uint8_t *mac)
{
	return !mac || !memcmp(owner, mac, NIC_MAC_LEN);
}

/*
 * A NIC journal as JSON.  settings: its ifindex, released and priors;
 * entries: its leases, rules, contexts and bindings, only those owned by
 * mac (NULL = all).  Arrays are always there (maybe empty), so every part
 * reads back with the same parser.
 */
static void put_journal(struct jtext *b, const struct journal_nic *j, bool settings,
			    bool entries, const uint8_t *mac)
{
	bool f = true, any;
	size_t i;

	jtext_lit(b, "{");
	jtext_key(b, &f, "name");
	jtext_str(b, j->name);
	jtext_key(b, &f, "ifindex");
	jtext_int(b, j->ifindex);
	if (settings) {
		jtext_key(b, &f, "released");
		jtext_lit(b, j->released ? "true" : "false");
		put_priors(b, &f, j);
	}
	jtext_key(b, &f, "leases");
	jtext_lit(b, "[");
	for (i = 0, any = false; entries && i < j->n_leases; i++) {
		if (!owned_by(j->leases[i].owner, mac))
			continue;
		jtext_lit(b, any ? ",{\"queue\":" : "{\"queue\":");
		any = true;
		jtext_u64(b, j->leases[i].queue);
		jtext_lit(b, ",\"owner\":");
		put_mac(b, j->leases[i].owner);
		jtext_lit(b, "}");
	}
	jtext_lit(b, "]");
	jtext_key(b, &f, "rules");
	jtext_lit(b, "[");
	for (i = 0, any = false; entries && i < j->n_rules; i++) {
		if (!owned_by(j->rules[i].owner, mac))
			continue;
		if (any)
			jtext_lit(b, ",");
		any = true;
		put_rule(b, &j->rules[i]);
	}
	jtext_lit(b, "]");
	jtext_key(b, &f, "contexts");
	jtext_lit(b, "[");
	for (i = 0, any = false; entries && i < j->n_ctxs; i++) {
		const struct journal_ctx *c = &j->ctxs[i];

		if (!owned_by(c->owner, mac))
			continue;
		jtext_lit(b, any ? ",{\"id\":" : "{\"id\":");
		any = true;
		jtext_u64(b, c->id);
		jtext_lit(b, ",\"owner\":");
		put_mac(b, c->owner);
		jtext_lit(b, c->pending ? ",\"pending\":true,\"queues\":" :
				       ",\"pending\":false,\"queues\":");
		put_u32s(b, c->queues, c->n_queues);
		jtext_lit(b, "}");
	}
	jtext_lit(b, "]");
	jtext_key(b, &f, "bindings");
	jtext_lit(b, "[");
	for (i = 0, any = false; entries && i < j->n_bindings; i++) {
		const struct journal_binding *x = &j->bindings[i];

		if (!owned_by(x->owner, mac))
			continue;
		jtext_lit(b, any ? ",{\"id\":" : "{\"id\":");
		any = true;
		jtext_u64(b, x->id);
		jtext_lit(b, ",\"queue\":");
		jtext_u64(b, x->queue);
		jtext_lit(b, ",\"tap_ifindex\":");
		jtext_int(b, x->tap_ifindex);
		jtext_lit(b, ",\"fallback\":");
		jtext_u64(b, x->fallback);
		jtext_lit(b, ",\"owner\":");
		put_mac(b, x->owner);
		jtext_lit(b, x->pending ? ",\"pending\":true}" : ",\"pending\":false}");
	}
	jtext_lit(b, "]}");
}

int store_to_text(const struct store *s, struct jtext *ret)
{
	struct jtext b = { 0 };
	size_t i;

	jtext_lit(&b, "{\"schema\":");
	jtext_int(&b, STORE_SCHEMA);
	jtext_lit(&b, ",\"generation\":");
	jtext_u64(&b, s->generation);
	jtext_lit(&b, ",\"next_seq\":");
	jtext_u64(&b, s->next_seq);
	jtext_lit(&b, ",\n\"attachments\":[");
	for (i = 0; i < s->n_atts; i++) {
		jtext_lit(&b, i ? ",\n" : "\n");
		attach_id_to_jtext(&s->atts[i].id, &b);
	}
	jtext_lit(&b, "],\n\"nics\":[");
	for (i = 0; i < s->n_nics; i++) {
		jtext_lit(&b, i ? ",\n" : "\n");
		put_journal(&b, &s->nics[i], true, true, NULL);
	}
	jtext_lit(&b, "]}\n");
	if (b.fail) {
		jtext_free(&b);
		return -ENOMEM;
	}
	*ret = b;
	return 0;
}

/* --- as json-c trees: the text above, parsed ---------------------------------------- */

json_object *store_journal_to_json(const struct journal_nic *j)
{
	struct jtext t = { 0 };

	put_journal(&t, j, true, true, NULL);
	return jtext_parse(&t);
}

json_object *store_to_json(const struct store *s)
{
	struct jtext t = { 0 };

	return store_to_text(s, &t) < 0 ? NULL : jtext_parse(&t);
}

/* --- log records ------------------------------------------------------------------- */

/*
 * CRC-32 (IEEE 802.3, reflected: zlib's), eight bytes a step ("slicing by
 * 8": table k is the CRC of a byte followed by k zero bytes, so eight
 * lookups fold eight bytes at once): ~2.5 instructions a byte instead of
 * ~6.5 a byte at a time, on every record written and read back.  The
 * words are assembled from bytes, little-endian whatever the host.
 */
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	uint32_t x;
	int i, k;

	for (i = 0; i < 256; i++) {
		x = (uint32_t)i;
		for (k = 0; k < 8; k++)
			x = x & 1 ? 0xedb88320u ^ (x >> 1) : x >> 1;
		crc_table[0][i] = x;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			crc_table[k][i] = crc_table[k - 1][i] >> 8 ^
					  crc_table[0][crc_table[k - 1][i] & 0xff];
}

static uint32_t le32(const uint8_t *c)
{
	return (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
}

uint32_t store_crc32(const void *p, size_t n)
{
	const uint32_t(*t)[256] = crc_table;
	const uint8_t *c = p;
	uint32_t crc = 0xffffffffu, a, b;

	(void)pthread_once(&crc_once, crc_init);
	for (; n >= 8; n -= 8, c += 8) {
		a = le32(c) ^ crc;
		b = le32(c + 4);
		crc = t[7][a & 0xff] ^ t[6][a >> 8 & 0xff] ^ t[5][a >> 16 & 0xff] ^ t[4][a >> 24] ^
		      t[3][b & 0xff] ^ t[2][b >> 8 & 0xff] ^ t[1][b >> 16 & 0xff] ^ t[0][b >> 24];
	}
	while (n--)
		crc = t[0][(crc ^ *c++) & 0xff] ^ crc >> 8;
	return crc ^ 0xffffffffu;
}

/* A record: "<crc32 of the JSON, 8 hex digits> <JSON>\n"; the JSON is
 * written between rec_begin and rec_end. */
static size_t rec_begin(struct jtext *b, const char *type)
{
	size_t at = b->n;

	jtext_lit(b, "00000000 {\"t\":");
	jtext_str(b, type);
	return at;
}

static void rec_end(struct jtext *b, size_t at)
{
	jtext_put(b, "}\n", 2);
	if (b->fail)
		return;
	/* the checksum covers the JSON, not the line's end */
	hex_put_u32(b->s + at, store_crc32(b->s + at + 9, b->n - 1 - at - 9));
}

void store_rec_generation(struct jtext *b, uint64_t generation)
{
	size_t at = rec_begin(b, "log");

	jtext_lit(b, ",\"generation\":");
	jtext_u64(b, generation);
	rec_end(b, at);
}

void store_rec_owner(struct jtext *b, const struct store *s, const char *nic,
		     const uint8_t *mac)
{
	ssize_t i = store_find_attach(s, nic, mac);
	size_t k, at = rec_begin(b, "owner");

	jtext_lit(b, ",\"nic\":");
	jtext_str(b, nic);
	jtext_lit(b, ",\"mac\":");
	put_mac(b, mac);
	jtext_lit(b, ",\"next_seq\":");
	jtext_u64(b, s->next_seq);
	if (i >= 0) {
		jtext_lit(b, ",\"attachment\":");
		attach_id_to_jtext(&s->atts[i].id, b);
	}
	for (k = 0; k < s->n_nics; k++)
		if (!strcmp(s->nics[k].name, nic)) {
			jtext_lit(b, ",\"journal\":");
			put_journal(b, &s->nics[k], false, true, mac);
			break;
		}
	rec_end(b, at);
}

void store_rec_nic(struct jtext *b, const struct journal_nic *j, bool settings_only)
{
	size_t at = rec_begin(b, settings_only ? "nic-settings" : "nic");

	jtext_lit(b, ",\"journal\":");
	put_journal(b, j, true, !settings_only, NULL);
	rec_end(b, at);
}

void store_rec_drop(struct jtext *b, const char *nic)
{
	size_t at = rec_begin(b, "drop");

	jtext_lit(b, ",\"nic\":");
	jtext_str(b, nic);
	rec_end(b, at);
}
