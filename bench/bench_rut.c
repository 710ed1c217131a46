/* tor and hsrelay as relays under test: see bench_rut.h. */
#include "bench/bench_rut.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_env.h"
#include "bench/bench_util.h"
#include "control/relay_keys.h"
#include "crypto/tor_keys.h"

#define START_TIMEOUT_NS (60ull * 1000000000)
#define STOP_TIMEOUT_NS (10ull * 1000000000)
#define MEMIF_CONNECT_TIMEOUT_NS (5ull * 1000000000)
#define MEMIF_START_ATTEMPTS 3
#define CYCLES_TIMEOUT_NS (2ull * 1000000000)

/* Both relays run their rate limiters, as relays with public peers do
 * (TestingTorNetwork counts these internal addresses too: tor's
 * CountPrivateBandwidth default there), at tor's highest rate so that the
 * limit never binds: each pays its limiter's per-read and per-write cost
 * (tor: about 8 % of its cells per CPU-second on this bench, measured
 * against CountPrivateBandwidth 0). */
#define BENCH_BANDWIDTH "BandwidthRate 2 GBytes\nBandwidthBurst 2 GBytes\n"

/* Never contacted (PublishServerDescriptor 0); TestingTorNetwork needs a
 * non-default authority list. */
static const char fake_authority[] =
	"DirAuthority fakeauth orport=9 no-v2 v3ident=0000000000000000000000000000000000000000 "
	BENCH_NS_ADDR ":9 0000000000000000000000000000000000000000\n";

static const char *const transport_names[] = {
	[BENCH_TRANSPORT_TAP] = "tap", [BENCH_TRANSPORT_AF_PACKET] = "af_packet",
	[BENCH_TRANSPORT_MEMIF] = "memif", [BENCH_TRANSPORT_MEMIF_DIRECT] = "memif-direct",
};

const char *
bench_transport_name(enum bench_transport t)
{
	return transport_names[t];
}

int
bench_transport_parse(const char *name, enum bench_transport *out)
{
	for (unsigned t = 0; t < sizeof(transport_names) / sizeof(transport_names[0]); t++) {
		if (strcmp(name, transport_names[t]) == 0) {
			*out = (enum bench_transport)t;
			return 0;
		}
	}
	return -EINVAL;
}

static uint32_t
ipv4_host(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | (uint32_t)d;
}

void
bench_rut_init(struct bench_rut *r, enum bench_rut_kind kind, const char *work)
{
	const char *name = kind == BENCH_RUT_TOR ? "tor" : "hsrelay";

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	snprintf(r->dir, sizeof(r->dir), "%s/%s-data", work, name);
	snprintf(r->log, sizeof(r->log), "%s/%s.log", work, name);
	snprintf(r->notice_log, sizeof(r->notice_log), "%s/%s-notice.log", work, name);
	r->round_trip_before_ns = -1;
	r->round_trip_after_ns = -1;
}

const char *
bench_rut_name(const struct bench_rut *r)
{
	return r->kind == BENCH_RUT_TOR ? "tor" : "hsrelay";
}

const char *
bench_rut_transport(const struct bench_rut *r, const struct bench_rut_options *o)
{
	return r->kind == BENCH_RUT_TOR ? "loopback" : bench_transport_name(o->transport);
}

