// SPDX-License-Identifier: MIT
/*
 * Unit tests for the worker -> loop message queue of virt (virt-queue.c):
 * the loop takes at most VIRT_MSGS_PER_TURN messages per turn, oldest
 * first, and is woken again while more wait, so that a storm of libvirt
 * events is handled in batches with the control socket answered between
 * them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "virt-int.h"

static bool woken(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v) && v > 0;
}

static size_t take_all(struct virt_shared *sh, unsigned *next)
{
	struct vmsg *list = virt_take_msgs(sh, VIRT_MSGS_PER_TURN), *m;
	size_t n = 0;

	while ((m = list)) {
		list = m->next;
		assert_int_equal(m->gen, (*next)++); /* in order */
		virt_msg_free(m);
		n++;
	}
	return n;
}

static void test_storm_taken_in_turns(void **state)
{
	struct virt_shared *sh = calloc(1, sizeof(*sh));
	unsigned k, next = 0;

	(void)state;
	assert_non_null(sh);
	atomic_init(&sh->refs, 1);
	pthread_mutex_init(&sh->lock, NULL);
	pthread_cond_init(&sh->cond, NULL);
	sh->jobs_tail = &sh->jobs;
	sh->msgs_tail = &sh->msgs;
	sh->msgfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(sh->msgfd >= 0);

	for (k = 0; k < 150; k++) {
		struct vmsg *m = calloc(1, sizeof(*m));

		assert_non_null(m);
		m->type = VMSG_CONN;
		m->gen = k;
		virt_post(sh, m);
	}
	assert_true(woken(sh->msgfd));
	assert_int_equal(take_all(sh, &next), VIRT_MSGS_PER_TURN);
	assert_true(woken(sh->msgfd)); /* more wait: the loop comes back */
	assert_int_equal(take_all(sh, &next), VIRT_MSGS_PER_TURN);
	assert_true(woken(sh->msgfd));
	assert_int_equal(take_all(sh, &next), 150 - 2 * VIRT_MSGS_PER_TURN);
	assert_false(woken(sh->msgfd)); /* all taken: no wake-up for nothing */
	assert_int_equal(take_all(sh, &next), 0);

	/* the queue still works after it was emptied */
	{
		struct vmsg *m = calloc(1, sizeof(*m));

		assert_non_null(m);
		m->gen = next;
		virt_post(sh, m);
		assert_true(woken(sh->msgfd));
		assert_int_equal(take_all(sh, &next), 1);
	}
	virt_shared_unref(sh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storm_taken_in_turns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
