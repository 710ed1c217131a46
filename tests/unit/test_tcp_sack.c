/* The sender's SACK scoreboard (dataplane/tcp_sack.h): worked cases from
 * RFC 6675's definitions, then random ACK streams checked byte by byte
 * against a bitmap model of the same rules, across sequence wrap-around. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/tcp_sack.h"

static void
add(struct tcp_sack_board *b, uint32_t una, uint32_t snd_max, uint32_t left, uint32_t right,
		uint32_t expect_added)
{
	struct tcp_sack_block block = { .left = left, .right = right };

	assert_int_equal(tcp_sack_board_update(b, una, snd_max, &block, 1), expect_added);
}

static void
expect_ranges(const struct tcp_sack_board *b, unsigned n, const uint32_t *edges)
{
	assert_int_equal(b->count, n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(b->ranges[i].left, edges[2 * i]);
		assert_int_equal(b->ranges[i].right, edges[2 * i + 1]);
	}
}

static void
test_update_merges_and_rejects(void **state)
{
	struct tcp_sack_board b;

	(void)state;
	tcp_sack_board_clear(&b);
	add(&b, 1000, 10000, 3000, 4000, 1000);
	add(&b, 1000, 10000, 5000, 6000, 1000);
	expect_ranges(&b, 2, (const uint32_t[]){ 3000, 4000, 5000, 6000 });
	/* Repeated: nothing new. */
	add(&b, 1000, 10000, 3000, 4000, 0);
	/* Adjacent on the left of one, overlapping the other: one range. */
	add(&b, 1000, 10000, 4000, 5500, 1000);
	expect_ranges(&b, 1, (const uint32_t[]){ 3000, 6000 });
	/* D-SACK (RFC 2883) at or below SND.UNA: ignored. */
	add(&b, 1000, 10000, 500, 1000, 0);
	/* Straddling SND.UNA: only the part above it counts. */
	add(&b, 1000, 10000, 900, 1500, 500);
	expect_ranges(&b, 2, (const uint32_t[]){ 1000, 1500, 3000, 6000 });
	/* Bogus: empty, reversed, beyond SND.MAX. */
	add(&b, 1000, 10000, 7000, 7000, 0);
	add(&b, 1000, 10000, 8000, 7000, 0);
	add(&b, 1000, 10000, 9000, 10001, 0);
	expect_ranges(&b, 2, (const uint32_t[]){ 1000, 1500, 3000, 6000 });
	/* A cumulative ACK into a range trims it; past it drops it. */
	tcp_sack_board_advance(&b, 1200);
	expect_ranges(&b, 2, (const uint32_t[]){ 1200, 1500, 3000, 6000 });
	tcp_sack_board_advance(&b, 3500);
	expect_ranges(&b, 1, (const uint32_t[]){ 3500, 6000 });
}

static void
test_board_full_forgets_highest(void **state)
{
	struct tcp_sack_board b;

	(void)state;
	tcp_sack_board_clear(&b);
	for (uint32_t i = 0; i < TCP_SACK_BOARD_MAX; i++)
		add(&b, 0, 100000, 1000 + 2000 * i, 2000 + 2000 * i, 1000);
	/* A ninth range above all: not kept, nothing new. */
	add(&b, 0, 100000, 50000, 51000, 0);
	assert_int_equal(b.count, TCP_SACK_BOARD_MAX);
	assert_int_equal(b.ranges[TCP_SACK_BOARD_MAX - 1].right, 2000 + 2000 * 7);
	/* A ninth range below: kept, the highest one goes. */
	add(&b, 0, 100000, 100, 200, 100);
	assert_int_equal(b.count, TCP_SACK_BOARD_MAX);
	assert_int_equal(b.ranges[0].left, 100);
	assert_int_equal(b.ranges[TCP_SACK_BOARD_MAX - 1].right, 2000 + 2000 * 6);
}

