// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * vhost_zcrx reference module: the generic netlink family.
 *
 * The request policies are the tables of lib/vhost_zcrx.h, one per command
 * and kind (do, dump).  Every command is validated strictly: an attribute
 * the command does not take is "Unsupported attribute", one above
 * VHOST_ZCRX_A_MAX "Unknown attribute type", a wrong length or value is
 * refused by the policy, all with the offending attribute in the extack.
 * The test tier compares these policies with the header's tables through
 * CTRL_CMD_GETPOLICY, so the two cannot drift apart unnoticed.
 */
#include <linux/limits.h>
#include <linux/netdevice.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "vz.h"

static const struct netlink_range_validation vz_ifindex_range = {
	.min = 1,
	.max = INT_MAX,
};

static const struct nla_policy vz_probe_policy[VHOST_ZCRX_A_MAX + 1] = {
	[VHOST_ZCRX_A_IFINDEX] = NLA_POLICY_FULL_RANGE(NLA_U32, &vz_ifindex_range),
};

static const struct nla_policy vz_bind_policy[VHOST_ZCRX_A_MAX + 1] = {
	[VHOST_ZCRX_A_IFINDEX] = NLA_POLICY_FULL_RANGE(NLA_U32, &vz_ifindex_range),
	[VHOST_ZCRX_A_QUEUE] = { .type = NLA_U32, },
	[VHOST_ZCRX_A_TAP_IFINDEX] = NLA_POLICY_FULL_RANGE(NLA_U32, &vz_ifindex_range),
	[VHOST_ZCRX_A_FALLBACK] = NLA_POLICY_MAX(NLA_U32, VHOST_ZCRX_FALLBACK_MAX),
};

