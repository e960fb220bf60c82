// SPDX-License-Identifier: MIT
/*
 * nic-bound — any NIC backend with its kernel calls bounded (nic-bound.h).
 * One job type for every op: the arguments it needs by value, the results
 * it gives, freed with everything it owns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nic-bound.h"

#define FORGET_MAX 64

struct nic_bound {
	struct nic_backend inner;
	struct nic_ops ops; /* the inner's optional ops stay NULL */
	struct kcall *kc;
	kcall_returned_fn returned;
	void *returned_ud;
	int forget[FORGET_MAX]; /* forget()s while stuck */
	size_t n_forget;
};

struct job {
	struct kcall_job k;
	struct nic_backend inner;
	char name[KERROR_OBJ_MAX];
	struct nic_id id;
	/* arguments */
	unsigned what;
	struct nic_channels_req ch;
	struct nic_rings_req rings;
	char feature[64];
	bool on;
	uint32_t ctx, n, loc, flow_type;
	uint32_t *indir;
	uint8_t *key;
	uint64_t fields;
	/* arguments and results */
	struct nic *nic; /* observe only: a few KiB not to clear for every call */
	struct nic *nics; /* observe_many: n_nics of them, each with its what and result */
	unsigned *whats;
	int *res;
	size_t n_nics;
	bool list; /* observe_many: list the links first */
	struct nic_rule rule;
	struct nic_rule_call *calls; /* rule_insert_many: n_calls of them */
	size_t n_calls;
	/* results */
	struct nic_link *links;
	size_t n_links;
	bool active;
	struct nic_rss rss;
};

static void job_free(struct kcall_job *kj)
{
	struct job *j = (struct job *)kj;
	size_t i;

	if (j->nic) {
		nic_clear(j->nic);
		free(j->nic);
	}
	for (i = 0; j->nics && i < j->n_nics; i++)
		nic_clear(&j->nics[i]);
	free(j->nics);
	free(j->whats);
	free(j->res);
	free(j->calls);
	nic_rss_clear(&j->rss);
	free(j->links);
	free(j->indir);
	free(j->key);
	free(j);
}

static struct job *job_new(struct nic_bound *b, int (*run)(struct kcall_job *),
			   const struct nic_id *id)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->k.run = run;
	j->k.free = job_free;
	j->inner = b->inner;
	if (id) {
		j->id.ifindex = id->ifindex;
		if (id->name)
			snprintf(j->name, sizeof(j->name), "%s", id->name);
		j->id.name = id->name ? j->name : NULL;
	}
	return j;
}

/* Run j; the caller's job again unless it overran (j->k.kept). */
static int run(struct nic_bound *b, struct job *j, const char *op, const char *obj,
	       struct kerror *err)
{
	return kcall_run(b->kc, &j->k, op, obj, err);
}

#define OPS(j) ((j)->inner.ops)
#define BE(j) ((j)->inner.be)
#define JOB(kj) ((struct job *)(kj))

/* ---- the ops ------------------------------------------------------------------------- */

static int run_list_links(struct kcall_job *kj)
{
	struct job *j = JOB(kj);

	return OPS(j)->list_links(BE(j), &j->links, &j->n_links, &kj->err);
}

static int b_list_links(void *be, struct nic_link **ret, size_t *ret_n, struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = job_new(b, run_list_links, NULL);
	int r;

	if (!j)
		return kerror_set(err, ENOMEM, NULL, "list links", NULL);
	r = run(b, j, "list links", "", err);
	if (j->k.kept)
		return r; /* kcall's now: freed when the call returns */
	if (r == 0) {
		*ret = j->links;
		*ret_n = j->n_links;
		j->links = NULL;
	}
	job_free(&j->k);
	return r;
}

static int run_observe(struct kcall_job *kj)
{
	struct job *j = JOB(kj);

	return OPS(j)->observe(BE(j), j->nic, j->what, &kj->err);
}

