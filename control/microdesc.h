/* Microdescriptors (dir-spec 3.3), as served by /tor/micro/d/ and stored
 * in cached-microdescs:
 *
 *   onion-key NL RSA PUBLIC KEY object   at most once, first (TAP; optional
 *                                        since tor 0.4.9 / prop 350)
 *   ntor-onion-key base64(32)            exactly once
 *   a [IPv6]:port                        any number (ignored)
 *   family names                         at most once
 *   p accept|reject PortList             at most once (absent = reject all)
 *   p6 accept|reject PortList            at most once (absent = reject all)
 *   id ed25519 base64(32)                at most once per key type
 *   id rsa1024 base64(20)                at most once per key type
 *   pr Entries                           at most once
 * Annotations ("@last-listed ...") may precede a microdescriptor; they are
 * skipped and not part of its digest. Unknown keywords are ignored.
 *
 * The digest that names a microdescriptor in the microdesc consensus ("m")
 * is SHA-256 over its text from its first keyword ("onion-key", or
 * "ntor-onion-key" when there is no TAP key) up to the start of the next
 * microdescriptor (or the end of the input), trailing newlines included.
 * A new microdescriptor starts at an "onion-key" line, or at an
 * "ntor-onion-key" line when the current one already has one, or at an
 * annotation.
 *
 * Bounds: a microdescriptor is at most MICRODESC_MAX_LEN bytes; lines and
 * objects as in control/dirdoc_meta.h. Variable-size fields (family, port
 * lists) point into the input, which must outlive the struct.
 */
#ifndef HSRELAY_CONTROL_MICRODESC_H
#define HSRELAY_CONTROL_MICRODESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/consensus.h"
#include "control/dirdoc_meta.h"
#include "control/protover.h"

/* tor's microdescriptors are about 500 bytes; family lines of large
 * operators make a few of them a few kilobytes. */
#define MICRODESC_MAX_LEN 32768
#define MICRODESC_DIGEST_LEN 32
#define MICRODESC_KEY_LEN 32

/* A port-list summary (dir-spec 3.8.2), checked when parsed. */
struct microdesc_policy {
	bool present;
	bool accept;
	struct dirdoc_span ports;       /* "80,443,1000-2000" */
};

struct microdesc {
	uint8_t digest[MICRODESC_DIGEST_LEN];
	struct dirdoc_span text;        /* the digested bytes */
	bool has_tap_key;
	struct dirdoc_span tap_key_object;  /* base64 of the RSA key */
	uint8_t ntor_onion_key[MICRODESC_KEY_LEN];
	bool has_ed25519_id;
	uint8_t ed25519_id[MICRODESC_KEY_LEN];
	bool has_rsa1024_id;
	uint8_t rsa1024_id[20];
	bool has_family;
	struct dirdoc_span family;      /* the family line's arguments */
	struct microdesc_policy ipv4_policy;
	struct microdesc_policy ipv6_policy;
	bool has_protocols;
	struct protover_set protocols;
};

/* Parses the microdescriptor at *p (after any empty lines and
 * annotations) and advances *p to the start of the next one, so a
 * concatenated response parses by calling this until *p == end. Returns 0,
 * -EPROTO (malformed; err names the line), or -EMSGSIZE; on failure *p is
 * untouched. */
int microdesc_parse(const uint8_t **p, const uint8_t *end,
		struct microdesc *out, struct dirdoc_error *err);

/* True when the policy summary allows port (absent policy: false). */
bool microdesc_policy_allows(const struct microdesc_policy *policy,
		uint16_t port);

/* The router of a microdesc consensus that names md by its digest, or
 * NULL. */
const struct consensus_router *microdesc_find_router(
		const struct consensus *c, const struct microdesc *md);

#endif
