// SPDX-License-Identifier: MIT
/*
 * virt-follow — the domains zcrxd follows, and what they hold (see
 * virt-follow.h).
 *
 * Owns: the domain table, routing triggers through the state machine and
 * the selection policy into the sink, and the event → attachment latency
 * samples.  Requests (API, hook): virt-follow-request.c; listings:
 * virt-follow-json.c.  Must not: call libvirt (virt.c does, on its
 * worker), touch the kernel.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "log.h"
#include "str.h"
#include "virt-follow-int.h"
#include "monotime.h"

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
struct vf_dom *virt_follow_lookup(struct virt_follow *f, const char *key)
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

struct vf_dom *virt_follow_get_dom(struct virt_follow *f, const uint8_t uuid[16],
				    const char *name)
{
	struct vf_dom *d = find_uuid(f, uuid);
	unsigned b;

	if (d) {
		if (name && *name && strcmp(d->name, name)) /* renamed */
			str_copy(d->name, sizeof(d->name), name);
		return d;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	memcpy(d->uuid, uuid, 16);
	domxml_uuid_format(uuid, d->uuid_str);
	str_copy(d->name, sizeof(d->name), name);
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
	free(d->skips);
	free(d);
}

/* Keep x (taken) as the domain's device map when it is the XML of a
 * running domain; otherwise free it. */
void virt_follow_keep_xml(struct vf_dom *d, struct domxml_domain **x)
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

/* Record what became of v for d: attached (error "") or why not. */
static int held_put(struct vf_dom *d, const struct virt_vnic *v, bool explicit_req,
		    const char *error)
{
	struct vf_held *h;
	ssize_t k = held_find(d, v->mac, v->nic);

	if (k < 0) {
		h = realloc(d->held, sizeof(*h) * (d->n_held + 1));
		if (!h)
			return -ENOMEM;
		d->held = h;
		k = (ssize_t)d->n_held++;
		memset(&d->held[k], 0, sizeof(d->held[k]));
	}
	d->held[k].v = *v;
	d->held[k].explicit_req = d->held[k].explicit_req || explicit_req;
	str_copy(d->held[k].error, sizeof(d->held[k].error), error);
	return 0;
}

int virt_follow_sink_attach(struct virt_follow *f, struct vf_dom *d, const struct virt_vnic *v,
			    enum virt_origin origin, bool explicit_req, char *err, size_t errlen)
{
	struct virt_domain_ref ref = ref_of(d);
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
	if (held_put(d, v, explicit_req, r < 0 ? err : "") < 0 && r >= 0)
		return -ENOMEM;
	return r;
}

