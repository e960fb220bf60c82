/* SPDX-License-Identifier: MIT */
/*
 * vhost_zcrx — the generic netlink contract between zcrxd and the vhost
 * zero-copy receive kernel module (DESIGN.md §7, documented for module
 * authors in zcrxd(8), section "VHOST_ZCRX KERNEL ABI").
 *
 * The module is not part of this project.  This header is the whole
 * contract: family, commands, attributes, enums and the validation policy the
 * module applies to requests and zcrxd applies to replies.  It has no
 * dependencies, declares no functions and no structs, and may be copied into
 * an out-of-tree module as include/uapi/linux/vhost_zcrx.h.
 *
 * Family "vhost_zcrx", version 1.  Resolving the family by name makes the
 * kernel request the module by the alias VHOST_ZCRX_MODULE_ALIAS, so the
 * module must declare MODULE_ALIAS_GENL_FAMILY(VHOST_ZCRX_FAMILY_NAME).
 * The family is netns-aware: every ifindex is interpreted in the network
 * namespace of the requesting socket.
 *
 * Commands (the request's genlmsghdr.cmd; every reply carries the command of
 * its request):
 *
 *   PROBE      do.  Request: IFINDEX.  Reply: IFINDEX, FEATURES, MAX_BINDINGS.
 *              What the module can do on that NIC.  Errors: ENODEV (no such
 *              device), EOPNOTSUPP (the driver cannot host a binding at all).
 *   BIND       do, admin (GENL_ADMIN_PERM or GENL_UNS_ADMIN_PERM).
 *              Request: IFINDEX, QUEUE, TAP_IFINDEX, FALLBACK.
 *              Reply: BINDING_ID (non-zero, unique while the binding exists).
 *              The new binding starts in PENDING.  Errors: ENODEV (NIC or
 *              tap gone), ERANGE (queue >= real_num_rx_queues), EOPNOTSUPP
 *              (driver lacks support), EBUSY (the queue has another memory
 *              provider, AF_XDP pool or lease), EEXIST (the queue is already
 *              bound, or every queue of the tap is: a multi-queue macvtap
 *              takes one binding per tap queue, assigned in bind order),
 *              EINVAL (header split / hds-thresh not as
 *              NEEDS_HDS requires, XDP attached), ENOSPC (MAX_BINDINGS
 *              reached).  Put a human-readable reason in the extack message.
 *   UNBIND     do, admin.  Request: BINDING_ID.  Reply: none (plain ACK).
 *              Errors: ENOENT (no such binding).
 *   GET        do: request BINDING_ID, reply one binding object.
 *              dump: no request attributes, one binding object per message.
 *              Errors (do): ENOENT.
 *   STATE_NTF  notification on multicast group "events", sent on every state
 *              change of a binding: BINDING_ID, STATE, REASON, REASON_MSG.
 *
 * A binding object (GET reply) carries BINDING_ID, IFINDEX, QUEUE,
 * TAP_IFINDEX, FALLBACK and STATE (all required), REASON (optional, absent
 * means 0; the module should send it whenever STATE is DEGRADED or BROKEN),
 * REASON_MSG (optional: the reason in words, for the operator) and STATS
 * (optional).  STATE_NTF requires BINDING_ID and STATE; REASON and
 * REASON_MSG are optional there too.  REASON_MSG is a NUL-terminated string
 * of at most VHOST_ZCRX_REASON_MSG_MAX bytes with the NUL; it says what an
 * errno cannot ("reference module: no data path"); zcrxd shows it with the
 * errno and never depends on its wording.
 *
 * Bindings belong to the module, not to the socket that created them: they
 * survive the exit of the process that made them and are found again with a
 * GET dump.  When the NIC or the tap device goes away the module tears the
 * binding down itself and announces it with STATE_NTF STATE=BROKEN,
 * REASON=ENODEV; after that the id is gone (GET gives ENOENT).  A BROKEN
 * binding with any other reason stays until UNBIND.
 *
 * Attribute policy.  Requests: the module validates strictly (unknown
 * attribute types, attributes the command does not take and wrong lengths
 * give EINVAL, values out of the range below ERANGE -- the errno of the
 * kernel's own netlink policy -- each with an extack pointing at the
 * attribute; a missing required attribute gives EINVAL with
 * NL_SET_ERR_ATTR_MISS).
 * zcrxd never sends attribute types above the family's CTRL_ATTR_MAXATTR.
 * The two tables below are the request policy; the reference module
 * (tests/kmod/vhost_zcrx) is checked against them through the kernel's own
 * policy dump (CTRL_CMD_GETPOLICY).
 *
 *   attribute      type    request range      meaning
 *   BINDING_ID     u32     1..U32_MAX         a binding
 *   IFINDEX        u32     1..INT_MAX         the physical NIC
 *   QUEUE          u32     0..U32_MAX         RX queue index
 *   TAP_IFINDEX    u32     1..INT_MAX         the vNIC's macvtap
 *   FALLBACK       u32     0..FALLBACK_MAX    absent means DROP
 *   STATE          u32     reply only
 *   REASON         u32     reply only         a positive errno
 *   FEATURES       u64     reply only         exactly 8 bytes (not NLA_UINT)
 *   MAX_BINDINGS   u32     reply only         0 = no limit known
 *   STATS          nest    reply only         VHOST_ZCRX_A_STATS_*, all u64
 *   REASON_MSG     string  reply only         NUL-terminated, see above
 *
 *   command  kind  admin  request attributes (* = required)
 *   PROBE    do    no     IFINDEX*
 *   BIND     do    yes    IFINDEX* QUEUE* TAP_IFINDEX* FALLBACK
 *   UNBIND   do    yes    BINDING_ID*
 *   GET      do    no     BINDING_ID*
 *   GET      dump  no     none
 *
 * Replies and notifications: zcrxd accepts a message only if every known
 * attribute has exactly its type's length, appears at most once, every
 * enum value is in range and every required attribute is present.  It
 * ignores attribute type 0 (so nla_put_u64_64bit(..., VHOST_ZCRX_A_PAD) may be
 * used for alignment) and types it does not know (later versions may add
 * attributes; they are never required by older userspace).  The same rules
 * apply inside the STATS nest.  A string (REASON_MSG) must end with
 * its only NUL and fit in VHOST_ZCRX_REASON_MSG_MAX bytes.
 */
