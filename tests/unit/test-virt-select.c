// SPDX-License-Identifier: MIT
/*
 * Unit tests for the vNIC selection policy over the captured libvirt XML.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "virt-select.h"

static struct domxml_domain *load(const char *name)
{
	struct domxml_domain *d = NULL;
	char err[DOMXML_ERR_MAX];
	size_t len;
	char *xml = fixture_read("libvirt", name, &len);

	assert_non_null(xml);
	assert_int_equal(domxml_parse(xml, len, &d, err, sizeof(err)), 0);
	free(xml);
	return d;
}

static const uint8_t *mac(const char *s)
{
	static uint8_t m[4][6];
	static int k;

	k = (k + 1) % 4;
	assert_int_equal(nic_mac_parse(s, m[k]), 0);
	return m[k];
}

static const char *skip_for(const struct virt_selection *s, const char *m)
{
	size_t k;

	for (k = 0; k < s->n_skips; k++)
		if (s->skips[k].has_mac && !memcmp(s->skips[k].mac, mac(m), 6))
			return s->skips[k].why;
	return NULL;
}

static void test_metadata_mode(void **state)
{
	struct domxml_domain *d = load("vm0-live.xml");
	struct virt_selection s;
	const struct virt_vnic *v;

	assert_int_equal(virt_select(d, CONFIG_AUTOATTACH_METADATA, NULL, &s), 0);
	assert_int_equal(s.n, 2);
	v = virt_selection_find(&s, mac("52:54:00:7a:10:01"));
	assert_non_null(v);
	assert_string_equal(v->nic, "zxlp0");
	assert_string_equal(v->tap, "macvtap0");
	assert_int_equal(v->queues, 2);
	assert_int_equal(v->numa_node, -1);
	v = virt_selection_find(&s, mac("52:54:00:7a:10:04"));
	assert_non_null(v);
	assert_int_equal(v->queues, 4);
	assert_string_equal(v->tap, "macvtap1");
	assert_non_null(strstr(skip_for(&s, "52:54:00:7a:10:02"), "type 'bridge' is not a macvtap"));
	/* the network vNIC is rewritten to bridge while running */
	assert_non_null(strstr(skip_for(&s, "52:54:00:7a:10:03"), "not a macvtap"));
	virt_selection_clear(&s);
	domxml_free(d);
	(void)state;
}

