// SPDX-License-Identifier: MIT
/*
 * Unit tests for domxml: the fixtures captured from real libvirtd 9.0 + QEMU
 * (tests/libvirt/capture-fixtures.sh) and hand-made malformed input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domxml.h"
#include "fixture.h"

static struct domxml_domain *parse_fixture(const char *name)
{
	struct domxml_domain *d = NULL;
	char err[DOMXML_ERR_MAX];
	size_t len;
	char *xml = fixture_read("libvirt", name, &len);
	int r;

	assert_non_null(xml);
	r = domxml_parse(xml, len, &d, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "%s: %s\n", name, err);
	assert_int_equal(r, 0);
	assert_non_null(d);
	free(xml);
	return d;
}

static int parse_str(const char *xml, struct domxml_domain **ret, char *err)
{
	*ret = NULL;
	return domxml_parse(xml, strlen(xml), ret, err, DOMXML_ERR_MAX);
}

static void mac(const char *s, uint8_t m[6])
{
	assert_int_equal(nic_mac_parse(s, m), 0);
}

static unsigned count_targets(const struct domxml_domain *d)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < d->n_ifaces; i++)
		n += d->ifaces[i].target_dev[0] != 0;
	return n;
}

static bool cpu_set(const struct domxml_numa *nu, unsigned c)
{
	return nu->cpus[c / 64] >> (c % 64) & 1;
}

/* --- fixtures ----------------------------------------------------------------- */

static void test_live_vm0(void **state)
{
	struct domxml_domain *d = parse_fixture("vm0-live.xml");
	const struct domxml_iface *i;
	const struct domxml_meta_nic *mn;
	uint8_t m[6];
	char buf[18];

	assert_string_equal(d->name, "zxl-vm0");
	assert_string_equal(d->uuid_str, "5a1b0000-0000-4000-8000-0000000010a0");
	assert_int_equal(d->id, 1);
	assert_string_equal(d->type, "qemu");
	assert_int_equal(d->n_ifaces, 4);

	i = &d->ifaces[0];
	assert_string_equal(nic_mac_format(i->mac, buf), "52:54:00:7a:10:01");
	assert_int_equal(i->type, DOMXML_IFACE_DIRECT);
	assert_string_equal(i->source_dev, "zxlp0");
	assert_int_equal(i->mode, DOMXML_MODE_BRIDGE);
	assert_string_equal(i->target_dev, "macvtap0");
	assert_int_equal(i->queues, 0);
	assert_string_equal(i->model, "virtio");
	assert_string_equal(i->network, "");
	assert_true(domxml_iface_is_macvtap(i));
	assert_string_equal(i->problem, "");

	i = &d->ifaces[1];
	assert_int_equal(i->type, DOMXML_IFACE_BRIDGE);
	assert_string_equal(i->bridge, "zxlbr0");
	assert_string_equal(i->target_dev, "vnet0");
	assert_false(domxml_iface_is_macvtap(i));

	/* type='network' rewritten to bridge in live XML; still a network vNIC */
	i = &d->ifaces[2];
	assert_int_equal(i->type, DOMXML_IFACE_BRIDGE);
	assert_string_equal(i->network, "zxl-net");
	assert_string_equal(i->bridge, "zxlbr0");
	assert_string_equal(i->target_dev, "vnet1");

	/* multi-queue macvtap */
	i = &d->ifaces[3];
	assert_int_equal(i->type, DOMXML_IFACE_DIRECT);
	assert_int_equal(i->queues, 4);
	assert_string_equal(i->target_dev, "macvtap1");
	assert_int_equal(i->index, 3);

	assert_int_equal(d->meta.state, DOMXML_META_VALID);
	assert_int_equal(d->meta.n_nics, 3);
	mac("52:54:00:7a:10:01", m);
	mn = domxml_meta_find(&d->meta, m);
	assert_non_null(mn);
	assert_int_equal(mn->queues, 2);
	assert_true(mn->enable);
	mac("52:54:00:7a:10:02", m);
	mn = domxml_meta_find(&d->meta, m);
	assert_non_null(mn);
	assert_false(mn->enable);
	assert_int_equal(mn->queues, 0);
	mac("52:54:00:7a:10:04", m);
	assert_int_equal(domxml_meta_find(&d->meta, m)->queues, 4);
	assert_ptr_equal(domxml_find_iface(d, m), &d->ifaces[3]);
	mac("52:54:00:7a:10:99", m);
	assert_null(domxml_meta_find(&d->meta, m));
	assert_null(domxml_find_iface(d, m));

	/* <vcpupin vcpu='0' cpuset='0'/><vcpupin vcpu='1' cpuset='1'/> */
	assert_true(d->numa.has_cpus);
	assert_true(cpu_set(&d->numa, 0));
	assert_true(cpu_set(&d->numa, 1));
	assert_false(cpu_set(&d->numa, 2));
	assert_false(d->numa.has_memory_nodes);
	assert_string_equal(d->numa.problem, "");
	domxml_free(d);
	(void)state;
}

