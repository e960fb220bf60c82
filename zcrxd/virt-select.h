/* SPDX-License-Identifier: MIT */
/*
 * virt-select — which vNICs of a domain get dedicated queues.
 *
 * Owns: the selection policy.  Only macvtap vNICs (type='direct' with a
 * lower device, also when they come from a libvirt network) can be
 * attached: the lower device is the NIC.  Automatic selection follows
 * [daemon] AutoAttach=:
 *   metadata  the vNICs the domain's <zcrx:config> lists with enable='yes';
 *   direct    every macvtap vNIC, except those the metadata disables;
 *   none      nothing.
 * An explicit request (an operator naming the NIC) takes every macvtap vNIC
 * on that NIC (or the one --mac names), whatever the policy and metadata.
 * Queues: the request's, else the metadata's, else <driver queues>, else 1.
 * Invalid metadata selects nothing automatically (never guess) and says why.
 * Every vNIC not selected gets a reason.  Pure: no I/O.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "domxml.h"

#define VIRT_QUEUES_MAX DOMXML_META_QUEUES_MAX /* dedicated queues one vNIC may ask for */

struct virt_vnic {
	uint8_t mac[DOMXML_MAC_LEN];
	char nic[IF_NAMESIZE]; /* the macvtap's lower device */
	char tap[IF_NAMESIZE]; /* the macvtap, "" when not known (not running) */
	uint32_t queues;
	int numa_node; /* the domain's memory node when it names exactly one, else -1 */
};

struct virt_skip {
	bool has_mac;
	uint8_t mac[DOMXML_MAC_LEN];
	/* the domain asks for it and cannot have it (invalid metadata, more
	 * queues than allowed, an interface that cannot be read, metadata
	 * naming a vNIC it does not have): a refusal, not a policy's choice */
	bool refused;
	char why[320];
};

struct virt_select_filter {
	bool explicit_req;    /* an operator's request: policy and metadata do not apply */
	const char *nic;      /* only vNICs on this NIC (NULL = any) */
	const uint8_t *mac;   /* only this vNIC (NULL = any) */
	uint32_t queues;      /* override (0 = none) */
};

struct virt_selection {
	struct virt_vnic *vnics;
	size_t n;
	struct virt_skip *skips;
	size_t n_skips;
};

/* Fill *ret (free with virt_selection_clear).  flt may be NULL (automatic,
 * no filter).  Returns 0 or -ENOMEM. */
int virt_select(const struct domxml_domain *d, enum config_autoattach mode,
		const struct virt_select_filter *flt, struct virt_selection *ret);
void virt_selection_clear(struct virt_selection *s);

const struct virt_vnic *virt_selection_find(const struct virt_selection *s,
					    const uint8_t mac[DOMXML_MAC_LEN]);
