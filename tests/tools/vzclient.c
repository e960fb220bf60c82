// SPDX-License-Identifier: MIT
/*
 * vzclient — a test client of the vhost_zcrx generic netlink family in the
 * running kernel (the reference module, tests/kmod/vhost_zcrx), for the
 * sim-nic guest tier.  Requests go through zcrxd's own backend
 * (binder-vhost.c, binder-msg.c); "policy" and "malformed" speak raw
 * generic netlink to see what the kernel itself says.
 *
 *   vzclient family                     resolve (autoloads the module)
 *   vzclient policy                     the request policies the kernel
 *                                       enforces (CTRL_CMD_GETPOLICY) and the
 *                                       op flags, as tests/kmod/abi-policy.py
 *                                       prints the header's tables
 *   vzclient probe NIC
 *   vzclient bind NIC QUEUE TAP [drop|copy]
 *   vzclient unbind ID | get ID | dump
 *   vzclient wait ID STATE|gone SECONDS until a STATE_NTF says so
 *   vzclient malformed NIC TAP          each case line on stdin (abi-policy.py
 *                                       cases) must get EINVAL (ERANGE for a
 *                                       range= case), an extack message and
 *                                       the attribute named
 *   vzclient malformed-fake             the same cases through the request
 *                                       parser of the test-only fake module
 *                                       (binder_msg_parse_request), no kernel
 *
 * NIC and TAP are names or ifindexes.  Output: one line per result; a
 * refusal prints "error ENAME: text" and exits 1; usage errors exit 2.
 */
#include <errno.h>
#include <inttypes.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "binder-msg.h"
#include "binder-vhost.h"
#include "genl.h"
#include "vhost_zcrx.h"

static const char *const attr_names[VHOST_ZCRX_A_MAX + 1] = {
	[VHOST_ZCRX_A_BINDING_ID] = "BINDING_ID", [VHOST_ZCRX_A_IFINDEX] = "IFINDEX",
	[VHOST_ZCRX_A_QUEUE] = "QUEUE", [VHOST_ZCRX_A_TAP_IFINDEX] = "TAP_IFINDEX",
	[VHOST_ZCRX_A_FALLBACK] = "FALLBACK", [VHOST_ZCRX_A_STATE] = "STATE",
	[VHOST_ZCRX_A_REASON] = "REASON", [VHOST_ZCRX_A_FEATURES] = "FEATURES",
	[VHOST_ZCRX_A_MAX_BINDINGS] = "MAX_BINDINGS", [VHOST_ZCRX_A_STATS] = "STATS",
	[VHOST_ZCRX_A_REASON_MSG] = "REASON_MSG",
};

static const char *const cmd_names[VHOST_ZCRX_CMD_MAX + 1] = {
	[VHOST_ZCRX_CMD_PROBE] = "PROBE", [VHOST_ZCRX_CMD_BIND] = "BIND",
	[VHOST_ZCRX_CMD_UNBIND] = "UNBIND", [VHOST_ZCRX_CMD_GET] = "GET",
	[VHOST_ZCRX_CMD_STATE_NTF] = "STATE_NTF",
};

static int usage(void)
{
	fprintf(stderr, "usage: vzclient family|policy|dump | probe NIC | bind NIC QUEUE TAP [drop|copy]\n"
			"       | unbind ID | get ID | wait ID STATE|gone SECONDS | malformed NIC TAP\n");
	return 2;
}

static int refused(const struct kerror *e)
{
	printf("error %s: %s\n", kerror_errno_name(e->err), e->msg[0] ? e->msg : strerror(e->err));
	return 1;
}

static int ifindex_of(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s && !*end && v > 0 && v <= 0x7fffffff)
		return (int)v;
	return (int)if_nametoindex(s);
}

