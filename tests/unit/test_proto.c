/* SPDX-License-Identifier: MIT */
/* Unit tests for the JSON protocol codec: proto_parse for every message type and every refusal
 * (malformed, too deep, duplicate keys, wrong field types, lengths in code points, trimming of
 * Unicode whitespace, control characters), and the exact JSON each builder produces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "hub.h"
#include "proto.h"

#define S(lit) (lit), (sizeof(lit) - 1)

/* Parses a NUL-terminated text; on success *req is filled, otherwise it is all zero. Checks that a
 * refusal always comes with a non-empty detail. */
static int parse_n(const char *buf, size_t len, struct proto_request *req)
{
    const char *detail = NULL;
    int rc = proto_parse(hub_protocol, buf, len, req, &detail);

    if (rc > 0) {
        assert_non_null(detail);
        assert_true(detail[0] != '\0');
        assert_null(req->text);
        assert_null(req->data);
    }
    return rc;
}

static int parse(const char *s, struct proto_request *req)
{
    return parse_n(s, strlen(s), req);
}

/* Asserts s is refused with err. */
static void refused(const char *s, enum proto_error err)
{
    struct proto_request req;
    int rc = parse(s, &req);

    proto_request_clear(&req);
    if (rc != (int)err)
        fail_msg("%s: expected %s, got %d", s, proto_error_code(err), rc);
}

/* Asserts s parses as type with the given text (NULL: no text). */
static void accepted(const char *s, enum proto_type type, const char *text)
{
    struct proto_request req;
    int rc = parse(s, &req);

    if (rc != PROTO_OK)
        fail_msg("%s: expected ok, got %d", s, rc);
    assert_int_equal(req.type, type);
    if (text)
        assert_string_equal(req.text, text);
    else
        assert_null(req.text);
    proto_request_clear(&req);
}

/* Builds {"type":type,field:"<n copies of unit>"} in a heap string (caller frees). */
static char *repeat_field(const char *type, const char *field, const char *unit, size_t n)
{
    size_t ulen = strlen(unit);
    size_t cap = 64 + strlen(type) + strlen(field) + ulen * n;
    char *s = malloc(cap);
    size_t off;

    assert_non_null(s);
    off = (size_t)snprintf(s, cap, "{\"type\":\"%s\",\"%s\":\"", type, field);
    for (size_t i = 0; i < n; i++) {
        memcpy(s + off, unit, ulen);
        off += ulen;
    }
    memcpy(s + off, "\"}", 3);
    return s;
}

/* Checks that max copies of unit (decoding to unit_bytes bytes) are accepted and one more is
 * bad_field. */
static void check_length(const char *type, const char *field, const char *unit, size_t unit_bytes,
                         size_t max, enum proto_type ptype)
{
    char *ok = repeat_field(type, field, unit, max);
    char *over = repeat_field(type, field, unit, max + 1);
    struct proto_request req;

    assert_int_equal(parse(ok, &req), PROTO_OK);
    assert_int_equal(req.type, ptype);
    assert_int_equal(strlen(req.text), unit_bytes * max);
    proto_request_clear(&req);
    refused(over, PROTO_ERR_BAD_FIELD);
    free(ok);
    free(over);
}

/* Takes the text of m (checked to be a text frame whose len matches) and compares it. */
static void assert_msg(struct msg *m, const char *expected)
{
    assert_non_null(m);
    assert_int_equal(m->opcode, 0x1);
    assert_int_equal(m->len, strlen(m->data));
    assert_string_equal(m->data, expected);
    assert_int_equal(atomic_load(&m->refs), 1);
    msg_unref(m);
}

static void test_plain_text_is_not_json(void **state)
{
    struct proto_request req;
    (void)state;

    assert_int_equal(parse("hello from the browser!", &req), -1);
    assert_int_equal(parse("\"x\"", &req), -1);
    assert_int_equal(parse("42", &req), -1);
    assert_int_equal(parse("null", &req), -1);
    assert_int_equal(parse("", &req), -1);
    assert_int_equal(parse("  \t\r\n ", &req), -1);
    assert_int_equal(parse("}{", &req), -1);
    /* only ASCII whitespace is skipped before the first byte */
    assert_int_equal(parse("\xc2\xa0{\"type\":\"list\"}", &req), -1);
    assert_null(req.text);
    assert_null(req.data);
}

static void test_simple_types(void **state)
{
    (void)state;
    accepted("{\"type\":\"leave\"}", PROTO_LEAVE, NULL);
    accepted("{\"type\":\"list\"}", PROTO_LIST, NULL);
    accepted(" \r\n\t{ \"type\" : \"list\" } \n", PROTO_LIST, NULL);
    /* extra fields are ignored */
    accepted("{\"type\":\"leave\",\"room\":\"x\",\"n\":[1,{}]}", PROTO_LEAVE, NULL);
}

static void test_not_nul_terminated(void **state)
{
    static const char buf[] = "{\"type\":\"list\"}GARBAGE";
    struct proto_request req;
    (void)state;

    assert_int_equal(parse_n(buf, 15, &req), PROTO_OK);
    assert_int_equal(req.type, PROTO_LIST);
    proto_request_clear(&req);
    assert_int_equal(parse_n(buf, sizeof(buf) - 1, &req), PROTO_ERR_BAD_JSON);
    assert_int_equal(parse_n(buf, 14, &req), PROTO_ERR_BAD_JSON);
}

