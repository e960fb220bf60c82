/* SPDX-License-Identifier: MIT */
/*
 * nic — the observed model of one NIC and the ops table every NIC backend
 * implements.  The real backend (nic-ethtool.c, nic-ioctl.c, nic-netdev.c,
 * nic-rtnl.c behind nic-kernel.c) and the test-only fake (tests/lib/) fill in
 * the same structs, so exec, the planner and the API never know which one
 * they talk to.
 *
 * Owns: the data model and its small helpers.  Must not: do I/O, log above
 * debug level, know about attachments or libvirt.
 */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kerror.h"

#define NIC_MAC_LEN 6
#define NIC_LOC_ANY 0xffffffffu /* RX_CLS_LOC_ANY: let the driver pick a slot */

/* What we know about one capability: learned from what the kernel reports,
 * or (for things only trying tells) from the first real attempt. */
enum nic_cap_state {
	NIC_CAP_UNKNOWN = 0,
	NIC_CAP_YES,
	NIC_CAP_NO,
};

struct nic_cap {
	enum nic_cap_state state;
	int err;       /* errno that told us "no" (0 otherwise) */
	char msg[160]; /* kernel's text, or a short note of how it was learned */
};

/* Rule kinds, indexing nic_caps.rule_kinds: the flow types zcrxd matches on
 * (enum nic_rule_match minus OTHER) and the actions it uses (enum
 * nic_rule_action up to DROP). */
#define NIC_RULE_FLOWS 5 /* NIC_RULE_MATCH_ETHER_DST, _IP4_DST, _IP6_DST, _FLOW4, _FLOW6 */
#define NIC_RULE_ACTS 3  /* NIC_RULE_ACTION_QUEUE, _CONTEXT, _DROP */

struct nic_caps {
	struct nic_cap channels;     /* CHANNELS_GET works */
	struct nic_cap channels_set; /* some channel count is settable (max > 0) */
	struct nic_cap rings;        /* RINGS_GET works */
	struct nic_cap header_split; /* tcp-data-split settable */
	struct nic_cap hds_thresh;   /* hds-thresh reported/settable */
	struct nic_cap rss;          /* RSS table readable (context 0) */
	struct nic_cap rss_set;      /* RSS table writable */
	struct nic_cap rss_contexts; /* additional RSS contexts */
	struct nic_cap ntuple;       /* rx-ntuple-filter can be on */
	struct nic_cap rules;        /* rule table reachable (GRXCLSRLCNT) */
	/* Rules zcrxd makes, learned per kind (nic_rule_kind_cap): what they
	 * match (ETHER_FLOW dst MAC, IPv4 dst, IPv6 dst, a lease's TCP/UDP
	 * flow) and where they send
	 * (queue, RSS context, drop).  A driver may take MAC->queue rules and
	 * refuse MAC->context ones (bnxt: no FLOW_RSS with ETHER_FLOW). */
	struct nic_cap rule_kinds[NIC_RULE_FLOWS][NIC_RULE_ACTS];
	struct nic_cap queue_info;   /* netdev queue-get answers for this NIC */
	struct nic_cap qstats;       /* netdev qstats-get answers */
	struct nic_cap binder;       /* zero-copy binder (vhost_zcrx PROBE) */
	/* The driver refused one more RSS context as exhausted (ENOSPC) when
	 * rss_contexts_full of them existed (learned only): while as many
	 * exist, a vNIC gets one queue instead of a new context. */
	struct nic_cap rss_contexts_room;
	uint32_t rss_contexts_full;
};

struct nic_channels {
	uint32_t rx_max, tx_max, other_max, combined_max;
	uint32_t rx, tx, other, combined;
};

/* A channel change: only the fields with the matching has_* flag are sent. */
struct nic_channels_req {
	bool has_rx, has_tx, has_combined;
	uint32_t rx, tx, combined;
};

enum nic_tcp_data_split {
	NIC_TDS_UNKNOWN = 0, /* also "driver default" in a SET */
	NIC_TDS_DISABLED = 1,
	NIC_TDS_ENABLED = 2,
};

