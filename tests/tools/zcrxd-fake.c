// SPDX-License-Identifier: MIT
/*
 * zcrxd-fake — TEST-ONLY: zcrxd's manager (the same code as build/zcrxd)
 * with test doubles where no real part exists here:
 *
 *   - the fake NIC backend of tests/lib/fake-nic.c instead of the kernel,
 *     for the daemon-level tests of what no kernel here offers (ntuple
 *     rules, RSS contexts).  The fake "kernel" lives in --fake-state FILE
 *     so that it survives the daemon being killed (crash tests).
 *     --kernel-nics keeps the kernel's NICs instead.
 *   - --fake-binder SOCKET: the binder's production backend (binder-vhost,
 *     the same messages) talking to a fake vhost_zcrx module
 *     (tests/tools/fake-vhost-zcrx) over that unix socket instead of
 *     generic netlink.  zcrxd itself has no way to do this.
 *
 * Never installed.
 *
 *   zcrxd-fake --fake-state FILE|--fake-volatile|--kernel-nics
 *              [--fake-nic NAME:SHAPE[,k=v...]]... [--fake-binder SOCKET]
 *              [--fake-fail-at N[:ERRNO]] [--fake-plan-fails NIC]
 *              [zcrxd options: --config --runtime-dir --state-dir --debug]
 *
 * --fake-nic only applies when FILE does not exist yet (first start).
 * --fake-fail-at N[:ERRNO] makes the N-th mutating call to the fake kernel
 * fail (default EIO), e.g. the first reconcile's.
 * --fake-plan-fails NIC makes the planner fail for NIC with ENOMEM, the one
 * way the real one fails (plan_nic() returns -ENOMEM when an allocation
 * fails): this program is linked with -Wl,--wrap=plan_nic (Makefile), and
 * __wrap_plan_nic below answers for NIC; every other NIC is planned by the
 * real planner.
 *
 * Changes "from outside" (behind zcrxd's back): on SIGUSR1 the daemon
 * applies the lines of FILE.outside to the fake kernel and removes the
 * file.  Lines: "rule-delete NIC LOC", "context-delete NIC ID",
 * "channels NIC COMBINED RX", "ntuple NIC 0|1", and "provider NIC QUEUE
 * BITS" (a consumer binding a memory provider: enum nic_provider bits, 0 =
 * it went away).  A provider change is followed by what the kernel's
 * netdev page-pool notification makes zcrxd do: re-read the NIC's queues.
 * "add SPEC" (a --fake-nic spec: a vNIC's macvtap appears,
 * "NAME:macvtap,lower=NIC,mac=MAC[,ifindex=N]") and "del NAME" (it goes
 * away) are followed by a relisting, as rtnetlink's notifications would.
 *
 * Kernel calls that hang (the bound of kcall.h): "hang OP NIC" makes the
 * next call OP (set-channels, rule-insert, observe) on NIC block before it
 * reaches the fake kernel, as a driver sleeping in its ethtool handler
 * would; "release" lets it go on (this waits until it has left the fake
 * kernel, so the two threads never change it at once).
 * --kernel-call-bound-ms N sets the bound (default: zcrxd's), and the
 * bound past which the state's commit sync is reported overdue.
 * "hang fdatasync" holds the next fdatasync made off the loop thread (the
 * state log's commit or an intent's, on zcrxd's syncer thread) the same
 * way, as a slow disk would; the log says "holding fdatasync" once it is
 * held ("hang fdatasync N": the N-th from now).  "hang fsync" holds the
 * next fsync made off the loop thread (a compaction's first: its
 * snapshot's), "holding fsync".
 * "slow-fsync MS" makes every fsync and fdatasync (the state directory's,
 * on any thread) take MS ms longer, as a slow disk would ("slow-fsync 0":
 * as it is).
 * This program is linked with -Wl,--wrap=fdatasync,--wrap=fsync
 * (Makefile) for them.
 *
 * Crash tests: ZCRX_FAULT=<point>:<n> kills this daemon with SIGKILL the
 * n-th time the change in progress reaches <point> (intent, before-op,
 * after-op, undo, saved; see reconcile_test_point in reconcile.h).  Only
 * this test binary reads that variable: it replaces zcrxd's no-op
 * reconcile_test_point with the one below.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "binder-vhost.h"
#include "daemon.h"
#include "fake-nic.h"
#include "log.h"
#include "manager.h"
#include "nic-monitor.h"
#include "plan.h"
#include "reconcile.h"

static char fault_point[16];
static unsigned long fault_n, fault_seen;

static void fault_arm(void)
{
	const char *f = getenv("ZCRX_FAULT"), *colon;

	if (!f || !*f)
		return;
	colon = strchr(f, ':');
	snprintf(fault_point, sizeof(fault_point), "%.*s",
		 colon ? (int)(colon - f) : (int)strlen(f), f);
	fault_n = colon ? strtoul(colon + 1, NULL, 10) : 1;
	log_warning(LOG_SUBSYS_MAIN, "test fault point armed: %s:%lu", fault_point, fault_n);
}

void reconcile_test_point(const char *point)
{
	if (!fault_n || strcmp(point, fault_point))
		return;
	if (++fault_seen == fault_n) {
		log_notice(LOG_SUBSYS_MAIN, "ZCRX_FAULT: %s:%lu reached, killing myself", point,
			   fault_n);
		raise(SIGKILL);
	}
}

/* --- kernel calls that hang ------------------------------------------------------------ */

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char op[32];
	int ifindex;
	unsigned skip;
	bool armed, holding, inside, release;
} gate = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static const struct nic_ops *fake_ops;
static struct nic_ops gated_ops;

