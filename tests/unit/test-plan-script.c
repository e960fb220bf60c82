// SPDX-License-Identifier: MIT
/* Unit tests of the planner: the printed ethtool lines are a promise
 * (issue 9, bug 5).  For pool shapes of all kinds, the table each
 * `ethtool -X` line would write (ethtool's own rules for equal, start and
 * weight, modelled here from ethtool's source, independently of zcrxd's
 * code) must be the table zcrxd writes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plan-check.h"

/* The table `ethtool -X DEV ARGS` writes on a device whose table has size
 * buckets, ARGS being "equal N", "start S equal N", "[start S] weight W0
 * W1 ..." or "default" (ethtool.c: do_srxfh / fill_indir_table).  equal:
 * bucket i gets S + i % N.  weight: the weights must not add up to more
 * than size; with sum their total, queue S + j gets bucket i while
 * i < size * (W0 + ... + Wj) / sum, going on to the next j (zero weights
 * included) until that holds.  Returns 0, 1 for "default" (the driver's),
 * or -1 when ethtool would refuse the arguments. */
static int ethtool_table(const char *args, uint32_t size, uint32_t *out)
{
	char buf[2048], *w, *save = NULL;
	uint32_t start = 0, equal = 0, weights[1024], n_w = 0, sum = 0, partial = 0, i;
	int64_t j;
	bool weight = false;

	snprintf(buf, sizeof(buf), "%s", args);
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (!strcmp(w, "#"))
			break; /* a shell comment ends the command */
		if (!strcmp(w, "default"))
			return 1;
		if (!strcmp(w, "start")) {
			start = (uint32_t)strtoul(strtok_r(NULL, " ", &save), NULL, 10);
		} else if (!strcmp(w, "equal")) {
			equal = (uint32_t)strtoul(strtok_r(NULL, " ", &save), NULL, 10);
		} else if (!strcmp(w, "weight")) {
			weight = true;
		} else if (weight && w[0] >= '0' && w[0] <= '9' && n_w < 1024) {
			weights[n_w] = (uint32_t)strtoul(w, NULL, 10);
			sum += weights[n_w++];
		} else {
			return -1;
		}
	}
	if (equal) {
		for (i = 0; i < size; i++)
			out[i] = start + i % equal;
		return 0;
	}
	if (!weight || !sum || sum > size)
		return -1;
	for (i = 0, j = -1; i < size; i++) {
		while (i >= (uint64_t)size * partial / sum)
			partial += weights[++j];
		out[i] = start + (uint32_t)j;
	}
	return 0;
}

/* The `ethtool -X eth0 ...` part of op's line ("" when not a table). */
static const char *x_args(const struct plan_op *op, char *buf, size_t size)
{
	const char *s;

	plan_op_ethtool(op, buf, size);
	if ((s = strstr(buf, " context new "))) {
		char *pipe = strstr(buf, " | "); /* CTXn=$(ethtool ... | sed ...) */

		if (pipe)
			*pipe = '\0';
		return s + strlen(" context new ");
	}
	if ((s = strstr(buf, "ethtool -X eth0 ")) && !strstr(buf, " context "))
		return s + strlen("ethtool -X eth0 ");
	return "";
}

/* Every table the plan writes is what its ethtool line writes; returns
 * how many tables were checked. */
static unsigned check_tables(const struct plan *p, uint32_t size)
{
	uint32_t *t = calloc(size, sizeof(*t));
	unsigned n = 0;
	char buf[2048];
	size_t i;

	assert_non_null(t);
	for (i = 0; i < p->n_ops; i++) {
		const struct plan_op *op = &p->ops[i];
		const char *args;
		int r;

		if (op->kind != PLAN_OP_RSS_SET && op->kind != PLAN_OP_RSS_CREATE)
			continue;
		args = x_args(op, buf, sizeof(buf));
		assert_true(args[0]);
		r = ethtool_table(args, size, t);
		if (r < 0)
			fail_msg("ethtool would refuse '%s'", buf);
		if (r == 1) { /* "default": the driver's table, nothing written */
			assert_int_equal(op->n_indir, 0);
		} else {
			assert_int_equal(op->n_indir, size);
			if (memcmp(t, op->indir, size * sizeof(uint32_t)))
				fail_msg("'%s' writes another table than zcrxd's", buf);
			assert_null(strstr(buf, "not exact"));
		}
		n++;
	}
	free(t);
	return n;
}

