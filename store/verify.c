/*
 * Integrity checks: the quick one st_open() runs (layout, tree against
 * the stored root and the latest checkpoint, rollback against
 * signed-tree) and the deep one, st_verify(), that recomputes everything.
 */
#include <string.h>
#include <unistd.h>

#include "proto/err.h"
#include "proto/log.h"
#include "store/st_int.h"

/* Entries verified per read transaction by st_verify(). */
#define VERIFY_CHUNK 65536
/* Entries read into memory at a time. */
#define READ_CHUNK 256

static const char rollback_advice[] =
    "procured must never sign a checkpoint inconsistent with one it "
    "published; restore the newest backup, or start a new log with a new "
    "origin.";

/* The last keys of "offsets" and "entries" agree with the head. */
static int
layout_check(struct st_store *st, MDB_txn *txn, const struct sti_head *h)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t want;
	int rc, i;

	for (i = 0; i < 2; i++) {
		rc = mdb_cursor_open(
		    txn, st->dbi[i ? DB_ENTRIES : DB_OFFSETS], &c);
		if (rc != 0)
			return sti_err(rc);
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
		mdb_cursor_close(c);
		want = i ? h->heap_end : h->size;
		if (rc == MDB_NOTFOUND && want == 0)
			continue;
		if (rc != 0)
			return rc == MDB_NOTFOUND ? PR_ECORRUPT : sti_err(rc);
		if (k.mv_size != 8 || want == 0)
			return PR_ECORRUPT;
		if (i == 0 && pr_load_be64(k.mv_data) != want - 1)
			return PR_ECORRUPT;
		if (i == 1 &&
		    (pr_load_be64(k.mv_data) != (want - 1) / st->segsize ||
		        v.mv_size != (want - 1) % st->segsize + 1))
			return PR_ECORRUPT;
	}
	return 0;
}

static int
tree_check(struct st_store *st, MDB_txn *txn, const struct sti_head *h,
    int *have, uint64_t *csize, pr_hash croot, struct pr_buf *msg)
{
	struct sti_tread t;
	pr_hash r;
	int rc;

	if ((rc = layout_check(st, txn, h)) != 0) {
		sti_errmsg(msg,
		    "%s: the entry heap or offsets disagree with "
		    "the tree head (%llu entries).",
		    st->dir, (unsigned long long)h->size);
		return rc;
	}
	sti_tread_init(&t, st, txn);
	if ((rc = pr_merkle_root(h->size, sti_tree_get, &t, r)) != 0 ||
	    memcmp(r, h->root, PR_HASH_LEN) != 0) {
		sti_errmsg(msg,
		    "%s: the stored tree of %llu entries does not "
		    "hash to the stored root.",
		    st->dir, (unsigned long long)h->size);
		return PR_ECORRUPT;
	}
	rc = sti_ckpt_last(st, txn, csize, croot);
	*have = rc == 0;
	if (rc == PR_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (*csize > h->size ||
	    (rc = pr_merkle_root(*csize, sti_tree_get, &t, r)) != 0 ||
	    memcmp(r, croot, PR_HASH_LEN) != 0) {
		sti_errmsg(msg,
		    "%s: the latest checkpoint (size %llu) does not "
		    "match the stored tree: the tree or the checkpoint was "
		    "altered.",
		    st->dir, (unsigned long long)*csize);
		return PR_ECORRUPT;
	}
	return 0;
}

static int
rollback_check(struct st_store *st, MDB_txn *txn, const struct sti_head *h,
    uint64_t ssize, const pr_hash sroot, struct pr_buf *msg)
{
	struct sti_tread t;
	pr_hash r;
	int rc;

	if (h->size < ssize) {
		sti_errmsg(msg,
		    "%s: store holds %llu entries but this log "
		    "already signed a checkpoint of %llu (recorded in "
		    "signed-tree): it looks restored from an old backup. %s",
		    st->dir, (unsigned long long)h->size,
		    (unsigned long long)ssize, rollback_advice);
		return PR_EROLLBACK;
	}
	sti_tread_init(&t, st, txn);
	if ((rc = pr_merkle_root(ssize, sti_tree_get, &t, r)) != 0)
		return rc;
	if (memcmp(r, sroot, PR_HASH_LEN) != 0) {
		sti_errmsg(msg,
		    "%s: the store's tree at size %llu differs from "
		    "the checkpoint this log signed at that size (recorded in "
		    "signed-tree): the store was replaced, or restored from a "
		    "backup and then extended with other entries. %s",
		    st->dir, (unsigned long long)ssize, rollback_advice);
		return PR_EROLLBACK;
	}
	return 0;
}

int
sti_open_check(struct st_store *st, struct pr_buf *msg)
{
	struct sti_head h;
	MDB_txn *txn;
	uint64_t csize = 0, ssize = 0;
	pr_hash croot, sroot;
	int found = 0, have = 0, rc;

	if ((rc = sti_signed_read(st, &found, &ssize, sroot, msg)) != 0)
		return rc;
	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_head(st, txn, &h)) != 0) {
		sti_errmsg(
		    msg, "%s: the store has no valid tree head.", st->dir);
		goto txn_end;
	}
	if ((rc = tree_check(st, txn, &h, &have, &csize, croot, msg)) != 0)
		goto txn_end;
	if (found)
		rc = rollback_check(st, txn, &h, ssize, sroot, msg);