static int
tor_start(struct bench_rut *r, const char *work, const struct bench_rut_options *o)
{
	char torrc[PATH_MAX + 16], empty[PATH_MAX + 16], text[4 * PATH_MAX + 4096];
	uint64_t end;

	snprintf(torrc, sizeof(torrc), "%s/torrc", work);
	snprintf(empty, sizeof(empty), "%s/empty", work);
	snprintf(text, sizeof(text),
			"# hsrelay-bench %s: the reference relay\n"
			"DataDirectory %s\n"
			"Nickname benchtor\n"
			"Address " BENCH_NS_ADDR "\n"
			"ORPort " BENCH_NS_ADDR ":%u\n"
			"AssumeReachable 1\n"
			"PublishServerDescriptor 0\n"
			"SocksPort 0\nControlPort 0\nDirPort 0\n"
			"ExitRelay 0\nExitPolicy reject *:*\n"
			"ContactInfo hsrelay-bench\n"
			"TestingTorNetwork 1\n"
			BENCH_BANDWIDTH
			"ExtendAllowPrivateAddresses 1\n"
			"%s"
			"UseDefaultFallbackDirs 0\n"
			"GeoIPFile %s\nGeoIPv6File %s\n"
			"Log notice file %s\n"
			"RunAsDaemon 0\nShutdownWaitLength 0\nSafeLogging 0\n"
			"__OwningControllerProcess %d\n"
			"%s",
			o->bench, r->dir, BENCH_TOR_OR_PORT, fake_authority, empty, empty,
			r->notice_log, (int)getpid(), o->tor_extra != NULL ? o->tor_extra : "");
	if (bench_write_file(torrc, text) < 0 || bench_write_file(empty, "") < 0)
		return -EIO;
	char *argv[] = { (char *)o->tor_path, "-f", torrc, "--defaults-torrc", empty, NULL };

	r->pid = bench_spawn(argv, r->log);
	if (r->pid < 0)
		return r->pid;
	/* "Bootstrapped 0%" comes after tor has loaded its keys and made its
	 * TLS context (tests/interop/tls_tor.sh). */
	end = bench_now_ns() + START_TIMEOUT_NS;
	while (!bench_file_contains(r->notice_log, "Bootstrapped 0%")) {
		if (!bench_child_alive(r->pid) || bench_now_ns() > end || bench_interrupted) {
			fprintf(stderr, "hsrelay-bench %s: tor did not start; its log:\n", o->bench);
			bench_print_log_tail(r->log, 20);
			bench_print_log_tail(r->notice_log, 20);
			return -ECHILD;
		}
		bench_sleep_ns(50000000);
	}
	r->ip = ipv4_host(10, 79, 0, 1);
	r->port = BENCH_TOR_OR_PORT;
	return 0;
}

/* af_packet and memif: a veth pair in the namespace. The kernel end is where the
 * namespace routes BENCH_SUBNET (so the same kernel sockets reach hsrelay
 * as on the tap); the other end has no address and belongs to hsrelay's
 * DPDK port. Offloads are off on the kernel end: its frames must carry
 * full checksums and be no larger than the MTU, as on a wire
 * (dpdk-on-ci-machines.md 4). */
static int
veth_make(struct bench_rut *r, const char *bench)
{
	char v6_kernel[64], v6_port[64];

	snprintf(r->kernel_if, sizeof(r->kernel_if), "hsbk%d", (int)getpid() % 10000000);
	snprintf(r->port_if, sizeof(r->port_if), "hsbd%d", (int)getpid() % 10000000);
	snprintf(v6_kernel, sizeof(v6_kernel), "net.ipv6.conf.%s.disable_ipv6=1", r->kernel_if);
	snprintf(v6_port, sizeof(v6_port), "net.ipv6.conf.%s.disable_ipv6=1", r->port_if);
	BENCH_RUN("ip", "link", "del", r->kernel_if);
	if (BENCH_RUN("ip", "link", "add", r->kernel_if, "type", "veth", "peer", "name",
			r->port_if) != 0) {
		fprintf(stderr, "hsrelay-bench %s: could not make the veth pair %s/%s\n", bench,
				r->kernel_if, r->port_if);
		return -EIO;
	}
	r->veth_made = true;
	/* IPv6 off on both ends: no router solicitations or DAD frames for
	 * hsrelay to read. */
	BENCH_RUN("sysctl", "-qw", v6_kernel, v6_port);
	if (BENCH_RUN("ethtool", "-K", r->kernel_if, "tx", "off", "tso", "off", "gso", "off") != 0) {
		fprintf(stderr, "hsrelay-bench %s: ethtool -K %s tx off tso off gso off failed "
				"(ethtool needed)\n", bench, r->kernel_if);
		return -EIO;
	}
	if (BENCH_RUN("ip", "link", "set", r->port_if, "up") != 0 ||
	    BENCH_RUN("ip", "link", "set", r->kernel_if, "up") != 0 ||
	    BENCH_RUN("ip", "route", "replace", BENCH_SUBNET, "dev", r->kernel_if, "src",
		    BENCH_NS_ADDR) != 0) {
		fprintf(stderr, "hsrelay-bench %s: could not route " BENCH_SUBNET " through %s\n",
				bench, r->kernel_if);
		return -EIO;
	}
	return 0;
}

