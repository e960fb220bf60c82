// SPDX-License-Identifier: MIT
/*
 * zxsim-netdev — the verbs that ask the netdev generic netlink family, the
 * kernel's own view of a device's queues, independent of zcrxd's code:
 *
 *   zxsim queues IFNAME          one line per queue:
 *                                "rx 1 napi=8193 io-uring dmabuf=2 lease"
 *   zxsim qstats IFNAME          "q0=N q1=N ..." RX packets per queue
 *   zxsim devmem IFNAME QUEUE [CMD ARGS...]
 *                                bind a udmabuf to RX queue QUEUE
 *                                (NETDEV_CMD_BIND_RX), run CMD while it is
 *                                bound, print "devmem IFNAME queue Q: bound
 *                                dmabuf N" or the kernel's refusal with its
 *                                extack text; exit 0 / 1 / CMD's status
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/udmabuf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nic-uapi.h"
#include "zcrx-uapi.h"
#include "zxsim.h"

struct queues {
	unsigned ifindex;
};

static void queue_cb(const void *attrs, size_t len, void *ud)
{
	const void *tb[ZX_NETDEV_A_QUEUE_MAX + 1];
	const struct queues *q = ud;

	zxnl_parse(attrs, len, tb, NULL, ZX_NETDEV_A_QUEUE_MAX);
	if (!tb[ZX_NETDEV_A_QUEUE_ID] || !tb[ZX_NETDEV_A_QUEUE_TYPE] ||
	    (tb[ZX_NETDEV_A_QUEUE_IFINDEX] && zxnl_u32(tb[ZX_NETDEV_A_QUEUE_IFINDEX]) != q->ifindex))
		return;
	printf("%s %u", zxnl_u32(tb[ZX_NETDEV_A_QUEUE_TYPE]) == ZX_NETDEV_QUEUE_TYPE_RX ? "rx" : "tx",
	       zxnl_u32(tb[ZX_NETDEV_A_QUEUE_ID]));
	if (tb[ZX_NETDEV_A_QUEUE_NAPI_ID])
		printf(" napi=%u", zxnl_u32(tb[ZX_NETDEV_A_QUEUE_NAPI_ID]));
	if (tb[ZX_NETDEV_A_QUEUE_IO_URING])
		printf(" io-uring");
	if (tb[ZX_NETDEV_A_QUEUE_DMABUF])
		printf(" dmabuf=%u", zxnl_u32(tb[ZX_NETDEV_A_QUEUE_DMABUF]));
	if (tb[ZX_NETDEV_A_QUEUE_XSK])
		printf(" xsk");
	if (tb[ZX_NETDEV_A_QUEUE_LEASE])
		printf(" lease");
	printf("\n");
}

static int open_netdev(struct zxnl *nl)
{
	int r = zxnl_open(nl, ZX_NETDEV_GENL_NAME);

	if (r < 0)
		fprintf(stderr, "zxsim: generic netlink family netdev: %s\n", strerror(-r));
	return r;
}

int zxsim_queues(int argc, char **argv)
{
	struct queues q;
	struct zxnl nl;
	struct zxnl_msg m;
	int r;

	if (argc != 2 || !(q.ifindex = zxsim_ifindex(argv[1])))
		return 2;
	if (open_netdev(&nl) < 0)
		return 1;
	zxnl_start(&nl, &m, ZX_NETDEV_CMD_QUEUE_GET, NLM_F_DUMP);
	zxnl_put_u32(&m, ZX_NETDEV_A_QUEUE_IFINDEX, q.ifindex);
	fflush(stdout);
	r = zxnl_talk(&nl, &m, queue_cb, &q);
	zxnl_close(&nl);
	if (r < 0)
		fprintf(stderr, "zxsim: queue-get %s: %s%s%s\n", argv[1], strerror(-r),
			nl.err[0] ? ": " : "", nl.err);
	return r < 0;
}

struct qstats {
	unsigned ifindex;
	uint64_t rx[256];
	unsigned n;
};

static void qstats_cb(const void *attrs, size_t len, void *ud)
{
	const void *tb[ZX_NETDEV_A_QSTATS_MAX + 1];
	size_t tl[ZX_NETDEV_A_QSTATS_MAX + 1];
	struct qstats *s = ud;
	uint32_t id;

	zxnl_parse(attrs, len, tb, tl, ZX_NETDEV_A_QSTATS_MAX);
	if (!tb[ZX_NETDEV_A_QSTATS_QUEUE_ID] || !tb[ZX_NETDEV_A_QSTATS_QUEUE_TYPE] ||
	    zxnl_u32(tb[ZX_NETDEV_A_QSTATS_QUEUE_TYPE]) != ZX_NETDEV_QUEUE_TYPE_RX ||
	    !tb[ZX_NETDEV_A_QSTATS_IFINDEX] ||
	    zxnl_u32(tb[ZX_NETDEV_A_QSTATS_IFINDEX]) != s->ifindex)
		return;
	id = zxnl_u32(tb[ZX_NETDEV_A_QSTATS_QUEUE_ID]);
	if (id >= 256)
		return;
	if (tb[ZX_NETDEV_A_QSTATS_RX_PACKETS])
		s->rx[id] = zxnl_uint(tb[ZX_NETDEV_A_QSTATS_RX_PACKETS],
				      tl[ZX_NETDEV_A_QSTATS_RX_PACKETS]);
	if (id + 1 > s->n)
		s->n = id + 1;
}

int zxsim_qstats(int argc, char **argv)
{
	struct qstats s = { 0 };
	struct zxnl nl;
	struct zxnl_msg m;
	unsigned i;
	int r;

	if (argc != 2 || !(s.ifindex = zxsim_ifindex(argv[1])))
		return 2;
	if (open_netdev(&nl) < 0)
		return 1;
	zxnl_start(&nl, &m, ZX_NETDEV_CMD_QSTATS_GET, NLM_F_DUMP);
	zxnl_put_u32(&m, ZX_NETDEV_A_QSTATS_IFINDEX, s.ifindex);
	zxnl_put_u32(&m, ZX_NETDEV_A_QSTATS_SCOPE, ZX_NETDEV_QSTATS_SCOPE_QUEUE);
	r = zxnl_talk(&nl, &m, qstats_cb, &s);
	zxnl_close(&nl);
	if (r < 0) {
		fprintf(stderr, "zxsim: qstats-get %s: %s%s%s\n", argv[1], strerror(-r),
			nl.err[0] ? ": " : "", nl.err);
		return 1;
	}
	for (i = 0; i < s.n; i++)
		printf("%sq%u=%llu", i ? " " : "", i, (unsigned long long)s.rx[i]);
	printf("\n");
	return 0;
}

/* A dma-buf over 64 pages of a sealed memfd (udmabuf): -errno */
static int make_udmabuf(void)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = 64 * 4096 };
	int memfd, dev, fd;

	memfd = memfd_create("zxsim-devmem", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0)
		return -errno;
	if (ftruncate(memfd, (off_t)c.size) < 0 || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
		fd = -errno;
		close(memfd);
		return fd;
	}
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		fd = -errno;
		close(memfd);
		return fd;
	}
	c.memfd = (uint32_t)memfd;
	fd = ioctl(dev, UDMABUF_CREATE, &c);
	if (fd < 0)
		fd = -errno;
	close(dev);
	close(memfd);
	return fd;
}