static void test_bad_json(void **state)
{
    (void)state;
    refused("{", PROTO_ERR_BAD_JSON);
    refused("{\"type\":", PROTO_ERR_BAD_JSON);
    refused("{\"type\":\"list\",}", PROTO_ERR_BAD_JSON);
    refused("{'type':'list'}", PROTO_ERR_BAD_JSON);
    refused("{\"type\":\"list\"}{\"type\":\"list\"}", PROTO_ERR_BAD_JSON);
    refused("[", PROTO_ERR_BAD_JSON);
    /* valid JSON that is not an object */
    refused("[1]", PROTO_ERR_BAD_JSON);
    refused("[]", PROTO_ERR_BAD_JSON);
    refused("[{\"type\":\"list\"}]", PROTO_ERR_BAD_JSON);
    /* duplicate keys, the type itself or another field */
    refused("{\"type\":\"chat\",\"type\":\"list\"}", PROTO_ERR_BAD_JSON);
    refused("{\"type\":\"chat\",\"text\":\"a\",\"text\":\"b\"}", PROTO_ERR_BAD_JSON);
    /* a lone surrogate escape is not a character */
    refused("{\"type\":\"chat\",\"text\":\"\\ud800\"}", PROTO_ERR_BAD_JSON);
    refused("{\"type\":\"chat\",\"text\":\"\\u12\"}", PROTO_ERR_BAD_JSON);
}

/* Writes a signal whose data nests arrays so the whole message is depth levels deep. */
static void nested_signal(char *buf, size_t cap, int depth)
{
    size_t off = (size_t)snprintf(buf, cap, "{\"type\":\"signal\",\"to\":2,\"data\":");

    assert_true(off + 2 * (size_t)depth + 2 <= cap);
    for (int i = 1; i < depth; i++)
        buf[off++] = '[';
    for (int i = 1; i < depth; i++)
        buf[off++] = ']';
    buf[off++] = '}';
    buf[off] = '\0';
}

static void test_nesting_limit(void **state)
{
    size_t n = 100000;
    char *deep = malloc(n);
    char buf[256];
    (void)state;

    assert_non_null(deep);
    memset(deep, '[', n);
    struct proto_request req;
    assert_int_equal(parse_n(deep, n, &req), PROTO_ERR_BAD_JSON);
    memset(deep, '{', n);
    assert_int_equal(parse_n(deep, n, &req), PROTO_ERR_BAD_JSON);
    /* closed brackets too: deep but well formed */
    for (size_t i = 0; i < n / 2; i++) {
        deep[i] = '[';
        deep[n - 1 - i] = ']';
    }
    assert_int_equal(parse_n(deep, n, &req), PROTO_ERR_BAD_JSON);
    free(deep);

    /* depth exactly PROTO_MAX_DEPTH (the object is level 1) is accepted, one more is not */
    nested_signal(buf, sizeof(buf), PROTO_MAX_DEPTH);
    assert_int_equal(parse(buf, &req), PROTO_OK);
    assert_int_equal(req.type, PROTO_SIGNAL);
    proto_request_clear(&req);
    nested_signal(buf, sizeof(buf), PROTO_MAX_DEPTH + 1);
    refused(buf, PROTO_ERR_BAD_JSON);

    /* brackets inside strings (with escaped quotes and backslashes) do not count */
    char *text = repeat_field("chat", "text", "[{\\\"\\\\", 100);
    assert_int_equal(parse(text, &req), PROTO_OK);
    assert_int_equal(strlen(req.text), 400);
    proto_request_clear(&req);
    free(text);
}

static void test_unknown_type(void **state)
{
    (void)state;
    refused("{}", PROTO_ERR_UNKNOWN_TYPE);
    refused("{\"type\":1}", PROTO_ERR_UNKNOWN_TYPE);
    refused("{\"type\":null}", PROTO_ERR_UNKNOWN_TYPE);
    refused("{\"type\":[\"chat\"]}", PROTO_ERR_UNKNOWN_TYPE);
    refused("{\"type\":\"dance\"}", PROTO_ERR_UNKNOWN_TYPE);
    refused("{\"type\":\"\"}", PROTO_ERR_UNKNOWN_TYPE);
    refused("{\"type\":\"CHAT\",\"text\":\"hi\"}", PROTO_ERR_UNKNOWN_TYPE);
    refused("{\"type\":\"chat \",\"text\":\"hi\"}", PROTO_ERR_UNKNOWN_TYPE);
    refused("{\"Type\":\"list\"}", PROTO_ERR_UNKNOWN_TYPE);
}

/* BUG (reported to the lead): the type is compared with strcmp, so a type string with an embedded
 * NUL ("list\u0000x", which Jansson accepts with JSON_ALLOW_NUL) is taken for "list" instead of
 * being an unknown type. */
static void test_type_with_nul_is_unknown(void **state)
{
    (void)state;
    refused("{\"type\":\"list\\u0000x\"}", PROTO_ERR_UNKNOWN_TYPE);
    refused("{\"type\":\"chat\\u0000\",\"text\":\"hi\"}", PROTO_ERR_UNKNOWN_TYPE);
}

