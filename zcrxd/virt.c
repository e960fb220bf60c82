// SPDX-License-Identifier: MIT
/*
 * virt — the libvirt connection (see virt.h).
 *
 * Owns: the only #include of libvirt's headers; libvirt's event
 * implementation (trampolines into virt-event); one worker thread that makes
 * every blocking libvirt call; the job queue (loop → worker) and the result
 * queue (worker → loop, woken through an eventfd); reconnect with backoff.
 * Must not: call a blocking libvirt function on the loop thread, decide
 * about attachments, log above debug (the caller reports what it learns
 * through the callbacks).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "virt-lib.h"

#include "log.h"
#include "virt-event.h"
#include "virt.h"

/* Our mirrors of libvirt's numbers must match. */
#define SAME(ours, theirs) _Static_assert((int)(ours) == (int)(theirs), #ours)
SAME(VIRT_EVENT_READABLE, VIR_EVENT_HANDLE_READABLE);
SAME(VIRT_EVENT_WRITABLE, VIR_EVENT_HANDLE_WRITABLE);
SAME(VIRT_EVENT_ERROR, VIR_EVENT_HANDLE_ERROR);
SAME(VIRT_EVENT_HANGUP, VIR_EVENT_HANDLE_HANGUP);
SAME(VIRT_EV_DEFINED, VIR_DOMAIN_EVENT_DEFINED);
SAME(VIRT_EV_UNDEFINED, VIR_DOMAIN_EVENT_UNDEFINED);
SAME(VIRT_EV_STARTED, VIR_DOMAIN_EVENT_STARTED);
SAME(VIRT_EV_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED);
SAME(VIRT_EV_RESUMED, VIR_DOMAIN_EVENT_RESUMED);
SAME(VIRT_EV_STOPPED, VIR_DOMAIN_EVENT_STOPPED);
SAME(VIRT_EV_SHUTDOWN, VIR_DOMAIN_EVENT_SHUTDOWN);
SAME(VIRT_EV_PMSUSPENDED, VIR_DOMAIN_EVENT_PMSUSPENDED);
SAME(VIRT_EV_CRASHED, VIR_DOMAIN_EVENT_CRASHED);
SAME(VIRT_EV_STARTED_MIGRATED, VIR_DOMAIN_EVENT_STARTED_MIGRATED);
SAME(VIRT_EV_STARTED_RESTORED, VIR_DOMAIN_EVENT_STARTED_RESTORED);
SAME(VIRT_EV_SUSPENDED_MIGRATED, VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED);
SAME(VIRT_EV_RESUMED_MIGRATED, VIR_DOMAIN_EVENT_RESUMED_MIGRATED);
SAME(VIRT_EV_STOPPED_DESTROYED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED);
SAME(VIRT_EV_STOPPED_MIGRATED, VIR_DOMAIN_EVENT_STOPPED_MIGRATED);
SAME(VIRT_EV_STOPPED_SAVED, VIR_DOMAIN_EVENT_STOPPED_SAVED);
SAME(VIRT_EV_STOPPED_FAILED, VIR_DOMAIN_EVENT_STOPPED_FAILED);
SAME(VIRT_EV_SHUTDOWN_HOST, VIR_DOMAIN_EVENT_SHUTDOWN_HOST);
_Static_assert(DOMXML_NAME_MAX >= 256, "names");

#define VIRT_QUEUE_MAX 65536 /* jobs; beyond this events are dropped for a resync */
#define VIRT_STOP_WAIT_MS 2000

enum vjob_type {
	VJOB_CONNECT,
	VJOB_EVENT,
	VJOB_RESYNC,
};

struct vjob {
	struct vjob *next;
	enum vjob_type type;
	unsigned gen; /* connection generation the event came from */
	struct virt_input in;
	bool want_xml;    /* read state and live XML */
	bool want_state;  /* read the state only */
	virDomainPtr dom; /* a reference of our own */
	uint8_t uuid[16];
	char name[DOMXML_NAME_MAX];
	uint64_t event_usec;
};

enum vmsg_type {
	VMSG_CONN,
	VMSG_RESYNC,
	VMSG_EVENT,
};

