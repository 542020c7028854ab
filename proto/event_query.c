/*
 * Questions asked of a parsed event: its deadline, index keys, money
 * totals, and the sealed-bid commitment.  The one file of the event model
 * that calls OpenSSL (SHA-256).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "proto/buf.h"
#include "proto/err.h"
#include "proto/event_int.h"

int
pr_event_deadline(const struct pr_event *ev, int64_t *ms)
{
	if ((ev->kind != PR_KIND_TENDER && ev->kind != PR_KIND_TENDER_AMEND) ||
	    !ev->tender_period.has_end)
		return PR_ENOTFOUND;
	*ms = ev->tender_period.end;
	return 0;
}

int
pr_event_totals(const struct pr_event *ev, struct pr_event_totals *out)
{
	struct pr_event_totals t;
	const struct pr_item *it;
	int64_t line;
	size_t i;

	memset(&t, 0, sizeof(t));
	if (ev->has_value) {
		memcpy(t.currency, ev->value.currency, sizeof(t.currency));
		t.exponent = ev->value.exponent;
		t.has_value = true;
		t.value = ev->value.amount;
	}
	t.n_items = ev->n_items;
	t.items_priced = ev->n_items > 0;
	for (i = 0; i < ev->n_items; i++) {
		it = &ev->items[i];
		if (it->has_quantity &&
		    pr_money_add(
		        t.quantity_total, it->quantity, &t.quantity_total) != 0)
			return PR_ERANGE;
		if (!it->has_quantity || !it->has_unit_price) {
			t.items_priced = false;
			continue;
		}
		if (t.currency[0] == '\0') {
			memcpy(t.currency, it->unit_price.currency,
			    sizeof(t.currency));
			t.exponent = it->unit_price.exponent;
		}
		if (pr_money_mul_qty(
		        it->unit_price.amount, it->quantity, &line) != 0 ||
		    pr_money_add(t.items_total, line, &t.items_total) != 0)
			return PR_ERANGE;
	}
	if (!t.items_priced)
		t.items_total = 0;
	*out = t;
	return 0;
}

/* --- Index keys ------------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_class(const void *a, const void *b)
{
	const struct pr_classification *x = *(const void *const *)a;
	const struct pr_classification *y = *(const void *const *)b;

	if (x->scheme != y->scheme)
		return x->scheme < y->scheme ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Sort v[0..n) with cmp: insertion sort for the few keys an event
 * usually has (no calls through qsort's function pointer), qsort past
 * that. */
