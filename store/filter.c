/*
 * The writer's envelope filter: a blocked Bloom filter over every
 * envelope hash the store holds (DB "envelope", the index buffer, and
 * the entries appended since).  Dedupe asks it first; only a "maybe"
 * costs the exact lookups (the buffer, then a random B-tree read that
 * misses the CPU caches once "envelope" outgrows them).  A wrong "maybe"
 * costs one lookup; there are no wrong "no"s, as long as every hash that
 * goes into the store goes into the filter first (add_entry() in
 * append.c).
 *
 * Built on the first append after open (or after recovery) by scanning
 * DB "envelope" (about 58 bytes an entry read) and the buffer, and
 * rebuilt, twice as large, when it holds more hashes than its size
 * allows; the rebuilds read about one stored hash per hash appended.
 * Size: 16 to 64 bits a hash (2 to 8 bytes an entry of the log), 8 bits
 * set in one 64-byte block a hash, so a lookup is one cache line and
 * wrong "maybe"s stay under 1%.  Envelope hashes are SHA-256 digests, so
 * their bytes serve as the filter's hash functions.
 *
 * The writer (under wlock) adds, builds and drops it; readers ask it too
 * (st_find_envelope(): a new envelope then costs no B-tree read).  Bits
 * are set and read with relaxed atomics, and a hash's bits are set before
 * the commit that stores it, so a reader that can see an entry sees its
 * bits.  A build makes a new bit array and publishes it under
 * st->envf_lock (exclusive), which readers hold shared while they probe.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/err.h"
#include "store/st_int.h"

#define BLOCK_BITS 512
#define BLOCK_WORDS (BLOCK_BITS / 64)
#define MIN_HASHES (1ULL << 16)

static void
filter_drop(struct sti_filter *f)
{
	free(f->bits);
	memset(f, 0, sizeof(*f));
}

void
sti_filter_free(struct st_store *st)
{
	struct sti_filter old;

	pthread_rwlock_wrlock(&st->envf_lock);
	old = st->envf;
	memset(&st->envf, 0, sizeof(st->envf));
	pthread_rwlock_unlock(&st->envf_lock);
	filter_drop(&old);
}

void
sti_filter_add(struct sti_filter *f, const pr_hash h)
{
	uint64_t *blk, x;
	unsigned i, bit;

	if (f->bits == NULL)
		return;
	x = pr_load_be64(h + 8);
	blk = f->bits + (x & (f->nblocks - 1)) * BLOCK_WORDS;
	/* Eight 9-bit positions from bytes 16..24 (72 bits). */
	for (i = 0; i < 8; i++) {
		bit =
		    (unsigned)(((uint32_t)h[16 + i] << 1) | ((h[24] >> i) & 1));
		__atomic_fetch_or(
		    &blk[bit >> 6], 1ULL << (bit & 63), __ATOMIC_RELAXED);
	}
	f->n++;
}

/* Start loading h's block (a hint). */
void
sti_filter_prefetch(const struct sti_filter *f, const pr_hash h)
{
	if (f->bits != NULL)
		__builtin_prefetch(f->bits +
		        (pr_load_be64(h + 8) & (f->nblocks - 1)) * BLOCK_WORDS,
		    1);
}

int
sti_filter_maybe(const struct sti_filter *f, const pr_hash h)
{
	const uint64_t *blk;
	uint64_t x;
	unsigned i, bit;

	if (f->bits == NULL)
		return 1;
	x = pr_load_be64(h + 8);
	blk = f->bits + (x & (f->nblocks - 1)) * BLOCK_WORDS;
	for (i = 0; i < 8; i++) {
		bit =
		    (unsigned)(((uint32_t)h[16 + i] << 1) | ((h[24] >> i) & 1));
		if ((__atomic_load_n(&blk[bit >> 6], __ATOMIC_RELAXED) &
		        (1ULL << (bit & 63))) == 0)
			return 0;
	}
	return 1;
}

static int
add_db(struct sti_filter *f, struct st_store *st, MDB_txn *txn)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->dbi[DB_ENVELOPE], &c)) != 0)
		return sti_err(rc);
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size != PR_HASH_LEN) {
			rc = PR_ECORRUPT;
			break;
		}
		sti_filter_add(f, k.mv_data);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : sti_err(rc);
}

static void
add_buffered(void *ctx, const pr_hash h)
{
	sti_filter_add(ctx, h);
}

/* Whether st's filter rules h out, for a reader. */
int
sti_filter_rules_out(struct st_store *st, const pr_hash h)
{
	int out;

	pthread_rwlock_rdlock(&st->envf_lock);
	out = st->envf.bits != NULL && !sti_filter_maybe(&st->envf, h);
	pthread_rwlock_unlock(&st->envf_lock);
	return out;
}

/*
 * (Re)build st's filter from DB "envelope" as txn sees it and the buffer
 * (whose items must match txn), sized for twice what they hold plus
 * `extra` more.  On failure the filter is left empty: every lookup is
 * then a "maybe".
 */
int
sti_filter_build(struct st_store *st, MDB_txn *txn, uint64_t extra)
{
	struct sti_filter nf, *f = &nf;
	uint64_t want, nb = 1;
	MDB_stat ms;
	int rc;

	sti_filter_free(st);
	memset(f, 0, sizeof(*f));
	if ((rc = sti_err(mdb_stat(txn, st->dbi[DB_ENVELOPE], &ms))) != 0)
		return rc;
	want = 2 * (ms.ms_entries + sti_ibuf_count(&st->ibuf, 0) + extra);
	if (want < MIN_HASHES)
		want = MIN_HASHES;
	while (nb * STI_FILTER_PER_BLOCK < want)
		nb *= 2;
	if ((f->bits = calloc(nb, BLOCK_BITS / 8)) == NULL)
		return PR_ENOMEM;
	f->nblocks = nb;
	if ((rc = add_db(f, st, txn)) != 0) {
		filter_drop(f);
		return rc;
	}
	sti_ibuf_each_hash(&st->ibuf, 0, add_buffered, f);
	pthread_rwlock_wrlock(&st->envf_lock);
	st->envf = nf;
	pthread_rwlock_unlock(&st->envf_lock);
	return 0;
}
