// SPDX-License-Identifier: MIT
/*
 * nic-monitor — the observed NIC table and its change tracking
 * (nic-monitor.h).  Must not change NICs or log above debug.
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "genl.h"
#include "log.h"
#include "nic-ethtool.h"
#include "nic-monitor.h"
#include "nic-netdev.h"
#include "nic-uapi.h"

#define RCVBUF (4 * 1024 * 1024)

struct pending {
	int ifindex;
	unsigned what;
};

struct nic_monitor {
	sd_event *ev;
	struct nic_backend be;
	struct genl_sock *gn; /* ethtool "monitor" + netdev "mgmt" */
	struct genl_sock *rt; /* RTNLGRP_LINK */
	uint16_t ethtool_id, netdev_id;
	sd_event_source *gn_src, *rt_src, *defer;
	nic_monitor_interest_fn interest;
	void *interest_ud;

	struct nic *nics; /* sorted by ifindex */
	size_t n;
	struct pending *pend;
	size_t n_pend;
	bool resync_pending;
	/* the loop's turn (sd_event_get_iteration) in which a catch-up last
	 * read the rtnl socket to its end (NIC_CATCH_UP_TURN); 0: none */
	uint64_t read_turn;

	nic_monitor_cb cb;
	void *userdata;
	nic_monitor_decorate_fn decorate;
	void *decorate_ud;
	nic_monitor_ctx_ids_fn ctx_ids;
	void *ctx_ids_ud;
	struct nic_monitor_stats st;
};

/* ---- content comparison ---------------------------------------------------- */

static bool cap_eq(const struct nic_cap *a, const struct nic_cap *b)
{
	return a->state == b->state && a->err == b->err && !strcmp(a->msg, b->msg);
}

static bool rss_eq(const struct nic_rss *a, const struct nic_rss *b)
{
	return a->id == b->id && a->hfunc == b->hfunc && a->input_xfrm == b->input_xfrm &&
	       a->indir_size == b->indir_size &&
	       a->key_size == b->key_size &&
	       (!a->indir_size || !memcmp(a->indir, b->indir, a->indir_size * sizeof(uint32_t))) &&
	       (!a->key_size || !a->key || !b->key || !memcmp(a->key, b->key, a->key_size)) &&
	       (!a->key == !b->key);
}

static bool rule_eq(const struct nic_rule *a, const struct nic_rule *b)
{
	return a->location == b->location && a->match == b->match &&
	       !memcmp(a->mac, b->mac, NIC_MAC_LEN) && a->ip4.s_addr == b->ip4.s_addr &&
	       !memcmp(&a->ip6, &b->ip6, sizeof(a->ip6)) &&
	       (!nic_rule_match_is_flow(a->match) || nic_flow_equal(&a->flow, &b->flow)) &&
	       a->action == b->action &&
	       a->queue == b->queue && a->rss_context == b->rss_context &&
	       a->flow_type == b->flow_type;
}

static bool queue_eq(const struct nic_queue *a, const struct nic_queue *b)
{
	/* rx_packets/rx_bytes are counters, not state */
	return a->id == b->id && a->napi_id == b->napi_id && a->irq == b->irq &&
	       a->numa_node == b->numa_node && !strcmp(a->cpus, b->cpus) &&
	       a->providers == b->providers && a->has_qstats == b->has_qstats;
}

static bool link_eq(const struct nic_link *a, const struct nic_link *b)
{
	return a->ifindex == b->ifindex && !strcmp(a->name, b->name) && !strcmp(a->kind, b->kind) &&
	       !memcmp(a->mac, b->mac, NIC_MAC_LEN) && a->up == b->up &&
	       a->link_ifindex == b->link_ifindex && a->macvlan_mode == b->macvlan_mode &&
	       a->num_rx_queues == b->num_rx_queues && a->num_tx_queues == b->num_tx_queues &&
	       a->link_netnsid == b->link_netnsid && a->xdp == b->xdp &&
	       !strcmp(a->parent_bus, b->parent_bus) && !strcmp(a->parent_dev, b->parent_dev) &&
	       a->mtu == b->mtu;
}

