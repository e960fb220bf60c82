/* SPDX-License-Identifier: MIT */
/*
 * plan-check — TEST-ONLY helpers the planner's unit tests share
 * (tests/unit/test-plan-*.c): a harness over one fake NIC, finding ops,
 * notes and reasons, comparing the fake NIC's dump.  Include after
 * <cmocka.h>.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan-harness.h"

static inline struct harness *new_h(const struct fake_nic_cfg *cfg)
{
	struct harness *h = malloc(sizeof(*h));

	assert_non_null(h);
	harness_init(h, cfg);
	return h;
}

static inline struct harness *capable(void)
{
	struct fake_nic_cfg cfg;

	fake_nic_cfg_capable(&cfg, "eth0");
	return new_h(&cfg);
}

static inline void del_h(struct harness *h)
{
	harness_free(h);
	free(h);
}

static inline const struct plan_op *find_op(const struct plan *p, enum plan_op_kind k, size_t *ret_i)
{
	size_t i;

	for (i = 0; i < p->n_ops; i++)
		if (p->ops[i].kind == k) {
			if (ret_i)
				*ret_i = i;
			return &p->ops[i];
		}
	return NULL;
}

static inline ssize_t op_index(const struct plan *p, enum plan_op_kind k)
{
	size_t i;

	return find_op(p, k, &i) ? (ssize_t)i : -1;
}

static inline void ethtool_is(const struct plan_op *op, const char *want)
{
	char buf[1200];

	assert_non_null(op);
	plan_op_ethtool(op, buf, sizeof(buf));
	if (strcmp(buf, want))
		fprintf(stderr, "ethtool: got '%s' want '%s'\n", buf, want);
	assert_string_equal(buf, want);
}

static inline bool has_note(const struct plan *p, const char *code, const char *needle)
{
	size_t i;

	for (i = 0; i < p->n_notes; i++)
		if (!strcmp(p->notes[i].code, code) && strstr(p->notes[i].msg, needle))
			return true;
	return false;
}

static inline const struct attach_reason *reason_of(const struct attach *a, const char *code)
{
	size_t i;

	for (i = 0; i < a->res.n_reasons; i++)
		if (!strcmp(a->res.reasons[i].code, code))
			return &a->res.reasons[i];
	return NULL;
}

static inline const char *reason_msg(const struct attach *a, const char *code)
{
	const struct attach_reason *r = reason_of(a, code);

	return r ? r->msg : "(no such reason)";
}

static inline char *dump(struct harness *h)
{
	char *s = fake_net_dump(h->net, h->ifindex);

	assert_non_null(s);
	return s;
}

/* The fake NIC dumps as expect (a dump() from before). */
static inline void assert_dump(struct harness *h, const char *expect)
{
	char *s = dump(h);

	assert_string_equal(s, expect);
	free(s);
}

static inline void assert_dump_differs(struct harness *h, const char *before)
{
	char *s = dump(h);

	assert_string_not_equal(s, before);
	free(s);
}
