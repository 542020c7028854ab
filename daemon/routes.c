/*
 * The route table and the read endpoints that need nothing but the store:
 * checkpoint, tiles, entries, proofs, log, health and metrics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "daemon/flags.h"
#include "daemon/http.h"
#include "daemon/ingest.h"
#include "daemon/procured.h"
#include "daemon/query.h"
#include "daemon/receipt.h"
#include "proto/buf.h"
#include "proto/enc.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/log.h"
#include "proto/tile.h"
#include "store/store.h"

#define IMMUTABLE "public, max-age=31536000, immutable"

static void
store_error(struct http_req *r, int rc, const char *what)
{
	if (rc == PR_ENOTFOUND)
		http_error(r, 404, "not_found", NULL, "no such %s", what);
	else
		http_error(r, 500, "store_error", NULL, "reading %s: %s", what,
		    pr_strerror(rc));
}

static json_t *
hexj(const uint8_t *h, size_t len)
{
	char hex[129];

	pr_hex_encode(h, len, hex);
	return json_string(hex);
}

static json_t *
proof_json(const pr_hash *proof, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, hexj(proof[i], PR_HASH_LEN));
	return a;
}

static void
on_healthz(struct http_req *r, void *arg)
{
	struct procured *d = arg;
	uint64_t size = 0;
	pr_hash root;
	int healthy = ingest_healthy(d->ingest);
	int rc = st_tree(d->store, &size, root);

	if (rc != 0 || !healthy) {
		http_reply_json(r, 503,
		    json_pack("{s:s, s:s}", "status", "unhealthy", "reason",
		        rc != 0 ? "the store cannot be read"
		                : "events are waiting and the latest "
		                  "checkpoint is stale"));
		return;
	}
	http_reply_json(r, 200,
	    json_pack("{s:s, s:I, s:I}", "status", "ok", "tree_size",
	        (json_int_t)size, "pending",
	        (json_int_t)ingest_pending(d->ingest)));
}

static void
on_metrics(struct http_req *r, void *arg)
{
	struct procured *d = arg;
	struct pr_buf b = PR_BUF_INIT;
	int rc;

	rc = http_metrics(d->http, &b);
	if (rc == 0)
		rc = ingest_metrics(d->ingest, &b);
	if (rc == 0)
		rc = flags_metrics(d->flags, &b);
	if (rc != 0) {
		pr_buf_free(&b);
		http_error(r, 500, "internal", NULL, "out of memory");
		return;
	}
	http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data,
	    b.len, "no-store");
	pr_buf_free(&b);
}

static void
on_checkpoint(struct http_req *r, void *arg)
{
	struct procured *d = arg;
	struct pr_buf b = PR_BUF_INIT;
	int rc;

	if ((rc = st_checkpoint(d->store, &b)) != 0) {
		store_error(r, rc, "checkpoint");
		return;
	}
	http_reply(
	    r, 200, "text/plain; charset=utf-8", b.data, b.len, "no-store");
	pr_buf_free(&b);
}

static void
on_tile(struct http_req *r, void *arg)
{
	struct procured *d = arg;
	struct pr_buf b = PR_BUF_INIT;
	struct pr_tile t;
	int rc;

	if (pr_tile_parse(r->path + 1, strlen(r->path + 1), &t) != 0) {
		http_error(r, 404, "bad_tile_path", "path",
		    "%s is not a tile path (tile/<L>/<N>[.p/<W>] or "
		    "tile/entries/<N>[.p/<W>])",
		    r->path);
		return;
	}
	if (t.level == PR_TILE_ENTRIES)
		rc = st_entry_bundle(d->store, t.index, t.width, &b);
	else
		rc = st_tile(d->store, (unsigned)t.level, t.index, t.width, &b);
	if (rc == PR_EINVAL) /* level or width out of range */
		rc = PR_ENOTFOUND;
	if (rc != 0) {
		pr_buf_free(&b);
		store_error(r, rc, "tile in the current tree");
		return;
	}
	http_reply(r, 200, "application/octet-stream", b.data, b.len,
	    t.width == PR_TILE_WIDTH ? IMMUTABLE : "no-store");
	pr_buf_free(&b);
}

static void
on_log(struct http_req *r, void *arg)
{
	struct procured *d = arg;
	struct pr_buf note = PR_BUF_INIT;
	uint64_t size;
	pr_hash root;
	int rc;

	if ((rc = st_checkpoint(d->store, &note)) != 0 ||
	    (rc = checkpoint_size((char *)note.data, note.len, &size)) != 0 ||
	    (rc = st_root_at(d->store, size, root)) != 0) {
		pr_buf_free(&note);
		store_error(r, rc, "checkpoint");
		return;
	}
	http_reply_json(r, 200,
	    json_pack("{s:s, s:s, s:I, s:o, s:s}", "origin", d->conf.origin,
	        "vkey", d->vkey, "tree_size", (json_int_t)size, "root_hash",
	        hexj(root, PR_HASH_LEN), "checkpoint", (char *)note.data));
	pr_buf_free(&note);
}

