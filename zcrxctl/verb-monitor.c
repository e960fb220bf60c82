// SPDX-License-Identifier: MIT
/*
 * verb-monitor — `zcrxctl monitor` (the daemon's event stream, as lines or
 * JSON lines) and `zcrxctl metrics` (Prometheus text for node_exporter's
 * textfile collector).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "varlink.h"

enum { OPT_COUNT = 'n' }; /* not 1: getopt's positional code */

const struct option ctl_monitor_opts[] = {
	{ "count", required_argument, NULL, OPT_COUNT },
	{ NULL, 0, NULL, 0 },
};

static const char *stamp(json_object *ev, char *buf, size_t size)
{
	long long us = ctl_json_int(ev, "timestamp_usec", 0);
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (!us || !localtime_r(&t, &tm)) {
		snprintf(buf, size, "-");
		return buf;
	}
	snprintf(buf, size, "%02d:%02d:%02d.%03lld", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (us % 1000000) / 1000);
	return buf;
}

/* "key=value ..." for the scalar fields of an event we have no format for. */
static void print_fields(FILE *f, json_object *ev)
{
	json_object_object_foreach(ev, key, val)
	{
		if (!strcmp(key, "type") || !strcmp(key, "timestamp_usec"))
			continue;
		switch (json_object_get_type(val)) {
		case json_type_string:
			fprintf(f, " %s='%s'", key, json_object_get_string(val));
			break;
		case json_type_int:
		case json_type_double:
		case json_type_boolean:
			fprintf(f, " %s=%s", key, json_object_to_json_string(val));
			break;
		default:
			break;
		}
	}
}

static void print_binding(FILE *f, json_object *ev, const char *what)
{
	const char *nic = ctl_json_str(ev, "nic", NULL), *tap = ctl_json_str(ev, "tap", NULL);
	const char *reason = ctl_json_str(ev, "reason", NULL);

	fprintf(f, " binding %lld", ctl_json_int(ev, "binding_id", 0));
	if (nic)
		fprintf(f, " on %s queue %lld", nic, ctl_json_int(ev, "queue", 0));
	else if (ctl_json_get(ev, "ifindex"))
		fprintf(f, " on ifindex %lld queue %lld", ctl_json_int(ev, "ifindex", 0),
			ctl_json_int(ev, "queue", 0));
	if (tap)
		fprintf(f, " (%s)", tap);
	fprintf(f, ": %s", what);
	if (reason)
		fprintf(f, " (%s)", reason);
}

/* "vm0 52:54:00:00:00:01 on eth0", and for a change what the attachment
 * shows now: its state, whether it is zero-copy, every reason. */
static void print_attachment(FILE *f, json_object *ev, bool changed)
{
	json_object *rs = ctl_json_get(ev, "reasons");
	char zc[64];

	fprintf(f, " %s %s on %s", ctl_json_str(ev, "domain", "?"), ctl_json_str(ev, "mac", "?"),
		ctl_json_str(ev, "nic", "?"));
	if (!changed)
		return;
	fprintf(f, ": %s, zero-copy %s", ctl_json_str(ev, "state", "?"),
		ctl_zero_copy(ev, zc, sizeof(zc)));
	for (size_t i = 0; rs && i < json_object_array_length(rs); i++) {
		json_object *r = json_object_array_get_idx(rs, i);
		const char *en = ctl_json_str(r, "errno_name", NULL);

		fprintf(f, "; %s: %s: %s%s%s%s", ctl_json_str(r, "code", "?"),
			ctl_json_str(r, "op", "?"), ctl_json_str(r, "message", ""), en ? " (" : "",
			en ? en : "", en ? ")" : "");
	}
}

