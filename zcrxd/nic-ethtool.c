// SPDX-License-Identifier: MIT
/*
 * nic-ethtool — ethtool generic netlink requests, encoders and decoders
 * (nic-ethtool.h).  Owns the message formats; must not fall back to the
 * ioctl or log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nic-ethtool.h"
#include "nic-uapi.h"

int nic_ethnl_init(struct nic_ethnl *e, struct genl_sock *s, struct kerror *err)
{
	e->s = s;
	return genl_resolve(s, ZX_ETHTOOL_GENL_NAME, &e->fam, err);
}

bool nic_ethnl_has(const struct nic_ethnl *e, uint8_t cmd)
{
	return e->fam.id && genl_family_has_op(&e->fam, cmd);
}

static struct nlmsghdr *start(struct nic_ethnl *e, uint8_t cmd, uint16_t flags)
{
	return genl_msg_start(e->s, e->fam.id, flags, cmd, ZX_ETHTOOL_GENL_VERSION);
}

/* ---- encoders ------------------------------------------------------------ */

void nic_ethnl_put_header(struct nlmsghdr *nlh, int ifindex, uint32_t flags)
{
	struct nlattr *h = mnl_attr_nest_start(nlh, 1); /* *_HEADER is always 1 */

	if (ifindex > 0)
		mnl_attr_put_u32(nlh, ZX_ETHTOOL_A_HEADER_DEV_INDEX, (uint32_t)ifindex);
	if (flags)
		mnl_attr_put_u32(nlh, ZX_ETHTOOL_A_HEADER_FLAGS, flags);
	mnl_attr_nest_end(nlh, h);
}

void nic_ethnl_put_channels(struct nlmsghdr *nlh, const struct nic_channels_req *req)
{
	if (req->has_rx)
		mnl_attr_put_u32(nlh, ZX_ETHTOOL_A_CHANNELS_RX_COUNT, req->rx);
	if (req->has_tx)
		mnl_attr_put_u32(nlh, ZX_ETHTOOL_A_CHANNELS_TX_COUNT, req->tx);
	if (req->has_combined)
		mnl_attr_put_u32(nlh, ZX_ETHTOOL_A_CHANNELS_COMBINED_COUNT, req->combined);
}

void nic_ethnl_put_rings(struct nlmsghdr *nlh, const struct nic_rings_req *req)
{
	if (req->has_tcp_data_split)
		mnl_attr_put_u8(nlh, ZX_ETHTOOL_A_RINGS_TCP_DATA_SPLIT, req->tcp_data_split);
	if (req->has_hds_thresh)
		mnl_attr_put_u32(nlh, ZX_ETHTOOL_A_RINGS_HDS_THRESH, req->hds_thresh);
}

void nic_ethnl_put_feature(struct nlmsghdr *nlh, const char *name, bool on)
{
	struct nlattr *set = mnl_attr_nest_start(nlh, ZX_ETHTOOL_A_FEATURES_WANTED);
	struct nlattr *bits = mnl_attr_nest_start(nlh, ZX_ETHTOOL_A_BITSET_BITS);
	struct nlattr *bit = mnl_attr_nest_start(nlh, ZX_ETHTOOL_A_BITSET_BITS_BIT);

	/* no NOMASK: the listed bits are the mask, VALUE gives the value */
	mnl_attr_put_strz(nlh, ZX_ETHTOOL_A_BITSET_BIT_NAME, name);
	if (on)
		mnl_attr_put(nlh, ZX_ETHTOOL_A_BITSET_BIT_VALUE, 0, NULL);
	mnl_attr_nest_end(nlh, bit);
	mnl_attr_nest_end(nlh, bits);
	mnl_attr_nest_end(nlh, set);
}