static void test_nickname(void **state)
{
    (void)state;
    accepted("{\"type\":\"nickname\",\"nickname\":\"Bob\"}", PROTO_NICKNAME, "Bob");
    accepted("{\"type\":\"nickname\",\"nickname\":\"  Bob the Builder \\t\\n\"}", PROTO_NICKNAME,
             "Bob the Builder");
    /* U+00A0 and U+3000 (raw and escaped) are whitespace too; inner ones stay */
    accepted("{\"type\":\"nickname\",\"nickname\":\"\xc2\xa0\xe3\x80\x80Zo\xc3\xab\xe3\x80\x80\"}",
             PROTO_NICKNAME, "Zo\xc3\xab");
    accepted("{\"type\":\"nickname\",\"nickname\":\"\\u00a0\\u3000a\\u3000b\\u2029\\ufeff\"}",
             PROTO_NICKNAME,
             "a\xe3\x80\x80"
             "b");
    /* zero-width characters are not whitespace (and not Cc) */
    accepted("{\"type\":\"nickname\",\"nickname\":\"\\u200bx\"}", PROTO_NICKNAME, "\xe2\x80\x8bx");
    refused("{\"type\":\"nickname\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"nickname\",\"nickname\":null}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"nickname\",\"nickname\":7}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"nickname\",\"nickname\":[\"Bob\"]}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"nickname\",\"nickname\":\"\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"nickname\",\"nickname\":\"  \\u3000\\u00a0 \"}", PROTO_ERR_BAD_FIELD);
    /* control characters (Cc), anywhere, including NUL, tab and C1 */
    refused("{\"type\":\"nickname\",\"nickname\":\"a\\u0000b\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"nickname\",\"nickname\":\"Bob\\u0000\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"nickname\",\"nickname\":\"a\\tb\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"nickname\",\"nickname\":\"a\\nb\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"nickname\",\"nickname\":\"a\\u0007b\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"nickname\",\"nickname\":\"a\\u001bb\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"nickname\",\"nickname\":\"a\\u007fb\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"nickname\",\"nickname\":\"a\\u0085b\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"nickname\",\"nickname\":\"a\\u009fb\"}", PROTO_ERR_BAD_FIELD);
}

static void test_nickname_length_in_code_points(void **state)
{
    (void)state;
    check_length("nickname", "nickname", "a", 1, PROTO_NICKNAME_MAX, PROTO_NICKNAME);
    check_length("nickname", "nickname", "\xc3\xa9", 2, PROTO_NICKNAME_MAX, PROTO_NICKNAME);
    /* U+1F600 (4 bytes): 32 fit although they take 128 bytes */
    check_length("nickname", "nickname", "\xf0\x9f\x98\x80", 4, PROTO_NICKNAME_MAX, PROTO_NICKNAME);
    /* the same emoji as a surrogate pair escape */
    check_length("nickname", "nickname", "\\ud83d\\ude00", 4, PROTO_NICKNAME_MAX, PROTO_NICKNAME);

    /* whitespace around does not count */
    char *s = repeat_field("nickname", "nickname", "x", PROTO_NICKNAME_MAX);
    size_t len = strlen(s);
    char *padded = malloc(len + 32);
    struct proto_request req;
    assert_non_null(padded);
    snprintf(padded, len + 32, "{\"type\":\"nickname\",\"nickname\":\"   %.*s \\u3000\"}",
             PROTO_NICKNAME_MAX, s + strlen("{\"type\":\"nickname\",\"nickname\":\""));
    assert_int_equal(parse(padded, &req), PROTO_OK);
    assert_int_equal(strlen(req.text), PROTO_NICKNAME_MAX);
    proto_request_clear(&req);
    free(padded);
    free(s);
}

static void test_join(void **state)
{
    (void)state;
    accepted("{\"type\":\"join\",\"room\":\"lobby\"}", PROTO_JOIN, "lobby");
    accepted("{\"type\":\"join\",\"room\":\" \\u00a0Caf\\u00e9 au lait\\u3000 \"}", PROTO_JOIN,
             "Caf\xc3\xa9 au lait");
    refused("{\"type\":\"join\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"join\",\"room\":1}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"join\",\"room\":{}}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"join\",\"room\":\"\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"join\",\"room\":\" \\n \"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"join\",\"room\":\"a\\u0000\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"join\",\"room\":\"a\\tb\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"join\",\"room\":\"a\\rb\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"join\",\"room\":\"a\\u0080b\"}", PROTO_ERR_BAD_FIELD);
    check_length("join", "room", "r", 1, PROTO_ROOM_MAX, PROTO_JOIN);
    check_length("join", "room", "\xe6\x97\xa5", 3, PROTO_ROOM_MAX, PROTO_JOIN);
    check_length("join", "room", "\xf0\x9f\x8e\x89", 4, PROTO_ROOM_MAX, PROTO_JOIN);
}

