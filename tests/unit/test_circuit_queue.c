/* Per-circuit cell queues (dataplane/circuit_queue.c): FIFO per queue,
 * round-robin service per link in quanta, the per-queue and pool limits,
 * the OOM victim, owners changing, links dropped, and a randomized run
 * checked against a plain model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <rte_eal.h>

#include "dataplane/circuit_queue.h"
#include "dataplane/wire.h"

static int
setup(void **state)
{
	char *argv[] = {
		"test_circuit_queue", "--no-huge", "--no-pci", "--no-shconf", "-m", "128",
		"--log-level=lib.eal:error",
	};

	(void)state;
	return rte_eal_init(7, argv) < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	rte_eal_cleanup();
	return 0;
}

static struct circuit_queues *
make(uint32_t cells, uint32_t per_queue)
{
	struct circuit_queues_config cfg = {
		.max_cells = cells, .max_queues = 64, .max_links = 8, .max_per_queue = per_queue,
	};
	int err = 0;
	struct circuit_queues *q = circuit_queues_create(&cfg, &err);

	assert_non_null(q);
	return q;
}

/* A cell that says which queue it belongs to and its sequence number. */
static void
cell_for(uint8_t cell[CELL_LEN], uint32_t id, uint32_t seq)
{
	memset(cell, 0, CELL_LEN);
	wire_write_u32(cell, id);
	wire_write_u32(cell + 8, seq);
}

static const struct circuit_queue_owner owner_a = { .p_link = 1, .p_circ_id = 100 };
static const struct circuit_queue_owner owner_b = { .p_link = 1, .p_circ_id = 200 };

/* Three queues on one link: served 4 cells each in turn, FIFO inside. */
static void
test_round_robin(void **state)
{
	struct circuit_queues *q = make(256, 100);
	uint8_t cell[CELL_LEN], out[64][CELL_LEN];
	uint64_t tags[64];
	unsigned n;

	(void)state;
	/* Each cell's tag (the relay worker's latency tag) says which cell
	 * it is, and must come back with that cell. */
	for (uint32_t id = 0; id < 3; id++)
		for (uint32_t k = 0; k < 10; k++) {
			cell_for(cell, id, k);
			assert_int_equal(circuit_queue_push(q, id, &owner_a, 2, cell,
					(uint64_t)id << 40 | k), 0);
		}
	assert_int_equal(circuit_queue_link_cells(q, 2), 30);
	assert_int_equal(circuit_queue_link_cells(q, 3), 0);
	n = circuit_queue_pull(q, 2, out, tags, 64);
	assert_int_equal(n, 30);
	/* Turn order: q0 x4, q1 x4, q2 x4, q0 x4, ... */
	for (unsigned i = 0; i < 24; i++) {
		assert_int_equal(wire_read_u32(out[i]), (i / 4) % 3);
		assert_int_equal(wire_read_u32(out[i] + 8), (i / 12) * 4 + i % 4);
	}
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(tags[i], (uint64_t)wire_read_u32(out[i]) << 40 |
				wire_read_u32(out[i] + 8));
	assert_int_equal(circuit_queue_total(q), 0);
	assert_int_equal(circuit_queue_pull(q, 2, out, NULL, 64), 0);
	circuit_queues_destroy(q);
}

/* A pull that stops early ends that queue's turn: the next one starts
 * with the following queue. */
static void
test_partial_pull(void **state)
{
	struct circuit_queues *q = make(64, 100);
	uint8_t cell[CELL_LEN], out[8][CELL_LEN];

	(void)state;
	for (uint32_t id = 0; id < 2; id++)
		for (uint32_t k = 0; k < 6; k++) {
			cell_for(cell, id, k);
			assert_int_equal(circuit_queue_push(q, id, &owner_a, 0, cell, 0), 0);
		}
	assert_int_equal(circuit_queue_pull(q, 0, out, NULL, 3), 3);	/* q0: 0 1 2 */
	assert_int_equal(wire_read_u32(out[2] + 8), 2);
	assert_int_equal(circuit_queue_pull(q, 0, out, NULL, 8), 8);	/* q1: 0-3, q0: 3-5, q1: 4 */
	assert_int_equal(wire_read_u32(out[0]), 1);
	assert_int_equal(wire_read_u32(out[3] + 8), 3);
	assert_int_equal(wire_read_u32(out[4]), 0);
	assert_int_equal(wire_read_u32(out[4] + 8), 3);
	assert_int_equal(wire_read_u32(out[6] + 8), 5);
	assert_int_equal(wire_read_u32(out[7]), 1);
	assert_int_equal(wire_read_u32(out[7] + 8), 4);
	assert_int_equal(circuit_queue_length(q, 0), 0);
	assert_int_equal(circuit_queue_length(q, 1), 1);
	circuit_queues_destroy(q);
}

