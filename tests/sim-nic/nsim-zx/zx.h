/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * netdevsim-zx: what the zcrx project adds to netdevsim for its tests
 * (tests/sim-nic).  A simulated driver over the real kernel core: n-tuple
 * rules, an RSS table with key and RSS contexts, steering of the frames a
 * linked peer sends by those rules and tables, per-queue receive counters,
 * and page pools that accept a memory provider.  zx.c holds all of it;
 * patch.py adds the calls below to netdevsim's own files.
 */
#ifndef _NETDEVSIM_ZX_H
#define _NETDEVSIM_ZX_H

#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <net/netdev_queues.h>
#include <net/page_pool/types.h>

struct netdevsim;

/* Per-port state: made by nsim_ethtool_init(), freed by nsim_ethtool_fini(). */
void nsim_zx_init(struct netdevsim *ns);
void nsim_zx_fini(struct netdevsim *ns);

/* The bus device becomes DMA capable (dma-direct, 64 bit). */
void nsim_zx_bus_dev_init(struct device *dev);

/* Page pool parameters of RX queue idx: DMA mapped from the bus device and
 * open to the queue's memory provider (io_uring zcrx, devmem).
 */
void nsim_zx_page_pool_params(struct netdevsim *ns, int idx, struct page_pool_params *pp);

/* The RX queue a frame sent by peer's link partner lands on in peer: by the
 * first matching rule, else by the RSS table; -1 drops it.  dflt when peer
 * has no zx state.
 */
int nsim_zx_steer(struct netdevsim *peer, struct sk_buff *skb, int dflt);

/* The channel count changed: an RSS table nobody configured is spread again. */
void nsim_zx_channels_changed(struct netdevsim *ns);

/* Per-queue receive statistics for the netdev qstats API; false without zx state. */
bool nsim_zx_queue_stats_rx(struct net_device *dev, int idx, struct netdev_queue_stats_rx *st);

u32 nsim_zx_get_rx_ring_count(struct net_device *dev);
int nsim_zx_get_rxnfc(struct net_device *dev, struct ethtool_rxnfc *cmd, u32 *rule_locs);
int nsim_zx_set_rxnfc(struct net_device *dev, struct ethtool_rxnfc *cmd);
u32 nsim_zx_get_rxfh_indir_size(struct net_device *dev);
u32 nsim_zx_get_rxfh_key_size(struct net_device *dev);
int nsim_zx_get_rxfh(struct net_device *dev, struct ethtool_rxfh_param *rxfh);
int nsim_zx_set_rxfh(struct net_device *dev, struct ethtool_rxfh_param *rxfh,
		     struct netlink_ext_ack *extack);
int nsim_zx_get_rxfh_fields(struct net_device *dev, struct ethtool_rxfh_fields *fields);
int nsim_zx_create_rxfh_context(struct net_device *dev, struct ethtool_rxfh_context *ctx,
				const struct ethtool_rxfh_param *rxfh,
				struct netlink_ext_ack *extack);
int nsim_zx_modify_rxfh_context(struct net_device *dev, struct ethtool_rxfh_context *ctx,
				const struct ethtool_rxfh_param *rxfh,
				struct netlink_ext_ack *extack);
int nsim_zx_remove_rxfh_context(struct net_device *dev, struct ethtool_rxfh_context *ctx,
				u32 rss_context, struct netlink_ext_ack *extack);

#define NSIM_ZX_INDIR_SIZE	128
#define NSIM_ZX_KEY_SIZE	40
#define NSIM_ZX_MAX_RULES	64
#define NSIM_ZX_MAX_CTX		16	/* context ids 1..15 */

#endif /* _NETDEVSIM_ZX_H */
