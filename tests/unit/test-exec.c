// SPDX-License-Identifier: MIT
/*
 * Unit tests: the transactional executor (zcrxd/exec.c) on the test-only
 * fake NIC and a stub binder.
 *   - for every k, failing kernel op k leaves the NIC (and the bindings and
 *     the journal) exactly as before, and the error names op k with the
 *     kernel's text;
 *   - a failed undo is reported and the journal keeps what remained, so a
 *     later plan cleans it up;
 *   - crash at every point (intent persisted, after each op, during undo):
 *     the persisted journal + journal_resolve_pending() + one reconcile
 *     give the same NIC as a run without the crash, with nothing orphaned;
 *   - a BIND refused in the plan's final run of BINDs is left out when the
 *     caller takes refusals: the steering stays, the journal has no trace
 *     of it (also after a crash right after it); anywhere else it rolls
 *     the plan back;
 *   - an UNBIND of a binding the module already tore down is done, and a
 *     rollback does not bind it again.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "plan-harness.h"
#include "store.h"

enum scenario {
	SC_SETUP,     /* pristine -> pool, channels, three attachments, bindings */
	SC_TEARDOWN,  /* detach two of them (rules, contexts, unbinds) */
	SC_RELEASE,   /* release everything */
	SC_MOVE,      /* pool changes: leases move, rules re-pointed */
	SC_TWO_CTX,   /* two contexts deleted in one plan */
	SC_LOC_ANY,   /* teardown on a driver that picks rule slots itself */
	SC_MAX,
};

static const char *sc_name[] = { "setup", "teardown", "release", "move", "two-ctx", "loc-any" };

static struct harness *build(enum scenario sc, enum plan_mode *ret_mode)
{
	struct harness *h;
	struct fake_nic_cfg cfg;
	struct attach *a;

	fake_nic_cfg_capable(&cfg, "eth0");
	if (sc == SC_LOC_ANY)
		cfg.loc_special = true;
	h = harness_new(&cfg);
	harness_enable_binder(h, BINDER_FEATURE_NEEDS_HDS);
	*ret_mode = PLAN_MODE_NORMAL;
	harness_policy(h, 4, 12);
	if (sc != SC_SETUP) {
		harness_attach(h, "vm1", 1, 2);
		harness_attach(h, "vm2", 2, 1);
		a = harness_attach(h, "vm3", 3, 1);
		assert_int_equal(attach_id_add_address(&a->id, "10.0.0.3"), 0);
		if (sc == SC_TWO_CTX) {
			harness_policy(h, 6, 12);
			harness_attach(h, "vm4", 4, 2);
		}
		assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
	}
	switch (sc) {
	case SC_SETUP:
		harness_attach(h, "vm1", 1, 2);
		harness_attach(h, "vm2", 2, 1);
		a = harness_attach(h, "vm3", 3, 1);
		assert_int_equal(attach_id_add_address(&a->id, "10.0.0.3"), 0);
		h->pol.steering[0] = CONFIG_STEERING_IP; /* vm3 by IP, others by MAC */
		h->pol.steering[1] = CONFIG_STEERING_MAC;
		break;
	case SC_TEARDOWN:
	case SC_LOC_ANY:
		harness_detach(h, 1);
		harness_detach(h, 2);
		break;
	case SC_RELEASE:
		while (h->n_atts)
			harness_detach(h, h->atts[0].id.mac[5]);
		*ret_mode = PLAN_MODE_RELEASE;
		break;
	case SC_MOVE:
		harness_policy(h, 5, 10);
		break;
	case SC_TWO_CTX:
		harness_detach(h, 1);
		harness_detach(h, 4);
		break;
	case SC_MAX:
		break;
	}
	harness_observe(h);
	return h;
}

static char *bindings_text(const struct stub_binder *b)
{
	char *s = calloc(1, 4096);
	size_t i, k, n = 0;
	uint32_t key[256];

	assert_non_null(s);
	for (i = 0; i < b->n; i++)
		key[i] = b->v[i].queue << 16 | (uint32_t)b->v[i].tap_ifindex;
	for (i = 1; i < b->n; i++)
		for (k = i; k > 0 && key[k - 1] > key[k]; k--) {
			uint32_t t = key[k];

			key[k] = key[k - 1];
			key[k - 1] = t;
		}
	for (i = 0; i < b->n; i++)
		n += (size_t)snprintf(s + n, 4096 - n, "%u/%u ", key[i] >> 16, key[i] & 0xffff);
	return s;
}

static size_t count_kernel(const struct plan *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_ops; i++)
		n += plan_op_is_kernel(&p->ops[i]);
	return n;
}

