/* tls_record_open_burst on arbitrary bytes: the first byte picks TLS 1.2 or
 * 1.3, the key size, in place or out of place, and how the body is split
 * into segments; the next 5 bytes are the record header, the rest the body.
 * Nothing may crash or read out of bounds; a record that does open must
 * report a plaintext inside the body. Every 64th input is instead a record
 * sealed here from the input bytes, which must open to the same plaintext. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/engine.h"
#include "crypto/tls_record.h"

static struct crypto_engine *engine;

static void
open_and_check(const uint8_t *data, size_t size, uint8_t mode)
{
	static uint8_t body[TLS_RECORD_MAX_PLAINTEXT + 2048], out[TLS_RECORD_MAX_PLAINTEXT + 2048];
	static const uint8_t key[32] = {1, 2, 3}, iv[12] = {4, 5, 6};
	enum tls_record_version ver = mode & 1 ? TLS_RECORD_TLS13 : TLS_RECORD_TLS12;
	unsigned key_len = mode & 2 ? 32 : 16;
	struct tls_record_dir dir;
	struct crypto_iov segs[4];
	unsigned nseg = 1 + ((mode >> 2) & 3);
	size_t len, at = 0;
	uint8_t header[5];

	if (size < 5)
		return;
	memcpy(header, data, 5);
	len = size - 5;
	if (len > sizeof(body))
		len = sizeof(body);
	memcpy(body, data + 5, len);
	for (unsigned i = 0; i < nseg; i++) {
		size_t take = i + 1 == nseg ? len - at : (len - at) / (2 + i);

		segs[i] = (struct crypto_iov){body + at, (uint32_t)take};
		at += take;
	}
	tls_record_dir_init(engine, &dir, ver, key, key_len, iv, ver == TLS_RECORD_TLS13 ? 12 : 4,
			    (mode >> 4) & 3);
	struct tls_record_open o = {.dir = &dir, .header = header, .segments = segs,
				    .nb_segments = (uint16_t)nseg, .out = mode & 0x40 ? out : NULL};
	if (tls_record_open_burst(engine, &o, 1) == 1 &&
	    (uint64_t)o.plaintext_offset + o.plaintext_len > len)
		abort();
}

static void
seal_open_round_trip(const uint8_t *data, size_t size, uint8_t mode)
{
	static uint8_t rec[TLS_RECORD_MAX_PLAINTEXT + 64];
	static const uint8_t key[32] = {9}, iv[12] = {8};
	enum tls_record_version ver = mode & 1 ? TLS_RECORD_TLS13 : TLS_RECORD_TLS12;
	unsigned key_len = mode & 2 ? 32 : 16, prefix = tls_record_prefix_len(ver);
	struct tls_record_dir seal_dir, open_dir;
	size_t len = size > TLS_RECORD_MAX_PLAINTEXT ? TLS_RECORD_MAX_PLAINTEXT : size;

	tls_record_dir_init(engine, &seal_dir, ver, key, key_len, iv, ver == TLS_RECORD_TLS13 ? 12 : 4, 0);
	open_dir = seal_dir;
	memcpy(rec + prefix, data, len);
	struct crypto_iov seg = {rec + prefix, (uint32_t)len};
	struct tls_record_seal s = {.dir = &seal_dir, .prefix = rec, .segments = &seg, .nb_segments = 1,
				    .content_type = TLS_CONTENT_APPLICATION_DATA,
				    .suffix = rec + prefix + len};
	if (tls_record_seal_burst(engine, &s, 1) != 1)
		abort();
	struct crypto_iov body = {rec + 5, (uint32_t)(prefix - 5 + len + tls_record_suffix_len(ver))};
	struct tls_record_open o = {.dir = &open_dir, .header = rec, .segments = &body, .nb_segments = 1};
	if (tls_record_open_burst(engine, &o, 1) != 1 || o.plaintext_len != len ||
	    memcmp(rec + 5 + o.plaintext_offset, data, len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (engine == NULL) {
		engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
		if (engine == NULL)
			abort();
	}
	if (size < 1)
		return 0;
	if ((data[0] & 0x3f) == 0x3f)
		seal_open_round_trip(data + 1, size - 1, data[0]);
	else
		open_and_check(data + 1, size - 1, data[0]);
	return 0;
}
