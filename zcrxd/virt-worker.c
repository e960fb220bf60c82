// SPDX-License-Identifier: MIT
/*
 * virt-worker — the threads (VIRT_WORKERS) that make every blocking
 * libvirt call: connect with keepalive and event callbacks, list and read
 * domains (state, live XML), resync, disconnect; and libvirt's callbacks,
 * which queue events for them.  Two calls in flight on the one connection
 * overlap their waits on libvirtd; a domain's events are still read one
 * after the other, in order, and a connect or resync runs alone
 * (virt_take_job_locked).  What they learn goes to the loop as messages
 * (virt-queue).
 * Owns: the libvirt connection while it is up.  Must not: touch the loop's
 * state, log above debug.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "str.h"
#include "virt-event.h"
#include "virt-int.h"
#include "monotime.h"

/* --- libvirt callbacks (loop thread, or a thread inside a libvirt call) ----------- */

/* What the worker would post for event j, read nothing yet: stamped with
 * the time the event came (before the hooks flag was looked at), so a hook
 * told after that makes it old news (virt-follow's handle_event). */
static struct vmsg *event_msg(const struct vjob *j)
{
	struct vmsg *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->type = VMSG_EVENT;
	m->gen = j->gen;
	m->in = j->in;
	memcpy(m->info.uuid, j->uuid, sizeof(j->uuid));
	memcpy(m->info.name, j->name, sizeof(j->name));
	m->info.event_usec = j->event_usec;
	m->info.read_usec = j->event_usec;
	return m;
}

/* An event with nothing to read, no job of its domain ahead of it: to the
 * loop at once (it runs there: no worker woken, no result handed back).
 * Lock held; true: wake the loop once it is let go (virt_post_locked). */
static bool pass_event_locked(struct virt_shared *sh, const struct vjob *j)
{
	struct vmsg *m = event_msg(j);

	if (!m)
		return false;
	sh->st.direct++;
	return virt_post_loop_locked(sh, m);
}

/* Does this event end what its name stands for (virt_name_note_locked)? */
static bool ends_name(enum virt_input_kind kind, int event)
{
	return kind == VIRT_IN_LIFECYCLE && (event == VIRT_EV_STOPPED || event == VIRT_EV_UNDEFINED);
}

static void queue_event(struct virt_shared *sh, virConnectPtr c, virDomainPtr dom,
			enum virt_input_kind kind, int event, int detail)
{
	struct vjob job = { .type = VJOB_EVENT }, *j = &job;
	const char *name;
	bool known = false, keyed, hooked = false, wake;
	int hooked_id = 0;

	j->event_usec = monotime_usec();
	j->in.kind = kind;
	j->in.event = event;
	j->in.detail = detail;
	/* The XML is needed where the domain may now hold (other) vNICs. */
	j->want_xml = kind != VIRT_IN_LIFECYCLE || event == VIRT_EV_STARTED ||
		      event == VIRT_EV_RESUMED;
	/* Local getters, no RPC; the UUID from the name's memory when this
	 * connection's events told it already (a name too long to keep whole
	 * is not looked up: cut, it could be another's). */
	name = VIRT_LIB(virDomainGetName)(dom);
	if (!name)
		name = "";
	keyed = *name && strnlen(name, sizeof(j->name)) < sizeof(j->name);
	str_copy(j->name, sizeof(j->name), name);

	/* The start hook gave a run's live XML: that run's boot events need
	 * not read it again (virt_note_hook_run).  Another run reads. */
	pthread_mutex_lock(&sh->lock);
	if (keyed && c == sh->conn) {
		known = virt_name_find_locked(sh, sh->gen, name, j->uuid);
		if (known && j->want_xml && kind == VIRT_IN_LIFECYCLE)
			hooked_id = virt_name_hooked_locked(sh, sh->gen, name, j->uuid, false);
	}
	pthread_mutex_unlock(&sh->lock);
	if (!known && VIRT_LIB(virDomainGetUUID)(dom, j->uuid) < 0)
		return;
	hooked = hooked_id > 0 && VIRT_LIB(virDomainGetID)(dom) == (unsigned int)hooked_id;

