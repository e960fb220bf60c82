// SPDX-License-Identifier: MIT
/*
 * test-nic-codec — encoders and decoders of the NIC backends that no veth
 * reply exercises: ntuple rule flow specs and masks, ring_cookie, rule
 * locations, RSS set/create/delete messages, compact and verbose bitsets,
 * netdev queue providers, NAPI IRQs, 64-bit qstats, rtnetlink extras, and
 * the IRQ -> CPU -> NUMA lookup over a fake procfs/sysfs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "genl.h"
#include "nic-ethtool.h"
#include "nic-ioctl.h"
#include "nic-json.h"
#include "nic-netdev.h"
#include "nic-rtnl.h"
#include "nic-uapi.h"

struct buf {
	uint64_t b[4096];
};

static struct nlmsghdr *genl_start(struct buf *bb, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(bb->b);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	nlh->nlmsg_type = 0x20;
	g->cmd = cmd;
	g->version = 1;
	return nlh;
}

static const struct nlattr *attr(const struct nlmsghdr *nlh, unsigned type)
{
	const struct nlattr *tb[64];

	genl_attrs_msg(nlh, GENL_HDRLEN, tb, 63);
	return tb[type];
}

/* ---- ntuple rules ---------------------------------------------------------- */

static void test_rule_ether(void **state)
{
	struct nic_rule r = { .location = 5, .match = NIC_RULE_MATCH_ETHER_DST,
			      .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
			      .action = NIC_RULE_ACTION_QUEUE, .queue = 3 };
	struct zx_ethtool_rxnfc nfc;
	struct nic_rule back;
	const uint8_t *raw = (const uint8_t *)&nfc;
	static const uint8_t ff[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	assert_int_equal(nic_ioctl_rule_encode(&r, &nfc), 0);
	assert_int_equal(nfc.cmd, ZX_ETHTOOL_SRXCLSRLINS);
	assert_int_equal(nfc.fs.flow_type, ZX_ETHER_FLOW);
	/* h_u.ether_spec.h_dest at fs+4, mask at fs+76 */
	assert_memory_equal(raw + 16 + 4, r.mac, 6);
	assert_memory_equal(raw + 16 + 76, ff, 6);
	assert_memory_equal(raw + 16 + 76 + 6, "\0\0\0\0\0\0\0\0", 8); /* no src/proto */
	assert_true(nfc.fs.ring_cookie == 3);
	assert_int_equal(nfc.fs.location, 5);
	assert_int_equal(nfc.rule_cnt, 0);

	nic_ioctl_rule_decode(&nfc, &back);
	assert_int_equal(back.match, NIC_RULE_MATCH_ETHER_DST);
	assert_memory_equal(back.mac, r.mac, 6);
	assert_int_equal(back.action, NIC_RULE_ACTION_QUEUE);
	assert_int_equal(back.queue, 3);
	assert_int_equal(back.location, 5);
}

static void test_rule_ip4_context(void **state)
{
	struct nic_rule r = { .location = NIC_LOC_ANY, .match = NIC_RULE_MATCH_IP4_DST,
			      .action = NIC_RULE_ACTION_CONTEXT, .rss_context = 7 };
	struct zx_ethtool_rxnfc nfc;
	struct nic_rule back;
	uint32_t ctx;

	inet_pton(AF_INET, "192.0.2.10", &r.ip4);
	assert_int_equal(nic_ioctl_rule_encode(&r, &nfc), 0);
	assert_int_equal(nfc.fs.flow_type, ZX_IPV4_USER_FLOW | ZX_FLOW_RSS);
	assert_int_equal(nfc.fs.h_u.usr_ip4_spec.ip4dst, r.ip4.s_addr);
	assert_int_equal(nfc.fs.m_u.usr_ip4_spec.ip4dst, 0xffffffffu);
	assert_int_equal(nfc.fs.h_u.usr_ip4_spec.ip_ver, ZX_ETH_RX_NFC_IP4);
	assert_int_equal(nfc.fs.m_u.usr_ip4_spec.ip_ver, 0);
	assert_int_equal(nfc.fs.m_u.usr_ip4_spec.ip4src, 0);
	assert_true(nfc.fs.ring_cookie == 0);
	assert_int_equal(nfc.fs.location, ZX_RX_CLS_LOC_ANY);
	/* rss_context shares storage with rule_cnt at offset 184 */
	memcpy(&ctx, (const uint8_t *)&nfc + 184, 4);
	assert_int_equal(ctx, 7);

	nic_ioctl_rule_decode(&nfc, &back);
	assert_int_equal(back.match, NIC_RULE_MATCH_IP4_DST);
	assert_int_equal(back.ip4.s_addr, r.ip4.s_addr);
	assert_int_equal(back.action, NIC_RULE_ACTION_CONTEXT);
	assert_int_equal(back.rss_context, 7);
}

static void test_rule_ip6_drop(void **state)
{
	struct nic_rule r = { .location = 0, .match = NIC_RULE_MATCH_IP6_DST,
			      .action = NIC_RULE_ACTION_DROP };
	struct zx_ethtool_rxnfc nfc;
	struct nic_rule back;

	inet_pton(AF_INET6, "2001:db8::42", &r.ip6);
	assert_int_equal(nic_ioctl_rule_encode(&r, &nfc), 0);
	assert_int_equal(nfc.fs.flow_type, ZX_IPV6_USER_FLOW);
	assert_memory_equal(nfc.fs.h_u.usr_ip6_spec.ip6dst, &r.ip6, 16);
	assert_true(nfc.fs.ring_cookie == ZX_RX_CLS_FLOW_DISC);
	nic_ioctl_rule_decode(&nfc, &back);
	assert_int_equal(back.match, NIC_RULE_MATCH_IP6_DST);
	assert_memory_equal(&back.ip6, &r.ip6, 16);
	assert_int_equal(back.action, NIC_RULE_ACTION_DROP);
}

static void test_rule_foreign(void **state)
{
	struct nic_rule r = { .match = NIC_RULE_MATCH_ETHER_DST, .action = NIC_RULE_ACTION_QUEUE,
			      .queue = 1 };
	struct zx_ethtool_rxnfc nfc;
	struct nic_rule back;

	/* also matching the source MAC: not one of ours */
	assert_int_equal(nic_ioctl_rule_encode(&r, &nfc), 0);
	nfc.fs.m_u.ether_spec.h_source[0] = 0xff;
	nic_ioctl_rule_decode(&nfc, &back);
	assert_int_equal(back.match, NIC_RULE_MATCH_OTHER);

	/* FLOW_EXT (vlan) rules are not ours either */
	assert_int_equal(nic_ioctl_rule_encode(&r, &nfc), 0);
	nfc.fs.flow_type |= ZX_FLOW_EXT;
	nic_ioctl_rule_decode(&nfc, &back);
	assert_int_equal(back.match, NIC_RULE_MATCH_OTHER);

	/* a VF in ring_cookie (bits 32..39 = vf + 1) */
	assert_int_equal(nic_ioctl_rule_encode(&r, &nfc), 0);
	nfc.fs.ring_cookie = (2ull << ZX_ETHTOOL_RX_FLOW_SPEC_RING_VF_OFF) | 4;
	nic_ioctl_rule_decode(&nfc, &back);
	assert_int_equal(back.action, NIC_RULE_ACTION_OTHER);
	assert_int_equal(back.queue, 4);

	nfc.fs.ring_cookie = ZX_RX_CLS_FLOW_WAKE;
	nic_ioctl_rule_decode(&nfc, &back);
	assert_int_equal(back.action, NIC_RULE_ACTION_OTHER);

	/* a TCP 5-tuple rule: decoded as "other", location kept */
	memset(&nfc, 0, sizeof(nfc));
	nfc.fs.flow_type = ZX_TCP_V4_FLOW;
	nfc.fs.location = 9;
	nfc.fs.ring_cookie = 2;
	nic_ioctl_rule_decode(&nfc, &back);
	assert_int_equal(back.match, NIC_RULE_MATCH_OTHER);
	assert_int_equal(back.location, 9);
	assert_int_equal(back.queue, 2);
	assert_int_equal(back.flow_type, ZX_TCP_V4_FLOW);

	r.match = NIC_RULE_MATCH_OTHER;
	assert_int_equal(nic_ioctl_rule_encode(&r, &nfc), -EINVAL);
}

/* Issue 9, bug 4: "any slot" follows the planner's rule, the highest free
 * slot (the lowest priority), not the lowest. */
static void test_pick_slot(void **state)
{
	uint32_t locs[] = { 3, 0, 1, 1, 7 }, full[] = { 0, 1, 2 }, top[] = { 7, 6, 9 }, slot = 99;
	struct nic_rule_table t = { .count = 5, .size = 8 };

	assert_int_equal(nic_ioctl_pick_slot(locs, 5, 8, &slot), 0);
	assert_int_equal(slot, 6);
	assert_int_equal(nic_ioctl_pick_slot(NULL, 0, 8, &slot), 0);
	assert_int_equal(slot, 7);
	assert_int_equal(nic_ioctl_pick_slot(top, 3, 8, &slot), 0);
	assert_int_equal(slot, 5); /* 9 lies beyond the table */
	assert_int_equal(nic_ioctl_pick_slot(full, 3, 3, &slot), -ENOSPC);
	assert_int_equal(nic_ioctl_pick_slot(full, 3, 4, &slot), 0);
	assert_int_equal(slot, 3);
	assert_int_equal(nic_ioctl_pick_slot(NULL, 0, 0, &slot), -ENOSPC);
	assert_int_equal(nic_ioctl_pick_slot(full, 1, 1, &slot), -ENOSPC);

	/* the location an insert at "any slot" sends */
	assert_int_equal(nic_ioctl_insert_location(&t, locs, 5, true, &slot), 0);
	assert_int_equal(slot, 6);
	t.loc_special = true; /* the driver picks: the lowest priority, or any */
	assert_int_equal(nic_ioctl_insert_location(&t, NULL, 0, true, &slot), 0);
	assert_int_equal(slot, ZX_RX_CLS_LOC_LAST);
	assert_int_equal(nic_ioctl_insert_location(&t, NULL, 0, false, &slot), 0);
	assert_int_equal(slot, ZX_RX_CLS_LOC_ANY);
}

static void test_replicate(void **state)
{
	uint32_t in[] = { 0, 1 }, out[8];
	uint32_t i;

	assert_int_equal(nic_ioctl_replicate(in, 2, 8, out), 0);
	for (i = 0; i < 8; i++)
		assert_int_equal(out[i], i % 2);
	assert_int_equal(nic_ioctl_replicate(in, 2, 7, out), -EINVAL);
	assert_int_equal(nic_ioctl_replicate(in, 0, 8, out), -EINVAL);
}

static void test_rxfh_encode(void **state)
{
	uint32_t indir[2] = { 2, 3 }, i;
	uint8_t key[4] = { 1, 2, 3, 4 };
	struct zx_ethtool_rxfh *rx, del;
	struct kerror e = { 0 };

	/* set context 0: table replicated to the device's 8, key after it */
	rx = nic_ioctl_rxfh_encode(0, indir, 2, false, key, 4, 8, 4, &e);
	assert_non_null(rx);
	assert_int_equal(rx->cmd, ZX_ETHTOOL_SRSSH);
	assert_int_equal(rx->rss_context, 0);
	assert_int_equal(rx->indir_size, 8);
	assert_int_equal(rx->key_size, 4);
	for (i = 0; i < 8; i++)
		assert_int_equal(rx->rss_config[i], indir[i % 2]);
	assert_memory_equal((uint8_t *)rx->rss_config + 32, key, 4);
	/* the hash function and symmetric hashing stay as they are: 0 and
	 * RXH_XFRM_NO_CHANGE, as ethtool sends them (input_xfrm 0 is "no
	 * transform" to 6.8+ and would clear an admin's symmetric-xor) */
	assert_int_equal(rx->hfunc, ZX_ETH_RSS_HASH_NO_CHANGE);
	assert_int_equal(rx->input_xfrm, 0xff);
	assert_int_equal(rx->rsvd8[0], 0);
	assert_int_equal(rx->rsvd8[1], 0);
	assert_int_equal(rx->rsvd32, 0);
	free(rx);

	/* create with the driver's default table */
	rx = nic_ioctl_rxfh_encode(ZX_ETH_RXFH_CONTEXT_ALLOC, NULL, 0, false, NULL, 0, 8, 4, &e);
	assert_non_null(rx);
	assert_int_equal(rx->rss_context, ZX_ETH_RXFH_CONTEXT_ALLOC);
	assert_int_equal(rx->indir_size, ZX_ETH_RXFH_INDIR_NO_CHANGE);
	assert_int_equal(rx->key_size, 0);
	assert_int_equal(rx->hfunc, 0);
	assert_int_equal(rx->input_xfrm, 0xff);
	free(rx);

	/* reset context 0 to the default */
	rx = nic_ioctl_rxfh_encode(0, NULL, 0, true, NULL, 0, 8, 4, &e);
	assert_non_null(rx);
	assert_int_equal(rx->indir_size, 0);
	assert_int_equal(rx->input_xfrm, 0xff);
	free(rx);

	/* refusals, with our own text (the ioctl has none) */
	assert_null(nic_ioctl_rxfh_encode(0, indir, 2, false, NULL, 0, 7, 4, &e));
	assert_int_equal(e.err, EINVAL);
	assert_string_equal(e.msg, "a table of 2 entries does not divide the device's 7");
	assert_null(nic_ioctl_rxfh_encode(0, NULL, 0, false, key, 4, 8, 40, &e));
	assert_string_equal(e.msg, "key must be 40 bytes, not 4");

	/* delete: the context with sizes 0 */
	nic_ioctl_rxfh_delete_encode(5, &del);
	assert_int_equal(del.cmd, ZX_ETHTOOL_SRSSH);
	assert_int_equal(del.rss_context, 5);
	assert_int_equal(del.indir_size, 0);
	assert_int_equal(del.key_size, 0);
	assert_int_equal(del.hfunc, 0);
	assert_int_equal(del.input_xfrm, 0xff);
}

static void test_put_rss_delete(void **state)
{
	struct buf bb;
	struct nlmsghdr *nlh = genl_start(&bb, ZX_ETHTOOL_MSG_RSS_DELETE_ACT);
	const struct nlattr *tb[ZX_ETHTOOL_A_RSS_MAX + 1];
	uint32_t v;

	/* the RSS_DELETE_ACT body: header + CONTEXT, nothing else */
	nic_ethnl_put_header(nlh, 3, 0);
	assert_int_equal(nic_ethnl_put_rss(nlh, true, 9, NULL, 0, false, NULL, 0), 0);
	genl_attrs_msg(nlh, GENL_HDRLEN, tb, ZX_ETHTOOL_A_RSS_MAX);
	assert_true(genl_attr_u32(tb[ZX_ETHTOOL_A_RSS_CONTEXT], &v));
	assert_int_equal(v, 9);
	assert_non_null(tb[ZX_ETHTOOL_A_RSS_HEADER]);
	assert_null(tb[ZX_ETHTOOL_A_RSS_INDIR]);
	assert_null(tb[ZX_ETHTOOL_A_RSS_HKEY]);
	assert_null(tb[ZX_ETHTOOL_A_RSS_HFUNC]);
}

/* ---- ethtool netlink encoders ------------------------------------------------ */

static void test_put_header(void **state)
{
	struct buf bb;
	struct nlmsghdr *nlh = genl_start(&bb, ZX_ETHTOOL_MSG_CHANNELS_GET);
	const struct nlattr *h[ZX_ETHTOOL_A_HEADER_MAX + 1];
	uint32_t v;

	nic_ethnl_put_header(nlh, 7, ZX_ETHTOOL_FLAG_COMPACT_BITSETS);
	genl_attrs_nested(attr(nlh, 1), h, ZX_ETHTOOL_A_HEADER_MAX);
	assert_true(genl_attr_u32(h[ZX_ETHTOOL_A_HEADER_DEV_INDEX], &v));
	assert_int_equal(v, 7);
	assert_true(genl_attr_u32(h[ZX_ETHTOOL_A_HEADER_FLAGS], &v));
	assert_int_equal(v, 1);
	assert_int_equal(nic_ethnl_msg_ifindex(nlh), 7);

	/* dump: no device, no flags */
	nlh = genl_start(&bb, ZX_ETHTOOL_MSG_CHANNELS_GET);
	nic_ethnl_put_header(nlh, 0, 0);
	genl_attrs_nested(attr(nlh, 1), h, ZX_ETHTOOL_A_HEADER_MAX);
	assert_null(h[ZX_ETHTOOL_A_HEADER_DEV_INDEX]);
	assert_null(h[ZX_ETHTOOL_A_HEADER_FLAGS]);
	assert_int_equal(nic_ethnl_msg_ifindex(nlh), -ENODATA);
}

static void test_put_channels_rings(void **state)
{
	struct buf bb;
	struct nlmsghdr *nlh = genl_start(&bb, ZX_ETHTOOL_MSG_CHANNELS_SET);
	struct nic_channels_req c = { .has_combined = true, .combined = 6 };
	struct nic_rings_req r = { .has_tcp_data_split = true, .tcp_data_split = 2,
				   .has_hds_thresh = true, .hds_thresh = 0 };
	uint32_t v;
	uint8_t u8;

	nic_ethnl_put_channels(nlh, &c);
	assert_true(genl_attr_u32(attr(nlh, ZX_ETHTOOL_A_CHANNELS_COMBINED_COUNT), &v));
	assert_int_equal(v, 6);
	/* only what is asked for is sent */
	assert_null(attr(nlh, ZX_ETHTOOL_A_CHANNELS_RX_COUNT));
	assert_null(attr(nlh, ZX_ETHTOOL_A_CHANNELS_TX_COUNT));

	nlh = genl_start(&bb, ZX_ETHTOOL_MSG_RINGS_SET);
	nic_ethnl_put_rings(nlh, &r);
	assert_true(genl_attr_u8(attr(nlh, ZX_ETHTOOL_A_RINGS_TCP_DATA_SPLIT), &u8));
	assert_int_equal(u8, ZX_ETHTOOL_TCP_DATA_SPLIT_ENABLED);
	assert_true(genl_attr_u32(attr(nlh, ZX_ETHTOOL_A_RINGS_HDS_THRESH), &v));
	assert_int_equal(v, 0);
}

static void test_put_feature_verbose(void **state)
{
	struct buf bb;
	struct nlmsghdr *nlh = genl_start(&bb, ZX_ETHTOOL_MSG_FEATURES_SET);
	const struct nlattr *set;
	bool v;

	nic_ethnl_put_feature(nlh, ZX_FEATURE_NTUPLE, true);
	set = attr(nlh, ZX_ETHTOOL_A_FEATURES_WANTED);
	assert_non_null(set);
	assert_int_equal(nic_ethnl_bitset_bit(set, ZX_FEATURE_NTUPLE, -1, &v, NULL), 1);
	assert_true(v);
	assert_int_equal(nic_ethnl_bitset_bit(set, "rx-gro", -1, &v, NULL), 0);

	nlh = genl_start(&bb, ZX_ETHTOOL_MSG_FEATURES_SET);
	nic_ethnl_put_feature(nlh, ZX_FEATURE_NTUPLE, false);
	set = attr(nlh, ZX_ETHTOOL_A_FEATURES_WANTED);
	/* listed (in the mask) with value 0: "turn it off" */
	assert_int_equal(nic_ethnl_bitset_bit(set, ZX_FEATURE_NTUPLE, -1, &v, NULL), 1);
	assert_false(v);
}

static void test_put_rss(void **state)
{
	struct buf bb;
	struct nlmsghdr *nlh = genl_start(&bb, ZX_ETHTOOL_MSG_RSS_SET);
	uint32_t indir[] = { 0, 1, 2, 3 }, v, *big;
	uint8_t key[40] = { 1, 2, 3 };
	const struct nlattr *a;

	assert_int_equal(nic_ethnl_put_rss(nlh, true, 5, indir, 4, false, key, 40), 0);
	assert_true(genl_attr_u32(attr(nlh, ZX_ETHTOOL_A_RSS_CONTEXT), &v));
	assert_int_equal(v, 5);
	a = attr(nlh, ZX_ETHTOOL_A_RSS_INDIR);
	assert_int_equal(mnl_attr_get_payload_len(a), 16);
	assert_memory_equal(mnl_attr_get_payload(a), indir, 16);
	a = attr(nlh, ZX_ETHTOOL_A_RSS_HKEY);
	assert_int_equal(mnl_attr_get_payload_len(a), 40);
	/* the hash function and symmetric hashing are left as they are */
	assert_null(attr(nlh, ZX_ETHTOOL_A_RSS_HFUNC));
	assert_null(attr(nlh, ZX_ETHTOOL_A_RSS_INPUT_XFRM));

	/* context 0, reset: an empty INDIR, nothing else */
	nlh = genl_start(&bb, ZX_ETHTOOL_MSG_RSS_SET);
	assert_int_equal(nic_ethnl_put_rss(nlh, false, 0, NULL, 0, true, NULL, 0), 0);
	assert_null(attr(nlh, ZX_ETHTOOL_A_RSS_CONTEXT));
	a = attr(nlh, ZX_ETHTOOL_A_RSS_INDIR);
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_payload_len(a), 0);
	assert_null(attr(nlh, ZX_ETHTOOL_A_RSS_HKEY));

	/* create without a table: no INDIR at all (the policy refuses empty) */
	nlh = genl_start(&bb, ZX_ETHTOOL_MSG_RSS_CREATE_ACT);
	assert_int_equal(nic_ethnl_put_rss(nlh, false, 0, NULL, 0, false, NULL, 0), 0);
	assert_null(attr(nlh, ZX_ETHTOOL_A_RSS_INDIR));
	assert_null(attr(nlh, ZX_ETHTOOL_A_RSS_HFUNC));
	assert_null(attr(nlh, ZX_ETHTOOL_A_RSS_INPUT_XFRM));

	/* a table larger than the request buffer */
	big = calloc(GENL_MSG_MAX / 4, sizeof(*big));
	nlh = genl_start(&bb, ZX_ETHTOOL_MSG_RSS_SET);
	assert_int_equal(nic_ethnl_put_rss(nlh, false, 0, big, GENL_MSG_MAX / 4, false, NULL, 0),
			 -EMSGSIZE);
	free(big);
}

