// SPDX-License-Identifier: MIT
/*
 * virt-lib — dlopen() of libvirt.so.0 and the table of its functions that
 * virt.c uses.  Owns: loading.  Must not: call libvirt itself.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "virt-lib.h"

#define VIRT_LIB_SONAME "libvirt.so.0"

struct virt_lib virt_lib;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int loaded; /* 1 ok, <0 failed (-errno), 0 not tried */
static char failure[256];

int virt_lib_load(char *why, size_t size)
{
	void *h;
	int r;

	pthread_mutex_lock(&lock);
	if (loaded)
		goto out;
	h = dlopen(VIRT_LIB_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(failure, sizeof(failure), "cannot load %s: %s", VIRT_LIB_SONAME, dlerror());
		loaded = -ENOENT;
		goto out;
	}
#define VIRT_LIB_RESOLVE(f)                                                                        \
	if (loaded == 0) {                                                                         \
		*(void **)&virt_lib.f = dlsym(h, #f);                                              \
		if (!virt_lib.f) {                                                                 \
			snprintf(failure, sizeof(failure), "%s lacks %s", VIRT_LIB_SONAME, #f);    \
			loaded = -ENOSYS;                                                          \
		}                                                                                  \
	}
	VIRT_LIB_SYMBOLS(VIRT_LIB_RESOLVE)
#undef VIRT_LIB_RESOLVE
	/* the handle stays open for the life of the process */
	if (loaded == 0)
		loaded = 1;
out:
	r = loaded < 0 ? loaded : 0;
	if (r < 0 && why)
		snprintf(why, size, "%s", failure);
	pthread_mutex_unlock(&lock);
	return r;
}
