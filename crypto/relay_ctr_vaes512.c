#include "crypto/relay_ctr_vaes512.h"

#include <immintrin.h>

#include "crypto/relay_crypto.h"
#include "crypto/relay_ctr_counter.h"

/* A cell is 509 bytes at any byte offset of its stream, so its keystream is
 * blocks [offset / 16, offset / 16 + 33): 8 ZMM registers of 4 blocks hold
 * the first 32 and an XMM register the 33rd (needed when offset % 16 > 3).
 * The payload is then XORed 64 bytes at a time with the keystream moved to
 * the cell's byte offset by one VPERMT2B per register (AVX512-VBMI). */
#define QUADS 8

/* Reverses the bytes of each 64-bit half of every 128-bit lane: a counter
 * kept as two little-endian qwords (high, low) becomes the big-endian
 * counter block (SP 800-38A B.1, the standard incrementing function over
 * the whole 128 bits). */
static inline __m512i
bswap_qwords(__m512i x)
{
	const __m512i m = _mm512_broadcast_i32x4(
		_mm_set_epi8(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));

	return _mm512_shuffle_epi8(x, m);
}

/* Counters (high:low) + first .. first + 3 in lanes 0-3. `base` holds
 * (high, low) in every lane. With `wrap` (low + first + 3 may pass 2^64) the
 * blocks are built one by one with the carry into the high half. */
static inline __m512i
counter_quad(__m512i base, uint64_t high, uint64_t low, uint64_t first, bool wrap)
{
	if (__builtin_expect(wrap, 0)) {
		__m512i v = _mm512_castsi128_si512(relay_ctr_counter_block(high, low, first));

		v = _mm512_inserti32x4(v, relay_ctr_counter_block(high, low, first + 1), 1);
		v = _mm512_inserti32x4(v, relay_ctr_counter_block(high, low, first + 2), 2);
		return _mm512_inserti32x4(v, relay_ctr_counter_block(high, low, first + 3), 3);
	}
	return bswap_qwords(_mm512_add_epi64(
		base, _mm512_set_epi64((long long)(first + 3), 0, (long long)(first + 2), 0,
				       (long long)(first + 1), 0, (long long)first, 0)));
}

static inline __m512i
counter_base(uint64_t high, uint64_t low)
{
	return _mm512_set_epi64((long long)low, (long long)high, (long long)low, (long long)high,
				(long long)low, (long long)high, (long long)low, (long long)high);
}

static inline __m512i
round_key(const uint8_t round_keys[11][16], int r)
{
	return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)round_keys[r]));
}

/* AES-128 on 8 x 4 counter blocks and one more block, all interleaved. The
 * round keys are broadcast as they are needed so that two cells' worth of
 * keystream (a splice) fits in the 32 ZMM registers. */
static inline void
encrypt_33(const uint8_t round_keys[11][16], __m512i b[QUADS], __m128i *t)
{
	__m512i k = round_key(round_keys, 0);

#pragma GCC unroll 8
	for (int l = 0; l < QUADS; l++)
		b[l] = _mm512_xor_si512(b[l], k);
	*t = _mm_xor_si128(*t, _mm512_castsi512_si128(k));
#pragma GCC unroll 9
	for (int r = 1; r < 10; r++) {
		k = round_key(round_keys, r);
#pragma GCC unroll 8
		for (int l = 0; l < QUADS; l++)
			b[l] = _mm512_aesenc_epi128(b[l], k);
		*t = _mm_aesenc_si128(*t, _mm512_castsi512_si128(k));
	}
	k = round_key(round_keys, 10);
#pragma GCC unroll 8
	for (int l = 0; l < QUADS; l++)
		b[l] = _mm512_aesenclast_epi128(b[l], k);
	*t = _mm_aesenclast_si128(*t, _mm512_castsi512_si128(k));
}

/* Keystream blocks [block, block + 33) of one cipher into ks[0..8] (ks[8]
 * holds the 33rd block in its low lane). The counter's high half is zero and
 * block < 2^60 (the offset is a 64-bit byte count), so block + 32 never
 * carries out of the low half. */