static void test_parse_rss(void **state)
{
	struct buf bb;
	struct nlmsghdr *nlh = genl_start(&bb, ZX_ETHTOOL_MSG_RSS_GET_REPLY);
	uint32_t indir[8] = { 0, 1, 2, 3, 0, 1, 2, 3 };
	uint8_t key[4] = { 0xde, 0xad, 0xbe, 0xef };
	struct nic_rss rss;
	json_object *j;

	nic_ethnl_put_header(nlh, 3, 0);
	mnl_attr_put_u32(nlh, ZX_ETHTOOL_A_RSS_CONTEXT, 2);
	mnl_attr_put_u32(nlh, ZX_ETHTOOL_A_RSS_HFUNC, ZX_ETH_RSS_HASH_TOP);
	mnl_attr_put_u32(nlh, ZX_ETHTOOL_A_RSS_INPUT_XFRM, ZX_RXH_XFRM_SYM_XOR);
	mnl_attr_put(nlh, ZX_ETHTOOL_A_RSS_INDIR, sizeof(indir), indir);
	mnl_attr_put(nlh, ZX_ETHTOOL_A_RSS_HKEY, sizeof(key), key);
	assert_int_equal(nic_ethnl_parse_rss(nlh, &rss), 0);
	assert_int_equal(rss.id, 2);
	assert_int_equal(rss.hfunc, 1);
	assert_int_equal(rss.indir_size, 8);
	assert_memory_equal(rss.indir, indir, sizeof(indir));
	assert_int_equal(rss.key_size, 4);
	assert_int_equal(nic_rss_weight(&rss, 1), 2);
	assert_int_equal(nic_rss_weight(&rss, 5), 0);
	j = nic_json_rss(&rss);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "key")), "deadbeef");
	assert_string_equal(json_object_get_string(json_object_object_get(j, "hfunc")),
			    "toeplitz");
	assert_int_equal(rss.input_xfrm, ZX_RXH_XFRM_SYM_XOR);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "symmetric")), "xor");
	json_object_put(j);
	nic_rss_clear(&rss);

	/* an INDIR that is not whole u32s */
	nlh = genl_start(&bb, ZX_ETHTOOL_MSG_RSS_GET_REPLY);
	mnl_attr_put(nlh, ZX_ETHTOOL_A_RSS_INDIR, 6, indir);
	assert_int_equal(nic_ethnl_parse_rss(nlh, &rss), -EBADMSG);
}

