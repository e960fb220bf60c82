// SPDX-License-Identifier: MIT
/*
 * binder-msg — building and parsing vhost_zcrx generic netlink messages.
 *
 * Owns: the attribute table (types, lengths, names), the validation rules of
 * binder-msg.h and the mapping between messages and binder.h structs.
 * Must not: do I/O, log, keep state between calls.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "binder-msg.h"
#include "vhost_zcrx.h"

enum attr_kind {
	ATTR_UNKNOWN = 0,
	ATTR_U32,
	ATTR_U64,
	ATTR_NEST,
	ATTR_STRING, /* NUL-terminated, no other NUL, at most VHOST_ZCRX_REASON_MSG_MAX */
};

static const uint8_t attr_kinds[VHOST_ZCRX_A_MAX + 1] = {
	[VHOST_ZCRX_A_BINDING_ID] = ATTR_U32,  [VHOST_ZCRX_A_IFINDEX] = ATTR_U32,
	[VHOST_ZCRX_A_QUEUE] = ATTR_U32,       [VHOST_ZCRX_A_TAP_IFINDEX] = ATTR_U32,
	[VHOST_ZCRX_A_FALLBACK] = ATTR_U32,    [VHOST_ZCRX_A_STATE] = ATTR_U32,
	[VHOST_ZCRX_A_REASON] = ATTR_U32,      [VHOST_ZCRX_A_FEATURES] = ATTR_U64,
	[VHOST_ZCRX_A_MAX_BINDINGS] = ATTR_U32, [VHOST_ZCRX_A_STATS] = ATTR_NEST,
	[VHOST_ZCRX_A_REASON_MSG] = ATTR_STRING,
};

static const char *const attr_names[VHOST_ZCRX_A_MAX + 1] = {
	[VHOST_ZCRX_A_BINDING_ID] = "BINDING_ID",   [VHOST_ZCRX_A_IFINDEX] = "IFINDEX",
	[VHOST_ZCRX_A_QUEUE] = "QUEUE",             [VHOST_ZCRX_A_TAP_IFINDEX] = "TAP_IFINDEX",
	[VHOST_ZCRX_A_FALLBACK] = "FALLBACK",       [VHOST_ZCRX_A_STATE] = "STATE",
	[VHOST_ZCRX_A_REASON] = "REASON",           [VHOST_ZCRX_A_FEATURES] = "FEATURES",
	[VHOST_ZCRX_A_MAX_BINDINGS] = "MAX_BINDINGS", [VHOST_ZCRX_A_STATS] = "STATS",
	[VHOST_ZCRX_A_REASON_MSG] = "REASON_MSG",
};

static const uint8_t stats_kinds[VHOST_ZCRX_A_STATS_MAX + 1] = {
	[VHOST_ZCRX_A_STATS_RX_PACKETS] = ATTR_U64,  [VHOST_ZCRX_A_STATS_RX_BYTES] = ATTR_U64,
	[VHOST_ZCRX_A_STATS_ZC_PACKETS] = ATTR_U64,  [VHOST_ZCRX_A_STATS_COPY_PACKETS] = ATTR_U64,
	[VHOST_ZCRX_A_STATS_DROP_NOBUF] = ATTR_U64,  [VHOST_ZCRX_A_STATS_BUFS_POSTED] = ATTR_U64,
};

static const char *const stats_names[VHOST_ZCRX_A_STATS_MAX + 1] = {
	[VHOST_ZCRX_A_STATS_RX_PACKETS] = "STATS.RX_PACKETS",
	[VHOST_ZCRX_A_STATS_RX_BYTES] = "STATS.RX_BYTES",
	[VHOST_ZCRX_A_STATS_ZC_PACKETS] = "STATS.ZC_PACKETS",
	[VHOST_ZCRX_A_STATS_COPY_PACKETS] = "STATS.COPY_PACKETS",
	[VHOST_ZCRX_A_STATS_DROP_NOBUF] = "STATS.DROP_NOBUF",
	[VHOST_ZCRX_A_STATS_BUFS_POSTED] = "STATS.BUFS_POSTED",
};