int nic_ethnl_put_rss(struct nlmsghdr *nlh, bool has_ctx, uint32_t ctx, const uint32_t *indir,
		      uint32_t n, bool reset, const uint8_t *key, uint32_t key_len)
{
	/* never HFUNC or INPUT_XFRM: an absent attribute is left as it is */
	if (has_ctx && !mnl_attr_put_u32_check(nlh, GENL_MSG_MAX, ZX_ETHTOOL_A_RSS_CONTEXT, ctx))
		return -EMSGSIZE;
	if ((n || reset) && ((uint64_t)n * 4 > GENL_MSG_MAX ||
			     !mnl_attr_put_check(nlh, GENL_MSG_MAX, ZX_ETHTOOL_A_RSS_INDIR,
						 (size_t)n * 4, indir)))
		return -EMSGSIZE;
	if (key && key_len &&
	    !mnl_attr_put_check(nlh, GENL_MSG_MAX, ZX_ETHTOOL_A_RSS_HKEY, key_len, key))
		return -EMSGSIZE;
	return 0;
}

/* ---- decoders ------------------------------------------------------------ */

static void msg_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb, unsigned max)
{
	genl_attrs_msg(nlh, GENL_HDRLEN, tb, max);
}

int nic_ethnl_msg_ifindex(const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[2], *h[ZX_ETHTOOL_A_HEADER_MAX + 1];
	uint32_t idx;

	msg_attrs(nlh, tb, 1);
	genl_attrs_nested(tb[1], h, ZX_ETHTOOL_A_HEADER_MAX);
	if (!genl_attr_u32(h[ZX_ETHTOOL_A_HEADER_DEV_INDEX], &idx) || !idx || idx > INT32_MAX)
		return -ENODATA;
	return (int)idx;
}

int nic_ethnl_parse_channels(const struct nlmsghdr *nlh, struct nic_channels *ret)
{
	const struct nlattr *tb[ZX_ETHTOOL_A_CHANNELS_MAX + 1];

	memset(ret, 0, sizeof(*ret));
	msg_attrs(nlh, tb, ZX_ETHTOOL_A_CHANNELS_MAX);
	/* zero-valued attributes are left out by the kernel */
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_CHANNELS_RX_MAX], &ret->rx_max);
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_CHANNELS_TX_MAX], &ret->tx_max);
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_CHANNELS_OTHER_MAX], &ret->other_max);
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_CHANNELS_COMBINED_MAX], &ret->combined_max);
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_CHANNELS_RX_COUNT], &ret->rx);
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_CHANNELS_TX_COUNT], &ret->tx);
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_CHANNELS_OTHER_COUNT], &ret->other);
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_CHANNELS_COMBINED_COUNT], &ret->combined);
	return 0;
}

int nic_ethnl_parse_rings(const struct nlmsghdr *nlh, struct nic_rings *ret)
{
	const struct nlattr *tb[ZX_ETHTOOL_A_RINGS_MAX + 1];

	memset(ret, 0, sizeof(*ret));
	msg_attrs(nlh, tb, ZX_ETHTOOL_A_RINGS_MAX);
	ret->valid = true;
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_RINGS_RX_MAX], &ret->rx_max);
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_RINGS_TX_MAX], &ret->tx_max);
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_RINGS_RX], &ret->rx);
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_RINGS_TX], &ret->tx);
	ret->has_tcp_data_split =
		genl_attr_u8(tb[ZX_ETHTOOL_A_RINGS_TCP_DATA_SPLIT], &ret->tcp_data_split);
	/* HDS_THRESH_MAX is present only when the driver supports hds-thresh */
	ret->has_hds_thresh =
		genl_attr_u32(tb[ZX_ETHTOOL_A_RINGS_HDS_THRESH_MAX], &ret->hds_thresh_max);
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_RINGS_HDS_THRESH], &ret->hds_thresh);
	return 0;
}

static bool compact_bit(const struct nlattr *a, int index)
{
	const uint8_t *p;
	uint32_t w;

	if (!a || index < 0 || (size_t)(index / 32 + 1) * 4 > mnl_attr_get_payload_len(a))
		return false;
	p = mnl_attr_get_payload(a);
	memcpy(&w, p + (index / 32) * 4, 4);
	return w & (1u << (index % 32));
}

