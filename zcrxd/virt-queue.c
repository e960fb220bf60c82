// SPDX-License-Identifier: MIT
/*
 * virt-queue — what the loop, the worker and libvirt's callbacks share
 * (struct virt_shared, reference counted): the job queue (loop -> worker),
 * the result queue (worker -> loop, woken through an eventfd) and the
 * connection state.  Every function here takes or holds the shared lock
 * as its name says; none blocks on libvirt.
 * Owns: queue entries and their release.  Must not: call libvirt other
 * than for its last error text.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "virt-int.h"
#include "monotime.h"

/* --- shared state ----------------------------------------------------------------- */

static void virt_info_clear(struct virt_domain_info *i)
{
	i->dom = domxml_free(i->dom);
}

void virt_msg_free(struct vmsg *m)
{
	size_t k;

	virt_info_clear(&m->info);
	for (k = 0; k < m->n; k++)
		virt_info_clear(&m->list[k]);
	free(m->list);
	free(m);
}

void virt_job_free(struct vjob *j)
{
	if (j->dom)
		VIRT_LIB(virDomainFree)(j->dom);
	free(j);
}

struct virt_shared *virt_shared_ref(struct virt_shared *sh)
{
	atomic_fetch_add(&sh->refs, 1);
	return sh;
}

struct virt_shared *virt_shared_new(void)
{
	struct virt_shared *sh = calloc(1, sizeof(*sh));
	pthread_condattr_t mono;
	int k;

	if (!sh)
		return NULL;
	atomic_init(&sh->refs, 1);
	pthread_mutex_init(&sh->lock, NULL);
	pthread_cond_init(&sh->cond, NULL);
	pthread_condattr_init(&mono);
	pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
	pthread_cond_init(&sh->standby_cond, &mono);
	pthread_condattr_destroy(&mono);
	sh->jobs_tail = &sh->jobs;
	sh->msgs_tail = &sh->msgs;
	for (k = 0; k < 4; k++)
		sh->cb_ids[k] = -1;
	sh->msgfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sh->msgfd < 0) {
		int e = errno;

		virt_shared_unref(sh);
		errno = e;
		return NULL;
	}
	return sh;
}

void virt_shared_unref(struct virt_shared *sh)
{
	struct vmsg *m;
	struct vjob *j;

	if (!sh || atomic_fetch_sub(&sh->refs, 1) != 1)
		return;
	while ((j = sh->jobs)) {
		sh->jobs = j->next;
		virt_job_free(j);
	}
	while ((m = sh->msgs)) {
		sh->msgs = m->next;
		virt_msg_free(m);
	}
	if (sh->msgfd >= 0)
		close(sh->msgfd);
	pthread_cond_destroy(&sh->cond);
	pthread_cond_destroy(&sh->standby_cond);
	pthread_mutex_destroy(&sh->lock);
	free(sh->names);
	free(sh->uri);
	free(sh);
}

void virt_shared_unref_cb(void *opaque)
{
	virt_shared_unref(opaque);
}

/* --- the callbacks' name -> UUID memory --------------------------------------------- */

