/* TLS record AEAD: RFC 8448 TLS 1.3 records byte-exact, McGrew-Viega GCM
 * vectors on every ipsec-mb path, TLS 1.2 and 1.3 records cross-checked with
 * an independent OpenSSL EVP construction, records spanning segments, and
 * every rejection path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

#include "crypto/engine.h"
#include "crypto/engine_internal.h"
#include "crypto/tls_record.h"
#include "tests/unit/test_util.h"

static const enum crypto_arch arches[] = {
	CRYPTO_ARCH_SSE, CRYPTO_ARCH_AVX, CRYPTO_ARCH_AVX2, CRYPTO_ARCH_AVX512,
};

static void
for_each_arch(void (*fn)(struct crypto_engine *))
{
	int ran = 0;

	for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++) {
		struct crypto_engine *e;

		if (!crypto_arch_supported(arches[a])) {
			print_message("skip %s: not supported by this CPU\n", crypto_arch_name(arches[a]));
			continue;
		}
		e = crypto_engine_create(arches[a], RELAY_CTR_IPSEC_MB);
		assert_non_null(e);
		fn(e);
		crypto_engine_destroy(e);
		ran++;
	}
	assert_true(ran >= 1);
}

/* McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 3, 4
 * (AES-128) and 15, 16 (AES-256): the GCM entry points each engine uses. */
static void
mcgrew_viega(struct crypto_engine *e)
{
	static const char *keys[2] = {
		"feffe9928665731c6d6a8f9467308308",
		"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	};
	static const char *cts[2] = {
		"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
		"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
		"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
		"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	};
	static const char *tags_no_aad[2] = {
		"4d5c2af327cd64a62cf35abd2ba6fab4", "b094dac5d93471bdec1a502270e3cc6c",
	};
	static const char *tags_aad[2] = {
		"5bc94fbc3221a5db94fae95ae7121a47", "76fc6ece0f4e1768cddf8853bb2d551b",
	};
	uint8_t key[32], iv[12], pt[64], ct[64], aad[20], tag[16], out[64], got_tag[16];
	struct gcm_key_data kd __attribute__((aligned(64)));
	struct gcm_context_data ctx;

	test_hex("cafebabefacedbaddecaf888", iv, sizeof(iv));
	test_hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
		 "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
		 pt, sizeof(pt));
	test_hex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad, sizeof(aad));
	for (int k = 0; k < 2; k++) {
		size_t key_len = test_hex(keys[k], key, sizeof(key));

		test_hex(cts[k], ct, sizeof(ct));
		if (key_len == 16)
			IMB_AES128_GCM_PRE(e->mgr, key, &kd);
		else
			IMB_AES256_GCM_PRE(e->mgr, key, &kd);
		/* Test case 3 / 15: 64 bytes, no AAD. */
		test_hex(tags_no_aad[k], tag, sizeof(tag));
		if (key_len == 16)
			IMB_AES128_GCM_ENC(e->mgr, &kd, &ctx, out, pt, 64, iv, NULL, 0, got_tag, 16);
		else
			IMB_AES256_GCM_ENC(e->mgr, &kd, &ctx, out, pt, 64, iv, NULL, 0, got_tag, 16);
		assert_memory_equal(out, ct, 64);
		assert_memory_equal(got_tag, tag, 16);
		/* Test case 4 / 16: 60 bytes, 20 bytes of AAD. */
		test_hex(tags_aad[k], tag, sizeof(tag));
		if (key_len == 16)
			IMB_AES128_GCM_ENC(e->mgr, &kd, &ctx, out, pt, 60, iv, aad, 20, got_tag, 16);
		else
			IMB_AES256_GCM_ENC(e->mgr, &kd, &ctx, out, pt, 60, iv, aad, 20, got_tag, 16);
		assert_memory_equal(out, ct, 60);
		assert_memory_equal(got_tag, tag, 16);
	}
}

static void
test_gcm_vectors(void **state)
{
	(void)state;
	for_each_arch(mcgrew_viega);
}

