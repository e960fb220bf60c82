// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * vhost_zcrx reference module: the bindings.
 *
 * BIND makes the checks a memory-provider module makes before it takes an
 * RX queue (the same ones net/core/netdev_rx_queue.c makes for io_uring and
 * devmem), against the device as it is now.  It then records the binding
 * but takes nothing: this kernel does not let a module install a page-pool
 * memory provider (README.md says which symbols are missing), so there is no
 * data path, and every binding says so as DEGRADED with its reason.
 */
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_tap.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <net/netdev_lock.h>
#include <net/netdev_queues.h>
#include <net/netdev_rx_queue.h>
#include <net/rtnetlink.h>

#include "vz.h"

#define VZ_NO_DATA_PATH "reference module: no data path"

/* guards vz_bindings and every binding in it (order: rtnl, vz_lock, netdev_lock) */
DEFINE_MUTEX(vz_lock);
DEFINE_XARRAY_ALLOC(vz_bindings);
static u32 vz_next_id;

/* The tap kinds with a lower device: the tap's frames come from that NIC. */
static const char * const vz_tap_kinds[] = { "macvtap", "ipvtap" };

int vz_dev_supported(struct net_device *dev, const struct nlattr *attr,
		     struct netlink_ext_ack *extack)
{
	const struct ethtool_ops *eo = dev->ethtool_ops;

	if (!dev->queue_mgmt_ops) {
		NL_SET_ERR_MSG_ATTR_FMT(extack, attr,
					"%s: the driver cannot restart an RX queue (no queue management ops)",
					netdev_name(dev));
		return -EOPNOTSUPP;
	}
	if (!eo || !(eo->supported_ring_params & ETHTOOL_RING_USE_TCP_DATA_SPLIT)) {
		NL_SET_ERR_MSG_ATTR_FMT(extack, attr,
					"%s: the driver cannot split headers from data",
					netdev_name(dev));
		return -EOPNOTSUPP;
	}
	return 0;
}

u64 vz_dev_features(const struct net_device *dev)
{
	u64 f = VHOST_ZCRX_F_NEEDS_HDS;

	if (vz_copy_fallback())
		f |= VHOST_ZCRX_F_COPY_FALLBACK;
	return f;
}

static bool vz_is_tap(const struct net_device *tap)
{
	const struct rtnl_link_ops *ops = tap->rtnl_link_ops;
	unsigned int i;

	if (!ops)
		return false;
	for (i = 0; i < ARRAY_SIZE(vz_tap_kinds); i++)
		if (!strcmp(ops->kind, vz_tap_kinds[i]))
			return true;
	return false;
}

/* The queue's own counters (driver qstats); false when it keeps none. */
static bool vz_queue_counters(struct net_device *dev, u32 queue, u64 *packets,
			      u64 *bytes)
{
	struct netdev_queue_stats_rx rx;

	netdev_assert_locked(dev);
	if (!dev->stat_ops || !dev->stat_ops->get_queue_stats_rx ||
	    queue >= dev->real_num_rx_queues)
		return false;
	/* fields the driver does not fill stay all ones, as the core does it */
	memset(&rx, 0xff, sizeof(rx));
	dev->stat_ops->get_queue_stats_rx(dev, queue, &rx);
	if (rx.packets == U64_MAX || rx.bytes == U64_MAX)
		return false;
	*packets = rx.packets;
	*bytes = rx.bytes;
	return true;
}

/* Who else holds the queue; "" when nobody.  Under the instance lock. */
static const char *vz_queue_holder(struct net_device *dev, u32 queue)
{
	struct netdev_rx_queue *rxq = __netif_get_rx_queue(dev, queue);

	netdev_assert_locked(dev);
	if (rxq->mp_params.mp_ops)
		return "a memory provider (io_uring zcrx or devmem)";
#ifdef CONFIG_XDP_SOCKETS
	if (rxq->pool)
		return "an AF_XDP socket";
#endif
	if (rxq->lease)
		return "a queue lease";
	return "";
}

