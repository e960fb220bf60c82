/* SPDX-License-Identifier: MIT */
/*
 * plan — the pure planner: (policy, observed NIC, binder facts, desired
 * attachments, ownership journal) -> ordered operations, each with a human
 * reason and the ethtool command an operator could type instead.
 *
 * Pure: no I/O, no clock, no globals, no logging; the same input always gives
 * the same plan.  Idempotent: after the plan is applied (exec.c), planning
 * again with what the kernel then shows gives no operations.
 *
 * The planner works on one NIC at a time.  Order of the operations it emits
 * (kernel-interfaces.md §9):
 *   unbind -> delete rules -> delete contexts -> unlease -> restore header
 *   split / ntuple -> context-0 table (when shrinking) -> channels ->
 *   context-0 table (otherwise) -> ntuple on / header split on -> lease ->
 *   create contexts -> insert rules -> bind.
 * Every binding is unbound first (and bound again last) when the plan
 * changes channels or header split.
 *
 * Owns: pool carving, queue choice, steering fallbacks, degradation
 * reasons, op ordering and rendering.  Must not: do I/O or keep state.
 */
#pragma once

#include <json-c/json.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attach.h"
#include "binder.h"
#include "config.h"
#include "journal.h"
#include "nic.h"

#define PLAN_FEATURE_NTUPLE "rx-ntuple-filter"
#define PLAN_REASON_MAX 200

enum plan_op_kind {
	PLAN_OP_UNBIND = 0,   /* binding_id */
	PLAN_OP_RULE_DELETE,  /* rule (as observed, location set) */
	PLAN_OP_RSS_DELETE,   /* ctx; indir = its table (for undo) */
	PLAN_OP_FORGET,       /* journal only: forget (what, id) */
	PLAN_OP_UNLEASE,      /* journal only: queue */
	PLAN_OP_SET_CHANNELS, /* ch / ch_prev */
	PLAN_OP_SET_FEATURE,  /* feature on / prev_on */
	PLAN_OP_SET_RINGS,    /* rings / rings_prev */
	PLAN_OP_RSS_SET,      /* ctx, indir / prev */
	PLAN_OP_LEASE,        /* journal only: queue -> owner */
	PLAN_OP_RSS_CREATE,   /* indir, ctx_queues; id comes back from the kernel */
	PLAN_OP_RULE_INSERT,  /* rule; ctx_op >= 0: target context created by that op */
	PLAN_OP_BIND,         /* queue, tap_ifindex, fallback */
};

/* What an op does to the recorded prior value of the setting it changes. */
enum plan_prior {
	PLAN_PRIOR_KEEP = 0, /* already recorded (or nothing to record) */
	PLAN_PRIOR_RECORD,   /* first change: remember the value before it */
	PLAN_PRIOR_CLEAR,    /* this op restores the prior value: forget it */
};

enum plan_forget {
	PLAN_FORGET_RULE = 0, /* id = location */
	PLAN_FORGET_CTX,      /* id = context */
	PLAN_FORGET_BINDING,  /* id = binding id */
	PLAN_FORGET_CHANNELS, /* recorded prior already in effect */
	PLAN_FORGET_NTUPLE,
	PLAN_FORGET_RINGS,
	PLAN_FORGET_RSS0,
};

struct plan_op {
	enum plan_op_kind kind;
	char nic[IF_NAMESIZE];
	int ifindex;
	bool has_owner;
	uint8_t owner[NIC_MAC_LEN]; /* attachment (vNIC MAC) it is for */
	enum plan_prior prior;
	/* Why, in words (less than PLAN_REASON_MAX bytes): in the text block
	 * of the plan that holds the op (plan.text), read-only; NULL (in an op
	 * made by hand) reads as "".  Out of line, as ctx_queues, so that an
	 * op is small (plan-op.c): a plan of hundreds of ops takes its arrays
	 * from the heap the last plan left, not a fresh mapping faulted in. */
	const char *reason;

