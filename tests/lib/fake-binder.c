// SPDX-License-Identifier: MIT
/*
 * fake-binder — a test-only FAKE vhost_zcrx module behind a unix socket
 * (fake-binder.h).  It answers with the messages the real module would send;
 * the daemon side is the production binder-vhost.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "binder-msg.h"
#include "binder-vhost.h"
#include "fake-binder.h"
#include "fake-binder-int.h"
#include "genl.h"
#include "vhost_zcrx.h"

/* A reply being assembled for one client. */
struct out {
	struct fake_binder *fb;
	int fd;
	size_t len;
};

static uint8_t *out_buf(struct out *o)
{
	return (uint8_t *)o->fb->out;
}

static void out_flush(struct out *o)
{
	if (o->len)
		(void)send(o->fd, out_buf(o), o->len, MSG_NOSIGNAL | MSG_DONTWAIT);
	o->len = 0;
}

static struct nlmsghdr *out_msg(struct out *o, uint16_t type, uint16_t flags, uint32_t seq,
				uint8_t cmd)
{
	if (o->len > FB_FLUSH_AT)
		out_flush(o);
	return binder_msg_start(out_buf(o) + o->len, FB_BUF - o->len, type, flags, seq, cmd,
				VHOST_ZCRX_FAMILY_VERSION);
}

static void out_done(struct out *o, struct nlmsghdr *nlh)
{
	o->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static size_t out_room(const struct out *o)
{
	return FB_BUF - o->len;
}

/* NLMSG_ERROR (error 0 = ACK) with extack, capped like the kernel's. */
static void out_ack(struct out *o, const struct nlmsghdr *req, int error, const char *msg,
		    uint32_t bad_offset, uint16_t missing_type)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(out_buf(o) + o->len);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED;
	nlh->nlmsg_seq = req->nlmsg_seq;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = -error;
	e->msg = *req;
	if ((msg && *msg) || bad_offset || missing_type)
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
	if (msg && *msg)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
	if (bad_offset)
		mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, bad_offset);
	if (missing_type)
		mnl_attr_put_u32(nlh, NLMSGERR_ATTR_MISS_TYPE, missing_type);
	out_done(o, nlh);
}

static void out_done_dump(struct out *o, const struct nlmsghdr *req)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(out_buf(o) + o->len);
	int zero = 0;

	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = req->nlmsg_seq;
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(zero)), &zero, sizeof(zero));
	out_done(o, nlh);
}

/* --- bookkeeping ------------------------------------------------------- */

void fake_binder_log(struct fake_binder *fb, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (fb->n_log < FB_LOG_MAX)
		fb->log[fb->n_log] = strdup(line);
	fb->n_log++;
	if (fb->obs)
		fb->obs(line, fb->obs_ud);
}

static struct fb_nic *nic_get(struct fake_binder *fb, int ifindex, bool create)
{
	for (size_t i = 0; i < fb->n_nics; i++)
		if (fb->nics[i].ifindex == ifindex)
			return &fb->nics[i];
	if (!create || fb->n_nics == FB_MAX_NICS)
		return NULL;
	memset(&fb->nics[fb->n_nics], 0, sizeof(fb->nics[0]));
	fb->nics[fb->n_nics].ifindex = ifindex;
	return &fb->nics[fb->n_nics++];
}

static struct binder_binding *binding_get(struct fake_binder *fb, uint32_t id)
{
	for (size_t i = 0; i < fb->n_b; i++)
		if (fb->b[i].id == id)
			return &fb->b[i];
	return NULL;
}

static void binding_del(struct fake_binder *fb, struct binder_binding *b)
{
	size_t i = (size_t)(b - fb->b);

	memmove(&fb->b[i], &fb->b[i + 1], (fb->n_b - i - 1) * sizeof(fb->b[0]));
	fb->n_b--;
}

