// SPDX-License-Identifier: MIT
/*
 * varlink — NUL-delimited JSON framing and the request/reply shapes.
 * Owns: buffering, size limits, strict parsing.  Must not: do I/O or print.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "utf8.h"
#include "varlink.h"

#define VARLINK_JSON_DEPTH 64

void varlink_reader_init(struct varlink_reader *r, size_t max_message)
{
	memset(r, 0, sizeof(*r));
	r->max_message = max_message;
}

void varlink_reader_free(struct varlink_reader *r)
{
	bigmem_free(r->buf);
	if (r->tok)
		json_tokener_free(r->tok);
	memset(r, 0, sizeof(*r));
}

/* Move unconsumed bytes to the front so the buffer does not grow forever. */
static void compact(struct varlink_reader *r)
{
	if (r->start == 0)
		return;
	memmove(r->buf, r->buf + r->start, r->len - r->start);
	r->len -= r->start;
	r->start = 0;
}

char *varlink_reader_space(struct varlink_reader *r, size_t want, size_t *ret_avail)
{
	compact(r);
	if (r->cap - r->len < want) {
		char *p = bigmem_grow(r->buf, &r->cap, r->len + want, 4096);

		if (!p)
			return NULL;
		r->buf = p;
	}
	*ret_avail = r->cap - r->len;
	return r->buf + r->len;
}

void varlink_reader_commit(struct varlink_reader *r, size_t n)
{
	r->len += n;
}

int varlink_reader_feed(struct varlink_reader *r, const void *data, size_t n)
{
	size_t avail;
	char *p = varlink_reader_space(r, n, &avail);

	if (!p)
		return -ENOMEM;
	memcpy(p, data, n);
	varlink_reader_commit(r, n);
	return 0;
}

bool varlink_reader_has_partial(const struct varlink_reader *r)
{
	return r->len > r->start;
}

bool varlink_text_valid(const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	bool in_string = false;

	while (p < end) {
		size_t n = utf8_seq_len(p, end);
		uint32_t cp;

		if (!n)
			return false;
		if (n > 1 || !in_string || (*p != '\\' && *p != '"')) {
			if (*p == '"')
				in_string = true;
			p += n;
			continue;
		}
		if (*p == '"') {
			in_string = false;
			p++;
			continue;
		}
		/* an escape */
		if (end - p < 2)
			return false;
		if (p[1] != 'u') {
			p += 2;
			continue;
		}
		n = utf8_json_unescape(p + 2, end, &cp);
		if (!n || !cp)
			return false; /* no escape, a surrogate alone, \u0000 */
		p += 2 + n;
	}
	return true;
}

/* Parse with tok (reset first): the tokener's 64-deep stack is one
 * allocation big enough that glibc consolidates its free lists for it, on
 * every request when each message made its own. */
static int parse_with(struct json_tokener *tok, const char *text, size_t len, json_object **ret)
{
	json_object *o;
	int r = 0;

	*ret = NULL;
	if (len == 0 || len > (size_t)INT32_MAX || !varlink_text_valid(text, len))
		return -EBADMSG;
	json_tokener_reset(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		r = -EBADMSG;
		goto out;
	}
	/* Nothing but whitespace may follow the value. */
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
		if (!strchr(" \t\r\n", text[i])) {
			r = -EBADMSG;
			goto out;
		}
	if (!json_object_is_type(o, json_type_object)) {
		r = -EBADMSG;
		goto out;
	}
	*ret = o;
	o = NULL;
out:
	json_object_put(o);
	return r;
}

int varlink_parse_json(const char *text, size_t len, json_object **ret)
{
	struct json_tokener *tok = json_tokener_new_ex(VARLINK_JSON_DEPTH);
	int r;

	*ret = NULL;
	if (!tok)
		return -ENOMEM;
	r = parse_with(tok, text, len, ret);
	json_tokener_free(tok);
	return r;
}

int varlink_reader_next_text(struct varlink_reader *r, char **ret, size_t *ret_len)
{
	char *begin = r->buf + r->start;
	size_t pending = r->len - r->start;
	const char *nul;
	size_t mlen;

	*ret = NULL;
	if (pending == 0)
		return 0;
	if (r->scanned > pending)
		r->scanned = 0;
	nul = memchr(begin + r->scanned, '\0', pending - r->scanned);
	if (!nul) {
		r->scanned = pending;
		return pending > r->max_message ? -EMSGSIZE : 0;
	}
	r->scanned = 0;
	mlen = (size_t)(nul - begin);
	if (mlen > r->max_message)
		return -EMSGSIZE;
	*ret = begin;
	*ret_len = mlen;
	r->start += mlen + 1;
	/* the bytes stay where they are until the next varlink_reader_space() */
	return 1;
}

int varlink_reader_next(struct varlink_reader *r, json_object **ret)
{
	char *text;
	size_t len;
	int k = varlink_reader_next_text(r, &text, &len);

	*ret = NULL;
	if (k <= 0)
		return k;
	if (!r->tok)
		r->tok = json_tokener_new_ex(VARLINK_JSON_DEPTH);
	k = r->tok ? parse_with(r->tok, text, len, ret) : -ENOMEM;
	if (r->start == r->len)
		r->start = r->len = 0;
	return k < 0 ? k : 1;
}

