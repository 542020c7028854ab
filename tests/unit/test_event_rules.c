/*
 * Unit tests: the kind table and the rules built on it (parents, signers),
 * sealed-bid commitments, and the queries (deadline, index keys, totals).
 * Run from the source root: the events are docs/examples/.
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
#include "proto/err.h"
#include "proto/event.h"

#define DIST "KZ-BIN-090640001233"
#define DALA "KZ-BIN-151140002468"
#define FUND "KZ-BIN-160740000214"
#define ADMIN "KZ-BIN-051240003588"

static char *
load(const char *name, size_t *len)
{
	char path[256];
	FILE *f;
	char *p;
	long n;

	snprintf(path, sizeof(path), "docs/examples/%s.json", name);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s (run from the source root)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return p;
}

static struct pr_event *
parse_text(const char *text, size_t len)
{
	struct pr_event_error err;
	struct pr_event *ev = NULL;

	if (pr_event_parse((const uint8_t *)text, len, &ev, &err) != 0)
		fail_msg("%s %s %s", err.code, err.path, err.message);
	return ev;
}

static struct pr_event *
example(const char *name)
{
	struct pr_event *ev;
	size_t len;
	char *text = load(name, &len);

	ev = parse_text(text, len);
	free(text);
	return ev;
}

/* Replace the first occurrence of from in *text by to. */
static void
replace(char **text, const char *from, const char *to)
{
	char *at, *out;

	at = strstr(*text, from);
	if (at == NULL)
		fail_msg("\"%s\" not in the example", from);
	out = malloc(strlen(*text) - strlen(from) + strlen(to) + 1);
	assert_non_null(out);
	memcpy(out, *text, (size_t)(at - *text));
	strcpy(out + (at - *text), to);
	strcat(out, at + strlen(from));
	free(*text);
	*text = out;
}

/* The example with up to two replacements (NULL: none). */
static struct pr_event *
example_with(const char *name, const char *from, const char *to,
    const char *from2, const char *to2)
{
	struct pr_event *ev;
	size_t len;
	char *text = load(name, &len);

	replace(&text, from, to);
	if (from2 != NULL)
		replace(&text, from2, to2);
	ev = parse_text(text, strlen(text));
	free(text);
	return ev;
}

/* --- Kind table ------------------------------------------------------- */

static void
test_kind_names(void **state)
{
	const struct pr_kind_rule *r;
	int k;

	(void)state;
	for (k = 0; k < PR_KIND_COUNT; k++) {
		r = pr_kind_rule((enum pr_kind)k);
		assert_non_null(r);
		assert_int_equal(r->kind, k);
		assert_int_equal(
		    pr_kind_from_name(r->name, strlen(r->name)), k);
		assert_string_equal(pr_kind_name((enum pr_kind)k), r->name);
		assert_non_null(r->parse);
		assert_non_null(r->fields);
		assert_true(r->n_sign >= 1 && r->n_sign <= PR_MAX_SIGN_RULES);
		/* A kind with a parent belongs to a process. */
		if (r->parent != PR_PARENT_NONE)
			assert_true(r->has_ocid && r->parents != 0);
		else
			assert_int_equal(r->parents, 0);
	}
	assert_null(pr_kind_rule(PR_KIND_COUNT));
	assert_int_equal(
	    pr_kind_from_name("tender.amend", 12), PR_KIND_TENDER_AMEND);
	assert_int_equal(pr_kind_from_name("tender.amen", 11), -1);
	assert_int_equal(pr_kind_from_name("Tender", 6), -1);
	assert_string_equal(pr_kind_name(PR_KIND_COUNT), "?");
	assert_string_equal(pr_role_name(PR_ROLE_PAYER), "payer");
	assert_string_equal(pr_role_name(PR_ROLE_BUYER | PR_ROLE_PAYER), "?");
	assert_string_equal(pr_scheme_name(PR_SCHEME_GTIN), "GTIN");
	assert_string_equal(pr_funding_name(PR_FUNDING_GVFMC), "GVFMC");
	assert_string_equal(pr_method_name(PR_METHOD_DIRECT), "direct");
	assert_string_equal(
	    pr_criteria_name(PR_CRITERIA_RATED), "ratedCriteria");
	assert_string_equal(pr_category_name(PR_CATEGORY_WORKS), "works");
	assert_string_equal(pr_funding_name(PR_FUNDING_NONE), "?");
}