/* The checks made with the device's instance lock held. */
static int vz_bind_locked(struct net_device *dev, const struct vz_bind_req *req,
			  struct vz_binding *b, struct netlink_ext_ack *extack)
{
	const char *holder;

	if (req->queue >= dev->real_num_rx_queues) {
		NL_SET_ERR_MSG_ATTR_FMT(extack, req->a_queue,
					"%s has %u RX queues, there is no queue %u",
					netdev_name(dev), dev->real_num_rx_queues, req->queue);
		return -ERANGE;
	}
	if (dev->cfg->hds_config != ETHTOOL_TCP_DATA_SPLIT_ENABLED) {
		NL_SET_ERR_MSG_ATTR_FMT(extack, req->a_ifindex,
					"%s: tcp-data-split is not enabled (NEEDS_HDS)",
					netdev_name(dev));
		return -EINVAL;
	}
	if (dev->cfg->hds_thresh) {
		NL_SET_ERR_MSG_ATTR_FMT(extack, req->a_ifindex,
					"%s: hds-thresh is %u, not 0 (NEEDS_HDS)",
					netdev_name(dev), dev->cfg->hds_thresh);
		return -EINVAL;
	}
	if (dev_xdp_prog_count(dev)) {
		NL_SET_ERR_MSG_ATTR_FMT(extack, req->a_ifindex,
					"%s has an XDP program attached", netdev_name(dev));
		return -EINVAL;
	}
	holder = vz_queue_holder(dev, req->queue);
	if (*holder) {
		NL_SET_ERR_MSG_ATTR_FMT(extack, req->a_queue,
					"queue %u of %s already has %s",
					req->queue, netdev_name(dev), holder);
		return -EBUSY;
	}
	b->has_qstats = vz_queue_counters(dev, req->queue, &b->base_packets,
					  &b->base_bytes);
	return 0;
}

/* The checks against the bindings there are.  Under vz_lock. */
static int vz_bind_table(struct net_device *dev, struct net_device *tap,
			 const struct vz_bind_req *req, struct netlink_ext_ack *extack)
{
	unsigned int on_dev = 0, on_tap = 0, max = vz_max_bindings();
	struct vz_binding *b;
	unsigned long id;

	lockdep_assert_held(&vz_lock);
	xa_for_each(&vz_bindings, id, b) {
		if (b->dev == dev && b->queue == req->queue) {
			NL_SET_ERR_MSG_ATTR_FMT(extack, req->a_queue,
						"queue %u of %s is already bound (binding %u)",
						req->queue, netdev_name(dev), b->id);
			return -EEXIST;
		}
		on_dev += b->dev == dev;
		on_tap += b->tap == tap;
	}
	if (on_tap >= MAX_TAP_QUEUES) {
		NL_SET_ERR_MSG_ATTR_FMT(extack, req->a_tap,
					"every queue of %s is bound already (%u)",
					netdev_name(tap), on_tap);
		return -EEXIST;
	}
	if (max && on_dev >= max) {
		NL_SET_ERR_MSG_ATTR_FMT(extack, req->a_ifindex,
					"%s has %u bindings, the most this module takes (max_bindings)",
					netdev_name(dev), on_dev);
		return -ENOSPC;
	}
	return 0;
}

/* The tap: a macvtap or ipvtap whose lower device is the NIC.  Under rtnl. */
static int vz_check_tap(struct net_device *dev, struct net_device *tap,
			const struct vz_bind_req *req, struct netlink_ext_ack *extack)
{
	ASSERT_RTNL();
	if (!vz_is_tap(tap)) {
		NL_SET_ERR_MSG_ATTR_FMT(extack, req->a_tap,
					"%s is not a macvtap or ipvtap device (kind %s)",
					netdev_name(tap),
					tap->rtnl_link_ops ? tap->rtnl_link_ops->kind : "none");
		return -EINVAL;
	}
	if (!netdev_has_upper_dev(dev, tap)) {
		NL_SET_ERR_MSG_ATTR_FMT(extack, req->a_tap,
					"the lower device of %s is not %s",
					netdev_name(tap), netdev_name(dev));
		return -EINVAL;
	}
	return 0;
}

