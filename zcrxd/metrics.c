// SPDX-License-Identifier: MIT
/*
 * metrics — Prometheus text rendering of the daemon's state and the
 * GetMetrics method (metrics.h).
 *
 * Owns: names, help, escaping, grouping (every family's samples follow its
 * HELP/TYPE lines in one block).  Must not: gather state itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "kerror.h"
#include "metrics.h"

struct att {
	char *domain, *mac, *nic, *state;
	size_t n_reasons;
	char **reasons;
	size_t n_queues;
	struct metrics_queue *queues;
};

struct nicm {
	struct metrics_nic n;
	char *name;
};

struct metrics {
	struct metrics_daemon d;
	char *version;
	struct nicm *nics;
	size_t n_nics;
	struct att *atts;
	size_t n_atts;
};

static char *dup0(const char *s)
{
	return strdup(s ? s : "");
}

int metrics_new(struct metrics **ret)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	*ret = m;
	return 0;
}

static void att_clear(struct att *a)
{
	free(a->domain);
	free(a->mac);
	free(a->nic);
	free(a->state);
	for (size_t i = 0; i < a->n_reasons; i++)
		free(a->reasons[i]);
	free(a->reasons);
	free(a->queues);
}

struct metrics *metrics_free(struct metrics *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n_nics; i++)
		free(m->nics[i].name);
	free(m->nics);
	for (size_t i = 0; i < m->n_atts; i++)
		att_clear(&m->atts[i]);
	free(m->atts);
	free(m->version);
	free(m);
	return NULL;
}

void metrics_set_daemon(struct metrics *m, const struct metrics_daemon *d)
{
	free(m->version);
	m->d = *d;
	m->version = dup0(d->version);
	m->d.version = m->version;
}

int metrics_add_nic(struct metrics *m, const struct metrics_nic *n)
{
	struct nicm *v = reallocarray(m->nics, m->n_nics + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	m->nics = v;
	v[m->n_nics].n = *n;
	v[m->n_nics].name = dup0(n->name);
	if (!v[m->n_nics].name)
		return -ENOMEM;
	m->n_nics++;
	return 0;
}

int metrics_add_attachment(struct metrics *m, const struct metrics_attachment *in)
{
	struct att *v = reallocarray(m->atts, m->n_atts + 1, sizeof(*v));
	struct att *a;

	if (!v)
		return -ENOMEM;
	m->atts = v;
	a = &v[m->n_atts];
	memset(a, 0, sizeof(*a));
	a->domain = dup0(in->domain);
	a->mac = dup0(in->mac);
	a->nic = dup0(in->nic);
	a->state = dup0(in->state);
	if (in->n_reasons) {
		a->reasons = calloc(in->n_reasons, sizeof(*a->reasons));
		if (a->reasons)
			for (size_t i = 0; i < in->n_reasons; i++, a->n_reasons++)
				if (!(a->reasons[i] = dup0(in->reasons[i])))
					break;
	}
	if (in->n_queues) {
		a->queues = calloc(in->n_queues, sizeof(*a->queues));
		if (a->queues) {
			memcpy(a->queues, in->queues, in->n_queues * sizeof(*a->queues));
			a->n_queues = in->n_queues;
		}
	}
	if (!a->domain || !a->mac || !a->nic || !a->state ||
	    a->n_reasons != in->n_reasons || a->n_queues != in->n_queues) {
		att_clear(a);
		return -ENOMEM;
	}
	m->n_atts++;
	return 0;
}

/* --- rendering --------------------------------------------------------------- */

