// SPDX-License-Identifier: MIT
/*
 * virt-follow over the real libvirt code path (virt.c, test driver
 * test:///default in this process) and over captured hook XML: lifecycle
 * events, metadata changes, resyncs, hook and operator requests must end in
 * the right attach/detach calls, and hook + events in one attachment.
 *
 * The attachment layer is recorded here (a stand-in for the manager's sink,
 * which the libvirt tiers exercise for real).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>

#include "deadline.h"
#include "fixture.h"
#include "virt-follow.h"

struct call {
	char op; /* 'a' attach, 'd' detach, 'p' prune */
	char name[64];
	char uuid[37];
	struct virt_vnic v;
	bool all;
	enum virt_origin origin;
	size_t n_prune;
};

static struct {
	sd_event *ev;
	virConnectPtr drv;
	struct call calls[512];
	int n;
	int fail_attach; /* make the next attach fail */
	uint8_t fail_mac[6]; /* refuse every attach of this vNIC (all zero: none) */
	int batch_open, batches;
} T;

static int s_attach(void *ud, const struct virt_domain_ref *dom, const struct virt_vnic *v,
		    enum virt_origin origin, char *err, size_t errlen)
{
	struct call *c = &T.calls[T.n < 512 ? T.n++ : 511];

	memset(c, 0, sizeof(*c));
	c->op = 'a';
	snprintf(c->name, sizeof(c->name), "%s", dom->name);
	snprintf(c->uuid, sizeof(c->uuid), "%s", dom->uuid);
	c->v = *v;
	c->origin = origin;
	if (T.fail_attach) {
		T.fail_attach = 0;
		snprintf(err, errlen, "zxlp0: no such NIC");
		return -ENODEV;
	}
	if (!memcmp(v->mac, T.fail_mac, 6)) {
		snprintf(err, errlen, "zxlp1: pool exhausted");
		return -ENOSPC;
	}
	return 0;
}

static int s_detach(void *ud, const struct virt_domain_ref *dom, const uint8_t *mac,
		    const char *nic, enum virt_origin origin, char *err, size_t errlen)
{
	struct call *c = &T.calls[T.n < 512 ? T.n++ : 511];

	memset(c, 0, sizeof(*c));
	c->op = 'd';
	snprintf(c->name, sizeof(c->name), "%s", dom->name);
	snprintf(c->uuid, sizeof(c->uuid), "%s", dom->uuid);
	c->all = !mac;
	if (mac)
		memcpy(c->v.mac, mac, 6);
	if (nic)
		snprintf(c->v.nic, sizeof(c->v.nic), "%s", nic);
	c->origin = origin;
	return 1;
}

static void s_prune(void *ud, const char *const *uuids, size_t n)
{
	struct call *c = &T.calls[T.n < 512 ? T.n++ : 511];

	memset(c, 0, sizeof(*c));
	c->op = 'p';
	c->n_prune = n;
}

static void s_batch(void *ud, bool begin)
{
	if (begin)
		T.batch_open++;
	else
		T.batch_open = 0;
	T.batches += !begin;
}

static const struct virt_sink SINK = { s_attach, s_detach, s_prune, s_batch };

static int count(char op, const char *name)
{
	int k, n = 0;

	for (k = 0; k < T.n; k++)
		n += T.calls[k].op == op && (!name || !strcmp(T.calls[k].name, name));
	return n;
}

struct want {
	char op;
	const char *name;
	int n;
};

static bool have(void *arg)
{
	const struct want *w = arg;

	return count(w->op, w->name) >= w->n;
}

static bool run_until(bool (*cond)(void *), void *arg, unsigned ms)
{
	int r = deadline_run_until(T.ev, cond, arg, ms, 20);

	assert_true(r >= 0);
	return r > 0;
}

/* Let queued libvirt work drain: run the loop for a while. */
static void settle(unsigned ms)
{
	(void)deadline_run_for(T.ev, ms, 5);
}

static const struct call *last(char op, const char *name)
{
	int k;

	for (k = T.n - 1; k >= 0; k--)
		if (T.calls[k].op == op && (!name || !strcmp(T.calls[k].name, name)))
			return &T.calls[k];
	return NULL;
}