static const char *ifname_of(int ifindex, char *buf)
{
	if (!if_indextoname((unsigned)ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "%d", ifindex);
	return buf;
}

static int attr_by_name(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s && !*end && v >= 0 && v < 0x7fff)
		return (int)v;
	for (int t = 1; t <= VHOST_ZCRX_A_MAX; t++)
		if (attr_names[t] && !strcmp(attr_names[t], s))
			return t;
	return -1;
}

static const char *attr_name(unsigned t, char *buf, size_t size)
{
	if (t <= VHOST_ZCRX_A_MAX && attr_names[t])
		return attr_names[t];
	snprintf(buf, size, "%u", t);
	return buf;
}

/* --- through zcrxd's backend --------------------------------------------------- */

static void print_binding(const struct binder_binding *b)
{
	char nic[IF_NAMESIZE], tap[IF_NAMESIZE];

	printf("id=%u nic=%s queue=%u tap=%s fallback=%s state=%s reason=%s", b->id,
	       ifname_of(b->ifindex, nic), b->queue, ifname_of(b->tap_ifindex, tap),
	       binder_fallback_name(b->fallback), binder_state_name(b->state),
	       b->reason ? kerror_errno_name(b->reason) : "none");
	if (b->has_stats)
		printf(" rx_packets=%" PRIu64 " rx_bytes=%" PRIu64 " zc_packets=%" PRIu64
		       " copy_packets=%" PRIu64,
		       b->stats.rx_packets, b->stats.rx_bytes, b->stats.zc_packets,
		       b->stats.copy_packets);
	printf(" msg='%s'\n", b->reason_msg);
}

struct waiter {
	uint32_t id;
	int want; /* enum binder_state, or -1 for gone */
	bool done;
};

