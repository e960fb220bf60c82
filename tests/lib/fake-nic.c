// SPDX-License-Identifier: MIT
/*
 * fake-nic — TEST-ONLY NIC backend (see fake-nic.h): the ops table, with
 * the refusals of drivers and of the kernel's core.  Its state as text, in
 * a file and changed from outside is in fake-nic-state.c.  Must never be
 * linked into zcrxd itself.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-nic-int.h"
#include "nic-ioctl.h"

void fake_nic_cfg_capable(struct fake_nic_cfg *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->combined_max = 16;
	c->combined = 8;
	c->tx_max = 0;
	c->rss = true;
	c->indir_size = 128;
	c->rss_contexts = true;
	c->max_contexts = 32;
	c->ntuple = true;
	c->rule_capacity = 1024;
	c->l2_rules = true;
	c->l2_context = true;
	c->ip_rules = true;
	c->flow_rules = true;
	c->flow6_rules = true;
	c->header_split = true;
	c->hds_thresh = true;
	c->numa_nodes = 2;
	c->numa_node = 0;
}

void fake_nic_cfg_veth(struct fake_nic_cfg *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->rx_max = 4;
	c->tx_max = 4;
	c->rx = 1;
	c->tx = 1;
	c->numa_node = -1;
}

void fake_nic_cfg_macvtap(struct fake_nic_cfg *c, const char *name, int lower, const uint8_t mac[6])
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->numa_node = -1;
	c->lower = lower;
	memcpy(c->mac, mac, sizeof(c->mac));
}

int fake_net_new(struct fake_net **ret)
{
	struct fake_net *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->next_ifindex = 100;
	*ret = n;
	return 0;
}

static void nic_free(struct fake_nic *f)
{
	uint32_t i;

	if (!f)
		return;
	for (i = 0; f->ctxs && i < f->cfg.max_contexts; i++)
		free(f->ctxs[i].indir);
	free(f->ctxs);
	free(f->rules);
	free(f->indir0);
	free(f);
}

void fake_net_free(struct fake_net *net)
{
	size_t i;

	if (!net)
		return;
	for (i = 0; i < net->n; i++)
		nic_free(net->nics[i]);
	free(net->file);
	free(net);
}

static uint32_t nq(const struct fake_nic *f)
{
	return f->combined + f->rx;
}

static void fake_nic_default_table(struct fake_nic *f)
{
	uint32_t i, n = nq(f) ? nq(f) : 1;

	for (i = 0; i < f->cfg.indir_size; i++)
		f->indir0[i] = i % n;
	f->indir0_user = false;
}

int fake_net_remove(struct fake_net *net, int ifindex)
{
	size_t i;

	for (i = 0; i < net->n; i++)
		if (net->nics[i]->cfg.ifindex == ifindex) {
			nic_free(net->nics[i]);
			memmove(&net->nics[i], &net->nics[i + 1], (net->n - i - 1) * sizeof(net->nics[0]));
			net->n--;
			fake_net_persist(net);
			return 0;
		}
	return -ENODEV;
}

int fake_net_add(struct fake_net *net, const struct fake_nic_cfg *cfg, int *ret_ifindex)
{
	struct fake_nic *f;
	uint32_t i;

	if (net->n >= FAKE_MAX_NICS)
		return -ENOSPC;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->cfg = *cfg;
	if (!f->cfg.indir_size)
		f->cfg.indir_size = 128;
	if (!f->cfg.max_contexts)
		f->cfg.max_contexts = 32;
	if (!f->cfg.rule_capacity)
		f->cfg.rule_capacity = 1024;
	if (!f->cfg.ifindex)
		f->cfg.ifindex = net->next_ifindex++;
	snprintf(f->name, sizeof(f->name), "%s", cfg->name ? cfg->name : "fake0");
	f->cfg.name = f->name;
	f->combined = cfg->combined;
	f->rx = cfg->rx;
	f->tx = cfg->tx;
	f->ntuple_on = cfg->ntuple && cfg->ntuple_on;
	f->tds = cfg->header_split ? NIC_TDS_DISABLED : NIC_TDS_UNKNOWN;
	f->hds = cfg->hds_thresh ? 256 : 0;
	f->hash0.hfunc = ZX_ETH_RSS_HASH_TOP;
	f->hash0.xfrm = cfg->sym_xor ? ZX_RXH_XFRM_SYM_XOR : 0;
	f->indir0 = calloc(f->cfg.indir_size, sizeof(uint32_t));
	f->ctxs = calloc(f->cfg.max_contexts, sizeof(*f->ctxs));
	f->rules = calloc(f->cfg.rule_capacity, sizeof(*f->rules));
	if (!f->indir0 || !f->ctxs || !f->rules) {
		nic_free(f);
		return -ENOMEM;
	}
	for (i = 0; i < f->cfg.rule_capacity; i++)
		f->rules[i].location = NIC_LOC_ANY;
	fake_nic_default_table(f);
	net->nics[net->n++] = f;
	if (ret_ifindex)
		*ret_ifindex = f->cfg.ifindex;
	return 0;
}

struct fake_nic *fake_net_find(const struct fake_net *net, int ifindex)
{
	size_t i;

	for (i = 0; i < net->n; i++)
		if (net->nics[i]->cfg.ifindex == ifindex)
			return net->nics[i];
	return NULL;
}

void fake_net_fail_at(struct fake_net *net, unsigned k, int err, const char *msg)
{
	net->fail_at = k ? net->calls + k : 0;
	net->fail_err = err ? err : EIO;
	snprintf(net->fail_msg, sizeof(net->fail_msg), "%s", msg ? msg : "fake: injected failure");
}

void fake_net_fail_also(struct fake_net *net, unsigned k)
{
	net->fail_also = k ? net->calls + k : 0;
	if (!net->fail_err)
		net->fail_err = EIO;
	if (!net->fail_msg[0])
		snprintf(net->fail_msg, sizeof(net->fail_msg), "fake: injected failure");
}

unsigned fake_net_calls(const struct fake_net *net)
{
	return net->calls;
}

void fake_net_reset_calls(struct fake_net *net)
{
	net->calls = 0;
	net->fail_at = 0;
	net->fail_also = 0;
}

/* Count a mutating call; non-zero when it must fail. */
static int gate(struct fake_net *net, const struct nic_id *id, const char *op, struct kerror *err)
{
	net->calls++;
	if ((net->fail_at && net->calls == net->fail_at) ||
	    (net->fail_also && net->calls == net->fail_also))
		return kerror_set(err, net->fail_err, id->name, op, net->fail_msg);
	return 0;
}