/* ---- bitsets ----------------------------------------------------------------- */

static void test_bitset_compact(void **state)
{
	struct buf bb;
	struct nlmsghdr *nlh = genl_start(&bb, 0);
	struct nlattr *n;
	uint32_t value[2] = { 1u << 3, 1u << (38 - 32) }, mask[2] = { (1u << 3) | (1u << 4), 1u << 6 };
	const struct nlattr *set;
	bool v;

	/* value/mask: bit 3 on, bit 4 off (in mask), bit 38 on, bit 5 not in mask */
	n = mnl_attr_nest_start(nlh, 1);
	mnl_attr_put_u32(nlh, ZX_ETHTOOL_A_BITSET_SIZE, 64);
	mnl_attr_put(nlh, ZX_ETHTOOL_A_BITSET_VALUE, 8, value);
	mnl_attr_put(nlh, ZX_ETHTOOL_A_BITSET_MASK, 8, mask);
	mnl_attr_nest_end(nlh, n);
	set = attr(nlh, 1);
	assert_int_equal(nic_ethnl_bitset_bit(set, NULL, 3, &v, NULL), 1);
	assert_true(v);
	assert_int_equal(nic_ethnl_bitset_bit(set, NULL, 4, &v, NULL), 1);
	assert_false(v);
	assert_int_equal(nic_ethnl_bitset_bit(set, NULL, 5, &v, NULL), 0);
	assert_int_equal(nic_ethnl_bitset_bit(set, NULL, 38, &v, NULL), 1);
	assert_true(v);
	assert_int_equal(nic_ethnl_bitset_bit(set, NULL, 90, &v, NULL), 0); /* beyond size */
	assert_int_equal(nic_ethnl_bitset_bit(set, "rx-gro", -1, &v, NULL), -ENOENT);

	/* NOMASK: the set bits are the list */
	nlh = genl_start(&bb, 0);
	n = mnl_attr_nest_start(nlh, 1);
	mnl_attr_put(nlh, ZX_ETHTOOL_A_BITSET_NOMASK, 0, NULL);
	mnl_attr_put_u32(nlh, ZX_ETHTOOL_A_BITSET_SIZE, 64);
	mnl_attr_put(nlh, ZX_ETHTOOL_A_BITSET_VALUE, 8, value);
	mnl_attr_nest_end(nlh, n);
	set = attr(nlh, 1);
	assert_int_equal(nic_ethnl_bitset_bit(set, NULL, 3, &v, NULL), 1);
	assert_true(v);
	assert_int_equal(nic_ethnl_bitset_bit(set, NULL, 4, &v, NULL), 0);
	assert_false(v);
}