/* RFC 8448 section 3: the client's application_data record (seq 0), the
 * server's (seq 1: the NewSessionTicket came first) and the client's
 * close_notify alert (seq 1). */
struct rfc8448_record {
	const char *key, *iv, *record;
	uint64_t seq;
	uint8_t type;
	const char *payload;
};

static const struct rfc8448_record rfc8448[] = {
	{"17422dda596ed5d9acd890e3c63f5051", "5b78923dee08579033e523d9",
	 "17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea 42 f9 14 aa"
	 "66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b 62 97 4e 1f 5a 62"
	 "92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4",
	 0, TLS_CONTENT_APPLICATION_DATA, NULL},
	{"9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984",
	 "17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc"
	 "32 25 d0 5f 82 aa 1b 36 e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8"
	 "fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d",
	 1, TLS_CONTENT_APPLICATION_DATA, NULL},
	{"17422dda596ed5d9acd890e3c63f5051", "5b78923dee08579033e523d9",
	 "17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3",
	 1, TLS_CONTENT_ALERT, "0100"},
};

static void
rfc8448_records(struct crypto_engine *e)
{
	for (size_t v = 0; v < sizeof(rfc8448) / sizeof(rfc8448[0]); v++) {
		const struct rfc8448_record *t = &rfc8448[v];
		uint8_t key[16], iv[12], wire[128], buf[128], payload[64];
		size_t wire_len = test_hex(t->record, wire, sizeof(wire));
		size_t payload_len;
		struct tls_record_dir dir;

		test_hex(t->key, key, sizeof(key));
		test_hex(t->iv, iv, sizeof(iv));
		if (t->payload != NULL) {
			payload_len = test_hex(t->payload, payload, sizeof(payload));
		} else {
			payload_len = 50;	/* 00 01 02 ... 31 */
			for (size_t i = 0; i < payload_len; i++)
				payload[i] = (uint8_t)i;
		}
		assert_int_equal(wire_len, 5 + payload_len + 1 + 16);

		/* Seal: byte-exact with the RFC. */
		assert_int_equal(tls_record_dir_init(e, &dir, TLS_RECORD_TLS13, key, 16, iv, 12, t->seq), 0);
		memcpy(buf + 5, payload, payload_len);
		struct crypto_iov seg = {buf + 5, (uint32_t)payload_len};
		struct tls_record_seal s = {
			.dir = &dir, .prefix = buf, .segments = &seg, .nb_segments = 1,
			.content_type = t->type, .suffix = buf + 5 + payload_len,
		};
		assert_int_equal(tls_record_seal_burst(e, &s, 1), 1);
		assert_int_equal(s.status, 0);
		assert_memory_equal(buf, wire, wire_len);
		assert_true(dir.seq == t->seq + 1);

		/* Open: the RFC's bytes decrypt to the payload. */
		assert_int_equal(tls_record_dir_init(e, &dir, TLS_RECORD_TLS13, key, 16, iv, 12, t->seq), 0);
		memcpy(buf, wire, wire_len);
		struct crypto_iov body = {buf + 5, (uint32_t)(wire_len - 5)};
		struct tls_record_open o = {.dir = &dir, .header = buf, .segments = &body, .nb_segments = 1};
		assert_int_equal(tls_record_open_burst(e, &o, 1), 1);
		assert_int_equal(o.status, 0);
		assert_int_equal(o.content_type, t->type);
		assert_int_equal(o.plaintext_len, payload_len);
		assert_memory_equal(buf + 5 + o.plaintext_offset, payload, payload_len);
	}
}

static void
test_rfc8448_records(void **state)
{
	(void)state;
	for_each_arch(rfc8448_records);
}

/* Independent reference: OpenSSL EVP AES-GCM with the nonce and AAD built
 * here from RFC 8446 5.2-5.3 / RFC 5246 6.2.3.3 + RFC 5288. Returns the
 * record length. */