void fake_net_freeze(struct fake_net *net, bool frozen)
{
	net->frozen = frozen;
}

/* A frozen net answers every change with success and changes nothing. */
static struct fake_nic *target(struct fake_net *net, const struct nic_id *id, const char *op,
			       struct kerror *err, int *r)
{
	struct fake_nic *f = fake_net_find(net, id->ifindex);

	*r = 0;
	if (net->frozen) {
		net->calls++;
		*r = 1; /* caller returns 0 without touching anything */
		return NULL;
	}
	if (!f) {
		*r = kerror_set(err, ENODEV, id->name, op, "no such device");
		return NULL;
	}
	*r = gate(net, id, op, err);
	return *r ? NULL : f;
}

/* --- ops ------------------------------------------------------------------- */

/* What rtnetlink says of it: a NIC stands in for hardware (no link kind),
 * a macvtap is one on its lower NIC with the vNIC's MAC. */
static void fill_link(const struct fake_nic *f, struct nic_link *l)
{
	l->ifindex = f->cfg.ifindex;
	snprintf(l->name, sizeof(l->name), "%s", f->name);
	l->up = true;
	l->link_netnsid = -1;
	if (f->cfg.lower) {
		snprintf(l->kind, sizeof(l->kind), "macvtap");
		l->link_ifindex = f->cfg.lower;
		memcpy(l->mac, f->cfg.mac, sizeof(l->mac));
		l->num_rx_queues = l->num_tx_queues = 1;
		return;
	}
	l->kind[0] = '\0';
	l->mac[0] = 0x02;
	l->mac[5] = (uint8_t)f->cfg.ifindex;
	l->num_rx_queues = f->cfg.combined_max + f->cfg.rx_max;
	l->num_tx_queues = f->cfg.combined_max + f->cfg.tx_max;
}

static int f_list_links(void *be, struct nic_link **ret, size_t *ret_n, struct kerror *err)
{
	struct fake_net *net = be;
	struct nic_link *v = calloc(net->n ? net->n : 1, sizeof(*v));
	size_t i;

	if (!v)
		return kerror_set(err, ENOMEM, NULL, "list links", NULL);
	for (i = 0; i < net->n; i++) {
		struct fake_nic *f = net->nics[i];

		fill_link(f, &v[i]);
	}
	*ret = v;
	*ret_n = net->n;
	return 0;
}

