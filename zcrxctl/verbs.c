// SPDX-License-Identifier: MIT
/*
 * verbs — the verb table and the verbs about the daemon itself (status,
 * version).  Other verbs live in verb-*.c and are listed here.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* "N of MAX (A admin)", then what the limits refused and closed, if any. */
static void show_control(struct ctl *ctl, json_object *r)
{
	json_object *c = ctl_json_get(r, "control"), *closed;
	long long refused;
	char buf[256];
	size_t n = 0;

	if (!c) {
		ctl_print_kv(ctl->out, "Connections:", "%lld", ctl_json_int(r, "connections", 0));
		return;
	}
	ctl_print_kv(ctl->out, "Connections:", "%lld of %lld (%lld of root and admins)",
		     ctl_json_int(c, "connections", 0), ctl_json_int(c, "max_connections", 0),
		     ctl_json_int(c, "admin_connections", 0));
	refused = ctl_json_int(c, "refused_full", 0) + ctl_json_int(c, "refused_reserved", 0) +
		  ctl_json_int(c, "refused_per_user", 0);
	buf[0] = '\0';
	if (refused)
		n += (size_t)snprintf(buf, sizeof(buf), "refused %lld", refused);
	closed = ctl_json_get(c, "closed");
	if (closed && json_object_is_type(closed, json_type_object)) {
		json_object_object_foreach(closed, reason, v) {
			long long k = json_object_get_int64(v);

			if (k && n < sizeof(buf))
				n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%sclosed %lld (%s)",
						      n ? ", " : "", k, reason);
		}
	}
	if (buf[0])
		ctl_print_kv(ctl->out, "", "%s", buf);
}

static void show_binder(struct ctl *ctl, json_object *b)
{
	const char *backend;

	if (!b)
		return;
	backend = ctl_json_str(b, "backend", "?");
	if (ctl_json_bool(b, "available", false))
		ctl_print_kv(ctl->out, "Binder:", "vhost_zcrx available (%s)", backend);
	else
		ctl_print_kv(ctl->out, "Binder:", "vhost_zcrx not available: %s (%s)",
			     ctl_json_str(b, "message", "?"), backend);
}

/* One backend's line under label; a stuck call on its own line, upper
 * case, with what it holds up. */
static void show_calls(struct ctl *ctl, const char *label, json_object *c, const char *held)
{
	json_object *st = ctl_json_get(c, "stuck");

	ctl_print_kv(ctl->out, label,
		     "%s: bound %lld ms, %lld calls, longest %lld us, %lld overran, %lld refused",
		     ctl_json_str(c, "backend", "?"), ctl_json_int(c, "bound_ms", 0),
		     ctl_json_int(c, "calls", 0), ctl_json_int(c, "max_usec", 0),
		     ctl_json_int(c, "overruns", 0), ctl_json_int(c, "refused", 0));
	if (st && !json_object_is_type(st, json_type_null))
		ctl_print_kv(ctl->out, "", "STUCK: %s on %s has not returned for %lld ms; %s",
			     ctl_json_str(st, "op", "?"), ctl_json_str(st, "object", "-"),
			     ctl_json_int(st, "for_ms", 0), held);
}

static void show_kernel_calls(struct ctl *ctl, json_object *arr)
{
	size_t i, n = arr && json_object_is_type(arr, json_type_array) ?
			      json_object_array_length(arr) : 0;
	char held[128];

	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(arr, i);

		snprintf(held, sizeof(held), "no %s call is made until it does",
			 ctl_json_str(c, "backend", "?"));
		show_calls(ctl, i ? "" : "Kernel calls:", c, held);
	}
}

/* The state directory's syncer (GetStatus state_calls), when there is a
 * state directory. */
static void show_state_calls(struct ctl *ctl, json_object *c)
{
	if (!c || !json_object_is_type(c, json_type_object))
		return;
	show_calls(ctl, "State calls:", c,
		   "until it does, a change to a NIC is refused (its intent cannot be made "
		   "durable) and replies wait");
}