/* Index of the k-th kernel op and the backend calls before it. */
static size_t kth_kernel(const struct plan *p, size_t k, unsigned *nic_calls, unsigned *bind_calls)
{
	size_t i, seen = 0;

	*nic_calls = *bind_calls = 0;
	for (i = 0; i < p->n_ops; i++) {
		const struct plan_op *op = &p->ops[i];

		if (!plan_op_is_kernel(op))
			continue;
		if (seen++ == k)
			return i;
		if (op->kind == PLAN_OP_BIND || op->kind == PLAN_OP_UNBIND)
			(*bind_calls)++;
		else
			(*nic_calls)++;
	}
	return SIZE_MAX;
}

static void test_fail_every_op(void **state)
{
	unsigned total = 0;
	int sc;

	for (sc = 0; sc < SC_MAX; sc++) {
		enum plan_mode mode;
		struct harness *h = build((enum scenario)sc, &mode);
		struct exec_env env = harness_exec_env(h);
		struct plan p;
		char *before, *bbefore;
		size_t k, nk;

		harness_plan(h, mode, &p);
		nk = count_kernel(&p);
		assert_true(nk >= 3);
		before = fake_net_dump(h->net, h->ifindex);
		bbefore = bindings_text(&h->sb);
		for (k = 0; k < nk; k++) {
			struct journal_nic j;
			struct exec_result res;
			unsigned nc, bc;
			size_t at = kth_kernel(&p, k, &nc, &bc);
			char *after, *bafter, desc[256];
			int r;

			assert_int_equal(journal_nic_copy(&j, &h->j), 0);
			if (p.ops[at].kind == PLAN_OP_BIND || p.ops[at].kind == PLAN_OP_UNBIND) {
				h->sb.fail_at = h->sb.calls + bc + 1;
			} else {
				fake_net_fail_at(h->net, nc + 1, EINVAL, "fake: injected failure");
			}
			r = exec_plan(&env, &p, &j, &res);
			fake_net_fail_at(h->net, 0, 0, NULL);
			h->sb.fail_at = 0;
			assert_true(r < 0);
			if (res.failed != (ssize_t)at) {
				char buf[1024];

				fprintf(stderr, "scenario %s, wanted failure at op %zu: %s\n",
					sc_name[sc], at, exec_result_format(&res, buf, sizeof(buf)));
			}
			assert_int_equal(res.failed, (ssize_t)at);
			assert_true(res.rolled_back || at == 0 || res.n_applied == 0 ||
				    res.n_applied == at);
			if (res.n_undo_failed) {
				char buf[1024];

				fprintf(stderr, "scenario %s, fail op %zu: %s\n", sc_name[sc], at,
					exec_result_format(&res, buf, sizeof(buf)));
				harness_print_plan(&p);
			}
			assert_int_equal(res.n_undo_failed, 0);
			plan_op_describe(&p.ops[at], desc, sizeof(desc));
			desc[KERROR_OP_MAX - 1] = '\0';
			assert_string_equal(res.err.op, desc);
			assert_non_null(strstr(res.err.msg, "injected"));
			after = fake_net_dump(h->net, h->ifindex);
			bafter = bindings_text(&h->sb);
			if (strcmp(before, after) || strcmp(bbefore, bafter))
				fprintf(stderr, "scenario %s, op %zu (%s):\nbefore:\n%s%s\nafter:\n%s%s\n",
					sc_name[sc], at, desc, before, bbefore, after, bafter);
			assert_string_equal(before, after);
			assert_string_equal(bbefore, bafter);
			/* the journal is as before, except binding ids an undo re-made */
			if (!journal_nic_equal(&j, &h->j)) {
				struct journal_nic cmp;
				size_t b;

				assert_int_equal(journal_nic_copy(&cmp, &j), 0);
				assert_int_equal(cmp.n_bindings, h->j.n_bindings);
				for (b = 0; b < cmp.n_bindings; b++)
					cmp.bindings[b].id = h->j.bindings[b].id;
				assert_true(journal_nic_equal(&cmp, &h->j));
				journal_nic_clear(&cmp);
			}
			/* and the journal still describes the NIC: planning again
			 * gives the same plan (binding ids aside) */
			journal_nic_clear(&h->j);
			h->j = j;
			harness_observe(h);
			{
				struct plan p2;
				size_t o;

				harness_plan(h, mode, &p2);
				bool same = p2.n_ops == p.n_ops;

				for (o = 0; same && o < p.n_ops; o++)
					same = p2.ops[o].kind == p.ops[o].kind;
				if (!same) {
					fprintf(stderr, "scenario %s after failing op %zu, was:\n",
						sc_name[sc], at);
					harness_print_plan(&p);
					fprintf(stderr, "now:\n");
					harness_print_plan(&p2);
				}
				assert_int_equal(p2.n_ops, p.n_ops);
				for (o = 0; o < p.n_ops; o++)
					assert_int_equal(p2.ops[o].kind, p.ops[o].kind);
				plan_clear(&p);
				p = p2;
			}
			free(after);
			free(bafter);
			total++;
		}
		plan_clear(&p);
		free(before);
		free(bbefore);
		harness_destroy(h);
	}
	fprintf(stderr, "exec: %u injected failures rolled back exactly\n", total);
	assert_true(total > 40);
}

