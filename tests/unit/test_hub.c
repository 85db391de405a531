/* SPDX-License-Identifier: MIT */
/* Unit tests for the hub, driven through hub_handle with a fake send function that records every
 * message per connection (and can refuse, like a full queue) and an injected clock: every row of
 * the chat protocol, the errors, rate limiting, overflow, the room list, and ordered fan-out under
 * concurrent senders (also run under ThreadSanitizer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "hub.h"
#include "log.h"
#include "proto.h"

/* --- The fake connection: records what the hub queues for it. --- */

struct sink {
    char **msgs; /* every accepted message's text, in order */
    size_t n, cap;
    size_t read;             /* next message the tests look at */
    bool refuse;             /* refuse the next message (and so every one after it) */
    long accept_left;        /* refuse once this many more were accepted; < 0: no limit */
    bool refused;            /* it refused once: the hub must never call it again */
    unsigned after_refusal;  /* calls made after it refused (a contract violation) */
    unsigned bad_frames;     /* messages that were not a text frame with a matching length */
    unsigned long long sent; /* calls */
};

static void sink_init(struct sink *k)
{
    memset(k, 0, sizeof(*k));
    k->accept_left = -1;
}

static void sink_destroy(struct sink *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->msgs[i]);
    free(k->msgs);
    memset(k, 0, sizeof(*k));
}

static bool fake_send(void *arg, struct msg *m)
{
    struct sink *k = arg;
    bool ok = false;

    k->sent++;
    if (k->refused) {
        k->after_refusal++;
        goto out;
    }
    if (!m) {
        k->bad_frames++;
        goto out;
    }
    if (m->opcode != 0x1 || strlen(m->data) != m->len)
        k->bad_frames++;
    if (k->refuse || k->accept_left == 0) {
        k->refused = true;
        goto out;
    }
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 16;
        char **mm = realloc(k->msgs, cap * sizeof(*mm));
        if (!mm)
            goto out;
        k->msgs = mm;
        k->cap = cap;
    }
    k->msgs[k->n] = strdup(m->data);
    if (!k->msgs[k->n])
        goto out;
    k->n++;
    if (k->accept_left > 0)
        k->accept_left--;
    ok = true;
out:
    return ok;
}

#define T0 1700000000000LL

static int64_t fake_clock = T0;

static int64_t fake_now(void)
{
    return fake_clock;
}

static const struct hub_ops fake_ops = {.send = fake_send, .now_ms = fake_now};

/* --- A hub with up to MAXS sessions, each with its own sink. --- */

#define MAXS 16

struct world {
    struct hub *h;
    struct sink sink[MAXS];
    struct hub_session *sess[MAXS];
    long long ids[MAXS]; /* session ids, kept after a disconnect */
    json_t *cur[MAXS];   /* the message last returned by next(i) */
    uint32_t addr[MAXS]; /* the client address conn(i) gives (0 = unknown) */
};

static struct world W;

static void start(unsigned max_members, unsigned max_rooms, unsigned rate, unsigned burst)
{
    struct hub_config cfg = {
        .greeting = "Welcome to huddle",
        .max_room_members = max_members,
        .max_rooms = max_rooms,
        .rate_per_sec = rate,
        .rate_burst = burst,
    };

    memset(&W, 0, sizeof(W));
    fake_clock = T0;
    for (int i = 0; i < MAXS; i++)
        sink_init(&W.sink[i]);
    W.h = hub_new(&cfg, &fake_ops);
    assert_non_null(W.h);
}

/* Teardown: disconnects whoever is left, checks the hub is empty, frees everything. */
static int end(void **state)
{
    struct hub_stats st;
    (void)state;

    for (int i = 0; i < MAXS; i++) {
        if (W.sess[i])
            hub_disconnect(W.h, W.sess[i]);
        W.sess[i] = NULL;
    }
    hub_get_stats(W.h, &st);
    hub_free(W.h);
    for (int i = 0; i < MAXS; i++) {
        json_decref(W.cur[i]);
        if (W.sink[i].after_refusal || W.sink[i].bad_frames)
            fail_msg("sink %d: %u calls after refusing, %u bad frames", i, W.sink[i].after_refusal,
                     W.sink[i].bad_frames);
        sink_destroy(&W.sink[i]);
    }
    if (st.sessions || st.rooms || st.members)
        fail_msg("hub not empty at the end: %u sessions, %u rooms, %u members", st.sessions,
                 st.rooms, st.members);
    return 0;
}

static size_t count(int i)
{
    return W.sink[i].n;
}

static const char *raw(int i, size_t k)
{
    assert_true(k < count(i));
    return W.sink[i].msgs[k];
}

/* Next unread message of session i, parsed (owned by W until the next call for i), or NULL. */
static json_t *next(int i)
{
    struct sink *k = &W.sink[i];
    json_error_t err;

    json_decref(W.cur[i]);
    W.cur[i] = NULL;
    if (k->read >= count(i))
        return NULL;
    W.cur[i] = json_loads(k->msgs[k->read], 0, &err);
    if (!W.cur[i] || !json_is_object(W.cur[i]) ||
        !json_is_string(json_object_get(W.cur[i], "type")))
        fail_msg("session %d got a message that is not a typed JSON object: %s", i,
                 k->msgs[k->read]);
    k->read++;
    return W.cur[i];
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_string(v))
        fail_msg("field '%s' is not a string", key);
    return json_string_value(v);
}

static long long num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_integer(v))
        fail_msg("field '%s' is not an integer", key);
    return json_integer_value(v);
}

/* The next message of i must be of type; returns it. */
static json_t *expect(int i, const char *type)
{
    size_t at = W.sink[i].read;
    json_t *o = next(i);

    if (!o)
        fail_msg("session %d: expected '%s', got nothing", i, type);
    if (strcmp(str(o, "type"), type) != 0)
        fail_msg("session %d: expected '%s', got %s", i, type, W.sink[i].msgs[at]);
    return o;
}

static void expect_none(int i)
{
    if (W.sink[i].read < count(i))
        fail_msg("session %d: expected nothing, got %s", i, W.sink[i].msgs[W.sink[i].read]);
}

static void expect_none_all(void)
{
    for (int i = 0; i < MAXS; i++)
        expect_none(i);
}

static void expect_error(int i, const char *code)
{
    json_t *o = expect(i, "error");

    assert_string_equal(str(o, "code"), code);
    assert_true(strlen(str(o, "message")) > 0);
}

/* Marks everything i received so far as read. */
static void drain(int i)
{
    W.sink[i].read = count(i);
}

static void drain_all(void)
{
    for (int i = 0; i < MAXS; i++)
        drain(i);
}

static long long id(int i)
{
    return W.ids[i];
}

static void conn(int i)
{
    assert_null(W.sess[i]);
    W.sess[i] = hub_connect(W.h, &W.sink[i], W.addr[i]);
    assert_non_null(W.sess[i]);
    W.ids[i] = (long long)hub_session_id(W.sess[i]);
}

static void disc(int i)
{
    hub_disconnect(W.h, W.sess[i]);
    W.sess[i] = NULL;
}

/* As the transport does: the rate limit first, then the hub (which may swap the session). */
static void say_n(int i, const char *buf, size_t len)
{
    if (hub_admit(W.h, W.sess[i]))
        W.sess[i] = hub_handle(W.h, W.sess[i], buf, len);
}

