// SPDX-License-Identifier: MIT
/*
 * verb-lease — lease, leases, unlease: queues for host zero-copy consumers
 * (io_uring zcrx, devmem TCP), and "lease ... -- CMD ARGS...", which holds a
 * lease for exactly CMD's lifetime: zcrxctl owns the lease (zcrxd holds
 * its pidfd, so the lease goes when zcrxctl goes, even by kill -9), CMD
 * gets SIGTERM when zcrxctl dies (PR_SET_PDEATHSIG), and zcrxctl exits with
 * CMD's status (128 + the signal when a signal ended it; 127 / 126 when it
 * could not be run).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"

enum {
	OPT_FLOW = 0x300,
	OPT_QUEUES,
	OPT_NAME,
};

const struct option ctl_lease_opts[] = {
	{ "flow", required_argument, NULL, OPT_FLOW },
	{ "queues", required_argument, NULL, OPT_QUEUES },
	{ "name", required_argument, NULL, OPT_NAME },
	{ NULL, 0, NULL, 0 },
};

/* "Error: NicUnsupported (header-split): ..." for the lease errors. */
static int report(struct ctl *ctl, const struct zcrx_error *e)
{
	const char *n = e->name;
	json_object *cap;

	if (e->kind != ZCRX_ERROR_REPLY || strncmp(n, "io.zcrx.Manager.", 16) ||
	    !strcmp(n, "io.zcrx.Manager.PermissionDenied"))
		return ctl_report_error(ctl, e);
	n += 16;
	if (e->parameters && json_object_object_get_ex(e->parameters, "capability", &cap))
		fprintf(ctl->err, "Error: %s (%s): %s\n", n, json_object_get_string(cap), e->message);
	else
		fprintf(ctl->err, "Error: %s: %s\n", n, e->message[0] ? e->message : n);
	return CTL_EXIT_REFUSED;
}

static const char *list_u32(json_object *a, char *buf, size_t size)
{
	size_t i, n = a ? json_object_array_length(a) : 0, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%lld", i ? "," : "",
					(long long)json_object_get_int64(json_object_array_get_idx(a, i)));
	return n ? buf : "-";
}

static const char *flow_text(json_object *f, char *buf, size_t size)
{
	int len = snprintf(buf, size, "%s:dport=%lld", ctl_json_str(f, "protocol", "?"),
			   ctl_json_int(f, "dport", 0));

	if (ctl_json_str(f, "dst", NULL) && len > 0 && (size_t)len < size)
		len += snprintf(buf + len, size - (size_t)len, ",dst=%s", ctl_json_str(f, "dst", ""));
	if (ctl_json_str(f, "src", NULL) && len > 0 && (size_t)len < size)
		len += snprintf(buf + len, size - (size_t)len, ",src=%s", ctl_json_str(f, "src", ""));
	if (ctl_json_get(f, "sport") && len > 0 && (size_t)len < size)
		snprintf(buf + len, size - (size_t)len, ",sport=%lld", ctl_json_int(f, "sport", 0));
	return buf;
}

static void print_leases(struct ctl *ctl, json_object *arr)
{
	static const char *const head[] = { "ID", "NAME", "NIC", "FLOW", "QUEUES", "RULES",
					    "CONTEXT", "OWNER", "STATE", "PROVIDER" };
	size_t i, n = arr ? json_object_array_length(arr) : 0;
	struct ctl_table *t = ctl_table_new(10, head);

	for (i = 0; i < n; i++) {
		json_object *l = json_object_array_get_idx(arr, i), *rs;
		char id[16], fl[160], q[256], rl[256], cx[16] = "-", own[32];
		const char *prov = ctl_json_str(l, "providers", "");
		const char *cells[10] = { id, ctl_json_str(l, "name", "?"), ctl_json_str(l, "nic", "?"),
					  flow_text(ctl_json_get(l, "flow"), fl, sizeof(fl)),
					  list_u32(ctl_json_get(l, "queues"), q, sizeof(q)),
					  list_u32(ctl_json_get(l, "rules"), rl, sizeof(rl)),
					  cx, own, ctl_json_str(l, "state", "?"), prov[0] ? prov : "-" };

		snprintf(id, sizeof(id), "%lld", ctl_json_int(l, "id", 0));
		if (ctl_json_get(l, "rss_context"))
			snprintf(cx, sizeof(cx), "%lld", ctl_json_int(l, "rss_context", 0));
		if (ctl_json_get(l, "pid"))
			snprintf(own, sizeof(own), "pid %lld", ctl_json_int(l, "pid", 0));
		else
			snprintf(own, sizeof(own), "name");
		ctl_table_add(t, cells);
		(void)rs;
	}
	ctl_table_print(t, ctl->out, ctl->legend);
	ctl_table_free(t);
	for (i = 0; i < n; i++) {
		json_object *l = json_object_array_get_idx(arr, i);
		json_object *rs = ctl_json_get(l, "reasons");
		size_t k;

		for (k = 0; rs && k < json_object_array_length(rs); k++)
			fprintf(ctl->out, "  %s: %s\n", ctl_json_str(l, "name", "?"),
				ctl_json_str(json_object_array_get_idx(rs, k), "message", ""));
	}
}

