/*
 * The red-flag indicators (docs/FLAGS.md), evaluated over the aggregates
 * of daemon/flags_index.c for the processes, buyers and item codes a
 * query asks about, and GET /v1/flags.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/flags.h"
#include "daemon/flags_int.h"
#include "daemon/http.h"
#include "daemon/procured.h"
#include "daemon/query.h"
#include "proto/err.h"
#include "proto/evtime.h"
#include "proto/money.h"
#include "store/store.h"

#define DAY_MS 86400000LL
#define LIMIT_DEFAULT 1000
#define LIMIT_MAX 10000
#define MAX_ENTRIES 64 /* entry indexes listed with one flag */

enum ind {
	I_SINGLE_BID,
	I_SHORT_PERIOD,
	I_NO_COMMITMENT,
	I_CLOSE_RUNNER_UP,
	I_HEAVY_DISCOUNT,
	I_IDENTICAL_BIDS,
	I_OTHERS_DISQUALIFIED,
	I_LOWEST_DISQUALIFIED,
	I_PRICE_MEDIAN,
	I_PRICE_REFERENCE,
	I_CONTRACT_ABOVE_AWARD,
	I_AMEND_INCREASE,
	I_MANY_AMENDMENTS,
	I_LATE_DELIVERY,
	I_OVERPAYMENT,
	I_BUYER_SHARE,
	I_ITEM_SHARE,
	I_DIRECT_THRESHOLD,
	I_COUNT
};

static const char *const ind_names[I_COUNT] = {
    "single_bid",
    "short_tender_period",
    "bid_without_commitment",
    "close_runner_up",
    "heavy_discount",
    "identical_bids",
    "others_disqualified",
    "lowest_bid_disqualified",
    "price_above_median",
    "price_above_reference",
    "contract_above_award",
    "amendment_increase",
    "many_amendments",
    "late_delivery",
    "overpayment",
    "buyer_supplier_share",
    "item_supplier_share",
    "direct_below_threshold",
};

struct query {
	int ind; /* -1: every indicator */
	bool has_buyer, has_supplier, has_item;
	fl_str buyer, supplier, item; /* FL_NONE: unknown to the log */
	int64_t from, to;
	size_t limit;
};

/* One flag raised. */
struct hit {
	enum ind ind;
	const struct fl_proc *proc; /* NULL for share flags */
	fl_str buyer, supplier, item;
	fl_str others[8]; /* the suppliers of identical bids */
	size_t nothers;
	int64_t date;
	uint64_t entries[MAX_ENTRIES];
	size_t nentries;
	char value[48];
	const char *unit;
	char threshold[48];
	char *explanation;
};

struct eval {
	struct flags *f;
	const struct query *q;
	struct hit *v;
	size_t n, cap;
	int rc;
	struct hit cur; /* being built */
};

/* ---- formatting ---- */

static void
amount(char *buf, size_t len, int64_t v, unsigned exp)
{
	char s[PR_DECIMAL_STRLEN + 8];

	pr_decimal_format(v, exp, s, sizeof(s));
	snprintf(buf, len, "%s", s);
}

/* num / den as a decimal with `dec` places, rounded half up. */
static void
ratio(char *buf, size_t len, __int128 num, __int128 den, unsigned dec)
{
	__int128 scale = 1, q;
	unsigned i;

	for (i = 0; i < dec; i++)
		scale *= 10;
	if (den == 0) {
		snprintf(buf, len, "0");
		return;
	}
	q = (num * scale * 2 + den) / (den * 2);
	if (dec == 0)
		snprintf(buf, len, "%lld", (long long)q);
	else
		snprintf(buf, len, "%lld.%0*lld", (long long)(q / scale),
		    (int)dec, (long long)(q % scale));
}

/* Percentage by which a exceeds b (may be negative), 1 decimal. */
static void
pct_over(char *buf, size_t len, int64_t a, int64_t b)
{
	ratio(buf, len, ((__int128)a - b) * 100, b, 1);
}

static void
day(char buf[PR_TIME_STRLEN], int64_t ms)
{
	if (pr_time_format(ms, buf) != 0)
		snprintf(buf, PR_TIME_STRLEN, "?");
	else
		buf[10] = '\0';
}

/* ---- building a flag ---- */

static void
begin(struct eval *e, enum ind ind, const struct fl_proc *p, fl_str supplier,
    fl_str item, int64_t date)
{
	memset(&e->cur, 0, sizeof(e->cur));
	e->cur.ind = ind;
	e->cur.proc = p;
	e->cur.buyer = p ? p->buyer : FL_NONE;
	e->cur.supplier = supplier;
	e->cur.item = item;
	e->cur.date = date;
	e->cur.unit = "";
}

static void
entry(struct eval *e, uint64_t idx)
{
	size_t i;

	if (idx == FL_NOIDX)
		return;
	for (i = 0; i < e->cur.nentries; i++)
		if (e->cur.entries[i] == idx)
			return;
	if (e->cur.nentries < MAX_ENTRIES)
		e->cur.entries[e->cur.nentries++] = idx;
}

static int
names(const struct hit *h, fl_str s)
{
	size_t i;

	if (h->supplier == s)
		return 1;
	for (i = 0; i < h->nothers; i++)
		if (h->others[i] == s)
			return 1;
	return 0;
}

static int
proc_has_item(const struct fl_proc *p, fl_str item)
{
	size_t i;

	for (i = 0; p != NULL && i < p->nitems; i++)
		if (p->items[i] == item)
			return 1;
	return 0;
}