static const char *dom_xml(const char *name, const char *nic_meta)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf),
		 "<domain type='test'><name>%s</name><memory>65536</memory>"
		 "<os><type>hvm</type></os>"
		 "<metadata><zcrx:config xmlns:zcrx='" DOMXML_NS "'>%s</zcrx:config></metadata>"
		 "<devices><interface type='direct'><mac address='52:54:00:88:00:01'/>"
		 "<source dev='zxlp0' mode='bridge'/></interface>"
		 "<interface type='bridge'><mac address='52:54:00:88:00:02'/>"
		 "<source bridge='br0'/></interface></devices></domain>",
		 name, nic_meta);
	return buf;
}

static int group_setup(void **state)
{
	assert_int_equal(sd_event_new(&T.ev), 0);
	assert_int_equal(virt_global_init(T.ev), 0);
	T.drv = virConnectOpen("test:///default");
	assert_non_null(T.drv);
	return 0;
}

static int group_teardown(void **state)
{
	virConnectClose(T.drv);
	settle(20);
	sd_event_unref(T.ev);
	return 0;
}

static int reset(void **state)
{
	T.n = 0;
	T.fail_attach = 0;
	memset(T.fail_mac, 0, sizeof(T.fail_mac));
	return 0;
}

static struct virt_follow *follow(const char *uri, enum config_autoattach mode)
{
	struct virt_follow_options o = { .uri = uri, .autoattach = mode };
	struct virt_follow *f;

	assert_int_equal(virt_follow_new(T.ev, &o, &SINK, NULL, &f), 0);
	if (uri)
		assert_true(run_until(have, &(struct want){ 'p', NULL, 1 }, 5000)); /* first resync */
	return f;
}

/* What virt_follow_reevaluate(f, why) logs (to stderr in these tests). */
static char *logged_reevaluate(struct virt_follow *f, const char *why)
{
	FILE *t = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *text;
	long n;

	assert_non_null(t);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(t), STDERR_FILENO) >= 0);
	virt_follow_reevaluate(f, why);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	n = ftell(t);
	assert_true(n >= 0);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	rewind(t);
	assert_int_equal(fread(text, 1, (size_t)n, t), (size_t)n);
	fclose(t);
	fputs(text, stderr); /* still shown */
	return text;
}

/* Events: start attaches the opted-in vNIC with its tap; destroy detaches. */
static void test_events_start_destroy(void **state)
{
	struct virt_follow *f = follow("test:///default", CONFIG_AUTOATTACH_METADATA);
	struct virt_follow_stats st;
	virDomainPtr d;
	const struct call *c;
	char m[18];

	d = virDomainDefineXML(T.drv, dom_xml("zf-a", "<zcrx:nic mac='52:54:00:88:00:01' "
						      "queues='2'/>"));
	assert_non_null(d);
	assert_int_equal(virDomainCreate(d), 0);
	assert_true(run_until(have, &(struct want){ 'a', "zf-a", 1 }, 5000));
	c = last('a', "zf-a");
	assert_string_equal(nic_mac_format(c->v.mac, m), "52:54:00:88:00:01");
	assert_string_equal(c->v.nic, "zxlp0");
	assert_string_equal(c->v.tap, "testnet0");
	assert_int_equal(c->v.queues, 2);
	assert_int_equal(c->origin, VIRT_ORIGIN_EVENT);
	assert_string_equal(virt_follow_domain_state(f, c->uuid), "running");
	assert_string_equal(virt_follow_domain_state(f, "zf-a"), "running");

	/* suspend/resume: nothing changes */
	assert_int_equal(virDomainSuspend(d), 0);
	assert_int_equal(virDomainResume(d), 0);
	assert_int_equal(virDomainDestroy(d), 0);
	assert_true(run_until(have, &(struct want){ 'd', "zf-a", 1 }, 5000));
	assert_int_equal(count('a', "zf-a"), 1);
	assert_true(last('d', "zf-a")->all);
	assert_string_equal(virt_follow_domain_state(f, "zf-a"), "shut off");

	/* undefined while shut off: forgotten */
	assert_int_equal(virDomainUndefine(d), 0);
	virDomainFree(d);
	settle(50);
	assert_null(virt_follow_domain_state(f, "zf-a"));

	/* results come in bursts wrapped for one commit each */
	assert_true(T.batches > 0);
	assert_int_equal(T.batch_open, 0);
	virt_follow_get_stats(f, &st);
	assert_true(st.events >= 4);
	assert_int_equal(st.lat_n, 1);
	assert_true(st.lat_p99_usec > 0 && st.lat_p99_usec < 1000000);
	virt_follow_free(f);
}