/* Strict decimal index from a path tail. */
static int
parse_index(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return PR_EFORMAT;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' ||
		    v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return PR_EFORMAT;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static void
on_entry(struct http_req *r, void *arg)
{
	struct procured *d = arg;
	uint64_t index;
	json_t *j;
	int rc;

	if (parse_index(r->tail, &index) != 0) {
		http_error(r, 400, "bad_index", "index",
		    "'%s' is not an entry index", r->tail);
		return;
	}
	if ((rc = query_entry_json(d, index, &j)) != 0) {
		store_error(r, rc, "entry");
		return;
	}
	http_reply_json(r, 200, j);
}

static int
tree_size_param(
    struct http_req *r, struct procured *d, const char *name, uint64_t *size)
{
	int rc = http_query_u64(r, name, size);

	if (rc == PR_ENOTFOUND) {
		pr_hash root;
		return st_tree(d->store, size, root);
	}
	return rc;
}

static void
on_inclusion(struct http_req *r, void *arg)
{
	struct procured *d = arg;
	pr_hash proof[PR_MERKLE_MAX_PROOF], leaf;
	uint64_t index, size, cur;
	const char *lh;
	size_t n;
	pr_hash root;
	int rc;

	if (tree_size_param(r, d, "tree_size", &size) != 0) {
		http_error(r, 400, "bad_query", "tree_size",
		    "tree_size must be a decimal integer");
		return;
	}
	if ((lh = http_query_str(r, "leaf_hash")) != NULL) {
		if (pr_hex_decode(lh, strlen(lh), leaf, PR_HASH_LEN) != 0) {
			http_error(r, 400, "bad_query", "leaf_hash",
			    "leaf_hash must be 64 hex digits");
			return;
		}
		if ((rc = st_find_leaf(d->store, leaf, &index)) != 0) {
			store_error(r, rc, "entry with that leaf hash");
			return;
		}
	} else if ((rc = http_query_u64(r, "index", &index)) != 0) {
		http_error(r, 400, "bad_query", "index",
		    "give index=N or leaf_hash=HEX");
		return;
	}
	if ((rc = st_tree(d->store, &cur, root)) != 0) {
		store_error(r, rc, "tree");
		return;
	}
	if (size > cur || index >= size) {
		http_error(r, 404, "not_found",
		    index >= size ? "index" : "tree_size",
		    "the log has no entry %llu in a tree of %llu "
		    "(current size %llu)",
		    (unsigned long long)index, (unsigned long long)size,
		    (unsigned long long)cur);
		return;
	}
	if ((rc = st_inclusion_proof(d->store, index, size, proof, &n)) != 0 ||
	    (rc = st_leaf_hash(d->store, index, leaf)) != 0) {
		store_error(r, rc, "proof");
		return;
	}
	http_reply_json(r, 200,
	    json_pack("{s:I, s:I, s:o, s:o}", "index", (json_int_t)index,
	        "tree_size", (json_int_t)size, "leaf_hash",
	        hexj(leaf, PR_HASH_LEN), "proof", proof_json(proof, n)));
}

static void
on_consistency(struct http_req *r, void *arg)
{
	struct procured *d = arg;
	pr_hash proof[PR_MERKLE_MAX_PROOF], root;
	uint64_t m, n, cur;
	size_t len;
	int rc;

	if (http_query_u64(r, "first", &m) != 0) {
		http_error(r, 400, "bad_query", "first",
		    "first must be a decimal tree size");
		return;
	}
	if (tree_size_param(r, d, "second", &n) != 0) {
		http_error(r, 400, "bad_query", "second",
		    "second must be a decimal tree size");
		return;
	}
	if ((rc = st_tree(d->store, &cur, root)) != 0) {
		store_error(r, rc, "tree");
		return;
	}
	if (m == 0 || m > n) {
		http_error(
		    r, 400, "bad_query", "first", "need 0 < first <= second");
		return;
	}
	if (n > cur) {
		http_error(r, 404, "not_found", "second",
		    "the tree has %llu entries", (unsigned long long)cur);
		return;
	}
	if ((rc = st_consistency_proof(d->store, m, n, proof, &len)) != 0) {
		store_error(r, rc, "proof");
		return;
	}
	http_reply_json(r, 200,
	    json_pack("{s:I, s:I, s:o}", "first", (json_int_t)m, "second",
	        (json_int_t)n, "proof", proof_json(proof, len)));
}

static void
on_events(struct http_req *r, void *arg)
{
	ingest_submit(r, arg);
}

static void
on_events_batch(struct http_req *r, void *arg)
{
	ingest_submit_batch(r, arg);
}

#define GET (EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)

const struct http_route procured_routes[] = {
    {"healthz", GET, "/healthz", on_healthz},
    {"metrics", GET, "/metrics", on_metrics},
    {"checkpoint", GET, "/checkpoint", on_checkpoint},
    {"tile", GET, "/tile/", on_tile},
    {"log", GET, "/v1/log", on_log},
    {"events", EVHTTP_REQ_POST, "/v1/events", on_events},
    {"events_batch", EVHTTP_REQ_POST, "/v1/events/batch", on_events_batch},
    {"entry", GET, "/v1/entries/", on_entry},
    {"inclusion", GET, "/v1/proof/inclusion", on_inclusion},
    {"consistency", GET, "/v1/proof/consistency", on_consistency},
    {"process", GET, "/v1/processes/", query_process},
    {"search", GET, "/v1/search", query_search},
    {"prices", GET, "/v1/prices", query_prices},
    {"totals", GET, "/v1/totals", query_totals},
    {"flags", GET, "/v1/flags", flags_query},
};
const size_t procured_nroutes =
    sizeof(procured_routes) / sizeof(procured_routes[0]);
