// SPDX-License-Identifier: MIT
/*
 * api-attach — the attachment methods and the virt sink (api-attach.h).
 * Must not: talk to the kernel or libvirt itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-attach.h"
#include "ipc.h"
#include "jtext.h"
#include "log.h"
#include "nic-monitor.h"
#include "str.h"

/* --- replies ------------------------------------------------------------------------ */

/* A reply held back until the state log is durable (group commit,
 * reconcile_when_durable): no reply tells of a change a crash could lose. */
struct held_reply {
	struct ipc_call *call;
	char *error; /* NULL: a normal reply */
	json_object *params;
};

static void send_held(void *ud)
{
	struct held_reply *h = ud;

	if (h->error)
		ipc_reply_error(h->call, h->error, h->params);
	else
		ipc_reply(h->call, h->params);
	ipc_call_unref(h->call);
	free(h->error);
	free(h);
}

/* Reply (error: NULL) or fail with error, once the state is durable. */
static void reply_when_durable(struct api_attach *a, struct ipc_call *call, const char *error,
			       json_object *params)
{
	api_attach_reply_durable(a->rc, call, error, params);
}

/* A reply written as text (jtext_to_json), NULL when that ran out of
 * memory: then an error that says so (message), never an empty success. */
static void reply_text(struct api_attach *a, struct ipc_call *call, json_object *r,
		       const char *message)
{
	json_object *p;

	if (r) {
		reply_when_durable(a, call, NULL, r);
		return;
	}
	p = json_object_new_object();
	json_object_object_add(p, "errno", json_object_new_int(ENOMEM));
	json_object_object_add(p, "message", json_object_new_string(message));
	reply_when_durable(a, call, "io.zcrx.Manager.KernelError", p);
}

void api_attach_reply_durable(struct reconcile *rc, struct ipc_call *call, const char *error,
			      json_object *params)
{
	struct held_reply *h;

	/* refused while the state directory does not answer (the syncer is
	 * stuck, docs/state.md "The bound"): at once, or the refusal would
	 * wait for the disk too */
	if (error && reconcile_state_stuck(rc)) {
		ipc_reply_error(call, error, params);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (!h || (error && !(h->error = strdup(error)))) {
		free(h);
		if (error)
			ipc_reply_error(call, error, params);
		else
			ipc_reply(call, params);
		return;
	}
	h->call = ipc_call_ref(call);
	h->params = params;
	reconcile_when_durable(rc, send_held, h);
}

/* The outcome's error as its Varlink error; message, when not NULL, says
 * more than the outcome's own error (a domain's refused vNICs). */
static void reply_outcome_error_msg(struct api_attach *a, struct ipc_call *call,
				    const struct reconcile_outcome *o, int r, const char *message)
{
	const char *name = o->error_name ? o->error_name : "io.zcrx.Manager.KernelError";
	const struct kerror *e = &o->err;
	json_object *p = json_object_new_object();
	char msg[768];

	if (message)
		snprintf(msg, sizeof(msg), "%s", message);
	else
		kerror_format(e, msg, sizeof(msg));
	if (!strcmp(name, "org.varlink.service.InvalidParameter")) {
		json_object_object_add(p, "parameter",
				       json_object_new_string(e->msg[0] ? e->msg : "parameters"));
		reply_when_durable(a, call, name, p);
		return;
	}
	if (!strcmp(name, "io.zcrx.Manager.KernelError")) {
		json_object_object_add(p, "errno", json_object_new_int(e->err ? e->err : -r));
	} else if (!strcmp(name, "io.zcrx.Manager.NoSuchDomain")) {
		json_object_object_add(p, "domain", json_object_new_string(e->obj));
	} else if (!strcmp(name, "io.zcrx.Manager.TapMismatch")) {
		json_object_object_add(p, "tap", json_object_new_string(e->obj));
	} else {
		json_object_object_add(p, "nic", json_object_new_string(e->obj));
	}
	json_object_object_add(p, "message", json_object_new_string(msg));
	reply_when_durable(a, call, name, p);
}

static void reply_outcome_error(struct api_attach *a, struct ipc_call *call,
				const struct reconcile_outcome *o, int r)
{
	reply_outcome_error_msg(a, call, o, r, NULL);
}

static void reply_no_such_domain(struct api_attach *a, struct ipc_call *call, const char *domain)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "domain", json_object_new_string(domain));
	reply_when_durable(a, call, "io.zcrx.Manager.NoSuchDomain", p);
}

