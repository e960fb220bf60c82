// SPDX-License-Identifier: MIT
/*
 * genl — netlink sockets, requests, extack and family resolution (genl.h).
 * Owns: the receive loop and extack parsing for every netlink user.
 * Must not: know any family's messages or log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "genl.h"

struct genl_sock {
	struct mnl_socket *nl;
	int bus;
	unsigned flags;
	uint32_t portid;
	uint32_t seq;
	void (*tap)(const void *buf, size_t len, void *ud);
	void *tap_ud;
	char warning[KERROR_MSG_MAX];
	uint64_t tx[GENL_MSG_MAX / sizeof(uint64_t)];
	uint64_t rx[GENL_RX_MAX / sizeof(uint64_t)];
};

int genl_sock_open(int bus, unsigned flags, struct genl_sock **ret)
{
	struct genl_sock *s;
	int one = 1;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->bus = bus;
	s->flags = flags;
	s->nl = mnl_socket_open2(bus, SOCK_CLOEXEC | (flags & GENL_SOCK_NONBLOCK ? SOCK_NONBLOCK : 0));
	if (!s->nl) {
		r = -errno;
		free(s);
		return r;
	}
	/* Both exist since 4.12/4.3; without them we only lose the text. */
	(void)mnl_socket_setsockopt(s->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (!(flags & GENL_SOCK_NONBLOCK)) {
		/* the kernel always answers at once; never hang the loop on it */
		struct timeval tv = { .tv_sec = GENL_REPLY_TIMEOUT_SEC };

		(void)setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(s->nl);
		free(s);
		return r;
	}
	s->portid = mnl_socket_get_portid(s->nl);
	s->seq = 1;
	*ret = s;
	return 0;
}

struct genl_sock *genl_sock_close(struct genl_sock *s)
{
	if (s) {
		mnl_socket_close(s->nl);
		free(s);
	}
	return NULL;
}

int genl_sock_fd(const struct genl_sock *s)
{
	return mnl_socket_get_fd(s->nl);
}

uint32_t genl_sock_portid(const struct genl_sock *s)
{
	return s->portid;
}

int genl_sock_set_rcvbuf(struct genl_sock *s, int bytes)
{
	int fd = genl_sock_fd(s);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) == 0)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) == 0)
		return 0;
	return -errno;
}

void genl_sock_set_tap(struct genl_sock *s, void (*fn)(const void *buf, size_t len, void *ud),
		       void *ud)
{
	s->tap = fn;
	s->tap_ud = ud;
}

const char *genl_sock_warning(const struct genl_sock *s)
{
	return s->warning;
}

