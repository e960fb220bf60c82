// SPDX-License-Identifier: MIT
/*
 * events — fan-out of daemon events to Monitor subscribers.
 * Owns: the subscriber list.  Must not: block or log above debug.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "events.h"
#include "ipc.h"
#include "log.h"

struct subscriber {
	struct subscriber *next;
	struct ipc_call *call;
	struct events *bus;
};

struct events {
	struct subscriber *subs;
	unsigned n_subs;
	uint64_t published;
};

int events_new(struct events **ret)
{
	struct events *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	*ret = e;
	return 0;
}

static void drop(struct events *e, struct subscriber *s)
{
	struct subscriber **pp;

	for (pp = &e->subs; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			e->n_subs--;
			break;
		}
	ipc_call_set_disconnect_handler(s->call, NULL, NULL);
	ipc_call_unref(s->call);
	free(s);
}

struct events *events_free(struct events *e)
{
	if (!e)
		return NULL;
	while (e->subs) {
		struct subscriber *s = e->subs;

		ipc_reply(s->call, NULL); /* end the stream */
		drop(e, s);
	}
	free(e);
	return NULL;
}

static void on_gone(struct ipc_call *call, void *userdata)
{
	struct subscriber *s = userdata;

	log_debug(LOG_SUBSYS_MANAGER, "monitor subscriber went away");
	drop(s->bus, s);
}

int events_subscribe(struct events *e, struct ipc_call *call)
{
	struct subscriber *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->call = ipc_call_ref(call);
	s->bus = e;
	s->next = e->subs;
	e->subs = s;
	e->n_subs++;
	ipc_call_set_disconnect_handler(call, on_gone, s);
	return 0;
}

void events_publish(struct events *e, const char *type, json_object *data)
{
	struct subscriber *s, *next;
	struct timespec ts;
	json_object *ev;

	e->published++;
	if (!e->subs) {
		json_object_put(data);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ev = data ? data : json_object_new_object();
	json_object_object_add(ev, "type", json_object_new_string(type));
	json_object_object_add(ev, "timestamp_usec",
			       json_object_new_int64((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000));
	for (s = e->subs; s; s = next) {
		json_object *p = json_object_new_object();

		next = s->next;
		json_object_object_add(p, "event", json_object_get(ev));
		if (ipc_reply_continues(s->call, p) < 0 || ipc_call_disconnected(s->call))
			drop(e, s);
	}
	json_object_put(ev);
}

unsigned events_subscriber_count(const struct events *e)
{
	return e->n_subs;
}

bool events_listening(const struct events *e)
{
	return e && e->n_subs > 0;
}

uint64_t events_published_count(const struct events *e)
{
	return e->published;
}
