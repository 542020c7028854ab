/*
 * One parse function a kind: which fields it requires, which it allows,
 * and the checks across its fields.  The kind table in event.c lists the
 * field names each kind accepts and points at these functions; common
 * fields (schema, ocid, kind, date, parent, ext) are read before.
 */
#include <string.h>

#include "proto/buf.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/event_int.h"

static int
not_same(struct pr_parse *p, const struct pr_party *a, const char *bkey,
    const struct pr_party *b)
{
	size_t mark;
	int rc;

	if (a->id == NULL || b->id == NULL || strcmp(a->id, b->id) != 0)
		return 0;
	mark = pp_push(p, bkey);
	rc = pp_fail_at(p, "id", "same_party",
	    "the two parties of this event must be different organizations");
	pp_pop(p, mark);
	return rc;
}

static int
roles(struct pr_parse *p, struct pr_json *root, unsigned *out)
{
	struct pr_json *a = NULL, *r;
	unsigned bits = 0, bit;
	size_t i, k, mark;
	int rc;

	if ((rc = pp_array(p, root, "roles", PP_REQ, &a)) != 0)
		return rc;
	mark = pp_push(p, "roles");
	pr_json_array_foreach(a, i, r)
	{
		if (!pr_json_is_string(r)) {
			pp_push_index(p, i);
			rc = pp_fail(p, "bad_type", "expected a string, got %s",
			    pp_typename(r));
			break;
		}
		for (k = 0; k < PP_NROLES; k++)
			if (strcmp(pr_json_str(r), pp_role_names[k]) == 0)
				break;
		bit = 1u << k;
		if (k == PP_NROLES || (bits & bit)) {
			pp_push_index(p, i);
			rc = pp_fail(p, "bad_role",
			    k == PP_NROLES ? "expected \"buyer\", "
			                     "\"supplier\", \"payer\" or "
			                     "\"admin\""
			                   : "this role is listed twice");
			break;
		}
		bits |= bit;
	}
	pp_pop(p, mark);
	if (rc == 0)
		*out = bits;
	return rc;
}

static int
public_key(
    struct pr_parse *p, struct pr_json *root, uint8_t out[PR_EVENT_PUBKEY_LEN])
{
	struct pr_buf b = PR_BUF_INIT;
	const char *s;
	int rc;

	if ((rc = pp_string(p, root, "publicKey", PP_REQ | PP_ID, &s)) != 0)
		return rc;
	if (pr_b64_decode(&b, s, strlen(s), PR_B64_STD) != 0 ||
	    b.len != PR_EVENT_PUBKEY_LEN)
		rc = pp_fail_at(p, "publicKey", "bad_key",
		    "expected the 32-byte raw Ed25519 public key in padded "
		    "standard base64 (44 characters)");
	else
		memcpy(out, b.data, PR_EVENT_PUBKEY_LEN);
	pr_buf_free(&b);
	return rc;
}

int
pp_kind_key_grant(struct pr_parse *p, struct pr_json *root, struct pr_event *ev)
{
	int rc;

	if ((rc = pp_party(p, root, "party", PP_REQ, &ev->party)) != 0 ||
	    (rc = roles(p, root, &ev->roles)) != 0 ||
	    (rc = public_key(p, root, ev->public_key)) != 0 ||
	    (rc = pp_date(p, root, "validFrom", 0, &ev->has_valid_from,
	         &ev->valid_from)) != 0 ||
	    (rc = pp_date(p, root, "validUntil", 0, &ev->has_valid_until,
	         &ev->valid_until)) != 0)
		return rc;
	if (ev->has_valid_from && ev->has_valid_until &&
	    ev->valid_until <= ev->valid_from)
		return pp_fail_at(p, "validUntil", "bad_period",
		    "validUntil must be after validFrom");
	if (pr_event_keyid(ev->public_key, ev->keyid) != 0)
		return pp_nomem(p);
	return 0;
}

int
pp_kind_key_revoke(
    struct pr_parse *p, struct pr_json *root, struct pr_event *ev)
{
	int rc;

	if ((rc = pp_hash(p, root, "keyid", PP_REQ, NULL, ev->keyid)) != 0 ||
	    (rc = pp_string(p, root, "reason", PP_TEXT, &ev->rationale)) != 0)
		return rc;
	return 0;
}