static void on_event(const struct binder_event *ev, void *userdata)
{
	struct waiter *w = userdata;

	if (ev->type != BINDER_EVENT_STATE && ev->type != BINDER_EVENT_GONE) {
		printf("event %s\n", binder_event_type_name(ev->type));
		return;
	}
	printf("event %s id=%u state=%s reason=%s msg='%s'\n", binder_event_type_name(ev->type),
	       ev->id, binder_state_name(ev->state), ev->reason ? kerror_errno_name(ev->reason) : "none",
	       ev->reason_msg);
	if (ev->id != w->id)
		return;
	if (w->want < 0 ? ev->type == BINDER_EVENT_GONE : (int)ev->state == w->want)
		w->done = true;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmd_wait(struct binder_backend be, char **argv)
{
	struct waiter w = { .id = (uint32_t)strtoul(argv[0], NULL, 10) };
	enum binder_state st;
	int64_t end = now_ms() + 1000 * atoi(argv[2]);
	struct pollfd p = { .fd = be.ops->event_fd(be.be), .events = POLLIN };

	if (!strcmp(argv[1], "gone"))
		w.want = -1;
	else if (binder_state_from_name(argv[1], &st) == 0)
		w.want = (int)st;
	else
		return usage();
	printf("waiting\n");
	fflush(stdout);
	while (!w.done) {
		int64_t left = end - now_ms();

		if (left <= 0) {
			printf("timeout: binding %u did not become %s\n", w.id, argv[1]);
			return 1;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return 1;
		if (be.ops->process_events(be.be, on_event, &w) < 0)
			return 1;
		fflush(stdout);
	}
	return 0;
}

static int with_backend(int argc, char **argv)
{
	struct binder_vhost *bv;
	struct binder_backend be;
	struct binder_binding b, *v = NULL;
	struct binder_probe pr;
	struct kerror err;
	char feat[64];
	uint32_t id;
	size_t n;
	int r;

	r = binder_vhost_new(&bv);
	if (r < 0) {
		fprintf(stderr, "vzclient: %s\n", strerror(-r));
		return 1;
	}
	be = binder_vhost_backend(bv);
	if (be.ops->resolve(be.be, &err) < 0) {
		r = refused(&err);
		goto out;
	}
	r = 0;
	if (!strcmp(argv[0], "family")) {
		printf("family vhost_zcrx id=%u\n", binder_vhost_family_id(bv));
	} else if (!strcmp(argv[0], "probe") && argc == 2) {
		if (be.ops->probe(be.be, ifindex_of(argv[1]), &pr, &err) < 0)
			r = refused(&err);
		else
			printf("features=%s max_bindings=%u\n",
			       binder_features_format(pr.features, feat, sizeof(feat)),
			       pr.max_bindings);
	} else if (!strcmp(argv[0], "bind") && (argc == 4 || argc == 5)) {
		uint32_t fb = argc == 5 && !strcmp(argv[4], "copy") ? BINDER_FALLBACK_COPY
								     : BINDER_FALLBACK_DROP;

		if (be.ops->bind(be.be, ifindex_of(argv[1]), (uint32_t)strtoul(argv[2], NULL, 10),
				 ifindex_of(argv[3]), fb, &id, &err) < 0)
			r = refused(&err);
		else
			printf("id=%u\n", id);
	} else if (!strcmp(argv[0], "unbind") && argc == 2) {
		if (be.ops->unbind(be.be, (uint32_t)strtoul(argv[1], NULL, 10), &err) < 0)
			r = refused(&err);
		else
			printf("unbound\n");
	} else if (!strcmp(argv[0], "get") && argc == 2) {
		if (be.ops->get(be.be, (uint32_t)strtoul(argv[1], NULL, 10), &b, &err) < 0)
			r = refused(&err);
		else
			print_binding(&b);
	} else if (!strcmp(argv[0], "dump") && argc == 1) {
		if (be.ops->dump(be.be, &v, &n, &err) < 0)
			r = refused(&err);
		for (size_t i = 0; r == 0 && i < n; i++)
			print_binding(&v[i]);
		if (r == 0)
			printf("bindings=%zu\n", n);
		free(v);
	} else if (!strcmp(argv[0], "wait") && argc == 4) {
		r = cmd_wait(be, argv + 1);
	} else {
		r = usage();
	}
out:
	binder_vhost_free(bv);
	return r;
}

/* --- policy: what the kernel enforces ------------------------------------------- */

#define MAX_POLICIES 16

struct pattr {
	bool set;
	uint32_t type; /* NL_ATTR_TYPE_* */
	bool has_range;
	uint64_t min, max;
};

struct policy_dump {
	int op_do[VHOST_ZCRX_CMD_MAX + 1], op_dump[VHOST_ZCRX_CMD_MAX + 1];
	struct pattr pol[MAX_POLICIES][VHOST_ZCRX_A_MAX + 2];
	bool beyond; /* a policy entry above VHOST_ZCRX_A_MAX + 1 */
};

static void take_op_policy(struct policy_dump *d, const struct nlattr *nest)
{
	const struct nlattr *op;

	mnl_attr_for_each_nested(op, nest) {
		const struct nlattr *tb[CTRL_ATTR_POLICY_DUMP_MAX + 1];
		unsigned cmd = mnl_attr_get_type(op);
		uint32_t idx;

		if (cmd > VHOST_ZCRX_CMD_MAX)
			continue;
		genl_attrs_nested(op, tb, CTRL_ATTR_POLICY_DUMP_MAX);
		if (genl_attr_u32(tb[CTRL_ATTR_POLICY_DO], &idx))
			d->op_do[cmd] = (int)idx;
		if (genl_attr_u32(tb[CTRL_ATTR_POLICY_DUMP], &idx))
			d->op_dump[cmd] = (int)idx;
	}
}

static void take_policy(struct policy_dump *d, const struct nlattr *nest)
{
	const struct nlattr *pol, *at;

	mnl_attr_for_each_nested(pol, nest) {
		unsigned idx = mnl_attr_get_type(pol);

		if (idx >= MAX_POLICIES)
			continue;
		mnl_attr_for_each_nested(at, pol) {
			const struct nlattr *tb[NL_POLICY_TYPE_ATTR_MAX + 1];
			unsigned t = mnl_attr_get_type(at);
			struct pattr *p;

			if (t > VHOST_ZCRX_A_MAX + 1) {
				d->beyond = true;
				continue;
			}
			p = &d->pol[idx][t];
			genl_attrs_nested(at, tb, NL_POLICY_TYPE_ATTR_MAX);
			p->set = genl_attr_u32(tb[NL_POLICY_TYPE_ATTR_TYPE], &p->type);
			p->has_range = genl_attr_u64(tb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U], &p->min) &&
				       genl_attr_u64(tb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U], &p->max);
		}
	}
}

