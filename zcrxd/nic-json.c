// SPDX-License-Identifier: MIT
/*
 * nic-json — struct nic as JSON (nic-json.h).  Must not do I/O.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "nic-json.h"

#define ADD(o, k, v) json_object_object_add((o), (k), (v))

static json_object *jint(int64_t v)
{
	return json_object_new_int64(v);
}

/* -1 = unknown -> null */
static json_object *jopt(int64_t v)
{
	return v < 0 ? NULL : json_object_new_int64(v);
}

static json_object *jstr_or_null(const char *s)
{
	return s && s[0] ? json_object_new_string(s) : NULL;
}

json_object *nic_json_cap(const struct nic_cap *cap)
{
	json_object *o = json_object_new_object();

	ADD(o, "state", json_object_new_string(nic_cap_state_name(cap->state)));
	ADD(o, "errno", cap->err ? jint(cap->err) : NULL);
	ADD(o, "error", cap->err ? json_object_new_string(kerror_errno_name(cap->err)) : NULL);
	ADD(o, "message", json_object_new_string(cap->msg));
	return o;
}

/* {"ether-queue": cap, "ether-context": cap, ...}: what each rule kind
 * taught, with the kernel's text. */
static json_object *rule_kinds(const struct nic_caps *c)
{
	json_object *o = json_object_new_object();
	char name[32];
	unsigned f, a;

	for (f = 0; f < NIC_RULE_FLOWS; f++)
		for (a = 0; a < NIC_RULE_ACTS; a++) {
			snprintf(name, sizeof(name), "%s-%s", nic_rule_flow_name(f),
				 nic_rule_act_name(a));
			ADD(o, name, nic_json_cap(&c->rule_kinds[f][a]));
		}
	return o;
}

json_object *nic_json_caps(const struct nic_caps *c)
{
	static const unsigned l2[] = { 0 }, ip[] = { 1, 2 }, flow[] = { 3, 4 };
	json_object *o = json_object_new_object();
	struct nic_cap fam;

	ADD(o, "channels", nic_json_cap(&c->channels));
	ADD(o, "channels_set", nic_json_cap(&c->channels_set));
	ADD(o, "rings", nic_json_cap(&c->rings));
	ADD(o, "header_split", nic_json_cap(&c->header_split));
	ADD(o, "hds_thresh", nic_json_cap(&c->hds_thresh));
	ADD(o, "rss", nic_json_cap(&c->rss));
	ADD(o, "rss_set", nic_json_cap(&c->rss_set));
	ADD(o, "rss_contexts", nic_json_cap(&c->rss_contexts));
	ADD(o, "ntuple", nic_json_cap(&c->ntuple));
	ADD(o, "rules", nic_json_cap(&c->rules));
	nic_rule_family_cap(c, l2, 1, &fam);
	ADD(o, "l2_rules", nic_json_cap(&fam));
	nic_rule_family_cap(c, ip, 2, &fam);
	ADD(o, "ip_rules", nic_json_cap(&fam));
	nic_rule_family_cap(c, flow, 2, &fam);
	ADD(o, "flow_rules", nic_json_cap(&fam));
	ADD(o, "rule_kinds", rule_kinds(c));
	ADD(o, "queue_info", nic_json_cap(&c->queue_info));
	ADD(o, "qstats", nic_json_cap(&c->qstats));
	ADD(o, "binder", nic_json_cap(&c->binder));
	return o;
}

const char *nic_macvlan_mode_name(uint32_t mode)
{
	switch (mode) {
	case 1: return "private";
	case 2: return "vepa";
	case 4: return "bridge";
	case 8: return "passthru";
	case 16: return "source";
	}
	return NULL;
}

const char *nic_hfunc_name(uint32_t hfunc)
{
	switch (hfunc) {
	case 0: return NULL;
	case 1: return "toeplitz";
	case 2: return "xor";
	case 4: return "crc32";
	}
	return "other";
}

json_object *nic_json_providers(unsigned p)
{
	json_object *a = json_object_new_array();

	if (p & NIC_PROVIDER_DMABUF)
		json_object_array_add(a, json_object_new_string("dmabuf"));
	if (p & NIC_PROVIDER_IO_URING)
		json_object_array_add(a, json_object_new_string("io_uring"));
	if (p & NIC_PROVIDER_XSK)
		json_object_array_add(a, json_object_new_string("xsk"));
	if (p & NIC_PROVIDER_LEASE)
		json_object_array_add(a, json_object_new_string("lease"));
	return a;
}

json_object *nic_json_channels(const struct nic_channels *ch)
{
	json_object *o = json_object_new_object();

	ADD(o, "rx", jint(ch->rx));
	ADD(o, "tx", jint(ch->tx));
	ADD(o, "other", jint(ch->other));
	ADD(o, "combined", jint(ch->combined));
	ADD(o, "rx_max", jint(ch->rx_max));
	ADD(o, "tx_max", jint(ch->tx_max));
	ADD(o, "other_max", jint(ch->other_max));
	ADD(o, "combined_max", jint(ch->combined_max));
	return o;
}

