/*
 * Unit tests: spending totals from the red-flag engine's aggregates
 * (daemon/flags_totals.c) and the file-backed arena they live in
 * (daemon/flags_mem.c).  Events are folded in directly, without a
 * server; GET /v1/totals is called through its handler with the HTTP
 * helpers replaced by the stubs in flags_test.h.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/evtime.h"

#include "daemon/flags_index.c"
#include "daemon/flags_mem.c"
#include "daemon/flags_ref.c"
#include "daemon/flags_totals.c"
#include "flags_test.h"

/* ---- fixtures ---- */

#define B1 "KZ-BIN-090640001233"
#define B2 "KZ-BIN-191040009875"
#define S1 "KZ-BIN-151140002468"
#define S2 "KZ-BIN-170540008313"
#define T "T04:00:00Z"

struct fixture {
	struct procured d;
	char dir[32];
};

static int
setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));
	struct st_config sc;
	struct flags *f;

	assert_non_null(x);
	snprintf(x->dir, sizeof(x->dir), "/tmp/test_totals.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	memset(&sc, 0, sizeof(sc));
	sc.dir = x->dir;
	assert_int_equal(st_open(&sc, &x->d.store), 0);
	assert_non_null(f = calloc(1, sizeof(*f)));
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->done, NULL);
	/* The aggregates in a file of the data directory, as procured. */
	assert_int_equal(fl_init(f, x->dir), 0);
	assert_non_null(f->refmap = hmap_new());
	x->d.flags = f;
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *x = *state;
	char cmd[64];

	json_decref(reply_json);
	reply_json = NULL;
	flags_free(x->d.flags);
	st_close(x->d.store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", x->dir);
	assert_int_equal(system(cmd), 0);
	free(x);
	return 0;
}

/* GET /v1/totals?by=BY[&k=v]...; the reply's rows (NULL, then the
 * status is in reply_status, on an error). */
static json_t *
totals(struct procured *d, const char *by, ...)
{
	struct http_req r;
	const char *k;
	va_list ap;

	memset(&r, 0, sizeof(r));
	q_n = 0;
	q_names[q_n] = "by";
	q_values[q_n++] = by;
	va_start(ap, by);
	while ((k = va_arg(ap, const char *)) != NULL) {
		q_names[q_n] = k;
		q_values[q_n++] = va_arg(ap, const char *);
	}
	va_end(ap);
	reply_status = 0;
	json_decref(reply_json);
	reply_json = NULL;
	flags_totals(&r, d);
	if (reply_status != 200)
		return NULL;
	assert_false(json_is_true(json_object_get(reply_json, "overflow")));
	return json_object_get(reply_json, "rows");
}

/* Row i is key: contracted, paid, contracts, payments. */
static void
row_is(json_t *rows, size_t i, const char *key, const char *contracted,
    const char *paid, int contracts, int payments)
{
	json_t *r = json_array_get(rows, i);

	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "key")), key);
	assert_string_equal(
	    json_string_value(json_object_get(r, "currency")), "KZT");
	assert_string_equal(
	    json_string_value(json_object_get(r, "contracted")), contracted);
	assert_string_equal(
	    json_string_value(json_object_get(r, "paid")), paid);
	assert_int_equal(
	    json_integer_value(json_object_get(r, "contracts")), contracts);
	assert_int_equal(
	    json_integer_value(json_object_get(r, "payments")), payments);
}

#define PERIOD                                                                 \
	"\"period\":{\"startDate\":\"2025-01-01T00:00:00Z\",\"endDate\":"      \
	"\"2025-12-31T00:00:00Z\"},"

#define ITEM(qty, price)                                                       \
	"{\"id\":\"1\",\"description\":\"x\",\"classification\":{\"scheme\":"  \
	"\"ATC\",\"id\":\"J01CA04\"},\"quantity\":" qty ",\"unit\":{"          \
	"\"code\":\"H87\"},\"unitPrice\":{\"amount\":\"" price "\","           \
	"\"currency\":\"KZT\"}}"

/*
 * Two contracts and their payments:
 *  0 ocds-abc123-a C1 B1/S1 2025-01-15 1000.00 OSMS, 10 x 100.00
 *  1 payment of C1 2025-02-01 500.00 to S1, funded GVFMC
 *  2 ocds-abc123-b C1 B2/S1 2025-02-20 300.00 local, 3 x 100.00
 *  3 payment of an unknown contract 2025-02-02 50.00 to S2, own funds
 *  4 amendment of a/C1 2025-03-10 1200.00, 12 x 100.00
 *  5 payment of a/C1 2025-04-01 700.00 to S1, funded OSMS
 */