static void bind_cb(const void *attrs, size_t len, void *ud)
{
	const void *tb[ZX_NETDEV_A_DMABUF_ID + 1];

	zxnl_parse(attrs, len, tb, NULL, ZX_NETDEV_A_DMABUF_ID);
	if (tb[ZX_NETDEV_A_DMABUF_ID])
		*(uint32_t *)ud = zxnl_u32(tb[ZX_NETDEV_A_DMABUF_ID]);
}

int zxsim_devmem(int argc, char **argv)
{
	unsigned ifindex, queue;
	uint32_t id = 0;
	struct zxnl nl;
	struct zxnl_msg m;
	size_t nest;
	int dmabuf, r;

	if (argc < 3 || !(ifindex = zxsim_ifindex(argv[1])))
		return 2;
	queue = (unsigned)strtoul(argv[2], NULL, 10);
	dmabuf = make_udmabuf();
	if (dmabuf < 0) {
		printf("devmem %s queue %u: no udmabuf: %s\n", argv[1], queue, strerror(-dmabuf));
		return 1;
	}
	if (open_netdev(&nl) < 0)
		return 1;
	zxnl_start(&nl, &m, ZX_NETDEV_CMD_BIND_RX, 0);
	zxnl_put_u32(&m, ZX_NETDEV_A_DMABUF_IFINDEX, ifindex);
	zxnl_put_u32(&m, ZX_NETDEV_A_DMABUF_FD, (uint32_t)dmabuf);
	nest = zxnl_nest_start(&m, ZX_NETDEV_A_DMABUF_QUEUES);
	zxnl_put_u32(&m, ZX_NETDEV_A_QUEUE_ID, queue);
	zxnl_put_u32(&m, ZX_NETDEV_A_QUEUE_TYPE, ZX_NETDEV_QUEUE_TYPE_RX);
	zxnl_nest_end(&m, nest);
	r = zxnl_talk(&nl, &m, bind_cb, &id);
	if (r < 0) {
		printf("devmem %s queue %u: %s (%s)%s%s\n", argv[1], queue, strerror(-r),
		       strerrorname_np(-r) ? strerrorname_np(-r) : "?", nl.err[0] ? ": " : "", nl.err);
		zxnl_close(&nl);
		close(dmabuf);
		return 1;
	}
	printf("devmem %s queue %u: bound dmabuf %u\n", argv[1], queue, id);
	fflush(stdout);
	r = argc > 3 ? zxsim_run(argv + 3) : 0;
	/* the binding ends with the socket that made it */
	zxnl_close(&nl);
	close(dmabuf);
	return r;
}
