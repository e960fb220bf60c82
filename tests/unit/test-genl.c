// SPDX-License-Identifier: MIT
/*
 * test-genl — the netlink helper: extack parsing from crafted messages, the
 * receive loop (seq filtering, callback errors, dump DONE with an errno),
 * attribute getters, and family resolution against the running kernel
 * (unprivileged: nlctrl and ethtool are always there).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "genl.h"

/* A message builder over a local buffer. */
struct buf {
	uint64_t b[1024];
};

static struct nlmsghdr *put_ack(struct buf *bb, int error, uint16_t flags, uint32_t seq,
				const struct nlmsghdr *orig, bool capped)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(bb->b);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = flags | (capped ? NLM_F_CAPPED : 0);
	nlh->nlmsg_seq = seq;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg = *orig;
	if (!capped) {
		/* echo the original payload */
		size_t plen = orig->nlmsg_len - NLMSG_HDRLEN;

		memcpy(mnl_nlmsg_get_payload_tail(nlh), mnl_nlmsg_get_payload(orig), plen);
		nlh->nlmsg_len += MNL_ALIGN(plen);
	}
	return nlh;
}

static struct nlmsghdr *make_req(struct buf *bb)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(bb->b);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	struct nlattr *nest;

	nlh->nlmsg_type = 0x15;
	nlh->nlmsg_seq = 7;
	g->cmd = 18;
	nest = mnl_attr_nest_start(nlh, 1);
	mnl_attr_put_u32(nlh, 1, 3);
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_put_u32(nlh, 9, 2); /* offset 4 + 16 + 4 + 8 = 32 from nlh */
	return nlh;
}

static void test_ack_plain(void **state)
{
	struct buf rq, ab;
	struct nlmsghdr *req = make_req(&rq);
	struct nlmsghdr *ack = put_ack(&ab, 0, 0, 7, req, true);
	struct kerror e = { 0 };
	char warn[64] = "x";

	assert_int_equal(genl_parse_ack(ack, req, &e, warn, sizeof(warn)), 0);
	assert_false(kerror_is_set(&e));
	assert_string_equal(warn, "");
}

static void test_ack_extack_msg(void **state)
{
	struct buf rq, ab;
	struct nlmsghdr *req = make_req(&rq);
	struct nlmsghdr *ack = put_ack(&ab, -EINVAL, NLM_F_ACK_TLVS, 7, req, true);
	struct kerror e = { 0 };
	char out[256];

	mnl_attr_put_strz(ack, NLMSGERR_ATTR_MSG, "requested channel count exceeds maximum");
	mnl_attr_put_u32(ack, NLMSGERR_ATTR_OFFS, 32);
	assert_int_equal(genl_parse_ack(ack, req, &e, NULL, 0), -EINVAL);
	assert_int_equal(e.err, EINVAL);
	assert_string_equal(e.msg, "requested channel count exceeds maximum");
	kerror_context(&e, "eth0", "set channels");
	assert_string_equal(kerror_format(&e, out, sizeof(out)),
			    "eth0: set channels: requested channel count exceeds maximum (EINVAL)");
}

static void test_ack_uncapped_echo(void **state)
{
	/* Without CAP_ACK the kernel echoes the request before the TLVs. */
	struct buf rq, ab;
	struct nlmsghdr *req = make_req(&rq);
	struct nlmsghdr *ack = put_ack(&ab, -EOPNOTSUPP, NLM_F_ACK_TLVS, 7, req, false);
	struct kerror e = { 0 };

	mnl_attr_put_strz(ack, NLMSGERR_ATTR_MSG, "setting hds-thresh is not supported");
	assert_int_equal(genl_parse_ack(ack, req, &e, NULL, 0), -EOPNOTSUPP);
	assert_string_equal(e.msg, "setting hds-thresh is not supported");
}

static void test_ack_offs_only(void **state)
{
	struct buf rq, ab;
	struct nlmsghdr *req = make_req(&rq);
	struct nlmsghdr *ack = put_ack(&ab, -EOPNOTSUPP, NLM_F_ACK_TLVS, 7, req, true);
	struct kerror e = { 0 };

	mnl_attr_put_u32(ack, NLMSGERR_ATTR_OFFS, 32);
	assert_int_equal(genl_parse_ack(ack, req, &e, NULL, 0), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "kernel flagged attribute 9"));
	/* an offset outside the request is ignored */
	ack = put_ack(&ab, -EOPNOTSUPP, NLM_F_ACK_TLVS, 7, req, true);
	mnl_attr_put_u32(ack, NLMSGERR_ATTR_OFFS, 4000);
	assert_int_equal(genl_parse_ack(ack, req, &e, NULL, 0), -EOPNOTSUPP);
	assert_string_equal(e.msg, "");
}