static const char *const cmd_names[VHOST_ZCRX_CMD_MAX + 1] = {
	[VHOST_ZCRX_CMD_PROBE] = "PROBE", [VHOST_ZCRX_CMD_BIND] = "BIND",
	[VHOST_ZCRX_CMD_UNBIND] = "UNBIND", [VHOST_ZCRX_CMD_GET] = "GET",
	[VHOST_ZCRX_CMD_STATE_NTF] = "STATE_NTF",
};

/* One attribute set being walked. */
struct walk {
	const uint8_t *kinds;
	const char *const *names;
	unsigned max;
	bool strict;                /* unknown types are errors (requests) */
	const struct nlattr **tb;   /* [max + 1] */
	const struct nlmsghdr *nlh; /* for offsets */
	size_t consumed;
	int err;
	uint32_t bad_offset;
	char msg[KERROR_MSG_MAX];
};

static const char *cmd_name(uint8_t cmd)
{
	if (cmd <= VHOST_ZCRX_CMD_MAX && cmd_names[cmd])
		return cmd_names[cmd];
	return "unknown command";
}

/* Where attribute a lies in the message, as bad_offset reports it. */
static uint32_t offset_in(const struct nlmsghdr *nlh, const struct nlattr *a)
{
	return (uint32_t)((const char *)a - (const char *)nlh);
}

static int walk_fail(struct walk *w, const struct nlattr *a)
{
	w->err = w->strict ? EINVAL : EBADMSG;
	if (a && w->nlh)
		w->bad_offset = offset_in(w->nlh, a);
	return MNL_CB_ERROR;
}

static int walk_cb(const struct nlattr *a, void *data)
{
	struct walk *w = data;
	uint16_t type = mnl_attr_get_type(a);
	unsigned len = mnl_attr_get_payload_len(a);
	unsigned want = 0;
	const char *name;

	w->consumed += MNL_ALIGN(a->nla_len);
	if (type > w->max || w->kinds[type] == ATTR_UNKNOWN) {
		if (!w->strict)
			return MNL_CB_OK;
		snprintf(w->msg, sizeof(w->msg), "unknown attribute type %u", type);
		return walk_fail(w, a);
	}
	name = w->names[type];
	if (w->strict && (a->nla_type & NLA_F_NESTED) && w->kinds[type] != ATTR_NEST) {
		snprintf(w->msg, sizeof(w->msg), "attribute %s has NLA_F_NESTED set", name);
		return walk_fail(w, a);
	}
	if (w->tb[type]) {
		snprintf(w->msg, sizeof(w->msg), "attribute %s repeated", name);
		return walk_fail(w, a);
	}
	switch (w->kinds[type]) {
	case ATTR_U32:
		want = sizeof(uint32_t);
		break;
	case ATTR_U64:
		want = sizeof(uint64_t);
		break;
	case ATTR_STRING:
		if (len == 0 || len > VHOST_ZCRX_REASON_MSG_MAX ||
		    memchr(mnl_attr_get_payload(a), '\0', len) !=
			    (const char *)mnl_attr_get_payload(a) + len - 1) {
			snprintf(w->msg, sizeof(w->msg),
				 "attribute %s is not one NUL-terminated string of at most %d bytes",
				 name, VHOST_ZCRX_REASON_MSG_MAX);
			return walk_fail(w, a);
		}
		break;
	case ATTR_NEST:
		if (len != 0 && len < NLA_HDRLEN) {
			snprintf(w->msg, sizeof(w->msg), "nest %s has length %u, too short", name,
				 len);
			return walk_fail(w, a);
		}
		break;
	}
	if (want && len != want) {
		snprintf(w->msg, sizeof(w->msg), "attribute %s has length %u, expected %u", name, len,
			 want);
		return walk_fail(w, a);
	}
	w->tb[type] = a;
	return MNL_CB_OK;
}

static void walk_init(struct walk *w, const uint8_t *kinds, const char *const *names,
		      unsigned max, bool strict, const struct nlattr **tb,
		      const struct nlmsghdr *nlh)
{
	memset(w, 0, sizeof(*w));
	w->kinds = kinds;
	w->names = names;
	w->max = max;
	w->strict = strict;
	w->tb = tb;
	w->nlh = nlh;
	memset(tb, 0, sizeof(*tb) * (max + 1));
}