static void test_failed_undo_is_reported(void **state)
{
	enum plan_mode mode;
	struct harness *h = build(SC_SETUP, &mode);
	struct exec_env env = harness_exec_env(h);
	struct exec_result res;
	struct plan p;
	unsigned nc, bc;
	size_t last_rule = 0, i;
	char buf[1024];
	int r;

	harness_plan(h, mode, &p);
	if (getenv("ZCRX_HARNESS_VERBOSE"))
		harness_print_plan(&p);
	for (i = 0; i < p.n_ops; i++)
		if (p.ops[i].kind == PLAN_OP_RULE_INSERT)
			last_rule = i;
	/* fail the last rule insert, and the undo of the one before it */
	for (i = 0; i < count_kernel(&p); i++)
		if (kth_kernel(&p, i, &nc, &bc) == last_rule)
			break;
	fake_net_fail_at(h->net, nc + 1, EINVAL, "fake: injected failure");
	fake_net_fail_also(h->net, nc + 2); /* first undo call = previous op */
	r = exec_plan(&env, &p, &h->j, &res);
	fake_net_fail_at(h->net, 0, 0, NULL);
	assert_true(r < 0);
	assert_int_equal(res.n_undo_failed, 1);
	exec_result_format(&res, buf, sizeof(buf));
	assert_non_null(strstr(buf, "rollback incomplete"));
	/* what could not be undone is still owned: one rule */
	assert_int_equal(h->j.n_rules, 1);
	plan_clear(&p);
	/* the next reconcile finishes the job */
	assert_int_equal(harness_apply(h, mode, 3), 0);
	assert_int_equal(harness_pending_ops(h, mode), 0);
	harness_destroy(h);
}

/* --- crash at every point -------------------------------------------------------- */

struct crash {
	struct harness *h;
	enum exec_point point;
	size_t op;
	bool crashed;
	struct journal_nic persisted;
	bool has_persisted;
	unsigned persists;
};

static int crash_persist(void *ud, const struct journal_nic *j, struct kerror *err)
{
	struct crash *c = ud;

	if (c->crashed)
		return 0;
	if (c->has_persisted)
		journal_nic_clear(&c->persisted);
	assert_int_equal(journal_nic_copy(&c->persisted, j), 0);
	c->has_persisted = true;
	c->persists++;
	return 0;
}

static void crash_fault(void *ud, enum exec_point pt, size_t op)
{
	struct crash *c = ud;

	if (c->crashed || pt != c->point || op != c->op)
		return;
	c->crashed = true;
	fake_net_freeze(c->h->net, true);
	c->h->sb.frozen = true;
}

static char *reference(enum scenario sc)
{
	enum plan_mode mode;
	struct harness *h = build(sc, &mode);
	char *s;

	assert_int_equal(harness_apply(h, mode, 3), 0);
	s = fake_net_dump(h->net, h->ifindex);
	harness_destroy(h);
	return s;
}

