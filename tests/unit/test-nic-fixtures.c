// SPDX-License-Identifier: MIT
/*
 * test-nic-fixtures — the NIC layer's decoders fed with real kernel replies
 * captured on Linux 6.18 (tests/fixtures/nic/, made by capture.sh in a netns
 * with veth zxn0 (ifindex 3, 8 queues) <-> zxn1 (2) and macvtap zxnmvt0 (4,
 * 52:54:00:12:34:56, bridge) on zxn1).  Each file is what the kernel sent
 * for one request, so genl_process() runs the same loop the daemon runs.
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "genl.h"
#include "nic-ethtool.h"
#include "nic-netdev.h"
#include "nic-rtnl.h"
#include "nic-uapi.h"

#define VETH 3
#define PEER 2
#define MACVTAP 4

struct fx {
	void *buf;
	size_t len;
};

static struct fx load(const char *name)
{
	struct fx f = { 0 };
	char file[256];

	snprintf(file, sizeof(file), "%s.bin", name);
	f.buf = fixture_read("nic", file, &f.len);
	assert_non_null(f.buf);
	assert_true(f.len >= NLMSG_HDRLEN);
	return f;
}

/* Run the request loop over a fixture; returns the request's result. */
static int run(const char *name, genl_msg_cb cb, void *data, struct kerror *e)
{
	struct fx f = load(name);
	bool done = false;
	int r;

	r = genl_process(f.buf, f.len, 0, 0, NULL, cb, data, &done, e, NULL);
	free(f.buf);
	return r;
}

/* For files of notifications (no ACK/DONE). */
static void each(const char *name, genl_msg_cb cb, void *data)
{
	struct fx f = load(name);
	const struct nlmsghdr *nlh = f.buf;
	int left = (int)f.len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
		cb(nlh, data);
	free(f.buf);
}

