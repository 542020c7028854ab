/*
 * Log sources for verify and export: a server or a data directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/http.h"
#include "cli/source.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "store/store.h"

/* Largest bundle: 256 entries of the largest size with their prefixes. */
#define BUNDLE_MAX ((size_t)PR_TILE_WIDTH * (PR_TILE_MAX_ENTRY + 2))

struct cl_src {
	struct cl_http *http; /* server, or NULL */
	struct st_store *st; /* data directory, or NULL */
	int owns; /* http or st is this source's to close */
	char name[512];
};

int
cl_src_server(struct cl_ctx *ctx, struct cl_src **out)
{
	struct cl_src *s;
	struct cl_http *h;

	if ((h = cl_server(ctx)) == NULL)
		return PR_ENET;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return PR_ENOMEM;
	s->http = h; /* the context's connection */
	snprintf(s->name, sizeof(s->name), "%s", cl_http_name(h));
	*out = s;
	return 0;
}

int
cl_src_dup(const struct cl_src *s, struct cl_ctx *ctx, struct cl_src **out)
{
	struct cl_src *d;
	int rc;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return PR_ENOMEM;
	memcpy(d->name, s->name, sizeof(d->name));
	if (s->st != NULL)
		d->st = s->st; /* a store may be shared by threads */
	else if ((rc = cl_http_open(ctx->server, ctx->cacert, ctx->timeout_ms,
	              &d->http)) != 0) {
		free(d);
		return rc;
	} else
		d->owns = 1;
	*out = d;
	return 0;
}

int
cl_src_datadir(const char *dir, struct cl_src **out)
{
	struct st_config cfg;
	struct pr_buf msg = PR_BUF_INIT;
	struct cl_src *s;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return PR_ENOMEM;
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = dir;
	cfg.readonly = 1;
	cfg.errmsg = &msg;
	if ((rc = st_open(&cfg, &s->st)) != 0) {
		if (rc == PR_ENOTFOUND)
			pr_errmsg_set(rc, "%s holds no procured data", dir);
		else if (msg.len > 0)
			pr_errmsg_set(rc, "%s: %s", dir, (char *)msg.data);
		else
			pr_errmsg_set(rc, "%s: %s", dir, pr_strerror(rc));
		pr_buf_free(&msg);
		free(s);
		return rc;
	}
	pr_buf_free(&msg);
	s->owns = 1;
	snprintf(s->name, sizeof(s->name), "%s", dir);
	*out = s;
	return 0;
}

void
cl_src_free(struct cl_src *s)
{
	if (s == NULL)
		return;
	if (s->owns && s->st != NULL)
		st_close(s->st);
	if (s->owns && s->http != NULL)
		cl_http_close(s->http);
	free(s);
}

const char *
cl_src_name(const struct cl_src *s)
{
	return s->name;
}

/* GET target; 0 and the body on 200, PR_ENOTFOUND on 404. */
static int
get_raw(struct cl_src *s, const char *target, size_t max, struct pr_buf *out)
{
	struct cl_http_resp r;
	int rc;

	if ((rc = cl_http_request(
	         s->http, "GET", target, NULL, NULL, 0, max, &r)) != 0)
		return rc;
	if (r.status == 404) {
		cl_http_resp_free(&r);
		return pr_errmsg_set(
		    PR_ENOTFOUND, "%s%s: not found", s->name, target);
	}
	if (r.status != 200) {
		rc = pr_errmsg_set(
		    PR_EPROTO, "%s%s: HTTP %d", s->name, target, r.status);
		cl_http_resp_free(&r);
		return rc;
	}
	if (r.body.len > 0)
		rc = pr_buf_append(out, r.body.data, r.body.len);
	cl_http_resp_free(&r);
	return rc;
}

int
cl_src_checkpoint(struct cl_src *s, struct pr_buf *out)
{
	int rc;

	if (s->st != NULL) {
		if ((rc = st_checkpoint(s->st, out)) != 0)
			return pr_errmsg_set(rc, "%s: no checkpoint: %s",
			    s->name, pr_strerror(rc));
		return 0;
	}
	return get_raw(s, "/checkpoint", 1 << 20, out);
}

