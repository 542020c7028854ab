/*
 * procurectl verify: the auditor's replay of a whole log.
 *
 * For the tree of the checkpoint it is given (signature checked against
 * the auditor's verifier key), verify reads every entry bundle and hash
 * tile the tree needs, recomputes the tree from the entries' leaf hashes
 * and compares every tile and the root, decodes every entry, checks every
 * envelope signature with keys replayed from the log itself, replays the
 * admission rules (vf_policy_check(), one call per entry) and keeps a
 * state file so that the next run proves consistency with this
 * checkpoint and reads only the new entries.
 */
#ifndef CL_VERIFY_H
#define CL_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "cli/kv.h"
#include "proto/dsse.h"
#include "proto/event.h"
#include "proto/key.h"
#include "proto/log.h"
#include "proto/merkle.h"
#include "proto/tile.h"

#define VF_NO_ENTRY UINT64_MAX

/* Why verification failed: the entry (or VF_NO_ENTRY), a stable rule
 * name ("bad_signature", "tile_mismatch" ...), and a sentence. */
struct vf_fail {
	uint64_t index;
	char rule[48];
	char msg[480];
};

/* Record a failure in f (when f holds none yet or a later entry); returns
 * PR_ECORRUPT so callers can "return vf_failf(...)". */
int vf_failf(struct vf_fail *f, uint64_t index, const char *rule,
    const char *fmt, ...) PR_PRINTF(4, 5);

/*
 * The right edge of the verified tree: its compact range (stack, whose
 * size is the tree size) and, for every tile level, the hashes of the
 * rightmost tile verified so far (edge_n[k] = (size >> 8k) mod 256).
 */
struct vf_tree {
	struct pr_merkle_stack stack;
	uint8_t edge[PR_TILE_MAX_LEVELS][PR_TILE_WIDTH * PR_HASH_LEN];
	unsigned edge_n[PR_TILE_MAX_LEVELS];
};

/* Called with each hash tile (level, index) above level 0 that a new leaf
 * completes: its 256 hashes. */
typedef int (*vf_tile_fn)(
    void *ctx, unsigned level, uint64_t index, const uint8_t *hashes);
/* Add a leaf hash to the tree, keeping the edges; full may be NULL. */
int vf_tree_push(
    struct vf_tree *t, const pr_hash leaf, vf_tile_fn full, void *ctx);

/*
 * What a run leaves for the next one.  kv is the replayed admission state
 * (proto/policy.h's keys: k/<keyid>, l/<leaf>, o/<ocid>, c/...); keys maps
 * a DSSE keyid (hex) to the raw public key of every key granted so far
 * (ptr: a struct pr_key), so signatures can be checked before the rules
 * run.
 */
struct vf_state {
	char *origin;
	char *checkpoint; /* the last verified signed checkpoint note */
	size_t cplen;
	pr_hash root;
	struct vf_tree tree; /* tree.stack.size is the verified size */
	int64_t last_log_time;
	struct cl_kv *kv;
	struct cl_kv *keys;
};

int vf_state_init(struct vf_state *s);
void vf_state_clear(struct vf_state *s);
/* Add a public key to s->keys (no-op if present); *out (may be NULL)
 * receives the key, owned by the map. */
int vf_state_add_key(struct vf_state *s, const uint8_t pub[PR_KEY_PUB_LEN],
    const struct pr_key **out);
/* The key with this DSSE keyid (64 hex digits), or NULL. */
const struct pr_key *vf_state_key(
    const struct vf_state *s, const char *keyid, size_t len);
/*
 * Read a state file into s (initialized).  PR_ENOTFOUND if path does not
 * exist; PR_ECORRUPT (with pr_errmsg() detail) if it is damaged.
 */
int vf_state_load(const char *path, struct vf_state *s);
/* Write s to path atomically (temporary file, fsync, rename). */
int vf_state_save(const char *path, const struct vf_state *s);

/* One entry as the admission rules see it. */
struct vf_entry {
	uint64_t index;
	int64_t log_time;
	const uint8_t *leaf; /* PR_HASH_LEN bytes */
	const struct pr_dsse *env;
	const struct pr_event *ev;
	uint32_t valid; /* bit i: signature i verified with its keyid's key */
};

struct cl_src;

