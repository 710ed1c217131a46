/* The relay's keys in DataDirectory/keys/ (see relay_keys.h). */
#include "control/relay_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/ct.h"
#include "crypto/ntor.h"
#include "crypto/torcert.h"

/* tor's sanity bound for LastRotatedOnionKey (router.c init_keys). */
#define ONION_KEY_SET_AT_MIN 100

struct relay_keys {
	char keys_dir[RELAY_KEYS_PATH_MAX];
	struct rsa_identity *identity;
	uint8_t fingerprint[RSA_IDENTITY_FINGERPRINT_LEN];
	struct ed25519_keypair master;
	struct ed25519_keypair signing;
	uint8_t signing_cert[TORCERT_WITH_SIGNING_KEY_LEN];
	size_t signing_cert_len;
	time_t signing_cert_valid_until;
	struct rsa_identity *tap;
	struct rsa_identity *tap_previous;
	struct curve25519_keypair ntor;
	struct curve25519_keypair ntor_previous;
	bool has_ntor_previous;
	time_t onion_key_set_at;
};

static int
fail(struct relay_keys_error *err, int rc, const char *path,
		const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return rc;
	snprintf(err->path, sizeof(err->path), "%s", path);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return rc;
}

/* "what: strerror" for a system error, a fixed text for our own codes. */
/* A key file too short for its header is as malformed as one with a bad
 * header: report both as -EINVAL. */
static int
malformed_as_einval(int rc)
{
	return rc == -EMSGSIZE ? -EINVAL : rc;
}

static const char *
describe(int rc)
{
	switch (rc) {
	case -EINVAL:
		return "malformed, or not a key tor accepts";
	default:
		return strerror(-rc);
	}
}

static int
key_path(const struct relay_keys *keys, const char *name, char *out,
		struct relay_keys_error *err)
{
	int n = snprintf(out, RELAY_KEYS_PATH_MAX, "%s/%s", keys->keys_dir,
			name);

	if (n < 0 || n >= RELAY_KEYS_PATH_MAX)
		return fail(err, -ENAMETOOLONG, keys->keys_dir,
				"path of %s too long", name);
	return 0;
}

/* Creates path 0700, or checks an existing one: a directory we own; group
 * and other bits are removed (tor's check_private_dir with CPD_CREATE). */
static int
private_dir(const char *path, struct relay_keys_error *err)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return fail(err, -errno, path, "cannot create directory: %s",
				strerror(errno));
	if (stat(path, &st) != 0)
		return fail(err, -errno, path, "%s", strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(err, -ENOTDIR, path, "not a directory");
	if (st.st_uid != geteuid())
		return fail(err, -EPERM, path,
				"owned by uid %u, we run as uid %u",
				(unsigned)st.st_uid, (unsigned)geteuid());
	if ((st.st_mode & 077) != 0 && chmod(path, 0700) != 0)
		return fail(err, -errno, path, "cannot set mode 0700: %s",
				strerror(errno));
	return 0;
}

/* 1 when path exists, 0 when it does not, -errno otherwise. */
static int
file_exists(const char *path, struct relay_keys_error *err)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return fail(err, -errno, path, "%s", strerror(errno));
}

static int
remove_file(const char *path, struct relay_keys_error *err)
{
	if (unlink(path) != 0 && errno != ENOENT)
		return fail(err, -errno, path, "cannot delete: %s",
				strerror(errno));
	return 0;
}

static int
set_mtime(const char *path, time_t when, struct relay_keys_error *err)
{
	struct timespec times[2] = {
		{ .tv_sec = 0, .tv_nsec = UTIME_OMIT },
		{ .tv_sec = when, .tv_nsec = 0 },
	};

	if (utimensat(AT_FDCWD, path, times, 0) != 0)
		return fail(err, -errno, path,
				"cannot set the modification time: %s",
				strerror(errno));
	return 0;
}

/* RSA keys: secret_id_key, secret_onion_key (and .old with create false).
 * *out stays NULL when the file is missing and create is false. */
static int
load_rsa(const struct relay_keys *keys, const char *name, bool create,
		struct rsa_identity **out, struct relay_keys_error *err)
{
	char path[RELAY_KEYS_PATH_MAX];
	int rc = key_path(keys, name, path, err);

