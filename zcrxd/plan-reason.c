// SPDX-License-Identifier: MIT
/*
 * plan-reason — the planner's reasons (plan-int.h): a NIC's notes, and
 * each attachment's reasons as they are given step by step over all
 * attachments, their texts shared (attachments with the same words share
 * one text, an attachment keeps the text it has when its words stay),
 * laid out per attachment in one block at the end (plan.reason_block).
 *
 * Owns: reason texts and their sharing.  Must not: decide anything.
 */
#include "plan-int.h"

void plan_note(struct planner *pl, const char *code, const char *op, int err, const char *fmt,
		 ...)
{
	struct attach_reason *v;
	char msg[KERROR_MSG_MAX];
	va_list ap;

	if (pl->err)
		return;
	v = realloc(pl->p->notes, (pl->p->n_notes + 1) * sizeof(*v));
	if (!v) {
		pl->err = -ENOMEM;
		return;
	}
	pl->p->notes = v;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (attach_reason_set(&v[pl->p->n_notes], code, pl->name, op, err, msg) < 0) {
		pl->err = -ENOMEM;
		return;
	}
	pl->p->n_notes++;
}

/* Does have (a reason's string) say want (capped as attach_reason_set
 * caps it: a longer want never matches here, the full compare decides)? */
static bool said_same(const char *have, const char *want)
{
	return have == want || !strcmp(have, want ? want : "");
}

/* A text saying this already: the attachment's own at the same place (a
 * run that changes nothing then gives results set_results finds equal by
 * pointer), else the reason given last (most come in runs of the same
 * words: all who wait for a queue), else one in this plan's small cache;
 * NULL: none. */
static const struct attach_reason *said_already(const struct planner *pl,
						const struct aplan *ap, const char *code,
						const char *op, int err, const char *msg)
{
	const struct attach_result *was = &ap->a->res;
	const struct attach_reason *own = NULL;
	size_t k = ap->res->n_reasons, i;

	if (k < was->n_reasons && was->reasons[k].text)
		own = &was->reasons[k];
	if (pl->last.text && pl->last.err == (err < 0 ? -err : err) &&
	    said_same(pl->last.code, code) && said_same(pl->last.op, op) &&
	    said_same(pl->last.msg, msg)) {
		/* (every reason of a plan names its NIC) */
		if (own && (own->text == pl->last.text ||
			    attach_reason_is(own, code, pl->name, op, err, msg)))
			return own;
		return &pl->last;
	}
	if (own && attach_reason_is(own, code, pl->name, op, err, msg))
		return own;
	for (i = 0; i < PLAN_RCACHE; i++)
		if (pl->rcache[i].text && attach_reason_is(&pl->rcache[i], code, pl->name, op, err, msg))
			return &pl->rcache[i];
	return NULL;
}

/* Room for one more reason in pl->said; false when out of memory. */
static bool said_room(struct planner *pl)
{
	struct said *s;

	if (pl->err)
		return false;
	if (pl->n_said == pl->cap_said) {
		/* (room for one each at first: most have one reason or none) */
		size_t cap = pl->cap_said ? 2 * pl->cap_said : pl->n_ap + 16;

		s = realloc(pl->said, cap * sizeof(*s));
		if (!s) {
			pl->err = -ENOMEM;
			return false;
		}
		pl->said = s;
		pl->cap_said = cap;
	}
	return true;
}

/* c (a reason with text) is ap's next one (said_room first). */
static void said_push(struct planner *pl, struct aplan *ap, const struct attach_reason *c)
{
	struct said *s = &pl->said[pl->n_said++];

	s->ap = ap->idx;
	attach_reason_copy(&s->r, c);
	ap->res->n_reasons++;
	if (c != &pl->last && (c->text != pl->last.text || c->err != pl->last.err)) {
		/* (the same text with the same errno is the same reason: most
		 * come in runs of it) */
		attach_reason_clear(&pl->last);
		attach_reason_copy(&pl->last, &s->r);
		pl->last_numa = !strcmp(s->r.code, ATTACH_R_NUMA);
	}
	if (!pl->last_numa)
		ap->degraded = true;
}

/* Many attachments get the same reason (a full pool, no binder): they
 * share one text (attach_reason).  The reason waits in pl->said until
 * plan_reasons_lay_out (no allocation per attachment). */
void plan_reason_text(struct planner *pl, struct aplan *ap, const char *code, const char *op,
		      int err, const char *msg)
{
	const struct attach_reason *c;
	struct attach_reason made;

	if (!said_room(pl))
		return;
	c = said_already(pl, ap, code, op, err, msg);
	if (!c) {
		struct attach_reason *slot = &pl->rcache[pl->rcache_next++ % PLAN_RCACHE];

		if (attach_reason_set(&made, code, pl->name, op, err, msg) < 0) {
			pl->err = -ENOMEM;
			return;
		}
		attach_reason_clear(slot);
		attach_reason_copy(slot, &made);
		c = slot;
		attach_reason_clear(&made);
	}
	said_push(pl, ap, c);
}

void plan_reason_keep(struct planner *pl, struct attach_reason *keep)
{
	attach_reason_clear(keep);
	if (!pl->err)
		attach_reason_copy(keep, &pl->last);
}

/* As plan_reason_text with r's words, which are known: not compared with
 * the last reason's, only with ap's own (whose text it keeps when the
 * words are the same, as said_already does). */
void plan_reason_again(struct planner *pl, struct aplan *ap, const struct attach_reason *r)
{
	const struct attach_result *was = &ap->a->res;
	const struct attach_reason *c = r;
	size_t k = ap->res->n_reasons;

	if (!r->text || !said_room(pl))
		return;
	if (k < was->n_reasons && was->reasons[k].text &&
	    (was->reasons[k].text == r->text ||
	     attach_reason_is(&was->reasons[k], r->code, pl->name, r->op, r->err, r->msg)))
		c = &was->reasons[k];
	said_push(pl, ap, c);
}

/* The reasons given, each attachment's in the order given, into one block
 * (plan.reason_block) that the results point into. */
int plan_reasons_lay_out(struct planner *pl)
{
	struct plan *p = pl->p;
	size_t i, off = 0;

	if (!pl->n_said)
		return 0;
	p->reason_block = malloc(pl->n_said * sizeof(*p->reason_block));
	if (!p->reason_block)
		return -ENOMEM;
	for (i = 0; i < p->n_results; i++) {
		struct attach_result *r = &p->results[i];

		r->reasons = r->n_reasons ? p->reason_block + off : NULL;
		off += r->n_reasons;
		r->n_reasons = 0; /* counted again as they are placed */
	}
	for (i = 0; i < pl->n_said; i++) {
		struct attach_result *r = &p->results[pl->said[i].ap];

		r->reasons[r->n_reasons++] = pl->said[i].r; /* the reference moves */
	}
	pl->n_said = pl->cap_said = 0;
	free(pl->said);
	pl->said = NULL;
	return 0;
}

void plan_reason(struct planner *pl, struct aplan *ap, const char *code, const char *op,
		   int err, const char *fmt, ...)
{
	char msg[KERROR_MSG_MAX];
	va_list va;

	if (pl->err)
		return;
	if (!strchr(fmt, '%')) {
		/* most reasons are fixed text: no formatting */
		plan_reason_text(pl, ap, code, op, err, fmt);
		return;
	}
	va_start(va, fmt);
	vsnprintf(msg, sizeof(msg), fmt, va);
	va_end(va);
	plan_reason_text(pl, ap, code, op, err, msg);
}
