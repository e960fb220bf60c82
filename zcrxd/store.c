// SPDX-License-Identifier: MIT
/*
 * store — state.json: desired attachments + ownership journal (store.h).
 * Owns: the JSON schema and atomic file writes.  Must not: touch the kernel
 * or log above debug.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define STORE_MAX_BYTES (64u << 20)

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
	free(s->atts);
	for (i = 0; i < s->n_nics; i++)
		journal_nic_clear(&s->nics[i]);
	free(s->nics);
	store_init(s);
}

int store_copy(struct store *dst, const struct store *src)
{
	size_t i;

	store_init(dst);
	dst->next_seq = src->next_seq;
	dst->atts = calloc(src->n_atts ? src->n_atts : 1, sizeof(*dst->atts));
	dst->nics = calloc(src->n_nics ? src->n_nics : 1, sizeof(*dst->nics));
	if (!dst->atts || !dst->nics)
		goto nomem;
	for (i = 0; i < src->n_atts; i++) {
		attach_init(&dst->atts[i]);
		if (attach_copy(&dst->atts[i], &src->atts[i]) < 0)
			goto nomem;
		dst->n_atts++;
	}
	for (i = 0; i < src->n_nics; i++) {
		if (journal_nic_copy(&dst->nics[i], &src->nics[i]) < 0)
			goto nomem;
		dst->n_nics++;
	}
	return 0;
nomem:
	store_clear(dst);
	return -ENOMEM;
}

ssize_t store_find_attach(const struct store *s, const char *nic, const uint8_t *mac)
{
	size_t i;

	for (i = 0; i < s->n_atts; i++)
		if (!strcmp(s->atts[i].id.nic, nic) &&
		    !memcmp(s->atts[i].id.mac, mac, NIC_MAC_LEN))
			return (ssize_t)i;
	return -1;
}

int store_put_attach(struct store *s, const struct attach_id *id, size_t *ret_index)
{
	ssize_t i = store_find_attach(s, id->nic, id->mac);
	struct attach *v;

	if (i >= 0) {
		uint64_t seq = s->atts[i].id.seq;

		s->atts[i].id = *id;
		s->atts[i].id.seq = seq;
		if (ret_index)
			*ret_index = (size_t)i;
		return 0;
	}
	v = realloc(s->atts, (s->n_atts + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->atts = v;
	attach_init(&v[s->n_atts]);
	v[s->n_atts].id = *id;
	v[s->n_atts].id.seq = s->next_seq++;
	if (ret_index)
		*ret_index = s->n_atts;
	s->n_atts++;
	return 0;
}

void store_del_attach(struct store *s, size_t index)
{
	if (index >= s->n_atts)
		return;
	attach_clear(&s->atts[index]);
	memmove(&s->atts[index], &s->atts[index + 1], (s->n_atts - index - 1) * sizeof(*s->atts));
	s->n_atts--;
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

static const char *match_name(enum nic_rule_match m)
{
	switch (m) {
	case NIC_RULE_MATCH_ETHER_DST: return "ether-dst";
	case NIC_RULE_MATCH_IP4_DST: return "ip4-dst";
	case NIC_RULE_MATCH_IP6_DST: return "ip6-dst";
	case NIC_RULE_MATCH_OTHER: return "other";
	}
	return "other";
}

static const char *action_name(enum nic_rule_action a)
{
	switch (a) {
	case NIC_RULE_ACTION_QUEUE: return "queue";
	case NIC_RULE_ACTION_CONTEXT: return "context";
	case NIC_RULE_ACTION_DROP: return "drop";
	case NIC_RULE_ACTION_OTHER: return "other";
	}
	return "other";
}

static json_object *rule_json(const struct journal_rule *r)
{
	json_object *o = json_object_new_object();
	char ip[INET6_ADDRSTRLEN];

	add(o, "location", json_object_new_int64(r->rule.location));
	add(o, "owner", mac_json(r->owner));
	add(o, "pending", json_object_new_boolean(r->pending));
	add(o, "match", json_object_new_string(match_name(r->rule.match)));
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
	case NIC_RULE_MATCH_OTHER:
		break;
	}
	add(o, "action", json_object_new_string(action_name(r->rule.action)));
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

struct sbuf {
	char *s;
	size_t n, cap;
	bool fail;
};

static void sb_put(struct sbuf *b, const char *p, size_t n)
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

static void sb_lit(struct sbuf *b, const char *p)
{
	sb_put(b, p, strlen(p));
}

static void sb_u64(struct sbuf *b, uint64_t v)
{
	char t[24];
	int k = snprintf(t, sizeof(t), "%llu", (unsigned long long)v);

	sb_put(b, t, (size_t)k);
}

static void sb_int(struct sbuf *b, int64_t v)
{
	char t[24];
	int k = snprintf(t, sizeof(t), "%lld", (long long)v);

	sb_put(b, t, (size_t)k);
}

static void sb_str(struct sbuf *b, const char *p)
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

static void sb_key(struct sbuf *b, bool *first, const char *k)
{
	sb_lit(b, *first ? "\"" : ",\"");
	*first = false;
	sb_lit(b, k);
	sb_lit(b, "\":");
}

static void sb_mac(struct sbuf *b, const uint8_t *mac)
{
	char m[18];

	sb_str(b, nic_mac_format(mac, m));
}

static void sb_u32s(struct sbuf *b, const uint32_t *v, size_t n)
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

static void sb_attach(struct sbuf *b, const struct attach_id *id)
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
	sb_put(b, "}", 1);
}

/* The *_prior fields of a journal: what zcrxd changed and must restore. */
static void sb_priors(struct sbuf *b, bool *f, const struct journal_nic *j)
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

