/* The worker's circuit table (dataplane/circuit.c) as three relays of one
 * 3-hop circuit, driven by client-side onion code written here from
 * tor-spec 6.1 ("Routing relay cells"): layers added hop by hop, digests
 * stamped for the target hop and checked layer by layer on the way back.
 * Keys come from KDF-TOR (tor-spec 5.2.1) over fixed secrets, as a
 * CREATE_FAST would give them. Also: mixed bursts over many circuits, the
 * RELAY_EARLY limit, DESTROY both ways, a cell no hop recognizes, CREATE2
 * for the control thread, closing a link, and remote entries (the n link
 * of relay 1 held by another worker's table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <rte_eal.h>

#include "crypto/engine.h"
#include "crypto/kdf.h"
#include "crypto/relay_crypto.h"
#include "dataplane/circuit.h"
#include "dataplane/wire.h"
#include "tests/unit/test_util.h"

#define HOPS 3
#define MAX_CIRCUITS 64

/* Links, as each relay numbers them: relay i has p link 10 + i (towards
 * the client or relay i - 1) and n link 20 + i (towards relay i + 1). */
#define P_LINK(i) (10u + (i))
#define N_LINK(i) (20u + (i))

static struct crypto_engine *engine;

struct client_hop {
	struct relay_cipher forward, backward;
	struct relay_digest forward_digest, backward_digest;
};

struct client_circuit {
	struct client_hop hops[HOPS];
	uint32_t circ_ids[HOPS];	/* circuit id on the p side of relay i */
	uint32_t handles[HOPS];
};

static struct circuit_table *relays[HOPS];

static int
setup(void **state)
{
	char *argv[] = {
		"test_circuit", "--no-huge", "--no-pci", "--no-shconf", "-m", "256",
		"--log-level=lib.eal:error",
	};

	(void)state;
	if (rte_eal_init(7, argv) < 0)
		return -1;
	engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	return engine != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	crypto_engine_destroy(engine);
	rte_eal_cleanup();
	return 0;
}

static int
tables_new(void **state)
{
	struct circuit_table_config cfg = { .max_circuits = MAX_CIRCUITS, .socket_id = 0 };
	int err;

	(void)state;
	for (int i = 0; i < HOPS; i++) {
		relays[i] = circuit_table_create(&cfg, &err);
		if (relays[i] == NULL)
			return -1;
	}
	return 0;
}

static int
tables_free(void **state)
{
	(void)state;
	for (int i = 0; i < HOPS; i++)
		circuit_table_destroy(relays[i]);
	return 0;
}

/* tor-spec 5.2.1: KDF-TOR(K0) = Df | Db | Kf | Kb (20, 20, 16, 16 bytes
 * after the 20-byte KH). */
static void
hop_keys(uint64_t seed, struct circuit_keys *keys)
{
	uint8_t k0[40], out[20 + 20 + 20 + 16 + 16];

	test_fill(k0, sizeof(k0), seed);
	assert_int_equal(kdf_tor(k0, sizeof(k0), out, sizeof(out)), 0);
	memcpy(keys->forward_digest, out + 20, 20);
	memcpy(keys->backward_digest, out + 40, 20);
	memcpy(keys->forward_key, out + 60, 16);
	memcpy(keys->backward_key, out + 76, 16);
}

/* Builds a circuit through the three relays: relay i learns keys of hop i
 * (as after CREATE2) and, but for the last, is extended to relay i + 1. */
static void
build_circuit(struct client_circuit *cc, uint64_t seed, uint32_t first_circ_id)
{
	for (int i = 0; i < HOPS; i++) {
		struct circuit_keys keys;

		hop_keys(seed * 16 + (uint64_t)i, &keys);
		relay_cipher_init(engine, &cc->hops[i].forward, keys.forward_key);
		relay_cipher_init(engine, &cc->hops[i].backward, keys.backward_key);
		relay_digest_init(&cc->hops[i].forward_digest, keys.forward_digest);
		relay_digest_init(&cc->hops[i].backward_digest, keys.backward_digest);
		cc->circ_ids[i] = first_circ_id + (uint32_t)i;
		assert_int_equal(circuit_create(relays[i], engine, &keys, P_LINK(i),
				cc->circ_ids[i], &cc->handles[i]), 0);
	}
	for (int i = 0; i + 1 < HOPS; i++) {
		assert_int_equal(circuit_extend_begin(relays[i], cc->handles[i], N_LINK(i),
				cc->circ_ids[i + 1]), 0);
		assert_int_equal(circuit_extend_done(relays[i], cc->handles[i]), 0);
	}
}

/* Client: a relay cell for hop target, with data, onion-encrypted. */
static void
client_cell(struct client_circuit *cc, int target, uint8_t command, uint8_t cell_command,
		const uint8_t *data, uint16_t len, uint8_t cell[CELL_LEN])
{
	uint8_t *payload = cell_wire_payload(cell);

	cell_wire_set_circ_id(cell, cc->circ_ids[0]);
	cell[CELL_CIRC_ID_LEN] = cell_command;
	memset(payload, 0, CELL_PAYLOAD_LEN);
	payload[RELAY_OFFSET_COMMAND] = command;
	wire_write_u16(payload + RELAY_OFFSET_STREAM_ID, 7);
	wire_write_u16(payload + RELAY_OFFSET_LENGTH, len);
	memcpy(payload + RELAY_HEADER_LEN, data, len);
	relay_digest_stamp(&cc->hops[target].forward_digest, payload);
	for (int i = target; i >= 0; i--) {
		struct relay_cipher *c = &cc->hops[i].forward;

		relay_crypt_burst(engine, &c, &payload, 1);
	}
}

/* Client: peels layers of a cell from relay 0 until a hop recognizes it;
 * returns that hop or -1. */
static int
client_receive(struct client_circuit *cc, uint8_t cell[CELL_LEN])
{
	uint8_t *payload = cell_wire_payload(cell);

	assert_int_equal(cell_wire_circ_id(cell), cc->circ_ids[0]);
	for (int i = 0; i < HOPS; i++) {
		struct relay_cipher *c = &cc->hops[i].backward;

		relay_crypt_burst(engine, &c, &payload, 1);
		if (relay_digest_check(&cc->hops[i].backward_digest, payload))
			return i;
	}
	return -1;
}

/* circuit_cell.kind of the last cell through(): what the relay worker's
 * latency histogram counts it as. */
static uint8_t through_kind;

/* Runs one cell through relay i (arriving on link) and returns the verdict;
 * extra cells are copied to extra_out (room for 1). */
static uint8_t
through(int i, uint32_t link, uint8_t cell[CELL_LEN], uint32_t *out_link,
		struct circuit_extra_cell *extra_out, unsigned *nb_extra_out)
{
	struct circuit_cell c = { .cell = cell, .link = link, .kind = 0xee };
	struct circuit_extra_cell extra[1];
	unsigned nb_extra = 0;

	assert_int_equal(circuit_cells_burst(relays[i], engine, &c, 1, extra, &nb_extra), 1);
	*out_link = c.out_link;
	through_kind = c.kind;
	if (nb_extra_out != NULL)
		*nb_extra_out = nb_extra;
	if (nb_extra > 0 && extra_out != NULL)
		*extra_out = extra[0];
	return c.verdict;
}

/* A cell to each hop arrives recognized at exactly that hop, with its
 * data intact; cells from the last hop reach the client, which recognizes
 * them at hop 2; circuit ids are rewritten per link. */
