/* Directory authority key certificates (dir-spec 3.1). */
#include "control/authority_cert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/rsa_identity.h"

/* Largest RSA signature we accept: 4096 bits. */
#define SIGNATURE_MAX 512

struct authority_cert {
	uint8_t identity_digest[AUTHORITY_CERT_DIGEST_LEN];
	uint8_t signing_key_digest[AUTHORITY_CERT_DIGEST_LEN];
	uint8_t signed_digest[AUTHORITY_CERT_DIGEST_LEN];
	time_t published;
	time_t expires;
	bool has_dir_address;
	uint32_t dir_ipv4;
	uint16_t dir_port;
	struct rsa_identity *identity_key;
	struct rsa_identity *signing_key;
	size_t crosscert_len;
	uint8_t crosscert[SIGNATURE_MAX];
	size_t certification_len;
	uint8_t certification[SIGNATURE_MAX];
};

enum cert_item {
	ITEM_VERSION,
	ITEM_ADDRESS,
	ITEM_FINGERPRINT,
	ITEM_PUBLISHED,
	ITEM_EXPIRES,
	ITEM_IDENTITY_KEY,
	ITEM_SIGNING_KEY,
	ITEM_CROSSCERT,
	ITEM_CERTIFICATION,
	ITEM_COUNT,
	ITEM_UNKNOWN = ITEM_COUNT,
};

static const char *const item_keywords[ITEM_COUNT] = {
	[ITEM_VERSION] = "dir-key-certificate-version",
	[ITEM_ADDRESS] = "dir-address",
	[ITEM_FINGERPRINT] = "fingerprint",
	[ITEM_PUBLISHED] = "dir-key-published",
	[ITEM_EXPIRES] = "dir-key-expires",
	[ITEM_IDENTITY_KEY] = "dir-identity-key",
	[ITEM_SIGNING_KEY] = "dir-signing-key",
	[ITEM_CROSSCERT] = "dir-key-crosscert",
	[ITEM_CERTIFICATION] = "dir-key-certification",
};

static enum cert_item
classify(const struct dirdoc_item *item)
{
	for (unsigned i = 0; i < ITEM_COUNT; i++)
		if (dirdoc_keyword_is(item, item_keywords[i]))
			return (enum cert_item)i;
	return ITEM_UNKNOWN;
}

void
authority_cert_free(struct authority_cert *cert)
{
	if (cert == NULL)
		return;
	rsa_identity_free(cert->identity_key);
	rsa_identity_free(cert->signing_key);
	free(cert);
}

static int
sha1(const uint8_t *data, size_t len, uint8_t out[AUTHORITY_CERT_DIGEST_LEN])
{
	return EVP_Digest(data, len, out, NULL, EVP_sha1(), NULL) == 1 ?
		0 : -EIO;
}

/* Decodes an "RSA PUBLIC KEY" object into *key and its SHA-1 into digest. */
static int
parse_key(const struct dirdoc_item *item, struct rsa_identity **key,
		uint8_t digest[AUTHORITY_CERT_DIGEST_LEN],
		struct dirdoc_error *err)
{
	uint8_t der[RSA_PUBLIC_DER_MAX];
	ssize_t len;
	int bits;
	int rc;

	if (item->args.len != 0)
		return dirdoc_fail(err, item->line, -EPROTO,
				"%.*s takes no arguments",
				(int)item->keyword.len, item->keyword.ptr);
	len = dirdoc_object_decode(item, "RSA PUBLIC KEY", der, sizeof(der));
	if (len < 0)
		return dirdoc_fail(err, item->line, -EPROTO,
				"%.*s needs an RSA PUBLIC KEY object",
				(int)item->keyword.len, item->keyword.ptr);
	rc = rsa_identity_from_public_der(der, (size_t)len, key);
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0)
		return dirdoc_fail(err, item->line, -EPROTO,
				"unparseable RSA key");
	bits = rsa_identity_bits(*key);
	if (bits < AUTHORITY_CERT_MIN_KEY_BITS ||
			bits > AUTHORITY_CERT_MAX_KEY_BITS)
		return dirdoc_fail(err, item->line, -EPROTO,
				"RSA key of %d bits", bits);
	rc = rsa_identity_fingerprint(*key, digest);
	return rc;
}

