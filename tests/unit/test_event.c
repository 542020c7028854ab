/*
 * Unit tests: proto/event*.c.  Every example in docs/examples parses; a
 * table of broken inputs, each built from an example by one change, gets
 * its exact error code and JSON pointer.  Run from the source root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "proto/err.h"
#include "proto/event.h"

#define EXAMPLES "docs/examples/"

static char *
load_example(const char *name, size_t *len)
{
	char path[256];
	FILE *f;
	char *p;
	long n;

	snprintf(path, sizeof(path), EXAMPLES "%s.json", name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (run from the source root)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
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
parse_example(const char *name)
{
	struct pr_event_error err;
	struct pr_event *ev = NULL;
	size_t len;
	char *p = load_example(name, &len);
	int rc;

	rc = pr_event_parse((const uint8_t *)p, len, &ev, &err);
	if (rc != 0)
		fail_msg("%s: %s %s %s", name, err.code, err.path, err.message);
	free(p);
	return ev;
}

static void
test_examples_parse(void **state)
{
	static const struct {
		const char *file;
		enum pr_kind kind;
	} ex[] = {
	    {"key.grant", PR_KIND_KEY_GRANT},
	    {"key.revoke", PR_KIND_KEY_REVOKE},
	    {"plan", PR_KIND_PLAN},
	    {"tender", PR_KIND_TENDER},
	    {"tender-devices", PR_KIND_TENDER},
	    {"tender.amend", PR_KIND_TENDER_AMEND},
	    {"tender.cancel", PR_KIND_TENDER_CANCEL},
	    {"bid.commit", PR_KIND_BID_COMMIT},
	    {"bid.reveal", PR_KIND_BID_REVEAL},
	    {"award", PR_KIND_AWARD},
	    {"contract", PR_KIND_CONTRACT},
	    {"contract.amend", PR_KIND_CONTRACT_AMEND},
	    {"contract.terminate", PR_KIND_CONTRACT_TERMINATE},
	    {"delivery", PR_KIND_DELIVERY},
	    {"payment", PR_KIND_PAYMENT},
	};
	bool seen[PR_KIND_COUNT] = {false};
	struct pr_event *ev;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		ev = parse_example(ex[i].file);
		assert_int_equal(ev->kind, ex[i].kind);
		seen[ev->kind] = true;
		if (pr_kind_rule(ev->kind)->has_ocid)
			assert_non_null(ev->ocid);
		else
			assert_null(ev->ocid);
		pr_event_free(ev);
	}
	for (i = 0; i < PR_KIND_COUNT; i++)
		assert_true(seen[i]);
}

static void
test_tender_fields(void **state)
{
	struct pr_event *ev = parse_example("tender");
	const struct pr_item *it;

	(void)state;
	assert_string_equal(ev->ocid, "ocds-pr0kz1-2025-MED-0001");
	assert_int_equal(ev->date, 1738555200000LL);
	assert_true(ev->has_parent);
	assert_int_equal(ev->parent[0], 0xd6);
	assert_string_equal(ev->buyer.id, "KZ-BIN-090640001233");
	assert_int_equal(ev->n_items, 4);
	it = &ev->items[1];
	assert_string_equal(it->id, "2");
	assert_int_equal(it->classification.scheme, PR_SCHEME_ATC);
	assert_string_equal(it->classification.id, "A10AE04");
	assert_int_equal(it->n_additional, 1);
	assert_int_equal(it->additional[0].scheme, PR_SCHEME_INN);
	assert_string_equal(it->additional[0].id, "insulin glargine");
	assert_int_equal(it->quantity, 250000LL * 1000);
	assert_string_equal(it->unit_code, "H87");
	assert_int_equal(it->unit_price.amount, 245000);
	assert_string_equal(it->unit_price.currency, "KZT");
	assert_int_equal(it->unit_price.exponent, 2);
	assert_string_equal(it->related_lot, "lot-1");
	assert_int_equal(ev->n_lots, 2);
	assert_int_equal(ev->value.amount, 113610000000LL);
	assert_int_equal(ev->method, PR_METHOD_OPEN);
	assert_int_equal(ev->criteria, PR_CRITERIA_PRICE_ONLY);
	assert_int_equal(ev->category, PR_CATEGORY_GOODS);
	assert_int_equal(ev->funding, PR_FUNDING_OSMS);
	assert_int_equal(ev->tender_period.end, 1741150800000LL);
	pr_event_free(ev);
}

/* --- Broken inputs ------------------------------------------------------ */

