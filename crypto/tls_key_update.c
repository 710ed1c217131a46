/* TLS 1.3 post-handshake messages and KeyUpdate keys; see tls_key_update.h. */
#include "crypto/tls_key_update.h"

#include <errno.h>
#include <string.h>

#include "crypto/ct.h"
#include "crypto/engine_internal.h"

#define SHA256_LEN 32
#define SHA384_LEN 48
#define SHA256_BLOCK 64
#define SHA384_BLOCK 128
#define HANDSHAKE_HEADER_LEN 4
#define LABEL_PREFIX "tls13 "
#define LABEL_PREFIX_LEN 6
#define LABEL_MAX 32
/* HkdfLabel (RFC 8446 7.1): length(2) | label<7..255> | context<0..255>,
 * then HKDF-Expand's counter byte (RFC 5869 2.3). */
#define INFO_MAX (2 + 1 + LABEL_PREFIX_LEN + LABEL_MAX + 1 + 1)

int
tls_post_handshake_parse(const uint8_t **p, const uint8_t *end, bool *update_requested)
{
	const uint8_t *q = *p;

	if (q >= end)
		return -EPROTO;
	while (q < end) {
		uint32_t body;

		if (end - q < HANDSHAKE_HEADER_LEN) {
			*p = q;
			return -EPROTO;
		}
		body = (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
		if (q[0] == TLS_HANDSHAKE_KEY_UPDATE) {
			/* RFC 8446 4.6.3: struct { KeyUpdateRequest
			 * request_update; } is one byte, 0 or 1; anything else
			 * is a decode_error. */
			if (body != 1) {
				*p = q;
				return -EBADMSG;
			}
			if (end - q < HANDSHAKE_HEADER_LEN + 1) {
				*p = q;
				return -EPROTO;
			}
			if (q[4] > TLS_KEY_UPDATE_REQUESTED) {
				*p = q;
				return -EBADMSG;
			}
			*update_requested = q[4] == TLS_KEY_UPDATE_REQUESTED;
			q += HANDSHAKE_HEADER_LEN + 1;
			*p = q;
			/* RFC 8446 5.1: a key change must be at a record
			 * boundary. */
			return q == end ? TLS_POST_HANDSHAKE_KEY_UPDATE : -EPROTO;
		}
		if (q[0] != TLS_HANDSHAKE_NEW_SESSION_TICKET ||
		    body > (uint32_t)(end - q) - HANDSHAKE_HEADER_LEN) {
			*p = q;
			return -EPROTO;
		}
		q += HANDSHAKE_HEADER_LEN + body;
	}
	*p = q;
	return TLS_POST_HANDSHAKE_TICKETS;
}

static void
hash(struct crypto_engine *engine, unsigned hash_len, const uint8_t *data, unsigned len,
		uint8_t *out)
{
	if (hash_len == SHA256_LEN)
		IMB_SHA256(engine->mgr, data, len, out);
	else
		IMB_SHA384(engine->mgr, data, len, out);
}

/* HMAC (RFC 2104) with a key no longer than the hash's block, which every
 * traffic secret is, over at most INFO_MAX bytes (the callers' HkdfLabel). */
static void
hmac(struct crypto_engine *engine, unsigned hash_len, const uint8_t *key, unsigned key_len,
		const uint8_t *msg, unsigned msg_len, uint8_t *out)
{
	unsigned block = hash_len == SHA256_LEN ? SHA256_BLOCK : SHA384_BLOCK;
	/* the key block, then the message (inner) or the inner hash (outer) */
	uint8_t buf[SHA384_BLOCK + (INFO_MAX > SHA384_LEN ? INFO_MAX : SHA384_LEN)];
	uint8_t inner[SHA384_LEN];

	memset(buf, 0, block);
	memcpy(buf, key, key_len);
	for (unsigned i = 0; i < block; i++)
		buf[i] ^= 0x36;
	memcpy(buf + block, msg, msg_len);
	hash(engine, hash_len, buf, block + msg_len, inner);

	memset(buf, 0, block);
	memcpy(buf, key, key_len);
	for (unsigned i = 0; i < block; i++)
		buf[i] ^= 0x5c;
	memcpy(buf + block, inner, hash_len);
	hash(engine, hash_len, buf, block + hash_len, out);
	ct_wipe(buf, sizeof(buf));
	ct_wipe(inner, sizeof(inner));
}

int
tls_key_update_expand_label(struct crypto_engine *engine, const uint8_t *secret,
		unsigned secret_len, const char *label, uint8_t *out, unsigned out_len)
{
	uint8_t info[INFO_MAX], t1[SHA384_LEN];
	size_t label_len = label != NULL ? strlen(label) : 0;
	unsigned n = 0;

	if (engine == NULL || secret == NULL || out == NULL || label_len == 0 ||
	    label_len > LABEL_MAX || (secret_len != SHA256_LEN && secret_len != SHA384_LEN) ||
	    out_len == 0 || out_len > secret_len)
		return -EINVAL;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(LABEL_PREFIX_LEN + label_len);
	memcpy(info + n, LABEL_PREFIX, LABEL_PREFIX_LEN);
	n += LABEL_PREFIX_LEN;
	memcpy(info + n, label, label_len);
	n += (unsigned)label_len;
	info[n++] = 0;	/* empty context */
	/* HKDF-Expand (RFC 5869 2.3): out_len <= HashLen needs only
	 * T(1) = HMAC(PRK, info | 0x01). */
	info[n++] = 1;
	hmac(engine, secret_len, secret, secret_len, info, n, t1);
	memcpy(out, t1, out_len);
	ct_wipe(t1, sizeof(t1));
	return 0;
}

int
tls_key_update_next_secret(struct crypto_engine *engine, struct tls_traffic_secret *secret)
{
	uint8_t next[TLS_TRAFFIC_SECRET_MAX];
	int rc;

	if (secret == NULL)
		return -EINVAL;
	rc = tls_key_update_expand_label(engine, secret->bytes, secret->len, "traffic upd", next,
			secret->len);
	if (rc == 0)
		memcpy(secret->bytes, next, secret->len);
	ct_wipe(next, sizeof(next));
	return rc;
}

int
tls_key_update_apply(struct crypto_engine *engine, struct tls_record_dir *dir,
		struct tls_traffic_secret *secret)
{
	struct tls_traffic_secret next;
	uint8_t key[32], iv[12];
	int rc;

	if (engine == NULL || dir == NULL || secret == NULL ||
	    dir->version != TLS_RECORD_TLS13 ||
	    !((secret->len == SHA256_LEN && dir->key_len == 16) ||
	      (secret->len == SHA384_LEN && dir->key_len == 32)))
		return -EINVAL;
	next = *secret;
	rc = tls_key_update_next_secret(engine, &next);
	if (rc == 0)
		rc = tls_key_update_expand_label(engine, next.bytes, next.len, "key", key,
				dir->key_len);
	if (rc == 0)
		rc = tls_key_update_expand_label(engine, next.bytes, next.len, "iv", iv,
				sizeof(iv));
	/* RFC 8446 5.3: the sequence number restarts at 0 with each key. */
	if (rc == 0)
		rc = tls_record_dir_init(engine, dir, TLS_RECORD_TLS13, key, dir->key_len, iv,
				sizeof(iv), 0);
	if (rc == 0)
		*secret = next;
	ct_wipe(&next, sizeof(next));
	ct_wipe(key, sizeof(key));
	ct_wipe(iv, sizeof(iv));
	return rc;
}

void
tls_key_update_message(uint8_t out[TLS_KEY_UPDATE_MSG_LEN], bool update_requested)
{
	out[0] = TLS_HANDSHAKE_KEY_UPDATE;
	out[1] = 0;
	out[2] = 0;
	out[3] = 1;
	out[4] = update_requested ? TLS_KEY_UPDATE_REQUESTED : TLS_KEY_UPDATE_NOT_REQUESTED;
}

void
tls_traffic_secret_wipe(struct tls_traffic_secret *secret)
{
	ct_wipe(secret, sizeof(*secret));
}
