/* SPDX-License-Identifier: MIT */
/* Glue between Debian 12's CivetWeb 1.15 and OpenSSL 3. CivetWeb loads TLS with
 * dlopen("libssl.so") and then looks up SSL_get_peer_certificate, which OpenSSL 3 only exports as
 * SSL_get1_peer_certificate (CivetWeb upstream issue #1334), so mg_start fails. This object has
 * the soname "libssl.so"; huddle dlopens it RTLD_GLOBAL by absolute path before mg_start, glibc
 * then hands it to CivetWeb's dlopen, and every other symbol resolves from its dependency
 * libssl.so.3. */
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* OpenSSL 3's ssl.h maps the old name onto the new one with a macro; we need the real symbol. */
#undef SSL_get_peer_certificate

X509 *SSL_get_peer_certificate(const SSL *ssl);

X509 *SSL_get_peer_certificate(const SSL *ssl)
{
    /* Same contract as OpenSSL 1.1's function: the caller frees the returned reference. */
    return SSL_get1_peer_certificate(ssl);
}