unsigned nic_diff(const struct nic *a, const struct nic *b)
{
	const struct nic_caps *x = &a->caps, *y = &b->caps;
	unsigned d = 0;
	size_t i;

	if (!link_eq(&a->link, &b->link) || strcmp(a->driver, b->driver) ||
	    strcmp(a->bus_info, b->bus_info) || a->numa_node != b->numa_node ||
	    a->has_xdp != b->has_xdp || !cap_eq(&x->binder, &y->binder))
		d |= NIC_OBSERVE_LINK;
	if (memcmp(&a->ch, &b->ch, sizeof(a->ch)) || !cap_eq(&x->channels, &y->channels) ||
	    !cap_eq(&x->channels_set, &y->channels_set))
		d |= NIC_OBSERVE_CHANNELS;
	if (a->rings.valid != b->rings.valid || a->rings.rx_max != b->rings.rx_max ||
	    a->rings.tx_max != b->rings.tx_max || a->rings.rx != b->rings.rx ||
	    a->rings.tx != b->rings.tx ||
	    a->rings.has_tcp_data_split != b->rings.has_tcp_data_split ||
	    a->rings.tcp_data_split != b->rings.tcp_data_split ||
	    a->rings.has_hds_thresh != b->rings.has_hds_thresh ||
	    a->rings.hds_thresh != b->rings.hds_thresh ||
	    a->rings.hds_thresh_max != b->rings.hds_thresh_max || !cap_eq(&x->rings, &y->rings) ||
	    !cap_eq(&x->header_split, &y->header_split) || !cap_eq(&x->hds_thresh, &y->hds_thresh))
		d |= NIC_OBSERVE_RINGS;
	if (a->ntuple_active != b->ntuple_active || a->ntuple_fixed != b->ntuple_fixed ||
	    !cap_eq(&x->ntuple, &y->ntuple))
		d |= NIC_OBSERVE_FEATURES;
	if (a->n_rss != b->n_rss || !cap_eq(&x->rss, &y->rss) || !cap_eq(&x->rss_set, &y->rss_set) ||
	    !cap_eq(&x->rss_contexts, &y->rss_contexts) || a->rss_listed != b->rss_listed ||
	    a->n_rss_gone != b->n_rss_gone ||
	    (a->n_rss_gone && memcmp(a->rss_gone, b->rss_gone, a->n_rss_gone * sizeof(uint32_t))))
		d |= NIC_OBSERVE_RSS;
	for (i = 0; !(d & NIC_OBSERVE_RSS) && i < a->n_rss; i++)
		if (!rss_eq(&a->rss[i], &b->rss[i]))
			d |= NIC_OBSERVE_RSS;
	if (a->n_rules != b->n_rules || a->rule_capacity != b->rule_capacity ||
	    a->rule_loc_special != b->rule_loc_special || !cap_eq(&x->rules, &y->rules))
		d |= NIC_OBSERVE_RULES;
	for (i = 0; i < NIC_RULE_FLOWS * NIC_RULE_ACTS; i++)
		if (!cap_eq(&x->rule_kinds[i / NIC_RULE_ACTS][i % NIC_RULE_ACTS],
			    &y->rule_kinds[i / NIC_RULE_ACTS][i % NIC_RULE_ACTS]))
			d |= NIC_OBSERVE_RULES;
	for (i = 0; !(d & NIC_OBSERVE_RULES) && i < a->n_rules; i++)
		if (!rule_eq(&a->rules[i], &b->rules[i]))
			d |= NIC_OBSERVE_RULES;
	if (a->n_queues != b->n_queues || !cap_eq(&x->queue_info, &y->queue_info) ||
	    !cap_eq(&x->qstats, &y->qstats))
		d |= NIC_OBSERVE_QUEUES;
	for (i = 0; !(d & NIC_OBSERVE_QUEUES) && i < a->n_queues; i++)
		if (!queue_eq(&a->queues[i], &b->queues[i]))
			d |= NIC_OBSERVE_QUEUES;
	return d;
}

/* ---- the table --------------------------------------------------------------- */

static ssize_t slot(const struct nic_monitor *m, int ifindex, bool *found)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->nics[mid].link.ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < m->n && m->nics[lo].link.ifindex == ifindex;
	return (ssize_t)lo;
}

size_t nic_monitor_count(const struct nic_monitor *m)
{
	return m->n;
}

const struct nic *nic_monitor_at(const struct nic_monitor *m, size_t i)
{
	return i < m->n ? &m->nics[i] : NULL;
}

const struct nic *nic_monitor_get(const struct nic_monitor *m, int ifindex)
{
	bool found;
	ssize_t i = slot(m, ifindex, &found);

	return found ? &m->nics[i] : NULL;
}

const struct nic *nic_monitor_find(const struct nic_monitor *m, const char *name)
{
	size_t i;

	for (i = 0; name && i < m->n; i++)
		if (!strcmp(m->nics[i].link.name, name))
			return &m->nics[i];
	return NULL;
}