static void notify_all(struct fake_binder *fb, const struct nlmsghdr *nlh)
{
	for (size_t i = 0; i < fb->n_clients; i++)
		if (fb->clients[i].listener)
			(void)send(fb->clients[i].fd, nlh, nlh->nlmsg_len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void notify_state(struct fake_binder *fb, uint32_t id, enum binder_state st, int reason)
{
	uint64_t buf[64];
	struct nlmsghdr *nlh = binder_msg_start(buf, sizeof(buf), FAKE_BINDER_FAMILY_ID, 0, 0,
						VHOST_ZCRX_CMD_STATE_NTF,
						VHOST_ZCRX_FAMILY_VERSION);

	binder_msg_put_state_ntf(nlh, sizeof(buf), id, st, reason);
	notify_all(fb, nlh);
}

/* The controller's description of a family (GETFAMILY reply, NEWFAMILY). */
static void put_family(struct nlmsghdr *nlh, size_t size, bool ours)
{
	struct nlattr *ops, *op, *grps, *grp;

	if (!ours) {
		mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, GENL_ID_CTRL);
		mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "nlctrl");
		mnl_attr_put_u32(nlh, CTRL_ATTR_VERSION, 2);
		grps = mnl_attr_nest_start(nlh, CTRL_ATTR_MCAST_GROUPS);
		grp = mnl_attr_nest_start(nlh, 1);
		mnl_attr_put_strz(nlh, CTRL_ATTR_MCAST_GRP_NAME, "notify");
		mnl_attr_put_u32(nlh, CTRL_ATTR_MCAST_GRP_ID, GENL_ID_CTRL);
		mnl_attr_nest_end(nlh, grp);
		mnl_attr_nest_end(nlh, grps);
		return;
	}
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, FAKE_BINDER_FAMILY_ID);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, VHOST_ZCRX_FAMILY_NAME);
	mnl_attr_put_u32(nlh, CTRL_ATTR_VERSION, VHOST_ZCRX_FAMILY_VERSION);
	mnl_attr_put_u32(nlh, CTRL_ATTR_HDRSIZE, 0);
	mnl_attr_put_u32(nlh, CTRL_ATTR_MAXATTR, VHOST_ZCRX_A_MAX);
	ops = mnl_attr_nest_start(nlh, CTRL_ATTR_OPS);
	for (uint32_t cmd = VHOST_ZCRX_CMD_PROBE; cmd <= VHOST_ZCRX_CMD_GET; cmd++) {
		uint32_t fl = GENL_CMD_CAP_DO | GENL_CMD_CAP_HASPOL;

		if (cmd == VHOST_ZCRX_CMD_BIND || cmd == VHOST_ZCRX_CMD_UNBIND)
			fl |= GENL_ADMIN_PERM;
		if (cmd == VHOST_ZCRX_CMD_GET)
			fl |= GENL_CMD_CAP_DUMP;
		op = mnl_attr_nest_start(nlh, (uint16_t)cmd);
		mnl_attr_put_u32(nlh, CTRL_ATTR_OP_ID, cmd);
		mnl_attr_put_u32(nlh, CTRL_ATTR_OP_FLAGS, fl);
		mnl_attr_nest_end(nlh, op);
	}
	mnl_attr_nest_end(nlh, ops);
	grps = mnl_attr_nest_start(nlh, CTRL_ATTR_MCAST_GROUPS);
	grp = mnl_attr_nest_start(nlh, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_MCAST_GRP_NAME, VHOST_ZCRX_MCGRP_EVENTS);
	mnl_attr_put_u32(nlh, CTRL_ATTR_MCAST_GRP_ID, FAKE_BINDER_EVENTS_GROUP);
	mnl_attr_nest_end(nlh, grp);
	mnl_attr_nest_end(nlh, grps);
	(void)size;
}

static void notify_family(struct fake_binder *fb, bool added)
{
	uint64_t buf[256];
	struct nlmsghdr *nlh = binder_msg_start(buf, sizeof(buf), GENL_ID_CTRL, 0, 0,
						added ? CTRL_CMD_NEWFAMILY : CTRL_CMD_DELFAMILY, 2);

	put_family(nlh, sizeof(buf), true);
	notify_all(fb, nlh);
}

static bool link_exists(int ifindex)
{
	char name[IF_NAMESIZE];

	return if_indextoname((unsigned)ifindex, name) != NULL;
}

static uint64_t features_of(struct fake_binder *fb, int ifindex)
{
	struct fb_nic *n = nic_get(fb, ifindex, false);

	return n && n->has_features ? n->features : fb->features;
}

/* --- requests ------------------------------------------------------------ */

