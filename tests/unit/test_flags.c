/*
 * Unit tests: the red-flag engine (daemon/flags_*.c), without a server:
 * events are parsed and folded into the aggregates directly, and the
 * indicators evaluated with their thresholds at and around the limits.
 * The red-flag sources are compiled in (their static functions are
 * what is tested); the few HTTP helpers the query handler calls are
 * replaced by the stubs in flags_test.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/enc.h"

#include "daemon/flags_eval.c"
#include "daemon/flags_index.c"
#include "daemon/flags_mem.c"
#include "daemon/flags_ref.c"
#include "daemon/flags_totals.c"
#include "flags_test.h"
#include "daemon/hmap.h"

json_t *
timej(int64_t ms)
{
	char s[PR_TIME_STRLEN];

	pr_time_format(ms, s);
	return json_string(s);
}

/* ---- fixtures ---- */

#define BUYER "KZ-BIN-090640001233"
#define SUP_A "KZ-BIN-151140002468"
#define SUP_B "KZ-BIN-170540008313"
#define SUP_C "KZ-BIN-191040009875"
#define DAY "T04:00:00Z"

static struct flags *
fl(void)
{
	struct flags *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->done, NULL);
	assert_int_equal(fl_init(f, NULL), 0);
	f->refmap = hmap_new();
	f->conf.min_bidders = 2;
	f->conf.min_tender_days = 15;
	f->conf.close_bid_percent = 1;
	f->conf.discount_percent = 25;
	f->conf.min_disqualified = 1;
	f->conf.price_percent = 50;
	f->conf.price_min_obs = 5;
	f->conf.amend_percent = 10;
	f->conf.amendments = 3;
	f->conf.buyer_share_percent = 50;
	f->conf.item_share_percent = 50;
	f->conf.share_min_contracts = 5;
	f->conf.direct_threshold = 1572800000;
	memcpy(f->conf.direct_currency, "KZT", 4);
	f->conf.direct_margin_percent = 10;
	return f;
}

static const char *
hexleaf(uint64_t idx, char out[65])
{
	uint8_t leaf[PR_HASH_LEN];

	leaf_of(idx, leaf);
	pr_hex_encode(leaf, PR_HASH_LEN, out);
	return out;
}

static void
tender(struct flags *f, uint64_t idx, const char *ocid, const char *method,
    const char *start, const char *end)
{
	ev(f, idx,
	    "{\"ocid\":\"%s\",\"kind\":\"tender\",\"date\":\"2025-03-01%s\","
	    "\"buyer\":{\"id\":\"" BUYER "\"},\"items\":[{\"id\":\"1\","
	    "\"description\":\"x\",\"classification\":{\"scheme\":\"ATC\","
	    "\"id\":\"J01CA04\"},\"quantity\":100,\"unit\":{\"code\":\"H87\"}}]"
	    ","
	    "\"value\":{\"amount\":\"1000.00\",\"currency\":\"KZT\"},"
	    "\"procurementMethod\":\"%s\",\"awardCriteria\":\"priceOnly\","
	    "\"tenderPeriod\":{\"startDate\":\"%s%s\",\"endDate\":\"%s%s\"}}",
	    ocid, DAY, method, start, DAY, end, DAY);
}

static void
bid(struct flags *f, uint64_t idx, const char *ocid, const char *sup,
    const char *price)
{
	ev(f, idx,
	    "{\"ocid\":\"%s\",\"kind\":\"bid.commit\",\"date\":\"2025-03-02%"
	    "s\","
	    "\"parent\":\"%064d\",\"supplier\":{\"id\":\"%s\"},"
	    "\"commitment\":\"%064d\"}",
	    ocid, DAY, 1, sup, 2);
	ev(f, idx + 1,
	    "{\"ocid\":\"%s\",\"kind\":\"bid.reveal\",\"date\":\"2025-03-20%"
	    "s\","
	    "\"parent\":\"%064d\",\"supplier\":{\"id\":\"%s\"},\"nonce\":"
	    "\"%064d\",\"items\":[{\"id\":\"1\",\"classification\":{\"scheme\":"
	    "\"ATC\",\"id\":\"J01CA04\"},\"quantity\":1,\"unitPrice\":{"
	    "\"amount\":\"%s\",\"currency\":\"KZT\"}}],\"value\":{\"amount\":"
	    "\"%s\",\"currency\":\"KZT\"}}",
	    ocid, DAY, 1, sup, 3, price, price);
}