/* The follower refused a request about domain: its error, with its text. */
static void reply_virt_error(struct api_attach *a, struct ipc_call *call, const char *domain,
			     const struct virt_reply *rep)
{
	const char *name = virt_req_error_name(rep->error);
	json_object *p = json_object_new_object();

	if (!strcmp(name, "org.varlink.service.InvalidParameter")) {
		/* the standard error names the parameter, nothing else: the
		 * reason goes to the log */
		log_notice(LOG_SUBSYS_VIRT, "%s: domain_xml refused: %s", domain, rep->message);
		json_object_object_add(p, "parameter", json_object_new_string("domain_xml"));
		reply_when_durable(a, call, name, p);
		return;
	}
	json_object_object_add(p, "domain", json_object_new_string(domain));
	json_object_object_add(p, "message", json_object_new_string(rep->message));
	reply_when_durable(a, call, name, p);
}

/* Each attachment with its domain's state as libvirt (or the hook) told
 * virt-follow; null when it does not know the domain. */
static void add_domain_state(struct api_attach *a, json_object *atts)
{
	size_t i;

	for (i = 0; a->follow && atts && i < json_object_array_length(atts); i++) {
		json_object *x = json_object_array_get_idx(atts, i);
		const char *key = json_object_get_string(json_object_object_get(x, "uuid"));
		const char *st;

		if (!key)
			key = json_object_get_string(json_object_object_get(x, "domain"));
		st = virt_follow_domain_state(a->follow, key);
		json_object_object_add(x, "domain_state", st ? json_object_new_string(st) : NULL);
	}
}

static const char *domain_state_of(void *ud, const struct attach *x)
{
	struct api_attach *a = ud;

	return virt_follow_domain_state(a->follow, x->id.uuid[0] ? x->id.uuid : x->id.domain);
}

static json_object *attachments_of(struct api_attach *a, const char *domain, const char *uuid)
{
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < reconcile_count(a->rc); i++) {
		const struct attach *x = reconcile_at(a->rc, i);

		if ((uuid && *uuid && !strcmp(x->id.uuid, uuid)) ||
		    (domain && (!strcmp(x->id.domain, domain) || !strcmp(x->id.uuid, domain))))
			json_object_array_add(arr, attach_to_json(x));
	}
	add_domain_state(a, arr);
	return arr;
}

/* --- parameters --------------------------------------------------------------------- */

static int parse_mac(struct ipc_call *call, const char *s, uint8_t *mac)
{
	if (nic_mac_parse(s, mac) < 0) {
		ipc_reply_invalid_parameter(call, "mac");
		return -EINVAL;
	}
	return 0;
}

static int parse_addresses(struct api_attach *a, struct ipc_call *call, json_object *arr,
			   struct attach_id *id)
{
	size_t i, n;
	int r;

	if (!arr)
		return 0;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *s = json_object_is_type(e, json_type_string) ? json_object_get_string(e) :
									     NULL;

		r = s ? attach_id_add_address(id, s) : -EINVAL;
		if (r == -ENOMEM) {
			reply_text(a, call, NULL, "out of memory reading the request");
			return r;
		}
		if (r < 0) {
			ipc_reply_invalid_parameter(call, "addresses");
			return r;
		}
	}
	return 0;
}