struct nic_monitor_stats nic_monitor_stats(const struct nic_monitor *m)
{
	return m->st;
}

static void notify(struct nic_monitor *m, const struct nic *nic, enum nic_change c, unsigned what)
{
	if (m->cb)
		m->cb(m, nic, c, what, m->userdata);
}

static void drop_pending(struct nic_monitor *m, int ifindex)
{
	size_t i = 0;

	while (i < m->n_pend) {
		if (m->pend[i].ifindex == ifindex)
			m->pend[i] = m->pend[--m->n_pend];
		else
			i++;
	}
}

static void remove_at(struct nic_monitor *m, size_t i)
{
	struct nic old = m->nics[i];

	memmove(&m->nics[i], &m->nics[i + 1], (m->n - i - 1) * sizeof(*m->nics));
	m->n--;
	if (m->be.ops->forget)
		m->be.ops->forget(m->be.be, old.link.ifindex);
	drop_pending(m, old.link.ifindex);
	log_debug(LOG_SUBSYS_NIC, "%s (ifindex %d) is gone", old.link.name, old.link.ifindex);
	notify(m, &old, NIC_CHANGE_REMOVED, NIC_OBSERVE_ALL);
	nic_clear(&old);
}

static void remove_ifindex(struct nic_monitor *m, int ifindex)
{
	bool found;
	ssize_t i = slot(m, ifindex, &found);

	if (found)
		remove_at(m, (size_t)i);
	else if (m->be.ops->forget)
		m->be.ops->forget(m->be.be, ifindex);
}

static bool is_loopback(const struct nic *n)
{
	return !strcmp(n->link.name, "lo");
}

void nic_monitor_read_contexts(struct nic_backend be, struct nic *nic, const uint32_t *ids,
			       size_t n)
{
	struct nic_id id = { nic->link.ifindex, nic->link.name };
	struct nic_rss r;
	struct kerror err;
	size_t i;
	int e;

	if (nic->rss_listed || !nic->n_rss || !be.ops->rss_get)
		return;
	for (i = 0; i < n; i++) {
		if (!ids[i] || nic_ctx_state(nic, ids[i]) != NIC_CTX_UNKNOWN)
			continue;
		memset(&r, 0, sizeof(r));
		kerror_clear(&err);
		e = be.ops->rss_get(be.be, &id, ids[i], &r, &err);
		if (e == 0) {
			r.id = ids[i];
			if (nic_rss_add(nic, &r) < 0)
				nic_rss_clear(&r);
		} else if (e == -ENOENT || e == -EINVAL) {
			(void)nic_rss_add_gone(nic, ids[i]);
		} else {
			log_debug(LOG_SUBSYS_NIC, "%s: RSS context %u not read: %s", nic->link.name,
				  ids[i], strerror(-e));
		}
	}
}

/* Where the kernel cannot list RSS contexts, the ones another layer needs. */
static void read_contexts(struct nic_monitor *m, struct nic *nic)
{
	uint32_t ids[NIC_MONITOR_CTX_IDS_MAX];
	size_t n;

	if (nic->rss_listed || !nic->n_rss || !m->ctx_ids)
		return;
	n = m->ctx_ids(nic, ids, NIC_MONITOR_CTX_IDS_MAX, m->ctx_ids_ud);
	nic_monitor_read_contexts(m->be, nic, ids, n < NIC_MONITOR_CTX_IDS_MAX ? n :
									  NIC_MONITOR_CTX_IDS_MAX);
}

