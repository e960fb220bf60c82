// SPDX-License-Identifier: MIT
/*
 * domxml — libvirt domain XML reader (see domxml.h).
 *
 * Owns: the libxml2 parse with safe options, the walk of the tree (the few
 * paths it reads, as XPath would select them, without an XPath engine), and the
 * validation of the zcrx metadata.  Must not: call libvirt, log, keep state
 * between calls (libxml2's global parser state is initialised once).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "domxml.h"
#include "hex.h"

/* Entities are never expanded, no DTD or network access; errors are taken
 * from the parser context instead of being printed by libxml2. */
#define DOMXML_PARSE_OPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | \
			   XML_PARSE_NOCDATA | XML_PARSE_NOBLANKS | XML_PARSE_COMPACT)

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int domxml_uuid_parse(const char *s, uint8_t uuid[16])
{
	static const int dash[] = { 8, 13, 18, 23 };
	uint8_t u[16];
	size_t len, i, k = 0, d = 0;
	int b;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	if (len != 36 && len != 32)
		return -EINVAL;
	for (i = 0; i < len;) {
		if (len == 36 && d < 4 && i == (size_t)dash[d]) {
			if (s[i] != '-')
				return -EINVAL;
			d++;
			i++;
			continue;
		}
		if (k >= 16)
			return -EINVAL;
		b = hex_byte(s + i);
		if (b < 0)
			return -EINVAL;
		u[k++] = (uint8_t)b;
		i += 2;
	}
	if (k != 16)
		return -EINVAL;
	memcpy(uuid, u, 16);
	return 0;
}

const char *domxml_uuid_format(const uint8_t u[16], char buf[37])
{
	/* groups of 4, 2, 2, 2 and 6 bytes (by table: snprintf's format
	 * parsing cost ~7,000 instructions, every domain event formats one) */
	char *p = hex_put(buf, u, 4);

	*p++ = '-';
	p = hex_put(p, u + 4, 2);
	*p++ = '-';
	p = hex_put(p, u + 6, 2);
	*p++ = '-';
	p = hex_put(p, u + 8, 2);
	*p++ = '-';
	p = hex_put(p, u + 10, 6);
	*p = '\0';
	return buf;
}

/* Decimal without sign, spaces or overflow. */
static int parse_uint(const char *s, size_t *pos, unsigned long max, unsigned long *ret)
{
	unsigned long v = 0;
	size_t i = *pos;

	if (!isdigit((unsigned char)s[i]))
		return -EINVAL;
	while (isdigit((unsigned char)s[i])) {
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > max)
			return -ERANGE;
		i++;
	}
	*pos = i;
	*ret = v;
	return 0;
}

int domxml_parse_bitmap(const char *s, uint64_t *bits, unsigned nbits)
{
	size_t pos = 0, nwords = (nbits + 63) / 64;
	unsigned long a, b, v;
	bool neg;
	int r;

	if (!s || !*s || strlen(s) > 4096)
		return -EINVAL;
	memset(bits, 0, nwords * sizeof(*bits));
	for (;;) {
		while (s[pos] == ' ')
			pos++;
		neg = s[pos] == '^';
		if (neg)
			pos++;
		r = parse_uint(s, &pos, 1u << 20, &a);
		if (r < 0)
			return r == -ERANGE ? -ERANGE : -EINVAL;
		b = a;
		if (!neg && s[pos] == '-') {
			pos++;
			r = parse_uint(s, &pos, 1u << 20, &b);
			if (r < 0)
				return r == -ERANGE ? -ERANGE : -EINVAL;
			if (b < a)
				return -EINVAL;
		}
		if (b >= nbits)
			return -ERANGE;
		for (v = a; v <= b; v++) {
			if (neg)
				bits[v / 64] &= ~(UINT64_C(1) << (v % 64));
			else
				bits[v / 64] |= UINT64_C(1) << (v % 64);
		}
		while (s[pos] == ' ')
			pos++;
		if (!s[pos])
			return 0;
		if (s[pos] != ',')
			return -EINVAL;
		pos++;
	}
}

