/*
 * Index scans: ocid, party, item and kind (DUPSORT lists of u64 BE log
 * indexes under each key) and log time.
 */
#include <string.h>

#include "proto/err.h"
#include "store/st_int.h"

static const enum sti_db idx_db[] = {DB_OCID, DB_PARTY, DB_ITEM, DB_KIND};

static int
scan_args(enum st_index which, const char *key, size_t limit,
    const uint64_t *out, const size_t *n, size_t *klen)
{
	if ((unsigned)which >= sizeof(idx_db) / sizeof(idx_db[0]) ||
	    key == NULL || n == NULL || (limit > 0 && out == NULL))
		return PR_EINVAL;
	*klen = strnlen(key, ST_KEY_MAX + 1);
	if (*klen == 0 || *klen > ST_KEY_MAX)
		return PR_EINVAL;
	return 0;
}

/*
 * Position c on the first value of key to return: ascending, the first
 * value > from (or the first, if from is ST_SCAN_START); descending, the
 * last value < from (or the last, if from is ST_SCAN_END).  Returns a raw
 * code: MDB_NOTFOUND when there is none.
 */
static int
seek(MDB_cursor *c, const char *key, size_t klen, uint64_t from, int desc)
{
	MDB_val k, v;
	uint8_t be[8];
	int rc;

	k.mv_data = (void *)key;
	k.mv_size = klen;
	if ((rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY)) != 0)
		return rc;
	if (from == UINT64_MAX)
		return mdb_cursor_get(
		    c, &k, &v, desc ? MDB_LAST_DUP : MDB_FIRST_DUP);
	if (!desc && from == UINT64_MAX - 1)
		return MDB_NOTFOUND;
	if (desc && from == 0)
		return MDB_NOTFOUND;
	pr_store_be64(be, desc ? from : from + 1);
	v.mv_data = be;
	v.mv_size = 8;
	rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH_RANGE);
	if (!desc)
		return rc;
	if (rc == 0)
		return mdb_cursor_get(c, &k, &v, MDB_PREV_DUP);
	if (rc != MDB_NOTFOUND)
		return rc;
	/* Every value is below from. */
	k.mv_data = (void *)key;
	k.mv_size = klen;
	if ((rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY)) != 0)
		return rc;
	return mdb_cursor_get(c, &k, &v, MDB_LAST_DUP);
}

/* Disk postings of key from `from` on (see seek()), up to limit. */
static int
disk_scan(struct st_store *st, MDB_txn *txn, enum st_index which,
    const char *key, size_t klen, uint64_t from, int desc, size_t limit,
    uint64_t *out, size_t *cnt)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (*cnt >= limit)
		return 0;
	if ((rc = mdb_cursor_open(txn, st->dbi[idx_db[which]], &c)) != 0)
		return sti_err(rc);
	rc = seek(c, key, klen, from, desc);
	while (rc == 0 && *cnt < limit) {
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT)) != 0)
			break;
		if (v.mv_size != 8) {
			rc = PR_ECORRUPT;
			break;
		}
		out[(*cnt)++] = pr_load_be64(v.mv_data);
		rc = mdb_cursor_get(
		    c, &k, &v, desc ? MDB_PREV_DUP : MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : sti_err(rc);
}

/* First position in v[0..n) holding a value >= x. */
static size_t
lower(const uint64_t *v, size_t n, uint64_t x)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The DBs hold this key's postings below the watermark W of its shard,
 * the buffer those from W up to the snapshot's size: ascending, the disk
 * part comes first; descending, the buffer part.
 */
