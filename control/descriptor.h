/* The relay's server descriptor (dir-spec 2.1.1), built and signed in the
 * shape tor 0.4.9.11 emits for a non-exit relay without a DirPort
 * (router.c router_dump_router_to_string; measured in a capture of a real
 * upload):
 *
 *   router NICK ADDRESS ORPORT 0 0
 *   identity-ed25519 + ED25519 CERT object (the type-04 signing cert)
 *   master-key-ed25519 BASE64
 *   platform TEXT
 *   proto ENTRIES
 *   published YYYY-MM-DD HH:MM:SS
 *   fingerprint XXXX XXXX ... (10 groups)
 *   uptime SECONDS
 *   bandwidth RATE BURST OBSERVED
 *   onion-key + RSA PUBLIC KEY object (TAP)
 *   signing-key + RSA PUBLIC KEY object (identity)
 *   onion-key-crosscert + CROSSCERT object
 *   ntor-onion-key-crosscert SIGNBIT + ED25519 CERT object
 *   [family ...]
 *   [hibernating 1]
 *   [hidden-service-dir]
 *   [family-cert + FAMILY CERT object] (one per family key, tor 0.4.9)
 *   [contact TEXT]
 *   ntor-onion-key BASE64 (unpadded)
 *   reject *:*
 *   [tunnelled-dir-server]
 *   router-sig-ed25519 BASE64
 *   router-signature + SIGNATURE object
 *   (an empty line: tor's text ends with "\n\n")
 *
 * No extra-info document and no extra-info-digest line: tor-roles-and-
 * directory 4.7, nothing in flag assignment or path selection reads it, and
 * authorities accept descriptors without it (the interop test shows it).
 * Objects are base64 with '=' padding in 64-character lines, as tor writes
 * them; the key and signature on a keyword line are unpadded.
 *
 * Signatures (dir-spec 2.1.1 and tor-roles-and-directory 4.3):
 *   router-sig-ed25519: Ed25519 by the signing key over
 *     SHA-256("Tor router descriptor signature v1" || text from "router "
 *     through "router-sig-ed25519 ");
 *   router-signature: RSA identity, PKCS#1 v1.5 without DigestInfo, over
 *     SHA-1 of the text from "router " through "router-signature\n". That
 *     SHA-1 is the descriptor digest (/tor/server/d/HEX, consensus "r").
 */
#ifndef HSRELAY_CONTROL_DESCRIPTOR_H
#define HSRELAY_CONTROL_DESCRIPTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "crypto/rsa_identity.h"

struct ed25519_keypair;

struct relay_keys;

/* MAX_DESCRIPTOR_UPLOAD_SIZE (tor or.h): authorities reject larger ones. */
#define DESCRIPTOR_MAX_LEN 20000
#define DESCRIPTOR_DIGEST_LEN RSA_IDENTITY_FINGERPRINT_LEN
#define DESCRIPTOR_ED25519_SIGNATURE_PREFIX "Tor router descriptor signature v1"

/* The onion-service roles the relay offers. Each one adds its entries to
 * the proto line and its keyword line (see descriptor_protocols()); a role
 * that is not implemented yet must stay out, because clients pick relays
 * by these. */
enum descriptor_role {
	DESCRIPTOR_ROLE_INTRO = 1u << 0,	/* HSIntro=4-5 */
	DESCRIPTOR_ROLE_REND = 1u << 1,		/* HSRend=1-2 */
	DESCRIPTOR_ROLE_HSDIR = 1u << 2,	/* HSDir=2, hidden-service-dir */
	DESCRIPTOR_ROLE_DIR_CACHE = 1u << 3,	/* DirCache=2,
						 * tunnelled-dir-server */
};
#define DESCRIPTOR_ROLES_ALL (DESCRIPTOR_ROLE_INTRO | DESCRIPTOR_ROLE_REND | \
	DESCRIPTOR_ROLE_HSDIR | DESCRIPTOR_ROLE_DIR_CACHE)
