// SPDX-License-Identifier: MIT
/*
 * ctl — zcrxctl's global options, verb dispatch, daemon calls and error
 * reporting.  Talks to zcrxd only through libzcrx.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define CTL_DEFAULT_TIMEOUT_MS 5000

static void usage(FILE *f)
{
	const struct ctl_verb *v;

	fputs("Usage: zcrxctl [OPTIONS] VERB [ARGS...]\n"
	      "Inspect and drive zcrxd, the zero-copy receive queue manager.\n\n"
	      "Options:\n"
	      "      --socket PATH        zcrxd's socket (default " ZCRX_DEFAULT_SOCKET ")\n"
	      "  -j, --json[=pretty|short] print the daemon's reply as JSON\n"
	      "  -t, --timeout SEC        give up after SEC seconds (default 5, 0 = never)\n"
	      "      --no-legend          no table headers\n"
	      "  -q, --quiet              print nothing on success\n"
	      "  -h, --help               this text\n"
	      "      --version            print zcrxctl's version\n\n"
	      "Verbs:\n",
	      f);
	for (v = ctl_verbs; v->name; v++)
		fprintf(f, "  %-40s %s\n", v->synopsis, v->help);
	fputs("\nExit status: 0 ok, 1 refused by zcrxd or the kernel, 2 usage error,\n"
	      "3 zcrxd unreachable or timed out.  See zcrxctl(8).\n",
	      f);
}

int ctl_usage_error(struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	fputs("zcrxctl: ", ctl->err);
	va_start(ap, fmt);
	vfprintf(ctl->err, fmt, ap);
	va_end(ap);
	fputs("\nTry 'zcrxctl --help'.\n", ctl->err);
	return CTL_EXIT_USAGE;
}

const struct ctl_verb *ctl_find_verb(const char *name)
{
	const struct ctl_verb *v;

	for (v = ctl_verbs; v->name; v++)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

int ctl_report_error(struct ctl *ctl, const struct zcrx_error *e)
{
	const char *sock = ctl->socket ? ctl->socket : ZCRX_DEFAULT_SOCKET;

	switch (e->kind) {
	case ZCRX_ERROR_UNREACHABLE:
		if (e->err == ENOENT || e->err == ECONNREFUSED)
			fprintf(ctl->err,
				"zcrxctl: zcrxd is not running (%s at %s); start it with "
				"'systemctl start zcrxd'\n",
				e->err == ENOENT ? "no socket" : "nothing listening", sock);
		else if (e->err == EBUSY)
			fprintf(ctl->err, "zcrxctl: %s; try again later\n", e->message);
		else if (e->err == EACCES || e->err == EPERM)
			fprintf(ctl->err,
				"zcrxctl: permission denied on %s; run as root or as a member of "
				"zcrxd's SocketGroup\n", sock);
		else
			fprintf(ctl->err, "zcrxctl: cannot reach zcrxd: %s\n", e->message);
		return CTL_EXIT_UNREACHABLE;
	case ZCRX_ERROR_TIMEOUT:
		fprintf(ctl->err,
			"zcrxctl: zcrxd did not answer within %u ms; it may be busy or hung "
			"(see 'journalctl -u zcrxd', or raise --timeout)\n", ctl->timeout_ms);
		return CTL_EXIT_UNREACHABLE;
	case ZCRX_ERROR_PROTOCOL:
		fprintf(ctl->err, "zcrxctl: %s\n", e->message);
		return CTL_EXIT_UNREACHABLE;
	case ZCRX_ERROR_LOCAL:
		fprintf(ctl->err, "zcrxctl: %s\n", e->message);
		return CTL_EXIT_REFUSED;
	case ZCRX_ERROR_REPLY:
		if (!strcmp(e->name, "io.zcrx.Manager.PermissionDenied"))
			fprintf(ctl->err, "Error: permission denied: %s\n",
				e->message[0] ? e->message : "needs root or the admin group");
		else if (e->message[0])
			fprintf(ctl->err, "Error: %s\n", e->message);
		else if (!strcmp(e->name, "org.varlink.service.MethodNotFound"))
			fprintf(ctl->err, "Error: zcrxd does not know this request (older daemon?)\n");
		else
			fprintf(ctl->err, "Error: %s\n", e->name);
		return CTL_EXIT_REFUSED;
	case ZCRX_ERROR_NONE:
		break;
	}
	fprintf(ctl->err, "zcrxctl: unknown error\n");
	return CTL_EXIT_REFUSED;
}

int ctl_connect(struct ctl *ctl)
{
	struct zcrx_error e = { 0 };
	int r;

	if (ctl->conn)
		return CTL_EXIT_OK;
	if (zcrx_connect(ctl->socket, ctl->timeout_ms, &ctl->conn, &e) < 0) {
		r = ctl_report_error(ctl, &e);
		zcrx_error_clear(&e);
		return r;
	}
	return CTL_EXIT_OK;
}

int ctl_call(struct ctl *ctl, const char *method, json_object *params, json_object **ret)
{
	struct zcrx_error e = { 0 };
	int r;

	r = ctl_connect(ctl);
	if (r) {
		json_object_put(params);
		return r;
	}
	r = zcrx_call(ctl->conn, method, params, ret, &e);
	json_object_put(params);
	if (r < 0) {
		r = ctl_report_error(ctl, &e);
		zcrx_error_clear(&e);
		return r;
	}
	return CTL_EXIT_OK;
}

int ctl_call_show(struct ctl *ctl, const char *method, json_object *params,
		  void (*render)(struct ctl *ctl, json_object *reply))
{
	json_object *r = NULL;
	int rc;

	rc = ctl_call(ctl, method, params, &r);
	if (rc)
		return rc;
	if (ctl->output != CTL_OUTPUT_TABLE)
		ctl_print_json(ctl, r);
	else
		render(ctl, r);
	json_object_put(r);
	return CTL_EXIT_OK;
}

json_object *ctl_params_nic(const char *nic)
{
	json_object *p = json_object_new_object();

	if (nic)
		json_object_object_add(p, "nic", json_object_new_string(nic));
	return p;
}

const char *ctl_args_get(const struct ctl_args *a, int id)
{
	const char *v = NULL;
	size_t i;

	for (i = 0; i < a->nopts; i++)
		if (a->opt[i].id == id)
			v = a->opt[i].val;
	return v;
}

bool ctl_args_has(const struct ctl_args *a, int id)
{
	size_t i;

	for (i = 0; i < a->nopts; i++)
		if (a->opt[i].id == id)
			return true;
	return false;
}

static int parse_timeout(const char *s, unsigned *ret);

/* Global options may also follow the verb ("zcrxctl status --json"). */
#define CTL_GLOBAL_BASE 0x10000
static const struct option global_opts[] = {
	{ "socket", required_argument, NULL, CTL_GLOBAL_BASE + 'S' },
	{ "json", optional_argument, NULL, CTL_GLOBAL_BASE + 'j' },
	{ "timeout", required_argument, NULL, CTL_GLOBAL_BASE + 't' },
	{ "no-legend", no_argument, NULL, CTL_GLOBAL_BASE + 'L' },
	{ "quiet", no_argument, NULL, CTL_GLOBAL_BASE + 'q' },
};
#define N_GLOBAL_OPTS (sizeof(global_opts) / sizeof(global_opts[0]))

