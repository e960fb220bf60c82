// SPDX-License-Identifier: MIT
/*
 * nic — helpers for the observed NIC model (nic.h).
 * Owns: allocation and copying of the model.  Must not: do I/O.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "hex.h"
#include "nic.h"

void nic_init(struct nic *nic)
{
	memset(nic, 0, sizeof(*nic));
	nic->numa_node = -1;
}

void nic_rss_clear(struct nic_rss *rss)
{
	free(rss->indir);
	free(rss->key);
	memset(rss, 0, sizeof(*rss));
}

void nic_clear(struct nic *nic)
{
	size_t i;

	for (i = 0; i < nic->n_rss; i++)
		nic_rss_clear(&nic->rss[i]);
	free(nic->rss);
	free(nic->rss_gone);
	free(nic->rules);
	free(nic->queues);
	nic_init(nic);
}

int nic_copy(struct nic *dst, const struct nic *src)
{
	bool fail = false;
	size_t i;

	*dst = *src;
	dst->rss = array_dup(src->rss, src->n_rss, sizeof(*src->rss), &fail);
	if (fail) {
		dst->n_rss = 0;
		dst->rss_gone = NULL;
		dst->rules = NULL;
		dst->queues = NULL;
		nic_clear(dst);
		return -ENOMEM;
	}
	for (i = 0; i < dst->n_rss; i++) {
		dst->rss[i].indir = array_dup(src->rss[i].indir, src->rss[i].indir_size,
					      sizeof(uint32_t), &fail);
		dst->rss[i].key = array_dup(src->rss[i].key, src->rss[i].key_size, 1, &fail);
	}
	dst->rss_gone = array_dup(src->rss_gone, src->n_rss_gone, sizeof(uint32_t), &fail);
	dst->rules = array_dup(src->rules, src->n_rules, sizeof(*src->rules), &fail);
	dst->queues = array_dup(src->queues, src->n_queues, sizeof(*src->queues), &fail);
	if (fail) {
		nic_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

uint32_t nic_rx_queue_count(const struct nic *nic)
{
	return nic->ch.combined + nic->ch.rx;
}

const struct nic_rss *nic_find_rss(const struct nic *nic, uint32_t ctx)
{
	size_t i;

	for (i = 0; i < nic->n_rss; i++)
		if (nic->rss[i].id == ctx)
			return &nic->rss[i];
	return NULL;
}

enum nic_ctx_seen nic_ctx_state(const struct nic *nic, uint32_t ctx)
{
	size_t i;

	if (nic_find_rss(nic, ctx))
		return NIC_CTX_SEEN;
	if (nic->rss_listed)
		return NIC_CTX_GONE;
	for (i = 0; i < nic->n_rss_gone; i++)
		if (nic->rss_gone[i] == ctx)
			return NIC_CTX_GONE;
	return NIC_CTX_UNKNOWN;
}

int nic_rss_add(struct nic *nic, struct nic_rss *r)
{
	struct nic_rss *v = realloc(nic->rss, (nic->n_rss + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	nic->rss = v;
	nic->rss[nic->n_rss++] = *r;
	memset(r, 0, sizeof(*r));
	return 0;
}

int nic_rss_add_gone(struct nic *nic, uint32_t ctx)
{
	uint32_t *v = realloc(nic->rss_gone, (nic->n_rss_gone + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	nic->rss_gone = v;
	nic->rss_gone[nic->n_rss_gone++] = ctx;
	return 0;
}

const struct nic_rule *nic_find_rule(const struct nic *nic, uint32_t location)
{
	size_t i;

	for (i = 0; i < nic->n_rules; i++)
		if (nic->rules[i].location == location)
			return &nic->rules[i];
	return NULL;
}

const char *nic_cap_state_name(enum nic_cap_state s)
{
	switch (s) {
	case NIC_CAP_UNKNOWN: return "unknown";
	case NIC_CAP_YES: return "yes";
	case NIC_CAP_NO: return "no";
	}
	return "unknown";
}

struct nic_cap *nic_rule_kind_cap(struct nic_caps *c, enum nic_rule_match m,
				  enum nic_rule_action a)
{
	if (m == NIC_RULE_MATCH_OTHER || (unsigned)m > NIC_RULE_FLOWS ||
	    (unsigned)a >= NIC_RULE_ACTS)
		return NULL;
	return &c->rule_kinds[m - 1][a];
}

static void overlay(struct nic_cap *dst, const struct nic_cap *learned)
{
	if (learned->state == NIC_CAP_NO ||
	    (learned->state == NIC_CAP_YES && dst->state == NIC_CAP_UNKNOWN))
		*dst = *learned;
}

void nic_caps_overlay(struct nic_caps *dst, const struct nic_caps *learned)
{
	unsigned f, a;

	for (f = 0; f < NIC_RULE_FLOWS; f++)
		for (a = 0; a < NIC_RULE_ACTS; a++)
			overlay(&dst->rule_kinds[f][a], &learned->rule_kinds[f][a]);
	overlay(&dst->rss_contexts, &learned->rss_contexts);
	overlay(&dst->rss_set, &learned->rss_set);
	overlay(&dst->ntuple, &learned->ntuple);
	overlay(&dst->header_split, &learned->header_split);
	overlay(&dst->channels_set, &learned->channels_set);
	if (learned->rss_contexts_room.state == NIC_CAP_NO) {
		dst->rss_contexts_room = learned->rss_contexts_room;
		dst->rss_contexts_full = learned->rss_contexts_full;
	}
}

const char *nic_rule_flow_name(unsigned f)
{
	static const char *const names[NIC_RULE_FLOWS] = { "ether", "ip4", "ip6", "flow4",
							       "flow6" };

	return f < NIC_RULE_FLOWS ? names[f] : "?";
}

const char *nic_rule_act_name(unsigned a)
{
	static const char *const names[NIC_RULE_ACTS] = { "queue", "context", "drop" };

	return a < NIC_RULE_ACTS ? names[a] : "?";
}

void nic_rule_family_cap(const struct nic_caps *c, const unsigned *flows, size_t n_flows,
			 struct nic_cap *ret)
{
	size_t i, len = 0, n_no = 0, n = 0;
	const struct nic_cap *first_no = NULL;
	bool yes = false;
	unsigned a;

	memset(ret, 0, sizeof(*ret));
	for (i = 0; i < n_flows; i++) {
		for (a = 0; a < NIC_RULE_ACTS; a++) {
			const struct nic_cap *k = &c->rule_kinds[flows[i]][a];

			n++;
			if (k->state == NIC_CAP_UNKNOWN)
				continue;
			yes |= k->state == NIC_CAP_YES;
			if (k->state == NIC_CAP_NO && !n_no++)
				first_no = k;
			if (len < sizeof(ret->msg))
				len += (size_t)snprintf(ret->msg + len, sizeof(ret->msg) - len,
							"%s%s-%s %s%s%s", len ? "; " : "",
							nic_rule_flow_name(flows[i]),
							nic_rule_act_name(a), nic_cap_state_name(k->state),
							k->msg[0] ? ": " : "", k->msg);
		}
	}
	if (yes)
		ret->state = NIC_CAP_YES;
	else if (n && n_no == n)
		nic_cap_set(ret, NIC_CAP_NO, first_no->err, first_no->msg);
	else if (!len)
		snprintf(ret->msg, sizeof(ret->msg), "not tried yet (learned from the first rule)");
}

void nic_cap_set(struct nic_cap *cap, enum nic_cap_state state, int err, const char *msg)
{
	cap->state = state;
	cap->err = err < 0 ? -err : err;
	snprintf(cap->msg, sizeof(cap->msg), "%s", msg ? msg : "");
}

/* The one MAC parser of zcrxd: exactly six pairs of hex digits separated by
 * ':' (either case), nothing before or after.  No sign, no space, no other
 * separator, no short pair: what a kernel or libvirt prints, and nothing
 * that only looks like it. */