/* After mnl_attr_parse*: the attributes must have covered the whole payload;
 * libmnl silently stops at the first attribute that does not fit. */
static int walk_end(struct walk *w, int r, size_t payload_len, const char *what)
{
	if (r == MNL_CB_ERROR)
		return -w->err;
	if (w->consumed < payload_len) {
		w->err = w->strict ? EINVAL : EBADMSG;
		snprintf(w->msg, sizeof(w->msg), "%s truncated: %u of %u bytes are not a valid attribute",
			 what, (unsigned)(payload_len - w->consumed), (unsigned)payload_len);
		return -w->err;
	}
	return 0;
}

static int fail(struct kerror *err, int e, const char *kind, uint8_t cmd, const char *msg)
{
	return kerror_setf(err, e, NULL, NULL, "malformed %s %s: %s", cmd_name(cmd), kind, msg);
}

int binder_msg_cmd(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return -EBADMSG;
	g = mnl_nlmsg_get_payload(nlh);
	return g->cmd;
}

/*
 * Walk the top-level attributes of a message of command cmd (and the STATS
 * nest when present into stb).  kind is "reply", "notification", "request".
 */
static int parse_msg(const struct nlmsghdr *nlh, uint8_t cmd, bool strict, const char *kind,
		     const struct nlattr **tb, const struct nlattr **stb, uint32_t *ret_bad_offset,
		     struct kerror *err)
{
	int e = strict ? EINVAL : EBADMSG;
	struct walk w;
	size_t plen;
	int r, got;

	got = binder_msg_cmd(nlh);
	if (got < 0)
		return fail(err, e, kind, cmd, "shorter than the generic netlink header");
	if (got != cmd) {
		char m[64];

		snprintf(m, sizeof(m), "carries command %d", got);
		return fail(err, e, kind, cmd, m);
	}
	/* libmnl walks attributes up to MNL_ALIGN(nlmsg_len): an unaligned
	 * length would let it read past the message.  The kernel always pads. */
	if (nlh->nlmsg_len != MNL_ALIGN(nlh->nlmsg_len))
		return fail(err, e, kind, cmd, "length not a multiple of 4 (truncated)");
	plen = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	walk_init(&w, attr_kinds, attr_names, VHOST_ZCRX_A_MAX, strict, tb, nlh);
	r = mnl_attr_parse(nlh, GENL_HDRLEN, walk_cb, &w);
	r = walk_end(&w, r, plen, "attributes");
	if (r < 0)
		goto bad;
	if (stb) {
		memset(stb, 0, sizeof(*stb) * (VHOST_ZCRX_A_STATS_MAX + 1));
		if (tb[VHOST_ZCRX_A_STATS]) {
			const struct nlattr *nest = tb[VHOST_ZCRX_A_STATS];
			struct walk sw;

			walk_init(&sw, stats_kinds, stats_names, VHOST_ZCRX_A_STATS_MAX, strict, stb,
				  nlh);
			r = mnl_attr_parse_nested(nest, walk_cb, &sw);
			r = walk_end(&sw, r, mnl_attr_get_payload_len(nest), "nest STATS");
			if (r < 0) {
				w = sw;
				goto bad;
			}
		}
	}
	return 0;
bad:
	if (ret_bad_offset)
		*ret_bad_offset = w.bad_offset;
	return fail(err, -r, kind, cmd, w.msg);
}

static int need(const struct nlattr **tb, uint16_t type, const char *kind, uint8_t cmd, bool strict,
		struct kerror *err)
{
	char m[64];

	if (tb[type])
		return 0;
	snprintf(m, sizeof(m), "missing attribute %s", attr_names[type]);
	return fail(err, strict ? EINVAL : EBADMSG, kind, cmd, m);
}

/* A u32 that must be a valid ifindex (1..INT_MAX). */
static int get_ifindex(const struct nlattr *a, const char *kind, uint8_t cmd, bool strict,
		       int *ret, struct kerror *err)
{
	uint32_t v = mnl_attr_get_u32(a);
	char m[80];

	if (v == 0 || v > INT_MAX) {
		snprintf(m, sizeof(m), "attribute %s: %u is not an interface index",
			 attr_names[mnl_attr_get_type(a)], v);
		return fail(err, strict ? ERANGE : EBADMSG, kind, cmd, m);
	}
	*ret = (int)v;
	return 0;
}