/* Which hook operations see target devs, and which XML shape they get. */
static void test_hook_fixtures(void **state)
{
	static const struct {
		const char *file;
		int id;           /* -1: no id */
		unsigned targets; /* interfaces with <target dev> */
		const char *lower; /* source dev of the first vNIC */
		enum domxml_iface_type third; /* type of the network vNIC (vm0 only) */
	} t[] = {
		{ "hook-prepare-begin.xml", 1, 0, "zxlp0", DOMXML_IFACE_NETWORK },
		{ "hook-start-begin.xml", 1, 4, "zxlp0", DOMXML_IFACE_BRIDGE },
		{ "hook-started-begin.xml", 1, 4, "zxlp0", DOMXML_IFACE_BRIDGE },
		{ "hook-stopped-end.xml", -1, 0, "zxlp0", DOMXML_IFACE_NETWORK },
		{ "hook-release-end.xml", -1, 0, "zxlp0", DOMXML_IFACE_NETWORK },
		{ "hook-save-stopped-end.xml", -1, 0, "zxlp0", DOMXML_IFACE_NETWORK },
		{ "hook-restore-begin.xml", -1, 0, "zxlp0", DOMXML_IFACE_NETWORK },
		{ "hook-migrate-begin.xml", -1, 0, "zxlp1", DOMXML_IFACE_NETWORK },
		{ "hook-migrate-dest-start-begin.xml", 1, 4, "zxlp1", DOMXML_IFACE_BRIDGE },
		{ "hook-migrate-source-stopped-end.xml", -1, 0, "zxlp0", DOMXML_IFACE_NETWORK },
		{ "vm0-stopped.xml", -1, 0, "zxlp0", DOMXML_IFACE_NETWORK },
		{ "vm0-inactive.xml", -1, 0, "zxlp0", DOMXML_IFACE_NETWORK },
		{ "vm0-restored-live.xml", 4, 4, "zxlp0", DOMXML_IFACE_BRIDGE },
		{ "vm0-migrated-dest-live.xml", 1, 4, "zxlp1", DOMXML_IFACE_BRIDGE },
	};
	size_t k;

	for (k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		struct domxml_domain *d = parse_fixture(t[k].file);

		fprintf(stderr, "  %s\n", t[k].file);
		assert_string_equal(d->name, "zxl-vm0");
		assert_string_equal(d->uuid_str, "5a1b0000-0000-4000-8000-0000000010a0");
		assert_int_equal(d->id, t[k].id);
		assert_int_equal(d->n_ifaces, 4);
		assert_int_equal(count_targets(d), t[k].targets);
		assert_string_equal(d->ifaces[0].source_dev, t[k].lower);
		assert_int_equal(d->ifaces[2].type, t[k].third);
		assert_string_equal(d->ifaces[2].network, "zxl-net");
		/* every hook's XML carries the metadata (the hook decides from it) */
		assert_int_equal(d->meta.state, DOMXML_META_VALID);
		assert_int_equal(d->meta.n_nics, 3);
		/* the MAC is the same in every variant: it is the key */
		assert_int_equal(d->ifaces[3].mac[5], 0x04);
		assert_int_equal(d->ifaces[3].queues, 4);
		domxml_free(d);
	}
	(void)state;
}

static void test_passthrough_and_numatune(void **state)
{
	struct domxml_domain *d = parse_fixture("vm1-passthrough-live.xml");

	assert_string_equal(d->name, "zxl-vm1");
	assert_int_equal(d->n_ifaces, 1);
	assert_int_equal(d->ifaces[0].mode, DOMXML_MODE_PASSTHROUGH);
	assert_string_equal(d->ifaces[0].source_dev, "zxlp2");
	assert_true(domxml_iface_is_macvtap(&d->ifaces[0]));
	assert_int_equal(d->meta.state, DOMXML_META_ABSENT);
	assert_true(d->numa.has_memory_nodes);
	assert_int_equal(d->numa.memory_nodes, 1);
	assert_string_equal(d->numa.memory_mode, "preferred");
	assert_false(d->numa.has_cpus);
	domxml_free(d);

	d = parse_fixture("hook-reconnect-begin.xml");
	assert_string_equal(d->name, "zxl-vm1");
	assert_string_equal(d->ifaces[0].target_dev, "macvtap2");
	domxml_free(d);
	(void)state;
}

