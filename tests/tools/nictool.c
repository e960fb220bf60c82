// SPDX-License-Identifier: MIT
/*
 * nictool — a small CLI over zcrxd's NIC layer (the same code the daemon
 * links: nic-kernel.c and its backends), for the kernel tier, the driver-VM
 * tier guest and for capturing fixtures.  Output is JSON on stdout; errors go
 * to stderr as "Error: <nic>: <operation>: <kernel text> (<ERRNO>)".
 *
 * Usage: nictool [--pretty] COMMAND ...
 *   links                            every link of the netns
 *   show IFNAME                      capability matrix + observed state
 *   queues IFNAME                    RX queues: NAPI, IRQ, CPUs, NUMA node,
 *                                    default-RSS weight, rules, providers
 *   set-channels IFNAME N            combined N when the device has combined
 *                                    channels, else rx N; prints the result
 *   rss-get IFNAME [CTX]             indirection table, key, hash function
 *   rss-set IFNAME CTX Q0 Q1 ...     write the table (repeated to the device's
 *                                    size); "default" instead of the queues
 *                                    restores the driver default
 *   rss-key IFNAME HEX               write the hash key (context 0)
 *   flow-hash IFNAME FLOW [FIELDS]   read (and with FIELDS write) the hash
 *                                    fields of FLOW (tcp4 udp4 tcp6 udp6 ip4
 *                                    ip6 ether); FIELDS as ethtool letters:
 *                                    m l2-dst, v vlan, t l3-proto, s ip-src,
 *                                    d ip-dst, f l4 bytes 0-1, n l4 bytes 2-3
 *   rings IFNAME                     ring sizes, tcp-data-split, hds-thresh
 *   qstats IFNAME                    per-queue RX packets/bytes (netdev)
 *   ntuple IFNAME on|off             set rx-ntuple-filter; fails (exit 1) when the
 *                                    kernel acks but does not apply it
 *   rules IFNAME                     the n-tuple rule table
 *   rule-add IFNAME ether MAC|ip4 ADDR|ip6 ADDR queue N|context N [loc N]
 *                                    insert a destination rule (location:
 *                                    the driver's choice or the first free)
 *   rule-del IFNAME LOC              delete a rule
 *   rss-create IFNAME [Q0 Q1 ...]    create an RSS context (default table)
 *   rss-delete IFNAME CTX            delete an RSS context
 *   observe IFNAME N                 read the device N times as the daemon re-reads
 *                                    it; per read: the kernel's replies and the
 *                                    texts of the requests it refused (what the
 *                                    NIC layer asks each time, and what once)
 *   capture DIR IFNAME [MACVTAP]     record real kernel replies as fixtures
 *                                    (refuses names not starting with "zxn";
 *                                    see tests/fixtures/nic/README)
 *
 * Exit status: 0 success, 1 the kernel refused (message on stderr), 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <unistd.h>

#include "hex.h"
#include "nic-ethtool.h"
#include "nic-json.h"
#include "nic-kernel.h"
#include "nic-netdev.h"
#include "nic-rtnl.h"
#include "nic-uapi.h"

static bool pretty;

static int usage(void)
{
	fprintf(stderr,
		"usage: nictool [--pretty] links | show IF | queues IF | set-channels IF N |\n"
		"       rss-get IF [CTX] | rss-set IF CTX Q... | rss-set IF CTX default |\n"
		"       rss-key IF HEX | flow-hash IF FLOW [FIELDS] | rings IF | qstats IF |\n"
		"       ntuple IF on|off | rules IF | rule-del IF LOC | rss-delete IF CTX |\n"
		"       rule-add IF ether MAC|ip4 ADDR|ip6 ADDR queue N|context N [loc N] |\n"
		"       rss-create IF [Q...] | observe IF N | capture DIR IF [MACVTAP]\n");
	return 2;
}

static int fail(const struct kerror *e)
{
	char buf[512];

	fprintf(stderr, "Error: %s\n", kerror_format(e, buf, sizeof(buf)));
	return 1;
}

static void print(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE |
						       (pretty ? JSON_C_TO_STRING_PRETTY
							       : JSON_C_TO_STRING_PLAIN)));
	json_object_put(o);
}

static int parse_u32(const char *s, uint32_t *ret)
{
	char *end;
	unsigned long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

/* n numbers (n > 0) into a calloc()ed array: -EINVAL or -ENOMEM. */
static int parse_u32_list(int n, char **args, uint32_t **ret)
{
	uint32_t *v = calloc((size_t)n, sizeof(*v));
	int i;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (parse_u32(args[i], &v[i]) < 0) {
			free(v);
			return -EINVAL;
		}
	*ret = v;
	return 0;
}