static void test_chat(void **state)
{
    (void)state;
    accepted("{\"type\":\"chat\",\"text\":\"hi\"}", PROTO_CHAT, "hi");
    accepted("{\"type\":\"chat\",\"text\":\"\\n  two\\nlines\\tand a tab \\u3000\\n\"}", PROTO_CHAT,
             "two\nlines\tand a tab");
    accepted("{\"type\":\"chat\",\"text\":\"a\\r\\nb\"}", PROTO_CHAT, "a\r\nb");
    accepted("{\"type\":\"chat\",\"text\":\"\\\"quoted\\\" \\\\ \\/ <b>&amp;</b>\"}", PROTO_CHAT,
             "\"quoted\" \\ / <b>&amp;</b>");
    refused("{\"type\":\"chat\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"chat\",\"text\":true}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"chat\",\"text\":12}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"chat\",\"text\":\"\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"chat\",\"text\":\" \\n\\t \"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"chat\",\"text\":\"a\\u0000b\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"chat\",\"text\":\"a\\u0001b\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"chat\",\"text\":\"a\\u000bb\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"chat\",\"text\":\"a\\u007fb\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"chat\",\"text\":\"a\\u0085b\"}", PROTO_ERR_BAD_FIELD);
    check_length("chat", "text", "c", 1, PROTO_CHAT_MAX, PROTO_CHAT);
    check_length("chat", "text", "\xf0\x9f\x98\x80", 4, PROTO_CHAT_MAX, PROTO_CHAT);
}

static void test_chat_line_breaks_count(void **state)
{
    /* inner line breaks count as code points: "x ", 1996 breaks, " x" is 2000, one more is 2001 */
    char *ok = repeat_field("chat", "text", "\\n", PROTO_CHAT_MAX - 2);
    char *over = repeat_field("chat", "text", "\\n", PROTO_CHAT_MAX - 1);
    char *p;
    struct proto_request req;
    (void)state;

    p = strstr(ok, "\"text\":\"") + 8;
    p[0] = 'x';
    p[1] = ' ';
    p = strrchr(ok, '"');
    p[-2] = ' ';
    p[-1] = 'x';
    assert_int_equal(parse(ok, &req), PROTO_OK);
    proto_request_clear(&req);
    p = strstr(over, "\"text\":\"") + 8;
    p[0] = 'x';
    p[1] = ' ';
    p = strrchr(over, '"');
    p[-2] = ' ';
    p[-1] = 'x';
    refused(over, PROTO_ERR_BAD_FIELD);
    free(ok);
    free(over);
}

static void test_chat_text_plain(void **state)
{
    char *out = NULL;
    const char *detail = NULL;
    char *big;
    (void)state;

    assert_int_equal(proto_chat_text(S("  hello from the browser! \n"), &out, &detail), PROTO_OK);
    assert_string_equal(out, "hello from the browser!");
    free(out);
    out = NULL;
    assert_int_equal(proto_chat_text(S("\xe3\x80\x80line1\nline2\t\xc2\xa0"), &out, &detail),
                     PROTO_OK);
    assert_string_equal(out, "line1\nline2");
    free(out);
    out = NULL;
    assert_int_equal(proto_chat_text(S(" \t "), &out, &detail), PROTO_ERR_BAD_FIELD);
    assert_null(out);
    assert_non_null(detail);
    detail = NULL;
    assert_int_equal(proto_chat_text(S("a\x01"
                                       "b"),
                                     &out, &detail),
                     PROTO_ERR_BAD_FIELD);
    assert_non_null(detail);
    detail = NULL;
    assert_int_equal(proto_chat_text("a\0b", 3, &out, &detail), PROTO_ERR_BAD_FIELD);
    assert_non_null(detail);
    detail = NULL;
    assert_int_equal(proto_chat_text(S("bad \xff utf8"), &out, &detail), PROTO_ERR_BAD_FIELD);
    assert_non_null(detail);
    big = malloc(PROTO_CHAT_MAX * 3 + 1);
    assert_non_null(big);
    for (size_t i = 0; i < PROTO_CHAT_MAX; i++)
        memcpy(big + i * 3, "\xe2\x82\xac", 3);
    assert_int_equal(proto_chat_text(big, PROTO_CHAT_MAX * 3, &out, &detail), PROTO_OK);
    assert_int_equal(strlen(out), PROTO_CHAT_MAX * 3);
    free(out);
    out = NULL;
    memcpy(big + PROTO_CHAT_MAX * 3, "!", 1);
    assert_int_equal(proto_chat_text(big, PROTO_CHAT_MAX * 3 + 1, &out, &detail),
                     PROTO_ERR_BAD_FIELD);
    assert_null(out);
    free(big);
}

/* Parses a signal and checks its recipient and its data (compact JSON, exact). */
static void signal_ok(const char *s, uint64_t to, const char *data)
{
    struct proto_request req;
    int rc = parse(s, &req);

    if (rc != PROTO_OK)
        fail_msg("%s: expected ok, got %d", s, rc);
    assert_int_equal(req.type, PROTO_SIGNAL);
    assert_int_equal(req.to, to);
    assert_null(req.text);
    assert_non_null(req.data);
    assert_string_equal(req.data, data);
    proto_request_clear(&req);
}

