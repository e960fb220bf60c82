// SPDX-License-Identifier: MIT
/* store-scan — see store-scan.h. */
#include <string.h>

#include "store-scan.h"

ssize_t store_scan_find(const struct store *s, const char *nic, const uint8_t *mac)
{
	size_t i;

	for (i = 0; i < s->n_atts; i++)
		if (!memcmp(s->atts[i].id.mac, mac, NIC_MAC_LEN) && !strcmp(s->atts[i].id.nic, nic))
			return (ssize_t)i;
	return -1;
}