int genl_join(struct genl_sock *s, uint32_t group)
{
	if (mnl_socket_setsockopt(s->nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
		return -errno;
	return 0;
}

int genl_leave(struct genl_sock *s, uint32_t group)
{
	if (mnl_socket_setsockopt(s->nl, NETLINK_DROP_MEMBERSHIP, &group, sizeof(group)) < 0)
		return -errno;
	return 0;
}

struct nlmsghdr *genl_nlmsg_start(struct genl_sock *s, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(s->tx);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

struct nlmsghdr *genl_msg_start(struct genl_sock *s, uint16_t family, uint16_t flags,
				uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh = genl_nlmsg_start(s, family, flags);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	g->cmd = cmd;
	g->version = version;
	return nlh;
}

/* ---- attributes ---------------------------------------------------------- */

void genl_attrs_parse(const void *payload, size_t len, const struct nlattr **tb, unsigned max)
{
	const struct nlattr *a = payload;
	int left = (int)len;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (!payload)
		return;
	for (; mnl_attr_ok(a, left); a = mnl_attr_next(a)) {
		uint16_t t = mnl_attr_get_type(a);

		left -= (int)MNL_ALIGN(a->nla_len);
		if (t <= max)
			tb[t] = a;
	}
}

void genl_attrs_nested(const struct nlattr *nest, const struct nlattr **tb, unsigned max)
{
	if (!nest) {
		memset(tb, 0, (max + 1) * sizeof(*tb));
		return;
	}
	genl_attrs_parse(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest), tb, max);
}

void genl_attrs_msg(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb,
		    unsigned max)
{
	size_t plen = mnl_nlmsg_get_payload_len(nlh);

	if (plen < hdrlen) {
		memset(tb, 0, (max + 1) * sizeof(*tb));
		return;
	}
	genl_attrs_parse((const char *)mnl_nlmsg_get_payload(nlh) + MNL_ALIGN(hdrlen),
			 plen > MNL_ALIGN(hdrlen) ? plen - MNL_ALIGN(hdrlen) : 0, tb, max);
}

#define GET_FIXED(a, v, type)                                                                      \
	do {                                                                                       \
		if (!(a) || mnl_attr_get_payload_len(a) != sizeof(type))                           \
			return false;                                                              \
		memcpy((v), mnl_attr_get_payload(a), sizeof(type));                                \
		return true;                                                                       \
	} while (0)

bool genl_attr_u8(const struct nlattr *a, uint8_t *v)
{
	GET_FIXED(a, v, uint8_t);
}

bool genl_attr_u16(const struct nlattr *a, uint16_t *v)
{
	GET_FIXED(a, v, uint16_t);
}

bool genl_attr_u32(const struct nlattr *a, uint32_t *v)
{
	GET_FIXED(a, v, uint32_t);
}

bool genl_attr_u64(const struct nlattr *a, uint64_t *v)
{
	GET_FIXED(a, v, uint64_t);
}

bool genl_attr_s32(const struct nlattr *a, int32_t *v)
{
	GET_FIXED(a, v, int32_t);
}

bool genl_attr_uint(const struct nlattr *a, uint64_t *v)
{
	uint32_t v32;

	if (!a)
		return false;
	if (mnl_attr_get_payload_len(a) == sizeof(uint64_t))
		return genl_attr_u64(a, v);
	if (!genl_attr_u32(a, &v32))
		return false;
	*v = v32;
	return true;
}

const char *genl_attr_str(const struct nlattr *a)
{
	const char *p;
	uint16_t n;

	if (!a)
		return NULL;
	n = mnl_attr_get_payload_len(a);
	p = mnl_attr_get_payload(a);
	if (!n || !memchr(p, '\0', n))
		return NULL;
	return p;
}

/* ---- acks, errors, extack ------------------------------------------------ */

/* Type of the attribute at byte offset off of the request, or -1. */
static int attr_type_at(const struct nlmsghdr *req, uint32_t off)
{
	const struct nlattr *a;

	if (!req || off < NLMSG_HDRLEN || (uint64_t)off + sizeof(*a) > req->nlmsg_len)
		return -1;
	a = (const struct nlattr *)((const char *)req + off);
	return mnl_attr_get_type(a);
}

int genl_parse_ack(const struct nlmsghdr *nlh, const struct nlmsghdr *req, struct kerror *err,
		   char *ret_warning, size_t warning_size)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t plen = mnl_nlmsg_get_payload_len(nlh);
	const char *payload = mnl_nlmsg_get_payload(nlh);
	const char *text;
	char buf[KERROR_MSG_MAX];
	size_t off;
	uint32_t u;
	int e;

	if (nlh->nlmsg_type == NLMSG_DONE) {
		if (plen < sizeof(int))
			return 0;
		memcpy(&e, payload, sizeof(e));
		off = sizeof(int);
	} else if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *me = (const void *)payload;

		if (plen < sizeof(*me))
			return kerror_set(err, EBADMSG, NULL, NULL, "truncated netlink error");
		e = me->error;
		off = sizeof(*me);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && me->msg.nlmsg_len >= NLMSG_HDRLEN)
			off += NLMSG_ALIGN(me->msg.nlmsg_len - NLMSG_HDRLEN);
	} else {
		return kerror_set(err, EPROTO, NULL, NULL, "not an ack");
	}
	if (e > 0 && e < 4096)
		e = -e; /* never seen, but a positive errno is still an error */
	else if (e > 0 || e < -4095)
		return kerror_set(err, EPROTO, NULL, NULL, "invalid error code from the kernel");

	memset(tb, 0, sizeof(tb));
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && off < plen)
		genl_attrs_parse(payload + off, plen - off, tb, NLMSGERR_ATTR_MAX);
	text = genl_attr_str(tb[NLMSGERR_ATTR_MSG]);

	if (e == 0) {
		if (ret_warning && warning_size)
			snprintf(ret_warning, warning_size, "%s", text ? text : "");
		return 0;
	}
	if (text && text[0]) {
		snprintf(buf, sizeof(buf), "%s", text);
	} else if (genl_attr_u32(tb[NLMSGERR_ATTR_MISS_TYPE], &u)) {
		snprintf(buf, sizeof(buf), "missing attribute %u", u);
	} else if (genl_attr_u32(tb[NLMSGERR_ATTR_OFFS], &u) && attr_type_at(req, u) >= 0) {
		snprintf(buf, sizeof(buf), "%s (kernel flagged attribute %d)", strerror(-e),
			 attr_type_at(req, u));
	} else {
		buf[0] = '\0';
	}
	return kerror_set(err, -e, NULL, NULL, buf);
}

