// SPDX-License-Identifier: MIT
/*
 * zxsim-zcrx — io_uring zero-copy receive on one RX queue:
 *
 *   zxsim zcrx IFNAME QUEUE [CMD ARGS...]
 *
 * registers an ifq (IORING_REGISTER_ZCRX_IFQ) with a 64-page user memory
 * area on QUEUE, which makes the kernel put its memory provider on the
 * queue's page pool; runs CMD while it is registered; prints "zcrx IFNAME
 * queue Q: registered" or the kernel's refusal ("... Operation not
 * supported (EOPNOTSUPP)").  Exit 0 / 1 / CMD's status.
 */
#include <errno.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zcrx-uapi.h"
#include "zxsim.h"

#define AREA_PAGES 64

int zxsim_zcrx(int argc, char **argv)
{
	struct io_uring_params p = { 0 };
	struct zx_io_uring_region_desc rd = { 0 };
	struct zx_io_uring_zcrx_area_reg area = { 0 };
	struct zx_io_uring_zcrx_ifq_reg reg = { 0 };
	unsigned ifindex, queue;
	void *mem, *ring;
	int fd, r;

	if (argc < 3 || !(ifindex = zxsim_ifindex(argv[1])))
		return 2;
	queue = (unsigned)strtoul(argv[2], NULL, 10);
	p.flags = IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_CQE32;
	fd = (int)syscall(__NR_io_uring_setup, 8, &p);
	if (fd < 0) {
		printf("zcrx %s queue %u: io_uring_setup: %s\n", argv[1], queue, strerror(errno));
		return 1;
	}
	mem = mmap(NULL, AREA_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ring = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || ring == MAP_FAILED) {
		printf("zcrx %s queue %u: mmap: %s\n", argv[1], queue, strerror(errno));
		return 1;
	}
	rd.user_addr = (uintptr_t)ring;
	rd.size = 4096;
	rd.flags = ZX_IORING_MEM_REGION_TYPE_USER;
	area.addr = (uintptr_t)mem;
	area.len = AREA_PAGES * 4096;
	reg.if_idx = ifindex;
	reg.if_rxq = queue;
	reg.rq_entries = 64;
	reg.area_ptr = (uintptr_t)&area;
	reg.region_ptr = (uintptr_t)&rd;
	r = (int)syscall(__NR_io_uring_register, fd, ZX_IORING_REGISTER_ZCRX_IFQ, &reg, 1);
	if (r < 0) {
		r = errno;
		printf("zcrx %s queue %u: %s (%s)\n", argv[1], queue, strerror(r),
		       strerrorname_np(r) ? strerrorname_np(r) : "?");
		close(fd);
		return 1;
	}
	printf("zcrx %s queue %u: registered\n", argv[1], queue);
	fflush(stdout);
	r = argc > 3 ? zxsim_run(argv + 3) : 0;
	close(fd); /* the ifq and the queue's provider go with the ring */
	return r;
}
