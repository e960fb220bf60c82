/* SPDX-License-Identifier: MIT */
/*
 * attach — the attachment model every module shares: who asked for a
 * dedicated queue (identity) and what they got (result), plus its JSON form
 * for the API and the state file.
 *
 * An attachment is keyed by (NIC name, vNIC MAC): the same request twice is
 * the same attachment.  A lease (kind ATTACH_KIND_LEASE, DESIGN.md §14) is
 * an attachment whose owner is a host process or a name instead of a vNIC
 * and whose match is a flow instead of a MAC: its key is a lease key
 * (attach_lease_key(): a multicast address no vNIC can have), so the pool,
 * planner, exec, journal and reconcile treat both kinds alike.  The identity is what the caller (CLI, libvirt
 * module) wants; the result is computed by the planner from the identity,
 * the NIC and the ownership journal, so it is never stored as truth.
 *
 * Owns: the structs, their lifetime helpers, validation and JSON encoding.
 * Must not: do I/O, know about backends or plans.
 */
#pragma once

#include <json-c/json.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "binder.h"
#include "flow.h"
#include "kerror.h"
#include "nic.h"

#define ATTACH_DOMAIN_MAX 256 /* bytes incl. NUL (as DOMXML_NAME_MAX): longest name kept */
#define ATTACH_UUID_MAX 37    /* canonical text form incl. NUL */
#define ATTACH_IP_MAX 4       /* addresses of each family we keep */
#define ATTACH_QUEUES_MAX 64  /* queues one vNIC may ask for */

enum attach_state {
	ATTACH_STATE_PENDING = 0, /* made, waiting for something (binding, guest) */
	ATTACH_STATE_ACTIVE,      /* everything in place, zero-copy running */
	ATTACH_STATE_DEGRADED,    /* works without some part; reasons say which */
	ATTACH_STATE_FAILED,      /* nothing dedicated in place; reasons say why */
};

struct attach_text;

/*
 * Why an attachment (or a NIC) is not everything it could be.  The strings
 * live in one immutable block that copies share (thousands of attachments
 * carry a handful of distinct reasons): read them, never write through
 * them; make reasons with attach_reason_set / attach_result_add_reason*,
 * copy with attach_reason_copy / attach_reasons_dup, drop with
 * attach_reason_clear.  Lengths are capped as a kerror's (code 23 bytes,
 * NIC IF_NAMESIZE - 1, op KERROR_OP_MAX - 1, msg KERROR_MSG_MAX - 1).
 */
struct attach_reason {
	const char *code;          /* machine tag, e.g. "unsteered", see ATTACH_R_* */
	const char *nic;           /* NIC it concerns */
	const char *op;            /* operation, e.g. "insert rule" */
	const char *msg;           /* kernel text or our own; never NULL when set */
	int err;                   /* positive errno, 0 when not an error */
	struct attach_text *text;  /* the shared block the strings are in */
};

/* Reason codes (stable strings, part of the API). */
#define ATTACH_R_UNSTEERED "unsteered"
#define ATTACH_R_POOL_EXHAUSTED "pool-exhausted"
#define ATTACH_R_PARTIAL "partial-queues"
#define ATTACH_R_NO_CONTEXT "no-rss-context"
#define ATTACH_R_SHARED "shared-queue"
#define ATTACH_R_NO_ZEROCOPY "no-zero-copy"
#define ATTACH_R_BINDING "binding"
#define ATTACH_R_KERNEL "kernel-error"
#define ATTACH_R_NUMA "numa-remote"
#define ATTACH_R_POOL "pool"
#define ATTACH_R_CHANNELS "channels"
#define ATTACH_R_NIC "nic"
#define ATTACH_R_REFUSED "refused" /* a dry run: the request would be refused */
#define ATTACH_R_HEADER_SPLIT "header-split" /* a lease's queue cannot get header split */
#define ATTACH_R_FLOW_FAMILY "flow-family" /* a lease's flow is steered for one family only */

enum attach_kind {
	ATTACH_KIND_VNIC = 0, /* a VM's vNIC, steered by MAC or IP */
	ATTACH_KIND_LEASE,    /* a host consumer's lease, steered by a flow */
};

/* A lease's consumer as netdev queue-get shows it (DESIGN.md §14). */
enum attach_lease_state {
	ATTACH_LEASE_WAITING = 0, /* prepared, no provider on its queues yet */
	ATTACH_LEASE_BOUND,       /* an io_uring or dmabuf provider on every queue */
	ATTACH_LEASE_UNBOUND,     /* it was bound, and the consumer went away */
	ATTACH_LEASE_RELEASED,    /* released (only in events and replies) */
};

#define ATTACH_LEASE_NAME_MAX 64 /* bytes incl. NUL; the name lives in id.domain */

/* What a lease asked for.  Its name is the identity's domain. */
struct attach_lease {
	uint32_t id;      /* > 0; the last 4 bytes of the key */
	struct flow flow;
	pid_t pid;        /* owner process; 0 = owned by its name (released explicitly) */
	uint64_t pid_start; /* the owner's start time (/proc/PID/stat field 22), against reuse */
};

