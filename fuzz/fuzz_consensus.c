/* libFuzzer target for control/consensus.c (dir-spec 3.4.1, 3.9): parses
 * the input as a consensus of either flavour. A parsed consensus must keep
 * its documented invariants: routers strictly sorted by identity and found
 * again by consensus_find_router(), microdesc digests found again by
 * consensus_find_by_microdesc_digest(), flags within known-flags, and
 * verification with no certificate must refuse it. On failure the error
 * code is one of the documented ones and *out is untouched. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/consensus.h"

static void
check_routers(const struct consensus *c)
{
	size_t n = consensus_n_routers(c);
	size_t n_flags = consensus_n_known_flags(c);

	for (size_t i = 0; i < n; i++) {
		const struct consensus_router *r = consensus_router_at(c, i);

		if (i > 0 && memcmp(consensus_router_at(c, i - 1)->identity,
					r->identity, CONSENSUS_IDENTITY_LEN) >= 0)
			abort();
		if (consensus_find_router(c, r->identity) != r)
			abort();
		if (!consensus_router_has_flags(c, r->identity, r->flags))
			abort();
		if (n_flags < 64 && (r->known_flag_bits >> n_flags) != 0)
			abort();
		if (r->nickname[0] == '\0' ||
				strlen(r->nickname) > CONSENSUS_MAX_NICKNAME_LEN)
			abort();
		if (consensus_flavor(c) == CONSENSUS_FLAVOR_MICRODESC) {
			const struct consensus_router *m =
				consensus_find_by_microdesc_digest(c, r->digest);

			if (m == NULL || memcmp(m->digest, r->digest, 32) != 0)
				abort();
		} else if (consensus_find_by_microdesc_digest(c, r->digest)) {
			abort();
		}
	}
	if (consensus_router_at(c, n) != NULL)
		abort();
}

static void
check_verify(const struct consensus *c)
{
	uint8_t authorities[CONSENSUS_MAX_AUTHORITIES][CONSENSUS_IDENTITY_LEN];
	size_t n = consensus_n_authorities(c);
	struct consensus_verify_result r;

	for (size_t i = 0; i < n; i++)
		memcpy(authorities[i], consensus_authority_at(c, i)->identity,
				CONSENSUS_IDENTITY_LEN);
	/* Without certificates nothing can verify. */
	if (consensus_verify(c, (const uint8_t (*)[CONSENSUS_IDENTITY_LEN])
				authorities, n, NULL, 0, 0, &r) != -EBADMSG ||
			r.n_valid != 0 || r.n_bad != 0)
		abort();
	if (r.n_missing_cert + r.n_unknown_alg + r.n_unknown_authority !=
			consensus_n_signatures(c))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct consensus *c = NULL;
	struct dirdoc_error err;
	int rc = consensus_parse(data, size, &c, &err);

	if (rc != 0) {
		if (c != NULL || (rc != -EPROTO && rc != -EMSGSIZE &&
					rc != -ENOMEM))
			abort();
		return 0;
	}
	check_routers(c);
	check_verify(c);
	(void)consensus_param(c, "hsdir_spread_store", 4, 1, 128);
	(void)consensus_bandwidth_weight(c, "Wmg", 0);
	(void)consensus_check_time(c, 1796086575, 0);
	consensus_free(c);
	return 0;
}