const char *domxml_iface_type_name(enum domxml_iface_type t)
{
	switch (t) {
	case DOMXML_IFACE_OTHER: return "other";
	case DOMXML_IFACE_DIRECT: return "direct";
	case DOMXML_IFACE_BRIDGE: return "bridge";
	case DOMXML_IFACE_NETWORK: return "network";
	case DOMXML_IFACE_ETHERNET: return "ethernet";
	case DOMXML_IFACE_USER: return "user";
	case DOMXML_IFACE_VHOSTUSER: return "vhostuser";
	case DOMXML_IFACE_HOSTDEV: return "hostdev";
	}
	return "?";
}

const char *domxml_macvtap_mode_name(enum domxml_macvtap_mode m)
{
	switch (m) {
	case DOMXML_MODE_NONE: return "";
	case DOMXML_MODE_VEPA: return "vepa";
	case DOMXML_MODE_BRIDGE: return "bridge";
	case DOMXML_MODE_PRIVATE: return "private";
	case DOMXML_MODE_PASSTHROUGH: return "passthrough";
	case DOMXML_MODE_OTHER: return "other";
	}
	return "?";
}

const char *domxml_meta_state_name(enum domxml_meta_state s)
{
	switch (s) {
	case DOMXML_META_ABSENT: return "absent";
	case DOMXML_META_VALID: return "valid";
	case DOMXML_META_INVALID: return "invalid";
	}
	return "?";
}

static enum domxml_iface_type iface_type_from(const char *s)
{
	static const struct {
		const char *n;
		enum domxml_iface_type t;
	} map[] = {
		{ "direct", DOMXML_IFACE_DIRECT },     { "bridge", DOMXML_IFACE_BRIDGE },
		{ "network", DOMXML_IFACE_NETWORK },   { "ethernet", DOMXML_IFACE_ETHERNET },
		{ "user", DOMXML_IFACE_USER },         { "vhostuser", DOMXML_IFACE_VHOSTUSER },
		{ "hostdev", DOMXML_IFACE_HOSTDEV },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(s, map[i].n))
			return map[i].t;
	return DOMXML_IFACE_OTHER;
}

static enum domxml_macvtap_mode mode_from(const char *s)
{
	if (!*s)
		return DOMXML_MODE_NONE;
	if (!strcmp(s, "vepa"))
		return DOMXML_MODE_VEPA;
	if (!strcmp(s, "bridge"))
		return DOMXML_MODE_BRIDGE;
	if (!strcmp(s, "private"))
		return DOMXML_MODE_PRIVATE;
	if (!strcmp(s, "passthrough"))
		return DOMXML_MODE_PASSTHROUGH;
	return DOMXML_MODE_OTHER;
}

/* --- small libxml2 helpers -------------------------------------------------- */

static bool is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, BAD_CAST name) &&
	       (!n->ns || !n->ns->href || !*n->ns->href);
}

static const xmlNode *child_elem(const xmlNode *parent, const char *name)
{
	const xmlNode *c;

	for (c = parent->children; c; c = c->next)
		if (is_elem(c, name))
			return c;
	return NULL;
}

/* The attribute's text (no namespace) or NULL; free with xmlFree. */
static char *attr_get(const xmlNode *n, const char *name)
{
	if (!n)
		return NULL;
	return (char *)xmlGetNoNsProp((xmlNode *)n, BAD_CAST name);
}

/* Copy attribute into buf.  1 = copied, 0 = absent, -ENAMETOOLONG = did not fit. */
static int attr_copy(const xmlNode *n, const char *name, char *buf, size_t size)
{
	char *v = attr_get(n, name);
	size_t len;

	buf[0] = 0;
	if (!v)
		return 0;
	len = strlen(v);
	if (len >= size) {
		xmlFree(v);
		return -ENAMETOOLONG;
	}
	memcpy(buf, v, len + 1);
	xmlFree(v);
	return 1;
}

