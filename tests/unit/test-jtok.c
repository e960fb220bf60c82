// SPDX-License-Identifier: MIT
/*
 * Unit tests for jtok (lib/jtok.h): what it reads is what json-c reads
 * (every string, number and literal of a listing-shaped document, escapes
 * and UTF-8 included), and what JSON forbids it refuses.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "jtok.h"

static int parse(struct jtok_doc *d, const char *text, char **ret_copy)
{
	char *copy = strdup(text);
	int r;

	assert_non_null(copy);
	r = jtok_parse(d, copy, strlen(copy));
	*ret_copy = copy;
	return r;
}

/* Every value of o (json-c's reading) against token i (jtok's). */
static void same(json_object *o, const struct jtok_doc *d, int i)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		assert_true(jtok_is(d, i, JTOK_NULL));
		break;
	case json_type_boolean:
		assert_true(jtok_bool(d, i, !json_object_get_boolean(o)) ==
			    json_object_get_boolean(o));
		break;
	case json_type_int:
		assert_true(jtok_is(d, i, JTOK_NUMBER));
		assert_int_equal(jtok_int(d, i, 0), json_object_get_int64(o));
		break;
	case json_type_double:
		assert_true(jtok_is(d, i, JTOK_NUMBER));
		break;
	case json_type_string:
		assert_true(jtok_is(d, i, JTOK_STRING));
		assert_int_equal(d->t[i].len, json_object_get_string_len(o));
		assert_memory_equal(jtok_str(d, i, NULL), json_object_get_string(o),
				    d->t[i].len + 1);
		break;
	case json_type_array: {
		size_t k, n = json_object_array_length(o);
		int e;

		assert_int_equal(jtok_len(d, i), n);
		for (k = 0, e = jtok_first(d, i); k < n; k++, e = jtok_after(d, e)) {
			assert_int_equal(e, jtok_at(d, i, k));
			same(json_object_array_get_idx(o, k), d, e);
		}
		break;
	}
	case json_type_object:
		assert_true(jtok_is(d, i, JTOK_OBJECT));
		assert_int_equal(d->t[i].n, json_object_object_length(o));
		json_object_object_foreach(o, key, val) {
			int v = jtok_get(d, i, key);

			assert_true(v > i);
			same(val, d, v);
		}
		break;
	}
}

static void check_like_json_c(const char *text)
{
	json_object *o = json_tokener_parse(text);
	struct jtok_doc d;
	char *copy;

	assert_non_null(o);
	assert_int_equal(parse(&d, text, &copy), 0);
	same(o, &d, 0);
	assert_int_equal(d.t[0].next, d.n);
	jtok_free(&d);
	free(copy);
	json_object_put(o);
}

static void test_reads_what_json_c_reads(void **state)
{
	(void)state;
	check_like_json_c("{\"attachments\": [{\"domain\": \"vm1\", \"mac\": \"52:54:00:00:00:01\", "
			  "\"queues\": [1, 2, 3], \"rules\": [], \"rss_context\": null, "
			  "\"reasons\": [{\"code\": \"no-zero-copy\", \"errno\": 2, \"message\": "
			  "\"no zero-copy (\\\"vhost_zcrx\\\")\\n\"}], \"x\": {}}], \"nics\": []}");
	check_like_json_c("[\"\\u00e9t\\u00e9 \\u20ac \\ud83d\\ude00 \\/ \\\\ \\b\\f\\r\\t\", "
			  "\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"]");
	check_like_json_c(" [ -0, 12, -3.5e+2, 1E-3, true , false,null ] ");
	check_like_json_c("{\"a\":{\"b\":{\"c\":[[[]],{}]}},\"d\":\"\"}");
	check_like_json_c("\"just a string\"");
}

static void test_listing_of_thousands(void **state)
{
	json_object *arr = json_object_new_array(), *top = json_object_new_object();
	int i;

	(void)state;
	for (i = 0; i < 4096; i++) {
		json_object *a = json_object_new_object(), *q = json_object_new_array();
		char dom[32];

		snprintf(dom, sizeof(dom), "vm \"%d\"\t\xc3\xa9", i);
		json_object_object_add(a, "domain", json_object_new_string(dom));
		json_object_object_add(a, "seq", json_object_new_int64(i * 1000003LL));
		json_object_array_add(q, json_object_new_int(i % 128));
		json_object_object_add(a, "queues", q);
		json_object_object_add(a, "on", json_object_new_boolean(i & 1));
		json_object_array_add(arr, a);
	}
	json_object_object_add(top, "attachments", arr);
	check_like_json_c(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN));
	json_object_put(top);
}

static void test_refuses_what_json_forbids(void **state)
{
	static const char *const bad[] = {
		"", "   ", "[1,]", "[1 2]", "{\"a\" 1}", "{\"a\":1,}", "{1:2}", "[1]x", "[1]]",
		"[\"a\x01\"]",                 /* control character */
		"[\"\xc3\"]", "[\"\xc0\xaf\"]", /* truncated, overlong */
		"[\"\xed\xa0\x80\"]",          /* a surrogate in UTF-8 */
		"[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\ud800\\u0041\"]", /* lone surrogates */
		"[\"\\x\"]", "[\"\\u12\"]", "[\"abc", "[01]", "[1.]", "[.5]", "[-]", "[1e]",
		"[tru]", "[nul]", "{\"a\":}", "[",
	};
	struct jtok_doc d;
	char deep[2 * JTOK_DEPTH + 8], *copy;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(&d, bad[i], &copy);

		if (r != -EBADMSG)
			fail_msg("'%s' read (%d)", bad[i], r);
		jtok_free(&d);
		free(copy);
	}
	memset(deep, '[', JTOK_DEPTH + 1);
	memset(deep + JTOK_DEPTH + 1, ']', JTOK_DEPTH + 1);
	deep[2 * JTOK_DEPTH + 2] = '\0';
	assert_int_equal(parse(&d, deep, &copy), -E2BIG);
	jtok_free(&d);
	free(copy);
}

static void test_accessors(void **state)
{
	struct jtok_doc d;
	char *copy;
	int o;

	(void)state;
	assert_int_equal(parse(&d, "{\"s\":\"x\",\"n\":42,\"t\":true,\"a\":[5,6]}", &copy), 0);
	o = 0;
	assert_string_equal(jtok_get_str(&d, o, "s", "?"), "x");
	assert_string_equal(jtok_get_str(&d, o, "n", "?"), "?"); /* not a string */
	assert_int_equal(jtok_get_int(&d, o, "n", -1), 42);
	assert_int_equal(jtok_get_int(&d, o, "s", -1), -1);
	assert_true(jtok_get_bool(&d, o, "t", false));
	assert_false(jtok_get_bool(&d, o, "missing", false));
	assert_int_equal(jtok_get(&d, o, "missing"), -1);
	assert_int_equal(jtok_len(&d, jtok_get(&d, o, "a")), 2);
	assert_int_equal(jtok_int(&d, jtok_at(&d, jtok_get(&d, o, "a"), 1), 0), 6);
	assert_int_equal(jtok_at(&d, jtok_get(&d, o, "a"), 2), -1);
	assert_int_equal(jtok_get(&d, jtok_get(&d, o, "a"), "s"), -1); /* not an object */
	assert_null(jtok_str(&d, -1, NULL));
	jtok_free(&d);
	free(copy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_what_json_c_reads),
		cmocka_unit_test(test_listing_of_thousands),
		cmocka_unit_test(test_refuses_what_json_forbids),
		cmocka_unit_test(test_accessors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
