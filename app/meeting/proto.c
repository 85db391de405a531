/* SPDX-License-Identifier: MIT */
/* JSON codec for the huddle protocol with Jansson: strict validation of what clients send (types,
 * lengths in code points, trimming, control characters) and compact serialization of replies. */
#include "proto.h"
#include "strlist.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static const char *const error_codes[PROTO_ERR_COUNT] = {
    [PROTO_OK] = "ok",
    [PROTO_ERR_BAD_JSON] = "bad_json",
    [PROTO_ERR_UNKNOWN_TYPE] = "unknown_type",
    [PROTO_ERR_BAD_FIELD] = "bad_field",
    [PROTO_ERR_ROOM_FULL] = "room_full",
    [PROTO_ERR_NOT_IN_ROOM] = "not_in_room",
    [PROTO_ERR_NO_SUCH_PEER] = "no_such_peer",
    [PROTO_ERR_RATE_LIMITED] = "rate_limited",
    [PROTO_ERR_BAD_TOKEN] = "bad_token",
    [PROTO_ERR_ROOM_EXISTS] = "room_exists",
    [PROTO_ERR_BAD_PASSCODE] = "bad_passcode",
    [PROTO_ERR_ROOM_LOCKED] = "room_locked",
    [PROTO_ERR_NOT_HOST] = "not_host",
};

const char *proto_error_code(enum proto_error err)
{
    if ((int)err < 0 || err >= PROTO_ERR_COUNT)
        return "internal";
    return error_codes[err];
}

void proto_request_clear(struct proto_request *req)
{
    free(req->text);
    free(req->data);
    free(req->passcode);
    memset(req, 0, sizeof(*req));
}

/* Unicode White_Space (plus BOM), as JavaScript's trim() sees it. */
static bool is_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
           cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

/* Unicode general category Cc. */
static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* Trims s[0..len) (valid UTF-8) and checks 1..max code points and control characters
 * (allow_breaks lets \n, \r and \t through). Returns a heap copy or NULL with *detail set. */
static char *clean_text(const char *s, size_t len, size_t max, bool allow_breaks,
                        const char **detail, const char *what_empty, const char *what_long,
                        const char *what_ctrl)
{
    size_t start = 0, end = len, n;
    while (start < end) {
        uint32_t cp = utf8_decode(s + start, end - start, &n);
        if (!is_space(cp))
            break;
        start += n;
    }
    /* trailing: walk forward remembering the end of the last non-space code point */
    size_t last = start;
    for (size_t i = start; i < end; i += n) {
        uint32_t cp = utf8_decode(s + i, end - i, &n);
        if (!is_space(cp))
            last = i + n;
    }
    end = last;
    if (end == start) {
        *detail = what_empty;
        return NULL;
    }
    size_t count = 0;
    for (size_t i = start; i < end; i += n) {
        uint32_t cp = utf8_decode(s + i, end - i, &n);
        if (is_control(cp) && !(allow_breaks && (cp == '\n' || cp == '\r' || cp == '\t'))) {
            *detail = what_ctrl;
            return NULL;
        }
        if (++count > max) {
            *detail = what_long;
            return NULL;
        }
    }
    char *out = malloc(end - start + 1);
    if (!out) {
        *detail = "out of memory";
        return NULL;
    }
    memcpy(out, s + start, end - start);
    out[end - start] = '\0';
    return out;
}

int proto_chat_text(const char *buf, size_t len, char **out, const char **detail)
{
    if (!utf8_valid(buf, len)) {
        *detail = "text is not valid UTF-8";
        return PROTO_ERR_BAD_FIELD;
    }
    *out = clean_text(buf, len, PROTO_CHAT_MAX, true, detail, "text must not be empty",
                      "text is longer than 2000 characters", "text contains control characters");
    return *out ? PROTO_OK : PROTO_ERR_BAD_FIELD;
}

/* Nesting depth of a JSON text, counting brackets outside strings; stops early above limit. */
static int json_depth(const char *s, size_t len, int limit)
{
    int depth = 0, max = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max && (max = depth) > limit)
                return max;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return max;
}

/* One reaction: 1..PROTO_EMOJI_MAX code points, no spaces, controls or ASCII letters, and at
 * least one non-ASCII code point (keycaps such as 1 U+FE0F U+20E3 keep their digit). Returns a heap
 * copy or NULL with *detail set. */
