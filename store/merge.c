/*
 * The index journal and merging: each new entry's index keys are
 * appended to DB "journal" in its commit; the index buffer (ibuf.c) holds
 * them in memory; the writer merges the buffer into the index DBs one
 * shard at a time and trims the journal below the lowest watermark.
 *
 * Journal record, one per batch (u64 BE index of its first entry ->):
 * u32 BE count, then for each entry a u32 BE length and its keys:
 * envelope hash[32] || ocid || kind || u16 BE nparties || parties ||
 * u16 BE nitems || items, where each string is a u16 BE length and its
 * bytes (length 0: none).
 * Meta "ibuf": u32 BE shard count || u32 BE next shard to merge || per
 * shard, u64 BE W[s]: the DBs hold shard s's items of entries below W[s].
 */
#include <stdlib.h>
#include <string.h>

#include "proto/err.h"
#include "store/st_int.h"

#define WMETA_LEN (8 + 8 * STI_SHARDS)

static enum sti_db hdb[2] = {DB_ENVELOPE, DB_LEAF};
static enum sti_db tdb[4] = {DB_OCID, DB_PARTY, DB_ITEM, DB_KIND};

static int
put_str(struct pr_buf *b, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	int rc;

	if ((rc = pr_buf_append_be16(b, (uint16_t)n)) != 0)
		return rc;
	return pr_buf_append(b, s, n);
}

int
sti_journal_encode(const struct st_append *a, struct pr_buf *b)
{
	size_t i;
	int rc;

	if ((rc = pr_buf_append(b, a->envelope_hash, PR_HASH_LEN)) != 0 ||
	    (rc = put_str(b, a->ocid)) != 0 ||
	    (rc = put_str(b, a->kind)) != 0 ||
	    (rc = pr_buf_append_be16(b, (uint16_t)a->nparties)) != 0)
		return rc;
	for (i = 0; i < a->nparties; i++)
		if ((rc = put_str(b, a->parties[i])) != 0)
			return rc;
	if ((rc = pr_buf_append_be16(b, (uint16_t)a->nitems)) != 0)
		return rc;
	for (i = 0; i < a->nitems; i++)
		if ((rc = put_str(b, a->items[i])) != 0)
			return rc;
	return 0;
}

static int
get_str(const uint8_t *p, size_t len, size_t *pos, const char **s, size_t *n)
{
	if (len - *pos < 2)
		return PR_ECORRUPT;
	*n = pr_load_be16(p + *pos);
	*pos += 2;
	if (len - *pos < *n || *n > ST_KEY_MAX)
		return PR_ECORRUPT;
	*s = (const char *)p + *pos;
	*pos += *n;
	return 0;
}

int
sti_journal_items(const uint8_t *p, size_t len, const pr_hash leaf,
    uint64_t idx, sti_item_fn fn, void *ctx)
{
	const char *s;
	size_t pos = PR_HASH_LEN, n, cnt, i;
	int k, rc;

	if (len < PR_HASH_LEN)
		return PR_ECORRUPT;
	if ((rc = fn(ctx, 1, 0, p, PR_HASH_LEN, sti_shard_hash(p), idx)) != 0 ||
	    (rc = fn(
	         ctx, 1, 1, leaf, PR_HASH_LEN, sti_shard_hash(leaf), idx)) != 0)
		return rc;
	for (k = 0; k < 4; k++) {
		cnt = 1;
		if (k >= 2) { /* parties, items: counted */
			if (len - pos < 2)
				return PR_ECORRUPT;
			cnt = pr_load_be16(p + pos);
			pos += 2;
		}
		for (i = 0; i < cnt; i++) {
			if ((rc = get_str(p, len, &pos, &s, &n)) != 0)
				return rc;
			if (n == 0)
				continue;
			/* ocid, kind, parties, items: term DBs 0, 3, 1, 2. */
			if ((rc = fn(ctx, 0,
			         k == 0       ? 0
			             : k == 1 ? 3
			                      : k - 1,
			         s, n, sti_shard_term(s, n), idx)) != 0)
				return rc;
		}
	}
	return pos == len ? 0 : PR_ECORRUPT;
}

struct add_ctx {
	struct sti_ibuf *b;
	const uint64_t *w;
};

static int
add_item(void *arg, int hash, int which, const void *key, size_t len,
    unsigned shard, uint64_t idx)
{
	struct add_ctx *a = arg;

	if (idx < a->w[shard])
		return 0; /* in the DBs already */
	return hash ? sti_ibuf_add_hash(a->b, which, key, idx)
	            : sti_ibuf_add_term(a->b, which, key, len, idx);
}

