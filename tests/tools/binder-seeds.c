// SPDX-License-Identifier: MIT
/*
 * binder-seeds DIR — write the seed corpus of tests/fuzz/fuzz-binder.c: one
 * file per vhost_zcrx message shape (every reply, a notification, every
 * request, a dump datagram with several messages and DONE, and a few
 * malformed ones).  The committed corpus in tests/fuzz/corpus/fuzz-binder/
 * was made with it; run it again after changing the ABI.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "binder-msg.h"
#include "vhost_zcrx.h"

#define FAMILY 0x1b

static unsigned char buf[4096] __attribute__((aligned(8)));

static int write_seed(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		fprintf(stderr, "binder-seeds: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static struct nlmsghdr *start_at(size_t off, uint8_t cmd, uint16_t flags)
{
	return binder_msg_start(buf + off, sizeof(buf) - off, FAMILY, flags, 1, cmd, 1);
}

int main(int argc, char **argv)
{
	struct binder_binding b = {
		.id = 1, .ifindex = 2, .queue = 3, .tap_ifindex = 4,
		.fallback = BINDER_FALLBACK_COPY, .state = BINDER_STATE_DEGRADED,
		.reason = ENOBUFS, .has_stats = true, .stats = { 10, 20, 30, 40, 50, 60 },
	};
	struct binder_probe p = { .features = 3, .max_bindings = 16 };
	struct nlmsghdr *nlh, *done;
	const char *dir;
	size_t off;
	int r = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: binder-seeds DIR\n");
		return 2;
	}
	dir = argv[1];

#define SEED(name)                                                                                 \
	r |= write_seed(dir, name, buf, nlh->nlmsg_len)

	nlh = start_at(0, VHOST_ZCRX_CMD_PROBE, 0);
	binder_msg_put_probe_reply(nlh, sizeof(buf), 2, &p);
	SEED("probe-reply");
	nlh = start_at(0, VHOST_ZCRX_CMD_BIND, 0);
	binder_msg_put_bind_reply(nlh, sizeof(buf), 7);
	SEED("bind-reply");
	nlh = start_at(0, VHOST_ZCRX_CMD_GET, 0);
	binder_msg_put_binding(nlh, sizeof(buf), &b);
	SEED("get-reply");
	nlh = start_at(0, VHOST_ZCRX_CMD_STATE_NTF, 0);
	binder_msg_put_state_ntf(nlh, sizeof(buf), 1, BINDER_STATE_BROKEN, ENODEV);
	SEED("state-ntf");
	nlh = start_at(0, VHOST_ZCRX_CMD_BIND, NLM_F_REQUEST | NLM_F_ACK);
	binder_msg_put_bind(nlh, sizeof(buf), 2, 3, 4, 1);
	SEED("bind-request");
	nlh = start_at(0, VHOST_ZCRX_CMD_PROBE, NLM_F_REQUEST | NLM_F_ACK);
	binder_msg_put_probe(nlh, sizeof(buf), 2);
	SEED("probe-request");
	nlh = start_at(0, VHOST_ZCRX_CMD_UNBIND, NLM_F_REQUEST | NLM_F_ACK);
	binder_msg_put_binding_id(nlh, sizeof(buf), 1);
	SEED("unbind-request");

	/* A dump datagram: two bindings (one with a pad and an unknown
	 * attribute) and NLMSG_DONE. */
	nlh = start_at(0, VHOST_ZCRX_CMD_GET, NLM_F_MULTI);
	binder_msg_put_binding(nlh, sizeof(buf), &b);
	off = nlh->nlmsg_len;
	b.id = 2, b.has_stats = false, b.state = BINDER_STATE_ACTIVE, b.reason = 0;
	nlh = start_at(off, VHOST_ZCRX_CMD_GET, NLM_F_MULTI);
	binder_msg_put_binding(nlh, sizeof(buf) - off, &b);
	mnl_attr_put(nlh, VHOST_ZCRX_A_PAD, 0, NULL);
	mnl_attr_put_u32(nlh, VHOST_ZCRX_A_MAX + 1, 5);
	off += nlh->nlmsg_len;
	done = mnl_nlmsg_put_header(buf + off);
	done->nlmsg_type = NLMSG_DONE;
	done->nlmsg_flags = NLM_F_MULTI;
	*(int *)mnl_nlmsg_put_extra_header(done, sizeof(int)) = 0;
	off += done->nlmsg_len;
	r |= write_seed(dir, "get-dump", buf, off);

	/* Malformed: a STATS counter of 4 bytes, and a truncated nest. */
	nlh = start_at(0, VHOST_ZCRX_CMD_GET, 0);
	b.has_stats = false;
	binder_msg_put_binding(nlh, sizeof(buf), &b);
	{
		struct nlattr *nest = mnl_attr_nest_start(nlh, VHOST_ZCRX_A_STATS);

		mnl_attr_put_u32(nlh, VHOST_ZCRX_A_STATS_RX_BYTES, 1);
		mnl_attr_nest_end(nlh, nest);
	}
	SEED("bad-stats-u32");
	nlh = start_at(0, VHOST_ZCRX_CMD_GET, 0);
	binder_msg_put_binding(nlh, sizeof(buf), &b);
	{
		struct nlattr *nest = mnl_attr_nest_start(nlh, VHOST_ZCRX_A_STATS);

		mnl_attr_put_u64(nlh, VHOST_ZCRX_A_STATS_RX_BYTES, 1);
		mnl_attr_nest_end(nlh, nest);
		nest->nla_len += 8;
		nlh->nlmsg_len += 4;
	}
	SEED("bad-nest-truncated");
#undef SEED
	return r ? 1 : 0;
}
