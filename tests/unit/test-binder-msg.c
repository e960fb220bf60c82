// SPDX-License-Identifier: MIT
/*
 * Unit tests for binder-msg: every vhost_zcrx request, reply and
 * notification built and parsed through libmnl, plus hand-made malformed
 * messages (wrong types and lengths, missing, repeated and unknown
 * attributes, truncated messages and nests) that must be refused cleanly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "binder-msg.h"
#include "vhost_zcrx.h"

#define FAMILY 0x1b
#define BUFSZ 1024

static uint8_t buf[BUFSZ] __attribute__((aligned(8)));

static struct nlmsghdr *start(uint8_t cmd)
{
	memset(buf, 0, sizeof(buf));
	return binder_msg_start(buf, sizeof(buf), FAMILY, NLM_F_REQUEST, 7, cmd, 1);
}

/* Parse through libmnl's message walk, as a receive buffer would be. */
static const struct nlmsghdr *first_msg(const void *b, size_t len)
{
	const struct nlmsghdr *nlh = b;
	int rem = (int)len;

	if (!mnl_nlmsg_ok(nlh, rem))
		return NULL;
	return nlh;
}

static struct binder_binding sample_binding(void)
{
	struct binder_binding b = {
		.id = 42,
		.ifindex = 3,
		.queue = 5,
		.tap_ifindex = 9,
		.fallback = BINDER_FALLBACK_COPY,
		.state = BINDER_STATE_DEGRADED,
		.reason = ENOBUFS,
		.has_stats = true,
		.stats = { 1, 2, 3, 4, 5, 6 },
	};
	return b;
}

/* --- requests -------------------------------------------------------------- */

static void test_probe_request_roundtrip(void **state)
{
	struct nlmsghdr *nlh = start(VHOST_ZCRX_CMD_PROBE);
	struct binder_msg_request q;
	struct kerror err = { 0 };

	(void)state;
	assert_int_equal(binder_msg_put_probe(nlh, sizeof(buf), 17), 0);
	assert_non_null(first_msg(buf, nlh->nlmsg_len));
	assert_int_equal(binder_msg_cmd(nlh), VHOST_ZCRX_CMD_PROBE);
	assert_int_equal(binder_msg_parse_request(nlh, false, &q, &err), 0);
	assert_int_equal(q.cmd, VHOST_ZCRX_CMD_PROBE);
	assert_int_equal(q.ifindex, 17);
	assert_int_equal(q.present, 1u << VHOST_ZCRX_A_IFINDEX);
}

static void test_bind_request_roundtrip(void **state)
{
	struct nlmsghdr *nlh = start(VHOST_ZCRX_CMD_BIND);
	struct binder_msg_request q;
	struct kerror err = { 0 };

	(void)state;
	assert_int_equal(binder_msg_put_bind(nlh, sizeof(buf), 3, 6, 11, BINDER_FALLBACK_COPY), 0);
	assert_int_equal(binder_msg_parse_request(nlh, false, &q, &err), 0);
	assert_int_equal(q.cmd, VHOST_ZCRX_CMD_BIND);
	assert_int_equal(q.ifindex, 3);
	assert_int_equal(q.queue, 6);
	assert_int_equal(q.tap_ifindex, 11);
	assert_int_equal(q.fallback, VHOST_ZCRX_FALLBACK_COPY);
}

static void test_unbind_get_request_roundtrip(void **state)
{
	struct binder_msg_request q;
	struct kerror err = { 0 };
	struct nlmsghdr *nlh;

	(void)state;
	nlh = start(VHOST_ZCRX_CMD_UNBIND);
	assert_int_equal(binder_msg_put_binding_id(nlh, sizeof(buf), 99), 0);
	assert_int_equal(binder_msg_parse_request(nlh, false, &q, &err), 0);
	assert_int_equal(q.cmd, VHOST_ZCRX_CMD_UNBIND);
	assert_int_equal(q.binding_id, 99);

	nlh = start(VHOST_ZCRX_CMD_GET);
	assert_int_equal(binder_msg_put_binding_id(nlh, sizeof(buf), 100), 0);
	assert_int_equal(binder_msg_parse_request(nlh, false, &q, &err), 0);
	assert_int_equal(q.binding_id, 100);

	/* A GET dump needs no id, a GET do does. */
	nlh = start(VHOST_ZCRX_CMD_GET);
	assert_int_equal(binder_msg_parse_request(nlh, true, &q, &err), 0);
	assert_int_equal(binder_msg_parse_request(nlh, false, &q, &err), -EINVAL);
	assert_int_equal(q.missing_type, VHOST_ZCRX_A_BINDING_ID);
	assert_non_null(strstr(err.msg, "missing attribute BINDING_ID"));
}

