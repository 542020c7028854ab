/*
 * store internals shared by the store/ sources; not part of the API.
 *
 * On-disk layout (schema version 2): one LMDB environment (data.mdb,
 * lock.mdb), durable defaults, 4 KiB pages, these named DBs (BE: big
 * endian; keys compare as bytes):
 *
 *   meta         "version" -> u32 BE schema version (2)
 *                "created" -> u64 BE ms since the epoch
 *                "segsize" -> u32 BE size of a full "entries" segment
 *                "head"    -> u64 BE size || root[32] || u64 BE heap end
 *                             || u64 BE log time of the last entry (ms)
 *                "ibuf"    -> u32 BE shard count (256) || u32 BE next
 *                             shard to merge || 256 x u64 BE watermark
 *                             W[s]: the index DBs hold shard s's keys of
 *                             entries below W[s] (see merge.c)
 *   entries      u64 BE segment number -> segment: the entry heap, i.e.
 *                the concatenation, in log order, of every entry as a
 *                u16 BE length and its bytes (the tlog-tiles bundle
 *                encoding), cut into segments of segsize bytes (the last
 *                one shorter; segsize 2022 for 4 KiB pages: the largest
 *                value LMDB keeps in a leaf page two to a page, so ~2 KiB
 *                entries cost no overflow pages).  MDB_APPEND.
 *   offsets      u64 BE index -> u64 BE heap offset of the entry's length
 *                prefix.  MDB_APPEND.
 *   tiles        u8 level L || u64 BE tile index N -> the full-subtree
 *                hashes of tile (L, N) of width w (1..256): for r = 0..7,
 *                the w >> r hashes at tree level 8L + r, indices
 *                (N * 256 >> r) onwards, level by level.  Row r = 0 is the
 *                tlog-tiles tile; w is implied by the value length.  The
 *                partial tile of each level is rewritten as it grows.
 *   checkpoints  u64 BE size -> u64 BE size || root[32] || note text.
 *                MDB_APPEND.
 *   leaf         leaf hash[32] -> u64 BE index (first entry with it).
 *   envelope     envelope hash[32] -> u64 BE index.
 *   ocid, party, item, kind
 *                key string (no NUL) -> u64 BE index; MDB_DUPSORT |
 *                MDB_DUPFIXED, values added with MDB_APPENDDUP.
 *   time         u64 BE log time ms || u64 BE index -> empty.  MDB_APPEND.
 *   state        caller's key bytes -> caller's value bytes.
 *   journal      u64 BE index -> the index keys of the entry: envelope
 *                hash[32] || ocid || kind || u16 BE count || parties ||
 *                u16 BE count || items, each string a u16 BE length and
 *                its bytes (length 0: none).  MDB_APPEND.  Holds entries
 *                from min W[s] on.
 *   meta "digest" one sum of record hashes a database (see digest.c).
 *
 * leaf, envelope, ocid, party, item and kind are written behind: each
 * commit appends journal records, the keys wait in memory (ibuf.c), and
 * commits merge one shard of them at a time into these DBs (merge.c),
 * paced so that each shard is merged once per half the log's size (up to
 * what the buffer's byte limit holds): a merge then finds about as many
 * of its keys on each index page at any log size.
 * Dedupe first asks the writer's in-memory filter of envelope hashes
 * (filter.c), rebuilt from DB "envelope" and the buffer after open.
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
	DB_JOURNAL,
};

extern const char *const sti_dbname[ST_NDB];

#define STI_HEAD_LEN (8 + PR_HASH_LEN + 8 + 8)
#define STI_TILE_MAX 510 /* hashes in a full tile record: 256 + ... + 2 */
#define STI_LEVELS 8 /* tile levels: 8 * 8 = 64 tree levels */
#define STI_SHARDS 256 /* index buffer shards */
#define STI_PACE_SHARE 2 /* paced merge span: the log size over this */
#define STI_PACE_MIN 4096 /* smallest paced merge span, entries */
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

struct ib_shard;

struct sti_ibuf {
	pthread_rwlock_t lock;
	struct ib_shard *sh; /* STI_SHARDS */
	uint64_t end; /* items of entries below end are held */
	size_t bytes;
};

/* The writer's envelope filter (filter.c), in memory only: hashes a
 * 512-bit block holds before the filter is rebuilt larger. */
#define STI_FILTER_PER_BLOCK 32
struct sti_filter {
	uint64_t *bits;
	uint64_t nblocks; /* of 512 bits; a power of 2 */
	uint64_t n; /* hashes added */
	int failed; /* the last build failed: no retry until reset */
};

/* Merge watermarks (meta "ibuf"). */
struct sti_wmeta {
	unsigned cursor;
	uint64_t min;
	uint64_t w[STI_SHARDS];
};

/* One shard's items, pointing into the buffer, for merging. */
struct sti_hitem {
	uint8_t h[PR_HASH_LEN];
	uint64_t idx;
};

struct sti_titem {
	const char *s;
	size_t len;
	const uint64_t *v;
	size_t n;
};

struct sti_items {
	struct sti_hitem *h[2];
	size_t nh[2];
	struct sti_titem *t[4];
	size_t nt[4];
};

/* A read snapshot for index queries: a read transaction, the head and
 * watermarks it sees, and the index buffer held shared. */
