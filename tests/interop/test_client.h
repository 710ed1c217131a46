/* A Tor client of one relay for the interop test programs
 * (hostile_client.c, begindir_client.c), built from the project's own
 * modules over kernel TCP sockets:
 *   - connect and TLS as a client (control/tls_handshake.h), then every
 *     record sealed and opened here with the handed-over keys
 *     (test_record.h);
 *   - the link handshake as an unauthenticated initiator
 *     (control/link_handshake.h), the relay's CERTS validated against the
 *     fingerprint in its DataDirectory;
 *   - circuits of one hop: CREATE_FAST (KDF-TOR, tor-spec 5.1.5) and ntor
 *     CREATE2 (crypto/ntor.h) with the relay's onion key;
 *   - cells sent and received, and relay cells with our layer added and
 *     taken off (crypto/relay_crypto.h, tor-spec 6.1).
 *
 * A program is one client: test_client_init() and test_client_load_keys()
 * set up the process-wide state (the relay's address and keys, our link
 * credentials, a crypto engine, a TLS client context) that every function
 * below uses; test_client_free() releases it.
 *
 * Failures of the relay (what a test checks) are returned as false with
 * the reason in test_detail; failures of the test program itself (no
 * memory, a bad command line, a codec refusing our own input) end the
 * process through test_die() with exit status 1.
 */
#ifndef HSRELAY_TESTS_INTEROP_TEST_CLIENT_H
#define HSRELAY_TESTS_INTEROP_TEST_CLIENT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/circ_cells.h"
#include "control/tls_handshake.h"
#include "crypto/ntor.h"
#include "crypto/relay_crypto.h"
#include "crypto/tls_record.h"
#include "dataplane/cell.h"

/* How long test_link_expect() and the handshakes wait for the relay. */
#define TEST_IO_TIMEOUT_MS 5000
/* Bytes a link buffers in each direction of its receive path. */
#define TEST_LINK_BUF (1u << 18)
#define TEST_DETAIL_LEN 1024

/* Why the last check failed (set by test_why() and by every function here
 * that returns false). Programs also write their own summary of a passed
 * check here. */
extern char test_detail[TEST_DETAIL_LEN];

/* Prints "<program>: <message>" on stderr and exits with status 1. */
void test_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Writes the reason into test_detail; returns false for the caller's
 * return statement. */
