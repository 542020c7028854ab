/*
 * Open-addressing hash map (linear probing, power-of-two table).
 */
#include <stdlib.h>
#include <string.h>

#include "cli/kv.h"
#include "proto/err.h"

struct cl_kv {
	struct cl_kv_ent **slot;
	size_t cap; /* power of two */
	size_t n;
};

static uint64_t
hash(const char *k, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)k[i];
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
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
	size_t i;

	if (kv == NULL)
		return;
	for (i = 0; i < kv->cap; i++) {
		struct cl_kv_ent *e = kv->slot[i];

		if (e == NULL)
			continue;
		if (free_ptr != NULL && e->ptr != NULL)
			free_ptr(e->ptr);
		free(e->val);
		free(e);
	}
	free(kv->slot);
	free(kv);
}

static size_t
probe(const struct cl_kv *kv, const char *key, size_t klen)
{
	size_t i = (size_t)hash(key, klen) & (kv->cap - 1);

	while (kv->slot[i] != NULL &&
	    (kv->slot[i]->klen != klen ||
	        memcmp(kv->slot[i]->key, key, klen) != 0))
		i = (i + 1) & (kv->cap - 1);
	return i;
}

struct cl_kv_ent *
cl_kv_find(const struct cl_kv *kv, const char *key, size_t klen)
{
	return kv->slot[probe(kv, key, klen)];
}

static int
grow(struct cl_kv *kv)
{
	struct cl_kv_ent **old = kv->slot;
	size_t oldcap = kv->cap, i;

	if ((kv->slot = calloc(oldcap * 2, sizeof(*kv->slot))) == NULL) {
		kv->slot = old;
		return PR_ENOMEM;
	}
	kv->cap = oldcap * 2;
	for (i = 0; i < oldcap; i++)
		if (old[i] != NULL)
			kv->slot[probe(kv, old[i]->key, old[i]->klen)] = old[i];
	free(old);
	return 0;
}

int
cl_kv_put(struct cl_kv *kv, const char *key, size_t klen, const void *val,
    size_t vlen, struct cl_kv_ent **out)
{
	struct cl_kv_ent *e;
	size_t i;
	char *v;
	int rc;

	if ((v = malloc(vlen + 1)) == NULL)
		return PR_ENOMEM;
	if (vlen > 0)
		memcpy(v, val, vlen);
	v[vlen] = '\0';
	i = probe(kv, key, klen);
	if ((e = kv->slot[i]) != NULL) {
		free(e->val);
		e->val = v;
		e->vlen = vlen;
		if (out != NULL)
			*out = e;
		return 0;
	}
	if ((kv->n + 1) * 4 > kv->cap * 3) {
		if ((rc = grow(kv)) != 0) {
			free(v);
			return rc;
		}
		i = probe(kv, key, klen);
	}
	/* The key lives in the same allocation as the entry. */
	if ((e = malloc(sizeof(*e) + klen + 1)) == NULL) {
		free(v);
		return PR_ENOMEM;
	}
	e->key = (char *)(e + 1);
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	e->klen = klen;
	e->val = v;
	e->vlen = vlen;
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