static void
test_three_hops(void **state)
{
	struct client_circuit cc;
	uint8_t cell[CELL_LEN], data[RELAY_DATA_MAX];
	uint32_t out_link, p_link;

	(void)state;
	build_circuit(&cc, 1, 0x80000001u);
	for (int round = 0; round < 20; round++) {
		for (int target = 0; target < HOPS; target++) {
			uint16_t len = (uint16_t)(round * 37 % (RELAY_DATA_MAX + 1));

			test_fill(data, len, (uint64_t)(round * 3 + target));
			client_cell(&cc, target, RELAY_COMMAND_DATA, CELL_COMMAND_RELAY, data, len,
					cell);
			for (int i = 0; i <= target; i++) {
				uint8_t v = through(i, P_LINK(i), cell, &out_link, NULL, NULL);

				if (i < target) {
					assert_int_equal(v, CIRCUIT_VERDICT_FORWARD);
					assert_int_equal(through_kind, CIRCUIT_CELL_FORWARDED);
					assert_int_equal(out_link, N_LINK(i));
					assert_int_equal(cell_wire_circ_id(cell), cc.circ_ids[i + 1]);
				} else {
					struct relay_cell rc;
					const uint8_t *p = cell_wire_payload(cell);

					assert_int_equal(v, CIRCUIT_VERDICT_LOCAL);
					assert_int_equal(relay_cell_parse(&p, p + CELL_PAYLOAD_LEN, &rc),
							0);
					assert_int_equal(rc.command, RELAY_COMMAND_DATA);
					assert_int_equal(rc.stream_id, 7);
					assert_int_equal(rc.length, len);
					assert_memory_equal(rc.data, data, len);
				}
			}
		}
		/* And back from each hop. */
		for (int origin = 0; origin < HOPS; origin++) {
			test_fill(data, 100, (uint64_t)round + 1000);
			assert_int_equal(circuit_originate_backward(relays[origin], engine,
					cc.handles[origin], RELAY_COMMAND_DATA, 9, data, 100, cell,
					&p_link), 0);
			assert_int_equal(p_link, P_LINK(origin));
			for (int i = origin - 1; i >= 0; i--) {
				assert_int_equal(through(i, N_LINK(i), cell, &out_link, NULL, NULL),
						CIRCUIT_VERDICT_FORWARD);
				assert_int_equal(through_kind, CIRCUIT_CELL_FORWARDED);
				assert_int_equal(out_link, P_LINK(i));
				assert_int_equal(cell_wire_circ_id(cell), cc.circ_ids[i]);
			}
			assert_int_equal(client_receive(&cc, cell), origin);
			assert_int_equal(relay_payload_length(cell_wire_payload(cell)), 100);
			assert_memory_equal(cell_wire_payload(cell) + RELAY_HEADER_LEN, data, 100);
			/* tor-spec 6.1: four zero bytes start the padding. */
			assert_memory_equal(cell_wire_payload(cell) + RELAY_HEADER_LEN + 100,
					"\0\0\0\0", 4);
		}
	}
	assert_int_equal(circuit_table_counters(relays[0])->forwarded, 40);
	assert_int_equal(circuit_table_counters(relays[0])->local, 20);
	assert_int_equal(circuit_table_counters(relays[0])->backwarded, 40);
}

/* prop 289 SENDME tags: several cells for hop 0 in one burst each get
 * the forward digest right after themselves (not the burst's last), as
 * the client computes it; the backward digest after an originated cell
 * is the client's after recognizing it. */
static void
test_sendme_digests(void **state)
{
	struct client_circuit cc;
	struct circuit_cell burst[3];
	struct circuit_extra_cell extra[3];
	uint8_t cells[3][CELL_LEN], want[3][20], got[20], data[50];
	unsigned nb_extra;
	uint32_t p_link;

	(void)state;
	build_circuit(&cc, 7, 0x80000100u);
	for (int i = 0; i < 3; i++) {
		test_fill(data, sizeof(data), (uint64_t)i + 50);
		client_cell(&cc, 0, RELAY_COMMAND_DATA, CELL_COMMAND_RELAY, data, sizeof(data),
				cells[i]);
		relay_digest_current(&cc.hops[0].forward_digest, want[i]);
		burst[i] = (struct circuit_cell){ .cell = cells[i], .link = P_LINK(0) };
	}
	assert_memory_not_equal(want[0], want[1], 20);
	assert_int_equal(circuit_cells_burst(relays[0], engine, burst, 3, extra, &nb_extra), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(burst[i].verdict, CIRCUIT_VERDICT_LOCAL);
		assert_memory_equal(circuit_burst_local_digest(relays[0], (unsigned)i), want[i], 20);
	}
	for (int i = 0; i < 2; i++) {
		uint8_t cell[CELL_LEN];

		assert_int_equal(circuit_originate_backward(relays[0], engine, cc.handles[0],
				RELAY_COMMAND_DATA, 3, data, sizeof(data), cell, &p_link), 0);
		assert_int_equal(circuit_backward_digest(relays[0], cc.handles[0], got), 0);
		assert_int_equal(client_receive(&cc, cell), 0);
		relay_digest_current(&cc.hops[0].backward_digest, want[0]);
		assert_memory_equal(got, want[0], 20);
	}
	assert_int_equal(circuit_free(relays[0], cc.handles[0]), 0);
	assert_int_equal(circuit_backward_digest(relays[0], cc.handles[0], got), -ENOENT);
}

/* Bursts of 32 cells from 8 circuits in a shuffled order: every cell
 * reaches its target in order, so every keystream stays in step. */
static void
test_mixed_bursts(void **state)
{
	enum { CIRCS = 8, CELLS = 32 * 40 };
	static struct client_circuit cc[CIRCS];
	static uint8_t cells[CELLS][CELL_LEN];
	uint8_t data[64];
	unsigned sent[CIRCS] = { 0 };

	(void)state;
	for (int c = 0; c < CIRCS; c++)
		build_circuit(&cc[c], 100 + (uint64_t)c, 0x80000100u + (uint32_t)c * 4);
	/* Every cell targets the last hop; the cell's data says which
	 * circuit and which sequence number. */
	for (unsigned k = 0; k < CELLS; k++) {
		unsigned c = (k * 5 + k / 7) % CIRCS;

		memset(data, 0, sizeof(data));
		wire_write_u32(data, c);
		wire_write_u32(data + 4, sent[c]++);
		client_cell(&cc[c], HOPS - 1, RELAY_COMMAND_DATA, CELL_COMMAND_RELAY, data,
				sizeof(data), cells[k]);
	}
	for (int hop = 0; hop < HOPS; hop++) {
		for (unsigned b = 0; b < CELLS; b += CIRCUIT_BURST_MAX) {
			struct circuit_cell burst[CIRCUIT_BURST_MAX];
			struct circuit_extra_cell extra[CIRCUIT_BURST_MAX];
			unsigned nb_extra;

			for (unsigned i = 0; i < CIRCUIT_BURST_MAX; i++) {
				burst[i].cell = cells[b + i];
				burst[i].link = P_LINK(hop);
			}
			circuit_cells_burst(relays[hop], engine, burst, CIRCUIT_BURST_MAX, extra,
					&nb_extra);
			assert_int_equal(nb_extra, 0);
			for (unsigned i = 0; i < CIRCUIT_BURST_MAX; i++) {
				assert_int_equal(burst[i].verdict, hop < HOPS - 1
						? CIRCUIT_VERDICT_FORWARD : CIRCUIT_VERDICT_LOCAL);
			}
		}
	}
	memset(sent, 0, sizeof(sent));
	for (unsigned k = 0; k < CELLS; k++) {
		const uint8_t *d = cell_wire_payload(cells[k]) + RELAY_HEADER_LEN;
		unsigned c = wire_read_u32(d);

		assert_true(c < CIRCS);
		assert_int_equal(wire_read_u32(d + 4), sent[c]++);
	}
}

/* tor-spec 5.6: eight RELAY_EARLY cells pass (and leave as RELAY_EARLY),
 * the ninth closes the circuit both ways; RELAY_EARLY from n closes too. */
static void
test_relay_early(void **state)
{
	struct client_circuit cc;
	struct circuit_extra_cell extra = { .link = 0 };
	unsigned nb_extra;
	uint8_t cell[CELL_LEN], data[8] = { 0 };
	uint32_t out_link;

	(void)state;
	build_circuit(&cc, 7, 0x80000200u);
	for (int k = 0; k < CIRCUIT_MAX_RELAY_EARLY; k++) {
		struct circuit_cell c;
		struct circuit_extra_cell ex[1];
		unsigned ne;

		client_cell(&cc, 2, RELAY_COMMAND_DATA, CELL_COMMAND_RELAY_EARLY, data, 8, cell);
		c.cell = cell;
		c.link = P_LINK(0);
		circuit_cells_burst(relays[0], engine, &c, 1, ex, &ne);
		assert_int_equal(c.verdict, CIRCUIT_VERDICT_FORWARD);
		assert_int_equal(c.relay_early, 1);
	}
	client_cell(&cc, 2, RELAY_COMMAND_DATA, CELL_COMMAND_RELAY_EARLY, data, 8, cell);
	assert_int_equal(through(0, P_LINK(0), cell, &out_link, &extra, &nb_extra),
			CIRCUIT_VERDICT_FORWARD);
	/* The cell became DESTROY(PROTOCOL) to p; n got one too. */
	assert_int_equal(out_link, P_LINK(0));
	assert_int_equal(cell[CELL_CIRC_ID_LEN], CELL_COMMAND_DESTROY);
	assert_int_equal(cell_wire_circ_id(cell), cc.circ_ids[0]);
	assert_int_equal(cell_wire_payload(cell)[0], DESTROY_REASON_PROTOCOL);
	assert_int_equal(nb_extra, 1);
	assert_int_equal(extra.link, N_LINK(0));
	assert_int_equal(cell_wire_circ_id(extra.cell), cc.circ_ids[1]);
	assert_int_equal(extra.cell[CELL_CIRC_ID_LEN], CELL_COMMAND_DESTROY);
	assert_int_equal(circuit_lookup(relays[0], P_LINK(0), cc.circ_ids[0]), CIRCUIT_NONE);
	assert_int_equal(circuit_lookup(relays[0], N_LINK(0), cc.circ_ids[1]), CIRCUIT_NONE);

	/* RELAY_EARLY travelling towards the client: relay 1 closes. */
	memset(cell, 0, sizeof(cell));
	cell_wire_set_circ_id(cell, cc.circ_ids[2]);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY_EARLY;
	assert_int_equal(through(1, N_LINK(1), cell, &out_link, &extra, &nb_extra),
			CIRCUIT_VERDICT_FORWARD);
	assert_int_equal(out_link, P_LINK(1));
	assert_int_equal(cell[CELL_CIRC_ID_LEN], CELL_COMMAND_DESTROY);
	assert_int_equal(nb_extra, 1);
	assert_int_equal(extra.link, N_LINK(1));
	assert_int_equal(circuit_free(relays[2], cc.handles[2]), 0);
}

