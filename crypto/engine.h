/* Per-thread crypto engine: CPU dispatch and the ipsec-mb manager.
 *
 * Every thread that runs fast-path crypto (each worker lcore, the control
 * thread, a bench or test) owns one engine. Engines are never shared, so the
 * batch APIs take no locks. The engine decides once, at creation, which code
 * path runs: the ipsec-mb architecture (SSE / AVX / AVX2 / AVX-512) and the
 * relay-cell CTR implementation. Tests force each path explicitly so that
 * the portable fallback is exercised on every machine.
 */
#ifndef HSRELAY_CRYPTO_ENGINE_H
#define HSRELAY_CRYPTO_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

/* ipsec-mb code path; also picks the GCM key-data layout, so keys prepared by
 * one engine are valid only for engines of the same architecture. */
enum crypto_arch {
	CRYPTO_ARCH_AUTO = 0,	/* best the CPU supports */
	CRYPTO_ARCH_SSE,
	CRYPTO_ARCH_AVX,
	CRYPTO_ARCH_AVX2,
	CRYPTO_ARCH_AVX512,
};

/* How relay cells (tor1 AES-128-CTR at arbitrary stream offsets) are
 * encrypted. */
enum relay_ctr_impl {
	RELAY_CTR_AUTO = 0,
	/* AES-NI kernel (crypto/relay_ctr_aesni.c): keystream for the whole cell
	 * in registers and L1, XORed in place at any offset. Needs AES-NI and
	 * SSE4.1. */
	RELAY_CTR_AESNI,
	/* Portable fallback: ipsec-mb CTR cipher burst writes keystream to a
	 * scratch buffer, then it is XORed at the cell's offset. */
	RELAY_CTR_IPSEC_MB,
	/* VAES kernel (crypto/relay_ctr_vaes.c): as RELAY_CTR_AESNI with two
	 * blocks per instruction in YMM registers. Needs VAES and AVX2. */
	RELAY_CTR_VAES,
	/* AVX-512 VAES kernel (crypto/relay_ctr_vaes512.c): four blocks per
	 * instruction in ZMM registers, a whole cell in flight, counters built
	 * in vector registers and the keystream XORed into the payload from the
	 * registers. Needs VAES, AVX-512 F/BW/VBMI and OS support for ZMM
	 * state. */
	RELAY_CTR_VAES512,
};

/* CPU features the dispatcher looks at. */
struct crypto_cpu_features {
	bool aesni, pclmul, sse41, avx, avx2, avx512f, avx512bw, avx512vl, avx512vbmi, vaes,
	     vpclmulqdq;
};

struct crypto_engine;

/* Reads the CPU features once (cpuid); cheap after the first call. */
const struct crypto_cpu_features *crypto_cpu_features(void);

/* True when this CPU can run the given architecture / implementation. */
bool crypto_arch_supported(enum crypto_arch arch);
bool relay_ctr_impl_supported(enum relay_ctr_impl impl);

/* Creates an engine for the calling thread. AUTO picks the best supported
 * path whose known-answer self-test passes on this CPU. Returns NULL (errno
 * set: ENOTSUP when a forced path is not supported by the CPU, EIO when a
 * forced relay CTR kernel fails its self-test, ENOMEM) on failure. Start-up
 * only: it allocates. */
struct crypto_engine *crypto_engine_create(enum crypto_arch arch, enum relay_ctr_impl ctr);
void crypto_engine_destroy(struct crypto_engine *engine);

enum crypto_arch crypto_engine_arch(const struct crypto_engine *engine);
enum relay_ctr_impl crypto_engine_relay_ctr(const struct crypto_engine *engine);
const char *crypto_arch_name(enum crypto_arch arch);
const char *relay_ctr_impl_name(enum relay_ctr_impl impl);

#endif
