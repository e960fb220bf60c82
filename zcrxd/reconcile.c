// SPDX-License-Identifier: MIT
/*
 * reconcile — the attachment service's run loop (reconcile.h): loading
 * state.json, settling a crash's pending entries at start, the triggers
 * (drift timer, deferred NIC changes, binder changes, config reload).
 *
 * Owns: the store and state.json, the drift timer, counters, the named
 * points crash tests stop at (reconcile_test_point).  One NIC's run is in
 * reconcile-nic.c, requests in reconcile-request.c, refusals in
 * reconcile-refusal.c, listings in reconcile-json.c, the state's writes,
 * syncs and compactions in reconcile-commit.c.
 * Must not: speak Varlink, include libvirt, talk to the kernel other than
 * through the NIC monitor (observe) and exec (change).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "log.h"
#include "nic-monitor.h"
#include "reconcile-int.h"

/* --- small things -------------------------------------------------------------------- */

/* The production definition: nothing happens at these points.  Weak, so
 * that the test-only daemon can link its own (reconcile.h). */
__attribute__((weak)) void reconcile_test_point(const char *point)
{
	(void)point;
}

void reconcile_exec_point(void *ud, enum exec_point pt, size_t op)
{
	static const char *const names[] = { "intent", "before-op", "after-op", "undo" };

	reconcile_test_point(names[pt]);
}

/* The entries the plan being executed touches, marked for the log. */
void reconcile_mark_exec(struct reconcile *rc, const char *nic)
{
	size_t i;

	if (rc->exec_whole) {
		store_mark_nic(&rc->store, nic);
		return;
	}
	for (i = 0; i < rc->n_exec_owners; i++)
		store_mark(&rc->store, nic, rc->exec_owners[i]);
}

void reconcile_publish(struct reconcile *rc, const char *type, json_object *data)
{
	if (rc->d.events)
		events_publish(rc->d.events, type, data);
	else
		json_object_put(data);
}

/* Only build an event's JSON when someone listens. */
bool reconcile_listening(const struct reconcile *rc)
{
	return events_listening(rc->d.events);
}

struct rc_nic *reconcile_nic_state(struct reconcile *rc, const char *name)
{
	struct rc_nic *v;
	size_t i;

	for (i = 0; i < rc->n_nics; i++)
		if (!strcmp(rc->nics[i].name, name))
			return &rc->nics[i];
	v = realloc(rc->nics, (rc->n_nics + 1) * sizeof(*v));
	if (!v)
		return NULL;
	rc->nics = v;
	v = &rc->nics[rc->n_nics++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	return v;
}

void reconcile_overlay_learned(const struct reconcile *rc, const char *nic,
			       struct nic_caps *caps)
{
	size_t i;

	for (i = 0; i < rc->n_nics; i++)
		if (!strcmp(rc->nics[i].name, nic))
			nic_caps_overlay(caps, &rc->nics[i].learned);
}

/* --- which NICs are zcrxd's (DESIGN.md §14) --------------------------------------------------- */

/*
 * The one rule, used by the reconcile loop, the attach check, the binder's
 * capability entry and the metrics:
 *   - zcrxd changes a NIC only when [nic NAME] names it or something of its
 *     own (an attachment, a lease, a journal of what it made or changed)
 *     lives on it;
 *   - [nic *] gives defaults and claims nothing: its policy applies to a NIC
 *     while an attachment or lease lives there, and an attach may start
 *     that only on a device it covers: hardware (no IFLA_INFO_KIND), not lo.
 * No kind of virtual link (veth, macvtap, bridge, a test's fake) is special:
 * a NIC of any other kind is zcrxd's only when its own section names it.
 */
static bool default_covers(const struct nic *nic)
{
	return !nic->link.kind[0] && strcmp(nic->link.name, "lo");
}

static bool lives_on(const struct reconcile *rc, const char *name)
{
	size_t n;

	(void)store_atts_on(&rc->store, name, &n);
	return n > 0;
}

bool reconcile_nic_eligible(const struct reconcile *rc, const struct nic *nic,
			    struct config_nic *ret)
{
	const char *name = nic->link.name;