static int b_observe(void *be, struct nic *nic, unsigned what, struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = job_new(b, run_observe, NULL);
	int r;

	if (j)
		j->nic = malloc(sizeof(*j->nic));
	if (!j || !j->nic) {
		if (j)
			job_free(&j->k);
		return kerror_set(err, ENOMEM, nic->link.name, "observe", NULL);
	}
	/* moved, not copied: the caller's is a scratch copy (nic-monitor);
	 * after an overrun it is left empty, as nic_init() makes it */
	*j->nic = *nic;
	nic_init(nic);
	nic->link.ifindex = j->nic->link.ifindex;
	snprintf(nic->link.name, sizeof(nic->link.name), "%s", j->nic->link.name);
	j->what = what;
	r = run(b, j, "read", nic->link.name, err);
	if (j->k.kept)
		return r; /* kcall's now: freed when the call returns */
	/* the backend fills *nic in place, also on failure; not run: as it was */
	*nic = *j->nic;
	nic_init(j->nic);
	job_free(&j->k);
	return r;
}

/* The links listed first when asked, then every NIC's observe, in one
 * hand-over; each call bounded from its own start (kcall_job_next). */
static int run_observe_many(struct kcall_job *kj)
{
	struct job *j = JOB(kj);
	size_t i, l = 0;
	int r;

	if (j->list) {
		r = OPS(j)->list_links(BE(j), &j->links, &j->n_links, &kj->err);
		if (r < 0)
			return r;
	}
	for (i = 0; i < j->n_nics; i++) {
		int ifindex = j->nics[i].link.ifindex;
		struct kerror e;

		if (j->list) { /* both in ifindex order */
			while (l < j->n_links && j->links[l].ifindex < ifindex)
				l++;
			if (l == j->n_links || j->links[l].ifindex != ifindex) {
				j->res[i] = -ENODEV; /* not listed: gone */
				continue;
			}
		}
		if (i || j->list)
			kcall_job_next(kj, "read", j->nics[i].link.name);
		kerror_clear(&e);
		j->res[i] = OPS(j)->observe(BE(j), &j->nics[i], j->whats[i], &e);
	}
	return 0;
}

/* nics[i] left empty, as nic_init makes it, but for its ifindex and name */
static void leave_empty(struct nic *nic)
{
	int ifindex = nic->link.ifindex;
	char name[sizeof(nic->link.name)];

	snprintf(name, sizeof(name), "%s", nic->link.name);
	nic_init(nic);
	nic->link.ifindex = ifindex;
	snprintf(nic->link.name, sizeof(nic->link.name), "%s", name);
}

static int b_observe_many(void *be, struct nic_link **links, size_t *n_links, struct nic *nics,
			  const unsigned *what, int *res, size_t n, struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = job_new(b, run_observe_many, NULL);
	size_t i;
	int r;

	if (j && n) {
		j->nics = malloc(n * sizeof(*j->nics));
		j->whats = malloc(n * sizeof(*j->whats));
		j->res = malloc(n * sizeof(*j->res));
	}
	if (!j || (n && (!j->nics || !j->whats || !j->res))) {
		if (j)
			job_free(&j->k);
		return kerror_set(err, ENOMEM, n ? nics[0].link.name : NULL, "read", NULL);
	}
	/* moved, not copied (b_observe): the caller's are left empty */
	for (i = 0; i < n; i++) {
		j->nics[i] = nics[i];
		j->whats[i] = what[i];
		leave_empty(&nics[i]);
	}
	j->n_nics = n;
	j->list = links != NULL;
	r = run(b, j, links ? "list links" : "read", (links || !n) ? "" : nics[0].link.name, err);
	if (j->k.kept)
		return r; /* kcall's now: freed when the call returns */
	if (r == 0) {
		if (links) {
			*links = j->links;
			*n_links = j->n_links;
			j->links = NULL;
		}
		for (i = 0; i < n; i++) {
			nics[i] = j->nics[i];
			nic_init(&j->nics[i]);
			res[i] = j->res[i];
		}
	}
	job_free(&j->k);
	return r;
}

static int run_set_channels(struct kcall_job *kj)
{
	struct job *j = JOB(kj);

	return OPS(j)->set_channels(BE(j), &j->id, &j->ch, &kj->err);
}

static int b_set_channels(void *be, const struct nic_id *id, const struct nic_channels_req *req,
			  struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = job_new(b, run_set_channels, id);
	int r;

	if (!j)
		return kerror_set(err, ENOMEM, id->name, "set channels", NULL);
	j->ch = *req;
	r = run(b, j, "set channels", id->name, err);
	if (!j->k.kept)
		job_free(&j->k);
	return r;
}

static int run_set_feature(struct kcall_job *kj)
{
	struct job *j = JOB(kj);

	return OPS(j)->set_feature(BE(j), &j->id, j->feature, j->on, &j->active, &kj->err);
}