static void cap(struct nic_cap *c, bool yes, const char *no_msg)
{
	nic_cap_set(c, yes ? NIC_CAP_YES : NIC_CAP_NO, yes ? 0 : EOPNOTSUPP, yes ? "" : no_msg);
}

static int f_observe(void *be, struct nic *nic, unsigned what, struct kerror *err)
{
	struct fake_net *net = be;
	struct fake_nic *f = fake_net_find(net, nic->link.ifindex);
	uint32_t i, n, k;

	if (!f)
		return kerror_set(err, ENODEV, nic->link.name, "observe", "no such device");
	nic_clear(nic);
	fill_link(f, &nic->link);
	if (f->cfg.lower) /* a macvtap: a link, nothing to steer */
		return 0;
	snprintf(nic->driver, sizeof(nic->driver), "fake");
	nic->numa_node = f->cfg.numa_node;
	nic->ch.combined_max = f->cfg.combined_max;
	nic->ch.rx_max = f->cfg.rx_max;
	nic->ch.tx_max = f->cfg.tx_max;
	nic->ch.combined = f->combined;
	nic->ch.rx = f->rx;
	nic->ch.tx = f->tx;
	cap(&nic->caps.channels, true, "");
	cap(&nic->caps.channels_set, f->cfg.combined_max + f->cfg.rx_max > 0,
	    "no settable channels");
	nic->rings.valid = f->cfg.header_split || f->cfg.hds_thresh;
	cap(&nic->caps.rings, nic->rings.valid, "Operation not supported");
	nic->rings.has_tcp_data_split = f->cfg.header_split;
	nic->rings.tcp_data_split = f->tds;
	nic->rings.has_hds_thresh = f->cfg.hds_thresh;
	nic->rings.hds_thresh = f->hds;
	nic->rings.hds_thresh_max = f->cfg.hds_thresh ? 1024 : 0;
	cap(&nic->caps.header_split, f->cfg.header_split, "setting TCP data split is not supported");
	cap(&nic->caps.hds_thresh, f->cfg.hds_thresh, "setting hds-thresh is not supported");
	nic->ntuple_active = f->ntuple_on;
	nic->ntuple_fixed = !f->cfg.ntuple || f->cfg.ntuple_fixed;
	cap(&nic->caps.ntuple, f->cfg.ntuple, "rx-ntuple-filter not changeable");
	cap(&nic->caps.rules, f->cfg.ntuple, "Operation not supported");
	/* rule kinds are learned (start unknown), as with a real driver */
	for (i = 0; i < NIC_RULE_FLOWS * NIC_RULE_ACTS; i++)
		cap(&nic->caps.rule_kinds[i / NIC_RULE_ACTS][i % NIC_RULE_ACTS], false,
		    "Operation not supported");
	for (i = 0; f->cfg.ntuple && i < NIC_RULE_FLOWS * NIC_RULE_ACTS; i++)
		nic_cap_set(&nic->caps.rule_kinds[i / NIC_RULE_ACTS][i % NIC_RULE_ACTS],
			    NIC_CAP_UNKNOWN, 0, "");
	cap(&nic->caps.rss, f->cfg.rss, "Operation not supported");
	cap(&nic->caps.rss_set, f->cfg.rss, "Operation not supported");
	cap(&nic->caps.rss_contexts, f->cfg.rss && f->cfg.rss_contexts, "Operation not supported");
	cap(&nic->caps.queue_info, true, "");
	nic_cap_set(&nic->caps.binder, NIC_CAP_UNKNOWN, 0, "");

	n = 0;
	if (f->cfg.rss) {
		n = 1;
		for (i = 0; i < f->cfg.max_contexts; i++)
			n += f->ctxs[i].id != 0;
	}
	/* a kernel without the RSS dump lists context 0 only */
	nic->rss_listed = f->cfg.rss && !f->cfg.no_ctx_dump;
	nic->rss = calloc(n ? n : 1, sizeof(*nic->rss));
	if (!nic->rss)
		goto nomem;
	if (f->cfg.rss) {
		struct nic_rss *r = &nic->rss[nic->n_rss++];

		r->indir_size = f->cfg.indir_size;
		r->hfunc = f->hash0.hfunc;
		r->input_xfrm = f->hash0.xfrm;
		r->indir = malloc(r->indir_size * sizeof(uint32_t));
		if (!r->indir)
			goto nomem;
		memcpy(r->indir, f->indir0, r->indir_size * sizeof(uint32_t));
		for (i = 0; nic->rss_listed && i < f->cfg.max_contexts; i++) {
			if (!f->ctxs[i].id)
				continue;
			r = &nic->rss[nic->n_rss++];
			r->id = f->ctxs[i].id;
			r->hfunc = f->ctxs[i].hash.hfunc;
			r->input_xfrm = f->ctxs[i].hash.xfrm;
			r->indir_size = f->cfg.indir_size;
			r->indir = malloc(r->indir_size * sizeof(uint32_t));
			if (!r->indir)
				goto nomem;
			memcpy(r->indir, f->ctxs[i].indir, r->indir_size * sizeof(uint32_t));
		}
	}

	if (f->cfg.ntuple) {
		nic->rule_capacity = f->cfg.rule_capacity;
		nic->rule_loc_special = f->cfg.loc_special;
		for (i = 0, k = 0; i < f->cfg.rule_capacity; i++)
			k += f->rules[i].location != NIC_LOC_ANY;
		nic->rules = calloc(k ? k : 1, sizeof(*nic->rules));
		if (!nic->rules)
			goto nomem;
		for (i = 0; i < f->cfg.rule_capacity; i++)
			if (f->rules[i].location != NIC_LOC_ANY)
				nic->rules[nic->n_rules++] = f->rules[i];
	}

	k = nq(f);
	nic->queues = calloc(k ? k : 1, sizeof(*nic->queues));
	if (!nic->queues)
		goto nomem;
	for (i = 0; i < k; i++) {
		struct nic_queue *q = &nic->queues[nic->n_queues++];

		q->id = i;
		q->irq = -1;
		q->numa_node = f->cfg.numa_nodes > 0 ? (int)(i % (uint32_t)f->cfg.numa_nodes) : -1;
		q->providers = i < FAKE_MAX_Q ? f->providers[i] : 0;
	}
	(void)what;
	nic->generation++;
	return 0;
nomem:
	nic_clear(nic);
	return kerror_set(err, ENOMEM, f->name, "observe", NULL);
}