struct shape {
	const char *what;
	uint32_t combined, indir_size, channels;
	uint32_t reserve_count;
	uint32_t list[8], n_list;
	uint32_t vnic_queues; /* a vNIC with this many queues (0: none) */
};

static const struct shape shapes[] = {
	{ "top 2 of 8", 8, 128, 0, 2, { 0 }, 0, 2 },
	{ "list 2,5 of 8", 8, 128, 0, 0, { 2, 5 }, 2, 2 },
	{ "list 1,3,6 of 8", 8, 128, 0, 0, { 1, 3, 6 }, 3, 3 },
	{ "list 0,7 of 8", 8, 128, 0, 0, { 0, 7 }, 2, 2 },
	{ "list 2,5 of 8, table 64", 8, 64, 0, 0, { 2, 5 }, 2, 2 },
	{ "list 3,4,9 of 12, table 512", 12, 512, 0, 0, { 3, 4, 9 }, 3, 3 },
	{ "list 1,2 of 8 (consecutive)", 8, 128, 0, 0, { 1, 2 }, 2, 2 },
	{ "list 1,5 of 8, table 52 (not a multiple)", 8, 52, 0, 0, { 1, 5 }, 2, 2 },
	{ "top 4 of 8, channels 12", 8, 128, 12, 4, { 0 }, 0, 3 },
	{ "list 2,5,6 of 16 channels from 8", 8, 128, 16, 0, { 2, 5, 6 }, 3, 3 },
};

static void test_printed_tables_are_exact(void **state)
{
	size_t s;

	for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		const struct shape *sh = &shapes[s];
		struct fake_nic_cfg cfg;
		struct harness *h;
		struct plan p;
		unsigned n;

		fake_nic_cfg_capable(&cfg, "eth0");
		cfg.combined = sh->combined;
		cfg.indir_size = sh->indir_size;
		h = new_h(&cfg);
		harness_policy(h, sh->reserve_count, sh->channels);
		if (sh->n_list) {
			memcpy(h->reserve_list, sh->list, sh->n_list * sizeof(uint32_t));
			h->pol.reserve_list = h->reserve_list;
			h->pol.n_reserve_list = sh->n_list;
			h->pol.reserve_count = 0;
		}
		if (sh->vnic_queues)
			harness_attach(h, "vm0", 1, sh->vnic_queues);
		harness_observe(h);
		harness_plan(h, PLAN_MODE_NORMAL, &p);
		n = check_tables(&p, sh->indir_size);
		if (n < 1 + (sh->vnic_queues > 1))
			fail_msg("%s: %u tables written, expected the default table%s", sh->what,
				 n, sh->vnic_queues > 1 ? " and a context" : "");
		plan_clear(&p);

		/* applied, then released: the restore lines are exact too */
		assert_int_equal(harness_apply(h, PLAN_MODE_NORMAL, 3), 0);
		harness_observe(h);
		harness_plan(h, PLAN_MODE_RELEASE, &p);
		(void)check_tables(&p, sh->indir_size);
		plan_clear(&p);
		del_h(h);
	}
}

/* A table recorded before zcrxd that ethtool cannot write (not blocks in
 * queue order, not a round robin): its restore line says so. */
static void test_inexact_table_is_marked(void **state)
{
	struct plan_op op;
	uint32_t t[8] = { 1, 0, 1, 0, 2, 2, 0, 1 };
	char buf[256];

	memset(&op, 0, sizeof(op));
	op.kind = PLAN_OP_RSS_SET;
	snprintf(op.nic, sizeof(op.nic), "eth0");
	op.indir = t;
	op.n_indir = 8;
	plan_op_ethtool(&op, buf, sizeof(buf));
	assert_string_equal(buf, "ethtool -X eth0 weight 3 3 2  # not exact: ethtool -X cannot "
				 "write this table, only its weights");
	op.indir = NULL;
	op.n_indir = 0;
	plan_op_ethtool(&op, buf, sizeof(buf));
	assert_string_equal(buf, "ethtool -X eth0 default");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printed_tables_are_exact),
		cmocka_unit_test(test_inexact_table_is_marked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