/*
 * Add the items of entry idx (journal record p, leaf hash) to the buffer,
 * skipping those of shards whose watermark is above idx.
 */
int
sti_journal_add(struct sti_ibuf *b, const uint8_t *p, size_t len,
    const pr_hash leaf, uint64_t idx, const uint64_t *w)
{
	struct add_ctx a = {b, w};

	return sti_journal_items(p, len, leaf, idx, add_item, &a);
}

int
sti_wmeta_get(struct st_store *st, MDB_txn *txn, struct sti_wmeta *m)
{
	const uint8_t *p;
	MDB_val v;
	unsigned s;
	int rc;

	if ((rc = sti_get(st, txn, DB_META, "ibuf", 4, &v)) != 0)
		return rc == PR_ENOTFOUND ? PR_ECORRUPT : rc;
	p = v.mv_data;
	if (v.mv_size != WMETA_LEN || pr_load_be32(p) != STI_SHARDS ||
	    pr_load_be32(p + 4) >= STI_SHARDS)
		return PR_ECORRUPT;
	m->cursor = pr_load_be32(p + 4);
	m->min = UINT64_MAX;
	for (s = 0; s < STI_SHARDS; s++) {
		m->w[s] = pr_load_be64(p + 8 + 8 * s);
		if (m->w[s] < m->min)
			m->min = m->w[s];
	}
	return 0;
}

int
sti_wmeta_put(struct sti_wtxn *w, const struct sti_wmeta *m)
{
	uint8_t buf[WMETA_LEN];
	unsigned s;

	pr_store_be32(buf, STI_SHARDS);
	pr_store_be32(buf + 4, m->cursor);
	for (s = 0; s < STI_SHARDS; s++)
		pr_store_be64(buf + 8 + 8 * s, m->w[s]);
	return sti_wput(w, DB_META, "ibuf", 4, buf, sizeof(buf), 0);
}

/* Position c on the journal record holding entry i. */
static int
journal_seek(MDB_cursor *c, uint64_t i, MDB_val *k, MDB_val *v)
{
	uint8_t key[8];
	int rc;

	pr_store_be64(key, i);
	k->mv_data = key;
	k->mv_size = 8;
	rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
	if (rc == 0 && k->mv_size == 8 && pr_load_be64(k->mv_data) == i)
		return 0;
	if (rc == 0)
		return mdb_cursor_get(c, k, v, MDB_PREV);
	if (rc == MDB_NOTFOUND)
		return mdb_cursor_get(c, k, v, MDB_LAST);
	return rc;
}

/* Call fn for the entries of one journal record that lie in [from, to). */
static int
walk_record(struct sti_tread *t, uint64_t first, const MDB_val *v,
    uint64_t from, uint64_t to, uint64_t *next, sti_entry_fn fn, void *ctx)
{
	const uint8_t *p = v->mv_data;
	size_t pos = 4, len;
	uint64_t i, cnt;
	pr_hash leaf;
	int rc;

	if (v->mv_size < 4)
		return PR_ECORRUPT;
	cnt = pr_load_be32(p);
	for (i = first; i < first + cnt; i++) {
		if (v->mv_size - pos < 4)
			return PR_ECORRUPT;
		len = pr_load_be32(p + pos);
		pos += 4;
		if (v->mv_size - pos < len)
			return PR_ECORRUPT;
		if (i >= from && i < to &&
		    ((rc = sti_tree_get(t, 0, i, leaf)) != 0 ||
		        (rc = fn(ctx, p + pos, len, leaf, i)) != 0))
			return rc;
		pos += len;
	}
	*next = first + cnt;
	return pos == v->mv_size ? 0 : PR_ECORRUPT;
}

int
sti_journal_walk(struct st_store *st, MDB_txn *txn, uint64_t from, uint64_t to,
    sti_entry_fn fn, void *ctx)
{
	struct sti_tread t;
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t i, next;
	int rc;

	if (from >= to)
		return 0;
	if ((rc = sti_err(mdb_cursor_open(txn, st->dbi[DB_JOURNAL], &c))) != 0)
		return rc;
	sti_tread_init(&t, st, txn);
	rc = journal_seek(c, from, &k, &v);
	for (next = from; rc == 0 && next < to;) {
		if (k.mv_size != 8 || (i = pr_load_be64(k.mv_data)) > next ||
		    (i < next && next != from)) {
			rc = PR_ECORRUPT;
			break;
		}
		if ((rc = walk_record(&t, i, &v, from, to, &next, fn, ctx)) !=
		    0)
			break;
		if (next < to)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND || (rc == 0 && next < to))
		rc = PR_ECORRUPT;
	return sti_err(rc);
}

