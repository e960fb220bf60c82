// SPDX-License-Identifier: MIT
/*
 * binder-mgr — the daemon's view of the zero-copy binder (binder-mgr.h).
 *
 * Owns: the probe cache, the observed bindings, the binder's event source
 * and its Monitor events.  exec drives the module through the backend this
 * module hands out, a thin wrapper that keeps the observed bindings current
 * and counts refusals.  Must not: decide or change anything on its own.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binder-mgr.h"
#include "events.h"
#include "log.h"

struct binder_mgr {
	sd_event *ev;
	sd_event_source *io;
	struct binder_backend inner;
	void (*destroy)(void *be);
	struct binder_backend outer; /* { &wrap_ops, bm } */
	struct events *events;
	binder_mgr_fn fn;
	void *userdata;

	bool available;
	struct kerror err;
	struct binder_mgr_nic *nics;
	size_t n_nics;
	struct binder_binding *b;
	size_t n_b;
	/* b is the module's whole table: dumped since the module appeared or
	 * notifications were last lost, and kept current since by them and by
	 * zcrxd's own binds and unbinds (what dump hands out then) */
	bool fresh;
	struct binder_mgr_counters c;
};

static const struct binder_ops wrap_ops;

/* --- bookkeeping ----------------------------------------------------------- */

static void count(struct binder_mgr *bm, int r)
{
	bm->c.requests++;
	if (r == -EBADMSG)
		bm->c.bad_messages++;
	else if (r < 0 && !(r == -ENOENT && !bm->available))
		bm->c.kernel_errors++;
}

static struct binder_binding *find(struct binder_mgr *bm, uint32_t id)
{
	for (size_t i = 0; i < bm->n_b; i++)
		if (bm->b[i].id == id)
			return &bm->b[i];
	return NULL;
}

