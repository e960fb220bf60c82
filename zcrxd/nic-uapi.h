/* SPDX-License-Identifier: MIT */
/*
 * nic-uapi — the kernel ABI the NIC backends speak, written down by us so the
 * build never depends on the host's uapi headers (Debian 12 ships 6.1; we use
 * messages up to 6.17/6.18).  Values are kernel ABI facts (see
 * research/kernel-interfaces.md); every name is the kernel's with a ZX_
 * prefix, so grepping the kernel for the rest of the name finds its meaning.
 * Struct layouts are checked with _Static_assert below against the x86-64 /
 * arm64 ABI (both LP64) and, in tests/unit/test-nic-uapi.c, against the 6.1
 * headers for everything those have.
 *
 * Owns: constants and structs only.  Must not: contain code.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* ========================================================================
 * ethtool generic netlink (family "ethtool", version 1)
 * ======================================================================== */
#define ZX_ETHTOOL_GENL_NAME "ethtool"
#define ZX_ETHTOOL_GENL_VERSION 1
#define ZX_ETHTOOL_MCGRP_MONITOR_NAME "monitor"

/* user -> kernel */
enum {
	ZX_ETHTOOL_MSG_STRSET_GET = 1,
	ZX_ETHTOOL_MSG_FEATURES_GET = 11,
	ZX_ETHTOOL_MSG_FEATURES_SET = 12,
	ZX_ETHTOOL_MSG_RINGS_GET = 15,
	ZX_ETHTOOL_MSG_RINGS_SET = 16,
	ZX_ETHTOOL_MSG_CHANNELS_GET = 17,
	ZX_ETHTOOL_MSG_CHANNELS_SET = 18,
	ZX_ETHTOOL_MSG_RSS_GET = 38,        /* 6.2; dump 6.12 */
	ZX_ETHTOOL_MSG_RSS_SET = 48,        /* 6.17 */
	ZX_ETHTOOL_MSG_RSS_CREATE_ACT = 49, /* 6.17 */
	ZX_ETHTOOL_MSG_RSS_DELETE_ACT = 50, /* 6.17 */
};

/* kernel -> user */
enum {
	ZX_ETHTOOL_MSG_STRSET_GET_REPLY = 1,
	ZX_ETHTOOL_MSG_LINKINFO_NTF = 3,
	ZX_ETHTOOL_MSG_LINKMODES_NTF = 5,
	ZX_ETHTOOL_MSG_FEATURES_GET_REPLY = 11,
	ZX_ETHTOOL_MSG_FEATURES_SET_REPLY = 12,
	ZX_ETHTOOL_MSG_FEATURES_NTF = 13,
	ZX_ETHTOOL_MSG_PRIVFLAGS_NTF = 15,
	ZX_ETHTOOL_MSG_RINGS_GET_REPLY = 16,
	ZX_ETHTOOL_MSG_RINGS_NTF = 17,
	ZX_ETHTOOL_MSG_CHANNELS_GET_REPLY = 18,
	ZX_ETHTOOL_MSG_CHANNELS_NTF = 19,
	ZX_ETHTOOL_MSG_RSS_GET_REPLY = 38,
	ZX_ETHTOOL_MSG_RSS_NTF = 50,              /* 6.17 */
	ZX_ETHTOOL_MSG_RSS_CREATE_ACT_REPLY = 51, /* 6.17 */
	ZX_ETHTOOL_MSG_RSS_CREATE_NTF = 52,       /* 6.17 */
	ZX_ETHTOOL_MSG_RSS_DELETE_NTF = 53,       /* 6.17 */
};

/* request / reply header, nested as attribute 1 of every message */
enum {
	ZX_ETHTOOL_A_HEADER_DEV_INDEX = 1, /* u32 */
	ZX_ETHTOOL_A_HEADER_DEV_NAME = 2,  /* string */
	ZX_ETHTOOL_A_HEADER_FLAGS = 3,     /* u32 */
	ZX_ETHTOOL_A_HEADER_PHY_INDEX = 4, /* u32, 6.12 */
	ZX_ETHTOOL_A_HEADER_MAX = 4,
};