/* Text content of the first child element `name` of parent. */
static char *child_text(const xmlNode *parent, const char *name)
{
	const xmlNode *c = child_elem(parent, name);

	return c ? (char *)xmlNodeGetContent(c) : NULL;
}

static void trim(char *s)
{
	size_t len = strlen(s), i = 0;

	while (len && isspace((unsigned char)s[len - 1]))
		s[--len] = 0;
	while (isspace((unsigned char)s[i]))
		i++;
	if (i)
		memmove(s, s + i, len - i + 1);
}

/*
 * The elements /domain/A/B selects, in document order: every child B (no
 * namespace, or ns's when ns is set) of every child A of root.  Walked
 * with next_grandchild from NULL until it returns NULL.
 */
struct walk {
	const xmlNode *a, *b;
};

static bool is_ns_elem(const xmlNode *n, const char *name, const char *ns)
{
	if (!ns)
		return is_elem(n, name);
	return n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, BAD_CAST name) && n->ns &&
	       n->ns->href && !xmlStrcmp(n->ns->href, BAD_CAST ns);
}

static const xmlNode *next_grandchild(const xmlNode *root, struct walk *w, const char *a,
				      const char *b, const char *ns)
{
	for (;;) {
		w->b = w->b ? w->b->next : NULL;
		for (; w->b; w->b = w->b->next)
			if (is_ns_elem(w->b, b, ns))
				return w->b;
		w->a = w->a ? w->a->next : root->children;
		for (; w->a && !is_elem(w->a, a); w->a = w->a->next)
			;
		if (!w->a)
			return NULL;
		/* its first child: checked at the top */
		w->b = w->a->children;
		if (w->b && is_ns_elem(w->b, b, ns))
			return w->b;
	}
}

static size_t count_grandchildren(const xmlNode *root, const char *a, const char *b,
				  const char *ns)
{
	struct walk w = { 0 };
	size_t n = 0;

	while (next_grandchild(root, &w, a, b, ns))
		n++;
	return n;
}

/* --- interfaces --------------------------------------------------------------- */

static void iface_problem(struct domxml_iface *i, const char *what)
{
	if (!i->problem[0])
		snprintf(i->problem, sizeof(i->problem), "%s", what);
}

static void parse_iface(const xmlNode *n, unsigned index, struct domxml_iface *i)
{
	const xmlNode *src, *c;
	char buf[64], *v;
	unsigned long q;
	size_t pos = 0;
	int r;

	memset(i, 0, sizeof(*i));
	i->index = index;

	r = attr_copy(n, "type", i->type_name, sizeof(i->type_name));
	if (r < 0)
		iface_problem(i, "type too long");
	i->type = iface_type_from(i->type_name);

	c = child_elem(n, "mac");
	r = c ? attr_copy(c, "address", buf, sizeof(buf)) : 0;
	if (r > 0 && nic_mac_parse(buf, i->mac) == 0)
		i->has_mac = true;
	else
		iface_problem(i, r == 0 ? "no MAC address" : "malformed MAC address");

	src = child_elem(n, "source");
	if (src) {
		if (attr_copy(src, "network", i->network, sizeof(i->network)) < 0)
			iface_problem(i, "source network name too long");
		if (attr_copy(src, "dev", i->source_dev, sizeof(i->source_dev)) < 0)
			iface_problem(i, "source dev name too long");
		if (attr_copy(src, "mode", i->mode_name, sizeof(i->mode_name)) < 0)
			iface_problem(i, "source mode too long");
		i->mode = mode_from(i->mode_name);
		if (attr_copy(src, "bridge", i->bridge, sizeof(i->bridge)) < 0)
			iface_problem(i, "source bridge name too long");
	}

	c = child_elem(n, "target");
	if (c && attr_copy(c, "dev", i->target_dev, sizeof(i->target_dev)) < 0)
		iface_problem(i, "target dev name too long");

	c = child_elem(n, "model");
	if (c && attr_copy(c, "type", i->model, sizeof(i->model)) < 0)
		iface_problem(i, "model type too long");

	c = child_elem(n, "driver");
	v = attr_get(c, "queues");
	if (v) {
		if (parse_uint(v, &pos, DOMXML_QUEUES_MAX, &q) < 0 || v[pos] || q == 0)
			iface_problem(i, "malformed driver queues");
		else
			i->queues = (uint32_t)q;
		xmlFree(v);
	}
}

