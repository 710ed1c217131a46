/* Network-status consensus documents (dir-spec 3.4.1), in the "ns" flavour
 * and the "microdesc" flavour (dir-spec 3.9.2), parsed into a compact form
 * that does not point into the document, and their signatures checked
 * against authority key certificates (dir-spec 1.3, 3.4.1
 * "directory-signature").
 *
 * What is kept:
 *   preamble   flavour, consensus-method, valid-after / fresh-until /
 *              valid-until, voting-delay, known-flags, params,
 *              shared-rand-previous-value / shared-rand-current-value,
 *              recommended/required client and relay protocols;
 *   authorities  dir-source (+ vote-digest);
 *   routers    r (nickname, identity, descriptor digest in ns, published,
 *              IPv4, ORPort, DirPort), first IPv6 "a", s (flags), pr, w
 *              (Bandwidth, Unmeasured), m (microdesc digest in microdesc);
 *   footer     bandwidth-weights, directory-signature entries.
 * Other lines (v, p, client-versions...) are checked only by the
 * meta-format; unknown keywords are ignored (dir-spec 1.2).
 *
 * Structure checks, as tor's ns_parse.c: network-status-version 3 first,
 * vote-status consensus, the preamble's exactly-once items once, at least
 * one dir-source, router entries sorted strictly by identity, "s" exactly
 * once and "m" exactly once (microdesc) per router, nothing after the first
 * directory-signature but more directory-signatures, and every signature's
 * identity a dir-source of the document.
 *
 * Bounds (-EMSGSIZE beyond): CONSENSUS_MAX_LEN bytes, CONSENSUS_MAX_ROUTERS
 * routers, CONSENSUS_MAX_KNOWN_FLAGS flags, CONSENSUS_MAX_PARAMS params and
 * weights, CONSENSUS_MAX_AUTHORITIES dir-sources, CONSENSUS_MAX_SIGNATURES
 * signatures; lines and objects as in control/dirdoc_meta.h.
 */
#ifndef HSRELAY_CONTROL_CONSENSUS_H
#define HSRELAY_CONTROL_CONSENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "control/authority_cert.h"
#include "control/dirdoc_meta.h"
#include "control/protover.h"

/* The live network's consensuses are about 3 MB for 8,000 relays. */
#define CONSENSUS_MAX_LEN (16u * 1024 * 1024)
#define CONSENSUS_MAX_ROUTERS 20000
/* tor's MAX_KNOWN_FLAGS_IN_VOTE. */
#define CONSENSUS_MAX_KNOWN_FLAGS 64
#define CONSENSUS_MAX_FLAG_LEN 31
#define CONSENSUS_MAX_PARAMS 128
#define CONSENSUS_MAX_PARAM_NAME_LEN 63
#define CONSENSUS_MAX_AUTHORITIES 32
#define CONSENSUS_MAX_SIGNATURES 32
/* Nicknames are 1..19 characters (dir-spec 2.1.1). */
#define CONSENSUS_MAX_NICKNAME_LEN 19
#define CONSENSUS_IDENTITY_LEN 20
#define CONSENSUS_SRV_LEN 32
/* Signatures of at most 4096-bit keys; tor requires 128..512 bytes. */
#define CONSENSUS_SIGNATURE_MIN_LEN 128
#define CONSENSUS_SIGNATURE_MAX_LEN 512
/* A consensus is still usable this long after valid-until (dir-spec
 * 3.4.1 "In practice, clients continue to use the consensus for up to 24
 * hours after it is no longer valid"). */
#define CONSENSUS_REASONABLY_LIVE_SECS (24 * 3600)

enum consensus_flavor {
	CONSENSUS_FLAVOR_NS,
	CONSENSUS_FLAVOR_MICRODESC,
};

/* Flags with a fixed bit in consensus_router.flags (dir-spec 3.4.1 "s"),
 * whatever their position in known-flags. */
