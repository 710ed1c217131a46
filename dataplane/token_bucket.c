/* Read and write token buckets; see token_bucket.h. */
#include "dataplane/token_bucket.h"

#define NS_PER_MS 1000000ull

static void
configure(struct token_bucket_rw *b, uint32_t rate, uint32_t burst, uint32_t interval_ms)
{
	uint64_t per_step;

	if (interval_ms == 0)
		interval_ms = 1;
	if (rate == 0)
		rate = 1;
	if (burst == 0)
		burst = 1;
	/* tor rate_per_sec_to_rate_per_step(): multiply first, divide last,
	 * and never a step that adds nothing. */
	per_step = (uint64_t)rate * interval_ms / 1000;
	b->rate = rate;
	b->burst = burst;
	b->per_step = per_step > 0 ? (uint32_t)per_step : 1;
	b->step_ns = (uint64_t)interval_ms * NS_PER_MS;
}

void
token_bucket_rw_init(struct token_bucket_rw *b, uint32_t rate, uint32_t burst,
		uint32_t interval_ms, uint64_t now)
{
	configure(b, rate, burst, interval_ms);
	b->read_tokens = b->write_tokens = b->burst;
	b->last_step_ns = now;
}

void
token_bucket_rw_adjust(struct token_bucket_rw *b, uint32_t rate, uint32_t burst,
		uint32_t interval_ms, uint64_t now)
{
	configure(b, rate, burst, interval_ms);
	if (b->read_tokens > b->burst)
		b->read_tokens = b->burst;
	if (b->write_tokens > b->burst)
		b->write_tokens = b->burst;
	/* Steps are counted from here with the new interval. */
	b->last_step_ns = now;
}

/* tor token_bucket_raw_refill_steps(): the gap to the burst bounds what
 * the steps may add, so a long idle time cannot overflow. */
static bool
refill_one(int64_t *tokens, uint32_t burst, uint32_t per_step, uint64_t steps)
{
	bool was_empty = *tokens <= 0;
	uint64_t gap = (uint64_t)((int64_t)burst - *tokens);

	if (steps >= gap / per_step + 1)
		*tokens = burst;
	else
		*tokens += (int64_t)(steps * per_step);
	if (*tokens > burst)
		*tokens = burst;
	return was_empty && *tokens > 0;
}

unsigned
token_bucket_rw_refill(struct token_bucket_rw *b, uint64_t now)
{
	uint64_t steps;
	unsigned refilled = 0;

	/* Called on every worker iteration: no division until a step ended. */
	if (now <= b->last_step_ns || now - b->last_step_ns < b->step_ns)
		return 0;
	steps = (now - b->last_step_ns) / b->step_ns;
	/* Only whole steps advance the mark: the part of a step that has
	 * passed counts towards the next one (tor token_bucket_rw_refill()). */
	b->last_step_ns += steps * b->step_ns;
	if (refill_one(&b->read_tokens, b->burst, b->per_step, steps))
		refilled |= TOKEN_BUCKET_READ;
	if (refill_one(&b->write_tokens, b->burst, b->per_step, steps))
		refilled |= TOKEN_BUCKET_WRITE;
	return refilled;
}

static bool
spend(int64_t *tokens, uint32_t bytes)
{
	bool becomes_empty = *tokens > 0 && (int64_t)bytes >= *tokens;

	*tokens -= bytes;
	return becomes_empty;
}

bool
token_bucket_rw_spend_read(struct token_bucket_rw *b, uint32_t bytes)
{
	return spend(&b->read_tokens, bytes);
}

bool
token_bucket_rw_spend_write(struct token_bucket_rw *b, uint32_t bytes)
{
	return spend(&b->write_tokens, bytes);
}