static int
parse_signature(const struct dirdoc_item *item, bool allow_id_type,
		uint8_t *out, size_t *out_len, struct dirdoc_error *err)
{
	ssize_t len;

	if (item->args.len != 0)
		return dirdoc_fail(err, item->line, -EPROTO,
				"%.*s takes no arguments",
				(int)item->keyword.len, item->keyword.ptr);
	/* dir-spec 3.1: the cross-certificate is wrapped as "ID SIGNATURE";
	 * the "ID " may be omitted. */
	if (!item->has_object ||
			!(dirdoc_span_is(item->object_type, "SIGNATURE") ||
			(allow_id_type &&
			dirdoc_span_is(item->object_type, "ID SIGNATURE"))))
		return dirdoc_fail(err, item->line, -EPROTO,
				"%.*s needs a SIGNATURE object",
				(int)item->keyword.len, item->keyword.ptr);
	len = dirdoc_object_decode(item, NULL, out, SIGNATURE_MAX);
	if (len <= 0)
		return dirdoc_fail(err, item->line, -EPROTO,
				"bad signature object");
	*out_len = (size_t)len;
	return 0;
}

static int
parse_dir_address(const struct dirdoc_item *item, struct authority_cert *cert,
		struct dirdoc_error *err)
{
	struct dirdoc_span args = item->args;
	struct dirdoc_span arg;
	const uint8_t *colon;
	struct dirdoc_span ip, port;
	int64_t port_value;

	if (!dirdoc_next_arg(&args, &arg) ||
			(colon = memchr(arg.ptr, ':', arg.len)) == NULL)
		return dirdoc_fail(err, item->line, -EPROTO, "bad dir-address");
	ip.ptr = arg.ptr;
	ip.len = (size_t)(colon - arg.ptr);
	port.ptr = colon + 1;
	port.len = arg.len - ip.len - 1;
	if (dirdoc_parse_ipv4(ip, &cert->dir_ipv4) != 0 ||
			dirdoc_parse_int(port, 0, 65535, &port_value) != 0)
		return dirdoc_fail(err, item->line, -EPROTO, "bad dir-address");
	cert->dir_port = (uint16_t)port_value;
	cert->has_dir_address = true;
	return 0;
}

/* Fills cert from one item; the version item was checked by the caller. */
static int
parse_item(const struct dirdoc_item *item, enum cert_item kind,
		struct authority_cert *cert,
		uint8_t declared_fingerprint[AUTHORITY_CERT_DIGEST_LEN],
		struct dirdoc_error *err)
{
	struct dirdoc_span args = item->args;
	struct dirdoc_span arg;

	if (kind != ITEM_IDENTITY_KEY && kind != ITEM_SIGNING_KEY &&
			kind != ITEM_CROSSCERT && kind != ITEM_CERTIFICATION &&
			item->has_object)
		return dirdoc_fail(err, item->line, -EPROTO,
				"unexpected object after %.*s",
				(int)item->keyword.len, item->keyword.ptr);
	switch (kind) {
	case ITEM_ADDRESS:
		return parse_dir_address(item, cert, err);
	case ITEM_FINGERPRINT:
		if (!dirdoc_next_arg(&args, &arg) ||
				dirdoc_hex_decode(arg, declared_fingerprint,
					AUTHORITY_CERT_DIGEST_LEN) != 0)
			return dirdoc_fail(err, item->line, -EPROTO,
					"fingerprint is not 40 hex digits");
		return 0;
	case ITEM_PUBLISHED:
		if (dirdoc_next_time(&args, &cert->published) != 0)
			return dirdoc_fail(err, item->line, -EPROTO,
					"bad dir-key-published time");
		return 0;
	case ITEM_EXPIRES:
		if (dirdoc_next_time(&args, &cert->expires) != 0)
			return dirdoc_fail(err, item->line, -EPROTO,
					"bad dir-key-expires time");
		return 0;
	case ITEM_IDENTITY_KEY:
		return parse_key(item, &cert->identity_key,
				cert->identity_digest, err);
	case ITEM_SIGNING_KEY:
		return parse_key(item, &cert->signing_key,
				cert->signing_key_digest, err);
	case ITEM_CROSSCERT:
		return parse_signature(item, true, cert->crosscert,
				&cert->crosscert_len, err);
	case ITEM_CERTIFICATION:
		return parse_signature(item, false, cert->certification,
				&cert->certification_len, err);
	default:
		return 0;
	}
}

static int
parse_items(struct dirdoc_reader *reader, struct authority_cert *cert,
		struct dirdoc_error *err)
{
	const uint8_t *start = NULL;
	unsigned counts[ITEM_COUNT] = { 0 };
	uint8_t declared_fingerprint[AUTHORITY_CERT_DIGEST_LEN];
	struct dirdoc_item item;
	int rc;

