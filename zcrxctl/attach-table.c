// SPDX-License-Identifier: MIT
/*
 * attach-table — the attachment table of `zcrxctl list` and `attach`, and
 * the NIC lines under it, rendered from the reply read with jtok
 * (lib/jtok.h): `zcrxctl list` of thousands of attachments reads its reply
 * without building a json-c tree.  --json prints the reply through json-c
 * as before (ctl_call_show).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "jtok.h"

static const char *ranges(const struct jtok_doc *d, int arr, char *buf, size_t size)
{
	long long v[256];
	size_t n = 0;
	int i;

	for (i = jtok_first(d, arr); i >= 0 && n < jtok_len(d, arr) && n < 256;
	     i = jtok_after(d, i))
		v[n++] = jtok_int(d, i, 0);
	return ctl_ranges(v, n, buf, size);
}

static const char *zero_copy(const struct jtok_doc *d, int a, char *buf, size_t size)
{
	int b = jtok_get(d, a, "bindings"), i;
	const char *st[64];
	size_t n = 0;

	for (i = jtok_first(d, b); i >= 0 && n < jtok_len(d, b) && n < 64; i = jtok_after(d, i))
		st[n++] = jtok_get_str(d, i, "state", "?");
	return ctl_zero_copy_of(st, n, jtok_len(d, jtok_get(d, a, "queues")), buf, size);
}

void ctl_print_reason_doc(FILE *f, const char *indent, const struct jtok_doc *d, int r)
{
	ctl_print_reason_of(f, indent, jtok_get_str(d, r, "code", "?"), jtok_get_str(d, r, "op", "?"),
			    jtok_get_str(d, r, "message", ""),
			    jtok_get_str(d, r, "errno_name", NULL));
}

void ctl_print_attachments(struct ctl *ctl, const struct jtok_doc *d, int arr, int refused)
{
	static const char *const head[] = { "DOMAIN", "UUID", "DOMSTATE", "MAC", "NIC", "STATE",
					    "QUEUES", "RULES", "CONTEXT", "STEERING", "ZERO-COPY" };
	struct ctl_table *t = ctl_table_new(11, head);
	size_t k, n = jtok_len(d, arr);
	int a;

	for (a = jtok_first(d, arr), k = 0; a >= 0 && k < n; a = jtok_after(d, a), k++) {
		char q[128], rl[128], cx[24], zc[64], dom[80];
		const char *steer = jtok_get_str(d, a, "steering", "");
		int ctx = jtok_get(d, a, "rss_context");
		const char *cells[11] = {
			jtok_get_str(d, a, "domain", "?"),
			jtok_get_str(d, a, "uuid", "-"),
			jtok_get_str(d, a, "domain_state", "-"),
			jtok_get_str(d, a, "mac", "?"),
			jtok_get_str(d, a, "nic", "?"),
			jtok_get_str(d, a, "state", "?"),
			ranges(d, jtok_get(d, a, "queues"), q, sizeof(q)),
			ranges(d, jtok_get(d, a, "rules"), rl, sizeof(rl)),
			"-",
			steer[0] ? steer : "none",
			zero_copy(d, a, zc, sizeof(zc)),
		};

		if (ctx >= 0 && !jtok_is(d, ctx, JTOK_NULL)) {
			snprintf(cx, sizeof(cx), "%lld", jtok_int(d, ctx, 0));
			cells[8] = cx;
		}
		if (!strcmp(jtok_get_str(d, a, "kind", ""), "lease")) {
			/* a host consumer's lease: its name, its consumer */
			const char *prov = jtok_get_str(d, a, "providers", "");

			snprintf(dom, sizeof(dom), "lease:%s", jtok_get_str(d, a, "domain", "?"));
			cells[0] = dom;
			cells[2] = jtok_get_str(d, a, "lease_state", "?");
			cells[3] = "-";
			cells[10] = prov[0] ? prov : "no";
		}
		ctl_table_add(t, cells);
	}
	/* the vNICs of running domains zcrxd refused, as rows "refused" */
	for (a = jtok_first(d, refused), k = 0; a >= 0 && k < jtok_len(d, refused);
	     a = jtok_after(d, a), k++) {
		const char *cells[11] = {
			jtok_get_str(d, a, "domain", "?"), jtok_get_str(d, a, "uuid", "-"),
			jtok_get_str(d, a, "domain_state", "-"), jtok_get_str(d, a, "mac", "-"),
			jtok_get_str(d, a, "nic", "-"), "refused", "-", "-", "-", "none", "no",
		};

		ctl_table_add(t, cells);
	}
	ctl_table_print(t, ctl->out, ctl->legend);
	ctl_table_free(t);
	for (a = jtok_first(d, refused), k = 0; a >= 0 && k < jtok_len(d, refused);
	     a = jtok_after(d, a), k++)
		fprintf(ctl->out, "  %s %s: refused: %s\n", jtok_get_str(d, a, "domain", "?"),
			jtok_get_str(d, a, "mac", "vNIC"), jtok_get_str(d, a, "reason", ""));
	for (a = jtok_first(d, arr), k = 0; a >= 0 && k < n; a = jtok_after(d, a), k++) {
		int rs = jtok_get(d, a, "reasons"), r;
		size_t m;
		char indent[128];

		if (!jtok_len(d, rs))
			continue;
		snprintf(indent, sizeof(indent), "  %s %s: ", jtok_get_str(d, a, "domain", "?"),
			 jtok_get_str(d, a, "mac", "?"));
		for (r = jtok_first(d, rs), m = 0; r >= 0 && m < jtok_len(d, rs);
		     r = jtok_after(d, r), m++)
			ctl_print_reason_doc(ctl->out, indent, d, r);
	}
}

void ctl_print_listing(struct ctl *ctl, const struct jtok_doc *d, int reply)
{
	int nics = jtok_get(d, reply, "nics"), n, k;
	size_t i;

	ctl_print_attachments(ctl, d, jtok_get(d, reply, "attachments"),
			      jtok_get(d, reply, "refused"));
	for (n = jtok_first(d, nics), i = 0; n >= 0 && i < jtok_len(d, nics);
	     n = jtok_after(d, n), i++) {
		int notes = jtok_get(d, n, "notes");
		char pool[256], shared[256];
		size_t m;

		if (!i)
			fputc('\n', ctl->out);
		fprintf(ctl->out, "%s: %lld RX queue(s), pool %s (%lld leased), shared %s%s\n",
			jtok_get_str(d, n, "nic", "?"), jtok_get_int(d, n, "channels", 0),
			ranges(d, jtok_get(d, n, "pool"), pool, sizeof(pool)),
			jtok_get_int(d, n, "leased", 0),
			ranges(d, jtok_get(d, n, "shared"), shared, sizeof(shared)),
			jtok_get_bool(d, n, "released", false) ? " [released]" : "");
		for (k = jtok_first(d, notes), m = 0; k >= 0 && m < jtok_len(d, notes);
		     k = jtok_after(d, k), m++)
			ctl_print_reason_doc(ctl->out, "  note: ", d, k);
	}
}
