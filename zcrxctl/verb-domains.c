// SPDX-License-Identifier: MIT
/*
 * verb-domains — `zcrxctl domains [DOMAIN]`: the libvirt domains zcrxd
 * follows (from libvirt and from hooks), what it last decided about each,
 * and what became of every vNIC: attached, refused (with the reason), or
 * left out by the selection (and why).  Rendered from the reply --json
 * prints (ListDomains).
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static void show_domains(struct ctl *ctl, json_object *r)
{
	static const char *const head[] = { "DOMAIN", "UUID", "STATE", "METADATA", "DECISION" };
	json_object *doms = ctl_json_get(r, "domains");
	size_t i, k, n = doms ? json_object_array_length(doms) : 0;
	struct ctl_table *t = ctl_table_new(5, head);

	for (i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(doms, i);
		const char *dec = ctl_json_str(d, "last_decision", "");
		const char *cells[5] = {
			ctl_json_str(d, "name", "?"), ctl_json_str(d, "uuid", "-"),
			ctl_json_str(d, "state", "?"), ctl_json_str(d, "metadata", "?"),
			dec[0] ? dec : "-",
		};

		ctl_table_add(t, cells);
	}
	ctl_table_print(t, ctl->out, ctl->legend);
	ctl_table_free(t);
	for (i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(doms, i);
		json_object *v = ctl_json_get(d, "vnics"), *s = ctl_json_get(d, "skipped");
		const char *name = ctl_json_str(d, "name", "?");
		const char *merr = ctl_json_str(d, "metadata_error", NULL);

		if (merr)
			fprintf(ctl->out, "  %s: invalid zcrx metadata: %s\n", name, merr);
		for (k = 0; v && k < json_object_array_length(v); k++) {
			json_object *x = json_object_array_get_idx(v, k);
			const char *err = ctl_json_str(x, "error", NULL);

			fprintf(ctl->out, "  %s %s on %s: %s%s%s\n", name, ctl_json_str(x, "mac", "?"),
				ctl_json_str(x, "nic", "?"), ctl_json_str(x, "state", "?"),
				err ? ": " : "", err ? err : "");
		}
		for (k = 0; s && k < json_object_array_length(s); k++) {
			json_object *x = json_object_array_get_idx(s, k);

			fprintf(ctl->out, "  %s %s: %s: %s\n", name, ctl_json_str(x, "mac", "vNIC"),
				ctl_json_bool(x, "refused", false) ? "refused" : "not selected",
				ctl_json_str(x, "reason", ""));
		}
	}
}

int ctl_verb_domains(struct ctl *ctl, const struct ctl_args *a)
{
	json_object *p = json_object_new_object();

	if (a->argc)
		json_object_object_add(p, "domain", json_object_new_string(a->argv[0]));
	return ctl_call_show(ctl, "io.zcrx.Manager.ListDomains", p, show_domains);
}