static void put_bit(struct nlmsghdr *nlh, uint32_t idx, const char *name, bool value)
{
	struct nlattr *b = mnl_attr_nest_start(nlh, ZX_ETHTOOL_A_BITSET_BITS_BIT);

	mnl_attr_put_u32(nlh, ZX_ETHTOOL_A_BITSET_BIT_INDEX, idx);
	mnl_attr_put_strz(nlh, ZX_ETHTOOL_A_BITSET_BIT_NAME, name);
	if (value)
		mnl_attr_put(nlh, ZX_ETHTOOL_A_BITSET_BIT_VALUE, 0, NULL);
	mnl_attr_nest_end(nlh, b);
}

static void test_bitset_verbose(void **state)
{
	struct buf bb;
	struct nlmsghdr *nlh = genl_start(&bb, 0);
	struct nlattr *n, *bits;
	const struct nlattr *set;
	bool v;
	int idx;

	/* value/mask list: rx-ntuple-filter listed off, rx-gro listed on */
	n = mnl_attr_nest_start(nlh, 1);
	bits = mnl_attr_nest_start(nlh, ZX_ETHTOOL_A_BITSET_BITS);
	put_bit(nlh, 38, "rx-ntuple-filter", false);
	put_bit(nlh, 21, "rx-gro", true);
	mnl_attr_nest_end(nlh, bits);
	mnl_attr_nest_end(nlh, n);
	set = attr(nlh, 1);
	assert_int_equal(nic_ethnl_bitset_bit(set, "rx-ntuple-filter", -1, &v, &idx), 1);
	assert_false(v);
	assert_int_equal(idx, 38);
	assert_int_equal(nic_ethnl_bitset_bit(set, NULL, 21, &v, NULL), 1); /* by index */
	assert_true(v);
	assert_int_equal(nic_ethnl_bitset_bit(set, "tx-nocache-copy", -1, &v, NULL), 0);

	/* NOMASK list: listed means set, VALUE flags absent */
	nlh = genl_start(&bb, 0);
	n = mnl_attr_nest_start(nlh, 1);
	mnl_attr_put(nlh, ZX_ETHTOOL_A_BITSET_NOMASK, 0, NULL);
	bits = mnl_attr_nest_start(nlh, ZX_ETHTOOL_A_BITSET_BITS);
	put_bit(nlh, 21, "rx-gro", false);
	mnl_attr_nest_end(nlh, bits);
	mnl_attr_nest_end(nlh, n);
	set = attr(nlh, 1);
	assert_int_equal(nic_ethnl_bitset_bit(set, "rx-gro", -1, &v, NULL), 1);
	assert_true(v);

	/* absent set */
	assert_int_equal(nic_ethnl_bitset_bit(NULL, "rx-gro", -1, &v, NULL), 0);
}

