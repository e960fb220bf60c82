/* SPDX-License-Identifier: MIT */
/*
 * zxsim — the sim-nic guest's own helper, one static binary with a verb
 * per job (zxsim.c lists them).  Shared by its files: the verbs, and a
 * small generic netlink client (zxsim-nl.c) so the binary needs no library.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

int zxsim_send(int argc, char **argv);
int zxsim_counters(int argc, char **argv);
int zxsim_queues(int argc, char **argv);
int zxsim_qstats(int argc, char **argv);
int zxsim_devmem(int argc, char **argv);
int zxsim_zcrx(int argc, char **argv);
int zxsim_rss(int argc, char **argv);
int zxsim_connect(int argc, char **argv);

/* ifindex of NAME, or 0 (with a message on stderr) */
unsigned zxsim_ifindex(const char *name);
/* run argv (argv[0] searched in PATH) and return its exit status (127: not run) */
int zxsim_run(char **argv);

/* ---- generic netlink ---------------------------------------------------- */
struct zxnl {
	int fd;
	uint16_t family;
	uint32_t seq;
	char err[256]; /* the kernel's extack text of the last failure, or "" */
};

struct zxnl_msg {
	char buf[4096];
	size_t len;
};

/* open a socket and resolve family NAME; -errno */
int zxnl_open(struct zxnl *nl, const char *family);
void zxnl_close(struct zxnl *nl);
/* start a request CMD with FLAGS (NLM_F_REQUEST is added) */
void zxnl_start(struct zxnl *nl, struct zxnl_msg *m, uint8_t cmd, uint16_t flags);
void zxnl_put(struct zxnl_msg *m, uint16_t type, const void *data, size_t len);
void zxnl_put_u32(struct zxnl_msg *m, uint16_t type, uint32_t v);
size_t zxnl_nest_start(struct zxnl_msg *m, uint16_t type);
void zxnl_nest_end(struct zxnl_msg *m, size_t at);
/* send m and call cb(payload, len, ud) for each reply message (its
 * attributes after the genl header); 0 or -errno (extack text in nl->err) */
int zxnl_talk(struct zxnl *nl, struct zxnl_msg *m,
	      void (*cb)(const void *attrs, size_t len, void *ud), void *ud);
/* attribute iteration over [attrs, attrs+len): tb[type] for type <= max */
void zxnl_parse(const void *attrs, size_t len, const void **tb, size_t *tlen, unsigned max);
uint32_t zxnl_u32(const void *a);
uint64_t zxnl_uint(const void *a, size_t len);
