/* TLS records after the handover, for the interop test programs that talk
 * to a relay over a kernel TCP socket (test_client.c, tls_tor_check.c):
 * one record sealed into a buffer, and the whole records at the start of a
 * receive buffer opened in order, with crypto/tls_record.h doing the AEAD
 * under the handed-over keys (control/tls_handshake.h).
 */
#ifndef HSRELAY_TESTS_INTEROP_TEST_RECORD_H
#define HSRELAY_TESTS_INTEROP_TEST_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crypto/tls_record.h"

/* Room for one sealed record of TLS_RECORD_MAX_PLAINTEXT bytes: header,
 * explicit nonce (TLS 1.2), inner content type and tag (TLS 1.3). */
#define TEST_RECORD_WIRE_MAX (TLS_RECORD_MAX_PLAINTEXT + 64)

/* Seals len bytes of plaintext (at most TLS_RECORD_MAX_PLAINTEXT) into one
 * record of content type type under dir, written to wire (at least
 * TEST_RECORD_WIRE_MAX bytes). Returns the record's length on the wire, or
 * the negative status tls_record_seal_burst() set (dir unchanged then). */
ssize_t test_record_seal(struct crypto_engine *engine, struct tls_record_dir *dir,
		uint8_t type, const uint8_t *plaintext, size_t len, uint8_t *wire);

/* Called with each record opened: its content type and plaintext (valid
 * during the call). Returns 0 to go on with the next record, non-zero to
 * stop after this one. */
typedef int (*test_record_deliver_fn)(void *arg, uint8_t type, const uint8_t *plaintext,
		size_t len);

/* Opens the whole records at the start of in[0 .. *in_len) in order under
 * dir, passing each to deliver, and moves what was not consumed (a partial
 * record, or the records after a stop) to the front of in, updating
 * *in_len. A record that does not open is not consumed. Returns 0 when
 * every whole record was delivered, the non-zero value deliver returned,
 * or the negative status of the record that did not open (tls_record.h:
 * -EBADMSG, -EMSGSIZE, -EPROTO, -EOVERFLOW). */
int test_record_open_all(struct crypto_engine *engine, struct tls_record_dir *dir,
		uint8_t *in, size_t *in_len, test_record_deliver_fn deliver, void *arg);

#endif