/* METADATA_CHANGE re-plans: disabling the vNIC detaches it, enabling
 * attaches it again; AutoAttach=direct takes vNICs without metadata. */
static void test_metadata_change(void **state)
{
	struct virt_follow *f = follow("test:///default", CONFIG_AUTOATTACH_METADATA);
	virDomainPtr d;

	d = virDomainCreateXML(T.drv, dom_xml("zf-b", ""), 0);
	assert_non_null(d);
	settle(50);
	assert_int_equal(count('a', "zf-b"), 0); /* not opted in */

	assert_int_equal(virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT,
					      "<config><nic mac='52:54:00:88:00:01' queues='3'/></config>",
					      "zcrx", DOMXML_NS, VIR_DOMAIN_AFFECT_LIVE),
			 0);
	assert_true(run_until(have, &(struct want){ 'a', "zf-b", 1 }, 5000));
	assert_int_equal(last('a', "zf-b")->v.queues, 3);

	assert_int_equal(virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT,
					      "<config><nic mac='52:54:00:88:00:01' enable='no'/></config>",
					      "zcrx", DOMXML_NS, VIR_DOMAIN_AFFECT_LIVE),
			 0);
	assert_true(run_until(have, &(struct want){ 'd', "zf-b", 1 }, 5000));
	assert_false(last('d', "zf-b")->all);
	assert_int_equal(last('d', "zf-b")->v.mac[5], 1);

	/* policy direct: a metadata-less... the metadata still disables it */
	virt_follow_set_autoattach(f, CONFIG_AUTOATTACH_DIRECT);
	assert_int_equal(virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, NULL, "zcrx", DOMXML_NS,
					      VIR_DOMAIN_AFFECT_LIVE),
			 0);
	assert_true(run_until(have, &(struct want){ 'a', "zf-b", 2 }, 5000));
	assert_int_equal(last('a', "zf-b")->v.queues, 1);
	assert_int_equal(virDomainDestroy(d), 0);
	virDomainFree(d);
	assert_true(run_until(have, &(struct want){ 'd', "zf-b", 2 }, 5000));
	virt_follow_free(f);
}

/* zcrxd (re)starting with a domain running: the resync attaches it and
 * prunes attachments of domains that are not listed. */
static void test_resync(void **state)
{
	virDomainPtr d;
	struct virt_follow *f;
	const struct call *p;

	d = virDomainCreateXML(T.drv, dom_xml("zf-c", "<zcrx:nic mac='52:54:00:88:00:01'/>"), 0);
	assert_non_null(d);
	f = follow("test:///default", CONFIG_AUTOATTACH_METADATA);
	assert_int_equal(count('a', "zf-c"), 1);
	p = last('p', NULL);
	assert_non_null(p);
	assert_true(p->n_prune >= 2); /* "test" and zf-c */
	json_object *doms = NULL;

	assert_int_equal(virt_follow_domains_json(f, NULL, &doms), 0);

	assert_true(json_object_array_length(doms) >= 2);
	json_object_put(doms);
	json_object *st = virt_follow_status_json(f);

	assert_string_equal(json_object_get_string(json_object_object_get(st, "state")),
			    "connected");
	json_object_put(st);
	assert_int_equal(virDomainDestroy(d), 0);
	virDomainFree(d);
	assert_true(run_until(have, &(struct want){ 'd', "zf-c", 1 }, 5000));
	virt_follow_free(f);
}