static void test_ack_missing(void **state)
{
	struct buf rq, ab;
	struct nlmsghdr *req = make_req(&rq);
	struct nlmsghdr *ack = put_ack(&ab, -EINVAL, NLM_F_ACK_TLVS, 7, req, true);
	struct kerror e = { 0 };

	mnl_attr_put_u32(ack, NLMSGERR_ATTR_MISS_TYPE, 2);
	assert_int_equal(genl_parse_ack(ack, req, &e, NULL, 0), -EINVAL);
	assert_string_equal(e.msg, "missing attribute 2");
}

static void test_ack_warning(void **state)
{
	struct buf rq, ab;
	struct nlmsghdr *req = make_req(&rq);
	struct nlmsghdr *ack = put_ack(&ab, 0, NLM_F_ACK_TLVS, 7, req, true);
	char warn[64];

	mnl_attr_put_strz(ack, NLMSGERR_ATTR_MSG, "something odd");
	assert_int_equal(genl_parse_ack(ack, req, NULL, warn, sizeof(warn)), 0);
	assert_string_equal(warn, "something odd");
}

static void test_ack_bad_errno(void **state)
{
	struct buf rq, ab;
	struct nlmsghdr *req = make_req(&rq);
	struct kerror e = { 0 };

	/* found by fuzz-nic: INT_MIN cannot be negated */
	assert_int_equal(genl_parse_ack(put_ack(&ab, INT32_MIN, 0, 7, req, true), req, &e, NULL, 0),
			 -EPROTO);
	assert_int_equal(genl_parse_ack(put_ack(&ab, 5000, 0, 7, req, true), req, &e, NULL, 0),
			 -EPROTO);
	assert_int_equal(genl_parse_ack(put_ack(&ab, 22, 0, 7, req, true), req, &e, NULL, 0),
			 -EINVAL);
}

static void test_ack_truncated(void **state)
{
	struct buf ab;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(ab.b);
	struct kerror e = { 0 };

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_len += 4; /* shorter than struct nlmsgerr */
	assert_int_equal(genl_parse_ack(nlh, NULL, &e, NULL, 0), -EBADMSG);
}

static void test_done_with_error(void **state)
{
	struct buf ab;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(ab.b);
	struct kerror e = { 0 };
	int *v;

	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI | NLM_F_ACK_TLVS;
	v = mnl_nlmsg_put_extra_header(nlh, sizeof(int));
	*v = -EOPNOTSUPP;
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "no qstats");
	assert_int_equal(genl_parse_ack(nlh, NULL, &e, NULL, 0), -EOPNOTSUPP);
	assert_string_equal(e.msg, "no qstats");

	/* a plain DONE */
	nlh = mnl_nlmsg_put_header(ab.b);
	nlh->nlmsg_type = NLMSG_DONE;
	v = mnl_nlmsg_put_extra_header(nlh, sizeof(int));
	*v = 0;
	assert_int_equal(genl_parse_ack(nlh, NULL, &e, NULL, 0), 0);
}

/* Three data messages (seq 5, 6, 6) then DONE seq 6. */
static size_t build_stream(struct buf *bb)
{
	char *p = (char *)bb->b;
	size_t off = 0;
	uint32_t seqs[] = { 5, 6, 6 };
	struct nlmsghdr *nlh;
	size_t i;

	for (i = 0; i < 3; i++) {
		nlh = mnl_nlmsg_put_header(p + off);
		nlh->nlmsg_type = 0x20;
		nlh->nlmsg_flags = NLM_F_MULTI;
		nlh->nlmsg_seq = seqs[i];
		mnl_attr_put_u32(nlh, 1, (uint32_t)i);
		off += nlh->nlmsg_len;
	}
	nlh = mnl_nlmsg_put_header(p + off);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_seq = 6;
	*(int *)mnl_nlmsg_put_extra_header(nlh, sizeof(int)) = 0;
	off += nlh->nlmsg_len;
	return off;
}

struct seen {
	int n;
	uint32_t vals[8];
	int fail_at;
};

