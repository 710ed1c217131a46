/* AES-NI keystream kernel for relay cells; internal to the crypto module.
 * Built with -maes -msse4.1 in its own library (crypto/meson.build) and only
 * called after crypto_engine_create() found AES-NI and SSE4.1. */
#ifndef HSRELAY_CRYPTO_RELAY_CTR_AESNI_H
#define HSRELAY_CRYPTO_RELAY_CTR_AESNI_H

#include <stdint.h>

/* Writes nblocks blocks of AES-128-CTR keystream to out, for the 128-bit
 * big-endian counter blocks (counter_high:counter_low), +1, +2, ... with a
 * full 128-bit carry (tor's CTR mode; unlike ipsec-mb 1.3, which carries only
 * within the low 32 bits). */
void relay_ctr_aesni_keystream(const uint8_t round_keys[11][16], uint64_t counter_high,
			       uint64_t counter_low, unsigned nblocks, uint8_t *out);

#endif
