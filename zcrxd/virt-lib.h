/* SPDX-License-Identifier: MIT */
/*
 * virt-lib — libvirt's entry points, resolved with dlopen() the first time a
 * libvirt connection is wanted.  A zcrxd running without libvirt
 * (--libvirt-uri none) then never maps libvirt and the ~60 libraries it
 * depends on (about 12 MiB of resident pages).
 *
 * Part of virt: included only through virt-int.h (virt.c, virt-queue.c,
 * virt-worker.c: the files that speak libvirt).
 * Call through VIRT_LIB(fn), e.g. VIRT_LIB(virConnectClose)(conn).
 */
#pragma once

#include <stddef.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define VIRT_LIB_SYMBOLS(X)                                                                        \
	X(virInitialize)                                                                           \
	X(virSetErrorFunc)                                                                         \
	X(virEventRegisterImpl)                                                                    \
	X(virGetLastError)                                                                         \
	X(virGetLastErrorMessage)                                                                  \
	X(virConnectOpenReadOnly)                                                                  \
	X(virConnectClose)                                                                         \
	X(virConnectRef)                                                                           \
	X(virConnectIsAlive)                                                                       \
	X(virConnectSetKeepAlive)                                                                  \
	X(virConnectRegisterCloseCallback)                                                         \
	X(virConnectUnregisterCloseCallback)                                                       \
	X(virConnectListAllDomains)                                                                \
	X(virConnectDomainEventRegisterAny)                                                        \
	X(virConnectDomainEventDeregisterAny)                                                      \
	X(virDomainFree)                                                                           \
	X(virDomainRef)                                                                            \
	X(virDomainGetName)                                                                        \
	X(virDomainGetUUID)                                                                        \
	X(virDomainGetID)                                                                          \
	X(virDomainGetState)                                                                       \
	X(virDomainGetXMLDesc)

struct virt_lib {
#define VIRT_LIB_FIELD(f) __typeof__(f) *f;
	VIRT_LIB_SYMBOLS(VIRT_LIB_FIELD)
#undef VIRT_LIB_FIELD
};

extern struct virt_lib virt_lib;

#define VIRT_LIB(f) (virt_lib.f)

/* Load libvirt (once; thread-safe).  0, or -ENOENT / -ENOSYS with the
 * reason (dlerror's text) in why. */
int virt_lib_load(char *why, size_t size);