/* UNBIND and GET (do) */
static const struct nla_policy vz_id_policy[VHOST_ZCRX_A_MAX + 1] = {
	[VHOST_ZCRX_A_BINDING_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* GET (dump) takes no attribute: each one is refused. */
static const struct nla_policy vz_dump_policy[VHOST_ZCRX_A_MAX + 1] = {
	[VHOST_ZCRX_A_UNSPEC] = { .type = NLA_UNSPEC, },
};

static const char * const vz_attr_names[VHOST_ZCRX_A_MAX + 1] = {
	[VHOST_ZCRX_A_BINDING_ID] = "BINDING_ID",
	[VHOST_ZCRX_A_IFINDEX] = "IFINDEX",
	[VHOST_ZCRX_A_QUEUE] = "QUEUE",
	[VHOST_ZCRX_A_TAP_IFINDEX] = "TAP_IFINDEX",
};

static const struct genl_multicast_group vz_mcgrps[] = {
	[VZ_MCGRP_EVENTS] = { .name = VHOST_ZCRX_MCGRP_EVENTS, },
};

static struct genl_family vz_family;

/* A required attribute: EINVAL with its type in the extack when missing. */
static bool vz_missing(struct genl_info *info, unsigned int type)
{
	if (!GENL_REQ_ATTR_CHECK(info, type))
		return false;
	NL_SET_ERR_MSG_FMT(info->extack, "missing attribute %s", vz_attr_names[type]);
	return true;
}

int vz_nl_put_binding(struct sk_buff *skb, const struct vz_binding *b,
		      const struct vz_stats *st)
{
	struct nlattr *nest;

	if (nla_put_u32(skb, VHOST_ZCRX_A_BINDING_ID, b->id) ||
	    nla_put_u32(skb, VHOST_ZCRX_A_IFINDEX, b->dev->ifindex) ||
	    nla_put_u32(skb, VHOST_ZCRX_A_QUEUE, b->queue) ||
	    nla_put_u32(skb, VHOST_ZCRX_A_TAP_IFINDEX, b->tap->ifindex) ||
	    nla_put_u32(skb, VHOST_ZCRX_A_FALLBACK, b->fallback) ||
	    nla_put_u32(skb, VHOST_ZCRX_A_STATE, b->state))
		return -EMSGSIZE;
	if (b->reason && nla_put_u32(skb, VHOST_ZCRX_A_REASON, b->reason))
		return -EMSGSIZE;
	if (b->msg[0] && nla_put_string(skb, VHOST_ZCRX_A_REASON_MSG, b->msg))
		return -EMSGSIZE;
	if (!st)
		return 0;
	nest = nla_nest_start(skb, VHOST_ZCRX_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	/* received on the queue: the driver's counters, when it keeps them */
	if (st->valid &&
	    (nla_put_u64_64bit(skb, VHOST_ZCRX_A_STATS_RX_PACKETS, st->rx_packets,
			       VHOST_ZCRX_A_STATS_PAD) ||
	     nla_put_u64_64bit(skb, VHOST_ZCRX_A_STATS_RX_BYTES, st->rx_bytes,
			       VHOST_ZCRX_A_STATS_PAD)))
		goto cancel;
	/* nothing reaches a guest buffer, by copy or otherwise: no data path */
	if (nla_put_u64_64bit(skb, VHOST_ZCRX_A_STATS_ZC_PACKETS, 0, VHOST_ZCRX_A_STATS_PAD) ||
	    nla_put_u64_64bit(skb, VHOST_ZCRX_A_STATS_COPY_PACKETS, 0, VHOST_ZCRX_A_STATS_PAD) ||
	    nla_put_u64_64bit(skb, VHOST_ZCRX_A_STATS_DROP_NOBUF, 0, VHOST_ZCRX_A_STATS_PAD) ||
	    nla_put_u64_64bit(skb, VHOST_ZCRX_A_STATS_BUFS_POSTED, 0, VHOST_ZCRX_A_STATS_PAD))
		goto cancel;
	nla_nest_end(skb, nest);
	return 0;
cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/* STATE_NTF on "events" in the binding's namespace.  Under vz_lock. */
void vz_nl_notify(const struct vz_binding *b)
{
	struct net *net = dev_net(b->dev);
	struct sk_buff *skb;
	void *hdr;

	if (!genl_has_listeners(&vz_family, net, VZ_MCGRP_EVENTS))
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &vz_family, 0, VHOST_ZCRX_CMD_STATE_NTF);
	if (!hdr ||
	    nla_put_u32(skb, VHOST_ZCRX_A_BINDING_ID, b->id) ||
	    nla_put_u32(skb, VHOST_ZCRX_A_STATE, b->state) ||
	    (b->reason && nla_put_u32(skb, VHOST_ZCRX_A_REASON, b->reason)) ||
	    (b->msg[0] && nla_put_string(skb, VHOST_ZCRX_A_REASON_MSG, b->msg))) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&vz_family, net, skb, 0, VZ_MCGRP_EVENTS, GFP_KERNEL);
}

static int vz_nl_probe_doit(struct sk_buff *skb, struct genl_info *info)
{
	const struct nlattr *attr = info->attrs[VHOST_ZCRX_A_IFINDEX];
	netdevice_tracker tracker;
	struct net_device *dev;
	struct sk_buff *rsp;
	u64 features;
	void *hdr;
	int err;

	if (vz_missing(info, VHOST_ZCRX_A_IFINDEX))
		return -EINVAL;
	dev = netdev_get_by_index(genl_info_net(info), nla_get_u32(attr), &tracker,
				  GFP_KERNEL);
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "no such device");
		return -ENODEV;
	}
	err = vz_dev_supported(dev, attr, info->extack);
	features = vz_dev_features(dev);
	netdev_put(dev, &tracker);
	if (err)
		return err;

	rsp = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!rsp)
		return -ENOMEM;
	hdr = genlmsg_iput(rsp, info);
	if (!hdr ||
	    nla_put_u32(rsp, VHOST_ZCRX_A_IFINDEX, nla_get_u32(attr)) ||
	    nla_put_u64_64bit(rsp, VHOST_ZCRX_A_FEATURES, features, VHOST_ZCRX_A_PAD) ||
	    nla_put_u32(rsp, VHOST_ZCRX_A_MAX_BINDINGS, vz_max_bindings())) {
		nlmsg_free(rsp);
		return -EMSGSIZE;
	}
	genlmsg_end(rsp, hdr);
	return genlmsg_reply(rsp, info);
}

static int vz_nl_bind_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **tb = info->attrs;
	struct vz_bind_req req = {
		.a_ifindex = tb[VHOST_ZCRX_A_IFINDEX],
		.a_queue = tb[VHOST_ZCRX_A_QUEUE],
		.a_tap = tb[VHOST_ZCRX_A_TAP_IFINDEX],
		.a_fallback = tb[VHOST_ZCRX_A_FALLBACK],
	};
	struct sk_buff *rsp;
	void *hdr;
	u32 id;
	int err;

	if (vz_missing(info, VHOST_ZCRX_A_IFINDEX) ||
	    vz_missing(info, VHOST_ZCRX_A_QUEUE) ||
	    vz_missing(info, VHOST_ZCRX_A_TAP_IFINDEX))
		return -EINVAL;
	req.ifindex = nla_get_u32(req.a_ifindex);
	req.queue = nla_get_u32(req.a_queue);
	req.tap_ifindex = nla_get_u32(req.a_tap);
	req.fallback = nla_get_u32_default(req.a_fallback, VHOST_ZCRX_FALLBACK_DROP);

	/* allocated first: once bound, only the send itself can fail */
	rsp = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!rsp)
		return -ENOMEM;
	err = vz_bind(genl_info_net(info), &req, &id, info->extack);
	if (err) {
		nlmsg_free(rsp);
		return err;
	}
	hdr = genlmsg_iput(rsp, info);
	if (!hdr || nla_put_u32(rsp, VHOST_ZCRX_A_BINDING_ID, id)) {
		nlmsg_free(rsp);
		vz_unbind(genl_info_net(info), id);
		return -EMSGSIZE;
	}
	genlmsg_end(rsp, hdr);
	err = genlmsg_reply(rsp, info);
	/* the reply goes out before the state change, as the ABI says */
	vz_bind_done(id);
	return err;
}

