#include "crypto/relay_ctr_vaes.h"

#include <immintrin.h>

#include "crypto/relay_ctr_counter.h"

#ifdef RELAY_CTR_VAES_LANE_SPLIT
/* Test build (tests/unit/test_relay_ctr_lane_split.c): each VAES round is
 * done lane by lane with AES-NI, so that the kernel's counter, lane and tail
 * logic runs and is checked on CPUs with AVX2 but without VAES. */
#define relay_ctr_vaes_keystream relay_ctr_vaes_keystream_lane_split

static inline __m256i
aes_round(__m256i x, __m256i k)
{
	return _mm256_set_m128i(
		_mm_aesenc_si128(_mm256_extracti128_si256(x, 1), _mm256_extracti128_si256(k, 1)),
		_mm_aesenc_si128(_mm256_castsi256_si128(x), _mm256_castsi256_si128(k)));
}

static inline __m256i
aes_last_round(__m256i x, __m256i k)
{
	return _mm256_set_m128i(
		_mm_aesenclast_si128(_mm256_extracti128_si256(x, 1), _mm256_extracti128_si256(k, 1)),
		_mm_aesenclast_si128(_mm256_castsi256_si128(x), _mm256_castsi256_si128(k)));
}
#else
#define aes_round _mm256_aesenc_epi128
#define aes_last_round _mm256_aesenclast_epi128
#endif

/* 8 YMM registers of 2 blocks each: 16 blocks in flight per round. */
#define PAIRS 8

/* Blocks i (low lane) and i + 1 (high lane). */
static inline __m256i
counter_pair(uint64_t high, uint64_t low, uint64_t i)
{
	return _mm256_set_m128i(relay_ctr_counter_block(high, low, i + 1),
				relay_ctr_counter_block(high, low, i));
}

void
relay_ctr_vaes_keystream(const uint8_t round_keys[11][16], uint64_t counter_high,
			 uint64_t counter_low, unsigned nblocks, uint8_t *out)
{
	__m256i rk[11];
	unsigned done = 0;

	for (int r = 0; r < 11; r++)
		rk[r] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)round_keys[r]));

	while (nblocks - done >= 2 * PAIRS) {
		__m256i b[PAIRS];

		for (int l = 0; l < PAIRS; l++)
			b[l] = _mm256_xor_si256(counter_pair(counter_high, counter_low, done + 2 * l),
						rk[0]);
		for (int r = 1; r < 10; r++)
			for (int l = 0; l < PAIRS; l++)
				b[l] = aes_round(b[l], rk[r]);
		for (int l = 0; l < PAIRS; l++)
			_mm256_storeu_si256((__m256i *)(out + 16 * (done + 2 * l)),
					    aes_last_round(b[l], rk[10]));
		done += 2 * PAIRS;
	}
	if (done < nblocks) {
		/* The last 1-15 blocks, still interleaved; an odd last block is
		 * computed in a pair and only its low lane is stored. */
		unsigned rem = nblocks - done, pairs = (rem + 1) / 2;
		__m256i b[PAIRS];

		for (unsigned l = 0; l < pairs; l++)
			b[l] = _mm256_xor_si256(counter_pair(counter_high, counter_low, done + 2 * l),
						rk[0]);
		for (int r = 1; r < 10; r++)
			for (unsigned l = 0; l < pairs; l++)
				b[l] = aes_round(b[l], rk[r]);
		for (unsigned l = 0; l < pairs; l++) {
			__m256i ks = aes_last_round(b[l], rk[10]);
			uint8_t *dst = out + 16 * (done + 2 * l);

			if (2 * l + 1 < rem)
				_mm256_storeu_si256((__m256i *)dst, ks);
			else
				_mm_storeu_si128((__m128i *)dst, _mm256_castsi256_si128(ks));
		}
	}
	/* Leave no dirty upper YMM state for SSE code that follows. */
	_mm256_zeroupper();
}
