/*
 * Spending totals (GET /v1/totals) from the red-flag engine's aggregates
 * (daemon/flags_int.h): the indexer folds every contract, contract.amend
 * and payment into a record of its contract; a query reads the records of
 * one party (or all of them) and never the log, so its cost follows the
 * number of contracts it covers, with no cap.
 *
 * For a period [from, to) the figures are those of the events dated in
 * it, applied in log order: a contract's value, buyer, supplier and
 * funding are those of its latest version in the period (the contract or
 * an amendment carrying a value), its month that of the contract itself
 * ("unknown" when only an amendment falls in the period), its item lines
 * those of its latest version listing items; a payment counts under its
 * own buyer, payee or funding source when it names one, else under its
 * contract's.  With party=ID only contracts whose buyer or supplier (in
 * the period) is ID count, with their payments; with item=SCHEME:CODE
 * only those whose lines in the period list that classification (and,
 * grouped by item, only its lines).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/flags.h"
#include "daemon/flags_int.h"
#include "daemon/flags_mem.h"
#include "daemon/hmap.h"
#include "daemon/http.h"
#include "daemon/procured.h"
#include "daemon/query.h"
#include "proto/err.h"
#include "proto/event.h"
#include "proto/money.h"
#include "store/store.h"

#define TOT_KEY_MAX 512

/* ---- the indexer's side ---- */

static struct fl_tc *
tot_tc(struct flags *f, const struct pr_event *ev)
{
	char key[TOT_KEY_MAX];
	struct fl_tc *tc;
	void *ptr;
	int n;

	n = snprintf(key, sizeof(key), "%s/%s", ev->ocid,
	    ev->contract_id ? ev->contract_id
	        : ev->id    ? ev->id
	                    : "");
	if (n < 0)
		return NULL;
	if ((size_t)n >= sizeof(key))
		n = (int)sizeof(key) - 1;
	if (hmap_get(f->tcmap, key, (size_t)n, NULL, NULL, &ptr))
		return ptr;
	if ((tc = fl_calloc(f->mem, 1, sizeof(*tc))) == NULL)
		return NULL;
	tc->first = INT64_MAX;
	tc->last = INT64_MIN;
	if (hmap_put(f->tcmap, key, (size_t)n, NULL, 0, 0, tc) != 0) {
		fl_free(f->mem, tc);
		return NULL;
	}
	if (fl_vec_add(f, &f->tcs, tc) != 0) {
		hmap_del(f->tcmap, key, (size_t)n);
		fl_free(f->mem, tc);
		return NULL;
	}
	return tc;
}

/* List tc under party id unless an earlier version already did (called
 * with the new version counted in tc->nv). */
static int
tot_party(struct flags *f, struct fl_tc *tc, fl_str id)
{
	uint32_t i;

	if (id == FL_NONE)
		return 0;
	for (i = 0; i + 1 < tc->nv; i++)
		if (tc->v[i].buyer == id || tc->v[i].supplier == id)
			return 0;
	return fl_vec_add(f, &f->tc_by_party[id], tc);
}

/* List tc under item code id unless a line before it already did
 * (called before the new version is counted in tc->nv). */
static int
tot_item(struct flags *f, struct fl_tc *tc, const struct fl_tver *nv, fl_str id)
{
	uint32_t i, j;

	for (i = 0; i < tc->nv; i++)
		for (j = 0; j < tc->v[i].nlines; j++)
			if (tc->v[i].lines[j].code == id)
				return 0;
	for (j = 0; j < nv->nlines; j++)
		if (nv->lines[j].code == id)
			return 0;
	return fl_vec_add(f, &f->tc_by_item[id], tc);
}

static fl_str
tot_intern(struct flags *f, const char *s, int *rc)
{
	fl_str id;

	if (s == NULL)
		return FL_NONE;
	if ((id = fl_intern(f, s)) == FL_NONE)
		*rc = PR_ENOMEM;
	return id;
}