static void sb_rule(struct sbuf *b, const struct journal_rule *r)
{
	char ip[INET6_ADDRSTRLEN];

	sb_lit(b, "{\"location\":");
	sb_u64(b, r->rule.location);
	sb_lit(b, ",\"owner\":");
	sb_mac(b, r->owner);
	sb_lit(b, r->pending ? ",\"pending\":true,\"match\":" : ",\"pending\":false,\"match\":");
	sb_str(b, match_name(r->rule.match));
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
	case NIC_RULE_MATCH_OTHER:
		break;
	}
	sb_lit(b, ",\"action\":");
	sb_str(b, action_name(r->rule.action));
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

static void sb_journal(struct sbuf *b, const struct journal_nic *j)
{
	bool f = true;
	size_t i;

	sb_lit(b, "{");
	sb_key(b, &f, "name");
	sb_str(b, j->name);
	sb_key(b, &f, "ifindex");
	sb_int(b, j->ifindex);
	sb_key(b, &f, "released");
	sb_lit(b, j->released ? "true" : "false");
	sb_priors(b, &f, j);
	sb_key(b, &f, "leases");
	sb_lit(b, "[");
	for (i = 0; i < j->n_leases; i++) {
		sb_lit(b, i ? ",{\"queue\":" : "{\"queue\":");
		sb_u64(b, j->leases[i].queue);
		sb_lit(b, ",\"owner\":");
		sb_mac(b, j->leases[i].owner);
		sb_lit(b, "}");
	}
	sb_lit(b, "]");
	sb_key(b, &f, "rules");
	sb_lit(b, "[");
	for (i = 0; i < j->n_rules; i++) {
		if (i)
			sb_lit(b, ",");
		sb_rule(b, &j->rules[i]);
	}
	sb_lit(b, "]");
	sb_key(b, &f, "contexts");
	sb_lit(b, "[");
	for (i = 0; i < j->n_ctxs; i++) {
		const struct journal_ctx *c = &j->ctxs[i];

		sb_lit(b, i ? ",{\"id\":" : "{\"id\":");
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
	for (i = 0; i < j->n_bindings; i++) {
		const struct journal_binding *x = &j->bindings[i];

		sb_lit(b, i ? ",{\"id\":" : "{\"id\":");
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

int store_to_text(const struct store *s, char **ret, size_t *ret_len)
{
	struct sbuf b = { 0 };
	size_t i;

	sb_lit(&b, "{\"schema\":");
	sb_int(&b, STORE_SCHEMA);
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

/* --- from JSON ------------------------------------------------------------------- */

#define BAD(err, ...) kerror_setf(err, EINVAL, NULL, "parse state", __VA_ARGS__)

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

static int get_u32(json_object *o, const char *k, bool required, uint32_t *ret,
		   struct kerror *err)
{
	json_object *v = get(o, k);
	int64_t x;

	if (!v)
		return required ? BAD(err, "'%s' missing", k) : 0;
	if (!json_object_is_type(v, json_type_int))
		return BAD(err, "'%s' is not an integer", k);
	x = json_object_get_int64(v);
	if (x < 0 || x > UINT32_MAX)
		return BAD(err, "'%s' out of range", k);
	*ret = (uint32_t)x;
	return 0;
}

static int get_bool(json_object *o, const char *k, bool *ret, struct kerror *err)
{
	json_object *v = get(o, k);

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return BAD(err, "'%s' is not a boolean", k);
	*ret = json_object_get_boolean(v);
	return 0;
}

static int get_mac(json_object *o, const char *k, uint8_t *mac, struct kerror *err)
{
	json_object *v = get(o, k);

	if (!v || !json_object_is_type(v, json_type_string))
		return BAD(err, "'%s' missing or not a string", k);
	if (nic_mac_parse(json_object_get_string(v), mac) < 0)
		return BAD(err, "'%s' is not a MAC address", k);
	return 0;
}

static int get_array(json_object *o, const char *k, json_object **ret, struct kerror *err)
{
	json_object *v = get(o, k);

	*ret = NULL;
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return BAD(err, "'%s' is not an array", k);
	*ret = v;
	return 0;
}

static int get_u32_array(json_object *o, const char *k, uint32_t max_n, uint32_t **ret,
			 uint32_t *ret_n, struct kerror *err)
{
	json_object *a;
	uint32_t *v, n, i;
	int r;

	*ret = NULL;
	*ret_n = 0;
	if ((r = get_array(o, k, &a, err)) || !a)
		return r;
	if (json_object_array_length(a) > max_n)
		return BAD(err, "'%s' has too many entries", k);
	n = (uint32_t)json_object_array_length(a);
	v = calloc(n ? n : 1, sizeof(uint32_t));
	if (!v)
		return kerror_set(err, ENOMEM, NULL, "parse state", NULL);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		int64_t x;

		if (!json_object_is_type(e, json_type_int) || (x = json_object_get_int64(e)) < 0 ||
		    x > UINT32_MAX) {
			free(v);
			return BAD(err, "'%s' holds a non-integer or out-of-range value", k);
		}
		v[i] = (uint32_t)x;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int enum_of(const char *s, const char *(*name)(int), int n, int *ret)
{
	int i;

	for (i = 0; s && i < n; i++)
		if (!strcmp(s, name(i))) {
			*ret = i;
			return 0;
		}
	return -EINVAL;
}

static const char *match_name_i(int i)
{
	return match_name((enum nic_rule_match)i);
}

static const char *action_name_i(int i)
{
	return action_name((enum nic_rule_action)i);
}

static int rule_from_json(json_object *o, struct journal_rule *r, struct kerror *err)
{
	json_object *v;
	int m, a, rc;

	memset(r, 0, sizeof(*r));
	if (!json_object_is_type(o, json_type_object))
		return BAD(err, "rule is not an object");
	if ((rc = get_u32(o, "location", true, &r->rule.location, err)) ||
	    (rc = get_mac(o, "owner", r->owner, err)) ||
	    (rc = get_bool(o, "pending", &r->pending, err)))
		return rc;
	v = get(o, "match");
	if (!v || !json_object_is_type(v, json_type_string) ||
	    enum_of(json_object_get_string(v), match_name_i, 4, &m) < 0 ||
	    m == NIC_RULE_MATCH_OTHER)
		return BAD(err, "rule 'match' missing or unknown");
	r->rule.match = (enum nic_rule_match)m;
	if (m == NIC_RULE_MATCH_ETHER_DST) {
		if ((rc = get_mac(o, "mac", r->rule.mac, err)))
			return rc;
	} else {
		v = get(o, "ip");
		if (!v || !json_object_is_type(v, json_type_string) ||
		    inet_pton(m == NIC_RULE_MATCH_IP4_DST ? AF_INET : AF_INET6,
			      json_object_get_string(v),
			      m == NIC_RULE_MATCH_IP4_DST ? (void *)&r->rule.ip4 :
							    (void *)&r->rule.ip6) != 1)
			return BAD(err, "rule 'ip' missing or malformed");
	}
	v = get(o, "action");
	if (!v || !json_object_is_type(v, json_type_string) ||
	    enum_of(json_object_get_string(v), action_name_i, 4, &a) < 0 ||
	    (a != NIC_RULE_ACTION_QUEUE && a != NIC_RULE_ACTION_CONTEXT))
		return BAD(err, "rule 'action' missing or unknown");
	r->rule.action = (enum nic_rule_action)a;
	if (a == NIC_RULE_ACTION_QUEUE)
		return get_u32(o, "queue", true, &r->rule.queue, err);
	return get_u32(o, "context", true, &r->rule.rss_context, err);
}

static int nomem(struct kerror *err)
{
	return kerror_set(err, ENOMEM, NULL, "parse state", NULL);
}

/* What zcrxd changed on the NIC and must restore: the *_prior fields. */
static int priors_from_json(json_object *o, struct journal_nic *j, struct kerror *err)
{
	json_object *v;
	uint32_t x;
	int r;

	if ((v = get(o, "channels_prior"))) {
		if (!json_object_is_type(v, json_type_object))
			return BAD(err, "'channels_prior' is not an object");
		if ((r = get_u32(v, "rx", true, &j->channels_prior.rx, err)) ||
		    (r = get_u32(v, "combined", true, &j->channels_prior.combined, err)))
			return r;
		j->has_channels_prior = true;
	}
	if (get(o, "ntuple_prior")) {
		if ((r = get_bool(o, "ntuple_prior", &j->ntuple_prior, err)))
			return r;
		j->has_ntuple_prior = true;
	}
	if (get(o, "tcp_data_split_prior")) {
		if ((r = get_u32(o, "tcp_data_split_prior", true, &x, err)))
			return r;
		if (x > NIC_TDS_ENABLED)
			return BAD(err, "'tcp_data_split_prior' out of range");
		j->tds_prior = (uint8_t)x;
		j->has_tds_prior = true;
	}
	if (get(o, "hds_thresh_prior")) {
		if ((r = get_u32(o, "hds_thresh_prior", true, &j->hds_prior, err)))
			return r;
		j->has_hds_prior = true;
	}
	if (get(o, "rss0_prior")) {
		if ((r = get_u32_array(o, "rss0_prior", 1u << 16, &j->rss0_prior, &j->n_rss0_prior,
				       err)))
			return r;
		j->has_rss0_prior = true;
	}
	return 0;
}

static int leases_from_json(json_object *o, struct journal_nic *j, struct kerror *err)
{
	json_object *a;
	size_t i, n;
	uint32_t x;
	int r;

	if ((r = get_array(o, "leases", &a, err)))
		return r;
	n = a ? json_object_array_length(a) : 0;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		uint8_t owner[NIC_MAC_LEN];

		if (!json_object_is_type(e, json_type_object))
			return BAD(err, "lease is not an object");
		if ((r = get_u32(e, "queue", true, &x, err)) ||
		    (r = get_mac(e, "owner", owner, err)))
			return r;
		if (journal_find_lease(j, x) >= 0)
			return BAD(err, "queue %u leased twice", x);
		if (journal_add_lease(j, x, owner) < 0)
			return nomem(err);
	}
	return 0;
}

static int rules_from_json(json_object *o, struct journal_nic *j, struct kerror *err)
{
	json_object *a;
	size_t i, n;
	int r;

	if ((r = get_array(o, "rules", &a, err)))
		return r;
	n = a ? json_object_array_length(a) : 0;
	for (i = 0; i < n; i++) {
		struct journal_rule jr;

		if ((r = rule_from_json(json_object_array_get_idx(a, i), &jr, err)))
			return r;
		if (!jr.pending && journal_find_rule_exact(j, &jr.rule) >= 0)
			return BAD(err, "rule %u listed twice", jr.rule.location);
		if (journal_add_rule(j, &jr.rule, jr.owner, jr.pending) < 0)
			return nomem(err);
	}
	return 0;
}

static int contexts_from_json(json_object *o, struct journal_nic *j, struct kerror *err)
{
	json_object *a;
	size_t i, n;
	int r;

	if ((r = get_array(o, "contexts", &a, err)))
		return r;
	n = a ? json_object_array_length(a) : 0;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		uint8_t owner[NIC_MAC_LEN];
		uint32_t id = 0, *q = NULL, nq = 0;
		bool pending = false;

		if (!json_object_is_type(e, json_type_object))
			return BAD(err, "context is not an object");
		if ((r = get_u32(e, "id", true, &id, err)) ||
		    (r = get_mac(e, "owner", owner, err)) ||
		    (r = get_bool(e, "pending", &pending, err)) ||
		    (r = get_u32_array(e, "queues", ATTACH_QUEUES_MAX, &q, &nq, err)))
			return r;
		if ((!pending && !id) || !nq) {
			free(q);
			return BAD(err, "context %u invalid", id);
		}
		r = journal_add_ctx(j, id, owner, q, nq, pending);
		free(q);
		if (r < 0)
			return nomem(err);
	}
	return 0;
}

static int bindings_from_json(json_object *o, struct journal_nic *j, struct kerror *err)
{
	json_object *a;
	size_t i, n;
	int r;

	if ((r = get_array(o, "bindings", &a, err)))
		return r;
	n = a ? json_object_array_length(a) : 0;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		struct journal_binding b = { 0 };
		uint32_t tap = 0;

		if (!json_object_is_type(e, json_type_object))
			return BAD(err, "binding is not an object");
		if ((r = get_u32(e, "id", true, &b.id, err)) ||
		    (r = get_u32(e, "queue", true, &b.queue, err)) ||
		    (r = get_u32(e, "tap_ifindex", true, &tap, err)) ||
		    (r = get_u32(e, "fallback", false, &b.fallback, err)) ||
		    (r = get_mac(e, "owner", b.owner, err)) ||
		    (r = get_bool(e, "pending", &b.pending, err)))
			return r;
		b.tap_ifindex = (int)(tap > INT32_MAX ? 0 : tap);
		if (journal_add_binding(j, &b) < 0)
			return nomem(err);
	}
	return 0;
}

int store_journal_from_json(json_object *o, struct journal_nic *ret, struct kerror *err)
{
	struct journal_nic j;
	json_object *v;
	uint32_t x;
	int r;

	journal_nic_init(&j, NULL, 0);
	if (!o || !json_object_is_type(o, json_type_object))
		return BAD(err, "NIC journal is not an object");
	v = get(o, "name");
	if (!v || !json_object_is_type(v, json_type_string) ||
	    !json_object_get_string_len(v) || json_object_get_string_len(v) >= IF_NAMESIZE)
		return BAD(err, "NIC journal 'name' missing or invalid");
	snprintf(j.name, sizeof(j.name), "%s", json_object_get_string(v));
	if ((r = get_u32(o, "ifindex", false, &x, err)))
		goto fail;
	j.ifindex = (int)(x > INT32_MAX ? 0 : x);
	if ((r = get_bool(o, "released", &j.released, err)) ||
	    (r = priors_from_json(o, &j, err)) || (r = leases_from_json(o, &j, err)) ||
	    (r = rules_from_json(o, &j, err)) || (r = contexts_from_json(o, &j, err)) ||
	    (r = bindings_from_json(o, &j, err)))
		goto fail;
	*ret = j;
	return 0;
fail:
	journal_nic_clear(&j);
	return r;
}

int store_from_json(json_object *o, struct store *ret, struct kerror *err)
{
	struct store s;
	json_object *v, *a;
	size_t i, n;
	int r;

	store_init(&s);
	if (!o || !json_object_is_type(o, json_type_object))
		return BAD(err, "top level is not an object");
	v = get(o, "schema");
	if (!v || !json_object_is_type(v, json_type_int))
		return BAD(err, "'schema' missing");
	if (json_object_get_int64(v) != STORE_SCHEMA)
		return kerror_setf(err, EPROTONOSUPPORT, NULL, "parse state",
				   "schema %lld is not supported (this zcrxd reads schema %d)",
				   (long long)json_object_get_int64(v), STORE_SCHEMA);
	v = get(o, "next_seq");
	if (v) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1)
			return BAD(err, "'next_seq' invalid");
		s.next_seq = (uint64_t)json_object_get_int64(v);
	}
	if ((r = get_array(o, "attachments", &a, err)))
		return r;
	n = a ? json_object_array_length(a) : 0;
	if (n) {
		s.atts = calloc(n, sizeof(*s.atts));
		if (!s.atts)
			return kerror_set(err, ENOMEM, NULL, "parse state", NULL);
	}
	for (i = 0; i < n; i++) {
		struct attach_id id;

		if ((r = attach_id_from_json(json_object_array_get_idx(a, i), &id, err)) ||
		    (r = attach_id_validate(&id, err))) {
			kerror_context(err, NULL, "parse state");
			goto fail;
		}
		if (store_find_attach(&s, id.nic, id.mac) >= 0) {
			r = BAD(err, "attachment %s/%02x:... listed twice", id.nic, id.mac[0]);
			goto fail;
		}
		attach_init(&s.atts[s.n_atts]);
		s.atts[s.n_atts++].id = id;
		if (id.seq >= s.next_seq)
			s.next_seq = id.seq + 1;
	}
	if ((r = get_array(o, "nics", &a, err)))
		goto fail;
	n = a ? json_object_array_length(a) : 0;
	if (n) {
		s.nics = calloc(n, sizeof(*s.nics));
		if (!s.nics) {
			r = kerror_set(err, ENOMEM, NULL, "parse state", NULL);
			goto fail;
		}
	}
	for (i = 0; i < n; i++) {
		struct journal_nic j;

		if ((r = store_journal_from_json(json_object_array_get_idx(a, i), &j, err)))
			goto fail;
		if (store_journal(&s, j.name, 0, false)) {
			r = BAD(err, "NIC '%s' listed twice", j.name);
			journal_nic_clear(&j);
			goto fail;
		}
		s.nics[s.n_nics++] = j;
	}
	*ret = s;
	return 0;
fail:
	store_clear(&s);
	return r;
}

