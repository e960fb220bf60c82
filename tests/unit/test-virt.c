// SPDX-License-Identifier: MIT
/*
 * Test-driver tier, in-process part: zcrxd's real libvirt code (virt.c on
 * virt-event on sd-event) against libvirt's test driver (test:///default).
 * A second connection in this process drives the domains; connections to
 * test:///default in one process share the driver's state and events.
 * (The test itself includes libvirt's headers to drive domains; zcrxd's own
 * code does so only in virt.c.)
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
#include <libvirt/libvirt.h>

#include "deadline.h"
#include "virt.h"

#define MAXREC 256

struct rec {
	struct virt_input in;
	char name[DOMXML_NAME_MAX];
	uint8_t uuid[16];
	enum virt_run_state run;
	bool has_dom;
	size_t n_ifaces;
	enum domxml_meta_state meta;
	uint32_t meta_queues; /* first nic */
	char target0[16];
};

static struct {
	sd_event *ev;
	virConnectPtr drv; /* the test's own connection: drives domains */
	enum virt_conn_state states[64];
	char state_msg[64][256];
	int n_states;
	int resyncs;
	struct rec resync[MAXREC];
	int n_resync;
	struct rec ev_rec[MAXREC];
	int n_ev;
} T;

static void fill(struct rec *r, const struct virt_domain_info *i)
{
	snprintf(r->name, sizeof(r->name), "%s", i->name);
	memcpy(r->uuid, i->uuid, 16);
	r->run = i->run;
	r->has_dom = i->dom != NULL;
	if (i->dom) {
		r->n_ifaces = i->dom->n_ifaces;
		r->meta = i->dom->meta.state;
		r->meta_queues = i->dom->meta.n_nics ? i->dom->meta.nics[0].queues : 0;
		if (i->dom->n_ifaces)
			memcpy(r->target0, i->dom->ifaces[0].target_dev, IF_NAMESIZE);
	}
}

static void cb_connection(void *ud, enum virt_conn_state st, const char *msg)
{
	if (T.n_states < 64) {
		snprintf(T.state_msg[T.n_states], 256, "%s", msg);
		T.states[T.n_states++] = st;
	}
}

static void cb_resync(void *ud, struct virt_domain_info *doms, size_t n, uint64_t listed)
{
	size_t k;

	T.resyncs++;
	T.n_resync = 0;
	for (k = 0; k < n && k < MAXREC; k++)
		fill(&T.resync[T.n_resync++], &doms[k]);
}

static void cb_event(void *ud, const struct virt_input *in, struct virt_domain_info *info)
{
	struct rec *r;

	if (T.n_ev >= MAXREC)
		return;
	r = &T.ev_rec[T.n_ev++];
	memset(r, 0, sizeof(*r));
	r->in = *in;
	fill(r, info);
	/* the callee may take the parsed XML */
	if (info->dom && T.n_ev % 2) {
		domxml_free(info->dom);
		info->dom = NULL;
	}
}

static const struct virt_callbacks CB = { .connection = cb_connection, .resync = cb_resync,
					  .event = cb_event };

static bool run_until(bool (*cond)(void *), void *arg, unsigned ms)
{
	int r = deadline_run_until(T.ev, cond, arg, ms, 20);

	assert_true(r >= 0);
	return r > 0;
}

static bool resynced(void *arg) { return T.resyncs >= (int)(intptr_t)arg; }
static bool n_events(void *arg) { return T.n_ev >= (int)(intptr_t)arg; }
static bool n_states(void *arg) { return T.n_states >= (int)(intptr_t)arg; }

static const struct rec *find_resync(const char *name)
{
	int k;

	for (k = 0; k < T.n_resync; k++)
		if (!strcmp(T.resync[k].name, name))
			return &T.resync[k];
	return NULL;
}

static const char *dom_xml(const char *name, const char *meta)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf),
		 "<domain type='test'><name>%s</name><memory>65536</memory>"
		 "<os><type>hvm</type></os>%s<devices>"
		 "<interface type='direct'><mac address='52:54:00:99:00:01'/>"
		 "<source dev='zxlp0' mode='bridge'/></interface>"
		 "<interface type='network'><mac address='52:54:00:99:00:02'/>"
		 "<source network='default'/></interface></devices></domain>",
		 name, meta);
	return buf;
}

static int group_setup(void **state)
{
	assert_int_equal(sd_event_new(&T.ev), 0);
	/* register our event implementation before any connection */
	assert_int_equal(virt_global_init(T.ev), 0);
	T.drv = virConnectOpen("test:///default");
	assert_non_null(T.drv);
	return 0;
}

