/* SPDX-License-Identifier: MIT */
/* Soname "libcrypto.so" for CivetWeb's dlopen("libcrypto.so") on Debian 12 without libssl-dev at
 * run time: an empty object whose only dependency is libcrypto.so.3, where every lookup lands. */
#include <openssl/crypto.h>

/* Referenced so the linker keeps the libcrypto.so.3 dependency. */
unsigned long huddle_crypto_shim_version(void);

unsigned long huddle_crypto_shim_version(void)
{
    return OpenSSL_version_num();
}
