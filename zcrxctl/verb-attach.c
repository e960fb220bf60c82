// SPDX-License-Identifier: MIT
/*
 * verb-attach — `zcrxctl attach`, `detach`, `list`, `plan`, `rebalance`,
 * `reconcile` and `release`.  Dry runs and `plan` print every operation
 * with its reason and the ethtool command an operator could type instead.
 * Table output is rendered from the same reply --json prints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "jtok.h"
#include "varlink.h"

enum {
	OPT_MAC = 0x200,
	OPT_QUEUES,
	OPT_DRY_RUN,
	OPT_DOMAIN_XML,
	OPT_ADDRESS,
	OPT_NUMA,
	OPT_TAP,
	OPT_UUID,
	OPT_DOMAIN,
	OPT_MIN_NUMA,
	OPT_MIN_COMPACT,
};

/* --- rendering ------------------------------------------------------------------------ */

static const char *ranges(json_object *arr, char *buf, size_t size)
{
	size_t i, n = arr && json_object_is_type(arr, json_type_array) ?
			      json_object_array_length(arr) :
			      0;
	long long v[256];

	if (n > 256)
		n = 256;
	for (i = 0; i < n; i++)
		v[i] = json_object_get_int64(json_object_array_get_idx(arr, i));
	return ctl_ranges(v, n, buf, size);
}

static void print_reason(FILE *f, const char *indent, json_object *r)
{
	ctl_print_reason_of(f, indent, ctl_json_str(r, "code", "?"), ctl_json_str(r, "op", "?"),
			    ctl_json_str(r, "message", ""), ctl_json_str(r, "errno_name", NULL));
}

static void print_plan(struct ctl *ctl, json_object *p)
{
	json_object *ops = ctl_json_get(p, "ops"), *notes = ctl_json_get(p, "notes");
	size_t i, n = ops ? json_object_array_length(ops) : 0;
	char pool[256], shared[256];

	fprintf(ctl->out, "%s: %lld RX queue(s), pool %s, shared %s\n",
		ctl_json_str(p, "nic", "?"), ctl_json_int(p, "channels", 0),
		ranges(ctl_json_get(p, "pool"), pool, sizeof(pool)),
		ranges(ctl_json_get(p, "shared"), shared, sizeof(shared)));
	if (!n)
		fprintf(ctl->out, "  nothing to do\n");
	for (i = 0; i < n; i++) {
		json_object *op = json_object_array_get_idx(ops, i);
		const char *eth = ctl_json_str(op, "ethtool", NULL);

		fprintf(ctl->out, "  %2zu. %s\n", i + 1, ctl_json_str(op, "description", "?"));
		fprintf(ctl->out, "      why: %s\n", ctl_json_str(op, "reason", ""));
		if (eth)
			fprintf(ctl->out, "      $ %s\n", eth);
		else if (!ctl_json_bool(op, "kernel", true))
			fprintf(ctl->out, "      (zcrxd's own bookkeeping, no command)\n");
		else
			fprintf(ctl->out, "      (no ethtool equivalent)\n");
	}
	for (i = 0; notes && i < json_object_array_length(notes); i++)
		print_reason(ctl->out, "  note: ", json_object_array_get_idx(notes, i));
}

static void print_plans(struct ctl *ctl, json_object *r, bool applied)
{
	json_object *plans = ctl_json_get(r, "plans");
	size_t i, n = plans ? json_object_array_length(plans) : 0;

	if (!n && applied)
		return;
	if (!n) {
		fprintf(ctl->out, "nothing to do\n");
		return;
	}
	if (applied)
		fprintf(ctl->out, "applied:\n");
	for (i = 0; i < n; i++)
		print_plan(ctl, json_object_array_get_idx(plans, i));
}

/* An Attach reply's attachments, through the listing's renderer; none: no
 * table (print_skipped() says why). */
static void print_attachments(struct ctl *ctl, json_object *arr)
{
	const char *text;
	char *copy;
	struct jtok_doc d = { 0 };

	if (!arr || !json_object_array_length(arr))
		return;
	text = json_object_to_json_string_ext(arr, VARLINK_JSON_FLAGS);
	copy = strdup(text);
	if (copy && jtok_parse(&d, copy, strlen(copy)) == 0)
		ctl_print_attachments(ctl, &d, 0, -1);
	jtok_free(&d);
	free(copy);
}