/* The hook: start/begin attaches from the stdin XML alone (no libvirt at
 * all here), twice is once, stopped/end detaches. */
static void test_hook_without_libvirt(void **state)
{
	struct virt_follow *f = follow(NULL, CONFIG_AUTOATTACH_METADATA);
	struct virt_request rq = { .domain = "zxl-vm0", .origin = VIRT_ORIGIN_HOOK };
	struct virt_reply rep;
	size_t len;
	char *xml = fixture_read("libvirt", "hook-start-begin.xml", &len);
	json_object *j;

	assert_non_null(xml);
	rq.xml = xml;
	rq.xml_len = len;
	virt_follow_attach(f, &rq, &rep);
	assert_int_equal(rep.error, VIRT_REQ_OK);
	assert_int_equal(rep.sel.n, 2);
	assert_int_equal(count('a', "zxl-vm0"), 2);
	assert_string_equal(last('a', NULL)->v.tap, "macvtap1");
	assert_int_equal(last('a', NULL)->origin, VIRT_ORIGIN_HOOK);
	j = virt_reply_to_json(&rep);
	assert_int_equal(json_object_array_length(json_object_object_get(j, "vnics")), 2);
	assert_int_equal(json_object_array_length(json_object_object_get(j, "skipped")), 2);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "domain_state")),
			    "running");
	json_object_put(j);
	virt_reply_clear(&rep);

	/* started/begin (or a retry): the same answer, no second attachment */
	virt_follow_attach(f, &rq, &rep);
	assert_int_equal(rep.error, VIRT_REQ_OK);
	assert_int_equal(count('a', "zxl-vm0"), 2);
	virt_reply_clear(&rep);
	free(xml);

	/* stopped/end: no targets in that XML; everything goes */
	xml = fixture_read("libvirt", "hook-stopped-end.xml", &len);
	rq.xml = xml;
	rq.xml_len = len;
	virt_follow_detach(f, &rq, &rep);
	assert_int_equal(rep.error, VIRT_REQ_OK);
	assert_int_equal(count('d', "zxl-vm0"), 1);
	assert_true(last('d', NULL)->all);
	virt_reply_clear(&rep);
	/* release/end: already done */
	virt_follow_detach(f, &rq, &rep);
	assert_int_equal(count('d', "zxl-vm0"), 1);
	virt_reply_clear(&rep);
	free(xml);
	virt_follow_free(f);
}