static uint8_t cmd_of(const struct nlmsghdr *nlh)
{
	return ((const struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->cmd;
}

/* ---- control family -------------------------------------------------------- */

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	return genl_parse_family(nlh, data);
}

static void test_ctrl_ethtool(void **state)
{
	struct genl_family f;
	struct kerror e;
	int i;

	assert_int_equal(run("ctrl-ethtool", family_cb, &f, &e), 0);
	assert_string_equal(f.name, "ethtool");
	assert_int_equal(f.version, 1);
	/* 6.18 lists 1..50, ending at RSS_DELETE_ACT */
	for (i = 1; i <= ZX_ETHTOOL_MSG_RSS_DELETE_ACT; i++)
		assert_true(genl_family_has_op(&f, (uint8_t)i));
	assert_false(genl_family_has_op(&f, 51));
	assert_true(f.op_flags[ZX_ETHTOOL_MSG_RSS_GET] & GENL_CMD_CAP_DUMP);
	assert_true(f.op_flags[ZX_ETHTOOL_MSG_CHANNELS_SET] & (GENL_ADMIN_PERM | GENL_UNS_ADMIN_PERM));
	assert_false(f.op_flags[ZX_ETHTOOL_MSG_CHANNELS_GET] & (GENL_ADMIN_PERM | GENL_UNS_ADMIN_PERM));
	assert_true(genl_family_group(&f, ZX_ETHTOOL_MCGRP_MONITOR_NAME) > 0);
}

static void test_ctrl_netdev(void **state)
{
	struct genl_family f;
	struct kerror e;

	assert_int_equal(run("ctrl-netdev", family_cb, &f, &e), 0);
	assert_string_equal(f.name, "netdev");
	assert_true(genl_family_has_op(&f, ZX_NETDEV_CMD_DEV_GET));
	assert_true(genl_family_has_op(&f, ZX_NETDEV_CMD_QUEUE_GET));
	assert_true(genl_family_has_op(&f, ZX_NETDEV_CMD_NAPI_GET));
	assert_true(genl_family_has_op(&f, ZX_NETDEV_CMD_QSTATS_GET));
	assert_false(genl_family_has_op(&f, ZX_NETDEV_CMD_QUEUE_CREATE)); /* 7.1 */
	assert_true(genl_family_group(&f, ZX_NETDEV_MCGRP_MGMT) > 0);
	assert_true(genl_family_group(&f, "page-pool") > 0);
}

/* ---- ethtool ----------------------------------------------------------------- */

struct chan {
	int n;
	int ifindex[4];
	struct nic_channels ch[4];
};

static int chan_cb(const struct nlmsghdr *nlh, void *data)
{
	struct chan *c = data;
	uint8_t cmd = cmd_of(nlh);

	if (cmd != ZX_ETHTOOL_MSG_CHANNELS_GET_REPLY && cmd != ZX_ETHTOOL_MSG_CHANNELS_NTF)
		return 0;
	assert_true(c->n < 4);
	c->ifindex[c->n] = nic_ethnl_msg_ifindex(nlh);
	assert_int_equal(nic_ethnl_parse_channels(nlh, &c->ch[c->n]), 0);
	c->n++;
	return 0;
}

static void test_channels_get(void **state)
{
	struct chan c = { 0 };
	struct kerror e;

	assert_int_equal(run("ethtool-channels-get", chan_cb, &c, &e), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.ifindex[0], VETH);
	/* veth: rx/tx only, combined left out of the reply (zero) */
	assert_int_equal(c.ch[0].rx_max, 8);
	assert_int_equal(c.ch[0].tx_max, 8);
	assert_int_equal(c.ch[0].rx, 8);
	assert_int_equal(c.ch[0].tx, 8);
	assert_int_equal(c.ch[0].combined_max, 0);
	assert_int_equal(c.ch[0].combined, 0);
	assert_int_equal(c.ch[0].other_max, 0);
}

static void test_channels_dump(void **state)
{
	struct chan c = { 0 };
	struct kerror e;

	/* one reply per device that has channels: the veth pair, not lo or
	 * the macvtap */
	assert_int_equal(run("ethtool-channels-dump", chan_cb, &c, &e), 0);
	assert_int_equal(c.n, 2);
	assert_true((c.ifindex[0] == VETH && c.ifindex[1] == PEER) ||
		    (c.ifindex[0] == PEER && c.ifindex[1] == VETH));
}

static void expect_error(const char *name, int err, const char *msg)
{
	struct kerror e;
	char out[512];

	assert_int_equal(run(name, NULL, NULL, &e), -err);
	assert_int_equal(e.err, err);
	assert_string_equal(e.msg, msg);
	kerror_context(&e, "zxn0", "op");
	kerror_format(&e, out, sizeof(out));
	assert_non_null(strstr(out, kerror_errno_name(err)));
}

static void test_refusals(void **state)
{
	expect_error("ethtool-channels-set-exceeds", EINVAL,
		     "requested channel count exceeds maximum");
	expect_error("ethtool-channels-set-no-rx", EINVAL,
		     "requested channel counts would result in no RX or TX channel being "
		     "configured");
	expect_error("ethtool-rings-get", EOPNOTSUPP, "");
	expect_error("ethtool-rings-set-tcp-data-split", EOPNOTSUPP,
		     "setting TCP data split is not supported");
	expect_error("ethtool-rings-set-hds-thresh", EOPNOTSUPP,
		     "setting hds-thresh is not supported");
	expect_error("ethtool-features-set-badname", EOPNOTSUPP, "bit name not found");
	expect_error("ethtool-header-badflags", EINVAL, "reserved bit set");
	expect_error("ethtool-nodev", ENODEV, "no device matches name");
	expect_error("ethtool-rss-get", EOPNOTSUPP, "");
	expect_error("ethtool-rss-get-ctx", EOPNOTSUPP, "");
	expect_error("ethtool-channels-get-macvtap", EOPNOTSUPP, "");
}

static void test_format_like_the_issue(void **state)
{
	struct kerror e;
	char out[512];

	assert_int_equal(run("ethtool-channels-set-exceeds", NULL, NULL, &e), -EINVAL);
	kerror_context(&e, "eth0", "set channels");
	assert_string_equal(kerror_format(&e, out, sizeof(out)),
			    "eth0: set channels: requested channel count exceeds maximum (EINVAL)");
}

static void test_rss_dump_empty(void **state)
{
	struct chan c = { 0 };
	struct kerror e;

	/* devices without RSS are skipped: an empty DONE */
	assert_int_equal(run("ethtool-rss-dump", chan_cb, &c, &e), 0);
	assert_int_equal(c.n, 0);
}

struct feat {
	const char *name;
	struct nic_feature f;
	bool got;
};

static int feat_cb(const struct nlmsghdr *nlh, void *data)
{
	struct feat *x = data;

	if (cmd_of(nlh) != ZX_ETHTOOL_MSG_FEATURES_GET_REPLY)
		return 0;
	x->got = true;
	return nic_ethnl_parse_features(nlh, x->name, &x->f);
}

static void test_features_verbose(void **state)
{
	struct feat ntuple = { .name = ZX_FEATURE_NTUPLE }, gro = { .name = "rx-gro" };
	struct feat sg = { .name = "tx-scatter-gather" };
	struct kerror e;

	assert_int_equal(run("ethtool-features-get", feat_cb, &ntuple, &e), 0);
	assert_true(ntuple.got);
	/* veth: not changeable, not on (so not listed at all) */
	assert_false(ntuple.f.hw);
	assert_false(ntuple.f.active);
	assert_int_equal(run("ethtool-features-get", feat_cb, &gro, &e), 0);
	assert_true(gro.f.hw);      /* changeable */
	assert_false(gro.f.active); /* off at the time of capture */
	assert_true(gro.f.index >= 0);
	assert_int_equal(run("ethtool-features-get", feat_cb, &sg, &e), 0);
	assert_true(sg.f.active);
}

/* The index of rx-gro, learned from the verbose reply. */
static int gro_index(void)
{
	struct feat gro = { .name = "rx-gro" };
	struct kerror e;

	assert_int_equal(run("ethtool-features-get", feat_cb, &gro, &e), 0);
	return gro.f.index;
}

struct compact {
	int index;
	int listed;
	bool value;
	int by_name;
};

static int compact_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[ZX_ETHTOOL_A_FEATURES_MAX + 1];
	struct compact *c = data;
	uint8_t cmd = cmd_of(nlh);
	bool v;

	if (cmd != ZX_ETHTOOL_MSG_FEATURES_GET_REPLY && cmd != ZX_ETHTOOL_MSG_FEATURES_NTF)
		return 0;
	genl_attrs_msg(nlh, GENL_HDRLEN, tb, ZX_ETHTOOL_A_FEATURES_MAX);
	c->listed = nic_ethnl_bitset_bit(tb[ZX_ETHTOOL_A_FEATURES_ACTIVE], NULL, c->index,
					 &c->value, NULL);
	c->by_name = nic_ethnl_bitset_bit(tb[ZX_ETHTOOL_A_FEATURES_ACTIVE], "rx-gro", -1, &v, NULL);
	return 0;
}

