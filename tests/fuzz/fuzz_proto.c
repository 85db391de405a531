/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the JSON protocol codec. Valid UTF-8 input (what the server passes on) goes
 * to proto_parse and proto_chat_text, whose answers must obey their contracts; then the builders
 * get strings cut from the input (at 0xFF bytes, which UTF-8 never has): each reply must parse
 * back with Jansson to the same strings, and the hand-written chat serializer must give exactly
 * Jansson's compact dump. A parsed signal's data must travel through proto_signal unchanged. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "frame.h"
#include "fuzz.h"
#include "msg.h"
#include "hub.h"
#include "proto.h"
#include "utf8.h"

#define FUZZ_PARTS 4

static bool str_valid(const char *s)
{
    return utf8_valid(s, strlen(s));
}

/* Code points in s, which is valid UTF-8. */
static size_t cps(const char *s)
{
    return utf8_count(s, strlen(s));
}

static bool is_trimmed_text(const char *s, size_t max)
{
    size_t len = strlen(s), n;
    uint32_t first, last = 0;

    if (!len || !utf8_valid(s, len) || cps(s) > max)
        return false;
    first = utf8_decode(s, len, &n);
    for (size_t i = 0; i < len; i += n)
        last = utf8_decode(s + i, len - i, &n);
    return first != ' ' && first != '\t' && first != '\n' && first != 0xFEFF && last != ' ' &&
           last != '\t' && last != '\n' && last != 0x3000;
}

/* Checks m is a server text frame around valid JSON and returns the parsed object (caller
 * releases it). */
static json_t *reply(struct msg *m)
{
    struct frame_header h;
    json_error_t err;
    json_t *v;

    FUZZ_CHECK(m != NULL && m->opcode == FRAME_OP_TEXT && m->data[m->len] == '\0');
    FUZZ_CHECK(strlen(m->data) == m->len && utf8_valid(m->data, m->len));
    FUZZ_CHECK(frame_header_parse((const unsigned char *)m->frame, m->frame_len, &h) > 0);
    FUZZ_CHECK(h.bits == 0x81 && !h.masked && h.len == m->len);
    FUZZ_CHECK(m->frame + h.size == m->data && m->frame_len == h.size + m->len);
    v = json_loadb(m->data, m->len, JSON_REJECT_DUPLICATES, &err);
    if (!v)
        fprintf(stderr, "reply is not JSON (%s): %s\n", err.text, m->data);
    FUZZ_CHECK(json_is_object(v));
    return v;
}

static bool str_is(json_t *obj, const char *key, const char *want)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) && json_string_length(v) == strlen(want) &&
           strcmp(json_string_value(v), want) == 0;
}

static bool int_is(json_t *obj, const char *key, json_int_t want)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) && json_integer_value(v) == want;
}

