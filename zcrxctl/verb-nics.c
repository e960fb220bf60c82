// SPDX-License-Identifier: MIT
/*
 * verb-nics — `zcrxctl nics [NIC]` and `zcrxctl queues [NIC]`: the NICs
 * zcrxd observes, one NIC's capability matrix and state, and RX queues.
 * Table output is rendered from the same reply --json prints.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const char *num(json_object *o, const char *key, char *buf, size_t size)
{
	json_object *v = ctl_json_get(o, key);

	if (!v || json_object_is_type(v, json_type_null))
		return "-";
	snprintf(buf, size, "%lld", (long long)json_object_get_int64(v));
	return buf;
}

static const char *channels(json_object *ch, char *buf, size_t size)
{
	int n = 0;

	if (!ch || json_object_is_type(ch, json_type_null))
		return "-";
	buf[0] = '\0';
#define PART(name)                                                                                 \
	if (ctl_json_int(ch, name "_max", 0) || ctl_json_int(ch, name, 0))                         \
		n += snprintf(buf + n, size > (size_t)n ? size - n : 0, "%s%s %lld/%lld",          \
			      n ? " " : "", name, ctl_json_int(ch, name, 0),                       \
			      ctl_json_int(ch, name "_max", 0));
	PART("combined")
	PART("rx")
	PART("tx")
	PART("other")
#undef PART
	return buf[0] ? buf : "-";
}

static void show_nics(struct ctl *ctl, json_object *r)
{
	static const char *const head[] = { "NAME", "IFINDEX", "KIND", "DRIVER", "STATE",
					    "RXQ", "CHANNELS", "LOWER" };
	json_object *arr;
	struct ctl_table *t;
	size_t i, n;

	arr = ctl_json_get(r, "nics");
	n = arr ? json_object_array_length(arr) : 0;
	t = ctl_table_new(8, head);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		char idx[16], rxq[16], ch[96];
		const char *cells[8] = {
			ctl_json_str(o, "name", "?"),
			num(o, "ifindex", idx, sizeof(idx)),
			ctl_json_str(o, "kind", "-"),
			ctl_json_str(o, "driver", "-"),
			ctl_json_str(o, "stuck", NULL) ? "stuck" :
			ctl_json_bool(o, "up", false) ? "up" : "down",
			num(o, "rx_queues", rxq, sizeof(rxq)),
			channels(ctl_json_get(o, "channels"), ch, sizeof(ch)),
			ctl_json_str(o, "lower", "-"),
		};

		ctl_table_add(t, cells);
	}
	ctl_table_print(t, ctl->out, ctl->legend);
	ctl_table_free(t);
	if (ctl_json_str(r, "stuck", NULL))
		fprintf(ctl->out, "\nKernel calls are stuck: %s; zcrxd reads and changes no NIC "
			"until it returns.\n", ctl_json_str(r, "stuck", ""));
}

static const char *const cap_order[] = {
	"channels", "channels_set", "rings", "header_split", "hds_thresh", "rss", "rss_set",
	"rss_contexts", "ntuple", "rules", "l2_rules", "ip_rules", "flow_rules", "queue_info", "qstats", "binder",
};

static void show_nic(struct ctl *ctl, json_object *r)
{
	static const char *const head[] = { "CAPABILITY", "STATE", "DETAIL" };
	json_object *nic = ctl_json_get(r, "nic");
	json_object *lower = ctl_json_get(nic, "lower"), *rings = ctl_json_get(nic, "rings");
	json_object *rss = ctl_json_get(nic, "rss"), *rules = ctl_json_get(nic, "rules");
	json_object *caps = ctl_json_get(nic, "capabilities"), *nt = ctl_json_get(nic, "ntuple");
	json_object *kinds;
	struct ctl_table *t;
	char buf[128], node[16];
	size_t i;

	ctl_print_kv(ctl->out, "NIC:", "%s (ifindex %lld)", ctl_json_str(nic, "name", "?"),
		     ctl_json_int(nic, "ifindex", 0));
	ctl_print_kv(ctl->out, "Kind:", "%s, driver %s", ctl_json_str(nic, "kind", "hardware"),
		     ctl_json_str(nic, "driver", "unknown"));
	ctl_print_kv(ctl->out, "State:", "%s, MAC %s, MTU %lld",
		     ctl_json_bool(nic, "up", false) ? "up" : "down", ctl_json_str(nic, "mac", "?"),
		     ctl_json_int(nic, "mtu", 0));
	if (ctl_json_str(nic, "stuck", NULL))
		ctl_print_kv(ctl->out, "Stuck:", "%s", ctl_json_str(nic, "stuck", ""));
	if (lower && !json_object_is_type(lower, json_type_null))
		ctl_print_kv(ctl->out, "Lower:", "%s (ifindex %lld, mode %s)",
			     ctl_json_str(lower, "name", "in another netns"),
			     ctl_json_int(lower, "ifindex", 0), ctl_json_str(lower, "mode", "?"));
	ctl_print_kv(ctl->out, "Bus:", "%s, NUMA node %s", ctl_json_str(nic, "bus_info", "-"),
		     num(nic, "numa_node", node, sizeof(node)));
	ctl_print_kv(ctl->out, "Channels:", "%s",
		     channels(ctl_json_get(nic, "channels"), buf, sizeof(buf)));
	if (rings && !json_object_is_type(rings, json_type_null))
		ctl_print_kv(ctl->out, "Rings:", "rx %lld/%lld tx %lld/%lld, header split %s",
			     ctl_json_int(rings, "rx", 0), ctl_json_int(rings, "rx_max", 0),
			     ctl_json_int(rings, "tx", 0), ctl_json_int(rings, "tx_max", 0),
			     ctl_json_str(rings, "tcp_data_split", "not reported"));
	ctl_print_kv(ctl->out, "Ntuple:", "%s%s", ctl_json_bool(nt, "active", false) ? "on" : "off",
		     ctl_json_bool(nt, "changeable", false) ? "" : " (fixed)");
	if (rss && !json_object_is_type(rss, json_type_null))
		ctl_print_kv(ctl->out, "RSS:", "table %lld entries, hash %s, %lld extra context(s)",
			     ctl_json_int(rss, "table_size", 0), ctl_json_str(rss, "hfunc", "?"),
			     ctl_json_int(rss, "contexts_in_use", 0));
	if (rules && !json_object_is_type(rules, json_type_null))
		ctl_print_kv(ctl->out, "Rules:", "%lld of %lld slots used",
			     ctl_json_int(rules, "count", 0), ctl_json_int(rules, "capacity", 0));
	ctl_print_kv(ctl->out, "Queues:", "%lld RX, %lld bound", ctl_json_int(nic, "rx_queues", 0),
		     ctl_json_int(nic, "bound_queues", 0));
	fputc('\n', ctl->out);

	t = ctl_table_new(3, head);
	for (i = 0; caps && i < sizeof(cap_order) / sizeof(cap_order[0]); i++) {
		json_object *c = ctl_json_get(caps, cap_order[i]);
		const char *cells[3] = { cap_order[i], ctl_json_str(c, "state", "?"),
					 ctl_json_str(c, "message", "") };

		if (c)
			ctl_table_add(t, cells);
	}
	/* what each kind of rule taught (those not tried yet are left out) */
	if (caps && (kinds = ctl_json_get(caps, "rule_kinds"))) {
		json_object_object_foreach(kinds, name, c)
		{
			const char *cells[3] = { name, ctl_json_str(c, "state", "?"),
						 ctl_json_str(c, "message", "") };

			if (strcmp(cells[1], "unknown"))
				ctl_table_add(t, cells);
		}
	}
	ctl_table_print(t, ctl->out, ctl->legend);
	ctl_table_free(t);
}

