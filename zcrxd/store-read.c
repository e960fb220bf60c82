// SPDX-License-Identifier: MIT
/*
 * store-read — state.json's text into a store, and a log record applied to
 * one: every field checked, anything malformed refused with a message
 * naming it, never a crash on garbage.
 * Owns: the schema, read.  Must not: do I/O.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"

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
	return store_match_name((enum nic_rule_match)i);
}

static const char *action_name_i(int i)
{
	return store_action_name((enum nic_rule_action)i);
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
	    enum_of(json_object_get_string(v), match_name_i, 6, &m) < 0 ||
	    m == NIC_RULE_MATCH_OTHER)
		return BAD(err, "rule 'match' missing or unknown");
	r->rule.match = (enum nic_rule_match)m;
	if (m == NIC_RULE_MATCH_ETHER_DST) {
		if ((rc = get_mac(o, "mac", r->rule.mac, err)))
			return rc;
	} else if (nic_rule_match_is_flow(m)) {
		v = get(o, "flow");
		if (!v || !json_object_is_type(v, json_type_string) ||
		    nic_flow_parse(json_object_get_string(v), &r->rule.flow) < 0 ||
		    r->rule.flow.family != (m == NIC_RULE_MATCH_FLOW4 ? AF_INET : AF_INET6))
			return BAD(err, "rule 'flow' missing or malformed");
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
	if (json_object_get_int64(v) != 1 && json_object_get_int64(v) != STORE_SCHEMA)
		return kerror_setf(err, EPROTONOSUPPORT, NULL, "parse state",
				   "schema %lld is not supported (this zcrxd reads schemas 1 to %d)",
				   (long long)json_object_get_int64(v), STORE_SCHEMA);
	s.schema = (int)json_object_get_int64(v);
	v = get(o, "generation");
	if (v) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
			return BAD(err, "'generation' invalid");
		s.generation = (uint64_t)json_object_get_int64(v);
	}
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
		s.cap_atts = n;
	}
	for (i = 0; i < n; i++) {
		struct attach_id id;

		r = attach_id_from_json(json_object_array_get_idx(a, i), &id, err);
		if (!r && (r = attach_id_validate(&id, err)))
			attach_id_clear(&id);
		if (r) {
			kerror_context(err, NULL, "parse state");
			goto fail;
		}
		if (store_find_attach(&s, id.nic, id.mac) >= 0) {
			r = BAD(err, "attachment %s/%02x:... listed twice", id.nic, id.mac[0]);
			attach_id_clear(&id);
			goto fail;
		}
		if (store_index_add(&s, id.nic, s.n_atts) < 0) {
			attach_id_clear(&id);
			r = kerror_set(err, ENOMEM, NULL, "parse state", NULL);
			goto fail;
		}
		attach_init(&s.atts[s.n_atts]);
		s.atts[s.n_atts++].id = id; /* moved: the store owns its domain */
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
	store_rekey(&s);
	*ret = s;
	return 0;
fail:
	store_clear(&s);
	return r;
}

/* text[0..len) as one JSON object (*ret, a reference of the caller's). */
static int parse_text(const char *text, size_t len, json_object **ret, struct kerror *err)
{
	struct json_tokener *tok;
	char *copy;
	json_object *o;
	int r;

	*ret = NULL;
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
	*ret = o;
	return 0;
}

int store_parse(const char *text, size_t len, struct store *ret, struct kerror *err)
{
	json_object *o;
	int r;

	store_init(ret);
	if ((r = parse_text(text, len, &o, err)) < 0)
		return r;
	r = store_from_json(o, ret, err);
	json_object_put(o);
	return r;
}

/* --- log records --------------------------------------------------------------------- */

