// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the Varlink decoder (framing, strict JSON, request shape).
 * The first byte picks how the input is cut into reads, so split messages and
 * many-messages-per-read are explored too.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "varlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct varlink_reader r;
	size_t chunk, off;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] % 17 + 1;
	data++;
	size--;
	varlink_reader_init(&r, 4096);
	for (off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		json_object *o = NULL;
		int k;

		if (varlink_reader_feed(&r, data + off, n) < 0)
			break;
		while ((k = varlink_reader_next(&r, &o)) != 0) {
			struct varlink_call c;
			const char *why;

			if (k == -EMSGSIZE)
				goto out;
			if (k < 0)
				continue;
			if (varlink_call_parse(o, &c, &why) == 0)
				(void)varlink_method_name_valid(c.method);
			json_object_put(o);
		}
	}
out:
	varlink_reader_free(&r);
	return 0;
}
