/* The worker's circuit table and relay-cell fast path; see circuit.h. */
#include "dataplane/circuit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_random.h>

#include "dataplane/wire.h"

enum circuit_state {
	CIRCUIT_FREE,
	CIRCUIT_OPEN,		/* ends here, or forwards to n */
	CIRCUIT_EXTENDING,	/* CREATE2 sent to n, CREATED2 not yet done */
	CIRCUIT_REMOTE,		/* another worker owns it; p side = its n side here */
};

/* Hash values: handle << 1 | side. */
#define SIDE_P 0u
#define SIDE_N 1u

struct circuit_key {
	uint32_t link;
	uint32_t circ_id;
};

struct circuit {
	struct relay_cipher forward;	/* Kf: removes the client's layer towards n */
	struct relay_cipher backward;	/* Kb: adds ours towards p */
	uint32_t p_link, p_circ_id;
	uint32_t n_link, n_circ_id;	/* CIRCUIT_NO_LINK: none */
	uint64_t slow_epoch;		/* burst in which cells take the slow path */
	uint8_t state;			/* enum circuit_state */
	uint8_t relay_early_left;
	bool n_open;			/* extension done: forward to n */
	uint8_t owner;			/* REMOTE: the owning worker */
	/* Rendezvous partner (circuit_splice): its p side, and its handle
	 * when this table owns it too (else CIRCUIT_NONE). */
	uint32_t splice_link, splice_circ_id;	/* CIRCUIT_NO_LINK: none */
	uint32_t splice_handle;

	bool watched;			/* report its close (circuit_watch) */
	/* Sent RENDEZVOUS1 and not joined yet: cells no hop recognizes are
	 * held (circuit_take_held) rather than closing the circuit. */
	bool rend1_sent;
	uint8_t nb_held;
	uint16_t held_first, held_last;	/* in circuit_table.held */
} __rte_cache_aligned;

/* One held cell (circuit_take_held), in its circuit's list or the free
 * list. */
struct circuit_held {
	uint8_t cell[CELL_LEN];
	uint16_t next;
	uint64_t arrival;	/* circuit_cell.arrival, given back with it */
};

#define HELD_NONE UINT16_MAX

/* Cold: only for cells to or from this hop. */
struct circuit_digests {
	struct relay_digest forward;
	struct relay_digest backward;
};

struct circuit_table {
	struct rte_hash *hash;
	struct circuit *circuits;
	struct circuit_digests *digests;
	uint32_t *free_list;
	uint32_t nb_free;
	uint32_t max_circuits;
	uint64_t epoch;
	struct circuit_counters counters;
	/* Cells of the current burst spliced to a partner this table owns:
	 * their Kb layer is added in one crypto burst after the decisions. */
	unsigned nb_splice;
	uint16_t splice_index[CIRCUIT_BURST_MAX];
	/* Running forward digests after the LOCAL cells of the last burst,
	 * by index (circuit_burst_local_digest). */
	unsigned burst_index;
	uint8_t burst_digests[CIRCUIT_BURST_MAX][20];
	/* Cells held behind a RENDEZVOUS1 (CIRCUIT_HOLD_CELLS), and the
	 * free ones as a list. */
	struct circuit_held *held;
	uint16_t held_free;
	/* Watched circuits freed and not reported yet, oldest first: a ring
	 * of handles (room for every slot, since a slot waits here at most
	 * once and is not reused before it is reported). Their struct
	 * circuit still holds the p side. */
	uint32_t *closed;
	uint32_t closed_first, nb_closed;
};

struct circuit_table *
circuit_table_create(const struct circuit_table_config *cfg, int *error)
{
	static uint32_t instance;
	struct rte_hash_parameters hp;
	struct circuit_table *t;
	char name[RTE_HASH_NAMESIZE];

	if (cfg->max_circuits == 0 || cfg->max_circuits > (1u << 24)) {
		*error = -EINVAL;
		return NULL;
	}
	t = rte_zmalloc_socket("circuit_table", sizeof(*t), RTE_CACHE_LINE_SIZE, cfg->socket_id);
	if (t == NULL) {
		*error = -ENOMEM;
		return NULL;
	}
	t->max_circuits = cfg->max_circuits;
	t->circuits = rte_zmalloc_socket("circuits", sizeof(*t->circuits) * cfg->max_circuits,
			RTE_CACHE_LINE_SIZE, cfg->socket_id);
	t->digests = rte_zmalloc_socket("circuit_digests",
			sizeof(*t->digests) * cfg->max_circuits, RTE_CACHE_LINE_SIZE, cfg->socket_id);
	t->free_list = rte_malloc_socket("circuit_free", sizeof(uint32_t) * cfg->max_circuits, 0,
			cfg->socket_id);
	t->closed = rte_malloc_socket("circuit_closed", sizeof(uint32_t) * cfg->max_circuits, 0,
			cfg->socket_id);
	t->held = rte_malloc_socket("circuit_held", sizeof(*t->held) * CIRCUIT_HOLD_CELLS, 0,
			cfg->socket_id);
	snprintf(name, sizeof(name), "circ%u", __atomic_fetch_add(&instance, 1, __ATOMIC_RELAXED));
	memset(&hp, 0, sizeof(hp));
	hp.name = name;
	/* Two keys per extended circuit. */
	hp.entries = cfg->max_circuits * 2 > 8 ? cfg->max_circuits * 2 : 8;
	hp.key_len = sizeof(struct circuit_key);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = cfg->socket_id;
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	t->hash = rte_hash_create(&hp);
	if (t->circuits == NULL || t->digests == NULL || t->free_list == NULL || t->closed == NULL ||
	    t->held == NULL || t->hash == NULL) {
		circuit_table_destroy(t);
		*error = -ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < cfg->max_circuits; i++)
		t->free_list[i] = cfg->max_circuits - 1 - i;
	t->nb_free = cfg->max_circuits;
	for (uint16_t i = 0; i < CIRCUIT_HOLD_CELLS; i++)
		t->held[i].next = i + 1 < CIRCUIT_HOLD_CELLS ? i + 1 : HELD_NONE;
	t->held_free = 0;
	return t;
}

