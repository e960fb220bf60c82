// SPDX-License-Identifier: MIT
/*
 * zcrxd-seams — TEST-ONLY: zcrxd (the same manager over the same kernel NIC
 * backend as build/zcrxd) on a kernel whose ethtool netlink is made to look
 * older than it is, so the paths zcrxd takes on those kernels run against
 * a real kernel core (the sim-nic tier).  Never installed.
 *
 *   zcrxd-seams [--no-rss-netlink] [--no-rss-dump] [zcrxd options]
 *
 * --no-rss-netlink  the ethtool family's RSS_SET, RSS_CREATE_ACT and
 *                   RSS_DELETE_ACT are hidden (kernels before 6.17): RSS
 *                   tables and contexts are written through the ioctl
 * --no-rss-dump     RSS_GET loses its dump (kernels before 6.12): zcrxd can
 *                   read context 0 only and cannot list the contexts
 *
 * How: this program is linked with -Wl,--wrap=genl_resolve (Makefile), so
 * every family zcrxd resolves passes through __wrap_genl_resolve below,
 * which drops those operations from the "ethtool" family's description.
 * The kernel itself is not changed and zcrxd has no switch for it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "daemon.h"
#include "genl.h"
#include "log.h"
#include "manager.h"
#include "nic-uapi.h"

static bool no_rss_netlink, no_rss_dump;

int __real_genl_resolve(struct genl_sock *s, const char *name, struct genl_family *ret,
			struct kerror *err);
int __wrap_genl_resolve(struct genl_sock *s, const char *name, struct genl_family *ret,
			struct kerror *err);

static void drop_op(struct genl_family *f, uint8_t cmd)
{
	f->ops[cmd / 32] &= ~(1u << (cmd % 32));
	f->op_flags[cmd] = 0;
}

int __wrap_genl_resolve(struct genl_sock *s, const char *name, struct genl_family *ret,
			struct kerror *err)
{
	int r = __real_genl_resolve(s, name, ret, err);

	if (r < 0 || strcmp(name, ZX_ETHTOOL_GENL_NAME))
		return r;
	if (no_rss_netlink) {
		drop_op(ret, ZX_ETHTOOL_MSG_RSS_SET);
		drop_op(ret, ZX_ETHTOOL_MSG_RSS_CREATE_ACT);
		drop_op(ret, ZX_ETHTOOL_MSG_RSS_DELETE_ACT);
	}
	if (no_rss_dump)
		ret->op_flags[ZX_ETHTOOL_MSG_RSS_GET] &= (uint8_t)~GENL_CMD_CAP_DUMP;
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		DAEMON_OPTIONS,
		{ "no-rss-netlink", no_argument, NULL, 'N' },
		{ "no-rss-dump", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	struct manager_options mo = {
		.config_path = "/nonexistent/zcrxd.conf",
		.runtime_dir = "/run/zcrx-seams",
		.state_dir = "/var/lib/zcrx-seams",
		.config_allow_missing = true,
	};
	struct manager *m = NULL;
	sd_event *ev = NULL;
	int c, r;

	log_open();
	while ((c = getopt_long(argc, argv, DAEMON_SHORT_OPTIONS, opts, NULL)) != -1) {
		const char *bad = NULL;

		r = daemon_option(c, optarg, &mo, &bad);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		switch (c) {
		case 'N': no_rss_netlink = true; break;
		case 'D': no_rss_dump = true; break;
		default: return 2;
		}
	}
	daemon_block_signals(0);
	if (sd_event_new(&ev) < 0 /* as zcrxd: not the default loop */)
		return 1;
	r = manager_new(ev, &mo, &m);
	if (r < 0) {
		fprintf(stderr, "zcrxd-seams: configuration %s is invalid\n", mo.config_path);
		sd_event_unref(ev);
		return 1;
	}
	(void)daemon_watch_signals(ev, m);
	r = manager_start(m);
	if (r >= 0) {
		(void)sd_notify(0, "READY=1");
		log_notice(LOG_SUBSYS_MAIN, "zcrxd-seams (TEST ONLY)%s%s started",
			   no_rss_netlink ? ", no RSS netlink writes" : "",
			   no_rss_dump ? ", no RSS dump" : "");
		r = sd_event_loop(ev);
	}
	m = manager_free(m);
	sd_event_unref(ev);
	return r < 0 ? 1 : 0;
}
