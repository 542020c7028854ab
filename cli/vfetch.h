/*
 * verify's read-ahead: a thread fetching entry bundles [first, end) of a
 * tree of size entries, each with its level-0 hash tile, a few bundles
 * ahead of the checker, on a source of its own (cl_src_dup()).
 */
#ifndef CL_VFETCH_H
#define CL_VFETCH_H

#include <stdint.h>

#include "proto/buf.h"

struct cl_src;
struct vf_fetch;

/* src is used by the fetching thread only until vf_fetch_stop(). */
int vf_fetch_start(struct cl_src *src, uint64_t first, uint64_t end,
    uint64_t size, struct vf_fetch **out);
/*
 * Wait for bundle n (taken in order, from first on) and move it and its
 * level-0 tile into *bundle and *tile0 (their old memory is kept by the
 * fetcher for reuse).  Returns the fetch's error, with pr_errmsg()
 * detail, if it failed.
 */
int vf_fetch_get(struct vf_fetch *f, uint64_t n, struct pr_buf *bundle,
    struct pr_buf *tile0);
/* Stop the thread (mid-fetch too) and free everything. */
void vf_fetch_stop(struct vf_fetch *f);

#endif
