/* AVX-512 VAES relay-cell kernel; internal to the crypto module. Built with
 * -mavx512f -mavx512bw -mavx512vbmi -mvaes in its own library and only called
 * after crypto_engine_create() found VAES, AVX-512 F/BW/VBMI, AES-NI and OS
 * support for ZMM state. Four AES blocks per instruction: a whole cell's
 * keystream (33 blocks) is in flight at once, counters are built in vector
 * registers, and the keystream is XORed into the payload straight from the
 * registers (no keystream buffer). */
#ifndef HSRELAY_CRYPTO_RELAY_CTR_VAES512_H
#define HSRELAY_CRYPTO_RELAY_CTR_VAES512_H

#include <stdbool.h>
#include <stdint.h>

struct relay_cipher;

/* Writes nblocks blocks of AES-128-CTR keystream to out for the 128-bit
 * big-endian counters (counter_high:counter_low) + 0, 1, ..., carrying into
 * the high half; nothing is written past the last block. The same contract
 * as the AES-NI and VAES kernels (tests and the start-up self-test). */
void relay_ctr_vaes512_keystream(const uint8_t round_keys[11][16], uint64_t counter_high,
				 uint64_t counter_low, unsigned nblocks, uint8_t *out);

/* relay_crypt_burst() on this kernel: one tor1 layer on n payloads (509
 * bytes each) in place, each cipher's offset advanced by 509 in array
 * order. */
void relay_ctr_vaes512_crypt_burst(struct relay_cipher *const ciphers[], uint8_t *const payloads[],
				   unsigned n);

/* relay_crypt_splice_burst() on this kernel: layer in[i], then, unless the
 * recognized field is zero after it (recognized[i] = true, out[i] not
 * advanced), layer out[i]. Returns the number of cells set aside. */
unsigned relay_ctr_vaes512_splice_burst(struct relay_cipher *const in[],
					struct relay_cipher *const out[], uint8_t *const payloads[],
					bool recognized[], unsigned n);

#endif