static int policy_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];

	genl_attrs_msg(nlh, GENL_HDRLEN, tb, CTRL_ATTR_MAX);
	if (tb[CTRL_ATTR_OP_POLICY])
		take_op_policy(data, tb[CTRL_ATTR_OP_POLICY]);
	if (tb[CTRL_ATTR_POLICY])
		take_policy(data, tb[CTRL_ATTR_POLICY]);
	return 0;
}

static const char *type_name(uint32_t t)
{
	static const char *const names[] = {
		[NL_ATTR_TYPE_FLAG] = "flag", [NL_ATTR_TYPE_U8] = "u8", [NL_ATTR_TYPE_U16] = "u16",
		[NL_ATTR_TYPE_U32] = "u32", [NL_ATTR_TYPE_U64] = "u64", [NL_ATTR_TYPE_S8] = "s8",
		[NL_ATTR_TYPE_S16] = "s16", [NL_ATTR_TYPE_S32] = "s32", [NL_ATTR_TYPE_S64] = "s64",
		[NL_ATTR_TYPE_BINARY] = "binary", [NL_ATTR_TYPE_STRING] = "string",
		[NL_ATTR_TYPE_NUL_STRING] = "string", [NL_ATTR_TYPE_NESTED] = "nest",
		[NL_ATTR_TYPE_NESTED_ARRAY] = "nest-array", [NL_ATTR_TYPE_BITFIELD32] = "bitfield32",
	};

	return t < sizeof(names) / sizeof(names[0]) && names[t] ? names[t] : "other";
}

static void print_policy(const struct policy_dump *d, const char *cmd, const char *kind, int idx,
			 bool admin)
{
	bool any = false;
	char buf[16];

	printf("%s %s admin=%s\n", cmd, kind, admin ? "yes" : "no");
	if (idx < 0 || idx >= MAX_POLICIES) {
		printf("%s %s no-policy\n", cmd, kind);
		return;
	}
	for (unsigned t = 0; t <= VHOST_ZCRX_A_MAX + 1; t++) {
		const struct pattr *p = &d->pol[idx][t];

		if (!p->set)
			continue;
		any = true;
		printf("%s %s %s %s", cmd, kind, attr_name(t, buf, sizeof(buf)), type_name(p->type));
		if (p->has_range)
			printf(" %" PRIu64 "..%" PRIu64, p->min, p->max);
		printf("\n");
	}
	if (!any)
		printf("%s %s none\n", cmd, kind);
}

