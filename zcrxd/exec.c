// SPDX-License-Identifier: MIT
/*
 * exec — transactional application of a plan (exec.h).
 * Owns: apply/undo per op kind and the journal effects.  Must not: decide,
 * write files, log above debug.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"

/* --- journal effects --------------------------------------------------------- */

static void record_prior(struct journal_nic *j, const struct plan_op *op, int *r)
{
	switch (op->kind) {
	case PLAN_OP_SET_CHANNELS:
		if (!j->has_channels_prior) {
			j->has_channels_prior = true;
			j->channels_prior.rx = op->ch_prev.rx;
			j->channels_prior.combined = op->ch_prev.combined;
		}
		break;
	case PLAN_OP_SET_FEATURE:
		if (!j->has_ntuple_prior) {
			j->has_ntuple_prior = true;
			j->ntuple_prior = op->prev_on;
		}
		break;
	case PLAN_OP_SET_RINGS:
		if (op->rings.has_tcp_data_split && !j->has_tds_prior) {
			j->has_tds_prior = true;
			j->tds_prior = op->rings_prev.tcp_data_split;
		}
		if (op->rings.has_hds_thresh && !j->has_hds_prior) {
			j->has_hds_prior = true;
			j->hds_prior = op->rings_prev.hds_thresh;
		}
		break;
	case PLAN_OP_RSS_SET:
		if (op->ctx == 0 && !j->has_rss0_prior)
			*r = journal_set_rss0_prior(j, op->prev, op->n_prev);
		break;
	case PLAN_OP_UNBIND:
	case PLAN_OP_RULE_DELETE:
	case PLAN_OP_RSS_DELETE:
	case PLAN_OP_FORGET:
	case PLAN_OP_UNLEASE:
	case PLAN_OP_LEASE:
	case PLAN_OP_RSS_CREATE:
	case PLAN_OP_RULE_INSERT:
	case PLAN_OP_BIND:
		break;
	}
}

static void clear_prior(struct journal_nic *j, const struct plan_op *op)
{
	switch (op->kind) {
	case PLAN_OP_SET_CHANNELS:
		j->has_channels_prior = false;
		memset(&j->channels_prior, 0, sizeof(j->channels_prior));
		break;
	case PLAN_OP_SET_FEATURE:
		j->has_ntuple_prior = false;
		j->ntuple_prior = false;
		break;
	case PLAN_OP_SET_RINGS:
		j->has_tds_prior = j->has_hds_prior = false;
		j->tds_prior = 0;
		j->hds_prior = 0;
		break;
	case PLAN_OP_RSS_SET:
		if (op->ctx == 0)
			journal_clear_rss0_prior(j);
		break;
	case PLAN_OP_UNBIND:
	case PLAN_OP_RULE_DELETE:
	case PLAN_OP_RSS_DELETE:
	case PLAN_OP_FORGET:
	case PLAN_OP_UNLEASE:
	case PLAN_OP_LEASE:
	case PLAN_OP_RSS_CREATE:
	case PLAN_OP_RULE_INSERT:
	case PLAN_OP_BIND:
		break;
	}
}

/* The journal's record of the binding op makes (or an undo of op would). */
static struct journal_binding binding_of(const struct plan_op *op, uint32_t id, bool pending)
{
	struct journal_binding b = { 0 };

	b.id = id;
	b.queue = op->queue;
	b.tap_ifindex = op->tap_ifindex;
	b.fallback = op->fallback;
	memcpy(b.owner, op->owner, NIC_MAC_LEN);
	b.pending = pending;
	return b;
}

static bool same_queues(const struct journal_ctx *c, const struct plan_op *op)
{
	return c->n_queues == op->n_ctx_queues &&
	       !memcmp(c->queues, op->ctx_queues, c->n_queues * sizeof(uint32_t));
}

static ssize_t pending_rule(const struct journal_nic *j, const struct plan_op *op)
{
	size_t i;

	for (i = 0; i < j->n_rules; i++) {
		const struct journal_rule *r = &j->rules[i];
		struct nic_rule want = op->rule;

		if (!r->pending || memcmp(r->owner, op->owner, NIC_MAC_LEN))
			continue;
		if (want.action == NIC_RULE_ACTION_CONTEXT)
			want.rss_context = r->rule.rss_context;
		if (journal_rule_same_content(&want, &r->rule))
			return (ssize_t)i;
	}
	return -1;
}