static struct virt_name *name_slot(struct virt_shared *sh, unsigned gen, const char *name,
				   bool make)
{
	uint32_t h = 2166136261u;
	const char *p;

	if (sh->names && sh->names_gen != gen) { /* of another connection */
		memset(sh->names, 0, VIRT_NAMES * sizeof(*sh->names));
		sh->names_gen = gen;
	}
	if (!sh->names) {
		if (!make || !(sh->names = calloc(VIRT_NAMES, sizeof(*sh->names))))
			return NULL;
		sh->names_gen = gen;
	}
	for (p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return &sh->names[h & (VIRT_NAMES - 1)];
}

bool virt_name_find_locked(struct virt_shared *sh, unsigned gen, const char *name,
			   uint8_t uuid[16])
{
	struct virt_name *v = name_slot(sh, gen, name, false);

	if (!v || !v->used || strcmp(v->name, name))
		return false;
	memcpy(uuid, v->uuid, 16);
	return true;
}

void virt_name_note_locked(struct virt_shared *sh, unsigned gen, const char *name,
			   const uint8_t uuid[16], bool gone)
{
	struct virt_name *v = name_slot(sh, gen, name, !gone);
	size_t n = strlen(name);

	if (!v)
		return;
	if (gone) {
		if (v->used && !strcmp(v->name, name))
			v->used = false;
		return;
	}
	if (n >= sizeof(v->name))
		return; /* (not a name an event carries) */
	v->used = true;
	v->hooked_id = 0;
	memcpy(v->uuid, uuid, 16);
	memcpy(v->name, name, n + 1);
}

void virt_name_hook_locked(struct virt_shared *sh, const char *name, const uint8_t uuid[16],
			   int id)
{
	struct virt_name *v;

	if (!*name || strnlen(name, sizeof(v->name)) >= sizeof(v->name))
		return; /* the events' names are looked up whole only */
	virt_name_note_locked(sh, sh->gen, name, uuid, false);
	v = name_slot(sh, sh->gen, name, false);
	if (v && v->used && !strcmp(v->name, name))
		v->hooked_id = id;
}

int virt_name_hooked_locked(struct virt_shared *sh, unsigned gen, const char *name,
			    const uint8_t uuid[16], bool consume)
{
	struct virt_name *v = name_slot(sh, gen, name, false);
	int id;

	if (!v || !v->used || !v->hooked_id || strcmp(v->name, name) || memcmp(v->uuid, uuid, 16))
		return 0;
	id = v->hooked_id;
	if (consume)
		v->hooked_id = 0;
	return id;
}

/* Any thread; lock held.  The loop is woken for the first message only:
 * while others wait, the one who posted the first wakes it or has woken
 * it, and it has not taken them yet (it reads the eventfd before it
 * takes; virt_take_msgs wakes it again for what it leaves).  A wake that
 * comes after the loop took the message finds nothing: harmless. */
bool virt_post_locked(struct virt_shared *sh, struct vmsg *m)
{
	bool first = !sh->msgs;

	m->next = NULL;
	*sh->msgs_tail = m;
	sh->msgs_tail = &m->next;
	return first;
}

void virt_wake_loop(struct virt_shared *sh)
{
	(void)!write(sh->msgfd, &(uint64_t){ 1 }, sizeof(uint64_t));
}

bool virt_post_loop_locked(struct virt_shared *sh, struct vmsg *m)
{
	if (!sh->loop_post || !pthread_equal(pthread_self(), sh->loop_thread))
		return virt_post_locked(sh, m);
	/* First: nobody wrote msgfd for what waits, the hook takes it.  Not
	 * first: msgfd was written for the first, or the hook takes them. */
	if (!sh->msgs)
		sh->loop_posted = true;
	m->next = NULL;
	*sh->msgs_tail = m;
	sh->msgs_tail = &m->next;
	return false;
}

struct vmsg *virt_take_msgs(struct virt_shared *sh, size_t max)
{
	struct vmsg *list, **tail;
	bool more;
	size_t n = 0;

	pthread_mutex_lock(&sh->lock);
	sh->loop_posted = false; /* taken now; what is left is signalled below */
	list = sh->msgs;
	for (tail = &list; *tail && n < max; tail = &(*tail)->next)
		n++;
	sh->msgs = *tail;
	more = sh->msgs != NULL;
	if (!more)
		sh->msgs_tail = &sh->msgs;
	*tail = NULL;
	pthread_mutex_unlock(&sh->lock);
	if (more)
		virt_wake_loop(sh); /* come back for the rest */
	return list;
}

void virt_post(struct virt_shared *sh, struct vmsg *m)
{
	bool wake;

	pthread_mutex_lock(&sh->lock);
	wake = virt_post_locked(sh, m);
	pthread_mutex_unlock(&sh->lock);
	if (wake)
		virt_wake_loop(sh);
}

void virt_set_state_locked(struct virt_shared *sh, enum virt_conn_state st, const char *text)
{
	sh->st.state = st;
	sh->st.since_usec = monotime_usec();
	if (text && *text && st == VIRT_CONN_DISCONNECTED)
		snprintf(sh->st.last_error, sizeof(sh->st.last_error), "%s", text);
}

void virt_post_conn(struct virt_shared *sh, unsigned gen, enum virt_conn_state st,
		      const char *text)
{
	struct vmsg *m = calloc(1, sizeof(*m));
	bool wake = false;

	pthread_mutex_lock(&sh->lock);
	virt_set_state_locked(sh, st, text);
	if (st == VIRT_CONN_CONNECTED)
		sh->st.connects++;
	else if (st == VIRT_CONN_DISCONNECTED)
		sh->st.failures++;
	if (m) {
		m->type = VMSG_CONN;
		m->gen = gen;
		m->state = st;
		snprintf(m->text, sizeof(m->text), "%s", text ? text : "");
		wake = virt_post_locked(sh, m);
	}
	pthread_mutex_unlock(&sh->lock);
	if (wake)
		virt_wake_loop(sh);
}

bool virt_push_job_locked(struct virt_shared *sh, struct vjob *j)
{
	j->next = NULL;
	*sh->jobs_tail = j;
	sh->jobs_tail = &j->next;
	sh->njobs++;
	sh->st.queued = sh->njobs;
	/* a standby that sleeps without a time while the first is busy must
	 * start counting that call's time */
	return sh->standby_idle && sh->first_since;
}

void virt_wake_worker(struct virt_shared *sh, bool standby)
{
	pthread_cond_signal(&sh->cond); /* no system call when none waits */
	if (standby)
		pthread_cond_signal(&sh->standby_cond);
}

void virt_wake_workers(struct virt_shared *sh)
{
	pthread_cond_broadcast(&sh->cond);
	pthread_cond_broadcast(&sh->standby_cond);
}

bool virt_standby_may_take_locked(const struct virt_shared *sh, uint64_t now, uint64_t *wake_at)
{
	*wake_at = 0;
	if (!sh->jobs || !sh->first_since)
		return false;
	if (now - sh->first_since >= VIRT_STANDBY_USEC)
		return true;
	*wake_at = sh->first_since + VIRT_STANDBY_USEC;
	return false;
}

static bool is_start(const struct virt_input *in)
{
	return in->kind == VIRT_IN_LIFECYCLE && in->event == VIRT_EV_STARTED;
}

static int inflight_slot(const struct virt_shared *sh, const uint8_t uuid[16])
{
	int k;

	for (k = 0; k < VIRT_WORKERS; k++)
		if (sh->inflight[k].used && !memcmp(sh->inflight[k].uuid, uuid, 16))
			return k;
	return -1;
}

static void unlink_job(struct virt_shared *sh, struct vjob **pp)
{
	struct vjob *j = *pp;

	*pp = j->next;
	if (!*pp)
		sh->jobs_tail = pp;
	j->next = NULL;
	sh->njobs--;
	sh->st.queued = sh->njobs;
}

struct vjob *virt_take_job_locked(struct virt_shared *sh)
{
	struct vjob **pp, *j;
	int n = 0, k;

	if (sh->barrier_busy)
		return NULL;
	for (pp = &sh->jobs; (j = *pp) && n < VIRT_LOOKAHEAD; pp = &j->next, n++) {
		if (j->type != VJOB_EVENT) {
			/* what came before it is done first, and nothing runs beside it */
			if (pp != &sh->jobs || sh->busy)
				return NULL;
			unlink_job(sh, pp);
			sh->barrier_busy = true;
			sh->busy++;
			return j;
		}
		if (inflight_slot(sh, j->uuid) >= 0)
			continue; /* its domain's earlier event is being handled */
		for (k = 0; k < VIRT_WORKERS && sh->inflight[k].used; k++)
			;
		if (k == VIRT_WORKERS)
			return NULL; /* cannot happen: a worker asks only when idle */
		unlink_job(sh, pp);
		sh->inflight[k].used = true;
		sh->inflight[k].start = is_start(&j->in);
		memcpy(sh->inflight[k].uuid, j->uuid, 16);
		sh->busy++;
		return j;
	}
	return NULL;
}

bool virt_may_pass_locked(const struct virt_shared *sh, const uint8_t uuid[16])
{
	const struct vjob *j;
	size_t n = 0;

	if (sh->barrier_busy || inflight_slot(sh, uuid) >= 0)
		return false;
	for (j = sh->jobs; j; j = j->next, n++)
		if (n >= VIRT_LOOKAHEAD || j->type != VJOB_EVENT || !memcmp(j->uuid, uuid, 16))
			return false;
	return true;
}

bool virt_started_later_locked(const struct virt_shared *sh, const struct vmsg *after,
			       const uint8_t uuid[16])
{
	const struct vmsg *m;
	const struct vjob *j;
	int n = 0, k;

	for (m = after; m; m = m->next)
		if (m->type == VMSG_EVENT && is_start(&m->in) && !memcmp(m->info.uuid, uuid, 16))
			return true;
	for (m = sh->msgs; m; m = m->next)
		if (m->type == VMSG_EVENT && is_start(&m->in) && !memcmp(m->info.uuid, uuid, 16))
			return true;
	for (k = 0; k < VIRT_WORKERS; k++)
		if (sh->inflight[k].used && sh->inflight[k].start &&
		    !memcmp(sh->inflight[k].uuid, uuid, 16))
			return true;
	for (j = sh->jobs; j && n < VIRT_LOOKAHEAD; j = j->next, n++)
		if (j->type == VJOB_EVENT && is_start(&j->in) && !memcmp(j->uuid, uuid, 16))
			return true;
	return false;
}

bool virt_done_job_locked(struct virt_shared *sh, const struct vjob *j, unsigned worker)
{
	int k;

	if (j->type != VJOB_EVENT) {
		sh->barrier_busy = false;
	} else {
		k = inflight_slot(sh, j->uuid);
		if (k >= 0)
			sh->inflight[k].used = false;
	}
	sh->busy--;
	if (!worker) {
		sh->first_since = 0;
		return false; /* it looks at the queue itself next */
	}
	/* what a standby held back (its domain's next event, a resync) is the
	 * first worker's now */
	return sh->jobs != NULL;
}

/* Flooded (the queue overflowed): drop the queued events and list
 * everything instead — the resync goes first, after what is in flight.
 * Lock held. */
static void drop_for_resync_locked(struct virt_shared *sh)
{
	struct vjob **pp = &sh->jobs, *j, *r;

	r = calloc(1, sizeof(*r));
	if (!r)
		return; /* overflow stays set: the next turn tries again */
	sh->overflow = false;
	while ((j = *pp)) {
		if (j->type == VJOB_EVENT) {
			*pp = j->next;
			sh->njobs--;
			virt_job_free(j);
			continue;
		}
		pp = &j->next; /* keep connect/resync jobs: rare, and meaningful */
	}
	sh->jobs_tail = pp;
	r->type = VJOB_RESYNC;
	r->next = sh->jobs;
	sh->jobs = r;
	if (!r->next)
		sh->jobs_tail = &r->next;
	sh->njobs++;
	sh->st.queued = sh->njobs;
}

struct vjob *virt_wait_job_locked(struct virt_shared *sh, unsigned worker)
{
	struct timespec ts;
	uint64_t wake_at = 0;
	struct vjob *j;

	for (;;) {
		if (sh->stopping)
			return NULL;
		if (sh->overflow)
			drop_for_resync_locked(sh);
		if (!worker || virt_standby_may_take_locked(sh, monotime_usec(), &wake_at)) {
			j = virt_take_job_locked(sh);
			if (j) {
				if (!worker)
					sh->first_since = monotime_usec();
				return j;
			}
			wake_at = 0;
		}
		if (!worker) {
			pthread_cond_wait(&sh->cond, &sh->lock);
		} else if (wake_at) {
			ts.tv_sec = (time_t)(wake_at / 1000000u);
			ts.tv_nsec = (long)(wake_at % 1000000u) * 1000;
			(void)pthread_cond_timedwait(&sh->standby_cond, &sh->lock, &ts);
		} else {
			sh->standby_idle = true;
			pthread_cond_wait(&sh->standby_cond, &sh->lock);
			sh->standby_idle = false;
		}
	}
}

int virt_push_simple_job(struct virt_shared *sh, enum vjob_type type)
{
	struct vjob *j = calloc(1, sizeof(*j));
	bool standby;

	if (!j)
		return -ENOMEM;
	j->type = type;
	pthread_mutex_lock(&sh->lock);
	standby = virt_push_job_locked(sh, j);
	pthread_mutex_unlock(&sh->lock);
	virt_wake_worker(sh, standby);
	return 0;
}

const char *virt_last_error(void)
{
	const char *m = VIRT_LIB(virGetLastErrorMessage)();

	return m && *m ? m : "unknown libvirt error";
}
