// SPDX-License-Identifier: MIT
/*
 * plan-pool — the planner's NIC-wide steps (plan.h): the channel count, the
 * pool of reserved queues and the default (context-0) RSS table that keeps
 * them out of the shared spread, and putting both back on release.
 *
 * Owns: those decisions.  Must not: do I/O, read the clock, keep globals, log.
 */
#include "plan-int.h"

/* --- step 2: channels ----------------------------------------------------- */

static bool use_combined(const struct nic *nic)
{
	return nic->ch.combined_max > 0 || nic->ch.combined > 0;
}

/* Can the RX queue count drop to t?  Names the first blocker otherwise. */
static bool shrink_blocked(const struct planner *pl, uint32_t t, char *why, size_t size)
{
	uint32_t q;

	for (q = t; q < pl->qmax; q++)
		if (plan_claim(pl, q, why, size)[0])
			return true;
	if (!pl->rss0 || pl->rss0_writable)
		return false;
	for (q = 0; q < pl->rss0->indir_size; q++)
		if (pl->rss0->indir[q] >= t) {
			snprintf(why, size,
				 "the default RSS table uses queue %u and cannot be rewritten",
				 pl->rss0->indir[q]);
			return true;
		}
	return false;
}

void plan_channels(struct planner *pl)
{
	const struct nic *nic = pl->nic;
	const struct journal_nic *j = pl->j;
	struct nic_channels_req req = { 0 }, prev = { 0 };
	bool comb = use_combined(nic), restore = false;
	uint32_t max = comb ? nic->ch.combined_max : nic->ch.rx_max;
	uint32_t target, extra = comb ? nic->ch.rx : nic->ch.combined;
	struct plan_op *op;
	char why[160];

	if (pl->managed && pl->pol->channels) {
		target = pl->pol->channels;
		if (target == pl->t_cur)
			return;
		if (nic->caps.channels_set.state == NIC_CAP_NO || !max) {
			plan_note(pl, ATTACH_R_CHANNELS, "set channels", nic->caps.channels_set.err,
			     "Channels=%u ignored: the channel count cannot be changed (%s)", target,
			     plan_cap_msg(&nic->caps.channels_set, "no settable channel maximum"));
			return;
		}
		if (target < 1 + extra || target - extra > max) {
			plan_note(pl, ATTACH_R_CHANNELS, "set channels", EINVAL,
			     "Channels=%u ignored: outside 1..%u", target, max + extra);
			return;
		}
		req.has_combined = comb;
		req.has_rx = !comb;
		if (comb)
			req.combined = target - extra;
		else
			req.rx = target - extra;
	} else if (j->has_channels_prior) {
		restore = true;
		req.has_combined = comb;
		req.has_rx = true;
		req.rx = j->channels_prior.rx;
		req.combined = j->channels_prior.combined;
		target = req.rx + (comb ? req.combined : 0);
		if (nic->ch.rx == req.rx && (!comb || nic->ch.combined == req.combined)) {
			op = plan_op_add(pl, PH_RESTORE, PLAN_OP_FORGET, NULL,
				    "channel count is back at its recorded value");
			if (op)
				op->forget = PLAN_FORGET_CHANNELS;
			pl->chan_restore = true;
			return;
		}
	} else {
		return;
	}

	if (target < pl->t_cur && shrink_blocked(pl, target, why, sizeof(why))) {
		plan_note(pl, ATTACH_R_CHANNELS, "set channels", EBUSY,
		     "not changing the RX queue count from %u to %u: %s", pl->t_cur, target, why);
		return;
	}
	prev.has_rx = req.has_rx;
	prev.has_combined = req.has_combined;
	prev.rx = nic->ch.rx;
	prev.combined = nic->ch.combined;
	if (restore)
		op = plan_op_add(pl, PH_CHANNELS, PLAN_OP_SET_CHANNELS, NULL,
			    "restore the RX queue count to %u, as it was before zcrxd", target);
	else
		op = plan_op_add(pl, PH_CHANNELS, PLAN_OP_SET_CHANNELS, NULL,
			    "Channels=%u (now %u)", target, pl->t_cur);
	if (!op)
		return;
	op->ch = req;
	op->ch_prev = prev;
	op->prior = restore ? PLAN_PRIOR_CLEAR : j->has_channels_prior ? PLAN_PRIOR_KEEP :
									 PLAN_PRIOR_RECORD;
	pl->t = target;
	pl->chan_op = true;
	pl->chan_restore = restore;
}

/* --- step 3: the pool and the default table -------------------------------- */

