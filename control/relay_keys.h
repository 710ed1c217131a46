/* The relay's long- and medium-term keys in DataDirectory/keys/, with tor's
 * file names and formats, so that a DataDirectory is interchangeable with
 * tor 0.4.9's (`tor --list-fingerprint --DataDirectory DIR` reads ours and
 * prints the fingerprints we compute; we read tor's).
 *
 *   secret_id_key                 RSA-1024 identity (fingerprint, signing-key,
 *                                 router-signature)
 *   ed25519_master_id_secret_key  Ed25519 master identity
 *   ed25519_master_id_public_key
 *   ed25519_signing_secret_key    Ed25519 medium-term signing key and its
 *   ed25519_signing_cert          type-04 certificate by the master key
 *   secret_onion_key              RSA-1024 TAP onion key: never used for
 *                                 circuits, but 0.4.9 authorities reject a
 *                                 descriptor without it
 *   secret_onion_key_ntor         curve25519 ntor onion key
 *   secret_onion_key.old          the previous onion keys, kept for a grace
 *   secret_onion_key_ntor.old     period after a rotation
 *
 * Directories are created 0700 (an existing one with group or other bits is
 * narrowed to 0700, as tor does), files 0600 (written through a temporary
 * file and rename).
 *
 * Schedule (tor 0.4.9 defaults, router.c, routerkeys.c, relay_periodic.c):
 * - the signing key and its certificate (lifetime SigningKeyLifetime, 30
 *   days) are replaced by new ones once the certificate expires within
 *   TestingSigningKeySlop (1 day);
 * - the onion keys (TAP and ntor together) are rotated every 28 days
 *   (OnionKeyRotationDays, consensus "onion-key-rotation-days"); the
 *   previous ones are kept in the .old files and accepted for 7 days after
 *   the rotation (consensus "onion-key-grace-period-days"), then deleted.
 * tor keeps the time of the last onion key rotation in its state file; we
 * keep it as the modification time of secret_onion_key_ntor, which we set
 * to the rotation time when writing the key. A time in the future or
 * before 1970-01-01 00:01:40 (tor's sanity bounds) restarts the clock at
 * "now", as tor does with a missing or bad LastRotatedOnionKey.
 *
 * Time is always passed in by the caller. The key set is opaque and owned
 * by the caller; accessors return pointers into it, valid until the next
 * relay_keys_rotate_if_due() or relay_keys_free().
 */
#ifndef HSRELAY_CONTROL_RELAY_KEYS_H
#define HSRELAY_CONTROL_RELAY_KEYS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "crypto/rsa_identity.h"
#include "crypto/tor_keys.h"

struct ntor_server_keys;

#define RELAY_KEYS_DAY (24 * 60 * 60)
/* SigningKeyLifetime default (tor config.c). */
#define RELAY_KEYS_SIGNING_KEY_LIFETIME (30 * RELAY_KEYS_DAY)
/* TestingSigningKeySlop default: renew when expiring within this. */
#define RELAY_KEYS_SIGNING_KEY_SLOP (1 * RELAY_KEYS_DAY)
/* DEFAULT_ONION_KEY_LIFETIME_DAYS (or.h); also the lifetime of the ntor
 * crosscert in the descriptor (router.c get_onion_key_lifetime). */
#define RELAY_KEYS_ONION_KEY_LIFETIME (28 * RELAY_KEYS_DAY)
/* DEFAULT_ONION_KEY_GRACE_PERIOD_DAYS (or.h). */
#define RELAY_KEYS_ONION_KEY_GRACE_PERIOD (7 * RELAY_KEYS_DAY)

#define RELAY_KEYS_PATH_MAX PATH_MAX

struct relay_keys;

/* What went wrong and with which file or directory. */
struct relay_keys_error {
	char path[RELAY_KEYS_PATH_MAX];
	char message[160];
};