static void handle_ctrl(struct fake_binder *fb, struct out *o, const struct nlmsghdr *req)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(req);
	struct nlmsghdr *nlh;
	const char *name;
	bool ours;

	if (mnl_nlmsg_get_payload_len(req) < sizeof(*g) || g->cmd != CTRL_CMD_GETFAMILY) {
		out_ack(o, req, EOPNOTSUPP, NULL, 0, 0);
		return;
	}
	genl_attrs_msg(req, sizeof(*g), tb, CTRL_ATTR_MAX);
	name = genl_attr_str(tb[CTRL_ATTR_FAMILY_NAME]);
	ours = name && strcmp(name, VHOST_ZCRX_FAMILY_NAME) == 0;
	if (!name || (!ours && strcmp(name, "nlctrl") != 0) || (ours && !fb->present)) {
		fake_binder_log(fb, "GETFAMILY %s -> ENOENT", name ? name : "?");
		out_ack(o, req, ENOENT, NULL, 0, 0);
		return;
	}
	fake_binder_log(fb, "GETFAMILY %s", name);
	nlh = out_msg(o, GENL_ID_CTRL, 0, req->nlmsg_seq, CTRL_CMD_NEWFAMILY);
	put_family(nlh, out_room(o), ours);
	out_done(o, nlh);
	if (req->nlmsg_flags & NLM_F_ACK)
		out_ack(o, req, 0, NULL, 0, 0);
}

static int check_nic(struct fake_binder *fb, int ifindex, char *msg, size_t size)
{
	struct fb_nic *n = nic_get(fb, ifindex, false);

	if (fb->o.check_links && !link_exists(ifindex)) {
		snprintf(msg, size, "no such device");
		return ENODEV;
	}
	if (n && n->refuse_err) {
		snprintf(msg, size, "%s", n->refuse_msg);
		return n->refuse_err;
	}
	return 0;
}

int fake_binder_do_bind(struct fake_binder *fb, const struct binder_msg_request *q, char *msg,
			size_t size, uint32_t *ret_id)
{
	uint32_t max = fb->o.max_bindings ? fb->o.max_bindings : 64;
	struct binder_binding *b;
	unsigned on_nic = 0;
	int e;

	e = check_nic(fb, (int)q->ifindex, msg, size);
	if (e)
		return e;
	if (fb->o.check_links && !link_exists((int)q->tap_ifindex)) {
		snprintf(msg, size, "no such tap device");
		return ENODEV;
	}
	if (fb->refuse_next_err) {
		e = fb->refuse_next_err;
		snprintf(msg, size, "%s", fb->refuse_next_msg);
		fb->refuse_next_err = 0;
		return e;
	}
	for (size_t i = 0; i < fb->n_b; i++) {
		if (fb->b[i].ifindex == (int)q->ifindex && fb->b[i].queue == q->queue) {
			snprintf(msg, size, "queue %u already bound (binding %u)", q->queue,
				 fb->b[i].id);
			return EEXIST;
		}
		on_nic += fb->b[i].ifindex == (int)q->ifindex;
	}
	if (on_nic >= max || fb->n_b == FB_MAX_BINDINGS) {
		snprintf(msg, size, "no more bindings on this device");
		return ENOSPC;
	}
	if (q->fallback == VHOST_ZCRX_FALLBACK_COPY &&
	    !(features_of(fb, (int)q->ifindex) & VHOST_ZCRX_F_COPY_FALLBACK)) {
		snprintf(msg, size, "copy fallback not supported on this device");
		return EOPNOTSUPP;
	}
	if (fb->check) {
		e = fb->check((int)q->ifindex, q->queue, (int)q->tap_ifindex, msg, size, fb->check_ud);
		if (e)
			return e;
	}
	b = &fb->b[fb->n_b++];
	memset(b, 0, sizeof(*b));
	b->id = fb->next_id++;
	if (!fb->next_id)
		fb->next_id = 1;
	b->ifindex = (int)q->ifindex;
	b->queue = q->queue;
	b->tap_ifindex = (int)q->tap_ifindex;
	b->fallback = q->fallback;
	b->state = BINDER_STATE_PENDING;
	b->has_stats = true;
	*ret_id = b->id;
	return 0;
}

