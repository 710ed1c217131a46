/* What SIGHUP may change: the difference between the running configuration
 * and a freshly read one, key by key, and which of those changes a running
 * hsrelay can take.
 *
 * tor re-reads its torrc on SIGHUP, refuses options that cannot change
 * while running (options_transition_allowed() in tor's config.c) and marks
 * its descriptor dirty when something it advertises changed. hsrelay does
 * the same within its architecture: the DPDK keys, the ORPort, Address,
 * DataDirectory, the authorities and the per-worker table sizes are fixed
 * when the workers start, so a change to them is reported as needing a
 * restart and the old value stays in force; what the control thread owns
 * (descriptor fields, the HSDir cache cap, the MetricsPort policy, the
 * DoS limits, the accounting keys) is applied. Pure functions over struct
 * config: no I/O, no global state.
 */
#ifndef HSRELAY_CONTROL_CONFIG_RELOAD_H
#define HSRELAY_CONTROL_CONFIG_RELOAD_H

#include <stdbool.h>

#include "control/config.h"

/* What happens to a changed key. */
enum config_reload_action {
	CONFIG_RELOAD_APPLY = 0,	/* taken by the running relay */
	CONFIG_RELOAD_RESTART,		/* needs a restart; the old value is kept */
	CONFIG_RELOAD_NO_EFFECT,	/* accepted, but hsrelay does not use it */
};

/* One key whose value differs between the two configurations. */
struct config_reload_change {
	const char *key;		/* as spelled in the key table, static */
	enum config_reload_action action;
	bool descriptor;		/* applied, and part of the server descriptor */
};

/* Every key that can differ (the key table of config.c, minus ExitRelay and
 * ExitPolicy, whose only accepted values leave nothing to store). */
#define CONFIG_RELOAD_KEYS_MAX 64

struct config_reload_plan {
	unsigned n_changes;
	struct config_reload_change changes[CONFIG_RELOAD_KEYS_MAX];
	bool apply;			/* some change is CONFIG_RELOAD_APPLY */
	bool descriptor_dirty;		/* rebuild and upload the descriptor */
	bool needs_restart;		/* some change is CONFIG_RELOAD_RESTART */
};

/* Compares running with fresh (both fully parsed and checked) and fills
 * *plan with one change per differing key, in the key table's order. */
void config_reload_diff(const struct config *running, const struct config *fresh,
		struct config_reload_plan *plan);

/* Copies into running the values of fresh for the keys plan marks
 * CONFIG_RELOAD_APPLY or CONFIG_RELOAD_NO_EFFECT; the keys that need a
 * restart keep running's values. plan must come from config_reload_diff()
 * on the same two configurations. */
void config_reload_apply(struct config *running, const struct config *fresh,
		const struct config_reload_plan *plan);

/* The action for key (case-insensitive), whether it changed or not; used
 * by docs and tests. Returns -ENOENT for a key that is not in the table. */
int config_reload_action_of(const char *key, enum config_reload_action *action);

/* "applied", "needs restart, kept old value" or "accepted, not used by
 * hsrelay". */
const char *config_reload_action_name(enum config_reload_action action);

#endif