static void test_features_compact(void **state)
{
	struct compact c = { .index = gro_index() };
	struct kerror e;

	/* a GET with ETHTOOL_FLAG_COMPACT_BITSETS: rx-gro off, names absent */
	assert_int_equal(run("ethtool-features-get-compact", compact_cb, &c, &e), 0);
	assert_int_equal(c.listed, 0);
	assert_false(c.value);
	assert_int_equal(c.by_name, -ENOENT);

	/* the FEATURES_NTF after turning rx-gro on (notifications are compact) */
	memset(&c, 0, sizeof(c));
	c.index = gro_index();
	each("monitor-features-gro", compact_cb, &c);
	assert_int_equal(c.listed, 1);
	assert_true(c.value);
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	if (cmd_of(nlh) != ZX_ETHTOOL_MSG_FEATURES_SET_REPLY)
		return 0;
	return nic_ethnl_parse_feature_set(nlh, ZX_FEATURE_NTUPLE, data);
}

static void test_features_set_not_applied(void **state)
{
	struct nic_feature_set_result r = { 0 };
	struct kerror e;

	/* ACK error 0 and a reply saying it did not happen */
	assert_int_equal(run("ethtool-features-set-ntuple", set_cb, &r, &e), 0);
	assert_true(r.replied);
	assert_true(r.not_applied);
	assert_false(r.changed);
}

