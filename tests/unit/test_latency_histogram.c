/* dataplane/latency_histogram.[ch]: the buckets of known latencies (the
 * "le" edges exactly), cumulative counts, +Inf = count, the sum, and the
 * latency tag a cell carries. Latencies are injected: the module reads no
 * clock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dataplane/latency_histogram.h"

/* Prometheus buckets are "<= le": a latency equal to a bound is in that
 * bound's bucket, one nanosecond more is in the next. */
static void
test_bucket_edges(void **state)
{
	(void)state;
	assert_int_equal(LATENCY_HISTOGRAM_BOUNDS, 18);
	assert_int_equal(latency_histogram_bound_ns(0), 1024);
	assert_int_equal(latency_histogram_bound_ns(17), 134217728);
	assert_int_equal(latency_histogram_bucket(0), 0);
	assert_int_equal(latency_histogram_bucket(1), 0);
	assert_int_equal(latency_histogram_bucket(1024), 0);
	assert_int_equal(latency_histogram_bucket(1025), 1);
	assert_int_equal(latency_histogram_bucket(2048), 1);
	assert_int_equal(latency_histogram_bucket(2049), 2);
	for (unsigned i = 0; i < LATENCY_HISTOGRAM_BOUNDS; i++) {
		uint64_t bound = latency_histogram_bound_ns(i);

		assert_int_equal(latency_histogram_bucket(bound), i);
		assert_int_equal(latency_histogram_bucket(bound + 1), i + 1);
		if (i > 0)
			assert_int_equal(latency_histogram_bucket(bound / 2 + 1), i);
	}
	/* Above the last bound: the +Inf bucket. */
	assert_int_equal(latency_histogram_bucket(134217729), LATENCY_HISTOGRAM_BOUNDS);
	assert_int_equal(latency_histogram_bucket(UINT64_MAX), LATENCY_HISTOGRAM_BOUNDS);
}

/* Seven known latencies: exact per-bucket and cumulative counts, count,
 * sum. */
static void
test_known_latencies(void **state)
{
	static const uint64_t ns[] = {
		500, 1024, 1500, 3000, 3000, 1000000, 200000000,
	};
	struct latency_histogram h;
	uint64_t cumulative[LATENCY_HISTOGRAM_BOUNDS];
	uint64_t want[LATENCY_HISTOGRAM_BOUNDS];

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(latency_histogram_count(&h), 0);
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		latency_histogram_add(&h, ns[i]);

	/* 500, 1024 <= 1.024 us; 1500 <= 2.048 us; 3000 twice <= 4.096 us;
	 * 1 ms <= 2^20 ns (1.048576 ms); 200 ms above 134 ms. */
	assert_int_equal(h.buckets[0], 2);
	assert_int_equal(h.buckets[1], 1);
	assert_int_equal(h.buckets[2], 2);
	assert_int_equal(h.buckets[10], 1);
	assert_int_equal(h.buckets[LATENCY_HISTOGRAM_BOUNDS], 1);
	assert_int_equal(latency_histogram_count(&h), 7);
	assert_int_equal(h.sum_ns, 500 + 1024 + 1500 + 3000 + 3000 + 1000000 + 200000000);

	for (unsigned i = 0; i < LATENCY_HISTOGRAM_BOUNDS; i++)
		want[i] = i == 0 ? 2 : i == 1 ? 3 : i < 10 ? 5 : 6;
	latency_histogram_cumulative(&h, cumulative);
	assert_memory_equal(cumulative, want, sizeof(want));
	/* The +Inf bucket is the count: one above the last finite one. */
	assert_int_equal(latency_histogram_count(&h) - cumulative[LATENCY_HISTOGRAM_BOUNDS - 1], 1);
}

/* Many observations of one latency and a spread: cumulative buckets never
 * decrease and end at count. */
static void
test_cumulative_monotonic(void **state)
{
	struct latency_histogram h;
	uint64_t cumulative[LATENCY_HISTOGRAM_BOUNDS], sum = 0;

	(void)state;
	memset(&h, 0, sizeof(h));
	for (uint64_t v = 1; v < (1ull << 28); v = v * 3 + 7) {
		latency_histogram_add(&h, v);
		sum += v;
	}
	for (int i = 0; i < 1000; i++) {
		latency_histogram_add(&h, 70000);
		sum += 70000;
	}
	latency_histogram_cumulative(&h, cumulative);
	for (unsigned i = 1; i < LATENCY_HISTOGRAM_BOUNDS; i++)
		assert_true(cumulative[i] >= cumulative[i - 1]);
	/* 70 us is in (65.536, 131.072] us: bucket 7. */
	assert_true(h.buckets[7] >= 1000);
	assert_int_equal(h.sum_ns, sum);
	assert_true(cumulative[LATENCY_HISTOGRAM_BOUNDS - 1] <= latency_histogram_count(&h));
}

/* The tag keeps the arrival time and the kind apart. */
static void
test_tag(void **state)
{
	uint64_t now = 1234567890123456789ull >> 2;

	(void)state;
	for (unsigned k = LATENCY_KIND_NONE; k <= LATENCY_KIND_SPLICE; k++) {
		uint64_t tag = latency_tag(now, k);

		assert_int_equal(latency_tag_arrival(tag), now);
		assert_int_equal(latency_tag_kind(tag), k);
	}
	assert_int_equal(latency_tag_kind(0), LATENCY_KIND_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_edges),
		cmocka_unit_test(test_known_latencies),
		cmocka_unit_test(test_cumulative_monotonic),
		cmocka_unit_test(test_tag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