enum {
	ZX_ETHTOOL_FLAG_COMPACT_BITSETS = 1,
	ZX_ETHTOOL_FLAG_OMIT_REPLY = 2,
	ZX_ETHTOOL_FLAG_STATS = 4,
};

/* bitsets */
enum {
	ZX_ETHTOOL_A_BITSET_NOMASK = 1, /* flag */
	ZX_ETHTOOL_A_BITSET_SIZE = 2,   /* u32 */
	ZX_ETHTOOL_A_BITSET_BITS = 3,   /* nest of BITS_BIT */
	ZX_ETHTOOL_A_BITSET_VALUE = 4,  /* binary, u32 words, LSW first */
	ZX_ETHTOOL_A_BITSET_MASK = 5,   /* binary */
	ZX_ETHTOOL_A_BITSET_MAX = 5,
};

enum {
	ZX_ETHTOOL_A_BITSET_BITS_BIT = 1,
};

enum {
	ZX_ETHTOOL_A_BITSET_BIT_INDEX = 1, /* u32 */
	ZX_ETHTOOL_A_BITSET_BIT_NAME = 2,  /* string */
	ZX_ETHTOOL_A_BITSET_BIT_VALUE = 3, /* flag */
	ZX_ETHTOOL_A_BITSET_BIT_MAX = 3,
};

/* FEATURES */
enum {
	ZX_ETHTOOL_A_FEATURES_HEADER = 1,
	ZX_ETHTOOL_A_FEATURES_HW = 2,
	ZX_ETHTOOL_A_FEATURES_WANTED = 3,
	ZX_ETHTOOL_A_FEATURES_ACTIVE = 4,
	ZX_ETHTOOL_A_FEATURES_NOCHANGE = 5,
	ZX_ETHTOOL_A_FEATURES_MAX = 5,
};

/* The netlink name of NETIF_F_NTUPLE ("ntuple" is only an ethtool CLI alias). */
#define ZX_FEATURE_NTUPLE "rx-ntuple-filter"

/* RINGS */
enum {
	ZX_ETHTOOL_A_RINGS_HEADER = 1,
	ZX_ETHTOOL_A_RINGS_RX_MAX = 2,
	ZX_ETHTOOL_A_RINGS_RX_MINI_MAX = 3,
	ZX_ETHTOOL_A_RINGS_RX_JUMBO_MAX = 4,
	ZX_ETHTOOL_A_RINGS_TX_MAX = 5,
	ZX_ETHTOOL_A_RINGS_RX = 6,
	ZX_ETHTOOL_A_RINGS_RX_MINI = 7,
	ZX_ETHTOOL_A_RINGS_RX_JUMBO = 8,
	ZX_ETHTOOL_A_RINGS_TX = 9,
	ZX_ETHTOOL_A_RINGS_RX_BUF_LEN = 10,
	ZX_ETHTOOL_A_RINGS_TCP_DATA_SPLIT = 11, /* u8, 5.18 (settable later) */
	ZX_ETHTOOL_A_RINGS_CQE_SIZE = 12,
	ZX_ETHTOOL_A_RINGS_TX_PUSH = 13,
	ZX_ETHTOOL_A_RINGS_RX_PUSH = 14,
	ZX_ETHTOOL_A_RINGS_TX_PUSH_BUF_LEN = 15,
	ZX_ETHTOOL_A_RINGS_TX_PUSH_BUF_LEN_MAX = 16,
	ZX_ETHTOOL_A_RINGS_HDS_THRESH = 17,     /* u32, 6.14 */
	ZX_ETHTOOL_A_RINGS_HDS_THRESH_MAX = 18, /* u32, 6.14 */
	ZX_ETHTOOL_A_RINGS_MAX = 18,
};

enum {
	ZX_ETHTOOL_TCP_DATA_SPLIT_UNKNOWN = 0,
	ZX_ETHTOOL_TCP_DATA_SPLIT_DISABLED = 1,
	ZX_ETHTOOL_TCP_DATA_SPLIT_ENABLED = 2,
};

