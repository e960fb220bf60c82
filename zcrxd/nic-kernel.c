// SPDX-License-Identifier: MIT
/*
 * nic-kernel — the real struct nic_ops and the capability matrix
 * (nic-kernel.h).  Must not log above debug.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nic-ethtool.h"
#include "nic-ioctl.h"
#include "nic-kernel.h"
#include "nic-netdev.h"
#include "nic-rtnl.h"
#include "nic-uapi.h"

/* What only trying tells, per device. */
struct learned {
	int ifindex;
	struct nic_cap rss_set, rss_contexts, header_split, channels_set;
	struct nic_caps rules; /* rule_kinds only: what inserts taught */
	bool hds_checked;       /* hds_thresh below is the answer for a driver not reporting it */
	struct nic_cap hds_thresh;
	bool loc_last_refused;  /* the driver picks slots but refuses RX_CLS_LOC_LAST */
};

struct nic_kernel {
	struct genl_sock *gs; /* generic netlink requests */
	struct genl_sock *rt; /* rtnetlink requests */
	int fd;               /* SIOCETHTOOL */
	struct nic_ethnl eth;
	struct nic_netdev nd;
	struct learned *learned;
	size_t n_learned;
};

int nic_kernel_new(struct nic_kernel **ret, struct kerror *err)
{
	struct nic_kernel *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return kerror_set(err, ENOMEM, NULL, "open NIC backend", NULL);
	k->fd = -1;
	r = genl_sock_open(NETLINK_GENERIC, 0, &k->gs);
	if (r == 0)
		r = genl_sock_open(NETLINK_ROUTE, 0, &k->rt);
	if (r < 0) {
		kerror_set(err, r, NULL, "open netlink socket", NULL);
		goto fail;
	}
	r = nic_ioctl_open();
	if (r < 0) {
		kerror_set(err, r, NULL, "open ioctl socket", NULL);
		goto fail;
	}
	k->fd = r;
	/* ethtool netlink is 5.7+; without it only the ioctl parts work */
	if (nic_ethnl_init(&k->eth, k->gs, NULL) < 0)
		memset(&k->eth.fam, 0, sizeof(k->eth.fam));
	k->eth.s = k->gs;
	(void)nic_netdev_init(&k->nd, k->gs, NULL); /* 6.3+; absent is fine */
	*ret = k;
	return 0;
fail:
	nic_kernel_free(k);
	return r;
}

struct nic_kernel *nic_kernel_free(struct nic_kernel *k)
{
	if (!k)
		return NULL;
	genl_sock_close(k->gs);
	genl_sock_close(k->rt);
	if (k->fd >= 0)
		close(k->fd);
	free(k->learned);
	free(k);
	return NULL;
}

struct nic_backend nic_kernel_backend(struct nic_kernel *k)
{
	return (struct nic_backend){ .ops = &nic_kernel_ops, .be = k };
}

void nic_kernel_set_tap(struct nic_kernel *k, void (*fn)(const void *buf, size_t len, void *ud),
			void *ud)
{
	genl_sock_set_tap(k->gs, fn, ud);
	genl_sock_set_tap(k->rt, fn, ud);
}

bool nic_kernel_has_rss_netlink(const struct nic_kernel *k)
{
	return nic_ethnl_has(&k->eth, ZX_ETHTOOL_MSG_RSS_SET) &&
	       nic_ethnl_has(&k->eth, ZX_ETHTOOL_MSG_RSS_CREATE_ACT) &&
	       nic_ethnl_has(&k->eth, ZX_ETHTOOL_MSG_RSS_DELETE_ACT);
}

bool nic_kernel_has_netdev(const struct nic_kernel *k)
{
	return k->nd.fam.id != 0;
}

/* ---- helpers ------------------------------------------------------------- */

static struct learned *learned_get(struct nic_kernel *k, int ifindex)
{
	struct learned *nl;
	size_t i;

	for (i = 0; i < k->n_learned; i++)
		if (k->learned[i].ifindex == ifindex)
			return &k->learned[i];
	nl = realloc(k->learned, (k->n_learned + 1) * sizeof(*nl));
	if (!nl)
		return NULL;
	k->learned = nl;
	nl = &k->learned[k->n_learned++];
	memset(nl, 0, sizeof(*nl));
	nl->ifindex = ifindex;
	return nl;
}

static void k_forget(void *be, int ifindex)
{
	struct nic_kernel *k = be;
	size_t i;

	for (i = 0; i < k->n_learned; i++) {
		if (k->learned[i].ifindex != ifindex)
			continue;
		k->learned[i] = k->learned[--k->n_learned];
		return;
	}
}

