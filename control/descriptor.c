/* Server descriptor builder (see descriptor.h). */
#include "control/descriptor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "control/relay_keys.h"
#include "crypto/kdf.h"
#include "crypto/onion_key_crosscert.h"
#include "crypto/tor_keys.h"
#include "crypto/torcert.h"

/* What the proto line advertises (tor-spec 9 "Subprotocol versioning";
 * tor-roles-and-directory 4.6). The base is what 0.4.9.11 authorities list
 * as required-relay-protocols (Cons=2 Desc=2 DirCache=2 FlowCtrl=1-2 HSDir=2
 * HSIntro=4-5 HSRend=2 Link=4-5 LinkAuth=3 Microdesc=2 Relay=2-4), with the
 * lower document versions tor also lists where a v2 reader reads v1 too.
 * Left out on purpose, although tor 0.4.9.11 advertises them:
 *   Conflux=1   conflux legs end at exits; we are "reject *:*" and do not
 *               implement CONFLUX_LINK. Not required.
 *   Padding=2   no circuit-padding machines. Not required.
 *   Relay=5-6   subprotocol request and CGO relay crypto: clients would
 *               send CGO handshakes to us even as a middle hop.
 *   Link=3      the v3 link protocol (2-byte circuit ids); 4-5 are required.
 *   Desc=3-4, Microdesc=3  0.4.9 additions (TAP-optional, family certs)
 *               whose obligations are not pinned down yet.
 * Role entries only appear with their role (enum descriptor_role), so a
 * relay never claims an onion-service role it does not serve yet; the
 * authorities do not enforce "required" (they only drop invalid lines), so
 * leaving a required entry out costs the role, not the listing. */
static const struct {
	const char *name;
	const char *versions;
	unsigned role;	/* 0: always */
} protocols[] = {
	{ "Cons", "1-2", 0 },
	{ "Desc", "1-2", 0 },
	{ "DirCache", "2", DESCRIPTOR_ROLE_DIR_CACHE },
	{ "FlowCtrl", "1-2", 0 },
	{ "HSDir", "2", DESCRIPTOR_ROLE_HSDIR },
	{ "HSIntro", "4-5", DESCRIPTOR_ROLE_INTRO },
	{ "HSRend", "1-2", DESCRIPTOR_ROLE_REND },
	{ "Link", "4-5", 0 },
	{ "LinkAuth", "3", 0 },
	{ "Microdesc", "1-2", 0 },
	{ "Relay", "2-4", 0 },
};

/* Text builder: appends while there is room and remembers an overflow, so
 * a whole descriptor is written with straight-line code and one check. */
struct text {
	char *buf;
	size_t cap;	/* usable bytes, the NUL excluded */
	size_t len;
	bool overflow;
};

static void
text_append(struct text *t, const char *data, size_t len)
{
	if (t->overflow || len > t->cap - t->len) {
		t->overflow = true;
		return;
	}
	memcpy(t->buf + t->len, data, len);
	t->len += len;
	t->buf[t->len] = '\0';
}

static void
text_puts(struct text *t, const char *s)
{
	text_append(t, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void
text_printf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->cap - t->len + 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n > t->cap - t->len) {
		t->overflow = true;
		t->buf[t->len] = '\0';
		return;
	}
	t->len += (size_t)n;
}

/* Base64 with padding in 64-character lines, each ending in '\n' (tor's
 * BASE64_ENCODE_MULTILINE), between BEGIN and END lines of label. */
static void
text_object(struct text *t, const char *label, const uint8_t *data,
		size_t len)
{
	char encoded[1024];
	size_t encoded_len, offset;

	if (sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL) >
			sizeof(encoded)) {
		t->overflow = true;
		return;
	}
	sodium_bin2base64(encoded, sizeof(encoded), data, len,
			sodium_base64_VARIANT_ORIGINAL);
	encoded_len = strlen(encoded);
	text_printf(t, "-----BEGIN %s-----\n", label);
	for (offset = 0; offset < encoded_len; offset += 64) {
		size_t line = encoded_len - offset < 64 ?
			encoded_len - offset : 64;

		text_append(t, encoded + offset, line);
		text_puts(t, "\n");
	}
	text_printf(t, "-----END %s-----\n", label);
}