int exec_journal_apply(struct journal_nic *j, const struct plan_op *op, uint32_t out,
		       uint32_t ctx_id)
{
	ssize_t i;
	size_t k;
	int r = 0;

	if (op->prior == PLAN_PRIOR_RECORD)
		record_prior(j, op, &r);
	else if (op->prior == PLAN_PRIOR_CLEAR)
		clear_prior(j, op);
	if (r < 0)
		return r;

	switch (op->kind) {
	case PLAN_OP_SET_CHANNELS:
	case PLAN_OP_SET_FEATURE:
	case PLAN_OP_SET_RINGS:
	case PLAN_OP_RSS_SET:
		return 0;
	case PLAN_OP_RSS_CREATE:
		for (k = 0; k < j->n_ctxs; k++) {
			struct journal_ctx *c = &j->ctxs[k];

			if (c->pending && !memcmp(c->owner, op->owner, NIC_MAC_LEN) &&
			    same_queues(c, op)) {
				c->id = out;
				c->pending = false;
				return 0;
			}
		}
		return journal_add_ctx(j, out, op->owner, op->ctx_queues, op->n_ctx_queues, false);
	case PLAN_OP_RSS_DELETE: {
		struct nic_rss was = { .id = op->ctx, .indir_size = op->n_prev, .indir = op->prev };

		i = op->n_prev ? journal_find_ctx_exact(j, &was) : journal_find_ctx(j, op->ctx);
		if (i >= 0)
			journal_del_ctx(j, (size_t)i);
		return 0;
	}
	case PLAN_OP_RULE_INSERT: {
		struct nic_rule rule = op->rule;

		rule.location = out;
		if (op->ctx_op >= 0)
			rule.rss_context = ctx_id;
		i = pending_rule(j, op);
		if (i >= 0) {
			j->rules[i].rule = rule;
			j->rules[i].pending = false;
			return 0;
		}
		return journal_add_rule(j, &rule, op->owner, false);
	}
	case PLAN_OP_RULE_DELETE:
		i = journal_find_rule_exact(j, &op->rule);
		if (i >= 0)
			journal_del_rule(j, (size_t)i);
		return 0;
	case PLAN_OP_BIND: {
		struct journal_binding b = binding_of(op, out, false);

		for (k = 0; k < j->n_bindings; k++) {
			struct journal_binding *x = &j->bindings[k];

			if (x->pending && x->queue == op->queue && x->tap_ifindex == op->tap_ifindex &&
			    x->fallback == op->fallback && !memcmp(x->owner, op->owner, NIC_MAC_LEN)) {
				x->id = out;
				x->pending = false;
				return 0;
			}
		}
		return journal_add_binding(j, &b);
	}
	case PLAN_OP_UNBIND:
		i = journal_find_binding(j, op->binding_id);
		if (i >= 0)
			journal_del_binding(j, (size_t)i);
		return 0;
	case PLAN_OP_LEASE:
		if (journal_find_lease(j, op->queue) >= 0)
			return 0;
		return journal_add_lease(j, op->queue, op->owner);
	case PLAN_OP_UNLEASE:
		i = journal_find_lease(j, op->queue);
		if (i >= 0)
			journal_del_lease(j, (size_t)i);
		return 0;
	case PLAN_OP_FORGET:
		switch (op->forget) {
		case PLAN_FORGET_RULE:
			i = journal_find_rule_exact(j, &op->rule);
			if (i >= 0)
				journal_del_rule(j, (size_t)i);
			break;
		case PLAN_FORGET_CTX:
			for (k = 0; k < j->n_ctxs; k++)
				if (!j->ctxs[k].pending && j->ctxs[k].id == op->forget_id &&
				    same_queues(&j->ctxs[k], op)) {
					journal_del_ctx(j, k);
					break;
				}
			break;
		case PLAN_FORGET_BINDING:
			i = journal_find_binding(j, op->forget_id);
			if (i >= 0)
				journal_del_binding(j, (size_t)i);
			break;
		case PLAN_FORGET_CHANNELS:
			j->has_channels_prior = false;
			break;
		case PLAN_FORGET_NTUPLE:
			j->has_ntuple_prior = false;
			break;
		case PLAN_FORGET_RINGS:
			j->has_tds_prior = j->has_hds_prior = false;
			break;
		case PLAN_FORGET_RSS0:
			journal_clear_rss0_prior(j);
			break;
		}
		return 0;
	}
	return 0;
}