/* ---- netdev ------------------------------------------------------------------ */

static void test_queue_providers(void **state)
{
	struct buf bb;
	struct nlmsghdr *nlh = genl_start(&bb, ZX_NETDEV_CMD_QUEUE_GET);
	struct nic_netdev_queue q;
	struct nlattr *n;
	json_object *j;

	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QUEUE_ID, 5);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QUEUE_IFINDEX, 9);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QUEUE_TYPE, ZX_NETDEV_QUEUE_TYPE_RX);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QUEUE_NAPI_ID, 8193);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QUEUE_DMABUF, 4);
	n = mnl_attr_nest_start(nlh, ZX_NETDEV_A_QUEUE_IO_URING);
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, ZX_NETDEV_A_QUEUE_LEASE);
	mnl_attr_put_u32(nlh, 1, 12);
	mnl_attr_nest_end(nlh, n);
	assert_int_equal(nic_netdev_parse_queue(nlh, &q), 0);
	assert_int_equal(q.id, 5);
	assert_int_equal(q.ifindex, 9);
	assert_int_equal(q.napi_id, 8193);
	assert_int_equal(q.providers, NIC_PROVIDER_DMABUF | NIC_PROVIDER_IO_URING |
					      NIC_PROVIDER_LEASE);
	assert_int_equal(q.dmabuf, 4);
	assert_int_equal(q.lease_ifindex, 12);
	j = nic_json_providers(q.providers);
	assert_string_equal(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
			    "[\"dmabuf\",\"io_uring\",\"lease\"]");
	json_object_put(j);

	/* an XSK-only queue */
	nlh = genl_start(&bb, ZX_NETDEV_CMD_QUEUE_GET);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QUEUE_ID, 0);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QUEUE_IFINDEX, 9);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QUEUE_TYPE, ZX_NETDEV_QUEUE_TYPE_RX);
	n = mnl_attr_nest_start(nlh, ZX_NETDEV_A_QUEUE_XSK);
	mnl_attr_nest_end(nlh, n);
	assert_int_equal(nic_netdev_parse_queue(nlh, &q), 0);
	assert_int_equal(q.providers, NIC_PROVIDER_XSK);

	/* missing ifindex */
	nlh = genl_start(&bb, ZX_NETDEV_CMD_QUEUE_GET);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QUEUE_ID, 0);
	assert_int_equal(nic_netdev_parse_queue(nlh, &q), -EBADMSG);
}

