/*
 * Price benchmarks (GET /v1/prices), read through the store's item index
 * (at most SCAN_MAX entries), and spending totals (GET /v1/totals), which
 * the red-flag engine answers from its aggregates with no cap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/flags.h"
#include "daemon/http.h"
#include "daemon/procured.h"
#include "daemon/query.h"
#include "proto/err.h"
#include "proto/event.h"
#include "proto/money.h"
#include "store/store.h"

#define SCAN_MAX 200000
#define SCAN_CHUNK 1024

/* Walk the entries of one index key (or a log-time range when key is
 * NULL), calling fn with each parsed entry. */
static int
walk(struct procured *d, enum st_index which, const char *key, int64_t from,
    int64_t to, int (*fn)(void *ctx, struct loaded *l), void *ctx)
{
	uint64_t idx[SCAN_CHUNK], cursor = ST_SCAN_START;
	size_t n, i, seen = 0;
	struct loaded l;
	int rc;

	if (key != NULL && (key[0] == '\0' || strlen(key) > ST_KEY_MAX))
		return 0; /* no such key can be in an index */
	for (;;) {
		n = 0;
		if (key != NULL)
			rc = st_scan(
			    d->store, which, key, cursor, SCAN_CHUNK, idx, &n);
		else
			rc = st_scan_time(d->store, (uint64_t)from,
			    (uint64_t)to, cursor, SCAN_CHUNK, idx, &n);
		if (rc == PR_ENOTFOUND || (rc == 0 && n == 0))
			return 0;
		if (rc != 0)
			return rc;
		for (i = 0; i < n; i++) {
			cursor = idx[i];
			if (++seen > SCAN_MAX)
				return PR_ETOOBIG;
			if (load(d, idx[i], &l) != 0)
				continue;
			rc = fn(ctx, &l);
			loaded_free(&l);
			if (rc != 0)
				return rc;
		}
	}
}

/* ---- prices ---- */

struct obs {
	uint64_t index;
	int64_t date;
	int64_t price; /* minor units */
	int64_t qty; /* thousandths */
	char unit[16];
	char currency[4];
	unsigned exponent;
	char ocid[80];
	char kind[24];
	char buyer[64];
	char supplier[64];
};

struct prices_ctx {
	const char *item;
	const char *buyer, *supplier;
	int kind;
	int64_t from, to;
	struct obs *v;
	size_t n, cap;
};

static int
item_matches(const struct pr_item *it, const char *key)
{
	char buf[160];
	size_t i;

	if (it->has_classification) {
		snprintf(buf, sizeof(buf), "%s:%s",
		    pr_scheme_name(it->classification.scheme),
		    it->classification.id);
		if (strcmp(buf, key) == 0)
			return 1;
	}
	for (i = 0; i < it->n_additional; i++) {
		snprintf(buf, sizeof(buf), "%s:%s",
		    pr_scheme_name(it->additional[i].scheme),
		    it->additional[i].id);
		if (strcmp(buf, key) == 0)
			return 1;
	}
	return 0;
}

