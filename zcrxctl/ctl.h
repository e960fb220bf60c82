/* SPDX-License-Identifier: MIT */
/*
 * zcrxctl — shared state of one invocation, the verb table, output helpers.
 *
 * Verbs return an exit status: CTL_EXIT_OK, CTL_EXIT_REFUSED (the daemon or
 * the kernel said no), CTL_EXIT_USAGE, CTL_EXIT_UNREACHABLE (no daemon, or it
 * did not answer in time).
 */
#pragma once

#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "zcrx.h"

enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_REFUSED = 1,
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_UNREACHABLE = 3,
};

enum ctl_output {
	CTL_OUTPUT_TABLE = 0,
	CTL_OUTPUT_JSON_PRETTY,
	CTL_OUTPUT_JSON_SHORT,
};

struct ctl {
	const char *socket;
	unsigned timeout_ms;
	enum ctl_output output;
	bool legend;
	bool quiet;
	FILE *out, *err;
	struct zcrx_conn *conn;
};

#define CTL_ARGS_MAX_OPTS 32

/* A verb's command line after option parsing. */
struct ctl_args {
	int argc;    /* positional arguments, the verb not counted */
	char **argv; /* argv[0] is the first positional argument */
	int dashdash; /* index in argv of the first argument after "--", -1: none */
	size_t nopts;
	struct {
		int id;          /* the option's `val` from the verb's table */
		const char *val; /* its argument, or NULL */
	} opt[CTL_ARGS_MAX_OPTS];
};

struct ctl_verb {
	const char *name;
	int min_args, max_args; /* positional arguments after the verb (-1 = any) */
	int (*run)(struct ctl *ctl, const struct ctl_args *args);
	const char *synopsis;
	const char *help;
	const struct option *opts; /* verb options (getopt_long table), or NULL */
};

/* The last value given for option id (NULL if absent or without argument). */
const char *ctl_args_get(const struct ctl_args *a, int id);
bool ctl_args_has(const struct ctl_args *a, int id);

/* The whole program; main() only calls this (tests call it too). */
int ctl_main(int argc, char **argv, FILE *out, FILE *err);

extern const struct ctl_verb ctl_verbs[];

/* Verbs living in verb-*.c files. */
int ctl_verb_nics(struct ctl *ctl, const struct ctl_args *a);   /* verb-nics.c */
int ctl_verb_queues(struct ctl *ctl, const struct ctl_args *a); /* verb-nics.c */
int ctl_verb_monitor(struct ctl *ctl, const struct ctl_args *a); /* verb-monitor.c */
int ctl_verb_metrics(struct ctl *ctl, const struct ctl_args *a); /* verb-monitor.c */
extern const struct option ctl_monitor_opts[];                   /* verb-monitor.c */
int ctl_verb_domains(struct ctl *ctl, const struct ctl_args *a); /* verb-domains.c */
/* verb-attach.c */
int ctl_verb_attach(struct ctl *ctl, const struct ctl_args *a);
int ctl_verb_detach(struct ctl *ctl, const struct ctl_args *a);
int ctl_verb_list(struct ctl *ctl, const struct ctl_args *a);
int ctl_verb_plan(struct ctl *ctl, const struct ctl_args *a);
int ctl_verb_rebalance(struct ctl *ctl, const struct ctl_args *a);
int ctl_verb_reconcile(struct ctl *ctl, const struct ctl_args *a);
int ctl_verb_release(struct ctl *ctl, const struct ctl_args *a);
/* verb-lease.c */
int ctl_verb_lease(struct ctl *ctl, const struct ctl_args *a);
int ctl_verb_leases(struct ctl *ctl, const struct ctl_args *a);
int ctl_verb_unlease(struct ctl *ctl, const struct ctl_args *a);
extern const struct option ctl_lease_opts[];
extern const struct option ctl_attach_opts[], ctl_detach_opts[], ctl_list_opts[],
	ctl_dry_opts[], ctl_rebalance_opts[];
const struct ctl_verb *ctl_find_verb(const char *name);

/* Connect lazily; on failure prints why and returns CTL_EXIT_UNREACHABLE. */
int ctl_connect(struct ctl *ctl);
/*
 * Call a method.  On success returns CTL_EXIT_OK and the reply parameters in
 * *ret (caller frees).  On failure prints a one-line message and returns
 * CTL_EXIT_REFUSED or CTL_EXIT_UNREACHABLE.  Takes ownership of params.
 */
int ctl_call(struct ctl *ctl, const char *method, json_object *params, json_object **ret);
/*
 * Call a method and show the reply: as it came with --json, else through
 * render (tables, key: value lines).  Takes ownership of params; returns the
 * exit code as ctl_call() does.
 */
int ctl_call_show(struct ctl *ctl, const char *method, json_object *params,
		  void (*render)(struct ctl *ctl, json_object *reply));
/* Parameters {"nic": nic}, or {} when nic is NULL. */
json_object *ctl_params_nic(const char *nic);
/* Print a failure from libzcrx in the project's form; returns the exit code. */
int ctl_report_error(struct ctl *ctl, const struct zcrx_error *e);
/* Print reply parameters as JSON (for --json). */
void ctl_print_json(struct ctl *ctl, json_object *o);
/* "Error: <text>" on stderr; returns CTL_EXIT_USAGE for usage problems. */
int ctl_usage_error(struct ctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Table output (output.c). */
struct ctl_table;
struct ctl_table *ctl_table_new(size_t ncols, const char *const *headers);
void ctl_table_add(struct ctl_table *t, const char *const *cells); /* ncols strings */
void ctl_table_print(struct ctl_table *t, FILE *f, bool legend);
void ctl_table_free(struct ctl_table *t);
/* key: value lines, aligned. */
void ctl_print_kv(FILE *f, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "1h 2m 3s" */
const char *ctl_format_duration(long long usec, char *buf, size_t size);

/* JSON accessors that tolerate missing fields (daemon may be newer/older). */
const char *ctl_json_str(json_object *o, const char *key, const char *def);
long long ctl_json_int(json_object *o, const char *key, long long def);
bool ctl_json_bool(json_object *o, const char *key, bool def);
json_object *ctl_json_get(json_object *o, const char *key);
/* Whether an Attachment is zero-copy: its bindings' states ("active",
 * "degraded,pending"), "no" when it has none, and ",no" after them when
 * some of its queues have none.  Returns buf or a constant. */
const char *ctl_zero_copy(json_object *attachment, char *buf, size_t size);
/* The same from the binding states and the count of queues (both forms of
 * a reply, json-c's and jtok's, go through it). */
const char *ctl_zero_copy_of(const char *const *states, size_t n, size_t n_queues, char *buf,
			    size_t size);
/* The attachment table (attach-table.c) from a reply read with jtok: arr
 * an array of Attachment, refused one of RefusedVnic (rows "refused"; -1
 * for none); the listing: ListAttachments' reply object. */
struct jtok_doc;
void ctl_print_attachments(struct ctl *ctl, const struct jtok_doc *d, int arr, int refused);
void ctl_print_listing(struct ctl *ctl, const struct jtok_doc *d, int reply);
void ctl_print_reason_doc(FILE *f, const char *indent, const struct jtok_doc *d, int r);
/* [6,7,8,10] -> "6-8,10"; "-" when empty. */
const char *ctl_ranges(const long long *v, size_t n, char *buf, size_t size);
/* "<indent>code: op: message (ERRNO)" and a newline. */
void ctl_print_reason_of(FILE *f, const char *indent, const char *code, const char *op,
			 const char *message, const char *errno_name);