	if (config_nic_is_named(rc->d.config, name))
		return config_nic_policy(rc->d.config, name, ret);
	if (!default_covers(nic))
		return false;
	return config_nic_policy(rc->d.config, name, ret);
}

bool reconcile_nic_policy(const struct reconcile *rc, const struct nic *nic,
			  struct config_nic *ret)
{
	if (!reconcile_nic_eligible(rc, nic, ret))
		return false;
	return config_nic_is_named(rc->d.config, nic->link.name) || lives_on(rc, nic->link.name);
}

bool reconcile_wants(struct reconcile *rc, const struct nic *nic)
{
	const char *name = nic->link.name;

	return config_nic_is_named(rc->d.config, name) || lives_on(rc, name) ||
	       store_journal(&rc->store, name, 0, false);
}

bool reconcile_nic_in_scope(struct reconcile *rc, const struct nic *nic)
{
	struct config_nic pol;

	return rc && nic && (reconcile_wants(rc, nic) || reconcile_nic_eligible(rc, nic, &pol));
}

/* --- a vNIC's tap ------------------------------------------------------------------------------ */

const struct nic *reconcile_find_link(struct reconcile *rc, const char *name)
{
	const struct nic *l = nic_monitor_find(rc->d.monitor, name);
	int ifindex;

	if (l || !name[0] || rc->links_current)
		return l;
	/* made a moment ago, its notification not read yet: observe it now */
	ifindex = (int)if_nametoindex(name);
	if (ifindex <= 0 || nic_monitor_refresh(rc->d.monitor, ifindex, NIC_OBSERVE_ALL) < 0)
		return NULL;
	l = nic_monitor_get(rc->d.monitor, ifindex);
	return l && !strcmp(l->link.name, name) ? l : NULL;
}

const char *reconcile_tap_mismatch(const struct attach_id *id, const struct nic *tap, char *buf,
				   size_t size)
{
	char want[18], has[18];

	if (strcmp(tap->link.kind, "macvtap"))
		snprintf(buf, size, "%s is not a macvtap (it is %s%s)", tap->link.name,
			 tap->link.kind[0] ? "a " : "a device without a link kind",
			 tap->link.kind);
	else if (tap->link.link_netnsid >= 0 || tap->link.link_ifindex != id->nic_ifindex)
		snprintf(buf, size, "macvtap %s is not on %s", tap->link.name, id->nic);
	else if (memcmp(tap->link.mac, id->mac, NIC_MAC_LEN))
		snprintf(buf, size, "macvtap %s carries %s, not the vNIC's %s", tap->link.name,
			 nic_mac_format(tap->link.mac, has), nic_mac_format(id->mac, want));
	else
		return NULL;
	return buf;
}

/* Add name to the list of NICs to run, once; false when out of memory. */
static bool add_name(char (**v)[IF_NAMESIZE], size_t *n, size_t *cap, const char *name)
{
	size_t k;

	for (k = 0; k < *n; k++)
		if (!strcmp((*v)[k], name))
			return true;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		char(*p)[IF_NAMESIZE] = realloc(*v, c * sizeof(**v));

		if (!p)
			return false;
		*v = p;
		*cap = c;
	}
	snprintf((*v)[(*n)++], IF_NAMESIZE, "%s", name);
	return true;
}