static void
year(struct flags *f)
{
	const char *a = "ocds-abc123-a", *b = "ocds-abc123-b";

	ev(f, 0,
	    "{\"ocid\":\"%s\",\"kind\":\"contract\",\"date\":\"2025-01-15" T
	    "\",\"parent\":\"%064d\",\"buyer\":{\"id\":\"" B1 "\"},"
	    "\"supplier\":{\"id\":\"" S1
	    "\"},\"id\":\"C1\",\"awardID\":\"A1\"," PERIOD
	    "\"items\":[" ITEM("10",
	        "100.00") "],\"value\":{\"amount\":"
	                  "\"1000.00\","
	                  "\"currency\":\"KZT\"},\"fundingSource\":\"OSMS\"}",
	    a, 1);
	ev(f, 1,
	    "{\"ocid\":\"%s\",\"kind\":\"payment\",\"date\":\"2025-02-01" T
	    "\",\"parent\":\"%064d\",\"id\":\"P1\",\"payer\":{\"id\":\"" B1
	    "\"},\"payee\":{\"id\":\"" S1 "\"},\"contractID\":\"C1\","
	    "\"value\":{\"amount\":\"500.00\",\"currency\":\"KZT\"},"
	    "\"fundingSource\":\"GVFMC\"}",
	    a, 1);
	ev(f, 2,
	    "{\"ocid\":\"%s\",\"kind\":\"contract\",\"date\":\"2025-02-20" T
	    "\",\"parent\":\"%064d\",\"buyer\":{\"id\":\"" B2 "\"},"
	    "\"supplier\":{\"id\":\"" S1
	    "\"},\"id\":\"C1\",\"awardID\":\"A1\"," PERIOD
	    "\"items\":[" ITEM("3", "100.00") "],"
	                                      "\"value\":{\"amount\":\"300."
	                                      "00\",\"currency\":\"KZT\"},"
	                                      "\"fundingSource\":\"local\"}",
	    b, 1);
	ev(f, 3,
	    "{\"ocid\":\"ocds-abc123-c\",\"kind\":\"payment\",\"date\":"
	    "\"2025-02-02" T "\",\"parent\":\"%064d\",\"id\":\"P9\",\"payer\":"
	    "{\"id\":\"" B2 "\"},\"payee\":{\"id\":\"" S2 "\"},\"contractID\":"
	    "\"X\",\"value\":{\"amount\":\"50.00\",\"currency\":\"KZT\"},"
	    "\"fundingSource\":\"own\"}",
	    1);
	ev(f, 4,
	    "{\"ocid\":\"%s\",\"kind\":\"contract.amend\",\"date\":\"2025-03-"
	    "10" T "\",\"parent\":\"%064d\",\"buyer\":{\"id\":\"" B1 "\"},"
	    "\"supplier\":{\"id\":\"" S1 "\"},\"contractID\":\"C1\","
	    "\"rationale\":\"More\",\"items\":[" ITEM(
	        "12", "100.00") "],"
	                        "\"value\":{\"amount\":\"1200.00\","
	                        "\"currency\":\"KZT\"}}",
	    a, 1);
	ev(f, 5,
	    "{\"ocid\":\"%s\",\"kind\":\"payment\",\"date\":\"2025-04-01" T
	    "\",\"parent\":\"%064d\",\"id\":\"P2\",\"payer\":{\"id\":\"" B1
	    "\"},\"payee\":{\"id\":\"" S1 "\"},\"contractID\":\"C1\","
	    "\"value\":{\"amount\":\"700.00\","
	    "\"currency\":\"KZT\"},\"fundingSource\":\"OSMS\"}",
	    a, 1);
}

/* ---- tests ---- */