	pthread_mutex_lock(&sh->lock);
	if (sh->stopping || c != sh->conn) {
		pthread_mutex_unlock(&sh->lock); /* a late event of an old connection */
		return;
	}
	if (hooked && event == VIRT_EV_STARTED)
		(void)virt_name_hooked_locked(sh, sh->gen, name, j->uuid, true);
	if (hooked) {
		j->want_xml = false;
		sh->st.hooked++;
	}
	if (keyed && (!known || ends_name(kind, event)))
		virt_name_note_locked(sh, sh->gen, name, j->uuid, ends_name(kind, event));
	sh->st.events++;
	if (sh->njobs >= VIRT_QUEUE_MAX) {
		/* Flooded: drop it; the worker re-lists everything instead. */
		sh->overflow = true;
		pthread_mutex_unlock(&sh->lock);
		virt_wake_worker(sh, false); /* the first drops the queue */
		return;
	}
	/* Where hooks run, a stop may be old news by the time it is handled
	 * (the stop of a previous run arriving after the next run's hook): the
	 * state read then tells (virt_note_hook).  Without hooks a stale stop
	 * is followed by the next run's start, which reads the live XML; its
	 * macvtaps are new, so what the stop detached was the old run's. */
	j->want_state = kind == VIRT_IN_LIFECYCLE && event == VIRT_EV_STOPPED && sh->hooks;
	j->gen = sh->gen;
	if (!j->want_xml && !j->want_state && virt_may_pass_locked(sh, j->uuid)) {
		wake = pass_event_locked(sh, j); /* (j on the stack: nothing to queue) */
		pthread_mutex_unlock(&sh->lock);
		if (wake)
			virt_wake_loop(sh);
		return;
	}
	j = malloc(sizeof(*j));
	if (!j) {
		pthread_mutex_unlock(&sh->lock);
		return;
	}
	*j = job;
	if ((j->want_xml || j->want_state) && VIRT_LIB(virDomainRef)(dom) == 0)
		j->dom = dom;
	wake = virt_push_job_locked(sh, j);
	pthread_mutex_unlock(&sh->lock);
	virt_wake_worker(sh, wake);
}

static int on_lifecycle(virConnectPtr c, virDomainPtr dom, int event, int detail, void *opaque)
{
	queue_event(opaque, c, dom, VIRT_IN_LIFECYCLE, event, detail);
	return 0;
}

static void on_metadata(virConnectPtr c, virDomainPtr dom, int type, const char *nsuri,
			void *opaque)
{
	queue_event(opaque, c, dom, VIRT_IN_METADATA, 0, type);
}

static void on_device(virConnectPtr c, virDomainPtr dom, const char *alias, void *opaque)
{
	queue_event(opaque, c, dom, VIRT_IN_DEVICE, 0, 0);
}

static void on_close(virConnectPtr c, int reason, void *opaque)
{
	static const char *const why[] = { "error", "end of file", "keepalive timeout",
					   "closed by client" };
	struct virt_shared *sh = opaque;
	char text[128];
	unsigned gen;

	pthread_mutex_lock(&sh->lock);
	if (c != sh->conn || sh->lost_reported || sh->stopping) {
		pthread_mutex_unlock(&sh->lock);
		return;
	}
	sh->lost_reported = true;
	gen = sh->gen;
	pthread_mutex_unlock(&sh->lock);
	snprintf(text, sizeof(text), "connection closed: %s",
		 reason >= 0 && reason < 4 ? why[reason] : "unknown reason");
	virt_post_conn(sh, gen, VIRT_CONN_DISCONNECTED, text);
}

/* --- the worker --------------------------------------------------------------------- */

static enum virt_run_state fold_state(int st)
{
	switch (st) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
	case VIR_DOMAIN_NOSTATE:
		return VIRT_RUN_RUNNING;
	case VIR_DOMAIN_PAUSED:
	case VIR_DOMAIN_PMSUSPENDED:
		return VIRT_RUN_PAUSED;
	case VIR_DOMAIN_SHUTDOWN:
	case VIR_DOMAIN_CRASHED:
		return VIRT_RUN_STOPPING;
	case VIR_DOMAIN_SHUTOFF:
		return VIRT_RUN_SHUTOFF;
	default:
		return VIRT_RUN_UNKNOWN;
	}
}