/* One event as a line: time, type, what happened. */
static void print_event(struct ctl *ctl, json_object *ev)
{
	const char *type = ctl_json_str(ev, "type", "?");
	FILE *f = ctl->out;
	char ts[32];

	fprintf(f, "%s %s", stamp(ev, ts, sizeof(ts)), type);
	if (!strcmp(type, "binding-state")) {
		print_binding(f, ev, ctl_json_str(ev, "state", "?"));
	} else if (!strcmp(type, "binding-gone")) {
		print_binding(f, ev, "torn down by vhost_zcrx");
	} else if (!strncmp(type, "attachment-", 11)) {
		print_attachment(f, ev, !strcmp(type, "attachment-changed"));
	} else if (!strncmp(type, "lease-", 6)) {
		json_object *q = ctl_json_get(ev, "queues");
		const char *prov = ctl_json_str(ev, "providers", "");

		fprintf(f, " lease %lld '%s' on %s: %s%s%s%s, queues", ctl_json_int(ev, "id", 0),
			ctl_json_str(ev, "name", "?"), ctl_json_str(ev, "nic", "?"),
			ctl_json_str(ev, "state", "?"), prov[0] ? " (" : "", prov, prov[0] ? ")" : "");
		for (size_t i = 0; q && i < json_object_array_length(q); i++)
			fprintf(f, "%s%lld", i ? "," : " ",
				(long long)json_object_get_int64(json_object_array_get_idx(q, i)));
		if (ctl_json_str(ev, "why", NULL))
			fprintf(f, " (%s)", ctl_json_str(ev, "why", ""));
	} else if (!strcmp(type, "binder-available")) {
		fprintf(f, " kernel module %s is available (%lld bindings)",
			ctl_json_str(ev, "module", "vhost_zcrx"), ctl_json_int(ev, "bindings", 0));
	} else if (!strcmp(type, "binder-unavailable")) {
		fprintf(f, " no zero-copy: %s", ctl_json_str(ev, "message", "module not available"));
	} else if (!strncmp(type, "nic-", 4)) {
		fprintf(f, " %s (ifindex %lld)", ctl_json_str(ev, "nic", "?"),
			ctl_json_int(ev, "ifindex", 0));
		if (ctl_json_get(ev, "changed") &&
		    json_object_is_type(ctl_json_get(ev, "changed"), json_type_array)) {
			json_object *c = ctl_json_get(ev, "changed");

			for (size_t i = 0; i < json_object_array_length(c); i++)
				fprintf(f, "%s%s", i ? "," : " ",
					json_object_get_string(json_object_array_get_idx(c, i)));
		}
	} else {
		print_fields(f, ev);
	}
	fputc('\n', f);
}

int ctl_verb_monitor(struct ctl *ctl, const struct ctl_args *a)
{
	const char *count_s = ctl_args_get(a, OPT_COUNT);
	struct zcrx_error e = { 0 };
	long long count = -1, seen = 0;
	bool subscribed = false;
	int r;

	if (count_s) {
		char *end;

		count = strtoll(count_s, &end, 10);
		if (*end || count < 1)
			return ctl_usage_error(ctl, "--count needs a positive number");
	}
	r = ctl_connect(ctl);
	if (r)
		return r;
	r = zcrx_send(ctl->conn, "io.zcrx.Manager.Monitor", NULL, ZCRX_CALL_MORE, &e);
	while (r >= 0) {
		json_object *p = NULL, *ev;
		bool more = false;

		r = zcrx_recv(ctl->conn, &p, &more, &e);
		if (r < 0)
			break;
		ev = ctl_json_get(p, "event");
		if (!subscribed) {
			/* the stream is live: from now on wait as long as it takes */
			subscribed = true;
			zcrx_set_timeout(ctl->conn, 0);
		}
		if (ev && !(subscribed && !strcmp(ctl_json_str(ev, "type", ""), "subscribed"))) {
			if (ctl->output != CTL_OUTPUT_TABLE)
				fprintf(ctl->out, "%s\n",
					json_object_to_json_string_ext(ev, VARLINK_JSON_FLAGS));
			else
				print_event(ctl, ev);
			fflush(ctl->out);
			seen++;
		}
		json_object_put(p);
		if (!more || (count > 0 && seen >= count))
			return CTL_EXIT_OK; /* the daemon ended the stream, or enough */
	}
	r = ctl_report_error(ctl, &e);
	zcrx_error_clear(&e);
	return r;
}

int ctl_verb_metrics(struct ctl *ctl, const struct ctl_args *a)
{
	json_object *r = NULL;
	int rc;

	rc = ctl_call(ctl, "io.zcrx.Manager.GetMetrics", NULL, &r);
	if (rc)
		return rc;
	if (ctl->output != CTL_OUTPUT_TABLE)
		ctl_print_json(ctl, r);
	else
		fputs(ctl_json_str(r, "text", ""), ctl->out);
	json_object_put(r);
	return CTL_EXIT_OK;
}