/* DESTROY from p goes on to n with the same reason; cells of the circuit
 * earlier in the same burst still go out, later ones are dropped. DESTROY
 * from n becomes a RELAY_TRUNCATED the client reads from that hop. */
static void
test_destroy(void **state)
{
	struct client_circuit cc;
	struct circuit_cell burst[3];
	struct circuit_extra_cell extra[3];
	unsigned nb_extra;
	uint8_t cells[3][CELL_LEN], data[4] = { 1, 2, 3, 4 };
	uint32_t out_link;

	(void)state;
	build_circuit(&cc, 9, 0x80000300u);
	/* Relay 1 receives DESTROY from relay 2 (its n side). */
	memset(cells[0], 0, CELL_LEN);
	cell_wire_set_circ_id(cells[0], cc.circ_ids[2]);
	cells[0][CELL_CIRC_ID_LEN] = CELL_COMMAND_DESTROY;
	cell_wire_payload(cells[0])[0] = DESTROY_REASON_FINISHED;
	assert_int_equal(through(1, N_LINK(1), cells[0], &out_link, NULL, &nb_extra),
			CIRCUIT_VERDICT_FORWARD);
	/* The TRUNCATED is made at relay 1 (not measured there), passed on
	 * by relay 0. */
	assert_int_equal(through_kind, CIRCUIT_CELL_MADE);
	assert_int_equal(out_link, P_LINK(1));
	assert_int_equal(through(0, N_LINK(0), cells[0], &out_link, NULL, NULL),
			CIRCUIT_VERDICT_FORWARD);
	assert_int_equal(through_kind, CIRCUIT_CELL_FORWARDED);
	assert_int_equal(client_receive(&cc, cells[0]), 1);
	assert_int_equal(cell_wire_payload(cells[0])[RELAY_OFFSET_COMMAND], RELAY_COMMAND_TRUNCATED);
	assert_int_equal(relay_payload_length(cell_wire_payload(cells[0])), 1);
	assert_int_equal(cell_wire_payload(cells[0])[RELAY_HEADER_LEN], DESTROY_REASON_FINISHED);
	assert_int_equal(circuit_lookup(relays[1], N_LINK(1), cc.circ_ids[2]), CIRCUIT_NONE);
	assert_int_not_equal(circuit_lookup(relays[1], P_LINK(1), cc.circ_ids[1]), CIRCUIT_NONE);
	assert_int_equal(circuit_free(relays[2], cc.handles[2]), 0);

	/* Relay 0 gets: a relay cell, DESTROY, a relay cell, in one burst. */
	client_cell(&cc, 1, RELAY_COMMAND_DATA, CELL_COMMAND_RELAY, data, 4, cells[0]);
	memset(cells[1], 0, CELL_LEN);
	cell_wire_set_circ_id(cells[1], cc.circ_ids[0]);
	cells[1][CELL_CIRC_ID_LEN] = CELL_COMMAND_DESTROY;
	cell_wire_payload(cells[1])[0] = DESTROY_REASON_REQUESTED;
	client_cell(&cc, 1, RELAY_COMMAND_DATA, CELL_COMMAND_RELAY, data, 4, cells[2]);
	for (int i = 0; i < 3; i++) {
		burst[i].cell = cells[i];
		burst[i].link = P_LINK(0);
	}
	circuit_cells_burst(relays[0], engine, burst, 3, extra, &nb_extra);
	assert_int_equal(nb_extra, 0);
	assert_int_equal(burst[0].verdict, CIRCUIT_VERDICT_FORWARD);
	assert_int_equal(burst[0].kind, CIRCUIT_CELL_FORWARDED);
	assert_int_equal(burst[1].verdict, CIRCUIT_VERDICT_FORWARD);
	assert_int_equal(burst[1].kind, CIRCUIT_CELL_MADE);
	assert_int_equal(burst[1].out_link, N_LINK(0));
	assert_int_equal(cells[1][CELL_CIRC_ID_LEN], CELL_COMMAND_DESTROY);
	assert_int_equal(cell_wire_circ_id(cells[1]), cc.circ_ids[1]);
	assert_int_equal(cell_wire_payload(cells[1])[0], DESTROY_REASON_REQUESTED);
	assert_int_equal(burst[2].verdict, CIRCUIT_VERDICT_DROP);
	/* Relay 1 still gets the first cell right, then the DESTROY. */
	assert_int_equal(through(1, P_LINK(1), cells[0], &out_link, NULL, NULL),
			CIRCUIT_VERDICT_LOCAL);
	assert_int_equal(through(1, P_LINK(1), cells[1], &out_link, NULL, &nb_extra),
			CIRCUIT_VERDICT_DROP);
	assert_int_equal(circuit_table_counters(relays[1])->circuits_open, 0);
}

/* circuit_watch: the close of a watched circuit is reported once, with its
 * p side, however it closes (DESTROY from p, circuit_free); unwatched
 * circuits and remote entries are not reported. */
static void
test_watch_close(void **state)
{
	struct circuit_keys keys;
	struct circuit_closed closed[4];
	uint32_t a, b, c, remote, out_link;
	uint8_t cell[CELL_LEN];

	(void)state;
	hop_keys(5, &keys);
	assert_int_equal(circuit_create(relays[0], engine, &keys, 1, 0x80000901u, &a), 0);
	assert_int_equal(circuit_create(relays[0], engine, &keys, 1, 0x80000902u, &b), 0);
	assert_int_equal(circuit_create(relays[0], engine, &keys, 1, 0x80000903u, &c), 0);
	assert_int_equal(circuit_remote_add(relays[0], 3, 0x77, 1, &remote), 0);
	assert_int_equal(circuit_watch(relays[0], a), 0);
	assert_int_equal(circuit_watch(relays[0], c), 0);
	assert_int_equal(circuit_watch(relays[0], remote), -EINVAL);
	assert_int_equal(circuit_watch(relays[0], 12345), -ENOENT);
	assert_int_equal(circuit_take_closed(relays[0], closed, 4), 0);
	/* DESTROY from p frees a. */
	memset(cell, 0, CELL_LEN);
	cell_wire_set_circ_id(cell, 0x80000901u);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_DESTROY;
	assert_int_equal(through(0, 1, cell, &out_link, NULL, NULL), CIRCUIT_VERDICT_DROP);
	assert_int_equal(circuit_free(relays[0], b), 0);
	assert_int_equal(circuit_free(relays[0], c), 0);
	assert_int_equal(circuit_take_closed(relays[0], closed, 1), 1);
	assert_int_equal(closed[0].handle, a);
	assert_int_equal(closed[0].p_link, 1);
	assert_int_equal(closed[0].p_circ_id, 0x80000901u);
	assert_int_equal(circuit_take_closed(relays[0], closed, 4), 1);
	assert_int_equal(closed[0].handle, c);
	assert_int_equal(closed[0].p_circ_id, 0x80000903u);
	assert_int_equal(circuit_take_closed(relays[0], closed, 4), 0);
	/* A new circuit in a reported slot starts unwatched. */
	assert_int_equal(circuit_create(relays[0], engine, &keys, 1, 0x80000904u, &b), 0);
	assert_int_equal(circuit_free(relays[0], b), 0);
	assert_int_equal(circuit_take_closed(relays[0], closed, 4), 0);
	assert_int_equal(circuit_free(relays[0], remote), 0);
	assert_int_equal(circuit_take_closed(relays[0], closed, 4), 0);
	assert_int_equal(circuit_table_counters(relays[0])->closed_unreported, 0);
}

/* More watched circuits close at once than one report batch used to hold
 * (256, the rest were lost): every close is reported, oldest first, in
 * as many takes as the caller likes; until then the slots stay unused, so
 * a handle is never reused before control heard of its close. */