static const char *id_name(const struct nic_id *id, char *buf)
{
	if (id->name && id->name[0])
		return id->name;
	if (if_indextoname((unsigned)id->ifindex, buf))
		return buf;
	snprintf(buf, IF_NAMESIZE, "#%d", id->ifindex);
	return buf;
}

static int ctx_err(struct kerror *err, const char *name, const char *op, int r)
{
	kerror_context(err, name, op);
	return r;
}

/* A "no" with the refusal: "<op>: <kernel text>". */
static void cap_no(struct nic_cap *c, const char *op, const struct kerror *e)
{
	char msg[KERROR_OP_MAX + KERROR_MSG_MAX + 4];

	snprintf(msg, sizeof(msg), "%s: %s", op, e->msg[0] ? e->msg : strerror(e->err));
	nic_cap_set(c, NIC_CAP_NO, e->err, msg);
}

static void cap_yes(struct nic_cap *c, const char *msg)
{
	nic_cap_set(c, NIC_CAP_YES, 0, msg);
}

static void learn(struct nic_cap *c, int r, const char *op, const struct kerror *e,
		  const char *yes)
{
	if (r == 0)
		cap_yes(c, yes);
	else if (r == -EOPNOTSUPP)
		cap_no(c, op, e);
}

static bool no_ethnl(const struct nic_kernel *k, uint8_t cmd, struct kerror *err)
{
	if (nic_ethnl_has(&k->eth, cmd))
		return false;
	kerror_set(err, EOPNOTSUPP, NULL, NULL, "this kernel's ethtool netlink lacks the message");
	return true;
}

/* ---- observe ------------------------------------------------------------- */

/* Settable channels: a maximum above zero is not enough (vmxnet3 reports
 * maxima but has no set operation).  Send the current counts once per
 * device: the core refuses drivers without the operation with its own text
 * and, as nothing changes, never passes the request to the others. */
static void check_channels_set(struct nic_kernel *k, const struct nic *nic, struct learned *ln)
{
	struct nic_channels_req req = { 0 };
	struct kerror e = { 0 };
	int r;

	if (!ln || ln->channels_set.state != NIC_CAP_UNKNOWN || ln->channels_set.msg[0] ||
	    !nic_ethnl_has(&k->eth, ZX_ETHTOOL_MSG_CHANNELS_SET))
		return;
	if (nic->ch.combined_max) {
		req.has_combined = true;
		req.combined = nic->ch.combined;
	}
	if (nic->ch.rx_max) {
		req.has_rx = true;
		req.rx = nic->ch.rx;
	}
	r = nic_ethnl_channels_set(&k->eth, nic->link.ifindex, &req, &e);
	learn(&ln->channels_set, r, "set channels", &e,
	      nic->ch.combined_max ? "combined" : "rx");
	if (ln->channels_set.state == NIC_CAP_UNKNOWN) /* some other refusal: ask once only */
		nic_cap_set(&ln->channels_set, NIC_CAP_UNKNOWN, r, e.msg[0] ? e.msg : "not learned");
}

static void observe_channels(struct nic_kernel *k, struct nic *nic, struct learned *ln)
{
	struct nic_caps *c = &nic->caps;
	struct kerror e = { 0 };
	char msg[128];

	memset(&nic->ch, 0, sizeof(nic->ch));
	if (no_ethnl(k, ZX_ETHTOOL_MSG_CHANNELS_GET, &e) ||
	    nic_ethnl_channels_get(&k->eth, nic->link.ifindex, &nic->ch, &e) < 0) {
		cap_no(&c->channels, "get channels", &e);
		cap_no(&c->channels_set, "get channels", &e);
		return;
	}
	snprintf(msg, sizeof(msg), "rx %u/%u tx %u/%u combined %u/%u", nic->ch.rx, nic->ch.rx_max,
		 nic->ch.tx, nic->ch.tx_max, nic->ch.combined, nic->ch.combined_max);
	cap_yes(&c->channels, msg);
	if (!nic->ch.rx_max && !nic->ch.combined_max) {
		nic_cap_set(&c->channels_set, NIC_CAP_NO, EOPNOTSUPP,
			    "the driver reports no settable RX or combined channels");
		return;
	}
	check_channels_set(k, nic, ln);
	if (ln && ln->channels_set.state == NIC_CAP_NO)
		c->channels_set = ln->channels_set;
	else
		cap_yes(&c->channels_set, nic->ch.combined_max ? "combined" : "rx");
}

/* tcp-data-split: send its current value once per device.  The core refuses
 * it with its own message for drivers that cannot set it (before asking the
 * driver whether rings work at all) and drops it as a no-op for the others. */
