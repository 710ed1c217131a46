/* Cells between workers (dataplane/cross_batch.c): batches fill up to
 * CROSS_BATCH_CELLS cells per destination and are enqueued when full or
 * flushed; a full ring gives the batch back, an empty pool refuses the
 * cell; the receiver sees the cells, their links, kinds and flags in the
 * order they were added. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dataplane/circuit.h"
#include "dataplane/cross_batch.h"
#include "dataplane/wire.h"

#define WORKERS 3

static struct rte_mempool *pool;
static struct rte_ring *rings[WORKER_MAX];

static int
setup(void **state)
{
	char *argv[] = {
		"test_cross_batch", "--no-huge", "--no-pci", "--no-shconf", "-m", "128",
		"--log-level=lib.eal:error",
	};

	(void)state;
	if (rte_eal_init(7, argv) < 0)
		return -1;
	/* Three batches in all: enough to fill worker 1's ring (4 slots,
	 * 3 usable) only when nothing else holds one. */
	pool = rte_mempool_create("xb_test", 3, sizeof(struct cross_batch), 0, 0, NULL, NULL,
			NULL, NULL, 0, 0);
	for (unsigned i = 0; i < WORKERS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "xr%u", i);
		rings[i] = cross_ring_create(name, 4, 0);
		if (rings[i] == NULL)
			return -1;
	}
	return pool != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < WORKERS; i++)
		rte_ring_free(rings[i]);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}

static void
make_cell(uint8_t cell[CELL_LEN], uint32_t circ_id, uint8_t fill)
{
	memset(cell, fill, CELL_LEN);
	cell_wire_set_circ_id(cell, circ_id);
	cell[CELL_CIRC_ID_LEN] = CELL_COMMAND_RELAY;
}

static void
test_init_checks(void **state)
{
	struct cross_outbox o;
	struct rte_ring *none[WORKER_MAX] = { NULL };

	(void)state;
	assert_int_equal(cross_outbox_init(&o, 0, WORKERS, NULL, rings), -EINVAL);
	assert_int_equal(cross_outbox_init(&o, 3, WORKERS, pool, rings), -EINVAL);
	assert_int_equal(cross_outbox_init(&o, 0, WORKERS, pool, none), -EINVAL);
	assert_int_equal(cross_outbox_init(&o, 0, WORKERS, pool, rings), 0);
}

static void
test_batches(void **state)
{
	struct cross_outbox o;
	struct cross_batch *refused, *got[4], *flushed[WORKER_MAX];
	unsigned dest[WORKER_MAX];
	uint8_t cell[CELL_LEN];

	(void)state;
	assert_int_equal(cross_outbox_init(&o, 0, WORKERS, pool, rings), 0);
	/* Not to ourselves, nor past the last worker. */
	make_cell(cell, 1, 0);
	assert_int_equal(cross_outbox_add(&o, 0, 1, 2, CROSS_TO_LINK, 0, cell, 0, &refused), -EINVAL);
	assert_int_equal(cross_outbox_add(&o, 3, 1, 2, CROSS_TO_LINK, 0, cell, 0, &refused), -EINVAL);

	/* 31 cells for worker 1 make one batch, enqueued as it fills; the
	 * 32nd opens the next one, which only a flush sends. */
	for (unsigned i = 0; i < CROSS_BATCH_CELLS + 1; i++) {
		make_cell(cell, 0x80000000u + i, (uint8_t)i);
		assert_int_equal(cross_outbox_add(&o, 1, 0x10000u + i, i, i & 1, i == 0
				? CROSS_REGISTER : 0, cell, 0xfeed0000ull + i, &refused), 0);
		assert_null(refused);
	}
	assert_int_equal(rte_ring_count(rings[1]), 1);
	make_cell(cell, 0x90000000u, 0xee);
	assert_int_equal(cross_outbox_add(&o, 2, 0x20000u, CIRCUIT_NONE, CROSS_TO_CIRCUIT, 0, cell,
			0, &refused), 0);
	assert_int_equal(cross_outbox_flush(&o, flushed, dest), 0);
	assert_int_equal(rte_ring_count(rings[1]), 2);
	assert_int_equal(rte_ring_count(rings[2]), 1);
	assert_int_equal(cross_outbox_flush(&o, flushed, dest), 0);

	assert_int_equal(cross_ring_take(rings[1], got, 4), 2);
	assert_int_equal(got[0]->from, 0);
	assert_int_equal(got[0]->count, CROSS_BATCH_CELLS);
	assert_int_equal(got[1]->count, 1);
	for (unsigned i = 0; i < CROSS_BATCH_CELLS + 1; i++) {
		const struct cross_cell *c = i < CROSS_BATCH_CELLS ? &got[0]->cells[i]
				: &got[1]->cells[0];

		assert_int_equal(c->link, 0x10000u + i);
		assert_int_equal(c->circuit, i);
		assert_int_equal(c->kind, i & 1);
		assert_int_equal(c->flags, i == 0 ? CROSS_REGISTER : 0);
		assert_int_equal(c->tag, 0xfeed0000ull + i);
		assert_int_equal(cell_wire_circ_id(c->cell), 0x80000000u + i);
		assert_int_equal(c->cell[CELL_LEN - 1], (uint8_t)i);
	}
	cross_batch_free(pool, got[0]);
	cross_batch_free(pool, got[1]);
	assert_int_equal(cross_ring_take(rings[2], got, 4), 1);
	assert_int_equal(got[0]->cells[0].kind, CROSS_TO_CIRCUIT);
	assert_int_equal(got[0]->cells[0].link, 0x20000u);
	cross_batch_free(pool, got[0]);
	assert_int_equal(rte_mempool_avail_count(pool), 3);
}

