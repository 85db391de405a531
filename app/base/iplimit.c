/* SPDX-License-Identifier: MIT */
/* Per-address counts (see iplimit.h): a chained hash of the addresses that have connections now;
 * an entry is freed when its last connection goes, so the table holds live addresses only. */
#include "iplimit.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "strlist.h"

#define IPLIMIT_BUCKETS     4096 /* power of two */
#define IPLIMIT_MAX_PROXIES 32

struct ipent {
    uint32_t ip;
    unsigned n[IPLIMIT_KINDS];
    struct ipent *next;
};

struct iplimit {
    pthread_mutex_t lock;
    unsigned max[IPLIMIT_KINDS];
    unsigned long long refused[IPLIMIT_KINDS];
    unsigned total[IPLIMIT_KINDS];
    uint32_t proxies[IPLIMIT_MAX_PROXIES];
    unsigned nproxies;
    struct ipent *buckets[IPLIMIT_BUCKETS];
};

bool iplimit_parse(const char *s, uint32_t *ip)
{
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1)
        return false;
    *ip = a.s_addr;
    return true;
}

struct iplimit *iplimit_new(unsigned max_http, unsigned max_ws, const char *trusted_proxies)
{
    struct iplimit *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->max[IPLIMIT_HTTP] = max_http;
    l->max[IPLIMIT_WS] = max_ws;
    const char *cur = trusted_proxies ? trusted_proxies : "", *item;
    size_t len;
    while (strlist_next(&cur, &item, &len)) {
        char buf[INET_ADDRSTRLEN];
        if (len >= sizeof(buf) || l->nproxies == IPLIMIT_MAX_PROXIES)
            goto err;
        memcpy(buf, item, len);
        buf[len] = '\0';
        if (!iplimit_parse(buf, &l->proxies[l->nproxies++]))
            goto err;
    }
    pthread_mutex_init(&l->lock, NULL);
    return l;
err:
    free(l);
    return NULL;
}

void iplimit_free(struct iplimit *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < IPLIMIT_BUCKETS; i++) {
        while (l->buckets[i]) {
            struct ipent *e = l->buckets[i];
            l->buckets[i] = e->next;
            free(e);
        }
    }
    pthread_mutex_destroy(&l->lock);
    free(l);
}

static size_t bucket(uint32_t ip)
{
    return (size_t)((ip * 2654435761u) >> 20) & (IPLIMIT_BUCKETS - 1);
}

static struct ipent **find(struct iplimit *l, uint32_t ip)
{
    struct ipent **pp = &l->buckets[bucket(ip)];
    while (*pp && (*pp)->ip != ip)
        pp = &(*pp)->next;
    return pp;
}

/* Frees the entry at *pp when it counts nothing any more: the table holds live addresses only. */
static void drop_if_empty(struct ipent **pp)
{
    struct ipent *e = *pp;
    for (int k = 0; k < IPLIMIT_KINDS; k++)
        if (e->n[k])
            return;
    *pp = e->next;
    free(e);
}

bool iplimit_take(struct iplimit *l, enum iplimit_kind kind, uint32_t ip)
{
    bool ok = false;
    pthread_mutex_lock(&l->lock);
    struct ipent **pp = find(l, ip);
    if (*pp && l->max[kind] && (*pp)->n[kind] >= l->max[kind])
        goto out_unlock; /* at the cap */
    if (!*pp && (*pp = calloc(1, sizeof(**pp))))
        (*pp)->ip = ip;
    if (*pp) {
        (*pp)->n[kind]++;
        l->total[kind]++;
        ok = true;
    }
out_unlock:
    pthread_mutex_unlock(&l->lock);
    return ok;
}

void iplimit_release(struct iplimit *l, enum iplimit_kind kind, uint32_t ip)
{
    pthread_mutex_lock(&l->lock);
    struct ipent **pp = find(l, ip), *e = *pp;
    if (e && e->n[kind]) {
        e->n[kind]--;
        l->total[kind]--;
        drop_if_empty(pp);
    }
    pthread_mutex_unlock(&l->lock);
}

unsigned iplimit_total(struct iplimit *l, enum iplimit_kind kind)
{
    pthread_mutex_lock(&l->lock);
    unsigned n = l->total[kind];
    pthread_mutex_unlock(&l->lock);
    return n;
}

unsigned iplimit_count(struct iplimit *l, enum iplimit_kind kind, uint32_t ip)
{
    pthread_mutex_lock(&l->lock);
    struct ipent *e = *find(l, ip);
    unsigned n = e ? e->n[kind] : 0;
    pthread_mutex_unlock(&l->lock);
    return n;
}

void iplimit_note_refusal(struct iplimit *l, enum iplimit_kind kind)
{
    pthread_mutex_lock(&l->lock);
    l->refused[kind]++;
    pthread_mutex_unlock(&l->lock);
}

unsigned long long iplimit_refused(struct iplimit *l, enum iplimit_kind kind)
{
    pthread_mutex_lock(&l->lock);
    unsigned long long n = l->refused[kind];
    pthread_mutex_unlock(&l->lock);
    return n;
}

bool iplimit_trusted(const struct iplimit *l, uint32_t ip)
{
    for (unsigned i = 0; i < l->nproxies; i++)
        if (l->proxies[i] == ip)
            return true;
    return false;
}

uint32_t iplimit_client(const struct iplimit *l, uint32_t peer, const char *xff)
{
    if (!xff || !iplimit_trusted(l, peer))
        return peer;
    /* walk the list, remembering the right-most address that is not a trusted proxy */
    uint32_t client = peer;
    const char *cur = xff, *item;
    size_t len;
    while (strlist_next(&cur, &item, &len)) {
        char buf[INET_ADDRSTRLEN];
        uint32_t ip;
        if (len >= sizeof(buf))
            continue;
        memcpy(buf, item, len);
        buf[len] = '\0';
        if (iplimit_parse(buf, &ip) && !iplimit_trusted(l, ip))
            client = ip;
        else if (!iplimit_parse(buf, &ip))
            client = peer; /* garbage after a good entry: trust nothing left of it */
    }
    return client;
}