/* Evaluate every indicator with the query q (NULL: no filter). */
static struct eval
run(struct flags *f, struct query *q)
{
	static struct query all;
	struct eval e;

	memset(&all, 0, sizeof(all));
	all.ind = -1;
	all.to = INT64_MAX;
	all.limit = 1000;
	memset(&e, 0, sizeof(e));
	e.f = f;
	e.q = q ? q : &all;
	evaluate(&e);
	assert_int_equal(e.rc, 0);
	return e;
}

static size_t
count(const struct eval *e, enum ind ind)
{
	size_t i, n = 0;

	for (i = 0; i < e->n; i++)
		n += e->v[i].ind == ind;
	return n;
}

static const struct hit *
find(const struct eval *e, enum ind ind)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (e->v[i].ind == ind)
			return &e->v[i];
	return NULL;
}

static void
done(struct eval *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->v[i].explanation);
	free(e->v);
}

/* ---- tests ---- */

static void
test_reference_list(void **state)
{
	static const char good[] = "# caps\n"
	                           "item,unit,price,currency\n"
	                           "\n"
	                           "ATC:J01CA04, H87 ,35.00,KZT # amoxicillin\n"
	                           "INN:enoxaparin sodium,H87,1437.5,KZT\n";
	static const char *bad[] = {
	    "ATC:J01CA04,H87,35.00\n",
	    "ATC:J01CA04,H87,35.00,KZT,extra\n",
	    "J01CA04,H87,35.00,KZT\n",
	    "ATC:,H87,35.00,KZT\n",
	    "ATC:J01CA04,h87,35.00,KZT\n",
	    "ATC:J01CA04,H87,35.00,XXX\n",
	    "ATC:J01CA04,H87,35.001,KZT\n",
	    "ATC:J01CA04,H87,0,KZT\n",
	    "ATC:J01CA04,H87,-1.00,KZT\n",
	    "ATC:J01CA04,H87,1e3,KZT\n",
	    "ATC:J01CA04,H87,35.00,KZT\nATC:J01CA04,H87,36.00,KZT\n",
	};
	struct flags *f = fl();
	const struct fl_ref *r;
	char nul[] = "ATC:J01CA04,H87,35.00,KZT\nA\0B\n", longline[2000];
	size_t i;

	(void)state;
	assert_int_equal(fl_ref_parse(f, good, strlen(good), "good"), 0);
	assert_int_equal(f->nrefs, 2);
	r = fl_ref_find(f, fl_lookup(f, "ATC:J01CA04"), fl_lookup(f, "H87"),
	    fl_lookup(f, "KZT"));
	assert_non_null(r);
	assert_int_equal(r->price, 3500);
	r = fl_ref_find(f, fl_lookup(f, "INN:enoxaparin sodium"),
	    fl_lookup(f, "H87"), fl_lookup(f, "KZT"));
	assert_non_null(r);
	assert_int_equal(r->price, 143750);
	/* Another unit is another price: never compared. */
	assert_null(fl_ref_find(f, fl_lookup(f, "ATC:J01CA04"),
	    fl_intern(f, "PK"), fl_lookup(f, "KZT")));
	flags_free(f);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = fl();
		assert_int_equal(
		    fl_ref_parse(f, bad[i], strlen(bad[i]), "bad"), PR_ECONFIG);
		flags_free(f);
	}
	f = fl();
	assert_int_equal(
	    fl_ref_parse(f, nul, sizeof(nul) - 1, "nul"), PR_ECONFIG);
	flags_free(f);
	memset(longline, 'A', sizeof(longline));
	f = fl();
	assert_int_equal(
	    fl_ref_parse(f, longline, sizeof(longline), "long"), PR_ECONFIG);
	flags_free(f);
}