int nic_ethnl_bitset_bit(const struct nlattr *bitset, const char *name, int index,
			 bool *ret_value, int *ret_index)
{
	const struct nlattr *tb[ZX_ETHTOOL_A_BITSET_MAX + 1];
	const struct nlattr *a;
	bool nomask;

	*ret_value = false;
	if (ret_index)
		*ret_index = index;
	if (!bitset)
		return 0;
	genl_attrs_nested(bitset, tb, ZX_ETHTOOL_A_BITSET_MAX);
	nomask = tb[ZX_ETHTOOL_A_BITSET_NOMASK] != NULL;

	if (tb[ZX_ETHTOOL_A_BITSET_BITS]) {
		mnl_attr_for_each_nested(a, tb[ZX_ETHTOOL_A_BITSET_BITS]) {
			const struct nlattr *b[ZX_ETHTOOL_A_BITSET_BIT_MAX + 1];
			const char *bname;
			uint32_t bidx;
			bool has_idx;

			if (mnl_attr_get_type(a) != ZX_ETHTOOL_A_BITSET_BITS_BIT)
				continue;
			genl_attrs_nested(a, b, ZX_ETHTOOL_A_BITSET_BIT_MAX);
			bname = genl_attr_str(b[ZX_ETHTOOL_A_BITSET_BIT_NAME]);
			has_idx = genl_attr_u32(b[ZX_ETHTOOL_A_BITSET_BIT_INDEX], &bidx);
			if (!((name && bname && !strcmp(name, bname)) ||
			      (index >= 0 && has_idx && bidx == (uint32_t)index)))
				continue;
			if (ret_index && has_idx)
				*ret_index = (int)bidx;
			/* a NOMASK list names only the set bits */
			*ret_value = nomask || b[ZX_ETHTOOL_A_BITSET_BIT_VALUE] != NULL;
			return 1;
		}
		return 0;
	}
	if (!tb[ZX_ETHTOOL_A_BITSET_VALUE])
		return 0; /* an empty verbose set */
	if (index < 0)
		return -ENOENT; /* compact form: names are not there */
	*ret_value = compact_bit(tb[ZX_ETHTOOL_A_BITSET_VALUE], index);
	if (nomask)
		return *ret_value ? 1 : 0;
	return compact_bit(tb[ZX_ETHTOOL_A_BITSET_MASK], index) ? 1 : 0;
}

int nic_ethnl_parse_features(const struct nlmsghdr *nlh, const char *name,
			     struct nic_feature *ret)
{
	const struct nlattr *tb[ZX_ETHTOOL_A_FEATURES_MAX + 1];
	int idx = -1, r;
	bool v;

	memset(ret, 0, sizeof(*ret));
	ret->index = -1;
	msg_attrs(nlh, tb, ZX_ETHTOOL_A_FEATURES_MAX);
	if (!tb[ZX_ETHTOOL_A_FEATURES_HW] || !tb[ZX_ETHTOOL_A_FEATURES_ACTIVE])
		return -EBADMSG;
	r = nic_ethnl_bitset_bit(tb[ZX_ETHTOOL_A_FEATURES_HW], name, -1, &v, &idx);
	if (r < 0)
		return r;
	ret->hw = r > 0 && v;
	r = nic_ethnl_bitset_bit(tb[ZX_ETHTOOL_A_FEATURES_WANTED], name, idx, &v, &idx);
	ret->wanted = r > 0 && v;
	r = nic_ethnl_bitset_bit(tb[ZX_ETHTOOL_A_FEATURES_ACTIVE], name, idx, &v, &idx);
	ret->active = r > 0 && v;
	r = nic_ethnl_bitset_bit(tb[ZX_ETHTOOL_A_FEATURES_NOCHANGE], name, idx, &v, &idx);
	ret->nochange = r > 0 && v;
	ret->index = idx;
	return 0;
}

int nic_ethnl_parse_feature_set(const struct nlmsghdr *nlh, const char *name,
				struct nic_feature_set_result *ret)
{
	const struct nlattr *tb[ZX_ETHTOOL_A_FEATURES_MAX + 1];
	bool v;
	int r;

	memset(ret, 0, sizeof(*ret));
	msg_attrs(nlh, tb, ZX_ETHTOOL_A_FEATURES_MAX);
	ret->replied = true;
	/* WANTED: bits whose result differs from the request; ACTIVE: bits
	 * that changed.  Both are verbose here (we never ask for compact). */
	r = nic_ethnl_bitset_bit(tb[ZX_ETHTOOL_A_FEATURES_WANTED], name, -1, &v, NULL);
	if (r < 0)
		return r;
	ret->not_applied = r > 0;
	r = nic_ethnl_bitset_bit(tb[ZX_ETHTOOL_A_FEATURES_ACTIVE], name, -1, &v, NULL);
	if (r < 0)
		return r;
	ret->changed = r > 0;
	return 0;
}

