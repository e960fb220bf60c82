/* SPDX-License-Identifier: MIT */
/*
 * kerror — an error as the kernel (or another component) reported it: the
 * errno, the operation we were doing, the object it concerned, and the
 * kernel's own text (netlink extack) when there was one.  It travels from the
 * backends through exec and the manager to the Varlink reply unchanged, so
 * the user sees e.g.
 *   eth0: set channels: requested channel count exceeds maximum (EINVAL)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define KERROR_OP_MAX 128 /* holds a plan op's description (exec) */
#define KERROR_OBJ_MAX 64
#define KERROR_MSG_MAX 256

struct kerror {
	int err;                    /* positive errno, 0 = no error */
	char obj[KERROR_OBJ_MAX];   /* usually the interface name */
	char op[KERROR_OP_MAX];     /* "set channels", "insert rule", ... */
	char msg[KERROR_MSG_MAX];   /* the kernel's extack text, or our own */
};

/* Record an error; returns -err so callers can `return kerror_set(...)`.
 * msg may be NULL or empty (then strerror() is used when formatting). */
int kerror_set(struct kerror *e, int err, const char *obj, const char *op, const char *msg);
int kerror_setf(struct kerror *e, int err, const char *obj, const char *op, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void kerror_clear(struct kerror *e);
static inline bool kerror_is_set(const struct kerror *e)
{
	return e && e->err != 0;
}
/* Fill obj/op if they are still empty (outer layers add context). */
void kerror_context(struct kerror *e, const char *obj, const char *op);

/* "eth0: set channels: <msg> (EINVAL)" into buf; returns buf.  An empty
 * msg (the ioctl has no text) is the errno's strerror(). */
const char *kerror_format(const struct kerror *e, char *buf, size_t size);
/* The same for a line that names obj already (log_nic's "eth0: "): the
 * object is left out when it is obj ("set channels: <msg> (EINVAL)"). */
const char *kerror_format_in(const struct kerror *e, const char *obj, char *buf, size_t size);

/* "EINVAL" for 22; "E<n>" for unknown values.  Never NULL. */
const char *kerror_errno_name(int err);
