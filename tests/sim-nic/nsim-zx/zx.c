// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * netdevsim-zx: n-tuple rules, RSS table, key and contexts, steering by
 * them, per-queue counters and memory-provider page pools for netdevsim
 * (see zx.h).  A test driver of the zcrx project: every result it gives is
 * "simulated driver, real kernel core".
 *
 * The rules and RSS tables live in one configuration block that writers
 * copy, change and publish under RCU, so the transmit path of the link
 * partner reads them without a lock.  The RSS contexts themselves are kept
 * by the ethtool core; this file mirrors their tables for that same path.
 *
 * RSS hashes like a NIC: Toeplitz with the table's key over the IPv4
 * source and destination address, plus the TCP or UDP ports (symmetric-xor
 * folds source and destination first); other frames hash to 0.  The queue
 * is indir[hash % 128].
 *
 * debugfs, per port (ports/N/zx/): rx_queues ("q0=N q1=N ... drop=N",
 * frames steered to each RX queue and dropped by a rule), rule_capacity
 * (the rule table's size, at most 64), max_contexts (RSS contexts the
 * driver accepts, at most 15) and loc_special (whether the driver chooses a
 * slot for RX_CLS_LOC_ANY/FIRST/LAST).
 */
#include <linux/bitmap.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/unaligned.h>
#include <net/netlink.h>

#include "netdevsim.h"
#include "zx.h"

#define NSIM_ZX_MAX_QUEUES	64

struct nsim_zx_rss {
	u32 indir[NSIM_ZX_INDIR_SIZE];
	u8 key[NSIM_ZX_KEY_SIZE];
	u8 input_xfrm;
	bool used;
};

struct nsim_zx_cfg {
	struct rcu_head rcu;
	DECLARE_BITMAP(rule_used, NSIM_ZX_MAX_RULES);
	struct ethtool_rx_flow_spec rules[NSIM_ZX_MAX_RULES];
	u32 rule_ctx[NSIM_ZX_MAX_RULES];
	struct nsim_zx_rss rss[NSIM_ZX_MAX_CTX];	/* [0]: the default context */
};

struct nsim_zx {
	struct list_head node;
	struct rcu_head rcu;
	struct netdevsim *ns;
	struct mutex lock;		/* serializes writers of cfg */
	struct nsim_zx_cfg __rcu *cfg;
	atomic64_t rx_packets[NSIM_ZX_MAX_QUEUES];
	atomic64_t rx_bytes[NSIM_ZX_MAX_QUEUES];
	atomic64_t rx_dropped;
	u32 rule_capacity;
	u32 max_contexts;
	bool loc_special;
	struct dentry *ddir;
};

static LIST_HEAD(nsim_zx_list);
static DEFINE_MUTEX(nsim_zx_list_lock);

/* Under rcu_read_lock() or nsim_zx_list_lock.  A port's state is freed only
 * after its netdev is unregistered, so ethtool operations may keep it.
 */
static struct nsim_zx *nsim_zx_find(const struct netdevsim *ns)
{
	struct nsim_zx *zx;

	list_for_each_entry_rcu(zx, &nsim_zx_list, node, lockdep_is_held(&nsim_zx_list_lock))
		if (zx->ns == ns)
			return zx;
	return NULL;
}

static struct nsim_zx *nsim_zx_of(struct net_device *dev)
{
	struct nsim_zx *zx;

	rcu_read_lock();
	zx = nsim_zx_find(netdev_priv(dev));
	rcu_read_unlock();
	return zx;
}

/* ---- configuration: copy, change, publish -------------------------------- */

static struct nsim_zx_cfg *nsim_zx_cfg_begin(struct nsim_zx *zx)
{
	struct nsim_zx_cfg *c;

	mutex_lock(&zx->lock);
	c = kmemdup(rcu_dereference_protected(zx->cfg, lockdep_is_held(&zx->lock)),
		    sizeof(*c), GFP_KERNEL);
	if (!c)
		mutex_unlock(&zx->lock);
	return c;
}

