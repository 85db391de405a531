/* SPDX-License-Identifier: MIT */
/* The JSON protocol (docs/protocol.md): parses and validates client messages, and builds the
 * server's messages. The only module that includes the JSON library (Jansson). */
#ifndef HUDDLE_PROTO_H
#define HUDDLE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "msg.h"

#define PROTO_NICKNAME_MAX       32   /* code points, after trimming */
#define PROTO_ROOM_MAX           64   /* code points, after trimming */
#define PROTO_CHAT_MAX           2000 /* code points, after trimming */
#define PROTO_MAX_DEPTH          32   /* JSON nesting accepted (guards the parser's recursion) */
#define PROTO_DEFAULT_NICK       "Anon"
#define PROTO_EMOJI_MAX          8   /* code points in one reaction */
#define PROTO_TOKEN_MAX          128 /* bytes of a resume token accepted for lookup */
#define PROTO_PASSCODE_MIN       4   /* code points, not trimmed */
#define PROTO_PASSCODE_MAX       64  /* code points */
#define PROTO_PASSCODE_MAX_BYTES (4 * PROTO_PASSCODE_MAX)

enum proto_type {
    PROTO_NICKNAME = 1,
    PROTO_JOIN,
    PROTO_LEAVE,
    PROTO_CHAT,
    PROTO_SIGNAL,
    PROTO_LIST,
    PROTO_STATE,
    PROTO_REACT,
    PROTO_RESUME,
    PROTO_LOCK,
    PROTO_REMOVE,
    PROTO_PASSCODE,
};

enum proto_error {
    PROTO_OK = 0,
    PROTO_ERR_BAD_JSON,
    PROTO_ERR_UNKNOWN_TYPE,
    PROTO_ERR_BAD_FIELD,
    PROTO_ERR_ROOM_FULL,
    PROTO_ERR_NOT_IN_ROOM,
    PROTO_ERR_NO_SUCH_PEER,
    PROTO_ERR_RATE_LIMITED,
    PROTO_ERR_BAD_TOKEN,
    PROTO_ERR_ROOM_EXISTS,
    PROTO_ERR_BAD_PASSCODE,
    PROTO_ERR_ROOM_LOCKED,
    PROTO_ERR_NOT_HOST,
    PROTO_ERR_COUNT,
};

struct hub;
struct hub_session;
struct proto_message;

/* A validated client request. Strings are heap-allocated, NUL-terminated and owned by the request
 * (proto_request_clear frees them). */
struct proto_request {
    const struct proto_message *msg; /* the row of the protocol table it matched */
    enum proto_type type;
    char *text;          /* NICKNAME: nickname, JOIN: room, CHAT: text (all trimmed and validated),
                            REACT: the emoji, RESUME: the token (only its length is checked) */
    uint64_t to;         /* SIGNAL: recipient session id, REMOVE: the member to remove */
    char *data;          /* SIGNAL: the data value as compact JSON */
    bool mic, cam, hand; /* STATE */
    char *passcode;      /* JOIN, PASSCODE: validated (4..64 code points, no controls, not
                            trimmed); NULL = none given (JOIN) or clear it (PASSCODE) */
    bool create, listed; /* JOIN: the room must be new; list it if this join creates it */
    bool locked;         /* LOCK */
};

/* --- The protocol table: one row per client message (name, fields with their limits, handler),
 * read by proto_parse to validate and by the hub to dispatch. The rows are the hub's
 * (meeting/dispatch.c); a new message is one row and its handler. --- */

/* How a text field is trimmed and checked, and what its refusals say. */
struct proto_text_rule {
    unsigned max; /* code points after trimming */
    bool breaks;  /* \n, \r and \t allowed */
    const char *empty, *too_long, *control;
};

extern const struct proto_text_rule proto_rule_nickname; /* PROTO_NICKNAME_MAX, one line */
extern const struct proto_text_rule proto_rule_room;     /* PROTO_ROOM_MAX, one line */
extern const struct proto_text_rule proto_rule_chat;     /* PROTO_CHAT_MAX, line breaks kept */

enum proto_field_kind {
    PROTO_F_TEXT,     /* a string cleaned by .rule -> text */
    PROTO_F_EMOJI,    /* a string holding one emoji (PROTO_EMOJI_MAX code points) -> text */
    PROTO_F_TOKEN,    /* a string of 1..PROTO_TOKEN_MAX bytes without NUL -> text; refused with
                         bad_token, not bad_field */
    PROTO_F_PASSCODE, /* a passcode string or null (null and, unless required, absent: none) */
    PROTO_F_FLAG,     /* an optional boolean, absent = false -> the bool at .offset */
    PROTO_F_BOOL,     /* a boolean -> the bool at .offset */
    PROTO_F_ID,       /* a positive integer (a session id) -> to */
    PROTO_F_JSON,     /* any JSON value -> data, as compact JSON */
};

struct proto_field {
    const char *key; /* NULL ends a row's fields */
    enum proto_field_kind kind;
    const char *bad;     /* the refusal's detail when the value has the wrong type (or is absent) */
    const char *missing; /* required and absent, when that says more than .bad; else NULL */
    bool required;       /* PROTO_F_PASSCODE, PROTO_F_JSON: the key must be there */
    size_t offset;       /* PROTO_F_FLAG, PROTO_F_BOOL: offsetof(struct proto_request, ...) */
    const struct proto_text_rule *rule; /* PROTO_F_TEXT */
};

#define PROTO_FIELDS_MAX 4

/* A handler gets a request that passed its row's checks; it owns the request's strings it
 * takes (setting them NULL). Returns the session the connection belongs to from now on. */