/* The journal entries op's intent holds (exec_intent). */
int exec_intent_op(struct journal_nic *j, const struct plan_op *op)
{
	int r = 0;

	if (op->prior == PLAN_PRIOR_RECORD)
		record_prior(j, op, &r);
	if (r < 0)
		return r;
	switch (op->kind) {
	case PLAN_OP_RULE_INSERT: {
		struct nic_rule rule = op->rule;

		rule.location = NIC_LOC_ANY;
		if (op->ctx_op >= 0)
			rule.rss_context = 0;
		r = journal_add_rule(j, &rule, op->owner, true);
		break;
	}
	case PLAN_OP_RSS_CREATE:
		r = journal_add_ctx(j, 0, op->owner, op->ctx_queues, op->n_ctx_queues, true);
		break;
	case PLAN_OP_BIND: {
		struct journal_binding b = binding_of(op, 0, true);

		r = journal_add_binding(j, &b);
		break;
	}
	/* What an undo would make again (a crash in the middle of a
	 * rollback must not leave it unowned). */
	case PLAN_OP_UNBIND: {
		struct journal_binding b = binding_of(op, 0, true);

		r = journal_add_binding(j, &b);
		break;
	}
	case PLAN_OP_RULE_DELETE: {
		struct nic_rule rule = op->rule;

		rule.location = NIC_LOC_ANY;
		r = journal_add_rule(j, &rule, op->owner, true);
		break;
	}
	case PLAN_OP_RSS_DELETE: {
		uint32_t q[ATTACH_QUEUES_MAX], n = 0, k, m;

		for (k = 0; k < op->n_prev; k++) {
			for (m = 0; m < n && q[m] != op->prev[k]; m++)
				;
			if (m == n && n < ATTACH_QUEUES_MAX)
				q[n++] = op->prev[k];
		}
		for (k = 1; k < n; k++)
			for (m = k; m > 0 && q[m - 1] > q[m]; m--) {
				uint32_t t = q[m];

				q[m] = q[m - 1];
				q[m - 1] = t;
			}
		r = journal_add_ctx(j, 0, op->owner, q, n, true);
		break;
	}
	case PLAN_OP_FORGET:
	case PLAN_OP_UNLEASE:
	case PLAN_OP_SET_CHANNELS:
	case PLAN_OP_SET_FEATURE:
	case PLAN_OP_SET_RINGS:
	case PLAN_OP_RSS_SET:
	case PLAN_OP_LEASE:
		break;
	}
	return r;
}

int exec_intent(const struct plan *p, struct journal_nic *j)
{
	size_t i;
	int r = 0;

	for (i = 0; i < p->n_ops && r >= 0; i++)
		r = exec_intent_op(j, &p->ops[i]);
	return r;
}

/* --- kernel calls -------------------------------------------------------------- */

struct remap {
	uint32_t from, to;
};

struct run {
	const struct exec_env *env;
	const struct plan *p;
	struct nic_id id;
	uint32_t *out;     /* per op: location / context id / binding id */
	struct remap *ctx_remap;
	size_t n_ctx_remap;
	size_t n_kernel;
	bool *nothing;     /* per op: applied, but there was nothing to do (no undo) */
	struct exec_pre *pre; /* per op: made already by exec_prefetch, or NULL */
};

static uint32_t remap_ctx(const struct run *x, uint32_t ctx)
{
	size_t i;

	for (i = 0; i < x->n_ctx_remap; i++)
		if (x->ctx_remap[i].from == ctx)
			return x->ctx_remap[i].to;
	return ctx;
}

static int no_binder(struct kerror *err, const char *obj, const char *op)
{
	return kerror_set(err, EOPNOTSUPP, obj, op, "no zero-copy binder backend");
}