/* The loop turn's time: what nic->read_all_usec records. */
static uint64_t turn_usec(const struct nic_monitor *m)
{
	struct timespec ts;
	uint64_t now;

	if (m->ev && sd_event_now(m->ev, CLOCK_MONOTONIC, &now) >= 0)
		return now;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Take next, a NIC of the table read again with what (r: the read's
 * result), into the table, and tell what changed.  A device that is gone
 * is removed. */
static int take(struct nic_monitor *m, struct nic *next, unsigned what, int r)
{
	bool found;
	ssize_t i = slot(m, next->link.ifindex, &found);
	unsigned d;

	if (r < 0 || !found) {
		nic_clear(next);
		if (r == -ENODEV && found) {
			remove_at(m, (size_t)i);
			return -ENODEV;
		}
		return r;
	}
	if (what & NIC_OBSERVE_RSS)
		read_contexts(m, next);
	if (m->decorate)
		m->decorate(next, m->decorate_ud);
	if (what == NIC_OBSERVE_ALL)
		next->read_all_usec = turn_usec(m);
	d = nic_diff(&m->nics[i], next);
	next->generation = m->nics[i].generation + (d ? 1 : 0);
	nic_clear(&m->nics[i]);
	m->nics[i] = *next; /* counters are refreshed even when nothing else changed */
	if (d) {
		m->st.changes++;
		notify(m, &m->nics[i], NIC_CHANGE_UPDATED, d);
	}
	return 0;
}

/* Read (or re-read) one device.  A device that is gone is removed. */
static int refresh_one(struct nic_monitor *m, int ifindex, unsigned what)
{
	struct kerror err;
	struct nic next;
	bool found;
	ssize_t i = slot(m, ifindex, &found);
	int r;

	m->st.refreshes++;
	if (!found) {
		nic_init(&next);
		next.link.ifindex = ifindex;
		r = m->be.ops->observe(m->be.be, &next, NIC_OBSERVE_LINK, &err);
		if (r == 0 && !is_loopback(&next))
			r = m->be.ops->observe(m->be.be, &next, NIC_OBSERVE_ALL & ~NIC_OBSERVE_LINK,
					       &err);
		if (r < 0 || is_loopback(&next)) {
			nic_clear(&next);
			return r == -ENODEV ? 0 : r;
		}
		read_contexts(m, &next);
		if (m->decorate)
			m->decorate(&next, m->decorate_ud);
		next.generation = 1;
		next.read_all_usec = turn_usec(m);
		i = slot(m, ifindex, &found); /* observe does not touch the table, but be safe */
		{
			struct nic *nv = realloc(m->nics, (m->n + 1) * sizeof(*nv));

			if (!nv) {
				nic_clear(&next);
				return -ENOMEM;
			}
			m->nics = nv;
		}
		memmove(&m->nics[i + 1], &m->nics[i], (m->n - (size_t)i) * sizeof(*m->nics));
		m->nics[i] = next;
		m->n++;
		m->st.changes++;
		log_debug(LOG_SUBSYS_NIC, "%s (ifindex %d) appeared", next.link.name, ifindex);
		notify(m, &m->nics[i], NIC_CHANGE_ADDED, NIC_OBSERVE_ALL);
		return 0;
	}

	r = nic_copy(&next, &m->nics[i]);
	if (r < 0)
		return r;
	/* the link read first tells whether the device still exists */
	what |= NIC_OBSERVE_LINK;
	r = m->be.ops->observe(m->be.be, &next, what, &err);
	return take(m, &next, what, r);
}

int nic_monitor_refresh(struct nic_monitor *m, int ifindex, unsigned what)
{
	return refresh_one(m, ifindex, what);
}

/* The NICs of the table that one hand-over reads again (observe_many):
 * 32 copies of a struct nic (5 KiB each) at most at a time. */
#define BATCH_MAX 32

struct batch {
	size_t n, cap;
	unsigned what[BATCH_MAX];
	int res[BATCH_MAX];
	struct nic nics[]; /* cap of them */
};

static struct batch *batch_new(size_t want)
{
	size_t cap = want < BATCH_MAX ? want : BATCH_MAX;
	struct batch *b = malloc(sizeof(*b) + cap * sizeof(b->nics[0]));

	if (b) {
		b->n = 0;
		b->cap = cap;
	}
	return b;
}

/* What a re-read reads of have, a NIC of the table: everything, but on the
 * interval the link only of a NIC of no interest. */
static unsigned reread_what(struct nic_monitor *m, const struct nic *have, bool periodic)
{
	if (periodic && m->interest && !m->interest(have, m->interest_ud)) {
		m->st.link_only++;
		return NIC_OBSERVE_LINK;
	}
	return NIC_OBSERVE_ALL;
}

/* A copy of have into b, to be read with what; false: not (no memory). */
static bool queue(struct batch *b, const struct nic *have, unsigned what)
{
	if (nic_copy(&b->nics[b->n], have) < 0)
		return false;
	b->what[b->n++] = what | NIC_OBSERVE_LINK;
	return true;
}

/* Read the batch's NICs again, all in one call of the backend, with the
 * links listed first in it when links is set (-errno: not listed, none
 * read), and take each into the table. */
static int flush(struct nic_monitor *m, struct batch *b, struct nic_link **links, size_t *n_links)
{
	struct kerror err;
	size_t i;
	int r;

	if (!b->n)
		return 0;
	r = m->be.ops->observe_many(m->be.be, links, n_links, b->nics, b->what, b->res, b->n,
				    &err);
	for (i = 0; i < b->n; i++) {
		if (r < 0 && links) { /* as a listing that failed: nothing read */
			nic_clear(&b->nics[i]);
			continue;
		}
		m->st.refreshes++;
		(void)take(m, &b->nics[i], b->what[i], r < 0 ? r : b->res[i]);
	}
	b->n = 0;
	return links ? r : 0;
}

/* Read ifindex again with what: into the batch b when it has a copy of it
 * in the table (have; the batch read when full), else alone, after what the
 * batch holds (in order).  No batch: alone. */
static void reread(struct nic_monitor *m, struct batch *b, int ifindex, const struct nic *have,
		   unsigned what)
{
	if (b && have && queue(b, have, what)) {
		if (b->n == b->cap)
			(void)flush(m, b, NULL, NULL);
		return;
	}
	if (b)
		(void)flush(m, b, NULL, NULL);
	(void)refresh_one(m, ifindex, what); /* new, or no copy */
}

/* Every link read again; periodic: the interval's re-read, where a link of
 * no interest (nic_monitor_set_interest) gets its link attributes only.
 * Where the backend has observe_many, the links the table holds are read
 * BATCH_MAX at a time in one call, the first BATCH_MAX in the call that
 * lists the links (one hand-over to zcrxd's NIC thread for all of it); a
 * new link on its own, in order. */
static int resync(struct nic_monitor *m, bool periodic)
{
	struct nic_link *links = NULL;
	struct batch *b = NULL;
	int first[BATCH_MAX]; /* the NICs read with the listing, by ifindex */
	size_t n = 0, n_first = 0, f = 0, i, j;
	struct kerror err;
	int r;

	m->st.resyncs++;
	m->resync_pending = false;
	m->n_pend = 0;
	if (m->be.ops->observe_many && m->n)
		b = batch_new(m->n); /* none: one by one */
	for (i = 0; b && i < m->n && b->n < b->cap; i++)
		if (queue(b, &m->nics[i], reread_what(m, &m->nics[i], periodic)))
			first[n_first++] = m->nics[i].link.ifindex;
	if (b && b->n)
		r = flush(m, b, &links, &n);
	else
		r = m->be.ops->list_links(m->be.be, &links, &n, &err);
	if (r < 0) {
		free(b);
		return r;
	}
	/* gone: in the table, not in the dump (both sorted by ifindex) */
	for (i = 0, j = 0; i < m->n;) {
		while (j < n && links[j].ifindex < m->nics[i].link.ifindex)
			j++;
		if (j < n && links[j].ifindex == m->nics[i].link.ifindex)
			i++;
		else
			remove_at(m, i);
	}
	for (j = 0; j < n; j++) {
		const struct nic *have;
		unsigned what;

		if (!strcmp(links[j].name, "lo"))
			continue;
		while (f < n_first && first[f] < links[j].ifindex)
			f++;
		if (f < n_first && first[f] == links[j].ifindex)
			continue; /* read with the listing */
		have = nic_monitor_get(m, links[j].ifindex);
		what = have ? reread_what(m, have, periodic) : NIC_OBSERVE_ALL;
		reread(m, b, links[j].ifindex, have, what);
	}
	if (b)
		(void)flush(m, b, NULL, NULL);
	free(b);
	free(links);
	return 0;
}

int nic_monitor_refresh_many(struct nic_monitor *m, const int *ifindexes, size_t n, unsigned what)
{
	struct batch *b = NULL;
	size_t i;

	if (n > 1 && m->be.ops->observe_many)
		b = batch_new(n); /* none: one by one */
	for (i = 0; i < n; i++)
		reread(m, b, ifindexes[i], nic_monitor_get(m, ifindexes[i]), what);
	if (b)
		(void)flush(m, b, NULL, NULL);
	free(b);
	return 0;
}

int nic_monitor_resync(struct nic_monitor *m)
{
	return resync(m, false);
}

int nic_monitor_reread(struct nic_monitor *m)
{
	return resync(m, true);
}

void nic_monitor_set_interest(struct nic_monitor *m, nic_monitor_interest_fn fn, void *userdata)
{
	m->interest = fn;
	m->interest_ud = userdata;
}

/* ---- notifications ----------------------------------------------------------- */

static void want(struct nic_monitor *m, int ifindex, unsigned what)
{
	struct pending *np;
	size_t i;

	if (ifindex <= 0)
		return;
	for (i = 0; i < m->n_pend; i++) {
		if (m->pend[i].ifindex == ifindex) {
			m->pend[i].what |= what;
			goto arm;
		}
	}
	np = realloc(m->pend, (m->n_pend + 1) * sizeof(*np));
	if (!np) {
		m->resync_pending = true;
		goto arm;
	}
	m->pend = np;
	m->pend[m->n_pend++] = (struct pending){ .ifindex = ifindex, .what = what };
arm:
	(void)sd_event_source_set_enabled(m->defer, SD_EVENT_ONESHOT);
}

static unsigned ethtool_what(uint8_t cmd)
{
	switch (cmd) {
	case ZX_ETHTOOL_MSG_CHANNELS_NTF:
		/* queue counts change, and with them the default RSS table */
		return NIC_OBSERVE_CHANNELS | NIC_OBSERVE_QUEUES | NIC_OBSERVE_RSS;
	case ZX_ETHTOOL_MSG_RINGS_NTF:
		return NIC_OBSERVE_RINGS;
	case ZX_ETHTOOL_MSG_FEATURES_NTF:
		/* drivers drop their n-tuple rules when rx-ntuple-filter goes off */
		return NIC_OBSERVE_FEATURES | NIC_OBSERVE_RULES;
	case ZX_ETHTOOL_MSG_RSS_NTF:
	case ZX_ETHTOOL_MSG_RSS_CREATE_NTF:
	case ZX_ETHTOOL_MSG_RSS_DELETE_NTF:
		return NIC_OBSERVE_RSS;
	}
	return 0;
}

static int genl_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nic_monitor *m = data;
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	unsigned what;

	if (mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN)
		return 0;
	m->st.notifications++;
	if (m->ethtool_id && nlh->nlmsg_type == m->ethtool_id) {
		what = ethtool_what(g->cmd);
		if (what)
			want(m, nic_ethnl_msg_ifindex(nlh), what);
	} else if (m->netdev_id && nlh->nlmsg_type == m->netdev_id) {
		/* add/del also come through rtnetlink; a change is xdp features */
		if (g->cmd == ZX_NETDEV_CMD_DEV_ADD_NTF || g->cmd == ZX_NETDEV_CMD_DEV_CHANGE_NTF)
			want(m, nic_netdev_msg_ifindex(nlh), NIC_OBSERVE_LINK | NIC_OBSERVE_QUEUES);
		/* a memory provider (io_uring zcrx, devmem) coming or going
		 * restarts its queue with new page pools: queue-get tells which */
		else if (g->cmd == ZX_NETDEV_CMD_PAGE_POOL_ADD_NTF ||
			 g->cmd == ZX_NETDEV_CMD_PAGE_POOL_DEL_NTF ||
			 g->cmd == ZX_NETDEV_CMD_PAGE_POOL_CHANGE_NTF)
			want(m, nic_netdev_pp_msg_ifindex(nlh), NIC_OBSERVE_QUEUES);
	}
	return 0;
}