static int get_enum(const struct nlattr *a, uint32_t max, const char *kind, uint8_t cmd,
		    bool strict, uint32_t *ret, struct kerror *err)
{
	uint32_t v = mnl_attr_get_u32(a);
	char m[80];

	if (v > max) {
		snprintf(m, sizeof(m), "attribute %s: value %u out of range 0..%u",
			 attr_names[mnl_attr_get_type(a)], v, max);
		return fail(err, strict ? ERANGE : EBADMSG, kind, cmd, m);
	}
	*ret = v;
	return 0;
}

/* errno values are positive ints. */
static int get_reason(const struct nlattr *a, const char *kind, uint8_t cmd, int *ret,
		      struct kerror *err)
{
	uint32_t v = a ? mnl_attr_get_u32(a) : 0;

	if (v > 4095)
		return fail(err, EBADMSG, kind, cmd, "attribute REASON is not an errno");
	*ret = (int)v;
	return 0;
}

/* --- building ------------------------------------------------------------ */

struct nlmsghdr *binder_msg_start(void *buf, size_t size, uint16_t type, uint16_t flags,
				  uint32_t seq, uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(GENL_HDRLEN))
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

static int put_u32(struct nlmsghdr *nlh, size_t size, uint16_t type, uint32_t v)
{
	return mnl_attr_put_u32_check(nlh, size, type, v) ? 0 : -EMSGSIZE;
}

static int put_u64(struct nlmsghdr *nlh, size_t size, uint16_t type, uint64_t v)
{
	return mnl_attr_put_u64_check(nlh, size, type, v) ? 0 : -EMSGSIZE;
}

int binder_msg_put_probe(struct nlmsghdr *nlh, size_t size, int ifindex)
{
	return put_u32(nlh, size, VHOST_ZCRX_A_IFINDEX, (uint32_t)ifindex);
}

int binder_msg_put_bind(struct nlmsghdr *nlh, size_t size, int ifindex, uint32_t queue,
			int tap_ifindex, uint32_t fallback)
{
	if (put_u32(nlh, size, VHOST_ZCRX_A_IFINDEX, (uint32_t)ifindex) < 0 ||
	    put_u32(nlh, size, VHOST_ZCRX_A_QUEUE, queue) < 0 ||
	    put_u32(nlh, size, VHOST_ZCRX_A_TAP_IFINDEX, (uint32_t)tap_ifindex) < 0 ||
	    put_u32(nlh, size, VHOST_ZCRX_A_FALLBACK, fallback) < 0)
		return -EMSGSIZE;
	return 0;
}

int binder_msg_put_binding_id(struct nlmsghdr *nlh, size_t size, uint32_t id)
{
	return put_u32(nlh, size, VHOST_ZCRX_A_BINDING_ID, id);
}

int binder_msg_put_probe_reply(struct nlmsghdr *nlh, size_t size, int ifindex,
			       const struct binder_probe *p)
{
	if (put_u32(nlh, size, VHOST_ZCRX_A_IFINDEX, (uint32_t)ifindex) < 0 ||
	    put_u64(nlh, size, VHOST_ZCRX_A_FEATURES, p->features) < 0 ||
	    put_u32(nlh, size, VHOST_ZCRX_A_MAX_BINDINGS, p->max_bindings) < 0)
		return -EMSGSIZE;
	return 0;
}

int binder_msg_put_bind_reply(struct nlmsghdr *nlh, size_t size, uint32_t id)
{
	return put_u32(nlh, size, VHOST_ZCRX_A_BINDING_ID, id);
}

