/*
 * Reads of the tree head, checkpoints, the hash lookups and derived
 * state.  Each public function runs in its own read transaction.
 */
#include <string.h>

#include "proto/err.h"
#include "store/st_int.h"

void
sti_head_encode(const struct sti_head *h, uint8_t out[STI_HEAD_LEN])
{
	pr_store_be64(out, h->size);
	memcpy(out + 8, h->root, PR_HASH_LEN);
	pr_store_be64(out + 8 + PR_HASH_LEN, h->heap_end);
	pr_store_be64(out + 16 + PR_HASH_LEN, h->last_time);
}

int
sti_head(struct st_store *st, MDB_txn *txn, struct sti_head *h)
{
	const uint8_t *p;
	MDB_val v;
	int rc;

	if ((rc = sti_get(st, txn, DB_META, "head", 4, &v)) != 0)
		return rc == PR_ENOTFOUND ? PR_ECORRUPT : rc;
	if (v.mv_size != STI_HEAD_LEN)
		return PR_ECORRUPT;
	p = v.mv_data;
	h->size = pr_load_be64(p);
	memcpy(h->root, p + 8, PR_HASH_LEN);
	h->heap_end = pr_load_be64(p + 8 + PR_HASH_LEN);
	h->last_time = pr_load_be64(p + 16 + PR_HASH_LEN);
	if (h->heap_end < 2 * h->size)
		return PR_ECORRUPT;
	return 0;
}

/* Decode a checkpoint record; the note is v[40..). */
static int
ckpt_check(const MDB_val *k, const MDB_val *v)
{
	if (k->mv_size != 8 || v->mv_size < 8 + PR_HASH_LEN ||
	    memcmp(k->mv_data, v->mv_data, 8) != 0)
		return PR_ECORRUPT;
	return 0;
}

int
sti_ckpt_last(struct st_store *st, MDB_txn *txn, uint64_t *size, pr_hash root)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if ((rc = sti_err(mdb_cursor_open(txn, st->dbi[DB_CKPT], &c))) != 0)
		return rc;
	if ((rc = sti_err(mdb_cursor_get(c, &k, &v, MDB_LAST))) == 0 &&
	    (rc = ckpt_check(&k, &v)) == 0) {
		*size = pr_load_be64(k.mv_data);
		memcpy(root, (uint8_t *)v.mv_data + 8, PR_HASH_LEN);
	}
	mdb_cursor_close(c);
	return rc;
}

int
st_tree(struct st_store *st, uint64_t *size, pr_hash root)
{
	struct sti_head h;
	MDB_txn *txn;
	int rc;

	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	rc = sti_head(st, txn, &h);
	sti_rend(st, txn);
	if (rc != 0)
		return rc;
	if (size != NULL)
		*size = h.size;
	if (root != NULL)
		memcpy(root, h.root, PR_HASH_LEN);
	return 0;
}

static int
ckpt_read(struct st_store *st, int last, uint64_t size, struct pr_buf *note)
{
	MDB_cursor *c;
	MDB_txn *txn;
	MDB_val k, v;
	uint8_t key[8];
	int rc;

	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_err(mdb_cursor_open(txn, st->dbi[DB_CKPT], &c))) != 0)
		goto txn_end;
	if (last) {
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	} else {
		pr_store_be64(key, size);
		k.mv_data = key, k.mv_size = 8;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	}
	if ((rc = sti_err(rc)) == 0 && (rc = ckpt_check(&k, &v)) == 0)
		rc = pr_buf_append(note, (uint8_t *)v.mv_data + 8 + PR_HASH_LEN,
		    v.mv_size - 8 - PR_HASH_LEN);
	mdb_cursor_close(c);
txn_end:
	sti_rend(st, txn);
	return rc;
}

int
st_checkpoint(struct st_store *st, struct pr_buf *note)
{
	return ckpt_read(st, 1, 0, note);
}

int
st_checkpoint_at(struct st_store *st, uint64_t size, struct pr_buf *note)
{
	return ckpt_read(st, 0, size, note);
}

/* Does the buffer hold every item the snapshot needs from it? */
static int
covers(const struct sti_ibuf *b, const struct sti_isnap *is)
{
	unsigned s;

	if (b->end < is->h.size)
		return 0;
	for (s = 0; s < STI_SHARDS; s++)
		if (sti_ibuf_lo(b, s) > is->m.w[s])
			return 0;
	return 1;
}

/*
 * Bring the buffer forward to a snapshot it does not cover (the caller
 * holds it exclusively): load the journal records the snapshot has and
 * the buffer lacks, or reload it if the journal no longer has them (a
 * read-only store following a writer in another process).  A snapshot
 * older than the buffer is left alone: the caller takes a newer one.
 */
int
sti_ibuf_sync(
    struct st_store *st, MDB_txn *txn, const struct sti_wmeta *m, uint64_t size)
{
	struct sti_ibuf *b = &st->ibuf;
	unsigned s;

