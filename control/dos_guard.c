/* Relay-side DoS limits per client address; see dos_guard.h and
 * docs/dos.md. The arithmetic follows tor 0.4.9's dos.c (circuit bucket
 * refill, marking with a random extra time) and token_bucket.c (the
 * connect bucket). */
#include "control/dos_guard.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

struct dos_entry {
	bool used;
	uint32_t addr;
	time_t last_seen;		/* for the choice of an entry to reuse */
	uint32_t concurrent;		/* tracked connections open */
	/* circuit creation (tor's cc_client_stats_t) */
	uint32_t circuit_bucket;
	time_t circuit_refilled;	/* 0: never filled */
	time_t cc_marked_until;		/* 0: never marked (tor never resets it) */
	uint32_t circ_max_outq;		/* circuits closed for a full outbound queue */
	/* connections (tor's conn_client_stats_t) */
	uint32_t connect_tokens;
	time_t connect_refilled;
	time_t conn_marked_until;	/* 0: not marked */
};

struct dos_guard {
	struct dos_guard_params params;
	struct dos_guard_stats stats;
	uint8_t hash_key[DOS_GUARD_KEY_LEN];
	uint32_t (*random_below)(void *arg, uint32_t upper);
	void *random_arg;
	uint32_t bucket_mask;		/* buckets - 1 */
	struct dos_entry *entries;	/* buckets * DOS_GUARD_WAYS */
};

static uint32_t
sodium_below(void *arg, uint32_t upper)
{
	(void)arg;
	return randombytes_uniform(upper);
}

static int32_t
param_or_default(dos_guard_param_fn fn, void *arg, const char *name, int32_t def, int32_t min,
		int32_t max)
{
	return fn != NULL ? fn(arg, name, def, min, max) : def;
}

void
dos_guard_params_resolve(const struct dos_guard_options *options,
		dos_guard_param_fn fn, void *arg, struct dos_guard_params *out)
{
	static const struct dos_guard_options none = { .cc_enabled = -1, .conn_enabled = -1 };
	const struct dos_guard_options *o = options != NULL ? options : &none;

	/* tor dos.c get_param_*(): a torrc value other than auto / 0 wins;
	 * otherwise the consensus, with these defaults and bounds. */
	out->cc_enabled = o->cc_enabled != -1 ? o->cc_enabled != 0
			: param_or_default(fn, arg, "DoSCircuitCreationEnabled", 0, 0, 1) != 0;
	out->cc_min_concurrent_conn = o->cc_min_connections != 0 ? o->cc_min_connections
			: (uint32_t)param_or_default(fn, arg, "DoSCircuitCreationMinConnections",
					DOS_GUARD_CC_MIN_CONCURRENT_CONN_DEFAULT, 1, INT32_MAX);
	out->cc_circuit_rate = o->cc_rate != 0 ? o->cc_rate
			: (uint32_t)param_or_default(fn, arg, "DoSCircuitCreationRate",
					DOS_GUARD_CC_CIRCUIT_RATE_DEFAULT, 1, INT32_MAX);
	out->cc_circuit_burst = o->cc_burst != 0 ? o->cc_burst
			: (uint32_t)param_or_default(fn, arg, "DoSCircuitCreationBurst",
					DOS_GUARD_CC_CIRCUIT_BURST_DEFAULT, 1, INT32_MAX);
	out->cc_defense_type = o->cc_defense_type != 0 ? o->cc_defense_type
			: param_or_default(fn, arg, "DoSCircuitCreationDefenseType",
					DOS_GUARD_DEFENSE_REFUSE, DOS_GUARD_DEFENSE_NONE,
					DOS_GUARD_DEFENSE_REFUSE);
	out->cc_defense_time_period = o->cc_defense_time_period != 0 ? o->cc_defense_time_period
			: param_or_default(fn, arg, "DoSCircuitCreationDefenseTimePeriod",
					DOS_GUARD_CC_DEFENSE_TIME_PERIOD_DEFAULT, 0, INT32_MAX);
	/* tor dos.c get_param_dos_num_circ_max_outq(): consensus only. */
	out->cc_num_circ_max_outq = (uint32_t)param_or_default(fn, arg, "dos_num_circ_max_outq",
			DOS_GUARD_CC_NUM_CIRC_MAX_OUTQ_DEFAULT, 0, INT32_MAX);
	out->conn_enabled = o->conn_enabled != -1 ? o->conn_enabled != 0
			: param_or_default(fn, arg, "DoSConnectionEnabled", 0, 0, 1) != 0;
	out->conn_max_concurrent_count = o->conn_max_concurrent_count != 0
			? o->conn_max_concurrent_count
			: (uint32_t)param_or_default(fn, arg, "DoSConnectionMaxConcurrentCount",
					DOS_GUARD_CONN_MAX_CONCURRENT_COUNT_DEFAULT, 1, INT32_MAX);
	out->conn_defense_type = o->conn_defense_type != 0 ? o->conn_defense_type
			: param_or_default(fn, arg, "DoSConnectionDefenseType",
					DOS_GUARD_DEFENSE_REFUSE, DOS_GUARD_DEFENSE_NONE,
					DOS_GUARD_DEFENSE_REFUSE);
	out->conn_connect_rate = o->conn_connect_rate != 0 ? o->conn_connect_rate
			: (uint32_t)param_or_default(fn, arg, "DoSConnectionConnectRate",
					DOS_GUARD_CONN_CONNECT_RATE_DEFAULT, 1, INT32_MAX);
	out->conn_connect_burst = o->conn_connect_burst != 0 ? o->conn_connect_burst
			: (uint32_t)param_or_default(fn, arg, "DoSConnectionConnectBurst",
					DOS_GUARD_CONN_CONNECT_BURST_DEFAULT, 1, INT32_MAX);
	out->conn_connect_defense_time_period = o->conn_connect_defense_time_period != 0
			? o->conn_connect_defense_time_period
			: param_or_default(fn, arg, "DoSConnectionConnectDefenseTimePeriod",
					DOS_GUARD_CONN_CONNECT_DEFENSE_TIME_PERIOD_DEFAULT,
					DOS_GUARD_CONN_CONNECT_DEFENSE_TIME_PERIOD_MIN, INT32_MAX);
}