static void handle_vhost(struct fake_binder *fb, struct out *o, const struct nlmsghdr *req)
{
	bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	struct binder_msg_request q;
	struct binder_binding *b;
	struct nlmsghdr *nlh;
	struct kerror err;
	char msg[160] = "";
	uint32_t id;
	int r, e;

	if (!fb->present) {
		out_ack(o, req, ENOENT, NULL, 0, 0);
		return;
	}
	r = binder_msg_parse_request(req, dump, &q, &err);
	if (r < 0) {
		fake_binder_log(fb, "cmd %u -> %s (%s)", q.cmd, kerror_errno_name(r), err.msg);
		out_ack(o, req, -r, err.msg, q.bad_offset, q.missing_type);
		return;
	}
	switch (q.cmd) {
	case VHOST_ZCRX_CMD_PROBE: {
		struct binder_probe p = {
			.features = features_of(fb, (int)q.ifindex),
			.max_bindings = fb->o.max_bindings ? fb->o.max_bindings : 64,
		};

		e = check_nic(fb, (int)q.ifindex, msg, sizeof(msg));
		fake_binder_log(fb, "PROBE %u -> %s", q.ifindex, e ? kerror_errno_name(e) : "ok");
		if (e) {
			out_ack(o, req, e, msg, 0, 0);
			return;
		}
		nlh = out_msg(o, FAKE_BINDER_FAMILY_ID, 0, req->nlmsg_seq, q.cmd);
		binder_msg_put_probe_reply(nlh, out_room(o), (int)q.ifindex, &p);
		out_done(o, nlh);
		break;
	}
	case VHOST_ZCRX_CMD_BIND:
		e = fake_binder_do_bind(fb, &q, msg, sizeof(msg), &id);
		if (e) {
			fake_binder_log(fb, "BIND ifindex=%u queue=%u tap=%u fallback=%s -> %s", q.ifindex,
			       q.queue, q.tap_ifindex, binder_fallback_name(q.fallback),
			       kerror_errno_name(e));
			out_ack(o, req, e, msg, 0, 0);
			return;
		}
		fake_binder_log(fb, "BIND ifindex=%u queue=%u tap=%u fallback=%s -> %u", q.ifindex, q.queue,
		       q.tap_ifindex, binder_fallback_name(q.fallback), id);
		nlh = out_msg(o, FAKE_BINDER_FAMILY_ID, 0, req->nlmsg_seq, q.cmd);
		binder_msg_put_bind_reply(nlh, out_room(o), id);
		out_done(o, nlh);
		if (req->nlmsg_flags & NLM_F_ACK)
			out_ack(o, req, 0, NULL, 0, 0);
		/* The reply goes out before the state change, as a module would. */
		out_flush(o);
		if (fb->o.auto_active) {
			binding_get(fb, id)->state = BINDER_STATE_ACTIVE;
			notify_state(fb, id, BINDER_STATE_ACTIVE, 0);
		}
		return;
	case VHOST_ZCRX_CMD_UNBIND:
		b = binding_get(fb, q.binding_id);
		fake_binder_log(fb, "UNBIND %u -> %s", q.binding_id, b ? "ok" : "ENOENT");
		if (!b) {
			out_ack(o, req, ENOENT, "no such binding", 0, 0);
			return;
		}
		binding_del(fb, b);
		break;
	case VHOST_ZCRX_CMD_GET:
		if (dump) {
			fake_binder_log(fb, "DUMP -> %zu", fb->n_b);
			for (size_t i = 0; i < fb->n_b; i++) {
				nlh = out_msg(o, FAKE_BINDER_FAMILY_ID, NLM_F_MULTI, req->nlmsg_seq,
					      q.cmd);
				binder_msg_put_binding(nlh, out_room(o), &fb->b[i]);
				out_done(o, nlh);
			}
			out_done_dump(o, req);
			return;
		}
		b = binding_get(fb, q.binding_id);
		fake_binder_log(fb, "GET %u -> %s", q.binding_id, b ? "ok" : "ENOENT");
		if (!b) {
			out_ack(o, req, ENOENT, "no such binding", 0, 0);
			return;
		}
		nlh = out_msg(o, FAKE_BINDER_FAMILY_ID, 0, req->nlmsg_seq, q.cmd);
		binder_msg_put_binding(nlh, out_room(o), b);
		out_done(o, nlh);
		break;
	}
	if (req->nlmsg_flags & NLM_F_ACK)
		out_ack(o, req, 0, NULL, 0, 0);
}

