/* SPDX-License-Identifier: MIT */
/*
 * binder-msg — the vhost_zcrx messages (lib/vhost_zcrx.h) as pure functions
 * over libmnl: build every request, parse every reply and notification, and,
 * for the module side (the test-only fake module, fuzz seeds), parse requests
 * and build replies.
 *
 * Parsing rules (the ones lib/vhost_zcrx.h promises module authors):
 *   - the message must hold a full genlmsghdr, its length must be a
 *     multiple of 4 (as the kernel pads every message) and its cmd must be
 *     the expected one;
 *   - attributes must tile the payload exactly (a truncated or overlong
 *     attribute, or trailing bytes, reject the message);
 *   - a known attribute must have exactly its type's length and appear at
 *     most once; enum values must be in range; required ones must be there;
 *   - type 0 (padding) and unknown types are ignored in replies; requests
 *     (module side) are strict and reject unknown types.
 * Every rejection is -EBADMSG (replies) or -EINVAL (requests) with a short
 * text in err->msg naming the attribute.
 *
 * Must not: do I/O, allocate (except binder_msg_parse_binding_list), log.
 */
#pragma once

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "binder.h"
#include "kerror.h"

/* Every parser takes a message that mnl_nlmsg_ok() accepted (nlmsg_len lies
 * within the buffer). */

/* Start a generic netlink message in buf (size bytes): nlmsghdr + genlmsghdr.
 * Returns NULL when size cannot hold the headers. */
struct nlmsghdr *binder_msg_start(void *buf, size_t size, uint16_t type, uint16_t flags,
				  uint32_t seq, uint8_t cmd, uint8_t version);
/* The command of a generic netlink message; -EBADMSG when too short. */
int binder_msg_cmd(const struct nlmsghdr *nlh);

/*
 * Requests (zcrxd side).  nlh is a started message (binder_msg_start or
 * genl_msg_start with the right cmd) in a buffer of size bytes.  Return 0 or
 * -EMSGSIZE.
 */
int binder_msg_put_probe(struct nlmsghdr *nlh, size_t size, int ifindex);
int binder_msg_put_bind(struct nlmsghdr *nlh, size_t size, int ifindex, uint32_t queue,
			int tap_ifindex, uint32_t fallback);
/* UNBIND and GET (do) carry only the binding id. */
int binder_msg_put_binding_id(struct nlmsghdr *nlh, size_t size, uint32_t id);

/*
 * Replies and notifications (zcrxd side).  Never write *ret on failure.
 */
int binder_msg_parse_probe(const struct nlmsghdr *nlh, int *ret_ifindex,
			   struct binder_probe *ret, struct kerror *err);
int binder_msg_parse_bind(const struct nlmsghdr *nlh, uint32_t *ret_id, struct kerror *err);
/* One binding object (GET do or one message of a dump). */
int binder_msg_parse_binding(const struct nlmsghdr *nlh, struct binder_binding *ret,
			     struct kerror *err);
/* STATE_NTF as an event: BINDER_EVENT_STATE, or BINDER_EVENT_GONE for
 * BROKEN with REASON ENODEV (the module tore the binding down). */
int binder_msg_parse_state_ntf(const struct nlmsghdr *nlh, struct binder_event *ret,
			       struct kerror *err);

/*
 * Module side (test-only fake module, fuzz seeds, round-trip tests).
 */
struct binder_msg_request {
	uint8_t cmd;
	unsigned present; /* 1u << VHOST_ZCRX_A_* of the attributes given */
	uint32_t binding_id;
	uint32_t ifindex;
	uint32_t queue;
	uint32_t tap_ifindex;
	uint32_t fallback; /* DROP when absent */
	/* On rejection: offset of the offending attribute from nlh (0 = none),
	 * and the missing attribute type (0 = none), for the extack. */
	uint32_t bad_offset;
	uint16_t missing_type;
};

/* Strict: unknown or repeated attributes, wrong lengths, NLA_F_NESTED on a
 * plain attribute, missing required attributes, a non-zero genlmsghdr
 * reserved field and nlmsg flags other than REQUEST, ACK, ECHO and DUMP give
 * -EINVAL, out-of-range values -ERANGE (as the kernel's netlink policy
 * does); an unknown command gives -EOPNOTSUPP.  dump tells whether the request asked for a dump (GET only
 * needs BINDING_ID for a do).  *ret is always written, so a rejection's
 * bad_offset / missing_type can go into the extack. */
int binder_msg_parse_request(const struct nlmsghdr *nlh, bool dump, struct binder_msg_request *ret,
			     struct kerror *err);

int binder_msg_put_probe_reply(struct nlmsghdr *nlh, size_t size, int ifindex,
			       const struct binder_probe *p);
int binder_msg_put_bind_reply(struct nlmsghdr *nlh, size_t size, uint32_t id);
int binder_msg_put_binding(struct nlmsghdr *nlh, size_t size, const struct binder_binding *b);
int binder_msg_put_state_ntf(struct nlmsghdr *nlh, size_t size, uint32_t id,
			     enum binder_state state, int reason);
/* REASON_MSG (after put_state_ntf or inside put_binding): nothing when msg is
 * NULL or empty, cut to VHOST_ZCRX_REASON_MSG_MAX bytes with the NUL. */
int binder_msg_put_reason_msg(struct nlmsghdr *nlh, size_t size, const char *msg);
