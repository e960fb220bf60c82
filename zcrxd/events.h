/* SPDX-License-Identifier: MIT */
/*
 * events — the daemon's event bus behind io.zcrx.Manager.Monitor.
 *
 * Modules publish what happened (attachment created/changed/removed, binding
 * state, NIC changes, reconcile repairs, config reloads); every open Monitor
 * call receives each event as a streamed reply.  Must not: block; a slow
 * subscriber is cut off by the ipc layer's output limit, never waited for.
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

struct events;
struct ipc_call;

int events_new(struct events **ret);
struct events *events_free(struct events *e);

/* Publish an event of `type` ("attachment-created", "nic-changed", ...).
 * Takes ownership of data (may be NULL); adds "type" and "timestamp_usec". */
void events_publish(struct events *e, const char *type, json_object *data);

/* Attach a Monitor call (which asked for "more"); the bus keeps a reference
 * until the peer goes away. */
int events_subscribe(struct events *e, struct ipc_call *call);
unsigned events_subscriber_count(const struct events *e);
/* Someone follows e (NULL: no one): build an event's JSON only then. */
bool events_listening(const struct events *e);
uint64_t events_published_count(const struct events *e);