bool virt_run_state_active(enum virt_run_state s)
{
	return s == VIRT_RUN_RUNNING || s == VIRT_RUN_PAUSED || s == VIRT_RUN_STOPPING;
}

/* The connection failed under us: report once per connection. */
static void check_alive(struct virt_shared *sh, virConnectPtr conn, unsigned gen)
{
	bool report = false;

	if (VIRT_LIB(virConnectIsAlive)(conn) == 1)
		return;
	pthread_mutex_lock(&sh->lock);
	if (gen == sh->gen && !sh->lost_reported) {
		sh->lost_reported = true;
		report = true;
	}
	pthread_mutex_unlock(&sh->lock);
	if (report)
		virt_post_conn(sh, gen, VIRT_CONN_DISCONNECTED, "connection lost");
}

/* State and live XML of one domain, as now. */
/* What libvirt says about one domain now.  what: READ_STATE (GetState
 * only), READ_XML (GetXMLDesc only: the live XML's id tells whether it
 * runs — one round trip instead of two, which matters in bursts) or
 * READ_BOTH (resync: also paused vs running). */
enum read_what {
	READ_STATE = 1,
	READ_XML = 2,
	READ_BOTH = 3,
};

static bool read_failed(struct virt_shared *sh, virConnectPtr conn, unsigned gen,
			struct virt_domain_info *info)
{
	virErrorPtr e = VIRT_LIB(virGetLastError)();

	if (e && e->code == VIR_ERR_NO_DOMAIN) {
		info->run = VIRT_RUN_GONE;
		return true;
	}
	snprintf(info->err, sizeof(info->err), "%s", virt_last_error());
	check_alive(sh, conn, gen);
	return true;
}

/* This worker's XML parser (its libxml2 context reused from read to read):
 * made and freed by virt_worker_main on its own thread. */
static __thread struct domxml_parser *worker_parser;

static void read_domain(struct virt_shared *sh, virConnectPtr conn, unsigned gen,
			virDomainPtr dom, enum read_what what, struct virt_domain_info *info)
{
	int st = 0, reason = 0, r;
	char *xml;

	if (what & READ_STATE) {
		if (VIRT_LIB(virDomainGetState)(dom, &st, &reason, 0) < 0) {
			read_failed(sh, conn, gen, info);
			return;
		}
		info->run = fold_state(st);
		if (!(what & READ_XML) || !virt_run_state_active(info->run))
			return;
	}
	xml = VIRT_LIB(virDomainGetXMLDesc)(dom, 0);
	if (!xml) {
		read_failed(sh, conn, gen, info);
		return;
	}
	if (worker_parser)
		r = domxml_parser_parse(worker_parser, xml, strlen(xml), &info->dom, info->err,
					sizeof(info->err));
	else
		r = domxml_parse(xml, strlen(xml), &info->dom, info->err, sizeof(info->err));
	if (r < 0)
		info->dom = NULL;
	free(xml);
	if (!(what & READ_STATE)) {
		/* live XML of a running (or paused) domain has an id */
		if (info->dom)
			info->run = info->dom->id >= 0 ? VIRT_RUN_RUNNING : VIRT_RUN_SHUTOFF;
		if (info->dom && info->dom->id < 0)
			info->dom = domxml_free(info->dom);
	}
}

static void fill_identity(virDomainPtr dom, struct virt_domain_info *info)
{
	const char *name = VIRT_LIB(virDomainGetName)(dom);

	(void)VIRT_LIB(virDomainGetUUID)(dom, info->uuid);
	snprintf(info->name, sizeof(info->name), "%s", name ? name : "");
}

