/* The HSDir part of hsrelay-bench rendezvous: a v3 onion-service
 * descriptor made here, published to the relay under test and fetched
 * back many times over BEGIN_DIR streams (rend-spec-v3 2.4 for the
 * document, dir-spec for the URLs, tor-spec "Opening a directory stream").
 * The relay is reached through tests/interop/test_client.h (the link and
 * the circuit are the caller's). */
#ifndef HSRELAY_BENCH_BENCH_HSDIR_H
#define HSRELAY_BENCH_BENCH_HSDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tests/interop/test_client.h"

/* A descriptor as a service uploads it: text, and the blinded key its
 * URL names. */
struct bench_hs_descriptor {
	uint8_t *text;
	size_t len;
	uint8_t blinded_key[32];
	char url[96];			/* /tor/hs/3/<base64 blinded key> */
};

/* Makes a descriptor an HSDir accepts (tor 0.4.9's hs_desc_decode_plaintext
 * checks, control/hs_descriptor.h): fresh "blinded" and signing keys (an
 * HSDir cannot tell a blinded key from any other ed25519 key), a type 08
 * signing-key certificate valid for 3 days from now, revision counter
 * revision, a superencrypted object of superencrypted_len random bytes
 * (the HSDir never decrypts it), and the signature. 0, or a negative
 * errno; bench_hs_descriptor_free() either way. */
int bench_hs_descriptor_make(struct bench_hs_descriptor *d, size_t superencrypted_len,
		uint64_t revision, time_t now);

void bench_hs_descriptor_free(struct bench_hs_descriptor *d);

struct bench_hsdir_fetches {
	uint64_t fetches;		/* answered 200 with exactly d's text */
	uint64_t bytes;			/* response bytes (headers and body) */
	uint64_t data_cells;
	uint64_t circuit_sendmes;	/* v1, with the digest (prop 289) */
};

/* The client end of one directory circuit: its flow-control state lasts
 * as long as the circuit (tor's deliver window counts every DATA cell of
 * every stream). Large: keep it static or on the heap. */
struct bench_hsdir_circuit {
	struct test_link *l;
	struct test_hop *hop;
	int deliver;			/* circuit deliver window */
	uint16_t next_stream;
	struct bench_hsdir_fetches count;
	uint8_t out[64 * CELL_LEN];	/* cells to send, flushed together */
	size_t out_len;
};

/* Makes c the client end of hop, a circuit on l, before its first stream. */
void bench_hsdir_circuit_init(struct bench_hsdir_circuit *c, struct test_link *l,
		struct test_hop *hop);

/* POSTs d to /tor/hs/3/publish on a new BEGIN_DIR stream of c and waits
 * for the answer, which must be "HTTP/1.0 200". Returns true, or false
 * with test_detail set. */
bool bench_hsdir_publish(struct bench_hsdir_circuit *c, const struct bench_hs_descriptor *d);

/* GETs d->url n times on c, each on its own BEGIN_DIR stream, with up to
 * parallel streams open at once; every answer must be 200 with exactly d's
 * text as body. Sends the circuit-level SENDMEs (version 1) and
 * stream-level SENDMEs a tor 0.4.9 client sends. Returns true with *res
 * filled (this call's counts), or false with test_detail set. */
bool bench_hsdir_fetch(struct bench_hsdir_circuit *c, const struct bench_hs_descriptor *d,
		unsigned n, unsigned parallel, struct bench_hsdir_fetches *res);

#endif
