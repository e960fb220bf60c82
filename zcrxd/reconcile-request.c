// SPDX-License-Identifier: MIT
/*
 * reconcile-request — the requests (reconcile.h): Attach and its dry runs,
 * Detach, Rebalance, Release, Reconcile, Plan and the libvirt prune.  Each
 * checks its input, changes the desired set (on a scratch copy for dry
 * runs), runs the NICs it touches and saves.
 *
 * Owns: request validation and errors, undoing a refused request.
 * Must not: speak Varlink (api-attach.c does).
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nic-monitor.h"
#include "reconcile-int.h"
#include "str.h"

/* --- requests ------------------------------------------------------------------------------- */

static int fail(struct reconcile_outcome *out, const char *name, int err, const char *obj,
		const char *op, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int fail(struct reconcile_outcome *out, const char *name, int err, const char *obj,
		const char *op, const char *fmt, ...)
{
	char msg[KERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	out->error_name = name;
	return kerror_set(&out->err, err, obj, op, msg);
}

static int need_nic(struct reconcile *rc, const char *name, struct reconcile_outcome *out,
		    const struct nic **ret)
{
	const struct nic *nic = nic_monitor_find(rc->d.monitor, name);

	*ret = nic;
	if (!nic)
		return fail(out, "io.zcrx.Manager.NoSuchNic", ENODEV, name, "lookup",
			    "no NIC '%s' in zcrxd's network namespace", name);
	return 0;
}

/* An attachment event's JSON is built only when a Monitor listens (a
 * storm of libvirt events usually has none). */
static void publish_id(struct reconcile *rc, const char *type, const struct attach_id *id)
{
	if (reconcile_listening(rc))
		reconcile_publish(rc, type, attach_id_to_json(id));
}

/* Run fn on a copy of the store and throw the copy away (dry runs). */
static int with_scratch_store(struct reconcile *rc, struct store *scratch)
{
	int r = store_copy(scratch, &rc->store);

	if (r < 0)
		return r;
	/* swap: requests work on rc->store */
	{
		struct store t = rc->store;

		rc->store = *scratch;
		*scratch = t;
	}
	return 0;
}

static void end_scratch_store(struct reconcile *rc, struct store *scratch)
{
	store_clear(&rc->store);
	rc->store = *scratch;
}

/* What every Attach checks before anything else: a valid identity on a NIC
 * zcrxd manages, not taken by another domain.  *id (owning nothing) gets
 * a copy of the identity with what zcrxd knows filled in, the caller's to
 * clear whatever this returns; *ret_k the index of an attachment with the
 * same key (or -1). */
static int attach_check(struct reconcile *rc, const struct attach_id *idp,
			struct reconcile_outcome *out, struct attach_id *id, ssize_t *ret_k)
{
	const struct nic *nic, *tap;
	struct config_nic pol;
	ssize_t k;
	int r;

	*ret_k = -1;
	if (attach_id_copy(id, idp) < 0)
		return fail(out, NULL, ENOMEM, idp->nic, "attach", "out of memory");
	if (attach_id_validate(id, &out->err) < 0) {
		out->error_name = "org.varlink.service.InvalidParameter";
		return -EINVAL;
	}
	if ((r = need_nic(rc, id->nic, out, &nic)) < 0)
		return r;
	if (!reconcile_nic_eligible(rc, nic, &pol)) {
		if (nic->link.kind[0] && rc->d.config->has_nic_default)
			return fail(out, "io.zcrx.Manager.NicNotManaged", EPERM, id->nic, "attach",
				    "zcrxd does not manage %s: no [nic %s] section, and [nic *] "
				    "covers only NICs without a link kind (%s is a %s)",
				    id->nic, id->nic, id->nic, nic->link.kind);
		return fail(out, "io.zcrx.Manager.NicNotManaged", EPERM, id->nic, "attach",
			    "zcrxd does not manage %s (no [nic %s] or [nic *] section applies)",
			    id->nic, id->nic);
	}
	id->nic_ifindex = nic->link.ifindex;
	if (id->tap[0]) {
		/* only the vNIC's own macvtap is ever its tap: a binding ties a
		 * NIC queue to it.  One that does not exist (yet) gives none
		 * until it appears as that macvtap (refresh_tap). */
		char why[128];

		id->tap_ifindex = 0;
		/* the monitor caught up: a link it does not hold does not
		 * exist, no kernel call to be sure (as in a NIC's run) */
		rc->links_current = rc->d.monitor &&
				    nic_monitor_catch_up(rc->d.monitor, rc->links_since);
		tap = reconcile_find_link(rc, id->tap);
		rc->links_current = false;
		if (tap && reconcile_tap_mismatch(id, tap, why, sizeof(why)))
			return fail(out, "io.zcrx.Manager.TapMismatch", EINVAL, id->tap, "attach",
				    "%s", why);
		if (tap)
			id->tap_ifindex = tap->link.ifindex;
	}
	k = store_find_attach(&rc->store, id->nic, id->mac);
	if (k >= 0 && strcmp(rc->store.atts[k].id.domain, id->domain) &&
	    strcmp(rc->store.atts[k].id.uuid[0] ? rc->store.atts[k].id.uuid : "-",
		   id->uuid[0] ? id->uuid : "+")) {
		char mac[18];

		return fail(out, "io.zcrx.Manager.AttachmentExists", EEXIST, id->nic, "attach",
			    "%s on %s is attached for domain '%s'", attach_mac(id, mac), id->nic,
			    rc->store.atts[k].id.domain);
	}
	*ret_k = k;
	return 0;
}

/* id into the desired set (an attach resumes management of a released
 * NIC; *was_released says whether it was). */
static int attach_put(struct reconcile *rc, const struct attach_id *id,
		      struct reconcile_outcome *out, bool *was_released)
{
	struct journal_nic *j = store_journal(&rc->store, id->nic, 0, false);
	size_t idx;

	*was_released = j && j->released;
	if (j)
		j->released = false;
	if (store_put_attach(&rc->store, id, &idx) < 0) {
		if (j)
			j->released = *was_released;
		return fail(out, NULL, ENOMEM, id->nic, "attach", "out of memory");
	}
	attach_unhold(&rc->store.atts[idx]);
	return 0;
}

/* Back to the desired state before attach_put (old: the identity the
 * attachment had, NULL when it was new). */
static void attach_unput(struct reconcile *rc, const struct attach_id *id,
			 const struct attach_id *old, bool was_released)
{
	struct attach *a = reconcile_find_att(rc, id->nic, id->mac);
	struct journal_nic *j;

	if (a) {
		if (old) {
			struct attach_id now = a->id;

			if (attach_id_copy(&a->id, old) < 0)
				a->id.domain = now.domain; /* out of memory: kept */
			else
				attach_id_clear(&now);
			store_mark(&rc->store, a->id.nic, a->id.mac);
			attach_unhold(a);
		} else {
			store_del_attach(&rc->store, (size_t)(a - rc->store.atts));
		}
	}
	if (was_released && (j = store_journal(&rc->store, id->nic, 0, false)))
		j->released = true;
}

/* With id in the desired set: does OnExhaustion=fail refuse it?  Plans its
 * NIC without changing anything; -ENOSPC with io.zcrx.Manager.PoolExhausted
 * in out when refused.  probe (optional) gets the dry plan. */
static int attach_pool_check(struct reconcile *rc, const struct attach_id *id,
			     struct reconcile_outcome *out, struct reconcile_outcome *probe)
{
	struct reconcile_outcome o = { 0 };
	struct kerror e = { 0 };
	const struct attach *a;
	char msg[KERROR_MSG_MAX];
	size_t q;
	int r;

	if (!probe)
		probe = &o;
	r = reconcile_run_nic(rc, id->nic, PLAN_MODE_NORMAL, true, NULL, probe, &e);
	if (r < 0) { /* not planned (the NIC could not be read): no answer from old news */
		reconcile_outcome_clear(&o);
		out->err = e;
		out->error_name = "io.zcrx.Manager.KernelError";
		return r;
	}
	a = reconcile_find_att(rc, id->nic, id->mac);
	if (!a || a->res.state != ATTACH_STATE_FAILED ||
	    !attach_result_has_reason(&a->res, ATTACH_R_POOL_EXHAUSTED)) {
		reconcile_outcome_clear(&o);
		return 0;
	}
	snprintf(msg, sizeof(msg), "%s", a->res.n_reasons ? a->res.reasons[0].msg : "");
	for (q = 0; q < a->res.n_reasons; q++)
		if (!strcmp(a->res.reasons[q].code, ATTACH_R_POOL_EXHAUSTED))
			snprintf(msg, sizeof(msg), "%s", a->res.reasons[q].msg);
	reconcile_outcome_clear(&o);
	return fail(out, "io.zcrx.Manager.PoolExhausted", ENOSPC, id->nic, "attach", "%s", msg);
}

/* The dry run: planned on a copy of the store, the plan is the answer. */
static int attach_dry(struct reconcile *rc, const struct attach_id *idp,
		      struct reconcile_outcome *out, struct attach *ret)
{
	struct reconcile_outcome probe = { 0 };
	struct attach_id id, old_id;
	struct store scratch;
	struct attach *a;
	bool existed, was_released = false;
	ssize_t k;
	size_t i;
	int r;

	attach_id_init(&old_id);
	if ((r = attach_check(rc, idp, out, &id, &k)) < 0)
		goto done;
	existed = k >= 0;
	if (existed && attach_id_copy(&old_id, &rc->store.atts[k].id) < 0) {
		r = fail(out, NULL, ENOMEM, id.nic, "attach", "out of memory");
		goto done;
	}
	if (with_scratch_store(rc, &scratch) < 0) {
		r = fail(out, NULL, ENOMEM, id.nic, "attach", "out of memory");
		goto done;
	}
	rc->request = true;
	if ((r = attach_put(rc, &id, out, &was_released)) < 0)
		goto out;
	r = attach_pool_check(rc, &id, out, &probe);
	if (r < 0) {
		attach_unput(rc, &id, existed ? &old_id : NULL, was_released);
		goto out;
	}
	for (i = 0; i < probe.n_plans; i++)
		reconcile_plan_take(reconcile_outcome_plan(out, probe.plans[i].nic),
				    &probe.plans[i]);
	a = reconcile_find_att(rc, id.nic, id.mac);
	if (ret && a) /* a copy: the scratch store goes away */
		(void)attach_copy(ret, a);
out:
	reconcile_outcome_clear(&probe);
	rc->request = false;
	end_scratch_store(rc, &scratch);
done:
	attach_id_clear(&id);
	attach_id_clear(&old_id);
	return r;
}

int reconcile_attach_prepare(struct reconcile *rc, const struct attach_id *idp,
			     struct reconcile_outcome *out, struct reconcile_attach_undo *u)
{
	ssize_t k;
	int r;

	memset(u, 0, sizeof(*u));
	attach_id_init(&u->old_id);
	if ((r = attach_check(rc, idp, out, &u->id, &k)) < 0)
		goto drop;
	u->existed = k >= 0;
	/* attach_check caught the monitor up to look the tap up */
	u->links_read = u->id.tap[0] && rc->d.monitor;
	if (u->existed && attach_id_copy(&u->old_id, &rc->store.atts[k].id) < 0) {
		r = fail(out, NULL, ENOMEM, u->id.nic, "attach", "out of memory");
		goto drop;
	}
	if ((r = attach_put(rc, &u->id, out, &u->was_released)) < 0)
		goto drop;
	/* asked for again: binds the module refused for it are tried again */
	reconcile_forget_refusals(rc, u->id.nic, u->id.mac);
	return 0;
drop:
	reconcile_attach_undo_clear(u);
	return r;
}

void reconcile_attach_undo_clear(struct reconcile_attach_undo *u)
{
	attach_id_clear(&u->id);
	attach_id_clear(&u->old_id);
}

void reconcile_attach_undo(struct reconcile *rc, const struct reconcile_attach_undo *u)
{
	attach_unput(rc, &u->id, u->existed ? &u->old_id : NULL, u->was_released);
	if (u->announced)
		publish_id(rc, "attachment-removed", &u->id);
}

int reconcile_attach_result(struct reconcile *rc, struct reconcile_attach_undo *u, int r,
			    struct reconcile_outcome *out)
{
	struct attach *a = reconcile_find_att(rc, u->id.nic, u->id.mac);

	if (r == -ENOSPC && rc->watch_hit >= 0) {
		/* refused before anything happened: no attachment came to be */
		out->error_name = "io.zcrx.Manager.PoolExhausted";
		return r;
	}
	if (!u->existed) {
		publish_id(rc, "attachment-created", &u->id);
		u->announced = true;
	}
	if (r == 0 && a && a->held) {
		/* the kernel refused this attachment's own op */
		if (a->held_err)
			out->err = *a->held_err;
		r = -(out->err.err ? out->err.err : EIO);
	}
	if (r < 0)
		out->error_name = "io.zcrx.Manager.KernelError";
	return r;
}

int reconcile_attach(struct reconcile *rc, const struct attach_id *idp, bool dry_run,
		     struct reconcile_outcome *out, struct attach *ret)
{
	enum nic_catch_up since = rc->links_since;
	struct reconcile_attach_undo u;
	const struct attach *a;
	uint64_t saves_before;
	int r;

	if (dry_run)
		return attach_dry(rc, idp, out, ret);
	rc->request = true;
	if ((r = reconcile_attach_prepare(rc, idp, out, &u)) < 0)
		goto out;
	/* the check read the link notifications after the request was read:
	 * the runs it causes need not read them again */
	if (u.links_read)
		rc->links_since = NIC_CATCH_UP_DONE;
	saves_before = rc->st.saves;
	/* one plan: its pool check (OnExhaustion=fail) and what it does */
	rc->watch = &u.id.mac;
	rc->n_watch = 1;
	rc->watch_hit = -1;
	r = reconcile_run_nic(rc, u.id.nic, PLAN_MODE_NORMAL, false, NULL, out, &out->err);
	rc->n_watch = 0;
	r = reconcile_attach_result(rc, &u, r, out);
	if (r < 0) {
		/* the request did not happen: back to the previous desired state */
		struct kerror e = { 0 };
		bool ran = out->error_name && strcmp(out->error_name, "io.zcrx.Manager.PoolExhausted");

		reconcile_attach_undo(rc, &u);
		if (ran) /* a refused pool stopped the run before it did anything */
			(void)reconcile_run_nic(rc, u.id.nic, PLAN_MODE_NORMAL, false, NULL, NULL, &e);
		(void)reconcile_save(rc);
		goto out;
	}
	if (rc->st.saves == saves_before) /* nothing applied: the desired set still changed */
		(void)reconcile_save(rc);
	a = reconcile_find_att(rc, u.id.nic, u.id.mac);
	if (ret && a)
		(void)attach_copy(ret, a);
out:
	reconcile_attach_undo_clear(&u); /* (prepare leaves nothing to clear when it failed) */
	rc->links_since = since;
	rc->request = false;
	return r;
}

/* A refused vNIC of a dry run: its identity, failed, with the refusal. */
static void dry_refused(struct attach *ret, const struct attach_id *id,
			const struct reconcile_outcome *o)
{
	struct kerror e = o->err;

	attach_clear(ret);
	attach_init(ret);
	(void)attach_id_copy(&ret->id, id); /* (out of memory: without its domain) */
	ret->res.state = ATTACH_STATE_FAILED;
	if (!e.op[0])
		snprintf(e.op, sizeof(e.op), "attach");
	(void)attach_result_add_kerror(&ret->res,
				       o->error_name && strstr(o->error_name, "PoolExhausted") ?
					       ATTACH_R_POOL_EXHAUSTED :
					       ATTACH_R_REFUSED,
				       &e);
}

int reconcile_attach_dry(struct reconcile *rc, const struct attach_id *ids, size_t n,
			 struct reconcile_outcome *out, struct attach *rets)
{
	char (*nics)[IF_NAMESIZE] = calloc(n ? n : 1, IF_NAMESIZE);
	bool *ok = calloc(n ? n : 1, sizeof(bool));
	struct store scratch;
	size_t i, k, n_nics = 0;

	if (!nics || !ok || with_scratch_store(rc, &scratch) < 0) {
		free(nics);
		free(ok);
		return fail(out, NULL, ENOMEM, NULL, "attach", "out of memory");
	}
	rc->request = true;
	/* one after the other, as the real requests would come */
	for (i = 0; i < n; i++) {
		struct reconcile_outcome o = { 0 };
		struct attach_id id, old_id;
		bool was_released;
		ssize_t kk;

		attach_id_init(&old_id);
		if (attach_check(rc, &ids[i], &o, &id, &kk) < 0) {
			dry_refused(&rets[i], &ids[i], &o);
			goto next;
		}
		if (kk >= 0 && attach_id_copy(&old_id, &rc->store.atts[kk].id) < 0) {
			(void)fail(&o, NULL, ENOMEM, id.nic, "attach", "out of memory");
			dry_refused(&rets[i], &id, &o);
			goto next;
		}
		if (attach_put(rc, &id, &o, &was_released) < 0) {
			dry_refused(&rets[i], &id, &o);
			goto next;
		}
		if (attach_pool_check(rc, &id, &o, NULL) < 0) {
			attach_unput(rc, &id, kk >= 0 ? &old_id : NULL, was_released);
			dry_refused(&rets[i], &id, &o);
			goto next;
		}
		ok[i] = true;
		for (k = 0; k < n_nics && strcmp(nics[k], id.nic); k++)
			;
		if (k == n_nics)
			snprintf(nics[n_nics++], IF_NAMESIZE, "%s", id.nic);
		attach_id_clear(&rets[i].id);
		rets[i].id = id; /* moved */
		attach_id_init(&id);
next:
		attach_id_clear(&id);
		attach_id_clear(&old_id);
	}
	/* then each NIC planned once with all of them */
	for (k = 0; k < n_nics; k++) {
		struct kerror e = { 0 };

		(void)reconcile_run_nic(rc, nics[k], PLAN_MODE_NORMAL, true, NULL, out, &e);
	}
	for (i = 0; i < n; i++) {
		const struct attach *a;

		if (!ok[i] || !(a = reconcile_find_att(rc, rets[i].id.nic, rets[i].id.mac)))
			continue;
		attach_clear(&rets[i]);
		attach_init(&rets[i]);
		(void)attach_copy(&rets[i], a);
	}
	rc->request = false;
	end_scratch_store(rc, &scratch);
	free(nics);
	free(ok);
	return 0;
}

bool reconcile_matches(const struct attach *a, const char *domain, const char *uuid,
		       const char *nic, const uint8_t *mac)
{
	/* a lease is no domain's: a domain filter never names it */
	if (a->id.kind == ATTACH_KIND_LEASE && ((domain && *domain) || (uuid && *uuid)))
		return false;
	if (uuid && *uuid) {
		if (strcmp(a->id.uuid, uuid) && (!domain || strcmp(a->id.domain, domain)))
			return false;
	} else if (domain && *domain &&
		   /* the first bytes first: this runs over every attachment */
		   (a->id.domain[0] != domain[0] || strcmp(a->id.domain, domain)) &&
		   (a->id.uuid[0] != domain[0] || strcmp(a->id.uuid, domain))) {
		return false;
	}
	if (nic && strcmp(a->id.nic, nic))
		return false;
	if (mac && memcmp(a->id.mac, mac, NIC_MAC_LEN))
		return false;
	return true;
}

int reconcile_detach(struct reconcile *rc, const char *domain, const char *uuid, const char *nic,
		     const uint8_t *mac, bool dry_run, struct reconcile_outcome *out)
{
	char nics[64][IF_NAMESIZE];
	size_t n_nics = 0, i, k;
	struct store scratch;
	int removed = 0, r = 0;
	uint64_t saves_before = rc->st.saves;

	if (dry_run && with_scratch_store(rc, &scratch) < 0)
		return fail(out, NULL, ENOMEM, nic, "detach", "out of memory");
	rc->request = true;
	for (i = rc->store.n_atts; i-- > 0;) {
		struct attach *a = &rc->store.atts[i];

		if (!reconcile_matches(a, domain, uuid, nic, mac))
			continue;
		for (k = 0; k < n_nics && strcmp(nics[k], a->id.nic); k++)
			;
		if (k == n_nics && n_nics < 64)
			str_copy(nics[n_nics++], IF_NAMESIZE, a->id.nic);
		if (!dry_run)
			publish_id(rc, "attachment-removed", &a->id);
		store_del_attach(&rc->store, i);
		removed++;
	}
	for (k = 0; k < n_nics; k++) {
		struct kerror e = { 0 };

		if (reconcile_run_nic(rc, nics[k], PLAN_MODE_NORMAL, dry_run, NULL, out, &e) < 0 &&
		    !r) {
			out->err = e;
			out->error_name = "io.zcrx.Manager.KernelError";
			r = -e.err;
		}
	}
	if (dry_run)
		end_scratch_store(rc, &scratch);
	else if (removed && rc->st.saves == saves_before)
		(void)reconcile_save(rc);
	rc->request = false;
	return r < 0 ? r : removed;
}

int reconcile_rebalance(struct reconcile *rc, const char *nic, bool dry_run,
			const struct plan_rebalance_opts *opts, struct reconcile_outcome *out)
{
	struct store scratch;
	const struct nic *n;
	size_t i;
	int r = 0;

	if (nic && need_nic(rc, nic, out, &n) < 0)
		return -out->err.err;
	/* a dry run on a copy: the attachments keep showing what is */
	if (dry_run && with_scratch_store(rc, &scratch) < 0)
		return fail(out, NULL, ENOMEM, nic, "rebalance", "out of memory");
	rc->request = true;
	for (i = 0; i < nic_monitor_count(rc->d.monitor); i++) {
		struct kerror e = { 0 };

		n = nic_monitor_at(rc->d.monitor, i);
		if ((nic && strcmp(n->link.name, nic)) || !reconcile_wants(rc, n))
			continue;
		if (reconcile_run_nic(rc, n->link.name, PLAN_MODE_REBALANCE, dry_run, opts, out,
				      &e) < 0 &&
		    !r) {
			out->err = e;
			out->error_name = "io.zcrx.Manager.KernelError";
			r = -e.err;
		}
	}
	rc->request = false;
	if (dry_run)
		end_scratch_store(rc, &scratch);
	return r;
}

int reconcile_release(struct reconcile *rc, const char *nic, bool dry_run,
		      struct reconcile_outcome *out)
{
	const struct nic *n;
	struct journal_nic *j;
	struct store scratch;
	struct kerror e = { 0 };
	size_t i;
	int r;

	if ((r = need_nic(rc, nic, out, &n)) < 0)
		return r;
	if (dry_run && with_scratch_store(rc, &scratch) < 0)
		return fail(out, NULL, ENOMEM, nic, "release", "out of memory");
	rc->request = true;
	for (i = rc->store.n_atts; i-- > 0;)
		if (!strcmp(rc->store.atts[i].id.nic, nic)) {
			struct attach *a = &rc->store.atts[i];
			char why[IF_NAMESIZE + 16];

			snprintf(why, sizeof(why), "NIC %s released", nic);
			if (!dry_run)
				publish_id(rc, "attachment-removed", &a->id);
			if (!dry_run && a->id.kind == ATTACH_KIND_LEASE)
				reconcile_lease_released(rc, a, why);
			store_del_attach(&rc->store, i);
		}
	r = reconcile_run_nic(rc, nic, PLAN_MODE_RELEASE, dry_run, NULL, out, &e);
	if (!dry_run) {
		j = store_journal(&rc->store, nic, n->link.ifindex, true);
		if (j)
			j->released = true;
		(void)reconcile_save(rc);
	} else {
		end_scratch_store(rc, &scratch);
	}
	rc->request = false;
	if (r < 0) {
		out->err = e;
		out->error_name = "io.zcrx.Manager.KernelError";
	}
	return r;
}

int reconcile_nic(struct reconcile *rc, const char *nic, struct reconcile_outcome *out)
{
	const struct nic *n;
	int r;

	if (nic && (r = need_nic(rc, nic, out, &n)) < 0)
		return r;
	/* asked for: what the module refused is asked again */
	reconcile_forget_refusals(rc, nic, NULL);
	if (!nic)
		return reconcile_all(rc, "request", out);
	r = reconcile_run_nic(rc, nic, PLAN_MODE_NORMAL, false, NULL, out, &out->err);
	if (r < 0)
		out->error_name = "io.zcrx.Manager.KernelError";
	return r;
}

int reconcile_plan(struct reconcile *rc, const char *nic, bool limited,
		   struct reconcile_outcome *out)
{
	struct store scratch;
	const struct nic *n;
	size_t i;
	int r;

	if (nic && (r = need_nic(rc, nic, out, &n)) < 0)
		return r;
	/* on a copy: the attachments keep showing what is, not what would be */
	if (with_scratch_store(rc, &scratch) < 0)
		return fail(out, NULL, ENOMEM, nic, "plan", "out of memory");
	rc->dry_limited = limited;
	for (i = 0; (n = nic_monitor_at(rc->d.monitor, i)); i++) {
		struct kerror e = { 0 };
		char name[IF_NAMESIZE];
		int ifindex = n->link.ifindex;

		if ((nic && strcmp(n->link.name, nic)) || (!nic && !reconcile_wants(rc, n)))
			continue;
		snprintf(name, sizeof(name), "%s", n->link.name);
		/* a NIC that cannot be planned makes the answer an error: the
		 * others' plans would read as all there is to do */
		if (reconcile_run_nic(rc, name, PLAN_MODE_NORMAL, true, NULL, out, &e) < 0 &&
		    !out->n_failed_nics++)
			out->err = e;
		/* its dry run read it again, and may have found it gone: on
		 * with the NIC after it in the table (ifindex order) */
		for (i = 0; (n = nic_monitor_at(rc->d.monitor, i)) && n->link.ifindex <= ifindex;
		     i++)
			;
		i--; /* (wraps to SIZE_MAX at 0; the loop's i++ makes it 0) */
	}
	rc->dry_limited = false;
	end_scratch_store(rc, &scratch);
	if (out->n_failed_nics) {
		struct kerror e = out->err;
		char buf[400];

		out->error_name = "io.zcrx.Manager.KernelError";
		return kerror_setf(&out->err, e.err ? e.err : EIO, e.obj, "plan",
				   "%zu NIC(s) could not be planned; first: %s", out->n_failed_nics,
				   kerror_format(&e, buf, sizeof(buf)));
	}
	return 0;
}

int reconcile_prune(struct reconcile *rc, const char *const *running, size_t n)
{
	size_t i, k;
	int removed = 0;

	for (i = rc->store.n_atts; i-- > 0;) {
		const struct attach *a = &rc->store.atts[i];
		struct reconcile_outcome o = { 0 };
		char uuid[ATTACH_UUID_MAX];

		if (!a->id.uuid[0])
			continue;
		for (k = 0; k < n && strcmp(running[k], a->id.uuid); k++)
			;
		if (k < n)
			continue;
		snprintf(uuid, sizeof(uuid), "%s", a->id.uuid);
		if (reconcile_detach(rc, NULL, uuid, NULL, NULL, false, &o) > 0)
			removed++;
		reconcile_outcome_clear(&o);
		i = rc->store.n_atts; /* the table changed: start over */
	}
	return removed;
}
