/* SPDX-License-Identifier: MIT */
/*
 * virt-api — the libvirt side of the daemon as the manager holds it: the
 * domain follower (virt-follow, with its libvirt connection when a URI is
 * configured), its status for GetStatus, the ListDomains method, and the
 * domain-changed / libvirt-connection events on the Monitor stream.
 *
 * Owns: turning follower state into the daemon's JSON shapes.  Must not:
 * include libvirt headers or talk to the kernel; attachments are made by
 * the sink the manager passes in (the Attach/Detach API).
 */
#pragma once

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "virt-follow.h"

struct events;
struct ipc_server;

struct virt_api {
	struct virt_follow *follow; /* always set after start (also without libvirt) */
	struct events *events;      /* borrowed */
	char *uri;                  /* NULL: no libvirt */
};

/* uri NULL or "none": run without libvirt (requests that bring their XML
 * still work).  sink: the attachment layer (NULL: attach requests fail with
 * "attachments are not available"). */
int virt_api_start(struct virt_api *a, sd_event *ev, struct ipc_server *ipc,
		   struct events *events, const char *uri, enum config_autoattach mode,
		   const struct virt_sink *sink, void *sink_ud);
void virt_api_stop(struct virt_api *a);
/* Follow another libvirt (a reload changed LibvirtURI): a new follower,
 * connected to uri ("none": without libvirt), replaces the old one, whose
 * domain table goes (the new connection's resync says what runs).  0 when
 * uri is the one in use, 1 when switched, -errno (the old one stays). */
int virt_api_set_uri(struct virt_api *a, sd_event *ev, const char *uri,
		     enum config_autoattach mode, const struct virt_sink *sink, void *sink_ud);
void virt_api_set_autoattach(struct virt_api *a, enum config_autoattach mode);

/* GetStatus "libvirt": {uri, state, ...}; state "disabled" without libvirt. */
json_object *virt_api_status_json(const struct virt_api *a);
