// SPDX-License-Identifier: MIT
/*
 * virt-event — libvirt's event implementation on sd-event (see
 * virt-event.h for the contract).
 *
 * Owns: the watch/timer tables, one sd-event io source per live watch (on a
 * private dup of the fd), one time source for all periodic timers, one
 * defer source for the 0-period timers, and an eventfd + prepare callback
 * that bring sd-event in line with the tables on the loop thread.  Must
 * not: call libvirt or sd-event from a thread other than the loop thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "virt-event.h"
#include "monotime.h"

struct ve_handle {
	struct ve_handle *next;
	struct virt_event *owner;
	int id;
	int fd;      /* the caller's fd, passed back to the callback */
	int dupfd;   /* ours, registered with sd-event */
	int events;  /* wanted VIRT_EVENT_* interest */
	int applied; /* interest the source has now, -1 = no source yet */
	bool deleted;
	sd_event_source *src;
	virt_event_handle_cb cb;
	void *opaque;
	virt_event_free_cb ff;
};

struct ve_timer {
	struct ve_timer *next;
	int id;
	int ms;
	uint64_t due_usec; /* CLOCK_MONOTONIC, for ms > 0 */
	bool deleted;
	unsigned fired_iter; /* 0-period timers: last dispatch round */
	virt_event_timeout_cb cb;
	void *opaque;
	virt_event_free_cb ff;
};

struct virt_event {
	sd_event *ev;
	pthread_t loop_thread;
	pthread_mutex_t lock;
	int wakefd;
	sd_event_source *wake_src;
	sd_event_source *time_src;
	sd_event_source *defer_src;
	struct ve_handle *handles;
	struct ve_timer *timers;
	int next_id;
	unsigned defer_iter;
	/* what the loop's sources are set to (the last sync): the time source
	 * fires at armed_usec (UINT64_MAX: off), the defer source runs when
	 * zero_armed.  A change the loop would find there anyway in time does
	 * not wake it (timer_needs_wake) */
	uint64_t armed_usec;
	bool zero_armed;
	/* what sd-event was last told (loop thread): the time source on at
	 * time_usec (a oneshot: off again once it fired), the defer source
	 * on.  A sync with nothing changed makes no call (sd_event_source_
	 * set_time cost ~670 instructions, and every turn of the loop syncs) */
	bool time_on, defer_on;
	uint64_t time_usec;
	unsigned long wakes; /* eventfd writes: other threads waking the loop */
	void (*after)(void *ud); /* virt_event_set_after (loop thread) */
	void *after_ud;
};

struct pending_free {
	virt_event_free_cb ff;
	void *opaque;
};

/* virt_event_quiet_begin/end: this thread holds back handle wake-ups */
static __thread bool t_quiet, t_held;

static bool on_loop_thread(const struct virt_event *e)
{
	return pthread_equal(pthread_self(), e->loop_thread);
}

/* After a change: the loop must look at the tables before it sleeps again.
 * On the loop thread the prepare callback does that anyway. */
static void poke(struct virt_event *e)
{
	uint64_t one = 1;

	if (!on_loop_thread(e)) {
		__atomic_add_fetch(&e->wakes, 1, __ATOMIC_RELAXED);
		(void)!write(e->wakefd, &one, sizeof(one));
	}
}

/* A change needs the loop awake only when its sources as they are would
 * miss it: a watch that wants events its source does not poll for, a timer
 * due before the time source fires (or a 0-period one while the defer
 * source is off).  Narrower interest, a later or disabled timer: the loop
 * finds the change at its next turn, and until then a dispatch checks the
 * table (on_io, fire_timer), so nothing unwanted is called.  libvirt's RPC
 * code turns a socket's interest off and its keepalive timer later for
 * every call: those wake nobody.  Lock held. */
static bool handle_needs_wake(const struct ve_handle *h)
{
	return h->applied < 0 || (h->events & ~h->applied);
}

static bool timer_needs_wake(const struct virt_event *e, const struct ve_timer *t)
{
	if (t->ms == 0)
		return !e->zero_armed;
	return t->ms > 0 && t->due_usec < e->armed_usec;
}

static int next_id(struct virt_event *e)
{
	if (e->next_id == INT32_MAX)
		e->next_id = 0;
	return ++e->next_id;
}

