// SPDX-License-Identifier: MIT
/*
 * kernel-netns — see kernel-netns.h.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kernel-netns.h"

int kernel_netns_sh(const char *cmd)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s >/dev/null 2>&1", cmd);
	return system(buf);
}

bool kernel_netns_enter(void)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0 || kernel_netns_sh("ip link set lo up")) {
		fprintf(stderr, "SKIP: needs root and a private netns\n");
		return false;
	}
	return true;
}

int kernel_netns_monitor(sd_event **ret_ev, struct nic_kernel **ret_k, struct nic_monitor **ret_m)
{
	struct kerror err;
	int r;

	r = sd_event_new(ret_ev);
	if (r < 0)
		return r;
	r = nic_kernel_new(ret_k, &err);
	if (r < 0)
		return r;
	return nic_monitor_new(*ret_ev, nic_kernel_backend(*ret_k), ret_m, &err);
}
