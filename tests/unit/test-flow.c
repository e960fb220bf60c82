// SPDX-License-Identifier: MIT
/*
 * test-flow — a lease's flow: the TCP/UDP rule codec of the NIC layer
 * (TCP_V4/UDP_V4/TCP_V6/UDP_V6 specs, masks, byte order; rules zcrxd did
 * not make decode as "other"), the text form of a NIC flow, overlap between
 * lease flows, the rules a flow needs, its JSON, and libzcrx's parser of
 * the CLI's form.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "flow.h"
#include "nic-ioctl.h"
#include "zcrx.h"

static struct flow mk(uint8_t proto, uint16_t dport, const char *dst, const char *src,
		      uint16_t sport)
{
	struct flow f = { .proto = proto, .dport = dport, .sport = sport };

	if (dst) {
		f.dst_family = strchr(dst, ':') ? AF_INET6 : AF_INET;
		assert_int_equal(inet_pton(f.dst_family, dst, &f.dst), 1);
	}
	if (src) {
		f.src_family = strchr(src, ':') ? AF_INET6 : AF_INET;
		assert_int_equal(inet_pton(f.src_family, src, &f.src), 1);
	}
	return f;
}

static void test_codec_tcp4(void **state)
{
	struct nic_rule r = { .location = 5, .match = NIC_RULE_MATCH_FLOW4,
			      .action = NIC_RULE_ACTION_QUEUE, .queue = 6 }, back;
	struct zx_ethtool_rxnfc nfc;

	r.flow.proto = IPPROTO_TCP;
	r.flow.family = AF_INET;
	r.flow.dport = 9000;
	r.flow.has_dst = true;
	assert_int_equal(inet_pton(AF_INET, "10.0.0.1", &r.flow.dst), 1);
	assert_int_equal(nic_ioctl_rule_encode(&r, &nfc), 0);
	assert_int_equal(nfc.fs.flow_type, ZX_TCP_V4_FLOW);
	assert_int_equal(nfc.fs.h_u.tcp_ip4_spec.pdst, htons(9000));
	assert_int_equal(nfc.fs.m_u.tcp_ip4_spec.pdst, 0xffff);
	assert_int_equal(nfc.fs.m_u.tcp_ip4_spec.psrc, 0); /* any source port */
	assert_int_equal(nfc.fs.m_u.tcp_ip4_spec.ip4src, 0);
	assert_int_equal(nfc.fs.m_u.tcp_ip4_spec.ip4dst, 0xffffffffu);
	assert_int_equal(nfc.fs.h_u.tcp_ip4_spec.ip4dst, inet_addr("10.0.0.1"));
	assert_int_equal(nfc.fs.ring_cookie, 6);
	nic_ioctl_rule_decode(&nfc, &back);
	assert_int_equal(back.match, NIC_RULE_MATCH_FLOW4);
	assert_true(nic_flow_equal(&back.flow, &r.flow));
	assert_int_equal(back.queue, 6);
}

static void test_codec_udp6_context_with_source(void **state)
{
	struct nic_rule r = { .location = 1, .match = NIC_RULE_MATCH_FLOW6,
			      .action = NIC_RULE_ACTION_CONTEXT, .rss_context = 3 }, back;
	struct zx_ethtool_rxnfc nfc;
	char buf[160];

	r.flow.proto = IPPROTO_UDP;
	r.flow.family = AF_INET6;
	r.flow.dport = 53;
	r.flow.sport = 5353;
	r.flow.has_src = true;
	assert_int_equal(inet_pton(AF_INET6, "fd00::9", &r.flow.src), 1);
	assert_int_equal(nic_ioctl_rule_encode(&r, &nfc), 0);
	assert_int_equal(nfc.fs.flow_type, ZX_UDP_V6_FLOW | ZX_FLOW_RSS);
	assert_int_equal(nfc.rss_context, 3);
	assert_int_equal(nfc.fs.h_u.udp_ip6_spec.psrc, htons(5353));
	assert_int_equal(nfc.fs.m_u.udp_ip6_spec.ip6dst[0], 0);
	nic_ioctl_rule_decode(&nfc, &back);
	assert_int_equal(back.match, NIC_RULE_MATCH_FLOW6);
	assert_true(nic_flow_equal(&back.flow, &r.flow));
	assert_int_equal(back.action, NIC_RULE_ACTION_CONTEXT);
	assert_string_equal(nic_flow_format(&back.flow, true, buf, sizeof(buf)),
			    "flow-type udp6 src-ip fd00::9 dst-port 53 src-port 5353");
}