static void test_operator_requests(void **state)
{
	struct virt_follow *f = follow(NULL, CONFIG_AUTOATTACH_NONE);
	struct virt_request rq = { .origin = VIRT_ORIGIN_HOOK, .domain = NULL };
	struct virt_reply rep;
	uint8_t mac[6];
	size_t len;
	char *xml = fixture_read("libvirt", "vm0-live.xml", &len);

	/* learn the domain from the hook; AutoAttach=none attaches nothing */
	rq.xml = xml;
	rq.xml_len = len;
	virt_follow_attach(f, &rq, &rep);
	assert_int_equal(rep.error, VIRT_REQ_OK);
	assert_int_equal(rep.sel.n, 0);
	assert_int_equal(count('a', NULL), 0);
	virt_reply_clear(&rep);
	free(xml);

	/* zcrxctl attach zxl-vm0 zxlp0 --mac ...:04 --queues 3 (by UUID) */
	assert_int_equal(nic_mac_parse("52:54:00:7a:10:04", mac), 0);
	rq = (struct virt_request){ .domain = "5a1b0000-0000-4000-8000-0000000010a0",
				    .nic = "zxlp0", .mac = mac, .queues = 3,
				    .origin = VIRT_ORIGIN_OPERATOR };
	virt_follow_attach(f, &rq, &rep);
	assert_int_equal(rep.error, VIRT_REQ_OK);
	assert_string_equal(rep.name, "zxl-vm0");
	assert_int_equal(count('a', "zxl-vm0"), 1);
	assert_int_equal(last('a', NULL)->v.queues, 3);
	assert_string_equal(last('a', NULL)->v.tap, "macvtap1");
	virt_reply_clear(&rep);

	/* dry run: selection only */
	rq.mac = NULL;
	rq.queues = 0;
	rq.dry_run = true;
	virt_follow_attach(f, &rq, &rep);
	assert_int_equal(rep.error, VIRT_REQ_OK);
	assert_int_equal(rep.sel.n, 2);
	assert_int_equal(count('a', NULL), 1);
	virt_reply_clear(&rep);
	rq.dry_run = false;

	/* a refusal is reported per vNIC */
	T.fail_attach = 1;
	virt_follow_attach(f, &rq, &rep);
	assert_int_equal(rep.error, VIRT_REQ_FAILED);
	assert_int_equal(rep.n_failed, 1);
	assert_non_null(strstr(rep.message, "no such NIC"));
	assert_string_equal(virt_req_error_name(rep.error), "io.zcrx.Manager.AttachFailed");
	virt_reply_clear(&rep);

	/* no vNIC on that NIC */
	rq.nic = "eth9";
	virt_follow_attach(f, &rq, &rep);
	assert_int_equal(rep.error, VIRT_REQ_NO_VNIC);
	assert_non_null(strstr(rep.message, "no macvtap vNIC on 'eth9'"));
	virt_reply_clear(&rep);

	/* unknown domain */
	rq.domain = "nosuch";
	virt_follow_attach(f, &rq, &rep);
	assert_int_equal(rep.error, VIRT_REQ_NO_SUCH_DOMAIN);
	assert_string_equal(virt_req_error_name(rep.error), "io.zcrx.Manager.NoSuchDomain");
	virt_reply_clear(&rep);

	/* XML of another domain than named */
	xml = fixture_read("libvirt", "vm1-passthrough-live.xml", &len);
	rq = (struct virt_request){ .domain = "zxl-vm0", .xml = xml, .xml_len = len,
				    .origin = VIRT_ORIGIN_OPERATOR };
	virt_follow_attach(f, &rq, &rep);
	assert_int_equal(rep.error, VIRT_REQ_INVALID_XML);
	assert_non_null(strstr(rep.message, "describes domain 'zxl-vm1'"));
	virt_reply_clear(&rep);
	rq.xml = "<domain";
	rq.xml_len = 7;
	virt_follow_attach(f, &rq, &rep);
	assert_int_equal(rep.error, VIRT_REQ_INVALID_XML);
	virt_reply_clear(&rep);
	free(xml);

	/* zcrxctl detach zxl-vm0 zxlp0 */
	rq = (struct virt_request){ .domain = "zxl-vm0", .nic = "zxlp0",
				    .origin = VIRT_ORIGIN_OPERATOR };
	virt_follow_detach(f, &rq, &rep);
	assert_int_equal(rep.error, VIRT_REQ_OK);
	assert_string_equal(last('d', NULL)->v.nic, "zxlp0");
	virt_reply_clear(&rep);
	/* detach of a domain unknown here still reaches the attachment layer */
	rq = (struct virt_request){ .domain = "leftover", .origin = VIRT_ORIGIN_OPERATOR };
	virt_follow_detach(f, &rq, &rep);
	assert_int_equal(rep.error, VIRT_REQ_OK);
	assert_string_equal(last('d', NULL)->name, "leftover");
	virt_reply_clear(&rep);
	virt_follow_free(f);
}

/* The hook attaches at start/begin; the STARTED event that follows finds
 * it done: one attachment per vNIC, not two. */
