/* SPDX-License-Identifier: MIT */
/*
 * virt-follow — follow libvirt domains and keep their vNICs attached.
 *
 * Owns: the table of domains zcrxd knows (name, UUID, state machine, the
 * last XML seen while running — the MAC → device map, since stop-time XML
 * has no targets — and what was asked of the attachment layer for each),
 * the routing of every trigger through virt-domain's state machine and
 * virt-select's policy, and the requests from the API and the hook.
 *
 * Triggers: libvirt events and resyncs (from virt.c, which owns the
 * connection and all blocking calls), hook requests (with the XML the hook
 * got on stdin: answered from that XML alone, never by asking libvirt —
 * libvirtd holds the domain while its hook waits), operator requests
 * (answered from what zcrxd knows: no libvirt call either).
 *
 * Output goes through struct virt_sink: attach one vNIC, detach one or all
 * vNICs of a domain, prune attachments of domains that are not running.
 * The sink is synchronous (one plan at a time on the loop); triggers that
 * arrive meanwhile queue up behind it in virt.c, so a domain that changed
 * while its plan ran is planned again after, from the newer XML.
 *
 * Must not: include libvirt headers, talk to the kernel, block.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "domxml.h"
#include "virt-domain.h"
#include "virt-select.h"
#include "virt.h"

struct virt_follow;

/* Identifies a domain to the sink. */
struct virt_domain_ref {
	const char *name;
	const char *uuid; /* canonical text */
};

enum virt_origin {
	VIRT_ORIGIN_EVENT = 0, /* libvirt event or resync */
	VIRT_ORIGIN_HOOK,      /* the qemu.d hook (XML from its stdin) */
	VIRT_ORIGIN_OPERATOR,  /* zcrxctl */
};

struct virt_sink {
	/* Make (or keep) the attachment of one vNIC.  0 or -errno with a
	 * message; the error is shown with the domain, not fatal to others. */
	int (*attach)(void *ud, const struct virt_domain_ref *dom, const struct virt_vnic *v,
		      enum virt_origin origin, char *err, size_t errlen);
	/* Remove the attachment of vNIC mac on nic; mac NULL = every vNIC of
	 * the domain (nic NULL = on any NIC).  Returns how many attachments it
	 * removed (0 when there was nothing: not an error) or -errno. */
	int (*detach)(void *ud, const struct virt_domain_ref *dom, const uint8_t *mac,
		      const char *nic, enum virt_origin origin, char *err, size_t errlen);
	/* After a resync: remove attachments of libvirt domains (those with a
	 * UUID) that are not in running[].  Optional. */
	void (*prune)(void *ud, const char *const *running_uuids, size_t n);
	/* Around a burst of libvirt results handled in one go (begin true,
	 * then false): the sink may commit its state once for all.  Optional. */
	void (*batch)(void *ud, bool begin);
};

/* What happened, for the Monitor stream (optional). */
struct virt_follow_notify {
	/* A domain changed state or something is done about it. */
	void (*domain)(void *ud, const struct virt_domain_ref *dom, const char *state,
		       const char *action, const char *reason);
	/* The libvirt connection changed ("connected", "disconnected", ...). */
	void (*connection)(void *ud, const char *state, const char *message);
};

struct virt_follow_options {
	const char *uri; /* NULL or "none": no libvirt (requests with XML still work) */
	enum config_autoattach autoattach;
	struct virt_options virt; /* uri is filled in from above */
	struct virt_follow_notify notify;
	void *notify_ud;
};

int virt_follow_new(sd_event *ev, const struct virt_follow_options *opts,
		    const struct virt_sink *sink, void *sink_ud, struct virt_follow **ret);
struct virt_follow *virt_follow_free(struct virt_follow *f);
/* A config reload: applies to what happens from now on. */
void virt_follow_set_autoattach(struct virt_follow *f, enum config_autoattach mode);
/* Plan the running domains' vNICs again with what is configured now (a
 * reload, `zcrxctl reconcile`): what a new [nic] section allows is
 * attached, what is no longer selected detached, refusals asked again
 * (ListDomains then shows the new outcome).  Domains an operator detached
 * and incoming migrations are left alone; operator-requested vNICs stay. */
void virt_follow_reevaluate(struct virt_follow *f, const char *why);

