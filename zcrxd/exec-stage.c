// SPDX-License-Identifier: MIT
/*
 * exec-stage — plans staged for a batch (exec.h): the intent recorded
 * before the batch's one sync (exec_stage), taken back when it cannot be
 * made durable (exec_unstage), and the staged plans' first rule inserts
 * made for all of them in one hand-over once it is (exec_prefetch);
 * exec_plan_staged applies each.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"

int exec_stage(const struct plan *p, struct journal_nic *j, struct exec_staged *st)
{
	int r;

	memset(st, 0, sizeof(*st));
	if (!exec_needs_intent(p))
		return 0;
	r = journal_nic_copy(&st->snap, j);
	if (r < 0)
		return r;
	r = exec_intent(p, j);
	if (r < 0) {
		journal_nic_clear(j);
		*j = st->snap;
		memset(st, 0, sizeof(*st));
		return r;
	}
	st->intent = true;
	return 1;
}

/* What exec_prefetch made, or may have made. */
bool exec_pre_made(const struct exec_pre *e)
{
	return e->done && (e->unknown || e->result >= 0);
}

void exec_unstage(const struct plan *p, struct journal_nic *j, struct exec_staged *st)
{
	size_t i;

	if (st->intent) {
		journal_nic_clear(j);
		*j = st->snap;
		/* made before the plan ran (exec_prefetch): owned, pending,
		 * until journal_resolve_pending finds it on the NIC or not */
		for (i = 0; st->pre && p && i < p->n_ops; i++)
			if (exec_pre_made(&st->pre[i]))
				(void)exec_intent_op(j, &p->ops[i]);
	}
	free(st->pre);
	memset(st, 0, sizeof(*st));
}

/* The ops of p exec_prefetch can make: its rule inserts before any other
 * kernel op (none to a context made by the plan).  Returns how many. */
static size_t prefetchable(const struct plan *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_ops; i++) {
		const struct plan_op *op = &p->ops[i];

		if (!plan_op_is_kernel(op))
			continue;
		if (op->kind != PLAN_OP_RULE_INSERT || op->ctx_op >= 0)
			break;
		n++;
	}
	return n;
}

size_t exec_prefetch(const struct exec_env *env, const struct plan *const *plans,
		     struct exec_staged *const *sts, size_t n)
{
	const struct nic_ops *ops = env->nic.ops;
	struct nic_rule_call *calls;
	struct exec_pre **pre;
	struct kerror err = { 0 };
	size_t i, k, c, m = 0;
	int r;

	for (i = 0; i < n; i++)
		if (sts[i]->intent && !sts[i]->pre)
			m += prefetchable(plans[i]);
	if (!ops || !ops->rule_insert_many || m < 2)
		return 0;
	calls = calloc(m, sizeof(*calls));
	pre = calloc(n, sizeof(*pre));
	for (i = 0; calls && pre && i < n; i++) {
		if (!sts[i]->intent || sts[i]->pre || !prefetchable(plans[i]))
			continue;
		pre[i] = calloc(plans[i]->n_ops, sizeof(**pre));
		if (!pre[i])
			break;
	}
	if (!calls || !pre || i < n) {
		for (i = 0; pre && i < n; i++)
			free(pre[i]);
		free(pre);
		free(calls);
		return 0; /* each plan makes its own calls */
	}
	for (i = c = 0; i < n; i++) {
		const struct plan *p = plans[i];
		size_t want = pre[i] ? prefetchable(p) : 0;

		for (k = 0; k < p->n_ops && want; k++) {
			if (!plan_op_is_kernel(&p->ops[k]))
				continue;
			calls[c].ifindex = p->ops[0].ifindex;
			snprintf(calls[c].name, sizeof(calls[c].name), "%s", p->nic);
			calls[c++].rule = p->ops[k].rule;
			want--;
		}
	}
	r = ops->rule_insert_many(env->nic.be, calls, m, &err);
	for (i = c = 0; i < n; i++) {
		const struct plan *p = plans[i];
		size_t want = pre[i] ? prefetchable(p) : 0;

		for (k = 0; k < p->n_ops && want; k++) {
			struct exec_pre *e = &pre[i][k];
			const struct nic_rule_call *call = &calls[c];

			if (!plan_op_is_kernel(&p->ops[k]))
				continue;
			c++;
			want--;
			if (r == -ETIMEDOUT) {
				e->done = e->unknown = true;
				e->result = r;
				e->err = err;
			} else if (call->ran) {
				e->done = true;
				e->result = call->result;
				e->err = call->err;
				e->loc = call->rule.location;
			}
		}
		/* none was tried (r < 0 but -ETIMEDOUT): the plan makes its own */
		if (r < 0 && r != -ETIMEDOUT)
			free(pre[i]);
		else
			sts[i]->pre = pre[i];
	}
	free(pre);
	free(calls);
	return r < 0 && r != -ETIMEDOUT ? 0 : m;
}
