/* SPDX-License-Identifier: MIT */
/* The hub's rooms (see hubint.h): found by name through a hash (uthash, from Debian's
 * uthash-dev), the listed ones also kept in name order for the room lists; membership in join
 * order, the host and its hand-over, the settings members see, and the lists. Rooms are unlisted
 * unless their creator listed them: an unlisted room's name appears in no list and, at INFO, in
 * no log line (a random tag stands for it). */
#include "hubint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "thread.h"

struct room *room_find(struct hub *h, const char *name)
{
    struct room *r = NULL;
    HASH_FIND_STR(h->rooms, name, r);
    return r;
}

/* Links listed room r into h->listed before the first room whose name sorts after it. */
static void listed_insert(struct hub *h, struct room *r)
{
    struct list *n;
    list_foreach (n, &h->listed) {
        if (strcmp(list_entry(n, struct room, listed_node)->name, r->name) > 0)
            break;
    }
    list_insert_tail(n, &r->listed_node); /* before n (or at the end when n is the head) */
}

static void room_free(struct room *r)
{
    free(r->name);
    free(r->passcode);
    free(r->members);
    free(r);
}

struct room *room_create(struct hub *h, const char *name, bool listed, const char *passcode)
{
    struct room *r = calloc(1, sizeof(*r));
    uint32_t tag = 0;
    if (!r)
        return NULL;
    r->name = strdup(name);
    r->passcode = passcode ? strdup(passcode) : NULL;
    r->cap = 4;
    r->members = calloc(r->cap, sizeof(*r->members));
    list_init(&r->listed_node);
    if (!r->name || !r->members || (passcode && !r->passcode) ||
        (!listed && hub_random(&tag, sizeof(tag)) < 0)) {
        room_free(r);
        return NULL;
    }
    size_t len = strlen(r->name);
    HASH_ADD_KEYPTR(hh, h->rooms, r->name, len, r);
    if (!r->hh.tbl) { /* out of memory */
        room_free(r);
        return NULL;
    }
    r->listed = listed;
    if (listed) {
        snprintf(r->label, sizeof(r->label), "'%.*s'", (int)sizeof(r->label) - 3, name);
        listed_insert(h, r);
    } else {
        snprintf(r->label, sizeof(r->label), "#%08x (%zu B)", (unsigned)tag, len);
        log_debug(0, "room %s is '%s'", r->label, name);
    }
    h->nrooms++;
    return r;
}

void room_destroy(struct hub *h, struct room *r)
{
    HASH_DEL(h->rooms, r);
    list_remove(&r->listed_node);
    h->nrooms--;
    room_free(r);
}

/* A listed room's entry in the room lists changed (count, lock, passcode). */
void room_changed(struct hub *h, const struct room *r)
{
    if (r->listed)
        h->rooms_dirty = true;
}

void room_meta(const struct room *r, bool for_host, struct proto_room_meta *meta)
{
    meta->host = r->host ? r->host->id : 0;
    meta->locked = r->locked;
    meta->listed = r->listed;
    meta->has_passcode = r->passcode != NULL;
    meta->for_host = for_host;
    meta->passcode = for_host ? r->passcode : NULL;
}

/* Tells every member the room's settings and what changed: `room`, the host's copy with the
 * passcode. */
void room_send_settings(struct hub *h, struct room *r, enum proto_room_change change)
{
    struct proto_room_meta meta;
    room_meta(r, false, &meta);
    struct msg *all = proto_room(r->name, change, &meta);
    room_meta(r, true, &meta);
    struct msg *host = proto_room(r->name, change, &meta);
    for (unsigned i = 0; i < r->count; i++)
        hub_deliver(h, r->members[i], r->members[i] == r->host ? host : all);
    msg_unref(all);
    msg_unref(host);
}

/* Takes s out of its room; the others get `bye` (and `room` when s was the host, who is then
 * the longest-present member). The room disappears when empty. */