static int
matches(const struct eval *e, const struct hit *h)
{
	const struct query *q = e->q;

	if (q->has_buyer && h->buyer != q->buyer)
		return 0;
	if (q->has_supplier && !names(h, q->supplier))
		return 0;
	if (q->has_item && h->item != q->item &&
	    !(h->item == FL_NONE && proc_has_item(h->proc, q->item)))
		return 0;
	return h->date >= q->from && h->date < q->to;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void emit(struct eval *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keep the flag being built if the query wants it. */
static void
emit(struct eval *e, const char *fmt, ...)
{
	struct hit *nv;
	va_list ap;
	char buf[1024];

	if (e->rc != 0 || !matches(e, &e->cur))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (e->n == e->cap) {
		size_t ncap = e->cap ? 2 * e->cap : 64;
		if ((nv = realloc(e->v, ncap * sizeof(*nv))) == NULL) {
			e->rc = PR_ENOMEM;
			return;
		}
		e->v = nv;
		e->cap = ncap;
	}
	if ((e->cur.explanation = strdup(buf)) == NULL) {
		e->rc = PR_ENOMEM;
		return;
	}
	qsort(e->cur.entries, e->cur.nentries, sizeof(uint64_t), cmp_u64);
	e->v[e->n++] = e->cur;
}

static bool
want(const struct eval *e, enum ind ind)
{
	return e->q->ind < 0 || e->q->ind == (int)ind;
}

#define S(id) fl_s(e->f, (id))

/* ---- bids and awards ---- */

static const struct fl_bid *
bid_of(const struct fl_proc *p, fl_str supplier)
{
	size_t i;

	for (i = 0; i < p->nbids; i++)
		if (p->bids[i].supplier == supplier)
			return &p->bids[i];
	return NULL;
}

/* The reveal a result names (by leaf hash), else its supplier's. */
static uint64_t
reveal_of(const struct fl_proc *p, const struct fl_result *r)
{
	const struct fl_bid *b;
	size_t i;

	if (r->has_reveal)
		for (i = 0; i < p->nbids; i++)
			if (p->bids[i].reveal != FL_NOIDX &&
			    memcmp(p->bids[i].reveal_leaf, r->reveal,
			        PR_HASH_LEN) == 0)
				return p->bids[i].reveal;
	b = bid_of(p, r->supplier);
	return b ? b->reveal : FL_NOIDX;
}

static bool
is_winner(const struct fl_award *a, fl_str s)
{
	size_t i;

	for (i = 0; i < a->nwinners; i++)
		if (a->winners[i] == s)
			return true;
	return false;
}

static void
eval_bidding(struct eval *e, const struct fl_proc *p)
{
	const struct fl_conf *k = &e->f->conf;
	char v1[40], v2[40], v3[40];
	size_t i, j, ncommit = 0;
	int64_t first_award = INT64_MAX;
	bool open =
	    p->method == PR_METHOD_OPEN || p->method == PR_METHOD_SELECTIVE;

	for (i = 0; i < p->nbids; i++)
		ncommit += p->bids[i].commit != FL_NOIDX;
	for (i = 0; i < p->nawards; i++)
		if (p->awards[i].date < first_award)
			first_award = p->awards[i].date;
	if (want(e, I_SINGLE_BID) && open && p->nawards > 0 &&
	    ncommit < k->min_bidders) {
		begin(e, I_SINGLE_BID, p,
		    ncommit == 1 ? p->bids[0].supplier : FL_NONE, FL_NONE,
		    first_award);
		entry(e, p->tender);
		for (i = 0; i < p->nbids; i++) {
			entry(e, p->bids[i].commit);
			entry(e, p->bids[i].reveal);
		}
		for (i = 0; i < p->nawards; i++)
			entry(e, p->awards[i].idx);
		snprintf(e->cur.value, sizeof(e->cur.value), "%zu", ncommit);
		e->cur.unit = "bids";
		snprintf(e->cur.threshold, sizeof(e->cur.threshold), "%llu",
		    (unsigned long long)k->min_bidders);
		emit(e,
		    "%zu sealed bid%s in this %s tender%s%s; competition "
		    "needs at least %llu.",
		    ncommit, ncommit == 1 ? "" : "s", pr_method_name(p->method),
		    ncommit == 1 ? ", from " : "",
		    ncommit == 1 ? S(p->bids[0].supplier) : "",
		    (unsigned long long)k->min_bidders);
	}
	if (want(e, I_SHORT_PERIOD) && open && p->pend > p->pstart &&
	    (uint64_t)(p->pend - p->pstart) < k->min_tender_days * DAY_MS) {
		char d1[PR_TIME_STRLEN], d2[PR_TIME_STRLEN];
		begin(e, I_SHORT_PERIOD, p, FL_NONE, FL_NONE, p->tender_date);
		entry(e, p->tender);
		entry(e, p->period_src);
		ratio(e->cur.value, sizeof(e->cur.value), p->pend - p->pstart,
		    DAY_MS, 1);
		e->cur.unit = "days";
		snprintf(e->cur.threshold, sizeof(e->cur.threshold), "%llu",
		    (unsigned long long)k->min_tender_days);
		day(d1, p->pstart);
		day(d2, p->pend);
		emit(e,
		    "Bids could be submitted for %s days (%s to %s); %s "
		    "tenders should stay open at least %llu days.",
		    e->cur.value, d1, d2, pr_method_name(p->method),
		    (unsigned long long)k->min_tender_days);
	}
	if (want(e, I_IDENTICAL_BIDS)) {
		for (i = 0; i < p->nbids; i++) {
			const struct fl_bid *b = &p->bids[i];
			bool seen = false;
			if (b->reveal == FL_NOIDX)
				continue;
			for (j = 0; j < i && !seen; j++)
				seen = p->bids[j].reveal != FL_NOIDX &&
				    p->bids[j].value == b->value &&
				    p->bids[j].currency == b->currency;
			if (seen)
				continue;
			begin(
			    e, I_IDENTICAL_BIDS, p, FL_NONE, FL_NONE, b->date);
			entry(e, b->reveal);
			e->cur.others[e->cur.nothers++] = b->supplier;
			for (j = i + 1; j < p->nbids; j++) {
				const struct fl_bid *c = &p->bids[j];
				if (c->reveal == FL_NOIDX ||
				    c->value != b->value ||
				    c->currency != b->currency)
					continue;
				entry(e, c->reveal);
				if (c->date > e->cur.date)
					e->cur.date = c->date;
				if (e->cur.nothers < 8)
					e->cur.others[e->cur.nothers++] =
					    c->supplier;
			}
			if (e->cur.nothers < 2)
				continue;
			amount(e->cur.value, sizeof(e->cur.value), b->value,
			    b->exponent);
			e->cur.unit = S(b->currency);
			emit(e,
			    "%zu suppliers revealed identical bids of %s %s "
			    "(%s and %s%s).",
			    e->cur.nothers, e->cur.value, S(b->currency),
			    S(e->cur.others[0]), S(e->cur.others[1]),
			    e->cur.nothers > 2 ? " and others" : "");
		}
	}
	for (i = 0; i < p->nawards; i++) {
		const struct fl_award *a = &p->awards[i];
		const struct fl_result *r1 = NULL, *r2 = NULL, *low = NULL;
		size_t ndisq = 0, nothers = 0;

		for (j = 0; j < a->nresults; j++) {
			const struct fl_result *r = &a->results[j];
			if (r->status == PR_BID_VALID && r->rank == 1)
				r1 = r;
			if (r->status == PR_BID_VALID && r->rank == 2)
				r2 = r;
			if (!is_winner(a, r->supplier)) {
				nothers++;
				ndisq += r->status == PR_BID_DISQUALIFIED;
			}
			if (want(e, I_NO_COMMITMENT) && open &&
			    (bid_of(p, r->supplier) == NULL ||
			        bid_of(p, r->supplier)->commit == FL_NOIDX)) {
				begin(e, I_NO_COMMITMENT, p, r->supplier,
				    FL_NONE, a->date);
				entry(e, p->tender);
				entry(e, a->idx);
				snprintf(e->cur.value, sizeof(e->cur.value),
				    "%s",
				    r->status == PR_BID_VALID ? "valid"
				                              : "disqualified");
				e->cur.unit = "status";
				emit(e,
				    "The award evaluates a bid by %s (%s%s) "
				    "that "
				    "was never committed in the log before the "
				    "deadline: it was taken outside the sealed "
				    "procedure.",
				    S(r->supplier), e->cur.value,
				    is_winner(a, r->supplier) ? ", the winner"
				                              : "");
			}
		}
		/* A winner with no bid at all in a competitive tender. */
		for (j = 0; j < a->nwinners && want(e, I_NO_COMMITMENT) && open;
		     j++) {
			size_t m;
			for (m = 0; m < a->nresults; m++)
				if (a->results[m].supplier == a->winners[j])
					break;
			if (m < a->nresults ||
			    (bid_of(p, a->winners[j]) &&
			        bid_of(p, a->winners[j])->commit != FL_NOIDX))
				continue;
			begin(e, I_NO_COMMITMENT, p, a->winners[j], FL_NONE,
			    a->date);
			entry(e, p->tender);
			entry(e, a->idx);
			snprintf(e->cur.value, sizeof(e->cur.value), "winner");
			e->cur.unit = "status";
			emit(e,
			    "%s won this %s tender without a bid committed in "
			    "the log before the deadline.",
			    S(a->winners[j]), pr_method_name(p->method));
		}
		if (want(e, I_CLOSE_RUNNER_UP) && r1 && r2 && r1->has_value &&
		    r2->has_value && r1->value > 0 && r2->value >= r1->value &&
		    ((__int128)r2->value - r1->value) * 100 <
		        (__int128)r1->value * (int64_t)k->close_bid_percent) {
			begin(e, I_CLOSE_RUNNER_UP, p, r1->supplier, FL_NONE,
			    a->date);
			entry(e, a->idx);
			entry(e, reveal_of(p, r1));
			entry(e, reveal_of(p, r2));
			ratio(e->cur.value, sizeof(e->cur.value),
			    ((__int128)r2->value - r1->value) * 100, r1->value,
			    2);
			e->cur.unit = "percent";
			snprintf(e->cur.threshold, sizeof(e->cur.threshold),
			    "%llu", (unsigned long long)k->close_bid_percent);
			amount(v1, sizeof(v1), r1->value, a->exponent);
			amount(v2, sizeof(v2), r2->value, a->exponent);
			emit(e,
			    "The winning bid (%s, %s %s) is only %s%% below "
			    "the runner-up (%s, %s); threshold %llu%%.",
			    S(r1->supplier), v1, S(a->currency), e->cur.value,
			    S(r2->supplier), v2,
			    (unsigned long long)k->close_bid_percent);
		}
		if (want(e, I_HEAVY_DISCOUNT) && r1 && r2 && r1->has_value &&
		    r2->has_value && r1->value > 0 &&
		    ((__int128)r2->value - r1->value) * 100 >
		        (__int128)r1->value * (int64_t)k->discount_percent) {
			begin(e, I_HEAVY_DISCOUNT, p, r1->supplier, FL_NONE,
			    a->date);
			entry(e, a->idx);
			entry(e, reveal_of(p, r1));
			entry(e, reveal_of(p, r2));
			ratio(e->cur.value, sizeof(e->cur.value),
			    ((__int128)r2->value - r1->value) * 100, r1->value,
			    1);
			e->cur.unit = "percent";
			snprintf(e->cur.threshold, sizeof(e->cur.threshold),
			    "%llu", (unsigned long long)k->discount_percent);
			amount(v1, sizeof(v1), r1->value, a->exponent);
			amount(v2, sizeof(v2), r2->value, a->exponent);
			emit(e,
			    "The winning bid (%s, %s %s) is far below the "
			    "runner-up (%s, %s): the runner-up asked %s%% more "
			    "(threshold %llu%%).",
			    S(r1->supplier), v1, S(a->currency),
			    S(r2->supplier), v2, e->cur.value,
			    (unsigned long long)k->discount_percent);
		}
		if (want(e, I_OTHERS_DISQUALIFIED) && nothers > 0 &&
		    ndisq == nothers && ndisq >= k->min_disqualified &&
		    a->nwinners > 0) {
			begin(e, I_OTHERS_DISQUALIFIED, p, a->winners[0],
			    FL_NONE, a->date);
			entry(e, a->idx);
			for (j = 0; j < a->nresults; j++)
				if (a->results[j].status == PR_BID_DISQUALIFIED)
					entry(e, reveal_of(p, &a->results[j]));
			snprintf(
			    e->cur.value, sizeof(e->cur.value), "%zu", ndisq);
			e->cur.unit = "bids";
			snprintf(e->cur.threshold, sizeof(e->cur.threshold),
			    "%llu", (unsigned long long)k->min_disqualified);
			emit(e,
			    "Every bid but the winner's was disqualified (%zu "
			    "of %zu); %s won unopposed.",
			    ndisq, a->nresults, S(a->winners[0]));
		}
		/* The lowest disqualified bid under price-only criteria. */
		for (j = 0; r1 && r1->has_value && j < a->nresults; j++) {
			const struct fl_result *r = &a->results[j];
			if (r->status == PR_BID_DISQUALIFIED && r->has_value &&
			    r->value < r1->value &&
			    (low == NULL || r->value < low->value))
				low = r;
		}
		if (want(e, I_LOWEST_DISQUALIFIED) && low != NULL &&
		    p->criteria == PR_CRITERIA_PRICE_ONLY) {
			begin(e, I_LOWEST_DISQUALIFIED, p, low->supplier,
			    FL_NONE, a->date);
			entry(e, a->idx);
			entry(e, reveal_of(p, low));
			entry(e, reveal_of(p, r1));
			pct_over(e->cur.value, sizeof(e->cur.value), r1->value,
			    low->value);
			e->cur.unit = "percent";
			amount(v1, sizeof(v1), low->value, a->exponent);
			amount(v2, sizeof(v2), r1->value, a->exponent);
			emit(e,
			    "Under price-only criteria the lowest bid (%s, %s "
			    "%s) was disqualified; %s won at %s, %s%% more.",
			    S(low->supplier), v1, S(a->currency),
			    S(r1->supplier), v2, e->cur.value);
		}
		if (want(e, I_DIRECT_THRESHOLD) &&
		    (p->method == PR_METHOD_DIRECT ||
		        p->method == PR_METHOD_LIMITED) &&
		    a->has_value &&
		    strcmp(S(a->currency), k->direct_currency) == 0 &&
		    a->value < k->direct_threshold &&
		    (__int128)a->value * 100 >= (__int128)k->direct_threshold *
		            (100 - (int64_t)k->direct_margin_percent)) {
			begin(e, I_DIRECT_THRESHOLD, p,
			    a->nwinners ? a->winners[0] : FL_NONE, FL_NONE,
			    a->date);
			entry(e, p->tender);
			entry(e, a->idx);
			amount(e->cur.value, sizeof(e->cur.value), a->value,
			    a->exponent);
			e->cur.unit = k->direct_currency;
			amount(e->cur.threshold, sizeof(e->cur.threshold),
			    k->direct_threshold, a->exponent);
			ratio(v3, sizeof(v3),
			    ((__int128)k->direct_threshold - a->value) * 100,
			    k->direct_threshold, 1);
			emit(e,
			    "A %s award of %s %s, %s%% below the competitive "
			    "threshold of %s (margin %llu%%).",
			    pr_method_name(p->method), e->cur.value,
			    k->direct_currency, v3, e->cur.threshold,
			    (unsigned long long)k->direct_margin_percent);
		}
	}
}

/* ---- contracts ---- */

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The group's median unit price over the current lines of every
 * contract (the lower median: the nearest rank at 50%, as /v1/prices),
 * recomputed only after the group changed. */
static int
median(struct fl_group *g)
{
	int64_t *v;
	size_t i, n = 0;

	if (!g->dirty)
		return 0;
	if ((v = calloc(g->nobs + 1, sizeof(*v))) == NULL)
		return PR_ENOMEM;
	for (i = 0; i < g->nobs; i++) {
		const struct fl_obs *o = &g->obs[i];
		if (o->gen != o->c->gen || o->line >= o->c->nlines)
			continue; /* replaced by an amendment */
		v[n] = o->c->lines[o->line].price;
		g->obs[n++] = *o;
	}
	g->nobs = g->nvalid = n;
	qsort(v, n, sizeof(*v), cmp_i64);
	g->median = n ? v[(n + 1) / 2 - 1] : 0;
	g->dirty = false;
	free(v);
	return 0;
}

static void
eval_prices(struct eval *e, const struct fl_contract *c)
{
	const struct fl_conf *k = &e->f->conf;
	const struct fl_ref *ref;
	struct fl_group *g;
	char v1[40], v2[40];
	size_t i, j;

	for (i = 0; i < c->nlines; i++) {
		const struct fl_line *l = &c->lines[i];
		if (want(e, I_PRICE_MEDIAN) &&
		    (g = fl_group_get(
		         e->f, l->codes[0], l->unit, c->currency)) != NULL &&
		    median(g) == 0 && g->nvalid >= k->price_min_obs &&
		    g->median > 0 &&
		    (__int128)l->price * 100 > (__int128)g->median *
		            (100 + (int64_t)k->price_percent)) {
			begin(e, I_PRICE_MEDIAN, c->proc, c->supplier,
			    l->codes[0], c->date);
			e->cur.buyer = c->buyer;
			entry(e, c->price_src);
			ratio(e->cur.value, sizeof(e->cur.value), l->price,
			    g->median, 2);
			e->cur.unit = "ratio";
			ratio(e->cur.threshold, sizeof(e->cur.threshold),
			    100 + k->price_percent, 100, 2);
			amount(v1, sizeof(v1), l->price, c->exponent);
			amount(v2, sizeof(v2), g->median, c->exponent);
			emit(e,
			    "Unit price %s %s per %s of %s is %s times the "
			    "median %s of %zu contract prices (threshold "
			    "%s).",
			    v1, S(c->currency), S(l->unit), S(l->codes[0]),
			    e->cur.value, v2, g->nvalid, e->cur.threshold);
		}
		for (j = 0; want(e, I_PRICE_REFERENCE) && j < l->ncodes; j++) {
			ref = fl_ref_find(
			    e->f, l->codes[j], l->unit, c->currency);
			if (ref == NULL)
				continue;
			if (l->price > ref->price) {
				begin(e, I_PRICE_REFERENCE, c->proc,
				    c->supplier, l->codes[j], c->date);
				e->cur.buyer = c->buyer;
				entry(e, c->price_src);
				ratio(e->cur.value, sizeof(e->cur.value),
				    l->price, ref->price, 2);
				e->cur.unit = "ratio";
				amount(e->cur.threshold,
				    sizeof(e->cur.threshold), ref->price,
				    c->exponent);
				amount(v1, sizeof(v1), l->price, c->exponent);
				pct_over(v2, sizeof(v2), l->price, ref->price);
				emit(e,
				    "Unit price %s %s per %s of %s is above "
				    "the reference price %s by %s%%.",
				    v1, S(c->currency), S(l->unit),
				    S(l->codes[j]), e->cur.threshold, v2);
			}
			break; /* the first code with a reference decides */
		}
	}
}

static const struct fl_award *
award_of(const struct fl_proc *p, const struct fl_contract *c)
{
	size_t i;

	for (i = 0; i < p->nawards; i++)
		if (strcmp(p->awards[i].id, c->award_id) == 0)
			return &p->awards[i];
	return NULL;
}

static void
eval_contract(struct eval *e, const struct fl_contract *c)
{
	const struct fl_conf *k = &e->f->conf;
	const struct fl_award *a = award_of(c->proc, c);
	char v1[40], v2[40], d1[PR_TIME_STRLEN], d2[PR_TIME_STRLEN];
	size_t i;

	eval_prices(e, c);
	if (want(e, I_CONTRACT_ABOVE_AWARD) && a != NULL && a->has_value &&
	    a->currency == c->currency && a->value > 0 &&
	    (__int128)c->value0 * 100 >
	        (__int128)a->value * (100 + (int64_t)k->contract_percent)) {
		begin(e, I_CONTRACT_ABOVE_AWARD, c->proc, c->supplier, FL_NONE,
		    c->date);
		e->cur.buyer = c->buyer;
		entry(e, a->idx);
		entry(e, c->idx);
		pct_over(
		    e->cur.value, sizeof(e->cur.value), c->value0, a->value);
		e->cur.unit = "percent";
		snprintf(e->cur.threshold, sizeof(e->cur.threshold), "%llu",
		    (unsigned long long)k->contract_percent);
		amount(v1, sizeof(v1), c->value0, c->exponent);
		amount(v2, sizeof(v2), a->value, c->exponent);
		emit(e,
		    "Contract %s was signed for %s %s, %s%% above its award "
		    "(%s).",
		    c->id, v1, S(c->currency), e->cur.value, v2);
	}
	if (want(e, I_AMEND_INCREASE) && c->namends > 0 && c->value0 > 0 &&
	    (__int128)c->value * 100 >
	        (__int128)c->value0 * (100 + (int64_t)k->amend_percent)) {
		begin(e, I_AMEND_INCREASE, c->proc, c->supplier, FL_NONE,
		    c->amend_date);
		e->cur.buyer = c->buyer;
		entry(e, c->idx);
		for (i = 0; i < c->namends; i++)
			entry(e, c->amends[i]);
		pct_over(
		    e->cur.value, sizeof(e->cur.value), c->value, c->value0);
		e->cur.unit = "percent";
		snprintf(e->cur.threshold, sizeof(e->cur.threshold), "%llu",
		    (unsigned long long)k->amend_percent);
		amount(v1, sizeof(v1), c->value0, c->exponent);
		amount(v2, sizeof(v2), c->value, c->exponent);
		emit(e,
		    "Amendments raised contract %s from %s to %s %s (+%s%%; "
		    "threshold %llu%%).",
		    c->id, v1, v2, S(c->currency), e->cur.value,
		    (unsigned long long)k->amend_percent);
	}
	if (want(e, I_MANY_AMENDMENTS) && k->amendments > 0 &&
	    c->namends >= k->amendments) {
		begin(e, I_MANY_AMENDMENTS, c->proc, c->supplier, FL_NONE,
		    c->amend_date);
		e->cur.buyer = c->buyer;
		entry(e, c->idx);
		for (i = 0; i < c->namends; i++)
			entry(e, c->amends[i]);
		snprintf(e->cur.value, sizeof(e->cur.value), "%zu", c->namends);
		e->cur.unit = "amendments";
		snprintf(e->cur.threshold, sizeof(e->cur.threshold), "%llu",
		    (unsigned long long)k->amendments);
		emit(e, "Contract %s was amended %zu times (threshold %llu).",
		    c->id, c->namends, (unsigned long long)k->amendments);
	}
	for (i = 0; want(e, I_LATE_DELIVERY) && i < c->nlate; i++) {
		const struct fl_late *l = &c->late[i];
		if ((uint64_t)l->late_ms <= k->late_days * DAY_MS)
			continue;
		begin(
		    e, I_LATE_DELIVERY, c->proc, c->supplier, FL_NONE, l->date);
		e->cur.buyer = c->buyer;
		entry(e, l->src);
		entry(e, l->delivery);
		ratio(
		    e->cur.value, sizeof(e->cur.value), l->late_ms, DAY_MS, 1);
		e->cur.unit = "days";
		snprintf(e->cur.threshold, sizeof(e->cur.threshold), "%llu",
		    (unsigned long long)k->late_days);
		day(d1, l->date);
		emit(e,
		    "Milestone %s of contract %s was delivered %s days after "
		    "its due date (recorded %s).",
		    l->milestone, c->id, e->cur.value, d1);
	}
	if (want(e, I_OVERPAYMENT) && c->paid > c->value) {
		begin(e, I_OVERPAYMENT, c->proc, c->supplier, FL_NONE,
		    c->pay_date);
		e->cur.buyer = c->buyer;
		entry(e, c->idx);
		for (i = 0; i < c->npayments; i++)
			entry(e, c->payments[i]);
		amount(e->cur.value, sizeof(e->cur.value), c->paid - c->value,
		    c->exponent);
		e->cur.unit = S(c->currency);
		amount(v1, sizeof(v1), c->paid, c->exponent);
		amount(v2, sizeof(v2), c->value, c->exponent);
		day(d2, c->pay_date);
		emit(e,
		    "Payments on contract %s total %s %s, %s more than its "
		    "value of %s (last payment %s).",
		    c->id, v1, S(c->currency), e->cur.value, v2, d2);
	}
}

/* ---- shares of spending ---- */

struct share {
	const struct fl_contract *c;
	fl_str supplier, currency;
	int64_t amount;
};

static int
cmp_share(const void *a, const void *b)
{
	const struct share *x = a, *y = b;

	if (x->currency != y->currency)
		return x->currency < y->currency ? -1 : 1;
	if (x->supplier != y->supplier)
		return x->supplier < y->supplier ? -1 : 1;
	return (x->c->idx > y->c->idx) - (x->c->idx < y->c->idx);
}

/* Flag every supplier whose share of the spending in v (one buyer's
 * contracts, or one item code's lines) is above pct percent. */
static void
share_flags(struct eval *e, enum ind ind, struct share *v, size_t n,
    fl_str buyer, fl_str item)
{
	const struct fl_conf *k = &e->f->conf;
	uint64_t pct = ind == I_BUYER_SHARE ? k->buyer_share_percent
	                                    : k->item_share_percent;
	size_t i, j, m, s, ncur;
	__int128 total, sum;
	char v1[40], v2[40];
	int64_t last;

	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), cmp_share);
	for (i = 0; i < n; i = j) {
		total = 0;
		for (j = i; j < n && v[j].currency == v[i].currency; j++)
			total += v[j].amount;
		ncur = j - i;
		if (ncur < k->share_min_contracts || total <= 0)
			continue;
		for (s = i; s < j; s = m) {
			sum = 0;
			last = INT64_MIN;
			for (m = s; m < j && v[m].supplier == v[s].supplier;
			     m++) {
				sum += v[m].amount;
				if (v[m].c->date > last)
					last = v[m].c->date;
			}
			if (sum * 100 <= total * (__int128)pct)
				continue;
			begin(e, ind, NULL, v[s].supplier, item, last);
			e->cur.buyer = buyer;
			for (size_t x = s; x < m; x++)
				entry(e, v[x].c->idx);
			ratio(e->cur.value, sizeof(e->cur.value), sum * 100,
			    total, 1);
			e->cur.unit = "percent";
			snprintf(e->cur.threshold, sizeof(e->cur.threshold),
			    "%llu", (unsigned long long)pct);
			amount(v1, sizeof(v1), (int64_t)sum, v[s].c->exponent);
			amount(
			    v2, sizeof(v2), (int64_t)total, v[s].c->exponent);
			if (ind == I_BUYER_SHARE)
				emit(e,
				    "%s holds %s%% of %s's contracted spending "
				    "(%s of %s %s, %zu of %zu contracts; "
				    "threshold %llu%%).",
				    S(v[s].supplier), e->cur.value, S(buyer),
				    v1, v2, S(v[s].currency), m - s, ncur,
				    (unsigned long long)pct);
			else
				emit(e,
				    "%s holds %s%% of the contracted spending "
				    "on "
				    "%s (%s of %s %s, %zu of %zu contracts; "
				    "threshold %llu%%).",
				    S(v[s].supplier), e->cur.value, S(item), v1,
				    v2, S(v[s].currency), m - s, ncur,
				    (unsigned long long)pct);
		}
	}
}