static void handle(struct fake_binder *fb, struct fb_client *c, const struct nlmsghdr *req)
{
	struct out o = { .fb = fb, .fd = c->fd };

	if (req->nlmsg_type == NLMSG_NOOP) {
		/* the listener handshake (binder-vhost.h) */
		c->listener = true;
		if (req->nlmsg_flags & NLM_F_ACK)
			out_ack(&o, req, 0, NULL, 0, 0);
	} else if (req->nlmsg_type == GENL_ID_CTRL) {
		handle_ctrl(fb, &o, req);
	} else if (req->nlmsg_type == FAKE_BINDER_FAMILY_ID) {
		handle_vhost(fb, &o, req);
	} else {
		out_ack(&o, req, ENOENT, NULL, 0, 0); /* no such family id */
	}
	out_flush(&o);
}

/* --- serving ------------------------------------------------------------- */

static void client_del(struct fake_binder *fb, size_t i)
{
	close(fb->clients[i].fd);
	fb->clients[i] = fb->clients[--fb->n_clients];
}

static void on_client(struct fake_binder *fb, size_t i)
{
	const struct nlmsghdr *nlh;
	ssize_t n;
	size_t off = 0;

	n = recv(fb->clients[i].fd, fb->in, sizeof(fb->in), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_del(fb, i);
		return;
	}
	while (off + NLMSG_HDRLEN <= (size_t)n) {
		nlh = (const struct nlmsghdr *)((const uint8_t *)fb->in + off);
		if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > (size_t)n - off)
			break;
		handle(fb, &fb->clients[i], nlh);
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
}

static int link_gone_locked(struct fake_binder *fb, int ifindex)
{
	int n = 0;

	for (size_t i = 0; i < fb->n_b;) {
		struct binder_binding *b = &fb->b[i];

		if (b->ifindex != ifindex && b->tap_ifindex != ifindex) {
			i++;
			continue;
		}
		fake_binder_log(fb, "TEARDOWN %u (ifindex %d gone)", b->id, ifindex);
		notify_state(fb, b->id, BINDER_STATE_BROKEN, ENODEV);
		binding_del(fb, b);
		n++;
	}
	return n;
}

static void on_rtnl(struct fake_binder *fb)
{
	uint64_t buf[4096];
	const struct nlmsghdr *nlh;
	ssize_t n;
	int left;

	n = recv(fb->rtnl_fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n <= 0)
		return;
	nlh = (const struct nlmsghdr *)buf;
	for (left = (int)n; mnl_nlmsg_ok(nlh, left) && nlh->nlmsg_len <= (uint32_t)left;
	     nlh = mnl_nlmsg_next(nlh, &left)) {
		const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

		if (nlh->nlmsg_type != RTM_DELLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
			continue;
		link_gone_locked(fb, ifi->ifi_index);
	}
}

int fake_binder_serve(struct fake_binder *fb, int timeout_ms)
{
	struct pollfd p[FB_MAX_CLIENTS + 3];
	size_t n = 0, n_clients;
	int r;

	pthread_mutex_lock(&fb->lock);
	p[n++] = (struct pollfd){ .fd = fb->wake[0], .events = POLLIN };
	p[n++] = (struct pollfd){ .fd = fb->listen_fd, .events = POLLIN };
	p[n++] = (struct pollfd){ .fd = fb->rtnl_fd, .events = POLLIN };
	n_clients = fb->n_clients;
	for (size_t i = 0; i < n_clients; i++)
		p[n++] = (struct pollfd){ .fd = fb->clients[i].fd, .events = POLLIN };
	pthread_mutex_unlock(&fb->lock);

	r = poll(p, n, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[0].revents)
		return 1; /* asked to stop */
	pthread_mutex_lock(&fb->lock);
	/* clients first (indexes are only valid before an accept or delete) */
	for (size_t i = n_clients; i-- > 0;)
		if (p[3 + i].revents && i < fb->n_clients && fb->clients[i].fd == p[3 + i].fd)
			on_client(fb, i);
	if (p[2].revents)
		on_rtnl(fb);
	if (p[1].revents) {
		int fd = accept4(fb->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0 && fb->n_clients < FB_MAX_CLIENTS)
			fb->clients[fb->n_clients++] = (struct fb_client){ .fd = fd };
		else if (fd >= 0)
			close(fd);
	}
	pthread_mutex_unlock(&fb->lock);
	return 0;
}

static void *serve_thread(void *arg)
{
	struct fake_binder *fb = arg;

	while (fake_binder_serve(fb, -1) == 0)
		;
	return NULL;
}

int fake_binder_start(struct fake_binder *fb)
{
	int r = pthread_create(&fb->thread, NULL, serve_thread, fb);

	if (r)
		return -r;
	fb->thread_running = true;
	return 0;
}

int fake_binder_new(const char *path, const struct fake_binder_options *o, struct fake_binder **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fake_binder *fb;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fb = calloc(1, sizeof(*fb));
	if (!fb)
		return -ENOMEM;
	pthread_mutex_init(&fb->lock, NULL);
	if (o)
		fb->o = *o;
	fb->features = fb->o.features || fb->o.no_features_set
			       ? fb->o.features
			       : VHOST_ZCRX_F_NEEDS_HDS | VHOST_ZCRX_F_COPY_FALLBACK;
	fb->present = !fb->o.absent;
	fb->next_id = 1;
	fb->rtnl_fd = -1;
	fb->wake[0] = fb->wake[1] = -1;
	snprintf(fb->path, sizeof(fb->path), "%s", path);
	strcpy(sa.sun_path, path);
	fb->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fb->listen_fd < 0)
		goto fail_errno;
	(void)unlink(path);
	if (bind(fb->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fb->listen_fd, 16) < 0)
		goto fail_errno;
	if (pipe2(fb->wake, O_CLOEXEC) < 0)
		goto fail_errno;
	if (fb->o.watch_links) {
		struct sockaddr_nl snl = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };

		fb->rtnl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
		if (fb->rtnl_fd < 0 || bind(fb->rtnl_fd, (struct sockaddr *)&snl, sizeof(snl)) < 0)
			goto fail_errno;
	}
	*ret = fb;
	return 0;
