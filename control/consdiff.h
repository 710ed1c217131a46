/* Consensus diffs (dir-spec "Consensus diffs", proposal 140; the format
 * tor's consdiff.c writes and applies), so that a directory cache can send
 * a client that holds an older consensus only what changed.
 *
 * A diff is text:
 *   network-status-diff-version 1
 *   hash BASE TARGET
 *   ed commands, each "N[,M]c|d" or "Na" (N,M 1-based lines of the base),
 *   "c" and "a" followed by the new lines and a line ".", commands in
 *   decreasing line order; the first may be "N,$d".
 * BASE is the hex SHA3-256 of the base as signed (from its start through
 * the space after the first "directory-signature"), TARGET the hex SHA3-256
 * of the whole target. The first command deletes the base's signatures
 * ("N,$d" from its first "directory-signature " line): they are not
 * signed, so two copies of one consensus may differ there, and the client
 * applies the diff to its own copy. Lines are '\n'-terminated; a line added
 * may not be "." alone (the generator refuses such a pair).
 *
 * The functions here are pure (no crypto: the caller hashes) and bounded
 * by their inputs; they allocate (slow path only). */
#ifndef HSRELAY_CONTROL_CONSDIFF_H
#define HSRELAY_CONTROL_CONSDIFF_H

#include <stddef.h>
#include <stdint.h>

#define CONSDIFF_DIGEST_LEN 32

/* Writes the diff from base to target into a malloc'd buffer (*out,
 * *out_len; the caller frees it). base_digest is base's SHA3-256 as
 * signed, target_digest target's SHA3-256. Routers are matched by the
 * identity in their "r " lines, which must be sorted in both (as in every
 * consensus); the lines between two matched routers are diffed by their
 * longest common subsequence. The diff is applied to base before it is
 * returned and must give target. Returns 0, -ENOMEM, or -EINVAL: a
 * document with a line not ending in '\n', routers out of order, a target
 * line ".", or a diff that does not give target. */
int consdiff_generate(const uint8_t *base, size_t base_len, const uint8_t *target,
		size_t target_len, const uint8_t base_digest[CONSDIFF_DIGEST_LEN],
		const uint8_t target_digest[CONSDIFF_DIGEST_LEN], uint8_t **out, size_t *out_len);

/* Applies diff to base as tor's consdiff_apply_diff does, with the same
 * checks (version line, a "hash" line of exactly three words with two
 * 64-digit hex digests, ed commands shorter than 128 bytes in strictly
 * decreasing order, ranges with end > start, "$" only with "d", no range
 * with "a", no empty insertion, every insertion ended by "."), into a
 * malloc'd buffer (*out, *out_len; the caller frees it). The header's
 * digests go to base_digest and target_digest: the caller checks the
 * first against base's SHA3-256 as signed and the second against the
 * result's SHA3-256. Returns 0, -ENOMEM, or -EBADMSG for a diff (or base)
 * that breaks a rule; *out is untouched then. */
int consdiff_apply(const uint8_t *base, size_t base_len, const uint8_t *diff, size_t diff_len,
		uint8_t base_digest[CONSDIFF_DIGEST_LEN],
		uint8_t target_digest[CONSDIFF_DIGEST_LEN], uint8_t **out, size_t *out_len);

#endif