int nic_mac_parse(const char *s, uint8_t mac[NIC_MAC_LEN])
{
	return hex_pairs_parse(s, ':', mac, NIC_MAC_LEN);
}

const char *nic_mac_format(const uint8_t mac[NIC_MAC_LEN], char *buf)
{
	size_t i;

	/* (by table: every Attach reply, state record and log line formats
	 * MACs, and snprintf's format parsing cost more than the rest) */
	for (i = 0; i < NIC_MAC_LEN; i++) {
		hex_put(buf + 3 * i, &mac[i], 1);
		buf[3 * i + 2] = i + 1 < NIC_MAC_LEN ? ':' : '\0';
	}
	return buf;
}

/* --- flows (a lease's rule match) ------------------------------------------ */

static size_t flow_addr_len(const struct nic_flow *f)
{
	return f->family == AF_INET ? 4 : 16;
}

bool nic_flow_equal(const struct nic_flow *a, const struct nic_flow *b)
{
	return a->proto == b->proto && a->family == b->family && a->dport == b->dport &&
	       a->sport == b->sport && a->has_dst == b->has_dst && a->has_src == b->has_src &&
	       (!a->has_dst || !memcmp(&a->dst, &b->dst, flow_addr_len(a))) &&
	       (!a->has_src || !memcmp(&a->src, &b->src, flow_addr_len(a)));
}

