/*
 * The entry heap: every entry, in log order, as a u16 BE length and its
 * bytes, cut into fixed-size segments (DB "entries"), with the heap
 * offset of each entry in DB "offsets".  A run of consecutive entries is
 * one contiguous heap range, which is exactly a tlog-tiles entry bundle.
 */
#include <string.h>

#include "proto/err.h"
#include "store/st_int.h"

/* Entries read into memory at a time by st_entries(). */
#define CHUNK 256

void
sti_heap_begin(struct sti_heap *h, struct sti_wtxn *w, uint64_t end)
{
	uint8_t key[8];
	MDB_val v;
	int rc;

	h->w = w;
	h->segsize = w->st->segsize;
	h->buf = w->st->segbuf;
	h->seg = end / h->segsize;
	h->fill = end % h->segsize;
	h->end = end;
	h->exists = 0;
	h->dirty = 0;
	if (h->fill == 0)
		return;
	/* Reload the partial last segment; it is rewritten in place. */
	pr_store_be64(key, h->seg);
	rc = sti_wget(w, DB_ENTRIES, key, 8, &v);
	if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size != h->fill)) {
		sti_wfail(w, PR_ECORRUPT);
		return;
	}
	if (rc == 0) {
		memcpy(h->buf, v.mv_data, h->fill);
		h->exists = 1;
	}
}

static void
flush_seg(struct sti_heap *h)
{
	uint8_t key[8];

	pr_store_be64(key, h->seg);
	sti_wput(h->w, DB_ENTRIES, key, 8, h->buf, h->fill,
	    h->exists ? 0 : MDB_APPEND);
	h->dirty = 0;
}

void
sti_heap_append(struct sti_heap *h, const void *p, size_t len)
{
	const uint8_t *s = p;
	size_t n;

	while (len > 0) {
		n = h->segsize - h->fill;
		if (n > len)
			n = len;
		memcpy(h->buf + h->fill, s, n);
		h->fill += n;
		h->end += n;
		s += n;
		len -= n;
		h->dirty = 1;
		if (h->fill == h->segsize) {
			flush_seg(h);
			h->seg++;
			h->fill = 0;
			h->exists = 0;
		}
	}
}

void
sti_heap_finish(struct sti_heap *h)
{
	if (h->dirty && h->fill > 0)
		flush_seg(h);
}

/* Copy heap bytes [off, off + len) to dst. */
int
sti_heap_read(
    struct st_store *st, MDB_txn *txn, uint64_t off, size_t len, uint8_t *dst)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t key[8];
	uint64_t seg = off / st->segsize;
	size_t o = off % st->segsize, n;
	int rc;

	if (len == 0)
		return 0;
	if ((rc = sti_err(mdb_cursor_open(txn, st->dbi[DB_ENTRIES], &c))) != 0)
		return rc;
	pr_store_be64(key, seg);
	k.mv_data = key;
	k.mv_size = 8;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	for (;;) {
		if (rc != 0) {
			rc = rc == MDB_NOTFOUND ? PR_ECORRUPT : sti_err(rc);
			break;
		}
		if (k.mv_size != 8 || pr_load_be64(k.mv_data) != seg ||
		    o >= v.mv_size || v.mv_size > st->segsize) {
			rc = PR_ECORRUPT;
			break;
		}
		n = v.mv_size - o;
		if (n > len)
			n = len;
		memcpy(dst, (uint8_t *)v.mv_data + o, n);
		dst += n;
		len -= n;
		if (len == 0)
			break;
		if (v.mv_size != st->segsize) {
			rc = PR_ECORRUPT;
			break;
		}
		o = 0;
		seg++;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	return rc;
}

/* Heap offset of entry index; index == size gives the heap end. */
int
sti_entry_off(struct st_store *st, MDB_txn *txn, const struct sti_head *h,
    uint64_t index, uint64_t *off)
{
	uint8_t key[8];
	MDB_val v;
	int rc;

	if (index > h->size)
		return PR_ENOTFOUND;
	if (index == h->size) {
		*off = h->heap_end;
		return 0;
	}
	pr_store_be64(key, index);
	if ((rc = sti_get(st, txn, DB_OFFSETS, key, 8, &v)) != 0)
		return rc == PR_ENOTFOUND ? PR_ECORRUPT : rc;
	if (v.mv_size != 8 || pr_load_be64(v.mv_data) > h->heap_end)
		return PR_ECORRUPT;
	*off = pr_load_be64(v.mv_data);
	return 0;
}

