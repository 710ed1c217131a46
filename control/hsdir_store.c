/* The HSDir's descriptor cache (hsdir_store.h). */
#include "control/hsdir_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/metrics.h"

#define BUCKETS_INITIAL 64u

struct hsdir_entry {
	uint8_t blinded_key[HS_BLINDED_KEY_LEN];
	uint64_t revision_counter;
	uint32_t lifetime_sec;
	time_t stored_at;
	uint64_t n_downloaded;
	uint8_t *text;
	size_t len;
	struct hsdir_entry *next;	/* bucket chain */
};

struct hsdir_store {
	struct hsdir_entry **buckets;
	size_t n_buckets;		/* a power of two */
	uint64_t max_bytes;
	struct hsdir_store_stats stats;
};

static size_t
entry_size(const struct hsdir_entry *e)
{
	return e->len + HSDIR_STORE_ENTRY_OVERHEAD;
}

/* Blinded keys are Ed25519 points derived with a hash: their bytes are
 * already spread, so the first eight serve as the hash. */
static size_t
bucket_of(const struct hsdir_store *s, const uint8_t *key)
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return (size_t)(h & (s->n_buckets - 1));
}

/* Over the cap: prune to cap - HSDIR_STORE_PRUNE_SPARE_ROOM, or half the
 * store when the cap is below the spare room. Returns the bytes freed. */
static size_t
prune_to_cap(struct hsdir_store *s)
{
	size_t to_remove;

	if (s->max_bytes == 0 || s->stats.bytes <= s->max_bytes)
		return 0;
	to_remove = (size_t)(s->stats.bytes / 2);
	if (HSDIR_STORE_PRUNE_SPARE_ROOM < s->max_bytes)
		to_remove = (size_t)(s->stats.bytes - (s->max_bytes - HSDIR_STORE_PRUNE_SPARE_ROOM));
	return hsdir_store_prune(s, to_remove);
}

size_t
hsdir_store_set_max_bytes(struct hsdir_store *s, uint64_t max_bytes)
{
	s->max_bytes = max_bytes;
	s->stats.max_bytes = max_bytes;
	return prune_to_cap(s);
}

struct hsdir_store *
hsdir_store_new(uint64_t max_bytes)
{
	struct hsdir_store *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->buckets = calloc(BUCKETS_INITIAL, sizeof(*s->buckets));
	if (s->buckets == NULL) {
		free(s);
		return NULL;
	}
	s->n_buckets = BUCKETS_INITIAL;
	s->max_bytes = max_bytes;
	s->stats.max_bytes = max_bytes;
	return s;
}

static void
entry_free(struct hsdir_entry *e)
{
	free(e->text);
	free(e);
}

void
hsdir_store_free(struct hsdir_store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_buckets; i++) {
		for (struct hsdir_entry *e = s->buckets[i], *next; e != NULL; e = next) {
			next = e->next;
			entry_free(e);
		}
	}
	free(s->buckets);
	free(s);
}

static struct hsdir_entry **
entry_slot(const struct hsdir_store *s, const uint8_t *key)
{
	struct hsdir_entry **pp = &s->buckets[bucket_of(s, key)];

	while (*pp != NULL && memcmp((*pp)->blinded_key, key, HS_BLINDED_KEY_LEN) != 0)
		pp = &(*pp)->next;
	return pp;
}

/* Unlinks *pp and frees it, keeping the totals. */
static void
entry_remove(struct hsdir_store *s, struct hsdir_entry **pp)
{
	struct hsdir_entry *e = *pp;

	*pp = e->next;
	s->stats.entries--;
	s->stats.bytes -= entry_size(e);
	entry_free(e);
}

/* Doubles the table when it holds more entries than buckets; a failed
 * allocation leaves longer chains, nothing else. */