static int seen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct seen *s = data;
	const struct nlattr *tb[2];

	genl_attrs_msg(nlh, 0, tb, 1);
	assert_true(genl_attr_u32(tb[1], &s->vals[s->n]));
	s->n++;
	if (s->fail_at && s->n == s->fail_at)
		return -ENOMEM;
	return 0;
}

static void test_process_seq_filter(void **state)
{
	struct buf bb;
	size_t len = build_stream(&bb);
	struct seen s = { 0 };
	struct kerror e = { 0 };
	bool done = false;

	assert_int_equal(genl_process(bb.b, len, 6, 0, NULL, seen_cb, &s, &done, &e, NULL), 0);
	assert_true(done);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.vals[0], 1);
	assert_int_equal(s.vals[1], 2);
}

static void test_process_cb_error(void **state)
{
	struct buf bb;
	size_t len = build_stream(&bb);
	struct seen s = { .fail_at = 1 };
	struct kerror e = { 0 };
	bool done = false;

	/* the callback fails on the first message; the stream is still drained
	 * to DONE and the callback is not called again */
	assert_int_equal(genl_process(bb.b, len, 6, 0, NULL, seen_cb, &s, &done, &e, NULL),
			 -ENOMEM);
	assert_true(done);
	assert_int_equal(s.n, 1);
	assert_int_equal(e.err, ENOMEM);
}

static void test_process_truncated(void **state)
{
	struct buf bb;
	size_t len = build_stream(&bb);
	struct seen s = { 0 };
	struct kerror e = { 0 };
	bool done = false;

	/* cut into the DONE message */
	assert_int_equal(genl_process(bb.b, len - 6, 6, 0, NULL, seen_cb, &s, &done, &e, NULL),
			 -EBADMSG);
	assert_false(done);
}

static void test_attr_getters(void **state)
{
	struct buf bb;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(bb.b);
	const struct nlattr *tb[8];
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int32_t s32;

	mnl_attr_put_u8(nlh, 1, 0xab);
	mnl_attr_put_u16(nlh, 2, 0xabcd);
	mnl_attr_put_u32(nlh, 3, 0xdeadbeef);
	mnl_attr_put_u64(nlh, 4, 0x1122334455667788ull);
	mnl_attr_put(nlh, 5, 3, "abc"); /* not NUL-terminated */
	mnl_attr_put_strz(nlh, 6, "v0");
	mnl_attr_put_u32(nlh, 7, (uint32_t)-5);
	mnl_attr_put_u32(nlh, 42, 1); /* above max: ignored */
	genl_attrs_msg(nlh, 0, tb, 7);

	assert_true(genl_attr_u8(tb[1], &u8));
	assert_int_equal(u8, 0xab);
	assert_false(genl_attr_u32(tb[1], &u32));
	assert_true(genl_attr_u16(tb[2], &u16));
	assert_int_equal(u16, 0xabcd);
	assert_true(genl_attr_u32(tb[3], &u32));
	assert_int_equal(u32, 0xdeadbeef);
	assert_false(genl_attr_u64(tb[3], &u64));
	assert_true(genl_attr_uint(tb[3], &u64));
	assert_int_equal(u64, 0xdeadbeef);
	assert_true(genl_attr_uint(tb[4], &u64));
	assert_true(u64 == 0x1122334455667788ull);
	assert_null(genl_attr_str(tb[5]));
	assert_string_equal(genl_attr_str(tb[6]), "v0");
	assert_true(genl_attr_s32(tb[7], &s32));
	assert_int_equal(s32, -5);
	assert_false(genl_attr_u32(NULL, &u32));
	assert_null(genl_attr_str(NULL));
	assert_null(tb[0]);
}

