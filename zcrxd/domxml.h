/* SPDX-License-Identifier: MIT */
/*
 * domxml — read what zcrxd needs out of a libvirt domain XML document.
 *
 * Owns: parsing (libxml2, no network, no DTD, no entity expansion) and XPath
 * selection of the domain's name, UUID, id, NUMA hints, every <interface>
 * (MAC, type, network, source dev/mode/bridge, target dev, driver queues,
 * model) and the zcrx settings in <metadata> under DOMXML_NS.  Input sizes
 * and counts are bounded; malformed input gives -EINVAL plus a message,
 * never a crash.  Must not: call libvirt, log, or decide policy (which vNIC
 * to attach is the caller's business).
 *
 * Quirks of real libvirt XML this reader relies on (tests/fixtures/libvirt):
 *   - live XML rewrites type='network' to the network's actual type
 *     ('bridge', 'direct'), keeping source/@network: a network vNIC is
 *     recognised by source/@network, never by @type alone;
 *   - <target dev> exists only while the domain runs (not in the XML of the
 *     prepare, stopped, release, migrate and restore hooks, nor when shut
 *     off), so callers keep the MAC → device map they saw at start;
 *   - libvirt keeps foreign <metadata> verbatim, so it may be anything.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nic.h"

#define DOMXML_NS "http://zcrx.dev/xmlns/libvirt/1.0"
#define DOMXML_NS_PREFIX "zcrx"

#define DOMXML_XML_MAX (4u << 20)  /* bytes of XML accepted (libvirt's RPC limit) */
#define DOMXML_IFACES_MAX 256      /* <interface> elements per domain */
#define DOMXML_META_NICS_MAX 256   /* <zcrx:nic> elements */
#define DOMXML_QUEUES_MAX 256      /* <driver queues> accepted */
#define DOMXML_META_QUEUES_MAX 64  /* queues= in metadata: the most one vNIC gets */
#define DOMXML_NAME_MAX 256        /* bytes incl. NUL: /etc/libvirt/qemu/NAME.xml */
#define DOMXML_NUMA_NODES_MAX 64   /* nodeset bits kept */
#define DOMXML_CPUS_MAX 1024       /* cpuset bits kept */
#define DOMXML_ERR_MAX 256         /* message buffers */
#define DOMXML_MAC_LEN NIC_MAC_LEN /* MACs: nic_mac_parse(), nic_mac_format() */

enum domxml_iface_type {
	DOMXML_IFACE_OTHER = 0, /* see type_name */
	DOMXML_IFACE_DIRECT,    /* macvtap */
	DOMXML_IFACE_BRIDGE,
	DOMXML_IFACE_NETWORK,   /* only in inactive / stop-time XML */
	DOMXML_IFACE_ETHERNET,
	DOMXML_IFACE_USER,
	DOMXML_IFACE_VHOSTUSER,
	DOMXML_IFACE_HOSTDEV,
};

enum domxml_macvtap_mode {
	DOMXML_MODE_NONE = 0, /* no source/@mode (libvirt's default is vepa) */
	DOMXML_MODE_VEPA,
	DOMXML_MODE_BRIDGE,
	DOMXML_MODE_PRIVATE,
	DOMXML_MODE_PASSTHROUGH,
	DOMXML_MODE_OTHER,
};

struct domxml_iface {
	unsigned index; /* position among the domain's <interface> elements */
	bool has_mac;
	uint8_t mac[DOMXML_MAC_LEN];
	enum domxml_iface_type type; /* @type as written */
	char type_name[16];
	char network[128];            /* source/@network, "" = not a network vNIC */
	char source_dev[IF_NAMESIZE]; /* direct: the lower device */
	enum domxml_macvtap_mode mode;
	char mode_name[16];
	char bridge[IF_NAMESIZE];     /* source/@bridge */
	char target_dev[IF_NAMESIZE]; /* "" when not running */
	uint32_t queues;              /* <driver queues>, 0 = not set */
	char model[32];               /* model/@type */
	/* Non-empty when this interface could not be read completely (a value
	 * too long or malformed); the rest of the domain is still usable. */
	char problem[128];
};