/* A label value in the exposition format: \ " and newline escaped. */
static void put_value(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A gauge of seconds from microseconds, to the microsecond. */
static void seconds_gauge(FILE *f, const char *name, const char *help, uint64_t usec)
{
	family(f, name, "gauge", help);
	fprintf(f, "%s %llu.%06llu\n", name, (unsigned long long)(usec / 1000000),
		(unsigned long long)(usec % 1000000));
}

static void att_labels(FILE *f, const struct att *a)
{
	fputs("domain=", f);
	put_value(f, a->domain);
	fputs(",mac=", f);
	put_value(f, a->mac);
	fputs(",nic=", f);
	put_value(f, a->nic);
}

static void nic_sample(FILE *f, const char *name, const struct nicm *n, unsigned long long v)
{
	fprintf(f, "%s{nic=", name);
	put_value(f, n->name);
	fprintf(f, "} %llu\n", v);
}

static const char *const att_states[] = { "pending", "active", "degraded", "failed" };
static const enum binder_state bind_states[] = { BINDER_STATE_PENDING, BINDER_STATE_ACTIVE,
						  BINDER_STATE_DEGRADED, BINDER_STATE_BROKEN };

static bool any_bound(const struct metrics *m, bool with_stats)
{
	for (size_t i = 0; i < m->n_atts; i++)
		for (size_t q = 0; q < m->atts[i].n_queues; q++)
			if (m->atts[i].queues[q].bound &&
			    (!with_stats || m->atts[i].queues[q].has_stats))
				return true;
	return false;
}

static void daemon_families(FILE *f, const struct metrics *m)
{
	const struct metrics_daemon *d = &m->d;

	family(f, "zcrx_info", "gauge", "zcrxd version.");
	fputs("zcrx_info{version=", f);
	put_value(f, d->version ? d->version : "");
	fputs("} 1\n", f);
	seconds_gauge(f, "zcrx_uptime_seconds", "Seconds since zcrxd started.",
		      d->uptime_usec);
	family(f, "zcrx_binder_available", "gauge",
	       "1 when the vhost_zcrx kernel module is available for zero-copy bindings.");
	fprintf(f, "zcrx_binder_available %d\n", d->binder_available ? 1 : 0);
	family(f, "zcrx_kernel_errors_total", "counter",
	       "Plans the kernel refused (an operation failed and was rolled back).");
	fprintf(f, "zcrx_kernel_errors_total %llu\n", (unsigned long long)d->kernel_errors);
	family(f, "zcrx_reconcile_runs_total", "counter", "Reconciliations run.");
	fprintf(f, "zcrx_reconcile_runs_total %llu\n", (unsigned long long)d->reconcile_runs);
	family(f, "zcrx_reconcile_repairs_total", "counter",
	       "Kernel changes made to repair drift from the desired state.");
	fprintf(f, "zcrx_reconcile_repairs_total %llu\n", (unsigned long long)d->reconcile_repairs);
	family(f, "zcrx_state_syncs_total", "counter",
	       "Syncs of the state directory to disk (fdatasync of the log, compactions).");
	fprintf(f, "zcrx_state_syncs_total %llu\n", (unsigned long long)d->state_syncs);
	family(f, "zcrx_state_writes_total", "counter",
	       "Writes of changes to the state directory's log (each before a sync or shared by one).");
	fprintf(f, "zcrx_state_writes_total %llu\n", (unsigned long long)d->state_writes);
	family(f, "zcrx_state_compactions_total", "counter",
	       "Compactions of the state directory's log (a snapshot written and synced).");
	fprintf(f, "zcrx_state_compactions_total %llu\n", (unsigned long long)d->state_compactions);
	seconds_gauge(f, "zcrx_state_compaction_seconds_max",
		      "The longest compaction's file work since zcrxd started (on the syncer thread).",
		      d->state_compaction_usec_max);
	seconds_gauge(f, "zcrx_state_sync_seconds",
		      "Seconds the state's commit sync under way has run (0 when none runs).",
		      d->state_sync_usec);
	family(f, "zcrx_state_sync_waiting_replies", "gauge",
	       "Replies waiting for the state's commit sync under way (0 when none runs).");
	fprintf(f, "zcrx_state_sync_waiting_replies %llu\n",
		(unsigned long long)d->state_sync_waiting);
	family(f, "zcrx_binder_requests_total", "counter", "Requests sent to vhost_zcrx.");
	fprintf(f, "zcrx_binder_requests_total %llu\n", (unsigned long long)d->binder_requests);
	family(f, "zcrx_binder_errors_total", "counter",
	       "Requests vhost_zcrx refused (probe, bind, unbind).");
	fprintf(f, "zcrx_binder_errors_total %llu\n", (unsigned long long)d->binder_errors);
	family(f, "zcrx_binder_notifications_total", "counter",
	       "Binding state notifications received from vhost_zcrx.");
	fprintf(f, "zcrx_binder_notifications_total %llu\n",
		(unsigned long long)d->binder_notifications);
	family(f, "zcrx_binder_bad_messages_total", "counter",
	       "Malformed replies or notifications from vhost_zcrx that were refused.");
	fprintf(f, "zcrx_binder_bad_messages_total %llu\n",
		(unsigned long long)d->binder_bad_messages);
}

static void nic_families(FILE *f, const struct metrics *m)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} g[] = {
		{ "zcrx_nic_channels", "RX queues in use on the NIC.",
		  offsetof(struct metrics_nic, channels) },
		{ "zcrx_nic_pool_queues", "RX queues reserved for dedicated use.",
		  offsetof(struct metrics_nic, pool) },
		{ "zcrx_nic_pool_used_queues", "Pool queues leased to attachments.",
		  offsetof(struct metrics_nic, pool_used) },
	};
	bool known = false;

	if (!m->n_nics)
		return;
	for (size_t k = 0; k < sizeof(g) / sizeof(g[0]); k++) {
		family(f, g[k].name, "gauge", g[k].help);
		for (size_t i = 0; i < m->n_nics; i++)
			nic_sample(f, g[k].name, &m->nics[i],
				   *(const uint32_t *)((const char *)&m->nics[i].n + g[k].off));
	}
	family(f, "zcrx_nic_attachments", "gauge", "Attachments on the NIC.");
	for (size_t i = 0; i < m->n_nics; i++)
		nic_sample(f, "zcrx_nic_attachments", &m->nics[i], m->nics[i].n.attachments);
	family(f, "zcrx_nic_degraded_attachments", "gauge",
	       "Attachments on the NIC that work without some part (see zcrx_attachment_reason).");
	for (size_t i = 0; i < m->n_nics; i++)
		nic_sample(f, "zcrx_nic_degraded_attachments", &m->nics[i], m->nics[i].n.degraded);
	family(f, "zcrx_nic_failed_attachments", "gauge",
	       "Attachments on the NIC with nothing dedicated in place.");
	for (size_t i = 0; i < m->n_nics; i++)
		nic_sample(f, "zcrx_nic_failed_attachments", &m->nics[i], m->nics[i].n.failed);
	for (size_t i = 0; i < m->n_nics; i++)
		known |= m->nics[i].n.binder >= 0;
	if (!known)
		return;
	family(f, "zcrx_nic_binder_supported", "gauge",
	       "1 when vhost_zcrx can bind queues of the NIC (PROBE answered).");
	for (size_t i = 0; i < m->n_nics; i++)
		if (m->nics[i].n.binder >= 0)
			nic_sample(f, "zcrx_nic_binder_supported", &m->nics[i],
				   m->nics[i].n.binder > 0);
}