/* Who: what the caller knows about the vNIC.  Unknown fields are 0/"".
 * The store holds one per attachment (thousands): the fields are ordered
 * so that no padding sits between them (the pointers first, then the byte
 * arrays, then the 4-byte, then the 8-byte fields), and what most
 * identities leave short or empty is not kept in buffers of its longest
 * size: the domain name, usually a few bytes (256 bytes, a megabyte for
 * 4,096 attachments), and the addresses, which most vNICs do not give
 * (80 bytes).
 *
 * The identity owns its domain (a string of its own on the heap, or one
 * empty string all identities share: never NULL after attach_id_init) and
 * its addresses (arrays on the heap, NULL while there are none).  Set them
 * with attach_id_set_domain and attach_id_add_ip4/_ip6/_address, copy an
 * identity with attach_id_copy, drop it with attach_id_clear; a plain
 * struct assignment moves it (the source is then forgotten, not cleared).
 * Read them as any string and arrays. */
struct attach_id {
	const char *domain;             /* libvirt domain name or a free label */
	struct in_addr *ip4;            /* n_ip4 addresses */
	struct in6_addr *ip6;           /* n_ip6 addresses */
	char uuid[ATTACH_UUID_MAX];     /* domain UUID, "" = unknown */
	char nic[IF_NAMESIZE];          /* physical NIC name (key) */
	char tap[IF_NAMESIZE];          /* macvtap/tap name, "" = unknown */
	uint8_t mac[NIC_MAC_LEN];       /* the vNIC's MAC (key) */
	uint8_t n_ip4, n_ip6;           /* <= ATTACH_IP_MAX each */
	int nic_ifindex;                /* 0 = unknown */
	int tap_ifindex;                /* 0 = unknown */
	uint32_t queues;                /* requested dedicated queues, >= 1 */
	int numa_node;                  /* -1 = unknown */
	enum attach_kind kind;
	uint64_t seq; /* creation order, set by the manager; first come first served */
	struct attach_lease lease; /* kind LEASE: mac is attach_lease_key(lease.id) */
};

/* One queue of an attachment and its zero-copy binding. */
struct attach_queue {
	uint32_t queue;
	bool bound;            /* a binding zcrxd owns exists */
	uint32_t binding_id;
	int binding_state;     /* enum binder_state, valid when bound */
	int binding_reason;    /* errno from the module, 0 = none */
	unsigned providers;    /* leases: enum nic_provider bits queue-get shows */
	char binding_msg[BINDER_REASON_MSG_MAX]; /* the module's words for it, "" = none */
};

/* What it got.  Filled by the planner (and the binder's notifications). */
struct attach_result {
	enum attach_state state;
	size_t n_queues;
	struct attach_queue *queues; /* malloc'd, ascending queue order */
	size_t n_rules;
	uint32_t *rule_locs;         /* malloc'd, locations of owned rules */
	char steering[8];            /* "mac", "ip" or "" when unsteered */
	bool has_context;
	uint32_t rss_context;
	size_t n_reasons;
	struct attach_reason *reasons; /* malloc'd */
};

struct attach {
	struct attach_id id;
	struct attach_result res;
	struct kerror *held_err; /* malloc'd while held */
	/* Set by the manager when the kernel refused one of this attachment's
	 * ops in a way the planner cannot plan around (e.g. ENOSPC): the
	 * planner then gives it nothing and reports the refusal as the reason,
	 * until the manager clears it (new request, config or NIC change). */
	bool held;
	/* kind LEASE: the consumer, from the results (reconcile-lease.c) */
	bool lease_was_bound;
	enum attach_lease_state lease_state;
};

/* The key of lease id / whether a key is a lease's (its id in *ret_id). */
void attach_lease_key(uint32_t id, uint8_t mac[NIC_MAC_LEN]);
bool attach_key_is_lease(const uint8_t mac[NIC_MAC_LEN], uint32_t *ret_id);
const char *attach_lease_state_name(enum attach_lease_state s);
/* The providers of a lease's queues: "io-uring", "dmabuf", "io-uring,dmabuf"
 * or "" (the kinds on its queues). */
const char *attach_lease_providers(const struct attach_result *r, char *buf, size_t size);

const char *attach_state_name(enum attach_state s);
int attach_state_from_name(const char *s, enum attach_state *ret);

/* Identity defaults: queues = 1, numa_node = -1, everything else empty
 * (id owns nothing yet). */
void attach_id_init(struct attach_id *id);
/* The domain set to a copy of domain (NULL: ""), capped at
 * ATTACH_DOMAIN_MAX - 1 bytes; -ENOMEM (the old one kept). */
int attach_id_set_domain(struct attach_id *id, const char *domain);
/* One more address: -EINVAL when the family has ATTACH_IP_MAX already,
 * -ENOMEM.  _address: the text of either family ("10.0.0.2", "fd00::2"),
 * -EINVAL when it is neither. */