static bool queue_used_above(const struct fake_nic *f, uint32_t n, const char **what)
{
	uint32_t i, k;

	/* like the core: only a table the user configured pins queues; the
	 * driver's default is rebuilt for the new count */
	for (i = 0; f->cfg.rss && f->indir0_user && i < f->cfg.indir_size; i++)
		if (f->indir0[i] >= n) {
			*what = "requested channel count is too low for existing indirection table "
				"settings";
			return true;
		}
	for (k = 0; k < f->cfg.max_contexts; k++)
		for (i = 0; f->ctxs[k].id && i < f->cfg.indir_size; i++)
			if (f->ctxs[k].indir[i] >= n) {
				*what = "requested channel count is too low for existing "
					"indirection table settings";
				return true;
			}
	for (i = 0; i < f->cfg.rule_capacity; i++)
		if (f->rules[i].location != NIC_LOC_ANY &&
		    f->rules[i].action == NIC_RULE_ACTION_QUEUE && f->rules[i].queue >= n) {
			*what = "requested channel count is too low for existing ntuple filter "
				"settings";
			return true;
		}
	for (i = n; i < FAKE_MAX_Q; i++)
		if (f->providers[i]) {
			*what = "requested channel count is too low for existing memory provider "
				"setting";
			return true;
		}
	return false;
}

int fake_nic_apply_channels(struct fake_nic *f, const struct nic_channels_req *req,
			  const struct nic_id *id, struct kerror *err)
{
	uint32_t comb = req->has_combined ? req->combined : f->combined;
	uint32_t rx = req->has_rx ? req->rx : f->rx;
	uint32_t tx = req->has_tx ? req->tx : f->tx;
	const char *what;

	if (comb > f->cfg.combined_max || rx > f->cfg.rx_max || tx > f->cfg.tx_max)
		return kerror_set(err, EINVAL, id->name, "set channels",
				  "requested channel count exceeds maximum");
	if (comb + rx == 0 || (comb + tx == 0 && f->cfg.tx_max))
		return kerror_set(err, EINVAL, id->name, "set channels",
				  "requested channel counts would result in no RX or TX channel "
				  "being configured");
	if (comb + rx < nq(f) && queue_used_above(f, comb + rx, &what))
		return kerror_set(err, EINVAL, id->name, "set channels", what);
	if (comb + rx > FAKE_MAX_Q)
		return kerror_set(err, EINVAL, id->name, "set channels", "fake: too many queues");
	f->combined = comb;
	f->rx = rx;
	f->tx = tx;
	if (!f->indir0_user)
		fake_nic_default_table(f);
	return 0;
}