int
pp_kind_plan(struct pr_parse *p, struct pr_json *root, struct pr_event *ev)
{
	int rc;

	if ((rc = pp_party(p, root, "buyer", PP_REQ, &ev->buyer)) != 0 ||
	    (rc = pp_string(p, root, "title", 0, &ev->title)) != 0 ||
	    (rc = pp_string(
	         p, root, "description", PP_TEXT, &ev->description)) != 0 ||
	    (rc = pp_string(p, root, "rationale", PP_TEXT, &ev->rationale)) !=
	        0 ||
	    (rc = pp_items(p, root, "items", 0, IT_FULL, &ev->items,
	         &ev->n_items)) != 0 ||
	    (rc = pp_money(
	         p, root, "value", PP_REQ, &ev->has_value, &ev->value)) != 0 ||
	    (rc = pp_funding(p, root, PP_REQ, &ev->funding)) != 0)
		return rc;
	return 0;
}

int
pp_kind_tender(struct pr_parse *p, struct pr_json *root, struct pr_event *ev)
{
	int method, criteria, category, rc;

	if ((rc = pp_party(p, root, "buyer", PP_REQ, &ev->buyer)) != 0 ||
	    (rc = pp_string(p, root, "id", PP_ID, &ev->id)) != 0 ||
	    (rc = pp_string(p, root, "title", 0, &ev->title)) != 0 ||
	    (rc = pp_string(
	         p, root, "description", PP_TEXT, &ev->description)) != 0 ||
	    (rc = pp_items(p, root, "items", PP_REQ, IT_FULL, &ev->items,
	         &ev->n_items)) != 0 ||
	    (rc = pp_lots(p, root, 0, &ev->lots, &ev->n_lots)) != 0 ||
	    (rc = pp_money(
	         p, root, "value", PP_REQ, &ev->has_value, &ev->value)) != 0 ||
	    (rc = pp_enum(p, root, "procurementMethod", PP_REQ, pp_method_names,
	         PP_NMETHODS, &method)) != 0 ||
	    (rc = pp_string(p, root, "procurementMethodDetails", 0,
	         &ev->method_details)) != 0 ||
	    (rc = pp_enum(p, root, "mainProcurementCategory", 0,
	         pp_category_names, PP_NCATEGORIES, &category)) != 0 ||
	    (rc = pp_enum(p, root, "awardCriteria", PP_REQ, pp_criteria_names,
	         PP_NCRITERIA, &criteria)) != 0 ||
	    (rc = pp_period(p, root, "tenderPeriod", PP_REQ, true,
	         &ev->tender_period)) != 0 ||
	    (rc = pp_funding(p, root, 0, &ev->funding)) != 0)
		return rc;
	ev->method = (enum pr_method)method;
	ev->criteria = (enum pr_criteria)criteria;
	ev->category = (enum pr_category)category;
	return pp_check_lot_refs(p, ev);
}

int
pp_kind_tender_amend(
    struct pr_parse *p, struct pr_json *root, struct pr_event *ev)
{
	int rc;

	if ((rc = pp_party(p, root, "buyer", PP_REQ, &ev->buyer)) != 0 ||
	    (rc = pp_string(p, root, "rationale", PP_REQ | PP_TEXT,
	         &ev->rationale)) != 0 ||
	    (rc = pp_string(p, root, "title", 0, &ev->title)) != 0 ||
	    (rc = pp_string(
	         p, root, "description", PP_TEXT, &ev->description)) != 0 ||
	    (rc = pp_items(p, root, "items", 0, IT_FULL, &ev->items,
	         &ev->n_items)) != 0 ||
	    (rc = pp_lots(p, root, 0, &ev->lots, &ev->n_lots)) != 0 ||
	    (rc = pp_money(p, root, "value", 0, &ev->has_value, &ev->value)) !=
	        0 ||
	    (rc = pp_period(
	         p, root, "tenderPeriod", 0, false, &ev->tender_period)) != 0)
		return rc;
	if (!ev->tender_period.has_end && ev->n_items == 0 && ev->n_lots == 0 &&
	    !ev->has_value && ev->title == NULL && ev->description == NULL)
		return pp_fail(p, "missing_field",
		    "a tender.amend changes at least one of tenderPeriod, "
		    "items, lots, value, title or description");
	return ev->n_lots > 0 ? pp_check_lot_refs(p, ev) : 0;
}

int
pp_kind_tender_cancel(
    struct pr_parse *p, struct pr_json *root, struct pr_event *ev)
{
	int rc;

