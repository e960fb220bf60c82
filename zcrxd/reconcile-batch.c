// SPDX-License-Identifier: MIT
/*
 * reconcile-batch — Attach requests that share their NIC's run.
 *
 * An Attach through reconcile_attach_queue() is checked and put into the
 * desired set at once, then waits: once the loop has handled every request
 * that was ready (a source of low priority, before the group commit's
 * sync), each NIC with waiting requests runs once for all of them -- one
 * plan, one execution -- and each request gets its own answer; the
 * intents of all these plans are made durable by one fdatasync, before
 * the first of them is applied.  Fifty clients attaching at once cost a
 * run per NIC, not fifty, two writes and two fdatasyncs (intents, commit),
 * not one per NIC and one more.
 *
 * A request the pool refuses (OnExhaustion=fail) stops its NIC's run before
 * anything happens; it is taken out and answered, and the NIC runs again
 * for the others.  One whose own op the kernel refused is taken back as a
 * single Attach would be.
 *
 * Owns: the queue.  Must not: reply itself (the caller's callback does).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcall.h"
#include "log.h"
#include "nic-monitor.h"
#include "reconcile-int.h"

struct reconcile_queued {
	struct reconcile_attach_undo u;
	reconcile_attach_done_fn done;
	void *ud;
	bool finished;
	int r;
	struct reconcile_outcome out;
};

/* The NIC's applied ops that concern this request: its own and the NIC's. */
static void outcome_for(struct reconcile_outcome *dst, const struct reconcile_outcome *src,
			const uint8_t *mac)
{
	size_t i, k;

	for (i = 0; i < src->n_plans; i++) {
		const struct plan *p = &src->plans[i];
		struct plan *o = reconcile_outcome_plan(dst, p->nic);

		if (!o)
			continue;
		reconcile_plan_summary_copy(o, p);
		for (k = 0; k < p->n_ops; k++)
			if (!p->ops[k].has_owner || !memcmp(p->ops[k].owner, mac, NIC_MAC_LEN))
				reconcile_plan_append(o, &p->ops[k], 0);
	}
	dst->changed = src->changed;
}

/* One NIC's waiting requests, through the batch's two passes. */
struct nic_run {
	const char *nic;
	struct reconcile_queued **q;
	size_t n;
	struct reconcile_outcome all;
	struct kerror e;
	int r;
};

/* Run the NIC for its waiting requests: retried without each one the pool
 * refuses.  RC_STAGED (rc->stage_intents): planned, its intent waits for
 * the batch's sync; nr->r. */
static int run_begin(struct reconcile *rc, struct nic_run *nr)
{
	uint8_t(*macs)[NIC_MAC_LEN] = calloc(nr->n ? nr->n : 1, NIC_MAC_LEN);
	struct reconcile_queued **q = nr->q;
	size_t i, k, live = nr->n;
	int r;

	log_debug(LOG_SUBSYS_MANAGER, "%s: one run for %zu Attach request(s)", nr->nic, nr->n);
	for (;;) {
		for (i = k = 0; macs && i < nr->n; i++)
			if (!q[i]->finished)
				memcpy(macs[k++], q[i]->u.id.mac, NIC_MAC_LEN);
		rc->watch = macs;
		rc->n_watch = macs ? k : 0;
		rc->watch_hit = -1;
		reconcile_outcome_clear(&nr->all);
		kerror_clear(&nr->e);
		r = reconcile_run_nic(rc, nr->nic, PLAN_MODE_NORMAL, false, NULL, &nr->all, &nr->e);
		rc->n_watch = 0;
		if (r != -ENOSPC || rc->watch_hit < 0 || !live)
			break;
		/* the pool refuses one: it goes, the others are planned again */
		for (i = 0, k = 0; i < nr->n; i++) {
			if (q[i]->finished)
				continue;
			if (k++ != (size_t)rc->watch_hit)
				continue;
			q[i]->out.err = nr->e;
			q[i]->r = reconcile_attach_result(rc, &q[i]->u, r, &q[i]->out);
			reconcile_attach_undo(rc, &q[i]->u);
			q[i]->finished = true;
			live--;
			break;
		}
	}
	free(macs);
	return nr->r = r;
}

