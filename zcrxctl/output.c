// SPDX-License-Identifier: MIT
/*
 * output — tables, key/value lines and JSON for zcrxctl.  One reply feeds
 * both renderings; --json prints the reply's parameters as they came.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

struct ctl_table {
	size_t ncols, nrows, cap;
	char **cells; /* nrows+1 rows (header first) × ncols */
};

struct ctl_table *ctl_table_new(size_t ncols, const char *const *headers)
{
	struct ctl_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	ctl_table_add(t, headers);
	return t;
}

void ctl_table_add(struct ctl_table *t, const char *const *cells)
{
	size_t i;

	if (!t)
		return;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **v = realloc(t->cells, cap * t->ncols * sizeof(*v));

		if (!v)
			return;
		t->cells = v;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = strdup(cells[i] ? cells[i] : "-");
	t->nrows++;
}

void ctl_table_print(struct ctl_table *t, FILE *f, bool legend)
{
	size_t *w, r, c;

	if (!t)
		return;
	w = calloc(t->ncols, sizeof(*w));
	if (!w)
		return;
	for (r = legend ? 0 : 1; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t n = strlen(t->cells[r * t->ncols + c] ? t->cells[r * t->ncols + c] : "");

			if (n > w[c])
				w[c] = n;
		}
	for (r = legend ? 0 : 1; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c] ? t->cells[r * t->ncols + c] : "";

			if (c + 1 == t->ncols)
				fprintf(f, "%s", s);
			else
				fprintf(f, "%-*s  ", (int)w[c], s);
		}
		fputc('\n', f);
	}
	free(w);
}

void ctl_table_free(struct ctl_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void ctl_print_kv(FILE *f, const char *key, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "%-14s ", key);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

const char *ctl_format_duration(long long usec, char *buf, size_t size)
{
	long long s = usec / 1000000;

	if (s >= 86400)
		snprintf(buf, size, "%lldd %lldh %lldm", s / 86400, s % 86400 / 3600, s % 3600 / 60);
	else if (s >= 3600)
		snprintf(buf, size, "%lldh %lldm %llds", s / 3600, s % 3600 / 60, s % 60);
	else if (s >= 60)
		snprintf(buf, size, "%lldm %llds", s / 60, s % 60);
	else
		snprintf(buf, size, "%lld.%03llds", s, usec / 1000 % 1000);
	return buf;
}

void ctl_print_json(struct ctl *ctl, json_object *o)
{
	int flags = ctl->output == CTL_OUTPUT_JSON_SHORT ? JSON_C_TO_STRING_PLAIN
							  : JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED;

	fprintf(ctl->out, "%s\n",
		json_object_to_json_string_ext(o, flags | JSON_C_TO_STRING_NOSLASHESCAPE));
}

json_object *ctl_json_get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *ctl_json_str(json_object *o, const char *key, const char *def)
{
	json_object *v = ctl_json_get(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

long long ctl_json_int(json_object *o, const char *key, long long def)
{
	json_object *v = ctl_json_get(o, key);

	return v && json_object_is_type(v, json_type_int) ? (long long)json_object_get_int64(v) : def;
}

bool ctl_json_bool(json_object *o, const char *key, bool def)
{
	json_object *v = ctl_json_get(o, key);

	return v && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : def;
}

/* Whether word is one of the comma-separated words of list. */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p))
		if (!strncmp(p, word, n) && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

const char *ctl_zero_copy(json_object *attachment, char *buf, size_t size)
{
	json_object *bindings = ctl_json_get(attachment, "bindings");
	json_object *queues = ctl_json_get(attachment, "queues");
	size_t i, n = bindings ? json_object_array_length(bindings) : 0, len = 0;
	size_t n_q = queues ? json_object_array_length(queues) : 0;

	if (!size)
		return n ? "" : "no";
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *st = ctl_json_str(json_object_array_get_idx(bindings, i), "state", "?");

		if (has_word(buf, st))
			continue;
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s", len ? "," : "",
					st);
	}
	if (n && n < n_q)
		snprintf(buf + len, len < size ? size - len : 0, ",no");
	return n ? buf : "no";
}
