#include "crypto/tls_record.h"

#include <emmintrin.h>
#include <errno.h>
#include <string.h>

#include "crypto/ct.h"
#include "crypto/engine_internal.h"

#define TLS_LEGACY_VERSION 0x0303
#define TLS12_AAD_LEN 13
/* RFC 8446 5.2: TLSCiphertext.length <= 2^14 + 256. */
#define TLS13_MAX_CIPHERTEXT (TLS_RECORD_MAX_PLAINTEXT + 256)

_Static_assert(TLS_RECORD_TAG_LEN == 16, "tags are compared with ct_equal16()");

/* The GCM entry points of one key size, picked once per record. */
struct gcm_ops {
	aes_gcm_enc_dec_t enc, dec;
	aes_gcm_init_t init;
	aes_gcm_enc_dec_update_t enc_update, dec_update;
	aes_gcm_enc_dec_finalize_t enc_finalize, dec_finalize;
};

static struct gcm_ops
gcm_ops_for(const struct crypto_engine *engine, unsigned key_len)
{
	IMB_MGR *m = engine->mgr;

	if (key_len == 32)
		return (struct gcm_ops){m->gcm256_enc, m->gcm256_dec, m->gcm256_init,
					m->gcm256_enc_update, m->gcm256_dec_update,
					m->gcm256_enc_finalize, m->gcm256_dec_finalize};
	return (struct gcm_ops){m->gcm128_enc, m->gcm128_dec, m->gcm128_init,
				m->gcm128_enc_update, m->gcm128_dec_update,
				m->gcm128_enc_finalize, m->gcm128_dec_finalize};
}

int
tls_record_dir_init(struct crypto_engine *engine, struct tls_record_dir *dir,
		    enum tls_record_version version, const uint8_t *key, unsigned key_len,
		    const uint8_t *iv, unsigned iv_len, uint64_t seq)
{
	unsigned want_iv = version == TLS_RECORD_TLS13 ? 12 : 4;

	if ((key_len != 16 && key_len != 32) || iv_len != want_iv ||
	    (version != TLS_RECORD_TLS12 && version != TLS_RECORD_TLS13))
		return -EINVAL;
	memset(dir, 0, sizeof(*dir));
	if (key_len == 16)
		IMB_AES128_GCM_PRE(engine->mgr, key, &dir->key);
	else
		IMB_AES256_GCM_PRE(engine->mgr, key, &dir->key);
	memcpy(dir->iv, iv, iv_len);
	dir->version = (uint8_t)version;
	dir->key_len = (uint8_t)key_len;
	dir->seq = seq;
	return 0;
}

void
tls_record_dir_clear(struct tls_record_dir *dir)
{
	ct_wipe(dir, sizeof(*dir));
}

static inline void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The per-record nonce: RFC 8446 5.3 (static IV XOR the padded sequence
 * number) or RFC 5288 3 (salt || explicit nonce; we send the sequence
 * number as the explicit nonce, as OpenSSL does). Written with one 16-byte
 * store (bytes 12-15 zero): ipsec-mb reads the IV with one wide load at the
 * start of the record's counter pipeline, and a nonce assembled from
 * narrower stores just before cannot be store-forwarded to that load, which
 * then waits for the stores to reach L1. Measured on an Emerald Rapids vCPU
 * with the AVX-512 GCM, sealing a 515-byte record: 86 ns with the nonce
 * written byte-wise, 64 ns with one store (ipsec-mb called directly). */
static void
record_nonce(const struct tls_record_dir *dir, const uint8_t explicit_nonce[8],
	     uint8_t nonce[16])
{
	uint32_t head;
	uint64_t tail;

	memcpy(&head, dir->iv, 4);
	if (dir->version == TLS_RECORD_TLS13) {
		/* Little-endian load of IV bytes 4-11 XOR the byte-swapped
		 * sequence number = bytewise XOR of the big-endian one. */
		memcpy(&tail, dir->iv + 4, 8);
		tail ^= __builtin_bswap64(dir->seq);
	} else {
		memcpy(&tail, explicit_nonce, 8);
	}
	_mm_store_si128((__m128i *)(void *)nonce,
			_mm_set_epi64x((long long)(tail >> 32),
				       (long long)((uint64_t)head | tail << 32)));
}

static void
tls12_aad(uint64_t seq, uint8_t type, uint16_t version, uint16_t plaintext_len,
	  uint8_t aad[TLS12_AAD_LEN])
{
	put_be64(aad, seq);
	aad[8] = type;
	put_be16(aad + 9, version);
	put_be16(aad + 11, plaintext_len);
}

static uint64_t
segments_len(const struct crypto_iov *segments, unsigned n)
{
	uint64_t len = 0;

	for (unsigned i = 0; i < n; i++)
		len += segments[i].len;
	return len;
}

