/* SPDX-License-Identifier: MIT */
/*
 * nic-netdev — the netdev generic netlink backend: dev-get, queue-get (which
 * RX queues exist and which already carry a memory provider, AF_XDP or a
 * lease), napi-get (IRQ), qstats-get; and the procfs/sysfs steps from an IRQ
 * to its CPU affinity and NUMA node.
 *
 * Owns: the netdev message formats and the IRQ -> CPU -> node lookup.
 * Must not: change anything (read-only), log above debug.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "genl.h"
#include "nic.h"

struct nic_netdev {
	struct genl_sock *s; /* borrowed */
	struct genl_family fam; /* id 0 when the family is absent (< 6.3) */
};

struct nic_netdev_dev {
	int ifindex;
	uint64_t xdp_features, xdp_rx_metadata_features, xsk_features;
	uint32_t xdp_zc_max_segs;
};

/* One queue as queue-get reports it. */
struct nic_netdev_queue {
	int ifindex;
	uint32_t type; /* ZX_NETDEV_QUEUE_TYPE_* */
	uint32_t id;
	uint32_t napi_id;  /* 0 = none */
	unsigned providers; /* enum nic_provider bits */
	uint32_t dmabuf;   /* binding id when NIC_PROVIDER_DMABUF */
	int lease_ifindex; /* when NIC_PROVIDER_LEASE, else 0 */
};

struct nic_netdev_napi {
	int ifindex;
	uint32_t id;
	int irq; /* -1 = none (software NAPI, e.g. veth) */
	int pid; /* threaded NAPI, -1 = none */
};

struct nic_netdev_qstat {
	int ifindex;
	uint32_t type, id;
	bool has_rx_packets, has_rx_bytes;
	uint64_t rx_packets, rx_bytes;
};

/* -ENOENT (kept, fam.id stays 0) when the kernel has no netdev family. */
int nic_netdev_init(struct nic_netdev *nd, struct genl_sock *s, struct kerror *err);
bool nic_netdev_has(const struct nic_netdev *nd, uint8_t cmd);

int nic_netdev_parse_dev(const struct nlmsghdr *nlh, struct nic_netdev_dev *ret);
int nic_netdev_parse_queue(const struct nlmsghdr *nlh, struct nic_netdev_queue *ret);
int nic_netdev_parse_napi(const struct nlmsghdr *nlh, struct nic_netdev_napi *ret);
int nic_netdev_parse_qstat(const struct nlmsghdr *nlh, struct nic_netdev_qstat *ret);
/* The ifindex of a dev-*-ntf message, or -ENODATA. */
int nic_netdev_msg_ifindex(const struct nlmsghdr *nlh);
/* The device of a page-pool notification (-ENODATA: a pool no device has). */
int nic_netdev_pp_msg_ifindex(const struct nlmsghdr *nlh);

int nic_netdev_dev_get(struct nic_netdev *nd, int ifindex, struct nic_netdev_dev *ret,
		       struct kerror *err);
/* RX queues of ifindex in id order (empty while the device is down). */
int nic_netdev_rx_queues(struct nic_netdev *nd, int ifindex, struct nic_netdev_queue **ret,
			 size_t *ret_n, struct kerror *err);
int nic_netdev_napis(struct nic_netdev *nd, int ifindex, struct nic_netdev_napi **ret,
		     size_t *ret_n, struct kerror *err);
/* Per-queue RX counters (scope queue).  -EOPNOTSUPP when the driver has none. */
int nic_netdev_rx_qstats(struct nic_netdev *nd, int ifindex, struct nic_netdev_qstat **ret,
			 size_t *ret_n, struct kerror *err);

/* IRQ -> "0-3,8" from <procfs>/irq/N/smp_affinity_list; -errno if unknown. */
int nic_irq_affinity(int irq, char *buf, size_t size);
/* First CPU of a cpulist ("0-3,8" -> 0); -EINVAL if none. */
int nic_cpulist_first(const char *list);
/* NUMA node of a CPU from <sysfs>/devices/system/cpu/cpuN/nodeM; -1 if unknown. */
int nic_cpu_node(int cpu);
/* Root directories (tests point them at fixtures); NULL restores "/". */
void nic_netdev_set_roots(const char *procfs, const char *sysfs);