static bool zero_copy(const struct att *a)
{
	if (!a->n_queues)
		return false;
	for (size_t q = 0; q < a->n_queues; q++)
		if (!a->queues[q].bound || a->queues[q].state != BINDER_STATE_ACTIVE)
			return false;
	return true;
}

static void attachment_families(FILE *f, const struct metrics *m)
{
	bool any_reason = false;

	if (!m->n_atts)
		return;
	family(f, "zcrx_attachment_state", "gauge",
	       "1 for the attachment's current state (pending, active, degraded, failed).");
	for (size_t i = 0; i < m->n_atts; i++)
		for (size_t s = 0; s < 4; s++) {
			fputs("zcrx_attachment_state{", f);
			att_labels(f, &m->atts[i]);
			fprintf(f, ",state=\"%s\"} %d\n", att_states[s],
				strcmp(m->atts[i].state, att_states[s]) == 0);
		}
	family(f, "zcrx_attachment_zero_copy", "gauge",
	       "1 when every queue of the attachment is bound and its binding is active.");
	for (size_t i = 0; i < m->n_atts; i++) {
		fputs("zcrx_attachment_zero_copy{", f);
		att_labels(f, &m->atts[i]);
		fprintf(f, "} %d\n", zero_copy(&m->atts[i]));
	}
	for (size_t i = 0; i < m->n_atts; i++)
		any_reason |= m->atts[i].n_reasons > 0;
	if (any_reason) {
		family(f, "zcrx_attachment_reason", "gauge",
		       "1 per reason the attachment is degraded or failed (see zcrxctl list).");
		for (size_t i = 0; i < m->n_atts; i++)
			for (size_t r = 0; r < m->atts[i].n_reasons; r++) {
				fputs("zcrx_attachment_reason{", f);
				att_labels(f, &m->atts[i]);
				fputs(",reason=", f);
				put_value(f, m->atts[i].reasons[r]);
				fputs("} 1\n", f);
			}
	}
}

static void queue_labels(FILE *f, const struct att *a, const struct metrics_queue *q)
{
	att_labels(f, a);
	fprintf(f, ",queue=\"%u\"", q->queue);
}

