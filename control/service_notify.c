#include "control/service_notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>

/* sd_notify() returns 0 when NOTIFY_SOCKET is unset, > 0 when sent and a
 * negative errno on failure: the contract of this module as well. The
 * environment is kept (unset_environment 0) so that later notifications
 * still find the socket. */
static int
notify(const char *state)
{
	int rc = sd_notify(0, state);

	return rc > 0 ? 1 : rc;
}

int
service_notify_ready(void)
{
	return notify("READY=1");
}

int
service_notify_status(const char *fmt, ...)
{
	char state[1024 + sizeof("STATUS=")];
	va_list ap;
	int n;

	n = snprintf(state, sizeof(state), "STATUS=");
	va_start(ap, fmt);
	n = vsnprintf(state + n, sizeof(state) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n > 1024)
		return -EINVAL;
	/* One assignment per line in the protocol. */
	for (char *c = state; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	return notify(state);
}

int
service_notify_reloading(void)
{
	char state[64];
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
			(unsigned long long)now.tv_sec * 1000000ull +
			(unsigned long long)now.tv_nsec / 1000);
	return notify(state);
}

int
service_notify_stopping(void)
{
	return notify("STOPPING=1");
}