	for (;;) {
		enum cert_item kind;

		rc = dirdoc_next_item(reader, &item, err);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return dirdoc_fail(err, reader->line, -EPROTO,
					"certificate ends before dir-key-certification");
		kind = classify(&item);
		if (start == NULL) {
			start = item.start;
			if (kind != ITEM_VERSION || !dirdoc_span_is(item.args, "3"))
				return dirdoc_fail(err, item.line, -EPROTO,
						"certificate does not start with dir-key-certificate-version 3");
		}
		if ((size_t)(item.end - start) > AUTHORITY_CERT_MAX_LEN)
			return dirdoc_fail(err, item.line, -EMSGSIZE,
					"certificate longer than %d bytes",
					AUTHORITY_CERT_MAX_LEN);
		if (kind == ITEM_UNKNOWN)
			continue;
		if (++counts[kind] > 1)
			return dirdoc_fail(err, item.line, -EPROTO,
					"%s appears twice", item_keywords[kind]);
		rc = parse_item(&item, kind, cert, declared_fingerprint, err);
		if (rc != 0)
			return rc;
		if (kind == ITEM_CERTIFICATION)
			break;
	}
	for (unsigned i = 0; i < ITEM_COUNT; i++)
		if (i != ITEM_ADDRESS && counts[i] != 1)
			return dirdoc_fail(err, item.line, -EPROTO,
					"certificate lacks %s", item_keywords[i]);
	if (memcmp(declared_fingerprint, cert->identity_digest,
				AUTHORITY_CERT_DIGEST_LEN) != 0)
		return dirdoc_fail(err, item.line, -EPROTO,
				"fingerprint does not match dir-identity-key");
	/* dir-spec 1.3: signed from the initial item through the newline
	 * after the signature item's keyword line. */
	return sha1(start, (size_t)(item.line_end - start), cert->signed_digest);
}

int
authority_cert_parse(const uint8_t **p, const uint8_t *end,
		struct authority_cert **out, struct dirdoc_error *err)
{
	struct dirdoc_reader reader;
	struct authority_cert *cert = calloc(1, sizeof(*cert));
	int rc;

	if (cert == NULL)
		return -ENOMEM;
	dirdoc_reader_init(&reader, *p, end);
	rc = parse_items(&reader, cert, err);
	if (rc != 0) {
		authority_cert_free(cert);
		return rc;
	}
	*p = reader.p;
	*out = cert;
	return 0;
}

int
authority_cert_verify(const struct authority_cert *cert, time_t now)
{
	if (rsa_identity_verify_digest(cert->identity_key, cert->signed_digest,
				AUTHORITY_CERT_DIGEST_LEN, cert->certification,
				cert->certification_len) != 0)
		return -EBADMSG;
	if (rsa_identity_verify_digest(cert->signing_key,
				cert->identity_digest, AUTHORITY_CERT_DIGEST_LEN,
				cert->crosscert, cert->crosscert_len) != 0)
		return -EBADMSG;
	if (now >= cert->expires)
		return -EKEYEXPIRED;
	if (cert->published > now && cert->published - now > AUTHORITY_CERT_MAX_SKEW)
		return -EKEYREJECTED;
	return 0;
}

const uint8_t *
authority_cert_identity_digest(const struct authority_cert *cert)
{
	return cert->identity_digest;
}

const uint8_t *
authority_cert_signing_key_digest(const struct authority_cert *cert)
{
	return cert->signing_key_digest;
}

time_t
authority_cert_published(const struct authority_cert *cert)
{
	return cert->published;
}

time_t
authority_cert_expires(const struct authority_cert *cert)
{
	return cert->expires;
}

bool
authority_cert_dir_address(const struct authority_cert *cert, uint32_t *ipv4,
		uint16_t *port)
{
	if (!cert->has_dir_address)
		return false;
	*ipv4 = cert->dir_ipv4;
	*port = cert->dir_port;
	return true;
}

const struct rsa_identity *
authority_cert_signing_key(const struct authority_cert *cert)
{
	return cert->signing_key;
}

const struct rsa_identity *
authority_cert_identity_key(const struct authority_cert *cert)
{
	return cert->identity_key;
}

const struct authority_cert *
authority_cert_find(struct authority_cert *const *certs, size_t n_certs,
		const uint8_t identity[AUTHORITY_CERT_DIGEST_LEN],
		const uint8_t signing_key_digest[AUTHORITY_CERT_DIGEST_LEN])
{
	for (size_t i = 0; i < n_certs; i++)
		if (memcmp(certs[i]->identity_digest, identity,
					AUTHORITY_CERT_DIGEST_LEN) == 0 &&
				memcmp(certs[i]->signing_key_digest,
					signing_key_digest,
					AUTHORITY_CERT_DIGEST_LEN) == 0)
			return certs[i];
	return NULL;
}