/* The state's commit sync under way, when one is; upper case past its
 * bound. */
static void show_commit_sync(struct ctl *ctl, json_object *cs)
{
	long long ms, bound, waiting;

	if (!cs || json_object_is_type(cs, json_type_null))
		return;
	ms = ctl_json_int(cs, "for_ms", 0);
	bound = ctl_json_int(cs, "bound_ms", 0);
	waiting = ctl_json_int(cs, "waiting", 0);
	ctl_print_kv(ctl->out, "Commit sync:", "%s%s under way for %lld ms (bound %lld ms), "
		     "%lld %s waiting", bound && ms > bound ? "SLOW: " : "",
		     ctl_json_bool(cs, "compaction", false) ? "compaction of the log" : "fdatasync",
		     ms, bound, waiting, waiting == 1 ? "reply" : "replies");
}

static void show_status(struct ctl *ctl, json_object *r)
{
	json_object *lv, *files;
	char dur[64];

	lv = ctl_json_get(r, "libvirt");
	ctl_print_kv(ctl->out, "Version:", "%s (protocol %lld)", ctl_json_str(r, "version", "?"),
		     ctl_json_int(r, "protocol", 0));
	ctl_print_kv(ctl->out, "Uptime:", "%s",
		     ctl_format_duration(ctl_json_int(r, "uptime_usec", 0), dur, sizeof(dur)));
	if (lv && ctl_json_str(lv, "uri", NULL))
		ctl_print_kv(ctl->out, "Libvirt:", "%s (%s)", ctl_json_str(lv, "state", "?"),
			     ctl_json_str(lv, "uri", ""));
	else
		ctl_print_kv(ctl->out, "Libvirt:", "%s", lv ? ctl_json_str(lv, "state", "?") : "?");
	/* not connected: why (a refused read-only socket, a libvirtd that is not there) */
	if (lv && strcmp(ctl_json_str(lv, "state", ""), "connected") &&
	    ctl_json_str(lv, "last_error", NULL))
		ctl_print_kv(ctl->out, "", "last error: %s", ctl_json_str(lv, "last_error", ""));
	ctl_print_kv(ctl->out, "NICs:", "%lld", ctl_json_int(r, "nics", 0));
	ctl_print_kv(ctl->out, "Attachments:", "%lld", ctl_json_int(r, "attachments", 0));
	show_control(ctl, r);
	show_binder(ctl, ctl_json_get(r, "binder"));
	show_kernel_calls(ctl, ctl_json_get(r, "kernel_calls"));
	show_state_calls(ctl, ctl_json_get(r, "state_calls"));
	show_commit_sync(ctl, ctl_json_get(r, "commit_sync"));
	files = ctl_json_get(r, "config_files");
	if (files && json_object_is_type(files, json_type_array)) {
		size_t i, n = json_object_array_length(files);

		for (i = 0; i < n; i++)
			ctl_print_kv(ctl->out, i ? "" : "Config:", "%s",
				     json_object_get_string(json_object_array_get_idx(files, i)));
		if (n == 0)
			ctl_print_kv(ctl->out, "Config:", "(defaults, no file)");
	}
}

static int verb_status(struct ctl *ctl, const struct ctl_args *a)
{
	return ctl_call_show(ctl, "io.zcrx.Manager.GetStatus", NULL, show_status);
}

static int verb_version(struct ctl *ctl, const struct ctl_args *a)
{
	json_object *info = NULL, *st = NULL;
	int rc;

	rc = ctl_call(ctl, "org.varlink.service.GetInfo", NULL, &info);
	if (rc == CTL_EXIT_OK)
		rc = ctl_call(ctl, "io.zcrx.Manager.GetStatus", NULL, &st);
	if (ctl->output != CTL_OUTPUT_TABLE) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "client", json_object_new_string(ZCRX_VERSION));
		json_object_object_add(o, "daemon",
				       st ? json_object_new_string(ctl_json_str(st, "version", "")) : NULL);
		json_object_object_add(o, "protocol",
				       st ? json_object_new_int((int)ctl_json_int(st, "protocol", 0)) : NULL);
		ctl_print_json(ctl, o);
		json_object_put(o);
	} else {
		fprintf(ctl->out, "zcrxctl %s\n", ZCRX_VERSION);
		if (st)
			fprintf(ctl->out, "zcrxd %s (protocol %lld)\n", ctl_json_str(st, "version", "?"),
				ctl_json_int(st, "protocol", 0));
	}
	json_object_put(info);
	json_object_put(st);
	return rc;
}