/* The vNICs of a domain attach left out, and why: a domain with no vNIC to
 * attach says so instead of an empty table. */
static void print_skipped(struct ctl *ctl, json_object *r)
{
	json_object *sk = ctl_json_get(r, "skipped"), *v = ctl_json_get(r, "vnics");
	size_t i, n = sk ? json_object_array_length(sk) : 0;

	if (!v) /* a label with --mac: one vNIC, no selection */
		return;
	if (!json_object_array_length(v))
		fprintf(ctl->out, "domain '%s': no vNIC to attach%s\n", ctl_json_str(r, "domain", "?"),
			n ? ":" : "");
	for (i = 0; i < n; i++) {
		json_object *x = json_object_array_get_idx(sk, i);

		fprintf(ctl->out, "  %s: %s: %s\n", ctl_json_str(x, "mac", "vNIC"),
			ctl_json_bool(x, "refused", false) ? "refused" : "not selected",
			ctl_json_str(x, "reason", ""));
	}
}

/* --- helpers ------------------------------------------------------------------------------ */

static int read_all(FILE *f, char **ret)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		size_t k;

		if (len + 1 >= cap) {
			char *p;

			if (cap >= 16u << 20) {
				free(buf);
				return -EFBIG;
			}
			p = realloc(buf, cap * 2);
			if (!p) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
			cap *= 2;
		}
		k = fread(buf + len, 1, cap - len - 1, f);
		len += k;
		if (k == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		return -EIO;
	}
	buf[len] = '\0';
	*ret = buf;
	return 0;
}

static int domain_xml(struct ctl *ctl, const char *arg, json_object *p)
{
	char *text = NULL;
	FILE *f;
	int r;

	if (!strcmp(arg, "-")) {
		r = read_all(stdin, &text);
	} else {
		f = fopen(arg, "r");
		if (!f)
			return ctl_usage_error(ctl, "cannot read '%s': %s", arg, strerror(errno));
		r = read_all(f, &text);
		fclose(f);
	}
	if (r < 0)
		return ctl_usage_error(ctl, "cannot read the domain XML: %s", strerror(-r));
	json_object_object_add(p, "domain_xml", json_object_new_string(text));
	free(text);
	return 0;
}

static int add_int(struct ctl *ctl, json_object *p, const char *key, const char *val, long min,
		   long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(val, &end, 10);
	if (errno || end == val || *end || v < min || v > max)
		return ctl_usage_error(ctl, "--%s: expected a number %ld..%ld, got '%s'", key, min,
				       max, val);
	json_object_object_add(p, key, json_object_new_int((int)v));
	return 0;
}

static int finish(struct ctl *ctl, json_object *r, bool dry_run)
{
	if (ctl->output != CTL_OUTPUT_TABLE) {
		ctl_print_json(ctl, r);
		json_object_put(r);
		return CTL_EXIT_OK;
	}
	if (dry_run)
		print_plans(ctl, r, false);
	else if (!ctl->quiet)
		print_plans(ctl, r, true);
	json_object_put(r);
	return CTL_EXIT_OK;
}

/* --- verbs --------------------------------------------------------------------------------- */

