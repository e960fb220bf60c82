// SPDX-License-Identifier: MIT
/*
 * output — tables, key/value lines and JSON for zcrxctl.  One reply feeds
 * both renderings; --json prints the reply's parameters as they came.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "ctl.h"

/* Cells live in one growing arena (offsets, not pointers: it moves), so a
 * table of thousands of rows costs no allocation per cell. */
struct ctl_table {
	size_t ncols, nrows, cap;
	size_t *cell;  /* nrows+1 rows (header first) x ncols: offsets into text */
	uint32_t *len; /* their lengths */
	char *text;
	size_t text_len, text_cap;
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
		size_t *c = realloc(t->cell, cap * t->ncols * sizeof(*c));
		uint32_t *l;

		if (!c)
			return;
		t->cell = c;
		l = realloc(t->len, cap * t->ncols * sizeof(*l));
		if (!l)
			return;
		t->len = l;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++) {
		const char *s = cells[i] ? cells[i] : "-";
		size_t n = strlen(s);

		if (t->text_cap - t->text_len < n) {
			char *v = bigmem_grow(t->text, &t->text_cap, t->text_len + n, 4096);

			if (!v)
				return; /* the row is left out */
			t->text = v;
		}
		memcpy(t->text + t->text_len, s, n);
		t->cell[t->nrows * t->ncols + i] = t->text_len;
		t->len[t->nrows * t->ncols + i] = (uint32_t)n;
		t->text_len += n;
	}
	t->nrows++;
}

static void pad(FILE *f, size_t n)
{
	static const char spaces[] = "                                                                ";

	while (n) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		fwrite(spaces, 1, k, f);
		n -= k;
	}
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
		for (c = 0; c < t->ncols; c++)
			if (t->len[r * t->ncols + c] > w[c])
				w[c] = t->len[r * t->ncols + c];
	for (r = legend ? 0 : 1; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			size_t k = r * t->ncols + c;

			fwrite(t->text + t->cell[k], 1, t->len[k], f);
			if (c + 1 < t->ncols)
				pad(f, w[c] - t->len[k] + 2);
		}
		fputc('\n', f);
	}
	free(w);
}

void ctl_table_free(struct ctl_table *t)
{
	if (!t)
		return;
	free(t->cell);
	free(t->len);
	bigmem_free(t->text);
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

const char *ctl_zero_copy_of(const char *const *states, size_t n, size_t n_queues, char *buf,
			    size_t size)
{
	size_t i, len = 0;

	if (!size)
		return n ? "" : "no";
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (has_word(buf, states[i]))
			continue;
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s", len ? "," : "",
					states[i]);
	}
	if (n && n < n_queues)
		snprintf(buf + len, len < size ? size - len : 0, ",no");
	return n ? buf : "no";
}

const char *ctl_zero_copy(json_object *attachment, char *buf, size_t size)
{
	json_object *bindings = ctl_json_get(attachment, "bindings");
	json_object *queues = ctl_json_get(attachment, "queues");
	size_t i, n = bindings ? json_object_array_length(bindings) : 0;
	const char *st[64];

	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++)
		st[i] = ctl_json_str(json_object_array_get_idx(bindings, i), "state", "?");
	return ctl_zero_copy_of(st, n, queues ? json_object_array_length(queues) : 0, buf, size);
}

/* [6,7,8,10] -> "6-8,10" */
const char *ctl_ranges(const long long *v, size_t n, char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n && len < size; i++) {
		long long a = v[i], b = a;
		size_t k = i;

		while (k + 1 < n && v[k + 1] == b + 1) {
			b++;
			k++;
		}
		if (b > a)
			len += (size_t)snprintf(buf + len, size - len, "%s%lld-%lld", len ? "," : "", a,
						b);
		else
			len += (size_t)snprintf(buf + len, size - len, "%s%lld", len ? "," : "", a);
		i = k;
	}
	return buf[0] ? buf : "-";
}

void ctl_print_reason_of(FILE *f, const char *indent, const char *code, const char *op,
			 const char *message, const char *errno_name)
{
	const char *en = errno_name;

	fprintf(f, "%s%s: %s: %s%s%s%s\n", indent, code, op, message, en ? " (" : "", en ? en : "",
		en ? ")" : "");
}
