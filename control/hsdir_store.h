/* The HSDir's descriptor cache: v3 onion-service descriptors keyed by
 * their blinded key, as tor 0.4.9's hs_cache.c keeps them "as dir"
 * (rend-spec-v3 2.2.6, doc §3.5 of the shared tor-roles digest).
 *
 * Rules copied from tor (hs_cache.c):
 *   - a descriptor is stored after hs_desc_outer_parse() accepts it
 *     (HSV3MaxDescriptorSize, certificate, signature); the text is kept
 *     byte for byte and served as is;
 *   - an entry for the same blinded key is replaced only by a strictly
 *     greater revision counter; otherwise the upload is refused (tor
 *     answers 400 "Invalid HS descriptor. Rejected."); the replacement
 *     keeps the old entry's download count;
 *   - an entry expires lifetime_sec (the descriptor's descriptor-lifetime)
 *     after it was stored: hsdir_store_clean() removes entries with
 *     stored_at <= now - lifetime_sec (cache_clean_v3_as_dir). The
 *     certificate's expiry is checked when storing only, as tor does;
 *   - a byte cap (MaxHSDirCacheBytes): before a store, when the bytes held
 *     exceed the cap, entries are removed lowest download count first until
 *     the total is cap - HSDIR_STORE_PRUNE_SPARE_ROOM (or half of it when
 *     the cap is smaller than that room), then the new descriptor is
 *     stored (cache_store_v3_as_dir, hs_cache_handle_oom). The new
 *     descriptor itself is never pruned by its own store.
 *
 * An entry's size is its text plus a fixed per-entry overhead
 * (HSDIR_STORE_ENTRY_OVERHEAD), as tor counts struct + text.
 *
 * Single-threaded (the control thread); no DPDK.
 */
#ifndef HSRELAY_CONTROL_HSDIR_STORE_H
#define HSRELAY_CONTROL_HSDIR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "control/hs_descriptor.h"

/* hs_cache.c HSCACHE_PRUNE_SPARE_ROOM: room for 1000 maximum-size
 * descriptors left free when pruning. */
#define HSDIR_STORE_PRUNE_SPARE_ROOM (1000u * HS_DESC_MAX_SIZE_DEFAULT)
/* Bytes counted per entry on top of its text (the bookkeeping). */
#define HSDIR_STORE_ENTRY_OVERHEAD 128u

/* Why an upload was refused (or that it was stored), for counters. */
enum hsdir_store_outcome {
	HSDIR_STORE_STORED = 0,
	HSDIR_STORE_INVALID,            /* hs_desc_outer_parse refused it */
	HSDIR_STORE_TOO_BIG,            /* ... because of HSV3MaxDescriptorSize */
	HSDIR_STORE_NOT_NEWER,          /* revision counter <= the stored one */
	HSDIR_STORE_SINGLE_HOP,         /* caller: not an anonymous circuit */
	HSDIR_STORE_NO_MEMORY,
	HSDIR_STORE_OUTCOMES,
};

/* Counters (all since hsdir_store_new). */
struct hsdir_store_stats {
	uint64_t entries;               /* held now */
	uint64_t bytes;                 /* held now, with overhead */
	uint64_t max_bytes;             /* the cap in force */
	uint64_t uploads[HSDIR_STORE_OUTCOMES];
	uint64_t fetch_hits;
	uint64_t fetch_misses;
	uint64_t fetch_single_hop;      /* caller: refused, not anonymous */
	uint64_t expired;               /* entries removed by clean */
	uint64_t pruned;                /* entries removed for the cap */
	uint64_t pruned_bytes;          /* tor_relay_load_oom_bytes_total{subsys="hsdir"} */
};

/* What an upload was. */
struct hsdir_store_result {
	enum hsdir_store_outcome outcome;
	enum hs_desc_check check;       /* INVALID / TOO_BIG: the failed check */
	uint8_t blinded_key[HS_BLINDED_KEY_LEN];        /* when parsed */
	uint64_t revision_counter;      /* when parsed */
	uint64_t stored_revision_counter;       /* NOT_NEWER: the one held */
	time_t expires;                 /* STORED: when clean removes it */
	bool replaced;                  /* STORED over an older revision */
	size_t pruned_bytes;            /* removed for the cap before storing */
};

struct hsdir_store;
struct metrics_snapshot;

/* A store holding at most about max_bytes (0: no cap). NULL when out of
 * memory. */
struct hsdir_store *hsdir_store_new(uint64_t max_bytes);

/* Frees s and every descriptor; NULL is ignored. */
void hsdir_store_free(struct hsdir_store *s);

/* Checks and stores the descriptor text[0 .. len) (a POST body) at time
 * now, with max_size the HSV3MaxDescriptorSize consensus parameter. The
 * text is copied. Returns 0 (stored), -EPROTO (refused by the parser,
 * result->check says why), -EEXIST (revision counter not greater than the
 * stored one), -ENOMEM or -EIO (libsodium); result (may be NULL) says more
 * and the outcome is counted in the stats. */
int hsdir_store_publish(struct hsdir_store *s, const uint8_t *text,
		size_t len, size_t max_size, time_t now,
		struct hsdir_store_result *result);

/* The descriptor stored for blinded_key: 0 with *text / *len (borrowed
 * until the next publish, clean or free), or -ENOENT. Counts a hit (and a
 * download of the entry, which protects it from pruning) or a miss. */
int hsdir_store_fetch(struct hsdir_store *s,
		const uint8_t blinded_key[HS_BLINDED_KEY_LEN],
		const uint8_t **text, size_t *len);

/* Removes entries stored lifetime_sec or longer before now. Returns the
 * number removed. */
