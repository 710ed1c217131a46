/* tor1 relay crypto: NIST SP 800-38A CTR vector, byte equality with one
 * OpenSSL EVP AES-128-CTR stream per circuit (interleaved circuits, odd cell
 * counts, across 2^32-block boundaries), the fused splice, and the running
 * digest. Every test runs on every engine path this CPU supports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/engine.h"
#include "crypto/engine_internal.h"
#include "crypto/relay_crypto.h"
#include "crypto/relay_ctr_aesni.h"
#include "crypto/relay_ctr_vaes.h"
#include "crypto/relay_ctr_vaes512.h"
#include "tests/unit/test_util.h"

#define PAYLOAD RELAY_CRYPTO_PAYLOAD_LEN

static const enum crypto_arch arches[] = {
	CRYPTO_ARCH_SSE, CRYPTO_ARCH_AVX, CRYPTO_ARCH_AVX2, CRYPTO_ARCH_AVX512,
};
static const enum relay_ctr_impl impls[] = {RELAY_CTR_AESNI, RELAY_CTR_IPSEC_MB, RELAY_CTR_VAES,
					    RELAY_CTR_VAES512};

/* HSRELAY_TEST_REQUIRE_CTR=<impl name> makes a skipped implementation a
 * failure: the run under qemu (tests/unit/meson.build) uses it so that the
 * VAES kernel is proven to have run on a machine without VAES. */
static void
check_required_ran(const bool ran_impl[])
{
	const char *want = getenv("HSRELAY_TEST_REQUIRE_CTR");

	if (want == NULL)
		return;
	for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++)
		if (strcmp(want, relay_ctr_impl_name(impls[i])) == 0) {
			if (!ran_impl[i])
				fail_msg("required relay CTR path %s did not run", want);
			return;
		}
	fail_msg("unknown HSRELAY_TEST_REQUIRE_CTR=%s", want);
}

/* Calls fn once per supported (arch, impl) path; fails if none ran. */
static void
for_each_engine(void (*fn)(struct crypto_engine *))
{
	int ran = 0;
	bool ran_impl[sizeof(impls) / sizeof(impls[0])] = {false};

	for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++) {
		for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++) {
			struct crypto_engine *e;

			if (!crypto_arch_supported(arches[a]) || !relay_ctr_impl_supported(impls[i])) {
				print_message("skip %s/%s: not supported by this CPU\n",
					      crypto_arch_name(arches[a]), relay_ctr_impl_name(impls[i]));
				continue;
			}
			e = crypto_engine_create(arches[a], impls[i]);
			assert_non_null(e);
			assert_int_equal(crypto_engine_arch(e), arches[a]);
			assert_int_equal(crypto_engine_relay_ctr(e), impls[i]);
			fn(e);
			crypto_engine_destroy(e);
			ran++;
			ran_impl[i] = true;
		}
	}
	/* The ipsec-mb fallback runs everywhere, so at least the SSE path did. */
	assert_true(ran >= 1);
	check_required_ran(ran_impl);
}

/* The in-register kernels by name, for the vector tests. */
typedef void (*keystream_kernel)(const uint8_t[11][16], uint64_t, uint64_t, unsigned, uint8_t *);

static void
for_each_kernel(void (*fn)(keystream_kernel, enum relay_ctr_impl))
{
	bool ran_impl[sizeof(impls) / sizeof(impls[0])] = {false};

	for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++) {
		if (impls[i] == RELAY_CTR_IPSEC_MB)
			continue;
		if (!relay_ctr_impl_supported(impls[i])) {
			print_message("skip %s kernel: not supported by this CPU\n",
				      relay_ctr_impl_name(impls[i]));
			continue;
		}
		fn(impls[i] == RELAY_CTR_VAES512 ? relay_ctr_vaes512_keystream
		   : impls[i] == RELAY_CTR_VAES  ? relay_ctr_vaes_keystream
						 : relay_ctr_aesni_keystream,
		   impls[i]);
		ran_impl[i] = true;
	}
	check_required_ran(ran_impl);
}

/* Reference: an EVP AES-128-CTR stream positioned at byte `offset` of the
 * keystream that starts at counter 0. */
static EVP_CIPHER_CTX *
evp_stream_at(const uint8_t key[16], uint64_t offset)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t iv[16] = {0}, skip[16] = {0};
	uint64_t block = offset >> 4;
	int outl;

	for (int i = 0; i < 8; i++)
		iv[15 - i] = (uint8_t)(block >> (8 * i));
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, key, iv), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, skip, &outl, skip, (int)(offset & 15)), 1);
	return ctx;
}