static int vz_nl_unbind_doit(struct sk_buff *skb, struct genl_info *info)
{
	int err;

	if (vz_missing(info, VHOST_ZCRX_A_BINDING_ID))
		return -EINVAL;
	err = vz_unbind(genl_info_net(info), nla_get_u32(info->attrs[VHOST_ZCRX_A_BINDING_ID]));
	if (err)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VHOST_ZCRX_A_BINDING_ID],
				    "no such binding");
	return err;
}

static int vz_nl_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	const struct nlattr *attr = info->attrs[VHOST_ZCRX_A_BINDING_ID];
	struct vz_binding *b;
	struct vz_stats st;
	struct sk_buff *rsp;
	void *hdr;
	int err;

	if (vz_missing(info, VHOST_ZCRX_A_BINDING_ID))
		return -EINVAL;
	rsp = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!rsp)
		return -ENOMEM;
	mutex_lock(&vz_lock);
	b = vz_find(genl_info_net(info), nla_get_u32(attr));
	if (!b) {
		mutex_unlock(&vz_lock);
		nlmsg_free(rsp);
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "no such binding");
		return -ENOENT;
	}
	vz_read_stats(b, &st);
	hdr = genlmsg_iput(rsp, info);
	err = hdr ? vz_nl_put_binding(rsp, b, &st) : -EMSGSIZE;
	mutex_unlock(&vz_lock);
	if (err) {
		nlmsg_free(rsp);
		return err;
	}
	genlmsg_end(rsp, hdr);
	return genlmsg_reply(rsp, info);
}

struct vz_dump_ctx {
	unsigned long next_id;
};

static int vz_nl_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vz_dump_ctx *ctx = (struct vz_dump_ctx *)cb->ctx;
	struct net *net = sock_net(skb->sk);
	struct vz_binding *b;
	struct vz_stats st;
	unsigned long id;
	void *hdr;
	int err = 0;

	mutex_lock(&vz_lock);
	xa_for_each_start(&vz_bindings, id, b, ctx->next_id) {
		if (!net_eq(dev_net(b->dev), net))
			continue;
		vz_read_stats(b, &st);
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &vz_family, NLM_F_MULTI, VHOST_ZCRX_CMD_GET);
		if (!hdr) {
			err = -EMSGSIZE;
			break;
		}
		err = vz_nl_put_binding(skb, b, &st);
		if (err) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		ctx->next_id = id + 1;
	}
	mutex_unlock(&vz_lock);
	return err;
}

static const struct genl_split_ops vz_nl_ops[] = {
	{
		.cmd = VHOST_ZCRX_CMD_PROBE,
		.doit = vz_nl_probe_doit,
		.policy = vz_probe_policy,
		.maxattr = VHOST_ZCRX_A_MAX,
		.flags = GENL_CMD_CAP_DO,
	},
	{
		.cmd = VHOST_ZCRX_CMD_BIND,
		.doit = vz_nl_bind_doit,
		.policy = vz_bind_policy,
		.maxattr = VHOST_ZCRX_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd = VHOST_ZCRX_CMD_UNBIND,
		.doit = vz_nl_unbind_doit,
		.policy = vz_id_policy,
		.maxattr = VHOST_ZCRX_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd = VHOST_ZCRX_CMD_GET,
		.doit = vz_nl_get_doit,
		.policy = vz_id_policy,
		.maxattr = VHOST_ZCRX_A_MAX,
		.flags = GENL_CMD_CAP_DO,
	},
	{
		.cmd = VHOST_ZCRX_CMD_GET,
		.dumpit = vz_nl_get_dumpit,
		.policy = vz_dump_policy,
		.maxattr = VHOST_ZCRX_A_MAX,
		.flags = GENL_CMD_CAP_DUMP,
	},
};

static struct genl_family vz_family __ro_after_init = {
	.name = VHOST_ZCRX_FAMILY_NAME,
	.version = VHOST_ZCRX_FAMILY_VERSION,
	.maxattr = VHOST_ZCRX_A_MAX,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.split_ops = vz_nl_ops,
	.n_split_ops = ARRAY_SIZE(vz_nl_ops),
	.resv_start_op = VHOST_ZCRX_CMD_PROBE,
	.mcgrps = vz_mcgrps,
	.n_mcgrps = ARRAY_SIZE(vz_mcgrps),
};

int vz_nl_register(void)
{
	return genl_register_family(&vz_family);
}

void vz_nl_unregister(void)
{
	genl_unregister_family(&vz_family);
}