/* Loads the keys from datadir/keys/, creating the directories and every
 * missing key on first start, then applies whatever the schedule says is
 * due at now (as tor does at start-up). An existing key is never replaced
 * by a new one because it is unreadable: that is an error naming the file
 * (-EINVAL malformed or not a key tor accepts, -errno from the system).
 * Also an error: a master public key file that does not match the secret,
 * or a signing certificate not made by the master key; a master secret key
 * missing while its public key exists (tor's offline-master-key mode, not
 * supported). A signing key without its certificate, or the other way
 * round, is replaced by a new pair.
 * On success *out owns the keys (free with relay_keys_free()); on failure
 * *out is NULL and err (if not NULL) names the file. */
int relay_keys_load_or_create(const char *datadir, time_t now,
		struct relay_keys **out, struct relay_keys_error *err);

/* Runs the schedule at now: expires the previous onion keys after the
 * grace period (deleting the .old files), rotates the onion keys when they
 * are 28 days old, renews the signing key and certificate when the
 * certificate expires within a day. Call it periodically (tor: every 30 s
 * for the signing key, every consensus check for onion keys).
 * Returns 1 when the descriptor changed (new onion keys or signing key:
 * build and upload a new one), 0 when nothing that the descriptor shows
 * changed, or a negative errno with err naming the file; on error the keys
 * in memory are still consistent (the old ones, or the new ones when only a
 * later step failed). */
int relay_keys_rotate_if_due(struct relay_keys *keys, time_t now,
		struct relay_keys_error *err);

/* Wipes and frees; NULL is fine. */
void relay_keys_free(struct relay_keys *keys);

/* Writes DataDirectory/fingerprint ("NICKNAME HEXFP\n") and
 * fingerprint-ed25519 ("NICKNAME BASE64\n") as tor does at start-up.
 * -EINVAL for a nickname that is not 1-19 characters [A-Za-z0-9]. */
int relay_keys_write_fingerprint_files(const struct relay_keys *keys,
		const char *datadir, const char *nickname,
		struct relay_keys_error *err);

/* Accessors. */
const struct rsa_identity *relay_keys_identity(const struct relay_keys *keys);
/* SHA-1 of the DER identity key (RSA_IDENTITY_FINGERPRINT_LEN bytes). */
const uint8_t *relay_keys_fingerprint(const struct relay_keys *keys);
const struct ed25519_keypair *relay_keys_master(const struct relay_keys *keys);
const struct ed25519_keypair *relay_keys_signing(const struct relay_keys *keys);
/* The encoded type-04 certificate (the ed25519_signing_cert body). */
const uint8_t *relay_keys_signing_cert(const struct relay_keys *keys,
		size_t *len);
/* When the schedule treats the certificate as expired: now + lifetime for
 * one made by this process, EXPIRATION_DATE * 3600 for a loaded one (as
 * tor's tor_cert_t.valid_until). */
time_t relay_keys_signing_cert_valid_until(const struct relay_keys *keys);
const struct rsa_identity *relay_keys_tap_onion_key(
		const struct relay_keys *keys);
const struct curve25519_keypair *relay_keys_ntor_onion_key(
		const struct relay_keys *keys);
/* The previous keys during the grace period, NULL otherwise. */
const struct rsa_identity *relay_keys_tap_onion_key_previous(
		const struct relay_keys *keys);
const struct curve25519_keypair *relay_keys_ntor_onion_key_previous(
		const struct relay_keys *keys);
/* When the current onion keys were made (the rotation clock). */
time_t relay_keys_onion_key_set_at(const struct relay_keys *keys);

/* Fills what crypto/ntor.h's server handshake needs: node id and the
 * current, then the previous ntor key. */
void relay_keys_ntor_server_keys(const struct relay_keys *keys,
		struct ntor_server_keys *out);

/* True when nickname is 1-19 characters of [A-Za-z0-9] (dir-spec 2.1.1). */
bool relay_nickname_is_valid(const char *nickname);

#endif
