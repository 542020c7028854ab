/*
 * A small chained hash map from byte-string keys to byte-string values,
 * each tagged with a sequence number.  Used for the admission overlay
 * (state changes admitted but not yet committed) and for pending
 * envelopes.  Not thread-safe: event loop only.
 */
#ifndef PROCURED_HMAP_H
#define PROCURED_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap;

/* Where a map's table and entries come from: hmap_new() uses malloc(3);
 * the red-flag engine passes its file-backed arena (daemon/flags_mem.h). */
struct hmap_alloc {
	void *(*alloc)(void *ctx, size_t n);
	void (*free)(void *ctx, void *p);
	void *ctx;
};

struct hmap *hmap_new(void);
/* A map whose memory, head included, comes from a (copied; a->ctx must
 * outlive the map).  A map in an arena dropped whole needs no
 * hmap_free(). */
struct hmap *hmap_new_alloc(const struct hmap_alloc *a);
void hmap_free(struct hmap *m);
/* Insert or replace; the map copies key and value. */
int hmap_put(struct hmap *m, const void *k, size_t klen, const void *v,
    size_t vlen, uint64_t seq, void *ptr);
/* 1 and the value (valid until the next put/del on the key) if present. */
int hmap_get(const struct hmap *m, const void *k, size_t klen, const void **v,
    size_t *vlen, void **ptr);
void hmap_del(struct hmap *m, const void *k, size_t klen);
/* Remove every entry whose seq is at most seq. */
void hmap_del_upto(struct hmap *m, uint64_t seq);
void hmap_clear(struct hmap *m);
/* Call fn for every entry; a non-zero return stops the walk. */
int hmap_walk(const struct hmap *m,
    int (*fn)(void *arg, const void *k, size_t klen, void *ptr), void *arg);
size_t hmap_count(const struct hmap *m);

#endif
