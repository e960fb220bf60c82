/* SPDX-License-Identifier: MIT */
/*
 * exec — applies a plan op by op through the NIC backend (and the binder for
 * BIND/UNBIND), keeping an undo for every applied op.  When an op fails, the
 * applied ones are undone in reverse order, so the kernel ends as it was
 * before the plan, and the error names the op that failed with the kernel's
 * text.  The ownership journal follows every change.
 *
 * Crash safety: before the first kernel change of a plan that makes
 * something or changes a setting for the first time, exec writes the
 * plan's intent into the journal (prior values of settings about to
 * change, the rules/contexts/bindings about to be made as "pending") and
 * hands it to env->persist; journal_resolve_pending() settles those after a
 * crash.  A plan that only removes what the journal owns or restores
 * recorded values needs no intent up front (the journal on disk already
 * covers every state a crash can leave); should it roll back, the objects
 * the undo re-creates are persisted as pending before the first undo.
 *
 * Refused binds: BINDs come last in a plan (after the steering they use)
 * and nothing after them depends on them.  When the caller takes refusals
 * (env->bind_refused), a BIND the binder refuses in the plan's final run of
 * BINDs is not a failed plan: the steering already applied stays (it is a
 * complete attachment without zero-copy, not a half-made one), the journal
 * drops the binding's pending intent (nothing was made; a crash before the
 * next save leaves a pending entry journal_resolve_pending() drops), the
 * remaining BINDs are still tried, and the refusal goes to the callback so
 * the caller can plan without it.  Without the callback, and for a BIND
 * anywhere else, a refusal fails the plan and rolls it back like any op.
 *
 * An UNBIND the binder answers with ENOENT found the binding gone already
 * (the module tears bindings down with their tap or NIC, and all of them
 * when it goes away): that is done, and a rollback does not bind it again.
 *
 * Owns: applying, undoing, journal bookkeeping.  Must not: decide anything
 * (that is plan.c) or write files itself (persist is the caller's).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "binder.h"
#include "journal.h"
#include "kerror.h"
#include "nic.h"
#include "plan.h"

enum exec_point {
	EXEC_POINT_INTENT = 0, /* intent persisted, nothing applied yet */
	EXEC_POINT_BEFORE_OP,  /* about to apply op i */
	EXEC_POINT_AFTER_OP,   /* op i applied (kernel and journal in memory) */
	EXEC_POINT_UNDO,       /* about to undo op i */
};

struct exec_env {
	struct nic_backend nic;
	const struct binder_backend *binder; /* NULL: BIND/UNBIND fail with EOPNOTSUPP */
	/* Persist the journal with the plan's intent before the kernel changes
	 * (see above).  A failure (-errno, what in *err) aborts the plan
	 * before anything changed.  Optional. */
	int (*persist)(void *userdata, const struct journal_nic *j, struct kerror *err);
	/* A BIND of the plan's final run the binder refused (see above):
	 * op is &p->ops[i], err the binder's errno and text (op named).
	 * Optional; unset = such a refusal fails the plan. */
	void (*bind_refused)(void *userdata, const struct plan_op *op, const struct kerror *err);
	/* Test hook (fault injection for crash tests).  Optional. */
	void (*fault)(void *userdata, enum exec_point point, size_t op);
	void *userdata;
	/* One plan at a time per NIC: exec sets it while running and refuses
	 * with -EBUSY when it is already set.  Optional. */
	bool *busy;
};

struct exec_result {
	size_t n_applied;   /* ops applied before the failure (or all) */
	ssize_t failed;     /* index of the op that failed, -1 when none */
	struct kerror err;  /* why; op = the op's description */
	bool rolled_back;   /* undo ran */
	/* The failed op's call overran its bound (ETIMEDOUT, kcall.h): it
	 * may still take effect.  Its intent stays in the journal, pending
	 * (what it makes) and with the priors it records, like a crash's. */
	bool outcome_unknown;
	size_t n_undo_failed;
	struct kerror undo_err; /* first undo that failed (the kernel is then not as before) */
	size_t n_kernel;    /* kernel calls made, undo included */
	size_t n_bind_refused;  /* BINDs refused and left out (env->bind_refused) */
	struct kerror bind_err; /* the first of them */
};