static int cmd_policy(void)
{
	static struct policy_dump d;
	struct genl_family fam;
	struct genl_sock *s;
	struct nlmsghdr *nlh;
	struct kerror err;
	int r;

	for (int i = 0; i <= VHOST_ZCRX_CMD_MAX; i++)
		d.op_do[i] = d.op_dump[i] = -1;
	r = genl_sock_open(NETLINK_GENERIC, 0, &s);
	if (r < 0)
		return 1;
	r = genl_resolve(s, VHOST_ZCRX_FAMILY_NAME, &fam, &err);
	if (r == 0) {
		nlh = genl_msg_start(s, GENL_ID_CTRL, NLM_F_DUMP, CTRL_CMD_GETPOLICY, 1);
		mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, VHOST_ZCRX_FAMILY_NAME);
		r = genl_request(s, nlh, policy_cb, &d, &err);
	}
	genl_sock_close(s);
	if (r < 0)
		return refused(&err);
	for (int c = 1; c <= VHOST_ZCRX_CMD_MAX; c++) {
		bool admin = fam.op_flags[c] & (GENL_ADMIN_PERM | GENL_UNS_ADMIN_PERM);

		if (!genl_family_has_op(&fam, (uint8_t)c))
			continue;
		if (fam.op_flags[c] & GENL_CMD_CAP_DO)
			print_policy(&d, cmd_names[c], "do", d.op_do[c], admin);
		if (fam.op_flags[c] & GENL_CMD_CAP_DUMP)
			print_policy(&d, cmd_names[c], "dump", d.op_dump[c], admin);
	}
	if (d.beyond)
		printf("policy with attributes above VHOST_ZCRX_A_MAX + 1\n");
	return 0;
}

/* --- malformed requests ---------------------------------------------------------- */

struct mcase {
	uint8_t cmd;
	bool dump;
	enum { EXPECT_BAD, EXPECT_RANGE, EXPECT_MISS, EXPECT_HEADER } expect;
	int attr; /* for BAD, RANGE and MISS */
	uint8_t reserved;
	uint16_t nlflags;
};

/* "IFINDEX=u32:nic" etc. into the message; false when the line is wrong. */
static bool put_case_attr(struct nlmsghdr *nlh, char *tok, int nic, int tap)
{
	char *eq = strchr(tok, '='), *colon;
	const char *kind;
	uint64_t v;
	int t;

	if (!eq)
		return false;
	*eq = '\0';
	colon = strchr(eq + 1, ':');
	if (!colon)
		return false;
	*colon = '\0';
	kind = eq + 1;
	t = attr_by_name(tok);
	if (t < 0)
		return false;
	v = !strcmp(colon + 1, "nic") ? (uint64_t)nic :
	    !strcmp(colon + 1, "tap") ? (uint64_t)tap : strtoull(colon + 1, NULL, 0);
	if (!strcmp(kind, "u32"))
		mnl_attr_put_u32(nlh, (uint16_t)t, (uint32_t)v);
	else if (!strcmp(kind, "u16"))
		mnl_attr_put_u16(nlh, (uint16_t)t, (uint16_t)v);
	else if (!strcmp(kind, "u64"))
		mnl_attr_put_u64(nlh, (uint16_t)t, v);
	else if (!strcmp(kind, "nested-u32"))
		mnl_attr_put_u32(nlh, (uint16_t)(t | NLA_F_NESTED), (uint32_t)v);
	else
		return false;
	return true;
}

/* Build the request of one case line; false when the line is wrong. */
static bool build_case(char *line, struct nlmsghdr *nlh, uint16_t family, struct mcase *c,
		       int nic, int tap)
{
	char *save = NULL, *tok;
	struct genlmsghdr *g;
	int i = 0;

	memset(c, 0, sizeof(*c));
	c->attr = -1;
	for (tok = strtok_r(line, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), i++) {
		if (i == 0) {
			for (int k = 1; k <= VHOST_ZCRX_CMD_MAX; k++)
				if (cmd_names[k] && !strcmp(cmd_names[k], tok))
					c->cmd = (uint8_t)k;
			if (!c->cmd)
				return false;
		} else if (i == 1) {
			c->dump = !strcmp(tok, "dump");
			g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
			g->cmd = c->cmd;
			g->version = VHOST_ZCRX_FAMILY_VERSION;
			nlh->nlmsg_type = family;
			nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (c->dump ? NLM_F_DUMP : 0);
		} else if (i == 2) {
			if (!strncmp(tok, "bad=", 4))
				c->expect = EXPECT_BAD, c->attr = attr_by_name(tok + 4);
			else if (!strncmp(tok, "range=", 6))
				c->expect = EXPECT_RANGE, c->attr = attr_by_name(tok + 6);
			else if (!strncmp(tok, "miss=", 5))
				c->expect = EXPECT_MISS, c->attr = attr_by_name(tok + 5);
			else if (!strcmp(tok, "reserved") || !strcmp(tok, "flags"))
				c->expect = EXPECT_HEADER;
			else
				return false;
			if (c->expect != EXPECT_HEADER && c->attr < 0)
				return false;
		} else if (!strncmp(tok, "reserved=", 9)) {
			g = mnl_nlmsg_get_payload(nlh);
			g->reserved = (uint16_t)strtoul(tok + 9, NULL, 0);
		} else if (!strncmp(tok, "nlflags=", 8)) {
			nlh->nlmsg_flags |= (uint16_t)strtoul(tok + 8, NULL, 0);
		} else if (!put_case_attr(nlh, tok, nic, tap)) {
			return false;
		}
	}
	return i >= 3;
}

