// SPDX-License-Identifier: MIT
/*
 * ipc-call — a call on the Varlink server: its replies and errors, and the
 * parameter checking every method shares (ipc.h).  Must not: do I/O; the
 * connection (ipc-conn.c) writes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipc-int.h"

struct ipc_call *ipc_call_new(struct ipc_conn *c, const struct varlink_call *vc)
{
	struct ipc_call *call = calloc(1, sizeof(*call));

	if (!call || !(call->method = strdup(vc->method))) {
		free(call);
		return NULL;
	}
	call->ref = 1;
	call->conn = c;
	call->more = vc->more;
	call->oneway = vc->oneway;
	return call;
}

void ipc_call_detach(struct ipc_call *call)
{
	call->conn = NULL;
	if (!call->done && call->on_disconnect)
		call->on_disconnect(call, call->on_disconnect_data);
}

struct ipc_call *ipc_call_ref(struct ipc_call *call)
{
	if (call)
		call->ref++;
	return call;
}

struct ipc_call *ipc_call_unref(struct ipc_call *call)
{
	if (!call || --call->ref > 0)
		return NULL;
	free(call->method);
	free(call);
	return NULL;
}

const char *ipc_call_method(const struct ipc_call *call)
{
	return call->method;
}

bool ipc_call_more(const struct ipc_call *call)
{
	return call->more;
}

bool ipc_call_oneway(const struct ipc_call *call)
{
	return call->oneway;
}

uid_t ipc_call_uid(const struct ipc_call *call)
{
	return call->conn ? call->conn->uid : (uid_t)-1;
}

pid_t ipc_call_pid(const struct ipc_call *call)
{
	return call->conn ? call->conn->pid : 0;
}

bool ipc_call_is_admin(const struct ipc_call *call)
{
	return call->conn && call->conn->admin;
}

bool ipc_call_disconnected(const struct ipc_call *call)
{
	return !call->conn || call->conn->dead;
}

void ipc_call_set_disconnect_handler(struct ipc_call *call, void (*fn)(struct ipc_call *, void *),
				     void *userdata)
{
	call->on_disconnect = fn;
	call->on_disconnect_data = userdata;
}

/* The call is answered: let the connection go on with the next request. */
static void call_finish(struct ipc_call *call)
{
	struct ipc_conn *c = call->conn;

	call->done = true;
	if (c && c->current == call) {
		c->current = NULL;
		ipc_call_unref(call);
		ipc_conn_update(c);
	}
}

static int call_send(struct ipc_call *call, json_object *msg, bool final)
{
	int r = 0;

	if (call->done) {
		json_object_put(msg);
		return -EALREADY;
	}
	if (!call->conn || call->oneway || call->conn->dead)
		json_object_put(msg);
	else
		r = ipc_conn_send(call->conn, msg, !final);
	if (final)
		call_finish(call);
	return r;
}

int ipc_reply(struct ipc_call *call, json_object *params)
{
	json_object *msg = varlink_reply_new(params, false);

	if (!msg)
		return -ENOMEM;
	return call_send(call, msg, true);
}

int ipc_reply_continues(struct ipc_call *call, json_object *params)
{
	json_object *msg;

	if (!call->more) {
		json_object_put(params);
		return -EINVAL;
	}
	msg = varlink_reply_new(params, true);
	if (!msg)
		return -ENOMEM;
	return call_send(call, msg, false);
}

int ipc_reply_error(struct ipc_call *call, const char *error, json_object *params)
{
	json_object *msg = varlink_error_new(error, params);

	if (!msg)
		return -ENOMEM;
	return call_send(call, msg, true);
}

int ipc_reply_invalid_parameter(struct ipc_call *call, const char *name)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "parameter", json_object_new_string(name));
	return ipc_reply_error(call, "org.varlink.service.InvalidParameter", p);
}

int ipc_reply_permission_denied(struct ipc_call *call)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "message",
			       json_object_new_string("this method needs root or the admin group"));
	return ipc_reply_error(call, "io.zcrx.Manager.PermissionDenied", p);
}

static bool type_ok(json_object *v, enum ipc_param_type t)
{
	switch (t) {
	case IPC_PARAM_STRING: return json_object_is_type(v, json_type_string);
	case IPC_PARAM_INT: return json_object_is_type(v, json_type_int);
	case IPC_PARAM_BOOL: return json_object_is_type(v, json_type_boolean);
	case IPC_PARAM_OBJECT: return json_object_is_type(v, json_type_object);
	case IPC_PARAM_ARRAY: return json_object_is_type(v, json_type_array);
	}
	return false;
}

int ipc_params_parse(struct ipc_call *call, json_object *params, const struct ipc_param *spec)
{
	const struct ipc_param *p;

	if (params) {
		json_object_object_foreach(params, key, val) {
			(void)val;
			for (p = spec; p->name; p++)
				if (!strcmp(p->name, key))
					break;
			if (!p->name) {
				ipc_reply_invalid_parameter(call, key);
				return -EINVAL;
			}
		}
	}
	for (p = spec; p->name; p++) {
		json_object *v = NULL;
		bool have = params && json_object_object_get_ex(params, p->name, &v) &&
			    !json_object_is_type(v, json_type_null);

		if (p->present)
			*p->present = have;
		if (!have) {
			if (p->required) {
				ipc_reply_invalid_parameter(call, p->name);
				return -EINVAL;
			}
			continue;
		}
		if (!type_ok(v, p->type)) {
			ipc_reply_invalid_parameter(call, p->name);
			return -EINVAL;
		}
		if (!p->out)
			continue;
		switch (p->type) {
		case IPC_PARAM_STRING: *(const char **)p->out = json_object_get_string(v); break;
		case IPC_PARAM_INT: *(int64_t *)p->out = json_object_get_int64(v); break;
		case IPC_PARAM_BOOL: *(bool *)p->out = json_object_get_boolean(v); break;
		case IPC_PARAM_OBJECT:
		case IPC_PARAM_ARRAY: *(json_object **)p->out = v; break;
		}
	}
	return 0;
}