static void
test_watch_close_many(void **state)
{
	enum { N = 300 };
	struct circuit_table_config cfg = { .max_circuits = N, .socket_id = 0 };
	struct circuit_table *t;
	struct circuit_keys keys;
	struct circuit_closed closed[128];
	uint32_t handles[N], h;
	unsigned taken = 0, n;
	int err;

	(void)state;
	t = circuit_table_create(&cfg, &err);
	assert_non_null(t);
	hop_keys(6, &keys);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(circuit_create(t, engine, &keys, 7, 0x80001000u + i, &handles[i]),
				0);
		assert_int_equal(circuit_watch(t, handles[i]), 0);
	}
	/* All close in one go (e.g. their link went away). */
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(circuit_free(t, handles[i]), 0);
	assert_int_equal(circuit_table_counters(t)->closed_unreported, N);
	assert_int_equal(circuit_table_counters(t)->circuits_open, 0);
	/* Nothing is reusable before it is reported. */
	assert_int_equal(circuit_create(t, engine, &keys, 7, 0x80002000u, &h), -ENOSPC);
	while ((n = circuit_take_closed(t, closed, 100)) > 0) {
		assert_true(n <= 100);
		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(closed[i].handle, handles[taken + i]);
			assert_int_equal(closed[i].p_link, 7);
			assert_int_equal(closed[i].p_circ_id, 0x80001000u + taken + i);
		}
		taken += n;
		assert_int_equal(circuit_table_counters(t)->closed_unreported, N - taken);
		/* Slots reported so far are free again. */
		assert_int_equal(circuit_create(t, engine, &keys, 7, 0x80002000u, &h), 0);
		assert_int_equal(circuit_free(t, h), 0);
	}
	assert_int_equal(taken, N);
	circuit_table_destroy(t);
}

/* A cell nobody recognizes reaches the last hop: that circuit closes. */
static void
test_unrecognized_at_last_hop(void **state)
{
	struct client_circuit cc;
	uint8_t cell[CELL_LEN], data[4] = { 0 };
	uint32_t out_link;
	unsigned nb_extra;

	(void)state;
	build_circuit(&cc, 11, 0x80000400u);
	client_cell(&cc, 2, RELAY_COMMAND_DATA, CELL_COMMAND_RELAY, data, 4, cell);
	/* Corrupt the innermost layer's digest: hop 2 cannot recognize it. */
	cell_wire_payload(cell)[RELAY_OFFSET_DIGEST] ^= 1;
	for (int i = 0; i < 2; i++)
		assert_int_equal(through(i, P_LINK(i), cell, &out_link, NULL, NULL),
				CIRCUIT_VERDICT_FORWARD);
	assert_int_equal(through(2, P_LINK(2), cell, &out_link, NULL, &nb_extra),
			CIRCUIT_VERDICT_FORWARD);
	assert_int_equal(out_link, P_LINK(2));
	assert_int_equal(cell[CELL_CIRC_ID_LEN], CELL_COMMAND_DESTROY);
	assert_int_equal(cell_wire_payload(cell)[0], DESTROY_REASON_PROTOCOL);
	assert_int_equal(nb_extra, 0);
	assert_int_equal(circuit_lookup(relays[2], P_LINK(2), cc.circ_ids[2]), CIRCUIT_NONE);
	assert_int_equal(circuit_table_counters(relays[2])->closed_protocol, 1);
}

/* CREATE2 for a new circuit id goes to the control thread; PADDING and
 * cells for unknown circuits are dropped and counted; CREATED2 from n
 * during an extension goes to control, anywhere else it closes. */