	if (rc != 0)
		return rc;
	rc = rsa_identity_load(path, out);
	if (rc == -ENOENT && !create)
		return 0;
	if (rc == -ENOENT) {
		rc = rsa_identity_generate(out);
		if (rc != 0)
			return fail(err, rc, path, "cannot generate RSA key: %s",
					describe(rc));
		rc = rsa_identity_store(*out, path);
		if (rc != 0)
			return fail(err, rc, path, "cannot write: %s",
					describe(rc));
		return 0;
	}
	if (rc != 0)
		return fail(err, rc, path, "cannot load RSA private key: %s",
				describe(rc));
	if (rsa_identity_check_tor_params(*out) != 0)
		return fail(err, -EINVAL, path,
				"not a 1024-bit RSA key with e = 65537");
	return 0;
}

static int
load_master(struct relay_keys *keys, struct relay_keys_error *err)
{
	char secret_path[RELAY_KEYS_PATH_MAX], public_path[RELAY_KEYS_PATH_MAX];
	struct ed25519_secret_key_file secret_file;
	struct ed25519_public_key_file public_file;
	int have_public, rc;

	if ((rc = key_path(keys, "ed25519_master_id_secret_key", secret_path,
			err)) != 0 ||
			(rc = key_path(keys, "ed25519_master_id_public_key",
				public_path, err)) != 0)
		return rc;
	have_public = file_exists(public_path, err);
	if (have_public < 0)
		return have_public;

	rc = malformed_as_einval(ed25519_secret_key_file_load(secret_path,
			&secret_file));
	if (rc == -ENOENT) {
		if (have_public)
			return fail(err, -ENOENT, secret_path,
					"missing while %s exists (offline master "
					"keys are not supported)",
					"ed25519_master_id_public_key");
		memset(&secret_file, 0, sizeof(secret_file));
		snprintf(secret_file.tag, sizeof(secret_file.tag), "%s",
				TOR_KEY_FILE_TAG_MASTER);
		rc = ed25519_keypair_generate(&secret_file.keypair);
		if (rc == 0)
			rc = ed25519_secret_key_file_store(secret_path,
					&secret_file);
		if (rc != 0) {
			ct_wipe(&secret_file, sizeof(secret_file));
			return fail(err, rc, secret_path, "cannot write: %s",
					describe(rc));
		}
		have_public = 0;
	} else if (rc != 0) {
		return fail(err, rc, secret_path,
				"cannot load Ed25519 master key: %s",
				describe(rc));
	} else if (strcmp(secret_file.tag, TOR_KEY_FILE_TAG_MASTER) != 0) {
		ct_wipe(&secret_file, sizeof(secret_file));
		return fail(err, -EINVAL, secret_path,
				"tag \"%s\", expected \"%s\"", secret_file.tag,
				TOR_KEY_FILE_TAG_MASTER);
	}
	keys->master = secret_file.keypair;
	ct_wipe(&secret_file, sizeof(secret_file));

	if (have_public) {
		rc = malformed_as_einval(ed25519_public_key_file_load(
				public_path, &public_file));
		if (rc != 0)
			return fail(err, rc, public_path,
					"cannot load Ed25519 public key: %s",
					describe(rc));
		if (memcmp(public_file.public_key, keys->master.public_key,
				ED25519_PUBLIC_KEY_LEN) != 0)
			return fail(err, -EINVAL, public_path,
					"does not match ed25519_master_id_secret_key");
		return 0;
	}
	memset(&public_file, 0, sizeof(public_file));
	snprintf(public_file.tag, sizeof(public_file.tag), "%s",
			TOR_KEY_FILE_TAG_MASTER);
	memcpy(public_file.public_key, keys->master.public_key,
			ED25519_PUBLIC_KEY_LEN);
	rc = ed25519_public_key_file_store(public_path, &public_file);
	if (rc != 0)
		return fail(err, rc, public_path, "cannot write: %s",
				describe(rc));
	return 0;
}