/* /domain/devices/interface */
static int parse_ifaces(const xmlNode *root, struct domxml_domain *d, char *err, size_t errlen)
{
	size_t n = count_grandchildren(root, "devices", "interface", NULL), k;
	struct walk w = { 0 };

	if (n > DOMXML_IFACES_MAX) {
		seterr(err, errlen, "too many interfaces (%zu, at most %d)", n, DOMXML_IFACES_MAX);
		return -EINVAL;
	}
	if (n > 0) {
		d->ifaces = calloc(n, sizeof(*d->ifaces));
		if (!d->ifaces)
			return -ENOMEM;
	}
	for (k = 0; k < n; k++)
		parse_iface(next_grandchild(root, &w, "devices", "interface", NULL), (unsigned)k,
			    &d->ifaces[k]);
	d->n_ifaces = n;
	return 0;
}

/* --- zcrx metadata ------------------------------------------------------------ */

static bool in_ns(const xmlNode *n)
{
	return n->ns && n->ns->href && !xmlStrcmp(n->ns->href, BAD_CAST DOMXML_NS);
}

static int meta_invalid(struct domxml_meta *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int meta_invalid(struct domxml_meta *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->error, sizeof(m->error), fmt, ap);
	va_end(ap);
	m->state = DOMXML_META_INVALID;
	free(m->nics);
	m->nics = NULL;
	m->n_nics = 0;
	return -EINVAL;
}

/* Printable, bounded copy of user text for error messages. */
static const char *clip(const xmlChar *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s && s[i] && i + 1 < size; i++)
		buf[i] = isprint(s[i]) ? (char)s[i] : '?';
	buf[i] = 0;
	if (s && s[i] && size > 4)
		memcpy(buf + size - 4, "...", 4);
	return buf;
}

