/* The introduction point; see intro_point.h. */
#include "control/intro_point.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dataplane/cell.h"

/* Buckets of each index (a power of two). */
#define INTRO_POINT_BUCKETS 4096u

/* tor's token_bucket_ctr_t (lib/evloop/token_bucket.c) for one intro
 * circuit's INTRODUCE2 cells, in whole seconds. */
struct intro_bucket {
	uint32_t rate;
	uint32_t burst;
	int64_t tokens;
	uint32_t last_refill;
};

/* State of one circuit ending here. */
struct intro_entry {
	struct intro_circuit circ;
	bool intro;			/* tor's purpose INTRO_POINT */
	bool introduced;		/* tor's already_received_introduce1 */
	uint8_t auth_key[HS_AUTH_KEY_LEN];	/* intro */
	struct hs_intro_dos_params dos;
	struct intro_bucket bucket;
	uint64_t introduce2;		/* intro: INTRODUCE2 handed on */
	struct intro_entry *next_by_circ;
	struct intro_entry *next_by_key;	/* intro only */
};

/* An INTRODUCE_ACK waiting for the worker's word on its INTRODUCE2. */
struct pending_ack {
	uint32_t id;			/* 0: free */
	uint32_t since;
	struct intro_circuit client;
	struct intro_circuit service;
};

struct intro_point {
	struct intro_point_config cfg;
	struct pending_ack pending[INTRO_POINT_PENDING_ACKS];
	uint32_t next_id;
	struct intro_point_dos_defaults defaults;
	struct intro_point_stats stats;
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
	struct intro_entry *by_circ[INTRO_POINT_BUCKETS];
	struct intro_entry *by_key[INTRO_POINT_BUCKETS];
};

static const char *const est_action_names[INTRO_EST_ACTIONS] = {
	"success", "malformed", "unsuitable_circuit", "circuit_dead",
};

static const char *const intro1_action_names[INTRO1_ACTIONS] = {
	"success", "circuit_dead", "malformed", "unknown_service", "rate_limited",
	"circuit_reused", "single_hop",
};

const char *
intro_point_est_action_name(enum intro_point_est_action action)
{
	return (unsigned)action < INTRO_EST_ACTIONS ? est_action_names[action] : "?";
}

const char *
intro_point_intro1_action_name(enum intro_point_intro1_action action)
{
	return (unsigned)action < INTRO1_ACTIONS ? intro1_action_names[action] : "?";
}

/* ------------------------------------------------------------------ */
/* Token bucket (tor token_bucket_ctr_*)                               */

static void
bucket_init(struct intro_bucket *b, uint32_t rate, uint32_t burst, uint32_t now_sec)
{
	b->rate = rate;
	b->burst = burst;
	b->tokens = burst;
	b->last_refill = now_sec;
}

static void
bucket_refill(struct intro_bucket *b, uint32_t now_sec)
{
	uint32_t elapsed = now_sec - b->last_refill;

	/* tor ignores a jump of more than a quarter of the range (a clock
	 * rollover) but still moves the timestamp. */
	if (elapsed <= UINT32_MAX / 4 && b->rate > 0) {
		uint64_t gap = (uint64_t)((int64_t)b->burst - b->tokens);

		if (elapsed > gap / b->rate)
			b->tokens = b->burst;
		else
			b->tokens += (int64_t)b->rate * elapsed;
	}
	b->last_refill = now_sec;
}

/* tor token_bucket_ctr_adjust: new rate and burst, tokens capped. */
static void
bucket_adjust(struct intro_bucket *b, uint32_t rate, uint32_t burst)
{
	b->rate = rate;
	b->burst = burst;
	if (b->tokens > burst)
		b->tokens = burst;
}

/* tor hs_dos_can_send_intro2: refill, take one token if any, allow while
 * tokens remain. A refusal counts as introduce2_rejected. */
