// SPDX-License-Identifier: MIT
/*
 * binder-vhost — struct binder_ops over the vhost_zcrx generic netlink
 * family (binder-vhost.h).
 *
 * Owns: the request and notification sockets of the binder, the family's
 * resolution and its appearance/disappearance, and turning replies and
 * notifications into binder.h structs and events.  Must not: decide
 * anything about attachments; log above debug.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "binder-msg.h"
#include "binder-vhost.h"
#include "genl.h"
#include "log.h"
#include "vhost_zcrx.h"

/* How long a fake module (unix transport) may take to answer. */
#define UNIX_REPLY_TIMEOUT_MS 5000

struct binder_vhost {
	/* NETLINK_GENERIC transport */
	struct genl_sock *req, *ntf;
	/* unix transport (tests): both -1 in production */
	int req_fd, ntf_fd;
	char transport[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	uint32_t seq;
	uint64_t tx[GENL_MSG_MAX / sizeof(uint64_t)];
	uint64_t rx[GENL_RX_MAX / sizeof(uint64_t)];

	bool ctrl_joined;
	bool resolved;
	bool events_joined;
	uint32_t events_group;
	struct genl_family fam;
	struct binder_vhost_counters c;
};

/* What a request's reply callback fills in. */
struct reply_ctx {
	struct binder_vhost *bv;
	/* Parses one reply into u (reply_cb); returns -errno with perr set. */
	int (*parse)(const struct nlmsghdr *nlh, struct reply_ctx *ctx);
	struct kerror perr; /* why a reply was refused (genl_process drops cb text) */
	union {
		struct genl_family fam;
		struct {
			int ifindex;
			struct binder_probe probe;
		} probe;
		uint32_t id;
		struct binder_binding binding;
		struct {
			struct binder_binding *v;
			size_t n, cap;
		} dump;
	} u;
	bool got;
};

static int absent(struct kerror *err, const char *op)
{
	return kerror_set(err, ENOENT, NULL, op, BINDER_ABSENT_MSG);
}

/* --- transport --------------------------------------------------------- */

static struct nlmsghdr *msg_start(struct binder_vhost *bv, uint16_t type, uint16_t flags,
				  uint8_t cmd, uint8_t version)
{
	if (bv->req)
		return genl_msg_start(bv->req, type, flags, cmd, version);
	return binder_msg_start(bv->tx, sizeof(bv->tx), type, NLM_F_REQUEST | flags, 0, cmd,
				version);
}

/* Every message of a datagram lies within it.  libmnl's own check compares
 * (int)nlmsg_len and lets a length near 2^32 through, after which its walk
 * does not advance; the kernel never sends that, a peer over unix might. */
static bool datagram_sane(const void *buf, size_t n)
{
	const struct nlmsghdr *nlh = buf;
	size_t off = 0;

	while (off + NLMSG_HDRLEN <= n) {
		nlh = (const struct nlmsghdr *)((const char *)buf + off);
		if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > n - off)
			return false;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	return true;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* genl_request() for the unix transport: the same processing of replies. */
static int unix_request(struct binder_vhost *bv, struct nlmsghdr *nlh, genl_msg_cb cb, void *data,
			struct kerror *err)
{
	int64_t deadline = now_ms() + UNIX_REPLY_TIMEOUT_MS;
	struct genl_reply rep = { .req = nlh, .cb = cb, .data = data, .err = err };
	int r;

	kerror_clear(err);
	nlh->nlmsg_seq = ++bv->seq;
	if (!nlh->nlmsg_seq)
		nlh->nlmsg_seq = ++bv->seq;
	if (send(bv->req_fd, nlh, nlh->nlmsg_len, MSG_NOSIGNAL) < 0)
		return kerror_set(err, errno, NULL, NULL, "cannot reach the fake module");
	for (;;) {
		struct pollfd p = { .fd = bv->req_fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return kerror_set(err, ETIMEDOUT, NULL, NULL, "no answer from the fake module");
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return kerror_set(err, errno, NULL, NULL, NULL);
		if (r == 0)
			continue;
		n = recv(bv->req_fd, bv->rx, sizeof(bv->rx), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kerror_set(err, errno, NULL, NULL, NULL);
		if (n == 0)
			return kerror_set(err, ECONNRESET, NULL, NULL, "the fake module went away");
		if (!datagram_sane(bv->rx, (size_t)n))
			return kerror_set(err, EBADMSG, NULL, NULL, "malformed netlink datagram");
		if (genl_reply_feed(&rep, bv->rx, (size_t)n))
			return rep.result;
	}
}

/* A reply to a request that expects one: ctx->parse takes it apart; a
 * reply it refuses counts as a bad message. */
static int reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reply_ctx *ctx = data;
	int r = ctx->parse(nlh, ctx);

	if (r < 0) {
		ctx->bv->c.bad_messages++;
		return r;
	}
	ctx->got = true;
	return 0;
}

static int request(struct binder_vhost *bv, struct nlmsghdr *nlh, genl_msg_cb cb,
		   struct reply_ctx *ctx, const char *op, struct kerror *err)
{
	int r;

	bv->c.requests++;
	if (bv->req)
		r = genl_request(bv->req, nlh, cb, ctx, err);
	else
		r = unix_request(bv, nlh, cb, ctx, err);
	if (r < 0) {
		/* A reply we refused: keep the parser's text, not genl's bare errno. */
		if (err && ctx && ctx->perr.err && -r == ctx->perr.err)
			*err = ctx->perr;
		else if (!(r == -ENOENT && nlh->nlmsg_type == GENL_ID_CTRL))
			bv->c.errors++; /* an absent family is not an error */
		kerror_context(err, NULL, op);
		log_debug(LOG_SUBSYS_BINDER, "%s: %s (%s)", op,
			  err && err->msg[0] ? err->msg : strerror(-r), kerror_errno_name(-r));
	}
	return r;
}

static int join(struct binder_vhost *bv, uint32_t group)
{
	if (bv->ntf)
		return genl_join(bv->ntf, group);
	return 0; /* unix: the listener connection gets every notification */
}

/* --- families ------------------------------------------------------------ */

static int parse_family(const struct nlmsghdr *nlh, struct reply_ctx *ctx)
{
	if (genl_parse_family(nlh, &ctx->u.fam) < 0)
		return kerror_set(&ctx->perr, EBADMSG, NULL, NULL, "malformed controller reply");
	return 0;
}

static int get_family(struct binder_vhost *bv, const char *name, struct genl_family *ret,
		      struct kerror *err)
{
	struct reply_ctx ctx = { .bv = bv, .parse = parse_family };
	struct nlmsghdr *nlh;
	int r;

	nlh = msg_start(bv, GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
	r = request(bv, nlh, reply_cb, &ctx, "resolve family", err);
	if (r == 0 && (!ctx.got || ctx.u.fam.id == 0))
		r = kerror_set(err, ENOENT, NULL, "resolve family", NULL);
	if (r < 0)
		return r;
	*ret = ctx.u.fam;
	return 0;
}

/* Take fam as the vhost_zcrx family: check it and join its events group. */
static int adopt_family(struct binder_vhost *bv, const struct genl_family *fam,
			struct kerror *err)
{
	static const uint8_t needed[] = { VHOST_ZCRX_CMD_PROBE, VHOST_ZCRX_CMD_BIND,
					  VHOST_ZCRX_CMD_UNBIND, VHOST_ZCRX_CMD_GET };
	bool any_ops = false;
	int64_t group;
	int r;

	if (fam->version < VHOST_ZCRX_FAMILY_VERSION)
		return kerror_setf(err, EPROTONOSUPPORT, NULL, "resolve vhost_zcrx",
				   "module speaks version %u, zcrxd needs %d", fam->version,
				   VHOST_ZCRX_FAMILY_VERSION);
	for (size_t i = 0; i < sizeof(fam->ops) / sizeof(fam->ops[0]); i++)
		any_ops |= fam->ops[i] != 0;
	for (size_t i = 0; any_ops && i < sizeof(needed); i++)
		if (!genl_family_has_op(fam, needed[i]))
			return kerror_setf(err, EOPNOTSUPP, NULL, "resolve vhost_zcrx",
					   "module lacks command %u", needed[i]);
	group = genl_family_group(fam, VHOST_ZCRX_MCGRP_EVENTS);
	if (group < 0)
		return kerror_set(err, EPROTO, NULL, "resolve vhost_zcrx",
				  "module has no \"events\" multicast group");
	if (!bv->events_joined || bv->events_group != (uint32_t)group || bv->fam.id != fam->id) {
		r = join(bv, (uint32_t)group);
		if (r < 0)
			return kerror_set(err, -r, NULL, "join vhost_zcrx events", NULL);
		bv->events_joined = true;
		bv->events_group = (uint32_t)group;
	}
	bv->fam = *fam;
	bv->resolved = true;
	return 0;
}

static void forget_family(struct binder_vhost *bv)
{
	/* The kernel drops the memberships of an unregistered family. */
	bv->resolved = false;
	bv->events_joined = false;
	memset(&bv->fam, 0, sizeof(bv->fam));
}

/* Listen to the controller's "notify" group (families coming and going). */
static int join_ctrl(struct binder_vhost *bv)
{
	struct genl_family ctrl;
	struct kerror err;
	int64_t group;
	int r;

	if (!bv->ntf) {
		bv->ctrl_joined = true;
		return 0;
	}
	r = get_family(bv, "nlctrl", &ctrl, &err);
	if (r < 0)
		return r;
	group = genl_family_group(&ctrl, "notify");
	if (group < 0)
		return (int)group;
	r = genl_join(bv->ntf, (uint32_t)group);
	if (r < 0)
		return r;
	bv->ctrl_joined = true;
	return 0;
}

/* --- construction ---------------------------------------------------------- */

static struct binder_vhost *alloc_bv(void)
{
	struct binder_vhost *bv = calloc(1, sizeof(*bv));

	if (!bv)
		return NULL;
	bv->req_fd = -1;
	bv->ntf_fd = -1;
	return bv;
}

int binder_vhost_new(struct binder_vhost **ret)
{
	struct binder_vhost *bv = alloc_bv();
	int r;

	if (!bv)
		return -ENOMEM;
	snprintf(bv->transport, sizeof(bv->transport), "netlink");
	r = genl_sock_open(NETLINK_GENERIC, 0, &bv->req);
	if (r < 0)
		goto fail;
	r = genl_sock_open(NETLINK_GENERIC, GENL_SOCK_NONBLOCK, &bv->ntf);
	if (r < 0)
		goto fail;
	(void)genl_sock_set_rcvbuf(bv->ntf, 1 << 20);
	r = join_ctrl(bv);
	if (r < 0)
		log_debug(LOG_SUBSYS_BINDER, "cannot follow family registrations: %s", strerror(-r));
	*ret = bv;
	return 0;
fail:
	binder_vhost_free(bv);
	return r;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* The listener handshake: NLMSG_NOOP with NLM_F_ACK, answered by an ACK once
 * the fake module has registered the connection for notifications. */
static int unix_subscribe(int fd)
{
	struct nlmsghdr hello = {
		.nlmsg_len = NLMSG_HDRLEN,
		.nlmsg_type = NLMSG_NOOP,
		.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
		.nlmsg_seq = 1,
	};
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint32_t buf[64];
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	struct kerror err;
	ssize_t n;
	int r;

	if (send(fd, &hello, sizeof(hello), MSG_NOSIGNAL) < 0)
		return -errno;
	do
		r = poll(&p, 1, UNIX_REPLY_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return r < 0 ? -errno : -ETIMEDOUT;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	if (!datagram_sane(buf, (size_t)n) || n < (ssize_t)NLMSG_HDRLEN ||
	    nlh->nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return genl_parse_ack(nlh, NULL, &err, NULL, 0);
}

int binder_vhost_new_unix(const char *path, struct binder_vhost **ret)
{
	struct binder_vhost *bv = alloc_bv();
	int r;

	if (!bv)
		return -ENOMEM;
	snprintf(bv->transport, sizeof(bv->transport), "unix:%s", path);
	r = unix_connect(path);
	if (r < 0)
		goto fail;
	bv->req_fd = r;
	r = unix_connect(path);
	if (r < 0)
		goto fail;
	bv->ntf_fd = r;
	r = unix_subscribe(bv->ntf_fd);
	if (r < 0)
		goto fail;
	(void)join_ctrl(bv);
	*ret = bv;
	return 0;
fail:
	binder_vhost_free(bv);
	return r;
}

struct binder_vhost *binder_vhost_free(struct binder_vhost *bv)
{
	if (!bv)
		return NULL;
	genl_sock_close(bv->req);
	genl_sock_close(bv->ntf);
	if (bv->req_fd >= 0)
		close(bv->req_fd);
	if (bv->ntf_fd >= 0)
		close(bv->ntf_fd);
	free(bv);
	return NULL;
}

struct binder_backend binder_vhost_backend(struct binder_vhost *bv)
{
	struct binder_backend b = { .ops = &binder_vhost_ops, .be = bv };

	return b;
}

const struct binder_vhost_counters *binder_vhost_get_counters(const struct binder_vhost *bv)
{
	return &bv->c;
}

const char *binder_vhost_transport(const struct binder_vhost *bv)
{
	return bv->transport;
}

uint16_t binder_vhost_family_id(const struct binder_vhost *bv)
{
	return bv->resolved ? bv->fam.id : 0;
}

/* --- ops ------------------------------------------------------------------- */

static int bv_resolve(void *be, struct kerror *err)
{
	struct binder_vhost *bv = be;
	struct genl_family fam;
	int r;

	kerror_clear(err);
	r = get_family(bv, VHOST_ZCRX_FAMILY_NAME, &fam, err);
	if (r == -ENOENT) {
		forget_family(bv);
		return absent(err, "resolve vhost_zcrx");
	}
	if (r < 0)
		return r;
	return adopt_family(bv, &fam, err);
}

/* Start a command of the vhost_zcrx family in *ret_nlh; -ENOENT while the
 * family is absent. */
static int cmd_start(struct binder_vhost *bv, uint8_t cmd, uint16_t flags, const char *op,
		     struct nlmsghdr **ret_nlh, struct kerror *err)
{
	kerror_clear(err);
	if (!bv->resolved)
		return absent(err, op);
	*ret_nlh = msg_start(bv, bv->fam.id, flags, cmd, VHOST_ZCRX_FAMILY_VERSION);
	return 0;
}

/* Send a command built by cmd_start(); put_r is what writing its attributes
 * returned.  With ctx->parse set, exactly one reply is expected. */
static int call(struct binder_vhost *bv, struct nlmsghdr *nlh, int put_r, struct reply_ctx *ctx,
		const char *op, struct kerror *err)
{
	int r;

	if (put_r < 0)
		return kerror_set(err, EMSGSIZE, NULL, op, NULL);
	r = request(bv, nlh, ctx->parse ? reply_cb : NULL, ctx, op, err);
	if (r < 0 || !ctx->parse)
		return r;
	if (!ctx->got) {
		bv->c.bad_messages++;
		return kerror_set(err, EBADMSG, NULL, op, "the module acknowledged without a reply");
	}
	return 0;
}

static int parse_probe(const struct nlmsghdr *nlh, struct reply_ctx *ctx)
{
	return binder_msg_parse_probe(nlh, &ctx->u.probe.ifindex, &ctx->u.probe.probe, &ctx->perr);
}

static int bv_probe(void *be, int ifindex, struct binder_probe *ret, struct kerror *err)
{
	static const char op[] = "vhost_zcrx probe";
	struct binder_vhost *bv = be;
	struct reply_ctx ctx = { .bv = bv, .parse = parse_probe };
	struct nlmsghdr *nlh;
	int r;

	r = cmd_start(bv, VHOST_ZCRX_CMD_PROBE, NLM_F_ACK, op, &nlh, err);
	if (r < 0)
		return r;
	r = call(bv, nlh, binder_msg_put_probe(nlh, GENL_MSG_MAX, ifindex), &ctx, op, err);
	if (r < 0)
		return r;
	if (ctx.u.probe.ifindex != ifindex) {
		bv->c.bad_messages++;
		return kerror_setf(err, EBADMSG, NULL, op, "reply is about ifindex %d, asked for %d",
				   ctx.u.probe.ifindex, ifindex);
	}
	*ret = ctx.u.probe.probe;
	return 0;
}

static int parse_bind(const struct nlmsghdr *nlh, struct reply_ctx *ctx)
{
	return binder_msg_parse_bind(nlh, &ctx->u.id, &ctx->perr);
}

static int bv_bind(void *be, int ifindex, uint32_t queue, int tap_ifindex, uint32_t fallback,
		   uint32_t *ret_id, struct kerror *err)
{
	static const char op[] = "vhost_zcrx bind";
	struct binder_vhost *bv = be;
	struct reply_ctx ctx = { .bv = bv, .parse = parse_bind };
	struct nlmsghdr *nlh;
	int r;

	r = cmd_start(bv, VHOST_ZCRX_CMD_BIND, NLM_F_ACK, op, &nlh, err);
	if (r < 0)
		return r;
	r = call(bv, nlh,
		 binder_msg_put_bind(nlh, GENL_MSG_MAX, ifindex, queue, tap_ifindex, fallback), &ctx,
		 op, err);
	if (r < 0)
		return r;
	*ret_id = ctx.u.id;
	return 0;
}

static int bv_unbind(void *be, uint32_t id, struct kerror *err)
{
	static const char op[] = "vhost_zcrx unbind";
	struct binder_vhost *bv = be;
	struct reply_ctx ctx = { .bv = bv };
	struct nlmsghdr *nlh;
	int r;

	r = cmd_start(bv, VHOST_ZCRX_CMD_UNBIND, NLM_F_ACK, op, &nlh, err);
	if (r < 0)
		return r;
	return call(bv, nlh, binder_msg_put_binding_id(nlh, GENL_MSG_MAX, id), &ctx, op, err);
}

static int parse_binding(const struct nlmsghdr *nlh, struct reply_ctx *ctx)
{
	return binder_msg_parse_binding(nlh, &ctx->u.binding, &ctx->perr);
}

static int bv_get(void *be, uint32_t id, struct binder_binding *ret, struct kerror *err)
{
	static const char op[] = "vhost_zcrx get";
	struct binder_vhost *bv = be;
	struct reply_ctx ctx = { .bv = bv, .parse = parse_binding };
	struct nlmsghdr *nlh;
	int r;

	r = cmd_start(bv, VHOST_ZCRX_CMD_GET, NLM_F_ACK, op, &nlh, err);
	if (r < 0)
		return r;
	r = call(bv, nlh, binder_msg_put_binding_id(nlh, GENL_MSG_MAX, id), &ctx, op, err);
	if (r < 0)
		return r;
	if (ctx.u.binding.id != id) {
		bv->c.bad_messages++;
		return kerror_setf(err, EBADMSG, NULL, op, "reply is about binding %u, asked for %u",
				   ctx.u.binding.id, id);
	}
	*ret = ctx.u.binding;
	return 0;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reply_ctx *ctx = data;
	struct binder_binding b;
	int r = binder_msg_parse_binding(nlh, &b, &ctx->perr);

	if (r < 0) {
		ctx->bv->c.bad_messages++;
		return r;
	}
	if (ctx->u.dump.n == ctx->u.dump.cap) {
		size_t cap = ctx->u.dump.cap ? ctx->u.dump.cap * 2 : 16;
		struct binder_binding *v = reallocarray(ctx->u.dump.v, cap, sizeof(*v));

		if (!v)
			return kerror_set(&ctx->perr, ENOMEM, NULL, NULL, NULL);
		ctx->u.dump.v = v;
		ctx->u.dump.cap = cap;
	}
	ctx->u.dump.v[ctx->u.dump.n++] = b;
	return 0;
}

static int bv_dump(void *be, struct binder_binding **ret, size_t *ret_n, struct kerror *err)
{
	static const char op[] = "vhost_zcrx dump";
	struct binder_vhost *bv = be;
	struct reply_ctx ctx = { .bv = bv };
	struct nlmsghdr *nlh;
	int r;

	r = cmd_start(bv, VHOST_ZCRX_CMD_GET, NLM_F_DUMP, op, &nlh, err);
	if (r < 0)
		return r;
	/* A malformed binding fails the whole dump: never act on half a picture. */
	r = request(bv, nlh, dump_cb, &ctx, op, err);
	if (r < 0) {
		free(ctx.u.dump.v);
		return r;
	}
	*ret = ctx.u.dump.v;
	*ret_n = ctx.u.dump.n;
	return 0;
}

static int bv_event_fd(void *be)
{
	struct binder_vhost *bv = be;

	if (bv->ntf)
		return genl_sock_fd(bv->ntf);
	return bv->ntf_fd;
}

static bool bv_available(void *be)
{
	return ((struct binder_vhost *)be)->resolved;
}

struct ntf_ctx {
	struct binder_vhost *bv;
	binder_event_fn fn;
	void *userdata;
};

static void emit(struct ntf_ctx *n, enum binder_event_type type)
{
	struct binder_event ev = { .type = type };

	if (n->fn)
		n->fn(&ev, n->userdata);
}

static void on_ctrl(struct ntf_ctx *n, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct binder_vhost *bv = n->bv;
	const struct genlmsghdr *g;
	struct genl_family fam;
	struct kerror err;
	const char *name;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g))
		return;
	g = mnl_nlmsg_get_payload(nlh);
	if (g->cmd != CTRL_CMD_NEWFAMILY && g->cmd != CTRL_CMD_DELFAMILY)
		return;
	genl_attrs_msg(nlh, sizeof(*g), tb, CTRL_ATTR_MAX);
	name = genl_attr_str(tb[CTRL_ATTR_FAMILY_NAME]);
	if (!name || strcmp(name, VHOST_ZCRX_FAMILY_NAME) != 0)
		return;
	if (g->cmd == CTRL_CMD_NEWFAMILY) {
		bv->c.appeared++;
		if (genl_parse_family(nlh, &fam) == 0 && adopt_family(bv, &fam, &err) < 0)
			log_debug(LOG_SUBSYS_BINDER, "vhost_zcrx appeared but: %s", err.msg);
		log_debug(LOG_SUBSYS_BINDER, "vhost_zcrx family registered");
		emit(n, BINDER_EVENT_APPEARED);
	} else {
		bv->c.vanished++;
		forget_family(bv);
		log_debug(LOG_SUBSYS_BINDER, "vhost_zcrx family unregistered");
		emit(n, BINDER_EVENT_VANISHED);
	}
}

static int ntf_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ntf_ctx *n = data;
	struct binder_vhost *bv = n->bv;
	struct binder_event ev;
	struct kerror err;
	int cmd;

	if (nlh->nlmsg_type == GENL_ID_CTRL) {
		on_ctrl(n, nlh);
		return 0;
	}
	if (!bv->resolved || nlh->nlmsg_type != bv->fam.id)
		return 0;
	cmd = binder_msg_cmd(nlh);
	if (cmd != VHOST_ZCRX_CMD_STATE_NTF)
		return 0; /* a later version's notification */
	if (binder_msg_parse_state_ntf(nlh, &ev, &err) < 0) {
		bv->c.bad_messages++;
		log_debug(LOG_SUBSYS_BINDER, "%s", err.msg);
		return 0;
	}
	bv->c.notifications++;
	if (n->fn)
		n->fn(&ev, n->userdata);
	return 0;
}

static int unix_recv_events(struct binder_vhost *bv, struct ntf_ctx *n)
{
	for (;;) {
		ssize_t len = recv(bv->ntf_fd, bv->rx, sizeof(bv->rx), MSG_DONTWAIT);

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (len < 0)
			return -errno;
		if (len == 0)
			return -ECONNRESET;
		if (!datagram_sane(bv->rx, (size_t)len)) {
			bv->c.bad_messages++;
			continue;
		}
		genl_dispatch(bv->rx, (size_t)len, ntf_cb, n);
	}
}

static int bv_process_events(void *be, binder_event_fn fn, void *userdata)
{
	struct binder_vhost *bv = be;
	struct ntf_ctx n = { .bv = bv, .fn = fn, .userdata = userdata };
	int r;

	if (bv->ntf)
		r = genl_sock_recv(bv->ntf, ntf_cb, &n);
	else
		r = unix_recv_events(bv, &n);
	if (r == -ENOBUFS) {
		/* Lost notifications: maybe a NEWFAMILY/DELFAMILY too. */
		bv->c.resyncs++;
		emit(&n, BINDER_EVENT_RESYNC);
		return 0;
	}
	if (r == -ECONNRESET && bv->resolved) {
		/* The fake module is gone: as if the module was unloaded. */
		bv->c.vanished++;
		forget_family(bv);
		emit(&n, BINDER_EVENT_VANISHED);
	}
	return r;
}

const struct binder_ops binder_vhost_ops = {
	.name = "vhost_zcrx",
	.resolve = bv_resolve,
	.probe = bv_probe,
	.bind = bv_bind,
	.unbind = bv_unbind,
	.get = bv_get,
	.dump = bv_dump,
	.event_fd = bv_event_fd,
	.process_events = bv_process_events,
	.available = bv_available,
};