static int apply(struct run *x, size_t i, struct kerror *err)
{
	const struct exec_env *env = x->env;
	const struct nic_ops *ops = env->nic.ops;
	void *be = env->nic.be;
	const struct plan_op *op = &x->p->ops[i];
	const struct binder_backend *bb = env->binder;
	int r = 0;

	if (plan_op_is_kernel(op))
		x->n_kernel++;
	switch (op->kind) {
	case PLAN_OP_SET_CHANNELS:
		return ops->set_channels(be, &x->id, &op->ch, err);
	case PLAN_OP_SET_FEATURE: {
		bool active = false;

		r = ops->set_feature(be, &x->id, PLAN_FEATURE_NTUPLE, op->on, &active, err);
		if (r < 0)
			return r;
		if (!active)
			return kerror_setf(err, EOPNOTSUPP, x->id.name, "set " PLAN_FEATURE_NTUPLE,
					   "the kernel accepted the request but the feature "
					   "stayed %s",
					   op->on ? "off" : "on");
		return 0;
	}
	case PLAN_OP_SET_RINGS:
		return ops->set_rings(be, &x->id, &op->rings, err);
	case PLAN_OP_RSS_SET:
		return ops->rss_set(be, &x->id, op->ctx, op->indir, op->n_indir, err);
	case PLAN_OP_RSS_CREATE:
		return ops->rss_create(be, &x->id, op->indir, op->n_indir, &x->out[i], err);
	case PLAN_OP_RSS_DELETE:
		r = ops->rss_delete(be, &x->id, op->ctx, err);
		if (r == -ENOENT) {
			/* already gone (deleted outside where contexts cannot
			 * be listed, so the planner went by the journal): what
			 * was asked, and nothing an undo should make again */
			kerror_clear(err);
			x->nothing[i] = true;
			r = 0;
		}
		return r;
	case PLAN_OP_RULE_INSERT: {
		struct nic_rule rule = op->rule;

		if (x->pre && x->pre[i].done) {
			/* made (or tried) by exec_prefetch: its answer */
			if (x->pre[i].result < 0) {
				*err = x->pre[i].err;
				return x->pre[i].result;
			}
			x->out[i] = x->pre[i].loc;
			return 0;
		}
		if (op->ctx_op >= 0)
			rule.rss_context = x->out[op->ctx_op];
		r = ops->rule_insert(be, &x->id, &rule, err);
		if (r >= 0)
			x->out[i] = rule.location;
		return r;
	}
	case PLAN_OP_RULE_DELETE:
		return ops->rule_delete(be, &x->id, op->rule.location, err);
	case PLAN_OP_BIND:
		if (!bb || !bb->ops || !bb->ops->bind)
			return no_binder(err, x->id.name, "bind");
		return bb->ops->bind(bb->be, x->id.ifindex, op->queue, op->tap_ifindex, op->fallback,
				     &x->out[i], err);
	case PLAN_OP_UNBIND:
		if (!bb || !bb->ops || !bb->ops->unbind)
			return no_binder(err, x->id.name, "unbind");
		r = bb->ops->unbind(bb->be, op->binding_id, err);
		if (r == -ENOENT) {
			/* already gone (the module tore it down with its tap or
			 * NIC, or went away itself): what was asked; and there
			 * is nothing an undo should bind again */
			kerror_clear(err);
			x->nothing[i] = true;
			r = 0;
		}
		return r;
	case PLAN_OP_FORGET:
	case PLAN_OP_UNLEASE:
	case PLAN_OP_LEASE:
		return 0;
	}
	return 0;
}

/* Undo op i.  *ret_new gets a new id when the undo had to re-create
 * something (context, rule location, binding). */
static int undo(struct run *x, size_t i, uint32_t *ret_new, struct kerror *err)
{
	const struct exec_env *env = x->env;
	const struct nic_ops *ops = env->nic.ops;
	void *be = env->nic.be;
	const struct plan_op *op = &x->p->ops[i];
	const struct binder_backend *bb = env->binder;

	if (plan_op_is_kernel(op))
		x->n_kernel++;
	switch (op->kind) {
	case PLAN_OP_SET_CHANNELS:
		return ops->set_channels(be, &x->id, &op->ch_prev, err);
	case PLAN_OP_SET_FEATURE: {
		bool active = false;

		return ops->set_feature(be, &x->id, PLAN_FEATURE_NTUPLE, op->prev_on, &active, err);
	}
	case PLAN_OP_SET_RINGS:
		return ops->set_rings(be, &x->id, &op->rings_prev, err);
	case PLAN_OP_RSS_SET:
		return ops->rss_set(be, &x->id, op->ctx, op->prev, op->n_prev, err);
	case PLAN_OP_RSS_CREATE:
		return ops->rss_delete(be, &x->id, x->out[i], err);
	case PLAN_OP_RSS_DELETE:
		return ops->rss_create(be, &x->id, op->prev, op->n_prev, ret_new, err);
	case PLAN_OP_RULE_INSERT:
		return ops->rule_delete(be, &x->id, x->out[i], err);
	case PLAN_OP_RULE_DELETE: {
		struct nic_rule rule = op->rule;
		int r;

		if (rule.action == NIC_RULE_ACTION_CONTEXT)
			rule.rss_context = remap_ctx(x, rule.rss_context);
		r = ops->rule_insert(be, &x->id, &rule, err);
		if (r < 0 && op->undo_loc_any) {
			/* drivers that pick the slot themselves refuse explicit
			 * ones: same content, possibly another slot */
			kerror_clear(err);
			rule = op->rule;
			if (rule.action == NIC_RULE_ACTION_CONTEXT)
				rule.rss_context = remap_ctx(x, rule.rss_context);
			rule.location = NIC_LOC_ANY;
			x->n_kernel++;
			r = ops->rule_insert(be, &x->id, &rule, err);
		}
		if (r >= 0)
			*ret_new = rule.location;
		return r;
	}
	case PLAN_OP_BIND:
		if (!bb || !bb->ops || !bb->ops->unbind)
			return no_binder(err, x->id.name, "unbind");
		return bb->ops->unbind(bb->be, x->out[i], err);
	case PLAN_OP_UNBIND:
		if (!bb || !bb->ops || !bb->ops->bind)
			return no_binder(err, x->id.name, "bind");
		return bb->ops->bind(bb->be, x->id.ifindex, op->queue, op->tap_ifindex, op->fallback,
				     ret_new, err);
	case PLAN_OP_FORGET:
	case PLAN_OP_UNLEASE:
	case PLAN_OP_LEASE:
		return 0;
	}
	return 0;
}

