/*
 * st_append_batch(): one write transaction per batch, retried after map
 * growth.  The transaction wrapper (struct sti_wtxn) remembers the first
 * error, so the code below runs straight through and checks once.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "proto/err.h"
#include "proto/log.h"
#include "store/st_int.h"

struct batch {
	struct st_store *st;
	const struct st_append *a;
	size_t n;
	st_sign_fn sign;
	void *ctx;
	struct st_appended *res;
	pr_hash *leaves; /* of the new entries, in log order */
	struct pr_buf note, val;
	uint64_t size;
	pr_hash root;
	int committed; /* a new checkpoint was committed */
	/* New entries of this attempt: journal records and dedupe table. */
	struct pr_buf jr;
	size_t *joff; /* nnew + 1 offsets into jr */
	size_t *apos; /* new entry -> position in a[] */
	size_t nnew;
	uint32_t *dtab; /* envelope hash -> new entry + 1; 0: empty */
	size_t dcap;
	unsigned done[STI_SHARDS];
	unsigned ndone;
};

static int
check_key(const char *s)
{
	size_t n;

	if (s == NULL || (n = strnlen(s, ST_KEY_MAX + 1)) == 0)
		return PR_EINVAL;
	return n > ST_KEY_MAX ? PR_ETOOBIG : 0;
}

static int
check_keys(const char *const *v, size_t n)
{
	size_t i;
	int rc;

	if (n > 0 && v == NULL)
		return PR_EINVAL;
	for (i = 0; i < n; i++)
		if ((rc = check_key(v[i])) != 0)
			return rc;
	return 0;
}

static int
check_append(const struct st_append *a)
{
	size_t i;
	int rc;

	if (a->entry == NULL && a->entry_len > 0)
		return PR_EINVAL;
	if (a->entry_len > ST_ENTRY_MAX)
		return PR_ETOOBIG;
	if ((a->ocid != NULL && (rc = check_key(a->ocid)) != 0) ||
	    (a->kind != NULL && (rc = check_key(a->kind)) != 0) ||
	    (rc = check_keys(a->parties, a->nparties)) != 0 ||
	    (rc = check_keys(a->items, a->nitems)) != 0)
		return rc;
	if (a->nstate > 0 && a->state == NULL)
		return PR_EINVAL;
	for (i = 0; i < a->nstate; i++) {
		if (a->state[i].key == NULL || a->state[i].klen == 0 ||
		    (a->state[i].val == NULL && a->state[i].vlen > 0))
			return PR_EINVAL;
		if (a->state[i].klen > ST_KEY_MAX)
			return PR_ETOOBIG;
	}
	return 0;
}

/* Batch-local dedupe: the new entry with this envelope hash, if any. */
static uint32_t *
dslot(struct batch *b, const pr_hash h)
{
	uint32_t x, *p;

	memcpy(&x, h, 4);
	for (x &= (uint32_t)(b->dcap - 1);;
	     x = (x + 1) & (uint32_t)(b->dcap - 1)) {
		p = &b->dtab[x];
		if (*p == 0 ||
		    memcmp(b->a[b->apos[*p - 1]].envelope_hash, h,
		        PR_HASH_LEN) == 0)
			return p;
	}
}

/* A duplicate: the existing entry's leaf, from this batch or the tree. */
static void
dup_leaf(struct batch *b, struct sti_wtxn *w, uint64_t first, uint64_t idx,
    pr_hash out)
{
	struct sti_tread t;
	int rc;

	if (idx >= first) {
		memcpy(out, b->leaves[idx - first], PR_HASH_LEN);
		return;
	}
	sti_tread_init(&t, b->st, w->txn);
	t.nocache = 1;
	if ((rc = sti_tree_get(&t, 0, idx, out)) != 0)
		sti_wfail(w, rc);
}

