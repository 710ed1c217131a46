/* VAES (VEX-256) keystream kernel for relay cells; internal to the crypto
 * module. Built with -mavx2 -mvaes -maes in its own library and only called
 * after crypto_engine_create() found VAES, AVX2 and OS support for YMM state.
 * Two AES blocks per instruction; the same contract as the AES-NI kernel. */
#ifndef HSRELAY_CRYPTO_RELAY_CTR_VAES_H
#define HSRELAY_CRYPTO_RELAY_CTR_VAES_H

#include <stdint.h>

/* Writes nblocks blocks of AES-128-CTR keystream to out for the 128-bit
 * big-endian counters (counter_high:counter_low) + 0, 1, ..., carrying into
 * the high half. */
void relay_ctr_vaes_keystream(const uint8_t round_keys[11][16], uint64_t counter_high,
			      uint64_t counter_low, unsigned nblocks, uint8_t *out);

#endif