/* DPDKLcores: lcore 0 (control) on CPU 0, worker lcore i on CPU i modulo
 * the CPUs there are, as tests/netns/lib.sh's lcores_for does. */
static void
lcores_spec(unsigned workers, char *out, size_t len)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t used = (size_t)snprintf(out, len, "0@0");

	if (cpus < 1)
		cpus = 1;
	for (unsigned i = 1; i <= workers && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, ",%u@%ld", i, (long)i % cpus);
}

/* memif-direct: starts the generator process for the case in o->ugen (its
 * memif server is up when this returns 0), with its lcore on CPU 0 as the
 * bridge's, hsrelay's worker being on CPU 1. */
static int
ugen_start(struct bench_rut *r, const char *work, const struct bench_rut_options *o)
{
	struct bench_ugen_params p = *o->ugen;

	p.rut_ip = ipv4_host(10, 79, 0, 2);
	p.rut_port = BENCH_HS_OR_PORT;
	p.ip = ipv4_host(10, 79, 0, 1);
	p.prefix_len = 24;
	memcpy(p.mac, (const uint8_t[6]){ 0x02, 0x00, 0x00, 0x79, 0x00, 0x01 }, sizeof(p.mac));
	p.idle_sleep_usec = BENCH_HELPER_IDLE_SLEEP_USEC;
	snprintf(p.cpus, sizeof(p.cpus), "0");
	return bench_ugen_start(&r->ugen, work, &p);
}

/* memif-direct: waits until hsrelay's memif is connected to the generator
 * (-ENOLINK when it never is) or the generator fails. */
static int
ugen_wait_linked(struct bench_rut *r, const struct bench_rut_options *o)
{
	uint64_t end = bench_now_ns() + MEMIF_CONNECT_TIMEOUT_NS;
	int rc;

	while ((rc = bench_ugen_wait_state(&r->ugen, BENCH_UGEN_LINKED, 10000000)) == -ETIMEDOUT &&
	       bench_now_ns() < end && !bench_interrupted)
		;
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "hsrelay-bench %s: hsrelay's memif did not connect to the "
				"generator; hsrelay's log:\n", o->bench);
		bench_print_log_tail(r->log, 20);
		return -ENOLINK;
	}
	if (rc < 0) {
		fprintf(stderr, "hsrelay-bench %s: the generator failed; its log:\n", o->bench);
		bench_ugen_print_log(&r->ugen);
	}
	return rc;
}