struct nic_rings {
	bool valid;
	uint32_t rx_max, tx_max, rx, tx;
	bool has_tcp_data_split;
	uint8_t tcp_data_split; /* enum nic_tcp_data_split */
	bool has_hds_thresh;
	uint32_t hds_thresh, hds_thresh_max;
};

struct nic_rings_req {
	bool has_tcp_data_split, has_hds_thresh;
	uint8_t tcp_data_split;
	uint32_t hds_thresh;
};

/* One RSS context; id 0 is the default table. */
struct nic_rss {
	uint32_t id;
	uint32_t hfunc;      /* ETH_RSS_HASH_* bitmask */
	uint32_t input_xfrm; /* RXH_XFRM_* bits (symmetric hashing), 0 = none */
	uint32_t indir_size; /* entries in indir */
	uint32_t *indir;     /* queue per bucket, malloc'd */
	uint32_t key_size;
	uint8_t *key; /* malloc'd, may be NULL */
};

enum nic_rule_match {
	NIC_RULE_MATCH_OTHER = 0, /* a rule we did not make and do not decode */
	NIC_RULE_MATCH_ETHER_DST, /* ETHER_FLOW, dst MAC exact */
	NIC_RULE_MATCH_IP4_DST,   /* IPV4_USER_FLOW, dst address exact */
	NIC_RULE_MATCH_IP6_DST,   /* IPV6_USER_FLOW, dst address exact */
	NIC_RULE_MATCH_FLOW4,     /* TCP_V4/UDP_V4: dst port [+ addresses, src port] */
	NIC_RULE_MATCH_FLOW6,     /* TCP_V6/UDP_V6: the same over IPv6 */
};

static inline bool nic_rule_match_is_flow(int m)
{
	return m == NIC_RULE_MATCH_FLOW4 || m == NIC_RULE_MATCH_FLOW6;
}

/* An L4 flow match (a lease's rule): protocol and family pick the flow
 * type; the destination port is exact; addresses and the source port are
 * exact when set, else not compared. */
struct nic_flow {
	uint8_t proto;     /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t family;    /* AF_INET or AF_INET6 */
	bool has_dst, has_src;
	uint16_t dport;    /* host order, never 0 */
	uint16_t sport;    /* host order, 0 = any */
	struct in6_addr dst, src; /* AF_INET: the address in the first 4 bytes */
};

enum nic_rule_action {
	NIC_RULE_ACTION_QUEUE = 0, /* ring_cookie = queue */
	NIC_RULE_ACTION_CONTEXT,   /* FLOW_RSS + rss_context */
	NIC_RULE_ACTION_DROP,      /* RX_CLS_FLOW_DISC */
	NIC_RULE_ACTION_OTHER,     /* VF, wake, ... */
};

struct nic_rule {
	uint32_t location; /* NIC_LOC_ANY on insert = let the driver choose */
	enum nic_rule_match match;
	uint8_t mac[NIC_MAC_LEN];
	struct in_addr ip4;
	struct in6_addr ip6;
	struct nic_flow flow; /* MATCH_FLOW4 / MATCH_FLOW6 (flow.family says the same) */
	enum nic_rule_action action;
	uint32_t queue;       /* ACTION_QUEUE */
	uint32_t rss_context; /* ACTION_CONTEXT */
	uint32_t flow_type;   /* raw flow_type as read back (display only) */
};

enum nic_provider {
	NIC_PROVIDER_DMABUF = 1u << 0,
	NIC_PROVIDER_IO_URING = 1u << 1,
	NIC_PROVIDER_XSK = 1u << 2,
	NIC_PROVIDER_LEASE = 1u << 3,
};

struct nic_queue {
	uint32_t id;        /* RX queue index */
	uint32_t napi_id;   /* 0 = unknown */
	int irq;            /* -1 = unknown */
	int numa_node;      /* -1 = unknown */
	char cpus[64];      /* IRQ affinity list, "" = unknown */
	unsigned providers; /* enum nic_provider bits */
	bool has_qstats;
	uint64_t rx_packets, rx_bytes;
};