static bool
in_period(const struct eval *e, const struct fl_contract *c)
{
	return c->date >= e->q->from && c->date < e->q->to;
}

static int
push_share(struct share **v, size_t *n, size_t *cap,
    const struct fl_contract *c, int64_t amount)
{
	struct share *nv;

	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 64;
		if ((nv = realloc(*v, ncap * sizeof(*nv))) == NULL)
			return PR_ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	(*v)[*n].c = c;
	(*v)[*n].supplier = c->supplier;
	(*v)[*n].currency = c->currency;
	(*v)[*n].amount = amount;
	(*n)++;
	return 0;
}

static void
buyer_share(struct eval *e, fl_str buyer)
{
	const struct fl_vec *procs = &e->f->by_party[buyer];
	struct share *v = NULL;
	size_t n = 0, cap = 0, i, j;

	for (i = 0; i < procs->n && e->rc == 0; i++) {
		const struct fl_proc *p = procs->v[i];
		for (j = 0; j < p->ncontracts; j++) {
			const struct fl_contract *c = p->contracts[j];
			if (c->buyer == buyer && in_period(e, c) &&
			    push_share(&v, &n, &cap, c, c->value) != 0)
				e->rc = PR_ENOMEM;
		}
	}
	if (e->rc == 0)
		share_flags(e, I_BUYER_SHARE, v, n, buyer, FL_NONE);
	free(v);
}