static int
scan(struct st_store *st, enum st_index which, const char *key, uint64_t from,
    size_t limit, uint64_t *out, size_t *n, int desc)
{
	struct sti_isnap is;
	const uint64_t *v;
	uint64_t w, x;
	size_t klen, cnt = 0, vn = 0, a, b;
	int rc;

	if ((rc = scan_args(which, key, limit, out, n, &klen)) != 0)
		return rc;
	if (limit == 0) {
		*n = 0;
		return 0;
	}
	if ((rc = sti_ibegin(st, &is)) != 0)
		return rc;
	w = is.m.w[sti_shard_term(key, klen)];
	if ((v = sti_ibuf_postings(&st->ibuf, which, key, klen, &vn)) == NULL)
		vn = 0;
	/* Buffered postings visible here: v[a..b). */
	a = lower(v, vn, w);
	b = lower(v, vn, is.h.size);
	if (!desc) {
		if (from == ST_SCAN_START || from < w)
			rc = disk_scan(st, is.txn, which, key, klen, from, 0,
			    limit, out, &cnt);
		if (from != ST_SCAN_START && from >= w)
			a = from == UINT64_MAX - 1 ? b : lower(v, vn, from + 1);
		for (; rc == 0 && a < b && cnt < limit; a++)
			out[cnt++] = v[a];
	} else {
		x = from < is.h.size ? from : is.h.size;
		for (b = lower(v, vn, x); b > a && cnt < limit; b--)
			out[cnt++] = v[b - 1];
		if (from > 0)
			rc = disk_scan(st, is.txn, which, key, klen,
			    from == ST_SCAN_END || from > w ? ST_SCAN_END
			                                    : from,
			    1, limit, out, &cnt);
	}
	sti_iend(st, &is);
	if (rc == 0)
		*n = cnt;
	return rc;
}

int
st_scan(struct st_store *st, enum st_index which, const char *key,
    uint64_t after, size_t limit, uint64_t *out, size_t *n)
{
	return scan(st, which, key, after, limit, out, n, 0);
}

int
st_scan_desc(struct st_store *st, enum st_index which, const char *key,
    uint64_t before, size_t limit, uint64_t *out, size_t *n)
{
	return scan(st, which, key, before, limit, out, n, 1);
}

/* Index of the first entry logged at or after ms, or the tree size. */
static int
time_lower(MDB_cursor *c, uint64_t ms, uint64_t size, uint64_t *index)
{
	MDB_val k, v;
	uint8_t key[16];
	int rc;

	pr_store_be64(key, ms);
	pr_store_be64(key + 8, 0);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND) {
		*index = size;
		return 0;
	}
	if (rc != 0)
		return sti_err(rc);
	if (k.mv_size != 16 || pr_load_be64((uint8_t *)k.mv_data + 8) > size)
		return PR_ECORRUPT;
	*index = pr_load_be64((uint8_t *)k.mv_data + 8);
	return 0;
}

int
st_scan_time(struct st_store *st, uint64_t from_ms, uint64_t to_ms,
    uint64_t after, size_t limit, uint64_t *out, size_t *n)
{
	struct sti_head h;
	MDB_cursor *c;
	MDB_txn *txn;
	uint64_t lo = 0, hi = 0;
	size_t i, cnt = 0;
	int rc;

	if (n == NULL || (limit > 0 && out == NULL))
		return PR_EINVAL;
	if (from_ms >= to_ms || limit == 0) {
		*n = 0;
		return 0;
	}
	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_head(st, txn, &h)) != 0)
		goto txn_end;
	if ((rc = sti_err(mdb_cursor_open(txn, st->dbi[DB_TIME], &c))) != 0)
		goto txn_end;
	/* Log times never decrease: the range is [lo, hi) of indexes. */
	if ((rc = time_lower(c, from_ms, h.size, &lo)) == 0)
		rc = time_lower(c, to_ms, h.size, &hi);
	mdb_cursor_close(c);
txn_end:
	sti_rend(st, txn);
	if (rc != 0)
		return rc;
	if (after != ST_SCAN_START && after >= lo)
		lo = after + 1;
	if (hi > lo)
		cnt = hi - lo < limit ? (size_t)(hi - lo) : limit;
	for (i = 0; i < cnt; i++)
		out[i] = lo + i;
	*n = cnt;
	return 0;
}