static void worker_resync(struct virt_shared *sh, virConnectPtr conn, unsigned gen)
{
	virDomainPtr *doms = NULL;
	uint64_t listed = monotime_usec();
	struct vmsg *m;
	int n, k;

	n = VIRT_LIB(virConnectListAllDomains)(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0) {
		/* A partial picture would detach running domains: post nothing.
		 * A lost connection is reconnected and listed again. */
		log_debug(LOG_SUBSYS_VIRT, "list domains: %s", virt_last_error());
		check_alive(sh, conn, gen);
		return;
	}
	m = calloc(1, sizeof(*m));
	if (m && n > 0)
		m->list = calloc((size_t)n, sizeof(*m->list));
	for (k = 0; k < n; k++) {
		if (m && m->list) {
			fill_identity(doms[k], &m->list[k]);
			m->list[k].read_usec = monotime_usec();
			read_domain(sh, conn, gen, doms[k], READ_BOTH, &m->list[k]);
			/* listed active a moment ago: not proof of a stop */
			if (m->list[k].run == VIRT_RUN_UNKNOWN)
				m->list[k].run = VIRT_RUN_RUNNING;
		}
		VIRT_LIB(virDomainFree)(doms[k]);
	}
	free(doms);
	if (!m || (n > 0 && !m->list)) {
		if (m)
			free(m);
		return; /* out of memory: the next reconnect tries again */
	}
	m->type = VMSG_RESYNC;
	m->gen = gen;
	m->n = (size_t)n;
	m->listed_usec = listed;
	virt_post(sh, m);
}

static void worker_disconnect(struct virt_shared *sh)
{
	virConnectPtr conn;
	int k, ids[4];

	pthread_mutex_lock(&sh->lock);
	conn = sh->conn;
	sh->conn = NULL;
	memcpy(ids, sh->cb_ids, sizeof(ids));
	for (k = 0; k < 4; k++)
		sh->cb_ids[k] = -1;
	pthread_mutex_unlock(&sh->lock);
	if (!conn)
		return;
	for (k = 0; k < 4; k++)
		if (ids[k] >= 0)
			(void)VIRT_LIB(virConnectDomainEventDeregisterAny)(conn, ids[k]);
	(void)VIRT_LIB(virConnectUnregisterCloseCallback)(conn, on_close);
	(void)VIRT_LIB(virConnectClose)(conn);
}

static void worker_connect(struct virt_shared *sh)
{
	static const struct {
		int id;
		virConnectDomainEventGenericCallback cb;
	} subs[4] = {
		{ VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle) },
		{ VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_metadata) },
		{ VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(on_device) },
		{ VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(on_device) },
	};
	virConnectPtr conn;
	char text[300];
	unsigned gen;
	int k, id;

	worker_disconnect(sh);
	conn = VIRT_LIB(virConnectOpenReadOnly)(sh->uri);
	if (!conn) {
		snprintf(text, sizeof(text), "%s", virt_last_error());
		pthread_mutex_lock(&sh->lock);
		gen = sh->gen;
		pthread_mutex_unlock(&sh->lock);
		virt_post_conn(sh, gen, VIRT_CONN_DISCONNECTED, text);
		return;
	}
	pthread_mutex_lock(&sh->lock);
	sh->conn = conn; /* before subscribing: events may arrive at once */
	gen = ++sh->gen;
	sh->lost_reported = false;
	pthread_mutex_unlock(&sh->lock);

	/* No reference for the close callback: drivers without one (test:///)
	 * accept it and never call a free callback; the worker's own reference
	 * covers it until worker_disconnect() unregisters it. */
	(void)VIRT_LIB(virConnectRegisterCloseCallback)(conn, on_close, sh, NULL);
	/* -1 on drivers without keepalive (test:///): nothing to do then */
	(void)VIRT_LIB(virConnectSetKeepAlive)(conn, sh->ka_interval, (unsigned)sh->ka_count);
	for (k = 0; k < 4; k++) {
		id = VIRT_LIB(virConnectDomainEventRegisterAny)(conn, NULL, subs[k].id, subs[k].cb,
						      virt_shared_ref(sh), virt_shared_unref_cb);
		if (id < 0) {
			virt_shared_unref(sh);
			if (k == 0) {
				snprintf(text, sizeof(text), "subscribing to domain events: %s",
					 virt_last_error());
				worker_disconnect(sh);
				virt_post_conn(sh, gen, VIRT_CONN_DISCONNECTED, text);
				return;
			}
			log_debug(LOG_SUBSYS_VIRT, "event %d not available: %s", subs[k].id,
				  virt_last_error());
		}
		pthread_mutex_lock(&sh->lock);
		sh->cb_ids[k] = id;
		pthread_mutex_unlock(&sh->lock);
	}
	virt_post_conn(sh, gen, VIRT_CONN_CONNECTED, sh->uri);
	worker_resync(sh, conn, gen);
}