static int vz_bind_devs(struct net_device *dev, struct net_device *tap,
			const struct vz_bind_req *req, struct vz_binding *b,
			struct netlink_ext_ack *extack)
{
	int err;

	err = vz_dev_supported(dev, req->a_ifindex, extack);
	if (err)
		return err;
	err = vz_check_tap(dev, tap, req, extack);
	if (err)
		return err;
	if (req->fallback == VHOST_ZCRX_FALLBACK_COPY && !vz_copy_fallback()) {
		NL_SET_ERR_MSG_ATTR(extack, req->a_fallback,
				    "this module does not offer the copy fallback");
		return -EOPNOTSUPP;
	}
	err = vz_bind_table(dev, tap, req, extack);
	if (err)
		return err;
	netdev_lock(dev);
	err = vz_bind_locked(dev, req, b, extack);
	netdev_unlock(dev);
	return err;
}

int vz_bind(struct net *net, const struct vz_bind_req *req, u32 *id,
	    struct netlink_ext_ack *extack)
{
	struct net_device *dev, *tap;
	struct vz_binding *b;
	int err;

	b = kzalloc_obj(*b);
	if (!b)
		return -ENOMEM;
	rtnl_lock();
	mutex_lock(&vz_lock);
	dev = __dev_get_by_index(net, req->ifindex);
	tap = __dev_get_by_index(net, req->tap_ifindex);
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(extack, req->a_ifindex, "no such device");
		err = -ENODEV;
	} else if (!tap) {
		NL_SET_ERR_MSG_ATTR(extack, req->a_tap, "no such tap device");
		err = -ENODEV;
	} else {
		err = vz_bind_devs(dev, tap, req, b, extack);
	}
	if (!err)
		err = xa_alloc_cyclic(&vz_bindings, &b->id, b, XA_LIMIT(1, U32_MAX),
				      &vz_next_id, GFP_KERNEL);
	if (err < 0) {
		mutex_unlock(&vz_lock);
		rtnl_unlock();
		kfree(b);
		return err;
	}
	b->dev = dev;
	netdev_hold(dev, &b->dev_tracker, GFP_KERNEL);
	b->tap = tap;
	netdev_hold(tap, &b->tap_tracker, GFP_KERNEL);
	b->queue = req->queue;
	b->fallback = req->fallback;
	b->state = VHOST_ZCRX_STATE_PENDING;
	*id = b->id;
	mutex_unlock(&vz_lock);
	rtnl_unlock();
	vz_check_start();
	return 0;
}

/* Under vz_lock: a new state, announced. */
static void vz_set_state(struct vz_binding *b, u32 state, u32 reason, const char *msg)
{
	lockdep_assert_held(&vz_lock);
	b->state = state;
	b->reason = reason;
	strscpy(b->msg, msg, sizeof(b->msg));
	if (!vz_unloading())
		vz_nl_notify(b);
}

/*
 * After the BIND reply: the binding leaves PENDING at once.  No guest
 * buffer can ever reach it (no data path), so zcrxd must not count it as
 * zero-copy: DEGRADED, with the reason in words.
 */
void vz_bind_done(u32 id)
{
	struct vz_binding *b;

	mutex_lock(&vz_lock);
	b = xa_load(&vz_bindings, id);
	if (b && b->state == VHOST_ZCRX_STATE_PENDING)
		vz_set_state(b, VHOST_ZCRX_STATE_DEGRADED, EOPNOTSUPP, VZ_NO_DATA_PATH);
	mutex_unlock(&vz_lock);
}

static void vz_free(struct vz_binding *b)
{
	netdev_put(b->dev, &b->dev_tracker);
	netdev_put(b->tap, &b->tap_tracker);
	kfree(b);
}

/* Under vz_lock: the binding of that id in that namespace, or NULL. */
struct vz_binding *vz_find(struct net *net, u32 id)
{
	struct vz_binding *b;

