/* SPDX-License-Identifier: MIT */
/*
 * flow — the traffic a lease asks for: protocol (tcp or udp), destination
 * port, and optionally the destination address, the source address and the
 * source port.  A flow without a destination address covers IPv4 and IPv6
 * (two rules); with one, only that address's family.
 *
 * Owns: the model, its JSON form (API and state file), overlap between two
 * flows and the NIC rules (nic_flow) that steer a flow.
 * Must not: do I/O.
 */
#pragma once

#include <json-c/json.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kerror.h"
#include "nic.h"

#define FLOW_RULES_MAX 2 /* an IPv4 and an IPv6 rule */

struct flow {
	uint8_t proto;   /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t dport;  /* 1..65535 */
	uint16_t sport;  /* 0 = any */
	int dst_family;  /* 0 = any destination address, else AF_INET / AF_INET6 */
	struct in6_addr dst;
	int src_family;  /* 0 = any source address */
	struct in6_addr src;
};

/* 0, or -EINVAL with the reason in *err (obj = nic, may be NULL). */
int flow_validate(const struct flow *f, const char *nic, struct kerror *err);
bool flow_equal(const struct flow *a, const struct flow *b);
/* Can one packet match both? */
bool flow_overlap(const struct flow *a, const struct flow *b);
/* The rules (one per address family) that steer f; returns how many. */
size_t flow_nic_flows(const struct flow *f, struct nic_flow out[FLOW_RULES_MAX]);
/* "tcp:dport=9000,dst=10.0.0.1" (the CLI's form). */
const char *flow_format(const struct flow *f, char *buf, size_t size);

/* {protocol, dport, dst?, src?, sport?}; from_json checks types and values
 * (-EINVAL with the reason in *err). */
json_object *flow_to_json(const struct flow *f);
int flow_from_json(json_object *o, struct flow *ret, struct kerror *err);
