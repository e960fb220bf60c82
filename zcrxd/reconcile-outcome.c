// SPDX-License-Identifier: MIT
/*
 * reconcile-outcome — what a request did or would do (struct
 * reconcile_outcome): one plan per NIC touched, the ops applied appended to
 * it, or for a dry run the plan itself.
 *
 * Owns: the outcome's plans.  Must not: run anything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jtext.h"
#include "log.h"
#include "reconcile-int.h"

void reconcile_outcome_clear(struct reconcile_outcome *o)
{
	size_t i;

	for (i = 0; i < o->n_plans; i++)
		plan_clear(&o->plans[i]);
	free(o->plans);
	memset(o, 0, sizeof(*o));
}

struct plan *reconcile_outcome_plan(struct reconcile_outcome *o, const char *nic)
{
	struct plan *v;
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; i < o->n_plans; i++)
		if (!strcmp(o->plans[i].nic, nic))
			return &o->plans[i];
	v = realloc(o->plans, (o->n_plans + 1) * sizeof(*v));
	if (!v)
		return NULL;
	o->plans = v;
	v = &o->plans[o->n_plans++];
	plan_init(v);
	snprintf(v->nic, sizeof(v->nic), "%s", nic);
	return v;
}

/* Append op (deep copy) to p; base: where op's plan starts in p (op
 * indexes in it move by that much). */
void reconcile_plan_append(struct plan *p, const struct plan_op *op, size_t base)
{
	if (p)
		(void)plan_op_append(p, op, base);
}

/* The pool summary (channels, pool, shared, notes) of src into dst. */
void reconcile_plan_summary_copy(struct plan *dst, const struct plan *src)
{
	dst->channels = src->channels;
	free(dst->pool);
	free(dst->shared);
	attach_reasons_free(dst->notes, dst->n_notes);
	dst->pool = src->n_pool ? malloc(src->n_pool * sizeof(uint32_t)) : NULL;
	dst->shared = src->n_shared ? malloc(src->n_shared * sizeof(uint32_t)) : NULL;
	dst->notes = attach_reasons_dup(src->notes, src->n_notes);
	dst->n_pool = dst->pool ? src->n_pool : 0;
	dst->n_shared = dst->shared ? src->n_shared : 0;
	dst->n_notes = dst->notes ? src->n_notes : 0;
	if (dst->n_pool)
		memcpy(dst->pool, src->pool, dst->n_pool * sizeof(uint32_t));
	if (dst->n_shared)
		memcpy(dst->shared, src->shared, dst->n_shared * sizeof(uint32_t));
}

/* Move the plan's pool summary and notes into dst (a dry run's answer). */
void reconcile_plan_take(struct plan *dst, struct plan *src)
{
	char name[IF_NAMESIZE];

	snprintf(name, sizeof(name), "%s", dst->nic);
	plan_clear(dst);
	*dst = *src;
	snprintf(dst->nic, sizeof(dst->nic), "%s", name);
	plan_init(src);
}

void reconcile_outcome_plans_jtext(const struct reconcile_outcome *o, struct jtext *t)
{
	size_t i;

	jtext_lit(t, "[");
	for (i = 0; i < o->n_plans; i++) {
		if (i)
			jtext_lit(t, ",");
		plan_to_jtext(&o->plans[i], t);
	}
	jtext_lit(t, "]");
}

json_object *reconcile_outcome_plans_json(const struct reconcile_outcome *o)
{
	struct jtext t = { 0 };

	reconcile_outcome_plans_jtext(o, &t);
	return jtext_parse(&t);
}
