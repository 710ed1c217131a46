/* control/tls_handshake on arbitrary peer bytes. The first byte picks the
 * role (bit 0: client, which first sends its ClientHello), a TLS 1.2 cap
 * (bit 1) and the chunk size the rest is fed in (bits 2..7); every chunk is
 * followed by a step and a drain, as the control thread does. Nothing may
 * crash; the session must end in a consistent state: a failure always has a
 * reason, and a handover is only possible after completion. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/tls_handshake.h"
#include "crypto/rsa_identity.h"

static struct tls_handshake_context *contexts[2];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rsa_identity *identity;
	struct tls_link_credentials *credentials;

	(void)argc;
	(void)argv;
	if (rsa_identity_generate(&identity) != 0 ||
	    tls_link_credentials_create(identity, 0, time(NULL), &credentials) != 0 ||
	    tls_handshake_context_create(TLS_ROLE_SERVER, credentials, &contexts[0]) != 0 ||
	    tls_handshake_context_create(TLS_ROLE_CLIENT, NULL, &contexts[1]) != 0)
		abort();
	/* the server context keeps its own references */
	tls_link_credentials_free(credentials);
	rsa_identity_free(identity);
	return 0;
}

static void
drain(struct tls_session *s)
{
	uint8_t out[4096];

	while (tls_session_drain_output(s, out, sizeof(out)) > 0)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_session *s;
	struct tls_handover h;
	size_t chunk, off = 1;
	int rc = TLS_SESSION_WANT_INPUT;

	if (size < 1)
		return 0;
	if (tls_session_create(contexts[data[0] & 1], &s) != 0)
		abort();
	if ((data[0] & 2) && tls_session_set_max_version(s, 0x0303) != 0)
		abort();
	chunk = 1 + (size_t)(data[0] >> 2) * 37;
	if (data[0] & 1) {
		rc = tls_session_step(s);
		drain(s);
	}
	while (off < size && rc >= 0) {
		size_t n = size - off < chunk ? size - off : chunk;

		rc = tls_session_feed(s, data + off, n);
		off += n;
		if (rc == 0)
			rc = tls_session_step(s);
		drain(s);
	}
	if (rc < 0 && (tls_session_state(s) != TLS_SESSION_FAILED ||
		       tls_session_error(s)[0] == '\0'))
		abort();
	if (tls_session_handover(s, &h) == 0) {
		/* only a complete handshake hands over */
		if (rc != TLS_SESSION_DONE)
			abort();
		tls_handover_wipe(&h);
	}
	tls_session_free(s);
	return 0;
}
