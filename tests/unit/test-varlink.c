// SPDX-License-Identifier: MIT
/* Unit tests: Varlink framing and message shapes (lib/varlink.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "varlink.h"

static void feed_str(struct varlink_reader *r, const char *s)
{
	assert_int_equal(varlink_reader_feed(r, s, strlen(s) + 1), 0); /* with the NUL */
}

static const char *method_of(json_object *o)
{
	json_object *m;

	assert_true(json_object_object_get_ex(o, "method", &m));
	return json_object_get_string(m);
}

static void test_one_message(void **state)
{
	struct varlink_reader r;
	json_object *o = NULL;

	varlink_reader_init(&r, 1024);
	feed_str(&r, "{\"method\":\"a.b.C\"}");
	assert_int_equal(varlink_reader_next(&r, &o), 1);
	assert_string_equal(method_of(o), "a.b.C");
	json_object_put(o);
	assert_int_equal(varlink_reader_next(&r, &o), 0);
	assert_false(varlink_reader_has_partial(&r));
	varlink_reader_free(&r);
}

/* The reader's one tokener, reset for each message: a message cut off
 * inside a value, or left open, must not leak its state into the next. */
static void test_tokener_reused_after_bad(void **state)
{
	static const char *const msgs[] = {
		"{\"method\":\"a.b.C\"}", "{\"method\":[1,{\"x\":", "{\"method\":\"a.b.D\"}",
		"{\"a\":1} x", "{\"method\":\"a.b.E\",\"parameters\":{\"k\":[1,2]}}",
	};
	static const int want[] = { 1, -EBADMSG, 1, -EBADMSG, 1 };
	static const char *const method[] = { "a.b.C", NULL, "a.b.D", NULL, "a.b.E" };
	struct varlink_reader r;
	json_object *o = NULL;
	size_t i;

	varlink_reader_init(&r, 1024);
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		feed_str(&r, msgs[i]);
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		assert_int_equal(varlink_reader_next(&r, &o), want[i]);
		if (method[i])
			assert_string_equal(method_of(o), method[i]);
		else
			assert_null(o);
		json_object_put(o);
		o = NULL;
	}
	assert_int_equal(varlink_reader_next(&r, &o), 0);
	varlink_reader_free(&r);
}

static void test_split_reads(void **state)
{
	const char msg[] = "{\"method\":\"io.zcrx.Manager.GetStatus\",\"parameters\":{}}";
	struct varlink_reader r;
	json_object *o = NULL;
	size_t i;

	varlink_reader_init(&r, 1024);
	/* one byte at a time, NUL included */
	for (i = 0; i < sizeof(msg); i++) {
		assert_int_equal(varlink_reader_next(&r, &o), 0);
		assert_int_equal(varlink_reader_feed(&r, msg + i, 1), 0);
	}
	assert_int_equal(varlink_reader_next(&r, &o), 1);
	assert_string_equal(method_of(o), "io.zcrx.Manager.GetStatus");
	json_object_put(o);
	varlink_reader_free(&r);
}

static void test_many_per_read(void **state)
{
	const char three[] = "{\"method\":\"a.b.One\"}\0{\"method\":\"a.b.Two\"}\0{\"method\":\"a.b.Thr";
	struct varlink_reader r;
	json_object *o = NULL;

	varlink_reader_init(&r, 1024);
	assert_int_equal(varlink_reader_feed(&r, three, sizeof(three) - 1), 0);
	assert_int_equal(varlink_reader_next(&r, &o), 1);
	assert_string_equal(method_of(o), "a.b.One");
	json_object_put(o);
	assert_int_equal(varlink_reader_next(&r, &o), 1);
	assert_string_equal(method_of(o), "a.b.Two");
	json_object_put(o);
	/* the third is still partial */
	assert_int_equal(varlink_reader_next(&r, &o), 0);
	assert_true(varlink_reader_has_partial(&r));
	feed_str(&r, "ee\"}");
	assert_int_equal(varlink_reader_next(&r, &o), 1);
	assert_string_equal(method_of(o), "a.b.Three");
	json_object_put(o);
	varlink_reader_free(&r);
}

