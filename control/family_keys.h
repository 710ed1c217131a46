/* The family keys FamilyId names (tor 0.4.9, proposal 321), loaded from
 * tor's key files in the family key directory at start.
 *
 * tor (0.4.9 man page, FamilyId and FamilyKeyDirectory): the keys are the
 * files ending ".secret_family_key" in FamilyKeyDirectory, by default the
 * KeyDirectory (DataDirectory/keys); every FamilyId needs one; "FamilyId *"
 * takes every key found. control/relay_family.h has the file format. */
#ifndef HSRELAY_CONTROL_FAMILY_KEYS_H
#define HSRELAY_CONTROL_FAMILY_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/relay_family.h"
#include "crypto/tor_keys.h"

/* Loads from dir the keys whose public key is one of ids[0..n_ids), or
 * every key when all, into keys (at most max, each once). Returns how many,
 * or a negative errno with a message naming the file or the FamilyId in
 * errbuf: -ENOENT when an id has no key file, -EINVAL for a file that is
 * not a family key, -E2BIG for more than max keys, other -errno from
 * opening the directory or reading a file. Secrets read are wiped from the
 * read buffers. */
int family_keys_load(const char *dir, const uint8_t (*ids)[RELAY_FAMILY_ID_LEN],
		unsigned n_ids, bool all, struct ed25519_keypair *keys, unsigned max,
		char *errbuf, size_t errbuf_len);

#endif