static void test_signal(void **state)
{
    (void)state;
    signal_ok("{\"type\":\"signal\",\"to\":2,\"data\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\no=- "
              "1 2 IN IP4 127.0.0.1\\r\\n\"}}",
              2, "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n\"}");
    /* data is any JSON value, key order kept, whitespace compacted */
    signal_ok("{\"type\":\"signal\",\"to\":7,\"data\":null}", 7, "null");
    signal_ok("{\"data\":true,\"to\":7,\"type\":\"signal\"}", 7, "true");
    signal_ok("{\"type\":\"signal\",\"to\":7,\"data\":\"x\"}", 7, "\"x\"");
    signal_ok("{\"type\":\"signal\",\"to\":7,\"data\":-12}", 7, "-12");
    signal_ok("{\"type\":\"signal\",\"to\":7,\"data\":[]}", 7, "[]");
    signal_ok("{\"type\":\"signal\",\"to\":7,\"data\": { \"z\" : [1, {\"a\":\"\xc3\xa9\"}],"
              " \"a\" : {} } }",
              7, "{\"z\":[1,{\"a\":\"\xc3\xa9\"}],\"a\":{}}");
    signal_ok("{\"type\":\"signal\",\"to\":9007199254740993,\"data\":0}", 9007199254740993ULL, "0");

    refused("{\"type\":\"signal\",\"to\":2}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"signal\",\"data\":{}}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"signal\",\"to\":0,\"data\":{}}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"signal\",\"to\":-3,\"data\":{}}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"signal\",\"to\":\"2\",\"data\":{}}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"signal\",\"to\":2.5,\"data\":{}}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"signal\",\"to\":2.0,\"data\":{}}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"signal\",\"to\":null,\"data\":{}}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"signal\",\"to\":true,\"data\":{}}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"signal\",\"to\":[2],\"data\":{}}", PROTO_ERR_BAD_FIELD);
}

static void test_private_fields(void **state)
{
    struct proto_request req;
    (void)state;

    assert_int_equal(parse("{\"type\":\"join\",\"room\":\"r\",\"create\":true,\"listed\":false,"
                           "\"passcode\":\" 12 34 \"}",
                           &req),
                     PROTO_OK);
    assert_true(req.create);
    assert_false(req.listed);
    assert_string_equal(req.passcode, " 12 34 "); /* never trimmed */
    proto_request_clear(&req);
    assert_int_equal(parse("{\"type\":\"join\",\"room\":\"r\",\"passcode\":null}", &req), PROTO_OK);
    assert_null(req.passcode);
    assert_false(req.create || req.listed);
    proto_request_clear(&req);
    refused("{\"type\":\"join\",\"room\":\"r\",\"passcode\":\"123\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"join\",\"room\":\"r\",\"passcode\":\"\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"join\",\"room\":\"r\",\"passcode\":\"12\\n34\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"join\",\"room\":\"r\",\"passcode\":1234}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"join\",\"room\":\"r\",\"create\":\"true\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"join\",\"room\":\"r\",\"listed\":null}", PROTO_ERR_BAD_FIELD);
    /* four code points of four bytes each pass; 65 of anything do not */
    assert_int_equal(parse("{\"type\":\"join\",\"room\":\"r\",\"passcode\":"
                           "\"\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89\"}",
                           &req),
                     PROTO_OK);
    proto_request_clear(&req);
    char buf[256];
    snprintf(buf, sizeof(buf), "{\"type\":\"passcode\",\"passcode\":\"%065d\"}", 0);
    refused(buf, PROTO_ERR_BAD_FIELD);
    snprintf(buf, sizeof(buf), "{\"type\":\"passcode\",\"passcode\":\"%064d\"}", 0);
    assert_int_equal(parse(buf, &req), PROTO_OK);
    assert_int_equal(req.type, PROTO_PASSCODE);
    assert_int_equal(strlen(req.passcode), 64);
    proto_request_clear(&req);
    assert_int_equal(parse("{\"type\":\"passcode\",\"passcode\":null}", &req), PROTO_OK);
    assert_null(req.passcode);
    proto_request_clear(&req);
    refused("{\"type\":\"passcode\"}", PROTO_ERR_BAD_FIELD);

    assert_int_equal(parse("{\"type\":\"lock\",\"locked\":true}", &req), PROTO_OK);
    assert_int_equal(req.type, PROTO_LOCK);
    assert_true(req.locked);
    proto_request_clear(&req);
    refused("{\"type\":\"lock\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"lock\",\"locked\":1}", PROTO_ERR_BAD_FIELD);

    assert_int_equal(parse("{\"type\":\"remove\",\"id\":42}", &req), PROTO_OK);
    assert_int_equal(req.type, PROTO_REMOVE);
    assert_int_equal(req.to, 42);
    proto_request_clear(&req);
    refused("{\"type\":\"remove\"}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"remove\",\"id\":-1}", PROTO_ERR_BAD_FIELD);
    refused("{\"type\":\"remove\",\"id\":1.5}", PROTO_ERR_BAD_FIELD);
    assert_string_equal(proto_error_code(PROTO_ERR_ROOM_EXISTS), "room_exists");
    assert_string_equal(proto_error_code(PROTO_ERR_BAD_PASSCODE), "bad_passcode");
    assert_string_equal(proto_error_code(PROTO_ERR_ROOM_LOCKED), "room_locked");
    assert_string_equal(proto_error_code(PROTO_ERR_NOT_HOST), "not_host");
}

