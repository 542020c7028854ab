/*
 * Internals of the write path shared by daemon/ingest.c (threads and
 * queues) and daemon/admit.c (the rules).
 */
#ifndef PROCURED_INGEST_INT_H
#define PROCURED_INGEST_INT_H

#include <stdint.h>

#include "proto/buf.h"
#include "proto/dsse.h"
#include "proto/event.h"
#include "proto/key.h"
#include "proto/merkle.h"
#include "store/store.h"

struct http_req;
struct procured;
struct hmap;

#define ITEM_MAX_WAITERS 8

struct batch;

/* Where an answer goes: a request of its own, or one line of a batch. */
struct waiter {
	struct http_req *r; /* POST /v1/events (detached once waiting) */
	struct batch *b; /* POST /v1/events/batch: line `line` of b */
	size_t line;
};

struct item {
	struct item *next;
	uint64_t seq; /* admission order; 0 before admission */
	uint64_t epoch; /* overlay generation it was admitted against */
	struct waiter waiters[ITEM_MAX_WAITERS];
	unsigned nwaiters;

	/* parsed on the event loop */
	struct pr_dsse *env;
	struct pr_key *keys[PR_DSSE_MAX_SIGS]; /* per signature; NULL unknown */
	pr_hash env_hash;

	/* verify thread */
	uint32_t valid; /* bit i: signature i verified */
	struct pr_event *ev; /* the parsed payload, or NULL and: */
	int parse_rc;
	struct pr_event_error eerr;

	/* admission */
	uint64_t log_time_ms;
	struct pr_buf entry;
	struct pr_buf admit_mem; /* strings the st_append below points into */
	struct st_append app;
	struct st_kv puts[16];
	const char *parties[16];
	const char *items[32];

	/* sequencer */
	int rc;
	struct st_appended res;
	struct pr_buf receipt; /* JSON */
	uint64_t commit_us; /* latency from arrival */
	uint64_t arrived_us;

	/* failure answer */
	int status;
	const char *code;
	char field[64];
	char message[256];
};

/* Reject it with an HTTP status and a stable code. */
void item_fail(struct item *it, int status, const char *code, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Admission (daemon/admit.c): with verified signatures, apply the rules
 * against committed state plus overlay; on success fill it->entry and
 * it->app and record the state changes in the overlay under it->seq.
 * Returns 0, or -1 after item_fail().
 */
int admit(struct procured *d, struct hmap *overlay, struct item *it);

/* Look up a signer's key by DSSE keyid (event loop only). */
struct pr_key *keycache_get(
    struct procured *d, struct hmap *overlay, const char *keyid);

#endif