static void check_header_split(struct nic_kernel *k, const struct nic *nic, struct learned *ln)
{
	struct nic_rings_req req = { .has_tcp_data_split = true };
	struct kerror e = { 0 };
	int r;

	if (!ln || ln->header_split.state != NIC_CAP_UNKNOWN ||
	    !nic_ethnl_has(&k->eth, ZX_ETHTOOL_MSG_RINGS_SET))
		return;
	req.tcp_data_split = nic->rings.has_tcp_data_split ? nic->rings.tcp_data_split : 0;
	r = nic_ethnl_rings_set(&k->eth, nic->link.ifindex, &req, &e);
	learn(&ln->header_split, r, "set rings", &e, "settable");
}

/* hds-thresh: reported (with its maximum) only by drivers that have it; for
 * the others the kernel's refusal is the better message.  A driver without
 * it cannot accept the value, so nothing changes.  Asked once per device,
 * like the checks above: the answer does not change while it is the same
 * device (the forget op: it went away). */
static void check_hds_thresh(struct nic_kernel *k, struct nic *nic, struct learned *ln)
{
	struct nic_rings_req req = { .has_hds_thresh = true };
	struct kerror e = { 0 };
	char msg[128];
	int r;

	if (nic->rings.has_hds_thresh) {
		snprintf(msg, sizeof(msg), "hds-thresh %u (max %u)", nic->rings.hds_thresh,
			 nic->rings.hds_thresh_max);
		cap_yes(&nic->caps.hds_thresh, msg);
		return;
	}
	if (ln && ln->hds_checked) {
		nic->caps.hds_thresh = ln->hds_thresh;
		return;
	}
	r = nic_ethnl_has(&k->eth, ZX_ETHTOOL_MSG_RINGS_SET)
		    ? nic_ethnl_rings_set(&k->eth, nic->link.ifindex, &req, &e)
		    : kerror_set(&e, EOPNOTSUPP, NULL, NULL, NULL);
	if (r == -EINVAL && !strcmp(e.msg, "Unknown attribute type"))
		kerror_set(&e, EINVAL, NULL, NULL, "hds-thresh unknown to this kernel (Linux 6.14+)");
	if (r < 0)
		cap_no(&nic->caps.hds_thresh, "set rings", &e);
	else
		nic_cap_set(&nic->caps.hds_thresh, NIC_CAP_UNKNOWN, 0,
			    "accepted but not reported by the driver");
	if (ln) {
		ln->hds_checked = true;
		ln->hds_thresh = nic->caps.hds_thresh;
	}
}

static void observe_rings(struct nic_kernel *k, struct nic *nic, struct learned *ln)
{
	struct nic_caps *c = &nic->caps;
	struct kerror e = { 0 };
	char msg[128];

	memset(&nic->rings, 0, sizeof(nic->rings));
	if (no_ethnl(k, ZX_ETHTOOL_MSG_RINGS_GET, &e) ||
	    nic_ethnl_rings_get(&k->eth, nic->link.ifindex, &nic->rings, &e) < 0) {
		cap_no(&c->rings, "get rings", &e);
		memset(&nic->rings, 0, sizeof(nic->rings));
	} else {
		snprintf(msg, sizeof(msg), "rx %u/%u tx %u/%u", nic->rings.rx, nic->rings.rx_max,
			 nic->rings.tx, nic->rings.tx_max);
		cap_yes(&c->rings, msg);
	}
	check_hds_thresh(k, nic, ln);
	check_header_split(k, nic, ln);
	if (ln && ln->header_split.state == NIC_CAP_YES) {
		snprintf(msg, sizeof(msg), "settable, now %s",
			 nic->rings.tcp_data_split == NIC_TDS_ENABLED    ? "on"
			 : nic->rings.tcp_data_split == NIC_TDS_DISABLED ? "off"
									 : "unknown");
		cap_yes(&c->header_split, msg);
	} else if (ln && ln->header_split.state == NIC_CAP_NO) {
		c->header_split = ln->header_split;
	} else {
		nic_cap_set(&c->header_split, NIC_CAP_UNKNOWN, 0, "could not be checked");
	}
}

static void observe_features(struct nic_kernel *k, struct nic *nic)
{
	struct nic_caps *c = &nic->caps;
	struct kerror e = { 0 };
	struct nic_feature f;

	nic->ntuple_active = false;
	nic->ntuple_fixed = true;
	if (no_ethnl(k, ZX_ETHTOOL_MSG_FEATURES_GET, &e) ||
	    nic_ethnl_feature_get(&k->eth, nic->link.ifindex, ZX_FEATURE_NTUPLE, &f, &e) < 0) {
		cap_no(&c->ntuple, "get features", &e);
		return;
	}
	nic->ntuple_active = f.active;
	nic->ntuple_fixed = !f.hw;
	if (f.active)
		cap_yes(&c->ntuple, f.hw ? "on" : "on (fixed)");
	else if (f.hw)
		cap_yes(&c->ntuple, "off, can be turned on");
	else
		nic_cap_set(&c->ntuple, NIC_CAP_NO, EOPNOTSUPP,
			    "rx-ntuple-filter is not a changeable feature of this device");
}

