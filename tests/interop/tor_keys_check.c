/* Interop helper for tor_keys.sh: checks the key files a real tor wrote
 * with our code, and writes key files with our code for tor to load.
 *
 *   tor_keys_check check DATADIR NICKNAME
 *       Loads the files in DATADIR/keys, verifies ed25519_signing_cert with
 *       the master key, checks the signing key and the ntor key, signs with
 *       tor's expanded keys, re-creates tor's cert and re-encodes tor's
 *       files byte for byte, and compares the RSA and Ed25519 identities with
 *       DATADIR/fingerprint and DATADIR/fingerprint-ed25519. Prints
 *       "FINGERPRINT ED25519_BASE64" on success.
 *   tor_keys_check generate DATADIR
 *       Writes a complete relay key set into DATADIR/keys with our code and
 *       prints "FINGERPRINT ED25519_BASE64" of the new identity.
 *
 * Exit status 0 when every check passed, 1 with a message otherwise.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "crypto/rsa_identity.h"
#include "crypto/tor_keys.h"
#include "crypto/torcert.h"

/* tor's default SigningKeyLifetime. */
#define SIGNING_KEY_LIFETIME (30 * 24 * 3600)

static int failures;

static void
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("tor_keys_check: FAIL: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	failures++;
}

static void
key_path(char *out, size_t out_len, const char *dir, const char *name)
{
	snprintf(out, out_len, "%s/keys/%s", dir, name);
}

static int
read_whole(const char *path, uint8_t *buf, size_t buf_len, size_t *len)
{
	int rc = tor_key_file_read(path, buf, buf_len, len);

	if (rc != 0)
		fail("reading %s: %s", path, strerror(-rc));
	return rc;
}

