/* SPDX-License-Identifier: MIT */
/* accept() gate (see acceptgate.h). A table indexed by descriptor remembers which peer each
 * counted connection had. CivetWeb closes connections without telling us who they were, so an
 * entry is released when its number comes back from accept() (the old connection must be gone),
 * or when a check finds the descriptor no longer connected to that peer: at the cap before
 * refusing, and in acceptgate_sweep. */
#include "acceptgate.h"

#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define GATE_MAX_FD (1 << 20)

struct gate_ent {
    uint32_t ip;
    uint16_t port;
    bool used;
};

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static struct iplimit *_Atomic gate_ipl;
static struct gate_ent *tab; /* under gate_lock */
static size_t ntab;

/* The sanitizer runtimes intercept accept() themselves: go through their interceptor when it is
 * there, else through libc's accept. */
extern int __interceptor_accept(int, struct sockaddr *, socklen_t *) __attribute__((weak));

static int real_accept(int fd, struct sockaddr *sa, socklen_t *len)
{
    static int (*next)(int, struct sockaddr *, socklen_t *);
    if (__interceptor_accept)
        return __interceptor_accept(fd, sa, len);
    if (!next)
        next = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
    return next ? next(fd, sa, len) : (errno = ENOSYS, -1);
}

static bool still_connected(int fd, const struct gate_ent *e)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    return getpeername(fd, (struct sockaddr *)&sa, &len) == 0 && sa.sin_family == AF_INET &&
           sa.sin_addr.s_addr == e->ip && ntohs(sa.sin_port) == e->port;
}

/* Releases the entries (of ip only, unless all) whose descriptor lost its peer. Under gate_lock. */
static void collect(struct iplimit *ipl, uint32_t ip, bool all)
{
    for (size_t fd = 0; fd < ntab; fd++) {
        struct gate_ent *e = &tab[fd];
        if (e->used && (all || e->ip == ip) && !still_connected((int)fd, e)) {
            iplimit_release(ipl, IPLIMIT_HTTP, e->ip);
            e->used = false;
        }
    }
}

static bool grow(size_t fd)
{
    if (fd < ntab)
        return true;
    size_t n = ntab ? ntab : 1024;
    while (n <= fd)
        n *= 2;
    struct gate_ent *t = realloc(tab, n * sizeof(*t));
    if (!t)
        return false;
    memset(t + ntab, 0, (n - ntab) * sizeof(*t));
    tab = t;
    ntab = n;
    return true;
}

/* Counts connection c from sa; false when its address is over the cap. */
static bool admit(struct iplimit *ipl, int c, const struct sockaddr_in *sa)
{
    uint32_t ip = sa->sin_addr.s_addr;
    bool ok = true;
    if (iplimit_trusted(ipl, ip) || c >= GATE_MAX_FD)
        return true;
    pthread_mutex_lock(&gate_lock);
    if (!grow((size_t)c)) {
        pthread_mutex_unlock(&gate_lock);
        return true; /* out of memory: let it through uncounted rather than refuse everyone */
    }
    if (tab[c].used) { /* the number was free again: its old connection is gone */
        iplimit_release(ipl, IPLIMIT_HTTP, tab[c].ip);
        tab[c].used = false;
    }
    if (!iplimit_take(ipl, IPLIMIT_HTTP, ip)) {
        collect(ipl, ip, false);
        ok = iplimit_take(ipl, IPLIMIT_HTTP, ip);
    }
    if (ok)
        tab[c] = (struct gate_ent){ip, ntohs(sa->sin_port), true};
    else
        iplimit_note_refusal(ipl, IPLIMIT_HTTP);
    pthread_mutex_unlock(&gate_lock);
    return ok;
}

int accept(int fd, __SOCKADDR_ARG addr, socklen_t *__restrict len)
{
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    int c = real_accept(fd, addr.__sockaddr__, len);
    struct iplimit *ipl = atomic_load(&gate_ipl);
    if (c < 0 || !ipl || getpeername(c, (struct sockaddr *)&peer, &plen) != 0 ||
        peer.sin_family != AF_INET || admit(ipl, c, &peer))
        return c;
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n"
                               "Content-Length: 0\r\nConnection: close\r\n\r\n";
    (void)!send(c, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    close(c);
    errno = ECONNABORTED; /* CivetWeb's accept loop takes this as a connection gone already */
    return -1;
}

void acceptgate_set(struct iplimit *ipl)
{
    pthread_mutex_lock(&gate_lock);
    atomic_store(&gate_ipl, ipl);
    if (!ipl) {
        free(tab);
        tab = NULL;
        ntab = 0;
    }
    pthread_mutex_unlock(&gate_lock);
}

void acceptgate_sweep(void)
{
    pthread_mutex_lock(&gate_lock);
    struct iplimit *ipl = atomic_load(&gate_ipl);
    if (ipl)
        collect(ipl, 0, true);
    pthread_mutex_unlock(&gate_lock);
}
