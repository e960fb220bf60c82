// SPDX-License-Identifier: MIT
/*
 * Unit tests for jtext (zcrxd/jtext.h): numbers and strings as JSON
 * writes them (strings byte for byte as json-c does), json-c values as a
 * Varlink message carries them, and a reply wrapped around a text
 * (jtext_wrap) byte for byte what json-c writes for the same message, for
 * a small text and one of megabytes.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "bigmem.h"
#include "jtext.h"

static void test_numbers(void **state)
{
	const int64_t ints[] = { 0, 1, -1, 9, 10, -10, 123456789, INT64_MAX, INT64_MIN };
	const uint64_t u64s[] = { 0, 7, 10, 4294967296ull, UINT64_MAX };
	char want[32];

	(void)state;
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		struct jtext t = { 0 };

		jtext_int(&t, ints[i]);
		snprintf(want, sizeof(want), "%" PRId64, ints[i]);
		assert_string_equal(t.s, want);
		assert_int_equal(t.n, strlen(want));
		jtext_free(&t);
	}
	for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++) {
		struct jtext t = { 0 };

		jtext_u64(&t, u64s[i]);
		snprintf(want, sizeof(want), "%" PRIu64, u64s[i]);
		assert_string_equal(t.s, want);
		jtext_free(&t);
	}
}

/* jtext_u32s writes an array as json-c writes it: empty, one, the
 * extremes, after other text, and long enough to grow the buffer. */
static void test_u32_arrays(void **state)
{
	static const uint32_t v[] = { 0, 7, 10, 4294967295u, 123456789 };
	uint32_t many[500];
	size_t i, n;

	(void)state;
	for (i = 0; i < 500; i++)
		many[i] = (uint32_t)(i * 2654435761u);
	for (n = 0; n <= 6; n++) {
		const uint32_t *a = n < 6 ? v : many;
		size_t len = n < 6 ? n : 500;
		json_object *o = json_object_new_array();
		struct jtext t = { 0 };
		char *want;

		for (i = 0; i < len; i++)
			json_object_array_add(o, json_object_new_int64(a[i]));
		want = malloc(strlen(json_object_to_json_string_ext(o, JTEXT_JSON_FLAGS)) + 2);
		assert_non_null(want);
		sprintf(want, "x%s", json_object_to_json_string_ext(o, JTEXT_JSON_FLAGS));
		jtext_lit(&t, "x");
		jtext_u32s(&t, a, len);
		assert_false(t.fail);
		assert_string_equal(t.s, want);
		assert_int_equal(t.n, strlen(want));
		free(want);
		json_object_put(o);
		jtext_free(&t);
	}
}

/* Keys come with a comma before all but the first; a reset text is empty
 * and keeps its buffer; pieces written across the buffer's growth (the
 * out-of-line path) and within it (inline) make the same text. */
static void test_keys_reset_growth(void **state)
{
	struct jtext t = { 0 };
	char want[8192], *w = want;
	const char *kept;
	bool f = true;

	(void)state;
	jtext_lit(&t, "{");
	jtext_key(&t, &f, "a");
	jtext_u64(&t, 1);
	jtext_key(&t, &f, "bc");
	jtext_str(&t, "d");
	jtext_key(&t, &f, "");
	jtext_lit(&t, "null}");
	assert_false(f);
	assert_string_equal(t.s, "{\"a\":1,\"bc\":\"d\",\"\":null}");
	kept = t.s;
	jtext_reset(&t);
	assert_int_equal(t.n, 0);
	assert_string_equal(t.s, "");
	assert_ptr_equal(t.s, kept);
	for (int i = 0; i < 700; i++) { /* past the first 1,024 bytes: it grows */
		jtext_put(&t, "0123456789", (size_t)(i % 11));
		w += sprintf(w, "%.*s", i % 11, "0123456789");
	}
	assert_false(t.fail);
	assert_int_equal(t.n, strlen(want));
	assert_string_equal(t.s, want);
	assert_true(t.cap >= t.n + 2);
	jtext_free(&t);
}

/* jtext_str's string reads back (json-c) as the string it was given. */
static void test_strings(void **state)
{
	const char *const s[] = { "", "plain", "a\"b\\c", "tab\there\nnl\x01\x1f\x7f",
				  "caf\xc3\xa9 \xe2\x82\xac", "/slash/" };

	(void)state;
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		struct jtext t = { 0 };
		json_object *o;

		jtext_str(&t, s[i]);
		o = json_tokener_parse(t.s);
		assert_non_null(o);
		assert_string_equal(json_object_get_string(o), s[i]);
		json_object_put(o);
		jtext_free(&t);
	}
}

