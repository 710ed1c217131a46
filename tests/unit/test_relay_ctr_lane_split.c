/* The VAES relay-CTR kernel's own logic (counter pairs, lane order, the odd
 * tail, the 128-bit carry, no write past the end) on CPUs without VAES: the
 * kernel is compiled here with each VAES round replaced by two AES-NI rounds,
 * one per lane, and compared with the AES-NI kernel and OpenSSL EVP. The VAES
 * instructions themselves run only on CPUs that have them, in
 * test_relay_crypto and in the engine's start-up self-test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <string.h>

#define RELAY_CTR_VAES_LANE_SPLIT 1
#include "crypto/relay_ctr_vaes.c"

#include "crypto/engine.h"
#include "crypto/relay_crypto.h"
#include "crypto/relay_ctr_aesni.h"
#include "tests/unit/test_util.h"

static void
test_lane_split_kernel_matches(void **state)
{
	(void)state;
	const struct crypto_cpu_features *f = crypto_cpu_features();
	static const uint64_t lows[] = {0, 5, UINT64_MAX - 4, UINT64_MAX, 0xfffffffe};
	uint8_t key[16], ks[16 * 41], ref[16 * 41], iv[16];
	struct crypto_engine *e;
	struct relay_cipher c;

	if (!(f->avx2 && f->aesni)) {
		print_message("skip: needs AVX2 and AES-NI\n");
		skip();
	}
	e = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AESNI);
	assert_non_null(e);
	for (int k = 0; k < 3; k++) {
		test_fill(key, sizeof(key), 40 + k);
		relay_cipher_init(e, &c, key);
		for (size_t l = 0; l < sizeof(lows) / sizeof(lows[0]); l++) {
			uint64_t high = k == 2 ? UINT64_C(0x0011223344556677) : 0;

			for (unsigned nblocks = 1; nblocks <= 40; nblocks++) {
				memset(ks, 0xa5, sizeof(ks));
				memset(ref, 0xa5, sizeof(ref));
				relay_ctr_vaes_keystream_lane_split(c.round_keys, high, lows[l], nblocks, ks);
				relay_ctr_aesni_keystream(c.round_keys, high, lows[l], nblocks, ref);
				assert_memory_equal(ks, ref, sizeof(ks));
			}
		}
	}
	/* And against EVP directly, across the 64-bit carry. */
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int outl;

	test_hex("0011223344556677fffffffffffffffb", iv, sizeof(iv));
	memset(ref, 0, sizeof(ref));
	EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, key, iv);
	EVP_EncryptUpdate(ctx, ref, &outl, ref, 16 * 33);
	relay_ctr_vaes_keystream_lane_split(c.round_keys, UINT64_C(0x0011223344556677),
					    UINT64_MAX - 4, 33, ks);
	assert_memory_equal(ks, ref, 16 * 33);
	EVP_CIPHER_CTX_free(ctx);
	crypto_engine_destroy(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lane_split_kernel_matches),
	};

	return cmocka_run_group_tests_name("relay_ctr_lane_split", tests, NULL, NULL);
}