static size_t
evp_seal_reference(enum tls_record_version v, const uint8_t *key, int key_len, const uint8_t *iv,
		   uint64_t seq, uint8_t type, const uint8_t *pt, size_t len, uint8_t *rec)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	const EVP_CIPHER *cipher = key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
	uint8_t nonce[12], aad[13];
	size_t aad_len, body, inner;
	uint8_t *ct;
	int outl;

	if (v == TLS_RECORD_TLS13) {
		memcpy(nonce, iv, 12);
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
		inner = len + 1;
		body = inner + 16;
		rec[0] = 23;
		rec[1] = 3;
		rec[2] = 3;
		rec[3] = (uint8_t)(body >> 8);
		rec[4] = (uint8_t)body;
		memcpy(aad, rec, 5);
		aad_len = 5;
		ct = rec + 5;
		memcpy(ct, pt, len);
		ct[len] = type;
	} else {
		memcpy(nonce, iv, 4);
		for (int i = 0; i < 8; i++)
			nonce[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
		inner = len;
		body = 8 + len + 16;
		rec[0] = type;
		rec[1] = 3;
		rec[2] = 3;
		rec[3] = (uint8_t)(body >> 8);
		rec[4] = (uint8_t)body;
		memcpy(rec + 5, nonce + 4, 8);
		for (int i = 0; i < 8; i++)
			aad[i] = (uint8_t)(seq >> (56 - 8 * i));
		aad[8] = type;
		aad[9] = 3;
		aad[10] = 3;
		aad[11] = (uint8_t)(len >> 8);
		aad[12] = (uint8_t)len;
		aad_len = 13;
		ct = rec + 13;
		memcpy(ct, pt, len);
	}
	assert_int_equal(EVP_EncryptInit_ex(ctx, cipher, NULL, key, nonce), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aad_len), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, ct, &outl, ct, (int)inner), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, ct + inner, &outl), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, ct + inner), 1);
	EVP_CIPHER_CTX_free(ctx);
	return 5 + body;
}

/* Splits [base, base + len) into nseg segments at pseudo-random points
 * (some of them empty). */
static unsigned
split_segments(uint8_t *base, size_t len, unsigned nseg, uint64_t seed, struct crypto_iov *segs)
{
	size_t at = 0;

	for (unsigned i = 0; i < nseg; i++) {
		size_t take;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		take = i + 1 == nseg ? len - at : (size_t)((seed >> 33) % (len - at + 1));
		segs[i].base = base + at;
		segs[i].len = (uint32_t)take;
		at += take;
	}
	return nseg;
}

static uint8_t pt_buf[TLS_RECORD_MAX_PLAINTEXT + 1], out_buf[TLS_RECORD_MAX_PLAINTEXT + 1], rec_buf[TLS_RECORD_MAX_PLAINTEXT + 64],
	ref_buf[TLS_RECORD_MAX_PLAINTEXT + 64];

