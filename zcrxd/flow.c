// SPDX-License-Identifier: MIT
/*
 * flow — a lease's flow (flow.h).  Must not: do I/O.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "flow.h"

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

int flow_validate(const struct flow *f, const char *nic, struct kerror *err)
{
	if (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP)
		return kerror_set(err, EINVAL, nic, "lease", "flow protocol must be tcp or udp");
	if (!f->dport)
		return kerror_set(err, EINVAL, nic, "lease", "flow needs a destination port");
	if ((f->dst_family && f->dst_family != AF_INET && f->dst_family != AF_INET6) ||
	    (f->src_family && f->src_family != AF_INET && f->src_family != AF_INET6))
		return kerror_set(err, EINVAL, nic, "lease", "bad address family");
	if (f->dst_family && f->src_family && f->dst_family != f->src_family)
		return kerror_set(err, EINVAL, nic, "lease",
				  "flow source and destination addresses are of different families");
	return 0;
}

bool flow_equal(const struct flow *a, const struct flow *b)
{
	return a->proto == b->proto && a->dport == b->dport && a->sport == b->sport &&
	       a->dst_family == b->dst_family && a->src_family == b->src_family &&
	       (!a->dst_family || !memcmp(&a->dst, &b->dst, addr_len(a->dst_family))) &&
	       (!a->src_family || !memcmp(&a->src, &b->src, addr_len(a->src_family)));
}

/* The families a flow's packets can be of (bit 0: IPv4, bit 1: IPv6). */
static unsigned families(const struct flow *f)
{
	int fam = f->dst_family ? f->dst_family : f->src_family;

	return !fam ? 3u : fam == AF_INET ? 1u : 2u;
}

/* Two optional exact matches can both hold unless both are set and differ. */
static bool addr_compatible(int fa, const struct in6_addr *a, int fb, const struct in6_addr *b)
{
	return !fa || !fb || (fa == fb && !memcmp(a, b, addr_len(fa)));
}

bool flow_overlap(const struct flow *a, const struct flow *b)
{
	return a->proto == b->proto && a->dport == b->dport &&
	       (!a->sport || !b->sport || a->sport == b->sport) && (families(a) & families(b)) &&
	       addr_compatible(a->dst_family, &a->dst, b->dst_family, &b->dst) &&
	       addr_compatible(a->src_family, &a->src, b->src_family, &b->src);
}

size_t flow_nic_flows(const struct flow *f, struct nic_flow out[FLOW_RULES_MAX])
{
	unsigned fam = families(f);
	size_t n = 0;
	int i;

	for (i = 0; i < 2; i++) {
		struct nic_flow *x;

		if (!(fam & (1u << i)))
			continue;
		x = &out[n++];
		memset(x, 0, sizeof(*x));
		x->proto = f->proto;
		x->family = i ? AF_INET6 : AF_INET;
		x->dport = f->dport;
		x->sport = f->sport;
		if ((x->has_dst = f->dst_family != 0))
			x->dst = f->dst;
		if ((x->has_src = f->src_family != 0))
			x->src = f->src;
	}
	return n;
}

const char *flow_format(const struct flow *f, char *buf, size_t size)
{
	char dst[INET6_ADDRSTRLEN + 8] = "", src[INET6_ADDRSTRLEN + 8] = "", a[INET6_ADDRSTRLEN];
	char sport[16] = "";

	if (f->dst_family)
		snprintf(dst, sizeof(dst), ",dst=%s", inet_ntop(f->dst_family, &f->dst, a, sizeof(a)));
	if (f->src_family)
		snprintf(src, sizeof(src), ",src=%s", inet_ntop(f->src_family, &f->src, a, sizeof(a)));
	if (f->sport)
		snprintf(sport, sizeof(sport), ",sport=%u", f->sport);
	snprintf(buf, size, "%s:dport=%u%s%s%s", f->proto == IPPROTO_UDP ? "udp" : "tcp", f->dport,
		 dst, src, sport);
	return buf;
}

/* --- JSON ------------------------------------------------------------------- */

json_object *flow_to_json(const struct flow *f)
{
	json_object *o = json_object_new_object();
	char a[INET6_ADDRSTRLEN];

	if (!o)
		return NULL;
	json_object_object_add(o, "protocol",
			       json_object_new_string(f->proto == IPPROTO_UDP ? "udp" : "tcp"));
	json_object_object_add(o, "dport", json_object_new_int(f->dport));
	if (f->dst_family)
		json_object_object_add(o, "dst", json_object_new_string(inet_ntop(
							 f->dst_family, &f->dst, a, sizeof(a))));
	if (f->src_family)
		json_object_object_add(o, "src", json_object_new_string(inet_ntop(
							 f->src_family, &f->src, a, sizeof(a))));
	if (f->sport)
		json_object_object_add(o, "sport", json_object_new_int(f->sport));
	return o;
}

static int get_port(json_object *o, const char *k, bool required, uint16_t *ret,
		    struct kerror *err)
{
	json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			return kerror_setf(err, EINVAL, NULL, "lease", "flow '%s' missing", k);
		return 0;
	}
	x = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
	if (x < 1 || x > 65535)
		return kerror_setf(err, EINVAL, NULL, "lease", "flow '%s' must be a port 1..65535",
				   k);
	*ret = (uint16_t)x;
	return 0;
}

static int get_addr(json_object *o, const char *k, int *family, struct in6_addr *addr,
		    struct kerror *err)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
		return 0;
	s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, s, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, s, addr) == 1)
		*family = AF_INET6;
	else
		return kerror_setf(err, EINVAL, NULL, "lease",
				   "flow '%s' is not an IPv4 or IPv6 address", k);
	return 0;
}

int flow_from_json(json_object *o, struct flow *ret, struct kerror *err)
{
	struct flow f = { 0 };
	json_object *v;
	const char *p;
	int r;

	if (!o || !json_object_is_type(o, json_type_object))
		return kerror_set(err, EINVAL, NULL, "lease", "flow is not an object");
	if (!json_object_object_get_ex(o, "protocol", &v) ||
	    !json_object_is_type(v, json_type_string))
		return kerror_set(err, EINVAL, NULL, "lease", "flow 'protocol' missing");
	p = json_object_get_string(v);
	if (!strcmp(p, "tcp"))
		f.proto = IPPROTO_TCP;
	else if (!strcmp(p, "udp"))
		f.proto = IPPROTO_UDP;
	else
		return kerror_set(err, EINVAL, NULL, "lease", "flow 'protocol' must be tcp or udp");
	if ((r = get_port(o, "dport", true, &f.dport, err)) ||
	    (r = get_port(o, "sport", false, &f.sport, err)) ||
	    (r = get_addr(o, "dst", &f.dst_family, &f.dst, err)) ||
	    (r = get_addr(o, "src", &f.src_family, &f.src, err)))
		return r;
	if ((r = flow_validate(&f, NULL, err)))
		return r;
	*ret = f;
	return 0;
}
