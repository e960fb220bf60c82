/* SPDX-License-Identifier: MIT */
/*
 * plan-harness — TEST-ONLY glue for planner/executor tests: one fake NIC,
 * its policy, journal, desired attachments and a stub binder; observe ->
 * plan -> exec loops the way the daemon runs them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "attach.h"
#include "binder.h"
#include "config.h"
#include "exec.h"
#include "fake-nic.h"
#include "journal.h"
#include "nic.h"
#include "plan.h"

/* A stub vhost_zcrx: bindings in a table, can fail the k-th call. */
struct stub_binder {
	bool available;
	uint64_t features;
	uint32_t next_id;
	size_t n;
	struct binder_binding v[256];
	unsigned calls, fail_at;
	bool frozen; /* crash tests: succeed without doing anything */
	int refuse_tap_mod; /* refuse (EBUSY) binds to taps whose ifindex it divides; 0 = none */
};

#define HARNESS_ATTS_MAX 512 /* harness_attach aborts past it */

struct harness {
	struct fake_net *net;
	int ifindex;
	char name[IF_NAMESIZE];
	struct config_nic pol;
	uint32_t reserve_list[64];
	struct journal_nic j;
	struct nic nic;
	struct nic_caps learned; /* refusals learned from failed ops */
	size_t n_atts;
	struct attach atts[HARNESS_ATTS_MAX];
	bool use_binder;
	struct stub_binder sb;
	struct binder_backend binder;
	struct plan_binder pb;
	unsigned learned_count;
	unsigned held_count;
	/* as the reconciler does: exec leaves refused binds out, the harness
	 * remembers them for the planner (harness_take_refusals) */
	bool take_refusals;
	size_t n_refused;
	struct plan_bind_refusal refused[64];
	unsigned refused_count;
};

void harness_init(struct harness *h, const struct fake_nic_cfg *cfg);
void harness_free(struct harness *h);
/* The same for a harness of its own on the heap (it is large); freed by
 * harness_destroy(). */
struct harness *harness_new(const struct fake_nic_cfg *cfg);
void harness_destroy(struct harness *h);
/* bench-libvirt.py's NIC: a veth of 8 queues, ReserveQueues=4 (the
 * default policy otherwise), on the heap (harness_destroy). */
struct harness *harness_new_veth8(const char *name);
/* What the executor runs on: the harness's fake NIC and its stub binder;
 * the optional hooks unset. */
struct exec_env harness_exec_env(struct harness *h);
/* Default policy: ReserveQueues=count, Steering=mac,ip, degrade, copy. */
void harness_policy(struct harness *h, uint32_t reserve_count, uint32_t channels);
void harness_enable_binder(struct harness *h, uint64_t features);
/* Refused binds are left out by exec and remembered, as zcrxd does. */
void harness_take_refusals(struct harness *h);

/* Desired attachments. */
struct attach *harness_attach(struct harness *h, const char *domain, unsigned mac_last,
			      uint32_t queues);
bool harness_detach(struct harness *h, unsigned mac_last);

void harness_observe(struct harness *h);
/* Plan with the current observation (call harness_observe first); the
 * results into the attachments.  In PLAN_MODE_NORMAL it plans the
 * attachments in the reverse order too and aborts when that plan differs
 * (harness_order_differs). */
void harness_plan(struct harness *h, enum plan_mode mode, struct plan *p);
/* The same without that second plan: for timing the planner alone. */
void harness_plan_unchecked(struct harness *h, enum plan_mode mode, struct plan *p);
/* observe -> plan -> exec, learning from refusals, until a plan applies (at
 * most `rounds` times).  Returns the last exec's return value; *ret_plan
 * (optional) gets the plan that was applied last. */
int harness_apply(struct harness *h, enum plan_mode mode, int rounds);
/* observe + plan: number of ops (0 = converged). */
size_t harness_pending_ops(struct harness *h, enum plan_mode mode);

/* NULL when again (planned after applying `applied` in full) shows what
 * zcrxd keeps of a plan the same as applied did: no ops, the same results
 * (attach_result_same), notes and pool summary; else what differs. */
const char *harness_settled_differs(const struct plan *applied, const struct plan *again);
/* rev planned from p's attachments in the reverse order: NULL when it is
 * the same plan (its results reversed), else what differs.  harness_plan
 * checks it on every plan in PLAN_MODE_NORMAL. */
const char *harness_order_differs(const struct plan *p, const struct plan *rev);

void harness_print_plan(const struct plan *p);