struct ctx {
	struct nic_kernel *k;
	struct nic_backend be;
	struct nic nic;
	struct nic_id id;
	struct kerror err;
};

/* A capability that says "no": its message already names the operation. */
static int cap_fail(struct ctx *c, const char *ifname, const struct nic_cap *cap)
{
	kerror_set(&c->err, cap->err ? cap->err : EOPNOTSUPP, ifname, NULL, cap->msg);
	return fail(&c->err);
}

static int load(struct ctx *c, const char *ifname, unsigned what)
{
	unsigned idx = if_nametoindex(ifname);

	nic_init(&c->nic);
	if (!idx)
		return kerror_set(&c->err, ENODEV, ifname, "find device", "no such device");
	c->nic.link.ifindex = (int)idx;
	c->id.ifindex = (int)idx;
	c->id.name = ifname;
	return c->be.ops->observe(c->be.be, &c->nic, what | NIC_OBSERVE_LINK, &c->err);
}

static int cmd_links(struct ctx *c)
{
	struct nic_link *links;
	json_object *a;
	size_t n, i;
	char mac[18];

	if (c->be.ops->list_links(c->be.be, &links, &n, &c->err) < 0)
		return fail(&c->err);
	a = json_object_new_array();
	for (i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(links[i].name));
		json_object_object_add(o, "ifindex", json_object_new_int(links[i].ifindex));
		json_object_object_add(o, "kind", json_object_new_string(links[i].kind));
		json_object_object_add(o, "up", json_object_new_boolean(links[i].up));
		json_object_object_add(o, "mac",
				       json_object_new_string(nic_mac_format(links[i].mac, mac)));
		json_object_object_add(o, "link_ifindex", json_object_new_int(links[i].link_ifindex));
		json_object_array_add(a, o);
	}
	free(links);
	print(a);
	return 0;
}

static int cmd_show(struct ctx *c, const char *ifname)
{
	char lower[IF_NAMESIZE] = "";

	if (load(c, ifname, NIC_OBSERVE_ALL) < 0)
		return fail(&c->err);
	if (c->nic.link.link_ifindex > 0 && c->nic.link.link_netnsid < 0)
		(void)if_indextoname((unsigned)c->nic.link.link_ifindex, lower);
	print(nic_json_nic(&c->nic, lower[0] ? lower : NULL));
	return 0;
}

static int cmd_queues(struct ctx *c, const char *ifname)
{
	if (load(c, ifname, NIC_OBSERVE_ALL) < 0)
		return fail(&c->err);
	print(nic_json_queues(&c->nic));
	return 0;
}

static int cmd_set_channels(struct ctx *c, const char *ifname, const char *count)
{
	struct nic_channels_req req = { 0 };
	uint32_t n;

	if (parse_u32(count, &n) < 0)
		return usage();
	if (load(c, ifname, NIC_OBSERVE_CHANNELS) < 0)
		return fail(&c->err);
	if (c->nic.caps.channels.state != NIC_CAP_YES) {
		return cap_fail(c, ifname, &c->nic.caps.channels);
	}
	if (c->nic.ch.combined_max) {
		req.has_combined = true;
		req.combined = n;
	} else {
		req.has_rx = true;
		req.rx = n;
	}
	if (c->be.ops->set_channels(c->be.be, &c->id, &req, &c->err) < 0)
		return fail(&c->err);
	if (c->be.ops->observe(c->be.be, &c->nic, NIC_OBSERVE_CHANNELS, &c->err) < 0)
		return fail(&c->err);
	print(nic_json_channels(&c->nic.ch));
	return 0;
}

static int cmd_rss_get(struct ctx *c, const char *ifname, const char *ctxs)
{
	const struct nic_rss *rss;
	uint32_t ctx = 0;

	if (ctxs && parse_u32(ctxs, &ctx) < 0)
		return usage();
	if (load(c, ifname, NIC_OBSERVE_RSS) < 0)
		return fail(&c->err);
	if (c->nic.caps.rss.state != NIC_CAP_YES) {
		return cap_fail(c, ifname, &c->nic.caps.rss);
	}
	rss = nic_find_rss(&c->nic, ctx);
	if (!rss) {
		kerror_setf(&c->err, ENOENT, ifname, "get rss", "no RSS context %u", ctx);
		return fail(&c->err);
	}
	print(nic_json_rss(rss));
	return 0;
}