void
circuit_table_destroy(struct circuit_table *t)
{
	if (t == NULL)
		return;
	if (t->circuits != NULL) {
		for (uint32_t i = 0; i < t->max_circuits; i++) {
			relay_cipher_clear(&t->circuits[i].forward);
			relay_cipher_clear(&t->circuits[i].backward);
		}
	}
	if (t->digests != NULL) {
		for (uint32_t i = 0; i < t->max_circuits; i++) {
			relay_digest_clear(&t->digests[i].forward);
			relay_digest_clear(&t->digests[i].backward);
		}
	}
	rte_hash_free(t->hash);
	rte_free(t->circuits);
	rte_free(t->digests);
	rte_free(t->free_list);
	rte_free(t->closed);
	rte_free(t->held);
	rte_free(t);
}

static int
key_add(struct circuit_table *t, uint32_t link, uint32_t circ_id, uint32_t handle, uint32_t side)
{
	struct circuit_key k = { .link = link, .circ_id = circ_id };

	if (rte_hash_lookup(t->hash, &k) >= 0)
		return -EEXIST;
	if (rte_hash_add_key_data(t->hash, &k, (void *)(uintptr_t)(handle << 1 | side)) < 0)
		return -ENOSPC;
	return 0;
}

static void
key_del(struct circuit_table *t, uint32_t link, uint32_t circ_id)
{
	struct circuit_key k = { .link = link, .circ_id = circ_id };

	rte_hash_del_key(t->hash, &k);
}

/* Takes a free slot for a circuit whose p side (or a remote entry's key)
 * is (p_link, p_circ_id), keys it and resets its routing state: no n side,
 * no partner, no RELAY_EARLY budget. Returns 0 and sets *handle, -EINVAL,
 * -EEXIST (the key is taken) or -ENOSPC. */
static int
slot_take(struct circuit_table *t, uint32_t p_link, uint32_t p_circ_id, uint8_t state,
		uint32_t *handle)
{
	struct circuit *c;
	uint32_t h;
	int rc;

	if (p_circ_id == 0 || p_link == CIRCUIT_NO_LINK)
		return -EINVAL;
	if (t->nb_free == 0)
		return -ENOSPC;
	h = t->free_list[t->nb_free - 1];
	rc = key_add(t, p_link, p_circ_id, h, SIDE_P);
	if (rc < 0)
		return rc;
	t->nb_free--;
	c = &t->circuits[h];
	c->p_link = p_link;
	c->p_circ_id = p_circ_id;
	c->n_link = CIRCUIT_NO_LINK;
	c->n_circ_id = 0;
	c->slow_epoch = 0;
	c->state = state;
	c->relay_early_left = 0;
	c->n_open = false;
	c->splice_link = CIRCUIT_NO_LINK;
	c->splice_circ_id = 0;
	c->splice_handle = CIRCUIT_NONE;
	c->rend1_sent = false;
	c->nb_held = 0;
	c->held_first = c->held_last = HELD_NONE;
	*handle = h;
	return 0;
}

int
circuit_create(struct circuit_table *t, struct crypto_engine *engine,
		const struct circuit_keys *keys, uint32_t p_link, uint32_t p_circ_id,
		uint32_t *handle)
{
	struct circuit *c;
	uint32_t h;
	int rc = slot_take(t, p_link, p_circ_id, CIRCUIT_OPEN, &h);

	if (rc < 0)
		return rc;
	c = &t->circuits[h];
	relay_cipher_init(engine, &c->forward, keys->forward_key);
	relay_cipher_init(engine, &c->backward, keys->backward_key);
	relay_digest_init(&t->digests[h].forward, keys->forward_digest);
	relay_digest_init(&t->digests[h].backward, keys->backward_digest);
	c->relay_early_left = CIRCUIT_MAX_RELAY_EARLY;
	t->counters.circuits_open++;
	*handle = h;
	return 0;
}

static struct circuit *
live(const struct circuit_table *t, uint32_t handle)
{
	if (handle >= t->max_circuits || t->circuits[handle].state == CIRCUIT_FREE)
		return NULL;
	return &t->circuits[handle];
}

int
circuit_extend_begin(struct circuit_table *t, uint32_t handle, uint32_t n_link,
		uint32_t n_circ_id)
{
	struct circuit *c = live(t, handle);
	int rc;

	if (c == NULL)
		return -ENOENT;
	if (c->state == CIRCUIT_REMOTE)
		return -EINVAL;
	if (c->n_link != CIRCUIT_NO_LINK || n_circ_id == 0 || n_link == CIRCUIT_NO_LINK)
		return c->n_link != CIRCUIT_NO_LINK ? -EEXIST : -EINVAL;
	if (c->splice_link != CIRCUIT_NO_LINK)
		return -EBUSY;
	rc = key_add(t, n_link, n_circ_id, handle, SIDE_N);
	if (rc < 0)
		return rc;
	c->n_link = n_link;
	c->n_circ_id = n_circ_id;
	c->state = CIRCUIT_EXTENDING;
	return 0;
}

int
circuit_extend_done(struct circuit_table *t, uint32_t handle)
{
	struct circuit *c = live(t, handle);

	if (c == NULL)
		return -ENOENT;
	if (c->state != CIRCUIT_EXTENDING)
		return -EINVAL;
	c->state = CIRCUIT_OPEN;
	c->n_open = true;
	return 0;
}

static void
detach_n(struct circuit_table *t, struct circuit *c)
{
	if (c->n_link == CIRCUIT_NO_LINK)
		return;
	key_del(t, c->n_link, c->n_circ_id);
	c->n_link = CIRCUIT_NO_LINK;
	c->n_circ_id = 0;
	c->n_open = false;
	c->state = CIRCUIT_OPEN;
}

/* Forgets c's rendezvous partner; a partner in this table forgets c too
 * (the caller closes it). */
