// SPDX-License-Identifier: MIT
/*
 * attach — the attachment model (attach.h): identity, result, JSON.
 * Owns: lifetime helpers, validation, encoding.  Must not: do I/O or log.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "attach.h"
#include "jtext.h"
#include "binder.h"
#include "str.h"

const char *attach_state_name(enum attach_state s)
{
	switch (s) {
	case ATTACH_STATE_PENDING: return "pending";
	case ATTACH_STATE_ACTIVE: return "active";
	case ATTACH_STATE_DEGRADED: return "degraded";
	case ATTACH_STATE_FAILED: return "failed";
	}
	return "failed";
}

int attach_state_from_name(const char *s, enum attach_state *ret)
{
	static const enum attach_state all[] = { ATTACH_STATE_PENDING, ATTACH_STATE_ACTIVE,
						 ATTACH_STATE_DEGRADED, ATTACH_STATE_FAILED };
	size_t i;

	for (i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(s, attach_state_name(all[i]))) {
			*ret = all[i];
			return 0;
		}
	return -EINVAL;
}

/* The domain of every identity without one of its own (never freed). */
static const char no_domain[] = "";

void attach_id_init(struct attach_id *id)
{
	memset(id, 0, sizeof(*id));
	id->domain = no_domain;
	id->queues = 1;
	id->numa_node = -1;
}

int attach_id_set_domain(struct attach_id *id, const char *domain)
{
	size_t n = domain ? strnlen(domain, ATTACH_DOMAIN_MAX - 1) : 0;
	char *d = NULL;

	if (n) {
		d = malloc(n + 1);
		if (!d)
			return -ENOMEM;
		memcpy(d, domain, n);
		d[n] = '\0';
	}
	if (id->domain != no_domain)
		free((char *)id->domain);
	id->domain = d ? d : no_domain;
	return 0;
}

void attach_id_clear(struct attach_id *id)
{
	if (id->domain != no_domain)
		free((char *)id->domain);
	id->domain = no_domain;
	free(id->ip4);
	free(id->ip6);
	id->ip4 = NULL;
	id->ip6 = NULL;
	id->n_ip4 = id->n_ip6 = 0;
}

/* v (*n elements of size) with x appended: the new array (*n one more),
 * or NULL (v and *n as they were). */
static void *append(void *v, uint8_t *n, size_t size, const void *x)
{
	char *p = realloc(v, (*n + 1u) * size);

	if (p) {
		memcpy(p + *n * size, x, size);
		(*n)++;
	}
	return p;
}

int attach_id_add_ip4(struct attach_id *id, const struct in_addr *a)
{
	struct in_addr *v;

	if (id->n_ip4 >= ATTACH_IP_MAX)
		return -EINVAL;
	if (!(v = append(id->ip4, &id->n_ip4, sizeof(*a), a)))
		return -ENOMEM;
	id->ip4 = v;
	return 0;
}

int attach_id_add_ip6(struct attach_id *id, const struct in6_addr *a)
{
	struct in6_addr *v;

	if (id->n_ip6 >= ATTACH_IP_MAX)
		return -EINVAL;
	if (!(v = append(id->ip6, &id->n_ip6, sizeof(*a), a)))
		return -ENOMEM;
	id->ip6 = v;
	return 0;
}

int attach_id_add_address(struct attach_id *id, const char *text)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (strchr(text, ':'))
		return inet_pton(AF_INET6, text, &a6) == 1 ? attach_id_add_ip6(id, &a6) : -EINVAL;
	return inet_pton(AF_INET, text, &a4) == 1 ? attach_id_add_ip4(id, &a4) : -EINVAL;
}