static void worker_event(struct virt_shared *sh, struct vjob *j)
{
	struct vmsg *m;
	virConnectPtr conn;
	unsigned gen;

	pthread_mutex_lock(&sh->lock);
	conn = sh->conn;
	gen = sh->gen;
	pthread_mutex_unlock(&sh->lock);
	if (j->gen != gen || !conn)
		return; /* from a connection that is gone: the resync covers it */
	m = event_msg(j);
	if (!m)
		return;
	if (j->dom) { /* XML or state wanted when it was queued */
		/* the post below wakes the loop (or finds it woken already and
		 * not yet at the results): it applies the socket's interest then */
		virt_event_quiet_begin();
		read_domain(sh, conn, gen, j->dom, j->want_xml ? READ_XML : READ_STATE, &m->info);
		(void)virt_event_quiet_end();
		m->info.read_usec = monotime_usec();
		pthread_mutex_lock(&sh->lock);
		sh->st.reads++;
		pthread_mutex_unlock(&sh->lock);
	}
	virt_post(sh, m);
}

/*
 * A burst (a start gives RESUMED then STARTED; metadata edits come in
 * series): when a later queued event of the same domain reads the live XML
 * anyway, this one need not — it is delivered without XML, and the state
 * machine acts on the later one.  Looks a bounded way ahead.  Lock held.
 */
static bool xml_read_later(const struct virt_shared *sh, const struct vjob *j)
{
	const struct vjob *k;
	int n = 0;

	for (k = sh->jobs; k && n < 64; k = k->next, n++)
		if (k->type == VJOB_EVENT && k->gen == j->gen && k->want_xml &&
		    !memcmp(k->uuid, j->uuid, sizeof(j->uuid)))
			return true;
	return false;
}

static void worker_resync_job(struct virt_shared *sh)
{
	virConnectPtr conn;
	unsigned gen;

	pthread_mutex_lock(&sh->lock);
	conn = sh->conn;
	gen = sh->gen;
	if (conn)
		VIRT_LIB(virConnectRef)(conn);
	pthread_mutex_unlock(&sh->lock);
	if (conn) {
		worker_resync(sh, conn, gen);
		VIRT_LIB(virConnectClose)(conn);
	}
}

void *virt_worker_main(void *p)
{
	struct virt_shared *sh = p;
	struct vjob *j = NULL;
	sigset_t all;
	char name[16];
	unsigned idx;
	bool last, others;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&sh->lock);
	idx = sh->workers_named++;
	sh->workers_running++;
	pthread_mutex_unlock(&sh->lock);
	if (idx)
		snprintf(name, sizeof(name), "zcrxd-libvirt%u", idx + 1);
	else
		snprintf(name, sizeof(name), "zcrxd-libvirt");
	(void)pthread_setname_np(pthread_self(), name);
	worker_parser = domxml_parser_new(); /* NULL: each read makes its own */
	for (;;) {
		pthread_mutex_lock(&sh->lock);
		j = virt_wait_job_locked(sh, idx);
		if (!j) {
			pthread_mutex_unlock(&sh->lock);
			break; /* stopping */
		}
		if (j->type == VJOB_EVENT && j->want_xml)
			j->want_xml = !xml_read_later(sh, j);
		pthread_mutex_unlock(&sh->lock);

		switch (j->type) {
		case VJOB_CONNECT:
			worker_connect(sh);
			break;
		case VJOB_EVENT:
			worker_event(sh, j);
			break;
		case VJOB_RESYNC:
			worker_resync_job(sh);
			break;
		}
		pthread_mutex_lock(&sh->lock);
		others = virt_done_job_locked(sh, j, idx);
		pthread_mutex_unlock(&sh->lock);
		if (others)
			virt_wake_workers(sh);
		virt_job_free(j);
	}
	/* The last worker out closes the connection: no call of another is
	 * in flight then. */
	pthread_mutex_lock(&sh->lock);
	last = --sh->workers_running == 0;
	pthread_mutex_unlock(&sh->lock);
	if (last)
		worker_disconnect(sh);
	worker_parser = domxml_parser_free(worker_parser);
	virt_shared_unref(sh);
	return NULL;
}