/* The run's end (a staged run applied first), then each request's answer. */
static void run_end(struct reconcile *rc, struct nic_run *nr)
{
	struct reconcile_queued **q = nr->q;
	bool undone = false;
	size_t i;
	int r = nr->r;

	if (r == RC_STAGED || r == RC_APPLIED)
		r = reconcile_run_nic(rc, nr->nic, PLAN_MODE_NORMAL, false, NULL, &nr->all, &nr->e);
	for (i = 0; i < nr->n; i++) {
		if (q[i]->finished)
			continue;
		if (r < 0)
			q[i]->out.err = nr->e;
		q[i]->r = reconcile_attach_result(rc, &q[i]->u, r, &q[i]->out);
		if (q[i]->r < 0) {
			/* back to the previous desired state, as a single Attach */
			reconcile_attach_undo(rc, &q[i]->u);
			undone = true;
		} else {
			outcome_for(&q[i]->out, &nr->all, q[i]->u.id.mac);
		}
		q[i]->finished = true;
	}
	if (undone)
		(void)reconcile_run_nic(rc, nr->nic, PLAN_MODE_NORMAL, false, NULL, NULL, &nr->e);
	reconcile_outcome_clear(&nr->all);
}

/* Every NIC of the batch read in full before the first is planned, in
 * one kernel-call hand-over for all of them instead of one each (the
 * reconcile_run_nic() of each would read it first): no plan is applied
 * before the batch's sync, so each is planned against the NIC as the
 * kernel shows it after the same reads, in the same loop turn. */
static void read_first(struct reconcile *rc, struct nic_run *runs, size_t n_runs)
{
	const struct nic *nic;
	struct rc_nic *rn;
	size_t i, n = 0;
	int *ifx;

	if (n_runs < 2 || !rc->d.monitor ||
	    (rc->d.nic_calls && kcall_get_stuck(rc->d.nic_calls, NULL)))
		return;
	ifx = calloc(n_runs, sizeof(*ifx));
	if (!ifx)
		return; /* each run reads its NIC */
	for (i = 0; i < n_runs; i++)
		if ((nic = nic_monitor_find(rc->d.monitor, runs[i].nic)))
			ifx[n++] = nic->link.ifindex;
	(void)nic_monitor_refresh_many(rc->d.monitor, ifx, n, NIC_OBSERVE_ALL);
	for (i = 0; i < n_runs; i++) {
		size_t k;

		nic = nic_monitor_find(rc->d.monitor, runs[i].nic);
		rn = nic ? reconcile_nic_state(rc, runs[i].nic) : NULL;
		for (k = 0; rn && k < n; k++)
			if (ifx[k] == nic->link.ifindex)
				rn->read_fresh = ifx[k];
	}
	free(ifx);
}

/* The staged plans' first kernel changes -- an Attach's steering rules --
 * made for all the NICs in one kernel-call hand-over (exec_prefetch), now
 * that their intents are durable, instead of one hand-over per rule: each
 * plan then applies as before, taking its inserts' answers from its stage. */
static void make_first(struct reconcile *rc, struct nic_run *runs, size_t n_runs)
{
	const struct plan **plans = calloc(n_runs, sizeof(*plans));
	struct exec_staged **sts = calloc(n_runs, sizeof(*sts));
	struct exec_env env = { .nic = rc->d.nic };
	struct rc_nic *rn;
	size_t i, n = 0;

	for (i = 0; plans && sts && i < n_runs; i++)
		if (runs[i].r == RC_STAGED && (rn = reconcile_nic_state(rc, runs[i].nic)) &&
		    rn->staged) {
			plans[n] = &rn->staged_plan;
			sts[n++] = &rn->staged_x;
		}
	if (n && !(rc->d.nic_calls && kcall_get_stuck(rc->d.nic_calls, NULL)))
		(void)exec_prefetch(&env, plans, sts, n);
	free(plans);
	free(sts);
}