static int rtnl_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nic_monitor *m = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return 0;
	m->st.notifications++;
	if (nlh->nlmsg_type == RTM_DELLINK)
		remove_ifindex(m, ifi->ifi_index);
	else if (nlh->nlmsg_type == RTM_NEWLINK)
		/* up/down changes which queues netdev lists; a rename, the name */
		want(m, ifi->ifi_index, nic_monitor_get(m, ifi->ifi_index)
						? NIC_OBSERVE_LINK | NIC_OBSERVE_QUEUES
						: NIC_OBSERVE_ALL);
	return 0;
}

static void overrun(struct nic_monitor *m)
{
	m->st.overruns++;
	m->resync_pending = true;
	(void)sd_event_source_set_enabled(m->defer, SD_EVENT_ONESHOT);
	log_debug(LOG_SUBSYS_NIC, "notifications were lost (ENOBUFS), full resync");
}

static int on_genl(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct nic_monitor *m = userdata;

	if (genl_sock_recv(m->gn, genl_cb, m) == -ENOBUFS)
		overrun(m);
	return 0;
}

static int on_rtnl(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct nic_monitor *m = userdata;

	if (genl_sock_recv(m->rt, rtnl_cb, m) == -ENOBUFS)
		overrun(m);
	return 0;
}

