// SPDX-License-Identifier: MIT
/*
 * journal — the ownership journal model (journal.h).
 * Owns: lifetime, lookups, crash-recovery matching.  Must not: do I/O or log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "journal.h"
#include "str.h"

void journal_nic_init(struct journal_nic *j, const char *name, int ifindex)
{
	memset(j, 0, sizeof(*j));
	str_copy(j->name, sizeof(j->name), name);
	j->ifindex = ifindex;
}

void journal_nic_clear(struct journal_nic *j)
{
	free(j->rss0_prior);
	free(j->leases);
	free(j->rules);
	free(j->ctxs);
	free(j->bindings);
	journal_nic_init(j, NULL, 0);
}

int journal_nic_copy(struct journal_nic *dst, const struct journal_nic *src)
{
	bool fail = false;

	*dst = *src;
	dst->rss0_prior = array_dup(src->rss0_prior, src->n_rss0_prior, sizeof(uint32_t), &fail);
	dst->leases = array_dup(src->leases, src->n_leases, sizeof(*src->leases), &fail);
	dst->rules = array_dup(src->rules, src->n_rules, sizeof(*src->rules), &fail);
	dst->ctxs = array_dup(src->ctxs, src->n_ctxs, sizeof(*src->ctxs), &fail);
	dst->bindings = array_dup(src->bindings, src->n_bindings, sizeof(*src->bindings), &fail);
	if (fail) {
		journal_nic_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

static bool rule_equal(const struct journal_rule *a, const struct journal_rule *b)
{
	return a->rule.location == b->rule.location && journal_rule_same_content(&a->rule, &b->rule) &&
	       !memcmp(a->owner, b->owner, NIC_MAC_LEN) && a->pending == b->pending;
}

bool journal_nic_equal(const struct journal_nic *a, const struct journal_nic *b)
{
	size_t i;

	if (strcmp(a->name, b->name) || a->ifindex != b->ifindex || a->released != b->released ||
	    a->has_channels_prior != b->has_channels_prior ||
	    a->has_ntuple_prior != b->has_ntuple_prior || a->has_tds_prior != b->has_tds_prior ||
	    a->has_hds_prior != b->has_hds_prior || a->has_rss0_prior != b->has_rss0_prior ||
	    a->n_leases != b->n_leases || a->n_rules != b->n_rules || a->n_ctxs != b->n_ctxs ||
	    a->n_bindings != b->n_bindings)
		return false;
	if (a->has_channels_prior && (a->channels_prior.rx != b->channels_prior.rx ||
				      a->channels_prior.combined != b->channels_prior.combined))
		return false;
	if (a->has_ntuple_prior && a->ntuple_prior != b->ntuple_prior)
		return false;
	if (a->has_tds_prior && a->tds_prior != b->tds_prior)
		return false;
	if (a->has_hds_prior && a->hds_prior != b->hds_prior)
		return false;
	if (a->has_rss0_prior &&
	    (a->n_rss0_prior != b->n_rss0_prior ||
	     (a->n_rss0_prior &&
	      memcmp(a->rss0_prior, b->rss0_prior, a->n_rss0_prior * sizeof(uint32_t)))))
		return false;
	for (i = 0; i < a->n_leases; i++)
		if (a->leases[i].queue != b->leases[i].queue ||
		    memcmp(a->leases[i].owner, b->leases[i].owner, NIC_MAC_LEN))
			return false;
	for (i = 0; i < a->n_rules; i++)
		if (!rule_equal(&a->rules[i], &b->rules[i]))
			return false;
	for (i = 0; i < a->n_ctxs; i++) {
		const struct journal_ctx *x = &a->ctxs[i], *y = &b->ctxs[i];

		if (x->id != y->id || x->pending != y->pending || x->n_queues != y->n_queues ||
		    memcmp(x->owner, y->owner, NIC_MAC_LEN) ||
		    memcmp(x->queues, y->queues, x->n_queues * sizeof(uint32_t)))
			return false;
	}
	for (i = 0; i < a->n_bindings; i++) {
		const struct journal_binding *x = &a->bindings[i], *y = &b->bindings[i];

		if (x->id != y->id || x->queue != y->queue || x->tap_ifindex != y->tap_ifindex ||
		    x->fallback != y->fallback || x->pending != y->pending ||
		    memcmp(x->owner, y->owner, NIC_MAC_LEN))
			return false;
	}
	return true;
}

bool journal_nic_empty(const struct journal_nic *j)
{
	return !j->has_channels_prior && !j->has_ntuple_prior && !j->has_tds_prior &&
	       !j->has_hds_prior && !j->has_rss0_prior && !j->n_leases && !j->n_rules &&
	       !j->n_ctxs && !j->n_bindings;
}

bool journal_nic_has_pending(const struct journal_nic *j)
{
	size_t i;

	for (i = 0; i < j->n_rules; i++)
		if (j->rules[i].pending)
			return true;
	for (i = 0; i < j->n_ctxs; i++)
		if (j->ctxs[i].pending)
			return true;
	for (i = 0; i < j->n_bindings; i++)
		if (j->bindings[i].pending)
			return true;
	return false;
}

void journal_drop_pending(struct journal_nic *j)
{
	size_t i;

	for (i = 0; i < j->n_rules;)
		if (j->rules[i].pending)
			journal_del_rule(j, i);
		else
			i++;
	for (i = 0; i < j->n_ctxs;)
		if (j->ctxs[i].pending)
			journal_del_ctx(j, i);
		else
			i++;
	for (i = 0; i < j->n_bindings;)
		if (j->bindings[i].pending)
			journal_del_binding(j, i);
		else
			i++;
}

/* Grow an array by one element; returns the new element or NULL. */
static void *push(void **v, size_t *n, size_t size)
{
	void *p = realloc(*v, (*n + 1) * size);

	if (!p)
		return NULL;
	*v = p;
	p = (char *)p + *n * size;
	memset(p, 0, size);
	(*n)++;
	return p;
}

