/* SPDX-License-Identifier: MIT */
/*
 * virt-int — what the libvirt connection's files share: virt.c (the loop
 * side), virt-worker.c (the worker threads and libvirt's callbacks) and
 * virt-queue.c (the queues between them).  Includes libvirt's headers (via
 * virt-lib.h): not for other modules.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "virt-lib.h"

#include "virt.h"

#define VIRT_QUEUE_MAX 65536 /* jobs; beyond this events are dropped for a resync */
#define VIRT_STOP_WAIT_MS 2000
/* Worker threads making libvirt calls: the first takes the jobs; the
 * other stands by and takes them too only while the first's call has
 * been in flight VIRT_STANDBY_USEC or longer (virt_standby_may_take), so
 * that a call stuck on libvirtd holds back no other domain for longer.
 * Two calls in flight on one connection cost both threads wake-ups and
 * waits on libvirt's locks: with calls that return fast, one thread does
 * the work.  A domain's events are handled one at a time, in order; a
 * connect or resync runs alone (virt_take_job). */
#define VIRT_WORKERS 2
#define VIRT_STANDBY_USEC 20000
/* how far into the queue a worker looks for an event it may take */
#define VIRT_LOOKAHEAD 64
/* slots of the callbacks' name -> UUID memory (virt_name_*): a power of 2 */
#define VIRT_NAMES 256

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

/* A domain name seen in an event of this connection, and its UUID. */
struct virt_name {
	bool used;
	int hooked_id; /* virt_note_hook_run: this run's XML came with the hook (0: no) */
	uint8_t uuid[16];
	char name[DOMXML_NAME_MAX];
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
	pthread_cond_t cond;         /* the first worker waits here */
	pthread_cond_t standby_cond; /* the others (CLOCK_MONOTONIC) */
	bool stopping;

	char *uri;
	int ka_interval, ka_count;

	/* worker input */
	struct vjob *jobs, **jobs_tail;
	size_t njobs;
	bool overflow;
	/* jobs the workers handle now: a connect or resync (alone), or events
	 * of the domains in inflight[] (one each) */
	bool barrier_busy;
	unsigned busy;
	struct {
		bool used;
		bool start; /* a STARTED event (virt_started_later_locked) */
		uint8_t uuid[16];
	} inflight[VIRT_WORKERS];
	/* when the first worker took the job it handles now (CLOCK_MONOTONIC
	 * usec; 0: it is idle), and whether a standby waits with no time set
	 * (it waits for that call's VIRT_STANDBY_USEC else) */
	uint64_t first_since;
	bool standby_idle;
	unsigned workers_named; /* thread names handed out */
	unsigned workers_running;

	/* worker output */
	struct vmsg *msgs, **msgs_tail;
	int msgfd;
	/* Posts on the loop thread (an event with nothing to read, passed on
	 * from libvirt's callback) write no msgfd: virt.c's after-dispatch
	 * hook (virt_event_set_after) takes them in the same turn.  loop_post:
	 * the hook is there; loop_posted: the first waiting message came that
	 * way (no msgfd written for it: the hook must take them). */
	pthread_t loop_thread;
	bool loop_post;
	bool loop_posted;

	/* the connection (set by the worker; read by callbacks to drop stale ones) */
	virConnectPtr conn;
	unsigned gen;
	bool lost_reported;
	int cb_ids[4];
	bool hooks; /* virt_note_hook: stops are checked with GetState */
	/* The UUIDs of the domain names in this connection's events, so that
	 * an event needs no virDomainGetUUID (libvirt formats the UUID for a
	 * debug line on every call, whatever the log level: ~7,400
	 * instructions).  VIRT_NAMES slots by the name's hash (allocated on
	 * first use); names_gen: the connection they are of. */
	struct virt_name *names;
	unsigned names_gen;

	struct virt_status st;
};

struct virt {
	sd_event *ev;
	struct virt_shared *sh;
	pthread_t workers[VIRT_WORKERS];
	unsigned workers_started;
	sd_event_source *msg_src;
	sd_event_source *retry_src;
	struct virt_callbacks cb;
	void *userdata;
	enum virt_conn_state state;
	unsigned backoff_ms, backoff_min_ms, backoff_max_ms;
};

/* virt-queue.c */
void virt_msg_free(struct vmsg *m);
void virt_job_free(struct vjob *j);
/* A new shared part: one reference, empty queues, its wake-up eventfd;
 * NULL with errno set. */
struct virt_shared *virt_shared_new(void);
struct virt_shared *virt_shared_ref(struct virt_shared *sh);
void virt_shared_unref(struct virt_shared *sh);
/* libvirt's free callback for a reference it holds */
void virt_shared_unref_cb(void *opaque);
/* At most this many of the worker's messages in one turn of the loop: a
 * storm of events (1,000 domains starting) is handled in batches that
 * share their commits, with the control socket answered in between. */
#define VIRT_MSGS_PER_TURN 64
/* The loop takes the oldest max messages (a list in order); when more
 * wait, the loop is woken again for them. */