static int f_set_channels(void *be, const struct nic_id *id, const struct nic_channels_req *req,
			  struct kerror *err)
{
	int r;
	struct fake_nic *f = target(be, id, "set channels", err, &r);

	if (!f)
		return r > 0 ? 0 : r;
	return fake_nic_apply_channels(f, req, id, err);
}

void fake_nic_flush_rules(struct fake_nic *f)
{
	uint32_t i;

	for (i = 0; i < f->cfg.rule_capacity; i++)
		f->rules[i].location = NIC_LOC_ANY;
}

static int f_set_feature(void *be, const struct nic_id *id, const char *feature, bool on,
			 bool *ret_active, struct kerror *err)
{
	int r;
	struct fake_nic *f = target(be, id, "set feature", err, &r);

	if (!f)
		return r > 0 ? 0 : r;
	if (strcmp(feature, "rx-ntuple-filter"))
		return kerror_set(err, EOPNOTSUPP, id->name, "set feature", "bit name not found");
	if (f->cfg.ntuple && !f->cfg.ntuple_fixed) {
		if (f->ntuple_on && !on)
			fake_nic_flush_rules(f);
		f->ntuple_on = on;
	}
	/* like the kernel: ACK even when nothing changed; the caller checks */
	*ret_active = f->ntuple_on == on;
	return 0;
}

static int f_set_rings(void *be, const struct nic_id *id, const struct nic_rings_req *req,
		       struct kerror *err)
{
	int r;
	struct fake_nic *f = target(be, id, "set rings", err, &r);
	uint32_t i;

	if (!f)
		return r > 0 ? 0 : r;
	if (req->has_tcp_data_split && !f->cfg.header_split)
		return kerror_set(err, EOPNOTSUPP, id->name, "set rings",
				  "setting TCP data split is not supported");
	if (req->has_hds_thresh && !f->cfg.hds_thresh)
		return kerror_set(err, EOPNOTSUPP, id->name, "set rings",
				  "setting hds-thresh is not supported");
	if (req->has_hds_thresh && req->hds_thresh > 1024)
		return kerror_set(err, EINVAL, id->name, "set rings", "hds-thresh exceeds maximum");
	for (i = 0; i < FAKE_MAX_Q; i++)
		if (f->providers[i] && ((req->has_tcp_data_split &&
					 req->tcp_data_split != NIC_TDS_ENABLED) ||
					(req->has_hds_thresh && req->hds_thresh)))
			return kerror_set(err, EBUSY, id->name, "set rings",
					  "a memory provider needs header split");
	if (req->has_tcp_data_split)
		f->tds = req->tcp_data_split ? req->tcp_data_split : NIC_TDS_DISABLED;
	if (req->has_hds_thresh)
		f->hds = req->hds_thresh;
	return 0;
}

static int check_table(const struct fake_nic *f, const uint32_t *indir, uint32_t n,
		       const struct nic_id *id, const char *op, struct kerror *err)
{
	uint32_t i;

	if (n != f->cfg.indir_size)
		return kerror_setf(err, EINVAL, id->name, op, "indirection table size %u, need %u",
				   n, f->cfg.indir_size);
	for (i = 0; i < n; i++)
		if (indir[i] >= nq(f))
			return kerror_set(err, EINVAL, id->name, op,
					  "indirection table references a queue out of range");
	return 0;
}

struct fake_ctx *fake_nic_find_ctx(struct fake_nic *f, uint32_t ctx)
{
	uint32_t i;

	for (i = 0; ctx && i < f->cfg.max_contexts; i++)
		if (f->ctxs[i].id == ctx)
			return &f->ctxs[i];
	return NULL;
}

/* The hash settings of zcrxd's SRSSH request for this write, built by its
 * own encoder, as a 6.8+ kernel applies them: hfunc 0 and input_xfrm
 * RXH_XFRM_NO_CHANGE leave the setting alone, any other value is set. */