struct vmsg {
	struct vmsg *next;
	enum vmsg_type type;
	unsigned gen;
	enum virt_conn_state state; /* VMSG_CONN */
	char text[256];
	struct virt_input in;          /* VMSG_EVENT */
	struct virt_domain_info info;  /* VMSG_EVENT */
	struct virt_domain_info *list; /* VMSG_RESYNC */
	size_t n;
	uint64_t listed_usec;          /* VMSG_RESYNC */
};

/* What the loop, the worker and libvirt's callbacks share.  Reference
 * counted: the worker may outlive virt_free() when stuck in a call. */
struct virt_shared {
	atomic_int refs;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;

	char *uri;
	int ka_interval, ka_count;

	/* worker input */
	struct vjob *jobs, **jobs_tail;
	size_t njobs;
	bool overflow;

	/* worker output */
	struct vmsg *msgs, **msgs_tail;
	int msgfd;

	/* the connection (set by the worker; read by callbacks to drop stale ones) */
	virConnectPtr conn;
	unsigned gen;
	bool lost_reported;
	int cb_ids[4];

	struct virt_status st;
};

struct virt {
	sd_event *ev;
	struct virt_shared *sh;
	pthread_t worker;
	bool worker_started;
	sd_event_source *msg_src;
	sd_event_source *retry_src;
	struct virt_callbacks cb;
	void *userdata;
	enum virt_conn_state state;
	unsigned backoff_ms, backoff_min_ms, backoff_max_ms;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* --- process-wide libvirt setup -------------------------------------------------- */

static struct virt_event *g_event;
static sd_event *g_event_loop;
static pthread_mutex_t g_init_lock = PTHREAD_MUTEX_INITIALIZER;

static int tr_add_handle(int fd, int events, virEventHandleCallback cb, void *opaque,
			 virFreeCallback ff)
{
	return virt_event_add_handle(g_event, fd, events, (virt_event_handle_cb)cb, opaque,
				     (virt_event_free_cb)ff);
}

static void tr_update_handle(int watch, int events)
{
	virt_event_update_handle(g_event, watch, events);
}

static int tr_remove_handle(int watch)
{
	return virt_event_remove_handle(g_event, watch);
}

static int tr_add_timeout(int ms, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
	return virt_event_add_timeout(g_event, ms, (virt_event_timeout_cb)cb, opaque,
				      (virt_event_free_cb)ff);
}

static void tr_update_timeout(int timer, int ms)
{
	virt_event_update_timeout(g_event, timer, ms);
}

static int tr_remove_timeout(int timer)
{
	return virt_event_remove_timeout(g_event, timer);
}

static void quiet_errors(void *userdata, virErrorPtr err)
{
	/* libvirt would print every error on stderr; we read them ourselves. */
}

int virt_global_init(sd_event *ev)
{
	struct sigaction sa;
	char why[256];
	int r = 0;

	pthread_mutex_lock(&g_init_lock);
	if (g_event) {
		r = g_event_loop == ev ? 0 : -EBUSY;
		goto out;
	}
	r = virt_lib_load(why, sizeof(why));
	if (r < 0) {
		log_error(LOG_SUBSYS_VIRT, "libvirt unavailable: %s", why);
		goto out;
	}
	if (VIRT_LIB(virInitialize)() < 0) {
		r = -EIO;
		goto out;
	}
	VIRT_LIB(virSetErrorFunc)(NULL, quiet_errors);
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		(void)signal(SIGPIPE, SIG_IGN);
	domxml_init();
	r = virt_event_new(ev, &g_event);
	if (r < 0)
		goto out;
	g_event_loop = ev;
	VIRT_LIB(virEventRegisterImpl)(tr_add_handle, tr_update_handle, tr_remove_handle, tr_add_timeout,
			     tr_update_timeout, tr_remove_timeout);
out:
	pthread_mutex_unlock(&g_init_lock);
	return r;
}

/* --- shared state ----------------------------------------------------------------- */

static void info_clear(struct virt_domain_info *i)
{
	i->dom = domxml_free(i->dom);
}

static void msg_free(struct vmsg *m)
{
	size_t k;

	info_clear(&m->info);
	for (k = 0; k < m->n; k++)
		info_clear(&m->list[k]);
	free(m->list);
	free(m);
}

static void job_free(struct vjob *j)
{
	if (j->dom)
		VIRT_LIB(virDomainFree)(j->dom);
	free(j);
}

static struct virt_shared *shared_ref(struct virt_shared *sh)
{
	atomic_fetch_add(&sh->refs, 1);
	return sh;
}

static void shared_unref(struct virt_shared *sh)
{
	struct vmsg *m;
	struct vjob *j;

	if (!sh || atomic_fetch_sub(&sh->refs, 1) != 1)
		return;
	while ((j = sh->jobs)) {
		sh->jobs = j->next;
		job_free(j);
	}
	while ((m = sh->msgs)) {
		sh->msgs = m->next;
		msg_free(m);
	}
	if (sh->msgfd >= 0)
		close(sh->msgfd);
	pthread_cond_destroy(&sh->cond);
	pthread_mutex_destroy(&sh->lock);
	free(sh->uri);
	free(sh);
}

static void shared_unref_cb(void *opaque)
{
	shared_unref(opaque);
}

/* Any thread; lock held. */
static void post_locked(struct virt_shared *sh, struct vmsg *m)
{
	uint64_t one = 1;

	m->next = NULL;
	*sh->msgs_tail = m;
	sh->msgs_tail = &m->next;
	(void)!write(sh->msgfd, &one, sizeof(one));
}

static void post(struct virt_shared *sh, struct vmsg *m)
{
	pthread_mutex_lock(&sh->lock);
	post_locked(sh, m);
	pthread_mutex_unlock(&sh->lock);
}

static void set_state_locked(struct virt_shared *sh, enum virt_conn_state st, const char *text)
{
	sh->st.state = st;
	sh->st.since_usec = now_usec();
	if (text && *text && st == VIRT_CONN_DISCONNECTED)
		snprintf(sh->st.last_error, sizeof(sh->st.last_error), "%s", text);
}

static void post_conn(struct virt_shared *sh, unsigned gen, enum virt_conn_state st,
		      const char *text)
{
	struct vmsg *m = calloc(1, sizeof(*m));

	pthread_mutex_lock(&sh->lock);
	set_state_locked(sh, st, text);
	if (st == VIRT_CONN_CONNECTED)
		sh->st.connects++;
	else if (st == VIRT_CONN_DISCONNECTED)
		sh->st.failures++;
	if (m) {
		m->type = VMSG_CONN;
		m->gen = gen;
		m->state = st;
		snprintf(m->text, sizeof(m->text), "%s", text ? text : "");
		post_locked(sh, m);
	}
	pthread_mutex_unlock(&sh->lock);
}

static void push_job_locked(struct virt_shared *sh, struct vjob *j)
{
	j->next = NULL;
	*sh->jobs_tail = j;
	sh->jobs_tail = &j->next;
	sh->njobs++;
	sh->st.queued = sh->njobs;
	pthread_cond_signal(&sh->cond);
}

static int push_simple_job(struct virt_shared *sh, enum vjob_type type)
{
	struct vjob *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->type = type;
	pthread_mutex_lock(&sh->lock);
	push_job_locked(sh, j);
	pthread_mutex_unlock(&sh->lock);
	return 0;
}

static const char *last_error(void)
{
	const char *m = VIRT_LIB(virGetLastErrorMessage)();

	return m && *m ? m : "unknown libvirt error";
}

/* --- libvirt callbacks (loop thread, or a thread inside a libvirt call) ----------- */

static void queue_event(struct virt_shared *sh, virConnectPtr c, virDomainPtr dom,
			enum virt_input_kind kind, int event, int detail)
{
	struct vjob *j;
	const char *name;

