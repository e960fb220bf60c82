/* SPDX-License-Identifier: MIT */
/*
 * nic-rtnl — the rtnetlink backend (over genl.c's libmnl sockets): links
 * with their kind, MAC, up/down, queue counts, parent device (bus info), a
 * macvtap's lower device and mode; link up/down; and the sysfs facts
 * rtnetlink lacks (NUMA node, driver).
 *
 * Owns: RTM_GETLINK / RTM_NEWLINK encoding and decoding.  Must not: log
 * above debug, trust sysfs for a device that is not ours (sysfs may belong to
 * another netns: the ifindex is checked).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "genl.h"
#include "nic.h"

/* Decode an RTM_NEWLINK / RTM_DELLINK message. */
int nic_rtnl_parse_link(const struct nlmsghdr *nlh, struct nic_link *ret);

/* All links of the netns, in ifindex order.  *ret malloc'd. */
int nic_rtnl_links(struct genl_sock *rt, struct nic_link **ret, size_t *ret_n,
		   struct kerror *err);
int nic_rtnl_link_get(struct genl_sock *rt, int ifindex, struct nic_link *ret, struct kerror *err);
int nic_rtnl_set_up(struct genl_sock *rt, int ifindex, bool up, struct kerror *err);

/* sysfs: <sysfs>/class/net/NAME/device/numa_node, -1 when unknown or when
 * sysfs shows another netns's device of that name. */
int nic_sysfs_numa_node(const char *ifname, int ifindex);
/* sysfs: basename of <sysfs>/class/net/NAME/device/driver; -ENOENT if none. */
int nic_sysfs_driver(const char *ifname, int ifindex, char *buf, size_t size);
void nic_rtnl_set_sysfs_root(const char *root);