static int copy_str(struct ipc_call *call, const char *name, const char *s, char *dst,
		    size_t size)
{
	if (!s)
		return 0;
	if (strlen(s) >= size) {
		ipc_reply_invalid_parameter(call, name);
		return -EINVAL;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* The identity of a domain's vNIC as the follower selected it (*id owns
 * its domain); -ENOMEM. */
static int id_of_vnic(struct attach_id *id, const char *domain, const char *uuid,
		      const struct virt_vnic *v)
{
	attach_id_init(id);
	if (attach_id_set_domain(id, domain) < 0)
		return -ENOMEM;
	str_copy(id->uuid, sizeof(id->uuid), uuid);
	memcpy(id->mac, v->mac, NIC_MAC_LEN);
	str_copy(id->nic, sizeof(id->nic), v->nic);
	str_copy(id->tap, sizeof(id->tap), v->tap);
	id->queues = v->queues ? v->queues : 1;
	id->numa_node = v->numa_node;
	return 0;
}

/* A request to the follower; one with only the XML comes from the hook. */
static void request_init(struct virt_request *req, const char *domain, const char *nic,
			 const uint8_t *mac, const char *xml)
{
	memset(req, 0, sizeof(*req));
	req->domain = domain;
	req->nic = nic;
	req->mac = mac;
	req->xml = xml;
	req->xml_len = xml ? strlen(xml) : 0;
	req->origin = xml && !nic && !mac ? VIRT_ORIGIN_HOOK : VIRT_ORIGIN_OPERATOR;
}

/* --- Attach ------------------------------------------------------------------------- */

/* What the selected vNICs of a domain would get, planned together as the
 * real attach leaves them (two vNICs on one NIC get two queues). */
static json_object *dry_run_vnics(struct api_attach *a, const struct virt_reply *rep,
				  struct reconcile_outcome *out)
{
	json_object *would = json_object_new_array();
	struct attach_id *ids = calloc(rep->sel.n ? rep->sel.n : 1, sizeof(*ids));
	struct attach *atts = calloc(rep->sel.n ? rep->sel.n : 1, sizeof(*atts));
	bool nomem = false;
	size_t k;

	if (!ids || !atts) {
		free(ids);
		free(atts);
		return would;
	}
	for (k = 0; k < rep->sel.n; k++) {
		nomem |= id_of_vnic(&ids[k], rep->name, rep->uuid, &rep->sel.vnics[k]) < 0;
		attach_init(&atts[k]);
	}
	if (!nomem && reconcile_attach_dry(a->rc, ids, rep->sel.n, out, atts) == 0)
		for (k = 0; k < rep->sel.n; k++)
			json_object_array_add(would, attach_to_json(&atts[k]));
	for (k = 0; k < rep->sel.n; k++) {
		attach_id_clear(&ids[k]);
		attach_clear(&atts[k]);
	}
	free(ids);
	free(atts);
	return would;
}

struct attach_params {
	const char *domain, *nic, *mac, *xml, *tap, *uuid;
	int64_t queues, numa;
	bool dry_run, has_queues, has_numa;
	json_object *addrs;
};

/* Direct: the domain is a label, the vNIC its MAC. */
/* An Attach waiting for its NIC's run (reconcile_attach_queue). */
struct queued_attach {
	struct api_attach *a;
	struct ipc_call *call;
	char domain[ATTACH_DOMAIN_MAX];
};

#define NO_REPLY "out of memory writing the reply (what the request changed stands)"

/* Written as text, the attachment by the listing's writer (attach_to_jtext)
 * and the plans by theirs (plan_to_jtext): no json-c tree of either to
 * build and write again; NULL when out of memory. */
static json_object *attach_reply(const char *domain, const struct attach *att, bool dry_run,
				 const struct reconcile_outcome *out)
{
	struct jtext t = { 0 };

	jtext_lit(&t, "{\"domain\":");
	jtext_str(&t, domain);
	jtext_lit(&t, ",\"attachments\":[");
	if (att)
		attach_to_jtext(att, &t, true);
	jtext_lit(&t, dry_run ? "],\"dry_run\":true,\"plans\":" : "],\"dry_run\":false,\"plans\":");
	reconcile_outcome_plans_jtext(out, &t);
	jtext_lit(&t, "}");
	return jtext_to_json(&t);
}

static void attached(void *ud, int r, struct reconcile_outcome *out, const struct attach *att)
{
	struct queued_attach *qa = ud;

	if (r < 0)
		reply_outcome_error(qa->a, qa->call, out, r);
	else
		reply_text(qa->a, qa->call, attach_reply(qa->domain, att, false, out), NO_REPLY);
	ipc_call_unref(qa->call);
	free(qa);
}

/* attach_direct with the identity's domain set: the rest of it. */
static void attach_direct_id(struct api_attach *a, struct ipc_call *call,
			     const struct attach_params *p, struct attach_id *id)
{
	struct reconcile_outcome out = { 0 };
	struct attach att;
	int rr;

	if (copy_str(call, "nic", p->nic, id->nic, sizeof(id->nic)) < 0 ||
	    copy_str(call, "tap", p->tap, id->tap, sizeof(id->tap)) < 0 ||
	    copy_str(call, "uuid", p->uuid, id->uuid, sizeof(id->uuid)) < 0 ||
	    parse_mac(call, p->mac, id->mac) < 0 || parse_addresses(a, call, p->addrs, id) < 0)
		return;
	if (p->has_queues)
		id->queues = (uint32_t)p->queues;
	if (p->has_numa)
		id->numa_node = (int)p->numa;
	/* a tap the caller names must be there (reconcile_attach checks that it
	 * is the vNIC's own macvtap) */
	if (id->tap[0] && !reconcile_find_link(a->rc, id->tap)) {
		json_object *e = json_object_new_object();
		char msg[128];

		snprintf(msg, sizeof(msg), "no device '%s' in zcrxd's network namespace", id->tap);
		json_object_object_add(e, "tap", json_object_new_string(id->tap));
		json_object_object_add(e, "message", json_object_new_string(msg));
		reply_when_durable(a, call, "io.zcrx.Manager.TapMismatch", e);
		return;
	}
	if (!p->dry_run) {
		struct queued_attach *qa = calloc(1, sizeof(*qa));

		if (qa) {
			qa->a = a;
			qa->call = ipc_call_ref(call);
			snprintf(qa->domain, sizeof(qa->domain), "%s", id->domain);
			rr = reconcile_attach_queue(a->rc, id, &out, attached, qa);
			if (rr == 0)
				return; /* answered by attached() */
			ipc_call_unref(call);
			free(qa);
			if (rr != -EOPNOTSUPP) {
				reply_outcome_error(a, call, &out, rr);
				reconcile_outcome_clear(&out);
				return;
			}
			reconcile_outcome_clear(&out);
		}
	}
	attach_init(&att);
	rr = reconcile_attach(a->rc, id, p->dry_run, &out, &att);
	if (rr < 0) {
		reply_outcome_error(a, call, &out, rr);
	} else {
		reply_text(a, call, attach_reply(id->domain, &att, p->dry_run, &out), NO_REPLY);
	}
	attach_clear(&att);
	reconcile_outcome_clear(&out);
}

/* Direct: the domain is a label, the vNIC its MAC. */
static void attach_direct(struct api_attach *a, struct ipc_call *call,
			  const struct attach_params *p)
{
	struct attach_id id;

	if (!p->nic) {
		ipc_reply_invalid_parameter(call, "nic");
		return;
	}
	if (p->domain && strlen(p->domain) >= ATTACH_DOMAIN_MAX) {
		ipc_reply_invalid_parameter(call, "domain");
		return;
	}
	attach_id_init(&id);
	if (attach_id_set_domain(&id, p->domain) < 0) {
		reply_text(a, call, NULL, "out of memory reading the request");
		return;
	}
	attach_direct_id(a, call, p, &id);
	attach_id_clear(&id);
}

/* By domain: libvirt's view, or the caller's XML (the hook). */
static void attach_by_domain(struct api_attach *a, struct ipc_call *call,
			     const struct attach_params *p)
{
	struct reconcile_outcome out = { 0 };
	struct virt_request req;
	struct virt_reply rep;
	uint8_t m[NIC_MAC_LEN];
	json_object *would = NULL, *r;

	if (!a->follow) {
		reply_no_such_domain(a, call, p->domain);
		return;
	}
	if (p->mac && parse_mac(call, p->mac, m) < 0)
		return;
	request_init(&req, p->domain, p->nic, p->mac ? m : NULL, p->xml);
	req.queues = p->has_queues ? (uint32_t)p->queues : 0;
	req.dry_run = p->dry_run;
	a->collect = &out;
	virt_follow_attach(a->follow, &req, &rep);
	a->collect = NULL;
	if (p->dry_run && rep.error == VIRT_REQ_OK)
		would = dry_run_vnics(a, &rep, &out);
	if (rep.error != VIRT_REQ_OK) {
		/* the kind of the first refusal, every refused vNIC in the text */
		if (out.error_name && rep.error == VIRT_REQ_FAILED)
			reply_outcome_error_msg(a, call, &out, -EIO, rep.message);
		else
			reply_virt_error(a, call, p->domain, &rep);
	} else {
		r = virt_reply_to_json(&rep);
		json_object_object_add(r, "attachments",
				       would ? json_object_get(would) :
					       attachments_of(a, rep.name, rep.uuid));
		json_object_object_add(r, "dry_run", json_object_new_boolean(p->dry_run));
		json_object_object_add(r, "plans", reconcile_outcome_plans_json(&out));
		reply_when_durable(a, call, NULL, r);
	}
	json_object_put(would);
	virt_reply_clear(&rep);
	reconcile_outcome_clear(&out);
}

static void method_attach(struct ipc_call *call, json_object *params, void *userdata)
{
	struct api_attach *a = userdata;
	struct attach_params p = { .numa = -1 };
	const struct ipc_param spec[] = {
		{ "domain", IPC_PARAM_STRING, true, &p.domain, NULL },
		{ "nic", IPC_PARAM_STRING, false, &p.nic, NULL },
		{ "mac", IPC_PARAM_STRING, false, &p.mac, NULL },
		{ "queues", IPC_PARAM_INT, false, &p.queues, &p.has_queues },
		{ "domain_xml", IPC_PARAM_STRING, false, &p.xml, NULL },
		{ "dry_run", IPC_PARAM_BOOL, false, &p.dry_run, NULL },
		{ "addresses", IPC_PARAM_ARRAY, false, &p.addrs, NULL },
		{ "numa_node", IPC_PARAM_INT, false, &p.numa, &p.has_numa },
		{ "tap", IPC_PARAM_STRING, false, &p.tap, NULL },
		{ "uuid", IPC_PARAM_STRING, false, &p.uuid, NULL },
		IPC_PARAM_END,
	};

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	if (p.has_queues && (p.queues < 1 || p.queues > ATTACH_QUEUES_MAX)) {
		ipc_reply_invalid_parameter(call, "queues");
		return;
	}
	if (p.has_numa && (p.numa < -1 || p.numa > 4095)) {
		ipc_reply_invalid_parameter(call, "numa_node");
		return;
	}
	/* A domain the follower knows goes through it: --mac narrows its vNICs. */
	if (p.mac && !p.xml && !(a->follow && virt_follow_domain_state(a->follow, p.domain)))
		attach_direct(a, call, &p);
	else
		attach_by_domain(a, call, &p);
}

/* --- Detach -------------------------------------------------------------------------- */

/* Detach through the follower (libvirt's domains, or the hook's XML); a
 * domain it does not know may still be a label zcrxd holds.  Returns how
 * many attachments went, or -errno; *replied when it answered the call. */
static int detach_by_domain(struct api_attach *a, struct ipc_call *call,
			    const struct virt_request *req, struct reconcile_outcome *out,
			    bool *replied)
{
	struct virt_reply rep;
	int removed;

	a->collect = out;
	a->removed = 0;
	virt_follow_detach(a->follow, req, &rep);
	a->collect = NULL;
	removed = a->removed;
	if (rep.error == VIRT_REQ_NO_SUCH_DOMAIN && !removed) {
		/* not libvirt's: maybe a label zcrxd holds */
		removed = reconcile_detach(a->rc, req->domain, NULL, req->nic, req->mac, false, out);
		if (!removed && !out->error_name) {
			reply_no_such_domain(a, call, req->domain);
			*replied = true;
		}
	} else if (rep.error != VIRT_REQ_OK && !out->error_name) {
		reply_virt_error(a, call, req->domain, &rep);
		*replied = true;
	}
	virt_reply_clear(&rep);
	return removed;
}

static void method_detach(struct ipc_call *call, json_object *params, void *userdata)
{
	struct api_attach *a = userdata;
	const char *domain = NULL, *nic = NULL, *mac = NULL, *xml = NULL;
	bool dry_run = false, replied = false;
	const struct ipc_param spec[] = {
		{ "domain", IPC_PARAM_STRING, true, &domain, NULL },
		{ "nic", IPC_PARAM_STRING, false, &nic, NULL },
		{ "mac", IPC_PARAM_STRING, false, &mac, NULL },
		{ "domain_xml", IPC_PARAM_STRING, false, &xml, NULL },
		{ "dry_run", IPC_PARAM_BOOL, false, &dry_run, NULL },
		IPC_PARAM_END,
	};
	struct reconcile_outcome out = { 0 };
	struct virt_request req;
	uint8_t m[NIC_MAC_LEN];
	json_object *r;
	int removed;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	if (mac && parse_mac(call, mac, m) < 0)
		return;
	if (dry_run || !a->follow) {
		removed = reconcile_detach(a->rc, domain, NULL, nic, mac ? m : NULL, dry_run, &out);
	} else {
		request_init(&req, domain, nic, mac ? m : NULL, xml);
		removed = detach_by_domain(a, call, &req, &out, &replied);
	}
	if (replied) {
		/* answered already */
	} else if (removed < 0 || out.error_name) {
		reply_outcome_error(a, call, &out, removed < 0 ? removed : -EIO);
	} else if (!removed && !a->follow && !dry_run) {
		reply_no_such_domain(a, call, domain);
	} else {
		r = json_object_new_object();
		json_object_object_add(r, "domain", json_object_new_string(domain));
		json_object_object_add(r, "removed", json_object_new_int(removed));
		json_object_object_add(r, "dry_run", json_object_new_boolean(dry_run));
		json_object_object_add(r, "plans", reconcile_outcome_plans_json(&out));
		reply_when_durable(a, call, NULL, r);
	}
	reconcile_outcome_clear(&out);
}

/* --- the rest ------------------------------------------------------------------------ */

static void method_list(struct ipc_call *call, json_object *params, void *userdata)
{
	struct api_attach *a = userdata;
	const char *nic = NULL, *domain = NULL;
	const struct ipc_param spec[] = {
		{ "nic", IPC_PARAM_STRING, false, &nic, NULL },
		{ "domain", IPC_PARAM_STRING, false, &domain, NULL },
		IPC_PARAM_END,
	};

	json_object *r;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	/* with what running domains asked for and did not get, and why */
	r = reconcile_list_json(a->rc, nic, domain, a->follow ? domain_state_of : NULL, a,
				virt_follow_refused_json(a->follow, nic, domain));
	reply_text(a, call, r, "out of memory writing the listing");
}

static void reply_plans(struct api_attach *a, struct ipc_call *call, struct reconcile_outcome *out,
			int r, bool dry_run)
{
	json_object *o;

	if (r < 0) {
		reply_outcome_error(a, call, out, r);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "dry_run", json_object_new_boolean(dry_run));
	json_object_object_add(o, "plans", reconcile_outcome_plans_json(out));
	reply_when_durable(a, call, NULL, o);
}

static void method_plan(struct ipc_call *call, json_object *params, void *userdata)
{
	struct api_attach *a = userdata;
	const char *nic = NULL;
	const struct ipc_param spec[] = {
		{ "nic", IPC_PARAM_STRING, false, &nic, NULL },
		IPC_PARAM_END,
	};
	struct reconcile_outcome out = { 0 };
	int r;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	r = reconcile_plan(a->rc, nic, !ipc_call_is_admin(call), &out);
	reply_plans(a, call, &out, r, true);
	reconcile_outcome_clear(&out);
}

static void method_rebalance(struct ipc_call *call, json_object *params, void *userdata)
{
	struct api_attach *a = userdata;
	const char *nic = NULL;
	bool dry_run = false, has_numa = false, has_comp = false;
	int64_t numa = 0, comp = 0;
	const struct ipc_param spec[] = {
		{ "nic", IPC_PARAM_STRING, false, &nic, NULL },
		{ "dry_run", IPC_PARAM_BOOL, false, &dry_run, NULL },
		{ "min_numa_gain", IPC_PARAM_INT, false, &numa, &has_numa },
		{ "min_compact_gain", IPC_PARAM_INT, false, &comp, &has_comp },
		IPC_PARAM_END,
	};
	struct plan_rebalance_opts opts = { 0 };
	struct reconcile_outcome out = { 0 };
	int r;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	if ((has_numa && (numa < 1 || numa > 1024)) || (has_comp && (comp < 1 || comp > 1 << 20))) {
		ipc_reply_invalid_parameter(call, has_numa && (numa < 1 || numa > 1024) ?
							  "min_numa_gain" :
							  "min_compact_gain");
		return;
	}
	opts.min_numa_gain = (unsigned)numa;
	opts.min_compact_gain = (unsigned)comp;
	r = reconcile_rebalance(a->rc, nic, dry_run, &opts, &out);
	reply_plans(a, call, &out, r, dry_run);
	reconcile_outcome_clear(&out);
}

static void method_reconcile(struct ipc_call *call, json_object *params, void *userdata)
{
	struct api_attach *a = userdata;
	const char *nic = NULL;
	const struct ipc_param spec[] = {
		{ "nic", IPC_PARAM_STRING, false, &nic, NULL },
		IPC_PARAM_END,
	};
	struct reconcile_outcome out = { 0 };
	struct reconcile_stats st;
	json_object *o;
	int r;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	/* asked for: the running domains are planned again too (what a new
	 * [nic] section allows, refusals asked again) */
	if (!nic && a->follow) {
		a->collect = &out;
		virt_follow_reevaluate(a->follow, "reconcile requested");
		a->collect = NULL;
		out.error_name = NULL; /* a domain's refusal shows in ListDomains */
		kerror_clear(&out.err);
	}
	r = reconcile_nic(a->rc, nic, &out);
	if (r < 0) {
		reply_outcome_error(a, call, &out, r);
		reconcile_outcome_clear(&out);
		return;
	}
	st = reconcile_get_stats(a->rc);
	o = json_object_new_object();
	json_object_object_add(o, "plans", reconcile_outcome_plans_json(&out));
	json_object_object_add(o, "repairs", json_object_new_int64((int64_t)st.repairs));
	json_object_object_add(o, "kernel_errors", json_object_new_int64((int64_t)st.kernel_errors));
	reply_when_durable(a, call, NULL, o);
	reconcile_outcome_clear(&out);
}

static void method_release(struct ipc_call *call, json_object *params, void *userdata)
{
	struct api_attach *a = userdata;
	const char *nic = NULL;
	bool dry_run = false;
	const struct ipc_param spec[] = {
		{ "nic", IPC_PARAM_STRING, true, &nic, NULL },
		{ "dry_run", IPC_PARAM_BOOL, false, &dry_run, NULL },
		IPC_PARAM_END,
	};
	struct reconcile_outcome out = { 0 };
	int r;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	r = reconcile_release(a->rc, nic, dry_run, &out);
	reply_plans(a, call, &out, r, dry_run);
	reconcile_outcome_clear(&out);
}

static const struct ipc_method methods[] = {
	{ "io.zcrx.Manager.Attach", IPC_METHOD_MUTATING, method_attach },
	{ "io.zcrx.Manager.Detach", IPC_METHOD_MUTATING, method_detach },
	{ "io.zcrx.Manager.ListAttachments", 0, method_list },
	{ "io.zcrx.Manager.Plan", 0, method_plan },
	{ "io.zcrx.Manager.Rebalance", IPC_METHOD_MUTATING, method_rebalance },
	{ "io.zcrx.Manager.Reconcile", IPC_METHOD_MUTATING, method_reconcile },
	{ "io.zcrx.Manager.Release", IPC_METHOD_MUTATING, method_release },
};

int api_attach_register(struct api_attach *a, struct ipc_server *ipc)
{
	return ipc_server_add_methods(ipc, methods, sizeof(methods) / sizeof(methods[0]), a);
}

/* --- the sink virt-follow drives ----------------------------------------------------- */

static void collect(struct api_attach *a, struct reconcile_outcome *o)
{
	size_t i;

	if (!a->collect) {
		reconcile_outcome_clear(o);
		return;
	}
	for (i = 0; i < o->n_plans; i++) {
		struct plan *v = realloc(a->collect->plans,
					 (a->collect->n_plans + 1) * sizeof(*v));

		if (!v) {
			plan_clear(&o->plans[i]);
			continue;
		}
		a->collect->plans = v;
		v[a->collect->n_plans++] = o->plans[i];
	}
	if (o->error_name && !a->collect->error_name) {
		a->collect->error_name = o->error_name;
		a->collect->err = o->err;
	}
	a->collect->changed |= o->changed;
	free(o->plans);
	memset(o, 0, sizeof(*o));
}

static int sink_attach(void *ud, const struct virt_domain_ref *dom, const struct virt_vnic *v,
		       enum virt_origin origin, char *err, size_t errlen)
{
	struct api_attach *a = ud;
	struct reconcile_outcome o = { 0 };
	struct attach_id id;
	char buf[512];
	int r;

	if (id_of_vnic(&id, dom->name, dom->uuid, v) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = reconcile_attach(a->rc, &id, false, &o, NULL);
	attach_id_clear(&id);
	/* shown with the vNIC's NIC ("MAC on NIC: ..."): not named twice */
	if (r < 0)
		snprintf(err, errlen, "%s", kerror_format_in(&o.err, v->nic, buf, sizeof(buf)));
	collect(a, &o);
	return r;
}

static int sink_detach(void *ud, const struct virt_domain_ref *dom, const uint8_t *mac,
		       const char *nic, enum virt_origin origin, char *err, size_t errlen)
{
	struct api_attach *a = ud;
	struct reconcile_outcome o = { 0 };
	char buf[512];
	int r;

	r = reconcile_detach(a->rc, dom->name, dom->uuid, nic, mac, false, &o);
	if (r < 0)
		snprintf(err, errlen, "%s", kerror_format_in(&o.err, nic, buf, sizeof(buf)));
	else
		a->removed += r;
	collect(a, &o);
	return r;
}

static void sink_prune(void *ud, const char *const *running, size_t n)
{
	struct api_attach *a = ud;
	int r = reconcile_prune(a->rc, running, n);

	if (r > 0)
		log_info(LOG_SUBSYS_MANAGER, "removed %d attachment(s) of domains that stopped", r);
}

static void sink_batch(void *ud, bool begin)
{
	struct api_attach *a = ud;

	reconcile_defer_saves(a->rc, begin);
}

static const struct virt_sink sink = {
	.attach = sink_attach,
	.detach = sink_detach,
	.prune = sink_prune,
	.batch = sink_batch,
};

const struct virt_sink *api_attach_sink(void)
{
	return &sink;
}