/* A new medium-term signing key and its type-04 certificate by the master
 * key, valid for SigningKeyLifetime from now (tor: ed_key_new with
 * INIT_ED_KEY_INCLUDE_SIGNING_KEY_IN_CERT). The key is written before the
 * certificate: a crash in between leaves a key without a matching
 * certificate, which the next start replaces. */
static int
make_signing(struct relay_keys *keys, time_t now, struct relay_keys_error *err)
{
	char key_path_buf[RELAY_KEYS_PATH_MAX], cert_path[RELAY_KEYS_PATH_MAX];
	struct ed25519_secret_key_file secret_file;
	struct ed25519_cert_file cert_file;
	uint8_t cert[TORCERT_WITH_SIGNING_KEY_LEN];
	ssize_t cert_len;
	int rc;

	if ((rc = key_path(keys, "ed25519_signing_secret_key", key_path_buf,
			err)) != 0 ||
			(rc = key_path(keys, "ed25519_signing_cert", cert_path,
				err)) != 0)
		return rc;
	memset(&secret_file, 0, sizeof(secret_file));
	snprintf(secret_file.tag, sizeof(secret_file.tag), "%s",
			TOR_KEY_FILE_TAG_SIGNING);
	rc = ed25519_keypair_generate(&secret_file.keypair);
	if (rc != 0)
		return fail(err, rc, key_path_buf, "cannot generate: %s",
				describe(rc));
	cert_len = torcert_create(TORCERT_TYPE_SIGNING, TORCERT_KEY_TYPE_ED25519,
			secret_file.keypair.public_key,
			torcert_hours_from_time(now +
				RELAY_KEYS_SIGNING_KEY_LIFETIME),
			&keys->master, true, cert, sizeof(cert));
	if (cert_len < 0) {
		ct_wipe(&secret_file, sizeof(secret_file));
		return fail(err, (int)cert_len, cert_path,
				"cannot create certificate: %s",
				describe((int)cert_len));
	}
	rc = ed25519_secret_key_file_store(key_path_buf, &secret_file);
	if (rc != 0) {
		ct_wipe(&secret_file, sizeof(secret_file));
		return fail(err, rc, key_path_buf, "cannot write: %s",
				describe(rc));
	}
	memset(&cert_file, 0, sizeof(cert_file));
	snprintf(cert_file.tag, sizeof(cert_file.tag), "%s",
			TOR_KEY_FILE_TAG_SIGNING);
	memcpy(cert_file.cert, cert, (size_t)cert_len);
	cert_file.cert_len = (size_t)cert_len;
	rc = ed25519_cert_file_store(cert_path, &cert_file);
	if (rc != 0) {
		ct_wipe(&secret_file, sizeof(secret_file));
		return fail(err, rc, cert_path, "cannot write: %s",
				describe(rc));
	}
	keys->signing = secret_file.keypair;
	ct_wipe(&secret_file, sizeof(secret_file));
	memcpy(keys->signing_cert, cert, (size_t)cert_len);
	keys->signing_cert_len = (size_t)cert_len;
	keys->signing_cert_valid_until = now + RELAY_KEYS_SIGNING_KEY_LIFETIME;
	return 0;
}

/* Loads the signing key and certificate. Returns 1 when they are missing
 * or do not belong together (the caller makes a new pair), 0 when loaded,
 * or an error. */