struct replay_ctx {
	struct st_store *st;
	const uint64_t *w;
};

static int
replay_entry(
    void *arg, const uint8_t *p, size_t len, const pr_hash leaf, uint64_t idx)
{
	struct replay_ctx *r = arg;

	return sti_journal_add(&r->st->ibuf, p, len, leaf, idx, r->w);
}

/*
 * Load the journal's entries [from, to) into the buffer (the caller holds
 * the buffer exclusively, or owns it).
 */
int
sti_journal_replay(struct st_store *st, MDB_txn *txn, const struct sti_wmeta *m,
    uint64_t from, uint64_t to)
{
	struct replay_ctx r = {st, m->w};
	int rc;

	if ((rc = sti_journal_walk(st, txn, from, to, replay_entry, &r)) == 0 &&
	    from < to)
		st->ibuf.end = to;
	return rc;
}

static int
cmp_hitem(const void *a, const void *b)
{
	return memcmp(a, b, PR_HASH_LEN);
}

/* LMDB's default key order: bytes, then length. */
static int
cmp_titem(const void *a, const void *b)
{
	const struct sti_titem *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int d;

	if ((d = memcmp(x->s, y->s, n)) != 0)
		return d;
	return (int)x->len - (int)y->len;
}

/* Add a term's postings (all above those stored) in one put. */
static void
put_postings(struct sti_wtxn *w, MDB_cursor *c, enum sti_db db,
    const struct sti_titem *t, struct pr_buf *be)
{
	MDB_val k, d[2];
	size_t j;
	int rc;

	pr_buf_reset(be);
	if ((rc = pr_buf_reserve(be, t->n * 8)) != 0) {
		sti_wfail(w, rc);
		return;
	}
	for (j = 0; j < t->n; j++)
		pr_store_be64(be->data + 8 * j, t->v[j]);
	k.mv_data = (void *)t->s;
	k.mv_size = t->len;
	d[0].mv_data = be->data;
	d[0].mv_size = 8;
	d[1].mv_data = NULL;
	d[1].mv_size = t->n;
	rc = mdb_cursor_put(c, &k, d, MDB_MULTIPLE | MDB_APPENDDUP);
	if (rc == 0 && d[1].mv_size != t->n)
		rc = PR_ECORRUPT;
	if (rc != 0)
		sti_wfail(w, rc);
	for (j = 0; j < t->n && w->rc == 0; j++) {
		d[0].mv_data = be->data + 8 * j;
		sti_wdig_add(w, db, &k, &d[0]);
	}
}

/*
 * Add a hash item.  One cursor for the shard's sorted items: LMDB
 * searches only the cursor's leaf page when the key falls in it, which
 * it mostly does, instead of descending from the root for every key.
 * The leaf DB keeps the first of identical entries (an existing key is
 * not an error there).
 */
static void
put_hash(struct sti_wtxn *w, MDB_cursor *c, enum sti_db db,
    const struct sti_hitem *h)
{
	uint8_t ix[8];
	MDB_val k, v;
	int rc;

	pr_store_be64(ix, h->idx);
	k.mv_data = (void *)h->h;
	k.mv_size = PR_HASH_LEN;
	v.mv_data = ix;
	v.mv_size = 8;
	rc = mdb_cursor_put(c, &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST && db == DB_LEAF)
		return;
	if (rc != 0) {
		sti_wfail(w, rc);
		return;
	}
	sti_wdig_add(w, db, &k, &v);
}

