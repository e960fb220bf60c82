// SPDX-License-Identifier: MIT
/*
 * reconcile-lease — leases for host zero-copy consumers (reconcile.h,
 * DESIGN.md §14): a lease is an attachment of kind ATTACH_KIND_LEASE, made
 * and removed through reconcile_attach()/reconcile_detach() like a vNIC's,
 * so the pool, planner, exec, journal and reconcile are the same.  What is
 * a lease's own: its checks (name, flow overlap), the all-or-nothing rule
 * (a lease is refused, with a named error, unless its queues, header split
 * and rules are all in place), and its consumer's state from queue-get
 * (waiting -> bound -> unbound -> released) with its events.
 *
 * Owns: those.  Must not: speak Varlink (api-lease.c does), watch owner
 * processes (api-lease.c does), talk to the kernel other than through a
 * NIC's run.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reconcile-int.h"

static int lfail(struct reconcile_outcome *out, const char *name, int err, const char *obj,
		 const char *op, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int lfail(struct reconcile_outcome *out, const char *name, int err, const char *obj,
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

static bool is_lease(const struct attach *a)
{
	return a->id.kind == ATTACH_KIND_LEASE;
}

struct attach *reconcile_find_lease(struct reconcile *rc, const char *lease)
{
	char *end;
	unsigned long id;
	size_t i;

	if (!lease || !*lease)
		return NULL;
	errno = 0;
	id = strtoul(lease, &end, 10);
	for (i = 0; i < rc->store.n_atts; i++) {
		struct attach *a = &rc->store.atts[i];

		if (!is_lease(a))
			continue;
		if (!strcmp(a->id.domain, lease) || (!*end && !errno && a->id.lease.id == id))
			return a;
	}
	return NULL;
}

/* The next lease id: above every lease and every journal entry of one (a
 * released lease's queue may still be waiting for its consumer to go), and
 * above every id given since zcrxd started. */
static uint32_t next_id(struct reconcile *rc)
{
	uint32_t max = rc->lease_id_last, x;
	size_t i, k;

	for (i = 0; i < rc->store.n_atts; i++)
		if (is_lease(&rc->store.atts[i]) && rc->store.atts[i].id.lease.id > max)
			max = rc->store.atts[i].id.lease.id;
	for (i = 0; i < rc->store.n_nics; i++) {
		const struct journal_nic *j = &rc->store.nics[i];

		for (k = 0; k < j->n_leases; k++)
			if (attach_key_is_lease(j->leases[k].owner, &x) && x > max)
				max = x;
		for (k = 0; k < j->n_rules; k++)
			if (attach_key_is_lease(j->rules[k].owner, &x) && x > max)
				max = x;
		for (k = 0; k < j->n_ctxs; k++)
			if (attach_key_is_lease(j->ctxs[k].owner, &x) && x > max)
				max = x;
	}
	return max + 1;
}

/* Take the id lease_id_of() gave (a refused lease's id is not taken). */
static void id_taken(struct reconcile *rc, uint32_t id)
{
	if (id > rc->lease_id_last)
		rc->lease_id_last = id;
}

bool reconcile_lease_name_ok(const char *name)
{
	size_t i, n = strlen(name);
	bool digits = true;

	if (!n || n >= ATTACH_LEASE_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && !strchr("._-@:", c))
			return false;
		digits &= isdigit(c) != 0;
	}
	return !digits; /* a number is a lease id */
}

/* --- is a planned lease complete? --------------------------------------------- */

/* A pool note saying a queue is held by something zcrxd did not make. */
static const struct attach_reason *busy_note(const struct reconcile_outcome *o, const char *nic)
{
	size_t i, k;

	for (i = 0; o && i < o->n_plans; i++) {
		if (strcmp(o->plans[i].nic, nic))
			continue;
		for (k = 0; k < o->plans[i].n_notes; k++) {
			const struct attach_reason *n = &o->plans[i].notes[k];

			if (!strcmp(n->code, ATTACH_R_POOL) &&
			    (strstr(n->msg, "memory provider") || strstr(n->msg, "AF_XDP")))
				return n;
		}
	}
	return NULL;
}

