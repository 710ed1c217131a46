/* dataplane/worker_set.c in-process: EAL on plain memory with a main lcore
 * and two worker lcores (all on CPU 0), and a two-queue port made with
 * rte_eth_from_rings() for each test. Checks the order in which the hooks
 * run against what exists at that moment, that the workers really run and
 * stop, and the failures of each step (with worker_set_destroy() after
 * every one of them). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "control/config.h"
#include "dataplane/stack.h"
#include "dataplane/worker_set.h"

#define N_WORKERS 2
#define RING_SIZE 256

/* What the hooks saw, in call order. */
struct hook_log {
	unsigned n_calls;
	char calls[16][16];		/* "create0", "attach1", "destroy0", ... */
	int fail_create_at;		/* index whose create_app fails, or -1 */
	int apps[N_WORKERS];		/* the application objects handed out */
	bool rings_at_create[N_WORKERS];	/* control/event/hand-off rings existed */
	bool stack_at_attach[N_WORKERS];
	bool stack_at_destroy[N_WORKERS];	/* must be false: stack destroyed first */
	bool pool_at_destroy[N_WORKERS];	/* must be true: mempool still there */
	unsigned polls[N_WORKERS];		/* app poll hook runs on the workers */
};

static struct hook_log hooks;
static struct worker_set set;
static unsigned port_serial;

static void
log_call(const char *what, unsigned index)
{
	assert_true(hooks.n_calls < 16);
	snprintf(hooks.calls[hooks.n_calls++], sizeof(hooks.calls[0]), "%s%u", what, index);
}

static int
create_app(void *arg, struct worker_set *s, unsigned i, void **app_arg)
{
	assert_ptr_equal(arg, &hooks);
	log_call("create", i);
	hooks.rings_at_create[i] = s->control[i] && s->events[i] && s->handoff[i] &&
			s->arp_rings[i] && s->pools[i];
	if ((int)i == hooks.fail_create_at)
		return -ENOSPC;
	*app_arg = &hooks.apps[i];
	return 0;
}

static int
attach_app(void *arg, struct worker_set *s, unsigned i)
{
	(void)arg;
	log_call("attach", i);
	hooks.stack_at_attach[i] = s->stacks[i] != NULL;
	return 0;
}

static void
destroy_app(void *arg, unsigned i)
{
	(void)arg;
	log_call("destroy", i);
	hooks.stack_at_destroy[i] = set.stacks[i] != NULL;
	hooks.pool_at_destroy[i] = set.pools[i] != NULL;
}

static void
app_events(void *app, struct stack *stack, const struct tcp_event *ev, unsigned n,
		uint64_t now)
{
	(void)app;
	(void)stack;
	(void)ev;
	(void)n;
	(void)now;
}

/* Iterations of each worker that report work, then idle ones. */
#define BUSY_POLLS 10

/* Counts the loop iterations of each worker (on the worker's lcore); the
 * first BUSY_POLLS say they worked. */
static unsigned
app_poll(void *app, struct stack *stack, uint64_t now)
{
	(void)now;
	/* No cmocka assertion here: this runs on a worker lcore. */
	if (app != &hooks.apps[stack_index(stack)])
		return 0;
	return __atomic_fetch_add(&hooks.polls[stack_index(stack)], 1, __ATOMIC_RELAXED) <
		BUSY_POLLS;
}

static const struct stack_app_ops app_ops = {
	.events = app_events,
	.poll = app_poll,
};

static struct config_dpdk dpdk;
static struct worker_set_config config;

/* A fresh ring port (a closed one cannot be started again) and the
 * configuration of a set on it. */