/* Drop every entry of j that mac owns. */
static void drop_owned(struct journal_nic *j, const uint8_t *mac)
{
	size_t i;

	for (i = j->n_leases; i-- > 0;)
		if (!memcmp(j->leases[i].owner, mac, NIC_MAC_LEN))
			journal_del_lease(j, i);
	for (i = j->n_rules; i-- > 0;)
		if (!memcmp(j->rules[i].owner, mac, NIC_MAC_LEN))
			journal_del_rule(j, i);
	for (i = j->n_ctxs; i-- > 0;)
		if (!memcmp(j->ctxs[i].owner, mac, NIC_MAC_LEN))
			journal_del_ctx(j, i);
	for (i = j->n_bindings; i-- > 0;)
		if (!memcmp(j->bindings[i].owner, mac, NIC_MAC_LEN))
			journal_del_binding(j, i);
}

/* Add src's entries (all owned by mac) to j. */
static int add_owned(struct journal_nic *j, const struct journal_nic *src, const uint8_t *mac,
		     struct kerror *err)
{
	size_t i;
	int r = 0;

	for (i = 0; i < src->n_leases && !r; i++)
		r = memcmp(src->leases[i].owner, mac, NIC_MAC_LEN) ?
			    -EINVAL :
			    journal_add_lease(j, src->leases[i].queue, mac);
	for (i = 0; i < src->n_rules && !r; i++)
		r = memcmp(src->rules[i].owner, mac, NIC_MAC_LEN) ?
			    -EINVAL :
			    journal_add_rule(j, &src->rules[i].rule, mac, src->rules[i].pending);
	for (i = 0; i < src->n_ctxs && !r; i++)
		r = memcmp(src->ctxs[i].owner, mac, NIC_MAC_LEN) ?
			    -EINVAL :
			    journal_add_ctx(j, src->ctxs[i].id, mac, src->ctxs[i].queues,
					    src->ctxs[i].n_queues, src->ctxs[i].pending);
	for (i = 0; i < src->n_bindings && !r; i++)
		r = memcmp(src->bindings[i].owner, mac, NIC_MAC_LEN) ?
			    -EINVAL :
			    journal_add_binding(j, &src->bindings[i]);
	if (r == -EINVAL)
		return BAD(err, "owner record for %s lists an entry of another owner", j->name);
	return r < 0 ? nomem(err) : 0;
}

/* j's settings (ifindex, released, priors) from src. */
static int take_settings(struct journal_nic *j, const struct journal_nic *src, struct kerror *err)
{
	j->ifindex = src->ifindex;
	j->released = src->released;
	j->has_channels_prior = src->has_channels_prior;
	j->channels_prior = src->channels_prior;
	j->has_ntuple_prior = src->has_ntuple_prior;
	j->ntuple_prior = src->ntuple_prior;
	j->has_tds_prior = src->has_tds_prior;
	j->tds_prior = src->tds_prior;
	j->has_hds_prior = src->has_hds_prior;
	j->hds_prior = src->hds_prior;
	if (!src->has_rss0_prior) {
		journal_clear_rss0_prior(j);
		return 0;
	}
	if (journal_set_rss0_prior(j, src->rss0_prior, src->n_rss0_prior) < 0)
		return nomem(err);
	return 0;
}

static void drop_journal(struct store *s, const char *nic)
{
	size_t i;

	for (i = 0; i < s->n_nics; i++)
		if (!strcmp(s->nics[i].name, nic)) {
			journal_nic_clear(&s->nics[i]);
			memmove(&s->nics[i], &s->nics[i + 1], (s->n_nics - i - 1) * sizeof(*s->nics));
			s->n_nics--;
			return;
		}
}

static int get_nic_name(json_object *o, const char *k, char *name, struct kerror *err)
{
	json_object *v = get(o, k);

	if (!v || !json_object_is_type(v, json_type_string) || !json_object_get_string_len(v) ||
	    json_object_get_string_len(v) >= IF_NAMESIZE)
		return BAD(err, "'%s' missing or invalid", k);
	snprintf(name, IF_NAMESIZE, "%s", json_object_get_string(v));
	return 0;
}