void room_leave(struct hub *h, struct hub_session *s)
{
    struct room *r = s->room;
    if (!r)
        return;
    for (unsigned i = 0; i < r->count; i++) {
        if (r->members[i] == s) {
            memmove(&r->members[i], &r->members[i + 1], (r->count - i - 1) * sizeof(*r->members));
            r->count--;
            break;
        }
    }
    s->room = NULL;
    h->nmembers--;
    room_changed(h, r);
    log_info(s->id, "left room %s (%u left)", r->label, r->count);
    if (r->count == 0) {
        room_destroy(h, r);
        return;
    }
    struct msg *m = proto_presence("bye", r->name, s->id, s->nickname, r->count, NULL);
    hub_broadcast(h, r, m, NULL);
    msg_unref(m);
    if (r->host == s) {
        r->host = r->members[0]; /* the longest present */
        log_info(r->host->id, "is now the host of room %s", r->label);
        room_send_settings(h, r, PROTO_CHANGE_HOST);
    }
}

int room_add(struct hub *h, struct room *r, struct hub_session *s)
{
    if (r->count == r->cap) {
        unsigned cap = r->cap * 2;
        struct hub_session **mm = realloc(r->members, cap * sizeof(*mm));
        if (!mm)
            return -1;
        r->members = mm;
        r->cap = cap;
    }
    r->members[r->count++] = s;
    s->room = r;
    h->nmembers++;
    room_changed(h, r);
    return 0;
}

void room_send_joined(struct hub *h, struct hub_session *s)
{
    struct room *r = s->room;
    struct proto_member *members = calloc(r->count ? r->count : 1, sizeof(*members));
    size_t n = 0;
    if (!members)
        return;
    for (unsigned i = 0; i < r->count; i++) {
        if (r->members[i] == s)
            continue;
        members[n].id = r->members[i]->id;
        members[n].nickname = r->members[i]->nickname;
        members[n].mic = r->members[i]->mic;
        members[n].cam = r->members[i]->cam;
        members[n].hand = r->members[i]->hand;
        n++;
    }
    struct proto_room_meta meta;
    room_meta(r, r->host == s, &meta);
    struct msg *m = proto_joined(r->name, s->id, members, n, r->count, &meta);
    free(members);
    hub_deliver(h, s, m);
    msg_unref(m);
}

/* The listed rooms, as the room lists show them. */
struct proto_room_info *room_infos(struct hub *h, size_t *n)
{
    struct proto_room_info *infos = calloc(h->nrooms ? h->nrooms : 1, sizeof(*infos));
    size_t i = 0;
    if (!infos)
        return NULL;
    struct list *node;
    list_foreach (node, &h->listed) {
        const struct room *r = list_entry(node, struct room, listed_node);
        infos[i].name = r->name;
        infos[i].count = r->count;
        infos[i].capacity = h->cfg.max_room_members;
        infos[i].locked = r->locked;
        infos[i].has_passcode = r->passcode != NULL;
        i++;
    }
    *n = i;
    return infos;
}

struct msg *room_list_msg(struct hub *h)
{
    size_t n = 0;
    struct proto_room_info *infos = room_infos(h, &n);
    struct msg *m = infos ? proto_rooms(infos, n) : NULL;
    free(infos);
    return m;
}

bool hub_flush_rooms(struct hub *h)
{
    THREAD_ASSERT_OWNER(h->cfg.owner);
    bool sent = false;
    if (!h->rooms_dirty)
        return false;
    h->rooms_dirty = false;
    struct msg *m = room_list_msg(h);
    struct list *n;
    list_foreach (n, &h->sessions) {
        struct hub_session *s = list_entry(n, struct hub_session, node);
        if (m && !s->room && !s->gone && s->sink) {
            hub_deliver(h, s, m);
            sent = true;
        }
    }
    msg_unref(m);
    hub_process_kicks(h);
    return sent;
}

char *hub_rooms_json(struct hub *h)
{
    THREAD_ASSERT_OWNER(h->cfg.owner);
    size_t n = 0;
    struct proto_room_info *infos = room_infos(h, &n);
    char *s = infos ? proto_rooms_json(infos, n) : NULL;
    free(infos);
    return s;
}
