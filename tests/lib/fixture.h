/* SPDX-License-Identifier: MIT */
/*
 * fixture — read the captured files under tests/fixtures/ (kernel replies in
 * nic/, libvirt XML in libvirt/) from a test, whatever the working
 * directory: below $ZCRX_SRCDIR if set, else below the first ancestor of the
 * test binary (build/tests/, build/asan/tests/, ...) that has them.
 *
 * Test-only.  Never linked into zcrxd.
 */
#pragma once

#include <stddef.h>

/* The directory tests/fixtures/<sub> (a static buffer, valid until the
 * next call). */
const char *fixture_dir(const char *sub);

/* The whole file tests/fixtures/<sub>/<name> in a malloc()ed buffer (aligned
 * for any type), NUL-terminated; its length in *ret_len (optional).  NULL if
 * it cannot be read (why goes to stderr). */
void *fixture_read(const char *sub, const char *name, size_t *ret_len);
