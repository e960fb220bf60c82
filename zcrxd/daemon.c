// SPDX-License-Identifier: MIT
/*
 * daemon — the options and signals zcrxd and the test daemon share
 * (daemon.h).  Must not: print or exit.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "log.h"

int daemon_option(int c, const char *arg, struct manager_options *mo, const char **ret_bad)
{
	switch (c) {
	case 'c':
		mo->config_path = arg;
		mo->config_allow_missing = false;
		return 1;
	case 'R':
		mo->runtime_dir = arg;
		return 1;
	case 'S':
		mo->state_dir = arg;
		return 1;
	case 'L':
		mo->libvirt_uri = arg;
		return 1;
	case 'd':
		return log_set_debug(arg, ret_bad) < 0 ? -EINVAL : 1;
	default:
		return 0;
	}
}

void daemon_tune_malloc(void)
{
	(void)mallopt(M_ARENA_MAX, 1);
	/* fixed: glibc would raise the threshold to the size of every mapped
	 * block freed, and the next listing would stay in the heap */
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	/* One run's plan on a NIC with hundreds of vNICs allocates and frees
	 * a few hundred KiB: at glibc's 128 KiB every run gave it back to the
	 * kernel (brk, a TLB flush on every CPU a thread ran on) and faulted
	 * it in again on the next one.  Kept up to this much instead; the
	 * bigger blocks (listings) are mapped and returned either way. */
	(void)mallopt(M_TRIM_THRESHOLD, 512 * 1024);
}

void daemon_block_signals(int extra)
{
	sigset_t ss;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	if (extra)
		sigaddset(&ss, extra);
	sigprocmask(SIG_BLOCK, &ss, NULL);
}

static int on_term(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	log_info(LOG_SUBSYS_MAIN, "received %s, shutting down", strsignal((int)si->ssi_signo));
	(void)sd_notify(0, "STOPPING=1\nSTATUS=Shutting down");
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_hup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	(void)manager_reload(userdata);
	return 0;
}

int daemon_watch_signals(sd_event *ev, struct manager *m)
{
	int r;

	r = sd_event_add_signal(ev, NULL, SIGTERM, on_term, NULL);
	if (r >= 0)
		r = sd_event_add_signal(ev, NULL, SIGINT, on_term, NULL);
	if (r >= 0)
		r = sd_event_add_signal(ev, NULL, SIGHUP, on_hup, m);
	return r < 0 ? r : 0;
}