static void test_monitor_channels(void **state)
{
	struct chan c = { 0 };

	each("monitor-channels", chan_cb, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.ifindex[0], VETH);
	assert_int_equal(c.ch[0].rx, 7);
	assert_int_equal(c.ch[0].rx_max, 8);
}

/* ---- netdev ------------------------------------------------------------------ */

struct nd {
	struct nic_netdev_dev dev;
	struct nic_netdev_queue q[32];
	struct nic_netdev_napi napi[16];
	int n_dev, n_q, n_napi, n_ntf;
	int ntf_ifindex;
};

static int nd_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nd *x = data;

	switch (cmd_of(nlh)) {
	case ZX_NETDEV_CMD_DEV_GET:
		assert_int_equal(nic_netdev_parse_dev(nlh, &x->dev), 0);
		x->n_dev++;
		break;
	case ZX_NETDEV_CMD_QUEUE_GET:
		assert_true(x->n_q < 32);
		assert_int_equal(nic_netdev_parse_queue(nlh, &x->q[x->n_q++]), 0);
		break;
	case ZX_NETDEV_CMD_NAPI_GET:
		assert_true(x->n_napi < 16);
		assert_int_equal(nic_netdev_parse_napi(nlh, &x->napi[x->n_napi++]), 0);
		break;
	case ZX_NETDEV_CMD_DEV_CHANGE_NTF:
		x->n_ntf++;
		x->ntf_ifindex = nic_netdev_msg_ifindex(nlh);
		break;
	}
	return 0;
}

static void test_netdev_dev(void **state)
{
	struct nd x = { 0 };
	struct kerror e;

	assert_int_equal(run("netdev-dev-get", nd_cb, &x, &e), 0);
	assert_int_equal(x.n_dev, 1);
	assert_int_equal(x.dev.ifindex, VETH);
	assert_int_equal(x.dev.xdp_rx_metadata_features, 7);
}

static void test_netdev_queues(void **state)
{
	struct nd x = { 0 };
	struct kerror e;
	int i, rx = 0;

	assert_int_equal(run("netdev-queue-dump", nd_cb, &x, &e), 0);
	assert_int_equal(x.n_q, 16); /* 8 rx + 8 tx */
	for (i = 0; i < x.n_q; i++) {
		assert_int_equal(x.q[i].ifindex, VETH);
		assert_int_equal(x.q[i].providers, 0);
		assert_int_equal(x.q[i].napi_id, 0); /* veth never links queues to NAPIs */
		if (x.q[i].type == ZX_NETDEV_QUEUE_TYPE_RX) {
			assert_true(x.q[i].id < 8);
			rx++;
		}
	}
	assert_int_equal(rx, 8);
}

static void test_netdev_napis(void **state)
{
	struct nd x = { 0 };
	struct kerror e;
	int i;

	/* GRO on: veth has one software NAPI per RX queue, no IRQ */
	assert_int_equal(run("netdev-napi-dump", nd_cb, &x, &e), 0);
	assert_int_equal(x.n_napi, 8);
	for (i = 0; i < x.n_napi; i++) {
		assert_int_equal(x.napi[i].ifindex, VETH);
		assert_true(x.napi[i].id > 0);
		assert_int_equal(x.napi[i].irq, -1);
	}
}

static void test_netdev_qstats_refused(void **state)
{
	struct kerror e;

	/* the dump ends with DONE carrying -EOPNOTSUPP */
	assert_int_equal(run("netdev-qstats-dump", NULL, NULL, &e), -EOPNOTSUPP);
}

static void test_netdev_change_ntf(void **state)
{
	struct nd x = { 0 };

	each("monitor-features-gro", nd_cb, &x);
	/* GRO on zxn0 changes what its *peer* can redirect to it (xdp-features
	 * ndo-xmit): the dev-change-ntf names zxn1 */
	assert_int_equal(x.n_ntf, 1);
	assert_int_equal(x.ntf_ifindex, PEER);
}

