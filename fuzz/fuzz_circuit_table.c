/* libFuzzer target for the worker's circuit table (dataplane/circuit.c)
 * driven by a hostile cell stream: the decisions a relay takes on every
 * cell its links bring in (circuit_cells_burst()) mixed with what the
 * control thread does in between (circuits created, extensions begun and
 * finished, circuits freed, links closed, cells originated).
 *
 * The input is a sequence of operations, one opcode byte each:
 *   0 create    p link, circuit id, key seed      circuit_create()
 *   1 extend    circuit, n link, n circuit id     circuit_extend_begin()
 *   2 extended  circuit                           circuit_extend_done()
 *   3 free      circuit                           circuit_free()
 *   4 burst     count, then per cell: link, circuit id, command, a flag
 *               byte (bit 0: a relay cell built by the circuit's client
 *               for this hop, digest stamped and encrypted, so that the
 *               LOCAL path is reached) and up to 16 payload bytes
 *   5 close     link                              circuit_close_link()
 *   6 originate circuit, relay command            circuit_originate_backward()
 * Links are 1..4 and circuit ids come from a small set, so that lookups
 * collide often. After every operation the table must be consistent: the
 * open-circuit gauge equals the number of live handles, both sides of each
 * live circuit find it again, every verdict is one of the four, forwarded
 * cells go to a link in use with a relay or DESTROY command, and every
 * DESTROY written has a zero payload after its reason. Each input starts
 * from an empty table (every link closed). EAL starts once, in
 * LLVMFuzzerInitialize. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>

#include "crypto/engine.h"
#include "crypto/kdf.h"
#include "crypto/relay_crypto.h"
#include "dataplane/circuit.h"
#include "dataplane/wire.h"

#define MAX_CIRCUITS 16u
#define LINKS 4u
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static struct crypto_engine *engine;
static struct circuit_table *table;

/* The client side of each handle, from the same key seed. */
static struct {
	struct relay_cipher forward;
	struct relay_digest forward_digest;
} clients[MAX_CIRCUITS];

static const uint32_t circ_ids[8] = {
	0, 1, 2, 0x80000001u, 0x80000002u, 0x7fffffffu, 0xffffffffu, 0x12345678u,
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *eal_argv[] = {
		"fuzz_circuit_table", "--no-huge", "--no-pci", "--no-shconf", "-m", "256",
		"--log-level=lib.eal:error", "--log-level=*:error", NULL,
	};
	struct circuit_table_config cfg = { .max_circuits = MAX_CIRCUITS, .socket_id = 0 };
	int err;

	(void)argc;
	(void)argv;
	if (rte_eal_init(8, eal_argv) < 0)
		abort();
	engine = crypto_engine_create(CRYPTO_ARCH_AUTO, RELAY_CTR_AUTO);
	table = circuit_table_create(&cfg, &err);
	if (engine == NULL || table == NULL)
		abort();
	return 0;
}

struct input {
	const uint8_t *p, *end;
};