static void
add_entry(struct batch *b, struct sti_wtxn *w, struct sti_heap *heap,
    struct sti_twriter *tw, struct pr_merkle_stack *stk, size_t ai,
    uint64_t first, uint32_t *slot)
{
	const struct st_append *e = &b->a[ai];
	struct st_appended *r = &b->res[ai];
	uint8_t ix[8], off[8], tkey[16], len[2];
	uint64_t idx = stk->size;
	size_t i, k = b->nnew;
	pr_hash leaf;
	int rc;

	if (e->has_leaf)
		memcpy(leaf, e->leaf_hash, PR_HASH_LEN);
	else
		pr_merkle_leaf_hash(e->entry, e->entry_len, leaf);
	pr_store_be64(ix, idx);
	pr_store_be64(off, heap->end);
	pr_store_be16(len, (uint16_t)e->entry_len);
	pr_store_be64(tkey, e->log_time_ms);
	memcpy(tkey + 8, ix, 8);

	sti_wput(w, DB_OFFSETS, ix, 8, off, 8, MDB_APPEND);
	sti_heap_append(heap, len, 2);
	sti_heap_append(heap, e->entry, e->entry_len);
	sti_wput(w, DB_TIME, tkey, sizeof(tkey), "", 0, MDB_APPEND);
	/* Index keys go to the batch's journal record (u32 BE length and
	 * the entry's keys); the index DBs get them later. */
	if ((rc = pr_buf_append_be32(&b->jr, 0)) != 0 ||
	    (rc = sti_journal_encode(e, &b->jr)) != 0)
		sti_wfail(w, rc);
	b->joff[k + 1] = b->jr.len;
	if (w->rc == 0)
		pr_store_be32(b->jr.data + b->joff[k],
		    (uint32_t)(b->jr.len - b->joff[k] - 4));
	for (i = 0; i < e->nstate; i++)
		sti_wput(w, DB_STATE, e->state[i].key, e->state[i].klen,
		    e->state[i].vlen > 0 ? e->state[i].val : "",
		    e->state[i].vlen, 0);
	if (w->rc == 0 &&
	    (rc = pr_merkle_stack_push(stk, leaf, sti_tree_put, tw)) != 0)
		sti_wfail(w, rc);
	sti_filter_add(&b->st->envf, e->envelope_hash);
	memcpy(b->leaves[idx - first], leaf, PR_HASH_LEN);
	b->apos[k] = ai;
	b->nnew = k + 1;
	*slot = (uint32_t)b->nnew;
	r->index = idx;
	memcpy(r->leaf_hash, leaf, PR_HASH_LEN);
	r->duplicate = 0;
}

static void
put_checkpoint(struct batch *b, struct sti_wtxn *w)
{
	uint8_t key[8];
	int rc;

	pr_buf_reset(&b->note);
	pr_buf_reset(&b->val);
	if ((rc = b->sign(b->ctx, b->size, b->root, &b->note)) != 0) {
		sti_wfail(w, rc);
		return;
	}
	pr_store_be64(key, b->size);
	if ((rc = pr_buf_append(&b->val, key, 8)) != 0 ||
	    (rc = pr_buf_append(&b->val, b->root, PR_HASH_LEN)) != 0 ||
	    (rc = pr_buf_append(&b->val, b->note.data, b->note.len)) != 0) {
		sti_wfail(w, rc);
		return;
	}
	sti_wput(w, DB_CKPT, key, 8, b->val.data, b->val.len, MDB_APPEND);
}

/* Is this envelope logged already?  Sets *idx. */
static int
find_dup(struct batch *b, struct sti_wtxn *w, const pr_hash h, uint64_t first,
    uint32_t **slot, uint64_t *idx)
{
	MDB_val v;
	int rc;

	/* Nearly every envelope is new: the filter says so without the
	 * lookups. */
	if (!sti_filter_maybe(&b->st->envf, h))
		goto batch;
	rc = sti_wget(w, DB_ENVELOPE, h, PR_HASH_LEN, &v);
	if (rc == 0) {
		if (v.mv_size != 8) {
			sti_wfail(w, PR_ECORRUPT);
			return -1;
		}
		*idx = pr_load_be64(v.mv_data);
		return 1;
	}
	if (rc != MDB_NOTFOUND)
		return -1;
	if (sti_ibuf_find(&b->st->ibuf, 0, h, 0, first, idx) == 0)
		return 1;
batch:
	*slot = dslot(b, h);
	if (**slot != 0) {
		*idx = first + **slot - 1;
		return 1;
	}
	return 0;
}