fail_errno:
	r = -errno;
	fake_binder_free(fb);
	return r;
}

int fake_binder_new_tmp(const char *tag, const struct fake_binder_options *o,
			struct fake_binder **ret)
{
	char dir[64], path[128];
	int r;

	if ((size_t)snprintf(dir, sizeof(dir), "/tmp/zxb-%s-XXXXXX", tag) >= sizeof(dir))
		return -ENAMETOOLONG;
	if (!mkdtemp(dir))
		return -errno;
	snprintf(path, sizeof(path), "%s/vhost_zcrx.sock", dir);
	r = fake_binder_new(path, o, ret);
	if (r < 0) {
		(void)rmdir(dir);
		return r;
	}
	snprintf((*ret)->tmpdir, sizeof((*ret)->tmpdir), "%s", dir);
	return 0;
}

struct fake_binder *fake_binder_free(struct fake_binder *fb)
{
	if (!fb)
		return NULL;
	if (fb->thread_running) {
		(void)!write(fb->wake[1], "x", 1);
		pthread_join(fb->thread, NULL);
	}
	while (fb->n_clients)
		client_del(fb, fb->n_clients - 1);
	if (fb->listen_fd >= 0) {
		close(fb->listen_fd);
		(void)unlink(fb->path);
	}
	if (fb->rtnl_fd >= 0)
		close(fb->rtnl_fd);
	if (fb->wake[0] >= 0)
		close(fb->wake[0]);
	if (fb->wake[1] >= 0)
		close(fb->wake[1]);
	for (unsigned i = 0; i < fb->n_log && i < FB_LOG_MAX; i++)
		free(fb->log[i]);
	if (fb->tmpdir[0])
		(void)rmdir(fb->tmpdir);
	pthread_mutex_destroy(&fb->lock);
	free(fb);
	return NULL;
}

const char *fake_binder_path(const struct fake_binder *fb)
{
	return fb->path;
}

int fake_binder_connect(struct fake_binder *fb, struct binder_vhost **ret)
{
	return binder_vhost_new_unix(fb->path, ret);
}

/* --- control --------------------------------------------------------------- */

void fake_binder_set_present(struct fake_binder *fb, bool present)
{
	pthread_mutex_lock(&fb->lock);
	if (fb->present != present) {
		fb->present = present;
		if (!present)
			fb->n_b = 0; /* module unloaded: its bindings are gone */
		fake_binder_log(fb, "%s", present ? "REGISTER" : "UNREGISTER");
		notify_family(fb, present);
	}
	pthread_mutex_unlock(&fb->lock);
}