enum op { SET, DEL };

struct broken {
	const char *example;
	enum op op;
	const char *pointer; /* RFC 6901, "~1" for '/' */
	const char *value; /* JSON text for SET */
	const char *code;
	const char *path;
};

static const struct broken broken[] = {
    /* common fields */
    {"tender", DEL, "/ocid", NULL, "missing_field", "/ocid"},
    {"tender", SET, "/ocid", "\"ocds-ABCDEF-1\"", "bad_ocid", "/ocid"},
    {"tender", SET, "/ocid", "\"ocds-abc-1\"", "bad_ocid", "/ocid"},
    {"tender", SET, "/ocid", "\"ocds-pr0kz1-a b\"", "bad_ocid", "/ocid"},
    {"tender", SET, "/ocid", "\"ocds-pr0kz1-a#b\"", "bad_ocid", "/ocid"},
    {"tender", DEL, "/date", NULL, "missing_field", "/date"},
    {"tender", SET, "/date", "\"2025-02-03T10:00:00+06:00\"", "bad_date",
        "/date"},
    {"tender", SET, "/date", "\"2025-02-03T04:00:00+00:00\"", "bad_date",
        "/date"},
    {"tender", SET, "/date", "\"2025-02-29T00:00:00Z\"", "bad_date", "/date"},
    {"tender", SET, "/date", "\"2025-02-03T24:00:00Z\"", "bad_date", "/date"},
    {"tender", SET, "/date", "\"2025-02-03\"", "bad_date", "/date"},
    {"tender", SET, "/date", "1738555200", "bad_type", "/date"},
    {"tender", SET, "/parent",
        "\"D6EF138DEE19619B764EB508AE5BD08D49A39007F2A6EE192966FECA2B8B077C\"",
        "bad_hex", "/parent"},
    {"tender", SET, "/parent", "\"d6ef\"", "bad_hex", "/parent"},
    {"tender", SET, "/schema", "2", "bad_version", "/schema"},
    {"tender", SET, "/schema", "\"1\"", "bad_type", "/schema"},
    {"tender", SET, "/kind", "\"tender.extend\"", "unknown_kind", "/kind"},
    {"tender", SET, "/kind", "7", "bad_type", "/kind"},
    {"tender", DEL, "/kind", NULL, "missing_field", "/kind"},
    {"tender", SET, "/status", "\"active\"", "unknown_field", "/status"},
    {"tender", SET, "/x~1y", "1", "unknown_field", "/x~1y"},
    {"tender", SET, "/a~0b", "1", "unknown_field", "/a~0b"},
    {"tender", SET, "/ext", "[]", "bad_type", "/ext"},
    {"tender", SET, "/title", "1.5", "bad_type", "/title"},
    {"tender", SET, "/title", "null", "bad_type", "/title"},
    {"tender", SET, "/title", "\"\"", "bad_string", "/title"},
    {"tender", SET, "/description", "\"a\\u0001b\"", "bad_string",
        "/description"},
    {"tender", SET, "/id", "\"ED 2025\"", "bad_id", "/id"},
    /* parties */
    {"tender", DEL, "/buyer", NULL, "missing_field", "/buyer"},
    {"tender", SET, "/buyer", "\"KZ-BIN-090640001233\"", "bad_type", "/buyer"},
    {"tender", SET, "/buyer/id", "\"KZ-BIN-090640001234\"", "bad_bin",
        "/buyer/id"},
    {"tender", SET, "/buyer/id", "\"KZ-BIN-09064000123\"", "bad_bin",
        "/buyer/id"},
    {"tender", SET, "/buyer/id", "\"KZ-BIN-130440001900\"", "bad_bin",
        "/buyer/id"},
    {"tender", SET, "/buyer/id", "\"QQ-ABC-1\"", "bad_identifier", "/buyer/id"},
    {"tender", SET, "/buyer/id", "\"KZ-bin-1\"", "bad_identifier", "/buyer/id"},
    {"tender", SET, "/buyer/id", "\"KZ-BIN\"", "bad_identifier", "/buyer/id"},
    {"tender", SET, "/buyer/bin", "\"090640001233\"", "unknown_field",
        "/buyer/bin"},
    /* money */
    {"tender", SET, "/items/0/unitPrice/amount", "28.5", "bad_money",
        "/items/0/unitPrice/amount"},
    {"tender", SET, "/value/amount", "1136100000", "bad_money",
        "/value/amount"},
    {"tender", SET, "/items/0/unitPrice/amount", "\"28.505\"",
        "too_many_decimals", "/items/0/unitPrice/amount"},
    {"tender", SET, "/items/0/unitPrice/amount", "\"0.001\"",
        "too_many_decimals", "/items/0/unitPrice/amount"},
    {"tender", SET, "/items/0/unitPrice/amount", "\"1e3\"", "bad_money",
        "/items/0/unitPrice/amount"},
    {"tender", SET, "/items/0/unitPrice/amount", "\"-1\"", "bad_money",
        "/items/0/unitPrice/amount"},
    {"tender", SET, "/items/0/unitPrice/amount", "\"01.50\"", "bad_money",
        "/items/0/unitPrice/amount"},
    {"tender", SET, "/items/0/unitPrice/amount", "\"+1\"", "bad_money",
        "/items/0/unitPrice/amount"},
    {"tender", SET, "/items/0/unitPrice/amount", "\".5\"", "bad_money",
        "/items/0/unitPrice/amount"},
    {"tender", SET, "/items/0/unitPrice/amount", "\"1.\"", "bad_money",
        "/items/0/unitPrice/amount"},
    {"tender", SET, "/items/0/unitPrice/amount", "\"\"", "bad_money",
        "/items/0/unitPrice/amount"},
    {"tender", SET, "/items/0/unitPrice/amount", "\"1 000\"", "bad_money",
        "/items/0/unitPrice/amount"},
    {"tender", SET, "/items/0/unitPrice/amount", "\"92233720368547758.08\"",
        "money_overflow", "/items/0/unitPrice/amount"},
    {"tender", SET, "/items/0/unitPrice/currency", "\"XYZ\"", "bad_currency",
        "/items/0/unitPrice/currency"},
    {"tender", SET, "/items/0/unitPrice/currency", "\"kzt\"", "bad_currency",
        "/items/0/unitPrice/currency"},
    {"tender", SET, "/items/1/unitPrice/currency", "\"USD\"",
        "currency_mismatch", "/items/1/unitPrice/currency"},
    {"tender", DEL, "/value/currency", NULL, "missing_field",
        "/value/currency"},
    {"tender", SET, "/value/vat", "\"0\"", "unknown_field", "/value/vat"},
    /* items */
    {"tender", SET, "/items", "[]", "empty_array", "/items"},
    {"tender", SET, "/items/0", "\"x\"", "bad_type", "/items/0"},
    {"tender", DEL, "/items/0/id", NULL, "missing_field", "/items/0/id"},
    {"tender", SET, "/items/1/id", "\"1\"", "duplicate_id", "/items/1/id"},
    {"tender", DEL, "/items/2/classification", NULL, "missing_field",
        "/items/2/classification"},
    {"tender", SET, "/items/0/classification/scheme", "\"CPV\"",
        "bad_classification", "/items/0/classification/scheme"},
    {"tender", SET, "/items/0/classification/id", "\"J01CA4\"",
        "bad_classification", "/items/0/classification/id"},
    {"tender", SET, "/items/0/classification/id", "\"E01AA01\"",
        "bad_classification", "/items/0/classification/id"},
    {"tender", SET, "/items/0/classification",
        "{\"scheme\":\"GTIN\",\"id\":\"04870123456788\"}", "bad_classification",
        "/items/0/classification/id"},
    {"tender", SET, "/items/0/classification",
        "{\"scheme\":\"KTRU\",\"id\":\"325013.300.00001\"}",
        "bad_classification", "/items/0/classification/id"},
    {"tender", SET, "/items/0/classification",
        "{\"scheme\":\"GMDN\",\"id\":\"01321\"}", "bad_classification",
        "/items/0/classification/id"},
    {"tender", SET, "/items/0/classification/code", "\"x\"", "unknown_field",
        "/items/0/classification/code"},
    {"tender", SET, "/items/0/additionalClassifications/0/id", "\"\"",
        "bad_string", "/items/0/additionalClassifications/0/id"},
    {"tender", SET, "/items/0/quantity", "0", "bad_quantity",
        "/items/0/quantity"},
    {"tender", SET, "/items/0/quantity", "-5", "bad_quantity",
        "/items/0/quantity"},
    {"tender", SET, "/items/0/quantity", "-9223372036854775807", "bad_quantity",
        "/items/0/quantity"},
    {"tender", SET, "/items/0/quantity", "9223372036854776", "bad_quantity",
        "/items/0/quantity"},
    {"tender", SET, "/items/0/quantity", "\"9223372036854775.808\"",
        "bad_quantity", "/items/0/quantity"},
    {"tender", SET, "/items/0/quantity", "2.5", "bad_quantity",
        "/items/0/quantity"},
    {"tender", SET, "/items/0/quantity", "\"2.5555\"", "too_many_decimals",
        "/items/0/quantity"},
    {"tender", SET, "/items/0/quantity", "\"abc\"", "bad_quantity",
        "/items/0/quantity"},
    {"tender", SET, "/items/0/quantity", "true", "bad_type",
        "/items/0/quantity"},
    {"tender", SET, "/items/0/unit/code", "\"piece\"", "bad_unit",
        "/items/0/unit/code"},
    {"tender", DEL, "/items/0/unit", NULL, "missing_field", "/items/0/unit"},
    {"tender", SET, "/items/0/relatedLot", "\"lot-9\"", "bad_reference",
        "/items/0/relatedLot"},
    {"tender", SET, "/lots/1/id", "\"lot-1\"", "duplicate_id", "/lots/1/id"},
    {"tender", SET, "/procurementMethod", "\"auction\"", "bad_enum",
        "/procurementMethod"},
    {"tender", SET, "/awardCriteria", "\"lowestCost\"", "bad_enum",
        "/awardCriteria"},
    {"tender", SET, "/fundingSource", "\"budget\"", "bad_enum",
        "/fundingSource"},
    {"tender", SET, "/tenderPeriod/endDate", "\"2025-02-01T00:00:00Z\"",
        "bad_period", "/tenderPeriod/endDate"},
    {"tender", DEL, "/tenderPeriod/endDate", NULL, "missing_field",
        "/tenderPeriod/endDate"},
    /* kinds */
    {"plan", SET, "/parent",
        "\"d6ef138dee19619b764eb508ae5bd08d49a39007f2a6ee192966feca2b8b077c\"",
        "unknown_field", "/parent"},
    {"plan", DEL, "/fundingSource", NULL, "missing_field", "/fundingSource"},
    {"key.grant", SET, "/ocid", "\"ocds-pr0kz1-1\"", "unknown_field", "/ocid"},
    {"key.grant", SET, "/roles", "[\"buyer\",\"root\"]", "bad_role",
        "/roles/1"},
    {"key.grant", SET, "/roles", "[\"buyer\",\"buyer\"]", "bad_role",
        "/roles/1"},
    {"key.grant", SET, "/roles", "[]", "empty_array", "/roles"},
    {"key.grant", SET, "/publicKey", "\"AAAA\"", "bad_key", "/publicKey"},
    {"key.grant", SET, "/validUntil", "\"2025-01-01T00:00:00Z\"", "bad_period",
        "/validUntil"},
    {"key.revoke", SET, "/keyid",
        "\"50A2017278F530B221230E03B99A43B4DC19EB94044D718B2669DC4E110998DE\"",
        "bad_hex", "/keyid"},
    {"tender.amend", DEL, "/tenderPeriod", NULL, "missing_field", ""},
    {"tender.amend", DEL, "/rationale", NULL, "missing_field", "/rationale"},
    {"tender.cancel", DEL, "/parent", NULL, "missing_field", "/parent"},
    {"bid.commit", SET, "/commitment", "\"abc\"", "bad_hex", "/commitment"},
    {"bid.commit", SET, "/buyer", "{\"id\":\"KZ-BIN-090640001233\"}",
        "unknown_field", "/buyer"},
    {"bid.reveal", SET, "/value/amount", "\"1.00\"", "value_mismatch",
        "/value/amount"},
    {"bid.reveal", DEL, "/items/0/unitPrice", NULL, "missing_field",
        "/items/0/unitPrice"},
    {"bid.reveal", SET, "/nonce", "\"00\"", "bad_hex", "/nonce"},
    {"award", SET, "/bids/0/rank", "2", "bad_rank", "/bids/1/rank"},
    {"award", SET, "/bids/1/rank", "5", "bad_rank", "/bids/1/rank"},
    {"award", SET, "/bids/0/rank", "0", "bad_rank", "/bids/0/rank"},
    {"award", SET, "/bids/2/rank", "3", "bad_rank", "/bids/2/rank"},
    {"award", DEL, "/bids/2/reason", NULL, "missing_field", "/bids/2/reason"},
    {"award", DEL, "/bids/1/rank", NULL, "missing_field", "/bids/1/rank"},
    {"award", SET, "/bids/1/supplier/id", "\"KZ-BIN-151140002468\"",
        "duplicate_id", "/bids/1/supplier"},
    {"award", SET, "/suppliers/0/id", "\"KZ-BIN-191040009875\"",
        "bad_reference", "/suppliers/0/id"},
    {"award", SET, "/bids/0/status", "\"winner\"", "bad_enum",
        "/bids/0/status"},
    {"award", SET, "/items/0/unitPrice/amount", "\"27.91\"", "value_mismatch",
        "/value/amount"},
    {"contract", SET, "/supplier/id", "\"KZ-BIN-090640001233\"", "same_party",
        "/supplier/id"},
    {"contract", DEL, "/supplier", NULL, "missing_field", "/supplier"},
    {"contract", SET, "/milestones/0/items/0/id", "\"9\"", "bad_reference",
        "/milestones/0/items/0/id"},
    {"contract", SET, "/milestones/1/type", "\"invoice\"", "bad_enum",
        "/milestones/1/type"},
    {"contract", SET, "/milestones/1/id", "\"m1\"", "duplicate_id",
        "/milestones/1/id"},
    {"contract", DEL, "/fundingSource", NULL, "missing_field",
        "/fundingSource"},
    {"contract", SET, "/items/0/quantity", "1200001", "value_mismatch",
        "/value/amount"},
    {"contract", SET, "/items/0/unitPrice/amount", "\"92233720368547758.07\"",
        "money_overflow", "/items"},
    {"contract", SET, "/period/startDate", "\"2026-01-01T00:00:00Z\"",
        "bad_period", "/period/endDate"},
    {"contract.amend", DEL, "/value", NULL, "missing_field", "/value"},
    {"contract.terminate", DEL, "/contractID", NULL, "missing_field",
        "/contractID"},
    {"delivery", SET, "/items/0/quantity", "\"-5\"", "bad_quantity",
        "/items/0/quantity"},
    {"delivery", SET, "/deliveryDate", "\"2025-05-14T09:40:00z\"", "bad_date",
        "/deliveryDate"},
    {"payment", SET, "/value/amount", "\"0\"", "bad_money", "/value/amount"},
    {"payment", SET, "/payee/id", "\"KZ-BIN-160740000214\"", "same_party",
        "/payee/id"},
    {"payment", SET, "/value/currency", "\"JPY\"", "too_many_decimals",
        "/value/amount"},
};