static void rss_free(struct nic *nic)
{
	size_t i;

	for (i = 0; i < nic->n_rss; i++)
		nic_rss_clear(&nic->rss[i]);
	free(nic->rss);
	nic->rss = NULL;
	nic->n_rss = 0;
	free(nic->rss_gone);
	nic->rss_gone = NULL;
	nic->n_rss_gone = 0;
	nic->rss_listed = false;
}

/* Can this kernel list every context of a device (the RSS dump, 6.12)? */
static bool has_rss_dump(const struct nic_kernel *k)
{
	return nic_ethnl_has(&k->eth, ZX_ETHTOOL_MSG_RSS_GET) &&
	       (k->eth.fam.op_flags[ZX_ETHTOOL_MSG_RSS_GET] & GENL_CMD_CAP_DUMP);
}

static int rss_read(struct nic_kernel *k, struct nic *nic, struct kerror *e)
{
	int ifindex = nic->link.ifindex;
	struct nic_rss one;
	int r;

	if (nic_ethnl_has(&k->eth, ZX_ETHTOOL_MSG_RSS_GET)) {
		if (has_rss_dump(k)) {
			r = nic_ethnl_rss_dump(&k->eth, ifindex, &nic->rss, &nic->n_rss, e);
			if (r == 0 && nic->n_rss && nic->rss[0].id == 0) {
				nic->rss_listed = true; /* every context is in the dump */
				return 0;
			}
			if (r < 0)
				return r;
			/* the dump skips devices without RSS: ask to get the reason */
			rss_free(nic);
		}
		/* context 0 only: the others are read by id (nic_monitor) */
		r = nic_ethnl_rss_get(&k->eth, ifindex, 0, &one, e);
	} else {
		r = nic_ioctl_rss_get(k->fd, nic->link.name, 0, &one, e);
	}
	if (r < 0)
		return r;
	nic->rss = malloc(sizeof(*nic->rss));
	if (!nic->rss) {
		nic_rss_clear(&one);
		return kerror_set(e, ENOMEM, NULL, NULL, NULL);
	}
	nic->rss[0] = one;
	nic->n_rss = 1;
	return 0;
}

static void observe_rss(struct nic_kernel *k, struct nic *nic, struct learned *ln)
{
	struct nic_caps *c = &nic->caps;
	struct kerror e = { 0 };
	struct nic_rss probe;
	char msg[128];
	int r;

	rss_free(nic);
	if (rss_read(k, nic, &e) < 0) {
		cap_no(&c->rss, "get rss", &e);
		cap_no(&c->rss_set, "get rss", &e);
		cap_no(&c->rss_contexts, "get rss", &e);
		return;
	}
	snprintf(msg, sizeof(msg), "table %u entries, key %u bytes, hfunc 0x%x",
		 nic->rss[0].indir_size, nic->rss[0].key_size, nic->rss[0].hfunc);
	cap_yes(&c->rss, msg);

	if (ln && ln->rss_set.state != NIC_CAP_UNKNOWN)
		c->rss_set = ln->rss_set;
	else
		nic_cap_set(&c->rss_set, NIC_CAP_UNKNOWN, 0,
			    "readable; writability is learned from the first write");

	if (nic->n_rss > 1) {
		snprintf(msg, sizeof(msg), "%zu in use", nic->n_rss - 1);
		cap_yes(&c->rss_contexts, msg);
		return;
	}
	if (!nic->rss_listed && ln && ln->rss_contexts.state == NIC_CAP_YES) {
		/* this kernel cannot list them: the ones zcrxd owns are read
		 * by id, the others cannot be seen */
		cap_yes(&c->rss_contexts, "supported; this kernel cannot list them (the RSS "
					  "dump is Linux 6.12): read by id");
		return;
	}
	if (ln && ln->rss_contexts.state == NIC_CAP_UNKNOWN &&
	    nic_ethnl_has(&k->eth, ZX_ETHTOOL_MSG_RSS_GET)) {
		/* Reading a context that does not exist is ENOENT where contexts
		 * are supported and EOPNOTSUPP where they are not. */
		r = nic_ethnl_rss_get(&k->eth, nic->link.ifindex, 0x7ffffffe, &probe, &e);
		if (r == 0 || r == -ENOENT)
			cap_yes(&ln->rss_contexts, "supported, none in use");
		else if (r == -EOPNOTSUPP)
			cap_no(&ln->rss_contexts, "get rss context", &e);
		if (r == 0)
			nic_rss_clear(&probe);
	}
	if (ln && ln->rss_contexts.state != NIC_CAP_UNKNOWN)
		c->rss_contexts = ln->rss_contexts;
	else
		nic_cap_set(&c->rss_contexts, NIC_CAP_UNKNOWN, 0, "learned from the first create");
}