static void
sort_keys(const void **v, size_t n, int (*cmp)(const void *, const void *))
{
	const void *x;
	size_t i, j;

	if (n > 32) {
		qsort(v, n, sizeof(*v), cmp);
		return;
	}
	for (i = 1; i < n; i++) {
		x = v[i];
		for (j = i; j > 0 && cmp(&v[j - 1], &x) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static int
party_keys(const struct pr_event *ev, pr_event_index_fn fn, void *ctx)
{
	const char **ids;
	size_t n = 0, i;
	int rc = 0;

	ids = malloc((5 + ev->n_suppliers + ev->n_bids) * sizeof(*ids));
	if (ids == NULL)
		return PR_ENOMEM;
	if (ev->buyer.id != NULL)
		ids[n++] = ev->buyer.id;
	if (ev->supplier.id != NULL)
		ids[n++] = ev->supplier.id;
	if (ev->payer.id != NULL)
		ids[n++] = ev->payer.id;
	if (ev->payee.id != NULL)
		ids[n++] = ev->payee.id;
	if (ev->party.id != NULL)
		ids[n++] = ev->party.id;
	for (i = 0; i < ev->n_suppliers; i++)
		ids[n++] = ev->suppliers[i].id;
	for (i = 0; i < ev->n_bids; i++)
		ids[n++] = ev->bids[i].supplier.id;
	sort_keys((const void **)ids, n, cmp_str);
	for (i = 0; i < n && rc == 0; i++)
		if (i == 0 || strcmp(ids[i], ids[i - 1]) != 0)
			rc = fn(ctx, PR_INDEX_PARTY, ids[i], strlen(ids[i]));
	free(ids);
	return rc;
}

static int
item_keys(const struct pr_event *ev, pr_event_index_fn fn, void *ctx)
{
	const struct pr_classification **cs;
	const struct pr_item *it;
	char key[8 + PP_INN_MAX + 1];
	size_t n = 0, total = 0, i, k, slen, ilen;
	const char *scheme;
	int rc = 0;

	for (i = 0; i < ev->n_items; i++)
		total += ev->items[i].n_additional + 1;
	if (total == 0)
		return 0;
	if ((cs = malloc(total * sizeof(*cs))) == NULL)
		return PR_ENOMEM;
	for (i = 0; i < ev->n_items; i++) {
		it = &ev->items[i];
		if (it->has_classification)
			cs[n++] = &it->classification;
		for (k = 0; k < it->n_additional; k++)
			cs[n++] = &it->additional[k];
	}
	sort_keys((const void **)cs, n, cmp_class);
	for (i = 0; i < n && rc == 0; i++) {
		if (i > 0 && cmp_class(&cs[i], &cs[i - 1]) == 0)
			continue;
		/* "<scheme>:<id>" */
		scheme = pr_scheme_name(cs[i]->scheme);
		slen = strlen(scheme);
		ilen = strlen(cs[i]->id);
		if (slen + 1 + ilen >= sizeof(key))
			continue;
		memcpy(key, scheme, slen);
		key[slen] = ':';
		memcpy(key + slen + 1, cs[i]->id, ilen + 1);
		rc = fn(ctx, PR_INDEX_ITEM, key, slen + 1 + ilen);
	}
	free(cs);
	return rc;
}

int
pr_event_index_keys(const struct pr_event *ev, pr_event_index_fn fn, void *ctx)
{
	const char *kind = pr_kind_name(ev->kind);
	int rc;

	if (ev->ocid != NULL &&
	    (rc = fn(ctx, PR_INDEX_OCID, ev->ocid, strlen(ev->ocid))) != 0)
		return rc;
	if ((rc = fn(ctx, PR_INDEX_KIND, kind, strlen(kind))) != 0)
		return rc;
	if ((rc = party_keys(ev, fn, ctx)) != 0)
		return rc;
	return item_keys(ev, fn, ctx);
}

/* --- Sealed bids ------------------------------------------------------ */

#define BID_DOMAIN "procured.bid.v1"

static int
put_str(struct pr_buf *b, const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;
	int rc;

	if (len > UINT16_MAX)
		return PR_EINVAL;
	if ((rc = pr_buf_append_be16(b, (uint16_t)len)) != 0)
		return rc;
	return pr_buf_append(b, s, len);
}

static int
put_code(struct pr_buf *b, const struct pr_classification *c)
{
	const char *scheme = pr_scheme_name(c->scheme);
	size_t ls = strlen(scheme), li = strlen(c->id);
	int rc;

	if (ls + 1 + li > UINT16_MAX)
		return PR_EINVAL;
	if ((rc = pr_buf_append_be16(b, (uint16_t)(ls + 1 + li))) != 0 ||
	    (rc = pr_buf_append(b, scheme, ls)) != 0 ||
	    (rc = pr_buf_append_byte(b, ':')) != 0)
		return rc;
	return pr_buf_append(b, c->id, li);
}

/* be16(count) and the item's codes: its classification, then the rest. */
static int
put_codes(struct pr_buf *b, const struct pr_item *it)
{
	size_t n = it->n_additional + (it->has_classification ? 1 : 0), i;
	int rc;

	if (n > UINT16_MAX)
		return PR_EINVAL;
	if ((rc = pr_buf_append_be16(b, (uint16_t)n)) != 0)
		return rc;
	if (it->has_classification &&
	    (rc = put_code(b, &it->classification)) != 0)
		return rc;
	for (i = 0; i < it->n_additional; i++)
		if ((rc = put_code(b, &it->additional[i])) != 0)
			return rc;
	return 0;
}

static int
sha256(const uint8_t *p, size_t len, uint8_t out[PR_EVENT_HASH_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) != 1 ||
	    n != PR_EVENT_HASH_LEN)
		return PR_ECRYPTO;
	return 0;
}

int
pr_bid_commitment(const char *ocid, const char *supplier,
    const struct pr_money *value, const struct pr_item *items, size_t n_items,
    const uint8_t nonce[PR_EVENT_NONCE_LEN], uint8_t out[PR_EVENT_HASH_LEN])
{
	struct pr_buf b = PR_BUF_INIT;
	const struct pr_item *it;
	size_t i;
	int rc;

	if (ocid == NULL || supplier == NULL || value == NULL ||
	    strlen(value->currency) != 3 || n_items > UINT32_MAX)
		return PR_EINVAL;
	if ((rc = pr_buf_append(&b, BID_DOMAIN, sizeof(BID_DOMAIN))) != 0 ||
	    (rc = put_str(&b, ocid)) != 0 ||
	    (rc = put_str(&b, supplier)) != 0 ||
	    (rc = pr_buf_append(&b, value->currency, 3)) != 0 ||
	    (rc = pr_buf_append_be64(&b, (uint64_t)value->amount)) != 0 ||
	    (rc = pr_buf_append_be32(&b, (uint32_t)n_items)) != 0)
		goto free_buf;
	for (i = 0; i < n_items; i++) {
		it = &items[i];
		if ((rc = put_str(&b, it->id)) != 0 ||
		    (rc = put_codes(&b, it)) != 0 ||
		    (rc = pr_buf_append_be64(&b, (uint64_t)it->quantity)) !=
		        0 ||
		    (rc = pr_buf_append_be64(
		         &b, (uint64_t)it->unit_price.amount)) != 0)
			goto free_buf;
	}
	if ((rc = pr_buf_append(&b, nonce, PR_EVENT_NONCE_LEN)) != 0)
		goto free_buf;
	rc = sha256(b.data, b.len, out);
free_buf:
	pr_buf_free(&b);
	return rc;
}

static int
mismatch(struct pr_event_error *err, const char *path, const char *msg)
{
	if (err != NULL) {
		err->code = "commitment_mismatch";
		snprintf(err->path, sizeof(err->path), "%s", path);
		snprintf(err->message, sizeof(err->message), "%s", msg);
	}
	return PR_EEVENT;
}

int
pr_event_reveal_matches(const struct pr_event *reveal,
    const struct pr_event *commit, struct pr_event_error *err)
{
	uint8_t h[PR_EVENT_HASH_LEN];
	int rc;

	if (reveal->kind != PR_KIND_BID_REVEAL ||
	    commit->kind != PR_KIND_BID_COMMIT)
		return PR_EINVAL;
	if (strcmp(reveal->ocid, commit->ocid) != 0)
		return mismatch(err, "/ocid",
		    "the reveal and its commitment belong to different "
		    "processes");
	if (strcmp(reveal->supplier.id, commit->supplier.id) != 0)
		return mismatch(err, "/supplier/id",
		    "the reveal's supplier is not the one that committed");
	if ((rc = pr_bid_commitment(reveal->ocid, reveal->supplier.id,
	         &reveal->value, reveal->items, reveal->n_items, reveal->nonce,
	         h)) != 0)
		return rc;
	if (CRYPTO_memcmp(h, commit->commitment, sizeof(h)) != 0)
		return mismatch(err, "",
		    "SHA-256 of the revealed bid and nonce differs from the "
		    "commitment: the bid is not the one committed to");
	return 0;
}

int
pr_event_keyid(
    const uint8_t pub[PR_EVENT_PUBKEY_LEN], uint8_t out[PR_EVENT_HASH_LEN])
{
	return sha256(pub, PR_EVENT_PUBKEY_LEN, out);
}
