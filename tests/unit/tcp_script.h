/* Scripted-segment harness for the TCP stack, in the spirit of packetdrill
 * scripts but in-process and with virtual time: inject a segment at time t,
 * expect the stack to have emitted exactly this segment at time t.
 *
 * Segment specs: "FLAGS [seq N] [ack N] [win N] [len N] [<opt,opt,...>]".
 * FLAGS are S F R P and '.' for ACK ("S.", ".", "P.", "F.", "R").
 * Options: mss N, sackOK, TS val N ecr N, nop, wscale N, sack L:R L:R...
 * Numbers are relative: the peer's sequence numbers to its ISN
 * (remote_isn), the stack's to its ISS (taken from its first SYN), the
 * stack's TSval to its timestamp clock at time 0 (so "TS val 250" means
 * "stamped at 250 ms"). In an expectation "*" matches anything and a field
 * left out is not checked; "<>" demands no options. Payload bytes follow a
 * pattern of their relative sequence number and are checked. */
#ifndef HSRELAY_TESTS_UNIT_TCP_SCRIPT_H
#define HSRELAY_TESTS_UNIT_TCP_SCRIPT_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/tcp.h"
#include "dataplane/tcp_options.h"

struct rte_mbuf;
struct rte_mempool;

#define SCRIPT_FIFO 512

struct tcp_script {
	struct tcp_stack *stack;
	struct rte_mempool *pool;
	uint64_t now_ms;
	uint32_t local_ip, remote_ip;
	uint16_t local_port, remote_port;
	uint32_t remote_isn;
	uint32_t local_iss;
	bool have_iss;
	uint32_t ts_base;
	bool have_ts;
	uint32_t conn;
	bool have_conn;
	uint32_t listener;
	uint32_t sent_bytes;	/* stack-side payload queued by script_send */
	uint32_t read_bytes;	/* peer-side payload taken by script_read */
	int last_event_error;
	/* ol_flags of the next injected segments (a device's RX checksum
	 * verdict, RTE_MBUF_F_RX_L4_CKSUM_*); 0 (UNKNOWN) by default. */
	uint64_t rx_ol_flags;
	/* Segments the stack left for the device to checksum
	 * (RTE_MBUF_F_TX_TCP_CKSUM), which collection completes as a
	 * device would, after checking the pseudo-header sum left for it. */
	unsigned device_checksums;
	bool got_event[8];
	struct {
		uint64_t t_ms;
		struct rte_mbuf *m;
	} fifo[SCRIPT_FIFO];
	unsigned fifo_head, fifo_count;
};

/* Starts EAL once per process and creates the shared mbuf pool. */
struct rte_mempool *script_pool(void);
/* Fills test defaults (ports, addresses, buffers) before script_start. */
void script_config(struct tcp_stack_config *cfg);
void script_start(struct tcp_script *s, const struct tcp_stack_config *cfg);
void script_stop(struct tcp_script *s);

void script_listen(struct tcp_script *s);
void script_connect(struct tcp_script *s);
/* Advances virtual time to t_ms one millisecond at a time, running timers
 * and collecting output with its emission time. */
void script_advance(struct tcp_script *s, uint64_t t_ms);
void script_inject(struct tcp_script *s, uint64_t t_ms, const char *spec);
void script_expect(struct tcp_script *s, uint64_t t_ms, const char *spec);
/* Nothing emitted up to and including t_ms. */
void script_expect_none(struct tcp_script *s, uint64_t t_ms);
/* Pops the next emitted segment (asserting one exists at t_ms). */
void script_pop(struct tcp_script *s, uint64_t t_ms, struct tcp_header *h, uint32_t *len);
/* Drains events; returns the mask of types seen and records conn/errors. */
unsigned script_events(struct tcp_script *s);
void script_send(struct tcp_script *s, uint32_t len);
/* Reads exactly len bytes and checks the peer-side pattern. */
void script_read(struct tcp_script *s, uint32_t len);
/* The same with tcp_recv_at_most(): len is what must come out. */
void script_read_at_most(struct tcp_script *s, uint32_t at_most, uint32_t len);

uint8_t script_stack_byte(uint32_t rel_seq);
uint8_t script_peer_byte(uint32_t rel_seq);

/* Nanoseconds per millisecond of virtual time. */
#define MS 1000000ull

/* The scripted connection's state (asserting it exists). */
struct tcp_conn_info script_info(struct tcp_script *s);

#endif
