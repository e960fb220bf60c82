// SPDX-License-Identifier: MIT
/*
 * plan-tail — the vNICs that wait for a full pool, planned as one.
 *
 * On a NIC whose pool is full most vNICs may wait for a queue.  They own
 * nothing on the NIC, and the plan gives each of them nothing but the same
 * reason.  Planning every one of them again on every change of the NIC made
 * a change cost in proportion to the NIC's attachments (issue 11).
 *
 * So plan_nic plans every attachment that owns or may get something, and
 * of the rest (the candidates: below) only the first K in planning order.
 * When the K-th of them waits, every later candidate waits too: queues go
 * out in planning order, a vNIC that wants one queue gets one exactly when
 * one is free at its turn (plan_allocate), and one that waits changes
 * nothing for those after it.  The later candidates then get the K-th's
 * result, word for word: a waiting vNIC's result says nothing of its own.
 * K starts at 1 (a full pool: its first candidate waits) and is otherwise
 * the pool's size plus one, of which at least the last waits.  It is
 * tried only when the candidates are at least twice the others.
 *
 * When the proof is not at hand (another mode, OnExhaustion=fail, the
 * room for contexts being learned, the candidates not in planning order,
 * the K-th with anything but the waiting reason), plan_tail says so and
 * plan_nic plans every attachment.  Either way the plan is the same: the
 * plan harness compares the two on every plan of the unit tests.
 *
 * Owns: the candidates, the proof, the tail's results.  Must not: decide
 * anything plan_once does not.
 */
#include "plan-int.h"

/* A candidate: a vNIC of this NIC (not held back, one queue asked for)
 * whose MAC no other attachment has and owns nothing in the journal.
 * Each attachment's marks: */
enum {
	TAIL_SHAPE = 1, /* candidate_shape() */
	TAIL_MORE = 2,  /* another attachment has its MAC */
	TAIL_OWNED = 4, /* something in the journal is its */
};

/* The attachments that own something in the journal, or were refused a
 * bind, marked (m: in's attachments by MAC). */
static void mark_owners(const struct plan_macs *m, const struct plan_input *in, uint8_t *mark)
{
	const struct journal_nic *j = in->journal;
	ssize_t k;
	size_t i;

#define TAIL_OWN(mac) \
	do { \
		if ((k = plan_macs_find(m, (mac))) >= 0) \
			mark[k] |= TAIL_OWNED; \
	} while (0)
	for (i = 0; j && i < j->n_leases; i++)
		TAIL_OWN(j->leases[i].owner);
	for (i = 0; j && i < j->n_rules; i++)
		TAIL_OWN(j->rules[i].owner);
	for (i = 0; j && i < j->n_ctxs; i++)
		TAIL_OWN(j->ctxs[i].owner);
	for (i = 0; j && i < j->n_bindings; i++)
		TAIL_OWN(j->bindings[i].owner);
	for (i = 0; in->binder && i < in->binder->n_refused; i++)
		TAIL_OWN(in->binder->refused[i].owner);
#undef TAIL_OWN
}

/* A candidate as far as a looks: what its MAC's slot says is the rest. */
static bool candidate_shape(const struct attach *a, const char *nic)
{
	return a->id.kind == ATTACH_KIND_VNIC && !a->held && a->id.queues == 1 &&
	       !strcmp(a->id.nic, nic);
}

/* Is the plan's result r that of a vNIC waiting for a queue, and nothing
 * else? */
static bool waits(const struct attach_result *r)
{
	return r->n_queues == 0 && r->n_rules == 0 && !r->has_context && !r->steering[0] &&
	       r->n_reasons == 1 && r->reasons[0].code &&
	       !strcmp(r->reasons[0].code, ATTACH_R_POOL_EXHAUSTED);
}

/* Whether the tail's shortcut may be taken at all (see the top). */
static bool applies(const struct plan_input *in)
{
	return in->mode == PLAN_MODE_NORMAL && in->policy &&
	       in->policy->on_exhaustion != CONFIG_ON_EXHAUSTION_FAIL &&
	       !(in->journal && in->journal->released) && in->n_atts > 1;
}

/* sp (the plan of sub, whose attachment i is in->atts[map[i]]) as the plan
 * of all of in: the tail, every candidate after the sub's last, gets rep's
 * result.  Its reason keeps the attachment's own text when the words are
 * the same (as plan_reason_again does), so that comparing it with what the
 * attachment shows is a comparison of pointers. */
static int widen(const struct plan_input *in, const size_t *map, size_t n_sub, size_t rep,
		 struct plan *sp)
{
	const struct attach_reason *w = &sp->results[rep].reasons[0];
	size_t n = in->n_atts, n_block = 0, i, off;
	struct attach_result *res;
	struct attach_reason *block;
	bool *in_sub;

