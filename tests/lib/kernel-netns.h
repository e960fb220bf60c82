/* SPDX-License-Identifier: MIT */
/*
 * kernel-netns — a unit test against the real kernel in a network
 * namespace of its own: the namespace (lo up), a quiet shell command to
 * make links in it, and the rtnl monitor on the real kernel backend.
 *
 * Test-only.  Never linked into zcrxd.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "nic-kernel.h"
#include "nic-monitor.h"

/* cmd through the shell, its output dropped; system()'s status. */
int kernel_netns_sh(const char *cmd);

/* This process in a new network namespace with lo up.  false (and why on
 * stderr) when that cannot be: not root, or no unshare. */
bool kernel_netns_enter(void);

/* A loop, the kernel backend and a monitor on it: 0, or the first
 * failure's negative errno. */
int kernel_netns_monitor(sd_event **ret_ev, struct nic_kernel **ret_k, struct nic_monitor **ret_m);