struct vmsg *virt_take_msgs(struct virt_shared *sh, size_t max);
/* Hand a message to the loop (takes the lock; wakes the loop). */
void virt_post(struct virt_shared *sh, struct vmsg *m);
/* The same with the lock held: true when the loop must be woken, which
 * the caller does with virt_wake_loop() once it has let go of the lock.
 * Woken under it, the loop would run at once into the lock still held,
 * sleep on it and be woken a second time. */
bool virt_post_locked(struct virt_shared *sh, struct vmsg *m);
void virt_wake_loop(struct virt_shared *sh);
/* The same on the loop thread inside libvirt's callbacks (lock held): no
 * msgfd when the after-dispatch hook takes it (loop_post); as
 * virt_post_locked else. */
bool virt_post_loop_locked(struct virt_shared *sh, struct vmsg *m);
void virt_set_state_locked(struct virt_shared *sh, enum virt_conn_state st, const char *text);
/* The connection state is st now (generation gen): recorded and told to the loop. */
void virt_post_conn(struct virt_shared *sh, unsigned gen, enum virt_conn_state st,
		    const char *text);
/* Queue j for the workers (lock held); the caller wakes them with
 * virt_wake_worker() after it let go of the lock (see virt_post_locked):
 * the first worker, and the standby when this returned true (it sleeps
 * with no time set while the first is busy, and must start counting). */
bool virt_push_job_locked(struct virt_shared *sh, struct vjob *j);
void virt_wake_worker(struct virt_shared *sh, bool standby);
/* May a standby worker take a job now (lock held)?  Only while jobs wait
 * and the first worker's call has been in flight VIRT_STANDBY_USEC at
 * now.  No: *wake_at is when to look again (the first's call comes of
 * age then), 0 when only a new job or the first's return can change it. */
bool virt_standby_may_take_locked(const struct virt_shared *sh, uint64_t now,
				  uint64_t *wake_at);
/* A job a worker may handle now (NULL: none): the first queued event
 * whose domain no worker handles, from the first VIRT_LOOKAHEAD; a
 * connect or resync only from the head with no job in flight, and nothing
 * queued after one before it.  Marks it in flight.  Lock held. */
struct vjob *virt_take_job_locked(struct virt_shared *sh);
/* An event of domain uuid that needs no libvirt call may go to the loop
 * at once, passing the workers: none of its jobs is queued (in the first
 * VIRT_LOOKAHEAD; a longer queue says no) or in flight, and no connect or
 * resync is, whose result it must follow.  Lock held. */
bool virt_may_pass_locked(const struct virt_shared *sh, const uint8_t uuid[16]);
/* A STARTED event of domain uuid came after what the loop handles now: it
 * waits in msgs (from after), is queued (in the first VIRT_LOOKAHEAD) or
 * in flight.  A stop passed on unread is old news then: the domain ran
 * again after it, and that start re-plans it.  Lock held. */
bool virt_started_later_locked(const struct virt_shared *sh, const struct vmsg *after,
			       const uint8_t uuid[16]);
/* The next job for worker (0: the first, else a standby), waiting until
 * there is one it may take: the first any it can take, a standby only
 * what virt_standby_may_take_locked allows.  Flooded (sh->overflow): the
 * queued events are dropped for a resync first.  NULL when stopping.
 * Lock held (let go while it waits). */
struct vjob *virt_wait_job_locked(struct virt_shared *sh, unsigned worker);
/* worker is done with j (before freeing it): others may go on.  Lock
 * held.  True when the other workers must look at the queue again
 * (virt_wake_workers, after the lock is let go). */
bool virt_done_job_locked(struct virt_shared *sh, const struct vjob *j, unsigned worker);
/* Every worker looks at the queue (and sh->stopping) again. */
void virt_wake_workers(struct virt_shared *sh);
int virt_push_simple_job(struct virt_shared *sh, enum vjob_type type);
/*
 * The name -> UUID memory of libvirt's callbacks.  A name stands for the
 * same domain from one of its events until the event that ends it:
 * STOPPED for a transient domain, UNDEFINED for a persistent one (a
 * rename undefines the old name), and libvirt delivers a connection's
 * events in order; a new connection (sh->gen) starts empty.  Lock held.
 * find: true and the UUID of name as remembered for connection gen.
 * note: name is uuid's (remembered; a slot taken by another name is
 * overwritten), or with gone, forgotten.
 */
bool virt_name_find_locked(struct virt_shared *sh, unsigned gen, const char *name,
			   uint8_t uuid[16]);
void virt_name_note_locked(struct virt_shared *sh, unsigned gen, const char *name,
			   const uint8_t uuid[16], bool gone);
/* virt_note_hook_run's memory: note run id of name/uuid; the hooked run id
 * of name/uuid (0: none), ended with consume. */
void virt_name_hook_locked(struct virt_shared *sh, const char *name, const uint8_t uuid[16],
			   int id);
int virt_name_hooked_locked(struct virt_shared *sh, unsigned gen, const char *name,
			    const uint8_t uuid[16], bool consume);
/* libvirt's last error message on this thread, never NULL */
const char *virt_last_error(void);

/* virt-worker.c */
void *virt_worker_main(void *p);