/* Unpadded base64 of a key or signature on a keyword line. */
static void
text_base64_unpadded(struct text *t, const uint8_t *data, size_t len)
{
	char encoded[128];

	if (sodium_base64_ENCODED_LEN(len,
			sodium_base64_VARIANT_ORIGINAL_NO_PADDING) >
			sizeof(encoded)) {
		t->overflow = true;
		return;
	}
	sodium_bin2base64(encoded, sizeof(encoded), data, len,
			sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	text_puts(t, encoded);
}

static int
text_rsa_public(struct text *t, const struct rsa_identity *key)
{
	uint8_t der[RSA_PUBLIC_DER_MAX];
	ssize_t der_len = rsa_identity_public_der(key, der, sizeof(der));

	if (der_len < 0)
		return (int)der_len;
	text_object(t, "RSA PUBLIC KEY", der, (size_t)der_len);
	return 0;
}

ssize_t
descriptor_protocols(unsigned roles, char *out, size_t out_len)
{
	struct text t = { .buf = out, .cap = out_len ? out_len - 1 : 0 };
	size_t i;
	bool first = true;

	if (out_len == 0)
		return -EMSGSIZE;
	out[0] = '\0';
	for (i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++) {
		if (protocols[i].role != 0 && !(roles & protocols[i].role))
			continue;
		text_printf(&t, "%s%s=%s", first ? "" : " ", protocols[i].name,
				protocols[i].versions);
		first = false;
	}
	return t.overflow ? -EMSGSIZE : (ssize_t)t.len;
}

/* Printable ASCII, non-empty: a keyword line's free text (tor escapes a
 * ContactInfo with CR or LF; we refuse it instead). */
static bool
is_line_text(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	}
	return true;
}

/* "$" + 40 hex digits (optionally followed by "=nick" or "~nick"), or a
 * nickname: the forms tor's family line holds. */
static bool
is_family_entry(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	if (s[0] != '$')
		return relay_nickname_is_valid(s);
	for (i = 1; i <= 40; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
				(c >= 'a' && c <= 'f')))
			return false;
	}
	if (s[41] == '\0')
		return true;
	return (s[41] == '=' || s[41] == '~') &&
		relay_nickname_is_valid(s + 42);
}

static int
check_params(const struct descriptor_params *params)
{
	struct in_addr address;
	size_t i;

	if (!relay_nickname_is_valid(params->nickname) ||
			params->address == NULL ||
			inet_pton(AF_INET, params->address, &address) != 1 ||
			params->or_port == 0 || params->bandwidth_rate == 0 ||
			!is_line_text(params->platform))
		return -EINVAL;
	if (params->contact != NULL && params->contact[0] != '\0' &&
			!is_line_text(params->contact))
		return -EINVAL;
	if ((params->n_family > 0 && params->family == NULL) ||
			(params->n_family_keys > 0 && params->family_keys == NULL))
		return -EINVAL;
	for (i = 0; i < params->n_family; i++) {
		if (!is_family_entry(params->family[i]))
			return -EINVAL;
	}
	return 0;
}

static long long
bandwidth_value(uint64_t value)
{
	return value > INT32_MAX ? INT32_MAX : (long long)value;
}

/* router .. bandwidth (the "easy portion" in tor's words). */
static int
write_head(struct text *t, const struct descriptor_params *params,
		const struct relay_keys *keys)
{
	char protocols_buf[256], published[32];
	char hex[RSA_IDENTITY_FINGERPRINT_HEX_LEN + 1];
	const uint8_t *cert;
	size_t cert_len, i;
	struct tm tm;
	ssize_t rc;

	rc = descriptor_protocols(params->roles, protocols_buf,
			sizeof(protocols_buf));
	if (rc < 0)
		return (int)rc;
	if (gmtime_r(&params->published, &tm) == NULL ||
			strftime(published, sizeof(published),
				"%Y-%m-%d %H:%M:%S", &tm) == 0)
		return -EINVAL;
	rsa_fingerprint_to_hex(relay_keys_fingerprint(keys), hex);

	/* DirPort 0: 0.4.9 relays only advertise one as authorities
	 * (router.c router_should_advertise_dirport). */
	text_printf(t, "router %s %s %u 0 0\n", params->nickname,
			params->address, (unsigned)params->or_port);
	cert = relay_keys_signing_cert(keys, &cert_len);
	text_puts(t, "identity-ed25519\n");
	text_object(t, "ED25519 CERT", cert, cert_len);
	text_puts(t, "master-key-ed25519 ");
	text_base64_unpadded(t, relay_keys_master(keys)->public_key,
			ED25519_PUBLIC_KEY_LEN);
	text_printf(t, "\nplatform %s\n", params->platform);
	text_printf(t, "proto %s\n", protocols_buf);
	text_printf(t, "published %s\n", published);
	text_puts(t, "fingerprint");
	for (i = 0; i < RSA_IDENTITY_FINGERPRINT_HEX_LEN; i += 4)
		text_printf(t, " %.4s", hex + i);
	text_printf(t, "\nuptime %llu\n", (unsigned long long)params->uptime);
	text_printf(t, "bandwidth %lld %lld %lld\n",
			bandwidth_value(params->bandwidth_rate),
			bandwidth_value(params->bandwidth_burst),
			bandwidth_value(params->bandwidth_observed));
	return 0;
}