enum consensus_flag {
	CONSENSUS_FLAG_AUTHORITY = 1u << 0,
	CONSENSUS_FLAG_BADEXIT = 1u << 1,
	CONSENSUS_FLAG_EXIT = 1u << 2,
	CONSENSUS_FLAG_FAST = 1u << 3,
	CONSENSUS_FLAG_GUARD = 1u << 4,
	CONSENSUS_FLAG_HSDIR = 1u << 5,
	CONSENSUS_FLAG_MIDDLEONLY = 1u << 6,
	CONSENSUS_FLAG_NOEDCONSENSUS = 1u << 7,
	CONSENSUS_FLAG_RUNNING = 1u << 8,
	CONSENSUS_FLAG_STABLE = 1u << 9,
	CONSENSUS_FLAG_STALEDESC = 1u << 10,
	CONSENSUS_FLAG_SYBIL = 1u << 11,
	CONSENSUS_FLAG_V2DIR = 1u << 12,
	CONSENSUS_FLAG_VALID = 1u << 13,
};

struct consensus_router {
	char nickname[CONSENSUS_MAX_NICKNAME_LEN + 1];
	uint8_t identity[CONSENSUS_IDENTITY_LEN];
	/* ns: SHA-1 of the server descriptor (20 bytes, rest zero);
	 * microdesc: SHA-256 of the microdescriptor. */
	uint8_t digest[32];
	time_t published;
	uint32_t ipv4;                  /* host byte order */
	uint16_t or_port;
	uint16_t dir_port;
	bool has_ipv6;                  /* first "a" line with an IPv6 address */
	uint8_t ipv6[16];
	uint16_t ipv6_port;
	uint32_t flags;                 /* enum consensus_flag bits */
	uint64_t known_flag_bits;       /* bit i = known-flags[i] */
	bool has_bandwidth;
	bool bandwidth_unmeasured;
	uint32_t bandwidth;             /* "w Bandwidth=", kilobytes/s */
	struct protover_set protocols;  /* "pr" */
};

struct consensus_srv {
	bool present;
	uint32_t num_reveals;
	uint8_t value[CONSENSUS_SRV_LEN];
};

struct consensus_authority {
	char nickname[CONSENSUS_MAX_NICKNAME_LEN + 8];  /* may end "-legacy" */
	uint8_t identity[CONSENSUS_IDENTITY_LEN];
	uint32_t ipv4;
	uint16_t dir_port;
	uint16_t or_port;
	bool has_vote_digest;
	uint8_t vote_digest[20];
};

enum consensus_digest_alg {
	CONSENSUS_DIGEST_SHA1,
	CONSENSUS_DIGEST_SHA256,
};

struct consensus_signature {
	enum consensus_digest_alg alg;
	uint8_t identity[CONSENSUS_IDENTITY_LEN];
	uint8_t signing_key_digest[20];
	size_t signature_len;
	uint8_t signature[CONSENSUS_SIGNATURE_MAX_LEN];
	unsigned line;
};

struct consensus;

/* Parses the consensus in [doc, doc + len). On success returns 0 and
 * stores a new consensus in *out (free with consensus_free()); the
 * document may be freed afterwards. On failure returns -EPROTO (malformed:
 * err names the line), -EMSGSIZE (a bound exceeded) or -ENOMEM, and *out is
 * untouched. Signatures are not checked here (consensus_verify()). */
int consensus_parse(const uint8_t *doc, size_t len, struct consensus **out,
		struct dirdoc_error *err);

/* Accepts NULL. */
void consensus_free(struct consensus *c);

struct consensus_verify_result {
	unsigned n_valid;              /* distinct configured authorities */
	unsigned n_bad;                /* signature did not verify */
	unsigned n_unknown_authority;  /* identity not configured */
	unsigned n_missing_cert;       /* no certificate for identity+key */
	unsigned n_bad_cert;           /* certificate invalid or expired */
	unsigned n_unknown_alg;        /* algorithm other than sha1/sha256 */
};