static void crash_once(enum scenario sc, enum exec_point point, size_t op, size_t fail_op,
		       const char *ref, unsigned *count)
{
	enum plan_mode mode;
	struct harness *h = build(sc, &mode);
	struct crash c = { .h = h, .point = point, .op = op };
	struct exec_env env = harness_exec_env(h);
	struct journal_nic before;
	struct exec_result res;
	struct plan p;
	char *now;
	size_t i;

	env.persist = crash_persist;
	env.fault = crash_fault;
	env.userdata = &c;
	/* on disk before the plan: what a restart finds when the plan wrote
	 * no intent */
	assert_int_equal(journal_nic_copy(&before, &h->j), 0);
	harness_plan(h, mode, &p);
	if (fail_op != SIZE_MAX) {
		unsigned nc, bc;

		for (i = 0; i < count_kernel(&p); i++)
			if (kth_kernel(&p, i, &nc, &bc) == fail_op)
				break;
		if (p.ops[fail_op].kind == PLAN_OP_BIND || p.ops[fail_op].kind == PLAN_OP_UNBIND)
			h->sb.fail_at = h->sb.calls + bc + 1;
		else
			fake_net_fail_at(h->net, nc + 1, EINVAL, "fake: injected failure");
	}
	(void)exec_plan(&env, &p, &h->j, &res);
	plan_clear(&p);
	fake_net_fail_at(h->net, 0, 0, NULL);
	h->sb.fail_at = 0;
	if (!c.crashed) {
		if (c.has_persisted)
			journal_nic_clear(&c.persisted);
		journal_nic_clear(&before);
		harness_destroy(h);
		return;
	}
	/* restart: what is on disk, settled against the kernel */
	fake_net_freeze(h->net, false);
	h->sb.frozen = false;
	assert_true(c.persists <= 1);
	if (point == EXEC_POINT_INTENT)
		assert_true(c.has_persisted); /* reached only after the intent was written */
	journal_nic_clear(&h->j);
	if (c.has_persisted) {
		h->j = c.persisted;
		journal_nic_clear(&before);
	} else {
		h->j = before;
	}
	harness_observe(h);
	(void)journal_resolve_pending(&h->j, &h->nic, h->sb.v, h->sb.n);
	assert_false(journal_nic_has_pending(&h->j));
	if (getenv("ZCRX_HARNESS_VERBOSE")) {
		json_object *o = store_journal_to_json(&h->j);
		char *d = fake_net_dump(h->net, h->ifindex);

		fprintf(stderr, "recovered journal: %s\nkernel:\n%s\n",
			json_object_to_json_string(o), d);
		json_object_put(o);
		free(d);
	}
	assert_int_equal(harness_apply(h, mode, 4), 0);
	if (harness_pending_ops(h, mode))
		fprintf(stderr, "crash in %s at point %d op %zu (fail %zd): not converged\n",
			sc_name[sc], point, op, (ssize_t)fail_op);
	assert_int_equal(harness_pending_ops(h, mode), 0);
	now = fake_net_dump(h->net, h->ifindex);
	if (strcmp(now, ref))
		fprintf(stderr, "crash in %s at point %d op %zu (fail %zd):\nwant:\n%s\ngot:\n%s\n",
			sc_name[sc], point, op, (ssize_t)fail_op, ref, now);
	assert_string_equal(now, ref);
	/* nothing orphaned: every rule and context on the NIC is ours */
	harness_observe(h);
	for (i = 0; i < h->nic.n_rules; i++)
		assert_true(journal_find_rule_exact(&h->j, &h->nic.rules[i]) >= 0);
	for (i = 0; i < h->nic.n_rss; i++)
		assert_true(h->nic.rss[i].id == 0 || journal_find_ctx_exact(&h->j, &h->nic.rss[i]) >= 0);
	assert_int_equal(h->j.n_bindings, h->sb.n);
	free(now);
	harness_destroy(h);
	(*count)++;
}

static void test_crash_anywhere(void **state)
{
	unsigned count = 0;
	int sc;

	for (sc = 0; sc < SC_MAX; sc++) {
		enum plan_mode mode;
		struct harness *h = build((enum scenario)sc, &mode);
		char *ref = reference((enum scenario)sc);
		struct plan p;
		size_t n, i;

		harness_plan(h, mode, &p);
		n = p.n_ops;
		plan_clear(&p);
		harness_destroy(h);
		crash_once((enum scenario)sc, EXEC_POINT_INTENT, 0, SIZE_MAX, ref, &count);
		for (i = 0; i < n; i++)
			crash_once((enum scenario)sc, EXEC_POINT_AFTER_OP, i, SIZE_MAX, ref, &count);
		/* a failure at the last op, then a crash during each undo step */
		for (i = 0; i + 1 < n; i++)
			crash_once((enum scenario)sc, EXEC_POINT_UNDO, i, n - 1, ref, &count);
		free(ref);
	}
	fprintf(stderr, "exec: recovered from %u simulated crashes\n", count);
	assert_true(count > 60);
}

static int refuse_persist(void *ud, const struct journal_nic *j, struct kerror *err)
{
	(*(unsigned *)ud)++;
	return -ENOSPC;
}

static void test_persist_refused(void **state)
{
	enum plan_mode mode;
	struct harness *h = build(SC_SETUP, &mode);
	struct exec_env env = harness_exec_env(h);
	struct exec_result res;
	struct journal_nic before;
	struct plan p;
	unsigned calls = fake_net_calls(h->net), persists = 0;
	char *d0 = fake_net_dump(h->net, h->ifindex), *d1;

	env.persist = refuse_persist;
	env.userdata = &persists;
	harness_plan(h, mode, &p);
	assert_int_equal(journal_nic_copy(&before, &h->j), 0);
	assert_int_equal(exec_plan(&env, &p, &h->j, &res), -ENOSPC);
	assert_int_equal(persists, 1);
	assert_int_equal(fake_net_calls(h->net), calls); /* not one kernel call */
	assert_true(journal_nic_equal(&before, &h->j));
	d1 = fake_net_dump(h->net, h->ifindex);
	assert_string_equal(d0, d1);
	free(d0);
	free(d1);
	plan_clear(&p);
	journal_nic_clear(&before);
	harness_destroy(h);
}