/* The per-queue limit, the pool limit and the OOM victim. */
static void
test_limits_and_victim(void **state)
{
	struct circuit_queues *q = make(10, 6);
	struct circuit_queue_owner who;
	uint8_t cell[CELL_LEN];

	(void)state;
	cell_for(cell, 0, 0);
	assert_int_equal(circuit_queue_oom_victim(q, &who), CIRCUIT_QUEUE_NONE);
	for (int k = 0; k < 6; k++)
		assert_int_equal(circuit_queue_push(q, 5, &owner_a, 1, cell, 0), 0);
	assert_int_equal(circuit_queue_push(q, 5, &owner_a, 1, cell, 0), -EMSGSIZE);
	for (int k = 0; k < 4; k++)
		assert_int_equal(circuit_queue_push(q, 9, &owner_b, 3, cell, 0), 0);
	assert_int_equal(circuit_queue_push(q, 9, &owner_b, 3, cell, 0), -ENOBUFS);
	assert_int_equal(circuit_queue_oom_victim(q, &who), 5);
	assert_int_equal(who.p_circ_id, 100);
	circuit_queue_drop(q, 5);
	assert_int_equal(circuit_queue_total(q), 4);
	assert_int_equal(circuit_queue_oom_victim(q, &who), 9);
	assert_int_equal(circuit_queue_push(q, 9, &owner_b, 3, cell, 0), 0);
	assert_int_equal(circuit_queue_push(q, 64, &owner_b, 3, cell, 0), -EINVAL);
	assert_int_equal(circuit_queue_push(q, 1, &owner_b, 8, cell, 0), -EINVAL);
	circuit_queues_destroy(q);
}

/* Each direction's limit set apart (the consensus's
 * circ_max_cell_queue_size_out toward n, even ids, and
 * circ_max_cell_queue_size toward p, odd ids); 0 keeps a limit. */
static void
test_direction_limits(void **state)
{
	struct circuit_queues *q = make(64, 6);
	uint8_t cell[CELL_LEN];

	(void)state;
	cell_for(cell, 0, 0);
	circuit_queue_set_limits(q, 3, 5);
	for (int k = 0; k < 3; k++)
		assert_int_equal(circuit_queue_push(q, 4, &owner_a, 1, cell, 0), 0);
	assert_int_equal(circuit_queue_push(q, 4, &owner_a, 1, cell, 0), -EMSGSIZE);
	for (int k = 0; k < 5; k++)
		assert_int_equal(circuit_queue_push(q, 5, &owner_a, 1, cell, 0), 0);
	assert_int_equal(circuit_queue_push(q, 5, &owner_a, 1, cell, 0), -EMSGSIZE);
	/* Lowered below what a queue holds: it keeps its cells, takes no
	 * more; raised: it takes more. 0 leaves the other direction alone. */
	circuit_queue_set_limits(q, 0, 2);
	assert_int_equal(circuit_queue_length(q, 5), 5);
	assert_int_equal(circuit_queue_push(q, 5, &owner_a, 1, cell, 0), -EMSGSIZE);
	assert_int_equal(circuit_queue_push(q, 4, &owner_a, 1, cell, 0), -EMSGSIZE);
	circuit_queue_set_limits(q, 4, 0);
	assert_int_equal(circuit_queue_push(q, 4, &owner_a, 1, cell, 0), 0);
	assert_int_equal(circuit_queue_push(q, 4, &owner_a, 1, cell, 0), -EMSGSIZE);
	assert_int_equal(circuit_queue_push(q, 7, &owner_a, 1, cell, 0), 0);
	assert_int_equal(circuit_queue_push(q, 7, &owner_a, 1, cell, 0), 0);
	assert_int_equal(circuit_queue_push(q, 7, &owner_a, 1, cell, 0), -EMSGSIZE);
	circuit_queues_destroy(q);
}