static void
unsplice(struct circuit_table *t, uint32_t handle, struct circuit *c)
{
	if (c->splice_link == CIRCUIT_NO_LINK)
		return;
	if (c->splice_handle != CIRCUIT_NONE) {
		struct circuit *peer = &t->circuits[c->splice_handle];

		if (peer->state != CIRCUIT_FREE && peer->splice_handle == handle) {
			peer->splice_link = CIRCUIT_NO_LINK;
			peer->splice_circ_id = 0;
			peer->splice_handle = CIRCUIT_NONE;
			t->counters.splices_open--;
		}
	}
	c->splice_link = CIRCUIT_NO_LINK;
	c->splice_circ_id = 0;
	c->splice_handle = CIRCUIT_NONE;
	t->counters.splices_open--;
}

int
circuit_free(struct circuit_table *t, uint32_t handle)
{
	struct circuit *c = live(t, handle);

	if (c == NULL)
		return -ENOENT;
	unsplice(t, handle, c);
	/* Held cells go with the circuit (a join that failed, or a close). */
	while (c->held_first != HELD_NONE) {
		uint16_t i = c->held_first;

		c->held_first = t->held[i].next;
		t->held[i].next = t->held_free;
		t->held_free = i;
		t->counters.cells_held--;
	}
	c->nb_held = 0;
	c->held_last = HELD_NONE;
	c->rend1_sent = false;
	detach_n(t, c);
	key_del(t, c->p_link, c->p_circ_id);
	relay_cipher_clear(&c->forward);
	relay_cipher_clear(&c->backward);
	relay_digest_clear(&t->digests[handle].forward);
	relay_digest_clear(&t->digests[handle].backward);
	if (c->state == CIRCUIT_REMOTE)
		t->counters.remotes_open--;
	else
		t->counters.circuits_open--;
	c->state = CIRCUIT_FREE;
	if (c->watched) {
		/* The slot waits, p side kept, until circuit_take_closed()
		 * reports it: no close is lost, and control never sees the
		 * handle reused before it heard of the close. */
		c->watched = false;
		t->closed[(t->closed_first + t->nb_closed++) % t->max_circuits] = handle;
		t->counters.closed_unreported++;
	} else {
		t->free_list[t->nb_free++] = handle;
	}
	return 0;
}

int
circuit_remote_add(struct circuit_table *t, uint32_t link, uint32_t circ_id, uint8_t owner,
		uint32_t *handle)
{
	uint32_t h;
	int rc = slot_take(t, link, circ_id, CIRCUIT_REMOTE, &h);

	if (rc < 0)
		return rc;
	t->circuits[h].owner = owner;
	t->counters.remotes_open++;
	*handle = h;
	return 0;
}

int
circuit_remote_owner(const struct circuit_table *t, uint32_t handle)
{
	if (handle >= t->max_circuits || t->circuits[handle].state == CIRCUIT_FREE)
		return -ENOENT;
	if (t->circuits[handle].state != CIRCUIT_REMOTE)
		return -EINVAL;
	return t->circuits[handle].owner;
}

static bool
splice_candidate(const struct circuit *c)
{
	return c->state == CIRCUIT_OPEN && c->n_link == CIRCUIT_NO_LINK &&
	       c->splice_link == CIRCUIT_NO_LINK;
}

int
circuit_splice(struct circuit_table *t, uint32_t handle, uint32_t peer_link,
		uint32_t peer_circ_id, uint32_t peer_handle)
{
	struct circuit *c = live(t, handle);
	struct circuit *peer = NULL;

	if (c == NULL)
		return -ENOENT;
	if (c->state == CIRCUIT_REMOTE || peer_link == CIRCUIT_NO_LINK || peer_circ_id == 0 ||
	    peer_handle == handle)
		return -EINVAL;
	if (peer_handle != CIRCUIT_NONE) {
		peer = live(t, peer_handle);
		if (peer == NULL)
			return -ENOENT;
		if (peer->state == CIRCUIT_REMOTE || peer->p_link != peer_link ||
		    peer->p_circ_id != peer_circ_id)
			return -EINVAL;
		if (!splice_candidate(peer))
			return -EBUSY;
	}
	if (!splice_candidate(c))
		return -EBUSY;
	c->splice_link = peer_link;
	c->splice_circ_id = peer_circ_id;
	c->splice_handle = peer_handle;
	t->counters.splices_open++;
	if (peer != NULL) {
		peer->splice_link = c->p_link;
		peer->splice_circ_id = c->p_circ_id;
		peer->splice_handle = handle;
		t->counters.splices_open++;
	}
	return 0;
}

int
circuit_splice_peer(const struct circuit_table *t, uint32_t handle, uint32_t *peer_link,
		uint32_t *peer_circ_id, uint32_t *peer_handle)
{
	const struct circuit *c = live(t, handle);

	if (c == NULL)
		return -ENOENT;
	*peer_link = c->splice_link;
	*peer_circ_id = c->splice_circ_id;
	*peer_handle = c->splice_handle;
	return 0;
}

int
circuit_sides(const struct circuit_table *t, uint32_t handle, uint32_t *p_link,
		uint32_t *p_circ_id, uint32_t *n_link, uint32_t *n_circ_id)
{
	const struct circuit *c = live(t, handle);

	if (c == NULL)
		return -ENOENT;
	*p_link = c->p_link;
	*p_circ_id = c->p_circ_id;
	*n_link = c->n_link;
	*n_circ_id = c->n_circ_id;
	return 0;
}

uint32_t
circuit_lookup(const struct circuit_table *t, uint32_t link, uint32_t circ_id)
{
	struct circuit_key k = { .link = link, .circ_id = circ_id };
	void *data;

	if (rte_hash_lookup_data(t->hash, &k, &data) < 0)
		return CIRCUIT_NONE;
	return (uint32_t)((uintptr_t)data >> 1);
}

const struct circuit_counters *
circuit_table_counters(const struct circuit_table *t)
{
	return &t->counters;
}

/* Writes a DESTROY cell (tor-spec 5.4): circuit id, command, reason, and
 * zero bytes for the rest of the payload. */
static void
write_destroy(uint8_t *cell, uint32_t circ_id, uint8_t reason)
{
	cell_wire_set_circ_id(cell, circ_id);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_DESTROY;
	memset(cell_wire_payload(cell), 0, CELL_PAYLOAD_LEN);
	cell_wire_payload(cell)[0] = reason;
}