struct dos_guard *
dos_guard_create(const struct dos_guard_config *cfg)
{
	uint32_t capacity = cfg->capacity != 0 ? cfg->capacity : DOS_GUARD_CAPACITY_DEFAULT;
	uint32_t buckets = 1;
	struct dos_guard *g;

	if (capacity > (1u << 24))
		return NULL;
	while (buckets * DOS_GUARD_WAYS < capacity)
		buckets <<= 1;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	g->entries = calloc((size_t)buckets * DOS_GUARD_WAYS, sizeof(*g->entries));
	if (g->entries == NULL) {
		free(g);
		return NULL;
	}
	g->bucket_mask = buckets - 1;
	memcpy(g->hash_key, cfg->hash_key, sizeof(g->hash_key));
	g->random_below = cfg->random_below != NULL ? cfg->random_below : sodium_below;
	g->random_arg = cfg->random_arg;
	/* tor's dos_init() before any consensus: the defaults, both
	 * subsystems off. */
	dos_guard_params_resolve(NULL, NULL, NULL, &g->params);
	return g;
}

void
dos_guard_destroy(struct dos_guard *g)
{
	if (g == NULL)
		return;
	sodium_memzero(g->hash_key, sizeof(g->hash_key));
	free(g->entries);
	free(g);
}

void
dos_guard_set_params(struct dos_guard *g, const struct dos_guard_params *params)
{
	memcpy(&g->params, params, sizeof(g->params));
}

const struct dos_guard_params *
dos_guard_get_params(const struct dos_guard *g)
{
	return &g->params;
}

const struct dos_guard_stats *
dos_guard_get_stats(const struct dos_guard *g)
{
	return &g->stats;
}

static struct dos_entry *
bucket_of(const struct dos_guard *g, uint32_t addr)
{
	uint8_t in[4] = { (uint8_t)(addr >> 24), (uint8_t)(addr >> 16), (uint8_t)(addr >> 8),
			  (uint8_t)addr };
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t h;

	crypto_shorthash(out, in, sizeof(in), g->hash_key);
	memcpy(&h, out, sizeof(h));
	return &g->entries[(size_t)(h & g->bucket_mask) * DOS_GUARD_WAYS];
}

static struct dos_entry *
find(const struct dos_guard *g, uint32_t addr)
{
	struct dos_entry *b = bucket_of(g, addr);

	for (unsigned i = 0; i < DOS_GUARD_WAYS; i++)
		if (b[i].used && b[i].addr == addr)
			return &b[i];
	return NULL;
}