/* ---- rtnetlink --------------------------------------------------------------- */

struct links {
	struct nic_link l[8];
	int n;
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct links *x = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	assert_true(x->n < 8);
	assert_int_equal(nic_rtnl_parse_link(nlh, &x->l[x->n++]), 0);
	return 0;
}

static void test_rtnl_veth(void **state)
{
	struct links x = { 0 };
	struct kerror e;

	assert_int_equal(run("rtnl-link-get", link_cb, &x, &e), 0);
	assert_int_equal(x.n, 1);
	assert_string_equal(x.l[0].name, "zxn0");
	assert_int_equal(x.l[0].ifindex, VETH);
	assert_string_equal(x.l[0].kind, "veth");
	assert_true(x.l[0].up);
	assert_int_equal(x.l[0].num_rx_queues, 8);
	assert_int_equal(x.l[0].num_tx_queues, 8);
	assert_int_equal(x.l[0].link_ifindex, PEER); /* veth: IFLA_LINK is the peer */
	assert_int_equal(x.l[0].link_netnsid, -1);
	assert_int_equal(x.l[0].mtu, 1500);
	assert_false(x.l[0].xdp);
}

static void test_rtnl_macvtap(void **state)
{
	struct links x = { 0 };
	struct kerror e;
	char mac[18];

	assert_int_equal(run("rtnl-link-get-macvtap", link_cb, &x, &e), 0);
	assert_int_equal(x.n, 1);
	assert_string_equal(x.l[0].name, "zxnmvt0");
	assert_string_equal(x.l[0].kind, "macvtap");
	assert_int_equal(x.l[0].link_ifindex, PEER);
	assert_int_equal(x.l[0].macvlan_mode, 4); /* bridge */
	assert_string_equal(nic_mac_format(x.l[0].mac, mac), "52:54:00:12:34:56");
}

static void test_rtnl_dump(void **state)
{
	struct links x = { 0 };
	struct kerror e;

	assert_int_equal(run("rtnl-link-dump", link_cb, &x, &e), 0);
	assert_int_equal(x.n, 4);
	assert_string_equal(x.l[0].name, "lo");
	assert_string_equal(x.l[0].kind, "");
}

static void test_rtnl_monitor(void **state)
{
	struct links down = { 0 }, up = { 0 };
	int i;
	bool seen_down = false, seen_up = false;

	each("rtnl-monitor-down", link_cb, &down);
	each("rtnl-monitor-up", link_cb, &up);
	assert_true(down.n > 0);
	assert_true(up.n > 0);
	for (i = 0; i < down.n; i++)
		if (down.l[i].ifindex == VETH && !down.l[i].up)
			seen_down = true;
	for (i = 0; i < up.n; i++)
		if (up.l[i].ifindex == VETH && up.l[i].up)
			seen_up = true;
	assert_true(seen_down);
	assert_true(seen_up);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctrl_ethtool),
		cmocka_unit_test(test_ctrl_netdev),
		cmocka_unit_test(test_channels_get),
		cmocka_unit_test(test_channels_dump),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_format_like_the_issue),
		cmocka_unit_test(test_rss_dump_empty),
		cmocka_unit_test(test_features_verbose),
		cmocka_unit_test(test_features_compact),
		cmocka_unit_test(test_features_set_not_applied),
		cmocka_unit_test(test_monitor_channels),
		cmocka_unit_test(test_netdev_dev),
		cmocka_unit_test(test_netdev_queues),
		cmocka_unit_test(test_netdev_napis),
		cmocka_unit_test(test_netdev_qstats_refused),
		cmocka_unit_test(test_netdev_change_ntf),
		cmocka_unit_test(test_rtnl_veth),
		cmocka_unit_test(test_rtnl_macvtap),
		cmocka_unit_test(test_rtnl_dump),
		cmocka_unit_test(test_rtnl_monitor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
