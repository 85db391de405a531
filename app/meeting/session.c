/* SPDX-License-Identifier: MIT */
/* The hub's sessions (see hub.h, hubint.h): connect with a resume token, the message rate limit
 * and flood close, detach with a kept seat, the end of the window, and resume. */
#include "hubint.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "thread.h"

void session_free(struct hub_session *s)
{
    free(s->nickname);
    free(s);
}

/* A fresh resume token: 128 bits from the kernel's CSPRNG, as hex. Returns 0 or -errno. */
static int new_token(char out[2 * HUB_TOKEN_BYTES + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[HUB_TOKEN_BYTES];
    int rc = hub_random(b, sizeof(b));
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < sizeof(b); i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * HUB_TOKEN_BYTES] = '\0';
    return 0;
}

/* Compares a token with s's in time independent of where they differ. */
static bool token_equal(const struct hub_session *s, const char *token)
{
    size_t len = strlen(token);
    unsigned char diff = len != 2 * HUB_TOKEN_BYTES;
    for (size_t i = 0; i < 2 * HUB_TOKEN_BYTES; i++)
        diff |= (unsigned char)(s->token[i] ^ (i < len ? token[i] : 0));
    return diff == 0;
}

bool hub_session_in_room(const struct hub_session *s)
{
    return s->room != NULL;
}

uint64_t hub_session_id(const struct hub_session *s)
{
    return s->id;
}

struct hub_session *hub_connect(struct hub *h, void *sink, uint32_t addr)
{
    THREAD_ASSERT_OWNER(h->cfg.owner);
    struct hub_session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->nickname = strdup(PROTO_DEFAULT_NICK);
    if (!s->nickname) {
        free(s);
        return NULL;
    }
    if (new_token(s->token) < 0) {
        log_error(0, "no random bytes for a session token");
        session_free(s);
        return NULL;
    }
    s->sink = sink;
    s->addr = addr;
    s->id = h->next_id++;
    s->fresh = true;
    s->mic = s->cam = true;
    s->tokens = h->cfg.rate_burst;
    s->refill_ms = hub_mono_ms(h);
    s->react_tokens = HUB_REACT_BURST;
    s->react_ms = s->refill_ms;
    list_init(&s->detached_node);
    list_insert_tail(&h->sessions, &s->node);
    h->nsessions++;
    size_t n = 0;
    struct proto_room_info *infos = room_infos(h, &n);
    struct msg *m =
        infos ? proto_hello(h->cfg.greeting, s->id, s->nickname, s->token, infos, n) : NULL;
    free(infos);
    hub_deliver(h, s, m);
    msg_unref(m);
    hub_process_kicks(h);
    return s;
}

void hub_disconnect(struct hub *h, struct hub_session *s)
{
    THREAD_ASSERT_OWNER(h->cfg.owner);
    if (!s)
        return;
    /* it is on no kick list: every operation processes its kicks before returning */
    s->gone = true;
    room_leave(h, s);
    hub_process_kicks(h);
    list_remove(&s->node);
    list_remove(&s->detached_node);
    h->nsessions--;
    session_free(s);
}

void hub_detach(struct hub *h, struct hub_session *s)
{
    THREAD_ASSERT_OWNER(h->cfg.owner);
    if (!s)
        return;
    if (!h->cfg.resume_window_ms || s->gone) {
        hub_disconnect(h, s);
        return;
    }
    s->sink = NULL;
    s->detach_deadline = hub_mono_ms(h) + (int64_t)h->cfg.resume_window_ms;
    list_insert_tail(&h->detached, &s->detached_node);
    log_info(s->id, "connection dropped: seat kept for %u s", h->cfg.resume_window_ms / 1000);
}

void hub_tick(struct hub *h)
{
    THREAD_ASSERT_OWNER(h->cfg.owner);
    int64_t now = hub_mono_ms(h);
    passguard_expire(h, now);
    while (!list_empty(&h->detached)) {
        struct hub_session *s =
            list_entry(list_first(&h->detached), struct hub_session, detached_node);
        if (s->detach_deadline > now)
            break;
        log_info(s->id, "not resumed in time: ending the session");
        hub_disconnect(h, s);
    }
}

