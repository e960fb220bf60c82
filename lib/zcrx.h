/* SPDX-License-Identifier: MIT */
/*
 * libzcrx — the client side of zcrxd's Varlink API.
 *
 * Connect, call, read streamed replies; every failure comes back as a
 * negative errno plus a struct zcrx_error carrying the Varlink error name and
 * message.  It never prints, logs or exits.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZCRX_DEFAULT_SOCKET "/run/zcrx/io.zcrx.Manager"
#define ZCRX_INTERFACE "io.zcrx.Manager"
#define ZCRX_PROTOCOL 1

struct zcrx_conn;

enum zcrx_error_kind {
	ZCRX_ERROR_NONE = 0,
	ZCRX_ERROR_REPLY,       /* the daemon answered with a Varlink error */
	ZCRX_ERROR_UNREACHABLE, /* no daemon / connect failed */
	ZCRX_ERROR_TIMEOUT,     /* no (complete) answer in time */
	ZCRX_ERROR_PROTOCOL,    /* garbage or disconnect mid-reply */
	ZCRX_ERROR_LOCAL,       /* bad arguments, out of memory */
};

struct zcrx_error {
	enum zcrx_error_kind kind;
	int err;            /* errno (local) or the "errno" parameter of a reply */
	char name[128];     /* Varlink error name, e.g. io.zcrx.Manager.NoSuchNic */
	char message[512];  /* human text: the reply's "message" or a local one */
	json_object *parameters; /* error parameters (owned; freed by zcrx_error_clear) */
};

void zcrx_error_clear(struct zcrx_error *e);

/* Connect to path (NULL = ZCRX_DEFAULT_SOCKET).  timeout_ms bounds every
 * later call (0 = wait forever). */
int zcrx_connect(const char *path, unsigned timeout_ms, struct zcrx_conn **ret,
		 struct zcrx_error *err);
struct zcrx_conn *zcrx_disconnect(struct zcrx_conn *c);
int zcrx_conn_fd(const struct zcrx_conn *c);

enum zcrx_call_flags {
	ZCRX_CALL_MORE = 1u << 0,
	ZCRX_CALL_ONEWAY = 1u << 1,
};

/* Send a call; params may be NULL.  Ownership of params is NOT taken. */
int zcrx_send(struct zcrx_conn *c, const char *method, json_object *params, unsigned flags,
	      struct zcrx_error *err);
/* Read one reply.  *ret_params is the reply's parameters (owned by caller),
 * *ret_continues tells whether more replies follow.  A Varlink error reply
 * returns -EBADMSG with err->kind = ZCRX_ERROR_REPLY. */
int zcrx_recv(struct zcrx_conn *c, json_object **ret_params, bool *ret_continues,
	      struct zcrx_error *err);
/* send + recv for a plain method call. */
int zcrx_call(struct zcrx_conn *c, const char *method, json_object *params,
	      json_object **ret_params, struct zcrx_error *err);

/* The timeout in ms for subsequent calls (0 = forever). */
void zcrx_set_timeout(struct zcrx_conn *c, unsigned timeout_ms);
