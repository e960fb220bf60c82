// SPDX-License-Identifier: MIT
/*
 * virt-follow-request — the Attach and Detach requests (the API and the
 * hook) against the domains virt-follow knows (virt-follow.h).
 * Must not: call libvirt (a hook's domain is answered from its XML alone),
 * touch the kernel.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "virt-follow-int.h"
#include "monotime.h"

/* --- requests -------------------------------------------------------------------------- */

const char *virt_req_error_name(enum virt_req_error e)
{
	switch (e) {
	case VIRT_REQ_OK: return NULL;
	case VIRT_REQ_NO_SUCH_DOMAIN: return "io.zcrx.Manager.NoSuchDomain";
	case VIRT_REQ_INVALID_XML: return "org.varlink.service.InvalidParameter";
	case VIRT_REQ_NOT_RUNNING: return "io.zcrx.Manager.NoSuchDomain";
	case VIRT_REQ_NO_VNIC: return "io.zcrx.Manager.NoSuchVnic";
	case VIRT_REQ_FAILED: return "io.zcrx.Manager.AttachFailed";
	}
	return "io.zcrx.Manager.AttachFailed";
}

static void reply_err(struct virt_reply *r, enum virt_req_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_err(struct virt_reply *r, enum virt_req_error e, const char *fmt, ...)
{
	va_list ap;

	r->error = e;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

void virt_reply_clear(struct virt_reply *r)
{
	virt_selection_clear(&r->sel);
	free(r->failed_msg);
	memset(r, 0, sizeof(*r));
}

/*
 * Find (or, from caller XML, make) the domain a request is about.  *ret_x
 * is the XML to select from: the caller's (owned by the caller of this
 * function via *ret_own) or the domain's last running XML.
 */
static struct vf_dom *resolve(struct virt_follow *f, const struct virt_request *req,
			      struct virt_reply *rep, struct domxml_domain **ret_own)
{
	struct domxml_domain *x = NULL;
	char err[DOMXML_ERR_MAX];
	struct vf_dom *d;
	int r;

	*ret_own = NULL;
	if (!req->xml) {
		d = virt_follow_lookup(f, req->domain);
		if (!d) {
			reply_err(rep, VIRT_REQ_NO_SUCH_DOMAIN, "no domain '%s' is known%s",
				  req->domain ? req->domain : "",
				  f->virt ? "" : " (zcrxd runs without libvirt: pass --domain-xml)");
			return NULL;
		}
		return d;
	}
	r = domxml_parse(req->xml, req->xml_len, &x, err, sizeof(err));
	if (r < 0) {
		reply_err(rep, VIRT_REQ_INVALID_XML, "domain XML: %s", err);
		return NULL;
	}
	if (req->domain && *req->domain && strcmp(req->domain, x->name) &&
	    strcmp(req->domain, x->uuid_str)) {
		reply_err(rep, VIRT_REQ_INVALID_XML, "the XML describes domain '%s', not '%s'",
			  x->name, req->domain);
		domxml_free(x);
		return NULL;
	}
	d = virt_follow_get_dom(f, x->uuid, x->name);
	if (!d) {
		domxml_free(x);
		reply_err(rep, VIRT_REQ_FAILED, "out of memory");
		return NULL;
	}
	/* before the stamp: a stop event the worker passes on unread from
	 * now on was received before it (virt_note_hook) */
	if (req->origin == VIRT_ORIGIN_HOOK && f->virt)
		virt_note_hook(f->virt);
	d->touched_usec = monotime_usec();
	if (req->origin == VIRT_ORIGIN_HOOK)
		d->hook_usec = d->touched_usec;
	*ret_own = x;
	return d;
}

static void fill_reply(struct virt_reply *rep, const struct vf_dom *d)
{
	snprintf(rep->name, sizeof(rep->name), "%s", d->name);
	snprintf(rep->uuid, sizeof(rep->uuid), "%s", d->uuid_str);
	rep->state = virt_dom_state_name(d->sm.state);
}

/* Attach every vNIC of sel (explicit or not), noting refusals. */
/* Attach the selected vNICs, all or nothing, noting each one's outcome. */
static void attach_selection(struct virt_follow *f, struct vf_dom *d, struct virt_reply *rep,
			     enum virt_origin origin, bool explicit_req)
{
	char list[512];
	size_t k;

	if (!rep->sel.n)
		return;
	rep->failed_msg = calloc(rep->sel.n, sizeof(*rep->failed_msg));
	if (!rep->failed_msg) {
		reply_err(rep, VIRT_REQ_FAILED, "out of memory");
		return;
	}
	rep->n_refused = virt_follow_attach_vnics(f, d, &rep->sel, origin, explicit_req,
						  origin == VIRT_ORIGIN_HOOK ? "hook" : "request",
						  rep->failed_msg, list, sizeof(list));
	for (k = 0; k < rep->sel.n; k++)
		rep->n_failed += rep->failed_msg[k][0] != 0;
	if (rep->n_refused)
		reply_err(rep, VIRT_REQ_FAILED,
			  "%zu of %zu vNIC(s) of '%s' refused, none attached (a domain's vNICs are "
			  "attached together): %s", rep->n_refused, rep->sel.n, d->name, list);
}

void virt_follow_attach(struct virt_follow *f, const struct virt_request *req,
			struct virt_reply *rep)
{
	struct virt_select_filter flt = { 0 };
	struct domxml_domain *own = NULL;
	const struct domxml_domain *x;
	const char *reason = "";
	enum virt_action a;
	struct vf_dom *d;
	bool explicit_req = req->nic != NULL;

	memset(rep, 0, sizeof(*rep));
	rep->dry_run = req->dry_run;
	d = resolve(f, req, rep, &own);
	if (!d)
		return;
	fill_reply(rep, d);
	/* The caller's XML of a running domain is the newest device map; a
	 * hook's is the run's, which its start events need not read again. */
	if (own && own->id >= 0 && !req->dry_run) {
		if (req->origin == VIRT_ORIGIN_HOOK && f->virt)
			virt_note_hook_run(f->virt, own->name, own->uuid, own->id);
		virt_follow_keep_xml(d, &own);
		x = d->xml;
	} else {
		x = own ? own : d->xml;
	}
	if (!x) {
		reply_err(rep, VIRT_REQ_NOT_RUNNING, "domain '%s' is not running", d->name);
		goto out;
	}
	flt.explicit_req = explicit_req;
	flt.nic = req->nic;
	flt.mac = req->mac;
	flt.queues = req->queues;
	if (virt_select(x, f->mode, &flt, &rep->sel) < 0) {
		reply_err(rep, VIRT_REQ_FAILED, "out of memory");
		goto out;
	}
	if (explicit_req && !rep->sel.n) {
		char m[18];

		if (rep->sel.n_skips)
			reply_err(rep, VIRT_REQ_NO_VNIC, "domain '%s': %s", d->name,
				  rep->sel.skips[0].why);
		else
			reply_err(rep, VIRT_REQ_NO_VNIC, "domain '%s' has no macvtap vNIC%s%s on '%s'",
				  d->name, req->mac ? " " : "",
				  req->mac ? nic_mac_format(req->mac, m) : "", req->nic);
		goto out;
	}
	if (req->dry_run)
		goto out;

	if (req->origin == VIRT_ORIGIN_HOOK && !explicit_req) {
		/* start/begin: the same decision the events would make, once */
		struct virt_input in = { .kind = VIRT_IN_HOOK_ATTACH };

		a = virt_follow_feed(f, d, &in, &reason);
		snprintf(d->reason, sizeof(d->reason), "%s", reason);
		/* attached to another run (a stop we never saw): this is new; a
		 * refusal of this run's attach is asked again, never answered
		 * as done */
		if (a == VIRT_ACT_NONE && !d->sm.held &&
		    ((x->id >= 0 && x->id != d->applied_id) || virt_follow_refused(d)))
			a = VIRT_ACT_ATTACH;
		if (a == VIRT_ACT_ATTACH) {
			d->applied_id = x->id;
			virt_follow_note_skips(d, &rep->sel);
			attach_selection(f, d, rep, req->origin, false);
		}
	} else {
		struct virt_input in = { .kind = VIRT_IN_OP_ATTACH };

		(void)virt_follow_feed(f, d, &in, &reason);
		snprintf(d->reason, sizeof(d->reason), "%s", reason);
		attach_selection(f, d, rep, req->origin, explicit_req);
	}
	rep->state = virt_dom_state_name(d->sm.state);
out:
	domxml_free(own);
}

void virt_follow_detach(struct virt_follow *f, const struct virt_request *req,
			struct virt_reply *rep)
{
	struct domxml_domain *own = NULL;
	const char *reason = "";
	struct virt_domain_ref ref;
	enum virt_action a;
	struct vf_dom *d;
	char err[256] = "";
	int r;

	memset(rep, 0, sizeof(*rep));
	d = resolve(f, req, rep, &own);
	domxml_free(own); /* stop-time XML: nothing in it we need */
	if (!d) {
		/* Unknown here (zcrxd restarted, no libvirt): the attachment
		 * layer may still hold something under that name. */
		if (rep->error != VIRT_REQ_NO_SUCH_DOMAIN || req->dry_run || !f->sink.detach)
			return;
		ref.name = req->domain;
		ref.uuid = "";
		r = f->sink.detach(f->sink_ud, &ref, req->mac, req->nic, req->origin, err,
				   sizeof(err));
		if (r > 0) {
			rep->error = VIRT_REQ_OK;
			rep->message[0] = 0;
			snprintf(rep->name, sizeof(rep->name), "%s", req->domain);
		}
		return;
	}
	fill_reply(rep, d);
	if (req->dry_run)
		return;
	if (req->origin == VIRT_ORIGIN_HOOK && !req->nic && !req->mac) {
		struct virt_input in = { .kind = VIRT_IN_HOOK_DETACH };

		a = virt_follow_feed(f, d, &in, &reason);
		virt_follow_act(f, d, a, reason, req->origin, 0);
	} else {
		if (!req->nic && !req->mac) {
			struct virt_input in = { .kind = VIRT_IN_OP_DETACH };

			(void)virt_follow_feed(f, d, &in, &reason);
			snprintf(d->reason, sizeof(d->reason), "%s", reason);
		}
		r = virt_follow_sink_detach(f, d, req->mac, req->nic, req->origin);
		if (r < 0)
			reply_err(rep, VIRT_REQ_FAILED, "detach failed: %s", strerror(-r));
	}
	rep->state = virt_dom_state_name(d->sm.state);
}
