/* SPDX-License-Identifier: MIT */
/*
 * binder-mgr — the zero-copy binder as the daemon holds it: a binder backend
 * (binder-vhost, or a test fake behind the same ops) in the event loop, what
 * the module said about each NIC (PROBE, cached), the bindings it holds
 * (GET dump at start and after changes, kept current by STATE_NTF), the
 * family appearing and disappearing, and the "binding-*" / "binder-*" events
 * on the Monitor stream.
 *
 * The manager asks it for the facts the planner needs (available?, probe of
 * a NIC, bindings on a NIC), for the capability-matrix entry of a NIC, and
 * hands exec its backend.  It tells the manager through one callback when
 * something changed that needs a replan or an attachment update.
 *
 * The backend's dump (every binding on the host, asked for by each plan)
 * is answered from that table while it is current -- dumped since the
 * module appeared and notifications followed since, with zcrxd's own binds
 * and unbinds applied -- and dumps the kernel's otherwise (no event loop,
 * notifications lost, module gone).
 *
 * Owns: the binder's view of the kernel.  Must not: decide what to bind
 * (plan.c), bind or unbind by itself (exec.c), know attachments.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "binder.h"
#include "kerror.h"
#include "nic.h"

struct binder_mgr;
struct events;

/* What the module said about one NIC. */
struct binder_mgr_nic {
	int ifindex;
	bool probed;               /* PROBE answered */
	struct binder_probe probe; /* when probed */
	struct kerror err;         /* why not, when !probed */
	uint64_t link;             /* the device it was about (binder_mgr_check_link), 0 unknown */
};

struct binder_mgr_counters {
	uint64_t requests;      /* requests to the module */
	uint64_t kernel_errors; /* requests it refused */
	uint64_t bad_messages;  /* malformed replies/notifications */
	uint64_t notifications; /* STATE_NTF received */
	uint64_t resyncs;       /* lost notifications, dumped again */
	uint64_t appeared, vanished;
	uint64_t dumps;
	uint64_t dumps_cached;  /* dumps answered from the table notifications keep */
};

/*
 * Called after the binder's view changed, with what happened:
 *   STATE     binding ev->id changed state (the observed binding is updated)
 *   GONE      the module tore ev->id down (no longer in the observed list)
 *   APPEARED  the module is now available: probes were reset, bindings dumped;
 *             replan every NIC (and adopt/drop bindings)
 *   VANISHED  the module went away: no bindings, replan every NIC (degraded)
 *   RESYNC    bindings were dumped again after lost notifications: replan
 */
typedef void (*binder_mgr_fn)(struct binder_mgr *bm, const struct binder_event *ev,
			      void *userdata);

/* Takes ownership of be.be through destroy (may be NULL: not freed).
 * events may be NULL. */
int binder_mgr_new(sd_event *ev, struct binder_backend be, void (*destroy)(void *be),
		   struct events *events, struct binder_mgr **ret);
struct binder_mgr *binder_mgr_free(struct binder_mgr *bm);
void binder_mgr_set_callback(struct binder_mgr *bm, binder_mgr_fn fn, void *userdata);

/* Resolve the family, dump its bindings and watch its events.  An absent
 * module is not an error (binder_mgr_available() tells); 0 unless the event
 * source could not be set up. */
int binder_mgr_start(struct binder_mgr *bm);

bool binder_mgr_available(const struct binder_mgr *bm);
/* Why the binder is not available (ENOENT + BINDER_ABSENT_MSG when the
 * module is absent); err == 0 when it is. */
const struct kerror *binder_mgr_error(const struct binder_mgr *bm);
/* The backend the planner's input and exec use (valid for the life of bm):
 * resolve and probe answer from what is known (no request), dump asks the
 * module, bind/unbind/get keep the observed bindings current. */
const struct binder_backend *binder_mgr_backend(const struct binder_mgr *bm);

/* PROBE ifindex unless cached; never NULL.  The cache is cleared when the
 * family appears/vanishes and by binder_mgr_forget_nic (NIC gone/changed).
 * A BIND the module refused for the whole NIC (through binder_mgr_backend;
 * binder_refusal_is_nic_wide: EOPNOTSUPP, ENOENT) is recorded here as the
 * NIC's verdict (probed false, err = the module's refusal) until then; any
 * other refusal concerns one queue and tap, and only the caller remembers
 * it (reconcile.c, for that attachment). */
const struct binder_mgr_nic *binder_mgr_probe(struct binder_mgr *bm, int ifindex);
void binder_mgr_forget_nic(struct binder_mgr *bm, int ifindex);
/* The NIC as observed now: forget what the module said about its ifindex
 * when it was about another device or driver (ifindex reused, driver
 * rebound, brought down and up).  Other changes of the NIC model (its
 * binder capability among them: it changes when a verdict is recorded)
 * keep the verdict. */
void binder_mgr_check_link(struct binder_mgr *bm, const struct nic *nic);
/* The capability-matrix entry for a NIC: YES with what the module offers,
 * NO with the reason (module absent, driver refused). */
void binder_mgr_nic_cap(struct binder_mgr *bm, int ifindex, struct nic_cap *ret);

/* Dump the module's bindings again (after exec bound/unbound something). */
int binder_mgr_refresh(struct binder_mgr *bm, struct kerror *err);
size_t binder_mgr_count(const struct binder_mgr *bm);
const struct binder_binding *binder_mgr_at(const struct binder_mgr *bm, size_t i);
const struct binder_binding *binder_mgr_find(const struct binder_mgr *bm, uint32_t id);
/* The bindings on one NIC as a malloc'd array (NULL and 0 when none). */
int binder_mgr_on_nic(const struct binder_mgr *bm, int ifindex, struct binder_binding **ret,
		      size_t *ret_n);

struct binder_mgr_counters binder_mgr_counters(const struct binder_mgr *bm);
/* {"module", "available", "errno", "message", "transport", "bindings", ...counters} */
json_object *binder_mgr_status_json(const struct binder_mgr *bm);
/* One binding as JSON (for events and the API). */
json_object *binder_mgr_binding_json(const struct binder_binding *b);

/* Process pending notifications now (tests; the event loop does it). */
int binder_mgr_process(struct binder_mgr *bm);
