#include "crypto/engine.h"

#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/engine_internal.h"

static struct crypto_cpu_features cpu_features;
static bool cpu_features_read;

static uint64_t
read_xcr0(void)
{
	uint32_t eax, edx;

	__asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
	return ((uint64_t)edx << 32) | eax;
}

const struct crypto_cpu_features *
crypto_cpu_features(void)
{
	unsigned int a, b, c, d;
	struct crypto_cpu_features f = {0};
	bool os_ymm = false, os_zmm = false;

	if (cpu_features_read)
		return &cpu_features;
	if (__get_cpuid(1, &a, &b, &c, &d)) {
		f.sse41 = c & bit_SSE4_1;
		f.aesni = c & bit_AES;
		f.pclmul = c & bit_PCLMUL;
		if ((c & bit_OSXSAVE) && (c & bit_AVX)) {
			uint64_t xcr0 = read_xcr0();

			/* The OS must save YMM (bits 1-2) and ZMM state
			 * (bits 5-7) before the wide registers may be used. */
			os_ymm = (xcr0 & 0x6) == 0x6;
			os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;
		}
		f.avx = os_ymm;
	}
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
		f.avx2 = os_ymm && (b & bit_AVX2);
		f.avx512f = os_zmm && (b & bit_AVX512F);
		f.avx512bw = os_zmm && (b & bit_AVX512BW);
		f.avx512vl = os_zmm && (b & bit_AVX512VL);
		f.avx512vbmi = os_zmm && (c & bit_AVX512VBMI);
		f.vaes = os_ymm && (c & bit_VAES);
		f.vpclmulqdq = os_ymm && (c & bit_VPCLMULQDQ);
	}
	cpu_features = f;
	cpu_features_read = true;
	return &cpu_features;
}

bool
crypto_arch_supported(enum crypto_arch arch)
{
	uint64_t have = imb_get_feature_flags();

	switch (arch) {
	case CRYPTO_ARCH_AUTO:
		return true;
	case CRYPTO_ARCH_SSE:
		return (have & IMB_CPUFLAGS_SSE) == IMB_CPUFLAGS_SSE;
	case CRYPTO_ARCH_AVX:
		return (have & IMB_CPUFLAGS_AVX) == IMB_CPUFLAGS_AVX;
	case CRYPTO_ARCH_AVX2:
		return (have & IMB_CPUFLAGS_AVX2) == IMB_CPUFLAGS_AVX2;
	case CRYPTO_ARCH_AVX512:
		return (have & IMB_CPUFLAGS_AVX512) == IMB_CPUFLAGS_AVX512;
	}
	return false;
}

bool
relay_ctr_impl_supported(enum relay_ctr_impl impl)
{
	const struct crypto_cpu_features *f = crypto_cpu_features();

	switch (impl) {
	case RELAY_CTR_AUTO:
	case RELAY_CTR_IPSEC_MB:
		return true;
	case RELAY_CTR_AESNI:
		return f->aesni && f->sse41;
	case RELAY_CTR_VAES:
		return f->aesni && f->avx2 && f->vaes;
	case RELAY_CTR_VAES512:
		/* avx512f etc. are only set when XCR0 shows the OS saves the
		 * opmask and ZMM state. */
		return f->aesni && f->vaes && f->avx512f && f->avx512bw && f->avx512vbmi;
	}
	return false;
}

/* ipsec-mb's AVX-512 code pays off with VAES and VPCLMULQDQ (4 blocks per
 * instruction). Without them it runs the same AES-NI rounds in 512-bit
 * registers, which lowers the clock of Skylake-class cores: measured on a
 * 2-vCPU Xeon (Skylake-SP class, no VAES), AES-128-GCM over 15935 bytes took
 * 0.72 ns/B with the AVX-512 manager and 0.48 ns/B with the AVX2 one. */
static enum crypto_arch
best_arch(void)
{
	static const enum crypto_arch order[] = {
		CRYPTO_ARCH_AVX512, CRYPTO_ARCH_AVX2, CRYPTO_ARCH_AVX, CRYPTO_ARCH_SSE,
	};
	const struct crypto_cpu_features *f = crypto_cpu_features();

	bool wide_aes = f->vaes && f->vpclmulqdq;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (order[i] == CRYPTO_ARCH_AVX512 && !wide_aes)
			continue;
		if (crypto_arch_supported(order[i]))
			return order[i];
	}
	/* ipsec-mb's SSE path without AES-NI emulates AES in software. */
	return CRYPTO_ARCH_SSE;
}