/* RFC 6675 IsLost(): three ranges above, or more than 2 * SMSS bytes. */
static void
test_is_lost(void **state)
{
	struct tcp_sack_board b;

	(void)state;
	tcp_sack_board_clear(&b);
	add(&b, 0, 100000, 1000, 3000, 2000);	/* exactly 2 SMSS above 0 */
	assert_false(tcp_sack_board_is_lost(&b, 0, 1000));
	add(&b, 0, 100000, 3000, 3001, 1);	/* one byte more */
	assert_true(tcp_sack_board_is_lost(&b, 0, 1000));
	tcp_sack_board_clear(&b);
	add(&b, 0, 100000, 100, 110, 10);
	add(&b, 0, 100000, 200, 210, 10);
	assert_false(tcp_sack_board_is_lost(&b, 0, 1000));
	add(&b, 0, 100000, 300, 310, 10);	/* three ranges */
	assert_true(tcp_sack_board_is_lost(&b, 0, 1000));
	assert_false(tcp_sack_board_is_lost(&b, 150, 1000));
}

/* A window of 10 segments of 1000 bytes, segments 1 and 4 lost, the rest
 * SACKed: the two holes are lost, pipe is what is retransmitted. */
static void
test_pipe_and_next_lost(void **state)
{
	struct tcp_sack_board b;
	uint32_t seq, len;

	(void)state;
	tcp_sack_board_clear(&b);
	add(&b, 0, 10000, 1000, 3000, 2000);
	add(&b, 0, 10000, 4000, 10000, 6000);
	/* Before any retransmission nothing is in flight: both holes are
	 * lost (8000 and 6000 bytes SACKed above them). */
	assert_int_equal(tcp_sack_board_pipe(&b, 0, 10000, 0, 1000), 0);
	assert_true(tcp_sack_board_next_lost(&b, 0, 0, 1000, &seq, &len));
	assert_int_equal(seq, 0);
	assert_int_equal(len, 1000);
	/* The first hole retransmitted: it is in flight again. */
	assert_int_equal(tcp_sack_board_pipe(&b, 0, 10000, 1000, 1000), 1000);
	assert_true(tcp_sack_board_next_lost(&b, 0, 1000, 1000, &seq, &len));
	assert_int_equal(seq, 3000);
	assert_int_equal(len, 1000);
	assert_false(tcp_sack_board_next_lost(&b, 0, 4000, 1000, &seq, &len));
	/* New data sent above the SACKed bytes is in flight, not lost. */
	assert_int_equal(tcp_sack_board_pipe(&b, 0, 12000, 4000, 1000), 4000);
	/* A hole with little SACKed above it is not lost: in flight. */
	tcp_sack_board_clear(&b);
	add(&b, 0, 10000, 1000, 2000, 1000);
	assert_int_equal(tcp_sack_board_pipe(&b, 0, 10000, 0, 1000), 9000);
	assert_false(tcp_sack_board_next_lost(&b, 0, 0, 1000, &seq, &len));
}

/* The model: one flag per byte of [una, una + SPAN). */
#define SPAN 3000u
#define MSS 100u

struct model {
	uint32_t base;		/* sequence number of byte 0 */
	uint32_t una, snd_max;	/* offsets from base */
	bool sacked[SPAN];
};

static unsigned
model_runs(const struct model *m, uint32_t *lefts, uint32_t *rights)
{
	unsigned n = 0;

	for (uint32_t i = m->una; i < m->snd_max; i++) {
		if (!m->sacked[i] || (i > m->una && m->sacked[i - 1]))
			continue;
		uint32_t j = i;

		while (j < m->snd_max && m->sacked[j])
			j++;
		if (lefts != NULL) {
			lefts[n] = i;
			rights[n] = j;
		}
		n++;
	}
	return n;
}

