/*
 * The write path: POST /v1/events.
 *
 *   event loop            verify threads           sequencer thread
 *   parse envelope  --->  check signatures  --->
 *   (dedupe, keys)        (both cores)
 *   admit in order  <---                       ---> group commit in LMDB,
 *   (rules, state)                                  sign checkpoint,
 *   reply receipt   <--------------------------------  build receipts
 *
 * Admission runs on the event loop in arrival order against the committed
 * state plus an overlay of admitted-but-uncommitted changes, so rules see
 * every earlier event.  A receipt is sent only after its batch is synced.
 */
#ifndef PROCURED_INGEST_H
#define PROCURED_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

struct procured;
struct http_req;
struct ingest;
struct pr_buf;

struct ingest *ingest_new(struct procured *d);
void ingest_free(struct ingest *ig);

/* Apply rate-per-addr and rate-per-key from the configuration. */
void ingest_set_rates(struct ingest *ig);

/* Handler for POST /v1/events. */
void ingest_submit(struct http_req *r, struct procured *d);
/*
 * POST /v1/events/batch: DSSE envelopes, one a line (NDJSON); answers 200
 * with one JSON object a line, in order, once every line has its answer:
 * {"status":201,"receipt":{...}} or {"status":4xx,"error":{...}}.
 */
void ingest_submit_batch(struct http_req *r, struct procured *d);

/* Events accepted but not yet answered. */
size_t ingest_pending(const struct ingest *ig);
/* False when the sequencer has failed or work waits on a stale checkpoint. */
int ingest_healthy(const struct ingest *ig);
/* Finish everything in flight, then leave the event loop. */
void ingest_shutdown(struct ingest *ig, struct event_base *base);
/* 0 after a clean run, 1 after a fatal store error. */
int ingest_exit_status(const struct ingest *ig);
/* Prometheus lines. */
int ingest_metrics(const struct ingest *ig, struct pr_buf *out);

#endif