static int add_binding(struct binder_mgr *bm, const struct binder_binding *b)
{
	struct binder_binding *v, *old = find(bm, b->id);

	if (old) {
		*old = *b;
		return 0;
	}
	v = reallocarray(bm->b, bm->n_b + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	bm->b = v;
	bm->b[bm->n_b++] = *b;
	return 0;
}

static void del_binding(struct binder_mgr *bm, uint32_t id)
{
	struct binder_binding *b = find(bm, id);
	size_t i;

	if (!b)
		return;
	i = (size_t)(b - bm->b);
	memmove(&bm->b[i], &bm->b[i + 1], (bm->n_b - i - 1) * sizeof(*b));
	bm->n_b--;
}

static void forget_all(struct binder_mgr *bm)
{
	free(bm->b);
	bm->b = NULL;
	bm->n_b = 0;
	free(bm->nics);
	bm->nics = NULL;
	bm->n_nics = 0;
}

static void set_unavailable(struct binder_mgr *bm, const struct kerror *why)
{
	bm->available = false;
	bm->err = *why;
	bm->fresh = false;
	forget_all(bm);
}

static void set_absent(struct binder_mgr *bm)
{
	struct kerror e;

	kerror_set(&e, ENOENT, NULL, "resolve vhost_zcrx", BINDER_ABSENT_MSG);
	set_unavailable(bm, &e);
}

static int do_dump(struct binder_mgr *bm, struct kerror *err)
{
	struct binder_binding *v = NULL;
	size_t n = 0;
	int r;

	r = bm->inner.ops->dump(bm->inner.be, &v, &n, err);
	count(bm, r);
	if (r < 0)
		return r;
	bm->c.dumps++;
	free(bm->b);
	bm->b = v;
	bm->n_b = n;
	/* current from here on only if notifications are followed */
	bm->fresh = bm->io && bm->inner.ops->process_events;
	return 0;
}

/* Resolve and dump; updates available/err.  Returns 0 when available. */
static int do_resolve(struct binder_mgr *bm)
{
	struct kerror err;
	int r;

	r = bm->inner.ops->resolve(bm->inner.be, &err);
	bm->c.requests++;
	if (r < 0) {
		if (r != -ENOENT)
			bm->c.kernel_errors++;
		set_unavailable(bm, &err);
		return r;
	}
	bm->available = true;
	kerror_clear(&bm->err);
	r = do_dump(bm, &err);
	if (r < 0) {
		/* Available but blind: keep going, the next refresh retries. */
		log_debug(LOG_SUBSYS_BINDER, "vhost_zcrx dump failed: %s", err.msg);
	}
	return 0;
}

/* --- events ------------------------------------------------------------------ */

static void add_ifname(json_object *o, const char *key, int ifindex)
{
	char name[IF_NAMESIZE];

	if (ifindex > 0 && if_indextoname((unsigned)ifindex, name))
		json_object_object_add(o, key, json_object_new_string(name));
}

json_object *binder_mgr_binding_json(const struct binder_binding *b)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "binding_id", json_object_new_int64(b->id));
	json_object_object_add(o, "ifindex", json_object_new_int(b->ifindex));
	add_ifname(o, "nic", b->ifindex);
	json_object_object_add(o, "queue", json_object_new_int64(b->queue));
	json_object_object_add(o, "tap_ifindex", json_object_new_int(b->tap_ifindex));
	add_ifname(o, "tap", b->tap_ifindex);
	json_object_object_add(o, "fallback", json_object_new_string(binder_fallback_name(b->fallback)));
	json_object_object_add(o, "state", json_object_new_string(binder_state_name(b->state)));
	json_object_object_add(o, "errno", json_object_new_int(b->reason));
	if (b->reason)
		json_object_object_add(o, "reason", json_object_new_string(kerror_errno_name(b->reason)));
	if (b->reason_msg[0])
		json_object_object_add(o, "message", json_object_new_string(b->reason_msg));
	if (b->has_stats) {
		json_object *s = json_object_new_object();

		json_object_object_add(s, "rx_packets", json_object_new_int64((int64_t)b->stats.rx_packets));
		json_object_object_add(s, "rx_bytes", json_object_new_int64((int64_t)b->stats.rx_bytes));
		json_object_object_add(s, "zc_packets", json_object_new_int64((int64_t)b->stats.zc_packets));
		json_object_object_add(s, "copy_packets",
				       json_object_new_int64((int64_t)b->stats.copy_packets));
		json_object_object_add(s, "drop_nobuf", json_object_new_int64((int64_t)b->stats.drop_nobuf));
		json_object_object_add(s, "bufs_posted",
				       json_object_new_int64((int64_t)b->stats.bufs_posted));
		json_object_object_add(o, "stats", s);
	}
	return o;
}

static void publish(struct binder_mgr *bm, const char *type, json_object *data)
{
	if (bm->events)
		events_publish(bm->events, type, data);
	else
		json_object_put(data);
}

static void publish_state(struct binder_mgr *bm, const struct binder_event *ev,
			  const struct binder_binding *b)
{
	json_object *o;

	if (!bm->events)
		return;
	if (b) {
		o = binder_mgr_binding_json(b);
	} else {
		o = json_object_new_object();
		json_object_object_add(o, "binding_id", json_object_new_int64(ev->id));
		json_object_object_add(o, "state", json_object_new_string(binder_state_name(ev->state)));
		json_object_object_add(o, "errno", json_object_new_int(ev->reason));
		if (ev->reason)
			json_object_object_add(o, "reason",
					       json_object_new_string(kerror_errno_name(ev->reason)));
		if (ev->reason_msg[0])
			json_object_object_add(o, "message", json_object_new_string(ev->reason_msg));
	}
	publish(bm, ev->type == BINDER_EVENT_GONE ? "binding-gone" : "binding-state", o);
}

static void publish_availability(struct binder_mgr *bm)
{
	publish(bm, bm->available ? "binder-available" : "binder-unavailable",
		binder_mgr_status_json(bm));
}

