/*
 * The red-flag engine's indexer: one thread reads every entry the log
 * commits, in log order, and folds its event into compact aggregates
 * (daemon/flags_int.h): a record a process with its tender, bids, awards
 * and contracts, lists of processes by party and by item code, and price
 * benchmarks by item code, unit and currency.  Queries read only the
 * aggregates, never the log, so their cost follows the size of what they
 * ask about, not the size of the log.
 *
 * The thread runs at a low priority (nice 10) so that admission and
 * signature checks come first under load; it catches up when the log
 * goes quiet, and a query that finds it behind waits for it briefly.
 */
#include <sys/prctl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "daemon/flags.h"
#include "daemon/flags_int.h"
#include "daemon/flags_mem.h"
#include "daemon/hmap.h"
#include "daemon/procured.h"
#include "proto/buf.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/event.h"
#include "proto/log.h"
#include "proto/merkle.h"
#include "store/store.h"

#define CHUNK 128 /* entries read, parsed and applied at a time */
#define IDLE_MS 100 /* poll for new entries when caught up */
#define QUERY_WAIT_MS 300 /* longest a query waits for the indexer */
#define CODE_MAX 300 /* "SCHEME:id" */

/* ---- small containers ---- */

int
fl_vec_push(struct fl_vec *v, void *p)
{
	void **nv;
	size_t ncap;

	if (v->n == v->cap) {
		ncap = v->cap ? 2 * v->cap : 4;
		if ((nv = realloc(v->v, ncap * sizeof(*nv))) == NULL)
			return PR_ENOMEM;
		v->v = nv;
		v->cap = ncap;
	}
	v->v[v->n++] = p;
	return 0;
}

void
fl_vec_free(struct fl_vec *v)
{
	free(v->v);
	memset(v, 0, sizeof(*v));
}

int
fl_vec_add(struct flags *f, struct fl_vec *v, void *p)
{
	void **nv;
	size_t ncap;

	if (v->n == v->cap) {
		ncap = v->cap ? 2 * v->cap : 4;
		if ((nv = fl_realloc(f->mem, v->v, ncap * sizeof(*nv))) == NULL)
			return PR_ENOMEM;
		v->v = nv;
		v->cap = ncap;
	}
	v->v[v->n++] = p;
	return 0;
}

/* Grow an array (in f->mem) of n elements of size sz to hold one more. */
int
fl_grow(struct flags *f, void *pp, size_t n, size_t sz)
{
	void **p = pp, *np;

	if (n & (n - 1))
		return 0; /* not a power of two: there is room */
	if ((np = fl_realloc(f->mem, *p, (n ? 2 * n : 1) * sz)) == NULL)
		return PR_ENOMEM;
	*p = np;
	return 0;
}

fl_str
fl_lookup(const struct flags *f, const char *s)
{
	void *ptr;

	if (s == NULL || !hmap_get(f->strmap, s, strlen(s), NULL, NULL, &ptr))
		return FL_NONE;
	return (fl_str)(uintptr_t)ptr;
}

fl_str
fl_intern(struct flags *f, const char *s)
{
	fl_str id = fl_lookup(f, s);
	size_t n;
	char *dup;

	if (id != FL_NONE || s == NULL)
		return id;
	if (f->nstrs == f->capstrs) {
		struct fl_mem *m = f->mem;
		n = f->capstrs ? 2 * f->capstrs : 256;
		char **ns = fl_realloc(m, f->strs, n * sizeof(*ns));
		struct fl_vec *bp = fl_realloc(m, f->by_party, n * sizeof(*bp));
		struct fl_vec *bi, *bt, *bti;
		uint8_t *mk;

		if (ns != NULL)
			f->strs = ns;
		if (bp != NULL)
			f->by_party = bp;
		if ((bi = fl_realloc(m, f->by_item, n * sizeof(*bi))) != NULL)
			f->by_item = bi;
		if ((bt = fl_realloc(m, f->tc_by_party, n * sizeof(*bt))) !=
		    NULL)
			f->tc_by_party = bt;
		if ((bti = fl_realloc(m, f->tc_by_item, n * sizeof(*bti))) !=
		    NULL)
			f->tc_by_item = bti;
		if ((mk = fl_realloc(m, f->mark, n)) != NULL)
			f->mark = mk;
		if (ns == NULL || bp == NULL || bi == NULL || bt == NULL ||
		    bti == NULL || mk == NULL)
			return FL_NONE;
		memset(f->by_party + f->capstrs, 0,
		    (n - f->capstrs) * sizeof(*bp));
		memset(
		    f->by_item + f->capstrs, 0, (n - f->capstrs) * sizeof(*bi));
		memset(f->tc_by_party + f->capstrs, 0,
		    (n - f->capstrs) * sizeof(*bt));
		memset(f->tc_by_item + f->capstrs, 0,
		    (n - f->capstrs) * sizeof(*bti));
		memset(f->mark + f->capstrs, 0, n - f->capstrs);
		f->capstrs = n;
	}
	if ((dup = fl_strdup(f->mem, s)) == NULL)
		return FL_NONE;
	id = (fl_str)f->nstrs;
	if (hmap_put(f->strmap, s, strlen(s), NULL, 0, 0,
	        (void *)(uintptr_t)id) != 0) {
		fl_free(f->mem, dup);
		return FL_NONE;
	}
	f->strs[f->nstrs++] = dup;
	return id;
}