static void
test_single_bid_and_period(void **state)
{
	struct flags *f = fl();
	struct eval e;
	const struct hit *h;

	(void)state;
	tender(f, 10, "ocds-abc123-1", "open", "2025-03-01", "2025-03-06");
	bid(f, 11, "ocds-abc123-1", SUP_A, "100.00");
	/* No flag before the award: the outcome is not known. */
	e = run(f, NULL);
	assert_int_equal(count(&e, I_SINGLE_BID), 0);
	assert_int_equal(count(&e, I_SHORT_PERIOD), 1);
	done(&e);
	ev(f, 13,
	    "{\"ocid\":\"ocds-abc123-1\",\"kind\":\"award\",\"date\":"
	    "\"2025-04-01" DAY "\",\"parent\":\"%064d\",\"buyer\":{\"id\":"
	    "\"" BUYER "\"},\"id\":\"A1\",\"suppliers\":[{\"id\":\"" SUP_A
	    "\"}],\"items\":[{\"id\":\"1\",\"description\":\"x\","
	    "\"classification\":{\"scheme\":\"ATC\",\"id\":\"J01CA04\"},"
	    "\"quantity\":1,\"unit\":{\"code\":\"H87\"},\"unitPrice\":{"
	    "\"amount\":\"100.00\",\"currency\":\"KZT\"}}],\"value\":{"
	    "\"amount\":\"100.00\",\"currency\":\"KZT\"}}",
	    1);
	e = run(f, NULL);
	assert_non_null(h = find(&e, I_SINGLE_BID));
	assert_int_equal(h->nentries, 4);
	assert_int_equal(h->entries[0], 10);
	assert_int_equal(h->entries[3], 13);
	assert_string_equal(h->value, "1");
	assert_non_null(h = find(&e, I_SHORT_PERIOD));
	assert_string_equal(h->value, "5.0");
	done(&e);
	/* 15 days exactly is long enough; a direct purchase is not judged. */
	tender(f, 20, "ocds-abc123-2", "open", "2025-03-01", "2025-03-16");
	tender(f, 21, "ocds-abc123-3", "direct", "2025-03-01", "2025-03-02");
	e = run(f, NULL);
	assert_int_equal(count(&e, I_SHORT_PERIOD), 1);
	done(&e);
	flags_free(f);
}

/* An award of the three bids in ocds-abc123-4 with values a, b, c. */
static void
award3(struct flags *f, uint64_t idx, const char *a, const char *b,
    const char *c, const char *status_c)
{
	char h1[65], h2[65], h3[65];

	ev(f, idx,
	    "{\"ocid\":\"ocds-abc123-4\",\"kind\":\"award\",\"date\":"
	    "\"2025-04-01" DAY "\",\"parent\":\"%064d\",\"buyer\":{\"id\":"
	    "\"" BUYER "\"},\"id\":\"A%llu\",\"suppliers\":[{\"id\":\"" SUP_A
	    "\"}],\"items\":[{\"id\":\"1\",\"description\":\"x\","
	    "\"classification\":{\"scheme\":\"ATC\",\"id\":\"J01CA04\"},"
	    "\"quantity\":1,\"unit\":{\"code\":\"H87\"},\"unitPrice\":{"
	    "\"amount\":\"%s\",\"currency\":\"KZT\"}}],\"value\":{"
	    "\"amount\":\"%s\",\"currency\":\"KZT\"},\"bids\":["
	    "{\"supplier\":{\"id\":\"" SUP_A "\"},\"status\":\"valid\","
	    "\"rank\":1,\"value\":{\"amount\":\"%s\",\"currency\":\"KZT\"},"
	    "\"reveal\":\"%s\"},"
	    "{\"supplier\":{\"id\":\"" SUP_B "\"},\"status\":\"valid\","
	    "\"rank\":2,\"value\":{\"amount\":\"%s\",\"currency\":\"KZT\"},"
	    "\"reveal\":\"%s\"},"
	    "{\"supplier\":{\"id\":\"" SUP_C "\"},\"status\":\"%s\",%s"
	    "\"value\":{\"amount\":\"%s\",\"currency\":\"KZT\"},"
	    "\"reveal\":\"%s\"}]}",
	    1, (unsigned long long)idx, a, a, a, hexleaf(2, h1), b,
	    hexleaf(4, h2), status_c,
	    strcmp(status_c, "valid") == 0 ? "\"rank\":3,"
	                                   : "\"reason\":\"No certificate\",",
	    c, hexleaf(6, h3));
}