int store_parse(const char *text, size_t len, struct store *ret, struct kerror *err)
{
	struct json_tokener *tok;
	char *copy;
	json_object *o;
	int r;

	store_init(ret);
	if (len > STORE_MAX_BYTES)
		return BAD(err, "file is larger than %u bytes", STORE_MAX_BYTES);
	if (memchr(text, '\0', len))
		return BAD(err, "file contains a NUL byte");
	tok = json_tokener_new_ex(64);
	copy = malloc(len + 1);
	if (!tok || !copy) {
		json_tokener_free(tok);
		free(copy);
		return kerror_set(err, ENOMEM, NULL, "parse state", NULL);
	}
	/* the terminating NUL ends a top-level literal such as "null" */
	memcpy(copy, text, len);
	copy[len] = '\0';
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, copy, (int)len + 1);
	free(copy);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		r = BAD(err, "not valid JSON: %s",
			json_tokener_error_desc(json_tokener_get_error(tok) == json_tokener_continue ?
							json_tokener_error_parse_eof :
							json_tokener_get_error(tok)));
		json_object_put(o);
		json_tokener_free(tok);
		return r;
	}
	if (json_tokener_get_parse_end(tok) < len) {
		size_t k;

		for (k = json_tokener_get_parse_end(tok); k < len; k++)
			if (text[k] != ' ' && text[k] != '\n' && text[k] != '\t' && text[k] != '\r')
				break;
		if (k < len) {
			json_object_put(o);
			json_tokener_free(tok);
			return BAD(err, "trailing data after the JSON object");
		}
	}
	json_tokener_free(tok);
	r = store_from_json(o, ret, err);
	json_object_put(o);
	return r;
}

