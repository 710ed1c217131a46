/* Connection-level ("netflow") padding of one link, as a tor 0.4.9 relay
 * does it (padding-spec 2, tor's channelpadding.c): the timing rules
 * alone, pure and without a clock or random source of its own, so that the
 * worker drives it with its loop time and unit tests with chosen values.
 *
 * A client asks its guard for padding with PADDING_NEGOTIATE START
 * (tor-spec 7.2). From then on, whenever the link has carried no cell for
 * a random time in [low, high] ms, the relay sends a PADDING cell. The
 * window is the consensus one (nf_ito_low, nf_ito_high), which a
 * negotiation may move up but never down, and the time is
 * low + max(X1, X2) with X1, X2 uniform in [0, high - low): padding-spec,
 * "Connection-level padding", and tor's
 * channelpadding_get_netflow_inactive_timeout_ms().
 */
#ifndef HSRELAY_DATAPLANE_CHANNEL_PADDING_H
#define HSRELAY_DATAPLANE_CHANNEL_PADDING_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/cell.h"

/* The consensus parameters' defaults and upper bound (tor's
 * channelpadding.c channelpadding_new_consensus_params()). */
#define CHANNEL_PADDING_ITO_LOW_DEFAULT_MS 1500
#define CHANNEL_PADDING_ITO_HIGH_DEFAULT_MS 9500
#define CHANNEL_PADDING_ITO_MAX_MS 60000
/* channel_padding_deadline(): no padding on this link. */
#define CHANNEL_PADDING_NEVER UINT64_MAX

/* nf_ito_low and nf_ito_high (0..60000 ms; both 0 turns padding off). */
struct channel_padding_params {
	uint16_t ito_low_ms;
	uint16_t ito_high_ms;
};

/* The window from a consensus's nf_ito_low and nf_ito_high as tor reads
 * them (networkstatus_get_param() clips a value to its range): low in
 * [0, 60000], high in [low, 60000]. Pass the defaults for absent ones. A
 * relay pads with these; the *_reduced variants are for clients running
 * ReducedConnectionPadding, which a relay never is. */
struct channel_padding_params channel_padding_params_from_consensus(int32_t nf_ito_low,
		int32_t nf_ito_high);

/* Returns a uniform integer in [0, bound), bound > 0. */
typedef uint32_t (*channel_padding_rand_fn)(void *arg, uint32_t bound);

/* One link's state. Plain data: zeroing it is channel_padding_init(p, 0). */
struct channel_padding {
	uint64_t last_transfer_ns;	/* last cell sent or received */
	uint64_t deadline_ns;		/* 0: not drawn since last_transfer_ns */
	uint16_t low_ms;		/* negotiated, clamped; 0: never negotiated */
	uint16_t high_ms;
	bool enabled;			/* the last negotiation was START */
};

/* A link that just opened at now_ns: not padding, nothing negotiated. */
void channel_padding_init(struct channel_padding *p, uint64_t now_ns);

/* Applies a parsed PADDING_NEGOTIATE (tor's
 * channelpadding_update_padding_for_channel): START enables and STOP
 * disables padding; both store low = MAX(nf_ito_low, ito_low_ms) and
 * high = MAX(low, ito_high_ms). The deadline is drawn again. Returns 0, or
 * -EINVAL (nothing changed) for a version other than 0 or an unknown
 * command. */
int channel_padding_negotiate(struct channel_padding *p,
		const struct channel_padding_params *params,
		const struct padding_negotiate_cell *cell);

/* Draws one idle timeout in ms (tor's
 * channelpadding_get_netflow_inactive_timeout_ms): 0 when the consensus
 * turns padding off (both parameters 0). Calls rand twice unless the
 * window is a single value. */
uint32_t channel_padding_timeout_ms(const struct channel_padding *p,
		const struct channel_padding_params *params,
		channel_padding_rand_fn rand, void *rand_arg);

/* A cell went out or came in at now_ns: the idle time starts again. */
static inline void
channel_padding_on_transfer(struct channel_padding *p, uint64_t now_ns)
{
	p->last_transfer_ns = now_ns;
	p->deadline_ns = 0;
}

/* When a PADDING cell is due if nothing is transferred before: the
 * deadline drawn since the last transfer, drawing it now if there is none.
 * CHANNEL_PADDING_NEVER when padding is not enabled or the consensus turns
 * it off. */
uint64_t channel_padding_deadline(struct channel_padding *p,
		const struct channel_padding_params *params,
		channel_padding_rand_fn rand, void *rand_arg);

#endif