static void test_request_strictness(void **state)
{
	struct binder_msg_request q;
	struct kerror err = { 0 };
	struct nlmsghdr *nlh;
	uint32_t off;

	(void)state;
	/* BIND without TAP_IFINDEX */
	nlh = start(VHOST_ZCRX_CMD_BIND);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_IFINDEX, 3);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_QUEUE, 1);
	assert_int_equal(binder_msg_parse_request(nlh, false, &q, &err), -EINVAL);
	assert_int_equal(q.missing_type, VHOST_ZCRX_A_TAP_IFINDEX);

	/* FALLBACK absent means DROP */
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_TAP_IFINDEX, 4);
	assert_int_equal(binder_msg_parse_request(nlh, false, &q, &err), 0);
	assert_int_equal(q.fallback, VHOST_ZCRX_FALLBACK_DROP);

	/* FALLBACK out of range, with the offset of the attribute */
	off = nlh->nlmsg_len;
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_FALLBACK, 2);
	assert_int_equal(binder_msg_parse_request(nlh, false, &q, &err), -ERANGE);
	assert_int_equal(q.bad_offset, off);
	assert_non_null(strstr(err.msg, "FALLBACK"));

	/* unknown type in a request */
	nlh = start(VHOST_ZCRX_CMD_PROBE);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_IFINDEX, 3);
	off = nlh->nlmsg_len;
	mnl_attr_put_u32(nlh, 77, 1);
	assert_int_equal(binder_msg_parse_request(nlh, false, &q, &err), -EINVAL);
	assert_int_equal(q.bad_offset, off);
	assert_non_null(strstr(err.msg, "unknown attribute type 77"));

	/* known attribute the command does not take */
	nlh = start(VHOST_ZCRX_CMD_UNBIND);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_BINDING_ID, 3);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_QUEUE, 1);
	assert_int_equal(binder_msg_parse_request(nlh, false, &q, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "QUEUE not expected"));

	/* ifindex 0 */
	nlh = start(VHOST_ZCRX_CMD_PROBE);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_IFINDEX, 0);
	assert_int_equal(binder_msg_parse_request(nlh, false, &q, &err), -ERANGE);

	/* unknown command, and a notification command used as a request */
	nlh = start(9);
	assert_int_equal(binder_msg_parse_request(nlh, false, &q, &err), -EOPNOTSUPP);
	nlh = start(VHOST_ZCRX_CMD_STATE_NTF);
	assert_int_equal(binder_msg_parse_request(nlh, false, &q, &err), -EOPNOTSUPP);

	/* request too short for the genl header */
	nlh = start(VHOST_ZCRX_CMD_PROBE);
	nlh->nlmsg_len = NLMSG_HDRLEN + 2;
	assert_int_equal(binder_msg_parse_request(nlh, false, &q, &err), -EINVAL);
}

static void test_build_overflow(void **state)
{
	uint8_t small[NLMSG_HDRLEN + GENL_HDRLEN + 8];
	struct binder_binding b = sample_binding();
	struct nlmsghdr *nlh;

	(void)state;
	assert_null(binder_msg_start(small, NLMSG_HDRLEN, FAMILY, 0, 0, 1, 1));
	nlh = binder_msg_start(small, sizeof(small), FAMILY, 0, 0, VHOST_ZCRX_CMD_BIND, 1);
	assert_non_null(nlh);
	assert_int_equal(binder_msg_put_bind(nlh, sizeof(small), 1, 2, 3, 0), -EMSGSIZE);
	nlh = binder_msg_start(small, sizeof(small), FAMILY, 0, 0, VHOST_ZCRX_CMD_GET, 1);
	assert_int_equal(binder_msg_put_binding(nlh, sizeof(small), &b), -EMSGSIZE);
	nlh = binder_msg_start(small, sizeof(small), FAMILY, 0, 0, VHOST_ZCRX_CMD_PROBE, 1);
	assert_int_equal(binder_msg_put_probe(nlh, sizeof(small), 1), 0);
}