/* keep_ops: the ops applied into out's plans (else only its failure) */
static int run_all(struct reconcile *rc, const char *why, struct reconcile_outcome *out,
		   bool keep_ops)
{
	struct kerror e = { 0 };
	char(*names)[IF_NAMESIZE] = NULL;
	size_t i, n = 0, cap = 0, failed = 0;
	int r = 0;

	log_debug(LOG_SUBSYS_MANAGER, "reconcile: %s", why);
	for (i = 0; i < nic_monitor_count(rc->d.monitor) && r == 0; i++) {
		const struct nic *nic = nic_monitor_at(rc->d.monitor, i);

		if (reconcile_wants(rc, nic) && !add_name(&names, &n, &cap, nic->link.name))
			r = kerror_set(&e, ENOMEM, NULL, "reconcile", NULL);
	}
	/* NICs that went away: their attachments wait, their journal stays */
	for (i = 0; i < rc->store.n_atts && r == 0; i++)
		if (!add_name(&names, &n, &cap, rc->store.atts[i].id.nic))
			r = kerror_set(&e, ENOMEM, NULL, "reconcile", NULL);
	if (r < 0) { /* the NICs listed so far run; the run says it is partial */
		log_error(LOG_SUBSYS_MANAGER, "reconcile: out of memory listing the NICs");
		failed = 1;
	}
	for (i = 0; i < n; i++) {
		struct kerror ke = { 0 };
		char buf[512];

		if (reconcile_run_nic(rc, names[i], PLAN_MODE_NORMAL, false, NULL,
				      keep_ops ? out : NULL, &ke) < 0) {
			log_nic(LOG_ERR, LOG_SUBSYS_MANAGER, names[i], "reconcile failed: %s",
				kerror_format_in(&ke, names[i], buf, sizeof(buf)));
			if (!failed++) {
				r = -ke.err;
				e = ke;
			}
		}
	}
	free(names);
	if (failed && out) {
		out->err = e;
		out->error_name = "io.zcrx.Manager.KernelError";
		out->n_failed_nics = failed;
	}
	return r;
}

