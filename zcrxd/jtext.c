// SPDX-License-Identifier: MIT
/*
 * jtext — JSON as text (jtext.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "hex.h"
#include "jtext.h"

/* The buffer holds JTEXT_ROOM bytes before the text (room for what a
 * reply puts around it, jtext_wrap) and always one byte more after it than
 * the text's NUL (the wrap's tail). */
static char *base(const struct jtext *t)
{
	return t->s ? t->s - JTEXT_ROOM : NULL;
}

/* Room for n bytes more (and the two after the text); false: t failed. */
static bool reserve(struct jtext *t, size_t n)
{
	if (t->fail)
		return false;
	if (t->n + n + 2 > t->cap) {
		size_t all = t->s ? JTEXT_ROOM + t->cap : 0;
		char *x = bigmem_grow(base(t), &all, JTEXT_ROOM + t->n + n + 2, JTEXT_ROOM + 1024);

		if (!x) {
			t->fail = true;
			return false;
		}
		t->s = x + JTEXT_ROOM;
		t->cap = all - JTEXT_ROOM;
	}
	return true;
}

void jtext_put_grow(struct jtext *t, const char *p, size_t n)
{
	if (!reserve(t, n))
		return;
	memcpy(t->s + t->n, p, n);
	t->n += n;
	t->s[t->n] = '\0';
}

/* As json-c writes a string with JTEXT_JSON_FLAGS, byte for byte (a reply
 * written here reads as one json-c would write): the short escapes where
 * JSON has them, \u00XX for the other control characters, '/' and DEL as
 * they are. */
void jtext_str(struct jtext *t, const char *p)
{
	static const char short_esc[32] = { ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n',
					    ['\f'] = 'f', ['\r'] = 'r' };
	const unsigned char *u = (const unsigned char *)p;
	const char *run = p;
	size_t n = 0;
	char *d;

	/* most strings need no escape: quoted in one reservation */
	while (u[n] >= 0x20 && u[n] != '"' && u[n] != '\\')
		n++;
	if (!u[n]) {
		if (!reserve(t, n + 2))
			return;
		d = t->s + t->n;
		*d++ = '"';
		memcpy(d, p, n);
		d[n] = '"';
		t->n += n + 2;
		t->s[t->n] = '\0';
		return;
	}
	jtext_put(t, "\"", 1);
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jtext_put(t, run, (size_t)(p - run));
		if (c >= 0x20 || short_esc[c]) {
			char e[2] = { '\\', c >= 0x20 ? (char)c : short_esc[c] };

			jtext_put(t, e, 2);
		} else {
			char e[6] = { '\\', 'u', '0', '0' };

			hex_put(e + 4, &c, 1);
			jtext_put(t, e, 6);
		}
		run = p + 1;
	}
	jtext_put(t, run, (size_t)(p - run));
	jtext_put(t, "\"", 1);
}

/* Decimal digits, written backwards from the end of b (no printf: a
 * listing writes tens of thousands of numbers). */
static void put_decimal(struct jtext *t, uint64_t v, bool minus)
{
	char b[24], *p = b + sizeof(b);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (minus)
		*--p = '-';
	jtext_put(t, p, (size_t)(b + sizeof(b) - p));
}

void jtext_u64(struct jtext *t, uint64_t v)
{
	put_decimal(t, v, false);
}

void jtext_u32s(struct jtext *t, const uint32_t *v, size_t n)
{
	size_t i;
	char *p;

	if (!reserve(t, n * 11 + 2)) /* 10 digits and a comma each, [] */
		return;
	p = t->s + t->n;
	*p++ = '[';
	for (i = 0; i < n; i++) {
		char b[10], *d = b + sizeof(b);
		uint32_t x = v[i];

		if (i)
			*p++ = ',';
		do {
			*--d = (char)('0' + x % 10);
			x /= 10;
		} while (x);
		memcpy(p, d, (size_t)(b + sizeof(b) - d));
		p += b + sizeof(b) - d;
	}
	*p++ = ']';
	t->n = (size_t)(p - t->s);
	t->s[t->n] = '\0';
}

void jtext_int(struct jtext *t, int64_t v)
{
	put_decimal(t, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0);
}

void jtext_key_n(struct jtext *t, bool *first, const char *key, size_t n)
{
	bool comma = !*first;
	char *d;

	*first = false;
	if (!reserve(t, n + 4)) /* in one piece: objects have many keys */
		return;
	d = t->s + t->n;
	if (comma)
		*d++ = ',';
	*d++ = '"';
	memcpy(d, key, n);
	d += n;
	*d++ = '"';
	*d++ = ':';
	*d = '\0';
	t->n = (size_t)(d - t->s);
}

void jtext_json(struct jtext *t, json_object *o)
{
	size_t n;
	const char *s = o ? json_object_to_json_string_length(o, JTEXT_JSON_FLAGS, &n) : NULL;

	if (s)
		jtext_put(t, s, n);
	else if (o)
		t->fail = true;
	else
		jtext_lit(t, "null");
}

void jtext_free(struct jtext *t)
{
	bigmem_free(base(t));
	memset(t, 0, sizeof(*t));
}

void jtext_reset(struct jtext *t)
{
	t->n = 0;
	t->fail = false;
	if (t->s)
		t->s[0] = '\0';
}

json_object *jtext_parse(struct jtext *t)
{
	json_object *o = t->fail || !t->s ? NULL : json_tokener_parse(t->s);

	jtext_free(t);
	return o;
}

#define RAW_MAGIC 0x6a74657874u /* "jtext" */

struct raw {
	uint64_t magic;
	struct jtext t;
};

static struct raw *raw_of(json_object *o)
{
	struct raw *r = json_object_is_type(o, json_type_object) ? json_object_get_userdata(o)
								    : NULL;

	return r && r->magic == RAW_MAGIC ? r : NULL;
}

static int raw_serialize(json_object *o, struct printbuf *pb, int level, int flags)
{
	struct raw *r = json_object_get_userdata(o);

	return printbuf_memappend(pb, r->t.s, (int)r->t.n) < 0 ? -1 : 0;
}

static void raw_free(json_object *o, void *ud)
{
	struct raw *r = ud;

	jtext_free(&r->t);
	free(r);
}

json_object *jtext_to_json(struct jtext *t)
{
	struct raw *r = calloc(1, sizeof(*r));
	json_object *o;

	if (!r || t->fail || t->n > INT32_MAX || !(o = json_object_new_object())) {
		free(r);
		jtext_free(t);
		return NULL;
	}
	r->magic = RAW_MAGIC;
	r->t = *t;
	memset(t, 0, sizeof(*t));
	json_object_set_serializer(o, raw_serialize, r, raw_free);
	return o;
}

const char *jtext_wrap(json_object *o, const char *head, char tail, size_t *ret_len)
{
	struct raw *r = raw_of(o);
	size_t h = strlen(head);
	char *s;

	if (!r || !r->t.s || h > JTEXT_ROOM)
		return NULL;
	s = r->t.s - h;
	memcpy(s, head, h);
	r->t.s[r->t.n] = tail; /* jtext_put left room for it and a NUL */
	r->t.s[r->t.n + 1] = '\0';
	*ret_len = h + r->t.n + 2;
	return s;
}