int attach_id_add_ip4(struct attach_id *id, const struct in_addr *a);
int attach_id_add_ip6(struct attach_id *id, const struct in6_addr *a);
int attach_id_add_address(struct attach_id *id, const char *text);
/* dst (owning nothing) becomes a copy of src; -ENOMEM (dst owns nothing:
 * its domain "", no addresses). */
int attach_id_copy(struct attach_id *dst, const struct attach_id *src);
/* Drop what id owns (its domain becomes "", its addresses none). */
void attach_id_clear(struct attach_id *id);
/* 0 when the identity can be planned: MAC not zero/multicast, NIC name set,
 * 1 <= queues <= ATTACH_QUEUES_MAX, domain set.  Fills *err otherwise. */
int attach_id_validate(const struct attach_id *id, struct kerror *err);
/* Same key (NIC name and MAC). */
bool attach_id_same_key(const struct attach_id *a, const struct attach_id *b);
/* Same key and every identity field equal (an Attach that changes nothing). */
bool attach_id_equal(const struct attach_id *a, const struct attach_id *b);
/* Orders by (nic, seq, mac): the planner's deterministic order. */
int attach_id_cmp(const struct attach_id *a, const struct attach_id *b);

void attach_result_init(struct attach_result *r);
void attach_result_clear(struct attach_result *r);
int attach_result_copy(struct attach_result *dst, const struct attach_result *src);
/* a and b equal.  shown: in what a listing or Monitor event shows — state,
 * queues and their bindings (while bound), steering, rules and reasons;
 * else in every field and text (a copy would change nothing). */
bool attach_result_same(const struct attach_result *a, const struct attach_result *b, bool shown);
int attach_result_add_reason(struct attach_result *r, const char *code, const char *nic,
			     const char *op, int err, const char *msg);
int attach_result_add_reasonf(struct attach_result *r, const char *code, const char *nic,
			      const char *op, int err, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
int attach_result_add_queue(struct attach_result *r, uint32_t queue);
int attach_result_add_rule(struct attach_result *r, uint32_t loc);
bool attach_result_has_reason(const struct attach_result *r, const char *code);

/* Reasons share their text: drop one / n of them (and v), copy n. */
void attach_reason_clear(struct attach_reason *r);
void attach_reasons_free(struct attach_reason *v, size_t n);
struct attach_reason *attach_reasons_dup(const struct attach_reason *v, size_t n);
/* dst (uninitialized) becomes a copy of src sharing its text. */
void attach_reason_copy(struct attach_reason *dst, const struct attach_reason *src);
/* Make a reason in place (strings copied, capped); -ENOMEM. */
int attach_reason_set(struct attach_reason *r, const char *code, const char *nic, const char *op,
		      int err, const char *msg);
/* Does r say exactly this (after the same capping)? */
bool attach_reason_is(const struct attach_reason *r, const char *code, const char *nic,
		      const char *op, int err, const char *msg);
/* Append a copy of x (sharing its text) to r's reasons. */
int attach_result_add_reason_copy(struct attach_result *r, const struct attach_reason *x);

/* Hold an attachment back after a refusal / let it be planned again. */
int attach_hold(struct attach *a, const struct kerror *err);
void attach_unhold(struct attach *a);

void attach_init(struct attach *a);
void attach_clear(struct attach *a);
int attach_copy(struct attach *dst, const struct attach *src);

/* A reason in the kerror shape, for callers that have one. */
int attach_result_add_kerror(struct attach_result *r, const char *code, const struct kerror *ke);

/*
 * JSON.  attach_to_json gives the API form: identity fields at the top level
 * plus "state", "queues", "rules", "rss_context", "steering", "reasons".
 * attach_id_to_json / attach_id_from_json give the identity only (the state
 * file and Attach requests).  from_json rejects wrong types and unknown
 * values with -EINVAL and a message in *err; unknown keys are ignored so
 * newer files stay readable.  attach_id_from_json fills *ret (owning
 * nothing before) only when it returns 0.
 */
json_object *attach_to_json(const struct attach *a);
/* The same as text, appended to t; close: with the closing brace (without,
 * the caller may add fields and close it). */
struct jtext;
void attach_to_jtext(const struct attach *a, struct jtext *t, bool close);
json_object *attach_id_to_json(const struct attach_id *id);
/* The identity as text, the object appended to t (state.json, the log). */
void attach_id_to_jtext(const struct attach_id *id, struct jtext *t);
json_object *attach_result_to_json(const struct attach_result *r);
json_object *attach_reason_to_json(const struct attach_reason *r);
/* The reason as text, the object appended to t. */
void attach_reason_to_jtext(const struct attach_reason *r, struct jtext *t);
int attach_id_from_json(json_object *o, struct attach_id *ret, struct kerror *err);
/* "52:54:00:00:00:01" for the key's MAC; buf of 18 bytes. */
const char *attach_mac(const struct attach_id *id, char *buf);
/* One line: "vm0 52:54:00:00:00:01 on eth0". */
const char *attach_describe(const struct attach_id *id, char *buf, size_t size);