const char *varlink_encoded(json_object *msg, size_t *ret_len)
{
	const char *s;
	size_t n;

	s = json_object_to_json_string_length(msg, VARLINK_JSON_FLAGS, &n);
	if (!s)
		return NULL;
	*ret_len = n + 1;
	return s;
}

int varlink_encode(json_object *msg, char **ret, size_t *ret_len)
{
	const char *s;
	size_t n;
	char *p;

	s = varlink_encoded(msg, &n);
	if (!s)
		return -ENOMEM;
	p = malloc(n);
	if (!p)
		return -ENOMEM;
	memcpy(p, s, n - 1);
	p[n - 1] = '\0';
	*ret = p;
	*ret_len = n;
	return 0;
}

bool varlink_method_name_valid(const char *name)
{
	const char *dot;
	size_t i;

	/* interface: reverse-domain, dotted, lowercase-ish; method: [A-Z][A-Za-z0-9]* */
	if (!name || !*name || strlen(name) > 255)
		return false;
	dot = strrchr(name, '.');
	if (!dot || dot == name || !dot[1])
		return false;
	if (!(dot[1] >= 'A' && dot[1] <= 'Z'))
		return false;
	for (i = 1; dot[i]; i++) {
		char c = dot[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	for (i = 0; name + i < dot; i++) {
		char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return false;
		if (c == '.' && (i == 0 || name[i - 1] == '.'))
			return false;
	}
	return true;
}

static int opt_bool(json_object *msg, const char *key, bool *out)
{
	json_object *v;

	*out = false;
	if (!json_object_object_get_ex(msg, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return -EBADMSG;
	*out = json_object_get_boolean(v);
	return 0;
}

int varlink_call_parse(json_object *msg, struct varlink_call *ret, const char **ret_why)
{
	json_object *m, *p = NULL;
	const char *why = NULL;

	memset(ret, 0, sizeof(*ret));
	if (!json_object_is_type(msg, json_type_object)) {
		why = "message is not an object";
		goto bad;
	}
	if (!json_object_object_get_ex(msg, "method", &m) || !json_object_is_type(m, json_type_string)) {
		why = "missing or non-string \"method\"";
		goto bad;
	}
	if (json_object_object_get_ex(msg, "parameters", &p) && !json_object_is_type(p, json_type_null) &&
	    !json_object_is_type(p, json_type_object)) {
		why = "\"parameters\" is not an object";
		goto bad;
	}
	if (p && json_object_is_type(p, json_type_null))
		p = NULL;
	if (opt_bool(msg, "more", &ret->more) < 0 || opt_bool(msg, "oneway", &ret->oneway) < 0 ||
	    opt_bool(msg, "upgrade", &ret->upgrade) < 0) {
		why = "\"more\", \"oneway\" or \"upgrade\" is not a boolean";
		goto bad;
	}
	ret->method = json_object_get_string(m);
	ret->parameters = p;
	return 0;
bad:
	if (ret_why)
		*ret_why = why;
	return -EBADMSG;
}

json_object *varlink_call_new(const char *method, json_object *params, bool more, bool oneway)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_object_add(o, "parameters", params ? json_object_get(params) : json_object_new_object());
	if (more)
		json_object_object_add(o, "more", json_object_new_boolean(1));
	if (oneway)
		json_object_object_add(o, "oneway", json_object_new_boolean(1));
	return o;
}

json_object *varlink_reply_new(json_object *params, bool continues)
{
	json_object *o = json_object_new_object();

	if (!o) {
		json_object_put(params);
		return NULL;
	}
	json_object_object_add(o, "parameters", params ? params : json_object_new_object());
	if (continues)
		json_object_object_add(o, "continues", json_object_new_boolean(1));
	return o;
}

json_object *varlink_error_new(const char *error, json_object *params)
{
	json_object *o = json_object_new_object();

	if (!o) {
		json_object_put(params);
		return NULL;
	}
	json_object_object_add(o, "error", json_object_new_string(error));
	json_object_object_add(o, "parameters", params ? params : json_object_new_object());
	return o;
}

int varlink_reply_parse(json_object *msg, const char **ret_error, json_object **ret_params,
			bool *ret_continues)
{
	json_object *e = NULL, *p = NULL;
	bool cont = false;

	if (!json_object_is_type(msg, json_type_object))
		return -EBADMSG;
	if (json_object_object_get_ex(msg, "error", &e) && !json_object_is_type(e, json_type_string))
		return -EBADMSG;
	if (json_object_object_get_ex(msg, "parameters", &p) && !json_object_is_type(p, json_type_null) &&
	    !json_object_is_type(p, json_type_object))
		return -EBADMSG;
	if (p && json_object_is_type(p, json_type_null))
		p = NULL;
	if (opt_bool(msg, "continues", &cont) < 0)
		return -EBADMSG;
	*ret_error = e ? json_object_get_string(e) : NULL;
	*ret_params = p;
	*ret_continues = cont;
	return 0;
}