static void
maybe_grow(struct hsdir_store *s)
{
	size_t n = s->n_buckets * 2;
	struct hsdir_entry **b;

	if (s->stats.entries < s->n_buckets || n > SIZE_MAX / sizeof(*b))
		return;
	b = calloc(n, sizeof(*b));
	if (b == NULL)
		return;
	for (size_t i = 0; i < s->n_buckets; i++) {
		for (struct hsdir_entry *e = s->buckets[i], *next; e != NULL; e = next) {
			uint64_t h;

			next = e->next;
			memcpy(&h, e->blinded_key, sizeof(h));
			e->next = b[h & (n - 1)];
			b[h & (n - 1)] = e;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->n_buckets = n;
}

/* One pass of hs_cache.c cache_clean_v3_by_downloaded_as_dir: removes
 * entries downloaded at most target times until max_remove bytes are
 * freed; *next_lowest gets the lowest download count above target (0 when
 * none). Returns the bytes freed. */
static size_t
prune_pass(struct hsdir_store *s, uint64_t target, size_t max_remove, uint64_t *next_lowest)
{
	size_t removed = 0;
	uint64_t lowest = 0;

	for (size_t i = 0; i < s->n_buckets; i++) {
		struct hsdir_entry **pp = &s->buckets[i];

		while (*pp != NULL) {
			struct hsdir_entry *e = *pp;

			if (e->n_downloaded > target) {
				if (lowest == 0 || lowest > e->n_downloaded)
					lowest = e->n_downloaded;
				pp = &e->next;
				continue;
			}
			if (removed >= max_remove) {
				pp = &e->next;
				continue;
			}
			removed += entry_size(e);
			s->stats.pruned++;
			entry_remove(s, pp);
		}
	}
	*next_lowest = lowest;
	return removed;
}

size_t
hsdir_store_prune(struct hsdir_store *s, size_t min_remove_bytes)
{
	size_t removed = 0;
	uint64_t target = 0;

	if (min_remove_bytes == 0)
		return 0;
	do {
		size_t freed = prune_pass(s, target, min_remove_bytes - removed, &target);

		if (freed == 0 && target == 0)
			break;
		removed += freed;
	} while (removed < min_remove_bytes);
	s->stats.pruned_bytes += removed;
	return removed;
}

static int
refuse(struct hsdir_store *s, struct hsdir_store_result *r, enum hsdir_store_outcome outcome,
		int rc)
{
	r->outcome = outcome;
	s->stats.uploads[outcome]++;
	return rc;
}

int
hsdir_store_publish(struct hsdir_store *s, const uint8_t *text, size_t len, size_t max_size,
		time_t now, struct hsdir_store_result *result)
{
	struct hsdir_store_result local;
	struct hsdir_store_result *r = result != NULL ? result : &local;
	struct hs_desc_outer outer;
	struct hsdir_entry **slot, *e;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = hs_desc_outer_parse(text, len, max_size, now, &outer, &r->check);
	if (rc == -EPROTO)
		return refuse(s, r, r->check == HS_DESC_TOO_BIG ? HSDIR_STORE_TOO_BIG
								 : HSDIR_STORE_INVALID, rc);
	if (rc < 0)
		return refuse(s, r, HSDIR_STORE_NO_MEMORY, rc);
	memcpy(r->blinded_key, outer.blinded_key, HS_BLINDED_KEY_LEN);
	r->revision_counter = outer.revision_counter;

	/* cache_store_v3_as_dir: prune for the cap first, so that the new
	 * descriptor is never the one removed. */
	r->pruned_bytes = prune_to_cap(s);

	slot = entry_slot(s, outer.blinded_key);
	if (*slot != NULL && (*slot)->revision_counter >= outer.revision_counter) {
		r->stored_revision_counter = (*slot)->revision_counter;
		return refuse(s, r, HSDIR_STORE_NOT_NEWER, -EEXIST);
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return refuse(s, r, HSDIR_STORE_NO_MEMORY, -ENOMEM);
	e->text = malloc(len > 0 ? len : 1);
	if (e->text == NULL) {
		free(e);
		return refuse(s, r, HSDIR_STORE_NO_MEMORY, -ENOMEM);
	}
	memcpy(e->text, text, len);
	e->len = len;
	memcpy(e->blinded_key, outer.blinded_key, HS_BLINDED_KEY_LEN);
	e->revision_counter = outer.revision_counter;
	e->lifetime_sec = outer.lifetime_sec;
	e->stored_at = now;
	if (*slot != NULL) {
		/* A newer revision keeps the old one's download count. */
		e->n_downloaded = (*slot)->n_downloaded;
		entry_remove(s, slot);
		r->replaced = true;
	}
	e->next = s->buckets[bucket_of(s, e->blinded_key)];
	s->buckets[bucket_of(s, e->blinded_key)] = e;
	s->stats.entries++;
	s->stats.bytes += entry_size(e);
	r->expires = now + (time_t)e->lifetime_sec;
	maybe_grow(s);
	return refuse(s, r, HSDIR_STORE_STORED, 0);
}

int
hsdir_store_fetch(struct hsdir_store *s, const uint8_t blinded_key[HS_BLINDED_KEY_LEN],
		const uint8_t **text, size_t *len)
{
	struct hsdir_entry *e = *entry_slot(s, blinded_key);

	if (e == NULL) {
		s->stats.fetch_misses++;
		return -ENOENT;
	}
	s->stats.fetch_hits++;
	e->n_downloaded++;
	*text = e->text;
	*len = e->len;
	return 0;
}

size_t
hsdir_store_clean(struct hsdir_store *s, time_t now)
{
	size_t removed = 0;

	for (size_t i = 0; i < s->n_buckets; i++) {
		struct hsdir_entry **pp = &s->buckets[i];

		while (*pp != NULL) {
			/* cache_clean_v3_as_dir: expired when created_ts <=
			 * now - lifetime. */
			if ((*pp)->stored_at <= now - (time_t)(*pp)->lifetime_sec) {
				entry_remove(s, pp);
				removed++;
			} else {
				pp = &(*pp)->next;
			}
		}
	}
	s->stats.expired += removed;
	return removed;
}

void
hsdir_store_note_single_hop(struct hsdir_store *s, bool fetch)
{
	if (fetch)
		s->stats.fetch_single_hop++;
	else
		s->stats.uploads[HSDIR_STORE_SINGLE_HOP]++;
}

int
hsdir_store_entry_info(const struct hsdir_store *s,
		const uint8_t blinded_key[HS_BLINDED_KEY_LEN], uint64_t *n_downloaded,
		uint64_t *revision_counter)
{
	const struct hsdir_entry *e = *entry_slot(s, blinded_key);

	if (e == NULL)
		return -ENOENT;
	*n_downloaded = e->n_downloaded;
	*revision_counter = e->revision_counter;
	return 0;
}

const struct hsdir_store_stats *
hsdir_store_stats(const struct hsdir_store *s)
{
	return &s->stats;
}

const char *
hsdir_store_outcome_name(enum hsdir_store_outcome outcome)
{
	static const char *const names[HSDIR_STORE_OUTCOMES] = {
		[HSDIR_STORE_STORED] = "stored",
		[HSDIR_STORE_INVALID] = "invalid",
		[HSDIR_STORE_TOO_BIG] = "too_big",
		[HSDIR_STORE_NOT_NEWER] = "not_newer",
		[HSDIR_STORE_SINGLE_HOP] = "single_hop",
		[HSDIR_STORE_NO_MEMORY] = "no_memory",
	};

	return (unsigned)outcome < HSDIR_STORE_OUTCOMES ? names[outcome] : "unknown";
}

uint64_t
hsdir_store_auto_max_bytes(uint64_t total_ram)
{
	const uint64_t gib = UINT64_C(1) << 30;
	uint64_t queues;

	if (total_ram == 0)
		queues = 8 * gib;
	else if (total_ram >= 8 * gib)
		queues = total_ram / 5 * 2;
	else
		queues = total_ram / 4 * 3;
	if (queues > 8 * gib)
		queues = 8 * gib;
	else if (queues < gib / 4)
		queues = gib / 4;
	return queues / 5;
}

static int
gauge(struct metrics_snapshot *m, const char *name, const char *help, uint64_t value)
{
	int f = metrics_snapshot_family(m, name, help, METRICS_GAUGE);

	return f < 0 ? f : metrics_snapshot_sample(m, f, NULL, 0, value);
}

int
hsdir_ring_metrics_fill(struct metrics_snapshot *m, const struct hsdir_ring_indexes *r,
		bool listed)
{
	const uint8_t *indexes[3];
	static const char *const names[3] = { "fetch", "store_first", "store_second" };
	struct metrics_label labels[2];
	char hex[2 * HS_INDEX_LEN + 1];
	int rc, f;

	if (r == NULL)
		return 0;
	indexes[0] = r->fetch;
	indexes[1] = r->store_first;
	indexes[2] = r->store_second;
	f = metrics_snapshot_family(m, "hsrelay_hsdir_ring_index",
			"This relay's hsdir_index on the hash ring (rend-spec-v3 2.2.3), as a label",
			METRICS_GAUGE);
	if (f < 0)
		return f;
	labels[0].name = "index";
	labels[1].name = "hsdir_index";
	labels[1].value = hex;
	for (unsigned i = 0; i < 3; i++) {
		for (unsigned b = 0; b < HS_INDEX_LEN; b++)
			snprintf(hex + 2 * b, 3, "%02x", indexes[i][b]);
		labels[0].value = names[i];
		if ((rc = metrics_snapshot_sample(m, f, labels, 2, 1)) < 0)
			return rc;
	}
	if ((rc = gauge(m, "hsrelay_hsdir_time_period", "Current onion-service time period number",
			r->period_num)) < 0 ||
	    (rc = gauge(m, "hsrelay_hsdir_time_period_minutes", "Length of a time period",
			r->period_length)) < 0 ||
	    (rc = gauge(m, "hsrelay_hsdir_listed", "1 when the consensus gives this relay HSDir",
			listed ? 1 : 0)) < 0)
		return rc;
	return 0;
}

int
hsdir_store_metrics_fill(struct metrics_snapshot *m, const struct hsdir_store *s)
{
	const struct hsdir_store_stats *st = &s->stats;
	struct metrics_label label;
	int rc, f;

	if ((rc = gauge(m, "hsrelay_hsdir_descriptors", "Onion-service descriptors held",
			st->entries)) < 0 ||
	    (rc = gauge(m, "hsrelay_hsdir_bytes", "Bytes held by the HSDir cache",
			st->bytes)) < 0 ||
	    (rc = gauge(m, "hsrelay_hsdir_max_bytes", "MaxHSDirCacheBytes in force",
			st->max_bytes)) < 0)
		return rc;
	f = metrics_snapshot_family(m, "hsrelay_hsdir_uploads_total",
			"Descriptor uploads (POST /tor/hs/3/publish) by outcome", METRICS_COUNTER);
	if (f < 0)
		return f;
	label.name = "outcome";
	for (unsigned i = 0; i < HSDIR_STORE_OUTCOMES; i++) {
		label.value = hsdir_store_outcome_name((enum hsdir_store_outcome)i);
		if ((rc = metrics_snapshot_sample(m, f, &label, 1, st->uploads[i])) < 0)
			return rc;
	}
	f = metrics_snapshot_family(m, "hsrelay_hsdir_fetches_total",
			"Descriptor fetches (GET /tor/hs/3/) by result", METRICS_COUNTER);
	if (f < 0)
		return f;
	label.name = "result";
	label.value = "hit";
	if ((rc = metrics_snapshot_sample(m, f, &label, 1, st->fetch_hits)) < 0)
		return rc;
	label.value = "miss";
	if ((rc = metrics_snapshot_sample(m, f, &label, 1, st->fetch_misses)) < 0)
		return rc;
	label.value = "single_hop";
	if ((rc = metrics_snapshot_sample(m, f, &label, 1, st->fetch_single_hop)) < 0)
		return rc;
	f = metrics_snapshot_family(m, "hsrelay_hsdir_removed_total",
			"Descriptors removed from the HSDir cache by reason", METRICS_COUNTER);
	if (f < 0)
		return f;
	label.name = "reason";
	label.value = "expired";
	if ((rc = metrics_snapshot_sample(m, f, &label, 1, st->expired)) < 0)
		return rc;
	label.value = "pruned";
	if ((rc = metrics_snapshot_sample(m, f, &label, 1, st->pruned)) < 0)
		return rc;
	f = metrics_snapshot_family(m, "tor_relay_load_oom_bytes_total",
			"Total number of bytes the OOM has freed by subsystem", METRICS_COUNTER);
	if (f < 0)
		return f;
	label.name = "subsys";
	label.value = "hsdir";
	return metrics_snapshot_sample(m, f, &label, 1, st->pruned_bytes);
}

/* hs_get_current_srv / hs_get_previous_srv: the consensus value, or the
 * disaster SRV of the period. */
static int
srv_or_disaster(const uint8_t *srv, const struct hs_time_period_params *params, uint64_t num,
		uint8_t out[HS_SRV_LEN])
{
	if (srv != NULL) {
		memcpy(out, srv, HS_SRV_LEN);
		return 0;
	}
	return hs_build_disaster_srv(params->length_minutes, num, out);
}

int
hsdir_ring_indexes(const uint8_t ed_id[ED25519_PUBLIC_KEY_LEN], time_t valid_after,
		uint32_t voting_interval_sec, const struct hs_time_period_params *params,
		const uint8_t *srv_current, const uint8_t *srv_previous,
		struct hsdir_ring_indexes *out)
{
	uint8_t current[HS_SRV_LEN], previous[HS_SRV_LEN];
	uint64_t num, fetch_tp, first_tp, second_tp, rounds;
	time_t srv_start, tp_start;
	const uint8_t *fetch_srv;
	int rc;

	if (voting_interval_sec == 0 || params->length_minutes == 0 || valid_after < 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	num = hs_time_period_num(params, valid_after);
	out->period_length = params->length_minutes;
	out->period_num = num;
	/* sr_state_get_start_time_of_current_protocol_run */
	rounds = ((uint64_t)valid_after / voting_interval_sec) % (2 * HS_SR_ROUNDS_PER_PHASE);
	srv_start = valid_after - (time_t)(rounds * voting_interval_sec);
	tp_start = hs_time_period_start(params, hs_time_period_num(params, srv_start) + 1);
	out->between_tp_and_srv = !(valid_after >= srv_start && valid_after < tp_start);
	fetch_tp = num;
	if (out->between_tp_and_srv) {
		first_tp = num > 0 ? num - 1 : 0;
		second_tp = num;
	} else {
		first_tp = num;
		second_tp = num + 1;
	}
	if ((rc = srv_or_disaster(srv_current, params, fetch_tp, current)) < 0 ||
	    (rc = srv_or_disaster(srv_previous, params, fetch_tp, previous)) < 0)
		return rc;
	fetch_srv = out->between_tp_and_srv ? current : previous;
	if ((rc = hs_build_hsdir_index(ed_id, fetch_srv, fetch_tp, params->length_minutes,
			out->fetch)) < 0)
		return rc;
	if ((rc = srv_or_disaster(srv_previous, params, first_tp, previous)) < 0 ||
	    (rc = hs_build_hsdir_index(ed_id, previous, first_tp, params->length_minutes,
			out->store_first)) < 0)
		return rc;
	if ((rc = srv_or_disaster(srv_current, params, second_tp, current)) < 0)
		return rc;
	return hs_build_hsdir_index(ed_id, current, second_tp, params->length_minutes,
			out->store_second);
}
