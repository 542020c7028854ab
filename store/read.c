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

static int
find_hash(struct st_store *st, enum sti_db db, const pr_hash h, uint64_t *index)
{
	MDB_txn *txn;
	MDB_val v;
	int rc;

	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_get(st, txn, db, h, PR_HASH_LEN, &v)) == 0) {
		if (v.mv_size != 8)
			rc = PR_ECORRUPT;
		else
			*index = pr_load_be64(v.mv_data);
	}
	sti_rend(st, txn);
	return rc;
}

int
st_find_envelope(struct st_store *st, const pr_hash h, uint64_t *index)
{
	return find_hash(st, DB_ENVELOPE, h, index);
}

int
st_find_leaf(struct st_store *st, const pr_hash leaf, uint64_t *index)
{
	return find_hash(st, DB_LEAF, leaf, index);
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
