/* SPDX-License-Identifier: MIT */
/*
 * config-control — the [daemon] keys that bound the control socket:
 * MaxConnections=, MaxConnectionsPerUser=, ReservedConnections=,
 * ReadTimeoutSec=, WriteTimeoutSec=, IdleTimeoutSec= (zcrxd.conf(5)).
 *
 * Owns: their defaults, ranges, parsing and printing.  Must not: know the
 * ipc server (the manager turns them into struct ipc_limits) or print
 * anywhere but the FILE it is given.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config_control {
	unsigned max_connections;
	unsigned max_per_user;
	unsigned reserved;
	uint64_t read_timeout_usec;
	uint64_t write_timeout_usec;
	uint64_t idle_timeout_usec; /* 0 = never */
	/* keys given; those not given follow MaxConnections */
	bool max_per_user_set, reserved_set;
};

void config_control_init(struct config_control *c);
/* One key of [daemon]: 0 taken, -ENOENT not one of these keys, -EINVAL
 * with the problem in msg. */
int config_control_key(struct config_control *c, const char *key, const char *value, char *msg,
		       size_t size);
/* After the last file: defaults that follow MaxConnections= (half of
 * it per user, at most 16; an eighth kept, at most 8), then what the keys
 * say together: NULL when fine, else the problem in buf. */
const char *config_control_finish(struct config_control *c, char *buf, size_t size);
void config_control_print(const struct config_control *c, FILE *f);