static int
load_signing(struct relay_keys *keys, struct relay_keys_error *err)
{
	char key_path_buf[RELAY_KEYS_PATH_MAX], cert_path[RELAY_KEYS_PATH_MAX];
	struct ed25519_secret_key_file secret_file;
	struct ed25519_cert_file cert_file;
	struct torcert cert;
	const uint8_t *cursor;
	int have_key, have_cert, rc;

	if ((rc = key_path(keys, "ed25519_signing_secret_key", key_path_buf,
			err)) != 0 ||
			(rc = key_path(keys, "ed25519_signing_cert", cert_path,
				err)) != 0)
		return rc;
	if ((have_key = file_exists(key_path_buf, err)) < 0)
		return have_key;
	if ((have_cert = file_exists(cert_path, err)) < 0)
		return have_cert;
	if (!have_key || !have_cert)
		return 1;

	rc = malformed_as_einval(ed25519_cert_file_load(cert_path, &cert_file));
	if (rc == 0 && strcmp(cert_file.tag, TOR_KEY_FILE_TAG_SIGNING) != 0)
		rc = -EINVAL;
	cursor = cert_file.cert;
	if (rc == 0 && (torcert_parse(&cursor, cert_file.cert +
			cert_file.cert_len, &cert) != 0 ||
			cursor != cert_file.cert + cert_file.cert_len ||
			cert.cert_type != TORCERT_TYPE_SIGNING ||
			cert.key_type != TORCERT_KEY_TYPE_ED25519))
		rc = -EINVAL;
	if (rc != 0)
		return fail(err, rc, cert_path,
				"cannot load the signing certificate: %s",
				describe(rc));
	/* Expiry is the schedule's business; here only the signature counts,
	 * so verify as of the epoch. */
	if (!cert.has_signing_key ||
			memcmp(cert.signing_key, keys->master.public_key,
				ED25519_PUBLIC_KEY_LEN) != 0 ||
			torcert_verify(&cert, keys->master.public_key, 0) != 0)
		return fail(err, -EINVAL, cert_path,
				"not signed by ed25519_master_id_secret_key");

	rc = malformed_as_einval(ed25519_secret_key_file_load(key_path_buf,
			&secret_file));
	if (rc == 0 && strcmp(secret_file.tag, TOR_KEY_FILE_TAG_SIGNING) != 0)
		rc = -EINVAL;
	if (rc != 0) {
		ct_wipe(&secret_file, sizeof(secret_file));
		return fail(err, rc, key_path_buf,
				"cannot load the signing key: %s",
				describe(rc));
	}
	if (memcmp(cert.certified_key, secret_file.keypair.public_key,
			ED25519_PUBLIC_KEY_LEN) != 0) {
		ct_wipe(&secret_file, sizeof(secret_file));
		return 1;
	}
	keys->signing = secret_file.keypair;
	ct_wipe(&secret_file, sizeof(secret_file));
	memcpy(keys->signing_cert, cert_file.cert, cert_file.cert_len);
	keys->signing_cert_len = cert_file.cert_len;
	keys->signing_cert_valid_until =
		(time_t)cert.expiration_hours * 3600;
	return 0;
}

static int
store_ntor(const char *path, const struct curve25519_keypair *keypair)
{
	struct curve25519_key_file file;
	int rc;

	memset(&file, 0, sizeof(file));
	snprintf(file.tag, sizeof(file.tag), "%s", TOR_KEY_FILE_TAG_NTOR);
	file.keypair = *keypair;
	rc = curve25519_key_file_store(path, &file);
	ct_wipe(&file, sizeof(file));
	return rc;
}

/* secret_onion_key_ntor (create) or its .old (optional). Returns 1 when
 * loaded, 0 when missing and not created, 2 when created. */
static int
load_ntor(const struct relay_keys *keys, const char *name, bool create,
		struct curve25519_keypair *out, struct relay_keys_error *err)
{
	char path[RELAY_KEYS_PATH_MAX];
	struct curve25519_key_file file;
	int rc = key_path(keys, name, path, err);

	if (rc != 0)
		return rc;
	rc = malformed_as_einval(curve25519_key_file_load(path, &file));
	if (rc == -ENOENT && !create)
		return 0;
	if (rc == -ENOENT) {
		rc = curve25519_keypair_generate(out);
		if (rc == 0)
			rc = store_ntor(path, out);
		if (rc != 0)
			return fail(err, rc, path, "cannot write: %s",
					describe(rc));
		return 2;
	}
	if (rc == 0 && strcmp(file.tag, TOR_KEY_FILE_TAG_NTOR) != 0)
		rc = -EINVAL;
	if (rc != 0) {
		ct_wipe(&file, sizeof(file));
		return fail(err, rc, path, "cannot load curve25519 key: %s",
				describe(rc));
	}
	*out = file.keypair;
	ct_wipe(&file, sizeof(file));
	return 1;
}

/* The rotation clock: the mtime of secret_onion_key_ntor, within tor's
 * bounds for LastRotatedOnionKey, else now (written back so it survives a
 * restart). */