/* Follow pointer to its last token: *parent and the unescaped token. */
static json_t *
resolve(json_t *root, const char *pointer, char *last, size_t size)
{
	json_t *cur = root;
	char tok[128];
	const char *p = pointer, *end;
	size_t n, i, o;

	while (*p == '/') {
		p++;
		end = strchr(p, '/');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		for (i = 0, o = 0; i < n && o < sizeof(tok) - 1; i++) {
			if (p[i] == '~' && i + 1 < n) {
				tok[o++] = p[i + 1] == '1' ? '/' : '~';
				i++;
			} else
				tok[o++] = p[i];
		}
		tok[o] = '\0';
		if (end == NULL) {
			snprintf(last, size, "%s", tok);
			return cur;
		}
		cur = json_is_array(cur)
		    ? json_array_get(cur, strtoul(tok, NULL, 10))
		    : json_object_get(cur, tok);
		assert_non_null(cur);
		p = end;
	}
	fail_msg("bad pointer %s", pointer);
	return NULL;
}

static char *
mutate(const struct broken *b)
{
	json_error_t jerr;
	json_t *root, *parent, *v;
	char last[128], *out;
	size_t len;
	char *text = load_example(b->example, &len);

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	assert_non_null(root);
	parent = resolve(root, b->pointer, last, sizeof(last));
	if (b->op == SET) {
		v = json_loads(b->value, JSON_DECODE_ANY, &jerr);
		if (v == NULL)
			fail_msg("bad value %s: %s", b->value, jerr.text);
		if (json_is_array(parent))
			assert_int_equal(json_array_set_new(parent,
			                     strtoul(last, NULL, 10), v),
			    0);
		else
			assert_int_equal(
			    json_object_set_new(parent, last, v), 0);
	} else if (json_is_array(parent))
		assert_int_equal(
		    json_array_remove(parent, strtoul(last, NULL, 10)), 0);
	else
		assert_int_equal(json_object_del(parent, last), 0);
	out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	assert_non_null(out);
	return out;
}

