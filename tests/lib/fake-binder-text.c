// SPDX-License-Identifier: MIT
/*
 * The test-only fake vhost_zcrx module: its text control, one command per
 * line (fake_binder_control()), for test tools that drive it from outside.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-binder.h"
#include "fake-binder-int.h"
#include "vhost_zcrx.h"

/* --- text control ---------------------------------------------------------- */

static int parse_errno(const char *s, int *ret)
{
	char *end;
	long v;

	if (!s)
		return -EINVAL;
	v = strtol(s, &end, 10);
	if (*s && !*end && v >= 0 && v < 4096) {
		*ret = (int)v;
		return 0;
	}
	for (int e = 1; e < 200; e++) {
		if (strcmp(kerror_errno_name(e), s) == 0) {
			*ret = e;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s, &end, 0);
	return (*end || errno) ? -EINVAL : 0;
}

struct text {
	char *buf;
	size_t size, len;
};

static void say(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len >= t->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n < t->size - t->len ? (size_t)n : t->size - t->len - 1;
}

int fake_binder_control(struct fake_binder *fb, const char *line, char *out, size_t out_size)
{
	struct text t = { .buf = out, .size = out_size };
	char clean[512], copy[512], *argv[12], *save = NULL;
	uint64_t v[6];
	int argc = 0, e;

	if (out_size)
		out[0] = '\0';
	snprintf(clean, sizeof(clean), "%s", line);
	clean[strcspn(clean, "\r\n")] = '\0';
	memcpy(copy, clean, sizeof(copy));
	for (char *tok = strtok_r(copy, " \t", &save); tok && argc < 12;
	     tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	if (!argc)
		goto bad;
#define IS(word, n) (strcmp(argv[0], word) == 0 && argc >= (n))
	if (IS("present", 2)) {
		fake_binder_set_present(fb, strcmp(argv[1], "0") != 0);
	} else if (IS("refuse-next", 2)) {
		if (parse_errno(argv[1], &e) < 0)
			goto bad;
		fake_binder_refuse_next_bind(fb, e, argc > 2 ? clean + (argv[2] - copy) : "");
	} else if (IS("refuse", 3)) {
		if (parse_u64(argv[1], &v[0]) < 0 || parse_errno(argv[2], &e) < 0)
			goto bad;
		fake_binder_refuse_nic(fb, (int)v[0], e, argc > 3 ? clean + (argv[3] - copy) : "");
	} else if (IS("features", 3)) {
		if (parse_u64(argv[2], &v[1]) < 0)
			goto bad;
		if (strcmp(argv[1], "*") == 0)
			v[0] = 0;
		else if (parse_u64(argv[1], &v[0]) < 0)
			goto bad;
		fake_binder_set_features(fb, (int)v[0], v[1]);
	} else if (IS("auto-active", 2)) {
		fake_binder_set_auto_active(fb, strcmp(argv[1], "0") != 0);
	} else if (IS("state", 3)) {
		enum binder_state st;

		e = 0;
		if (parse_u64(argv[1], &v[0]) < 0 || binder_state_from_name(argv[2], &st) < 0 ||
		    (argc > 3 && parse_errno(argv[3], &e) < 0))
			goto bad;
		if (fake_binder_set_state(fb, (uint32_t)v[0], st, e) < 0) {
			say(&t, "error: no binding %s\n", argv[1]);
			return -EINVAL;
		}
	} else if (IS("stats", 8)) {
		struct binder_stats s;
		uint64_t id;

		if (parse_u64(argv[1], &id) < 0)
			goto bad;
		for (int i = 0; i < 6; i++)
			if (parse_u64(argv[2 + i], &v[i]) < 0)
				goto bad;
		s = (struct binder_stats){ v[0], v[1], v[2], v[3], v[4], v[5] };
		if (fake_binder_set_stats(fb, (uint32_t)id, &s) < 0) {
			say(&t, "error: no binding %s\n", argv[1]);
			return -EINVAL;
		}
	} else if (IS("bind", 4)) {
		/* a binding made behind the daemon's back (an earlier zcrxd) */
		struct binder_msg_request q = { .cmd = VHOST_ZCRX_CMD_BIND };
		char msg[160] = "";
		uint32_t id;

		if (parse_u64(argv[1], &v[0]) < 0 || parse_u64(argv[2], &v[1]) < 0 ||
		    parse_u64(argv[3], &v[2]) < 0)
			goto bad;
		q.ifindex = (uint32_t)v[0];
		q.queue = (uint32_t)v[1];
		q.tap_ifindex = (uint32_t)v[2];
		q.fallback = argc > 4 && !strcmp(argv[4], "copy") ? VHOST_ZCRX_FALLBACK_COPY
								   : VHOST_ZCRX_FALLBACK_DROP;
		pthread_mutex_lock(&fb->lock);
		e = fake_binder_do_bind(fb, &q, msg, sizeof(msg), &id);
		if (!e)
			fake_binder_log(fb, "BIND (control) ifindex=%u queue=%u tap=%u -> %u", q.ifindex, q.queue,
			       q.tap_ifindex, id);
		pthread_mutex_unlock(&fb->lock);
		if (e) {
			say(&t, "error: %s %s\n", kerror_errno_name(e), msg);
			return -EINVAL;
		}
		say(&t, "%u\n", id);
	} else if (IS("gone", 2)) {
		if (parse_u64(argv[1], &v[0]) < 0)
			goto bad;
		say(&t, "%d\n", fake_binder_link_gone(fb, (int)v[0]));
	} else if (IS("list", 1)) {
		pthread_mutex_lock(&fb->lock);
		for (size_t i = 0; i < fb->n_b; i++) {
			const struct binder_binding *b = &fb->b[i];

			say(&t, "id=%u ifindex=%d queue=%u tap=%d fallback=%s state=%s reason=%d\n",
			    b->id, b->ifindex, b->queue, b->tap_ifindex,
			    binder_fallback_name(b->fallback), binder_state_name(b->state),
			    b->reason);
		}
		pthread_mutex_unlock(&fb->lock);
	} else if (IS("log", 1)) {
		pthread_mutex_lock(&fb->lock);
		for (unsigned i = 0; i < fb->n_log && i < FB_LOG_MAX; i++)
			say(&t, "%s\n", fb->log[i]);
		pthread_mutex_unlock(&fb->lock);
	} else if (IS("count", 1)) {
		say(&t, "%u\n", fake_binder_request_count(fb));
	} else {
		goto bad;
	}
#undef IS
	say(&t, "ok\n");
	return 0;
bad:
	say(&t, "error: bad command\n");
	return -EINVAL;
}