static int
load_onion_key_set_at(struct relay_keys *keys, bool created, time_t now,
		struct relay_keys_error *err)
{
	char path[RELAY_KEYS_PATH_MAX];
	struct stat st;
	int rc = key_path(keys, "secret_onion_key_ntor", path, err);

	if (rc != 0)
		return rc;
	if (!created) {
		if (stat(path, &st) != 0)
			return fail(err, -errno, path, "%s", strerror(errno));
		if (st.st_mtime > ONION_KEY_SET_AT_MIN && st.st_mtime <= now) {
			keys->onion_key_set_at = st.st_mtime;
			return 0;
		}
	}
	keys->onion_key_set_at = now;
	return set_mtime(path, now, err);
}

int
relay_keys_load_or_create(const char *datadir, time_t now,
		struct relay_keys **out, struct relay_keys_error *err)
{
	struct relay_keys *keys;
	int rc, ntor_state, n;

	*out = NULL;
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	keys = calloc(1, sizeof(*keys));
	if (keys == NULL)
		return fail(err, -ENOMEM, datadir, "out of memory");
	n = snprintf(keys->keys_dir, sizeof(keys->keys_dir), "%s/keys", datadir);
	if (n < 0 || (size_t)n >= sizeof(keys->keys_dir)) {
		rc = fail(err, -ENAMETOOLONG, datadir, "path too long");
		goto error;
	}
	if ((rc = private_dir(datadir, err)) != 0 ||
			(rc = private_dir(keys->keys_dir, err)) != 0)
		goto error;

	if ((rc = load_rsa(keys, "secret_id_key", true, &keys->identity,
			err)) != 0)
		goto error;
	rc = rsa_identity_fingerprint(keys->identity, keys->fingerprint);
	if (rc != 0) {
		rc = fail(err, rc, keys->keys_dir, "cannot hash the identity key");
		goto error;
	}
	if ((rc = load_master(keys, err)) != 0)
		goto error;
	rc = load_signing(keys, err);
	if (rc == 1)
		rc = make_signing(keys, now, err);
	if (rc != 0)
		goto error;

	if ((rc = load_rsa(keys, "secret_onion_key", true, &keys->tap,
			err)) != 0 ||
			(rc = load_rsa(keys, "secret_onion_key.old", false,
				&keys->tap_previous, err)) != 0)
		goto error;
	ntor_state = load_ntor(keys, "secret_onion_key_ntor", true, &keys->ntor,
			err);
	if (ntor_state < 0) {
		rc = ntor_state;
		goto error;
	}
	rc = load_ntor(keys, "secret_onion_key_ntor.old", false,
			&keys->ntor_previous, err);
	if (rc < 0)
		goto error;
	keys->has_ntor_previous = rc == 1;
	if ((rc = load_onion_key_set_at(keys, ntor_state == 2, now, err)) != 0)
		goto error;

	rc = relay_keys_rotate_if_due(keys, now, err);
	if (rc < 0)
		goto error;
	*out = keys;
	return 0;
error:
	relay_keys_free(keys);
	return rc;
}

static void
wipe_previous(struct relay_keys *keys)
{
	rsa_identity_free(keys->tap_previous);
	keys->tap_previous = NULL;
	ct_wipe(&keys->ntor_previous, sizeof(keys->ntor_previous));
	keys->has_ntor_previous = false;
}

/* tor check_onion_keys_expiry_time_callback / expire_old_onion_keys. */
static int
expire_previous_onion_keys(struct relay_keys *keys,
		struct relay_keys_error *err)
{
	char tap_old[RELAY_KEYS_PATH_MAX], ntor_old[RELAY_KEYS_PATH_MAX];
	int rc;

	wipe_previous(keys);
	if ((rc = key_path(keys, "secret_onion_key.old", tap_old, err)) != 0 ||
			(rc = key_path(keys, "secret_onion_key_ntor.old",
				ntor_old, err)) != 0)
		return rc;
	if ((rc = remove_file(tap_old, err)) != 0)
		return rc;
	return remove_file(ntor_old, err);
}