static inline void
cell_keystream(const struct relay_cipher *c, __m512i ks[QUADS + 1])
{
	uint64_t block = c->offset >> 4;
	__m512i base = counter_base(0, block);
	__m128i t = relay_ctr_counter_block(0, block, 4 * QUADS);

#pragma GCC unroll 8
	for (int l = 0; l < QUADS; l++)
		ks[l] = counter_quad(base, 0, block, 4 * (uint64_t)l, false);
	encrypt_33(c->round_keys, ks, &t);
	ks[QUADS] = _mm512_castsi128_si512(t);
}

/* Byte j of the result is byte s + j of the keystream, s = offset % 16. */
static inline __m512i
shift_index(const struct relay_cipher *c)
{
	static const uint8_t iota[64] __attribute__((aligned(64))) = {
		0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
		16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
		32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
		48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
	};

	return _mm512_add_epi8(_mm512_load_si512((const void *)iota),
			       _mm512_set1_epi8((char)(c->offset & 15)));
}

/* Payload bytes [64 q, 64 q + 64) of the cell need keystream bytes
 * [s + 64 q, s + 64 q + 64): the top of ks[q] and the bottom of ks[q + 1]. */
static inline __m512i
aligned_ks(const __m512i ks[QUADS + 1], __m512i idx, int q)
{
	return _mm512_permutex2var_epi8(ks[q], idx, ks[q + 1]);
}

/* 509 = 7 x 64 + 61: the last 64-byte piece of a payload is masked. */
#define FULL_PIECES 7
#define LAST_MASK ((__mmask64)((UINT64_C(1) << (RELAY_CRYPTO_PAYLOAD_LEN - 64 * FULL_PIECES)) - 1))

_Static_assert(RELAY_CRYPTO_PAYLOAD_LEN > 64 * FULL_PIECES &&
		       RELAY_CRYPTO_PAYLOAD_LEN < 64 * (FULL_PIECES + 1),
	       "a payload is 7 whole 64-byte pieces and a partial one");

/* payload ^= keystream of one layer. */
static inline void
xor_one(uint8_t *p, const __m512i ks[QUADS + 1], __m512i idx)
{
#pragma GCC unroll 7
	for (int q = 0; q < FULL_PIECES; q++) {
		__m512i d = _mm512_loadu_si512((const void *)(p + 64 * q));

		_mm512_storeu_si512((void *)(p + 64 * q),
				    _mm512_xor_si512(d, aligned_ks(ks, idx, q)));
	}
	__m512i d = _mm512_maskz_loadu_epi8(LAST_MASK, p + 64 * FULL_PIECES);

	_mm512_mask_storeu_epi8(p + 64 * FULL_PIECES, LAST_MASK,
				_mm512_xor_si512(d, aligned_ks(ks, idx, FULL_PIECES)));
}

/* payload ^= keystream of two layers, one pass (VPTERNLOGQ 0x96 = a^b^c). */
static inline void
xor_two(uint8_t *p, const __m512i ka[QUADS + 1], __m512i ia, const __m512i kb[QUADS + 1],
	__m512i ib)
{
#pragma GCC unroll 7
	for (int q = 0; q < FULL_PIECES; q++) {
		__m512i d = _mm512_loadu_si512((const void *)(p + 64 * q));

		_mm512_storeu_si512((void *)(p + 64 * q),
				    _mm512_ternarylogic_epi64(d, aligned_ks(ka, ia, q),
							      aligned_ks(kb, ib, q), 0x96));
	}
	__m512i d = _mm512_maskz_loadu_epi8(LAST_MASK, p + 64 * FULL_PIECES);

	_mm512_mask_storeu_epi8(p + 64 * FULL_PIECES, LAST_MASK,
				_mm512_ternarylogic_epi64(d, aligned_ks(ka, ia, FULL_PIECES),
							  aligned_ks(kb, ib, FULL_PIECES), 0x96));
}