const char *
fl_s(const struct flags *f, fl_str id)
{
	return id < f->nstrs ? f->strs[id] : NULL;
}

static void
code_of(const struct pr_classification *c, char out[CODE_MAX])
{
	snprintf(out, CODE_MAX, "%s:%s", pr_scheme_name(c->scheme), c->id);
}

/* ---- processes ---- */

static struct fl_proc *
proc_get(struct flags *f, const char *ocid)
{
	struct fl_proc *p;
	void *ptr;

	if (hmap_get(f->procmap, ocid, strlen(ocid), NULL, NULL, &ptr))
		return ptr;
	if ((p = fl_calloc(f->mem, 1, sizeof(*p))) == NULL)
		return NULL;
	p->buyer = FL_NONE;
	p->tender = p->period_src = FL_NOIDX;
	if ((p->ocid = fl_strdup(f->mem, ocid)) == NULL ||
	    hmap_put(f->procmap, ocid, strlen(ocid), NULL, 0, 0, p) != 0) {
		fl_free(f->mem, p->ocid);
		fl_free(f->mem, p);
		return NULL;
	}
	if (fl_vec_add(f, &f->procs, p) != 0) {
		hmap_del(f->procmap, ocid, strlen(ocid));
		fl_free(f->mem, p->ocid);
		fl_free(f->mem, p);
		return NULL;
	}
	return p;
}

/* List p under id in by[id] once (by is f->by_party or f->by_item). */
static int
index_under(struct flags *f, struct fl_vec *by, fl_str **list, size_t *n,
    struct fl_proc *p, fl_str id)
{
	size_t i;
	int rc;

	if (id == FL_NONE)
		return PR_ENOMEM;
	for (i = 0; i < *n; i++)
		if ((*list)[i] == id)
			return 0;
	if ((rc = fl_grow(f, list, *n, sizeof(**list))) != 0 ||
	    (rc = fl_vec_add(f, &by[id], p)) != 0)
		return rc;
	(*list)[(*n)++] = id;
	return 0;
}

static int
proc_party(struct flags *f, struct fl_proc *p, const char *party)
{
	if (party == NULL)
		return 0;
	return index_under(
	    f, f->by_party, &p->parties, &p->nparties, p, fl_intern(f, party));
}

static int
proc_item(struct flags *f, struct fl_proc *p, const char *code)
{
	return index_under(
	    f, f->by_item, &p->items, &p->nitems, p, fl_intern(f, code));
}

/* Every code of every item, for item queries. */
static int
proc_items(struct flags *f, struct fl_proc *p, const struct pr_event *ev)
{
	char code[CODE_MAX];
	size_t i, j;
	int rc = 0;

	for (i = 0; i < ev->n_items && rc == 0; i++) {
		const struct pr_item *it = &ev->items[i];
		if (it->has_classification) {
			code_of(&it->classification, code);
			rc = proc_item(f, p, code);
		}
		for (j = 0; j < it->n_additional && rc == 0; j++) {
			code_of(&it->additional[j], code);
			rc = proc_item(f, p, code);
		}
	}
	return rc;
}