static void test_oversized(void **state)
{
	struct varlink_reader r;
	json_object *o = NULL;
	char big[200];

	varlink_reader_init(&r, 64);
	memset(big, ' ', sizeof(big));
	/* a partial message already over the limit is refused before its NUL arrives */
	assert_int_equal(varlink_reader_feed(&r, big, sizeof(big)), 0);
	assert_int_equal(varlink_reader_next(&r, &o), -EMSGSIZE);
	assert_null(o);
	varlink_reader_free(&r);

	/* a complete one too */
	varlink_reader_init(&r, 64);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(varlink_reader_feed(&r, big, sizeof(big)), 0);
	assert_int_equal(varlink_reader_next(&r, &o), -EMSGSIZE);
	varlink_reader_free(&r);

	/* exactly at the limit is fine */
	varlink_reader_init(&r, 20);
	feed_str(&r, "{\"method\":\"a.b.Cde\"}"); /* 20 bytes */
	assert_int_equal(varlink_reader_next(&r, &o), 1);
	json_object_put(o);
	varlink_reader_free(&r);
}

static void test_invalid_json_recovers(void **state)
{
	struct varlink_reader r;
	json_object *o = NULL;

	varlink_reader_init(&r, 1024);
	feed_str(&r, "{\"method\": nope}");
	feed_str(&r, "[1,2]");             /* valid JSON, not an object */
	feed_str(&r, "{\"a\":1} {\"b\":2}"); /* two values in one message */
	feed_str(&r, "");                  /* empty message */
	feed_str(&r, "{\"method\":\"a.b.Ok\"}");
	assert_int_equal(varlink_reader_next(&r, &o), -EBADMSG);
	assert_int_equal(varlink_reader_next(&r, &o), -EBADMSG);
	assert_int_equal(varlink_reader_next(&r, &o), -EBADMSG);
	assert_int_equal(varlink_reader_next(&r, &o), -EBADMSG);
	/* the stream stays in sync: the next good message is read */
	assert_int_equal(varlink_reader_next(&r, &o), 1);
	assert_string_equal(method_of(o), "a.b.Ok");
	json_object_put(o);
	varlink_reader_free(&r);
}

static void test_invalid_utf8(void **state)
{
	json_object *o = NULL;
	const char bad1[] = "{\"method\":\"a.b.C\",\"parameters\":{\"x\":\"\xff\xfe\"}}";
	const char bad2[] = "{\"method\":\"a.b.C\",\"parameters\":{\"x\":\"\xc3\"}}"; /* truncated */
	const char good[] = "{\"method\":\"a.b.C\",\"parameters\":{\"x\":\"gr\xc3\xbc\xc3\x9f\"}}";

	assert_int_equal(varlink_parse_json(bad1, strlen(bad1), &o), -EBADMSG);
	assert_int_equal(varlink_parse_json(bad2, strlen(bad2), &o), -EBADMSG);
	assert_int_equal(varlink_parse_json(good, strlen(good), &o), 0);
	json_object_put(o);
}

/* What json-c takes but Varlink cannot carry: code points that are not
 * Unicode scalar values, overlong forms, and NUL, raw or escaped. */
static void test_strict_strings(void **state)
{
	static const char *const bad[] = {
		"{\"m\":\"\\ud800\"}",            /* lone high surrogate */
		"{\"m\":\"\\udc00x\"}",           /* lone low surrogate */
		"{\"m\":\"\\ud800\\u0041\"}",    /* high surrogate, then no low one */
		"{\"m\":\"\xed\xa0\x80\"}",      /* a surrogate encoded as UTF-8 */
		"{\"m\":\"\xc0\xaf\"}",           /* overlong '/' */
		"{\"m\":\"\xe0\x80\xaf\"}",      /* overlong, 3 bytes */
		"{\"m\":\"\xf0\x80\x80\xaf\"}",  /* overlong, 4 bytes */
		"{\"m\":\"\xf4\x90\x80\x80\"}",  /* above U+10FFFF */
		"{\"m\":\"\xf5\x80\x80\x80\"}",  /* above U+10FFFF */
		"{\"m\":\"a\\u0000b\"}",          /* NUL in a value */
		"{\"a\\u0000b\":1}",                /* NUL in a name */
		"{\"method\":\"io.zcrx.Manager.GetStatus\\u0000x\"}",
		"{\"m\":\"\x80\"}",                /* a stray continuation byte */
	};
	static const char *const good[] = {
		"{\"m\":\"\\ud83d\\ude00\"}",    /* a surrogate pair: U+1F600 */
		"{\"m\":\"\xf0\x9f\x98\x80\"}",  /* the same, as UTF-8 */
		"{\"m\":\"\xf4\x8f\xbf\xbf\"}",  /* U+10FFFF */
		"{\"m\":\"\xed\x9f\xbf\xee\x80\x80\"}", /* U+D7FF, U+E000 */
		"{\"m\":\"\\\\ud800\"}",          /* an escaped backslash, then text */
		"{\"m\":\"\\u0001 \\\" \\n\"}",
	};
	json_object *o = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("bad %zu\n", i);
		assert_false(varlink_text_valid(bad[i], strlen(bad[i])));
		assert_int_equal(varlink_parse_json(bad[i], strlen(bad[i]), &o), -EBADMSG);
		assert_null(o);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		print_message("good %zu\n", i);
		assert_true(varlink_text_valid(good[i], strlen(good[i])));
		assert_int_equal(varlink_parse_json(good[i], strlen(good[i]), &o), 0);
		json_object_put(o);
		o = NULL;
	}
}