static int cmd_rss_set(struct ctx *c, const char *ifname, const char *ctxs, int n, char **qs)
{
	uint32_t ctx, *indir = NULL;
	int r;

	if (parse_u32(ctxs, &ctx) < 0 || n < 1)
		return usage();
	if (!(n == 1 && !strcmp(qs[0], "default"))) {
		r = parse_u32_list(n, qs, &indir);
		if (r < 0)
			return r == -ENOMEM ? 1 : usage();
	}
	if (load(c, ifname, 0) < 0) {
		free(indir);
		return fail(&c->err);
	}
	r = c->be.ops->rss_set(c->be.be, &c->id, ctx, indir, indir ? (uint32_t)n : 0, &c->err);
	free(indir);
	if (r < 0)
		return fail(&c->err);
	return cmd_rss_get(c, ifname, ctxs);
}

static int cmd_rss_key(struct ctx *c, const char *ifname, const char *hex)
{
	size_t len = strlen(hex), i;
	uint8_t *key;
	int r;

	if (!len || len % 2)
		return usage();
	key = malloc(len / 2);
	if (!key)
		return 1;
	for (i = 0; i < len / 2; i++) {
		int v = hex_byte(hex + 2 * i);

		if (v < 0) {
			free(key);
			return usage();
		}
		key[i] = (uint8_t)v;
	}
	if (load(c, ifname, 0) < 0) {
		free(key);
		return fail(&c->err);
	}
	r = c->be.ops->rss_set_key(c->be.be, &c->id, 0, key, (uint32_t)(len / 2), &c->err);
	free(key);
	if (r < 0)
		return fail(&c->err);
	return cmd_rss_get(c, ifname, NULL);
}

static const struct {
	const char *name;
	uint32_t type;
} flows[] = {
	{ "tcp4", NIC_FLOW_TCP4 }, { "udp4", NIC_FLOW_UDP4 }, { "tcp6", NIC_FLOW_TCP6 },
	{ "udp6", NIC_FLOW_UDP6 }, { "ip4", NIC_FLOW_IP4 },   { "ip6", NIC_FLOW_IP6 },
	{ "ether", NIC_FLOW_ETHER },
};

static const struct {
	char letter;
	uint32_t bit;
} fields[] = {
	{ 'm', NIC_RXH_L2DA },   { 'v', NIC_RXH_VLAN },     { 't', NIC_RXH_L3_PROTO },
	{ 's', NIC_RXH_IP_SRC }, { 'd', NIC_RXH_IP_DST },   { 'f', NIC_RXH_L4_B_0_1 },
	{ 'n', NIC_RXH_L4_B_2_3 }, { 'r', NIC_RXH_DISCARD },
};

static int cmd_flow_hash(struct ctx *c, const char *ifname, const char *flow, const char *set)
{
	uint64_t v = 0, want = 0;
	uint32_t type = 0;
	json_object *o;
	char letters[16] = "";
	size_t i, j, n = 0;

	for (i = 0; i < sizeof(flows) / sizeof(flows[0]); i++)
		if (!strcmp(flows[i].name, flow))
			type = flows[i].type;
	if (!type)
		return usage();
	if (set) {
		for (i = 0; set[i]; i++) {
			for (j = 0; j < sizeof(fields) / sizeof(fields[0]); j++)
				if (fields[j].letter == set[i])
					break;
			if (j == sizeof(fields) / sizeof(fields[0]))
				return usage();
			want |= fields[j].bit;
		}
	}
	if (load(c, ifname, 0) < 0)
		return fail(&c->err);
	if (set && c->be.ops->flow_hash_set(c->be.be, &c->id, type, want, &c->err) < 0)
		return fail(&c->err);
	if (c->be.ops->flow_hash_get(c->be.be, &c->id, type, &v, &c->err) < 0)
		return fail(&c->err);
	for (j = 0; j < sizeof(fields) / sizeof(fields[0]); j++)
		if (v & fields[j].bit)
			letters[n++] = fields[j].letter;
	o = json_object_new_object();
	json_object_object_add(o, "flow", json_object_new_string(flow));
	json_object_object_add(o, "fields", json_object_new_string(letters));
	json_object_object_add(o, "value", json_object_new_int64((int64_t)v));
	print(o);
	return 0;
}

static int cmd_rings(struct ctx *c, const char *ifname)
{
	json_object *o;

	if (load(c, ifname, NIC_OBSERVE_RINGS) < 0)
		return fail(&c->err);
	if (c->nic.caps.rings.state != NIC_CAP_YES) {
		return cap_fail(c, ifname, &c->nic.caps.rings);
	}
	o = nic_json_rings(&c->nic.rings);
	json_object_object_add(o, "header_split", nic_json_cap(&c->nic.caps.header_split));
	print(o);
	return 0;
}