static void
test_broken_table(void **state)
{
	struct pr_event_error err;
	struct pr_event *ev;
	size_t i, n = sizeof(broken) / sizeof(broken[0]);
	char *text;
	int rc;

	(void)state;
	assert_true(n >= 60);
	for (i = 0; i < n; i++) {
		text = mutate(&broken[i]);
		memset(&err, 0, sizeof(err));
		ev = NULL;
		rc = pr_event_parse(
		    (const uint8_t *)text, strlen(text), &ev, &err);
		if (rc == 0)
			fail_msg("row %zu (%s %s): parsed, want %s", i,
			    broken[i].example, broken[i].pointer,
			    broken[i].code);
		if (rc != PR_EEVENT || strcmp(err.code, broken[i].code) != 0 ||
		    strcmp(err.path, broken[i].path) != 0)
			fail_msg("row %zu (%s %s): got %d %s %s (%s), want %s "
			         "%s",
			    i, broken[i].example, broken[i].pointer, rc,
			    err.code, err.path, err.message, broken[i].code,
			    broken[i].path);
		assert_null(ev);
		assert_true(strlen(err.message) > 0);
		if (getenv("EVENT_TEST_VERBOSE") != NULL)
			printf("%-16s %-36s %s\n", err.code, err.path,
			    err.message);
		free(text);
	}
}