void fake_binder_refuse_next_bind(struct fake_binder *fb, int err, const char *msg)
{
	pthread_mutex_lock(&fb->lock);
	fb->refuse_next_err = err;
	snprintf(fb->refuse_next_msg, sizeof(fb->refuse_next_msg), "%s", msg ? msg : "");
	pthread_mutex_unlock(&fb->lock);
}

void fake_binder_refuse_nic(struct fake_binder *fb, int ifindex, int err, const char *msg)
{
	struct fb_nic *n;

	pthread_mutex_lock(&fb->lock);
	n = nic_get(fb, ifindex, true);
	if (n) {
		n->refuse_err = err;
		snprintf(n->refuse_msg, sizeof(n->refuse_msg), "%s", msg ? msg : "");
	}
	pthread_mutex_unlock(&fb->lock);
}

void fake_binder_set_features(struct fake_binder *fb, int ifindex, uint64_t features)
{
	struct fb_nic *n;

	pthread_mutex_lock(&fb->lock);
	if (ifindex == 0) {
		fb->features = features;
	} else if ((n = nic_get(fb, ifindex, true))) {
		n->has_features = true;
		n->features = features;
	}
	pthread_mutex_unlock(&fb->lock);
}

void fake_binder_set_auto_active(struct fake_binder *fb, bool on)
{
	pthread_mutex_lock(&fb->lock);
	fb->o.auto_active = on;
	pthread_mutex_unlock(&fb->lock);
}

int fake_binder_set_state(struct fake_binder *fb, uint32_t id, enum binder_state state, int reason)
{
	struct binder_binding *b;
	int r = 0;

	pthread_mutex_lock(&fb->lock);
	b = binding_get(fb, id);
	if (!b) {
		r = -ENOENT;
	} else if (state == BINDER_STATE_BROKEN && reason == ENODEV) {
		/* by the ABI that means torn down */
		fake_binder_log(fb, "TEARDOWN %u", id);
		notify_state(fb, id, state, reason);
		binding_del(fb, b);
	} else {
		b->state = state;
		b->reason = reason;
		fake_binder_log(fb, "STATE %u %s %d", id, binder_state_name(state), reason);
		notify_state(fb, id, state, reason);
	}
	pthread_mutex_unlock(&fb->lock);
	return r;
}

int fake_binder_set_stats(struct fake_binder *fb, uint32_t id, const struct binder_stats *s)
{
	struct binder_binding *b;
	int r = 0;

	pthread_mutex_lock(&fb->lock);
	b = binding_get(fb, id);
	if (b) {
		b->stats = *s;
		b->has_stats = true;
	} else {
		r = -ENOENT;
	}
	pthread_mutex_unlock(&fb->lock);
	return r;
}

int fake_binder_link_gone(struct fake_binder *fb, int ifindex)
{
	int n;

	pthread_mutex_lock(&fb->lock);
	n = link_gone_locked(fb, ifindex);
	pthread_mutex_unlock(&fb->lock);
	return n;
}

size_t fake_binder_bindings(struct fake_binder *fb, struct binder_binding *v, size_t max)
{
	size_t n;

	pthread_mutex_lock(&fb->lock);
	n = fb->n_b;
	if (v)
		memcpy(v, fb->b, (n < max ? n : max) * sizeof(*v));
	pthread_mutex_unlock(&fb->lock);
	return n;
}

void fake_binder_set_bind_check(struct fake_binder *fb, fake_binder_bind_check_fn fn,
				void *userdata)
{
	pthread_mutex_lock(&fb->lock);
	fb->check = fn;
	fb->check_ud = userdata;
	pthread_mutex_unlock(&fb->lock);
}

void fake_binder_set_observer(struct fake_binder *fb, fake_binder_observer_fn fn, void *userdata)
{
	pthread_mutex_lock(&fb->lock);
	fb->obs = fn;
	fb->obs_ud = userdata;
	pthread_mutex_unlock(&fb->lock);
}

unsigned fake_binder_request_count(struct fake_binder *fb)
{
	unsigned n;

	pthread_mutex_lock(&fb->lock);
	n = fb->n_log;
	pthread_mutex_unlock(&fb->lock);
	return n;
}
