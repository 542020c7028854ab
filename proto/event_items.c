/*
 * Readers for the arrays of the event model (items and their
 * classifications, parties, lots, milestones, bid results) and the
 * cross-field checks built on them (references, totals).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "proto/err.h"
#include "proto/event_int.h"
#include "proto/ident.h"
#include "proto/money.h"

static int
classification(
    struct pr_parse *p, struct pr_json *o, struct pr_classification *out)
{
	static const char *const fields[] = {
	    "scheme", "id", "description", NULL};
	const char *id, *desc, *want = NULL;
	struct pr_json *v;
	size_t len;
	bool ok;
	int scheme, rc;

	if ((rc = pp_fields(p, o, fields, NULL)) != 0 ||
	    (rc = pp_string(p, o, "description", 0, &desc)) != 0)
		return rc;
	v = pr_json_get(o, "scheme");
	if (v == NULL)
		return pp_missing(p, "scheme");
	if (!pr_json_is_string(v))
		return pp_fail_at(p, "scheme", "bad_type",
		    "expected a string, got %s", pp_typename(v));
	for (scheme = 1; scheme < PP_NSCHEMES; scheme++)
		if (strcmp(pr_json_str(v), pp_scheme_names[scheme]) == 0)
			break;
	if (scheme == PP_NSCHEMES)
		return pp_fail_at(p, "scheme", "bad_classification",
		    "expected one of \"ATC\", \"INN\", \"KTRU\", \"GMDN\", "
		    "\"GTIN\"");
	if ((rc = pp_string(p, o, "id",
	         PP_REQ | (scheme == PR_SCHEME_INN ? 0 : PP_ID), &id)) != 0)
		return rc;
	len = strlen(id);
	switch ((enum pr_scheme)scheme) {
	case PR_SCHEME_ATC:
		ok = pr_atc_valid(id, len);
		want = "an ATC code at level 1 to 5, such as \"J01CA04\"";
		break;
	case PR_SCHEME_INN:
		ok = len <= PP_INN_MAX;
		want = "an International Nonproprietary Name of at most 200 "
		       "bytes";
		break;
	case PR_SCHEME_KTRU:
		ok = pr_ktru_valid(id, len);
		want = "a KTRU code such as \"210230.400.000097\"";
		break;
	case PR_SCHEME_GMDN:
		ok = pr_gmdn_valid(id, len);
		want = "a GMDN term code: 5 or 6 digits";
		break;
	case PR_SCHEME_GTIN:
		ok = pr_gtin_valid(id, len);
		want = "a GTIN of 8, 12, 13 or 14 digits with a valid check "
		       "digit";
		break;
	default:
		ok = false;
		break;
	}
	if (!ok)
		return pp_fail_at(
		    p, "id", "bad_classification", "expected %s", want);
	out->scheme = (enum pr_scheme)scheme;
	out->id = id;
	out->description = desc;
	return 0;
}

static int
quantity(
    struct pr_parse *p, struct pr_json *o, unsigned itflags, struct pr_item *it)
{
	struct pr_json *v = pr_json_get(o, "quantity");
	int64_t i;
	int rc;

	if (v == NULL) {
		if (itflags & IT_QTY)
			return pp_missing(p, "quantity");
		return 0;
	}
	if (pr_json_is_integer(v)) {
		i = pr_json_int(v);
		if (i <= 0)
			return pp_fail_at(p, "quantity", "bad_quantity",
			    "the quantity must be greater than zero");
		if (i > INT64_MAX / PR_QTY_SCALE)
			return pp_fail_at(p, "quantity", "bad_quantity",
			    "the quantity is too large");
		it->quantity = (int64_t)i * PR_QTY_SCALE;
	} else if (pr_json_is_string(v)) {
		rc = pr_decimal_parse(pr_json_str(v), pr_json_len(v),
		    PR_QTY_DECIMALS, &it->quantity);
		if (rc == PR_ETRUNC)
			return pp_fail_at(p, "quantity", "too_many_decimals",
			    "a quantity has at most 3 decimal places");
		if (rc == PR_ERANGE)
			return pp_fail_at(p, "quantity", "bad_quantity",
			    "the quantity is too large");
		if (rc != 0)
			return pp_fail_at(p, "quantity", "bad_quantity",
			    "expected an integer or a decimal string such as "
			    "\"2.5\"");
	} else if (pr_json_is_real(v))
		return pp_fail_at(p, "quantity", "bad_quantity",
		    "write fractional quantities as decimal strings such as "
		    "\"2.5\", never as JSON numbers");
	else
		return pp_fail_at(p, "quantity", "bad_type",
		    "expected an integer or a decimal string, got %s",
		    pp_typename(v));
	if (it->quantity <= 0)
		return pp_fail_at(p, "quantity", "bad_quantity",
		    "the quantity must be greater than zero");
	it->has_quantity = true;
	return 0;
}

static int
unit(
    struct pr_parse *p, struct pr_json *o, unsigned itflags, struct pr_item *it)
{
	static const char *const fields[] = {"code", "name", NULL};
	struct pr_json *u = NULL;
	size_t mark;
	int rc;

	if ((rc = pp_object(
	         p, o, "unit", itflags & IT_UNIT ? PP_REQ : 0, &u)) != 0 ||
	    u == NULL)
		return rc;
	mark = pp_push(p, "unit");
	if ((rc = pp_fields(p, u, fields, NULL)) != 0 ||
	    (rc = pp_string(p, u, "code", PP_REQ | PP_ID, &it->unit_code)) !=
	        0 ||
	    (rc = pp_string(p, u, "name", 0, &it->unit_name)) != 0)
		goto out;
	if (!pr_unit_code_valid(it->unit_code, strlen(it->unit_code)))
		rc = pp_fail_at(p, "code", "bad_unit",
		    "expected a UN/CEFACT Recommendation 20 code such as "
		    "\"H87\" (piece), \"MGM\" (milligram) or \"EA\"");
out:
	pp_pop(p, mark);
	return rc;
}

static int
additional(struct pr_parse *p, struct pr_json *o, struct pr_item *it)
{
	struct pr_json *a = NULL, *c;
	size_t i, mark, m2;
	int rc;

	if ((rc = pp_array(p, o, "additionalClassifications", 0, &a)) != 0 ||
	    a == NULL)
		return rc;
	it->n_additional = pr_json_size(a);
	it->additional =
	    pp_alloc(p, it->n_additional * sizeof(*it->additional));
	if (it->additional == NULL)
		return pp_nomem(p);
	mark = pp_push(p, "additionalClassifications");
	pr_json_array_foreach(a, i, c)
	{
		m2 = pp_push_index(p, i);
		if (!pr_json_is_object(c))
			rc = pp_fail(p, "bad_type",
			    "expected an object, got %s", pp_typename(c));
		else
			rc = classification(p, c, &it->additional[i]);
		pp_pop(p, m2);
		if (rc != 0)
			break;
	}
	pp_pop(p, mark);
	return rc;
}

static int
item(
    struct pr_parse *p, struct pr_json *o, unsigned itflags, struct pr_item *it)
{
	static const char *const fields[] = {"id", "description",
	    "classification", "additionalClassifications", "quantity", "unit",
	    "unitPrice", "relatedLot", NULL};
	struct pr_json *c = NULL;
	size_t mark;
	int rc;

	if (!pr_json_is_object(o))
		return pp_fail(p, "bad_type", "expected an object, got %s",
		    pp_typename(o));
	if ((rc = pp_fields(p, o, fields, NULL)) != 0 ||
	    (rc = pp_string(p, o, "id", PP_REQ | PP_ID, &it->id)) != 0 ||
	    (rc = pp_string(p, o, "description", itflags & IT_DESC ? PP_REQ : 0,
	         &it->description)) != 0 ||
	    (rc = pp_object(p, o, "classification",
	         itflags & IT_CLASS ? PP_REQ : 0, &c)) != 0)
		return rc;
	if (c != NULL) {
		mark = pp_push(p, "classification");
		rc = classification(p, c, &it->classification);
		pp_pop(p, mark);
		if (rc != 0)
			return rc;
		it->has_classification = true;
	}
	if ((rc = additional(p, o, it)) != 0 ||
	    (rc = quantity(p, o, itflags, it)) != 0 ||
	    (rc = unit(p, o, itflags, it)) != 0 ||
	    (rc = pp_money(p, o, "unitPrice", itflags & IT_PRICE ? PP_REQ : 0,
	         &it->has_unit_price, &it->unit_price)) != 0 ||
	    (rc = pp_string(p, o, "relatedLot", PP_ID, &it->related_lot)) != 0)
		return rc;
	return 0;
}

/*
 * Duplicate and membership tests over the ids of an array of structs
 * (the string at base + i * stride + off), sorted so that a 64 KiB event
 * with thousands of items costs n log n, not n^2.
 */
