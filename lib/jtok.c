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

#include "jtok.h"

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
		t = realloc(d->t, cap * sizeof(*t));
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

static int hex4(const char *s, unsigned *ret)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*ret = v;
	return 0;
}

static char *put_utf8(char *w, unsigned cp)
{
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xc0 | (cp >> 6));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | (cp >> 12));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | (cp >> 18));
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	return w;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629), 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
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
			size_t n = utf8_seq((const unsigned char *)ps->p, (const unsigned char *)ps->end);

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
			unsigned cp, lo;

			if (ps->end - ps->p < 4 || hex4(ps->p, &cp) < 0)
				return -EBADMSG;
			ps->p += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -EBADMSG; /* a low surrogate alone */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
				    hex4(ps->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					return -EBADMSG;
				ps->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			w = put_utf8(w, cp);
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

int jtok_parse(struct jtok_doc *d, char *text, size_t len)
{
	struct parser ps = { .d = d, .p = text, .end = text + len };
	int stack[JTOK_DEPTH], depth = 0, k;

	memset(d, 0, sizeof(*d));
	d->text = text;
	if (len >= UINT32_MAX)
		return -E2BIG;
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
			if (d->t[k].type == JTOK_OBJECT) {
				if (ps.p >= ps.end || *ps.p != '"')
					return -EBADMSG;
				if ((k = string(&ps)) < 0)
					return k;
				skip_ws(&ps);
				if (ps.p >= ps.end || *ps.p++ != ':')
					return -EBADMSG;
			}
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
				if (c->type == JTOK_OBJECT) {
					skip_ws(&ps);
					if (ps.p >= ps.end || *ps.p != '"')
						return -EBADMSG;
					if ((k = string(&ps)) < 0)
						return k;
					skip_ws(&ps);
					if (ps.p >= ps.end || *ps.p++ != ':')
						return -EBADMSG;
				}
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
	free(d->t);
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