static int
set_buyer(struct flags *f, struct fl_proc *p, const char *buyer)
{
	fl_str id;
	int rc;

	if (buyer == NULL || p->buyer != FL_NONE)
		return 0;
	if ((id = fl_intern(f, buyer)) == FL_NONE)
		return PR_ENOMEM;
	p->buyer = id;
	if ((rc = proc_party(f, p, buyer)) != 0)
		return rc;
	/* A buyer's first process also lists the buyer. */
	if (f->by_party[id].n == 1)
		return fl_vec_add(f, &f->buyers, (void *)(uintptr_t)id);
	return 0;
}

static int
apply_tender(
    struct flags *f, struct fl_proc *p, uint64_t idx, const struct pr_event *ev)
{
	int rc;

	if (!p->has_tender) {
		p->has_tender = true;
		p->tender = idx;
		p->tender_date = ev->date;
	}
	p->method = ev->method;
	p->criteria = ev->criteria;
	p->pstart = ev->tender_period.start;
	p->pend = ev->tender_period.end;
	p->period_src = FL_NOIDX;
	if ((rc = set_buyer(f, p, ev->buyer.id)) != 0)
		return rc;
	return proc_items(f, p, ev);
}

static int
apply_tender_amend(
    struct flags *f, struct fl_proc *p, uint64_t idx, const struct pr_event *ev)
{
	if (ev->tender_period.has_end || ev->tender_period.has_start) {
		if (ev->tender_period.has_start)
			p->pstart = ev->tender_period.start;
		if (ev->tender_period.has_end)
			p->pend = ev->tender_period.end;
		p->period_src = idx;
	}
	return proc_items(f, p, ev);
}

/* ---- bids and awards ---- */

static struct fl_bid *
bid_get(struct flags *f, struct fl_proc *p, const char *supplier)
{
	fl_str s = fl_intern(f, supplier);
	struct fl_bid *b;
	size_t i;

	if (s == FL_NONE)
		return NULL;
	for (i = 0; i < p->nbids; i++)
		if (p->bids[i].supplier == s)
			return &p->bids[i];
	if (fl_grow(f, &p->bids, p->nbids, sizeof(*p->bids)) != 0 ||
	    proc_party(f, p, supplier) != 0)
		return NULL;
	b = &p->bids[p->nbids++];
	memset(b, 0, sizeof(*b));
	b->supplier = s;
	b->commit = b->reveal = FL_NOIDX;
	return b;
}

static int
apply_bid(struct flags *f, struct fl_proc *p, uint64_t idx, const uint8_t *leaf,
    const struct pr_event *ev)
{
	struct fl_bid *b = bid_get(f, p, ev->supplier.id);

	if (b == NULL)
		return PR_ENOMEM;
	if (ev->kind == PR_KIND_BID_COMMIT) {
		if (b->commit == FL_NOIDX)
			b->commit = idx;
		return 0;
	}
	b->reveal = idx;
	memcpy(b->reveal_leaf, leaf, PR_HASH_LEN);
	b->date = ev->date;
	b->value = ev->value.amount;
	b->currency = fl_intern(f, ev->value.currency);
	b->exponent = ev->value.exponent;
	return proc_items(f, p, ev);
}

static int
apply_award(
    struct flags *f, struct fl_proc *p, uint64_t idx, const struct pr_event *ev)
{
	struct fl_award *a;
	size_t i;
	int rc;

	if ((rc = fl_grow(f, &p->awards, p->nawards, sizeof(*p->awards))) != 0)
		return rc;
	a = &p->awards[p->nawards];
	memset(a, 0, sizeof(*a));
	a->idx = idx;
	a->date = ev->date;
	a->currency = FL_NONE;
	if (ev->has_value) {
		a->has_value = true;
		a->value = ev->value.amount;
		a->currency = fl_intern(f, ev->value.currency);
		a->exponent = ev->value.exponent;
	}
	a->winners =
	    fl_calloc(f->mem, ev->n_suppliers + 1, sizeof(*a->winners));
	a->results = fl_calloc(f->mem, ev->n_bids + 1, sizeof(*a->results));
	if ((a->id = fl_strdup(f->mem, ev->id ? ev->id : "")) == NULL ||
	    a->winners == NULL || a->results == NULL) {
		fl_free(f->mem, a->id);
		fl_free(f->mem, a->winners);
		fl_free(f->mem, a->results);
		return PR_ENOMEM;
	}
	p->nawards++;
	for (i = 0; i < ev->n_suppliers; i++) {
		a->winners[a->nwinners++] = fl_intern(f, ev->suppliers[i].id);
		if ((rc = proc_party(f, p, ev->suppliers[i].id)) != 0)
			return rc;
	}
	for (i = 0; i < ev->n_bids; i++) {
		const struct pr_bid_result *b = &ev->bids[i];
		struct fl_result *r = &a->results[a->nresults++];
		r->supplier = fl_intern(f, b->supplier.id);
		r->status = b->status;
		r->rank = b->rank;
		r->has_value = b->has_value;
		r->value = b->value.amount;
		r->has_reveal = b->has_reveal;
		memcpy(r->reveal, b->reveal, PR_HASH_LEN);
		if ((rc = proc_party(f, p, b->supplier.id)) != 0)
			return rc;
	}
	if ((rc = set_buyer(f, p, ev->buyer.id)) != 0)
		return rc;
	return proc_items(f, p, ev);
}