static int group_teardown(void **state)
{
	virConnectClose(T.drv);
	/* let libvirt remove its watches and run their free callbacks */
	for (int k = 0; k < 5; k++)
		sd_event_run(T.ev, 1000);
	sd_event_unref(T.ev);
	return 0;
}

static void reset(void)
{
	memset(&T.states, 0, sizeof(T.states));
	T.n_states = T.resyncs = T.n_resync = T.n_ev = 0;
}

static void test_global_init_once(void **state)
{
	sd_event *other;

	assert_int_equal(virt_global_init(T.ev), 0);
	assert_int_equal(sd_event_new(&other), 0);
	assert_int_equal(virt_global_init(other), -EBUSY);
	sd_event_unref(other);
}

static void test_connect_and_resync(void **state)
{
	struct virt_options o = { .uri = "test:///default" };
	const char *meta = "<metadata><zcrx:config xmlns:zcrx='" DOMXML_NS "'>"
			   "<zcrx:nic mac='52:54:00:99:00:01' queues='3'/></zcrx:config></metadata>";
	virDomainPtr d;
	const struct rec *r;
	struct virt_status st;
	struct virt *v;

	reset();
	d = virDomainCreateXML(T.drv, dom_xml("zv-a", meta), 0);
	assert_non_null(d);

	assert_int_equal(virt_new(T.ev, &o, &CB, NULL, &v), 0);
	assert_true(run_until(resynced, (void *)1, 5000));
	assert_int_equal(T.states[0], VIRT_CONN_CONNECTED);
	assert_string_equal(T.state_msg[0], "test:///default");

	/* the built-in running domain "test" and ours, with their live XML */
	r = find_resync("test");
	assert_non_null(r);
	assert_int_equal(r->run, VIRT_RUN_RUNNING);
	r = find_resync("zv-a");
	assert_non_null(r);
	assert_true(r->has_dom);
	assert_int_equal(r->n_ifaces, 2);
	assert_int_equal(r->meta, DOMXML_META_VALID);
	assert_int_equal(r->meta_queues, 3);
	assert_string_equal(r->target0, "testnet0"); /* the test driver's tap names */

	virt_get_status(v, &st);
	assert_int_equal(st.state, VIRT_CONN_CONNECTED);
	assert_int_equal(st.connects, 1);
	assert_string_equal(st.uri, "test:///default");

	/* an explicit resync lists again */
	virt_request_resync(v);
	assert_true(run_until(resynced, (void *)2, 5000));

	assert_int_equal(virDomainDestroy(d), 0);
	virDomainFree(d);
	virt_free(v);
}

static const struct rec *find_ev(const char *name, enum virt_input_kind kind, int event)
{
	int k;

	for (k = 0; k < T.n_ev; k++)
		if (!strcmp(T.ev_rec[k].name, name) && T.ev_rec[k].in.kind == kind &&
		    (kind != VIRT_IN_LIFECYCLE || T.ev_rec[k].in.event == event))
			return &T.ev_rec[k];
	return NULL;
}

static void test_events(void **state)
{
	struct virt_options o = { .uri = "test:///default" };
	const struct rec *r;
	virDomainPtr d;
	struct virt *v;
	int want;

	reset();
	assert_int_equal(virt_new(T.ev, &o, &CB, NULL, &v), 0);
	assert_true(run_until(resynced, (void *)1, 5000));

	d = virDomainDefineXML(T.drv, dom_xml("zv-b", ""));
	assert_non_null(d);
	assert_int_equal(virDomainCreate(d), 0);
	assert_int_equal(virDomainSuspend(d), 0);
	assert_int_equal(virDomainResume(d), 0);
	assert_int_equal(virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT,
					      "<config><nic mac='52:54:00:99:00:01' queues='2'/></config>",
					      "zcrx", DOMXML_NS, VIR_DOMAIN_AFFECT_LIVE),
			 0);
	assert_int_equal(virDomainDestroy(d), 0);
	assert_int_equal(virDomainUndefine(d), 0);
	virDomainFree(d);
	want = 7; /* defined started suspended resumed metadata stopped undefined */
	assert_true(run_until(n_events, (void *)(intptr_t)want, 5000));

	/* in order, each with what the worker read at the time */
	assert_int_equal(T.ev_rec[0].in.event, VIRT_EV_DEFINED);
	assert_false(T.ev_rec[0].has_dom);
	r = find_ev("zv-b", VIRT_IN_LIFECYCLE, VIRT_EV_STARTED);
	assert_non_null(r);
	assert_int_equal(r->in.detail, VIRT_EV_STARTED_BOOTED);
	/* by the time the worker read it the domain may have moved on; what it
	 * read is labelled with the state it saw */
	if (r->has_dom)
		assert_true(virt_run_state_active(r->run));
	assert_true(find_ev("zv-b", VIRT_IN_LIFECYCLE, VIRT_EV_SUSPENDED) <
		    find_ev("zv-b", VIRT_IN_LIFECYCLE, VIRT_EV_RESUMED));
	r = find_ev("zv-b", VIRT_IN_METADATA, 0);
	assert_non_null(r);
	assert_true(r > find_ev("zv-b", VIRT_IN_LIFECYCLE, VIRT_EV_RESUMED));
	r = find_ev("zv-b", VIRT_IN_LIFECYCLE, VIRT_EV_STOPPED);
	assert_non_null(r);
	assert_int_equal(r->in.detail, VIRT_EV_STOPPED_DESTROYED);
	assert_false(r->has_dom); /* no XML read for a stop */
	assert_non_null(find_ev("zv-b", VIRT_IN_LIFECYCLE, VIRT_EV_UNDEFINED));
	virt_free(v);
}