/* 0 when a (as planned or made) has every queue it asked for, its rules
 * and header split; else the named refusal in out.  notes: the NIC's plan
 * (for the queues something else holds), may be NULL. */
static int lease_complete(const struct attach *a, const struct reconcile_outcome *notes,
			  struct reconcile_outcome *out)
{
	const struct attach_result *r = &a->res;
	const char *nic = a->id.nic;
	const struct attach_reason *x, *busy;
	size_t i;

	for (i = 0; i < r->n_reasons; i++) {
		x = &r->reasons[i];
		/* one address family steered is a lease (the reason stays shown) */
		if (!strcmp(x->code, ATTACH_R_NUMA) || !strcmp(x->code, ATTACH_R_FLOW_FAMILY))
			continue;
		if (!strcmp(x->code, ATTACH_R_HEADER_SPLIT))
			return lfail(out, "io.zcrx.Manager.NicUnsupported", x->err ? x->err : EOPNOTSUPP,
				     nic, "header-split", "%s", x->msg);
		if (!strcmp(x->code, ATTACH_R_UNSTEERED))
			return lfail(out, "io.zcrx.Manager.NicUnsupported", x->err ? x->err : EOPNOTSUPP,
				     nic, "rules", "%s", x->msg);
		if (!strcmp(x->code, ATTACH_R_NO_CONTEXT))
			return lfail(out, "io.zcrx.Manager.NicUnsupported", x->err ? x->err : EOPNOTSUPP,
				     nic, "rss-contexts", "%s", x->msg);
		if (!strcmp(x->code, ATTACH_R_SHARED))
			return lfail(out, "io.zcrx.Manager.NicUnsupported", x->err ? x->err : EOPNOTSUPP,
				     nic, "rss", "%s", x->msg);
		if (!strcmp(x->code, ATTACH_R_POOL_EXHAUSTED) || !strcmp(x->code, ATTACH_R_PARTIAL)) {
			busy = busy_note(notes, nic);
			if (busy)
				return lfail(out, "io.zcrx.Manager.QueueInUse", EBUSY, nic, "lease queue",
					     "%s (%s)", x->msg, busy->msg);
			return lfail(out, "io.zcrx.Manager.PoolExhausted", ENOSPC, nic, "lease queue",
				     "%s", x->msg);
		}
		if (!strcmp(x->code, ATTACH_R_KERNEL))
			return lfail(out, "io.zcrx.Manager.KernelError", x->err ? x->err : EIO, nic,
				     x->op, "%s", x->msg);
		return lfail(out, "io.zcrx.Manager.NicUnsupported", x->err ? x->err : EOPNOTSUPP, nic,
			     x->code, "%s", x->msg);
	}
	if (r->n_queues < a->id.queues || !r->steering[0] || r->state == ATTACH_STATE_FAILED)
		return lfail(out, "io.zcrx.Manager.PoolExhausted", ENOSPC, nic, "lease queue",
			     "the lease got %zu of %u queues%s", r->n_queues, a->id.queues,
			     r->steering[0] ? "" : " and no steering");
	return 0;
}

/* --- Lease ---------------------------------------------------------------------- */

static int lease_check(struct reconcile *rc, const struct reconcile_lease_req *req,
		       struct reconcile_outcome *out, struct attach **ret_same)
{
	char f1[128], f2[128];
	size_t i;