static void
test_groupings(void **state)
{
	struct fixture *x = *state;
	struct procured *d = &x->d;
	json_t *rows;

	year(d->flags);
	/* The amendment's value; a payment without a contract: unknown. */
	assert_non_null(rows = totals(d, "buyer", NULL));
	assert_int_equal(json_array_size(rows), 3);
	row_is(rows, 0, B1, "1200.00", "1200.00", 1, 2);
	row_is(rows, 1, B2, "300.00", "0.00", 1, 0);
	row_is(rows, 2, "unknown", "0.00", "50.00", 0, 1);
	assert_non_null(rows = totals(d, "supplier", NULL));
	assert_int_equal(json_array_size(rows), 2);
	row_is(rows, 0, S1, "1500.00", "1200.00", 2, 2);
	row_is(rows, 1, S2, "0.00", "50.00", 0, 1);
	/* A payment's own funding source. */
	assert_non_null(rows = totals(d, "funding", NULL));
	assert_int_equal(json_array_size(rows), 4);
	row_is(rows, 0, "OSMS", "1200.00", "700.00", 1, 1);
	row_is(rows, 1, "local", "300.00", "0.00", 1, 0);
	row_is(rows, 2, "GVFMC", "0.00", "500.00", 0, 1);
	row_is(rows, 3, "own", "0.00", "50.00", 0, 1);
	/* Contracts in the month they were signed, payments when paid. */
	assert_non_null(rows = totals(d, "month", NULL));
	assert_int_equal(json_array_size(rows), 3);
	row_is(rows, 0, "2025-01", "1200.00", "0.00", 1, 0);
	row_is(rows, 1, "2025-02", "300.00", "550.00", 1, 2);
	row_is(rows, 2, "2025-04", "0.00", "700.00", 0, 1);
	/* Item lines of the latest version listing items. */
	assert_non_null(rows = totals(d, "item", NULL));
	assert_int_equal(json_array_size(rows), 1);
	row_is(rows, 0, "ATC:J01CA04", "1500.00", "0.00", 2, 0);
}

static void
test_periods_and_parties(void **state)
{
	struct fixture *x = *state;
	struct procured *d = &x->d;
	json_t *rows;

	year(d->flags);
	/* Before the amendment: the contract as signed. */
	assert_non_null(
	    rows = totals(d, "item", "to", "2025-03-01T00:00:00Z", NULL));
	row_is(rows, 0, "ATC:J01CA04", "1300.00", "0.00", 2, 0);
	assert_non_null(
	    rows = totals(d, "buyer", "to", "2025-03-01T00:00:00Z", NULL));
	assert_int_equal(json_array_size(rows), 3);
	row_is(rows, 0, B1, "1000.00", "500.00", 1, 1);
	/* Only the amendment in the period: its month is unknown. */
	assert_non_null(
	    rows = totals(d, "month", "from", "2025-03-01T00:00:00Z", NULL));
	assert_int_equal(json_array_size(rows), 2);
	row_is(rows, 0, "unknown", "1200.00", "0.00", 1, 0);
	row_is(rows, 1, "2025-04", "0.00", "700.00", 0, 1);
	/* An empty period has no rows. */
	assert_non_null(
	    rows = totals(d, "buyer", "from", "2026-01-01T00:00:00Z", NULL));
	assert_int_equal(json_array_size(rows), 0);
	/* A party: its contracts (as buyer or supplier) and their
	 * payments; the payment of no contract is nobody's. */
	assert_non_null(rows = totals(d, "supplier", "party", B2, NULL));
	assert_int_equal(json_array_size(rows), 1);
	row_is(rows, 0, S1, "300.00", "0.00", 1, 0);
	assert_non_null(rows = totals(d, "buyer", "party", S1, NULL));
	assert_int_equal(json_array_size(rows), 2);
	row_is(rows, 0, B1, "1200.00", "1200.00", 1, 2);
	row_is(rows, 1, B2, "300.00", "0.00", 1, 0);
	assert_non_null(rows = totals(d, "buyer", "party", S2, NULL));
	assert_int_equal(json_array_size(rows), 0);
	assert_non_null(rows = totals(d, "buyer", "party", "KZ-BIN-0", NULL));
	assert_int_equal(json_array_size(rows), 0);
	/* An item: the contracts listing it, with their payments. */
	assert_non_null(rows = totals(d, "buyer", "item", "ATC:J01CA04", NULL));
	assert_int_equal(json_array_size(rows), 2);
	row_is(rows, 0, B1, "1200.00", "1200.00", 1, 2);
	row_is(rows, 1, B2, "300.00", "0.00", 1, 0);
	assert_non_null(
	    rows = totals(d, "item", "item", "ATC:J01CA04", "party", B2, NULL));
	assert_int_equal(json_array_size(rows), 1);
	row_is(rows, 0, "ATC:J01CA04", "300.00", "0.00", 1, 0);
	assert_non_null(rows = totals(d, "buyer", "item", "ATC:N02BE01", NULL));
	assert_int_equal(json_array_size(rows), 0);
	/* Bad queries. */
	assert_null(totals(d, "year", NULL));
	assert_int_equal(reply_status, 400);
	assert_null(totals(d, "buyer", "from", "2025-13-01", NULL));
	assert_int_equal(reply_status, 400);
}

