/* dataplane/token_bucket.c on virtual time: tor's token_bucket_rw
 * behaviour (src/lib/evloop/token_bucket.c, test_bwmgt.c) as the relay
 * worker uses it for BandwidthRate and BandwidthBurst. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dataplane/token_bucket.h"

#define MS 1000000ull
#define SECOND (1000 * MS)
/* An arbitrary start, so that nothing depends on time 0. */
#define T0 (12345 * SECOND + 678)

static void
test_starts_full_and_refills_per_step(void **state)
{
	struct token_bucket_rw b;

	(void)state;
	token_bucket_rw_init(&b, 100000, 250000, 100, T0);
	assert_int_equal(token_bucket_rw_read_allowed(&b), 250000);
	assert_int_equal(token_bucket_rw_write_allowed(&b), 250000);
	assert_int_equal(b.per_step, 10000);
	/* Spending the whole burst empties the read bucket only. */
	assert_true(token_bucket_rw_spend_read(&b, 250000));
	assert_int_equal(token_bucket_rw_read_allowed(&b), 0);
	assert_int_equal(token_bucket_rw_write_allowed(&b), 250000);
	/* Less than a step: nothing; the part of a step that passed counts
	 * towards the next. */
	assert_int_equal(token_bucket_rw_refill(&b, T0 + 99 * MS), 0);
	assert_int_equal(token_bucket_rw_read_allowed(&b), 0);
	assert_int_equal(token_bucket_rw_refill(&b, T0 + 150 * MS), TOKEN_BUCKET_READ);
	assert_int_equal(token_bucket_rw_read_allowed(&b), 10000);
	assert_int_equal(token_bucket_rw_refill(&b, T0 + 199 * MS), 0);
	assert_int_equal(token_bucket_rw_read_allowed(&b), 10000);
	assert_int_equal(token_bucket_rw_refill(&b, T0 + 200 * MS), 0);
	assert_int_equal(token_bucket_rw_read_allowed(&b), 20000);
	/* Three steps at once. */
	assert_int_equal(token_bucket_rw_refill(&b, T0 + 530 * MS), 0);
	assert_int_equal(token_bucket_rw_read_allowed(&b), 50000);
	/* Never above the burst, however long it was idle. */
	assert_int_equal(token_bucket_rw_refill(&b, T0 + 3600 * SECOND), 0);
	assert_int_equal(token_bucket_rw_read_allowed(&b), 250000);
	assert_int_equal(token_bucket_rw_write_allowed(&b), 250000);
}

/* Spending beyond the tokens is a debt that later steps pay first: over
 * time the rate holds whatever the sizes spent. */
static void
test_debt_and_long_run_rate(void **state)
{
	struct token_bucket_rw b;
	uint64_t now = T0, spent = 0;
	unsigned emptied = 0;

	(void)state;
	token_bucket_rw_init(&b, 1000000, 1000000, 100, T0);
	assert_true(token_bucket_rw_spend_write(&b, 1500000));
	assert_int_equal(token_bucket_rw_write_allowed(&b), 0);
	assert_int_equal(b.write_tokens, -500000);
	/* Five steps of 100000 pay the debt: still empty. */
	assert_int_equal(token_bucket_rw_refill(&b, T0 + 500 * MS), 0);
	assert_int_equal(token_bucket_rw_write_allowed(&b), 0);
	assert_int_equal(token_bucket_rw_refill(&b, T0 + 600 * MS), TOKEN_BUCKET_WRITE);
	assert_int_equal(token_bucket_rw_write_allowed(&b), 100000);
	/* Spending nothing does not count as emptying; an empty bucket
	 * spent further does not either. */
	assert_false(token_bucket_rw_spend_write(&b, 0));
	assert_true(token_bucket_rw_spend_write(&b, 100000));
	assert_false(token_bucket_rw_spend_write(&b, 1));

	/* A reader that takes 1448-byte segments whenever tokens are left,
	 * polled every 10 us for 60 s: what it took is the burst plus 60
	 * seconds of rate, within one step and one segment. */
	token_bucket_rw_init(&b, 1000000, 1000000, 100, T0);
	for (now = T0; now < T0 + 60 * SECOND; now += 10000) {
		token_bucket_rw_refill(&b, now);
		while (token_bucket_rw_read_allowed(&b) > 0) {
			if (token_bucket_rw_spend_read(&b, 1448))
				emptied++;
			spent += 1448;
		}
	}
	assert_in_range(spent, 1000000 + 59900000 - 1448, 1000000 + 60000000 + 1448);
	/* It emptied once per step after the burst was gone. */
	assert_in_range(emptied, 595, 601);
}

/* tor rate_per_sec_to_rate_per_step(): a rate too small for a step still
 * adds a byte; a 1 ms step of a large rate. */
static void
test_step_sizes(void **state)
{
	struct token_bucket_rw b;

	(void)state;
	token_bucket_rw_init(&b, 5, 100, 100, T0);
	assert_int_equal(b.per_step, 1);
	token_bucket_rw_init(&b, 0x7fffffff, 0x7fffffff, 1, T0);
	assert_int_equal(b.per_step, 2147483);
	token_bucket_rw_init(&b, 0x7fffffff, 0x7fffffff, 1000, T0);
	assert_int_equal(b.per_step, 0x7fffffff);
	/* Nothing is taken as the least there is, not as "no limit". */
	token_bucket_rw_init(&b, 0, 0, 0, T0);
	assert_int_equal(b.rate, 1);
	assert_int_equal(b.burst, 1);
	assert_int_equal(b.step_ns, MS);
}

/* A reload (tor token_bucket_rw_adjust()): tokens above the new burst go,
 * debts stay, and steps count from the reload with the new interval. */
static void
test_adjust(void **state)
{
	struct token_bucket_rw b;

	(void)state;
	token_bucket_rw_init(&b, 1000000, 2000000, 100, T0);
	token_bucket_rw_spend_write(&b, 2500000);
	token_bucket_rw_adjust(&b, 200000, 500000, 50, T0 + 10 * MS);
	assert_int_equal(token_bucket_rw_read_allowed(&b), 500000);
	assert_int_equal(b.write_tokens, -500000);
	assert_int_equal(b.per_step, 10000);
	assert_int_equal(token_bucket_rw_refill(&b, T0 + 59 * MS), 0);
	assert_int_equal(b.write_tokens, -500000);
	token_bucket_rw_refill(&b, T0 + 60 * MS);
	assert_int_equal(b.write_tokens, -490000);
	/* Raising the burst does not add tokens. */
	token_bucket_rw_adjust(&b, 200000, 900000, 50, T0 + 60 * MS);
	assert_int_equal(token_bucket_rw_read_allowed(&b), 500000);
}

/* A clock that went back adds nothing and does not move the mark. */
static void
test_clock_back(void **state)
{
	struct token_bucket_rw b;

	(void)state;
	token_bucket_rw_init(&b, 1000000, 1000000, 100, T0);
	token_bucket_rw_spend_read(&b, 1000000);
	assert_int_equal(token_bucket_rw_refill(&b, T0 - SECOND), 0);
	assert_int_equal(token_bucket_rw_read_allowed(&b), 0);
	assert_int_equal(token_bucket_rw_refill(&b, T0 + 100 * MS), TOKEN_BUCKET_READ);
	assert_int_equal(token_bucket_rw_read_allowed(&b), 100000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starts_full_and_refills_per_step),
		cmocka_unit_test(test_debt_and_long_run_rate),
		cmocka_unit_test(test_step_sizes),
		cmocka_unit_test(test_adjust),
		cmocka_unit_test(test_clock_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