static int cmd_qstats(struct ctx *c, const char *ifname)
{
	json_object *a, *q;
	size_t i;

	if (load(c, ifname, NIC_OBSERVE_QUEUES) < 0)
		return fail(&c->err);
	if (c->nic.caps.qstats.state != NIC_CAP_YES) {
		return cap_fail(c, ifname, &c->nic.caps.qstats);
	}
	a = json_object_new_array();
	for (i = 0; i < c->nic.n_queues; i++) {
		q = json_object_new_object();
		json_object_object_add(q, "index", json_object_new_int64(c->nic.queues[i].id));
		json_object_object_add(q, "rx_packets",
				       c->nic.queues[i].has_qstats
					       ? json_object_new_int64((int64_t)c->nic.queues[i].rx_packets)
					       : NULL);
		json_object_object_add(q, "rx_bytes",
				       c->nic.queues[i].has_qstats
					       ? json_object_new_int64((int64_t)c->nic.queues[i].rx_bytes)
					       : NULL);
		json_object_array_add(a, q);
	}
	print(a);
	return 0;
}

static int cmd_ntuple(struct ctx *c, const char *ifname, const char *onoff)
{
	bool on, active = false;
	json_object *o;

	if (strcmp(onoff, "on") && strcmp(onoff, "off"))
		return usage();
	on = !strcmp(onoff, "on");
	if (load(c, ifname, 0) < 0)
		return fail(&c->err);
	if (c->be.ops->set_feature(c->be.be, &c->id, "rx-ntuple-filter", on, &active, &c->err) < 0)
		return fail(&c->err);
	o = json_object_new_object();
	json_object_object_add(o, "feature", json_object_new_string("rx-ntuple-filter"));
	json_object_object_add(o, "requested", json_object_new_boolean(on));
	json_object_object_add(o, "applied", json_object_new_boolean(active));
	print(o);
	if (!active) {
		/* the kernel acked (error 0) and said in its reply it did not apply */
		kerror_set(&c->err, EOPNOTSUPP, ifname, "set feature rx-ntuple-filter",
			   "the kernel acknowledged but did not apply it");
		return fail(&c->err);
	}
	return 0;
}

static int cmd_rules(struct ctx *c, const char *ifname)
{
	json_object *o, *a;
	size_t i;

	if (load(c, ifname, NIC_OBSERVE_RULES) < 0)
		return fail(&c->err);
	if (c->nic.caps.rules.state != NIC_CAP_YES)
		return cap_fail(c, ifname, &c->nic.caps.rules);
	o = json_object_new_object();
	json_object_object_add(o, "capacity", json_object_new_int64(c->nic.rule_capacity));
	json_object_object_add(o, "driver_picks_location",
			       json_object_new_boolean(c->nic.rule_loc_special));
	a = json_object_new_array();
	for (i = 0; i < c->nic.n_rules; i++)
		json_object_array_add(a, nic_json_rule(&c->nic.rules[i]));
	json_object_object_add(o, "rules", a);
	print(o);
	return 0;
}

static int cmd_rule_add(struct ctx *c, const char *ifname, int argc, char **argv)
{
	struct nic_rule rule = { .location = NIC_LOC_ANY };
	uint32_t v;

	/* MATCH ADDR ACTION N [loc N] */
	if (argc != 4 && argc != 6)
		return usage();
	if (!strcmp(argv[0], "ether") && nic_mac_parse(argv[1], rule.mac) == 0)
		rule.match = NIC_RULE_MATCH_ETHER_DST;
	else if (!strcmp(argv[0], "ip4") && inet_pton(AF_INET, argv[1], &rule.ip4) == 1)
		rule.match = NIC_RULE_MATCH_IP4_DST;
	else if (!strcmp(argv[0], "ip6") && inet_pton(AF_INET6, argv[1], &rule.ip6) == 1)
		rule.match = NIC_RULE_MATCH_IP6_DST;
	else
		return usage();
	if (parse_u32(argv[3], &v) < 0)
		return usage();
	if (!strcmp(argv[2], "queue")) {
		rule.action = NIC_RULE_ACTION_QUEUE;
		rule.queue = v;
	} else if (!strcmp(argv[2], "context")) {
		rule.action = NIC_RULE_ACTION_CONTEXT;
		rule.rss_context = v;
	} else {
		return usage();
	}
	if (argc == 6 && (strcmp(argv[4], "loc") || parse_u32(argv[5], &rule.location) < 0))
		return usage();
	if (load(c, ifname, 0) < 0)
		return fail(&c->err);
	if (c->be.ops->rule_insert(c->be.be, &c->id, &rule, &c->err) < 0)
		return fail(&c->err);
	print(nic_json_rule(&rule));
	return 0;
}