/* The worker reads the XML when it gets to the event: started, then left
 * running, gives the live XML with the new metadata. */
static void test_event_reads_live_xml(void **state)
{
	struct virt_options o = { .uri = "test:///default" };
	const struct rec *r;
	virDomainPtr d;
	struct virt *v;

	reset();
	assert_int_equal(virt_new(T.ev, &o, &CB, NULL, &v), 0);
	assert_true(run_until(resynced, (void *)1, 5000));
	d = virDomainCreateXML(T.drv, dom_xml("zv-c", ""), 0);
	assert_non_null(d);
	assert_true(run_until(n_events, (void *)1, 5000));
	r = find_ev("zv-c", VIRT_IN_LIFECYCLE, VIRT_EV_STARTED);
	assert_non_null(r);
	assert_true(r->has_dom);
	assert_int_equal(r->run, VIRT_RUN_RUNNING);
	assert_int_equal(r->n_ifaces, 2);
	assert_int_equal(r->meta, DOMXML_META_ABSENT);

	assert_int_equal(virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT,
					      "<config><nic mac='52:54:00:99:00:01' queues='5'/></config>",
					      "zcrx", DOMXML_NS, VIR_DOMAIN_AFFECT_LIVE),
			 0);
	assert_true(run_until(n_events, (void *)2, 5000));
	r = &T.ev_rec[1];
	assert_int_equal(r->in.kind, VIRT_IN_METADATA);
	assert_true(r->has_dom);
	assert_int_equal(r->meta, DOMXML_META_VALID);
	assert_int_equal(r->meta_queues, 5);

	/* a transient domain destroyed: gone */
	assert_int_equal(virDomainDestroy(d), 0);
	virDomainFree(d);
	assert_true(run_until(n_events, (void *)3, 5000));
	virt_free(v);
}

/*
 * The start hook gave a run's live XML (virt_note_hook_run, as zcrxd does
 * when the hook's attach brings XML with a domain id): that run's STARTED
 * event is passed on without a read.  A later event of the run (RESUMED
 * after a pause) reads again, and so does the STARTED of a run the hook
 * did not tell about (another domain id).
 */