static int on_defer(sd_event_source *s, void *userdata)
{
	struct nic_monitor *m = userdata;
	struct pending *p;
	size_t n, i;

	if (m->resync_pending) {
		(void)nic_monitor_resync(m);
		return 0;
	}
	/* take the list: callbacks may queue more work */
	p = m->pend;
	n = m->n_pend;
	m->pend = NULL;
	m->n_pend = 0;
	for (i = 0; i < n; i++)
		(void)refresh_one(m, p[i].ifindex, p[i].what);
	free(p);
	return 0;
}

/* The loop's turn when the monitor's loop is dispatching a source now
 * (0: it is not, or its turn is unknown). */
static uint64_t dispatch_turn(struct nic_monitor *m)
{
	uint64_t turn = 0;

	if (sd_event_get_state(m->ev) != SD_EVENT_RUNNING ||
	    sd_event_get_iteration(m->ev, &turn) < 0)
		return 0;
	return turn;
}

/* Whether the rtnl socket may hold a notification sent before the cause
 * of work of that kind was read (nic-monitor.h). */
static bool may_hold(struct nic_monitor *m, enum nic_catch_up since, uint64_t turn)
{
	if (since == NIC_CATCH_UP_DONE)
		return false;
	if (since != NIC_CATCH_UP_TURN || !turn)
		return true;
	/* read to its end in this turn, after the turn's look */
	if (m->read_turn == turn)
		return false;
	/* The turn's look (epoll_wait, level-triggered: a socket with data
	 * is reported every turn) marked the source pending if the socket
	 * held anything, and only its own dispatch (on_rtnl, which reads it
	 * to EAGAIN) clears that here (sd-event also clears it when a source
	 * is disabled or its events change: the monitor does neither).  Not
	 * pending: everything announced before the look was read before it
	 * (into the table, or into m->pend, observed below); what it left
	 * behind the look saw.  An error (ENOBUFS) is reported as readable. */
	return sd_event_source_get_pending(m->rt_src) != 0;
}