/* One network device as rtnetlink sees it (NICs and macvtaps alike). */
struct nic_link {
	int ifindex;
	char name[IF_NAMESIZE];
	char kind[16]; /* IFLA_INFO_KIND: "veth", "macvtap", "" for hardware */
	uint8_t mac[NIC_MAC_LEN];
	bool up;
	int link_ifindex;    /* IFLA_LINK (macvtap lower), 0 if none */
	uint32_t macvlan_mode; /* IFLA_MACVLAN_MODE for macvtap/macvlan */
	uint32_t num_rx_queues, num_tx_queues;
	/* Added by the NIC layer (issue 3): */
	int link_netnsid;       /* IFLA_LINK_NETNSID: lower device in another netns; -1 = same */
	bool xdp;               /* an XDP program is attached (IFLA_XDP) */
	char parent_bus[16];    /* IFLA_PARENT_DEV_BUS_NAME, e.g. "pci"; "" if none */
	char parent_dev[64];    /* IFLA_PARENT_DEV_NAME, e.g. "0000:03:00.0" */
	uint32_t mtu;
};

/* The observed state of one NIC.  Everything the planner and the API read. */
struct nic {
	struct nic_link link;
	char driver[32];   /* "" = unknown */
	char bus_info[64]; /* "" = unknown */
	int numa_node;     /* -1 = unknown */
	bool has_xdp;      /* an XDP program is attached */

	struct nic_channels ch;
	struct nic_rings rings;

	bool ntuple_active; /* rx-ntuple-filter currently on */
	bool ntuple_fixed;  /* not in the changeable (HW) set */

	size_t n_rss; /* rss[0] is context 0 when rss.state == YES */
	struct nic_rss *rss;
	/* Whether rss[] lists every context: where the kernel dumps them (the
	 * ethtool netlink RSS dump, 6.12+).  Where it cannot, rss[] holds
	 * context 0 and the contexts read by id (nic_monitor reads those
	 * zcrxd owns), and rss_gone the ids read by id that the kernel says
	 * do not exist.  A context in neither is unknown, not gone. */
	bool rss_listed;
	size_t n_rss_gone;
	uint32_t *rss_gone;

	uint32_t rule_capacity; /* table size from GRXCLSRLCNT, 0 = unknown */
	bool rule_loc_special;  /* driver accepts RX_CLS_LOC_ANY */
	size_t n_rules;
	struct nic_rule *rules;

	size_t n_queues; /* RX queues as netdev queue-get lists them */
	struct nic_queue *queues;

	struct nic_caps caps;
	uint64_t generation; /* bumped by the observer whenever content changed */
	/* the observer's: when every part was last read (CLOCK_MONOTONIC of
	 * its loop's turn), 0 = never */
	uint64_t read_all_usec;
};

/* Identifies the device a change goes to.  Backends use ifindex; name is for
 * error messages. */
struct nic_id {
	int ifindex;
	const char *name;
};

/* Which parts of the model observe() refreshes. */
enum nic_observe_what {
	NIC_OBSERVE_LINK = 1u << 0,
	NIC_OBSERVE_CHANNELS = 1u << 1,
	NIC_OBSERVE_RINGS = 1u << 2,
	NIC_OBSERVE_FEATURES = 1u << 3,
	NIC_OBSERVE_RSS = 1u << 4,
	NIC_OBSERVE_RULES = 1u << 5,
	NIC_OBSERVE_QUEUES = 1u << 6,
	NIC_OBSERVE_ALL = 0x7f,
};

/* One call of nic_ops.rule_insert_many. */
struct nic_rule_call {
	int ifindex;
	char name[IFNAMSIZ];
	struct nic_rule rule; /* as for rule_insert: the slot used when it succeeded */
	bool ran;	      /* tried: result (0 or -errno) and err say how it went */
	int result;
	struct kerror err;
};

/*
 * The backend ops table.  Every call returns 0 or -errno and, on failure,
 * fills *err with the errno, the operation and the kernel's text.  Calls that
 * change something do exactly one kernel change (or none) so exec can undo.
 */
struct nic_ops {
	const char *name;