/* Relay payload this hop originates (tor-spec 6.1): header, data, then
 * four zero bytes and random padding (so that padding never decrypts to a
 * predictable keystream), digest stamped, one layer added. */
static void
originate(struct circuit_table *t, struct crypto_engine *engine, uint32_t handle,
		uint8_t *payload, uint8_t relay_command, uint16_t stream_id, const uint8_t *data,
		uint16_t len)
{
	struct circuit *c = &t->circuits[handle];
	struct relay_cipher *cipher = &c->backward;
	uint8_t *pad = payload + RELAY_HEADER_LEN + len;
	size_t pad_len = RELAY_DATA_MAX - len;

	payload[RELAY_OFFSET_COMMAND] = relay_command;
	wire_write_u16(payload + RELAY_OFFSET_RECOGNIZED, 0);
	wire_write_u16(payload + RELAY_OFFSET_STREAM_ID, stream_id);
	memset(payload + RELAY_OFFSET_DIGEST, 0, RELAY_DIGEST_LEN);
	wire_write_u16(payload + RELAY_OFFSET_LENGTH, len);
	if (len > 0)
		memmove(payload + RELAY_HEADER_LEN, data, len);
	for (size_t i = 0; i < pad_len; i += 8) {
		uint64_t r = rte_rand();

		memcpy(pad + i, &r, pad_len - i < 8 ? pad_len - i : 8);
	}
	memset(pad, 0, pad_len < 4 ? pad_len : 4);
	relay_digest_stamp(&t->digests[handle].backward, payload);
	relay_crypt_burst(engine, &cipher, &payload, 1);
}

int
circuit_originate_backward(struct circuit_table *t, struct crypto_engine *engine,
		uint32_t handle, uint8_t relay_command, uint16_t stream_id, const uint8_t *data,
		uint16_t len, uint8_t cell[CELL_LEN], uint32_t *p_link)
{
	struct circuit *c = live(t, handle);

	if (c == NULL)
		return -ENOENT;
	if (c->state == CIRCUIT_REMOTE)
		return -EINVAL;
	if (len > RELAY_DATA_MAX)
		return -EMSGSIZE;
	cell_wire_set_circ_id(cell, c->p_circ_id);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY;
	originate(t, engine, handle, cell_wire_payload(cell), relay_command, stream_id, data, len);
	*p_link = c->p_link;
	return 0;
}

/* Closes a circuit for a protocol violation (or any reason): the cell that
 * caused it becomes the DESTROY to p, and n (if any) gets one in extra. */
static void
close_circuit(struct circuit_table *t, uint32_t handle, struct circuit_cell *cc, uint8_t reason,
		struct circuit_extra_cell extra[], unsigned *nb_extra)
{
	struct circuit *c = &t->circuits[handle];

	write_destroy(cc->cell, c->p_circ_id, reason);
	cc->verdict = CIRCUIT_VERDICT_FORWARD;
	cc->kind = CIRCUIT_CELL_MADE;
	cc->out_link = c->p_link;
	cc->relay_early = 0;
	cc->circuit = CIRCUIT_NONE;
	if (c->n_link != CIRCUIT_NO_LINK) {
		write_destroy(extra[*nb_extra].cell, c->n_circ_id, reason);
		extra[*nb_extra].link = c->n_link;
		extra[*nb_extra].splice_remote = 0;
		(*nb_extra)++;
	}
	if (c->splice_link != CIRCUIT_NO_LINK) {
		/* tor circuitlist.c circuit_mark_for_close_(): the partner
		 * closes with the same reason. A spliced circuit has no n
		 * side, so this is the only extra cell. */
		uint32_t peer = c->splice_handle;

		write_destroy(extra[*nb_extra].cell, c->splice_circ_id, reason);
		extra[*nb_extra].link = c->splice_link;
		extra[*nb_extra].splice_remote = peer == CIRCUIT_NONE;
		(*nb_extra)++;
		circuit_free(t, handle);
		if (peer != CIRCUIT_NONE && live(t, peer) != NULL) {
			t->counters.closed_by_splice++;
			circuit_free(t, peer);
		}
		return;
	}
	circuit_free(t, handle);
}

static void
set_drop(struct circuit_cell *cc, uint64_t *counter)
{
	cc->verdict = CIRCUIT_VERDICT_DROP;
	(*counter)++;
}

/* tor relay.c circuit_receive_relay_cell(): a cell not recognized on a
 * spliced circuit continues as an inbound RELAY cell of the partner
 * (RELAY_EARLY is downgraded). Returns true when the partner is in this
 * table: the caller adds its Kb layer; else the cell is for the partner's
 * worker (SPLICE_REMOTE). */
static bool
route_spliced(const struct circuit *c, uint32_t handle, struct circuit_cell *cc)
{
	cell_wire_set_circ_id(cc->cell, c->splice_circ_id);
	cc->cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY;
	cc->out_link = c->splice_link;
	cc->relay_early = 0;
	cc->toward_p = 1;
	cc->kind = CIRCUIT_CELL_SPLICED;
	if (c->splice_handle == CIRCUIT_NONE) {
		cc->verdict = CIRCUIT_VERDICT_SPLICE_REMOTE;
		cc->circuit = handle;
		return false;
	}
	cc->verdict = CIRCUIT_VERDICT_FORWARD;
	cc->circuit = c->splice_handle;
	return true;
}

/* Holds a cell that came after RENDEZVOUS1 (this hop's layer removed) in
 * the table's pool; a circuit over CIRCUIT_HOLD_PER_CIRCUIT cells, or a
 * full pool, closes (RESOURCELIMIT). */
static void
hold_cell(struct circuit_table *t, uint32_t handle, struct circuit_cell *cc,
		struct circuit_extra_cell extra[], unsigned *nb_extra)
{
	struct circuit *c = &t->circuits[handle];
	uint16_t i = t->held_free;