static char *clean_emoji(const char *s, size_t len, const char **detail)
{
    size_t count = 0, n;
    bool wide = false;
    for (size_t i = 0; i < len; i += n) {
        uint32_t cp = utf8_decode(s + i, len - i, &n);
        if (is_space(cp) || is_control(cp) ||
            (cp < 0x80 && ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z'))) {
            *detail = "emoji must be one emoji";
            return NULL;
        }
        wide = wide || cp >= 0x80;
        count++;
    }
    if (!count || count > PROTO_EMOJI_MAX || !wide) {
        *detail = "emoji must be one emoji";
        return NULL;
    }
    char *out = strndup(s, len);
    if (!out)
        *detail = "out of memory";
    return out;
}

/* A passcode as given (never trimmed: the page sends what the user typed or the link carried):
 * PROTO_PASSCODE_MIN..MAX code points, no control characters (so no NUL). Returns a heap copy or
 * NULL with *detail set. */
static char *clean_passcode(const char *s, size_t len, const char **detail)
{
    size_t count = 0, n;
    for (size_t i = 0; i < len; i += n) {
        uint32_t cp = utf8_decode(s + i, len - i, &n);
        if (is_control(cp)) {
            *detail = "passcode contains control characters";
            return NULL;
        }
        count++;
    }
    if (count < PROTO_PASSCODE_MIN || count > PROTO_PASSCODE_MAX) {
        *detail = "passcode must be 4 to 64 characters";
        return NULL;
    }
    char *out = strndup(s, len);
    if (!out)
        *detail = "out of memory";
    return out;
}

/* A passcode field: absent or null leaves *out NULL. Returns PROTO_OK or PROTO_ERR_BAD_FIELD with
 * *detail set. */
static int field_passcode(json_t *root, char **out, const char **detail)
{
    json_t *v = json_object_get(root, "passcode");
    if (!v || json_is_null(v))
        return PROTO_OK;
    if (!json_is_string(v)) {
        *detail = "'passcode' must be a string or null";
        return PROTO_ERR_BAD_FIELD;
    }
    *out = clean_passcode(json_string_value(v), json_string_length(v), detail);
    return *out ? PROTO_OK : PROTO_ERR_BAD_FIELD;
}

/* An optional boolean field (absent = false). Returns 0, or -1 when it is not a boolean. */
static int field_flag(json_t *root, const char *key, bool *out)
{
    json_t *v = json_object_get(root, key);
    if (v && !json_is_boolean(v))
        return -1;
    *out = json_is_true(v);
    return 0;
}

static int field_string(json_t *root, const char *key, const char **s, size_t *len)
{
    json_t *v = json_object_get(root, key);
    if (!json_is_string(v))
        return -1;
    *s = json_string_value(v);
    *len = json_string_length(v);
    return 0;
}

int proto_parse(const char *buf, size_t len, struct proto_request *req, const char **detail)
{
    size_t i = 0;
    memset(req, 0, sizeof(*req));
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
        i++;
    if (i == len || (buf[i] != '{' && buf[i] != '['))
        return -1;
    if (json_depth(buf, len, PROTO_MAX_DEPTH) > PROTO_MAX_DEPTH) {
        *detail = "JSON nested too deeply";
        return PROTO_ERR_BAD_JSON;
    }
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!root) {
        *detail = "not valid JSON";
        return PROTO_ERR_BAD_JSON;
    }
    int rc = PROTO_OK;
    if (!json_is_object(root)) {
        *detail = "expected a JSON object";
        rc = PROTO_ERR_BAD_JSON;
        goto out_root;
    }
    json_t *type = json_object_get(root, "type");
    const char *t = json_is_string(type) ? json_string_value(type) : NULL;
    if (t && strlen(t) != json_string_length(type))
        t = ""; /* a NUL inside: no known type (strcmp would stop at it) */
    const char *s;
    size_t slen;
    if (!t) {
        *detail = "missing string field 'type'";
        rc = PROTO_ERR_UNKNOWN_TYPE;
    } else if (!strcmp(t, "nickname")) {
        req->type = PROTO_NICKNAME;
        if (field_string(root, "nickname", &s, &slen)) {
            *detail = "'nickname' must be a string";
            rc = PROTO_ERR_BAD_FIELD;
        } else if (!(req->text = clean_text(s, slen, PROTO_NICKNAME_MAX, false, detail,
                                            "nickname must not be empty",
                                            "nickname is longer than 32 characters",
                                            "nickname contains control characters"))) {
            rc = PROTO_ERR_BAD_FIELD;
        }
    } else if (!strcmp(t, "join")) {
        req->type = PROTO_JOIN;
        if (field_string(root, "room", &s, &slen)) {
            *detail = "'room' must be a string";
            rc = PROTO_ERR_BAD_FIELD;
        } else if (!(req->text =
                         clean_text(s, slen, PROTO_ROOM_MAX, false, detail,
                                    "room must not be empty", "room is longer than 64 characters",
                                    "room contains control characters"))) {
            rc = PROTO_ERR_BAD_FIELD;
        } else if (field_flag(root, "create", &req->create)) {
            *detail = "'create' must be true or false";
            rc = PROTO_ERR_BAD_FIELD;
        } else if (field_flag(root, "listed", &req->listed)) {
            *detail = "'listed' must be true or false";
            rc = PROTO_ERR_BAD_FIELD;
        } else {
            rc = field_passcode(root, &req->passcode, detail);
        }
    } else if (!strcmp(t, "lock")) {
        req->type = PROTO_LOCK;
        json_t *v = json_object_get(root, "locked");
        if (!json_is_boolean(v)) {
            *detail = "'locked' must be true or false";
            rc = PROTO_ERR_BAD_FIELD;
        } else {
            req->locked = json_is_true(v);
        }
    } else if (!strcmp(t, "remove")) {
        req->type = PROTO_REMOVE;
        json_t *id = json_object_get(root, "id");
        if (!json_is_integer(id) || json_integer_value(id) <= 0) {
            *detail = "'id' must be a session id";
            rc = PROTO_ERR_BAD_FIELD;
        } else {
            req->to = (uint64_t)json_integer_value(id);
        }
    } else if (!strcmp(t, "passcode")) {
        req->type = PROTO_PASSCODE;
        if (!json_object_get(root, "passcode")) {
            *detail = "missing field 'passcode' (a string, or null to clear it)";
            rc = PROTO_ERR_BAD_FIELD;
        } else {
            rc = field_passcode(root, &req->passcode, detail);
        }
    } else if (!strcmp(t, "leave")) {
        req->type = PROTO_LEAVE;
    } else if (!strcmp(t, "list")) {
        req->type = PROTO_LIST;
    } else if (!strcmp(t, "chat")) {
        req->type = PROTO_CHAT;
        if (field_string(root, "text", &s, &slen)) {
            *detail = "'text' must be a string";
            rc = PROTO_ERR_BAD_FIELD;
        } else {
            rc = proto_chat_text(s, slen, &req->text, detail);
        }
    } else if (!strcmp(t, "state")) {
        req->type = PROTO_STATE;
        json_t *mic = json_object_get(root, "mic"), *cam = json_object_get(root, "cam"),
               *hand = json_object_get(root, "hand");
        if (!json_is_boolean(mic) || !json_is_boolean(cam) || !json_is_boolean(hand)) {
            *detail = "'mic', 'cam' and 'hand' must be true or false";
            rc = PROTO_ERR_BAD_FIELD;
        } else {
            req->mic = json_is_true(mic);
            req->cam = json_is_true(cam);
            req->hand = json_is_true(hand);
        }
    } else if (!strcmp(t, "react")) {
        req->type = PROTO_REACT;
        if (field_string(root, "emoji", &s, &slen)) {
            *detail = "'emoji' must be a string";
            rc = PROTO_ERR_BAD_FIELD;
        } else if (!(req->text = clean_emoji(s, slen, detail))) {
            rc = PROTO_ERR_BAD_FIELD;
        }
    } else if (!strcmp(t, "resume")) {
        req->type = PROTO_RESUME;
        if (field_string(root, "token", &s, &slen) || slen == 0 || slen > PROTO_TOKEN_MAX ||
            strlen(s) != slen) {
            *detail = "unknown or expired session";
            rc = PROTO_ERR_BAD_TOKEN;
        } else if (!(req->text = strndup(s, slen))) {
            *detail = "out of memory";
            rc = PROTO_ERR_BAD_TOKEN;
        }
    } else if (!strcmp(t, "signal")) {
        req->type = PROTO_SIGNAL;
        json_t *to = json_object_get(root, "to");
        json_t *data = json_object_get(root, "data");
        if (!json_is_integer(to) || json_integer_value(to) <= 0) {
            *detail = "'to' must be a session id";
            rc = PROTO_ERR_BAD_FIELD;
        } else if (!data) {
            *detail = "missing field 'data'";
            rc = PROTO_ERR_BAD_FIELD;
        } else {
            req->to = (uint64_t)json_integer_value(to);
            req->data = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!req->data) {
                *detail = "out of memory";
                rc = PROTO_ERR_BAD_FIELD;
            }
        }
    } else {
        *detail = "unknown message type";
        rc = PROTO_ERR_UNKNOWN_TYPE;
    }
