// SPDX-License-Identifier: MIT
/*
 * plan-op — a plan's ops and where they are kept: made one by one while
 * planning (plan_op_add), copied into another plan (plan_op_append),
 * dropped with their plan (plan_clear).
 *
 * An op is 272 bytes: its reason is out of line, in its plan's text block,
 * and its context queue set is malloc'd like its RSS tables.  A plan of
 * hundreds of ops (256 ops: 68 KiB, and its reasons) then stays below
 * zcrxd's fixed 128 KiB mapping threshold (daemon_tune_malloc): taken from
 * the heap that the last plan left, not mapped and faulted in anew on every
 * plan (712-byte ops: 178 KiB, 45 page faults a plan, most of its time).
 *
 * Owns: op storage.  Must not: decide anything (plan.c and its steps do).
 */
#include "plan-int.h"

struct plan_op *plan_op_add(struct planner *pl, enum phase ph, enum plan_op_kind kind,
			      const uint8_t *owner, const char *fmt, ...)
{
	struct phase_ops *po = &pl->ph[ph];
	struct phase_op *e;
	struct plan_op *op;
	va_list ap;
	int len;

	if (pl->err)
		return NULL;
	if (po->n == po->cap) {
		size_t cap = po->cap ? po->cap * 2 : 8;
		struct phase_op *v = realloc(po->v, cap * sizeof(*v));

		if (!v) {
			pl->err = -ENOMEM;
			return NULL;
		}
		po->v = v;
		po->cap = cap;
	}
	/* room for the longest reason at the end of the text block */
	if (pl->cap_text - pl->n_text < PLAN_REASON_MAX) {
		size_t cap = pl->cap_text ? 2 * pl->cap_text : 4096;
		char *text = realloc(pl->text, cap);

		if (!text) {
			pl->err = -ENOMEM;
			return NULL;
		}
		pl->text = text;
		pl->cap_text = cap;
	}
	e = &po->v[po->n++];
	op = &e->op;
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->ctx_op = -1;
	str_copy(op->nic, sizeof(op->nic), pl->name);
	op->ifindex = pl->nic->link.ifindex;
	if (owner) {
		op->has_owner = true;
		memcpy(op->owner, owner, NIC_MAC_LEN);
	}
	va_start(ap, fmt);
	len = vsnprintf(pl->text + pl->n_text, PLAN_REASON_MAX, fmt, ap);
	va_end(ap);
	if (len < 0) {
		len = 0;
		pl->text[pl->n_text] = '\0';
	} else if (len >= PLAN_REASON_MAX) {
		len = PLAN_REASON_MAX - 1; /* cut there, as vsnprintf did */
	}
	e->reason = pl->n_text;
	pl->n_text += (size_t)len + 1;
	return op;
}

void plan_init(struct plan *p)
{
	memset(p, 0, sizeof(*p));
}

void plan_clear(struct plan *p)
{
	size_t i, n_block = 0;

	for (i = 0; i < p->n_ops; i++) {
		free(p->ops[i].indir);
		free(p->ops[i].prev);
		free(p->ops[i].ctx_queues);
	}
	free(p->ops);
	free(p->text);
	for (i = 0; i < p->n_results; i++) {
		struct attach_result *r = &p->results[i];

		if (p->reason_block) { /* the block's, dropped below */
			n_block += r->n_reasons;
			r->reasons = NULL;
			r->n_reasons = 0;
		} else if (!r->reasons) {
			r->n_reasons = 0; /* a plan that failed before laying them out */
		}
		if (p->queue_block)
			r->queues = NULL; /* the block's */
		if (p->rule_block)
			r->rule_locs = NULL;
		/* attach_result_clear without the calls that do nothing (most
		 * results of a full pool have neither queues nor rules) */
		if (r->queues || r->rule_locs || r->reasons)
			attach_result_clear(r);
	}
	free(p->results);
	free(p->queue_block);
	free(p->rule_block);
	attach_reasons_free(p->reason_block, n_block);
	attach_reasons_free(p->notes, p->n_notes);
	free(p->pool);
	free(p->shared);
	plan_init(p);
}

bool plan_journal_only(const struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n_ops; i++)
		if (plan_op_is_kernel(&p->ops[i]))
			return false;
	return p->n_ops > 0;
}

static uint32_t *dup_table(const uint32_t *v, uint32_t n, bool *fail)
{
	uint32_t *p;

	if (!n || !v)
		return NULL;
	p = malloc(n * sizeof(uint32_t));
	if (!p)
		*fail = true;
	else
		memcpy(p, v, n * sizeof(uint32_t));
	return p;
}

/* Room for n more bytes of text in p; the ops whose reason is in the block
 * follow it when it moves. */
static int text_room(struct plan *p, size_t n)
{
	uintptr_t lo = (uintptr_t)p->text, hi = lo + p->n_text;
	size_t cap = p->cap_text ? p->cap_text : 256, i;
	char *text;

	if (p->cap_text - p->n_text >= n)
		return 0;
	while (cap - p->n_text < n)
		cap *= 2;
	text = malloc(cap);
	if (!text)
		return -ENOMEM;
	if (p->n_text)
		memcpy(text, p->text, p->n_text);
	for (i = 0; i < p->n_ops; i++) {
		uintptr_t r = (uintptr_t)p->ops[i].reason;

		if (p->ops[i].reason && r >= lo && r < hi)
			p->ops[i].reason = text + (r - lo);
	}
	free(p->text);
	p->text = text;
	p->cap_text = cap;
	return 0;
}

int plan_op_append(struct plan *p, const struct plan_op *op, size_t base)
{
	const char *why = op->reason ? op->reason : "";
	size_t len = strnlen(why, PLAN_REASON_MAX - 1);
	struct plan_op x = *op, *v;
	bool fail = false;

	if (x.ctx_op >= 0)
		x.ctx_op += (int)base;
	x.indir = dup_table(op->indir, op->n_indir, &fail);
	x.prev = dup_table(op->prev, op->n_prev, &fail);
	x.ctx_queues = dup_table(op->ctx_queues, op->n_ctx_queues, &fail);
	x.n_indir = x.indir ? op->n_indir : 0;
	x.n_prev = x.prev ? op->n_prev : 0;
	x.n_ctx_queues = x.ctx_queues ? op->n_ctx_queues : 0;
	v = p->ops;
	if (!fail && p->n_ops >= p->cap_ops) {
		/* (doubling: one op at a time would move the block on every
		 * append, a trail of holes in the heap) */
		size_t cap = p->n_ops < 8 ? 16 : 2 * p->n_ops;

		v = realloc(p->ops, cap * sizeof(*v));
		if (v) {
			p->ops = v;
			p->cap_ops = cap;
		}
	}
	if (fail || !v || text_room(p, len + 1) < 0) {
		free(x.indir);
		free(x.prev);
		free(x.ctx_queues);
		return -ENOMEM;
	}
	memcpy(p->text + p->n_text, why, len);
	p->text[p->n_text + len] = '\0';
	x.reason = p->text + p->n_text;
	p->n_text += len + 1;
	p->ops[p->n_ops++] = x;
	return 0;
}