static int b_set_feature(void *be, const struct nic_id *id, const char *feature, bool on,
			 bool *ret_active, struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = job_new(b, run_set_feature, id);
	int r;

	if (!j)
		return kerror_set(err, ENOMEM, id->name, "set feature", NULL);
	snprintf(j->feature, sizeof(j->feature), "%s", feature);
	j->on = on;
	r = run(b, j, "set feature", id->name, err);
	if (j->k.kept)
		return r; /* kcall's now: freed when the call returns */
	if (r == 0 && ret_active)
		*ret_active = j->active;
	job_free(&j->k);
	return r;
}

static int run_set_rings(struct kcall_job *kj)
{
	struct job *j = JOB(kj);

	return OPS(j)->set_rings(BE(j), &j->id, &j->rings, &kj->err);
}

static int b_set_rings(void *be, const struct nic_id *id, const struct nic_rings_req *req,
		       struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = job_new(b, run_set_rings, id);
	int r;

	if (!j)
		return kerror_set(err, ENOMEM, id->name, "set rings", NULL);
	j->rings = *req;
	r = run(b, j, "set rings", id->name, err);
	if (!j->k.kept)
		job_free(&j->k);
	return r;
}

static int copy_indir(struct job *j, const uint32_t *indir, uint32_t n)
{
	j->n = n;
	if (!n)
		return 0;
	j->indir = malloc(n * sizeof(*indir));
	if (!j->indir)
		return -ENOMEM;
	memcpy(j->indir, indir, n * sizeof(*indir));
	return 0;
}

static int run_rss_set(struct kcall_job *kj)
{
	struct job *j = JOB(kj);

	return OPS(j)->rss_set(BE(j), &j->id, j->ctx, j->indir, j->n, &kj->err);
}

static int b_rss_set(void *be, const struct nic_id *id, uint32_t ctx, const uint32_t *indir,
		     uint32_t n, struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = job_new(b, run_rss_set, id);
	int r;

	if (!j || copy_indir(j, indir, n) < 0) {
		if (j)
			job_free(&j->k);
		return kerror_set(err, ENOMEM, id->name, "set RSS table", NULL);
	}
	j->ctx = ctx;
	r = run(b, j, "set RSS table", id->name, err);
	if (!j->k.kept)
		job_free(&j->k);
	return r;
}

static int run_rss_create(struct kcall_job *kj)
{
	struct job *j = JOB(kj);

	return OPS(j)->rss_create(BE(j), &j->id, j->indir, j->n, &j->ctx, &kj->err);
}

static int b_rss_create(void *be, const struct nic_id *id, const uint32_t *indir, uint32_t n,
			uint32_t *ret_ctx, struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = job_new(b, run_rss_create, id);
	int r;

	if (!j || copy_indir(j, indir, n) < 0) {
		if (j)
			job_free(&j->k);
		return kerror_set(err, ENOMEM, id->name, "create RSS context", NULL);
	}
	r = run(b, j, "create RSS context", id->name, err);
	if (j->k.kept)
		return r; /* kcall's now: freed when the call returns */
	if (r == 0)
		*ret_ctx = j->ctx;
	job_free(&j->k);
	return r;
}

static int run_rss_delete(struct kcall_job *kj)
{
	struct job *j = JOB(kj);

	return OPS(j)->rss_delete(BE(j), &j->id, j->ctx, &kj->err);
}

static int b_rss_delete(void *be, const struct nic_id *id, uint32_t ctx, struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = job_new(b, run_rss_delete, id);
	int r;

	if (!j)
		return kerror_set(err, ENOMEM, id->name, "delete RSS context", NULL);
	j->ctx = ctx;
	r = run(b, j, "delete RSS context", id->name, err);
	if (!j->k.kept)
		job_free(&j->k);
	return r;
}

static int run_rss_get(struct kcall_job *kj)
{
	struct job *j = JOB(kj);

	return OPS(j)->rss_get(BE(j), &j->id, j->ctx, &j->rss, &kj->err);
}

