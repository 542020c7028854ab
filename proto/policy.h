/*
 * The admission rules of the log, replayable: which key may sign which
 * event, parent links and transitions, deadlines on the log's clock, and
 * sealed bids.  The daemon applies them before sequencing an event; an
 * auditor (procurectl verify) applies them again to every entry in log
 * order and must reach the same verdicts.
 *
 * The rules read a key/value state derived only from earlier entries and
 * return the changes the new entry makes to it.  The caller keeps the
 * state (the daemon in the store plus an overlay of uncommitted changes,
 * the auditor in memory) and applies the changes when the entry is
 * logged.  Keys are text, values compact JSON objects with their members
 * in key order:
 *
 *   k/<keyid hex>   a granted key: {"granted","party","pub","revoked",
 *                   "roles","valid_from","valid_until"}
 *   o/<ocid>        a process: {"buyer","cancelled","deadline"}
 *   c/<ocid>/<supplier id>   a bid commitment: {"commitment","leaf",
 *                   "revealed"}
 *
 * A parent is found through get_event, by its leaf hash, in the log
 * itself.  Times are milliseconds since the epoch (UTC).
 */
#ifndef PR_POLICY_H
#define PR_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/dsse.h"
#include "proto/event.h"
#include "proto/key.h"
#include "proto/merkle.h"

#define PR_POLICY_MAX_PUTS 8
#define PR_POLICY_KEY_MAX 600

/* Read state key[0..klen): append the value to val and return 0, or
 * return PR_ENOTFOUND (or another error, passed up). */
typedef int (*pr_policy_get_fn)(
    void *ctx, const char *key, size_t klen, struct pr_buf *val);

/* Find the event whose leaf hash is leaf (committed or admitted earlier):
 * 0 and a new event in *out (the rules free it), PR_ENOTFOUND, or an
 * error. */
typedef int (*pr_policy_event_fn)(
    void *ctx, const uint8_t *leaf, struct pr_event **out);
/* Give back an event get_event returned, when the caller keeps its
 * events (a cache) instead of handing each to the rules. */
typedef void (*pr_policy_release_fn)(void *ctx, struct pr_event *ev);

struct pr_policy {
	pr_policy_get_fn get;
	void *ctx;
	/* Finds parents: an event that names one is refused (500,
	 * state_error) without it.  Events without an ocid (key events)
	 * are no one's parent. */
	pr_policy_event_fn get_event;
	/* When set, the events get_event returns are given back through
	 * it once the rules are done with them; else the rules free them
	 * with pr_event_free(). */
	pr_policy_release_fn release_event;
	/* Keys that may sign key.grant / key.revoke from the start (the
	 * log's configured admin keys); more come from grants with the
	 * admin role. */
	const struct pr_key *const *admins;
	size_t nadmins;
};

/* A granted key as the state records it. */
struct pr_policy_key {
	uint8_t pub[PR_KEY_PUB_LEN];
	char party[256];
	unsigned roles;
	int64_t valid_from, valid_until; /* 0: unbounded */
	int64_t granted; /* log time of the grant */
	int64_t revoked; /* log time of the revocation, 0 */
	int admin_config; /* one of pr_policy.admins */
};

/* The entry being admitted. */
struct pr_policy_input {
	const struct pr_event *ev;
	const struct pr_dsse *env;
	uint32_t valid; /* bit i set: signature i verified with its key */
	int64_t log_time;
	const uint8_t *leaf; /* PR_HASH_LEN bytes: this entry's leaf hash */
};

struct pr_policy_put {
	char key[PR_POLICY_KEY_MAX];
	size_t klen;
	char *val; /* malloc'ed JSON text */
	size_t vlen;
};

struct pr_policy_effects {
	struct pr_policy_put puts[PR_POLICY_MAX_PUTS];
	size_t nputs;
	/* signers as the registry knew them, in signature order */
	struct pr_policy_key signers[PR_DSSE_MAX_SIGS];
	size_t nsigners;
};

struct pr_policy_error {
	int status; /* HTTP status: 401, 403, 409, 422 */
	const char *code; /* stable: "unknown_key", "key_revoked", ... */
	char field[128]; /* JSON pointer or envelope field, "" if none */
	char message[300];
};

/*
 * Look up a key by DSSE keyid (hex).  Configured admin keys are found
 * too (admin_config set, roles = PR_ROLE_ADMIN).  0, PR_ENOTFOUND, or
 * another error.
 */
int pr_policy_key_get(
    const struct pr_policy *p, const char *keyid, struct pr_policy_key *out);

/*
 * Decide whether in may be logged.  0 with fx filled (release with
 * pr_policy_effects_clear()), or PR_EDENIED / PR_ECONFLICT / PR_EUNKNOWNKEY
 * / PR_ESIG / PR_EEVENT with err filled.
 */
int pr_policy_check(const struct pr_policy *p, const struct pr_policy_input *in,
    struct pr_policy_effects *fx, struct pr_policy_error *err);
void pr_policy_effects_clear(struct pr_policy_effects *fx);

#endif
