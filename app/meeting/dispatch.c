/* SPDX-License-Identifier: MIT */
/* The protocol table and its handlers (see proto.h, "The protocol table"): one row per client
 * message, with its fields and their limits (read by proto_parse) and its handler with the
 * conditions it needs (read by hub_handle). A new message is one row and one handler. */
#include "hubint.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "thread.h"

/* Chat text to the whole room, with the room's next sequence number and the time. */
static void send_chat(struct hub *h, struct hub_session *s, const char *text)
{
    struct room *r = s->room;
    struct msg *m = proto_chat(r->name, s->id, s->nickname, text, r->seq + 1, hub_now_ms(h));
    if (!m) {
        hub_send_error(h, s, PROTO_ERR_BAD_FIELD, "out of memory");
        return;
    }
    r->seq++;
    h->stats.chats++;
    hub_broadcast(h, r, m, NULL);
    msg_unref(m);
}

static struct hub_session *on_chat(struct hub *h, struct hub_session *s, struct proto_request *req)
{
    send_chat(h, s, req->text);
    return s;
}

static struct hub_session *on_nickname(struct hub *h, struct hub_session *s,
                                       struct proto_request *req)
{
    char *old = s->nickname;
    s->nickname = req->text; /* taken over from the request */
    req->text = NULL;
    struct msg *m = proto_nickname(s->nickname);
    hub_deliver(h, s, m);
    msg_unref(m);
    if (s->room) {
        m = proto_renamed(s->id, old, s->nickname);
        hub_broadcast(h, s->room, m, s);
        msg_unref(m);
    }
    free(old);
    return s;
}

static struct hub_session *on_join(struct hub *h, struct hub_session *s, struct proto_request *req)
{
    const char *name = req->text;
    struct room *cur = s->room;
    struct room *r = room_find(h, name);
    if (r && req->create) {
        hub_send_error(h, s, PROTO_ERR_ROOM_EXISTS, "a meeting with this name exists already");
        return s;
    }
    if (r && r == cur) {
        room_send_joined(h, s);
        return s;
    }
    if (r && !passguard_may_enter(h, s, r, req))
        return s;
    bool frees_one = cur && cur->count == 1;
    if (!r && h->nrooms - (frees_one ? 1 : 0) >= h->cfg.max_rooms) {
        hub_send_error(h, s, PROTO_ERR_ROOM_FULL, "the server has no room for another room");
        return s;
    }
    room_leave(h, s);
    bool created = !r;
    if (!r)
        r = room_create(h, name, req->listed, req->passcode);
    if (!r || room_add(h, r, s) < 0) {
        if (r && r->count == 0)
            room_destroy(h, r);
        hub_send_error(h, s, PROTO_ERR_ROOM_FULL, "out of memory");
        return s;
    }
    if (created) {
        r->host = s;
        log_info(s->id, "created room %s (%s%s)", r->label, r->listed ? "listed" : "unlisted",
                 r->passcode ? ", with a passcode" : "");
    }
    log_info(s->id, "joined room %s (%u members)", r->label, r->count);
    room_send_joined(h, s);
    struct proto_room_meta meta;
    room_meta(r, false, &meta);
    struct msg *m = proto_presence("welcome", r->name, s->id, s->nickname, r->count, &meta);
    hub_broadcast(h, r, m, s);
    msg_unref(m);
    return s;
}

static struct hub_session *on_lock(struct hub *h, struct hub_session *s, struct proto_request *req)
{
    struct room *r = s->room;
    if (r->locked != req->locked)
        log_info(s->id, "%s room %s", req->locked ? "locked" : "unlocked", r->label);
    r->locked = req->locked;
    room_changed(h, r);
    room_send_settings(h, r, PROTO_CHANGE_LOCK);
    return s;
}

static struct hub_session *on_passcode(struct hub *h, struct hub_session *s,
                                       struct proto_request *req)
{
    struct room *r = s->room;
    free(r->passcode);
    r->passcode = req->passcode; /* taken over from the request */
    req->passcode = NULL;
    log_info(s->id, "%s the passcode of room %s", r->passcode ? "set" : "cleared", r->label);
    room_changed(h, r);
    room_send_settings(h, r, PROTO_CHANGE_PASSCODE);
    return s;
}

