/* SPDX-License-Identifier: MIT */
/*
 * fake-nic — a TEST-ONLY NIC backend behind `struct nic_ops`.
 *
 * It stands in for NIC features no kernel on the test machines offers (veth
 * has channels only): ntuple rules with driver-style location handling, RSS
 * contexts, a writable default table, header split / hds-thresh.  It applies
 * the kernel's own refusals (a channel shrink below a queue that the RSS
 * table, a rule or a provider uses; deleting a context a rule points at;
 * rules without rx-ntuple-filter; ...) so ordering bugs show up as errors.
 *
 * RSS writes reach it as the kernel backend sends them through the ioctl:
 * the fake builds the SRSSH request with zcrxd's own encoder
 * (nic_ioctl_rxfh_encode) and applies it as a 6.8+ kernel does, so a
 * request that would change the hash function or symmetric hashing shows
 * in the dump ("hfunc", "xfrm").
 *
 * Any mutating call can be made to fail: fake_net_fail_at(net, k, ...) makes
 * the k-th mutating call (counted from 1 since creation or the last
 * fake_net_reset_calls) fail without changing anything.
 *
 * Never linked into zcrxd: production code talks to the kernel backends.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nic.h"

struct fake_net;

struct fake_nic_cfg {
	const char *name;
	int ifindex; /* 0 = assign */
	uint32_t combined_max, rx_max, tx_max;
	uint32_t combined, rx, tx;
	bool rss;            /* context-0 table readable and writable */
	uint32_t indir_size; /* default 128 */
	bool sym_xor;        /* context 0 starts with symmetric-xor hashing */
	bool rss_contexts;
	bool no_ctx_dump;    /* contexts cannot be listed (no RSS netlink dump, before 6.12):
			      * observe shows context 0 only; rss_get reads one by id */
	bool ctx_get_enoent; /* a driver bug: reading a context by id says ENOENT even when
			      * it exists */
	bool rules_vanish;   /* a driver bug: inserted rules are accepted, never listed */
	uint32_t max_contexts; /* 0 = 32 */
	bool ntuple;           /* rx-ntuple-filter exists */
	bool ntuple_fixed;
	bool ntuple_on;
	uint32_t rule_capacity; /* default 1024 */
	bool loc_special;       /* driver picks the slot (RX_CLS_LOC_ANY) */
	bool l2_rules;          /* ETHER_FLOW dst-MAC rules accepted */
	bool l2_context;        /* ... also to an RSS context (bnxt: no FLOW_RSS with ETHER_FLOW;
				 * refused like its ioctl, EOPNOTSUPP without text) */
	bool ip_rules;
	bool flow_rules;        /* TCP/UDP port rules (TCP_V4 ... UDP_V6) accepted */
	bool flow6_rules;       /* ... and their IPv6 kinds (netdevsim-zx: IPv4 only) */
	bool header_split;
	bool hds_thresh;
	int numa_nodes; /* queue q sits on node q % numa_nodes; 0 = unknown (-1) */
	int numa_node;  /* device node, -1 = unknown */
	/* A vNIC's macvtap instead of a NIC (fake_nic_cfg_macvtap): kind
	 * "macvtap" on the fake NIC of ifindex lower, carrying mac; no queues
	 * of its own.  0 for a NIC. */
	int lower;
	uint8_t mac[6];
};

/* A capable NIC: 8 combined of 16, RSS + contexts, ntuple (off), L2 + IP
 * rules, explicit locations, header split, two NUMA nodes. */
void fake_nic_cfg_capable(struct fake_nic_cfg *cfg, const char *name);
/* What veth offers: rx/tx channels only. */
void fake_nic_cfg_veth(struct fake_nic_cfg *cfg, const char *name);
/* A vNIC's macvtap on the fake NIC of ifindex lower, carrying mac. */
void fake_nic_cfg_macvtap(struct fake_nic_cfg *cfg, const char *name, int lower,
			  const uint8_t mac[6]);

int fake_net_new(struct fake_net **ret);
void fake_net_free(struct fake_net *net);
int fake_net_add(struct fake_net *net, const struct fake_nic_cfg *cfg, int *ret_ifindex);
struct nic_backend fake_net_backend(struct fake_net *net);

/* Fail the k-th mutating call from now (1-based); 0 = never. */
void fake_net_fail_at(struct fake_net *net, unsigned k, int err, const char *msg);
/* Also fail the k-th call from now (a second, independent failure, e.g.
 * an undo); 0 = never. */
void fake_net_fail_also(struct fake_net *net, unsigned k);
/* Freeze: the "process died" — mutating calls still count and report
 * success but change nothing (crash tests). */
void fake_net_freeze(struct fake_net *net, bool frozen);

/* Mutating calls since creation / the last reset. */
unsigned fake_net_calls(const struct fake_net *net);
void fake_net_reset_calls(struct fake_net *net);

/* Canonical text of everything the kernel would show for one NIC (or all
 * when ifindex is 0): equal text = equal kernel state.  Caller frees. */
char *fake_net_dump(const struct fake_net *net, int ifindex);

/* Keep the fake "kernel" in a file, so it outlives a process that is
 * killed (crash tests with build/tests/zcrxd-fake): loaded here when the file
 * exists, rewritten (temp + rename) after every change.  Returns 1 when
 * state was loaded, 0 when the file did not exist, -errno on a bad file. */
int fake_net_set_file(struct fake_net *net, const char *path);
/* Add a NIC from "NAME:SHAPE[,key=value...]", SHAPE capable or veth, keys
 * as in struct fake_nic_cfg (combined, combined_max, rx, rx_max, l2, ip,
 * ntuple, rss, contexts, special, capacity, hs, numa, symxor, l2ctx, ctxdump, ctxget,
 * vanish). */
int fake_net_add_spec(struct fake_net *net, const char *spec);
/* A link goes away (a vNIC's macvtap deleted); -ENODEV when there is none. */
int fake_net_remove(struct fake_net *net, int ifindex);

/* Changes "from outside" (an operator, another tool), bypassing the
 * failure counter. */
int fake_net_ext_rule_insert(struct fake_net *net, int ifindex, struct nic_rule *rule);
int fake_net_ext_rule_delete(struct fake_net *net, int ifindex, uint32_t location);
int fake_net_ext_set_channels(struct fake_net *net, int ifindex, uint32_t combined, uint32_t rx);
int fake_net_ext_rss_delete(struct fake_net *net, int ifindex, uint32_t ctx);
int fake_net_ext_set_provider(struct fake_net *net, int ifindex, uint32_t queue,
			      unsigned providers);
int fake_net_ext_set_ntuple(struct fake_net *net, int ifindex, bool on);