/* Sort key for undoing a run of deletions (journal-only ops first). */
static int64_t undo_key(const struct plan_op *op)
{
	switch (op->kind) {
	case PLAN_OP_RSS_DELETE:
		return op->ctx;
	case PLAN_OP_RULE_DELETE:
		return -(int64_t)op->rule.location;
	case PLAN_OP_UNBIND:
	case PLAN_OP_FORGET:
	case PLAN_OP_UNLEASE:
	case PLAN_OP_SET_CHANNELS:
	case PLAN_OP_SET_FEATURE:
	case PLAN_OP_SET_RINGS:
	case PLAN_OP_RSS_SET:
	case PLAN_OP_LEASE:
	case PLAN_OP_RSS_CREATE:
	case PLAN_OP_RULE_INSERT:
	case PLAN_OP_BIND:
		break;
	}
	return INT64_MIN;
}

/*
 * Must the intent be on disk before p's first kernel change?  Yes when p
 * makes something (a rule, context or binding not in the journal yet: a
 * crash right after would orphan it) or changes a setting for the first
 * time (its prior value must be recorded first).  A plan that only removes
 * owned objects, puts back recorded values or changes settings whose prior
 * is already recorded may stop anywhere: the journal on disk still lists
 * everything that can exist, and what is gone is forgotten by the next
 * reconcile.  (Its rollback re-creates what it removed: that intent is
 * persisted before the first undo, see exec_plan.)
 */
bool exec_needs_intent(const struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n_ops; i++) {
		const struct plan_op *op = &p->ops[i];

		if (!plan_op_is_kernel(op))
			continue;
		if (op->prior == PLAN_PRIOR_RECORD || op->kind == PLAN_OP_RULE_INSERT ||
		    op->kind == PLAN_OP_RSS_CREATE || op->kind == PLAN_OP_BIND)
			return true;
	}
	return false;
}

/* Does undoing the first n ops of p make kernel objects again? */
static bool undo_recreates(const struct plan *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p->ops[i].kind == PLAN_OP_RULE_DELETE || p->ops[i].kind == PLAN_OP_RSS_DELETE ||
		    p->ops[i].kind == PLAN_OP_UNBIND)
			return true;
	return false;
}

/* Index of the first op of p's final run of BINDs (p->n_ops when it does
 * not end with one): a refusal there breaks nothing that follows. */
static size_t bind_tail(const struct plan *p)
{
	size_t i = p->n_ops;

	while (i > 0 && p->ops[i - 1].kind == PLAN_OP_BIND)
		i--;
	return i;
}

static void fault(const struct exec_env *env, enum exec_point pt, size_t i)
{
	if (env->fault)
		env->fault(env->userdata, pt, i);
}

/* After undo re-created objects under new ids, fix the (snapshot) journal.
 * Every entry is looked up by its original values once, so swapped ids
 * (context 1 <-> 2, slot 5 <-> 6) cannot chain. */