static void
item_share(struct eval *e, fl_str code)
{
	const struct fl_vec *procs = &e->f->by_item[code];
	struct share *v = NULL;
	size_t n = 0, cap = 0, i, j, l;
	int64_t sum;

	for (i = 0; i < procs->n && e->rc == 0; i++) {
		const struct fl_proc *p = procs->v[i];
		for (j = 0; j < p->ncontracts; j++) {
			const struct fl_contract *c = p->contracts[j];
			if (!in_period(e, c))
				continue;
			for (l = 0, sum = 0; l < c->nlines; l++)
				if (c->lines[l].codes[0] == code &&
				    pr_money_add(
				        sum, c->lines[l].total, &sum) != 0)
					sum = INT64_MAX;
			if (sum > 0 && push_share(&v, &n, &cap, c, sum) != 0)
				e->rc = PR_ENOMEM;
		}
	}
	if (e->rc == 0)
		share_flags(e, I_ITEM_SHARE, v, n, FL_NONE, code);
	free(v);
}

/* Add id to the set v (fl_str as pointers) if absent. */
static int
add_id(struct fl_vec *v, fl_str id)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if ((fl_str)(uintptr_t)v->v[i] == id)
			return 0;
	return fl_vec_push(v, (void *)(uintptr_t)id);
}