static void nsim_zx_cfg_commit(struct nsim_zx *zx, struct nsim_zx_cfg *c)
{
	struct nsim_zx_cfg *old;

	old = rcu_dereference_protected(zx->cfg, lockdep_is_held(&zx->lock));
	rcu_assign_pointer(zx->cfg, c);
	mutex_unlock(&zx->lock);
	kfree_rcu(old, rcu);
}

static void nsim_zx_cfg_abort(struct nsim_zx *zx, struct nsim_zx_cfg *c)
{
	mutex_unlock(&zx->lock);
	kfree(c);
}

static void nsim_zx_default_indir(u32 *indir, u32 queues)
{
	u32 i;

	for (i = 0; i < NSIM_ZX_INDIR_SIZE; i++)
		indir[i] = ethtool_rxfh_indir_default(i, queues ?: 1);
}

/* ---- n-tuple rules -------------------------------------------------------- */

u32 nsim_zx_get_rx_ring_count(struct net_device *dev)
{
	struct netdevsim *ns = netdev_priv(dev);

	return ns->ethtool.channels;
}

int nsim_zx_get_rxnfc(struct net_device *dev, struct ethtool_rxnfc *cmd, u32 *rule_locs)
{
	struct nsim_zx *zx = nsim_zx_of(dev);
	const struct nsim_zx_cfg *c;
	unsigned int n = 0;
	unsigned long i;
	int err = 0;

	if (!zx)
		return -EOPNOTSUPP;
	rcu_read_lock();
	c = rcu_dereference(zx->cfg);
	switch (cmd->cmd) {
	case ETHTOOL_GRXRINGS:
		cmd->data = nsim_zx_get_rx_ring_count(dev);
		break;
	case ETHTOOL_GRXCLSRLCNT:
		cmd->rule_cnt = bitmap_weight(c->rule_used, NSIM_ZX_MAX_RULES);
		cmd->data = zx->rule_capacity | (zx->loc_special ? RX_CLS_LOC_SPECIAL : 0);
		break;
	case ETHTOOL_GRXCLSRULE:
		i = cmd->fs.location;
		if (i >= NSIM_ZX_MAX_RULES || !test_bit(i, c->rule_used)) {
			err = -ENOENT;
			break;
		}
		cmd->fs = c->rules[i];
		cmd->rss_context = c->rule_ctx[i];
		break;
	case ETHTOOL_GRXCLSRLALL:
		for_each_set_bit(i, c->rule_used, NSIM_ZX_MAX_RULES) {
			if (n == cmd->rule_cnt) {
				err = -EMSGSIZE;
				break;
			}
			rule_locs[n++] = i;
		}
		cmd->rule_cnt = n;
		cmd->data = zx->rule_capacity;
		break;
	default:
		err = -EOPNOTSUPP;
	}
	rcu_read_unlock();
	return err;
}

/* What the steering below can match: Ethernet (addresses and type), TCP
 * and UDP over IPv4, IPv4 with protocol and the first 4 L4 bytes; an extra
 * destination MAC (FLOW_MAC_EXT) on the IP ones; no VLAN.
 */
static int nsim_zx_check_spec(const struct ethtool_rx_flow_spec *fs)
{
	u32 ft = fs->flow_type & ~(FLOW_EXT | FLOW_MAC_EXT | FLOW_RSS);

	if ((fs->flow_type & FLOW_EXT) &&
	    (fs->m_ext.vlan_etype || fs->m_ext.vlan_tci || fs->m_ext.data[0] ||
	     fs->m_ext.data[1]))
		return -EOPNOTSUPP;
	switch (ft) {
	case ETHER_FLOW:
		if (fs->flow_type & FLOW_MAC_EXT)
			return -EINVAL;
		return 0;
	case TCP_V4_FLOW:
	case UDP_V4_FLOW:
		return 0;
	case IPV4_USER_FLOW:
		if (fs->m_u.usr_ip4_spec.ip_ver ||
		    (fs->h_u.usr_ip4_spec.ip_ver && fs->h_u.usr_ip4_spec.ip_ver != ETH_RX_NFC_IP4))
			return -EINVAL;
		return 0;
	}
	return -EOPNOTSUPP;
}

