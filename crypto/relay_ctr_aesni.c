#include "crypto/relay_ctr_aesni.h"

#include <immintrin.h>

#include "crypto/relay_ctr_counter.h"

/* Eight independent blocks in flight hide the latency of AESENC (4 cycles on
 * Skylake-class cores at a throughput of 1 or 2 per cycle). */
#define LANES 8

void
relay_ctr_aesni_keystream(const uint8_t round_keys[11][16], uint64_t counter_high,
			  uint64_t counter_low, unsigned nblocks, uint8_t *out)
{
	__m128i rk[11];
	unsigned done = 0;

	for (int r = 0; r < 11; r++)
		rk[r] = _mm_loadu_si128((const __m128i *)round_keys[r]);

	while (nblocks - done >= LANES) {
		__m128i b[LANES];

		for (int l = 0; l < LANES; l++)
			b[l] = _mm_xor_si128(relay_ctr_counter_block(counter_high, counter_low, done + l), rk[0]);
		for (int r = 1; r < 10; r++)
			for (int l = 0; l < LANES; l++)
				b[l] = _mm_aesenc_si128(b[l], rk[r]);
		for (int l = 0; l < LANES; l++)
			_mm_storeu_si128((__m128i *)(out + 16 * (done + l)),
					 _mm_aesenclast_si128(b[l], rk[10]));
		done += LANES;
	}
	if (done < nblocks) {
		/* The last 1-7 blocks (a 509-byte cell needs 32 or 33) are also
		 * interleaved rather than run one after another. */
		unsigned rem = nblocks - done;
		__m128i b[LANES];

		for (unsigned l = 0; l < rem; l++)
			b[l] = _mm_xor_si128(relay_ctr_counter_block(counter_high, counter_low, done + l), rk[0]);
		for (int r = 1; r < 10; r++)
			for (unsigned l = 0; l < rem; l++)
				b[l] = _mm_aesenc_si128(b[l], rk[r]);
		for (unsigned l = 0; l < rem; l++)
			_mm_storeu_si128((__m128i *)(out + 16 * (done + l)),
					 _mm_aesenclast_si128(b[l], rk[10]));
	}
}
