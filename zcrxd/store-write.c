// SPDX-License-Identifier: MIT
/*
 * store-write — the store as JSON: a tree (store_to_json, for tests and
 * tools) and the streaming writer of state.json's text (store_to_text),
 * which builds no tree of thousands of objects.  The same content both ways.
 * Owns: the schema, written.  Must not: do I/O.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"

/* --- to JSON ------------------------------------------------------------------- */

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

static json_object *mac_json(const uint8_t *mac)
{
	char buf[18];

	return json_object_new_string(nic_mac_format(mac, buf));
}

static json_object *u32_array(const uint32_t *v, size_t n)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		json_object_array_add(a, json_object_new_int64(v[i]));
	return a;
}

static json_object *rule_json(const struct journal_rule *r)
{
	json_object *o = json_object_new_object();
	char ip[INET6_ADDRSTRLEN], flow[160];

	add(o, "location", json_object_new_int64(r->rule.location));
	add(o, "owner", mac_json(r->owner));
	add(o, "pending", json_object_new_boolean(r->pending));
	add(o, "match", json_object_new_string(store_match_name(r->rule.match)));
	switch (r->rule.match) {
	case NIC_RULE_MATCH_ETHER_DST:
		add(o, "mac", mac_json(r->rule.mac));
		break;
	case NIC_RULE_MATCH_IP4_DST:
		add(o, "ip", json_object_new_string(inet_ntop(AF_INET, &r->rule.ip4, ip, sizeof(ip))));
		break;
	case NIC_RULE_MATCH_IP6_DST:
		add(o, "ip",
		    json_object_new_string(inet_ntop(AF_INET6, &r->rule.ip6, ip, sizeof(ip))));
		break;
	case NIC_RULE_MATCH_FLOW4:
	case NIC_RULE_MATCH_FLOW6:
		add(o, "flow", json_object_new_string(nic_flow_format(&r->rule.flow, false, flow,
								      sizeof(flow))));
		break;
	case NIC_RULE_MATCH_OTHER:
		break;
	}
	add(o, "action", json_object_new_string(store_action_name(r->rule.action)));
	if (r->rule.action == NIC_RULE_ACTION_QUEUE)
		add(o, "queue", json_object_new_int64(r->rule.queue));
	if (r->rule.action == NIC_RULE_ACTION_CONTEXT)
		add(o, "context", json_object_new_int64(r->rule.rss_context));
	return o;
}

json_object *store_journal_to_json(const struct journal_nic *j)
{
	json_object *o = json_object_new_object(), *a, *x;
	size_t i;

	if (!o)
		return NULL;
	add(o, "name", json_object_new_string(j->name));
	add(o, "ifindex", json_object_new_int(j->ifindex));
	add(o, "released", json_object_new_boolean(j->released));
	if (j->has_channels_prior) {
		x = json_object_new_object();
		add(x, "rx", json_object_new_int64(j->channels_prior.rx));
		add(x, "combined", json_object_new_int64(j->channels_prior.combined));
		add(o, "channels_prior", x);
	}
	if (j->has_ntuple_prior)
		add(o, "ntuple_prior", json_object_new_boolean(j->ntuple_prior));
	if (j->has_tds_prior)
		add(o, "tcp_data_split_prior", json_object_new_int(j->tds_prior));
	if (j->has_hds_prior)
		add(o, "hds_thresh_prior", json_object_new_int64(j->hds_prior));
	if (j->has_rss0_prior)
		add(o, "rss0_prior", u32_array(j->rss0_prior, j->n_rss0_prior));
	a = json_object_new_array();
	for (i = 0; i < j->n_leases; i++) {
		x = json_object_new_object();
		add(x, "queue", json_object_new_int64(j->leases[i].queue));
		add(x, "owner", mac_json(j->leases[i].owner));
		json_object_array_add(a, x);
	}
	add(o, "leases", a);
	a = json_object_new_array();
	for (i = 0; i < j->n_rules; i++)
		json_object_array_add(a, rule_json(&j->rules[i]));
	add(o, "rules", a);
	a = json_object_new_array();
	for (i = 0; i < j->n_ctxs; i++) {
		const struct journal_ctx *c = &j->ctxs[i];

		x = json_object_new_object();
		add(x, "id", json_object_new_int64(c->id));
		add(x, "owner", mac_json(c->owner));
		add(x, "pending", json_object_new_boolean(c->pending));
		add(x, "queues", u32_array(c->queues, c->n_queues));
		json_object_array_add(a, x);
	}
	add(o, "contexts", a);
	a = json_object_new_array();
	for (i = 0; i < j->n_bindings; i++) {
		const struct journal_binding *b = &j->bindings[i];

		x = json_object_new_object();
		add(x, "id", json_object_new_int64(b->id));
		add(x, "queue", json_object_new_int64(b->queue));
		add(x, "tap_ifindex", json_object_new_int(b->tap_ifindex));
		add(x, "fallback", json_object_new_int64(b->fallback));
		add(x, "owner", mac_json(b->owner));
		add(x, "pending", json_object_new_boolean(b->pending));
		json_object_array_add(a, x);
	}
	add(o, "bindings", a);
	return o;
}

