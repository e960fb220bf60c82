/* SPDX-License-Identifier: MIT */
/*
 * virt-follow-int — what the parts of virt-follow share: the domain table
 * and the helpers that talk to the sink (virt-follow.c), used by the
 * requests (virt-follow-request.c) and the listings (virt-follow-json.c).
 * Not for other modules: they use virt-follow.h.
 */
#pragma once

#include <sys/types.h>

#include "virt-follow.h"

#define VF_BUCKETS 1024

#define VF_ERR_MAX 256

struct vf_held {
	struct virt_vnic v;
	bool explicit_req;      /* an operator asked: a re-plan leaves it alone */
	char error[VF_ERR_MAX]; /* why it is not attached (refused, or taken back
				 * with the domain's other vNICs), "" when attached */
};

struct vf_dom {
	struct vf_dom *hnext;        /* hash chain (by UUID) */
	struct vf_dom *next, *prev;  /* all domains, oldest first */
	uint8_t uuid[16];
	char uuid_str[37];
	char name[DOMXML_NAME_MAX];
	struct virt_dom_sm sm;
	enum virt_run_state run;
	struct domxml_domain *xml; /* last XML seen while it ran: the MAC → device map */
	struct vf_held *held;      /* what the sink was asked to attach */
	size_t n_held;
	struct virt_skip *skips;   /* what its last selection left out, and why */
	size_t n_skips;
	char reason[96];           /* last decision, for listings */
	uint64_t touched_usec;     /* last trigger (CLOCK_MONOTONIC) */
	uint64_t hook_usec;        /* last hook request for it */
	int applied_id;            /* libvirt domain id of the XML last applied, -1 none */
	bool seen;                 /* resync bookkeeping */
};

struct virt_follow {
	sd_event *ev;
	struct virt *virt; /* NULL: no libvirt */
	enum config_autoattach mode;
	struct virt_sink sink;
	void *sink_ud;
	struct virt_follow_notify notify;
	void *notify_ud;
	struct vf_dom *buckets[VF_BUCKETS];
	struct vf_dom *first, *last;
	size_t n_doms;
	struct virt_follow_stats st;
	uint64_t lat[VIRT_LAT_SAMPLES];
	size_t lat_pos;
	uint64_t lat_total;
	uint64_t lat_sorted_total; /* lat_total when st's percentiles were taken */
};

/* By UUID text or by name. */
struct vf_dom *virt_follow_lookup(struct virt_follow *f, const char *key);
struct vf_dom *virt_follow_get_dom(struct virt_follow *f, const uint8_t uuid[16], const char *name);
/* Keep x (taken) as the domain's device map when it is the XML of a
 * running domain; otherwise free it. */
void virt_follow_keep_xml(struct vf_dom *d, struct domxml_domain **x);
int virt_follow_sink_attach(struct virt_follow *f, struct vf_dom *d, const struct virt_vnic *v,
			    enum virt_origin origin, bool explicit_req, char *err, size_t errlen);
int virt_follow_sink_detach(struct virt_follow *f, struct vf_dom *d, const uint8_t *mac,
			    const char *nic, enum virt_origin origin);
/*
 * Attach the vNICs of sel for d, all or nothing (issue 10 item 10): when
 * the sink refuses one, what this call attached for the others is taken
 * back, so the domain holds either every vNIC asked for or what it held
 * before.  errs[k] (may be NULL) gets vNIC k's reason, "" when attached;
 * msg (may be NULL) the refusals, "MAC on NIC: reason; ...".  Logs the
 * outcome, refusals at warning level.  Returns how many were refused
 * (not counting those taken back).
 */
size_t virt_follow_attach_vnics(struct virt_follow *f, struct vf_dom *d,
				const struct virt_selection *sel, enum virt_origin origin,
				bool explicit_req, const char *why, char (*errs)[VF_ERR_MAX],
				char *msg, size_t msglen);
/* Does d have a vNIC it asked for and did not get (a refusal, or taken
 * back with one)? */
bool virt_follow_refused(const struct vf_dom *d);
/* Remember what sel left out of d (ListDomains, list), logging the
 * refusals among them at warning level. */
void virt_follow_note_skips(struct vf_dom *d, const struct virt_selection *sel);
/* One input to the domain's state machine (and the Monitor stream). */
enum virt_action virt_follow_feed(struct virt_follow *f, struct vf_dom *d,
				  const struct virt_input *in, const char **reason);
/* Carry out the state machine's decision. */
void virt_follow_act(struct virt_follow *f, struct vf_dom *d, enum virt_action a,
		     const char *reason, enum virt_origin origin, uint64_t event_usec);