static void print_one(struct ctl *ctl, json_object *l)
{
	json_object *arr = json_object_new_array();

	json_object_array_add(arr, json_object_get(l));
	print_leases(ctl, arr);
	json_object_put(arr);
}

/* --- lease NIC ... [-- CMD ARGS...] ---------------------------------------------- */

static pid_t child = -1;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

/* Run argv with the lease in its environment; its exit status. */
static int run_cmd(struct ctl *ctl, json_object *l, char **argv)
{
	char ifindex[16], queues[512], lease[80];
	struct sigaction sa;
	pid_t parent = getpid();
	int status, r;

	snprintf(ifindex, sizeof(ifindex), "%lld", ctl_json_int(l, "ifindex", 0));
	list_u32(ctl_json_get(l, "queues"), queues, sizeof(queues));
	snprintf(lease, sizeof(lease), "%s", ctl_json_str(l, "name", ""));
	fflush(NULL);
	child = fork();
	if (child < 0) {
		fprintf(ctl->err, "zcrxctl: cannot start %s: %s\n", argv[0], strerror(errno));
		return 127;
	}
	if (child == 0) {
		/* CMD must not outlive the lease's owner */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(127);
		if (setenv("ZCRX_IFINDEX", ifindex, 1) < 0 || setenv("ZCRX_QUEUES", queues, 1) < 0 ||
		    setenv("ZCRX_LEASE", lease, 1) < 0)
			_exit(127);
		execvp(argv[0], argv);
		r = errno;
		fprintf(stderr, "zcrxctl: cannot run %s: %s\n", argv[0], strerror(r));
		_exit(r == ENOENT ? 127 : 126);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	while ((r = waitpid(child, &status, 0)) < 0 && errno == EINTR)
		;
	child = -1;
	if (r < 0)
		return 127;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 127;
}

int ctl_verb_lease(struct ctl *ctl, const struct ctl_args *a)
{
	const char *fs = ctl_args_get(a, OPT_FLOW), *v;
	bool with_cmd = a->dashdash >= 0;
	struct zcrx_error e = { 0 };
	struct zcrx_flow flow;
	json_object *p, *reply = NULL, *l;
	unsigned long queues = 1;
	char *end, id[16];
	int rc, status;

	if (with_cmd ? a->dashdash != 1 || a->argc < 2 : a->argc != 1)
		return ctl_usage_error(ctl, with_cmd ? "lease: NIC -- CMD [ARGS...]" :
						       "lease: one NIC (and '-- CMD' to run a command)");
	if (!fs)
		return ctl_usage_error(ctl, "lease: --flow tcp:dport=PORT[,dst=ADDR] is required");
	if (zcrx_flow_parse(fs, &flow, &e) < 0) {
		rc = ctl_usage_error(ctl, "%s", e.message);
		zcrx_error_clear(&e);
		return rc;
	}
	if ((v = ctl_args_get(a, OPT_QUEUES))) {
		errno = 0;
		queues = strtoul(v, &end, 10);
		if (errno || end == v || *end || queues < 1 || queues > ZCRX_LEASE_QUEUES_MAX)
			return ctl_usage_error(ctl, "--queues takes 1..%d, not '%s'",
					       ZCRX_LEASE_QUEUES_MAX, v);
	}
	/* with a command, this process owns the lease: it ends with us */
	p = zcrx_lease_params(a->argv[0], &flow, (unsigned)queues, ctl_args_get(a, OPT_NAME),
			      with_cmd ? ZCRX_LEASE_OWNER_PROCESS : ZCRX_LEASE_OWNER_NAME);
	rc = ctl_connect(ctl);
	if (rc) {
		json_object_put(p);
		return rc;
	}
	if (zcrx_call(ctl->conn, "io.zcrx.Manager.Lease", p, &reply, &e) < 0) {
		json_object_put(p);
		rc = report(ctl, &e);
		zcrx_error_clear(&e);
		return rc;
	}
	json_object_put(p);
	l = ctl_json_get(reply, "lease");
	if (ctl->output != CTL_OUTPUT_TABLE)
		ctl_print_json(ctl, reply);
	else if (!with_cmd && !ctl->quiet)
		print_one(ctl, l);
	if (!with_cmd) {
		json_object_put(reply);
		return CTL_EXIT_OK;
	}
	/* the daemon's connection is not needed while CMD runs */
	ctl->conn = zcrx_disconnect(ctl->conn);
	status = run_cmd(ctl, l, a->argv + 1);
	snprintf(id, sizeof(id), "%lld", ctl_json_int(l, "id", 0));
	json_object_put(reply);
	/* release now, so that the next start finds the queues free; zcrxd
	 * would release it anyway when this process exits */
	if (ctl_connect(ctl) == CTL_EXIT_OK &&
	    zcrx_lease_release(ctl->conn, id, &e) < 0 &&
	    strcmp(e.name, "io.zcrx.Manager.NoSuchLease")) {
		fprintf(ctl->err, "zcrxctl: releasing lease %s: ", id);
		(void)report(ctl, &e);
	}
	zcrx_error_clear(&e);
	return status;
}

int ctl_verb_leases(struct ctl *ctl, const struct ctl_args *a)
{
	json_object *p = ctl_params_nic(a->argc ? a->argv[0] : NULL), *r = NULL;
	int rc = ctl_call(ctl, "io.zcrx.Manager.ListLeases", p, &r);

	if (rc)
		return rc;
	if (ctl->output != CTL_OUTPUT_TABLE)
		ctl_print_json(ctl, r);
	else
		print_leases(ctl, ctl_json_get(r, "leases"));
	json_object_put(r);
	return CTL_EXIT_OK;
}

int ctl_verb_unlease(struct ctl *ctl, const struct ctl_args *a)
{
	struct zcrx_error e = { 0 };
	json_object *p, *reply = NULL;
	int rc = ctl_connect(ctl);

	if (rc)
		return rc;
	p = json_object_new_object();
	json_object_object_add(p, "lease", json_object_new_string(a->argv[0]));
	if (zcrx_call(ctl->conn, "io.zcrx.Manager.ReleaseLease", p, &reply, &e) < 0) {
		json_object_put(p);
		if (!strcmp(e.name, "io.zcrx.Manager.NoSuchLease"))
			fprintf(ctl->err, "Error: no lease '%s' (zcrxctl leases lists them)\n",
				a->argv[0]);
		rc = !strcmp(e.name, "io.zcrx.Manager.NoSuchLease") ? CTL_EXIT_REFUSED : report(ctl, &e);
		zcrx_error_clear(&e);
		return rc;
	}
	json_object_put(p);
	if (ctl->output != CTL_OUTPUT_TABLE)
		ctl_print_json(ctl, reply);
	else if (!ctl->quiet)
		fprintf(ctl->out, "released lease %lld '%s' on %s\n",
			ctl_json_int(ctl_json_get(reply, "lease"), "id", 0),
			ctl_json_str(ctl_json_get(reply, "lease"), "name", "?"),
			ctl_json_str(ctl_json_get(reply, "lease"), "nic", "?"));
	json_object_put(reply);
	return CTL_EXIT_OK;
}