/* --- replies ----------------------------------------------------------------- */

static void test_probe_reply(void **state)
{
	struct binder_probe p = { .features = BINDER_FEATURE_NEEDS_HDS | 0x100, .max_bindings = 8 };
	struct binder_probe got = { 0 };
	struct kerror err = { 0 };
	struct nlmsghdr *nlh;
	int ifindex = 0;

	(void)state;
	nlh = start(VHOST_ZCRX_CMD_PROBE);
	assert_int_equal(binder_msg_put_probe_reply(nlh, sizeof(buf), 5, &p), 0);
	assert_int_equal(binder_msg_parse_probe(nlh, &ifindex, &got, &err), 0);
	assert_int_equal(ifindex, 5);
	/* unknown feature bits are kept, not refused */
	assert_int_equal(got.features, BINDER_FEATURE_NEEDS_HDS | 0x100);
	assert_int_equal(got.max_bindings, 8);

	/* FEATURES as a u32 is refused (it must be exactly 8 bytes) */
	nlh = start(VHOST_ZCRX_CMD_PROBE);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_IFINDEX, 5);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_FEATURES, 1);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_MAX_BINDINGS, 1);
	got.max_bindings = 1234;
	assert_int_equal(binder_msg_parse_probe(nlh, NULL, &got, &err), -EBADMSG);
	assert_int_equal(got.max_bindings, 1234); /* untouched on failure */
	assert_int_equal(err.err, EBADMSG);
	assert_string_equal(err.msg,
			    "malformed PROBE reply: attribute FEATURES has length 4, expected 8");

	/* missing MAX_BINDINGS */
	nlh = start(VHOST_ZCRX_CMD_PROBE);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_IFINDEX, 5);
	mnl_attr_put_u64(nlh, VHOST_ZCRX_A_FEATURES, 1);
	assert_int_equal(binder_msg_parse_probe(nlh, NULL, &got, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "missing attribute MAX_BINDINGS"));

	/* a reply carrying another command */
	nlh = start(VHOST_ZCRX_CMD_GET);
	assert_int_equal(binder_msg_put_probe_reply(nlh, sizeof(buf), 5, &p), 0);
	assert_int_equal(binder_msg_parse_probe(nlh, NULL, &got, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "carries command 4"));
}

static void test_bind_reply(void **state)
{
	struct kerror err = { 0 };
	struct nlmsghdr *nlh;
	uint32_t id = 0;

	(void)state;
	nlh = start(VHOST_ZCRX_CMD_BIND);
	assert_int_equal(binder_msg_put_bind_reply(nlh, sizeof(buf), 12), 0);
	assert_int_equal(binder_msg_parse_bind(nlh, &id, &err), 0);
	assert_int_equal(id, 12);

	nlh = start(VHOST_ZCRX_CMD_BIND);
	assert_int_equal(binder_msg_parse_bind(nlh, &id, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "missing attribute BINDING_ID"));

	nlh = start(VHOST_ZCRX_CMD_BIND);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_BINDING_ID, 0);
	assert_int_equal(binder_msg_parse_bind(nlh, &id, &err), -EBADMSG);

	/* repeated */
	nlh = start(VHOST_ZCRX_CMD_BIND);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_BINDING_ID, 1);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_BINDING_ID, 2);
	assert_int_equal(binder_msg_parse_bind(nlh, &id, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "BINDING_ID repeated"));
	assert_int_equal(id, 12);

	/* u16-sized id */
	nlh = start(VHOST_ZCRX_CMD_BIND);
	mnl_attr_put_u16(nlh, VHOST_ZCRX_A_BINDING_ID, 1);
	assert_int_equal(binder_msg_parse_bind(nlh, &id, &err), -EBADMSG);
}