/* Each rule kind: yes when an installed rule is of that kind, else what an
 * insert taught, else not tried yet. */
static void rule_kinds(struct nic_caps *c, struct nic_caps *learned, const struct nic *nic)
{
	unsigned f, a;
	size_t i;

	for (f = 0; f < NIC_RULE_FLOWS; f++)
		for (a = 0; a < NIC_RULE_ACTS; a++) {
			const struct nic_cap *l = learned ? &learned->rule_kinds[f][a] : NULL;

			if (l && l->state != NIC_CAP_UNKNOWN)
				c->rule_kinds[f][a] = *l;
			else
				nic_cap_set(&c->rule_kinds[f][a], NIC_CAP_UNKNOWN, 0,
					    "not tried yet (learned from the first rule)");
		}
	for (i = 0; i < nic->n_rules; i++) {
		struct nic_cap *k = nic_rule_kind_cap(c, nic->rules[i].match, nic->rules[i].action);

		if (k)
			cap_yes(k, "an installed rule is of this kind");
	}
}

static void observe_rules(struct nic_kernel *k, struct nic *nic, struct learned *ln)
{
	struct nic_caps *c = &nic->caps;
	struct kerror e = { 0 };
	struct nic_rule_table t;
	char msg[128];

	free(nic->rules);
	nic->rules = NULL;
	nic->n_rules = 0;
	nic->rule_capacity = 0;
	nic->rule_loc_special = false;
	if (nic_ioctl_rule_dump(k->fd, nic->link.name, &nic->rules, &nic->n_rules, &t, &e) < 0) {
		unsigned f, a;

		cap_no(&c->rules, "get rules", &e);
		for (f = 0; f < NIC_RULE_FLOWS; f++)
			for (a = 0; a < NIC_RULE_ACTS; a++)
				cap_no(&c->rule_kinds[f][a], "get rules", &e);
		return;
	}
	nic->rule_capacity = t.size;
	nic->rule_loc_special = t.loc_special;
	snprintf(msg, sizeof(msg), "%u of %u slots used%s", t.count, t.size,
		 t.loc_special ? ", driver picks locations" : "");
	cap_yes(&c->rules, msg);
	rule_kinds(c, ln ? &ln->rules : NULL, nic);
}

static void fill_queue_irq(struct nic_queue *q, const struct nic_netdev_napi *napis, size_t n,
			   int dev_node)
{
	size_t i;
	int cpu;

	q->numa_node = dev_node;
	if (!q->napi_id)
		return;
	for (i = 0; i < n; i++) {
		if (napis[i].id != q->napi_id)
			continue;
		q->irq = napis[i].irq;
		if (q->irq >= 0 && nic_irq_affinity(q->irq, q->cpus, sizeof(q->cpus)) == 0) {
			cpu = nic_cpulist_first(q->cpus);
			if (nic_cpu_node(cpu) >= 0)
				q->numa_node = nic_cpu_node(cpu);
		}
		return;
	}
}

