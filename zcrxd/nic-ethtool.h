/* SPDX-License-Identifier: MIT */
/*
 * nic-ethtool — the ethtool generic netlink backend: CHANNELS, RINGS
 * (tcp-data-split, hds-thresh), FEATURES by name, RSS get/dump and, on 6.17+,
 * RSS set/create/delete.  Encoders and decoders are exposed so tests can
 * feed them captured kernel replies.
 *
 * Owns: the ethtool netlink message formats.  Must not: fall back to the
 * ioctl (nic-kernel.c decides), keep state beyond the resolved family, log
 * above debug.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "genl.h"
#include "nic.h"

struct nic_ethnl {
	struct genl_sock *s; /* borrowed request socket */
	struct genl_family fam;
};

/* Feature state as FEATURES_GET reports it for one named bit. */
struct nic_feature {
	bool hw;       /* in the changeable set */
	bool wanted;   /* requested by the user */
	bool active;   /* currently on */
	bool nochange; /* fixed by the kernel */
	int index;     /* bit index (not ABI), -1 if the name was not listed */
};

/* Result of a FEATURES_SET as the reply tells it. */
struct nic_feature_set_result {
	bool replied;     /* a FEATURES_SET_REPLY came */
	bool not_applied; /* the bit is in WANTED: the result differs from the request */
	bool changed;     /* the bit is in ACTIVE: it changed */
};

int nic_ethnl_init(struct nic_ethnl *e, struct genl_sock *s, struct kerror *err);
bool nic_ethnl_has(const struct nic_ethnl *e, uint8_t cmd);

/* Encoders: add attributes after a genl header the caller started. */
void nic_ethnl_put_header(struct nlmsghdr *nlh, int ifindex, uint32_t flags);
void nic_ethnl_put_channels(struct nlmsghdr *nlh, const struct nic_channels_req *req);
void nic_ethnl_put_rings(struct nlmsghdr *nlh, const struct nic_rings_req *req);
/* A verbose WANTED bitset naming one bit. */
void nic_ethnl_put_feature(struct nlmsghdr *nlh, const char *name, bool on);
/* RSS_SET / RSS_CREATE_ACT body.  has_ctx adds CONTEXT; indir with n == 0
 * sends an empty INDIR (reset to default) when reset is set, else nothing;
 * key NULL sends no HKEY.  Never HFUNC or INPUT_XFRM: zcrxd does not change
 * the hash function or symmetric hashing, and an absent attribute is left
 * as it is.  -EMSGSIZE if too big. */
int nic_ethnl_put_rss(struct nlmsghdr *nlh, bool has_ctx, uint32_t ctx, const uint32_t *indir,
		      uint32_t n, bool reset, const uint8_t *key, uint32_t key_len);

/* Decoders. */
/* The ifindex in a message's header attribute (id 1), or -ENODATA. */
int nic_ethnl_msg_ifindex(const struct nlmsghdr *nlh);
int nic_ethnl_parse_channels(const struct nlmsghdr *nlh, struct nic_channels *ret);
int nic_ethnl_parse_rings(const struct nlmsghdr *nlh, struct nic_rings *ret);
int nic_ethnl_parse_features(const struct nlmsghdr *nlh, const char *name,
			     struct nic_feature *ret);
int nic_ethnl_parse_feature_set(const struct nlmsghdr *nlh, const char *name,
				struct nic_feature_set_result *ret);
/* Fills *ret (indir and key malloc'd; free with nic_rss_clear).  A reply
 * without CONTEXT is context 0. */
int nic_ethnl_parse_rss(const struct nlmsghdr *nlh, struct nic_rss *ret);
/*
 * One bit of a bitset nest, compact or verbose, by name (verbose) or index
 * (either form; index < 0 = unknown).  Returns 1 when the bit is in the set
 * (listed / in the mask; for NOMASK sets: set), 0 when not, -errno when the
 * set cannot be read that way (compact without an index).  *ret_value is the
 * bit's value.
 */
int nic_ethnl_bitset_bit(const struct nlattr *bitset, const char *name, int index,
			 bool *ret_value, int *ret_index);

/* Requests (ifindex > 0).  On failure err has errno + extack text. */
int nic_ethnl_channels_get(struct nic_ethnl *e, int ifindex, struct nic_channels *ret,
			   struct kerror *err);
int nic_ethnl_channels_set(struct nic_ethnl *e, int ifindex, const struct nic_channels_req *req,
			   struct kerror *err);
int nic_ethnl_rings_get(struct nic_ethnl *e, int ifindex, struct nic_rings *ret,
			struct kerror *err);
int nic_ethnl_rings_set(struct nic_ethnl *e, int ifindex, const struct nic_rings_req *req,
			struct kerror *err);
int nic_ethnl_feature_get(struct nic_ethnl *e, int ifindex, const char *name,
			  struct nic_feature *ret, struct kerror *err);
int nic_ethnl_feature_set(struct nic_ethnl *e, int ifindex, const char *name, bool on,
			  struct nic_feature_set_result *ret, struct kerror *err);
int nic_ethnl_rss_get(struct nic_ethnl *e, int ifindex, uint32_t ctx, struct nic_rss *ret,
		      struct kerror *err);
/* Every context of one device (6.12+), context 0 first.  *ret malloc'd. */
int nic_ethnl_rss_dump(struct nic_ethnl *e, int ifindex, struct nic_rss **ret, size_t *ret_n,
		       struct kerror *err);
/* 6.17+: see nic_ethnl_put_rss for the arguments. */
int nic_ethnl_rss_set(struct nic_ethnl *e, int ifindex, uint32_t ctx, const uint32_t *indir,
		      uint32_t n, bool reset, const uint8_t *key, uint32_t key_len,
		      struct kerror *err);
int nic_ethnl_rss_create(struct nic_ethnl *e, int ifindex, const uint32_t *indir, uint32_t n,
			 uint32_t *ret_ctx, struct kerror *err);
int nic_ethnl_rss_delete(struct nic_ethnl *e, int ifindex, uint32_t ctx, struct kerror *err);