/* CHANNELS */
enum {
	ZX_ETHTOOL_A_CHANNELS_HEADER = 1,
	ZX_ETHTOOL_A_CHANNELS_RX_MAX = 2,
	ZX_ETHTOOL_A_CHANNELS_TX_MAX = 3,
	ZX_ETHTOOL_A_CHANNELS_OTHER_MAX = 4,
	ZX_ETHTOOL_A_CHANNELS_COMBINED_MAX = 5,
	ZX_ETHTOOL_A_CHANNELS_RX_COUNT = 6,
	ZX_ETHTOOL_A_CHANNELS_TX_COUNT = 7,
	ZX_ETHTOOL_A_CHANNELS_OTHER_COUNT = 8,
	ZX_ETHTOOL_A_CHANNELS_COMBINED_COUNT = 9,
	ZX_ETHTOOL_A_CHANNELS_MAX = 9,
};

/* RSS */
enum {
	ZX_ETHTOOL_A_RSS_HEADER = 1,
	ZX_ETHTOOL_A_RSS_CONTEXT = 2,       /* u32 */
	ZX_ETHTOOL_A_RSS_HFUNC = 3,         /* u32, ZX_ETH_RSS_HASH_* bits */
	ZX_ETHTOOL_A_RSS_INDIR = 4,         /* binary, u32 per bucket */
	ZX_ETHTOOL_A_RSS_HKEY = 5,          /* binary */
	ZX_ETHTOOL_A_RSS_INPUT_XFRM = 6,    /* u32, 6.8 */
	ZX_ETHTOOL_A_RSS_START_CONTEXT = 7, /* u32, dump only, 6.12 */
	ZX_ETHTOOL_A_RSS_FLOW_HASH = 8,     /* nest of ZX_ETHTOOL_A_FLOW_*, 6.17 */
	ZX_ETHTOOL_A_RSS_MAX = 8,
};

/* FLOW_HASH nest: each holds the RXH_* field mask (NLA_UINT) */
enum {
	ZX_ETHTOOL_A_FLOW_ETHER = 1,
	ZX_ETHTOOL_A_FLOW_IP4 = 2,
	ZX_ETHTOOL_A_FLOW_IP6 = 3,
	ZX_ETHTOOL_A_FLOW_TCP4 = 4,
	ZX_ETHTOOL_A_FLOW_TCP6 = 5,
	ZX_ETHTOOL_A_FLOW_UDP4 = 6,
	ZX_ETHTOOL_A_FLOW_UDP6 = 7,
	ZX_ETHTOOL_A_FLOW_SCTP4 = 8,
	ZX_ETHTOOL_A_FLOW_SCTP6 = 9,
	ZX_ETHTOOL_A_FLOW_AH4 = 10,
	ZX_ETHTOOL_A_FLOW_AH6 = 11,
	ZX_ETHTOOL_A_FLOW_ESP4 = 12,
	ZX_ETHTOOL_A_FLOW_ESP6 = 13,
	ZX_ETHTOOL_A_FLOW_AH_ESP4 = 14,
	ZX_ETHTOOL_A_FLOW_AH_ESP6 = 15,
	ZX_ETHTOOL_A_FLOW_MAX = 27, /* GTP flows 16..27, unused here */
};

/* ========================================================================
 * netdev generic netlink (family "netdev", version 1)
 * ======================================================================== */
#define ZX_NETDEV_GENL_NAME "netdev"
#define ZX_NETDEV_GENL_VERSION 1
#define ZX_NETDEV_MCGRP_MGMT "mgmt"
#define ZX_NETDEV_MCGRP_PAGE_POOL "page-pool" /* 6.8 */

enum {
	ZX_NETDEV_CMD_DEV_GET = 1,
	ZX_NETDEV_CMD_DEV_ADD_NTF = 2,
	ZX_NETDEV_CMD_DEV_DEL_NTF = 3,
	ZX_NETDEV_CMD_DEV_CHANGE_NTF = 4,
	ZX_NETDEV_CMD_PAGE_POOL_GET = 5,
	ZX_NETDEV_CMD_PAGE_POOL_ADD_NTF = 6,
	ZX_NETDEV_CMD_PAGE_POOL_DEL_NTF = 7,
	ZX_NETDEV_CMD_PAGE_POOL_CHANGE_NTF = 8,
	ZX_NETDEV_CMD_QUEUE_GET = 10, /* 6.8 */
	ZX_NETDEV_CMD_NAPI_GET = 11,  /* 6.8 */
	ZX_NETDEV_CMD_QSTATS_GET = 12,
	ZX_NETDEV_CMD_BIND_RX = 13,
	ZX_NETDEV_CMD_NAPI_SET = 14,
	ZX_NETDEV_CMD_BIND_TX = 15,
	ZX_NETDEV_CMD_QUEUE_CREATE = 16, /* 7.1 */
};