int genl_process(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		 const struct nlmsghdr *req, genl_msg_cb cb, void *data, bool *ret_done,
		 struct kerror *err, char *warning)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;
	int first = 0;
	int r;

	/* mnl_nlmsg_ok() compares nlmsg_len as an int: bound it ourselves */
	for (; mnl_nlmsg_ok(nlh, left) && nlh->nlmsg_len <= (uint32_t)left;
	     nlh = mnl_nlmsg_next(nlh, &left)) {
		if (seq && nlh->nlmsg_seq != seq)
			continue; /* a late answer to an earlier request */
		if (portid && nlh->nlmsg_pid && nlh->nlmsg_pid != portid)
			continue;
		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP:
			continue;
		case NLMSG_OVERRUN:
			*ret_done = true;
			return kerror_set(err, ENOBUFS, NULL, NULL, "netlink overrun");
		case NLMSG_ERROR:
		case NLMSG_DONE:
			*ret_done = true;
			r = genl_parse_ack(nlh, req, err, warning, warning ? KERROR_MSG_MAX : 0);
			return r < 0 ? r : first;
		default:
			if (!cb || first < 0)
				continue;
			r = cb(nlh, data);
			if (r < 0) {
				first = r;
				kerror_set(err, -r, NULL, NULL, NULL);
			}
		}
	}
	if (left > 0 && !*ret_done && first == 0)
		return kerror_set(err, EBADMSG, NULL, NULL, "truncated netlink message");
	return first;
}

static ssize_t recv_kernel(struct genl_sock *s, int flags)
{
	struct sockaddr_nl addr;
	struct iovec iov = { .iov_base = s->rx, .iov_len = sizeof(s->rx) };
	struct msghdr mh = {
		.msg_name = &addr,
		.msg_namelen = sizeof(addr),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	ssize_t n;

	for (;;) {
		n = recvmsg(genl_sock_fd(s), &mh, flags);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (mh.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		if (addr.nl_pid != 0)
			continue; /* not from the kernel */
		if (s->tap)
			s->tap(s->rx, (size_t)n, s->tap_ud);
		return n;
	}
}

bool genl_reply_feed(struct genl_reply *rep, const void *buf, size_t len)
{
	bool done = false;
	int r;

	r = genl_process(buf, len, rep->req->nlmsg_seq, rep->portid, rep->req,
			 rep->result < 0 ? NULL : rep->cb, rep->data, &done, rep->err, rep->warning);
	if (!done) {
		if (r < 0 && rep->result == 0)
			rep->result = r;
		return false;
	}
	/* An error ack wins over a callback error: it has text. */
	if (r < 0 || rep->result == 0)
		rep->result = r;
	else
		kerror_set(rep->err, -rep->result, NULL, NULL, NULL);
	if (rep->result == 0)
		kerror_clear(rep->err);
	return true;
}

int genl_request(struct genl_sock *s, struct nlmsghdr *nlh, genl_msg_cb cb, void *data,
		 struct kerror *err)
{
	struct genl_reply rep = {
		.req = nlh,
		.portid = s->portid,
		.cb = cb,
		.data = data,
		.err = err,
		.warning = s->warning,
	};
	ssize_t n;

	kerror_clear(err);
	s->warning[0] = '\0';
	nlh->nlmsg_seq = ++s->seq;
	if (!s->seq)
		nlh->nlmsg_seq = ++s->seq;
	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
		return kerror_set(err, errno, NULL, NULL, NULL);

	do {
		n = recv_kernel(s, 0);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return kerror_set(err, ETIMEDOUT, NULL, NULL, "no answer from the kernel");
		if (n < 0)
			return kerror_set(err, (int)-n, NULL, NULL, NULL);
	} while (!genl_reply_feed(&rep, s->rx, (size_t)n));
	return rep.result;
}

void genl_dispatch(const void *buf, size_t len, genl_msg_cb cb, void *data)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left) && nlh->nlmsg_len <= (uint32_t)left;
	     nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
			continue;
		if (cb)
			(void)cb(nlh, data);
	}
}

