/*
 * store: the append-only log in LMDB, with its Merkle tree, signed
 * checkpoints, search indexes and derived state.
 *
 * One struct st_store is one LMDB environment in a data directory
 * (data.mdb, lock.mdb) plus the rollback-protection file signed-tree.
 * Entries are opaque byte strings (the proto entry layout); the caller
 * supplies what the indexes need.  Nothing in this API updates or deletes
 * an entry: the only write is st_append_batch().  The on-disk layout is
 * described in store/st_int.h.
 *
 * Errors: every int function returns 0 or a negative PR_E* code
 * (proto/err.h).  Out-parameters are written only on success; a
 * struct pr_buf out-parameter is appended to (never reset), and keeps its
 * previous length on failure.  Besides the codes listed with each
 * function, any function that reads may return PR_ENOMEM, PR_EBUSY (all
 * LMDB reader slots in use), PR_ECORRUPT (stored data fails a consistency
 * check), PR_EPANIC (LMDB hit a fatal error and the environment could
 * not be reopened; the next call tries again), PR_EIO or PR_ESYS.
 *
 * Threads: one st_store may be shared by any number of threads.  Reads
 * each run in their own short read transaction (MDB_NOTLS) and may run
 * concurrently with each other and with the writer; each sees one
 * consistent snapshot of the log.  st_append_batch() calls are serialized
 * by the store.  Callbacks run inside a read transaction: they may call
 * the read functions of the same store but must not call
 * st_append_batch() or st_close(), and should return quickly (an open read
 * transaction keeps LMDB from reusing pages and holds off map growth).
 * Pointers passed to a callback are valid only during the call.
 *
 * Processes: a data directory is open read-write in one process at a time
 * (the daemon; a second read-write st_open() gets PR_EBUSY) and read-only
 * in any number of others (procurectl's offline audit), which see each
 * commit as it lands.
 */
#ifndef ST_STORE_H
#define ST_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/merkle.h"

/* Store schema version written by this code (meta "version"). */
#define ST_SCHEMA_VERSION 2
/* Longest index key (ocid, party, item, kind) and state key in bytes:
 * LMDB's key limit for 4 KiB pages. */
#define ST_KEY_MAX 511
/* Longest entry: tlog-tiles bundles use a big-endian uint16 length. */
#define ST_ENTRY_MAX 65535
/* Tile height of the tree and of entry bundles (tlog-tiles). */
#define ST_TILE_HEIGHT 8
#define ST_TILE_WIDTH 256
/* st_scan(), st_scan_time(): start from the first matching entry. */
#define ST_SCAN_START UINT64_MAX
/* st_scan_desc(): start from the last matching entry. */
#define ST_SCAN_END UINT64_MAX

struct st_store;

/* Read by st_open() only; zero fields take the defaults shown. */
struct st_config {
	/* Data directory: must exist; 0700 expected (a warning otherwise). */
	const char *dir;
	/* Map size at open, bytes (0: 64 MiB); never below what is used. */
	uint64_t map_size_initial;
	/* Growth limit, bytes (0: 64 GiB). */
	uint64_t map_size_max;
	/* LMDB reader slots (0: 126): concurrent read transactions of all
	 * processes. */
	unsigned max_readers;
	/* Offline work and audit: no writes, no files created. */
	int readonly;
	/* Memory for index keys of recent entries before they are merged
	 * into the index DBs, bytes (0: 64 MiB). */
	uint64_t index_buffer_max;
	/* Optional: on failure of st_open(), receives one or more sentences
	 * a person can act on (e.g. why the store was refused).  Appended
	 * to; left alone on success. */
	struct pr_buf *errmsg;
};

/*
 * Open (creating on first use unless readonly) the store in cfg->dir.
 * cfg is not retained.  Clears stale LMDB reader slots left by dead
 * processes, then checks, in order:
 *   - the schema version: PR_EVERSION if it is not ST_SCHEMA_VERSION;
 *   - the tree: the root recomputed from the stored hashes at the size of
 *     the latest checkpoint must equal that checkpoint's root, and at the
 *     current size the stored root: else PR_ECORRUPT;
 *   - rollback: the store must hold the tree recorded in signed-tree (the
 *     largest tree this log ever signed): at least as many entries and
 *     the same root at that size, else PR_EROLLBACK.  A read-write open
 *     then brings signed-tree up to the latest stored checkpoint.
 * and loads the index journal (entries whose index keys are not merged
 * yet) into memory.  Read-only opens write nothing; on a read-only file
 * system they use LMDB's MDB_NOLOCK (nothing can be writing there).
 * Returns 0 and *out, which the caller owns and frees with st_close();
 * PR_EINVAL (bad cfg, dir not a directory), PR_ENOTFOUND (dir missing;
 * readonly and no store there), PR_EBUSY (open read-write elsewhere),
 * PR_EVERSION, PR_ECORRUPT, PR_EROLLBACK, PR_ENOSPC, PR_ESYS; with
 * cfg->errmsg explaining.  Thread-safe (opens nothing shared).
 */