/* What hsrelay offers today: a directory cache over BEGIN_DIR (consensus,
 * authority certificates, microdescriptors: dir_server.h), an HSDir (v3
 * descriptors stored and served: hsdir_store.h), the introduction point
 * (intro_point.h) and the rendezvous point (control/rendezvous.h, the
 * splice in dataplane/circuit.h): every role. */
#define DESCRIPTOR_ROLES_OFFERED DESCRIPTOR_ROLES_ALL

struct descriptor_params {
	const char *nickname;		/* 1-19 characters [A-Za-z0-9] */
	const char *address;		/* dotted IPv4 literal */
	uint16_t or_port;		/* not 0 */
	const char *platform;		/* e.g. "hsrelay 0.1.0 on Linux" */
	const char *contact;		/* NULL or "" for no contact line */
	/* Bytes per second; rate must not be 0. Values above INT32_MAX are
	 * written as INT32_MAX (tor prints them as int). */
	uint64_t bandwidth_rate;
	uint64_t bandwidth_burst;
	uint64_t bandwidth_observed;
	/* tor's overload-general line with its newline (control/overload.h),
	 * NULL or "" when the relay was not overloaded in the last 72 hours */
	const char *overload_general;
	uint64_t uptime;		/* seconds */
	time_t published;
	/* "$" + 40 hex digits, or nicknames; n_family 0 for no family line. */
	const char *const *family;
	size_t n_family;
	/* Family keys (FamilyId, control/family_keys.h): a family-cert line
	 * each, certifying our Ed25519 identity (cert type 0x0C). */
	const struct ed25519_keypair *family_keys;
	size_t n_family_keys;
	unsigned roles;			/* enum descriptor_role bits */
	/* AccountingMax (control/accounting.h): the relay hibernates, tor's
	 * we_are_hibernating(): "hibernating 1", and the caller passes 0 as
	 * bandwidth_observed (tor router.c) */
	bool hibernating;
	/* AccountingMax could spend the interval's budget on directory
	 * traffic (accounting_allows_dir_service() false, tor's
	 * router_should_be_dirserver()): no tunnelled-dir-server line even
	 * with DESCRIPTOR_ROLE_DIR_CACHE, whose proto entry stays, as in tor */
	bool no_tunnelled_dir_server;
};

/* tor 0.4.9 router.c FAMILY_CERT_LIFETIME: 30 days from publication. */
#define DESCRIPTOR_FAMILY_CERT_LIFETIME (30 * 86400)

/* The proto line's value for the given roles (without "proto "), e.g. for
 * DESCRIPTOR_ROLES_ALL "Cons=1-2 Desc=1-2 DirCache=2 FlowCtrl=1-2 HSDir=2
 * HSIntro=4-5 HSRend=1-2 Link=4-5 LinkAuth=3 Microdesc=1-2 Relay=2-4".
 * Returns the length written (NUL-terminated) or -EMSGSIZE. */
ssize_t descriptor_protocols(unsigned roles, char *out, size_t out_len);

/* Builds and signs the descriptor with keys' current identity, signing
 * key, onion keys and certificates. Writes the text and a NUL into out and
 * returns the text length; digest (if not NULL) gets the descriptor digest.
 * -EINVAL for a parameter tor would not accept (nickname, address, port 0,
 * rate 0, a control character or non-ASCII byte in platform or contact, a
 * malformed family entry), -EMSGSIZE when the text would not fit out_len or
 * exceeds DESCRIPTOR_MAX_LEN, -EIO when a signature fails. */
ssize_t descriptor_build(const struct descriptor_params *params,
		const struct relay_keys *keys, char *out, size_t out_len,
		uint8_t digest[DESCRIPTOR_DIGEST_LEN]);

/* Length of the signed document within a built descriptor: up to and
 * including the "-----END SIGNATURE-----\n" line, without tor's trailing
 * empty line. This is what an authority stores and serves back. */
size_t descriptor_signed_length(const char *text, size_t len);

#endif