static int
hsrelay_start(struct bench_rut *r, const char *work, const struct bench_rut_options *o)
{
	char conf[PATH_MAX + 16], port[PATH_MAX + 128], lcores[64], text[3 * PATH_MAX + 4096];
	uint64_t end;
	int rc = 0;

	snprintf(conf, sizeof(conf), "%s/hsrelay.conf", work);
	switch (o->transport) {
	case BENCH_TRANSPORT_TAP:
		snprintf(r->port_if, sizeof(r->port_if), "hsbr%d", (int)getpid() % 10000000);
		snprintf(port, sizeof(port), "net_tap0,iface=%s", r->port_if);
		break;
	case BENCH_TRANSPORT_AF_PACKET:
		rc = veth_make(r, o->bench);
		snprintf(port, sizeof(port), "net_af_packet0,iface=%s,qpairs=%u", r->port_if,
				o->workers);
		break;
	case BENCH_TRANSPORT_MEMIF:
		/* The bridge takes the veth end and serves the memif socket
		 * hsrelay connects to as the memif client; it runs on CPU 0,
		 * next to hsrelay's control thread, not on the worker's. */
		rc = veth_make(r, o->bench);
		if (rc == 0)
			rc = bench_memif_bridge_start(&r->bridge, work, r->port_if, "0",
					BENCH_HELPER_IDLE_SLEEP_USEC);
		snprintf(port, sizeof(port), "net_memif0,role=client,socket=%s,socket-abstract=no",
				r->bridge.socket_path);
		break;
	case BENCH_TRANSPORT_MEMIF_DIRECT:
		/* The generator process serves the memif socket; hsrelay
		 * connects as the client (no veth, no bridge). */
		rc = ugen_start(r, work, o);
		snprintf(port, sizeof(port), "net_memif0,role=client,socket=%s,socket-abstract=no",
				r->ugen.socket_path);
		break;
	}
	if (rc < 0)
		return rc;
	lcores_spec(o->workers, lcores, sizeof(lcores));
	snprintf(text, sizeof(text),
			"# hsrelay-bench %s: the relay under test\n"
			"DPDKLcores %s\n"
			"DPDKPort %s\n"
			"DPDKWorkerQueues %u\n"
			"DPDKMemoryMB 512\n"
			"DPDKMbufsPerWorker 16383\n"
			"DPDKIdleSleepUsec %u\n"
			"DPDKMac " BENCH_HS_MAC "\n"
			"Address " BENCH_HS_ADDR "/24\n"
			"DataDirectory %s\n"
			"Nickname benchhsrelay\n"
			"ORPort " BENCH_HS_ADDR ":%u\n"
			"ContactInfo hsrelay-bench\n"
			"ExitRelay 0\n"
			"PublishServerDescriptor 0\n"
			"AssumeReachable 1\n"
			"TestingTorNetwork 1\n"
			BENCH_BANDWIDTH
			"%s%s",
			o->bench, lcores, port, o->workers, bench_rut_idle_sleep(o), r->dir,
			BENCH_HS_OR_PORT, fake_authority,
			o->hsrelay_extra != NULL ? o->hsrelay_extra : "");
	if (bench_write_file(conf, text) < 0)
		return -EIO;
	char *argv[] = { (char *)o->hsrelay_path, "-f", conf, NULL };

	r->pid = bench_spawn(argv, r->log);
	if (r->pid < 0)
		return r->pid;
	end = bench_now_ns() + START_TIMEOUT_NS;
	/* memif-direct has no kernel interface to wait for. */
	while ((r->port_if[0] != '\0' && if_nametoindex(r->port_if) == 0) ||
	       !bench_file_contains(r->log, "hsrelay: relay ")) {
		if (!bench_child_alive(r->pid) || bench_now_ns() > end || bench_interrupted) {
			fprintf(stderr, "hsrelay-bench %s: hsrelay did not start; its log:\n", o->bench);
			bench_print_log_tail(r->log, 20);
			return -ECHILD;
		}
		bench_sleep_ns(50000000);
	}
	if (o->transport == BENCH_TRANSPORT_TAP &&
	    (BENCH_RUN("ip", "link", "set", r->port_if, "up") != 0 ||
	     BENCH_RUN("ip", "route", "replace", BENCH_SUBNET, "dev", r->port_if, "src",
		     BENCH_NS_ADDR) != 0)) {
		fprintf(stderr, "hsrelay-bench %s: could not route " BENCH_SUBNET " through %s\n",
				o->bench, r->port_if);
		return -EIO;
	}
	if (o->transport == BENCH_TRANSPORT_MEMIF &&
	    bench_memif_bridge_wait_connected(&r->bridge, MEMIF_CONNECT_TIMEOUT_NS) < 0) {
		fprintf(stderr, "hsrelay-bench %s: hsrelay's memif did not connect to the bridge; "
				"hsrelay's log:\n", o->bench);
		bench_print_log_tail(r->log, 20);
		return -ENOLINK;
	}
	if (o->transport == BENCH_TRANSPORT_MEMIF_DIRECT) {
		rc = ugen_wait_linked(r, o);
		if (rc < 0)
			return rc;
	}
	r->ip = ipv4_host(10, 79, 0, 2);
	r->port = BENCH_HS_OR_PORT;
	return 0;
}

