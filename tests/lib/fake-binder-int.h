/* SPDX-License-Identifier: MIT */
/*
 * The test-only fake vhost_zcrx module's insides, shared by its server
 * (fake-binder.c) and its text control (fake-binder-text.c).  Not for
 * tests: they use fake-binder.h.
 */
#ifndef ZCRX_TESTS_FAKE_BINDER_INT_H
#define ZCRX_TESTS_FAKE_BINDER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "binder-msg.h"
#include "fake-binder.h"

#define FB_MAX_CLIENTS 32
#define FB_MAX_BINDINGS 512
#define FB_MAX_NICS 64
#define FB_LOG_MAX 4096
#define FB_FLUSH_AT 8192 /* split dumps into datagrams of about this size */
#define FB_BUF (64 * 1024)

struct fb_client {
	int fd;
	bool listener;
};

struct fb_nic {
	int ifindex;
	bool has_features;
	uint64_t features;
	int refuse_err;
	char refuse_msg[128];
};

struct fake_binder {
	pthread_mutex_t lock;
	struct fake_binder_options o;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char tmpdir[64]; /* made by fake_binder_new_tmp(), removed on free */
	int listen_fd;
	int wake[2];
	int rtnl_fd;
	pthread_t thread;
	bool thread_running;

	struct fb_client clients[FB_MAX_CLIENTS];
	size_t n_clients;

	bool present;
	uint32_t next_id;
	struct binder_binding b[FB_MAX_BINDINGS];
	size_t n_b;
	struct fb_nic nics[FB_MAX_NICS];
	size_t n_nics;
	uint64_t features;
	int refuse_next_err;
	char refuse_next_msg[128];

	fake_binder_bind_check_fn check;
	void *check_ud;
	fake_binder_observer_fn obs;
	void *obs_ud;
	char *log[FB_LOG_MAX];
	unsigned n_log;

	uint64_t out[FB_BUF / sizeof(uint64_t)];
	uint64_t in[FB_BUF / sizeof(uint64_t)];
};

/* One line in the fake's log, which its "log" control command prints. */
void fake_binder_log(struct fake_binder *fb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* BIND as the module does it: 0 and *ret_id, or -errno with msg (extack). */
int fake_binder_do_bind(struct fake_binder *fb, const struct binder_msg_request *q, char *msg,
			size_t size, uint32_t *ret_id);

#endif