	if (i == HELD_NONE || c->nb_held >= CIRCUIT_HOLD_PER_CIRCUIT) {
		t->counters.closed_hold_full++;
		close_circuit(t, handle, cc, DESTROY_REASON_RESOURCELIMIT, extra, nb_extra);
		return;
	}
	t->held_free = t->held[i].next;
	memcpy(t->held[i].cell, cc->cell, CELL_LEN);
	t->held[i].arrival = cc->arrival;
	t->held[i].next = HELD_NONE;
	if (c->held_last == HELD_NONE)
		c->held_first = i;
	else
		t->held[c->held_last].next = i;
	c->held_last = i;
	c->nb_held++;
	t->counters.cells_held++;
	t->counters.held_total++;
	cc->verdict = CIRCUIT_VERDICT_HELD;
	cc->circuit = handle;
}

/* A relay cell from p, already decrypted by one layer. */
static void
relay_from_p(struct circuit_table *t, uint32_t handle, struct circuit_cell *cc,
		uint8_t command, struct circuit_extra_cell extra[], unsigned *nb_extra)
{
	struct circuit *c = &t->circuits[handle];
	uint8_t *payload = cell_wire_payload(cc->cell);

	/* tor-spec 6.1 "Routing relay cells": recognized == 0 and a matching
	 * running digest mean the cell is for this hop. */
	if (wire_read_u16(payload + RELAY_OFFSET_RECOGNIZED) == 0 &&
	    relay_digest_check(&t->digests[handle].forward, payload)) {
		cc->verdict = CIRCUIT_VERDICT_LOCAL;
		cc->circuit = handle;
		t->counters.local++;
		relay_digest_current(&t->digests[handle].forward, t->burst_digests[t->burst_index]);
		/* tor handles RENDEZVOUS1 (the join) before the next cell; here
		 * the control thread answers later, so what follows is held
		 * until the join or the close (circuit_take_held). */
		if (payload[RELAY_OFFSET_COMMAND] == RELAY_COMMAND_RENDEZVOUS1 &&
		    c->n_link == CIRCUIT_NO_LINK && c->splice_link == CIRCUIT_NO_LINK)
			c->rend1_sent = true;
		return;
	}
	if (c->splice_link != CIRCUIT_NO_LINK) {
		if (route_spliced(c, handle, cc))
			t->splice_index[t->nb_splice++] = (uint16_t)t->burst_index;
		return;
	}
	if (c->rend1_sent && c->n_link == CIRCUIT_NO_LINK) {
		hold_cell(t, handle, cc, extra, nb_extra);
		return;
	}
	if (!c->n_open) {
		/* tor-spec 5.5.2.1 / tor relay.c: not recognized, and the
		 * circuit stops here. */
		t->counters.closed_protocol++;
		close_circuit(t, handle, cc, DESTROY_REASON_PROTOCOL, extra, nb_extra);
		return;
	}
	cell_wire_set_circ_id(cc->cell, c->n_circ_id);
	cc->out_link = c->n_link;
	cc->relay_early = command == CELL_COMMAND_RELAY_EARLY;
	cc->verdict = CIRCUIT_VERDICT_FORWARD;
	cc->kind = CIRCUIT_CELL_FORWARDED;
	cc->circuit = handle;
	cc->toward_p = 0;
	t->counters.forwarded++;
}

static void
relay_from_n(struct circuit_table *t, uint32_t handle, struct circuit_cell *cc)
{
	struct circuit *c = &t->circuits[handle];

	cell_wire_set_circ_id(cc->cell, c->p_circ_id);
	cc->cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY;
	cc->out_link = c->p_link;
	cc->relay_early = 0;
	cc->verdict = CIRCUIT_VERDICT_FORWARD;
	cc->kind = CIRCUIT_CELL_FORWARDED;
	cc->circuit = handle;
	cc->toward_p = 1;
	t->counters.backwarded++;
}

/* Everything but the fast relay case, one cell at a time, with the
 * circuit's state as it is now. */
