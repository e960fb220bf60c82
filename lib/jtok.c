// SPDX-License-Identifier: MIT
/*
 * jtok — a one-pass JSON reader for large replies (jtok.h).
 *
 * One loop over the text with an explicit stack of open containers; a
 * container's token gets its member count and its end (next) when it
 * closes.  Strings are unescaped by a write pointer that never passes the
 * read pointer, and end with a NUL where the text had the closing quote
 * (or earlier).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "jtok.h"
#include "utf8.h"

struct parser {
	struct jtok_doc *d;
	char *p, *end;
};

static int push(struct jtok_doc *d, enum jtok_type type, size_t off)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		struct jtok *t;

		if (cap > UINT32_MAX)
			return -E2BIG;
		t = bigmem_realloc(d->t, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		d->t = t;
		d->cap = cap;
	}
	d->t[d->n] = (struct jtok){ .type = (uint8_t)type, .off = (uint32_t)off };
	d->n++;
	return (int)(d->n - 1);
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r'))
		ps->p++;
}

/* At the opening quote: unescape in place, token at the start. */
static int string(struct parser *ps)
{
	char *start = ++ps->p, *w = start;
	int k;

	for (;;) {
		unsigned char c;

		if (ps->p >= ps->end)
			return -EBADMSG;
		c = (unsigned char)*ps->p;
		if (c == '"')
			break;
		if (c < 0x20)
			return -EBADMSG;
		if (c >= 0x80) {
			size_t n = utf8_seq_len((const unsigned char *)ps->p, (const unsigned char *)ps->end);

			if (!n)
				return -EBADMSG;
			memmove(w, ps->p, n);
			w += n;
			ps->p += n;
			continue;
		}
		if (c != '\\') {
			*w++ = (char)c;
			ps->p++;
			continue;
		}
		if (ps->end - ps->p < 2)
			return -EBADMSG;
		c = (unsigned char)ps->p[1];
		ps->p += 2;
		switch (c) {
		case '"': *w++ = '"'; break;
		case '\\': *w++ = '\\'; break;
		case '/': *w++ = '/'; break;
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'u': {
			uint32_t cp;
			size_t n = utf8_json_unescape((const unsigned char *)ps->p,
						      (const unsigned char *)ps->end, &cp);

			if (!n)
				return -EBADMSG;
			ps->p += n;
			w = utf8_put(w, cp);
			break;
		}
		default:
			return -EBADMSG;
		}
	}
	*w = '\0'; /* at or before the closing quote */
	ps->p++;
	k = push(ps->d, JTOK_STRING, (size_t)(start - ps->d->text));
	if (k < 0)
		return k;
	ps->d->t[k].len = (uint32_t)(w - start);
	ps->d->t[k].next = (uint32_t)k + 1;
	return k;
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

static int number(struct parser *ps)
{
	char *s = ps->p;
	int k;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end || !digit(*ps->p))
		return -EBADMSG;
	if (*ps->p == '0')
		ps->p++;
	else
		while (ps->p < ps->end && digit(*ps->p))
			ps->p++;
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (ps->p >= ps->end || !digit(*ps->p))
			return -EBADMSG;
		while (ps->p < ps->end && digit(*ps->p))
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || !digit(*ps->p))
			return -EBADMSG;
		while (ps->p < ps->end && digit(*ps->p))
			ps->p++;
	}
	k = push(ps->d, JTOK_NUMBER, (size_t)(s - ps->d->text));
	if (k >= 0) {
		ps->d->t[k].len = (uint32_t)(ps->p - s);
		ps->d->t[k].next = (uint32_t)k + 1;
	}
	return k;
}

static int literal(struct parser *ps, const char *word, enum jtok_type type)
{
	size_t n = strlen(word);
	int k;

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return -EBADMSG;
	k = push(ps->d, type, (size_t)(ps->p - ps->d->text));
	ps->p += n;
	if (k >= 0)
		ps->d->t[k].next = (uint32_t)k + 1;
	return k;
}

/* Where an object's member starts: its name (a token) and the colon. */
static int member_name(struct parser *ps)
{
	int k;

	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != '"')
		return -EBADMSG;
	k = string(ps);
	if (k < 0)
		return k;
	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p++ != ':')
		return -EBADMSG;
	return k;
}