/* The full parent matrix: every allowed pair and nothing else. */
static void
test_parent_table(void **state)
{
	static const struct {
		enum pr_kind child, parent;
	} allowed[] = {
	    {PR_KIND_TENDER, PR_KIND_PLAN},
	    {PR_KIND_TENDER_AMEND, PR_KIND_TENDER},
	    {PR_KIND_TENDER_AMEND, PR_KIND_TENDER_AMEND},
	    {PR_KIND_TENDER_CANCEL, PR_KIND_TENDER},
	    {PR_KIND_TENDER_CANCEL, PR_KIND_TENDER_AMEND},
	    {PR_KIND_BID_COMMIT, PR_KIND_TENDER},
	    {PR_KIND_BID_COMMIT, PR_KIND_TENDER_AMEND},
	    {PR_KIND_BID_REVEAL, PR_KIND_BID_COMMIT},
	    {PR_KIND_AWARD, PR_KIND_TENDER},
	    {PR_KIND_AWARD, PR_KIND_TENDER_AMEND},
	    {PR_KIND_CONTRACT, PR_KIND_AWARD},
	    {PR_KIND_CONTRACT_AMEND, PR_KIND_CONTRACT},
	    {PR_KIND_CONTRACT_AMEND, PR_KIND_CONTRACT_AMEND},
	    {PR_KIND_CONTRACT_TERMINATE, PR_KIND_CONTRACT},
	    {PR_KIND_CONTRACT_TERMINATE, PR_KIND_CONTRACT_AMEND},
	    {PR_KIND_DELIVERY, PR_KIND_CONTRACT},
	    {PR_KIND_DELIVERY, PR_KIND_CONTRACT_AMEND},
	    {PR_KIND_PAYMENT, PR_KIND_CONTRACT},
	    {PR_KIND_PAYMENT, PR_KIND_CONTRACT_AMEND},
	    {PR_KIND_PAYMENT, PR_KIND_DELIVERY},
	};
	size_t i, n = sizeof(allowed) / sizeof(allowed[0]), count = 0;
	int p, c;
	bool want;

	(void)state;
	for (c = 0; c < PR_KIND_COUNT; c++)
		for (p = 0; p < PR_KIND_COUNT; p++) {
			want = false;
			for (i = 0; i < n; i++)
				if ((int)allowed[i].child == c &&
				    (int)allowed[i].parent == p)
					want = true;
			if (pr_kind_parent_allowed(
			        (enum pr_kind)p, (enum pr_kind)c) != want)
				fail_msg("%s -> %s: want %d",
				    pr_kind_name((enum pr_kind)p),
				    pr_kind_name((enum pr_kind)c), want);
			count += want;
		}
	assert_int_equal(count, n);
	assert_false(pr_kind_parent_allowed(PR_KIND_COUNT, PR_KIND_AWARD));
	assert_false(pr_kind_parent_allowed(PR_KIND_AWARD, PR_KIND_COUNT));
	/* Who may start a process. */
	assert_int_equal(pr_kind_rule(PR_KIND_PLAN)->parent, PR_PARENT_NONE);
	assert_int_equal(
	    pr_kind_rule(PR_KIND_TENDER)->parent, PR_PARENT_OPTIONAL);
	assert_int_equal(
	    pr_kind_rule(PR_KIND_KEY_GRANT)->parent, PR_PARENT_NONE);
	assert_int_equal(
	    pr_kind_rule(PR_KIND_AWARD)->parent, PR_PARENT_REQUIRED);
}