static void journal_remap_all(struct journal_nic *j, const struct plan *p, const uint32_t *new_id,
			      const bool *failed_undo, size_t n_done)
{
	size_t e, i;

	for (e = 0; e < j->n_ctxs; e++) {
		struct journal_ctx *c = &j->ctxs[e];

		for (i = 0; i < n_done && !c->pending; i++)
			if (p->ops[i].kind == PLAN_OP_RSS_DELETE && !failed_undo[i] &&
			    p->ops[i].ctx == c->id) {
				c->id = new_id[i];
				break;
			}
	}
	for (e = 0; e < j->n_rules; e++) {
		struct journal_rule *r = &j->rules[e];
		struct nic_rule orig = r->rule;

		if (r->pending)
			continue;
		for (i = 0; i < n_done; i++)
			if (p->ops[i].kind == PLAN_OP_RULE_DELETE && !failed_undo[i] &&
			    p->ops[i].rule.location == orig.location &&
			    journal_rule_same_content(&p->ops[i].rule, &orig)) {
				r->rule.location = new_id[i];
				break;
			}
		if (orig.action != NIC_RULE_ACTION_CONTEXT)
			continue;
		for (i = 0; i < n_done; i++)
			if (p->ops[i].kind == PLAN_OP_RSS_DELETE && !failed_undo[i] &&
			    p->ops[i].ctx == orig.rss_context) {
				r->rule.rss_context = new_id[i];
				break;
			}
	}
	for (e = 0; e < j->n_bindings; e++) {
		struct journal_binding *b = &j->bindings[e];

		for (i = 0; i < n_done && !b->pending; i++)
			if (p->ops[i].kind == PLAN_OP_UNBIND && !failed_undo[i] &&
			    p->ops[i].binding_id == b->id) {
				b->id = new_id[i];
				break;
			}
	}
}

static void name_op(struct kerror *e, const struct plan_op *op, const char *nic)
{
	char d[256];
	size_t n;

	plan_op_describe(op, d, sizeof(d));
	n = strlen(d);
	if (n >= sizeof(e->op)) {
		/* too long: cut at a word, never inside a number or address */
		n = sizeof(e->op) - 5;
		while (n > 0 && d[n] != ' ')
			n--;
		memcpy(d + n, " ...", 5);
	}
	snprintf(e->op, sizeof(e->op), "%s", d);
	if (!e->obj[0])
		snprintf(e->obj, sizeof(e->obj), "%s", nic);
	if (!e->err)
		e->err = EIO;
}

int exec_plan(const struct exec_env *env, const struct plan *p, struct journal_nic *j,
	      struct exec_result *res)
{
	return exec_plan_ids(env, p, j, res, NULL);
}

static int run_plan(const struct exec_env *env, const struct plan *p, struct journal_nic *j,
		    struct exec_staged *st, struct exec_result *res, uint32_t *ids);

int exec_plan_ids(const struct exec_env *env, const struct plan *p, struct journal_nic *j,
		  struct exec_result *res, uint32_t *ids)
{
	return run_plan(env, p, j, NULL, res, ids);
}

int exec_plan_staged(const struct exec_env *env, const struct plan *p, struct journal_nic *j,
		     struct exec_staged *st, struct exec_result *res, uint32_t *ids)
{
	return run_plan(env, p, j, st, res, ids);
}

/* st: the intent recorded and persisted by the caller (exec_stage), or
 * NULL: recorded and persisted here.  Takes st's snapshot either way. */
static int run_plan(const struct exec_env *env, const struct plan *p, struct journal_nic *j,
		    struct exec_staged *st, struct exec_result *res, uint32_t *ids)
{
	struct journal_nic snap;
	struct run x = { 0 };
	bool *failed_undo = NULL, *refused = NULL, intent = false;
	uint32_t *new_id = NULL;
	size_t i, n_done = 0, tail;
	int r = 0;

	memset(res, 0, sizeof(*res));
	res->failed = -1;
	if (ids && p->n_ops)
		memset(ids, 0, p->n_ops * sizeof(*ids));
	if (!p->n_ops) {
		if (st)
			exec_unstage(p, j, st);
		return 0;
	}
	if (env->busy && *env->busy) {
		if (st)
			exec_unstage(p, j, st);
		return kerror_set(&res->err, EBUSY, p->nic, "plan", "another plan is running");
	}
	x.env = env;
	x.p = p;
	x.id.ifindex = p->n_ops ? p->ops[0].ifindex : 0;
	x.id.name = p->nic;
	x.out = calloc(p->n_ops, sizeof(uint32_t));
	new_id = calloc(p->n_ops, sizeof(uint32_t));
	failed_undo = calloc(p->n_ops, sizeof(bool));
	refused = calloc(p->n_ops, sizeof(bool));
	x.nothing = calloc(p->n_ops, sizeof(bool));
	x.ctx_remap = calloc(p->n_ops, sizeof(*x.ctx_remap));
	if (!x.out || !new_id || !failed_undo || !refused || !x.nothing || !x.ctx_remap) {
		if (st)
			exec_unstage(p, j, st);
		r = kerror_set(&res->err, ENOMEM, p->nic, "plan", NULL);
		goto out_free;
	}
	if (st && st->intent) {
		/* recorded and on disk already (exec_stage) */
		snap = st->snap;
		x.pre = st->pre;
		memset(st, 0, sizeof(*st));
		intent = true;
	} else {
		r = journal_nic_copy(&snap, j);
		if (r < 0) {
			kerror_set(&res->err, ENOMEM, p->nic, "plan", NULL);
			goto out_free;
		}
		/* The intent must be on disk before the kernel changes, when a
		 * crash in the middle could otherwise orphan something
		 * (exec_needs_intent). */
		intent = exec_needs_intent(p);
		r = intent ? exec_intent(p, j) : 0;
		if (r >= 0 && intent && env->persist)
			r = env->persist(env->userdata, j, &res->err);
	}
	if (env->busy)
		*env->busy = true;
	if (r < 0) {
		if (!kerror_is_set(&res->err))
			kerror_set(&res->err, -r, p->nic, "record intent", NULL);
		journal_nic_clear(j);
		*j = snap;
		goto out_busy;
	}
	if (intent)
		fault(env, EXEC_POINT_INTENT, 0);