const struct ctl_verb ctl_verbs[] = {
	{ "status", 0, 0, verb_status, "status", "daemon version, uptime, libvirt, counts", NULL },
	{ "version", 0, 0, verb_version, "version", "zcrxctl's and zcrxd's versions", NULL },
	{ "nics", 0, 1, ctl_verb_nics, "nics [NIC]",
	  "NICs zcrxd sees; with NIC its capability matrix and state", NULL },
	{ "queues", 0, 1, ctl_verb_queues, "queues [NIC]",
	  "RX queues: NAPI, IRQ, CPUs, NUMA node, RSS weight, rules, providers", NULL },
	{ "monitor", 0, 0, ctl_verb_monitor, "monitor [--count N]",
	  "stream daemon events (lines; JSON lines with --json)", ctl_monitor_opts },
	{ "metrics", 0, 0, ctl_verb_metrics, "metrics",
	  "Prometheus text for node_exporter's textfile collector", NULL },
	{ "list", 0, 1, ctl_verb_list, "list [NIC] [--domain DOMAIN]",
	  "attachments: state, queues, rules, context, reasons; refused vNICs; each NIC's pool",
	  ctl_list_opts },
	{ "domains", 0, 1, ctl_verb_domains, "domains [DOMAIN]",
	  "libvirt domains zcrxd follows: state, last decision, each vNIC and why", NULL },
	{ "attach", 1, 2, ctl_verb_attach,
	  "attach DOMAIN [NIC] [--mac MAC] [--queues N] [--domain-xml FILE|-] [--dry-run]",
	  "dedicate pool queues of NIC to a vNIC (--mac), or to the domain's vNICs",
	  ctl_attach_opts },
	{ "detach", 1, 2, ctl_verb_detach, "detach DOMAIN [NIC] [--mac MAC] [--dry-run]",
	  "remove a domain's attachments (all, or on NIC / of MAC)", ctl_detach_opts },
	{ "plan", 0, 1, ctl_verb_plan, "plan [NIC]",
	  "what zcrxd would change now, with reasons and ethtool commands", NULL },
	{ "rebalance", 0, 1, ctl_verb_rebalance, "rebalance [NIC] [--dry-run]",
	  "compact the pool and move attachments to NUMA-local queues", ctl_rebalance_opts },
	{ "reconcile", 0, 1, ctl_verb_reconcile, "reconcile [NIC]",
	  "observe, plan and repair now instead of at the next timer", NULL },
	{ "release", 1, 1, ctl_verb_release, "release NIC [--dry-run]",
	  "remove everything zcrxd made on NIC and restore what it changed", ctl_dry_opts },
	{ "lease", 1, -1, ctl_verb_lease,
	  "lease NIC --flow tcp:dport=PORT[,dst=ADDR][,src=ADDR][,sport=N] [--queues N] "
	  "[--name NAME] [-- CMD ARGS...]",
	  "dedicate queues of NIC to a host zero-copy consumer (io_uring zcrx, devmem); "
	  "with -- CMD, for CMD's lifetime", ctl_lease_opts },
	{ "leases", 0, 1, ctl_verb_leases, "leases [NIC]",
	  "leases: flow, queues, rules, owner, consumer state (waiting, bound, unbound)", NULL },
	{ "unlease", 1, 1, ctl_verb_unlease, "unlease NAME|ID",
	  "release a lease and restore what it changed", NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL },
};
