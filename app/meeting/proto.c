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

const struct proto_text_rule proto_rule_nickname = {
    PROTO_NICKNAME_MAX, false, "nickname must not be empty",
    "nickname is longer than 32 characters", "nickname contains control characters"};
const struct proto_text_rule proto_rule_room = {PROTO_ROOM_MAX, false, "room must not be empty",
                                                "room is longer than 64 characters",
                                                "room contains control characters"};
const struct proto_text_rule proto_rule_chat = {PROTO_CHAT_MAX, true, "text must not be empty",
                                                "text is longer than 2000 characters",
                                                "text contains control characters"};

/* Trims s[0..len) (valid UTF-8) and checks it by rule: 1..rule->max code points, no control
 * characters (rule->breaks lets \n, \r and \t through). Returns a heap copy or NULL with *detail
 * set. */
static char *clean_text(const char *s, size_t len, const struct proto_text_rule *rule,
                        const char **detail)
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
        *detail = rule->empty;
        return NULL;
    }
    size_t count = 0;
    for (size_t i = start; i < end; i += n) {
        uint32_t cp = utf8_decode(s + i, end - i, &n);
        if (is_control(cp) && !(rule->breaks && (cp == '\n' || cp == '\r' || cp == '\t'))) {
            *detail = rule->control;
            return NULL;
        }
        if (++count > rule->max) {
            *detail = rule->too_long;
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

int proto_text(const char *buf, size_t len, const struct proto_text_rule *rule, char **out,
               const char **detail)
{
    *out = NULL;
    if (!utf8_valid(buf, len)) {
        *detail = "text is not valid UTF-8";
        return PROTO_ERR_BAD_FIELD;
    }
    *out = clean_text(buf, len, rule, detail);
    return *out ? PROTO_OK : PROTO_ERR_BAD_FIELD;
}

int proto_chat_text(const char *buf, size_t len, char **out, const char **detail)
{
    return proto_text(buf, len, &proto_rule_chat, out, detail);
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

/* The request's bool at a field's offset. */
static bool *field_bool(struct proto_request *req, const struct proto_field *f)
{
    return (bool *)((char *)req + f->offset);
}

/* Checks one field of root per its row entry f and stores it in req. Returns PROTO_OK, or the
 * error with *detail set. */
static int parse_field(json_t *root, const struct proto_field *f, struct proto_request *req,
                       const char **detail)
{
    json_t *v = json_object_get(root, f->key);
    if (!v && f->required && f->missing) {
        *detail = f->missing;
        return PROTO_ERR_BAD_FIELD;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    switch (f->kind) {
    case PROTO_F_TEXT:
        if (!s)
            break;
        return proto_text(s, len, f->rule, &req->text, detail);
    case PROTO_F_EMOJI:
        if (!s)
            break;
        return (req->text = clean_emoji(s, len, detail)) ? PROTO_OK : PROTO_ERR_BAD_FIELD;
    case PROTO_F_TOKEN:
        if (!s || len == 0 || len > PROTO_TOKEN_MAX || strlen(s) != len) {
            *detail = f->bad;
            return PROTO_ERR_BAD_TOKEN;
        }
        if (!(req->text = strndup(s, len))) {
            *detail = "out of memory";
            return PROTO_ERR_BAD_TOKEN;
        }
        return PROTO_OK;
    case PROTO_F_PASSCODE:
        if (!v || json_is_null(v))
            return PROTO_OK;
        if (!s)
            break;
        return (req->passcode = clean_passcode(s, len, detail)) ? PROTO_OK : PROTO_ERR_BAD_FIELD;
    case PROTO_F_FLAG:
        if (v && !json_is_boolean(v))
            break;
        *field_bool(req, f) = json_is_true(v);
        return PROTO_OK;
    case PROTO_F_BOOL:
        if (!json_is_boolean(v))
            break;
        *field_bool(req, f) = json_is_true(v);
        return PROTO_OK;
    case PROTO_F_ID:
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            break;
        req->to = (uint64_t)json_integer_value(v);
        return PROTO_OK;
    case PROTO_F_JSON:
        if (!v)
            break;
        if (!(req->data = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY))) {
            *detail = "out of memory";
            return PROTO_ERR_BAD_FIELD;
        }
        return PROTO_OK;
    }
    *detail = f->bad;
    return PROTO_ERR_BAD_FIELD;
}

int proto_parse(const struct proto_message *table, const char *buf, size_t len,
                struct proto_request *req, const char **detail)
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
    const char *t = json_string_value(type);
    if (!t) {
        *detail = "missing string field 'type'";
        rc = PROTO_ERR_UNKNOWN_TYPE;
        goto out_root;
    }
    const struct proto_message *m = table;
    /* a NUL inside the type matches no row (strcmp would stop at it) */
    while (m->name && (strlen(t) != json_string_length(type) || strcmp(m->name, t)))
        m++;
    if (!m->name) {
        *detail = "unknown message type";
        rc = PROTO_ERR_UNKNOWN_TYPE;
        goto out_root;
    }
    req->msg = m;
    req->type = m->type;
    for (const struct proto_field *f = m->fields; f->key && rc == PROTO_OK; f++)
        rc = parse_field(root, f, req, detail);
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