static void test_direct_and_none(void **state)
{
	struct domxml_domain *d = load("vm0-live.xml");
	struct virt_selection s;

	assert_int_equal(virt_select(d, CONFIG_AUTOATTACH_DIRECT, NULL, &s), 0);
	assert_int_equal(s.n, 2); /* both macvtaps; queues from metadata */
	assert_int_equal(virt_selection_find(&s, mac("52:54:00:7a:10:01"))->queues, 2);
	virt_selection_clear(&s);

	assert_int_equal(virt_select(d, CONFIG_AUTOATTACH_NONE, NULL, &s), 0);
	assert_int_equal(s.n, 0);
	assert_string_equal(skip_for(&s, "52:54:00:7a:10:01"), "AutoAttach=none: only on request");
	virt_selection_clear(&s);
	domxml_free(d);

	/* passthrough, no metadata, NUMA node 0 */
	d = load("vm1-passthrough-live.xml");
	assert_int_equal(virt_select(d, CONFIG_AUTOATTACH_METADATA, NULL, &s), 0);
	assert_int_equal(s.n, 0);
	assert_string_equal(skip_for(&s, "52:54:00:7a:11:01"),
			    "no zcrx metadata (AutoAttach=metadata)");
	virt_selection_clear(&s);
	assert_int_equal(virt_select(d, CONFIG_AUTOATTACH_DIRECT, NULL, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.vnics[0].nic, "zxlp2");
	assert_int_equal(s.vnics[0].queues, 1);
	assert_int_equal(s.vnics[0].numa_node, 0);
	virt_selection_clear(&s);
	domxml_free(d);
	(void)state;
}

static void test_invalid_metadata(void **state)
{
	struct domxml_domain *d = load("vm2-invalid-metadata-live.xml");
	struct virt_select_filter f = { .explicit_req = true, .nic = "zxlp3" };
	struct virt_selection s;

	assert_int_equal(virt_select(d, CONFIG_AUTOATTACH_DIRECT, NULL, &s), 0);
	assert_int_equal(s.n, 0);
	assert_non_null(strstr(skip_for(&s, "52:54:00:7a:12:01"), "invalid zcrx metadata: nic #1"));
	virt_selection_clear(&s);
	/* an operator's explicit request does not depend on the metadata */
	assert_int_equal(virt_select(d, CONFIG_AUTOATTACH_METADATA, &f, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.vnics[0].queues, 1);
	virt_selection_clear(&s);
	domxml_free(d);
	(void)state;
}

static void test_explicit_filters(void **state)
{
	struct domxml_domain *d = load("vm0-live.xml");
	struct virt_select_filter f = { .explicit_req = true, .nic = "zxlp0" };
	struct virt_selection s;

	/* the vNIC the metadata disables is still taken when asked for:
	 * but 10:02 is a bridge vNIC, so only the two macvtaps */
	assert_int_equal(virt_select(d, CONFIG_AUTOATTACH_NONE, &f, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.n_skips, 0); /* others are on other NICs: filtered, not skipped */
	virt_selection_clear(&s);

	f.mac = mac("52:54:00:7a:10:04");
	f.queues = 3;
	assert_int_equal(virt_select(d, CONFIG_AUTOATTACH_NONE, &f, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.vnics[0].queues, 3);
	virt_selection_clear(&s);

	f.nic = "eth9";
	assert_int_equal(virt_select(d, CONFIG_AUTOATTACH_NONE, &f, &s), 0);
	assert_int_equal(s.n, 0);
	virt_selection_clear(&s);

	f.nic = "zxlp0";
	f.queues = 65;
	assert_int_equal(virt_select(d, CONFIG_AUTOATTACH_NONE, &f, &s), 0);
	assert_int_equal(s.n, 0);
	assert_string_equal(skip_for(&s, "52:54:00:7a:10:04"), "asks for 65 queues, at most 64");
	virt_selection_clear(&s);
	domxml_free(d);
	(void)state;
}

/* Stop-time XML: macvtaps keep their lower device, not their tap name;
 * the network vNIC is type='network' again. */
static void test_stop_time_xml(void **state)
{
	struct domxml_domain *d = load("hook-stopped-end.xml");
	struct virt_selection s;

	assert_int_equal(virt_select(d, CONFIG_AUTOATTACH_METADATA, NULL, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.vnics[0].nic, "zxlp0");
	assert_string_equal(s.vnics[0].tap, "");
	assert_non_null(strstr(skip_for(&s, "52:54:00:7a:10:03"), "network 'zxl-net' vNIC without a macvtap"));
	virt_selection_clear(&s);
	domxml_free(d);
	(void)state;
}

static void test_metadata_names_missing_vnic(void **state)
{
	static const char xml[] =
		"<domain><name>x</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
		"<metadata><zcrx:config xmlns:zcrx='" DOMXML_NS "'>"
		"<zcrx:nic mac='52:54:00:00:00:09'/><zcrx:nic mac='52:54:00:00:00:01' queues='2'/>"
		"</zcrx:config></metadata><devices>"
		"<interface type='direct'><mac address='52:54:00:00:00:01'/>"
		"<source dev='eth0' mode='passthrough'/><driver queues='8'/></interface>"
		"</devices></domain>";
	struct domxml_domain *d = NULL;
	struct virt_selection s;

	assert_int_equal(domxml_parse(xml, sizeof(xml) - 1, &d, NULL, 0), 0);
	assert_int_equal(virt_select(d, CONFIG_AUTOATTACH_METADATA, NULL, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.vnics[0].queues, 2); /* metadata beats <driver queues> */
	assert_non_null(strstr(skip_for(&s, "52:54:00:00:00:09"), "no such vNIC"));
	virt_selection_clear(&s);
	/* without metadata queues, <driver queues> counts */
	assert_int_equal(virt_select(d, CONFIG_AUTOATTACH_DIRECT,
				     &(struct virt_select_filter){ .explicit_req = true }, &s),
			 0);
	assert_int_equal(s.vnics[0].queues, 2);
	virt_selection_clear(&s);
	domxml_free(d);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metadata_mode),
		cmocka_unit_test(test_direct_and_none),
		cmocka_unit_test(test_invalid_metadata),
		cmocka_unit_test(test_explicit_filters),
		cmocka_unit_test(test_stop_time_xml),
		cmocka_unit_test(test_metadata_names_missing_vnic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