static int apply_hash(const struct fake_nic *f, uint32_t ctx, const uint32_t *indir, uint32_t n,
		      struct fake_hash *h, const struct nic_id *id, const char *op,
		      struct kerror *err)
{
	struct zx_ethtool_rxfh *rx;
	struct kerror e = { 0 };

	rx = nic_ioctl_rxfh_encode(ctx, indir, n, n == 0, NULL, 0, f->cfg.indir_size, 40, &e);
	if (!rx)
		return kerror_set(err, e.err, id->name, op, e.msg);
	if (rx->hfunc != ZX_ETH_RSS_HASH_NO_CHANGE)
		h->hfunc = rx->hfunc;
	if (rx->input_xfrm != ZX_RXH_XFRM_NO_CHANGE)
		h->xfrm = rx->input_xfrm;
	free(rx);
	return 0;
}

static int f_rss_set(void *be, const struct nic_id *id, uint32_t ctx, const uint32_t *indir,
		     uint32_t n, struct kerror *err)
{
	int r;
	struct fake_nic *f = target(be, id, "set RSS table", err, &r);
	struct fake_ctx *c;

	if (!f)
		return r > 0 ? 0 : r;
	if (!f->cfg.rss)
		return kerror_set(err, EOPNOTSUPP, id->name, "set RSS table", NULL);
	if (ctx == 0) {
		if (n && (r = check_table(f, indir, n, id, "set RSS table", err)))
			return r;
		if ((r = apply_hash(f, 0, indir, n, &f->hash0, id, "set RSS table", err)))
			return r;
		if (n == 0) {
			fake_nic_default_table(f);
			return 0;
		}
		memcpy(f->indir0, indir, n * sizeof(uint32_t));
		f->indir0_user = true;
		return 0;
	}
	c = fake_nic_find_ctx(f, ctx);
	if (!c)
		return kerror_setf(err, ENOENT, id->name, "set RSS table", "no RSS context %u", ctx);
	if ((r = check_table(f, indir, n, id, "set RSS table", err)))
		return r;
	if ((r = apply_hash(f, ctx, indir, n, &c->hash, id, "set RSS table", err)))
		return r;
	memcpy(c->indir, indir, n * sizeof(uint32_t));
	return 0;
}

static int f_rss_create(void *be, const struct nic_id *id, const uint32_t *indir, uint32_t n,
			uint32_t *ret_ctx, struct kerror *err)
{
	int r;
	struct fake_nic *f = target(be, id, "create RSS context", err, &r);
	uint32_t i, want;
	struct fake_hash h = { .hfunc = ZX_ETH_RSS_HASH_TOP }; /* a new context's defaults */

	if (!f)
		return r > 0 ? 0 : r;
	if (!f->cfg.rss || !f->cfg.rss_contexts)
		return kerror_set(err, EOPNOTSUPP, id->name, "create RSS context", NULL);
	if ((r = check_table(f, indir, n, id, "create RSS context", err)))
		return r;
	if ((r = apply_hash(f, ZX_ETH_RXFH_CONTEXT_ALLOC, indir, n, &h, id, "create RSS context",
			    err)))
		return r;
	/* lowest free id, like the core's xarray allocation */
	for (want = 1; want <= f->cfg.max_contexts; want++)
		if (!fake_nic_find_ctx(f, want))
			break;
	for (i = 0; i < f->cfg.max_contexts; i++) {
		if (f->ctxs[i].id)
			continue;
		f->ctxs[i].indir = malloc(n * sizeof(uint32_t));
		if (!f->ctxs[i].indir)
			return kerror_set(err, ENOMEM, id->name, "create RSS context", NULL);
		memcpy(f->ctxs[i].indir, indir, n * sizeof(uint32_t));
		f->ctxs[i].hash = h;
		f->ctxs[i].id = want;
		*ret_ctx = want;
		return 0;
	}
	return kerror_set(err, ENOSPC, id->name, "create RSS context", "no free RSS context");
}

/* GRSSH with a context's id: what a kernel without the dump still has. */
static int f_rss_get(void *be, const struct nic_id *id, uint32_t ctx, struct nic_rss *ret,
		     struct kerror *err)
{
	struct fake_nic *f = fake_net_find(be, id->ifindex);
	struct fake_ctx *c;

