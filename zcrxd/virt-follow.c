// SPDX-License-Identifier: MIT
/*
 * virt-follow — the domains zcrxd follows, and what they hold (see
 * virt-follow.h).
 *
 * Owns: the domain table, routing triggers through the state machine and
 * the selection policy into the sink, request handling for the API and the
 * hook, and the event → attachment latency samples.  Must not: call
 * libvirt (virt.c does, on its worker), touch the kernel, log above info.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "log.h"
#include "virt-follow.h"

#define VF_BUCKETS 1024

struct vf_held {
	struct virt_vnic v;
	bool explicit_req; /* an operator asked: a re-plan leaves it alone */
	char error[256];   /* the sink's refusal, "" when attached */
};

struct vf_dom {
	struct vf_dom *hnext;        /* hash chain (by UUID) */
	struct vf_dom *next, *prev;  /* all domains, oldest first */
	uint8_t uuid[16];
	char uuid_str[37];
	char name[DOMXML_NAME_MAX];
	struct virt_dom_sm sm;
	enum virt_run_state run;
	struct domxml_domain *xml; /* last XML seen while it ran: the MAC → device map */
	struct vf_held *held;      /* what the sink was asked to attach */
	size_t n_held;
	char reason[96];           /* last decision, for listings */
	uint64_t touched_usec;     /* last trigger (CLOCK_MONOTONIC) */
	uint64_t hook_usec;        /* last hook request for it */
	int applied_id;            /* libvirt domain id of the XML last applied, -1 none */
	bool seen;                 /* resync bookkeeping */
};

struct virt_follow {
	sd_event *ev;
	struct virt *virt; /* NULL: no libvirt */
	enum config_autoattach mode;
	struct virt_sink sink;
	void *sink_ud;
	struct virt_follow_notify notify;
	void *notify_ud;
	struct vf_dom *buckets[VF_BUCKETS];
	struct vf_dom *first, *last;
	size_t n_doms;
	struct virt_follow_stats st;
	uint64_t lat[VIRT_LAT_SAMPLES];
	size_t lat_pos;
	uint64_t lat_total;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* --- the table ----------------------------------------------------------------------- */

static unsigned bucket(const uint8_t uuid[16])
{
	unsigned h = 2166136261u;
	int k;

	for (k = 0; k < 16; k++)
		h = (h ^ uuid[k]) * 16777619u;
	return h % VF_BUCKETS;
}

static struct vf_dom *find_uuid(struct virt_follow *f, const uint8_t uuid[16])
{
	struct vf_dom *d;

	for (d = f->buckets[bucket(uuid)]; d; d = d->hnext)
		if (!memcmp(d->uuid, uuid, 16))
			return d;
	return NULL;
}

/* By UUID text or by name. */
static struct vf_dom *lookup(struct virt_follow *f, const char *key)
{
	uint8_t u[16];
	struct vf_dom *d;

	if (!key)
		return NULL;
	if (domxml_uuid_parse(key, u) == 0)
		return find_uuid(f, u);
	for (d = f->first; d; d = d->next)
		if (!strcmp(d->name, key))
			return d;
	return NULL;
}

static struct vf_dom *get_dom(struct virt_follow *f, const uint8_t uuid[16], const char *name)
{
	struct vf_dom *d = find_uuid(f, uuid);
	unsigned b;