	tail = env->bind_refused ? bind_tail(p) : p->n_ops;
	for (i = 0; i < p->n_ops; i++) {
		const struct plan_op *op = &p->ops[i];
		uint32_t ctx_id = op->ctx_op >= 0 ? x.out[op->ctx_op] : 0;

		fault(env, EXEC_POINT_BEFORE_OP, i);
		r = apply(&x, i, &res->err);
		if (r < 0 && i >= tail && r != -ETIMEDOUT) {
			/* a refused BIND of the final run: left out, see exec.h;
			 * its pending intent goes with journal_drop_pending() */
			struct kerror e = res->err;

			kerror_clear(&res->err);
			name_op(&e, op, p->nic);
			if (!res->n_bind_refused++)
				res->bind_err = e;
			refused[i] = true;
			n_done = i + 1;
			env->bind_refused(env->userdata, op, &e);
			fault(env, EXEC_POINT_AFTER_OP, i);
			continue;
		}
		if (r < 0) {
			res->failed = (ssize_t)i;
			name_op(&res->err, op, p->nic);
			break;
		}
		n_done = i + 1;
		r = exec_journal_apply(j, op, x.out[i], ctx_id);
		if (r < 0) {
			/* the kernel change happened: undo it with the others */
			res->failed = (ssize_t)i;
			kerror_set(&res->err, -r, p->nic, "journal", NULL);
			name_op(&res->err, op, p->nic);
			break;
		}
		fault(env, EXEC_POINT_AFTER_OP, i);
	}
	res->n_applied = n_done;
	if (res->failed < 0) {
		/* entries the intent listed for a rollback that did not happen */
		journal_drop_pending(j);
		r = 0;
		goto out_snap;
	}