json_object *nic_json_rings(const struct nic_rings *r)
{
	json_object *o;

	if (!r->valid)
		return NULL;
	o = json_object_new_object();
	ADD(o, "rx", jint(r->rx));
	ADD(o, "rx_max", jint(r->rx_max));
	ADD(o, "tx", jint(r->tx));
	ADD(o, "tx_max", jint(r->tx_max));
	ADD(o, "tcp_data_split",
	    !r->has_tcp_data_split ? NULL
	    : json_object_new_string(r->tcp_data_split == NIC_TDS_ENABLED    ? "on"
				     : r->tcp_data_split == NIC_TDS_DISABLED ? "off"
									     : "unknown"));
	ADD(o, "hds_thresh", r->has_hds_thresh ? jint(r->hds_thresh) : NULL);
	ADD(o, "hds_thresh_max", r->has_hds_thresh ? jint(r->hds_thresh_max) : NULL);
	return o;
}

json_object *nic_json_rss(const struct nic_rss *rss)
{
	json_object *o = json_object_new_object(), *t = json_object_new_array();
	char *hex;
	uint32_t i;

	ADD(o, "context", jint(rss->id));
	ADD(o, "hfunc", jstr_or_null(nic_hfunc_name(rss->hfunc)));
	ADD(o, "symmetric", json_object_new_string(rss->input_xfrm & 1u   ? "xor"
						   : rss->input_xfrm & 2u ? "or-xor"
									  : "none"));
	ADD(o, "table_size", jint(rss->indir_size));
	for (i = 0; i < rss->indir_size; i++)
		json_object_array_add(t, jint(rss->indir[i]));
	ADD(o, "table", t);
	ADD(o, "key_size", jint(rss->key_size));
	if (rss->key && rss->key_size) {
		hex = malloc(rss->key_size * 2 + 1);
		if (hex) {
			*hex_put(hex, rss->key, rss->key_size) = '\0';
			ADD(o, "key", json_object_new_string(hex));
			free(hex);
		}
	} else {
		ADD(o, "key", NULL);
	}
	return o;
}

json_object *nic_json_rule(const struct nic_rule *r)
{
	json_object *o = json_object_new_object();
	char buf[INET6_ADDRSTRLEN], fbuf[160];

	ADD(o, "location", jint(r->location));
	switch (r->match) {
	case NIC_RULE_MATCH_ETHER_DST:
		ADD(o, "match", json_object_new_string("ether_dst"));
		ADD(o, "mac", json_object_new_string(nic_mac_format(r->mac, buf)));
		break;
	case NIC_RULE_MATCH_IP4_DST:
		ADD(o, "match", json_object_new_string("ip4_dst"));
		ADD(o, "ip", json_object_new_string(inet_ntop(AF_INET, &r->ip4, buf, sizeof(buf))));
		break;
	case NIC_RULE_MATCH_IP6_DST:
		ADD(o, "match", json_object_new_string("ip6_dst"));
		ADD(o, "ip", json_object_new_string(inet_ntop(AF_INET6, &r->ip6, buf, sizeof(buf))));
		break;
	case NIC_RULE_MATCH_FLOW4:
	case NIC_RULE_MATCH_FLOW6:
		ADD(o, "match", json_object_new_string("flow"));
		ADD(o, "flow", json_object_new_string(nic_flow_format(&r->flow, false, fbuf,
								      sizeof(fbuf))));
		break;
	case NIC_RULE_MATCH_OTHER:
		ADD(o, "match", json_object_new_string("other"));
		break;
	}
	ADD(o, "flow_type", jint(r->flow_type));
	switch (r->action) {
	case NIC_RULE_ACTION_QUEUE:
		ADD(o, "action", json_object_new_string("queue"));
		ADD(o, "queue", jint(r->queue));
		break;
	case NIC_RULE_ACTION_CONTEXT:
		ADD(o, "action", json_object_new_string("context"));
		ADD(o, "context", jint(r->rss_context));
		break;
	case NIC_RULE_ACTION_DROP:
		ADD(o, "action", json_object_new_string("drop"));
		break;
	case NIC_RULE_ACTION_OTHER:
		ADD(o, "action", json_object_new_string("other"));
		break;
	}
	return o;
}

static unsigned bound_queues(const struct nic *nic)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < nic->n_queues; i++)
		n += nic->queues[i].providers != 0;
	return n;
}

json_object *nic_json_summary(const struct nic *nic)
{
	json_object *o = json_object_new_object();
	char mac[18];

	ADD(o, "name", json_object_new_string(nic->link.name));
	ADD(o, "ifindex", jint(nic->link.ifindex));
	ADD(o, "kind", jstr_or_null(nic->link.kind));
	ADD(o, "driver", jstr_or_null(nic->driver));
	ADD(o, "up", json_object_new_boolean(nic->link.up));
	ADD(o, "mac", json_object_new_string(nic_mac_format(nic->link.mac, mac)));
	ADD(o, "rx_queues", jint((int64_t)nic->n_queues));
	ADD(o, "channels", nic->caps.channels.state == NIC_CAP_YES ? nic_json_channels(&nic->ch)
								    : NULL);
	ADD(o, "generation", jint((int64_t)nic->generation));
	return o;
}