static void
evp_crypt(EVP_CIPHER_CTX *ctx, uint8_t *p, int len)
{
	int outl;

	assert_int_equal(EVP_EncryptUpdate(ctx, p, &outl, p, len), 1);
	assert_int_equal(outl, len);
}

static void
test_engine_paths(void **state)
{
	(void)state;
	const struct crypto_cpu_features *f = crypto_cpu_features();

	print_message("cpu: aesni=%d sse4.1=%d avx2=%d avx512f=%d avx512bw=%d avx512vbmi=%d vaes=%d\n",
		      f->aesni, f->sse41, f->avx2, f->avx512f, f->avx512bw, f->avx512vbmi, f->vaes);
	/* AUTO resolves to concrete choices. */
	struct crypto_engine *e = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);

	assert_non_null(e);
	assert_int_not_equal(crypto_engine_arch(e), CRYPTO_ARCH_AUTO);
	assert_int_not_equal(crypto_engine_relay_ctr(e), RELAY_CTR_AUTO);
	if (f->aesni && f->vaes && f->avx512f && f->avx512bw && f->avx512vbmi)
		assert_int_equal(crypto_engine_relay_ctr(e), RELAY_CTR_VAES512);
	else if (f->aesni && f->avx2 && f->vaes)
		assert_int_equal(crypto_engine_relay_ctr(e), RELAY_CTR_VAES);
	else if (f->aesni && f->sse41)
		assert_int_equal(crypto_engine_relay_ctr(e), RELAY_CTR_AESNI);
	/* The start-up known-answer check passes for the kernel in use and
	 * has nothing to say about the ipsec-mb path. */
	if (crypto_engine_relay_ctr(e) != RELAY_CTR_IPSEC_MB)
		assert_true(relay_ctr_self_test(e, crypto_engine_relay_ctr(e)));
	assert_false(relay_ctr_self_test(e, RELAY_CTR_IPSEC_MB));
	crypto_engine_destroy(e);
	/* A path this CPU cannot run is refused, not faked. */
	for (enum relay_ctr_impl i = RELAY_CTR_VAES; i <= RELAY_CTR_VAES512; i++) {
		if (relay_ctr_impl_supported(i))
			continue;
		print_message("%s not supported: creation must fail with ENOTSUP\n",
			      relay_ctr_impl_name(i));
		errno = 0;
		assert_null(crypto_engine_create(CRYPTO_ARCH_AUTO, i));
		assert_int_equal(errno, ENOTSUP);
	}
}

/* NIST SP 800-38A F.5.1 CTR-AES128.Encrypt, through each in-register
 * kernel with round keys from relay_cipher_init(). */
static void
nist_ctr_vector(keystream_kernel kernel, enum relay_ctr_impl impl)
{
	uint8_t key[16], counter[16], pt[64], ct[64], ks[64];
	struct relay_cipher c;
	struct crypto_engine *e;
	uint64_t hi = 0, lo = 0;

	test_hex("2b7e151628aed2a6abf7158809cf4f3c", key, sizeof(key));
	test_hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", counter, sizeof(counter));
	test_hex("6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"
		 "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710",
		 pt, sizeof(pt));
	test_hex("874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff"
		 "5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee",
		 ct, sizeof(ct));
	for (int i = 0; i < 8; i++) {
		hi = hi << 8 | counter[i];
		lo = lo << 8 | counter[8 + i];
	}
	e = crypto_engine_create(CRYPTO_ARCH_AUTO, impl);
	assert_non_null(e);
	relay_cipher_init(e, &c, key);
	kernel(c.round_keys, hi, lo, 4, ks);
	for (int i = 0; i < 64; i++)
		ks[i] ^= pt[i];
	assert_memory_equal(ks, ct, 64);
	crypto_engine_destroy(e);
}

static void
test_nist_ctr_vector(void **state)
{
	(void)state;
	for_each_kernel(nist_ctr_vector);
}

/* The kernels carry across the 64-bit half of the counter, as a 128-bit
 * counter must (compared with EVP, which implements full 128-bit CTR), for
 * every block count from 1 to 72 (all tail shapes of all kernels, and the
 * AVX-512 kernel's 32-block chunks), with the carry inside the first chunk,
 * exactly at its end, and just after it. */