/* page-pool attributes (6.8): only the ones we read */
enum {
	ZX_NETDEV_A_PAGE_POOL_ID = 1,
	ZX_NETDEV_A_PAGE_POOL_IFINDEX = 2,
	ZX_NETDEV_A_PAGE_POOL_MAX = 8,
};

enum {
	ZX_NETDEV_A_DEV_IFINDEX = 1,
	ZX_NETDEV_A_DEV_PAD = 2,
	ZX_NETDEV_A_DEV_XDP_FEATURES = 3,             /* u64 */
	ZX_NETDEV_A_DEV_XDP_ZC_MAX_SEGS = 4,          /* u32 */
	ZX_NETDEV_A_DEV_XDP_RX_METADATA_FEATURES = 5, /* u64 */
	ZX_NETDEV_A_DEV_XSK_FEATURES = 6,             /* u64 */
	ZX_NETDEV_A_DEV_MAX = 6,
};

enum {
	ZX_NETDEV_QUEUE_TYPE_RX = 0,
	ZX_NETDEV_QUEUE_TYPE_TX = 1,
};

enum {
	ZX_NETDEV_A_QUEUE_ID = 1,      /* u32 */
	ZX_NETDEV_A_QUEUE_IFINDEX = 2, /* u32 */
	ZX_NETDEV_A_QUEUE_TYPE = 3,    /* u32 */
	ZX_NETDEV_A_QUEUE_NAPI_ID = 4, /* u32 */
	ZX_NETDEV_A_QUEUE_DMABUF = 5,  /* u32, 6.12 */
	ZX_NETDEV_A_QUEUE_IO_URING = 6, /* nest, 6.15 */
	ZX_NETDEV_A_QUEUE_XSK = 7,     /* nest, 6.15 */
	ZX_NETDEV_A_QUEUE_LEASE = 8,   /* nest, 7.1 */
	ZX_NETDEV_A_QUEUE_MAX = 8,
};

enum {
	ZX_NETDEV_A_NAPI_IFINDEX = 1,
	ZX_NETDEV_A_NAPI_ID = 2,
	ZX_NETDEV_A_NAPI_IRQ = 3, /* u32 */
	ZX_NETDEV_A_NAPI_PID = 4, /* u32 */
	ZX_NETDEV_A_NAPI_DEFER_HARD_IRQS = 5,
	ZX_NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT = 6,
	ZX_NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT = 7,
	ZX_NETDEV_A_NAPI_THREADED = 8,
	ZX_NETDEV_A_NAPI_MAX = 8,
};

enum {
	ZX_NETDEV_QSTATS_SCOPE_QUEUE = 1,
};

enum {
	ZX_NETDEV_A_QSTATS_IFINDEX = 1,
	ZX_NETDEV_A_QSTATS_QUEUE_TYPE = 2,
	ZX_NETDEV_A_QSTATS_QUEUE_ID = 3,
	ZX_NETDEV_A_QSTATS_SCOPE = 4,
	ZX_NETDEV_A_QSTATS_RX_PACKETS = 8, /* uint */
	ZX_NETDEV_A_QSTATS_RX_BYTES = 9,
	ZX_NETDEV_A_QSTATS_TX_PACKETS = 10,
	ZX_NETDEV_A_QSTATS_TX_BYTES = 11,
	ZX_NETDEV_A_QSTATS_RX_ALLOC_FAIL = 12,
	ZX_NETDEV_A_QSTATS_RX_HW_DROPS = 13,
	ZX_NETDEV_A_QSTATS_MAX = 13, /* the ones we read */
};