static int cmd_rule_del(struct ctx *c, const char *ifname, const char *locs)
{
	uint32_t loc;

	if (parse_u32(locs, &loc) < 0)
		return usage();
	if (load(c, ifname, 0) < 0)
		return fail(&c->err);
	if (c->be.ops->rule_delete(c->be.be, &c->id, loc, &c->err) < 0)
		return fail(&c->err);
	return 0;
}

static int cmd_rss_create(struct ctx *c, const char *ifname, int n, char **qs)
{
	uint32_t *indir = NULL, ctx = 0;
	json_object *o;
	int r;

	if (n) {
		r = parse_u32_list(n, qs, &indir);
		if (r < 0)
			return r == -ENOMEM ? 1 : usage();
	}
	if (load(c, ifname, 0) < 0) {
		free(indir);
		return fail(&c->err);
	}
	r = c->be.ops->rss_create(c->be.be, &c->id, indir, (uint32_t)n, &ctx, &c->err);
	free(indir);
	if (r < 0)
		return fail(&c->err);
	o = json_object_new_object();
	json_object_object_add(o, "context", json_object_new_int64(ctx));
	print(o);
	return 0;
}

static int cmd_rss_delete(struct ctx *c, const char *ifname, const char *ctxs)
{
	uint32_t ctx;

	if (parse_u32(ctxs, &ctx) < 0)
		return usage();
	if (load(c, ifname, 0) < 0)
		return fail(&c->err);
	if (c->be.ops->rss_delete(c->be.be, &c->id, ctx, &c->err) < 0)
		return fail(&c->err);
	return 0;
}

/* ---- observe: what one re-read of a device costs ---------------------------- */

struct obs_tap {
	unsigned replies;
	json_object *refused;
};

static void obs_tap(const void *buf, size_t len, void *ud)
{
	struct obs_tap *t = ud;
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		struct kerror e = { 0 };

		t->replies++;
		if (nlh->nlmsg_type == NLMSG_ERROR && genl_parse_ack(nlh, NULL, &e, NULL, 0) < 0)
			json_object_array_add(t->refused, json_object_new_string(
								  e.msg[0] ? e.msg : strerror(e.err)));
	}
}

static int cmd_observe(struct ctx *c, const char *ifname, const char *count)
{
	struct obs_tap t = { 0 };
	json_object *a;
	uint32_t n, i;

	if (parse_u32(count, &n) < 0 || !n || n > 100)
		return usage();
	a = json_object_new_array();
	nic_kernel_set_tap(c->k, obs_tap, &t);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		t.replies = 0;
		t.refused = json_object_new_array();
		nic_clear(&c->nic);
		if (load(c, ifname, NIC_OBSERVE_ALL) < 0) {
			json_object_put(t.refused);
			json_object_put(o);
			json_object_put(a);
			nic_kernel_set_tap(c->k, NULL, NULL);
			return fail(&c->err);
		}
		json_object_object_add(o, "replies", json_object_new_int64(t.replies));
		json_object_object_add(o, "refused", t.refused);
		json_object_array_add(a, o);
	}
	nic_kernel_set_tap(c->k, NULL, NULL);
	print(a);
	return 0;
}

/* ---- capture: real kernel replies into fixture files ----------------------- */

static FILE *cap_file;
static const char *cap_dir;

static void cap_tap(const void *buf, size_t len, void *ud)
{
	static const char pad[4];

	if (!cap_file)
		return;
	fwrite(buf, 1, len, cap_file);
	fwrite(pad, 1, (4 - len % 4) % 4, cap_file);
}

static void cap_to(const char *name)
{
	char path[512];

	if (cap_file)
		fclose(cap_file);
	cap_file = NULL;
	if (!name)
		return;
	snprintf(path, sizeof(path), "%s/%s.bin", cap_dir, name);
	cap_file = fopen(path, "w");
	if (!cap_file)
		fprintf(stderr, "nictool: %s: %s\n", path, strerror(errno));
	else
		fprintf(stderr, "capture %s\n", path);
}

static int cap_drain_cb(const struct nlmsghdr *nlh, void *data)
{
	(*(int *)data)++;
	return 0;
}

/* Drain a notification socket into one file; returns messages seen. */
static int cap_drain(struct genl_sock *s, const char *name)
{
	int n = 0;

	cap_to(name);
	(void)genl_sock_recv(s, cap_drain_cb, &n);
	cap_to(NULL);
	return n;
}