/* The slot of a new rule: loc itself, or the one the driver picks for
 * RX_CLS_LOC_ANY/FIRST (lowest free) and RX_CLS_LOC_LAST (highest free).
 */
static int nsim_zx_rule_slot(const struct nsim_zx *zx, const struct nsim_zx_cfg *c, u32 loc)
{
	u32 cap = min_t(u32, zx->rule_capacity, NSIM_ZX_MAX_RULES);
	u32 i;

	if (!(loc & RX_CLS_LOC_SPECIAL))
		return loc < cap ? loc : -EINVAL;
	if (!zx->loc_special)
		return -EINVAL;
	switch (loc) {
	case RX_CLS_LOC_ANY:
	case RX_CLS_LOC_FIRST:
		i = find_first_zero_bit(c->rule_used, cap);
		return i < cap ? i : -ENOSPC;
	case RX_CLS_LOC_LAST:
		for (i = cap; i-- > 0;)
			if (!test_bit(i, c->rule_used))
				return i;
		return -ENOSPC;
	}
	return -EINVAL;
}

static int nsim_zx_rule_insert(struct net_device *dev, struct nsim_zx *zx,
			       struct ethtool_rxnfc *cmd)
{
	struct ethtool_rx_flow_spec *fs = &cmd->fs;
	struct netdevsim *ns = netdev_priv(dev);
	u32 ctx = 0, queue;
	struct nsim_zx_cfg *c;
	int err, loc;

	if (!(dev->features & NETIF_F_NTUPLE))
		return -EOPNOTSUPP;
	err = nsim_zx_check_spec(fs);
	if (err)
		return err;
	if (fs->ring_cookie == RX_CLS_FLOW_DISC) {
		if (fs->flow_type & FLOW_RSS)
			return -EINVAL;
	} else {
		if (ethtool_get_flow_spec_ring_vf(fs->ring_cookie))
			return -EOPNOTSUPP;
		queue = ethtool_get_flow_spec_ring(fs->ring_cookie);
		if (queue >= ns->ethtool.channels)
			return -EINVAL;
	}
	c = nsim_zx_cfg_begin(zx);
	if (!c)
		return -ENOMEM;
	if (fs->flow_type & FLOW_RSS) {
		ctx = cmd->rss_context;
		if (ctx >= NSIM_ZX_MAX_CTX || (ctx && !c->rss[ctx].used)) {
			nsim_zx_cfg_abort(zx, c);
			return -EINVAL;
		}
	}
	loc = nsim_zx_rule_slot(zx, c, fs->location);
	if (loc < 0) {
		nsim_zx_cfg_abort(zx, c);
		return loc;
	}
	fs->location = loc;
	c->rules[loc] = *fs;
	c->rule_ctx[loc] = ctx;
	set_bit(loc, c->rule_used);
	nsim_zx_cfg_commit(zx, c);
	return 0;
}

static int nsim_zx_rule_delete(struct nsim_zx *zx, u32 loc)
{
	struct nsim_zx_cfg *c = nsim_zx_cfg_begin(zx);

	if (!c)
		return -ENOMEM;
	if (loc >= NSIM_ZX_MAX_RULES || !test_bit(loc, c->rule_used)) {
		nsim_zx_cfg_abort(zx, c);
		return -ENOENT;
	}
	clear_bit(loc, c->rule_used);
	nsim_zx_cfg_commit(zx, c);
	return 0;
}

int nsim_zx_set_rxnfc(struct net_device *dev, struct ethtool_rxnfc *cmd)
{
	struct nsim_zx *zx = nsim_zx_of(dev);

	if (!zx)
		return -EOPNOTSUPP;
	switch (cmd->cmd) {
	case ETHTOOL_SRXCLSRLINS:
		return nsim_zx_rule_insert(dev, zx, cmd);
	case ETHTOOL_SRXCLSRLDEL:
		return nsim_zx_rule_delete(zx, cmd->fs.location);
	}
	return -EOPNOTSUPP;
}