static void test_hook_then_events_once(void **state)
{
	struct virt_follow *f = follow("test:///default", CONFIG_AUTOATTACH_METADATA);
	struct virt_request rq = { .origin = VIRT_ORIGIN_HOOK };
	struct virt_reply rep;
	virDomainPtr d;
	char *xml;

	d = virDomainCreateXML(T.drv, dom_xml("zf-d", "<zcrx:nic mac='52:54:00:88:00:01'/>"), 0);
	assert_non_null(d);
	/* the hook's XML (here: read before the loop delivers the event) */
	xml = virDomainGetXMLDesc(d, 0);
	assert_non_null(xml);
	rq.domain = "zf-d";
	rq.xml = xml;
	rq.xml_len = strlen(xml);
	virt_follow_attach(f, &rq, &rep);
	assert_int_equal(rep.error, VIRT_REQ_OK);
	assert_int_equal(count('a', "zf-d"), 1);
	virt_reply_clear(&rep);
	settle(100); /* the STARTED event arrives and is handled */
	assert_int_equal(count('a', "zf-d"), 1);
	assert_int_equal(virDomainDestroy(d), 0);
	assert_true(run_until(have, &(struct want){ 'd', "zf-d", 1 }, 5000));
	/* the hook's stopped/end after the event: nothing more to do */
	virt_follow_detach(f, &rq, &rep);
	assert_int_equal(count('d', "zf-d"), 1);
	virt_reply_clear(&rep);
	free(xml);
	virDomainFree(d);
	virt_follow_free(f);
}

/* A stop handled after the domain started again is old news: no detach;
 * the new run (another domain id, new taps) is re-planned. */
static void test_stale_stop_after_restart(void **state)
{
	struct virt_follow *f = follow("test:///default", CONFIG_AUTOATTACH_METADATA);
	virDomainPtr d;

	d = virDomainDefineXML(T.drv, dom_xml("zf-e", "<zcrx:nic mac='52:54:00:88:00:01'/>"));
	assert_non_null(d);
	assert_int_equal(virDomainCreate(d), 0);
	assert_true(run_until(have, &(struct want){ 'a', "zf-e", 1 }, 5000));
	/* stop and start again before the loop sees either event */
	assert_int_equal(virDomainDestroy(d), 0);
	assert_int_equal(virDomainCreate(d), 0);
	assert_true(run_until(have, &(struct want){ 'a', "zf-e", 2 }, 5000));
	settle(50);
	assert_int_equal(count('d', "zf-e"), 0);
	assert_int_equal(count('a', "zf-e"), 2);
	assert_string_equal(virt_follow_domain_state(f, "zf-e"), "running");
	assert_int_equal(virDomainDestroy(d), 0);
	assert_true(run_until(have, &(struct want){ 'd', "zf-e", 1 }, 5000));
	assert_int_equal(virDomainUndefine(d), 0);
	virDomainFree(d);
	virt_follow_free(f);
}

static int64_t status_count(struct virt_follow *f, const char *key)
{
	json_object *o = virt_follow_status_json(f), *x;
	int64_t n;

	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, key, &x));
	n = json_object_get_int64(x);
	json_object_put(o);
	return n;
}

/* A stop is passed on without a call to libvirt (libvirt.reads stays)
 * until a hook has told about a domain; from
 * then on each stop is checked with a state read (the stop of a previous
 * run may come after the next run's hook). */
static void test_stop_read_only_with_hooks(void **state)
{
	struct virt_follow *f = follow("test:///default", CONFIG_AUTOATTACH_METADATA);
	struct virt_request rq = { .origin = VIRT_ORIGIN_HOOK, .domain = "zf-h" };
	struct virt_reply rep;
	int64_t reads, direct, hooked;
	virDomainPtr d;
	char *xml;

	d = virDomainDefineXML(T.drv, dom_xml("zf-h", "<zcrx:nic mac='52:54:00:88:00:01'/>"));
	assert_non_null(d);
	assert_int_equal(virDomainCreate(d), 0);
	assert_true(run_until(have, &(struct want){ 'a', "zf-h", 1 }, 5000));
	reads = status_count(f, "reads");
	direct = status_count(f, "direct");
	assert_true(reads >= 1); /* the start's live XML */
	assert_int_equal(virDomainDestroy(d), 0);
	assert_true(run_until(have, &(struct want){ 'd', "zf-h", 1 }, 5000));
	assert_int_equal(status_count(f, "reads"), reads);
	/* passed by the worker when the start's job was not yet marked done */
	assert_true(status_count(f, "direct") >= direct);

	/* a hook tells about the next run: its stop is read, its start not
	 * (the hook gave the run's XML) */
	hooked = status_count(f, "hooked");
	assert_int_equal(virDomainCreate(d), 0);
	xml = virDomainGetXMLDesc(d, 0);
	assert_non_null(xml);
	rq.xml = xml;
	rq.xml_len = strlen(xml);
	virt_follow_attach(f, &rq, &rep);
	assert_int_equal(rep.error, VIRT_REQ_OK);
	virt_reply_clear(&rep);
	assert_true(run_until(have, &(struct want){ 'a', "zf-h", 2 }, 5000));
	assert_int_equal(virDomainDestroy(d), 0);
	assert_true(run_until(have, &(struct want){ 'd', "zf-h", 2 }, 5000));
	assert_int_equal(status_count(f, "reads") - reads, 1); /* the stop's state */
	assert_int_equal(status_count(f, "hooked") - hooked, 1);
	assert_int_equal(virDomainUndefine(d), 0);
	free(xml);
	virDomainFree(d);
	virt_follow_free(f);
}