static void test_binding_roundtrip(void **state)
{
	struct binder_binding b = sample_binding(), got;
	struct kerror err = { 0 };
	struct nlmsghdr *nlh;

	(void)state;
	nlh = start(VHOST_ZCRX_CMD_GET);
	assert_int_equal(binder_msg_put_binding(nlh, sizeof(buf), &b), 0);
	memset(&got, 0xff, sizeof(got));
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), 0);
	assert_int_equal(got.id, 42);
	assert_int_equal(got.ifindex, 3);
	assert_int_equal(got.queue, 5);
	assert_int_equal(got.tap_ifindex, 9);
	assert_int_equal(got.fallback, BINDER_FALLBACK_COPY);
	assert_int_equal(got.state, BINDER_STATE_DEGRADED);
	assert_int_equal(got.reason, ENOBUFS);
	assert_true(got.has_stats);
	assert_int_equal(got.stats.rx_packets, 1);
	assert_int_equal(got.stats.rx_bytes, 2);
	assert_int_equal(got.stats.zc_packets, 3);
	assert_int_equal(got.stats.copy_packets, 4);
	assert_int_equal(got.stats.drop_nobuf, 5);
	assert_int_equal(got.stats.bufs_posted, 6);

	/* without stats and reason */
	b.has_stats = false;
	b.reason = 0;
	b.state = BINDER_STATE_ACTIVE;
	nlh = start(VHOST_ZCRX_CMD_GET);
	assert_int_equal(binder_msg_put_binding(nlh, sizeof(buf), &b), 0);
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), 0);
	assert_false(got.has_stats);
	assert_int_equal(got.reason, 0);
	assert_int_equal(got.state, BINDER_STATE_ACTIVE);
}

/* Write a binding by hand, attribute by attribute, leaving one out or
 * replacing its value.  skip/override: attribute type (0 = none). */
static struct nlmsghdr *binding_by_hand(uint16_t skip, uint16_t override, uint32_t value)
{
	static const uint16_t types[] = { VHOST_ZCRX_A_BINDING_ID, VHOST_ZCRX_A_IFINDEX,
					  VHOST_ZCRX_A_QUEUE, VHOST_ZCRX_A_TAP_IFINDEX,
					  VHOST_ZCRX_A_FALLBACK, VHOST_ZCRX_A_STATE };
	static const uint32_t values[] = { 42, 3, 5, 9, 1, 1 };
	struct nlmsghdr *nlh = start(VHOST_ZCRX_CMD_GET);

	for (size_t i = 0; i < 6; i++) {
		if (types[i] == skip)
			continue;
		mnl_attr_put_u32(nlh, types[i], types[i] == override ? value : values[i]);
	}
	return nlh;
}

static void test_binding_malformed(void **state)
{
	static const uint16_t required[] = { VHOST_ZCRX_A_BINDING_ID, VHOST_ZCRX_A_IFINDEX,
					     VHOST_ZCRX_A_QUEUE, VHOST_ZCRX_A_TAP_IFINDEX,
					     VHOST_ZCRX_A_FALLBACK, VHOST_ZCRX_A_STATE };
	struct binder_binding got;
	struct kerror err = { 0 };
	struct nlmsghdr *nlh;

	(void)state;
	assert_int_equal(binder_msg_parse_binding(binding_by_hand(0, 0, 0), &got, &err), 0);
	for (size_t i = 0; i < 6; i++) {
		nlh = binding_by_hand(required[i], 0, 0);
		kerror_clear(&err);
		assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), -EBADMSG);
		assert_non_null(strstr(err.msg, "missing attribute"));
	}
	/* enum out of range */
	nlh = binding_by_hand(0, VHOST_ZCRX_A_STATE, 4);
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "STATE: value 4 out of range 0..3"));
	nlh = binding_by_hand(0, VHOST_ZCRX_A_FALLBACK, 2);
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), -EBADMSG);
	/* ifindex not an ifindex */
	nlh = binding_by_hand(0, VHOST_ZCRX_A_TAP_IFINDEX, 0);
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), -EBADMSG);
	nlh = binding_by_hand(0, VHOST_ZCRX_A_IFINDEX, 0x80000000u);
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), -EBADMSG);
	/* REASON not an errno */
	nlh = binding_by_hand(0, 0, 0);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_REASON, 100000);
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), -EBADMSG);
	/* STATS as a u32 instead of a nest */
	nlh = binding_by_hand(0, 0, 0);
	mnl_attr_put_u16(nlh, VHOST_ZCRX_A_STATS, 7);
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "nest STATS has length 2"));
}

