/* SPDX-License-Identifier: MIT */
/*
 * nic-kernel — the real NIC backend: composes ethtool netlink, the ethtool
 * ioctl, netdev netlink and rtnetlink into one struct nic_ops, chooses the
 * protocol per operation from what this kernel offers (CTRL_ATTR_OPS), and
 * fills the capability matrix (DESIGN.md §6) from what the kernel reports.
 *
 * A capability only trying tells (L2 / IP rules accepted, RSS writable,
 * contexts creatable) is learned from the first real attempt and remembered
 * per ifindex until the device goes away — never from a probe rule (and a
 * rule refused while rx-ntuple-filter is off teaches nothing).  The one
 * check that writes is a RINGS_SET sending tcp-data-split's current value,
 * which the kernel validates (refusing drivers that cannot set it) and then
 * drops as a no-op.
 *
 * Owns: protocol choice, error context ("eth0: set channels: ..."), the
 * matrix.  Must not: log above debug, keep NIC state other than what was
 * learned.
 */
#pragma once

#include "genl.h"
#include "nic.h"

struct nic_kernel;

extern const struct nic_ops nic_kernel_ops;

int nic_kernel_new(struct nic_kernel **ret, struct kerror *err);
struct nic_kernel *nic_kernel_free(struct nic_kernel *k);
struct nic_backend nic_kernel_backend(struct nic_kernel *k);

/* Record every netlink datagram the backend receives (fixture capture). */
void nic_kernel_set_tap(struct nic_kernel *k, void (*fn)(const void *buf, size_t len, void *ud),
			void *ud);
/* What this kernel offers, for display: "ethtool: RSS_SET yes" etc. */
bool nic_kernel_has_rss_netlink(const struct nic_kernel *k);
bool nic_kernel_has_netdev(const struct nic_kernel *k);
