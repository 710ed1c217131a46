/* Connection-level padding timing; see channel_padding.h. */
#include "dataplane/channel_padding.h"

#include <errno.h>

#define NS_PER_MS 1000000ull

static uint16_t
max_u16(uint16_t a, uint16_t b)
{
	return a > b ? a : b;
}

static int32_t
clip(int32_t v, int32_t min, int32_t max)
{
	return v < min ? min : v > max ? max : v;
}

struct channel_padding_params
channel_padding_params_from_consensus(int32_t nf_ito_low, int32_t nf_ito_high)
{
	struct channel_padding_params params;
	int32_t low = clip(nf_ito_low, 0, CHANNEL_PADDING_ITO_MAX_MS);

	params.ito_low_ms = (uint16_t)low;
	params.ito_high_ms = (uint16_t)clip(nf_ito_high, low, CHANNEL_PADDING_ITO_MAX_MS);
	return params;
}

void
channel_padding_init(struct channel_padding *p, uint64_t now_ns)
{
	p->last_transfer_ns = now_ns;
	p->deadline_ns = 0;
	p->low_ms = 0;
	p->high_ms = 0;
	p->enabled = false;
}

int
channel_padding_negotiate(struct channel_padding *p,
		const struct channel_padding_params *params,
		const struct padding_negotiate_cell *cell)
{
	if (cell->version != PADDING_NEGOTIATE_VERSION)
		return -EINVAL;
	if (cell->command != PADDING_NEGOTIATE_START &&
	    cell->command != PADDING_NEGOTIATE_STOP)
		return -EINVAL;
	p->enabled = cell->command == PADDING_NEGOTIATE_START;
	/* A client may ask for less padding than the consensus asks
	 * for, never for more (padding-spec, connection-level padding
	 * negotiation). */
	p->low_ms = max_u16(params->ito_low_ms, cell->ito_low_ms);
	p->high_ms = max_u16(p->low_ms, cell->ito_high_ms);
	p->deadline_ns = 0;
	return 0;
}

uint32_t
channel_padding_timeout_ms(const struct channel_padding *p,
		const struct channel_padding_params *params,
		channel_padding_rand_fn rand, void *rand_arg)
{
	uint32_t low = params->ito_low_ms;
	uint32_t high = params->ito_high_ms;
	uint32_t x1, x2;

	if (low == 0 && high == 0)
		return 0;
	/* tor bounds nf_ito_high below by nf_ito_low. */
	if (high < low)
		high = low;
	if (p->low_ms != 0 && p->high_ms != 0) {
		low = low > p->low_ms ? low : p->low_ms;
		high = high > p->high_ms ? high : p->high_ms;
	}
	if (low == high)
		return low;
	/* The larger of two uniform draws (padding-spec), so that with
	 * both ends padding the expected gap is near the window's middle. */
	x1 = rand(rand_arg, high - low);
	x2 = rand(rand_arg, high - low);
	return low + (x1 > x2 ? x1 : x2);
}

uint64_t
channel_padding_deadline(struct channel_padding *p,
		const struct channel_padding_params *params,
		channel_padding_rand_fn rand, void *rand_arg)
{
	uint32_t timeout;

	if (!p->enabled)
		return CHANNEL_PADDING_NEVER;
	if (p->deadline_ns != 0)
		return p->deadline_ns;
	timeout = channel_padding_timeout_ms(p, params, rand, rand_arg);
	if (timeout == 0)
		return CHANNEL_PADDING_NEVER;
	p->deadline_ns = p->last_transfer_ns + timeout * NS_PER_MS;
	return p->deadline_ns;
}