/* Nothing to lose by reusing it: no connection to count down later, no
 * mark still in force. */
static bool
idle(const struct dos_entry *e, time_t now)
{
	return e->concurrent == 0 && e->cc_marked_until < now && e->conn_marked_until < now;
}

/* addr's entry, made when missing (tor's geoip client cache entry, with
 * the connect bucket full: dos_geoip_entry_init()); NULL when its bucket
 * holds no free or idle entry. */
static struct dos_entry *
find_or_add(struct dos_guard *g, uint32_t addr, time_t now)
{
	struct dos_entry *b = bucket_of(g, addr), *slot = NULL;

	for (unsigned i = 0; i < DOS_GUARD_WAYS; i++) {
		if (b[i].used && b[i].addr == addr)
			return &b[i];
		if (!b[i].used) {
			if (slot == NULL || slot->used)
				slot = &b[i];
		} else if (idle(&b[i], now) &&
			   (slot == NULL || (slot->used && b[i].last_seen < slot->last_seen))) {
			slot = &b[i];
		}
	}
	if (slot == NULL) {
		g->stats.table_full++;
		return NULL;
	}
	if (!slot->used)
		g->stats.entries++;
	memset(slot, 0, sizeof(*slot));
	slot->used = true;
	slot->addr = addr;
	slot->last_seen = now;
	slot->connect_tokens = g->params.conn_connect_burst;
	slot->connect_refilled = now;
	return slot;
}

/* tor dos.c cc_mark_client() / conn_mark_client(): until now + period +
 * a random 1 .. period/2 - 1 seconds (crypto_rand_int_range(1, period/2)).
 * tor asserts on a period below 4 s; hsrelay adds 1 s then. */
static time_t
mark_until(struct dos_guard *g, time_t now, int32_t period)
{
	int32_t half = period / 2;
	time_t extra = half > 1 ? 1 + (time_t)g->random_below(g->random_arg, (uint32_t)half - 1) : 1;

	return now + (period > 0 ? period : 0) + extra;
}

/* tor dos.c cc_stats_refill_bucket(): whole seconds since the last refill
 * times the rate, capped at the burst; the first refill, a clock that went
 * back and an absurd jump forward all fill it to the burst. */
static void
refill_circuit_bucket(const struct dos_guard *g, struct dos_entry *e, time_t now)
{
	uint32_t burst = g->params.cc_circuit_burst;
	uint64_t tokens;

	if (now == e->circuit_refilled)
		return;
	if (e->circuit_refilled == 0 || now < e->circuit_refilled ||
	    (uint64_t)(now - e->circuit_refilled) > UINT32_MAX)
		tokens = burst;
	else
		tokens = (uint64_t)(now - e->circuit_refilled) * g->params.cc_circuit_rate;
	if (tokens > UINT32_MAX - e->circuit_bucket)
		e->circuit_bucket = burst;
	else
		e->circuit_bucket = (uint32_t)(e->circuit_bucket + tokens) < burst
				? (uint32_t)(e->circuit_bucket + tokens) : burst;
	e->circuit_refilled = now;
}

/* tor token_bucket.c token_bucket_ctr_refill(): rate per elapsed second up
 * to the burst; an elapsed time over 2^30 s (a jump) adds nothing. The
 * burst and rate in force are used (tor keeps those of the entry's
 * creation). */
static void
refill_connect_bucket(const struct dos_guard *g, struct dos_entry *e, time_t now)
{
	uint32_t elapsed = (uint32_t)(now - e->connect_refilled);
	uint32_t burst = g->params.conn_connect_burst, rate = g->params.conn_connect_rate;

	if (e->connect_tokens > burst)
		e->connect_tokens = burst;
	if (elapsed <= UINT32_MAX / 4 && rate > 0) {
		if (elapsed > (burst - e->connect_tokens) / rate)
			e->connect_tokens = burst;
		else
			e->connect_tokens += rate * elapsed;
	}
	e->connect_refilled = now;
}