static void test_napi_qstats(void **state)
{
	struct buf bb;
	struct nlmsghdr *nlh = genl_start(&bb, ZX_NETDEV_CMD_NAPI_GET);
	struct nic_netdev_napi n;
	struct nic_netdev_qstat s;

	mnl_attr_put_u32(nlh, ZX_NETDEV_A_NAPI_IFINDEX, 2);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_NAPI_ID, 8200);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_NAPI_IRQ, 41);
	assert_int_equal(nic_netdev_parse_napi(nlh, &n), 0);
	assert_int_equal(n.irq, 41);
	assert_int_equal(n.pid, -1);

	nlh = genl_start(&bb, ZX_NETDEV_CMD_QSTATS_GET);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QSTATS_IFINDEX, 2);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QSTATS_QUEUE_TYPE, ZX_NETDEV_QUEUE_TYPE_RX);
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QSTATS_QUEUE_ID, 3);
	mnl_attr_put_u64(nlh, ZX_NETDEV_A_QSTATS_RX_PACKETS, 5000000000ull); /* uint: 8 bytes */
	mnl_attr_put_u32(nlh, ZX_NETDEV_A_QSTATS_RX_BYTES, 1234);          /* uint: 4 bytes */
	assert_int_equal(nic_netdev_parse_qstat(nlh, &s), 0);
	assert_int_equal(s.id, 3);
	assert_true(s.has_rx_packets && s.rx_packets == 5000000000ull);
	assert_true(s.has_rx_bytes && s.rx_bytes == 1234);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_irq_cpu_node(void **state)
{
	char root[] = "/tmp/zxn-nic-rootXXXXXX", p[512], buf[64];

	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/irq", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/irq/41", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/irq/41/smp_affinity_list", root);
	write_file(p, "6-7,12\n");
	snprintf(p, sizeof(p), "%s/devices", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/devices/system", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/devices/system/cpu", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/devices/system/cpu/cpu6", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/devices/system/cpu/cpu6/node1", root);
	mkdir(p, 0755);

	nic_netdev_set_roots(root, root);
	assert_int_equal(nic_irq_affinity(41, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "6-7,12");
	assert_int_equal(nic_cpulist_first(buf), 6);
	assert_int_equal(nic_cpu_node(6), 1);
	assert_int_equal(nic_cpu_node(7), -1);
	assert_true(nic_irq_affinity(42, buf, sizeof(buf)) < 0);
	nic_netdev_set_roots(NULL, NULL);

	assert_int_equal(nic_cpulist_first("12"), 12);
	assert_int_equal(nic_cpulist_first(" 3,5"), 3);
	assert_int_equal(nic_cpulist_first(""), -EINVAL);
	assert_int_equal(nic_cpulist_first("x"), -EINVAL);
	assert_int_equal(nic_cpulist_first("3x"), -EINVAL);

	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	assert_int_equal(system(p), 0);
}

/* ---- rtnetlink extras -------------------------------------------------------- */

static void test_rtnl_extras(void **state)
{
	struct buf bb;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(bb.b);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *x, *li, *data;
	struct nic_link l;
	json_object *j, *lower;
	struct nic nic;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi->ifi_index = 12;
	ifi->ifi_flags = 0; /* down */
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "macvtap3");
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, "\x52\x54\x00\xaa\xbb\xcc");
	mnl_attr_put_u32(nlh, IFLA_LINK, 4);
	mnl_attr_put_u32(nlh, IFLA_LINK_NETNSID, 0); /* lower device in another netns */
	mnl_attr_put_strz(nlh, IFLA_PARENT_DEV_NAME, "0000:03:00.0");
	mnl_attr_put_strz(nlh, IFLA_PARENT_DEV_BUS_NAME, "pci");
	x = mnl_attr_nest_start(nlh, IFLA_XDP);
	mnl_attr_put_u8(nlh, IFLA_XDP_ATTACHED, XDP_ATTACHED_DRV);
	mnl_attr_nest_end(nlh, x);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvtap");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, 8);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);

	assert_int_equal(nic_rtnl_parse_link(nlh, &l), 0);
	assert_int_equal(l.ifindex, 12);
	assert_false(l.up);
	assert_int_equal(l.link_ifindex, 4);
	assert_int_equal(l.link_netnsid, 0);
	assert_true(l.xdp);
	assert_string_equal(l.parent_bus, "pci");
	assert_string_equal(l.parent_dev, "0000:03:00.0");
	assert_int_equal(l.macvlan_mode, 8);

	nic_init(&nic);
	nic.link = l;
	j = nic_json_nic(&nic, NULL);
	lower = json_object_object_get(j, "lower");
	assert_non_null(lower);
	assert_string_equal(json_object_get_string(json_object_object_get(lower, "mode")),
			    "passthru");
	assert_int_equal(json_object_get_int(json_object_object_get(lower, "netnsid")), 0);
	json_object_put(j);

	/* no name: malformed */
	nlh = mnl_nlmsg_put_header(bb.b);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = 3;
	assert_int_equal(nic_rtnl_parse_link(nlh, &l), -EBADMSG);
}

