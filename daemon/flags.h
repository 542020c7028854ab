/*
 * Red-flag indicators of procurement risk (docs/FLAGS.md), computed from
 * aggregates the daemon maintains as the log grows: GET /v1/flags.
 *
 * flags_new() starts an indexer thread that reads every committed entry
 * once, in log order, and keeps per-process summaries, lists by party and
 * item code, unit-price benchmarks and spending by contract; a query
 * reads only those, which live in a file-backed arena of the data
 * directory (daemon/flags_mem.h), not on the heap.  The
 * thresholds are the flag-* options of procured.conf(5), read at start.
 */
#ifndef PROCURED_FLAGS_H
#define PROCURED_FLAGS_H

#include <stdint.h>

#include "proto/buf.h"
#include "proto/event.h"
#include "proto/merkle.h"

struct flags;
struct http_req;
struct procured;

/*
 * Start the red-flag engine for d's store and configuration (d->store
 * open, d->conf loaded; both must outlive the result).  Loads the
 * reference price list named by flag-reference-prices.  Returns NULL,
 * after logging why, if the list cannot be read or an option is unusable.
 */
struct flags *flags_new(struct procured *d);
/* Stop the indexer and free everything (NULL is fine). */
void flags_free(struct flags *f);

/*
 * Hand the indexer the event of entry idx, parsed, once it is committed
 * (the sequencer, any thread; f may be NULL).  Takes ownership of ev.
 * Entries are fed in log order; one the feed has no room for is read
 * back from the store instead, so the feed only saves work.
 */
void flags_feed(struct flags *f, uint64_t idx, const uint8_t leaf[PR_HASH_LEN],
    struct pr_event *ev);

/* Append the engine's Prometheus metrics to out. */
int flags_metrics(struct flags *f, struct pr_buf *out);

/* GET /v1/flags (docs/API.md); arg is the struct procured. */
void flags_query(struct http_req *r, void *arg);
/* GET /v1/totals (docs/API.md), from the same aggregates. */
void flags_totals(struct http_req *r, void *arg);

#endif