/* ========================================================================
 * ethtool ioctl (SIOCETHTOOL)
 * ======================================================================== */
#define ZX_SIOCETHTOOL 0x8946

enum {
	ZX_ETHTOOL_GDRVINFO = 0x03,
	ZX_ETHTOOL_GRXFH = 0x29,
	ZX_ETHTOOL_SRXFH = 0x2a,
	ZX_ETHTOOL_GRXRINGS = 0x2d,
	ZX_ETHTOOL_GRXCLSRLCNT = 0x2e,
	ZX_ETHTOOL_GRXCLSRULE = 0x2f,
	ZX_ETHTOOL_GRXCLSRLALL = 0x30,
	ZX_ETHTOOL_SRXCLSRLDEL = 0x31,
	ZX_ETHTOOL_SRXCLSRLINS = 0x32,
	ZX_ETHTOOL_GRXFHINDIR = 0x38,
	ZX_ETHTOOL_SRXFHINDIR = 0x39,
	ZX_ETHTOOL_GCHANNELS = 0x3c,
	ZX_ETHTOOL_SCHANNELS = 0x3d,
	ZX_ETHTOOL_GRSSH = 0x46,
	ZX_ETHTOOL_SRSSH = 0x47,
};

/* flow types (rule specs and flow hashing) */
enum {
	ZX_TCP_V4_FLOW = 0x01,
	ZX_UDP_V4_FLOW = 0x02,
	ZX_SCTP_V4_FLOW = 0x03,
	ZX_AH_ESP_V4_FLOW = 0x04,
	ZX_TCP_V6_FLOW = 0x05,
	ZX_UDP_V6_FLOW = 0x06,
	ZX_SCTP_V6_FLOW = 0x07,
	ZX_AH_ESP_V6_FLOW = 0x08,
	ZX_AH_V4_FLOW = 0x09,
	ZX_ESP_V4_FLOW = 0x0a,
	ZX_AH_V6_FLOW = 0x0b,
	ZX_ESP_V6_FLOW = 0x0c,
	ZX_IPV4_USER_FLOW = 0x0d,
	ZX_IPV6_USER_FLOW = 0x0e,
	ZX_IPV4_FLOW = 0x10,
	ZX_IPV6_FLOW = 0x11,
	ZX_ETHER_FLOW = 0x12,
};
#define ZX_FLOW_EXT 0x80000000u
#define ZX_FLOW_MAC_EXT 0x40000000u
#define ZX_FLOW_RSS 0x20000000u
#define ZX_FLOW_TYPE_MASK (~(ZX_FLOW_EXT | ZX_FLOW_MAC_EXT | ZX_FLOW_RSS))

#define ZX_ETH_RX_NFC_IP4 1

/* flow hash fields (GRXFH/SRXFH data, RSS FLOW_HASH values) */
#define ZX_RXH_L2DA (1u << 1)
#define ZX_RXH_VLAN (1u << 2)
#define ZX_RXH_L3_PROTO (1u << 3)
#define ZX_RXH_IP_SRC (1u << 4)
#define ZX_RXH_IP_DST (1u << 5)
#define ZX_RXH_L4_B_0_1 (1u << 6)
#define ZX_RXH_L4_B_2_3 (1u << 7)
#define ZX_RXH_GTP_TEID (1u << 8)
#define ZX_RXH_IP6_FL (1u << 9)
#define ZX_RXH_DISCARD (1u << 31)

/* RSS hash functions (bit per function) */
#define ZX_ETH_RSS_HASH_TOP 1u
#define ZX_ETH_RSS_HASH_XOR 2u
#define ZX_ETH_RSS_HASH_CRC32 4u
#define ZX_ETH_RSS_HASH_NO_CHANGE 0u

/* RSS input transformation (struct ethtool_rxfh.input_xfrm, 6.8; before it
 * the byte was reserved and had to be 0) */
#define ZX_RXH_XFRM_SYM_XOR (1u << 0)
#define ZX_RXH_XFRM_SYM_OR_XOR (1u << 1)
#define ZX_RXH_XFRM_NO_CHANGE 0xffu

