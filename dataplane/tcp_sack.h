/* The sender's SACK scoreboard (RFC 2018, RFC 6675): which bytes above
 * SND.UNA the peer has selectively acknowledged, and from that the
 * RFC 6675 routines the sender's loss recovery needs: IsLost(), SetPipe()
 * and the retransmission part of NextSeg().
 *
 * Pure functions over a small fixed array, no DPDK dependency, so unit
 * tests and the fuzz target link them alone. Sequence numbers are host
 * order and compared modulo 2^32. */
#ifndef HSRELAY_DATAPLANE_TCP_SACK_H
#define HSRELAY_DATAPLANE_TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/tcp_options.h"

/* Disjoint SACKed ranges kept per connection. A peer reports at most 4
 * blocks per ACK (RFC 2018 3) but the holes of one window can be more;
 * when a new range does not fit, the highest is forgotten: its bytes then
 * look un-SACKed, which only makes the sender count them in flight. */
#define TCP_SACK_BOARD_MAX 8

/* RFC 6675 2: DupThresh. */
#define TCP_SACK_DUP_THRESH 3

struct tcp_sack_board {
	/* Sorted by sequence, disjoint and not adjacent, all above the
	 * SND.UNA of the last call and at or below SND.MAX. */
	struct tcp_sack_block ranges[TCP_SACK_BOARD_MAX];
	uint8_t count;
};

void tcp_sack_board_clear(struct tcp_sack_board *board);

/* Forgets what una (the new SND.UNA) acknowledges cumulatively. */
void tcp_sack_board_advance(struct tcp_sack_board *board, uint32_t una);

/* RFC 6675 4 Update(): merges the SACK blocks of one ACK. A block must
 * have left < right and right <= snd_max (else it is bogus and ignored,
 * RFC 2018 gives no meaning to it); what lies at or below una (a D-SACK,
 * RFC 2883, or an old block) is ignored. Returns the bytes SACKed for the
 * first time. */
uint32_t tcp_sack_board_update(struct tcp_sack_board *board, uint32_t una, uint32_t snd_max,
		const struct tcp_sack_block *blocks, unsigned count);

/* Bytes SACKed at or above seq. */
uint32_t tcp_sack_board_bytes_above(const struct tcp_sack_board *board, uint32_t seq);

/* RFC 6675 4 IsLost(seq): DupThresh discontiguous SACKed ranges above seq,
 * or more than (DupThresh - 1) * mss bytes SACKed above it. seq must not
 * be SACKed itself. */
bool tcp_sack_board_is_lost(const struct tcp_sack_board *board, uint32_t seq, uint32_t mss);

/* RFC 6675 4 SetPipe(): the bytes in [una, snd_max) the sender should
 * count as in the network: each un-SACKed byte not deemed lost, plus each
 * un-SACKed byte below high_rxt (retransmitted in this recovery). */
uint32_t tcp_sack_board_pipe(const struct tcp_sack_board *board, uint32_t una, uint32_t snd_max,
		uint32_t high_rxt, uint32_t mss);

/* RFC 6675 4 NextSeg() rule 1: the lowest un-SACKed sequence number
 * s >= max(una, high_rxt) below the highest SACKed byte with IsLost(s).
 * Returns false when there is none, else true with *seq = s and *len the
 * bytes from s to the end of its hole (the caller cuts a segment). */
bool tcp_sack_board_next_lost(const struct tcp_sack_board *board, uint32_t una,
		uint32_t high_rxt, uint32_t mss, uint32_t *seq, uint32_t *len);

/* RFC 6675 4 NextSeg() rule 3: as tcp_sack_board_next_lost() without the
 * IsLost(s) test: the lowest un-SACKed s >= max(una, high_rxt) below the
 * highest SACKed byte, lost or not. */
bool tcp_sack_board_next_hole(const struct tcp_sack_board *board, uint32_t una,
		uint32_t high_rxt, uint32_t *seq, uint32_t *len);

/* RFC 6675 4 NextSeg() rule 4: the end of the highest un-SACKed range of
 * [una, snd_max) (the rescue retransmission must include the byte before
 * it); una when there is none. */
uint32_t tcp_sack_board_top_unsacked(const struct tcp_sack_board *board, uint32_t una,
		uint32_t snd_max);

#endif
