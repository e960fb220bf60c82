// SPDX-License-Identifier: MIT
/*
 * zxsim-nl — a small generic netlink client for the guest helper (no
 * library: zxsim is linked statically).  Requests up to 4 KiB, replies of
 * any count, the kernel's extack message kept for the caller.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zxsim.h"

#define ALIGN4(x) (((x) + 3u) & ~3u)

static struct nlmsghdr *hdr(struct zxnl_msg *m)
{
	return (struct nlmsghdr *)m->buf;
}

void zxnl_start(struct zxnl *nl, struct zxnl_msg *m, uint8_t cmd, uint16_t flags)
{
	struct genlmsghdr *g;

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	hdr(m)->nlmsg_type = nl->family;
	hdr(m)->nlmsg_flags = NLM_F_REQUEST | flags;
	hdr(m)->nlmsg_seq = ++nl->seq;
	g = (struct genlmsghdr *)(m->buf + NLMSG_HDRLEN);
	g->cmd = cmd;
	g->version = 1;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

void zxnl_put(struct zxnl_msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + m->len);
	size_t total = NLA_HDRLEN + len;

	if (m->len + ALIGN4(total) > sizeof(m->buf))
		return; /* requests here are tiny */
	a->nla_type = type;
	a->nla_len = (uint16_t)total;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + total, 0, ALIGN4(total) - total);
	m->len += ALIGN4(total);
}

void zxnl_put_u32(struct zxnl_msg *m, uint16_t type, uint32_t v)
{
	zxnl_put(m, type, &v, sizeof(v));
}

size_t zxnl_nest_start(struct zxnl_msg *m, uint16_t type)
{
	size_t at = m->len;

	zxnl_put(m, type | NLA_F_NESTED, NULL, 0);
	return at;
}

void zxnl_nest_end(struct zxnl_msg *m, size_t at)
{
	((struct nlattr *)(m->buf + at))->nla_len = (uint16_t)(m->len - at);
}

void zxnl_parse(const void *attrs, size_t len, const void **tb, size_t *tlen, unsigned max)
{
	const char *p = attrs, *end = p + len;

	memset(tb, 0, sizeof(*tb) * (max + 1));
	if (tlen)
		memset(tlen, 0, sizeof(*tlen) * (max + 1));
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const struct nlattr *)p;
		unsigned type = a->nla_type & NLA_TYPE_MASK;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			break;
		if (type <= max) {
			tb[type] = p + NLA_HDRLEN;
			if (tlen)
				tlen[type] = a->nla_len - NLA_HDRLEN;
		}
		p += ALIGN4(a->nla_len);
	}
}

uint32_t zxnl_u32(const void *a)
{
	uint32_t v;

	memcpy(&v, a, sizeof(v));
	return v;
}

uint64_t zxnl_uint(const void *a, size_t len)
{
	uint64_t v = 0;

	if (len == 8)
		memcpy(&v, a, 8);
	else if (len == 4)
		v = zxnl_u32(a);
	return v;
}

static void keep_extack(struct zxnl *nl, const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	const char *p, *end = (const char *)h + h->nlmsg_len;
	size_t off = sizeof(*e);

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	for (p = (const char *)e + ALIGN4(off); p + NLA_HDRLEN <= end;) {
		const struct nlattr *a = (const struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG)
			snprintf(nl->err, sizeof(nl->err), "%.*s", (int)(a->nla_len - NLA_HDRLEN),
				 p + NLA_HDRLEN);
		p += ALIGN4(a->nla_len);
	}
}

int zxnl_talk(struct zxnl *nl, struct zxnl_msg *m,
	      void (*cb)(const void *attrs, size_t len, void *ud), void *ud)
{
	static char buf[65536];
	uint32_t seq = hdr(m)->nlmsg_seq;
	bool dump = hdr(m)->nlmsg_flags & NLM_F_DUMP;

	nl->err[0] = '\0';
	hdr(m)->nlmsg_len = (uint32_t)m->len;
	if (!dump)
		hdr(m)->nlmsg_flags |= NLM_F_ACK;
	if (send(nl->fd, m->buf, m->len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(nl->fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0)
			return -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				keep_extack(nl, h);
				return e->error;
			}
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (cb && h->nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN)
				cb((const char *)h + NLMSG_HDRLEN + GENL_HDRLEN,
				   h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, ud);
		}
	}
}

struct family {
	const char *name;
	uint16_t id;
};

static void family_cb(const void *attrs, size_t len, void *ud)
{
	const void *tb[CTRL_ATTR_FAMILY_NAME + 1];
	struct family *f = ud;

	zxnl_parse(attrs, len, tb, NULL, CTRL_ATTR_FAMILY_NAME);
	if (tb[CTRL_ATTR_FAMILY_ID] && tb[CTRL_ATTR_FAMILY_NAME] &&
	    !strcmp(tb[CTRL_ATTR_FAMILY_NAME], f->name))
		memcpy(&f->id, tb[CTRL_ATTR_FAMILY_ID], sizeof(f->id));
}

int zxnl_open(struct zxnl *nl, const char *family)
{
	struct family f = { .name = family };
	struct zxnl_msg m;
	int one = 1, r;

	memset(nl, 0, sizeof(*nl));
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0)
		return -errno;
	(void)setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->family = GENL_ID_CTRL;
	zxnl_start(nl, &m, CTRL_CMD_GETFAMILY, 0);
	zxnl_put(&m, CTRL_ATTR_FAMILY_NAME, family, strlen(family) + 1);
	r = zxnl_talk(nl, &m, family_cb, &f);
	if (r == 0 && !f.id)
		r = -ENOENT;
	if (r < 0) {
		close(nl->fd);
		nl->fd = -1;
		return r;
	}
	nl->family = f.id;
	return 0;
}

void zxnl_close(struct zxnl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}