int nic_ethnl_parse_rss(const struct nlmsghdr *nlh, struct nic_rss *ret)
{
	const struct nlattr *tb[ZX_ETHTOOL_A_RSS_MAX + 1];
	uint16_t len;

	memset(ret, 0, sizeof(*ret));
	msg_attrs(nlh, tb, ZX_ETHTOOL_A_RSS_MAX);
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_RSS_CONTEXT], &ret->id);
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_RSS_HFUNC], &ret->hfunc);
	(void)genl_attr_u32(tb[ZX_ETHTOOL_A_RSS_INPUT_XFRM], &ret->input_xfrm);
	if (tb[ZX_ETHTOOL_A_RSS_INDIR]) {
		len = mnl_attr_get_payload_len(tb[ZX_ETHTOOL_A_RSS_INDIR]);
		if (len % 4)
			return -EBADMSG;
		if (len) {
			ret->indir = malloc(len);
			if (!ret->indir)
				return -ENOMEM;
			memcpy(ret->indir, mnl_attr_get_payload(tb[ZX_ETHTOOL_A_RSS_INDIR]), len);
		}
		ret->indir_size = len / 4;
	}
	if (tb[ZX_ETHTOOL_A_RSS_HKEY]) {
		len = mnl_attr_get_payload_len(tb[ZX_ETHTOOL_A_RSS_HKEY]);
		if (len) {
			ret->key = malloc(len);
			if (!ret->key) {
				nic_rss_clear(ret);
				return -ENOMEM;
			}
			memcpy(ret->key, mnl_attr_get_payload(tb[ZX_ETHTOOL_A_RSS_HKEY]), len);
		}
		ret->key_size = len;
	}
	return 0;
}

/* ---- requests ------------------------------------------------------------ */

struct one_reply {
	uint8_t cmd;
	int (*parse)(const struct nlmsghdr *nlh, void *out);
	void *out;
	bool got;
};

static int one_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct one_reply *o = data;
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN || g->cmd != o->cmd || o->got)
		return 0;
	o->got = true;
	return o->parse(nlh, o->out);
}

static int parse_channels_cb(const struct nlmsghdr *nlh, void *out)
{
	return nic_ethnl_parse_channels(nlh, out);
}

static int parse_rings_cb(const struct nlmsghdr *nlh, void *out)
{
	return nic_ethnl_parse_rings(nlh, out);
}

static int parse_rss_cb(const struct nlmsghdr *nlh, void *out)
{
	return nic_ethnl_parse_rss(nlh, out);
}

static int get_one(struct nic_ethnl *e, uint8_t cmd, uint8_t reply, int ifindex,
		   int (*parse)(const struct nlmsghdr *, void *), void *out, struct kerror *err)
{
	struct one_reply o = { .cmd = reply, .parse = parse, .out = out };
	struct nlmsghdr *nlh = start(e, cmd, NLM_F_ACK);
	int r;

	nic_ethnl_put_header(nlh, ifindex, 0);
	r = genl_request(e->s, nlh, one_reply_cb, &o, err);
	if (r == 0 && !o.got)
		r = kerror_set(err, EPROTO, NULL, NULL, "no reply from the kernel");
	return r;
}

int nic_ethnl_channels_get(struct nic_ethnl *e, int ifindex, struct nic_channels *ret,
			   struct kerror *err)
{
	return get_one(e, ZX_ETHTOOL_MSG_CHANNELS_GET, ZX_ETHTOOL_MSG_CHANNELS_GET_REPLY, ifindex,
		       parse_channels_cb, ret, err);
}

int nic_ethnl_channels_set(struct nic_ethnl *e, int ifindex, const struct nic_channels_req *req,
			   struct kerror *err)
{
	struct nlmsghdr *nlh = start(e, ZX_ETHTOOL_MSG_CHANNELS_SET, NLM_F_ACK);