static void
test_bid_evaluation(void **state)
{
	struct flags *f = fl();
	struct eval e;
	const struct hit *h;

	(void)state;
	tender(f, 0, "ocds-abc123-4", "open", "2025-03-01", "2025-03-31");
	bid(f, 1, "ocds-abc123-4", SUP_A, "100.00");
	bid(f, 3, "ocds-abc123-4", SUP_B, "100.99");
	bid(f, 5, "ocds-abc123-4", SUP_C, "100.99");
	/* 0.99% above the winner: close; 1.00% would not be. */
	award3(f, 7, "100.00", "100.99", "120.00", "valid");
	e = run(f, NULL);
	assert_non_null(h = find(&e, I_CLOSE_RUNNER_UP));
	assert_string_equal(h->value, "0.99");
	assert_int_equal(h->nentries, 3); /* the reveals and the award */
	assert_int_equal(h->entries[0], 2);
	assert_int_equal(h->entries[1], 4);
	assert_int_equal(h->entries[2], 7);
	/* Two suppliers revealed 100.99. */
	assert_non_null(h = find(&e, I_IDENTICAL_BIDS));
	assert_int_equal(h->nothers, 2);
	assert_int_equal(h->supplier, FL_NONE);
	assert_int_equal(count(&e, I_HEAVY_DISCOUNT), 0);
	assert_int_equal(count(&e, I_NO_COMMITMENT), 0);
	done(&e);
	award3(f, 8, "100.00", "101.00", "125.00", "valid");
	e = run(f, NULL);
	assert_int_equal(count(&e, I_CLOSE_RUNNER_UP), 1); /* award 7 only */
	done(&e);
	/* Runner-up 25% above: not yet heavy; 25.01% is. */
	award3(f, 9, "100.00", "125.00", "130.00", "valid");
	award3(f, 10, "100.00", "125.01", "130.00", "valid");
	e = run(f, NULL);
	assert_non_null(h = find(&e, I_HEAVY_DISCOUNT));
	assert_int_equal(h->entries[2], 10);
	assert_int_equal(count(&e, I_HEAVY_DISCOUNT), 1);
	done(&e);
	/* The lowest bid disqualified under price-only criteria. */
	award3(f, 11, "100.00", "110.00", "90.00", "disqualified");
	e = run(f, NULL);
	assert_non_null(h = find(&e, I_LOWEST_DISQUALIFIED));
	assert_int_equal(h->supplier, fl_lookup(f, SUP_C));
	assert_int_equal(h->entries[0], 2); /* the winner's reveal */
	assert_int_equal(h->entries[1], 6); /* the lowest bid's */
	assert_int_equal(h->entries[2], 11);
	assert_int_equal(count(&e, I_OTHERS_DISQUALIFIED), 0);
	done(&e);
	flags_free(f);
}

