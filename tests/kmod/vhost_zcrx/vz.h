/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * vhost_zcrx reference module: what its three parts share.
 *
 * vz_main.c     module load and unload, the netdev notifier, the queue check
 * vz_nl.c       the generic netlink family: policies, requests, messages
 * vz_binding.c  the bindings: checks, creation, state changes, teardown
 *
 * Locking: rtnl_lock, then vz_lock, then a device's instance lock
 * (netdev_lock).  vz_lock guards the binding table and every binding.
 */
#ifndef VZ_H
#define VZ_H

#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/types.h>
#include <net/genetlink.h>

#include "vhost_zcrx.h"

/* The one multicast group, by its index in the family's group array. */
#define VZ_MCGRP_EVENTS 0

struct vz_binding {
	u32 id;
	struct net_device *dev;		/* the NIC, held */
	netdevice_tracker dev_tracker;
	struct net_device *tap;		/* the vNIC's macvtap, held */
	netdevice_tracker tap_tracker;
	u32 queue;
	u32 fallback;
	u32 state;			/* enum vhost_zcrx_state */
	u32 reason;			/* errno, 0 for none */
	char msg[VHOST_ZCRX_REASON_MSG_MAX];
	bool has_qstats;		/* the driver counts per queue */
	u64 base_packets;		/* the queue's counters at bind */
	u64 base_bytes;
};

/* What BIND asks for, with the attributes for the extack. */
struct vz_bind_req {
	u32 ifindex;
	u32 queue;
	u32 tap_ifindex;
	u32 fallback;
	const struct nlattr *a_ifindex;
	const struct nlattr *a_queue;
	const struct nlattr *a_tap;
	const struct nlattr *a_fallback;
};

/* The counters of a binding's queue since the bind. */
struct vz_stats {
	bool valid;
	u64 rx_packets;
	u64 rx_bytes;
};

extern struct mutex vz_lock;
extern struct xarray vz_bindings;

/* vz_main.c */
unsigned int vz_max_bindings(void);
bool vz_copy_fallback(void);
bool vz_unloading(void);
void vz_check_start(void);

/* vz_nl.c */
int vz_nl_register(void);
void vz_nl_unregister(void);
int vz_nl_put_binding(struct sk_buff *skb, const struct vz_binding *b,
		      const struct vz_stats *st);
void vz_nl_notify(const struct vz_binding *b);

/* vz_binding.c */
int vz_dev_supported(struct net_device *dev, const struct nlattr *attr,
		     struct netlink_ext_ack *extack);
u64 vz_dev_features(const struct net_device *dev);
int vz_bind(struct net *net, const struct vz_bind_req *req, u32 *id,
	    struct netlink_ext_ack *extack);
void vz_bind_done(u32 id);
int vz_unbind(struct net *net, u32 id);
struct vz_binding *vz_find(struct net *net, u32 id);
void vz_read_stats(const struct vz_binding *b, struct vz_stats *st);
void vz_dev_gone(struct net_device *dev);
void vz_check_all(void);
void vz_destroy_all(void);

#endif /* VZ_H */