/* Apply p to the NIC and to j.  0 when every op applied (BINDs handed to
 * env->bind_refused aside: n_bind_refused counts them); otherwise -errno,
 * the kernel is back as before (unless undo failed too: then
 * n_undo_failed > 0 and j still lists what remained), and res says what
 * happened. */
int exec_plan(const struct exec_env *env, const struct plan *p, struct journal_nic *j,
	      struct exec_result *res);
/* The same, and ids (p->n_ops entries, or NULL) gets the kernel's answer
 * of each op applied (the id of a context made, a rule's location, a
 * binding's id; 0 for the others and those not applied): for the log
 * lines (plan_op_describe_done). */
int exec_plan_ids(const struct exec_env *env, const struct plan *p, struct journal_nic *j,
		  struct exec_result *res, uint32_t *ids);

/* Several plans' intents made durable by one sync (one per NIC, all
 * before the first of them changes the kernel): exec_stage records p's
 * intent in j as exec_plan would (returns 1; 0 when p needs none: nothing
 * recorded, then exec_plan as usual), keeping j as it was in st for the
 * rollback.  The caller persists j (env->persist is not called for it),
 * then applies p with exec_plan_staged, which takes st; or, when it cannot
 * persist, exec_unstage puts j back as it was.  -errno: j unchanged. */
struct exec_staged {
	struct journal_nic snap; /* j before the intent */
	bool intent;             /* recorded (snap is valid) */
	struct exec_pre *pre;    /* exec_prefetch's answers, per op of the plan, or NULL */
};
int exec_stage(const struct plan *p, struct journal_nic *j, struct exec_staged *st);
int exec_plan_staged(const struct exec_env *env, const struct plan *p, struct journal_nic *j,
		     struct exec_staged *st, struct exec_result *res, uint32_t *ids);
/* p is the plan st was staged for.  What exec_prefetch made and the plan
 * did not apply stays owned: pending in j (journal_resolve_pending). */
void exec_unstage(const struct plan *p, struct journal_nic *j, struct exec_staged *st);

/*
 * Several staged plans' first kernel changes in one hand-over
 * (nic_ops.rule_insert_many), once their intents are durable: for each
 * plans[i] staged in sts[i], the rule inserts that come before any other
 * kernel op of the plan (an Attach's steering) are made now, in plan
 * order; exec_plan_staged then takes each op's answer from sts[i] instead
 * of calling the kernel, so the plan applies, fails, rolls back and
 * journals exactly as if it had made the call itself at that op.  A
 * plan's later inserts are not tried after one failed (exec stops
 * there).  When the hand-over overran its bound, every prefetched op's
 * outcome is unknown: exec_plan_staged fails the plan at the first with
 * ETIMEDOUT and keeps all of them pending.  Nothing is done without
 * rule_insert_many, or for fewer than two inserts.  Returns how many
 * inserts were handed over.
 */
struct exec_pre {
	bool done;     /* this op's call was made (or its outcome is unknown) */
	bool unknown;  /* the hand-over overran: it may or may not have taken effect */
	int result;    /* 0 or -errno */
	uint32_t loc;  /* the rule's slot when it succeeded */
	struct kerror err;
};
size_t exec_prefetch(const struct exec_env *env, const struct plan *const *plans,
		     struct exec_staged *const *sts, size_t n);

/* The journal bookkeeping, also for tests: record the plan's intent. */
int exec_intent(const struct plan *p, struct journal_nic *j);
/* The intent of one op (pending entries, recorded priors). */
int exec_intent_op(struct journal_nic *j, const struct plan_op *op);
/* Must p's intent be on disk before its first kernel change? */
bool exec_needs_intent(const struct plan *p);
/* Did exec_prefetch make this op's object (or may it have)? */
bool exec_pre_made(const struct exec_pre *e);
/* The journal effect of op applied with kernel result out (rule location,
 * context id, binding id) and, for a rule to a context made in the same
 * plan, that context's id. */
int exec_journal_apply(struct journal_nic *j, const struct plan_op *op, uint32_t out,
		       uint32_t ctx_id);

/* "insert rule ether dst ... -> queue 7: <kernel text> (EINVAL)" */
const char *exec_result_format(const struct exec_result *res, char *buf, size_t size);
/* The same for a line that names the NIC already (log_nic): errors of nic
 * are formatted without it (kerror_format_in). */
const char *exec_result_format_in(const struct exec_result *res, const char *nic, char *buf,
				  size_t size);