/* Connects to the RUT's ORPort and closes again, retrying for up to
 * START_TIMEOUT_NS: the first SYN to a freshly started hsrelay can be lost
 * (ARP not resolved yet, a busy machine), and a client that tries once
 * would wait for the kernel's retransmission. */
static int
wait_listening(const struct bench_rut *r, const char *bench)
{
	uint64_t end = bench_now_ns() + START_TIMEOUT_NS;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(r->port),
		.sin_addr.s_addr = htonl(r->ip) };

	for (;;) {
		struct timeval limit = { .tv_sec = 1 };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

		if (fd < 0)
			return -errno;
		/* Linux applies the send timeout to connect(). */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
		rc = connect(fd, (const struct sockaddr *)&sin, sizeof(sin));
		close(fd);
		if (rc == 0)
			return 0;
		if (!bench_child_alive(r->pid) || bench_now_ns() > end || bench_interrupted) {
			fprintf(stderr, "hsrelay-bench %s: %s does not accept connections on its "
					"ORPort\n", bench, bench_rut_name(r));
			return -ETIMEDOUT;
		}
		bench_sleep_ns(100000000);
	}
}

/* Halts the bridge and the generator, stops the RUT, stops the bridge
 * and the generator, removes the veth; 0 when all went cleanly. *ugen_failed
 * says whether the generator did not. */
static int
rut_teardown(struct bench_rut *r, bool *ugen_failed)
{
	int rc = 0;

	*ugen_failed = false;
	if (bench_memif_bridge_halt(&r->bridge) < 0) {
		fprintf(stderr, "hsrelay-bench: the memif bridge did not halt\n");
		rc = -1;
	}
	if (bench_ugen_halt(&r->ugen) < 0) {
		fprintf(stderr, "hsrelay-bench: the generator did not halt\n");
		*ugen_failed = true;
		rc = -1;
	}
	if (bench_child_stop(&r->pid, STOP_TIMEOUT_NS) < 0)
		rc = -1;
	if (bench_memif_bridge_stop(&r->bridge) < 0) {
		fprintf(stderr, "hsrelay-bench: the memif bridge did not stop cleanly\n");
		rc = -1;
	}
	if (r->ugen.pid > 0 && bench_ugen_error(&r->ugen, NULL) < 0)
		*ugen_failed = true;
	if (bench_ugen_stop(&r->ugen) < 0) {
		fprintf(stderr, "hsrelay-bench: the generator did not stop cleanly\n");
		*ugen_failed = true;
		rc = -1;
	}
	if (r->veth_made)
		BENCH_RUN("ip", "link", "del", r->kernel_if);
	r->veth_made = false;
	return rc;
}