static void
slow_cell(struct circuit_table *t, struct crypto_engine *engine, uint32_t handle,
		uint32_t side, struct circuit_cell *cc, struct circuit_extra_cell extra[],
		unsigned *nb_extra)
{
	struct circuit *c = &t->circuits[handle];
	uint8_t command = cell_wire_command(cc->cell);
	uint8_t *payload = cell_wire_payload(cc->cell);

	switch (command) {
	case CELL_COMMAND_RELAY:
	case CELL_COMMAND_RELAY_EARLY:
		if (side == SIDE_N) {
			if (command == CELL_COMMAND_RELAY_EARLY || !c->n_open) {
				/* tor-spec 5.6: RELAY_EARLY only travels
				 * away from the client; nothing but CREATED2
				 * comes from n before the extension is done. */
				t->counters.closed_protocol++;
				close_circuit(t, handle, cc, DESTROY_REASON_PROTOCOL, extra,
						nb_extra);
				return;
			}
			{
				struct relay_cipher *cipher = &c->backward;

				relay_crypt_burst(engine, &cipher, &payload, 1);
			}
			relay_from_n(t, handle, cc);
			return;
		}
		if (command == CELL_COMMAND_RELAY_EARLY) {
			if (c->relay_early_left == 0) {
				t->counters.closed_protocol++;
				close_circuit(t, handle, cc, DESTROY_REASON_PROTOCOL, extra,
						nb_extra);
				return;
			}
			c->relay_early_left--;
		}
		{
			struct relay_cipher *cipher = &c->forward;

			relay_crypt_burst(engine, &cipher, &payload, 1);
		}
		relay_from_p(t, handle, cc, command, extra, nb_extra);
		return;
	case CELL_COMMAND_DESTROY:
		t->counters.destroy_received++;
		if (side == SIDE_P) {
			/* tor-spec 5.4: the circuit goes; n hears the same
			 * reason. */
			uint8_t reason = payload[0];

			t->counters.closed_by_destroy++;
			if (c->splice_link != CIRCUIT_NO_LINK) {
				/* tor command.c: the circuit is closed with
				 * reason DESTROYED rather than the received
				 * one (no side channel), and the partner with
				 * it (circuit_mark_for_close_()). */
				uint32_t peer = c->splice_handle;

				write_destroy(cc->cell, c->splice_circ_id,
						DESTROY_REASON_DESTROYED);
				cc->out_link = c->splice_link;
				cc->relay_early = 0;
				cc->circuit = CIRCUIT_NONE;
				cc->verdict = peer == CIRCUIT_NONE ? CIRCUIT_VERDICT_SPLICE_REMOTE
						: CIRCUIT_VERDICT_FORWARD;
				circuit_free(t, handle);
				if (peer != CIRCUIT_NONE && live(t, peer) != NULL) {
					t->counters.closed_by_splice++;
					circuit_free(t, peer);
				}
				return;
			}
			if (c->n_link != CIRCUIT_NO_LINK) {
				write_destroy(cc->cell, c->n_circ_id, reason);
				cc->out_link = c->n_link;
				cc->verdict = CIRCUIT_VERDICT_FORWARD;
				cc->relay_early = 0;
			} else {
				cc->verdict = CIRCUIT_VERDICT_DROP;
			}
			circuit_free(t, handle);
			return;
		}
		/* From n: the circuit is truncated here and the client is
		 * told with RELAY_TRUNCATED carrying the reason (tor-spec
		 * 5.4; tor command.c). */
		{
			uint8_t reason = payload[0];

			detach_n(t, c);
			cell_wire_set_circ_id(cc->cell, c->p_circ_id);
			cc->cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY;
			originate(t, engine, handle, payload, RELAY_COMMAND_TRUNCATED, 0, &reason,
					1);
			cc->out_link = c->p_link;
			cc->verdict = CIRCUIT_VERDICT_FORWARD;
			cc->relay_early = 0;
			cc->circuit = handle;
			cc->toward_p = 1;
			t->counters.truncated_sent++;
		}
		return;
	case CELL_COMMAND_CREATED2:
	case CELL_COMMAND_CREATED_FAST:
		if (side == SIDE_N && c->state == CIRCUIT_EXTENDING) {
			cc->verdict = CIRCUIT_VERDICT_CONTROL;
			cc->circuit = handle;
			t->counters.to_control++;
			return;
		}
		t->counters.closed_protocol++;
		close_circuit(t, handle, cc, DESTROY_REASON_PROTOCOL, extra, nb_extra);
		return;
	case CELL_COMMAND_PADDING:
		set_drop(cc, &t->counters.drop_padding);
		return;
	default:
		/* CREATE2 on a circuit id in use (tor drops it), and commands
		 * without meaning on a circuit. */
		set_drop(cc, &t->counters.drop_other);
		return;
	}
}

static void
unknown_circuit(struct circuit_table *t, struct circuit_cell *cc)
{
	uint8_t command = cell_wire_command(cc->cell);

	cc->circuit = CIRCUIT_NONE;
	if (cell_wire_circ_id(cc->cell) == 0) {
		/* Link-level cells: the relay worker applies PADDING_NEGOTIATE
		 * before cells reach the table (dataplane/channel_padding.h);
		 * one handed here goes to control. PADDING is dropped. */
		if (command == CELL_COMMAND_PADDING_NEGOTIATE) {
			cc->verdict = CIRCUIT_VERDICT_CONTROL;
			t->counters.to_control++;
		} else if (command == CELL_COMMAND_PADDING) {
			set_drop(cc, &t->counters.drop_padding);
		} else {
			set_drop(cc, &t->counters.drop_other);
		}
		return;
	}
	switch (command) {
	case CELL_COMMAND_CREATE2:
	case CELL_COMMAND_CREATE_FAST:
	case CELL_COMMAND_DESTROY:
		/* A DESTROY may race the CREATE2 the control thread is still
		 * answering: control cancels it, or ignores it when the
		 * circuit is long gone (as tor does). */
		cc->verdict = CIRCUIT_VERDICT_CONTROL;
		t->counters.to_control++;
		return;
	default:
		/* Cells racing a close. */
		set_drop(cc, &t->counters.drop_unknown_circuit);
		return;
	}
}