/* ring_cookie and locations */
#define ZX_RX_CLS_FLOW_DISC 0xffffffffffffffffull
#define ZX_RX_CLS_FLOW_WAKE 0xfffffffffffffffeull
#define ZX_ETHTOOL_RX_FLOW_SPEC_RING 0x00000000ffffffffull
#define ZX_ETHTOOL_RX_FLOW_SPEC_RING_VF 0x000000ff00000000ull
#define ZX_ETHTOOL_RX_FLOW_SPEC_RING_VF_OFF 32
#define ZX_RX_CLS_LOC_SPECIAL 0x80000000u
#define ZX_RX_CLS_LOC_ANY 0xffffffffu
#define ZX_RX_CLS_LOC_FIRST 0xfffffffeu
#define ZX_RX_CLS_LOC_LAST 0xfffffffdu

#define ZX_ETH_RXFH_CONTEXT_ALLOC 0xffffffffu
#define ZX_ETH_RXFH_INDIR_NO_CHANGE 0xffffffffu

/* All multi-byte fields in flow specs are big-endian (network order). */
struct zx_ethtool_tcpip4_spec {
	uint32_t ip4src, ip4dst;
	uint16_t psrc, pdst;
	uint8_t tos;
};

struct zx_ethtool_ah_espip4_spec {
	uint32_t ip4src, ip4dst;
	uint32_t spi;
	uint8_t tos;
};

struct zx_ethtool_usrip4_spec {
	uint32_t ip4src, ip4dst;
	uint32_t l4_4_bytes;
	uint8_t tos;
	uint8_t ip_ver;
	uint8_t proto;
};

struct zx_ethtool_tcpip6_spec {
	uint32_t ip6src[4], ip6dst[4];
	uint16_t psrc, pdst;
	uint8_t tclass;
};

struct zx_ethtool_ah_espip6_spec {
	uint32_t ip6src[4], ip6dst[4];
	uint32_t spi;
	uint8_t tclass;
};

struct zx_ethtool_usrip6_spec {
	uint32_t ip6src[4], ip6dst[4];
	uint32_t l4_4_bytes;
	uint8_t tclass;
	uint8_t l4_proto;
};

struct zx_ethhdr {
	uint8_t h_dest[6];
	uint8_t h_source[6];
	uint16_t h_proto;
} __attribute__((packed));

union zx_ethtool_flow_union {
	struct zx_ethtool_tcpip4_spec tcp_ip4_spec, udp_ip4_spec, sctp_ip4_spec;
	struct zx_ethtool_ah_espip4_spec ah_ip4_spec, esp_ip4_spec;
	struct zx_ethtool_usrip4_spec usr_ip4_spec;
	struct zx_ethtool_tcpip6_spec tcp_ip6_spec, udp_ip6_spec, sctp_ip6_spec;
	struct zx_ethtool_ah_espip6_spec ah_ip6_spec, esp_ip6_spec;
	struct zx_ethtool_usrip6_spec usr_ip6_spec;
	struct zx_ethhdr ether_spec;
	uint8_t hdata[52];
};

struct zx_ethtool_flow_ext {
	uint8_t padding[2];
	uint8_t h_dest[6];
	uint16_t vlan_etype;
	uint16_t vlan_tci;
	uint32_t data[2];
};

struct zx_ethtool_rx_flow_spec {
	uint32_t flow_type;
	union zx_ethtool_flow_union h_u;
	struct zx_ethtool_flow_ext h_ext;
	union zx_ethtool_flow_union m_u; /* 1 bits = compare this bit */
	struct zx_ethtool_flow_ext m_ext;
	uint64_t ring_cookie;
	uint32_t location;
};

struct zx_ethtool_rxnfc {
	uint32_t cmd;
	uint32_t flow_type;
	uint64_t data;
	struct zx_ethtool_rx_flow_spec fs;
	union {
		uint32_t rule_cnt;
		uint32_t rss_context; /* shares storage with rule_cnt */
	};
	uint32_t rule_locs[];
};