int ctl_verb_attach(struct ctl *ctl, const struct ctl_args *a)
{
	json_object *p = json_object_new_object(), *r = NULL, *addrs = NULL;
	bool dry = ctl_args_has(a, OPT_DRY_RUN);
	const char *v;
	size_t i;
	int rc;

	json_object_object_add(p, "domain", json_object_new_string(a->argv[0]));
	if (a->argc > 1)
		json_object_object_add(p, "nic", json_object_new_string(a->argv[1]));
	if ((v = ctl_args_get(a, OPT_MAC)))
		json_object_object_add(p, "mac", json_object_new_string(v));
	if ((v = ctl_args_get(a, OPT_QUEUES)) && (rc = add_int(ctl, p, "queues", v, 1, 64)))
		goto out;
	if ((v = ctl_args_get(a, OPT_NUMA)) && (rc = add_int(ctl, p, "numa_node", v, -1, 4095)))
		goto out;
	if ((v = ctl_args_get(a, OPT_TAP)))
		json_object_object_add(p, "tap", json_object_new_string(v));
	if ((v = ctl_args_get(a, OPT_UUID)))
		json_object_object_add(p, "uuid", json_object_new_string(v));
	for (i = 0; i < a->nopts; i++)
		if (a->opt[i].id == OPT_ADDRESS) {
			if (!addrs)
				addrs = json_object_new_array();
			json_object_array_add(addrs, json_object_new_string(a->opt[i].val));
		}
	if (addrs)
		json_object_object_add(p, "addresses", addrs);
	if ((v = ctl_args_get(a, OPT_DOMAIN_XML)) && (rc = domain_xml(ctl, v, p)))
		goto out;
	if (!ctl_args_has(a, OPT_MAC) && !ctl_args_has(a, OPT_DOMAIN_XML) && a->argc < 1) {
		rc = ctl_usage_error(ctl, "attach: give --mac (and a NIC) or --domain-xml");
		goto out;
	}
	if (ctl_args_has(a, OPT_MAC) && a->argc < 2) {
		rc = ctl_usage_error(ctl, "attach: --mac needs the NIC: attach DOMAIN NIC --mac MAC");
		goto out;
	}
	if (dry)
		json_object_object_add(p, "dry_run", json_object_new_boolean(true));
	rc = ctl_call(ctl, "io.zcrx.Manager.Attach", p, &r);
	p = NULL;
	if (rc)
		return rc;
	if (ctl->output == CTL_OUTPUT_TABLE && !ctl->quiet) {
		print_attachments(ctl, ctl_json_get(r, "attachments"));
		print_skipped(ctl, r);
	}
	return finish(ctl, r, dry);
out:
	json_object_put(p);
	return rc;
}

int ctl_verb_detach(struct ctl *ctl, const struct ctl_args *a)
{
	json_object *p = json_object_new_object(), *r = NULL;
	bool dry = ctl_args_has(a, OPT_DRY_RUN);
	const char *v;
	int rc;

	json_object_object_add(p, "domain", json_object_new_string(a->argv[0]));
	if (a->argc > 1)
		json_object_object_add(p, "nic", json_object_new_string(a->argv[1]));
	if ((v = ctl_args_get(a, OPT_MAC)))
		json_object_object_add(p, "mac", json_object_new_string(v));
	if ((v = ctl_args_get(a, OPT_DOMAIN_XML)) && (rc = domain_xml(ctl, v, p))) {
		json_object_put(p);
		return rc;
	}
	if (dry)
		json_object_object_add(p, "dry_run", json_object_new_boolean(true));
	rc = ctl_call(ctl, "io.zcrx.Manager.Detach", p, &r);
	if (rc)
		return rc;
	if (ctl->output == CTL_OUTPUT_TABLE && !ctl->quiet && !dry)
		fprintf(ctl->out, "%lld attachment(s) of '%s' removed\n",
			ctl_json_int(r, "removed", 0), ctl_json_str(r, "domain", a->argv[0]));
	return finish(ctl, r, dry);
}

int ctl_verb_list(struct ctl *ctl, const struct ctl_args *a)
{
	json_object *p = ctl_params_nic(a->argc ? a->argv[0] : NULL);
	const char *v;

	struct zcrx_error e = { 0 };
	struct jtok_doc d;
	int rc, reply;

	if ((v = ctl_args_get(a, OPT_DOMAIN)))
		json_object_object_add(p, "domain", json_object_new_string(v));
	if (ctl->output != CTL_OUTPUT_TABLE)
		return ctl_call_show(ctl, "io.zcrx.Manager.ListAttachments", p, NULL);
	/* the table: the reply read with jtok, no json-c tree of thousands */
	rc = ctl_connect(ctl);
	if (rc) {
		json_object_put(p);
		return rc;
	}
	rc = zcrx_call_doc(ctl->conn, "io.zcrx.Manager.ListAttachments", p, &d, &reply, &e);
	json_object_put(p);
	if (rc < 0) {
		zcrx_doc_free(&d);
		rc = ctl_report_error(ctl, &e);
		zcrx_error_clear(&e);
		return rc;
	}
	ctl_print_listing(ctl, &d, reply);
	zcrx_doc_free(&d);
	return CTL_EXIT_OK;
}