static int b_rss_get(void *be, const struct nic_id *id, uint32_t ctx, struct nic_rss *ret,
		     struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = job_new(b, run_rss_get, id);
	int r;

	if (!j)
		return kerror_set(err, ENOMEM, id->name, "read RSS context", NULL);
	j->ctx = ctx;
	r = run(b, j, "read RSS context", id->name, err);
	if (j->k.kept)
		return r; /* kcall's now: freed when the call returns */
	if (r == 0) {
		*ret = j->rss;
		memset(&j->rss, 0, sizeof(j->rss));
	}
	job_free(&j->k);
	return r;
}

static int run_rule_insert(struct kcall_job *kj)
{
	struct job *j = JOB(kj);

	return OPS(j)->rule_insert(BE(j), &j->id, &j->rule, &kj->err);
}

static int b_rule_insert(void *be, const struct nic_id *id, struct nic_rule *rule,
			 struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = job_new(b, run_rule_insert, id);
	int r;

	if (!j)
		return kerror_set(err, ENOMEM, id->name, "insert rule", NULL);
	j->rule = *rule;
	r = run(b, j, "insert rule", id->name, err);
	if (j->k.kept)
		return r; /* kcall's now: freed when the call returns */
	if (r == 0)
		*rule = j->rule;
	job_free(&j->k);
	return r;
}

static int run_rule_insert_many(struct kcall_job *kj)
{
	struct job *j = JOB(kj);
	int failed = 0; /* the NIC whose insert failed: its later ones are not tried */
	size_t i;

	for (i = 0; i < j->n_calls; i++) {
		struct nic_rule_call *c = &j->calls[i];
		struct nic_id id = { .ifindex = c->ifindex, .name = c->name };

		if (failed && c->ifindex == failed)
			continue;
		if (i) /* each insert has the bound from its own start */
			kcall_job_next(kj, NULL, c->name);
		kerror_clear(&c->err);
		c->result = OPS(j)->rule_insert(BE(j), &id, &c->rule, &c->err);
		c->ran = true;
		if (c->result < 0)
			failed = c->ifindex;
	}
	return 0;
}

static int b_rule_insert_many(void *be, struct nic_rule_call *calls, size_t n,
			      struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = n ? job_new(b, run_rule_insert_many, NULL) : NULL;
	size_t i;
	int r;

	if (!n)
		return 0;
	if (j)
		j->calls = malloc(n * sizeof(*calls));
	if (!j || !j->calls) {
		if (j)
			job_free(&j->k);
		return kerror_set(err, ENOMEM, calls[0].name, "insert rule", NULL);
	}
	for (i = 0; i < n; i++) {
		j->calls[i] = calls[i];
		j->calls[i].ran = false;
	}
	j->n_calls = n;
	r = run(b, j, "insert rule", calls[0].name, err);
	if (j->k.kept)
		return r; /* kcall's now: freed when the call returns */
	if (r == 0)
		memcpy(calls, j->calls, n * sizeof(*calls));
	job_free(&j->k);
	return r;
}

static int run_rule_delete(struct kcall_job *kj)
{
	struct job *j = JOB(kj);

	return OPS(j)->rule_delete(BE(j), &j->id, j->loc, &kj->err);
}

static int b_rule_delete(void *be, const struct nic_id *id, uint32_t location, struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = job_new(b, run_rule_delete, id);
	int r;

	if (!j)
		return kerror_set(err, ENOMEM, id->name, "delete rule", NULL);
	j->loc = location;
	r = run(b, j, "delete rule", id->name, err);
	if (!j->k.kept)
		job_free(&j->k);
	return r;
}

static int run_rss_set_key(struct kcall_job *kj)
{
	struct job *j = JOB(kj);

	return OPS(j)->rss_set_key(BE(j), &j->id, j->ctx, j->key, j->n, &kj->err);
}

static int b_rss_set_key(void *be, const struct nic_id *id, uint32_t ctx, const uint8_t *key,
			 uint32_t key_len, struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = job_new(b, run_rss_set_key, id);
	int r;

	if (j && key_len) {
		j->key = malloc(key_len);
		if (j->key)
			memcpy(j->key, key, key_len);
	}
	if (!j || (key_len && !j->key)) {
		if (j)
			job_free(&j->k);
		return kerror_set(err, ENOMEM, id->name, "set RSS key", NULL);
	}
	j->ctx = ctx;
	j->n = key_len;
	r = run(b, j, "set RSS key", id->name, err);
	if (!j->k.kept)
		job_free(&j->k);
	return r;
}

