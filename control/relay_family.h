/* The relay's declared family: torrc's MyFamily turned into the descriptor's
 * "family" line (dir-spec 2.1.1) the way tor 0.4.9 does it.
 *
 * Operators who run more than one relay must list them all in each one's
 * MyFamily, so that clients never put two of them in one circuit (tor-spec
 * path selection, dir-spec "family"). tor's rules, followed here:
 * - config (relay_config.c normalize_nickname_list()): each MyFamily line is
 *   a comma-separated list; an item is a nickname or "$" + 40 hex digits,
 *   optionally followed by "=NICK" or "~NICK"; 40 hex digits without the
 *   "$" get one; anything else is a configuration error;
 * - descriptor (router.c get_my_declared_family(), nodefamily.c): our own
 *   nickname is dropped; a nickname some router in the consensus has is
 *   replaced by that router's "$" identity, one no router has stays as the
 *   lower-cased nickname; "=NICK"/"~NICK" are dropped; our own identity is
 *   added; members are sorted (identities first, by digest, then
 *   nicknames) without duplicates; a family of only ourselves is no family.
 *
 * Pure functions: no logging, no allocation. */
#ifndef HSRELAY_CONTROL_RELAY_FAMILY_H
#define HSRELAY_CONTROL_RELAY_FAMILY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest normalized MyFamily item: "$" + 40 hex + "=" + 19-character
 * nickname. */
#define RELAY_FAMILY_ITEM_MAX 61
/* Longest member of the family line: "$" + 40 hex digits. */
#define RELAY_FAMILY_MEMBER_MAX 41
/* Most MyFamily items accepted: each costs up to 42 bytes of a descriptor
 * that tor's authorities take up to 20000 bytes of. */
#define RELAY_FAMILY_MAX 300

/* Normalizes one MyFamily item (surrounding blanks already stripped) into
 * out (at least RELAY_FAMILY_ITEM_MAX + 1 bytes): the item itself when it
 * is a nickname or "$"-digest, "$" + item when that makes it one. Returns
 * 0, or -EINVAL when it is neither (out then holds ""). */
int relay_family_normalize(const char *item, char *out, size_t out_len);

/* True when a normalized item names a relay by nickname rather than by
 * identity (tor warns about these: nicknames are not unique). */
bool relay_family_item_is_nickname(const char *item);

/* Finds the identity of a router called nickname (case-insensitive), as tor
 * looks it up in its node list; returns false when there is none. */
typedef bool (*relay_family_lookup_fn)(void *arg, const char *nickname, uint8_t identity[20]);

/* Builds the family line's members from n normalized items (as
 * relay_family_normalize() made them) for the relay self_nickname with
 * RSA identity self_identity. lookup (may be NULL: nothing found) resolves
 * nicknames. Writes up to max members, each a NUL-terminated string of at
 * most RELAY_FAMILY_MEMBER_MAX characters, in the line's order. Returns the
 * number of members, 0 for no family line (no items, or only ourselves), or
 * -EINVAL for an item that is not normalized, -ENOSPC when max is too
 * small (at most n + 1 are needed). */
int relay_family_declared(const char *const *items, size_t n, const char *self_nickname,
		const uint8_t self_identity[20], relay_family_lookup_fn lookup, void *lookup_arg,
		char (*members)[RELAY_FAMILY_MEMBER_MAX + 1], size_t max);

/* tor 0.4.9's family keys (proposal 321, "happy families"): FamilyId names
 * an Ed25519 family key, shared by every relay of the family, by its public
 * key in base64. The relay proves membership with a family-cert line in its
 * descriptor (a type 0x0C certificate of its Ed25519 identity signed by the
 * family key: control/descriptor.h); the authorities then list
 * "family-ids ed25519:ID" in its microdescriptor. Key files are tor's
 * (tor --keygen-family NAME): NAME.secret_family_key, a tagged file
 * "ed25519v1-secret" / "fmly-id" holding the expanded secret key. */
#define RELAY_FAMILY_ID_LEN 32
/* Base64 without padding of RELAY_FAMILY_ID_LEN bytes. */
#define RELAY_FAMILY_ID_BASE64_LEN 43
/* Most FamilyId lines (and family keys) accepted. */
#define RELAY_FAMILY_IDS_MAX 8
/* The tag of a family key file (crypto/tor_keys.h tagged files). */
#define RELAY_FAMILY_KEY_FILE_TAG "fmly-id"
#define RELAY_FAMILY_KEY_FILE_SUFFIX ".secret_family_key"

/* Decodes a FamilyId value: 43 base64 characters (RFC 4648 alphabet), or
 * 44 ending in "=". Returns 0, or -EINVAL. */
int relay_family_id_parse(const char *s, uint8_t id[RELAY_FAMILY_ID_LEN]);

/* Writes id as FamilyId shows it: 43 base64 characters and a NUL. */
void relay_family_id_format(const uint8_t id[RELAY_FAMILY_ID_LEN],
		char out[RELAY_FAMILY_ID_BASE64_LEN + 1]);

#endif
