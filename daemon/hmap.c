#include <stdlib.h>
#include <string.h>

#include "daemon/hmap.h"
#include "proto/err.h"

struct hent {
	struct hent *next;
	uint64_t hash;
	uint64_t seq;
	void *ptr;
	size_t klen, vlen;
	uint8_t data[]; /* key, then value */
};

struct hmap {
	struct hmap_alloc a;
	struct hent **tab;
	size_t cap; /* power of two */
	size_t n;
};

static uint64_t
fnv1a(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void *
heap_alloc(void *ctx, size_t n)
{
	(void)ctx;
	return malloc(n);
}

static void
heap_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static struct hent **
tab_new(struct hmap *m, size_t cap)
{
	struct hent **tab;

	if ((tab = m->a.alloc(m->a.ctx, cap * sizeof(*tab))) != NULL)
		memset(tab, 0, cap * sizeof(*tab));
	return tab;
}

struct hmap *
hmap_new_alloc(const struct hmap_alloc *a)
{
	struct hmap *m;

	if ((m = a->alloc(a->ctx, sizeof(*m))) == NULL)
		return NULL;
	memset(m, 0, sizeof(*m));
	m->a = *a;
	m->cap = 64;
	if ((m->tab = tab_new(m, m->cap)) == NULL) {
		a->free(a->ctx, m);
		return NULL;
	}
	return m;
}

struct hmap *
hmap_new(void)
{
	static const struct hmap_alloc heap = {heap_alloc, heap_free, NULL};

	return hmap_new_alloc(&heap);
}

void
hmap_clear(struct hmap *m)
{
	struct hent *e, *next;
	size_t i;

	for (i = 0; i < m->cap; i++) {
		for (e = m->tab[i]; e != NULL; e = next) {
			next = e->next;
			m->a.free(m->a.ctx, e);
		}
		m->tab[i] = NULL;
	}
	m->n = 0;
}

void
hmap_free(struct hmap *m)
{
	struct hmap_alloc a;

	if (m == NULL)
		return;
	a = m->a;
	hmap_clear(m);
	a.free(a.ctx, m->tab);
	a.free(a.ctx, m);
}

static struct hent **
slot(const struct hmap *m, const void *k, size_t klen, uint64_t h)
{
	struct hent **pp = &m->tab[h & (m->cap - 1)];

	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->klen == klen &&
		    memcmp((*pp)->data, k, klen) == 0)
			break;
	return pp;
}

static void
grow(struct hmap *m)
{
	struct hent **tab, *e, *next;
	size_t i, ncap = m->cap * 2;

	if ((tab = tab_new(m, ncap)) == NULL)
		return; /* keep working with longer chains */
	for (i = 0; i < m->cap; i++)
		for (e = m->tab[i]; e != NULL; e = next) {
			next = e->next;
			e->next = tab[e->hash & (ncap - 1)];
			tab[e->hash & (ncap - 1)] = e;
		}
	m->a.free(m->a.ctx, m->tab);
	m->tab = tab;
	m->cap = ncap;
}

int
hmap_put(struct hmap *m, const void *k, size_t klen, const void *v, size_t vlen,
    uint64_t seq, void *ptr)
{
	uint64_t h = fnv1a(k, klen);
	struct hent **pp = slot(m, k, klen, h), *e;

	if ((e = m->a.alloc(m->a.ctx, sizeof(*e) + klen + vlen)) == NULL)
		return PR_ENOMEM;
	e->hash = h;
	e->seq = seq;
	e->ptr = ptr;
	e->klen = klen;
	e->vlen = vlen;
	memcpy(e->data, k, klen);
	if (vlen > 0)
		memcpy(e->data + klen, v, vlen);
	if (*pp != NULL) {
		e->next = (*pp)->next;
		m->a.free(m->a.ctx, *pp);
		*pp = e;
		return 0;
	}
	e->next = NULL;
	*pp = e;
	if (++m->n > m->cap)
		grow(m);
	return 0;
}

int
hmap_get(const struct hmap *m, const void *k, size_t klen, const void **v,
    size_t *vlen, void **ptr)
{
	struct hent *e = *slot(m, k, klen, fnv1a(k, klen));

	if (e == NULL)
		return 0;
	if (v != NULL)
		*v = e->data + e->klen;
	if (vlen != NULL)
		*vlen = e->vlen;
	if (ptr != NULL)
		*ptr = e->ptr;
	return 1;
}

void
hmap_del(struct hmap *m, const void *k, size_t klen)
{
	struct hent **pp = slot(m, k, klen, fnv1a(k, klen)), *e;

	if ((e = *pp) == NULL)
		return;
	*pp = e->next;
	m->a.free(m->a.ctx, e);
	m->n--;
}

void
hmap_del_upto(struct hmap *m, uint64_t seq)
{
	struct hent **pp, *e;
	size_t i;

	for (i = 0; i < m->cap; i++) {
		pp = &m->tab[i];
		while ((e = *pp) != NULL) {
			if (e->seq <= seq) {
				*pp = e->next;
				m->a.free(m->a.ctx, e);
				m->n--;
			} else
				pp = &e->next;
		}
	}
}

size_t
hmap_count(const struct hmap *m)
{
	return m->n;
}

int
hmap_walk(const struct hmap *m,
    int (*fn)(void *arg, const void *k, size_t klen, void *ptr), void *arg)
{
	struct hent *e;
	size_t i;
	int rc;

	for (i = 0; i < m->cap; i++)
		for (e = m->tab[i]; e != NULL; e = e->next)
			if ((rc = fn(arg, e->data, e->klen, e->ptr)) != 0)
				return rc;
	return 0;
}
