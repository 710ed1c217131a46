/* The general overload signal; see overload.h. */
#include "control/overload.h"

#include <stdio.h>

bool
overload_note_general(struct overload *o, time_t now)
{
	/* tor SET_TO_START_OF_HOUR(). */
	time_t hour = now - now % 3600;
	bool changed = o->general != hour;

	o->general = hour;
	return changed;
}

size_t
overload_general_line(const struct overload *o, time_t now, char line[OVERLOAD_GENERAL_LINE_MAX])
{
	struct tm tm;
	int n;

	line[0] = '\0';
	/* tor overload_happened_recently(): strictly within the last 72 h. */
	if (o->general == 0 || o->general <= now - OVERLOAD_GENERAL_KEEP)
		return 0;
	if (gmtime_r(&o->general, &tm) == NULL)
		return 0;
	n = snprintf(line, OVERLOAD_GENERAL_LINE_MAX,
			"overload-general %d %04d-%02d-%02d %02d:%02d:%02d\n", OVERLOAD_STATS_VERSION,
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			tm.tm_sec);
	if (n < 0 || n >= OVERLOAD_GENERAL_LINE_MAX) {
		line[0] = '\0';
		return 0;
	}
	return (size_t)n;
}