/* More payments of one contract than the scan of the kind index that
 * /v1/totals used to make would read (200,000): every one counts. */
static void
test_no_cap(void **state)
{
	struct fixture *x = *state;
	struct flags *f = x->d.flags;
	uint8_t leaf[PR_HASH_LEN];
	struct pr_event e;
	json_t *rows;
	uint64_t i, n = 250001, sum;
	char want[32];

	ev(f, 0,
	    "{\"ocid\":\"ocds-abc123-a\",\"kind\":\"contract\",\"date\":"
	    "\"2025-01-15" T "\",\"parent\":\"%064d\",\"buyer\":{\"id\":\"" B1
	    "\"},\"supplier\":{\"id\":\"" S1 "\"},\"id\":\"C1\",\"awardID\":"
	    "\"A1\"," PERIOD "\"items\":[" ITEM(
	        "10000", "100.00") "],\"value\":{"
	                           "\"amount\":\"1000000.00\",\"currency\":"
	                           "\"KZT\"},\"fundingSource\":"
	                           "\"OSMS\"}",
	    1);
	memset(leaf, 0, sizeof(leaf));
	memset(&e, 0, sizeof(e));
	e.kind = PR_KIND_PAYMENT;
	e.ocid = "ocds-abc123-a";
	e.contract_id = "C1";
	e.has_value = true;
	memcpy(e.value.currency, "KZT", 4);
	e.value.exponent = 2;
	for (i = 1; i <= n; i++) {
		/* 0.01 to 0.99, one a minute from 1 February. */
		e.value.amount = (int64_t)(i % 99) + 1;
		e.date = 1738368000000LL + (int64_t)i * 60000;
		assert_int_equal(apply(f, i, leaf, &e), 0);
	}
	f->indexed = n + 1;
	/* The sum of (i % 99) + 1 for i in 1..n: 4950 every 99. */
	sum = n / 99 * 4950;
	for (i = 1; i <= n % 99; i++)
		sum += i % 99 + 1;
	snprintf(want, sizeof(want), "%llu.%02llu",
	    (unsigned long long)(sum / 100), (unsigned long long)(sum % 100));
	assert_non_null(rows = totals(&x->d, "buyer", NULL));
	row_is(rows, 0, B1, "1000000.00", want, 1, (int)n);
	assert_non_null(rows = totals(&x->d, "supplier", "party", S1, NULL));
	row_is(rows, 0, S1, "1000000.00", want, 1, (int)n);
	/* 250,001 minutes from 1 February: into early August. */
	assert_non_null(rows = totals(&x->d, "month", NULL));
	assert_int_equal(json_array_size(rows), 7);
}

/* The arena: blocks keep their contents as the file grows, freed blocks
 * are reused, and the file leaves no name behind. */
static void
test_arena(void **state)
{
	struct fixture *x = *state;
	struct fl_mem *m;
	uint64_t *big, *p, *q;
	size_t i, n = 3 << 20; /* 24 MiB of uint64_t: more than one step */
	struct dirent *de;
	DIR *dir;

	assert_non_null(m = fl_mem_new(x->dir));
	assert_non_null(p = fl_malloc(m, 40));
	p[0] = 42;
	fl_free(m, p);
	assert_ptr_equal(q = fl_malloc(m, 33), p); /* the same class */
	assert_non_null(big = fl_calloc(m, n, sizeof(*big)));
	assert_true(fl_mem_mapped(m) >= n * sizeof(*big));
	for (i = 0; i < n; i++)
		big[i] = i * 7;
	assert_non_null(big = fl_realloc(m, big, 2 * n * sizeof(*big)));
	for (i = 0; i < n; i++)
		if (big[i] != i * 7)
			fail_msg("block moved without its contents at %zu", i);
	assert_string_equal(
	    q = (void *)fl_strdup(m, "amoxicillin"), "amoxicillin");
	assert_null(fl_malloc(m, SIZE_MAX - 4));
	assert_null(fl_calloc(m, SIZE_MAX / 2, 4));
	assert_non_null(dir = opendir(x->dir));
	while ((de = readdir(dir)) != NULL)
		assert_null(strstr(de->d_name, "flags."));
	closedir(dir);
	fl_mem_free(m);
	/* Anonymous memory, for tests and as a fallback. */
	assert_non_null(m = fl_mem_new(NULL));
	assert_non_null(p = fl_calloc(m, 1000, 8));
	assert_int_equal(p[999], 0);
	fl_mem_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_groupings, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_periods_and_parties, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_arena, setup, teardown),
	};

	log_init("test_flags_totals", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