int reconcile_all(struct reconcile *rc, const char *why, struct reconcile_outcome *out)
{
	return run_all(rc, why, out, true);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct reconcile *rc = userdata;
	size_t i;

	for (i = 0; i < rc->store.n_atts; i++)
		attach_unhold(&rc->store.atts[i]); /* retry what was refused */
	/* every link read again (rules have no notifications), the NICs of
	 * interest in full and in one hand-over to the NIC thread; the runs
	 * below plan on that reading instead of reading each NIC once more */
	if (rc->d.monitor)
		(void)nic_monitor_reread(rc->d.monitor);
	/* not refused binds (reconcile.h): their attachments work, and asking
	 * every interval would count a kernel error and warn each time */
	rc->interval_read = true;
	(void)reconcile_all(rc, "drift timer", NULL);
	rc->interval_read = false;
	if (rc->d.interval_sec)
		(void)sd_event_source_set_time_relative(s, (uint64_t)rc->d.interval_sec * 1000000u);
	(void)sd_event_source_set_enabled(s, rc->d.interval_sec ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
	return 0;
}

static int on_defer(sd_event_source *s, void *userdata)
{
	struct reconcile *rc = userdata;
	size_t i;

	/* what made the NICs dirty was read in an earlier turn of the loop */
	rc->links_since = NIC_CATCH_UP_TURN;
	for (i = 0; i < rc->n_nics; i++) {
		struct kerror e = { 0 };
		char name[IF_NAMESIZE], buf[512];

		if (!rc->nics[i].dirty)
			continue;
		snprintf(name, sizeof(name), "%s", rc->nics[i].name);
		if (reconcile_run_nic(rc, name, PLAN_MODE_NORMAL, false, NULL, NULL, &e) < 0)
			log_nic(LOG_ERR, LOG_SUBSYS_MANAGER, name, "reconcile failed: %s",
				kerror_format_in(&e, name, buf, sizeof(buf)));
	}
	rc->links_since = NIC_CATCH_UP_READ;
	return 0;
}

void reconcile_nic_changed(struct reconcile *rc, const char *nic)
{
	const struct nic *n = nic_monitor_find(rc->d.monitor, nic);
	struct rc_nic *rn;

	if (!rc || (n && !reconcile_wants(rc, n)) ||
	    (!n && !store_journal(&rc->store, nic, 0, false)))
		return;
	/* what a dry run's read found is no drift to act on now (a read-only
	 * caller never causes a change); a NIC gone is news either way */
	if (n && rc->dry_reading)
		return;
	rn = reconcile_nic_state(rc, nic);
	if (!rn)
		return;
	rn->dirty = true;
	if (rc->defer)
		(void)sd_event_source_set_enabled(rc->defer, SD_EVENT_ONESHOT);
}

void reconcile_queues_changed(struct reconcile *rc, const char *nic)
{
	if (!rc || rc->dry_reading) /* (reconcile_nic_changed) */
		return;
	reconcile_forget_refusals(rc, nic, NULL);
	reconcile_nic_changed(rc, nic);
}

void reconcile_binder_changed(struct reconcile *rc, const struct binder_event *ev)
{
	size_t i;

	if (!rc)
		return;
	/* a binding gone frees its queue and tap, the module (re)appearing or
	 * a resync may answer differently: refused binds are tried again */
	if (!ev || ev->type != BINDER_EVENT_STATE)
		reconcile_forget_refusals(rc, NULL, NULL);
	for (i = 0; i < rc->store.n_nics; i++)
		reconcile_nic_changed(rc, rc->store.nics[i].name);
}

void reconcile_config_changed(struct reconcile *rc)
{
	size_t i;

	for (i = 0; i < rc->store.n_atts; i++)
		attach_unhold(&rc->store.atts[i]);
	reconcile_forget_refusals(rc, NULL, NULL);
	rc->applying = true;
	(void)reconcile_all(rc, "configuration reloaded", NULL);
	rc->applying = false;
}

void reconcile_set_interval(struct reconcile *rc, unsigned interval_sec)
{
	rc->d.interval_sec = interval_sec;
	if (!rc->timer)
		return;
	if (interval_sec) {
		(void)sd_event_source_set_time_relative(rc->timer,
							(uint64_t)interval_sec * 1000000u);
		(void)sd_event_source_set_enabled(rc->timer, SD_EVENT_ONESHOT);
	} else {
		(void)sd_event_source_set_enabled(rc->timer, SD_EVENT_OFF);
	}
}

void reconcile_set_binder(struct reconcile *rc, struct binder_backend be)
{
	rc->binder = be;
}

/* --- lifecycle ------------------------------------------------------------------------------ */

/* For the monitor: the contexts zcrxd owns on nic, read by id where the
 * kernel cannot list them (nic_monitor_set_ctx_ids). */
static size_t owned_ctx_ids(const struct nic *nic, uint32_t *ids, size_t max, void *ud)
{
	struct reconcile *rc = ud;
	const struct journal_nic *j = store_journal(&rc->store, nic->link.name, nic->link.ifindex,
						    false);

	return j ? journal_ctx_ids_to_read(j, ids, max) : 0;
}

/* Read the state directory, migrate and compact it.  Files that do not
 * parse are moved aside (kept for a human) and zcrxd starts without them;
 * files that cannot be read stop the start: they may be intact and are the
 * only record of what zcrxd made on the NICs, which would otherwise become
 * foreign for good (DESIGN.md §14).  Also fails when nothing can be
 * written at all. */
static int open_state(struct reconcile *rc, struct kerror *err)
{
	const char *dir = rc->d.state_dir;
	struct store_read_info info;
	char buf[512];
	int r;

	if (!dir)
		return 0;
	r = store_log_open(dir, &rc->store, &rc->log, &info, err);
	if (r == -EBADMSG) {
		struct kerror q = { 0 };
		char moved[8500];

		log_error(LOG_SUBSYS_STORE, "%s", kerror_format(err, buf, sizeof(buf)));
		if (store_quarantine(dir, moved, sizeof(moved), &q) < 0) {
			*err = q;
			return -q.err;
		}
		log_error(LOG_SUBSYS_STORE, "moved %s aside to %s; starting without it: what it "
			  "recorded on the NICs is foreign to zcrxd now", STORE_FILE, moved);
		kerror_clear(err);
		r = store_log_open(dir, &rc->store, &rc->log, &info, err);
	} else if (r < 0) {
		struct kerror e = *err;

		return kerror_setf(err, e.err ? e.err : -r, e.obj, e.op[0] ? e.op : "load state",
				   "%s; not starting without it (it records what zcrxd made on the "
				   "NICs): fix the cause, or move the file away to start empty",
				   e.msg[0] ? e.msg : strerror(-r));
	}
	if (r < 0)
		return r;
	if (r > 0) {
		log_error(LOG_SUBSYS_STORE, "%s", kerror_format(err, buf, sizeof(buf)));
		kerror_clear(err);
	}
	if (info.dropped_bytes)
		log_notice(LOG_SUBSYS_STORE,
			   "%s/%s: dropped %llu byte(s) of a write that did not finish before "
			   "zcrxd stopped (never acknowledged)",
			   dir, STORE_LOG, (unsigned long long)info.dropped_bytes);
	if (info.schema == 1)
		log_notice(LOG_SUBSYS_STORE, "%s/%s: schema 1 migrated to schema %d", dir,
			   STORE_FILE, STORE_SCHEMA);
	log_info(LOG_SUBSYS_STORE,
		 "%zu attachment(s), %zu NIC journal(s) in %s (%llu log record(s) replayed)",
		 rc->store.n_atts, rc->store.n_nics, dir, (unsigned long long)info.records);
	return 0;
}

/* The NICs the monitor's interval re-read reads in full: those zcrxd
 * manages or owns something on, and every device without a kind (a
 * physical NIC: there are few).  Not the macvtaps of thousands of vNICs:
 * their links are still followed. */
static bool of_interest(const struct nic *nic, void *userdata)
{
	struct reconcile *rc = userdata;
	const char *name = nic->link.name, *kind = nic->link.kind;

	return !kind[0] || config_nic_is_named(rc->d.config, name) ||
	       store_journal(&rc->store, name, 0, false) ||
	       (strcmp(kind, "macvtap") && lives_on(rc, name));
}

int reconcile_new(const struct reconcile_deps *deps, struct reconcile **ret, struct kerror *err)
{
	struct reconcile *rc = calloc(1, sizeof(*rc));
	int r;

	if (!rc)
		return kerror_set(err, ENOMEM, NULL, "reconcile", NULL);
	rc->d = *deps;
	rc->ifsock = -1;
	store_init(&rc->store);
	r = open_state(rc, err);
	if (r < 0) {
		reconcile_free(rc);
		return r;
	}
	if (deps->monitor) { /* the journal is loaded: what it owns can be read */
		nic_monitor_set_ctx_ids(deps->monitor, owned_ctx_ids, rc);
		nic_monitor_set_interest(deps->monitor, of_interest, rc);
	}
	if (deps->event) {
		r = reconcile_commit_new(rc);
		if (r >= 0)
			r = sd_event_add_defer(deps->event, &rc->defer, on_defer, rc);
		if (r >= 0)
			r = sd_event_source_set_enabled(rc->defer, SD_EVENT_OFF);
		if (r >= 0)
			r = sd_event_add_time_relative(deps->event, &rc->timer, CLOCK_MONOTONIC,
						       (uint64_t)(deps->interval_sec ?
									  deps->interval_sec :
									  1) * 1000000u,
						       0, on_timer, rc);
		if (r >= 0)
			r = sd_event_source_set_enabled(rc->timer, deps->interval_sec ?
									    SD_EVENT_ONESHOT :
									    SD_EVENT_OFF);
		if (r < 0) {
			reconcile_free(rc);
			return kerror_set(err, -r, NULL, "reconcile timer", NULL);
		}
	}
	*ret = rc;
	return 0;
}

struct reconcile *reconcile_free(struct reconcile *rc)
{
	size_t i;

	if (!rc)
		return NULL;
	reconcile_batch_run(rc);
	/* the queue's array outlives a request refused before it was queued
	 * (reconcile_attach_queue grows it first) */
	free(rc->queued);
	rc->queued = NULL;
	if (rc->d.monitor) {
		nic_monitor_set_ctx_ids(rc->d.monitor, NULL, NULL);
		nic_monitor_set_interest(rc->d.monitor, NULL, NULL);
	}
	reconcile_commit_stop(rc);
	sd_event_source_disable_unref(rc->batch);
	free(rc->queued); /* an array an Attach refused at once left empty */
	sd_event_source_disable_unref(rc->sync_watch);
	sd_event_source_disable_unref(rc->timer);
	sd_event_source_disable_unref(rc->defer);
	for (i = 0; i < rc->n_nics; i++) {
		reconcile_unstage(rc, &rc->nics[i]); /* (a batch leaves none) */
		free(rc->nics[i].pool);
		free(rc->nics[i].shared);
		free(rc->nics[i].refused);
		attach_reasons_free(rc->nics[i].notes, rc->nics[i].n_notes);
	}
	free(rc->nics);
	free(rc->waiters);
	free(rc->inflight);
	free(rc->exec_owners);
	store_log_close(rc->log);
	store_clear(&rc->store);
	if (rc->ifsock >= 0)
		close(rc->ifsock);
	free(rc);
	return NULL;
}

bool reconcile_settle_pending(struct reconcile *rc, struct journal_nic *j, const char *why)
{
	const struct nic *nic;
	struct reconcile_binder_view bv;
	size_t n;

	if (!journal_nic_has_pending(j))
		return false;
	nic = nic_monitor_find(rc->d.monitor, j->name);
	store_mark_nic(&rc->store, j->name);
	if (!nic) {
		journal_drop_pending(j);
		return true;
	}
	reconcile_binder_view_fill(rc, nic, NULL, &bv);
	n = journal_resolve_pending(j, nic, bv.pb.bindings, bv.pb.n_bindings);
	reconcile_binder_view_clear(&bv);
	if (n)
		log_nic(LOG_NOTICE, LOG_SUBSYS_MANAGER, j->name, "adopted %zu object(s) made %s", n,
			why);
	rc->st.adopted += n;
	return true;
}

int reconcile_start(struct reconcile *rc, struct reconcile_outcome *out)
{
	size_t i;
	bool pending = false;
	int r;

	/* a crash between intent and commit: adopt what was made, drop the rest */
	for (i = 0; i < rc->store.n_nics; i++)
		pending |= reconcile_settle_pending(rc, &rc->store.nics[i],
						    "just before zcrxd stopped");
	if (pending)
		(void)reconcile_save(rc);
	rc->applying = true;
	/* the ops applied are not copied into out: its caller reads the
	 * failure alone, and with 4,096 attachments on 16 NICs the copies
	 * were every rule and lease of the host (2.9 MiB of 712-byte ops, 1.1
	 * MiB of 272-byte ones) held to the end of the run, in the heap,
	 * among what the run keeps */
	r = run_all(rc, "start", out, false);
	rc->applying = false;
	reconcile_commit_settle(rc);
	return r;
}
/* --- reading --------------------------------------------------------------------------------- */

size_t reconcile_count(const struct reconcile *rc)
{
	return rc->store.n_atts;
}

const struct attach *reconcile_at(const struct reconcile *rc, size_t i)
{
	return i < rc->store.n_atts ? &rc->store.atts[i] : NULL;
}

const struct store *reconcile_store(const struct reconcile *rc)
{
	return &rc->store;
}

struct reconcile_stats reconcile_get_stats(const struct reconcile *rc)
{
	struct reconcile_stats st = rc->st;

	if (rc->log) {
		struct store_log_stats ls = store_log_get_stats(rc->log);

		st.syncs = ls.syncs;
		st.compactions = ls.compactions;
		st.compaction_usec_max = ls.compaction_usec_max;
	}
	return st;
}