out_root:
    json_decref(root);
    if (rc != PROTO_OK)
        proto_request_clear(req);
    return rc;
}

char *proto_log_redact(const char *buf, size_t len)
{
    static const char *const secret[] = {"passcode", "token"};
    if (!buf || !len)
        return NULL;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        /* unparsable: only a placeholder when it may hold a secret */
        for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
            if (memmem(buf, len, secret[i], strlen(secret[i])))
                return strdup("<not JSON; not logged: it may hold a passcode or token>");
        return NULL;
    }
    bool changed = false;
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
        if (json_object_get(root, secret[i])) {
            json_object_set_new(root, secret[i], json_string("<hidden>"));
            changed = true;
        }
    }
    json_t *room = json_object_get(root, "room");
    if (room) {
        char what[32];
        snprintf(what, sizeof(what), "<%zu B>",
                 json_is_string(room) ? json_string_length(room) : (size_t)0);
        json_object_set_new(root, "room", json_string(what));
        changed = true;
    }
    char *out = changed ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return out;
}

/* Serializes obj (reference stolen) into a new text message. */
static struct msg *finish(json_t *obj)
{
    struct msg *m = NULL;
    if (!obj)
        return NULL;
    char *s = json_dumps(obj, JSON_COMPACT);
    if (s) {
        m = msg_text(s);
        free(s);
    }
    json_decref(obj);
    return m;
}