	/* Roll back in reverse order.  Within a run of deletions of the same
	 * kind, re-create in the order that gives the old ids back from
	 * allocators that hand out the lowest free context id and the
	 * highest free rule slot. */
	res->rolled_back = true;
	if (!intent && env->persist && undo_recreates(p, n_done)) {
		/* Should zcrxd stop half way through the rollback, what the
		 * undo makes again must be owned: the journal as before the
		 * plan (which the rollback returns to) with the re-creations
		 * pending.  j is replaced by the snapshot after the undo
		 * anyway.  Undo even when this cannot be written. */
		struct kerror pe = { 0 };

		journal_nic_clear(j);
		if (journal_nic_copy(j, &snap) >= 0 && exec_intent(p, j) >= 0)
			(void)env->persist(env->userdata, j, &pe);
	}
	for (i = n_done; i-- > 0;) {
		enum plan_op_kind kind = p->ops[i].kind;
		size_t b = i, k, m, order[64];

		if (kind == PLAN_OP_RSS_DELETE || kind == PLAN_OP_RULE_DELETE) {
			while (b > 0 && i - b < 63 &&
			       (p->ops[b - 1].kind == kind || p->ops[b - 1].kind == PLAN_OP_FORGET))
				b--;
		}
		for (m = 0, k = b; k <= i; k++)
			order[m++] = k;
		for (k = 1; k < m; k++) {
			size_t v = order[k], n = k;

			while (n > 0 && undo_key(&p->ops[order[n - 1]]) > undo_key(&p->ops[v])) {
				order[n] = order[n - 1];
				n--;
			}
			order[n] = v;
		}
		for (k = 0; k < m; k++) {
			struct kerror e = { 0 };
			size_t u = order[k];
			const struct plan_op *op = &p->ops[u];

			if (refused[u])
				continue; /* made nothing */
			if (x.nothing[u]) {
				/* removed nothing: it stays gone, and the journal
				 * keeps the op's effect like an undo that failed */
				failed_undo[u] = true;
				continue;
			}
			fault(env, EXEC_POINT_UNDO, u);
			if (undo(&x, u, &new_id[u], &e) < 0) {
				failed_undo[u] = true;
				if (!res->n_undo_failed++) {
					res->undo_err = e;
					name_op(&res->undo_err, op, p->nic);
				}
				continue;
			}
			if (op->kind == PLAN_OP_RSS_DELETE && new_id[u] != op->ctx) {
				x.ctx_remap[x.n_ctx_remap].from = op->ctx;
				x.ctx_remap[x.n_ctx_remap++].to = new_id[u];
			}
		}
		i = b;
	}
	/* journal: back to the snapshot, then re-apply what could not be undone */
	journal_nic_clear(j);
	*j = snap;
	memset(&snap, 0, sizeof(snap));
	journal_remap_all(j, p, new_id, failed_undo, n_done);
	for (i = 0; i < n_done; i++) {
		const struct plan_op *op = &p->ops[i];

		if (failed_undo[i])
			(void)exec_journal_apply(j, op, x.out[i],
						 op->ctx_op >= 0 ? x.out[op->ctx_op] : 0);
	}
	/* What exec_prefetch made past the op that failed is not applied:
	 * removed, or (when that fails, or its outcome is unknown) owned,
	 * pending, as a call that overran leaves it */
	for (i = n_done; x.pre && i < p->n_ops; i++) {
		struct kerror e = { 0 };

		if (!exec_pre_made(&x.pre[i]) || (ssize_t)i == res->failed)
			continue;
		if (!x.pre[i].unknown) {
			x.n_kernel++;
			if (env->nic.ops->rule_delete(env->nic.be, &x.id, x.pre[i].loc, &e) >= 0)
				continue;
		}
		(void)exec_intent_op(j, &p->ops[i]);
	}
	if (res->err.err == ETIMEDOUT) {
		/* The op's call did not return (kcall.h: it may still make or
		 * change what it was asked): own that as its intent does,
		 * pending, until journal_resolve_pending() settles it against
		 * what the kernel shows once the call returned. */
		const struct plan_op *op = &p->ops[res->failed];

		/* (a removal's entry is still in the journal, owned) */
		if (op->kind != PLAN_OP_RULE_DELETE && op->kind != PLAN_OP_RSS_DELETE &&
		    op->kind != PLAN_OP_UNBIND)
			(void)exec_intent_op(j, op);
		res->outcome_unknown = true;
	}
	r = -res->err.err;
	if (!r)
		r = -EIO;
out_snap:
	journal_nic_clear(&snap);
out_busy:
	if (env->busy)
		*env->busy = false;
out_free:
	res->n_kernel = x.n_kernel;
	if (ids)
		for (i = 0; i < p->n_ops; i++)
			ids[i] = x.out && i < n_done ? x.out[i] : 0;
	free(x.out);
	free(x.ctx_remap);
	free(x.pre);
	free(new_id);
	free(failed_undo);
	free(refused);
	free(x.nothing);
	return r;
}

const char *exec_result_format(const struct exec_result *res, char *buf, size_t size)
{
	return exec_result_format_in(res, NULL, buf, size);
}

const char *exec_result_format_in(const struct exec_result *res, const char *nic, char *buf,
				  size_t size)
{
	char a[512], b[512];

	if (res->failed < 0 && !kerror_is_set(&res->err)) {
		if (res->n_bind_refused)
			snprintf(buf, size, "ok (%zu ops), %zu bind%s refused, first: %s",
				 res->n_applied - res->n_bind_refused, res->n_bind_refused,
				 res->n_bind_refused == 1 ? "" : "s",
				 kerror_format_in(&res->bind_err, nic, a, sizeof(a)));
		else
			snprintf(buf, size, "ok (%zu ops)", res->n_applied);
		return buf;
	}
	kerror_format_in(&res->err, nic, a, sizeof(a));
	if (res->n_undo_failed)
		snprintf(buf, size, "%s; rollback incomplete (%zu undo failed, first: %s)", a,
			 res->n_undo_failed, kerror_format_in(&res->undo_err, nic, b, sizeof(b)));
	else if (res->rolled_back)
		snprintf(buf, size, "%s; rolled back %zu op%s", a, res->n_applied,
			 res->n_applied == 1 ? "" : "s");
	else
		snprintf(buf, size, "%s", a);
	return buf;
}
