/* SPDX-License-Identifier: MIT */
/*
 * zcrx-uapi — the io_uring zero-copy receive ABI (Linux 6.15+, the fields
 * as of 7.3) that the guest helper zxsim uses, written down by the project:
 * the build host's headers are 6.1.  Values and layouts are kernel ABI facts
 * (include/uapi/linux/io_uring.h and io_uring/zcrx.h); names are the
 * kernel's with a ZX_ prefix.
 *
 * Owns: constants and structs only.
 */
#pragma once

#include <stdint.h>

#define ZX_IORING_REGISTER_ZCRX_IFQ 32
#define ZX_IORING_MEM_REGION_TYPE_USER 1

struct zx_io_uring_region_desc {
	uint64_t user_addr;
	uint64_t size;
	uint32_t flags;
	uint32_t id;
	uint64_t mmap_offset;
	uint64_t resv[4];
};

struct zx_io_uring_zcrx_area_reg {
	uint64_t addr;
	uint64_t len;
	uint64_t rq_area_token;
	uint32_t flags;
	uint32_t dmabuf_fd;
	uint64_t resv2[2];
};

struct zx_io_uring_zcrx_offsets {
	uint32_t head;
	uint32_t tail;
	uint32_t rqes;
	uint32_t resv2;
	uint64_t resv[2];
};

struct zx_io_uring_zcrx_ifq_reg {
	uint32_t if_idx;
	uint32_t if_rxq;
	uint32_t rq_entries;
	uint32_t flags;
	uint64_t area_ptr;   /* struct zx_io_uring_zcrx_area_reg * */
	uint64_t region_ptr; /* struct zx_io_uring_region_desc * */
	struct zx_io_uring_zcrx_offsets offsets;
	uint32_t zcrx_id;
	uint32_t rx_buf_len;
	uint64_t event_desc;
	uint64_t resv[2];
};

_Static_assert(sizeof(struct zx_io_uring_region_desc) == 64, "io_uring_region_desc");
_Static_assert(sizeof(struct zx_io_uring_zcrx_area_reg) == 48, "io_uring_zcrx_area_reg");
_Static_assert(sizeof(struct zx_io_uring_zcrx_ifq_reg) == 96, "io_uring_zcrx_ifq_reg");

/* netdev generic netlink: BIND_RX's attributes (the rest is in
 * zcrxd/nic-uapi.h) */
enum {
	ZX_NETDEV_A_DMABUF_IFINDEX = 1,
	ZX_NETDEV_A_DMABUF_QUEUES = 2, /* nest of NETDEV_A_QUEUE_{ID,TYPE}, multi */
	ZX_NETDEV_A_DMABUF_FD = 3,
	ZX_NETDEV_A_DMABUF_ID = 4,
};