/* jtext_str writes every byte as json-c writes it with JTEXT_JSON_FLAGS
 * (a reply written as text is the reply json-c wrote before). */
static void test_strings_as_json_c(void **state)
{
	char all[256], one[4];

	(void)state;
	for (int c = 1; c < 256; c++)
		all[c - 1] = (char)c;
	all[255] = '\0';
	for (int c = 0; c <= 256; c++) {
		const char *s = all;
		struct jtext t = { 0 };
		json_object *o;

		if (c < 256) { /* each byte alone between two letters, then all */
			snprintf(one, sizeof(one), "a%cb", c ? c : 'z');
			s = one;
		}
		o = json_object_new_string(s);
		jtext_str(&t, s);
		assert_non_null(t.s);
		assert_string_equal(t.s, json_object_to_json_string_ext(o, JTEXT_JSON_FLAGS));
		json_object_put(o);
		jtext_free(&t);
	}
}

static void test_json_values(void **state)
{
	json_object *o = json_object_new_object();
	struct jtext t = { 0 };

	(void)state;
	json_object_object_add(o, "path", json_object_new_string("/run/x"));
	json_object_object_add(o, "n", json_object_new_int(3));
	jtext_lit(&t, "[");
	jtext_json(&t, o);
	jtext_lit(&t, ",");
	jtext_json(&t, NULL);
	jtext_lit(&t, "]");
	assert_string_equal(t.s, "[{\"path\":\"/run/x\",\"n\":3},null]");
	json_object_put(o);
	jtext_free(&t);
}

/* {"parameters": o} as json-c writes it against jtext_wrap's text. */
static void wrap_as_json_c(json_object *o)
{
	json_object *msg = json_object_new_object();
	const char *want, *got;
	size_t want_len, got_len;
	char *copy;

	json_object_object_add(msg, "parameters", json_object_get(o));
	want = json_object_to_json_string_length(msg, JTEXT_JSON_FLAGS, &want_len);
	copy = strdup(want);
	assert_non_null(copy);
	got = jtext_wrap(o, "{\"parameters\":", '}', &got_len);
	assert_non_null(got);
	assert_int_equal(got_len, want_len + 1); /* with its NUL */
	assert_int_equal(got[got_len - 1], '\0');
	assert_memory_equal(got, copy, want_len);
	/* o's own text is as it was: json-c writes the same again */
	json_object_put(msg);
	msg = json_object_new_object();
	json_object_object_add(msg, "parameters", json_object_get(o));
	want = json_object_to_json_string_length(msg, JTEXT_JSON_FLAGS, &want_len);
	assert_string_equal(want, copy);
	/* and a second wrap is the first */
	got = jtext_wrap(o, "{\"parameters\":", '}', &got_len);
	assert_memory_equal(got, copy, want_len + 1);
	free(copy);
	json_object_put(msg);
}

static void test_wrap(void **state)
{
	struct jtext t = { 0 };
	json_object *o, *plain = json_object_new_object();
	size_t n;

	(void)state;
	jtext_lit(&t, "{\"attachments\":[],\"nics\":[]}");
	o = jtext_to_json(&t);
	assert_non_null(o);
	assert_null(t.s); /* taken */
	wrap_as_json_c(o);
	json_object_put(o);

	/* megabytes: the text lives in a mapping (bigmem.h) */
	jtext_lit(&t, "{\"attachments\":[");
	for (int i = 0; t.n < 3 * BIGMEM_HUGE; i++) {
		if (i)
			jtext_lit(&t, ",");
		jtext_lit(&t, "{\"domain\":");
		jtext_str(&t, "vm\"x");
		jtext_lit(&t, ",\"seq\":");
		jtext_int(&t, i);
		jtext_lit(&t, "}");
	}
	jtext_lit(&t, "]}");
	o = jtext_to_json(&t);
	assert_non_null(o);
	wrap_as_json_c(o);
	json_object_put(o);

	/* anything else is json-c's to write */
	assert_null(jtext_wrap(plain, "{\"parameters\":", '}', &n));
	assert_null(jtext_wrap(NULL, "{\"parameters\":", '}', &n));
	json_object_put(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_u32_arrays),
		cmocka_unit_test(test_keys_reset_growth),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_strings_as_json_c),
		cmocka_unit_test(test_json_values),
		cmocka_unit_test(test_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