json_object *store_to_json(const struct store *s)
{
	json_object *o = json_object_new_object(), *a;
	size_t i;

	if (!o)
		return NULL;
	add(o, "schema", json_object_new_int(STORE_SCHEMA));
	add(o, "generation", json_object_new_int64((int64_t)s->generation));
	add(o, "next_seq", json_object_new_int64((int64_t)s->next_seq));
	a = json_object_new_array();
	for (i = 0; i < s->n_atts; i++)
		json_object_array_add(a, attach_id_to_json(&s->atts[i].id));
	add(o, "attachments", a);
	a = json_object_new_array();
	for (i = 0; i < s->n_nics; i++)
		json_object_array_add(a, store_journal_to_json(&s->nics[i]));
	add(o, "nics", a);
	return o;
}

/* --- streaming writer (what store_save uses: no tree of thousands of objects) ------ */

static void sb_put(struct store_buf *b, const char *p, size_t n)
{
	if (b->fail)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *x;

		while (cap < b->n + n + 1)
			cap *= 2;
		x = realloc(b->s, cap);
		if (!x) {
			b->fail = true;
			return;
		}
		b->s = x;
		b->cap = cap;
	}
	memcpy(b->s + b->n, p, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void sb_lit(struct store_buf *b, const char *p)
{
	sb_put(b, p, strlen(p));
}

static void sb_u64(struct store_buf *b, uint64_t v)
{
	char t[24];
	int k = snprintf(t, sizeof(t), "%llu", (unsigned long long)v);

	sb_put(b, t, (size_t)k);
}

static void sb_int(struct store_buf *b, int64_t v)
{
	char t[24];
	int k = snprintf(t, sizeof(t), "%lld", (long long)v);

	sb_put(b, t, (size_t)k);
}

static void sb_str(struct store_buf *b, const char *p)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = p;

	sb_put(b, "\"", 1);
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sb_put(b, run, (size_t)(p - run));
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			sb_put(b, e, 2);
		} else {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			sb_put(b, e, 6);
		}
		run = p + 1;
	}
	sb_put(b, run, (size_t)(p - run));
	sb_put(b, "\"", 1);
}

static void sb_key(struct store_buf *b, bool *first, const char *k)
{
	sb_lit(b, *first ? "\"" : ",\"");
	*first = false;
	sb_lit(b, k);
	sb_lit(b, "\":");
}

static void sb_mac(struct store_buf *b, const uint8_t *mac)
{
	char m[18];

	sb_str(b, nic_mac_format(mac, m));
}

static void sb_u32s(struct store_buf *b, const uint32_t *v, size_t n)
{
	size_t i;

	sb_put(b, "[", 1);
	for (i = 0; i < n; i++) {
		if (i)
			sb_put(b, ",", 1);
		sb_u64(b, v[i]);
	}
	sb_put(b, "]", 1);
}