static void test_log_redact(void **state)
{
    char *s;
    (void)state;

#define REDACTS(in, out)                                                                           \
    do {                                                                                           \
        s = proto_log_redact((in), strlen(in));                                                    \
        assert_non_null(s);                                                                        \
        assert_string_equal(s, (out));                                                             \
        free(s);                                                                                   \
    } while (0)
    REDACTS("{\"type\":\"join\",\"room\":\"hr-dismissal-jane\",\"passcode\":\"s3cret\"}",
            "{\"type\":\"join\",\"room\":\"<17 B>\",\"passcode\":\"<hidden>\"}");
    REDACTS("{\"type\":\"resume\",\"token\":\"0123456789abcdef0123456789abcdef\"}",
            "{\"type\":\"resume\",\"token\":\"<hidden>\"}");
    REDACTS("{\"type\":\"passcode\",\"passcode\":null}",
            "{\"type\":\"passcode\",\"passcode\":\"<hidden>\"}");
    REDACTS("{\"type\":\"join\",\"room\":5}", "{\"type\":\"join\",\"room\":\"<0 B>\"}");
    /* not JSON but naming a secret: a placeholder only */
    s = proto_log_redact("{\"passcode\":\"s3cret\",", 21);
    assert_non_null(s);
    assert_null(strstr(s, "s3cret"));
    free(s);
    /* an empty message (found by fuzz_proto: memmem with a NULL buffer) */
    assert_null(proto_log_redact(NULL, 0));
    assert_null(proto_log_redact("", 0));
    /* nothing to hide: logged as it is */
    assert_null(proto_log_redact("hello from the browser!", 23));
    assert_null(proto_log_redact("{\"type\":\"nickname\",\"nickname\":\"Ada\"}", 36));
    assert_null(proto_log_redact("{\"type\":\"chat\",", 15));
#undef REDACTS
}

static void test_error_codes(void **state)
{
    (void)state;
    assert_string_equal(proto_error_code(PROTO_ERR_BAD_JSON), "bad_json");
    assert_string_equal(proto_error_code(PROTO_ERR_UNKNOWN_TYPE), "unknown_type");
    assert_string_equal(proto_error_code(PROTO_ERR_BAD_FIELD), "bad_field");
    assert_string_equal(proto_error_code(PROTO_ERR_ROOM_FULL), "room_full");
    assert_string_equal(proto_error_code(PROTO_ERR_NOT_IN_ROOM), "not_in_room");
    assert_string_equal(proto_error_code(PROTO_ERR_NO_SUCH_PEER), "no_such_peer");
    assert_string_equal(proto_error_code(PROTO_ERR_RATE_LIMITED), "rate_limited");
    assert_string_equal(proto_error_code(PROTO_ERR_COUNT), "internal");
    assert_string_equal(proto_error_code((enum proto_error) - 1), "internal");
}

static void test_build_hello(void **state)
{
    const struct proto_room_info rooms[] = {{"alpha", 1, 8, false, false},
                                            {"b\"eta", 8, 8, true, true}};
    (void)state;

    assert_msg(proto_hello("hello!", 1, "Anon", "t0k", NULL, 0),
               "{\"type\":\"hello\",\"text\":\"hello!\",\"id\":1,\"nickname\":\"Anon\","
               "\"token\":\"t0k\",\"rooms\":[]}");
    assert_msg(
        proto_hello("hi \xe2\x98\x83", 42, "Zo\xc3\xab", "abc", rooms, 2),
        "{\"type\":\"hello\",\"text\":\"hi \xe2\x98\x83\",\"id\":42,\"nickname\":"
        "\"Zo\xc3\xab\",\"token\":\"abc\",\"rooms\":[{\"name\":\"alpha\",\"count\":1,"
        "\"capacity\":8,\"locked\":false,\"protected\":false},{\"name\":\"b\\\"eta\",\"count\":8,"
        "\"capacity\":8,\"locked\":true,\"protected\":true}]}");
}