/* The same rules as tcp_sack_board_update(), byte by byte. */
static uint32_t
model_update(struct model *m, int64_t left, int64_t right)
{
	uint32_t added = 0;
	bool fresh[SPAN] = { false };

	if (left >= right || right > m->snd_max || right <= m->una)
		return 0;
	if (left < m->una)
		left = m->una;
	for (int64_t i = left; i < right; i++) {
		if (!m->sacked[i]) {
			m->sacked[i] = true;
			fresh[i] = true;
			added++;
		}
	}
	uint32_t lefts[SPAN], rights[SPAN];
	unsigned n = model_runs(m, lefts, rights);

	if (n > TCP_SACK_BOARD_MAX) {
		for (uint32_t i = lefts[n - 1]; i < rights[n - 1]; i++) {
			added -= fresh[i];
			m->sacked[i] = false;
		}
	}
	return added;
}

static bool
model_is_lost(const struct model *m, uint32_t seq)
{
	uint32_t bytes = 0;
	unsigned runs = 0;

	for (uint32_t i = seq + 1; i < m->snd_max; i++) {
		bytes += m->sacked[i];
		runs += m->sacked[i] && !m->sacked[i - 1];
	}
	return runs >= TCP_SACK_DUP_THRESH || bytes > (TCP_SACK_DUP_THRESH - 1) * MSS;
}

/* The first hole from max(una, high_rxt) below top (the highest SACKed
 * byte's end) whose first byte is lost (when lost is not NULL): its start
 * and length. */
static bool
model_next_hole(const struct model *m, uint32_t high_rxt, uint32_t top, const bool *lost,
		uint32_t *start, uint32_t *len)
{
	for (uint32_t i = high_rxt > m->una ? high_rxt : m->una; i < top; i++) {
		uint32_t j = i;

		if (m->sacked[i] || (lost != NULL && !lost[i]))
			continue;
		while (j < top && !m->sacked[j])
			j++;
		*start = i;
		*len = j - i;
		return true;
	}
	return false;
}

static void
check_against_model(const struct tcp_sack_board *b, const struct model *m, uint32_t high_rxt)
{
	uint32_t lefts[SPAN], rights[SPAN];
	unsigned n = model_runs(m, lefts, rights);
	uint32_t pipe = 0, top = m->una;
	static bool lost[SPAN];

	/* IsLost() of every byte, from the top down. */
	{
		uint32_t bytes = 0;
		unsigned runs = 0;

		for (uint32_t i = m->snd_max; i-- > m->una;) {
			lost[i] = runs >= TCP_SACK_DUP_THRESH ||
				bytes > (TCP_SACK_DUP_THRESH - 1) * MSS;
			bytes += m->sacked[i];
			runs += m->sacked[i] && (i == m->una || !m->sacked[i - 1]);
		}
	}

	assert_int_equal(b->count, n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(b->ranges[i].left, m->base + lefts[i]);
		assert_int_equal(b->ranges[i].right, m->base + rights[i]);
		top = rights[i];
	}
	/* SetPipe(), byte by byte (RFC 6675 4). */
	for (uint32_t i = m->una; i < m->snd_max; i++) {
		if (m->sacked[i])
			continue;
		pipe += !lost[i];
		pipe += i < high_rxt;
	}
	assert_int_equal(tcp_sack_board_pipe(b, m->base + m->una, m->base + m->snd_max,
			m->base + high_rxt, MSS), pipe);
	/* NextSeg() rules 1 (lost holes) and 3 (any hole). */
	uint32_t seq, len, want, want_len;
	bool found;

	found = model_next_hole(m, high_rxt, top, lost, &want, &want_len);
	assert_int_equal(tcp_sack_board_next_lost(b, m->base + m->una, m->base + high_rxt, MSS,
			&seq, &len), found);
	if (found) {
		assert_int_equal(seq, m->base + want);
		assert_int_equal(len, want_len);
	}
	found = model_next_hole(m, high_rxt, top, NULL, &want, &want_len);
	assert_int_equal(tcp_sack_board_next_hole(b, m->base + m->una, m->base + high_rxt,
			&seq, &len), found);
	if (found) {
		assert_int_equal(seq, m->base + want);
		assert_int_equal(len, want_len);
	}
	/* NextSeg() rule 4: one past the highest un-SACKed byte. */
	want = m->una;
	for (uint32_t i = m->snd_max; i-- > m->una;) {
		if (!m->sacked[i]) {
			want = i + 1;
			break;
		}
	}
	assert_int_equal(tcp_sack_board_top_unsacked(b, m->base + m->una, m->base + m->snd_max),
			m->base + want);
	/* IsLost() and the bytes above a few un-SACKed bytes. */
	for (uint32_t i = m->una; i < m->snd_max; i += 37) {
		uint32_t above = 0;

		if (m->sacked[i])
			continue;
		for (uint32_t j = i; j < m->snd_max; j++)
			above += m->sacked[j];
		assert_int_equal(tcp_sack_board_bytes_above(b, m->base + i), above);
		assert_int_equal(tcp_sack_board_is_lost(b, m->base + i, MSS), model_is_lost(m, i));
	}
}