static void on_event(const struct binder_event *ev, void *userdata)
{
	struct binder_mgr *bm = userdata;
	struct binder_binding *b, got;
	struct kerror err;

	switch (ev->type) {
	case BINDER_EVENT_STATE:
		bm->c.notifications++;
		b = find(bm, ev->id);
		if (!b && bm->inner.ops->get(bm->inner.be, ev->id, &got, &err) == 0 &&
		    add_binding(bm, &got) == 0)
			b = find(bm, ev->id);
		if (b) {
			b->state = ev->state;
			b->reason = ev->reason;
			snprintf(b->reason_msg, sizeof(b->reason_msg), "%s", ev->reason_msg);
		}
		log_debug(LOG_SUBSYS_BINDER, "binding %u: %s (%s)", ev->id, binder_state_name(ev->state),
			  kerror_errno_name(ev->reason));
		publish_state(bm, ev, b);
		break;
	case BINDER_EVENT_GONE:
		bm->c.notifications++;
		b = find(bm, ev->id);
		if (b) {
			/* the event says how it ended (BROKEN, ENODEV, the words) */
			b->state = ev->state;
			b->reason = ev->reason;
			snprintf(b->reason_msg, sizeof(b->reason_msg), "%s", ev->reason_msg);
		}
		publish_state(bm, ev, b);
		del_binding(bm, ev->id);
		break;
	case BINDER_EVENT_APPEARED:
		bm->c.appeared++;
		free(bm->nics);
		bm->nics = NULL;
		bm->n_nics = 0;
		(void)do_resolve(bm);
		log_info(LOG_SUBSYS_BINDER, "kernel module vhost_zcrx is %s",
			 bm->available ? "available" : "registered but unusable");
		publish_availability(bm);
		break;
	case BINDER_EVENT_VANISHED:
		bm->c.vanished++;
		set_absent(bm);
		log_notice(LOG_SUBSYS_BINDER, "kernel module vhost_zcrx went away");
		publish_availability(bm);
		break;
	case BINDER_EVENT_RESYNC:
		bm->c.resyncs++;
		(void)do_resolve(bm);
		break;
	}
	if (bm->fn)
		bm->fn(bm, ev, bm->userdata);
}

int binder_mgr_process(struct binder_mgr *bm)
{
	int r;

	if (!bm->inner.ops->process_events)
		return 0;
	r = bm->inner.ops->process_events(bm->inner.be, on_event, bm);
	if (r < 0)
		bm->fresh = false; /* what was missed is not known */
	if (r < 0 && bm->io) {
		/* The source is dead (a fake module that exited): stop watching
		 * it rather than spin on an fd that stays readable. */
		log_debug(LOG_SUBSYS_BINDER, "binder events: %s, no longer watched", strerror(-r));
		(void)sd_event_source_set_enabled(bm->io, SD_EVENT_OFF);
	}
	return r;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	(void)binder_mgr_process(userdata);
	return 0;
}

/* --- life ---------------------------------------------------------------------- */

int binder_mgr_new(sd_event *ev, struct binder_backend be, void (*destroy)(void *be),
		   struct events *events, struct binder_mgr **ret)
{
	struct binder_mgr *bm = calloc(1, sizeof(*bm));

	if (!bm)
		return -ENOMEM;
	bm->ev = ev ? sd_event_ref(ev) : NULL;
	bm->inner = be;
	bm->destroy = destroy;
	bm->outer.ops = &wrap_ops;
	bm->outer.be = bm;
	bm->events = events;
	kerror_set(&bm->err, ENOENT, NULL, "resolve vhost_zcrx", "not resolved yet");
	*ret = bm;
	return 0;
}

struct binder_mgr *binder_mgr_free(struct binder_mgr *bm)
{
	if (!bm)
		return NULL;
	sd_event_source_disable_unref(bm->io);
	if (bm->destroy)
		bm->destroy(bm->inner.be);
	sd_event_unref(bm->ev);
	forget_all(bm);
	free(bm);
	return NULL;
}

void binder_mgr_set_callback(struct binder_mgr *bm, binder_mgr_fn fn, void *userdata)
{
	bm->fn = fn;
	bm->userdata = userdata;
}