static struct hub_session *on_remove(struct hub *h, struct hub_session *s,
                                     struct proto_request *req)
{
    struct room *r = s->room;
    struct hub_session *who = NULL;
    for (unsigned i = 0; i < r->count; i++)
        if (r->members[i]->id == req->to && r->members[i] != s)
            who = r->members[i];
    if (!who) {
        hub_send_error(h, s, PROTO_ERR_NO_SUCH_PEER, "no such member in your room");
        return s;
    }
    log_info(s->id, "removed session %llu from room %s", (unsigned long long)who->id, r->label);
    struct msg *m = proto_removed(r->name);
    hub_deliver(h, who, m);
    msg_unref(m);
    room_leave(h, who);
    return s;
}

static struct hub_session *on_leave(struct hub *h, struct hub_session *s, struct proto_request *req)
{
    struct msg *m = proto_left(s->room->name);
    room_leave(h, s);
    hub_deliver(h, s, m);
    msg_unref(m);
    return s;
}

static struct hub_session *on_signal(struct hub *h, struct hub_session *s,
                                     struct proto_request *req)
{
    struct hub_session *peer = NULL;
    if (s->room)
        for (unsigned i = 0; i < s->room->count; i++)
            if (s->room->members[i]->id == req->to)
                peer = s->room->members[i];
    if (!peer || peer == s) {
        hub_send_error(h, s, PROTO_ERR_NO_SUCH_PEER, "no such peer in your room");
        return s;
    }
    struct msg *m = proto_signal(s->id, req->data);
    h->stats.signals++;
    hub_deliver(h, peer, m);
    msg_unref(m);
    return s;
}

static struct hub_session *on_list(struct hub *h, struct hub_session *s, struct proto_request *req)
{
    struct msg *m = room_list_msg(h);
    hub_deliver(h, s, m);
    msg_unref(m);
    return s;
}

static struct hub_session *on_state(struct hub *h, struct hub_session *s, struct proto_request *req)
{
    s->mic = req->mic;
    s->cam = req->cam;
    s->hand = req->hand;
    struct msg *m = proto_state(s->id, s->mic, s->cam, s->hand);
    hub_broadcast(h, s->room, m, s);
    msg_unref(m);
    return s;
}

/* Reactions have their own small bucket (HUB_REACT_BURST per HUB_REACT_PER_MS): they fly over
 * every tile, so a few are fun and a stream is noise. */
static struct hub_session *on_react(struct hub *h, struct hub_session *s, struct proto_request *req)
{
    int64_t now = hub_mono_ms(h);
    if (now > s->react_ms) {
        s->react_tokens += (double)(now - s->react_ms) * HUB_REACT_BURST / HUB_REACT_PER_MS;
        if (s->react_tokens > HUB_REACT_BURST)
            s->react_tokens = HUB_REACT_BURST;
    }
    s->react_ms = now;
    if (s->react_tokens < 1.0) {
        hub_send_error(h, s, PROTO_ERR_RATE_LIMITED, "too many reactions: slow down");
        return s;
    }
    s->react_tokens -= 1.0;
    struct msg *m = proto_react(s->id, req->text);
    hub_broadcast(h, s->room, m, NULL);
    msg_unref(m);
    return s;
}

static struct hub_session *on_resume(struct hub *h, struct hub_session *s,
                                     struct proto_request *req)
{
    return session_resume(h, s, req->text);
}

/* The field kinds of proto.h, one macro each, so that a row reads as its message. */
/* clang-format off */
#define TEXT(k, rule_, bad_) {.key = k, .kind = PROTO_F_TEXT, .bad = bad_, .rule = rule_}
#define EMOJI(k, bad_)       {.key = k, .kind = PROTO_F_EMOJI, .bad = bad_}
#define TOKEN(k, bad_)       {.key = k, .kind = PROTO_F_TOKEN, .bad = bad_}
#define PASSCODE(k, bad_)    {.key = k, .kind = PROTO_F_PASSCODE, .bad = bad_}
#define PASSCODE_REQUIRED(k, bad_, missing_) \
    {.key = k, .kind = PROTO_F_PASSCODE, .bad = bad_, .missing = missing_, .required = true}
#define FLAG(k, member, bad_) \
    {.key = k, .kind = PROTO_F_FLAG, .bad = bad_, .offset = offsetof(struct proto_request, member)}
#define BOOL(k, member, bad_) \
    {.key = k, .kind = PROTO_F_BOOL, .bad = bad_, .offset = offsetof(struct proto_request, member)}
#define ID(k, bad_)            {.key = k, .kind = PROTO_F_ID, .bad = bad_}
#define JSON_REQUIRED(k, bad_) {.key = k, .kind = PROTO_F_JSON, .bad = bad_, .required = true}
/* clang-format on */

