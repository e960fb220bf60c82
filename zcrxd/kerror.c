// SPDX-License-Identifier: MIT
/*
 * kerror — carrying a kernel refusal (errno + extack text) up to the user.
 * Owns formatting and errno names.  Must not log.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kerror.h"

static void copy(char *dst, size_t size, const char *src)
{
	if (!src)
		src = "";
	snprintf(dst, size, "%s", src);
}

int kerror_set(struct kerror *e, int err, const char *obj, const char *op, const char *msg)
{
	if (err == INT_MIN || err == 0)
		err = EIO; /* not an errno: never report success or overflow */
	if (err < 0)
		err = -err;
	if (e) {
		e->err = err;
		copy(e->obj, sizeof(e->obj), obj);
		copy(e->op, sizeof(e->op), op);
		copy(e->msg, sizeof(e->msg), msg);
	}
	return -err;
}

int kerror_setf(struct kerror *e, int err, const char *obj, const char *op, const char *fmt, ...)
{
	char msg[KERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kerror_set(e, err, obj, op, msg);
}

void kerror_clear(struct kerror *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

void kerror_context(struct kerror *e, const char *obj, const char *op)
{
	if (!e)
		return;
	if (!e->obj[0] && obj)
		copy(e->obj, sizeof(e->obj), obj);
	if (!e->op[0] && op)
		copy(e->op, sizeof(e->op), op);
}

const char *kerror_format(const struct kerror *e, char *buf, size_t size)
{
	return kerror_format_in(e, NULL, buf, size);
}

const char *kerror_format_in(const struct kerror *e, const char *obj, char *buf, size_t size)
{
	const char *msg = e->msg[0] ? e->msg : strerror(e->err);
	int n = 0;

	buf[0] = '\0';
	if (e->obj[0] && !(obj && !strcmp(e->obj, obj)))
		n += snprintf(buf + n, size > (size_t)n ? size - n : 0, "%s: ", e->obj);
	if (e->op[0])
		n += snprintf(buf + n, size > (size_t)n ? size - n : 0, "%s: ", e->op);
	snprintf(buf + n, size > (size_t)n ? size - n : 0, "%s (%s)", msg,
		 kerror_errno_name(e->err));
	return buf;
}

const char *kerror_errno_name(int err)
{
	static __thread char other[16];

	if (err < 0)
		err = err == INT_MIN ? 0 : -err;
	switch (err) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case ENODATA: return "ENODATA";
	case ETIME: return "ETIME";
	case EPROTO: return "EPROTO";
	case EBADMSG: return "EBADMSG";
	case EOVERFLOW: return "EOVERFLOW";
	case EMSGSIZE: return "EMSGSIZE";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EADDRINUSE: return "EADDRINUSE";
	case ENETDOWN: return "ENETDOWN";
	case ECONNRESET: return "ECONNRESET";
	case ENOBUFS: return "ENOBUFS";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EALREADY: return "EALREADY";
	case EINPROGRESS: return "EINPROGRESS";
	case ECANCELED: return "ECANCELED";
	case ENOTCONN: return "ENOTCONN";
	default: break;
	}
	snprintf(other, sizeof(other), "E%d", err);
	return other;
}