int
cl_src_tile(struct cl_src *s, const struct pr_tile *t, struct pr_buf *out)
{
	struct pr_tile full;
	char path[PR_TILE_PATH_MAX + 1];
	size_t start = out->len, max;
	int rc;

	if (s->st != NULL) {
		rc = t->level == PR_TILE_ENTRIES
		    ? st_entry_bundle(s->st, t->index, t->width, out)
		    : st_tile(
		          s->st, (unsigned)t->level, t->index, t->width, out);
		if (rc != 0)
			return pr_errmsg_set(rc, "%s: tile %d/%llu: %s",
			    s->name, t->level, (unsigned long long)t->index,
			    pr_strerror(rc));
		return 0;
	}
	max = t->level == PR_TILE_ENTRIES ? BUNDLE_MAX
	                                  : (size_t)PR_TILE_WIDTH * PR_HASH_LEN;
	path[0] = '/';
	if ((rc = pr_tile_path(t, path + 1, sizeof(path) - 1)) != 0)
		return rc;
	rc = get_raw(s, path, max, out);
	if (rc != PR_ENOTFOUND || t->width == PR_TILE_WIDTH)
		return rc;
	/* The partial tile may be gone once the full one exists. */
	full = *t;
	full.width = PR_TILE_WIDTH;
	if ((rc = pr_tile_path(&full, path + 1, sizeof(path) - 1)) != 0 ||
	    (rc = get_raw(s, path, max, out)) != 0)
		return rc;
	if (t->level != PR_TILE_ENTRIES) {
		if (out->len - start >= (size_t)t->width * PR_HASH_LEN)
			out->len = start + (size_t)t->width * PR_HASH_LEN;
	} else {
		struct pr_tile_bundle_iter it;
		const uint8_t *e;
		size_t elen;
		unsigned k;

		pr_tile_bundle_iter_init(
		    &it, out->data + start, out->len - start);
		for (k = 0; k < t->width; k++)
			if (pr_tile_bundle_next(&it, &e, &elen) != 1)
				return pr_errmsg_set(PR_EPROTO,
				    "%s%s: short entry bundle", s->name, path);
		out->len = start + it.off;
	}
	return 0;
}

int
cl_src_consistency(
    struct cl_src *s, uint64_t m, uint64_t n, pr_hash *proof, size_t *len)
{
	struct pr_buf b = PR_BUF_INIT;
	char target[96];
	json_t *j, *p, *h;
	size_t i;
	int rc;

	if (s->st != NULL) {
		if ((rc = st_consistency_proof(s->st, m, n, proof, len)) != 0)
			return pr_errmsg_set(rc,
			    "%s: no consistency proof from %llu to %llu: %s",
			    s->name, (unsigned long long)m,
			    (unsigned long long)n, pr_strerror(rc));
		return 0;
	}
	snprintf(target, sizeof(target),
	    "/v1/proof/consistency?first=%llu&second=%llu",
	    (unsigned long long)m, (unsigned long long)n);
	if ((rc = get_raw(s, target, 1 << 20, &b)) != 0)
		return rc;
	j = json_loadb((char *)b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
	pr_buf_free(&b);
	p = json_object_get(j, "proof");
	if (!json_is_array(p) || json_array_size(p) > PR_MERKLE_MAX_PROOF) {
		json_decref(j);
		return pr_errmsg_set(PR_EPROTO, "%s%s: not a consistency proof",
		    s->name, target);
	}
	json_array_foreach(p, i, h)
	{
		const char *x = json_string_value(h);

		if (x == NULL || strlen(x) != 2 * PR_HASH_LEN ||
		    pr_hex_decode(x, strlen(x), proof[i], PR_HASH_LEN) != 0) {
			json_decref(j);
			return pr_errmsg_set(PR_EPROTO,
			    "%s%s: proof[%zu] is not a hex hash", s->name,
			    target, i);
		}
	}
	*len = json_array_size(p);
	json_decref(j);
	return 0;
}