#ifndef VHOST_ZCRX_UAPI_H
#define VHOST_ZCRX_UAPI_H

#define VHOST_ZCRX_FAMILY_NAME "vhost_zcrx"
#define VHOST_ZCRX_FAMILY_VERSION 1
#define VHOST_ZCRX_MCGRP_EVENTS "events"
/* What the kernel asks modprobe for when the family is resolved by name. */
#define VHOST_ZCRX_MODULE_ALIAS "net-pf-16-proto-16-family-vhost_zcrx"

enum vhost_zcrx_cmd {
	VHOST_ZCRX_CMD_UNSPEC = 0,
	VHOST_ZCRX_CMD_PROBE = 1,
	VHOST_ZCRX_CMD_BIND = 2,
	VHOST_ZCRX_CMD_UNBIND = 3,
	VHOST_ZCRX_CMD_GET = 4,
	VHOST_ZCRX_CMD_STATE_NTF = 5,

	__VHOST_ZCRX_CMD_MAX,
	VHOST_ZCRX_CMD_MAX = __VHOST_ZCRX_CMD_MAX - 1
};

enum vhost_zcrx_attr {
	VHOST_ZCRX_A_UNSPEC = 0,
	VHOST_ZCRX_A_BINDING_ID = 1,   /* u32 */
	VHOST_ZCRX_A_IFINDEX = 2,      /* u32: the physical NIC */
	VHOST_ZCRX_A_QUEUE = 3,        /* u32: RX queue index on IFINDEX */
	VHOST_ZCRX_A_TAP_IFINDEX = 4,  /* u32: the vNIC's macvtap */
	VHOST_ZCRX_A_FALLBACK = 5,     /* u32: enum vhost_zcrx_fallback */
	VHOST_ZCRX_A_STATE = 6,        /* u32: enum vhost_zcrx_state */
	VHOST_ZCRX_A_REASON = 7,       /* u32: errno (positive), 0 = none */
	VHOST_ZCRX_A_FEATURES = 8,     /* u64: VHOST_ZCRX_F_* bits */
	VHOST_ZCRX_A_MAX_BINDINGS = 9, /* u32 */
	VHOST_ZCRX_A_STATS = 10,       /* nest: enum vhost_zcrx_stats_attr */
	VHOST_ZCRX_A_REASON_MSG = 11,  /* string: the reason in words */

