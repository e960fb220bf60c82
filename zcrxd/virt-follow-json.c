// SPDX-License-Identifier: MIT
/*
 * virt-follow-json — what virt-follow knows, as Varlink parameters: the
 * domains (ListDomains), a request's reply, the status and statistics
 * (virt-follow.h).  Must not: change anything.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "virt-follow-int.h"

/* --- JSON ------------------------------------------------------------------------------ */

/* A DomainVnic: error set = not attached ("refused"), else state. */
static json_object *vnic_json(const struct virt_vnic *v, const char *error, const char *state)
{
	json_object *o = json_object_new_object();
	char m[18];

	json_object_object_add(o, "mac", json_object_new_string(nic_mac_format(v->mac, m)));
	json_object_object_add(o, "nic", json_object_new_string(v->nic));
	json_object_object_add(o, "tap", v->tap[0] ? json_object_new_string(v->tap) : NULL);
	json_object_object_add(o, "queues", json_object_new_int((int)v->queues));
	json_object_object_add(o, "numa_node", json_object_new_int(v->numa_node));
	json_object_object_add(o, "state",
			       json_object_new_string(error && *error ? "refused" : state));
	if (error && *error)
		json_object_object_add(o, "error", json_object_new_string(error));
	return o;
}

/* SkippedVnic[] */
static json_object *skips_json(const struct virt_skip *v, size_t n)
{
	json_object *a = json_object_new_array();
	size_t k;

	for (k = 0; k < n; k++) {
		json_object *o = json_object_new_object();
		char m[18];

		json_object_object_add(o, "mac", v[k].has_mac ?
							 json_object_new_string(nic_mac_format(v[k].mac, m)) :
							 NULL);
		json_object_object_add(o, "refused", json_object_new_boolean(v[k].refused));
		json_object_object_add(o, "reason", json_object_new_string(v[k].why));
		json_object_array_add(a, o);
	}
	return a;
}

json_object *virt_reply_to_json(const struct virt_reply *r)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	size_t k;

	json_object_object_add(o, "domain", json_object_new_string(r->name));
	json_object_object_add(o, "uuid", r->uuid[0] ? json_object_new_string(r->uuid) : NULL);
	json_object_object_add(o, "domain_state",
			       r->state ? json_object_new_string(r->state) : NULL);
	for (k = 0; k < r->sel.n; k++)
		json_object_array_add(a, vnic_json(&r->sel.vnics[k],
						   r->failed_msg ? r->failed_msg[k] : NULL,
						   r->dry_run ? "selected" : "attached"));
	json_object_object_add(o, "vnics", a);
	json_object_object_add(o, "skipped", skips_json(r->sel.skips, r->sel.n_skips));
	return o;
}

const char *virt_follow_domain_state(struct virt_follow *f, const char *uuid)
{
	struct vf_dom *d = virt_follow_lookup(f, uuid);

	return d ? virt_dom_state_name(d->sm.state) : NULL;
}

static bool dom_matches(const struct vf_dom *d, const char *domain)
{
	return !domain || !strcmp(d->name, domain) || !strcasecmp(d->uuid_str, domain);
}

int virt_follow_domains_json(struct virt_follow *f, const char *domain, json_object **ret)
{
	json_object *arr = json_object_new_array();
	struct vf_dom *d;
	size_t k;

	for (d = f->first; d; d = d->next) {
		json_object *o, *v;

		if (!dom_matches(d, domain))
			continue;
		o = json_object_new_object();
		v = json_object_new_array();
		json_object_object_add(o, "name", json_object_new_string(d->name));
		json_object_object_add(o, "uuid", json_object_new_string(d->uuid_str));
		json_object_object_add(o, "state",
				       json_object_new_string(virt_dom_state_name(d->sm.state)));
		json_object_object_add(o, "last_decision", json_object_new_string(d->reason));
		json_object_object_add(o, "metadata",
				       json_object_new_string(d->xml ? domxml_meta_state_name(
									       d->xml->meta.state) :
								       "unknown"));
		if (d->xml && d->xml->meta.state == DOMXML_META_INVALID)
			json_object_object_add(o, "metadata_error",
					       json_object_new_string(d->xml->meta.error));
		for (k = 0; k < d->n_held; k++)
			json_object_array_add(v, vnic_json(&d->held[k].v, d->held[k].error,
							   "attached"));
		json_object_object_add(o, "vnics", v);
		json_object_object_add(o, "skipped", skips_json(d->skips, d->n_skips));
		json_object_array_add(arr, o);
	}
	if (domain && !json_object_array_length(arr)) {
		json_object_put(arr);
		return -ENOENT;
	}
	*ret = arr;
	return 0;
}