static int parse_meta_nic(struct domxml_meta *m, const xmlNode *n, size_t idx)
{
	struct domxml_meta_nic *nic = &m->nics[idx];
	const xmlAttr *a;
	char c1[40], c2[40], macs[18];
	unsigned long q;
	size_t pos, k;
	bool has_mac = false;
	xmlChar *v;
	int ok;

	nic->enable = true;
	for (a = n->properties; a; a = a->next) {
		if (a->ns && a->ns->href && xmlStrcmp(a->ns->href, BAD_CAST DOMXML_NS))
			continue; /* someone else's namespaced attribute */
		v = xmlNodeListGetString(n->doc, a->children, 1);
		if (!v)
			return meta_invalid(m, "nic #%zu: attribute '%s' has no value", idx + 1,
					    clip(a->name, c1, sizeof(c1)));
		ok = 1;
		if (!xmlStrcmp(a->name, BAD_CAST "mac")) {
			ok = nic_mac_parse((const char *)v, nic->mac) == 0;
			has_mac = ok;
		} else if (!xmlStrcmp(a->name, BAD_CAST "queues")) {
			pos = 0;
			ok = parse_uint((const char *)v, &pos, DOMXML_META_QUEUES_MAX, &q) == 0 &&
			     !v[pos] && q > 0;
			nic->queues = ok ? (uint32_t)q : 0;
		} else if (!xmlStrcmp(a->name, BAD_CAST "enable")) {
			if (!xmlStrcmp(v, BAD_CAST "yes"))
				nic->enable = true;
			else if (!xmlStrcmp(v, BAD_CAST "no"))
				nic->enable = false;
			else
				ok = 0;
		} else {
			xmlFree(v);
			return meta_invalid(m, "nic #%zu: unknown attribute '%s'", idx + 1,
					    clip(a->name, c1, sizeof(c1)));
		}
		if (!ok) {
			char want[40];

			if (!xmlStrcmp(a->name, BAD_CAST "queues"))
				snprintf(want, sizeof(want), "1 to %d", DOMXML_META_QUEUES_MAX);
			else if (!xmlStrcmp(a->name, BAD_CAST "enable"))
				snprintf(want, sizeof(want), "yes or no");
			else
				snprintf(want, sizeof(want), "a MAC address");
			meta_invalid(m, "nic #%zu: invalid %s='%s' (expected %s)", idx + 1,
				     clip(a->name, c1, sizeof(c1)), clip(v, c2, sizeof(c2)), want);
			xmlFree(v);
			return -EINVAL;
		}
		xmlFree(v);
	}
	if (!has_mac)
		return meta_invalid(m, "nic #%zu: mac= is required", idx + 1);
	if (nic->mac[0] & 1)
		return meta_invalid(m, "nic #%zu: mac='%s' is a multicast address", idx + 1,
				    nic_mac_format(nic->mac, macs));
	for (k = 0; k < idx; k++)
		if (!memcmp(m->nics[k].mac, nic->mac, DOMXML_MAC_LEN))
			return meta_invalid(m, "nic #%zu: mac='%s' appears twice", idx + 1,
					    nic_mac_format(nic->mac, macs));
	return 0;
}

/* /domain/metadata/zcrx:config (DOMXML_NS) */
static void parse_meta(const xmlNode *root, struct domxml_meta *m)
{
	struct walk w = { 0 };
	const xmlNode *cfg, *c;
	const xmlAttr *a;
	char c1[40];
	size_t n = 0;

	memset(m, 0, sizeof(*m));
	cfg = next_grandchild(root, &w, "metadata", "config", DOMXML_NS);
	if (!cfg)
		return;
	if (next_grandchild(root, &w, "metadata", "config", DOMXML_NS)) {
		meta_invalid(m, "more than one <zcrx:config> element");
		return;
	}

	for (a = cfg->properties; a; a = a->next) {
		if (a->ns && a->ns->href && xmlStrcmp(a->ns->href, BAD_CAST DOMXML_NS))
			continue;
		meta_invalid(m, "<zcrx:config>: unknown attribute '%s'",
			     clip(a->name, c1, sizeof(c1)));
		return;
	}
	for (c = cfg->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE) {
			xmlChar *t = xmlNodeGetContent(c);
			bool blank = true;
			size_t i;

			for (i = 0; t && t[i]; i++)
				if (!isspace(t[i]))
					blank = false;
			xmlFree(t);
			if (!blank) {
				meta_invalid(m, "<zcrx:config>: unexpected text");
				return;
			}
			continue;
		}
		if (c->type != XML_ELEMENT_NODE)
			continue; /* comments, processing instructions */
		if (!in_ns(c) || xmlStrcmp(c->name, BAD_CAST "nic")) {
			meta_invalid(m, "<zcrx:config>: unknown element '%s'",
				     clip(c->name, c1, sizeof(c1)));
			return;
		}
		if (c->children) {
			meta_invalid(m, "<zcrx:nic> must be empty");
			return;
		}
		n++;
	}
	if (n > DOMXML_META_NICS_MAX) {
		meta_invalid(m, "too many <zcrx:nic> elements (%zu, at most %d)", n,
			     DOMXML_META_NICS_MAX);
		return;
	}
	m->state = DOMXML_META_VALID;
	if (!n)
		return;
	m->nics = calloc(n, sizeof(*m->nics));
	if (!m->nics) {
		meta_invalid(m, "out of memory");
		return;
	}
	for (c = cfg->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (parse_meta_nic(m, c, m->n_nics) < 0)
			return;
		m->n_nics++;
	}
}

