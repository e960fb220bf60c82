/* SPDX-License-Identifier: MIT */
/*
 * store-scan — the store's lookup done the slow, obvious way, for tests to
 * hold the store's own (indexed) lookup against.
 *
 * Test-only.  Never linked into zcrxd.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "store.h"

/* The position of the attachment keyed (nic, mac), by a scan of every
 * attachment; -1 when there is none. */
ssize_t store_scan_find(const struct store *s, const char *nic, const uint8_t *mac);