static void
test_random_against_model(void **state)
{
	/* Bases near the wrap of the sequence space and away from it. */
	static const uint32_t bases[] = { 0, UINT32_MAX - 1500, 0x7fffff00u, 123456789u };

	(void)state;
	srand(6675);
	for (unsigned t = 0; t < sizeof(bases) / sizeof(bases[0]); t++) {
		struct model *m = calloc(1, sizeof(*m));
		struct tcp_sack_board b;
		uint32_t high_rxt = 0;

		assert_non_null(m);
		m->base = bases[t];
		m->una = 0;
		m->snd_max = SPAN / 2;
		tcp_sack_board_clear(&b);
		for (unsigned step = 0; step < 3000; step++) {
			int r = rand() % 16;

			if (m->una > SPAN / 2) {
				/* Slide the model's window; the board is in
				 * sequence numbers and stays as it is. */
				uint32_t d = m->una;

				memmove(m->sacked, m->sacked + d, SPAN - d);
				memset(m->sacked + SPAN - d, 0, d);
				m->base += d;
				m->una = 0;
				m->snd_max -= d;
				high_rxt = high_rxt > d ? high_rxt - d : 0;
			}
			if (r == 0 && m->una < m->snd_max) {
				/* A cumulative ACK. */
				uint32_t room = m->snd_max - m->una;

				m->una += (uint32_t)rand() % (room < 4 * MSS ? room + 1 : 4 * MSS);
				tcp_sack_board_advance(&b, m->base + m->una);
			} else if (r == 1 && m->snd_max < SPAN) {
				/* New data sent. */
				uint32_t room = SPAN - m->snd_max;

				m->snd_max += (uint32_t)rand() % (room < 5 * MSS ? room + 1 : 5 * MSS);
			} else if (r == 2) {
				high_rxt = m->una + (uint32_t)rand() % (m->snd_max - m->una + 1);
			} else {
				/* An ACK with up to 4 blocks, some bogus, some
				 * below SND.UNA, some past SND.MAX. */
				struct tcp_sack_block blocks[TCP_SACK_BLOCKS_MAX];
				unsigned nb = 1 + (unsigned)rand() % TCP_SACK_BLOCKS_MAX;
				uint32_t want = 0;

				for (unsigned k = 0; k < nb; k++) {
					int64_t left = (int64_t)m->una - 200 + rand() % (int)(SPAN - m->una + 200);
					/* Short blocks, so that the board fills up;
					 * one in 12 empty or reversed. */
					int64_t right = left + rand() % (MSS + MSS / 10) - MSS / 10;

					if (right > SPAN - 1)
						right = SPAN - 1;
					if (left < 0)
						left = 0;
					blocks[k] = (struct tcp_sack_block){
						.left = m->base + (uint32_t)left,
						.right = m->base + (uint32_t)right,
					};
					want += model_update(m, left, right);
				}
				assert_int_equal(tcp_sack_board_update(&b, m->base + m->una,
						m->base + m->snd_max, blocks, nb), want);
			}
			check_against_model(&b, m, high_rxt < m->una ? m->una : high_rxt);
		}
		free(m);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_merges_and_rejects),
		cmocka_unit_test(test_board_full_forgets_highest),
		cmocka_unit_test(test_is_lost),
		cmocka_unit_test(test_pipe_and_next_lost),
		cmocka_unit_test(test_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