static int
setup(void **state)
{
	struct rte_ring *rx[N_WORKERS], *tx[N_WORKERS];
	char name[32];

	(void)state;
	port_serial++;
	for (unsigned i = 0; i < N_WORKERS; i++) {
		snprintf(name, sizeof(name), "rx%u_%u", port_serial, i);
		rx[i] = rte_ring_create(name, RING_SIZE, SOCKET_ID_ANY,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "tx%u_%u", port_serial, i);
		tx[i] = rte_ring_create(name, RING_SIZE, SOCKET_ID_ANY,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!rx[i] || !tx[i])
			return -1;
	}
	snprintf(name, sizeof(name), "ws%u", port_serial);
	if (rte_eth_from_rings(name, rx, N_WORKERS, tx, N_WORKERS, 0) < 0)
		return -1;
	memset(&dpdk, 0, sizeof(dpdk));
	dpdk.n_ports = 1;
	/* The ring PMD names the port "net_ring_" + the given name. */
	snprintf(dpdk.ports[0].spec, sizeof(dpdk.ports[0].spec), "net_ring_ws%u", port_serial);
	dpdk.worker_queues = N_WORKERS;
	dpdk.mbufs_per_worker = 1023;
	dpdk.idle_polls = 4;
	dpdk.idle_sleep_usec = 100;
	dpdk.has_address = true;
	dpdk.address = 0x0a000002;
	dpdk.prefix_len = 24;
	dpdk.arp_timeout_sec = 60;
	config = (struct worker_set_config){
		.name = "test_worker_set",
		.dpdk = &dpdk,
		.n_workers = N_WORKERS,
		.ring_size = RING_SIZE,
		.message_ring_size = 64,
		.port_desc = 128,
		.arp_retry_ns = 1000000000ull,
		.max_tcp_connections = 16,
		.app = &app_ops,
		.hooks = { create_app, attach_app, destroy_app },
		.hooks_arg = &hooks,
	};
	memset(&hooks, 0, sizeof(hooks));
	hooks.fail_create_at = -1;
	memset(&set, 0, sizeof(set));
	return 0;
}

static void
assert_calls(const char *const *want, unsigned n)
{
	assert_int_equal(hooks.n_calls, n);
	for (unsigned i = 0; i < n; i++)
		assert_string_equal(hooks.calls[i], want[i]);
}

static void
test_lifecycle(void **state)
{
	static const char *const set_up[] = { "create0", "attach0", "create1", "attach1" };
	static const char *const all[] = { "create0", "attach0", "create1", "attach1",
		"destroy0", "destroy1" };

	(void)state;
	assert_int_equal(worker_set_start_port(&set, &config), 0);
	assert_true(set.port_started);
	assert_int_equal(set.n_workers, N_WORKERS);
	assert_int_equal(set.port.n_queues, N_WORKERS);
	for (unsigned i = 0; i < N_WORKERS; i++) {
		assert_non_null(set.pools[i]);
		assert_int_not_equal(set.lcores[i], rte_get_main_lcore());
	}
	assert_int_not_equal(set.lcores[0], set.lcores[1]);
	assert_int_equal(hooks.n_calls, 0);

	assert_int_equal(worker_set_create_workers(&set), 0);
	assert_calls(set_up, 4);
	for (unsigned i = 0; i < N_WORKERS; i++) {
		assert_true(hooks.rings_at_create[i]);
		assert_true(hooks.stack_at_attach[i]);
		assert_ptr_equal(set.apps[i], &hooks.apps[i]);
		assert_non_null(set.workers[i]);
		assert_int_equal(stack_index(set.stacks[i]), i);
		assert_int_equal(stack_local_ip(set.stacks[i]), 0x0a000002);
	}

	assert_int_equal(worker_set_launch(&set), 0);
	for (unsigned i = 0; i < N_WORKERS; i++)
		assert_true(set.launched[i]);
	/* Both workers loop on their lcores until told to stop, busy for
	 * BUSY_POLLS iterations, then idle. */
	for (int wait = 0; wait < 5000; wait++) {
		if (__atomic_load_n(&hooks.polls[0], __ATOMIC_RELAXED) > 4 * BUSY_POLLS &&
		    __atomic_load_n(&hooks.polls[1], __ATOMIC_RELAXED) > 4 * BUSY_POLLS)
			break;
		rte_delay_us_sleep(1000);
	}
	assert_true(hooks.polls[0] > 4 * BUSY_POLLS && hooks.polls[1] > 4 * BUSY_POLLS);
	/* Readable while they run, and only growing. */
	for (unsigned i = 0; i < N_WORKERS; i++) {
		uint64_t busy0, poll0, busy1, poll1;

		worker_cycles(set.workers[i], &busy0, &poll0);
		rte_delay_us_sleep(2000);
		worker_cycles(set.workers[i], &busy1, &poll1);
		assert_true(busy1 >= busy0 && poll1 > poll0);
	}
	worker_set_stop(&set);
	/* Loop time: the busy iterations' share is part of all of it, and
	 * the idle ones (spinning before each sleep) are the rest. */
	for (unsigned i = 0; i < N_WORKERS; i++) {
		const struct worker_counters *c = worker_counters(set.workers[i]);
		uint64_t busy, poll;

		worker_cycles(set.workers[i], &busy, &poll);
		assert_int_equal(busy, c->busy_cycles);
		assert_int_equal(poll, c->poll_cycles);
		assert_true(busy > 0);
		assert_true(poll > busy);
		assert_true(c->idle_sleeps > 0);
	}
	for (unsigned i = 0; i < N_WORKERS; i++) {
		assert_false(set.launched[i]);
		assert_true(worker_stopping(set.workers[i]));
		assert_int_equal(rte_eal_get_lcore_state(set.lcores[i]), WAIT);
	}

	worker_set_destroy(&set);
	assert_calls(all, 6);
	for (unsigned i = 0; i < N_WORKERS; i++) {
		assert_false(hooks.stack_at_destroy[i]);
		assert_true(hooks.pool_at_destroy[i]);
		assert_null(set.pools[i]);
		assert_null(set.control[i]);
		assert_null(set.workers[i]);
	}
	assert_false(set.port_started);
	/* The mempools' names are free again. */
	assert_null(rte_mempool_lookup("pool0"));
}

