// SPDX-License-Identifier: MIT
/*
 * fuzz-nic — libFuzzer target for the NIC layer's netlink side: the input is
 * a receive buffer (netlink messages back to back, as the kernel sends
 * them), run through genl_process() — the loop every request uses, extack
 * parsing included — with a callback that hands each message to every
 * decoder: control family, ethtool CHANNELS/RINGS/FEATURES (compact and
 * verbose bitsets)/FEATURES_SET reply/RSS, netdev dev/queue/napi/qstats and
 * rtnetlink links.  Wrong message types must be refused as safely as bad
 * attributes.
 *
 * Seeds: tests/fuzz/corpus/fuzz-nic/ (the captured kernel replies of
 * tests/fixtures/nic/).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "genl.h"
#include "nic-ethtool.h"
#include "nic-netdev.h"
#include "nic-rtnl.h"
#include "nic-uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int every_parser(const struct nlmsghdr *nlh, void *unused)
{
	const struct nlattr *tb[ZX_ETHTOOL_A_FEATURES_MAX + 1];
	struct genl_family fam;
	struct nic_channels ch;
	struct nic_rings rings;
	struct nic_feature f;
	struct nic_feature_set_result fs;
	struct nic_rss rss;
	struct nic_netdev_dev dev;
	struct nic_netdev_queue q;
	struct nic_netdev_napi napi;
	struct nic_netdev_qstat qs;
	struct nic_link link;
	struct kerror e;
	char warn[KERROR_MSG_MAX];
	bool v;
	int i;

	(void)genl_parse_family(nlh, &fam);
	(void)nic_ethnl_msg_ifindex(nlh);
	(void)nic_ethnl_parse_channels(nlh, &ch);
	(void)nic_ethnl_parse_rings(nlh, &rings);
	(void)nic_ethnl_parse_features(nlh, "rx-ntuple-filter", &f);
	(void)nic_ethnl_parse_feature_set(nlh, "rx-gro", &fs);
	if (nic_ethnl_parse_rss(nlh, &rss) == 0)
		nic_rss_clear(&rss);
	genl_attrs_msg(nlh, GENL_HDRLEN, tb, ZX_ETHTOOL_A_FEATURES_MAX);
	for (i = 2; i <= ZX_ETHTOOL_A_FEATURES_MAX; i++)
		(void)nic_ethnl_bitset_bit(tb[i], NULL, 38, &v, NULL);
	(void)nic_netdev_parse_dev(nlh, &dev);
	(void)nic_netdev_parse_queue(nlh, &q);
	(void)nic_netdev_parse_napi(nlh, &napi);
	(void)nic_netdev_parse_qstat(nlh, &qs);
	(void)nic_netdev_msg_ifindex(nlh);
	(void)nic_rtnl_parse_link(nlh, &link);
	(void)genl_parse_ack(nlh, nlh, &e, warn, sizeof(warn));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nlmsghdr *nlh;
	struct kerror err;
	bool done = false;
	void *copy;
	int len;

	if (size > 65536)
		return 0;
	/* an exact-size heap copy: any over-read is caught */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	/* as a request's replies (stops at the first ACK/DONE) ... */
	(void)genl_process(copy, size, 0, 0, NULL, every_parser, NULL, &done, &err, NULL);
	/* ... and every message, as a notification socket sees them */
	len = (int)size;
	for (nlh = copy; mnl_nlmsg_ok(nlh, len) && nlh->nlmsg_len <= (uint32_t)len;
	     nlh = mnl_nlmsg_next(nlh, &len))
		(void)every_parser(nlh, NULL);
	free(copy);
	return 0;
}