	j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->type = VJOB_EVENT;
	j->event_usec = now_usec();
	j->in.kind = kind;
	j->in.event = event;
	j->in.detail = detail;
	/* The XML is needed where the domain may now hold (other) vNICs. */
	j->want_xml = kind != VIRT_IN_LIFECYCLE || event == VIRT_EV_STARTED ||
		      event == VIRT_EV_RESUMED;
	/* A stop may be old news by the time it is handled (the domain was
	 * started again): the state read then tells. */
	j->want_state = kind == VIRT_IN_LIFECYCLE && event == VIRT_EV_STOPPED;
	/* Local getters, no RPC. */
	if (VIRT_LIB(virDomainGetUUID)(dom, j->uuid) < 0) {
		free(j);
		return;
	}
	name = VIRT_LIB(virDomainGetName)(dom);
	snprintf(j->name, sizeof(j->name), "%s", name ? name : "");

	pthread_mutex_lock(&sh->lock);
	if (sh->stopping || c != sh->conn) {
		pthread_mutex_unlock(&sh->lock); /* a late event of an old connection */
		free(j);
		return;
	}
	sh->st.events++;
	if (sh->njobs >= VIRT_QUEUE_MAX) {
		/* Flooded: drop it; the worker re-lists everything instead. */
		sh->overflow = true;
		pthread_cond_signal(&sh->cond);
		pthread_mutex_unlock(&sh->lock);
		free(j);
		return;
	}
	j->gen = sh->gen;
	if ((j->want_xml || j->want_state) && VIRT_LIB(virDomainRef)(dom) == 0)
		j->dom = dom;
	push_job_locked(sh, j);
	pthread_mutex_unlock(&sh->lock);
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
	post_conn(sh, gen, VIRT_CONN_DISCONNECTED, text);
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
		post_conn(sh, gen, VIRT_CONN_DISCONNECTED, "connection lost");
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
	snprintf(info->err, sizeof(info->err), "%s", last_error());
	check_alive(sh, conn, gen);
	return true;
}

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
	uint64_t listed = now_usec();
	struct vmsg *m;
	int n, k;