static void
expect_raw(const char *text, size_t len, int want_rc, const char *code)
{
	struct pr_event_error err;
	struct pr_event *ev = NULL;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = pr_event_parse((const uint8_t *)text, len, &ev, &err);
	if (rc != want_rc || strcmp(err.code, code) != 0)
		fail_msg("%.60s: got %d %s (%s), want %d %s", text, rc,
		    err.code, err.message, want_rc, code);
	assert_string_equal(
	    err.path, strcmp(code, "missing_field") == 0 ? "/kind" : "");
	assert_null(ev);
}

static void
test_broken_syntax(void **state)
{
	char *big, deep[200];
	size_t i, n;

	(void)state;
	expect_raw("", 0, PR_EFORMAT, "bad_json");
	expect_raw("{", 1, PR_EFORMAT, "bad_json");
	expect_raw("[]", 2, PR_EEVENT, "bad_type");
	expect_raw("\"tender\"", 8, PR_EFORMAT, "bad_json");
	expect_raw("{}", 2, PR_EEVENT, "missing_field");
	expect_raw("{\"kind\":\"plan\",\"kind\":\"plan\"}", 29, PR_EFORMAT,
	    "duplicate_key");
	expect_raw("{\"kind\":\"plan\"} x", 17, PR_EFORMAT, "bad_json");
	expect_raw("{\"kind\":\"pl\xc3\"}", 14, PR_EFORMAT, "bad_json");
	expect_raw("{\"kind\":\"a\\u0000b\"}", 19, PR_EFORMAT, "bad_json");
	expect_raw("{\"kind\":\"\\ud800\"}", 17, PR_EFORMAT, "bad_json");
	expect_raw("{\"n\":1e400}", 11, PR_EFORMAT, "bad_json");
	expect_raw("{\"n\":99999999999999999999}", 26, PR_EFORMAT, "bad_json");
	/* 17 levels of nesting (the root object is level 1). */
	n = 0;
	deep[n++] = '{';
	memcpy(deep + n, "\"ext\":", 6);
	n += 6;
	for (i = 0; i < 16; i++)
		deep[n++] = '[';
	for (i = 0; i < 16; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	expect_raw(deep, n, PR_EFORMAT, "too_deep");
	big = malloc(PR_EVENT_MAX_SIZE + 1);
	assert_non_null(big);
	memset(big, ' ', PR_EVENT_MAX_SIZE + 1);
	big[0] = '{';
	big[PR_EVENT_MAX_SIZE] = '}';
	expect_raw(big, PR_EVENT_MAX_SIZE + 1, PR_ETOOBIG, "too_large");
	free(big);
}

/* Unknown keys in paths are escaped and clipped on UTF-8 boundaries. */
static void
test_error_path_utf8(void **state)
{
	struct pr_event_error err;
	struct pr_event *ev = NULL;
	char text[1024];
	size_t i, n;
	int rc;

	(void)state;
	n = (size_t)snprintf(
	    text, sizeof(text), "{\"kind\":\"tender.cancel\",\"a");
	for (i = 0; i < 100; i++) {
		memcpy(text + n, "\xd0\x96", 2); /* U+0416 */
		n += 2;
	}
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\":1}");
	rc = pr_event_parse((const uint8_t *)text, n, &ev, &err);
	assert_int_equal(rc, PR_EEVENT);
	assert_string_equal(err.code, "unknown_field");
	/* "/a" and 62 whole characters: the 63rd would not fit in 127. */
	assert_int_equal(strlen(err.path), 126);
	assert_memory_equal(err.path, "/a\xd0\x96", 4);
	assert_memory_equal(err.path + 124, "\xd0\x96", 2);
}

