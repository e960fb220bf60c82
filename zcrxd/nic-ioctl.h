/* SPDX-License-Identifier: MIT */
/*
 * nic-ioctl — the legacy ethtool ioctl (SIOCETHTOOL) backend: n-tuple rules
 * (no netlink API exists for them), flow-hash fields, RSS through
 * GRSSH/SRSSH for kernels without RSS_SET (< 6.17), and driver info.
 *
 * Owns: struct ethtool_rxnfc / ethtool_rxfh encoding, rule locations
 * (RX_CLS_LOC_SPECIAL: let the driver pick, or pick a free slot from
 * GRXCLSRLALL like the ethtool CLI does).  Must not: keep state, log above
 * debug.  The ioctl has no extack: errors carry the errno only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nic-uapi.h"
#include "nic.h"

/* An AF_INET datagram socket in the caller's netns. */
int nic_ioctl_open(void);
/* One SIOCETHTOOL call on ifname; data starts with the u32 command. */
int nic_ioctl_call(int fd, const char *ifname, void *data);

/* Pure encoders / decoders (tests use them directly). */
int nic_ioctl_rule_encode(const struct nic_rule *rule, struct zx_ethtool_rxnfc *ret);
void nic_ioctl_rule_decode(const struct zx_ethtool_rxnfc *nfc, struct nic_rule *ret);
/* The highest slot below size that is not in locs, as the planner picks
 * (plan-steer.c): a location is a priority, lower ones match first, so
 * zcrxd's rules take the last free ones and rules of others keep theirs.
 * -ENOSPC when full. */
int nic_ioctl_pick_slot(const uint32_t *locs, size_t n, uint32_t size, uint32_t *ret);
/* An SRSSH request for a device whose table has dev_indir_size entries and
 * whose key dev_key_size bytes: ctx (ZX_ETH_RXFH_CONTEXT_ALLOC creates),
 * indir replicated to the device size (n == 0: unchanged, or the default
 * with reset), key (NULL: unchanged).  The hash function and the input
 * transformation (symmetric hashing) are never changed: hfunc 0 and
 * input_xfrm ZX_RXH_XFRM_NO_CHANGE, as ethtool sends them (an input_xfrm of
 * 0 would mean "no transform" to 6.8+ and clear an admin's setting).
 * malloc'd; NULL with err on failure (err may not be NULL). */
struct zx_ethtool_rxfh *nic_ioctl_rxfh_encode(uint32_t ctx, const uint32_t *indir, uint32_t n,
					      bool reset, const uint8_t *key, uint32_t key_len,
					      uint32_t dev_indir_size, uint32_t dev_key_size,
					      struct kerror *err);
/* The SRSSH request that deletes context ctx (input_xfrm "no change" too). */
void nic_ioctl_rxfh_delete_encode(uint32_t ctx, struct zx_ethtool_rxfh *ret);
/* Repeat a table of n entries to size entries; -EINVAL unless n divides size. */
int nic_ioctl_replicate(const uint32_t *indir, uint32_t n, uint32_t size, uint32_t *out);

/* Rule table. */
struct nic_rule_table {
	uint32_t count;    /* rules installed */
	uint32_t size;     /* table size (capacity), 0 = not reported */
	bool loc_special;  /* driver accepts RX_CLS_LOC_ANY/FIRST/LAST */
};
int nic_ioctl_rule_table(int fd, const char *ifname, struct nic_rule_table *ret, struct kerror *err);
/* The location an insert at "any slot" sends for table t with the
 * occupied locations locs: RX_CLS_LOC_LAST (last) or RX_CLS_LOC_ANY where
 * the driver picks, else nic_ioctl_pick_slot().  -ENOSPC when full. */
int nic_ioctl_insert_location(const struct nic_rule_table *t, const uint32_t *locs, size_t n,
			      bool last, uint32_t *ret);
/* Every rule, decoded.  *ret malloc'd. */
int nic_ioctl_rule_dump(int fd, const char *ifname, struct nic_rule **ret, size_t *ret_n,
			struct nic_rule_table *ret_table, struct kerror *err);
int nic_ioctl_rule_get(int fd, const char *ifname, uint32_t loc, struct nic_rule *ret,
		       struct kerror *err);
/* rule->location NIC_LOC_ANY: where the driver picks (it reports
 * RX_CLS_LOC_SPECIAL) the lowest priority, RX_CLS_LOC_LAST, when *io_last
 * (io_last may be NULL), else RX_CLS_LOC_ANY; elsewhere the highest free
 * slot (nic_ioctl_pick_slot of the occupied list).  A driver refusing
 * RX_CLS_LOC_LAST (EINVAL, as the uapi tells drivers to for special values
 * they do not know) is asked again with RX_CLS_LOC_ANY and *io_last set
 * false when that works.  On success rule->location is the slot used. */
int nic_ioctl_rule_insert(int fd, const char *ifname, struct nic_rule *rule, bool *io_last,
			  struct kerror *err);
int nic_ioctl_rule_delete(int fd, const char *ifname, uint32_t loc, struct kerror *err);

/* Flow hash fields (ZX_RXH_* bits) of one flow type, default context. */
int nic_ioctl_flow_hash_get(int fd, const char *ifname, uint32_t flow_type, uint64_t *ret,
			    struct kerror *err);
int nic_ioctl_flow_hash_set(int fd, const char *ifname, uint32_t flow_type, uint64_t fields,
			    struct kerror *err);
int nic_ioctl_rx_rings(int fd, const char *ifname, uint32_t *ret, struct kerror *err);

/* RSS through GRSSH / SRSSH. */
int nic_ioctl_rss_get(int fd, const char *ifname, uint32_t ctx, struct nic_rss *ret,
		      struct kerror *err);
/* indir: n entries replicated to the device's size; n == 0 with reset
 * restores the default (context 0 only).  key: NULL = unchanged. */
int nic_ioctl_rss_set(int fd, const char *ifname, uint32_t ctx, const uint32_t *indir, uint32_t n,
		      bool reset, const uint8_t *key, uint32_t key_len, struct kerror *err);
int nic_ioctl_rss_create(int fd, const char *ifname, const uint32_t *indir, uint32_t n,
			 uint32_t *ret_ctx, struct kerror *err);
int nic_ioctl_rss_delete(int fd, const char *ifname, uint32_t ctx, struct kerror *err);

/* Driver name and bus info ("" when the driver leaves them empty). */
int nic_ioctl_drvinfo(int fd, const char *ifname, char *driver, size_t dsize, char *bus,
		      size_t bsize, struct kerror *err);
