// SPDX-License-Identifier: MIT
/*
 * metrics-collect — the daemon's state into a metrics collection
 * (metrics-collect.h).  Must not change anything.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "binder-api.h"
#include "metrics-collect.h"
#include "metrics.h"
#include "nic-monitor.h"
#include "reconcile.h"

/* Pool figures of one NIC from the reconciler's listing. */
static void pool_of(json_object *nics, const char *name, struct metrics_nic *mn)
{
	json_object *pool;

	if (!nics)
		return;
	for (size_t i = 0; i < json_object_array_length(nics); i++) {
		json_object *x = json_object_array_get_idx(nics, i), *v;

		if (!json_object_object_get_ex(x, "nic", &v) || strcmp(json_object_get_string(v), name))
			continue;
		if (json_object_object_get_ex(x, "pool", &pool))
			mn->pool = (uint32_t)json_object_array_length(pool);
		if (json_object_object_get_ex(x, "leased", &v))
			mn->pool_used = (uint32_t)json_object_get_int64(v);
	}
}

static int add_attachment(struct metrics *out, const struct attach *a, struct binder_api *b)
{
	const struct attach_result *r = &a->res;
	struct metrics_attachment ma = { 0 };
	struct metrics_queue *q = NULL;
	const char **codes = NULL;
	char mac[18];
	int ret;

	if (r->n_reasons && !(codes = calloc(r->n_reasons, sizeof(*codes))))
		return -ENOMEM;
	if (r->n_queues && !(q = calloc(r->n_queues, sizeof(*q)))) {
		free(codes);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_reasons; i++)
		codes[i] = r->reasons[i].code;
	for (size_t i = 0; i < r->n_queues; i++) {
		const struct attach_queue *x = &r->queues[i];
		const struct binder_binding *bb;

		q[i].queue = x->queue;
		q[i].bound = x->bound;
		q[i].binding_id = x->binding_id;
		q[i].state = (enum binder_state)x->binding_state;
		q[i].reason = x->binding_reason;
		bb = x->bound && b && b->mgr ? binder_mgr_find(b->mgr, x->binding_id) : NULL;
		if (bb && bb->has_stats) {
			q[i].has_stats = true;
			q[i].stats = bb->stats;
		}
	}
	ma.domain = a->id.domain;
	ma.mac = attach_mac(&a->id, mac);
	ma.nic = a->id.nic;
	ma.state = attach_state_name(r->state);
	ma.n_reasons = r->n_reasons;
	ma.reasons = codes;
	ma.n_queues = r->n_queues;
	ma.queues = q;
	ret = metrics_add_attachment(out, &ma);
	free(codes);
	free(q);
	return ret;
}

int metrics_collect(struct metrics *out, const struct metrics_sources *src)
{
	struct metrics_daemon d = { .version = src->version, .uptime_usec = src->uptime_usec };
	size_t n_nics = src->monitor ? nic_monitor_count(src->monitor) : 0;
	size_t n_atts = src->reconcile ? reconcile_count(src->reconcile) : 0;
	json_object *list = NULL;
	int r = 0;

	if (src->reconcile) {
		struct reconcile_stats st = reconcile_get_stats(src->reconcile);
		struct reconcile_commit_sync cs;

		d.reconcile_runs = st.runs;
		d.reconcile_repairs = st.repairs;
		d.state_syncs = st.syncs;
		d.state_writes = st.saves;
		d.state_compactions = st.compactions;
		d.state_compaction_usec_max = st.compaction_usec_max;
		d.kernel_errors = st.kernel_errors;
		if (reconcile_get_commit_sync(src->reconcile, &cs)) {
			d.state_sync_usec = cs.for_usec;
			d.state_sync_waiting = cs.waiting;
		}
		list = reconcile_list_nics_json(src->reconcile, NULL, NULL);
	}
	if (src->binder) {
		/* STATS counters change without notifications: read them now,
		 * not as the last reconcile saw them */
		(void)binder_api_refresh(src->binder);
		binder_api_metrics(src->binder, &d);
	}
	metrics_set_daemon(out, &d);
	for (size_t i = 0; i < n_nics && r == 0; i++) {
		const struct nic *nic = nic_monitor_at(src->monitor, i);
		struct metrics_nic mn = { .name = nic->link.name, .binder = -1 };

		if (!src->reconcile || !reconcile_nic_in_scope(src->reconcile, nic))
			continue; /* macvtaps, bridges, NICs no section covers */
		mn.channels = nic_rx_queue_count(nic);
		if (nic->caps.binder.state != NIC_CAP_UNKNOWN)
			mn.binder = nic->caps.binder.state == NIC_CAP_YES;
		pool_of(list, nic->link.name, &mn);
		for (size_t k = 0; k < n_atts; k++) {
			const struct attach *a = reconcile_at(src->reconcile, k);

			if (strcmp(a->id.nic, nic->link.name))
				continue;
			mn.attachments++;
			mn.degraded += a->res.state == ATTACH_STATE_DEGRADED;
			mn.failed += a->res.state == ATTACH_STATE_FAILED;
		}
		r = metrics_add_nic(out, &mn);
	}
	for (size_t k = 0; k < n_atts && r == 0; k++)
		r = add_attachment(out, reconcile_at(src->reconcile, k), src->binder);
	json_object_put(list);
	return r;
}