static json_t *rooms_array(const struct proto_room_info *rooms, size_t nrooms)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < nrooms; i++)
        json_array_append_new(arr, json_pack("{s:s,s:I,s:I,s:b,s:b}", "name", rooms[i].name,
                                             "count", (json_int_t)rooms[i].count, "capacity",
                                             (json_int_t)rooms[i].capacity, "locked",
                                             rooms[i].locked, "protected", rooms[i].has_passcode));
    return arr;
}

struct msg *proto_hello(const char *greeting, uint64_t id, const char *nickname, const char *token,
                        const struct proto_room_info *rooms, size_t nrooms)
{
    return finish(json_pack("{s:s,s:s,s:I,s:s,s:s,s:o}", "type", "hello", "text", greeting, "id",
                            (json_int_t)id, "nickname", nickname, "token", token, "rooms",
                            rooms_array(rooms, nrooms)));
}

struct msg *proto_nickname(const char *nickname)
{
    return finish(json_pack("{s:s,s:s}", "type", "nickname", "nickname", nickname));
}

struct msg *proto_renamed(uint64_t id, const char *old_nick, const char *new_nick)
{
    return finish(json_pack("{s:s,s:I,s:s,s:s}", "type", "renamed", "id", (json_int_t)id, "old",
                            old_nick, "nickname", new_nick));
}

/* Adds a room's settings to obj (NULL-safe); returns obj. */
static json_t *add_meta(json_t *obj, const struct proto_room_meta *meta)
{
    if (!obj || !meta)
        return obj;
    json_object_set_new(obj, "host", json_integer((json_int_t)meta->host));
    json_object_set_new(obj, "locked", json_boolean(meta->locked));
    json_object_set_new(obj, "listed", json_boolean(meta->listed));
    json_object_set_new(obj, "protected", json_boolean(meta->has_passcode));
    if (meta->for_host)
        json_object_set_new(obj, "passcode",
                            meta->passcode ? json_string(meta->passcode) : json_null());
    return obj;
}