static void sb_attach(struct store_buf *b, const struct attach_id *id)
{
	char ip[INET6_ADDRSTRLEN];
	bool f = true;
	size_t i;

	sb_put(b, "{", 1);
	sb_key(b, &f, "domain");
	sb_str(b, id->domain);
	if (id->uuid[0]) {
		sb_key(b, &f, "uuid");
		sb_str(b, id->uuid);
	}
	sb_key(b, &f, "mac");
	sb_mac(b, id->mac);
	sb_key(b, &f, "nic");
	sb_str(b, id->nic);
	if (id->nic_ifindex) {
		sb_key(b, &f, "nic_ifindex");
		sb_int(b, id->nic_ifindex);
	}
	if (id->tap[0]) {
		sb_key(b, &f, "tap");
		sb_str(b, id->tap);
	}
	if (id->tap_ifindex) {
		sb_key(b, &f, "tap_ifindex");
		sb_int(b, id->tap_ifindex);
	}
	sb_key(b, &f, "queues_requested");
	sb_u64(b, id->queues);
	if (id->numa_node >= 0) {
		sb_key(b, &f, "numa_node");
		sb_int(b, id->numa_node);
	}
	if (id->n_ip4 || id->n_ip6) {
		sb_key(b, &f, "addresses");
		sb_put(b, "[", 1);
		for (i = 0; i < id->n_ip4; i++) {
			if (i)
				sb_put(b, ",", 1);
			sb_str(b, inet_ntop(AF_INET, &id->ip4[i], ip, sizeof(ip)));
		}
		for (i = 0; i < id->n_ip6; i++) {
			if (i || id->n_ip4)
				sb_put(b, ",", 1);
			sb_str(b, inet_ntop(AF_INET6, &id->ip6[i], ip, sizeof(ip)));
		}
		sb_put(b, "]", 1);
	}
	sb_key(b, &f, "seq");
	sb_u64(b, id->seq);
	if (id->kind == ATTACH_KIND_LEASE) {
		/* few: the identity's own JSON form, written as it is */
		json_object *o = attach_id_to_json(id), *l = NULL;
		const char *t;

		if (o && json_object_object_get_ex(o, "lease", &l)) {
			t = json_object_to_json_string_ext(l, JSON_C_TO_STRING_PLAIN);
			sb_key(b, &f, "kind");
			sb_str(b, "lease");
			sb_key(b, &f, "lease");
			sb_put(b, t, strlen(t));
		}
		json_object_put(o);
	}
	sb_put(b, "}", 1);
}

/* The *_prior fields of a journal: what zcrxd changed and must restore. */
static void sb_priors(struct store_buf *b, bool *f, const struct journal_nic *j)
{
	if (j->has_channels_prior) {
		sb_key(b, f, "channels_prior");
		sb_lit(b, "{\"rx\":");
		sb_u64(b, j->channels_prior.rx);
		sb_lit(b, ",\"combined\":");
		sb_u64(b, j->channels_prior.combined);
		sb_lit(b, "}");
	}
	if (j->has_ntuple_prior) {
		sb_key(b, f, "ntuple_prior");
		sb_lit(b, j->ntuple_prior ? "true" : "false");
	}
	if (j->has_tds_prior) {
		sb_key(b, f, "tcp_data_split_prior");
		sb_u64(b, j->tds_prior);
	}
	if (j->has_hds_prior) {
		sb_key(b, f, "hds_thresh_prior");
		sb_u64(b, j->hds_prior);
	}
	if (j->has_rss0_prior) {
		sb_key(b, f, "rss0_prior");
		sb_u32s(b, j->rss0_prior, j->n_rss0_prior);
	}
}

