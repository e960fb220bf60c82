// SPDX-License-Identifier: MIT
/*
 * lease — the client side of leases (zcrx.h): the flow's text form, Lease
 * and ReleaseLease.  Never prints.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zcrx.h"

static int local(struct zcrx_error *e, const char *msg)
{
	if (e) {
		zcrx_error_clear(e);
		e->kind = ZCRX_ERROR_LOCAL;
		e->err = EINVAL;
		snprintf(e->message, sizeof(e->message), "%s", msg);
	}
	return -EINVAL;
}

static bool port(const char *s, uint16_t *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 65535 || *s == '-' || *s == '+')
		return false;
	*ret = (uint16_t)v;
	return true;
}

static bool addr(const char *s, char *dst, int *family)
{
	struct in6_addr a;
	int f = inet_pton(AF_INET, s, &a) == 1 ? AF_INET : inet_pton(AF_INET6, s, &a) == 1 ? AF_INET6 : 0;

	if (!f || strlen(s) >= ZCRX_ADDR_MAX)
		return false;
	memcpy(dst, s, strlen(s) + 1);
	*family = f;
	return true;
}

int zcrx_flow_parse(const char *text, struct zcrx_flow *ret, struct zcrx_error *err)
{
	char buf[256], *save = NULL, *kv, *v;
	struct zcrx_flow f;
	int fd = 0, fs = 0;

	memset(&f, 0, sizeof(f));
	if (!text || strlen(text) >= sizeof(buf))
		return local(err, "flow: expected tcp:dport=PORT[,dst=ADDR][,src=ADDR][,sport=PORT]");
	memcpy(buf, text, strlen(text) + 1);
	v = strchr(buf, ':');
	if (!v)
		return local(err, "flow: expected tcp:... or udp:...");
	*v++ = '\0';
	if (!strcmp(buf, "tcp"))
		f.protocol = IPPROTO_TCP;
	else if (!strcmp(buf, "udp"))
		f.protocol = IPPROTO_UDP;
	else
		return local(err, "flow: the protocol must be tcp or udp");
	for (kv = strtok_r(v, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *val = strchr(kv, '=');

		if (!val)
			return local(err, "flow: expected KEY=VALUE (dport, dst, src, sport)");
		*val++ = '\0';
		if (!strcmp(kv, "dport")) {
			if (!port(val, &f.dport))
				return local(err, "flow: dport must be a port 1..65535");
		} else if (!strcmp(kv, "sport")) {
			if (!port(val, &f.sport))
				return local(err, "flow: sport must be a port 1..65535");
		} else if (!strcmp(kv, "dst")) {
			if (!addr(val, f.dst, &fd))
				return local(err, "flow: dst must be an IPv4 or IPv6 address");
		} else if (!strcmp(kv, "src")) {
			if (!addr(val, f.src, &fs))
				return local(err, "flow: src must be an IPv4 or IPv6 address");
		} else {
			return local(err, "flow: unknown key (dport, dst, src, sport)");
		}
	}
	if (!f.dport)
		return local(err, "flow: dport=PORT is required");
	if (fd && fs && fd != fs)
		return local(err, "flow: dst and src must be of one address family");
	*ret = f;
	return 0;
}

static json_object *flow_json(const struct zcrx_flow *f)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "protocol",
			       json_object_new_string(f->protocol == IPPROTO_UDP ? "udp" : "tcp"));
	json_object_object_add(o, "dport", json_object_new_int(f->dport));
	if (f->dst[0])
		json_object_object_add(o, "dst", json_object_new_string(f->dst));
	if (f->src[0])
		json_object_object_add(o, "src", json_object_new_string(f->src));
	if (f->sport)
		json_object_object_add(o, "sport", json_object_new_int(f->sport));
	return o;
}

static uint32_t u32_array(json_object *a, uint32_t *v, uint32_t max)
{
	size_t i, n = a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
	uint32_t k = 0;

	for (i = 0; i < n && k < max; i++)
		v[k++] = (uint32_t)json_object_get_int64(json_object_array_get_idx(a, i));
	return k;
}

json_object *zcrx_lease_params(const char *nic, const struct zcrx_flow *flow, unsigned queues,
			       const char *name, enum zcrx_lease_owner owner)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "nic", json_object_new_string(nic));
	json_object_object_add(p, "flow", flow_json(flow));
	json_object_object_add(p, "queues", json_object_new_int((int)queues));
	if (name)
		json_object_object_add(p, "name", json_object_new_string(name));
	json_object_object_add(p, "owner", json_object_new_string(
						   owner == ZCRX_LEASE_OWNER_PROCESS ? "process" : "name"));
	return p;
}

int zcrx_lease_info_from_reply(json_object *reply, struct zcrx_lease_info *ret,
			       struct zcrx_error *err)
{
	json_object *l, *v;

	memset(ret, 0, sizeof(*ret));
	if (!json_object_object_get_ex(reply, "lease", &l) ||
	    !json_object_is_type(l, json_type_object)) {
		if (err) {
			zcrx_error_clear(err);
			err->kind = ZCRX_ERROR_PROTOCOL;
			err->err = EBADMSG;
			snprintf(err->message, sizeof(err->message), "the reply has no lease");
		}
		return -EBADMSG;
	}
	if (json_object_object_get_ex(l, "id", &v))
		ret->id = (uint32_t)json_object_get_int64(v);
	if (json_object_object_get_ex(l, "name", &v))
		snprintf(ret->name, sizeof(ret->name), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(l, "ifindex", &v))
		ret->ifindex = json_object_get_int(v);
	v = NULL;
	json_object_object_get_ex(l, "queues", &v);
	ret->n_queues = u32_array(v, ret->queues, ZCRX_LEASE_QUEUES_MAX);
	v = NULL;
	json_object_object_get_ex(l, "rules", &v);
	ret->n_rules = u32_array(v, ret->rules, 2 * ZCRX_LEASE_QUEUES_MAX);
	if (json_object_object_get_ex(l, "rss_context", &v) && json_object_is_type(v, json_type_int)) {
		ret->has_rss_context = true;
		ret->rss_context = (uint32_t)json_object_get_int64(v);
	}
	return 0;
}

int zcrx_lease(struct zcrx_conn *c, const char *nic, const struct zcrx_flow *flow,
	       unsigned queues, const char *name, enum zcrx_lease_owner owner,
	       struct zcrx_lease_info *ret, struct zcrx_error *err)
{
	json_object *p, *reply = NULL;
	int r;

	if (!c || !nic || !flow || !queues)
		return local(err, "lease: NIC, flow and a queue count are required");
	p = zcrx_lease_params(nic, flow, queues, name, owner);
	r = zcrx_call(c, "io.zcrx.Manager.Lease", p, &reply, err);
	json_object_put(p);
	if (r == 0 && ret)
		r = zcrx_lease_info_from_reply(reply, ret, err);
	json_object_put(reply);
	return r;
}

int zcrx_lease_release(struct zcrx_conn *c, const char *lease, struct zcrx_error *err)
{
	json_object *p, *reply = NULL;
	int r;

	if (!c || !lease || !*lease)
		return local(err, "release: a lease name or id is required");
	p = json_object_new_object();
	json_object_object_add(p, "lease", json_object_new_string(lease));
	r = zcrx_call(c, "io.zcrx.Manager.ReleaseLease", p, &reply, err);
	json_object_put(p);
	json_object_put(reply);
	return r;
}