bool
dos_guard_connection_allowed(struct dos_guard *g, uint32_t addr, time_t now)
{
	const struct dos_guard_params *p = &g->params;
	struct dos_entry *e;

	if (!p->conn_enabled || (e = find(g, addr)) == NULL)
		return true;
	/* tor dos.c dos_conn_addr_get_defense_type(). */
	if (e->conn_marked_until >= now) {
		g->stats.conn_rejected++;
		goto detected;
	}
	/* Expired: cleared so that the connect rate can mark it again. */
	e->conn_marked_until = 0;
	if (e->concurrent > p->conn_max_concurrent_count) {
		g->stats.concurrent_conn_rejected++;
		goto detected;
	}
	return true;
detected:
	if (p->conn_defense_type != DOS_GUARD_DEFENSE_REFUSE)
		return true;
	g->stats.connections_closed++;
	return false;
}

bool
dos_guard_connection_opened(struct dos_guard *g, uint32_t addr, time_t now)
{
	struct dos_entry *e;

	/* tor dos.c dos_new_client_conn(): nothing is tracked while both
	 * subsystems are off. */
	if (!g->params.cc_enabled && !g->params.conn_enabled)
		return false;
	e = find_or_add(g, addr, now);
	if (e == NULL)
		return false;
	e->last_seen = now;
	/* conn_update_on_connect() */
	e->concurrent++;
	refill_connect_bucket(g, e, now);
	if (e->connect_tokens > 0)
		e->connect_tokens--;
	/* Marked once per exhaustion: a mark in force is not extended. */
	if (e->connect_tokens == 0 && e->conn_marked_until == 0)
		e->conn_marked_until = mark_until(g, now, g->params.conn_connect_defense_time_period);
	return true;
}

void
dos_guard_connection_closed(struct dos_guard *g, uint32_t addr)
{
	struct dos_entry *e = find(g, addr);

	/* A tracked connection's entry is never reused while it counts it
	 * (idle() wants concurrent 0), so e is there. */
	if (e != NULL && e->concurrent > 0)
		e->concurrent--;
}

bool
dos_guard_circuit_create(struct dos_guard *g, uint32_t addr, bool client, time_t now)
{
	const struct dos_guard_params *p = &g->params;
	struct dos_entry *e;

	/* tor dos.c dos_cc_new_create_cell(): client links from tracked
	 * addresses only. */
	if (!p->cc_enabled || !client || (e = find(g, addr)) == NULL)
		return false;
	e->last_seen = now;
	refill_circuit_bucket(g, e, now);
	if (e->circuit_bucket > 0)
		e->circuit_bucket--;
	/* The detection: bucket empty with enough connections. A marked
	 * address that keeps going has its mark pushed further. */
	if (e->circuit_bucket == 0 && e->concurrent >= p->cc_min_concurrent_conn) {
		if (e->cc_marked_until == 0)
			g->stats.marked_address++;
		e->cc_marked_until = mark_until(g, now, p->cc_defense_time_period);
	}
	/* dos_cc_get_defense_type(): counted also with defense type 1. */
	if (e->cc_marked_until >= now) {
		g->stats.circuit_rejected++;
		return p->cc_defense_type == DOS_GUARD_DEFENSE_REFUSE;
	}
	return false;
}

bool
dos_guard_circuit_max_outq(struct dos_guard *g, uint32_t addr, bool client, time_t now)
{
	const struct dos_guard_params *p = &g->params;
	struct dos_entry *e;

	/* tor dos.c dos_note_circ_max_outq(): the circuit creation defense,
	 * client links, addresses in the client cache, not marked already,
	 * the parameter not 0. */
	if (!p->cc_enabled || !client || (e = find(g, addr)) == NULL ||
	    e->cc_marked_until >= now || p->cc_num_circ_max_outq == 0)
		return false;
	e->last_seen = now;
	if (++e->circ_max_outq < p->cc_num_circ_max_outq)
		return false;
	/* Counted once per address in tor's cc_num_marked_addrs_max_queue
	 * (whose unique-address check reads the same never-reset mark), not
	 * in marked_address. */
	if (e->cc_marked_until == 0)
		g->stats.marked_address_maxq++;
	e->cc_marked_until = mark_until(g, now, p->cc_defense_time_period);
	e->circ_max_outq = 0;
	return true;
}

bool
dos_guard_peek(const struct dos_guard *g, uint32_t addr, struct dos_guard_entry_view *out)
{
	const struct dos_entry *e = find(g, addr);

	if (e == NULL)
		return false;
	out->concurrent = e->concurrent;
	out->circuit_bucket = e->circuit_bucket;
	out->connect_tokens = e->connect_tokens;
	out->cc_marked_until = e->cc_marked_until;
	out->conn_marked_until = e->conn_marked_until;
	return true;
}