static void
contract(struct flags *f, uint64_t idx, const char *ocid, const char *sup,
    const char *unit, const char *price, long qty, const char *date)
{
	char value[40];
	long p = strtol(price, NULL, 10);

	snprintf(value, sizeof(value), "%ld.00", p * qty);
	ev(f, idx,
	    "{\"ocid\":\"%s\",\"kind\":\"contract\",\"date\":\"%s%s\","
	    "\"parent\":\"%064d\",\"buyer\":{\"id\":\"" BUYER "\"},"
	    "\"supplier\":{\"id\":\"%s\"},\"id\":\"C1\",\"awardID\":\"A1\","
	    "\"items\":[{\"id\":\"1\",\"description\":\"x\",\"classification\":"
	    "{\"scheme\":\"ATC\",\"id\":\"J01CA04\"},"
	    "\"additionalClassifications"
	    "\":[{\"scheme\":\"INN\",\"id\":\"amoxicillin\"}],\"quantity\":%ld,"
	    "\"unit\":{\"code\":\"%s\"},\"unitPrice\":{\"amount\":\"%s\","
	    "\"currency\":\"KZT\"}}],\"value\":{\"amount\":\"%s\",\"currency\":"
	    "\"KZT\"},\"period\":{\"startDate\":\"2025-01-01T00:00:00Z\","
	    "\"endDate\":\"2025-12-31T00:00:00Z\"},\"milestones\":[{\"id\":"
	    "\"m1\",\"title\":\"Delivery\",\"type\":\"delivery\",\"dueDate\":"
	    "\"2025-06-01T00:00:00Z\"}],\"fundingSource\":\"OSMS\"}",
	    ocid, date, DAY, 1, sup, qty, unit, price, value);
}

static void
test_prices(void **state)
{
	struct flags *f = fl();
	const char *ref = "INN:amoxicillin,H87,140.00,KZT\n";
	struct eval e;
	const struct hit *h;
	char ocid[32];
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		snprintf(ocid, sizeof(ocid), "ocds-abc123-p%d", i);
		contract(f, (uint64_t)(100 + i), ocid, i % 2 ? SUP_A : SUP_B,
		    "H87", "100.00", 10, "2025-02-01");
	}
	/* Per pack, not per capsule: never compared with the others. */
	contract(
	    f, 110, "ocds-abc123-pk", SUP_C, "PK", "2000.00", 1, "2025-02-01");
	/* 1.5 times the median is not above it; 151 is. */
	contract(
	    f, 111, "ocds-abc123-q1", SUP_C, "H87", "150.00", 1, "2025-02-01");
	e = run(f, NULL);
	assert_int_equal(count(&e, I_PRICE_MEDIAN), 0);
	done(&e);
	contract(
	    f, 112, "ocds-abc123-q2", SUP_C, "H87", "151.00", 1, "2025-02-01");
	e = run(f, NULL);
	assert_int_equal(count(&e, I_PRICE_MEDIAN), 1);
	assert_non_null(h = find(&e, I_PRICE_MEDIAN));
	assert_string_equal(h->value, "1.51");
	assert_int_equal(h->entries[0], 112);
	assert_int_equal(h->item, fl_lookup(f, "ATC:J01CA04"));
	done(&e);
	/* The reference list matches the INN, an additional code. */
	assert_int_equal(fl_ref_parse(f, ref, strlen(ref), "ref"), 0);
	e = run(f, NULL);
	assert_int_equal(count(&e, I_PRICE_REFERENCE), 2);
	assert_non_null(h = find(&e, I_PRICE_REFERENCE));
	assert_int_equal(h->item, fl_lookup(f, "INN:amoxicillin"));
	done(&e);
	/* An amendment replacing the lines retires the old price. */
	ev(f, 113,
	    "{\"ocid\":\"ocds-abc123-q2\",\"kind\":\"contract.amend\","
	    "\"date\":\"2025-03-01" DAY "\",\"parent\":\"%064d\",\"buyer\":"
	    "{\"id\":\"" BUYER "\"},\"supplier\":{\"id\":\"" SUP_C "\"},"
	    "\"contractID\":\"C1\",\"rationale\":\"Price corrected\","
	    "\"items\":[{\"id\":\"1\",\"description\":\"x\",\"classification\":"
	    "{\"scheme\":\"ATC\",\"id\":\"J01CA04\"},\"quantity\":1,\"unit\":"
	    "{\"code\":\"H87\"},\"unitPrice\":{\"amount\":\"100.00\","
	    "\"currency\":\"KZT\"}}],\"value\":{\"amount\":\"100.00\","
	    "\"currency\":\"KZT\"}}",
	    1);
	e = run(f, NULL);
	assert_int_equal(count(&e, I_PRICE_MEDIAN), 0);
	assert_int_equal(count(&e, I_PRICE_REFERENCE), 1); /* the 150 */
	done(&e);
	flags_free(f);
}