	struct nic_channels_req ch, ch_prev;       /* SET_CHANNELS */
	bool on, prev_on;                          /* SET_FEATURE (rx-ntuple-filter) */
	struct nic_rings_req rings, rings_prev;    /* SET_RINGS */
	uint32_t ctx;                              /* RSS_SET, RSS_DELETE */
	uint32_t n_indir, n_prev;                  /* RSS_*: new table / old table */
	uint32_t *indir, *prev;                    /* malloc'd */
	uint32_t n_ctx_queues;                     /* RSS_CREATE, FORGET of a context:
						    * the queue set */
	uint32_t ctx_count;                        /* RSS_CREATE: contexts there before */
	uint32_t *ctx_queues;                      /* malloc'd */
	struct nic_rule rule;                      /* RULE_INSERT / RULE_DELETE */
	int ctx_op;                                /* RULE_INSERT: index of the RSS_CREATE
						    * it targets, or -1; RSS_CREATE: its own
						    * index ($CTX<index+1> in ethtool lines) */
	bool undo_loc_any;                         /* RULE_DELETE: re-insert with LOC_ANY */
	bool driver_picks;                         /* RULE_INSERT at NIC_LOC_ANY on a driver
						    * that picks the slot (RX_CLS_LOC_SPECIAL):
						    * asked for its last one, RX_CLS_LOC_LAST,
						    * which ethtool -N cannot ask for */
	bool repair;                               /* puts back what zcrxd made and
						    * something outside removed */
	uint32_t queue;                            /* LEASE, UNLEASE, BIND */
	int tap_ifindex;                           /* BIND */
	uint32_t fallback;                         /* BIND: enum binder_fallback */
	uint32_t binding_id;                       /* UNBIND */
	bool rebind;                               /* UNBIND of a BROKEN binding that
						    * is bound again (BIND follows) */
	enum plan_forget forget;                   /* FORGET */
	uint32_t forget_id;
};

/* A BIND the module refused for one queue and tap (not for the whole NIC:
 * binder_refusal_is_nic_wide() refusals are the NIC's PROBE verdict).
 * With rebound set it is no refusal but its twin: a BROKEN binding on that
 * queue and tap was unbound and bound again once already; should the new
 * one break too, it stays as it is (shown broken) until the caller forgets
 * the entry, so a module that breaks every binding is not asked in a loop. */
struct plan_bind_refusal {
	uint32_t queue;
	int tap_ifindex;
	uint8_t owner[NIC_MAC_LEN]; /* the attachment it was for (bookkeeping) */
	struct kerror err;          /* the module's errno and extack text */
	bool rebound;
};

/* What the binder told about this NIC.  NULL input = nothing known (then
 * bindings are neither planned nor removed). */
struct plan_binder {
	bool available;  /* family resolved */
	struct kerror resolve_err;
	bool probed;     /* PROBE answered for this NIC */
	struct binder_probe probe;
	struct kerror probe_err;
	const struct binder_binding *bindings; /* live bindings on this NIC */
	size_t n_bindings;
	/* BINDs the module refused, remembered by the caller: a queue whose
	 * (queue, tap) is listed is not bound again; its attachment keeps its
	 * steering and is degraded with the module's errno and text.  When
	 * the caller forgets one, the next plan tries it again. */
	const struct plan_bind_refusal *refused;
	size_t n_refused;
};

enum plan_mode {
	PLAN_MODE_NORMAL = 0,
	PLAN_MODE_REBALANCE, /* also move leases (compaction, NUMA) above the thresholds */
	PLAN_MODE_RELEASE,   /* remove everything owned, restore every prior value */
};

struct plan_rebalance_opts {
	unsigned min_numa_gain;    /* move when this many more queues become NUMA-local */
	unsigned min_compact_gain; /* move when the pool positions used drop by this much */
};

struct plan_input {
	const struct config_nic *policy; /* NULL: NIC not managed, undo what we own */
	const struct nic *nic;
	const struct journal_nic *journal;
	const struct attach *const *atts; /* desired attachments on this NIC */
	size_t n_atts;
	const struct plan_binder *binder;
	enum plan_mode mode;
	struct plan_rebalance_opts rebalance; /* zeros = defaults (1, 1) */
};