/* ---- contracts ---- */

struct fl_group *
fl_group_get(struct flags *f, fl_str code, fl_str unit, fl_str currency)
{
	fl_str key[3] = {code, unit, currency};
	struct fl_group *g;
	void *ptr;

	if (hmap_get(f->groupmap, key, sizeof(key), NULL, NULL, &ptr))
		return ptr;
	if ((g = fl_calloc(f->mem, 1, sizeof(*g))) == NULL)
		return NULL;
	g->code = code;
	g->unit = unit;
	g->currency = currency;
	if (hmap_put(f->groupmap, key, sizeof(key), NULL, 0, 0, g) != 0) {
		fl_free(f->mem, g);
		return NULL;
	}
	return g;
}

static struct fl_contract *
contract_find(struct fl_proc *p, const char *id)
{
	size_t i;

	for (i = 0; id != NULL && i < p->ncontracts; i++)
		if (strcmp(p->contracts[i]->id, id) == 0)
			return p->contracts[i];
	return NULL;
}

/* Replace c's lines with ev's priced items and observe their prices. */
static int
set_lines(struct flags *f, struct fl_contract *c, uint64_t idx,
    const struct pr_event *ev)
{
	struct fl_line *l;
	struct fl_group *g;
	char code[CODE_MAX];
	size_t i, j;
	int rc;

	fl_free(f->mem, c->lines);
	c->lines = NULL;
	c->nlines = 0;
	c->gen++;
	c->price_src = idx;
	if ((c->lines = fl_calloc(
	         f->mem, ev->n_items + 1, sizeof(*c->lines))) == NULL)
		return PR_ENOMEM;
	for (i = 0; i < ev->n_items; i++) {
		const struct pr_item *it = &ev->items[i];
		if (!it->has_classification || !it->has_unit_price ||
		    !it->has_quantity || it->unit_code == NULL)
			continue;
		l = &c->lines[c->nlines];
		code_of(&it->classification, code);
		l->codes[l->ncodes++] = fl_intern(f, code);
		for (j = 0; j < it->n_additional && l->ncodes < FL_MAX_CODES;
		     j++) {
			code_of(&it->additional[j], code);
			l->codes[l->ncodes++] = fl_intern(f, code);
		}
		l->unit = fl_intern(f, it->unit_code);
		l->price = it->unit_price.amount;
		if (pr_money_mul_qty(l->price, it->quantity, &l->total) != 0)
			l->total = 0;
		if ((g = fl_group_get(f, l->codes[0], l->unit, c->currency)) ==
		        NULL ||
		    (rc = fl_grow(f, &g->obs, g->nobs, sizeof(*g->obs))) != 0)
			return PR_ENOMEM;
		g->obs[g->nobs].c = c;
		g->obs[g->nobs].line = (uint32_t)c->nlines;
		g->obs[g->nobs].gen = c->gen;
		g->nobs++;
		g->dirty = true;
		c->nlines++;
	}
	/* Contracted item codes, for item-share queries. */
	for (i = 0; i < c->nlines; i++) {
		fl_str id = c->lines[i].codes[0];
		if (id == FL_NONE)
			return PR_ENOMEM;
		if ((rc = proc_item(f, c->proc, fl_s(f, id))) != 0)
			return rc;
		if (!(f->mark[id] & FL_MARK_CODE)) {
			if ((rc = fl_vec_add(
			         f, &f->codes, (void *)(uintptr_t)id)) != 0)
				return rc;
			f->mark[id] |= FL_MARK_CODE;
		}
	}
	return 0;
}

