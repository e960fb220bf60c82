/* SPDX-License-Identifier: MIT */
/*
 * ipc — the Varlink server on <runtime-dir>/io.zcrx.Manager.
 *
 * Owns: the listening socket, connections, framing, limits (message size,
 * connections in all, per uid and kept for root and admins, read, write and
 * idle timeouts, the output memory of all connections), fairness between
 * clients, authorization from SO_PEERCRED, and dispatch to registered
 * methods.  Must not: talk to the kernel or libvirt; it translates requests
 * into calls on other modules.
 *
 * Fairness: requests are taken one per connection in turn, root's and the
 * admins' first, and only while no socket waits to be read or written, so
 * a client that pipelines thousands of requests delays another by at most
 * one request of each busy connection.
 *
 * A method handler gets a call object and either replies at once or keeps a
 * reference (ipc_call_ref) and replies later from the event loop.  Calls with
 * "more" may reply several times with ipc_reply_continues() and end with
 * ipc_reply().  "oneway" calls get no reply: the ipc_reply* functions then
 * just drop the parameters.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

struct ipc_server;
struct ipc_call;

#define IPC_MESSAGE_MAX (1024 * 1024)

enum ipc_method_flags {
	IPC_METHOD_MUTATING = 1u << 0, /* needs uid 0 or the admin group */
	IPC_METHOD_STREAMING = 1u << 1, /* accepts "more" */
};

typedef void (*ipc_handler_t)(struct ipc_call *call, json_object *params, void *userdata);

struct ipc_method {
	const char *name; /* fully qualified: "io.zcrx.Manager.GetStatus" */
	unsigned flags;
	ipc_handler_t handler;
};

struct ipc_limits {
	size_t max_message;        /* bytes, excluding the NUL: root and admins */
	unsigned max_connections;  /* every connection */
	unsigned max_per_user;     /* of one uid other than root; 0 = no own cap */
	unsigned reserved;         /* of max_connections, kept for root and admins */
	uint64_t read_timeout_us;  /* a started message must complete within this */
	uint64_t write_timeout_us; /* replies left unread this long: the client is cut */
	uint64_t idle_timeout_us;  /* nothing in flight this long: closed; 0 = never */
};

/* Why zcrxd closed a connection itself. */
enum ipc_cut {
	IPC_CUT_IDLE,          /* no call in flight for idle_timeout_us */
	IPC_CUT_READ_TIMEOUT,  /* a message not completed within read_timeout_us */
	IPC_CUT_TOO_LARGE,     /* a message over the size limit */
	IPC_CUT_SLOW_READER,   /* replies unread: a stream's backlog, or write_timeout_us */
	IPC_CUT_OUTPUT_BUDGET, /* the largest backlog when all of them reached the budget */
	_IPC_CUT_MAX,
};

/* "idle-timeout", "read-timeout", "message-too-large", "slow-reader", "output-budget" */
const char *ipc_cut_name(enum ipc_cut reason);

struct ipc_stats {
	unsigned connections, admin_connections;
	uint64_t accepted;
	uint64_t refused_full;     /* every slot taken */
	uint64_t refused_reserved; /* only the slots kept for root and admins were free */
	uint64_t refused_per_user; /* the caller's uid had max_per_user */
	uint64_t cut[_IPC_CUT_MAX];
	uint64_t output_bytes;     /* replies queued, unwritten, now */
};

struct ipc_server_config {
	const char *path;        /* socket path */
	gid_t socket_gid;        /* (gid_t)-1 = leave as is */
	mode_t socket_mode;      /* 0660 normally */
	gid_t admin_gid;         /* (gid_t)-1 = root only */
	struct ipc_limits limits;
	const char *interface_description; /* Varlink IDL text of io.zcrx.Manager */
	const char *vendor, *product, *version, *url;
};

int ipc_server_new(sd_event *ev, const struct ipc_server_config *cfg, struct ipc_server **ret);
/* Stops listening, closes every connection, unlinks the socket. */
struct ipc_server *ipc_server_free(struct ipc_server *s);
int ipc_server_add_methods(struct ipc_server *s, const struct ipc_method *methods, size_t n,
			   void *userdata);
void ipc_server_set_admin_gid(struct ipc_server *s, gid_t gid);
unsigned ipc_server_connection_count(const struct ipc_server *s);
/* New limits for connections accepted from now on (a reload); the timeouts
 * apply to every connection at its next deadline. */
void ipc_server_set_limits(struct ipc_server *s, const struct ipc_limits *limits);
void ipc_server_get_stats(const struct ipc_server *s, struct ipc_stats *ret);
/* GetStatus's "control" object: the limits in effect and ipc_stats. */
json_object *ipc_server_status_json(const struct ipc_server *s);
/* Use an already-bound, listening socket (systemd socket activation, tests). */
int ipc_server_new_from_fd(sd_event *ev, int fd, const struct ipc_server_config *cfg,
			   struct ipc_server **ret);

/* Calls. */
struct ipc_call *ipc_call_ref(struct ipc_call *c);
struct ipc_call *ipc_call_unref(struct ipc_call *c);
const char *ipc_call_method(const struct ipc_call *c);
bool ipc_call_more(const struct ipc_call *c);
bool ipc_call_oneway(const struct ipc_call *c);
uid_t ipc_call_uid(const struct ipc_call *c);
pid_t ipc_call_pid(const struct ipc_call *c);
bool ipc_call_is_admin(const struct ipc_call *c);
/* True once the peer went away; replies are then dropped. */
bool ipc_call_disconnected(const struct ipc_call *c);
/* Called once when the peer disconnects while the call is still open
 * (for streams such as Monitor). */
void ipc_call_set_disconnect_handler(struct ipc_call *c, void (*fn)(struct ipc_call *, void *),
				     void *userdata);

/* Replies take ownership of params (may be NULL for {}). */
int ipc_reply(struct ipc_call *c, json_object *params);
int ipc_reply_continues(struct ipc_call *c, json_object *params);
int ipc_reply_error(struct ipc_call *c, const char *error, json_object *params);
/* org.varlink.service.InvalidParameter {"parameter": name} */
int ipc_reply_invalid_parameter(struct ipc_call *c, const char *name);
/* io.zcrx.Manager.PermissionDenied */
int ipc_reply_permission_denied(struct ipc_call *c);

/*
 * Parameter checking, so every method rejects unknown and mistyped fields the
 * same way.  A spec is terminated by IPC_PARAM_END.  On failure the call has been
 * answered with InvalidParameter and -EINVAL is returned.
 */
enum ipc_param_type {
	IPC_PARAM_STRING,
	IPC_PARAM_INT,  /* json int, stored in int64_t */
	IPC_PARAM_BOOL,
	IPC_PARAM_OBJECT,
	IPC_PARAM_ARRAY,
};

struct ipc_param {
	const char *name;
	enum ipc_param_type type;
	bool required;
	void *out; /* const char **, int64_t *, bool *, json_object ** (borrowed) */
	bool *present; /* optional */
};

#define IPC_PARAM_END { .name = NULL }

int ipc_params_parse(struct ipc_call *c, json_object *params, const struct ipc_param *spec);
