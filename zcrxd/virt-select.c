// SPDX-License-Identifier: MIT
/*
 * virt-select — vNIC selection policy (see virt-select.h).
 * Owns: the rules and their reasons.  Must not: do I/O or keep state.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virt-select.h"

static int add_skip(struct virt_selection *s, const uint8_t *mac, bool refused, const char *fmt,
		    ...) __attribute__((format(printf, 4, 5)));

static int add_skip(struct virt_selection *s, const uint8_t *mac, bool refused, const char *fmt,
		    ...)
{
	struct virt_skip *n = realloc(s->skips, sizeof(*n) * (s->n_skips + 1));
	va_list ap;

	if (!n)
		return -ENOMEM;
	s->skips = n;
	n = &s->skips[s->n_skips++];
	memset(n, 0, sizeof(*n));
	if (mac) {
		n->has_mac = true;
		memcpy(n->mac, mac, DOMXML_MAC_LEN);
	}
	n->refused = refused;
	va_start(ap, fmt);
	vsnprintf(n->why, sizeof(n->why), fmt, ap);
	va_end(ap);
	return 0;
}

static int single_node(const struct domxml_numa *nu)
{
	int k;

	if (!nu->has_memory_nodes || !nu->memory_nodes ||
	    (nu->memory_nodes & (nu->memory_nodes - 1)))
		return -1;
	for (k = 0; k < 64; k++)
		if (nu->memory_nodes >> k & 1)
			return k;
	return -1;
}

/* NULL when selected (with *ret_queues), else the reason (*refused: the
 * domain asks for it and cannot have it). */
static const char *decide(const struct domxml_domain *d, const struct domxml_iface *i,
			  enum config_autoattach mode, const struct virt_select_filter *flt,
			  uint32_t *ret_queues, bool *refused, char *buf, size_t size)
{
	const struct domxml_meta_nic *mn = NULL;
	uint32_t q;

	*refused = false;
	/* what kind of vNIC it is comes first: a vdpa or vhost-user device
	 * names no NIC, whatever else it says */
	if (i->type != DOMXML_IFACE_DIRECT && i->type != DOMXML_IFACE_NETWORK) {
		snprintf(buf, size, "type '%s' is not a macvtap: no NIC of its own",
			 i->type_name[0] ? i->type_name : "?");
		return buf;
	}
	if (i->problem[0]) {
		*refused = true;
		snprintf(buf, size, "cannot be read: %s", i->problem);
		return buf;
	}
	if (!domxml_iface_is_macvtap(i)) {
		if (i->type == DOMXML_IFACE_NETWORK)
			snprintf(buf, size,
				 "network '%.120s' vNIC without a macvtap (not running, or "
				 "not a direct network)",
				 i->network);
		else
			snprintf(buf, size, "type '%s' is not a macvtap: no NIC of its own",
				 i->type_name[0] ? i->type_name : "?");
		return buf;
	}
	if (d->meta.state == DOMXML_META_VALID)
		mn = domxml_meta_find(&d->meta, i->mac);
	if (!flt->explicit_req) {
		switch (mode) {
		case CONFIG_AUTOATTACH_NONE:
			return "AutoAttach=none: only on request";
		case CONFIG_AUTOATTACH_METADATA:
		case CONFIG_AUTOATTACH_DIRECT:
			if (d->meta.state == DOMXML_META_INVALID) {
				*refused = true;
				snprintf(buf, size, "invalid zcrx metadata: %.250s", d->meta.error);
				return buf;
			}
			if (mn && !mn->enable)
				return "disabled in zcrx metadata (enable='no')";
			if (mode == CONFIG_AUTOATTACH_METADATA && !mn)
				return d->meta.state == DOMXML_META_ABSENT ?
					       "no zcrx metadata (AutoAttach=metadata)" :
					       "not listed in zcrx metadata";
			break;
		}
	}
	q = flt->queues ? flt->queues : mn && mn->queues ? mn->queues : i->queues ? i->queues : 1;
	if (q > VIRT_QUEUES_MAX) {
		*refused = true;
		snprintf(buf, size, "asks for %u queues, at most %d", q, VIRT_QUEUES_MAX);
		return buf;
	}
	*ret_queues = q;
	return NULL;
}

int virt_select(const struct domxml_domain *d, enum config_autoattach mode,
		const struct virt_select_filter *flt, struct virt_selection *ret)
{
	static const struct virt_select_filter none = { 0 };
	struct virt_selection s = { 0 };
	const struct domxml_iface *i;
	const char *why;
	bool refused;
	char buf[320];
	uint32_t q = 0;
	size_t k;
	int node = single_node(&d->numa);

	if (!flt)
		flt = &none;
	if (d->n_ifaces) {
		s.vnics = calloc(d->n_ifaces, sizeof(*s.vnics));
		if (!s.vnics)
			return -ENOMEM;
	}
	for (k = 0; k < d->n_ifaces; k++) {
		i = &d->ifaces[k];
		if (flt->mac && (!i->has_mac || memcmp(i->mac, flt->mac, DOMXML_MAC_LEN)))
			continue;
		if (flt->nic && strcmp(i->source_dev, flt->nic))
			continue;
		why = decide(d, i, mode, flt, &q, &refused, buf, sizeof(buf));
		if (why) {
			if (add_skip(&s, i->has_mac ? i->mac : NULL, refused, "%s", why) < 0)
				goto oom;
			continue;
		}
		struct virt_vnic *v = &s.vnics[s.n++];

		memcpy(v->mac, i->mac, DOMXML_MAC_LEN);
		memcpy(v->nic, i->source_dev, sizeof(v->nic));
		memcpy(v->tap, i->target_dev, sizeof(v->tap));
		v->queues = q;
		v->numa_node = node;
	}
	/* metadata naming a vNIC the domain does not have: say so */
	if (!flt->mac && !flt->nic && d->meta.state == DOMXML_META_VALID) {
		for (k = 0; k < d->meta.n_nics; k++) {
			if (domxml_find_iface(d, d->meta.nics[k].mac))
				continue;
			if (add_skip(&s, d->meta.nics[k].mac, true,
				     "named in zcrx metadata, but the domain has no such vNIC") < 0)
				goto oom;
		}
	}
	*ret = s;
	return 0;
oom:
	virt_selection_clear(&s);
	return -ENOMEM;
}

void virt_selection_clear(struct virt_selection *s)
{
	free(s->vnics);
	free(s->skips);
	memset(s, 0, sizeof(*s));
}

const struct virt_vnic *virt_selection_find(const struct virt_selection *s,
					    const uint8_t mac[DOMXML_MAC_LEN])
{
	size_t k;

	for (k = 0; k < s->n; k++)
		if (!memcmp(s->vnics[k].mac, mac, DOMXML_MAC_LEN))
			return &s->vnics[k];
	return NULL;
}