/* Copies bytes [from, from + len) of the segment chain into out. */
static void
segments_read(const struct crypto_iov *segments, unsigned n, uint64_t from, uint8_t *out,
	      unsigned len)
{
	for (unsigned i = 0; i < n && len > 0; i++) {
		if (from >= segments[i].len) {
			from -= segments[i].len;
			continue;
		}
		unsigned take = segments[i].len - (unsigned)from;

		if (take > len)
			take = len;
		memcpy(out, segments[i].base + from, take);
		out += take;
		len -= take;
		from = 0;
	}
}

static int
seal_one(struct crypto_engine *engine, struct tls_record_seal *r)
{
	struct tls_record_dir *dir = r->dir;
	struct gcm_ops ops = gcm_ops_for(engine, dir->key_len);
	struct gcm_context_data ctx;
	uint64_t len = segments_len(r->segments, r->nb_segments);
	uint8_t nonce[16] __attribute__((aligned(16))), aad12[TLS12_AAD_LEN];
	const uint8_t *aad;
	uint64_t aad_len;
	uint8_t *tag;
	uint64_t inner_len;	/* bytes under encryption */
	bool tls13 = dir->version == TLS_RECORD_TLS13;

	if (len > TLS_RECORD_MAX_PLAINTEXT)
		return -EMSGSIZE;
	if (dir->seq == UINT64_MAX)
		return -EOVERFLOW;

	r->prefix[0] = tls13 ? TLS_CONTENT_APPLICATION_DATA : r->content_type;
	put_be16(r->prefix + 1, TLS_LEGACY_VERSION);
	if (tls13) {
		inner_len = len + 1;
		r->suffix[0] = r->content_type;
		tag = r->suffix + 1;
		put_be16(r->prefix + 3, (uint16_t)(inner_len + TLS_RECORD_TAG_LEN));
		aad = r->prefix;
		aad_len = TLS_RECORD_HEADER_LEN;
	} else {
		inner_len = len;
		tag = r->suffix;
		put_be16(r->prefix + 3, (uint16_t)(TLS_RECORD_EXPLICIT_NONCE_LEN + len +
						   TLS_RECORD_TAG_LEN));
		put_be64(r->prefix + TLS_RECORD_HEADER_LEN, dir->seq);
		tls12_aad(dir->seq, r->content_type, TLS_LEGACY_VERSION, (uint16_t)len, aad12);
		aad = aad12;
		aad_len = TLS12_AAD_LEN;
	}
	record_nonce(dir, r->prefix + TLS_RECORD_HEADER_LEN, nonce);

	if (r->nb_segments == 1 &&
	    (!tls13 || r->segments[0].base + r->segments[0].len == r->suffix)) {
		/* Common case: one contiguous buffer, one call. */
		ops.enc(&dir->key, &ctx, r->segments[0].base, r->segments[0].base, inner_len, nonce,
			aad, aad_len, tag, TLS_RECORD_TAG_LEN);
	} else {
		ops.init(&dir->key, &ctx, nonce, aad, aad_len);
		for (unsigned i = 0; i < r->nb_segments; i++)
			if (r->segments[i].len > 0)
				ops.enc_update(&dir->key, &ctx, r->segments[i].base,
					       r->segments[i].base, r->segments[i].len);
		if (tls13)
			ops.enc_update(&dir->key, &ctx, r->suffix, r->suffix, 1);
		ops.enc_finalize(&dir->key, &ctx, tag, TLS_RECORD_TAG_LEN);
	}
	dir->seq++;
	return 0;
}

unsigned
tls_record_seal_burst(struct crypto_engine *engine, struct tls_record_seal recs[], unsigned n)
{
	unsigned sealed = 0;

	for (unsigned i = 0; i < n; i++) {
		recs[i].status = seal_one(engine, &recs[i]);
		sealed += recs[i].status == 0;
	}
	return sealed;
}

/* Decrypts bytes [from, to) of the chain, streaming: in place, or into out
 * (which then receives byte `from` at out[0]). */
static void
decrypt_range(const struct gcm_ops *ops, struct tls_record_dir *dir,
	      struct gcm_context_data *ctx, const struct crypto_iov *segments, unsigned n,
	      uint64_t from, uint64_t to, uint8_t *out)
{
	uint64_t seg_start = 0;

	for (unsigned i = 0; i < n && seg_start < to; i++) {
		uint64_t seg_end = seg_start + segments[i].len;
		uint64_t a = from > seg_start ? from : seg_start;
		uint64_t b = to < seg_end ? to : seg_end;

		if (a < b) {
			uint8_t *src = segments[i].base + (a - seg_start);

			ops->dec_update(&dir->key, ctx, out != NULL ? out + (a - from) : src, src,
					b - a);
		}
		seg_start = seg_end;
	}
}

/* RFC 8446 5.4: the inner content type is the last non-zero byte of the
 * decrypted plaintext; zeros after it are padding. Returns its index, or -1
 * when the plaintext is all zeros. */
static int64_t
find_inner_type(const struct crypto_iov *segments, unsigned n, uint64_t end)
{
	uint64_t seg_start = segments_len(segments, n);

	for (unsigned i = n; i-- > 0;) {
		seg_start -= segments[i].len;
		if (seg_start >= end)
			continue;
		uint64_t last = end - seg_start < segments[i].len ? end - seg_start : segments[i].len;

		for (uint64_t j = last; j-- > 0;)
			if (segments[i].base[j] != 0)
				return (int64_t)(seg_start + j);
	}
	return -1;
}

