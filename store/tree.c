/*
 * The Merkle tree in DB "tiles": one record per tile (L, N) holding every
 * full-subtree hash inside it, so any stored hash is one get and a tile
 * read is a prefix of one value.
 *
 * A record of width w (1..256) holds, for r = 0..7, the w >> r hashes at
 * tree level 8L + r that cover the tile's row, level by level; its length
 * (32 * sum of w >> r) determines w.  The tile's own root (level 8L + 8)
 * is in the row of tile (L + 1, N / 256).  A full record is 510 hashes,
 * 16,320 bytes: four 4 KiB overflow pages with almost no slack.
 */
#include <string.h>

#include "proto/err.h"
#include "store/st_int.h"

/* Offset (in hashes) of level r in struct sti_tile's full layout. */
#define FOFF(r) (512u - (512u >> (r)))

/* Offset (in hashes) of level r in a stored record of width w. */
static size_t
coff(unsigned w, unsigned r)
{
	size_t o = 0;
	unsigned j;

	for (j = 0; j < r; j++)
		o += w >> j;
	return o;
}

/* Width of a record from its length in bytes. */
static int
tile_width(size_t len, unsigned *w)
{
	unsigned lo = 1, hi = ST_TILE_WIDTH, mid;
	size_t n;

	if (len % PR_HASH_LEN != 0)
		return PR_ECORRUPT;
	n = len / PR_HASH_LEN;
	while (lo <= hi) {
		mid = (lo + hi) / 2;
		if (coff(mid, 8) == n) {
			*w = mid;
			return 0;
		}
		if (coff(mid, 8) < n)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return PR_ECORRUPT;
}

static void
tile_key(uint8_t key[9], unsigned level, uint64_t n)
{
	key[0] = (uint8_t)level;
	pr_store_be64(key + 1, n);
}

void
sti_tread_init(struct sti_tread *t, struct st_store *st, MDB_txn *txn)
{
	memset(t, 0, sizeof(*t));
	t->st = st;
	t->txn = txn;
}

static int
tile_fetch(struct sti_tread *t, unsigned level, uint64_t n, const uint8_t **p,
    unsigned *w)
{
	uint8_t key[9];
	MDB_val v;
	int rc;

	if (!t->nocache && t->c[level].ok && t->c[level].n == n) {
		*p = t->c[level].p;
		*w = t->c[level].w;
		return 0;
	}
	tile_key(key, level, n);
	if ((rc = sti_get(t->st, t->txn, DB_TILES, key, 9, &v)) != 0)
		return rc == PR_ENOTFOUND ? PR_ECORRUPT : rc;
	if ((rc = tile_width(v.mv_size, w)) != 0)
		return rc;
	*p = v.mv_data;
	t->c[level].ok = 1;
	t->c[level].n = n;
	t->c[level].p = *p;
	t->c[level].w = *w;
	return 0;
}

/* pr_merkle_get_fn over the stored tiles; ctx is a struct sti_tread. */
int
sti_tree_get(void *ctx, unsigned level, uint64_t index, pr_hash out)
{
	struct sti_tread *t = ctx;
	const uint8_t *p;
	unsigned tl = level / 8, r = level % 8, w;
	uint64_t n, j;
	int rc;

	if (tl >= STI_LEVELS)
		return PR_ECORRUPT;
	n = (index << r) >> 8;
	j = index - (n << (8 - r));
	if ((rc = tile_fetch(t, tl, n, &p, &w)) != 0)
		return rc;
	if (j >= (w >> r))
		return PR_ECORRUPT;
	memcpy(out, p + PR_HASH_LEN * (coff(w, r) + j), PR_HASH_LEN);
	return 0;
}

void
sti_twriter_begin(struct sti_twriter *tw, struct sti_wtxn *w)
{
	unsigned l;

	tw->w = w;
	tw->t = w->st->tiles;
	for (l = 0; l < STI_LEVELS; l++)
		tw->t[l].live = 0;
}

static void
tile_flush(struct sti_twriter *tw, unsigned level)
{
	struct sti_tile *t = &tw->t[level];
	uint8_t *buf = tw->w->st->tilebuf;
	uint8_t key[9];
	unsigned r;

	if (!t->live || !t->dirty)
		return;
	for (r = 0; r < 8; r++)
		memcpy(buf + PR_HASH_LEN * coff(t->w, r), t->h[FOFF(r)],
		    PR_HASH_LEN * (t->w >> r));
	tile_key(key, level, t->n);
	sti_wput(tw->w, DB_TILES, key, 9, buf, PR_HASH_LEN * coff(t->w, 8), 0);
	t->dirty = 0;
}

static int
tile_load(struct sti_twriter *tw, unsigned level, uint64_t n)
{
	struct sti_tile *t = &tw->t[level];
	uint8_t key[9];
	unsigned r, w;
	MDB_val v;
	int rc;

	t->live = 1;
	t->dirty = 0;
	t->n = n;
	t->w = 0;
	tile_key(key, level, n);
	rc = sti_wget(tw->w, DB_TILES, key, 9, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return sti_err(rc);
	if ((rc = tile_width(v.mv_size, &w)) != 0)
		return rc;
	for (r = 0; r < 8; r++)
		memcpy(t->h[FOFF(r)],
		    (uint8_t *)v.mv_data + PR_HASH_LEN * coff(w, r),
		    PR_HASH_LEN * (w >> r));
	t->w = w;
	return 0;
}

/* pr_merkle_put_fn for appends; ctx is a struct sti_twriter. */
int
sti_tree_put(void *ctx, unsigned level, uint64_t index, const pr_hash h)
{
	struct sti_twriter *tw = ctx;
	struct sti_tile *t;
	unsigned tl = level / 8, r = level % 8;
	uint64_t n, j;
	int rc;

	if (tl >= STI_LEVELS)
		return PR_ERANGE;
	n = (index << r) >> 8;
	j = index - (n << (8 - r));
	t = &tw->t[tl];
	if (!t->live || t->n != n) {
		tile_flush(tw, tl);
		if ((rc = tile_load(tw, tl, n)) != 0)
			return rc;
	}
	if (r == 0) {
		if (j != t->w)
			return PR_ECORRUPT;
		t->w = (unsigned)j + 1;
	} else if (j >= (t->w >> r)) {
		return PR_ECORRUPT;
	}
	memcpy(t->h[FOFF(r) + j], h, PR_HASH_LEN);
	t->dirty = 1;
	return tw->w->rc != 0 ? sti_err(tw->w->rc) : 0;
}

void
sti_twriter_finish(struct sti_twriter *tw)
{
	unsigned l;

	for (l = 0; l < STI_LEVELS; l++)
		tile_flush(tw, l);
}

int
st_tile(struct st_store *st, unsigned level, uint64_t index, unsigned width,
    struct pr_buf *out)
{
	struct sti_tread t;
	struct sti_head h;
	const uint8_t *p;
	MDB_txn *txn;
	uint64_t avail;
	unsigned w;
	int rc;

	if (width < 1 || width > ST_TILE_WIDTH || level >= STI_LEVELS)
		return PR_EINVAL;
	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_head(st, txn, &h)) != 0)
		goto txn_end;
	avail = h.size >> (ST_TILE_HEIGHT * level);
	if (index > avail / ST_TILE_WIDTH ||
	    avail - index * ST_TILE_WIDTH < width) {
		rc = PR_ENOTFOUND;
		goto txn_end;
	}
	sti_tread_init(&t, st, txn);
	if ((rc = tile_fetch(&t, level, index, &p, &w)) != 0)
		goto txn_end;
	if (w < width)
		rc = PR_ECORRUPT;
	else
		rc = pr_buf_append(out, p, (size_t)width * PR_HASH_LEN);
txn_end:
	sti_rend(st, txn);
	return rc;
}