int jtok_parse(struct jtok_doc *d, char *text, size_t len)
{
	struct parser ps = { .d = d, .p = text, .end = text + len };
	int stack[JTOK_DEPTH], depth = 0, k;

	memset(d, 0, sizeof(*d));
	d->text = text;
	if (len >= UINT32_MAX)
		return -E2BIG;
	/* a listing has a token per 9 bytes or so: room for it at once, not
	 * by doubling and copying (room not touched costs nothing, bigmem.h) */
	if (len / 8 > 256) {
		d->t = bigmem_realloc(NULL, len / 8 * sizeof(*d->t));
		if (!d->t)
			return -ENOMEM;
		d->cap = len / 8;
	}
	for (;;) {
		/* a value */
		skip_ws(&ps);
		if (ps.p >= ps.end)
			return -EBADMSG;
		switch (*ps.p) {
		case '{':
		case '[':
			if (depth == JTOK_DEPTH)
				return -E2BIG;
			k = push(d, *ps.p == '{' ? JTOK_OBJECT : JTOK_ARRAY, (size_t)(ps.p - text));
			if (k < 0)
				return k;
			ps.p++;
			stack[depth++] = k;
			skip_ws(&ps);
			if (ps.p < ps.end && *ps.p == (d->t[k].type == JTOK_OBJECT ? '}' : ']')) {
				ps.p++;
				depth--;
				d->t[k].next = (uint32_t)d->n;
				break; /* empty: a value is done */
			}
			if (d->t[k].type == JTOK_OBJECT && (k = member_name(&ps)) < 0)
				return k;
			continue; /* its first value */
		case '"': k = string(&ps); break;
		case 't': k = literal(&ps, "true", JTOK_TRUE); break;
		case 'f': k = literal(&ps, "false", JTOK_FALSE); break;
		case 'n': k = literal(&ps, "null", JTOK_NULL); break;
		default: k = number(&ps); break;
		}
		if (k < 0)
			return k;
		/* a value is done: close what ends here, go on in what does not */
		for (;;) {
			struct jtok *c;

			if (!depth) {
				skip_ws(&ps);
				return ps.p == ps.end ? 0 : -EBADMSG;
			}
			c = &d->t[stack[depth - 1]];
			c->n++;
			skip_ws(&ps);
			if (ps.p >= ps.end)
				return -EBADMSG;
			if (*ps.p == ',') {
				ps.p++;
				if (c->type == JTOK_OBJECT && (k = member_name(&ps)) < 0)
					return k;
				break; /* the next value */
			}
			if (*ps.p != (c->type == JTOK_OBJECT ? '}' : ']'))
				return -EBADMSG;
			ps.p++;
			c->next = (uint32_t)d->n;
			depth--;
		}
	}
}

void jtok_free(struct jtok_doc *d)
{
	bigmem_free(d->t);
	memset(d, 0, sizeof(*d));
}

bool jtok_is(const struct jtok_doc *d, int i, enum jtok_type type)
{
	return i >= 0 && (size_t)i < d->n && d->t[i].type == type;
}

int jtok_get(const struct jtok_doc *d, int obj, const char *key)
{
	uint32_t m, i;

	if (!jtok_is(d, obj, JTOK_OBJECT))
		return -1;
	for (m = 0, i = (uint32_t)obj + 1; m < d->t[obj].n; m++) {
		if (!strcmp(d->text + d->t[i].off, key))
			return (int)i + 1;
		i = d->t[i + 1].next;
	}
	return -1;
}

int jtok_first(const struct jtok_doc *d, int arr)
{
	return jtok_is(d, arr, JTOK_ARRAY) && d->t[arr].n ? arr + 1 : -1;
}

int jtok_after(const struct jtok_doc *d, int i)
{
	return i >= 0 && (size_t)d->t[i].next < d->n ? (int)d->t[i].next : -1;
}

size_t jtok_len(const struct jtok_doc *d, int arr)
{
	return jtok_is(d, arr, JTOK_ARRAY) ? d->t[arr].n : 0;
}

int jtok_at(const struct jtok_doc *d, int arr, size_t k)
{
	int i = jtok_first(d, arr);

	if (k >= jtok_len(d, arr))
		return -1;
	while (k--)
		i = (int)d->t[i].next;
	return i;
}

const char *jtok_str(const struct jtok_doc *d, int i, const char *def)
{
	return jtok_is(d, i, JTOK_STRING) ? d->text + d->t[i].off : def;
}

long long jtok_int(const struct jtok_doc *d, int i, long long def)
{
	return jtok_is(d, i, JTOK_NUMBER) ? strtoll(d->text + d->t[i].off, NULL, 10) : def;
}

bool jtok_bool(const struct jtok_doc *d, int i, bool def)
{
	if (jtok_is(d, i, JTOK_TRUE))
		return true;
	if (jtok_is(d, i, JTOK_FALSE))
		return false;
	return def;
}

const char *jtok_get_str(const struct jtok_doc *d, int obj, const char *key, const char *def)
{
	return jtok_str(d, jtok_get(d, obj, key), def);
}

long long jtok_get_int(const struct jtok_doc *d, int obj, const char *key, long long def)
{
	return jtok_int(d, jtok_get(d, obj, key), def);
}

bool jtok_get_bool(const struct jtok_doc *d, int obj, const char *key, bool def)
{
	return jtok_bool(d, jtok_get(d, obj, key), def);
}