static void test_unknown_and_pad_ignored(void **state)
{
	struct binder_binding got;
	struct kerror err = { 0 };
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	(void)state;
	nlh = binding_by_hand(0, 0, 0);
	/* a pad attribute (type 0, no payload), an attribute from a later
	 * version, and inside STATS a pad and an unknown counter */
	mnl_attr_put(nlh, VHOST_ZCRX_A_PAD, 0, NULL);
	mnl_attr_put_strz(nlh, VHOST_ZCRX_A_MAX + 5, "future");
	nest = mnl_attr_nest_start(nlh, VHOST_ZCRX_A_STATS);
	mnl_attr_put(nlh, VHOST_ZCRX_A_STATS_PAD, 0, NULL);
	mnl_attr_put_u64(nlh, VHOST_ZCRX_A_STATS_ZC_PACKETS, 77);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_STATS_MAX + 1, 5);
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), 0);
	assert_true(got.has_stats);
	assert_int_equal(got.stats.zc_packets, 77);
	assert_int_equal(got.stats.rx_packets, 0);

	/* an empty STATS nest is fine: no counters known */
	nlh = binding_by_hand(0, 0, 0);
	nest = mnl_attr_nest_start(nlh, VHOST_ZCRX_A_STATS);
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), 0);
	assert_true(got.has_stats);
}

static void test_stats_nest_malformed(void **state)
{
	struct binder_binding got;
	struct kerror err = { 0 };
	struct nlmsghdr *nlh;
	struct nlattr *nest, *inner;

	(void)state;
	/* a u32 counter */
	nlh = binding_by_hand(0, 0, 0);
	nest = mnl_attr_nest_start(nlh, VHOST_ZCRX_A_STATS);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_STATS_RX_BYTES, 5);
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "STATS.RX_BYTES has length 4, expected 8"));

	/* a repeated counter */
	nlh = binding_by_hand(0, 0, 0);
	nest = mnl_attr_nest_start(nlh, VHOST_ZCRX_A_STATS);
	mnl_attr_put_u64(nlh, VHOST_ZCRX_A_STATS_RX_BYTES, 5);
	mnl_attr_put_u64(nlh, VHOST_ZCRX_A_STATS_RX_BYTES, 6);
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), -EBADMSG);

	/* truncated nest: the inner attribute claims more than the nest holds */
	nlh = binding_by_hand(0, 0, 0);
	nest = mnl_attr_nest_start(nlh, VHOST_ZCRX_A_STATS);
	mnl_attr_put_u64(nlh, VHOST_ZCRX_A_STATS_RX_PACKETS, 1);
	inner = mnl_attr_nest_start(nlh, 0); /* placeholder we turn into a bad attr */
	mnl_attr_put_u64(nlh, 1, 1);
	mnl_attr_nest_end(nlh, inner);
	mnl_attr_nest_end(nlh, nest);
	inner->nla_type = VHOST_ZCRX_A_STATS_RX_BYTES;
	inner->nla_len = 64; /* beyond the nest */
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "nest STATS truncated"));

	/* trailing bytes in the nest that do not form an attribute */
	nlh = binding_by_hand(0, 0, 0);
	nest = mnl_attr_nest_start(nlh, VHOST_ZCRX_A_STATS);
	mnl_attr_put_u64(nlh, VHOST_ZCRX_A_STATS_RX_PACKETS, 1);
	mnl_attr_nest_end(nlh, nest);
	nest->nla_len += 4;
	nlh->nlmsg_len += 4;
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), -EBADMSG);
}

