// SPDX-License-Identifier: MIT
/*
 * test-nic-uapi — our own uapi header (zcrxd/nic-uapi.h) against the installed
 * kernel headers (6.1 on Debian 12) for everything those have: the same
 * values and the same struct layouts.  Newer items (RSS_SET, HDS_THRESH,
 * FLOW_HASH, netdev) are pinned in nic-uapi.h itself and checked against the
 * running kernel by the captured fixtures (test-nic-fixtures).
 */
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/sockios.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nic-uapi.h"

#define SAME(a, b) _Static_assert((uint64_t)(a) == (uint64_t)(b), #a " != " #b)
/* 32-bit flag values that the kernel writes as (1 << 31) */
#define SAME32(a, b) _Static_assert((uint32_t)(a) == (uint32_t)(b), #a " != " #b)
#define SAME_OFF(za, a, f)                                                                         \
	_Static_assert(offsetof(struct za, f) == offsetof(struct a, f), #a "." #f)

/* ethtool netlink ids present in 6.1 */
SAME(ZX_ETHTOOL_MSG_STRSET_GET, ETHTOOL_MSG_STRSET_GET);
SAME(ZX_ETHTOOL_MSG_FEATURES_GET, ETHTOOL_MSG_FEATURES_GET);
SAME(ZX_ETHTOOL_MSG_FEATURES_SET, ETHTOOL_MSG_FEATURES_SET);
SAME(ZX_ETHTOOL_MSG_RINGS_GET, ETHTOOL_MSG_RINGS_GET);
SAME(ZX_ETHTOOL_MSG_RINGS_SET, ETHTOOL_MSG_RINGS_SET);
SAME(ZX_ETHTOOL_MSG_CHANNELS_GET, ETHTOOL_MSG_CHANNELS_GET);
SAME(ZX_ETHTOOL_MSG_CHANNELS_SET, ETHTOOL_MSG_CHANNELS_SET);
SAME(ZX_ETHTOOL_MSG_FEATURES_GET_REPLY, ETHTOOL_MSG_FEATURES_GET_REPLY);
SAME(ZX_ETHTOOL_MSG_FEATURES_SET_REPLY, ETHTOOL_MSG_FEATURES_SET_REPLY);
SAME(ZX_ETHTOOL_MSG_FEATURES_NTF, ETHTOOL_MSG_FEATURES_NTF);
SAME(ZX_ETHTOOL_MSG_RINGS_GET_REPLY, ETHTOOL_MSG_RINGS_GET_REPLY);
SAME(ZX_ETHTOOL_MSG_RINGS_NTF, ETHTOOL_MSG_RINGS_NTF);
SAME(ZX_ETHTOOL_MSG_CHANNELS_GET_REPLY, ETHTOOL_MSG_CHANNELS_GET_REPLY);
SAME(ZX_ETHTOOL_MSG_CHANNELS_NTF, ETHTOOL_MSG_CHANNELS_NTF);
SAME(ZX_ETHTOOL_MSG_LINKINFO_NTF, ETHTOOL_MSG_LINKINFO_NTF);
SAME(ZX_ETHTOOL_MSG_LINKMODES_NTF, ETHTOOL_MSG_LINKMODES_NTF);
SAME(ZX_ETHTOOL_MSG_PRIVFLAGS_NTF, ETHTOOL_MSG_PRIVFLAGS_NTF);
SAME(ZX_ETHTOOL_A_HEADER_DEV_INDEX, ETHTOOL_A_HEADER_DEV_INDEX);
SAME(ZX_ETHTOOL_A_HEADER_DEV_NAME, ETHTOOL_A_HEADER_DEV_NAME);
SAME(ZX_ETHTOOL_A_HEADER_FLAGS, ETHTOOL_A_HEADER_FLAGS);
SAME(ZX_ETHTOOL_FLAG_COMPACT_BITSETS, ETHTOOL_FLAG_COMPACT_BITSETS);
SAME(ZX_ETHTOOL_FLAG_OMIT_REPLY, ETHTOOL_FLAG_OMIT_REPLY);
SAME(ZX_ETHTOOL_FLAG_STATS, ETHTOOL_FLAG_STATS);
SAME(ZX_ETHTOOL_A_BITSET_NOMASK, ETHTOOL_A_BITSET_NOMASK);
SAME(ZX_ETHTOOL_A_BITSET_SIZE, ETHTOOL_A_BITSET_SIZE);
SAME(ZX_ETHTOOL_A_BITSET_BITS, ETHTOOL_A_BITSET_BITS);
SAME(ZX_ETHTOOL_A_BITSET_VALUE, ETHTOOL_A_BITSET_VALUE);
SAME(ZX_ETHTOOL_A_BITSET_MASK, ETHTOOL_A_BITSET_MASK);
SAME(ZX_ETHTOOL_A_BITSET_BITS_BIT, ETHTOOL_A_BITSET_BITS_BIT);
SAME(ZX_ETHTOOL_A_BITSET_BIT_INDEX, ETHTOOL_A_BITSET_BIT_INDEX);
SAME(ZX_ETHTOOL_A_BITSET_BIT_NAME, ETHTOOL_A_BITSET_BIT_NAME);
SAME(ZX_ETHTOOL_A_BITSET_BIT_VALUE, ETHTOOL_A_BITSET_BIT_VALUE);
SAME(ZX_ETHTOOL_A_FEATURES_HW, ETHTOOL_A_FEATURES_HW);
SAME(ZX_ETHTOOL_A_FEATURES_WANTED, ETHTOOL_A_FEATURES_WANTED);
SAME(ZX_ETHTOOL_A_FEATURES_ACTIVE, ETHTOOL_A_FEATURES_ACTIVE);
SAME(ZX_ETHTOOL_A_FEATURES_NOCHANGE, ETHTOOL_A_FEATURES_NOCHANGE);
SAME(ZX_ETHTOOL_A_RINGS_RX_MAX, ETHTOOL_A_RINGS_RX_MAX);
SAME(ZX_ETHTOOL_A_RINGS_TX_MAX, ETHTOOL_A_RINGS_TX_MAX);
SAME(ZX_ETHTOOL_A_RINGS_RX, ETHTOOL_A_RINGS_RX);
SAME(ZX_ETHTOOL_A_RINGS_TX, ETHTOOL_A_RINGS_TX);
SAME(ZX_ETHTOOL_A_RINGS_RX_BUF_LEN, ETHTOOL_A_RINGS_RX_BUF_LEN);
SAME(ZX_ETHTOOL_A_RINGS_TCP_DATA_SPLIT, ETHTOOL_A_RINGS_TCP_DATA_SPLIT);
SAME(ZX_ETHTOOL_A_RINGS_CQE_SIZE, ETHTOOL_A_RINGS_CQE_SIZE);
SAME(ZX_ETHTOOL_A_RINGS_TX_PUSH, ETHTOOL_A_RINGS_TX_PUSH);
SAME(ZX_ETHTOOL_TCP_DATA_SPLIT_DISABLED, ETHTOOL_TCP_DATA_SPLIT_DISABLED);
SAME(ZX_ETHTOOL_TCP_DATA_SPLIT_ENABLED, ETHTOOL_TCP_DATA_SPLIT_ENABLED);
SAME(ZX_ETHTOOL_A_CHANNELS_RX_MAX, ETHTOOL_A_CHANNELS_RX_MAX);
SAME(ZX_ETHTOOL_A_CHANNELS_COMBINED_MAX, ETHTOOL_A_CHANNELS_COMBINED_MAX);
SAME(ZX_ETHTOOL_A_CHANNELS_RX_COUNT, ETHTOOL_A_CHANNELS_RX_COUNT);
SAME(ZX_ETHTOOL_A_CHANNELS_COMBINED_COUNT, ETHTOOL_A_CHANNELS_COMBINED_COUNT);

/* ioctl */
SAME(ZX_SIOCETHTOOL, SIOCETHTOOL);
SAME(ZX_ETHTOOL_GDRVINFO, ETHTOOL_GDRVINFO);
SAME(ZX_ETHTOOL_GRXFH, ETHTOOL_GRXFH);
SAME(ZX_ETHTOOL_SRXFH, ETHTOOL_SRXFH);
SAME(ZX_ETHTOOL_GRXRINGS, ETHTOOL_GRXRINGS);
SAME(ZX_ETHTOOL_GRXCLSRLCNT, ETHTOOL_GRXCLSRLCNT);
SAME(ZX_ETHTOOL_GRXCLSRULE, ETHTOOL_GRXCLSRULE);
SAME(ZX_ETHTOOL_GRXCLSRLALL, ETHTOOL_GRXCLSRLALL);
SAME(ZX_ETHTOOL_SRXCLSRLDEL, ETHTOOL_SRXCLSRLDEL);
SAME(ZX_ETHTOOL_SRXCLSRLINS, ETHTOOL_SRXCLSRLINS);
SAME(ZX_ETHTOOL_GRXFHINDIR, ETHTOOL_GRXFHINDIR);
SAME(ZX_ETHTOOL_SRXFHINDIR, ETHTOOL_SRXFHINDIR);
SAME(ZX_ETHTOOL_GCHANNELS, ETHTOOL_GCHANNELS);
SAME(ZX_ETHTOOL_SCHANNELS, ETHTOOL_SCHANNELS);
SAME(ZX_ETHTOOL_GRSSH, ETHTOOL_GRSSH);
SAME(ZX_ETHTOOL_SRSSH, ETHTOOL_SRSSH);
SAME(ZX_TCP_V4_FLOW, TCP_V4_FLOW);
SAME(ZX_UDP_V6_FLOW, UDP_V6_FLOW);
SAME(ZX_AH_ESP_V6_FLOW, AH_ESP_V6_FLOW);
SAME(ZX_ESP_V6_FLOW, ESP_V6_FLOW);
SAME(ZX_IPV4_USER_FLOW, IPV4_USER_FLOW);
SAME(ZX_IPV6_USER_FLOW, IPV6_USER_FLOW);
SAME(ZX_IPV4_FLOW, IPV4_FLOW);
SAME(ZX_IPV6_FLOW, IPV6_FLOW);
SAME(ZX_ETHER_FLOW, ETHER_FLOW);
SAME(ZX_FLOW_EXT, FLOW_EXT);
SAME(ZX_FLOW_MAC_EXT, FLOW_MAC_EXT);
SAME(ZX_FLOW_RSS, FLOW_RSS);
SAME(ZX_ETH_RX_NFC_IP4, ETH_RX_NFC_IP4);
SAME(ZX_RXH_L2DA, RXH_L2DA);
SAME(ZX_RXH_VLAN, RXH_VLAN);
SAME(ZX_RXH_L3_PROTO, RXH_L3_PROTO);
SAME(ZX_RXH_IP_SRC, RXH_IP_SRC);
SAME(ZX_RXH_IP_DST, RXH_IP_DST);
SAME(ZX_RXH_L4_B_0_1, RXH_L4_B_0_1);
SAME(ZX_RXH_L4_B_2_3, RXH_L4_B_2_3);
SAME32(ZX_RXH_DISCARD, RXH_DISCARD);
/* ETH_RSS_HASH_* are kernel-internal macros: bit n of ETH_SS_RSS_HASH_FUNCS */
SAME(ZX_ETH_RSS_HASH_TOP, 1u << 0);
SAME(ZX_ETH_RSS_HASH_XOR, 1u << 1);
SAME(ZX_ETH_RSS_HASH_CRC32, 1u << 2);
SAME(ZX_RX_CLS_FLOW_DISC, RX_CLS_FLOW_DISC);
SAME(ZX_RX_CLS_FLOW_WAKE, RX_CLS_FLOW_WAKE);
SAME(ZX_ETHTOOL_RX_FLOW_SPEC_RING, ETHTOOL_RX_FLOW_SPEC_RING);
SAME(ZX_ETHTOOL_RX_FLOW_SPEC_RING_VF, ETHTOOL_RX_FLOW_SPEC_RING_VF);
SAME(ZX_ETHTOOL_RX_FLOW_SPEC_RING_VF_OFF, ETHTOOL_RX_FLOW_SPEC_RING_VF_OFF);
SAME(ZX_RX_CLS_LOC_SPECIAL, RX_CLS_LOC_SPECIAL);
SAME(ZX_RX_CLS_LOC_ANY, RX_CLS_LOC_ANY);
SAME(ZX_RX_CLS_LOC_FIRST, RX_CLS_LOC_FIRST);
SAME(ZX_RX_CLS_LOC_LAST, RX_CLS_LOC_LAST);
SAME(ZX_ETH_RXFH_CONTEXT_ALLOC, ETH_RXFH_CONTEXT_ALLOC);
SAME(ZX_ETH_RXFH_INDIR_NO_CHANGE, ETH_RXFH_INDIR_NO_CHANGE);

/* layouts */
SAME(sizeof(struct zx_ethtool_rxnfc), sizeof(struct ethtool_rxnfc));
SAME(sizeof(struct zx_ethtool_rx_flow_spec), sizeof(struct ethtool_rx_flow_spec));
SAME(sizeof(union zx_ethtool_flow_union), sizeof(union ethtool_flow_union));
SAME(sizeof(struct zx_ethtool_flow_ext), sizeof(struct ethtool_flow_ext));
SAME(sizeof(struct zx_ethtool_tcpip4_spec), sizeof(struct ethtool_tcpip4_spec));
SAME(sizeof(struct zx_ethtool_usrip4_spec), sizeof(struct ethtool_usrip4_spec));
SAME(sizeof(struct zx_ethtool_tcpip6_spec), sizeof(struct ethtool_tcpip6_spec));
SAME(sizeof(struct zx_ethtool_usrip6_spec), sizeof(struct ethtool_usrip6_spec));
SAME(sizeof(struct zx_ethtool_rxfh), sizeof(struct ethtool_rxfh));
SAME(sizeof(struct zx_ethtool_channels), sizeof(struct ethtool_channels));
SAME(sizeof(struct zx_ethtool_drvinfo), sizeof(struct ethtool_drvinfo));
SAME_OFF(zx_ethtool_rxnfc, ethtool_rxnfc, fs);
SAME_OFF(zx_ethtool_rxnfc, ethtool_rxnfc, rule_cnt);
SAME_OFF(zx_ethtool_rxnfc, ethtool_rxnfc, rss_context);
SAME_OFF(zx_ethtool_rxnfc, ethtool_rxnfc, rule_locs);
SAME_OFF(zx_ethtool_rx_flow_spec, ethtool_rx_flow_spec, h_ext);
SAME_OFF(zx_ethtool_rx_flow_spec, ethtool_rx_flow_spec, m_u);
SAME_OFF(zx_ethtool_rx_flow_spec, ethtool_rx_flow_spec, m_ext);
SAME_OFF(zx_ethtool_rx_flow_spec, ethtool_rx_flow_spec, ring_cookie);
SAME_OFF(zx_ethtool_rx_flow_spec, ethtool_rx_flow_spec, location);
SAME_OFF(zx_ethtool_usrip4_spec, ethtool_usrip4_spec, ip_ver);
SAME_OFF(zx_ethtool_usrip4_spec, ethtool_usrip4_spec, proto);
SAME_OFF(zx_ethtool_usrip6_spec, ethtool_usrip6_spec, l4_proto);
SAME_OFF(zx_ethtool_tcpip6_spec, ethtool_tcpip6_spec, tclass);
SAME_OFF(zx_ethtool_rxfh, ethtool_rxfh, hfunc);
SAME_OFF(zx_ethtool_rxfh, ethtool_rxfh, rss_config);
#ifdef RXH_XFRM_NO_CHANGE /* 6.8+ headers; Debian 12's are 6.1 */
SAME(ZX_RXH_XFRM_NO_CHANGE, RXH_XFRM_NO_CHANGE);
SAME(ZX_RXH_XFRM_SYM_XOR, RXH_XFRM_SYM_XOR);
SAME_OFF(zx_ethtool_rxfh, ethtool_rxfh, input_xfrm);
#endif
SAME_OFF(zx_ethtool_channels, ethtool_channels, combined_count);
SAME_OFF(zx_ethtool_drvinfo, ethtool_drvinfo, bus_info);
SAME_OFF(zx_ethtool_drvinfo, ethtool_drvinfo, regdump_len);

static void test_compiled(void **state)
{
	/* Everything above is checked at compile time; this keeps the binary
	 * a runnable test so the file is part of the suite. */
	assert_int_equal(sizeof(struct zx_ethtool_rxnfc), 192);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compiled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