bool nic_monitor_catch_up(struct nic_monitor *m, enum nic_catch_up since)
{
	uint64_t turn = dispatch_turn(m);
	struct pending *p;
	size_t n, i;
	bool links = false;
	int r;

	if (may_hold(m, since, turn)) {
		m->st.catch_up_reads++;
		r = genl_sock_recv(m->rt, rtnl_cb, m);
		if (r == -ENOBUFS)
			overrun(m);
		else if (r == 0) /* read to EAGAIN */
			m->read_turn = turn;
	} else {
		m->st.catch_up_skipped++;
	}
	if (m->resync_pending)
		return false;
	for (i = 0; i < m->n_pend && !links; i++)
		links = m->pend[i].what & NIC_OBSERVE_LINK;
	if (!links)
		return true; /* nothing queued moves a link or its name */
	/* what on_defer would do next: take the list, callbacks may queue more */
	p = m->pend;
	n = m->n_pend;
	m->pend = NULL;
	m->n_pend = 0;
	for (i = 0; i < n; i++)
		(void)refresh_one(m, p[i].ifindex, p[i].what);
	free(p);
	return !m->resync_pending;
}

int nic_monitor_set_rcvbuf(struct nic_monitor *m, int bytes)
{
	int r = genl_sock_set_rcvbuf(m->gn, bytes);

	return r < 0 ? r : genl_sock_set_rcvbuf(m->rt, bytes);
}

void nic_monitor_set_callback(struct nic_monitor *m, nic_monitor_cb cb, void *userdata)
{
	m->cb = cb;
	m->userdata = userdata;
}

void nic_monitor_set_decorator(struct nic_monitor *m, nic_monitor_decorate_fn fn, void *userdata)
{
	m->decorate = fn;
	m->decorate_ud = userdata;
	nic_monitor_redecorate(m);
}

void nic_monitor_set_ctx_ids(struct nic_monitor *m, nic_monitor_ctx_ids_fn fn, void *userdata)
{
	size_t i;

	m->ctx_ids = fn;
	m->ctx_ids_ud = userdata;
	/* the NICs read before: their contexts, now that it is known which */
	for (i = 0; fn && i < m->n; i++)
		if (!m->nics[i].rss_listed && m->nics[i].n_rss)
			(void)refresh_one(m, m->nics[i].link.ifindex, NIC_OBSERVE_RSS);
}

void nic_monitor_redecorate(struct nic_monitor *m)
{
	struct nic next;
	unsigned d;

	if (!m->decorate)
		return;
	for (size_t i = 0; i < m->n; i++) {
		if (nic_copy(&next, &m->nics[i]) < 0)
			continue;
		m->decorate(&next, m->decorate_ud);
		d = nic_diff(&m->nics[i], &next);
		next.generation = m->nics[i].generation + (d ? 1 : 0);
		nic_clear(&m->nics[i]);
		m->nics[i] = next;
		if (d) {
			m->st.changes++;
			notify(m, &m->nics[i], NIC_CHANGE_UPDATED, d);
		}
	}
}