/* ext holds anything, including numbers with fractions. */
static void
test_ext_allowed(void **state)
{
	static const struct broken ok = {"tender", SET, "/ext",
	    "{\"kz.example\":{\"score\":1.5,\"tags\":[\"a\",null]}}", NULL,
	    NULL};
	struct pr_event_error err;
	struct pr_event *ev = NULL;
	char *text = mutate(&ok);

	(void)state;
	assert_int_equal(
	    pr_event_parse((const uint8_t *)text, strlen(text), &ev, &err), 0);
	pr_event_free(ev);
	free(text);
}

/* Brackets inside strings, escaped quotes and backslashes included, do
 * not count towards the depth limit. */
static void
test_depth_ignores_strings(void **state)
{
	static const struct broken title = {"plan", SET, "/title",
	    "\"x\\\"[[[[[[[[[[[[[[[[[[[[{{{{\\\\\"", NULL, NULL};
	struct pr_event_error err;
	struct pr_event *ev = NULL;
	char *text = mutate(&title);

	(void)state;
	assert_non_null(strstr(text, "\\\"[[[["));
	if (pr_event_parse((const uint8_t *)text, strlen(text), &ev, &err) != 0)
		fail_msg("%s %s %s", err.code, err.path, err.message);
	assert_string_equal(ev->title, "x\"[[[[[[[[[[[[[[[[[[[[{{{{\\");
	pr_event_free(ev);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_examples_parse),
	    cmocka_unit_test(test_tender_fields),
	    cmocka_unit_test(test_broken_table),
	    cmocka_unit_test(test_broken_syntax),
	    cmocka_unit_test(test_error_path_utf8),
	    cmocka_unit_test(test_ext_allowed),
	    cmocka_unit_test(test_depth_ignores_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
