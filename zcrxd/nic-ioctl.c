// SPDX-License-Identifier: MIT
/*
 * nic-ioctl — SIOCETHTOOL requests, rule encoding and location handling
 * (nic-ioctl.h).  Must not keep state or log.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nic-ioctl.h"

/* SIOCETHTOOL works on a socket of any family (the socket layer passes
 * device ioctls its family does not know to dev_ioctl()): AF_UNIX, so
 * that the unit may forbid AF_INET and AF_INET6 (zcrxd.service). */
int nic_ioctl_open(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

int nic_ioctl_call(int fd, const char *ifname, void *data)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (!ifname || strlen(ifname) >= sizeof(ifr.ifr_name))
		return -ENODEV;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	ifr.ifr_data = data;
	if (ioctl(fd, ZX_SIOCETHTOOL, &ifr) < 0)
		return -errno;
	return 0;
}

static int call(int fd, const char *ifname, void *data, struct kerror *err)
{
	int r = nic_ioctl_call(fd, ifname, data);

	if (r < 0)
		return kerror_set(err, -r, NULL, NULL, NULL);
	return 0;
}

/* ---- rules: encoding ----------------------------------------------------- */

/* TCP_V4/UDP_V4 and TCP_V6/UDP_V6 share one layout per family. */
static void flow_encode(const struct nic_flow *f, struct zx_ethtool_rx_flow_spec *fs)
{
	fs->flow_type = nic_flow_type(f);
	if (f->family == AF_INET6) {
		struct zx_ethtool_tcpip6_spec *h = &fs->h_u.tcp_ip6_spec, *m = &fs->m_u.tcp_ip6_spec;

		h->pdst = htons(f->dport);
		m->pdst = 0xffff;
		if (f->sport) {
			h->psrc = htons(f->sport);
			m->psrc = 0xffff;
		}
		if (f->has_dst) {
			memcpy(h->ip6dst, &f->dst, 16);
			memset(m->ip6dst, 0xff, 16);
		}
		if (f->has_src) {
			memcpy(h->ip6src, &f->src, 16);
			memset(m->ip6src, 0xff, 16);
		}
		return;
	}
	{
		struct zx_ethtool_tcpip4_spec *h = &fs->h_u.tcp_ip4_spec, *m = &fs->m_u.tcp_ip4_spec;

		h->pdst = htons(f->dport);
		m->pdst = 0xffff;
		if (f->sport) {
			h->psrc = htons(f->sport);
			m->psrc = 0xffff;
		}
		if (f->has_dst) {
			memcpy(&h->ip4dst, &f->dst, 4);
			m->ip4dst = 0xffffffffu;
		}
		if (f->has_src) {
			memcpy(&h->ip4src, &f->src, 4);
			m->ip4src = 0xffffffffu;
		}
	}
}

int nic_ioctl_rule_encode(const struct nic_rule *rule, struct zx_ethtool_rxnfc *ret)
{
	struct zx_ethtool_rx_flow_spec *fs = &ret->fs;

	memset(ret, 0, sizeof(*ret));
	ret->cmd = ZX_ETHTOOL_SRXCLSRLINS;
	switch (rule->match) {
	case NIC_RULE_MATCH_ETHER_DST:
		fs->flow_type = ZX_ETHER_FLOW;
		memcpy(fs->h_u.ether_spec.h_dest, rule->mac, NIC_MAC_LEN);
		memset(fs->m_u.ether_spec.h_dest, 0xff, NIC_MAC_LEN);
		break;
	case NIC_RULE_MATCH_IP4_DST:
		fs->flow_type = ZX_IPV4_USER_FLOW;
		fs->h_u.usr_ip4_spec.ip4dst = rule->ip4.s_addr;
		fs->m_u.usr_ip4_spec.ip4dst = 0xffffffffu;
		fs->h_u.usr_ip4_spec.ip_ver = ZX_ETH_RX_NFC_IP4; /* mask stays 0 */
		break;
	case NIC_RULE_MATCH_IP6_DST:
		fs->flow_type = ZX_IPV6_USER_FLOW;
		memcpy(fs->h_u.usr_ip6_spec.ip6dst, &rule->ip6, 16);
		memset(fs->m_u.usr_ip6_spec.ip6dst, 0xff, 16);
		break;
	case NIC_RULE_MATCH_FLOW4:
	case NIC_RULE_MATCH_FLOW6:
		if (rule->flow.family != (rule->match == NIC_RULE_MATCH_FLOW4 ? AF_INET : AF_INET6) ||
		    !rule->flow.dport ||
		    (rule->flow.proto != IPPROTO_TCP && rule->flow.proto != IPPROTO_UDP) ||
		    (rule->flow.family != AF_INET && rule->flow.family != AF_INET6))
			return -EINVAL;
		flow_encode(&rule->flow, fs);
		break;
	case NIC_RULE_MATCH_OTHER:
		return -EINVAL;
	}
	switch (rule->action) {
	case NIC_RULE_ACTION_QUEUE:
		fs->ring_cookie = rule->queue;
		break;
	case NIC_RULE_ACTION_CONTEXT:
		fs->flow_type |= ZX_FLOW_RSS;
		fs->ring_cookie = 0; /* a non-zero ring is an offset few drivers take */
		ret->rss_context = rule->rss_context;
		break;
	case NIC_RULE_ACTION_DROP:
		fs->ring_cookie = ZX_RX_CLS_FLOW_DISC;
		break;
	case NIC_RULE_ACTION_OTHER:
		return -EINVAL;
	}
	ret->flow_type = fs->flow_type;
	fs->location = rule->location;
	return 0;
}