static uint32_t to_epoll(int events)
{
	return (events & VIRT_EVENT_READABLE ? EPOLLIN : 0u) |
	       (events & VIRT_EVENT_WRITABLE ? EPOLLOUT : 0u);
}

static int from_epoll(uint32_t r)
{
	return (r & EPOLLIN ? VIRT_EVENT_READABLE : 0) | (r & EPOLLOUT ? VIRT_EVENT_WRITABLE : 0) |
	       (r & EPOLLERR ? VIRT_EVENT_ERROR : 0) | (r & EPOLLHUP ? VIRT_EVENT_HANGUP : 0);
}

/* --- dispatch (loop thread, lock not held while calling out) ------------------ */

static void fire_timers(struct virt_event *e, bool zero_period);

static void run_after(struct virt_event *e)
{
	if (e->after)
		e->after(e->after_ud);
}

/* A 0-period timer exists (lock not held). */
static bool zero_timer_armed(struct virt_event *e)
{
	const struct ve_timer *t;
	bool armed = false;

	pthread_mutex_lock(&e->lock);
	for (t = e->timers; t && !armed; t = t->next)
		armed = !t->deleted && t->ms == 0;
	pthread_mutex_unlock(&e->lock);
	return armed;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ve_handle *h = userdata;
	struct virt_event *e = h->owner;
	virt_event_handle_cb cb;
	void *opaque;
	int id, cfd, events;

	pthread_mutex_lock(&e->lock);
	if (h->deleted || !h->events || !h->cb) {
		pthread_mutex_unlock(&e->lock);
		return 0;
	}
	cb = h->cb;
	opaque = h->opaque;
	id = h->id;
	cfd = h->fd;
	/* the source may still poll for interest given up since (handle_needs_wake):
	 * only what is wanted now, and errors, are passed on */
	events = from_epoll(revents) & (h->events | VIRT_EVENT_ERROR | VIRT_EVENT_HANGUP);
	pthread_mutex_unlock(&e->lock);
	if (!events)
		return 0; /* the prepare callback narrows the source */
	cb(id, cfd, events, opaque);
	/* What libvirt's client read there it queues, and arms a 0-period
	 * timer to pass on: that runs now, not a turn of the loop later. */
	if (zero_timer_armed(e))
		fire_timers(e, true);
	run_after(e);
	return 0;
}

/* Call timer `id` if it still exists and `due` says so (checked under lock). */
static void fire_timer(struct virt_event *e, int id, bool zero_period, uint64_t now)
{
	virt_event_timeout_cb cb = NULL;
	void *opaque = NULL;
	struct ve_timer *t;

	pthread_mutex_lock(&e->lock);
	for (t = e->timers; t; t = t->next) {
		if (t->id != id)
			continue;
		if (t->deleted)
			break;
		if (zero_period && t->ms == 0 && t->fired_iter != e->defer_iter) {
			t->fired_iter = e->defer_iter;
			cb = t->cb;
		} else if (!zero_period && t->ms > 0 && t->due_usec <= now) {
			t->due_usec = now + (uint64_t)t->ms * 1000u;
			cb = t->cb;
		}
		opaque = t->opaque;
		break;
	}
	pthread_mutex_unlock(&e->lock);
	if (cb)
		cb(id, opaque);
}

/* Snapshot the ids of the timers to consider, then fire them one by one, so
 * a callback may add or remove timers (also later ones) safely. */
static void fire_timers(struct virt_event *e, bool zero_period)
{
	int ids_static[32], *ids = ids_static, n = 0, cap = 32, k;
	uint64_t now = monotime_usec();
	struct ve_timer *t;

	pthread_mutex_lock(&e->lock);
	if (zero_period)
		e->defer_iter++;
	for (t = e->timers; t; t = t->next) {
		bool want = !t->deleted &&
			    (zero_period ? t->ms == 0 : (t->ms > 0 && t->due_usec <= now));

		if (!want)
			continue;
		if (n == cap) {
			int *bigger = malloc(sizeof(int) * (size_t)cap * 2);

			if (!bigger)
				break; /* the rest fire on the next round */
			memcpy(bigger, ids, sizeof(int) * (size_t)n);
			if (ids != ids_static)
				free(ids);
			ids = bigger;
			cap *= 2;
		}
		ids[n++] = t->id;
	}
	pthread_mutex_unlock(&e->lock);
	for (k = 0; k < n; k++)
		fire_timer(e, ids[k], zero_period, now);
	if (ids != ids_static)
		free(ids);
}