static void
kernel_128bit_carry(keystream_kernel kernel, enum relay_ctr_impl impl)
{
	enum { MAX_BLOCKS = 72 };
	static const unsigned below_wrap[] = {4, 31, 32, 33};
	uint8_t key[16], iv[16], ks[16 * MAX_BLOCKS], ref[16 * MAX_BLOCKS];
	const uint64_t high = 0x0011223344556677ull;
	struct relay_cipher c;
	struct crypto_engine *e;
	int outl;

	test_fill(key, sizeof(key), 7);
	e = crypto_engine_create(CRYPTO_ARCH_AUTO, impl);
	assert_non_null(e);
	relay_cipher_init(e, &c, key);
	for (size_t w = 0; w < sizeof(below_wrap) / sizeof(below_wrap[0]); w++) {
		const uint64_t low = UINT64_MAX - below_wrap[w];
		EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

		for (int i = 0; i < 8; i++) {
			iv[7 - i] = (uint8_t)(high >> (8 * i));
			iv[15 - i] = (uint8_t)(low >> (8 * i));
		}
		memset(ref, 0, sizeof(ref));
		assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, key, iv), 1);
		assert_int_equal(EVP_EncryptUpdate(ctx, ref, &outl, ref, sizeof(ref)), 1);
		for (unsigned nblocks = 1; nblocks <= MAX_BLOCKS; nblocks++) {
			memset(ks, 0xa5, sizeof(ks));
			kernel(c.round_keys, high, low, nblocks, ks);
			assert_memory_equal(ks, ref, 16 * nblocks);
			/* Nothing is written past the last block. */
			if (nblocks < MAX_BLOCKS)
				assert_int_equal(ks[16 * nblocks], 0xa5);
		}
		EVP_CIPHER_CTX_free(ctx);
	}
	crypto_engine_destroy(e);
}

static void
test_kernel_128bit_carry(void **state)
{
	(void)state;
	for_each_kernel(kernel_128bit_carry);
}

#define NCIRC 7

/* Byte offsets where circuits start: 0, unaligned, and just below the
 * 2^32-block (64 GiB) and 2^33-block boundaries so that cells straddle them,
 * including one whose first byte is mid-block. */
static const uint64_t start_offsets[NCIRC] = {
	0,
	509 * 3,
	(UINT64_C(1) << 36) - 509 * 2 - 7,
	(UINT64_C(1) << 36) - 100,
	(UINT64_C(1) << 37) - 509 * 4 + 3,
	UINT64_C(12345) * 509,
	(UINT64_C(1) << 36) + 1,
};

static void
stream_vs_evp(struct crypto_engine *e)
{
	struct relay_cipher ciphers[NCIRC];
	EVP_CIPHER_CTX *ref[NCIRC];
	uint8_t keys[NCIRC][16];
	int remaining[NCIRC];
	int total = 0;
	uint64_t rng = 99;

	for (int c = 0; c < NCIRC; c++) {
		test_fill(keys[c], 16, 1000 + c);
		relay_cipher_init(e, &ciphers[c], keys[c]);
		relay_cipher_seek(&ciphers[c], start_offsets[c]);
		ref[c] = evp_stream_at(keys[c], start_offsets[c]);
		remaining[c] = 2 * c + 1 + (c == 2 ? 8 : 0);	/* odd counts */
		total += remaining[c];
	}
	/* Bursts of varying size (1 .. 37, crossing the ipsec-mb chunk) of
	 * cells of random circuits in random order, repeats included. */
	while (total > 0) {
		struct relay_cipher *burst_ciphers[64];
		uint8_t *burst_payloads[64];
		static uint8_t data[64][PAYLOAD], expect[64][PAYLOAD];
		int n = 0, want;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		want = 1 + (int)((rng >> 33) % 37);
		while (n < want && total > 0) {
			int c;

			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			c = (int)((rng >> 33) % NCIRC);
			if (remaining[c] == 0)
				continue;
			remaining[c]--;
			total--;
			test_fill(data[n], PAYLOAD, rng);
			memcpy(expect[n], data[n], PAYLOAD);
			evp_crypt(ref[c], expect[n], PAYLOAD);
			burst_ciphers[n] = &ciphers[c];
			burst_payloads[n] = data[n];
			n++;
		}
		assert_int_equal(relay_crypt_burst(e, burst_ciphers, burst_payloads, (unsigned)n),
				 (unsigned)n);
		for (int i = 0; i < n; i++)
			assert_memory_equal(data[i], expect[i], PAYLOAD);
	}
	for (int c = 0; c < NCIRC; c++) {
		int cells = 2 * c + 1 + (c == 2 ? 8 : 0);

		assert_true(ciphers[c].offset == start_offsets[c] + (uint64_t)cells * PAYLOAD);
		EVP_CIPHER_CTX_free(ref[c]);
	}
}