static void cap_req(struct genl_sock *s, struct nlmsghdr *nlh, const char *name)
{
	struct kerror e;

	cap_to(name);
	(void)genl_request(s, nlh, NULL, NULL, &e);
	cap_to(NULL);
}

struct cap_socks {
	struct genl_sock *gs, *rt; /* requests: generic netlink, rtnetlink */
	struct genl_sock *mon, *rtmon; /* notifications */
};

static int cap_open(struct cap_socks *s)
{
	if (genl_sock_open(NETLINK_GENERIC, 0, &s->gs) < 0 ||
	    genl_sock_open(NETLINK_ROUTE, 0, &s->rt) < 0 ||
	    genl_sock_open(NETLINK_GENERIC, GENL_SOCK_NONBLOCK, &s->mon) < 0 ||
	    genl_sock_open(NETLINK_ROUTE, GENL_SOCK_NONBLOCK, &s->rtmon) < 0)
		return -1;
	genl_sock_set_tap(s->gs, cap_tap, NULL);
	genl_sock_set_tap(s->rt, cap_tap, NULL);
	genl_sock_set_tap(s->mon, cap_tap, NULL);
	genl_sock_set_tap(s->rtmon, cap_tap, NULL);
	return 0;
}

static void cap_close(struct cap_socks *s)
{
	genl_sock_close(s->gs);
	genl_sock_close(s->rt);
	genl_sock_close(s->mon);
	genl_sock_close(s->rtmon);
}

/* ethtool requests, refusals among them; *ch receives the channels. */
static void cap_ethtool(struct nic_ethnl *eth, struct genl_sock *gs, int idx,
			struct nic_channels *ch)
{
	struct nic_channels_req creq = { 0 };
	struct nic_rings rings;
	struct nic_rings_req rreq = { 0 };
	struct nic_feature f;
	struct nic_feature_set_result fr;
	struct nic_rss rss, *rv;
	struct nlmsghdr *nlh;
	struct nlattr *h;
	struct kerror e;
	size_t n;

	cap_to("ethtool-channels-get");
	(void)nic_ethnl_channels_get(eth, idx, ch, &e);
	cap_to("ethtool-channels-set-exceeds");
	creq.has_combined = true;
	creq.combined = 1;
	(void)nic_ethnl_channels_set(eth, idx, &creq, &e);
	cap_to("ethtool-channels-set-no-rx");
	memset(&creq, 0, sizeof(creq));
	creq.has_rx = true;
	(void)nic_ethnl_channels_set(eth, idx, &creq, &e);
	cap_to("ethtool-rings-get");
	(void)nic_ethnl_rings_get(eth, idx, &rings, &e);
	cap_to("ethtool-rings-set-tcp-data-split");
	rreq.has_tcp_data_split = true;
	rreq.tcp_data_split = 2;
	(void)nic_ethnl_rings_set(eth, idx, &rreq, &e);
	cap_to("ethtool-rings-set-hds-thresh");
	memset(&rreq, 0, sizeof(rreq));
	rreq.has_hds_thresh = true;
	(void)nic_ethnl_rings_set(eth, idx, &rreq, &e);
	cap_to("ethtool-features-get");
	(void)nic_ethnl_feature_get(eth, idx, ZX_FEATURE_NTUPLE, &f, &e);
	cap_to("ethtool-features-set-ntuple");
	(void)nic_ethnl_feature_set(eth, idx, ZX_FEATURE_NTUPLE, true, &fr, &e);
	cap_to("ethtool-features-set-badname");
	(void)nic_ethnl_feature_set(eth, idx, "ntuple-filters", true, &fr, &e);
	cap_to("ethtool-rss-get");
	(void)nic_ethnl_rss_get(eth, idx, 0, &rss, &e);
	cap_to("ethtool-rss-get-ctx");
	(void)nic_ethnl_rss_get(eth, idx, 1, &rss, &e);
	cap_to("ethtool-rss-dump");
	if (nic_ethnl_rss_dump(eth, idx, &rv, &n, &e) == 0)
		free(rv);
	cap_to(NULL);

