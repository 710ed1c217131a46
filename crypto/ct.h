/* Constant-time helpers for comparing secrets and MACs.
 *
 * Every comparison of a MAC, an authentication tag, a key-derived value or
 * any other secret goes through ct_equal(): its running time depends only on
 * the length, never on where the first difference is.
 */
#ifndef HSRELAY_CRYPTO_CT_H
#define HSRELAY_CRYPTO_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when the n bytes at a and b are equal; constant time in n. */
bool ct_equal(const void *a, const void *b, size_t n);

/* True when all n bytes at a are zero; constant time in n. */
bool ct_is_zero(const void *a, size_t n);

/* Overwrites n bytes of secret material in a way the compiler keeps. */
void ct_wipe(void *p, size_t n);

#endif
