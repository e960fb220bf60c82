// SPDX-License-Identifier: MIT
/*
 * plan-harness — TEST-ONLY (see plan-harness.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nic-monitor.h"
#include "plan-harness.h"

/* --- stub binder --------------------------------------------------------------- */

static int sb_gate(struct stub_binder *b, const char *op, struct kerror *err)
{
	b->calls++;
	if (b->frozen)
		return 1;
	if (b->fail_at && b->calls == b->fail_at)
		return kerror_set(err, EIO, "binder", op, "stub: injected failure");
	return 0;
}

static int sb_resolve(void *be, struct kerror *err)
{
	struct stub_binder *b = be;

	return b->available ? 0 : kerror_set(err, ENOENT, NULL, "resolve", "family not found");
}

static int sb_probe(void *be, int ifindex, struct binder_probe *ret, struct kerror *err)
{
	struct stub_binder *b = be;

	ret->features = b->features;
	ret->max_bindings = 64;
	return 0;
}

static int sb_bind(void *be, int ifindex, uint32_t queue, int tap, uint32_t fallback,
		   uint32_t *ret_id, struct kerror *err)
{
	struct stub_binder *b = be;
	struct binder_binding *x;
	int r = sb_gate(b, "bind", err);

	if (r)
		return r > 0 ? 0 : r;
	if (b->n >= sizeof(b->v) / sizeof(b->v[0]))
		return kerror_set(err, ENOSPC, NULL, "bind", NULL);
	if (b->refuse_tap_mod && tap % b->refuse_tap_mod == 0)
		return kerror_set(err, EBUSY, NULL, "bind", "stub: queue has another provider");
	x = &b->v[b->n++];
	memset(x, 0, sizeof(*x));
	x->id = ++b->next_id;
	x->ifindex = ifindex;
	x->queue = queue;
	x->tap_ifindex = tap;
	x->fallback = fallback;
	x->state = BINDER_STATE_ACTIVE;
	*ret_id = x->id;
	return 0;
}

static int sb_unbind(void *be, uint32_t id, struct kerror *err)
{
	struct stub_binder *b = be;
	size_t i;
	int r = sb_gate(b, "unbind", err);

	if (r)
		return r > 0 ? 0 : r;
	for (i = 0; i < b->n; i++)
		if (b->v[i].id == id) {
			b->v[i] = b->v[--b->n];
			return 0;
		}
	return kerror_set(err, ENOENT, NULL, "unbind", "no such binding");
}

static const struct binder_ops stub_ops = {
	.name = "stub",
	.resolve = sb_resolve,
	.probe = sb_probe,
	.bind = sb_bind,
	.unbind = sb_unbind,
};

/* --- harness ----------------------------------------------------------------------- */

void harness_init(struct harness *h, const struct fake_nic_cfg *cfg)
{
	memset(h, 0, sizeof(*h));
	if (fake_net_new(&h->net) < 0 || fake_net_add(h->net, cfg, &h->ifindex) < 0)
		abort();
	snprintf(h->name, sizeof(h->name), "%s", cfg->name);
	journal_nic_init(&h->j, h->name, h->ifindex);
	nic_init(&h->nic);
	harness_policy(h, 2, 0);
	h->binder.ops = &stub_ops;
	h->binder.be = &h->sb;
}

void harness_free(struct harness *h)
{
	size_t i;

	for (i = 0; i < h->n_atts; i++)
		attach_clear(&h->atts[i]);
	journal_nic_clear(&h->j);
	nic_clear(&h->nic);
	fake_net_free(h->net);
}

struct harness *harness_new(const struct fake_nic_cfg *cfg)
{
	struct harness *h = malloc(sizeof(*h));

	if (!h)
		abort();
	harness_init(h, cfg);
	return h;
}

struct harness *harness_new_veth8(const char *name)
{
	struct fake_nic_cfg cfg;
	struct harness *h;

	fake_nic_cfg_veth(&cfg, name);
	cfg.rx_max = cfg.tx_max = 8;
	cfg.rx = cfg.tx = 8;
	h = harness_new(&cfg);
	harness_policy(h, 4, 0);
	return h;
}

void harness_destroy(struct harness *h)
{
	harness_free(h);
	free(h);
}

struct exec_env harness_exec_env(struct harness *h)
{
	struct exec_env env = { .nic = fake_net_backend(h->net), .binder = &h->binder };

	return env;
}