static void test_intent_is_written_first(void **state)
{
	enum plan_mode mode;
	struct harness *h = build(SC_SETUP, &mode);
	struct crash c = { .h = h, .point = EXEC_POINT_INTENT, .op = 999 };
	struct exec_env env = harness_exec_env(h);
	struct exec_result res;
	struct plan p;
	size_t i, n_ins = 0;

	env.persist = crash_persist;
	env.userdata = &c;
	harness_plan(h, mode, &p);
	for (i = 0; i < p.n_ops; i++)
		n_ins += p.ops[i].kind == PLAN_OP_RULE_INSERT;
	assert_int_equal(exec_plan(&env, &p, &h->j, &res), 0);
	assert_true(c.has_persisted);
	/* the intent: priors recorded, creates pending */
	assert_true(c.persisted.has_channels_prior);
	assert_true(c.persisted.has_rss0_prior);
	assert_true(c.persisted.has_ntuple_prior);
	assert_true(c.persisted.has_tds_prior);
	assert_int_equal(c.persisted.n_rules, n_ins);
	assert_true(journal_nic_has_pending(&c.persisted));
	/* and the final journal has none */
	assert_false(journal_nic_has_pending(&h->j));
	journal_nic_clear(&c.persisted);
	plan_clear(&p);
	harness_destroy(h);
}


/* Removing what the journal owns needs no intent up front: the journal on
 * disk already lists every state a crash can leave.  Only a rollback that
 * re-creates something writes one, before its first undo. */
static void test_teardown_intent_only_for_rollback(void **state)
{
	static const enum scenario scs[] = { SC_TEARDOWN, SC_TWO_CTX, SC_LOC_ANY };
	size_t s;

	for (s = 0; s < sizeof(scs) / sizeof(scs[0]); s++) {
		enum plan_mode mode;
		struct harness *h = build(scs[s], &mode);
		struct crash c = { .h = h, .point = EXEC_POINT_INTENT, .op = 999 };
		struct exec_env env = harness_exec_env(h);
		struct exec_result res;
		struct plan p;
		size_t i, n_del = 0, n_make = 0, last_del = 0;

		env.persist = crash_persist;
		env.userdata = &c;
		harness_plan(h, mode, &p);
		for (i = 0; i < p.n_ops; i++) {
			const struct plan_op *op = &p.ops[i];

			if (op->kind == PLAN_OP_RULE_DELETE || op->kind == PLAN_OP_RSS_DELETE) {
				n_del++;
				last_del = i;
			}
			n_make += op->kind == PLAN_OP_RULE_INSERT || op->kind == PLAN_OP_RSS_CREATE ||
				  op->kind == PLAN_OP_BIND ||
				  (plan_op_is_kernel(op) && op->prior == PLAN_PRIOR_RECORD);
		}
		assert_true(n_del >= 2);
		assert_int_equal(n_make, 0);
		assert_int_equal(exec_plan(&env, &p, &h->j, &res), 0);
		assert_int_equal(c.persists, 0);
		plan_clear(&p);
		harness_destroy(h);

		/* again, failing the last deletion: the re-creations are
		 * persisted as pending before the first undo */
		h = build(scs[s], &mode);
		memset(&c, 0, sizeof(c));
		c.h = h;
		c.point = EXEC_POINT_INTENT;
		c.op = 999;
		env = harness_exec_env(h);
		env.persist = crash_persist;
		env.userdata = &c;
		harness_plan(h, mode, &p);
		{
			unsigned nc, bc;
			size_t k;

			for (k = 0; k < count_kernel(&p); k++)
				if (kth_kernel(&p, k, &nc, &bc) == last_del)
					break;
			fake_net_fail_at(h->net, nc + 1, EINVAL, "fake: injected failure");
		}
		assert_true(exec_plan(&env, &p, &h->j, &res) < 0);
		fake_net_fail_at(h->net, 0, 0, NULL);
		assert_int_equal(res.failed, (ssize_t)last_del);
		assert_true(res.rolled_back);
		assert_int_equal(c.persists, 1);
		assert_true(journal_nic_has_pending(&c.persisted));
		assert_false(journal_nic_has_pending(&h->j));
		journal_nic_clear(&c.persisted);
		plan_clear(&p);
		harness_destroy(h);
	}
}