static void test_invalid_metadata_fixture(void **state)
{
	struct domxml_domain *d = parse_fixture("vm2-invalid-metadata-live.xml");

	/* the domain is still read; only the metadata is flagged */
	assert_string_equal(d->name, "zxl-vm2");
	assert_int_equal(d->n_ifaces, 1);
	assert_int_equal(d->ifaces[0].mode, DOMXML_MODE_VEPA);
	assert_int_equal(d->meta.state, DOMXML_META_INVALID);
	assert_int_equal(d->meta.n_nics, 0);
	assert_non_null(strstr(d->meta.error, "mac='52:54:00:zz:12:01'"));
	domxml_free(d);
	(void)state;
}

static void test_testdriver_fixture(void **state)
{
	struct domxml_domain *d = parse_fixture("testdriver-default.xml");

	assert_string_equal(d->name, "test");
	assert_string_equal(d->type, "test");
	assert_int_equal(d->meta.state, DOMXML_META_ABSENT);
	domxml_free(d);
	(void)state;
}

/* --- malformed documents ------------------------------------------------------------ */

#define UUID "<uuid>11111111-2222-3333-4444-555555555555</uuid>"

static void expect_fail(const char *xml, int want, const char *msg_part)
{
	struct domxml_domain *d;
	char err[DOMXML_ERR_MAX];
	int r = parse_str(xml, &d, err);

	assert_int_equal(r, want);
	assert_null(d);
	if (!strstr(err, msg_part)) {
		fprintf(stderr, "error '%s' lacks '%s'\n", err, msg_part);
		fail();
	}
}

static void test_malformed(void **state)
{
	struct domxml_domain *d = (void *)1;
	char err[DOMXML_ERR_MAX];

	assert_int_equal(domxml_parse(NULL, 0, &d, err, sizeof(err)), -EINVAL);
	assert_int_equal(domxml_parse("", 0, &d, err, sizeof(err)), -EINVAL);
	assert_int_equal(domxml_parse("<domain", 7, &d, NULL, 0), -EINVAL);
	expect_fail("not xml at all", -EINVAL, "malformed domain XML: line 1");
	expect_fail("<domain><name>a</name>" UUID, -EINVAL, "malformed");
	expect_fail("<domain><name>a</name>" UUID "</domian>", -EINVAL, "malformed");
	expect_fail("<network><name>a</name>" UUID "</network>", -EINVAL, "not <domain>");
	expect_fail("<x:domain xmlns:x='urn:x'><name>a</name>" UUID "</x:domain>", -EINVAL,
		    "not <domain>");
	expect_fail("<domain>" UUID "</domain>", -EINVAL, "no <name>");
	expect_fail("<domain><name>  </name>" UUID "</domain>", -EINVAL, "empty domain name");
	expect_fail("<domain><name>a</name></domain>", -EINVAL, "has no <uuid>");
	expect_fail("<domain><name>a</name><uuid>1234</uuid></domain>", -EINVAL,
		    "malformed uuid '1234'");
	expect_fail("<domain id='x'><name>a</name>" UUID "</domain>", -EINVAL, "domain id");
	expect_fail("<domain id='99999999999'><name>a</name>" UUID "</domain>", -EINVAL,
		    "domain id");
	/* entity expansion is refused outright */
	expect_fail("<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY a 'aaaaaaaa'>"
		    "<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;'>]>"
		    "<domain><name>&b;</name>" UUID "</domain>",
		    -EINVAL, "DOCTYPE");
	expect_fail("<?xml version='1.0'?><!DOCTYPE domain SYSTEM 'http://example.com/x.dtd'>"
		    "<domain><name>a</name>" UUID "</domain>",
		    -EINVAL, "DOCTYPE");
	(void)state;
}

