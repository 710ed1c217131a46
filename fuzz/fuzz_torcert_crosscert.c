/* libFuzzer target for the RSA->Ed25519 cross-certificate parser in
 * crypto/torcert.c (cert-spec 2.3) and the DER RSA public key decoder in
 * crypto/rsa_identity.c. Crosscerts that parse must re-encode to the bytes
 * consumed and must never verify under a key that did not sign them. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/rsa_identity.h"
#include "crypto/torcert.h"

static uint8_t encoded[RSA_CROSSCERT_SIGNED_LEN + 1 +
		RSA_CROSSCERT_SIGNATURE_MAX];
static struct rsa_identity *identity;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	const uint8_t *end = data + size;
	struct rsa_ed25519_crosscert cross;
	struct rsa_identity *decoded = NULL;
	uint8_t der[RSA_PUBLIC_DER_MAX];

	/* A key generated here cannot have signed any fuzzer input. */
	if (identity == NULL && rsa_identity_generate(&identity) != 0)
		abort();

	while (p < end) {
		const uint8_t *start = p;
		ssize_t written;
		int rc = rsa_ed25519_crosscert_parse(&p, end, &cross);

		if (rc != 0) {
			if (p != start || rc != -EMSGSIZE)
				abort();
			break;
		}
		written = rsa_ed25519_crosscert_encode(&cross, encoded,
				sizeof(encoded));
		if (written != p - start ||
				memcmp(encoded, start, (size_t)written) != 0)
			abort();
		if (rsa_ed25519_crosscert_verify(&cross, identity, 0) !=
				-EBADMSG)
			abort();
	}

	/* The whole input as a DER RSAPublicKey: re-encoding a key that
	 * decoded gives a key with the same fingerprint. */
	if (rsa_identity_from_public_der(data, size, &decoded) == 0) {
		uint8_t fp1[RSA_IDENTITY_FINGERPRINT_LEN];
		uint8_t fp2[RSA_IDENTITY_FINGERPRINT_LEN];
		struct rsa_identity *again = NULL;
		ssize_t len = rsa_identity_public_der(decoded, der,
				sizeof(der));

		if (len > 0) {
			if (rsa_identity_from_public_der(der, (size_t)len,
					&again) != 0 ||
					rsa_identity_fingerprint(decoded,
						fp1) != 0 ||
					rsa_identity_fingerprint(again,
						fp2) != 0 ||
					memcmp(fp1, fp2, sizeof(fp1)) != 0)
				abort();
			rsa_identity_free(again);
		}
		rsa_identity_free(decoded);
	}
	return 0;
}