uint32_t nic_flow_type(const struct nic_flow *f)
{
	bool udp = f->proto == IPPROTO_UDP;

	if (f->family == AF_INET6)
		return udp ? NIC_FLOW_UDP6 : NIC_FLOW_TCP6;
	return udp ? NIC_FLOW_UDP4 : NIC_FLOW_TCP4;
}

const char *nic_flow_format(const struct nic_flow *f, bool ethtool, char *buf, size_t size)
{
	char dst[INET6_ADDRSTRLEN] = "", src[INET6_ADDRSTRLEN] = "";
	int af = f->family == AF_INET6 ? AF_INET6 : AF_INET;
	char sport[24] = "";

	if (f->has_dst)
		inet_ntop(af, &f->dst, dst, sizeof(dst));
	if (f->has_src)
		inet_ntop(af, &f->src, src, sizeof(src));
	if (f->sport)
		snprintf(sport, sizeof(sport), " src-port %u", f->sport);
	snprintf(buf, size, "%s%s%c%s%s%s%s dst-port %u%s", ethtool ? "flow-type " : "",
		 f->proto == IPPROTO_UDP ? "udp" : "tcp", af == AF_INET6 ? '6' : '4',
		 f->has_src ? " src-ip " : "", src, f->has_dst ? " dst-ip " : "", dst, f->dport,
		 sport);
	return buf;
}

static int flow_port(const char *s, uint16_t *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

int nic_flow_parse(const char *s, struct nic_flow *ret)
{
	char buf[256], *save = NULL, *w, *v;
	struct nic_flow f;
	int af;

	memset(&f, 0, sizeof(f));
	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, strlen(s) + 1);
	w = strtok_r(buf, " ", &save);
	if (!w)
		return -EINVAL;
	if (!strcmp(w, "tcp4") || !strcmp(w, "tcp6"))
		f.proto = IPPROTO_TCP;
	else if (!strcmp(w, "udp4") || !strcmp(w, "udp6"))
		f.proto = IPPROTO_UDP;
	else
		return -EINVAL;
	f.family = w[3] == '6' ? AF_INET6 : AF_INET;
	af = f.family;
	while ((w = strtok_r(NULL, " ", &save))) {
		v = strtok_r(NULL, " ", &save);
		if (!v)
			return -EINVAL;
		if (!strcmp(w, "dst-port")) {
			if (flow_port(v, &f.dport) < 0)
				return -EINVAL;
		} else if (!strcmp(w, "src-port")) {
			if (flow_port(v, &f.sport) < 0)
				return -EINVAL;
		} else if (!strcmp(w, "dst-ip")) {
			if (inet_pton(af, v, &f.dst) != 1)
				return -EINVAL;
			f.has_dst = true;
		} else if (!strcmp(w, "src-ip")) {
			if (inet_pton(af, v, &f.src) != 1)
				return -EINVAL;
			f.has_src = true;
		} else {
			return -EINVAL;
		}
	}
	if (!f.dport)
		return -EINVAL;
	*ret = f;
	return 0;
}