/* One domain, two vNICs, the second refused: the first is taken back (a
 * domain's vNICs are attached together), no latency sample is counted,
 * each vNIC says why in ListDomains and in the refused listing; after the
 * cause is gone, a re-evaluation (what a reload does) attaches both and
 * the stale reasons go. */
static json_object *one_domain(struct virt_follow *f, const char *name)
{
	json_object *doms = NULL, *d;

	assert_int_equal(virt_follow_domains_json(f, name, &doms), 0);
	assert_int_equal(json_object_array_length(doms), 1);
	d = json_object_get(json_object_array_get_idx(doms, 0));
	json_object_put(doms);
	return d;
}

/* A field of the vNIC whose MAC ends in last, NULL when absent. */
static const char *vnic_field(json_object *dom, int last, const char *key)
{
	json_object *vs = json_object_object_get(dom, "vnics"), *x;
	uint8_t m[6];
	size_t k;

	for (k = 0; k < json_object_array_length(vs); k++) {
		json_object *v = json_object_array_get_idx(vs, k);

		assert_int_equal(nic_mac_parse(json_object_get_string(json_object_object_get(v, "mac")),
					       m), 0);
		if (m[5] == last)
			return (x = json_object_object_get(v, key)) ? json_object_get_string(x) : NULL;
	}
	fail_msg("no vNIC ...:%02x", last);
	return NULL;
}