/* --- refused binds ------------------------------------------------------------------ */

struct refusals {
	unsigned n;
	const struct plan_op *op;
	struct kerror err;
	struct crash *crash;
};

static void note_refusal(void *ud, const struct plan_op *op, const struct kerror *err)
{
	struct refusals *r = ud;

	r->n++;
	r->op = op;
	r->err = *err;
}

static int refusal_persist(void *ud, const struct journal_nic *j, struct kerror *err)
{
	return crash_persist(((struct refusals *)ud)->crash, j, err);
}

static void refusal_fault(void *ud, enum exec_point pt, size_t op)
{
	crash_fault(((struct refusals *)ud)->crash, pt, op);
}

/* The second BIND of the plan, and the binder calls before it. */
static size_t second_bind(const struct plan *p, unsigned *bind_calls, size_t *n_binds)
{
	size_t i, at = SIZE_MAX, seen = 0;

	*bind_calls = 0;
	*n_binds = 0;
	for (i = 0; i < p->n_ops; i++) {
		if (p->ops[i].kind == PLAN_OP_BIND && ++seen == 2 && at == SIZE_MAX)
			at = i;
		if (at == SIZE_MAX &&
		    (p->ops[i].kind == PLAN_OP_BIND || p->ops[i].kind == PLAN_OP_UNBIND))
			(*bind_calls)++;
		*n_binds += p->ops[i].kind == PLAN_OP_BIND;
	}
	return at;
}

static size_t count_kind(const struct plan *p, enum plan_op_kind k)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_ops; i++)
		n += p->ops[i].kind == k;
	return n;
}

static void test_bind_refusal_left_out(void **state)
{
	enum plan_mode mode;
	struct harness *h = build(SC_SETUP, &mode);
	struct crash c = { .h = h, .point = EXEC_POINT_INTENT, .op = 999 };
	struct refusals rf = { .crash = &c };
	struct exec_env env = harness_exec_env(h);
	struct plan_bind_refusal pr = { 0 };
	struct exec_result res;
	struct plan p;
	size_t at, n_binds, n_rules, i;
	unsigned bc;
	char buf[1024];

	env.persist = refusal_persist;
	env.bind_refused = note_refusal;
	env.userdata = &rf;
	harness_plan(h, mode, &p);
	at = second_bind(&p, &bc, &n_binds);
	assert_true(n_binds >= 3);
	assert_int_equal(p.ops[p.n_ops - 1].kind, PLAN_OP_BIND); /* binds come last */
	n_rules = count_kind(&p, PLAN_OP_RULE_INSERT);
	h->sb.fail_at = h->sb.calls + bc + 1;
	assert_int_equal(exec_plan(&env, &p, &h->j, &res), 0);
	h->sb.fail_at = 0;
	assert_int_equal(res.failed, -1);
	assert_false(res.rolled_back);
	assert_int_equal(res.n_bind_refused, 1);
	assert_int_equal(res.n_applied, p.n_ops);
	assert_int_equal(rf.n, 1);
	assert_ptr_equal(rf.op, &p.ops[at]);
	assert_int_equal(rf.err.err, EIO);
	assert_string_equal(rf.err.msg, "stub: injected failure");
	assert_non_null(strstr(rf.err.op, "bind"));
	exec_result_format(&res, buf, sizeof(buf));
	assert_non_null(strstr(buf, "1 bind refused"));
	/* the other binds were made, the steering stays */
	assert_int_equal(h->sb.n, n_binds - 1);
	harness_observe(h);
	assert_int_equal(h->nic.n_rules, n_rules);
	assert_int_equal(h->j.n_rules, n_rules);
	/* the intent listed every bind as pending; the journal now lists what
	 * exists, with no trace of the refused one */
	assert_int_equal(c.persisted.n_bindings, n_binds);
	assert_false(journal_nic_has_pending(&h->j));
	assert_int_equal(h->j.n_bindings, n_binds - 1);
	for (i = 0; i < h->j.n_bindings; i++)
		assert_false(h->j.bindings[i].queue == p.ops[at].queue &&
			     h->j.bindings[i].tap_ifindex == p.ops[at].tap_ifindex);

	/* with the refusal as input, the planner agrees: nothing left to do,
	 * the attachment degraded with the binder's errno and text */
	pr.queue = p.ops[at].queue;
	pr.tap_ifindex = p.ops[at].tap_ifindex;
	memcpy(pr.owner, p.ops[at].owner, NIC_MAC_LEN);
	pr.err = rf.err;
	plan_clear(&p);
	harness_observe(h);
	h->pb.refused = &pr;
	h->pb.n_refused = 1;
	harness_plan(h, mode, &p);
	if (p.n_ops)
		harness_print_plan(&p);
	assert_int_equal(p.n_ops, 0);
	for (i = 0; i < h->n_atts; i++) {
		const struct attach_result *r = &h->atts[i].res;
		bool named = false;
		size_t k;

		if (memcmp(h->atts[i].id.mac, pr.owner, NIC_MAC_LEN))
			continue;
		for (k = 0; k < r->n_reasons; k++)
			named |= !strcmp(r->reasons[k].code, ATTACH_R_NO_ZEROCOPY) &&
				 r->reasons[k].err == EIO &&
				 strstr(r->reasons[k].msg, "stub: injected failure") != NULL;
		assert_true(named);
		assert_int_equal(r->state, ATTACH_STATE_DEGRADED);
	}
	journal_nic_clear(&c.persisted);
	plan_clear(&p);
	harness_destroy(h);
}