static void check_parse(const char *buf, size_t len)
{
    struct proto_request req;
    const char *detail = NULL;
    char *text = NULL;
    int rc = proto_parse(hub_protocol, buf, len, &req, &detail);

    FUZZ_CHECK(rc >= -1 && rc < PROTO_ERR_COUNT);
    if (rc == -1) {
        size_t i = 0;
        while (i < len && strchr(" \t\n\r", buf[i]) && buf[i])
            i++;
        FUZZ_CHECK(i == len || (buf[i] != '{' && buf[i] != '['));
    } else if (rc != PROTO_OK) {
        FUZZ_CHECK(detail != NULL && detail[0] != '\0');
        FUZZ_CHECK(req.text == NULL && req.data == NULL);
    } else {
        switch (req.type) {
        case PROTO_NICKNAME:
            FUZZ_CHECK(req.text && is_trimmed_text(req.text, PROTO_NICKNAME_MAX));
            break;
        case PROTO_JOIN:
            FUZZ_CHECK(req.text && is_trimmed_text(req.text, PROTO_ROOM_MAX));
            FUZZ_CHECK(!req.passcode || (str_valid(req.passcode) && strlen(req.passcode) >= 4 &&
                                         strlen(req.passcode) <= PROTO_PASSCODE_MAX_BYTES));
            break;
        case PROTO_CHAT:
            FUZZ_CHECK(req.text && is_trimmed_text(req.text, PROTO_CHAT_MAX));
            break;
        case PROTO_SIGNAL: {
            json_error_t err;
            json_t *d = json_loads(req.data, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
            json_t *got;
            struct msg *m;

            FUZZ_CHECK(d != NULL && req.to > 0);
            m = proto_signal(req.to, req.data);
            got = reply(m);
            FUZZ_CHECK(str_is(got, "type", "signal") && int_is(got, "from", (json_int_t)req.to));
            FUZZ_CHECK(json_equal(json_object_get(got, "data"), d));
            json_decref(got);
            json_decref(d);
            msg_unref(m);
            break;
        }
        case PROTO_LEAVE:
        case PROTO_LIST:
            FUZZ_CHECK(req.text == NULL && req.data == NULL);
            break;
        default: /* types added since: their strings are at least valid text */
            FUZZ_CHECK(req.type > 0 && (!req.text || str_valid(req.text)));
            break;
        }
    }
    /* the log's copy: whatever it parsed, no passcode or token survives */
    char *red = proto_log_redact(buf, len);
    if (red) {
        json_t *o = json_loads(red, 0, NULL);
        FUZZ_CHECK(o == NULL || !json_is_string(json_object_get(o, "passcode")) ||
                   !strcmp(json_string_value(json_object_get(o, "passcode")), "<hidden>"));
        json_decref(o);
        free(red);
    }
    proto_request_clear(&req);

    rc = proto_chat_text(buf, len, &text, &detail);
    if (rc == PROTO_OK)
        FUZZ_CHECK(text && is_trimmed_text(text, PROTO_CHAT_MAX));
    else
        FUZZ_CHECK(rc == PROTO_ERR_BAD_FIELD && detail && detail[0]);
    free(text);
}

/* The chat message as Jansson writes it, for the byte-for-byte comparison. */
static char *jansson_chat(const char *room, uint64_t id, const char *nick, const char *text,
                          uint64_t seq, int64_t ts)
{
    json_t *o = json_pack("{s:s,s:s,s:{s:I,s:s},s:s,s:I,s:I}", "type", "chat", "room", room, "from",
                          "id", (json_int_t)id, "nickname", nick, "text", text, "seq",
                          (json_int_t)seq, "ts", (json_int_t)ts);
    char *s;

    FUZZ_CHECK(o != NULL);
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    FUZZ_CHECK(s != NULL);
    return s;
}

static void check_builders(const char *p[FUZZ_PARTS], uint64_t r)
{
    uint64_t id = r & INT64_MAX, seq = (r * 31) & INT64_MAX;
    int64_t ts = (int64_t)(r * 0x9E3779B97F4A7C15u);
    unsigned count = (unsigned)(r >> 40);
    struct proto_room_info rooms[2] = {{p[0], count, 8, true, false}, {p[1], 1, 8, false, true}};
    struct proto_room_meta meta = {id, r & 1, r & 2, r & 4, true, p[2]};
    struct proto_member members[2] = {{.id = id, .nickname = p[1]}, {.id = seq, .nickname = p[2]}};
    struct msg *m;
    json_t *v, *e;
    char *s;

    m = proto_chat(p[0], id, p[1], p[2], seq, ts);
    v = reply(m);
    s = jansson_chat(p[0], id, p[1], p[2], seq, ts);
    if (strcmp(s, m->data) != 0)
        fprintf(stderr, "proto_chat: %s\njansson:    %s\n", m->data, s);
    FUZZ_CHECK(strcmp(s, m->data) == 0);
    free(s);
    e = json_object_get(v, "from");
    FUZZ_CHECK(str_is(v, "type", "chat") && str_is(v, "room", p[0]) && str_is(v, "text", p[2]));
    FUZZ_CHECK(int_is(e, "id", (json_int_t)id) && str_is(e, "nickname", p[1]));
    FUZZ_CHECK(int_is(v, "seq", (json_int_t)seq) && int_is(v, "ts", ts));
    json_decref(v);
    msg_unref(m);

    v = reply(m = proto_nickname(p[1]));
    FUZZ_CHECK(str_is(v, "type", "nickname") && str_is(v, "nickname", p[1]));
    json_decref(v);
    msg_unref(m);

    v = reply(m = proto_renamed(id, p[1], p[2]));
    FUZZ_CHECK(str_is(v, "old", p[1]) && str_is(v, "nickname", p[2]));
    json_decref(v);
    msg_unref(m);

    v = reply(m = proto_joined(p[0], id, members, 2, count, &meta));
    e = json_array_get(json_object_get(v, "members"), 1);
    FUZZ_CHECK(str_is(v, "room", p[0]) && int_is(v, "count", count));
    FUZZ_CHECK(int_is(v, "host", (json_int_t)id) && str_is(v, "passcode", p[2]));
    FUZZ_CHECK(int_is(e, "id", (json_int_t)seq) && str_is(e, "nickname", p[2]));
    json_decref(v);
    msg_unref(m);

    v = reply(m = proto_room(p[0], (enum proto_room_change)(seq % 3), &meta));
    FUZZ_CHECK(str_is(v, "type", "room") && str_is(v, "room", p[0]) &&
               json_is_string(json_object_get(v, "change")) && str_is(v, "passcode", p[2]));
    json_decref(v);
    msg_unref(m);

    v = reply(m = proto_presence("bye", p[0], id, p[1], count, NULL));
    FUZZ_CHECK(str_is(v, "type", "bye") && str_is(v, "room", p[0]) && str_is(v, "nickname", p[1]));
    json_decref(v);
    msg_unref(m);

    v = reply(m = proto_left(p[0]));
    FUZZ_CHECK(str_is(v, "type", "left") && str_is(v, "room", p[0]));
    json_decref(v);
    msg_unref(m);

    v = reply(m = proto_rooms(rooms, 2));
    e = json_array_get(json_object_get(v, "rooms"), 0);
    FUZZ_CHECK(str_is(e, "name", p[0]) && int_is(e, "count", count));
    json_decref(v);
    msg_unref(m);

    v = reply(m = proto_error((enum proto_error)(r % (PROTO_ERR_COUNT + 1)), p[3]));
    FUZZ_CHECK(str_is(v, "type", "error") && str_is(v, "message", p[3]));
    json_decref(v);
    msg_unref(m);

    s = proto_rooms_json(rooms, 2);
    FUZZ_CHECK(s != NULL);
    v = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json_is_array(json_object_get(v, "rooms")));
    json_decref(v);
    free(s);

    s = proto_config_json(p[0], p[1], p[2], count, (long)(id & 0xFFFFFF));
    FUZZ_CHECK(s != NULL);
    v = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json_is_array(json_object_get(v, "iceServers")));
    json_decref(v);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = (char *)fuzz_dup(data, size);
    const char *parts[FUZZ_PARTS];
    char *strs;
    size_t start = 0, np = 0;

    if (utf8_valid(data, size))
        check_parse(buf, size);
    free(buf);

    /* strings for the builders: the pieces between 0xFF bytes, each cut at its first NUL */
    strs = malloc(size + 1);
    FUZZ_CHECK(strs != NULL);
    if (size)
        memcpy(strs, data, size);
    strs[size] = '\0';
    for (size_t i = 0; i <= size && np < FUZZ_PARTS; i++) {
        if (i == size || data[i] == 0xFF) {
            strs[i] = '\0';
            parts[np++] = strs + start;
            start = i + 1;
        }
    }
    for (size_t i = np; i < FUZZ_PARTS; i++)
        parts[i] = np ? parts[i % np] : "";
    bool ok = true;
    for (size_t i = 0; i < FUZZ_PARTS; i++)
        ok = ok && utf8_valid(parts[i], strlen(parts[i]));
    if (ok)
        check_builders(parts, fuzz_hash(FUZZ_HASH_INIT, data, size));
    free(strs);
    return 0;
}