static int
set_milestones(struct flags *f, struct fl_contract *c, uint64_t idx,
    const struct pr_event *ev)
{
	struct fl_milestone *m;
	size_t i, j;
	int rc;

	for (i = 0; i < ev->n_milestones; i++) {
		const struct pr_milestone *em = &ev->milestones[i];
		if (em->type != PR_MILESTONE_DELIVERY)
			continue;
		for (j = 0; j < c->nms; j++)
			if (strcmp(c->ms[j].id, em->id) == 0)
				break;
		if (j == c->nms) {
			if ((rc = fl_grow(f, &c->ms, c->nms, sizeof(*c->ms))) !=
			    0)
				return rc;
			if ((c->ms[j].id = fl_strdup(f->mem, em->id)) == NULL)
				return PR_ENOMEM;
			c->nms++;
		}
		m = &c->ms[j];
		m->due = em->due_date;
		m->src = idx;
	}
	return 0;
}

static int
apply_contract(
    struct flags *f, struct fl_proc *p, uint64_t idx, const struct pr_event *ev)
{
	struct fl_contract *c;
	int rc;

	if ((rc = fl_grow(
	         f, &p->contracts, p->ncontracts, sizeof(*p->contracts))) != 0)
		return rc;
	if ((c = fl_calloc(f->mem, 1, sizeof(*c))) == NULL)
		return PR_ENOMEM;
	if ((c->id = fl_strdup(f->mem, ev->id)) == NULL ||
	    (c->award_id = fl_strdup(
	         f->mem, ev->award_id ? ev->award_id : "")) == NULL) {
		fl_free(f->mem, c->id);
		fl_free(f->mem, c);
		return PR_ENOMEM;
	}
	p->contracts[p->ncontracts++] = c;
	c->proc = p;
	c->idx = idx;
	c->date = ev->date;
	c->buyer = fl_intern(f, ev->buyer.id);
	c->supplier = fl_intern(f, ev->supplier.id);
	c->currency = fl_intern(f, ev->value.currency);
	c->exponent = ev->value.exponent;
	c->value0 = c->value = ev->value.amount;
	if ((rc = set_buyer(f, p, ev->buyer.id)) != 0 ||
	    (rc = proc_party(f, p, ev->supplier.id)) != 0 ||
	    (rc = set_lines(f, c, idx, ev)) != 0 ||
	    (rc = set_milestones(f, c, idx, ev)) != 0)
		return rc;
	return 0;
}

static int
apply_contract_amend(
    struct flags *f, struct fl_proc *p, uint64_t idx, const struct pr_event *ev)
{
	struct fl_contract *c = contract_find(p, ev->contract_id);
	int rc;

	if (c == NULL)
		return 0;
	if (ev->kind == PR_KIND_CONTRACT_TERMINATE) {
		c->terminated = true;
		return 0;
	}
	if ((rc = fl_grow(f, &c->amends, c->namends, sizeof(*c->amends))) != 0)
		return rc;
	c->amends[c->namends++] = idx;
	c->amend_date = ev->date;
	if (ev->has_value && fl_intern(f, ev->value.currency) == c->currency)
		c->value = ev->value.amount;
	if (ev->n_items > 0 && (rc = set_lines(f, c, idx, ev)) != 0)
		return rc;
	return set_milestones(f, c, idx, ev);
}

static int
apply_delivery(
    struct flags *f, struct fl_proc *p, uint64_t idx, const struct pr_event *ev)
{
	struct fl_contract *c = contract_find(p, ev->contract_id);
	struct fl_late *l;
	int64_t when;
	size_t i;
	int rc;

	if (c == NULL || ev->milestone_id == NULL)
		return 0;
	for (i = 0; i < c->nms; i++)
		if (strcmp(c->ms[i].id, ev->milestone_id) == 0)
			break;
	if (i == c->nms)
		return 0;
	when = ev->has_delivery_date ? ev->delivery_date : ev->date;
	if (when <= c->ms[i].due)
		return 0;
	if ((rc = fl_grow(f, &c->late, c->nlate, sizeof(*c->late))) != 0)
		return rc;
	l = &c->late[c->nlate];
	if ((l->milestone = fl_strdup(f->mem, ev->milestone_id)) == NULL)
		return PR_ENOMEM;
	c->nlate++;
	l->delivery = idx;
	l->src = c->ms[i].src;
	l->date = ev->date;
	l->late_ms = when - c->ms[i].due;
	return 0;
}