int attach_id_copy(struct attach_id *dst, const struct attach_id *src)
{
	bool fail = false;

	*dst = *src;
	dst->domain = no_domain;
	dst->ip4 = array_dup(src->ip4, src->n_ip4, sizeof(*src->ip4), &fail);
	dst->ip6 = array_dup(src->ip6, src->n_ip6, sizeof(*src->ip6), &fail);
	if (fail || attach_id_set_domain(dst, src->domain) < 0) {
		attach_id_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

int attach_id_validate(const struct attach_id *id, struct kerror *err)
{
	static const uint8_t zero[NIC_MAC_LEN];

	if (!id->domain[0])
		return kerror_set(err, EINVAL, id->nic, "attach", "domain is empty");
	if (!id->nic[0])
		return kerror_set(err, EINVAL, NULL, "attach", "NIC name is empty");
	if (!memcmp(id->mac, zero, NIC_MAC_LEN))
		return kerror_set(err, EINVAL, id->nic, "attach", "MAC is missing");
	if (id->kind == ATTACH_KIND_LEASE) {
		uint32_t lid;

		if (!attach_key_is_lease(id->mac, &lid) || lid != id->lease.id || !lid)
			return kerror_set(err, EINVAL, id->nic, "lease", "lease key and id differ");
		if (strlen(id->domain) >= ATTACH_LEASE_NAME_MAX)
			return kerror_setf(err, EINVAL, id->nic, "lease",
					   "lease name is longer than %u bytes",
					   ATTACH_LEASE_NAME_MAX - 1);
		if (id->queues < 1 || id->queues > ATTACH_QUEUES_MAX)
			return kerror_setf(err, EINVAL, id->nic, "lease", "queues must be 1..%u",
					   ATTACH_QUEUES_MAX);
		return flow_validate(&id->lease.flow, id->nic, err);
	}
	if (id->kind != ATTACH_KIND_VNIC)
		return kerror_set(err, EINVAL, id->nic, "attach", "unknown attachment kind");
	if (id->mac[0] & 1)
		return kerror_set(err, EINVAL, id->nic, "attach", "MAC is a multicast address");
	if (id->queues < 1 || id->queues > ATTACH_QUEUES_MAX)
		return kerror_setf(err, EINVAL, id->nic, "attach", "queues must be 1..%u",
				   ATTACH_QUEUES_MAX);
	if (id->n_ip4 > ATTACH_IP_MAX || id->n_ip6 > ATTACH_IP_MAX)
		return kerror_set(err, EINVAL, id->nic, "attach", "too many addresses");
	return 0;
}

bool attach_id_same_key(const struct attach_id *a, const struct attach_id *b)
{
	return !strcmp(a->nic, b->nic) && !memcmp(a->mac, b->mac, NIC_MAC_LEN);
}

bool attach_id_equal(const struct attach_id *a, const struct attach_id *b)
{
	return attach_id_same_key(a, b) && !strcmp(a->domain, b->domain) &&
	       !strcmp(a->uuid, b->uuid) && a->nic_ifindex == b->nic_ifindex &&
	       !strcmp(a->tap, b->tap) && a->tap_ifindex == b->tap_ifindex &&
	       a->queues == b->queues && a->numa_node == b->numa_node && a->n_ip4 == b->n_ip4 &&
	       a->n_ip6 == b->n_ip6 &&
	       (!a->n_ip4 || !memcmp(a->ip4, b->ip4, a->n_ip4 * sizeof(a->ip4[0]))) &&
	       (!a->n_ip6 || !memcmp(a->ip6, b->ip6, a->n_ip6 * sizeof(a->ip6[0]))) &&
	       a->kind == b->kind &&
	       (a->kind != ATTACH_KIND_LEASE ||
		(a->lease.id == b->lease.id && flow_equal(&a->lease.flow, &b->lease.flow) &&
		 a->lease.pid == b->lease.pid && a->lease.pid_start == b->lease.pid_start));
}

void attach_lease_key(uint32_t id, uint8_t mac[NIC_MAC_LEN])
{
	mac[0] = 0x03; /* multicast + locally administered: never a vNIC's */
	mac[1] = 0x7a;
	mac[2] = (uint8_t)(id >> 24);
	mac[3] = (uint8_t)(id >> 16);
	mac[4] = (uint8_t)(id >> 8);
	mac[5] = (uint8_t)id;
}

bool attach_key_is_lease(const uint8_t mac[NIC_MAC_LEN], uint32_t *ret_id)
{
	if (mac[0] != 0x03 || mac[1] != 0x7a)
		return false;
	if (ret_id)
		*ret_id = (uint32_t)mac[2] << 24 | (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 |
			  mac[5];
	return true;
}

const char *attach_lease_state_name(enum attach_lease_state s)
{
	switch (s) {
	case ATTACH_LEASE_WAITING: return "waiting";
	case ATTACH_LEASE_BOUND: return "bound";
	case ATTACH_LEASE_UNBOUND: return "unbound";
	case ATTACH_LEASE_RELEASED: return "released";
	}
	return "?";
}

const char *attach_lease_providers(const struct attach_result *r, char *buf, size_t size)
{
	unsigned p = 0;
	size_t i;

	for (i = 0; i < r->n_queues; i++)
		p |= r->queues[i].providers;
	snprintf(buf, size, "%s%s%s", p & NIC_PROVIDER_IO_URING ? "io-uring" : "",
		 (p & NIC_PROVIDER_IO_URING) && (p & NIC_PROVIDER_DMABUF) ? "," : "",
		 p & NIC_PROVIDER_DMABUF ? "dmabuf" : "");
	return buf;
}

int attach_id_cmp(const struct attach_id *a, const struct attach_id *b)
{
	int r = strcmp(a->nic, b->nic);

	if (r)
		return r;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return memcmp(a->mac, b->mac, NIC_MAC_LEN);
}

void attach_result_init(struct attach_result *r)
{
	memset(r, 0, sizeof(*r));
}

/* The strings of a reason, back to back, and how many reasons use them. */
struct attach_text {
	unsigned refs;
	char s[];
};

#define REASON_CODE_MAX 24

void attach_reason_clear(struct attach_reason *r)
{
	if (r->text && !--r->text->refs)
		free(r->text);
	memset(r, 0, sizeof(*r));
}

void attach_reasons_free(struct attach_reason *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		attach_reason_clear(&v[i]);
	free(v);
}

void attach_reason_copy(struct attach_reason *dst, const struct attach_reason *src)
{
	*dst = *src;
	if (dst->text)
		dst->text->refs++;
}

struct attach_reason *attach_reasons_dup(const struct attach_reason *v, size_t n)
{
	struct attach_reason *d;
	size_t i;

	if (!n)
		return NULL;
	d = malloc(n * sizeof(*d));
	if (!d)
		return NULL;
	for (i = 0; i < n; i++)
		attach_reason_copy(&d[i], &v[i]);
	return d;
}

void attach_result_clear(struct attach_result *r)
{
	free(r->queues);
	free(r->rule_locs);
	attach_reasons_free(r->reasons, r->n_reasons);
	attach_result_init(r);
}

int attach_result_copy(struct attach_result *dst, const struct attach_result *src)
{
	bool fail = false;

	*dst = *src;
	dst->queues = array_dup(src->queues, src->n_queues, sizeof(*src->queues), &fail);
	dst->rule_locs = array_dup(src->rule_locs, src->n_rules, sizeof(*src->rule_locs), &fail);
	dst->reasons = attach_reasons_dup(src->reasons, src->n_reasons);
	if (src->n_reasons && !dst->reasons) {
		dst->n_reasons = 0;
		fail = true;
	}
	if (fail) {
		attach_result_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* shown: only what a listing or a Monitor event shows (a queue's binding
 * only while bound); else every field */
static bool same_queue(const struct attach_queue *x, const struct attach_queue *y, bool shown)
{
	if (x->queue != y->queue || x->bound != y->bound || x->providers != y->providers)
		return false;
	if (shown && !x->bound)
		return true;
	return x->binding_id == y->binding_id && x->binding_state == y->binding_state &&
	       x->binding_reason == y->binding_reason && !strcmp(x->binding_msg, y->binding_msg);
}

bool attach_result_same(const struct attach_result *a, const struct attach_result *b, bool shown)
{
	size_t i;

	if (a->state != b->state || a->n_queues != b->n_queues || a->n_rules != b->n_rules ||
	    a->n_reasons != b->n_reasons || !str_same_in(a->steering, b->steering, sizeof(a->steering)) ||
	    a->has_context != b->has_context || a->rss_context != b->rss_context)
		return false;
	for (i = 0; i < a->n_queues; i++)
		if (!same_queue(&a->queues[i], &b->queues[i], shown))
			return false;
	if (a->n_rules && memcmp(a->rule_locs, b->rule_locs, a->n_rules * sizeof(*a->rule_locs)))
		return false;
	for (i = 0; i < a->n_reasons; i++) {
		const struct attach_reason *x = &a->reasons[i], *y = &b->reasons[i];

		if (x->err != y->err || !same_str(x->code, y->code) || !same_str(x->op, y->op) ||
		    !same_str(x->msg, y->msg) || !same_str(x->nic, y->nic))
			return false;
	}
	return true;
}

static size_t capped(const char *src, size_t size)
{
	return src ? strnlen(src, size - 1) : 0;
}

int attach_result_add_reason(struct attach_result *r, const char *code, const char *nic,
			     const char *op, int err, const char *msg)
{
	struct attach_reason *v, *x;

	v = realloc(r->reasons, (r->n_reasons + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->reasons = v;
	x = &v[r->n_reasons];
	if (attach_reason_set(x, code, nic, op, err, msg) < 0)
		return -ENOMEM;
	r->n_reasons++;
	return 0;
}

int attach_reason_set(struct attach_reason *x, const char *code, const char *nic, const char *op,
		      int err, const char *msg)
{
	const char *in[4] = { code, nic, op, msg };
	static const size_t cap[4] = { REASON_CODE_MAX, IF_NAMESIZE, KERROR_OP_MAX,
				       KERROR_MSG_MAX };
	const char **out[4] = { &x->code, &x->nic, &x->op, &x->msg };
	size_t len[4], total = 0, i;
	char *p;

	memset(x, 0, sizeof(*x));
	for (i = 0; i < 4; i++)
		total += (len[i] = capped(in[i], cap[i])) + 1;
	x->text = malloc(sizeof(*x->text) + total);
	if (!x->text)
		return -ENOMEM;
	x->text->refs = 1;
	p = x->text->s;
	for (i = 0; i < 4; i++) {
		if (len[i])
			memcpy(p, in[i], len[i]);
		p[len[i]] = '\0';
		*out[i] = p;
		p += len[i] + 1;
	}
	x->err = err < 0 ? -err : err;
	return 0;
}

static bool same_capped(const char *have, const char *want, size_t size)
{
	size_t n = capped(want, size);

	return strlen(have) == n && (!n || !memcmp(have, want, n));
}

bool attach_reason_is(const struct attach_reason *r, const char *code, const char *nic,
		      const char *op, int err, const char *msg)
{
	return r->text && r->err == (err < 0 ? -err : err) &&
	       same_capped(r->code, code, REASON_CODE_MAX) &&
	       same_capped(r->nic, nic, IF_NAMESIZE) && same_capped(r->op, op, KERROR_OP_MAX) &&
	       same_capped(r->msg, msg, KERROR_MSG_MAX);
}

int attach_result_add_reason_copy(struct attach_result *r, const struct attach_reason *x)
{
	struct attach_reason *v = realloc(r->reasons, (r->n_reasons + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->reasons = v;
	attach_reason_copy(&v[r->n_reasons++], x);
	return 0;
}

int attach_hold(struct attach *a, const struct kerror *err)
{
	if (!a->held_err) {
		a->held_err = malloc(sizeof(*a->held_err));
		if (!a->held_err)
			return -ENOMEM;
	}
	*a->held_err = *err;
	a->held = true;
	return 0;
}

void attach_unhold(struct attach *a)
{
	free(a->held_err);
	a->held_err = NULL;
	a->held = false;
}

int attach_result_add_reasonf(struct attach_result *r, const char *code, const char *nic,
			      const char *op, int err, const char *fmt, ...)
{
	char msg[KERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return attach_result_add_reason(r, code, nic, op, err, msg);
}

int attach_result_add_kerror(struct attach_result *r, const char *code, const struct kerror *ke)
{
	return attach_result_add_reason(r, code, ke->obj, ke->op, ke->err,
					ke->msg[0] ? ke->msg : strerror(ke->err));
}

int attach_result_add_queue(struct attach_result *r, uint32_t queue)
{
	struct attach_queue *v;
	size_t i;

	v = realloc(r->queues, (r->n_queues + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->queues = v;
	/* keep ascending order */
	for (i = r->n_queues; i > 0 && v[i - 1].queue > queue; i--)
		v[i] = v[i - 1];
	memset(&v[i], 0, sizeof(v[i]));
	v[i].queue = queue;
	r->n_queues++;
	return 0;
}

int attach_result_add_rule(struct attach_result *r, uint32_t loc)
{
	uint32_t *v = realloc(r->rule_locs, (r->n_rules + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->rule_locs = v;
	v[r->n_rules++] = loc;
	return 0;
}

bool attach_result_has_reason(const struct attach_result *r, const char *code)
{
	size_t i;

	for (i = 0; i < r->n_reasons; i++)
		if (!strcmp(r->reasons[i].code, code))
			return true;
	return false;
}

void attach_init(struct attach *a)
{
	attach_id_init(&a->id);
	attach_result_init(&a->res);
	a->held = false;
	a->held_err = NULL;
	a->lease_state = ATTACH_LEASE_WAITING;
	a->lease_was_bound = false;
}

void attach_clear(struct attach *a)
{
	attach_id_clear(&a->id);
	attach_result_clear(&a->res);
	free(a->held_err);
	attach_init(a);
}

int attach_copy(struct attach *dst, const struct attach *src)
{
	int r = attach_id_copy(&dst->id, &src->id);

	dst->held = false;
	dst->held_err = NULL;
	if (src->held && src->held_err && attach_hold(dst, src->held_err) < 0)
		return -ENOMEM;
	dst->held = src->held;
	dst->lease_state = src->lease_state;
	dst->lease_was_bound = src->lease_was_bound;
	return attach_result_copy(&dst->res, &src->res) < 0 ? -ENOMEM : r;
}

const char *attach_mac(const struct attach_id *id, char *buf)
{
	return nic_mac_format(id->mac, buf);
}

const char *attach_describe(const struct attach_id *id, char *buf, size_t size)
{
	char mac[18], flow[128];

	if (id->kind == ATTACH_KIND_LEASE)
		snprintf(buf, size, "lease %u '%s' (%s) on %s", id->lease.id, id->domain,
			 flow_format(&id->lease.flow, flow, sizeof(flow)), id->nic);
	else
		snprintf(buf, size, "%s %s on %s", id->domain, attach_mac(id, mac), id->nic);
	return buf;
}

/* --- JSON ---------------------------------------------------------------- */

/* Written as text (jtext) once; the json-c forms are that text parsed, so
 * that a listing of thousands of attachments needs no tree and there is one
 * implementation of the format. */

static void id_fields(struct jtext *t, bool *f, const struct attach_id *id)
{
	char mac[18], ip[INET6_ADDRSTRLEN];
	size_t i;

	jtext_key(t, f, "domain");
	jtext_str(t, id->domain);
	if (id->uuid[0]) {
		jtext_key(t, f, "uuid");
		jtext_str(t, id->uuid);
	}
	jtext_key(t, f, "mac");
	jtext_str(t, attach_mac(id, mac));
	jtext_key(t, f, "nic");
	jtext_str(t, id->nic);
	if (id->nic_ifindex) {
		jtext_key(t, f, "nic_ifindex");
		jtext_int(t, id->nic_ifindex);
	}
	if (id->tap[0]) {
		jtext_key(t, f, "tap");
		jtext_str(t, id->tap);
	}
	if (id->tap_ifindex) {
		jtext_key(t, f, "tap_ifindex");
		jtext_int(t, id->tap_ifindex);
	}
	jtext_key(t, f, "queues_requested");
	jtext_u64(t, id->queues);
	if (id->numa_node >= 0) {
		jtext_key(t, f, "numa_node");
		jtext_int(t, id->numa_node);
	}
	if (id->n_ip4 || id->n_ip6) {
		jtext_key(t, f, "addresses");
		jtext_lit(t, "[");
		for (i = 0; i < id->n_ip4; i++) {
			if (i)
				jtext_lit(t, ",");
			jtext_str(t, inet_ntop(AF_INET, &id->ip4[i], ip, sizeof(ip)));
		}
		for (i = 0; i < id->n_ip6; i++) {
			if (i || id->n_ip4)
				jtext_lit(t, ",");
			jtext_str(t, inet_ntop(AF_INET6, &id->ip6[i], ip, sizeof(ip)));
		}
		jtext_lit(t, "]");
	}
	jtext_key(t, f, "seq");
	jtext_u64(t, id->seq);
	if (id->kind == ATTACH_KIND_LEASE) {
		json_object *fl = flow_to_json(&id->lease.flow);

		jtext_key(t, f, "kind");
		jtext_str(t, "lease");
		jtext_key(t, f, "lease");
		jtext_lit(t, "{\"id\":");
		jtext_u64(t, id->lease.id);
		jtext_lit(t, ",\"flow\":");
		jtext_json(t, fl);
		json_object_put(fl);
		jtext_lit(t, ",\"owner\":");
		jtext_str(t, id->lease.pid ? "process" : "name");
		if (id->lease.pid) {
			jtext_lit(t, ",\"pid\":");
			jtext_int(t, id->lease.pid);
			jtext_lit(t, ",\"pid_start\":");
			jtext_u64(t, id->lease.pid_start);
		}
		jtext_lit(t, "}");
	}
}

/* A lease's state and which memory providers each of its queues takes. */
static void lease_fields(struct jtext *t, bool *f, const struct attach *at)
{
	char buf[32];
	size_t i;

	jtext_key(t, f, "lease_state");
	jtext_str(t, attach_lease_state_name(at->lease_state));
	jtext_key(t, f, "providers");
	jtext_str(t, attach_lease_providers(&at->res, buf, sizeof(buf)));
	jtext_key(t, f, "queue_providers");
	jtext_lit(t, "[");
	for (i = 0; i < at->res.n_queues; i++) {
		unsigned p = at->res.queues[i].providers;

		jtext_lit(t, i ? ",{\"queue\":" : "{\"queue\":");
		jtext_u64(t, at->res.queues[i].queue);
		jtext_lit(t, p & NIC_PROVIDER_IO_URING ? ",\"io_uring\":true" : ",\"io_uring\":false");
		jtext_lit(t, p & NIC_PROVIDER_DMABUF ? ",\"dmabuf\":true" : ",\"dmabuf\":false");
		jtext_lit(t, p & NIC_PROVIDER_XSK ? ",\"xsk\":true}" : ",\"xsk\":false}");
	}
	jtext_lit(t, "]");
}

void attach_reason_to_jtext(const struct attach_reason *r, struct jtext *t)
{
	bool f = true;

	jtext_lit(t, "{");
	jtext_key(t, &f, "code");
	jtext_str(t, r->code ? r->code : "");
	jtext_key(t, &f, "nic");
	jtext_str(t, r->nic ? r->nic : "");
	jtext_key(t, &f, "op");
	jtext_str(t, r->op ? r->op : "");
	if (r->err) {
		jtext_key(t, &f, "errno");
		jtext_int(t, r->err);
		jtext_key(t, &f, "errno_name");
		jtext_str(t, kerror_errno_name(r->err));
	}
	jtext_key(t, &f, "message");
	jtext_str(t, r->msg ? r->msg : "");
	jtext_lit(t, "}");
}

static void result_fields(struct jtext *t, bool *f, const struct attach_result *r)
{
	bool any;
	size_t i;

	jtext_key(t, f, "state");
	jtext_str(t, attach_state_name(r->state));
	jtext_key(t, f, "queues");
	jtext_lit(t, "[");
	for (i = 0; i < r->n_queues; i++) {
		if (i)
			jtext_lit(t, ",");
		jtext_u64(t, r->queues[i].queue);
	}
	jtext_lit(t, "]");
	jtext_key(t, f, "rules");
	jtext_lit(t, "[");
	for (i = 0; i < r->n_rules; i++) {
		if (i)
			jtext_lit(t, ",");
		jtext_u64(t, r->rule_locs[i]);
	}
	jtext_lit(t, "]");
	jtext_key(t, f, "steering");
	jtext_str(t, r->steering);
	if (r->has_context) {
		jtext_key(t, f, "rss_context");
		jtext_u64(t, r->rss_context);
	}
	jtext_key(t, f, "bindings");
	jtext_lit(t, "[");
	for (i = 0, any = false; i < r->n_queues; i++) {
		const struct attach_queue *x = &r->queues[i];
		bool g = true;

		if (!x->bound)
			continue;
		jtext_lit(t, any ? ",{" : "{");
		any = true;
		jtext_key(t, &g, "queue");
		jtext_u64(t, x->queue);
		jtext_key(t, &g, "id");
		jtext_u64(t, x->binding_id);
		jtext_key(t, &g, "state");
		jtext_str(t, binder_state_name((enum binder_state)x->binding_state));
		if (x->binding_reason) {
			jtext_key(t, &g, "errno");
			jtext_int(t, x->binding_reason);
			jtext_key(t, &g, "errno_name");
			jtext_str(t, kerror_errno_name(x->binding_reason));
		}
		if (x->binding_msg[0]) {
			jtext_key(t, &g, "message");
			jtext_str(t, x->binding_msg);
		}
		jtext_lit(t, "}");
	}
	jtext_lit(t, "]");
	jtext_key(t, f, "reasons");
	jtext_lit(t, "[");
	for (i = 0; i < r->n_reasons; i++) {
		if (i)
			jtext_lit(t, ",");
		attach_reason_to_jtext(&r->reasons[i], t);
	}
	jtext_lit(t, "]");
}

void attach_to_jtext(const struct attach *at, struct jtext *t, bool close)
{
	bool f = true;

	jtext_lit(t, "{");
	id_fields(t, &f, &at->id);
	result_fields(t, &f, &at->res);
	if (at->id.kind == ATTACH_KIND_LEASE)
		lease_fields(t, &f, at);
	if (close)
		jtext_lit(t, "}");
}

void attach_id_to_jtext(const struct attach_id *id, struct jtext *t)
{
	bool f = true;

	jtext_lit(t, "{");
	id_fields(t, &f, id);
	jtext_lit(t, "}");
}

json_object *attach_id_to_json(const struct attach_id *id)
{
	struct jtext t = { 0 };

	attach_id_to_jtext(id, &t);
	return jtext_parse(&t);
}

json_object *attach_reason_to_json(const struct attach_reason *r)
{
	struct jtext t = { 0 };

	attach_reason_to_jtext(r, &t);
	return jtext_parse(&t);
}

json_object *attach_result_to_json(const struct attach_result *r)
{
	struct jtext t = { 0 };
	bool f = true;

	jtext_lit(&t, "{");
	result_fields(&t, &f, r);
	jtext_lit(&t, "}");
	return jtext_parse(&t);
}

json_object *attach_to_json(const struct attach *at)
{
	struct jtext t = { 0 };

	attach_to_jtext(at, &t, true);
	return jtext_parse(&t);
}

static int get_str(json_object *o, const char *k, char *dst, size_t size, bool required,
		   struct kerror *err)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			return kerror_setf(err, EINVAL, NULL, "parse attachment", "'%s' missing", k);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return kerror_setf(err, EINVAL, NULL, "parse attachment", "'%s' is not a string",
				   k);
	s = json_object_get_string(v);
	if (strlen(s) >= size)
		return kerror_setf(err, EINVAL, NULL, "parse attachment", "'%s' is too long", k);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int get_int(json_object *o, const char *k, int64_t min, int64_t max, int64_t *ret,
		   bool *present, struct kerror *err)
{
	json_object *v;
	int64_t x;

	*present = false;
	if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return kerror_setf(err, EINVAL, NULL, "parse attachment", "'%s' is not an integer",
				   k);
	errno = 0;
	x = json_object_get_int64(v);
	if (x < min || x > max)
		return kerror_setf(err, EINVAL, NULL, "parse attachment", "'%s' out of range", k);
	*ret = x;
	*present = true;
	return 0;
}

/* "kind": "lease" and its "lease" object, when present. */
static int lease_from_json(json_object *o, struct attach_id *id, struct kerror *err)
{
	json_object *l, *v;
	int64_t x;
	bool has;
	int r;

	if (!json_object_object_get_ex(o, "kind", &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return kerror_set(err, EINVAL, NULL, "parse attachment", "'kind' is not a string");
	if (!strcmp(json_object_get_string(v), "vnic"))
		return 0;
	if (strcmp(json_object_get_string(v), "lease"))
		return kerror_set(err, EINVAL, NULL, "parse attachment", "unknown 'kind'");
	id->kind = ATTACH_KIND_LEASE;
	if (!json_object_object_get_ex(o, "lease", &l) || !json_object_is_type(l, json_type_object))
		return kerror_set(err, EINVAL, NULL, "parse attachment", "'lease' missing");
	if ((r = get_int(l, "id", 1, UINT32_MAX, &x, &has, err)))
		return r;
	if (!has)
		return kerror_set(err, EINVAL, NULL, "parse attachment", "lease 'id' missing");
	id->lease.id = (uint32_t)x;
	if (!json_object_object_get_ex(l, "flow", &v))
		return kerror_set(err, EINVAL, NULL, "parse attachment", "lease 'flow' missing");
	if ((r = flow_from_json(v, &id->lease.flow, err)))
		return r;
	if ((r = get_int(l, "pid", 1, INT32_MAX, &x, &has, err)))
		return r;
	if (has)
		id->lease.pid = (pid_t)x;
	if ((r = get_int(l, "pid_start", 0, INT64_MAX, &x, &has, err)))
		return r;
	if (has)
		id->lease.pid_start = (uint64_t)x;
	return 0;
}

/* attach_id_from_json's fields into id (from attach_id_init), which may
 * own some whatever this returns. */
static int id_from_json(json_object *o, struct attach_id *id, struct kerror *err)
{
	char mac[32], domain[ATTACH_DOMAIN_MAX];
	int64_t x;
	bool has;
	int r;

	if (!o || !json_object_is_type(o, json_type_object))
		return kerror_set(err, EINVAL, NULL, "parse attachment", "not an object");
	if ((r = get_str(o, "domain", domain, sizeof(domain), true, err)) ||
	    (r = get_str(o, "uuid", id->uuid, sizeof(id->uuid), false, err)) ||
	    (r = get_str(o, "mac", mac, sizeof(mac), true, err)) ||
	    (r = get_str(o, "nic", id->nic, sizeof(id->nic), true, err)) ||
	    (r = get_str(o, "tap", id->tap, sizeof(id->tap), false, err)))
		return r;
	if (nic_mac_parse(mac, id->mac) < 0)
		return kerror_setf(err, EINVAL, NULL, "parse attachment", "bad MAC '%s'", mac);
	if ((r = get_int(o, "nic_ifindex", 0, INT32_MAX, &x, &has, err)))
		return r;
	if (has)
		id->nic_ifindex = (int)x;
	if ((r = get_int(o, "tap_ifindex", 0, INT32_MAX, &x, &has, err)))
		return r;
	if (has)
		id->tap_ifindex = (int)x;
	if ((r = get_int(o, "queues_requested", 1, ATTACH_QUEUES_MAX, &x, &has, err)))
		return r;
	if (has)
		id->queues = (uint32_t)x;
	if ((r = get_int(o, "numa_node", -1, 4095, &x, &has, err)))
		return r;
	if (has)
		id->numa_node = (int)x;
	if ((r = get_int(o, "seq", 0, INT64_MAX, &x, &has, err)))
		return r;
	if (has)
		id->seq = (uint64_t)x;
	{
		json_object *a;
		size_t i, n;

		if (json_object_object_get_ex(o, "addresses", &a) &&
		    !json_object_is_type(a, json_type_null)) {
			if (!json_object_is_type(a, json_type_array))
				return kerror_set(err, EINVAL, NULL, "parse attachment",
						  "'addresses' is not an array");
			n = json_object_array_length(a);
			for (i = 0; i < n; i++) {
				json_object *e = json_object_array_get_idx(a, i);
				const char *s;

				if (!json_object_is_type(e, json_type_string))
					return kerror_set(err, EINVAL, NULL, "parse attachment",
							  "address is not a string");
				s = json_object_get_string(e);
				r = attach_id_add_address(id, s);
				if (r == -ENOMEM)
					return kerror_set(err, ENOMEM, NULL, "parse attachment",
							  "out of memory");
				if (r < 0)
					return kerror_setf(err, EINVAL, NULL, "parse attachment",
							   "bad or too many addresses ('%.64s')", s);
			}
		}
	}
	if ((r = lease_from_json(o, id, err)))
		return r;
	if (attach_id_set_domain(id, domain) < 0)
		return kerror_set(err, ENOMEM, NULL, "parse attachment", "out of memory");
	return 0;
}

int attach_id_from_json(json_object *o, struct attach_id *ret, struct kerror *err)
{
	struct attach_id id;
	int r;

	attach_id_init(&id);
	r = id_from_json(o, &id, err);
	if (r) {
		attach_id_clear(&id);
		return r;
	}
	*ret = id;
	return 0;
}