/* ---- RSS: the default table and the contexts ------------------------------ */

u32 nsim_zx_get_rxfh_indir_size(struct net_device *dev)
{
	return NSIM_ZX_INDIR_SIZE;
}

u32 nsim_zx_get_rxfh_key_size(struct net_device *dev)
{
	return NSIM_ZX_KEY_SIZE;
}

int nsim_zx_get_rxfh(struct net_device *dev, struct ethtool_rxfh_param *rxfh)
{
	struct nsim_zx *zx = nsim_zx_of(dev);
	const struct nsim_zx_cfg *c;

	if (!zx)
		return -EOPNOTSUPP;
	rcu_read_lock();
	c = rcu_dereference(zx->cfg);
	rxfh->hfunc = ETH_RSS_HASH_TOP;
	rxfh->input_xfrm = c->rss[0].input_xfrm;
	if (rxfh->indir)
		memcpy(rxfh->indir, c->rss[0].indir, sizeof(c->rss[0].indir));
	if (rxfh->key)
		memcpy(rxfh->key, c->rss[0].key, sizeof(c->rss[0].key));
	rcu_read_unlock();
	return 0;
}

static int nsim_zx_check_hfunc(u8 hfunc, struct netlink_ext_ack *extack)
{
	if (hfunc == ETH_RSS_HASH_NO_CHANGE || hfunc == ETH_RSS_HASH_TOP)
		return 0;
	NL_SET_ERR_MSG_MOD(extack, "only the Toeplitz hash function is supported");
	return -EOPNOTSUPP;
}

/* Apply what rxfh asks for (NULL table or key, NO_CHANGE: keep) to t. */
static void nsim_zx_rss_apply(struct nsim_zx_rss *t, const struct ethtool_rxfh_param *rxfh)
{
	if (rxfh->indir)
		memcpy(t->indir, rxfh->indir, sizeof(t->indir));
	if (rxfh->key)
		memcpy(t->key, rxfh->key, sizeof(t->key));
	if (rxfh->input_xfrm != RXH_XFRM_NO_CHANGE)
		t->input_xfrm = rxfh->input_xfrm;
}

int nsim_zx_set_rxfh(struct net_device *dev, struct ethtool_rxfh_param *rxfh,
		     struct netlink_ext_ack *extack)
{
	struct nsim_zx *zx = nsim_zx_of(dev);
	struct nsim_zx_cfg *c;
	int err;

	if (!zx)
		return -EOPNOTSUPP;
	err = nsim_zx_check_hfunc(rxfh->hfunc, extack);
	if (err)
		return err;
	c = nsim_zx_cfg_begin(zx);
	if (!c)
		return -ENOMEM;
	nsim_zx_rss_apply(&c->rss[0], rxfh);
	nsim_zx_cfg_commit(zx, c);
	return 0;
}

int nsim_zx_get_rxfh_fields(struct net_device *dev, struct ethtool_rxfh_fields *fields)
{
	switch (fields->flow_type) {
	case TCP_V4_FLOW:
	case UDP_V4_FLOW:
		fields->data = RXH_IP_SRC | RXH_IP_DST | RXH_L4_B_0_1 | RXH_L4_B_2_3;
		return 0;
	case IPV4_FLOW:
	case SCTP_V4_FLOW:
	case AH_ESP_V4_FLOW:
		fields->data = RXH_IP_SRC | RXH_IP_DST;
		return 0;
	}
	return -EOPNOTSUPP;
}

