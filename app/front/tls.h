/* SPDX-License-Identifier: MIT */
/* Makes Debian 12's CivetWeb able to start TLS on OpenSSL 3 by preloading our glue objects
 * (third_party/civetweb-openssl3) before mg_start. Never mg_init_library(MG_FEATURES_TLS). */
#ifndef HUDDLE_TLS_H
#define HUDDLE_TLS_H

#include <stddef.h>

/* Loads <dir>/libcrypto.so and <dir>/libssl.so with RTLD_NOW|RTLD_GLOBAL, where dir is
 * $HUDDLE_TLS_DIR, else "tls" beside the executable (build tree), else "../lib/huddle/tls"
 * from it (installed), else the configured install directory. Idempotent.
 * Returns 0, or -ENOENT with err naming what is missing. */
int tls_prepare(char *err, size_t errlen);

#endif