static void
test_stream_matches_evp(void **state)
{
	(void)state;
	for_each_engine(stream_vs_evp);
}

/* Splice: equal to layer in[] then layer out[], with cells whose recognized
 * field decrypts to zero set aside after the first layer only. */
static void
splice_vs_evp(struct crypto_engine *e)
{
	enum { PAIRS = 5, CELLS = 41 };
	struct relay_cipher in[PAIRS], out[PAIRS];
	EVP_CIPHER_CTX *ref_in[PAIRS], *ref_out[PAIRS];
	struct relay_cipher *cin[CELLS], *cout[CELLS];
	uint8_t *payloads[CELLS];
	static uint8_t data[CELLS][PAYLOAD], expect[CELLS][PAYLOAD];
	bool recognized[CELLS], expect_recognized[CELLS];
	unsigned expect_set_aside = 0;
	uint8_t key[16];

	for (int p = 0; p < PAIRS; p++) {
		test_fill(key, 16, 50 + p);
		relay_cipher_init(e, &in[p], key);
		relay_cipher_seek(&in[p], start_offsets[p]);
		ref_in[p] = evp_stream_at(key, start_offsets[p]);
		test_fill(key, 16, 80 + p);
		relay_cipher_init(e, &out[p], key);
		relay_cipher_seek(&out[p], start_offsets[NCIRC - 1 - p]);
		ref_out[p] = evp_stream_at(key, start_offsets[NCIRC - 1 - p]);
	}
	for (int i = 0; i < CELLS; i++) {
		int p = (i * 3) % PAIRS;

		test_fill(data[i], PAYLOAD, 500 + i);
		memcpy(expect[i], data[i], PAYLOAD);
		evp_crypt(ref_in[p], expect[i], PAYLOAD);
		/* Every seventh cell is made to decrypt to recognized == 0. */
		expect_recognized[i] = i % 7 == 3;
		if (expect_recognized[i]) {
			data[i][1] ^= expect[i][1];
			data[i][2] ^= expect[i][2];
			expect[i][1] = 0;
			expect[i][2] = 0;
			expect_set_aside++;
		} else {
			evp_crypt(ref_out[p], expect[i], PAYLOAD);
		}
		cin[i] = &in[p];
		cout[i] = &out[p];
		payloads[i] = data[i];
	}
	assert_int_equal(relay_crypt_splice_burst(e, cin, cout, payloads, recognized, CELLS),
			 expect_set_aside);
	for (int i = 0; i < CELLS; i++) {
		assert_int_equal(recognized[i], expect_recognized[i]);
		assert_memory_equal(data[i], expect[i], PAYLOAD);
	}
	for (int p = 0; p < PAIRS; p++) {
		EVP_CIPHER_CTX_free(ref_in[p]);
		EVP_CIPHER_CTX_free(ref_out[p]);
	}
}

static void
test_splice_matches_two_layers(void **state)
{
	(void)state;
	for_each_engine(splice_vs_evp);
}

static void
sha1_prefix(const uint8_t *msg, size_t len, uint8_t out[4])
{
	uint8_t full[20];
	unsigned int outl;

	assert_int_equal(EVP_Digest(msg, len, full, &outl, EVP_sha1(), NULL), 1);
	memcpy(out, full, 4);
}

/* tor-spec "Routing relay cells": digest = first 4 bytes of SHA-1 over the
 * seed and every payload so far, each with its digest field zeroed. */