struct zx_ethtool_rxfh {
	uint32_t cmd;
	uint32_t rss_context;
	uint32_t indir_size;
	uint32_t key_size;
	uint8_t hfunc;
	uint8_t input_xfrm; /* rsvd8[0] before 6.8 */
	uint8_t rsvd8[2];
	uint32_t rsvd32;
	uint32_t rss_config[]; /* indir_size u32, then key_size bytes */
};

struct zx_ethtool_channels {
	uint32_t cmd;
	uint32_t max_rx, max_tx, max_other, max_combined;
	uint32_t rx_count, tx_count, other_count, combined_count;
};

struct zx_ethtool_drvinfo {
	uint32_t cmd;
	char driver[32];
	char version[32];
	char fw_version[32];
	char bus_info[32];
	char erom_version[32];
	char reserved2[12];
	uint32_t n_priv_flags;
	uint32_t n_stats;
	uint32_t testinfo_len;
	uint32_t eedump_len;
	uint32_t regdump_len;
};

/* Layout facts (research/kernel-interfaces.md §2.2). */
_Static_assert(sizeof(struct zx_ethhdr) == 14, "ethhdr");
_Static_assert(sizeof(struct zx_ethtool_tcpip4_spec) == 16, "tcpip4_spec");
_Static_assert(sizeof(struct zx_ethtool_usrip4_spec) == 16, "usrip4_spec");
_Static_assert(sizeof(struct zx_ethtool_tcpip6_spec) == 40, "tcpip6_spec");
_Static_assert(sizeof(struct zx_ethtool_usrip6_spec) == 40, "usrip6_spec");
_Static_assert(sizeof(union zx_ethtool_flow_union) == 52, "flow_union");
_Static_assert(sizeof(struct zx_ethtool_flow_ext) == 20, "flow_ext");
_Static_assert(offsetof(struct zx_ethtool_flow_ext, h_dest) == 2, "flow_ext.h_dest");
_Static_assert(offsetof(struct zx_ethtool_rx_flow_spec, h_u) == 4, "fs.h_u");
_Static_assert(offsetof(struct zx_ethtool_rx_flow_spec, h_ext) == 56, "fs.h_ext");
_Static_assert(offsetof(struct zx_ethtool_rx_flow_spec, m_u) == 76, "fs.m_u");
_Static_assert(offsetof(struct zx_ethtool_rx_flow_spec, m_ext) == 128, "fs.m_ext");
_Static_assert(offsetof(struct zx_ethtool_rx_flow_spec, ring_cookie) == 152, "fs.ring_cookie");
_Static_assert(offsetof(struct zx_ethtool_rx_flow_spec, location) == 160, "fs.location");
_Static_assert(sizeof(struct zx_ethtool_rx_flow_spec) == 168, "rx_flow_spec");
_Static_assert(offsetof(struct zx_ethtool_rxnfc, data) == 8, "rxnfc.data");
_Static_assert(offsetof(struct zx_ethtool_rxnfc, fs) == 16, "rxnfc.fs");
_Static_assert(offsetof(struct zx_ethtool_rxnfc, rule_cnt) == 184, "rxnfc.rule_cnt");
_Static_assert(offsetof(struct zx_ethtool_rxnfc, rss_context) == 184, "rxnfc.rss_context");
_Static_assert(offsetof(struct zx_ethtool_rxnfc, rule_locs) == 188, "rxnfc.rule_locs");
_Static_assert(sizeof(struct zx_ethtool_rxnfc) == 192, "rxnfc");
_Static_assert(offsetof(struct zx_ethtool_rxfh, hfunc) == 16, "rxfh.hfunc");
_Static_assert(offsetof(struct zx_ethtool_rxfh, input_xfrm) == 17, "rxfh.input_xfrm");
_Static_assert(offsetof(struct zx_ethtool_rxfh, rss_config) == 24, "rxfh.rss_config");
_Static_assert(sizeof(struct zx_ethtool_rxfh) == 24, "rxfh");
_Static_assert(sizeof(struct zx_ethtool_channels) == 36, "channels");
_Static_assert(offsetof(struct zx_ethtool_drvinfo, bus_info) == 100, "drvinfo.bus_info");
_Static_assert(sizeof(struct zx_ethtool_drvinfo) == 196, "drvinfo");