int
bench_rut_start(struct bench_rut *r, const char *work, const struct bench_rut_options *o)
{
	int rc;

	if (o->workers < 1 || o->workers > BENCH_MAX_WORKERS)
		return -EINVAL;
	/* Measured while nothing of the case runs yet (bench_env.h). */
	r->round_trip_before_ns = bench_cpu_round_trip_ns(0, 1);
	if (r->kind == BENCH_RUT_HSRELAY && (o->transport == BENCH_TRANSPORT_MEMIF ||
	    o->transport == BENCH_TRANSPORT_MEMIF_DIRECT) && o->workers != 1) {
		fprintf(stderr, "hsrelay-bench %s: the %s transport has one queue: one worker "
				"only\n", o->bench, bench_transport_name(o->transport));
		return -EINVAL;
	}
	if (r->kind == BENCH_RUT_HSRELAY && o->transport == BENCH_TRANSPORT_MEMIF_DIRECT &&
	    o->ugen == NULL) {
		fprintf(stderr, "hsrelay-bench %s: the memif-direct transport needs its "
				"generator's parameters\n", o->bench);
		return -EINVAL;
	}
	if (r->kind == BENCH_RUT_TOR) {
		rc = tor_start(r, work, o);
		return rc < 0 ? rc : wait_listening(r, o->bench);
	}
	rc = hsrelay_start(r, work, o);
	/* Now and then (about one case in six on the 2-vCPU machine)
	 * hsrelay's memif client never completes its handshake with the
	 * bridge, with nothing in either log; both are started again then
	 * (the generator of memif-direct likewise). */
	for (unsigned attempt = 1; rc == -ENOLINK && attempt < MEMIF_START_ATTEMPTS; attempt++) {
		bool ugen_failed;

		fprintf(stderr, "hsrelay-bench %s: starting hsrelay and its memif peer again\n",
				o->bench);
		rut_teardown(r, &ugen_failed);
		rc = hsrelay_start(r, work, o);
	}
	/* Over memif-direct only the generator reaches hsrelay's ORPort. */
	if (rc < 0 || o->transport == BENCH_TRANSPORT_MEMIF_DIRECT)
		return rc;
	return wait_listening(r, o->bench);
}

int
bench_rut_stop(struct bench_rut *r, bool print)
{
	bool ugen_failed;
	int rc = rut_teardown(r, &ugen_failed);

	r->round_trip_after_ns = bench_cpu_round_trip_ns(0, 1);
	if (r->bridge.log[0] != '\0' && (print || rc < 0))
		bench_memif_bridge_report(&r->bridge, stderr, rc < 0);
	if (r->ugen.log[0] != '\0' && (print || ugen_failed)) {
		fprintf(stderr, "hsrelay-bench: the generator's log:\n");
		bench_ugen_print_log(&r->ugen);
	}
	return rc;
}

int
bench_rut_read_keys(const char *dir, struct bench_rut_keys *out)
{
	struct relay_keys *keys;
	struct relay_keys_error kerr;
	struct curve25519_key_file ntor;
	char path[PATH_MAX + 40];
	int rc = relay_keys_load_or_create(dir, time(NULL), &keys, &kerr);

	if (rc < 0) {
		fprintf(stderr, "hsrelay-bench: keys of the relay under test: %s: %s\n", kerr.path,
				kerr.message);
		return rc;
	}
	memcpy(out->rsa_id, relay_keys_fingerprint(keys), sizeof(out->rsa_id));
	memcpy(out->ed_id, relay_keys_master(keys)->public_key, sizeof(out->ed_id));
	memcpy(out->ntor, relay_keys_ntor_onion_key(keys)->public_key, sizeof(out->ntor));
	relay_keys_free(keys);
	/* What the running relay uses, in case it replaced the key. */
	snprintf(path, sizeof(path), "%s/keys/secret_onion_key_ntor", dir);
	if (curve25519_key_file_load(path, &ntor) == 0)
		memcpy(out->ntor, ntor.keypair.public_key, sizeof(out->ntor));
	memset(&ntor, 0, sizeof(ntor));
	return 0;
}