	n = VIRT_LIB(virConnectListAllDomains)(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0) {
		/* A partial picture would detach running domains: post nothing.
		 * A lost connection is reconnected and listed again. */
		log_debug(LOG_SUBSYS_VIRT, "list domains: %s", last_error());
		check_alive(sh, conn, gen);
		return;
	}
	m = calloc(1, sizeof(*m));
	if (m && n > 0)
		m->list = calloc((size_t)n, sizeof(*m->list));
	for (k = 0; k < n; k++) {
		if (m && m->list) {
			fill_identity(doms[k], &m->list[k]);
			m->list[k].read_usec = now_usec();
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
	post(sh, m);
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
		snprintf(text, sizeof(text), "%s", last_error());
		pthread_mutex_lock(&sh->lock);
		gen = sh->gen;
		pthread_mutex_unlock(&sh->lock);
		post_conn(sh, gen, VIRT_CONN_DISCONNECTED, text);
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
						      shared_ref(sh), shared_unref_cb);
		if (id < 0) {
			shared_unref(sh);
			if (k == 0) {
				snprintf(text, sizeof(text), "subscribing to domain events: %s",
					 last_error());
				worker_disconnect(sh);
				post_conn(sh, gen, VIRT_CONN_DISCONNECTED, text);
				return;
			}
			log_debug(LOG_SUBSYS_VIRT, "event %d not available: %s", subs[k].id,
				  last_error());
		}
		pthread_mutex_lock(&sh->lock);
		sh->cb_ids[k] = id;
		pthread_mutex_unlock(&sh->lock);
	}
	post_conn(sh, gen, VIRT_CONN_CONNECTED, sh->uri);
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
	m = calloc(1, sizeof(*m));
	if (!m)
		return;
	m->type = VMSG_EVENT;
	m->gen = gen;
	m->in = j->in;
	memcpy(m->info.uuid, j->uuid, sizeof(j->uuid));
	memcpy(m->info.name, j->name, sizeof(j->name));
	m->info.event_usec = j->event_usec;
	if (j->dom && j->want_xml)
		read_domain(sh, conn, gen, j->dom, READ_XML, &m->info);
	else if (j->dom)
		read_domain(sh, conn, gen, j->dom, READ_STATE, &m->info);
	m->info.read_usec = now_usec();
	post(sh, m);
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

static void *worker_main(void *p)
{
	struct virt_shared *sh = p;
	struct vjob *j;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	(void)pthread_setname_np(pthread_self(), "zcrxd-libvirt");
	for (;;) {
		pthread_mutex_lock(&sh->lock);
		while (!sh->jobs && !sh->overflow && !sh->stopping)
			pthread_cond_wait(&sh->cond, &sh->lock);
		if (sh->stopping) {
			pthread_mutex_unlock(&sh->lock);
			break;
		}
		if (sh->overflow) {
			/* Drop the queued events, list everything instead. */
			sh->overflow = false;
			while ((j = sh->jobs)) {
				sh->jobs = j->next;
				if (j->type == VJOB_EVENT) {
					job_free(j);
					continue;
				}
				/* keep connect/resync jobs: rare, and meaningful */
				j->next = NULL;
				break;
			}
			if (!sh->jobs) {
				sh->jobs_tail = &sh->jobs;
				sh->njobs = 0;
			}
			j = calloc(1, sizeof(*j));
			if (j)
				j->type = VJOB_RESYNC;
			else
				sh->overflow = true;
		} else {
			j = sh->jobs;
			sh->jobs = j->next;
			if (!sh->jobs)
				sh->jobs_tail = &sh->jobs;
			sh->njobs--;
			if (j->type == VJOB_EVENT && j->want_xml)
				j->want_xml = !xml_read_later(sh, j);
		}
		sh->st.queued = sh->njobs;
		pthread_mutex_unlock(&sh->lock);
		if (!j)
			continue;

		switch (j->type) {
		case VJOB_CONNECT:
			worker_connect(sh);
			break;
		case VJOB_EVENT:
			worker_event(sh, j);
			break;
		case VJOB_RESYNC: {
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
			break;
		}
		}
		job_free(j);
	}
	worker_disconnect(sh);
	shared_unref(sh);
	return NULL;
}

/* --- the loop side ------------------------------------------------------------------ */

static void schedule_retry(struct virt *v);

static void deliver(struct virt *v, struct vmsg *m)
{
	switch (m->type) {
	case VMSG_CONN:
		v->state = m->state;
		if (m->state == VIRT_CONN_CONNECTED)
			v->backoff_ms = 0;
		if (v->cb.connection)
			v->cb.connection(v->userdata, m->state, m->text);
		if (m->state == VIRT_CONN_DISCONNECTED)
			schedule_retry(v);
		break;
	case VMSG_RESYNC:
		if (v->cb.resync)
			v->cb.resync(v->userdata, m->list, m->n, m->listed_usec);
		break;
	case VMSG_EVENT:
		if (v->cb.event)
			v->cb.event(v->userdata, &m->in, &m->info);
		break;
	}
}

static int on_msgs(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct virt *v = userdata;
	struct vmsg *list, *m;
	uint64_t cnt;

	(void)!read(fd, &cnt, sizeof(cnt));
	pthread_mutex_lock(&v->sh->lock);
	list = v->sh->msgs;
	v->sh->msgs = NULL;
	v->sh->msgs_tail = &v->sh->msgs;
	pthread_mutex_unlock(&v->sh->lock);
	if (list && v->cb.batch)
		v->cb.batch(v->userdata, true);
	while ((m = list)) {
		list = m->next;
		/* A callback may free v (shutdown from a callback is not
		 * supported: the manager frees virt from its own path). */
		deliver(v, m);
		msg_free(m);
	}
	if (v->cb.batch)
		v->cb.batch(v->userdata, false);
	return 0;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct virt *v = userdata;

	v->retry_src = sd_event_source_disable_unref(v->retry_src);
	v->state = VIRT_CONN_CONNECTING;
	pthread_mutex_lock(&v->sh->lock);
	set_state_locked(v->sh, VIRT_CONN_CONNECTING, NULL);
	pthread_mutex_unlock(&v->sh->lock);
	if (v->cb.connection)
		v->cb.connection(v->userdata, VIRT_CONN_CONNECTING, "reconnecting");
	if (push_simple_job(v->sh, VJOB_CONNECT) < 0)
		schedule_retry(v);
	return 0;
}

static void schedule_retry(struct virt *v)
{
	uint64_t delay;

	if (v->retry_src)
		return;
	v->backoff_ms = v->backoff_ms ? v->backoff_ms * 2 : v->backoff_min_ms;
	if (v->backoff_ms > v->backoff_max_ms)
		v->backoff_ms = v->backoff_max_ms;
	delay = (uint64_t)v->backoff_ms * 1000u;
	if (sd_event_add_time_relative(v->ev, &v->retry_src, CLOCK_MONOTONIC, delay, 1000,
				       on_retry, v) < 0)
		log_warning(LOG_SUBSYS_VIRT, "cannot arm the libvirt reconnect timer, ignoring");
	else
		(void)sd_event_source_set_description(v->retry_src, "libvirt-reconnect");
}

int virt_new(sd_event *ev, const struct virt_options *opts, const struct virt_callbacks *cb,
	     void *userdata, struct virt **ret)
{
	struct virt_shared *sh;
	struct virt *v;
	int r, k;

	if (!opts || !opts->uri || !*opts->uri)
		return -EINVAL;
	r = virt_global_init(ev);
	if (r < 0)
		return r;
	v = calloc(1, sizeof(*v));
	sh = calloc(1, sizeof(*sh));
	if (!v || !sh) {
		free(v);
		free(sh);
		return -ENOMEM;
	}
	atomic_init(&sh->refs, 1);
	pthread_mutex_init(&sh->lock, NULL);
	pthread_cond_init(&sh->cond, NULL);
	sh->jobs_tail = &sh->jobs;
	sh->msgs_tail = &sh->msgs;
	for (k = 0; k < 4; k++)
		sh->cb_ids[k] = -1;
	sh->uri = strdup(opts->uri);
	sh->ka_interval = opts->keepalive_interval_s ? (int)opts->keepalive_interval_s : 2;
	sh->ka_count = opts->keepalive_count ? (int)opts->keepalive_count : 3;
	sh->msgfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	snprintf(sh->st.uri, sizeof(sh->st.uri), "%s", opts->uri);
	set_state_locked(sh, VIRT_CONN_CONNECTING, NULL);
	v->sh = sh;
	v->ev = sd_event_ref(ev);
	if (cb)
		v->cb = *cb;
	v->userdata = userdata;
	v->state = VIRT_CONN_CONNECTING;
	v->backoff_min_ms = opts->backoff_min_ms ? opts->backoff_min_ms : 100;
	v->backoff_max_ms = opts->backoff_max_ms ? opts->backoff_max_ms : 5000;
	if (!sh->uri || sh->msgfd < 0) {
		r = sh->msgfd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	r = sd_event_add_io(ev, &v->msg_src, sh->msgfd, EPOLLIN, on_msgs, v);
	if (r < 0)
		goto fail;
	(void)sd_event_source_set_description(v->msg_src, "libvirt-results");
	r = push_simple_job(sh, VJOB_CONNECT);
	if (r < 0)
		goto fail;
	r = -pthread_create(&v->worker, NULL, worker_main, shared_ref(sh));
	if (r < 0) {
		shared_unref(sh);
		goto fail;
	}
	v->worker_started = true;
	*ret = v;
	return 0;
fail:
	virt_free(v);
	return r;
}

struct virt *virt_free(struct virt *v)
{
	struct timespec deadline;

	if (!v)
		return NULL;
	pthread_mutex_lock(&v->sh->lock);
	v->sh->stopping = true;
	set_state_locked(v->sh, VIRT_CONN_STOPPED, NULL);
	pthread_cond_signal(&v->sh->cond);
	pthread_mutex_unlock(&v->sh->lock);
	v->msg_src = sd_event_source_disable_unref(v->msg_src);
	v->retry_src = sd_event_source_disable_unref(v->retry_src);
	if (v->worker_started) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += VIRT_STOP_WAIT_MS / 1000;
		if (pthread_timedjoin_np(v->worker, NULL, &deadline) != 0) {
			/* Stuck in a call to a hung libvirtd.  It holds its own
			 * reference and finishes on its own when the call returns. */
			log_warning(LOG_SUBSYS_VIRT,
				    "libvirt worker still busy in a call, leaving it behind");
			pthread_detach(v->worker);
		}
	}
	shared_unref(v->sh);
	sd_event_unref(v->ev);
	free(v);
	return NULL;
}

void virt_request_resync(struct virt *v)
{
	(void)push_simple_job(v->sh, VJOB_RESYNC);
}

void virt_get_status(struct virt *v, struct virt_status *ret)
{
	pthread_mutex_lock(&v->sh->lock);
	*ret = v->sh->st;
	pthread_mutex_unlock(&v->sh->lock);
}

const char *virt_conn_state_name(enum virt_conn_state s)
{
	switch (s) {
	case VIRT_CONN_CONNECTING: return "connecting";
	case VIRT_CONN_CONNECTED: return "connected";
	case VIRT_CONN_DISCONNECTED: return "disconnected";
	case VIRT_CONN_STOPPED: return "stopped";
	}
	return "?";
}

const char *virt_run_state_name(enum virt_run_state s)
{
	switch (s) {
	case VIRT_RUN_UNKNOWN: return "unknown";
	case VIRT_RUN_RUNNING: return "running";
	case VIRT_RUN_PAUSED: return "paused";
	case VIRT_RUN_STOPPING: return "stopping";
	case VIRT_RUN_SHUTOFF: return "shut off";
	case VIRT_RUN_GONE: return "gone";
	}
	return "?";
}