/* Reads "NICKNAME VALUE\n" and checks both parts. */
static void
check_fingerprint_file(const char *dir, const char *name,
		const char *nickname, const char *expected)
{
	char path[1024], line[256], want[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (f == NULL) {
		fail("open %s: %s", path, strerror(errno));
		return;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	snprintf(want, sizeof(want), "%s %s\n", nickname, expected);
	if (strcmp(line, want) != 0)
		fail("%s is \"%s\", ours is \"%s\"", name, line, want);
}

/* Parses `name` from DATADIR/keys, re-encodes it and compares bytes. */
#define CHECK_ROUND_TRIP(kind, dir, name, parsed)			\
	do {								\
		char path_[1024];					\
		uint8_t file_[512], again_[512];			\
		size_t len_ = 0;					\
		ssize_t n_;						\
		const uint8_t *cursor_ = file_;				\
									\
		key_path(path_, sizeof(path_), dir, name);		\
		if (read_whole(path_, file_, sizeof(file_), &len_) != 0) \
			break;						\
		if (kind##_parse(&cursor_, file_ + len_, parsed) != 0) { \
			fail("parsing %s", path_);			\
			break;						\
		}							\
		n_ = kind##_encode(parsed, again_, sizeof(again_));	\
		if (n_ != (ssize_t)len_ ||				\
				memcmp(again_, file_, len_) != 0)	\
			fail("re-encoding %s differs from tor's", path_); \
		sodium_memzero(file_, sizeof(file_));			\
		sodium_memzero(again_, sizeof(again_));			\
	} while (0)

static void
check_signing(const struct ed25519_keypair *key, const char *what)
{
	static const uint8_t message[] = "hsrelay interop: sign with tor's key";
	uint8_t signature[ED25519_SIGNATURE_LEN];

	if (ed25519_sign(signature, message, sizeof(message), key) != 0 ||
			ed25519_verify(signature, message, sizeof(message),
				key->public_key) != 0 ||
			crypto_sign_verify_detached(signature, message,
				sizeof(message), key->public_key) != 0)
		fail("signing with tor's %s expanded key does not verify",
				what);
}

static int
check(const char *dir, const char *nickname)
{
	struct ed25519_secret_key_file master, signing;
	struct ed25519_public_key_file master_public;
	struct ed25519_cert_file cert_file;
	struct curve25519_key_file ntor;
	struct rsa_identity *identity = NULL, *onion = NULL;
	struct torcert cert;
	uint8_t fingerprint[RSA_IDENTITY_FINGERPRINT_LEN], recreated[256];
	uint8_t cross[512];
	char hex[RSA_IDENTITY_FINGERPRINT_HEX_LEN + 1], ed_b64[64], path[1024];
	struct rsa_ed25519_crosscert crosscert;
	const uint8_t *cursor;
	time_t now = time(NULL);
	ssize_t n;

	memset(&master, 0, sizeof(master));
	memset(&signing, 0, sizeof(signing));
	memset(&master_public, 0, sizeof(master_public));
	memset(&cert_file, 0, sizeof(cert_file));
	memset(&ntor, 0, sizeof(ntor));
	CHECK_ROUND_TRIP(ed25519_secret_key_file, dir,
			"ed25519_master_id_secret_key", &master);
	CHECK_ROUND_TRIP(ed25519_secret_key_file, dir,
			"ed25519_signing_secret_key", &signing);
	CHECK_ROUND_TRIP(ed25519_public_key_file, dir,
			"ed25519_master_id_public_key", &master_public);
	CHECK_ROUND_TRIP(ed25519_cert_file, dir, "ed25519_signing_cert",
			&cert_file);
	CHECK_ROUND_TRIP(curve25519_key_file, dir, "secret_onion_key_ntor",
			&ntor);
	if (failures)
		return 1;
	if (strcmp(master.tag, "type0") != 0 || strcmp(signing.tag, "type4") != 0 ||
			strcmp(cert_file.tag, "type4") != 0)
		fail("unexpected tags %s %s %s", master.tag, signing.tag,
				cert_file.tag);

	/* The master secret derives the published master public key. */
	if (memcmp(master.keypair.public_key, master_public.public_key,
			ED25519_PUBLIC_KEY_LEN) != 0)
		fail("master public key derived from tor's expanded secret "
				"differs from ed25519_master_id_public_key");

	/* ed25519_signing_cert: type 04, certifies the signing key, signed by
	 * the master key, which it also carries. */
	cursor = cert_file.cert;
	if (torcert_parse(&cursor, cert_file.cert + cert_file.cert_len,
			&cert) != 0 ||
			cursor != cert_file.cert + cert_file.cert_len) {
		fail("parsing ed25519_signing_cert");
		return 1;
	}
	if (cert.cert_type != TORCERT_TYPE_SIGNING ||
			cert.key_type != TORCERT_KEY_TYPE_ED25519)
		fail("cert type %u key type %u", cert.cert_type,
				cert.key_type);
	if (torcert_verify(&cert, master_public.public_key, now) != 0)
		fail("ed25519_signing_cert does not verify with the master "
				"key at %lld", (long long)now);
	if (!cert.has_signing_key ||
			memcmp(cert.signing_key, master_public.public_key,
				ED25519_PUBLIC_KEY_LEN) != 0)
		fail("signed-with-key extension is not the master key");
	if (memcmp(cert.certified_key, signing.keypair.public_key,
			ED25519_PUBLIC_KEY_LEN) != 0)
		fail("certified key differs from ed25519_signing_secret_key's "
				"public key");
	if (cert.expiration_hours * 3600ull < (unsigned long long)now)
		fail("cert already expired");
	n = torcert_create(cert.cert_type, cert.key_type,
			signing.keypair.public_key, cert.expiration_hours,
			&master.keypair, true, recreated, sizeof(recreated));
	if (n != (ssize_t)cert_file.cert_len ||
			memcmp(recreated, cert_file.cert, cert_file.cert_len))
		fail("re-signing tor's cert with tor's master key gives "
				"different bytes");

	check_signing(&master.keypair, "master");
	check_signing(&signing.keypair, "signing");

	/* RSA identity: fingerprint as tor printed it. */
	key_path(path, sizeof(path), dir, "secret_id_key");
	if (rsa_identity_load(path, &identity) != 0) {
		fail("loading %s", path);
		return 1;
	}
	if (rsa_identity_check_tor_params(identity) != 0)
		fail("identity key is not RSA-1024 e=65537");
	if (rsa_identity_fingerprint(identity, fingerprint) != 0) {
		fail("fingerprint");
		rsa_identity_free(identity);
		return 1;
	}
	rsa_fingerprint_to_hex(fingerprint, hex);
	check_fingerprint_file(dir, "fingerprint", nickname, hex);
	sodium_bin2base64(ed_b64, sizeof(ed_b64), master_public.public_key,
			ED25519_PUBLIC_KEY_LEN,
			sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	check_fingerprint_file(dir, "fingerprint-ed25519", nickname, ed_b64);

	/* The TAP onion key, if tor still wrote one, is a usable RSA key. */
	key_path(path, sizeof(path), dir, "secret_onion_key");
	if (rsa_identity_load(path, &onion) == 0) {
		if (rsa_identity_check_tor_params(onion) != 0)
			fail("secret_onion_key is not RSA-1024 e=65537");
		rsa_identity_free(onion);
	}

	/* Cross-certify the master key with tor's RSA identity. */
	n = rsa_ed25519_crosscert_create(master_public.public_key,
			torcert_hours_from_time(now + 86400), identity, cross,
			sizeof(cross));
	cursor = cross;
	if (n < 0 || rsa_ed25519_crosscert_parse(&cursor, cross + n,
				&crosscert) != 0 ||
			rsa_ed25519_crosscert_verify(&crosscert, identity,
				now) != 0)
		fail("RSA->Ed25519 crosscert with tor's identity key");
	rsa_identity_free(identity);

	sodium_memzero(&master, sizeof(master));
	sodium_memzero(&signing, sizeof(signing));
	sodium_memzero(&ntor, sizeof(ntor));
	if (failures)
		return 1;
	printf("%s %s\n", hex, ed_b64);
	return 0;
}

static int
generate(const char *dir)
{
	struct ed25519_secret_key_file master, signing;
	struct ed25519_public_key_file master_public;
	struct ed25519_cert_file cert_file;
	struct curve25519_key_file ntor;
	struct rsa_identity *identity = NULL, *onion = NULL;
	uint8_t fingerprint[RSA_IDENTITY_FINGERPRINT_LEN];
	char hex[RSA_IDENTITY_FINGERPRINT_HEX_LEN + 1], ed_b64[64], path[1024];
	ssize_t n;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/keys", dir);
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		fail("mkdir %s: %s", path, strerror(errno));
		return 1;
	}
	memset(&master, 0, sizeof(master));
	memset(&signing, 0, sizeof(signing));
	memset(&master_public, 0, sizeof(master_public));
	memset(&cert_file, 0, sizeof(cert_file));
	memset(&ntor, 0, sizeof(ntor));
	strcpy(master.tag, TOR_KEY_FILE_TAG_MASTER);
	strcpy(master_public.tag, TOR_KEY_FILE_TAG_MASTER);
	strcpy(signing.tag, TOR_KEY_FILE_TAG_SIGNING);
	strcpy(cert_file.tag, TOR_KEY_FILE_TAG_SIGNING);
	strcpy(ntor.tag, TOR_KEY_FILE_TAG_NTOR);
	if (ed25519_keypair_generate(&master.keypair) != 0 ||
			ed25519_keypair_generate(&signing.keypair) != 0 ||
			curve25519_keypair_generate(&ntor.keypair) != 0 ||
			rsa_identity_generate(&identity) != 0 ||
			rsa_identity_generate(&onion) != 0) {
		fail("key generation");
		rsa_identity_free(identity);
		rsa_identity_free(onion);
		return 1;
	}
	memcpy(master_public.public_key, master.keypair.public_key,
			ED25519_PUBLIC_KEY_LEN);
	n = torcert_create(TORCERT_TYPE_SIGNING, TORCERT_KEY_TYPE_ED25519,
			signing.keypair.public_key,
			torcert_hours_from_time(time(NULL) +
				SIGNING_KEY_LIFETIME),
			&master.keypair, true, cert_file.cert,
			sizeof(cert_file.cert));
	if (n < 0) {
		fail("creating the signing cert");
		rc = 1;
		goto out;
	}
	cert_file.cert_len = (size_t)n;

#define STORE(call, name)						\
	do {								\
		key_path(path, sizeof(path), dir, name);		\
		if ((call) != 0) {					\
			fail("writing %s", path);			\
			rc = 1;						\
		}							\
	} while (0)
	STORE(ed25519_secret_key_file_store(path, &master),
			"ed25519_master_id_secret_key");
	STORE(ed25519_public_key_file_store(path, &master_public),
			"ed25519_master_id_public_key");
	STORE(ed25519_secret_key_file_store(path, &signing),
			"ed25519_signing_secret_key");
	STORE(ed25519_cert_file_store(path, &cert_file),
			"ed25519_signing_cert");
	STORE(curve25519_key_file_store(path, &ntor), "secret_onion_key_ntor");
	STORE(rsa_identity_store(identity, path), "secret_id_key");
	STORE(rsa_identity_store(onion, path), "secret_onion_key");
#undef STORE
	if (rc != 0)
		goto out;

	if (rsa_identity_fingerprint(identity, fingerprint) != 0) {
		fail("fingerprint");
		rc = 1;
		goto out;
	}
	rsa_fingerprint_to_hex(fingerprint, hex);
	sodium_bin2base64(ed_b64, sizeof(ed_b64), master.keypair.public_key,
			ED25519_PUBLIC_KEY_LEN,
			sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	printf("%s %s\n", hex, ed_b64);
out:
	sodium_memzero(&master, sizeof(master));
	sodium_memzero(&signing, sizeof(signing));
	sodium_memzero(&ntor, sizeof(ntor));
	rsa_identity_free(identity);
	rsa_identity_free(onion);
	return rc;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 4 && strcmp(argv[1], "check") == 0)
		return check(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "generate") == 0)
		return generate(argv[2]);
	fprintf(stderr, "usage: %s check DATADIR NICKNAME | "
			"generate DATADIR\n", argv[0]);
	return 2;
}
