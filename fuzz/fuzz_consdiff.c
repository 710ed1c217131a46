/* libFuzzer target for control/consdiff: the applier on any base and any
 * diff (bounded output, no crash), and the generator on any pair (a diff
 * it returns must apply to the base and give the target).
 *
 * Input: one mode byte (even: apply, odd: generate), then two documents
 * separated by the first NUL byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/consdiff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *first, *second, *nul;
	size_t first_len, second_len;
	uint8_t d1[CONSDIFF_DIGEST_LEN], d2[CONSDIFF_DIGEST_LEN], *out, *again;
	size_t out_len, again_len;

	if (size < 1)
		return 0;
	first = data + 1;
	nul = memchr(first, 0, size - 1);
	first_len = nul != NULL ? (size_t)(nul - first) : size - 1;
	second = nul != NULL ? nul + 1 : data + size;
	second_len = (size_t)(data + size - second);

	if ((data[0] & 1) == 0) {
		if (consdiff_apply(first, first_len, second, second_len, d1, d2, &out,
				&out_len) == 0) {
			/* Every line of the result comes from the base or the diff. */
			if (out_len > first_len + second_len)
				abort();
			free(out);
		}
		return 0;
	}
	memset(d1, 0x11, sizeof(d1));
	memset(d2, 0x22, sizeof(d2));
	if (consdiff_generate(first, first_len, second, second_len, d1, d2, &out, &out_len) == 0) {
		uint8_t h1[CONSDIFF_DIGEST_LEN], h2[CONSDIFF_DIGEST_LEN];

		if (consdiff_apply(first, first_len, out, out_len, h1, h2, &again, &again_len) != 0 ||
				again_len != second_len || memcmp(again, second, second_len) != 0 ||
				memcmp(h1, d1, sizeof(d1)) != 0 || memcmp(h2, d2, sizeof(d2)) != 0)
			abort();
		free(again);
		free(out);
	}
	return 0;
}