	/* All links in the netns (NICs and macvtaps).  *ret is malloc'd. */
	int (*list_links)(void *be, struct nic_link **ret, size_t *ret_n, struct kerror *err);
	/* Refresh the parts of *nic named by what (nic->link.ifindex set). */
	int (*observe)(void *be, struct nic *nic, unsigned what, struct kerror *err);
	/* observe of nics[i] with what[i] for each i < n, its result in
	 * res[i]: one hand-over for all of them where the calls run on
	 * another thread (nic-bound).  links (optional): list_links first,
	 * in the same hand-over, into *links and *n_links; then only the
	 * nics[] the listing holds are read (res[i] -ENODEV for the others;
	 * nics[] in ifindex order, as the listing).  Returns 0 when each was
	 * tried, or -errno with *err when none was, when the listing failed,
	 * or when their outcome is unknown (then nics[i] may be left empty
	 * but for ifindex and name); the caller clears nics[] either way.
	 * May be NULL: list and observe each. */
	int (*observe_many)(void *be, struct nic_link **links, size_t *n_links, struct nic *nics,
			    const unsigned *what, int *res, size_t n, struct kerror *err);

	int (*set_channels)(void *be, const struct nic_id *id, const struct nic_channels_req *req,
			    struct kerror *err);
	/* Set a feature by its netlink name; *ret_active tells whether it is now
	 * in the requested state (the kernel acks even when it did not apply). */
	int (*set_feature)(void *be, const struct nic_id *id, const char *feature, bool on,
			   bool *ret_active, struct kerror *err);
	int (*set_rings)(void *be, const struct nic_id *id, const struct nic_rings_req *req,
			 struct kerror *err);
	/* Write context ctx's table; n == 0 resets it to the driver default. */
	int (*rss_set)(void *be, const struct nic_id *id, uint32_t ctx, const uint32_t *indir,
		       uint32_t n, struct kerror *err);
	int (*rss_create)(void *be, const struct nic_id *id, const uint32_t *indir, uint32_t n,
			  uint32_t *ret_ctx, struct kerror *err);
	int (*rss_delete)(void *be, const struct nic_id *id, uint32_t ctx, struct kerror *err);
	/* Read one context by id: where contexts cannot be listed, the way to
	 * see one.  -ENOENT or -EINVAL (drivers differ) when it does not
	 * exist.  May be NULL. */
	int (*rss_get)(void *be, const struct nic_id *id, uint32_t ctx, struct nic_rss *ret,
		       struct kerror *err);
	/* rule->location: NIC_LOC_ANY or a slot; on success the slot used. */
	int (*rule_insert)(void *be, const struct nic_id *id, struct nic_rule *rule,
			   struct kerror *err);
	int (*rule_delete)(void *be, const struct nic_id *id, uint32_t location,
			   struct kerror *err);
	/* rule_insert of calls[0..n) in this order, in one hand-over where
	 * the calls run on another thread (nic-bound): each call's result,
	 * rule and error in calls[i]; after a failure on a NIC, the later
	 * calls on that NIC are not tried (ran stays false).  Returns 0, or
	 * -errno with *err when none was tried (every ran false) or when
	 * their outcome is unknown (-ETIMEDOUT: the hand-over overran its
	 * bound; calls[] untouched, any of them may have taken effect).
	 * May be NULL: rule_insert each. */
	int (*rule_insert_many)(void *be, struct nic_rule_call *calls, size_t n,
				struct kerror *err);

	/* Added by the NIC layer (issue 3); other backends may leave them NULL. */
	/* Replace context ctx's hash key; key_len must be the device's size. */
	int (*rss_set_key)(void *be, const struct nic_id *id, uint32_t ctx, const uint8_t *key,
			   uint32_t key_len, struct kerror *err);
	/* Flow-hash fields (NIC_RXH_* bits) of one flow type (NIC_FLOW_*). */
	int (*flow_hash_get)(void *be, const struct nic_id *id, uint32_t flow_type,
			     uint64_t *ret_fields, struct kerror *err);
	int (*flow_hash_set)(void *be, const struct nic_id *id, uint32_t flow_type,
			     uint64_t fields, struct kerror *err);
	/* Forget what was learned about ifindex (the device went away). */
	void (*forget)(void *be, int ifindex);
};