/* Checks the directory-signatures (dir-spec 3.4.1): each one whose
 * identity is among authorities[0..n_authorities) (v3 identity digests,
 * the DirAuthority v3ident values) and for which certs holds a certificate
 * with that identity and signing key digest, that certificate passing
 * authority_cert_verify(now), counts when its RSA signature over the
 * SHA-1 or SHA-256 (per its algorithm) of the document from
 * "network-status-version" through the space after the first
 * "directory-signature" verifies. Each authority counts once. Returns 0
 * when more than half of the n_authorities configured authorities count,
 * -EBADMSG otherwise (also when n_authorities is 0). result may be NULL. */
int consensus_verify(const struct consensus *c,
		const uint8_t (*authorities)[CONSENSUS_IDENTITY_LEN],
		size_t n_authorities, struct authority_cert *const *certs,
		size_t n_certs, time_t now,
		struct consensus_verify_result *result);

/* 0 when valid-after <= now + skew and now <= valid-until +
 * CONSENSUS_REASONABLY_LIVE_SECS, -ESTALE when older, -EAGAIN when not yet
 * valid. */
int consensus_check_time(const struct consensus *c, time_t now,
		time_t skew);

enum consensus_flavor consensus_flavor(const struct consensus *c);
unsigned consensus_method(const struct consensus *c);
time_t consensus_valid_after(const struct consensus *c);
time_t consensus_fresh_until(const struct consensus *c);
time_t consensus_valid_until(const struct consensus *c);
void consensus_voting_delay(const struct consensus *c, unsigned *vote_secs,
		unsigned *dist_secs);

/* known-flags: count and the index-th name. */
size_t consensus_n_known_flags(const struct consensus *c);
const char *consensus_known_flag(const struct consensus *c, size_t index);

/* The value of params entry name, or default_value when absent; a value
 * outside [min_value, max_value] is clamped to the nearer bound, as tor's
 * networkstatus_get_param does. */
int32_t consensus_param(const struct consensus *c, const char *name,
		int32_t default_value, int32_t min_value, int32_t max_value);
/* Same for a bandwidth-weights entry (Wmg...). */
int32_t consensus_bandwidth_weight(const struct consensus *c,
		const char *name, int32_t default_value);
size_t consensus_n_params(const struct consensus *c);

const struct consensus_srv *consensus_srv_current(const struct consensus *c);
const struct consensus_srv *consensus_srv_previous(const struct consensus *c);

/* The four protocol lines; all-zero sets when absent. */
const struct protover_set *consensus_recommended_relay_protocols(
		const struct consensus *c);
const struct protover_set *consensus_required_relay_protocols(
		const struct consensus *c);
const struct protover_set *consensus_recommended_client_protocols(
		const struct consensus *c);
const struct protover_set *consensus_required_client_protocols(
		const struct consensus *c);

size_t consensus_n_authorities(const struct consensus *c);
const struct consensus_authority *consensus_authority_at(
		const struct consensus *c, size_t index);
size_t consensus_n_signatures(const struct consensus *c);
const struct consensus_signature *consensus_signature_at(
		const struct consensus *c, size_t index);

/* Routers in identity order. */
size_t consensus_n_routers(const struct consensus *c);
const struct consensus_router *consensus_router_at(const struct consensus *c,
		size_t index);
/* Binary search by identity; NULL when not listed. */
const struct consensus_router *consensus_find_router(
		const struct consensus *c,
		const uint8_t identity[CONSENSUS_IDENTITY_LEN]);
/* True when identity is listed with all of flags (enum consensus_flag). */
bool consensus_router_has_flags(const struct consensus *c,
		const uint8_t identity[CONSENSUS_IDENTITY_LEN], uint32_t flags);
/* Microdesc flavour: the router whose "m" digest is digest, or NULL
 * (also always NULL in the ns flavour). */
const struct consensus_router *consensus_find_by_microdesc_digest(
		const struct consensus *c, const uint8_t digest[32]);

#endif
