/* A fixed latency histogram of relay cells (the MetricsPort's
 * hsrelay_cell_latency_seconds, control/relay_metrics.h), and the tag a
 * cell carries through the relay worker so that its latency can be taken
 * when it leaves.
 *
 * Buckets are powers of two of nanoseconds: bucket i < LATENCY_BUCKETS
 * counts latencies in (2^(SHIFT+i-1), 2^(SHIFT+i)] ns (bucket 0 from 0),
 * i.e. upper bounds 1.024 us, 2.048 us, ... 134.217728 ms, and the last
 * bucket everything above. Prometheus buckets are "less than or equal"
 * (le), and so are these: a latency equal to a bound counts in that
 * bound's bucket. Finding the bucket is a count of leading zeros, so
 * latency_histogram_add() is a handful of instructions and never touches
 * more than two cache lines.
 *
 * Time is whatever the caller measures in nanoseconds (the worker's clock
 * from the TSC, dataplane/worker.h worker_tsc_to_ns()); this module reads
 * no clock, so tests inject latencies. Counts are not cumulative here:
 * latency_histogram_cumulative() makes the exported ones.
 *
 * Single-threaded (the owning worker); a copy travels to the control
 * thread inside struct relay_worker_stats.
 */
#ifndef HSRELAY_DATAPLANE_LATENCY_HISTOGRAM_H
#define HSRELAY_DATAPLANE_LATENCY_HISTOGRAM_H

#include <stdint.h>

/* The first upper bound is 2^LATENCY_HISTOGRAM_SHIFT ns (1.024 us). */
#define LATENCY_HISTOGRAM_SHIFT 10
/* Finite upper bounds: 2^10 .. 2^27 ns (1.024 us .. 134 ms). */
#define LATENCY_HISTOGRAM_BOUNDS 18
/* Buckets: one per bound, and the last for what is above (+Inf). */
#define LATENCY_HISTOGRAM_BUCKETS (LATENCY_HISTOGRAM_BOUNDS + 1)

struct latency_histogram {
	uint64_t buckets[LATENCY_HISTOGRAM_BUCKETS];	/* not cumulative */
	uint64_t sum_ns;
};

/* What a relay worker measures (the label kind= of the metric): relay
 * cells passed on along their circuit (forwarded towards n or p), and
 * relay cells passed across a rendezvous splice. */
enum latency_kind {
	LATENCY_KIND_NONE = 0,		/* not measured */
	LATENCY_KIND_FORWARD = 1,
	LATENCY_KIND_SPLICE = 2,
};
#define LATENCY_KINDS 2			/* histograms: FORWARD - 1, SPLICE - 1 */

/* A cell's latency tag: the time it entered hsrelay (ns) and its kind, in
 * one word that queues and cross-worker batches keep with the cell
 * (dataplane/circuit_queue.h, dataplane/cross_batch.h). */
static inline uint64_t
latency_tag(uint64_t arrival_ns, unsigned kind)
{
	return arrival_ns << 2 | (kind & 3u);
}

static inline uint64_t
latency_tag_arrival(uint64_t tag)
{
	return tag >> 2;
}

static inline unsigned
latency_tag_kind(uint64_t tag)
{
	return (unsigned)(tag & 3u);
}

/* The bucket of a latency of ns nanoseconds. */
static inline unsigned
latency_histogram_bucket(uint64_t ns)
{
	/* (ns - 1) >> SHIFT is 0 for ns <= 2^SHIFT; its bit length is then
	 * the index of the smallest bound >= ns. */
	uint64_t v = (ns - (ns != 0)) >> LATENCY_HISTOGRAM_SHIFT;
	unsigned i = v == 0 ? 0 : 64u - (unsigned)__builtin_clzll(v);

	return i < LATENCY_HISTOGRAM_BOUNDS ? i : LATENCY_HISTOGRAM_BOUNDS;
}

static inline void
latency_histogram_add(struct latency_histogram *h, uint64_t ns)
{
	h->buckets[latency_histogram_bucket(ns)]++;
	h->sum_ns += ns;
}

/* Upper bound of bucket i < LATENCY_HISTOGRAM_BOUNDS, in ns. */
static inline uint64_t
latency_histogram_bound_ns(unsigned i)
{
	return 1ull << (LATENCY_HISTOGRAM_SHIFT + i);
}

/* Observations in h (the +Inf bucket and _count). */
uint64_t latency_histogram_count(const struct latency_histogram *h);

/* Prometheus's cumulative buckets: out[i] = observations <= bound i, for
 * the LATENCY_HISTOGRAM_BOUNDS finite bounds. */
void latency_histogram_cumulative(const struct latency_histogram *h,
		uint64_t out[LATENCY_HISTOGRAM_BOUNDS]);

#endif
