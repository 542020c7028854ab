/*
 * The index buffer: hash and term index items of recent entries, held in
 * memory until they are merged ("flushed") into the LMDB index DBs.
 *
 * Updating the envelope, leaf, ocid, party, item and kind DBs in every
 * commit costs about one random page write per key once the trees are
 * larger than a batch.  Instead each commit appends one journal record
 * per entry (sequential) and the items go to this buffer; the writer
 * merges one shard of the buffer at a time, so each merge writes a narrow
 * key range (hash items are sharded by their first byte) or terms seen
 * many times (term items are sharded by a hash of the term).
 *
 * Shard s holds the items of entries lo[s] <= index < end that are not in
 * the DBs; the DBs hold those below W[s] (meta "ibuf").  A reader with
 * snapshot (W, size) uses buffered items W[s] <= index < size, which
 * requires lo[s] <= W[s] and end >= size (sti_ibegin() checks).
 *
 * Locking: readers hold lock shared; the writer modifies under it
 * exclusive and reads without it (it is the only modifier).
 */
#include <stdlib.h>
#include <string.h>

#include "proto/err.h"
#include "store/st_int.h"

#define EMPTY UINT64_MAX

struct ib_hslot {
	uint64_t idx;
	uint8_t h[PR_HASH_LEN];
};

struct ib_htab {
	struct ib_hslot *s;
	uint32_t cap, n;
};

struct ib_term {
	uint64_t *v;
	uint32_t n, cap;
	uint16_t len;
	uint32_t hash;
	char t[];
};

struct ib_ttab {
	struct ib_term **s;
	uint32_t cap, n;
};

struct ib_shard {
	struct ib_htab h[2];
	struct ib_ttab t[4];
	uint64_t lo;
	size_t bytes;
};

unsigned
sti_shard_hash(const pr_hash h)
{
	return h[0];
}

static uint32_t
term_hash(const char *t, size_t len)
{
	uint32_t x = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		x = (x ^ (uint8_t)t[i]) * 16777619u;
	return x;
}

unsigned
sti_shard_term(const char *t, size_t len)
{
	return term_hash(t, len) >> 24;
}

int
sti_ibuf_init(struct sti_ibuf *b)
{
	memset(b, 0, sizeof(*b));
	if ((b->sh = calloc(STI_SHARDS, sizeof(*b->sh))) == NULL)
		return PR_ENOMEM;
	pthread_rwlock_init(&b->lock, NULL);
	return 0;
}

static void
shard_clear(struct ib_shard *sh)
{
	uint32_t i;
	int k;

	for (k = 0; k < 2; k++)
		free(sh->h[k].s);
	for (k = 0; k < 4; k++) {
		for (i = 0; i < sh->t[k].cap; i++) {
			if (sh->t[k].s[i] != NULL) {
				free(sh->t[k].s[i]->v);
				free(sh->t[k].s[i]);
			}
		}
		free(sh->t[k].s);
	}
	memset(sh->h, 0, sizeof(sh->h));
	memset(sh->t, 0, sizeof(sh->t));
	sh->bytes = 0;
}

void
sti_ibuf_free(struct sti_ibuf *b)
{
	unsigned s;

	if (b->sh == NULL)
		return;
	for (s = 0; s < STI_SHARDS; s++)
		shard_clear(&b->sh[s]);
	free(b->sh);
	b->sh = NULL;
	pthread_rwlock_destroy(&b->lock);
}

/* Empty every shard; the buffer then covers [lo[s], end) = nothing. */
void
sti_ibuf_reset(struct sti_ibuf *b, const uint64_t *w, uint64_t end)
{
	unsigned s;

	for (s = 0; s < STI_SHARDS; s++) {
		shard_clear(&b->sh[s]);
		b->sh[s].lo = w[s];
	}
	b->bytes = 0;
	b->end = end;
}

static uint32_t
hslot(const uint8_t *h, uint32_t cap)
{
	uint32_t x;

	/* Byte 0 picks the shard; bytes 1-4 spread within it. */
	memcpy(&x, h + 1, 4);
	return x & (cap - 1);
}

static int
htab_grow(struct ib_htab *t)
{
	struct ib_hslot *old = t->s;
	uint32_t ocap = t->cap, ncap = ocap ? 2 * ocap : 16, i, j;

	if ((t->s = malloc(ncap * sizeof(*t->s))) == NULL) {
		t->s = old;
		return PR_ENOMEM;
	}
	for (i = 0; i < ncap; i++)
		t->s[i].idx = EMPTY;
	t->cap = ncap;
	for (i = 0; i < ocap; i++) {
		if (old[i].idx == EMPTY)
			continue;
		for (j = hslot(old[i].h, ncap); t->s[j].idx != EMPTY;
		     j = (j + 1) & (ncap - 1))
			;
		t->s[j] = old[i];
	}
	free(old);
	return 0;
}