/* Cut a valid binding message at every length: the parser must never read
 * beyond the cut, and may accept it only when the cut falls on an attribute
 * boundary after every required attribute (it dropped REASON and/or STATS
 * whole). */
static void test_truncation_every_length(void **state)
{
	struct binder_binding b = sample_binding(), got;
	struct kerror err = { 0 };
	struct nlmsghdr *nlh;
	uint32_t full, stats_off = 0, reason_off = 0;
	uint8_t *copy;

	(void)state;
	nlh = start(VHOST_ZCRX_CMD_GET);
	assert_int_equal(binder_msg_put_binding(nlh, sizeof(buf), &b), 0);
	full = nlh->nlmsg_len;
	{
		const struct nlattr *a;

		mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
			uint32_t off = (uint32_t)((const uint8_t *)a - (const uint8_t *)nlh);

			if (mnl_attr_get_type(a) == VHOST_ZCRX_A_STATS)
				stats_off = off;
			if (mnl_attr_get_type(a) == VHOST_ZCRX_A_REASON)
				reason_off = off;
		}
	}
	assert_true(stats_off > 0 && reason_off > 0);
	for (uint32_t cut = NLMSG_HDRLEN; cut < full; cut++) {
		int r;

		/* an exact-size heap copy, so ASan catches any over-read */
		copy = test_malloc(cut);
		memcpy(copy, buf, cut);
		((struct nlmsghdr *)copy)->nlmsg_len = cut;
		r = binder_msg_parse_binding((struct nlmsghdr *)copy, &got, &err);
		if (cut == stats_off || cut == reason_off)
			assert_int_equal(r, 0);
		else
			assert_int_equal(r, -EBADMSG);
		test_free(copy);
	}
}

static void test_state_ntf(void **state)
{
	struct binder_event ev = { 0 };
	struct kerror err = { 0 };
	struct nlmsghdr *nlh;

	(void)state;
	nlh = start(VHOST_ZCRX_CMD_STATE_NTF);
	assert_int_equal(binder_msg_put_state_ntf(nlh, sizeof(buf), 7, BINDER_STATE_ACTIVE, 0), 0);
	assert_int_equal(binder_msg_parse_state_ntf(nlh, &ev, &err), 0);
	assert_int_equal(ev.type, BINDER_EVENT_STATE);
	assert_int_equal(ev.id, 7);
	assert_int_equal(ev.state, BINDER_STATE_ACTIVE);

	nlh = start(VHOST_ZCRX_CMD_STATE_NTF);
	assert_int_equal(binder_msg_put_state_ntf(nlh, sizeof(buf), 7, BINDER_STATE_BROKEN, EIO), 0);
	assert_int_equal(binder_msg_parse_state_ntf(nlh, &ev, &err), 0);
	assert_int_equal(ev.type, BINDER_EVENT_STATE);
	assert_int_equal(ev.reason, EIO);

	/* BROKEN + ENODEV: the module tore it down */
	nlh = start(VHOST_ZCRX_CMD_STATE_NTF);
	assert_int_equal(binder_msg_put_state_ntf(nlh, sizeof(buf), 7, BINDER_STATE_BROKEN, ENODEV),
			 0);
	assert_int_equal(binder_msg_parse_state_ntf(nlh, &ev, &err), 0);
	assert_int_equal(ev.type, BINDER_EVENT_GONE);

	/* REASON is optional */
	nlh = start(VHOST_ZCRX_CMD_STATE_NTF);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_BINDING_ID, 8);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_STATE, BINDER_STATE_PENDING);
	assert_int_equal(binder_msg_parse_state_ntf(nlh, &ev, &err), 0);
	assert_int_equal(ev.id, 8);
	assert_int_equal(ev.reason, 0);

	/* STATE missing */
	nlh = start(VHOST_ZCRX_CMD_STATE_NTF);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_BINDING_ID, 8);
	assert_int_equal(binder_msg_parse_state_ntf(nlh, &ev, &err), -EBADMSG);
	assert_string_equal(err.msg, "malformed STATE_NTF notification: missing attribute STATE");

	/* truncated last attribute (message length cuts it) */
	nlh = start(VHOST_ZCRX_CMD_STATE_NTF);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_BINDING_ID, 8);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_STATE, 1);
	nlh->nlmsg_len -= 2;
	assert_int_equal(binder_msg_parse_state_ntf(nlh, &ev, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "truncated"));

	/* an aligned tail that is not a whole attribute: a header claiming 8
	 * bytes with only 4 left */
	nlh = start(VHOST_ZCRX_CMD_STATE_NTF);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_BINDING_ID, 8);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_STATE, 1);
	{
		struct nlattr *tail = mnl_nlmsg_get_payload_tail(nlh);

		tail->nla_len = 8;
		tail->nla_type = VHOST_ZCRX_A_REASON;
		nlh->nlmsg_len += 4;
	}
	assert_int_equal(binder_msg_parse_state_ntf(nlh, &ev, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "attributes truncated: 4 of 20 bytes"));

	/* attribute header with nla_len < 4 */
	nlh = start(VHOST_ZCRX_CMD_STATE_NTF);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_BINDING_ID, 8);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_STATE, 1);
	((struct nlattr *)((uint8_t *)nlh + NLMSG_HDRLEN + GENL_HDRLEN))->nla_len = 2;
	assert_int_equal(binder_msg_parse_state_ntf(nlh, &ev, &err), -EBADMSG);

	/* wrong command */
	nlh = start(VHOST_ZCRX_CMD_GET);
	assert_int_equal(binder_msg_put_state_ntf(nlh, sizeof(buf), 7, BINDER_STATE_ACTIVE, 0), 0);
	assert_int_equal(binder_msg_parse_state_ntf(nlh, &ev, &err), -EBADMSG);
}