static void
test_digest_stamp_and_check(void **state)
{
	(void)state;
	uint8_t seed[20], cell1[PAYLOAD], cell2[PAYLOAD], transcript[20 + 2 * PAYLOAD];
	uint8_t want[4];
	struct relay_digest origin, hop;

	test_fill(seed, sizeof(seed), 3);
	test_fill(cell1, PAYLOAD, 4);
	test_fill(cell2, PAYLOAD, 5);
	relay_digest_init(&origin, seed);
	relay_digest_init(&hop, seed);

	relay_digest_stamp(&origin, cell1);
	assert_int_equal(cell1[1], 0);
	assert_int_equal(cell1[2], 0);
	memcpy(transcript, seed, 20);
	memcpy(transcript + 20, cell1, PAYLOAD);
	memset(transcript + 20 + 5, 0, 4);
	sha1_prefix(transcript, 20 + PAYLOAD, want);
	assert_memory_equal(cell1 + 5, want, 4);

	relay_digest_stamp(&origin, cell2);
	memcpy(transcript + 20 + PAYLOAD, cell2, PAYLOAD);
	memset(transcript + 20 + PAYLOAD + 5, 0, 4);
	sha1_prefix(transcript, 20 + 2 * PAYLOAD, want);
	assert_memory_equal(cell2 + 5, want, 4);

	/* A tampered copy of cell1 is refused and leaves the state alone... */
	uint8_t bad[PAYLOAD];

	memcpy(bad, cell1, PAYLOAD);
	bad[200] ^= 1;
	assert_false(relay_digest_check(&hop, bad));
	/* ...as is a cell whose recognized field is not zero. */
	memcpy(bad, cell1, PAYLOAD);
	bad[2] = 1;
	assert_false(relay_digest_check(&hop, bad));
	/* The genuine cells then verify in order, and not twice. */
	assert_true(relay_digest_check(&hop, cell1));
	assert_false(relay_digest_check(&hop, cell1));
	assert_true(relay_digest_check(&hop, cell2));

	/* The full current digest is SHA-1 of the whole transcript (the
	 * SENDME v1 tag), on both sides, and reading it changes nothing. */
	uint8_t full[20], got[20];
	unsigned int outl;

	assert_int_equal(EVP_Digest(transcript, 20 + 2 * PAYLOAD, full, &outl, EVP_sha1(), NULL),
			1);
	relay_digest_current(&origin, got);
	assert_memory_equal(got, full, 20);
	relay_digest_current(&hop, got);
	assert_memory_equal(got, full, 20);
	relay_digest_current(&hop, got);
	assert_memory_equal(got, full, 20);
	relay_digest_clear(&origin);
	relay_digest_clear(&hop);
}

/* End to end over one hop: the origin stamps and encrypts; the hop's splice
 * burst sets the cell aside as recognized and the digest accepts it. */
static void
recognized_end_to_end(struct crypto_engine *e)
{
	uint8_t key_f[16], seed_f[20], cell[PAYLOAD], plain[PAYLOAD];
	struct relay_cipher origin_f, hop_f, partner_b;
	struct relay_digest origin_d, hop_d;
	struct relay_cipher *in[1] = {&hop_f}, *out[1] = {&partner_b}, *o[1] = {&origin_f};
	uint8_t *payloads[1] = {cell};
	bool recognized[1];

	test_fill(key_f, 16, 11);
	test_fill(seed_f, 20, 12);
	relay_cipher_init(e, &origin_f, key_f);
	relay_cipher_init(e, &hop_f, key_f);
	relay_cipher_init(e, &partner_b, seed_f);
	relay_digest_init(&origin_d, seed_f);
	relay_digest_init(&hop_d, seed_f);

	test_fill(cell, PAYLOAD, 13);
	relay_digest_stamp(&origin_d, cell);
	memcpy(plain, cell, PAYLOAD);
	relay_crypt_burst(e, o, payloads, 1);
	assert_int_equal(relay_crypt_splice_burst(e, in, out, payloads, recognized, 1), 1);
	assert_true(recognized[0]);
	assert_memory_equal(cell, plain, PAYLOAD);
	assert_true(partner_b.offset == 0);
	assert_true(relay_digest_check(&hop_d, cell));
}

static void
test_recognized_end_to_end(void **state)
{
	(void)state;
	for_each_engine(recognized_end_to_end);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_paths),
		cmocka_unit_test(test_nist_ctr_vector),
		cmocka_unit_test(test_kernel_128bit_carry),
		cmocka_unit_test(test_stream_matches_evp),
		cmocka_unit_test(test_splice_matches_two_layers),
		cmocka_unit_test(test_digest_stamp_and_check),
		cmocka_unit_test(test_recognized_end_to_end),
	};

	return cmocka_run_group_tests_name("relay_crypto", tests, NULL, NULL);
}