static void test_parse_family_synthetic(void **state)
{
	struct buf bb;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(bb.b);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	struct nlattr *ops, *op, *grps, *grp;
	struct genl_family f;
	uint32_t ids[] = { 1, 17, 50 };
	size_t i;

	nlh->nlmsg_type = GENL_ID_CTRL;
	g->cmd = CTRL_CMD_NEWFAMILY;
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, 0x15);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "ethtool");
	mnl_attr_put_u32(nlh, CTRL_ATTR_VERSION, 1);
	ops = mnl_attr_nest_start(nlh, CTRL_ATTR_OPS);
	for (i = 0; i < 3; i++) {
		op = mnl_attr_nest_start(nlh, (uint16_t)(i + 1));
		mnl_attr_put_u32(nlh, CTRL_ATTR_OP_ID, ids[i]);
		mnl_attr_put_u32(nlh, CTRL_ATTR_OP_FLAGS, GENL_CMD_CAP_DO);
		mnl_attr_nest_end(nlh, op);
	}
	mnl_attr_nest_end(nlh, ops);
	grps = mnl_attr_nest_start(nlh, CTRL_ATTR_MCAST_GROUPS);
	grp = mnl_attr_nest_start(nlh, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_MCAST_GRP_NAME, "monitor");
	mnl_attr_put_u32(nlh, CTRL_ATTR_MCAST_GRP_ID, 6);
	mnl_attr_nest_end(nlh, grp);
	mnl_attr_nest_end(nlh, grps);

	assert_int_equal(genl_parse_family(nlh, &f), 0);
	assert_string_equal(f.name, "ethtool");
	assert_int_equal(f.id, 0x15);
	assert_int_equal(f.version, 1);
	assert_true(genl_family_has_op(&f, 1));
	assert_true(genl_family_has_op(&f, 17));
	assert_true(genl_family_has_op(&f, 50));
	assert_false(genl_family_has_op(&f, 48));
	assert_int_equal(f.op_flags[17], GENL_CMD_CAP_DO);
	assert_int_equal(genl_family_group(&f, "monitor"), 6);
	assert_int_equal(genl_family_group(&f, "mgmt"), -ENOENT);

	/* no id: malformed */
	nlh = mnl_nlmsg_put_header(bb.b);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_NEWFAMILY;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "x");
	assert_int_equal(genl_parse_family(nlh, &f), -EBADMSG);
}

static void test_live_resolve(void **state)
{
	struct genl_sock *s;
	struct genl_family f;
	struct kerror e;
	char out[256];
	int r;

	r = genl_sock_open(NETLINK_GENERIC, 0, &s);
	if (r < 0)
		skip();
	assert_int_equal(genl_resolve(s, "nlctrl", &f, &e), 0);
	assert_int_equal(f.id, GENL_ID_CTRL);
	assert_true(genl_family_has_op(&f, CTRL_CMD_GETFAMILY));
	assert_true(genl_family_group(&f, "notify") > 0);

	assert_int_equal(genl_resolve(s, "ethtool", &f, &e), 0);
	assert_true(f.id > GENL_ID_CTRL);
	assert_true(genl_family_has_op(&f, 17)); /* CHANNELS_GET, since 5.7 */
	assert_true(genl_family_group(&f, "monitor") > 0);

	r = genl_resolve(s, "zx-nofamily", &f, &e);
	assert_int_equal(r, -ENOENT);
	assert_int_equal(e.err, ENOENT);
	kerror_format(&e, out, sizeof(out));
	assert_non_null(strstr(out, "zx-nofamily: resolve family: "));
	assert_non_null(strstr(out, "(ENOENT)"));

	/* the socket still works after an error */
	assert_int_equal(genl_resolve(s, "nlctrl", &f, &e), 0);
	assert_int_equal(genl_resolve(s, "", &f, &e), -EINVAL);
	genl_sock_close(s);
}

static void test_live_nonblock_empty(void **state)
{
	struct genl_sock *s;
	struct genl_family f;
	struct kerror e;

	if (genl_sock_open(NETLINK_GENERIC, GENL_SOCK_NONBLOCK, &s) < 0)
		skip();
	assert_int_equal(genl_resolve(s, "nlctrl", &f, &e), 0);
	assert_int_equal(genl_join(s, (uint32_t)genl_family_group(&f, "notify")), 0);
	/* nothing pending: returns at once */
	assert_int_equal(genl_sock_recv(s, NULL, NULL), 0);
	assert_int_equal(genl_leave(s, (uint32_t)genl_family_group(&f, "notify")), 0);
	genl_sock_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ack_plain),
		cmocka_unit_test(test_ack_extack_msg),
		cmocka_unit_test(test_ack_uncapped_echo),
		cmocka_unit_test(test_ack_offs_only),
		cmocka_unit_test(test_ack_missing),
		cmocka_unit_test(test_ack_warning),
		cmocka_unit_test(test_ack_bad_errno),
		cmocka_unit_test(test_ack_truncated),
		cmocka_unit_test(test_done_with_error),
		cmocka_unit_test(test_process_seq_filter),
		cmocka_unit_test(test_process_cb_error),
		cmocka_unit_test(test_process_truncated),
		cmocka_unit_test(test_attr_getters),
		cmocka_unit_test(test_parse_family_synthetic),
		cmocka_unit_test(test_live_resolve),
		cmocka_unit_test(test_live_nonblock_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