/* Put the new entries' index items in the buffer (before the commit). */
static void
buffer_batch(struct batch *b, struct sti_wtxn *w, const struct sti_wmeta *m,
    uint64_t first)
{
	struct sti_ibuf *ib = &b->st->ibuf;
	size_t k;
	int rc = 0;

	/* The hash tables miss the caches: load all the slots at once. */
	for (k = 0; k < b->nnew; k++) {
		sti_ibuf_prefetch(ib, 0, b->jr.data + b->joff[k] + 4);
		sti_ibuf_prefetch(ib, 1, b->leaves[k]);
	}
	pthread_rwlock_wrlock(&ib->lock);
	for (k = 0; k < b->nnew && rc == 0; k++)
		rc = sti_journal_add(ib, b->jr.data + b->joff[k] + 4,
		    b->joff[k + 1] - b->joff[k] - 4, b->leaves[k], first + k,
		    m->w);
	ib->end = first + b->nnew;
	pthread_rwlock_unlock(&ib->lock);
	if (rc != 0)
		sti_wfail(w, rc);
}

/* After the commit: drop merged shards, or take the batch back. */
static void
buffer_settle(struct batch *b, uint64_t first, int committed)
{
	struct sti_ibuf *ib = &b->st->ibuf;
	unsigned s;

	pthread_rwlock_wrlock(&ib->lock);
	if (committed) {
		for (s = 0; s < b->ndone; s++)
			sti_ibuf_keep(ib, b->done[s], first, 0);
	} else if (ib->end > first) {
		for (s = 0; s < STI_SHARDS; s++)
			sti_ibuf_keep(ib, s, first, 1);
		ib->end = first;
	}
	pthread_rwlock_unlock(&ib->lock);
}

/* Is a checkpoint stored for this tree size? */
static int
has_checkpoint(struct sti_wtxn *w, uint64_t size)
{
	uint8_t key[8];
	MDB_val v;

	pr_store_be64(key, size);
	return sti_wget(w, DB_CKPT, key, 8, &v) == 0;
}