static void test_codec_foreign_flow_rules_are_other(void **state)
{
	struct nic_rule r = { .match = NIC_RULE_MATCH_FLOW4, .action = NIC_RULE_ACTION_QUEUE }, back;
	struct zx_ethtool_rxnfc nfc;

	r.flow.proto = IPPROTO_TCP;
	r.flow.family = AF_INET;
	r.flow.dport = 80;
	assert_int_equal(nic_ioctl_rule_encode(&r, &nfc), 0);
	nfc.fs.m_u.tcp_ip4_spec.pdst = 0xff00; /* a partial port mask: not ours */
	nic_ioctl_rule_decode(&nfc, &back);
	assert_int_equal(back.match, NIC_RULE_MATCH_OTHER);
	assert_int_equal(nic_ioctl_rule_encode(&r, &nfc), 0);
	nfc.fs.m_u.tcp_ip4_spec.tos = 0xff; /* matches on tos too */
	nic_ioctl_rule_decode(&nfc, &back);
	assert_int_equal(back.match, NIC_RULE_MATCH_OTHER);
	r.flow.dport = 0; /* a flow needs its port */
	assert_int_equal(nic_ioctl_rule_encode(&r, &nfc), -EINVAL);
}

static void test_nic_flow_text_round_trip(void **state)
{
	static const char *const ok[] = { "tcp4 dst-port 9000", "udp6 dst-ip fd00::1 dst-port 53",
					  "tcp4 src-ip 10.0.0.9 dst-ip 10.0.0.7 dst-port 1 src-port 2" };
	static const char *const bad[] = { "", "tcp4", "sctp4 dst-port 1", "tcp4 dst-port 0",
					   "tcp4 dst-port 1 dst-ip ::1", "tcp4 dst-port 1 x 2" };
	struct nic_flow f;
	char buf[160];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(nic_flow_parse(ok[i], &f), 0);
		assert_string_equal(nic_flow_format(&f, false, buf, sizeof(buf)), ok[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(nic_flow_parse(bad[i], &f), -EINVAL);
}

static void test_overlap(void **state)
{
	const uint8_t T = IPPROTO_TCP, U = IPPROTO_UDP;
	struct {
		struct flow a, b;
		bool overlap;
	} c[] = {
		{ mk(T, 80, NULL, NULL, 0), mk(T, 80, NULL, NULL, 0), true },
		{ mk(T, 80, NULL, NULL, 0), mk(U, 80, NULL, NULL, 0), false },
		{ mk(T, 80, NULL, NULL, 0), mk(T, 81, NULL, NULL, 0), false },
		{ mk(T, 80, NULL, NULL, 0), mk(T, 80, "10.0.0.1", NULL, 0), true },
		{ mk(T, 80, "10.0.0.1", NULL, 0), mk(T, 80, "10.0.0.2", NULL, 0), false },
		{ mk(T, 80, "10.0.0.1", NULL, 0), mk(T, 80, "fd00::1", NULL, 0), false },
		{ mk(T, 80, "fd00::1", NULL, 0), mk(T, 80, NULL, "fd00::2", 0), true },
		{ mk(T, 80, "10.0.0.1", NULL, 0), mk(T, 80, NULL, "fd00::2", 0), false },
		{ mk(T, 80, NULL, "10.0.0.1", 1000), mk(T, 80, NULL, "10.0.0.1", 1001), false },
		{ mk(T, 80, NULL, "10.0.0.1", 1000), mk(T, 80, NULL, NULL, 0), true },
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_int_equal(flow_overlap(&c[i].a, &c[i].b), c[i].overlap);
		assert_int_equal(flow_overlap(&c[i].b, &c[i].a), c[i].overlap);
	}
}

static void test_rules_of_a_flow(void **state)
{
	struct nic_flow out[FLOW_RULES_MAX];
	struct flow any = mk(IPPROTO_UDP, 4789, NULL, NULL, 0);
	struct flow v6 = mk(IPPROTO_TCP, 80, NULL, "fd00::2", 0);

	assert_int_equal(flow_nic_flows(&any, out), 2);
	assert_int_equal(out[0].family, AF_INET);
	assert_int_equal(out[1].family, AF_INET6);
	assert_int_equal(nic_flow_type(&out[0]), NIC_FLOW_UDP4);
	assert_int_equal(nic_flow_type(&out[1]), NIC_FLOW_UDP6);
	assert_int_equal(flow_nic_flows(&v6, out), 1);
	assert_int_equal(out[0].family, AF_INET6);
	assert_true(out[0].has_src && !out[0].has_dst);
}

static void test_json(void **state)
{
	static const char *const bad[] = {
		"[]", "{\"dport\": 1}", "{\"protocol\": \"icmp\", \"dport\": 1}",
		"{\"protocol\": \"tcp\"}", "{\"protocol\": \"tcp\", \"dport\": 70000}",
		"{\"protocol\": \"tcp\", \"dport\": \"80\"}",
		"{\"protocol\": \"tcp\", \"dport\": 1, \"dst\": \"nope\"}",
		"{\"protocol\": \"tcp\", \"dport\": 1, \"dst\": \"::1\", \"src\": \"10.0.0.1\"}",
	};
	struct flow f = mk(IPPROTO_TCP, 9000, "10.0.0.1", NULL, 7), back;
	struct kerror e = { 0 };
	json_object *o = flow_to_json(&f);
	char buf[128];
	size_t i;

	assert_int_equal(flow_from_json(o, &back, &e), 0);
	assert_true(flow_equal(&f, &back));
	json_object_put(o);
	assert_string_equal(flow_format(&f, buf, sizeof(buf)), "tcp:dport=9000,dst=10.0.0.1,sport=7");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = json_tokener_parse(bad[i]);
		assert_int_equal(flow_from_json(o, &back, &e), -EINVAL);
		assert_true(e.msg[0] != '\0');
		json_object_put(o);
	}
}

static void test_lib_parse(void **state)
{
	static const char *const bad[] = { "tcp", "tcp:", "icmp:dport=1", "tcp:dport=0",
					   "tcp:dport=65536", "tcp:dport=-1", "tcp:port=1",
					   "tcp:dport=1,dst=nope", "tcp:dport=1,dst=::1,src=10.0.0.1",
					   "tcp:dst=10.0.0.1" };
	struct zcrx_error e = { 0 };
	struct zcrx_flow f;
	size_t i;

	assert_int_equal(zcrx_flow_parse("udp:dport=53,dst=fd00::1,src=fd00::2,sport=9", &f, &e), 0);
	assert_int_equal(f.protocol, IPPROTO_UDP);
	assert_int_equal(f.dport, 53);
	assert_int_equal(f.sport, 9);
	assert_string_equal(f.dst, "fd00::1");
	assert_string_equal(f.src, "fd00::2");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(zcrx_flow_parse(bad[i], &f, &e), -EINVAL);
		assert_int_equal(e.kind, ZCRX_ERROR_LOCAL);
		zcrx_error_clear(&e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_tcp4),
		cmocka_unit_test(test_codec_udp6_context_with_source),
		cmocka_unit_test(test_codec_foreign_flow_rules_are_other),
		cmocka_unit_test(test_nic_flow_text_round_trip),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_rules_of_a_flow),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_lib_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
