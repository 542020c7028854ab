/*
 * store internals shared by the store/ sources; not part of the API.
 *
 * On-disk layout (schema version 1), one LMDB environment, named DBs:
 *
 *   meta         "version" -> u32 BE schema version
 *                "created" -> u64 BE ms since the epoch
 *                "segsize" -> u32 BE size of a full "entries" segment
 *                "head"    -> u64 BE size || root[32] || u64 BE heap end
 *                             || u64 BE log time of the last entry (ms)
 *   entries      u64 BE segment number -> segment: the entry heap, i.e.
 *                the concatenation, in log order, of every entry as a
 *                u16 BE length and its bytes (the tlog-tiles bundle
 *                encoding), cut into segments of segsize bytes (the last
 *                one shorter).  segsize is the largest value LMDB keeps
 *                in a leaf page two to a page, so ~2 KiB entries cost no
 *                overflow pages.  MDB_APPEND.
 *   offsets      u64 BE index -> u64 BE heap offset of the entry's length
 *                prefix.  MDB_APPEND.
 *   tiles        u8 level L || u64 BE tile index N -> the full-subtree
 *                hashes of tile (L, N) of width w (1..256): for r = 0..7,
 *                the w >> r hashes at tree level 8L + r, indices
 *                (N * 256 >> r) onwards, level by level.  Row r = 0 is the
 *                tlog-tiles tile; w is implied by the value length.  The
 *                partial tile of each level is rewritten as it grows.
 *   checkpoints  u64 BE size -> u64 BE size || root[32] || note text.
 *   leaf         leaf hash[32] -> u64 BE index (first entry with it).
 *   envelope     envelope hash[32] -> u64 BE index.
 *   ocid, party, item, kind
 *                key string (no NUL) -> u64 BE index; MDB_DUPSORT |
 *                MDB_DUPFIXED, values appended with MDB_APPENDDUP.
 *   time         u64 BE log time ms || u64 BE index -> empty.  MDB_APPEND.
 *   state        caller's key bytes -> caller's value bytes.
 *   meta "digest" one sum of record hashes a database (see digest.c).
 *
 * Outside LMDB, in the data directory: signed-tree (see rollback.c).
 */
#ifndef ST_INT_H
#define ST_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>

#include "proto/buf.h"
#include "proto/merkle.h"
#include "store/store.h"

enum sti_db {
	DB_META,
	DB_ENTRIES,
	DB_OFFSETS,
	DB_TILES,
	DB_CKPT,
	DB_LEAF,
	DB_ENVELOPE,
	DB_OCID,
	DB_PARTY,
	DB_ITEM,
	DB_KIND,
	DB_TIME,
	DB_STATE,
};

extern const char *const sti_dbname[ST_NDB];

#define STI_HEAD_LEN (8 + PR_HASH_LEN + 8 + 8)
#define STI_TILE_MAX 510 /* hashes in a full tile record: 256 + ... + 2 */
#define STI_LEVELS 8 /* tile levels: 8 * 8 = 64 tree levels */
/* With MDB_APPEND or MDB_APPENDDUP: a KEYEXIST answer is not an error. */
#define STI_EXIST_OK 0x80000000u
#define STI_DIG_LEN 32 /* a record digest sum (digest.c) */

struct sti_head {
	uint64_t size;
	pr_hash root;
	uint64_t heap_end;
	uint64_t last_time;
};

struct sti_tile {
	int live, dirty;
	uint64_t n;
	unsigned w;
	uint8_t h[STI_TILE_MAX][PR_HASH_LEN]; /* level r at 512 - (512 >> r) */
};

struct st_store {
	MDB_env *env;
	MDB_dbi dbi[ST_NDB];
	char *dir;
	int readonly;
	unsigned envflags;
	unsigned max_readers;
	uint64_t map_initial;
	size_t segsize;
	/* Readers and the writer's transaction hold it shared; map growth
	 * and environment reopening hold it exclusive. */
	pthread_rwlock_t maplock;
	unsigned gen; /* bumped by each reopen; under maplock */
	_Atomic uint64_t map_max;
	/* Serializes writers; guards everything below. */
	pthread_mutex_t wlock;
	struct pr_merkle_stack stack;
	int stack_ok;
	pr_hash signed_root;
	_Atomic uint64_t signed_size;
	_Atomic int signed_pending;
	struct sti_tile *tiles; /* STI_LEVELS, writer scratch */
	uint8_t *segbuf; /* segsize bytes, writer scratch */
	uint8_t *tilebuf; /* one full tile record, writer scratch */
	/* Record digests as of the last commit (digest.c). */
	uint8_t digest[ST_NDB][STI_DIG_LEN];
	int have_digest;
};