/* One attempt; returns a raw code (MDB_MAP_FULL asks for growth). */
static int
append_once(struct batch *b)
{
	struct st_store *st = b->st;
	struct pr_merkle_stack stk;
	struct sti_twriter tw;
	struct sti_wmeta m;
	struct sti_heap heap;
	struct sti_tread t;
	struct sti_wtxn w;
	struct sti_head h;
	uint8_t head[STI_HEAD_LEN], key[8];
	uint64_t first, idx;
	uint32_t *slot = NULL;
	size_t i;
	int rc;

	b->committed = 0;
	b->nnew = b->ndone = 0;
	pr_buf_reset(&b->jr);
	memset(b->dtab, 0, b->dcap * sizeof(*b->dtab));
	if ((rc = sti_wbegin(st, &w)) != 0)
		return rc;
	if ((rc = sti_head(st, w.txn, &h)) != 0 ||
	    (rc = sti_wmeta_get(st, w.txn, &m)) != 0) {
		sti_wfail(&w, rc);
		return sti_wend(&w, 0);
	}
	if (!st->stack_ok || st->stack.size != h.size) {
		sti_tread_init(&t, st, w.txn);
		if ((rc = pr_merkle_stack_load(
		         &st->stack, h.size, sti_tree_get, &t)) != 0) {
			sti_wfail(&w, rc);
			return sti_wend(&w, 0);
		}
		st->stack_ok = 1;
	}
	/* Readers only ever move the buffer forward (after recovery); hold
	 * it shared while reading it, up to the merge. */
	pthread_rwlock_rdlock(&st->ibuf.lock);
	if (st->ibuf.end != h.size) {
		/* After recovery from a failed commit LMDB could not undo. */
		pthread_rwlock_unlock(&st->ibuf.lock);
		pthread_rwlock_wrlock(&st->ibuf.lock);
		sti_ibuf_reset(&st->ibuf, m.w, m.min);
		rc = sti_journal_replay(st, w.txn, &m, m.min, h.size);
		pthread_rwlock_unlock(&st->ibuf.lock);
		if (rc != 0) {
			sti_wfail(&w, rc);
			return sti_wend(&w, 0);
		}
		pthread_rwlock_rdlock(&st->ibuf.lock);
		sti_filter_free(st);
	}
	/* The filter: built from what is stored, grown before it fills.
	 * Without one (no memory) every dedupe is an exact lookup. */
	if (!st->envf.failed &&
	    (st->envf.bits == NULL ||
	        st->envf.n + b->n > st->envf.nblocks * STI_FILTER_PER_BLOCK) &&
	    sti_filter_build(st, w.txn, b->n) != 0)
		st->envf.failed = 1;
	stk = st->stack;
	first = h.size;
	/* The journal record: u32 BE count, then each entry's keys. */
	if ((rc = pr_buf_append_be32(&b->jr, 0)) != 0)
		sti_wfail(&w, rc);
	b->joff[0] = b->jr.len;
	sti_heap_begin(&heap, &w, h.heap_end);
	sti_twriter_begin(&tw, &w);
	for (i = 0; i < b->n; i++)
		sti_filter_prefetch(&st->envf, b->a[i].envelope_hash);
	for (i = 0; i < b->n && w.rc == 0; i++) {
		rc = find_dup(b, &w, b->a[i].envelope_hash, first, &slot, &idx);
		if (rc < 0)
			break;
		if (rc > 0) {
			b->res[i].index = idx;
			b->res[i].duplicate = 1;
			dup_leaf(b, &w, first, idx, b->res[i].leaf_hash);
			continue;
		}
		if (b->a[i].log_time_ms < h.last_time) {
			sti_wfail(&w, PR_ERANGE);
			break;
		}
		add_entry(b, &w, &heap, &tw, &stk, i, first, slot);
		h.last_time = b->a[i].log_time_ms;
	}
	if (w.rc == 0 && stk.size == first &&
	    (b->n > 0 || b->sign == NULL || has_checkpoint(&w, first))) {
		/* Only duplicates: nothing to write, nothing to sign.  An
		 * empty batch signs the current tree if it has no checkpoint
		 * yet (a new log's first, of the empty tree). */
		pthread_rwlock_unlock(&st->ibuf.lock);
		sti_wend(&w, 0);
		b->size = h.size;
		memcpy(b->root, h.root, PR_HASH_LEN);
		return 0;
	}
	sti_heap_finish(&heap);
	sti_twriter_finish(&tw);
	if (b->nnew > 0 && w.rc == 0) {
		pr_store_be32(b->jr.data, (uint32_t)b->nnew);
		pr_store_be64(key, first);
		sti_wput(
		    &w, DB_JOURNAL, key, 8, b->jr.data, b->jr.len, MDB_APPEND);
	}
	if (w.rc == 0)
		b->ndone = sti_merge(&w, &m, first, stk.size, 0, b->done);
	pthread_rwlock_unlock(&st->ibuf.lock);
	b->size = h.size = stk.size;
	pr_merkle_stack_root(&stk, b->root);
	memcpy(h.root, b->root, PR_HASH_LEN);
	h.heap_end = heap.end;
	sti_head_encode(&h, head);
	sti_wput(&w, DB_META, "head", 4, head, sizeof(head), 0);
	if (b->sign != NULL && w.rc == 0)
		put_checkpoint(b, &w);
	if (w.rc == 0)
		buffer_batch(b, &w, &m, first);
	rc = sti_wend(&w, 1);
	buffer_settle(b, first, rc == 0);
	if (rc != 0) {
		st->stack_ok = 0;
		return rc;
	}
	st->stack = stk;
	b->committed = b->sign != NULL;
	return 0;
}