/*
 * The events of verified entries, for the chain rules between an event
 * and its parent (pr_event_check_parent()).  The second stage keeps each
 * admitted entry's event; a parent not among the last few thousand kept
 * (or verified by an earlier run) is read again from src (whole entry
 * bundles of the tree of size entries, the last few kept), its leaf hash
 * compared with the one verified before, and parsed.  src is used only
 * by the calling thread.
 */
struct vf_events;

int vf_events_new(struct cl_src *src, uint64_t size, struct vf_events **out);
void vf_events_free(struct vf_events *c);
/* Keep ev (ownership moves to c) as the event of entry index. */
void vf_events_keep(struct vf_events *c, uint64_t index, struct pr_event *ev);
/*
 * The event of entry index, whose leaf hash is leaf: borrowed, valid
 * until the next call on c.  PR_ECORRUPT with f filled (at index) when
 * the entry read again differs from the one verified; the source's error
 * when it cannot be read.
 */
int vf_events_get(struct vf_events *c, uint64_t index, const uint8_t *leaf,
    struct pr_event **out, struct vf_fail *f);
/* How many parents were found kept, and how many bundles read again. */
void vf_events_stats(
    const struct vf_events *c, uint64_t *hits, uint64_t *reads);

/*
 * The rules' context: the replayed state, the log's admin keys, and the
 * events of verified entries (NULL: the chain rules are not applied).
 */
struct vf_policy {
	struct vf_state *state;
	const struct pr_key *const *admins;
	size_t nadmins;
	struct vf_events *events;
	/* private, during vf_policy_check() */
	struct vf_fail *fail;
	int src_rc; /* a source error while reading a parent */
	uint64_t parents; /* parent events the chain rules read */
};

/*
 * The admission rules, replayed: called once per entry, in log order,
 * after the entry's signatures were checked.  This is the one place where
 * verify calls the shared rules engine (proto/policy.h: pr_policy_check(),
 * the rules the daemon applied when it logged the entry: known, valid and
 * unrevoked keys, which party may sign which kind, parent links and
 * transitions, the chain rules between an event and its parent's event,
 * deadlines on the log's clock, sealed bids) and applies the entry's
 * changes to the state; an event's l/<leaf> record also gets its entry
 * index ("index"), so its parent can be found again.  Returns 0, or
 * PR_ECORRUPT with f filled (the rule's stable code and its message), or
 * the source's error (with pr_errmsg() detail) when a parent could not
 * be read.
 */
int vf_policy_check(
    struct vf_policy *p, const struct vf_entry *e, struct vf_fail *f);

struct cl_ctx;
struct vf_pool;
struct vf_fetch;

/* One run of verify over the entries [state size, size). */
struct vf_run {
	struct cl_ctx *ctx;
	struct cl_src *src;
	struct vf_state *st; /* updated in place as entries are verified */
	struct vf_policy pol;
	struct vf_pool *pool;
	struct vf_fail fail; /* the failure of the lowest entry, if any */
	int failed;
	uint64_t size; /* the checkpoint's tree size */
	pr_hash root; /* and root */
	int progress; /* show progress on stderr */
	/* what was checked */
	uint64_t entries, sigs, bytes, hash_tiles, bundles;
	uint64_t parents, parent_reads; /* chain rules: parents, re-reads */
	double seconds;
	/* private */
	uint64_t start;
	struct pr_buf tile0;
	struct vf_fetch *fetch;
	double t0, shown;
};

/*
 * Verify every entry after r->st's tree up to r->size, every tile on the
 * way and the root against r->root.  0 when everything holds (r->st then
 * describes the tree of r->size), PR_ECORRUPT with r->fail filled when a
 * check failed, another code (printed already) when the source failed.
 */
int vf_run_entries(struct vf_run *r);

/* What a verify command found, for callers other than the command line. */
struct vf_outcome {
	int failed;
	struct vf_fail fail;
	uint64_t previous; /* tree size of the state file, 0 if none */
	uint64_t size; /* tree size verified */
	uint64_t entries, sigs;
	uint64_t parents, parent_reads;
};

struct cl_args;
/* procurectl verify with its parsed arguments; returns the exit status
 * and fills *o. */
int vf_verify(
    struct cl_ctx *ctx, const struct cl_args *a, struct vf_outcome *o);
double vf_now(void);

#endif