static void add_refused(json_object *arr, const struct vf_dom *d, const uint8_t *mac,
			const char *nic, const char *reason)
{
	json_object *o = json_object_new_object();
	char m[18];

	json_object_object_add(o, "domain", json_object_new_string(d->name));
	json_object_object_add(o, "uuid", json_object_new_string(d->uuid_str));
	json_object_object_add(o, "domain_state",
			       json_object_new_string(virt_dom_state_name(d->sm.state)));
	json_object_object_add(o, "mac", mac ? json_object_new_string(nic_mac_format(mac, m)) :
					       NULL);
	json_object_object_add(o, "nic", nic && *nic ? json_object_new_string(nic) : NULL);
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_array_add(arr, o);
}

json_object *virt_follow_refused_json(struct virt_follow *f, const char *nic, const char *domain)
{
	json_object *arr = json_object_new_array();
	struct vf_dom *d;
	size_t k;

	for (d = f ? f->first : NULL; d; d = d->next) {
		if (!d->xml || !virt_dom_state_active(d->sm.state) || !dom_matches(d, domain))
			continue;
		for (k = 0; k < d->n_held; k++)
			if (d->held[k].error[0] && (!nic || !strcmp(nic, d->held[k].v.nic)))
				add_refused(arr, d, d->held[k].v.mac, d->held[k].v.nic,
					    d->held[k].error);
		for (k = 0; k < d->n_skips; k++) {
			const struct domxml_iface *i =
				d->skips[k].has_mac ? domxml_find_iface(d->xml, d->skips[k].mac) :
						      NULL;
			const char *dev = i ? i->source_dev : NULL;

			if (d->skips[k].refused && (!nic || (dev && !strcmp(nic, dev))))
				add_refused(arr, d, d->skips[k].has_mac ? d->skips[k].mac : NULL,
					    dev, d->skips[k].why);
		}
	}
	return arr;
}

json_object *virt_follow_status_json(struct virt_follow *f)
{
	struct virt_status st;
	json_object *o;

	if (!f || !f->virt)
		return NULL;
	virt_get_status(f->virt, &st);
	o = json_object_new_object();
	json_object_object_add(o, "uri", json_object_new_string(st.uri));
	json_object_object_add(o, "state", json_object_new_string(virt_conn_state_name(st.state)));
	json_object_object_add(o, "connects", json_object_new_int64((int64_t)st.connects));
	json_object_object_add(o, "failures", json_object_new_int64((int64_t)st.failures));
	json_object_object_add(o, "events", json_object_new_int64((int64_t)st.events));
	json_object_object_add(o, "queued", json_object_new_int64((int64_t)st.queued));
	json_object_object_add(o, "reads", json_object_new_int64((int64_t)st.reads));
	json_object_object_add(o, "direct", json_object_new_int64((int64_t)st.direct));
	json_object_object_add(o, "hooked", json_object_new_int64((int64_t)st.hooked));
	json_object_object_add(o, "domains", json_object_new_int64((int64_t)f->n_doms));
	json_object_object_add(o, "last_error",
			       st.last_error[0] ? json_object_new_string(st.last_error) : NULL);
	{
		struct virt_follow_stats fs;
		json_object *l = json_object_new_object();

		virt_follow_get_stats(f, &fs);
		json_object_object_add(o, "handled", json_object_new_int64((int64_t)fs.events));
		json_object_object_add(o, "last_handled_usec",
				       json_object_new_int64((int64_t)fs.last_usec));
		json_object_object_add(l, "samples", json_object_new_int64((int64_t)fs.lat_n));
		json_object_object_add(l, "p50_usec", json_object_new_int64((int64_t)fs.lat_p50_usec));
		json_object_object_add(l, "p99_usec", json_object_new_int64((int64_t)fs.lat_p99_usec));
		json_object_object_add(l, "max_usec", json_object_new_int64((int64_t)fs.lat_max_usec));
		json_object_object_add(o, "attach_latency", l);
	}
	return o;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void virt_follow_get_stats(struct virt_follow *f, struct virt_follow_stats *ret)
{
	size_t n = f->lat_total < VIRT_LAT_SAMPLES ? f->lat_total : VIRT_LAT_SAMPLES;
	uint64_t *s;

	/* the percentiles of the samples as they were at the last look, when
	 * none came since: a status poll sorts them only after a change */
	if (n && f->lat_sorted_total != f->lat_total) {
		s = malloc(n * sizeof(*s));
		if (s) {
			memcpy(s, f->lat, n * sizeof(*s));
			qsort(s, n, sizeof(*s), cmp_u64);
			f->st.lat_p50_usec = s[n / 2];
			f->st.lat_p99_usec = s[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
			f->st.lat_max_usec = s[n - 1];
			f->lat_sorted_total = f->lat_total;
			free(s);
		}
	}
	*ret = f->st;
	ret->lat_n = f->lat_total;
	if (f->lat_sorted_total != f->lat_total) /* out of memory: none rather than stale */
		ret->lat_p50_usec = ret->lat_p99_usec = ret->lat_max_usec = 0;
}
