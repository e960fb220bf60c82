/* SPDX-License-Identifier: MIT */
/*
 * store-int — what the store's files share (store.c, store-write.c,
 * store-read.c, store-file.c).  Not for other modules.
 */
#pragma once

#include "store.h"

#define STORE_MAX_BYTES (64u << 20)

/* The names state.json gives rule matches and actions. */
const char *store_match_name(enum nic_rule_match m);
const char *store_action_name(enum nic_rule_action a);
