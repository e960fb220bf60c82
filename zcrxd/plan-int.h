/* SPDX-License-Identifier: MIT */
/*
 * plan-int — the planner's private working state, shared by plan.c (setup,
 * results, assembly), plan-pool.c (channels, pool, default table),
 * plan-lease.c (queue choice, leases), plan-flow.c (a host lease's flow
 * rules), plan-steer.c (steering, contexts, rules), plan-zc.c (zero-copy
 * bindings, header split), plan-mac.c (the attachments by MAC),
 * plan-reason.c (the reasons), plan-op.c (the ops) and plan-tail.c (the
 * vNICs that wait, as one).  Not for other modules.
 */
#pragma once

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "str.h"

#define QMAX_LIMIT 4096       /* queue indexes we are willing to reason about */
#define RULE_SLOTS_LIMIT 65536 /* rule table sizes we pick slots in ourselves */
#define PLAN_RCACHE 8           /* distinct reasons remembered for sharing */
#define PLAN_STEER_FLOW 100     /* aplan.method of a lease: its flow's rules */

/* Why something cannot be done, for the reasons and notes that say so:
 * its words where they are, not copied into a struct kerror on every plan
 * (most plans say nothing with them).  The text is plan_why_msg(): the
 * capability's (plan_cap_msg, read as it is used) or msg. */
struct plan_why {
	int err;                   /* positive errno, as kerror_set makes it */
	const char *op;            /* "" when none */
	const struct nic_cap *cap; /* NULL: the text is msg */
	const char *msg;           /* with cap: its fallback; "" when none */
};

/* A plan input's attachments by MAC (plan-mac.c): open addressing over
 * index + 1 in atts, 0 for none, in at least twice as many slots as
 * attachments. */
struct plan_macs {
	const struct attach *const *atts;
	uint32_t *slots;
	size_t mask;
	unsigned shift; /* 64 - log2(mask + 1) */
};
/* Room for n of atts, none added yet; -ENOMEM. */
int plan_macs_init(struct plan_macs *m, const struct attach *const *atts, size_t n);
void plan_macs_free(struct plan_macs *m);
/* atts[i] added: -1; or the index of the one that holds its MAC already
 * (i left out). */
ssize_t plan_macs_add(struct plan_macs *m, size_t i);
/* The index of the one that holds mac, or -1. */
ssize_t plan_macs_find(const struct plan_macs *m, const uint8_t *mac);

/* Per-queue facts. */
enum {
	Q_POOL = 1u << 0,
	Q_FOREIGN_RULE = 1u << 1,
	Q_FOREIGN_CTX = 1u << 2,
	Q_PROVIDER = 1u << 3,
	Q_EXISTS = 1u << 4, /* below the target channel count */
};

enum phase {
	PH_UNBIND,
	PH_RULE_DEL,
	PH_CTX_DEL,
	PH_UNLEASE,
	PH_RESTORE,
	PH_RSS0_PRE,
	PH_CHANNELS,
	PH_RSS0_POST,
	PH_PREREQ,
	PH_LEASE,
	PH_CTX_NEW,
	PH_RULE_INS,
	PH_BIND,
	PH_MAX,
};

struct want_rule {
	struct nic_rule rule; /* content; rss_context valid when ctx_op < 0 */
	int ctx_op;           /* local index in PH_CTX_NEW, or -1 */
	bool satisfied;
	bool repair;          /* replaces one deleted outside zcrxd */
};

/* want_rules for the attachments, PLAN_WR_CHUNK (or more) at a time */
#define PLAN_WR_CHUNK 256

struct wr_chunk {
	struct wr_chunk *next;
	size_t used, cap;
	struct want_rule v[];
};