int binder_mgr_start(struct binder_mgr *bm)
{
	int fd, r;

	(void)do_resolve(bm);
	if (bm->available)
		log_info(LOG_SUBSYS_BINDER, "kernel module vhost_zcrx available, %zu binding%s",
			 bm->n_b, bm->n_b == 1 ? "" : "s");
	else
		log_notice(LOG_SUBSYS_BINDER, "no zero-copy: %s (%s)",
			   bm->err.msg[0] ? bm->err.msg : strerror(bm->err.err),
			   kerror_errno_name(bm->err.err));
	fd = bm->inner.ops->event_fd ? bm->inner.ops->event_fd(bm->inner.be) : -1;
	if (fd >= 0 && bm->ev && !bm->io) {
		r = sd_event_add_io(bm->ev, &bm->io, fd, EPOLLIN, on_io, bm);
		if (r < 0)
			return r;
		(void)sd_event_source_set_description(bm->io, "binder");
	}
	return 0;
}

/* --- queries ---------------------------------------------------------------- */

bool binder_mgr_available(const struct binder_mgr *bm)
{
	return bm->available;
}

const struct kerror *binder_mgr_error(const struct binder_mgr *bm)
{
	return &bm->err;
}

const struct binder_backend *binder_mgr_backend(const struct binder_mgr *bm)
{
	return &bm->outer;
}

const struct binder_mgr_nic *binder_mgr_probe(struct binder_mgr *bm, int ifindex)
{
	struct binder_mgr_nic *n = NULL, *v;
	int r;

	for (size_t i = 0; i < bm->n_nics; i++)
		if (bm->nics[i].ifindex == ifindex)
			n = &bm->nics[i];
	if (!n) {
		v = reallocarray(bm->nics, bm->n_nics + 1, sizeof(*v));
		if (!v) {
			static struct binder_mgr_nic oom = { .err = { .err = ENOMEM } };

			return &oom;
		}
		bm->nics = v;
		n = &bm->nics[bm->n_nics++];
		memset(n, 0, sizeof(*n));
		n->ifindex = ifindex;
		if (!bm->available) {
			n->err = bm->err;
			return n;
		}
		r = bm->inner.ops->probe(bm->inner.be, ifindex, &n->probe, &n->err);
		count(bm, r);
		n->probed = r == 0;
		log_debug(LOG_SUBSYS_BINDER, "probe ifindex %d: %s", ifindex,
			  r == 0 ? "ok" : n->err.msg);
	}
	return n;
}

static struct binder_mgr_nic *find_nic(struct binder_mgr *bm, int ifindex)
{
	for (size_t i = 0; i < bm->n_nics; i++)
		if (bm->nics[i].ifindex == ifindex)
			return &bm->nics[i];
	return NULL;
}

static void refuse_nic(struct binder_mgr *bm, int ifindex, int r, const struct kerror *err)
{
	struct binder_mgr_nic *n;

	(void)binder_mgr_probe(bm, ifindex); /* make sure there is an entry */
	n = find_nic(bm, ifindex);
	if (!n)
		return;
	n->probed = false;
	if (err && err->err)
		n->err = *err;
	else
		kerror_set(&n->err, -r, NULL, NULL, NULL);
	snprintf(n->err.op, sizeof(n->err.op), "vhost_zcrx bind");
}

/* What identifies the device behind an ifindex for the module's answers. */
static uint64_t link_sig(const struct nic *nic)
{
	const char *parts[] = { nic->link.kind, nic->driver, nic->bus_info, nic->link.parent_bus,
				nic->link.parent_dev, nic->link.up ? "up" : "down" };
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		for (const char *c = parts[i]; *c; c++)
			h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
		h = (h ^ 0xff) * 0x100000001b3ull;
	}
	return h | 1; /* never 0 (unknown) */
}

void binder_mgr_check_link(struct binder_mgr *bm, const struct nic *nic)
{
	struct binder_mgr_nic *n = find_nic(bm, nic->link.ifindex);
	uint64_t sig = link_sig(nic);

	if (!n)
		return;
	if (!n->link) {
		n->link = sig;
	} else if (n->link != sig) {
		log_debug(LOG_SUBSYS_BINDER, "%s changed: its probe is forgotten", nic->link.name);
		binder_mgr_forget_nic(bm, nic->link.ifindex);
	}
}