/* The type of the attribute at offset off of the request, -1 if none. */
static int type_at(const struct nlmsghdr *req, uint32_t off)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, req, GENL_HDRLEN)
		if ((uint32_t)((const char *)a - (const char *)req) == off)
			return mnl_attr_get_type(a);
	return -1;
}

struct ack {
	int error;
	char msg[256];
	int offs_type; /* type at NLMSGERR_ATTR_OFFS, -1 none */
	int miss_type; /* NLMSGERR_ATTR_MISS_TYPE, -1 none */
};

static int send_case(struct mnl_socket *nl, struct nlmsghdr *req, struct ack *a)
{
	static uint8_t buf[64 * 1024];
	const struct nlmsghdr *nlh;
	ssize_t n;

	memset(a, 0, sizeof(*a));
	a->offs_type = a->miss_type = -1;
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		for (nlh = (const void *)buf; mnl_nlmsg_ok(nlh, (int)n);
		     nlh = mnl_nlmsg_next(nlh, (int *)&n)) {
			const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { 0 };
			const struct nlmsgerr *e;
			uint32_t u;

			if (nlh->nlmsg_seq != req->nlmsg_seq)
				continue;
			if (nlh->nlmsg_type != NLMSG_ERROR && nlh->nlmsg_type != NLMSG_DONE) {
				a->error = 1; /* a reply: the request was accepted */
				continue;
			}
			e = mnl_nlmsg_get_payload(nlh);
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				size_t off = sizeof(*e);

				if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
					off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
				a->error = e->error;
				if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
					genl_attrs_parse((const char *)e + off,
							 mnl_nlmsg_get_payload_len(nlh) - off, tb,
							 NLMSGERR_ATTR_MAX);
			} else {
				a->error = *(const int *)e;
			}
			if (genl_attr_str(tb[NLMSGERR_ATTR_MSG]))
				snprintf(a->msg, sizeof(a->msg), "%s",
					 genl_attr_str(tb[NLMSGERR_ATTR_MSG]));
			if (genl_attr_u32(tb[NLMSGERR_ATTR_OFFS], &u))
				a->offs_type = type_at(req, u);
			if (genl_attr_u32(tb[NLMSGERR_ATTR_MISS_TYPE], &u))
				a->miss_type = (int)u;
			return 0;
		}
	}
}

static bool case_ok(const struct mcase *c, const struct ack *a, char *why, size_t size)
{
	int want = c->expect == EXPECT_RANGE ? ERANGE : EINVAL;
	char b1[16], b2[16];

	if (a->error != -want) {
		snprintf(why, size, "got %s, not %s",
			 a->error < 0 ? kerror_errno_name(-a->error) : "success",
			 kerror_errno_name(want));
		return false;
	}
	if (!a->msg[0]) {
		snprintf(why, size, "no extack message");
		return false;
	}
	if ((c->expect == EXPECT_BAD || c->expect == EXPECT_RANGE) && a->offs_type != c->attr) {
		snprintf(why, size, "extack points at %s, not %s",
			 a->offs_type < 0 ? "nothing" : attr_name((unsigned)a->offs_type, b1, sizeof(b1)),
			 attr_name((unsigned)c->attr, b2, sizeof(b2)));
		return false;
	}
	if (c->expect == EXPECT_MISS && a->miss_type != c->attr) {
		snprintf(why, size, "missing type %d in the extack, not %s", a->miss_type,
			 attr_name((unsigned)c->attr, b2, sizeof(b2)));
		return false;
	}
	return true;
}