	memset(ret, 0, sizeof(*ret));
	if (!f)
		return kerror_set(err, ENODEV, id->name, "get rss context", "no such device");
	if (!f->cfg.rss || (ctx && !f->cfg.rss_contexts))
		return kerror_set(err, EOPNOTSUPP, id->name, "get rss context", NULL);
	c = fake_nic_find_ctx(f, ctx);
	if (ctx && (!c || f->cfg.ctx_get_enoent))
		return kerror_set(err, ENOENT, id->name, "get rss context", NULL);
	ret->id = ctx;
	ret->hfunc = ctx ? c->hash.hfunc : f->hash0.hfunc;
	ret->input_xfrm = ctx ? c->hash.xfrm : f->hash0.xfrm;
	ret->indir_size = f->cfg.indir_size;
	ret->indir = malloc(f->cfg.indir_size * sizeof(uint32_t));
	if (!ret->indir)
		return kerror_set(err, ENOMEM, id->name, "get rss context", NULL);
	memcpy(ret->indir, ctx ? c->indir : f->indir0, f->cfg.indir_size * sizeof(uint32_t));
	return 0;
}

static int f_rss_delete(void *be, const struct nic_id *id, uint32_t ctx, struct kerror *err)
{
	int r;
	struct fake_nic *f = target(be, id, "delete RSS context", err, &r);
	struct fake_ctx *c;
	uint32_t i;

	if (!f)
		return r > 0 ? 0 : r;
	c = fake_nic_find_ctx(f, ctx);
	if (!c)
		return kerror_setf(err, ENOENT, id->name, "delete RSS context", "no RSS context %u",
				   ctx);
	for (i = 0; i < f->cfg.rule_capacity; i++)
		if (f->rules[i].location != NIC_LOC_ANY &&
		    f->rules[i].action == NIC_RULE_ACTION_CONTEXT && f->rules[i].rss_context == ctx)
			return kerror_set(err, EBUSY, id->name, "delete RSS context",
					  "RSS context is in use by an ntuple rule");
	free(c->indir);
	c->indir = NULL;
	c->id = 0;
	return 0;
}

int fake_nic_insert_rule(struct fake_nic *f, struct nic_rule *rule, const struct nic_id *id,
		       struct kerror *err)
{
	uint32_t loc = rule->location, i;

	if (!f->cfg.ntuple)
		return kerror_set(err, EOPNOTSUPP, id->name, "insert rule", NULL);
	if (!f->ntuple_on)
		return kerror_set(err, EPERM, id->name, "insert rule", "rx-ntuple-filter is off");
	switch (rule->match) {
	case NIC_RULE_MATCH_ETHER_DST:
		if (!f->cfg.l2_rules)
			return kerror_set(err, EOPNOTSUPP, id->name, "insert rule",
					  "fake: ETHER_FLOW rules not supported");
		if (rule->action == NIC_RULE_ACTION_CONTEXT && !f->cfg.l2_context)
			return kerror_set(err, EOPNOTSUPP, id->name, "insert rule", NULL);
		break;
	case NIC_RULE_MATCH_IP4_DST:
	case NIC_RULE_MATCH_IP6_DST:
		if (!f->cfg.ip_rules)
			return kerror_set(err, EOPNOTSUPP, id->name, "insert rule",
					  "fake: IP rules not supported");
		break;
	case NIC_RULE_MATCH_FLOW4:
	case NIC_RULE_MATCH_FLOW6:
		if (!f->cfg.flow_rules ||
		    (rule->match == NIC_RULE_MATCH_FLOW6 && !f->cfg.flow6_rules))
			return kerror_set(err, EOPNOTSUPP, id->name, "insert rule",
					  "fake: TCP/UDP flow rules not supported");
		break;
	case NIC_RULE_MATCH_OTHER:
		break;
	}
	if (rule->action == NIC_RULE_ACTION_QUEUE && rule->queue >= nq(f))
		return kerror_set(err, EINVAL, id->name, "insert rule", "queue out of range");
	if (rule->action == NIC_RULE_ACTION_CONTEXT && !fake_nic_find_ctx(f, rule->rss_context))
		return kerror_set(err, EINVAL, id->name, "insert rule", "no such RSS context");
	if (loc == NIC_LOC_ANY) {
		if (!f->cfg.loc_special)
			return kerror_set(err, EINVAL, id->name, "insert rule",
					  "fake: driver needs an explicit location");
		for (i = f->cfg.rule_capacity; i > 0; i--)
			if (f->rules[i - 1].location == NIC_LOC_ANY)
				break;
		if (!i)
			return kerror_set(err, ENOSPC, id->name, "insert rule", "rule table full");
		loc = i - 1;
	} else if (f->cfg.loc_special) {
		return kerror_set(err, EINVAL, id->name, "insert rule",
				  "fake: driver requires RX_CLS_LOC_ANY");
	}
	if (loc >= f->cfg.rule_capacity)
		return kerror_set(err, EINVAL, id->name, "insert rule", "location out of range");
	if (f->rules[loc].location != NIC_LOC_ANY)
		return kerror_set(err, EEXIST, id->name, "insert rule", "location in use");
	rule->location = loc;
	if (!f->cfg.rules_vanish)
		f->rules[loc] = *rule;
	return 0;
}