/* --- files ----------------------------------------------------------------------- */

static int path_of(char *buf, size_t size, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int store_load(const char *dir, struct store *ret, struct kerror *err)
{
	char path[4096], *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, r;

	store_init(ret);
	if (path_of(path, sizeof(path), dir, STORE_FILE) < 0)
		return kerror_set(err, ENAMETOOLONG, dir, "load state", NULL);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return kerror_setf(err, errno, path, "load state", "open: %s", strerror(errno));
	}
	for (;;) {
		ssize_t k;

		if (len == cap) {
			char *p;

			cap = cap ? cap * 2 : 65536;
			if (cap > STORE_MAX_BYTES + 1)
				cap = STORE_MAX_BYTES + 1;
			if (len == cap) {
				r = kerror_set(err, EFBIG, path, "load state", "file too large");
				goto out;
			}
			p = realloc(buf, cap);
			if (!p) {
				r = kerror_set(err, ENOMEM, path, "load state", NULL);
				goto out;
			}
			buf = p;
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = kerror_setf(err, errno, path, "load state", "read: %s", strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	r = store_parse(buf ? buf : "", len, ret, err);
	if (r < 0)
		snprintf(err->obj, sizeof(err->obj), "%.*s", (int)sizeof(err->obj) - 1, path);
out:
	close(fd);
	free(buf);
	return r;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Does the file at path hold exactly text[0..len)?  Any doubt is "no". */
static bool file_holds(const char *path, const char *text, size_t len)
{
	char buf[16384];
	struct stat st;
	size_t off = 0;
	bool same = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != len)
		goto out;
	while (off < len) {
		size_t want = len - off < sizeof(buf) ? len - off : sizeof(buf);
		ssize_t k = read(fd, buf, want);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || memcmp(buf, text + off, (size_t)k))
			goto out;
		off += (size_t)k;
	}
	same = true;
out:
	close(fd);
	return same;
}

static int save(const char *dir, const struct store *s, bool if_changed, struct kerror *err)
{
	char path[4096], tmp[4096], *text = NULL;
	size_t len = 0;
	int fd = -1, dfd = -1, r;

	if (path_of(path, sizeof(path), dir, STORE_FILE) < 0 ||
	    path_of(tmp, sizeof(tmp), dir, "." STORE_FILE ".tmp") < 0)
		return kerror_set(err, ENAMETOOLONG, dir, "save state", NULL);
	if (store_to_text(s, &text, &len) < 0)
		return kerror_set(err, ENOMEM, path, "save state", NULL);
	if (if_changed && file_holds(path, text, len)) {
		free(text);
		return 0;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = kerror_setf(err, errno, tmp, "save state", "open: %s", strerror(errno));
		goto out;
	}
	if ((r = write_all(fd, text, len)) < 0) {
		r = kerror_setf(err, -r, tmp, "save state", "write: %s", strerror(-r));
		goto out_unlink;
	}
	if (fsync(fd) < 0) {
		r = kerror_setf(err, errno, tmp, "save state", "fsync: %s", strerror(errno));
		goto out_unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = kerror_setf(err, errno, tmp, "save state", "close: %s", strerror(errno));
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = kerror_setf(err, errno, path, "save state", "rename: %s", strerror(errno));
		goto out_unlink;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		r = kerror_setf(err, errno, dir, "save state", "fsync directory: %s",
				strerror(errno));
		goto out;
	}
	r = 1;
	goto out;
out_unlink:
	(void)unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(text);
	return r;
}

int store_save(const char *dir, const struct store *s, struct kerror *err)
{
	int r = save(dir, s, false, err);

	return r < 0 ? r : 0;
}

int store_save_changed(const char *dir, const struct store *s, struct kerror *err)
{
	return save(dir, s, true, err);
}

int store_quarantine(const char *dir, struct kerror *err)
{
	char path[4096], bad[4096];

	if (path_of(path, sizeof(path), dir, STORE_FILE) < 0 ||
	    path_of(bad, sizeof(bad), dir, STORE_FILE ".corrupt") < 0)
		return kerror_set(err, ENAMETOOLONG, dir, "quarantine state", NULL);
	if (rename(path, bad) < 0)
		return kerror_setf(err, errno, path, "quarantine state", "rename: %s",
				   strerror(errno));
	return 0;
}