static int
apply_payment(
    struct flags *f, struct fl_proc *p, uint64_t idx, const struct pr_event *ev)
{
	struct fl_contract *c = contract_find(p, ev->contract_id);
	int rc;

	if (c == NULL || !ev->has_value ||
	    fl_intern(f, ev->value.currency) != c->currency)
		return 0;
	if ((rc = fl_grow(
	         f, &c->payments, c->npayments, sizeof(*c->payments))) != 0)
		return rc;
	c->payments[c->npayments++] = idx;
	if (pr_money_add(c->paid, ev->value.amount, &c->paid) != 0)
		c->paid = INT64_MAX;
	c->pay_date = ev->date;
	return proc_party(f, p, ev->payee.id);
}

/* Fold one logged event into the aggregates. */
static int
apply(struct flags *f, uint64_t idx, const uint8_t *leaf,
    const struct pr_event *ev)
{
	struct fl_proc *p;
	int rc;

	if (ev->ocid == NULL)
		return 0; /* key.grant, key.revoke */
	if ((p = proc_get(f, ev->ocid)) == NULL)
		return PR_ENOMEM;
	if ((rc = fl_tot_apply(f, ev)) != 0)
		return rc;
	switch (ev->kind) {
	case PR_KIND_PLAN:
		return set_buyer(f, p, ev->buyer.id);
	case PR_KIND_TENDER:
		return apply_tender(f, p, idx, ev);
	case PR_KIND_TENDER_AMEND:
		return apply_tender_amend(f, p, idx, ev);
	case PR_KIND_TENDER_CANCEL:
		p->cancelled = true;
		return 0;
	case PR_KIND_BID_COMMIT:
	case PR_KIND_BID_REVEAL:
		return apply_bid(f, p, idx, leaf, ev);
	case PR_KIND_AWARD:
		return apply_award(f, p, idx, ev);
	case PR_KIND_CONTRACT:
		return apply_contract(f, p, idx, ev);
	case PR_KIND_CONTRACT_AMEND:
	case PR_KIND_CONTRACT_TERMINATE:
		return apply_contract_amend(f, p, idx, ev);
	case PR_KIND_DELIVERY:
		return apply_delivery(f, p, idx, ev);
	case PR_KIND_PAYMENT:
		return apply_payment(f, p, idx, ev);
	default:
		return 0;
	}
}

/* ---- the indexer thread ---- */

struct chunk {
	struct pr_buf raw[CHUNK];
	size_t n;
};

static int
copy_entry(void *ctx, uint64_t index, const uint8_t *e, size_t len)
{
	struct chunk *ck = ctx;

	(void)index;
	pr_buf_reset(&ck->raw[ck->n]);
	if (pr_buf_append(&ck->raw[ck->n], e, len) != 0)
		return PR_ENOMEM;
	ck->n++;
	return 0;
}

void
fl_deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Apply the events of entries [from, from + n) and free them; a NULL
 * event is an entry that could not be read or parsed. */
static void
apply_chunk(struct flags *f, uint64_t from, size_t n, struct pr_event **ev,
    uint8_t (*leaf)[PR_HASH_LEN], size_t errors, bool fed)
{
	size_t i;
	int rc;

	pthread_mutex_lock(&f->lock);
	for (i = 0; i < n; i++) {
		if (ev[i] == NULL)
			continue;
		if ((rc = apply(f, from + i, leaf[i], ev[i])) != 0) {
			log_warnx("flags: entry %llu: %s",
			    (unsigned long long)(from + i), pr_strerror(rc));
			errors++;
		}
	}
	f->indexed = from + n;
	f->errors += errors;
	if (fed)
		f->from_feed += n;
	else
		f->from_store += n;
	pthread_cond_broadcast(&f->done);
	pthread_mutex_unlock(&f->lock);
	for (i = 0; i < n; i++)
		pr_event_free(ev[i]);
}

