/* Service manager notifications (systemd's sd_notify protocol) for a unit
 * of Type=notify: hsrelay says when it is ready to serve, what it is doing,
 * and when it reloads or stops.
 *
 * Every function is a no-op returning 0 when NOTIFY_SOCKET is unset (not
 * started by a service manager, or Type=simple), so callers never need to
 * check. Sending is a datagram to a local socket: cheap, but still the
 * control thread's business, never a worker's.
 */
#ifndef HSRELAY_CONTROL_SERVICE_NOTIFY_H
#define HSRELAY_CONTROL_SERVICE_NOTIFY_H

/* "READY=1": start-up finished (the relay listens). Returns 1 when sent,
 * 0 without NOTIFY_SOCKET, or a negative errno. */
int service_notify_ready(void);

/* "STATUS=<text>" (printf-style): one line shown by systemctl status;
 * newlines in the text become spaces. Returns as service_notify_ready(),
 * -EINVAL for a text over 1 KiB. */
int service_notify_status(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* "RELOADING=1" with MONOTONIC_USEC (systemd 253's Type=notify-reload
 * wants the clock; older managers ignore it): the configuration is being
 * reloaded; send service_notify_ready() when done. */
int service_notify_reloading(void);

/* "STOPPING=1": shutdown has begun. */
int service_notify_stopping(void);

#endif