/* Flow types and hash fields for flow_hash_get/set (kernel ABI values). */
#define NIC_FLOW_TCP4 0x01
#define NIC_FLOW_UDP4 0x02
#define NIC_FLOW_TCP6 0x05
#define NIC_FLOW_UDP6 0x06
#define NIC_FLOW_IP4 0x10
#define NIC_FLOW_IP6 0x11
#define NIC_FLOW_ETHER 0x12
#define NIC_RXH_L2DA (1u << 1)
#define NIC_RXH_VLAN (1u << 2)
#define NIC_RXH_L3_PROTO (1u << 3)
#define NIC_RXH_IP_SRC (1u << 4)
#define NIC_RXH_IP_DST (1u << 5)
#define NIC_RXH_L4_B_0_1 (1u << 6)
#define NIC_RXH_L4_B_2_3 (1u << 7)
#define NIC_RXH_DISCARD (1u << 31)

struct nic_backend {
	const struct nic_ops *ops;
	void *be;
};

/* Model helpers (nic.c). */
void nic_init(struct nic *nic);
void nic_clear(struct nic *nic); /* frees owned arrays, keeps nothing */
int nic_copy(struct nic *dst, const struct nic *src);
void nic_rss_clear(struct nic_rss *rss);
/* Number of RX queues in use: combined + rx. */
uint32_t nic_rx_queue_count(const struct nic *nic);
const struct nic_rss *nic_find_rss(const struct nic *nic, uint32_t ctx);
/* What the model says of context ctx: seen (nic_find_rss), gone (not
 * listed in a listing of every context, or read by id and not there), or
 * unknown (contexts cannot be listed and it was not read). */
enum nic_ctx_seen {
	NIC_CTX_SEEN = 0,
	NIC_CTX_GONE,
	NIC_CTX_UNKNOWN,
};
enum nic_ctx_seen nic_ctx_state(const struct nic *nic, uint32_t ctx);
/* Add a context read by id (taken over: r's arrays move), or an id the
 * kernel says does not exist.  -ENOMEM. */
int nic_rss_add(struct nic *nic, struct nic_rss *r);
int nic_rss_add_gone(struct nic *nic, uint32_t ctx);
const struct nic_rule *nic_find_rule(const struct nic *nic, uint32_t location);
const char *nic_cap_state_name(enum nic_cap_state s);
/* The learned capability of rules that match m and do a; NULL for kinds
 * zcrxd never makes (MATCH_OTHER, ACTION_OTHER). */
struct nic_cap *nic_rule_kind_cap(struct nic_caps *c, enum nic_rule_match m,
				  enum nic_rule_action a);
/* What failed or accepted changes taught (plan_learn) laid over what the
 * backend reports: a learned "no" wins, a learned "yes" fills an unknown.
 * Covers the capabilities only trying tells: rule kinds, RSS contexts and
 * writes, ntuple, header split, settable channels. */
void nic_caps_overlay(struct nic_caps *dst, const struct nic_caps *learned);
/* "ether" / "ip4" / "ip6" for flow index f; "queue" / "context" / "drop". */
const char *nic_rule_flow_name(unsigned f);
const char *nic_rule_act_name(unsigned a);
/* One family of flows (e.g. IPv4 and IPv6) as one capability: yes when
 * some kind of it was accepted, no when every kind was refused, unknown
 * otherwise; the message names each kind that is not unknown. */
void nic_rule_family_cap(const struct nic_caps *c, const unsigned *flows, size_t n_flows,
			 struct nic_cap *ret);
void nic_cap_set(struct nic_cap *cap, enum nic_cap_state state, int err, const char *msg);
int nic_mac_parse(const char *s, uint8_t mac[NIC_MAC_LEN]);
/* Same flow (unset addresses and ports ignored). */
bool nic_flow_equal(const struct nic_flow *a, const struct nic_flow *b);
/* ethtool's words for a flow: "tcp4 dst-port 9000 dst-ip 10.0.0.1"; with
 * ethtool, "flow-type " first. */
const char *nic_flow_format(const struct nic_flow *f, bool ethtool, char *buf, size_t size);
/* Back from nic_flow_format(f, false, ...); -EINVAL when malformed. */
int nic_flow_parse(const char *s, struct nic_flow *ret);
/* The ethtool flow type (NIC_FLOW_TCP4 ...) of a flow. */
uint32_t nic_flow_type(const struct nic_flow *f);
/* "52:54:00:12:34:56"; buf must hold 18 bytes. */
const char *nic_mac_format(const uint8_t mac[NIC_MAC_LEN], char *buf);