int nsim_zx_create_rxfh_context(struct net_device *dev, struct ethtool_rxfh_context *ctx,
				const struct ethtool_rxfh_param *rxfh,
				struct netlink_ext_ack *extack)
{
	struct nsim_zx *zx = nsim_zx_of(dev);
	struct netdevsim *ns = netdev_priv(dev);
	u32 id = rxfh->rss_context, i, n = 0;
	struct nsim_zx_rss *t;
	struct nsim_zx_cfg *c;
	int err;

	if (!zx)
		return -EOPNOTSUPP;
	if (!id || id >= NSIM_ZX_MAX_CTX)
		return -EINVAL;
	err = nsim_zx_check_hfunc(rxfh->hfunc, extack);
	if (err)
		return err;
	c = nsim_zx_cfg_begin(zx);
	if (!c)
		return -ENOMEM;
	for (i = 1; i < NSIM_ZX_MAX_CTX; i++)
		n += c->rss[i].used;
	if (n >= zx->max_contexts) {
		nsim_zx_cfg_abort(zx, c);
		NL_SET_ERR_MSG_FMT_MOD(extack, "all %u RSS contexts are in use", zx->max_contexts);
		return -ENOSPC;
	}
	t = &c->rss[id];
	memset(t, 0, sizeof(*t));
	t->used = true;
	/* what is not given starts as the default: the core keeps it */
	nsim_zx_default_indir(t->indir, ns->ethtool.channels);
	memcpy(t->key, c->rss[0].key, sizeof(t->key));
	nsim_zx_rss_apply(t, rxfh);
	if (!rxfh->indir && ctx->indir_size == NSIM_ZX_INDIR_SIZE)
		memcpy(ethtool_rxfh_context_indir(ctx), t->indir, sizeof(t->indir));
	if (!rxfh->key && ctx->key_size == NSIM_ZX_KEY_SIZE)
		memcpy(ethtool_rxfh_context_key(ctx), t->key, sizeof(t->key));
	if (rxfh->hfunc == ETH_RSS_HASH_NO_CHANGE)
		ctx->hfunc = ETH_RSS_HASH_TOP;
	if (rxfh->input_xfrm == RXH_XFRM_NO_CHANGE)
		ctx->input_xfrm = t->input_xfrm;
	nsim_zx_cfg_commit(zx, c);
	return 0;
}

int nsim_zx_modify_rxfh_context(struct net_device *dev, struct ethtool_rxfh_context *ctx,
				const struct ethtool_rxfh_param *rxfh,
				struct netlink_ext_ack *extack)
{
	struct nsim_zx *zx = nsim_zx_of(dev);
	u32 id = rxfh->rss_context;
	struct nsim_zx_cfg *c;
	int err;

	if (!zx)
		return -EOPNOTSUPP;
	err = nsim_zx_check_hfunc(rxfh->hfunc, extack);
	if (err)
		return err;
	c = nsim_zx_cfg_begin(zx);
	if (!c)
		return -ENOMEM;
	if (!id || id >= NSIM_ZX_MAX_CTX || !c->rss[id].used) {
		nsim_zx_cfg_abort(zx, c);
		return -ENOENT;
	}
	nsim_zx_rss_apply(&c->rss[id], rxfh);
	nsim_zx_cfg_commit(zx, c);
	return 0;
}

int nsim_zx_remove_rxfh_context(struct net_device *dev, struct ethtool_rxfh_context *ctx,
				u32 rss_context, struct netlink_ext_ack *extack)
{
	struct nsim_zx *zx = nsim_zx_of(dev);
	struct nsim_zx_cfg *c;

	if (!zx)
		return -EOPNOTSUPP;
	c = nsim_zx_cfg_begin(zx);
	if (!c)
		return -ENOMEM;
	if (rss_context && rss_context < NSIM_ZX_MAX_CTX)
		c->rss[rss_context].used = false;
	nsim_zx_cfg_commit(zx, c);
	return 0;
}

