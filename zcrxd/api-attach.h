/* SPDX-License-Identifier: MIT */
/*
 * api-attach — io.zcrx.Manager.Attach, Detach, ListAttachments, Plan,
 * Rebalance, Reconcile and Release (docs/ipc.md), and the attachment sink
 * the libvirt follower (virt-follow) drives.
 *
 * An Attach names the vNIC directly (domain label + NIC + --mac), or leaves
 * the resolving to the domain resolver (virt-follow): by domain name from
 * what libvirt told zcrxd, or from the domain XML the caller passes (the
 * libvirt hook).  Either way every vNIC ends in reconcile_attach().
 *
 * Owns: request/reply shapes and error mapping.  Must not: talk to the
 * kernel or libvirt (reconcile and virt-follow do).
 */
#pragma once

#include "reconcile.h"
#include "virt-follow.h"

struct ipc_call;
struct ipc_server;
struct nic_monitor;

struct api_attach {
	struct reconcile *rc;
	struct nic_monitor *monitor;
	/* The domain resolver (NULL: only direct requests with --mac work). */
	struct virt_follow *follow;
	/* Plans and errors the sink produced during the current request. */
	struct reconcile_outcome *collect;
	int removed;
};

int api_attach_register(struct api_attach *a, struct ipc_server *ipc);
/* Reply (error NULL) or fail with error once the state is durable (group
 * commit): no reply tells of a change a crash could lose.  Takes params. */
void api_attach_reply_durable(struct reconcile *rc, struct ipc_call *call, const char *error,
			      json_object *params);
/* The sink to hand to virt_api_start (userdata: the struct api_attach). */
const struct virt_sink *api_attach_sink(void);