static void
records_vs_evp(struct crypto_engine *e)
{
	static const size_t lengths[] = {0, 1, 15, 16, 17, 514, 515, 4113, 15934, 16384};
	static const unsigned nsegs[] = {1, 2, 3, 7};

	for (int v = 0; v < 2; v++) {
		enum tls_record_version ver = v ? TLS_RECORD_TLS13 : TLS_RECORD_TLS12;

		for (int k = 0; k < 2; k++) {
			unsigned key_len = k ? 32 : 16, iv_len = v ? 12 : 4;
			uint8_t key[32], iv[12];
			struct tls_record_dir seal_dir, open_dir, copy_dir;
			uint64_t seq0 = v ? 0x0102030405060708ull : 77;

			test_fill(key, sizeof(key), 20 + v * 2 + k);
			test_fill(iv, sizeof(iv), 30 + v * 2 + k);
			assert_int_equal(tls_record_dir_init(e, &seal_dir, ver, key, key_len, iv, iv_len, seq0), 0);
			assert_int_equal(tls_record_dir_init(e, &open_dir, ver, key, key_len, iv, iv_len, seq0), 0);
			assert_int_equal(tls_record_dir_init(e, &copy_dir, ver, key, key_len, iv, iv_len, seq0), 0);
			for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++) {
				for (size_t s = 0; s < sizeof(nsegs) / sizeof(nsegs[0]); s++) {
					size_t len = lengths[l];
					unsigned prefix = tls_record_prefix_len(ver);
					uint64_t seq = seal_dir.seq;
					struct crypto_iov segs[8];
					size_t ref_len;

					test_fill(pt_buf, len, len * 31 + s);
					ref_len = evp_seal_reference(ver, key, (int)key_len, iv, seq,
								     TLS_CONTENT_APPLICATION_DATA, pt_buf,
								     len, ref_buf);
					assert_int_equal(ref_len, prefix + len + tls_record_suffix_len(ver));

					memcpy(rec_buf + prefix, pt_buf, len);
					split_segments(rec_buf + prefix, len, nsegs[s], seq, segs);
					struct tls_record_seal rs = {
						.dir = &seal_dir, .prefix = rec_buf, .segments = segs,
						.nb_segments = (uint16_t)nsegs[s],
						.content_type = TLS_CONTENT_APPLICATION_DATA,
						.suffix = rec_buf + prefix + len,
					};
					assert_int_equal(tls_record_seal_burst(e, &rs, 1), 1);
					assert_memory_equal(rec_buf, ref_buf, ref_len);

					/* Open the reference record, split differently:
					 * first out of place (the record stays intact),
					 * then in place. */
					split_segments(ref_buf + 5, ref_len - 5, nsegs[s], seq + 1, segs);
					struct tls_record_open rc = {
						.dir = &copy_dir, .header = ref_buf, .segments = segs,
						.nb_segments = (uint16_t)nsegs[s], .out = out_buf,
					};
					assert_int_equal(tls_record_open_burst(e, &rc, 1), 1);
					assert_int_equal(rc.status, 0);
					assert_int_equal(rc.plaintext_offset, 0);
					assert_int_equal(rc.plaintext_len, len);
					assert_int_equal(rc.content_type, TLS_CONTENT_APPLICATION_DATA);
					assert_memory_equal(out_buf, pt_buf, len);
					assert_memory_equal(ref_buf, rec_buf, ref_len);
					struct tls_record_open ro = {
						.dir = &open_dir, .header = ref_buf, .segments = segs,
						.nb_segments = (uint16_t)nsegs[s],
					};
					assert_int_equal(tls_record_open_burst(e, &ro, 1), 1);
					assert_int_equal(ro.status, 0);
					assert_int_equal(ro.content_type, TLS_CONTENT_APPLICATION_DATA);
					assert_int_equal(ro.plaintext_len, len);
					assert_int_equal(ro.plaintext_offset, prefix - 5);
					assert_memory_equal(ref_buf + prefix, pt_buf, len);
				}
			}
		}
	}
}

static void
test_records_match_evp(void **state)
{
	(void)state;
	for_each_arch(records_vs_evp);
}

/* A burst of records of several connections; one per connection sealed in
 * array order, so sequence numbers follow. */