static void
eval_shares(struct eval *e)
{
	const struct query *q = e->q;
	struct flags *f = e->f;
	struct fl_vec buyers = {0}, codes = {0};
	const struct fl_vec *bl = &f->buyers, *cl = &f->codes;
	size_t i, j, l;

	if (q->has_supplier) {
		const struct fl_vec *procs = &f->by_party[q->supplier];
		for (i = 0; i < procs->n && e->rc == 0; i++) {
			const struct fl_proc *p = procs->v[i];
			for (j = 0; j < p->ncontracts; j++) {
				const struct fl_contract *c = p->contracts[j];
				if (c->supplier != q->supplier)
					continue;
				if (add_id(&buyers, c->buyer) != 0)
					e->rc = PR_ENOMEM;
				for (l = 0; l < c->nlines; l++)
					if (add_id(&codes,
					        c->lines[l].codes[0]) != 0)
						e->rc = PR_ENOMEM;
			}
		}
		bl = &buyers;
		cl = &codes;
	}
	if (want(e, I_BUYER_SHARE) && !q->has_item) {
		if (q->has_buyer)
			buyer_share(e, q->buyer);
		else
			for (i = 0; i < bl->n && e->rc == 0; i++)
				buyer_share(e, (fl_str)(uintptr_t)bl->v[i]);
	}
	if (want(e, I_ITEM_SHARE) && !q->has_buyer) {
		if (q->has_item)
			item_share(e, q->item);
		else
			for (i = 0; i < cl->n && e->rc == 0; i++)
				item_share(e, (fl_str)(uintptr_t)cl->v[i]);
	}
	fl_vec_free(&buyers);
	fl_vec_free(&codes);
}