/* On the calls' worker thread: hold a call that the test armed. */
static void gate_enter(const char *op, int ifindex)
{
	pthread_mutex_lock(&gate.mu);
	if (gate.armed && !strcmp(gate.op, op) && gate.ifindex == ifindex && gate.skip) {
		gate.skip--; /* "hang OP N": the N-th */
	} else if (gate.armed && !strcmp(gate.op, op) && gate.ifindex == ifindex) {
		gate.armed = false;
		if (!ifindex) /* the state directory's */
			log_notice(LOG_SUBSYS_MAIN, "holding %s off the loop thread (TEST ONLY)", op);
		gate.holding = true;
		pthread_cond_broadcast(&gate.cv);
		while (!gate.release)
			pthread_cond_wait(&gate.cv, &gate.mu);
		gate.release = false;
		gate.holding = false;
		gate.inside = true;
	}
	pthread_mutex_unlock(&gate.mu);
}

static void gate_leave(void)
{
	pthread_mutex_lock(&gate.mu);
	if (gate.inside) {
		gate.inside = false;
		pthread_cond_broadcast(&gate.cv);
	}
	pthread_mutex_unlock(&gate.mu);
}

static int gate_arm(const char *op, int ifindex, unsigned nth)
{
	if (strcmp(op, "set-channels") && strcmp(op, "rule-insert") && strcmp(op, "observe") &&
	    strcmp(op, "fdatasync") && strcmp(op, "fsync"))
		return -EINVAL;
	pthread_mutex_lock(&gate.mu);
	snprintf(gate.op, sizeof(gate.op), "%s", op);
	gate.ifindex = ifindex;
	gate.skip = nth > 1 ? nth - 1 : 0;
	gate.armed = true;
	pthread_mutex_unlock(&gate.mu);
	return 0;
}

/* On the loop: let the held call go on, and wait until it left the fake. */
static int gate_release(void)
{
	pthread_mutex_lock(&gate.mu);
	if (!gate.holding) {
		gate.armed = false;
		pthread_mutex_unlock(&gate.mu);
		return -ENOENT;
	}
	gate.release = true;
	pthread_cond_broadcast(&gate.cv);
	while (gate.holding || gate.inside)
		pthread_cond_wait(&gate.cv, &gate.mu);
	pthread_mutex_unlock(&gate.mu);
	return 0;
}