struct aplan {
	const struct attach *a;
	size_t idx;
	size_t rank;   /* position in planning order */
	bool skip;     /* duplicate or wrong NIC: no resources */
	bool other_nic; /* its id names another NIC than the one planned */
	uint32_t want; /* queues wanted after capability limits */
	uint32_t n_q;
	uint32_t *q; /* room for want (at least 1): the planner's qpool */
	bool exhausted;
	int method; /* -1 unsteered, else enum config_steering */
	bool use_ctx;
	bool has_ctx; /* kept owned context */
	bool room_held; /* to one queue: no context left for it (plan_room_hand_out) */
	uint32_t ctx_id;
	int ctx_op; /* local index in PH_CTX_NEW, or -1 */
	size_t n_wr, cap_wr;
	/* out of the planner's wr_chunks when it wants rules
	 * (plan_want_rule_add), at most 2 * ATTACH_IP_MAX (>= FLOW_RULES_MAX):
	 * an aplan stays small, so the planner's per-attachment array of
	 * thousands is no fresh mapping (page faults) on every plan, and
	 * there is no allocation per attachment */
	struct want_rule *wr;
	uint32_t *rule_room; /* room for n_wr rule locations in plan.rule_block */
	uint8_t flow_skip; /* leases: families whose rules the NIC refuses (1 IPv4, 2 IPv6) */
	bool want_bind;
	bool bind_repair;
	bool degraded; /* has a reason other than ATTACH_R_NUMA */
	/* res->n_reasons counts its reasons; they wait in planner.said until
	 * the plan lays them out in one block (res->reasons NULL until then) */
	struct attach_result *res;
};

/* A reason given while planning, to be laid out with its attachment's. */
struct said {
	size_t ap; /* aplan index */
	struct attach_reason r;
};

/* An op while planning: its reason is where it starts in planner.text
 * (the block moves as it grows; assemble points op.reason into the plan's). */
struct phase_op {
	struct plan_op op;
	size_t reason;
};

struct phase_ops {
	size_t n, cap;
	struct phase_op *v;
};

struct planner {
	const struct plan_input *in;
	const struct nic *nic;
	const struct journal_nic *j;
	const struct config_nic *pol;
	struct plan *p;
	const char *name;
	bool managed;
	int err;
	/* while the room for contexts is learned: the contexts to hand it out
	 * from (as the NIC is now, or as the plan before left them), and per
	 * attachment whether it took one of those left (plan_room_hand_out);
	 * NULL otherwise */
	const struct plan_room *room;
	bool *room_took;

	uint32_t t_cur, t; /* RX queues now / after the plan */
	uint32_t qmax;
	void *qblock;      /* the five arrays below, one block */
	uint8_t *qf;       /* per queue Q_* */
	uint32_t *qrule;   /* a foreign rule location per queue (notes) */
	int32_t *holder;   /* queue -> aplan index, -1 free */
	uint32_t *pos;     /* queue -> position in pool (UINT32_MAX: not in pool) */
	int *qnuma;        /* queue -> NUMA node of its IRQ, -1 unknown */

	const struct nic_rss *rss0;
	bool rss0_writable;
	bool carve_ok; /* pool queues are out of context 0 (or will be) */
	struct plan_why carve_err;

	bool chan_op, rings_op;
	bool chan_restore; /* the channel op puts back the pre-zcrxd count */

	size_t n_ap;
	struct aplan *ap;
	struct wr_chunk *wr_chunks; /* every ap's wr */
	uint32_t *qpool; /* every ap's q, one block */
	size_t *order;    /* ap indexes in planning order */
	/* the attachments by MAC (plan-mac.c): each MAC's first in planning
	 * order on this NIC (an ap index is its index in in->atts) */
	struct plan_macs macs;

	const struct nic_rule **obs_rules; /* observed rules sorted by location */
	size_t n_obs_rules;
	size_t *jrules; /* journal rule indexes sorted by location (non-pending) */
	size_t n_jrules;

	struct phase_ops ph[PH_MAX];
	/* the ops' reasons, each with its NUL: the plan's text block */
	char *text;
	size_t n_text, cap_text;

	/* reasons made lately, for sharing their text (add_reason) */
	struct attach_reason rcache[PLAN_RCACHE];
	unsigned rcache_next;
	/* the reason given last (a copy sharing its text): most come in runs
	 * of the same words (all who wait for a queue) */
	struct attach_reason last;
	bool last_numa; /* its code is ATTACH_R_NUMA */
	int last_err;
	/* every reason given, in order; laid out per attachment at the end */
	size_t n_said, cap_said;
	struct said *said;
};

