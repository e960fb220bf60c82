// SPDX-License-Identifier: MIT
/*
 * fuzz-binder — libFuzzer target for the vhost_zcrx reply and notification
 * parsers (zcrxd/binder-msg.c), and the module-side request parser the fake
 * module uses.  The input is a receive buffer: a sequence of netlink messages,
 * walked with libmnl exactly as a datagram from the kernel is.
 *
 * Seeds: tests/fuzz/corpus/fuzz-binder/ (made by build/tests/binder-seeds).
 * Build by hand:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ilib -Izcrxd \
 *     tests/fuzz/fuzz-binder.c zcrxd/binder-msg.c zcrxd/binder.c zcrxd/kerror.c -lmnl
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binder-msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nlmsghdr *nlh;
	struct kerror err;
	void *copy;
	int len;

	if (size > 65536)
		return 0;
	/* An exact-size, aligned heap copy: any over-read is caught. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	len = (int)size;
	/* libmnl 1.0.4's mnl_nlmsg_ok() compares (int)nlmsg_len, so a length
	 * >= 2^31 passes and one near 2^32 makes mnl_nlmsg_next() stand still:
	 * bound it ourselves. */
	for (nlh = copy; mnl_nlmsg_ok(nlh, len) && nlh->nlmsg_len <= (uint32_t)len;
	     nlh = mnl_nlmsg_next(nlh, &len)) {
		struct binder_probe probe;
		struct binder_binding b;
		struct binder_msg_request q;
		struct binder_event ev;
		uint32_t id;
		int ifindex;

		/* Every parser on every message: wrong commands must be refused
		 * just as safely as bad attributes. */
		(void)binder_msg_parse_probe(nlh, &ifindex, &probe, &err);
		(void)binder_msg_parse_bind(nlh, &id, &err);
		(void)binder_msg_parse_binding(nlh, &b, &err);
		(void)binder_msg_parse_state_ntf(nlh, &ev, &err);
		(void)binder_msg_parse_request(nlh, false, &q, &err);
		(void)binder_msg_parse_request(nlh, true, &q, &err);
	}
	free(copy);
	return 0;
}