int ctl_verb_nics(struct ctl *ctl, const struct ctl_args *a)
{
	if (a->argc == 0)
		return ctl_call_show(ctl, "io.zcrx.Manager.ListNics", NULL, show_nics);
	return ctl_call_show(ctl, "io.zcrx.Manager.GetNic", ctl_params_nic(a->argv[0]), show_nic);
}

static void join_array(json_object *arr, char *buf, size_t size)
{
	size_t i, n = arr ? json_object_array_length(arr) : 0;
	int off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && (size_t)off < size; i++)
		off += snprintf(buf + off, size - (size_t)off, "%s%s", i ? "," : "",
				json_object_get_string(json_object_array_get_idx(arr, i)));
}

static void show_queues(struct ctl *ctl, json_object *r)
{
	static const char *const head[] = { "NIC", "QUEUE", "NAPI", "IRQ", "CPUS", "NODE",
					    "RSS", "RULES", "PROVIDERS" };
	json_object *arr;
	struct ctl_table *t;
	size_t i, n;

	arr = ctl_json_get(r, "queues");
	n = arr ? json_object_array_length(arr) : 0;
	t = ctl_table_new(9, head);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *in = ctl_json_get(o, "in_default_rss");
		char q[16], napi[16], irq[16], node[16], rss[32], rules[128], prov[64];
		const char *cells[9];

		if (!in || json_object_is_type(in, json_type_null))
			snprintf(rss, sizeof(rss), "?");
		else if (json_object_get_boolean(in))
			snprintf(rss, sizeof(rss), "yes (%lld)", ctl_json_int(o, "rss_weight", 0));
		else
			snprintf(rss, sizeof(rss), "no");
		join_array(ctl_json_get(o, "rules"), rules, sizeof(rules));
		join_array(ctl_json_get(o, "providers"), prov, sizeof(prov));
		cells[0] = ctl_json_str(o, "nic", "?");
		cells[1] = num(o, "index", q, sizeof(q));
		cells[2] = num(o, "napi_id", napi, sizeof(napi));
		cells[3] = num(o, "irq", irq, sizeof(irq));
		cells[4] = ctl_json_str(o, "cpus", "-");
		cells[5] = num(o, "numa_node", node, sizeof(node));
		cells[6] = rss;
		cells[7] = rules[0] ? rules : "-";
		cells[8] = prov[0] ? prov : "-";
		ctl_table_add(t, cells);
	}
	ctl_table_print(t, ctl->out, ctl->legend);
	ctl_table_free(t);
}

int ctl_verb_queues(struct ctl *ctl, const struct ctl_args *a)
{
	return ctl_call_show(ctl, "io.zcrx.Manager.ListQueues",
			     ctl_params_nic(a->argc ? a->argv[0] : NULL), show_queues);
}