static int apply_owner(struct store *s, json_object *o, struct kerror *err)
{
	char nic[IF_NAMESIZE];
	uint8_t mac[NIC_MAC_LEN];
	struct journal_nic *j, part;
	json_object *v;
	ssize_t i;
	int r;

	if ((r = get_nic_name(o, "nic", nic, err)) || (r = get_mac(o, "mac", mac, err)))
		return r;
	v = get(o, "next_seq");
	if (v) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1)
			return BAD(err, "'next_seq' invalid");
		if ((uint64_t)json_object_get_int64(v) > s->next_seq)
			s->next_seq = (uint64_t)json_object_get_int64(v);
	}
	i = store_find_attach(s, nic, mac);
	v = get(o, "attachment");
	if (v) {
		struct attach_id id;
		size_t k;
		uint64_t next;

		if ((r = attach_id_from_json(v, &id, err)))
			return r;
		r = attach_id_validate(&id, err);
		if (!r && (strcmp(id.nic, nic) || memcmp(id.mac, mac, NIC_MAC_LEN)))
			r = BAD(err, "owner record's attachment is another vNIC");
		next = s->next_seq;
		if (!r && store_put_attach(s, &id, &k) < 0)
			r = nomem(err);
		attach_id_clear(&id);
		if (r)
			return r;
		/* the record's seq and next_seq, not a new one */
		s->atts[k].id.seq = id.seq;
		s->next_seq = id.seq >= next ? id.seq + 1 : next;
	} else if (i >= 0) {
		store_del_attach(s, (size_t)i);
	}
	j = store_journal(s, nic, 0, false);
	v = get(o, "journal");
	if (!v) {
		if (j)
			drop_owned(j, mac);
		return 0;
	}
	if ((r = store_journal_from_json(v, &part, err)))
		return r;
	if (strcmp(part.name, nic)) {
		journal_nic_clear(&part);
		return BAD(err, "owner record's journal is another NIC's");
	}
	if (!j)
		j = store_journal(s, nic, part.ifindex, true);
	if (!j) {
		journal_nic_clear(&part);
		return nomem(err);
	}
	drop_owned(j, mac);
	r = add_owned(j, &part, mac, err);
	journal_nic_clear(&part);
	return r;
}

static int apply_nic(struct store *s, json_object *o, bool settings_only, struct kerror *err)
{
	struct journal_nic part, *j;
	int r;

	if ((r = store_journal_from_json(get(o, "journal"), &part, err)))
		return r;
	if (settings_only) {
		j = store_journal(s, part.name, 0, true);
		r = j ? take_settings(j, &part, err) : nomem(err);
		journal_nic_clear(&part);
		return r;
	}
	drop_journal(s, part.name);
	j = store_journal(s, part.name, 0, true);
	if (!j) {
		journal_nic_clear(&part);
		return nomem(err);
	}
	journal_nic_clear(j);
	*j = part;
	return 0;
}

int store_rec_apply(struct store *s, const char *json, size_t len, uint64_t *generation,
		    struct kerror *err)
{
	json_object *o, *v;
	const char *t;
	int r;

	if ((r = parse_text(json, len, &o, err)) < 0)
		return r;
	if (!json_object_is_type(o, json_type_object) || !(v = get(o, "t")) ||
	    !json_object_is_type(v, json_type_string)) {
		r = BAD(err, "log record without a type");
		goto out;
	}
	t = json_object_get_string(v);
	if (!strcmp(t, "log")) {
		v = get(o, "generation");
		if (!v || !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
			r = BAD(err, "log record without a generation");
		else
			*generation = (uint64_t)json_object_get_int64(v);
	} else if (!strcmp(t, "owner")) {
		r = apply_owner(s, o, err);
	} else if (!strcmp(t, "nic") || !strcmp(t, "nic-settings")) {
		r = apply_nic(s, o, !strcmp(t, "nic-settings"), err);
	} else if (!strcmp(t, "drop")) {
		char nic[IF_NAMESIZE];

		if (!(r = get_nic_name(o, "nic", nic, err)))
			drop_journal(s, nic);
	} else {
		r = BAD(err, "unknown log record type '%s'", t);
	}
out:
	json_object_put(o);
	return r;
}
