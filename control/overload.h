/* The relay's general overload signal (dir-spec "overload-general"; tor
 * rephist.c rep_hist_note_overload(OVERLOAD_GENERAL) and
 * rep_hist_get_overload_general_line()): when the relay last had to shed
 * load, rounded down to the hour, published in the server descriptor for
 * 72 hours so that clients and the Tor metrics can see it.
 *
 * What counts, as in tor: the out-of-memory handler killing circuits (the
 * workers' queue memory full, tor's MaxMemInQueues) and TCP source port
 * exhaustion on connects. tor's third trigger, more than
 * overload_onionskin_ntor_scale_percent of ntor onionskins dropped from
 * its cpuworker queue, has no counterpart: hsrelay answers every CREATE2
 * on the control thread, it has no queue to drop from.
 *
 * Pure and single-threaded (the control thread); time is injected. */
#ifndef HSRELAY_CONTROL_OVERLOAD_H
#define HSRELAY_CONTROL_OVERLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* tor's OVERLOAD_STATS_VERSION. */
#define OVERLOAD_STATS_VERSION 1
/* How long an overload stays in the descriptor (tor: 72 hours). */
#define OVERLOAD_GENERAL_KEEP (72 * 3600)
/* "overload-general 1 YYYY-MM-DD HH:MM:SS\n" and its NUL. */
#define OVERLOAD_GENERAL_LINE_MAX 48

struct overload {
	time_t general;		/* start of the hour of the last one; 0: none */
};

/* An overload at now. Returns true when this changes what
 * overload_general_line() says (a new hour), so that the caller may
 * publish it. */
bool overload_note_general(struct overload *overload, time_t now);

/* The descriptor line for now (with its newline) into line, or "" when
 * the last overload is older than 72 hours or there was none. Returns
 * its length. */
size_t overload_general_line(const struct overload *overload, time_t now,
		char line[OVERLOAD_GENERAL_LINE_MAX]);

#endif
