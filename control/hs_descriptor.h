/* The HSDir side of onion-service descriptors (rend-spec-v3 2.2, 2.4):
 * the outer layer of a v3 descriptor checked as tor 0.4.9's HSDir checks it
 * before storing it (hs_cache_store_as_dir -> hs_desc_decode_plaintext),
 * and the time-period and hash-ring values an HSDir needs.
 *
 * Outer layer (rend-spec-v3 2.4 [DESC-OUTER]), each keyword exactly once,
 * "hs-descriptor" first and "signature" last; other keywords are ignored:
 *
 *   hs-descriptor 3
 *   descriptor-lifetime <minutes>
 *   descriptor-signing-key-cert NL "ED25519 CERT" object (cert-spec type 08)
 *   revision-counter <u64>
 *   superencrypted NL "MESSAGE" object (opaque here)
 *   signature <base64 Ed25519 signature, 86 characters>
 *
 * The HSDir never decrypts the superencrypted layer: it lacks the
 * subcredential. All functions are pure; the text is not modified and the
 * returned spans point into it.
 */
#ifndef HSRELAY_CONTROL_HS_DESCRIPTOR_H
#define HSRELAY_CONTROL_HS_DESCRIPTOR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "crypto/tor_keys.h"

/* HSV3MaxDescriptorSize consensus parameter default (hs_cache.c); tor
 * rejects descriptors of this size or more. */
#define HS_DESC_MAX_SIZE_DEFAULT 50000
/* HS_DESC_MAX_LIFETIME: 12 hours. */
#define HS_DESC_MAX_LIFETIME_SEC (12 * 3600)
#define HS_DESC_SUPPORTED_VERSION 3
#define HS_DESC_SIG_PREFIX "Tor onion service descriptor sig v3"
/* The superencrypted blob is salt[16] || ciphertext || MAC[32]; tor wants
 * more than salt and MAC. */
#define HS_DESC_ENCRYPTED_MIN_LEN (16 + 32 + 1)
/* Base64 of a 64-byte Ed25519 signature without '=' padding. */
#define HS_DESC_SIG_BASE64_LEN 86
#define HS_BLINDED_KEY_LEN ED25519_PUBLIC_KEY_LEN

/* What the HSDir keeps of a descriptor's outer layer. */
struct hs_desc_outer {
	uint32_t version;
	/* descriptor-lifetime * 60, computed in 32 bits as tor does: a
	 * cache entry expires lifetime_sec after it was stored. */
	uint32_t lifetime_sec;
	uint64_t revision_counter;
	/* The certificate's signing key (extension 04): the cache index. */
	uint8_t blinded_key[HS_BLINDED_KEY_LEN];
	/* The certified key: the descriptor signing key. */
	uint8_t signing_key[ED25519_PUBLIC_KEY_LEN];
	/* EXPIRATION_DATE of the certificate, in seconds since the epoch. */
	time_t cert_expiration;
	/* Base64 text of the superencrypted object (between its BEGIN and
	 * END lines) and its decoded length. */
	const uint8_t *superencrypted_base64;
	size_t superencrypted_base64_len;
	size_t superencrypted_len;
	/* Bytes covered by the signature (up to "signature ", excluded). */
	size_t signed_len;
};

/* Which check of tor 0.4.9's hs_desc_decode_plaintext() failed, in its
 * order (docs/hs-roles.md lists them with their sources). Each one makes
 * tor's HSDir answer "400 Invalid HS descriptor. Rejected." */
enum hs_desc_check {
	HS_DESC_OK = 0,
	HS_DESC_TOO_BIG,                /* length >= max_size */
	HS_DESC_NUL,                    /* a NUL byte (tor reads a C string) */
	HS_DESC_MALFORMED,              /* tokenizer: line, object, base64 */
	HS_DESC_BAD_ITEM_SYNTAX,        /* a known keyword with wrong args/object */
	HS_DESC_BAD_ITEM_COUNT,         /* a keyword missing or repeated */
	HS_DESC_NOT_FIRST,              /* first item is not hs-descriptor */
	HS_DESC_NOT_LAST,               /* last item is not signature */
	HS_DESC_ANNOTATION,             /* an "@" item */
	HS_DESC_BAD_VERSION,            /* not a u32, or not 3 */
	HS_DESC_BAD_LIFETIME,           /* not a u32, or over 12 h */
	HS_DESC_CERT_OBJECT_TYPE,       /* object is not "ED25519 CERT" */
	HS_DESC_CERT_MALFORMED,         /* cert-spec parse, or bytes after it */
	HS_DESC_CERT_TYPE,              /* not type 08 */
	HS_DESC_CERT_NO_SIGNING_KEY,    /* no extension 04 */
	HS_DESC_CERT_INVALID,           /* bad signature, critical unknown ext */
	HS_DESC_CERT_EXPIRED,
	HS_DESC_BAD_REVISION_COUNTER,
	HS_DESC_SUPERENCRYPTED_TYPE,    /* object is not "MESSAGE" */
	HS_DESC_SUPERENCRYPTED_SHORT,   /* decoded <= 48 bytes */
	HS_DESC_SIGNATURE_ENCODING,     /* not 86 base64 chars of 64 bytes */
	HS_DESC_SIGNATURE_LINE,         /* no "\nsignature " in the text */
	HS_DESC_BAD_SIGNATURE,
};