	*ret_same = NULL;
	if (req->name && *req->name && !reconcile_lease_name_ok(req->name))
		return lfail(out, "org.varlink.service.InvalidParameter", EINVAL, req->nic, "lease",
			     "name");
	if (req->queues < 1 || req->queues > ATTACH_QUEUES_MAX)
		return lfail(out, "org.varlink.service.InvalidParameter", EINVAL, req->nic, "lease",
			     "queues");
	if (flow_validate(&req->flow, req->nic, &out->err) < 0) {
		out->error_name = "io.zcrx.Manager.InvalidFlow";
		return -EINVAL;
	}
	for (i = 0; i < rc->store.n_atts; i++) {
		struct attach *a = &rc->store.atts[i];

		if (!is_lease(a))
			continue;
		if (req->name && *req->name && !strcmp(a->id.domain, req->name)) {
			if (!strcmp(a->id.nic, req->nic) && flow_equal(&a->id.lease.flow, &req->flow) &&
			    a->id.queues == req->queues && a->id.lease.pid == req->pid) {
				*ret_same = a; /* asked again: the same lease */
				continue;
			}
			return lfail(out, "io.zcrx.Manager.LeaseExists", EEXIST, a->id.nic, "lease",
				     "lease '%.63s' exists (%s on %s)", a->id.domain,
				     flow_format(&a->id.lease.flow, f1, sizeof(f1)), a->id.nic);
		}
		if (strcmp(a->id.nic, req->nic) || !flow_overlap(&a->id.lease.flow, &req->flow))
			continue;
		snprintf(out->lease, sizeof(out->lease), "%.*s", ATTACH_LEASE_NAME_MAX - 1,
			 a->id.domain);
		return lfail(out, "io.zcrx.Manager.FlowInUse", EBUSY, req->nic, "lease",
			     "flow %s overlaps lease %u '%.63s' (%s) on %s",
			     flow_format(&req->flow, f1, sizeof(f1)), a->id.lease.id, a->id.domain,
			     flow_format(&a->id.lease.flow, f2, sizeof(f2)), a->id.nic);
	}
	return 0;
}

/* The identity of a new lease (it owns its name); -ENOMEM. */
static int lease_id_of(struct reconcile *rc, const struct reconcile_lease_req *req,
		       struct attach_id *id)
{
	char name[ATTACH_LEASE_NAME_MAX];
	size_t n = 0;

	attach_id_init(id);
	id->kind = ATTACH_KIND_LEASE;
	id->lease.id = next_id(rc);
	attach_lease_key(id->lease.id, id->mac);
	id->lease.flow = req->flow;
	id->lease.pid = req->pid;
	id->lease.pid_start = req->pid_start;
	id->queues = req->queues;
	snprintf(id->nic, sizeof(id->nic), "%s", req->nic);
	if (req->name && *req->name)
		return attach_id_set_domain(id, req->name);
	/* "lease-ID", made unique against names someone chose */
	do {
		if (n++)
			snprintf(name, sizeof(name), "lease-%u-%zu", id->lease.id, n);
		else
			snprintf(name, sizeof(name), "lease-%u", id->lease.id);
	} while (reconcile_find_lease(rc, name));
	return attach_id_set_domain(id, name);
}

/* reconcile_lease with the new lease's identity. */
static int lease_new(struct reconcile *rc, const struct attach_id *id,
		     struct reconcile_outcome *out, struct attach *ret)
{
	struct reconcile_outcome dry = { 0 }, undo = { 0 };
	struct attach *a, planned;
	int r;

	/* all or nothing: refuse before anything changes when the plan would
	 * leave the lease without a queue, its rules or header split */
	attach_init(&planned);
	r = reconcile_attach(rc, id, true, &dry, &planned);
	if (r < 0) {
		out->err = dry.err;
		out->error_name = dry.error_name;
	} else {
		r = lease_complete(&planned, &dry, out);
	}
	attach_clear(&planned);
	reconcile_outcome_clear(&dry);
	if (r < 0)
		return r;

	r = reconcile_attach(rc, id, false, out, NULL);
	if (r < 0)
		return r;
	id_taken(rc, id->lease.id);
	a = reconcile_find_att(rc, id->nic, id->mac);
	if (!a)
		return lfail(out, NULL, EIO, id->nic, "lease", "the lease vanished");
	r = lease_complete(a, out, out);
	if (r < 0) {
		/* the kernel refused a part (learned): take the rest back */
		log_nic(LOG_WARNING, LOG_SUBSYS_MANAGER, id->nic, "lease %u '%s' refused: %s",
			id->lease.id, id->domain, out->err.msg);
		(void)reconcile_detach(rc, NULL, NULL, id->nic, id->mac, false, &undo);
		reconcile_outcome_clear(&undo);
		return r;
	}
	reconcile_lease_observed(rc, a, false);
	log_nic(LOG_INFO, LOG_SUBSYS_MANAGER, id->nic, "lease %u '%s' made: %zu queue(s)",
		id->lease.id, id->domain, a->res.n_queues);
	reconcile_publish(rc, "lease-created", reconcile_lease_json(a));
	if (ret)
		(void)attach_copy(ret, a);
	return 0;
}