void binder_mgr_forget_nic(struct binder_mgr *bm, int ifindex)
{
	for (size_t i = 0; i < bm->n_nics; i++) {
		if (bm->nics[i].ifindex != ifindex)
			continue;
		bm->nics[i] = bm->nics[--bm->n_nics];
		return;
	}
}

void binder_mgr_nic_cap(struct binder_mgr *bm, int ifindex, struct nic_cap *ret)
{
	const struct binder_mgr_nic *n;
	char feat[64], msg[sizeof(ret->msg)];

	if (!bm->available) {
		nic_cap_set(ret, NIC_CAP_NO, bm->err.err,
			    bm->err.msg[0] ? bm->err.msg : strerror(bm->err.err));
		return;
	}
	n = binder_mgr_probe(bm, ifindex);
	if (!n->probed) {
		snprintf(msg, sizeof(msg), "vhost_zcrx: %.*s", (int)sizeof(msg) - 16,
			 n->err.msg[0] ? n->err.msg : strerror(n->err.err));
		nic_cap_set(ret, NIC_CAP_NO, n->err.err, msg);
		return;
	}
	binder_features_format(n->probe.features, feat, sizeof(feat));
	if (n->probe.max_bindings)
		snprintf(msg, sizeof(msg), "vhost_zcrx: %s, up to %u bindings", feat,
			 n->probe.max_bindings);
	else
		snprintf(msg, sizeof(msg), "vhost_zcrx: %s", feat);
	nic_cap_set(ret, NIC_CAP_YES, 0, msg);
}

int binder_mgr_refresh(struct binder_mgr *bm, struct kerror *err)
{
	if (!bm->available) {
		if (err)
			*err = bm->err;
		return -bm->err.err;
	}
	return do_dump(bm, err);
}

size_t binder_mgr_count(const struct binder_mgr *bm)
{
	return bm->n_b;
}

const struct binder_binding *binder_mgr_at(const struct binder_mgr *bm, size_t i)
{
	return i < bm->n_b ? &bm->b[i] : NULL;
}

const struct binder_binding *binder_mgr_find(const struct binder_mgr *bm, uint32_t id)
{
	return find((struct binder_mgr *)bm, id);
}

int binder_mgr_on_nic(const struct binder_mgr *bm, int ifindex, struct binder_binding **ret,
		      size_t *ret_n)
{
	struct binder_binding *v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < bm->n_b; i++) {
		if (bm->b[i].ifindex != ifindex)
			continue;
		if (!v) {
			v = calloc(bm->n_b, sizeof(*v));
			if (!v)
				return -ENOMEM;
		}
		v[n++] = bm->b[i];
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

struct binder_mgr_counters binder_mgr_counters(const struct binder_mgr *bm)
{
	return bm->c;
}

json_object *binder_mgr_status_json(const struct binder_mgr *bm)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "module", json_object_new_string(bm->inner.ops->name));
	json_object_object_add(o, "available", json_object_new_boolean(bm->available));
	if (!bm->available) {
		json_object_object_add(o, "errno", json_object_new_int(bm->err.err));
		json_object_object_add(o, "message",
				       json_object_new_string(bm->err.msg[0] ? bm->err.msg
									     : strerror(bm->err.err)));
	}
	json_object_object_add(o, "bindings", json_object_new_int64((int64_t)bm->n_b));
	json_object_object_add(o, "requests", json_object_new_int64((int64_t)bm->c.requests));
	json_object_object_add(o, "kernel_errors", json_object_new_int64((int64_t)bm->c.kernel_errors));
	json_object_object_add(o, "bad_messages", json_object_new_int64((int64_t)bm->c.bad_messages));
	json_object_object_add(o, "notifications", json_object_new_int64((int64_t)bm->c.notifications));
	return o;
}