/* Short name of a check ("cert-expired"), for logs. */
const char *hs_desc_check_name(enum hs_desc_check check);

/* Checks the outer layer of the descriptor text[0 .. len) in tor 0.4.9's
 * order, with max_size the HSV3MaxDescriptorSize consensus parameter
 * (HS_DESC_MAX_SIZE_DEFAULT without one) and now the time the certificate
 * must not have expired at. Returns 0 with *out filled, -EPROTO with
 * *failed naming the first failed check, -ENOMEM, or -EIO (libsodium).
 * *failed is HS_DESC_OK unless -EPROTO. The caller still compares the
 * revision counter with a cached descriptor for the same blinded key
 * (a store needs it strictly greater). */
int hs_desc_outer_parse(const uint8_t *text, size_t len, size_t max_size,
		time_t now, struct hs_desc_outer *out,
		enum hs_desc_check *failed);

/* Time periods (rend-spec-v3 2.2.1 [TIME-PERIODS]). */
#define HS_TIME_PERIOD_LENGTH_DEFAULT 1440      /* minutes */
#define HS_TIME_PERIOD_LENGTH_MIN 30            /* hsdir_interval bounds */
#define HS_TIME_PERIOD_LENGTH_MAX 14400
/* Shared-random rounds per phase (shared_random_client.h). */
#define HS_SR_ROUNDS_PER_PHASE 12

/* Time-period parameters of one network. */
struct hs_time_period_params {
	uint64_t length_minutes;        /* period length */
	uint64_t rotation_offset_sec;   /* one SR phase */
};

/* The live network's values from its voting interval: period length
 * hsdir_interval (given, or the default when 0), rotation offset 12 voting
 * intervals (43200 s with hourly votes). */
struct hs_time_period_params hs_time_period_params_live(
		uint32_t hsdir_interval_minutes, uint32_t voting_interval_sec);

/* TestingTorNetwork values: the period is one SR protocol run, 24 voting
 * intervals (in whole minutes), and the offset 12 voting intervals. */
struct hs_time_period_params hs_time_period_params_testing(
		uint32_t voting_interval_sec);

/* The period number at `when` (the valid-after of the live consensus):
 * (when / 60 - offset / 60) / length, in integer minutes as tor computes
 * it. 0 when `when` is before the first period (tor asserts). */
uint64_t hs_time_period_num(const struct hs_time_period_params *params,
		time_t when);

/* Start time of period number period_num: period_num * length * 60 +
 * offset (so hs_time_period_start(num + 1) is when num ends). */
time_t hs_time_period_start(const struct hs_time_period_params *params,
		uint64_t period_num);

#define HS_INDEX_LEN 32
#define HS_SRV_LEN 32

/* A descriptor's position on the ring (rend-spec-v3 2.2.3):
 * SHA3-256("store-at-idx" || blinded_key || INT_8(replica) ||
 * INT_8(period_length) || INT_8(period_num)). Replicas count from 1.
 * 0 or -EIO. */
int hs_build_hs_index(const uint8_t blinded_key[HS_BLINDED_KEY_LEN],
		uint64_t replica, uint64_t period_length_minutes,
		uint64_t period_num, uint8_t out[HS_INDEX_LEN]);

/* A relay's position on the ring (rend-spec-v3 2.2.3):
 * SHA3-256("node-idx" || ed25519_id || SRV || INT_8(period_num) ||
 * INT_8(period_length)) - note the order differs from the store index.
 * 0 or -EIO. */
int hs_build_hsdir_index(const uint8_t ed25519_id[ED25519_PUBLIC_KEY_LEN],
		const uint8_t srv[HS_SRV_LEN], uint64_t period_num,
		uint64_t period_length_minutes, uint8_t out[HS_INDEX_LEN]);

/* The SRV used when the consensus has none (rend-spec-v3 2.2.2):
 * SHA3-256("shared-random-disaster" || INT_8(period_length) ||
 * INT_8(period_num)). 0 or -EIO. */
int hs_build_disaster_srv(uint64_t period_length_minutes, uint64_t period_num,
		uint8_t out[HS_SRV_LEN]);

#endif