static void test_hooked_run_is_not_read_again(void **state)
{
	struct virt_options o = { .uri = "test:///default" };
	struct virt_status s0, s1;
	const struct rec *r;
	uint8_t uuid[16];
	virDomainPtr d;
	struct virt *v;

	reset();
	assert_int_equal(virt_new(T.ev, &o, &CB, NULL, &v), 0);
	assert_true(run_until(resynced, (void *)1, 5000));
	d = virDomainDefineXML(T.drv, dom_xml("zv-h", ""));
	assert_non_null(d);
	assert_int_equal(virDomainGetUUID(d, uuid), 0);
	assert_true(run_until(n_events, (void *)1, 5000)); /* defined */

	/* the hook's run: libvirtd runs the hook before it emits the event,
	 * which reaches virt.c's callback when this loop runs */
	assert_int_equal(virDomainCreate(d), 0);
	virt_get_status(v, &s0);
	virt_note_hook_run(v, "zv-h", uuid, (int)virDomainGetID(d));
	assert_true(run_until(n_events, (void *)2, 5000));
	r = find_ev("zv-h", VIRT_IN_LIFECYCLE, VIRT_EV_STARTED);
	assert_non_null(r);
	assert_false(r->has_dom);
	virt_get_status(v, &s1);
	assert_int_equal(s1.hooked - s0.hooked, 1);
	assert_int_equal(s1.reads, s0.reads);

	/* later in the run: read as always */
	assert_int_equal(virDomainSuspend(d), 0);
	assert_int_equal(virDomainResume(d), 0);
	assert_true(run_until(n_events, (void *)4, 5000));
	r = find_ev("zv-h", VIRT_IN_LIFECYCLE, VIRT_EV_RESUMED);
	assert_non_null(r);
	assert_true(r->has_dom);

	/* the next run, told with another id: read */
	assert_int_equal(virDomainDestroy(d), 0);
	assert_true(run_until(n_events, (void *)5, 5000));
	reset();
	assert_int_equal(virDomainCreate(d), 0);
	virt_note_hook_run(v, "zv-h", uuid, (int)virDomainGetID(d) + 1000);
	assert_true(run_until(n_events, (void *)1, 5000));
	r = find_ev("zv-h", VIRT_IN_LIFECYCLE, VIRT_EV_STARTED);
	assert_non_null(r);
	assert_true(r->has_dom);
	virt_get_status(v, &s0);
	assert_int_equal(s0.hooked, s1.hooked);

	assert_int_equal(virDomainDestroy(d), 0);
	assert_int_equal(virDomainUndefine(d), 0);
	virDomainFree(d);
	assert_true(run_until(n_events, (void *)3, 5000));
	virt_free(v);
}

/* What the events of reused names must carry: each (name, kind, event,
 * UUID) once, in whatever order the workers delivered them. */
struct want_ev {
	const char *name;
	enum virt_input_kind kind;
	int event;
	uint8_t uuid[16];
	bool seen;
};

static void want(struct want_ev *w, int *n, const char *name, enum virt_input_kind kind,
		 int event, virDomainPtr d)
{
	w[*n].name = name;
	w[*n].kind = kind;
	w[*n].event = event;
	assert_int_equal(virDomainGetUUID(d, w[*n].uuid), 0);
	w[*n].seen = false;
	(*n)++;
}

static void set_meta(virDomainPtr d, const char *q)
{
	char x[128];

	snprintf(x, sizeof(x), "<config><nic mac='52:54:00:99:00:01' queues='%s'/></config>", q);
	assert_int_equal(virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, x, "zcrx",
					      DOMXML_NS, VIR_DOMAIN_AFFECT_LIVE),
			 0);
}

/*
 * An event carries its own domain's UUID, also where a name is used
 * again (the callbacks keep a name's UUID from event to event, libvirt's
 * getter being costly): a transient domain destroyed and made again under
 * its name gets a new UUID, as does a persistent one undefined and defined
 * again, or renamed and its old name given to another.
 */