void
bench_rut_keys_to_ugen(const struct bench_rut_keys *keys, struct bench_ugen_params *p)
{
	memcpy(p->rut_rsa_id, keys->rsa_id, sizeof(p->rut_rsa_id));
	memcpy(p->rut_ed_id, keys->ed_id, sizeof(p->rut_ed_id));
	memcpy(p->rut_ntor, keys->ntor, sizeof(p->rut_ntor));
}

const char *
bench_rut_cpu_what(enum bench_rut_kind kind)
{
	return kind == BENCH_RUT_TOR ? "process" : "worker busy iterations";
}

/* Reads the answer number want (from 1) in log, if it is there. */
static bool
cycles_answer(const char *log, unsigned want, struct bench_worker_cycles *out)
{
	char line[512];
	unsigned groups = 0;
	FILE *f = fopen(log, "r");

	if (f == NULL)
		return false;
	memset(out, 0, sizeof(*out));
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned worker;
		unsigned long long busy, poll;

		if (sscanf(line, "hsrelay: cycles worker %u busy_ns=%llu poll_ns=%llu", &worker, &busy,
				&poll) != 3)
			continue;
		if (worker == 0)
			groups++;
		if (groups < want)
			continue;
		if (groups > want)
			break;
		out->busy_seconds += (double)busy / 1e9;
		out->poll_seconds += (double)poll / 1e9;
		out->workers++;
	}
	fclose(f);
	return groups >= want && out->workers > 0;
}

int
bench_rut_worker_cycles(struct bench_rut *r, struct bench_worker_cycles *out)
{
	uint64_t end = bench_now_ns() + CYCLES_TIMEOUT_NS;

	if (kill(r->pid, SIGUSR1) < 0)
		return -errno;
	while (!cycles_answer(r->log, r->cycles_answers + 1, out)) {
		if (bench_now_ns() > end)
			return -ETIMEDOUT;
		bench_sleep_ns(1000000);
	}
	r->cycles_answers++;
	return 0;
}

int
bench_rut_sample(struct bench_rut *r, struct bench_cpu_sample *s)
{
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (r->kind == BENCH_RUT_HSRELAY) {
		rc = bench_rut_worker_cycles(r, &s->cycles);
		if (rc < 0)
			fprintf(stderr, "hsrelay-bench: hsrelay did not answer SIGUSR1 with its "
					"workers' loop time\n");
	}
	s->ns = bench_now_ns();
	s->process = bench_process_cpu(r->pid);
	if (r->kind == BENCH_RUT_HSRELAY) {
		bench_threads_schedstat(r->pid, "rte-worker-", &s->workers);
		s->threads = s->workers.threads;
	}
	if (r->ugen.pid > 0) {
		double poll;

		s->self = bench_process_cpu(r->ugen.pid);
		bench_ugen_loop_seconds(&r->ugen, &s->generator_busy, &poll);
	} else {
		s->self = bench_self_cpu();
	}
	bench_system_cpu(&s->busy, &s->softirq);
	s->ksoftirqd = bench_ksoftirqd_cpu();
	return rc;
}

void
bench_cpu_window(const struct bench_cpu_sample *a, const struct bench_cpu_sample *b,
		struct bench_cpu_window *w)
{
	memset(w, 0, sizeof(*w));
	w->seconds = (double)(b->ns - a->ns) / 1e9;
	w->process_cpu = b->process - a->process;
	w->rut_cpu = w->process_cpu;
	w->worker_threads = b->threads;
	if (b->threads > 0) {
		double busy_wall = b->cycles.busy_seconds - a->cycles.busy_seconds;
		double poll_wall = b->cycles.poll_seconds - a->cycles.poll_seconds;

		w->worker_thread_cpu = (double)(b->workers.run_ns - a->workers.run_ns) / 1e9;
		w->worker_runqueue_wait = (double)(b->workers.wait_ns - a->workers.wait_ns) / 1e9;
		w->worker_busy_wall = busy_wall;
		w->worker_idle_poll = poll_wall - busy_wall;
		/* The thread's CPU time, split in the ratio of the TSC time
		 * of its busy iterations to that of all its iterations. Both
		 * TSC times also hold the time the thread was preempted inside
		 * them; subtracting the empty polls' TSC time from the CPU time
		 * (what this did before) charged that preemption to idling
		 * and undercounted busy time, to nothing in a run with
		 * DPDKIdleSleepUsec 0 on 2 vCPUs. */
		w->rut_cpu = poll_wall > 0 && busy_wall > 0
			? w->worker_thread_cpu * busy_wall / poll_wall : 0;
	}
	w->generator_cpu = b->self - a->self;
	w->generator_busy = b->generator_busy - a->generator_busy;
	w->system_busy = b->busy - a->busy;
	w->system_softirq = b->softirq - a->softirq;
	w->ksoftirqd_cpu = b->ksoftirqd - a->ksoftirqd;
	w->load_average = bench_load_average();
}