/* --- requests (Attach / Detach methods, the hook) ------------------------------------- */

enum virt_req_error {
	VIRT_REQ_OK = 0,
	VIRT_REQ_NO_SUCH_DOMAIN, /* io.zcrx.Manager.NoSuchDomain */
	VIRT_REQ_INVALID_XML,    /* org.varlink.service.InvalidParameter domain_xml */
	VIRT_REQ_NOT_RUNNING,    /* the domain does not run (no device to attach to) */
	VIRT_REQ_NO_VNIC,        /* nothing matched NIC / --mac */
	VIRT_REQ_FAILED,         /* the sink refused at least one vNIC */
};

struct virt_request {
	const char *domain;  /* name or UUID (also checked against the XML) */
	const char *nic;     /* NULL: the vNICs AutoAttach selects (what the hook uses) */
	const uint8_t *mac;  /* NULL: any */
	uint32_t queues;     /* 0: from metadata / driver / 1 */
	const char *xml;     /* the domain XML from the caller (hook), NULL: what zcrxd knows */
	size_t xml_len;
	bool dry_run;        /* select only, change nothing */
	enum virt_origin origin;
};

struct virt_reply {
	enum virt_req_error error;
	char message[512];
	char name[DOMXML_NAME_MAX];
	char uuid[37];
	const char *state;          /* the domain's state as zcrxd sees it */
	struct virt_selection sel;  /* what was (or would be) attached, and what not and why */
	bool dry_run;               /* nothing was attached: sel is what would be */
	size_t n_refused;           /* of sel.vnics, refused by the sink */
	size_t n_failed;            /* of sel.vnics, not attached: refused or taken back */
	char (*failed_msg)[256];    /* per sel.vnics entry, why not; "" when attached */
};

/* Attach: resolve the domain, select vNICs, apply (unless dry run). */
void virt_follow_attach(struct virt_follow *f, const struct virt_request *req,
			struct virt_reply *ret);
/* Detach: every vNIC of the domain (or those on req->nic / req->mac). */
void virt_follow_detach(struct virt_follow *f, const struct virt_request *req,
			struct virt_reply *ret);
void virt_reply_clear(struct virt_reply *r);
/* The reply as Varlink parameters (domain, uuid, state, vnics[], skipped[]). */
json_object *virt_reply_to_json(const struct virt_reply *r);
const char *virt_req_error_name(enum virt_req_error e);

/* --- what zcrxd knows ----------------------------------------------------------------- */

/* The domain's state ("running", "shut off", ...) by UUID text; NULL when
 * unknown.  For decorating attachment listings. */
const char *virt_follow_domain_state(struct virt_follow *f, const char *uuid);
/* ListDomains' domains (every known one, or the one named domain, by
 * name or UUID): Domain[] of the IDL, each vNIC with what became of it
 * and what its last selection left out.  -ENOENT for an unknown domain. */
int virt_follow_domains_json(struct virt_follow *f, const char *domain, json_object **ret);
/* RefusedVnic[] of ListAttachments: the vNICs of running domains zcrxd
 * refused (or took back), and those a domain asks for and cannot have
 * (invalid metadata...), on nic / of domain when not NULL. */
json_object *virt_follow_refused_json(struct virt_follow *f, const char *nic, const char *domain);
/* {"uri", "state", "connects", "failures", "events", "queued", "domains", "last_error"}
 * or null when libvirt is not used. */
json_object *virt_follow_status_json(struct virt_follow *f);

struct virt_follow_stats {
	uint64_t events;   /* libvirt events handled */
	uint64_t last_usec; /* CLOCK_MONOTONIC when the last one was handled, 0 none */
	uint64_t resyncs;
	uint64_t attaches; /* sink attach calls */
	uint64_t detaches;
	uint64_t errors;   /* sink calls that failed */
	/* event → attachment latency (from the moment the loop got libvirt's
	 * event to the end of the sink call), last VIRT_LAT_SAMPLES samples */
	uint64_t lat_n;
	uint64_t lat_p50_usec, lat_p99_usec, lat_max_usec;
};
#define VIRT_LAT_SAMPLES 4096
void virt_follow_get_stats(struct virt_follow *f, struct virt_follow_stats *ret);
