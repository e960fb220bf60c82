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

/* For replies too big for a json-c tree (a listing of thousands): the
 * reply read with jtok (lib/jtok.h).  *ret_params is the index of the
 * reply's parameters object in doc, -1 when it has none.  Errors as
 * zcrx_recv.  Free doc with zcrx_doc_free (also after a failure). */
struct jtok_doc;
int zcrx_recv_doc(struct zcrx_conn *c, struct jtok_doc *doc, int *ret_params,
		  struct zcrx_error *err);
int zcrx_call_doc(struct zcrx_conn *c, const char *method, json_object *params,
		  struct jtok_doc *doc, int *ret_params, struct zcrx_error *err);
void zcrx_doc_free(struct jtok_doc *doc);

/* The timeout in ms for subsequent calls (0 = forever). */
void zcrx_set_timeout(struct zcrx_conn *c, unsigned timeout_ms);

/*
 * Leases for host zero-copy consumers (io_uring zcrx, devmem TCP): zcrxd
 * dedicates pool queues of a NIC to a flow -- header split on with
 * hds-thresh 0, the queues out of the default RSS table, n-tuple rules (or
 * an RSS context for several queues) steering the flow to them -- and puts
 * everything back on release.  The consumer then binds the queues itself
 * (IORING_REGISTER_ZCRX_IFQ, NETDEV_CMD_BIND_RX).  Leasing is for root or
 * zcrxd's admin group.
 */
#define ZCRX_LEASE_NAME_MAX 64
#define ZCRX_LEASE_QUEUES_MAX 64
#define ZCRX_ADDR_MAX 46 /* INET6_ADDRSTRLEN */

struct zcrx_flow {
	int protocol;             /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t dport;           /* destination port, required */
	uint16_t sport;           /* source port, 0 = any */
	char dst[ZCRX_ADDR_MAX];  /* destination IPv4/IPv6 address, "" = any */
	char src[ZCRX_ADDR_MAX];  /* source address, "" = any */
};

/* "tcp:dport=9000[,dst=ADDR][,src=ADDR][,sport=N]" (udp likewise). */
int zcrx_flow_parse(const char *text, struct zcrx_flow *ret, struct zcrx_error *err);

enum zcrx_lease_owner {
	ZCRX_LEASE_OWNER_NAME = 0, /* lives until zcrx_lease_release() */
	ZCRX_LEASE_OWNER_PROCESS,  /* released when the calling process exits */
};

struct zcrx_lease_info {
	uint32_t id;
	char name[ZCRX_LEASE_NAME_MAX];
	int ifindex;
	uint32_t n_queues;
	uint32_t queues[ZCRX_LEASE_QUEUES_MAX]; /* the RX queues to bind */
	uint32_t n_rules;
	uint32_t rules[2 * ZCRX_LEASE_QUEUES_MAX]; /* n-tuple rule locations */
	bool has_rss_context;
	uint32_t rss_context;
};

/* The parameters of io.zcrx.Manager.Lease (a new object). */
json_object *zcrx_lease_params(const char *nic, const struct zcrx_flow *flow, unsigned queues,
			       const char *name, enum zcrx_lease_owner owner);
/* The lease in a Lease or ReleaseLease reply's parameters; -EBADMSG. */
int zcrx_lease_info_from_reply(json_object *reply, struct zcrx_lease_info *ret,
			       struct zcrx_error *err);
/* Lease queues (>= 1) of nic for flow; name NULL = zcrxd picks one.  On a
 * refusal err names it (io.zcrx.Manager.NicUnsupported, QueueInUse,
 * PoolExhausted, FlowInUse, ...) with zcrxd's text. */
int zcrx_lease(struct zcrx_conn *c, const char *nic, const struct zcrx_flow *flow,
	       unsigned queues, const char *name, enum zcrx_lease_owner owner,
	       struct zcrx_lease_info *ret, struct zcrx_error *err);
/* Release a lease by name or id ("7"). */
int zcrx_lease_release(struct zcrx_conn *c, const char *lease, struct zcrx_error *err);
