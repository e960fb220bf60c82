// SPDX-License-Identifier: MIT
/*
 * zxsim-rss — the kernel's list of a device's RSS tables (ethtool netlink
 * RSS_GET dump, 6.12+), independent of zcrxd's code:
 *
 *   zxsim rss IFNAME     one line per context, context 0 first:
 *                        "context 2 xfrm 0 table 4,5,4,5,..."
 *
 * ethtool itself shows one context per call and has no "list them all".
 */
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>

#include "nic-uapi.h"
#include "zxsim.h"

struct rss {
	unsigned ifindex;
	int n;
};

static void rss_cb(const void *attrs, size_t len, void *ud)
{
	const void *tb[ZX_ETHTOOL_A_RSS_MAX + 1], *h[ZX_ETHTOOL_A_HEADER_MAX + 1];
	size_t tl[ZX_ETHTOOL_A_RSS_MAX + 1], hl[ZX_ETHTOOL_A_HEADER_MAX + 1], i;
	struct rss *r = ud;
	const uint8_t *indir;

	zxnl_parse(attrs, len, tb, tl, ZX_ETHTOOL_A_RSS_MAX);
	if (!tb[ZX_ETHTOOL_A_RSS_HEADER])
		return;
	zxnl_parse(tb[ZX_ETHTOOL_A_RSS_HEADER], tl[ZX_ETHTOOL_A_RSS_HEADER], h, hl,
		   ZX_ETHTOOL_A_HEADER_MAX);
	if (!h[ZX_ETHTOOL_A_HEADER_DEV_INDEX] ||
	    zxnl_u32(h[ZX_ETHTOOL_A_HEADER_DEV_INDEX]) != r->ifindex)
		return;
	printf("context %u xfrm %u table ",
	       tb[ZX_ETHTOOL_A_RSS_CONTEXT] ? zxnl_u32(tb[ZX_ETHTOOL_A_RSS_CONTEXT]) : 0,
	       tb[ZX_ETHTOOL_A_RSS_INPUT_XFRM] ? zxnl_u32(tb[ZX_ETHTOOL_A_RSS_INPUT_XFRM]) : 0);
	indir = tb[ZX_ETHTOOL_A_RSS_INDIR];
	for (i = 0; indir && i + 4 <= tl[ZX_ETHTOOL_A_RSS_INDIR]; i += 4)
		printf("%s%u", i ? "," : "", zxnl_u32(indir + i));
	printf("\n");
	r->n++;
}

int zxsim_rss(int argc, char **argv)
{
	struct rss r = { 0 };
	struct zxnl nl;
	struct zxnl_msg m;
	size_t nest;
	int err;

	if (argc != 2 || !(r.ifindex = zxsim_ifindex(argv[1])))
		return 2;
	err = zxnl_open(&nl, ZX_ETHTOOL_GENL_NAME);
	if (err < 0) {
		fprintf(stderr, "zxsim: generic netlink family ethtool: %s\n", strerror(-err));
		return 1;
	}
	zxnl_start(&nl, &m, ZX_ETHTOOL_MSG_RSS_GET, NLM_F_DUMP);
	nest = zxnl_nest_start(&m, ZX_ETHTOOL_A_RSS_HEADER);
	zxnl_put_u32(&m, ZX_ETHTOOL_A_HEADER_DEV_INDEX, r.ifindex);
	zxnl_nest_end(&m, nest);
	err = zxnl_talk(&nl, &m, rss_cb, &r);
	zxnl_close(&nl);
	if (err < 0) {
		fprintf(stderr, "zxsim: rss-get %s: %s%s%s\n", argv[1], strerror(-err),
			nl.err[0] ? ": " : "", nl.err);
		return 1;
	}
	return 0;
}