void nsim_zx_channels_changed(struct netdevsim *ns)
{
	struct nsim_zx *zx = nsim_zx_of(ns->netdev);
	struct nsim_zx_cfg *c;

	/* a table set by the user stays; the core has checked it still fits */
	if (!zx || netif_is_rxfh_configured(ns->netdev))
		return;
	c = nsim_zx_cfg_begin(zx);
	if (!c)
		return;
	nsim_zx_default_indir(c->rss[0].indir, ns->ethtool.channels);
	nsim_zx_cfg_commit(zx, c);
}

/* ---- steering --------------------------------------------------------------- */

struct nsim_zx_pkt {
	struct ethhdr eth;
	bool ip4, ports, has_l4;
	u8 proto, tos;
	__be32 saddr, daddr;
	__be16 sport, dport;
	u8 l4[4];
};

static void nsim_zx_parse(const struct sk_buff *skb, struct nsim_zx_pkt *p)
{
	const struct iphdr *iph;
	struct iphdr iph_buf;
	const u8 *l4;
	u8 l4_buf[4];

	memset(p, 0, sizeof(*p));
	if (skb_copy_bits(skb, 0, &p->eth, sizeof(p->eth)) || p->eth.h_proto != htons(ETH_P_IP))
		return;
	iph = skb_header_pointer(skb, ETH_HLEN, sizeof(iph_buf), &iph_buf);
	if (!iph || iph->version != 4 || iph->ihl < 5)
		return;
	p->ip4 = true;
	p->proto = iph->protocol;
	p->tos = iph->tos;
	p->saddr = iph->saddr;
	p->daddr = iph->daddr;
	if (ip_is_fragment(iph))
		return;
	l4 = skb_header_pointer(skb, ETH_HLEN + iph->ihl * 4, sizeof(l4_buf), l4_buf);
	if (!l4)
		return;
	memcpy(p->l4, l4, sizeof(p->l4));
	p->has_l4 = true;
	if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) {
		p->ports = true;
		memcpy(&p->sport, l4, 2);
		memcpy(&p->dport, l4 + 2, 2);
	}
}

static bool nsim_zx_eq(const void *val, const void *want, const void *mask, size_t n)
{
	const u8 *v = val, *w = want, *m = mask;
	size_t i;

	for (i = 0; i < n; i++)
		if ((v[i] ^ w[i]) & m[i])
			return false;
	return true;
}

static bool nsim_zx_match(const struct ethtool_rx_flow_spec *fs, const struct nsim_zx_pkt *p)
{
	u32 ft = fs->flow_type & ~(FLOW_EXT | FLOW_MAC_EXT | FLOW_RSS);
	const struct ethtool_tcpip4_spec *h = &fs->h_u.tcp_ip4_spec, *m = &fs->m_u.tcp_ip4_spec;
	const struct ethtool_usrip4_spec *uh = &fs->h_u.usr_ip4_spec;
	const struct ethtool_usrip4_spec *um = &fs->m_u.usr_ip4_spec;
	const struct ethhdr *eh = &fs->h_u.ether_spec, *em = &fs->m_u.ether_spec;
	u8 proto;

	if ((fs->flow_type & FLOW_MAC_EXT) &&
	    !nsim_zx_eq(p->eth.h_dest, fs->h_ext.h_dest, fs->m_ext.h_dest, ETH_ALEN))
		return false;
	switch (ft) {
	case ETHER_FLOW:
		return nsim_zx_eq(p->eth.h_dest, eh->h_dest, em->h_dest, ETH_ALEN) &&
		       nsim_zx_eq(p->eth.h_source, eh->h_source, em->h_source, ETH_ALEN) &&
		       nsim_zx_eq(&p->eth.h_proto, &eh->h_proto, &em->h_proto, 2);
	case TCP_V4_FLOW:
	case UDP_V4_FLOW:
		proto = ft == TCP_V4_FLOW ? IPPROTO_TCP : IPPROTO_UDP;
		return p->ports && p->proto == proto &&
		       nsim_zx_eq(&p->saddr, &h->ip4src, &m->ip4src, 4) &&
		       nsim_zx_eq(&p->daddr, &h->ip4dst, &m->ip4dst, 4) &&
		       nsim_zx_eq(&p->sport, &h->psrc, &m->psrc, 2) &&
		       nsim_zx_eq(&p->dport, &h->pdst, &m->pdst, 2) &&
		       nsim_zx_eq(&p->tos, &h->tos, &m->tos, 1);
	case IPV4_USER_FLOW:
		if (!p->ip4 || (!p->has_l4 && um->l4_4_bytes))
			return false;
		return nsim_zx_eq(&p->saddr, &uh->ip4src, &um->ip4src, 4) &&
		       nsim_zx_eq(&p->daddr, &uh->ip4dst, &um->ip4dst, 4) &&
		       nsim_zx_eq(&p->tos, &uh->tos, &um->tos, 1) &&
		       nsim_zx_eq(&p->proto, &uh->proto, &um->proto, 1) &&
		       nsim_zx_eq(p->l4, &uh->l4_4_bytes, &um->l4_4_bytes, 4);
	}
	return false;
}

