// SPDX-License-Identifier: MIT
/*
 * jtext — JSON as text (jtext.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jtext.h"

void jtext_put(struct jtext *t, const char *p, size_t n)
{
	if (t->fail)
		return;
	if (t->n + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 1024;
		char *x;

		while (cap < t->n + n + 1)
			cap *= 2;
		x = realloc(t->s, cap);
		if (!x) {
			t->fail = true;
			return;
		}
		t->s = x;
		t->cap = cap;
	}
	memcpy(t->s + t->n, p, n);
	t->n += n;
	t->s[t->n] = '\0';
}

void jtext_lit(struct jtext *t, const char *p)
{
	jtext_put(t, p, strlen(p));
}

void jtext_str(struct jtext *t, const char *p)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = p;

	jtext_put(t, "\"", 1);
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		jtext_put(t, run, (size_t)(p - run));
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			jtext_put(t, e, 2);
		} else {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			jtext_put(t, e, 6);
		}
		run = p + 1;
	}
	jtext_put(t, run, (size_t)(p - run));
	jtext_put(t, "\"", 1);
}

void jtext_u64(struct jtext *t, uint64_t v)
{
	char b[24];
	int k = snprintf(b, sizeof(b), "%llu", (unsigned long long)v);

	jtext_put(t, b, (size_t)k);
}

void jtext_int(struct jtext *t, int64_t v)
{
	char b[24];
	int k = snprintf(b, sizeof(b), "%lld", (long long)v);

	jtext_put(t, b, (size_t)k);
}

void jtext_key(struct jtext *t, bool *first, const char *key)
{
	jtext_lit(t, *first ? "\"" : ",\"");
	*first = false;
	jtext_lit(t, key);
	jtext_lit(t, "\":");
}

void jtext_free(struct jtext *t)
{
	free(t->s);
	memset(t, 0, sizeof(*t));
}

struct raw {
	char *s;
	size_t n;
};

static int raw_serialize(json_object *o, struct printbuf *pb, int level, int flags)
{
	struct raw *r = json_object_get_userdata(o);

	return printbuf_memappend(pb, r->s, (int)r->n) < 0 ? -1 : 0;
}

static void raw_free(json_object *o, void *ud)
{
	struct raw *r = ud;

	free(r->s);
	free(r);
}

json_object *jtext_to_json(struct jtext *t)
{
	struct raw *r = calloc(1, sizeof(*r));
	json_object *o;

	if (!r || t->fail || !(o = json_object_new_object())) {
		free(r);
		jtext_free(t);
		return NULL;
	}
	r->s = t->s;
	r->n = t->n;
	memset(t, 0, sizeof(*t));
	json_object_set_serializer(o, raw_serialize, r, raw_free);
	return o;
}