size_t virt_follow_attach_vnics(struct virt_follow *f, struct vf_dom *d,
				const struct virt_selection *sel, enum virt_origin origin,
				bool explicit_req, const char *why, char (*errs)[VF_ERR_MAX],
				char *msg, size_t msglen)
{
	char (*err)[VF_ERR_MAX] = errs, m[18], fm[18], list[768] = "";
	size_t k, refused = 0, back = 0, first = 0, len = 0;
	bool *before;

	if (!sel->n)
		return 0;
	before = calloc(sel->n, sizeof(*before));
	if (!err)
		err = calloc(sel->n, sizeof(*err));
	if (!before || !err) {
		log_domain(LOG_ERR, LOG_SUBSYS_VIRT, d->name, "out of memory attaching vNICs");
		free(before);
		if (err != errs)
			free(err);
		return sel->n;
	}
	for (k = 0; k < sel->n; k++) {
		ssize_t h = held_find(d, sel->vnics[k].mac, sel->vnics[k].nic);

		before[k] = h >= 0 && !d->held[h].error[0];
	}
	for (k = 0; k < sel->n; k++) {
		if (virt_follow_sink_attach(f, d, &sel->vnics[k], origin, explicit_req, err[k],
					    sizeof(err[k])) >= 0)
			continue;
		if (!refused++)
			first = k;
		if (len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s on %s: %s",
						len ? "; " : "", nic_mac_format(sel->vnics[k].mac, m),
						sel->vnics[k].nic, err[k]);
	}
	/* a domain's vNICs are attached together: take back what this call
	 * made for the others, and say why on each */
	for (k = 0; refused && k < sel->n; k++) {
		if (err[k][0] || before[k])
			continue;
		(void)virt_follow_sink_detach(f, d, sel->vnics[k].mac, sel->vnics[k].nic, origin);
		snprintf(err[k], sizeof(err[k]),
			 "taken back: %s on %s was refused, and a domain's vNICs are attached "
			 "together", nic_mac_format(sel->vnics[first].mac, fm),
			 sel->vnics[first].nic);
		(void)held_put(d, &sel->vnics[k], explicit_req, err[k]);
		back++;
	}
	if (!refused) {
		size_t were = 0;

		/* what happened this time: a re-evaluation (SIGHUP, zcrxctl
		 * reconcile, a resync) finds most already attached */
		for (k = 0; k < sel->n; k++)
			were += before[k];
		if (!were)
			log_domain(LOG_INFO, LOG_SUBSYS_VIRT, d->name, "%s: %zu vNIC(s) attached",
				   why, sel->n);
		else if (were == sel->n)
			log_domain(LOG_INFO, LOG_SUBSYS_VIRT, d->name,
				   "%s: %zu vNIC(s) already attached", why, sel->n);
		else
			log_domain(LOG_INFO, LOG_SUBSYS_VIRT, d->name,
				   "%s: %zu vNIC(s) attached, %zu already were", why,
				   sel->n - were, were);
	} else {
		size_t kept = 0;

		for (k = 0; k < sel->n; k++)
			kept += before[k] && !err[k][0];
		log_domain(LOG_WARNING, LOG_SUBSYS_VIRT, d->name,
			   "%s: %zu of %zu vNIC(s) refused, none attached%s%s: %s", why, refused,
			   sel->n, back ? " (what was made for the others is taken back)" : "",
			   kept ? " (those attached before stay)" : "", list);
	}
	if (msg && msglen)
		snprintf(msg, msglen, "%s", list);
	free(before);
	if (err != errs)
		free(err);
	return refused;
}

bool virt_follow_refused(const struct vf_dom *d)
{
	size_t k;

	for (k = 0; k < d->n_held; k++)
		if (d->held[k].error[0])
			return true;
	return false;
}

void virt_follow_note_skips(struct vf_dom *d, const struct virt_selection *sel)
{
	struct virt_skip *v = NULL;
	size_t k;
	char m[18];

	if (sel->n_skips && (v = malloc(sel->n_skips * sizeof(*v))))
		memcpy(v, sel->skips, sel->n_skips * sizeof(*v));
	free(d->skips);
	d->skips = v;
	d->n_skips = v ? sel->n_skips : 0;
	for (k = 0; k < sel->n_skips; k++)
		log_domain(sel->skips[k].refused ? LOG_WARNING : LOG_DEBUG, LOG_SUBSYS_VIRT,
			   d->name, "%s %s: %s",
			   sel->skips[k].has_mac ? nic_mac_format(sel->skips[k].mac, m) : "a vNIC",
			   sel->skips[k].refused ? "refused" : "not attached", sel->skips[k].why);
}

int virt_follow_sink_detach(struct virt_follow *f, struct vf_dom *d, const uint8_t *mac,
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
	f->lat[f->lat_pos] = monotime_usec() - event_usec;
	f->lat_pos = (f->lat_pos + 1) % VIRT_LAT_SAMPLES;
	f->lat_total++;
}

/* Bring the domain's automatic attachments in line with its XML. */
static void apply_auto(struct virt_follow *f, struct vf_dom *d, const struct domxml_domain *x,
		       enum virt_origin origin, uint64_t event_usec, const char *reason)
{
	struct virt_selection sel;
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
			virt_follow_sink_detach(f, d, d->held[k].v.mac, d->held[k].v.nic, origin);
	}
	/* an attachment's latency only when it was made: a refusal is none */
	if (!virt_follow_attach_vnics(f, d, &sel, origin, false, reason, NULL, NULL, 0) && sel.n)
		record_latency(f, event_usec);
	virt_follow_note_skips(d, &sel);
	virt_selection_clear(&sel);
}