struct msg *proto_joined(const char *room, uint64_t id, const struct proto_member *members,
                         size_t nmembers, unsigned count, const struct proto_room_meta *meta)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < nmembers; i++)
        json_array_append_new(arr, json_pack("{s:I,s:s,s:{s:b,s:b,s:b}}", "id",
                                             (json_int_t)members[i].id, "nickname",
                                             members[i].nickname, "state", "mic", members[i].mic,
                                             "cam", members[i].cam, "hand", members[i].hand));
    return finish(add_meta(json_pack("{s:s,s:s,s:I,s:o,s:I}", "type", "joined", "room", room, "id",
                                     (json_int_t)id, "members", arr, "count", (json_int_t)count),
                           meta));
}

struct msg *proto_presence(const char *type, const char *room, uint64_t id, const char *nickname,
                           unsigned count, const struct proto_room_meta *meta)
{
    return finish(
        add_meta(json_pack("{s:s,s:s,s:I,s:s,s:I}", "type", type, "room", room, "id",
                           (json_int_t)id, "nickname", nickname, "count", (json_int_t)count),
                 meta));
}

struct msg *proto_room(const char *room, enum proto_room_change change,
                       const struct proto_room_meta *meta)
{
    static const char *const names[] = {
        [PROTO_CHANGE_HOST] = "host",
        [PROTO_CHANGE_LOCK] = "lock",
        [PROTO_CHANGE_PASSCODE] = "passcode",
    };
    return finish(add_meta(
        json_pack("{s:s,s:s,s:s}", "type", "room", "room", room, "change", names[change]), meta));
}

struct msg *proto_removed(const char *room)
{
    return finish(json_pack("{s:s,s:s}", "type", "removed", "room", room));
}

struct msg *proto_left(const char *room)
{
    return finish(json_pack("{s:s,s:s}", "type", "left", "room", room));
}

/* The hot path's serializer: chat is the message sent most, once per broadcast. Written by hand
 * into the outgoing frame itself (one allocation, no tree, no printf); the output is
 * byte-for-byte what Jansson's compact dump gives (test_proto checks it). */

/* Length of s as the body of a JSON string (Jansson's escaping: quote, backslash and controls). */
static size_t json_str_len(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\' || *p == '\b' || *p == '\f' || *p == '\n' || *p == '\r' ||
            *p == '\t')
            n += 2;
        else if (*p < 0x20)
            n += 6;
        else
            n++;
    }
    return n;
}

static char *json_str_put(char *o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char e = 0;
        switch (*p) {
        case '"':
            e = '"';
            break;
        case '\\':
            e = '\\';
            break;
        case '\b':
            e = 'b';
            break;
        case '\f':
            e = 'f';
            break;
        case '\n':
            e = 'n';
            break;
        case '\r':
            e = 'r';
            break;
        case '\t':
            e = 't';
            break;
        default:
            break;
        }
        if (e) {
            *o++ = '\\';
            *o++ = e;
        } else if (*p < 0x20) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[*p >> 4];
            o[5] = hex[*p & 15];
            o += 6;
        } else {
            *o++ = (char)*p;
        }
    }
    *o++ = '"';
    return o;
}

/* Decimal digits of v into buf (no NUL); returns their count. */
static size_t u64_digits(uint64_t v, char buf[20])
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

#define PUT_LIT(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) + sizeof(lit) - 1)