static int g_set_channels(void *be, const struct nic_id *id, const struct nic_channels_req *req,
			  struct kerror *err)
{
	int r;

	gate_enter("set-channels", id->ifindex);
	r = fake_ops->set_channels(be, id, req, err);
	gate_leave();
	return r;
}

static int g_rule_insert(void *be, const struct nic_id *id, struct nic_rule *rule,
			 struct kerror *err)
{
	int r;

	gate_enter("rule-insert", id->ifindex);
	r = fake_ops->rule_insert(be, id, rule, err);
	gate_leave();
	return r;
}

static int g_observe(void *be, struct nic *nic, unsigned what, struct kerror *err)
{
	int r;

	gate_enter("observe", nic->link.ifindex);
	r = fake_ops->observe(be, nic, what, err);
	gate_leave();
	return r;
}

/* Every fsync and fdatasync (the state directory's: a compaction's, a
 * commit's, an intent's; on any thread) slowed by "slow-fsync MS"; one
 * made off the loop thread (on zcrxd's syncer) can be held: "hang fsync"
 * (a compaction's first), "hang fdatasync" (a commit's or an intent's). */
static unsigned slow_fsync_ms;

static void slow_disk(void)
{
	unsigned ms = __atomic_load_n(&slow_fsync_ms, __ATOMIC_RELAXED);
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	if (ms)
		(void)nanosleep(&ts, NULL);
}

static int sync_gated(const char *op, int (*real)(int), int fd)
{
	int r;

	slow_disk();
	if (gettid() == getpid())
		return real(fd);
	gate_enter(op, 0);
	r = real(fd);
	gate_leave();
	return r;
}

int __real_fsync(int fd);
int __wrap_fsync(int fd);

int __wrap_fsync(int fd)
{
	return sync_gated("fsync", __real_fsync, fd);
}

int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);

int __wrap_fdatasync(int fd)
{
	return sync_gated("fdatasync", __real_fdatasync, fd);
}

static struct nic_backend gated(struct nic_backend be)
{
	fake_ops = be.ops;
	gated_ops = *be.ops;
	gated_ops.set_channels = g_set_channels;
	gated_ops.rule_insert = g_rule_insert;
	gated_ops.observe = g_observe;
	return (struct nic_backend){ .ops = &gated_ops, .be = be.be };
}

/* --- a planner that cannot plan one NIC ------------------------------------------------- */

static char plan_fails[32];

int __real_plan_nic(const struct plan_input *in, struct plan *ret);
int __wrap_plan_nic(const struct plan_input *in, struct plan *ret);

int __wrap_plan_nic(const struct plan_input *in, struct plan *ret)
{
	if (plan_fails[0] && !strcmp(in->nic->link.name, plan_fails)) {
		memset(ret, 0, sizeof(*ret)); /* as plan_nic() leaves it on a failure */
		return -ENOMEM;
	}
	return __real_plan_nic(in, ret);
}

struct outside {
	struct fake_net *net;
	struct manager *m;
	char path[4096];
};

static int ifindex_of(struct fake_net *net, const char *name)
{
	struct nic_backend be = fake_net_backend(net);
	struct nic_link *links = NULL;
	struct kerror e = { 0 };
	size_t n = 0, i;
	int ifindex = 0;

	if (be.ops->list_links(be.be, &links, &n, &e) < 0)
		return 0;
	for (i = 0; i < n && !ifindex; i++)
		if (!strcmp(links[i].name, name))
			ifindex = links[i].ifindex;
	free(links);
	return ifindex;
}