static int
open_one(struct crypto_engine *engine, struct tls_record_open *r)
{
	struct tls_record_dir *dir = r->dir;
	struct gcm_ops ops = gcm_ops_for(engine, dir->key_len);
	struct gcm_context_data ctx;
	uint64_t body_len = segments_len(r->segments, r->nb_segments);
	uint16_t header_len = (uint16_t)(r->header[3] << 8 | r->header[4]);
	bool tls13 = dir->version == TLS_RECORD_TLS13;
	uint8_t explicit_nonce[TLS_RECORD_EXPLICIT_NONCE_LEN] = {0};
	uint8_t nonce[16] __attribute__((aligned(16))), aad12[TLS12_AAD_LEN], tag_rx[TLS_RECORD_TAG_LEN],
		tag[TLS_RECORD_TAG_LEN];
	const uint8_t *aad;
	uint64_t aad_len, start, ct_len;

	if (body_len != header_len)
		return -EMSGSIZE;
	if (dir->seq == UINT64_MAX)
		return -EOVERFLOW;
	if (tls13) {
		/* RFC 8446 5.2: protected records are always application_data
		 * on the outside and carry at least the inner type. */
		if (r->header[0] != TLS_CONTENT_APPLICATION_DATA)
			return -EPROTO;
		if (body_len < 1 + TLS_RECORD_TAG_LEN || body_len > TLS13_MAX_CIPHERTEXT)
			return -EMSGSIZE;
		start = 0;
		aad = r->header;
		aad_len = TLS_RECORD_HEADER_LEN;
	} else {
		if (body_len < TLS_RECORD_EXPLICIT_NONCE_LEN + TLS_RECORD_TAG_LEN ||
		    body_len - TLS_RECORD_EXPLICIT_NONCE_LEN - TLS_RECORD_TAG_LEN >
			    TLS_RECORD_MAX_PLAINTEXT)
			return -EMSGSIZE;
		start = TLS_RECORD_EXPLICIT_NONCE_LEN;
		segments_read(r->segments, r->nb_segments, 0, explicit_nonce,
			      TLS_RECORD_EXPLICIT_NONCE_LEN);
		tls12_aad(dir->seq, r->header[0], (uint16_t)(r->header[1] << 8 | r->header[2]),
			  (uint16_t)(body_len - start - TLS_RECORD_TAG_LEN), aad12);
		aad = aad12;
		aad_len = TLS12_AAD_LEN;
	}
	ct_len = body_len - start - TLS_RECORD_TAG_LEN;
	segments_read(r->segments, r->nb_segments, body_len - TLS_RECORD_TAG_LEN, tag_rx,
		      TLS_RECORD_TAG_LEN);
	record_nonce(dir, explicit_nonce, nonce);
	dir->seq++;

	if (r->nb_segments == 1) {
		uint8_t *ct = r->segments[0].base + start;

		ops.dec(&dir->key, &ctx, r->out != NULL ? r->out : ct, ct, ct_len, nonce, aad,
			aad_len, tag, TLS_RECORD_TAG_LEN);
	} else {
		ops.init(&dir->key, &ctx, nonce, aad, aad_len);
		decrypt_range(&ops, dir, &ctx, r->segments, r->nb_segments, start, start + ct_len,
			      r->out);
		ops.dec_finalize(&dir->key, &ctx, tag, TLS_RECORD_TAG_LEN);
	}
	if (!ct_equal16(tag, tag_rx))
		return -EBADMSG;

	r->plaintext_offset = r->out != NULL ? 0 : (uint32_t)start;
	if (tls13) {
		/* The plaintext view: out, or the segments (start is 0 in 1.3). */
		struct crypto_iov out_view = {r->out, (uint32_t)ct_len};
		const struct crypto_iov *view = r->out != NULL ? &out_view : r->segments;
		unsigned view_n = r->out != NULL ? 1 : r->nb_segments;
		int64_t type_at = find_inner_type(view, view_n, ct_len);

		if (type_at < 0)
			return -EPROTO;
		segments_read(view, view_n, (uint64_t)type_at, &r->content_type, 1);
		/* RFC 8446 5.4: the plaintext proper may not exceed 2^14. */
		if ((uint64_t)type_at > TLS_RECORD_MAX_PLAINTEXT)
			return -EMSGSIZE;
		r->plaintext_len = (uint32_t)type_at;
	} else {
		r->content_type = r->header[0];
		r->plaintext_len = (uint32_t)ct_len;
	}
	return 0;
}

unsigned
tls_record_open_burst(struct crypto_engine *engine, struct tls_record_open recs[], unsigned n)
{
	unsigned opened = 0;

	for (unsigned i = 0; i < n; i++) {
		recs[i].status = open_one(engine, &recs[i]);
		opened += recs[i].status == 0;
	}
	return opened;
}
