/* Subprotocol version lists, the "proto" element of dir-spec 2.1.1 as it
 * appears in consensus "pr" lines and the recommended/required protocol
 * lines (tor-spec 9):
 *   Entries = Entry (SP Entry)*     Entry = Name "=" [Range ("," Range)*]
 *   Range   = Int | Int "-" Int     with 0 <= Int <= 63 (tor's limit)
 *
 * Only the protocols tor 0.4.9 defines are kept; entries for other names are
 * checked for syntax and otherwise ignored (tor-spec 9: unknown protocols
 * are not an error). A parsed set is a fixed-size value with no pointers.
 */
#ifndef HSRELAY_CONTROL_PROTOVER_H
#define HSRELAY_CONTROL_PROTOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/dirdoc_meta.h"

enum protover_name {
	PROTOVER_CONFLUX,
	PROTOVER_CONS,
	PROTOVER_DESC,
	PROTOVER_DIRCACHE,
	PROTOVER_FLOWCTRL,
	PROTOVER_HSDIR,
	PROTOVER_HSINTRO,
	PROTOVER_HSREND,
	PROTOVER_LINK,
	PROTOVER_LINKAUTH,
	PROTOVER_MICRODESC,
	PROTOVER_PADDING,
	PROTOVER_RELAY,
	PROTOVER_COUNT,
};

#define PROTOVER_MAX_VERSION 63
/* tor's MAX_PROTOCOL_NAME_LENGTH. */
#define PROTOVER_MAX_NAME_LEN 100

struct protover_set {
	/* Bit v of versions[name] set when version v is listed. */
	uint64_t versions[PROTOVER_COUNT];
};

/* Parses the arguments of a "pr"-style line into *out (cleared first).
 * -EPROTO on a malformed entry, a version above 63, a reversed range or a
 * known protocol listed twice. */
int protover_parse(struct dirdoc_span entries, struct protover_set *out);

/* True when set lists version of protocol name. */
bool protover_supports(const struct protover_set *set,
		enum protover_name name, unsigned version);

/* True when every version in need is also in have. */
bool protover_all_supported(const struct protover_set *have,
		const struct protover_set *need);

/* The protocol's spelling in documents ("HSDir"). */
const char *protover_name_string(enum protover_name name);

#endif