	__VHOST_ZCRX_A_MAX,
	VHOST_ZCRX_A_MAX = __VHOST_ZCRX_A_MAX - 1
};

/* Alignment padding for u64 attributes (nla_put_u64_64bit); ignored. */
#define VHOST_ZCRX_A_PAD VHOST_ZCRX_A_UNSPEC

/* Longest VHOST_ZCRX_A_REASON_MSG, the terminating NUL included. */
#define VHOST_ZCRX_REASON_MSG_MAX 128

enum vhost_zcrx_stats_attr {
	VHOST_ZCRX_A_STATS_UNSPEC = 0,
	VHOST_ZCRX_A_STATS_RX_PACKETS = 1,   /* u64: packets received on the queue */
	VHOST_ZCRX_A_STATS_RX_BYTES = 2,     /* u64 */
	VHOST_ZCRX_A_STATS_ZC_PACKETS = 3,   /* u64: delivered into guest buffers */
	VHOST_ZCRX_A_STATS_COPY_PACKETS = 4, /* u64: delivered by copy fallback */
	VHOST_ZCRX_A_STATS_DROP_NOBUF = 5,   /* u64: dropped, no guest buffer */
	VHOST_ZCRX_A_STATS_BUFS_POSTED = 6,  /* u64: guest buffers posted */

	__VHOST_ZCRX_A_STATS_MAX,
	VHOST_ZCRX_A_STATS_MAX = __VHOST_ZCRX_A_STATS_MAX - 1
};

#define VHOST_ZCRX_A_STATS_PAD VHOST_ZCRX_A_STATS_UNSPEC

/* What the NIC queue does with a packet when the guest has posted no buffer. */
enum vhost_zcrx_fallback {
	VHOST_ZCRX_FALLBACK_DROP = 0,
	VHOST_ZCRX_FALLBACK_COPY = 1,

	__VHOST_ZCRX_FALLBACK_MAX,
	VHOST_ZCRX_FALLBACK_MAX = __VHOST_ZCRX_FALLBACK_MAX - 1
};

enum vhost_zcrx_state {
	VHOST_ZCRX_STATE_PENDING = 0,  /* bound, waiting for guest buffers */
	VHOST_ZCRX_STATE_ACTIVE = 1,   /* zero-copy receive in use */
	VHOST_ZCRX_STATE_DEGRADED = 2, /* copy fallback in use; REASON says why */
	VHOST_ZCRX_STATE_BROKEN = 3,   /* not receiving; REASON is the errno */

	__VHOST_ZCRX_STATE_MAX,
	VHOST_ZCRX_STATE_MAX = __VHOST_ZCRX_STATE_MAX - 1
};

/* VHOST_ZCRX_A_FEATURES bits. */
#define VHOST_ZCRX_F_NEEDS_HDS (1ULL << 0)      /* header split on, hds-thresh 0 */
#define VHOST_ZCRX_F_COPY_FALLBACK (1ULL << 1) /* FALLBACK=COPY is honoured */

#endif /* VHOST_ZCRX_UAPI_H */
