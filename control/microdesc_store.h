/* The directory cache's microdescriptors (dir-spec 3.3, "Downloading
 * microdescriptors"): a bounded store keyed by SHA-256 digest, filled from
 * /tor/micro/d/ answers of the authorities for the digests the kept
 * microdesc consensus lists ("m" lines), and served by dir_server.
 *
 * - Only microdescriptors whose digest was asked for are kept, with their
 *   text exactly as served (the digested bytes, microdesc.h), so that our
 *   answer to /tor/micro/d/D-D-... is byte for byte an authority's.
 * - Retention: a microdescriptor stays while the current or the previous
 *   kept consensus lists it. tor keeps unlisted ones for 7 days
 *   (microdesc.c TOLERATE_MICRODESC_AGE); we drop them one consensus
 *   later, which covers a client whose consensus is one behind ours and
 *   bounds the store by twice the routers of a consensus.
 * - Bounds: MICRODESC_STORE_MAX_ENTRIES entries, MICRODESC_STORE_MAX_BYTES
 *   bytes of text; beyond them, new ones are refused (counted).
 *
 * Fetching (tor's microdesc download, routerlist.c
 * initiate_descriptor_downloads): digests are asked for in batches of at
 * most MICRODESC_STORE_BATCH, base64 without padding joined by '-':
 * "/tor/micro/d/D1-D2-...". No DPDK: unit-tested alone.
 */
#ifndef HSRELAY_CONTROL_MICRODESC_STORE_H
#define HSRELAY_CONTROL_MICRODESC_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "control/consensus.h"
#include "control/microdesc.h"

/* tor's MAX_MICRODESC_DOWNLOADS_PER_REQUEST (routerlist.c). */
#define MICRODESC_STORE_BATCH 92
#define MICRODESC_STORE_MAX_ENTRIES (2 * CONSENSUS_MAX_ROUTERS)
#define MICRODESC_STORE_MAX_BYTES (64u * 1024 * 1024)
/* "/tor/micro/d/" + 92 digests of 43 characters and their dashes. */
#define MICRODESC_STORE_URL_MAX (13 + MICRODESC_STORE_BATCH * 44)

struct microdesc_store;

struct microdesc_store_stats {
	size_t entries;
	size_t bytes;
	uint64_t added;		/* kept from answers */
	uint64_t unwanted;	/* parsed, digest not asked for (or a duplicate) */
	uint64_t malformed;	/* answers whose parsing stopped early */
	uint64_t refused_full;	/* over the bounds */
	uint64_t dropped;	/* no longer listed */
};

/* An empty store, or NULL (out of memory). */
struct microdesc_store *microdesc_store_new(void);

/* Accepts NULL. */
void microdesc_store_free(struct microdesc_store *s);

/* The microdescriptor with this digest: 0 with its text (valid until the
 * store changes), or -ENOENT. */
int microdesc_store_get(const struct microdesc_store *s,
		const uint8_t digest[MICRODESC_DIGEST_LEN], const uint8_t **text,
		size_t *len);

/* Parses an answer body (concatenated microdescriptors, microdesc_parse())
 * and keeps each one whose SHA-256 is among wanted[0..n_wanted) and not
 * held yet; others are dropped. Parsing stops at the first malformed one
 * (those before it are kept). Returns how many were kept, or -ENOMEM. */
int microdesc_store_add_answer(struct microdesc_store *s,
		const uint8_t *body, size_t len,
		const uint8_t (*wanted)[MICRODESC_DIGEST_LEN], size_t n_wanted);

/* A new consensus was kept: marks what it lists and drops what neither it
 * nor the previous one listed. c must be the microdesc flavour (others
 * list no microdescriptors: everything older is dropped). */
void microdesc_store_set_consensus(struct microdesc_store *s,
		const struct consensus *c);

/* The digests c lists that the store lacks, in consensus order, at most
 * max of them into out. Returns how many (all of them when fewer than
 * max). */
size_t microdesc_store_missing(const struct microdesc_store *s,
		const struct consensus *c,
		uint8_t (*out)[MICRODESC_DIGEST_LEN], size_t max);

/* Writes "/tor/micro/d/D1-D2-..." for digests[0..n) (1 <= n <=
 * MICRODESC_STORE_BATCH) and a NUL. Returns its length, -EINVAL, or
 * -EMSGSIZE when out_len is too small. */
ssize_t microdesc_store_url(const uint8_t (*digests)[MICRODESC_DIGEST_LEN],
		size_t n, char *out, size_t out_len);

void microdesc_store_get_stats(const struct microdesc_store *s,
		struct microdesc_store_stats *out);

#endif