static int
prices_fn(void *arg, struct loaded *l)
{
	struct prices_ctx *c = arg;
	const struct pr_event *ev = l->ev;
	const char *sup;
	struct obs *o;
	size_t i;

	if ((int)ev->kind != c->kind || ev->date < c->from || ev->date >= c->to)
		return 0;
	sup = ev->supplier.id ? ev->supplier.id
	    : ev->n_suppliers ? ev->suppliers[0].id
	                      : "";
	if (c->buyer && (!ev->buyer.id || strcmp(c->buyer, ev->buyer.id)))
		return 0;
	if (c->supplier && strcmp(c->supplier, sup) != 0)
		return 0;
	for (i = 0; i < ev->n_items; i++) {
		const struct pr_item *it = &ev->items[i];
		if (!it->has_unit_price || !item_matches(it, c->item))
			continue;
		if (c->n == c->cap) {
			size_t ncap = c->cap ? 2 * c->cap : 64;
			struct obs *nv = realloc(c->v, ncap * sizeof(*nv));
			if (nv == NULL)
				return PR_ENOMEM;
			c->v = nv;
			c->cap = ncap;
		}
		o = &c->v[c->n++];
		memset(o, 0, sizeof(*o));
		o->index = l->index;
		o->date = ev->date;
		o->price = it->unit_price.amount;
		o->qty = it->has_quantity ? it->quantity : 0;
		snprintf(o->unit, sizeof(o->unit), "%s",
		    it->unit_code ? it->unit_code : "");
		memcpy(o->currency, it->unit_price.currency, 4);
		o->exponent = it->unit_price.exponent;
		snprintf(o->ocid, sizeof(o->ocid), "%s", ev->ocid);
		snprintf(
		    o->kind, sizeof(o->kind), "%s", pr_kind_name(ev->kind));
		snprintf(o->buyer, sizeof(o->buyer), "%s",
		    ev->buyer.id ? ev->buyer.id : "");
		snprintf(o->supplier, sizeof(o->supplier), "%s", sup);
	}
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static int64_t
rank(const int64_t *v, size_t n, unsigned pct)
{
	size_t k = (pct * n + 99) / 100;

	return v[k == 0 ? 0 : k - 1];
}

/* count/min/q1/median/q3/max over the prices in v (sorted here). */
static json_t *
stats_json(int64_t *v, size_t n, unsigned exp, int quartiles)
{
	qsort(v, n, sizeof(*v), cmp_i64);
	if (quartiles)
		return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "count",
		    (json_int_t)n, "min", amountj(v[0], exp), "q1",
		    amountj(rank(v, n, 25), exp), "median",
		    amountj(rank(v, n, 50), exp), "q3",
		    amountj(rank(v, n, 75), exp), "max",
		    amountj(v[n - 1], exp));
	return json_pack("{s:I, s:o, s:o, s:o}", "count", (json_int_t)n, "min",
	    amountj(v[0], exp), "median", amountj(rank(v, n, 50), exp), "max",
	    amountj(v[n - 1], exp));
}

/* Per-party statistics: by == 0 buyer, 1 supplier. */
static json_t *
groups_json(
    const struct obs *o, const size_t *sel, size_t n, int by, unsigned exp)
{
	json_t *a = json_array(), *s;
	int64_t *v;
	char *done;
	size_t i, j, m;
	const char *pi, *pj;

	v = calloc(n ? n : 1, sizeof(*v));
	done = calloc(n ? n : 1, 1);
	for (i = 0; v && done && i < n; i++) {
		if (done[i])
			continue;
		pi = by ? o[sel[i]].supplier : o[sel[i]].buyer;
		for (j = i, m = 0; j < n; j++) {
			pj = by ? o[sel[j]].supplier : o[sel[j]].buyer;
			if (!done[j] && strcmp(pi, pj) == 0) {
				done[j] = 1;
				v[m++] = o[sel[j]].price;
			}
		}
		s = stats_json(v, m, exp, 0);
		json_object_set_new(s, "party", json_string(pi));
		json_array_append_new(a, s);
	}
	free(v);
	free(done);
	return a;
}

