/* SPDX-License-Identifier: MIT */
/*
 * log — the daemon's only way to say something.  To the journal with
 * structured fields when stderr is connected to it (JOURNAL_STREAM), else to
 * stderr with a "<level> subsys: " prefix.  Debug output is enabled per
 * subsystem (--debug=nic,plan) or for all (--debug).
 *
 * Library-like modules (lib/, plan.c, backends) log at debug level at most.
 */
#pragma once

#include <stdarg.h>
#include <syslog.h>

enum log_subsys {
	LOG_SUBSYS_MAIN,
	LOG_SUBSYS_CONFIG,
	LOG_SUBSYS_IPC,
	LOG_SUBSYS_NIC,
	LOG_SUBSYS_PLAN,
	LOG_SUBSYS_EXEC,
	LOG_SUBSYS_STORE,
	LOG_SUBSYS_VIRT,
	LOG_SUBSYS_BINDER,
	LOG_SUBSYS_MANAGER,
	LOG_SUBSYS_MAX,
};

/* Parse "--debug" argument: NULL or "" or "all" enables every subsystem;
 * otherwise a comma-separated list of names.  Returns -EINVAL and names the
 * first unknown token in *ret_bad (static storage). */
int log_set_debug(const char *spec, const char **ret_bad);
void log_set_max_level(int prio);
/* Decide journal vs stderr (reads JOURNAL_STREAM).  Tests may force stderr. */
void log_open(void);
void log_set_target_stderr(void);
const char *log_subsys_name(enum log_subsys s);
int log_debug_enabled(enum log_subsys s);

/* Structured context: any of ifname/domain may be NULL. */
void log_emit(int prio, enum log_subsys s, const char *ifname, const char *domain,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void log_emitv(int prio, enum log_subsys s, const char *ifname, const char *domain,
	       const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

#define log_error(s, ...)   log_emit(LOG_ERR, s, NULL, NULL, __VA_ARGS__)
#define log_warning(s, ...) log_emit(LOG_WARNING, s, NULL, NULL, __VA_ARGS__)
#define log_notice(s, ...)  log_emit(LOG_NOTICE, s, NULL, NULL, __VA_ARGS__)
#define log_info(s, ...)    log_emit(LOG_INFO, s, NULL, NULL, __VA_ARGS__)
#define log_debug(s, ...)                                                                          \
	do {                                                                                       \
		if (log_debug_enabled(s))                                                          \
			log_emit(LOG_DEBUG, s, NULL, NULL, __VA_ARGS__);                           \
	} while (0)

/* Per-interface / per-domain variants carry INTERFACE= / ZCRX_DOMAIN= fields. */
#define log_nic(prio, s, ifname, ...)    log_emit(prio, s, ifname, NULL, __VA_ARGS__)
#define log_domain(prio, s, dom, ...)    log_emit(prio, s, NULL, dom, __VA_ARGS__)

/* "log and return the error": returns -|err|. */
int log_errno(int prio, enum log_subsys s, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