/* ---- the query ---- */

static int
cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	if (x->ind != y->ind)
		return x->ind < y->ind ? -1 : 1;
	if (x->nentries && y->nentries && x->entries[0] != y->entries[0])
		return x->entries[0] < y->entries[0] ? -1 : 1;
	return 0;
}

static void
evaluate(struct eval *e)
{
	const struct query *q = e->q;
	struct flags *f = e->f;
	const struct fl_vec *procs = &f->procs;
	size_t i, j;

	if (q->has_buyer)
		procs = &f->by_party[q->buyer];
	else if (q->has_supplier)
		procs = &f->by_party[q->supplier];
	else if (q->has_item)
		procs = &f->by_item[q->item];
	for (i = 0; i < procs->n && e->rc == 0; i++) {
		const struct fl_proc *p = procs->v[i];
		if (p->has_tender && !p->cancelled)
			eval_bidding(e, p);
		for (j = 0; j < p->ncontracts && e->rc == 0; j++)
			eval_contract(e, p->contracts[j]);
	}
	if (e->rc == 0)
		eval_shares(e);
	if (e->rc == 0 && e->n > 0)
		qsort(e->v, e->n, sizeof(*e->v), cmp_hit);
}

static json_t *
hit_json(struct flags *f, const struct hit *h)
{
	json_t *ent = json_array(), *o, *sup;
	size_t i;

	for (i = 0; i < h->nentries; i++)
		json_array_append_new(
		    ent, json_integer((json_int_t)h->entries[i]));
	o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:o, s:s, s:s, s:s?, "
	              "s:s, s:o}",
	    "indicator", ind_names[h->ind], "ocid",
	    h->proc ? h->proc->ocid : NULL, "buyer", fl_s(f, h->buyer),
	    "supplier", fl_s(f, h->supplier), "item", fl_s(f, h->item), "date",
	    timej(h->date), "value", h->value, "unit", h->unit, "threshold",
	    h->threshold[0] ? h->threshold : NULL, "explanation",
	    h->explanation, "entries", ent);
	if (o != NULL && h->nothers > 0) {
		sup = json_array();
		for (i = 0; i < h->nothers; i++)
			json_array_append_new(
			    sup, json_string(fl_s(f, h->others[i])));
		json_object_set_new(o, "suppliers", sup);
	}
	return o;
}

