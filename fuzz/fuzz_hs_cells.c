/* libFuzzer target for control/hs_cells.c: the input is one relay message
 * body, read as ESTABLISH_INTRO (precheck, full verify with a fixed KH,
 * extensions applied), INTRODUCE1, INTRODUCE_ACK, ESTABLISH_RENDEZVOUS and
 * RENDEZVOUS1. Parsed pointers must stay inside the input, the covered
 * lengths must be ordered, and RENDEZVOUS2 must be RENDEZVOUS1 without its
 * cookie. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/hs_cells.h"
#include "dataplane/cell.h"

static void
check_inside(const uint8_t *data, size_t size, const uint8_t *p, size_t len)
{
	if (len == 0)
		return;
	if (p < data || p + len > data + size)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t kh[HS_CIRCUIT_KH_LEN] = { 1, 2, 3 };
	uint8_t out[RELAY_DATA_MAX];
	uint8_t cookie[HS_REND_COOKIE_LEN];
	size_t len = size < RELAY_DATA_MAX ? size : RELAY_DATA_MAX;
	struct establish_intro_cell intro;
	enum establish_intro_check intro_failed;
	struct introduce1_cell intro1;
	enum introduce1_check intro1_failed;
	struct hs_extension_list ext;
	struct rendezvous1_cell r1;
	const uint8_t *p;
	uint16_t status;
	int rc;

	if (establish_intro_precheck(data, len) == ESTABLISH_INTRO_OK) {
		rc = establish_intro_verify(data, len, kh, &intro,
			&intro_failed);
		if ((rc == 0) != (intro_failed == ESTABLISH_INTRO_OK))
			abort();
	}
	p = data;
	if (establish_intro_cell_parse(&p, data + len, &intro) == 0) {
		struct hs_intro_dos_params params = { false, false, 25, 200 };

		check_inside(data, len, intro.auth_key, intro.auth_key_len);
		check_inside(data, len, intro.sig, intro.sig_len);
		if (intro.mac_covered_len + ESTABLISH_INTRO_MAC_LEN !=
				intro.sig_covered_len ||
				intro.sig_covered_len + 2 + intro.sig_len !=
				(size_t)(p - data))
			abort();
		establish_intro_apply_extensions(&intro, &params);
		if (params.enabled && (params.rate_per_sec == 0 ||
				params.burst_per_sec < params.rate_per_sec ||
				params.burst_per_sec > HS_DOS_PARAM_MAX))
			abort();
	}

	rc = introduce1_validate(data, size, &intro1, &intro1_failed);
	if (rc == 0) {
		if (size > INTRODUCE1_MAX_LEN || intro1.encrypted_len == 0)
			abort();
		check_inside(data, size, intro1.encrypted,
			intro1.encrypted_len);
		if (intro1.encrypted + intro1.encrypted_len != data + size)
			abort();
	}

	p = data;
	if (introduce_ack_parse(&p, data + len, &status, &ext) == 0) {
		const uint8_t *cursor = NULL;
		struct hs_extension one;
		unsigned n = 0;

		while (hs_extension_next(&ext, &cursor, &one)) {
			check_inside(data, len, one.data, one.len);
			n++;
		}
		if (n != ext.count)
			abort();
	}

	if (establish_rendezvous_parse(data, size, cookie) == 0 &&
			size != HS_REND_COOKIE_LEN)
		abort();
	p = data;
	if (rendezvous1_cell_parse(&p, data + len, &r1) == 0) {
		ssize_t n = rendezvous2_build(&r1, out, sizeof(out));

		if (n != (ssize_t)len - HS_REND_COOKIE_LEN ||
				memcmp(out, data + HS_REND_COOKIE_LEN,
					(size_t)n) != 0)
			abort();
	}
	return 0;
}
