/* Relay cell latency histogram; see latency_histogram.h. */
#include "dataplane/latency_histogram.h"

uint64_t
latency_histogram_count(const struct latency_histogram *h)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < LATENCY_HISTOGRAM_BUCKETS; i++)
		n += h->buckets[i];
	return n;
}

void
latency_histogram_cumulative(const struct latency_histogram *h,
		uint64_t out[LATENCY_HISTOGRAM_BOUNDS])
{
	uint64_t n = 0;

	for (unsigned i = 0; i < LATENCY_HISTOGRAM_BOUNDS; i++) {
		n += h->buckets[i];
		out[i] = n;
	}
}