static void
test_burst_mixed(void **state)
{
	(void)state;
	struct crypto_engine *e = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	struct tls_record_dir dirs[3], opens[3];
	static uint8_t recs[6][600];
	struct crypto_iov segs[6], bodies[6];
	struct tls_record_seal s[6];
	struct tls_record_open o[6];
	uint8_t key[16], iv[12];

	for (int d = 0; d < 3; d++) {
		enum tls_record_version ver = d == 1 ? TLS_RECORD_TLS12 : TLS_RECORD_TLS13;

		test_fill(key, 16, 60 + d);
		test_fill(iv, 12, 70 + d);
		tls_record_dir_init(e, &dirs[d], ver, key, 16, iv, ver == TLS_RECORD_TLS13 ? 12 : 4, 0);
		tls_record_dir_init(e, &opens[d], ver, key, 16, iv, ver == TLS_RECORD_TLS13 ? 12 : 4, 0);
	}
	for (int i = 0; i < 6; i++) {
		struct tls_record_dir *d = &dirs[i % 3];
		unsigned prefix = tls_record_prefix_len(d->version);

		test_fill(recs[i] + prefix, 514, 90 + i);
		segs[i] = (struct crypto_iov){recs[i] + prefix, 514};
		s[i] = (struct tls_record_seal){
			.dir = d, .prefix = recs[i], .segments = &segs[i], .nb_segments = 1,
			.content_type = TLS_CONTENT_APPLICATION_DATA, .suffix = recs[i] + prefix + 514,
		};
	}
	assert_int_equal(tls_record_seal_burst(e, s, 6), 6);
	for (int d = 0; d < 3; d++)
		assert_true(dirs[d].seq == 2);
	for (int i = 0; i < 6; i++) {
		unsigned len = (unsigned)(recs[i][3] << 8 | recs[i][4]);

		bodies[i] = (struct crypto_iov){recs[i] + 5, len};
		o[i] = (struct tls_record_open){.dir = &opens[i % 3], .header = recs[i],
						.segments = &bodies[i], .nb_segments = 1};
	}
	/* Corrupt one record: only it fails. */
	recs[4][100] ^= 0x80;
	assert_int_equal(tls_record_open_burst(e, o, 6), 5);
	for (int i = 0; i < 6; i++)
		assert_int_equal(o[i].status, i == 4 ? -EBADMSG : 0);
	crypto_engine_destroy(e);
}

/* Every rejection: bad tag, bad AAD (header), wrong length, too short,
 * oversize, all-zero TLS 1.3 inner plaintext, wrong outer type, sequence
 * exhaustion, bad key or IV sizes. */