/* One input to the domain's state machine; says so on the Monitor stream
 * when the state changed or something is to be done. */
enum virt_action virt_follow_feed(struct virt_follow *f, struct vf_dom *d,
				  const struct virt_input *in, const char **reason)
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
void virt_follow_act(struct virt_follow *f, struct vf_dom *d, enum virt_action a,
		     const char *reason, enum virt_origin origin, uint64_t event_usec)
{
	str_copy(d->reason, sizeof(d->reason), reason);
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
		virt_follow_sink_detach(f, d, NULL, NULL, origin);
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

static void handle_event(struct virt_follow *f, const struct virt_input *in,
			 struct virt_domain_info *info)
{
	const char *reason;
	enum virt_action a;
	struct vf_dom *d;

	d = find_uuid(f, info->uuid);
	if (!d) {
		/* An unknown domain's definition or removal tells us nothing. */
		if (in->kind == VIRT_IN_LIFECYCLE &&
		    (in->event == VIRT_EV_DEFINED || in->event == VIRT_EV_UNDEFINED))
			return;
		d = virt_follow_get_dom(f, info->uuid, info->name);
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
	d->touched_usec = monotime_usec();
	if (info->run != VIRT_RUN_UNKNOWN)
		d->run = info->run;
	if (info->dom && virt_run_state_active(info->run))
		virt_follow_keep_xml(d, &info->dom);
	if (in->kind == VIRT_IN_LIFECYCLE)
		log_domain(LOG_DEBUG, LOG_SUBSYS_VIRT, d->name, "event %s/%s (%s)",
			   virt_ev_name(in->event), virt_ev_detail_name(in->event, in->detail),
			   virt_run_state_name(info->run));
	a = virt_follow_feed(f, d, in, &reason);
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
	virt_follow_act(f, d, a, reason, VIRT_ORIGIN_EVENT, info->event_usec);
}

static void on_event(void *ud, const struct virt_input *in, struct virt_domain_info *info)
{
	struct virt_follow *f = ud;

	f->st.events++;
	handle_event(f, in, info);
	f->st.last_usec = monotime_usec();
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

		d = virt_follow_get_dom(f, doms[k].uuid, doms[k].name);
		if (!d)
			continue;
		d->seen = true;
		d->touched_usec = monotime_usec();
		d->run = doms[k].run;
		virt_follow_keep_xml(d, &doms[k].dom);
		if (doms[k].run == VIRT_RUN_PAUSED)
			d->sm.state = d->sm.state == VIRT_DOM_MIGRATING_OUT ? d->sm.state :
									      VIRT_DOM_PAUSED;
		a = virt_follow_feed(f, d, &in, &reason);
		virt_follow_act(f, d, a, reason, VIRT_ORIGIN_EVENT, 0);
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
			a = virt_follow_feed(f, d, &in, &reason);
			virt_follow_act(f, d, a, reason, VIRT_ORIGIN_EVENT, 0);
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

/* --- re-evaluation ----------------------------------------------------------------------- */

void virt_follow_reevaluate(struct virt_follow *f, const char *why)
{
	struct vf_dom *d;

	if (!f)
		return;
	if (f->sink.batch)
		f->sink.batch(f->sink_ud, true);
	for (d = f->first; d; d = d->next) {
		/* running (or paused) here and attached by a decision that still
		 * stands: not an incoming migration, not one an operator detached */
		if (!d->xml || !d->sm.attached || d->sm.held ||
		    (d->sm.state != VIRT_DOM_RUNNING && d->sm.state != VIRT_DOM_PAUSED))
			continue;
		snprintf(d->reason, sizeof(d->reason), "%s", why);
		apply_auto(f, d, d->xml, VIRT_ORIGIN_OPERATOR, 0, why);
	}
	if (f->sink.batch)
		f->sink.batch(f->sink_ud, false);
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