/* Query parameters; 0, or -1 after replying with an error. */
static int
parse_query(struct http_req *r, struct query *q, const char **names)
{
	const char *s;
	uint64_t limit = LIMIT_DEFAULT;
	int i, rc;

	memset(q, 0, sizeof(*q));
	q->ind = -1;
	q->to = INT64_MAX;
	if ((s = http_query_str(r, "indicator")) != NULL) {
		for (i = 0; i < I_COUNT; i++)
			if (strcmp(s, ind_names[i]) == 0)
				q->ind = i;
		if (q->ind < 0) {
			http_error(r, 400, "bad_query", "indicator",
			    "unknown indicator '%s' (docs/FLAGS.md lists "
			    "them: single_bid, short_tender_period, ...)",
			    s);
			return -1;
		}
	}
	names[0] = http_query_str(r, "buyer");
	names[1] = http_query_str(r, "supplier");
	names[2] = http_query_str(r, "item");
	if (names[2] != NULL && strchr(names[2], ':') == NULL) {
		http_error(r, 400, "bad_query", "item",
		    "item must be SCHEME:CODE, e.g. ATC:J01CA04");
		return -1;
	}
	if (((rc = time_param(r, "from", &q->from)) != 0 &&
	        rc != PR_ENOTFOUND) ||
	    ((rc = time_param(r, "to", &q->to)) != 0 && rc != PR_ENOTFOUND)) {
		http_error(r, 400, "bad_query", "from",
		    "from and to must be YYYY-MM-DD or RFC 3339 UTC");
		return -1;
	}
	if (http_query_u64(r, "limit", &limit) == PR_EFORMAT || limit == 0 ||
	    limit > LIMIT_MAX) {
		http_error(r, 400, "bad_query", "limit", "limit must be 1..%d",
		    LIMIT_MAX);
		return -1;
	}
	q->limit = (size_t)limit;
	return 0;
}