static int
tot_lines(struct flags *f, struct fl_tc *tc, struct fl_tver *v,
    const struct pr_event *ev)
{
	int rc;

	struct fl_tline *l;
	char code[300];
	size_t i;

	v->has_items = true;
	if ((v->lines = fl_calloc(f->mem, ev->n_items, sizeof(*l))) == NULL)
		return PR_ENOMEM;
	for (i = 0; i < ev->n_items; i++) {
		const struct pr_item *it = &ev->items[i];
		if (!it->has_classification || !it->has_unit_price ||
		    !it->has_quantity)
			continue;
		l = &v->lines[v->nlines];
		snprintf(code, sizeof(code), "%s:%s",
		    pr_scheme_name(it->classification.scheme),
		    it->classification.id);
		if ((l->code = fl_intern(f, code)) == FL_NONE ||
		    (l->currency = fl_intern(f, it->unit_price.currency)) ==
		        FL_NONE)
			return PR_ENOMEM;
		if ((rc = tot_item(f, tc, v, l->code)) != 0)
			return rc;
		l->exponent = it->unit_price.exponent;
		if (pr_money_mul_qty(
		        it->unit_price.amount, it->quantity, &l->total) != 0) {
			l->total = 0;
			l->overflow = true;
		}
		v->nlines++;
	}
	return 0;
}

static int
tot_version(struct flags *f, struct fl_tc *tc, const struct pr_event *ev)
{
	struct fl_tver *v;
	int rc = 0;

	if ((rc = fl_grow(f, &tc->v, tc->nv, sizeof(*tc->v))) != 0)
		return rc;
	v = &tc->v[tc->nv];
	memset(v, 0, sizeof(*v));
	v->date = ev->date;
	v->value = ev->value.amount;
	v->exponent = ev->value.exponent;
	v->funding = ev->funding;
	v->is_contract = ev->kind == PR_KIND_CONTRACT;
	v->buyer = tot_intern(f, ev->buyer.id, &rc);
	v->supplier = tot_intern(f, ev->supplier.id, &rc);
	v->currency = tot_intern(f, ev->value.currency, &rc);
	if (rc == 0 && ev->n_items > 0)
		rc = tot_lines(f, tc, v, ev);
	if (rc != 0)
		return rc;
	tc->nv++;
	if ((rc = tot_party(f, tc, v->buyer)) != 0)
		return rc;
	if (v->supplier != v->buyer)
		rc = tot_party(f, tc, v->supplier);
	return rc;
}

static int
tot_payment(struct flags *f, struct fl_tc *tc, const struct pr_event *ev)
{
	struct fl_tpay *p;
	int rc = 0;

	if ((rc = fl_grow(f, &tc->p, tc->np, sizeof(*tc->p))) != 0)
		return rc;
	p = &tc->p[tc->np];
	memset(p, 0, sizeof(*p));
	p->date = ev->date;
	p->value = ev->value.amount;
	p->exponent = ev->value.exponent;
	p->funding = ev->funding;
	p->buyer = tot_intern(f, ev->buyer.id, &rc);
	p->payee = tot_intern(f, ev->payee.id, &rc);
	p->currency = tot_intern(f, ev->value.currency, &rc);
	if (rc != 0)
		return rc;
	tc->np++;
	return 0;
}

int
fl_tot_apply(struct flags *f, const struct pr_event *ev)
{
	struct fl_tc *tc;
	int rc;

	if (ev->ocid == NULL || !ev->has_value)
		return 0;
	if (ev->kind != PR_KIND_CONTRACT &&
	    ev->kind != PR_KIND_CONTRACT_AMEND && ev->kind != PR_KIND_PAYMENT)
		return 0;
	if ((tc = tot_tc(f, ev)) == NULL)
		return PR_ENOMEM;
	rc = ev->kind == PR_KIND_PAYMENT ? tot_payment(f, tc, ev)
	                                 : tot_version(f, tc, ev);
	if (rc != 0)
		return rc;
	if (ev->date < tc->first)
		tc->first = ev->date;
	if (ev->date > tc->last)
		tc->last = ev->date;
	return 0;
}

/* ---- the query's side ---- */

enum tot_by { TB_BUYER, TB_SUPPLIER, TB_ITEM, TB_FUNDING, TB_MONTH };