	if ((rc = pp_party(p, root, "buyer", PP_REQ, &ev->buyer)) != 0 ||
	    (rc = pp_string(
	         p, root, "rationale", PP_REQ | PP_TEXT, &ev->rationale)) != 0)
		return rc;
	return 0;
}

int
pp_kind_bid_commit(
    struct pr_parse *p, struct pr_json *root, struct pr_event *ev)
{
	int rc;

	if ((rc = pp_party(p, root, "supplier", PP_REQ, &ev->supplier)) != 0 ||
	    (rc = pp_hash(p, root, "commitment", PP_REQ, &ev->has_commitment,
	         ev->commitment)) != 0)
		return rc;
	return 0;
}

int
pp_kind_bid_reveal(
    struct pr_parse *p, struct pr_json *root, struct pr_event *ev)
{
	int rc;

	if ((rc = pp_party(p, root, "supplier", PP_REQ, &ev->supplier)) != 0 ||
	    (rc = pp_hash(
	         p, root, "nonce", PP_REQ, &ev->has_nonce, ev->nonce)) != 0 ||
	    (rc = pp_items(p, root, "items", PP_REQ,
	         IT_CLASS | IT_QTY | IT_PRICE, &ev->items, &ev->n_items)) !=
	        0 ||
	    (rc = pp_money(
	         p, root, "value", PP_REQ, &ev->has_value, &ev->value)) != 0)
		return rc;
	return pp_check_value(p, ev);
}

int
pp_kind_award(struct pr_parse *p, struct pr_json *root, struct pr_event *ev)
{
	int rc;

	if ((rc = pp_party(p, root, "buyer", PP_REQ, &ev->buyer)) != 0 ||
	    (rc = pp_string(p, root, "id", PP_REQ | PP_ID, &ev->id)) != 0 ||
	    (rc = pp_string(p, root, "title", 0, &ev->title)) != 0 ||
	    (rc = pp_string(
	         p, root, "description", PP_TEXT, &ev->description)) != 0 ||
	    (rc = pp_parties(p, root, "suppliers", PP_REQ, &ev->suppliers,
	         &ev->n_suppliers)) != 0 ||
	    (rc = pp_items(p, root, "items", PP_REQ, IT_PRICED, &ev->items,
	         &ev->n_items)) != 0 ||
	    (rc = pp_money(
	         p, root, "value", PP_REQ, &ev->has_value, &ev->value)) != 0 ||
	    (rc = pp_bid_results(p, root, 0, &ev->bids, &ev->n_bids)) != 0 ||
	    (rc = pp_check_value(p, ev)) != 0)
		return rc;
	return pp_check_winners(p, ev);
}

int
pp_kind_contract(struct pr_parse *p, struct pr_json *root, struct pr_event *ev)
{
	int rc;

	if ((rc = pp_party(p, root, "buyer", PP_REQ, &ev->buyer)) != 0 ||
	    (rc = pp_party(p, root, "supplier", PP_REQ, &ev->supplier)) != 0 ||
	    (rc = not_same(p, &ev->buyer, "supplier", &ev->supplier)) != 0 ||
	    (rc = pp_string(p, root, "id", PP_REQ | PP_ID, &ev->id)) != 0 ||
	    (rc = pp_string(
	         p, root, "awardID", PP_REQ | PP_ID, &ev->award_id)) != 0 ||
	    (rc = pp_string(p, root, "title", 0, &ev->title)) != 0 ||
	    (rc = pp_string(
	         p, root, "description", PP_TEXT, &ev->description)) != 0 ||
	    (rc = pp_items(p, root, "items", PP_REQ, IT_PRICED, &ev->items,
	         &ev->n_items)) != 0 ||
	    (rc = pp_money(
	         p, root, "value", PP_REQ, &ev->has_value, &ev->value)) != 0 ||
	    (rc = pp_period(p, root, "period", PP_REQ, true, &ev->period)) !=
	        0 ||
	    (rc = pp_date(p, root, "dateSigned", 0, &ev->has_date_signed,
	         &ev->date_signed)) != 0 ||
	    (rc = pp_milestones(
	         p, root, 0, &ev->milestones, &ev->n_milestones)) != 0 ||
	    (rc = pp_funding(p, root, PP_REQ, &ev->funding)) != 0 ||
	    (rc = pp_check_value(p, ev)) != 0)
		return rc;
	return pp_check_milestone_refs(p, ev);
}