	/* requests the NIC layer never makes: the kernel's answers to them */
	nlh = genl_msg_start(gs, eth->fam.id, NLM_F_ACK, ZX_ETHTOOL_MSG_FEATURES_GET, 1);
	nic_ethnl_put_header(nlh, idx, ZX_ETHTOOL_FLAG_COMPACT_BITSETS);
	cap_req(gs, nlh, "ethtool-features-get-compact");
	nlh = genl_msg_start(gs, eth->fam.id, NLM_F_ACK, ZX_ETHTOOL_MSG_CHANNELS_GET, 1);
	nic_ethnl_put_header(nlh, idx, 8);
	cap_req(gs, nlh, "ethtool-header-badflags");
	nlh = genl_msg_start(gs, eth->fam.id, NLM_F_ACK, ZX_ETHTOOL_MSG_CHANNELS_GET, 1);
	h = mnl_attr_nest_start(nlh, 1);
	mnl_attr_put_strz(nlh, ZX_ETHTOOL_A_HEADER_DEV_NAME, "zxnnodev0");
	mnl_attr_nest_end(nlh, h);
	cap_req(gs, nlh, "ethtool-nodev");
	nlh = genl_msg_start(gs, eth->fam.id, NLM_F_DUMP, ZX_ETHTOOL_MSG_CHANNELS_GET, 1);
	nic_ethnl_put_header(nlh, 0, 0);
	cap_req(gs, nlh, "ethtool-channels-dump");
}

/* netdev queue, NAPI and qstats dumps (veth has NAPIs only with GRO on:
 * the change also notifies). */
static void cap_netdev(struct nic_ethnl *eth, struct nic_netdev *nd, struct genl_sock *mon,
		       int idx)
{
	struct nic_feature_set_result fr;
	struct nic_netdev_dev dev;
	struct nic_netdev_queue *q;
	struct nic_netdev_napi *napi;
	struct nic_netdev_qstat *qs;
	struct kerror e;
	size_t n;

	(void)nic_ethnl_feature_set(eth, idx, "rx-gro", true, &fr, &e);
	cap_drain(mon, "monitor-features-gro");
	cap_to("netdev-dev-get");
	(void)nic_netdev_dev_get(nd, idx, &dev, &e);
	cap_to("netdev-queue-dump");
	if (nic_netdev_rx_queues(nd, idx, &q, &n, &e) == 0)
		free(q);
	cap_to("netdev-napi-dump");
	if (nic_netdev_napis(nd, idx, &napi, &n, &e) == 0)
		free(napi);
	cap_to("netdev-qstats-dump");
	if (nic_netdev_rx_qstats(nd, idx, &qs, &n, &e) == 0)
		free(qs);
	cap_to(NULL);
	(void)nic_ethnl_feature_set(eth, idx, "rx-gro", false, &fr, &e);
	cap_drain(mon, NULL);
}

/* The notifications of a channel change and of the link going down and up. */
static void cap_notifications(struct nic_ethnl *eth, const struct cap_socks *s, int idx,
			      const struct nic_channels *ch)
{
	struct nic_channels_req creq = { .has_rx = true };
	struct kerror e;

	creq.rx = ch->rx > 1 ? ch->rx - 1 : ch->rx;
	(void)nic_ethnl_channels_set(eth, idx, &creq, &e);
	cap_drain(s->mon, "monitor-channels");
	creq.rx = ch->rx;
	(void)nic_ethnl_channels_set(eth, idx, &creq, &e);
	cap_drain(s->mon, NULL);
	(void)cap_drain(s->rtmon, NULL);

	(void)nic_rtnl_set_up(s->rt, idx, false, &e);
	cap_drain(s->rtmon, "rtnl-monitor-down");
	(void)nic_rtnl_set_up(s->rt, idx, true, &e);
	cap_drain(s->rtmon, "rtnl-monitor-up");
	cap_drain(s->mon, NULL);
}

/* rtnetlink links, and the macvtap (midx, 0: none) as ethtool sees it. */
static void cap_links(struct nic_ethnl *eth, struct genl_sock *rt, int idx, int midx)
{
	struct nic_link link, *links;
	struct nic_channels ch;
	struct kerror e;
	size_t n;

	cap_to("rtnl-link-get");
	(void)nic_rtnl_link_get(rt, idx, &link, &e);
	if (midx) {
		cap_to("rtnl-link-get-macvtap");
		(void)nic_rtnl_link_get(rt, midx, &link, &e);
		cap_to("ethtool-channels-get-macvtap");
		(void)nic_ethnl_channels_get(eth, midx, &ch, &e);
	}
	cap_to("rtnl-link-dump");
	if (nic_rtnl_links(rt, &links, &n, &e) == 0)
		free(links);
	cap_to(NULL);
}

