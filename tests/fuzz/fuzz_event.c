/*
 * libFuzzer harness: pr_event_parse() and every query on what it accepts.
 * Invariants are checked with abort() so the fuzzer reports them: a
 * refused input always has a code, a JSON pointer that is valid UTF-8
 * and a message; an accepted one has consistent totals and index keys.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/err.h"
#include "proto/event.h"
#include "proto/evtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

/* Strict UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
static int
utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned n, i;
	uint32_t c;

	while (*p != '\0') {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 1, c = *p & 0x1f;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 2, c = *p & 0x0f;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 3, c = *p & 0x07;
		else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
		    (n == 3 && (c < 0x10000 || c > 0x10ffff)))
			return 0;
		p += n + 1;
	}
	return 1;
}

static int
count_key(void *ctx, enum pr_index_type type, const char *key, size_t len)
{
	size_t *n = ctx;

	check(type >= PR_INDEX_OCID && type <= PR_INDEX_ITEM);
	check(len > 0 && strlen(key) == len);
	(*n)++;
	return 0;
}

static void
queries(const struct pr_event *ev)
{
	const struct pr_kind_rule *rule = pr_kind_rule(ev->kind);
	struct pr_event_error err;
	struct pr_event_totals t;
	struct pr_signer s[2];
	uint8_t h[PR_EVENT_HASH_LEN];
	char buf[PR_TIME_STRLEN];
	int64_t ms;
	size_t nkeys = 0, i;
	int rc;

	check(rule != NULL);
	check(rule->has_ocid == (ev->ocid != NULL));
	check(rule->parent != PR_PARENT_NONE || !ev->has_parent);
	check(rule->parent != PR_PARENT_REQUIRED || ev->has_parent);
	check(pr_time_format(ev->date, buf) == 0);
	check(pr_event_index_keys(ev, count_key, &nkeys) == 0);
	check(nkeys >= 1);
	check(pr_event_totals(ev, &t) == 0);
	check(!t.has_value || t.value >= 0);
	check(!t.items_priced || t.items_total >= 0);
	for (i = 0; i < ev->n_items; i++) {
		check(ev->items[i].id != NULL);
		check(!ev->items[i].has_quantity || ev->items[i].quantity > 0);
	}
	if (pr_event_deadline(ev, &ms) == 0)
		check(ev->kind == PR_KIND_TENDER ||
		    ev->kind == PR_KIND_TENDER_AMEND);
	/* The parties the table names can always sign. */
	for (i = 0; i < rule->n_sign && i < 2; i++) {
		s[i].roles = rule->sign_rules[i].role;
		s[i].party = rule->sign_rules[i].party_off == PR_NO_PARTY
		    ? "XI-ANY-1"
		    : ((const struct pr_party *)((const char *)ev +
		           rule->sign_rules[i].party_off))
		          ->id;
	}
	check(pr_event_check_signers(ev, s, rule->n_sign, &err) == 0);
	check(pr_event_check_signers(ev, NULL, 0, &err) == PR_EDENIED);
	/* An event as its own parent: any answer, but no crash. */
	rc = pr_event_check_parent(ev, ev, &err);
	check(rc == 0 || rc == PR_EEVENT);
	if (ev->kind == PR_KIND_BID_REVEAL)
		check(pr_bid_commitment(ev->ocid, ev->supplier.id, &ev->value,
		          ev->items, ev->n_items, ev->nonce, h) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pr_event_error err;
	struct pr_event *ev = NULL;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = pr_event_parse(data, size, &ev, &err);
	if (rc != 0) {
		check(ev == NULL);
		check(rc == PR_EFORMAT || rc == PR_EEVENT || rc == PR_ETOOBIG ||
		    rc == PR_ENOMEM);
		check(err.code != NULL && err.code[0] != '\0');
		check(err.message[0] != '\0');
		check(err.path[0] == '\0' || err.path[0] == '/');
		check(utf8_ok(err.path) && utf8_ok(err.message));
		return 0;
	}
	queries(ev);
	pr_event_free(ev);
	return 0;
}