	nic_ethnl_put_header(nlh, ifindex, 0);
	nic_ethnl_put_channels(nlh, req);
	return genl_request(e->s, nlh, NULL, NULL, err);
}

int nic_ethnl_rings_get(struct nic_ethnl *e, int ifindex, struct nic_rings *ret,
			struct kerror *err)
{
	return get_one(e, ZX_ETHTOOL_MSG_RINGS_GET, ZX_ETHTOOL_MSG_RINGS_GET_REPLY, ifindex,
		       parse_rings_cb, ret, err);
}

int nic_ethnl_rings_set(struct nic_ethnl *e, int ifindex, const struct nic_rings_req *req,
			struct kerror *err)
{
	struct nlmsghdr *nlh = start(e, ZX_ETHTOOL_MSG_RINGS_SET, NLM_F_ACK);

	nic_ethnl_put_header(nlh, ifindex, 0);
	nic_ethnl_put_rings(nlh, req);
	return genl_request(e->s, nlh, NULL, NULL, err);
}

struct feature_ctx {
	const char *name;
	struct nic_feature *f;
	struct nic_feature_set_result *set;
};

static int parse_features_cb(const struct nlmsghdr *nlh, void *out)
{
	struct feature_ctx *c = out;

	return nic_ethnl_parse_features(nlh, c->name, c->f);
}

static int parse_feature_set_cb(const struct nlmsghdr *nlh, void *out)
{
	struct feature_ctx *c = out;

	return nic_ethnl_parse_feature_set(nlh, c->name, c->set);
}

int nic_ethnl_feature_get(struct nic_ethnl *e, int ifindex, const char *name,
			  struct nic_feature *ret, struct kerror *err)
{
	struct feature_ctx c = { .name = name, .f = ret };

	/* verbose bitsets: they carry the names */
	return get_one(e, ZX_ETHTOOL_MSG_FEATURES_GET, ZX_ETHTOOL_MSG_FEATURES_GET_REPLY, ifindex,
		       parse_features_cb, &c, err);
}

int nic_ethnl_feature_set(struct nic_ethnl *e, int ifindex, const char *name, bool on,
			  struct nic_feature_set_result *ret, struct kerror *err)
{
	struct feature_ctx c = { .name = name, .set = ret };
	struct one_reply o = {
		.cmd = ZX_ETHTOOL_MSG_FEATURES_SET_REPLY,
		.parse = parse_feature_set_cb,
		.out = &c,
	};
	struct nlmsghdr *nlh = start(e, ZX_ETHTOOL_MSG_FEATURES_SET, NLM_F_ACK);

	memset(ret, 0, sizeof(*ret));
	/* no OMIT_REPLY: the reply is the only place that says "not applied" */
	nic_ethnl_put_header(nlh, ifindex, 0);
	nic_ethnl_put_feature(nlh, name, on);
	return genl_request(e->s, nlh, one_reply_cb, &o, err);
}

int nic_ethnl_rss_get(struct nic_ethnl *e, int ifindex, uint32_t ctx, struct nic_rss *ret,
		      struct kerror *err)
{
	struct one_reply o = { .cmd = ZX_ETHTOOL_MSG_RSS_GET_REPLY, .parse = parse_rss_cb, .out = ret };
	struct nlmsghdr *nlh = start(e, ZX_ETHTOOL_MSG_RSS_GET, NLM_F_ACK);
	int r;

	memset(ret, 0, sizeof(*ret));
	nic_ethnl_put_header(nlh, ifindex, 0);
	if (ctx)
		mnl_attr_put_u32(nlh, ZX_ETHTOOL_A_RSS_CONTEXT, ctx);
	r = genl_request(e->s, nlh, one_reply_cb, &o, err);
	if (r == 0 && !o.got)
		r = kerror_set(err, EPROTO, NULL, NULL, "no reply from the kernel");
	if (r < 0) {
		nic_rss_clear(ret);
		return r;
	}
	ret->id = ctx;
	return 0;
}

struct rss_list {
	int ifindex;
	struct nic_rss *v;
	size_t n;
};

