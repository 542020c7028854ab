/*
 * Where a log is read from: a server (C2SP tlog-tiles at the root,
 * /v1/proof/consistency) or a data directory opened read-only through
 * store/.  Both give the same bytes: the latest signed checkpoint, hash
 * tiles, entry bundles and consistency proofs.  Nothing a source returns
 * is trusted; verify checks it all.
 *
 * Errors: PR_ENET / PR_EPROTO for the server (with pr_errmsg() detail),
 * PR_ENOTFOUND for a missing tile, store codes for a data directory.
 */
#ifndef CL_SOURCE_H
#define CL_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/merkle.h"
#include "proto/tile.h"

struct cl_ctx;
struct cl_src;

/* The server of ctx (ctx->server, connected on first use). */
int cl_src_server(struct cl_ctx *ctx, struct cl_src **out);
/* The data directory dir, opened read-only. */
int cl_src_datadir(const char *dir, struct cl_src **out);
/*
 * Another source reading the same log, for another thread: a second
 * connection to the server (ctx gives its URL and options), or the same
 * store (which threads may share).  Free it before s.
 */
int cl_src_dup(const struct cl_src *s, struct cl_ctx *ctx, struct cl_src **out);
void cl_src_free(struct cl_src *s);
/* "127.0.0.1:8480" or the directory, for messages. */
const char *cl_src_name(const struct cl_src *s);

/* The latest signed checkpoint note, appended to out. */
int cl_src_checkpoint(struct cl_src *s, struct pr_buf *out);
/*
 * Hash tile or entry bundle t (t->level PR_TILE_ENTRIES) appended to out.
 * A partial tile the server no longer has is read from the full tile and
 * cut to t->width, as tlog-tiles allows.
 */
int cl_src_tile(struct cl_src *s, const struct pr_tile *t, struct pr_buf *out);
/* Consistency proof from tree size m to n (0 < m < n). */
int cl_src_consistency(
    struct cl_src *s, uint64_t m, uint64_t n, pr_hash *proof, size_t *len);

#endif