static void
test_rejections(void **state)
{
	(void)state;
	struct crypto_engine *e = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	struct tls_record_dir dir;
	uint8_t key[16] = {1}, iv[12] = {2};
	static uint8_t rec[TLS_RECORD_MAX_PLAINTEXT + 512];
	struct crypto_iov body;
	struct tls_record_open o;
	size_t len;

	assert_int_equal(tls_record_dir_init(e, &dir, TLS_RECORD_TLS13, key, 24, iv, 12, 0), -EINVAL);
	assert_int_equal(tls_record_dir_init(e, &dir, TLS_RECORD_TLS13, key, 16, iv, 4, 0), -EINVAL);
	assert_int_equal(tls_record_dir_init(e, &dir, TLS_RECORD_TLS12, key, 16, iv, 12, 0), -EINVAL);

#define OPEN_EXPECT(ver, seq, wire_len, want)                                                 \
	do {                                                                                  \
		tls_record_dir_init(e, &dir, (ver), key, 16, iv, (ver) == TLS_RECORD_TLS13 ? 12 : 4, \
				    (seq));                                                   \
		body = (struct crypto_iov){rec + 5, (uint32_t)((wire_len) - 5)};              \
		o = (struct tls_record_open){.dir = &dir, .header = rec, .segments = &body,   \
					     .nb_segments = 1};                               \
		assert_int_equal(tls_record_open_burst(e, &o, 1), (want) == 0);               \
		assert_int_equal(o.status, (want));                                           \
	} while (0)

	uint8_t pt[40] = {0};

	/* Bad tag. */
	len = evp_seal_reference(TLS_RECORD_TLS13, key, 16, iv, 0, 23, pt, 40, rec);
	rec[len - 1] ^= 1;
	OPEN_EXPECT(TLS_RECORD_TLS13, 0, len, -EBADMSG);
	/* Wrong sequence number: the nonce differs. */
	len = evp_seal_reference(TLS_RECORD_TLS13, key, 16, iv, 0, 23, pt, 40, rec);
	OPEN_EXPECT(TLS_RECORD_TLS13, 1, len, -EBADMSG);
	/* Outer type other than application_data. */
	len = evp_seal_reference(TLS_RECORD_TLS13, key, 16, iv, 0, 23, pt, 40, rec);
	rec[0] = 22;
	OPEN_EXPECT(TLS_RECORD_TLS13, 0, len, -EPROTO);
	/* Header length disagrees with the body. */
	len = evp_seal_reference(TLS_RECORD_TLS13, key, 16, iv, 0, 23, pt, 40, rec);
	OPEN_EXPECT(TLS_RECORD_TLS13, 0, len - 1, -EMSGSIZE);
	/* Too short to hold a tag and the inner type. */
	rec[3] = 0;
	rec[4] = 16;
	OPEN_EXPECT(TLS_RECORD_TLS13, 0, 21, -EMSGSIZE);
	/* All-zero inner plaintext: no content type (RFC 8446 5.4). */
	len = evp_seal_reference(TLS_RECORD_TLS13, key, 16, iv, 0, 0, pt, 40, rec);
	OPEN_EXPECT(TLS_RECORD_TLS13, 0, len, -EPROTO);
	/* Inner plaintext over 2^14 (padding allowed, content not). */
	len = evp_seal_reference(TLS_RECORD_TLS13, key, 16, iv, 0, 23, pt_buf,
				 TLS_RECORD_MAX_PLAINTEXT + 1, rec);
	OPEN_EXPECT(TLS_RECORD_TLS13, 0, len, -EMSGSIZE);
	/* TLS 1.2: bad tag, modified type in the AAD, too long, too short. */
	len = evp_seal_reference(TLS_RECORD_TLS12, key, 16, iv, 5, 23, pt, 40, rec);
	rec[20] ^= 4;
	OPEN_EXPECT(TLS_RECORD_TLS12, 5, len, -EBADMSG);
	len = evp_seal_reference(TLS_RECORD_TLS12, key, 16, iv, 5, 23, pt, 40, rec);
	rec[0] = 21;
	OPEN_EXPECT(TLS_RECORD_TLS12, 5, len, -EBADMSG);
	len = evp_seal_reference(TLS_RECORD_TLS12, key, 16, iv, 5, 23, pt_buf,
				 TLS_RECORD_MAX_PLAINTEXT + 1, rec);
	OPEN_EXPECT(TLS_RECORD_TLS12, 5, len, -EMSGSIZE);
	rec[3] = 0;
	rec[4] = 23;
	OPEN_EXPECT(TLS_RECORD_TLS12, 5, 28, -EMSGSIZE);
	/* Sequence number exhausted, both ways. */
	len = evp_seal_reference(TLS_RECORD_TLS13, key, 16, iv, UINT64_MAX, 23, pt, 40, rec);
	OPEN_EXPECT(TLS_RECORD_TLS13, UINT64_MAX, len, -EOVERFLOW);

	struct crypto_iov seg = {rec + 5, 40};
	struct tls_record_seal s = {.dir = &dir, .prefix = rec, .segments = &seg, .nb_segments = 1,
				    .content_type = 23, .suffix = rec + 45};

	tls_record_dir_init(e, &dir, TLS_RECORD_TLS13, key, 16, iv, 12, UINT64_MAX);
	assert_int_equal(tls_record_seal_burst(e, &s, 1), 0);
	assert_int_equal(s.status, -EOVERFLOW);
	/* Plaintext over 2^14 is refused before anything is written. */
	tls_record_dir_init(e, &dir, TLS_RECORD_TLS13, key, 16, iv, 12, 0);
	seg.len = TLS_RECORD_MAX_PLAINTEXT + 1;
	s.suffix = rec + 5 + seg.len;
	assert_int_equal(tls_record_seal_burst(e, &s, 1), 0);
	assert_int_equal(s.status, -EMSGSIZE);
	assert_true(dir.seq == 0);
	tls_record_dir_clear(&dir);
	crypto_engine_destroy(e);
#undef OPEN_EXPECT
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcm_vectors),
		cmocka_unit_test(test_rfc8448_records),
		cmocka_unit_test(test_records_match_evp),
		cmocka_unit_test(test_burst_mixed),
		cmocka_unit_test(test_rejections),
	};

	return cmocka_run_group_tests_name("tls_record", tests, NULL, NULL);
}