/* ---- setup ------------------------------------------------------------------- */

static int subscribe(struct nic_monitor *m, struct kerror *err)
{
	struct genl_family fam;
	struct genl_sock *tmp;
	int64_t grp;
	int r;

	/* resolve on a blocking socket; the notification sockets never send */
	r = genl_sock_open(NETLINK_GENERIC, 0, &tmp);
	if (r < 0)
		return kerror_set(err, r, NULL, "open netlink socket", NULL);
	if (genl_resolve(tmp, ZX_ETHTOOL_GENL_NAME, &fam, NULL) == 0 &&
	    (grp = genl_family_group(&fam, ZX_ETHTOOL_MCGRP_MONITOR_NAME)) > 0 &&
	    genl_join(m->gn, (uint32_t)grp) == 0)
		m->ethtool_id = fam.id;
	if (genl_resolve(tmp, ZX_NETDEV_GENL_NAME, &fam, NULL) == 0 &&
	    (grp = genl_family_group(&fam, ZX_NETDEV_MCGRP_MGMT)) > 0 &&
	    genl_join(m->gn, (uint32_t)grp) == 0) {
		m->netdev_id = fam.id;
		/* page pools (6.8+): leases see their consumers come and go */
		if ((grp = genl_family_group(&fam, ZX_NETDEV_MCGRP_PAGE_POOL)) > 0)
			(void)genl_join(m->gn, (uint32_t)grp);
	}
	genl_sock_close(tmp);
	r = genl_join(m->rt, RTNLGRP_LINK);
	if (r < 0)
		return kerror_set(err, r, NULL, "join rtnetlink link group", NULL);
	return 0;
}

int nic_monitor_new(sd_event *ev, struct nic_backend be, struct nic_monitor **ret,
		    struct kerror *err)
{
	struct nic_monitor *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return kerror_set(err, ENOMEM, NULL, "start NIC monitor", NULL);
	m->ev = sd_event_ref(ev);
	m->be = be;
	r = genl_sock_open(NETLINK_GENERIC, GENL_SOCK_NONBLOCK, &m->gn);
	if (r == 0)
		r = genl_sock_open(NETLINK_ROUTE, GENL_SOCK_NONBLOCK, &m->rt);
	if (r < 0) {
		kerror_set(err, r, NULL, "open netlink socket", NULL);
		goto fail;
	}
	(void)genl_sock_set_rcvbuf(m->gn, RCVBUF);
	(void)genl_sock_set_rcvbuf(m->rt, RCVBUF);
	r = subscribe(m, err);
	if (r < 0)
		goto fail;
	r = sd_event_add_io(ev, &m->gn_src, genl_sock_fd(m->gn), EPOLLIN, on_genl, m);
	if (r == 0)
		r = sd_event_add_io(ev, &m->rt_src, genl_sock_fd(m->rt), EPOLLIN, on_rtnl, m);
	if (r == 0)
		r = sd_event_add_defer(ev, &m->defer, on_defer, m);
	if (r == 0)
		r = sd_event_source_set_enabled(m->defer, SD_EVENT_OFF);
	/* read every pending notification before acting on any */
	if (r == 0)
		r = sd_event_source_set_priority(m->defer, SD_EVENT_PRIORITY_NORMAL + 10);
	if (r < 0) {
		kerror_set(err, r, NULL, "register NIC monitor", NULL);
		goto fail;
	}
	/* subscribed first, so nothing between the dump and now is lost */
	r = nic_monitor_resync(m);
	if (r < 0) {
		kerror_set(err, r, NULL, "list links", NULL);
		goto fail;
	}
	*ret = m;
	return 0;
fail:
	nic_monitor_free(m);
	return r;
}

struct nic_monitor *nic_monitor_free(struct nic_monitor *m)
{
	size_t i;

	if (!m)
		return NULL;
	sd_event_source_disable_unref(m->gn_src);
	sd_event_source_disable_unref(m->rt_src);
	sd_event_source_disable_unref(m->defer);
	genl_sock_close(m->gn);
	genl_sock_close(m->rt);
	for (i = 0; i < m->n; i++)
		nic_clear(&m->nics[i]);
	free(m->nics);
	free(m->pend);
	sd_event_unref(m->ev);
	free(m);
	return NULL;
}