/* --- NUMA hints --------------------------------------------------------------- */

/* what: "numatune nodeset", ...; val may be NULL. */
static void numa_problem(struct domxml_numa *nu, const char *what, const char *val)
{
	char c1[44];

	if (nu->problem[0])
		return;
	if (val)
		snprintf(nu->problem, sizeof(nu->problem), "unusable %s '%s'", what,
			 clip(BAD_CAST val, c1, sizeof(c1)));
	else
		snprintf(nu->problem, sizeof(nu->problem), "unusable %s", what);
}

static void parse_numa(const xmlNode *root, struct domxml_numa *nu)
{
	uint64_t cpus[DOMXML_CPUS_MAX / 64];
	struct walk wk = { 0 };
	const xmlNode *mem, *pin, *vcpu;
	char *v;
	int k, r;
	size_t w;

	memset(nu, 0, sizeof(*nu));

	/* /domain/numatune/memory, the first */
	mem = next_grandchild(root, &wk, "numatune", "memory", NULL);
	if (mem) {

		if (attr_copy(mem, "mode", nu->memory_mode, sizeof(nu->memory_mode)) < 0)
			numa_problem(nu, "numatune mode", NULL);
		v = attr_get(mem, "nodeset");
		if (v) {
			r = domxml_parse_bitmap(v, &nu->memory_nodes, DOMXML_NUMA_NODES_MAX);
			if (r == 0 && nu->memory_nodes)
				nu->has_memory_nodes = true;
			else
				numa_problem(nu, "numatune nodeset", v);
			xmlFree(v);
		}
	}

	/* /domain/cputune/vcpupin, every one (at most 4096) */
	wk = (struct walk){ 0 };
	for (k = 0; k < 4096 && (pin = next_grandchild(root, &wk, "cputune", "vcpupin", NULL));
	     k++) {
		v = attr_get(pin, "cpuset");
		if (!v)
			continue;
		r = domxml_parse_bitmap(v, cpus, DOMXML_CPUS_MAX);
		if (r < 0)
			numa_problem(nu, "vcpupin cpuset", v);
		else {
			for (w = 0; w < DOMXML_CPUS_MAX / 64; w++)
				nu->cpus[w] |= cpus[w];
			nu->has_cpus = true;
		}
		xmlFree(v);
	}
	if (nu->has_cpus)
		return;

	/* /domain/vcpu, the first */
	for (vcpu = root->children; vcpu && !is_elem(vcpu, "vcpu"); vcpu = vcpu->next)
		;
	if (vcpu) {
		v = attr_get(vcpu, "cpuset");
		if (v) {
			if (domxml_parse_bitmap(v, nu->cpus, DOMXML_CPUS_MAX) == 0)
				nu->has_cpus = true;
			else
				numa_problem(nu, "vcpu cpuset", v);
			xmlFree(v);
		}
	}
}

/* --- the domain ----------------------------------------------------------------- */

