// SPDX-License-Identifier: MIT
/*
 * lease-client — TEST ONLY: an application leasing through libzcrx
 * (zcrx_lease(), zcrx_lease_release()), as a program using the library
 * would, for tests/attach/test_leases.py:
 *
 *   lease-client SOCKET NIC FLOW QUEUES NAME|- process|name
 *
 * leases, prints "id=ID ifindex=N queues=Q,Q rules=L,L context=C|-", then
 * waits for a line on stdin: "release" releases the lease and exits 0,
 * end of input exits without releasing.  On a refusal prints
 * "error NAME: MESSAGE" and exits 1.
 */
#include <stdio.h>
#include <string.h>

#include "zcrx.h"

static void list(const char *key, const uint32_t *v, uint32_t n)
{
	uint32_t i;

	printf(" %s=", key);
	for (i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", v[i]);
}

int main(int argc, char **argv)
{
	struct zcrx_error e = { 0 };
	struct zcrx_lease_info l;
	struct zcrx_conn *c = NULL;
	struct zcrx_flow flow;
	char line[64], id[16];
	unsigned queues;

	if (argc != 7 || sscanf(argv[4], "%u", &queues) != 1) {
		fprintf(stderr, "usage: lease-client SOCKET NIC FLOW QUEUES NAME|- process|name\n");
		return 2;
	}
	if (zcrx_flow_parse(argv[3], &flow, &e) < 0 || zcrx_connect(argv[1], 10000, &c, &e) < 0 ||
	    zcrx_lease(c, argv[2], &flow, queues, strcmp(argv[5], "-") ? argv[5] : NULL,
		       strcmp(argv[6], "process") ? ZCRX_LEASE_OWNER_NAME : ZCRX_LEASE_OWNER_PROCESS,
		       &l, &e) < 0) {
		printf("error %s: %s\n", e.name[0] ? e.name : "local", e.message);
		zcrx_error_clear(&e);
		zcrx_disconnect(c);
		return 1;
	}
	printf("id=%u name=%s ifindex=%d", l.id, l.name, l.ifindex);
	list("queues", l.queues, l.n_queues);
	list("rules", l.rules, l.n_rules);
	if (l.has_rss_context)
		printf(" context=%u\n", l.rss_context);
	else
		printf(" context=-\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin) || strncmp(line, "release", 7)) {
		zcrx_disconnect(c);
		return 0;
	}
	snprintf(id, sizeof(id), "%u", l.id);
	if (zcrx_lease_release(c, id, &e) < 0) {
		printf("error %s: %s\n", e.name, e.message);
		zcrx_error_clear(&e);
		zcrx_disconnect(c);
		return 1;
	}
	printf("released\n");
	zcrx_disconnect(c);
	return 0;
}