int
pp_kind_contract_amend(
    struct pr_parse *p, struct pr_json *root, struct pr_event *ev)
{
	int rc;

	if ((rc = pp_party(p, root, "buyer", PP_REQ, &ev->buyer)) != 0 ||
	    (rc = pp_party(p, root, "supplier", PP_REQ, &ev->supplier)) != 0 ||
	    (rc = not_same(p, &ev->buyer, "supplier", &ev->supplier)) != 0 ||
	    (rc = pp_string(p, root, "contractID", PP_REQ | PP_ID,
	         &ev->contract_id)) != 0 ||
	    (rc = pp_string(p, root, "rationale", PP_REQ | PP_TEXT,
	         &ev->rationale)) != 0 ||
	    (rc = pp_items(p, root, "items", 0, IT_PRICED, &ev->items,
	         &ev->n_items)) != 0 ||
	    (rc = pp_money(
	         p, root, "value", PP_REQ, &ev->has_value, &ev->value)) != 0 ||
	    (rc = pp_period(p, root, "period", 0, true, &ev->period)) != 0 ||
	    (rc = pp_milestones(
	         p, root, 0, &ev->milestones, &ev->n_milestones)) != 0 ||
	    (rc = pp_check_value(p, ev)) != 0)
		return rc;
	return pp_check_milestone_refs(p, ev);
}

int
pp_kind_contract_terminate(
    struct pr_parse *p, struct pr_json *root, struct pr_event *ev)
{
	int rc;

	if ((rc = pp_party(p, root, "buyer", PP_REQ, &ev->buyer)) != 0 ||
	    (rc = pp_party(p, root, "supplier", PP_REQ, &ev->supplier)) != 0 ||
	    (rc = not_same(p, &ev->buyer, "supplier", &ev->supplier)) != 0 ||
	    (rc = pp_string(p, root, "contractID", PP_REQ | PP_ID,
	         &ev->contract_id)) != 0 ||
	    (rc = pp_string(
	         p, root, "rationale", PP_REQ | PP_TEXT, &ev->rationale)) != 0)
		return rc;
	return 0;
}

int
pp_kind_delivery(struct pr_parse *p, struct pr_json *root, struct pr_event *ev)
{
	int rc;

	if ((rc = pp_party(p, root, "buyer", PP_REQ, &ev->buyer)) != 0 ||
	    (rc = pp_party(p, root, "supplier", PP_REQ, &ev->supplier)) != 0 ||
	    (rc = not_same(p, &ev->buyer, "supplier", &ev->supplier)) != 0 ||
	    (rc = pp_string(p, root, "contractID", PP_REQ | PP_ID,
	         &ev->contract_id)) != 0 ||
	    (rc = pp_string(
	         p, root, "milestoneID", PP_ID, &ev->milestone_id)) != 0 ||
	    (rc = pp_date(p, root, "deliveryDate", 0, &ev->has_delivery_date,
	         &ev->delivery_date)) != 0 ||
	    (rc = pp_items(p, root, "items", PP_REQ, IT_QTY, &ev->items,
	         &ev->n_items)) != 0)
		return rc;
	return 0;
}

int
pp_kind_payment(struct pr_parse *p, struct pr_json *root, struct pr_event *ev)
{
	int rc;

	if ((rc = pp_string(p, root, "id", PP_REQ | PP_ID, &ev->id)) != 0 ||
	    (rc = pp_party(p, root, "payer", PP_REQ, &ev->payer)) != 0 ||
	    (rc = pp_party(p, root, "payee", PP_REQ, &ev->payee)) != 0 ||
	    (rc = not_same(p, &ev->payer, "payee", &ev->payee)) != 0 ||
	    (rc = pp_string(p, root, "contractID", PP_REQ | PP_ID,
	         &ev->contract_id)) != 0 ||
	    (rc = pp_string(
	         p, root, "milestoneID", PP_ID, &ev->milestone_id)) != 0 ||
	    (rc = pp_money(
	         p, root, "value", PP_REQ, &ev->has_value, &ev->value)) != 0 ||
	    (rc = pp_funding(p, root, PP_REQ, &ev->funding)) != 0)
		return rc;
	if (ev->value.amount <= 0) {
		size_t mark = pp_push(p, "value");

		rc = pp_fail_at(p, "amount", "bad_money",
		    "a payment amount is greater than zero");
		pp_pop(p, mark);
	}
	return rc;
}