/* Read, parse and apply entries [from, from + n). */
static void
index_chunk(struct flags *f, struct chunk *ck, uint64_t from, size_t n)
{
	struct pr_event *ev[CHUNK];
	uint8_t leaf[CHUNK][PR_HASH_LEN];
	struct pr_entry ent;
	size_t i, errors = 0;
	int rc;

	ck->n = 0;
	if ((rc = st_entries(f->d->store, from, n, copy_entry, ck)) != 0 ||
	    ck->n == 0) {
		log_warnx("flags: reading entries from %llu: %s",
		    (unsigned long long)from, pr_strerror(rc));
		return;
	}
	for (i = 0; i < ck->n; i++) {
		ev[i] = NULL;
		pr_merkle_leaf_hash(ck->raw[i].data, ck->raw[i].len, leaf[i]);
		if (pr_entry_parse(ck->raw[i].data, ck->raw[i].len, &ent) !=
		        0 ||
		    pr_event_parse(
		        ent.payload, ent.payload_len, &ev[i], NULL) != 0)
			errors++;
	}
	apply_chunk(f, from, ck->n, ev, leaf, errors, false);
}

static void *
indexer(void *arg)
{
	struct flags *f = arg;
	struct pr_event *ev[CHUNK];
	uint8_t leaf[CHUNK][PR_HASH_LEN];
	struct chunk *ck;
	uint64_t from, size, next, upto;
	pr_hash root;
	size_t i, n;
	bool stop;

	(void)prctl(PR_SET_NAME, "flags");
#ifdef SYS_gettid
	/* Admission and signature checks first: this thread yields. */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
#endif
	if ((ck = calloc(1, sizeof(*ck))) == NULL) {
		log_warnx("flags: out of memory; red flags are unavailable");
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&f->lock);
		stop = f->stop;
		from = f->indexed;
		pthread_mutex_unlock(&f->lock);
		if (stop)
			break;
		if (st_tree(f->d->store, &size, root) != 0 || from >= size) {
			if (f->caught_up_ms == 0) {
				f->caught_up_ms = now_ms();
				log_info(
				    "flags: analysed %llu entries in %.1f s",
				    (unsigned long long)from,
				    (double)(f->caught_up_ms - f->started_ms) /
				        1000.0);
			}
			fl_feed_wait(f, from, IDLE_MS);
			continue;
		}
		/* Events the sequencer handed over need no reading back;
		 * entries before them (at start, or dropped by a full
		 * feed) come from the store. */
		n = fl_feed_take(f, from, CHUNK, ev, leaf, &next, &upto);
		if (n > 0) {
			apply_chunk(f, from, n, ev, leaf, 0, true);
			continue;
		}
		if (next < size)
			size = next;
		/* Entries the sequencer has committed but not yet reported
		 * are on their way in the feed: wait for them. */
		if (upto < f->start_size)
			upto = f->start_size;
		if (size > upto)
			size = upto;
		if (from >= size) {
			fl_feed_wait(f, from, IDLE_MS);
			continue;
		}
		index_chunk(f, ck, from,
		    size - from < CHUNK ? (size_t)(size - from) : CHUNK);
		if (ck->n == 0) {
			/* The store failed: try again shortly. */
			fl_feed_wait(f, from, 1000);
		}
	}
	for (i = 0; i < CHUNK; i++)
		pr_buf_free(&ck->raw[i]);
	free(ck);
	return NULL;
}

int
fl_query_begin(
    struct flags *f, struct procured *d, struct http_req *r, const char *what)
{
	struct timespec ts;
	uint64_t size, done;
	pr_hash root;

	if (f == NULL) {
		http_error(r, 503, "unavailable", NULL,
		    "%s are not available on this server", what);
		return -1;
	}
	if (st_tree(d->store, &size, root) != 0) {
		http_error(r, 500, "store_error", NULL, "reading the tree");
		return -1;
	}
	fl_deadline(&ts, QUERY_WAIT_MS);
	pthread_mutex_lock(&f->lock);
	while (f->indexed < size && !f->stop) {
		fl_feed_kick(f);
		if (pthread_cond_timedwait(&f->done, &f->lock, &ts) ==
		    ETIMEDOUT)
			break;
	}
	if (f->indexed >= size)
		return 0;
	done = f->indexed;
	pthread_mutex_unlock(&f->lock);
	http_set_header(r, "Retry-After", "2");
	http_error(r, 503, "indexing", NULL,
	    "%s are being computed: %llu of %llu entries analysed; retry "
	    "shortly",
	    what, (unsigned long long)done, (unsigned long long)size);
	return -1;
}

/* ---- set-up and tear-down ---- */

