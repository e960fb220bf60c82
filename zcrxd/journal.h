/* SPDX-License-Identifier: MIT */
/*
 * journal — the ownership journal: everything zcrxd made or changed on a NIC.
 *
 * zcrxd owns exactly what is written here and nothing else: the queues it
 * leased, the rule locations and RSS contexts it created (with their
 * content, so a slot reused by someone else is not mistaken for ours), the
 * bindings it made, and every setting it changed together with the value it
 * had before (so release can put it back).
 *
 * Crash safety: before a plan runs, the entries it will create are written
 * as "pending" (their content is known, their location/id not yet).  After a
 * crash, journal_resolve_pending() adopts the kernel objects that match a
 * pending entry and that nobody else owns, and drops the rest.
 *
 * Owns: the data model and pure helpers.  Must not: do I/O (store.c
 * persists it, exec.c changes it, plan.c reads it).
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "binder.h"
#include "nic.h"

struct journal_lease {
	uint32_t queue;
	uint8_t owner[NIC_MAC_LEN];
};

struct journal_rule {
	struct nic_rule rule; /* content; location valid unless pending */
	uint8_t owner[NIC_MAC_LEN];
	bool pending;
};

struct journal_ctx {
	uint32_t id; /* 0 while pending */
	uint8_t owner[NIC_MAC_LEN];
	uint32_t n_queues;
	uint32_t queues[64]; /* ATTACH_QUEUES_MAX, ascending */
	bool pending;
};

struct journal_binding {
	uint32_t id; /* 0 while pending */
	uint32_t queue;
	int tap_ifindex;
	uint32_t fallback;
	uint8_t owner[NIC_MAC_LEN];
	bool pending;
};

/* The channel counts we changed, as they were. */
struct journal_channels {
	uint32_t rx, combined;
};

struct journal_nic {
	char name[IF_NAMESIZE];
	int ifindex;
	bool released; /* `release` ran: leave the NIC alone until the next attach */

	bool has_channels_prior;
	struct journal_channels channels_prior;
	bool has_ntuple_prior;
	bool ntuple_prior;
	bool has_tds_prior;
	uint8_t tds_prior; /* enum nic_tcp_data_split */
	bool has_hds_prior;
	uint32_t hds_prior;
	bool has_rss0_prior; /* we own the context-0 table */
	uint32_t n_rss0_prior;
	uint32_t *rss0_prior; /* malloc'd */

	size_t n_leases, n_rules, n_ctxs, n_bindings;
	struct journal_lease *leases;
	struct journal_rule *rules;
	struct journal_ctx *ctxs;
	struct journal_binding *bindings;
};

void journal_nic_init(struct journal_nic *j, const char *name, int ifindex);
void journal_nic_clear(struct journal_nic *j);
int journal_nic_copy(struct journal_nic *dst, const struct journal_nic *src);
bool journal_nic_equal(const struct journal_nic *a, const struct journal_nic *b);
/* Nothing owned and nothing changed. */
bool journal_nic_empty(const struct journal_nic *j);
bool journal_nic_has_pending(const struct journal_nic *j);
void journal_drop_pending(struct journal_nic *j);

int journal_add_lease(struct journal_nic *j, uint32_t queue, const uint8_t owner[NIC_MAC_LEN]);
int journal_add_rule(struct journal_nic *j, const struct nic_rule *rule,
		     const uint8_t owner[NIC_MAC_LEN], bool pending);
int journal_add_ctx(struct journal_nic *j, uint32_t id, const uint8_t owner[NIC_MAC_LEN],
		    const uint32_t *queues, uint32_t n, bool pending);
int journal_add_binding(struct journal_nic *j, const struct journal_binding *b);
int journal_set_rss0_prior(struct journal_nic *j, const uint32_t *indir, uint32_t n);
void journal_clear_rss0_prior(struct journal_nic *j);

/* Index or -1. */
ssize_t journal_find_lease(const struct journal_nic *j, uint32_t queue);
ssize_t journal_find_rule(const struct journal_nic *j, uint32_t location);
/* The non-pending entry with this location and this content, or -1. */
ssize_t journal_find_rule_exact(const struct journal_nic *j, const struct nic_rule *rule);
ssize_t journal_find_ctx(const struct journal_nic *j, uint32_t id);
/* The non-pending entry for context rss->id whose queues rss spans, or -1. */
ssize_t journal_find_ctx_exact(const struct journal_nic *j, const struct nic_rss *rss);
ssize_t journal_find_binding(const struct journal_nic *j, uint32_t id);
void journal_del_lease(struct journal_nic *j, size_t i);
void journal_del_rule(struct journal_nic *j, size_t i);
void journal_del_ctx(struct journal_nic *j, size_t i);
void journal_del_binding(struct journal_nic *j, size_t i);

/* The RSS contexts to read by id where the kernel cannot list contexts:
 * every context the journal owns and, when a crash left pending ones (their
 * ids never learned), ids 1..JOURNAL_CTX_SCAN too, for
 * journal_resolve_pending() to find them (the core hands out the lowest
 * free id since 6.11, and drivers before it start low as well).  Returns
 * how many ids were written (at most max). */
#define JOURNAL_CTX_SCAN 32
size_t journal_ctx_ids_to_read(const struct journal_nic *j, uint32_t *ids, size_t max);

/* Same match and action (location ignored). */
bool journal_rule_same_content(const struct nic_rule *a, const struct nic_rule *b);

/* The distinct queues of rss's table are exactly the sorted set q[0..n). */
bool journal_rss_spans(const struct nic_rss *rss, const uint32_t *q, uint32_t n);

/*
 * Settle pending entries against what the kernel shows: a pending entry is
 * adopted when an object with the same content exists that no other journal
 * entry owns (and whose slot/id is not foreign-claimed), and dropped
 * otherwise.  bindings: what the binder dump shows for this NIC (may be
 * NULL).  Returns the number of entries adopted.
 */
size_t journal_resolve_pending(struct journal_nic *j, const struct nic *nic,
			       const struct binder_binding *bindings, size_t n_bindings);