/* A row's identity: an interned string, or a short literal (a month,
 * a funding source), or neither ("unknown"); and a currency. */
struct trkey {
	fl_str id;
	fl_str currency;
	char s[16];
};

struct trow {
	struct trkey k;
	const char *name;
	unsigned exponent;
	int64_t contracted, paid;
	uint64_t contracts, payments;
};

struct tot {
	struct flags *f;
	enum tot_by by;
	int64_t from, to;
	bool has_party, has_item;
	fl_str party, item; /* FL_NONE: no such string was ever logged */
	struct hmap *rowmap; /* struct trkey -> index + 1 in rows */
	struct trow *rows;
	size_t nrows, caprows;
	bool overflow;
	int rc;
};

/* A contract's state over the period. */
struct tot_state {
	bool has; /* some version falls in the period */
	fl_str buyer, supplier, currency;
	enum pr_funding funding;
	bool has_month;
	int64_t month_date;
	unsigned exponent;
	int64_t value;
	const struct fl_tver *lines; /* latest version listing items */
};

static void
tot_month(int64_t ms, char out[16])
{
	time_t tt = (time_t)(ms / 1000);
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	gmtime_r(&tt, &tm);
	snprintf(out, 16, "%04u-%02u", (unsigned)(tm.tm_year + 1900) % 10000,
	    (unsigned)(tm.tm_mon + 1) % 100);
}

static struct trow *
tot_row(struct tot *t, fl_str id, const char *s, fl_str cur, unsigned exp)
{
	struct trkey k;
	struct trow *r;
	void *ptr;

	memset(&k, 0, sizeof(k));
	k.id = id;
	k.currency = cur;
	if (id == FL_NONE && s != NULL)
		snprintf(k.s, sizeof(k.s), "%s", s);
	if (hmap_get(t->rowmap, &k, sizeof(k), NULL, NULL, &ptr))
		return &t->rows[(uintptr_t)ptr - 1];
	if (t->nrows == t->caprows) {
		size_t ncap = t->caprows ? 2 * t->caprows : 64;
		struct trow *n = realloc(t->rows, ncap * sizeof(*n));
		if (n == NULL)
			return NULL;
		t->rows = n;
		t->caprows = ncap;
	}
	if (hmap_put(t->rowmap, &k, sizeof(k), NULL, 0, 0,
	        (void *)(uintptr_t)(t->nrows + 1)) != 0)
		return NULL;
	r = &t->rows[t->nrows++];
	memset(r, 0, sizeof(*r));
	r->k = k;
	r->exponent = exp;
	return r;
}

static void
tot_add(struct tot *t, int64_t *sum, int64_t v)
{
	if (pr_money_add(*sum, v, sum) != 0)
		t->overflow = true;
}

static bool
tot_in(const struct tot *t, int64_t date)
{
	return date >= t->from && date < t->to;
}

static void
tot_state(const struct tot *t, const struct fl_tc *tc, struct tot_state *st)
{
	const struct fl_tver *v;
	uint32_t i;

	memset(st, 0, sizeof(*st));
	st->buyer = st->supplier = st->currency = FL_NONE;
	for (i = 0; i < tc->nv; i++) {
		v = &tc->v[i];
		if (!tot_in(t, v->date))
			continue;
		st->has = true;
		if (v->buyer != FL_NONE)
			st->buyer = v->buyer;
		if (v->supplier != FL_NONE)
			st->supplier = v->supplier;
		if (v->funding != PR_FUNDING_NONE)
			st->funding = v->funding;
		if (v->is_contract) {
			st->has_month = true;
			st->month_date = v->date;
		}
		st->currency = v->currency;
		st->exponent = v->exponent;
		st->value = v->value;
		if (v->has_items)
			st->lines = v;
	}
}