struct crypto_engine *
crypto_engine_create(enum crypto_arch arch, enum relay_ctr_impl ctr)
{
	struct crypto_engine *engine;
	uint64_t flags = 0;

	if (!crypto_arch_supported(arch) || !relay_ctr_impl_supported(ctr)) {
		errno = ENOTSUP;
		return NULL;
	}
	if (arch == CRYPTO_ARCH_AUTO)
		arch = best_arch();
	if (!crypto_cpu_features()->aesni)
		flags |= IMB_FLAG_AESNI_OFF;

	engine = aligned_alloc(64, sizeof(*engine));
	if (engine == NULL)
		return NULL;
	memset(engine, 0, sizeof(*engine));
	engine->mgr = alloc_mb_mgr(flags);
	if (engine->mgr == NULL) {
		free(engine);
		errno = ENOMEM;
		return NULL;
	}
	switch (arch) {
	case CRYPTO_ARCH_AVX512:
		init_mb_mgr_avx512(engine->mgr);
		break;
	case CRYPTO_ARCH_AVX2:
		init_mb_mgr_avx2(engine->mgr);
		break;
	case CRYPTO_ARCH_AVX:
		init_mb_mgr_avx(engine->mgr);
		break;
	case CRYPTO_ARCH_SSE:
	case CRYPTO_ARCH_AUTO:
		init_mb_mgr_sse(engine->mgr);
		break;
	}
	if (imb_get_errno(engine->mgr) != 0) {
		free_mb_mgr(engine->mgr);
		free(engine);
		errno = ENOTSUP;
		return NULL;
	}
	engine->arch = arch;
	/* The in-register kernels prove themselves on this CPU before use (the
	 * VAES kernel can only be run where VAES exists); on AUTO a kernel that
	 * fails falls back to the next path, a forced one fails creation. */
	if (ctr == RELAY_CTR_AUTO) {
		static const enum relay_ctr_impl order[] = {RELAY_CTR_VAES512, RELAY_CTR_VAES,
							    RELAY_CTR_AESNI};

		ctr = RELAY_CTR_IPSEC_MB;
		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			if (relay_ctr_impl_supported(order[i]) &&
			    relay_ctr_self_test(engine, order[i])) {
				ctr = order[i];
				break;
			}
		}
	} else if (ctr != RELAY_CTR_IPSEC_MB && !relay_ctr_self_test(engine, ctr)) {
		free_mb_mgr(engine->mgr);
		free(engine);
		errno = EIO;
		return NULL;
	}
	engine->relay_ctr = ctr;
	return engine;
}

void
crypto_engine_destroy(struct crypto_engine *engine)
{
	if (engine == NULL)
		return;
	free_mb_mgr(engine->mgr);
	/* The scratch held keystream. */
	memset(engine->keystream, 0, sizeof(engine->keystream));
	free(engine);
}

enum crypto_arch
crypto_engine_arch(const struct crypto_engine *engine)
{
	return engine->arch;
}

enum relay_ctr_impl
crypto_engine_relay_ctr(const struct crypto_engine *engine)
{
	return engine->relay_ctr;
}

const char *
crypto_arch_name(enum crypto_arch arch)
{
	switch (arch) {
	case CRYPTO_ARCH_AUTO: return "auto";
	case CRYPTO_ARCH_SSE: return "sse";
	case CRYPTO_ARCH_AVX: return "avx";
	case CRYPTO_ARCH_AVX2: return "avx2";
	case CRYPTO_ARCH_AVX512: return "avx512";
	}
	return "unknown";
}

const char *
relay_ctr_impl_name(enum relay_ctr_impl impl)
{
	switch (impl) {
	case RELAY_CTR_AUTO: return "auto";
	case RELAY_CTR_AESNI: return "aesni";
	case RELAY_CTR_IPSEC_MB: return "ipsec_mb";
	case RELAY_CTR_VAES: return "vaes";
	case RELAY_CTR_VAES512: return "vaes512";
	}
	return "unknown";
}
