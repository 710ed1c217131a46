/* Constant-time helpers for comparing secrets and MACs.
 *
 * Every comparison of a MAC, an authentication tag, a key-derived value or
 * any other secret goes through ct_equal(): its running time depends only on
 * the length, never on where the first difference is.
 */
#ifndef HSRELAY_CRYPTO_CT_H
#define HSRELAY_CRYPTO_CT_H

#include <emmintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when the n bytes at a and b are equal; constant time in n. */
bool ct_equal(const void *a, const void *b, size_t n);

/* ct_equal() for 16 bytes (a GCM tag) on the fast path: both loaded whole,
 * XORed and tested in one SSE2 vector operation, so there is no byte loop
 * and no early exit; libsodium's volatile byte loop cost about a quarter of
 * opening a one-cell TLS record. */
static inline bool
ct_equal16(const void *a, const void *b)
{
	__m128i d = _mm_xor_si128(_mm_loadu_si128((const __m128i *)a),
				  _mm_loadu_si128((const __m128i *)b));

	return _mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128())) == 0xffff;
}

/* True when all n bytes at a are zero; constant time in n. */
bool ct_is_zero(const void *a, size_t n);

/* Overwrites n bytes of secret material in a way the compiler keeps. */
void ct_wipe(void *p, size_t n);

#endif