	if (d) {
		if (name && *name && strcmp(d->name, name)) /* renamed */
			snprintf(d->name, sizeof(d->name), "%s", name);
		return d;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	memcpy(d->uuid, uuid, 16);
	domxml_uuid_format(uuid, d->uuid_str);
	snprintf(d->name, sizeof(d->name), "%s", name ? name : "");
	virt_dom_sm_init(&d->sm);
	d->applied_id = -1;
	b = bucket(uuid);
	d->hnext = f->buckets[b];
	f->buckets[b] = d;
	d->prev = f->last;
	if (f->last)
		f->last->next = d;
	else
		f->first = d;
	f->last = d;
	f->n_doms++;
	return d;
}

static void drop_dom(struct virt_follow *f, struct vf_dom *d)
{
	struct vf_dom **pp = &f->buckets[bucket(d->uuid)];

	while (*pp && *pp != d)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = d->hnext;
	if (d->prev)
		d->prev->next = d->next;
	else
		f->first = d->next;
	if (d->next)
		d->next->prev = d->prev;
	else
		f->last = d->prev;
	f->n_doms--;
	domxml_free(d->xml);
	free(d->held);
	free(d);
}

/* Keep x (taken) as the domain's device map when it is the XML of a
 * running domain; otherwise free it. */
static void keep_xml(struct vf_dom *d, struct domxml_domain **x)
{
	if (!*x)
		return;
	if ((*x)->id >= 0) {
		domxml_free(d->xml);
		d->xml = *x;
	} else {
		domxml_free(*x);
	}
	*x = NULL;
}

/* --- talking to the sink ------------------------------------------------------------- */

static struct virt_domain_ref ref_of(const struct vf_dom *d)
{
	return (struct virt_domain_ref){ .name = d->name, .uuid = d->uuid_str };
}

static ssize_t held_find(const struct vf_dom *d, const uint8_t *mac, const char *nic)
{
	size_t k;

	for (k = 0; k < d->n_held; k++)
		if (!memcmp(d->held[k].v.mac, mac, DOMXML_MAC_LEN) &&
		    (!nic || !strcmp(d->held[k].v.nic, nic)))
			return (ssize_t)k;
	return -1;
}

static void held_remove(struct vf_dom *d, size_t k)
{
	memmove(&d->held[k], &d->held[k + 1], (d->n_held - k - 1) * sizeof(*d->held));
	d->n_held--;
}

static int sink_attach(struct virt_follow *f, struct vf_dom *d, const struct virt_vnic *v,
		       enum virt_origin origin, bool explicit_req, char *err, size_t errlen)
{
	struct virt_domain_ref ref = ref_of(d);
	struct vf_held *h;
	ssize_t k;
	int r;

	err[0] = 0;
	f->st.attaches++;
	r = f->sink.attach ? f->sink.attach(f->sink_ud, &ref, v, origin, err, errlen) :
			     -EOPNOTSUPP;
	if (r < 0) {
		f->st.errors++;
		if (!err[0])
			snprintf(err, errlen, "%s", strerror(-r));
	}
	k = held_find(d, v->mac, v->nic);
	if (k < 0) {
		h = realloc(d->held, sizeof(*h) * (d->n_held + 1));
		if (!h)
			return r < 0 ? r : -ENOMEM;
		d->held = h;
		k = (ssize_t)d->n_held++;
		memset(&d->held[k], 0, sizeof(d->held[k]));
	}
	d->held[k].v = *v;
	d->held[k].explicit_req = d->held[k].explicit_req || explicit_req;
	snprintf(d->held[k].error, sizeof(d->held[k].error), "%s", r < 0 ? err : "");
	return r;
}

static int sink_detach(struct virt_follow *f, struct vf_dom *d, const uint8_t *mac,
		       const char *nic, enum virt_origin origin)
{
	struct virt_domain_ref ref = ref_of(d);
	char err[256] = "";
	size_t k;
	int r;

	f->st.detaches++;
	r = f->sink.detach ? f->sink.detach(f->sink_ud, &ref, mac, nic, origin, err, sizeof(err)) :
			     0;
	if (r < 0) {
		f->st.errors++;
		log_domain(LOG_WARNING, LOG_SUBSYS_VIRT, d->name, "detach: %s",
			   err[0] ? err : strerror(-r));
	}
	for (k = d->n_held; k-- > 0;)
		if ((!mac || !memcmp(d->held[k].v.mac, mac, DOMXML_MAC_LEN)) &&
		    (!nic || !strcmp(d->held[k].v.nic, nic)))
			held_remove(d, k);
	return r;
}

static void record_latency(struct virt_follow *f, uint64_t event_usec)
{
	if (!event_usec)
		return;
	f->lat[f->lat_pos] = now_usec() - event_usec;
	f->lat_pos = (f->lat_pos + 1) % VIRT_LAT_SAMPLES;
	f->lat_total++;
}

/* Bring the domain's automatic attachments in line with its XML. */
static void apply_auto(struct virt_follow *f, struct vf_dom *d, const struct domxml_domain *x,
		       enum virt_origin origin, uint64_t event_usec, const char *reason)
{
	struct virt_selection sel;
	char err[256];
	size_t k;