int binder_msg_put_binding(struct nlmsghdr *nlh, size_t size, const struct binder_binding *b)
{
	const struct binder_stats *s = &b->stats;
	struct nlattr *nest;

	if (put_u32(nlh, size, VHOST_ZCRX_A_BINDING_ID, b->id) < 0 ||
	    put_u32(nlh, size, VHOST_ZCRX_A_IFINDEX, (uint32_t)b->ifindex) < 0 ||
	    put_u32(nlh, size, VHOST_ZCRX_A_QUEUE, b->queue) < 0 ||
	    put_u32(nlh, size, VHOST_ZCRX_A_TAP_IFINDEX, (uint32_t)b->tap_ifindex) < 0 ||
	    put_u32(nlh, size, VHOST_ZCRX_A_FALLBACK, b->fallback) < 0 ||
	    put_u32(nlh, size, VHOST_ZCRX_A_STATE, (uint32_t)b->state) < 0)
		return -EMSGSIZE;
	if (b->reason && put_u32(nlh, size, VHOST_ZCRX_A_REASON, (uint32_t)b->reason) < 0)
		return -EMSGSIZE;
	if (binder_msg_put_reason_msg(nlh, size, b->reason_msg) < 0)
		return -EMSGSIZE;
	if (!b->has_stats)
		return 0;
	nest = mnl_attr_nest_start_check(nlh, size, VHOST_ZCRX_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	if (put_u64(nlh, size, VHOST_ZCRX_A_STATS_RX_PACKETS, s->rx_packets) < 0 ||
	    put_u64(nlh, size, VHOST_ZCRX_A_STATS_RX_BYTES, s->rx_bytes) < 0 ||
	    put_u64(nlh, size, VHOST_ZCRX_A_STATS_ZC_PACKETS, s->zc_packets) < 0 ||
	    put_u64(nlh, size, VHOST_ZCRX_A_STATS_COPY_PACKETS, s->copy_packets) < 0 ||
	    put_u64(nlh, size, VHOST_ZCRX_A_STATS_DROP_NOBUF, s->drop_nobuf) < 0 ||
	    put_u64(nlh, size, VHOST_ZCRX_A_STATS_BUFS_POSTED, s->bufs_posted) < 0) {
		mnl_attr_nest_cancel(nlh, nest);
		return -EMSGSIZE;
	}
	mnl_attr_nest_end(nlh, nest);
	return 0;
}

int binder_msg_put_state_ntf(struct nlmsghdr *nlh, size_t size, uint32_t id,
			     enum binder_state state, int reason)
{
	if (put_u32(nlh, size, VHOST_ZCRX_A_BINDING_ID, id) < 0 ||
	    put_u32(nlh, size, VHOST_ZCRX_A_STATE, (uint32_t)state) < 0 ||
	    put_u32(nlh, size, VHOST_ZCRX_A_REASON, (uint32_t)reason) < 0)
		return -EMSGSIZE;
	return 0;
}

int binder_msg_put_reason_msg(struct nlmsghdr *nlh, size_t size, const char *msg)
{
	char text[VHOST_ZCRX_REASON_MSG_MAX];

	if (!msg || !*msg)
		return 0;
	snprintf(text, sizeof(text), "%s", msg);
	return mnl_attr_put_strz_check(nlh, size, VHOST_ZCRX_A_REASON_MSG, text) ? 0 : -EMSGSIZE;
}

/* --- parsing replies ----------------------------------------------------- */

int binder_msg_parse_probe(const struct nlmsghdr *nlh, int *ret_ifindex,
			   struct binder_probe *ret, struct kerror *err)
{
	const uint8_t cmd = VHOST_ZCRX_CMD_PROBE;
	const struct nlattr *tb[VHOST_ZCRX_A_MAX + 1];
	struct binder_probe p = { 0 };
	int ifindex, r;

	r = parse_msg(nlh, cmd, false, "reply", tb, NULL, NULL, err);
	if (r < 0)
		return r;
	if ((r = need(tb, VHOST_ZCRX_A_IFINDEX, "reply", cmd, false, err)) < 0 ||
	    (r = need(tb, VHOST_ZCRX_A_FEATURES, "reply", cmd, false, err)) < 0 ||
	    (r = need(tb, VHOST_ZCRX_A_MAX_BINDINGS, "reply", cmd, false, err)) < 0)
		return r;
	r = get_ifindex(tb[VHOST_ZCRX_A_IFINDEX], "reply", cmd, false, &ifindex, err);
	if (r < 0)
		return r;
	p.features = mnl_attr_get_u64(tb[VHOST_ZCRX_A_FEATURES]);
	p.max_bindings = mnl_attr_get_u32(tb[VHOST_ZCRX_A_MAX_BINDINGS]);
	if (ret_ifindex)
		*ret_ifindex = ifindex;
	*ret = p;
	return 0;
}

int binder_msg_parse_bind(const struct nlmsghdr *nlh, uint32_t *ret_id, struct kerror *err)
{
	const uint8_t cmd = VHOST_ZCRX_CMD_BIND;
	const struct nlattr *tb[VHOST_ZCRX_A_MAX + 1];
	uint32_t id;
	int r;

	r = parse_msg(nlh, cmd, false, "reply", tb, NULL, NULL, err);
	if (r < 0)
		return r;
	r = need(tb, VHOST_ZCRX_A_BINDING_ID, "reply", cmd, false, err);
	if (r < 0)
		return r;
	id = mnl_attr_get_u32(tb[VHOST_ZCRX_A_BINDING_ID]);
	if (id == 0)
		return fail(err, EBADMSG, "reply", cmd, "binding id 0");
	*ret_id = id;
	return 0;
}

int binder_msg_parse_binding(const struct nlmsghdr *nlh, struct binder_binding *ret,
			     struct kerror *err)
{
	static const uint16_t required[] = {
		VHOST_ZCRX_A_BINDING_ID, VHOST_ZCRX_A_IFINDEX,  VHOST_ZCRX_A_QUEUE,
		VHOST_ZCRX_A_TAP_IFINDEX, VHOST_ZCRX_A_FALLBACK, VHOST_ZCRX_A_STATE,
	};
	const uint8_t cmd = VHOST_ZCRX_CMD_GET;
	const struct nlattr *tb[VHOST_ZCRX_A_MAX + 1];
	const struct nlattr *stb[VHOST_ZCRX_A_STATS_MAX + 1];
	struct binder_binding b = { 0 };
	uint32_t state;
	int r;

	r = parse_msg(nlh, cmd, false, "reply", tb, stb, NULL, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		r = need(tb, required[i], "reply", cmd, false, err);
		if (r < 0)
			return r;
	}
	b.id = mnl_attr_get_u32(tb[VHOST_ZCRX_A_BINDING_ID]);
	if (b.id == 0)
		return fail(err, EBADMSG, "reply", cmd, "binding id 0");
	if ((r = get_ifindex(tb[VHOST_ZCRX_A_IFINDEX], "reply", cmd, false, &b.ifindex, err)) < 0 ||
	    (r = get_ifindex(tb[VHOST_ZCRX_A_TAP_IFINDEX], "reply", cmd, false, &b.tap_ifindex,
			     err)) < 0 ||
	    (r = get_enum(tb[VHOST_ZCRX_A_FALLBACK], VHOST_ZCRX_FALLBACK_MAX, "reply", cmd, false,
			  &b.fallback, err)) < 0 ||
	    (r = get_enum(tb[VHOST_ZCRX_A_STATE], VHOST_ZCRX_STATE_MAX, "reply", cmd, false, &state,
			  err)) < 0 ||
	    (r = get_reason(tb[VHOST_ZCRX_A_REASON], "reply", cmd, &b.reason, err)) < 0)
		return r;
	b.queue = mnl_attr_get_u32(tb[VHOST_ZCRX_A_QUEUE]);
	b.state = (enum binder_state)state;
	if (tb[VHOST_ZCRX_A_REASON_MSG])
		snprintf(b.reason_msg, sizeof(b.reason_msg), "%s",
			 mnl_attr_get_str(tb[VHOST_ZCRX_A_REASON_MSG]));
	if (tb[VHOST_ZCRX_A_STATS]) {
		b.has_stats = true;
#define STAT(field, type)                                                                          \
	if (stb[type])                                                                             \
		b.stats.field = mnl_attr_get_u64(stb[type]);
		STAT(rx_packets, VHOST_ZCRX_A_STATS_RX_PACKETS);
		STAT(rx_bytes, VHOST_ZCRX_A_STATS_RX_BYTES);
		STAT(zc_packets, VHOST_ZCRX_A_STATS_ZC_PACKETS);
		STAT(copy_packets, VHOST_ZCRX_A_STATS_COPY_PACKETS);
		STAT(drop_nobuf, VHOST_ZCRX_A_STATS_DROP_NOBUF);
		STAT(bufs_posted, VHOST_ZCRX_A_STATS_BUFS_POSTED);
#undef STAT
	}
	*ret = b;
	return 0;
}

int binder_msg_parse_state_ntf(const struct nlmsghdr *nlh, struct binder_event *ret,
			       struct kerror *err)
{
	const uint8_t cmd = VHOST_ZCRX_CMD_STATE_NTF;
	const struct nlattr *tb[VHOST_ZCRX_A_MAX + 1];
	struct binder_event ev = { 0 };
	uint32_t state;
	int r;

	r = parse_msg(nlh, cmd, false, "notification", tb, NULL, NULL, err);
	if (r < 0)
		return r;
	if ((r = need(tb, VHOST_ZCRX_A_BINDING_ID, "notification", cmd, false, err)) < 0 ||
	    (r = need(tb, VHOST_ZCRX_A_STATE, "notification", cmd, false, err)) < 0)
		return r;
	ev.id = mnl_attr_get_u32(tb[VHOST_ZCRX_A_BINDING_ID]);
	if (ev.id == 0)
		return fail(err, EBADMSG, "notification", cmd, "binding id 0");
	if ((r = get_enum(tb[VHOST_ZCRX_A_STATE], VHOST_ZCRX_STATE_MAX, "notification", cmd, false,
			  &state, err)) < 0 ||
	    (r = get_reason(tb[VHOST_ZCRX_A_REASON], "notification", cmd, &ev.reason, err)) < 0)
		return r;
	ev.state = (enum binder_state)state;
	if (tb[VHOST_ZCRX_A_REASON_MSG])
		snprintf(ev.reason_msg, sizeof(ev.reason_msg), "%s",
			 mnl_attr_get_str(tb[VHOST_ZCRX_A_REASON_MSG]));
	ev.type = (ev.state == BINDER_STATE_BROKEN && ev.reason == ENODEV) ? BINDER_EVENT_GONE
									  : BINDER_EVENT_STATE;
	*ret = ev;
	return 0;
}

/* --- module side: requests ------------------------------------------------ */

/* Every attribute present must be one the command takes (q->present). */
static int request_allowed(const struct nlmsghdr *nlh, const struct nlattr **tb, bool dump,
			   struct binder_msg_request *q, struct kerror *err)
{
	/* What each command accepts in a request. */
	static const unsigned allowed[VHOST_ZCRX_CMD_MAX + 1] = {
		[VHOST_ZCRX_CMD_PROBE] = 1u << VHOST_ZCRX_A_IFINDEX,
		[VHOST_ZCRX_CMD_BIND] = 1u << VHOST_ZCRX_A_IFINDEX | 1u << VHOST_ZCRX_A_QUEUE |
					1u << VHOST_ZCRX_A_TAP_IFINDEX |
					1u << VHOST_ZCRX_A_FALLBACK,
		[VHOST_ZCRX_CMD_UNBIND] = 1u << VHOST_ZCRX_A_BINDING_ID,
		[VHOST_ZCRX_CMD_GET] = 1u << VHOST_ZCRX_A_BINDING_ID,
	};

	for (unsigned t = 1; t <= VHOST_ZCRX_A_MAX; t++) {
		if (!tb[t])
			continue;
		/* a dump (GET) takes no attribute at all */
		if (dump || !(allowed[q->cmd] & (1u << t))) {
			q->bad_offset = offset_in(nlh, tb[t]);
			return kerror_setf(err, EINVAL, NULL, NULL,
					   "%s request: attribute %s not expected", cmd_name(q->cmd),
					   attr_names[t]);
		}
		q->present |= 1u << t;
	}
	return 0;
}

/* The attributes the command needs (a GET dump needs none). */
static int request_required(const struct nlattr **tb, bool dump,
			    struct binder_msg_request *q, struct kerror *err)
{
	static const uint16_t probe_req[] = { VHOST_ZCRX_A_IFINDEX };
	static const uint16_t bind_req[] = { VHOST_ZCRX_A_IFINDEX, VHOST_ZCRX_A_QUEUE,
					     VHOST_ZCRX_A_TAP_IFINDEX };
	static const uint16_t id_req[] = { VHOST_ZCRX_A_BINDING_ID };
	const uint16_t *req = NULL;
	size_t n_req = 0;
	int r;

	switch (q->cmd) {
	case VHOST_ZCRX_CMD_PROBE:
		req = probe_req, n_req = 1;
		break;
	case VHOST_ZCRX_CMD_BIND:
		req = bind_req, n_req = 3;
		break;
	case VHOST_ZCRX_CMD_UNBIND:
		req = id_req, n_req = 1;
		break;
	case VHOST_ZCRX_CMD_GET:
		if (!dump)
			req = id_req, n_req = 1;
		break;
	}
	for (size_t i = 0; i < n_req; i++) {
		r = need(tb, req[i], "request", q->cmd, true, err);
		if (r < 0) {
			q->missing_type = req[i];
			return r;
		}
	}
	return 0;
}

/* The values of the attributes present, each checked. */
static int request_values(const struct nlmsghdr *nlh, const struct nlattr **tb,
			  struct binder_msg_request *q, struct kerror *err)
{
	const struct nlattr *a;
	int r, v;

	if ((a = tb[VHOST_ZCRX_A_BINDING_ID])) {
		q->binding_id = mnl_attr_get_u32(a);
		if (q->binding_id == 0) {
			q->bad_offset = offset_in(nlh, a);
			return fail(err, ERANGE, "request", q->cmd, "binding id 0");
		}
	}
	if ((a = tb[VHOST_ZCRX_A_IFINDEX])) {
		r = get_ifindex(a, "request", q->cmd, true, &v, err);
		if (r < 0) {
			q->bad_offset = offset_in(nlh, a);
			return r;
		}
		q->ifindex = (uint32_t)v;
	}
	if ((a = tb[VHOST_ZCRX_A_TAP_IFINDEX])) {
		r = get_ifindex(a, "request", q->cmd, true, &v, err);
		if (r < 0) {
			q->bad_offset = offset_in(nlh, a);
			return r;
		}
		q->tap_ifindex = (uint32_t)v;
	}
	if (tb[VHOST_ZCRX_A_QUEUE])
		q->queue = mnl_attr_get_u32(tb[VHOST_ZCRX_A_QUEUE]);
	if ((a = tb[VHOST_ZCRX_A_FALLBACK])) {
		r = get_enum(a, VHOST_ZCRX_FALLBACK_MAX, "request", q->cmd, true, &q->fallback, err);
		if (r < 0) {
			q->bad_offset = offset_in(nlh, a);
			return r;
		}
	}
	return 0;
}

int binder_msg_parse_request(const struct nlmsghdr *nlh, bool dump, struct binder_msg_request *ret,
			     struct kerror *err)
{
	const struct nlattr *tb[VHOST_ZCRX_A_MAX + 1];
	struct binder_msg_request q = { 0 };
	int cmd, r;

	cmd = binder_msg_cmd(nlh);
	if (cmd < 0)
		return kerror_set(err, EINVAL, NULL, NULL, "request shorter than the generic netlink header");
	/* what the kernel checks in the headers of a family's new commands */
	if (((const struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->reserved)
		return kerror_set(err, EINVAL, NULL, NULL, "genlmsghdr.reserved is not 0");
	if (nlh->nlmsg_flags & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO | NLM_F_DUMP))
		return kerror_set(err, EINVAL, NULL, NULL, "reserved bits set in nlmsg_flags");
	if (cmd == 0 || cmd > VHOST_ZCRX_CMD_MAX || cmd == VHOST_ZCRX_CMD_STATE_NTF)
		return kerror_setf(err, EOPNOTSUPP, NULL, NULL, "unknown command %d", cmd);
	q.cmd = (uint8_t)cmd;
	r = parse_msg(nlh, q.cmd, true, "request", tb, NULL, &q.bad_offset, err);
	if (r == 0)
		r = request_allowed(nlh, tb, dump, &q, err);
	if (r == 0)
		r = request_required(tb, dump, &q, err);
	if (r == 0)
		r = request_values(nlh, tb, &q, err);
	*ret = q;
	return r;
}