/* Bring signed-tree up to the latest stored checkpoint (under wlock). */
static int
sync_signed(struct st_store *st)
{
	MDB_txn *txn;
	uint64_t size;
	pr_hash root;
	int rc;

	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	rc = sti_ckpt_last(st, txn, &size, root);
	sti_rend(st, txn);
	if (rc != 0)
		return rc;
	if (size > atomic_load(&st->signed_size) &&
	    (rc = sti_signed_write(st, size, root)) != 0)
		return rc;
	if (size > atomic_load(&st->signed_size)) {
		atomic_store(&st->signed_size, size);
		memcpy(st->signed_root, root, PR_HASH_LEN);
	}
	atomic_store(&st->signed_pending, 0);
	return 0;
}

/*
 * LMDB reports a short write as EIO.  On a file system left with (almost)
 * no free space that is a full disk, which clears when space returns;
 * anything else stays an I/O error.
 */
static int
disk_full(const struct st_store *st)
{
	struct statvfs sv;

	if (statvfs(st->dir, &sv) == -1)
		return 0;
	return (uint64_t)sv.f_bavail * sv.f_frsize < (1u << 20);
}

int
st_append_batch(struct st_store *st, const struct st_append *a, size_t n,
    st_sign_fn sign, void *ctx, struct st_appended *res, uint64_t *tree_size,
    pr_hash root)
{
	struct batch b;
	unsigned tries;
	size_t i;
	int rc;

	if (st == NULL || st->readonly || (n > 0 && (a == NULL || res == NULL)))
		return PR_EINVAL;
	for (i = 0; i < n; i++)
		if ((rc = check_append(&a[i])) != 0)
			return rc;
	memset(&b, 0, sizeof(b));
	b.st = st;
	b.a = a;
	b.n = n;
	b.sign = sign;
	b.ctx = ctx;
	for (b.dcap = 16; b.dcap < 2 * n; b.dcap *= 2)
		;
	if ((b.res = calloc(n + 1, sizeof(*b.res))) == NULL ||
	    (b.leaves = calloc(n + 1, sizeof(*b.leaves))) == NULL ||
	    (b.joff = calloc(n + 1, sizeof(*b.joff))) == NULL ||
	    (b.apos = calloc(n + 1, sizeof(*b.apos))) == NULL ||
	    (b.dtab = calloc(b.dcap, sizeof(*b.dtab))) == NULL) {
		rc = PR_ENOMEM;
		goto batch_free;
	}
	pthread_mutex_lock(&st->wlock);
	if (atomic_load(&st->signed_pending) && (rc = sync_signed(st)) != 0)
		goto unlock;
	for (tries = 0;; tries++) {
		rc = append_once(&b);
		if (rc == MDB_MAP_FULL) {
			if ((rc = sti_grow(st)) == 0)
				continue;
		} else if ((rc == MDB_PANIC || rc == MDB_MAP_RESIZED) &&
		    tries < 3) {
			st->stack_ok = 0;
			if (rc == MDB_PANIC)
				sti_recover(st);
			else
				sti_adopt_mapsize(st);
			continue;
		}
		break;
	}
	if (rc == 0 && b.committed) {
		if ((rc = sti_signed_write(st, b.size, b.root)) != 0) {
			log_warnx(
			    "store: batch committed but %s/signed-tree "
			    "not written (%s); no further checkpoint will be "
			    "signed until it is",
			    st->dir, pr_strerror(rc));
			atomic_store(&st->signed_pending, 1);
			rc = 0;
		} else {
			atomic_store(&st->signed_size, b.size);
			memcpy(st->signed_root, b.root, PR_HASH_LEN);
		}
	}
unlock:
	pthread_mutex_unlock(&st->wlock);
	rc = sti_err(rc);
	if (rc == PR_EIO && disk_full(st))
		rc = PR_ENOSPC;
	if (rc == 0) {
		if (n > 0)
			memcpy(res, b.res, n * sizeof(*res));
		if (tree_size != NULL)
			*tree_size = b.size;
		if (root != NULL)
			memcpy(root, b.root, PR_HASH_LEN);
	}
batch_free:
	free(b.dtab);
	free(b.apos);
	free(b.joff);
	pr_buf_free(&b.jr);
	pr_buf_free(&b.note);
	pr_buf_free(&b.val);
	free(b.leaves);
	free(b.res);
	return rc;
}