struct idref {
	const char *s;
	size_t i;
};

static const char *
id_at(const void *base, size_t stride, size_t off, size_t i)
{
	return *(const char *const *)((const char *)base + i * stride + off);
}

static int
cmp_idref(const void *a, const void *b)
{
	const struct idref *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	if (c != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Fail with "duplicate_id" at /list/<i>/key for the first element, in
 * array order, whose id repeats an earlier one.
 */
static int
no_dups(struct pr_parse *p, const char *list, const void *base, size_t n,
    size_t stride, size_t off, const char *key, const char *what)
{
	struct idref *v;
	size_t i, first = n, mark;
	int rc;

	if (n < 2)
		return 0;
	if ((v = malloc(n * sizeof(*v))) == NULL)
		return pp_nomem(p);
	for (i = 0; i < n; i++) {
		v[i].s = id_at(base, stride, off, i);
		v[i].i = i;
	}
	qsort(v, n, sizeof(*v), cmp_idref);
	/* In a run of equal ids the second element is the first repeat. */
	for (i = 1; i < n; i++)
		if (strcmp(v[i].s, v[i - 1].s) == 0 &&
		    (i < 2 || strcmp(v[i - 1].s, v[i - 2].s) != 0) &&
		    v[i].i < first)
			first = v[i].i;
	free(v);
	if (first == n)
		return 0;
	mark = pp_push(p, list);
	pp_push_index(p, first);
	rc = pp_fail_at(p, key, "duplicate_id", "%s \"%.*s\" appears twice",
	    what, pp_clip(id_at(base, stride, off, first), 96),
	    id_at(base, stride, off, first));
	pp_pop(p, mark);
	return rc;
}

/* A sorted array of ids for membership tests. */
struct idset {
	const char **v;
	size_t n;
};

static int
idset_init(
    struct idset *set, const void *base, size_t n, size_t stride, size_t off)
{
	size_t i;

	set->n = n;
	if ((set->v = malloc((n > 0 ? n : 1) * sizeof(*set->v))) == NULL)
		return PR_ENOMEM;
	for (i = 0; i < n; i++)
		set->v[i] = id_at(base, stride, off, i);
	qsort(set->v, n, sizeof(*set->v), cmp_str);
	return 0;
}

static bool
idset_has(const struct idset *set, const char *id)
{
	return bsearch(&id, set->v, set->n, sizeof(*set->v), cmp_str) != NULL;
}

int
pp_items(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, unsigned itflags, struct pr_item **out, size_t *n)
{
	struct pr_item *items;
	struct pr_json *a = NULL, *o;
	size_t i, mark, m2;
	int rc;

	if ((rc = pp_array(p, obj, key, flags, &a)) != 0)
		return rc;
	if (a == NULL) {
		*out = NULL;
		*n = 0;
		return 0;
	}
	items = pp_alloc(p, pr_json_size(a) * sizeof(*items));
	if (items == NULL)
		return pp_nomem(p);
	mark = pp_push(p, key);
	pr_json_array_foreach(a, i, o)
	{
		m2 = pp_push_index(p, i);
		rc = item(p, o, itflags, &items[i]);
		pp_pop(p, m2);
		if (rc != 0)
			break;
	}
	pp_pop(p, mark);
	if (rc != 0 ||
	    (rc = no_dups(p, key, items, pr_json_size(a), sizeof(*items),
	         offsetof(struct pr_item, id), "id", "item id")) != 0)
		return rc;
	*out = items;
	*n = pr_json_size(a);
	return 0;
}

int
pp_parties(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, struct pr_party **out, size_t *n)
{
	struct pr_party *parties;
	struct pr_json *a = NULL, *o;
	size_t i, mark, m2;
	int rc;

	if ((rc = pp_array(p, obj, key, flags, &a)) != 0)
		return rc;
	if (a == NULL) {
		*out = NULL;
		*n = 0;
		return 0;
	}
	parties = pp_alloc(p, pr_json_size(a) * sizeof(*parties));
	if (parties == NULL)
		return pp_nomem(p);
	mark = pp_push(p, key);
	pr_json_array_foreach(a, i, o)
	{
		m2 = pp_push_index(p, i);
		if (!pr_json_is_object(o))
			rc = pp_fail(p, "bad_type",
			    "expected an object, got %s", pp_typename(o));
		else
			rc = pp_party_value(p, o, &parties[i]);
		pp_pop(p, m2);
		if (rc != 0)
			break;
	}
	pp_pop(p, mark);
	if (rc != 0 ||
	    (rc = no_dups(p, key, parties, pr_json_size(a), sizeof(*parties),
	         offsetof(struct pr_party, id), "id", "party")) != 0)
		return rc;
	*out = parties;
	*n = pr_json_size(a);
	return 0;
}

static int
lot(struct pr_parse *p, struct pr_json *o, struct pr_lot *l)
{
	static const char *const fields[] = {"id", "title", "value", NULL};
	int rc;

	if (!pr_json_is_object(o))
		return pp_fail(p, "bad_type", "expected an object, got %s",
		    pp_typename(o));
	if ((rc = pp_fields(p, o, fields, NULL)) != 0 ||
	    (rc = pp_string(p, o, "id", PP_REQ | PP_ID, &l->id)) != 0 ||
	    (rc = pp_string(p, o, "title", 0, &l->title)) != 0 ||
	    (rc = pp_money(p, o, "value", 0, &l->has_value, &l->value)) != 0)
		return rc;
	return 0;
}

int
pp_lots(struct pr_parse *p, struct pr_json *obj, unsigned flags,
    struct pr_lot **out, size_t *n)
{
	struct pr_lot *lots;
	struct pr_json *a = NULL, *o;
	size_t i, mark, m2;
	int rc = 0;

	if ((rc = pp_array(p, obj, "lots", flags, &a)) != 0 || a == NULL)
		return rc;
	if ((lots = pp_alloc(p, pr_json_size(a) * sizeof(*lots))) == NULL)
		return pp_nomem(p);
	mark = pp_push(p, "lots");
	pr_json_array_foreach(a, i, o)
	{
		m2 = pp_push_index(p, i);
		rc = lot(p, o, &lots[i]);
		pp_pop(p, m2);
		if (rc != 0)
			break;
	}
	pp_pop(p, mark);
	if (rc != 0 ||
	    (rc = no_dups(p, "lots", lots, pr_json_size(a), sizeof(*lots),
	         offsetof(struct pr_lot, id), "id", "lot id")) != 0)
		return rc;
	*out = lots;
	*n = pr_json_size(a);
	return 0;
}

static const char *const milestone_types[] = {"", "delivery", "payment"};

static int
milestone(struct pr_parse *p, struct pr_json *o, struct pr_milestone *m)
{
	static const char *const fields[] = {
	    "id", "title", "type", "dueDate", "value", "items", NULL};
	int type, rc;

	if (!pr_json_is_object(o))
		return pp_fail(p, "bad_type", "expected an object, got %s",
		    pp_typename(o));
	if ((rc = pp_fields(p, o, fields, NULL)) != 0 ||
	    (rc = pp_string(p, o, "id", PP_REQ | PP_ID, &m->id)) != 0 ||
	    (rc = pp_string(p, o, "title", 0, &m->title)) != 0 ||
	    (rc = pp_enum(p, o, "type", PP_REQ, milestone_types, 3, &type)) !=
	        0 ||
	    (rc = pp_date(p, o, "dueDate", PP_REQ, NULL, &m->due_date)) != 0 ||
	    (rc = pp_money(p, o, "value", 0, &m->has_value, &m->value)) != 0 ||
	    (rc = pp_items(p, o, "items", 0, IT_QTY, &m->items, &m->n_items)) !=
	        0)
		return rc;
	m->type = (enum pr_milestone_type)type;
	return 0;
}

int
pp_milestones(struct pr_parse *p, struct pr_json *obj, unsigned flags,
    struct pr_milestone **out, size_t *n)
{
	struct pr_milestone *ms;
	struct pr_json *a = NULL, *o;
	size_t i, mark, m2;
	int rc = 0;

	if ((rc = pp_array(p, obj, "milestones", flags, &a)) != 0 || a == NULL)
		return rc;
	if ((ms = pp_alloc(p, pr_json_size(a) * sizeof(*ms))) == NULL)
		return pp_nomem(p);
	mark = pp_push(p, "milestones");
	pr_json_array_foreach(a, i, o)
	{
		m2 = pp_push_index(p, i);
		rc = milestone(p, o, &ms[i]);
		pp_pop(p, m2);
		if (rc != 0)
			break;
	}
	pp_pop(p, mark);
	if (rc != 0 ||
	    (rc = no_dups(p, "milestones", ms, pr_json_size(a), sizeof(*ms),
	         offsetof(struct pr_milestone, id), "id", "milestone id")) != 0)
		return rc;
	*out = ms;
	*n = pr_json_size(a);
	return 0;
}

static const char *const bid_statuses[] = {"", "valid", "disqualified"};

static int
bid_result(struct pr_parse *p, struct pr_json *o, struct pr_bid_result *b)
{
	static const char *const fields[] = {
	    "supplier", "status", "rank", "reason", "value", "reveal", NULL};
	struct pr_json *r;
	int status, rc;

	if (!pr_json_is_object(o))
		return pp_fail(p, "bad_type", "expected an object, got %s",
		    pp_typename(o));
	if ((rc = pp_fields(p, o, fields, NULL)) != 0 ||
	    (rc = pp_party(p, o, "supplier", PP_REQ, &b->supplier)) != 0 ||
	    (rc = pp_enum(p, o, "status", PP_REQ, bid_statuses, 3, &status)) !=
	        0 ||
	    (rc = pp_string(p, o, "reason", PP_TEXT, &b->reason)) != 0 ||
	    (rc = pp_money(p, o, "value", 0, &b->has_value, &b->value)) != 0 ||
	    (rc = pp_hash(p, o, "reveal", 0, &b->has_reveal, b->reveal)) != 0)
		return rc;
	b->status = (enum pr_bid_status)status;
	r = pr_json_get(o, "rank");
	if (b->status == PR_BID_DISQUALIFIED) {
		if (r != NULL)
			return pp_fail_at(p, "rank", "bad_rank",
			    "a disqualified bid has no rank");
		if (b->reason == NULL)
			return pp_missing(p, "reason");
		return 0;
	}
	if (r == NULL)
		return pp_missing(p, "rank");
	if (!pr_json_is_integer(r))
		return pp_fail_at(p, "rank", "bad_type",
		    "expected an integer, got %s", pp_typename(r));
	if (pr_json_int(r) < 1)
		return pp_fail_at(
		    p, "rank", "bad_rank", "ranks start at 1 (the best bid)");
	b->rank = pr_json_int(r);
	return 0;
}

/* Ranks of the valid bids are exactly 1..n, each once. */
static int
ranks(struct pr_parse *p, const struct pr_bid_result *bids, size_t n)
{
	size_t i, nvalid = 0, mark;
	bool *seen;
	int rc = 0;

	for (i = 0; i < n; i++)
		nvalid += bids[i].status == PR_BID_VALID;
	if ((seen = calloc(nvalid + 1, sizeof(*seen))) == NULL)
		return pp_nomem(p);
	for (i = 0; i < n && rc == 0; i++) {
		if (bids[i].status != PR_BID_VALID)
			continue;
		mark = pp_push(p, "bids");
		pp_push_index(p, i);
		if (bids[i].rank > (int64_t)nvalid)
			rc = pp_fail_at(p, "rank", "bad_rank",
			    "ranks of the %zu valid bids are 1 to %zu without "
			    "gaps",
			    nvalid, nvalid);
		else if (seen[bids[i].rank])
			rc = pp_fail_at(p, "rank", "bad_rank",
			    "rank %" PRId64 " is given twice", bids[i].rank);
		else
			seen[bids[i].rank] = true;
		pp_pop(p, mark);
	}
	free(seen);
	return rc;
}

int
pp_bid_results(struct pr_parse *p, struct pr_json *obj, unsigned flags,
    struct pr_bid_result **out, size_t *n)
{
	struct pr_bid_result *bids;
	struct pr_json *a = NULL, *o;
	size_t i, mark, m2;
	int rc = 0;

	if ((rc = pp_array(p, obj, "bids", flags, &a)) != 0 || a == NULL)
		return rc;
	if ((bids = pp_alloc(p, pr_json_size(a) * sizeof(*bids))) == NULL)
		return pp_nomem(p);
	mark = pp_push(p, "bids");
	pr_json_array_foreach(a, i, o)
	{
		m2 = pp_push_index(p, i);
		rc = bid_result(p, o, &bids[i]);
		pp_pop(p, m2);
		if (rc != 0)
			break;
	}
	pp_pop(p, mark);
	if (rc != 0 ||
	    (rc = no_dups(p, "bids", bids, pr_json_size(a), sizeof(*bids),
	         offsetof(struct pr_bid_result, supplier.id), "supplier",
	         "supplier")) != 0 ||
	    (rc = ranks(p, bids, pr_json_size(a))) != 0)
		return rc;
	*out = bids;
	*n = pr_json_size(a);
	return 0;
}

int
pp_check_lot_refs(struct pr_parse *p, const struct pr_event *ev)
{
	struct idset lots;
	size_t i, mark;
	int rc = 0;

	if (idset_init(&lots, ev->lots, ev->n_lots, sizeof(*ev->lots),
	        offsetof(struct pr_lot, id)) != 0)
		return pp_nomem(p);
	for (i = 0; i < ev->n_items && rc == 0; i++) {
		if (ev->items[i].related_lot == NULL ||
		    idset_has(&lots, ev->items[i].related_lot))
			continue;
		mark = pp_push(p, "items");
		pp_push_index(p, i);
		rc = pp_fail_at(p, "relatedLot", "bad_reference",
		    ev->n_lots == 0 ? "no lots are defined in this event"
		                    : "no lot has this id");
		pp_pop(p, mark);
	}
	free(lots.v);
	return rc;
}

int
pp_check_milestone_refs(struct pr_parse *p, const struct pr_event *ev)
{
	const struct pr_milestone *m;
	struct idset items;
	size_t i, k, mark;
	int rc = 0;

	if (ev->n_items == 0)
		return 0;
	if (idset_init(&items, ev->items, ev->n_items, sizeof(*ev->items),
	        offsetof(struct pr_item, id)) != 0)
		return pp_nomem(p);
	for (i = 0; i < ev->n_milestones && rc == 0; i++) {
		m = &ev->milestones[i];
		for (k = 0; k < m->n_items && rc == 0; k++) {
			if (idset_has(&items, m->items[k].id))
				continue;
			mark = pp_push(p, "milestones");
			pp_push_index(p, i);
			pp_push(p, "items");
			pp_push_index(p, k);
			rc = pp_fail_at(p, "id", "bad_reference",
			    "no item of this event has id \"%s\"",
			    m->items[k].id);
			pp_pop(p, mark);
		}
	}
	free(items.v);
	return rc;
}

int
pp_check_winners(struct pr_parse *p, const struct pr_event *ev)
{
	struct idset valid;
	size_t i, n = 0, mark;
	const char **v;
	int rc = 0;

	if (ev->n_bids == 0)
		return 0;
	if ((v = malloc(ev->n_bids * sizeof(*v))) == NULL)
		return pp_nomem(p);
	for (i = 0; i < ev->n_bids; i++)
		if (ev->bids[i].status == PR_BID_VALID)
			v[n++] = ev->bids[i].supplier.id;
	if (idset_init(&valid, v, n, sizeof(*v), 0) != 0) {
		free(v);
		return pp_nomem(p);
	}
	for (i = 0; i < ev->n_suppliers && rc == 0; i++) {
		if (idset_has(&valid, ev->suppliers[i].id))
			continue;
		mark = pp_push(p, "suppliers");
		pp_push_index(p, i);
		rc = pp_fail_at(p, "id", "bad_reference",
		    "a winner must have a valid bid in \"bids\"");
		pp_pop(p, mark);
	}
	free(valid.v);
	free(v);
	return rc;
}

int
pp_check_value(struct pr_parse *p, const struct pr_event *ev)
{
	struct pr_event_totals t;
	char want[PR_DECIMAL_STRLEN], got[PR_DECIMAL_STRLEN];
	size_t mark;
	int rc;

	if (pr_event_totals(ev, &t) != 0)
		return pp_fail_at(p, "items", "money_overflow",
		    "the sum of quantity x unitPrice over the items exceeds "
		    "the largest representable amount");
	if (!t.has_value || !t.items_priced || t.value == t.items_total)
		return 0;
	pr_decimal_format(t.items_total, t.exponent, want, sizeof(want));
	pr_decimal_format(t.value, t.exponent, got, sizeof(got));
	mark = pp_push(p, "value");
	rc = pp_fail_at(p, "amount", "value_mismatch",
	    "value is %s %s but the items' quantity x unitPrice add up to "
	    "%s %s",
	    got, t.currency, want, t.currency);
	pp_pop(p, mark);
	return rc;
}