/* Token bucket: true when s may send one more message now. */
static bool rate_ok(struct hub *h, struct hub_session *s)
{
    if (!h->cfg.rate_per_sec)
        return true;
    int64_t now = hub_mono_ms(h);
    if (now > s->refill_ms) {
        s->tokens += (double)(now - s->refill_ms) * h->cfg.rate_per_sec / 1000.0;
        if (s->tokens > h->cfg.rate_burst)
            s->tokens = h->cfg.rate_burst;
    }
    s->refill_ms = now;
    if (s->tokens < 1.0)
        return false;
    s->tokens -= 1.0;
    return true;
}

bool hub_admit(struct hub *h, struct hub_session *s)
{
    THREAD_ASSERT_OWNER(h->cfg.owner);
    if (s->gone)
        return false;
    if (rate_ok(h, s)) {
        s->limited = 0;
        return true;
    }
    s->limited++;
    if (h->cfg.flood_close_after && s->limited > h->cfg.flood_close_after) {
        log_warn(s->id, "still over the rate limit after %u refused messages: closing with 1008",
                 h->cfg.flood_close_after);
        h->stats.floods++;
        if (h->ops.kick && s->sink)
            h->ops.kick(s->sink, 1008, "message flood");
        hub_mark_gone(h, s);
        hub_process_kicks(h);
        return false;
    }
    int64_t now = hub_mono_ms(h);
    if (s->limited == 1 && (!s->limited_log_ms || now - s->limited_log_ms >= 60000)) {
        log_info(s->id, "over the rate limit: refusing its messages");
        s->limited_log_ms = now;
    }
    hub_send_error(h, s, PROTO_ERR_RATE_LIMITED, "too many messages: slow down");
    hub_process_kicks(h);
    return false;
}

/* `resume` as the first message of a new connection (session s) takes over the session whose
 * token it names, with its id, nickname and room: s is dropped without a trace (it is in no
 * room), the old connection (if any is still attached) is evicted, the others see nothing.
 * Returns the session the connection now belongs to. */
struct hub_session *session_resume(struct hub *h, struct hub_session *s, const char *token)
{
    struct hub_session *old = NULL;
    if (!s->fresh || s->room) {
        hub_send_error(h, s, PROTO_ERR_BAD_TOKEN, "resume must be the first message");
        return s;
    }
    struct list *n;
    list_foreach (n, &h->sessions) {
        struct hub_session *o = list_entry(n, struct hub_session, node);
        if (o != s && token_equal(o, token))
            old = o; /* no early exit: the time taken does not depend on the match */
    }
    if (!old || old->gone) {
        hub_send_error(h, s, PROTO_ERR_BAD_TOKEN, "unknown or expired session");
        return s;
    }
    char fresh_token[sizeof(old->token)];
    if (new_token(fresh_token) < 0) {
        hub_send_error(h, s, PROTO_ERR_BAD_TOKEN, "cannot resume now");
        return s;
    }
    if (old->sink) {
        void *prev = old->sink;
        old->sink = NULL;
        if (h->ops.evict)
            h->ops.evict(prev); /* never touches the hub: it only queues a close */
    }
    list_remove(&old->detached_node);
    old->sink = s->sink;
    old->fresh = false; /* one resume per connection: it is not new any more */
    memcpy(old->token, fresh_token, sizeof(old->token));
    log_info(old->id, "resumed (connection of session %llu)", (unsigned long long)s->id);
    /* s is fresh and in no room: it leaves no trace */
    list_remove(&s->node);
    h->nsessions--;
    session_free(s);
    struct msg *m =
        proto_resumed(old->id, old->nickname, old->room ? old->room->name : NULL, old->token);
    hub_deliver(h, old, m);
    msg_unref(m);
    if (old->room)
        room_send_joined(h, old);
    return old;
}