unsigned
circuit_cells_burst(struct circuit_table *t, struct crypto_engine *engine,
		struct circuit_cell cells[], unsigned n, struct circuit_extra_cell extra[],
		unsigned *nb_extra)
{
	struct circuit_key keys[CIRCUIT_BURST_MAX];
	const void *key_ptrs[CIRCUIT_BURST_MAX];
	void *data[CIRCUIT_BURST_MAX];
	uint64_t hits = 0;
	struct relay_cipher *ciphers[CIRCUIT_BURST_MAX];
	uint8_t *payloads[CIRCUIT_BURST_MAX];
	bool fast[CIRCUIT_BURST_MAX];
	unsigned nb_crypt = 0;
	uint64_t epoch = ++t->epoch;

	*nb_extra = 0;
	if (n > CIRCUIT_BURST_MAX)
		n = CIRCUIT_BURST_MAX;
	for (unsigned i = 0; i < n; i++) {
		keys[i].link = cells[i].link;
		keys[i].circ_id = cell_wire_circ_id(cells[i].cell);
		key_ptrs[i] = &keys[i];
	}
	if (n > 0)
		rte_hash_lookup_bulk_data(t->hash, key_ptrs, n, &hits, data);

	/* Pass 1: circuits with any cell other than a plain RELAY in this
	 * burst take the slow path for all their cells, so that state
	 * changes (DESTROY, RELAY_EARLY accounting, closes) apply in arrival
	 * order before any keystream is used. */
	for (unsigned i = 0; i < n; i++) {
		uint32_t h;

		if (!(hits & (1ull << i)))
			continue;
		h = (uint32_t)((uintptr_t)data[i] >> 1);
		rte_prefetch0(&t->circuits[h]);
		if (cell_wire_command(cells[i].cell) != CELL_COMMAND_RELAY)
			t->circuits[h].slow_epoch = epoch;
	}
	/* Pass 2: one crypto burst for every plain relay cell of the other
	 * circuits. A circuit whose n side is not open yet keeps its
	 * backward cells out of it (they close the circuit). */
	for (unsigned i = 0; i < n; i++) {
		struct circuit *c;
		uint32_t h, side;

		fast[i] = false;
		if (!(hits & (1ull << i)))
			continue;
		h = (uint32_t)((uintptr_t)data[i] >> 1);
		side = (uint32_t)((uintptr_t)data[i] & 1);
		c = &t->circuits[h];
		if (c->slow_epoch == epoch || (side == SIDE_N && !c->n_open) ||
		    c->state == CIRCUIT_REMOTE)
			continue;
		fast[i] = true;
		ciphers[nb_crypt] = side == SIDE_P ? &c->forward : &c->backward;
		payloads[nb_crypt] = cell_wire_payload(cells[i].cell);
		nb_crypt++;
	}
	if (nb_crypt > 0)
		relay_crypt_burst(engine, ciphers, payloads, nb_crypt);

	/* Pass 3: decide in arrival order. */
	t->nb_splice = 0;
	for (unsigned i = 0; i < n; i++) {
		struct circuit_cell *cc = &cells[i];
		uint32_t h, side;

		t->burst_index = i;
		cc->relay_early = 0;
		cc->toward_p = 0;
		cc->kind = CIRCUIT_CELL_MADE;
		cc->circuit = CIRCUIT_NONE;
		if (!(hits & (1ull << i))) {
			unknown_circuit(t, cc);
			continue;
		}
		h = (uint32_t)((uintptr_t)data[i] >> 1);
		side = (uint32_t)((uintptr_t)data[i] & 1);
		/* A circuit closed earlier in this burst (its cells were
		 * looked up before) is gone for the rest of it. */
		if (t->circuits[h].state == CIRCUIT_FREE ||
		    (side == SIDE_P ? t->circuits[h].p_link != cc->link ||
					      t->circuits[h].p_circ_id != keys[i].circ_id
				    : t->circuits[h].n_link != cc->link ||
					      t->circuits[h].n_circ_id != keys[i].circ_id)) {
			set_drop(cc, &t->counters.drop_unknown_circuit);
			continue;
		}
		if (t->circuits[h].state == CIRCUIT_REMOTE) {
			/* The owner decides; a DESTROY from n ends the entry
			 * here too (the owner detaches n when it sees it). */
			cc->verdict = CIRCUIT_VERDICT_REMOTE;
			cc->owner = t->circuits[h].owner;
			t->counters.remote_cells++;
			if (cell_wire_command(cc->cell) == CELL_COMMAND_DESTROY)
				circuit_free(t, h);
			else
				cc->circuit = h;
			continue;
		}
		if (!fast[i]) {
			slow_cell(t, engine, h, side, cc, extra, nb_extra);
			continue;
		}
		if (side == SIDE_P)
			relay_from_p(t, h, cc, CELL_COMMAND_RELAY, extra, nb_extra);
		else
			relay_from_n(t, h, cc);
	}
	/* Pass 4: spliced cells get the partner's Kb layer, in arrival order
	 * (each partner's keystream runs on in that order); a partner that
	 * closed later in this burst takes nothing more. */
	nb_crypt = 0;
	for (unsigned k = 0; k < t->nb_splice; k++) {
		struct circuit_cell *cc = &cells[t->splice_index[k]];

		if (t->circuits[cc->circuit].state == CIRCUIT_FREE) {
			set_drop(cc, &t->counters.drop_unknown_circuit);
			continue;
		}
		ciphers[nb_crypt] = &t->circuits[cc->circuit].backward;
		payloads[nb_crypt] = cell_wire_payload(cc->cell);
		nb_crypt++;
	}
	if (nb_crypt > 0) {
		relay_crypt_burst(engine, ciphers, payloads, nb_crypt);
		t->counters.spliced += nb_crypt;
	}
	return n;
}

unsigned
circuit_splice_in_burst(struct circuit_table *t, struct crypto_engine *engine,
		struct circuit_cell cells[], unsigned n)
{
	struct circuit_key keys[CIRCUIT_BURST_MAX];
	const void *key_ptrs[CIRCUIT_BURST_MAX];
	void *data[CIRCUIT_BURST_MAX];
	struct relay_cipher *ciphers[CIRCUIT_BURST_MAX];
	uint8_t *payloads[CIRCUIT_BURST_MAX];
	uint64_t hits = 0;
	unsigned nb_crypt = 0;

	if (n > CIRCUIT_BURST_MAX)
		n = CIRCUIT_BURST_MAX;
	for (unsigned i = 0; i < n; i++) {
		keys[i].link = cells[i].link;
		keys[i].circ_id = cell_wire_circ_id(cells[i].cell);
		key_ptrs[i] = &keys[i];
	}
	if (n > 0)
		rte_hash_lookup_bulk_data(t->hash, key_ptrs, n, &hits, data);
	for (unsigned i = 0; i < n; i++) {
		struct circuit_cell *cc = &cells[i];
		struct circuit *c;
		uint32_t h;

		cc->relay_early = 0;
		cc->circuit = CIRCUIT_NONE;
		cc->toward_p = 1;
		cc->kind = CIRCUIT_CELL_MADE;
		cc->out_link = cc->link;
		if (!(hits & (1ull << i)) || ((uintptr_t)data[i] & 1) != SIDE_P) {
			set_drop(cc, &t->counters.drop_unknown_circuit);
			continue;
		}
		h = (uint32_t)((uintptr_t)data[i] >> 1);
		c = &t->circuits[h];
		if (c->state != CIRCUIT_OPEN || c->p_link != cc->link ||
		    c->p_circ_id != keys[i].circ_id) {
			/* Gone, or freed earlier in this burst. */
			set_drop(cc, &t->counters.drop_unknown_circuit);
			continue;
		}
		switch (cell_wire_command(cc->cell)) {
		case CELL_COMMAND_RELAY:
			if (c->splice_link == CIRCUIT_NO_LINK || c->splice_handle != CIRCUIT_NONE) {
				set_drop(cc, &t->counters.drop_other);
				continue;
			}
			cc->verdict = CIRCUIT_VERDICT_FORWARD;
			cc->kind = CIRCUIT_CELL_SPLICED;
			cc->circuit = h;
			ciphers[nb_crypt] = &c->backward;
			payloads[nb_crypt] = cell_wire_payload(cc->cell);
			nb_crypt++;
			break;
		case CELL_COMMAND_DESTROY:
			/* The partner closed (or the join failed there): this
			 * side goes too, with the reason it chose. */
			cc->verdict = CIRCUIT_VERDICT_FORWARD;
			t->counters.closed_by_splice++;
			circuit_free(t, h);
			break;
		default:
			set_drop(cc, &t->counters.drop_other);
			break;
		}
	}
	/* A circuit freed by a DESTROY in this burst took its cells before
	 * it; none of its later cells were added (state check above). */
	if (nb_crypt > 0) {
		relay_crypt_burst(engine, ciphers, payloads, nb_crypt);
		t->counters.spliced += nb_crypt;
	}
	return n;
}