/* --- Signers ------------------------------------------------------------ */

static void
expect_signers(const struct pr_event *ev, const struct pr_signer *s, size_t n,
    int want, const char *code, const char *path)
{
	struct pr_event_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = pr_event_check_signers(ev, s, n, &err);
	if (rc != want)
		fail_msg("%s: got %d (%s %s), want %d", pr_kind_name(ev->kind),
		    rc, err.code ? err.code : "", err.message, want);
	if (want != 0) {
		assert_string_equal(err.code, code);
		assert_string_equal(err.path, path);
		assert_true(strlen(err.message) > 0);
	}
}

static void
test_signers_contract(void **state)
{
	const struct pr_signer buyer = {DIST, PR_ROLE_BUYER};
	const struct pr_signer supplier = {DALA, PR_ROLE_SUPPLIER};
	const struct pr_signer both[] = {buyer, supplier};
	const struct pr_signer wrong_party[] = {
	    buyer, {"KZ-BIN-170540008313", PR_ROLE_SUPPLIER}};
	const struct pr_signer wrong_role[] = {buyer, {DALA, PR_ROLE_PAYER}};
	const struct pr_signer bystander[] = {
	    buyer, supplier, {FUND, PR_ROLE_PAYER}};
	const struct pr_signer one_key_two_roles[] = {
	    {DIST, PR_ROLE_BUYER | PR_ROLE_SUPPLIER}};
	struct pr_event *ev = example("contract");
	int k;

	(void)state;
	expect_signers(ev, both, 2, 0, NULL, NULL);
	expect_signers(
	    ev, &buyer, 1, PR_EDENIED, "missing_signer", "/supplier/id");
	expect_signers(
	    ev, &supplier, 1, PR_EDENIED, "missing_signer", "/buyer/id");
	expect_signers(ev, NULL, 0, PR_EDENIED, "missing_signer", "/buyer/id");
	expect_signers(ev, wrong_party, 2, PR_EDENIED, "unexpected_signer", "");
	expect_signers(ev, wrong_role, 2, PR_EDENIED, "unexpected_signer", "");
	expect_signers(ev, bystander, 3, PR_EDENIED, "unexpected_signer", "");
	/* One party holding both roles cannot stand in for the supplier. */
	expect_signers(ev, one_key_two_roles, 1, PR_EDENIED, "missing_signer",
	    "/supplier/id");
	/* Every kind that changes a contract needs both. */
	pr_event_free(ev);
	for (k = PR_KIND_CONTRACT; k <= PR_KIND_CONTRACT_TERMINATE; k++) {
		assert_int_equal(
		    pr_kind_rule((enum pr_kind)k)->sign, PR_SIGN_ALL);
		assert_int_equal(pr_kind_rule((enum pr_kind)k)->n_sign, 2);
	}
	ev = example("contract.amend");
	expect_signers(ev, both, 2, 0, NULL, NULL);
	expect_signers(
	    ev, &buyer, 1, PR_EDENIED, "missing_signer", "/supplier/id");
	pr_event_free(ev);
}