/* onion-key .. ntor-onion-key-crosscert. */
static int
write_keys(struct text *t, const struct descriptor_params *params,
		const struct relay_keys *keys)
{
	const uint8_t *master = relay_keys_master(keys)->public_key;
	uint8_t tap_crosscert[256], ntor_crosscert[TORCERT_MIN_LEN];
	ssize_t tap_len, ntor_len;
	int sign_bit = 0, rc;

	tap_len = tap_onion_key_crosscert_create(relay_keys_tap_onion_key(keys),
			relay_keys_identity(keys), master, tap_crosscert,
			sizeof(tap_crosscert));
	if (tap_len < 0)
		return (int)tap_len;
	/* tor: expiry = published + onion key lifetime, rounded up to the
	 * hour (router.c make_ntor_onion_key_crosscert call). */
	ntor_len = ntor_onion_key_crosscert_create(
			relay_keys_ntor_onion_key(keys), master,
			torcert_hours_from_time(params->published +
				RELAY_KEYS_ONION_KEY_LIFETIME),
			&sign_bit, ntor_crosscert, sizeof(ntor_crosscert));
	if (ntor_len < 0)
		return (int)ntor_len;

	text_puts(t, "onion-key\n");
	if ((rc = text_rsa_public(t, relay_keys_tap_onion_key(keys))) != 0)
		return rc;
	text_puts(t, "signing-key\n");
	if ((rc = text_rsa_public(t, relay_keys_identity(keys))) != 0)
		return rc;
	text_puts(t, "onion-key-crosscert\n");
	text_object(t, "CROSSCERT", tap_crosscert, (size_t)tap_len);
	text_printf(t, "ntor-onion-key-crosscert %d\n", sign_bit);
	text_object(t, "ED25519 CERT", ntor_crosscert, (size_t)ntor_len);
	return 0;
}

/* family .. tunnelled-dir-server, overload-general. */
static int
write_tail(struct text *t, const struct descriptor_params *params,
		const struct relay_keys *keys)
{
	size_t i;

	if (params->n_family > 0) {
		text_puts(t, "family");
		for (i = 0; i < params->n_family; i++)
			text_printf(t, " %s", params->family[i]);
		text_puts(t, "\n");
	}
	/* tor router.c: "hibernating 1" between family and
	 * hidden-service-dir (dir-spec 2.1.1 "hibernating"). */
	if (params->hibernating)
		text_puts(t, "hibernating 1\n");
	if (params->roles & DESCRIPTOR_ROLE_HSDIR)
		text_puts(t, "hidden-service-dir\n");
	/* tor 0.4.9 router.c: one family-cert per family key, our Ed25519
	 * identity certified by the family key (with the key in extension
	 * 04), valid from the publication time for FAMILY_CERT_LIFETIME. */
	for (i = 0; i < params->n_family_keys; i++) {
		uint8_t cert[TORCERT_WITH_SIGNING_KEY_LEN];
		ssize_t len = torcert_create(TORCERT_TYPE_FAMILY, TORCERT_KEY_TYPE_ED25519,
				relay_keys_master(keys)->public_key,
				torcert_hours_from_time(params->published +
					DESCRIPTOR_FAMILY_CERT_LIFETIME),
				&params->family_keys[i], true, cert, sizeof(cert));

		if (len < 0)
			return (int)len;
		text_puts(t, "family-cert\n");
		text_object(t, "FAMILY CERT", cert, (size_t)len);
	}
	if (params->contact != NULL && params->contact[0] != '\0')
		text_printf(t, "contact %s\n", params->contact);
	text_puts(t, "ntor-onion-key ");
	text_base64_unpadded(t, relay_keys_ntor_onion_key(keys)->public_key,
			CURVE25519_KEY_LEN);
	/* Exit policy: a middle relay; dir-spec 2.1.1 needs at least one. */
	text_puts(t, "\nreject *:*\n");
	if ((params->roles & DESCRIPTOR_ROLE_DIR_CACHE) && !params->no_tunnelled_dir_server)
		text_puts(t, "tunnelled-dir-server\n");
	/* tor router.c: overload-general after tunnelled-dir-server, before
	 * the signatures (dir-spec 2.1.1). */
	if (params->overload_general != NULL)
		text_puts(t, params->overload_general);
	return 0;
}