/* zcrxd stops right after the refused BIND: the journal on disk (the
 * intent) settles to exactly what exists, nothing orphaned, nothing lost. */
static void test_bind_refusal_crash(void **state)
{
	enum plan_mode mode;
	struct harness *h = build(SC_SETUP, &mode);
	struct crash c = { .h = h };
	struct refusals rf = { .crash = &c };
	struct exec_env env = harness_exec_env(h);
	struct exec_result res;
	struct plan p;
	size_t at, n_binds, i;
	unsigned bc;

	env.persist = refusal_persist;
	env.fault = refusal_fault;
	env.bind_refused = note_refusal;
	env.userdata = &rf;
	harness_plan(h, mode, &p);
	at = second_bind(&p, &bc, &n_binds);
	c.point = EXEC_POINT_AFTER_OP;
	c.op = at;
	h->sb.fail_at = h->sb.calls + bc + 1;
	(void)exec_plan(&env, &p, &h->j, &res);
	assert_true(c.crashed);
	assert_int_equal(rf.n, 1);
	fake_net_freeze(h->net, false);
	h->sb.frozen = false;
	h->sb.fail_at = 0;
	/* restart with what was on disk */
	journal_nic_clear(&h->j);
	h->j = c.persisted;
	harness_observe(h);
	(void)journal_resolve_pending(&h->j, &h->nic, h->sb.v, h->sb.n);
	assert_false(journal_nic_has_pending(&h->j));
	assert_int_equal(h->sb.n, 1); /* the first bind only: the crash came before the rest */
	assert_int_equal(h->j.n_bindings, h->sb.n);
	for (i = 0; i < h->nic.n_rules; i++)
		assert_true(journal_find_rule_exact(&h->j, &h->nic.rules[i]) >= 0);
	assert_int_equal(h->j.n_rules, h->nic.n_rules);
	plan_clear(&p);
	harness_destroy(h);
}

/* A BIND that something follows is no final step: its refusal rolls the
 * plan back even when the caller takes refusals. */
static void test_bind_refusal_not_last(void **state)
{
	enum plan_mode mode;
	struct harness *h = build(SC_SETUP, &mode);
	struct refusals rf = { 0 };
	struct exec_env env = harness_exec_env(h);
	struct exec_result res;
	struct plan_op *v;
	struct plan p;
	char *d0 = fake_net_dump(h->net, h->ifindex), *d1;
	size_t at, n_binds, i;
	unsigned bc;

	env.bind_refused = note_refusal;
	env.userdata = &rf;
	harness_plan(h, mode, &p);
	at = second_bind(&p, &bc, &n_binds);
	/* a journal-only LEASE after the binds (a lease the plan also makes) */
	for (i = 0; i < p.n_ops && p.ops[i].kind != PLAN_OP_LEASE; i++)
		;
	assert_true(i < p.n_ops);
	v = realloc(p.ops, (p.n_ops + 1) * sizeof(*v));
	assert_non_null(v);
	p.ops = v;
	p.ops[p.n_ops] = p.ops[i];
	p.n_ops++;
	h->sb.fail_at = h->sb.calls + bc + 1;
	assert_true(exec_plan(&env, &p, &h->j, &res) < 0);
	h->sb.fail_at = 0;
	assert_int_equal(res.failed, (ssize_t)at);
	assert_true(res.rolled_back);
	assert_int_equal(res.n_bind_refused, 0);
	assert_int_equal(rf.n, 0);
	assert_int_equal(h->sb.n, 0);
	d1 = fake_net_dump(h->net, h->ifindex);
	assert_string_equal(d0, d1);
	free(d0);
	free(d1);
	plan_clear(&p);
	harness_destroy(h);
}

/* Detach while the module tears the vNIC's binding down with its macvtap:
 * UNBIND finds nothing (ENOENT), which is what was asked. */
