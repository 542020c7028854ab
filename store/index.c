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

static int
scan(struct st_store *st, enum st_index which, const char *key, uint64_t from,
    size_t limit, uint64_t *out, size_t *n, int desc)
{
	MDB_cursor *c;
	MDB_txn *txn;
	MDB_val k, v;
	size_t klen, cnt = 0;
	int rc;

	if ((rc = scan_args(which, key, limit, out, n, &klen)) != 0)
		return rc;
	if (limit == 0) {
		*n = 0;
		return 0;
	}
	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->dbi[idx_db[which]], &c)) != 0)
		goto txn_end;
	rc = seek(c, key, klen, from, desc);
	while (rc == 0 && cnt < limit) {
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT)) != 0)
			break;
		if (v.mv_size != 8) {
			rc = PR_ECORRUPT;
			break;
		}
		out[cnt++] = pr_load_be64(v.mv_data);
		rc = mdb_cursor_get(
		    c, &k, &v, desc ? MDB_PREV_DUP : MDB_NEXT_DUP);
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	mdb_cursor_close(c);
txn_end:
	sti_rend(st, txn);
	if ((rc = sti_err(rc)) == 0)
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