static void observe_queues(struct nic_kernel *k, struct nic *nic)
{
	struct nic_caps *c = &nic->caps;
	struct nic_netdev_queue *nq = NULL;
	struct nic_netdev_napi *napis = NULL;
	struct nic_netdev_qstat *qs = NULL;
	struct kerror e = { 0 };
	size_t n = 0, n_napi = 0, n_qs = 0, i, j;
	uint32_t count;
	char msg[128];
	int r;

	free(nic->queues);
	nic->queues = NULL;
	nic->n_queues = 0;
	r = nic_netdev_rx_queues(&k->nd, nic->link.ifindex, &nq, &n, &e);
	if (r < 0) {
		cap_no(&c->queue_info, "get queues", &e);
	} else if (!n) {
		nic_cap_set(&c->queue_info, NIC_CAP_UNKNOWN, 0,
			    nic->link.up ? "the kernel lists no queues"
					 : "device is down: queues are listed only while up");
	} else {
		snprintf(msg, sizeof(msg), "%zu RX queues", n);
		cap_yes(&c->queue_info, msg);
	}
	/* Without queue-get, fall back to the channel count (details unknown). */
	count = n ? (uint32_t)n : nic_rx_queue_count(nic);
	if (count) {
		nic->queues = calloc(count, sizeof(*nic->queues));
		if (!nic->queues)
			count = 0;
	}
	if (nic_netdev_has(&k->nd, ZX_NETDEV_CMD_NAPI_GET))
		(void)nic_netdev_napis(&k->nd, nic->link.ifindex, &napis, &n_napi, NULL);
	for (i = 0; i < count; i++) {
		struct nic_queue *q = &nic->queues[i];

		q->id = n ? nq[i].id : (uint32_t)i;
		q->irq = -1;
		q->napi_id = n ? nq[i].napi_id : 0;
		q->providers = n ? nq[i].providers : 0;
		fill_queue_irq(q, napis, n_napi, nic->numa_node);
	}
	nic->n_queues = count;

	r = nic_netdev_rx_qstats(&k->nd, nic->link.ifindex, &qs, &n_qs, &e);
	if (r < 0) {
		cap_no(&c->qstats, "get qstats", &e);
	} else {
		cap_yes(&c->qstats, "per-queue counters");
		for (i = 0; i < n_qs; i++)
			for (j = 0; j < nic->n_queues; j++)
				if (nic->queues[j].id == qs[i].id) {
					nic->queues[j].has_qstats = true;
					nic->queues[j].rx_packets = qs[i].rx_packets;
					nic->queues[j].rx_bytes = qs[i].rx_bytes;
				}
	}
	free(nq);
	free(napis);
	free(qs);
}

static int observe_link(struct nic_kernel *k, struct nic *nic, struct kerror *err)
{
	char drv[32] = "", bus[64] = "";
	int ifindex = nic->link.ifindex;
	int r;

	r = nic_rtnl_link_get(k->rt, ifindex, &nic->link, err);
	if (r < 0) {
		nic->link.ifindex = ifindex;
		return r;
	}
	if (nic_ioctl_drvinfo(k->fd, nic->link.name, drv, sizeof(drv), bus, sizeof(bus), NULL) < 0 ||
	    !drv[0])
		(void)nic_sysfs_driver(nic->link.name, ifindex, drv, sizeof(drv));
	snprintf(nic->driver, sizeof(nic->driver), "%s", drv[0] ? drv : nic->link.kind);
	snprintf(nic->bus_info, sizeof(nic->bus_info), "%s", bus[0] ? bus : nic->link.parent_dev);
	nic->numa_node = nic_sysfs_numa_node(nic->link.name, ifindex);
	nic->has_xdp = nic->link.xdp;
	return 0;
}

static int k_observe(void *be, struct nic *nic, unsigned what, struct kerror *err)
{
	struct nic_kernel *k = be;
	struct learned *ln;
	char name[IF_NAMESIZE];
	int r;

	kerror_clear(err);
	if ((what & NIC_OBSERVE_LINK) || !nic->link.name[0]) {
		r = observe_link(k, nic, err);
		if (r < 0) {
			snprintf(name, sizeof(name), "#%d", nic->link.ifindex);
			return ctx_err(err, nic->link.name[0] ? nic->link.name : name, "get link", r);
		}
	}
	ln = learned_get(k, nic->link.ifindex);
	if (what & NIC_OBSERVE_CHANNELS)
		observe_channels(k, nic, ln);
	if (what & NIC_OBSERVE_RINGS)
		observe_rings(k, nic, ln);
	if (what & NIC_OBSERVE_FEATURES)
		observe_features(k, nic);
	if (what & NIC_OBSERVE_RSS)
		observe_rss(k, nic, ln);
	if (what & NIC_OBSERVE_RULES)
		observe_rules(k, nic, ln);
	if (what & NIC_OBSERVE_QUEUES)
		observe_queues(k, nic);
	if (nic->caps.binder.state == NIC_CAP_UNKNOWN && !nic->caps.binder.msg[0])
		nic_cap_set(&nic->caps.binder, NIC_CAP_UNKNOWN, 0, "not probed by the NIC layer");
	return 0;
}

static int k_list_links(void *be, struct nic_link **ret, size_t *ret_n, struct kerror *err)
{
	struct nic_kernel *k = be;
	int r = nic_rtnl_links(k->rt, ret, ret_n, err);

	return r < 0 ? ctx_err(err, NULL, "list links", r) : 0;
}

/* ---- changes ------------------------------------------------------------- */

static int k_set_channels(void *be, const struct nic_id *id, const struct nic_channels_req *req,
			  struct kerror *err)
{
	struct nic_kernel *k = be;
	char buf[IF_NAMESIZE];
	int r;

	kerror_clear(err);
	r = no_ethnl(k, ZX_ETHTOOL_MSG_CHANNELS_SET, err)
		    ? -EOPNOTSUPP
		    : nic_ethnl_channels_set(&k->eth, id->ifindex, req, err);
	return r < 0 ? ctx_err(err, id_name(id, buf), "set channels", r) : 0;
}