static int on_time(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct virt_event *e = userdata;

	e->time_on = false; /* a oneshot: sd-event turned it off to dispatch it */
	fire_timers(userdata, false);
	run_after(userdata);
	return 0;
}

static int on_defer(sd_event_source *s, void *userdata)
{
	fire_timers(userdata, true);
	run_after(userdata);
	return 0;
}

static void sync_all(struct virt_event *e);

/* Another thread changed the tables.  Mostly that is libvirt's client,
 * which read an event in a worker's call and armed its 0-period timer to
 * dispatch it: those timers run here at once, not a turn of the loop
 * later through the defer source (sd-event dispatches one source per
 * turn, and a turn costs several system calls). */
static int on_wake(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct virt_event *e = userdata;
	bool zero;
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
	sync_all(e);
	pthread_mutex_lock(&e->lock);
	zero = e->zero_armed;
	pthread_mutex_unlock(&e->lock);
	if (zero) {
		fire_timers(e, true);
		sync_all(e); /* the defer source off again when they are done */
	}
	run_after(e);
	return 0;
}

/* --- bring sd-event in line with the tables (loop thread) --------------------- */

static int push_free(struct pending_free **v, size_t *n, virt_event_free_cb ff, void *opaque)
{
	struct pending_free *nv;

	if (!ff)
		return 0;
	nv = realloc(*v, sizeof(**v) * (*n + 1));
	if (!nv)
		return -ENOMEM;
	nv[*n].ff = ff;
	nv[*n].opaque = opaque;
	*v = nv;
	(*n)++;
	return 0;
}

static void sync_handles(struct virt_event *e, struct pending_free **frees, size_t *nfree)
{
	struct ve_handle **pp = &e->handles, *h;
	int r;

	while ((h = *pp)) {
		if (h->deleted) {
			*pp = h->next;
			h->src = sd_event_source_disable_unref(h->src);
			if (h->dupfd >= 0)
				close(h->dupfd);
			if (push_free(frees, nfree, h->ff, h->opaque) < 0) {
				/* No memory to defer it: better to leak than to
				 * call it from here.  Nothing else to do. */
			}
			free(h);
			continue;
		}
		if (!h->src) {
			r = sd_event_add_io(e->ev, &h->src, h->dupfd, to_epoll(h->events), on_io, h);
			if (r >= 0) {
				h->applied = h->events;
				(void)sd_event_source_set_enabled(h->src, h->events ? SD_EVENT_ON :
										     SD_EVENT_OFF);
			}
		} else if (h->applied != h->events) {
			if (h->events)
				(void)sd_event_source_set_io_events(h->src, to_epoll(h->events));
			(void)sd_event_source_set_enabled(h->src,
							  h->events ? SD_EVENT_ON : SD_EVENT_OFF);
			h->applied = h->events;
		}
		pp = &h->next;
	}
}

static void sync_timers(struct virt_event *e, struct pending_free **frees, size_t *nfree)
{
	struct ve_timer **pp = &e->timers, *t;
	uint64_t first = UINT64_MAX;
	bool zero = false;

	while ((t = *pp)) {
		if (t->deleted) {
			*pp = t->next;
			(void)push_free(frees, nfree, t->ff, t->opaque);
			free(t);
			continue;
		}
		if (t->ms == 0)
			zero = true;
		else if (t->ms > 0 && t->due_usec < first)
			first = t->due_usec;
		pp = &t->next;
	}
	/* (a call that failed is made again next time) */
	if (zero != e->defer_on &&
	    sd_event_source_set_enabled(e->defer_src, zero ? SD_EVENT_ON : SD_EVENT_OFF) >= 0)
		e->defer_on = zero;
	e->zero_armed = zero;
	e->armed_usec = first;
	if (first != UINT64_MAX) {
		if (!e->time_on || e->time_usec != first) {
			e->time_on = sd_event_source_set_time(e->time_src, first) >= 0 &&
				     sd_event_source_set_enabled(e->time_src, SD_EVENT_ONESHOT) >= 0;
			e->time_usec = first;
		}
	} else if (e->time_on && sd_event_source_set_enabled(e->time_src, SD_EVENT_OFF) >= 0) {
		e->time_on = false;
	}
}