static int rss_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rss_list *l = data;
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	struct nic_rss rss, *nv;
	int r;

	if (g->cmd != ZX_ETHTOOL_MSG_RSS_GET_REPLY || nic_ethnl_msg_ifindex(nlh) != l->ifindex)
		return 0;
	r = nic_ethnl_parse_rss(nlh, &rss);
	if (r < 0)
		return r;
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv) {
		nic_rss_clear(&rss);
		return -ENOMEM;
	}
	l->v = nv;
	l->v[l->n++] = rss;
	return 0;
}

static int rss_cmp(const void *a, const void *b)
{
	const struct nic_rss *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int nic_ethnl_rss_dump(struct nic_ethnl *e, int ifindex, struct nic_rss **ret, size_t *ret_n,
		       struct kerror *err)
{
	struct rss_list l = { .ifindex = ifindex };
	struct nlmsghdr *nlh = start(e, ZX_ETHTOOL_MSG_RSS_GET, NLM_F_DUMP);
	size_t i;
	int r;

	nic_ethnl_put_header(nlh, ifindex, 0);
	r = genl_request(e->s, nlh, rss_dump_cb, &l, err);
	if (r < 0) {
		for (i = 0; i < l.n; i++)
			nic_rss_clear(&l.v[i]);
		free(l.v);
		return r;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), rss_cmp);
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

int nic_ethnl_rss_set(struct nic_ethnl *e, int ifindex, uint32_t ctx, const uint32_t *indir,
		      uint32_t n, bool reset, const uint8_t *key, uint32_t key_len,
		      struct kerror *err)
{
	struct nlmsghdr *nlh = start(e, ZX_ETHTOOL_MSG_RSS_SET, NLM_F_ACK);
	int r;

	nic_ethnl_put_header(nlh, ifindex, 0);
	r = nic_ethnl_put_rss(nlh, ctx != 0, ctx, indir, n, reset, key, key_len);
	if (r < 0)
		return kerror_set(err, -r, NULL, NULL, "indirection table too large");
	return genl_request(e->s, nlh, NULL, NULL, err);
}

static int parse_ctx_cb(const struct nlmsghdr *nlh, void *out)
{
	const struct nlattr *tb[ZX_ETHTOOL_A_RSS_MAX + 1];

	msg_attrs(nlh, tb, ZX_ETHTOOL_A_RSS_MAX);
	if (!genl_attr_u32(tb[ZX_ETHTOOL_A_RSS_CONTEXT], out))
		return -EBADMSG;
	return 0;
}

int nic_ethnl_rss_create(struct nic_ethnl *e, int ifindex, const uint32_t *indir, uint32_t n,
			 uint32_t *ret_ctx, struct kerror *err)
{
	uint32_t ctx = 0;
	struct one_reply o = {
		.cmd = ZX_ETHTOOL_MSG_RSS_CREATE_ACT_REPLY,
		.parse = parse_ctx_cb,
		.out = &ctx,
	};
	struct nlmsghdr *nlh = start(e, ZX_ETHTOOL_MSG_RSS_CREATE_ACT, NLM_F_ACK);
	int r;

	nic_ethnl_put_header(nlh, ifindex, 0);
	/* an empty INDIR is refused here: leave it out for the default */
	r = nic_ethnl_put_rss(nlh, false, 0, indir, n, false, NULL, 0);
	if (r < 0)
		return kerror_set(err, -r, NULL, NULL, "indirection table too large");
	r = genl_request(e->s, nlh, one_reply_cb, &o, err);
	if (r < 0)
		return r;
	if (!o.got || !ctx)
		return kerror_set(err, EPROTO, NULL, NULL, "no context id in the reply");
	*ret_ctx = ctx;
	return 0;
}

int nic_ethnl_rss_delete(struct nic_ethnl *e, int ifindex, uint32_t ctx, struct kerror *err)
{
	struct nlmsghdr *nlh = start(e, ZX_ETHTOOL_MSG_RSS_DELETE_ACT, NLM_F_ACK);

	nic_ethnl_put_header(nlh, ifindex, 0);
	(void)nic_ethnl_put_rss(nlh, true, ctx, NULL, 0, false, NULL, 0); /* CONTEXT only */
	return genl_request(e->s, nlh, NULL, NULL, err);
}