static void test_all_or_nothing(void **state)
{
	struct virt_follow *f = follow("test:///default", CONFIG_AUTOATTACH_DIRECT);
	struct virt_follow_stats st;
	json_object *dom, *refused;
	char *text;
	virDomainPtr d;
	char xml[2048];
	int k;

	snprintf(xml, sizeof(xml),
		 "<domain type='test'><name>zf-g</name><memory>65536</memory>"
		 "<os><type>hvm</type></os><devices>"
		 "<interface type='direct'><mac address='52:54:00:88:00:01'/>"
		 "<source dev='zxlp0' mode='bridge'/></interface>"
		 "<interface type='direct'><mac address='52:54:00:88:00:03'/>"
		 "<source dev='zxlp1' mode='bridge'/></interface>"
		 "<interface type='vdpa'><mac address='52:54:00:88:00:04'/>"
		 "<source dev='/dev/vhost-vdpa-0'/></interface></devices></domain>");
	assert_int_equal(nic_mac_parse("52:54:00:88:00:03", T.fail_mac), 0);
	d = virDomainCreateXML(T.drv, xml, 0);
	assert_non_null(d);
	/* attach :01, attach :03 (refused), then :01 taken back */
	assert_true(run_until(have, &(struct want){ 'd', "zf-g", 1 }, 5000));
	assert_int_equal(count('a', "zf-g"), 2);
	for (k = 0; k < T.n && T.calls[k].op != 'd'; k++)
		;
	assert_false(T.calls[k].all);
	assert_int_equal(T.calls[k].v.mac[5], 1);
	assert_string_equal(T.calls[k].v.nic, "zxlp0");
	/* a refusal is no attachment: no latency sample */
	virt_follow_get_stats(f, &st);
	assert_int_equal(st.lat_n, 0);
	dom = one_domain(f, "zf-g");
	assert_string_equal(vnic_field(dom, 1, "state"), "refused");
	assert_non_null(strstr(vnic_field(dom, 1, "error"),
			       "taken back: 52:54:00:88:00:03 on zxlp1 was refused"));
	assert_string_equal(vnic_field(dom, 3, "state"), "refused");
	assert_string_equal(vnic_field(dom, 3, "error"), "zxlp1: pool exhausted");
	/* the vdpa device is no macvtap, and said so (not "name too long") */
	assert_non_null(strstr(json_object_to_json_string(json_object_object_get(dom, "skipped")),
			       "type 'vdpa' is not a macvtap"));
	json_object_put(dom);
	refused = virt_follow_refused_json(f, NULL, "zf-g");
	assert_int_equal(json_object_array_length(refused), 2);
	json_object_put(refused);
	refused = virt_follow_refused_json(f, "zxlp1", NULL);
	assert_int_equal(json_object_array_length(refused), 1);
	json_object_put(refused);

	/* the cause goes (say, the configuration is fixed): a re-evaluation
	 * attaches both, and the reasons are gone */
	memset(T.fail_mac, 0, sizeof(T.fail_mac));
	text = logged_reevaluate(f, "configuration reloaded");
	assert_non_null(strstr(text, "'zf-g': configuration reloaded: 2 vNIC(s) attached\n"));
	free(text);
	assert_int_equal(count('a', "zf-g"), 4);
	dom = one_domain(f, "zf-g");
	assert_string_equal(vnic_field(dom, 1, "state"), "attached");
	assert_null(vnic_field(dom, 1, "error"));
	assert_string_equal(vnic_field(dom, 3, "state"), "attached");
	assert_string_equal(json_object_get_string(json_object_object_get(dom, "last_decision")),
			    "configuration reloaded");
	json_object_put(dom);
	refused = virt_follow_refused_json(f, NULL, NULL);
	assert_int_equal(json_object_array_length(refused), 0);
	json_object_put(refused);
	/* again (SIGHUP, zcrxctl reconcile): the log says what happened this
	 * time, not that they were attached once more */
	text = logged_reevaluate(f, "reconcile requested");
	assert_non_null(strstr(text, "'zf-g': reconcile requested: 2 vNIC(s) already attached\n"));
	assert_null(strstr(text, "vNIC(s) attached"));
	free(text);
	/* an unknown domain is no domain */
	assert_int_equal(virt_follow_domains_json(f, "zf-nothere", &dom), -ENOENT);
	/* invalid zcrx metadata: its vNICs are refused, and listed so */
	assert_int_equal(virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT,
					      "<config><nic mac='52:54:00:88:00:01' queues='x'/></config>",
					      "zcrx", DOMXML_NS, VIR_DOMAIN_AFFECT_LIVE),
			 0);
	assert_true(run_until(have, &(struct want){ 'd', "zf-g", 3 }, 5000)); /* both go */
	refused = virt_follow_refused_json(f, "zxlp0", "zf-g");
	assert_int_equal(json_object_array_length(refused), 1);
	assert_non_null(strstr(json_object_to_json_string(refused), "invalid zcrx metadata"));
	json_object_put(refused);
	assert_int_equal(virDomainDestroy(d), 0);
	virDomainFree(d);
	assert_true(run_until(have, &(struct want){ 'd', "zf-g", 4 }, 5000));
	virt_follow_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_events_start_destroy, reset),
		cmocka_unit_test_setup(test_metadata_change, reset),
		cmocka_unit_test_setup(test_resync, reset),
		cmocka_unit_test_setup(test_hook_without_libvirt, reset),
		cmocka_unit_test_setup(test_operator_requests, reset),
		cmocka_unit_test_setup(test_hook_then_events_once, reset),
		cmocka_unit_test_setup(test_stale_stop_after_restart, reset),
		cmocka_unit_test_setup(test_stop_read_only_with_hooks, reset),
		cmocka_unit_test_setup(test_all_or_nothing, reset),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
