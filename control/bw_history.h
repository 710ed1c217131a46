/* The relay's observed bandwidth, as tor measures it for the third value of
 * the descriptor's "bandwidth" line (dir-spec 2.1.1 "bandwidth-observed";
 * tor 0.4.9 feature/stats/bwhist.c).
 *
 * Bytes read and written are summed per second; each second the sum of the
 * last 10 seconds is compared with the largest seen in the current period
 * (a day). A period's largest is kept for 5 periods. The observed bandwidth
 * is the smaller of the read and written largest 10-second sums over the
 * kept periods and the current one (the current one only once it has run
 * for min_observation seconds: tor's TestingMinTimeToReportBandwidth, a day,
 * 0 with TestingTorNetwork), divided by 10.
 *
 * Pure: time is passed in, nothing is allocated after create. */
#ifndef HSRELAY_CONTROL_BW_HISTORY_H
#define HSRELAY_CONTROL_BW_HISTORY_H

#include <stdint.h>
#include <time.h>

#define BW_HISTORY_ROLLING_SECONDS 10
#define BW_HISTORY_PERIOD_SECONDS (24 * 60 * 60)
#define BW_HISTORY_PERIODS 5

/* One direction (tor's bw_array_t). */
struct bw_history_array {
	uint64_t obs[BW_HISTORY_ROLLING_SECONDS];	/* bytes per second */
	unsigned cur_obs_idx;
	time_t cur_obs_time;
	uint64_t total_obs;		/* the other seconds of the window */
	uint64_t max_total;		/* largest window this period */
	time_t next_period;
	uint64_t maxima[BW_HISTORY_PERIODS];
	unsigned next_max_idx;
};

struct bw_history {
	struct bw_history_array read, written;
	/* The cumulative counters last passed to bw_history_note_totals(). */
	uint64_t last_read_total, last_written_total;
	int have_totals;
};

/* Starts both directions at now. */
void bw_history_init(struct bw_history *h, time_t now);

/* Adds bytes read and written during second now (tor's
 * bwhist_note_bytes_read/written). A second before the current one is
 * ignored. */
void bw_history_note(struct bw_history *h, time_t now, uint64_t read, uint64_t written);

/* Same from cumulative counters (the workers' totals): the growth since the
 * previous call is noted at now; the first call only records the totals,
 * and totals that went down (a worker restarted) are taken as a new base. */
void bw_history_note_totals(struct bw_history *h, time_t now, uint64_t read_total,
		uint64_t written_total);

/* The observed bandwidth in bytes per second at now (tor's
 * bwhist_bandwidth_assess()); min_observation as above. */
uint64_t bw_history_assess(struct bw_history *h, time_t now, time_t min_observation);

#endif
