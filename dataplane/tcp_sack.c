#include "dataplane/tcp_sack.h"

/* Sequence space comparisons, RFC 9293 3.4 (modulo 2^32). */
static inline bool
seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool
seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline uint32_t
seq_min(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? a : b;
}

static inline uint32_t
seq_max(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? b : a;
}

void
tcp_sack_board_clear(struct tcp_sack_board *board)
{
	board->count = 0;
}

void
tcp_sack_board_advance(struct tcp_sack_board *board, uint32_t una)
{
	unsigned n = 0;

	for (unsigned i = 0; i < board->count; i++) {
		struct tcp_sack_block r = board->ranges[i];

		if (seq_leq(r.right, una))
			continue;
		if (seq_lt(r.left, una))
			r.left = una;
		board->ranges[n++] = r;
	}
	board->count = (uint8_t)n;
}

/* Adds [left, right) (inside (una, snd_max]); returns the bytes that were
 * not SACKed before and are kept. */
static uint32_t
board_insert(struct tcp_sack_board *board, uint32_t left, uint32_t right)
{
	struct tcp_sack_block out[TCP_SACK_BOARD_MAX + 1];
	const uint32_t left0 = left, right0 = right;
	uint32_t overlap = 0;
	unsigned n = 0, merged_at = 0;
	bool placed = false;

	for (unsigned i = 0; i < board->count; i++) {
		struct tcp_sack_block e = board->ranges[i];

		if (seq_lt(e.right, left)) {
			out[n++] = e;
		} else if (seq_lt(right, e.left)) {
			if (!placed) {
				merged_at = n;
				out[n++] = (struct tcp_sack_block){ .left = left, .right = right };
				placed = true;
			}
			out[n++] = e;
		} else {
			/* Overlapping or adjacent: one range. The ranges are
			 * disjoint, so each overlaps the original block alone. */
			uint32_t lo = seq_max(e.left, left0), hi = seq_min(e.right, right0);

			if (seq_lt(lo, hi))
				overlap += hi - lo;
			left = seq_min(left, e.left);
			right = seq_max(right, e.right);
		}
	}
	if (!placed) {
		merged_at = n;
		out[n++] = (struct tcp_sack_block){ .left = left, .right = right };
	}
	uint32_t added = right0 - left0 - overlap;

	if (n > TCP_SACK_BOARD_MAX) {
		/* Forget the highest range (see TCP_SACK_BOARD_MAX). */
		n--;
		if (merged_at == n)
			added = 0;
	}
	for (unsigned i = 0; i < n; i++)
		board->ranges[i] = out[i];
	board->count = (uint8_t)n;
	return added;
}

uint32_t
tcp_sack_board_update(struct tcp_sack_board *board, uint32_t una, uint32_t snd_max,
		const struct tcp_sack_block *blocks, unsigned count)
{
	uint32_t added = 0;

	for (unsigned i = 0; i < count; i++) {
		uint32_t left = blocks[i].left, right = blocks[i].right;

		if (!seq_lt(left, right) || !seq_leq(right, snd_max) || seq_leq(right, una))
			continue;
		if (seq_lt(left, una))
			left = una;
		added += board_insert(board, left, right);
	}
	return added;
}

uint32_t
tcp_sack_board_bytes_above(const struct tcp_sack_board *board, uint32_t seq)
{
	uint32_t bytes = 0;

	for (unsigned i = 0; i < board->count; i++) {
		const struct tcp_sack_block *r = &board->ranges[i];

		if (seq_leq(seq, r->left))
			bytes += r->right - r->left;
		else if (seq_lt(seq, r->right))
			bytes += r->right - seq;
	}
	return bytes;
}

/* IsLost() (RFC 6675 4) for a byte that has ranges[first..count) wholly
 * above it and `partial` more SACKed bytes above it in the range before
 * those: DupThresh discontiguous ranges, or more than (DupThresh - 1) *
 * SMSS bytes. Every byte of one hole has the same ranges above it. */