int reconcile_lease(struct reconcile *rc, const struct reconcile_lease_req *req,
		    struct reconcile_outcome *out, struct attach *ret)
{
	struct attach_id id;
	struct attach *a;
	int r;

	if ((r = lease_check(rc, req, out, &a)) < 0)
		return r;
	if (a) {
		if (ret)
			(void)attach_copy(ret, a);
		return 0;
	}
	if (lease_id_of(rc, req, &id) < 0)
		r = lfail(out, NULL, ENOMEM, req->nic, "lease", "out of memory");
	else
		r = lease_new(rc, &id, out, ret);
	attach_id_clear(&id);
	return r;
}

int reconcile_unlease(struct reconcile *rc, const char *lease, const char *why,
		      struct reconcile_outcome *out, struct attach *ret)
{
	struct attach *a = reconcile_find_lease(rc, lease);
	struct attach gone;
	uint8_t key[NIC_MAC_LEN];
	char nic[IF_NAMESIZE];
	int r;

	if (!a) {
		snprintf(out->lease, sizeof(out->lease), "%.*s", ATTACH_LEASE_NAME_MAX - 1,
			 lease ? lease : "");
		return lfail(out, "io.zcrx.Manager.NoSuchLease", ENOENT, NULL, "release lease",
			     "no lease '%.63s'", lease ? lease : "");
	}
	attach_init(&gone);
	(void)attach_copy(&gone, a);
	memcpy(key, a->id.mac, NIC_MAC_LEN);
	snprintf(nic, sizeof(nic), "%s", a->id.nic);
	r = reconcile_detach(rc, NULL, NULL, nic, key, false, out);
	if (r < 0)
		log_nic(LOG_WARNING, LOG_SUBSYS_MANAGER, nic, "lease %u '%s': restoring the NIC failed",
			gone.id.lease.id, gone.id.domain);
	reconcile_lease_released(rc, &gone, why);
	gone.lease_state = ATTACH_LEASE_RELEASED;
	if (ret) {
		attach_clear(ret);
		*ret = gone;
	} else {
		attach_clear(&gone);
	}
	return r < 0 ? r : 0;
}

void reconcile_lease_released(struct reconcile *rc, const struct attach *a, const char *why)
{
	struct attach gone = *a; /* shallow: only read */
	json_object *ev;

	gone.lease_state = ATTACH_LEASE_RELEASED;
	log_nic(LOG_INFO, LOG_SUBSYS_MANAGER, a->id.nic, "lease %u '%s' released (%s)",
		a->id.lease.id, a->id.domain, why);
	ev = reconcile_lease_json(&gone);
	if (ev)
		json_object_object_add(ev, "why", json_object_new_string(why));
	reconcile_publish(rc, "lease-released", ev);
}

/* --- the consumer ----------------------------------------------------------------- */

void reconcile_lease_observed(struct reconcile *rc, struct attach *a, bool announce)
{
	enum attach_lease_state before = a->lease_state, now;
	bool bound = a->res.n_queues > 0;
	char prov[32];
	size_t i;

	for (i = 0; i < a->res.n_queues; i++)
		bound &= (a->res.queues[i].providers &
			  (NIC_PROVIDER_IO_URING | NIC_PROVIDER_DMABUF)) != 0;
	if (bound) {
		now = ATTACH_LEASE_BOUND;
		a->lease_was_bound = true;
	} else {
		now = a->lease_was_bound ? ATTACH_LEASE_UNBOUND : ATTACH_LEASE_WAITING;
	}
	a->lease_state = now;
	if (!announce || now == before)
		return;
	log_nic(LOG_INFO, LOG_SUBSYS_MANAGER, a->id.nic, "lease %u '%s': %s -> %s%s%s",
		a->id.lease.id, a->id.domain, attach_lease_state_name(before),
		attach_lease_state_name(now), bound ? " " : "",
		bound ? attach_lease_providers(&a->res, prov, sizeof(prov)) : "");
	reconcile_publish(rc, "lease-changed", reconcile_lease_json(a));
}