/* A queue whose handle now belongs to another circuit forgets the old
 * cells; a closed link drops all its queues. */
static void
test_owner_change_and_link_drop(void **state)
{
	struct circuit_queues *q = make(32, 32);
	uint8_t cell[CELL_LEN], out[32][CELL_LEN];

	(void)state;
	for (uint32_t k = 0; k < 5; k++) {
		cell_for(cell, 7, k);
		assert_int_equal(circuit_queue_push(q, 7, &owner_a, 4, cell, 0), 0);
	}
	cell_for(cell, 7, 99);
	assert_int_equal(circuit_queue_push(q, 7, &owner_b, 4, cell, 0), 0);
	assert_int_equal(circuit_queue_length(q, 7), 1);
	assert_int_equal(circuit_queue_pull(q, 4, out, NULL, 32), 1);
	assert_int_equal(wire_read_u32(out[0] + 8), 99);
	for (uint32_t id = 10; id < 14; id++)
		assert_int_equal(circuit_queue_push(q, id, &owner_a, id % 2, cell, 0), 0);
	circuit_queue_drop_link(q, 0);
	assert_int_equal(circuit_queue_total(q), 2);
	assert_int_equal(circuit_queue_link_cells(q, 0), 0);
	assert_int_equal(circuit_queue_link_cells(q, 1), 2);
	circuit_queues_destroy(q);
}

/* Random pushes, pulls and drops over 16 queues and 4 links, checked
 * against per-queue FIFOs: every cell comes out once, in order, on its
 * link, and the pool never leaks. */
static void
test_random_against_model(void **state)
{
	enum { QUEUES = 16, LINKS = 4, CELLS = 128 };
	struct circuit_queues *q = make(CELLS, 40);
	uint32_t next_seq[QUEUES] = { 0 }, expect[QUEUES] = { 0 }, queued[QUEUES] = { 0 };
	uint64_t x = 12345;
	uint8_t cell[CELL_LEN], out[CELLS][CELL_LEN];

	(void)state;
	for (int step = 0; step < 200000; step++) {
		uint32_t r, id, link;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		r = (uint32_t)x;
		id = r % QUEUES;
		link = id % LINKS;
		if (r % 7 < 4) {
			int rc;

			cell_for(cell, id, next_seq[id]);
			rc = circuit_queue_push(q, id, &owner_a, link, cell, 0);
			if (rc == 0) {
				next_seq[id]++;
				queued[id]++;
			} else {
				assert_true(rc == -ENOBUFS || rc == -EMSGSIZE);
			}
		} else if (r % 7 < 6) {
			unsigned n = circuit_queue_pull(q, link, out, NULL, (r >> 8) % 20);

			for (unsigned i = 0; i < n; i++) {
				uint32_t qid = wire_read_u32(out[i]);

				assert_int_equal(qid % LINKS, link);
				assert_int_equal(wire_read_u32(out[i] + 8), expect[qid]);
				expect[qid]++;
				queued[qid]--;
			}
		} else if (r % 97 == 0) {
			circuit_queue_drop(q, id);
			expect[id] = next_seq[id];
			queued[id] = 0;
		}
	}
	{
		uint32_t total = 0;

		for (int i = 0; i < QUEUES; i++) {
			assert_int_equal(circuit_queue_length(q, (uint32_t)i), queued[i]);
			total += queued[i];
		}
		assert_int_equal(circuit_queue_total(q), total);
		for (uint32_t l = 0; l < LINKS; l++)
			while (circuit_queue_pull(q, l, out, NULL, CELLS) > 0)
				;
		assert_int_equal(circuit_queue_total(q), 0);
		/* All cells are free again: the pool takes CELLS pushes. */
		for (int k = 0; k < CELLS; k++)
			assert_int_equal(circuit_queue_push(q, (uint32_t)k % QUEUES, &owner_a,
					(uint32_t)(k % QUEUES) % LINKS, cell, 0), 0);
	}
	circuit_queues_destroy(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_robin),
		cmocka_unit_test(test_partial_pull),
		cmocka_unit_test(test_limits_and_victim),
		cmocka_unit_test(test_direction_limits),
		cmocka_unit_test(test_owner_change_and_link_drop),
		cmocka_unit_test(test_random_against_model),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
