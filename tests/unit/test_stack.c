/* dataplane/stack.c: the local-port choice for connections a worker opens,
 * checked against worker_flow_owner() (the function the hand-off and RSS
 * placement use) for both directions of each flow. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dataplane/stack.h"
#include "dataplane/worker.h"

#define LOCAL_IP 0x0a4d0402u  /* 10.77.4.2 */
#define REMOTE_IP 0x0a4d0401u /* 10.77.4.1 */

static void
test_ports_hash_to_their_worker(void **state)
{
	(void)state;
	for (unsigned n_workers = 2; n_workers <= 5; n_workers++) {
		for (unsigned index = 0; index < n_workers; index++) {
			uint32_t cursor = index * 7919u;
			uint16_t previous = 0;

			for (int k = 0; k < 300; k++) {
				uint16_t port = 0;

				assert_int_equal(stack_port_for_worker(LOCAL_IP, REMOTE_IP, 9001,
							index, n_workers, 49152, 65535, &cursor, &port), 0);
				assert_true(port >= 49152);
				/* Replies (remote -> local) and our segments (local ->
				 * remote) both belong to this worker. */
				assert_int_equal(worker_flow_owner(REMOTE_IP, LOCAL_IP, 9001, port,
							n_workers), index);
				assert_int_equal(worker_flow_owner(LOCAL_IP, REMOTE_IP, port, 9001,
							n_workers), index);
				assert_int_not_equal(port, previous);
				previous = port;
			}
		}
	}
}

static void
test_single_worker_takes_every_port(void **state)
{
	uint32_t cursor = 0;
	uint16_t port;

	(void)state;
	for (uint16_t expect = 1000; expect <= 1003; expect++) {
		assert_int_equal(stack_port_for_worker(LOCAL_IP, REMOTE_IP, 443, 0, 1,
					1000, 1003, &cursor, &port), 0);
		assert_int_equal(port, expect);
	}
	/* The cursor wraps around the range. */
	assert_int_equal(stack_port_for_worker(LOCAL_IP, REMOTE_IP, 443, 0, 1,
				1000, 1003, &cursor, &port), 0);
	assert_int_equal(port, 1000);
}

static void
test_no_port_qualifies(void **state)
{
	uint32_t cursor = 0;
	uint16_t port = 0, other;
	unsigned owner;

	(void)state;
	/* A one-port range whose only port belongs to the other worker. */
	owner = worker_flow_owner(REMOTE_IP, LOCAL_IP, 443, 50000, 2);
	assert_int_equal(stack_port_for_worker(LOCAL_IP, REMOTE_IP, 443, 1 - owner, 2,
				50000, 50000, &cursor, &port), -EADDRNOTAVAIL);
	assert_int_equal(stack_port_for_worker(LOCAL_IP, REMOTE_IP, 443, owner, 2,
				50000, 50000, &cursor, &other), 0);
	assert_int_equal(other, 50000);
	/* Port 0 and an empty range are refused. */
	assert_int_equal(stack_port_for_worker(LOCAL_IP, REMOTE_IP, 443, 0, 1, 0, 10,
				&cursor, &port), -EADDRNOTAVAIL);
	assert_int_equal(stack_port_for_worker(LOCAL_IP, REMOTE_IP, 443, 0, 1, 10, 9,
				&cursor, &port), -EADDRNOTAVAIL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports_hash_to_their_worker),
		cmocka_unit_test(test_single_worker_takes_every_port),
		cmocka_unit_test(test_no_port_qualifies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