static void test_build_presence(void **state)
{
    const struct proto_member members[] = {{3, "Ann", true, false, false},
                                           {5, "B\\b", false, true, true}};
    (void)state;

    assert_msg(proto_nickname("Bob"), "{\"type\":\"nickname\",\"nickname\":\"Bob\"}");
    assert_msg(proto_renamed(3, "Anon", "Bob"),
               "{\"type\":\"renamed\",\"id\":3,\"old\":\"Anon\",\"nickname\":\"Bob\"}");
    const struct proto_room_meta host_meta = {4, false, true, true, true, "s\xc3\xa9same"};
    const struct proto_room_meta other_meta = {4, true, false, true, false, "never sent"};
    const struct proto_room_meta no_pw = {4, false, false, false, true, NULL};
    assert_msg(proto_joined("r", 4, NULL, 0, 1, &host_meta),
               "{\"type\":\"joined\",\"room\":\"r\",\"id\":4,\"members\":[],\"count\":1,"
               "\"host\":4,\"locked\":false,\"listed\":true,\"protected\":true,"
               "\"passcode\":\"s\xc3\xa9same\"}");
    assert_msg(proto_joined("r", 4, NULL, 0, 1, &no_pw),
               "{\"type\":\"joined\",\"room\":\"r\",\"id\":4,\"members\":[],\"count\":1,"
               "\"host\":4,\"locked\":false,\"listed\":false,\"protected\":false,"
               "\"passcode\":null}");
    assert_msg(proto_room("r", PROTO_CHANGE_LOCK, &other_meta),
               "{\"type\":\"room\",\"room\":\"r\",\"change\":\"lock\",\"host\":4,"
               "\"locked\":true,\"listed\":false,\"protected\":true}");
    assert_msg(proto_room("r", PROTO_CHANGE_HOST, &other_meta),
               "{\"type\":\"room\",\"room\":\"r\",\"change\":\"host\",\"host\":4,"
               "\"locked\":true,\"listed\":false,\"protected\":true}");
    assert_msg(proto_room("r", PROTO_CHANGE_PASSCODE, &no_pw),
               "{\"type\":\"room\",\"room\":\"r\",\"change\":\"passcode\",\"host\":4,"
               "\"locked\":false,\"listed\":false,\"protected\":false,\"passcode\":null}");
    assert_msg(proto_removed("r"), "{\"type\":\"removed\",\"room\":\"r\"}");
    assert_msg(proto_joined("r", 4, members, 2, 3, &other_meta),
               "{\"type\":\"joined\",\"room\":\"r\",\"id\":4,\"members\":[{\"id\":3,"
               "\"nickname\":\"Ann\",\"state\":{\"mic\":true,\"cam\":false,\"hand\":false}},"
               "{\"id\":5,\"nickname\":\"B\\\\b\",\"state\":{\"mic\":false,\"cam\":true,"
               "\"hand\":true}}],\"count\":3,\"host\":4,\"locked\":true,\"listed\":false,"
               "\"protected\":true}");
    assert_msg(proto_state(7, true, false, true),
               "{\"type\":\"state\",\"id\":7,\"mic\":true,\"cam\":false,\"hand\":true}");
    assert_msg(proto_react(7, "\xf0\x9f\x91\x8d"),
               "{\"type\":\"react\",\"id\":7,\"emoji\":\"\xf0\x9f\x91\x8d\"}");
    assert_msg(proto_resumed(7, "Ann", "r", "tk"),
               "{\"type\":\"resumed\",\"id\":7,\"nickname\":\"Ann\",\"room\":\"r\","
               "\"token\":\"tk\"}");
    assert_msg(proto_resumed(7, "Ann", NULL, "tk"),
               "{\"type\":\"resumed\",\"id\":7,\"nickname\":\"Ann\",\"room\":null,"
               "\"token\":\"tk\"}");
    assert_msg(proto_presence("welcome", "r", 9, "Cy", 2, &other_meta),
               "{\"type\":\"welcome\",\"room\":\"r\",\"id\":9,\"nickname\":\"Cy\",\"count\":2,"
               "\"host\":4,\"locked\":true,\"listed\":false,\"protected\":true}");
    assert_msg(proto_presence("bye", "r", 9, "Cy", 0, NULL),
               "{\"type\":\"bye\",\"room\":\"r\",\"id\":9,\"nickname\":\"Cy\",\"count\":0}");
    assert_msg(proto_left("r \xc3\xa9"), "{\"type\":\"left\",\"room\":\"r \xc3\xa9\"}");
}

static void test_build_chat(void **state)
{
    (void)state;
    assert_msg(proto_chat("r", 2, "Ann", "hi", 1, 1700000000123LL),
               "{\"type\":\"chat\",\"room\":\"r\",\"from\":{\"id\":2,\"nickname\":\"Ann\"},"
               "\"text\":\"hi\",\"seq\":1,\"ts\":1700000000123}");
    assert_msg(proto_chat("r", 2, "Ann", "a\"b\\c\nd\te</script>\xe2\x82\xac", 4000000000ULL, 0),
               "{\"type\":\"chat\",\"room\":\"r\",\"from\":{\"id\":2,\"nickname\":\"Ann\"},"
               "\"text\":\"a\\\"b\\\\c\\nd\\te</script>\xe2\x82\xac\",\"seq\":4000000000,"
               "\"ts\":0}");
}

static void test_build_signal(void **state)
{
    (void)state;
    assert_msg(proto_signal(5, "{\"sdp\":\"v=0\\r\\n\",\"type\":\"offer\"}"),
               "{\"type\":\"signal\",\"from\":5,\"data\":{\"sdp\":\"v=0\\r\\n\",\"type\":"
               "\"offer\"}}");
    assert_msg(proto_signal(18446744073709551615ULL, "null"),
               "{\"type\":\"signal\",\"from\":18446744073709551615,\"data\":null}");

    /* what proto_parse extracts goes through verbatim, and the result is valid JSON */
    struct proto_request req;
    assert_int_equal(parse("{\"type\":\"signal\",\"to\":3,\"data\":{\"candidate\":\"candidate:1 1 "
                           "udp 2122260223 192.0.2.1 54400 typ host\",\"sdpMid\":\"0\","
                           "\"sdpMLineIndex\":0}}",
                           &req),
                     PROTO_OK);
    struct msg *m = proto_signal(12, req.data);
    json_error_t err;
    json_t *v = json_loads(m->data, 0, &err);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "from")), 12);
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "data"), "candidate")),
                        "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host");
    json_decref(v);
    msg_unref(m);
    proto_request_clear(&req);
}