	for (s = 0; s < STI_SHARDS; s++)
		if (sti_ibuf_lo(b, s) > m->w[s])
			return 0;
	if (b->end < m->min ||
	    (st->readonly && sti_ibuf_bytes(b) > 2 * st->ibuf_max)) {
		sti_ibuf_reset(b, m->w, m->min);
		return sti_journal_replay(st, txn, m, m->min, size);
	}
	if (b->end < size)
		return sti_journal_replay(st, txn, m, b->end, size);
	return 0;
}

int
sti_ibegin(struct st_store *st, struct sti_isnap *is)
{
	unsigned tries;
	int rc;

	for (tries = 0;; tries++) {
		if ((rc = sti_rbegin(st, &is->txn)) != 0)
			return rc;
		if ((rc = sti_head(st, is->txn, &is->h)) != 0 ||
		    (rc = sti_wmeta_get(st, is->txn, &is->m)) != 0) {
			sti_rend(st, is->txn);
			return rc;
		}
		pthread_rwlock_rdlock(&st->ibuf.lock);
		if (covers(&st->ibuf, is))
			return 0;
		pthread_rwlock_unlock(&st->ibuf.lock);
		/* Behind the snapshot (a writer in another process, or
		 * after recovery): catch up; ahead of it: take a newer one. */
		pthread_rwlock_wrlock(&st->ibuf.lock);
		if (!covers(&st->ibuf, is))
			rc = sti_ibuf_sync(st, is->txn, &is->m, is->h.size);
		pthread_rwlock_unlock(&st->ibuf.lock);
		sti_rend(st, is->txn);
		if (rc != 0)
			return rc;
		if (tries == 1000)
			return PR_EBUSY;
	}
}

void
sti_iend(struct st_store *st, struct sti_isnap *is)
{
	pthread_rwlock_unlock(&st->ibuf.lock);
	sti_rend(st, is->txn);
}

/* which: 0 envelope, 1 leaf. */
int
sti_find_hash(struct st_store *st, struct sti_isnap *is, int which,
    const pr_hash h, uint64_t *index)
{
	MDB_val v;
	int rc;

	rc = sti_get(
	    st, is->txn, which ? DB_LEAF : DB_ENVELOPE, h, PR_HASH_LEN, &v);
	if (rc == 0) {
		if (v.mv_size != 8)
			return PR_ECORRUPT;
		*index = pr_load_be64(v.mv_data);
		return 0;
	}
	if (rc != PR_ENOTFOUND)
		return rc;
	return sti_ibuf_find(
	    &st->ibuf, which, h, is->m.w[sti_shard_hash(h)], is->h.size, index);
}

static int
find_hash(struct st_store *st, int which, const pr_hash h, uint64_t *index)
{
	struct sti_isnap is;
	uint64_t idx;
	int rc;

	if ((rc = sti_ibegin(st, &is)) != 0)
		return rc;
	rc = sti_find_hash(st, &is, which, h, &idx);
	sti_iend(st, &is);
	if (rc == 0)
		*index = idx;
	return rc;
}

int
st_find_envelope(struct st_store *st, const pr_hash h, uint64_t *index)
{
	/* Nearly every envelope asked about is new: the writer's filter
	 * says so without a B-tree read. */
	if (sti_filter_rules_out(st, h))
		return PR_ENOTFOUND;
	return find_hash(st, 0, h, index);
}

int
st_find_leaf(struct st_store *st, const pr_hash leaf, uint64_t *index)
{
	return find_hash(st, 1, leaf, index);
}

int
st_state_get(
    struct st_store *st, const void *k, size_t klen, struct pr_buf *val)
{
	MDB_txn *txn;
	MDB_val v;
	int rc;

	if (k == NULL || klen == 0 || klen > ST_KEY_MAX)
		return PR_EINVAL;
	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_get(st, txn, DB_STATE, k, klen, &v)) == 0)
		rc = pr_buf_append(val, v.mv_data, v.mv_size);
	sti_rend(st, txn);
	return rc;
}

int
st_state_scan(struct st_store *st, const void *prefix, size_t plen,
    int (*cb)(
        void *ctx, const void *k, size_t klen, const void *v, size_t vlen),
    void *ctx)
{
	MDB_cursor *c;
	MDB_txn *txn;
	MDB_val k, v;
	int rc, op;

	if (cb == NULL || plen > ST_KEY_MAX || (plen > 0 && prefix == NULL))
		return PR_EINVAL;
	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_err(mdb_cursor_open(txn, st->dbi[DB_STATE], &c))) != 0)
		goto txn_end;
	k.mv_data = (void *)prefix;
	k.mv_size = plen;
	op = plen > 0 ? MDB_SET_RANGE : MDB_FIRST;
	for (;;) {
		if ((rc = mdb_cursor_get(c, &k, &v, op)) != 0) {
			rc = rc == MDB_NOTFOUND ? 0 : sti_err(rc);
			break;
		}
		op = MDB_NEXT;
		if (plen > 0 &&
		    (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if ((rc = cb(ctx, k.mv_data, k.mv_size, v.mv_data,
		         v.mv_size)) != 0) {
			rc = rc > 0 ? 0 : rc;
			break;
		}
	}
	mdb_cursor_close(c);
txn_end:
	sti_rend(st, txn);
	return rc;
}