txn_end:
	sti_rend(st, txn);
	if (rc != 0)
		return rc;
	atomic_store(&st->signed_size, found ? ssize : 0);
	if (found)
		memcpy(st->signed_root, sroot, PR_HASH_LEN);
	if (st->readonly)
		return 0;
	if (!found && have && csize > 0) {
		/* Restored from a backup (which never holds signed-tree), or
		 * moved without it: nothing says no larger tree was signed. */
		sti_errmsg(msg,
		    "%s: signed-tree is missing but the store holds a signed "
		    "checkpoint of %llu entries: if it was restored from a "
		    "backup, the log may have signed larger trees since. "
		    "Write the latest checkpoint the log published into "
		    "signed-tree (see procured(8), ROLLBACK); procured then "
		    "starts only if this store holds that tree. %s",
		    st->dir, (unsigned long long)csize, rollback_advice);
		return PR_EROLLBACK;
	}
	if (!found && !have) {
		/* A new log: signed-tree exists before its first checkpoint
		 * is committed, so that no crash leaves that checkpoint
		 * without the record. */
		pr_merkle_empty_root(croot);
		if ((rc = sti_signed_write(st, 0, croot)) != 0) {
			sti_errmsg(msg, "%s: cannot create signed-tree: %s.",
			    st->dir, pr_strerror(rc));
			return rc;
		}
	}
	if (have && (!found || csize > ssize)) {
		if ((rc = sti_signed_write(st, csize, croot)) != 0) {
			log_warnx("store: cannot write %s/signed-tree: %s",
			    st->dir, pr_strerror(rc));
			atomic_store(&st->signed_pending, 1);
		} else {
			atomic_store(&st->signed_size, csize);
			memcpy(st->signed_root, croot, PR_HASH_LEN);
		}
	}
	if ((rc = sti_dig_open(st)) != 0) {
		sti_errmsg(msg, "%s: cannot load or write the record digests.",
		    st->dir);
		return rc;
	}
	return 0;
}

struct vctx {
	struct sti_tread t;
	unsigned level;
	uint64_t index;
	int bad;
};

/* pr_merkle_put_fn: each recomputed hash must equal the stored one. */
static int
vput(void *ctx, unsigned level, uint64_t index, const pr_hash h)
{
	struct vctx *v = ctx;
	pr_hash stored;
	int rc;

	if ((rc = sti_tree_get(&v->t, level, index, stored)) != 0 ||
	    memcmp(stored, h, PR_HASH_LEN) != 0) {
		v->bad = 1;
		v->level = level;
		v->index = index;
		return PR_ECORRUPT;
	}
	return 0;
}

/* The leaf index (DB or buffer) finds entry i, or an identical earlier one. */
static int
verify_leaf(
    struct st_store *st, struct sti_isnap *is, const pr_hash leaf, uint64_t i)
{
	uint64_t idx;
	int rc;

	if ((rc = sti_find_hash(st, is, 1, leaf, &idx)) != 0)
		return rc == PR_ENOTFOUND ? PR_ECORRUPT : rc;
	return idx > i ? PR_ECORRUPT : 0;
}

/* Entries [i, end) of the snapshot h, within one read transaction. */
static int
verify_chunk(struct st_store *st, const struct sti_head *h, uint64_t i,
    uint64_t end, struct pr_merkle_stack *stk, struct vctx *v,
    struct pr_buf *buf, uint64_t *bad)
{
	struct sti_isnap is;
	MDB_txn *txn;
	uint64_t j;
	pr_hash leaf;
	size_t pos, len;
	int rc;