static void
test_signers_other_kinds(void **state)
{
	const struct pr_signer buyer = {DIST, PR_ROLE_BUYER};
	const struct pr_signer supplier = {DALA, PR_ROLE_SUPPLIER};
	const struct pr_signer both[] = {supplier, buyer};
	const struct pr_signer fund = {FUND, PR_ROLE_PAYER};
	const struct pr_signer fund_as_buyer = {FUND, PR_ROLE_BUYER};
	const struct pr_signer dist_payer = {DIST, PR_ROLE_PAYER};
	const struct pr_signer admin = {ADMIN, PR_ROLE_ADMIN};
	const struct pr_signer admin_other = {
	    "XI-LEI-5493001KJTIIGC8Y1R12", PR_ROLE_ADMIN};
	const struct pr_signer no_roles = {DIST, 0};
	struct pr_event *ev;

	(void)state;
	ev = example("tender");
	expect_signers(ev, &buyer, 1, 0, NULL, NULL);
	expect_signers(ev, &supplier, 1, PR_EDENIED, "unexpected_signer", "");
	expect_signers(ev, &no_roles, 1, PR_EDENIED, "unexpected_signer", "");
	pr_event_free(ev);

	ev = example("bid.commit");
	expect_signers(ev, &supplier, 1, 0, NULL, NULL);
	expect_signers(ev, &buyer, 1, PR_EDENIED, "unexpected_signer", "");
	pr_event_free(ev);

	ev = example("delivery");
	expect_signers(ev, &supplier, 1, 0, NULL, NULL);
	expect_signers(ev, &buyer, 1, 0, NULL, NULL);
	expect_signers(ev, both, 2, 0, NULL, NULL);
	expect_signers(
	    ev, NULL, 0, PR_EDENIED, "missing_signer", "/supplier/id");
	expect_signers(ev, &fund, 1, PR_EDENIED, "unexpected_signer", "");
	pr_event_free(ev);

	ev = example("payment");
	expect_signers(ev, &fund, 1, 0, NULL, NULL);
	expect_signers(ev, &fund_as_buyer, 1, 0, NULL, NULL);
	expect_signers(ev, &dist_payer, 1, PR_EDENIED, "unexpected_signer", "");
	expect_signers(ev, &supplier, 1, PR_EDENIED, "unexpected_signer", "");
	pr_event_free(ev);

	ev = example("key.grant");
	expect_signers(ev, &admin, 1, 0, NULL, NULL);
	expect_signers(ev, &admin_other, 1, 0, NULL, NULL);
	expect_signers(ev, &buyer, 1, PR_EDENIED, "unexpected_signer", "");
	expect_signers(ev, NULL, 0, PR_EDENIED, "missing_signer", "");
	pr_event_free(ev);
}

/* --- Sealed bids ---------------------------------------------------------- */

static void
test_commitment_round_trip(void **state)
{
	struct pr_event *reveal = example("bid.reveal");
	struct pr_event *commit = example("bid.commit");
	struct pr_event_error err;
	uint8_t h[PR_EVENT_HASH_LEN];
	char hex[2 * PR_EVENT_HASH_LEN + 1];

	(void)state;
	assert_int_equal(
	    pr_bid_commitment(reveal->ocid, reveal->supplier.id, &reveal->value,
	        reveal->items, reveal->n_items, reveal->nonce, h),
	    0);
	/* Known answer, recomputed independently in test_event_docs.sh. */
	pr_hex_encode(h, sizeof(h), hex);
	assert_string_equal(hex,
	    "165df9dda1dc815b9700dc9cc8891d5b101928aaf63b94946af65c852664dae5");
	assert_memory_equal(h, commit->commitment, sizeof(h));
	assert_int_equal(pr_event_reveal_matches(reveal, commit, &err), 0);
	assert_int_equal(
	    pr_event_reveal_matches(commit, reveal, &err), PR_EINVAL);
	pr_event_free(reveal);
	pr_event_free(commit);
}

static void
expect_mismatch(const char *from, const char *to, const char *from2,
    const char *to2, const char *path)
{
	struct pr_event *reveal =
	    example_with("bid.reveal", from, to, from2, to2);
	struct pr_event *commit = example("bid.commit");
	struct pr_event_error err;

	if (pr_event_reveal_matches(reveal, commit, &err) != PR_EEVENT)
		fail_msg("changing %s to %s went unnoticed", from, to);
	assert_string_equal(err.code, "commitment_mismatch");
	assert_string_equal(err.path, path);
	pr_event_free(reveal);
	pr_event_free(commit);
}