/* A write transaction that remembers its first error (raw LMDB code,
 * errno value or PR_E* code): every later operation is a no-op, and
 * sti_wend() aborts instead of committing. */
struct sti_wtxn {
	struct st_store *st;
	MDB_txn *txn;
	int rc;
	/* Record digests with this transaction's writes; stored by
	 * sti_wend() when dirty and adopted once committed. */
	uint8_t dig[ST_NDB][STI_DIG_LEN];
	int digdirty;
	struct evp_md_ctx_st *md;
};

/* env.c */
int sti_err(int rc);
void sti_errmsg(struct pr_buf *msg, const char *fmt, ...) PR_PRINTF(2, 3);
int sti_env_open(struct st_store *st, struct pr_buf *msg);
void sti_env_close(struct st_store *st);
int sti_rbegin(struct st_store *st, MDB_txn **txn);
void sti_rend(struct st_store *st, MDB_txn *txn);
int sti_wbegin(struct st_store *st, struct sti_wtxn *w);
int sti_wend(struct sti_wtxn *w, int commit);
int sti_wput(struct sti_wtxn *w, enum sti_db db, const void *k, size_t klen,
    const void *v, size_t vlen, unsigned flags);
int sti_wget(
    struct sti_wtxn *w, enum sti_db db, const void *k, size_t klen, MDB_val *v);
void sti_wfail(struct sti_wtxn *w, int rc);
int sti_grow(struct st_store *st);
int sti_recover(struct st_store *st);
void sti_adopt_mapsize(struct st_store *st);
int sti_get(struct st_store *st, MDB_txn *txn, enum sti_db db, const void *k,
    size_t klen, MDB_val *v);

/* digest.c */
int sti_dig_tracked(enum sti_db db);
int sti_dig_rec(struct evp_md_ctx_st *md, uint8_t sum[STI_DIG_LEN],
    enum sti_db db, const MDB_val *k, const MDB_val *v, int sub);
void sti_dig_sub(uint8_t sum[STI_DIG_LEN], const uint8_t h[STI_DIG_LEN]);
int sti_dig_put(
    struct st_store *st, MDB_txn *txn, const uint8_t sums[ST_NDB][STI_DIG_LEN]);
int sti_dig_open(struct st_store *st);
int sti_dig_verify(struct st_store *st, struct pr_buf *msg);

/* read.c */
int sti_head(struct st_store *st, MDB_txn *txn, struct sti_head *h);
void sti_head_encode(const struct sti_head *h, uint8_t out[STI_HEAD_LEN]);
int sti_ckpt_last(
    struct st_store *st, MDB_txn *txn, uint64_t *size, pr_hash root);

/* heap.c */
struct sti_heap {
	struct sti_wtxn *w;
	size_t segsize;
	uint64_t seg;
	size_t fill;
	int exists, dirty;
	uint64_t end;
	uint8_t *buf;
};
void sti_heap_begin(struct sti_heap *h, struct sti_wtxn *w, uint64_t end);
void sti_heap_append(struct sti_heap *h, const void *p, size_t len);
void sti_heap_finish(struct sti_heap *h);
int sti_heap_read(
    struct st_store *st, MDB_txn *txn, uint64_t off, size_t len, uint8_t *dst);
int sti_read_range(struct st_store *st, MDB_txn *txn, const struct sti_head *h,
    uint64_t i, uint64_t j, struct pr_buf *out);
int sti_entry_off(struct st_store *st, MDB_txn *txn, const struct sti_head *h,
    uint64_t index, uint64_t *off);

/* tree.c */
struct sti_tread {
	struct st_store *st;
	MDB_txn *txn;
	int nocache;
	struct {
		int ok;
		uint64_t n;
		const uint8_t *p;
		unsigned w;
	} c[STI_LEVELS];
};
void sti_tread_init(struct sti_tread *t, struct st_store *st, MDB_txn *txn);
int sti_tree_get(void *ctx, unsigned level, uint64_t index, pr_hash out);

struct sti_twriter {
	struct sti_wtxn *w;
	struct sti_tile *t;
};
void sti_twriter_begin(struct sti_twriter *tw, struct sti_wtxn *w);
int sti_tree_put(void *ctx, unsigned level, uint64_t index, const pr_hash h);
void sti_twriter_finish(struct sti_twriter *tw);

/* rollback.c */
int sti_signed_read(struct st_store *st, int *found, uint64_t *size,
    pr_hash root, struct pr_buf *msg);
int sti_signed_write(struct st_store *st, uint64_t size, const pr_hash root);

/* verify.c */
int sti_open_check(struct st_store *st, struct pr_buf *msg);

#endif
