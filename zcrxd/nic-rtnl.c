// SPDX-License-Identifier: MIT
/*
 * nic-rtnl — rtnetlink links and the sysfs facts beside them (nic-rtnl.h).
 * Must not log.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nic-rtnl.h"
#include "str.h"

static char sys_root[256] = "/sys";

void nic_rtnl_set_sysfs_root(const char *root)
{
	snprintf(sys_root, sizeof(sys_root), "%s", root ? root : "/sys");
}

static void copy_str(char *dst, size_t size, const struct nlattr *a)
{
	str_copy(dst, size, genl_attr_str(a));
}

int nic_rtnl_parse_link(const struct nlmsghdr *nlh, struct nic_link *ret)
{
	const struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];
	const struct ifinfomsg *ifi;
	int32_t nsid;
	uint32_t v;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -EBADMSG;
	ifi = mnl_nlmsg_get_payload(nlh);
	memset(ret, 0, sizeof(*ret));
	ret->link_netnsid = -1;
	ret->ifindex = ifi->ifi_index;
	ret->up = ifi->ifi_flags & IFF_UP;
	genl_attrs_msg(nlh, sizeof(*ifi), tb, IFLA_MAX);
	if (!genl_attr_str(tb[IFLA_IFNAME]) || ret->ifindex <= 0)
		return -EBADMSG;
	copy_str(ret->name, sizeof(ret->name), tb[IFLA_IFNAME]);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == NIC_MAC_LEN)
		memcpy(ret->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), NIC_MAC_LEN);
	(void)genl_attr_u32(tb[IFLA_NUM_RX_QUEUES], &ret->num_rx_queues);
	(void)genl_attr_u32(tb[IFLA_NUM_TX_QUEUES], &ret->num_tx_queues);
	(void)genl_attr_u32(tb[IFLA_MTU], &ret->mtu);
	if (genl_attr_s32(tb[IFLA_LINK_NETNSID], &nsid))
		ret->link_netnsid = nsid;
	copy_str(ret->parent_bus, sizeof(ret->parent_bus), tb[IFLA_PARENT_DEV_BUS_NAME]);
	copy_str(ret->parent_dev, sizeof(ret->parent_dev), tb[IFLA_PARENT_DEV_NAME]);
	if (tb[IFLA_XDP]) {
		const struct nlattr *x[IFLA_XDP_MAX + 1];
		uint8_t att = 0;

		genl_attrs_nested(tb[IFLA_XDP], x, IFLA_XDP_MAX);
		ret->xdp = genl_attr_u8(x[IFLA_XDP_ATTACHED], &att) && att != XDP_ATTACHED_NONE;
	}

	genl_attrs_nested(tb[IFLA_LINKINFO], li, IFLA_INFO_MAX);
	copy_str(ret->kind, sizeof(ret->kind), li[IFLA_INFO_KIND]);
	/* IFLA_LINK: a stacked device's lower one (macvtap, macvlan, vlan);
	 * ignore a device that names itself (some drivers do). */
	if (genl_attr_u32(tb[IFLA_LINK], &v) && v && v <= INT32_MAX && (int)v != ret->ifindex)
		ret->link_ifindex = (int)v;
	if (li[IFLA_INFO_DATA] && (!strcmp(ret->kind, "macvtap") || !strcmp(ret->kind, "macvlan"))) {
		const struct nlattr *md[IFLA_MACVLAN_MAX + 1];

		genl_attrs_nested(li[IFLA_INFO_DATA], md, IFLA_MACVLAN_MAX);
		(void)genl_attr_u32(md[IFLA_MACVLAN_MODE], &ret->macvlan_mode);
	}
	return 0;
}

struct links {
	struct nic_link *v;
	size_t n;
};

static int links_cb(const struct nlmsghdr *nlh, void *data)
{
	struct links *l = data;
	struct nic_link link, *nv;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	if (nic_rtnl_parse_link(nlh, &link) < 0)
		return 0; /* skip what we cannot read rather than fail the dump */
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	l->v = nv;
	l->v[l->n++] = link;
	return 0;
}

static int link_cmp(const void *a, const void *b)
{
	const struct nic_link *x = a, *y = b;

	return x->ifindex - y->ifindex;
}

static struct nlmsghdr *getlink(struct genl_sock *rt, uint16_t flags, int ifindex)
{
	struct nlmsghdr *nlh = genl_nlmsg_start(rt, RTM_GETLINK, flags);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	/* skip per-VF and stats blobs: we never read them */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nlh;
}

int nic_rtnl_links(struct genl_sock *rt, struct nic_link **ret, size_t *ret_n, struct kerror *err)
{
	struct links l = { 0 };
	int r;

	r = genl_request(rt, getlink(rt, NLM_F_DUMP, 0), links_cb, &l, err);
	if (r < 0) {
		free(l.v);
		return r;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), link_cmp);
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

int nic_rtnl_link_get(struct genl_sock *rt, int ifindex, struct nic_link *ret, struct kerror *err)
{
	struct links l = { 0 };
	int r;

	r = genl_request(rt, getlink(rt, NLM_F_ACK, ifindex), links_cb, &l, err);
	if (r == 0 && l.n != 1)
		r = kerror_set(err, ENODEV, NULL, NULL, "no such device");
	if (r == 0)
		*ret = l.v[0];
	free(l.v);
	return r;
}

int nic_rtnl_set_up(struct genl_sock *rt, int ifindex, bool up, struct kerror *err)
{
	struct nlmsghdr *nlh = genl_nlmsg_start(rt, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return genl_request(rt, nlh, NULL, NULL, err);
}

/* ---- sysfs ----------------------------------------------------------------- */

static int read_small(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

/* sysfs is per-netns only when mounted in it: check the ifindex it shows. */
static bool sysfs_is_ours(const char *ifname, int ifindex)
{
	char path[384], buf[32];

	if (!ifname[0] || strchr(ifname, '/'))
		return false;
	snprintf(path, sizeof(path), "%s/class/net/%s/ifindex", sys_root, ifname);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return false;
	return atoi(buf) == ifindex;
}

int nic_sysfs_numa_node(const char *ifname, int ifindex)
{
	char path[384], buf[32];
	int v;

	if (!sysfs_is_ours(ifname, ifindex))
		return -1;
	snprintf(path, sizeof(path), "%s/class/net/%s/device/numa_node", sys_root, ifname);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return -1;
	v = atoi(buf);
	return v >= 0 ? v : -1;
}

int nic_sysfs_driver(const char *ifname, int ifindex, char *buf, size_t size)
{
	char path[384], target[512];
	const char *base;
	ssize_t n;

	if (!sysfs_is_ours(ifname, ifindex))
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/class/net/%s/device/driver", sys_root, ifname);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	snprintf(buf, size, "%s", base ? base + 1 : target);
	return 0;
}