static void
conf_copy(struct flags *f, const struct config *c)
{
	struct fl_conf *k = &f->conf;

	k->min_bidders = c->flag_min_bidders;
	k->min_tender_days = c->flag_min_tender_days;
	k->close_bid_percent = c->flag_close_bid_percent;
	k->discount_percent = c->flag_discount_percent;
	k->min_disqualified = c->flag_min_disqualified;
	k->price_percent = c->flag_price_percent;
	k->price_min_obs = c->flag_price_min_observations;
	k->contract_percent = c->flag_contract_percent;
	k->amend_percent = c->flag_amend_percent;
	k->amendments = c->flag_amendments;
	k->late_days = c->flag_late_days;
	k->buyer_share_percent = c->flag_buyer_share_percent;
	k->item_share_percent = c->flag_item_share_percent;
	k->share_min_contracts = c->flag_share_min_contracts;
	k->direct_margin_percent = c->flag_direct_margin_percent;
}

static int
cond_init(pthread_cond_t *c)
{
	pthread_condattr_t a;
	int rc;

	if (pthread_condattr_init(&a) != 0)
		return PR_ENOMEM;
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	rc = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return rc == 0 ? 0 : PR_ENOMEM;
}

struct flags *
flags_new(struct procured *d)
{
	const struct pr_currency *cur;
	struct flags *f;
	pr_hash root;
	uint64_t scale = 1;
	unsigned i;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->d = d;
	conf_copy(f, &d->conf);
	cur = pr_currency_find(
	    d->conf.flag_direct_currency, strlen(d->conf.flag_direct_currency));
	if (cur == NULL) {
		log_warnx("flag-direct-currency: %s is not an ISO 4217 "
		          "currency this log knows",
		    d->conf.flag_direct_currency);
		free(f);
		return NULL;
	}
	for (i = 0; i < cur->exponent; i++)
		scale *= 10;
	f->conf.direct_threshold =
	    (int64_t)(d->conf.flag_direct_threshold * scale);
	memcpy(f->conf.direct_currency, cur->code, 4);
	pthread_mutex_init(&f->lock, NULL);
	if (cond_init(&f->done) != 0 || fl_init(f, d->conf.data_dir) != 0 ||
	    (f->refmap = hmap_new()) == NULL ||
	    (f->feed = fl_feed_new(cond_init)) == NULL)
		goto fail;
	if (d->conf.flag_reference_prices != NULL &&
	    fl_ref_load(f, d->conf.flag_reference_prices) != 0)
		goto fail;
	f->started_ms = now_ms();
	if (st_tree(d->store, &f->start_size, root) != 0)
		f->start_size = 0;
	if (pthread_create(&f->thread, NULL, indexer, f) != 0) {
		log_warnx("flags: cannot start the indexer thread");
		goto fail;
	}
	f->thread_started = true;
	return f;
fail:
	flags_free(f);
	return NULL;
}

static void *
arena_alloc(void *ctx, size_t n)
{
	return fl_malloc(ctx, n);
}

static void
arena_free(void *ctx, void *p)
{
	fl_free(ctx, p);
}

int
fl_init(struct flags *f, const char *dir)
{
	struct hmap_alloc a = {arena_alloc, arena_free, NULL};

	if ((f->mem = fl_mem_new(dir)) == NULL)
		return PR_ENOMEM;
	a.ctx = f->mem;
	/* The maps, heads included, live in the arena and go with it. */
	if ((f->strmap = hmap_new_alloc(&a)) == NULL ||
	    (f->procmap = hmap_new_alloc(&a)) == NULL ||
	    (f->groupmap = hmap_new_alloc(&a)) == NULL ||
	    (f->tcmap = hmap_new_alloc(&a)) == NULL) {
		fl_mem_free(f->mem);
		f->mem = NULL;
		return PR_ENOMEM;
	}
	return 0;
}

void
flags_free(struct flags *f)
{
	if (f == NULL)
		return;
	if (f->thread_started) {
		pthread_mutex_lock(&f->lock);
		f->stop = true;
		pthread_mutex_unlock(&f->lock);
		fl_feed_kick(f);
		pthread_join(f->thread, NULL);
	}
	fl_feed_free(f->feed);
	/* The aggregates and their maps go with their arena. */
	fl_ref_free(f);
	hmap_free(f->refmap);
	fl_mem_free(f->mem);
	pthread_cond_destroy(&f->done);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