static void
test_contract_life(void **state)
{
	struct flags *f = fl();
	struct eval e;
	const struct hit *h;
	const char *o = "ocds-abc123-c";

	(void)state;
	ev(f, 1,
	    "{\"ocid\":\"%s\",\"kind\":\"award\",\"date\":\"2025-04-01" DAY
	    "\",\"parent\":\"%064d\",\"buyer\":{\"id\":\"" BUYER "\"},\"id\":"
	    "\"A1\",\"suppliers\":[{\"id\":\"" SUP_A "\"}],\"items\":[{\"id\":"
	    "\"1\",\"description\":\"x\",\"classification\":{\"scheme\":"
	    "\"ATC\",\"id\":\"J01CA04\"},\"quantity\":10,\"unit\":{\"code\":"
	    "\"H87\"},\"unitPrice\":{\"amount\":\"90.00\",\"currency\":"
	    "\"KZT\"}}],\"value\":{\"amount\":\"900.00\",\"currency\":\"KZT\"}"
	    "}",
	    o, 1);
	contract(f, 2, o, SUP_A, "H87", "100.00", 10, "2025-04-10");
	e = run(f, NULL);
	assert_non_null(h = find(&e, I_CONTRACT_ABOVE_AWARD));
	assert_string_equal(h->value, "11.1");
	done(&e);
#define AMEND(idx, amount)                                                     \
	ev(f, idx,                                                             \
	    "{\"ocid\":\"%s\",\"kind\":\"contract.amend\",\"date\":"           \
	    "\"2025-05-0%d" DAY "\",\"parent\":\"%064d\",\"buyer\":{\"id\":"   \
	    "\"" BUYER "\"},\"supplier\":{\"id\":\"" SUP_A "\"},"              \
	    "\"contractID\":\"C1\",\"rationale\":\"More\",\"value\":{"         \
	    "\"amount\":\"" amount "\",\"currency\":\"KZT\"}}",                \
	    o, (int)(idx), 1)
	AMEND(3, "1100.00"); /* +10%: not above the threshold */
	e = run(f, NULL);
	assert_int_equal(count(&e, I_AMEND_INCREASE), 0);
	done(&e);
	AMEND(4, "1100.01");
	e = run(f, NULL);
	assert_int_equal(count(&e, I_AMEND_INCREASE), 1);
	assert_int_equal(count(&e, I_MANY_AMENDMENTS), 0);
	done(&e);
	AMEND(5, "1100.01");
	e = run(f, NULL);
	assert_non_null(h = find(&e, I_MANY_AMENDMENTS));
	assert_int_equal(h->nentries, 4);
	done(&e);
	/* Delivered a day late, then paid more than the value. */
	ev(f, 6,
	    "{\"ocid\":\"%s\",\"kind\":\"delivery\",\"date\":\"2025-06-03" DAY
	    "\",\"parent\":\"%064d\",\"buyer\":{\"id\":\"" BUYER "\"},"
	    "\"supplier\":{\"id\":\"" SUP_A "\"},\"contractID\":\"C1\","
	    "\"milestoneID\":\"m1\",\"deliveryDate\":\"2025-06-02T00:00:00Z\","
	    "\"items\":[{\"id\":\"1\",\"quantity\":10}]}",
	    o, 1);
	e = run(f, NULL);
	assert_non_null(h = find(&e, I_LATE_DELIVERY));
	assert_string_equal(h->value, "1.0");
	assert_int_equal(h->entries[0], 2);
	assert_int_equal(h->entries[1], 6);
	done(&e);
	f->conf.late_days = 1;
	e = run(f, NULL);
	assert_int_equal(count(&e, I_LATE_DELIVERY), 0);
	done(&e);
#define PAY(idx, amount)                                                       \
	ev(f, idx,                                                             \
	    "{\"ocid\":\"%s\",\"kind\":\"payment\",\"date\":\"2025-07-01" DAY  \
	    "\",\"parent\":\"%064d\",\"id\":\"P%d\",\"payer\":{\"id\":"        \
	    "\"KZ-BIN-160740000214\"},\"payee\":{\"id\":\"" SUP_A "\"},"       \
	    "\"contractID\":\"C1\",\"value\":{\"amount\":\"" amount "\","      \
	    "\"currency\":\"KZT\"},\"fundingSource\":\"OSMS\"}",               \
	    o, 1, (int)(idx))
	PAY(7, "600.00");
	PAY(8, "500.01"); /* exactly the value */
	e = run(f, NULL);
	assert_int_equal(count(&e, I_OVERPAYMENT), 0);
	done(&e);
	PAY(9, "0.01");
	e = run(f, NULL);
	assert_non_null(h = find(&e, I_OVERPAYMENT));
	assert_string_equal(h->value, "0.01");
	assert_int_equal(h->nentries, 4);
	done(&e);
	flags_free(f);
}