static int apply_global(struct ctl *ctl, int c, const char *arg)
{
	switch (c) {
	case 'S': ctl->socket = arg; break;
	case 'j':
		if (!arg || !strcmp(arg, "pretty"))
			ctl->output = CTL_OUTPUT_JSON_PRETTY;
		else if (!strcmp(arg, "short"))
			ctl->output = CTL_OUTPUT_JSON_SHORT;
		else
			return ctl_usage_error(ctl, "--json takes 'pretty' or 'short', not '%s'", arg);
		break;
	case 't':
		if (parse_timeout(arg, &ctl->timeout_ms) < 0)
			return ctl_usage_error(ctl, "--timeout takes seconds, not '%s'", arg);
		break;
	case 'L': ctl->legend = false; break;
	case 'q': ctl->quiet = true; break;
	default: return ctl_usage_error(ctl, "unknown option");
	}
	return 0;
}

/* Split a verb's argv (argv[0] = verb) into options and positionals. */
static int parse_verb_args(struct ctl *ctl, const struct ctl_verb *v, int argc, char **argv,
			   struct ctl_args *ret)
{
	struct option opts[64];
	size_t n = 0, i;
	int c, r;

	memset(ret, 0, sizeof(*ret));
	for (i = 0; v->opts && v->opts[i].name && n < 64 - N_GLOBAL_OPTS - 1; i++)
		opts[n++] = v->opts[i];
	for (i = 0; i < N_GLOBAL_OPTS; i++)
		opts[n++] = global_opts[i];
	memset(&opts[n], 0, sizeof(opts[n]));
	ret->argv = calloc((size_t)argc + 1, sizeof(char *));
	if (!ret->argv)
		return ctl_usage_error(ctl, "out of memory");
	optind = 0;
	opterr = 0;
	/* '-' first: positionals come back as option 1, in order */
	while ((c = getopt_long(argc, argv, "-jq", opts, NULL)) != -1) {
		if (c == 1) {
			ret->argv[ret->argc++] = optarg;
			continue;
		}
		if (c == 'j' || c == 'q')
			c += CTL_GLOBAL_BASE;
		if (c >= CTL_GLOBAL_BASE) {
			r = apply_global(ctl, c - CTL_GLOBAL_BASE, optarg);
			if (r) {
				free(ret->argv);
				return r;
			}
			continue;
		}
		if (c == '?' || c == ':') {
			free(ret->argv);
			return ctl_usage_error(ctl, "'%s': option '%s' is unknown or needs an argument",
					       v->name, argv[optind - 1]);
		}
		if (ret->nopts == CTL_ARGS_MAX_OPTS) {
			free(ret->argv);
			return ctl_usage_error(ctl, "too many options");
		}
		ret->opt[ret->nopts].id = c;
		ret->opt[ret->nopts].val = optarg;
		ret->nopts++;
	}
	ret->dashdash = optind > 0 && optind <= argc && !strcmp(argv[optind - 1], "--") ?
				ret->argc :
				-1;
	for (i = (size_t)optind; i < (size_t)argc; i++) /* after "--" */
		ret->argv[ret->argc++] = argv[i];
	return 0;
}