void harness_policy(struct harness *h, uint32_t reserve_count, uint32_t channels)
{
	memset(&h->pol, 0, sizeof(h->pol));
	snprintf(h->pol.name, sizeof(h->pol.name), "%s", h->name);
	h->pol.reserve_count = reserve_count;
	h->pol.channels = channels;
	h->pol.steering[0] = CONFIG_STEERING_MAC;
	h->pol.steering[1] = CONFIG_STEERING_IP;
	h->pol.n_steering = 2;
	h->pol.header_split = CONFIG_HEADER_SPLIT_AUTO;
	h->pol.on_exhaustion = CONFIG_ON_EXHAUSTION_DEGRADE;
	h->pol.fallback = CONFIG_FALLBACK_COPY;
}

static void note_refusal(void *ud, const struct plan_op *op, const struct kerror *err)
{
	struct harness *h = ud;
	struct plan_bind_refusal *rf;
	size_t i;

	h->refused_count++;
	if (binder_refusal_is_nic_wide(err->err))
		return;
	for (i = 0; i < h->n_refused; i++)
		if (h->refused[i].queue == op->queue && h->refused[i].tap_ifindex == op->tap_ifindex)
			break;
	if (i == h->n_refused) {
		if (h->n_refused == sizeof(h->refused) / sizeof(h->refused[0]))
			memmove(&h->refused[0], &h->refused[1], --h->n_refused * sizeof(*rf));
		i = h->n_refused++;
	}
	rf = &h->refused[i];
	memset(rf, 0, sizeof(*rf));
	rf->queue = op->queue;
	rf->tap_ifindex = op->tap_ifindex;
	memcpy(rf->owner, op->owner, NIC_MAC_LEN);
	rf->err = *err;
}

void harness_take_refusals(struct harness *h)
{
	h->take_refusals = true;
}

void harness_enable_binder(struct harness *h, uint64_t features)
{
	h->use_binder = true;
	h->sb.available = true;
	h->sb.features = features;
}

struct attach *harness_attach(struct harness *h, const char *domain, unsigned mac_last,
			      uint32_t queues)
{
	struct attach *a;
	size_t i;

	for (i = 0; i < h->n_atts; i++)
		if (h->atts[i].id.mac[5] == (uint8_t)mac_last && h->atts[i].id.mac[4] ==
		    (uint8_t)(mac_last >> 8))
			return &h->atts[i];
	if (h->n_atts == HARNESS_ATTS_MAX)
		abort(); /* a test larger than the harness */
	a = &h->atts[h->n_atts++];
	attach_init(a);
	if (attach_id_set_domain(&a->id, domain) < 0)
		abort(); /* a test without memory */
	snprintf(a->id.nic, sizeof(a->id.nic), "%s", h->name);
	a->id.mac[0] = 0x52;
	a->id.mac[1] = 0x54;
	a->id.mac[4] = (uint8_t)(mac_last >> 8);
	a->id.mac[5] = (uint8_t)mac_last;
	a->id.queues = queues;
	a->id.seq = mac_last;
	a->id.tap_ifindex = 100 + (int)mac_last;
	return a;
}

bool harness_detach(struct harness *h, unsigned mac_last)
{
	size_t i;

	for (i = 0; i < h->n_atts; i++)
		if (h->atts[i].id.mac[5] == (uint8_t)mac_last &&
		    h->atts[i].id.mac[4] == (uint8_t)(mac_last >> 8)) {
			/* the others keep their order, as the store keeps it */
			attach_clear(&h->atts[i]);
			memmove(&h->atts[i], &h->atts[i + 1], (h->n_atts - i - 1) * sizeof(h->atts[0]));
			h->n_atts--;
			return true;
		}
	return false;
}

void harness_observe(struct harness *h)
{
	struct nic_backend be = fake_net_backend(h->net);
	struct kerror err = { 0 };

	h->nic.link.ifindex = h->ifindex;
	if (be.ops->observe(be.be, &h->nic, NIC_OBSERVE_ALL, &err) < 0)
		abort();
	{
		/* as the daemon's monitor does where contexts cannot be listed */
		uint32_t ids[NIC_MONITOR_CTX_IDS_MAX];
		size_t n = journal_ctx_ids_to_read(&h->j, ids, NIC_MONITOR_CTX_IDS_MAX);

		nic_monitor_read_contexts(be, &h->nic, ids, n);
	}
	nic_caps_overlay(&h->nic.caps, &h->learned); /* as the daemon does */
	if (h->use_binder) {
		memset(&h->pb, 0, sizeof(h->pb));
		h->pb.available = h->sb.available;
		h->pb.probed = h->sb.available;
		h->pb.probe.features = h->sb.features;
		h->pb.probe.max_bindings = 64;
		h->pb.bindings = h->sb.v;
		h->pb.n_bindings = h->sb.n;
		h->pb.refused = h->refused;
		h->pb.n_refused = h->n_refused;
	}
}