	for (i = 0; i < n_sub; i++)
		n_block += sp->results[i].n_reasons;
	res = malloc(n * sizeof(*res));
	block = malloc((n_block + n - n_sub) * sizeof(*block));
	in_sub = calloc(n, sizeof(*in_sub));
	if (!res || !block || !in_sub) {
		free(res);
		free(block);
		free(in_sub);
		return -ENOMEM;
	}
	/* the sub's results and reasons move (their references with them) */
	for (i = 0, off = 0; i < n_sub; i++) {
		struct attach_result *r = &res[map[i]];

		*r = sp->results[i];
		if (r->n_reasons)
			memcpy(block + off, r->reasons, r->n_reasons * sizeof(*block));
		r->reasons = r->n_reasons ? block + off : NULL;
		off += r->n_reasons;
		in_sub[map[i]] = true;
	}
	for (i = 0; i < n; i++) {
		const struct attach_result *was = &in->atts[i]->res;
		const struct attach_reason *c = w;

		if (in_sub[i])
			continue;
		if (was->n_reasons && was->reasons[0].text &&
		    (was->reasons[0].text == w->text ||
		     attach_reason_is(&was->reasons[0], w->code, w->nic, w->op, w->err, w->msg)))
			c = &was->reasons[0];
		res[i] = sp->results[rep];
		res[i].queues = NULL; /* (none: it waits) */
		res[i].rule_locs = NULL;
		res[i].reasons = block + off;
		attach_reason_copy(&block[off++], c);
	}
	free(in_sub);
	free(sp->results); /* (its reasons' references moved to block) */
	free(sp->reason_block);
	sp->results = res;
	sp->n_results = n;
	sp->reason_block = block;
	return 0;
}

int plan_tail(const struct plan_input *in, struct plan *ret)
{
	const char *nic = in->nic->link.name;
	struct plan_input sub = *in;
	const struct attach **atts;
	const struct attach_id *prev = NULL;
	size_t n = in->n_atts, n_cand = 0, k = 1, n_sub, rep, i, c;
	struct plan_macs macs;
	ssize_t held;
	size_t *map;
	uint8_t *cand; /* the marks, then whether a candidate */
	int r;

	if (!applies(in))
		return 0;
	if (plan_macs_init(&macs, in->atts, n) < 0)
		return -ENOMEM;
	cand = calloc(n, sizeof(*cand));
	map = malloc(n * sizeof(*map));
	atts = malloc(n * sizeof(*atts));
	r = cand && map && atts ? 0 : -ENOMEM;
	/* each attachment looked at once: its MAC into the index, whether it
	 * may be a candidate, and those in planning order (seq, then MAC: all
	 * of this NIC), as the store keeps them; else no proof */
	for (i = 0; !r && i < n; i++) {
		const struct attach_id *id = &in->atts[i]->id;

		if ((held = plan_macs_add(&macs, i)) >= 0) {
			cand[held] |= TAIL_MORE;
			cand[i] |= TAIL_MORE;
		}
		if (!candidate_shape(in->atts[i], nic))
			continue;
		cand[i] |= TAIL_SHAPE;
		if (n_cand && (prev->seq > id->seq ||
			       (prev->seq == id->seq && memcmp(prev->mac, id->mac, NIC_MAC_LEN) > 0)))
			break;
		prev = id;
		n_cand++;
	}
	if (i < n) /* (out of order, or out of memory) */
		n_cand = 0;
	if (n_cand)
		mark_owners(&macs, in, cand);
	for (i = 0, c = n_cand, n_cand = 0; c && i < n; i++) { /* (from the marks alone) */
		cand[i] = cand[i] == TAIL_SHAPE;
		n_cand += cand[i];
	}
	plan_macs_free(&macs);
	/* worth a try only when the candidates are twice the others, which
	 * are planned either way: a try whose K-th gets a queue is a plan of
	 * them all thrown away (a few newcomers among many that hold queues,
	 * in a batch of attaches, would pay it on every run) */
	if (n_cand < 2 * (n - n_cand + 1))
		n_cand = 0;
	/* K candidates, then (when the K-th got a queue) the pool's size + 1 */
	while (!r && k < n_cand) {
		for (i = 0, c = 0, n_sub = 0, rep = 0; i < n; i++) {
			if (cand[i] && c++ >= k)
				continue;
			if (cand[i])
				rep = n_sub;
			map[n_sub] = i;
			atts[n_sub++] = in->atts[i];
		}
		sub.atts = atts;
		sub.n_atts = n_sub;
		if ((r = plan_once(&sub, ret, NULL, NULL)) < 0)
			break;
		if (waits(&ret->results[rep])) {
			r = widen(in, map, n_sub, rep, ret);
			if (r < 0)
				plan_clear(ret);
			else
				r = 1;
			break;
		}
		i = ret->n_pool + 1;
		plan_clear(ret);
		if (i <= k)
			break; /* the K-th has more than the waiting reason: no proof */
		k = i;
	}
	free(cand);
	free(map);
	free(atts);
	return r;
}