unsigned
bench_rut_exit_stats(const struct bench_rut *r, const char *prefix, const char *key,
		uint64_t *values, unsigned max, bool print)
{
	char line[2048];
	unsigned n = 0;
	FILE *f = fopen(r->log, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *at = strstr(line, key);

		if (strncmp(line, "hsrelay: stats", 14) != 0)
			continue;
		if (print)
			fprintf(stderr, "  %s", line);
		if (at != NULL && n < max && strncmp(line, prefix, strlen(prefix)) == 0)
			values[n++] = strtoull(at + strlen(key), NULL, 10);
	}
	fclose(f);
	return n;
}

int
bench_rut_option(int opt, const char *arg, struct bench_rut_options *o, char *hsrelay_path,
		size_t len)
{
	char *end;
	unsigned long v;

	switch (opt) {
	case 't':
		o->tor_path = arg;
		return 1;
	case 'r':
		snprintf(hsrelay_path, len, "%s", arg);
		return 1;
	case 'i':
		v = strtoul(arg, &end, 10);
		if (end == arg || *end != '\0' || v > 1000000)
			return -EINVAL;
		o->idle_sleep_usec = (unsigned)v;
		return 1;
	case 'x':
		return bench_transport_parse(arg, &o->transport) < 0 ? -EINVAL : 1;
	default:
		return 0;
	}
}

unsigned
bench_rut_idle_sleep(const struct bench_rut_options *o)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (o->idle_sleep_usec != BENCH_IDLE_SLEEP_AUTO)
		return o->idle_sleep_usec;
	if (o->transport == BENCH_TRANSPORT_MEMIF_DIRECT && cpus > (long)o->workers)
		return 0;
	return 50;
}

int
bench_rut_check(const struct bench_rut_options *o, bool need_tor, bool need_hsrelay)
{
	if (geteuid() != 0) {
		fprintf(stderr, "hsrelay-bench %s: needs root (network namespace, veth or tap)\n",
				o->bench);
		return 77;
	}
	if (need_tor && access(o->tor_path, X_OK) != 0) {
		fprintf(stderr, "hsrelay-bench %s: no tor at %s (--tor PATH, or --hsrelay-only)\n",
				o->bench, o->tor_path);
		return 77;
	}
	if (need_hsrelay && access(o->hsrelay_path, X_OK) != 0) {
		fprintf(stderr, "hsrelay-bench %s: no hsrelay at %s (--hsrelay PATH)\n", o->bench,
				o->hsrelay_path);
		return 2;
	}
	return 0;
}

void
bench_default_hsrelay_path(char *out, size_t len)
{
	char self[PATH_MAX - 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	out[0] = '\0';
	if (n <= 0)
		return;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL)
		return;
	*slash = '\0';
	snprintf(out, len, "%s/hsrelay", self);
	if (access(out, X_OK) == 0)
		return;
	slash = strrchr(self, '/');
	if (slash != NULL)
		*slash = '\0';
	snprintf(out, len, "%s/hsrelay", self);
}
