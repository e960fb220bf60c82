/* SPDX-License-Identifier: MIT */
/*
 * genl — netlink sockets over libmnl for every netlink user in zcrxd: generic
 * netlink families (ethtool, netdev, vhost_zcrx) and rtnetlink.
 *
 * A socket has NETLINK_EXT_ACK and NETLINK_CAP_ACK on, so every refusal comes
 * back with the kernel's own text, which lands in a struct kerror (err + msg;
 * callers add object and operation with kerror_context()).  One request is in
 * flight at a time: genl_request() sends the message built in the socket's
 * buffer and hands each reply message to a callback until the ACK or DONE.
 * Notifications go to a separate non-blocking socket (genl_sock_recv()), so
 * they never interleave with replies.
 *
 * Owns: socket setup, sequence numbers, the receive loop, extack parsing,
 * family resolution (id, version, ops, multicast groups) and small attribute
 * helpers.  Must not: know any family's messages, log above debug, or block on
 * anything but the kernel's answer to a request it just sent.
 */
#pragma once

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kerror.h"

#define GENL_FAMILY_NAME_MAX 32 /* GENL_NAMSIZ, with room to spare */
#define GENL_GROUPS_MAX 16
#define GENL_MSG_MAX (32 * 1024) /* request buffer */
#define GENL_RX_MAX (64 * 1024)  /* receive buffer (a dump datagram is <= 32 KiB) */
#define GENL_REPLY_TIMEOUT_SEC 10 /* blocking sockets: ETIMEDOUT after this */

struct genl_sock;

struct genl_group {
	char name[GENL_FAMILY_NAME_MAX];
	uint32_t id;
};

/* A resolved generic netlink family. */
struct genl_family {
	char name[GENL_FAMILY_NAME_MAX];
	uint16_t id;
	uint32_t version;
	uint32_t hdrsize;
	uint32_t maxattr;
	uint32_t ops[256 / 32];     /* bitmap of command ids from CTRL_ATTR_OPS */
	uint8_t op_flags[256];      /* GENL_CMD_CAP_* / GENL_ADMIN_PERM per command */
	size_t n_groups;
	struct genl_group groups[GENL_GROUPS_MAX];
};

enum genl_sock_flags {
	GENL_SOCK_NONBLOCK = 1u << 0, /* for notification sockets */
};

/* Called for every reply or notification message that is not an ACK, error
 * or DONE.  Return 0 to go on, or -errno: the request then still drains the
 * remaining replies and returns that error. */
typedef int (*genl_msg_cb)(const struct nlmsghdr *nlh, void *data);

/* bus: NETLINK_GENERIC or NETLINK_ROUTE. */
int genl_sock_open(int bus, unsigned flags, struct genl_sock **ret);
struct genl_sock *genl_sock_close(struct genl_sock *s);
int genl_sock_fd(const struct genl_sock *s);
uint32_t genl_sock_portid(const struct genl_sock *s);
/* Bigger receive buffer for notification sockets (SO_RCVBUF, or
 * SO_RCVBUFFORCE when privileged). */
int genl_sock_set_rcvbuf(struct genl_sock *s, int bytes);
/* Called with every datagram received (capture mode for fixtures). */
void genl_sock_set_tap(struct genl_sock *s, void (*fn)(const void *buf, size_t len, void *ud),
		       void *ud);
/* The extack text of the last ACK that carried a warning ("" if none). */
const char *genl_sock_warning(const struct genl_sock *s);

int genl_join(struct genl_sock *s, uint32_t group);
int genl_leave(struct genl_sock *s, uint32_t group);

/* Start a message in the socket's request buffer.  genl_msg_start() adds the
 * genetlink header; genl_nlmsg_start() is for rtnetlink (add the family
 * header with mnl_nlmsg_put_extra_header()).  NLM_F_REQUEST is always set. */
struct nlmsghdr *genl_msg_start(struct genl_sock *s, uint16_t family, uint16_t flags,
				uint8_t cmd, uint8_t version);
struct nlmsghdr *genl_nlmsg_start(struct genl_sock *s, uint16_t type, uint16_t flags);
/* The request buffer holds GENL_MSG_MAX bytes: pass that as buflen to
 * mnl_attr_put_*_check() for attributes whose size depends on input. */

