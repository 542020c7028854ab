/*
 * The daemon's shared state.  Everything here is owned by the event loop
 * thread unless a field says otherwise.
 */
#ifndef PROCURED_H
#define PROCURED_H

#include <stdint.h>

#include <event2/event.h>

#include "daemon/config.h"
#include "daemon/http.h"
#include "proto/buf.h"
#include "proto/key.h"
#include "proto/merkle.h"

struct http_server;
struct st_store;
struct ingest;
struct hmap;
struct flags;

struct procured {
	struct config conf;
	struct event_base *base;
	struct http_server *http;
	struct st_store *store; /* thread-safe for reads; one writer */
	struct pr_key *logkey;
	char *vkey; /* the log's signed-note verifier key */
	struct pr_vkey admins[CONF_MAX_ADMIN];
	struct pr_key *admin_keys[CONF_MAX_ADMIN]; /* admins[i].key */
	size_t nadmins;
	struct hmap *keycache; /* DSSE keyid -> struct pr_key *, never freed
	                          while running */
	uint64_t last_log_time; /* ms; log times never decrease */
	struct ingest *ingest;
	struct flags *flags; /* red flags (daemon/flags.h) */
	struct event *ev_term, *ev_int, *ev_hup, *ev_watchdog;
	uint64_t started_ms;
	int stopping;
};

/* The store's checkpoint signer (daemon/procured.c); ctx is the daemon. */
int procured_sign_checkpoint(
    void *ctx, uint64_t size, const pr_hash root, struct pr_buf *note);

/* Routes (daemon/routes.c). */
extern const struct http_route procured_routes[];
extern const size_t procured_nroutes;

#endif
