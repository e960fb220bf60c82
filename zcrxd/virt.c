// SPDX-License-Identifier: MIT
/*
 * virt — the libvirt connection (see virt.h).
 *
 * Owns: libvirt's event implementation (trampolines into virt-event), the
 * loop side of the connection (results from the worker, reconnect with
 * backoff), the public API.  The worker thread that makes every blocking
 * libvirt call is in virt-worker.c, what they share in virt-queue.c; those
 * three and virt-lib.c are the only files that include libvirt's headers.
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
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "virt-event.h"
#include "virt-int.h"

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

/* --- process-wide libvirt setup -------------------------------------------------- */

static struct virt_event *g_event;
static sd_event *g_event_loop;
static pthread_mutex_t g_init_lock = PTHREAD_MUTEX_INITIALIZER;
static struct virt *g_after_owner; /* the virt whose after_dispatch is set (loop thread) */

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

static void take_and_deliver(struct virt *v)
{
	struct vmsg *list, *m;

	list = virt_take_msgs(v->sh, VIRT_MSGS_PER_TURN);
	if (list && v->cb.batch)
		v->cb.batch(v->userdata, true);
	while ((m = list)) {
		list = m->next;
		if (m->type == VMSG_EVENT && m->in.kind == VIRT_IN_LIFECYCLE &&
		    m->in.event == VIRT_EV_STOPPED && m->info.run == VIRT_RUN_UNKNOWN) {
			/* passed on unread (no hooks): old news when the domain
			 * was started again since — as a state read would say */
			pthread_mutex_lock(&v->sh->lock);
			if (virt_started_later_locked(v->sh, list, m->info.uuid))
				m->info.run = VIRT_RUN_RUNNING;
			pthread_mutex_unlock(&v->sh->lock);
		}
		/* A callback may free v (shutdown from a callback is not
		 * supported: the manager frees virt from its own path). */
		deliver(v, m);
		virt_msg_free(m);
	}
	if (v->cb.batch)
		v->cb.batch(v->userdata, false);
}

static int on_msgs(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	uint64_t cnt;

	(void)!read(fd, &cnt, sizeof(cnt));
	take_and_deliver(userdata);
	return 0;
}

/* After libvirt's callbacks returned (virt_event_set_after): what they
 * posted on this thread with no msgfd written is taken now. */
static void after_dispatch(void *ud)
{
	struct virt *v = ud;
	bool posted;

	pthread_mutex_lock(&v->sh->lock);
	posted = v->sh->loop_posted;
	pthread_mutex_unlock(&v->sh->lock);
	if (posted)
		take_and_deliver(v);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct virt *v = userdata;

	v->retry_src = sd_event_source_disable_unref(v->retry_src);
	v->state = VIRT_CONN_CONNECTING;
	pthread_mutex_lock(&v->sh->lock);
	virt_set_state_locked(v->sh, VIRT_CONN_CONNECTING, NULL);
	pthread_mutex_unlock(&v->sh->lock);
	if (v->cb.connection)
		v->cb.connection(v->userdata, VIRT_CONN_CONNECTING, "reconnecting");
	if (virt_push_simple_job(v->sh, VJOB_CONNECT) < 0)
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
	if (!v)
		return -ENOMEM;
	sh = virt_shared_new();
	if (!sh) {
		r = -errno;
		free(v);
		return r;
	}
	sh->uri = strdup(opts->uri);
	sh->ka_interval = opts->keepalive_interval_s ? (int)opts->keepalive_interval_s : 2;
	sh->ka_count = opts->keepalive_count ? (int)opts->keepalive_count : 3;
	snprintf(sh->st.uri, sizeof(sh->st.uri), "%s", opts->uri);
	virt_set_state_locked(sh, VIRT_CONN_CONNECTING, NULL);
	v->sh = sh;
	v->ev = sd_event_ref(ev);
	if (cb)
		v->cb = *cb;
	v->userdata = userdata;
	v->state = VIRT_CONN_CONNECTING;
	v->backoff_min_ms = opts->backoff_min_ms ? opts->backoff_min_ms : 100;
	v->backoff_max_ms = opts->backoff_max_ms ? opts->backoff_max_ms : 5000;
	if (!sh->uri) {
		r = -ENOMEM;
		goto fail;
	}
	r = sd_event_add_io(ev, &v->msg_src, sh->msgfd, EPOLLIN, on_msgs, v);
	if (r < 0)
		goto fail;
	(void)sd_event_source_set_description(v->msg_src, "libvirt-results");
	if (!g_after_owner) {
		/* one virt at a time takes its loop posts this way; another
		 * (tests) wakes itself through msgfd */
		g_after_owner = v;
		virt_event_set_after(g_event, after_dispatch, v);
		pthread_mutex_lock(&sh->lock);
		sh->loop_thread = pthread_self();
		sh->loop_post = true;
		pthread_mutex_unlock(&sh->lock);
	}
	r = virt_push_simple_job(sh, VJOB_CONNECT);
	if (r < 0)
		goto fail;
	for (k = 0; k < VIRT_WORKERS; k++) {
		r = -pthread_create(&v->workers[k], NULL, virt_worker_main, virt_shared_ref(sh));
		if (r < 0) {
			virt_shared_unref(sh);
			goto fail;
		}
		v->workers_started++;
	}
	*ret = v;
	return 0;
fail:
	virt_free(v);
	return r;
}

struct virt *virt_free(struct virt *v)
{
	struct timespec deadline;
	unsigned k;

	if (!v)
		return NULL;
	pthread_mutex_lock(&v->sh->lock);
	v->sh->stopping = true;
	v->sh->loop_post = false;
	virt_set_state_locked(v->sh, VIRT_CONN_STOPPED, NULL);
	pthread_mutex_unlock(&v->sh->lock);
	virt_wake_workers(v->sh);
	v->msg_src = sd_event_source_disable_unref(v->msg_src);
	if (g_after_owner == v) {
		virt_event_set_after(g_event, NULL, NULL);
		g_after_owner = NULL;
	}
	v->retry_src = sd_event_source_disable_unref(v->retry_src);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += VIRT_STOP_WAIT_MS / 1000;
	for (k = 0; k < v->workers_started; k++) {
		if (pthread_timedjoin_np(v->workers[k], NULL, &deadline) != 0) {
			/* Stuck in a call to a hung libvirtd.  It holds its own
			 * reference and finishes on its own when the call returns
			 * (the last worker out closes the connection). */
			log_warning(LOG_SUBSYS_VIRT,
				    "libvirt worker still busy in a call, leaving it behind");
			pthread_detach(v->workers[k]);
		}
	}
	virt_shared_unref(v->sh);
	sd_event_unref(v->ev);
	free(v);
	return NULL;
}

void virt_request_resync(struct virt *v)
{
	(void)virt_push_simple_job(v->sh, VJOB_RESYNC);
}

void virt_get_status(struct virt *v, struct virt_status *ret)
{
	pthread_mutex_lock(&v->sh->lock);
	*ret = v->sh->st;
	pthread_mutex_unlock(&v->sh->lock);
}

void virt_note_hook(struct virt *v)
{
	pthread_mutex_lock(&v->sh->lock);
	v->sh->hooks = true;
	pthread_mutex_unlock(&v->sh->lock);
}

void virt_note_hook_run(struct virt *v, const char *name, const uint8_t uuid[16], int id)
{
	if (id <= 0)
		return;
	pthread_mutex_lock(&v->sh->lock);
	virt_name_hook_locked(v->sh, name, uuid, id);
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
