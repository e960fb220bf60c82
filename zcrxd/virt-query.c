// SPDX-License-Identifier: MIT
/*
 * virt-query — a worker's own libvirt connection for its reads (see
 * virt-int.h).
 *
 * Why: on the events connection a call shares the socket with the events.
 * libvirt's client then reads the events that arrive during the call on the
 * calling thread, passes the socket between the two workers and the loop,
 * and turns the loop's watch off and on around every call: about 43 system
 * calls per read, against about 10 on a connection that carries nothing
 * else.  A query connection is opened unwatched (virt_event_unwatched_*):
 * no events, no keepalive, its calls never wake the loop.  Its domain
 * handles are kept by UUID (libvirtd finds a domain by UUID, so a handle
 * stays good across the domain's restarts): one lookup per domain, not one
 * per read, and one listing for all the domains it does not know yet.
 *
 * Owns: the connection and the handles.  Used by its worker thread only.
 * Must not: report a lost connection (the events connection does; a failed
 * query connection is closed, and the caller reads through the events
 * connection instead).
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "virt-event.h"
#include "virt-int.h"

/* Handles kept per worker; beyond this all are dropped and looked up again. */
#define VIRT_QUERY_DOMS_MAX 8192
/* A domain not kept: list every domain (one call for all, where a storm of
 * starts after a host's boot would look each up) at most this often;
 * between listings, look it up alone. */
#define VIRT_QUERY_LIST_GAP_USEC 1000000

struct vq_slot {
	uint8_t uuid[16];
	virDomainPtr dom; /* NULL: free */
};

struct virt_query {
	virConnectPtr conn;
	unsigned gen;
	struct vq_slot *slots; /* open addressing, a power of two */
	size_t nslots, used;
	uint64_t listed_usec; /* the last listing (0: none on this connection) */
};

struct virt_query *virt_query_new(void)
{
	return calloc(1, sizeof(struct virt_query));
}

static void forget_domains(struct virt_query *q)
{
	size_t k;

	for (k = 0; k < q->nslots; k++)
		if (q->slots[k].dom)
			VIRT_LIB(virDomainFree)(q->slots[k].dom);
	free(q->slots);
	q->slots = NULL;
	q->nslots = q->used = 0;
	q->listed_usec = 0;
}

void virt_query_drop(struct virt_query *q)
{
	if (!q)
		return;
	forget_domains(q);
	if (q->conn)
		VIRT_LIB(virConnectClose)(q->conn);
	q->conn = NULL;
}

void virt_query_free(struct virt_query *q)
{
	if (!q)
		return;
	virt_query_drop(q);
	free(q);
}

virConnectPtr virt_query_conn(struct virt_query *q, const char *uri, unsigned gen)
{
	if (!q)
		return NULL;
	if (q->conn && q->gen == gen)
		return q->conn;
	virt_query_drop(q); /* of an older events connection */
	virt_event_unwatched_begin();
	q->conn = VIRT_LIB(virConnectOpenReadOnly)(uri);
	virt_event_unwatched_end();
	if (!q->conn) {
		log_debug(LOG_SUBSYS_VIRT, "query connection: %s", virt_last_error());
		return NULL;
	}
	q->gen = gen;
	return q->conn;
}

static size_t slot_of(const struct virt_query *q, const uint8_t uuid[16])
{
	uint64_t h;

	memcpy(&h, uuid, sizeof(h)); /* random bits already */
	return (size_t)(h ^ (h >> 29)) & (q->nslots - 1);
}

static struct vq_slot *find_slot(const struct virt_query *q, const uint8_t uuid[16])
{
	size_t k;

	if (!q->nslots)
		return NULL;
	for (k = slot_of(q, uuid);; k = (k + 1) & (q->nslots - 1))
		if (!q->slots[k].dom || !memcmp(q->slots[k].uuid, uuid, 16))
			return &q->slots[k];
}

static bool grow(struct virt_query *q)
{
	struct vq_slot *old = q->slots, *s;
	size_t n = q->nslots ? q->nslots * 2 : 64, k, oldn = q->nslots;

	q->slots = calloc(n, sizeof(*q->slots));
	if (!q->slots) {
		q->slots = old;
		return false;
	}
	q->nslots = n;
	for (k = 0; k < oldn; k++)
		if (old[k].dom) {
			s = find_slot(q, old[k].uuid);
			*s = old[k];
		}
	free(old);
	return true;
}

void virt_query_keep(struct virt_query *q, virDomainPtr dom)
{
	uint8_t uuid[16];
	struct vq_slot *s;

	if (VIRT_LIB(virDomainGetUUID)(dom, uuid) < 0) {
		VIRT_LIB(virDomainFree)(dom);
		return;
	}
	s = find_slot(q, uuid);
	if (s && s->dom) { /* the one we have is as good */
		VIRT_LIB(virDomainFree)(dom);
		return;
	}
	if (q->used >= VIRT_QUERY_DOMS_MAX)
		forget_domains(q);
	if ((q->used + 1) * 2 > q->nslots && !grow(q)) {
		VIRT_LIB(virDomainFree)(dom);
		return;
	}
	s = find_slot(q, uuid);
	memcpy(s->uuid, uuid, 16);
	s->dom = dom;
	q->used++;
}

static void keep_all(struct virt_query *q)
{
	virDomainPtr *doms = NULL;
	int n, k;

	q->listed_usec = virt_now_usec();
	n = VIRT_LIB(virConnectListAllDomains)(q->conn, &doms, 0);
	for (k = 0; k < n; k++)
		virt_query_keep(q, doms[k]);
	free(doms);
}

virDomainPtr virt_query_domain(struct virt_query *q, const uint8_t uuid[16])
{
	struct vq_slot *s = find_slot(q, uuid);
	virDomainPtr dom;

	if (s && s->dom)
		return s->dom;
	if (!q->listed_usec || virt_now_usec() - q->listed_usec >= VIRT_QUERY_LIST_GAP_USEC) {
		keep_all(q);
		s = find_slot(q, uuid);
		if (s && s->dom)
			return s->dom;
	}
	dom = VIRT_LIB(virDomainLookupByUUID)(q->conn, uuid);
	if (!dom)
		return NULL;
	virt_query_keep(q, dom);
	s = find_slot(q, uuid);
	return s && s->dom == dom ? dom : NULL;
}