static int nictool_capture(const char *dir, const char *ifname, const char *mvt)
{
	struct cap_socks s = { 0 };
	struct nic_ethnl eth;
	struct nic_netdev nd;
	struct nic_channels ch;
	struct kerror e;
	int idx, midx = 0;
	int64_t grp;

	if (strncmp(ifname, "zxn", 3) || (mvt && strncmp(mvt, "zxn", 3))) {
		fprintf(stderr, "nictool: capture changes devices: only zxn* test devices\n");
		return 2;
	}
	idx = (int)if_nametoindex(ifname);
	if (mvt)
		midx = (int)if_nametoindex(mvt);
	if (!idx || (mvt && !midx)) {
		fprintf(stderr, "nictool: no such device\n");
		return 1;
	}
	cap_dir = dir;
	if (cap_open(&s) < 0)
		return 1;

	cap_to("ctrl-ethtool");
	if (nic_ethnl_init(&eth, s.gs, &e) < 0)
		return fail(&e);
	cap_to("ctrl-netdev");
	if (nic_netdev_init(&nd, s.gs, &e) < 0)
		return fail(&e);
	cap_to(NULL);

	/* notifications first, so the changes below are seen */
	grp = genl_family_group(&eth.fam, ZX_ETHTOOL_MCGRP_MONITOR_NAME);
	if (grp > 0)
		(void)genl_join(s.mon, (uint32_t)grp);
	grp = genl_family_group(&nd.fam, ZX_NETDEV_MCGRP_MGMT);
	if (grp > 0)
		(void)genl_join(s.mon, (uint32_t)grp);
	(void)genl_join(s.rtmon, RTNLGRP_LINK);

	cap_ethtool(&eth, s.gs, idx, &ch);
	cap_netdev(&eth, &nd, s.mon, idx);
	cap_notifications(&eth, &s, idx, &ch);
	cap_links(&eth, s.rt, idx, midx);
	cap_close(&s);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ctx c = { 0 };
	const char *cmd;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "+ph", opts, NULL)) != -1) {
		if (opt == 'p')
			pretty = true;
		else
			return usage();
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return usage();
	cmd = argv[0];
	if (!strcmp(cmd, "capture"))
		return argc >= 3 ? nictool_capture(argv[1], argv[2], argc > 3 ? argv[3] : NULL)
				 : usage();
	if (nic_kernel_new(&c.k, &c.err) < 0)
		return fail(&c.err);
	c.be = nic_kernel_backend(c.k);

	if (!strcmp(cmd, "links") && argc == 1)
		r = cmd_links(&c);
	else if (!strcmp(cmd, "show") && argc == 2)
		r = cmd_show(&c, argv[1]);
	else if (!strcmp(cmd, "queues") && argc == 2)
		r = cmd_queues(&c, argv[1]);
	else if (!strcmp(cmd, "set-channels") && argc == 3)
		r = cmd_set_channels(&c, argv[1], argv[2]);
	else if (!strcmp(cmd, "rss-get") && (argc == 2 || argc == 3))
		r = cmd_rss_get(&c, argv[1], argc == 3 ? argv[2] : NULL);
	else if (!strcmp(cmd, "rss-set") && argc >= 4)
		r = cmd_rss_set(&c, argv[1], argv[2], argc - 3, argv + 3);
	else if (!strcmp(cmd, "rss-key") && argc == 3)
		r = cmd_rss_key(&c, argv[1], argv[2]);
	else if (!strcmp(cmd, "flow-hash") && (argc == 3 || argc == 4))
		r = cmd_flow_hash(&c, argv[1], argv[2], argc == 4 ? argv[3] : NULL);
	else if (!strcmp(cmd, "rings") && argc == 2)
		r = cmd_rings(&c, argv[1]);
	else if (!strcmp(cmd, "qstats") && argc == 2)
		r = cmd_qstats(&c, argv[1]);
	else if (!strcmp(cmd, "ntuple") && argc == 3)
		r = cmd_ntuple(&c, argv[1], argv[2]);
	else if (!strcmp(cmd, "rules") && argc == 2)
		r = cmd_rules(&c, argv[1]);
	else if (!strcmp(cmd, "rule-add") && argc >= 3)
		r = cmd_rule_add(&c, argv[1], argc - 2, argv + 2);
	else if (!strcmp(cmd, "rule-del") && argc == 3)
		r = cmd_rule_del(&c, argv[1], argv[2]);
	else if (!strcmp(cmd, "rss-create") && argc >= 2)
		r = cmd_rss_create(&c, argv[1], argc - 2, argv + 2);
	else if (!strcmp(cmd, "rss-delete") && argc == 3)
		r = cmd_rss_delete(&c, argv[1], argv[2]);
	else if (!strcmp(cmd, "observe") && argc == 3)
		r = cmd_observe(&c, argv[1], argv[2]);
	else
		r = usage();
	nic_clear(&c.nic);
	nic_kernel_free(c.k);
	return r;
}