static void pool_add(struct planner *pl, uint32_t q, uint32_t *pool, size_t *n)
{
	char why[160];

	if (plan_claim(pl, q, why, sizeof(why))[0]) {
		plan_note(pl, ATTACH_R_POOL, "reserve queue", EBUSY, "queue %u not reserved: %s", q,
		     why);
		return;
	}
	pool[(*n)++] = q;
}

void plan_pool(struct planner *pl)
{
	const struct config_nic *pol = pl->pol;
	uint32_t t = pl->t, q, *pool, *shared;
	size_t n = 0, ns = 0, i;

	for (q = 0; q < t && q < pl->qmax; q++)
		pl->qf[q] |= Q_EXISTS;
	if (t > pl->qmax)
		t = pl->qmax;
	pool = plan_xcalloc(pl, t, sizeof(uint32_t));
	shared = plan_xcalloc(pl, t, sizeof(uint32_t));
	if (pl->err) {
		free(pool);
		free(shared);
		return;
	}
	if (pl->managed && t) {
		if (pol->n_reserve_list) {
			for (i = 0; i < pol->n_reserve_list; i++) {
				q = pol->reserve_list[i];
				if (q >= t) {
					plan_note(pl, ATTACH_R_POOL, "reserve queue", ERANGE,
					     "ReserveQueues lists queue %u but the NIC has %u RX queues",
					     q, t);
					continue;
				}
				pool_add(pl, q, pool, &n);
			}
		} else if (pol->reserve_count) {
			uint32_t c = pol->reserve_count;

			if (c >= t) {
				plan_note(pl, ATTACH_R_POOL, "reserve queue", ERANGE,
				     "ReserveQueues=%u leaves no shared queue on %u RX queues; "
				     "reserving %u",
				     c, t, t - 1);
				c = t - 1;
			}
			for (q = t - c; q < t; q++)
				pool_add(pl, q, pool, &n);
		}
		if (n == t) {
			plan_note(pl, ATTACH_R_POOL, "reserve queue", ERANGE,
			     "queue %u kept shared: at least one queue must stay in the default "
			     "RSS table",
			     pool[0]);
			memmove(pool, pool + 1, (n - 1) * sizeof(uint32_t));
			n--;
		}
	}
	for (i = 0; i < n; i++) {
		pl->qf[pool[i]] |= Q_POOL;
		pl->pos[pool[i]] = (uint32_t)i;
	}
	for (q = 0; q < t; q++)
		if (!(pl->qf[q] & Q_POOL))
			shared[ns++] = q;
	pl->p->pool = pool;
	pl->p->n_pool = n;
	pl->p->shared = shared;
	pl->p->n_shared = ns;
	pl->p->channels = pl->t;
}

static bool table_equal(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
	return na == nb && (!na || !memcmp(a, b, na * sizeof(uint32_t)));
}

static bool rss0_high(const struct nic_rss *r0, uint32_t t)
{
	uint32_t i;

	for (i = 0; i < r0->indir_size; i++)
		if (r0->indir[i] >= t)
			return true;
	return false;
}

/* The spread drivers set up by themselves (ethtool_rxfh_indir_default()). */
static bool is_driver_default(const uint32_t *indir, uint32_t size, uint32_t t)
{
	uint32_t i;

	for (i = 0; t && i < size; i++)
		if (indir[i] != i % t)
			return false;
	return t > 0;
}