bool test_why(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fills p with n random bytes (getrandom), or dies. */
void test_random_bytes(void *p, size_t n);

/* The next circuit id of ours: 0x80000001, 0x80000002, ... (tor-spec
 * 5.1.1: the initiator sets the high bit). */
uint32_t test_new_circ_id(void);

/* Parses "a.b.c.d" and a decimal port into *out, or dies ("bad address"). */
void test_parse_addr(const char *host, const char *port, struct sockaddr_in *out);

/* Names program for test_die()'s messages and parses the relay's address
 * (dies on a bad one). */
void test_client_init(const char *program, const char *relay_host, const char *relay_port);

/* Loads the relay's keys from relay_datadir (its RSA fingerprint and the
 * public halves of its ntor onion keys), makes our link credentials from
 * our own key set in client_datadir (created on first use: the link
 * handshake module wants credentials even when it never sends them, as
 * the relay makes its own in control/relay_control.c), and creates the
 * crypto engine and the TLS client context. Dies on failure. */
void test_client_load_keys(const char *relay_datadir, const char *client_datadir);

/* Link credentials (certificates for CERTS/AUTHENTICATE) from the key set
 * in datadir, created on first use. Dies on failure; the caller frees them
 * with link_credentials_free(). */
struct link_credentials *test_link_credentials_create(const char *datadir);

/* Frees what test_client_load_keys() made. */
void test_client_free(void);

/* The relay's address, as parsed by test_client_init(). */
const struct sockaddr_in *test_client_relay_addr(void);

/* The crypto engine (for a program that builds cells of its own). */
struct crypto_engine *test_client_engine(void);

/* For a program that opens its links itself (hsrelay-bench's DPDK
 * generator) and uses only the cell functions below (hops, relay cells,
 * rend_pump.h's ends): they use engine, which stays the caller's, instead
 * of what test_client_load_keys() makes. Call with NULL before freeing
 * engine; not together with test_client_load_keys(). */
void test_client_use_engine(struct crypto_engine *engine);

/* The TLS client context (for a program that drives a handshake itself). */
struct tls_handshake_context *test_client_tls_context(void);

/* How many TCP connections to the relay test_link_connect() opened. */
unsigned test_client_links_connected(void);

/* A link to the relay: TLS records sealed and opened here, cells cut from
 * them. Large (two receive buffers): keep it static or on the heap. */
struct test_link {
	const char *name;		/* in messages: "[name] <- ..." */
	int fd;
	struct tls_session *tls;
	struct tls_record_dir rd, wr;
	bool records;			/* keys installed */
	bool closed;			/* FIN, RST or alert seen */
	unsigned padding_cells;		/* PADDING cells test_link_next_cell()
					 * skipped */
	char how[96];			/* how it closed */
	size_t in_len, plain_len;
	uint8_t in[TEST_LINK_BUF];	/* ciphertext not yet opened */
	uint8_t plain[TEST_LINK_BUF];	/* cell bytes not yet cut */
};

/* A cell received from the relay. */
struct test_cell {
	uint32_t circ_id;
	uint8_t command;
	uint16_t len;
	uint8_t payload[CELL_VAR_PAYLOAD_MAX];
};

/* Our end of a one-hop circuit (tor-spec 5.2.2 keys). */
struct test_hop {
	uint32_t circ_id;
	struct relay_cipher forward, backward;
	struct relay_digest forward_digest, backward_digest;
};

/* When set, test_link_open() authenticates as a relay (CERTS +
 * AUTHENTICATE with our own key set) instead of as a client, so the relay
 * does not take the link for a client's (tor's channel_is_client()).
 * Default false. */
extern bool test_client_authenticate;

/* When set, test_link_next_cell() does not print the cells it returns
 * (a program whose stdout is data, e.g. hsrelay-bench). Default false. */
extern bool test_client_quiet;

/* When not INADDR_ANY (the default), test_link_connect() binds its
 * socket to this source address (network order) first, so that one
 * program can reach the relay from two addresses. */
extern struct in_addr test_client_source;

/* Names of a cell command and of a DESTROY reason ("?" when unknown). */
const char *test_command_name(uint8_t command);
const char *test_reason_name(uint8_t reason);

/* "DESTROY circ 0x... reason NAME(n)" or "NAME(n) circ 0x..." into buf. */
void test_cell_describe(const struct test_cell *c, char *buf, size_t len);

/* Opens a TCP connection to the relay (3 s limit) into l, named name.
 * Returns true, or false with test_detail set and l marked closed. */
bool test_link_connect(struct test_link *l, const char *name);

/* test_link_connect(), the TLS handshake, the key handover, and the link
 * handshake as a client; the relay's CERTS must name its fingerprint.
 * Returns true when the link is open, else false with test_detail set.
 * test_link_close() frees what was made either way. */
bool test_link_open(struct test_link *l, const char *name);

/* Closes the socket and frees the TLS session and record keys. */
void test_link_close(struct test_link *l);

/* Sends n bytes as they are; a failure marks the link closed. */
void test_link_send_raw(struct test_link *l, const uint8_t *p, size_t n);

/* Seals plaintext into one record of content type type and sends it;
 * corrupt flips a bit of the tag. Dies when sealing fails. */
void test_link_send_record(struct test_link *l, uint8_t type, const uint8_t *plaintext,
		size_t len, bool corrupt);

/* Sends cell bytes in application-data records of at most chunk bytes. */
void test_link_send_plain(struct test_link *l, const uint8_t *p, size_t len, size_t chunk);

/* Sends one fixed-length cell in one record. */
void test_link_send_cell(struct test_link *l, const uint8_t cell[CELL_LEN]);

/* Waits up to timeout_ms for bytes and opens the whole records among them.
 * Returns false on timeout or when the link is closed (l->how says how). */
bool test_link_pump(struct test_link *l, int timeout_ms);

/* The next cell other than PADDING and VPADDING, printed as
 * "  [name] <- ..." unless test_client_quiet. Returns 1, 0 on timeout, -1 when the link closed. */
int test_link_next_cell(struct test_link *l, struct test_cell *c, int timeout_ms);

/* Cuts the next cell other than PADDING and VPADDING from l's opened
 * bytes at *off into *c, quietly, and moves *off past it; nothing moves
 * in l until test_link_drop_cut(l, *off), so a reader that cuts every
 * cell of a read moves the rest once, not once per cell. Returns true
 * when a cell was cut, false when no whole cell is left. */
bool test_link_cut_cell(struct test_link *l, size_t *off, struct test_cell *c);

/* Drops the first off bytes of l's opened bytes (what test_link_cut_cell()
 * cut). */
void test_link_drop_cut(struct test_link *l, size_t off);

/* The next cell must be command on circ_id and, when reason >= 0, carry
 * that DESTROY reason; it is stored in *c unless c is NULL. Returns true,
 * or false with test_detail set. */
bool test_link_expect(struct test_link *l, uint32_t circ_id, uint8_t command, int reason,
		struct test_cell *c);

/* Sets up hop from key material Df | Db | Kf | Kb (tor-spec 5.2.2). */
void test_hop_init(struct test_hop *hop, uint32_t circ_id, const uint8_t *material);

/* Zeroes cell and writes its circuit id and command. */
void test_cell_start(uint8_t cell[CELL_LEN], uint32_t circ_id, uint8_t command);

/* A CREATE_FAST cell with a fresh random X, returned in x. */
void test_create_fast_cell(uint8_t cell[CELL_LEN], uint32_t circ_id,
		uint8_t x[CREATE_FAST_KEY_LEN]);

/* Checks the CREATED_FAST in c against X (KH, tor-spec 5.1.5) and sets up
 * hop. Returns false with test_detail set when KH does not match. */
bool test_create_fast_complete(struct test_hop *hop, uint32_t circ_id,
		const uint8_t x[CREATE_FAST_KEY_LEN], const struct test_cell *c);

/* CREATE_FAST on a new circuit id, CREATED_FAST expected as the next cell,
 * hop set up. Returns false with test_detail set otherwise. */
bool test_create_fast(struct test_link *l, struct test_hop *hop);

/* A CREATE2 cell carrying hdata (any type and length up to the cell). */
void test_create2_cell(uint8_t cell[CELL_LEN], uint32_t circ_id, uint16_t htype,
		const uint8_t *hdata, uint16_t hlen);

/* An ntor onion skin for the relay, with its NODEID changed when bad_node
 * and an onion key it does not have when bad_key. */
void test_ntor_onion_skin(struct ntor_client_state *st, uint8_t skin[NTOR_ONIONSKIN_LEN],
		bool bad_node, bool bad_key);

/* Checks the CREATED2 in c (ntor AUTH) and sets up hop. Returns false with
 * test_detail set when it does not parse or verify. */
bool test_ntor_complete(struct test_hop *hop, uint32_t circ_id, struct ntor_client_state *st,
		const struct test_cell *c);

/* ntor CREATE2 on a new circuit id, CREATED2 expected as the next cell,
 * hop set up. Returns false with test_detail set otherwise. */
bool test_create_ntor(struct test_link *l, struct test_hop *hop);

/* A relay cell for the relay (tor-spec 6.1): cell command command (RELAY
 * or RELAY_EARLY), the relay header with relay_command, stream_id and len
 * bytes of data, the forward digest stamped and our layer added. */
void test_relay_cell(struct test_hop *hop, uint8_t cell[CELL_LEN], uint8_t command,
		uint8_t relay_command, uint16_t stream_id, const uint8_t *data, uint16_t len);

/* Sends an EXTEND2 (tor-spec 5.1.2) in a RELAY_EARLY cell on hop's
 * circuit: to addr, with the RSA identity rsa_id (20 bytes) and the ntor
 * onion skin skin. */
void test_extend2_send(struct test_link *l, struct test_hop *hop, const struct sockaddr_in *addr,
		const uint8_t rsa_id[LINK_SPECIFIER_LEGACY_ID_LEN],
		const uint8_t skin[NTOR_ONIONSKIN_LEN]);

/* A RELAY cell for a hop beyond the relay: random content with
 * "recognized" not zero under our layer, so that the relay, once it took
 * its layer off, forwards it. */
void test_relay_cell_beyond(struct test_hop *hop, uint8_t cell[CELL_LEN]);

/* Takes our layer off the relay cell c from the relay and checks that it
 * is for us (tor-spec "Routing relay cells": recognized 0 and the backward
 * digest matching, which then advances). Returns false with test_detail
 * set when it is not. */
bool test_relay_cell_open(struct test_hop *hop, struct test_cell *c);

#endif