static void test_bounds(void **state)
{
	struct domxml_domain *d;
	char err[DOMXML_ERR_MAX];
	size_t n = DOMXML_XML_MAX + 1, off;
	char *big = malloc(n + 1), *p;
	int k;

	assert_non_null(big);
	memset(big, ' ', n);
	big[n] = 0;
	assert_int_equal(domxml_parse(big, n, &d, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "too large"));

	/* a name of DOMXML_NAME_MAX bytes does not fit */
	off = (size_t)sprintf(big, "<domain><name>");
	memset(big + off, 'n', DOMXML_NAME_MAX);
	off += DOMXML_NAME_MAX;
	off += (size_t)sprintf(big + off, "</name>" UUID "</domain>");
	assert_int_equal(domxml_parse(big, off, &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "name too long"));

	/* too many interfaces */
	p = big + sprintf(big, "<domain><name>a</name>" UUID "<devices>");
	for (k = 0; k <= DOMXML_IFACES_MAX; k++)
		p += sprintf(p, "<interface type='user'/>");
	p += sprintf(p, "</devices></domain>");
	assert_int_equal(domxml_parse(big, (size_t)(p - big), &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too many interfaces"));

	/* deep nesting is refused by libxml2's own limit, not by a crash */
	p = big + sprintf(big, "<domain><name>a</name>" UUID);
	for (k = 0; k < 5000; k++)
		p += sprintf(p, "<x>");
	for (k = 0; k < 5000; k++)
		p += sprintf(p, "</x>");
	p += sprintf(p, "</domain>");
	assert_int_equal(domxml_parse(big, (size_t)(p - big), &d, err, sizeof(err)), -EINVAL);
	free(big);
	(void)state;
}

static void test_odd_interfaces(void **state)
{
	struct domxml_domain *d;
	char err[DOMXML_ERR_MAX];

	assert_int_equal(
		parse_str("<domain type='kvm'><name>a</name>" UUID "<devices>"
			  "<interface type='direct'><source dev='averyveryverylongname0'/>"
			  "<mac address='52:54:00:00:00:01'/></interface>"
			  "<interface type='direct'><mac address='52:54:00:00:00:0g'/>"
			  "<source dev='eth0'/></interface>"
			  "<interface type='direct'><source dev='eth0'/></interface>"
			  "<interface type='direct'><mac address='52:54:00:00:00:04'/>"
			  "<source dev='eth0'/><driver queues='0'/></interface>"
			  "<interface type='vhostuser'><mac address='52:54:00:00:00:05'/>"
			  "<source type='unix' path='/x' mode='client'/></interface>"
			  "<interface><mac address='52:54:00:00:00:06'/></interface>"
			  "<interface type='direct'><mac address='52:54:00:00:00:07'/>"
			  "<source network='n' dev='eth1' mode='passthrough'/>"
			  "<driver queues='8'/></interface>"
			  "</devices></domain>",
			  &d, err),
		0);
	assert_int_equal(d->n_ifaces, 7);
	assert_string_equal(d->ifaces[0].problem, "source dev name too long");
	assert_false(domxml_iface_is_macvtap(&d->ifaces[0]));
	assert_string_equal(d->ifaces[1].problem, "malformed MAC address");
	assert_false(d->ifaces[1].has_mac);
	assert_string_equal(d->ifaces[2].problem, "no MAC address");
	assert_string_equal(d->ifaces[3].problem, "malformed driver queues");
	assert_int_equal(d->ifaces[4].type, DOMXML_IFACE_VHOSTUSER);
	assert_int_equal(d->ifaces[4].mode, DOMXML_MODE_OTHER);
	assert_false(domxml_iface_is_macvtap(&d->ifaces[4]));
	assert_int_equal(d->ifaces[5].type, DOMXML_IFACE_OTHER);
	assert_string_equal(d->ifaces[5].type_name, "");
	/* a network with forward mode passthrough: live XML says direct */
	assert_true(domxml_iface_is_macvtap(&d->ifaces[6]));
	assert_string_equal(d->ifaces[6].network, "n");
	assert_int_equal(d->ifaces[6].queues, 8);
	assert_int_equal(d->id, -1);
	domxml_free(d);
	(void)state;
}

/* --- metadata variants ---------------------------------------------------------------- */

static struct domxml_domain *with_meta(const char *meta)
{
	struct domxml_domain *d;
	char xml[4096], err[DOMXML_ERR_MAX];

	snprintf(xml, sizeof(xml),
		 "<domain><name>m</name>" UUID "<metadata>%s</metadata><devices>"
		 "<interface type='direct'><mac address='52:54:00:00:00:01'/>"
		 "<source dev='eth0' mode='bridge'/></interface></devices></domain>",
		 meta);
	if (parse_str(xml, &d, err) < 0) {
		fprintf(stderr, "%s\n", err);
		fail();
	}
	return d;
}

#define NS "xmlns:zcrx='" DOMXML_NS "'"

static void expect_meta_invalid(const char *meta, const char *msg_part)
{
	struct domxml_domain *d = with_meta(meta);

	assert_int_equal(d->meta.state, DOMXML_META_INVALID);
	assert_int_equal(d->meta.n_nics, 0);
	assert_null(d->meta.nics);
	if (!strstr(d->meta.error, msg_part)) {
		fprintf(stderr, "meta error '%s' lacks '%s'\n", d->meta.error, msg_part);
		fail();
	}
	domxml_free(d);
}

static void test_metadata_variants(void **state)
{
	struct domxml_domain *d;

	/* other namespaces are not ours */
	d = with_meta("<other:config xmlns:other='urn:other'><other:nic mac='x'/></other:config>");
	assert_int_equal(d->meta.state, DOMXML_META_ABSENT);
	domxml_free(d);
	/* unprefixed element in no namespace: absent */
	d = with_meta("<config><nic mac='52:54:00:00:00:01'/></config>");
	assert_int_equal(d->meta.state, DOMXML_META_ABSENT);
	domxml_free(d);
	/* any prefix bound to our namespace works, also a default namespace */
	d = with_meta("<z:config xmlns:z='" DOMXML_NS "'><z:nic mac='52:54:00:00:00:01' "
		      "queues='64' enable='no'/><!-- c --></z:config>");
	assert_int_equal(d->meta.state, DOMXML_META_VALID);
	assert_int_equal(d->meta.nics[0].queues, 64);
	assert_false(d->meta.nics[0].enable);
	domxml_free(d);
	d = with_meta("<config xmlns='" DOMXML_NS "'><nic mac='52:54:00:00:00:01'/></config>");
	assert_int_equal(d->meta.state, DOMXML_META_VALID);
	assert_int_equal(d->meta.n_nics, 1);
	assert_true(d->meta.nics[0].enable);
	domxml_free(d);
	/* empty config is valid: it opts in with no vNIC */
	d = with_meta("<zcrx:config " NS "/>");
	assert_int_equal(d->meta.state, DOMXML_META_VALID);
	assert_int_equal(d->meta.n_nics, 0);
	domxml_free(d);
	/* foreign namespaced attributes are tolerated */
	d = with_meta("<zcrx:config " NS " xmlns:o='urn:o' o:x='1'>"
		      "<zcrx:nic o:y='2' mac='52:54:00:00:00:01'/></zcrx:config>");
	assert_int_equal(d->meta.state, DOMXML_META_VALID);
	domxml_free(d);

	expect_meta_invalid("<zcrx:config " NS "><zcrx:nic queues='2'/></zcrx:config>",
			    "mac= is required");
	expect_meta_invalid("<zcrx:config " NS "><zcrx:nic mac='52:54:00:00:00:01' queues='0'/>"
			    "</zcrx:config>",
			    "invalid queues='0' (expected 1 to 64)");
	expect_meta_invalid("<zcrx:config " NS "><zcrx:nic mac='52:54:00:00:00:01' "
			    "queues='65'/></zcrx:config>",
			    "queues='65'");
	expect_meta_invalid("<zcrx:config " NS "><zcrx:nic mac='52:54:00:00:00:01' "
			    "queues='-1'/></zcrx:config>",
			    "queues='-1'");
	expect_meta_invalid("<zcrx:config " NS "><zcrx:nic mac='52:54:00:00:00:01' "
			    "queues=' 2'/></zcrx:config>",
			    "queues=' 2'");
	expect_meta_invalid("<zcrx:config " NS "><zcrx:nic mac='52:54:00:00:00:01' "
			    "enable='maybe'/></zcrx:config>",
			    "enable='maybe' (expected yes or no)");
	expect_meta_invalid("<zcrx:config " NS "><zcrx:nic mac='52:54:00:00:00:01' "
			    "mode='rx-only'/></zcrx:config>",
			    "unknown attribute 'mode'");
	expect_meta_invalid("<zcrx:config " NS " version='2'/>", "unknown attribute 'version'");
	expect_meta_invalid("<zcrx:config " NS "><zcrx:vnic mac='52:54:00:00:00:01'/>"
			    "</zcrx:config>",
			    "unknown element 'vnic'");
	expect_meta_invalid("<zcrx:config " NS "><nic mac='52:54:00:00:00:01'/></zcrx:config>",
			    "unknown element 'nic'");
	expect_meta_invalid("<zcrx:config " NS ">text</zcrx:config>", "unexpected text");
	expect_meta_invalid("<zcrx:config " NS "><zcrx:nic mac='52:54:00:00:00:01'>x</zcrx:nic>"
			    "</zcrx:config>",
			    "must be empty");
	expect_meta_invalid("<zcrx:config " NS "><zcrx:nic mac='52:54:00:00:00:01'/>"
			    "<zcrx:nic mac='52:54:00:00:00:01'/></zcrx:config>",
			    "nic #2: mac='52:54:00:00:00:01' appears twice");
	expect_meta_invalid("<zcrx:config " NS "><zcrx:nic mac='01:54:00:00:00:01'/>"
			    "</zcrx:config>",
			    "multicast");
	expect_meta_invalid("<zcrx:config " NS "/><zcrx:config " NS "/>", "more than one");
	expect_meta_invalid("<zcrx:config " NS "><zcrx:nic mac='\xc3\xa9'/></zcrx:config>",
			    "invalid mac='?" "?'");
	(void)state;
}

static void test_metadata_too_many(void **state)
{
	char *meta = malloc(64 * 1024), *p = meta;
	int k;

	assert_non_null(meta);
	p += sprintf(p, "<zcrx:config " NS ">");
	for (k = 0; k <= DOMXML_META_NICS_MAX; k++)
		p += sprintf(p, "<zcrx:nic mac='52:54:00:00:%02x:%02x'/>", k >> 8, k & 0xff);
	sprintf(p, "</zcrx:config>");
	{
		struct domxml_domain *d;
		char xml[64 * 1024 + 512], err[DOMXML_ERR_MAX];

		snprintf(xml, sizeof(xml), "<domain><name>m</name>" UUID "<metadata>%s</metadata>"
			 "</domain>", meta);
		assert_int_equal(parse_str(xml, &d, err), 0);
		assert_int_equal(d->meta.state, DOMXML_META_INVALID);
		assert_non_null(strstr(d->meta.error, "too many"));
		domxml_free(d);
	}
	free(meta);
	(void)state;
}

/* --- NUMA hints ------------------------------------------------------------------------- */

static void test_numa(void **state)
{
	struct domxml_domain *d;
	char err[DOMXML_ERR_MAX];

	assert_int_equal(parse_str("<domain><name>n</name>" UUID
				   "<vcpu placement='static' cpuset='4-7,^5'>2</vcpu>"
				   "<numatune><memory mode='strict' nodeset='1,3'/></numatune>"
				   "</domain>",
				   &d, err),
			 0);
	assert_true(d->numa.has_memory_nodes);
	assert_int_equal(d->numa.memory_nodes, 0xa);
	assert_string_equal(d->numa.memory_mode, "strict");
	assert_true(d->numa.has_cpus);
	assert_int_equal(d->numa.cpus[0], 0xd0);
	domxml_free(d);

	/* vcpupin wins over vcpu cpuset; out-of-range hints are reported */
	assert_int_equal(parse_str("<domain><name>n</name>" UUID
				   "<vcpu cpuset='0'>2</vcpu><cputune>"
				   "<vcpupin vcpu='0' cpuset='1000'/><vcpupin vcpu='1' cpuset='1-2'/>"
				   "<vcpupin vcpu='1' cpuset='5000'/></cputune>"
				   "<numatune><memory nodeset='64'/></numatune></domain>",
				   &d, err),
			 0);
	assert_false(d->numa.has_memory_nodes);
	assert_non_null(strstr(d->numa.problem, "numatune nodeset '64'"));
	assert_true(d->numa.has_cpus);
	assert_true(cpu_set(&d->numa, 1000));
	assert_true(cpu_set(&d->numa, 2));
	assert_false(cpu_set(&d->numa, 0));
	domxml_free(d);
	(void)state;
}

/* The paths read, as XPath selects them: every <devices> of the domain,
 * in document order; elements of another namespace (or none where the
 * zcrx namespace is wanted) are not what they are named; the first
 * <numatune><memory> and the first <vcpu> count; every <cputune>'s pins;
 * two <zcrx:config>, also in two <metadata>, are one too many. */
static void test_paths(void **state)
{
	struct domxml_domain *d;
	char err[DOMXML_ERR_MAX];

	assert_int_equal(
		parse_str("<domain><name>p</name>" UUID
			  "<devices/><devices><x:interface xmlns:x='urn:x' type='direct'/>"
			  "<interface type='direct'><mac address='52:54:00:00:00:01'/></interface>"
			  "</devices><x:devices xmlns:x='urn:x'><interface type='bridge'/></x:devices>"
			  "<devices><interface type='bridge'><mac address='52:54:00:00:00:02'/>"
			  "</interface></devices>"
			  "<metadata><config/><zcrx:config " NS "><zcrx:nic mac='52:54:00:00:00:01'/>"
			  "</zcrx:config></metadata>"
			  "<numatune/><numatune><memory mode='strict' nodeset='2'/></numatune>"
			  "<numatune><memory mode='interleave' nodeset='3'/></numatune>"
			  "<cputune><vcpupin vcpu='0' cpuset='1'/></cputune>"
			  "<cputune><vcpupin vcpu='1' cpuset='3'/></cputune>"
			  "<x:vcpu xmlns:x='urn:x' cpuset='9'>1</x:vcpu><vcpu cpuset='8'>1</vcpu>"
			  "</domain>",
			  &d, err),
		0);
	assert_int_equal(d->n_ifaces, 2);
	assert_int_equal(d->ifaces[0].type, DOMXML_IFACE_DIRECT);
	assert_int_equal(d->ifaces[1].type, DOMXML_IFACE_BRIDGE);
	assert_int_equal(d->ifaces[1].index, 1);
	assert_int_equal(d->meta.state, DOMXML_META_VALID);
	assert_int_equal(d->meta.n_nics, 1);
	assert_string_equal(d->numa.memory_mode, "strict");
	assert_int_equal(d->numa.memory_nodes, 0x4);
	assert_true(cpu_set(&d->numa, 1) && cpu_set(&d->numa, 3));
	assert_false(cpu_set(&d->numa, 8));
	domxml_free(d);

	/* no pins: the first <vcpu> of no namespace */
	assert_int_equal(parse_str("<domain><name>p</name>" UUID
				   "<x:vcpu xmlns:x='urn:x' cpuset='9'>1</x:vcpu>"
				   "<vcpu cpuset='8'>1</vcpu><vcpu cpuset='7'>1</vcpu></domain>",
				   &d, err),
			 0);
	assert_true(cpu_set(&d->numa, 8));
	assert_false(cpu_set(&d->numa, 9) || cpu_set(&d->numa, 7));
	domxml_free(d);

	assert_int_equal(parse_str("<domain><name>p</name>" UUID
				   "<metadata><zcrx:config " NS "/></metadata>"
				   "<metadata><zcrx:config " NS "/></metadata></domain>",
				   &d, err),
			 0);
	assert_int_equal(d->meta.state, DOMXML_META_INVALID);
	assert_non_null(strstr(d->meta.error, "more than one"));
	domxml_free(d);
	(void)state;
}

static void test_bitmap(void **state)
{
	uint64_t b[2];

	assert_int_equal(domxml_parse_bitmap("0-3,^2,8", b, 128), 0);
	assert_int_equal(b[0], 0x10b);
	assert_int_equal(b[1], 0);
	assert_int_equal(domxml_parse_bitmap("127", b, 128), 0);
	assert_int_equal(b[1], UINT64_C(1) << 63);
	assert_int_equal(domxml_parse_bitmap(" 1 , 2 ", b, 128), 0);
	assert_int_equal(b[0], 6);
	assert_int_equal(domxml_parse_bitmap("128", b, 128), -ERANGE);
	assert_int_equal(domxml_parse_bitmap("99999999999", b, 128), -ERANGE);
	assert_int_equal(domxml_parse_bitmap("3-1", b, 128), -EINVAL);
	assert_int_equal(domxml_parse_bitmap("", b, 128), -EINVAL);
	assert_int_equal(domxml_parse_bitmap("1,", b, 128), -EINVAL);
	assert_int_equal(domxml_parse_bitmap("a", b, 128), -EINVAL);
	assert_int_equal(domxml_parse_bitmap("^1-2", b, 128), -EINVAL);
	assert_int_equal(domxml_parse_bitmap("1--2", b, 128), -EINVAL);
	(void)state;
}

static void test_mac_uuid(void **state)
{
	uint8_t m[6], u[16];
	char buf[37];

	assert_int_equal(nic_mac_parse("52:54:00:AB:cd:0F", m), 0);
	assert_string_equal(nic_mac_format(m, buf), "52:54:00:ab:cd:0f");
	assert_int_equal(nic_mac_parse("52:54:00:ab:cd:0", m), -EINVAL);
	assert_int_equal(nic_mac_parse("52-54-00-ab-cd-0f", m), -EINVAL);
	assert_int_equal(nic_mac_parse("52:54:00:ab:cd:0fx", m), -EINVAL);
	assert_int_equal(nic_mac_parse("+2:54:00:ab:cd:0f", m), -EINVAL);
	assert_int_equal(nic_mac_parse(NULL, m), -EINVAL);
	/* the one parser of domain XML, Varlink and state.json: no sign, space
	 * or short pair that sscanf("%2x") would take (issue 10 item 11) */
	memset(m, 0x11, sizeof(m));
	assert_int_equal(nic_mac_parse("-2:00:00:00:00:01", m), -EINVAL);
	assert_int_equal(nic_mac_parse("52:54:00:ab:cd:-1", m), -EINVAL);
	assert_int_equal(nic_mac_parse(" 2:54:00:ab:cd:0f", m), -EINVAL);
	assert_int_equal(nic_mac_parse("52: 4:00:ab:cd:0f", m), -EINVAL);
	assert_int_equal(nic_mac_parse("52:54:00:ab:cd: f", m), -EINVAL);
	assert_int_equal(nic_mac_parse("52:54:00:ab:cd:+f", m), -EINVAL);
	assert_int_equal(nic_mac_parse("0x:54:00:ab:cd:0f", m), -EINVAL);
	assert_int_equal(nic_mac_parse("52:54:00:ab:cd:0f\n", m), -EINVAL);
	assert_int_equal(nic_mac_parse("52:54:00:ab:cd:g0", m), -EINVAL);
	assert_int_equal(nic_mac_parse("52:54:00:ab:cd:0f:", m), -EINVAL);
	assert_int_equal(nic_mac_parse("52:54:00:ab:cd", m), -EINVAL);
	for (size_t k = 0; k < sizeof(m); k++) /* a refusal writes nothing */
		assert_int_equal(m[k], 0x11);
	assert_int_equal(nic_mac_parse("FE:ff:00:00:00:01", m), 0);
	assert_string_equal(nic_mac_format(m, buf), "fe:ff:00:00:00:01");

	assert_int_equal(domxml_uuid_parse("5A1B0000-0000-4000-8000-0000000010A0", u), 0);
	assert_string_equal(domxml_uuid_format(u, buf), "5a1b0000-0000-4000-8000-0000000010a0");
	assert_int_equal(domxml_uuid_parse("5a1b0000000040008000000000001 0a0", u), -EINVAL);
	assert_int_equal(domxml_uuid_parse("5a1b00000000400080000000000010a0", u), 0);
	assert_string_equal(domxml_uuid_format(u, buf), "5a1b0000-0000-4000-8000-0000000010a0");
	assert_int_equal(domxml_uuid_parse("5a1b0000-0000-4000-8000_0000000010a0", u), -EINVAL);
	assert_int_equal(domxml_uuid_parse("5a1b0000-0000-4000-8000-0000000010ag", u), -EINVAL);
	(void)state;
}

/* The UUID text is what snprintf's "%02x" x 16 with dashes wrote (the
 * formatter it replaced), for every byte value in every position and
 * many pseudo-random UUIDs; it fills exactly 37 bytes and reads back. */
static void test_uuid_format_many(void **state)
{
	uint8_t u[16], back[16];
	char got[40], want[40];
	uint64_t x = 42;

	for (int k = 0; k < 20000; k++) {
		for (int i = 0; i < 16; i++) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			u[i] = (uint8_t)(x >> 56);
		}
		if (k < 16 * 256) /* every value in every position, the rest 0 */
			for (int i = 0; i < 16; i++)
				u[i] = i == k / 256 ? (uint8_t)(k % 256) : 0;
		snprintf(want, sizeof(want),
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
			 u[12], u[13], u[14], u[15]);
		memset(got, '#', sizeof(got));
		assert_ptr_equal(domxml_uuid_format(u, got), got);
		assert_string_equal(got, want);
		assert_int_equal(got[37], '#'); /* 36 characters and the NUL only */
		assert_int_equal(domxml_uuid_parse(got, back), 0);
		assert_memory_equal(back, u, 16);
	}
	(void)state;
}

static void test_copy(void **state)
{
	struct domxml_domain *d = parse_fixture("vm0-live.xml"), *c = NULL;

	assert_int_equal(domxml_copy(d, &c), 0);
	assert_ptr_not_equal(c->ifaces, d->ifaces);
	assert_ptr_not_equal(c->meta.nics, d->meta.nics);
	assert_int_equal(memcmp(c->ifaces, d->ifaces, d->n_ifaces * sizeof(*d->ifaces)), 0);
	assert_int_equal(c->meta.n_nics, 3);
	domxml_free(d);
	assert_string_equal(c->ifaces[3].target_dev, "macvtap1");
	domxml_free(c);
	assert_null(domxml_free(NULL));
	(void)state;
}

/* One parser over many parses (past its reuse bound, with a failed parse in
 * between and new names each time) gives what a fresh parse gives. */
static void test_parser_reuse(void **state)
{
	struct domxml_parser *p = domxml_parser_new();
	struct domxml_domain *one, *d;
	char err[DOMXML_ERR_MAX], xml[512];
	size_t len;
	char *live = fixture_read("libvirt", "vm0-live.xml", &len);
	unsigned i;

	assert_non_null(p);
	assert_non_null(live);
	one = parse_fixture("vm0-live.xml");
	for (i = 0; i < 600; i++) {
		d = NULL;
		assert_int_equal(domxml_parser_parse(p, live, len, &d, err, sizeof(err)), 0);
		assert_string_equal(d->name, one->name);
		assert_int_equal(d->n_ifaces, one->n_ifaces);
		assert_int_equal(memcmp(d->ifaces, one->ifaces, d->n_ifaces * sizeof(*d->ifaces)),
				 0);
		assert_int_equal(d->meta.n_nics, one->meta.n_nics);
		domxml_free(d);
		/* a name never seen before, in an element and an attribute */
		snprintf(xml, sizeof(xml),
			 "<domain><name>n%u</name>" UUID "<x%u a%u='%u'/></domain>", i, i, i, i);
		assert_int_equal(domxml_parser_parse(p, xml, strlen(xml), &d, err, sizeof(err)),
				 0);
		snprintf(xml, sizeof(xml), "n%u", i);
		assert_string_equal(d->name, xml);
		domxml_free(d);
		if (i % 97 == 0) {
			d = (void *)1;
			assert_int_equal(domxml_parser_parse(p, "<domain", 7, &d, err, sizeof(err)),
					 -EINVAL);
			assert_non_null(strstr(err, "malformed"));
		}
	}
	domxml_free(one);
	free(live);
	assert_null(domxml_parser_free(p));
	assert_null(domxml_parser_free(NULL));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_vm0),
		cmocka_unit_test(test_hook_fixtures),
		cmocka_unit_test(test_passthrough_and_numatune),
		cmocka_unit_test(test_invalid_metadata_fixture),
		cmocka_unit_test(test_testdriver_fixture),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_odd_interfaces),
		cmocka_unit_test(test_metadata_variants),
		cmocka_unit_test(test_metadata_too_many),
		cmocka_unit_test(test_numa),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_bitmap),
		cmocka_unit_test(test_mac_uuid),
		cmocka_unit_test(test_uuid_format_many),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_parser_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