static void test_call_shape(void **state)
{
	struct varlink_call c;
	const char *why = NULL;
	json_object *o = NULL;
	static const char *const bad[] = {
		"{\"parameters\":{}}",                            /* missing method */
		"{\"method\":42}",                                /* method not a string */
		"{\"method\":\"a.b.C\",\"parameters\":[1]}",      /* parameters not an object */
		"{\"method\":\"a.b.C\",\"more\":\"yes\"}",        /* more not a boolean */
		"{\"method\":\"a.b.C\",\"oneway\":1}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(varlink_parse_json(bad[i], strlen(bad[i]), &o), 0);
		why = NULL;
		assert_int_equal(varlink_call_parse(o, &c, &why), -EBADMSG);
		assert_non_null(why);
		json_object_put(o);
	}
	{
		const char *t = "{\"method\":\"a.b.C\",\"more\":true,\"parameters\":{\"k\":1}}";

		assert_int_equal(varlink_parse_json(t, strlen(t), &o), 0);
	}
	assert_int_equal(varlink_call_parse(o, &c, &why), 0);
	assert_string_equal(c.method, "a.b.C");
	assert_true(c.more);
	assert_false(c.oneway);
	assert_non_null(c.parameters);
	json_object_put(o);
}

static void test_method_names(void **state)
{
	assert_true(varlink_method_name_valid("io.zcrx.Manager.GetStatus"));
	assert_true(varlink_method_name_valid("org.varlink.service.GetInfo"));
	assert_false(varlink_method_name_valid("GetStatus"));
	assert_false(varlink_method_name_valid("io.zcrx.Manager."));
	assert_false(varlink_method_name_valid("io..zcrx.Get"));
	assert_false(varlink_method_name_valid("io.zcrx.Manager.getStatus"));
	assert_false(varlink_method_name_valid("io.zcrx.Manager.Get Status"));
	assert_false(varlink_method_name_valid(""));
}

static void test_encode_reply(void **state)
{
	json_object *p = json_object_new_object(), *msg, *back = NULL;
	const char *ename;
	json_object *params;
	bool cont;
	size_t len;
	char *buf;

	json_object_object_add(p, "nics", json_object_new_int(3));
	json_object_object_add(p, "name", json_object_new_string("eth0/\"x\""));
	msg = varlink_reply_new(p, true);
	assert_int_equal(varlink_encode(msg, &buf, &len), 0);
	json_object_put(msg);
	/* NUL-terminated, no slash escaping, and parses back to the same thing */
	assert_int_equal(buf[len - 1], '\0');
	assert_int_equal(strlen(buf), len - 1);
	assert_null(strstr(buf, "\\/"));
	assert_int_equal(varlink_parse_json(buf, len - 1, &back), 0);
	assert_int_equal(varlink_reply_parse(back, &ename, &params, &cont), 0);
	assert_null(ename);
	assert_true(cont);
	assert_int_equal(json_object_get_int(json_object_object_get(params, "nics")), 3);
	assert_string_equal(json_object_get_string(json_object_object_get(params, "name")), "eth0/\"x\"");
	json_object_put(back);
	free(buf);

	msg = varlink_error_new("io.zcrx.Manager.NoSuchNic", NULL);
	assert_int_equal(varlink_encode(msg, &buf, &len), 0);
	json_object_put(msg);
	assert_string_equal(buf, "{\"error\":\"io.zcrx.Manager.NoSuchNic\",\"parameters\":{}}");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_message),
		cmocka_unit_test(test_tokener_reused_after_bad),
		cmocka_unit_test(test_split_reads),
		cmocka_unit_test(test_many_per_read),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_invalid_json_recovers),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_strict_strings),
		cmocka_unit_test(test_call_shape),
		cmocka_unit_test(test_method_names),
		cmocka_unit_test(test_encode_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
