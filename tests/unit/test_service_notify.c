/* control/service_notify.c: the sd_notify datagrams a service manager
 * receives, read from a unix datagram socket the test binds and names in
 * NOTIFY_SOCKET (as systemd does), and the no-op without it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/service_notify.h"

struct listener {
	int fd;
	char path[108];
};

static void
listen_notify(struct listener *l, bool abstract)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval timeout = { .tv_sec = 5 };
	socklen_t len;

	l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(l->fd >= 0);
	if (abstract) {
		/* "@name" in NOTIFY_SOCKET is the abstract namespace. */
		snprintf(l->path, sizeof(l->path), "@hsrelay-test-notify-%d", (int)getpid());
		memcpy(sun.sun_path + 1, l->path + 1, strlen(l->path) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(l->path));
	} else {
		snprintf(l->path, sizeof(l->path), "/tmp/hsrelay-test-notify-%d", (int)getpid());
		unlink(l->path);
		strcpy(sun.sun_path, l->path);
		len = sizeof(sun);
	}
	assert_int_equal(bind(l->fd, (struct sockaddr *)&sun, len), 0);
	setsockopt(l->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	assert_int_equal(setenv("NOTIFY_SOCKET", l->path, 1), 0);
}

static void
close_notify(struct listener *l)
{
	close(l->fd);
	if (l->path[0] == '/')
		unlink(l->path);
	unsetenv("NOTIFY_SOCKET");
}

/* The next datagram as a string. */
static void
receive(struct listener *l, char *out, size_t out_len)
{
	ssize_t n = recv(l->fd, out, out_len - 1, 0);

	if (n < 0)
		fail_msg("no notification: %s", strerror(errno));
	out[n] = '\0';
}

static void
test_ready_and_the_rest(void **state)
{
	struct listener l;
	char msg[2048];
	unsigned long long usec;

	(void)state;
	listen_notify(&l, false);
	assert_int_equal(service_notify_ready(), 1);
	receive(&l, msg, sizeof(msg));
	assert_string_equal(msg, "READY=1");

	assert_int_equal(service_notify_status("relaying on %d workers\nline two", 2), 1);
	receive(&l, msg, sizeof(msg));
	assert_string_equal(msg, "STATUS=relaying on 2 workers line two");

	assert_int_equal(service_notify_reloading(), 1);
	receive(&l, msg, sizeof(msg));
	assert_int_equal(sscanf(msg, "RELOADING=1\nMONOTONIC_USEC=%llu", &usec), 1);
	assert_true(usec > 0);

	assert_int_equal(service_notify_stopping(), 1);
	receive(&l, msg, sizeof(msg));
	assert_string_equal(msg, "STOPPING=1");

	/* The environment is kept for later notifications. */
	assert_non_null(getenv("NOTIFY_SOCKET"));
	close_notify(&l);
}

static void
test_abstract_socket(void **state)
{
	struct listener l;
	char msg[64];

	(void)state;
	listen_notify(&l, true);
	assert_int_equal(service_notify_ready(), 1);
	receive(&l, msg, sizeof(msg));
	assert_string_equal(msg, "READY=1");
	close_notify(&l);
}

static void
test_without_notify_socket(void **state)
{
	char long_status[2048];

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(service_notify_ready(), 0);
	assert_int_equal(service_notify_status("x"), 0);
	assert_int_equal(service_notify_reloading(), 0);
	assert_int_equal(service_notify_stopping(), 0);
	memset(long_status, 'x', sizeof(long_status) - 1);
	long_status[sizeof(long_status) - 1] = '\0';
	assert_int_equal(service_notify_status("%s", long_status), -EINVAL);
}

static void
test_socket_gone(void **state)
{
	(void)state;
	/* A manager that went away: the error is reported, not hidden. */
	assert_int_equal(setenv("NOTIFY_SOCKET", "/tmp/hsrelay-test-notify-none/x", 1), 0);
	assert_true(service_notify_ready() < 0);
	unsetenv("NOTIFY_SOCKET");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_and_the_rest),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_without_notify_socket),
		cmocka_unit_test(test_socket_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
