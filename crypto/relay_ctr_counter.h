/* The 128-bit big-endian CTR counter block shared by the in-register relay
 * CTR kernels; internal to the crypto module. Included by files built with
 * different ISA flags, so it is static inline and needs only SSE2. */
#ifndef HSRELAY_CRYPTO_RELAY_CTR_COUNTER_H
#define HSRELAY_CRYPTO_RELAY_CTR_COUNTER_H

#include <immintrin.h>
#include <stdint.h>

/* The counter block for (high:low) + i, carrying into the high half. Bytes
 * 0-7 hold the high half and bytes 8-15 the low half, big-endian. */
static inline __m128i
relay_ctr_counter_block(uint64_t high, uint64_t low, uint64_t i)
{
	uint64_t sum = low + i;

	if (sum < low)
		high++;
	return _mm_set_epi64x((long long)__builtin_bswap64(sum),
			      (long long)__builtin_bswap64(high));
}

#endif
