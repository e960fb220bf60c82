/* SPDX-License-Identifier: MIT */
/*
 * fake-nic-int — TEST-ONLY: the fake NIC's private model, shared by
 * fake-nic.c (the ops table: what a driver and the kernel's core do) and
 * fake-nic-state.c (its state as text, in a file, and changes from outside).
 */
#pragma once

#include "fake-nic.h"

#define FAKE_MAX_NICS 32
#define FAKE_MAX_Q 1024

/* A context's hash settings (context 0's live in struct fake_nic). */
struct fake_hash {
	uint8_t hfunc; /* ETH_RSS_HASH_* bit */
	uint8_t xfrm;  /* RXH_XFRM_* bits */
};

struct fake_ctx {
	uint32_t id; /* 0 = free slot */
	uint32_t *indir;
	struct fake_hash hash;
};

struct fake_nic {
	struct fake_nic_cfg cfg;
	char name[IF_NAMESIZE];
	uint32_t combined, rx, tx;
	uint32_t *indir0;
	bool indir0_user; /* configured by the user: survives channel changes */
	struct fake_hash hash0;
	struct fake_ctx *ctxs; /* max_contexts entries */
	struct nic_rule *rules; /* rule_capacity entries, location = NIC_LOC_ANY for free */
	bool ntuple_on;
	uint8_t tds;
	uint32_t hds;
	unsigned providers[FAKE_MAX_Q];
};

struct fake_net {
	struct fake_nic *nics[FAKE_MAX_NICS];
	size_t n;
	int next_ifindex;
	unsigned calls, fail_at, fail_also;
	bool frozen;
	char *file; /* persisted here after every change (fake_net_set_file) */
	int fail_err;
	char fail_msg[KERROR_MSG_MAX];
};

struct fake_nic *fake_net_find(const struct fake_net *net, int ifindex);
struct fake_ctx *fake_nic_find_ctx(struct fake_nic *f, uint32_t ctx);
int fake_nic_apply_channels(struct fake_nic *f, const struct nic_channels_req *req,
			    const struct nic_id *id, struct kerror *err);
int fake_nic_insert_rule(struct fake_nic *f, struct nic_rule *rule, const struct nic_id *id,
			 struct kerror *err);
int fake_nic_delete_rule(struct fake_nic *f, uint32_t loc, const struct nic_id *id,
			 struct kerror *err);
/* rx-ntuple-filter off drops every rule, as drivers do. */
void fake_nic_flush_rules(struct fake_nic *f);
/* Rewrite the state file (fake_net_set_file), if any. */
void fake_net_persist(struct fake_net *net);