/* Add h -> idx; an existing h keeps its (lower) index. */
int
sti_ibuf_add_hash(struct sti_ibuf *b, int which, const pr_hash h, uint64_t idx)
{
	struct ib_shard *sh = &b->sh[sti_shard_hash(h)];
	struct ib_htab *t = &sh->h[which];
	uint32_t j;
	int rc;

	if ((t->n + 1) * 2 > t->cap) {
		b->bytes -= (size_t)t->cap * sizeof(*t->s);
		sh->bytes -= (size_t)t->cap * sizeof(*t->s);
		rc = htab_grow(t);
		b->bytes += (size_t)t->cap * sizeof(*t->s);
		sh->bytes += (size_t)t->cap * sizeof(*t->s);
		if (rc != 0)
			return rc;
	}
	for (j = hslot(h, t->cap); t->s[j].idx != EMPTY;
	     j = (j + 1) & (t->cap - 1))
		if (memcmp(t->s[j].h, h, PR_HASH_LEN) == 0)
			return 0;
	t->s[j].idx = idx;
	memcpy(t->s[j].h, h, PR_HASH_LEN);
	t->n++;
	return 0;
}

/* Start loading the slot where h would go (a hint; no effect on the
 * contents): a batch prefetches all its hashes before adding them. */
void
sti_ibuf_prefetch(const struct sti_ibuf *b, int which, const pr_hash h)
{
	const struct ib_htab *t = &b->sh[sti_shard_hash(h)].h[which];

	if (t->cap > 0)
		__builtin_prefetch(&t->s[hslot(h, t->cap)], 1);
}

/* The buffered index of h if lo <= index < hi. */
int
sti_ibuf_find(const struct sti_ibuf *b, int which, const pr_hash h, uint64_t lo,
    uint64_t hi, uint64_t *idx)
{
	const struct ib_htab *t = &b->sh[sti_shard_hash(h)].h[which];
	uint32_t j;

	if (t->cap == 0)
		return PR_ENOTFOUND;
	for (j = hslot(h, t->cap); t->s[j].idx != EMPTY;
	     j = (j + 1) & (t->cap - 1)) {
		if (memcmp(t->s[j].h, h, PR_HASH_LEN) != 0)
			continue;
		if (t->s[j].idx < lo || t->s[j].idx >= hi)
			return PR_ENOTFOUND;
		*idx = t->s[j].idx;
		return 0;
	}
	return PR_ENOTFOUND;
}

static struct ib_term **
tfind(const struct ib_ttab *t, const char *s, size_t len, uint32_t h)
{
	struct ib_term **p;
	uint32_t j;

	for (j = h & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
		p = &t->s[j];
		if (*p == NULL ||
		    ((*p)->hash == h && (*p)->len == len &&
		        memcmp((*p)->t, s, len) == 0))
			return p;
	}
}

static int
ttab_grow(struct ib_ttab *t)
{
	struct ib_term **old = t->s, **p;
	uint32_t ocap = t->cap, i;

	if ((t->s = calloc(ocap ? 2 * ocap : 8, sizeof(*t->s))) == NULL) {
		t->s = old;
		return PR_ENOMEM;
	}
	t->cap = ocap ? 2 * ocap : 8;
	for (i = 0; i < ocap; i++) {
		if (old[i] == NULL)
			continue;
		p = tfind(t, old[i]->t, old[i]->len, old[i]->hash);
		*p = old[i];
	}
	free(old);
	return 0;
}

/* Append idx to the postings of term (indexes arrive in order). */
int
sti_ibuf_add_term(
    struct sti_ibuf *b, int which, const char *s, size_t len, uint64_t idx)
{
	uint32_t h = term_hash(s, len);
	struct ib_shard *sh = &b->sh[h >> 24];
	struct ib_ttab *t = &sh->t[which];
	struct ib_term **p, *e;
	uint64_t *v;
	size_t add;
	int rc;

	if ((t->n + 1) * 2 > t->cap) {
		add = (size_t)t->cap * sizeof(*t->s);
		if ((rc = ttab_grow(t)) != 0)
			return rc;
		add = (size_t)t->cap * sizeof(*t->s) - add;
		b->bytes += add;
		sh->bytes += add;
	}
	p = tfind(t, s, len, h);
	if ((e = *p) == NULL) {
		if ((e = calloc(1, sizeof(*e) + len)) == NULL)
			return PR_ENOMEM;
		e->len = (uint16_t)len;
		e->hash = h;
		memcpy(e->t, s, len);
		*p = e;
		t->n++;
		b->bytes += sizeof(*e) + len;
		sh->bytes += sizeof(*e) + len;
	}
	if (e->n > 0 && e->v[e->n - 1] >= idx)
		return 0;
	if (e->n == e->cap) {
		v = realloc(e->v, (e->cap ? 2 * e->cap : 4) * sizeof(*v));
		if (v == NULL)
			return PR_ENOMEM;
		add = (e->cap ? e->cap : 4) * sizeof(*v);
		e->v = v;
		e->cap = e->cap ? 2 * e->cap : 4;
		b->bytes += add;
		sh->bytes += add;
	}
	e->v[e->n++] = idx;
	return 0;
}