json_object *nic_json_nic(const struct nic *nic, const char *lower_name)
{
	json_object *o = nic_json_summary(nic), *a;
	size_t i;

	ADD(o, "bus_info", jstr_or_null(nic->bus_info));
	ADD(o, "numa_node", jopt(nic->numa_node));
	ADD(o, "mtu", jint(nic->link.mtu));
	ADD(o, "xdp", json_object_new_boolean(nic->has_xdp));
	if (nic->link.link_ifindex > 0 &&
	    (!strcmp(nic->link.kind, "macvtap") || !strcmp(nic->link.kind, "macvlan"))) {
		json_object *l = json_object_new_object();

		ADD(l, "ifindex", jint(nic->link.link_ifindex));
		ADD(l, "name", jstr_or_null(lower_name));
		ADD(l, "netnsid", jopt(nic->link.link_netnsid));
		ADD(l, "mode", jstr_or_null(nic_macvlan_mode_name(nic->link.macvlan_mode)));
		ADD(o, "lower", l);
	} else {
		ADD(o, "lower", NULL);
	}
	ADD(o, "rings", nic_json_rings(&nic->rings));
	a = json_object_new_object();
	ADD(a, "active", json_object_new_boolean(nic->ntuple_active));
	ADD(a, "changeable", json_object_new_boolean(!nic->ntuple_fixed));
	ADD(o, "ntuple", a);
	if (nic->n_rss) {
		json_object *r = nic_json_rss(&nic->rss[0]);

		ADD(r, "contexts_in_use", jint((int64_t)nic->n_rss - 1));
		/* false: this kernel cannot list them; those below were read by id */
		ADD(r, "contexts_listed", json_object_new_boolean(nic->rss_listed));
		a = json_object_new_array();
		for (i = 1; i < nic->n_rss; i++)
			json_object_array_add(a, nic_json_rss(&nic->rss[i]));
		ADD(r, "contexts", a);
		ADD(o, "rss", r);
	} else {
		ADD(o, "rss", NULL);
	}
	if (nic->caps.rules.state == NIC_CAP_YES) {
		json_object *r = json_object_new_object();

		ADD(r, "capacity", jint(nic->rule_capacity));
		ADD(r, "count", jint((int64_t)nic->n_rules));
		ADD(r, "driver_picks_location", json_object_new_boolean(nic->rule_loc_special));
		a = json_object_new_array();
		for (i = 0; i < nic->n_rules; i++)
			json_object_array_add(a, nic_json_rule(&nic->rules[i]));
		ADD(r, "list", a);
		ADD(o, "rules", r);
	} else {
		ADD(o, "rules", NULL);
	}
	ADD(o, "bound_queues", jint(bound_queues(nic)));
	ADD(o, "capabilities", nic_json_caps(&nic->caps));
	return o;
}

uint32_t nic_rss_weight(const struct nic_rss *rss, uint32_t q)
{
	uint32_t i, n = 0;

	for (i = 0; rss && i < rss->indir_size; i++)
		n += rss->indir[i] == q;
	return n;
}

json_object *nic_json_queues(const struct nic *nic)
{
	const struct nic_rss *def = nic_find_rss(nic, 0);

	json_object *a = json_object_new_array();
	size_t i, j;

	/* an empty table (some drivers while down) tells nothing either */
	if (def && !def->indir_size)
		def = NULL;

	for (i = 0; i < nic->n_queues; i++) {
		const struct nic_queue *q = &nic->queues[i];
		json_object *o = json_object_new_object(), *rules = json_object_new_array();
		uint32_t w = nic_rss_weight(def, q->id);

		ADD(o, "index", jint(q->id));
		ADD(o, "napi_id", q->napi_id ? jint(q->napi_id) : NULL);
		ADD(o, "irq", jopt(q->irq));
		ADD(o, "cpus", jstr_or_null(q->cpus));
		ADD(o, "numa_node", jopt(q->numa_node));
		/* unknown (null) when the default table cannot be read */
		ADD(o, "in_default_rss", def ? json_object_new_boolean(w > 0) : NULL);
		ADD(o, "rss_weight", def ? jint(w) : NULL);
		for (j = 0; j < nic->n_rules; j++) {
			const struct nic_rule *r = &nic->rules[j];

			/* straight to the queue, or to a context that spreads over it */
			if ((r->action == NIC_RULE_ACTION_QUEUE && r->queue == q->id) ||
			    (r->action == NIC_RULE_ACTION_CONTEXT && r->rss_context &&
			     nic_rss_weight(nic_find_rss(nic, r->rss_context), q->id)))
				json_object_array_add(rules, jint(r->location));
		}
		ADD(o, "rules", rules);
		ADD(o, "providers", nic_json_providers(q->providers));
		ADD(o, "rx_packets", q->has_qstats ? jint((int64_t)q->rx_packets) : NULL);
		ADD(o, "rx_bytes", q->has_qstats ? jint((int64_t)q->rx_bytes) : NULL);
		json_object_array_add(a, o);
	}
	return a;
}