static void test_build_rooms_and_error(void **state)
{
    const struct proto_room_info rooms[] = {{"a", 2, 8, false, false}, {"z z", 1, 3, false, true}};
    char *s;
    (void)state;

    assert_msg(proto_rooms(NULL, 0), "{\"type\":\"rooms\",\"rooms\":[]}");
    assert_msg(proto_rooms(rooms, 2),
               "{\"type\":\"rooms\",\"rooms\":[{\"name\":\"a\",\"count\":2,\"capacity\":8,"
               "\"locked\":false,\"protected\":false},{\"name\":\"z z\",\"count\":1,"
               "\"capacity\":3,\"locked\":false,\"protected\":true}]}");
    assert_msg(proto_error(PROTO_ERR_ROOM_FULL, "the room is full"),
               "{\"type\":\"error\",\"code\":\"room_full\",\"message\":\"the room is full\"}");
    assert_msg(proto_error(PROTO_ERR_RATE_LIMITED, NULL),
               "{\"type\":\"error\",\"code\":\"rate_limited\",\"message\":\"\"}");
    assert_msg(proto_error(PROTO_ERR_BAD_JSON, "x"),
               "{\"type\":\"error\",\"code\":\"bad_json\",\"message\":\"x\"}");
    s = proto_rooms_json(NULL, 0);
    assert_string_equal(s, "{\"rooms\":[]}");
    free(s);
    s = proto_rooms_json(rooms, 2);
    assert_string_equal(s,
                        "{\"rooms\":[{\"name\":\"a\",\"count\":2,\"capacity\":8,\"locked\":false,"
                        "\"protected\":false},{\"name\":\"z z\",\"count\":1,\"capacity\":3,"
                        "\"locked\":false,\"protected\":true}]}");
    free(s);
}

static void test_config_json(void **state)
{
    char *s;
    (void)state;

    s = proto_config_json("stun:stun.example.org:3478, turn:turn.example.org:3478?transport=udp,"
                          "turns:turn.example.org:5349 ,stun:stun2.example.org",
                          "alice", "s3cr\"t", 8, 65536);
    assert_string_equal(s, "{\"iceServers\":[{\"urls\":[\"stun:stun.example.org:3478\","
                           "\"stun:stun2.example.org\"]},{\"urls\":[\"turn:turn.example.org:3478?"
                           "transport=udp\",\"turns:turn.example.org:5349\"],\"username\":"
                           "\"alice\",\"credential\":\"s3cr\\\"t\"}],\"maxRoomMembers\":8,"
                           "\"maxMessageBytes\":65536}");
    free(s);

    /* the default: one STUN server, no credentials to attach */
    s = proto_config_json("stun:stun.l.google.com:19302", "alice", "secret", 8, 1048576);
    assert_string_equal(s, "{\"iceServers\":[{\"urls\":[\"stun:stun.l.google.com:19302\"]}],"
                           "\"maxRoomMembers\":8,\"maxMessageBytes\":1048576}");
    free(s);

    /* TURN only, credentials missing or empty are left out */
    s = proto_config_json("turn:t:3478", NULL, "", 2, 1);
    assert_string_equal(s, "{\"iceServers\":[{\"urls\":[\"turn:t:3478\"]}],\"maxRoomMembers\":2,"
                           "\"maxMessageBytes\":1}");
    free(s);
    s = proto_config_json("turn:t:3478", "", "pw", 2, 1);
    assert_string_equal(s, "{\"iceServers\":[{\"urls\":[\"turn:t:3478\"],\"credential\":\"pw\"}],"
                           "\"maxRoomMembers\":2,\"maxMessageBytes\":1}");
    free(s);

    /* empty lists and stray separators */
    s = proto_config_json("", "u", "p", 8, 100);
    assert_string_equal(s, "{\"iceServers\":[],\"maxRoomMembers\":8,\"maxMessageBytes\":100}");
    free(s);
    s = proto_config_json(NULL, NULL, NULL, 8, 100);
    assert_string_equal(s, "{\"iceServers\":[],\"maxRoomMembers\":8,\"maxMessageBytes\":100}");
    free(s);
    s = proto_config_json(" , ,stun:a ,, ", NULL, NULL, 1000, 1048576);
    assert_string_equal(s, "{\"iceServers\":[{\"urls\":[\"stun:a\"]}],\"maxRoomMembers\":1000,"
                           "\"maxMessageBytes\":1048576}");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text_is_not_json),
        cmocka_unit_test(test_simple_types),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_unknown_type),
        cmocka_unit_test(test_type_with_nul_is_unknown),
        cmocka_unit_test(test_nickname),
        cmocka_unit_test(test_nickname_length_in_code_points),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_chat),
        cmocka_unit_test(test_chat_line_breaks_count),
        cmocka_unit_test(test_chat_text_plain),
        cmocka_unit_test(test_signal),
        cmocka_unit_test(test_private_fields),
        cmocka_unit_test(test_log_redact),
        cmocka_unit_test(test_error_codes),
        cmocka_unit_test(test_build_hello),
        cmocka_unit_test(test_build_presence),
        cmocka_unit_test(test_build_chat),
        cmocka_unit_test(test_build_signal),
        cmocka_unit_test(test_build_rooms_and_error),
        cmocka_unit_test(test_config_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