static int run_flow_hash_get(struct kcall_job *kj)
{
	struct job *j = JOB(kj);

	return OPS(j)->flow_hash_get(BE(j), &j->id, j->flow_type, &j->fields, &kj->err);
}

static int b_flow_hash_get(void *be, const struct nic_id *id, uint32_t flow_type,
			   uint64_t *ret_fields, struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = job_new(b, run_flow_hash_get, id);
	int r;

	if (!j)
		return kerror_set(err, ENOMEM, id->name, "read flow hash", NULL);
	j->flow_type = flow_type;
	r = run(b, j, "read flow hash", id->name, err);
	if (j->k.kept)
		return r; /* kcall's now: freed when the call returns */
	if (r == 0)
		*ret_fields = j->fields;
	job_free(&j->k);
	return r;
}

static int run_flow_hash_set(struct kcall_job *kj)
{
	struct job *j = JOB(kj);

	return OPS(j)->flow_hash_set(BE(j), &j->id, j->flow_type, j->fields, &kj->err);
}

static int b_flow_hash_set(void *be, const struct nic_id *id, uint32_t flow_type, uint64_t fields,
			   struct kerror *err)
{
	struct nic_bound *b = be;
	struct job *j = job_new(b, run_flow_hash_set, id);
	int r;

	if (!j)
		return kerror_set(err, ENOMEM, id->name, "set flow hash", NULL);
	j->flow_type = flow_type;
	j->fields = fields;
	r = run(b, j, "set flow hash", id->name, err);
	if (!j->k.kept)
		job_free(&j->k);
	return r;
}

/* Not a kernel call, but the backend's state: never beside a running call. */
static void b_forget(void *be, int ifindex)
{
	struct nic_bound *b = be;

	if (!kcall_get_stuck(b->kc, NULL)) {
		b->inner.ops->forget(b->inner.be, ifindex);
		return;
	}
	/* past FORGET_MAX, what was learned of an ifindex stays (the worst
	 * case: a reused ifindex starts with its predecessor's lessons) */
	if (b->n_forget < FORGET_MAX)
		b->forget[b->n_forget++] = ifindex;
}

static void on_returned(void *ud, const char *op, const char *obj, int result, uint64_t took)
{
	struct nic_bound *b = ud;
	size_t i;

	if (b->inner.ops->forget) {
		for (i = 0; i < b->n_forget; i++)
			b->inner.ops->forget(b->inner.be, b->forget[i]);
	}
	b->n_forget = 0;
	if (b->returned)
		b->returned(b->returned_ud, op, obj, result, took);
}

/* ---- lifecycle ----------------------------------------------------------------------- */

int nic_bound_new(sd_event *ev, struct nic_backend inner, uint64_t bound_usec,
		  struct nic_bound **ret)
{
	const struct nic_ops *o = inner.ops;
	struct nic_bound *b;
	int r;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->inner = inner;
	r = kcall_new(ev, "nic", bound_usec, &b->kc);
	if (r < 0) {
		free(b);
		return r;
	}
	kcall_set_returned(b->kc, on_returned, b);
	b->ops.name = o->name;
#define W(f) b->ops.f = o->f ? b_##f : NULL
	W(list_links);
	W(observe);
	b->ops.observe_many = o->observe ? b_observe_many : NULL; /* (inner's observe) */
	W(set_channels);
	W(set_feature);
	W(set_rings);
	W(rss_set);
	W(rss_create);
	W(rss_delete);
	W(rss_get);
	W(rule_insert);
	W(rule_delete);
	b->ops.rule_insert_many = o->rule_insert ? b_rule_insert_many : NULL; /* (inner's insert) */
	W(rss_set_key);
	W(flow_hash_get);
	W(flow_hash_set);
	W(forget);
#undef W
	*ret = b;
	return 0;
}

struct nic_bound *nic_bound_free(struct nic_bound *b)
{
	if (!b)
		return NULL;
	b->kc = kcall_free(b->kc);
	free(b);
	return NULL;
}

struct nic_backend nic_bound_backend(struct nic_bound *b)
{
	return (struct nic_backend){ .ops = &b->ops, .be = b };
}

struct kcall *nic_bound_kcall(const struct nic_bound *b)
{
	return b->kc;
}

void nic_bound_set_returned(struct nic_bound *b, kcall_returned_fn fn, void *userdata)
{
	b->returned = fn;
	b->returned_ud = userdata;
}
