/* SPDX-License-Identifier: MIT */
/*
 * config — zcrxd.conf and zcrxd.conf.d/<name>.conf (INI, parsed with inih).
 *
 * Owns: the key table, parsing, validation, merging of drop-ins and of the
 * [nic *] defaults, and printing the normalized result.  Errors name file and
 * line and are all collected, not just the first.  Must not: touch the
 * running daemon (the caller swaps configs only when a new one is valid).
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config-control.h"

enum config_autoattach {
	CONFIG_AUTOATTACH_METADATA = 0, /* only domains whose <metadata> opts in */
	CONFIG_AUTOATTACH_DIRECT,       /* every type='direct' vNIC */
	CONFIG_AUTOATTACH_NONE,
};

enum config_header_split {
	CONFIG_HEADER_SPLIT_AUTO = 0, /* enable when the binder needs it */
	CONFIG_HEADER_SPLIT_ON,
	CONFIG_HEADER_SPLIT_OFF,
};

enum config_on_exhaustion {
	CONFIG_ON_EXHAUSTION_DEGRADE = 0,
	CONFIG_ON_EXHAUSTION_FAIL,
};

enum config_fallback {
	CONFIG_FALLBACK_COPY = 0,
	CONFIG_FALLBACK_DROP,
};

enum config_steering {
	CONFIG_STEERING_MAC = 0,
	CONFIG_STEERING_IP,
};

#define CONFIG_STEERING_MAX 2
#define CONFIG_RESERVE_LIST_MAX 1024

/* Which keys a [nic] section set (so [nic *] can fill in the rest). */
enum config_nic_key {
	CONFIG_NIC_KEY_RESERVE = 1u << 0,
	CONFIG_NIC_KEY_CHANNELS = 1u << 1,
	CONFIG_NIC_KEY_STEERING = 1u << 2,
	CONFIG_NIC_KEY_HEADER_SPLIT = 1u << 3,
	CONFIG_NIC_KEY_ON_EXHAUSTION = 1u << 4,
	CONFIG_NIC_KEY_FALLBACK = 1u << 5,
};

struct config_nic {
	char name[IF_NAMESIZE]; /* "*" for the default section */
	unsigned set;           /* enum config_nic_key bits */

	/* ReserveQueues: a count from the top (reserve_list == NULL) or a list. */
	uint32_t reserve_count;
	uint32_t *reserve_list; /* sorted, unique */
	size_t n_reserve_list;

	uint32_t channels; /* 0 = leave the channel count alone */

	enum config_steering steering[CONFIG_STEERING_MAX];
	size_t n_steering;

	enum config_header_split header_split;
	enum config_on_exhaustion on_exhaustion;
	enum config_fallback fallback;
};

struct config {
	/* [daemon] */
	char *libvirt_uri;
	enum config_autoattach autoattach;
	char *socket_group; /* NULL = root's group */
	char *admin_group;  /* NULL = root only */
	unsigned reconcile_interval_sec;
	bool hook_strict; /* HookStrict=: a failed hook blocks the VM start */
	struct config_control control; /* the control socket's limits */

	/* [nic NAME] sections in the order first seen; [nic *] separately. */
	struct config_nic *nics;
	size_t n_nics;
	bool has_nic_default;
	struct config_nic nic_default;

	char **files; /* files read, in order */
	size_t n_files;
};

/* One problem found while reading a config. */
struct config_diag {
	char *file;
	unsigned line; /* 0 = not about one line */
	char *msg;
};

struct config_diags {
	struct config_diag *v;
	size_t n;
};

void config_init(struct config *c);
void config_free(struct config *c);
void config_diags_free(struct config_diags *d);

/*
 * Load path and then path's drop-in directory (<path>.d/ for a file named
 * *.conf: zcrxd.conf → zcrxd.conf.d/<name>.conf, lexical order).  A missing main
 * file is not an error when allow_missing is set (defaults are used).
 * Returns 0 when valid, -EINVAL with every problem in *diags otherwise.
 */
int config_load(const char *path, bool allow_missing, struct config *ret, struct config_diags *diags);

/* Parse one buffer as if it were file `name` (tests, fuzzing). */
int config_load_string(const char *name, const char *text, struct config *ret,
		       struct config_diags *diags);

/* The normalized config, as `zcrxd --check-config --print` shows it. */
void config_print(const struct config *c, FILE *f);

/* The effective policy for NIC ifname: its own section merged over [nic *].
 * Returns false when neither applies (zcrxd does not manage that NIC). */
bool config_nic_policy(const struct config *c, const char *ifname, struct config_nic *ret);
/* True when ifname has its own [nic ifname] section. */
bool config_nic_is_named(const struct config *c, const char *ifname);

const char *config_autoattach_name(enum config_autoattach v);
const char *config_header_split_name(enum config_header_split v);
const char *config_on_exhaustion_name(enum config_on_exhaustion v);
const char *config_fallback_name(enum config_fallback v);
const char *config_steering_name(enum config_steering v);
