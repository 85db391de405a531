/* SPDX-License-Identifier: MIT */
/* Socket adoption (see adopt.h). The search is cheap in the common case: descriptors the loop
 * already owns are skipped by an atomic bitmap without a system call, and the scan stops at the
 * first match, so only CivetWeb's own descriptors (listeners, connections in progress) are probed.
 * A failed search reads the descriptor table size once to bound the scan. */
#include "adopt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static _Atomic(uint64_t) *owned; /* bit per descriptor number below nowned */
static size_t nowned;
static atomic_int high_seen; /* highest descriptor number met so far: where a scan may stop */

int adopt_init(void)
{
    struct rlimit rl;
    size_t n = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > n)
        n = rl.rlim_cur > (1u << 24) ? (1u << 24) : (size_t)rl.rlim_cur;
    owned = calloc((n + 63) / 64, sizeof(*owned));
    if (!owned)
        return -ENOMEM;
    nowned = n;
    return 0;
}

void adopt_cleanup(void)
{
    free((void *)owned);
    owned = NULL;
    nowned = 0;
}

static void mark(int fd, bool on)
{
    if (fd < 0 || (size_t)fd >= nowned)
        return;
    uint64_t bit = UINT64_C(1) << (fd % 64);
    if (on)
        atomic_fetch_or_explicit(&owned[fd / 64], bit, memory_order_relaxed);
    else
        atomic_fetch_and_explicit(&owned[fd / 64], ~bit, memory_order_relaxed);
}

bool adopt_is_owned(int fd)
{
    if (fd < 0 || (size_t)fd >= nowned)
        return false;
    return atomic_load_explicit(&owned[fd / 64], memory_order_relaxed) & (UINT64_C(1) << (fd % 64));
}

void adopt_release(int fd)
{
    mark(fd, false);
}

static void note_high(int fd)
{
    int h = atomic_load_explicit(&high_seen, memory_order_relaxed);
    while (fd > h && !atomic_compare_exchange_weak_explicit(
                         &high_seen, &h, fd, memory_order_relaxed, memory_order_relaxed))
        ;
}

/* Size of this process's descriptor table (an upper bound of the highest open descriptor). */
static int fd_table_size(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[128];
    int size = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "FDSize: %d", &size) == 1)
            break;
    if (f)
        fclose(f);
    if (size <= 0) {
        struct rlimit rl;
        size = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1u << 20) ? (int)rl.rlim_cur
                                                                              : (1 << 20);
    }
    return size;
}

static bool matches(int fd, const struct adopt_peer *peer, const struct in_addr *want)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int type = 0;
    socklen_t tlen = sizeof(type);
    if (getpeername(fd, (struct sockaddr *)&sa, &len) != 0 || len < sizeof(sa) ||
        sa.sin_family != AF_INET || ntohs(sa.sin_port) != peer->remote_port ||
        sa.sin_addr.s_addr != want->s_addr)
        return false;
    len = sizeof(sa);
    if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0 || sa.sin_family != AF_INET ||
        (peer->server_port && ntohs(sa.sin_port) != peer->server_port))
        return false;
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 && type == SOCK_STREAM;
}

static int scan(const struct adopt_peer *peer, const struct in_addr *want, int from, int to)
{
    for (int fd = from; fd < to; fd++) {
        if (adopt_is_owned(fd))
            continue;
        if (matches(fd, peer, want))
            return fd;
    }
    return -ENOENT;
}

int adopt_find(const struct adopt_peer *peer)
{
    struct in_addr want;
    if (!peer->remote_addr || inet_pton(AF_INET, peer->remote_addr, &want) != 1)
        return -ENOENT;
    int high = atomic_load_explicit(&high_seen, memory_order_relaxed) + 64;
    int fd = scan(peer, &want, 0, high);
    if (fd == -ENOENT) {
        int size = fd_table_size();
        if (size > high)
            fd = scan(peer, &want, high, size);
    }
    if (fd >= 0)
        note_high(fd);
    return fd;
}

static int dup_cloexec(int fd)
{
    int d = dup(fd);
    if (d >= 0 && fcntl(d, F_SETFD, FD_CLOEXEC) < 0) {
        int err = errno;
        close(d);
        errno = err;
        return -1;
    }
    return d;
}

/* Held while adopt_take creates descriptors and while the loop closes adopted ones (adopt_close):
 * the kernel hands a closed number to the next dup(), and this makes that order visible to
 * ThreadSanitizer too (it cannot see the kernel's). Held for a few system calls at most. */
static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;

void adopt_lock(void)
{
    pthread_mutex_lock(&fd_lock);
}

void adopt_unlock(void)
{
    pthread_mutex_unlock(&fd_lock);
}

static int take_locked(const struct adopt_peer *peer, int fd);

int adopt_take(const struct adopt_peer *peer)
{
    int fd = adopt_find(peer);
    if (fd < 0)
        return fd;
    pthread_mutex_lock(&fd_lock);
    int rc = take_locked(peer, fd);
    pthread_mutex_unlock(&fd_lock);
    return rc;
}

static int take_locked(const struct adopt_peer *peer, int fd)
{
    struct in_addr want;
    int sv[2];
    inet_pton(AF_INET, peer->remote_addr, &want);
    /* dup(), not fcntl(F_DUPFD_CLOEXEC): ThreadSanitizer sees a dup() create the descriptor
     * (it does not intercept fcntl), so a number used and closed earlier is a new one */
    int dup = dup_cloexec(fd);
    if (dup < 0)
        return -errno;
    if (!matches(dup, peer, &want)) {
        close(dup);
        return -ENOENT;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        int err = -errno;
        close(dup);
        return err;
    }
    close(sv[1]);
    mark(dup, true); /* before CivetWeb's number is freed: a scan never meets dup unmarked */
    note_high(dup);
    if (dup2(sv[0], fd) < 0) {
        int err = -errno;
        mark(dup, false);
        close(sv[0]);
        close(dup);
        return err;
    }
    close(sv[0]);
    return dup;
}
