// SPDX-License-Identifier: MIT
/*
 * zcrxd — entry point: options, the event loop, signals, systemd
 * notification.  Everything else lives in the manager.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "daemon.h"
#include "jtext.h"
#include "log.h"
#include "manager.h"
#include "store.h"

#define DEFAULT_CONFIG ZCRX_SYSCONFDIR "/zcrx/zcrxd.conf"

static void usage(FILE *f)
{
	fputs("Usage: zcrxd [OPTIONS]\n"
	      "Zero-copy receive queue manager for KVM/libvirt hosts.\n\n"
	      "  -c, --config FILE          configuration file (default " DEFAULT_CONFIG ")\n"
	      "      --runtime-dir DIR      control socket directory (default " ZCRX_RUNDIR ")\n"
	      "      --state-dir DIR        state directory (default " ZCRX_STATEDIR ")\n"
	      "      --libvirt-uri URI|none libvirt connection, overrides LibvirtURI=\n"
	      "  -d, --debug[=SUBSYS,...]   debug logging (main,config,ipc,nic,plan,exec,store,\n"
	      "                             virt,binder,manager; default all)\n"
	      "      --check-config         validate the configuration and exit\n"
	      "      --print                with --check-config: print the normalized configuration\n"
	      "      --get SECTION.KEY      with --check-config: print one normalized value\n"
	      "                             (daemon.HookStrict, nic.eth0.Channels, nic.*.Channels)\n"
	      "      --dump-state           print the state directory's state (snapshot and log)\n"
	      "                             as one JSON document and exit; changes nothing\n"
	      "  -V, --version              print the version and exit\n"
	      "  -h, --help                 this text\n\n"
	      "See zcrxd(8) and zcrxd.conf(5).\n",
	      f);
}

/*
 * The value of one key as --print shows it: "daemon.KEY" or "nic.NAME.KEY"
 * (the last '.' separates the key: interface names may hold dots).  Read
 * from the normalized output itself, so that it is the configuration
 * zcrxd runs with — drop-ins merged, [nic *] applied — and not a second
 * reading of the file (the libvirt hook asks for daemon.HookStrict).
 * Returns 0 and prints the value, or 2 when there is no such key.
 */
static int print_value(const struct config *c, const char *path)
{
	const char *dot = strrchr(path, '.');
	char want[IF_NAMESIZE + 8], *text = NULL, *line, *save = NULL;
	bool in = false, found = false;
	size_t len = 0;
	FILE *f;

	if (!dot || dot == path || !dot[1])
		goto bad;
	if ((size_t)(dot - path) == strlen("daemon") && !strncmp(path, "daemon", 6))
		snprintf(want, sizeof(want), "[daemon]");
	else if (!strncmp(path, "nic.", 4) && dot - path > 4 && dot - path - 4 < IF_NAMESIZE)
		snprintf(want, sizeof(want), "[nic %.*s]", (int)(dot - path - 4), path + 4);
	else
		goto bad;
	f = open_memstream(&text, &len);
	if (!f)
		return 1;
	config_print(c, f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		const char *eq = strchr(line, '=');

		if (line[0] == '[')
			in = !strcmp(line, want);
		else if (in && eq && (size_t)(eq - line) == strlen(dot + 1) &&
			 !strncmp(line, dot + 1, (size_t)(eq - line))) {
			printf("%s\n", eq + 1);
			found = true;
		}
	}
	free(text);
	if (found)
		return 0;
bad:
	fprintf(stderr, "zcrxd: --get '%s': no such key (daemon.KEY or nic.NAME.KEY, "
			"as --check-config --print shows them)\n", path);
	return 2;
}

/* The state as zcrxd would load it, read-only: safe while zcrxd runs (a
 * record being written is a torn tail, left out). */
static int dump_state(const char *dir)
{
	struct store_read_info info;
	struct kerror e = { 0 };
	struct store s;
	json_object *o;
	const char *text = NULL;
	char buf[512];

	if (store_read_dir(dir, &s, &info, &e) < 0) {
		fprintf(stderr, "zcrxd: %s\n", kerror_format(&e, buf, sizeof(buf)));
		return 1;
	}
	o = store_to_json(&s);
	store_clear(&s);
	if (o) {
		json_object_object_add(o, "log_records",
				       json_object_new_int64((int64_t)info.records));
		json_object_object_add(o, "log_dropped_bytes",
				       json_object_new_int64((int64_t)info.dropped_bytes));
		/* written as zcrxd writes every JSON ("/" as it is, not "\/") */
		text = json_object_to_json_string_ext(o, JTEXT_JSON_FLAGS);
	}
	if (text)
		puts(text);
	else
		fputs("zcrxd: out of memory writing the state\n", stderr);
	json_object_put(o);
	return text ? 0 : 1;
}