	if (virt_select(x, f->mode, NULL, &sel) < 0) {
		log_domain(LOG_ERR, LOG_SUBSYS_VIRT, d->name, "out of memory selecting vNICs");
		return;
	}
	/* what it no longer selects goes first (a vNIC may move NICs) */
	for (k = d->n_held; k-- > 0;) {
		const struct virt_vnic *v = virt_selection_find(&sel, d->held[k].v.mac);

		if (d->held[k].explicit_req)
			continue;
		if (!v || strcmp(v->nic, d->held[k].v.nic))
			sink_detach(f, d, d->held[k].v.mac, d->held[k].v.nic, origin);
	}
	for (k = 0; k < sel.n; k++) {
		if (sink_attach(f, d, &sel.vnics[k], origin, false, err, sizeof(err)) < 0) {
			char m[18];

			log_domain(LOG_WARNING, LOG_SUBSYS_VIRT, d->name, "attach %s on %s: %s",
				   nic_mac_format(sel.vnics[k].mac, m), sel.vnics[k].nic, err);
		}
	}
	if (sel.n) {
		record_latency(f, event_usec);
		log_domain(LOG_INFO, LOG_SUBSYS_VIRT, d->name, "%s: %zu vNIC(s) attached", reason,
			   sel.n);
	}
	for (k = 0; k < sel.n_skips; k++) {
		char m[18];

		log_domain(LOG_DEBUG, LOG_SUBSYS_VIRT, d->name, "%s not attached: %s",
			   sel.skips[k].has_mac ? nic_mac_format(sel.skips[k].mac, m) : "vNIC",
			   sel.skips[k].why);
	}
	virt_selection_clear(&sel);
}

/* One input to the domain's state machine; says so on the Monitor stream
 * when the state changed or something is to be done. */
static enum virt_action feed(struct virt_follow *f, struct vf_dom *d, const struct virt_input *in,
			     const char **reason)
{
	enum virt_dom_state old = d->sm.state;
	enum virt_action a = virt_dom_step(&d->sm, in, reason);
	struct virt_domain_ref ref = ref_of(d);

	if ((a != VIRT_ACT_NONE || old != d->sm.state) && f->notify.domain)
		f->notify.domain(f->notify_ud, &ref, virt_dom_state_name(d->sm.state),
				 virt_action_name(a), *reason);
	return a;
}

/* Carry out the state machine's decision. */
static void act(struct virt_follow *f, struct vf_dom *d, enum virt_action a, const char *reason,
		enum virt_origin origin, uint64_t event_usec)
{
	snprintf(d->reason, sizeof(d->reason), "%s", reason ? reason : "");
	switch (a) {
	case VIRT_ACT_NONE:
		return;
	case VIRT_ACT_ATTACH:
	case VIRT_ACT_REPLAN:
		if (!d->xml) {
			/* No XML of it running (it stopped before the worker read
			 * it, or reading failed): nothing to attach to.  The next
			 * event or resync tries again. */
			d->sm.attached = false;
			log_domain(LOG_DEBUG, LOG_SUBSYS_VIRT, d->name,
				   "%s: no live XML, not attaching", reason);
			return;
		}
		log_domain(LOG_DEBUG, LOG_SUBSYS_VIRT, d->name, "%s: %s", reason,
			   virt_action_name(a));
		d->applied_id = d->xml->id;
		apply_auto(f, d, d->xml, origin, event_usec, reason);
		return;
	case VIRT_ACT_DETACH:
		if (d->n_held)
			log_domain(LOG_INFO, LOG_SUBSYS_VIRT, d->name, "%s: detaching", reason);
		sink_detach(f, d, NULL, NULL, origin);
		d->xml = domxml_free(d->xml);
		return;
	case VIRT_ACT_FORGET:
		drop_dom(f, d);
		return;
	}
}

/* --- from virt.c --------------------------------------------------------------------- */

static void on_connection(void *ud, enum virt_conn_state st, const char *msg)
{
	struct virt_follow *f = ud;

	if (f->notify.connection)
		f->notify.connection(f->notify_ud, virt_conn_state_name(st), msg);
	switch (st) {
	case VIRT_CONN_CONNECTED:
		log_notice(LOG_SUBSYS_VIRT, "connected to libvirt at '%s'", msg);
		break;
	case VIRT_CONN_DISCONNECTED:
		log_warning(LOG_SUBSYS_VIRT, "libvirt: %s; retrying", msg);
		break;
	case VIRT_CONN_CONNECTING:
	case VIRT_CONN_STOPPED:
		log_debug(LOG_SUBSYS_VIRT, "libvirt: %s", virt_conn_state_name(st));
		break;
	}
}

static void on_event(void *ud, const struct virt_input *in, struct virt_domain_info *info)
{
	struct virt_follow *f = ud;
	const char *reason;
	enum virt_action a;
	struct vf_dom *d;

	f->st.events++;
	d = find_uuid(f, info->uuid);
	if (!d) {
		/* An unknown domain's definition or removal tells us nothing. */
		if (in->kind == VIRT_IN_LIFECYCLE &&
		    (in->event == VIRT_EV_DEFINED || in->event == VIRT_EV_UNDEFINED))
			return;
		d = get_dom(f, info->uuid, info->name);
		if (!d)
			return;
	}
	/* Old news: libvirtd runs a domain's hooks before it emits that
	 * step's events, so what the worker read before a hook call we have
	 * acted on is older than what the hook told us (a backlog, e.g. the
	 * STOPPED of the previous run handled after the next start's hook);
	 * and a stop is stale when the domain runs again by the time the
	 * worker looked. */
	if ((info->read_usec && info->read_usec < d->hook_usec) ||
	    (in->kind == VIRT_IN_LIFECYCLE && in->event == VIRT_EV_STOPPED &&
	     virt_run_state_active(info->run))) {
		log_domain(LOG_DEBUG, LOG_SUBSYS_VIRT, d->name, "stale event %s ignored",
			   virt_ev_name(in->event));
		return;
	}
	d->touched_usec = now_usec();
	if (info->run != VIRT_RUN_UNKNOWN)
		d->run = info->run;
	if (info->dom && virt_run_state_active(info->run))
		keep_xml(d, &info->dom);
	if (in->kind == VIRT_IN_LIFECYCLE)
		log_domain(LOG_DEBUG, LOG_SUBSYS_VIRT, d->name, "event %s/%s (%s)",
			   virt_ev_name(in->event), virt_ev_detail_name(in->event, in->detail),
			   virt_run_state_name(info->run));
	a = feed(f, d, in, &reason);
	/* A new run (another domain id) while we hold the old one's vNICs: a
	 * stop we missed or dropped as stale.  Its macvtaps are new: re-plan. */
	if (a == VIRT_ACT_NONE && d->sm.attached && !d->sm.held && d->xml && d->xml->id >= 0 &&
	    d->applied_id >= 0 && d->xml->id != d->applied_id) {
		a = VIRT_ACT_REPLAN;
		reason = "started again";
	}
	/* The worker read the domain after the event: if it says the domain
	 * is gone or off, the event is old news and a stop event follows. */
	if ((a == VIRT_ACT_ATTACH || a == VIRT_ACT_REPLAN) &&
	    (info->run == VIRT_RUN_SHUTOFF || info->run == VIRT_RUN_GONE)) {
		d->sm.attached = false;
		return;
	}
	act(f, d, a, reason, VIRT_ORIGIN_EVENT, info->event_usec);
}

static void on_resync(void *ud, struct virt_domain_info *doms, size_t n, uint64_t listed_usec)
{
	struct virt_follow *f = ud;
	const char **uuids = NULL;
	struct vf_dom *d, *next;
	const char *reason;
	enum virt_action a;
	size_t k, nu = 0;

	f->st.resyncs++;
	for (d = f->first; d; d = d->next)
		d->seen = false;
	for (k = 0; k < n; k++) {
		struct virt_input in = { .kind = VIRT_IN_RESYNC_ACTIVE };

		d = get_dom(f, doms[k].uuid, doms[k].name);
		if (!d)
			continue;
		d->seen = true;
		d->touched_usec = now_usec();
		d->run = doms[k].run;
		keep_xml(d, &doms[k].dom);
		if (doms[k].run == VIRT_RUN_PAUSED)
			d->sm.state = d->sm.state == VIRT_DOM_MIGRATING_OUT ? d->sm.state :
									      VIRT_DOM_PAUSED;
		a = feed(f, d, &in, &reason);
		act(f, d, a, reason, VIRT_ORIGIN_EVENT, 0);
	}
	/* Known as running here but not listed: stopped while we were away —
	 * unless something (a hook) told us about it after the list was made. */
	uuids = calloc(f->n_doms + 1, sizeof(*uuids));
	for (d = f->first; d; d = next) {
		next = d->next;
		if (!d->seen && d->touched_usec > listed_usec) {
			if (uuids)
				uuids[nu++] = d->uuid_str;
			continue;
		}
		if (d->seen) {
			if (uuids)
				uuids[nu++] = d->uuid_str;
			continue;
		}
		if (virt_dom_state_active(d->sm.state) || d->sm.attached || d->n_held) {
			struct virt_input in = { .kind = VIRT_IN_RESYNC_GONE };

			d->run = VIRT_RUN_SHUTOFF;
			a = feed(f, d, &in, &reason);
			act(f, d, a, reason, VIRT_ORIGIN_EVENT, 0);
		}
	}
	/* Attachments made for domains before a zcrxd restart. */
	if (f->sink.prune && uuids)
		f->sink.prune(f->sink_ud, uuids, nu);
	free(uuids);
}

static void on_batch(void *ud, bool begin)
{
	struct virt_follow *f = ud;

	if (f->sink.batch)
		f->sink.batch(f->sink_ud, begin);
}

/* --- life cycle ------------------------------------------------------------------------ */

int virt_follow_new(sd_event *ev, const struct virt_follow_options *opts,
		    const struct virt_sink *sink, void *sink_ud, struct virt_follow **ret)
{
	static const struct virt_callbacks cb = { on_connection, on_resync, on_event, on_batch };
	struct virt_follow *f = calloc(1, sizeof(*f));
	struct virt_options vo;
	int r;

	if (!f)
		return -ENOMEM;
	f->ev = sd_event_ref(ev);
	f->mode = opts->autoattach;
	if (sink)
		f->sink = *sink;
	f->sink_ud = sink_ud;
	f->notify = opts->notify;
	f->notify_ud = opts->notify_ud;
	if (opts->uri && *opts->uri && strcmp(opts->uri, "none")) {
		vo = opts->virt;
		vo.uri = opts->uri;
		r = virt_new(ev, &vo, &cb, f, &f->virt);
		if (r < 0) {
			virt_follow_free(f);
			return r;
		}
	}
	*ret = f;
	return 0;
}

struct virt_follow *virt_follow_free(struct virt_follow *f)
{
	if (!f)
		return NULL;
	f->virt = virt_free(f->virt);
	while (f->first)
		drop_dom(f, f->first);
	sd_event_unref(f->ev);
	free(f);
	return NULL;
}

void virt_follow_set_autoattach(struct virt_follow *f, enum config_autoattach mode)
{
	f->mode = mode;
}

/* --- requests -------------------------------------------------------------------------- */

const char *virt_req_error_name(enum virt_req_error e)
{
	switch (e) {
	case VIRT_REQ_OK: return NULL;
	case VIRT_REQ_NO_SUCH_DOMAIN: return "io.zcrx.Manager.NoSuchDomain";
	case VIRT_REQ_INVALID_XML: return "org.varlink.service.InvalidParameter";
	case VIRT_REQ_NOT_RUNNING: return "io.zcrx.Manager.NoSuchDomain";
	case VIRT_REQ_NO_VNIC: return "io.zcrx.Manager.NoSuchVnic";
	case VIRT_REQ_FAILED: return "io.zcrx.Manager.AttachFailed";
	}
	return "io.zcrx.Manager.AttachFailed";
}

static void reply_err(struct virt_reply *r, enum virt_req_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_err(struct virt_reply *r, enum virt_req_error e, const char *fmt, ...)
{
	va_list ap;

	r->error = e;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

void virt_reply_clear(struct virt_reply *r)
{
	virt_selection_clear(&r->sel);
	free(r->failed_msg);
	memset(r, 0, sizeof(*r));
}

/*
 * Find (or, from caller XML, make) the domain a request is about.  *ret_x
 * is the XML to select from: the caller's (owned by the caller of this
 * function via *ret_own) or the domain's last running XML.
 */
static struct vf_dom *resolve(struct virt_follow *f, const struct virt_request *req,
			      struct virt_reply *rep, struct domxml_domain **ret_own)
{
	struct domxml_domain *x = NULL;
	char err[DOMXML_ERR_MAX];
	struct vf_dom *d;
	int r;

	*ret_own = NULL;
	if (!req->xml) {
		d = lookup(f, req->domain);
		if (!d) {
			reply_err(rep, VIRT_REQ_NO_SUCH_DOMAIN, "no domain '%s' is known%s",
				  req->domain ? req->domain : "",
				  f->virt ? "" : " (zcrxd runs without libvirt: pass --domain-xml)");
			return NULL;
		}
		return d;
	}
	r = domxml_parse(req->xml, req->xml_len, &x, err, sizeof(err));
	if (r < 0) {
		reply_err(rep, VIRT_REQ_INVALID_XML, "domain XML: %s", err);
		return NULL;
	}
	if (req->domain && *req->domain && strcmp(req->domain, x->name) &&
	    strcmp(req->domain, x->uuid_str)) {
		reply_err(rep, VIRT_REQ_INVALID_XML, "the XML describes domain '%s', not '%s'",
			  x->name, req->domain);
		domxml_free(x);
		return NULL;
	}
	d = get_dom(f, x->uuid, x->name);
	if (!d) {
		domxml_free(x);
		reply_err(rep, VIRT_REQ_FAILED, "out of memory");
		return NULL;
	}
	d->touched_usec = now_usec();
	if (req->origin == VIRT_ORIGIN_HOOK)
		d->hook_usec = d->touched_usec;
	*ret_own = x;
	return d;
}

static void fill_reply(struct virt_reply *rep, const struct vf_dom *d)
{
	snprintf(rep->name, sizeof(rep->name), "%s", d->name);
	snprintf(rep->uuid, sizeof(rep->uuid), "%s", d->uuid_str);
	rep->state = virt_dom_state_name(d->sm.state);
}

/* Attach every vNIC of sel (explicit or not), noting refusals. */
static void attach_selection(struct virt_follow *f, struct vf_dom *d, struct virt_reply *rep,
			     enum virt_origin origin, bool explicit_req)
{
	size_t k;

	if (!rep->sel.n)
		return;
	rep->failed_msg = calloc(rep->sel.n, sizeof(*rep->failed_msg));
	for (k = 0; k < rep->sel.n; k++) {
		char err[256];

		if (sink_attach(f, d, &rep->sel.vnics[k], origin, explicit_req, err, sizeof(err)) <
		    0) {
			rep->n_failed++;
			if (rep->failed_msg)
				snprintf(rep->failed_msg[k], sizeof(rep->failed_msg[k]), "%s", err);
		}
	}
	log_domain(LOG_INFO, LOG_SUBSYS_VIRT, d->name, "%s: %zu of %zu vNIC(s) attached",
		   origin == VIRT_ORIGIN_HOOK ? "hook" : "request", rep->sel.n - rep->n_failed,
		   rep->sel.n);
	if (rep->n_failed)
		reply_err(rep, VIRT_REQ_FAILED, "%zu of %zu vNICs could not be attached%s%s",
			  rep->n_failed, rep->sel.n, rep->failed_msg ? ": " : "",
			  rep->failed_msg ? rep->failed_msg[0][0] ? rep->failed_msg[0] : "" : "");
}

void virt_follow_attach(struct virt_follow *f, const struct virt_request *req,
			struct virt_reply *rep)
{
	struct virt_select_filter flt = { 0 };
	struct domxml_domain *own = NULL;
	const struct domxml_domain *x;
	const char *reason = "";
	enum virt_action a;
	struct vf_dom *d;
	bool explicit_req = req->nic != NULL;

	memset(rep, 0, sizeof(*rep));
	d = resolve(f, req, rep, &own);
	if (!d)
		return;
	fill_reply(rep, d);
	/* The caller's XML of a running domain is the newest device map. */
	if (own && own->id >= 0 && !req->dry_run) {
		keep_xml(d, &own);
		x = d->xml;
	} else {
		x = own ? own : d->xml;
	}
	if (!x) {
		reply_err(rep, VIRT_REQ_NOT_RUNNING, "domain '%s' is not running", d->name);
		goto out;
	}
	flt.explicit_req = explicit_req;
	flt.nic = req->nic;
	flt.mac = req->mac;
	flt.queues = req->queues;
	if (virt_select(x, f->mode, &flt, &rep->sel) < 0) {
		reply_err(rep, VIRT_REQ_FAILED, "out of memory");
		goto out;
	}
	if (explicit_req && !rep->sel.n) {
		char m[18];

		if (rep->sel.n_skips)
			reply_err(rep, VIRT_REQ_NO_VNIC, "domain '%s': %s", d->name,
				  rep->sel.skips[0].why);
		else
			reply_err(rep, VIRT_REQ_NO_VNIC, "domain '%s' has no macvtap vNIC%s%s on '%s'",
				  d->name, req->mac ? " " : "",
				  req->mac ? nic_mac_format(req->mac, m) : "", req->nic);
		goto out;
	}
	if (req->dry_run)
		goto out;

	if (req->origin == VIRT_ORIGIN_HOOK && !explicit_req) {
		/* start/begin: the same decision the events would make, once */
		struct virt_input in = { .kind = VIRT_IN_HOOK_ATTACH };

		a = feed(f, d, &in, &reason);
		snprintf(d->reason, sizeof(d->reason), "%s", reason);
		/* attached to another run (a stop we never saw): this is new */
		if (a == VIRT_ACT_NONE && !d->sm.held && x->id >= 0 && x->id != d->applied_id)
			a = VIRT_ACT_ATTACH;
		if (a == VIRT_ACT_ATTACH) {
			d->applied_id = x->id;
			attach_selection(f, d, rep, req->origin, false);
		}
	} else {
		struct virt_input in = { .kind = VIRT_IN_OP_ATTACH };

		(void)feed(f, d, &in, &reason);
		snprintf(d->reason, sizeof(d->reason), "%s", reason);
		attach_selection(f, d, rep, req->origin, explicit_req);
	}
	rep->state = virt_dom_state_name(d->sm.state);
out:
	domxml_free(own);
}

void virt_follow_detach(struct virt_follow *f, const struct virt_request *req,
			struct virt_reply *rep)
{
	struct domxml_domain *own = NULL;
	const char *reason = "";
	struct virt_domain_ref ref;
	enum virt_action a;
	struct vf_dom *d;
	char err[256] = "";
	int r;

	memset(rep, 0, sizeof(*rep));
	d = resolve(f, req, rep, &own);
	domxml_free(own); /* stop-time XML: nothing in it we need */
	if (!d) {
		/* Unknown here (zcrxd restarted, no libvirt): the attachment
		 * layer may still hold something under that name. */
		if (rep->error != VIRT_REQ_NO_SUCH_DOMAIN || req->dry_run || !f->sink.detach)
			return;
		ref.name = req->domain;
		ref.uuid = "";
		r = f->sink.detach(f->sink_ud, &ref, req->mac, req->nic, req->origin, err,
				   sizeof(err));
		if (r > 0) {
			rep->error = VIRT_REQ_OK;
			rep->message[0] = 0;
			snprintf(rep->name, sizeof(rep->name), "%s", req->domain);
		}
		return;
	}
	fill_reply(rep, d);
	if (req->dry_run)
		return;
	if (req->origin == VIRT_ORIGIN_HOOK && !req->nic && !req->mac) {
		struct virt_input in = { .kind = VIRT_IN_HOOK_DETACH };

		a = feed(f, d, &in, &reason);
		act(f, d, a, reason, req->origin, 0);
	} else {
		if (!req->nic && !req->mac) {
			struct virt_input in = { .kind = VIRT_IN_OP_DETACH };

			(void)feed(f, d, &in, &reason);
			snprintf(d->reason, sizeof(d->reason), "%s", reason);
		}
		r = sink_detach(f, d, req->mac, req->nic, req->origin);
		if (r < 0)
			reply_err(rep, VIRT_REQ_FAILED, "detach failed: %s", strerror(-r));
	}
	rep->state = virt_dom_state_name(d->sm.state);
}

/* --- JSON ------------------------------------------------------------------------------ */

static json_object *vnic_json(const struct virt_vnic *v, const char *error)
{
	json_object *o = json_object_new_object();
	char m[18];

	json_object_object_add(o, "mac", json_object_new_string(nic_mac_format(v->mac, m)));
	json_object_object_add(o, "nic", json_object_new_string(v->nic));
	json_object_object_add(o, "tap", v->tap[0] ? json_object_new_string(v->tap) : NULL);
	json_object_object_add(o, "queues", json_object_new_int((int)v->queues));
	json_object_object_add(o, "numa_node", json_object_new_int(v->numa_node));
	if (error && *error)
		json_object_object_add(o, "error", json_object_new_string(error));
	return o;
}

static json_object *skips_json(const struct virt_selection *s)
{
	json_object *a = json_object_new_array();
	size_t k;

	for (k = 0; k < s->n_skips; k++) {
		json_object *o = json_object_new_object();
		char m[18];

		json_object_object_add(o, "mac",
				       s->skips[k].has_mac ?
					       json_object_new_string(nic_mac_format(s->skips[k].mac, m)) :
					       NULL);
		json_object_object_add(o, "reason", json_object_new_string(s->skips[k].why));
		json_object_array_add(a, o);
	}
	return a;
}

json_object *virt_reply_to_json(const struct virt_reply *r)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	size_t k;

	json_object_object_add(o, "domain", json_object_new_string(r->name));
	json_object_object_add(o, "uuid", r->uuid[0] ? json_object_new_string(r->uuid) : NULL);
	json_object_object_add(o, "domain_state",
			       r->state ? json_object_new_string(r->state) : NULL);
	for (k = 0; k < r->sel.n; k++)
		json_object_array_add(a, vnic_json(&r->sel.vnics[k],
						   r->failed_msg ? r->failed_msg[k] : NULL));
	json_object_object_add(o, "vnics", a);
	json_object_object_add(o, "skipped", skips_json(&r->sel));
	return o;
}

const char *virt_follow_domain_state(struct virt_follow *f, const char *uuid)
{
	struct vf_dom *d = lookup(f, uuid);

	return d ? virt_dom_state_name(d->sm.state) : NULL;
}

json_object *virt_follow_domains_json(struct virt_follow *f)
{
	json_object *arr = json_object_new_array();
	struct vf_dom *d;
	size_t k;

	for (d = f->first; d; d = d->next) {
		json_object *o = json_object_new_object(), *v = json_object_new_array();

		json_object_object_add(o, "name", json_object_new_string(d->name));
		json_object_object_add(o, "uuid", json_object_new_string(d->uuid_str));
		json_object_object_add(o, "state",
				       json_object_new_string(virt_dom_state_name(d->sm.state)));
		json_object_object_add(o, "last_decision", json_object_new_string(d->reason));
		json_object_object_add(o, "metadata",
				       json_object_new_string(d->xml ? domxml_meta_state_name(
									       d->xml->meta.state) :
								       "unknown"));
		if (d->xml && d->xml->meta.state == DOMXML_META_INVALID)
			json_object_object_add(o, "metadata_error",
					       json_object_new_string(d->xml->meta.error));
		for (k = 0; k < d->n_held; k++)
			json_object_array_add(v, vnic_json(&d->held[k].v, d->held[k].error));
		json_object_object_add(o, "vnics", v);
		json_object_array_add(arr, o);
	}
	return arr;
}

json_object *virt_follow_status_json(struct virt_follow *f)
{
	struct virt_status st;
	json_object *o;

	if (!f || !f->virt)
		return NULL;
	virt_get_status(f->virt, &st);
	o = json_object_new_object();
	json_object_object_add(o, "uri", json_object_new_string(st.uri));
	json_object_object_add(o, "state", json_object_new_string(virt_conn_state_name(st.state)));
	json_object_object_add(o, "connects", json_object_new_int64((int64_t)st.connects));
	json_object_object_add(o, "failures", json_object_new_int64((int64_t)st.failures));
	json_object_object_add(o, "events", json_object_new_int64((int64_t)st.events));
	json_object_object_add(o, "queued", json_object_new_int64((int64_t)st.queued));
	json_object_object_add(o, "domains", json_object_new_int64((int64_t)f->n_doms));
	json_object_object_add(o, "last_error",
			       st.last_error[0] ? json_object_new_string(st.last_error) : NULL);
	{
		struct virt_follow_stats fs;
		json_object *l = json_object_new_object();

		virt_follow_get_stats(f, &fs);
		json_object_object_add(o, "handled", json_object_new_int64((int64_t)fs.events));
		json_object_object_add(l, "samples", json_object_new_int64((int64_t)fs.lat_n));
		json_object_object_add(l, "p50_usec", json_object_new_int64((int64_t)fs.lat_p50_usec));
		json_object_object_add(l, "p99_usec", json_object_new_int64((int64_t)fs.lat_p99_usec));
		json_object_object_add(l, "max_usec", json_object_new_int64((int64_t)fs.lat_max_usec));
		json_object_object_add(o, "attach_latency", l);
	}
	return o;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void virt_follow_get_stats(struct virt_follow *f, struct virt_follow_stats *ret)
{
	size_t n = f->lat_total < VIRT_LAT_SAMPLES ? f->lat_total : VIRT_LAT_SAMPLES;
	uint64_t *s;

	*ret = f->st;
	ret->lat_n = f->lat_total;
	if (!n)
		return;
	s = malloc(n * sizeof(*s));
	if (!s)
		return;
	memcpy(s, f->lat, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u64);
	ret->lat_p50_usec = s[n / 2];
	ret->lat_p99_usec = s[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
	ret->lat_max_usec = s[n - 1];
	free(s);
}
