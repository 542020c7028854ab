/*
 * An in-memory map from byte-string keys to byte-string values: the
 * state that verify replays from the log (the key registry, events by
 * leaf hash, process heads, bid commitments: proto/policy.h's keys) and
 * its small key caches.
 *
 * Keys and values are copied into large blocks the map owns (millions of
 * long-lived small objects kept out of malloc's way), freed with the
 * map; a value replaced by a longer one stays in its block until then.
 * Each entry may also carry a pointer the caller owns (ptr), released by
 * the free function given to cl_kv_free().  Not thread-safe.
 */
#ifndef CL_KV_H
#define CL_KV_H

#include <stddef.h>
#include <stdint.h>

struct cl_kv_ent {
	char *key; /* NUL-terminated copy */
	size_t klen;
	char *val; /* NUL-terminated copy */
	size_t vlen;
	size_t vcap; /* bytes at val */
	uint64_t hash; /* of the key */
	void *ptr;
};

struct cl_kv;

int cl_kv_new(struct cl_kv **out);
/* Free the map; free_ptr (may be NULL) is called on every non-NULL ptr. */
void cl_kv_free(struct cl_kv *kv, void (*free_ptr)(void *));

/* Make room for n entries in all without growing (a map read back from
 * a file: entries put in the order of another table's slots would
 * otherwise crowd a smaller table's probe sequences). */
int cl_kv_reserve(struct cl_kv *kv, size_t n);
/* The entry for key, or NULL. */
struct cl_kv_ent *cl_kv_find(
    const struct cl_kv *kv, const char *key, size_t klen);
/* Insert or replace the value of key; *out (may be NULL) receives the
 * entry (ptr is kept on replace, NULL on insert). */
int cl_kv_put(struct cl_kv *kv, const char *key, size_t klen, const void *val,
    size_t vlen, struct cl_kv_ent **out);
size_t cl_kv_count(const struct cl_kv *kv);
/* Call fn for every entry (in no particular order); a non-zero return
 * stops the walk and is returned. */
int cl_kv_foreach(const struct cl_kv *kv,
    int (*fn)(void *ctx, const struct cl_kv_ent *e), void *ctx);

#endif
