/* A read and a write token bucket: BandwidthRate and BandwidthBurst as tor
 * enforces them (tor src/lib/evloop/token_bucket.c token_bucket_rw_t, and
 * connection.c connection_bucket_read_limit() / _write_limit()).
 *
 * Each bucket holds up to `burst` bytes and gains `rate` bytes per second
 * in steps of the refill interval (tor's TokenBucketRefillInterval, 100 ms
 * by default): every step adds rate * interval / 1000 bytes, at least 1,
 * as tor's rate_per_sec_to_rate_per_step() does. Both start full. Spending
 * may take a bucket below zero (a read takes whole TCP segments, a write
 * whole TLS records): the debt delays the next refill that makes it
 * positive, so the long-run rate holds.
 *
 * A relay worker owns one (its share of the relay's limit, the rate and
 * burst divided by the workers) and reads no clock here: `now` is the
 * worker's nanoseconds, injected, so tests run it on virtual time.
 * Single-threaded.
 */
#ifndef HSRELAY_DATAPLANE_TOKEN_BUCKET_H
#define HSRELAY_DATAPLANE_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

/* token_bucket_rw_refill()'s result: which buckets went from empty (0 or
 * below) to holding tokens. */
#define TOKEN_BUCKET_READ 1u
#define TOKEN_BUCKET_WRITE 2u

struct token_bucket_rw {
	int64_t read_tokens;
	int64_t write_tokens;
	uint32_t rate;			/* bytes per second */
	uint32_t burst;			/* bytes */
	uint32_t per_step;		/* bytes added per refill step */
	uint64_t step_ns;		/* the refill interval */
	uint64_t last_step_ns;		/* when the last whole step ended */
};

/* Starts both buckets full at `now`. rate and burst are in bytes (burst >=
 * rate is the caller's rule, as tor's config checks it); interval_ms in
 * 1 .. 1000 (tor's TokenBucketRefillInterval range); a rate of 0 is taken
 * as 1 byte per second. */
void token_bucket_rw_init(struct token_bucket_rw *b, uint32_t rate, uint32_t burst,
		uint32_t interval_ms, uint64_t now);

/* New rate, burst and interval (a reload): tokens above the new burst are
 * dropped, debts stay (tor token_bucket_rw_adjust()). */
void token_bucket_rw_adjust(struct token_bucket_rw *b, uint32_t rate, uint32_t burst,
		uint32_t interval_ms, uint64_t now);

/* Adds the steps that ended since the last call, up to the burst. Returns
 * TOKEN_BUCKET_READ and/or TOKEN_BUCKET_WRITE for a bucket that was empty
 * and now has tokens, 0 otherwise. A clock that went back adds nothing. */
unsigned token_bucket_rw_refill(struct token_bucket_rw *b, uint64_t now);

/* The tokens a bucket holds, 0 when it is empty or in debt. */
static inline uint64_t
token_bucket_rw_read_allowed(const struct token_bucket_rw *b)
{
	return b->read_tokens > 0 ? (uint64_t)b->read_tokens : 0;
}

static inline uint64_t
token_bucket_rw_write_allowed(const struct token_bucket_rw *b)
{
	return b->write_tokens > 0 ? (uint64_t)b->write_tokens : 0;
}

/* Spends bytes read or written; true when this emptied a bucket that held
 * tokens (tor token_bucket_raw_dec()'s "becomes empty"). */
bool token_bucket_rw_spend_read(struct token_bucket_rw *b, uint32_t bytes);
bool token_bucket_rw_spend_write(struct token_bucket_rw *b, uint32_t bytes);

#endif