size_t hsdir_store_clean(struct hsdir_store *s, time_t now);

/* Removes entries, lowest download count first, until at least
 * min_remove_bytes were freed or the store is empty (hs_cache_handle_oom).
 * Returns the bytes freed. */
size_t hsdir_store_prune(struct hsdir_store *s, size_t min_remove_bytes);

/* Changes the cap to max_bytes (0: no cap), as a reloaded
 * MaxHSDirCacheBytes does. When the store holds more than the new cap it is
 * pruned at once, down to the level a store at the cap prunes to (see
 * hsdir_store_publish()). Returns the bytes freed. */
size_t hsdir_store_set_max_bytes(struct hsdir_store *s, uint64_t max_bytes);

/* Counts a request the caller refused before the store saw it
 * (HSDIR_STORE_SINGLE_HOP: upload when !fetch, else fetch). */
void hsdir_store_note_single_hop(struct hsdir_store *s, bool fetch);

/* Download count and revision of the entry for blinded_key: 0 or
 * -ENOENT. */
int hsdir_store_entry_info(const struct hsdir_store *s,
		const uint8_t blinded_key[HS_BLINDED_KEY_LEN],
		uint64_t *n_downloaded, uint64_t *revision_counter);

const struct hsdir_store_stats *hsdir_store_stats(const struct hsdir_store *s);

/* Short name of an outcome ("not_newer"): the reason label of
 * hsrelay_hsdir_uploads_total. */
const char *hsdir_store_outcome_name(enum hsdir_store_outcome outcome);

/* The automatic MaxHSDirCacheBytes (tor's value 0): a fifth of tor's
 * automatic MaxMemInQueues for total_ram bytes of memory (config.c
 * compute_real_max_mem_in_queues: 3/4 of it, or 2/5 from 8 GiB up, kept
 * within 256 MiB .. 8 GiB; 8 GiB when total_ram is 0, i.e. unknown). */
uint64_t hsdir_store_auto_max_bytes(uint64_t total_ram);

/* This relay's places on the hash ring (rend-spec-v3 2.2.3), as tor's
 * nodelist.c node_set_hsdir_index computes every node's from the live
 * consensus. */
struct hsdir_ring_indexes {
	uint64_t period_length;         /* minutes */
	uint64_t period_num;            /* current time period */
	/* hs_in_period_between_tp_and_srv: valid_after is not within
	 * [start of the current SRV protocol run, next period start). */
	bool between_tp_and_srv;
	uint8_t fetch[HS_INDEX_LEN];            /* current period */
	uint8_t store_first[HS_INDEX_LEN];
	uint8_t store_second[HS_INDEX_LEN];
};

/* Computes the indexes for the Ed25519 identity ed_id from a consensus'
 * valid_after, its voting interval (seconds), the time-period parameters
 * (hs_time_period_params_live / _testing) and its
 * shared-rand-current-value / -previous-value (NULL when absent: the
 * disaster SRV of the period, as hs_get_current_srv / hs_get_previous_srv).
 *   between:  fetch = (period, current SRV), store_first = (period - 1,
 *             previous SRV), store_second = (period, current SRV);
 *   else:     fetch = store_first = (period, previous SRV), store_second =
 *             (period + 1, current SRV).
 * The SRV protocol run starts 24 voting intervals apart (12 rounds x 2
 * phases): valid_after minus ((valid_after / interval) % 24) intervals.
 * Returns 0 or -EINVAL (zero interval or period length), -EIO (hash). */
int hsdir_ring_indexes(const uint8_t ed_id[ED25519_PUBLIC_KEY_LEN], time_t valid_after,
		uint32_t voting_interval_sec, const struct hs_time_period_params *params,
		const uint8_t *srv_current, const uint8_t *srv_previous,
		struct hsdir_ring_indexes *out);

/* Adds the HSDir families to s (control/metrics.h):
 *   hsrelay_hsdir_descriptors, hsrelay_hsdir_bytes (gauges),
 *   hsrelay_hsdir_max_bytes (gauge),
 *   hsrelay_hsdir_uploads_total{outcome="stored"|"invalid"|"too_big"|
 *       "not_newer"|"single_hop"|"no_memory"},
 *   hsrelay_hsdir_fetches_total{result="hit"|"miss"|"single_hop"},
 *   hsrelay_hsdir_removed_total{reason="expired"|"pruned"},
 *   tor_relay_load_oom_bytes_total{subsys="hsdir"} (tor's name: bytes the
 *       cap removed).
 * tor 0.4.9 has no HSDir store counters of its own. Returns 0 or the
 * metrics_snapshot_* error. */
int hsdir_store_metrics_fill(struct metrics_snapshot *snapshot,
		const struct hsdir_store *s);

/* Adds this relay's places on the hash ring (issue: "the relay knows its
 * own ring positions, exported as a metric"), from the latest consensus:
 *   hsrelay_hsdir_ring_index{index="fetch"|"store_first"|"store_second",
 *       hsdir_index="<64 hex digits>"} 1 (an info-style gauge: Prometheus
 *       values cannot hold 256 bits, so the index is the label),
 *   hsrelay_hsdir_time_period (gauge: the current period number),
 *   hsrelay_hsdir_time_period_minutes (gauge: its length),
 *   hsrelay_hsdir_listed (gauge: 1 when the consensus gives us HSDir).
 * Nothing is added when r is NULL (no consensus yet). Returns 0 or the
 * metrics_snapshot_* error. */
int hsdir_ring_metrics_fill(struct metrics_snapshot *snapshot,
		const struct hsdir_ring_indexes *r, bool listed);

#endif