typedef struct hub_session *(*proto_handler)(struct hub *h, struct hub_session *s,
                                             struct proto_request *req);

struct proto_message {
    const char *name; /* the "type" value; NULL ends the table */
    enum proto_type type;
    struct proto_field fields[PROTO_FIELDS_MAX + 1]; /* checked in this order */
    proto_handler handle;
    const char *needs_room; /* not NULL: only from a room member, else not_in_room with this */
    bool host_only;         /* (with needs_room) only from the room's host, else not_host */
};

/* Parses one decoded UTF-8 message against table (rows up to one with name NULL). Returns:
 *   PROTO_OK: *req is filled (req->msg is its row);
 *   PROTO_ERR_*: the request is refused; *detail is a static human-readable message;
 *   -1: the payload is plain text, not JSON (its first non-whitespace byte is not '{' or '['):
 *       the caller decides (it becomes a chat message inside a room).
 * len excludes any terminator; buf need not be NUL-terminated. */
int proto_parse(const struct proto_message *table, const char *buf, size_t len,
                struct proto_request *req, const char **detail);

/* Validates text by rule (valid UTF-8, trimmed, 1..rule->max code points, controls) into a new
 * heap string (*out, caller frees). Returns PROTO_OK or PROTO_ERR_BAD_FIELD with *detail set. */
int proto_text(const char *buf, size_t len, const struct proto_text_rule *rule, char **out,
               const char **detail);

/* proto_text with proto_rule_chat: plain text sent as a chat message. */
int proto_chat_text(const char *buf, size_t len, char **out, const char **detail);

void proto_request_clear(struct proto_request *req);

/* Stable wire name of an error ("bad_json", ...). */
const char *proto_error_code(enum proto_error err);

/* For the log: a copy of the message (heap, caller frees) with every secret or private value
 * replaced: `passcode` and `token` by "<hidden>", `room` by its length ("<21 B>"), since a room may
 * be unlisted. NULL when the message holds none of these (log it as it is). A message that is not
 * valid JSON but mentions one of these keys gives a placeholder, never its text. */
char *proto_log_redact(const char *buf, size_t len);

/* --- Server messages. Each returns a new text message (one reference) or NULL on OOM. --- */

/* One listed room, as the room lists show it. */
struct proto_room_info {
    const char *name;
    unsigned count, capacity;
    bool locked, has_passcode;
};

/* A room's settings as its members see them (joined, welcome, room). */
struct proto_room_meta {
    uint64_t host; /* the host's session id */
    bool locked, listed, has_passcode;
    bool for_host;        /* the host's copy: also carries the passcode */
    const char *passcode; /* for_host only: the passcode or NULL (sent as null) */
};

struct proto_member {
    uint64_t id;
    const char *nickname;
    bool mic, cam, hand; /* the member's last `state` */
};

/* token: the session's resume token (given to its own client only) */
struct msg *proto_hello(const char *greeting, uint64_t id, const char *nickname, const char *token,
                        const struct proto_room_info *rooms, size_t nrooms);
struct msg *proto_nickname(const char *nickname);
struct msg *proto_renamed(uint64_t id, const char *old_nick, const char *new_nick);
struct msg *proto_joined(const char *room, uint64_t id, const struct proto_member *members,
                         size_t nmembers, unsigned count, const struct proto_room_meta *meta);
/* type is "welcome" (meta given) or "bye" (meta NULL) */
struct msg *proto_presence(const char *type, const char *room, uint64_t id, const char *nickname,
                           unsigned count, const struct proto_room_meta *meta);
/* What prompted a `room` message (its "change" field), so that a member's page can say it and
 * knows when a passcode it joined with may no longer open the room. */
enum proto_room_change {
    PROTO_CHANGE_HOST,     /* the host left; the longest-present member took over */
    PROTO_CHANGE_LOCK,     /* the host sent `lock` */
    PROTO_CHANGE_PASSCODE, /* the host sent `passcode` (set, changed or cleared) */
};
/* {"type":"room","room","change","host","locked","listed","protected"[,"passcode"]} */
struct msg *proto_room(const char *room, enum proto_room_change change,
                       const struct proto_room_meta *meta);
struct msg *proto_removed(const char *room);
struct msg *proto_left(const char *room);
struct msg *proto_chat(const char *room, uint64_t from_id, const char *from_nick, const char *text,
                       uint64_t seq, int64_t ts_ms);
/* data is compact JSON, inserted verbatim */
struct msg *proto_signal(uint64_t from_id, const char *data);
struct msg *proto_rooms(const struct proto_room_info *rooms, size_t nrooms);
struct msg *proto_state(uint64_t id, bool mic, bool cam, bool hand);
struct msg *proto_react(uint64_t id, const char *emoji);
/* room: NULL when the session is in no room */
struct msg *proto_resumed(uint64_t id, const char *nickname, const char *room, const char *token);
struct msg *proto_error(enum proto_error err, const char *message);

/* The room list as a heap JSON string {"rooms":[...]} for GET /api/rooms (caller frees). */
char *proto_rooms_json(const struct proto_room_info *rooms, size_t nrooms);

/* The page's settings for GET /api/config as a heap JSON string (caller frees):
 * {"iceServers":[{"urls":[...],"username"?,"credential"?}],"maxRoomMembers":n,"maxMessageBytes":n}.
 * ice_servers is a comma list; TURN credentials go with turn:/turns: URLs only. */
char *proto_config_json(const char *ice_servers, const char *turn_username,
                        const char *turn_credential, unsigned max_room_members,
                        long max_message_bytes);

#endif