static void plan_checked(struct harness *h, enum plan_mode mode, struct plan *p, bool check)
{
	const struct attach *ptrs[HARNESS_ATTS_MAX];
	struct plan_input in = { 0 };
	size_t i;

	for (i = 0; i < h->n_atts; i++)
		ptrs[i] = &h->atts[i];
	in.policy = &h->pol;
	in.nic = &h->nic;
	in.journal = &h->j;
	in.atts = ptrs;
	in.n_atts = h->n_atts;
	in.binder = h->use_binder ? &h->pb : NULL;
	in.mode = mode;
	if (plan_nic(&in, p) < 0)
		abort();
	if (check && mode == PLAN_MODE_NORMAL && h->n_atts > 1) {
		/* The same attachments in the reverse order: the planner plans
		 * in its own order, so the plan is the same.  The vNICs that
		 * wait for a full pool are planned as one only when they come
		 * in that order (plan-tail.c): here every one of them is
		 * planned, and the shortcut is held to the whole plan. */
		const struct attach *rev[HARNESS_ATTS_MAX];
		struct plan q;
		const char *diff;

		for (i = 0; i < h->n_atts; i++)
			rev[i] = ptrs[h->n_atts - 1 - i];
		in.atts = rev;
		if (plan_nic(&in, &q) < 0)
			abort();
		if ((diff = harness_order_differs(p, &q))) {
			fprintf(stderr, "harness: the plan of the attachments in reverse order "
					"differs: %s\nin order:\n", diff);
			harness_print_plan(p);
			fprintf(stderr, "in reverse:\n");
			harness_print_plan(&q);
			abort();
		}
		plan_clear(&q);
		in.atts = ptrs;
	}
	for (i = 0; i < h->n_atts && i < p->n_results; i++) {
		attach_result_clear(&h->atts[i].res);
		if (attach_result_copy(&h->atts[i].res, &p->results[i]) < 0)
			abort();
	}
}

void harness_plan(struct harness *h, enum plan_mode mode, struct plan *p)
{
	plan_checked(h, mode, p, true);
}

void harness_plan_unchecked(struct harness *h, enum plan_mode mode, struct plan *p)
{
	plan_checked(h, mode, p, false);
}

int harness_apply(struct harness *h, enum plan_mode mode, int rounds)
{
	struct exec_env env = harness_exec_env(h);
	int r = 0;

	if (!h->use_binder)
		env.binder = NULL;
	if (h->take_refusals) {
		env.bind_refused = note_refusal;
		env.userdata = h;
	}
	while (rounds-- > 0) {
		struct exec_result res;
		struct plan p;

		harness_observe(h);
		harness_plan(h, mode, &p);
		r = exec_plan(&env, &p, &h->j, &res);
		{
			size_t k;

			for (k = 0; k < res.n_applied; k++)
				plan_learn_ok(&h->learned, &p.ops[k]);
		}
		if (getenv("ZCRX_HARNESS_VERBOSE")) {
			char buf[1024];

			fprintf(stderr, "harness: %s plan, %zu ops: %s\n",
				mode == PLAN_MODE_RELEASE ? "release" :
				mode == PLAN_MODE_REBALANCE ? "rebalance" : "normal",
				p.n_ops, exec_result_format(&res, buf, sizeof(buf)));
			harness_print_plan(&p);
		}
		if (r == 0) {
			struct plan again;
			const char *diff;

			/* refresh results with the kernel's answers (rule slots, ids) */
			harness_observe(h);
			harness_plan(h, mode, &again);
			/* a journal-only plan settles by itself (plan.h): zcrxd
			 * does not plan again to confirm it */
			if (plan_journal_only(&p) && res.n_applied == p.n_ops &&
			    (diff = harness_settled_differs(&p, &again))) {
				fprintf(stderr, "harness: a journal-only plan did not settle by "
						"itself: %s\napplied:\n", diff);
				harness_print_plan(&p);
				fprintf(stderr, "planned again:\n");
				harness_print_plan(&again);
				abort();
			}
			plan_clear(&p);
			plan_clear(&again);
			return 0;
		}
		if (res.failed >= 0 && plan_learn(&h->learned, &p.ops[res.failed], &res.err)) {
			h->learned_count++;
			plan_clear(&p);
			continue;
		}
		/* not a capability: hold the attachment back, as the manager does */
		if (res.failed >= 0 && p.ops[res.failed].has_owner) {
			size_t i;

			for (i = 0; i < h->n_atts; i++)
				if (!memcmp(h->atts[i].id.mac, p.ops[res.failed].owner, NIC_MAC_LEN) &&
				    !h->atts[i].held) {
					(void)attach_hold(&h->atts[i], &res.err);
					h->held_count++;
					break;
				}
			if (i < h->n_atts) {
				plan_clear(&p);
				continue;
			}
		}
		{
			char buf[1024];

			fprintf(stderr, "harness: exec failed: %s\n",
				exec_result_format(&res, buf, sizeof(buf)));
			harness_print_plan(&p);
			plan_clear(&p);
			return r;
		}
	}
	return r;
}