static int on_usr1(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct outside *o = userdata;
	char line[256], what[32], nic[IF_NAMESIZE], hop[32], hnic[IF_NAMESIZE];
	bool relisted = false;
	unsigned a, b;
	FILE *f = fopen(o->path, "re");

	while (f && fgets(line, sizeof(line), f)) {
		int n = sscanf(line, "%31s %15s %u %u", what, nic, &a, &b), ifindex, r = -EINVAL;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "hang %31s %u", hop, &a) >= 1 &&
		    (!strcmp(hop, "fdatasync") || !strcmp(hop, "fsync"))) {
			r = gate_arm(hop, 0, sscanf(line, "hang %*s %u", &a) == 1 ? a : 1);
		} else if (sscanf(line, "hang %31s %15s", hop, hnic) == 2) {
			r = (ifindex = ifindex_of(o->net, hnic)) ? gate_arm(hop, ifindex, 1) :
								   -ENODEV;
		} else if (!strcmp(line, "release")) {
			r = gate_release();
		} else if (!strcmp(what, "slow-fsync") && sscanf(line, "slow-fsync %u", &a) == 1) {
			__atomic_store_n(&slow_fsync_ms, a, __ATOMIC_RELAXED);
			r = 0;
		} else if (!strcmp(what, "add") && n >= 2) { /* add SPEC: a link appears (a macvtap) */
			r = fake_net_add_spec(o->net, line + 4);
			relisted = true;
		} else if (!strcmp(what, "del") && n == 2) { /* del NAME: it goes away */
			r = (ifindex = ifindex_of(o->net, nic)) ? fake_net_remove(o->net, ifindex) :
								  -ENODEV;
			relisted = true;
		} else if (n < 3 || !(ifindex = ifindex_of(o->net, nic)))
			r = -ENODEV;
		else if (!strcmp(what, "rule-delete"))
			r = fake_net_ext_rule_delete(o->net, ifindex, a);
		else if (!strcmp(what, "context-delete"))
			r = fake_net_ext_rss_delete(o->net, ifindex, a);
		else if (!strcmp(what, "channels") && n == 4)
			r = fake_net_ext_set_channels(o->net, ifindex, a, b);
		else if (!strcmp(what, "ntuple"))
			r = fake_net_ext_set_ntuple(o->net, ifindex, a != 0);
		else if (!strcmp(what, "provider") && n == 4) {
			r = fake_net_ext_set_provider(o->net, ifindex, a, b);
			if (r >= 0 && o->m->nic.monitor) /* the page-pool notification */
				(void)nic_monitor_refresh(o->m->nic.monitor, ifindex,
							  NIC_OBSERVE_QUEUES);
		}
		log_notice(LOG_SUBSYS_MAIN, "outside change '%.*s': %s", (int)strcspn(line, "\n"),
			   line, r < 0 ? strerror(-r) : "done");
	}
	if (f)
		fclose(f);
	/* links came or went: what rtnetlink's notifications would tell */
	if (relisted && o->m->nic.monitor)
		(void)nic_monitor_resync(o->m->nic.monitor);
	(void)unlink(o->path);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		DAEMON_OPTIONS,
		{ "fake-state", required_argument, NULL, 'F' },
		{ "fake-nic", required_argument, NULL, 'N' },
		{ "fake-volatile", no_argument, NULL, 'V' },
		{ "kernel-nics", no_argument, NULL, 'K' },
		{ "fake-binder", required_argument, NULL, 'B' },
		{ "fake-fail-at", required_argument, NULL, 'X' },
		{ "fake-plan-fails", required_argument, NULL, 'P' },
		{ "kernel-call-bound-ms", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct manager_options mo = {
		.config_path = "/nonexistent/zcrxd.conf",
		.runtime_dir = "/run/zcrx-fake",
		.state_dir = "/var/lib/zcrx-fake",
		.libvirt_uri = "none",
		.config_allow_missing = true,
	};
	const char *state = NULL, *specs[32], *binder = NULL;
	bool volatile_state = false, kernel_nics = false;
	unsigned fail_at = 0;
	int fail_err = EIO;
	size_t n_specs = 0, i;
	struct fake_net *net = NULL;
	static struct outside outside;
	struct manager *m = NULL;
	sd_event *ev = NULL;
	int c, r;

	log_open();
	while ((c = getopt_long(argc, argv, DAEMON_SHORT_OPTIONS, opts, NULL)) != -1) {
		const char *bad = NULL;

		r = daemon_option(c, optarg, &mo, &bad);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		switch (c) {
		case 'F': state = optarg; break;
		case 'V': volatile_state = true; break;
		case 'K': kernel_nics = true; break;
		case 'B': binder = optarg; break;
		case 'X': /* N[:ERRNO]: the N-th mutating call fails */
			if (sscanf(optarg, "%u:%d", &fail_at, &fail_err) < 1 || !fail_at || fail_err <= 0)
				return 2;
			break;
		case 'P':
			if (snprintf(plan_fails, sizeof(plan_fails), "%s", optarg) >=
			    (int)sizeof(plan_fails))
				return 2;
			break;
		case 'T': mo.kernel_call_bound_usec = strtoull(optarg, NULL, 10) * 1000; break;
		case 'N':
			if (n_specs < 32)
				specs[n_specs++] = optarg;
			break;
		default: return 2;
		}
	}
	if (!!state + volatile_state + kernel_nics != 1) {
		fprintf(stderr, "zcrxd-fake: one of --fake-state FILE, --fake-volatile, --kernel-nics "
			"is required\n");
		return 2;
	}
	if (binder) {
		r = binder_vhost_new_unix(binder, &mo.binder_vhost);
		if (r < 0) {
			fprintf(stderr, "zcrxd-fake: cannot reach the fake module at %s: %s\n", binder,
				strerror(-r));
			return 1;
		}
	}
	if (kernel_nics)
		goto run;
	if (fake_net_new(&net) < 0)
		return 1;
	r = state ? fake_net_set_file(net, state) : 0;
	if (r < 0) {
		fprintf(stderr, "zcrxd-fake: cannot read %s: %s\n", state, strerror(-r));
		return 1;
	}
	if (r == 0)
		for (i = 0; i < n_specs; i++)
			if (fake_net_add_spec(net, specs[i]) < 0) {
				fprintf(stderr, "zcrxd-fake: bad --fake-nic '%s'\n", specs[i]);
				return 2;
			}
	mo.nic_backend = gated(fake_net_backend(net));
	if (fail_at)
		fake_net_fail_at(net, fail_at, fail_err, "refused by --fake-fail-at");
run:
	fault_arm();

	daemon_tune_malloc();
	daemon_block_signals(SIGUSR1);
	if (sd_event_new(&ev) < 0 /* as zcrxd: not the default loop */)
		return 1;
	r = manager_new(ev, &mo, &m);
	if (r < 0) {
		fprintf(stderr, "zcrxd-fake: configuration %s is invalid\n", mo.config_path);
		sd_event_unref(ev);
		fake_net_free(net);
		return 1;
	}
	(void)daemon_watch_signals(ev, m);
	/* WATCHDOG=1 at half of WATCHDOG_USEC, as zcrxd does */
	(void)sd_event_set_watchdog(ev, true);
	if (state) {
		outside.net = net;
		outside.m = m;
		snprintf(outside.path, sizeof(outside.path), "%s.outside", state);
		(void)sd_event_add_signal(ev, NULL, SIGUSR1, on_usr1, &outside);
	}
	r = manager_start(m);
	if (r >= 0) {
		(void)sd_notify(0, "READY=1");
		log_notice(LOG_SUBSYS_MAIN, "zcrxd-fake (TEST ONLY: %s NICs, %s binder) started",
			   net ? "fake" : "kernel", binder ? "fake" : "kernel");
		manager_notify_status(m);
		log_notice(LOG_SUBSYS_MAIN, "zcrxd-fake (TEST ONLY, fake NIC backend) started");
		r = sd_event_loop(ev);
	}
	m = manager_free(m);
	sd_event_unref(ev);
	fake_net_free(net);
	return r < 0 ? 1 : 0;
}