static void test_unbind_already_gone(void **state)
{
	int fail_last;

	for (fail_last = 0; fail_last < 2; fail_last++) {
		enum plan_mode mode;
		struct harness *h = build(SC_TEARDOWN, &mode);
		struct exec_env env = harness_exec_env(h);
		struct exec_result res;
		struct plan p;
		size_t i, n_unbind = 0, last = 0, before;
		uint32_t gone;

		harness_plan(h, mode, &p);
		for (i = 0; i < p.n_ops; i++) {
			n_unbind += p.ops[i].kind == PLAN_OP_UNBIND;
			if (plan_op_is_kernel(&p.ops[i]))
				last = i;
		}
		assert_true(n_unbind >= 2);
		assert_int_equal(p.ops[0].kind, PLAN_OP_UNBIND);
		gone = p.ops[0].binding_id;
		for (i = 0; i < h->sb.n; i++)
			if (h->sb.v[i].id == gone)
				h->sb.v[i] = h->sb.v[--h->sb.n];
		before = h->sb.n;
		if (fail_last) {
			unsigned nc, bc;
			size_t k;

			for (k = 0; k < count_kernel(&p); k++)
				if (kth_kernel(&p, k, &nc, &bc) == last)
					break;
			assert_true(p.ops[last].kind != PLAN_OP_BIND &&
				    p.ops[last].kind != PLAN_OP_UNBIND);
			fake_net_fail_at(h->net, nc + 1, EINVAL, "fake: injected failure");
		}
		if (!fail_last) {
			assert_int_equal(exec_plan(&env, &p, &h->j, &res), 0);
			assert_int_equal(h->sb.n, before - (n_unbind - 1));
		} else {
			assert_true(exec_plan(&env, &p, &h->j, &res) < 0);
			fake_net_fail_at(h->net, 0, 0, NULL);
			assert_true(res.rolled_back);
			assert_int_equal(res.n_undo_failed, 0);
			/* the others bound again, the gone one not */
			assert_int_equal(h->sb.n, before);
		}
		assert_int_equal(journal_find_binding(&h->j, gone), -1);
		assert_int_equal(h->j.n_bindings, h->sb.n);
		for (i = 0; i < h->sb.n; i++)
			assert_true(journal_find_binding(&h->j, h->sb.v[i].id) >= 0);
		assert_false(journal_nic_has_pending(&h->j));
		plan_clear(&p);
		harness_destroy(h);
	}
}

static void test_busy(void **state)
{
	enum plan_mode mode;
	struct harness *h = build(SC_SETUP, &mode);
	struct exec_env env = harness_exec_env(h);
	struct exec_result res;
	struct plan p;
	bool busy = true;

	env.busy = &busy;
	harness_plan(h, mode, &p);
	assert_int_equal(exec_plan(&env, &p, &h->j, &res), -EBUSY);
	busy = false;
	assert_int_equal(exec_plan(&env, &p, &h->j, &res), 0);
	assert_false(busy);
	plan_clear(&p);
	harness_destroy(h);
}

static void test_ntuple_ack_without_effect(void **state)
{
	struct fake_nic_cfg cfg;
	struct harness *h;
	struct exec_env env;
	struct exec_result res;
	struct plan p;
	char buf[512];

	/* the kernel ACKs rx-ntuple-filter but nothing changes: exec must
	 * notice (FEATURES_SET reply), not insert rules into the void */
	fake_nic_cfg_capable(&cfg, "eth0");
	cfg.ntuple_fixed = true;
	h = harness_new(&cfg);
	env = harness_exec_env(h);
	harness_attach(h, "vm1", 1, 1);
	harness_observe(h);
	h->nic.ntuple_fixed = false; /* pretend the model said it could change */
	harness_plan(h, PLAN_MODE_NORMAL, &p);
	assert_true(exec_plan(&env, &p, &h->j, &res) < 0);
	assert_int_equal(p.ops[res.failed].kind, PLAN_OP_SET_FEATURE);
	exec_result_format(&res, buf, sizeof(buf));
	assert_non_null(strstr(buf, "stayed off"));
	plan_clear(&p);
	harness_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail_every_op),
		cmocka_unit_test(test_failed_undo_is_reported),
		cmocka_unit_test(test_crash_anywhere),
		cmocka_unit_test(test_persist_refused),
		cmocka_unit_test(test_intent_is_written_first),
		cmocka_unit_test(test_teardown_intent_only_for_rollback),
		cmocka_unit_test(test_bind_refusal_left_out),
		cmocka_unit_test(test_bind_refusal_crash),
		cmocka_unit_test(test_bind_refusal_not_last),
		cmocka_unit_test(test_unbind_already_gone),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_ntuple_ack_without_effect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
