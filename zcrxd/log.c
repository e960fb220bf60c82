// SPDX-License-Identifier: MIT
/*
 * log — journal or stderr, per-subsystem debug.
 * Owns: the log target and level.  Must not: exit or abort.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "log.h"

static const char *const subsys_names[LOG_SUBSYS_MAX] = {
	[LOG_SUBSYS_MAIN] = "main",     [LOG_SUBSYS_CONFIG] = "config",
	[LOG_SUBSYS_IPC] = "ipc",       [LOG_SUBSYS_NIC] = "nic",
	[LOG_SUBSYS_PLAN] = "plan",     [LOG_SUBSYS_EXEC] = "exec",
	[LOG_SUBSYS_STORE] = "store",   [LOG_SUBSYS_VIRT] = "virt",
	[LOG_SUBSYS_BINDER] = "binder", [LOG_SUBSYS_MANAGER] = "manager",
};

static unsigned debug_mask;
static int max_level = LOG_INFO;
static int use_journal;

const char *log_subsys_name(enum log_subsys s)
{
	return s < LOG_SUBSYS_MAX ? subsys_names[s] : "?";
}

int log_debug_enabled(enum log_subsys s)
{
	return s < LOG_SUBSYS_MAX && (debug_mask & (1u << s));
}

int log_set_debug(const char *spec, const char **ret_bad)
{
	static char bad[64];
	unsigned mask = 0;
	char *copy, *tok, *save = NULL;

	if (!spec || !*spec || !strcmp(spec, "all")) {
		debug_mask = (1u << LOG_SUBSYS_MAX) - 1;
		return 0;
	}
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i, found = 0;

		for (i = 0; i < LOG_SUBSYS_MAX; i++)
			if (!strcmp(tok, subsys_names[i])) {
				mask |= 1u << i;
				found = 1;
			}
		if (!strcmp(tok, "all")) {
			mask = (1u << LOG_SUBSYS_MAX) - 1;
			found = 1;
		}
		if (!found) {
			snprintf(bad, sizeof(bad), "%s", tok);
			if (ret_bad)
				*ret_bad = bad;
			free(copy);
			return -EINVAL;
		}
	}
	free(copy);
	debug_mask = mask;
	return 0;
}

void log_set_max_level(int prio)
{
	max_level = prio;
}

/* JOURNAL_STREAM is "dev:ino" of the stream systemd connected stderr to. */
static int stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_open(void)
{
	use_journal = stderr_is_journal();
}

void log_set_target_stderr(void)
{
	use_journal = 0;
}

static const char *level_name(int prio)
{
	switch (prio) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT: return "crit";
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	case LOG_INFO: return "info";
	default: return "debug";
	}
}

/*
 * The stderr line: "<level> subsys: [ifname: ][domain 'name': ]message",
 * put together by hand and written at once, as fprintf wrote it (its
 * format parsing cost ~2,500 instructions a line, and every attach and
 * detach logs one).  A line too long for the buffer goes through fprintf.
 */
static void put_stderr(int prio, enum log_subsys s, const char *ifname, const char *domain,
		       const char *msg)
{
	const char *part[] = { "<",
			       level_name(prio),
			       "> ",
			       log_subsys_name(s),
			       ": ",
			       ifname ? ifname : "",
			       ifname ? ": " : "",
			       domain ? "domain '" : "",
			       domain ? domain : "",
			       domain ? "': " : "",
			       msg,
			       "\n" };
	char line[2560];
	size_t n = 0, k, i;

	for (i = 0; i < sizeof(part) / sizeof(part[0]); i++) {
		k = strlen(part[i]);
		if (k > sizeof(line) - n) {
			fprintf(stderr, "<%s> %s: %s%s%s%s%s%s\n", part[1], part[3], part[5],
				part[6], part[7], part[8], part[9], msg);
			return;
		}
		memcpy(line + n, part[i], k);
		n += k;
	}
	(void)fwrite(line, 1, n, stderr);
}

__attribute__((format(printf, 5, 0)))
void log_emitv(int prio, enum log_subsys s, const char *ifname, const char *domain,
	       const char *fmt, va_list ap)
{
	char msg[2048];
	int saved = errno;

	if (prio > max_level && !(prio == LOG_DEBUG && log_debug_enabled(s)))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (use_journal) {
		char f_msg[2100], f_prio[16], f_sub[48], f_if[48], f_dom[300];
		struct iovec iov[5];
		int n = 0;

		snprintf(f_msg, sizeof(f_msg), "MESSAGE=%s: %s", log_subsys_name(s), msg);
		snprintf(f_prio, sizeof(f_prio), "PRIORITY=%d", prio);
		snprintf(f_sub, sizeof(f_sub), "ZCRX_SUBSYSTEM=%s", log_subsys_name(s));
		iov[n++] = (struct iovec){ f_msg, strlen(f_msg) };
		iov[n++] = (struct iovec){ f_prio, strlen(f_prio) };
		iov[n++] = (struct iovec){ f_sub, strlen(f_sub) };
		if (ifname) {
			snprintf(f_if, sizeof(f_if), "INTERFACE=%s", ifname);
			iov[n++] = (struct iovec){ f_if, strlen(f_if) };
		}
		if (domain) {
			snprintf(f_dom, sizeof(f_dom), "ZCRX_DOMAIN=%s", domain);
			iov[n++] = (struct iovec){ f_dom, strlen(f_dom) };
		}
		if (sd_journal_sendv(iov, n) >= 0) {
			errno = saved;
			return;
		}
	}
	put_stderr(prio, s, ifname, domain, msg);
	errno = saved;
}

void log_emit(int prio, enum log_subsys s, const char *ifname, const char *domain,
	      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emitv(prio, s, ifname, domain, fmt, ap);
	va_end(ap);
}

int log_errno(int prio, enum log_subsys s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emitv(prio, s, NULL, NULL, fmt, ap);
	va_end(ap);
	return err < 0 ? err : -err;
}