	if ((rc = sti_ibegin(st, &is)) != 0)
		return rc;
	txn = is.txn;
	sti_tread_init(&v->t, st, txn);
	for (; i < end && rc == 0; i = j) {
		j = end - i < READ_CHUNK ? end : i + READ_CHUNK;
		pr_buf_reset(buf);
		if ((rc = sti_read_range(st, txn, h, i, j, buf)) != 0) {
			*bad = i;
			break;
		}
		for (pos = 0; i < j; i++) {
			len = pr_load_be16(buf->data + pos);
			pr_merkle_leaf_hash(buf->data + pos + 2, len, leaf);
			pos += 2 + len;
			if ((rc = pr_merkle_stack_push(stk, leaf, vput, v)) !=
			        0 ||
			    (rc = verify_leaf(st, &is, leaf, i)) != 0) {
				*bad = v->bad ? v->index << v->level : i;
				break;
			}
		}
	}
	sti_iend(st, &is);
	return rc;
}

static int
verify_checkpoints(struct st_store *st, const struct sti_head *h, uint64_t *bad,
    struct pr_buf *msg)
{
	struct sti_tread t;
	MDB_cursor *c;
	MDB_txn *txn;
	MDB_val k, v;
	uint64_t size;
	pr_hash r;
	int rc, op = MDB_FIRST;

	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	sti_tread_init(&t, st, txn);
	if ((rc = sti_err(mdb_cursor_open(txn, st->dbi[DB_CKPT], &c))) != 0)
		goto txn_end;
	while ((rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size != 8 || v.mv_size < 8 + PR_HASH_LEN) {
			rc = PR_ECORRUPT;
			break;
		}
		if ((size = pr_load_be64(k.mv_data)) > h->size)
			break;
		if (memcmp(k.mv_data, v.mv_data, 8) != 0 ||
		    (rc = pr_merkle_root(size, sti_tree_get, &t, r)) != 0 ||
		    memcmp(r, (uint8_t *)v.mv_data + 8, PR_HASH_LEN) != 0) {
			sti_errmsg(msg,
			    "%s: the stored checkpoint of size %llu "
			    "does not match the tree.",
			    st->dir, (unsigned long long)size);
			rc = PR_ECORRUPT;
			*bad = UINT64_MAX;
			break;
		}
	}
	rc = rc == MDB_NOTFOUND ? 0 : sti_err(rc);
	mdb_cursor_close(c);
txn_end:
	sti_rend(st, txn);
	return rc;
}

static const enum sti_db item_db[2][4] = {
    {DB_OCID, DB_PARTY, DB_ITEM, DB_KIND}, {DB_ENVELOPE, DB_LEAF}};

struct icheck {
	struct st_store *st;
	MDB_txn *txn;
	MDB_cursor *c[2][4];
	const struct sti_wmeta *m;
	uint64_t idx; /* the entry that disagrees */
	unsigned shard;
};

/* An item is in its index DB exactly when its shard's watermark is above
 * its entry: below it merged, from it on only in the journal. */
static int
check_item(void *arg, int hash, int which, const void *key, size_t len,
    unsigned shard, uint64_t idx)
{
	struct icheck *ic = arg;
	uint8_t ix[8];
	MDB_val k, v;
	int rc, in;

	k.mv_data = (void *)key;
	k.mv_size = len;
	pr_store_be64(ix, idx);
	v.mv_data = ix;
	v.mv_size = 8;
	rc = mdb_cursor_get(
	    ic->c[hash][which], &k, &v, hash ? MDB_SET_KEY : MDB_GET_BOTH);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return sti_err(rc);
	in = rc == 0 &&
	    (!hash || (v.mv_size == 8 && pr_load_be64(v.mv_data) == idx));
	if (in == (idx < ic->m->w[shard]))
		return 0;
	ic->idx = idx;
	ic->shard = shard;
	return PR_ECORRUPT;
}

static int
check_entry(
    void *arg, const uint8_t *p, size_t len, const pr_hash leaf, uint64_t idx)
{
	return sti_journal_items(p, len, leaf, idx, check_item, arg);
}

/*
 * The head's log time is the last entry's, and the merge watermarks
 * (meta "ibuf", outside the record digests since they change with every
 * commit) agree with the index DBs and the journal: every watermark
 * within the tree, the journal holding every entry from the lowest one
 * on, and each of those entries' items merged exactly when its shard's
 * watermark is above it.
 */