static void binding_families(FILE *f, const struct metrics *m)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} c[] = {
		{ "zcrx_binding_rx_packets_total", "Packets received on the bound queue.",
		  offsetof(struct binder_stats, rx_packets) },
		{ "zcrx_binding_rx_bytes_total", "Bytes received on the bound queue.",
		  offsetof(struct binder_stats, rx_bytes) },
		{ "zcrx_binding_zc_packets_total", "Packets delivered into guest buffers (zero-copy).",
		  offsetof(struct binder_stats, zc_packets) },
		{ "zcrx_binding_copy_packets_total", "Packets delivered by the copy fallback.",
		  offsetof(struct binder_stats, copy_packets) },
		{ "zcrx_binding_drop_nobuf_total", "Packets dropped because no guest buffer was posted.",
		  offsetof(struct binder_stats, drop_nobuf) },
		{ "zcrx_binding_bufs_posted_total", "Guest buffers posted to the queue.",
		  offsetof(struct binder_stats, bufs_posted) },
	};

	if (!any_bound(m, false))
		return;
	family(f, "zcrx_binding_state", "gauge",
	       "1 for the binding's state as vhost_zcrx reports it (pending, active, degraded, broken).");
	for (size_t i = 0; i < m->n_atts; i++)
		for (size_t q = 0; q < m->atts[i].n_queues; q++) {
			const struct metrics_queue *mq = &m->atts[i].queues[q];

			if (!mq->bound)
				continue;
			for (size_t s = 0; s < 4; s++) {
				fputs("zcrx_binding_state{", f);
				queue_labels(f, &m->atts[i], mq);
				fprintf(f, ",state=\"%s\"} %d\n", binder_state_name(bind_states[s]),
					mq->state == bind_states[s]);
			}
		}
	family(f, "zcrx_binding_errno", "gauge",
	       "The errno vhost_zcrx gave with a degraded or broken binding, 0 when none.");
	for (size_t i = 0; i < m->n_atts; i++)
		for (size_t q = 0; q < m->atts[i].n_queues; q++) {
			const struct metrics_queue *mq = &m->atts[i].queues[q];

			if (!mq->bound)
				continue;
			fputs("zcrx_binding_errno{", f);
			queue_labels(f, &m->atts[i], mq);
			fprintf(f, "} %d\n", mq->reason);
		}
	if (!any_bound(m, true))
		return;
	for (size_t k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		family(f, c[k].name, "counter", c[k].help);
		for (size_t i = 0; i < m->n_atts; i++)
			for (size_t q = 0; q < m->atts[i].n_queues; q++) {
				const struct metrics_queue *mq = &m->atts[i].queues[q];

				if (!mq->bound || !mq->has_stats)
					continue;
				fprintf(f, "%s{", c[k].name);
				queue_labels(f, &m->atts[i], mq);
				fprintf(f, "} %llu\n",
					(unsigned long long)*(const uint64_t *)((const char *)&mq->stats +
										c[k].off));
			}
	}
}

int metrics_render(const struct metrics *m, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -errno;
	daemon_families(f, m);
	nic_families(f, m);
	attachment_families(f, m);
	binding_families(f, m);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

/* --- GetMetrics ---------------------------------------------------------------- */

static void method_get_metrics(struct ipc_call *call, json_object *params, void *userdata)
{
	const struct metrics_source *src = userdata;
	const struct ipc_param spec[] = { { .name = NULL } };
	struct metrics *m = NULL;
	char *text = NULL;
	json_object *p;
	int r;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	r = metrics_new(&m);
	if (r == 0 && src->collect)
		r = src->collect(m, src->userdata);
	if (r == 0)
		r = metrics_render(m, &text);
	metrics_free(m);
	if (r < 0) {
		p = json_object_new_object();
		json_object_object_add(p, "errno", json_object_new_int(-r));
		json_object_object_add(p, "message", json_object_new_string(strerror(-r)));
		ipc_reply_error(call, "io.zcrx.Manager.KernelError", p);
		return;
	}
	p = json_object_new_object();
	json_object_object_add(p, "format", json_object_new_string(METRICS_FORMAT));
	json_object_object_add(p, "text", json_object_new_string(text));
	free(text);
	ipc_reply(call, p);
}

int metrics_register_methods(struct ipc_server *s, const struct metrics_source *src)
{
	static const struct ipc_method methods[] = {
		{ "io.zcrx.Manager.GetMetrics", 0, method_get_metrics },
	};

	return ipc_server_add_methods(s, methods, 1, (void *)src);
}