struct sti_isnap {
	MDB_txn *txn;
	struct sti_head h;
	struct sti_wmeta m;
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
	struct sti_ibuf ibuf;
	struct sti_filter envf; /* pointer swaps under envf_lock */
	pthread_rwlock_t envf_lock;
	uint64_t ibuf_max; /* bytes */
	uint64_t ibuf_entries_max; /* journal length */
	uint64_t ibuf_pace; /* largest paced merge span, entries */
	uint64_t pace_credit; /* shard merges owed, times the span */
	int lockfd; /* flock()ed data directory (writer) */
	int signfd; /* signed-tree, open for writing */
	uint64_t signed_seq; /* its current record's sequence */
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
int sti_wdel(struct sti_wtxn *w, enum sti_db db, MDB_cursor *c);
void sti_wdig_add(
    struct sti_wtxn *w, enum sti_db db, const MDB_val *k, const MDB_val *v);
int sti_grow(struct st_store *st);
int sti_recover(struct st_store *st);
void sti_adopt_mapsize(struct st_store *st);
int sti_get(struct st_store *st, MDB_txn *txn, enum sti_db db, const void *k,
    size_t klen, MDB_val *v);

/* digest.c */
int sti_dig_tracked(enum sti_db db);
void sti_dig_rec(uint8_t sum[STI_DIG_LEN], enum sti_db db, const MDB_val *k,
    const MDB_val *v, int sub);
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

/* ibuf.c */
unsigned sti_shard_hash(const pr_hash h);
unsigned sti_shard_term(const char *t, size_t len);
int sti_ibuf_init(struct sti_ibuf *b);
void sti_ibuf_free(struct sti_ibuf *b);
void sti_ibuf_reset(struct sti_ibuf *b, const uint64_t *w, uint64_t end);
int sti_ibuf_add_hash(
    struct sti_ibuf *b, int which, const pr_hash h, uint64_t idx);
void sti_ibuf_prefetch(const struct sti_ibuf *b, int which, const pr_hash h);
int sti_ibuf_find(const struct sti_ibuf *b, int which, const pr_hash h,
    uint64_t lo, uint64_t hi, uint64_t *idx);
int sti_ibuf_add_term(
    struct sti_ibuf *b, int which, const char *s, size_t len, uint64_t idx);
const uint64_t *sti_ibuf_postings(
    const struct sti_ibuf *b, int which, const char *s, size_t len, size_t *n);
int sti_ibuf_shard_items(
    const struct sti_ibuf *b, unsigned s, struct sti_items *out);
void sti_items_free(struct sti_items *it);
int sti_ibuf_keep(struct sti_ibuf *b, unsigned s, uint64_t x, int below);
uint64_t sti_ibuf_lo(const struct sti_ibuf *b, unsigned s);
uint64_t sti_ibuf_count(const struct sti_ibuf *b, int which);
void sti_ibuf_each_hash(const struct sti_ibuf *b, int which,
    void (*fn)(void *ctx, const pr_hash h), void *ctx);
size_t sti_ibuf_bytes(const struct sti_ibuf *b);

/* filter.c */
void sti_filter_free(struct st_store *st);
void sti_filter_add(struct sti_filter *f, const pr_hash h);
int sti_filter_maybe(const struct sti_filter *f, const pr_hash h);
void sti_filter_prefetch(const struct sti_filter *f, const pr_hash h);
int sti_filter_build(struct st_store *st, MDB_txn *txn, uint64_t extra);
int sti_filter_rules_out(struct st_store *st, const pr_hash h);

/* merge.c */
int sti_journal_encode(const struct st_append *a, struct pr_buf *b);
/* An index item of entry idx: a hash (hash 1; which 0 envelope, 1 leaf)
 * or a term (hash 0; which 0 ocid, 1 party, 2 item, 3 kind), and its
 * shard.  Non-zero stops the walk and is returned. */
typedef int (*sti_item_fn)(void *ctx, int hash, int which, const void *key,
    size_t len, unsigned shard, uint64_t idx);
int sti_journal_items(const uint8_t *p, size_t len, const pr_hash leaf,
    uint64_t idx, sti_item_fn fn, void *ctx);
int sti_journal_add(struct sti_ibuf *b, const uint8_t *p, size_t len,
    const pr_hash leaf, uint64_t idx, const uint64_t *w);
/* Each journal entry in [from, to): its record p[0..len), leaf hash. */
typedef int (*sti_entry_fn)(
    void *ctx, const uint8_t *p, size_t len, const pr_hash leaf, uint64_t idx);
int sti_journal_walk(struct st_store *st, MDB_txn *txn, uint64_t from,
    uint64_t to, sti_entry_fn fn, void *ctx);
int sti_journal_replay(struct st_store *st, MDB_txn *txn,
    const struct sti_wmeta *m, uint64_t from, uint64_t to);
int sti_wmeta_get(struct st_store *st, MDB_txn *txn, struct sti_wmeta *m);
int sti_wmeta_put(struct sti_wtxn *w, const struct sti_wmeta *m);
unsigned sti_merge(struct sti_wtxn *w, struct sti_wmeta *m, uint64_t first,
    uint64_t end, int all, unsigned *done);

/* read.c: index snapshots */
int sti_ibegin(struct st_store *st, struct sti_isnap *is);
int sti_ibuf_sync(struct st_store *st, MDB_txn *txn, const struct sti_wmeta *m,
    uint64_t size);
void sti_iend(struct st_store *st, struct sti_isnap *is);
int sti_find_hash(struct st_store *st, struct sti_isnap *is, int which,
    const pr_hash h, uint64_t *index);

/* verify.c */
int sti_open_check(struct st_store *st, struct pr_buf *msg);

#endif