/* Buffered postings of a term, ascending; NULL if none. */
const uint64_t *
sti_ibuf_postings(
    const struct sti_ibuf *b, int which, const char *s, size_t len, size_t *n)
{
	uint32_t h = term_hash(s, len);
	const struct ib_ttab *t = &b->sh[h >> 24].t[which];
	struct ib_term **p;

	if (t->cap == 0)
		return NULL;
	p = tfind(t, s, len, h);
	if (*p == NULL)
		return NULL;
	*n = (*p)->n;
	return (*p)->v;
}

int
sti_ibuf_shard_items(
    const struct sti_ibuf *b, unsigned s, struct sti_items *out)
{
	const struct ib_shard *sh = &b->sh[s];
	uint32_t i;
	int k;

	memset(out, 0, sizeof(*out));
	for (k = 0; k < 2; k++) {
		if (sh->h[k].n == 0)
			continue;
		out->h[k] = malloc(sh->h[k].n * sizeof(*out->h[k]));
		if (out->h[k] == NULL)
			return PR_ENOMEM;
		for (i = 0; i < sh->h[k].cap; i++) {
			if (sh->h[k].s[i].idx == EMPTY)
				continue;
			memcpy(out->h[k][out->nh[k]].h, sh->h[k].s[i].h,
			    PR_HASH_LEN);
			out->h[k][out->nh[k]++].idx = sh->h[k].s[i].idx;
		}
	}
	for (k = 0; k < 4; k++) {
		if (sh->t[k].n == 0)
			continue;
		out->t[k] = malloc(sh->t[k].n * sizeof(*out->t[k]));
		if (out->t[k] == NULL)
			return PR_ENOMEM;
		for (i = 0; i < sh->t[k].cap; i++) {
			if (sh->t[k].s[i] == NULL)
				continue;
			out->t[k][out->nt[k]].s = sh->t[k].s[i]->t;
			out->t[k][out->nt[k]].len = sh->t[k].s[i]->len;
			out->t[k][out->nt[k]].v = sh->t[k].s[i]->v;
			out->t[k][out->nt[k]++].n = sh->t[k].s[i]->n;
		}
	}
	return 0;
}

void
sti_items_free(struct sti_items *it)
{
	int k;

	for (k = 0; k < 2; k++)
		free(it->h[k]);
	for (k = 0; k < 4; k++)
		free(it->t[k]);
	memset(it, 0, sizeof(*it));
}

/*
 * Keep only the items of shard s below x (below != 0: a failed batch is
 * taken back) or at or above x (below == 0: what is below x was merged).
 */
int
sti_ibuf_keep(struct sti_ibuf *b, unsigned s, uint64_t x, int below)
{
	struct ib_shard *sh = &b->sh[s], old = *sh;
	struct ib_term *e;
	uint32_t i, j;
	int w, rc = 0;

	memset(sh->h, 0, sizeof(sh->h));
	memset(sh->t, 0, sizeof(sh->t));
	b->bytes -= sh->bytes;
	sh->bytes = 0;
	/* Re-add what stays; the sub-counters are rebuilt by the adds. */
	for (w = 0; w < 2 && rc == 0; w++)
		for (i = 0; i < old.h[w].cap && rc == 0; i++)
			if (old.h[w].s[i].idx != EMPTY &&
			    (old.h[w].s[i].idx < x) == (below != 0))
				rc = sti_ibuf_add_hash(
				    b, w, old.h[w].s[i].h, old.h[w].s[i].idx);
	for (w = 0; w < 4 && rc == 0; w++) {
		for (i = 0; i < old.t[w].cap && rc == 0; i++) {
			if ((e = old.t[w].s[i]) == NULL)
				continue;
			for (j = 0; j < e->n && rc == 0; j++)
				if ((e->v[j] < x) == (below != 0))
					rc = sti_ibuf_add_term(
					    b, w, e->t, e->len, e->v[j]);
		}
	}
	shard_clear(&old);
	if (!below && x > sh->lo)
		sh->lo = x;
	return rc;
}

uint64_t
sti_ibuf_lo(const struct sti_ibuf *b, unsigned s)
{
	return b->sh[s].lo;
}

size_t
sti_ibuf_bytes(const struct sti_ibuf *b)
{
	return b->bytes;
}

/* Hashes held for index which (0: envelope, 1: leaf). */
uint64_t
sti_ibuf_count(const struct sti_ibuf *b, int which)
{
	uint64_t n = 0;
	unsigned s;

	for (s = 0; s < STI_SHARDS; s++)
		n += b->sh[s].h[which].n;
	return n;
}

/* Call fn for every hash held for index which. */
void
sti_ibuf_each_hash(const struct sti_ibuf *b, int which,
    void (*fn)(void *ctx, const pr_hash h), void *ctx)
{
	const struct ib_htab *t;
	unsigned s;
	uint32_t i;

	for (s = 0; s < STI_SHARDS; s++) {
		t = &b->sh[s].h[which];
		for (i = 0; i < t->cap; i++)
			if (t->s[i].idx != EMPTY)
				fn(ctx, t->s[i].h);
	}
}