int st_open(const struct st_config *cfg, struct st_store **out);

/* Close the environment and free st (NULL is a no-op).  No other call on
 * st may be running or start. */
void st_close(struct st_store *st);

/* A derived-state put: key (1..ST_KEY_MAX bytes) -> value (any length,
 * 0 allowed).  A later put of the same key replaces the value. */
struct st_kv {
	const void *key;
	size_t klen;
	const void *val;
	size_t vlen;
};

/*
 * One entry to append.  All pointers are borrowed for the duration of the
 * st_append_batch() call only.  Index keys are NUL-terminated strings of
 * 1..ST_KEY_MAX bytes; a key repeated within one entry is indexed once.
 */
struct st_append {
	/* The Merkle leaf bytes, at most ST_ENTRY_MAX. */
	const uint8_t *entry;
	size_t entry_len;
	/* Dedupe key: an envelope logged before is not logged again. */
	pr_hash envelope_hash;
	/* If has_leaf, the caller's leaf hash of entry (RFC 6962
	 * H(0x00 || entry)), used as it is: one that is wrong makes a tree
	 * that does not match its entries (st_verify() says so).  Else the
	 * store computes it. */
	int has_leaf;
	pr_hash leaf_hash;
	/* The log's sequencing time; never below the previous entry's. */
	uint64_t log_time_ms;
	/* Index keys: ocid and kind NULL if none. */
	const char *ocid;
	const char *kind;
	const char *const *parties;
	size_t nparties;
	const char *const *items;
	size_t nitems;
	/* Derived-state puts, applied in order. */
	const struct st_kv *state;
	size_t nstate;
};

/* One per st_append, in order. */
struct st_appended {
	uint64_t index;
	pr_hash leaf_hash;
	/* The envelope was logged already (before, or earlier in this
	 * batch): index and leaf_hash are the existing entry's, and nothing
	 * of this st_append was written. */
	int duplicate;
};

/*
 * Signs the new tree head: called once inside the write transaction after
 * all entries are added, with the new tree size and root (valid during the
 * call); must append the signed checkpoint note (text) to note and return
 * 0, or return a negative PR_E* code that aborts the batch.  Runs on the
 * appending thread.  May be called again for the same batch if the map had
 * to grow (the note must depend only on size, root and the time).
 */
typedef int (*st_sign_fn)(
    void *ctx, uint64_t size, const pr_hash root, struct pr_buf *note);

/*
 * Append n entries: tree, indexes, derived state and the new checkpoint
 * (size -> size|root|note), all in one write transaction committed
 * durably (LMDB's default sync) before return.  A batch whose entries are
 * all duplicates writes nothing and does not call sign.  An empty batch
 * (n == 0) signs and stores a checkpoint of the current tree if none is
 * stored for its size (a new log's first checkpoint, of the empty tree),
 * else does nothing.  sign may be NULL:
 * no checkpoint is stored for this batch (tools and benchmarks only: the
 * daemon always signs).
 *
 * On MDB_MAP_FULL the transaction is aborted, the map doubled (up to
 * map_size_max) and the batch retried.  After a signed commit the new
 * size and root go to signed-tree (one slot rewritten in place, one
 * fdatasync); if that fails the batch still succeeds (it is committed)
 * and the failure is logged, but every later call first retries the file
 * and fails with its error until it is written, so no checkpoint is ever
 * signed past an unrecorded one.
 *
 * On success fills res[0..n) (caller-allocated; may be NULL if n is 0),
 * *tree_size and root (each may be NULL).  On any failure nothing is
 * written, res is untouched, and the store stays usable: PR_EMAPFULL
 * (map_size_max reached: raise it with st_set_map_size_max() or reopen),
 * PR_ENOSPC (disk or quota full; retry when space returns), PR_EINVAL
 * (read-only store, bad arguments), PR_ETOOBIG (entry or key too long),
 * PR_ERANGE (log_time_ms going backwards), or the sign callback's code.
 * Thread-safe; concurrent calls run one after the other.
 */