void
flags_query(struct http_req *r, void *arg)
{
	struct procured *d = arg;
	struct flags *f = d->flags;
	const char *names[3];
	struct query q;
	struct eval e;
	json_t *out = NULL, *arr;
	size_t i;
	bool unknown;

	if (parse_query(r, &q, names) != 0)
		return;
	if (fl_query_begin(f, d, r, "red flags") != 0)
		return;
	q.has_buyer = names[0] != NULL;
	q.has_supplier = names[1] != NULL;
	q.has_item = names[2] != NULL;
	q.buyer = fl_lookup(f, names[0]);
	q.supplier = fl_lookup(f, names[1]);
	q.item = fl_lookup(f, names[2]);
	unknown = (q.has_buyer && q.buyer == FL_NONE) ||
	    (q.has_supplier && q.supplier == FL_NONE) ||
	    (q.has_item && q.item == FL_NONE);
	memset(&e, 0, sizeof(e));
	e.f = f;
	e.q = &q;
	if (!unknown)
		evaluate(&e);
	if (e.rc == 0) {
		arr = json_array();
		for (i = 0; i < e.n && i < q.limit; i++)
			json_array_append_new(arr, hit_json(f, &e.v[i]));
		out = json_pack("{s:o, s:I, s:I, s:b, s:I}", "flags", arr,
		    "count", (json_int_t)(e.n < q.limit ? e.n : q.limit),
		    "total", (json_int_t)e.n, "truncated", e.n > q.limit,
		    "tree_size", (json_int_t)f->indexed);
	}
	pthread_mutex_unlock(&f->lock);
	for (i = 0; i < e.n; i++)
		free(e.v[i].explanation);
	free(e.v);
	if (out == NULL) {
		http_error(r, 503, "overloaded", NULL, "out of memory");
		return;
	}
	http_reply_json(r, 200, out);
}