static uint8_t
take(struct input *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

static uint32_t
take_link(struct input *in)
{
	return 1u + take(in) % LINKS;
}

static uint32_t
take_circ_id(struct input *in)
{
	return circ_ids[take(in) % 8];
}

/* Keys as a CREATE_FAST would give them (KDF-TOR over the seed). */
static void
derive_keys(uint8_t seed, struct circuit_keys *keys)
{
	uint8_t k0[40], out[20 + 72];

	memset(k0, seed, sizeof(k0));
	if (kdf_tor(k0, sizeof(k0), out, sizeof(out)) != 0)
		abort();
	memcpy(keys->forward_digest, out + 20, 20);
	memcpy(keys->backward_digest, out + 40, 20);
	memcpy(keys->forward_key, out + 60, 16);
	memcpy(keys->backward_key, out + 76, 16);
}

static void
check_destroy(const uint8_t *cell)
{
	const uint8_t *payload = cell + CELL_CIRC_ID_LEN + 1;

	for (unsigned i = 1; i < CELL_PAYLOAD_LEN; i++)
		CHECK(payload[i] == 0);
}

static void
check_table(void)
{
	uint64_t live = 0;

	for (uint32_t h = 0; h < MAX_CIRCUITS; h++) {
		uint32_t p_link, p_circ_id, n_link, n_circ_id;

		if (circuit_sides(table, h, &p_link, &p_circ_id, &n_link, &n_circ_id) != 0)
			continue;
		live++;
		CHECK(p_link >= 1 && p_link <= LINKS && p_circ_id != 0);
		CHECK(circuit_lookup(table, p_link, p_circ_id) == h);
		if (n_link != CIRCUIT_NO_LINK) {
			CHECK(n_link >= 1 && n_link <= LINKS && n_circ_id != 0);
			CHECK(circuit_lookup(table, n_link, n_circ_id) == h);
		}
	}
	CHECK(circuit_table_counters(table)->circuits_open == live);
}

static void
close_link(uint32_t link)
{
	struct circuit_extra_cell out[4];
	unsigned n;

	while ((n = circuit_close_link(table, link, out, 4)) > 0) {
		CHECK(n <= 4);
		for (unsigned i = 0; i < n; i++) {
			CHECK(out[i].link >= 1 && out[i].link <= LINKS);
			CHECK(cell_wire_command(out[i].cell) == CELL_COMMAND_DESTROY);
			CHECK(cell_wire_payload(out[i].cell)[0] == DESTROY_REASON_CHANNEL_CLOSED);
			check_destroy(out[i].cell);
		}
	}
}

static void
burst(struct input *in)
{
	static uint8_t cells[CIRCUIT_BURST_MAX][CELL_LEN];
	static struct circuit_cell cc[CIRCUIT_BURST_MAX];
	static struct circuit_extra_cell extra[CIRCUIT_BURST_MAX];
	unsigned n = 1u + take(in) % CIRCUIT_BURST_MAX, nb_extra = 0, held = 0;
	uint64_t held_before = circuit_table_counters(table)->held_total;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *cell = cells[i], *payload = cell_wire_payload(cell);
		uint32_t link = take_link(in), circ_id = take_circ_id(in);
		uint8_t command = take(in), flags = take(in);

		memset(cell, 0, CELL_LEN);
		cell_wire_set_circ_id(cell, circ_id);
		cell[CELL_CIRC_ID_LEN] = command;
		for (unsigned k = 0; k < 16; k++)
			payload[k] = take(in);
		if ((flags & 1) && (command == CELL_COMMAND_RELAY ||
				command == CELL_COMMAND_RELAY_EARLY)) {
			uint32_t h = circuit_lookup(table, link, circ_id);

			if (h != CIRCUIT_NONE) {
				struct relay_cipher *c = &clients[h].forward;

				wire_write_u16(payload + RELAY_OFFSET_RECOGNIZED, 0);
				wire_write_u16(payload + RELAY_OFFSET_LENGTH,
						(uint16_t)(payload[RELAY_OFFSET_LENGTH] % 64));
				relay_digest_stamp(&clients[h].forward_digest, payload);
				relay_crypt_burst(engine, &c, &payload, 1);
			}
		}
		cc[i] = (struct circuit_cell){ .cell = cell, .link = link };
	}
	CHECK(circuit_cells_burst(table, engine, cc, n, extra, &nb_extra) == n);
	CHECK(nb_extra <= n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t command = cell_wire_command(cc[i].cell);

		switch (cc[i].verdict) {
		case CIRCUIT_VERDICT_FORWARD:
			CHECK(cc[i].out_link >= 1 && cc[i].out_link <= LINKS);
			CHECK(command == CELL_COMMAND_RELAY || command == CELL_COMMAND_RELAY_EARLY ||
					command == CELL_COMMAND_DESTROY);
			CHECK(cell_wire_circ_id(cc[i].cell) != 0);
			if (command == CELL_COMMAND_DESTROY)
				check_destroy(cc[i].cell);
			if (cc[i].relay_early)
				CHECK(command == CELL_COMMAND_RELAY || command == CELL_COMMAND_RELAY_EARLY);
			break;
		case CIRCUIT_VERDICT_LOCAL:
			CHECK(cc[i].circuit < MAX_CIRCUITS);
			CHECK(command == CELL_COMMAND_RELAY || command == CELL_COMMAND_RELAY_EARLY);
			CHECK(wire_read_u16(cell_wire_payload(cc[i].cell) + RELAY_OFFSET_RECOGNIZED) == 0);
			break;
		case CIRCUIT_VERDICT_CONTROL:
			CHECK(cc[i].circuit == CIRCUIT_NONE || cc[i].circuit < MAX_CIRCUITS);
			break;
		case CIRCUIT_VERDICT_DROP:
			break;
		case CIRCUIT_VERDICT_HELD:
			/* a relay cell no hop recognized behind a RENDEZVOUS1
			 * this hop recognized: kept until the join or the close */
			CHECK(command == CELL_COMMAND_RELAY || command == CELL_COMMAND_RELAY_EARLY);
			CHECK(cc[i].circuit < MAX_CIRCUITS);
			held++;
			break;
		default:
			abort();
		}
	}
	/* every HELD verdict is one cell in the table's hold pool */
	CHECK(circuit_table_counters(table)->held_total == held_before + held);
	CHECK(circuit_table_counters(table)->cells_held <= CIRCUIT_HOLD_CELLS);
	for (unsigned i = 0; i < nb_extra; i++) {
		CHECK(extra[i].link >= 1 && extra[i].link <= LINKS);
		CHECK(cell_wire_command(extra[i].cell) == CELL_COMMAND_DESTROY);
		check_destroy(extra[i].cell);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, data + size };

	for (uint32_t link = 1; link <= LINKS; link++)
		close_link(link);
	check_table();
	CHECK(circuit_table_counters(table)->circuits_open == 0);
	while (in.p < in.end) {
		uint8_t op = take(&in) % 7;
		uint32_t h = take(&in) % MAX_CIRCUITS;

		switch (op) {
		case 0: {
			struct circuit_keys keys;
			uint32_t link = take_link(&in), circ_id = take_circ_id(&in), handle;
			uint8_t seed = take(&in);
			int rc;

			derive_keys(seed, &keys);
			rc = circuit_create(table, engine, &keys, link, circ_id, &handle);
			CHECK(rc == 0 || rc == -EEXIST || rc == -ENOSPC || rc == -EINVAL);
			if (rc == 0) {
				CHECK(handle < MAX_CIRCUITS);
				relay_cipher_init(engine, &clients[handle].forward, keys.forward_key);
				relay_digest_init(&clients[handle].forward_digest, keys.forward_digest);
			}
			break;
		}
		case 1: {
			uint32_t link = take_link(&in), circ_id = take_circ_id(&in);
			int rc = circuit_extend_begin(table, h, link, circ_id);

			CHECK(rc == 0 || rc == -EEXIST || rc == -ENOENT || rc == -EINVAL ||
					rc == -ENOSPC);
			break;
		}
		case 2:
			circuit_extend_done(table, h);
			break;
		case 3:
			circuit_free(table, h);
			break;
		case 4:
			in.p--;	/* h was the count */
			burst(&in);
			break;
		case 5:
			close_link(1u + h % LINKS);
			break;
		default: {
			uint8_t cell[CELL_LEN], body[8] = { 0 };
			uint32_t p_link;
			int rc = circuit_originate_backward(table, engine, h, take(&in), 0, body,
					sizeof(body), cell, &p_link);

			CHECK(rc == 0 || rc == -ENOENT);
			if (rc == 0)
				CHECK(p_link >= 1 && p_link <= LINKS);
			break;
		}
		}
		check_table();
	}
	return 0;
}
