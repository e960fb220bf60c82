// SPDX-License-Identifier: MIT
/*
 * binder — names and small helpers around the binder model (binder.h).
 * Must not: do I/O or know any backend.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "binder.h"
#include "vhost_zcrx.h"

#define ABI_SAME(a, b) _Static_assert((long long)(a) == (long long)(b), #a " is the ABI's " #b)
ABI_SAME(BINDER_STATE_PENDING, VHOST_ZCRX_STATE_PENDING);
ABI_SAME(BINDER_STATE_ACTIVE, VHOST_ZCRX_STATE_ACTIVE);
ABI_SAME(BINDER_STATE_DEGRADED, VHOST_ZCRX_STATE_DEGRADED);
ABI_SAME(BINDER_STATE_BROKEN, VHOST_ZCRX_STATE_BROKEN);
ABI_SAME(BINDER_FALLBACK_DROP, VHOST_ZCRX_FALLBACK_DROP);
ABI_SAME(BINDER_FALLBACK_COPY, VHOST_ZCRX_FALLBACK_COPY);
ABI_SAME(BINDER_FEATURE_NEEDS_HDS, VHOST_ZCRX_F_NEEDS_HDS);
ABI_SAME(BINDER_FEATURE_COPY_FALLBACK, VHOST_ZCRX_F_COPY_FALLBACK);
ABI_SAME(BINDER_REASON_MSG_MAX, VHOST_ZCRX_REASON_MSG_MAX);
#undef ABI_SAME

static const char *const state_names[] = {
	[BINDER_STATE_PENDING] = "pending",
	[BINDER_STATE_ACTIVE] = "active",
	[BINDER_STATE_DEGRADED] = "degraded",
	[BINDER_STATE_BROKEN] = "broken",
};

const char *binder_state_name(enum binder_state s)
{
	if ((unsigned)s < sizeof(state_names) / sizeof(state_names[0]))
		return state_names[s];
	return "unknown";
}

int binder_state_from_name(const char *s, enum binder_state *ret)
{
	for (unsigned i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
		if (s && strcmp(s, state_names[i]) == 0) {
			*ret = (enum binder_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool binder_refusal_is_nic_wide(int err)
{
	return err == EOPNOTSUPP || err == ENOENT;
}

const char *binder_fallback_name(uint32_t fallback)
{
	switch (fallback) {
	case BINDER_FALLBACK_DROP:
		return "drop";
	case BINDER_FALLBACK_COPY:
		return "copy";
	}
	return "unknown";
}

const char *binder_event_type_name(enum binder_event_type t)
{
	switch (t) {
	case BINDER_EVENT_STATE:
		return "state";
	case BINDER_EVENT_GONE:
		return "gone";
	case BINDER_EVENT_APPEARED:
		return "appeared";
	case BINDER_EVENT_VANISHED:
		return "vanished";
	case BINDER_EVENT_RESYNC:
		return "resync";
	}
	return "unknown";
}

const char *binder_features_format(uint64_t features, char *buf, size_t size)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
		{ BINDER_FEATURE_NEEDS_HDS, "needs-hds" },
		{ BINDER_FEATURE_COPY_FALLBACK, "copy-fallback" },
	};
	size_t n = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(features & names[i].bit))
			continue;
		features &= ~names[i].bit;
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? "," : "",
				      names[i].name);
	}
	if (features)
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s0x%llx", n ? "," : "",
				      (unsigned long long)features);
	if (!n)
		snprintf(buf, size, "none");
	return buf;
}