/* Prefetch distance in cells, as in relay_crypto.c. */
#define PREFETCH_AHEAD 4

void
relay_ctr_vaes512_crypt_burst(struct relay_cipher *const ciphers[], uint8_t *const payloads[],
			      unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct relay_cipher *c = ciphers[i];
		__m512i ks[QUADS + 1];

		if (i + PREFETCH_AHEAD < n)
			relay_cipher_prefetch(ciphers[i + PREFETCH_AHEAD]);
		cell_keystream(c, ks);
		xor_one(payloads[i], ks, shift_index(c));
		c->offset += RELAY_CRYPTO_PAYLOAD_LEN;
	}
	/* Leave no dirty upper ZMM state for SSE code that follows. */
	_mm256_zeroupper();
}

unsigned
relay_ctr_vaes512_splice_burst(struct relay_cipher *const in[], struct relay_cipher *const out[],
			       uint8_t *const payloads[], bool recognized[], unsigned n)
{
	unsigned set_aside = 0;

	for (unsigned i = 0; i < n; i++) {
		struct relay_cipher *a = in[i], *b = out[i];
		uint8_t *p = payloads[i];
		__m512i ka[QUADS + 1], kb[QUADS + 1], ia, ib, first;

		if (i + PREFETCH_AHEAD < n) {
			relay_cipher_prefetch(in[i + PREFETCH_AHEAD]);
			relay_cipher_prefetch(out[i + PREFETCH_AHEAD]);
		}
		/* B's keystream is computed before A's recognized check: it is
		 * wasted only for the 2^-16 of cells that are set aside, and
		 * both ciphers' rounds overlap. Computing it moves no offset. */
		cell_keystream(a, ka);
		cell_keystream(b, kb);
		ia = shift_index(a);
		ib = shift_index(b);
		a->offset += RELAY_CRYPTO_PAYLOAD_LEN;
		first = _mm512_xor_si512(_mm512_loadu_si512((const void *)p),
					 aligned_ks(ka, ia, 0));
		/* tor-spec "Relay cells": recognized is payload bytes 1-2. */
		if (__builtin_expect(
			    (_mm_cvtsi128_si32(_mm512_castsi512_si128(first)) & 0x00ffff00) == 0, 0)) {
			xor_one(p, ka, ia);
			recognized[i] = true;
			set_aside++;
			continue;
		}
		xor_two(p, ka, ia, kb, ib);
		b->offset += RELAY_CRYPTO_PAYLOAD_LEN;
		recognized[i] = false;
	}
	_mm256_zeroupper();
	return set_aside;
}

void
relay_ctr_vaes512_keystream(const uint8_t round_keys[11][16], uint64_t counter_high,
			    uint64_t counter_low, unsigned nblocks, uint8_t *out)
{
	__m512i base = counter_base(counter_high, counter_low);

	for (unsigned done = 0; done < nblocks; done += 4 * QUADS) {
		unsigned rem = nblocks - done < 4 * QUADS ? nblocks - done : 4 * QUADS;
		bool wrap = counter_low > UINT64_MAX - ((uint64_t)done + 4 * QUADS - 1);
		__m512i b[QUADS];
		__m128i t = _mm_setzero_si128();

		for (int l = 0; l < QUADS; l++)
			b[l] = counter_quad(base, counter_high, counter_low, done + 4 * (uint64_t)l,
					    wrap);
		encrypt_33(round_keys, b, &t);
		/* Whole blocks only: a masked store of 2 qwords per block. */
		for (unsigned l = 0; l < QUADS && 4 * l < rem; l++) {
			unsigned blocks = rem - 4 * l < 4 ? rem - 4 * l : 4;

			_mm512_mask_storeu_epi64(out + 16 * (done + 4 * l),
						 (__mmask8)((1u << (2 * blocks)) - 1), b[l]);
		}
	}
	_mm256_zeroupper();
}