static int k_set_feature(void *be, const struct nic_id *id, const char *feature, bool on,
			 bool *ret_active, struct kerror *err)
{
	struct nic_kernel *k = be;
	struct nic_feature_set_result res;
	struct nic_feature f;
	char buf[IF_NAMESIZE], op[KERROR_OP_MAX];
	int r;

	kerror_clear(err);
	snprintf(op, sizeof(op), "set feature %s", feature);
	if (no_ethnl(k, ZX_ETHTOOL_MSG_FEATURES_SET, err))
		return ctx_err(err, id_name(id, buf), op, -EOPNOTSUPP);
	r = nic_ethnl_feature_set(&k->eth, id->ifindex, feature, on, &res, err);
	if (r < 0)
		return ctx_err(err, id_name(id, buf), op, r);
	if (res.replied) {
		/* the kernel acks either way: the reply says whether it applied */
		*ret_active = !res.not_applied;
		return 0;
	}
	r = nic_ethnl_feature_get(&k->eth, id->ifindex, feature, &f, err);
	if (r < 0)
		return ctx_err(err, id_name(id, buf), op, r);
	*ret_active = f.active == on;
	return 0;
}

static int k_set_rings(void *be, const struct nic_id *id, const struct nic_rings_req *req,
		       struct kerror *err)
{
	struct nic_kernel *k = be;
	struct learned *ln = learned_get(k, id->ifindex);
	char buf[IF_NAMESIZE];
	int r;

	kerror_clear(err);
	r = no_ethnl(k, ZX_ETHTOOL_MSG_RINGS_SET, err)
		    ? -EOPNOTSUPP
		    : nic_ethnl_rings_set(&k->eth, id->ifindex, req, err);
	if (ln && req->has_tcp_data_split && !req->has_hds_thresh)
		learn(&ln->header_split, r, "set rings", err, "settable");
	return r < 0 ? ctx_err(err, id_name(id, buf), "set rings", r) : 0;
}

static int rss_write(struct nic_kernel *k, const struct nic_id *id, uint32_t ctx,
		     const uint32_t *indir, uint32_t n, bool reset, const uint8_t *key,
		     uint32_t key_len, struct kerror *err)
{
	char buf[IF_NAMESIZE];
	struct learned *ln = learned_get(k, id->ifindex);
	int r;

	kerror_clear(err);
	if (nic_ethnl_has(&k->eth, ZX_ETHTOOL_MSG_RSS_SET))
		r = nic_ethnl_rss_set(&k->eth, id->ifindex, ctx, indir, n, reset, key, key_len, err);
	else
		r = nic_ioctl_rss_set(k->fd, id_name(id, buf), ctx, indir, n, reset, key, key_len,
				      err);
	if (ln && ctx == 0)
		learn(&ln->rss_set, r, "set rss", err, "a write succeeded");
	return r < 0 ? ctx_err(err, id_name(id, buf), key ? "set rss key" : "set rss", r) : 0;
}

static int k_rss_set(void *be, const struct nic_id *id, uint32_t ctx, const uint32_t *indir,
		     uint32_t n, struct kerror *err)
{
	return rss_write(be, id, ctx, indir, n, n == 0, NULL, 0, err);
}

static int k_rss_set_key(void *be, const struct nic_id *id, uint32_t ctx, const uint8_t *key,
			 uint32_t key_len, struct kerror *err)
{
	if (!key || !key_len)
		return kerror_set(err, EINVAL, id->name, "set rss key", "empty key");
	return rss_write(be, id, ctx, NULL, 0, false, key, key_len, err);
}

static int k_rss_create(void *be, const struct nic_id *id, const uint32_t *indir, uint32_t n,
			uint32_t *ret_ctx, struct kerror *err)
{
	struct nic_kernel *k = be;
	struct learned *ln = learned_get(k, id->ifindex);
	char buf[IF_NAMESIZE];
	int r;

	kerror_clear(err);
	if (nic_ethnl_has(&k->eth, ZX_ETHTOOL_MSG_RSS_CREATE_ACT))
		r = nic_ethnl_rss_create(&k->eth, id->ifindex, indir, n, ret_ctx, err);
	else
		r = nic_ioctl_rss_create(k->fd, id_name(id, buf), indir, n, ret_ctx, err);
	if (ln)
		learn(&ln->rss_contexts, r, "create rss context", err, "a create succeeded");
	return r < 0 ? ctx_err(err, id_name(id, buf), "create rss context", r) : 0;
}

