// SPDX-License-Identifier: MIT
/*
 * Unit tests for log's stderr target (zcrxd/log.c): each line is
 * "<level> subsys: [ifname: ][domain 'name': ]message" as the fprintf it
 * replaced wrote it, byte for byte, with and without interface and
 * domain, for every level, a message cut at 2,047 bytes, and a domain too
 * long for the line's buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static char *got;
static size_t n_got;

/* stderr into a file for the calls in between */
static int saved = -1;
static FILE *into;

static void capture_begin(void)
{
	fflush(stderr);
	into = tmpfile();
	assert_non_null(into);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(into), 2) == 2);
}

static void capture_end(void)
{
	long len;

	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
	len = (long)lseek(fileno(into), 0, SEEK_END);
	assert_true(len >= 0);
	free(got);
	got = malloc((size_t)len + 1);
	assert_non_null(got);
	assert_int_equal(pread(fileno(into), got, (size_t)len, 0), len);
	got[len] = '\0';
	n_got = (size_t)len;
	fclose(into);
}

/* What the fprintf this replaced wrote. */
static void old_line(char *w, size_t size, const char *level, const char *sub, const char *ifname,
		     const char *domain, const char *msg)
{
	size_t n = strlen(w);

	snprintf(w + n, size - n, "<%s> %s: %s%s%s%s%s%s\n", level, sub, ifname ? ifname : "",
		 ifname ? ": " : "", domain ? "domain '" : "", domain ? domain : "",
		 domain ? "': " : "", msg);
}

static void test_stderr_lines(void **state)
{
	static char want[64 << 10], big[3000], longdom[3000], cut[2048];
	static const struct {
		int prio;
		const char *name;
	} lv[] = { { LOG_CRIT, "crit" },     { LOG_ERR, "error" }, { LOG_WARNING, "warning" },
		   { LOG_NOTICE, "notice" }, { LOG_INFO, "info" }, { LOG_DEBUG, "debug" } };

	(void)state;
	log_set_target_stderr();
	log_set_max_level(LOG_DEBUG);
	memset(big, 'm', sizeof(big) - 1);
	memset(longdom, 'd', sizeof(longdom) - 1);
	memcpy(cut, big, sizeof(cut) - 1); /* vsnprintf's cut */
	want[0] = '\0';
	capture_begin();
	for (size_t i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
		log_emit(lv[i].prio, LOG_SUBSYS_VIRT, NULL, NULL, "plain %d", (int)i);
		log_emit(lv[i].prio, LOG_SUBSYS_STORE, "eth0", NULL, "with %s", "nic");
		log_emit(lv[i].prio, LOG_SUBSYS_PLAN, NULL, "vm-1", "with a domain");
		log_emit(lv[i].prio, LOG_SUBSYS_EXEC, "enp3s0f1", "v'm 2", "both: %u%%", 50u);
	}
	log_emit(LOG_INFO, LOG_SUBSYS_MAIN, "eth1", "vm-3", "%s", big);
	log_emit(LOG_INFO, LOG_SUBSYS_MAIN, "eth1", longdom, "long domain");
	log_emit(LOG_INFO, LOG_SUBSYS_MAIN, NULL, NULL, "%s", "");
	capture_end();
	for (size_t i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
		char m[32];

		snprintf(m, sizeof(m), "plain %d", (int)i);
		old_line(want, sizeof(want), lv[i].name, "virt", NULL, NULL, m);
		old_line(want, sizeof(want), lv[i].name, "store", "eth0", NULL, "with nic");
		old_line(want, sizeof(want), lv[i].name, "plan", NULL, "vm-1", "with a domain");
		old_line(want, sizeof(want), lv[i].name, "exec", "enp3s0f1", "v'm 2", "both: 50%");
	}
	old_line(want, sizeof(want), "info", "main", "eth1", "vm-3", cut);
	old_line(want, sizeof(want), "info", "main", "eth1", longdom, "long domain");
	old_line(want, sizeof(want), "info", "main", NULL, NULL, "");
	assert_int_equal(n_got, strlen(want));
	assert_string_equal(got, want);
	free(got);
	got = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stderr_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
