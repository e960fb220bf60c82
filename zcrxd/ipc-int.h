/* SPDX-License-Identifier: MIT */
/*
 * ipc-int — what the files of the Varlink server share and nobody else
 * sees: the server, connection and call objects.
 *
 *   ipc.c          the server: listening, accepting (connection caps),
 *                  the fair run queue, dispatch, statistics
 *   ipc-conn.c     one connection: reading, the output queue and the
 *                  memory budget, deadlines, closing with a reason
 *   ipc-call.c     calls: replies, errors, parameter checking
 *   ipc-service.c  the org.varlink.service interface
 */
#pragma once

#include <sys/socket.h>

#include "ipc.h"
#include "varlink.h"

/* A connection whose replies wait unread beyond this is not given another
 * request until the client reads (backpressure). */
#define IPC_OUTPUT_LOW (64u * 1024)
#define IPC_OUTPUT_ADOPT (64u * 1024) /* a reply this big is sent from its own buffer */
#define IPC_OUTPUT_TRIM (1024u * 1024) /* a reply this big is followed by malloc_trim() */
/* A stream (Monitor) whose client leaves this much unread is cut. */
#define IPC_OUTPUT_STREAM_MAX (256u * 1024)
/* All connections' unread replies together; past it the largest backlog is cut. */
#define IPC_OUTPUT_TOTAL_MAX (16u * 1024 * 1024)
/* Requests of callers that are neither root nor admins are never large. */
#define IPC_MESSAGE_MAX_UNPRIVILEGED (64u * 1024)
/* Requests handled per turn of the run queue before the loop looks at I/O
 * again: at most this many, and no more once this much time went by. */
#define IPC_BATCH 32
#define IPC_BATCH_USEC 1000
#define IPC_READ_CHUNK 65536

struct ipc_method_entry {
	struct ipc_method m;
	void *userdata;
};

struct ipc_conn;

struct ipc_call {
	unsigned ref;
	struct ipc_conn *conn; /* NULL once the peer is gone */
	char *method;
	bool more, oneway, done;
	void (*on_disconnect)(struct ipc_call *, void *);
	void *on_disconnect_data;
};

struct ipc_conn {
	struct ipc_server *server;
	struct ipc_conn *prev, *next;   /* every connection */
	struct ipc_conn *rq_next;       /* run queue */
	bool in_rq, reaping;
	int fd;
	sd_event_source *io, *timer;
	uint32_t io_events;             /* what io watches now */
	uint64_t timer_at;              /* what timer is armed for, 0 = off */
	struct varlink_reader rd;
	char *out;
	size_t out_len, out_cap, out_off;
	json_object *out_msg; /* set: out is this message's own encoding (a big reply, no copy) */
	bool rdhup;   /* the client shut its side down: read what it sent */
	bool eof;     /* the client sends nothing more, all of it read */
	bool closing; /* close once the output is written */
	bool dead;    /* close now, unwritten output dropped */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool admin;
	struct ipc_call *current;
	uint64_t partial_since; /* an incomplete message is buffered since */
	uint64_t out_since;     /* output waits, unwritten, since (last progress) */
	uint64_t idle_since;    /* nothing in flight, buffered or queued since */
};

struct ipc_rq {
	struct ipc_conn *head, *tail;
};

struct ipc_server {
	sd_event *ev;
	int fd;
	bool unlink_on_free;
	char *path;
	sd_event_source *listen, *work;
	struct ipc_limits limits;
	gid_t admin_gid;
	char *description;
	char *vendor, *product, *version, *url;
	struct ipc_method_entry *methods;
	size_t n_methods;
	struct ipc_conn *conns;
	unsigned n_conns;
	/* root's and the admins' requests are taken before the others' */
	struct ipc_rq rq_admin, rq_user;
	size_t out_total; /* unwritten reply bytes of every connection */
	struct ipc_stats stats;
	uint64_t log_window_us; /* refusals and cuts logged in this window */
	unsigned log_lines, log_suppressed;
};


/* ipc.c */
/* Put c on the run queue (when it has a request to handle), wake the
 * server's work source for it or for closing it. */
void ipc_server_wake(struct ipc_server *s, struct ipc_conn *c);
/* A hostile client may make zcrxd refuse or close thousands of
 * connections: whether one more such line may be logged now (the counters
 * in GetStatus are exact either way). */
bool ipc_server_log_ok(struct ipc_server *s);

/* ipc-conn.c */
int ipc_conn_new(struct ipc_server *s, int fd, const struct ucred *cred, bool admin,
		 struct ipc_conn **ret);
void ipc_conn_free(struct ipc_conn *c);
/* Queue msg (consumed) for the client; stream: it is a "continues" reply
 * nobody asked for just now (the stream limit applies). */
int ipc_conn_send(struct ipc_conn *c, json_object *msg, bool stream);
/* Whether the connection has a request to handle now. */
bool ipc_conn_ready(const struct ipc_conn *c);
/* Whether the connection is to be freed now. */
bool ipc_conn_finished(const struct ipc_conn *c);
/* Take the next buffered request (or the error that replaces it): 1 with
 * *ret set, 0 when none is complete. */
int ipc_conn_next(struct ipc_conn *c, json_object **ret);
/* Re-evaluate what the connection waits for: epoll events, its deadline,
 * and its place on the run queue. */
void ipc_conn_update(struct ipc_conn *c);
/* Close c at once for reason (counted and logged with detail). */
void ipc_conn_cut(struct ipc_conn *c, enum ipc_cut reason, const char *detail);
/* An error to the client that ends the connection once written. */
void ipc_conn_fail(struct ipc_conn *c, enum ipc_cut reason, const char *message);
size_t ipc_conn_max_message(const struct ipc_conn *c);

/* ipc-call.c */
struct ipc_call *ipc_call_new(struct ipc_conn *c, const struct varlink_call *vc);
/* The peer went away: tell the call's owner. */
void ipc_call_detach(struct ipc_call *call);

/* ipc-service.c */
int ipc_service_register(struct ipc_server *s);