static void
test_shares(void **state)
{
	struct flags *f = fl();
	struct query q;
	struct eval e;
	const struct hit *h;
	char ocid[32];
	int i;

	(void)state;
	/* Four contracts: too few for shares, whatever the split. */
	for (i = 0; i < 4; i++) {
		snprintf(ocid, sizeof(ocid), "ocds-abc123-s%d", i);
		contract(f, (uint64_t)(200 + i), ocid, i < 3 ? SUP_A : SUP_B,
		    "H87", "100.00", 10, i < 2 ? "2024-06-01" : "2025-06-01");
	}
	e = run(f, NULL);
	assert_int_equal(count(&e, I_BUYER_SHARE), 0);
	assert_int_equal(count(&e, I_ITEM_SHARE), 0);
	done(&e);
	snprintf(ocid, sizeof(ocid), "ocds-abc123-s%d", 4);
	contract(f, 204, ocid, SUP_C, "H87", "100.00", 10, "2025-06-01");
	e = run(f, NULL);
	assert_non_null(h = find(&e, I_BUYER_SHARE));
	assert_string_equal(h->value, "60.0");
	assert_int_equal(h->supplier, fl_lookup(f, SUP_A));
	assert_int_equal(h->nentries, 3);
	assert_int_equal(count(&e, I_ITEM_SHARE), 1);
	done(&e);
	/* A period with three contracts: too few again. */
	memset(&q, 0, sizeof(q));
	q.ind = -1;
	q.limit = 1000;
	assert_int_equal(
	    pr_time_parse("2025-01-01T00:00:00Z", 20, &q.from, NULL), 0);
	q.to = INT64_MAX;
	e = run(f, &q);
	assert_int_equal(count(&e, I_BUYER_SHARE), 0);
	done(&e);
	/* Filters: an item query leaves out buyer shares; a buyer query
	 * leaves out item shares. */
	memset(&q, 0, sizeof(q));
	q.ind = -1;
	q.to = INT64_MAX;
	q.has_item = true;
	q.item = fl_lookup(f, "ATC:J01CA04");
	e = run(f, &q);
	assert_int_equal(count(&e, I_BUYER_SHARE), 0);
	assert_int_equal(count(&e, I_ITEM_SHARE), 1);
	done(&e);
	q.has_item = false;
	q.has_buyer = true;
	q.buyer = fl_lookup(f, BUYER);
	e = run(f, &q);
	assert_int_equal(count(&e, I_BUYER_SHARE), 1);
	assert_int_equal(count(&e, I_ITEM_SHARE), 0);
	done(&e);
	flags_free(f);
}