/* ---- JSON: queues ------------------------------------------------------------ */

static void test_json_queues(void **state)
{
	struct nic nic;
	struct nic_queue q[3] = { { .id = 0, .irq = -1, .numa_node = -1 },
				  { .id = 1, .irq = 40, .numa_node = 0, .napi_id = 9,
				    .cpus = "1" },
				  { .id = 2, .irq = -1, .numa_node = -1,
				    .providers = NIC_PROVIDER_IO_URING } };
	uint32_t indir[4] = { 0, 1, 0, 1 };
	struct nic_rss rss = { .id = 0, .indir_size = 4, .indir = indir };
	struct nic_rule rules[1] = { { .location = 4, .match = NIC_RULE_MATCH_ETHER_DST,
				       .action = NIC_RULE_ACTION_QUEUE, .queue = 2 } };
	json_object *a, *o;

	nic_init(&nic);
	nic.queues = q;
	nic.n_queues = 3;
	a = nic_json_queues(&nic);
	o = json_object_array_get_idx(a, 0);
	/* no readable default table: unknown, not "false" */
	assert_null(json_object_object_get(o, "in_default_rss"));
	json_object_put(a);

	/* an empty table (vmxnet3 while down) is just as unknown */
	rss.indir_size = 0;
	nic.rss = &rss;
	nic.n_rss = 1;
	a = nic_json_queues(&nic);
	assert_null(json_object_object_get(json_object_array_get_idx(a, 0), "in_default_rss"));
	json_object_put(a);
	rss.indir_size = 4;
	nic.rules = rules;
	nic.n_rules = 1;
	a = nic_json_queues(&nic);
	o = json_object_array_get_idx(a, 1);
	assert_true(json_object_get_boolean(json_object_object_get(o, "in_default_rss")));
	assert_int_equal(json_object_get_int(json_object_object_get(o, "rss_weight")), 2);
	assert_int_equal(json_object_get_int(json_object_object_get(o, "irq")), 40);
	o = json_object_array_get_idx(a, 2);
	assert_false(json_object_get_boolean(json_object_object_get(o, "in_default_rss")));
	assert_int_equal(json_object_array_length(json_object_object_get(o, "rules")), 1);
	assert_int_equal(json_object_array_length(json_object_object_get(o, "providers")), 1);
	assert_null(json_object_object_get(o, "irq"));
	json_object_put(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_ether),
		cmocka_unit_test(test_rule_ip4_context),
		cmocka_unit_test(test_rule_ip6_drop),
		cmocka_unit_test(test_rule_foreign),
		cmocka_unit_test(test_pick_slot),
		cmocka_unit_test(test_replicate),
		cmocka_unit_test(test_rxfh_encode),
		cmocka_unit_test(test_put_rss_delete),
		cmocka_unit_test(test_put_header),
		cmocka_unit_test(test_put_channels_rings),
		cmocka_unit_test(test_put_feature_verbose),
		cmocka_unit_test(test_put_rss),
		cmocka_unit_test(test_parse_rss),
		cmocka_unit_test(test_bitset_compact),
		cmocka_unit_test(test_bitset_verbose),
		cmocka_unit_test(test_queue_providers),
		cmocka_unit_test(test_napi_qstats),
		cmocka_unit_test(test_irq_cpu_node),
		cmocka_unit_test(test_rtnl_extras),
		cmocka_unit_test(test_json_queues),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