static bool all(const void *p, size_t n, uint8_t v)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != v)
			return false;
	return true;
}

static bool zero(const void *p, size_t n)
{
	return all(p, n, 0);
}

/* A flow rule zcrxd could have made: exact port(s) and addresses, or none;
 * tos/tclass not compared.  Returns false for anything else. */
static bool flow_decode(const struct zx_ethtool_rx_flow_spec *fs, uint32_t ft, struct nic_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->proto = ft == ZX_TCP_V4_FLOW || ft == ZX_TCP_V6_FLOW ? IPPROTO_TCP : IPPROTO_UDP;
	if (ft == ZX_TCP_V6_FLOW || ft == ZX_UDP_V6_FLOW) {
		const struct zx_ethtool_tcpip6_spec *h = &fs->h_u.tcp_ip6_spec,
						    *m = &fs->m_u.tcp_ip6_spec;

		f->family = AF_INET6;
		if (m->pdst != 0xffff || (m->psrc && m->psrc != 0xffff) || m->tclass ||
		    (!zero(m->ip6dst, 16) && !all(m->ip6dst, 16, 0xff)) ||
		    (!zero(m->ip6src, 16) && !all(m->ip6src, 16, 0xff)))
			return false;
		f->dport = ntohs(h->pdst);
		f->sport = m->psrc ? ntohs(h->psrc) : 0;
		if ((f->has_dst = !zero(m->ip6dst, 16)))
			memcpy(&f->dst, h->ip6dst, 16);
		if ((f->has_src = !zero(m->ip6src, 16)))
			memcpy(&f->src, h->ip6src, 16);
	} else {
		const struct zx_ethtool_tcpip4_spec *h = &fs->h_u.tcp_ip4_spec,
						    *m = &fs->m_u.tcp_ip4_spec;

		f->family = AF_INET;
		if (m->pdst != 0xffff || (m->psrc && m->psrc != 0xffff) || m->tos ||
		    (m->ip4dst && m->ip4dst != 0xffffffffu) ||
		    (m->ip4src && m->ip4src != 0xffffffffu))
			return false;
		f->dport = ntohs(h->pdst);
		f->sport = m->psrc ? ntohs(h->psrc) : 0;
		if ((f->has_dst = m->ip4dst != 0))
			memcpy(&f->dst, &h->ip4dst, 4);
		if ((f->has_src = m->ip4src != 0))
			memcpy(&f->src, &h->ip4src, 4);
	}
	return f->dport != 0;
}

