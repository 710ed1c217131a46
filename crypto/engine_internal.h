/* Engine layout shared by the crypto module's own files; not for users. */
#ifndef HSRELAY_CRYPTO_ENGINE_INTERNAL_H
#define HSRELAY_CRYPTO_ENGINE_INTERNAL_H

#include <intel-ipsec-mb.h>

#include "crypto/engine.h"

/* Enough keystream for one relay cell at any offset: 509 + 15 bytes rounded
 * up to whole AES blocks. */
#define RELAY_KEYSTREAM_SCRATCH 528

struct crypto_engine {
	IMB_MGR *mgr;
	enum crypto_arch arch;
	enum relay_ctr_impl relay_ctr;
	/* Scratch for the ipsec-mb CTR path: one keystream buffer per job of a
	 * cipher burst. */
	_Alignas(64) uint8_t keystream[IMB_MAX_BURST_SIZE][RELAY_KEYSTREAM_SCRATCH];
	IMB_JOB jobs[IMB_MAX_BURST_SIZE];
};

/* Known-answer check of an in-register relay CTR kernel (RELAY_CTR_AESNI or
 * RELAY_CTR_VAES) on this CPU: the NIST SP 800-38A F.5.1 vector and, for
 * VAES, agreement with the AES-NI kernel over every tail shape and a 64-bit
 * counter carry. Uses engine->mgr for key expansion. */
bool relay_ctr_self_test(struct crypto_engine *engine, enum relay_ctr_impl impl);

#endif