int st_append_batch(struct st_store *st, const struct st_append *a, size_t n,
    st_sign_fn sign, void *ctx, struct st_appended *res, uint64_t *tree_size,
    pr_hash root);

/* Current tree: size and root (as of the latest commit); either may be
 * NULL. */
int st_tree(struct st_store *st, uint64_t *size, pr_hash root);

/* Latest stored checkpoint note, appended to note.  PR_ENOTFOUND if none. */
int st_checkpoint(struct st_store *st, struct pr_buf *note);
/* The checkpoint stored for exactly this tree size.  PR_ENOTFOUND. */
int st_checkpoint_at(struct st_store *st, uint64_t size, struct pr_buf *note);

/* Entry bytes at index, appended to out.  PR_ENOTFOUND past the end. */
int st_entry(struct st_store *st, uint64_t index, struct pr_buf *out);

/*
 * Calls cb for entries start .. start+count-1 in order (stopping at the
 * end of the log), from one snapshot.  cb returns 0 to go on, > 0 to stop
 * (st_entries then returns 0), < 0 to stop and have st_entries return
 * that code.  PR_ENOTFOUND if start is past the end, PR_EINVAL if cb is
 * NULL.
 */
int st_entries(struct st_store *st, uint64_t start, size_t count,
    int (*cb)(void *ctx, uint64_t index, const uint8_t *e, size_t len),
    void *ctx);

/* Leaf hash of the entry at index.  PR_ENOTFOUND past the end. */
int st_leaf_hash(struct st_store *st, uint64_t index, pr_hash out);
/* Index of the entry logged for this envelope hash.  PR_ENOTFOUND. */
int st_find_envelope(struct st_store *st, const pr_hash h, uint64_t *index);
/* Index of the (first) entry with this leaf hash.  PR_ENOTFOUND. */
int st_find_leaf(struct st_store *st, const pr_hash leaf, uint64_t *index);

/*
 * tlog-tiles reads, appended to out.  st_tile(): level L (0..7), tile
 * index N, width W (1..256): the W hashes (W*32 bytes) at tree level 8L,
 * indices N*256 .. N*256+W-1.  st_entry_bundle(): entries N*256 ..
 * N*256+W-1, each as a big-endian uint16 length and the bytes.  Any W up
 * to what the current tree holds is served (a partial tile of an older
 * checkpoint is a prefix of the newer one); PR_ENOTFOUND beyond it,
 * PR_EINVAL for W or L out of range.
 */
int st_tile(struct st_store *st, unsigned level, uint64_t index, unsigned width,
    struct pr_buf *out);
int st_entry_bundle(
    struct st_store *st, uint64_t index, unsigned width, struct pr_buf *out);

/*
 * RFC 9162 proofs from the stored tree.  proof must hold
 * PR_MERKLE_MAX_PROOF hashes; *len receives the count.  PR_ENOTFOUND if a
 * size exceeds the current tree, PR_EINVAL if index >= size or not
 * 0 < m <= n.
 */
int st_inclusion_proof(struct st_store *st, uint64_t index, uint64_t size,
    pr_hash *proof, size_t *len);
int st_consistency_proof(
    struct st_store *st, uint64_t m, uint64_t n, pr_hash *proof, size_t *len);
/* The inclusion proofs of entries first .. first + count - 1 in the tree
 * of size entries, from one snapshot, each handed to fn (see
 * pr_merkle_inclusion_proofs()).  PR_ENOTFOUND if size exceeds the
 * current tree, PR_EINVAL if first + count > size. */
int st_inclusion_proofs(struct st_store *st, uint64_t first, uint64_t count,
    uint64_t size, pr_merkle_proof_fn fn, void *ctx);
/* Root of the tree of the first size entries.  PR_ENOTFOUND past the end. */
int st_root_at(struct st_store *st, uint64_t size, pr_hash out);

/*
 * Index scans.  Results are log indexes in ascending order, strictly after
 * `after` (ST_SCAN_START: from the first), at most limit of them into
 * out[0..limit); *n receives the count (0 at the end: not an error).  To
 * page, pass the last index returned as the next `after`.  key is a
 * NUL-terminated index key as given to st_append_batch().  PR_EINVAL for
 * a bad index, key, or out NULL with limit > 0.
 */
enum st_index { ST_IDX_OCID, ST_IDX_PARTY, ST_IDX_ITEM, ST_IDX_KIND };
int st_scan(struct st_store *st, enum st_index which, const char *key,
    uint64_t after, size_t limit, uint64_t *out, size_t *n);