static void say(int i, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(int i, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int len;

    va_start(ap, fmt);
    len = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    assert_true(len >= 0 && (size_t)len < sizeof(buf));
    say_n(i, buf, (size_t)len);
}

/* Session i joins the listed room (created listed if new, as the course's rooms are) and
 * everything sent so far is marked read for everybody. */
static void join(int i, const char *room)
{
    say(i, "{\"type\":\"join\",\"room\":\"%s\",\"listed\":true}", room);
    json_t *o = expect(i, "joined");
    assert_string_equal(str(o, "room"), room);
    drain_all();
}

/* Connects sessions [from, to) and marks their hellos read. */
static void conn_range(int from, int to)
{
    for (int i = from; i < to; i++)
        conn(i);
    drain_all();
}

/* The usual scene: a hub with default limits, nconn sessions, the first nroom of them in room. */
static void scene(int nconn, int nroom, const char *room)
{
    start(8, 100, 0, 0);
    conn_range(0, nconn);
    for (int i = 0; i < nroom; i++)
        join(i, room);
}

static struct hub_stats stats(void)
{
    struct hub_stats st;

    hub_get_stats(W.h, &st);
    return st;
}

static void expect_rooms_json(const char *expected)
{
    char *s = hub_rooms_json(W.h);

    assert_non_null(s);
    assert_string_equal(s, expected);
    free(s);
}

/* Checks a member entry {id, nickname, state}. */
static void expect_member(json_t *arr, size_t k, int who, const char *nick)
{
    json_t *m = json_array_get(arr, k);

    assert_non_null(m);
    assert_int_equal(json_object_size(m), 3);
    assert_true(json_is_object(json_object_get(m, "state")));
    assert_int_equal(num(m, "id"), id(who));
    assert_string_equal(str(m, "nickname"), nick);
}

/* Checks a welcome or bye: {type, room, id, nickname, count}, a welcome also with the room's
 * settings {host, locked, listed, protected}. */
static void expect_presence(int i, const char *type, const char *room, int who, const char *nick,
                            long long n)
{
    json_t *o = expect(i, type);

    assert_int_equal(json_object_size(o), strcmp(type, "welcome") ? 5 : 9);
    assert_string_equal(str(o, "room"), room);
    assert_int_equal(num(o, "id"), id(who));
    assert_string_equal(str(o, "nickname"), nick);
    assert_int_equal(num(o, "count"), n);
}

/* The next message of i is `room` naming who as the host (the host's copy has the passcode). */
/* Checks a `room` message to i: host `who`, prompted by `change`; only the host's copy carries
 * the passcode. */
static json_t *expect_host(int i, int who, const char *change)
{
    json_t *o = expect(i, "room");

    assert_int_equal(num(o, "host"), id(who));
    assert_string_equal(str(o, "change"), change);
    assert_int_equal(json_object_size(o), i == who ? 8 : 7);
    return o;
}

/* Checks a chat: {type, room, from{id, nickname}, text, seq, ts}. */
static void expect_chat(int i, const char *room, int from, const char *nick, const char *text,
                        long long seq)
{
    json_t *o = expect(i, "chat");
    json_t *f = json_object_get(o, "from");

    assert_int_equal(json_object_size(o), 6);
    assert_string_equal(str(o, "room"), room);
    assert_non_null(f);
    assert_int_equal(json_object_size(f), 2);
    assert_int_equal(num(f, "id"), id(from));
    assert_string_equal(str(f, "nickname"), nick);
    assert_string_equal(str(o, "text"), text);
    assert_int_equal(num(o, "seq"), seq);
    assert_int_equal(num(o, "ts"), fake_clock);
}

/* --- Hello, nickname --- */

static void test_hello_lists_rooms(void **state)
{
    json_t *o;
    (void)state;

    start(8, 100, 0, 0);
    conn(0);
    o = expect(0, "hello");
    assert_string_equal(str(o, "text"), "Welcome to huddle");
    assert_int_equal(num(o, "id"), id(0));
    assert_string_equal(str(o, "nickname"), "Anon");
    assert_int_equal(json_array_size(json_object_get(o, "rooms")), 0);
    assert_int_equal(strlen(str(o, "token")), 32);
    assert_int_equal(json_object_size(o), 6);
    expect_none(0);

    conn_range(1, 3);
    join(0, "beta");
    join(1, "alpha");
    join(2, "alpha");
    conn(3);
    assert_int_equal(count(3), 1);
    o = expect(3, "hello");
    assert_int_equal(num(o, "id"), id(3));
    {
        char *rooms = json_dumps(json_object_get(o, "rooms"), JSON_COMPACT);
        assert_string_equal(rooms,
                            "[{\"name\":\"alpha\",\"count\":2,\"capacity\":8,\"locked\":false,"
                            "\"protected\":false},{\"name\":\"beta\","
                            "\"count\":1,\"capacity\":8,\"locked\":false,\"protected\":false}]");
        free(rooms);
    }
    drain(3);
    expect_none_all(); /* only the new session hears of it */
    assert_true(id(0) < id(1) && id(1) < id(2) && id(2) < id(3));
    assert_int_equal(stats().sessions, 4);
}

static void test_nickname(void **state)
{
    json_t *o;
    (void)state;

    scene(5, 2, "one");
    join(2, "two");
    /* 3 stays in the lobby */

    say(0, "{\"type\":\"nickname\",\"nickname\":\"  Zo\\u00eb\\u3000\"}");
    assert_string_equal(raw(0, W.sink[0].read),
                        "{\"type\":\"nickname\",\"nickname\":\"Zo\xc3\xab\"}");
    expect(0, "nickname");
    expect_none(0); /* not renamed to the sender itself */
    o = expect(1, "renamed");
    assert_int_equal(json_object_size(o), 4);
    assert_int_equal(num(o, "id"), id(0));
    assert_string_equal(str(o, "old"), "Anon");
    assert_string_equal(str(o, "nickname"), "Zo\xc3\xab");
    expect_none_all(); /* nobody in room two or in the lobby */

    say(0, "{\"type\":\"nickname\",\"nickname\":\"Zed\"}");
    expect(0, "nickname");
    o = expect(1, "renamed");
    assert_string_equal(str(o, "old"), "Zo\xc3\xab");
    assert_string_equal(str(o, "nickname"), "Zed");
    expect_none_all();

    /* in the lobby: only the reply */
    say(3, "{\"type\":\"nickname\",\"nickname\":\"Lobbyist\"}");
    assert_string_equal(str(expect(3, "nickname"), "nickname"), "Lobbyist");
    expect_none_all();

    /* the new name is what everybody sees from now on */
    say(0, "{\"type\":\"chat\",\"text\":\"hi\"}");
    expect_chat(0, "one", 0, "Zed", "hi", 1);
    expect_chat(1, "one", 0, "Zed", "hi", 1);
    say(4, "{\"type\":\"join\",\"room\":\"one\"}");
    o = expect(4, "joined");
    expect_member(json_object_get(o, "members"), 0, 0, "Zed");
    expect_member(json_object_get(o, "members"), 1, 1, "Anon");
    drain_all();
    say(3, "{\"type\":\"join\",\"room\":\"one\"}");
    o = expect(3, "joined");
    expect_member(json_object_get(o, "members"), 2, 4, "Anon");
    expect_presence(0, "welcome", "one", 3, "Lobbyist", 4);
}

/* --- Join, leave --- */

static void test_join_and_welcome(void **state)
{
    json_t *o;
    (void)state;

    scene(4, 0, NULL);
    say(0, "{\"type\":\"join\",\"room\":\"room\"}");
    o = expect(0, "joined");
    assert_int_equal(json_object_size(o), 10); /* the host's copy: with its passcode (null) */
    assert_string_equal(str(o, "room"), "room");
    assert_int_equal(num(o, "id"), id(0));
    assert_int_equal(json_array_size(json_object_get(o, "members")), 0);
    assert_int_equal(num(o, "count"), 1);
    assert_string_equal(raw(0, W.sink[0].read - 1),
                        "{\"type\":\"joined\",\"room\":\"room\",\"id\":1,\"members\":[],"
                        "\"count\":1,\"host\":1,\"locked\":false,\"listed\":false,"
                        "\"protected\":false,\"passcode\":null}");
    expect_none_all();

    /* the room name is trimmed */
    say(1, "{\"type\":\"join\",\"room\":\" \\u00a0room\\t\"}");
    o = expect(1, "joined");
    assert_string_equal(str(o, "room"), "room");
    assert_int_equal(num(o, "id"), id(1));
    assert_int_equal(json_array_size(json_object_get(o, "members")), 1);
    expect_member(json_object_get(o, "members"), 0, 0, "Anon");
    assert_int_equal(num(o, "count"), 2);
    expect_presence(0, "welcome", "room", 1, "Anon", 2);
    expect_none_all();

    say(2, "{\"type\":\"nickname\",\"nickname\":\"Cy\"}");
    drain(2);
    say(2, "{\"type\":\"join\",\"room\":\"room\"}");
    o = expect(2, "joined");
    assert_int_equal(json_array_size(json_object_get(o, "members")), 2);
    expect_member(json_object_get(o, "members"), 0, 0, "Anon");
    expect_member(json_object_get(o, "members"), 1, 1, "Anon");
    assert_int_equal(num(o, "count"), 3);
    expect_presence(0, "welcome", "room", 2, "Cy", 3);
    expect_presence(1, "welcome", "room", 2, "Cy", 3);
    expect_none_all(); /* the lobby (3) hears nothing directly */

    /* names are case-sensitive and exact after trimming */
    say(3, "{\"type\":\"join\",\"room\":\"Room\"}");
    o = expect(3, "joined");
    assert_int_equal(num(o, "count"), 1);
    expect_none_all();
    struct hub_stats st = stats();
    assert_int_equal(st.rooms, 2);
    assert_int_equal(st.members, 4);
    assert_true(hub_session_in_room(W.sess[3]));
}

static void test_join_another_room_leaves_first(void **state)
{
    json_t *o;
    (void)state;

    scene(3, 3, "r1");

    say(0, "{\"type\":\"join\",\"room\":\"r2\",\"listed\":true}");
    o = expect(0, "joined");
    assert_string_equal(str(o, "room"), "r2");
    assert_int_equal(json_array_size(json_object_get(o, "members")), 0);
    assert_int_equal(num(o, "count"), 1);
    expect_none(0); /* no bye to itself */
    /* 0 created r1: the longest present after it hosts it now */
    expect_presence(1, "bye", "r1", 0, "Anon", 2);
    expect_host(1, 1, "host");
    expect_presence(2, "bye", "r1", 0, "Anon", 2);
    expect_host(2, 1, "host");
    expect_none_all();

    say(1, "{\"type\":\"join\",\"room\":\"r2\"}");
    o = expect(1, "joined");
    expect_member(json_object_get(o, "members"), 0, 0, "Anon");
    assert_int_equal(num(o, "count"), 2);
    expect_presence(0, "welcome", "r2", 1, "Anon", 2);
    expect_presence(2, "bye", "r1", 1, "Anon", 1);
    expect_host(2, 2, "host");
    expect_none_all();

    /* the last one out: r1 disappears, nobody is told */
    say(2, "{\"type\":\"join\",\"room\":\"r2\"}");
    expect(2, "joined");
    expect_presence(0, "welcome", "r2", 2, "Anon", 3);
    expect_presence(1, "welcome", "r2", 2, "Anon", 3);
    expect_none_all();
    expect_rooms_json("{\"rooms\":[{\"name\":\"r2\",\"count\":3,\"capacity\":8,\"locked\":false,"
                      "\"protected\":false}]}");
}

static void test_join_same_room_again(void **state)
{
    json_t *o;
    (void)state;

    scene(2, 2, "r");
    say(0, "{\"type\":\"join\",\"room\":\"r\"}");
    o = expect(0, "joined");
    assert_string_equal(str(o, "room"), "r");
    assert_int_equal(num(o, "id"), id(0));
    assert_int_equal(json_array_size(json_object_get(o, "members")), 1);
    expect_member(json_object_get(o, "members"), 0, 1, "Anon");
    assert_int_equal(num(o, "count"), 2);
    say(0, "{\"type\":\"join\",\"room\":\"  r  \"}");
    expect(0, "joined");
    expect_none_all();
    assert_int_equal(stats().members, 2);
    /* and the room's chat numbering is untouched */
    say(1, "{\"type\":\"chat\",\"text\":\"x\"}");
    expect_chat(0, "r", 1, "Anon", "x", 1);
}

static void test_room_full(void **state)
{
    json_t *o;
    (void)state;

    start(3, 100, 0, 0);
    conn_range(0, 6);
    join(0, "r");
    join(1, "r");
    join(2, "r");
    say(3, "{\"type\":\"join\",\"room\":\"r\"}");
    expect_error(3, "room_full");
    expect_none_all();
    assert_false(hub_session_in_room(W.sess[3]));

    /* a member of another room asking for a full one stays where it is */
    join(4, "other");
    join(5, "other");
    say(4, "{\"type\":\"join\",\"room\":\"r\"}");
    expect_error(4, "room_full");
    expect_none_all();
    say(4, "{\"type\":\"chat\",\"text\":\"still here\"}");
    expect_chat(4, "other", 4, "Anon", "still here", 1);
    expect_chat(5, "other", 4, "Anon", "still here", 1);

    /* a member of the full room may "join" it again */
    say(1, "{\"type\":\"join\",\"room\":\"r\"}");
    o = expect(1, "joined");
    assert_int_equal(num(o, "count"), 3);
    expect_none_all();

    /* once one leaves there is room again */
    say(2, "{\"type\":\"leave\"}");
    drain_all();
    say(3, "{\"type\":\"join\",\"room\":\"r\"}");
    assert_int_equal(num(expect(3, "joined"), "count"), 3);
    assert_int_equal(stats().error_by_code[PROTO_ERR_ROOM_FULL], 2);
}

static void test_room_full_at_nine_by_default(void **state)
{
    (void)state;

    start(8, 1000, 0, 0);
    conn_range(0, 9);
    for (int i = 0; i < 8; i++)
        join(i, "big");
    say(8, "{\"type\":\"join\",\"room\":\"big\"}");
    expect_error(8, "room_full");
    expect_none_all();
    assert_int_equal(stats().members, 8);
}

static void test_max_rooms(void **state)
{
    (void)state;

    start(8, 2, 0, 0);
    conn_range(0, 4);
    join(0, "a");
    join(1, "b");
    say(2, "{\"type\":\"join\",\"room\":\"c\"}");
    expect_error(2, "room_full");
    expect_none_all();
    expect_rooms_json("{\"rooms\":[{\"name\":\"a\",\"count\":1,\"capacity\":8,\"locked\":false,"
                      "\"protected\":false},{\"name\":\"b\",\"count\":1,\"capacity\":8,\"locked\":"
                      "false,\"protected\":false}]}");

    /* existing rooms can still be joined */
    join(2, "a");
    /* leaving "a" would not free a room: refused, and 0 stays in "a" */
    say(0, "{\"type\":\"join\",\"room\":\"c\"}");
    expect_error(0, "room_full");
    expect_none_all();
    assert_true(hub_session_in_room(W.sess[0]));
    /* the only member of "b" moving to "c": "b" goes away first, so it fits */
    say(1, "{\"type\":\"join\",\"room\":\"c\",\"listed\":true}");
    expect(1, "joined");
    expect_none_all();
    expect_rooms_json("{\"rooms\":[{\"name\":\"a\",\"count\":2,\"capacity\":8,\"locked\":false,"
                      "\"protected\":false},{\"name\":\"c\",\"count\":1,\"capacity\":8,\"locked\":"
                      "false,\"protected\":false}]}");
    assert_int_equal(stats().rooms, 2);
}

static void test_leave(void **state)
{
    json_t *o;
    (void)state;

    scene(4, 3, "r");
    say(1, "{\"type\":\"nickname\",\"nickname\":\"Bo\"}");
    drain_all();

    say(1, "{\"type\":\"leave\"}");
    o = expect(1, "left");
    assert_int_equal(json_object_size(o), 2);
    assert_string_equal(str(o, "room"), "r");
    expect_presence(0, "bye", "r", 1, "Bo", 2);
    expect_presence(2, "bye", "r", 1, "Bo", 2);
    expect_none_all();
    assert_false(hub_session_in_room(W.sess[1]));

    /* outside a room */
    say(1, "{\"type\":\"leave\"}");
    expect_error(1, "not_in_room");
    say(3, "{\"type\":\"leave\"}");
    expect_error(3, "not_in_room");
    expect_none_all();

    say(0, "{\"type\":\"leave\"}");
    expect(0, "left");
    expect_presence(2, "bye", "r", 0, "Anon", 1);
    expect_host(2, 2, "host");
    say(2, "{\"type\":\"leave\"}");
    expect(2, "left");
    expect_none_all();
    assert_int_equal(stats().rooms, 0);
    assert_int_equal(stats().members, 0);
    expect_rooms_json("{\"rooms\":[]}");
}

/* --- Chat --- */

static void test_chat_seq_per_room(void **state)
{
    (void)state;

    scene(5, 2, "r1");
    join(2, "r2");

    say(0, "{\"type\":\"chat\",\"text\":\"hi\"}");
    assert_string_equal(raw(0, W.sink[0].read),
                        "{\"type\":\"chat\",\"room\":\"r1\",\"from\":{\"id\":1,\"nickname\":"
                        "\"Anon\"},\"text\":\"hi\",\"seq\":1,\"ts\":1700000000000}");
    expect_chat(0, "r1", 0, "Anon", "hi", 1); /* the sender gets it too */
    expect_chat(1, "r1", 0, "Anon", "hi", 1);
    expect_none_all();

    fake_clock += 1234;
    say(1, "{\"type\":\"chat\",\"text\":\"  there \\n\"}");
    expect_chat(0, "r1", 1, "Anon", "there", 2);
    expect_chat(1, "r1", 1, "Anon", "there", 2);

    /* another room counts on its own */
    say(2, "{\"type\":\"chat\",\"text\":\"elsewhere\"}");
    expect_chat(2, "r2", 2, "Anon", "elsewhere", 1);
    expect_none_all();

    /* a newcomer sees what comes after its join, numbered on */
    join(3, "r1");
    say(0, "{\"type\":\"chat\",\"text\":\"line one\\nline\\ttwo\"}");
    for (int i = 0; i < 2; i++)
        expect_chat(i, "r1", 0, "Anon", "line one\nline\ttwo", 3);
    expect_chat(3, "r1", 0, "Anon", "line one\nline\ttwo", 3);
    for (long long seq = 4; seq < 54; seq++) {
        say(3, "{\"type\":\"chat\",\"text\":\"n%lld\"}", seq);
        char text[16];
        snprintf(text, sizeof(text), "n%lld", seq);
        for (int i = 0; i < 2; i++)
            expect_chat(i, "r1", 3, "Anon", text, seq);
        expect_chat(3, "r1", 3, "Anon", text, seq);
    }
    expect_none_all();
    assert_int_equal(stats().chats, 54);

    /* a room that emptied out and is created again starts over */
    say(2, "{\"type\":\"leave\"}");
    drain_all();
    join(4, "r2");
    say(4, "{\"type\":\"chat\",\"text\":\"new\"}");
    expect_chat(4, "r2", 4, "Anon", "new", 1);
}

static void test_chat_outside_room(void **state)
{
    (void)state;

    scene(2, 0, NULL);
    join(1, "r");
    say(0, "{\"type\":\"chat\",\"text\":\"anyone?\"}");
    expect_error(0, "not_in_room");
    expect_none_all();
    assert_int_equal(stats().chats, 0);
}

static void test_plain_text(void **state)
{
    static const char greeting[] = "hello from the browser!";
    (void)state;

    scene(3, 0, NULL);
    /* outside a room: nothing is sent to anyone */
    say_n(0, greeting, strlen(greeting));
    say_n(0, "\x01", 1);
    expect_none_all();
    assert_int_equal(stats().errors, 0);

    join(0, "r");
    join(1, "r");
    say(0, "  %s  ", greeting);
    expect_chat(0, "r", 0, "Anon", greeting, 1);
    expect_chat(1, "r", 0, "Anon", greeting, 1);
    expect_none_all();
    /* text that merely looks like a JSON string is text */
    say(1, "\"quoted\"");
    expect_chat(0, "r", 1, "Anon", "\"quoted\"", 2);
    expect_chat(1, "r", 1, "Anon", "\"quoted\"", 2);
    /* the chat rules apply: control characters, emptiness */
    say(0, "bell\x07");
    expect_error(0, "bad_field");
    say(0, " \t ");
    expect_error(0, "bad_field");
    expect_none_all();
    say(0, "multi\nline");
    expect_chat(1, "r", 0, "Anon", "multi\nline", 3);
}

/* --- Signal, list, disconnect --- */

static void test_signal(void **state)
{
    char expected[256];
    (void)state;

    scene(5, 3, "r");
    join(3, "other");
    /* 4 stays in the lobby */

    say(0, "{\"type\":\"signal\",\"to\":%lld,\"data\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}}",
        id(1));
    snprintf(
        expected, sizeof(expected),
        "{\"type\":\"signal\",\"from\":%lld,\"data\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}}",
        id(0));
    assert_int_equal(count(1), W.sink[1].read + 1);
    assert_string_equal(raw(1, W.sink[1].read), expected);
    drain(1);
    expect_none_all(); /* nothing to the sender or anybody else */

    say(1, "{\"type\":\"signal\",\"to\":%lld,\"data\":null}", id(0));
    snprintf(expected, sizeof(expected), "{\"type\":\"signal\",\"from\":%lld,\"data\":null}",
             id(1));
    assert_string_equal(raw(0, W.sink[0].read), expected);
    drain(0);
    say(2, "{\"type\":\"signal\",\"to\":%lld,\"data\":[1,\"two\",{\"three\":3.5}]}", id(0));
    snprintf(expected, sizeof(expected),
             "{\"type\":\"signal\",\"from\":%lld,\"data\":[1,\"two\",{\"three\":3.5}]}", id(2));
    assert_string_equal(raw(0, W.sink[0].read), expected);
    drain(0);
    expect_none_all();

    /* someone in another room, nobody, and from outside any room */
    say(0, "{\"type\":\"signal\",\"to\":%lld,\"data\":{}}", id(3));
    expect_error(0, "no_such_peer");
    say(0, "{\"type\":\"signal\",\"to\":999,\"data\":{}}");
    expect_error(0, "no_such_peer");
    say(0, "{\"type\":\"signal\",\"to\":%lld,\"data\":{}}", id(4));
    expect_error(0, "no_such_peer");
    say(4, "{\"type\":\"signal\",\"to\":%lld,\"data\":{}}", id(0));
    expect_error(4, "no_such_peer");
    say(3, "{\"type\":\"leave\"}");
    drain(3);
    say(3, "{\"type\":\"signal\",\"to\":%lld,\"data\":{}}", id(0));
    expect_error(3, "no_such_peer");
    expect_none_all();

    /* malformed signals */
    say(0, "{\"type\":\"signal\",\"to\":%lld}", id(1));
    expect_error(0, "bad_field");
    say(0, "{\"type\":\"signal\",\"to\":\"%lld\",\"data\":{}}", id(1));
    expect_error(0, "bad_field");
    expect_none_all();
    assert_int_equal(stats().signals, 3);
    assert_int_equal(stats().error_by_code[PROTO_ERR_NO_SUCH_PEER], 5);
}

static void test_list(void **state)
{
    (void)state;

    scene(4, 0, NULL);
    say(0, "{\"type\":\"list\"}");
    expect(0, "rooms");
    assert_string_equal(raw(0, W.sink[0].read - 1), "{\"type\":\"rooms\",\"rooms\":[]}");
    expect_none_all();
    join(1, "zeta");
    join(2, "Alpha");
    join(3, "zeta");
    say(0, "{\"type\":\"list\"}");
    assert_string_equal(
        raw(0, W.sink[0].read),
        "{\"type\":\"rooms\",\"rooms\":[{\"name\":\"Alpha\",\"count\":1,\"capacity\":8,\"locked\":"
        "false,\"protected\":false},{\"name\":"
        "\"zeta\",\"count\":2,\"capacity\":8,\"locked\":false,\"protected\":false}]}");
    drain(0);
    /* members may ask too */
    say(1, "{\"type\":\"list\"}");
    expect(1, "rooms");
    expect_none_all();
}

static void test_disconnect_says_bye(void **state)
{
    (void)state;

    scene(4, 3, "r");
    size_t before = count(1);
    disc(1);
    expect_presence(0, "bye", "r", 1, "Anon", 2);
    expect_presence(2, "bye", "r", 1, "Anon", 2);
    expect_none_all();
    assert_int_equal(count(1), before);
    assert_int_equal(W.sink[1].sent, before); /* never called again */

    /* a lobby session leaves silently */
    disc(3);
    expect_none_all();
    disc(0);
    expect_presence(2, "bye", "r", 0, "Anon", 1);
    expect_host(2, 2, "host");
    disc(2);
    expect_none_all();
    struct hub_stats st = stats();
    assert_int_equal(st.sessions, 0);
    assert_int_equal(st.rooms, 0);
    assert_int_equal(st.members, 0);
}

/* --- Errors and rate limiting --- */

static char *repeat_msg(const char *prefix, const char *unit, size_t n, const char *suffix)
{
    size_t cap = strlen(prefix) + strlen(unit) * n + strlen(suffix) + 1;
    char *s = malloc(cap);
    size_t off = strlen(prefix);

    assert_non_null(s);
    memcpy(s, prefix, off);
    for (size_t i = 0; i < n; i++) {
        memcpy(s + off, unit, strlen(unit));
        off += strlen(unit);
    }
    memcpy(s + off, suffix, strlen(suffix) + 1);
    return s;
}

static void say_repeat(int i, const char *prefix, const char *unit, size_t n, const char *suffix)
{
    char *s = repeat_msg(prefix, unit, n, suffix);

    say_n(i, s, strlen(s));
    free(s);
}

static void test_errors(void **state)
{
    (void)state;

    scene(2, 2, "r");

    say(0, "{\"type\":");
    expect_error(0, "bad_json");
    say(0, "[1]");
    expect_error(0, "bad_json");
    say(0, "{\"type\":\"chat\",\"type\":\"chat\",\"text\":\"dup\"}");
    expect_error(0, "bad_json");
    say_repeat(0, "", "[", 100000, "");
    expect_error(0, "bad_json");
    say(0, "{\"type\":\"dance\"}");
    expect_error(0, "unknown_type");
    say(0, "{}");
    expect_error(0, "unknown_type");
    say(0, "{\"type\":7}");
    expect_error(0, "unknown_type");
    expect_none_all(); /* errors go to the sender only */

    /* nickname: 32 code points fine, 33 not; no control characters */
    say_repeat(0, "{\"type\":\"nickname\",\"nickname\":\"", "\xf0\x9f\x98\x80", 33, "\"}");
    expect_error(0, "bad_field");
    say_repeat(0, "{\"type\":\"nickname\",\"nickname\":\"", "\xf0\x9f\x98\x80", 32, "\"}");
    expect(0, "nickname");
    expect(1, "renamed");
    say(0, "{\"type\":\"nickname\",\"nickname\":\"a\\u0007b\"}");
    expect_error(0, "bad_field");
    say(0, "{\"type\":\"nickname\",\"nickname\":\"a\\nb\"}");
    expect_error(0, "bad_field");
    say(0, "{\"type\":\"nickname\",\"nickname\":\"   \"}");
    expect_error(0, "bad_field");
    say(0, "{\"type\":\"nickname\",\"nickname\":42}");
    expect_error(0, "bad_field");

    /* room: 64 fine, 65 not */
    say_repeat(0, "{\"type\":\"join\",\"room\":\"", "r", 65, "\"}");
    expect_error(0, "bad_field");
    say(0, "{\"type\":\"join\",\"room\":\"a\\u0000b\"}");
    expect_error(0, "bad_field");
    say(0, "{\"type\":\"join\"}");
    expect_error(0, "bad_field");
    expect_none_all();
    assert_true(hub_session_in_room(W.sess[0])); /* errors change nothing */

    /* chat: 2000 fine, 2001 not; line breaks and tabs fine, other controls not */
    say_repeat(0, "{\"type\":\"chat\",\"text\":\"", "\xc3\xa9", 2001, "\"}");
    expect_error(0, "bad_field");
    say(0, "{\"type\":\"chat\",\"text\":\"a\\u001bb\"}");
    expect_error(0, "bad_field");
    say(0, "{\"type\":\"chat\",\"text\":\"\"}");
    expect_error(0, "bad_field");
    expect_none_all();
    say_repeat(0, "{\"type\":\"chat\",\"text\":\"", "\xc3\xa9", 2000, "\"}");
    expect(0, "chat");
    assert_int_equal(num(expect(1, "chat"), "seq"), 1);
    say(0, "{\"type\":\"chat\",\"text\":\"a\\nb\\tc\"}");
    assert_string_equal(str(expect(1, "chat"), "text"), "a\nb\tc");
    drain(0);
    expect_none_all();

    /* a 65-character room name is refused, 64 is a room */
    say_repeat(0, "{\"type\":\"join\",\"room\":\"", "r", 64, "\"}");
    assert_int_equal(strlen(str(expect(0, "joined"), "room")), 64);

    struct hub_stats st = stats();
    assert_int_equal(st.error_by_code[PROTO_ERR_BAD_JSON], 4);
    assert_int_equal(st.error_by_code[PROTO_ERR_UNKNOWN_TYPE], 3);
    assert_int_equal(st.error_by_code[PROTO_ERR_BAD_FIELD], 11);
    assert_int_equal(st.errors, 18);
}

static void test_rate_limit(void **state)
{
    (void)state;

    fake_clock = T0;
    start(8, 100, 10, 5);
    conn_range(0, 3);
    for (int k = 0; k < 5; k++) {
        say(0, "{\"type\":\"list\"}");
        expect(0, "rooms");
    }
    say(0, "{\"type\":\"list\"}");
    expect_error(0, "rate_limited");
    say(0, "{\"type\":\"list\"}");
    expect_error(0, "rate_limited");
    /* plain text in the lobby is refused too, although it would be ignored */
    say(0, "plain");
    expect_error(0, "rate_limited");
    expect_none_all();

    /* others are not affected */
    for (int k = 0; k < 5; k++) {
        say(1, "{\"type\":\"list\"}");
        expect(1, "rooms");
    }

    /* 100 ms at 10/s is one message */
    fake_clock += 100;
    say(0, "{\"type\":\"list\"}");
    expect(0, "rooms");
    say(0, "{\"type\":\"list\"}");
    expect_error(0, "rate_limited");

    /* a long pause refills up to the burst, not beyond */
    fake_clock += 60000;
    for (int k = 0; k < 5; k++) {
        say(0, "{\"type\":\"list\"}");
        expect(0, "rooms");
    }
    say(0, "{\"type\":\"list\"}");
    expect_error(0, "rate_limited");

    /* a refused chat is not broadcast and does not use up a seq */
    fake_clock += 60000;
    join(0, "r");
    join(2, "r");
    for (int k = 1; k <= 4; k++) { /* the join took one of the five */
        say(0, "{\"type\":\"chat\",\"text\":\"c%d\"}", k);
        expect(0, "chat");
        assert_int_equal(num(expect(2, "chat"), "seq"), k);
    }
    say(0, "{\"type\":\"chat\",\"text\":\"too many\"}");
    expect_error(0, "rate_limited");
    expect_none_all();
    fake_clock += 100;
    say(0, "{\"type\":\"chat\",\"text\":\"again\"}");
    expect(0, "chat");
    json_t *o = expect(2, "chat");
    assert_int_equal(num(o, "seq"), 5);
    assert_string_equal(str(o, "text"), "again");
    assert_true(stats().error_by_code[PROTO_ERR_RATE_LIMITED] >= 6);
    fake_clock = T0;
}

/* --- Overflow: a connection that refuses a message --- */

/* Checks that every chat i received has seq 1, 2, ... in order with nothing skipped. */
static void expect_contiguous_chats(int i, long long n)
{
    long long seq = 0;
    json_error_t err;

    for (size_t k = 0; k < count(i); k++) {
        json_t *o = json_loads(W.sink[i].msgs[k], 0, &err);
        assert_non_null(o);
        if (!strcmp(str(o, "type"), "chat")) {
            long long got = num(o, "seq");
            json_decref(o);
            if (got != seq + 1)
                fail_msg("session %d: seq %lld after %lld", i, got, seq);
            seq = got;
        } else {
            json_decref(o);
        }
    }
    assert_int_equal(seq, n);
}

static void test_overflow_removes_from_room(void **state)
{
    (void)state;

    scene(5, 4, "r"); /* 3, the last one in, is the slow one */
    size_t before = count(3);

    W.sink[3].refuse = true;
    say(0, "{\"type\":\"chat\",\"text\":\"1\"}");
    for (int i = 0; i < 3; i++) {
        expect_chat(i, "r", 0, "Anon", "1", 1);
        expect_presence(i, "bye", "r", 3, "Anon", 3);
    }
    expect_none_all();
    assert_int_equal(count(3), before);
    assert_true(W.sink[3].refused);
    assert_false(hub_session_in_room(W.sess[3]));
    struct hub_stats st = stats();
    assert_int_equal(st.overflows, 1);
    assert_int_equal(st.gone, 1);
    assert_int_equal(st.members, 3);
    assert_int_equal(st.sessions, 5);

    /* the room goes on without it, and it is never called again */
    say(1, "{\"type\":\"chat\",\"text\":\"2\"}");
    for (int i = 0; i < 3; i++)
        expect_chat(i, "r", 1, "Anon", "2", 2);
    say(3, "{\"type\":\"chat\",\"text\":\"from the gone one\"}");
    say(3, "{\"type\":\"join\",\"room\":\"elsewhere\"}");
    say(3, "{\"type\":\"list\"}");
    expect_none_all();
    hub_flush_rooms(W.h); /* it is not in a room any more, but gone: no rooms for it */
    expect(4, "rooms");
    expect_none_all();
    say(2, "{\"type\":\"signal\",\"to\":%lld,\"data\":{}}", id(3));
    expect_error(2, "no_such_peer");
    disc(3); /* no second bye */
    expect_none_all();
    assert_int_equal(W.sink[3].after_refusal, 0);
    for (int i = 0; i < 3; i++)
        expect_contiguous_chats(i, 2);
}

static void test_overflow_cascade(void **state)
{
    (void)state;

    scene(4, 4, "r");
    /* 2 refuses the chat; 3 takes the chat but refuses the bye for 2 */
    W.sink[2].refuse = true;
    W.sink[3].accept_left = 1;
    say(0, "{\"type\":\"chat\",\"text\":\"x\"}");
    for (int i = 0; i < 2; i++) {
        expect_chat(i, "r", 0, "Anon", "x", 1);
        expect_presence(i, "bye", "r", 2, "Anon", 3);
        expect_presence(i, "bye", "r", 3, "Anon", 2);
    }
    expect_chat(3, "r", 0, "Anon", "x", 1);
    expect_none_all();
    struct hub_stats st = stats();
    assert_int_equal(st.overflows, 2);
    assert_int_equal(st.gone, 2);
    assert_int_equal(st.members, 2);
    say(1, "{\"type\":\"chat\",\"text\":\"y\"}");
    for (int i = 0; i < 2; i++)
        expect_chat(i, "r", 1, "Anon", "y", 2);
    expect_none_all();
}

static void test_overflow_two_in_one_message(void **state)
{
    json_t *o;
    long long first;
    (void)state;

    scene(4, 4, "r");
    /* both refuse the same chat: while one is taken out, the other (gone, not yet out) must not
     * be sent its bye */
    W.sink[2].refuse = true;
    W.sink[3].refuse = true;
    say(0, "{\"type\":\"chat\",\"text\":\"x\"}");
    for (int i = 0; i < 2; i++) {
        expect_chat(i, "r", 0, "Anon", "x", 1);
        o = expect(i, "bye");
        first = num(o, "id");
        assert_true(first == id(2) || first == id(3));
        assert_int_equal(num(o, "count"), 3);
        o = expect(i, "bye");
        assert_int_equal(num(o, "id"), first == id(2) ? id(3) : id(2));
        assert_int_equal(num(o, "count"), 2);
    }
    expect_none_all();
    assert_int_equal(W.sink[2].after_refusal, 0);
    assert_int_equal(W.sink[3].after_refusal, 0);
    assert_int_equal(stats().members, 2);
}

static void test_overflow_on_welcome_and_reply(void **state)
{
    json_t *o;
    (void)state;

    scene(4, 2, "r");
    /* 1 refuses the welcome for 2: 2 learns of 1 in `joined`, then sees it leave */
    W.sink[1].refuse = true;
    say(2, "{\"type\":\"join\",\"room\":\"r\"}");
    o = expect(2, "joined");
    assert_int_equal(num(o, "count"), 3);
    assert_int_equal(json_array_size(json_object_get(o, "members")), 2);
    expect_presence(2, "bye", "r", 1, "Anon", 2);
    expect_presence(0, "welcome", "r", 2, "Anon", 3);
    expect_presence(0, "bye", "r", 1, "Anon", 2);
    expect_none_all();

    /* 2 refuses the reply to its own request */
    W.sink[2].refuse = true;
    say(2, "{\"type\":\"list\"}");
    expect_presence(0, "bye", "r", 2, "Anon", 1);
    expect_none_all();
    assert_int_equal(stats().members, 1);

    /* a chat refused by its own sender: the others still get it, then the bye */
    join(3, "r");
    W.sink[0].refuse = true;
    say(0, "{\"type\":\"chat\",\"text\":\"last words\"}");
    expect_chat(3, "r", 0, "Anon", "last words", 1);
    expect_presence(3, "bye", "r", 0, "Anon", 1);
    expect_host(3, 3, "host");
    expect_none_all();
}

static void test_overflow_on_hello_and_in_lobby(void **state)
{
    (void)state;

    start(8, 100, 0, 0);
    W.sink[0].refuse = true;
    conn(0);
    assert_int_equal(count(0), 0);
    assert_int_equal(stats().gone, 1);
    say(0, "{\"type\":\"join\",\"room\":\"r\"}");
    assert_int_equal(stats().rooms, 0);

    conn_range(1, 4);
    W.sink[2].refuse = true; /* in the lobby: refuses the room list */
    join(1, "r");
    assert_true(hub_flush_rooms(W.h));
    expect(3, "rooms");
    expect_none_all();
    assert_true(W.sink[2].refused);
    join(3, "r");
    hub_flush_rooms(W.h);
    expect_none_all();
    assert_int_equal(stats().gone, 2);
    assert_int_equal(W.sink[0].after_refusal, 0);
    assert_int_equal(W.sink[2].after_refusal, 0);
}

/* --- The room list --- */

static void test_flush_rooms(void **state)
{
    (void)state;

    scene(4, 0, NULL);
    /* 1, 2 and 3 stay in the lobby for now */
    assert_false(hub_flush_rooms(W.h));
    expect_none_all();

    join(0, "r");
    assert_true(hub_flush_rooms(W.h));
    assert_string_equal(raw(2, W.sink[2].read),
                        "{\"type\":\"rooms\",\"rooms\":[{\"name\":\"r\",\"count\":1,\"capacity\":8,"
                        "\"locked\":false,\"protected\":false}]}");
    expect(1, "rooms");
    expect(2, "rooms");
    expect(3, "rooms");
    expect_none_all(); /* not to room members */
    assert_false(hub_flush_rooms(W.h));
    expect_none_all();

    /* things that do not change the list */
    say(0, "{\"type\":\"chat\",\"text\":\"hi\"}");
    say(0, "{\"type\":\"nickname\",\"nickname\":\"N\"}");
    say(0, "{\"type\":\"join\",\"room\":\"r\"}");
    say(0, "{\"type\":\"list\"}");
    say(2, "{\"type\":\"leave\"}");
    say(3, "{\"type\":\"join\",\"room\":\"%s\"}", "");
    drain_all();
    assert_false(hub_flush_rooms(W.h));
    expect_none_all();

    /* a count change; several changes coalesce into one message with the final state */
    join(1, "r");
    assert_true(hub_flush_rooms(W.h));
    assert_string_equal(raw(2, W.sink[2].read),
                        "{\"type\":\"rooms\",\"rooms\":[{\"name\":\"r\",\"count\":2,\"capacity\":8,"
                        "\"locked\":false,\"protected\":false}]}");
    drain_all();
    join(1, "s");
    say(0, "{\"type\":\"join\",\"room\":\"t\"}");
    say(0, "{\"type\":\"leave\"}");
    drain_all();
    assert_true(hub_flush_rooms(W.h));
    /* 0 is in the lobby again */
    for (int i = 0; i < 4; i++) {
        if (i == 1)
            continue;
        assert_int_equal(count(i), W.sink[i].read + 1);
        assert_string_equal(raw(i, W.sink[i].read),
                            "{\"type\":\"rooms\",\"rooms\":[{\"name\":\"s\",\"count\":1,"
                            "\"capacity\":8,\"locked\":false,\"protected\":false}]}");
    }
    drain_all();

    /* a change while nobody is in the lobby sends nothing */
    join(0, "s");
    join(2, "s");
    join(3, "u");
    assert_false(hub_flush_rooms(W.h));
    expect_none_all();

    /* a disconnect changes counts too; the last one out empties the list */
    disc(3);
    say(0, "{\"type\":\"leave\"}");
    drain_all();
    assert_true(hub_flush_rooms(W.h));
    assert_string_equal(raw(0, W.sink[0].read),
                        "{\"type\":\"rooms\",\"rooms\":[{\"name\":\"s\",\"count\":2,\"capacity\":8,"
                        "\"locked\":false,\"protected\":false}]}");
    drain_all();
    disc(1);
    disc(2);
    assert_true(hub_flush_rooms(W.h));
    assert_string_equal(raw(0, W.sink[0].read), "{\"type\":\"rooms\",\"rooms\":[]}");
    drain_all();
}

static void test_rooms_json(void **state)
{
    (void)state;

    start(8, 100, 0, 0);
    expect_rooms_json("{\"rooms\":[]}");
    conn_range(0, 4);
    say(0, "{\"type\":\"join\",\"room\":\"b\\\"q\\\"\",\"listed\":true}");
    assert_string_equal(str(expect(0, "joined"), "room"), "b\"q\"");
    join(1, "a");
    join(2, "a");
    join(3, "\xc3\xa9t\xc3\xa9");
    expect_rooms_json(
        "{\"rooms\":[{\"name\":\"a\",\"count\":2,\"capacity\":8,\"locked\":false,\"protected\":"
        "false},{\"name\":\"b\\\"q\\\"\","
        "\"count\":1,\"capacity\":8,\"locked\":false,\"protected\":false},{\"name\":"
        "\"\xc3\xa9t\xc3\xa9\",\"count\":1,\"capacity\":8,\"locked\":false,\"protected\":false}]}");
    disc(1);
    disc(0);
    expect_rooms_json("{\"rooms\":[{\"name\":\"a\",\"count\":1,\"capacity\":8,\"locked\":false,"
                      "\"protected\":false},{\"name\":\"\xc3\xa9t\xc3\xa9\",\"count\":1,"
                      "\"capacity\":8,\"locked\":false,\"protected\":false}]}");
}

/* Many rooms at once: each is found by name (a second member joins the same one), the listed ones
 * appear in the lists sorted by name whatever the order they were made in, and they go when they
 * empty. */
#define MANY_ROOMS 3000

static bool accept_all(void *sink, struct msg *m)
{
    return true;
}

static void test_many_rooms_by_name(void **state)
{
    static const struct hub_ops ops = {.send = accept_all, .now_ms = fake_now};
    struct hub_config cfg = {.max_room_members = 8, .max_rooms = MANY_ROOMS};
    struct hub *h = hub_new(&cfg, &ops);
    struct hub_session **a = calloc(MANY_ROOMS, sizeof(*a)), **b = calloc(MANY_ROOMS, sizeof(*b));
    char buf[128];
    struct hub_stats st;
    (void)state;

    assert_non_null(h);
    assert_non_null(a);
    assert_non_null(b);
    /* made in a scrambled order (a step coprime with MANY_ROOMS); every 30th one listed (each
     * hello carries the listed rooms: kept short for the TSan build) */
    for (unsigned k = 0; k < MANY_ROOMS; k++) {
        unsigned i = (k * 1747u) % MANY_ROOMS;
        a[i] = hub_connect(h, NULL, 0);
        assert_non_null(a[i]);
        int n =
            snprintf(buf, sizeof(buf), "{\"type\":\"join\",\"room\":\"room-%05u\",\"listed\":%s}",
                     i, i % 30 == 0 ? "true" : "false");
        hub_handle(h, a[i], buf, (size_t)n);
    }
    hub_get_stats(h, &st);
    assert_int_equal(st.rooms, MANY_ROOMS);
    /* a second member finds each room by its name */
    for (unsigned i = 0; i < MANY_ROOMS; i++) {
        b[i] = hub_connect(h, NULL, 0);
        assert_non_null(b[i]);
        int n = snprintf(buf, sizeof(buf), "{\"type\":\"join\",\"room\":\"room-%05u\"}", i);
        hub_handle(h, b[i], buf, (size_t)n);
    }
    hub_get_stats(h, &st);
    assert_int_equal(st.rooms, MANY_ROOMS);
    assert_int_equal(st.members, 2 * MANY_ROOMS);
    /* the listed ones, in name order, each with its two members */
    char *json = hub_rooms_json(h);
    json_error_t err;
    json_t *root = json_loads(json, 0, &err);
    json_t *rooms = json_object_get(root, "rooms");
    assert_int_equal(json_array_size(rooms), (MANY_ROOMS + 29) / 30);
    for (size_t k = 0; k < json_array_size(rooms); k++) {
        json_t *r = json_array_get(rooms, k);
        snprintf(buf, sizeof(buf), "room-%05zu", 30 * k);
        assert_string_equal(json_string_value(json_object_get(r, "name")), buf);
        assert_int_equal(json_integer_value(json_object_get(r, "count")), 2);
    }
    json_decref(root);
    free(json);
    /* the rooms go as they empty; a name can be made again afterwards */
    for (unsigned i = 0; i < MANY_ROOMS; i++) {
        hub_disconnect(h, a[i]);
        hub_disconnect(h, b[i]);
    }
    hub_get_stats(h, &st);
    assert_int_equal(st.rooms, 0);
    json = hub_rooms_json(h);
    assert_string_equal(json, "{\"rooms\":[]}");
    free(json);
    free(a);
    free(b);
    hub_free(h);
}

/* --- Configuration edges and the real clock --- */

static void test_config_defaults_and_clamps(void **state)
{
    struct hub_config cfg = {.greeting = NULL, .max_room_members = 0, .max_rooms = 0};
    (void)state;

    start(8, 100, 0, 0);
    hub_free(W.h);
    W.h = hub_new(&cfg, &fake_ops);
    assert_non_null(W.h);
    hub_free(NULL);
    hub_disconnect(W.h, NULL);
    conn(0);
    assert_string_equal(str(expect(0, "hello"), "text"), "hello!");
    conn_range(1, 3);
    /* 0 is clamped to 1 member per room and 1 room */
    join(0, "solo");
    say(1, "{\"type\":\"join\",\"room\":\"solo\"}");
    expect_error(1, "room_full");
    say(1, "{\"type\":\"join\",\"room\":\"other\"}");
    expect_error(1, "room_full");
    /* moving the only member is fine */
    say(0, "{\"type\":\"join\",\"room\":\"other\"}");
    expect(0, "joined");
    expect_none_all();
}

static void test_real_clock(void **state)
{
    static const struct hub_ops real_ops = {.send = fake_send, .now_ms = NULL};
    struct hub_config cfg = {.greeting = "g", .max_room_members = 8, .max_rooms = 8};
    struct timespec ts;
    long long before, after, got;
    (void)state;

    start(8, 100, 0, 0);
    hub_free(W.h);
    W.h = hub_new(&cfg, &real_ops);
    assert_non_null(W.h);
    conn_range(0, 1);
    join(0, "r");
    clock_gettime(CLOCK_REALTIME, &ts);
    before = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    say(0, "{\"type\":\"chat\",\"text\":\"now\"}");
    clock_gettime(CLOCK_REALTIME, &ts);
    after = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    got = num(expect(0, "chat"), "ts");
    /* ts is wall-clock milliseconds since the epoch: it lies between the two readings */
    assert_true(got >= before && got <= after);
}

/* --- Interleaving (the hub is single-threaded: its one caller, the loop, interleaves) --- */

#define SENDERS     4
#define PER_SENDER  250
#define ROOM_SIZE   6
#define TOTAL_CHATS (SENDERS * PER_SENDER)

/* Four members send 250 chats each, interleaved in a pseudo-random order as the loop would
 * deliver them from four sockets: every member of the room (senders included) receives all of
 * them with contiguous seq numbers 1..1000, and each sender's chats in the order sent. */
static void test_interleaved_chat_order(void **state)
{
    int sent[SENDERS] = {0};
    unsigned seed = 42;
    char buf[64];
    json_error_t err;
    (void)state;

    start(ROOM_SIZE, 100, 0, 0);
    conn_range(0, ROOM_SIZE);
    for (int i = 0; i < ROOM_SIZE; i++)
        join(i, "r");
    for (int n = 0; n < TOTAL_CHATS; n++) {
        int who = rand_r(&seed) % SENDERS;
        while (sent[who] == PER_SENDER)
            who = (who + 1) % SENDERS;
        int len =
            snprintf(buf, sizeof(buf), "{\"type\":\"chat\",\"text\":\"%d:%d\"}", who, sent[who]++);
        hub_handle(W.h, W.sess[who], buf, (size_t)len);
    }

    for (int i = 0; i < ROOM_SIZE; i++) {
        int next_of[SENDERS] = {0};
        assert_int_equal(count(i) - W.sink[i].read, TOTAL_CHATS);
        for (int n = 0; n < TOTAL_CHATS; n++) {
            json_t *o = json_loads(W.sink[i].msgs[W.sink[i].read + n], 0, &err);
            int who = -1, k = -1;
            assert_non_null(o);
            assert_string_equal(str(o, "type"), "chat");
            assert_int_equal(num(o, "seq"), n + 1);
            assert_int_equal(sscanf(str(o, "text"), "%d:%d", &who, &k), 2);
            assert_true(who >= 0 && who < SENDERS);
            assert_int_equal(num(json_object_get(o, "from"), "id"), id(who));
            if (k != next_of[who])
                fail_msg("member %d: sender %d's message %d arrived when %d was due", i, who, k,
                         next_of[who]);
            next_of[who]++;
            json_decref(o);
        }
        for (int k = 0; k < SENDERS; k++)
            assert_int_equal(next_of[k], PER_SENDER);
    }
    assert_int_equal(stats().chats, TOTAL_CHATS);
}

#define CHURN_CLIENTS  6
#define CHURN_SESSIONS 3 /* per client */
#define CHURN_ITERS    1500
#define CHURN_ROOMS    4

static const char *const churn_rooms[CHURN_ROOMS] = {"red", "green", "blue", "gold"};

/* One connection of the churn test: its own sink, kept until the end for checking. */
struct conn {
    struct sink sink;
    struct hub_session *s;
};

/* One simulated client process holding CHURN_SESSIONS connections at a time. */
struct churner {
    struct hub *h;
    unsigned seed;
    struct conn **conns; /* every connection this client made */
    size_t nconns, capconns;
    struct conn *live[CHURN_SESSIONS];
    bool oom;
};

static struct conn *churn_connect(struct churner *c)
{
    struct conn *k = calloc(1, sizeof(*k));

    if (!k)
        goto out_oom;
    if (c->nconns == c->capconns) {
        size_t cap = c->capconns ? c->capconns * 2 : 16;
        struct conn **cc = realloc(c->conns, cap * sizeof(*cc));
        if (!cc)
            goto out_free;
        c->conns = cc;
        c->capconns = cap;
    }
    sink_init(&k->sink);
    k->s = hub_connect(c->h, &k->sink, 0x0100007fu);
    if (!k->s) {
        sink_destroy(&k->sink);
        goto out_free;
    }
    c->conns[c->nconns++] = k;
    return k;
out_free:
    free(k);
out_oom:
    c->oom = true;
    return NULL;
}

/* A signal target: half the time a sibling session of this client, else any id. */
static uint64_t churn_target(struct churner *c)
{
    struct conn *k = c->live[rand_r(&c->seed) % CHURN_SESSIONS];

    if (k && rand_r(&c->seed) % 2)
        return hub_session_id(k->s);
    return 1 + (uint64_t)(rand_r(&c->seed) % 1000);
}

/* One step of client c: a random action of a random one of its sessions. */
static void churn_step(struct churner *c, int it)
{
    char buf[160];
    int len;
    int who = rand_r(&c->seed) % CHURN_SESSIONS;
    struct conn *k = c->live[who];
    int action = rand_r(&c->seed) % 100;
    const char *room = churn_rooms[rand_r(&c->seed) % CHURN_ROOMS];

    if (!k)
        return;
    if (k->sink.refused || action >= 96) {
        /* a closed connection goes away and a new one comes */
        hub_disconnect(c->h, k->s);
        k->s = NULL;
        c->live[who] = churn_connect(c);
        return;
    }
    if (action < 24)
        len = snprintf(buf, sizeof(buf), "{\"type\":\"join\",\"room\":\"%s\",\"listed\":%s%s}",
                       room, it % 2 ? "true" : "false", it % 3 ? ",\"passcode\":\"pass\"" : "");
    else if (action < 27)
        len = snprintf(buf, sizeof(buf), "{\"type\":\"lock\",\"locked\":%s}",
                       it % 4 ? "false" : "true");
    else if (action < 29)
        len = snprintf(buf, sizeof(buf), "{\"type\":\"remove\",\"id\":%llu}",
                       (unsigned long long)churn_target(c));
    else if (action < 30)
        len = snprintf(buf, sizeof(buf), "{\"type\":\"passcode\",\"passcode\":%s}",
                       it % 2 ? "\"pass\"" : "null");
    else if (action < 38)
        len = snprintf(buf, sizeof(buf), "{\"type\":\"leave\"}");
    else if (action < 70)
        len = snprintf(buf, sizeof(buf), "{\"type\":\"chat\",\"text\":\"%d\"}", it);
    else if (action < 75)
        len = snprintf(buf, sizeof(buf), "plain %d", it);
    else if (action < 80)
        len = snprintf(buf, sizeof(buf), "{\"type\":\"nickname\",\"nickname\":\"n%d\"}", it);
    else if (action < 84)
        len = snprintf(buf, sizeof(buf), "{\"type\":\"list\"}");
    else if (action < 92)
        len = snprintf(buf, sizeof(buf), "{\"type\":\"signal\",\"to\":%llu,\"data\":{\"n\":%d}}",
                       (unsigned long long)churn_target(c), it);
    else if (action < 94)
        len = snprintf(buf, sizeof(buf), "{\"type\":\"bogus\"}");
    else {
        /* this connection's queue overflows on its next message */
        k->sink.accept_left = rand_r(&c->seed) % 8;
        return;
    }
    hub_handle(c->h, k->s, buf, (size_t)len);
}

/* Disconnects every session c still holds. */
static void churn_finish(struct churner *c)
{
    for (int i = 0; i < CHURN_SESSIONS; i++) {
        if (c->live[i]) {
            hub_disconnect(c->h, c->live[i]->s);
            c->live[i]->s = NULL;
        }
    }
}

/* What the loop's timer does between reads: the room list, its JSON and the stats. Returns false
 * when the JSON is bad. */
static bool churn_watch(struct hub *h)
{
    json_error_t err;
    struct hub_stats st;
    char *s = hub_rooms_json(h);
    json_t *o = s ? json_loads(s, 0, &err) : NULL;
    bool ok = o && json_array_size(json_object_get(o, "rooms")) <= CHURN_ROOMS;

    json_decref(o);
    free(s);
    hub_flush_rooms(h);
    hub_get_stats(h, &st);
    return ok;
}

/* Replays what one connection received and checks it is consistent: a hello first; chats,
 * welcome, bye, renamed and signal only while in a room and about that room; in each stay in a
 * room, chat seq numbers contiguous (a `rooms` list may be a reply to `list`, so it is not checked
 * here; test_flush_rooms covers who gets the pushed list). Returns a description of the first
 * problem, or NULL. */
static const char *check_transcript(const struct sink *k, char *why, size_t whylen)
{
    json_error_t err;
    char room[80] = "";
    bool in_room = false;
    long long next_seq = -1; /* unknown until the first chat of a stay */

    for (size_t n = 0; n < k->n; n++) {
        json_t *o = json_loads(k->msgs[n], 0, &err);
        json_t *t = o ? json_object_get(o, "type") : NULL;
        const char *type = json_is_string(t) ? json_string_value(t) : "";
        const char *r = json_string_value(json_object_get(o, "room"));
        const char *problem = NULL;

        if (!o) {
            problem = "not JSON";
        } else if (n == 0 || !strcmp(type, "hello")) {
            if (n != 0 || strcmp(type, "hello"))
                problem = "hello not first";
        } else if (!strcmp(type, "joined")) {
            if (!r)
                problem = "joined without room";
            else if (!in_room || strcmp(r, room)) {
                snprintf(room, sizeof(room), "%s", r);
                in_room = true;
                next_seq = -1;
            }
        } else if (!strcmp(type, "left") || !strcmp(type, "removed")) {
            if (!in_room || !r || strcmp(r, room))
                problem = "left a room it was not in";
            in_room = false;
        } else if (!strcmp(type, "chat")) {
            long long seq = json_integer_value(json_object_get(o, "seq"));
            if (!in_room || !r || strcmp(r, room))
                problem = "chat from a room it is not in";
            else if (next_seq >= 0 && seq != next_seq)
                problem = "chat seq not contiguous";
            next_seq = seq + 1;
        } else if (!strcmp(type, "welcome") || !strcmp(type, "bye") || !strcmp(type, "room")) {
            if (!in_room || !r || strcmp(r, room))
                problem = "presence for a room it is not in";
        } else if (!strcmp(type, "renamed") || !strcmp(type, "signal")) {
            if (!in_room)
                problem = "renamed/signal outside a room";
        } else if (strcmp(type, "nickname") && strcmp(type, "error") && strcmp(type, "rooms")) {
            problem = "unexpected type";
        }
        if (problem) {
            snprintf(why, whylen, "%s at #%zu: %s", problem, n, k->msgs[n]);
            json_decref(o);
            return why;
        }
        json_decref(o);
    }
    return NULL;
}

/* Six clients of three sessions each join, leave, chat, signal, overflow and reconnect at random,
 * interleaved step by step, with the room-list timer running between steps: every connection's
 * transcript stays consistent, nobody is called after refusing, and the hub ends empty. */
static void test_churn(void **state)
{
    struct hub_config cfg = {.greeting = "hi", .max_room_members = 4, .max_rooms = 3};
    struct churner c[CHURN_CLIENTS];
    bool bad_json = false;
    unsigned long rounds = 0;
    struct hub_stats st;
    char why[512];
    const char *problem = NULL;
    size_t total_conns = 0, total_msgs = 0;
    (void)state;

    /* this test uses its own hub; W stays empty for the teardown */
    start(1, 1, 0, 0);
    struct hub *h = hub_new(&cfg, &fake_ops);
    assert_non_null(h);
    for (int i = 0; i < CHURN_CLIENTS; i++) {
        c[i] = (struct churner){.h = h, .seed = 1234u + (unsigned)i * 7919u};
        for (int j = 0; j < CHURN_SESSIONS; j++)
            c[i].live[j] = churn_connect(&c[i]);
    }
    unsigned seed = 99;
    for (int it = 0; it < CHURN_ITERS * CHURN_CLIENTS; it++) {
        struct churner *cc = &c[rand_r(&seed) % CHURN_CLIENTS];
        if (!cc->oom)
            churn_step(cc, it);
        if (it % 7 == 0) {
            bad_json = bad_json || !churn_watch(h);
            rounds++;
        }
    }
    for (int i = 0; i < CHURN_CLIENTS; i++)
        churn_finish(&c[i]);

    hub_get_stats(h, &st);
    char *rooms = hub_rooms_json(h);
    assert_non_null(rooms);
    bool empty_list = !strcmp(rooms, "{\"rooms\":[]}");
    free(rooms);
    hub_free(h);

    for (int i = 0; i < CHURN_CLIENTS; i++) {
        for (size_t n = 0; n < c[i].nconns; n++) {
            struct conn *k = c[i].conns[n];
            if (!problem)
                problem = check_transcript(&k->sink, why, sizeof(why));
            if (!problem && (k->sink.after_refusal || k->sink.bad_frames))
                problem = "a connection was called after refusing, or got a bad frame";
            total_msgs += k->sink.n;
            sink_destroy(&k->sink);
            free(k);
        }
        total_conns += c[i].nconns;
        free(c[i].conns);
    }
    for (int i = 0; i < CHURN_CLIENTS; i++)
        assert_false(c[i].oom);
    assert_false(bad_json);
    if (problem)
        fail_msg("%s", problem);
    assert_int_equal(st.sessions, 0);
    assert_int_equal(st.rooms, 0);
    assert_int_equal(st.members, 0);
    assert_true(empty_list);
    /* the run did exercise what it is meant to */
    assert_true(total_conns > CHURN_CLIENTS * CHURN_SESSIONS);
    assert_true(st.chats > 0 && st.overflows > 0 && st.signals > 0);
    assert_true(st.error_by_code[PROTO_ERR_ROOM_FULL] > 0);
    assert_true(st.error_by_code[PROTO_ERR_NOT_HOST] > 0 &&
                st.error_by_code[PROTO_ERR_ROOM_LOCKED] > 0);
    print_message("churn: %zu connections, %zu messages, %llu chats, %llu signals, %llu "
                  "overflows, %lu timer rounds\n",
                  total_conns, total_msgs, (unsigned long long)st.chats,
                  (unsigned long long)st.signals, (unsigned long long)st.overflows, rounds);
}

/* --- Private meetings: listing, host, lock, remove, passcodes --- */

static void expect_meta(json_t *o, int host, bool locked, bool listed, bool protect)
{
    assert_int_equal(num(o, "host"), id(host));
    assert_true(json_is_boolean(json_object_get(o, "locked")));
    assert_int_equal(json_is_true(json_object_get(o, "locked")), locked);
    assert_int_equal(json_is_true(json_object_get(o, "listed")), listed);
    assert_int_equal(json_is_true(json_object_get(o, "protected")), protect);
}

static void test_unlisted_by_default(void **state)
{
    json_t *o;
    (void)state;

    scene(4, 0, NULL);
    /* a join creates an unlisted room, hosted by its creator */
    say(0, "{\"type\":\"join\",\"room\":\"hr-dismissal-jane\"}");
    o = expect(0, "joined");
    expect_meta(o, 0, false, false, false);
    assert_true(json_is_null(json_object_get(o, "passcode")));
    expect_none_all();
    expect_rooms_json("{\"rooms\":[]}");
    assert_false(hub_flush_rooms(W.h)); /* the lobby is not even told something changed */
    say(3, "{\"type\":\"list\"}");
    assert_int_equal(json_array_size(json_object_get(expect(3, "rooms"), "rooms")), 0);

    /* `listed` is read only when the join creates the room */
    say(1, "{\"type\":\"join\",\"room\":\"hr-dismissal-jane\",\"listed\":true}");
    o = expect(1, "joined");
    expect_meta(o, 0, false, false, false);
    assert_null(json_object_get(o, "passcode")); /* only the host's copy has it */
    o = expect(0, "welcome");
    expect_meta(o, 0, false, false, false);
    expect_none_all();
    expect_rooms_json("{\"rooms\":[]}");

    /* a listed one appears, with its capacity; the unlisted one still does not */
    say(2, "{\"type\":\"join\",\"room\":\"standup\",\"create\":true,\"listed\":true}");
    expect_meta(expect(2, "joined"), 2, false, true, false);
    assert_true(hub_flush_rooms(W.h));
    assert_string_equal(raw(3, W.sink[3].read),
                        "{\"type\":\"rooms\",\"rooms\":[{\"name\":\"standup\",\"count\":1,"
                        "\"capacity\":8,\"locked\":false,\"protected\":false}]}");
    drain_all();
    expect_rooms_json("{\"rooms\":[{\"name\":\"standup\",\"count\":1,\"capacity\":8,"
                      "\"locked\":false,\"protected\":false}]}");
    /* a new session's hello lists only it */
    conn(4);
    o = expect(4, "hello");
    assert_int_equal(json_array_size(json_object_get(o, "rooms")), 1);
    /* an unlisted room's count changing sends nothing to the lobby */
    say(2, "{\"type\":\"join\",\"room\":\"hr-dismissal-jane\"}");
    drain_all();
    assert_true(hub_flush_rooms(W.h)); /* standup disappeared */
    drain_all();
    say(1, "{\"type\":\"leave\"}");
    drain_all();
    assert_false(hub_flush_rooms(W.h));
}

static void test_create_must_be_new(void **state)
{
    json_t *o;
    (void)state;

    scene(3, 2, "r");
    say(2, "{\"type\":\"join\",\"room\":\"r\",\"create\":true}");
    expect_error(2, "room_exists");
    /* also for the room one is in: nothing changes */
    say(0, "{\"type\":\"join\",\"room\":\"r\",\"create\":true}");
    expect_error(0, "room_exists");
    expect_none_all();
    assert_int_equal(stats().members, 2);
    say(2, "{\"type\":\"join\",\"room\":\"quiet-otter-7kq2-m9xd\",\"create\":true}");
    o = expect(2, "joined");
    expect_meta(o, 2, false, false, false);
    expect_none_all();
    assert_int_equal(stats().error_by_code[PROTO_ERR_ROOM_EXISTS], 2);

    /* bad flags */
    say(2, "{\"type\":\"join\",\"room\":\"x\",\"create\":1}");
    expect_error(2, "bad_field");
    say(2, "{\"type\":\"join\",\"room\":\"x\",\"listed\":\"yes\"}");
    expect_error(2, "bad_field");
    expect_none_all();
}

static void test_host_hand_over(void **state)
{
    json_t *o;
    (void)state;

    scene(4, 3, "r"); /* 0 created it */
    say(1, "{\"type\":\"join\",\"room\":\"r\"}");
    expect_meta(expect(1, "joined"), 0, false, true, false);
    /* only the host: everyone else gets not_host, and nothing changes */
    say(1, "{\"type\":\"lock\",\"locked\":true}");
    expect_error(1, "not_host");
    say(1, "{\"type\":\"remove\",\"id\":%lld}", id(2));
    expect_error(1, "not_host");
    say(1, "{\"type\":\"passcode\",\"passcode\":\"1234\"}");
    expect_error(1, "not_host");
    expect_none_all();
    /* outside a room */
    say(3, "{\"type\":\"lock\",\"locked\":true}");
    expect_error(3, "not_in_room");
    say(3, "{\"type\":\"remove\",\"id\":%lld}", id(0));
    expect_error(3, "not_in_room");
    say(3, "{\"type\":\"passcode\",\"passcode\":null}");
    expect_error(3, "not_in_room");
    expect_none_all();

    /* the host leaves: the longest present hosts, everyone is told, the new host's copy with
     * the passcode */
    say(0, "{\"type\":\"leave\"}");
    expect(0, "left");
    expect_presence(1, "bye", "r", 0, "Anon", 2);
    o = expect_host(1, 1, "host");
    assert_true(json_is_null(json_object_get(o, "passcode")));
    expect_presence(2, "bye", "r", 0, "Anon", 2);
    o = expect_host(2, 1, "host");
    assert_null(json_object_get(o, "passcode"));
    expect_none_all();
    /* coming back does not make 0 the host again */
    say(0, "{\"type\":\"join\",\"room\":\"r\"}");
    expect_meta(expect(0, "joined"), 1, false, true, false);
    drain_all();
    /* a member who is not the host leaving changes nothing */
    disc(2);
    expect_presence(0, "bye", "r", 2, "Anon", 2);
    expect_presence(1, "bye", "r", 2, "Anon", 2);
    expect_none_all();
    disc(1);
    expect_presence(0, "bye", "r", 1, "Anon", 1);
    expect_host(0, 0, "host");
    expect_none_all();
    say(0, "{\"type\":\"lock\",\"locked\":true}");
    expect_meta(expect_host(0, 0, "lock"), 0, true, true, false);
}

static void test_lock(void **state)
{
    json_t *o;
    (void)state;

    scene(5, 2, "r");
    say(0, "{\"type\":\"lock\",\"locked\":true}");
    o = expect_host(0, 0, "lock");
    expect_meta(o, 0, true, true, false);
    expect_meta(expect_host(1, 0, "lock"), 0, true, true, false);
    expect_none_all();
    /* listed: the lists show the lock */
    expect_rooms_json("{\"rooms\":[{\"name\":\"r\",\"count\":2,\"capacity\":8,\"locked\":true,"
                      "\"protected\":false}]}");
    say(2, "{\"type\":\"join\",\"room\":\"r\"}");
    expect_error(2, "room_locked");
    expect_none_all();
    /* a member may still "join" again; the same lock again still answers */
    say(1, "{\"type\":\"join\",\"room\":\"r\"}");
    expect_meta(expect(1, "joined"), 0, true, true, false);
    say(0, "{\"type\":\"lock\",\"locked\":true}");
    expect_host(0, 0, "lock");
    expect_host(1, 0, "lock");
    expect_none_all();
    /* unlocked: open again */
    say(0, "{\"type\":\"lock\",\"locked\":false}");
    expect_meta(expect_host(0, 0, "lock"), 0, false, true, false);
    expect_meta(expect_host(1, 0, "lock"), 0, false, true, false);
    say(2, "{\"type\":\"join\",\"room\":\"r\"}");
    expect_meta(expect(2, "joined"), 0, false, true, false);
    drain_all();
    say(0, "{\"type\":\"lock\",\"locked\":\"yes\"}");
    expect_error(0, "bad_field");
    say(0, "{\"type\":\"lock\"}");
    expect_error(0, "bad_field");
    expect_none_all();
    assert_int_equal(stats().error_by_code[PROTO_ERR_ROOM_LOCKED], 1);
}

static void test_remove(void **state)
{
    json_t *o;
    (void)state;

    scene(4, 3, "r");
    say(0, "{\"type\":\"lock\",\"locked\":true}");
    drain_all();
    say(0, "{\"type\":\"remove\",\"id\":%lld}", id(1));
    o = expect(1, "removed");
    assert_int_equal(json_object_size(o), 2);
    assert_string_equal(str(o, "room"), "r");
    expect_presence(0, "bye", "r", 1, "Anon", 2);
    expect_presence(2, "bye", "r", 1, "Anon", 2);
    expect_none_all();
    assert_false(hub_session_in_room(W.sess[1]));
    /* it cannot come back while the room is locked */
    say(1, "{\"type\":\"join\",\"room\":\"r\"}");
    expect_error(1, "room_locked");
    say(1, "{\"type\":\"chat\",\"text\":\"let me in\"}");
    expect_error(1, "not_in_room");
    expect_none_all();
    /* not itself, not someone elsewhere, not a stranger */
    say(0, "{\"type\":\"remove\",\"id\":%lld}", id(0));
    expect_error(0, "no_such_peer");
    say(0, "{\"type\":\"remove\",\"id\":%lld}", id(1));
    expect_error(0, "no_such_peer");
    say(0, "{\"type\":\"remove\",\"id\":%lld}", id(3));
    expect_error(0, "no_such_peer");
    say(0, "{\"type\":\"remove\",\"id\":999999}");
    expect_error(0, "no_such_peer");
    say(0, "{\"type\":\"remove\",\"id\":\"2\"}");
    expect_error(0, "bad_field");
    say(0, "{\"type\":\"remove\",\"id\":0}");
    expect_error(0, "bad_field");
    expect_none_all();
    /* unlocked, a removed member may join again like anyone */
    say(0, "{\"type\":\"lock\",\"locked\":false}");
    drain_all();
    say(1, "{\"type\":\"join\",\"room\":\"r\"}");
    expect(1, "joined");
    /* the last other member removed: the host stays, alone */
    drain_all();
    say(0, "{\"type\":\"remove\",\"id\":%lld}", id(2));
    expect(2, "removed");
    drain_all();
    say(0, "{\"type\":\"remove\",\"id\":%lld}", id(1));
    expect(1, "removed");
    expect_presence(0, "bye", "r", 1, "Anon", 1);
    expect_none_all();
    assert_int_equal(stats().members, 1);
}

static void test_passcode(void **state)
{
    json_t *o;
    (void)state;

    scene(6, 0, NULL);
    /* the join that creates the room sets its passcode; the host's copy carries it */
    say(0, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\" s\\u00e9same \",\"listed\":true}");
    o = expect(0, "joined");
    expect_meta(o, 0, false, true, true);
    assert_string_equal(str(o, "passcode"), " s\xc3\xa9same "); /* never trimmed */
    expect_rooms_json("{\"rooms\":[{\"name\":\"p\",\"count\":1,\"capacity\":8,\"locked\":false,"
                      "\"protected\":true}]}");
    /* missing, wrong (also only by the spaces), wrong type, empty: never a hint */
    say(1, "{\"type\":\"join\",\"room\":\"p\"}");
    expect_error(1, "bad_passcode");
    say(1, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"s\\u00e9same\"}");
    expect_error(1, "bad_passcode");
    say(1, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":null}");
    expect_error(1, "bad_passcode");
    expect_none_all();
    say(1, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\" s\\u00e9same \"}");
    o = expect(1, "joined");
    expect_meta(o, 0, false, true, true);
    assert_null(json_object_get(o, "passcode"));
    o = expect(0, "welcome");
    expect_meta(o, 0, false, true, true);
    assert_null(json_object_get(o, "passcode"));
    expect_none_all();

    /* the host changes it: the members stay, only the host sees the new one */
    say(0, "{\"type\":\"passcode\",\"passcode\":\"n3w-one\"}");
    o = expect_host(0, 0, "passcode");
    assert_string_equal(str(o, "passcode"), "n3w-one");
    o = expect_host(1, 0, "passcode");
    assert_null(json_object_get(o, "passcode"));
    expect_meta(o, 0, false, true, true);
    expect_none_all();
    say(2, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\" s\\u00e9same \"}");
    expect_error(2, "bad_passcode");
    say(2, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"n3w-one\"}");
    expect(2, "joined");
    drain_all();
    /* cleared: anyone may join */
    say(0, "{\"type\":\"passcode\",\"passcode\":null}");
    o = expect_host(0, 0, "passcode");
    assert_true(json_is_null(json_object_get(o, "passcode")));
    expect_meta(o, 0, false, true, false);
    drain_all();
    say(3, "{\"type\":\"join\",\"room\":\"p\"}");
    expect(3, "joined");
    /* a passcode given for a room without one is simply not needed */
    say(4, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"whatever\"}");
    expect(4, "joined");
    drain_all();

    /* limits: 4..64 code points (64 two-byte ones are fine), no control characters */
    char big[8 + 2 * 65 * 6];
    size_t n = 0;
    for (int i = 0; i < 64; i++)
        n += (size_t)sprintf(big + n, "\\u00e9");
    big[n] = '\0';
    say(0, "{\"type\":\"passcode\",\"passcode\":\"%s\"}", big);
    assert_int_equal(strlen(str(expect_host(0, 0, "passcode"), "passcode")), 128);
    drain_all();
    sprintf(big + n, "x");
    say(0, "{\"type\":\"passcode\",\"passcode\":\"%s\"}", big);
    expect_error(0, "bad_field");
    say(0, "{\"type\":\"passcode\",\"passcode\":\"abc\"}");
    expect_error(0, "bad_field");
    say(0, "{\"type\":\"passcode\",\"passcode\":\"ab\\u0000cd\"}");
    expect_error(0, "bad_field");
    say(0, "{\"type\":\"passcode\",\"passcode\":1234}");
    expect_error(0, "bad_field");
    say(0, "{\"type\":\"passcode\"}");
    expect_error(0, "bad_field");
    say(5, "{\"type\":\"join\",\"room\":\"q\",\"passcode\":\"abc\"}");
    expect_error(5, "bad_field");
    say(5, "{\"type\":\"join\",\"room\":\"q\",\"passcode\":[]}");
    expect_error(5, "bad_field");
    expect_none_all();
    assert_int_equal(stats().rooms, 1);
}

/* Nobody without the passcode learns anything: the passcode is checked before the lock and the
 * size. */
static void test_passcode_before_lock_and_size(void **state)
{
    (void)state;

    start(2, 100, 0, 0);
    conn_range(0, 3);
    say(0, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"1234\"}");
    say(1, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"1234\"}");
    drain_all();
    say(2, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"9999\"}");
    expect_error(2, "bad_passcode"); /* full, but that is not told */
    say(2, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"1234\"}");
    expect_error(2, "room_full");
    say(0, "{\"type\":\"lock\",\"locked\":true}");
    drain_all();
    say(2, "{\"type\":\"join\",\"room\":\"p\"}");
    expect_error(2, "bad_passcode");
    say(2, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"1234\"}");
    expect_error(2, "room_locked");
    expect_none_all();
}

/* A new connection is cheap: 20 wrong passcodes a minute from one address, whatever the
 * sessions, then rate_limited for every session from there; other addresses are not touched. */
static void test_passcode_rate_limit_per_address(void **state)
{
    (void)state;

    start(8, 100, 0, 0);
    for (int i = 0; i < 7; i++)
        W.addr[i] = 0x0a000001u; /* sessions 0..6 from one address */
    W.addr[7] = 0x0a000002u;
    W.addr[8] = 0;
    conn_range(0, 9);
    say(0, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"right-one\"}");
    drain_all();
    for (int i = 1; i <= 4; i++) {
        for (int k = 0; k < 5; k++) {
            fake_clock += 10;
            say(i, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"wrong-%d\"}", k);
            expect_error(i, "bad_passcode");
        }
    }
    /* the fifth session from there: its first try is refused unchecked */
    say(5, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"right-one\"}");
    expect_error(5, "rate_limited");
    /* other addresses, and an unknown one, have their own */
    say(7, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"wrong\"}");
    expect_error(7, "bad_passcode");
    say(8, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"right-one\"}");
    expect(8, "joined");
    drain_all();
    /* a minute after the first of the 20, one more try from there */
    fake_clock = T0 + 10 + 60000;
    hub_tick(W.h);
    say(6, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"right-one\"}");
    expect(6, "joined");
    drain_all();
    /* long after: the address is forgotten, the next wrong one starts afresh */
    fake_clock += 10 * 60000;
    hub_tick(W.h);
    say(5, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"wrong\"}");
    expect_error(5, "bad_passcode");
    expect_none_all();
}

static void test_passcode_rate_limit(void **state)
{
    (void)state;

    scene(3, 0, NULL);
    say(0, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"right-one\"}");
    say(2, "{\"type\":\"join\",\"room\":\"open\"}");
    drain_all();
    for (int i = 0; i < 5; i++) {
        fake_clock += 1000;
        say(1, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"guess-%d\"}", i);
        expect_error(1, "bad_passcode");
    }
    /* the sixth within the minute is not even checked, the right one neither */
    for (int i = 0; i < 100; i++) {
        say(1, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"guess-x%d\"}", i);
        expect_error(1, "rate_limited");
    }
    say(1, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"right-one\"}");
    expect_error(1, "rate_limited");
    /* a room without a passcode is still open to it */
    say(1, "{\"type\":\"join\",\"room\":\"open\"}");
    expect(1, "joined");
    drain_all();
    /* a minute after the first wrong one, one more try */
    fake_clock = T0 + 1000 + 60000 - 1;
    say(1, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"guess-y\"}");
    expect_error(1, "rate_limited");
    fake_clock += 1;
    say(1, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"guess-y\"}");
    expect_error(1, "bad_passcode");
    say(1, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"right-one\"}");
    expect_error(1, "rate_limited");
    fake_clock += 1000;
    say(1, "{\"type\":\"join\",\"room\":\"p\",\"passcode\":\"right-one\"}");
    expect(1, "joined");
    expect_presence(2, "bye", "open", 1, "Anon", 1);
    expect_presence(0, "welcome", "p", 1, "Anon", 2);
    expect_none_all();
    /* the limit is per session: another one has its own five */
    assert_int_equal(stats().error_by_code[PROTO_ERR_BAD_PASSCODE], 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hello_lists_rooms, end),
        cmocka_unit_test_teardown(test_nickname, end),
        cmocka_unit_test_teardown(test_join_and_welcome, end),
        cmocka_unit_test_teardown(test_join_another_room_leaves_first, end),
        cmocka_unit_test_teardown(test_join_same_room_again, end),
        cmocka_unit_test_teardown(test_room_full, end),
        cmocka_unit_test_teardown(test_room_full_at_nine_by_default, end),
        cmocka_unit_test_teardown(test_max_rooms, end),
        cmocka_unit_test_teardown(test_leave, end),
        cmocka_unit_test_teardown(test_chat_seq_per_room, end),
        cmocka_unit_test_teardown(test_chat_outside_room, end),
        cmocka_unit_test_teardown(test_plain_text, end),
        cmocka_unit_test_teardown(test_signal, end),
        cmocka_unit_test_teardown(test_list, end),
        cmocka_unit_test_teardown(test_disconnect_says_bye, end),
        cmocka_unit_test_teardown(test_errors, end),
        cmocka_unit_test_teardown(test_rate_limit, end),
        cmocka_unit_test_teardown(test_overflow_removes_from_room, end),
        cmocka_unit_test_teardown(test_overflow_cascade, end),
        cmocka_unit_test_teardown(test_overflow_two_in_one_message, end),
        cmocka_unit_test_teardown(test_overflow_on_welcome_and_reply, end),
        cmocka_unit_test_teardown(test_overflow_on_hello_and_in_lobby, end),
        cmocka_unit_test_teardown(test_flush_rooms, end),
        cmocka_unit_test_teardown(test_rooms_json, end),
        cmocka_unit_test(test_many_rooms_by_name),
        cmocka_unit_test_teardown(test_config_defaults_and_clamps, end),
        cmocka_unit_test_teardown(test_real_clock, end),
        cmocka_unit_test_teardown(test_interleaved_chat_order, end),
        cmocka_unit_test_teardown(test_unlisted_by_default, end),
        cmocka_unit_test_teardown(test_create_must_be_new, end),
        cmocka_unit_test_teardown(test_host_hand_over, end),
        cmocka_unit_test_teardown(test_lock, end),
        cmocka_unit_test_teardown(test_remove, end),
        cmocka_unit_test_teardown(test_passcode, end),
        cmocka_unit_test_teardown(test_passcode_before_lock_and_size, end),
        cmocka_unit_test_teardown(test_passcode_rate_limit, end),
        cmocka_unit_test_teardown(test_passcode_rate_limit_per_address, end),
        cmocka_unit_test_teardown(test_churn, end),
    };

    log_set_level(LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
