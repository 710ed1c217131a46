/* Timing and output helpers shared by the hsrelay-bench subcommands. */
#ifndef HSRELAY_BENCH_BENCH_UTIL_H
#define HSRELAY_BENCH_BENCH_UTIL_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The CPU model string from /proc/cpuinfo (or "unknown"), JSON-safe. */
const char *bench_cpu_model(void);

/* Parses "N[,N...]" into out (at most max_count numbers, each in
 * 1..max_value). Returns how many, or -EINVAL (empty, malformed, out of
 * range, too many). */
int bench_parse_list(const char *text, unsigned max_value, unsigned *out, unsigned max_count);

/* Latency percentiles of n samples in ns (sorted here, in place): p50,
 * p99 and the largest, in ns; all 0 when n is 0. */
struct bench_latency {
	uint64_t samples;
	uint32_t p50_ns, p99_ns, max_ns;
};

void bench_latency_percentiles(uint32_t *ns, uint64_t n, struct bench_latency *out);

/* xorshift64*: deterministic workloads, so runs are comparable. */
static inline uint64_t
bench_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

#endif