static int f_rule_insert(void *be, const struct nic_id *id, struct nic_rule *rule,
			 struct kerror *err)
{
	int r;
	struct fake_nic *f = target(be, id, "insert rule", err, &r);

	if (!f)
		return r > 0 ? 0 : r;
	return fake_nic_insert_rule(f, rule, id, err);
}

int fake_nic_delete_rule(struct fake_nic *f, uint32_t loc, const struct nic_id *id,
		       struct kerror *err)
{
	if (!f->cfg.ntuple)
		return kerror_set(err, EOPNOTSUPP, id->name, "delete rule", NULL);
	if (loc >= f->cfg.rule_capacity || f->rules[loc].location == NIC_LOC_ANY)
		return kerror_set(err, ENOENT, id->name, "delete rule", "no rule at location");
	f->rules[loc].location = NIC_LOC_ANY;
	return 0;
}

static int f_rule_delete(void *be, const struct nic_id *id, uint32_t location, struct kerror *err)
{
	int r;
	struct fake_nic *f = target(be, id, "delete rule", err, &r);

	if (!f)
		return r > 0 ? 0 : r;
	return fake_nic_delete_rule(f, location, id, err);
}

/* Every change is persisted when a file is set. */
static int p_set_channels(void *be, const struct nic_id *id, const struct nic_channels_req *req,
			  struct kerror *err)
{
	int r = f_set_channels(be, id, req, err);

	fake_net_persist(be);
	return r;
}

static int p_set_feature(void *be, const struct nic_id *id, const char *feature, bool on,
			 bool *ret_active, struct kerror *err)
{
	int r = f_set_feature(be, id, feature, on, ret_active, err);

	fake_net_persist(be);
	return r;
}

static int p_set_rings(void *be, const struct nic_id *id, const struct nic_rings_req *req,
		       struct kerror *err)
{
	int r = f_set_rings(be, id, req, err);

	fake_net_persist(be);
	return r;
}

static int p_rss_set(void *be, const struct nic_id *id, uint32_t ctx, const uint32_t *indir,
		     uint32_t n, struct kerror *err)
{
	int r = f_rss_set(be, id, ctx, indir, n, err);

	fake_net_persist(be);
	return r;
}

static int p_rss_create(void *be, const struct nic_id *id, const uint32_t *indir, uint32_t n,
			uint32_t *ret_ctx, struct kerror *err)
{
	int r = f_rss_create(be, id, indir, n, ret_ctx, err);

	fake_net_persist(be);
	return r;
}

static int p_rss_delete(void *be, const struct nic_id *id, uint32_t ctx, struct kerror *err)
{
	int r = f_rss_delete(be, id, ctx, err);

	fake_net_persist(be);
	return r;
}

static int p_rule_insert(void *be, const struct nic_id *id, struct nic_rule *rule,
			 struct kerror *err)
{
	int r = f_rule_insert(be, id, rule, err);

	fake_net_persist(be);
	return r;
}

static int p_rule_delete(void *be, const struct nic_id *id, uint32_t location, struct kerror *err)
{
	int r = f_rule_delete(be, id, location, err);

	fake_net_persist(be);
	return r;
}

static const struct nic_ops fake_ops = {
	.name = "fake",
	.list_links = f_list_links,
	.observe = f_observe,
	.set_channels = p_set_channels,
	.set_feature = p_set_feature,
	.set_rings = p_set_rings,
	.rss_set = p_rss_set,
	.rss_create = p_rss_create,
	.rss_delete = p_rss_delete,
	.rss_get = f_rss_get,
	.rule_insert = p_rule_insert,
	.rule_delete = p_rule_delete,
};

struct nic_backend fake_net_backend(struct fake_net *net)
{
	struct nic_backend b = { .ops = &fake_ops, .be = net };

	return b;
}