/* What the fake module's parser (binder_msg_parse_request) says, as an ack. */
static void parse_case(struct nlmsghdr *req, const struct mcase *c, struct ack *a)
{
	struct binder_msg_request q;
	struct kerror err = { 0 };

	memset(a, 0, sizeof(*a));
	a->error = binder_msg_parse_request(req, c->dump, &q, &err);
	snprintf(a->msg, sizeof(a->msg), "%s", err.msg);
	a->offs_type = q.bad_offset ? type_at(req, q.bad_offset) : -1;
	a->miss_type = q.missing_type ? q.missing_type : -1;
}

static int cmd_malformed(const char *nicname, const char *tapname)
{
	static uint64_t reqbuf[4096 / sizeof(uint64_t)];
	int nic = 0, tap = 0, fails = 0, n = 0;
	struct genl_family fam;
	struct genl_sock *s;
	struct mnl_socket *nl;
	struct kerror err;
	char line[1024], text[1024], why[160];
	unsigned seq = 1, one = 1;
	bool fake = !nicname;

	if (fake) {
		/* no kernel: any ifindexes do */
		fam.id = 0x2a;
		nic = 1;
		tap = 2;
		nl = NULL;
	} else {
		nic = ifindex_of(nicname);
		tap = ifindex_of(tapname);
		if (genl_sock_open(NETLINK_GENERIC, 0, &s) < 0)
			return 1;
		if (genl_resolve(s, VHOST_ZCRX_FAMILY_NAME, &fam, &err) < 0) {
			genl_sock_close(s);
			return refused(&err);
		}
		genl_sock_close(s);
		nl = mnl_socket_open(NETLINK_GENERIC);
		if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
		    mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one)) < 0 ||
		    mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one)) < 0)
			return 1;
	}
	while (fgets(line, sizeof(line), stdin)) {
		struct nlmsghdr *req = mnl_nlmsg_put_header(reqbuf);
		struct mcase c;
		struct ack a;

		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		snprintf(text, sizeof(text), "%s", line);
		n++;
		req->nlmsg_seq = seq++;
		if (!build_case(line, req, fam.id, &c, nic, tap)) {
			printf("not ok - %s (cannot read this case)\n", text);
			fails++;
			continue;
		}
		if (fake) {
			parse_case(req, &c, &a);
		} else if (send_case(nl, req, &a) < 0) {
			printf("not ok - %s (send: %s)\n", text, strerror(errno));
			fails++;
			continue;
		}
		if (case_ok(&c, &a, why, sizeof(why))) {
			printf("ok - %s: %s '%s'\n", text, kerror_errno_name(-a.error), a.msg);
		} else {
			printf("not ok - %s: %s (message '%s')\n", text, why, a.msg);
			fails++;
		}
	}
	if (nl)
		mnl_socket_close(nl);
	printf("malformed%s: %d cases, %d refused as expected\n", fake ? " (fake module)" : "", n,
	       n - fails);
	return fails || !n ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "policy") && argc == 2)
		return cmd_policy();
	if (!strcmp(argv[1], "malformed") && argc == 4)
		return cmd_malformed(argv[2], argv[3]);
	if (!strcmp(argv[1], "malformed-fake") && argc == 2)
		return cmd_malformed(NULL, NULL);
	return with_backend(argc - 1, argv + 1);
}
