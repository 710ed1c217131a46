/* The directory cache's microdescriptors (microdesc_store.h). */
#include "control/microdesc_store.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Open addressing with linear probing; at most half full, so a power of
 * two above twice the entry bound. Entries are only removed by
 * rebuilding the table (microdesc_store_set_consensus), so no
 * tombstones. */
#define TABLE_SLOTS 131072u

struct md_entry {
	uint8_t digest[MICRODESC_DIGEST_LEN];
	uint64_t listed;	/* the store's consensus generation */
	size_t len;
	uint8_t text[];
};

struct microdesc_store {
	struct md_entry **slots;
	uint64_t generation;	/* consensuses seen */
	struct microdesc_store_stats stats;
};

_Static_assert(TABLE_SLOTS >= 2 * MICRODESC_STORE_MAX_ENTRIES,
		"the table must stay at most half full");

static size_t
slot_of(const uint8_t *digest)
{
	uint64_t h;

	/* SHA-256 output: any 8 bytes are uniform. */
	memcpy(&h, digest, sizeof(h));
	return (size_t)(h & (TABLE_SLOTS - 1));
}

/* The slot holding digest, or the empty slot where it would go. */
static size_t
find_slot(struct md_entry *const *slots, const uint8_t *digest)
{
	size_t i = slot_of(digest);

	while (slots[i] != NULL &&
			memcmp(slots[i]->digest, digest, MICRODESC_DIGEST_LEN) != 0)
		i = (i + 1) & (TABLE_SLOTS - 1);
	return i;
}