void nic_ioctl_rule_decode(const struct zx_ethtool_rxnfc *nfc, struct nic_rule *ret)
{
	const struct zx_ethtool_rx_flow_spec *fs = &nfc->fs;
	uint32_t ft = fs->flow_type & ZX_FLOW_TYPE_MASK;
	bool ext = fs->flow_type & (ZX_FLOW_EXT | ZX_FLOW_MAC_EXT);
	uint64_t vf;

	memset(ret, 0, sizeof(*ret));
	ret->location = fs->location;
	ret->flow_type = fs->flow_type;
	ret->match = NIC_RULE_MATCH_OTHER;

	/* Only exact destination matches with nothing else are "ours". */
	if (!ext && ft == ZX_ETHER_FLOW) {
		const struct zx_ethhdr *m = &fs->m_u.ether_spec;

		if (all(m->h_dest, 6, 0xff) && zero(m->h_source, 6) && m->h_proto == 0) {
			ret->match = NIC_RULE_MATCH_ETHER_DST;
			memcpy(ret->mac, fs->h_u.ether_spec.h_dest, NIC_MAC_LEN);
		}
	} else if (!ext && ft == ZX_IPV4_USER_FLOW) {
		const struct zx_ethtool_usrip4_spec *m = &fs->m_u.usr_ip4_spec;

		if (m->ip4dst == 0xffffffffu && m->ip4src == 0 && m->l4_4_bytes == 0 &&
		    m->tos == 0 && m->proto == 0) {
			ret->match = NIC_RULE_MATCH_IP4_DST;
			ret->ip4.s_addr = fs->h_u.usr_ip4_spec.ip4dst;
		}
	} else if (!ext && ft == ZX_IPV6_USER_FLOW) {
		const struct zx_ethtool_usrip6_spec *m = &fs->m_u.usr_ip6_spec;

		if (all(m->ip6dst, 16, 0xff) && zero(m->ip6src, 16) && m->l4_4_bytes == 0 &&
		    m->tclass == 0 && m->l4_proto == 0) {
			ret->match = NIC_RULE_MATCH_IP6_DST;
			memcpy(&ret->ip6, fs->h_u.usr_ip6_spec.ip6dst, 16);
		}
	} else if (!ext && (ft == ZX_TCP_V4_FLOW || ft == ZX_UDP_V4_FLOW || ft == ZX_TCP_V6_FLOW ||
			    ft == ZX_UDP_V6_FLOW)) {
		if (flow_decode(fs, ft, &ret->flow))
			ret->match = ret->flow.family == AF_INET ? NIC_RULE_MATCH_FLOW4 :
								   NIC_RULE_MATCH_FLOW6;
		else
			memset(&ret->flow, 0, sizeof(ret->flow));
	}

	vf = (fs->ring_cookie & ZX_ETHTOOL_RX_FLOW_SPEC_RING_VF) >> ZX_ETHTOOL_RX_FLOW_SPEC_RING_VF_OFF;
	if (fs->flow_type & ZX_FLOW_RSS) {
		ret->action = NIC_RULE_ACTION_CONTEXT;
		ret->rss_context = nfc->rss_context;
		ret->queue = (uint32_t)(fs->ring_cookie & ZX_ETHTOOL_RX_FLOW_SPEC_RING);
	} else if (fs->ring_cookie == ZX_RX_CLS_FLOW_DISC) {
		ret->action = NIC_RULE_ACTION_DROP;
	} else if (fs->ring_cookie == ZX_RX_CLS_FLOW_WAKE || vf) {
		ret->action = NIC_RULE_ACTION_OTHER;
		ret->queue = (uint32_t)(fs->ring_cookie & ZX_ETHTOOL_RX_FLOW_SPEC_RING);
	} else {
		ret->action = NIC_RULE_ACTION_QUEUE;
		ret->queue = (uint32_t)fs->ring_cookie;
	}
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int nic_ioctl_pick_slot(const uint32_t *locs, size_t n, uint32_t size, uint32_t *ret)
{
	uint32_t *s, want;
	size_t i;

	if (!size)
		return -ENOSPC;
	s = malloc((n ? n : 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (n)
		memcpy(s, locs, n * sizeof(*s));
	qsort(s, n, sizeof(*s), u32_cmp);
	/* from the top down: the first slot no rule holds */
	want = size - 1;
	for (i = n; i > 0; i--) {
		if (s[i - 1] > want)
			continue; /* beyond the table (or a duplicate above) */
		if (s[i - 1] < want)
			break;
		if (want == 0) {
			free(s);
			return -ENOSPC;
		}
		want--;
	}
	free(s);
	*ret = want;
	return 0;
}

int nic_ioctl_insert_location(const struct nic_rule_table *t, const uint32_t *locs, size_t n,
			      bool last, uint32_t *ret)
{
	if (t->loc_special) {
		*ret = last ? ZX_RX_CLS_LOC_LAST : ZX_RX_CLS_LOC_ANY;
		return 0;
	}
	return nic_ioctl_pick_slot(locs, n, t->size, ret);
}

int nic_ioctl_replicate(const uint32_t *indir, uint32_t n, uint32_t size, uint32_t *out)
{
	uint32_t i;

	if (!n || !size || size % n)
		return -EINVAL;
	for (i = 0; i < size; i++)
		out[i] = indir[i % n];
	return 0;
}

/* ---- rules: requests ----------------------------------------------------- */

int nic_ioctl_rule_table(int fd, const char *ifname, struct nic_rule_table *ret, struct kerror *err)
{
	struct zx_ethtool_rxnfc nfc;
	int r;

	memset(&nfc, 0, sizeof(nfc));
	nfc.cmd = ZX_ETHTOOL_GRXCLSRLCNT;
	r = call(fd, ifname, &nfc, err);
	if (r < 0)
		return r;
	ret->count = nfc.rule_cnt;
	ret->loc_special = nfc.data & ZX_RX_CLS_LOC_SPECIAL;
	ret->size = (uint32_t)(nfc.data & ~(uint64_t)ZX_RX_CLS_LOC_SPECIAL);
	return 0;
}

/* GRXCLSRLALL: occupied locations. */
static int rule_locs(int fd, const char *ifname, uint32_t count, uint32_t **ret, size_t *ret_n,
		     struct kerror *err)
{
	struct zx_ethtool_rxnfc *nfc;
	int r;

	*ret = NULL;
	*ret_n = 0;
	if (!count)
		return 0;
	nfc = calloc(1, sizeof(*nfc) + (size_t)count * sizeof(uint32_t));
	if (!nfc)
		return kerror_set(err, ENOMEM, NULL, NULL, NULL);
	nfc->cmd = ZX_ETHTOOL_GRXCLSRLALL;
	nfc->rule_cnt = count;
	r = call(fd, ifname, nfc, err);
	if (r == 0) {
		uint32_t n = nfc->rule_cnt < count ? nfc->rule_cnt : count;

		*ret = malloc((n ? n : 1) * sizeof(uint32_t));
		if (!*ret) {
			r = kerror_set(err, ENOMEM, NULL, NULL, NULL);
		} else {
			memcpy(*ret, nfc->rule_locs, n * sizeof(uint32_t));
			*ret_n = n;
		}
	}
	free(nfc);
	return r;
}

int nic_ioctl_rule_get(int fd, const char *ifname, uint32_t loc, struct nic_rule *ret,
		       struct kerror *err)
{
	struct zx_ethtool_rxnfc nfc;
	int r;

	memset(&nfc, 0, sizeof(nfc));
	nfc.cmd = ZX_ETHTOOL_GRXCLSRULE;
	nfc.fs.location = loc;
	r = call(fd, ifname, &nfc, err);
	if (r < 0)
		return r;
	nic_ioctl_rule_decode(&nfc, ret);
	return 0;
}

int nic_ioctl_rule_dump(int fd, const char *ifname, struct nic_rule **ret, size_t *ret_n,
			struct nic_rule_table *ret_table, struct kerror *err)
{
	struct nic_rule_table t;
	struct nic_rule *rules = NULL;
	uint32_t *locs = NULL;
	size_t n = 0, i, got = 0;
	int r;

	r = nic_ioctl_rule_table(fd, ifname, &t, err);
	if (r < 0)
		return r;
	r = rule_locs(fd, ifname, t.count, &locs, &n, err);
	if (r < 0)
		return r;
	if (n) {
		rules = calloc(n, sizeof(*rules));
		if (!rules) {
			free(locs);
			return kerror_set(err, ENOMEM, NULL, NULL, NULL);
		}
	}
	for (i = 0; i < n; i++) {
		r = nic_ioctl_rule_get(fd, ifname, locs[i], &rules[got], err);
		if (r == -ENOENT)
			continue; /* deleted meanwhile */
		if (r < 0) {
			free(rules);
			free(locs);
			return r;
		}
		got++;
	}
	free(locs);
	kerror_clear(err);
	*ret = rules;
	*ret_n = got;
	if (ret_table)
		*ret_table = t;
	return 0;
}

int nic_ioctl_rule_insert(int fd, const char *ifname, struct nic_rule *rule, bool *io_last,
			  struct kerror *err)
{
	struct zx_ethtool_rxnfc nfc;
	struct nic_rule_table t;
	uint32_t *locs = NULL;
	size_t n = 0;
	int r;

	r = nic_ioctl_rule_encode(rule, &nfc);
	if (r < 0)
		return kerror_set(err, -r, NULL, NULL, "rule cannot be encoded");
	if (rule->location == NIC_LOC_ANY) {
		r = nic_ioctl_rule_table(fd, ifname, &t, err);
		if (r < 0)
			return r;
		if (!t.loc_special) {
			/* the driver wants an explicit index */
			r = rule_locs(fd, ifname, t.count, &locs, &n, err);
			if (r < 0)
				return r;
		}
		r = nic_ioctl_insert_location(&t, locs, n, io_last && *io_last, &nfc.fs.location);
		free(locs);
		if (r < 0)
			return kerror_setf(err, -r, NULL, NULL,
					   "rule table full (%u of %u slots used)", t.count, t.size);
	}
	r = call(fd, ifname, &nfc, err);
	if (r == -EINVAL && nfc.fs.location == ZX_RX_CLS_LOC_LAST) {
		/* drivers refuse special locations they do not know (bnxt
		 * takes RX_CLS_LOC_ANY only): let it pick any slot */
		nfc.fs.location = ZX_RX_CLS_LOC_ANY;
		r = call(fd, ifname, &nfc, err);
		if (r == 0)
			*io_last = false;
	}
	if (r < 0)
		return r;
	rule->location = nfc.fs.location;
	return 0;
}

int nic_ioctl_rule_delete(int fd, const char *ifname, uint32_t loc, struct kerror *err)
{
	struct zx_ethtool_rxnfc nfc;

	memset(&nfc, 0, sizeof(nfc));
	nfc.cmd = ZX_ETHTOOL_SRXCLSRLDEL;
	nfc.fs.location = loc;
	return call(fd, ifname, &nfc, err);
}

/* ---- flow hash, rings ---------------------------------------------------- */

int nic_ioctl_flow_hash_get(int fd, const char *ifname, uint32_t flow_type, uint64_t *ret,
			    struct kerror *err)
{
	struct zx_ethtool_rxnfc nfc;
	int r;

	memset(&nfc, 0, sizeof(nfc));
	nfc.cmd = ZX_ETHTOOL_GRXFH;
	nfc.flow_type = flow_type;
	r = call(fd, ifname, &nfc, err);
	if (r == 0)
		*ret = nfc.data;
	return r;
}

int nic_ioctl_flow_hash_set(int fd, const char *ifname, uint32_t flow_type, uint64_t fields,
			    struct kerror *err)
{
	struct zx_ethtool_rxnfc nfc;

	memset(&nfc, 0, sizeof(nfc));
	nfc.cmd = ZX_ETHTOOL_SRXFH;
	nfc.flow_type = flow_type;
	nfc.data = fields;
	return call(fd, ifname, &nfc, err);
}

int nic_ioctl_rx_rings(int fd, const char *ifname, uint32_t *ret, struct kerror *err)
{
	struct zx_ethtool_rxnfc nfc;
	int r;

	memset(&nfc, 0, sizeof(nfc));
	nfc.cmd = ZX_ETHTOOL_GRXRINGS;
	r = call(fd, ifname, &nfc, err);
	if (r == 0)
		*ret = (uint32_t)nfc.data;
	return r;
}

/* ---- RSS ------------------------------------------------------------------ */

/* GRSSH with sizes 0: the device's table and key sizes. */
static int rss_sizes(int fd, const char *ifname, uint32_t ctx, struct zx_ethtool_rxfh *ret,
		     struct kerror *err)
{
	memset(ret, 0, sizeof(*ret));
	ret->cmd = ZX_ETHTOOL_GRSSH;
	ret->rss_context = ctx;
	return call(fd, ifname, ret, err);
}

int nic_ioctl_rss_get(int fd, const char *ifname, uint32_t ctx, struct nic_rss *ret,
		      struct kerror *err)
{
	struct zx_ethtool_rxfh sz, *rx;
	size_t len;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = rss_sizes(fd, ifname, ctx, &sz, err);
	if (r < 0)
		return r;
	len = sizeof(*rx) + (size_t)sz.indir_size * 4 + sz.key_size;
	rx = calloc(1, len);
	if (!rx)
		return kerror_set(err, ENOMEM, NULL, NULL, NULL);
	rx->cmd = ZX_ETHTOOL_GRSSH;
	rx->rss_context = ctx;
	rx->indir_size = sz.indir_size;
	rx->key_size = sz.key_size;
	r = call(fd, ifname, rx, err);
	if (r == 0) {
		ret->id = ctx;
		ret->hfunc = rx->hfunc;
		ret->input_xfrm = rx->input_xfrm; /* 0 before 6.8: reserved */
		ret->indir_size = rx->indir_size;
		ret->key_size = rx->key_size;
		if (rx->indir_size)
			ret->indir = malloc((size_t)rx->indir_size * 4);
		if (rx->key_size)
			ret->key = malloc(rx->key_size);
		if ((rx->indir_size && !ret->indir) || (rx->key_size && !ret->key)) {
			nic_rss_clear(ret);
			r = kerror_set(err, ENOMEM, NULL, NULL, NULL);
		} else {
			if (ret->indir)
				memcpy(ret->indir, rx->rss_config, (size_t)rx->indir_size * 4);
			if (ret->key)
				memcpy(ret->key, (uint8_t *)rx->rss_config + rx->indir_size * 4,
				       rx->key_size);
		}
	}
	free(rx);
	return r;
}

struct zx_ethtool_rxfh *nic_ioctl_rxfh_encode(uint32_t ctx, const uint32_t *indir, uint32_t n,
					      bool reset, const uint8_t *key, uint32_t key_len,
					      uint32_t dev_indir_size, uint32_t dev_key_size,
					      struct kerror *err)
{
	struct zx_ethtool_rxfh *rx;
	uint32_t isize = 0, ksize = 0;

	if (n) {
		if (!dev_indir_size || dev_indir_size % n) {
			kerror_setf(err, EINVAL, NULL, NULL,
				    "a table of %u entries does not divide the device's %u", n,
				    dev_indir_size);
			return NULL;
		}
		isize = dev_indir_size;
	}
	if (key) {
		if (key_len != dev_key_size) {
			kerror_setf(err, EINVAL, NULL, NULL, "key must be %u bytes, not %u",
				    dev_key_size, key_len);
			return NULL;
		}
		ksize = key_len;
	}
	rx = calloc(1, sizeof(*rx) + (size_t)isize * 4 + ksize);
	if (!rx) {
		kerror_set(err, ENOMEM, NULL, NULL, NULL);
		return NULL;
	}
	rx->cmd = ZX_ETHTOOL_SRSSH;
	rx->rss_context = ctx;
	rx->hfunc = ZX_ETH_RSS_HASH_NO_CHANGE;
	rx->input_xfrm = ZX_RXH_XFRM_NO_CHANGE;
	/* indir_size: the full table, 0 = back to the default, NO_CHANGE */
	rx->indir_size = n ? isize : reset ? 0 : ZX_ETH_RXFH_INDIR_NO_CHANGE;
	rx->key_size = ksize;
	if (n)
		(void)nic_ioctl_replicate(indir, n, isize, rx->rss_config);
	if (ksize)
		memcpy((uint8_t *)rx->rss_config + isize * 4, key, ksize);
	return rx;
}

void nic_ioctl_rxfh_delete_encode(uint32_t ctx, struct zx_ethtool_rxfh *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->cmd = ZX_ETHTOOL_SRSSH;
	ret->rss_context = ctx;
	ret->input_xfrm = ZX_RXH_XFRM_NO_CHANGE;
	/* indir_size = key_size = 0 (and hfunc 0) on a context: delete it */
}

/* SRSSH.  A kernel before 6.8 knows input_xfrm only as a reserved byte
 * that must be 0 (EINVAL otherwise); it has no transformation, so 0 changes
 * nothing there.  Such a kernel is asked again with 0; a 6.8+ kernel never
 * refuses "no change" in a request that changes something else. */
static int srssh(int fd, const char *ifname, struct zx_ethtool_rxfh *rx, struct kerror *err)
{
	int r = call(fd, ifname, rx, err);

	if (r == -EINVAL && rx->input_xfrm == ZX_RXH_XFRM_NO_CHANGE) {
		rx->input_xfrm = 0;
		r = call(fd, ifname, rx, err);
		if (r < 0) /* refused for something else: report it as sent first */
			rx->input_xfrm = ZX_RXH_XFRM_NO_CHANGE;
	}
	return r;
}

/* SRSSH with an optional table (replicated) and key. */
static int rss_write(int fd, const char *ifname, uint32_t ctx, const uint32_t *indir, uint32_t n,
		     bool reset, const uint8_t *key, uint32_t key_len, uint32_t *ret_ctx,
		     struct kerror *err)
{
	struct zx_ethtool_rxfh sz, *rx;
	struct kerror e = { 0 };
	int r;

	r = rss_sizes(fd, ifname, ctx == ZX_ETH_RXFH_CONTEXT_ALLOC ? 0 : ctx, &sz, err);
	if (r < 0)
		return r;
	rx = nic_ioctl_rxfh_encode(ctx, indir, n, reset, key, key_len, sz.indir_size, sz.key_size,
				   &e);
	if (!rx) {
		if (err)
			*err = e;
		return -e.err;
	}
	r = srssh(fd, ifname, rx, err);
	if (r == 0 && ret_ctx)
		*ret_ctx = rx->rss_context;
	free(rx);
	return r;
}

int nic_ioctl_rss_set(int fd, const char *ifname, uint32_t ctx, const uint32_t *indir, uint32_t n,
		      bool reset, const uint8_t *key, uint32_t key_len, struct kerror *err)
{
	/* For a context, indir_size 0 means "delete": never send that here. */
	if (ctx && !n && reset)
		return kerror_set(err, EOPNOTSUPP, NULL, NULL,
				  "resetting a context's table needs RSS_SET (Linux 6.17)");
	if (ctx == ZX_ETH_RXFH_CONTEXT_ALLOC)
		return kerror_set(err, EINVAL, NULL, NULL, "invalid context");
	return rss_write(fd, ifname, ctx, indir, n, reset, key, key_len, NULL, err);
}

int nic_ioctl_rss_create(int fd, const char *ifname, const uint32_t *indir, uint32_t n,
			 uint32_t *ret_ctx, struct kerror *err)
{
	uint32_t ctx = 0;
	int r;

	r = rss_write(fd, ifname, ZX_ETH_RXFH_CONTEXT_ALLOC, indir, n, false, NULL, 0, &ctx, err);
	if (r < 0)
		return r;
	if (ctx == 0 || ctx == ZX_ETH_RXFH_CONTEXT_ALLOC)
		return kerror_set(err, EPROTO, NULL, NULL, "driver returned no context id");
	*ret_ctx = ctx;
	return 0;
}

int nic_ioctl_rss_delete(int fd, const char *ifname, uint32_t ctx, struct kerror *err)
{
	struct zx_ethtool_rxfh rx;

	if (!ctx || ctx == ZX_ETH_RXFH_CONTEXT_ALLOC)
		return kerror_set(err, EINVAL, NULL, NULL, "context 0 cannot be deleted");
	nic_ioctl_rxfh_delete_encode(ctx, &rx);
	return srssh(fd, ifname, &rx, err);
}

int nic_ioctl_drvinfo(int fd, const char *ifname, char *driver, size_t dsize, char *bus,
		      size_t bsize, struct kerror *err)
{
	struct zx_ethtool_drvinfo di;
	int r;

	memset(&di, 0, sizeof(di));
	di.cmd = ZX_ETHTOOL_GDRVINFO;
	r = call(fd, ifname, &di, err);
	if (r < 0)
		return r;
	di.driver[sizeof(di.driver) - 1] = '\0';
	di.bus_info[sizeof(di.bus_info) - 1] = '\0';
	snprintf(driver, dsize, "%s", di.driver);
	snprintf(bus, bsize, "%s", di.bus_info);
	return 0;
}