int
st_leaf_hash(struct st_store *st, uint64_t index, pr_hash out)
{
	struct sti_tread t;
	struct sti_head h;
	MDB_txn *txn;
	pr_hash tmp;
	int rc;

	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_head(st, txn, &h)) == 0) {
		sti_tread_init(&t, st, txn);
		rc = index < h.size ? sti_tree_get(&t, 0, index, tmp)
		                    : PR_ENOTFOUND;
	}
	sti_rend(st, txn);
	if (rc == 0)
		memcpy(out, tmp, PR_HASH_LEN);
	return rc;
}

int
st_root_at(struct st_store *st, uint64_t size, pr_hash out)
{
	struct sti_tread t;
	struct sti_head h;
	MDB_txn *txn;
	pr_hash tmp;
	int rc;

	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_head(st, txn, &h)) == 0) {
		sti_tread_init(&t, st, txn);
		rc = size <= h.size
		    ? pr_merkle_root(size, sti_tree_get, &t, tmp)
		    : PR_ENOTFOUND;
	}
	sti_rend(st, txn);
	if (rc == 0)
		memcpy(out, tmp, PR_HASH_LEN);
	return rc;
}

static int
proof(struct st_store *st, int consistency, uint64_t a, uint64_t b,
    pr_hash *out, size_t *len)
{
	pr_hash tmp[PR_MERKLE_MAX_PROOF];
	struct sti_tread t;
	struct sti_head h;
	MDB_txn *txn;
	size_t n = 0;
	int rc;

	if (consistency ? a == 0 || a > b : a >= b)
		return PR_EINVAL;
	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_head(st, txn, &h)) == 0) {
		sti_tread_init(&t, st, txn);
		if (b > h.size)
			rc = PR_ENOTFOUND;
		else if (consistency)
			rc = pr_merkle_consistency_proof(
			    a, b, sti_tree_get, &t, tmp, &n);
		else
			rc = pr_merkle_inclusion_proof(
			    a, b, sti_tree_get, &t, tmp, &n);
	}
	sti_rend(st, txn);
	if (rc == 0) {
		memcpy(out, tmp, n * PR_HASH_LEN);
		*len = n;
	}
	return rc;
}

int
st_inclusion_proof(struct st_store *st, uint64_t index, uint64_t size,
    pr_hash *out, size_t *len)
{
	return proof(st, 0, index, size, out, len);
}

int
st_consistency_proof(
    struct st_store *st, uint64_t m, uint64_t n, pr_hash *out, size_t *len)
{
	return proof(st, 1, m, n, out, len);
}

int
st_inclusion_proofs(struct st_store *st, uint64_t first, uint64_t count,
    uint64_t size, pr_merkle_proof_fn fn, void *ctx)
{
	struct sti_tread t;
	struct sti_head h;
	MDB_txn *txn;
	int rc;

	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_head(st, txn, &h)) == 0) {
		sti_tread_init(&t, st, txn);
		rc = size > h.size ? PR_ENOTFOUND
		                   : pr_merkle_inclusion_proofs(first, count,
		                         size, sti_tree_get, &t, fn, ctx);
	}
	sti_rend(st, txn);
	return rc;
}