void plan_rss0(struct planner *pl)
{
	const struct journal_nic *j = pl->j;
	const struct nic_rss *r0 = pl->rss0;
	const struct nic_caps *caps = &pl->nic->caps;
	enum plan_prior prior;
	uint32_t *want = NULL, size, q, *all = NULL;
	bool shrinking = pl->t < pl->t_cur, restore = false;
	const char *why;
	struct plan_op *op;
	enum phase ph = shrinking ? PH_RSS0_PRE : PH_RSS0_POST;

	pl->carve_ok = !pl->p->n_pool;
	if (!r0 || !pl->rss0_writable) {
		const struct nic_cap *c = !r0 ? &caps->rss : &caps->rss_set;

		plan_why_set(&pl->carve_err, c->err ? c->err : EOPNOTSUPP,
			     !r0 ? "read RSS table" : "write RSS table", c,
			     "no RSS table to rewrite");
		if (pl->managed && pl->p->n_pool)
			plan_note(pl, ATTACH_R_SHARED, pl->carve_err.op, pl->carve_err.err,
			     "pool queues stay in the default RSS spread: %s",
			     plan_why_msg(&pl->carve_err));
		if (j->has_rss0_prior && !pl->managed)
			plan_note(pl, ATTACH_R_SHARED, pl->carve_err.op, pl->carve_err.err,
			     "cannot restore the recorded default RSS table: %s",
			     plan_why_msg(&pl->carve_err));
		return;
	}
	size = r0->indir_size;
	want = plan_xcalloc(pl, size, sizeof(uint32_t));
	all = plan_xcalloc(pl, pl->t ? pl->t : 1, sizeof(uint32_t));
	if (pl->err)
		goto out;
	for (q = 0; q < pl->t; q++)
		all[q] = q;

	if (pl->managed && pl->p->n_pool) {
		plan_spread(want, size, pl->p->shared, pl->p->n_shared);
		prior = j->has_rss0_prior ? PLAN_PRIOR_KEEP : PLAN_PRIOR_RECORD;
		why = "spread the default RSS table over the shared queues only";
	} else if (j->has_rss0_prior || rss0_high(r0, pl->t)) {
		bool valid = j->has_rss0_prior && j->n_rss0_prior == size;
		bool chan_ours = (j->has_channels_prior || pl->chan_op) && !pl->chan_restore;

		for (q = 0; valid && q < size; q++)
			valid = j->rss0_prior[q] < pl->t;
		if (valid && is_driver_default(j->rss0_prior, size, pl->t) &&
		    !table_equal(j->rss0_prior, size, r0->indir, r0->indir_size)) {
			/* What zcrxd found was the driver's own even spread: hand
			 * the table back to the driver instead of writing the same
			 * numbers as a user table, which would pin the queues
			 * against later channel changes. */
			/* before a channel shrink: an unconfigured table pins nothing */
			op = plan_op_add(pl, ph, PLAN_OP_RSS_SET, NULL,
				    "reset the default RSS table to the driver's default, as it "
				    "was before zcrxd");
			if (!op)
				goto out;
			op->prior = PLAN_PRIOR_CLEAR;
			op->prev = plan_dup_u32(pl, r0->indir, r0->indir_size);
			op->n_prev = r0->indir_size;
			pl->carve_ok = true;
			goto out;
		}
		if (valid) {
			memcpy(want, j->rss0_prior, size * sizeof(uint32_t));
			prior = PLAN_PRIOR_CLEAR;
			restore = true;
			why = "restore the default RSS table recorded before zcrxd changed it";
		} else if (chan_ours) {
			/* zcrxd changed the channel count: the recorded table fits
			 * again once that is undone; until then spread evenly */
			if (pl->t)
				plan_spread(want, size, all, pl->t);
			prior = j->has_rss0_prior ? PLAN_PRIOR_KEEP : PLAN_PRIOR_RECORD;
			why = "spread the default RSS table over the queues the channel count "
			      "leaves";
		} else {
			/* The channel count goes back to what it was before zcrxd,
			 * or someone else changed it, and the recorded table (if
			 * any) does not fit: hand the table back to the driver's
			 * default.  When the current table stands in the way of
			 * the queue count, spread it over what remains first. */
			uint32_t *prev = r0->indir;

			if (rss0_high(r0, pl->t) && pl->t) {
				plan_spread(want, size, all, pl->t);
				op = plan_op_add(pl, PH_RSS0_PRE, PLAN_OP_RSS_SET, NULL,
					    "spread the default RSS table over the queues that "
					    "remain");
				if (!op)
					goto out;
				op->indir = want;
				op->n_indir = size;
				op->prev = plan_dup_u32(pl, r0->indir, size);
				op->n_prev = size;
				prev = want;
				want = NULL;
			}
			op = plan_op_add(pl, PH_RSS0_POST, PLAN_OP_RSS_SET, NULL,
				    "reset the default RSS table to the driver's default (the "
				    "recorded one does not fit %u queues)",
				    pl->t);
			if (!op)
				goto out;
			op->prior = j->has_rss0_prior ? PLAN_PRIOR_CLEAR : PLAN_PRIOR_KEEP;
			op->prev = plan_dup_u32(pl, prev, size);
			op->n_prev = size;
			pl->carve_ok = true;
			goto out;
		}
	} else {
		goto out;
	}

	if (table_equal(want, size, r0->indir, r0->indir_size) && !pl->chan_op) {
		if (restore) {
			op = plan_op_add(pl, PH_RESTORE, PLAN_OP_FORGET, NULL,
				    "default RSS table is back at its recorded value");
			if (op)
				op->forget = PLAN_FORGET_RSS0;
		}
		pl->carve_ok = true;
		goto out;
	}
	op = plan_op_add(pl, ph, PLAN_OP_RSS_SET, NULL, "%s", why);
	if (!op)
		goto out;
	op->ctx = 0;
	op->prior = prior;
	op->indir = want;
	op->n_indir = size;
	want = NULL;
	op->prev = plan_dup_u32(pl, r0->indir, r0->indir_size);
	op->n_prev = r0->indir_size;
	pl->carve_ok = true;
out:
	free(want);
	free(all);
}