static bool str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static bool same_reasons(const struct attach_reason *a, const struct attach_reason *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i].err != b[i].err || !str_eq(a[i].code, b[i].code) ||
		    !str_eq(a[i].nic, b[i].nic) || !str_eq(a[i].op, b[i].op) ||
		    !str_eq(a[i].msg, b[i].msg))
			return false;
	return true;
}

/* The same results (b's in the reverse order when reversed), notes and
 * pool summary?  NULL, else what differs. */
static const char *outcome_differs(const struct plan *a, const struct plan *b, bool reversed)
{
	size_t i, n = a->n_results;

	if (n != b->n_results)
		return "another number of results";
	for (i = 0; i < n; i++)
		if (!attach_result_same(&a->results[i], &b->results[reversed ? n - 1 - i : i],
					false))
			return "an attachment's result differs";
	if (a->n_notes != b->n_notes || !same_reasons(a->notes, b->notes, a->n_notes))
		return "the notes differ";
	if (a->channels != b->channels || a->n_pool != b->n_pool || a->n_shared != b->n_shared ||
	    (a->n_pool && memcmp(a->pool, b->pool, a->n_pool * sizeof(uint32_t))) ||
	    (a->n_shared && memcmp(a->shared, b->shared, a->n_shared * sizeof(uint32_t))))
		return "the pool summary differs";
	return NULL;
}

const char *harness_settled_differs(const struct plan *applied, const struct plan *again)
{
	if (again->n_ops)
		return "planning again gives ops";
	return outcome_differs(applied, again, false);
}

const char *harness_order_differs(const struct plan *p, const struct plan *rev)
{
	char x[256], y[256];
	size_t i;

	if (p->n_ops != rev->n_ops)
		return "another number of ops";
	for (i = 0; i < p->n_ops; i++) {
		const struct plan_op *a = &p->ops[i], *b = &rev->ops[i];

		if (a->kind != b->kind || a->has_owner != b->has_owner || a->prior != b->prior ||
		    (a->has_owner && memcmp(a->owner, b->owner, NIC_MAC_LEN)) ||
		    !str_eq(a->reason, b->reason) ||
		    strcmp(plan_op_describe(a, x, sizeof(x)), plan_op_describe(b, y, sizeof(y))))
			return "an op differs";
	}
	return outcome_differs(p, rev, true);
}

size_t harness_pending_ops(struct harness *h, enum plan_mode mode)
{
	struct plan p;
	size_t n;

	harness_observe(h);
	harness_plan(h, mode, &p);
	n = p.n_ops;
	if (n)
		harness_print_plan(&p);
	plan_clear(&p);
	return n;
}

void harness_print_plan(const struct plan *p)
{
	char d[512], e[1200];
	size_t i;

	for (i = 0; i < p->n_ops; i++)
		fprintf(stderr, "  op %zu: %-60s | %s | %s\n", i,
			plan_op_describe(&p->ops[i], d, sizeof(d)), p->ops[i].reason,
			plan_op_ethtool(&p->ops[i], e, sizeof(e)));
	for (i = 0; i < p->n_notes; i++)
		fprintf(stderr, "  note: %s %s: %s\n", p->notes[i].code, p->notes[i].op,
			p->notes[i].msg);
}