struct plan {
	char nic[IF_NAMESIZE];
	size_t n_ops, cap_ops; /* cap_ops: room in ops (0: n_ops) */
	struct plan_op *ops;
	/* The ops' reasons, one after the other (plan_clear frees it). */
	char *text;
	size_t n_text, cap_text;
	/* Parallel to plan_input.atts: what each attachment gets once applied.
	 * Their reasons, queues and rule locations live in one block each,
	 * reason_block, queue_block and rule_block (plan_clear frees them;
	 * NULL when there are none): read them or copy them out
	 * (attach_result_copy), never grow or free them one by one. */
	size_t n_results;
	struct attach_result *results;
	struct attach_reason *reason_block;
	struct attach_queue *queue_block;
	uint32_t *rule_block;
	/* NIC-level notes (pool carving, channels, RSS table). */
	size_t n_notes;
	struct attach_reason *notes;
	/* Pool summary after the plan. */
	uint32_t channels; /* RX queue count */
	size_t n_pool, n_shared;
	uint32_t *pool, *shared;
	/* Some attachment was refused for OnExhaustion=fail. */
	bool exhausted;
};

void plan_init(struct plan *p);
void plan_clear(struct plan *p);
/* Append a copy of op (of another plan, or made by hand) to p: its tables
 * and its reason copied (p's own), its ctx_op moved by base (where op's
 * plan starts in p).  -ENOMEM: p as it was. */
int plan_op_append(struct plan *p, const struct plan_op *op, size_t base);

/* Plan one NIC.  -ENOMEM is the only failure; everything else is reasons. */
int plan_nic(const struct plan_input *in, struct plan *ret);

/* Learn from a failed op (a driver refusing L2 rules, contexts, header
 * split, ...): updates caps so the next plan falls back.  Returns true when
 * something was learned (re-planning makes sense). */
bool plan_learn(struct nic_caps *caps, const struct plan_op *op, const struct kerror *err);
/* Learn from an op the kernel accepted (rule kinds that work). */
void plan_learn_ok(struct nic_caps *caps, const struct plan_op *op);

const char *plan_op_kind_name(enum plan_op_kind k);
/* True for ops that change the kernel (not journal-only bookkeeping). */
bool plan_op_is_kernel(const struct plan_op *op);
/* True when p has ops and none of them changes the kernel (LEASE, UNLEASE
 * and FORGET: the journal only).  Such a plan, applied in full, settles by
 * itself: planning again with the same input and the journal exec left
 * gives no ops and the same results, notes and pool summary, so nothing is
 * left to confirm by planning again (the reconciler does not; the plan
 * harness checks it after every such plan it applies). */
bool plan_journal_only(const struct plan *p);
/* One-line summary, e.g. "insert rule ether dst 52:54:00:00:00:01 -> queue 7".
 * A context made in the same plan has no id yet: "create RSS context:
 * TABLE", "insert rule ... -> the context of step N". */
const char *plan_op_describe(const struct plan_op *op, char *buf, size_t size);
/* The same once op was applied, with the kernel's answers: out (the id of
 * the context it made) and ctx_id (the id of the context of step ctx_op a
 * rule points at): "create RSS context 2: TABLE", "... -> context 2". */
const char *plan_op_describe_done(const struct plan_op *op, uint32_t out, uint32_t ctx_id,
				  char *buf, size_t size);
/* The ethtool command line ("" when none exists, e.g. bindings).  A
 * context made in the same plan is a shell variable: the RSS_CREATE of op
 * k (0-based) renders as CTX<k+1>=$(ethtool -X ... context new ... | sed
 * ...) and the rules to it as "context $CTX<k+1>", so the lines of a plan,
 * run in order, are a working script. */
const char *plan_op_ethtool(const struct plan_op *op, char *buf, size_t size);
/* As JSON: the text appended to t (the one writer; a reply carries it as
 * it is), or the same text parsed into a json-c tree. */
struct jtext;
void plan_op_to_jtext(const struct plan_op *op, struct jtext *t);
void plan_to_jtext(const struct plan *p, struct jtext *t);
json_object *plan_op_to_json(const struct plan_op *op);
json_object *plan_to_json(const struct plan *p);
