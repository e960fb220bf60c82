// SPDX-License-Identifier: MIT
/*
 * Bind ordering, end to end below the manager: the real planner and
 * executor drive the test-only fake NIC (tests/lib/fake-nic) and the
 * production binder (binder-mgr over binder-vhost) talking to the test-only
 * fake module (tests/lib/fake-binder).  Both fakes write one interleaved log
 * of the calls they received, in the order the kernel would see them:
 *   - BIND comes after the steering rule and header split, and last;
 *   - UNBIND comes first: before rule removal, before header split is
 *     restored, before a channel change (and the binding is made again after);
 *   - bindings survive a restart and are adopted (no calls), unwanted ones
 *     are unbound;
 *   - a macvtap that goes away ends its binding; an absent module leaves the
 *     attachment steered and degraded with the named reason;
 *   - a refused BIND costs neither the steering nor the other attachments
 *     their zero-copy (unless the module refuses the whole NIC), and is not
 *     asked again until forgotten;
 *   - Fallback= reaches BIND.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "binder-mgr.h"
#include "binder-vhost.h"
#include "fake-binder.h"
#include "plan-harness.h"

#define LOG_MAX 128

struct world {
	struct harness h;
	struct fake_binder *fb;
	struct binder_mgr *bm;
	struct nic_backend inner;
	pthread_mutex_t lock;
	char log[LOG_MAX][192];
	size_t n_log;
	bool xdp; /* observe an XDP program on the NIC */
	/* refused binds, remembered as the reconciler does (exec's callback) */
	struct plan_bind_refusal refused[16];
	size_t n_refused;
	int refuse_tap; /* the bind check refuses this tap (0: none) with EBUSY */
};

static struct world *W; /* the logging NIC wrapper's context */

