/* Engine layout shared by the crypto module's own files; not for users. */
#ifndef HSRELAY_CRYPTO_ENGINE_INTERNAL_H
#define HSRELAY_CRYPTO_ENGINE_INTERNAL_H

#include <intel-ipsec-mb.h>

#include "crypto/engine.h"

/* Enough keystream for one relay cell at any offset: 509 + 15 bytes rounded
 * up to whole AES blocks. */
#define RELAY_KEYSTREAM_SCRATCH 528

/* Cells whose keystream one ipsec-mb cipher burst generates; their scratch
 * (16 x 528 B) stays in L1. */
#define IPSEC_MB_CHUNK 16

struct crypto_engine {
	IMB_MGR *mgr;
	enum crypto_arch arch;
	enum relay_ctr_impl relay_ctr;
	/* Scratch for the ipsec-mb CTR path: one keystream buffer per cell of a
	 * chunk, and up to two jobs per cell (the 2^32-block split). */
	_Alignas(64) uint8_t keystream[IPSEC_MB_CHUNK][RELAY_KEYSTREAM_SCRATCH];
	IMB_JOB jobs[2 * IPSEC_MB_CHUNK];
};

/* Known-answer check of an in-register relay CTR kernel (RELAY_CTR_AESNI,
 * RELAY_CTR_VAES or RELAY_CTR_VAES512) on this CPU: the NIST SP 800-38A F.5.1
 * vector and, for the VAES kernels, agreement with the AES-NI kernel over
 * every tail shape and a 64-bit counter carry; for VAES512 also its fused
 * burst and splice paths on 16 cells (every offset % 16, across a 2^32-block
 * boundary). Uses engine->mgr for key expansion. */
bool relay_ctr_self_test(struct crypto_engine *engine, enum relay_ctr_impl impl);

#endif
