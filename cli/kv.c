/*
 * Open-addressing hash map (linear probing, power-of-two table) over
 * entries bump-allocated in blocks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/kv.h"
#include "proto/err.h"

#define BLOCK_SIZE ((size_t)1 << 20)

struct kv_block {
	struct kv_block *next;
	size_t used, size;
	max_align_t data[]; /* size bytes */
};

struct cl_kv {
	struct cl_kv_ent **slot;
	size_t cap; /* power of two */
	size_t n;
	struct kv_block *blocks; /* the current one first */
};

/* n bytes (8-byte aligned) from the current block or a new one. */
static void *
kv_alloc(struct cl_kv *kv, size_t n)
{
	struct kv_block *b = kv->blocks;
	size_t size;
	void *p;

	n = (n + 7) & ~(size_t)7;
	if (b == NULL || b->size - b->used < n) {
		size = n > BLOCK_SIZE / 4 ? n : BLOCK_SIZE;
		if ((b = malloc(sizeof(*b) + size)) == NULL)
			return NULL;
		b->used = 0;
		b->size = size;
		if (size == BLOCK_SIZE || kv->blocks == NULL) {
			b->next = kv->blocks;
			kv->blocks = b;
		} else {
			/* A large one-off: keep the current block current. */
			b->next = kv->blocks->next;
			kv->blocks->next = b;
		}
	}
	p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

static uint64_t
hash(const char *k, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)k[i];
		h *= 0x100000001b3ull;
	}
	/* A finalizer, so the table's low bits depend on every byte. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

int
cl_kv_new(struct cl_kv **out)
{
	struct cl_kv *kv;

	if ((kv = calloc(1, sizeof(*kv))) == NULL)
		return PR_ENOMEM;
	kv->cap = 64;
	if ((kv->slot = calloc(kv->cap, sizeof(*kv->slot))) == NULL) {
		free(kv);
		return PR_ENOMEM;
	}
	*out = kv;
	return 0;
}

void
cl_kv_free(struct cl_kv *kv, void (*free_ptr)(void *))
{
	struct kv_block *b;
	size_t i;

	if (kv == NULL)
		return;
	for (i = 0; free_ptr != NULL && i < kv->cap; i++)
		if (kv->slot[i] != NULL && kv->slot[i]->ptr != NULL)
			free_ptr(kv->slot[i]->ptr);
	while ((b = kv->blocks) != NULL) {
		kv->blocks = b->next;
		free(b);
	}
	free(kv->slot);
	free(kv);
}

static size_t
probe(const struct cl_kv *kv, uint64_t h, const char *key, size_t klen)
{
	size_t i = (size_t)h & (kv->cap - 1);
	const struct cl_kv_ent *e;

	while ((e = kv->slot[i]) != NULL &&
	    (e->hash != h || e->klen != klen || memcmp(e->key, key, klen) != 0))
		i = (i + 1) & (kv->cap - 1);
	return i;
}

struct cl_kv_ent *
cl_kv_find(const struct cl_kv *kv, const char *key, size_t klen)
{
	return kv->slot[probe(kv, hash(key, klen), key, klen)];
}

/* A table of newcap slots (a power of two) holding every entry. */
static int
rehash(struct cl_kv *kv, size_t newcap)
{
	struct cl_kv_ent **old = kv->slot, *e;
	size_t oldcap = kv->cap, i, j;

	if ((kv->slot = calloc(newcap, sizeof(*kv->slot))) == NULL) {
		kv->slot = old;
		return PR_ENOMEM;
	}
	kv->cap = newcap;
	for (i = 0; i < oldcap; i++)
		if ((e = old[i]) != NULL) {
			j = (size_t)e->hash & (newcap - 1);
			while (kv->slot[j] != NULL)
				j = (j + 1) & (newcap - 1);
			kv->slot[j] = e;
		}
	free(old);
	return 0;
}

static int
grow(struct cl_kv *kv)
{
	return rehash(kv, kv->cap * 2);
}

int
cl_kv_reserve(struct cl_kv *kv, size_t n)
{
	size_t cap = kv->cap;

	while (n > (cap / 4) * 3) {
		if (cap > SIZE_MAX / 4)
			return PR_ENOMEM;
		cap *= 2;
	}
	return cap == kv->cap ? 0 : rehash(kv, cap);
}

int
cl_kv_put(struct cl_kv *kv, const char *key, size_t klen, const void *val,
    size_t vlen, struct cl_kv_ent **out)
{
	struct cl_kv_ent *e;
	size_t i;
	char *v;
	uint64_t h = hash(key, klen);
	int rc;

	i = probe(kv, h, key, klen);
	if ((e = kv->slot[i]) != NULL) {
		/* In place when it fits; else the old value stays behind. */
		if (vlen >= e->vcap) {
			if ((v = kv_alloc(kv, vlen + 1)) == NULL)
				return PR_ENOMEM;
			e->val = v;
			e->vcap = vlen + 1;
		}
		if (vlen > 0)
			memcpy(e->val, val, vlen);
		e->val[vlen] = '\0';
		e->vlen = vlen;
		if (out != NULL)
			*out = e;
		return 0;
	}
	if ((kv->n + 1) * 4 > kv->cap * 3) {
		if ((rc = grow(kv)) != 0)
			return rc;
		i = probe(kv, h, key, klen);
	}
	/* The entry, its key and its value in one piece. */
	if ((e = kv_alloc(kv, sizeof(*e) + klen + 1 + vlen + 1)) == NULL)
		return PR_ENOMEM;
	e->key = (char *)(e + 1);
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	e->klen = klen;
	e->val = e->key + klen + 1;
	if (vlen > 0)
		memcpy(e->val, val, vlen);
	e->val[vlen] = '\0';
	e->vlen = vlen;
	e->vcap = vlen + 1;
	e->hash = h;
	e->ptr = NULL;
	kv->slot[i] = e;
	kv->n++;
	if (out != NULL)
		*out = e;
	return 0;
}

size_t
cl_kv_count(const struct cl_kv *kv)
{
	return kv->n;
}

int
cl_kv_foreach(const struct cl_kv *kv,
    int (*fn)(void *ctx, const struct cl_kv_ent *e), void *ctx)
{
	size_t i;
	int rc;

	for (i = 0; i < kv->cap; i++)
		if (kv->slot[i] != NULL && (rc = fn(ctx, kv->slot[i])) != 0)
			return rc;
	return 0;
}