static void test_reused_names_carry_their_uuid(void **state)
{
	struct virt_options o = { .uri = "test:///default" };
	struct want_ev w[32];
	virDomainPtr d, p, q;
	struct virt *v;
	int n = 0, k, i;

	reset();
	assert_int_equal(virt_new(T.ev, &o, &CB, NULL, &v), 0);
	assert_true(run_until(resynced, (void *)1, 5000));
	for (k = 0; k < 2; k++) { /* transient, twice under one name */
		d = virDomainCreateXML(T.drv, dom_xml("zv-u", ""), 0);
		assert_non_null(d);
		want(w, &n, "zv-u", VIRT_IN_LIFECYCLE, VIRT_EV_STARTED, d);
		set_meta(d, k ? "3" : "2");
		want(w, &n, "zv-u", VIRT_IN_METADATA, 0, d);
		assert_int_equal(virDomainDestroy(d), 0);
		want(w, &n, "zv-u", VIRT_IN_LIFECYCLE, VIRT_EV_STOPPED, d);
		virDomainFree(d);
	}
	p = virDomainDefineXML(T.drv, dom_xml("zv-p", "")); /* persistent, twice */
	assert_non_null(p);
	want(w, &n, "zv-p", VIRT_IN_LIFECYCLE, VIRT_EV_DEFINED, p);
	assert_int_equal(virDomainUndefine(p), 0);
	want(w, &n, "zv-p", VIRT_IN_LIFECYCLE, VIRT_EV_UNDEFINED, p);
	virDomainFree(p);
	p = virDomainDefineXML(T.drv, dom_xml("zv-p", ""));
	assert_non_null(p);
	want(w, &n, "zv-p", VIRT_IN_LIFECYCLE, VIRT_EV_DEFINED, p);
	if (virDomainRename(p, "zv-q", 0) == 0) { /* its name to another */
		want(w, &n, "zv-p", VIRT_IN_LIFECYCLE, VIRT_EV_UNDEFINED, p);
		want(w, &n, "zv-q", VIRT_IN_LIFECYCLE, VIRT_EV_DEFINED, p);
		q = virDomainDefineXML(T.drv, dom_xml("zv-p", ""));
		assert_non_null(q);
		want(w, &n, "zv-p", VIRT_IN_LIFECYCLE, VIRT_EV_DEFINED, q);
		assert_int_equal(virDomainUndefine(q), 0);
		want(w, &n, "zv-p", VIRT_IN_LIFECYCLE, VIRT_EV_UNDEFINED, q);
		virDomainFree(q);
		assert_int_equal(virDomainUndefine(p), 0);
		want(w, &n, "zv-q", VIRT_IN_LIFECYCLE, VIRT_EV_UNDEFINED, p);
	} else {
		assert_int_equal(virDomainUndefine(p), 0);
		want(w, &n, "zv-p", VIRT_IN_LIFECYCLE, VIRT_EV_UNDEFINED, p);
	}
	virDomainFree(p);
	assert_true(run_until(n_events, (void *)(intptr_t)n, 5000));
	assert_int_equal(T.n_ev, n);
	assert_memory_not_equal(w[0].uuid, w[3].uuid, 16); /* new UUIDs indeed */
	for (i = 0; i < T.n_ev; i++) {
		const struct rec *r = &T.ev_rec[i];

		for (k = 0; k < n; k++)
			if (!w[k].seen && !strcmp(w[k].name, r->name) && w[k].kind == r->in.kind &&
			    (r->in.kind != VIRT_IN_LIFECYCLE || w[k].event == r->in.event) &&
			    !memcmp(w[k].uuid, r->uuid, 16))
				break;
		if (k == n)
			fail_msg("event %d of '%s' (kind %d, event %d): not with its UUID", i,
				 r->name, (int)r->in.kind, r->in.event);
		w[k].seen = true;
	}
	virt_free(v);
}

static bool two_failures(void *arg)
{
	int k, n = 0;

	for (k = 0; k < T.n_states; k++)
		n += T.states[k] == VIRT_CONN_DISCONNECTED;
	return n >= 2;
}

/* A URI that cannot be opened: reported with libvirt's text, retried with
 * backoff, and the loop keeps running meanwhile. */
static void test_connect_failure_retries(void **state)
{
	struct virt_options o = { .uri = "test:///nonexistent/zxl-no-such-file.xml",
				  .backoff_min_ms = 20, .backoff_max_ms = 40 };
	struct virt_status st;
	struct virt *v;

	reset();
	assert_int_equal(virt_new(T.ev, &o, &CB, NULL, &v), 0);
	assert_true(run_until(two_failures, NULL, 5000));
	assert_int_equal(T.states[0], VIRT_CONN_DISCONNECTED);
	assert_non_null(strstr(T.state_msg[0], "zxl-no-such-file"));
	assert_int_equal(T.states[1], VIRT_CONN_CONNECTING);
	virt_get_status(v, &st);
	assert_true(st.failures >= 2);
	assert_int_equal(st.connects, 0);
	assert_non_null(strstr(st.last_error, "zxl-no-such-file"));
	assert_int_equal(T.resyncs, 0);
	virt_free(v);
}

static void test_options(void **state)
{
	struct virt_options o = { .uri = "" };
	struct virt *v;

	assert_int_equal(virt_new(T.ev, &o, &CB, NULL, &v), -EINVAL);
	assert_int_equal(virt_new(T.ev, NULL, &CB, NULL, &v), -EINVAL);
	assert_null(virt_free(NULL));
	assert_string_equal(virt_conn_state_name(VIRT_CONN_CONNECTED), "connected");
	assert_string_equal(virt_run_state_name(VIRT_RUN_GONE), "gone");
	(void)n_states;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_global_init_once),
		cmocka_unit_test(test_connect_and_resync),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_event_reads_live_xml),
		cmocka_unit_test(test_reused_names_carry_their_uuid),
		cmocka_unit_test(test_hooked_run_is_not_read_again),
		cmocka_unit_test(test_connect_failure_retries),
		cmocka_unit_test(test_options),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