static void add_log(struct world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_log(struct world *w, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&w->lock);
	if (w->n_log < LOG_MAX) {
		va_start(ap, fmt);
		vsnprintf(w->log[w->n_log++], sizeof(w->log[0]), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&w->lock);
}

/* The fake module reports from its thread, during the request. */
static void on_module(const char *line, void *userdata)
{
	if (strncmp(line, "GETFAMILY", 9) && strncmp(line, "PROBE", 5) && strncmp(line, "DUMP", 4) &&
	    strncmp(line, "GET ", 4))
		add_log(userdata, "binder %s", line);
}

/* --- a logging NIC backend around the fake NIC ----------------------------- */

static int l_list_links(void *be, struct nic_link **ret, size_t *n, struct kerror *err)
{
	return W->inner.ops->list_links(W->inner.be, ret, n, err);
}

static int l_observe(void *be, struct nic *nic, unsigned what, struct kerror *err)
{
	return W->inner.ops->observe(W->inner.be, nic, what, err);
}

static int l_set_channels(void *be, const struct nic_id *id, const struct nic_channels_req *req,
			  struct kerror *err)
{
	add_log(W, "nic set_channels combined=%u", req->combined);
	return W->inner.ops->set_channels(W->inner.be, id, req, err);
}

static int l_set_feature(void *be, const struct nic_id *id, const char *f, bool on,
			 bool *ret_active, struct kerror *err)
{
	add_log(W, "nic set_feature %s %s", f, on ? "on" : "off");
	return W->inner.ops->set_feature(W->inner.be, id, f, on, ret_active, err);
}

static int l_set_rings(void *be, const struct nic_id *id, const struct nic_rings_req *req,
		       struct kerror *err)
{
	add_log(W, "nic set_rings tds=%d/%u hds=%d/%u", req->has_tcp_data_split, req->tcp_data_split,
		req->has_hds_thresh, req->hds_thresh);
	return W->inner.ops->set_rings(W->inner.be, id, req, err);
}

static int l_rss_set(void *be, const struct nic_id *id, uint32_t ctx, const uint32_t *indir,
		     uint32_t n, struct kerror *err)
{
	add_log(W, "nic rss_set %u", ctx);
	return W->inner.ops->rss_set(W->inner.be, id, ctx, indir, n, err);
}

static int l_rss_create(void *be, const struct nic_id *id, const uint32_t *indir, uint32_t n,
			uint32_t *ret_ctx, struct kerror *err)
{
	add_log(W, "nic rss_create");
	return W->inner.ops->rss_create(W->inner.be, id, indir, n, ret_ctx, err);
}

static int l_rss_delete(void *be, const struct nic_id *id, uint32_t ctx, struct kerror *err)
{
	add_log(W, "nic rss_delete %u", ctx);
	return W->inner.ops->rss_delete(W->inner.be, id, ctx, err);
}

static int l_rule_insert(void *be, const struct nic_id *id, struct nic_rule *rule,
			 struct kerror *err)
{
	add_log(W, "nic rule_insert queue=%u", rule->queue);
	return W->inner.ops->rule_insert(W->inner.be, id, rule, err);
}

static int l_rule_delete(void *be, const struct nic_id *id, uint32_t loc, struct kerror *err)
{
	add_log(W, "nic rule_delete %u", loc);
	return W->inner.ops->rule_delete(W->inner.be, id, loc, err);
}

static const struct nic_ops logging_nic = {
	.name = "logging-fake",
	.list_links = l_list_links,
	.observe = l_observe,
	.set_channels = l_set_channels,
	.set_feature = l_set_feature,
	.set_rings = l_set_rings,
	.rss_set = l_rss_set,
	.rss_create = l_rss_create,
	.rss_delete = l_rss_delete,
	.rule_insert = l_rule_insert,
	.rule_delete = l_rule_delete,
};

/* --- the daemon's loop, in small ---------------------------------------------- */

static void destroy_vhost(void *be)
{
	binder_vhost_free(be);
}

static void start_binder(struct world *w)
{
	struct binder_vhost *bv;

	assert_int_equal(fake_binder_connect(w->fb, &bv), 0);
	assert_int_equal(binder_mgr_new(NULL, binder_vhost_backend(bv), destroy_vhost, NULL, &w->bm),
			 0);
	assert_int_equal(binder_mgr_start(w->bm), 0);
}

/* The planner's binder input from binder-mgr, as the reconciler fills it. */
static struct binder_binding *fill_binder(struct world *w)
{
	const struct binder_mgr_nic *n;
	struct binder_binding *v = NULL;
	size_t nv = 0;

	memset(&w->h.pb, 0, sizeof(w->h.pb));
	w->h.pb.available = binder_mgr_available(w->bm);
	w->h.pb.resolve_err = *binder_mgr_error(w->bm);
	if (w->h.pb.available) {
		n = binder_mgr_probe(w->bm, w->h.ifindex);
		w->h.pb.probed = n->probed;
		w->h.pb.probe = n->probe;
		w->h.pb.probe_err = n->err;
		assert_int_equal(binder_mgr_on_nic(w->bm, w->h.ifindex, &v, &nv), 0);
	}
	w->h.pb.bindings = v;
	w->h.pb.n_bindings = nv;
	w->h.pb.refused = w->refused;
	w->h.pb.n_refused = w->n_refused;
	return v;
}

static void on_bind_refused(void *userdata, const struct plan_op *op, const struct kerror *err)
{
	struct world *w = userdata;
	struct plan_bind_refusal *rf;

	add_log(w, "exec bind refused queue=%u tap=%d (%s)", op->queue, op->tap_ifindex,
		kerror_errno_name(err->err));
	if (binder_refusal_is_nic_wide(err->err) || w->n_refused == 16)
		return; /* the NIC's verdict, in binder-mgr */
	rf = &w->refused[w->n_refused++];
	memset(rf, 0, sizeof(*rf));
	rf->queue = op->queue;
	rf->tap_ifindex = op->tap_ifindex;
	memcpy(rf->owner, op->owner, NIC_MAC_LEN);
	rf->err = *err;
}

/* The test module refuses one tap's binds, as a queue with another provider
 * would be refused. */
static int bind_check(int ifindex, uint32_t queue, int tap, char *msg, size_t size, void *ud)
{
	struct world *w = ud;

	if (tap != w->refuse_tap)
		return 0;
	snprintf(msg, size, "queue %u already has a memory provider", queue);
	return EBUSY;
}

/* observe -> plan -> exec until a plan is empty; returns the last exec's
 * result.  The attachments' results are those of the final plan. */
static int apply(struct world *w)
{
	struct exec_env env = { 0 };
	int r = 0;

	env.nic.ops = &logging_nic;
	env.nic.be = w;
	env.binder = binder_mgr_backend(w->bm);
	env.bind_refused = on_bind_refused;
	env.userdata = w;
	for (int round = 0; round < 6; round++) {
		struct binder_binding *v;
		struct exec_result res;
		struct plan p;

		(void)binder_mgr_process(w->bm);
		w->h.use_binder = false;
		harness_observe(&w->h);
		w->h.nic.has_xdp = w->xdp;
		v = fill_binder(w);
		w->h.use_binder = true;
		harness_plan(&w->h, PLAN_MODE_NORMAL, &p);
		free(v);
		if (!p.n_ops) {
			plan_clear(&p);
			return r;
		}
		r = exec_plan(&env, &p, &w->h.j, &res);
		if (r < 0 && res.failed >= 0 && plan_learn(&w->h.learned, &p.ops[res.failed], &res.err)) {
			plan_clear(&p); /* as the reconciler does: plan again */
			continue;
		}
		if (r < 0) {
			char buf[1024];

			fprintf(stderr, "exec: %s\n", exec_result_format(&res, buf, sizeof(buf)));
			harness_print_plan(&p);
			plan_clear(&p);
			return r;
		}
		plan_clear(&p);
	}
	fail_msg("no convergence");
	return r;
}

/* Index of the first log line starting with prefix at or after from, -1. */
static int find(struct world *w, const char *prefix, int from)
{
	for (size_t i = (size_t)from; i < w->n_log; i++)
		if (!strncmp(w->log[i], prefix, strlen(prefix)))
			return (int)i;
	return -1;
}

static void dump_log(struct world *w)
{
	for (size_t i = 0; i < w->n_log; i++)
		fprintf(stderr, "  log %zu: %s\n", i, w->log[i]);
}

static void clear_log(struct world *w)
{
	pthread_mutex_lock(&w->lock);
	w->n_log = 0;
	pthread_mutex_unlock(&w->lock);
}

static int setup_opts(void **state, bool absent)
{
	struct fake_binder_options o = { .absent = absent };
	struct fake_nic_cfg cfg;
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	pthread_mutex_init(&w->lock, NULL);
	fake_nic_cfg_capable(&cfg, "zxbo0");
	harness_init(&w->h, &cfg);
	harness_policy(&w->h, 4, 0);
	w->inner = fake_net_backend(w->h.net);
	W = w;
	assert_int_equal(fake_binder_new_tmp("order", &o, &w->fb), 0);
	fake_binder_set_observer(w->fb, on_module, w);
	assert_int_equal(fake_binder_start(w->fb), 0);
	start_binder(w);
	*state = w;
	return 0;
}

static int setup(void **state)
{
	return setup_opts(state, false);
}

static int setup_absent(void **state)
{
	return setup_opts(state, true);
}

static int teardown(void **state)
{
	struct world *w = *state;

	binder_mgr_free(w->bm);
	fake_binder_free(w->fb);
	harness_free(&w->h);
	pthread_mutex_destroy(&w->lock);
	free(w);
	W = NULL;
	return 0;
}

static const struct attach_queue *queue0(struct world *w)
{
	assert_true(w->h.n_atts >= 1);
	assert_true(w->h.atts[0].res.n_queues >= 1);
	return &w->h.atts[0].res.queues[0];
}

/* --- tests --------------------------------------------------------------------- */

static void test_bind_after_rule_and_header_split(void **state)
{
	struct world *w = *state;
	int rings, rule, bind;

	harness_attach(&w->h, "vm0", 1, 1);
	assert_int_equal(apply(w), 0);
	rings = find(w, "nic set_rings tds=1/2 hds=", 0);
	rule = find(w, "nic rule_insert", 0);
	bind = find(w, "binder BIND", 0);
	if (rings < 0 || rule < 0 || bind < 0 || bind != (int)w->n_log - 1)
		dump_log(w);
	assert_true(rings >= 0);
	assert_true(rule >= 0);
	assert_true(bind > rule && bind > rings);
	assert_int_equal(bind, (int)w->n_log - 1); /* nothing after the bind */
	assert_non_null(strstr(w->log[bind], "tap=101 fallback=copy -> 1"));
	assert_int_equal(find(w, "binder BIND", bind + 1), -1);

	assert_true(queue0(w)->bound);
	assert_int_equal(queue0(w)->binding_id, 1);
	assert_int_equal(queue0(w)->binding_state, BINDER_STATE_PENDING);
	assert_int_equal(w->h.atts[0].res.state, ATTACH_STATE_PENDING);
	assert_true(attach_result_has_reason(&w->h.atts[0].res, ATTACH_R_NO_ZEROCOPY) == false);

	/* the guest posts buffers: ACTIVE arrives, the attachment is active */
	assert_int_equal(fake_binder_set_state(w->fb, 1, BINDER_STATE_ACTIVE, 0), 0);
	clear_log(w);
	assert_int_equal(apply(w), 0);
	assert_int_equal(w->n_log, 0); /* nothing to do in the kernel */
	assert_int_equal(queue0(w)->binding_state, BINDER_STATE_ACTIVE);
	assert_int_equal(w->h.atts[0].res.state, ATTACH_STATE_ACTIVE);

	/* copy fallback in use: degraded, with the module's errno */
	assert_int_equal(fake_binder_set_state(w->fb, 1, BINDER_STATE_DEGRADED, ENOBUFS), 0);
	assert_int_equal(apply(w), 0);
	assert_int_equal(w->h.atts[0].res.state, ATTACH_STATE_DEGRADED);
	assert_true(attach_result_has_reason(&w->h.atts[0].res, ATTACH_R_BINDING));
}

static void test_fallback_drop_reaches_bind(void **state)
{
	struct world *w = *state;
	int bind;

	w->h.pol.fallback = CONFIG_FALLBACK_DROP;
	harness_attach(&w->h, "vm0", 1, 1);
	assert_int_equal(apply(w), 0);
	bind = find(w, "binder BIND", 0);
	assert_true(bind >= 0);
	assert_non_null(strstr(w->log[bind], "fallback=drop"));
}

static void test_unbind_first_on_detach(void **state)
{
	struct world *w = *state;
	int unbind, rule, rings;

	harness_attach(&w->h, "vm0", 1, 1);
	assert_int_equal(apply(w), 0);
	clear_log(w);
	assert_true(harness_detach(&w->h, 1));
	assert_int_equal(apply(w), 0);
	unbind = find(w, "binder UNBIND 1 -> ok", 0);
	rule = find(w, "nic rule_delete", 0);
	rings = find(w, "nic set_rings", 0);
	if (unbind != 0 || rule < 0 || rings < 0)
		dump_log(w);
	assert_int_equal(unbind, 0); /* the very first call */
	assert_true(rule > unbind);
	assert_true(rings > rule); /* header split restored after the unbind */
	/* to the values recorded before zcrxd changed them */
	assert_string_equal(w->log[rings], "nic set_rings tds=1/1 hds=1/256");
	assert_int_equal(w->h.j.has_tds_prior || w->h.j.has_hds_prior, false);
	assert_int_equal(find(w, "binder BIND", 0), -1);
	assert_int_equal(fake_binder_bindings(w->fb, NULL, 0), 0);
}

static void test_unbind_around_channel_change(void **state)
{
	struct world *w = *state;
	int unbind, chan, bind;

	harness_attach(&w->h, "vm0", 1, 1);
	assert_int_equal(apply(w), 0);
	clear_log(w);
	w->h.pol.channels = 12; /* Channels=12: the queue count changes */
	assert_int_equal(apply(w), 0);
	unbind = find(w, "binder UNBIND", 0);
	chan = find(w, "nic set_channels", 0);
	bind = find(w, "binder BIND", 0);
	if (unbind != 0 || chan < 0 || bind < chan)
		dump_log(w);
	assert_int_equal(unbind, 0);
	assert_true(chan > unbind);
	assert_true(bind > chan);
	assert_int_equal(bind, (int)w->n_log - 1);
	assert_true(queue0(w)->bound);
	assert_int_equal(fake_binder_bindings(w->fb, NULL, 0), 1);
}

static void test_adopt_after_restart(void **state)
{
	struct world *w = *state;
	uint32_t id;

	harness_attach(&w->h, "vm0", 1, 1);
	harness_attach(&w->h, "vm1", 2, 1);
	assert_int_equal(apply(w), 0);
	id = w->h.atts[0].res.queues[0].binding_id;
	assert_int_equal(fake_binder_bindings(w->fb, NULL, 0), 2);

	/* zcrxd restarts (the journal is what state.json kept); vm1 was
	 * detached while it was down */
	binder_mgr_free(w->bm);
	assert_true(harness_detach(&w->h, 2));
	start_binder(w);
	assert_int_equal(binder_mgr_count(w->bm), 2);
	clear_log(w);
	assert_int_equal(apply(w), 0);
	/* vm0's binding adopted as is; vm1's unbound first, then its rule */
	if (w->n_log != 2)
		dump_log(w);
	assert_int_equal(w->n_log, 2);
	assert_int_equal(find(w, "binder UNBIND", 0), 0);
	assert_int_equal(find(w, "nic rule_delete", 0), 1);
	assert_int_equal(find(w, "binder BIND", 0), -1);
	assert_true(queue0(w)->bound);
	assert_int_equal(queue0(w)->binding_id, id);
	assert_int_equal(fake_binder_bindings(w->fb, NULL, 0), 1);
	/* and then nothing more to do */
	clear_log(w);
	assert_int_equal(apply(w), 0);
	assert_int_equal(w->n_log, 0);
}

static void test_macvtap_goes_away(void **state)
{
	struct world *w = *state;

	harness_attach(&w->h, "vm0", 1, 1);
	assert_int_equal(apply(w), 0);
	clear_log(w);
	/* the macvtap is deleted: the module tears the binding down, the
	 * vNIC's tap is no longer known */
	assert_int_equal(fake_binder_link_gone(w->fb, 101), 1);
	w->h.atts[0].id.tap_ifindex = 0;
	assert_int_equal(apply(w), 0);
	assert_int_equal(find(w, "binder UNBIND", 0), -1); /* nothing to unbind */
	assert_int_equal(find(w, "binder BIND", 0), -1);
	assert_int_equal(find(w, "nic rule_delete", 0), -1); /* steering stays */
	assert_false(queue0(w)->bound);
	assert_int_equal(w->h.j.n_bindings, 0); /* forgotten */
	assert_true(attach_result_has_reason(&w->h.atts[0].res, ATTACH_R_NO_ZEROCOPY));
	/* a new macvtap: bound again */
	w->h.atts[0].id.tap_ifindex = 111;
	assert_int_equal(apply(w), 0);
	assert_true(find(w, "binder BIND ifindex=", 0) >= 0);
	assert_true(queue0(w)->bound);
}

static void test_absent_module_degrades(void **state)
{
	struct world *w = *state;
	const struct attach_result *r;
	bool named = false;
	int rule;

	harness_attach(&w->h, "vm0", 1, 1);
	assert_int_equal(apply(w), 0);
	rule = find(w, "nic rule_insert", 0);
	assert_true(rule >= 0); /* steering happens */
	assert_int_equal(find(w, "binder", 0), -1);
	r = &w->h.atts[0].res;
	assert_int_equal(r->state, ATTACH_STATE_DEGRADED);
	for (size_t i = 0; i < r->n_reasons; i++)
		if (!strcmp(r->reasons[i].code, ATTACH_R_NO_ZEROCOPY) && r->reasons[i].err == ENOENT &&
		    !strcmp(r->reasons[i].msg, "no zero-copy (kernel module vhost_zcrx not available)"))
			named = true;
		else
			fprintf(stderr, "reason %s: %s\n", r->reasons[i].code, r->reasons[i].msg);
	assert_true(named);
	assert_false(queue0(w)->bound);

	/* the module is loaded: bound now, the rule untouched */
	fake_binder_set_present(w->fb, true);
	clear_log(w);
	assert_int_equal(apply(w), 0);
	assert_true(binder_mgr_available(w->bm));
	assert_int_equal(find(w, "nic rule_", 0), -1);
	assert_true(find(w, "binder BIND", 0) >= 0);
	assert_int_equal(find(w, "binder BIND", 0), (int)w->n_log - 1);
	assert_true(queue0(w)->bound);
	assert_false(attach_result_has_reason(&w->h.atts[0].res, ATTACH_R_NO_ZEROCOPY));

	/* and unloaded again: the binding went with it, steering stays */
	fake_binder_set_present(w->fb, false);
	clear_log(w);
	assert_int_equal(apply(w), 0);
	assert_int_equal(find(w, "nic rule_delete", 0), -1);
	assert_int_equal(find(w, "binder", 0), -1);
	assert_false(queue0(w)->bound);
	assert_int_equal(w->h.atts[0].res.state, ATTACH_STATE_DEGRADED);
}

/* The module refuses the NIC at PROBE: the attachment keeps its steering
 * and is degraded with the module's errno and text, not failed. */
static void test_probe_refused_degrades(void **state)
{
	struct world *w = *state;
	const struct attach_reason *why = NULL;
	const struct attach_result *r;

	fake_binder_refuse_nic(w->fb, w->h.ifindex, EBUSY, "queue already has a memory provider");
	harness_attach(&w->h, "vm0", 1, 1);
	if (apply(w) != 0)
		dump_log(w);
	r = &w->h.atts[0].res;
	for (size_t i = 0; i < r->n_reasons; i++)
		if (!strcmp(r->reasons[i].code, ATTACH_R_NO_ZEROCOPY))
			why = &r->reasons[i];
	assert_non_null(why);
	assert_int_equal(why->err, EBUSY);
	assert_non_null(strstr(why->msg, "queue already has a memory provider"));
	assert_int_equal(r->state, ATTACH_STATE_DEGRADED);
	assert_int_equal(r->n_rules, 1); /* steered */
	assert_false(queue0(w)->bound);
}

static int count_log(struct world *w, const char *prefix)
{
	int n = 0;

	for (int i = find(w, prefix, 0); i >= 0; i = find(w, prefix, i + 1))
		n++;
	return n;
}

static const struct attach_reason *reason_of(const struct attach *a, const char *code)
{
	for (size_t i = 0; i < a->res.n_reasons; i++)
		if (!strcmp(a->res.reasons[i].code, code))
			return &a->res.reasons[i];
	return NULL;
}

/* One queue's BIND refused (EBUSY): that attachment stays steered, is
 * degraded with the module's errno and text, and is not asked again on the
 * next passes; the NIC keeps its zero-copy: the next attachment binds. */
static void test_bind_refused_keeps_steering(void **state)
{
	struct world *w = *state;
	const struct attach_reason *why;
	struct nic_cap cap;
	uint32_t q0;

	w->refuse_tap = 101; /* vm0's macvtap */
	fake_binder_set_bind_check(w->fb, bind_check, w);
	harness_attach(&w->h, "vm0", 1, 1);
	assert_int_equal(apply(w), 0);
	q0 = queue0(w)->queue;
	/* one BIND, refused, and nothing undone: the rule went in once */
	if (count_log(w, "binder BIND") != 1 || count_log(w, "nic rule_delete") != 0)
		dump_log(w);
	assert_int_equal(count_log(w, "binder BIND"), 1);
	assert_true(find(w, "exec bind refused", 0) >= 0);
	assert_int_equal(count_log(w, "nic rule_insert"), 1);
	assert_int_equal(count_log(w, "nic rule_delete"), 0);
	assert_int_equal(count_log(w, "nic set_rings"), 1); /* header split not undone */
	assert_int_equal(w->h.atts[0].res.n_rules, 1);
	assert_int_equal(w->h.atts[0].res.state, ATTACH_STATE_DEGRADED);
	assert_false(queue0(w)->bound);
	why = reason_of(&w->h.atts[0], ATTACH_R_NO_ZEROCOPY);
	assert_non_null(why);
	assert_int_equal(why->err, EBUSY);
	assert_non_null(strstr(why->msg, "already has a memory provider"));
	assert_non_null(strstr(why->msg, "refused to bind queue"));
	assert_int_equal(w->h.j.n_bindings, 0); /* no pending intent left */
	assert_int_equal(w->h.j.n_rules, 1);

	/* the NIC is still bindable */
	binder_mgr_nic_cap(w->bm, w->h.ifindex, &cap);
	assert_int_equal(cap.state, NIC_CAP_YES);

	/* planning again does not ask again */
	clear_log(w);
	assert_int_equal(apply(w), 0);
	assert_int_equal(w->n_log, 0);

	/* another attachment on the NIC binds */
	harness_attach(&w->h, "vm1", 2, 1);
	assert_int_equal(apply(w), 0);
	assert_int_equal(count_log(w, "binder BIND"), 1);
	assert_non_null(strstr(w->log[find(w, "binder BIND", 0)], "tap=102 "));
	assert_true(w->h.atts[1].res.queues[0].bound);
	assert_null(reason_of(&w->h.atts[1], ATTACH_R_NO_ZEROCOPY));
	assert_int_equal(w->h.atts[0].res.state, ATTACH_STATE_DEGRADED);
	assert_int_equal(queue0(w)->queue, q0); /* vm0 untouched */

	/* the provider went away and the refusal is forgotten (a retry
	 * trigger): asked once more, and bound, the rule still untouched */
	w->refuse_tap = 0;
	w->n_refused = 0;
	clear_log(w);
	assert_int_equal(apply(w), 0);
	assert_int_equal(count_log(w, "binder BIND"), 1);
	assert_int_equal(count_log(w, "nic rule_"), 0);
	assert_true(queue0(w)->bound);
	assert_null(reason_of(&w->h.atts[0], ATTACH_R_NO_ZEROCOPY));
}

/* EOPNOTSUPP at BIND speaks for the whole NIC: the NIC's verdict (the
 * matrix says why), no further BIND on it, and still no steering undone. */
static void test_bind_refused_nic_wide(void **state)
{
	struct world *w = *state;
	const struct attach_reason *why;
	struct nic_cap cap;

	fake_binder_refuse_next_bind(w->fb, EOPNOTSUPP, "driver has no queue management ops");
	harness_attach(&w->h, "vm0", 1, 1);
	assert_int_equal(apply(w), 0);
	assert_int_equal(count_log(w, "binder BIND"), 1);
	assert_int_equal(count_log(w, "nic rule_insert"), 1);
	assert_int_equal(count_log(w, "nic rule_delete"), 0);
	assert_int_equal(w->n_refused, 0);
	why = reason_of(&w->h.atts[0], ATTACH_R_NO_ZEROCOPY);
	assert_non_null(why);
	assert_int_equal(why->err, EOPNOTSUPP);
	assert_non_null(strstr(why->msg, "driver has no queue management ops"));
	assert_int_equal(w->h.atts[0].res.state, ATTACH_STATE_DEGRADED);
	binder_mgr_nic_cap(w->bm, w->h.ifindex, &cap);
	assert_int_equal(cap.state, NIC_CAP_NO);
	assert_int_equal(cap.err, EOPNOTSUPP);
	assert_string_equal(cap.msg, "vhost_zcrx: driver has no queue management ops");

	/* a second attachment is steered, not bound */
	clear_log(w);
	harness_attach(&w->h, "vm1", 2, 1);
	assert_int_equal(apply(w), 0);
	assert_int_equal(count_log(w, "binder"), 0);
	assert_int_equal(count_log(w, "nic rule_insert"), 1);
	assert_non_null(reason_of(&w->h.atts[1], ATTACH_R_NO_ZEROCOPY));

	/* forgotten (the NIC changed): tried again, and both bound */
	binder_mgr_forget_nic(w->bm, w->h.ifindex);
	clear_log(w);
	assert_int_equal(apply(w), 0);
	assert_int_equal(count_log(w, "binder BIND"), 2);
	assert_true(w->h.atts[0].res.queues[0].bound);
	assert_true(w->h.atts[1].res.queues[0].bound);
}

static const struct attach_reason *zc_reason(struct world *w)
{
	const struct attach_result *r = &w->h.atts[0].res;

	for (size_t i = 0; i < r->n_reasons; i++)
		if (!strcmp(r->reasons[i].code, ATTACH_R_NO_ZEROCOPY))
			return &r->reasons[i];
	return NULL;
}

/* Queue readiness: each unmet condition is a named reason, never a failure,
 * and nothing is bound. */
static void test_readiness_xdp(void **state)
{
	struct world *w = *state;

	w->xdp = true;
	harness_attach(&w->h, "vm0", 1, 1);
	assert_int_equal(apply(w), 0);
	assert_int_equal(find(w, "binder", 0), -1);
	assert_int_equal(find(w, "nic set_rings", 0), -1);
	assert_true(find(w, "nic rule_insert", 0) >= 0);
	assert_non_null(zc_reason(w));
	assert_non_null(strstr(zc_reason(w)->msg, "XDP program"));
	assert_int_equal(w->h.atts[0].res.state, ATTACH_STATE_DEGRADED);
}

static void test_readiness_header_split_off(void **state)
{
	struct world *w = *state;

	w->h.pol.header_split = CONFIG_HEADER_SPLIT_OFF;
	harness_attach(&w->h, "vm0", 1, 1);
	assert_int_equal(apply(w), 0);
	assert_int_equal(find(w, "binder", 0), -1);
	assert_int_equal(find(w, "nic set_rings", 0), -1);
	assert_non_null(zc_reason(w));
	assert_non_null(strstr(zc_reason(w)->msg, "HeaderSplit=off"));
}

static void test_readiness_no_header_split(void **state)
{
	struct world *w = *state;

	/* a NIC whose driver cannot split headers, and a module that needs it */
	harness_free(&w->h);
	{
		struct fake_nic_cfg cfg;

		fake_nic_cfg_capable(&cfg, "zxbo0");
		cfg.header_split = false;
		cfg.hds_thresh = false;
		harness_init(&w->h, &cfg);
		harness_policy(&w->h, 4, 0);
		w->inner = fake_net_backend(w->h.net);
	}
	harness_attach(&w->h, "vm0", 1, 1);
	assert_int_equal(apply(w), 0);
	assert_int_equal(find(w, "binder", 0), -1);
	assert_non_null(zc_reason(w));
	assert_non_null(strstr(zc_reason(w)->msg, "header split not available"));

	/* a module that does not need it binds all the same */
	fake_binder_set_features(w->fb, w->h.ifindex, BINDER_FEATURE_COPY_FALLBACK);
	binder_mgr_forget_nic(w->bm, w->h.ifindex);
	clear_log(w);
	assert_int_equal(apply(w), 0);
	assert_true(find(w, "binder BIND", 0) >= 0);
	assert_null(zc_reason(w));
}

static void test_readiness_foreign_provider(void **state)
{
	struct world *w = *state;
	int bind;
	uint32_t q;

	/* every pool queue but one already has someone else's provider: the
	 * planner takes the free one */
	harness_observe(&w->h);
	for (q = 4; q < 7; q++)
		assert_int_equal(fake_net_ext_set_provider(w->h.net, w->h.ifindex, q,
							   NIC_PROVIDER_IO_URING), 0);
	harness_attach(&w->h, "vm0", 1, 1);
	assert_int_equal(apply(w), 0);
	bind = find(w, "binder BIND", 0);
	if (bind < 0)
		dump_log(w);
	assert_true(bind >= 0);
	assert_non_null(strstr(w->log[bind], "queue=7 "));
	assert_int_equal(queue0(w)->queue, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_after_rule_and_header_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_drop_reaches_bind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unbind_first_on_detach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unbind_around_channel_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt_after_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_macvtap_goes_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_module_degrades, setup_absent, teardown),
		cmocka_unit_test_setup_teardown(test_probe_refused_degrades, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_refused_keeps_steering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_refused_nic_wide, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readiness_xdp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readiness_header_split_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readiness_no_header_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readiness_foreign_provider, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