struct msg *proto_chat(const char *room, uint64_t from_id, const char *from_nick, const char *text,
                       uint64_t seq, int64_t ts_ms)
{
    static const char p1[] = "{\"type\":\"chat\",\"room\":", p2[] = ",\"from\":{\"id\":",
                      p3[] = ",\"nickname\":", p4[] = "},\"text\":", p5[] = ",\"seq\":",
                      p6[] = ",\"ts\":";
    char id[20], sq[20], ts[21];
    size_t nid = u64_digits(from_id, id), nsq = u64_digits(seq, sq), nts;
    if (ts_ms < 0) {
        ts[0] = '-';
        nts = 1 + u64_digits(0 - (uint64_t)ts_ms, ts + 1);
    } else {
        nts = u64_digits((uint64_t)ts_ms, ts);
    }
    size_t len = sizeof(p1) + sizeof(p2) + sizeof(p3) + sizeof(p4) + sizeof(p5) + sizeof(p6) - 6 +
                 json_str_len(room) + json_str_len(from_nick) + json_str_len(text) + 6 + nid + nsq +
                 nts + 1;
    struct msg *m = msg_alloc(0x1, len);
    if (!m)
        return NULL;
    char *o = m->data;
    o = PUT_LIT(o, p1);
    o = json_str_put(o, room);
    o = PUT_LIT(o, p2);
    memcpy(o, id, nid);
    o += nid;
    o = PUT_LIT(o, p3);
    o = json_str_put(o, from_nick);
    o = PUT_LIT(o, p4);
    o = json_str_put(o, text);
    o = PUT_LIT(o, p5);
    memcpy(o, sq, nsq);
    o += nsq;
    o = PUT_LIT(o, p6);
    memcpy(o, ts, nts);
    o += nts;
    *o++ = '}';
    return m;
}

struct msg *proto_signal(uint64_t from_id, const char *data)
{
    static const char fmt[] = "{\"type\":\"signal\",\"from\":%llu,\"data\":%s}";
    size_t cap = sizeof(fmt) + 24 + strlen(data);
    char *s = malloc(cap);
    if (!s)
        return NULL;
    snprintf(s, cap, fmt, (unsigned long long)from_id, data);
    struct msg *m = msg_text(s);
    free(s);
    return m;
}

struct msg *proto_rooms(const struct proto_room_info *rooms, size_t nrooms)
{
    return finish(json_pack("{s:s,s:o}", "type", "rooms", "rooms", rooms_array(rooms, nrooms)));
}

struct msg *proto_state(uint64_t id, bool mic, bool cam, bool hand)
{
    return finish(json_pack("{s:s,s:I,s:b,s:b,s:b}", "type", "state", "id", (json_int_t)id, "mic",
                            mic, "cam", cam, "hand", hand));
}

struct msg *proto_react(uint64_t id, const char *emoji)
{
    return finish(
        json_pack("{s:s,s:I,s:s}", "type", "react", "id", (json_int_t)id, "emoji", emoji));
}

struct msg *proto_resumed(uint64_t id, const char *nickname, const char *room, const char *token)
{
    return finish(json_pack("{s:s,s:I,s:s,s:o,s:s}", "type", "resumed", "id", (json_int_t)id,
                            "nickname", nickname, "room", room ? json_string(room) : json_null(),
                            "token", token));
}

struct msg *proto_error(enum proto_error err, const char *message)
{
    return finish(json_pack("{s:s,s:s,s:s}", "type", "error", "code", proto_error_code(err),
                            "message", message ? message : ""));
}

char *proto_rooms_json(const struct proto_room_info *rooms, size_t nrooms)
{
    json_t *obj = json_pack("{s:o}", "rooms", rooms_array(rooms, nrooms));
    if (!obj)
        return NULL;
    char *s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    return s;
}

char *proto_config_json(const char *ice_servers, const char *turn_username,
                        const char *turn_credential, unsigned max_room_members,
                        long max_message_bytes)
{
    json_t *stun = json_array(), *turn = json_array(), *servers = json_array();
    const char *cur = ice_servers ? ice_servers : "", *url;
    size_t len;
    while (strlist_next(&cur, &url, &len)) {
        bool is_turn = !strncmp(url, "turn:", 5) || !strncmp(url, "turns:", 6);
        json_array_append_new(is_turn ? turn : stun, json_stringn(url, len));
    }
    if (json_array_size(stun))
        json_array_append_new(servers, json_pack("{s:O}", "urls", stun));
    if (json_array_size(turn)) {
        json_t *entry = json_pack("{s:O}", "urls", turn);
        if (entry && turn_username && *turn_username)
            json_object_set_new(entry, "username", json_string(turn_username));
        if (entry && turn_credential && *turn_credential)
            json_object_set_new(entry, "credential", json_string(turn_credential));
        json_array_append_new(servers, entry);
    }
    json_decref(stun);
    json_decref(turn);
    json_t *obj =
        json_pack("{s:o,s:I,s:I}", "iceServers", servers, "maxRoomMembers",
                  (json_int_t)max_room_members, "maxMessageBytes", (json_int_t)max_message_bytes);
    char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    return s;
}