static void
test_direct_threshold(void **state)
{
	struct flags *f = fl();
	struct eval e;
	const char *o[] = {
	    "ocds-abc123-d1", "ocds-abc123-d2", "ocds-abc123-d3"};
	const char *v[] = {"14155199.99", "14155200.00", "15728000.00"};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		tender(f, 300 + 10 * i, o[i], "direct", "2025-03-01",
		    "2025-03-02");
		ev(f, 301 + 10 * i,
		    "{\"ocid\":\"%s\",\"kind\":\"award\",\"date\":\"2025-04-"
		    "01" DAY
		    "\",\"parent\":\"%064d\",\"buyer\":{\"id\":\"" BUYER "\"},"
		    "\"id\":\"A1\",\"suppliers\":[{\"id\":\"" SUP_A "\"}],"
		    "\"items\":[{\"id\":\"1\",\"description\":\"x\","
		    "\"classification\":{\"scheme\":\"ATC\",\"id\":\"J01CA04\"}"
		    ","
		    "\"quantity\":1,\"unit\":{\"code\":\"H87\"},\"unitPrice\":{"
		    "\"amount\":\"%s\",\"currency\":\"KZT\"}}],\"value\":{"
		    "\"amount\":\"%s\",\"currency\":\"KZT\"}}",
		    o[i], 1, v[i], v[i]);
	}
	/* Only 14,155,200.00, the margin's lower edge, is within it: below
	 * it is not near, and the threshold itself is not below. */
	e = run(f, NULL);
	assert_int_equal(count(&e, I_DIRECT_THRESHOLD), 1);
	assert_int_equal(find(&e, I_DIRECT_THRESHOLD)->entries[0], 310);
	assert_int_equal(count(&e, I_SINGLE_BID), 0);
	done(&e);
	flags_free(f);
}

static json_t *
query(struct procured *d, const char *k1, const char *v1, const char *k2,
    const char *v2)
{
	struct http_req r;

	memset(&r, 0, sizeof(r));
	q_n = 0;
	if (k1) {
		q_names[q_n] = k1;
		q_values[q_n++] = v1;
	}
	if (k2) {
		q_names[q_n] = k2;
		q_values[q_n++] = v2;
	}
	reply_status = 0;
	reply_code[0] = '\0';
	json_decref(reply_json);
	reply_json = NULL;
	flags_query(&r, d);
	return reply_json;
}

static void
test_query(void **state)
{
	struct procured d;
	struct st_config sc;
	char dir[] = "/tmp/test_flags.XXXXXX", cmd[64];
	json_t *j, *fl0;

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_non_null(mkdtemp(dir));
	memset(&sc, 0, sizeof(sc));
	sc.dir = dir;
	assert_int_equal(st_open(&sc, &d.store), 0);
	d.flags = fl();
	tender(d.flags, 0, "ocds-abc123-1", "open", "2025-03-01", "2025-03-06");
	assert_null(query(&d, "indicator", "nope", NULL, NULL));
	assert_int_equal(reply_status, 400);
	assert_null(query(&d, "item", "J01CA04", NULL, NULL));
	assert_int_equal(reply_status, 400);
	assert_null(query(&d, "limit", "0", NULL, NULL));
	assert_int_equal(reply_status, 400);
	assert_null(query(&d, "from", "yesterday", NULL, NULL));
	assert_int_equal(reply_status, 400);
	assert_non_null(j = query(&d, "buyer", BUYER, NULL, NULL));
	assert_int_equal(reply_status, 200);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
	fl0 = json_array_get(json_object_get(j, "flags"), 0);
	assert_string_equal(
	    json_string_value(json_object_get(fl0, "indicator")),
	    "short_tender_period");
	assert_string_equal(
	    json_string_value(json_object_get(fl0, "unit")), "days");
	assert_true(json_is_null(json_object_get(fl0, "supplier")));
	assert_int_equal(json_array_size(json_object_get(fl0, "entries")), 1);
	/* Unknown parties have no flags; a period without any either. */
	assert_non_null(j = query(&d, "supplier", SUP_A, NULL, NULL));
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 0);
	assert_non_null(
	    j = query(&d, "buyer", BUYER, "to", "2025-01-01T00:00:00Z"));
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 0);
	json_decref(reply_json);
	reply_json = NULL;
	flags_free(d.flags);
	st_close(d.store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reference_list),
	    cmocka_unit_test(test_single_bid_and_period),
	    cmocka_unit_test(test_bid_evaluation),
	    cmocka_unit_test(test_prices),
	    cmocka_unit_test(test_contract_life),
	    cmocka_unit_test(test_shares),
	    cmocka_unit_test(test_direct_threshold),
	    cmocka_unit_test(test_query),
	};

	log_init("test_flags", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