static int parse_identity(const xmlNode *root, struct domxml_domain *d, char *err,
			  size_t errlen)
{
	char *v, c1[40];
	size_t pos = 0, len;
	unsigned long id;
	int r = 0;

	if (attr_copy(root, "type", d->type, sizeof(d->type)) < 0) {
		seterr(err, errlen, "domain type too long");
		return -EINVAL;
	}
	d->id = -1;
	v = attr_get(root, "id");
	if (v) {
		if (parse_uint(v, &pos, INT_MAX, &id) < 0 || v[pos])
			r = -EINVAL;
		else
			d->id = (int)id;
		if (r < 0)
			seterr(err, errlen, "malformed domain id '%s'",
			       clip(BAD_CAST v, c1, sizeof(c1)));
		xmlFree(v);
		if (r < 0)
			return r;
	}

	v = child_text(root, "name");
	if (!v) {
		seterr(err, errlen, "domain has no <name>");
		return -EINVAL;
	}
	trim(v);
	len = strlen(v);
	if (len == 0 || len >= sizeof(d->name)) {
		seterr(err, errlen, len ? "domain name too long (%zu bytes)" : "empty domain name",
		       len);
		xmlFree(v);
		return -EINVAL;
	}
	memcpy(d->name, v, len + 1);
	xmlFree(v);

	v = child_text(root, "uuid");
	if (!v) {
		seterr(err, errlen, "domain '%s' has no <uuid>", d->name);
		return -EINVAL;
	}
	trim(v);
	if (domxml_uuid_parse(v, d->uuid) < 0) {
		seterr(err, errlen, "domain '%s': malformed uuid '%s'", d->name,
		       clip(BAD_CAST v, c1, sizeof(c1)));
		xmlFree(v);
		return -EINVAL;
	}
	xmlFree(v);
	domxml_uuid_format(d->uuid, d->uuid_str);
	return 0;
}

static void init_parser(void)
{
	xmlInitParser();
}

void domxml_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	/* libxml2 wants its global state set up once before threads parse. */
	(void)pthread_once(&once, init_parser);
}

/*
 * A parser kept by one thread: its libxml2 context (and the context's
 * dictionary of names) is reused from parse to parse.  The dictionary keeps
 * every name it has seen, so the context is made anew after a bounded number
 * of parses, once the dictionary holds more than a bounded number of names,
 * and after a parse that failed.
 */
#define PARSER_REUSE_MAX 256
#define PARSER_DICT_MAX 4096

struct domxml_parser {
	xmlParserCtxt *ctx;
	unsigned uses;
};

struct domxml_parser *domxml_parser_new(void)
{
	domxml_init();
	return calloc(1, sizeof(struct domxml_parser));
}

struct domxml_parser *domxml_parser_free(struct domxml_parser *p)
{
	if (p) {
		xmlFreeParserCtxt(p->ctx);
		free(p);
	}
	return NULL;
}

static void parser_drop(struct domxml_parser *p)
{
	xmlFreeParserCtxt(p->ctx);
	p->ctx = NULL;
	p->uses = 0;
}

static xmlParserCtxt *parser_take(struct domxml_parser *p)
{
	if (p->ctx && (p->uses >= PARSER_REUSE_MAX ||
		       (p->ctx->dict && xmlDictSize(p->ctx->dict) > PARSER_DICT_MAX)))
		parser_drop(p);
	if (!p->ctx)
		p->ctx = xmlNewParserCtxt();
	if (p->ctx)
		p->uses++;
	return p->ctx;
}

int domxml_parse(const char *xml, size_t len, struct domxml_domain **ret, char *err,
		 size_t errlen)
{
	struct domxml_parser p = { 0 };
	int r;

	r = domxml_parser_parse(&p, xml, len, ret, err, errlen);
	parser_drop(&p);
	return r;
}

int domxml_parser_parse(struct domxml_parser *p, const char *xml, size_t len,
			struct domxml_domain **ret, char *err, size_t errlen)
{
	struct domxml_domain *d = NULL;
	xmlParserCtxt *pctx;
	xmlDoc *doc = NULL;
	xmlNode *root;
	const xmlError *e;
	int r;

	seterr(err, errlen, "%s", "");
	if (!xml) {
		seterr(err, errlen, "no XML");
		return -EINVAL;
	}
	if (len > DOMXML_XML_MAX) {
		seterr(err, errlen, "domain XML too large (%zu bytes, at most %u)", len,
		       DOMXML_XML_MAX);
		return -E2BIG;
	}
	if (len == 0) {
		seterr(err, errlen, "empty domain XML");
		return -EINVAL;
	}
	domxml_init();