static void sync_all(struct virt_event *e)
{
	struct pending_free *frees = NULL;
	size_t nfree = 0, k;

	pthread_mutex_lock(&e->lock);
	sync_handles(e, &frees, &nfree);
	sync_timers(e, &frees, &nfree);
	pthread_mutex_unlock(&e->lock);
	/* Free callbacks run here: on the loop thread, outside any libvirt
	 * call and without our lock. */
	for (k = 0; k < nfree; k++)
		frees[k].ff(frees[k].opaque);
	free(frees);
}

static int on_prepare(sd_event_source *s, void *userdata)
{
	sync_all(userdata);
	return 0;
}

/* --- API ------------------------------------------------------------------------- */

int virt_event_new(sd_event *ev, struct virt_event **ret)
{
	struct virt_event *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	e->ev = sd_event_ref(ev);
	e->loop_thread = pthread_self();
	e->wakefd = -1;
	e->armed_usec = UINT64_MAX;
	pthread_mutex_init(&e->lock, NULL);

	e->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->wakefd < 0) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(ev, &e->wake_src, e->wakefd, EPOLLIN, on_wake, e);
	if (r < 0)
		goto fail;
	r = sd_event_source_set_prepare(e->wake_src, on_prepare);
	if (r < 0)
		goto fail;
	(void)sd_event_source_set_description(e->wake_src, "libvirt-event-wake");
	r = sd_event_add_time(ev, &e->time_src, CLOCK_MONOTONIC, UINT64_MAX, 1000, on_time, e);
	if (r < 0)
		goto fail;
	(void)sd_event_source_set_enabled(e->time_src, SD_EVENT_OFF);
	(void)sd_event_source_set_description(e->time_src, "libvirt-event-timers");
	r = sd_event_add_defer(ev, &e->defer_src, on_defer, e);
	if (r < 0)
		goto fail;
	(void)sd_event_source_set_enabled(e->defer_src, SD_EVENT_OFF);
	(void)sd_event_source_set_description(e->defer_src, "libvirt-event-zero-timers");
	*ret = e;
	return 0;
fail:
	virt_event_free(e);
	return r;
}

struct virt_event *virt_event_free(struct virt_event *e)
{
	struct ve_handle *h;
	struct ve_timer *t;

	if (!e)
		return NULL;
	/* Removed entries: their free callbacks are still owed. */
	sync_all(e);
	while ((h = e->handles)) {
		e->handles = h->next;
		sd_event_source_disable_unref(h->src);
		if (h->dupfd >= 0)
			close(h->dupfd);
		free(h);
	}
	while ((t = e->timers)) {
		e->timers = t->next;
		free(t);
	}
	sd_event_source_disable_unref(e->wake_src);
	sd_event_source_disable_unref(e->time_src);
	sd_event_source_disable_unref(e->defer_src);
	if (e->wakefd >= 0)
		close(e->wakefd);
	pthread_mutex_destroy(&e->lock);
	sd_event_unref(e->ev);
	free(e);
	return NULL;
}

int virt_event_add_handle(struct virt_event *e, int fd, int events, virt_event_handle_cb cb,
			  void *opaque, virt_event_free_cb ff)
{
	struct ve_handle *h;
	int id;

	if (fd < 0 || !cb)
		return -1;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -1;
	/* Our own descriptor: the same fd may be watched twice, and the
	 * caller may close its fd right after removing the watch. */
	h->dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (h->dupfd < 0) {
		free(h);
		return -1;
	}
	h->owner = e;
	h->fd = fd;
	h->events = events & (VIRT_EVENT_READABLE | VIRT_EVENT_WRITABLE);
	h->applied = -1;
	h->cb = cb;
	h->opaque = opaque;
	h->ff = ff;
	pthread_mutex_lock(&e->lock);
	id = h->id = next_id(e);
	h->next = e->handles;
	e->handles = h;
	pthread_mutex_unlock(&e->lock);
	poke(e);
	return id;
}