/* tor rotate_onion_key: current -> .old, new current, clock restarted. */
static int
rotate_onion_keys(struct relay_keys *keys, time_t now,
		struct relay_keys_error *err)
{
	char tap_path[RELAY_KEYS_PATH_MAX], tap_old[RELAY_KEYS_PATH_MAX];
	char ntor_path[RELAY_KEYS_PATH_MAX], ntor_old[RELAY_KEYS_PATH_MAX];
	struct rsa_identity *new_tap = NULL;
	struct curve25519_keypair new_ntor;
	int rc;

	if ((rc = key_path(keys, "secret_onion_key", tap_path, err)) != 0 ||
			(rc = key_path(keys, "secret_onion_key.old", tap_old,
				err)) != 0 ||
			(rc = key_path(keys, "secret_onion_key_ntor", ntor_path,
				err)) != 0 ||
			(rc = key_path(keys, "secret_onion_key_ntor.old",
				ntor_old, err)) != 0)
		return rc;

	rc = rsa_identity_generate(&new_tap);
	if (rc != 0)
		return fail(err, rc, tap_path, "cannot generate: %s",
				describe(rc));
	if (rename(tap_path, tap_old) != 0 && errno != ENOENT) {
		rc = fail(err, -errno, tap_path, "cannot rename to .old: %s",
				strerror(errno));
		rsa_identity_free(new_tap);
		return rc;
	}
	rc = rsa_identity_store(new_tap, tap_path);
	if (rc != 0) {
		rsa_identity_free(new_tap);
		return fail(err, rc, tap_path, "cannot write: %s",
				describe(rc));
	}
	rsa_identity_free(keys->tap_previous);
	keys->tap_previous = keys->tap;
	keys->tap = new_tap;

	rc = curve25519_keypair_generate(&new_ntor);
	if (rc != 0)
		return fail(err, rc, ntor_path, "cannot generate: %s",
				describe(rc));
	if (rename(ntor_path, ntor_old) != 0 && errno != ENOENT) {
		rc = fail(err, -errno, ntor_path, "cannot rename to .old: %s",
				strerror(errno));
		ct_wipe(&new_ntor, sizeof(new_ntor));
		return rc;
	}
	rc = store_ntor(ntor_path, &new_ntor);
	if (rc != 0) {
		ct_wipe(&new_ntor, sizeof(new_ntor));
		return fail(err, rc, ntor_path, "cannot write: %s",
				describe(rc));
	}
	keys->ntor_previous = keys->ntor;
	keys->has_ntor_previous = true;
	keys->ntor = new_ntor;
	ct_wipe(&new_ntor, sizeof(new_ntor));
	keys->onion_key_set_at = now;
	return set_mtime(ntor_path, now, err);
}

int
relay_keys_rotate_if_due(struct relay_keys *keys, time_t now,
		struct relay_keys_error *err)
{
	bool has_previous = keys->tap_previous != NULL ||
		keys->has_ntor_previous;
	int changed = 0, rc;

	/* Expire before rotating: after a long downtime both are due, and the
	 * key that was current until now must survive as the previous one. */
	if (has_previous && keys->onion_key_set_at +
			RELAY_KEYS_ONION_KEY_GRACE_PERIOD <= now) {
		rc = expire_previous_onion_keys(keys, err);
		if (rc != 0)
			return rc;
	}
	if (keys->onion_key_set_at + RELAY_KEYS_ONION_KEY_LIFETIME <= now) {
		rc = rotate_onion_keys(keys, now, err);
		if (rc != 0)
			return rc;
		changed = 1;
	}
	/* routerkeys.c: want_new_signing_key = EXPIRES_SOON(cert, slop), i.e.
	 * valid_until < now + slop. */
	if (keys->signing_cert_valid_until < now + RELAY_KEYS_SIGNING_KEY_SLOP) {
		rc = make_signing(keys, now, err);
		if (rc != 0)
			return rc;
		changed = 1;
	}
	return changed;
}

void
relay_keys_free(struct relay_keys *keys)
{
	if (keys == NULL)
		return;
	rsa_identity_free(keys->identity);
	rsa_identity_free(keys->tap);
	rsa_identity_free(keys->tap_previous);
	ct_wipe(keys, sizeof(*keys));
	free(keys);
}