static bool
lost_above(const struct tcp_sack_board *board, unsigned first, uint32_t partial, uint32_t mss)
{
	uint32_t bytes = partial;

	if (board->count - first >= TCP_SACK_DUP_THRESH)
		return true;
	for (unsigned i = first; i < board->count; i++)
		bytes += board->ranges[i].right - board->ranges[i].left;
	return bytes > (TCP_SACK_DUP_THRESH - 1) * mss;
}

bool
tcp_sack_board_is_lost(const struct tcp_sack_board *board, uint32_t seq, uint32_t mss)
{
	unsigned first = 0;
	uint32_t partial = 0;

	/* The ranges are sorted: skip those not wholly above seq, keeping
	 * what lies above seq of one that holds it. */
	while (first < board->count && !seq_lt(seq, board->ranges[first].left)) {
		if (seq_lt(seq, board->ranges[first].right))
			partial = board->ranges[first].right - seq;
		first++;
	}
	return lost_above(board, first, partial, mss);
}

/* Bytes of [from, to) below high_rxt. */
static uint32_t
retransmitted(uint32_t from, uint32_t to, uint32_t high_rxt)
{
	uint32_t end = seq_min(to, high_rxt);

	return seq_lt(from, end) ? end - from : 0;
}

uint32_t
tcp_sack_board_pipe(const struct tcp_sack_board *board, uint32_t una, uint32_t snd_max,
		uint32_t high_rxt, uint32_t mss)
{
	uint32_t pipe = 0, pos = una;

	for (unsigned i = 0; i < board->count; i++) {
		const struct tcp_sack_block *r = &board->ranges[i];

		if (seq_lt(pos, r->left)) {
			uint32_t end = seq_min(r->left, snd_max);

			if (seq_lt(pos, end)) {
				if (!lost_above(board, i, 0, mss))
					pipe += end - pos;
				pipe += retransmitted(pos, end, high_rxt);
			}
		}
		pos = seq_max(pos, r->right);
	}
	/* Above the highest SACKed byte nothing is deemed lost. */
	if (seq_lt(pos, snd_max))
		pipe += snd_max - pos + retransmitted(pos, snd_max, high_rxt);
	return pipe;
}

/* NextSeg() rules 1 (lost_only) and 3: the lowest un-SACKed hole at or
 * above max(una, high_rxt) and below the highest SACKed byte. */
static bool
next_hole(const struct tcp_sack_board *board, uint32_t una, uint32_t high_rxt, uint32_t mss,
		bool lost_only, uint32_t *seq, uint32_t *len)
{
	uint32_t start = seq_max(una, high_rxt), pos = una;

	for (unsigned i = 0; i < board->count; i++) {
		const struct tcp_sack_block *r = &board->ranges[i];
		uint32_t s = seq_max(pos, start);

		if (seq_lt(s, r->left)) {
			/* Lower holes have more SACKed above them: once one
			 * is not lost, none above it is. */
			if (lost_only && !lost_above(board, i, 0, mss))
				return false;
			*seq = s;
			*len = r->left - s;
			return true;
		}
		pos = seq_max(pos, r->right);
	}
	return false;
}

bool
tcp_sack_board_next_lost(const struct tcp_sack_board *board, uint32_t una,
		uint32_t high_rxt, uint32_t mss, uint32_t *seq, uint32_t *len)
{
	return next_hole(board, una, high_rxt, mss, true, seq, len);
}

bool
tcp_sack_board_next_hole(const struct tcp_sack_board *board, uint32_t una,
		uint32_t high_rxt, uint32_t *seq, uint32_t *len)
{
	return next_hole(board, una, high_rxt, 0, false, seq, len);
}

uint32_t
tcp_sack_board_top_unsacked(const struct tcp_sack_board *board, uint32_t una, uint32_t snd_max)
{
	const struct tcp_sack_block *top;

	if (board->count == 0)
		return seq_lt(una, snd_max) ? snd_max : una;
	top = &board->ranges[board->count - 1];
	if (seq_lt(top->right, snd_max))
		return snd_max;
	/* The ranges are not adjacent and lie above una: below the top one
	 * is a hole. */
	return top->left;
}