static void
merge_shard(struct sti_wtxn *w, unsigned s)
{
	struct pr_buf be = PR_BUF_INIT;
	struct sti_items it;
	MDB_cursor *c;
	size_t i;
	int k, rc;

	if ((rc = sti_ibuf_shard_items(&w->st->ibuf, s, &it)) != 0) {
		sti_wfail(w, rc);
		goto items_free;
	}
	for (k = 0; k < 2 && w->rc == 0; k++) {
		if (it.nh[k] == 0)
			continue;
		if (it.nh[k] > 1)
			qsort(it.h[k], it.nh[k], sizeof(*it.h[k]), cmp_hitem);
		if ((rc = mdb_cursor_open(w->txn, w->st->dbi[hdb[k]], &c)) !=
		    0) {
			sti_wfail(w, rc);
			break;
		}
		for (i = 0; i < it.nh[k] && w->rc == 0; i++)
			put_hash(w, c, hdb[k], &it.h[k][i]);
		mdb_cursor_close(c);
	}
	for (k = 0; k < 4 && w->rc == 0; k++) {
		if (it.nt[k] == 0)
			continue;
		if (it.nt[k] > 1)
			qsort(it.t[k], it.nt[k], sizeof(*it.t[k]), cmp_titem);
		if ((rc = mdb_cursor_open(w->txn, w->st->dbi[tdb[k]], &c)) !=
		    0) {
			sti_wfail(w, rc);
			break;
		}
		for (i = 0; i < it.nt[k] && w->rc == 0; i++)
			put_postings(w, c, tdb[k], &it.t[k][i], &be);
		mdb_cursor_close(c);
	}
	pr_buf_free(&be);
items_free:
	sti_items_free(&it);
}

/* Delete the journal records whose entries all lie below to. */
static void
journal_trim(struct sti_wtxn *w, uint64_t to)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (w->rc != 0)
		return;
	if ((rc = mdb_cursor_open(w->txn, w->st->dbi[DB_JOURNAL], &c)) != 0) {
		sti_wfail(w, rc);
		return;
	}
	/* Seek afresh after each delete: a cursor that deleted the last
	 * record has no current one. */
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) == 0) {
		if (k.mv_size != 8 || v.mv_size < 4) {
			rc = PR_ECORRUPT;
			break;
		}
		if (pr_load_be64(k.mv_data) + pr_load_be32(v.mv_data) > to)
			break;
		if ((rc = sti_wdel(w, DB_JOURNAL, c)) != 0)
			break;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		sti_wfail(w, rc);
	mdb_cursor_close(c);
}

/*
 * Merge shards into the DBs, in turn: the paced share of the entries
 * [first, end) this commit appends, at least enough shards for the
 * buffer to be back under its limit once they are dropped (shards are
 * about equal), at least one while the journal spans more entries than
 * allowed, all of them if asked.  Each merged shard's watermark
 * becomes first (the items of this batch are not in the buffer yet).
 * Records merged shards in done[] for the caller to drop from the buffer
 * after the commit; returns their count.
 */
unsigned
sti_merge(struct sti_wtxn *w, struct sti_wmeta *m, uint64_t first, uint64_t end,
    int all, unsigned *done)
{
	struct st_store *st = w->st;
	uint64_t oldmin = m->min, bytes = sti_ibuf_bytes(&st->ibuf);
	uint64_t span;
	unsigned need = 0, n, s;

	/* Paced: every shard is merged once per span entries, span a fixed
	 * share of the log (up to what the buffer's limit allows), so a
	 * merge writes as many items per index page at 10,000 entries as
	 * at 1,000,000 and each commit carries its share from the start. */
	span = first / STI_PACE_SHARE;
	if (span > st->ibuf_pace)
		span = st->ibuf_pace;
	if (span < STI_PACE_MIN)
		span = STI_PACE_MIN;
	st->pace_credit += (end - first) * STI_SHARDS;
	need = (unsigned)(st->pace_credit / span);
	st->pace_credit %= span;
	if (need > STI_SHARDS)
		need = STI_SHARDS;
	if (bytes > st->ibuf_max) {
		n = (unsigned)((STI_SHARDS * (bytes - st->ibuf_max) + bytes -
		                   1) /
		    bytes);
		if (n > need)
			need = n;
	}
	if (need == 0 && first - m->min > st->ibuf_entries_max)
		need = 1;
	if (all)
		need = STI_SHARDS;
	for (n = 0; n < need && w->rc == 0; n++) {
		s = m->cursor;
		merge_shard(w, s);
		m->w[s] = first;
		m->cursor = (s + 1) % STI_SHARDS;
		done[n] = s;
	}
	if (n == 0)
		return 0;
	m->min = UINT64_MAX;
	for (s = 0; s < STI_SHARDS; s++)
		if (m->w[s] < m->min)
			m->min = m->w[s];
	if (m->min > oldmin)
		journal_trim(w, m->min);
	sti_wmeta_put(w, m);
	return n;
}