bool
relay_nickname_is_valid(const char *nickname)
{
	size_t len = 0;

	if (nickname == NULL)
		return false;
	for (; nickname[len] != '\0'; len++) {
		char c = nickname[len];

		if (len >= 19 || !((c >= 'A' && c <= 'Z') ||
				(c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	return len >= 1;
}

int
relay_keys_write_fingerprint_files(const struct relay_keys *keys,
		const char *datadir, const char *nickname,
		struct relay_keys_error *err)
{
	char path[RELAY_KEYS_PATH_MAX], line[64];
	char hex[RSA_IDENTITY_FINGERPRINT_HEX_LEN + 1];
	char ed_base64[sodium_base64_ENCODED_LEN(ED25519_PUBLIC_KEY_LEN,
			sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
	int n, rc;

	if (!relay_nickname_is_valid(nickname))
		return fail(err, -EINVAL, datadir, "invalid nickname");
	rsa_fingerprint_to_hex(keys->fingerprint, hex);
	n = snprintf(path, sizeof(path), "%s/fingerprint", datadir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return fail(err, -ENAMETOOLONG, datadir, "path too long");
	n = snprintf(line, sizeof(line), "%s %s\n", nickname, hex);
	rc = tor_key_file_write(path, (const uint8_t *)line, (size_t)n);
	if (rc != 0)
		return fail(err, rc, path, "cannot write: %s", describe(rc));

	sodium_bin2base64(ed_base64, sizeof(ed_base64), keys->master.public_key,
			ED25519_PUBLIC_KEY_LEN,
			sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	n = snprintf(path, sizeof(path), "%s/fingerprint-ed25519", datadir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return fail(err, -ENAMETOOLONG, datadir, "path too long");
	n = snprintf(line, sizeof(line), "%s %s\n", nickname, ed_base64);
	rc = tor_key_file_write(path, (const uint8_t *)line, (size_t)n);
	if (rc != 0)
		return fail(err, rc, path, "cannot write: %s", describe(rc));
	return 0;
}

const struct rsa_identity *
relay_keys_identity(const struct relay_keys *keys)
{
	return keys->identity;
}

const uint8_t *
relay_keys_fingerprint(const struct relay_keys *keys)
{
	return keys->fingerprint;
}

const struct ed25519_keypair *
relay_keys_master(const struct relay_keys *keys)
{
	return &keys->master;
}

const struct ed25519_keypair *
relay_keys_signing(const struct relay_keys *keys)
{
	return &keys->signing;
}

const uint8_t *
relay_keys_signing_cert(const struct relay_keys *keys, size_t *len)
{
	*len = keys->signing_cert_len;
	return keys->signing_cert;
}

time_t
relay_keys_signing_cert_valid_until(const struct relay_keys *keys)
{
	return keys->signing_cert_valid_until;
}

const struct rsa_identity *
relay_keys_tap_onion_key(const struct relay_keys *keys)
{
	return keys->tap;
}

const struct curve25519_keypair *
relay_keys_ntor_onion_key(const struct relay_keys *keys)
{
	return &keys->ntor;
}

const struct rsa_identity *
relay_keys_tap_onion_key_previous(const struct relay_keys *keys)
{
	return keys->tap_previous;
}

const struct curve25519_keypair *
relay_keys_ntor_onion_key_previous(const struct relay_keys *keys)
{
	return keys->has_ntor_previous ? &keys->ntor_previous : NULL;
}

time_t
relay_keys_onion_key_set_at(const struct relay_keys *keys)
{
	return keys->onion_key_set_at;
}

void
relay_keys_ntor_server_keys(const struct relay_keys *keys,
		struct ntor_server_keys *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->node_id, keys->fingerprint, NTOR_NODE_ID_LEN);
	memcpy(out->onion_keys[0].secret_key, keys->ntor.secret,
			NTOR_KEY_LEN);
	memcpy(out->onion_keys[0].public_key, keys->ntor.public_key,
			NTOR_KEY_LEN);
	out->onion_key_count = 1;
	if (keys->has_ntor_previous) {
		memcpy(out->onion_keys[1].secret_key,
				keys->ntor_previous.secret, NTOR_KEY_LEN);
		memcpy(out->onion_keys[1].public_key,
				keys->ntor_previous.public_key, NTOR_KEY_LEN);
		out->onion_key_count = 2;
	}
}