/* REASON_MSG: the module's words, in a binding and a notification; a
 * string that is not one NUL-terminated string of at most
 * VHOST_ZCRX_REASON_MSG_MAX bytes is refused. */
static void test_reason_msg(void **state)
{
	struct binder_binding b = sample_binding(), got;
	struct binder_event ev = { 0 };
	struct binder_msg_request q;
	struct kerror err = { 0 };
	char long_msg[VHOST_ZCRX_REASON_MSG_MAX + 8];
	struct nlmsghdr *nlh;

	(void)state;
	snprintf(b.reason_msg, sizeof(b.reason_msg), "reference module: no data path");
	nlh = start(VHOST_ZCRX_CMD_GET);
	assert_int_equal(binder_msg_put_binding(nlh, sizeof(buf), &b), 0);
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), 0);
	assert_string_equal(got.reason_msg, "reference module: no data path");

	/* absent: empty */
	b.reason_msg[0] = '\0';
	nlh = start(VHOST_ZCRX_CMD_GET);
	assert_int_equal(binder_msg_put_binding(nlh, sizeof(buf), &b), 0);
	assert_int_equal(binder_msg_parse_binding(nlh, &got, &err), 0);
	assert_string_equal(got.reason_msg, "");

	nlh = start(VHOST_ZCRX_CMD_STATE_NTF);
	assert_int_equal(binder_msg_put_state_ntf(nlh, sizeof(buf), 7, BINDER_STATE_BROKEN, ERANGE), 0);
	assert_int_equal(binder_msg_put_reason_msg(nlh, sizeof(buf), "queue 3 is gone"), 0);
	assert_int_equal(binder_msg_parse_state_ntf(nlh, &ev, &err), 0);
	assert_string_equal(ev.reason_msg, "queue 3 is gone");
	assert_int_equal(ev.reason, ERANGE);

	/* building cuts a long text to the ABI's limit */
	memset(long_msg, 'x', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	nlh = start(VHOST_ZCRX_CMD_STATE_NTF);
	assert_int_equal(binder_msg_put_state_ntf(nlh, sizeof(buf), 7, BINDER_STATE_BROKEN, EIO), 0);
	assert_int_equal(binder_msg_put_reason_msg(nlh, sizeof(buf), long_msg), 0);
	assert_int_equal(binder_msg_parse_state_ntf(nlh, &ev, &err), 0);
	assert_int_equal(strlen(ev.reason_msg), VHOST_ZCRX_REASON_MSG_MAX - 1);

	/* too long, not terminated, two strings in one: refused */
	nlh = start(VHOST_ZCRX_CMD_STATE_NTF);
	binder_msg_put_state_ntf(nlh, sizeof(buf), 7, BINDER_STATE_BROKEN, EIO);
	mnl_attr_put_strz(nlh, VHOST_ZCRX_A_REASON_MSG, long_msg);
	assert_int_equal(binder_msg_parse_state_ntf(nlh, &ev, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "REASON_MSG"));
	nlh = start(VHOST_ZCRX_CMD_STATE_NTF);
	binder_msg_put_state_ntf(nlh, sizeof(buf), 7, BINDER_STATE_BROKEN, EIO);
	mnl_attr_put(nlh, VHOST_ZCRX_A_REASON_MSG, 4, "abcd");
	assert_int_equal(binder_msg_parse_state_ntf(nlh, &ev, &err), -EBADMSG);
	nlh = start(VHOST_ZCRX_CMD_STATE_NTF);
	binder_msg_put_state_ntf(nlh, sizeof(buf), 7, BINDER_STATE_BROKEN, EIO);
	mnl_attr_put(nlh, VHOST_ZCRX_A_REASON_MSG, 4, "ab\0");
	assert_int_equal(binder_msg_parse_state_ntf(nlh, &ev, &err), -EBADMSG);
	nlh = start(VHOST_ZCRX_CMD_STATE_NTF);
	binder_msg_put_state_ntf(nlh, sizeof(buf), 7, BINDER_STATE_BROKEN, EIO);
	mnl_attr_put(nlh, VHOST_ZCRX_A_REASON_MSG, 0, "");
	assert_int_equal(binder_msg_parse_state_ntf(nlh, &ev, &err), -EBADMSG);

	/* a request never carries it */
	nlh = start(VHOST_ZCRX_CMD_PROBE);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_IFINDEX, 3);
	mnl_attr_put_strz(nlh, VHOST_ZCRX_A_REASON_MSG, "no");
	assert_int_equal(binder_msg_parse_request(nlh, false, &q, &err), -EINVAL);
}