int ctl_verb_plan(struct ctl *ctl, const struct ctl_args *a)
{
	json_object *r = NULL;
	int rc;

	rc = ctl_call(ctl, "io.zcrx.Manager.Plan", ctl_params_nic(a->argc ? a->argv[0] : NULL), &r);
	if (rc)
		return rc;
	return finish(ctl, r, true);
}

int ctl_verb_rebalance(struct ctl *ctl, const struct ctl_args *a)
{
	json_object *p = ctl_params_nic(a->argc ? a->argv[0] : NULL), *r = NULL;
	bool dry = ctl_args_has(a, OPT_DRY_RUN);
	const char *v;
	int rc;

	if ((v = ctl_args_get(a, OPT_MIN_NUMA)) &&
	    (rc = add_int(ctl, p, "min_numa_gain", v, 1, 1024))) {
		json_object_put(p);
		return rc;
	}
	if ((v = ctl_args_get(a, OPT_MIN_COMPACT)) &&
	    (rc = add_int(ctl, p, "min_compact_gain", v, 1, 1 << 20))) {
		json_object_put(p);
		return rc;
	}
	if (dry)
		json_object_object_add(p, "dry_run", json_object_new_boolean(true));
	rc = ctl_call(ctl, "io.zcrx.Manager.Rebalance", p, &r);
	if (rc)
		return rc;
	if (!dry && ctl->output == CTL_OUTPUT_TABLE && !ctl->quiet &&
	    !json_object_array_length(ctl_json_get(r, "plans")))
		fprintf(ctl->out, "already balanced\n");
	return finish(ctl, r, dry);
}

int ctl_verb_reconcile(struct ctl *ctl, const struct ctl_args *a)
{
	json_object *r = NULL;
	int rc;

	rc = ctl_call(ctl, "io.zcrx.Manager.Reconcile", ctl_params_nic(a->argc ? a->argv[0] : NULL),
		      &r);
	if (rc)
		return rc;
	if (ctl->output == CTL_OUTPUT_TABLE && !ctl->quiet &&
	    !json_object_array_length(ctl_json_get(r, "plans")))
		fprintf(ctl->out, "in sync: nothing to repair\n");
	return finish(ctl, r, false);
}

int ctl_verb_release(struct ctl *ctl, const struct ctl_args *a)
{
	json_object *p = ctl_params_nic(a->argv[0]), *r = NULL;
	bool dry = ctl_args_has(a, OPT_DRY_RUN);
	int rc;

	if (dry)
		json_object_object_add(p, "dry_run", json_object_new_boolean(true));
	rc = ctl_call(ctl, "io.zcrx.Manager.Release", p, &r);
	if (rc)
		return rc;
	if (!dry && ctl->output == CTL_OUTPUT_TABLE && !ctl->quiet)
		fprintf(ctl->out, "%s released: zcrxd leaves it alone until the next attach\n",
			a->argv[0]);
	return finish(ctl, r, dry);
}

/* --- the table entries ---------------------------------------------------------------------- */

const struct option ctl_attach_opts[] = {
	{ "mac", required_argument, NULL, OPT_MAC },
	{ "queues", required_argument, NULL, OPT_QUEUES },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "domain-xml", required_argument, NULL, OPT_DOMAIN_XML },
	{ "address", required_argument, NULL, OPT_ADDRESS },
	{ "numa-node", required_argument, NULL, OPT_NUMA },
	{ "tap", required_argument, NULL, OPT_TAP },
	{ "uuid", required_argument, NULL, OPT_UUID },
	{ NULL, 0, NULL, 0 },
};

const struct option ctl_detach_opts[] = {
	{ "mac", required_argument, NULL, OPT_MAC },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "domain-xml", required_argument, NULL, OPT_DOMAIN_XML },
	{ NULL, 0, NULL, 0 },
};

const struct option ctl_list_opts[] = {
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ NULL, 0, NULL, 0 },
};

const struct option ctl_dry_opts[] = {
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ NULL, 0, NULL, 0 },
};

const struct option ctl_rebalance_opts[] = {
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "min-numa-gain", required_argument, NULL, OPT_MIN_NUMA },
	{ "min-compact-gain", required_argument, NULL, OPT_MIN_COMPACT },
	{ NULL, 0, NULL, 0 },
};