/*
 * Append the heap range of entries [i, j) (their bundle encoding) to out,
 * checking that it holds exactly j - i length-prefixed entries.
 */
int
sti_read_range(struct st_store *st, MDB_txn *txn, const struct sti_head *h,
    uint64_t i, uint64_t j, struct pr_buf *out)
{
	uint64_t a, b, k;
	const uint8_t *p;
	size_t len, pos;
	int rc;

	if ((rc = sti_entry_off(st, txn, h, i, &a)) != 0 ||
	    (rc = sti_entry_off(st, txn, h, j, &b)) != 0)
		return rc;
	if (b < a || b - a < 2 * (j - i) || b - a > (j - i) * (2 + 65535))
		return PR_ECORRUPT;
	len = (size_t)(b - a);
	if ((rc = pr_buf_reserve(out, len)) != 0)
		return rc;
	p = out->data + out->len;
	if ((rc = sti_heap_read(st, txn, a, len, out->data + out->len)) != 0)
		return rc;
	for (pos = 0, k = i; k < j; k++) {
		if (len - pos < 2 || len - pos - 2 < pr_load_be16(p + pos))
			return PR_ECORRUPT;
		pos += 2 + (size_t)pr_load_be16(p + pos);
	}
	if (pos != len)
		return PR_ECORRUPT;
	out->len += len;
	out->data[out->len] = '\0';
	return 0;
}

int
st_entry(struct st_store *st, uint64_t index, struct pr_buf *out)
{
	struct pr_buf tmp = PR_BUF_INIT;
	struct sti_head h;
	MDB_txn *txn;
	int rc;

	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_head(st, txn, &h)) == 0) {
		if (index >= h.size)
			rc = PR_ENOTFOUND;
		else
			rc =
			    sti_read_range(st, txn, &h, index, index + 1, &tmp);
	}
	sti_rend(st, txn);
	if (rc == 0)
		rc = pr_buf_append(out, tmp.data + 2, tmp.len - 2);
	pr_buf_free(&tmp);
	return rc;
}

int
st_entries(struct st_store *st, uint64_t start, size_t count,
    int (*cb)(void *ctx, uint64_t index, const uint8_t *e, size_t len),
    void *ctx)
{
	struct pr_buf buf = PR_BUF_INIT;
	struct sti_head h;
	MDB_txn *txn;
	uint64_t end, i, j;
	size_t pos, len;
	int rc;

	if (cb == NULL)
		return PR_EINVAL;
	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_head(st, txn, &h)) != 0)
		goto txn_end;
	if (start >= h.size) {
		rc = PR_ENOTFOUND;
		goto txn_end;
	}
	end = count < h.size - start ? start + count : h.size;
	for (i = start; i < end && rc == 0; i = j) {
		j = end - i < CHUNK ? end : i + CHUNK;
		pr_buf_reset(&buf);
		if ((rc = sti_read_range(st, txn, &h, i, j, &buf)) != 0)
			break;
		for (pos = 0; i < j; i++) {
			len = pr_load_be16(buf.data + pos);
			rc = cb(ctx, i, buf.data + pos + 2, len);
			if (rc != 0)
				break;
			pos += 2 + len;
		}
	}
	if (rc > 0)
		rc = 0;
txn_end:
	sti_rend(st, txn);
	pr_buf_free(&buf);
	return rc;
}

int
st_entry_bundle(
    struct st_store *st, uint64_t index, unsigned width, struct pr_buf *out)
{
	struct sti_head h;
	MDB_txn *txn;
	uint64_t first;
	size_t old = out->len;
	int rc;

	if (width < 1 || width > ST_TILE_WIDTH)
		return PR_EINVAL;
	if (index > UINT64_MAX / ST_TILE_WIDTH - 1)
		return PR_ENOTFOUND;
	first = index * ST_TILE_WIDTH;
	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_head(st, txn, &h)) == 0) {
		if (first > h.size || h.size - first < width)
			rc = PR_ENOTFOUND;
		else
			rc = sti_read_range(
			    st, txn, &h, first, first + width, out);
	}
	sti_rend(st, txn);
	if (rc != 0)
		out->len = old;
	return rc;
}