static void
test_not_one_port(void **state)
{
	(void)state;
	dpdk.n_ports = 2;
	assert_int_equal(worker_set_start_port(&set, &config), -EINVAL);
	assert_false(set.port_started);
	worker_set_destroy(&set);
	assert_int_equal(hooks.n_calls, 2);	/* destroy0, destroy1: nothing made */
}

static void
test_too_few_lcores(void **state)
{
	(void)state;
	config.n_workers = N_WORKERS + 1;
	assert_int_equal(worker_set_start_port(&set, &config), -EINVAL);
	assert_null(set.pools[0]);
	worker_set_destroy(&set);
}

static void
test_unknown_port(void **state)
{
	(void)state;
	snprintf(dpdk.ports[0].spec, sizeof(dpdk.ports[0].spec), "net_ring_nothing");
	assert_int_equal(worker_set_start_port(&set, &config), -ENODEV);
	worker_set_destroy(&set);
}

/* An application that cannot be made stops the set-up there; destroy
 * frees the worker that was made and is called for every index. */
static void
test_create_app_fails(void **state)
{
	static const char *const want[] = { "create0", "attach0", "create1", "destroy0",
		"destroy1" };

	(void)state;
	hooks.fail_create_at = 1;
	assert_int_equal(worker_set_start_port(&set, &config), 0);
	assert_int_equal(worker_set_create_workers(&set), -ENOSPC);
	assert_non_null(set.stacks[0]);
	assert_null(set.stacks[1]);
	assert_null(set.workers[0]);
	worker_set_destroy(&set);
	assert_calls(want, 5);
	assert_false(hooks.stack_at_destroy[0]);
	assert_null(rte_mempool_lookup("pool1"));
}

int
main(void)
{
	char *argv[] = { "test_worker_set", "--lcores=0@0,1@0,2@0", "--no-huge", "-m", "256",
		"--no-pci", "--no-shconf", "--log-level=lib.eal:error", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_lifecycle, setup),
		cmocka_unit_test_setup(test_not_one_port, setup),
		cmocka_unit_test_setup(test_too_few_lcores, setup),
		cmocka_unit_test_setup(test_unknown_port, setup),
		cmocka_unit_test_setup(test_create_app_fails, setup),
	};
	int rc;

	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_eal_cleanup();
	return rc;
}