static u32 nsim_zx_toeplitz(const u8 *key, const u8 *in, unsigned int len)
{
	u32 v = get_unaligned_be32(key), hash = 0;
	unsigned int i;
	int b;

	for (i = 0; i < len; i++) {
		for (b = 7; b >= 0; b--) {
			if (in[i] & BIT(b))
				hash ^= v;
			v <<= 1;
			if (key[i + 4] & BIT(b))
				v |= 1;
		}
	}
	return hash;
}

static u32 nsim_zx_queue_of(const struct nsim_zx_rss *t, const struct nsim_zx_pkt *p)
{
	__be32 s = p->saddr, d = p->daddr;
	__be16 sp = p->sport, dp = p->dport;
	unsigned int n = 8;
	u32 hash = 0;
	u8 in[12];

	if (p->ip4) {
		if (t->input_xfrm & RXH_XFRM_SYM_XOR) {
			s ^= d;
			d = s;
			sp ^= dp;
			dp = sp;
		}
		memcpy(in, &s, 4);
		memcpy(in + 4, &d, 4);
		if (p->ports) {
			memcpy(in + 8, &sp, 2);
			memcpy(in + 10, &dp, 2);
			n = 12;
		}
		hash = nsim_zx_toeplitz(t->key, in, n);
	}
	return t->indir[hash % NSIM_ZX_INDIR_SIZE];
}

int nsim_zx_steer(struct netdevsim *peer, struct sk_buff *skb, int dflt)
{
	u32 nq = peer->netdev->real_num_rx_queues;
	const struct ethtool_rx_flow_spec *fs;
	const struct nsim_zx_cfg *c;
	struct nsim_zx_pkt p;
	struct nsim_zx *zx;
	unsigned long i;
	u32 q;

	zx = nsim_zx_find(peer);
	if (!zx || !nq)
		return dflt;
	c = rcu_dereference(zx->cfg);
	nsim_zx_parse(skb, &p);
	q = nsim_zx_queue_of(&c->rss[0], &p);
	if (peer->netdev->features & NETIF_F_NTUPLE) {
		for_each_set_bit(i, c->rule_used, NSIM_ZX_MAX_RULES) {
			fs = &c->rules[i];
			if (!nsim_zx_match(fs, &p))
				continue;
			if (fs->ring_cookie == RX_CLS_FLOW_DISC) {
				atomic64_inc(&zx->rx_dropped);
				return -1;
			}
			q = ethtool_get_flow_spec_ring(fs->ring_cookie);
			if (fs->flow_type & FLOW_RSS)
				q += nsim_zx_queue_of(&c->rss[c->rule_ctx[i]], &p);
			break;
		}
	}
	if (q >= nq)
		q %= nq;
	if (q < NSIM_ZX_MAX_QUEUES) {
		atomic64_inc(&zx->rx_packets[q]);
		atomic64_add(skb->len, &zx->rx_bytes[q]);
	}
	return q;
}