static int check_config(const char *path, bool allow_missing, bool print, const char *get)
{
	struct config_diags d;
	struct config c;
	size_t i;
	int r;

	r = config_load(path, allow_missing, &c, &d);
	for (i = 0; i < d.n; i++) {
		if (d.v[i].line)
			fprintf(stderr, "%s:%u: %s\n", d.v[i].file, d.v[i].line, d.v[i].msg);
		else
			fprintf(stderr, "%s: %s\n", d.v[i].file, d.v[i].msg);
	}
	if (r == 0 && print)
		config_print(&c, stdout);
	if (r < 0)
		fprintf(stderr, "zcrxd: %zu problem%s in the configuration\n", d.n, d.n == 1 ? "" : "s");
	else if (get)
		r = print_value(&c, get) ? -ENOENT : 0;
	config_diags_free(&d);
	config_free(&c);
	return r == -ENOENT ? 2 : r < 0 ? 1 : 0;
}

/* The daemon proper: the event loop with the manager until a signal ends it. */
static int run(const struct manager_options *mo)
{
	struct manager *m = NULL;
	sd_event *ev = NULL;
	int r;

	(void)sd_notify(0, "STATUS=Starting");
	daemon_tune_malloc();
	daemon_block_signals(0);

	/* a loop of its own, not the thread's default: sd-event checks on
	 * every turn that a default loop runs in its thread, with a gettid
	 * system call (a few of them per libvirt event); nothing here asks
	 * for the default loop */
	r = sd_event_new(&ev);
	if (r < 0) {
		log_error(LOG_SUBSYS_MAIN, "cannot create the event loop: %s", strerror(-r));
		return 1;
	}
	r = manager_new(ev, mo, &m);
	if (r < 0) {
		log_error(LOG_SUBSYS_MAIN, "cannot start: configuration %s is invalid", mo->config_path);
		sd_event_unref(ev);
		return 1;
	}
	if (daemon_watch_signals(ev, m) < 0) {
		log_error(LOG_SUBSYS_MAIN, "cannot watch signals");
		r = -EIO;
		goto out;
	}
	/* Sends WATCHDOG=1 at half the interval when WATCHDOG_USEC is set. */
	(void)sd_event_set_watchdog(ev, true);

	r = manager_start(m);
	if (r < 0)
		goto out;
	(void)sd_notify(0, "READY=1");
	manager_notify_status(m);
	log_notice(LOG_SUBSYS_MAIN, "zcrxd %s started", ZCRX_VERSION);

	r = sd_event_loop(ev);
	if (r < 0)
		log_error(LOG_SUBSYS_MAIN, "event loop failed: %s", strerror(-r));
out:
	(void)sd_notify(0, "STOPPING=1");
	m = manager_free(m);
	sd_event_unref(ev);
	log_info(LOG_SUBSYS_MAIN, "stopped");
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		DAEMON_OPTIONS,
		{ "check-config", no_argument, NULL, 'C' },
		{ "print", no_argument, NULL, 'P' },
		{ "get", required_argument, NULL, 'G' },
		{ "dump-state", no_argument, NULL, 'D' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct manager_options mo = {
		.config_path = DEFAULT_CONFIG,
		.runtime_dir = ZCRX_RUNDIR,
		.state_dir = ZCRX_STATEDIR,
		/* A missing default config means "all defaults"; a named one
		 * (--config) must exist. */
		.config_allow_missing = true,
	};
	bool check = false, print = false, dump = false;
	const char *get = NULL;
	int c, r;

	log_open();
	while ((c = getopt_long(argc, argv, DAEMON_SHORT_OPTIONS "Vh", opts, NULL)) != -1) {
		const char *bad = NULL;

		r = daemon_option(c, optarg, &mo, &bad);
		if (r < 0) {
			fprintf(stderr, "zcrxd: unknown debug subsystem '%s'\n", bad ? bad : "?");
			return 2;
		}
		if (r > 0)
			continue;
		switch (c) {
		case 'C': check = true; break;
		case 'P': print = true; break;
		case 'G': get = optarg; break;
		case 'D': dump = true; break;
		case 'V': printf("zcrxd %s\n", ZCRX_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "zcrxd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if ((print || get) && !check) {
		fprintf(stderr, "zcrxd: --%s needs --check-config\n", print ? "print" : "get");
		return 2;
	}
	if (print && get) {
		fprintf(stderr, "zcrxd: --print and --get exclude each other\n");
		return 2;
	}
	if (mo.libvirt_uri && !*mo.libvirt_uri) {
		fprintf(stderr, "zcrxd: --libvirt-uri needs a URI or 'none'\n");
		return 2;
	}
	if (check)
		return check_config(mo.config_path, mo.config_allow_missing, print, get);
	if (dump)
		return dump_state(mo.state_dir);
	return run(&mo);
}
