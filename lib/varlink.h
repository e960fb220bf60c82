/* SPDX-License-Identifier: MIT */
/*
 * varlink — framing and message shape of the Varlink protocol, shared by the
 * server (zcrxd/ipc.c) and the client (lib/client.c).
 *
 * A message is one JSON object followed by a NUL byte on a stream socket.
 * The reader accumulates bytes, splits on NUL, enforces a size limit on every
 * message (complete or still partial), and parses strictly (valid UTF-8, one
 * object, nothing trailing).  Must not: do I/O, print, log.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* How the project writes JSON: compact, "/" as it is (json-c escapes it
 * by default), as every Varlink message carries it. */
#define VARLINK_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

struct varlink_reader {
	char *buf;
	size_t len;   /* bytes held */
	size_t start; /* start of the first unconsumed message */
	size_t cap;
	size_t max_message; /* bytes, excluding the NUL */
	size_t scanned; /* bytes from start known to hold no NUL: a long message is
			 * searched once, not once per read */
	struct json_tokener *tok; /* made at the first message, reset for each */
};

void varlink_reader_init(struct varlink_reader *r, size_t max_message);
void varlink_reader_free(struct varlink_reader *r);

/* Room for at least `want` more bytes; returns a pointer to write into and
 * the usable size in *ret_avail.  NULL on ENOMEM. */
char *varlink_reader_space(struct varlink_reader *r, size_t want, size_t *ret_avail);
/* Account n bytes written into the space returned above. */
void varlink_reader_commit(struct varlink_reader *r, size_t n);
/* Copy data in (tests, fuzzers).  -ENOMEM only. */
int varlink_reader_feed(struct varlink_reader *r, const void *data, size_t n);

/*
 * Take the next complete message.  Returns 1 and the parsed object in *ret,
 * 0 when no complete message is buffered, or a negative errno:
 *   -EMSGSIZE  a message (complete or partial) exceeds max_message
 *   -EBADMSG   not valid JSON / not valid UTF-8 / not an object / trailing data
 * After -EBADMSG the bad message has been consumed and reading may go on;
 * after -EMSGSIZE the stream cannot be resynchronised and should be closed.
 */
int varlink_reader_next(struct varlink_reader *r, json_object **ret);
/* The same without parsing: *ret points at the message's text in the
 * reader's buffer (NUL-terminated, *ret_len bytes), valid until the next
 * varlink_reader_space() or _feed(). */
int varlink_reader_next_text(struct varlink_reader *r, char **ret, size_t *ret_len);
/* Bytes of an incomplete message are buffered. */
bool varlink_reader_has_partial(const struct varlink_reader *r);

/* Whether a JSON text holds only what Varlink can carry: strict UTF-8 (no
 * overlong forms, no surrogates, nothing above U+10FFFF) and no escape
 * that json-c would accept but that is not a Unicode scalar value or that
 * would cut a C string: a lone \uD800-\uDFFF, \u0000.  Syntax is
 * json-c's business. */
bool varlink_text_valid(const char *text, size_t len);

/* Strict parse of one JSON text of exactly len bytes (varlink_text_valid,
 * then json-c in strict mode). */
int varlink_parse_json(const char *text, size_t len, json_object **ret);

/* Serialize msg plus the terminating NUL into a malloc'd buffer. */
int varlink_encode(json_object *msg, char **ret, size_t *ret_len);
/* The same encoding without a copy: msg's own text, valid until msg is
 * freed or changed; *ret_len counts its terminating NUL.  NULL when out of
 * memory. */
const char *varlink_encoded(json_object *msg, size_t *ret_len);

/* A request, borrowed from the object it was parsed from. */
struct varlink_call {
	const char *method;
	json_object *parameters; /* NULL when absent */
	bool more, oneway, upgrade;
};

/* Validate the shape of a request.  On -EBADMSG *ret_why says what is wrong
 * (static string). */
int varlink_call_parse(json_object *msg, struct varlink_call *ret, const char **ret_why);

/* Build {"method":..,"parameters":..,"more"?:true,"oneway"?:true}.  params is
 * referenced (not consumed). */
json_object *varlink_call_new(const char *method, json_object *params, bool more, bool oneway);

/* Build a reply.  Consumes params (NULL = {}). */
json_object *varlink_reply_new(json_object *params, bool continues);
json_object *varlink_error_new(const char *error, json_object *params);

/* Split a reply: error name (or NULL), parameters (borrowed; may be NULL),
 * continues flag.  -EBADMSG if the shape is wrong. */
int varlink_reply_parse(json_object *msg, const char **ret_error, json_object **ret_params,
			bool *ret_continues);

/* Varlink interface and method names: "io.zcrx.Manager.GetStatus". */
bool varlink_method_name_valid(const char *name);