static int k_rss_get(void *be, const struct nic_id *id, uint32_t ctx, struct nic_rss *ret,
		     struct kerror *err)
{
	struct nic_kernel *k = be;
	char buf[IF_NAMESIZE];
	int r;

	kerror_clear(err);
	/* GRSSH with the context's id: the one read every kernel with
	 * contexts (4.16+) has; ENOENT or EINVAL when it does not exist */
	r = nic_ioctl_rss_get(k->fd, id_name(id, buf), ctx, ret, err);
	return r < 0 ? ctx_err(err, id_name(id, buf), "get rss context", r) : 0;
}

static int k_rss_delete(void *be, const struct nic_id *id, uint32_t ctx, struct kerror *err)
{
	struct nic_kernel *k = be;
	char buf[IF_NAMESIZE];
	int r;

	kerror_clear(err);
	if (nic_ethnl_has(&k->eth, ZX_ETHTOOL_MSG_RSS_DELETE_ACT))
		r = nic_ethnl_rss_delete(&k->eth, id->ifindex, ctx, err);
	else
		r = nic_ioctl_rss_delete(k->fd, id_name(id, buf), ctx, err);
	return r < 0 ? ctx_err(err, id_name(id, buf), "delete rss context", r) : 0;
}

static bool ntuple_on(struct nic_kernel *k, int ifindex)
{
	struct nic_feature f;

	return nic_ethnl_has(&k->eth, ZX_ETHTOOL_MSG_FEATURES_GET) &&
	       nic_ethnl_feature_get(&k->eth, ifindex, ZX_FEATURE_NTUPLE, &f, NULL) == 0 &&
	       f.active;
}

static int k_rule_insert(void *be, const struct nic_id *id, struct nic_rule *rule,
			 struct kerror *err)
{
	struct nic_kernel *k = be;
	struct learned *ln = learned_get(k, id->ifindex);
	char buf[IF_NAMESIZE];
	int r;

	bool last = !(ln && ln->loc_last_refused);
	struct nic_cap *kind;

	kerror_clear(err);
	r = nic_ioctl_rule_insert(k->fd, id_name(id, buf), rule, &last, err);
	if (ln && !last)
		ln->loc_last_refused = true;
	if (r == -EOPNOTSUPP && !ntuple_on(k, id->ifindex))
		ln = NULL; /* refused perhaps only because rx-ntuple-filter is off: learn nothing */
	kind = ln ? nic_rule_kind_cap(&ln->rules, rule->match, rule->action) : NULL;
	if (kind)
		learn(kind, r, "insert rule", err, "accepted by the driver");
	return r < 0 ? ctx_err(err, id_name(id, buf), "insert rule", r) : 0;
}

static int k_rule_delete(void *be, const struct nic_id *id, uint32_t location, struct kerror *err)
{
	struct nic_kernel *k = be;
	char buf[IF_NAMESIZE];
	int r;

	kerror_clear(err);
	r = nic_ioctl_rule_delete(k->fd, id_name(id, buf), location, err);
	return r < 0 ? ctx_err(err, id_name(id, buf), "delete rule", r) : 0;
}

static int k_flow_hash_get(void *be, const struct nic_id *id, uint32_t flow_type,
			   uint64_t *ret_fields, struct kerror *err)
{
	struct nic_kernel *k = be;
	char buf[IF_NAMESIZE];
	int r;

	kerror_clear(err);
	r = nic_ioctl_flow_hash_get(k->fd, id_name(id, buf), flow_type, ret_fields, err);
	return r < 0 ? ctx_err(err, id_name(id, buf), "get flow hash", r) : 0;
}

static int k_flow_hash_set(void *be, const struct nic_id *id, uint32_t flow_type, uint64_t fields,
			   struct kerror *err)
{
	struct nic_kernel *k = be;
	char buf[IF_NAMESIZE];
	int r;

	kerror_clear(err);
	r = nic_ioctl_flow_hash_set(k->fd, id_name(id, buf), flow_type, fields, err);
	return r < 0 ? ctx_err(err, id_name(id, buf), "set flow hash", r) : 0;
}

const struct nic_ops nic_kernel_ops = {
	.name = "kernel",
	.list_links = k_list_links,
	.observe = k_observe,
	.set_channels = k_set_channels,
	.set_feature = k_set_feature,
	.set_rings = k_set_rings,
	.rss_set = k_rss_set,
	.rss_create = k_rss_create,
	.rss_delete = k_rss_delete,
	.rss_get = k_rss_get,
	.rule_insert = k_rule_insert,
	.rule_delete = k_rule_delete,
	.rss_set_key = k_rss_set_key,
	.flow_hash_get = k_flow_hash_get,
	.flow_hash_set = k_flow_hash_set,
	.forget = k_forget,
};