static void
test_commitment_mismatch(void **state)
{
	(void)state;
	/* A lower unit price (and value) after seeing the other bids. */
	expect_mismatch("\"amount\": \"9.45\"", "\"amount\": \"9.40\"",
	    "\"amount\": \"659330000.00\"", "\"amount\": \"659180000.00\"", "");
	/* A different nonce, product, item or supplier. */
	expect_mismatch("7a98ef53", "7a98ef54", NULL, NULL, "");
	expect_mismatch("4870123450022", "4870123450015", NULL, NULL, "");
	expect_mismatch("\"id\": \"1\"", "\"id\": \"9\"", NULL, NULL, "");
	expect_mismatch("KZ-BIN-151140002468", "KZ-BIN-170540008313", NULL,
	    NULL, "/supplier/id");
	expect_mismatch("MED-0001", "MED-0002", NULL, NULL, "/ocid");
}

/* Each field of the encoding changes the commitment. */
static void
test_commitment_fields(void **state)
{
	struct pr_item it;
	struct pr_money v = {1000, "KZT", 2};
	uint8_t nonce[PR_EVENT_NONCE_LEN] = {0}, a[32], b[32];

	(void)state;
	memset(&it, 0, sizeof(it));
	it.id = "1";
	it.has_classification = true;
	it.classification.scheme = PR_SCHEME_ATC;
	it.classification.id = "J01CA04";
	it.quantity = 1000;
	it.unit_price.amount = 1000;
	assert_int_equal(
	    pr_bid_commitment("ocds-abcdef-1", DALA, &v, &it, 1, nonce, a), 0);
	it.quantity = 1001;
	assert_int_equal(
	    pr_bid_commitment("ocds-abcdef-1", DALA, &v, &it, 1, nonce, b), 0);
	assert_memory_not_equal(a, b, 32);
	it.quantity = 1000;
	/* Length prefixes keep ("ab","c") apart from ("a","bc"). */
	assert_int_equal(
	    pr_bid_commitment("ocds-abcdef-1", "KZ-X-ab", &v, &it, 1, nonce, b),
	    0);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(
	    pr_bid_commitment("ocds-abcdef-1", DALA, &v, &it, 0, nonce, b), 0);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(
	    pr_bid_commitment("ocds-abcdef-1", DALA, &v, &it, 1, nonce, b), 0);
	assert_memory_equal(a, b, 32);
	assert_int_equal(
	    pr_bid_commitment(NULL, DALA, &v, &it, 1, nonce, b), PR_EINVAL);
}

/* --- Chains ------------------------------------------------------------ */

static void
expect_parent(struct pr_event *parent, struct pr_event *ev, int want,
    const char *code, const char *path)
{
	struct pr_event_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = pr_event_check_parent(parent, ev, &err);
	if (rc != want)
		fail_msg("%s <- %s: got %d (%s %s %s), want %d",
		    pr_kind_name(parent->kind), pr_kind_name(ev->kind), rc,
		    err.code ? err.code : "", err.path, err.message, want);
	if (want != 0) {
		assert_string_equal(err.code, code);
		assert_string_equal(err.path, path);
	}
	pr_event_free(parent);
	pr_event_free(ev);
}