static void sb_rule(struct store_buf *b, const struct journal_rule *r)
{
	char ip[INET6_ADDRSTRLEN], flow[160];

	sb_lit(b, "{\"location\":");
	sb_u64(b, r->rule.location);
	sb_lit(b, ",\"owner\":");
	sb_mac(b, r->owner);
	sb_lit(b, r->pending ? ",\"pending\":true,\"match\":" : ",\"pending\":false,\"match\":");
	sb_str(b, store_match_name(r->rule.match));
	switch (r->rule.match) {
	case NIC_RULE_MATCH_ETHER_DST:
		sb_lit(b, ",\"mac\":");
		sb_mac(b, r->rule.mac);
		break;
	case NIC_RULE_MATCH_IP4_DST:
		sb_lit(b, ",\"ip\":");
		sb_str(b, inet_ntop(AF_INET, &r->rule.ip4, ip, sizeof(ip)));
		break;
	case NIC_RULE_MATCH_IP6_DST:
		sb_lit(b, ",\"ip\":");
		sb_str(b, inet_ntop(AF_INET6, &r->rule.ip6, ip, sizeof(ip)));
		break;
	case NIC_RULE_MATCH_FLOW4:
	case NIC_RULE_MATCH_FLOW6:
		sb_lit(b, ",\"flow\":");
		sb_str(b, nic_flow_format(&r->rule.flow, false, flow, sizeof(flow)));
		break;
	case NIC_RULE_MATCH_OTHER:
		break;
	}
	sb_lit(b, ",\"action\":");
	sb_str(b, store_action_name(r->rule.action));
	if (r->rule.action == NIC_RULE_ACTION_QUEUE) {
		sb_lit(b, ",\"queue\":");
		sb_u64(b, r->rule.queue);
	}
	if (r->rule.action == NIC_RULE_ACTION_CONTEXT) {
		sb_lit(b, ",\"context\":");
		sb_u64(b, r->rule.rss_context);
	}
	sb_lit(b, "}");
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
static void sb_journal_part(struct store_buf *b, const struct journal_nic *j, bool settings,
			    bool entries, const uint8_t *mac)
{
	bool f = true, any;
	size_t i;

	sb_lit(b, "{");
	sb_key(b, &f, "name");
	sb_str(b, j->name);
	sb_key(b, &f, "ifindex");
	sb_int(b, j->ifindex);
	if (settings) {
		sb_key(b, &f, "released");
		sb_lit(b, j->released ? "true" : "false");
		sb_priors(b, &f, j);
	}
	sb_key(b, &f, "leases");
	sb_lit(b, "[");
	for (i = 0, any = false; entries && i < j->n_leases; i++) {
		if (!owned_by(j->leases[i].owner, mac))
			continue;
		sb_lit(b, any ? ",{\"queue\":" : "{\"queue\":");
		any = true;
		sb_u64(b, j->leases[i].queue);
		sb_lit(b, ",\"owner\":");
		sb_mac(b, j->leases[i].owner);
		sb_lit(b, "}");
	}
	sb_lit(b, "]");
	sb_key(b, &f, "rules");
	sb_lit(b, "[");
	for (i = 0, any = false; entries && i < j->n_rules; i++) {
		if (!owned_by(j->rules[i].owner, mac))
			continue;
		if (any)
			sb_lit(b, ",");
		any = true;
		sb_rule(b, &j->rules[i]);
	}
	sb_lit(b, "]");
	sb_key(b, &f, "contexts");
	sb_lit(b, "[");
	for (i = 0, any = false; entries && i < j->n_ctxs; i++) {
		const struct journal_ctx *c = &j->ctxs[i];

		if (!owned_by(c->owner, mac))
			continue;
		sb_lit(b, any ? ",{\"id\":" : "{\"id\":");
		any = true;
		sb_u64(b, c->id);
		sb_lit(b, ",\"owner\":");
		sb_mac(b, c->owner);
		sb_lit(b, c->pending ? ",\"pending\":true,\"queues\":" :
				       ",\"pending\":false,\"queues\":");
		sb_u32s(b, c->queues, c->n_queues);
		sb_lit(b, "}");
	}
	sb_lit(b, "]");
	sb_key(b, &f, "bindings");
	sb_lit(b, "[");
	for (i = 0, any = false; entries && i < j->n_bindings; i++) {
		const struct journal_binding *x = &j->bindings[i];

		if (!owned_by(x->owner, mac))
			continue;
		sb_lit(b, any ? ",{\"id\":" : "{\"id\":");
		any = true;
		sb_u64(b, x->id);
		sb_lit(b, ",\"queue\":");
		sb_u64(b, x->queue);
		sb_lit(b, ",\"tap_ifindex\":");
		sb_int(b, x->tap_ifindex);
		sb_lit(b, ",\"fallback\":");
		sb_u64(b, x->fallback);
		sb_lit(b, ",\"owner\":");
		sb_mac(b, x->owner);
		sb_lit(b, x->pending ? ",\"pending\":true}" : ",\"pending\":false}");
	}
	sb_lit(b, "]}");
}

static void sb_journal(struct store_buf *b, const struct journal_nic *j)
{
	sb_journal_part(b, j, true, true, NULL);
}

int store_to_text(const struct store *s, char **ret, size_t *ret_len)
{
	struct store_buf b = { 0 };
	size_t i;

	sb_lit(&b, "{\"schema\":");
	sb_int(&b, STORE_SCHEMA);
	sb_lit(&b, ",\"generation\":");
	sb_u64(&b, s->generation);
	sb_lit(&b, ",\"next_seq\":");
	sb_u64(&b, s->next_seq);
	sb_lit(&b, ",\n\"attachments\":[");
	for (i = 0; i < s->n_atts; i++) {
		sb_lit(&b, i ? ",\n" : "\n");
		sb_attach(&b, &s->atts[i].id);
	}
	sb_lit(&b, "],\n\"nics\":[");
	for (i = 0; i < s->n_nics; i++) {
		sb_lit(&b, i ? ",\n" : "\n");
		sb_journal(&b, &s->nics[i]);
	}
	sb_lit(&b, "]}\n");
	if (b.fail) {
		free(b.s);
		return -ENOMEM;
	}
	*ret = b.s;
	*ret_len = b.n;
	return 0;
}

/* --- log records ------------------------------------------------------------------- */

void store_buf_free(struct store_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

uint32_t store_crc32(const void *p, size_t n)
{
	static uint32_t table[256];
	const uint8_t *c = p;
	uint32_t crc = 0xffffffffu;
	size_t i;

	if (!table[1]) {
		for (i = 0; i < 256; i++) {
			uint32_t x = (uint32_t)i;
			int k;

			for (k = 0; k < 8; k++)
				x = x & 1 ? 0xedb88320u ^ (x >> 1) : x >> 1;
			table[i] = x;
		}
	}
	for (i = 0; i < n; i++)
		crc = table[(crc ^ c[i]) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

/* A record: "<crc32 of the JSON, 8 hex digits> <JSON>\n"; the JSON is
 * written between rec_begin and rec_end. */
static size_t rec_begin(struct store_buf *b, const char *type)
{
	size_t at = b->n;

	sb_lit(b, "00000000 {\"t\":");
	sb_str(b, type);
	return at;
}

static void rec_end(struct store_buf *b, size_t at)
{
	char crc[9];

	sb_lit(b, "}");
	if (b->fail)
		return;
	snprintf(crc, sizeof(crc), "%08x", store_crc32(b->s + at + 9, b->n - at - 9));
	memcpy(b->s + at, crc, 8);
	sb_lit(b, "\n");
}

void store_rec_generation(struct store_buf *b, uint64_t generation)
{
	size_t at = rec_begin(b, "log");

	sb_lit(b, ",\"generation\":");
	sb_u64(b, generation);
	rec_end(b, at);
}

void store_rec_owner(struct store_buf *b, const struct store *s, const char *nic,
		     const uint8_t *mac)
{
	ssize_t i = store_find_attach(s, nic, mac);
	size_t k, at = rec_begin(b, "owner");

	sb_lit(b, ",\"nic\":");
	sb_str(b, nic);
	sb_lit(b, ",\"mac\":");
	sb_mac(b, mac);
	sb_lit(b, ",\"next_seq\":");
	sb_u64(b, s->next_seq);
	if (i >= 0) {
		sb_lit(b, ",\"attachment\":");
		sb_attach(b, &s->atts[i].id);
	}
	for (k = 0; k < s->n_nics; k++)
		if (!strcmp(s->nics[k].name, nic)) {
			sb_lit(b, ",\"journal\":");
			sb_journal_part(b, &s->nics[k], false, true, mac);
			break;
		}
	rec_end(b, at);
}

void store_rec_nic(struct store_buf *b, const struct journal_nic *j, bool settings_only)
{
	size_t at = rec_begin(b, settings_only ? "nic-settings" : "nic");

	sb_lit(b, ",\"journal\":");
	sb_journal_part(b, j, true, !settings_only, NULL);
	rec_end(b, at);
}

void store_rec_drop(struct store_buf *b, const char *nic)
{
	size_t at = rec_begin(b, "drop");

	sb_lit(b, ",\"nic\":");
	sb_str(b, nic);
	rec_end(b, at);
}