static const char join_first[] = "join a room first";
static const char state_bad[] = "'mic', 'cam' and 'hand' must be true or false";

/* The client messages of docs/protocol.md. needs_room: the not_in_room detail for a sender in no
 * room (NULL: allowed outside a room); host_only: not_host for a member who is not the host. */
/* clang-format off */
const struct proto_message hub_protocol[] = {
    {.name = "nickname", .type = PROTO_NICKNAME, .handle = on_nickname, .fields = {
        TEXT("nickname", &proto_rule_nickname, "'nickname' must be a string")}},
    {.name = "join", .type = PROTO_JOIN, .handle = on_join, .fields = {
        TEXT("room", &proto_rule_room, "'room' must be a string"),
        FLAG("create", create, "'create' must be true or false"),
        FLAG("listed", listed, "'listed' must be true or false"),
        PASSCODE("passcode", "'passcode' must be a string or null")}},
    {.name = "lock", .type = PROTO_LOCK, .handle = on_lock, .needs_room = join_first,
     .host_only = true, .fields = {
        BOOL("locked", locked, "'locked' must be true or false")}},
    {.name = "remove", .type = PROTO_REMOVE, .handle = on_remove, .needs_room = join_first,
     .host_only = true, .fields = {
        ID("id", "'id' must be a session id")}},
    {.name = "passcode", .type = PROTO_PASSCODE, .handle = on_passcode, .needs_room = join_first,
     .host_only = true, .fields = {
        PASSCODE_REQUIRED("passcode", "'passcode' must be a string or null",
                          "missing field 'passcode' (a string, or null to clear it)")}},
    {.name = "leave", .type = PROTO_LEAVE, .handle = on_leave,
     .needs_room = "you are not in a room"},
    {.name = "list", .type = PROTO_LIST, .handle = on_list},
    {.name = "chat", .type = PROTO_CHAT, .handle = on_chat, .needs_room = "join a room to chat",
     .fields = {
        TEXT("text", &proto_rule_chat, "'text' must be a string")}},
    {.name = "state", .type = PROTO_STATE, .handle = on_state, .needs_room = join_first,
     .fields = {
        BOOL("mic", mic, state_bad), BOOL("cam", cam, state_bad), BOOL("hand", hand, state_bad)}},
    {.name = "react", .type = PROTO_REACT, .handle = on_react, .needs_room = join_first,
     .fields = {
        EMOJI("emoji", "'emoji' must be a string")}},
    {.name = "resume", .type = PROTO_RESUME, .handle = on_resume, .fields = {
        TOKEN("token", "unknown or expired session")}},
    {.name = "signal", .type = PROTO_SIGNAL, .handle = on_signal, .fields = {
        ID("to", "'to' must be a session id"),
        JSON_REQUIRED("data", "missing field 'data'")}},
    {.name = NULL},
};
/* clang-format on */

struct hub_session *hub_handle(struct hub *h, struct hub_session *s, const char *buf, size_t len)
{
    struct proto_request req;
    const char *detail = "";
    char *text = NULL;
    THREAD_ASSERT_OWNER(h->cfg.owner);
    int rc = proto_parse(hub_protocol, buf, len, &req, &detail);
    int text_rc = rc < 0 ? proto_chat_text(buf, len, &text, &detail) : PROTO_OK;

    if (s->gone)
        goto out_free;
    const struct proto_message *m = rc == PROTO_OK ? req.msg : NULL;
    /* a session is fresh until it sent anything but `resume` (which looks at it itself) */
    if (!m || m->type != PROTO_RESUME)
        s->fresh = false;
    if (rc < 0) {
        /* plain text: a chat message inside a room, only logged outside */
        if (!s->room)
            goto out_kicks;
        if (text_rc != PROTO_OK)
            hub_send_error(h, s, text_rc, detail);
        else
            send_chat(h, s, text);
    } else if (rc != PROTO_OK) {
        hub_send_error(h, s, rc, detail);
    } else if (m->needs_room && !s->room) {
        hub_send_error(h, s, PROTO_ERR_NOT_IN_ROOM, m->needs_room);
    } else if (m->host_only && s->room->host != s) {
        hub_send_error(h, s, PROTO_ERR_NOT_HOST, "only the host can do that");
    } else {
        s = m->handle(h, s, &req);
    }
out_kicks:
    hub_process_kicks(h);
out_free:
    proto_request_clear(&req);
    free(text);
    return s;
}