static int
index_check(struct st_store *st, const struct sti_head *h, struct pr_buf *msg)
{
	struct sti_wmeta m;
	struct icheck ic;
	MDB_cursor *c;
	MDB_val k, v;
	unsigned s, i, j;
	int rc;

	memset(&ic, 0, sizeof(ic));
	if ((rc = sti_rbegin(st, &ic.txn)) != 0)
		return rc;
	ic.st = st;
	ic.m = &m;
	if ((rc = sti_err(mdb_cursor_open(ic.txn, st->dbi[DB_TIME], &c))) != 0)
		goto out;
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == 0 ? k.mv_size != 16 || h->size == 0 ||
	            pr_load_be64(k.mv_data) != h->last_time ||
	            pr_load_be64((uint8_t *)k.mv_data + 8) != h->size - 1
	            : rc != MDB_NOTFOUND || h->size != 0) {
		sti_errmsg(msg,
		    "%s: the tree head's log time does not match the last "
		    "entry's (database meta or time).",
		    st->dir);
		rc = rc == 0 || rc == MDB_NOTFOUND ? PR_ECORRUPT : sti_err(rc);
		goto out;
	}
	if ((rc = sti_wmeta_get(st, ic.txn, &m)) != 0)
		goto bad_marks;
	for (s = 0; s < STI_SHARDS; s++)
		if (m.w[s] > h->size) {
			rc = PR_ECORRUPT;
			goto bad_marks;
		}
	for (i = 0; i < 2; i++)
		for (j = 0; j < (i ? 2u : 4u); j++)
			if ((rc = sti_err(mdb_cursor_open(ic.txn,
			         st->dbi[item_db[i][j]], &ic.c[i][j]))) != 0)
				goto out;
	rc = sti_journal_walk(st, ic.txn, m.min, h->size, check_entry, &ic);
	if (rc == PR_ECORRUPT) {
		sti_errmsg(msg,
		    "%s: the index databases do not match their merge marks "
		    "(database meta, record \"ibuf\") at entry %llu, shard "
		    "%u, or the journal is incomplete.",
		    st->dir, (unsigned long long)ic.idx, ic.shard);
		goto out;
	}
	goto out;
bad_marks:
	if (rc == PR_ECORRUPT)
		sti_errmsg(msg,
		    "%s: the index merge marks (database meta, record "
		    "\"ibuf\") are out of range.",
		    st->dir);
out:
	for (i = 0; i < 2; i++)
		for (j = 0; j < 4; j++)
			if (ic.c[i][j] != NULL)
				mdb_cursor_close(ic.c[i][j]);
	sti_rend(st, ic.txn);
	return rc;
}

int
st_verify(struct st_store *st, uint64_t *bad, struct pr_buf *msg)
{
	struct pr_merkle_stack stk;
	struct pr_buf buf = PR_BUF_INIT;
	struct sti_head h;
	struct vctx v;
	MDB_txn *txn;
	uint64_t i, end, where = 0;
	pr_hash r;
	int rc;

	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	rc = sti_head(st, txn, &h);
	sti_rend(st, txn);
	if (rc != 0)
		return rc;
	pr_merkle_stack_init(&stk);
	memset(&v, 0, sizeof(v));
	for (i = 0; i < h.size && rc == 0; i = end) {
		end = h.size - i < VERIFY_CHUNK ? h.size : i + VERIFY_CHUNK;
		rc = verify_chunk(st, &h, i, end, &stk, &v, &buf, &where);
	}
	pr_buf_free(&buf);
	if (rc == PR_ECORRUPT) {
		if (v.bad && v.level > 0)
			sti_errmsg(msg,
			    "%s: the stored tree node at level %u, "
			    "index %llu (entries from %llu) does not match the "
			    "hashes below it.",
			    st->dir, v.level, (unsigned long long)v.index,
			    (unsigned long long)where);
		else
			sti_errmsg(msg,
			    "%s: entry %llu does not match the "
			    "tree: the entry, its leaf hash or its index "
			    "record was altered.",
			    st->dir, (unsigned long long)where);
	}
	if (rc == 0) {
		pr_merkle_stack_root(&stk, r);
		if (memcmp(r, h.root, PR_HASH_LEN) != 0) {
			sti_errmsg(msg,
			    "%s: the tree head's root does not "
			    "match the entries.",
			    st->dir);
			rc = PR_ECORRUPT;
			where = h.size > 0 ? h.size - 1 : 0;
		}
	}
	if (rc == 0)
		rc = verify_checkpoints(st, &h, &where, msg);
	if (rc == 0 && (rc = index_check(st, &h, msg)) == PR_ECORRUPT)
		where = UINT64_MAX;
	if (rc == 0 && (rc = sti_dig_verify(st, msg)) == PR_ECORRUPT)
		where = UINT64_MAX; /* no one entry: the database is named */
	if (rc == PR_ECORRUPT && bad != NULL)
		*bad = where;
	return rc;
}