	lockdep_assert_held(&vz_lock);
	b = xa_load(&vz_bindings, id);
	if (!b || !net_eq(dev_net(b->dev), net))
		return NULL;
	return b;
}

int vz_unbind(struct net *net, u32 id)
{
	struct vz_binding *b;

	mutex_lock(&vz_lock);
	b = vz_find(net, id);
	if (b)
		xa_erase(&vz_bindings, id);
	mutex_unlock(&vz_lock);
	if (!b)
		return -ENOENT;
	vz_free(b);
	return 0;
}

/* Under vz_lock. */
void vz_read_stats(const struct vz_binding *b, struct vz_stats *st)
{
	u64 packets, bytes;

	lockdep_assert_held(&vz_lock);
	memset(st, 0, sizeof(*st));
	if (!b->has_qstats || b->state == VHOST_ZCRX_STATE_BROKEN)
		return;
	netdev_lock(b->dev);
	st->valid = vz_queue_counters(b->dev, b->queue, &packets, &bytes);
	netdev_unlock(b->dev);
	if (!st->valid)
		return;
	st->rx_packets = packets - b->base_packets;
	st->rx_bytes = bytes - b->base_bytes;
}

/* NETDEV_UNREGISTER (rtnl held): bindings on that NIC or tap are torn down. */
void vz_dev_gone(struct net_device *dev)
{
	char msg[VHOST_ZCRX_REASON_MSG_MAX];
	struct vz_binding *b;
	unsigned long id;

	mutex_lock(&vz_lock);
	xa_for_each(&vz_bindings, id, b) {
		if (b->dev != dev && b->tap != dev)
			continue;
		snprintf(msg, sizeof(msg), "%s %s went away",
			 b->dev == dev ? "NIC" : "tap", netdev_name(dev));
		vz_set_state(b, VHOST_ZCRX_STATE_BROKEN, ENODEV, msg);
		xa_erase(&vz_bindings, id);
		vz_free(b);
	}
	mutex_unlock(&vz_lock);
}

/*
 * What a memory provider would have prevented: the queue count shrinking
 * under the binding, another provider, AF_XDP or a lease taking the queue.
 * Here nothing prevents them, so they are noticed and reported: BROKEN
 * with the reason; the binding stays until UNBIND.
 */
static void vz_check_one(struct vz_binding *b)
{
	char msg[VHOST_ZCRX_REASON_MSG_MAX];
	struct net_device *dev = b->dev;
	const char *holder;
	u32 reason = 0;

	if (b->state == VHOST_ZCRX_STATE_BROKEN)
		return;
	netdev_lock(dev);
	if (b->queue >= dev->real_num_rx_queues) {
		reason = ERANGE;
		snprintf(msg, sizeof(msg), "queue %u is gone: %s has %u RX queues now",
			 b->queue, netdev_name(dev), dev->real_num_rx_queues);
	} else {
		holder = vz_queue_holder(dev, b->queue);
		if (*holder) {
			reason = EBUSY;
			snprintf(msg, sizeof(msg), "queue %u of %s was taken by %s",
				 b->queue, netdev_name(dev), holder);
		}
	}
	netdev_unlock(dev);
	if (reason)
		vz_set_state(b, VHOST_ZCRX_STATE_BROKEN, reason, msg);
}

void vz_check_all(void)
{
	struct vz_binding *b;
	unsigned long id;

	lockdep_assert_held(&vz_lock);
	xa_for_each(&vz_bindings, id, b)
		vz_check_one(b);
}

/* Module unload: every binding goes, silently (the family is gone). */
void vz_destroy_all(void)
{
	struct vz_binding *b;
	unsigned long id;

	mutex_lock(&vz_lock);
	xa_for_each(&vz_bindings, id, b) {
		xa_erase(&vz_bindings, id);
		vz_free(b);
	}
	mutex_unlock(&vz_lock);
	xa_destroy(&vz_bindings);
}