	pctx = parser_take(p);
	if (!pctx)
		return -ENOMEM;
	doc = xmlCtxtReadMemory(pctx, xml, (int)len, "domain.xml", NULL, DOMXML_PARSE_OPTS);
	if (!doc) {
		e = xmlCtxtGetLastError(pctx);
		if (e && e->message) {
			char msg[160];

			snprintf(msg, sizeof(msg), "%s", e->message);
			trim(msg);
			seterr(err, errlen, "malformed domain XML: line %d: %s", e->line, msg);
		} else {
			seterr(err, errlen, "malformed domain XML");
		}
		r = -EINVAL;
		goto out;
	}
	if (doc->intSubset || doc->extSubset) {
		/* libvirt never writes a DOCTYPE; refusing it rules out entity games. */
		seterr(err, errlen, "domain XML must not have a DOCTYPE");
		r = -EINVAL;
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !is_elem(root, "domain")) {
		seterr(err, errlen, "root element is not <domain>");
		r = -EINVAL;
		goto out;
	}

	d = calloc(1, sizeof(*d));
	if (!d) {
		r = -ENOMEM;
		goto out;
	}
	r = parse_identity(root, d, err, errlen);
	if (r < 0)
		goto out;

	r = parse_ifaces(root, d, err, errlen);
	if (r < 0)
		goto out;
	parse_meta(root, &d->meta);
	parse_numa(root, &d->numa);

	*ret = d;
	d = NULL;
	r = 0;
out:
	domxml_free(d);
	xmlFreeDoc(doc);
	if (r < 0)
		parser_drop(p); /* nothing of a failed parse carries over */
	return r;
}

struct domxml_domain *domxml_free(struct domxml_domain *d)
{
	if (!d)
		return NULL;
	free(d->ifaces);
	free(d->meta.nics);
	free(d);
	return NULL;
}

int domxml_copy(const struct domxml_domain *src, struct domxml_domain **ret)
{
	struct domxml_domain *d = malloc(sizeof(*d));

	if (!d)
		return -ENOMEM;
	*d = *src;
	d->ifaces = NULL;
	d->meta.nics = NULL;
	if (src->n_ifaces) {
		d->ifaces = malloc(src->n_ifaces * sizeof(*d->ifaces));
		if (!d->ifaces)
			goto fail;
		memcpy(d->ifaces, src->ifaces, src->n_ifaces * sizeof(*d->ifaces));
	}
	if (src->meta.n_nics) {
		d->meta.nics = malloc(src->meta.n_nics * sizeof(*d->meta.nics));
		if (!d->meta.nics)
			goto fail;
		memcpy(d->meta.nics, src->meta.nics, src->meta.n_nics * sizeof(*d->meta.nics));
	}
	*ret = d;
	return 0;
fail:
	domxml_free(d);
	return -ENOMEM;
}

const struct domxml_iface *domxml_find_iface(const struct domxml_domain *d,
					     const uint8_t mac[DOMXML_MAC_LEN])
{
	size_t i;

	for (i = 0; i < d->n_ifaces; i++)
		if (d->ifaces[i].has_mac && !memcmp(d->ifaces[i].mac, mac, DOMXML_MAC_LEN))
			return &d->ifaces[i];
	return NULL;
}

const struct domxml_meta_nic *domxml_meta_find(const struct domxml_meta *m,
					       const uint8_t mac[DOMXML_MAC_LEN])
{
	size_t i;

	if (m->state != DOMXML_META_VALID)
		return NULL;
	for (i = 0; i < m->n_nics; i++)
		if (!memcmp(m->nics[i].mac, mac, DOMXML_MAC_LEN))
			return &m->nics[i];
	return NULL;
}

bool domxml_iface_is_macvtap(const struct domxml_iface *i)
{
	return i->type == DOMXML_IFACE_DIRECT && i->source_dev[0] && i->has_mac && !i->problem[0];
}