static void
tot_contract(struct tot *t, const struct tot_state *st)
{
	const char *s = NULL;
	char month[16];
	struct trow *r;
	fl_str id = FL_NONE;
	uint32_t i;

	if (t->by == TB_ITEM) {
		for (i = 0; st->lines != NULL && i < st->lines->nlines; i++) {
			const struct fl_tline *l = &st->lines->lines[i];
			if (t->has_item && l->code != t->item)
				continue;
			if ((r = tot_row(t, l->code, NULL, l->currency,
			         l->exponent)) == NULL) {
				t->rc = PR_ENOMEM;
				return;
			}
			t->overflow |= l->overflow;
			tot_add(t, &r->contracted, l->total);
			r->contracts++;
		}
		return;
	}
	switch (t->by) {
	case TB_BUYER:
		id = st->buyer;
		break;
	case TB_SUPPLIER:
		id = st->supplier;
		break;
	case TB_FUNDING:
		if (st->funding != PR_FUNDING_NONE)
			s = pr_funding_name(st->funding);
		break;
	default:
		if (st->has_month) {
			tot_month(st->month_date, month);
			s = month;
		}
		break;
	}
	if ((r = tot_row(t, id, s, st->currency, st->exponent)) == NULL) {
		t->rc = PR_ENOMEM;
		return;
	}
	tot_add(t, &r->contracted, st->value);
	r->contracts++;
}

static void
tot_payments(struct tot *t, const struct fl_tc *tc, const struct tot_state *st)
{
	const struct fl_tpay *p;
	const char *s;
	char month[16];
	struct trow *r;
	fl_str id;
	uint32_t i;

	for (i = 0; i < tc->np; i++) {
		p = &tc->p[i];
		if (!tot_in(t, p->date))
			continue;
		id = FL_NONE;
		s = NULL;
		switch (t->by) {
		case TB_BUYER:
			id = p->buyer != FL_NONE ? p->buyer
			    : st->has            ? st->buyer
			                         : FL_NONE;
			break;
		case TB_SUPPLIER:
			id = p->payee != FL_NONE ? p->payee
			    : st->has            ? st->supplier
			                         : FL_NONE;
			break;
		case TB_FUNDING:
			if (p->funding != PR_FUNDING_NONE)
				s = pr_funding_name(p->funding);
			else if (st->has && st->funding != PR_FUNDING_NONE)
				s = pr_funding_name(st->funding);
			break;
		default:
			tot_month(p->date, month);
			s = month;
			break;
		}
		if ((r = tot_row(t, id, s, p->currency, p->exponent)) == NULL) {
			t->rc = PR_ENOMEM;
			return;
		}
		tot_add(t, &r->paid, p->value);
		r->payments++;
	}
}

/* Whether the contract's lines in the period list t->item. */
static bool
tot_lists(const struct tot *t, const struct tot_state *st)
{
	uint32_t i;

	for (i = 0; st->lines != NULL && i < st->lines->nlines; i++)
		if (st->lines->lines[i].code == t->item)
			return true;
	return false;
}

/* Fold one contract's record into the rows. */
static void
tot_fold(struct tot *t, const struct fl_tc *tc)
{
	struct tot_state st;

	if (tc->last < t->from || tc->first >= t->to)
		return;
	tot_state(t, tc, &st);
	if (t->has_party &&
	    (!st.has || (st.buyer != t->party && st.supplier != t->party)))
		return;
	if (t->has_item && (!st.has || !tot_lists(t, &st)))
		return;
	if (st.has)
		tot_contract(t, &st);
	if (t->by != TB_ITEM && t->rc == 0)
		tot_payments(t, tc, &st);
}

/* A row's name: interned (stable) or kept in the row itself. */
static const char *
tot_name(const struct trow *r)
{
	return r->name != NULL ? r->name : r->k.s;
}

static int
tot_cmp(const void *a, const void *b)
{
	const struct trow *x = a, *y = b;
	int c;

	if (x->contracted != y->contracted)
		return x->contracted < y->contracted ? 1 : -1;
	if ((c = strcmp(tot_name(x), tot_name(y))) != 0)
		return c;
	return (x->k.currency > y->k.currency) -
	    (x->k.currency < y->k.currency);
}

/* The rows as JSON, sorted by amount contracted (with f->lock held:
 * the names are interned strings). */