static void
test_ring_full_and_pool_empty(void **state)
{
	struct cross_outbox o;
	struct cross_batch *refused, *flushed[WORKER_MAX], *got[4];
	unsigned dest[WORKER_MAX];
	uint8_t cell[CELL_LEN];

	(void)state;
	assert_int_equal(cross_outbox_init(&o, 2, WORKERS, pool, rings), 0);
	make_cell(cell, 5, 1);
	/* Worker 1's ring takes three batches of one cell each. */
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(cross_outbox_add(&o, 1, 7, 1, CROSS_TO_LINK, 0, cell, 0, &refused), 0);
		assert_int_equal(cross_outbox_flush(&o, flushed, dest), 0);
	}
	assert_int_equal(rte_ring_count(rings[1]), 3);
	/* The pool is empty now: the cell is refused, nothing is held. */
	assert_int_equal(cross_outbox_add(&o, 0, 7, 1, CROSS_TO_LINK, 0, cell, 0, &refused), -ENOBUFS);
	/* One batch back: the ring is still full, so the flush gives it
	 * back with its destination. */
	assert_int_equal(cross_ring_take(rings[1], got, 1), 1);
	cross_batch_free(pool, got[0]);
	assert_int_equal(cross_outbox_add(&o, 1, 7, 1, CROSS_TO_LINK, 0, cell, 0, &refused), 0);
	assert_int_equal(cross_outbox_add(&o, 1, 8, 2, CROSS_TO_LINK, 0, cell, 0, &refused), 0);
	assert_int_equal(cross_outbox_flush(&o, flushed, dest), 0);
	assert_int_equal(rte_ring_count(rings[1]), 3);
	assert_int_equal(cross_ring_take(rings[1], got, 1), 1);
	cross_batch_free(pool, got[0]);
	for (unsigned i = 0; i < CROSS_BATCH_CELLS - 1; i++)
		assert_int_equal(cross_outbox_add(&o, 1, 9, 3, CROSS_TO_LINK, 0, cell, 0, &refused),
				0);
	assert_null(refused);
	/* Fill the ring (a placeholder entry), then the 31st cell fills the
	 * batch, which the ring refuses: it comes back with this cell last. */
	assert_int_equal(rte_ring_count(rings[1]), 2);
	assert_int_equal(rte_ring_enqueue(rings[1], NULL), 0);
	assert_int_equal(cross_outbox_add(&o, 1, 10, 4, CROSS_TO_LINK, 0, cell, 0, &refused), 0);
	assert_non_null(refused);
	assert_int_equal(refused->count, CROSS_BATCH_CELLS);
	assert_int_equal(refused->cells[CROSS_BATCH_CELLS - 1].link, 10);
	assert_int_equal(refused->cells[CROSS_BATCH_CELLS - 1].circuit, 4);
	cross_batch_free(pool, refused);
	/* A flush with the ring full gives the open batch back. */
	assert_int_equal(cross_outbox_add(&o, 1, 11, 5, CROSS_TO_LINK, 0, cell, 0, &refused), 0);
	assert_int_equal(cross_outbox_flush(&o, flushed, dest), 1);
	assert_int_equal(dest[0], 1);
	assert_int_equal(flushed[0]->count, 1);
	assert_int_equal(flushed[0]->cells[0].link, 11);
	cross_batch_free(pool, flushed[0]);
	/* Drain: two batches and the NULL placeholder. */
	while (cross_ring_take(rings[1], got, 1) == 1) {
		if (got[0] != NULL)
			cross_batch_free(pool, got[0]);
	}
	cross_outbox_discard(&o);
	assert_int_equal(rte_mempool_avail_count(pool), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_checks),
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_ring_full_and_pool_empty),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
