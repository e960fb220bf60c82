/* SPDX-License-Identifier: MIT */
/*
 * nic-json — the observed NIC model as JSON, one schema for the Varlink API
 * (GetNic, ListNics, ListQueues), nictool and zcrxctl --json.  snake_case
 * keys, numbers as numbers, collections as arrays, null for "unknown".
 *
 * Owns: the JSON shape of struct nic, its queues and capabilities.  Must
 * not: do I/O.
 */
#pragma once

#include <json-c/json.h>

#include "nic.h"

/* The capability matrix: {"channels": {"state", "errno", "error", "message"}, ...} */
json_object *nic_json_caps(const struct nic_caps *caps);
json_object *nic_json_cap(const struct nic_cap *cap);
/* Summary for ListNics: name, ifindex, kind, driver, up, mac, channels, queues. */
json_object *nic_json_summary(const struct nic *nic);
/* Everything for GetNic: summary + channels, rings, ntuple, rss, rules,
 * capabilities.  lower_name may be NULL (macvtap's lower device name). */
json_object *nic_json_nic(const struct nic *nic, const char *lower_name);
/* One object per RX queue: index, napi_id, irq, cpus, numa_node,
 * in_default_rss, rss_weight, rules (locations), providers, rx counters. */
json_object *nic_json_queues(const struct nic *nic);
json_object *nic_json_rss(const struct nic_rss *rss);
json_object *nic_json_rule(const struct nic_rule *rule);
json_object *nic_json_channels(const struct nic_channels *ch);
json_object *nic_json_rings(const struct nic_rings *r);

const char *nic_macvlan_mode_name(uint32_t mode);
const char *nic_hfunc_name(uint32_t hfunc);
/* "pci" etc.: the providers bitmask as names. */
json_object *nic_json_providers(unsigned providers);
/* Weight of queue q in a table (entries pointing at it), 0 if none. */
uint32_t nic_rss_weight(const struct nic_rss *rss, uint32_t q);