static void
test_chain_examples(void **state)
{
	static const char *const pairs[][2] = {
	    {"plan", "tender"},
	    {"tender", "tender.amend"},
	    {"tender-devices", "tender.cancel"},
	    {"tender.amend", "bid.commit"},
	    {"bid.commit", "bid.reveal"},
	    {"tender.amend", "award"},
	    {"award", "contract"},
	    {"contract", "contract.amend"},
	    {"contract.amend", "contract.terminate"},
	    {"contract", "delivery"},
	    {"delivery", "payment"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		expect_parent(
		    example(pairs[i][0]), example(pairs[i][1]), 0, NULL, NULL);
}

static void
test_chain_broken(void **state)
{
	(void)state;
	expect_parent(example("tender"), example("contract"), PR_EEVENT,
	    "bad_parent_kind", "/parent");
	expect_parent(example("contract"), example("bid.reveal"), PR_EEVENT,
	    "bad_parent_kind", "/parent");
	expect_parent(example("tender-devices"), example("tender.amend"),
	    PR_EEVENT, "parent_mismatch", "/ocid");
	expect_parent(example("award"),
	    example_with("contract", "KZ-BIN-151140002468",
	        "KZ-BIN-170540008313", NULL, NULL),
	    PR_EEVENT, "parent_mismatch", "/supplier/id");
	expect_parent(example("award"),
	    example_with("contract", "\"awardID\": \"ED-2025-0001-lot-1\"",
	        "\"awardID\": \"ED-2025-0001-lot-2\"", NULL, NULL),
	    PR_EEVENT, "parent_mismatch", "/awardID");
	expect_parent(example("tender"),
	    example_with("tender.amend", "KZ-BIN-090640001233",
	        "KZ-BIN-120340005670", NULL, NULL),
	    PR_EEVENT, "parent_mismatch", "/buyer/id");
	expect_parent(example("contract"),
	    example_with("delivery", "ED-2025-0001-L1-C1", "ED-2025-0001-L1-C2",
	        NULL, NULL),
	    PR_EEVENT, "parent_mismatch", "/contractID");
	expect_parent(example("contract"),
	    example_with("delivery", "\"milestoneID\": \"m1\"",
	        "\"milestoneID\": \"m9\"", NULL, NULL),
	    PR_EEVENT, "bad_reference", "/milestoneID");
	expect_parent(example("delivery"),
	    example_with("payment",
	        "\"payee\": {\n    \"id\": \"KZ-BIN-151140002468\"",
	        "\"payee\": {\n    \"id\": \"KZ-BIN-170540008313\"", NULL,
	        NULL),
	    PR_EEVENT, "parent_mismatch", "/payee/id");
	expect_parent(example("bid.commit"),
	    example_with("bid.reveal", "7a98ef53", "7a98ef54", NULL, NULL),
	    PR_EEVENT, "commitment_mismatch", "");
}

/* --- Queries ------------------------------------------------------------ */

static void
test_deadline(void **state)
{
	struct pr_event *ev;
	int64_t ms = 0;

	(void)state;
	ev = example("tender");
	assert_int_equal(pr_event_deadline(ev, &ms), 0);
	assert_int_equal(ms, 1741150800000LL); /* 2025-03-05T05:00:00Z */
	pr_event_free(ev);
	ev = example("tender.amend");
	assert_int_equal(pr_event_deadline(ev, &ms), 0);
	assert_int_equal(ms, 1741755600000LL); /* 2025-03-12T05:00:00Z */
	pr_event_free(ev);
	ev = example("award");
	ms = 7;
	assert_int_equal(pr_event_deadline(ev, &ms), PR_ENOTFOUND);
	assert_int_equal(ms, 7);
	pr_event_free(ev);
}

struct keys {
	char buf[1024];
	size_t len;
	int stop_at, count;
};

static int
collect(void *ctx, enum pr_index_type type, const char *key, size_t len)
{
	struct keys *k = ctx;

	k->len += (size_t)snprintf(k->buf + k->len, sizeof(k->buf) - k->len,
	    "%d:%.*s\n", (int)type, (int)len, key);
	if (++k->count == k->stop_at)
		return 42;
	return 0;
}

static void
test_index_keys(void **state)
{
	struct keys k;
	struct pr_event *ev;

	(void)state;
	memset(&k, 0, sizeof(k));
	ev = example("award");
	assert_int_equal(pr_event_index_keys(ev, collect, &k), 0);
	assert_string_equal(k.buf,
	    "1:ocds-pr0kz1-2025-MED-0001\n"
	    "2:award\n"
	    "3:KZ-BIN-090640001233\n"
	    "3:KZ-BIN-151140002468\n"
	    "3:KZ-BIN-170540008313\n"
	    "3:KZ-BIN-191040009875\n"
	    "4:ATC:A10AE04\n"
	    "4:ATC:A10BA02\n"
	    "4:ATC:J01CA04\n"
	    "4:INN:amoxicillin\n"
	    "4:INN:insulin glargine\n"
	    "4:INN:metformin\n");
	memset(&k, 0, sizeof(k));
	k.stop_at = 3;
	assert_int_equal(pr_event_index_keys(ev, collect, &k), 42);
	assert_int_equal(k.count, 3);
	pr_event_free(ev);

	memset(&k, 0, sizeof(k));
	ev = example("key.revoke");
	assert_int_equal(pr_event_index_keys(ev, collect, &k), 0);
	assert_string_equal(k.buf, "2:key.revoke\n");
	pr_event_free(ev);
}

static void
test_totals(void **state)
{
	struct pr_event_totals t;
	struct pr_event *ev;

	(void)state;
	ev = example("contract.amend");
	assert_int_equal(pr_event_totals(ev, &t), 0);
	assert_string_equal(t.currency, "KZT");
	assert_int_equal(t.exponent, 2);
	assert_true(t.has_value && t.items_priced);
	assert_int_equal(t.value, 71908000000LL);
	assert_int_equal(t.items_total, 71908000000LL);
	assert_int_equal(t.n_items, 3);
	assert_int_equal(
	    t.quantity_total, (1200000LL + 275000 + 3000000) * 1000);
	pr_event_free(ev);

	ev = example("delivery");
	assert_int_equal(pr_event_totals(ev, &t), 0);
	assert_false(t.has_value);
	assert_false(t.items_priced);
	assert_string_equal(t.currency, "");
	assert_int_equal(t.quantity_total, 2225000LL * 1000);
	pr_event_free(ev);

	ev = example("payment");
	assert_int_equal(pr_event_totals(ev, &t), 0);
	assert_true(t.has_value);
	assert_int_equal(t.value, 32966500000LL);
	assert_int_equal(t.n_items, 0);
	pr_event_free(ev);
}

static void
test_key_events(void **state)
{
	struct pr_event *ev;
	uint8_t id[PR_EVENT_HASH_LEN];
	char hex[2 * PR_EVENT_HASH_LEN + 1];

	(void)state;
	ev = example("key.grant");
	assert_string_equal(ev->party.id, DIST);
	assert_int_equal(ev->roles, PR_ROLE_BUYER);
	assert_true(ev->has_valid_from && ev->has_valid_until);
	assert_int_equal(pr_event_keyid(ev->public_key, id), 0);
	assert_memory_equal(id, ev->keyid, sizeof(id));
	pr_hex_encode(ev->keyid, sizeof(ev->keyid), hex);
	assert_string_equal(hex,
	    "9714f9855b84c500ef78a53bb9be46765ac6b9f2383299781238803a024b7dc4");
	assert_false(ev->has_parent);
	pr_event_free(ev);
	ev = example("key.revoke");
	assert_int_equal(ev->keyid[0], 0x50);
	assert_non_null(ev->rationale);
	pr_event_free(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kind_names),
	    cmocka_unit_test(test_parent_table),
	    cmocka_unit_test(test_signers_contract),
	    cmocka_unit_test(test_signers_other_kinds),
	    cmocka_unit_test(test_commitment_round_trip),
	    cmocka_unit_test(test_commitment_mismatch),
	    cmocka_unit_test(test_commitment_fields),
	    cmocka_unit_test(test_chain_examples),
	    cmocka_unit_test(test_chain_broken),
	    cmocka_unit_test(test_deadline),
	    cmocka_unit_test(test_index_keys),
	    cmocka_unit_test(test_totals),
	    cmocka_unit_test(test_key_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