/* Send nlh (built with genl_msg_start) and process replies until the ACK,
 * error or DONE.  Returns 0 or -errno with err filled (err may be NULL).
 * A dump the kernel marks NLM_F_DUMP_INTR (changed while being dumped) is
 * still returned: callers that need a consistent view re-read later (the
 * monitor's periodic refresh does). */
int genl_request(struct genl_sock *s, struct nlmsghdr *nlh, genl_msg_cb cb, void *data,
		 struct kerror *err);

/* The replies to one request over a transport of the caller's own (a test
 * module's unix socket); genl_request() uses it for its socket.  Fill in the
 * fields above result, then feed every datagram received to genl_reply_feed()
 * until it returns true: result then holds the request's result as
 * genl_request() returns it, with err filled. */
struct genl_reply {
	const struct nlmsghdr *req; /* the request: its seq selects the replies */
	uint32_t portid;            /* our port id; 0 takes replies from any sender */
	genl_msg_cb cb;             /* may be NULL */
	void *data;
	struct kerror *err;         /* may be NULL */
	char *warning;              /* KERROR_MSG_MAX bytes for an ACK's warning, or NULL */
	int result;                 /* 0 to start with */
};
bool genl_reply_feed(struct genl_reply *rep, const void *buf, size_t len);

/* Hand every message of a datagram of notifications to cb (its return is
 * ignored); control messages (below NLMSG_MIN_TYPE) are skipped. */
void genl_dispatch(const void *buf, size_t len, genl_msg_cb cb, void *data);

/* Non-blocking: read every pending datagram and hand its messages to cb.
 * Returns 0 when drained, -ENOBUFS when the kernel dropped messages (the
 * caller must resync), other -errno on failure. */
int genl_sock_recv(struct genl_sock *s, genl_msg_cb cb, void *data);

/* Resolve a family by name.  -ENOENT when it does not exist (for a module
 * family: not loaded and not loadable). */
int genl_resolve(struct genl_sock *s, const char *name, struct genl_family *ret,
		 struct kerror *err);
bool genl_family_has_op(const struct genl_family *f, uint8_t cmd);
/* Multicast group id by name, or -ENOENT. */
int64_t genl_family_group(const struct genl_family *f, const char *name);

/*
 * Pure parsing, exposed for tests and for callers with their own buffers.
 */
/* Fill *ret from a CTRL_CMD_NEWFAMILY message. */
int genl_parse_family(const struct nlmsghdr *nlh, struct genl_family *ret);
/* An NLMSG_ERROR or NLMSG_DONE message: returns its -errno (0 for an ACK or a
 * successful DONE) and puts the extack text into err->msg.  A bad attribute
 * offset (NLMSGERR_ATTR_OFFS) is resolved against req when given.  *ret_warning
 * (optional) receives the text of an ACK carrying a message. */
int genl_parse_ack(const struct nlmsghdr *nlh, const struct nlmsghdr *req, struct kerror *err,
		   char *ret_warning, size_t warning_size);

/* Process one buffer of messages as genl_request() does: messages whose seq
 * differs from seq (when seq != 0) are skipped.  *ret_done is set when the
 * ACK/error/DONE was seen.  Returns the request's result (as genl_request).
 * warning (optional, KERROR_MSG_MAX bytes) receives an ACK's warning text. */
int genl_process(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		 const struct nlmsghdr *req, genl_msg_cb cb, void *data, bool *ret_done,
		 struct kerror *err, char *warning);

/* Attributes: index by type (the last of a repeated type wins; types above
 * max are ignored). */
void genl_attrs_parse(const void *payload, size_t len, const struct nlattr **tb, unsigned max);
void genl_attrs_nested(const struct nlattr *nest, const struct nlattr **tb, unsigned max);
/* Attributes of a message after hdrlen bytes of family header. */
void genl_attrs_msg(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb,
		    unsigned max);
/* Typed getters: false when a is NULL or has the wrong size. */
bool genl_attr_u8(const struct nlattr *a, uint8_t *v);
bool genl_attr_u16(const struct nlattr *a, uint16_t *v);
bool genl_attr_u32(const struct nlattr *a, uint32_t *v);
bool genl_attr_u64(const struct nlattr *a, uint64_t *v);
bool genl_attr_s32(const struct nlattr *a, int32_t *v);
/* NLA_UINT: 4 or 8 bytes. */
bool genl_attr_uint(const struct nlattr *a, uint64_t *v);
/* NUL-terminated within the payload; NULL otherwise. */
const char *genl_attr_str(const struct nlattr *a);
