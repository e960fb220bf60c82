/* SPDX-License-Identifier: MIT */
/*
 * daemon — what every program built around the manager shares: zcrxd
 * itself and the test-only daemon tests/tools/zcrxd-fake.  The options both
 * take (--config, --runtime-dir, --state-dir, --libvirt-uri, --debug) and
 * the loop's signals: SIGTERM and SIGINT stop it, SIGHUP reloads.
 *
 * Owns: turning those options into struct manager_options, blocking and
 * watching those signals.  Must not: print or exit (the program reports a
 * bad option its own way), know about any test double.
 */
#pragma once

#include <getopt.h>
#include <systemd/sd-event.h>

#include "manager.h"

/* The shared entries of a program's getopt_long table and their letters. */
#define DAEMON_OPTIONS                                                                             \
	{ "config", required_argument, NULL, 'c' },                                                \
	{ "runtime-dir", required_argument, NULL, 'R' },                                           \
	{ "state-dir", required_argument, NULL, 'S' },                                             \
	{ "libvirt-uri", required_argument, NULL, 'L' },                                           \
	{ "debug", optional_argument, NULL, 'd' }
#define DAEMON_SHORT_OPTIONS "c:d::"

/* Apply option c (as getopt_long returned it, with its argument arg) to mo.
 * Returns 1 when c is one of DAEMON_OPTIONS, 0 when it is not, -EINVAL for
 * an unknown --debug subsystem (named in *ret_bad).  --config also makes a
 * missing file an error (config_allow_missing = false). */
int daemon_option(int c, const char *arg, struct manager_options *mo, const char **ret_bad);

/* Ignore SIGPIPE and block SIGTERM, SIGINT, SIGHUP and extra (0: none) so
 * that sd-event can take them.  Call before any thread starts. */
void daemon_block_signals(int extra);

/* The allocator as a daemon holding thousands of small objects wants it
 * (before any thread starts): one arena for every thread (the libvirt and
 * kernel-call workers allocate little, and a second arena keeps what it
 * touched), and blocks of 128 KiB or more (a listing's reply) mapped and
 * returned when freed instead of left in the heap. */
void daemon_tune_malloc(void);

/* SIGTERM and SIGINT end ev's loop (telling systemd STOPPING=1), SIGHUP
 * reloads m's configuration.  The signals must be blocked already. */
int daemon_watch_signals(sd_event *ev, struct manager *m);