static void
test_control_and_drops(void **state)
{
	struct circuit_cell c[4];
	struct circuit_extra_cell extra[4];
	uint8_t cells[4][CELL_LEN];
	struct circuit_keys keys;
	uint32_t h, out_link;
	unsigned nb_extra;

	(void)state;
	memset(cells, 0, sizeof(cells));
	cell_wire_set_circ_id(cells[0], 0x80000555u);
	cells[0][CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATE2;
	cell_wire_set_circ_id(cells[1], 0);
	cells[1][CELL_CIRC_ID_LEN] = CELL_COMMAND_PADDING;
	cell_wire_set_circ_id(cells[2], 0x80000556u);
	cells[2][CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY;
	cell_wire_set_circ_id(cells[3], 0);
	cells[3][CELL_CIRC_ID_LEN] = CELL_COMMAND_PADDING_NEGOTIATE;
	for (int i = 0; i < 4; i++) {
		c[i].cell = cells[i];
		c[i].link = 1;
	}
	circuit_cells_burst(relays[0], engine, c, 4, extra, &nb_extra);
	assert_int_equal(c[0].verdict, CIRCUIT_VERDICT_CONTROL);
	assert_int_equal(c[0].circuit, CIRCUIT_NONE);
	assert_int_equal(c[1].verdict, CIRCUIT_VERDICT_DROP);
	assert_int_equal(c[2].verdict, CIRCUIT_VERDICT_DROP);
	assert_int_equal(c[3].verdict, CIRCUIT_VERDICT_CONTROL);
	assert_int_equal(circuit_table_counters(relays[0])->drop_padding, 1);
	assert_int_equal(circuit_table_counters(relays[0])->drop_unknown_circuit, 1);
	/* A DESTROY for a circuit id nobody has: control may be creating it. */
	cells[2][CELL_CIRC_ID_LEN] = CELL_COMMAND_DESTROY;
	assert_int_equal(through(0, 1, cells[2], &out_link, NULL, NULL), CIRCUIT_VERDICT_CONTROL);

	hop_keys(77, &keys);
	assert_int_equal(circuit_create(relays[0], engine, &keys, 1, 0x80000555u, &h), 0);
	assert_int_equal(circuit_create(relays[0], engine, &keys, 1, 0x80000555u, &h), -EEXIST);
	assert_int_equal(circuit_extend_begin(relays[0], h, 2, 0x00000042u), 0);
	memset(cells[0], 0, CELL_LEN);
	cell_wire_set_circ_id(cells[0], 0x42);
	cells[0][CELL_CIRC_ID_LEN] = CELL_COMMAND_CREATED2;
	assert_int_equal(through(0, 2, cells[0], &out_link, NULL, NULL), CIRCUIT_VERDICT_CONTROL);
	assert_int_equal(circuit_extend_done(relays[0], h), 0);
	/* A second CREATED2 is a protocol violation. */
	assert_int_equal(through(0, 2, cells[0], &out_link, NULL, &nb_extra),
			CIRCUIT_VERDICT_FORWARD);
	assert_int_equal(cells[0][CELL_CIRC_ID_LEN], CELL_COMMAND_DESTROY);
	assert_int_equal(out_link, 1);
	assert_int_equal(nb_extra, 1);
	assert_int_equal(circuit_table_counters(relays[0])->circuits_open, 0);
}

/* A link that goes away closes every circuit on it, with DESTROY
 * (CHANNEL_CLOSED) to the other side. */
static void
test_close_link(void **state)
{
	struct client_circuit a, b;
	struct circuit_extra_cell out[4];

	(void)state;
	build_circuit(&a, 21, 0x80000600u);
	build_circuit(&b, 22, 0x80000610u);
	/* Relay 1 loses its n link: both circuits close towards p. */
	assert_int_equal(circuit_close_link(relays[1], N_LINK(1), out, 4), 2);
	assert_int_equal(circuit_close_link(relays[1], N_LINK(1), out + 2, 2), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(out[i].link, P_LINK(1));
		assert_int_equal(out[i].cell[CELL_CIRC_ID_LEN], CELL_COMMAND_DESTROY);
		assert_int_equal(cell_wire_payload(out[i].cell)[0], DESTROY_REASON_CHANNEL_CLOSED);
	}
	/* Relay 0 loses its p link, one DESTROY (to n) at a time. */
	assert_int_equal(circuit_close_link(relays[0], P_LINK(0), out, 1), 1);
	assert_int_equal(out[0].link, N_LINK(0));
	assert_int_equal(circuit_close_link(relays[0], P_LINK(0), out, 1), 1);
	assert_int_equal(circuit_close_link(relays[0], P_LINK(0), out, 1), 0);
	/* Relay 2 loses its p link: nothing to tell anyone. */
	assert_int_equal(circuit_close_link(relays[2], P_LINK(2), out, 4), 0);
	for (int i = 0; i < HOPS; i++)
		assert_int_equal(circuit_table_counters(relays[i])->circuits_open, 0);
	assert_int_equal(circuit_table_counters(relays[2])->closed_by_link, 2);
}

/* The table refuses more circuits than it was sized for. */
static void
test_table_full(void **state)
{
	struct circuit_keys keys;
	uint32_t h;

	(void)state;
	hop_keys(5, &keys);
	for (uint32_t i = 0; i < MAX_CIRCUITS; i++)
		assert_int_equal(circuit_create(relays[0], engine, &keys, 1, 0x1000 + i, &h), 0);
	assert_int_equal(circuit_create(relays[0], engine, &keys, 1, 0x2000, &h), -ENOSPC);
	assert_int_equal(circuit_free(relays[0], h), 0);
	assert_int_equal(circuit_free(relays[0], h), -ENOENT);
	assert_int_equal(circuit_create(relays[0], engine, &keys, 1, 0x2000, &h), 0);
	assert_int_equal(circuit_create(relays[0], engine, &keys, 1, 0, &h), -EINVAL);
}

/* Relay 1's n link belongs to another worker: that worker's table holds
 * a remote entry for the circuit, hands its cells over unchanged, and
 * relay 1's own table decides them with the n link as arrival link. */
static void
test_remote_entries(void **state)
{
	struct circuit_table_config cfg = { .max_circuits = 2, .socket_id = 0 };
	struct client_circuit a;
	struct circuit_table *other;
	struct circuit_extra_cell extra[2];
	struct circuit_extra_cell out[2];
	struct circuit_cell cc;
	uint8_t cell[CELL_LEN], copy[CELL_LEN];
	unsigned nb_extra;
	uint32_t h, h2, h3;
	int err;

	(void)state;
	other = circuit_table_create(&cfg, &err);
	assert_non_null(other);
	build_circuit(&a, 31, 0x80000700u);
	assert_int_equal(circuit_remote_add(other, N_LINK(1), a.circ_ids[2], 1, &h), 0);
	assert_int_equal(circuit_remote_add(other, N_LINK(1), a.circ_ids[2], 1, &h2), -EEXIST);
	assert_int_equal(circuit_remote_add(other, N_LINK(1), 0, 1, &h2), -EINVAL);
	assert_int_equal(circuit_remote_owner(other, h), 1);
	assert_int_equal(circuit_remote_owner(relays[1], a.handles[1]), -EINVAL);
	assert_int_equal(circuit_remote_owner(other, h + 1), -ENOENT);
	assert_int_equal(circuit_extend_begin(other, h, 5, 6), -EINVAL);
	assert_int_equal(circuit_lookup(other, N_LINK(1), a.circ_ids[2]), h);
	assert_int_equal(circuit_table_counters(other)->remotes_open, 1);
	assert_int_equal(circuit_table_counters(other)->circuits_open, 0);

	/* A backward relay cell from relay 2 arrives on the other worker. */
	memset(cell, 0, sizeof(cell));
	cell_wire_set_circ_id(cell, a.circ_ids[2]);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY;
	test_fill(cell_wire_payload(cell), CELL_PAYLOAD_LEN, 77);
	memcpy(copy, cell, CELL_LEN);
	memset(&cc, 0, sizeof(cc));
	cc.cell = cell;
	cc.link = N_LINK(1);
	circuit_cells_burst(other, engine, &cc, 1, extra, &nb_extra);
	assert_int_equal(cc.verdict, CIRCUIT_VERDICT_REMOTE);
	assert_int_equal(cc.owner, 1);
	assert_int_equal(cc.circuit, h);
	assert_int_equal(nb_extra, 0);
	assert_memory_equal(cell, copy, CELL_LEN);
	assert_int_equal(circuit_table_counters(other)->remote_cells, 1);

	/* The owner decides it as if it had arrived on its own link. */
	memset(&cc, 0, sizeof(cc));
	cc.cell = cell;
	cc.link = N_LINK(1);
	circuit_cells_burst(relays[1], engine, &cc, 1, extra, &nb_extra);
	assert_int_equal(cc.verdict, CIRCUIT_VERDICT_FORWARD);
	assert_int_equal(cc.out_link, P_LINK(1));
	assert_int_equal(cc.toward_p, 1);
	assert_int_equal(cell_wire_circ_id(cell), a.circ_ids[1]);
	assert_memory_not_equal(cell_wire_payload(cell), cell_wire_payload(copy),
			CELL_PAYLOAD_LEN);

	/* A DESTROY from n goes to the owner and ends the remote entry. */
	memset(cell, 0, sizeof(cell));
	cell_wire_set_circ_id(cell, a.circ_ids[2]);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_DESTROY;
	cell_wire_payload(cell)[0] = DESTROY_REASON_FINISHED;
	memset(&cc, 0, sizeof(cc));
	cc.cell = cell;
	cc.link = N_LINK(1);
	circuit_cells_burst(other, engine, &cc, 1, extra, &nb_extra);
	assert_int_equal(cc.verdict, CIRCUIT_VERDICT_REMOTE);
	assert_int_equal(cc.circuit, CIRCUIT_NONE);
	assert_int_equal(cell_wire_payload(cell)[0], DESTROY_REASON_FINISHED);
	assert_int_equal(circuit_lookup(other, N_LINK(1), a.circ_ids[2]), CIRCUIT_NONE);
	assert_int_equal(circuit_table_counters(other)->remotes_open, 0);
	/* The next cell on that key is unknown here. */
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY;
	circuit_cells_burst(other, engine, &cc, 1, extra, &nb_extra);
	assert_int_equal(cc.verdict, CIRCUIT_VERDICT_DROP);

	/* Closing the link frees remote entries and writes nothing: the
	 * owners hear of it from the control thread. */
	assert_int_equal(circuit_remote_add(other, N_LINK(1), 0x80000801u, 1, &h), 0);
	assert_int_equal(circuit_remote_add(other, N_LINK(1), 0x80000802u, 0, &h2), 0);
	assert_int_equal(circuit_remote_add(other, N_LINK(1), 0x80000803u, 0, &h3), -ENOSPC);
	assert_int_equal(circuit_close_link(other, N_LINK(1), out, 2), 0);
	assert_int_equal(circuit_table_counters(other)->remotes_open, 0);
	assert_int_equal(circuit_remote_owner(other, h), -ENOENT);
	assert_int_equal(circuit_remote_owner(other, h2), -ENOENT);
	circuit_table_destroy(other);
}


/* Rendezvous splice (rend-spec-v3 4.2): the client's circuit A and the
 * service's circuit B, one hop each, end at the same relay. Both ends keep
 * an end-to-end layer of their own (the RP never sees it), so no cell is
 * recognized at the RP; what one end sends must reach the other intact and
 * in order, through one layer removed (A's Kf) and one added (B's Kb). */
struct splice_end {
	struct relay_cipher hop_forward, hop_backward;	/* with the RP */
	struct relay_digest hop_forward_digest;
	struct relay_cipher e2e_out, e2e_in;		/* with the other end */
	uint32_t link, circ_id, handle;
};

static void
splice_end_new(struct splice_end *e, struct circuit_table *t, uint64_t seed, uint32_t link,
		uint32_t circ_id)
{
	struct circuit_keys keys;

	hop_keys(seed, &keys);
	relay_cipher_init(engine, &e->hop_forward, keys.forward_key);
	relay_cipher_init(engine, &e->hop_backward, keys.backward_key);
	relay_digest_init(&e->hop_forward_digest, keys.forward_digest);
	e->link = link;
	e->circ_id = circ_id;
	assert_int_equal(circuit_create(t, engine, &keys, link, circ_id, &e->handle), 0);
}

/* The two ends share e2e keys: a's out is b's in and the other way. */
static void
splice_e2e(struct splice_end *a, struct splice_end *b, uint64_t seed)
{
	uint8_t k1[16], k2[16];

	test_fill(k1, sizeof(k1), seed);
	test_fill(k2, sizeof(k2), seed + 1);
	relay_cipher_init(engine, &a->e2e_out, k1);
	relay_cipher_init(engine, &b->e2e_in, k1);
	relay_cipher_init(engine, &b->e2e_out, k2);
	relay_cipher_init(engine, &a->e2e_in, k2);
}

/* An end sends body (CELL_PAYLOAD_LEN bytes) end to end: e2e layer, then
 * the hop layer. */
static void
splice_send(struct splice_end *e, const uint8_t *body, uint8_t cell_command,
		uint8_t cell[CELL_LEN])
{
	uint8_t *payload = cell_wire_payload(cell);
	struct relay_cipher *c;

	cell_wire_set_circ_id(cell, e->circ_id);
	cell[CELL_CIRC_ID_LEN] = cell_command;
	memcpy(payload, body, CELL_PAYLOAD_LEN);
	c = &e->e2e_out;
	relay_crypt_burst(engine, &c, &payload, 1);
	c = &e->hop_forward;
	relay_crypt_burst(engine, &c, &payload, 1);
}

/* An end receives a cell from the RP: hop layer, then e2e layer. */
static void
splice_receive(struct splice_end *e, uint8_t cell[CELL_LEN], uint8_t *body)
{
	uint8_t *payload = cell_wire_payload(cell);
	struct relay_cipher *c;

	assert_int_equal(cell_wire_circ_id(cell), e->circ_id);
	assert_int_equal(cell[CELL_CIRC_ID_LEN], CELL_COMMAND_RELAY);
	c = &e->hop_backward;
	relay_crypt_burst(engine, &c, &payload, 1);
	c = &e->e2e_in;
	relay_crypt_burst(engine, &c, &payload, 1);
	memcpy(body, payload, CELL_PAYLOAD_LEN);
}

#define SPLICE_CELLS 24

static void
test_splice_local(void **state)
{
	struct circuit_table *rp = relays[0];
	struct splice_end a, b;
	uint8_t cells[SPLICE_CELLS][CELL_LEN], sent[SPLICE_CELLS][CELL_PAYLOAD_LEN];
	uint8_t got[CELL_PAYLOAD_LEN];
	struct circuit_cell cc[SPLICE_CELLS];
	struct circuit_extra_cell extra[SPLICE_CELLS];
	unsigned nb_extra;
	uint32_t peer_link, peer_circ_id, peer;

	(void)state;
	splice_end_new(&a, rp, 500, P_LINK(0), 0x80000a01u);
	splice_end_new(&b, rp, 501, N_LINK(0), 0x80000b01u);
	splice_e2e(&a, &b, 502);
	/* Before the join, an unrecognized cell would close A (tested
	 * elsewhere); joining checks its arguments. */
	assert_int_equal(circuit_splice(rp, a.handle, b.link, b.circ_id, a.handle), -EINVAL);
	assert_int_equal(circuit_splice(rp, a.handle, b.link, b.circ_id + 1, b.handle), -EINVAL);
	assert_int_equal(circuit_splice(rp, a.handle, b.link, b.circ_id, MAX_CIRCUITS - 1),
			-ENOENT);
	assert_int_equal(circuit_splice(rp, a.handle, b.link, b.circ_id, b.handle), 0);
	assert_int_equal(circuit_splice(rp, b.handle, a.link, a.circ_id, a.handle), -EBUSY);
	assert_int_equal(circuit_extend_begin(rp, a.handle, 99, 5), -EBUSY);
	assert_int_equal(circuit_splice_peer(rp, b.handle, &peer_link, &peer_circ_id, &peer), 0);
	assert_int_equal(peer_link, a.link);
	assert_int_equal(peer_circ_id, a.circ_id);
	assert_int_equal(peer, a.handle);
	assert_int_equal(circuit_table_counters(rp)->splices_open, 2);

	/* One burst, both directions interleaved, some RELAY_EARLY from the
	 * client (downgraded): every cell arrives at the other end intact
	 * and in order. */
	for (unsigned i = 0; i < SPLICE_CELLS; i++) {
		struct splice_end *from = i % 3 == 0 ? &b : &a;

		test_fill(sent[i], CELL_PAYLOAD_LEN, 600 + i);
		splice_send(from, sent[i], i == 1 ? CELL_COMMAND_RELAY_EARLY : CELL_COMMAND_RELAY,
				cells[i]);
		memset(&cc[i], 0, sizeof(cc[i]));
		cc[i].cell = cells[i];
		cc[i].link = from->link;
	}
	circuit_cells_burst(rp, engine, cc, SPLICE_CELLS, extra, &nb_extra);
	assert_int_equal(nb_extra, 0);
	for (unsigned i = 0; i < SPLICE_CELLS; i++) {
		struct splice_end *to = i % 3 == 0 ? &a : &b;

		assert_int_equal(cc[i].verdict, CIRCUIT_VERDICT_FORWARD);
		assert_int_equal(cc[i].kind, CIRCUIT_CELL_SPLICED);
		assert_int_equal(cc[i].out_link, to->link);
		assert_int_equal(cc[i].circuit, to->handle);
		assert_int_equal(cc[i].toward_p, 1);
		assert_int_equal(cc[i].relay_early, 0);
		splice_receive(to, cells[i], got);
		assert_memory_equal(got, sent[i], CELL_PAYLOAD_LEN);
	}
	assert_int_equal(circuit_table_counters(rp)->spliced, SPLICE_CELLS);

	/* A cell addressed to the RP itself is still recognized there. */
	{
		uint8_t *payload = cell_wire_payload(cells[0]);
		struct relay_cipher *c = &a.hop_forward;

		cell_wire_set_circ_id(cells[0], a.circ_id);
		cells[0][CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY;
		memset(payload, 0, CELL_PAYLOAD_LEN);
		payload[RELAY_OFFSET_COMMAND] = RELAY_COMMAND_DROP;
		relay_digest_stamp(&a.hop_forward_digest, payload);
		relay_crypt_burst(engine, &c, &payload, 1);
		memset(&cc[0], 0, sizeof(cc[0]));
		cc[0].cell = cells[0];
		cc[0].link = a.link;
		circuit_cells_burst(rp, engine, cc, 1, extra, &nb_extra);
		assert_int_equal(cc[0].verdict, CIRCUIT_VERDICT_LOCAL);
		assert_int_equal(payload[RELAY_OFFSET_COMMAND], RELAY_COMMAND_DROP);
	}

	/* DESTROY from the service's side: both circuits go and the client
	 * gets DESTROY reason DESTROYED, not the reason received (tor
	 * command.c). A cell from A later in the same burst is dropped. */
	memset(cells[0], 0, CELL_LEN);
	cell_wire_set_circ_id(cells[0], b.circ_id);
	cells[0][CELL_CIRC_ID_LEN] = CELL_COMMAND_DESTROY;
	cell_wire_payload(cells[0])[0] = DESTROY_REASON_FINISHED;
	splice_send(&a, sent[1], CELL_COMMAND_RELAY, cells[1]);
	for (unsigned i = 0; i < 2; i++) {
		memset(&cc[i], 0, sizeof(cc[i]));
		cc[i].cell = cells[i];
	}
	cc[0].link = b.link;
	cc[1].link = a.link;
	circuit_cells_burst(rp, engine, cc, 2, extra, &nb_extra);
	assert_int_equal(cc[0].verdict, CIRCUIT_VERDICT_FORWARD);
	assert_int_equal(cc[0].out_link, a.link);
	assert_int_equal(cell_wire_circ_id(cells[0]), a.circ_id);
	assert_int_equal(cells[0][CELL_CIRC_ID_LEN], CELL_COMMAND_DESTROY);
	assert_int_equal(cell_wire_payload(cells[0])[0], DESTROY_REASON_DESTROYED);
	assert_int_equal(cc[1].verdict, CIRCUIT_VERDICT_DROP);
	assert_int_equal(circuit_lookup(rp, a.link, a.circ_id), CIRCUIT_NONE);
	assert_int_equal(circuit_lookup(rp, b.link, b.circ_id), CIRCUIT_NONE);
	assert_int_equal(circuit_table_counters(rp)->splices_open, 0);
	assert_int_equal(circuit_table_counters(rp)->circuits_open, 0);

	/* DESTROY from the client's side, and a protocol close (a ninth
	 * RELAY_EARLY), each take the partner along. */
	splice_end_new(&a, rp, 510, P_LINK(0), 0x80000a02u);
	splice_end_new(&b, rp, 511, N_LINK(0), 0x80000b02u);
	assert_int_equal(circuit_splice(rp, b.handle, a.link, a.circ_id, a.handle), 0);
	memset(cells[0], 0, CELL_LEN);
	cell_wire_set_circ_id(cells[0], a.circ_id);
	cells[0][CELL_CIRC_ID_LEN] = CELL_COMMAND_DESTROY;
	cell_wire_payload(cells[0])[0] = DESTROY_REASON_REQUESTED;
	assert_int_equal(through(0, a.link, cells[0], &peer_link, NULL, NULL),
			CIRCUIT_VERDICT_FORWARD);
	assert_int_equal(peer_link, b.link);
	assert_int_equal(cell_wire_circ_id(cells[0]), b.circ_id);
	assert_int_equal(cell_wire_payload(cells[0])[0], DESTROY_REASON_DESTROYED);
	assert_int_equal(circuit_table_counters(rp)->circuits_open, 0);

	splice_end_new(&a, rp, 520, P_LINK(0), 0x80000a03u);
	splice_end_new(&b, rp, 521, N_LINK(0), 0x80000b03u);
	splice_e2e(&a, &b, 522);
	assert_int_equal(circuit_splice(rp, a.handle, b.link, b.circ_id, b.handle), 0);
	for (unsigned i = 0; i <= CIRCUIT_MAX_RELAY_EARLY; i++) {
		struct circuit_extra_cell one = { .link = 0 };
		unsigned nb = 0;

		test_fill(sent[0], CELL_PAYLOAD_LEN, 700 + i);
		splice_send(&a, sent[0], CELL_COMMAND_RELAY_EARLY, cells[0]);
		through(0, a.link, cells[0], &peer_link, &one, &nb);
		if (i < CIRCUIT_MAX_RELAY_EARLY) {
			splice_receive(&b, cells[0], got);
			assert_memory_equal(got, sent[0], CELL_PAYLOAD_LEN);
			continue;
		}
		assert_int_equal(cells[0][CELL_CIRC_ID_LEN], CELL_COMMAND_DESTROY);
		assert_int_equal(peer_link, a.link);
		assert_int_equal(nb, 1);
		assert_int_equal(one.link, b.link);
		assert_int_equal(one.splice_remote, 0);
		assert_int_equal(cell_wire_circ_id(one.cell), b.circ_id);
		assert_int_equal(cell_wire_payload(one.cell)[0], DESTROY_REASON_PROTOCOL);
	}
	assert_int_equal(circuit_table_counters(rp)->circuits_open, 0);

	/* The client's link closes: the service hears CHANNEL_CLOSED. */
	splice_end_new(&a, rp, 530, P_LINK(0), 0x80000a04u);
	splice_end_new(&b, rp, 531, N_LINK(0), 0x80000b04u);
	assert_int_equal(circuit_splice(rp, a.handle, b.link, b.circ_id, b.handle), 0);
	assert_int_equal(circuit_close_link(rp, a.link, extra, 4), 1);
	assert_int_equal(extra[0].link, b.link);
	assert_int_equal(cell_wire_circ_id(extra[0].cell), b.circ_id);
	assert_int_equal(cell_wire_payload(extra[0].cell)[0], DESTROY_REASON_CHANNEL_CLOSED);
	assert_int_equal(circuit_table_counters(rp)->circuits_open, 0);
}

/* The two circuits on different workers' tables: A's owner removes A's
 * layer and hands the cell over (SPLICE_REMOTE), B's owner adds B's layer
 * (circuit_splice_in_burst); DESTROY crosses the same way. */
static void
test_splice_cross_worker(void **state)
{
	struct circuit_table_config cfg = { .max_circuits = 8, .socket_id = 0 };
	struct circuit_table *t_a = relays[0], *t_b;
	struct splice_end a, b;
	uint8_t cells[SPLICE_CELLS][CELL_LEN], sent[SPLICE_CELLS][CELL_PAYLOAD_LEN];
	uint8_t got[CELL_PAYLOAD_LEN];
	struct circuit_cell cc[SPLICE_CELLS];
	struct circuit_extra_cell extra[SPLICE_CELLS];
	unsigned nb_extra;
	int err;

	(void)state;
	t_b = circuit_table_create(&cfg, &err);
	assert_non_null(t_b);
	splice_end_new(&a, t_a, 540, P_LINK(0), 0x80000a05u);
	splice_end_new(&b, t_b, 541, N_LINK(2), 0x80000b05u);
	splice_e2e(&a, &b, 542);
	assert_int_equal(circuit_splice(t_a, a.handle, b.link, b.circ_id, CIRCUIT_NONE), 0);
	assert_int_equal(circuit_splice(t_b, b.handle, a.link, a.circ_id, CIRCUIT_NONE), 0);

	for (int dir = 0; dir < 2; dir++) {
		struct splice_end *from = dir == 0 ? &a : &b, *to = dir == 0 ? &b : &a;
		struct circuit_table *t_from = dir == 0 ? t_a : t_b, *t_to = dir == 0 ? t_b : t_a;

		for (unsigned i = 0; i < SPLICE_CELLS; i++) {
			test_fill(sent[i], CELL_PAYLOAD_LEN, 800 + 100 * (unsigned)dir + i);
			splice_send(from, sent[i], CELL_COMMAND_RELAY, cells[i]);
			memset(&cc[i], 0, sizeof(cc[i]));
			cc[i].cell = cells[i];
			cc[i].link = from->link;
		}
		circuit_cells_burst(t_from, engine, cc, SPLICE_CELLS, extra, &nb_extra);
		for (unsigned i = 0; i < SPLICE_CELLS; i++) {
			assert_int_equal(cc[i].verdict, CIRCUIT_VERDICT_SPLICE_REMOTE);
			assert_int_equal(cc[i].out_link, to->link);
			assert_int_equal(cell_wire_circ_id(cells[i]), to->circ_id);
			memset(&cc[i], 0, sizeof(cc[i]));
			cc[i].cell = cells[i];
			cc[i].link = to->link;
		}
		assert_int_equal(circuit_splice_in_burst(t_to, engine, cc, SPLICE_CELLS),
				SPLICE_CELLS);
		for (unsigned i = 0; i < SPLICE_CELLS; i++) {
			assert_int_equal(cc[i].verdict, CIRCUIT_VERDICT_FORWARD);
			assert_int_equal(cc[i].kind, CIRCUIT_CELL_SPLICED);
			assert_int_equal(cc[i].out_link, to->link);
			assert_int_equal(cc[i].circuit, to->handle);
			splice_receive(to, cells[i], got);
			assert_memory_equal(got, sent[i], CELL_PAYLOAD_LEN);
		}
		assert_int_equal(circuit_table_counters(t_to)->spliced, SPLICE_CELLS);
	}

	/* DESTROY from the client: A's owner frees A and hands DESTROY
	 * (DESTROYED) to B's owner, which frees B and sends it on. */
	memset(cells[0], 0, CELL_LEN);
	cell_wire_set_circ_id(cells[0], a.circ_id);
	cells[0][CELL_CIRC_ID_LEN] = CELL_COMMAND_DESTROY;
	cell_wire_payload(cells[0])[0] = DESTROY_REASON_FINISHED;
	memset(&cc[0], 0, sizeof(cc[0]));
	cc[0].cell = cells[0];
	cc[0].link = a.link;
	circuit_cells_burst(t_a, engine, cc, 1, extra, &nb_extra);
	assert_int_equal(cc[0].verdict, CIRCUIT_VERDICT_SPLICE_REMOTE);
	assert_int_equal(cc[0].out_link, b.link);
	assert_int_equal(circuit_lookup(t_a, a.link, a.circ_id), CIRCUIT_NONE);
	memset(&cc[0], 0, sizeof(cc[0]));
	cc[0].cell = cells[0];
	cc[0].link = b.link;
	circuit_splice_in_burst(t_b, engine, cc, 1);
	assert_int_equal(cc[0].verdict, CIRCUIT_VERDICT_FORWARD);
	assert_int_equal(cc[0].circuit, CIRCUIT_NONE);
	assert_int_equal(cc[0].out_link, b.link);
	assert_int_equal(cell_wire_circ_id(cells[0]), b.circ_id);
	assert_int_equal(cell_wire_payload(cells[0])[0], DESTROY_REASON_DESTROYED);
	assert_int_equal(circuit_lookup(t_b, b.link, b.circ_id), CIRCUIT_NONE);
	/* A cell for a circuit that is gone is dropped there. */
	cells[0][CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY;
	circuit_splice_in_burst(t_b, engine, cc, 1);
	assert_int_equal(cc[0].verdict, CIRCUIT_VERDICT_DROP);

	/* A protocol close of a circuit whose partner is remote writes an
	 * extra DESTROY marked for the partner's worker. */
	splice_end_new(&a, t_a, 550, P_LINK(0), 0x80000a06u);
	assert_int_equal(circuit_splice(t_a, a.handle, b.link, b.circ_id, CIRCUIT_NONE), 0);
	assert_int_equal(circuit_close_link(t_a, a.link, extra, 4), 1);
	assert_int_equal(extra[0].splice_remote, 1);
	assert_int_equal(extra[0].link, b.link);
	circuit_table_destroy(t_b);
}

/* A relay message for the RP itself on e's circuit: stamped with the hop's
 * forward digest (so it is recognized there), hop layer added. */
static void
splice_send_local(struct splice_end *e, uint8_t relay_command, uint8_t cell[CELL_LEN])
{
	uint8_t *payload = cell_wire_payload(cell);
	struct relay_cipher *c = &e->hop_forward;

	cell_wire_set_circ_id(cell, e->circ_id);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY;
	memset(payload, 0, CELL_PAYLOAD_LEN);
	payload[RELAY_OFFSET_COMMAND] = relay_command;
	relay_digest_stamp(&e->hop_forward_digest, payload);
	relay_crypt_burst(engine, &c, &payload, 1);
}

/* B's RENDEZVOUS1 and n cells behind it, in one burst: RENDEZVOUS1 is for
 * the RP (LOCAL), the cells are held. sent[] gets their bodies. */
static void
rendezvous1_and_cells(struct circuit_table *t, struct splice_end *b, unsigned n,
		uint8_t cells[][CELL_LEN], uint8_t sent[][CELL_PAYLOAD_LEN], uint64_t seed,
		struct circuit_cell cc[])
{
	struct circuit_extra_cell extra[SPLICE_CELLS];
	unsigned nb_extra;

	splice_send_local(b, RELAY_COMMAND_RENDEZVOUS1, cells[0]);
	for (unsigned i = 1; i <= n; i++) {
		test_fill(sent[i], CELL_PAYLOAD_LEN, seed + i);
		splice_send(b, sent[i], i == 1 ? CELL_COMMAND_RELAY_EARLY : CELL_COMMAND_RELAY,
				cells[i]);
	}
	for (unsigned i = 0; i <= n; i++) {
		memset(&cc[i], 0, sizeof(cc[i]));
		cc[i].cell = cells[i];
		cc[i].link = b->link;
		/* when each came in: a held cell keeps it */
		cc[i].arrival = seed * 1000 + i;
	}
	circuit_cells_burst(t, engine, cc, n + 1, extra, &nb_extra);
	assert_int_equal(nb_extra, 0);
	assert_int_equal(cc[0].verdict, CIRCUIT_VERDICT_LOCAL);
	assert_int_equal(cell_wire_payload(cells[0])[RELAY_OFFSET_COMMAND],
			RELAY_COMMAND_RENDEZVOUS1);
}

/* Cells the service sends right behind RENDEZVOUS1, before the control
 * thread joins the circuits: tor joins on RENDEZVOUS1 and splices them;
 * here they are held and cross the splice once joined, after RENDEZVOUS2,
 * in order (same table and across workers); a hold that overflows closes
 * the circuit (RESOURCELIMIT); a circuit closed unjoined drops them. */
static void
test_splice_held(void **state)
{
	struct circuit_table_config cfg = { .max_circuits = 8, .socket_id = 0 };
	struct circuit_table *rp = relays[0], *t_b;
	struct splice_end a, b;
	uint8_t cells[SPLICE_CELLS][CELL_LEN], sent[SPLICE_CELLS][CELL_PAYLOAD_LEN];
	uint8_t got[CELL_PAYLOAD_LEN], rend2[CELL_LEN], taken[SPLICE_CELLS][CELL_LEN];
	struct circuit_cell cc[SPLICE_CELLS], out[SPLICE_CELLS];
	struct circuit_extra_cell extra[SPLICE_CELLS];
	uint32_t p_link;
	unsigned nb_extra, n;
	int err;

	(void)state;
	/* Same table. */
	splice_end_new(&a, rp, 560, P_LINK(0), 0x80000a07u);
	splice_end_new(&b, rp, 561, N_LINK(0), 0x80000b07u);
	splice_e2e(&a, &b, 562);
	rendezvous1_and_cells(rp, &b, 3, cells, sent, 900, cc);
	for (unsigned i = 1; i <= 3; i++)
		assert_int_equal(cc[i].verdict, CIRCUIT_VERDICT_HELD);
	assert_int_equal(circuit_table_counters(rp)->cells_held, 3);
	assert_int_equal(circuit_table_counters(rp)->closed_protocol, 0);
	assert_int_equal(circuit_lookup(rp, b.link, b.circ_id), b.handle);
	/* Not joined yet: nothing to take. */
	assert_int_equal(circuit_take_held(rp, engine, b.handle, out, taken, SPLICE_CELLS), 0);
	/* The worker's join: RENDEZVOUS2 on A, the splice, then the held. */
	assert_int_equal(circuit_originate_backward(rp, engine, a.handle,
			RELAY_COMMAND_RENDEZVOUS2, 0, NULL, 0, rend2, &p_link), 0);
	assert_int_equal(circuit_splice(rp, a.handle, b.link, b.circ_id, b.handle), 0);
	assert_int_equal(circuit_take_held(rp, engine, b.handle, out, taken, 2), 2);
	assert_int_equal(circuit_take_held(rp, engine, b.handle, out + 2, taken + 2, 8), 1);
	assert_int_equal(circuit_take_held(rp, engine, b.handle, out, taken, 8), 0);
	{
		uint8_t *payload = cell_wire_payload(rend2);
		struct relay_cipher *c = &a.hop_backward;

		relay_crypt_burst(engine, &c, &payload, 1);
		assert_int_equal(payload[RELAY_OFFSET_COMMAND], RELAY_COMMAND_RENDEZVOUS2);
	}
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(out[i].verdict, CIRCUIT_VERDICT_FORWARD);
		assert_int_equal(out[i].kind, CIRCUIT_CELL_SPLICED);
		assert_int_equal(out[i].arrival, 900 * 1000 + i + 1);
		assert_int_equal(out[i].out_link, a.link);
		assert_int_equal(out[i].circuit, a.handle);
		assert_int_equal(out[i].toward_p, 1);
		assert_ptr_equal(out[i].cell, taken[i]);
		splice_receive(&a, taken[i], got);
		assert_memory_equal(got, sent[i + 1], CELL_PAYLOAD_LEN);
	}
	assert_int_equal(circuit_table_counters(rp)->cells_held, 0);
	assert_int_equal(circuit_table_counters(rp)->held_total, 3);
	/* Later cells cross the splice directly, after the held ones. */
	test_fill(sent[0], CELL_PAYLOAD_LEN, 950);
	splice_send(&b, sent[0], CELL_COMMAND_RELAY, cells[0]);
	assert_int_equal(through(0, b.link, cells[0], &p_link, NULL, NULL),
			CIRCUIT_VERDICT_FORWARD);
	splice_receive(&a, cells[0], got);
	assert_memory_equal(got, sent[0], CELL_PAYLOAD_LEN);
	assert_int_equal(circuit_free(rp, a.handle), 0);
	assert_int_equal(circuit_free(rp, b.handle), 0);

	/* More than CIRCUIT_HOLD_PER_CIRCUIT: the circuit closes with
	 * RESOURCELIMIT and its held cells go. */
	splice_end_new(&b, rp, 571, N_LINK(0), 0x80000b08u);
	splice_e2e(&a, &b, 572);
	rendezvous1_and_cells(rp, &b, CIRCUIT_HOLD_PER_CIRCUIT, cells, sent, 1000, cc);
	assert_int_equal(circuit_table_counters(rp)->cells_held, CIRCUIT_HOLD_PER_CIRCUIT);
	splice_send(&b, sent[1], CELL_COMMAND_RELAY, cells[0]);
	memset(&cc[0], 0, sizeof(cc[0]));
	cc[0].cell = cells[0];
	cc[0].link = b.link;
	circuit_cells_burst(rp, engine, cc, 1, extra, &nb_extra);
	assert_int_equal(cc[0].verdict, CIRCUIT_VERDICT_FORWARD);
	assert_int_equal(cc[0].out_link, b.link);
	assert_int_equal(cells[0][CELL_CIRC_ID_LEN], CELL_COMMAND_DESTROY);
	assert_int_equal(cell_wire_payload(cells[0])[0], DESTROY_REASON_RESOURCELIMIT);
	assert_int_equal(circuit_table_counters(rp)->closed_hold_full, 1);
	assert_int_equal(circuit_table_counters(rp)->cells_held, 0);
	assert_int_equal(circuit_lookup(rp, b.link, b.circ_id), CIRCUIT_NONE);

	/* The join fails (unknown cookie: control closes the circuit): the
	 * held cells are dropped with it. */
	splice_end_new(&b, rp, 581, N_LINK(0), 0x80000b09u);
	rendezvous1_and_cells(rp, &b, 2, cells, sent, 1100, cc);
	assert_int_equal(circuit_table_counters(rp)->cells_held, 2);
	assert_int_equal(circuit_free(rp, b.handle), 0);
	assert_int_equal(circuit_table_counters(rp)->cells_held, 0);

	/* Across workers: B's table holds; joined to A in another table, the
	 * held cells go to A's worker, which adds A's layer. */
	t_b = circuit_table_create(&cfg, &err);
	assert_non_null(t_b);
	splice_end_new(&a, rp, 590, P_LINK(0), 0x80000a0au);
	splice_end_new(&b, t_b, 591, N_LINK(2), 0x80000b0au);
	splice_e2e(&a, &b, 592);
	rendezvous1_and_cells(t_b, &b, 4, cells, sent, 1200, cc);
	assert_int_equal(circuit_table_counters(t_b)->cells_held, 4);
	assert_int_equal(circuit_splice(rp, a.handle, b.link, b.circ_id, CIRCUIT_NONE), 0);
	assert_int_equal(circuit_splice(t_b, b.handle, a.link, a.circ_id, CIRCUIT_NONE), 0);
	n = circuit_take_held(t_b, engine, b.handle, out, taken, SPLICE_CELLS);
	assert_int_equal(n, 4);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(out[i].verdict, CIRCUIT_VERDICT_SPLICE_REMOTE);
		assert_int_equal(out[i].out_link, a.link);
		assert_int_equal(cell_wire_circ_id(taken[i]), a.circ_id);
		memset(&cc[i], 0, sizeof(cc[i]));
		cc[i].cell = taken[i];
		cc[i].link = a.link;
	}
	assert_int_equal(circuit_splice_in_burst(rp, engine, cc, n), n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(cc[i].verdict, CIRCUIT_VERDICT_FORWARD);
		splice_receive(&a, taken[i], got);
		assert_memory_equal(got, sent[i + 1], CELL_PAYLOAD_LEN);
	}
	assert_int_equal(circuit_table_counters(t_b)->cells_held, 0);
	circuit_table_destroy(t_b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_three_hops, tables_new, tables_free),
		cmocka_unit_test_setup_teardown(test_mixed_bursts, tables_new, tables_free),
		cmocka_unit_test_setup_teardown(test_relay_early, tables_new, tables_free),
		cmocka_unit_test_setup_teardown(test_destroy, tables_new, tables_free),
		cmocka_unit_test_setup_teardown(test_watch_close, tables_new, tables_free),
		cmocka_unit_test(test_watch_close_many),
		cmocka_unit_test_setup_teardown(test_unrecognized_at_last_hop, tables_new,
				tables_free),
		cmocka_unit_test_setup_teardown(test_control_and_drops, tables_new, tables_free),
		cmocka_unit_test_setup_teardown(test_close_link, tables_new, tables_free),
		cmocka_unit_test_setup_teardown(test_table_full, tables_new, tables_free),
		cmocka_unit_test_setup_teardown(test_remote_entries, tables_new, tables_free),
		cmocka_unit_test_setup_teardown(test_sendme_digests, tables_new, tables_free),
		cmocka_unit_test_setup_teardown(test_splice_local, tables_new, tables_free),
		cmocka_unit_test_setup_teardown(test_splice_cross_worker, tables_new, tables_free),
		cmocka_unit_test_setup_teardown(test_splice_held, tables_new, tables_free),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
