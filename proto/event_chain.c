/*
 * Rules between an event and its parent: the same process, an allowed
 * kind, and the same parties and references along the chain.  The daemon
 * applies them at ingest and the auditor's verifier on replay, so both
 * judge a chain by one implementation.
 */
#include <stdio.h>
#include <string.h>

#include "proto/err.h"
#include "proto/event.h"

static int
mismatch(struct pr_event_error *err, const char *code, const char *path,
    const char *what, const char *want)
{
	if (err != NULL) {
		err->code = code;
		snprintf(err->path, sizeof(err->path), "%s", path);
		if (want != NULL)
			snprintf(err->message, sizeof(err->message),
			    "%s: the parent has \"%.100s\"", what, want);
		else
			snprintf(
			    err->message, sizeof(err->message), "%s", what);
	}
	return PR_EEVENT;
}

static bool
differ(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) != 0;
}

/* The id of the contract a contract-chain event belongs to. */
static const char *
contract_of(const struct pr_event *ev)
{
	return ev->kind == PR_KIND_CONTRACT ? ev->id : ev->contract_id;
}

static bool
in_contract_chain(enum pr_kind k)
{
	return k == PR_KIND_CONTRACT || k == PR_KIND_CONTRACT_AMEND ||
	    k == PR_KIND_DELIVERY;
}

static int
award_to_contract(const struct pr_event *award, const struct pr_event *ev,
    struct pr_event_error *err)
{
	size_t i;

	if (differ(ev->award_id, award->id))
		return mismatch(err, "parent_mismatch", "/awardID",
		    "awardID does not name the parent award", award->id);
	for (i = 0; i < award->n_suppliers; i++)
		if (strcmp(award->suppliers[i].id, ev->supplier.id) == 0)
			return 0;
	return mismatch(err, "parent_mismatch", "/supplier/id",
	    "the supplier is not a winner of the parent award", NULL);
}

static int
milestone_exists(const struct pr_event *contract, const struct pr_event *ev,
    struct pr_event_error *err)
{
	size_t i;

	if (ev->milestone_id == NULL || contract->kind != PR_KIND_CONTRACT)
		return 0;
	for (i = 0; i < contract->n_milestones; i++)
		if (strcmp(contract->milestones[i].id, ev->milestone_id) == 0)
			return 0;
	return mismatch(err, "bad_reference", "/milestoneID",
	    "the parent contract has no milestone with this id", NULL);
}

int
pr_event_check_parent(const struct pr_event *parent, const struct pr_event *ev,
    struct pr_event_error *err)
{
	const char *c;

	if (ev->ocid == NULL || parent->ocid == NULL)
		return mismatch(err, "bad_parent_kind", "/parent",
		    "key events neither have nor are parents", NULL);
	if (strcmp(parent->ocid, ev->ocid) != 0)
		return mismatch(err, "parent_mismatch", "/ocid",
		    "the parent belongs to another process", parent->ocid);
	if (!pr_kind_parent_allowed(parent->kind, ev->kind)) {
		if (err != NULL) {
			err->code = "bad_parent_kind";
			snprintf(err->path, sizeof(err->path), "/parent");
			snprintf(err->message, sizeof(err->message),
			    "a %s cannot follow a %s", pr_kind_name(ev->kind),
			    pr_kind_name(parent->kind));
		}
		return PR_EEVENT;
	}
	/* One buyer from plan to delivery. */
	if (differ(ev->buyer.id, parent->buyer.id))
		return mismatch(err, "parent_mismatch", "/buyer/id",
		    "the buyer differs from the parent's", parent->buyer.id);
	switch (ev->kind) {
	case PR_KIND_BID_REVEAL:
		return pr_event_reveal_matches(ev, parent, err);
	case PR_KIND_CONTRACT:
		return award_to_contract(parent, ev, err);
	case PR_KIND_CONTRACT_AMEND:
	case PR_KIND_CONTRACT_TERMINATE:
	case PR_KIND_DELIVERY:
	case PR_KIND_PAYMENT:
		break;
	default:
		return 0;
	}
	/* The contract chain: the same contract and supplier throughout. */
	if (!in_contract_chain(parent->kind))
		return 0;
	c = contract_of(parent);
	if (differ(ev->contract_id, c))
		return mismatch(err, "parent_mismatch", "/contractID",
		    "contractID does not name the parent's contract", c);
	if (differ(ev->supplier.id, parent->supplier.id))
		return mismatch(err, "parent_mismatch", "/supplier/id",
		    "the supplier differs from the parent's",
		    parent->supplier.id);
	if (ev->kind == PR_KIND_PAYMENT &&
	    differ(ev->payee.id, parent->supplier.id))
		return mismatch(err, "parent_mismatch", "/payee/id",
		    "the payee is not the contract's supplier",
		    parent->supplier.id);
	return milestone_exists(parent, ev, err);
}
