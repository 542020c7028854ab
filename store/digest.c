/*
 * Record digests: the stored data st_verify() cannot recompute from the
 * entries (entry offsets, checkpoint notes, the leaf and envelope lookups,
 * the search indexes, the index journal, the derived state and the fixed
 * metadata) has one 256-bit sum a database, modulo 2^256, of a record
 * hash over
 *
 *	db name || 0x00 || u64 BE klen || key || u64 BE vlen || val
 *
 * for every record (every key/value pair of a dupsort database).  The
 * sums live in meta "digest" (32 bytes a database, in enum sti_db order)
 * and change with every write in the same transaction (sti_wput(),
 * sti_wend()); st_verify() rescans the databases in one snapshot and
 * compares, so a record changed, lost or added behind the store's back,
 * or a damaged page, is found and the database named.  The sums detect
 * accidents, not an attacker who can rewrite the file (the Merkle tree
 * and the signed checkpoints do that for the entries), so the record
 * hash is a fast non-cryptographic one (schema version 2; version 1 used
 * SHA-256, about ten of which an entry cost more than a microsecond):
 * four independent 64-bit multiply-xorshift lanes over the record's
 * 8-byte big-endian words (a short last word zero-padded, with its
 * length in the top byte), each finished with the MurmurHash3 64-bit
 * finalizer over the lane and the byte count; lane i gives bytes
 * 8i..8i+7 of the hash, little-endian.  Any change of a record changes
 * each lane with probability about 1 - 2^-64.
 */
#include <string.h>

#include "proto/err.h"
#include "store/st_int.h"

#define META_KEY "digest"

static const uint64_t lane_k[4] = {0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL,
    0x165667b19e3779f9ULL, 0xd6e8feb86659fd93ULL};

struct rhash {
	uint64_t s[4];
	uint64_t n;
};

int
sti_dig_tracked(enum sti_db db)
{
	switch (db) {
	case DB_META:
	case DB_OFFSETS:
	case DB_CKPT:
	case DB_LEAF:
	case DB_ENVELOPE:
	case DB_OCID:
	case DB_PARTY:
	case DB_ITEM:
	case DB_KIND:
	case DB_TIME:
	case DB_STATE:
	case DB_JOURNAL:
		return 1;
	default:
		return 0;
	}
}

/* Keys of meta that change with writes, so are not covered. */
static int
meta_skip(const MDB_val *k)
{
	return (k->mv_size == 4 &&
	           (memcmp(k->mv_data, "head", 4) == 0 ||
	               memcmp(k->mv_data, "ibuf", 4) == 0)) ||
	    (k->mv_size == sizeof(META_KEY) - 1 &&
	        memcmp(k->mv_data, META_KEY, sizeof(META_KEY) - 1) == 0);
}

static void
be64(uint8_t out[8], uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static void
rh_word(struct rhash *r, uint64_t w)
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		r->s[i] = (r->s[i] ^ w) * lane_k[i];
		r->s[i] ^= r->s[i] >> 29;
	}
}

static void
rh_absorb(struct rhash *r, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t w;
	size_t i;

	r->n += len;
	for (; len >= 8; p += 8, len -= 8)
		rh_word(r, pr_load_be64(p));
	if (len == 0)
		return;
	w = (uint64_t)len << 56;
	for (i = 0; i < len; i++)
		w |= (uint64_t)p[i] << (48 - 8 * i);
	rh_word(r, w);
}

static uint64_t
fmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Little-endian 256-bit sum += h, or sum -= h. */
static void
add(uint8_t sum[STI_DIG_LEN], const uint8_t h[STI_DIG_LEN], int sub)
{
	unsigned i, carry = sub ? 1 : 0, x;

	for (i = 0; i < STI_DIG_LEN; i++) {
		x = (unsigned)sum[i] + (uint8_t)(sub ? ~h[i] : h[i]) + carry;
		sum[i] = (uint8_t)x;
		carry = x >> 8;
	}
}

void
sti_dig_sub(uint8_t sum[STI_DIG_LEN], const uint8_t h[STI_DIG_LEN])
{
	add(sum, h, 1);
}

void
sti_dig_rec(uint8_t sum[STI_DIG_LEN], enum sti_db db, const MDB_val *k,
    const MDB_val *v, int sub)
{
	struct rhash r;
	uint8_t h[STI_DIG_LEN], len[8];
	uint64_t x;
	unsigned i, j;

	memcpy(r.s, lane_k, sizeof(r.s));
	r.n = 0;
	rh_absorb(&r, sti_dbname[db], strlen(sti_dbname[db]) + 1);
	be64(len, k->mv_size);
	rh_absorb(&r, len, 8);
	rh_absorb(&r, k->mv_data, k->mv_size);
	be64(len, v->mv_size);
	rh_absorb(&r, len, 8);
	if (v->mv_size > 0)
		rh_absorb(&r, v->mv_data, v->mv_size);
	for (i = 0; i < 4; i++) {
		x = fmix64(r.s[i] ^ r.n);
		for (j = 0; j < 8; j++, x >>= 8)
			h[8 * i + j] = (uint8_t)x;
	}
	add(sum, h, sub);
}

/*
 * LMDB trusts its pages: a damaged length would have the hash read past
 * the end of the map.  Every record procured writes has a known shape;
 * anything else is damage, caught before it is read.
 */