static int
sign_ed25519(struct text *t, const struct relay_keys *keys)
{
	static const char prefix[] = DESCRIPTOR_ED25519_SIGNATURE_PREFIX;
	struct kdf_digest *digest;
	uint8_t hash[KDF_SHA256_LEN], signature[ED25519_SIGNATURE_LEN];
	int rc = -EIO;

	text_puts(t, "router-sig-ed25519 ");
	if (t->overflow)
		return 0;
	digest = kdf_digest_new(KDF_HASH_SHA256);
	if (digest == NULL)
		return -ENOMEM;
	if (kdf_digest_update(digest, prefix, sizeof(prefix) - 1) == 0 &&
			kdf_digest_update(digest, t->buf, t->len) == 0 &&
			kdf_digest_peek(digest, hash, sizeof(hash)) ==
				(ssize_t)sizeof(hash))
		rc = ed25519_sign(signature, hash, sizeof(hash),
				relay_keys_signing(keys));
	kdf_digest_free(digest);
	if (rc != 0)
		return rc;
	text_base64_unpadded(t, signature, sizeof(signature));
	text_puts(t, "\n");
	return 0;
}

static int
sign_rsa(struct text *t, const struct relay_keys *keys,
		uint8_t digest[DESCRIPTOR_DIGEST_LEN])
{
	uint8_t signature[RSA_IDENTITY_BITS / 8];
	ssize_t signature_len;

	text_puts(t, "router-signature\n");
	if (t->overflow)
		return 0;
	if (kdf_sha1(t->buf, t->len, digest) != 0)
		return -EIO;
	signature_len = rsa_identity_sign_digest(relay_keys_identity(keys),
			digest, DESCRIPTOR_DIGEST_LEN, signature,
			sizeof(signature));
	if (signature_len < 0)
		return (int)signature_len;
	text_object(t, "SIGNATURE", signature, (size_t)signature_len);
	/* router_dump_router_to_string: "include a last '\n'". */
	text_puts(t, "\n");
	return 0;
}

ssize_t
descriptor_build(const struct descriptor_params *params,
		const struct relay_keys *keys, char *out, size_t out_len,
		uint8_t digest[DESCRIPTOR_DIGEST_LEN])
{
	uint8_t own_digest[DESCRIPTOR_DIGEST_LEN];
	struct text t = { .buf = out };
	int rc;

	if (out_len == 0)
		return -EMSGSIZE;
	out[0] = '\0';
	t.cap = out_len - 1 < DESCRIPTOR_MAX_LEN ? out_len - 1 :
		DESCRIPTOR_MAX_LEN;
	rc = check_params(params);
	if (rc != 0)
		return rc;
	if ((rc = write_head(&t, params, keys)) != 0 ||
			(rc = write_keys(&t, params, keys)) != 0)
		goto fail;
	if ((rc = write_tail(&t, params, keys)) != 0 ||
			(rc = sign_ed25519(&t, keys)) != 0 ||
			(rc = sign_rsa(&t, keys, own_digest)) != 0)
		goto fail;
	if (t.overflow) {
		rc = -EMSGSIZE;
		goto fail;
	}
	if (digest != NULL)
		memcpy(digest, own_digest, DESCRIPTOR_DIGEST_LEN);
	return (ssize_t)t.len;
fail:
	out[0] = '\0';
	return rc;
}

size_t
descriptor_signed_length(const char *text, size_t len)
{
	static const char end_line[] = "-----END SIGNATURE-----\n";
	size_t end_len = sizeof(end_line) - 1;
	size_t i;

	/* The last END SIGNATURE line: router-signature is the final item. */
	for (i = len >= end_len ? len - end_len + 1 : 0; i-- > 0;) {
		if (memcmp(text + i, end_line, end_len) == 0)
			return i + end_len;
	}
	return len;
}