enum domxml_meta_state {
	DOMXML_META_ABSENT = 0, /* no <zcrx:config> */
	DOMXML_META_VALID,
	DOMXML_META_INVALID,    /* present but wrong: see error; nics is empty */
};

struct domxml_meta_nic {
	uint8_t mac[DOMXML_MAC_LEN];
	uint32_t queues; /* 0 = not given */
	bool enable;     /* enable='yes' (default) / 'no' */
};

struct domxml_meta {
	enum domxml_meta_state state;
	char error[DOMXML_ERR_MAX];
	struct domxml_meta_nic *nics;
	size_t n_nics;
};

struct domxml_numa {
	/* <numatune><memory nodeset=… mode=…/> */
	bool has_memory_nodes;
	uint64_t memory_nodes; /* bit n = NUMA node n */
	char memory_mode[16];  /* strict, preferred, interleave, restrictive, "" */
	/* CPUs the vCPUs may run on: union of <vcpupin cpuset>, else <vcpu cpuset> */
	bool has_cpus;
	uint64_t cpus[DOMXML_CPUS_MAX / 64];
	/* Non-empty when a hint was present but unusable (out of range, malformed). */
	char problem[128];
};

struct domxml_domain {
	char name[DOMXML_NAME_MAX];
	uint8_t uuid[16];
	char uuid_str[37];
	int id;        /* -1: no @id (domain not running) */
	char type[16]; /* qemu, kvm, test, ... */

	struct domxml_iface *ifaces;
	size_t n_ifaces;

	struct domxml_meta meta;
	struct domxml_numa numa;
};

/* Set up libxml2 once (domxml_parse does it too); call before parsing from
 * several threads.  Parsing itself is thread-safe: no shared state. */
void domxml_init(void);

/*
 * Parse xml (len bytes, need not be NUL-terminated).  On success *ret is a
 * new domain (free with domxml_free).  Returns -EINVAL for malformed XML,
 * a root that is not <domain>, a missing/invalid name or UUID, or more than
 * the bounds above, with a message in err (may be NULL); -E2BIG when len >
 * DOMXML_XML_MAX; -ENOMEM.  Invalid zcrx metadata or an odd interface does
 * NOT fail the parse: see meta.state/meta.error and iface.problem.
 */
int domxml_parse(const char *xml, size_t len, struct domxml_domain **ret, char *err,
		 size_t errlen);
struct domxml_domain *domxml_free(struct domxml_domain *d);

/*
 * A parser for one thread at a time that reuses libxml2's parser context
 * across parses (a bounded number of them): domxml_parser_parse() is
 * domxml_parse() without making a context each time.  NULL on ENOMEM.
 */
struct domxml_parser;
struct domxml_parser *domxml_parser_new(void);
struct domxml_parser *domxml_parser_free(struct domxml_parser *p);
int domxml_parser_parse(struct domxml_parser *p, const char *xml, size_t len,
			struct domxml_domain **ret, char *err, size_t errlen);
int domxml_copy(const struct domxml_domain *src, struct domxml_domain **ret);

/* Lookups; NULL when absent. */
const struct domxml_iface *domxml_find_iface(const struct domxml_domain *d,
					     const uint8_t mac[DOMXML_MAC_LEN]);
const struct domxml_meta_nic *domxml_meta_find(const struct domxml_meta *m,
					       const uint8_t mac[DOMXML_MAC_LEN]);

/* A macvtap vNIC with a known lower device (type='direct' + source/@dev,
 * also when it comes from a network with forward mode bridge/passthrough). */
bool domxml_iface_is_macvtap(const struct domxml_iface *i);

/* Canonical UUID text (with dashes, lower case); also accepts 32 hex digits. */
int domxml_uuid_parse(const char *s, uint8_t uuid[16]);
const char *domxml_uuid_format(const uint8_t uuid[16], char buf[37]);
/* libvirt's cpuset/nodeset syntax: "0-3,^2,8".  Bits >= nbits → -ERANGE. */
int domxml_parse_bitmap(const char *s, uint64_t *bits, unsigned nbits);

const char *domxml_iface_type_name(enum domxml_iface_type t);
const char *domxml_macvtap_mode_name(enum domxml_macvtap_mode m);
const char *domxml_meta_state_name(enum domxml_meta_state s);