void
query_prices(struct http_req *r, void *arg)
{
	struct procured *d = arg;
	struct prices_ctx c;
	const char *unit, *kind, *ref;
	size_t i, j, best = 0, nsel = 0, *sel = NULL, other = 0;
	int64_t *v = NULL, refv = 0, med;
	json_t *out, *obsj;
	int rc;

	memset(&c, 0, sizeof(c));
	c.to = INT64_MAX;
	if ((c.item = http_query_str(r, "item")) == NULL ||
	    strchr(c.item, ':') == NULL) {
		http_error(r, 400, "bad_query", "item",
		    "item must be SCHEME:CODE, e.g. ATC:J01CA04");
		return;
	}
	kind = http_query_str(r, "kind");
	c.kind =
	    kind ? pr_kind_from_name(kind, strlen(kind)) : PR_KIND_CONTRACT;
	if (c.kind != PR_KIND_CONTRACT && c.kind != PR_KIND_AWARD &&
	    c.kind != PR_KIND_BID_REVEAL) {
		http_error(r, 400, "bad_query", "kind",
		    "kind must be contract, award or bid.reveal");
		return;
	}
	if (((rc = time_param(r, "from", &c.from)) != 0 &&
	        rc != PR_ENOTFOUND) ||
	    ((rc = time_param(r, "to", &c.to)) != 0 && rc != PR_ENOTFOUND)) {
		http_error(r, 400, "bad_query", "from",
		    "from and to must be YYYY-MM-DD or RFC 3339 UTC");
		return;
	}
	c.buyer = http_query_str(r, "buyer");
	c.supplier = http_query_str(r, "supplier");
	rc = walk(d, ST_IDX_ITEM, c.item, 0, 0, prices_fn, &c);
	if (rc != 0) {
		free(c.v);
		http_error(r, rc == PR_ETOOBIG ? 413 : 500,
		    rc == PR_ETOOBIG ? "too_many" : "store_error", NULL, "%s",
		    rc == PR_ETOOBIG ? "narrow the query (from, to, "
		                       "buyer or supplier)"
		                     : pr_strerror(rc));
		return;
	}
	if (c.n == 0) {
		http_error(r, 404, "not_found", "item",
		    "no %s prices for %s in this period", pr_kind_name(c.kind),
		    c.item);
		return;
	}
	/* One unit and currency: the requested one, else the commonest. */
	unit = http_query_str(r, "unit");
	if (unit == NULL) {
		size_t bestn = 0, cnt;
		for (i = 0; i < c.n; i++) {
			for (j = 0, cnt = 0; j < c.n; j++)
				cnt += strcmp(c.v[i].unit, c.v[j].unit) == 0 &&
				    strcmp(c.v[i].currency, c.v[j].currency) ==
				        0;
			if (cnt > bestn) {
				bestn = cnt;
				best = i;
			}
		}
		unit = c.v[best].unit;
	} else {
		for (best = 0; best < c.n && strcmp(c.v[best].unit, unit);
		     best++)
			;
		if (best == c.n) {
			free(c.v);
			http_error(r, 404, "not_found", "unit",
			    "no prices in unit %s", unit);
			return;
		}
	}
	sel = calloc(c.n, sizeof(*sel));
	v = calloc(c.n, sizeof(*v));
	if (sel == NULL || v == NULL) {
		free(sel);
		free(v);
		free(c.v);
		http_error(r, 503, "overloaded", NULL, "out of memory");
		return;
	}
	obsj = json_array();
	for (i = 0; i < c.n; i++) {
		if (strcmp(c.v[i].unit, c.v[best].unit) != 0 ||
		    strcmp(c.v[i].currency, c.v[best].currency) != 0) {
			other++;
			continue;
		}
		sel[nsel] = i;
		v[nsel++] = c.v[i].price;
		json_array_append_new(obsj,
		    json_pack("{s:I, s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:s}",
		        "index", (json_int_t)c.v[i].index, "ocid", c.v[i].ocid,
		        "kind", c.v[i].kind, "date", timej(c.v[i].date),
		        "buyer", c.v[i].buyer, "supplier", c.v[i].supplier,
		        "unit_price", amountj(c.v[i].price, c.v[i].exponent),
		        "quantity", amountj(c.v[i].qty, 3), "unit",
		        c.v[i].unit));
	}
	out = stats_json(v, nsel, c.v[best].exponent, 1);
	med = rank(v, nsel, 50);
	json_object_set_new(out, "item", json_string(c.item));
	json_object_set_new(out, "unit", json_string(c.v[best].unit));
	json_object_set_new(out, "currency", json_string(c.v[best].currency));
	json_object_set_new(
	    out, "other_units", json_integer((json_int_t)other));
	json_object_set_new(out, "by_buyer",
	    groups_json(c.v, sel, nsel, 0, c.v[best].exponent));
	json_object_set_new(out, "by_supplier",
	    groups_json(c.v, sel, nsel, 1, c.v[best].exponent));
	ref = http_query_str(r, "reference");
	if (ref != NULL &&
	    pr_decimal_parse(ref, strlen(ref), c.v[best].exponent, &refv) ==
	        0 &&
	    refv > 0) {
		/* The ratio with two decimals, rounded half up. */
		__int128 q = ((__int128)med * 1000 / refv + 5) / 10;
		char s[40];
		snprintf(s, sizeof(s), "%lld.%02lld", (long long)(q / 100),
		    (long long)(q % 100));
		json_object_set_new(
		    out, "reference", amountj(refv, c.v[best].exponent));
		json_object_set_new(out, "median_ratio", json_string(s));
	} else if (ref != NULL) {
		http_error(r, 400, "bad_query", "reference",
		    "reference must be a positive decimal amount in %s",
		    c.v[best].currency);
		json_decref(out);
		json_decref(obsj);
		free(sel);
		free(v);
		free(c.v);
		return;
	} else {
		json_object_set_new(out, "reference", json_null());
		json_object_set_new(out, "median_ratio", json_null());
	}
	json_object_set_new(out, "observations", obsj);
	free(sel);
	free(v);
	free(c.v);
	http_reply_json(r, 200, out);
}

/* ---- totals ---- */

/* GET /v1/totals: answered by the red-flag engine from the aggregates it
 * maintains (daemon/flags_totals.c), never by a scan of the log. */
void
query_totals(struct http_req *r, void *arg)
{
	flags_totals(r, arg);
}
