// SPDX-License-Identifier: MIT
/*
 * zcrxd-masked — TEST-ONLY: zcrxd (the same manager and the same kernel
 * backend as build/zcrxd) acting as if the kernel lacked parts of its
 * ethtool netlink RSS interface, so the paths older kernels take run on a
 * newer one (nic_kernel_hide()).  Never installed.
 *
 *   zcrxd-masked --hide WHAT[,WHAT...] [zcrxd options: --config --runtime-dir
 *                --state-dir --libvirt-uri --debug]
 *
 * WHAT:
 *   rss-dump   no RSS_GET dump: contexts cannot be listed (Linux < 6.12), so
 *              zcrxd reads the ones it owns by id (ETHTOOL_GRSSH)
 *   rss-write  no RSS_SET / RSS_CREATE_ACT / RSS_DELETE_ACT (< 6.17): RSS
 *              writes go through the ioctl (ETHTOOL_SRSSH)
 *   rss-get    no RSS_GET at all (< 6.2): reads go through the ioctl too
 *
 * The netdevsim guest tier runs it with the RSS dump hidden, on a kernel
 * that has it, to check issue 9's context handling on a real kernel.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "daemon.h"
#include "log.h"
#include "manager.h"
#include "nic-kernel.h"

static int parse_hide(const char *arg, unsigned *ret)
{
	char buf[128], *save = NULL, *w;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "rss-dump"))
			*ret |= NIC_KERNEL_HIDE_RSS_DUMP;
		else if (!strcmp(w, "rss-write"))
			*ret |= NIC_KERNEL_HIDE_RSS_WRITE;
		else if (!strcmp(w, "rss-get"))
			*ret |= NIC_KERNEL_HIDE_RSS_GET | NIC_KERNEL_HIDE_RSS_DUMP;
		else
			return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		DAEMON_OPTIONS,
		{ "hide", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct manager_options mo = {
		.config_path = "/etc/zcrx/zcrxd.conf",
		.runtime_dir = "/run/zcrx",
		.state_dir = "/var/lib/zcrx",
		.config_allow_missing = true,
	};
	struct nic_kernel *k = NULL;
	struct manager *m = NULL;
	struct kerror ke = { 0 };
	unsigned hide = 0;
	sd_event *ev = NULL;
	char buf[512];
	int c, r;

	log_open();
	while ((c = getopt_long(argc, argv, DAEMON_SHORT_OPTIONS, opts, NULL)) != -1) {
		const char *bad = NULL;

		r = daemon_option(c, optarg, &mo, &bad);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		if (c != 'H' || parse_hide(optarg, &hide) < 0) {
			fprintf(stderr, "zcrxd-masked: --hide rss-dump|rss-write|rss-get[,...]\n");
			return 2;
		}
	}
	if (!hide) {
		fprintf(stderr, "zcrxd-masked: nothing to hide (--hide is required)\n");
		return 2;
	}
	if (nic_kernel_new(&k, &ke) < 0) {
		fprintf(stderr, "zcrxd-masked: %s\n", kerror_format(&ke, buf, sizeof(buf)));
		return 1;
	}
	nic_kernel_hide(k, hide);
	mo.nic_backend = nic_kernel_backend(k);

	daemon_block_signals(0);
	if (sd_event_default(&ev) < 0) {
		nic_kernel_free(k);
		return 1;
	}
	r = manager_new(ev, &mo, &m);
	if (r < 0) {
		fprintf(stderr, "zcrxd-masked: configuration %s is invalid\n", mo.config_path);
		sd_event_unref(ev);
		nic_kernel_free(k);
		return 1;
	}
	(void)daemon_watch_signals(ev, m);
	r = manager_start(m);
	if (r >= 0) {
		(void)sd_notify(0, "READY=1");
		log_notice(LOG_SUBSYS_MAIN, "zcrxd-masked (TEST ONLY, kernel interface hidden: 0x%x) "
					    "started",
			   hide);
		r = sd_event_loop(ev);
	}
	m = manager_free(m);
	sd_event_unref(ev);
	nic_kernel_free(k);
	return r < 0 ? 1 : 0;
}