bool nsim_zx_queue_stats_rx(struct net_device *dev, int idx, struct netdev_queue_stats_rx *st)
{
	struct nsim_zx *zx = nsim_zx_of(dev);

	if (!zx || idx < 0 || idx >= NSIM_ZX_MAX_QUEUES)
		return false;
	st->packets = atomic64_read(&zx->rx_packets[idx]);
	st->bytes = atomic64_read(&zx->rx_bytes[idx]);
	return true;
}

/* ---- memory providers ------------------------------------------------------- */

void nsim_zx_bus_dev_init(struct device *dev)
{
	dev->coherent_dma_mask = DMA_BIT_MASK(64);
	dev->dma_mask = &dev->coherent_dma_mask;
}

void nsim_zx_page_pool_params(struct netdevsim *ns, int idx, struct page_pool_params *pp)
{
	pp->flags |= PP_FLAG_DMA_MAP | PP_FLAG_DMA_SYNC_DEV | PP_FLAG_ALLOW_UNREADABLE_NETMEM;
	pp->dev = &ns->nsim_bus_dev->dev;
	pp->dma_dir = DMA_FROM_DEVICE;
	pp->max_len = PAGE_SIZE;
	pp->netdev = ns->netdev;
	pp->queue_idx = idx;
}

/* ---- life cycle and debugfs --------------------------------------------------- */

static int nsim_zx_rx_queues_show(struct seq_file *s, void *data)
{
	struct nsim_zx *zx = s->private;
	unsigned int i, n;

	n = min_t(unsigned int, zx->ns->netdev->num_rx_queues, NSIM_ZX_MAX_QUEUES);
	for (i = 0; i < n; i++)
		seq_printf(s, "q%u=%lld ", i, (long long)atomic64_read(&zx->rx_packets[i]));
	seq_printf(s, "drop=%lld\n", (long long)atomic64_read(&zx->rx_dropped));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nsim_zx_rx_queues);

void nsim_zx_init(struct netdevsim *ns)
{
	struct nsim_zx_cfg *c;
	struct nsim_zx *zx;

	zx = kzalloc_obj(*zx, GFP_KERNEL);
	c = kzalloc_obj(*c, GFP_KERNEL);
	if (!zx || !c) {
		kfree(zx);
		kfree(c);
		return;
	}
	zx->ns = ns;
	mutex_init(&zx->lock);
	zx->rule_capacity = NSIM_ZX_MAX_RULES;
	zx->max_contexts = NSIM_ZX_MAX_CTX - 1;
	zx->loc_special = true;
	nsim_zx_default_indir(c->rss[0].indir, ns->ethtool.channels);
	get_random_bytes(c->rss[0].key, sizeof(c->rss[0].key));
	RCU_INIT_POINTER(zx->cfg, c);

	zx->ddir = debugfs_create_dir("zx", ns->nsim_dev_port->ddir);
	debugfs_create_file("rx_queues", 0400, zx->ddir, zx, &nsim_zx_rx_queues_fops);
	debugfs_create_u32("rule_capacity", 0600, zx->ddir, &zx->rule_capacity);
	debugfs_create_u32("max_contexts", 0600, zx->ddir, &zx->max_contexts);
	debugfs_create_bool("loc_special", 0600, zx->ddir, &zx->loc_special);

	mutex_lock(&nsim_zx_list_lock);
	list_add_rcu(&zx->node, &nsim_zx_list);
	mutex_unlock(&nsim_zx_list_lock);
}

void nsim_zx_fini(struct netdevsim *ns)
{
	struct nsim_zx *zx;

	mutex_lock(&nsim_zx_list_lock);
	zx = nsim_zx_find(ns);
	if (zx)
		list_del_rcu(&zx->node);
	mutex_unlock(&nsim_zx_list_lock);
	if (!zx)
		return;
	debugfs_remove(zx->ddir);
	kfree_rcu(rcu_dereference_protected(zx->cfg, true), rcu);
	mutex_destroy(&zx->lock);
	kfree_rcu(zx, rcu);
}