static int
plausible(enum sti_db db, const MDB_val *k, const MDB_val *v)
{
	size_t ks = k->mv_size, vs = v->mv_size;

	if (ks == 0 || ks > ST_KEY_MAX)
		return 0;
	switch (db) {
	case DB_OFFSETS:
		return ks == 8 && vs == 8;
	case DB_LEAF:
	case DB_ENVELOPE:
		return ks == PR_HASH_LEN && vs == 8;
	case DB_OCID:
	case DB_PARTY:
	case DB_ITEM:
	case DB_KIND:
		return vs == 8;
	case DB_TIME:
		return ks == 16 && vs == 0;
	case DB_CKPT:
		return ks == 8 && vs >= 8 + PR_HASH_LEN && vs <= (1u << 20);
	case DB_JOURNAL:
		return ks == 8 && vs >= 4 && vs <= (1u << 30);
	default:
		return vs <= (1u << 20);
	}
}

/* Sum every tracked database as of txn; *bad names a failing one. */
static int
scan(struct st_store *st, MDB_txn *txn, uint8_t out[ST_NDB][STI_DIG_LEN],
    enum sti_db *bad)
{
	MDB_cursor *c;
	MDB_val k, v;
	unsigned db;
	int rc = 0;

	memset(out, 0, ST_NDB * STI_DIG_LEN);
	for (db = 0; db < ST_NDB && rc == 0; db++) {
		if (!sti_dig_tracked((enum sti_db)db))
			continue;
		*bad = (enum sti_db)db;
		if ((rc = mdb_cursor_open(txn, st->dbi[db], &c)) != 0)
			break;
		while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
			if (db == DB_META && meta_skip(&k))
				continue;
			if (!plausible((enum sti_db)db, &k, &v)) {
				rc = MDB_CORRUPTED;
				break;
			}
			sti_dig_rec(out[db], (enum sti_db)db, &k, &v, 0);
		}
		mdb_cursor_close(c);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	return rc;
}

static int
load(struct st_store *st, MDB_txn *txn, uint8_t out[ST_NDB][STI_DIG_LEN])
{
	MDB_val k, v;
	int rc;

	k.mv_data = META_KEY;
	k.mv_size = sizeof(META_KEY) - 1;
	if ((rc = mdb_get(txn, st->dbi[DB_META], &k, &v)) != 0)
		return rc;
	if (v.mv_size != ST_NDB * STI_DIG_LEN)
		return MDB_CORRUPTED;
	memcpy(out, v.mv_data, v.mv_size);
	return 0;
}

int
sti_dig_put(
    struct st_store *st, MDB_txn *txn, const uint8_t sums[ST_NDB][STI_DIG_LEN])
{
	MDB_val k, v;

	k.mv_data = META_KEY;
	k.mv_size = sizeof(META_KEY) - 1;
	v.mv_data = (void *)sums;
	v.mv_size = ST_NDB * STI_DIG_LEN;
	return mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
}

int
sti_dig_open(struct st_store *st)
{
	struct sti_wtxn w;
	enum sti_db bad;
	MDB_txn *txn;
	int rc;

	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	rc = load(st, txn, st->digest);
	sti_rend(st, txn);
	if (rc == 0) {
		st->have_digest = 1;
		return 0;
	}
	if (rc != MDB_NOTFOUND)
		return sti_err(rc);
	/* A store from before the digests, or new: sum what is there. */
	if ((rc = sti_wbegin(st, &w)) != 0)
		return sti_err(rc);
	if ((rc = scan(st, w.txn, w.dig, &bad)) != 0) {
		sti_wfail(&w, rc);
		return sti_err(sti_wend(&w, 0));
	}
	w.digdirty = 1;
	st->have_digest = 1;
	if ((rc = sti_wend(&w, 1)) != 0)
		st->have_digest = 0;
	return sti_err(rc);
}

int
sti_dig_verify(struct st_store *st, struct pr_buf *msg)
{
	uint8_t want[ST_NDB][STI_DIG_LEN], got[ST_NDB][STI_DIG_LEN];
	struct sti_head h;
	enum sti_db bad = DB_META;
	MDB_txn *txn;
	unsigned db;
	int rc;

	if ((rc = sti_rbegin(st, &txn)) != 0)
		return rc;
	if ((rc = sti_head(st, txn, &h)) != 0)
		goto txn_end;
	if ((rc = load(st, txn, want)) != 0) {
		if (rc == MDB_NOTFOUND && h.size == 0) {
			rc = 0; /* new, never opened for writing */
			goto txn_end;
		}
		sti_errmsg(msg,
		    "%s: the store's record digests are missing or damaged.",
		    st->dir);
		rc = PR_ECORRUPT;
		goto txn_end;
	}
	if ((rc = scan(st, txn, got, &bad)) != 0) {
		sti_errmsg(msg, "%s: the \"%s\" database is damaged: %s.",
		    st->dir, sti_dbname[bad],
		    rc == MDB_CORRUPTED ? "a record or page is malformed"
		                        : mdb_strerror(rc));
		rc = PR_ECORRUPT;
		goto txn_end;
	}
	for (db = 0; db < ST_NDB; db++) {
		if (memcmp(want[db], got[db], STI_DIG_LEN) == 0)
			continue;
		sti_errmsg(msg,
		    "%s: the \"%s\" database does not match its digest: a "
		    "record was altered, lost or added outside procured.",
		    st->dir, sti_dbname[db]);
		rc = PR_ECORRUPT;
		break;
	}
txn_end:
	sti_rend(st, txn);
	return rc;
}