unsigned
circuit_close_link(struct circuit_table *t, uint32_t link, struct circuit_extra_cell out[],
		unsigned max)
{
	unsigned written = 0;

	for (uint32_t h = 0; h < t->max_circuits && written < max; h++) {
		struct circuit *c = &t->circuits[h];

		if (c->state == CIRCUIT_FREE)
			continue;
		if (c->state == CIRCUIT_REMOTE) {
			if (c->p_link == link)
				circuit_free(t, h);
			continue;
		}
		if (c->p_link == link) {
			/* The client side is gone: n hears CHANNEL_CLOSED. */
			if (c->n_link != CIRCUIT_NO_LINK) {
				write_destroy(out[written].cell, c->n_circ_id,
						DESTROY_REASON_CHANNEL_CLOSED);
				out[written].splice_remote = 0;
				out[written++].link = c->n_link;
			}
			if (c->splice_link != CIRCUIT_NO_LINK) {
				/* So does a rendezvous partner (tor
				 * circuit_mark_for_close_(): same reason). */
				uint32_t peer = c->splice_handle;

				write_destroy(out[written].cell, c->splice_circ_id,
						DESTROY_REASON_CHANNEL_CLOSED);
				out[written].splice_remote = peer == CIRCUIT_NONE;
				out[written++].link = c->splice_link;
				circuit_free(t, h);
				t->counters.closed_by_link++;
				if (peer != CIRCUIT_NONE && live(t, peer) != NULL) {
					t->counters.closed_by_splice++;
					circuit_free(t, peer);
				}
				continue;
			}
		} else if (c->n_link == link) {
			write_destroy(out[written].cell, c->p_circ_id,
					DESTROY_REASON_CHANNEL_CLOSED);
			out[written].splice_remote = 0;
			out[written++].link = c->p_link;
		} else {
			continue;
		}
		circuit_free(t, h);
		t->counters.closed_by_link++;
	}
	return written;
}

const uint8_t *
circuit_burst_local_digest(const struct circuit_table *t, unsigned i)
{
	return t->burst_digests[i < CIRCUIT_BURST_MAX ? i : 0];
}

int
circuit_backward_digest(const struct circuit_table *t, uint32_t handle, uint8_t out[20])
{
	if (handle >= t->max_circuits || t->circuits[handle].state == CIRCUIT_FREE)
		return -ENOENT;
	relay_digest_current(&t->digests[handle].backward, out);
	return 0;
}

int
circuit_watch(struct circuit_table *t, uint32_t handle)
{
	struct circuit *c = live(t, handle);

	if (c == NULL)
		return -ENOENT;
	if (c->state == CIRCUIT_REMOTE)
		return -EINVAL;
	c->watched = true;
	return 0;
}

unsigned
circuit_take_closed(struct circuit_table *t, struct circuit_closed out[], unsigned max)
{
	unsigned n = t->nb_closed < max ? t->nb_closed : max;

	for (unsigned i = 0; i < n; i++) {
		uint32_t h = t->closed[t->closed_first];
		const struct circuit *c = &t->circuits[h];

		out[i] = (struct circuit_closed){
			.handle = h, .p_link = c->p_link, .p_circ_id = c->p_circ_id,
		};
		t->closed_first = (t->closed_first + 1) % t->max_circuits;
		t->nb_closed--;
		t->counters.closed_unreported--;
		t->free_list[t->nb_free++] = h;
	}
	return n;
}

unsigned
circuit_take_held(struct circuit_table *t, struct crypto_engine *engine, uint32_t handle,
		struct circuit_cell out[], uint8_t (*cells)[CELL_LEN], unsigned max)
{
	struct circuit *c = live(t, handle);
	struct relay_cipher *ciphers[CIRCUIT_BURST_MAX];
	uint8_t *payloads[CIRCUIT_BURST_MAX];
	unsigned n = 0, nb_crypt = 0;

	if (c == NULL || c->state == CIRCUIT_REMOTE || c->splice_link == CIRCUIT_NO_LINK)
		return 0;
	if (max > CIRCUIT_BURST_MAX)
		max = CIRCUIT_BURST_MAX;
	while (n < max && c->held_first != HELD_NONE) {
		uint16_t i = c->held_first;
		struct circuit_cell *cc = &out[n];

		c->held_first = t->held[i].next;
		memcpy(cells[n], t->held[i].cell, CELL_LEN);
		cc->arrival = t->held[i].arrival;
		t->held[i].next = t->held_free;
		t->held_free = i;
		c->nb_held--;
		t->counters.cells_held--;
		cc->cell = cells[n];
		cc->link = c->p_link;
		if (route_spliced(c, handle, cc)) {
			ciphers[nb_crypt] = &t->circuits[c->splice_handle].backward;
			payloads[nb_crypt++] = cell_wire_payload(cc->cell);
		}
		n++;
	}
	if (c->held_first == HELD_NONE) {
		c->held_last = HELD_NONE;
		c->rend1_sent = false;
	}
	/* In order, after whatever the partner sent before (RENDEZVOUS2). */
	if (nb_crypt > 0) {
		relay_crypt_burst(engine, ciphers, payloads, nb_crypt);
		t->counters.spliced += nb_crypt;
	}
	return n;
}
