// SPDX-License-Identifier: MIT
/*
 * store-read — state.json's text into a store: every field checked, anything
 * malformed refused with a message naming it, never a crash on garbage.
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