static void test_names(void **state)
{
	enum binder_state s;
	char b[64];

	(void)state;
	assert_string_equal(binder_state_name(BINDER_STATE_PENDING), "pending");
	assert_string_equal(binder_state_name(BINDER_STATE_BROKEN), "broken");
	assert_string_equal(binder_state_name((enum binder_state)9), "unknown");
	assert_int_equal(binder_state_from_name("degraded", &s), 0);
	assert_int_equal(s, BINDER_STATE_DEGRADED);
	assert_int_equal(binder_state_from_name("nope", &s), -EINVAL);
	assert_string_equal(binder_fallback_name(BINDER_FALLBACK_COPY), "copy");
	assert_string_equal(binder_fallback_name(7), "unknown");
	assert_string_equal(binder_features_format(0, b, sizeof(b)), "none");
	assert_string_equal(binder_features_format(3, b, sizeof(b)), "needs-hds,copy-fallback");
	assert_string_equal(binder_features_format(0x12, b, sizeof(b)), "copy-fallback,0x10");
	assert_string_equal(binder_features_format(3, b, 5), "need");
	assert_string_equal(binder_event_type_name(BINDER_EVENT_GONE), "gone");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_request_roundtrip),
		cmocka_unit_test(test_bind_request_roundtrip),
		cmocka_unit_test(test_unbind_get_request_roundtrip),
		cmocka_unit_test(test_request_strictness),
		cmocka_unit_test(test_build_overflow),
		cmocka_unit_test(test_probe_reply),
		cmocka_unit_test(test_bind_reply),
		cmocka_unit_test(test_binding_roundtrip),
		cmocka_unit_test(test_binding_malformed),
		cmocka_unit_test(test_unknown_and_pad_ignored),
		cmocka_unit_test(test_stats_nest_malformed),
		cmocka_unit_test(test_truncation_every_length),
		cmocka_unit_test(test_state_ntf),
		cmocka_unit_test(test_reason_msg),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
