/* SPDX-License-Identifier: MIT */
/* Preloads the TLS glue objects (see tls.h). */
#include "tls.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HUDDLE_TLS_INSTALL_DIR
#define HUDDLE_TLS_INSTALL_DIR "/usr/local/lib/huddle/tls"
#endif

static void *ssl_handle;
static void *crypto_handle;

/* Loads both glue objects from dir. */
static int load_from(const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/libcrypto.so", dir);
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "TLS glue not found: %s", path);
        return -ENOENT;
    }
    crypto_handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    snprintf(path, sizeof(path), "%s/libssl.so", dir);
    ssl_handle = crypto_handle ? dlopen(path, RTLD_NOW | RTLD_GLOBAL) : NULL;
    if (!ssl_handle) {
        const char *why = dlerror();
        snprintf(err, errlen, "cannot load TLS glue from %s: %s", dir, why ? why : "unknown");
        return -ENOENT;
    }
    return 0;
}

int tls_prepare(char *err, size_t errlen)
{
    if (ssl_handle)
        return 0;
    const char *env = getenv("HUDDLE_TLS_DIR");
    if (env && *env)
        return load_from(env, err, errlen);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 8);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash && (size_t)(slash - exe) + 24 < sizeof(exe)) {
            strcpy(slash + 1, "tls"); /* build tree: build/huddle + build/tls/ */
            if (load_from(exe, err, errlen) == 0)
                return 0;
            strcpy(slash + 1, "../lib/huddle/tls"); /* installed: bin/huddle + lib/huddle/tls/ */
            if (load_from(exe, err, errlen) == 0)
                return 0;
        }
    }
    return load_from(HUDDLE_TLS_INSTALL_DIR, err, errlen);
}
