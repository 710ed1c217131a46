/* libFuzzer target for control/link_cells.c: parses the input as each link
 * handshake cell body (VERSIONS, CERTS, AUTH_CHALLENGE, AUTHENTICATE and its
 * AUTH0003 authenticator, NETINFO). Everything that parses is re-encoded and
 * must reproduce the consumed bytes exactly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/link_cells.h"
#include "dataplane/cell.h"

static uint8_t encoded[CELL_VAR_PAYLOAD_MAX + 8];
static uint16_t list[CELL_VAR_PAYLOAD_MAX / 2];
static struct certs_cell certs;
static struct netinfo_cell netinfo;

static void
check_round_trip(const uint8_t *start, const uint8_t *consumed_end,
		ssize_t written)
{
	if (written < 0 || written != consumed_end - start ||
			memcmp(encoded, start, (size_t)written) != 0)
		abort();
}

static void
fuzz_versions(const uint8_t *data, const uint8_t *end)
{
	struct versions_cell versions;
	const uint8_t *p = data;

	if (versions_cell_parse(&p, end, &versions) != 0)
		return;
	for (size_t i = 0; i < versions.n_versions; i++)
		list[i] = versions_cell_version(&versions, i);
	check_round_trip(data, p, versions_cell_encode(list,
		versions.n_versions, encoded, sizeof(encoded)));
	(void)versions_cell_highest_common(&versions, list,
		versions.n_versions < 4 ? versions.n_versions : 4);
}

static void
fuzz_auth_challenge(const uint8_t *data, const uint8_t *end)
{
	struct auth_challenge_cell challenge;
	const uint8_t *p = data;

	if (auth_challenge_cell_parse(&p, end, &challenge) != 0)
		return;
	for (size_t i = 0; i < challenge.n_methods; i++)
		list[i] = auth_challenge_cell_method(&challenge, i);
	check_round_trip(data, p, auth_challenge_cell_encode(
		challenge.challenge, list, challenge.n_methods, encoded,
		sizeof(encoded)));
}

static void
fuzz_auth0003(const uint8_t *data, const uint8_t *end)
{
	struct auth0003_body body;
	const uint8_t *p = data;

	if (auth0003_body_parse(&p, end, &body) != 0)
		return;
	check_round_trip(data, p, auth0003_body_encode(&body, encoded,
		sizeof(encoded)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A variable-length payload is at most 65535 bytes, a fixed one 509. */
	const uint8_t *var_end = data + (size < CELL_VAR_PAYLOAD_MAX ?
		size : CELL_VAR_PAYLOAD_MAX);
	const uint8_t *fixed_end = data + (size < CELL_PAYLOAD_LEN ?
		size : CELL_PAYLOAD_LEN);
	struct authenticate_cell authenticate;
	const uint8_t *p;

	fuzz_versions(data, var_end);
	fuzz_auth_challenge(data, var_end);
	fuzz_auth0003(data, var_end);

	p = data;
	if (certs_cell_parse(&p, var_end, &certs) == 0) {
		if (certs_cell_count_type(&certs, CERT_TYPE_RSA_ID) > certs.n_certs)
			abort();
		check_round_trip(data, p, certs_cell_encode(&certs, encoded,
			sizeof(encoded)));
	}

	p = data;
	if (authenticate_cell_parse(&p, var_end, &authenticate) == 0) {
		check_round_trip(data, p, authenticate_cell_encode(&authenticate,
			encoded, sizeof(encoded)));
		fuzz_auth0003(authenticate.auth,
			authenticate.auth + authenticate.auth_length);
	}

	p = data;
	if (netinfo_cell_parse(&p, fixed_end, &netinfo) == 0)
		check_round_trip(data, p, netinfo_cell_encode(&netinfo, encoded,
			sizeof(encoded)));
	return 0;
}