/* What the applied plans changed, read back: the rule tables of all the
 * NICs whose plans only inserted or deleted rules in one hand-over, any
 * other NIC on its own (what its plan can have changed). */
static void read_back(struct reconcile *rc, struct nic_run *runs, size_t n_runs)
{
	const struct nic *nic;
	struct rc_nic *rn;
	size_t i, n = 0;
	int *ifx = calloc(n_runs ? n_runs : 1, sizeof(*ifx));

	for (i = 0; i < n_runs; i++) {
		if (runs[i].r != RC_APPLIED || !(rn = reconcile_nic_state(rc, runs[i].nic)) ||
		    !rn->readback || !(nic = nic_monitor_find(rc->d.monitor, runs[i].nic)))
			continue;
		if (ifx && rn->readback == NIC_OBSERVE_RULES)
			ifx[n++] = nic->link.ifindex;
		else
			(void)nic_monitor_refresh(rc->d.monitor, nic->link.ifindex, rn->readback);
		rn->readback = 0;
	}
	if (n)
		(void)nic_monitor_refresh_many(rc->d.monitor, ifx, n, NIC_OBSERVE_RULES);
	free(ifx);
}

/*
 * Two passes over the NICs with waiting requests: each is read and planned
 * and its plan's intent recorded (staged: nothing applied, nothing
 * synced); one write and fdatasync makes every intent durable; then each
 * NIC's plan is applied and its run goes on.  Every plan's intent is on
 * disk before any of them changes the kernel, as with one sync per plan,
 * for one sync per batch instead of one per NIC.  The replies wait for
 * the group commit (reconcile_save, then the caller's callback).
 */
