/* SPDX-License-Identifier: MIT */
/*
 * virt-event — libvirt's event loop contract (virEventRegisterImpl) carried
 * out on zcrxd's sd-event loop.  virt.c registers thin trampolines to these
 * functions; this file has no libvirt headers, so it is unit-tested alone.
 *
 * Owns: a table of watches (fd + interest) and timers (period in ms: >0
 * periodic, 0 = fire on every loop iteration, -1 = disabled), their
 * sd-event sources, and the deferred free callbacks.
 *
 * The contract, and how it is kept:
 *   - any thread may add/update/remove (libvirt's RPC code toggles a
 *     socket's interest from whichever thread waits for a reply): every
 *     entry point takes a mutex; sd-event itself is touched only by the loop
 *     thread, which applies the table to its sources in a prepare callback
 *     and is woken through an eventfd when another thread made a change its
 *     sources would miss (virt_event_wakes);
 *   - remove never calls the free callback: entries are marked deleted and
 *     their free callbacks run later from the loop, on a clean stack;
 *   - callbacks are called without the mutex held, and never for an entry
 *     removed before the dispatch reached it;
 *   - one fd may carry several watches (each gets its own dup).
 * Must not: call libvirt, log, block.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

/* The values of VIR_EVENT_HANDLE_* (virt.c checks that they match). */
enum {
	VIRT_EVENT_READABLE = 1 << 0,
	VIRT_EVENT_WRITABLE = 1 << 1,
	VIRT_EVENT_ERROR = 1 << 2,
	VIRT_EVENT_HANGUP = 1 << 3,
};

typedef void (*virt_event_handle_cb)(int watch, int fd, int events, void *opaque);
typedef void (*virt_event_timeout_cb)(int timer, void *opaque);
typedef void (*virt_event_free_cb)(void *opaque);

struct virt_event;

/* Bind to ev; the calling thread is the loop thread from now on. */
int virt_event_new(sd_event *ev, struct virt_event **ret);
/* Loop thread only.  Drops every source; runs the free callbacks of removed
 * entries; entries still registered are dropped without their free callback
 * (their owner — libvirt — may still reference the opaque data). */
struct virt_event *virt_event_free(struct virt_event *e);

/* Returns a watch id > 0, or -1 (bad fd, out of memory). */
int virt_event_add_handle(struct virt_event *e, int fd, int events, virt_event_handle_cb cb,
			  void *opaque, virt_event_free_cb ff);
void virt_event_update_handle(struct virt_event *e, int watch, int events);
/* 0, or -1 for an unknown or already removed watch. */
int virt_event_remove_handle(struct virt_event *e, int watch);

/* Returns a timer id > 0, or -1. */
int virt_event_add_timeout(struct virt_event *e, int ms, virt_event_timeout_cb cb, void *opaque,
			   virt_event_free_cb ff);
void virt_event_update_timeout(struct virt_event *e, int timer, int ms);
int virt_event_remove_timeout(struct virt_event *e, int timer);

/* How often another thread woke the loop: a change its sources would miss
 * (more interest, an earlier timer, an addition, a removal) wakes it; one
 * they would find in time (less interest, a later or disabled timer) does
 * not — the table is checked at dispatch.  For tests and status. */
unsigned long virt_event_wakes(struct virt_event *e);
/*
 * For a thread that makes a libvirt call and then wakes the loop anyway
 * (a worker posting the call's result): between virt_event_quiet_begin()
 * and virt_event_quiet_end() on that thread, a watch's interest widened
 * there (libvirt's client turns the socket's back on after every call)
 * does not wake the loop; the loop's next turn applies it.  end returns
 * true when a wake-up was held back: the caller must then make the loop
 * run a turn soon.  Timers still wake the loop at once.
 */
void virt_event_quiet_begin(void);
bool virt_event_quiet_end(void);
/*
 * fn(ud) runs on the loop thread at the end of every dispatch that may
 * have called libvirt's callbacks (a watch's, and the 0-period timers it
 * armed; timers; another thread's wake), once they have all returned:
 * what they left for the loop is taken in the same turn, without an
 * eventfd and a turn of its own.  NULL fn: none.  Loop thread only.
 */
void virt_event_set_after(struct virt_event *e, void (*fn)(void *ud), void *ud);
/* Registered (not removed) watches and timers — for tests and status. */
void virt_event_counts(struct virt_event *e, unsigned *ret_handles, unsigned *ret_timers);