/* --- the backend exec drives --------------------------------------------------- */

/* Cheap: the family was resolved at start and is followed by notifications
 * since (a resolve per plan would make the kernel try to load the module
 * every time it is absent). */
static int w_resolve(void *be, struct kerror *err)
{
	struct binder_mgr *bm = be;

	if (bm->available)
		return 0;
	if (err)
		*err = bm->err;
	return -(bm->err.err ? bm->err.err : ENOENT);
}

static int w_probe(void *be, int ifindex, struct binder_probe *ret, struct kerror *err)
{
	const struct binder_mgr_nic *n = binder_mgr_probe(be, ifindex);

	if (!n->probed) {
		if (err)
			*err = n->err;
		return -(n->err.err ? n->err.err : EIO);
	}
	*ret = n->probe;
	return 0;
}

static int w_bind(void *be, int ifindex, uint32_t queue, int tap_ifindex, uint32_t fallback,
		  uint32_t *ret_id, struct kerror *err)
{
	struct binder_mgr *bm = be;
	struct binder_binding b = {
		.ifindex = ifindex, .queue = queue, .tap_ifindex = tap_ifindex,
		.fallback = fallback, .state = BINDER_STATE_PENDING,
	};
	struct kerror gerr;
	int r;

	r = bm->inner.ops->bind(bm->inner.be, ifindex, queue, tap_ifindex, fallback, &b.id, err);
	count(bm, r);
	if (r < 0) {
		/* A refusal for the whole NIC becomes its binder verdict (probe
		 * cache, capability matrix): the next plan leaves zero-copy out
		 * on that NIC and keeps the steering, with the module's reason.
		 * Any other refusal is about this queue and tap only: the
		 * caller remembers it for that attachment (reconcile.c). */
		if (binder_refusal_is_nic_wide(-r) && (r != -ENOENT || bm->available))
			refuse_nic(bm, ifindex, r, err);
		return r;
	}
	/* What the module holds now (a STATE_NTF may already have moved it on). */
	(void)bm->inner.ops->get(bm->inner.be, b.id, &b, &gerr);
	(void)add_binding(bm, &b);
	*ret_id = b.id;
	return 0;
}

static int w_unbind(void *be, uint32_t id, struct kerror *err)
{
	struct binder_mgr *bm = be;
	int r = bm->inner.ops->unbind(bm->inner.be, id, err);

	count(bm, r);
	if (r == 0 || r == -ENOENT)
		del_binding(bm, id);
	return r;
}

static int w_get(void *be, uint32_t id, struct binder_binding *ret, struct kerror *err)
{
	struct binder_mgr *bm = be;
	int r = bm->inner.ops->get(bm->inner.be, id, ret, err);

	count(bm, r);
	if (r == 0)
		(void)add_binding(bm, ret);
	else if (r == -ENOENT)
		del_binding(bm, id);
	return r;
}

/* Every binding on the host.  From the table the notifications keep
 * current when it is (no request to the module per plan), else dumped. */
static int w_dump(void *be, struct binder_binding **ret, size_t *ret_n, struct kerror *err)
{
	struct binder_mgr *bm = be;
	struct binder_binding *v;
	int r = 0;

	if (bm->fresh && bm->available)
		bm->c.dumps_cached++;
	else
		r = do_dump(bm, err);
	if (r < 0)
		return r;
	v = bm->n_b ? calloc(bm->n_b, sizeof(*v)) : NULL;
	if (bm->n_b && !v)
		return -ENOMEM;
	if (v)
		memcpy(v, bm->b, bm->n_b * sizeof(*v));
	*ret = v;
	*ret_n = bm->n_b;
	return 0;
}

static bool w_available(void *be)
{
	return ((struct binder_mgr *)be)->available;
}

static const struct binder_ops wrap_ops = {
	.name = "vhost_zcrx",
	.resolve = w_resolve,
	.probe = w_probe,
	.bind = w_bind,
	.unbind = w_unbind,
	.get = w_get,
	.dump = w_dump,
	.available = w_available,
};