void reconcile_batch_run(struct reconcile *rc)
{
	struct reconcile_queued *q = rc->queued, **mine;
	struct nic_run *runs;
	size_t i, k, n = rc->n_queued, m, used, n_runs = 0;
	bool staged = false, was_deferred;
	struct kerror sync_err = { 0 };

	if (!n)
		return;
	rc->queued = NULL;
	rc->n_queued = rc->cap_queued = 0;
	mine = calloc(n, sizeof(*mine));
	runs = calloc(n, sizeof(*runs));
	rc->request = true;
	/* every waiting request on a NIC, in arrival order, one group per NIC
	 * (out of memory: one at a time, through the groups' own array) */
	for (i = used = 0; i < n; i++) {
		bool seen = false;

		for (k = 0; k < n_runs && !seen; k++)
			seen = !strcmp(runs[k].nic, q[i].u.id.nic);
		if (seen || !runs)
			continue;
		runs[n_runs].nic = q[i].u.id.nic;
		runs[n_runs].q = mine ? &mine[used] : NULL;
		for (k = i, m = 0; mine && k < n; k++)
			if (!strcmp(q[k].u.id.nic, q[i].u.id.nic))
				mine[used + m++] = &q[k];
		runs[n_runs++].n = m;
		used += m;
	}
	if (!mine || !runs) {
		for (i = 0; i < n; i++) {
			struct reconcile_queued *one = &q[i];
			struct nic_run nr = { .nic = q[i].u.id.nic, .q = &one, .n = 1 };

			if (q[i].finished)
				continue;
			(void)run_begin(rc, &nr);
			run_end(rc, &nr);
		}
	} else {
		read_first(rc, runs, n_runs);
		rc->stage_intents = true;
		for (i = 0; i < n_runs; i++)
			staged |= run_begin(rc, &runs[i]) == RC_STAGED;
		rc->stage_intents = false;
		if (staged && reconcile_sync_staged(rc, &sync_err) < 0 &&
		    (sync_err.err == ETIMEDOUT || sync_err.err == EAGAIN)) {
			/* the state directory does not answer within the bound:
			 * the staged runs apply nothing and end with why (run
			 * one at a time, each would be refused the same) */
			for (i = 0; i < n_runs; i++)
				if (runs[i].r == RC_STAGED) {
					runs[i].r = -sync_err.err;
					runs[i].e = sync_err;
				}
			staged = false;
		}
		/* each staged plan applied, what they changed read back
		 * together, then each run goes on.  What the applied plans
		 * record is written once for all of them, with what the runs'
		 * ends record (reconcile_save below), not once per NIC: a
		 * write makes nothing durable (the intents are; the replies
		 * wait for the commit's sync of the last write), and a crash
		 * before it finds the intents pending, as one between an op
		 * and its record does */
		if (staged)
			make_first(rc, runs, n_runs);
		rc->defer_readback = true;
		was_deferred = rc->defer_saves;
		rc->defer_saves = true;
		for (i = 0; i < n_runs; i++)
			if (runs[i].r == RC_STAGED)
				runs[i].r = reconcile_run_nic(rc, runs[i].nic, PLAN_MODE_NORMAL, false,
							      NULL, &runs[i].all, &runs[i].e);
		rc->defer_saves = was_deferred;
		rc->defer_readback = false;
		read_back(rc, runs, n_runs);
		for (i = 0; i < n_runs; i++)
			run_end(rc, &runs[i]);
	}
	rc->request = false;
	(void)reconcile_save(rc);
	for (i = 0; i < n; i++) {
		const struct attach *a = q[i].r < 0 ? NULL :
						      reconcile_find_att(rc, q[i].u.id.nic,
									 q[i].u.id.mac);

		q[i].done(q[i].ud, q[i].r, &q[i].out, a);
		reconcile_outcome_clear(&q[i].out);
		reconcile_attach_undo_clear(&q[i].u);
	}
	free(runs);
	free(mine);
	free(q);
}

static int on_batch(sd_event_source *s, void *userdata)
{
	struct reconcile *rc = userdata;

	/* every request of the batch was read in an earlier turn of the loop */
	rc->links_since = NIC_CATCH_UP_TURN;
	reconcile_batch_run(rc);
	rc->links_since = NIC_CATCH_UP_READ;
	return 0;
}

int reconcile_attach_queue(struct reconcile *rc, const struct attach_id *id,
			   struct reconcile_outcome *out, reconcile_attach_done_fn done, void *ud)
{
	struct reconcile_queued *v;
	int r;

	if (!rc->d.event)
		return -EOPNOTSUPP;
	if (!rc->batch) {
		r = sd_event_add_defer(rc->d.event, &rc->batch, on_batch, rc);
		if (r >= 0)
			r = sd_event_source_set_enabled(rc->batch, SD_EVENT_OFF);
		/* after every request ready, before the commit's sync */
		if (r >= 0)
			r = sd_event_source_set_priority(rc->batch, SD_EVENT_PRIORITY_IDLE - 1);
		if (r < 0) {
			rc->batch = sd_event_source_disable_unref(rc->batch);
			return r;
		}
	}
	if (rc->n_queued == rc->cap_queued) { /* (doubling: fifty clients, not fifty copies) */
		size_t cap = rc->cap_queued ? 2 * rc->cap_queued : 16;

		v = realloc(rc->queued, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		rc->queued = v;
		rc->cap_queued = cap;
	}
	v = &rc->queued[rc->n_queued];
	memset(v, 0, sizeof(*v));
	rc->request = true;
	r = reconcile_attach_prepare(rc, id, out, &v->u);
	rc->request = false;
	if (r < 0)
		return r;
	v->done = done;
	v->ud = ud;
	rc->n_queued++;
	(void)sd_event_source_set_enabled(rc->batch, SD_EVENT_ONESHOT);
	return 0;
}
