/* libFuzzer target for control/hs_descriptor.c: the input is a descriptor
 * as POSTed to /tor/hs/3/publish, checked at a time when the seed
 * descriptor's certificate (from a real tor 0.4.9.11 service) is valid. A
 * verdict must be consistent: success exactly when no check failed, and
 * the signed part ends just before "signature ". */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/hs_descriptor.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hs_desc_outer out;
	enum hs_desc_check failed;
	int rc;

	rc = hs_desc_outer_parse(data, size, HS_DESC_MAX_SIZE_DEFAULT,
		1796096364, &out, &failed);
	if ((rc == 0) != (failed == HS_DESC_OK))
		abort();
	if (rc != 0 && rc != -EPROTO && rc != -ENOMEM)
		abort();
	if (rc == 0) {
		if (out.signed_len + 10 > size ||
				memcmp(data + out.signed_len, "signature ", 10) != 0 ||
				out.version != 3 ||
				out.lifetime_sec > HS_DESC_MAX_LIFETIME_SEC ||
				out.superencrypted_len < HS_DESC_ENCRYPTED_MIN_LEN)
			abort();
		if (out.superencrypted_base64 < data ||
				out.superencrypted_base64 +
				out.superencrypted_base64_len > data + size)
			abort();
	}
	return 0;
}