static bool
can_send_introduce2(struct intro_point *ip, struct intro_entry *e, uint32_t now_sec)
{
	if (!e->dos.enabled)
		return true;
	bucket_refill(&e->bucket, now_sec);
	if (e->bucket.tokens > 0)
		e->bucket.tokens--;
	if (e->bucket.tokens > 0)
		return true;
	ip->stats.introduce2_rejected++;
	return false;
}

/* ------------------------------------------------------------------ */
/* The two indexes                                                     */

static unsigned
circ_bucket(const struct intro_circuit *circ)
{
	uint32_t h = circ->worker * 0x9e3779b1u ^ circ->handle * 0x85ebca6bu;

	return (h ^ h >> 15) & (INTRO_POINT_BUCKETS - 1);
}

static unsigned
key_bucket(const struct intro_point *ip, const uint8_t key[HS_AUTH_KEY_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint32_t v;

	/* Keyed: a client cannot choose auth keys that share a bucket. */
	crypto_shorthash(h, key, HS_AUTH_KEY_LEN, ip->hash_key);
	memcpy(&v, h, sizeof(v));
	return v & (INTRO_POINT_BUCKETS - 1);
}

static bool
same_circuit(const struct intro_circuit *a, const struct intro_circuit *b)
{
	return a->worker == b->worker && a->handle == b->handle && a->p_link == b->p_link &&
			a->p_circ_id == b->p_circ_id;
}

static void
unlink_key(struct intro_point *ip, struct intro_entry *e)
{
	for (struct intro_entry **pp = &ip->by_key[key_bucket(ip, e->auth_key)]; *pp != NULL;
			pp = &(*pp)->next_by_key) {
		if (*pp == e) {
			*pp = e->next_by_key;
			break;
		}
	}
	e->next_by_key = NULL;
	e->intro = false;
	ip->stats.intro_circuits--;
	if (ip->cfg.ops.intro_gone != NULL)
		ip->cfg.ops.intro_gone(ip->cfg.ctx, &e->circ, e->auth_key, e->introduce2);
}

static void
entry_remove(struct intro_point *ip, struct intro_entry *e)
{
	for (struct intro_entry **pp = &ip->by_circ[circ_bucket(&e->circ)]; *pp != NULL;
			pp = &(*pp)->next_by_circ) {
		if (*pp == e) {
			*pp = e->next_by_circ;
			break;
		}
	}
	if (e->intro)
		unlink_key(ip, e);
	ip->stats.circuits--;
	sodium_memzero(e, sizeof(*e));
	free(e);
}

/* The entry of circ, or NULL. An entry on the same worker and handle with
 * another p side belonged to a circuit that is gone: it goes. */
static struct intro_entry *
entry_find(struct intro_point *ip, const struct intro_circuit *circ)
{
	struct intro_entry *e = ip->by_circ[circ_bucket(circ)], *next;

	for (; e != NULL; e = next) {
		next = e->next_by_circ;
		if (e->circ.worker != circ->worker || e->circ.handle != circ->handle)
			continue;
		if (same_circuit(&e->circ, circ))
			return e;
		entry_remove(ip, e);
	}
	return NULL;
}

static struct intro_entry *
entry_add(struct intro_point *ip, const struct intro_circuit *circ)
{
	struct intro_entry *e;
	unsigned b = circ_bucket(circ);

	if (ip->stats.circuits >= ip->cfg.max_circuits)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->circ = *circ;
	e->next_by_circ = ip->by_circ[b];
	ip->by_circ[b] = e;
	ip->stats.circuits++;
	ip->cfg.ops.watch(ip->cfg.ctx, circ);
	return e;
}

static struct intro_entry *
intro_find_by_key(const struct intro_point *ip, const uint8_t key[HS_AUTH_KEY_LEN])
{
	for (struct intro_entry *e = ip->by_key[key_bucket(ip, key)]; e != NULL;
			e = e->next_by_key) {
		if (sodium_memcmp(e->auth_key, key, HS_AUTH_KEY_LEN) == 0)
			return e;
	}
	return NULL;
}

/* Forgets circ and closes it. */
static void
close_circuit(struct intro_point *ip, const struct intro_circuit *circ, uint8_t reason)
{
	struct intro_circuit copy = *circ;
	struct intro_entry *e = entry_find(ip, &copy);

	if (e != NULL)
		entry_remove(ip, e);
	ip->cfg.ops.close(ip->cfg.ctx, &copy, reason);
}

/* ------------------------------------------------------------------ */

struct intro_point *
intro_point_new(const struct intro_point_config *cfg)
{
	struct intro_point *ip;

	if (cfg->ops.send == NULL || cfg->ops.close == NULL || cfg->ops.watch == NULL)
		return NULL;
	if (sodium_init() < 0)
		return NULL;
	ip = calloc(1, sizeof(*ip));
	if (ip == NULL)
		return NULL;
	ip->cfg = *cfg;
	if (ip->cfg.max_circuits == 0)
		ip->cfg.max_circuits = INTRO_POINT_MAX_CIRCUITS_DEFAULT;
	ip->defaults = (struct intro_point_dos_defaults){
		.enabled = false,
		.rate_per_sec = HS_DOS_DEFAULT_RATE_PER_SEC,
		.burst_per_sec = HS_DOS_DEFAULT_BURST_PER_SEC,
	};
	crypto_shorthash_keygen(ip->hash_key);
	return ip;
}

void
intro_point_free(struct intro_point *ip)
{
	if (ip == NULL)
		return;
	ip->cfg.ops.intro_gone = NULL;	/* nothing closes: no one to tell */
	for (unsigned b = 0; b < INTRO_POINT_BUCKETS; b++) {
		while (ip->by_circ[b] != NULL)
			entry_remove(ip, ip->by_circ[b]);
	}
	sodium_memzero(ip, sizeof(*ip));
	free(ip);
}

void
intro_point_set_dos_defaults(struct intro_point *ip,
		const struct intro_point_dos_defaults *defaults)
{
	ip->defaults = *defaults;
	for (unsigned b = 0; b < INTRO_POINT_BUCKETS; b++) {
		for (struct intro_entry *e = ip->by_key[b]; e != NULL; e = e->next_by_key) {
			if (e->dos.explicit_params)
				continue;
			e->dos.enabled = defaults->enabled;
			e->dos.rate_per_sec = defaults->rate_per_sec;
			e->dos.burst_per_sec = defaults->burst_per_sec;
			bucket_adjust(&e->bucket, defaults->rate_per_sec, defaults->burst_per_sec);
		}
	}
}

/* tor circuit_is_suitable_intro_point: purpose still OR, ends here. */
static bool
suitable_intro_point(const struct intro_entry *e, const struct intro_circuit_info *info)
{
	return (e == NULL || !e->intro) && !info->other_purpose && !info->has_next_hop;
}

int
intro_point_establish(struct intro_point *ip, const struct intro_circuit *circ,
		const struct intro_circuit_info *info, const uint8_t *kh,
		const uint8_t *body, size_t body_len, uint32_t now_sec)
{
	struct establish_intro_cell cell;
	enum establish_intro_check failed;
	struct hs_intro_dos_params dos;
	struct intro_entry *e, *old;
	uint8_t reply[INTRO_ESTABLISHED_LEN];
	ssize_t reply_len;
	int rc;

	/* rend-spec-v3 3.1.1; tor: empty body and key types 0/1/other close
	 * before the circuit is looked at. */
	if (establish_intro_precheck(body, body_len) != ESTABLISH_INTRO_OK) {
		ip->stats.est_intro[INTRO_EST_MALFORMED]++;
		close_circuit(ip, circ, DESTROY_REASON_PROTOCOL);
		return -EPROTO;
	}
	e = entry_find(ip, circ);
	if (!suitable_intro_point(e, info)) {
		ip->stats.est_intro[INTRO_EST_UNSUITABLE_CIRCUIT]++;
		close_circuit(ip, circ, DESTROY_REASON_PROTOCOL);
		return -EPROTO;
	}
	if (kh == NULL) {
		ip->stats.no_kh++;
		ip->stats.est_intro[INTRO_EST_MALFORMED]++;
		close_circuit(ip, circ, DESTROY_REASON_PROTOCOL);
		return -EPROTO;
	}
	rc = establish_intro_verify(body, body_len, kh, &cell, &failed);
	if (rc < 0) {
		ip->stats.est_intro[INTRO_EST_MALFORMED]++;
		close_circuit(ip, circ, DESTROY_REASON_PROTOCOL);
		return -EPROTO;
	}
	if (e == NULL) {
		e = entry_add(ip, circ);
		if (e == NULL) {
			ip->stats.table_full++;
			close_circuit(ip, circ, DESTROY_REASON_RESOURCELIMIT);
			return -ENOSPC;
		}
	}
	/* tor hs_dos_setup_default_intro2_defenses, then the extensions. */
	dos = (struct hs_intro_dos_params){
		.enabled = ip->defaults.enabled,
		.rate_per_sec = ip->defaults.rate_per_sec,
		.burst_per_sec = ip->defaults.burst_per_sec,
	};
	establish_intro_apply_extensions(&cell, &dos);
	reply_len = intro_established_build(reply, sizeof(reply));
	if (reply_len < 0 || ip->cfg.ops.send(ip->cfg.ctx, circ, RELAY_COMMAND_INTRO_ESTABLISHED,
			reply, (size_t)reply_len) < 0) {
		ip->stats.est_intro[INTRO_EST_CIRCUIT_DEAD]++;
		close_circuit(ip, circ, DESTROY_REASON_PROTOCOL);
		return -EPROTO;
	}
	/* tor hs_circuitmap_register_impl: a newer circuit for the same key
	 * takes precedence; the older one is closed (FINISHED). */
	old = intro_find_by_key(ip, cell.auth_key);
	if (old != NULL) {
		ip->stats.replaced++;
		close_circuit(ip, &old->circ, DESTROY_REASON_FINISHED);
	}
	e->dos = dos;
	bucket_init(&e->bucket, dos.rate_per_sec, dos.burst_per_sec, now_sec);
	memcpy(e->auth_key, cell.auth_key, HS_AUTH_KEY_LEN);
	e->intro = true;
	{
		unsigned b = key_bucket(ip, e->auth_key);

		e->next_by_key = ip->by_key[b];
		ip->by_key[b] = e;
	}
	ip->stats.intro_circuits++;
	ip->stats.est_intro[INTRO_EST_SUCCESS]++;
	return 0;
}

static int
send_ack(struct intro_point *ip, const struct intro_circuit *circ, uint16_t status)
{
	uint8_t ack[INTRODUCE_ACK_LEN];
	ssize_t len = introduce_ack_build(status, ack, sizeof(ack));

	/* tor: a failed send closes the circuit in relay_send_command_from_edge;
	 * here the message is lost and the circuit stays. */
	if (len > 0)
		ip->cfg.ops.send(ip->cfg.ctx, circ, RELAY_COMMAND_INTRODUCE_ACK, ack, (size_t)len);
	return status;
}

/* INTRODUCE2 through ops.send_confirmed, the ACK to circ kept pending.
 * Returns INTRO_POINT_ACK_PENDING, the status sent when it could not be
 * sent, or -EAGAIN when no pending slot is free (the caller sends the
 * plain way). */
static int
send_introduce2_confirmed(struct intro_point *ip, const struct intro_circuit *circ,
		struct intro_entry *service, const uint8_t *body, size_t body_len,
		uint32_t now_sec)
{
	uint32_t id = ++ip->next_id == 0 ? ++ip->next_id : ip->next_id;
	struct pending_ack *pa = &ip->pending[id & (INTRO_POINT_PENDING_ACKS - 1)];

	if (pa->id != 0)
		return -EAGAIN;
	if (ip->cfg.ops.send_confirmed(ip->cfg.ctx, &service->circ, RELAY_COMMAND_INTRODUCE2,
			body, body_len, id) < 0) {
		ip->stats.intro1[INTRO1_CIRCUIT_DEAD]++;
		return send_ack(ip, circ, INTRODUCE_ACK_UNKNOWN_ID);
	}
	service->introduce2++;
	pa->id = id;
	pa->since = now_sec;
	pa->client = *circ;
	pa->service = service->circ;
	ip->stats.acks_pending++;
	return INTRO_POINT_ACK_PENDING;
}

void
intro_point_introduce2_sent(struct intro_point *ip, uint32_t id, bool sent)
{
	struct pending_ack *pa = &ip->pending[id & (INTRO_POINT_PENDING_ACKS - 1)];
	struct pending_ack done;

	if (id == 0 || pa->id != id)
		return;
	done = *pa;
	pa->id = 0;
	ip->stats.acks_pending--;
	if (sent) {
		ip->stats.intro1[INTRO1_SUCCESS]++;
		send_ack(ip, &done.client, INTRODUCE_ACK_SUCCESS);
		return;
	}
	/* The intro circuit closed before the INTRODUCE2 reached it: tor's
	 * circuitmap lookup skips a circuit marked for close. */
	ip->stats.intro1[INTRO1_UNKNOWN_SERVICE]++;
	intro_point_circuit_closed(ip, &done.service);
	send_ack(ip, &done.client, INTRODUCE_ACK_UNKNOWN_ID);
}

void
intro_point_poll(struct intro_point *ip, uint32_t now_sec)
{
	if (ip->stats.acks_pending == 0)
		return;
	for (unsigned i = 0; i < INTRO_POINT_PENDING_ACKS; i++) {
		struct pending_ack *pa = &ip->pending[i];

		if (pa->id == 0 || now_sec - pa->since < INTRO_POINT_ACK_TIMEOUT_SEC)
			continue;
		pa->id = 0;
		ip->stats.acks_pending--;
		ip->stats.acks_unconfirmed++;
		ip->stats.intro1[INTRO1_SUCCESS]++;
		send_ack(ip, &pa->client, INTRODUCE_ACK_SUCCESS);
	}
}

int
intro_point_introduce1(struct intro_point *ip, const struct intro_circuit *circ,
		const struct intro_circuit_info *info, const uint8_t *body, size_t body_len,
		uint32_t now_sec)
{
	struct introduce1_cell cell;
	enum introduce1_check failed;
	struct intro_entry *e, *service;

	if (introduce1_is_too_short(body_len)) {
		ip->stats.intro1[INTRO1_MALFORMED]++;
		close_circuit(ip, circ, DESTROY_REASON_PROTOCOL);
		return -EPROTO;
	}
	/* tor circuit_is_suitable_for_introduce1: the intro point checks
	 * (uncounted), one introduction per circuit, no single-hop client. */
	e = entry_find(ip, circ);
	if (!suitable_intro_point(e, info)) {
		close_circuit(ip, circ, DESTROY_REASON_PROTOCOL);
		return -EPROTO;
	}
	if (e != NULL && e->introduced) {
		ip->stats.intro1[INTRO1_CIRCUIT_REUSED]++;
		close_circuit(ip, circ, DESTROY_REASON_PROTOCOL);
		return -EPROTO;
	}
	if (info->previous_hop_is_client) {
		ip->stats.intro1[INTRO1_SINGLE_HOP]++;
		close_circuit(ip, circ, DESTROY_REASON_PROTOCOL);
		return -EPROTO;
	}
	if (e == NULL) {
		e = entry_add(ip, circ);
		if (e == NULL) {
			ip->stats.table_full++;
			close_circuit(ip, circ, DESTROY_REASON_RESOURCELIMIT);
			return -ENOSPC;
		}
	}
	e->introduced = true;

	if (introduce1_validate(body, body_len, &cell, &failed) < 0) {
		ip->stats.intro1[INTRO1_MALFORMED]++;
		return send_ack(ip, circ, INTRODUCE_ACK_BAD_FORMAT);
	}
	service = intro_find_by_key(ip, cell.auth_key);
	if (service == NULL) {
		ip->stats.intro1[INTRO1_UNKNOWN_SERVICE]++;
		return send_ack(ip, circ, INTRODUCE_ACK_UNKNOWN_ID);
	}
	/* rend-spec-v3 3.2.2: tor answers a rate-limited introduction with
	 * "unknown ID" on purpose. */
	if (!can_send_introduce2(ip, service, now_sec)) {
		ip->stats.intro1[INTRO1_RATE_LIMITED]++;
		return send_ack(ip, circ, INTRODUCE_ACK_UNKNOWN_ID);
	}
	/* rend-spec-v3 3.2: INTRODUCE2 carries the INTRODUCE1 body as is. */
	if (ip->cfg.ops.send_confirmed != NULL) {
		int rc = send_introduce2_confirmed(ip, circ, service, body, body_len, now_sec);

		if (rc != -EAGAIN)
			return rc;
		ip->stats.acks_unconfirmed++;
	}
	if (ip->cfg.ops.send(ip->cfg.ctx, &service->circ, RELAY_COMMAND_INTRODUCE2, body,
			body_len) < 0) {
		ip->stats.intro1[INTRO1_CIRCUIT_DEAD]++;
		return send_ack(ip, circ, INTRODUCE_ACK_UNKNOWN_ID);
	}
	service->introduce2++;
	ip->stats.intro1[INTRO1_SUCCESS]++;
	return send_ack(ip, circ, INTRODUCE_ACK_SUCCESS);
}

void
intro_point_circuit_closed(struct intro_point *ip, const struct intro_circuit *circ)
{
	for (struct intro_entry *e = ip->by_circ[circ_bucket(circ)]; e != NULL;
			e = e->next_by_circ) {
		if (same_circuit(&e->circ, circ)) {
			entry_remove(ip, e);
			return;
		}
	}
}

static void
remove_matching(struct intro_point *ip, uint32_t p_link, bool any_circ_id, uint32_t p_circ_id)
{
	for (unsigned b = 0; b < INTRO_POINT_BUCKETS; b++) {
		struct intro_entry *e = ip->by_circ[b], *next;

		for (; e != NULL; e = next) {
			next = e->next_by_circ;
			if (e->circ.p_link == p_link && (any_circ_id || e->circ.p_circ_id == p_circ_id))
				entry_remove(ip, e);
		}
	}
}

void
intro_point_link_closed(struct intro_point *ip, uint32_t p_link)
{
	if (ip->stats.circuits > 0)
		remove_matching(ip, p_link, true, 0);
}

void
intro_point_circuit_gone(struct intro_point *ip, uint32_t p_link, uint32_t p_circ_id)
{
	if (ip->stats.circuits > 0)
		remove_matching(ip, p_link, false, p_circ_id);
}

bool
intro_point_is_intro_circuit(const struct intro_point *ip, const struct intro_circuit *circ)
{
	for (const struct intro_entry *e = ip->by_circ[circ_bucket(circ)]; e != NULL;
			e = e->next_by_circ) {
		if (same_circuit(&e->circ, circ))
			return e->intro;
	}
	return false;
}

const struct intro_point_stats *
intro_point_stats(const struct intro_point *ip)
{
	return &ip->stats;
}