static json_t *
tot_json(struct tot *t)
{
	const char *cur;
	json_t *a;
	size_t i;

	for (i = 0; i < t->nrows; i++) {
		struct trow *r = &t->rows[i];
		r->name = r->k.id != FL_NONE ? fl_s(t->f, r->k.id)
		    : r->k.s[0] != '\0'      ? NULL /* r->k.s, moved by qsort */
		                             : "unknown";
		if (r->k.id != FL_NONE && (r->name == NULL || !r->name[0]))
			r->name = "unknown";
	}
	if (t->nrows > 1)
		qsort(t->rows, t->nrows, sizeof(*t->rows), tot_cmp);
	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < t->nrows; i++) {
		const struct trow *r = &t->rows[i];
		cur = r->k.currency != FL_NONE ? fl_s(t->f, r->k.currency) : "";
		json_array_append_new(a,
		    json_pack("{s:s, s:s, s:o, s:o, s:I, s:I}", "key",
		        tot_name(r), "currency", cur ? cur : "", "contracted",
		        amountj(r->contracted, r->exponent), "paid",
		        amountj(r->paid, r->exponent), "contracts",
		        (json_int_t)r->contracts, "payments",
		        (json_int_t)r->payments));
	}
	return a;
}

/* Every contract, or those listed under the party or the item, into
 * t->rows. */
static void
tot_collect(struct tot *t, const char *party, const char *item)
{
	struct flags *f = t->f;
	const struct fl_vec *list = &f->tcs;
	size_t i;

	t->party = t->item = FL_NONE;
	if ((t->has_item = item != NULL)) {
		if ((t->item = fl_lookup(f, item)) == FL_NONE)
			return; /* never an item code */
		list = &f->tc_by_item[t->item];
	}
	if ((t->has_party = party != NULL) && party[0] != '\0') {
		if ((t->party = fl_lookup(f, party)) == FL_NONE)
			return; /* never a buyer or supplier */
		list = &f->tc_by_party[t->party];
	}
	if (t->has_party && t->has_item && f->tc_by_item[t->item].n < list->n)
		list = &f->tc_by_item[t->item];
	for (i = 0; i < list->n && t->rc == 0; i++)
		tot_fold(t, list->v[i]);
}

void
flags_totals(struct http_req *r, void *arg)
{
	static const char *names[] = {
	    "buyer", "supplier", "item", "funding", "month"};
	struct procured *d = arg;
	struct flags *f = d->flags;
	const char *by = http_query_str(r, "by"), *party, *item;
	json_t *rows = NULL;
	uint64_t size = 0;
	struct tot t;
	size_t i;
	int rc;

	memset(&t, 0, sizeof(t));
	t.to = INT64_MAX; /* from 0: the Unix epoch, as the period's start */
	for (i = 0; by != NULL && i < 5; i++)
		if (strcmp(by, names[i]) == 0)
			break;
	if (by == NULL || i == 5) {
		http_error(r, 400, "bad_query", "by",
		    "by must be buyer, supplier, item, funding or month");
		return;
	}
	t.by = (enum tot_by)i;
	if (((rc = time_param(r, "from", &t.from)) != 0 &&
	        rc != PR_ENOTFOUND) ||
	    ((rc = time_param(r, "to", &t.to)) != 0 && rc != PR_ENOTFOUND)) {
		http_error(r, 400, "bad_query", "from",
		    "from and to must be YYYY-MM-DD or RFC 3339 UTC");
		return;
	}
	party = http_query_str(r, "party");
	item = http_query_str(r, "item");
	if ((t.rowmap = hmap_new()) == NULL) {
		http_error(r, 503, "overloaded", NULL, "out of memory");
		return;
	}
	t.f = f;
	if (fl_query_begin(f, d, r, "totals") != 0)
		goto out;
	tot_collect(&t, party, item);
	if (t.rc == 0)
		rows = tot_json(&t);
	size = f->indexed;
	pthread_mutex_unlock(&f->lock);
	if (rows == NULL) {
		http_error(r, 503, "overloaded", NULL, "out of memory");
		goto out;
	}
	http_reply_json(r, 200,
	    json_pack("{s:s, s:o, s:b, s:I}", "by", by, "rows", rows,
	        "overflow", t.overflow, "tree_size", (json_int_t)size));
out:
	hmap_free(t.rowmap);
	free(t.rows);
}