/* plan.c, plan-op.c and plan-reason.c: helpers every step uses */
void *plan_xcalloc(struct planner *pl, size_t n, size_t size);
struct plan_op *plan_op_add(struct planner *pl, enum phase ph, enum plan_op_kind kind,
			    const uint8_t *owner, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
uint32_t *plan_dup_u32(struct planner *pl, const uint32_t *v, uint32_t n);
void plan_note(struct planner *pl, const char *code, const char *op, int err, const char *fmt,
	       ...) __attribute__((format(printf, 5, 6)));
void plan_reason(struct planner *pl, struct aplan *ap, const char *code, const char *op,
		 int err, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* The same with the message already written (no formatting). */
void plan_reason_text(struct planner *pl, struct aplan *ap, const char *code, const char *op,
		      int err, const char *msg);
/* Each attachment's reasons given, in one block, into the results
 * (plan.reason_block); -ENOMEM. */
int plan_reasons_lay_out(struct planner *pl);
/* Many attachments with the same words (all who wait for a queue): the
 * reason given last kept (a reference: attach_reason_clear it), then given
 * again to each of the others without comparing words.  keep gets nothing
 * after a failure (pl->err). */
void plan_reason_keep(struct planner *pl, struct attach_reason *keep);
void plan_reason_again(struct planner *pl, struct aplan *ap, const struct attach_reason *r);
const struct nic_rule *plan_obs_rule(const struct planner *pl, uint32_t loc);
ssize_t plan_rule_owner(const struct planner *pl, const struct nic_rule *r);
bool plan_ctx_owned(const struct planner *pl, const struct nic_rss *r);
/* The NIC's RSS contexts besides context 0, as observed. */
uint32_t plan_contexts_on_nic(const struct nic *nic);
/* How many of the NIC's contexts this plan deletes (so far). */
uint32_t plan_contexts_deleted(const struct planner *pl);
/* The RSS contexts where the driver said it has no room for one more
 * (plan-room.c): how many the NIC has besides context 0 and, per attachment
 * of the plan's input, whether it owns one, as the NIC is now (p NULL) or
 * once plan p is applied; and whether it took one of those left in a plan
 * before with the same room and made none with it (it comes last: no part
 * of what a plan leaves, plan_nic settles it for each room from none).
 * The arrays have room for in->n_atts. */
struct plan_room {
	uint32_t n_ctx;
	bool *owns;
	bool *last;
};
/* ret->last: before's, and each attachment that took one of those left in
 * p (took) and owns none after it. */
void plan_room_after(const struct plan_input *in, const struct plan *p,
		     const struct plan_room *before, const bool *took, struct plan_room *ret);
/* Do a and b leave the same room: as many contexts left, the same owners?
 * (What the plan after sees; not who comes last.) */
bool plan_room_same(const struct plan_input *in, const struct plan_room *a,
		    const struct plan_room *b);
/* Do a and b say the same attachments come last? */
bool plan_room_last_same(const struct plan_input *in, const struct plan_room *a,
			 const struct plan_room *b);
/* The room learned (pl->room), handed out: each multi-queue attachment
 * without a context of its own takes one of the contexts left, in planning
 * order (those pl->room says come last, after the others); those past the
 * last are room_held (one queue). */
void plan_room_hand_out(struct planner *pl);
#define PLAN_ROOM_PASSES 3
/* One plan of in (plan.c); with room (and room_took, parallel to in->atts)
 * while the room for contexts is learned, else both NULL. */
int plan_once(const struct plan_input *in, struct plan *ret, const struct plan_room *room,
	      bool *room_took);
/* The plan of in with the vNICs that wait for a full pool planned as one
 * (plan-tail.c): 1 and *ret when it could prove they all wait, 0 (nothing
 * in *ret) when not, -ENOMEM. */
int plan_tail(const struct plan_input *in, struct plan *ret);
bool plan_binding_owned_on(const struct planner *pl, uint32_t q);
const struct binder_binding *plan_obs_binding(const struct planner *pl, uint32_t id);
/* plan-mac.c, the planner's by-MAC index: room made once a plan (pl->err
 * on failure); ap added to it, or the attachment that holds its MAC
 * already (ap left out); a lookup in it (NULL: none) */
int plan_mac_index(struct planner *pl);
struct aplan *plan_mac_add(struct planner *pl, struct aplan *ap);
struct aplan *plan_ap_by_mac(const struct planner *pl, const uint8_t *mac);
/* Why queue q may not be taken (or removed): "" when nothing claims it. */
const char *plan_claim(const struct planner *pl, uint32_t q, char *buf, size_t size);

/* plan-pool.c: NIC-wide steps */
void plan_channels(struct planner *pl);
void plan_pool(struct planner *pl);
void plan_rss0(struct planner *pl);

/* plan-lease.c: queue choice */
void plan_keep_leases(struct planner *pl);
void plan_rebalance(struct planner *pl);
void plan_allocate(struct planner *pl);
void plan_lease_ops(struct planner *pl);

/* plan-steer.c and plan-zc.c: steps after the leases are known */
/* True when rules are possible on this NIC and the Steering= methods can
 * send the vNIC id's traffic to a queue but none to an RSS context (rule
 * kinds refused): then more than one queue is no use.  why gets
 * "mac: <refusal>; ip: <refusal>" and *ret_err the first errno. */
bool plan_steer_context_refused(const struct planner *pl, const struct attach_id *id, char *why,
				size_t size, int *ret_err);
void plan_steer_choose(struct planner *pl);
void plan_steer_contexts(struct planner *pl);
void plan_steer_rules(struct planner *pl);
void plan_steer_ntuple(struct planner *pl);
bool plan_zc_want(struct planner *pl);
void plan_zc_rings(struct planner *pl, bool need_hds);
void plan_zc_bindings(struct planner *pl);

/* plan-steer.c: rules that match f and do a: NULL when not refused, else
 * the refusal's text (the kernel's, as learned) and *ret_err. */
const char *plan_kind_refused(const struct planner *pl, enum nic_rule_match f,
			      enum nic_rule_action a, int *ret_err);

/* plan-flow.c: a lease's steering by its flow */
void plan_flow_steer(struct planner *pl, struct aplan *ap, enum nic_rule_action act);
bool plan_flow_context_refused(const struct planner *pl, const struct attach_id *id, char *why,
			       size_t size, int *ret_err);
void plan_flow_want_rules(struct planner *pl, struct aplan *ap, const struct nic_rule *base);
/* One more of ap's wanted rules; NULL when out of memory (pl->err set). */
struct want_rule *plan_want_rule_add(struct planner *pl, struct aplan *ap);

/* The kernel's words for a "no" capability, or a fallback text. */
static inline const char *plan_cap_msg(const struct nic_cap *c, const char *fallback)
{
	if (c->msg[0])
		return c->msg;
	if (c->err)
		return strerror(c->err);
	return fallback;
}

static inline const char *plan_why_msg(const struct plan_why *w)
{
	return w->cap ? plan_cap_msg(w->cap, w->msg) : w->msg;
}

/* w = err (an errno as kerror_set takes it), op, and the text of cap
 * (NULL: msg); returns w->err. */
static inline int plan_why_set(struct plan_why *w, int err, const char *op,
			       const struct nic_cap *cap, const char *msg)
{
	if (err == 0 || err == INT_MIN)
		err = EIO;
	w->err = err < 0 ? -err : err;
	w->op = op;
	w->cap = cap;
	w->msg = msg;
	return w->err;
}

static inline const char *plan_mac_str(const uint8_t *mac, char *buf)
{
	return nic_mac_format(mac, buf);
}

static inline bool plan_is_lease(const struct aplan *ap)
{
	return ap->a->id.kind == ATTACH_KIND_LEASE;
}

static inline bool plan_q_ok(const struct planner *pl, uint32_t q)
{
	return q < pl->qmax;
}

static inline bool plan_queue_local(const struct planner *pl, uint32_t q, int node)
{
	return node >= 0 && q < pl->qmax && pl->qnuma[q] == node;
}

static inline int plan_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* A table of size buckets over the queues q (ascending, n > 0) that the
 * printed ethtool line writes exactly (plan_op_ethtool): consecutive queues
 * round robin, as `ethtool -X equal N` (with `start S`) writes them; others
 * in one block per queue, in queue order, as `ethtool -X weight` writes them
 * (queue k of n takes buckets size*k/n up to size*(k+1)/n). */
static inline void plan_spread(uint32_t *indir, uint32_t size, const uint32_t *q, size_t n)
{
	bool consecutive = true;
	uint32_t i;
	size_t k;

	for (k = 1; k < n && consecutive; k++)
		consecutive = q[k] == q[0] + k;
	if (consecutive) {
		for (i = 0; i < size; i++)
			indir[i] = q[i % n];
		return;
	}
	for (i = 0, k = 0; i < size; i++) {
		while (k + 1 < n && i >= (uint64_t)size * (k + 1) / n)
			k++;
		indir[i] = q[k];
	}
}