int journal_add_lease(struct journal_nic *j, uint32_t queue, const uint8_t owner[NIC_MAC_LEN])
{
	struct journal_lease *l;
	size_t i;

	l = push((void **)&j->leases, &j->n_leases, sizeof(*l));
	if (!l)
		return -ENOMEM;
	/* keep leases sorted by queue */
	for (i = j->n_leases - 1; i > 0 && j->leases[i - 1].queue > queue; i--)
		j->leases[i] = j->leases[i - 1];
	j->leases[i].queue = queue;
	memcpy(j->leases[i].owner, owner, NIC_MAC_LEN);
	return 0;
}

int journal_add_rule(struct journal_nic *j, const struct nic_rule *rule,
		     const uint8_t owner[NIC_MAC_LEN], bool pending)
{
	struct journal_rule *r = push((void **)&j->rules, &j->n_rules, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->rule = *rule;
	memcpy(r->owner, owner, NIC_MAC_LEN);
	r->pending = pending;
	return 0;
}

int journal_add_ctx(struct journal_nic *j, uint32_t id, const uint8_t owner[NIC_MAC_LEN],
		    const uint32_t *queues, uint32_t n, bool pending)
{
	struct journal_ctx *c;

	if (n > sizeof(c->queues) / sizeof(c->queues[0]))
		return -E2BIG;
	c = push((void **)&j->ctxs, &j->n_ctxs, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->id = id;
	memcpy(c->owner, owner, NIC_MAC_LEN);
	c->n_queues = n;
	memcpy(c->queues, queues, n * sizeof(uint32_t));
	c->pending = pending;
	return 0;
}

int journal_add_binding(struct journal_nic *j, const struct journal_binding *b)
{
	struct journal_binding *x = push((void **)&j->bindings, &j->n_bindings, sizeof(*x));

	if (!x)
		return -ENOMEM;
	*x = *b;
	return 0;
}

int journal_set_rss0_prior(struct journal_nic *j, const uint32_t *indir, uint32_t n)
{
	uint32_t *p = NULL;

	if (n) {
		p = malloc(n * sizeof(uint32_t));
		if (!p)
			return -ENOMEM;
		memcpy(p, indir, n * sizeof(uint32_t));
	}
	free(j->rss0_prior);
	j->rss0_prior = p;
	j->n_rss0_prior = n;
	j->has_rss0_prior = true;
	return 0;
}

void journal_clear_rss0_prior(struct journal_nic *j)
{
	free(j->rss0_prior);
	j->rss0_prior = NULL;
	j->n_rss0_prior = 0;
	j->has_rss0_prior = false;
}

ssize_t journal_find_lease(const struct journal_nic *j, uint32_t queue)
{
	size_t lo = 0, hi = j->n_leases;

	/* leases are kept sorted by queue (journal_add_lease) */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (j->leases[mid].queue == queue)
			return (ssize_t)mid;
		if (j->leases[mid].queue < queue)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

ssize_t journal_find_rule(const struct journal_nic *j, uint32_t location)
{
	size_t i;

	for (i = 0; i < j->n_rules; i++)
		if (!j->rules[i].pending && j->rules[i].rule.location == location)
			return (ssize_t)i;
	return -1;
}

ssize_t journal_find_rule_exact(const struct journal_nic *j, const struct nic_rule *rule)
{
	size_t i;

	for (i = 0; i < j->n_rules; i++)
		if (!j->rules[i].pending && j->rules[i].rule.location == rule->location &&
		    journal_rule_same_content(&j->rules[i].rule, rule))
			return (ssize_t)i;
	return -1;
}

ssize_t journal_find_ctx(const struct journal_nic *j, uint32_t id)
{
	size_t i;

	for (i = 0; i < j->n_ctxs; i++)
		if (!j->ctxs[i].pending && j->ctxs[i].id == id)
			return (ssize_t)i;
	return -1;
}

ssize_t journal_find_ctx_exact(const struct journal_nic *j, const struct nic_rss *rss)
{
	size_t i;

	for (i = 0; i < j->n_ctxs; i++)
		if (!j->ctxs[i].pending && j->ctxs[i].id == rss->id &&
		    journal_rss_spans(rss, j->ctxs[i].queues, j->ctxs[i].n_queues))
			return (ssize_t)i;
	return -1;
}

ssize_t journal_find_binding(const struct journal_nic *j, uint32_t id)
{
	size_t i;

	for (i = 0; i < j->n_bindings; i++)
		if (!j->bindings[i].pending && j->bindings[i].id == id)
			return (ssize_t)i;
	return -1;
}

static void del(void *v, size_t *n, size_t size, size_t i)
{
	char *p = v;

	if (i >= *n)
		return;
	memmove(p + i * size, p + (i + 1) * size, (*n - i - 1) * size);
	(*n)--;
}

void journal_del_lease(struct journal_nic *j, size_t i)
{
	del(j->leases, &j->n_leases, sizeof(*j->leases), i);
}

void journal_del_rule(struct journal_nic *j, size_t i)
{
	del(j->rules, &j->n_rules, sizeof(*j->rules), i);
}

void journal_del_ctx(struct journal_nic *j, size_t i)
{
	del(j->ctxs, &j->n_ctxs, sizeof(*j->ctxs), i);
}

void journal_del_binding(struct journal_nic *j, size_t i)
{
	del(j->bindings, &j->n_bindings, sizeof(*j->bindings), i);
}

bool journal_rule_same_content(const struct nic_rule *a, const struct nic_rule *b)
{
	if (a->match != b->match || a->action != b->action)
		return false;
	switch (a->match) {
	case NIC_RULE_MATCH_ETHER_DST:
		if (memcmp(a->mac, b->mac, NIC_MAC_LEN))
			return false;
		break;
	case NIC_RULE_MATCH_IP4_DST:
		if (a->ip4.s_addr != b->ip4.s_addr)
			return false;
		break;
	case NIC_RULE_MATCH_IP6_DST:
		if (memcmp(&a->ip6, &b->ip6, sizeof(a->ip6)))
			return false;
		break;
	case NIC_RULE_MATCH_FLOW4:
	case NIC_RULE_MATCH_FLOW6:
		if (!nic_flow_equal(&a->flow, &b->flow))
			return false;
		break;
	case NIC_RULE_MATCH_OTHER:
		return false; /* we never make those, so never claim one */
	}
	switch (a->action) {
	case NIC_RULE_ACTION_QUEUE: return a->queue == b->queue;
	case NIC_RULE_ACTION_CONTEXT: return a->rss_context == b->rss_context;
	case NIC_RULE_ACTION_DROP: return true;
	case NIC_RULE_ACTION_OTHER: return false;
	}
	return false;
}

/* The distinct queues a table spreads over equal the sorted set q[0..n). */
size_t journal_ctx_ids_to_read(const struct journal_nic *j, uint32_t *ids, size_t max)
{
	bool pending = false;
	size_t i, k, n = 0;
	uint32_t id;

	for (i = 0; i < j->n_ctxs; i++) {
		if (j->ctxs[i].pending)
			pending = true;
		else if (n < max)
			ids[n++] = j->ctxs[i].id;
	}
	for (id = 1; pending && id <= JOURNAL_CTX_SCAN && n < max; id++) {
		for (k = 0; k < n && ids[k] != id; k++)
			;
		if (k == n)
			ids[n++] = id;
	}
	return n;
}

bool journal_rss_spans(const struct nic_rss *rss, const uint32_t *q, uint32_t n)
{
	uint64_t seen = 0;
	uint32_t i;

	if (!rss->indir_size || !n || n > 64)
		return false;
	for (i = 0; i < rss->indir_size; i++) {
		uint32_t lo = 0, hi = n, v = rss->indir[i];

		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;

			if (q[mid] < v)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == n || q[lo] != v)
			return false;
		seen |= 1ull << lo;
	}
	return seen == (n == 64 ? ~0ull : (1ull << n) - 1);
}

static bool ctx_owned_by(const struct journal_nic *j, const struct nic *nic, uint32_t id,
			 const uint8_t *owner)
{
	const struct nic_rss *r = nic_find_rss(nic, id);
	ssize_t i;

	if (!r)
		return false;
	i = journal_find_ctx_exact(j, r);
	return i >= 0 && !memcmp(j->ctxs[i].owner, owner, NIC_MAC_LEN);
}

/* A pending context takes the id of a context on the NIC that spans its
 * queues and that no other entry owns. */
static bool adopt_ctx(struct journal_nic *j, const struct nic *nic, struct journal_ctx *c)
{
	size_t k;

	for (k = 0; k < nic->n_rss; k++) {
		const struct nic_rss *r = &nic->rss[k];

		/* an id owned by an entry whose table still matches is
		 * taken; one whose entry describes another table was
		 * deleted and the id handed out again */
		if (r->id == 0 || journal_find_ctx_exact(j, r) >= 0)
			continue;
		if (journal_rss_spans(r, c->queues, c->n_queues)) {
			c->id = r->id;
			c->pending = false;
			return true;
		}
	}
	return false;
}

/* A pending rule takes the slot of a rule on the NIC with its content. */
static bool adopt_rule(struct journal_nic *j, const struct nic *nic, struct journal_rule *r)
{
	size_t k;

	for (k = 0; k < nic->n_rules; k++) {
		const struct nic_rule *o = &nic->rules[k];
		struct nic_rule want = r->rule;

		/* a slot whose entry has other content was emptied and
		 * reused: that entry is stale, the slot is up for grabs */
		if (journal_find_rule_exact(j, o) >= 0)
			continue;
		if (want.action == NIC_RULE_ACTION_CONTEXT) {
			if (o->action != NIC_RULE_ACTION_CONTEXT ||
			    !ctx_owned_by(j, nic, o->rss_context, r->owner))
				continue;
			want.rss_context = o->rss_context;
		}
		if (journal_rule_same_content(&want, o)) {
			r->rule = *o;
			r->pending = false;
			return true;
		}
	}
	return false;
}

/* A pending binding takes the id of the module's binding of its queue and
 * tap that no other entry owns. */
static bool adopt_binding(struct journal_nic *j, const struct binder_binding *bindings,
			  size_t n_bindings, struct journal_binding *b)
{
	size_t k;

	for (k = 0; k < n_bindings; k++) {
		const struct binder_binding *o = &bindings[k];

		if (o->ifindex != j->ifindex || journal_find_binding(j, o->id) >= 0)
			continue;
		if (o->queue == b->queue && o->tap_ifindex == b->tap_ifindex) {
			b->id = o->id;
			b->pending = false;
			return true;
		}
	}
	return false;
}

size_t journal_resolve_pending(struct journal_nic *j, const struct nic *nic,
			       const struct binder_binding *bindings, size_t n_bindings)
{
	size_t adopted = 0, i;

	/* contexts first: pending rules may point at them */
	for (i = 0; i < j->n_ctxs;) {
		if (!j->ctxs[i].pending) {
			i++;
		} else if (adopt_ctx(j, nic, &j->ctxs[i])) {
			adopted++;
			i++;
		} else {
			journal_del_ctx(j, i);
		}
	}
	for (i = 0; i < j->n_rules;) {
		if (!j->rules[i].pending) {
			i++;
		} else if (adopt_rule(j, nic, &j->rules[i])) {
			adopted++;
			i++;
		} else {
			journal_del_rule(j, i);
		}
	}
	for (i = 0; i < j->n_bindings;) {
		if (!j->bindings[i].pending) {
			i++;
		} else if (adopt_binding(j, bindings, n_bindings, &j->bindings[i])) {
			adopted++;
			i++;
		} else {
			journal_del_binding(j, i);
		}
	}
	return adopted;
}