int genl_sock_recv(struct genl_sock *s, genl_msg_cb cb, void *data)
{
	ssize_t n;

	for (;;) {
		n = recv_kernel(s, MSG_DONTWAIT);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return 0;
		if (n < 0)
			return (int)n;
		genl_dispatch(s->rx, (size_t)n, cb, data);
	}
}

/* ---- families ------------------------------------------------------------ */

int genl_parse_family(const struct nlmsghdr *nlh, struct genl_family *ret)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1], *sub[CTRL_ATTR_MCAST_GRP_MAX + 1];
	const struct genlmsghdr *g;
	const struct nlattr *a;
	const char *name;
	uint32_t id, fl;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g))
		return -EBADMSG;
	g = mnl_nlmsg_get_payload(nlh);
	if (g->cmd != CTRL_CMD_NEWFAMILY)
		return -EPROTO;
	memset(ret, 0, sizeof(*ret));
	genl_attrs_msg(nlh, sizeof(*g), tb, CTRL_ATTR_MAX);
	name = genl_attr_str(tb[CTRL_ATTR_FAMILY_NAME]);
	if (!genl_attr_u16(tb[CTRL_ATTR_FAMILY_ID], &ret->id) || !name)
		return -EBADMSG;
	snprintf(ret->name, sizeof(ret->name), "%s", name);
	(void)genl_attr_u32(tb[CTRL_ATTR_VERSION], &ret->version);
	(void)genl_attr_u32(tb[CTRL_ATTR_HDRSIZE], &ret->hdrsize);
	(void)genl_attr_u32(tb[CTRL_ATTR_MAXATTR], &ret->maxattr);
	if (tb[CTRL_ATTR_OPS]) {
		mnl_attr_for_each_nested(a, tb[CTRL_ATTR_OPS]) {
			const struct nlattr *op[CTRL_ATTR_OP_MAX + 1];

			genl_attrs_nested(a, op, CTRL_ATTR_OP_MAX);
			if (!genl_attr_u32(op[CTRL_ATTR_OP_ID], &id) || id > 255)
				continue;
			ret->ops[id / 32] |= 1u << (id % 32);
			if (genl_attr_u32(op[CTRL_ATTR_OP_FLAGS], &fl))
				ret->op_flags[id] = (uint8_t)fl;
		}
	}
	if (tb[CTRL_ATTR_MCAST_GROUPS]) {
		mnl_attr_for_each_nested(a, tb[CTRL_ATTR_MCAST_GROUPS]) {
			struct genl_group *grp;

			if (ret->n_groups >= GENL_GROUPS_MAX)
				break;
			genl_attrs_nested(a, sub, CTRL_ATTR_MCAST_GRP_MAX);
			name = genl_attr_str(sub[CTRL_ATTR_MCAST_GRP_NAME]);
			if (!name || !genl_attr_u32(sub[CTRL_ATTR_MCAST_GRP_ID], &id))
				continue;
			grp = &ret->groups[ret->n_groups++];
			snprintf(grp->name, sizeof(grp->name), "%s", name);
			grp->id = id;
		}
	}
	return 0;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	return genl_parse_family(nlh, data);
}

int genl_resolve(struct genl_sock *s, const char *name, struct genl_family *ret,
		 struct kerror *err)
{
	struct genl_family fam;
	struct nlmsghdr *nlh;
	int r;

	if (!name || !name[0] || strlen(name) >= GENL_NAMSIZ)
		return kerror_set(err, EINVAL, name, "resolve family", "invalid family name");
	nlh = genl_msg_start(s, GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
	memset(&fam, 0, sizeof(fam));
	r = genl_request(s, nlh, family_cb, &fam, err);
	if (r == 0 && fam.id == 0)
		r = kerror_set(err, ENOENT, NULL, NULL, NULL);
	if (r < 0) {
		kerror_context(err, name, "resolve family");
		return r;
	}
	*ret = fam;
	return 0;
}

bool genl_family_has_op(const struct genl_family *f, uint8_t cmd)
{
	return f->ops[cmd / 32] & (1u << (cmd % 32));
}

int64_t genl_family_group(const struct genl_family *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n_groups; i++)
		if (!strcmp(f->groups[i].name, name))
			return f->groups[i].id;
	return -ENOENT;
}