static int parse_timeout(const char *s, unsigned *ret)
{
	double d;
	char *end;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || d < 0 || d > 86400)
		return -EINVAL;
	*ret = (unsigned)(d * 1000 + 0.5);
	return 0;
}

int ctl_main(int argc, char **argv, FILE *out, FILE *err)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "json", optional_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-legend", no_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl = {
		.timeout_ms = CTL_DEFAULT_TIMEOUT_MS,
		.legend = true,
		.out = out,
		.err = err,
	};
	const struct ctl_verb *v;
	struct ctl_args args;
	const char *env;
	int c, r;

	env = getenv("ZCRX_SOCKET");
	if (env && *env)
		ctl.socket = env;
	optind = 0; /* full reset: ctl_main may run several times in one process */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+jt:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
		case 'j':
		case 't':
		case 'L':
		case 'q':
			r = apply_global(&ctl, c, optarg);
			if (r)
				return r;
			break;
		case 'h': usage(out); return CTL_EXIT_OK;
		case 'V': fprintf(out, "zcrxctl %s\n", ZCRX_VERSION); return CTL_EXIT_OK;
		case '?':
			if (optopt)
				return ctl_usage_error(&ctl, "option '-%c' is unknown or needs an argument", optopt);
			return ctl_usage_error(&ctl, "unknown option '%s'", argv[optind - 1]);
		default:
			return ctl_usage_error(&ctl, "unknown option");
		}
	}
	if (optind >= argc)
		return ctl_usage_error(&ctl, "missing verb");
	v = ctl_find_verb(argv[optind]);
	if (!v)
		return ctl_usage_error(&ctl, "unknown verb '%s'", argv[optind]);
	r = parse_verb_args(&ctl, v, argc - optind, argv + optind, &args);
	if (r)
		return r;
	if (args.argc < v->min_args)
		r = ctl_usage_error(&ctl, "'%s' needs more arguments: zcrxctl %s", v->name, v->synopsis);
	else if (v->max_args >= 0 && args.argc > v->max_args)
		r = ctl_usage_error(&ctl, "too many arguments for '%s': zcrxctl %s", v->name, v->synopsis);
	else
		r = v->run(&ctl, &args);
	free(args.argv);
	ctl.conn = zcrx_disconnect(ctl.conn);
	fflush(out);
	return r;
}