struct microdesc_store *
microdesc_store_new(void)
{
	struct microdesc_store *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->slots = calloc(TABLE_SLOTS, sizeof(*s->slots));
	if (s->slots == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
microdesc_store_free(struct microdesc_store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < TABLE_SLOTS; i++)
		free(s->slots[i]);
	free(s->slots);
	free(s);
}

int
microdesc_store_get(const struct microdesc_store *s,
		const uint8_t digest[MICRODESC_DIGEST_LEN], const uint8_t **text,
		size_t *len)
{
	const struct md_entry *e = s->slots[find_slot(s->slots, digest)];

	if (e == NULL)
		return -ENOENT;
	*text = e->text;
	*len = e->len;
	return 0;
}

static bool
is_wanted(const uint8_t *digest, const uint8_t (*wanted)[MICRODESC_DIGEST_LEN],
		size_t n_wanted)
{
	for (size_t i = 0; i < n_wanted; i++)
		if (memcmp(wanted[i], digest, MICRODESC_DIGEST_LEN) == 0)
			return true;
	return false;
}

int
microdesc_store_add_answer(struct microdesc_store *s, const uint8_t *body,
		size_t len, const uint8_t (*wanted)[MICRODESC_DIGEST_LEN],
		size_t n_wanted)
{
	const uint8_t *p = body, *end = body + len;
	int kept = 0;

	while (p < end) {
		struct microdesc md;
		struct dirdoc_error err;
		struct md_entry *e;
		size_t slot;

		/* Trailing empty lines end an answer. */
		while (p < end && *p == '\n')
			p++;
		if (p == end)
			break;
		if (microdesc_parse(&p, end, &md, &err) != 0) {
			s->stats.malformed++;
			break;
		}
		slot = find_slot(s->slots, md.digest);
		if (s->slots[slot] != NULL ||
				!is_wanted(md.digest, wanted, n_wanted)) {
			s->stats.unwanted++;
			continue;
		}
		if (s->stats.entries >= MICRODESC_STORE_MAX_ENTRIES ||
				s->stats.bytes + md.text.len >
				MICRODESC_STORE_MAX_BYTES) {
			s->stats.refused_full++;
			continue;
		}
		e = malloc(sizeof(*e) + md.text.len);
		if (e == NULL)
			return -ENOMEM;
		memcpy(e->digest, md.digest, MICRODESC_DIGEST_LEN);
		e->listed = s->generation;
		e->len = md.text.len;
		memcpy(e->text, md.text.ptr, md.text.len);
		s->slots[slot] = e;
		s->stats.entries++;
		s->stats.bytes += e->len;
		s->stats.added++;
		kept++;
	}
	return kept;
}

void
microdesc_store_set_consensus(struct microdesc_store *s,
		const struct consensus *c)
{
	struct md_entry **keep;
	size_t n_keep = 0;

	s->generation++;
	if (consensus_flavor(c) == CONSENSUS_FLAVOR_MICRODESC) {
		for (size_t i = 0; i < consensus_n_routers(c); i++) {
			const struct consensus_router *r = consensus_router_at(c, i);
			struct md_entry *e = s->slots[find_slot(s->slots,
					r->digest)];

			if (e != NULL)
				e->listed = s->generation;
		}
	}
	/* Rebuild the table with what the current or the previous
	 * consensus lists. The kept entries are gathered first: at most
	 * MICRODESC_STORE_MAX_ENTRIES pointers. */
	keep = malloc((s->stats.entries > 0 ? s->stats.entries : 1) *
			sizeof(*keep));
	for (size_t i = 0; i < TABLE_SLOTS; i++) {
		struct md_entry *e = s->slots[i];

		if (e == NULL)
			continue;
		s->slots[i] = NULL;
		if (keep != NULL && e->listed + 1 >= s->generation) {
			keep[n_keep++] = e;
		} else {
			s->stats.entries--;
			s->stats.bytes -= e->len;
			s->stats.dropped++;
			free(e);
		}
	}
	for (size_t i = 0; i < n_keep; i++)
		s->slots[find_slot(s->slots, keep[i]->digest)] = keep[i];
	free(keep);
}

size_t
microdesc_store_missing(const struct microdesc_store *s,
		const struct consensus *c, uint8_t (*out)[MICRODESC_DIGEST_LEN],
		size_t max)
{
	size_t n = 0;

	if (consensus_flavor(c) != CONSENSUS_FLAVOR_MICRODESC)
		return 0;
	for (size_t i = 0; i < consensus_n_routers(c) && n < max; i++) {
		const struct consensus_router *r = consensus_router_at(c, i);

		if (s->slots[find_slot(s->slots, r->digest)] == NULL)
			memcpy(out[n++], r->digest, MICRODESC_DIGEST_LEN);
	}
	return n;
}

ssize_t
microdesc_store_url(const uint8_t (*digests)[MICRODESC_DIGEST_LEN], size_t n,
		char *out, size_t out_len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char prefix[] = "/tor/micro/d/";
	size_t pos = sizeof(prefix) - 1;

	if (n == 0 || n > MICRODESC_STORE_BATCH)
		return -EINVAL;
	if (out_len < pos + n * 44)
		return -EMSGSIZE;
	memcpy(out, prefix, pos);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *d = digests[i];

		if (i > 0)
			out[pos++] = '-';
		/* 32 bytes -> 43 characters without padding: 10 groups of 3
		 * bytes, then 2 bytes as 3 characters. */
		for (size_t j = 0; j < 30; j += 3) {
			uint32_t v = (uint32_t)d[j] << 16 | (uint32_t)d[j + 1] << 8 |
					d[j + 2];

			out[pos++] = alphabet[v >> 18];
			out[pos++] = alphabet[(v >> 12) & 63];
			out[pos++] = alphabet[(v >> 6) & 63];
			out[pos++] = alphabet[v & 63];
		}
		{
			uint32_t v = (uint32_t)d[30] << 8 | d[31];

			out[pos++] = alphabet[v >> 10];
			out[pos++] = alphabet[(v >> 4) & 63];
			out[pos++] = alphabet[(v << 2) & 63];
		}
	}
	out[pos] = '\0';
	return (ssize_t)pos;
}

void
microdesc_store_get_stats(const struct microdesc_store *s,
		struct microdesc_store_stats *out)
{
	*out = s->stats;
}