static struct ve_handle *find_handle(struct virt_event *e, int id)
{
	struct ve_handle *h;

	for (h = e->handles; h; h = h->next)
		if (h->id == id && !h->deleted)
			return h;
	return NULL;
}

static struct ve_timer *find_timer(struct virt_event *e, int id)
{
	struct ve_timer *t;

	for (t = e->timers; t; t = t->next)
		if (t->id == id && !t->deleted)
			return t;
	return NULL;
}

void virt_event_update_handle(struct virt_event *e, int watch, int events)
{
	struct ve_handle *h;
	bool changed = false;

	pthread_mutex_lock(&e->lock);
	h = find_handle(e, watch);
	if (h) {
		events &= VIRT_EVENT_READABLE | VIRT_EVENT_WRITABLE;
		h->events = events;
		changed = handle_needs_wake(h);
	}
	pthread_mutex_unlock(&e->lock);
	if (changed && t_quiet && !on_loop_thread(e))
		t_held = true;
	else if (changed)
		poke(e);
}

void virt_event_quiet_begin(void)
{
	t_quiet = true;
	t_held = false;
}

bool virt_event_quiet_end(void)
{
	bool held = t_held;

	t_quiet = t_held = false;
	return held;
}

int virt_event_remove_handle(struct virt_event *e, int watch)
{
	struct ve_handle *h;

	pthread_mutex_lock(&e->lock);
	h = find_handle(e, watch);
	if (h)
		h->deleted = true; /* freed (and ff called) by the loop */
	pthread_mutex_unlock(&e->lock);
	if (!h)
		return -1;
	poke(e);
	return 0;
}

int virt_event_add_timeout(struct virt_event *e, int ms, virt_event_timeout_cb cb, void *opaque,
			   virt_event_free_cb ff)
{
	struct ve_timer *t;
	bool wake;
	int id;

	if (!cb)
		return -1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->ms = ms < 0 ? -1 : ms;
	t->due_usec = monotime_usec() + (uint64_t)(ms > 0 ? ms : 0) * 1000u;
	t->cb = cb;
	t->opaque = opaque;
	t->ff = ff;
	pthread_mutex_lock(&e->lock);
	id = t->id = next_id(e);
	t->fired_iter = e->defer_iter - 1;
	t->next = e->timers;
	e->timers = t;
	wake = timer_needs_wake(e, t);
	pthread_mutex_unlock(&e->lock);
	if (wake)
		poke(e);
	return id;
}

void virt_event_update_timeout(struct virt_event *e, int timer, int ms)
{
	struct ve_timer *t;
	bool wake = false;

	pthread_mutex_lock(&e->lock);
	t = find_timer(e, timer);
	if (t) {
		t->ms = ms < 0 ? -1 : ms;
		/* libvirt: the period restarts from now */
		t->due_usec = monotime_usec() + (uint64_t)(ms > 0 ? ms : 0) * 1000u;
		wake = timer_needs_wake(e, t);
	}
	pthread_mutex_unlock(&e->lock);
	if (wake)
		poke(e);
}

int virt_event_remove_timeout(struct virt_event *e, int timer)
{
	struct ve_timer *t;

	pthread_mutex_lock(&e->lock);
	t = find_timer(e, timer);
	if (t)
		t->deleted = true;
	pthread_mutex_unlock(&e->lock);
	if (!t)
		return -1;
	poke(e);
	return 0;
}

void virt_event_set_after(struct virt_event *e, void (*fn)(void *ud), void *ud)
{
	e->after = fn;
	e->after_ud = ud;
}

unsigned long virt_event_wakes(struct virt_event *e)
{
	return __atomic_load_n(&e->wakes, __ATOMIC_RELAXED);
}

void virt_event_counts(struct virt_event *e, unsigned *ret_handles, unsigned *ret_timers)
{
	struct ve_handle *h;
	struct ve_timer *t;
	unsigned nh = 0, nt = 0;

	pthread_mutex_lock(&e->lock);
	for (h = e->handles; h; h = h->next)
		nh += !h->deleted;
	for (t = e->timers; t; t = t->next)
		nt += !t->deleted;
	pthread_mutex_unlock(&e->lock);
	if (ret_handles)
		*ret_handles = nh;
	if (ret_timers)
		*ret_timers = nt;
}
