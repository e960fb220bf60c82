// SPDX-License-Identifier: MIT
/*
 * reconcile-json — the listing (ListAttachments, zcrxctl list): the
 * attachments and, per NIC, its pool as the last plan saw it.
 *
 * Owns: reconcile_list_json, reconcile_list_nics_json.  Must not: change
 * anything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "jtext.h"
#include "reconcile-int.h"

static json_object *u32s(const uint32_t *v, size_t n)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int64(v[i]));
	return a;
}

/* Has domain an attachment on nic?  (A listing of one domain shows only
 * the pools of its NICs.) */
static bool domain_on(const struct reconcile *rc, const char *domain, const char *nic)
{
	const size_t *on;
	size_t i, n;

	on = store_atts_on(&rc->store, nic, &n);
	for (i = 0; i < n; i++)
		if (reconcile_matches(&rc->store.atts[on[i]], domain, NULL, NULL, NULL))
			return true;
	return false;
}

json_object *reconcile_list_nics_json(const struct reconcile *rc, const char *nic,
				      const char *domain)
{
	json_object *nics = json_object_new_array();
	size_t i;

	for (i = 0; i < rc->n_nics; i++) {
		const struct rc_nic *n = &rc->nics[i];
		const struct journal_nic *j = NULL;
		json_object *x, *notes;
		size_t k;

		if ((nic && strcmp(n->name, nic)) || (domain && !domain_on(rc, domain, n->name)))
			continue;
		for (k = 0; k < rc->store.n_nics; k++)
			if (!strcmp(rc->store.nics[k].name, n->name))
				j = &rc->store.nics[k];
		if (!n->n_pool && !j)
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "nic", json_object_new_string(n->name));
		json_object_object_add(x, "released", json_object_new_boolean(j && j->released));
		json_object_object_add(x, "channels", json_object_new_int64(n->channels));
		json_object_object_add(x, "pool", u32s(n->pool, n->n_pool));
		json_object_object_add(x, "shared", u32s(n->shared, n->n_shared));
		json_object_object_add(x, "leased",
				       json_object_new_int64(j ? (int64_t)j->n_leases : 0));
		notes = json_object_new_array();
		for (k = 0; k < n->n_notes; k++)
			json_object_array_add(notes, attach_reason_to_json(&n->notes[k]));
		json_object_object_add(x, "notes", notes);
		json_object_array_add(nics, x);
	}
	return nics;
}

json_object *reconcile_list_json(const struct reconcile *rc, const char *nic, const char *domain,
				 const char *(*domain_state)(void *ud, const struct attach *a),
				 void *ud, json_object *refused)
{
	json_object *nics = reconcile_list_nics_json(rc, nic, domain);
	struct jtext t = { 0 };
	bool first = true;
	size_t i;

	/* as text: thousands of attachments as a json-c tree cost a hash
	 * table per object (ListAttachments with 4,096 took 0.5 s), and the
	 * reply is sent from this text (jtext_wrap) */
	jtext_lit(&t, "{\"attachments\":[");
	for (i = 0; i < rc->store.n_atts; i++) {
		const struct attach *a = &rc->store.atts[i];

		if ((nic && strcmp(a->id.nic, nic)) ||
		    !reconcile_matches(a, domain, NULL, NULL, NULL))
			continue;
		if (!first)
			jtext_lit(&t, ",");
		first = false;
		attach_to_jtext(a, &t, !domain_state);
		if (domain_state) {
			const char *st = domain_state(ud, a);

			jtext_lit(&t, ",\"domain_state\":");
			if (st)
				jtext_str(&t, st);
			else
				jtext_lit(&t, "null");
			jtext_lit(&t, "}");
		}
	}
	jtext_lit(&t, "],\"nics\":");
	jtext_json(&t, nics);
	jtext_lit(&t, ",\"refused\":");
	jtext_json(&t, refused);
	jtext_lit(&t, "}");
	json_object_put(nics);
	json_object_put(refused);
	return jtext_to_json(&t);
}
