// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the domain XML reader (zcrxd/domxml.c): any bytes in,
 * a parsed domain or an error out, never a crash, leak or overread.  Seeds:
 * tests/fuzz/corpus/domxml/ (captured libvirt XML), dictionary
 * tests/fuzz/fuzz-domxml.dict.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct domxml_domain *d = NULL, *c = NULL;
	char err[DOMXML_ERR_MAX];
	uint8_t mac[DOMXML_MAC_LEN];
	size_t i;
	int r;

	/* Not NUL-terminated on purpose: the reader must honour len. */
	r = domxml_parse((const char *)data, size, &d, err, sizeof(err));
	if (r < 0) {
		if (d || !memchr(err, 0, sizeof(err)))
			abort();
		return 0;
	}
	/* Touch everything the callers read. */
	if (strnlen(d->name, sizeof(d->name)) == sizeof(d->name) || d->n_ifaces > DOMXML_IFACES_MAX)
		abort();
	for (i = 0; i < d->n_ifaces; i++) {
		const struct domxml_iface *f = &d->ifaces[i];

		if (domxml_iface_is_macvtap(f) && domxml_find_iface(d, f->mac) == NULL)
			abort();
		if (f->queues > DOMXML_QUEUES_MAX)
			abort();
	}
	if (d->meta.state == DOMXML_META_VALID) {
		for (i = 0; i < d->meta.n_nics; i++) {
			memcpy(mac, d->meta.nics[i].mac, sizeof(mac));
			if (!domxml_meta_find(&d->meta, mac))
				abort();
		}
	} else if (d->meta.n_nics || d->meta.nics) {
		abort();
	}
	if (domxml_copy(d, &c) == 0)
		domxml_free(c);
	domxml_free(d);
	return 0;
}