/* Descending: strictly before `before` (ST_SCAN_END: from the last);
 * "the latest N" of a process is st_scan_desc(..., ST_SCAN_END, N, ...). */
int st_scan_desc(struct st_store *st, enum st_index which, const char *key,
    uint64_t before, size_t limit, uint64_t *out, size_t *n);
/* Entries whose log time t satisfies from_ms <= t < to_ms, ascending,
 * paged as st_scan().  (Log times never decrease along the log, so this
 * is a contiguous range of indexes.) */
int st_scan_time(struct st_store *st, uint64_t from_ms, uint64_t to_ms,
    uint64_t after, size_t limit, uint64_t *out, size_t *n);

/*
 * Derived state (key registry, process heads, bid commitments ...) as
 * written through st_append.state.  st_state_get() appends the value to
 * val; PR_ENOTFOUND if the key was never put, PR_EINVAL for an empty or
 * too long key.  st_state_scan() calls cb for every key starting with
 * prefix (plen 0: all keys) in key order, from one snapshot; cb returns
 * as for st_entries().
 */
int st_state_get(
    struct st_store *st, const void *k, size_t klen, struct pr_buf *val);
int st_state_scan(struct st_store *st, const void *prefix, size_t plen,
    int (*cb)(
        void *ctx, const void *k, size_t klen, const void *v, size_t vlen),
    void *ctx);

/*
 * Hot backup: a compacted copy of the database (mdb_env_copy2 with
 * MDB_CP_COMPACT) from one read snapshot, written to path/data.mdb and
 * fsynced.  path must be an existing directory without a data.mdb
 * (PR_EEXIST otherwise; PR_ENOTFOUND, PR_EINVAL for a missing path or one
 * that is not a directory; PR_ENOSPC).  The signed-tree file is
 * deliberately not copied: restoring an old backup next to a newer
 * signed-tree is refused by st_open() (PR_EROLLBACK).  Runs concurrently
 * with reads and appends.
 */
int st_backup(struct st_store *st, const char *path);

/*
 * Deep check for audits: recomputes every leaf hash from the stored
 * entries, every stored tree hash above it, the leaf index, and every
 * stored checkpoint's root; checks the head's log time against the last
 * entry and the index merge marks against the index DBs and the journal
 * (every item of a journalled entry merged exactly when its shard's mark
 * says so); then rescans every other record (checkpoint
 * notes, lookups, indexes, derived state) against the sums of record
 * hashes the store keeps with each write.  On a mismatch returns
 * PR_ECORRUPT, sets *bad (may be NULL) to the index of the first entry
 * whose hash (or a tree node above it) disagrees, or UINT64_MAX when the
 * damage is not in one entry (the sentence appended to msg, which may be
 * NULL, names the checkpoint or database).  Reads in chunks of separate
 * snapshots; safe while appends run (checks the tree as of its start).
 */
int st_verify(struct st_store *st, uint64_t *bad, struct pr_buf *msg);

/* Change the map growth limit of an open store, e.g. after PR_EMAPFULL
 * (never shrinks the current map).  PR_EINVAL for 0.  Thread-safe. */
int st_set_map_size_max(struct st_store *st, uint64_t bytes);

/* Named databases, in the order st_stats.db lists them. */
#define ST_NDB 14

struct st_db_stats {
	const char *name; /* static string */
	uint64_t entries; /* records (dupsort: key/value pairs) */
	uint64_t pages; /* branch + leaf + overflow pages */
	unsigned depth;
};

/* A snapshot of sizes and usage, e.g. for /metrics. */
struct st_stats {
	uint64_t tree_size;
	/* Sum of entry lengths. */
	uint64_t entry_bytes;
	/* Stored checkpoints. */
	uint64_t checkpoints;
	/* Tree size recorded in signed-tree, and whether writing it failed
	 * (appends refuse until it succeeds). */
	uint64_t signed_size;
	int signed_pending;
	/* Map: current size, growth limit, bytes up to the last page in
	 * use; size of data.mdb. */
	uint64_t map_size;
	uint64_t map_size_max;
	uint64_t map_used;
	uint64_t file_size;
	unsigned page_size;
	/* Reader slots: configured, in use by all processes. */
	unsigned max_readers;
	unsigned readers_used;
	uint64_t last_txn;
	/* Index buffer: bytes of memory; entries whose index keys are not
	 * all merged into the index DBs yet. */
	uint64_t index_buffer;
	uint64_t index_pending;
	struct st_db_stats db[ST_NDB];
};

/* Fill *out.  Thread-safe. */
int st_stats(struct st_store *st, struct st_stats *out);

#endif