json_object *reconcile_lease_json(const struct attach *a)
{
	json_object *o = json_object_new_object(), *q, *x;
	const struct attach_result *r = &a->res;
	char prov[32];
	size_t i;

	if (!o)
		return NULL;
	json_object_object_add(o, "id", json_object_new_int64(a->id.lease.id));
	json_object_object_add(o, "name", json_object_new_string(a->id.domain));
	json_object_object_add(o, "nic", json_object_new_string(a->id.nic));
	json_object_object_add(o, "ifindex", json_object_new_int(a->id.nic_ifindex));
	json_object_object_add(o, "flow", flow_to_json(&a->id.lease.flow));
	json_object_object_add(o, "queues_requested", json_object_new_int64(a->id.queues));
	json_object_object_add(o, "owner",
			       json_object_new_string(a->id.lease.pid ? "process" : "name"));
	json_object_object_add(o, "pid",
			       a->id.lease.pid ? json_object_new_int(a->id.lease.pid) : NULL);
	json_object_object_add(o, "state",
			       json_object_new_string(attach_lease_state_name(a->lease_state)));
	json_object_object_add(o, "providers",
			       json_object_new_string(attach_lease_providers(r, prov, sizeof(prov))));
	json_object_object_add(o, "attachment_state",
			       json_object_new_string(attach_state_name(r->state)));
	q = json_object_new_array();
	for (i = 0; i < r->n_queues; i++)
		json_object_array_add(q, json_object_new_int64(r->queues[i].queue));
	json_object_object_add(o, "queues", q);
	q = json_object_new_array();
	for (i = 0; i < r->n_queues; i++) {
		unsigned p = r->queues[i].providers;

		x = json_object_new_object();
		json_object_object_add(x, "queue", json_object_new_int64(r->queues[i].queue));
		json_object_object_add(x, "io_uring", json_object_new_boolean(p & NIC_PROVIDER_IO_URING));
		json_object_object_add(x, "dmabuf", json_object_new_boolean(p & NIC_PROVIDER_DMABUF));
		json_object_object_add(x, "xsk", json_object_new_boolean(p & NIC_PROVIDER_XSK));
		json_object_array_add(q, x);
	}
	json_object_object_add(o, "queue_providers", q);
	q = json_object_new_array();
	for (i = 0; i < r->n_rules; i++)
		json_object_array_add(q, json_object_new_int64(r->rule_locs[i]));
	json_object_object_add(o, "rules", q);
	json_object_object_add(o, "rss_context",
			       r->has_context ? json_object_new_int64(r->rss_context) : NULL);
	q = json_object_new_array();
	for (i = 0; i < r->n_reasons; i++)
		json_object_array_add(q, attach_reason_to_json(&r->reasons[i]));
	json_object_object_add(o, "reasons", q);
	return o;
}

json_object *reconcile_leases_json(struct reconcile *rc, const char *nic)
{
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < rc->store.n_atts; i++) {
		const struct attach *a = &rc->store.atts[i];

		if (is_lease(a) && (!nic || !strcmp(a->id.nic, nic)))
			json_object_array_add(arr, reconcile_lease_json(a));
	}
	return arr;
}

size_t reconcile_lease_owners(struct reconcile *rc, struct reconcile_lease_owner *v, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < rc->store.n_atts; i++) {
		const struct attach *a = &rc->store.atts[i];

		if (!is_lease(a) || !a->id.lease.pid)
			continue;
		if (n < max) {
			v[n].id = a->id.lease.id;
			v[n].pid = a->id.lease.pid;
			v[n].pid_start = a->id.lease.pid_start;
		}
		n++;
	}
	return n;
}
