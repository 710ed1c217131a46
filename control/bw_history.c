/* Observed bandwidth as tor's bwhist.c measures it (bw_history.h). */
#include "control/bw_history.h"

#include <string.h>

static void
array_init(struct bw_history_array *b, time_t now)
{
	memset(b, 0, sizeof(*b));
	b->cur_obs_time = now;
	b->next_period = now + BW_HISTORY_PERIOD_SECONDS;
}

/* tor's commit_max(): the period's largest window is kept. */
static void
commit_max(struct bw_history_array *b)
{
	b->maxima[b->next_max_idx++] = b->max_total;
	if (b->next_max_idx == BW_HISTORY_PERIODS)
		b->next_max_idx = 0;
	b->next_period += BW_HISTORY_PERIOD_SECONDS;
	b->max_total = 0;
}

/* tor's advance_obs(): closes the current second. */
static void
advance_obs(struct bw_history_array *b)
{
	uint64_t total = b->total_obs + b->obs[b->cur_obs_idx];
	unsigned next = (b->cur_obs_idx + 1) % BW_HISTORY_ROLLING_SECONDS;

	if (total > b->max_total)
		b->max_total = total;
	b->total_obs = total - b->obs[next];
	b->obs[next] = 0;
	b->cur_obs_idx = next;
	if (++b->cur_obs_time >= b->next_period)
		commit_max(b);
}

/* Moves b to second now. A silence longer than the kept history only
 * needs to close the window and the periods it spans, not every second. */
static void
advance_to(struct bw_history_array *b, time_t now)
{
	time_t quiet_after = b->cur_obs_time + BW_HISTORY_ROLLING_SECONDS;

	if (now > quiet_after + (time_t)BW_HISTORY_PERIOD_SECONDS * (BW_HISTORY_PERIODS + 1)) {
		while (b->cur_obs_time < quiet_after)
			advance_obs(b);
		/* Every window from here on is empty: only the periods roll. */
		while (b->next_period <= now) {
			b->cur_obs_time = b->next_period;
			commit_max(b);
		}
		b->cur_obs_time = now;
		return;
	}
	while (b->cur_obs_time < now)
		advance_obs(b);
}

static void
add_obs(struct bw_history_array *b, time_t now, uint64_t n)
{
	if (now < b->cur_obs_time)
		return;
	advance_to(b, now);
	b->obs[b->cur_obs_idx] += n;
}

/* tor's find_largest_max(). */
static uint64_t
largest_max(const struct bw_history_array *b, time_t min_observation)
{
	time_t period_start = b->next_period - BW_HISTORY_PERIOD_SECONDS;
	uint64_t max = b->cur_obs_time > period_start + min_observation ? b->max_total : 0;

	for (unsigned i = 0; i < BW_HISTORY_PERIODS; i++)
		if (b->maxima[i] > max)
			max = b->maxima[i];
	return max;
}

void
bw_history_init(struct bw_history *h, time_t now)
{
	memset(h, 0, sizeof(*h));
	array_init(&h->read, now);
	array_init(&h->written, now);
}

void
bw_history_note(struct bw_history *h, time_t now, uint64_t read, uint64_t written)
{
	add_obs(&h->read, now, read);
	add_obs(&h->written, now, written);
}

void
bw_history_note_totals(struct bw_history *h, time_t now, uint64_t read_total,
		uint64_t written_total)
{
	if (h->have_totals && read_total >= h->last_read_total &&
			written_total >= h->last_written_total)
		bw_history_note(h, now, read_total - h->last_read_total,
				written_total - h->last_written_total);
	h->last_read_total = read_total;
	h->last_written_total = written_total;
	h->have_totals = 1;
}

uint64_t
bw_history_assess(struct bw_history *h, time_t now, time_t min_observation)
{
	uint64_t r, w;

	add_obs(&h->read, now, 0);
	add_obs(&h->written, now, 0);
	r = largest_max(&h->read, min_observation);
	w = largest_max(&h->written, min_observation);
	return (r < w ? r : w) / BW_HISTORY_ROLLING_SECONDS;
}
