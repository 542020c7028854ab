/*
 * The event model: the kind table, the top-level parser, the event's
 * memory, and the authorization rules.  Field readers are in
 * event_json.c and event_items.c, the per-kind functions in
 * event_kinds.c, the queries in event_query.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/err.h"
#include "proto/event_int.h"
#include "proto/ident.h"

/* --- Names ------------------------------------------------------------ */

const char *const pp_scheme_names[] = {
    "", "ATC", "INN", "KTRU", "GMDN", "GTIN"};
const char *const pp_funding_names[] = {
    "", "OSMS", "GVFMC", "republican", "local", "own"};
const char *const pp_method_names[] = {
    "", "open", "selective", "limited", "direct"};
const char *const pp_criteria_names[] = {
    "", "priceOnly", "costOnly", "qualityOnly", "ratedCriteria"};
const char *const pp_category_names[] = {"", "goods", "services", "works"};
const char *const pp_role_names[] = {"buyer", "supplier", "payer", "admin"};

#define NAME_OF(table, n, v) ((unsigned)(v) < (n) ? (table)[(v)] : "?")

const char *
pr_scheme_name(enum pr_scheme s)
{
	return s == PR_SCHEME_NONE ? "?"
	                           : NAME_OF(pp_scheme_names, PP_NSCHEMES, s);
}

const char *
pr_funding_name(enum pr_funding f)
{
	return f == PR_FUNDING_NONE ? "?"
	                            : NAME_OF(pp_funding_names, PP_NFUNDING, f);
}

const char *
pr_method_name(enum pr_method m)
{
	return m == PR_METHOD_NONE ? "?"
	                           : NAME_OF(pp_method_names, PP_NMETHODS, m);
}

const char *
pr_criteria_name(enum pr_criteria c)
{
	return c == PR_CRITERIA_NONE
	    ? "?"
	    : NAME_OF(pp_criteria_names, PP_NCRITERIA, c);
}

const char *
pr_category_name(enum pr_category c)
{
	return c == PR_CATEGORY_NONE
	    ? "?"
	    : NAME_OF(pp_category_names, PP_NCATEGORIES, c);
}

const char *
pr_role_name(unsigned role)
{
	unsigned k;

	for (k = 0; k < PP_NROLES; k++)
		if (role == 1u << k)
			return pp_role_names[k];
	return "?";
}

/* --- The kind table --------------------------------------------------- */

#define K(kind) (1u << (kind))
#define PARTY(field) offsetof(struct pr_event, field)

static const char *const f_key_grant[] = {
    "party", "roles", "publicKey", "validFrom", "validUntil", NULL};
static const char *const f_key_revoke[] = {"keyid", "reason", NULL};
static const char *const f_plan[] = {"buyer", "title", "description",
    "rationale", "items", "value", "fundingSource", NULL};
static const char *const f_tender[] = {"buyer", "id", "title", "description",
    "items", "lots", "value", "procurementMethod", "procurementMethodDetails",
    "mainProcurementCategory", "awardCriteria", "tenderPeriod", "fundingSource",
    NULL};
static const char *const f_tender_amend[] = {"buyer", "rationale", "title",
    "description", "items", "lots", "value", "tenderPeriod", NULL};
static const char *const f_tender_cancel[] = {"buyer", "rationale", NULL};
static const char *const f_bid_commit[] = {"supplier", "commitment", NULL};
static const char *const f_bid_reveal[] = {
    "supplier", "nonce", "items", "value", NULL};
static const char *const f_award[] = {"buyer", "id", "title", "description",
    "suppliers", "items", "value", "bids", NULL};
static const char *const f_contract[] = {"buyer", "supplier", "id", "awardID",
    "title", "description", "items", "value", "period", "dateSigned",
    "milestones", "fundingSource", NULL};
static const char *const f_contract_amend[] = {"buyer", "supplier",
    "contractID", "rationale", "value", "items", "period", "milestones", NULL};
static const char *const f_contract_terminate[] = {
    "buyer", "supplier", "contractID", "rationale", NULL};
static const char *const f_delivery[] = {"buyer", "supplier", "contractID",
    "milestoneID", "deliveryDate", "items", NULL};
static const char *const f_payment[] = {"id", "payer", "payee", "contractID",
    "milestoneID", "value", "fundingSource", NULL};

#define ADMIN_ANY                                                              \
	{                                                                      \
		PR_ROLE_ADMIN, NULL, PR_NO_PARTY                               \
	}
#define BUYER                                                                  \
	{                                                                      \
		PR_ROLE_BUYER, "/buyer/id", PARTY(buyer)                       \
	}
#define SUPPLIER                                                               \
	{                                                                      \
		PR_ROLE_SUPPLIER, "/supplier/id", PARTY(supplier)              \
	}

static const struct pr_kind_rule kinds[PR_KIND_COUNT] = {
    {PR_KIND_KEY_GRANT, "key.grant", false, PR_PARENT_NONE, 0, PR_SIGN_ALL, 1,
        {ADMIN_ANY}, f_key_grant, pp_kind_key_grant},
    {PR_KIND_KEY_REVOKE, "key.revoke", false, PR_PARENT_NONE, 0, PR_SIGN_ALL, 1,
        {ADMIN_ANY}, f_key_revoke, pp_kind_key_revoke},
    {PR_KIND_PLAN, "plan", true, PR_PARENT_NONE, 0, PR_SIGN_ALL, 1, {BUYER},
        f_plan, pp_kind_plan},
    {PR_KIND_TENDER, "tender", true, PR_PARENT_OPTIONAL, K(PR_KIND_PLAN),
        PR_SIGN_ALL, 1, {BUYER}, f_tender, pp_kind_tender},
    {PR_KIND_TENDER_AMEND, "tender.amend", true, PR_PARENT_REQUIRED,
        K(PR_KIND_TENDER) | K(PR_KIND_TENDER_AMEND), PR_SIGN_ALL, 1, {BUYER},
        f_tender_amend, pp_kind_tender_amend},
    {PR_KIND_TENDER_CANCEL, "tender.cancel", true, PR_PARENT_REQUIRED,
        K(PR_KIND_TENDER) | K(PR_KIND_TENDER_AMEND), PR_SIGN_ALL, 1, {BUYER},
        f_tender_cancel, pp_kind_tender_cancel},
    {PR_KIND_BID_COMMIT, "bid.commit", true, PR_PARENT_REQUIRED,
        K(PR_KIND_TENDER) | K(PR_KIND_TENDER_AMEND), PR_SIGN_ALL, 1, {SUPPLIER},
        f_bid_commit, pp_kind_bid_commit},
    {PR_KIND_BID_REVEAL, "bid.reveal", true, PR_PARENT_REQUIRED,
        K(PR_KIND_BID_COMMIT), PR_SIGN_ALL, 1, {SUPPLIER}, f_bid_reveal,
        pp_kind_bid_reveal},
    {PR_KIND_AWARD, "award", true, PR_PARENT_REQUIRED,
        K(PR_KIND_TENDER) | K(PR_KIND_TENDER_AMEND), PR_SIGN_ALL, 1, {BUYER},
        f_award, pp_kind_award},
    {PR_KIND_CONTRACT, "contract", true, PR_PARENT_REQUIRED, K(PR_KIND_AWARD),
        PR_SIGN_ALL, 2, {BUYER, SUPPLIER}, f_contract, pp_kind_contract},
    {PR_KIND_CONTRACT_AMEND, "contract.amend", true, PR_PARENT_REQUIRED,
        K(PR_KIND_CONTRACT) | K(PR_KIND_CONTRACT_AMEND), PR_SIGN_ALL, 2,
        {BUYER, SUPPLIER}, f_contract_amend, pp_kind_contract_amend},
    {PR_KIND_CONTRACT_TERMINATE, "contract.terminate", true, PR_PARENT_REQUIRED,
        K(PR_KIND_CONTRACT) | K(PR_KIND_CONTRACT_AMEND), PR_SIGN_ALL, 2,
        {BUYER, SUPPLIER}, f_contract_terminate, pp_kind_contract_terminate},
    {PR_KIND_DELIVERY, "delivery", true, PR_PARENT_REQUIRED,
        K(PR_KIND_CONTRACT) | K(PR_KIND_CONTRACT_AMEND), PR_SIGN_ANY, 2,
        {SUPPLIER, BUYER}, f_delivery, pp_kind_delivery},
    {PR_KIND_PAYMENT, "payment", true, PR_PARENT_REQUIRED,
        K(PR_KIND_CONTRACT) | K(PR_KIND_CONTRACT_AMEND) | K(PR_KIND_DELIVERY),
        PR_SIGN_ANY, 2,
        {{PR_ROLE_PAYER, "/payer/id", PARTY(payer)},
            {PR_ROLE_BUYER, "/payer/id", PARTY(payer)}},
        f_payment, pp_kind_payment},
};

const struct pr_kind_rule *
pr_kind_rule(enum pr_kind kind)
{
	if ((unsigned)kind >= PR_KIND_COUNT)
		return NULL;
	return &kinds[kind];
}

int
pr_kind_from_name(const char *name, size_t len)
{
	size_t k;

	for (k = 0; k < PR_KIND_COUNT; k++)
		if (strlen(kinds[k].name) == len &&
		    memcmp(kinds[k].name, name, len) == 0)
			return (int)k;
	return -1;
}

const char *
pr_kind_name(enum pr_kind kind)
{
	return (unsigned)kind < PR_KIND_COUNT ? kinds[kind].name : "?";
}

bool
pr_kind_parent_allowed(enum pr_kind parent, enum pr_kind child)
{
	if ((unsigned)parent >= PR_KIND_COUNT ||
	    (unsigned)child >= PR_KIND_COUNT)
		return false;
	return (kinds[child].parents & K(parent)) != 0;
}

/* --- Memory ------------------------------------------------------------ */

/*
 * An event lives in one arena: the struct, every array, and the JSON tree
 * its strings point into (proto/json.h).  pr_event_free() releases them
 * all at once.
 */
struct chunk {
	struct chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct pr_event_mem {
	struct pr_json *root;
	struct chunk *chunks;
	size_t first; /* the size of the first chunk */
};

/*
 * The first chunk is sized from the payload so that one allocation
 * usually holds the whole event (the tree and the parsed event take
 * about three times the text); further chunks are CHUNK_SIZE or what one
 * request needs.
 */
#define CHUNK_SIZE 4000
#define TREE_FACTOR 3

static void *
mem_alloc_raw(struct pr_event_mem *m, size_t size)
{
	struct chunk *c = m->chunks;
	size_t want, align = sizeof(max_align_t);
	void *p;

	size = (size + align - 1) / align * align;
	if (size == 0)
		size = align;
	if (c == NULL || c->size - c->used < size) {
		want =
		    c == NULL && m->first > CHUNK_SIZE ? m->first : CHUNK_SIZE;
		if (want < size)
			want = size;
		if ((c = malloc(sizeof(*c) + want)) == NULL)
			return NULL;
		c->size = want;
		c->used = 0;
		c->next = m->chunks;
		m->chunks = c;
	}
	p = (char *)c->data + c->used;
	c->used += size;
	return p;
}

static void *
mem_alloc(struct pr_event_mem *m, size_t size)
{
	void *p;

	if ((p = mem_alloc_raw(m, size)) != NULL)
		memset(p, 0, size);
	return p;
}

static void *
json_alloc(void *ctx, size_t size)
{
	return mem_alloc_raw(ctx, size);
}

void *
pp_alloc(struct pr_parse *p, size_t size)
{
	return mem_alloc(p->ev->mem, size);
}

void
pr_event_free(struct pr_event *ev)
{
	struct pr_event_mem *m;
	struct chunk *c, *next;

	if (ev == NULL)
		return;
	m = ev->mem;
	for (c = m->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(m);
}

/* --- Parsing ------------------------------------------------------------ */

static void
fail_plain(struct pr_event_error *err, const char *code, const char *msg)
{
	if (err != NULL) {
		err->code = code;
		err->path[0] = '\0';
		snprintf(err->message, sizeof(err->message), "%s", msg);
	}
}

/*
 * A parse error may quote the input, which may be any bytes: keep the
 * message printable ASCII so it can travel in a JSON error reply.
 */
static void
scrub(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static const char *const common_fields[] = {
    "schema", "kind", "date", "ext", NULL};

/* Is key a top-level field of an event of this rule's kind? */
static bool
top_field(const struct pr_kind_rule *rule, const char *key)
{
	const char *const *f;

	if (strcmp(key, "ocid") == 0)
		return rule->has_ocid;
	if (strcmp(key, "parent") == 0)
		return rule->parent != PR_PARENT_NONE;
	for (f = common_fields; *f != NULL; f++)
		if (strcmp(key, *f) == 0)
			return true;
	for (f = rule->fields; *f != NULL; f++)
		if (strcmp(key, *f) == 0)
			return true;
	return false;
}

static int
top_fields(
    struct pr_parse *p, struct pr_json *root, const struct pr_kind_rule *rule)
{
	const char *key;
	struct pr_json *v;
	size_t i, len;

	pr_json_object_foreach(root, i, key, v)
	{
		(void)v;
		if (top_field(rule, key))
			continue;
		len = (size_t)pp_clip(key, 40);
		if (strcmp(key, "ocid") == 0 || strcmp(key, "parent") == 0)
			return pp_fail_at(p, key, "unknown_field",
			    "a %s event has no %s", rule->name, key);
		return pp_fail_at(p, key, "unknown_field",
		    "a %s event has no field \"%.*s\"; extensions go under "
		    "\"ext\"",
		    rule->name, (int)len, key);
	}
	return 0;
}

static int
common(struct pr_parse *p, struct pr_json *root,
    const struct pr_kind_rule *rule, struct pr_event *ev)
{
	const char *ocid, *why;
	struct pr_json *v;
	int rc;

	ev->schema = PR_EVENT_SCHEMA;
	if ((v = pr_json_get(root, "schema")) != NULL) {
		if (!pr_json_is_integer(v))
			return pp_fail_at(p, "schema", "bad_type",
			    "expected the integer %d, got %s", PR_EVENT_SCHEMA,
			    pp_typename(v));
		if (pr_json_int(v) != PR_EVENT_SCHEMA)
			return pp_fail_at(p, "schema", "bad_version",
			    "this log accepts event schema %d only",
			    PR_EVENT_SCHEMA);
	}
	if (rule->has_ocid) {
		if ((rc = pp_string(p, root, "ocid", PP_REQ, &ocid)) != 0)
			return rc;
		if ((why = pr_ocid_check(ocid, strlen(ocid))) != NULL)
			return pp_fail_at(p, "ocid", "bad_ocid", "%s", why);
		ev->ocid = ocid;
	}
	if ((rc = pp_date(p, root, "date", PP_REQ, NULL, &ev->date)) != 0)
		return rc;
	if (rule->parent != PR_PARENT_NONE &&
	    (rc = pp_hash(p, root, "parent",
	         rule->parent == PR_PARENT_REQUIRED ? PP_REQ : 0,
	         &ev->has_parent, ev->parent)) != 0)
		return rc;
	if ((v = pr_json_get(root, "ext")) != NULL && !pr_json_is_object(v))
		return pp_fail_at(p, "ext", "bad_type",
		    "expected an object, got %s", pp_typename(v));
	return 0;
}

static int
parse_root(struct pr_parse *p, struct pr_json *root, struct pr_event *ev)
{
	const struct pr_kind_rule *rule;
	struct pr_json *k;
	int kind, rc;

	if (!pr_json_is_object(root))
		return pp_fail(p, "bad_type",
		    "an event is a JSON object, not %s", pp_typename(root));
	if ((k = pr_json_get(root, "kind")) == NULL)
		return pp_missing(p, "kind");
	if (!pr_json_is_string(k))
		return pp_fail_at(p, "kind", "bad_type",
		    "expected a string, got %s", pp_typename(k));
	kind = pr_kind_from_name(pr_json_str(k), pr_json_len(k));
	if (kind < 0)
		return pp_fail_at(p, "kind", "unknown_kind",
		    "expected one of key.grant, key.revoke, plan, tender, "
		    "tender.amend, tender.cancel, bid.commit, bid.reveal, "
		    "award, contract, contract.amend, contract.terminate, "
		    "delivery, payment");
	ev->kind = (enum pr_kind)kind;
	rule = &kinds[kind];
	if ((rc = top_fields(p, root, rule)) != 0 ||
	    (rc = common(p, root, rule, ev)) != 0)
		return rc;
	return rule->parse(p, root, ev);
}

int
pr_event_parse(const uint8_t *payload, size_t len, struct pr_event **out,
    struct pr_event_error *err)
{
	struct pr_parse p;
	struct pr_event_mem *m;
	struct pr_event *ev;
	struct pr_json_error jerr;
	struct pr_json *root;
	int rc;

	if (len > PR_EVENT_MAX_SIZE) {
		fail_plain(err, "too_large",
		    "an event payload is at most 65536 bytes");
		return PR_ETOOBIG;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		fail_plain(err, "no_memory", "out of memory");
		return PR_ENOMEM;
	}
	m->first = TREE_FACTOR * len + 1024;
	root = pr_json_parse((const char *)payload, len, PR_EVENT_MAX_DEPTH,
	    json_alloc, m, &jerr);
	if (root == NULL) {
		if (jerr.code == PR_JSON_ENOMEM) {
			fail_plain(err, "no_memory", "out of memory");
			rc = PR_ENOMEM;
			goto free_mem;
		}
		if (jerr.code == PR_JSON_EDEPTH)
			fail_plain(err, "too_deep",
			    "objects and arrays nest at most 16 deep");
		else if (err != NULL) {
			err->code = jerr.code == PR_JSON_EDUPLICATE
			    ? "duplicate_key"
			    : "bad_json";
			err->path[0] = '\0';
			snprintf(err->message, sizeof(err->message),
			    "%s at line %d, column %d", jerr.text, jerr.line,
			    jerr.column);
			scrub(err->message);
		}
		rc = PR_EFORMAT;
		goto free_mem;
	}
	m->root = root;
	if ((ev = mem_alloc(m, sizeof(*ev))) == NULL) {
		rc = PR_ENOMEM;
		fail_plain(err, "no_memory", "out of memory");
		goto free_mem;
	}
	ev->mem = m;
	memset(&p, 0, sizeof(p));
	p.err = err;
	p.ev = ev;
	if ((rc = parse_root(&p, root, ev)) != 0)
		goto free_mem;
	*out = ev;
	return 0;
free_mem:
	while (m->chunks != NULL) {
		struct chunk *next = m->chunks->next;

		free(m->chunks);
		m->chunks = next;
	}
	free(m);
	return rc;
}

/* --- Authorization --------------------------------------------------- */

static const char *
rule_party(const struct pr_event *ev, const struct pr_sign_rule *r)
{
	const struct pr_party *party;

	if (r->party_off == PR_NO_PARTY)
		return NULL;
	party = (const struct pr_party *)((const char *)ev + r->party_off);
	return party->id;
}

static bool
meets(const struct pr_event *ev, const struct pr_sign_rule *r,
    const struct pr_signer *s)
{
	const char *want;

	if ((s->roles & r->role) == 0)
		return false;
	if (r->pointer == NULL)
		return true;
	want = rule_party(ev, r);
	return want != NULL && s->party != NULL && strcmp(want, s->party) == 0;
}

static int
deny(struct pr_event_error *err, const char *code, const char *path,
    const char *message)
{
	if (err != NULL) {
		err->code = code;
		snprintf(err->path, sizeof(err->path), "%s", path);
		snprintf(err->message, sizeof(err->message), "%s", message);
	}
	return PR_EDENIED;
}

int
pr_event_check_signers(const struct pr_event *ev,
    const struct pr_signer *signers, size_t n, struct pr_event_error *err)
{
	const struct pr_kind_rule *rule;
	const struct pr_sign_rule *sr;
	bool met[PR_MAX_SIGN_RULES] = {false}, any = false, ok;
	char msg[256], roles[64];
	size_t i, r, k, len;
	const char *party;

	if ((rule = pr_kind_rule(ev->kind)) == NULL)
		return PR_EINVAL;
	for (i = 0; i < n; i++) {
		ok = false;
		for (r = 0; r < rule->n_sign; r++)
			if (meets(ev, &rule->sign_rules[r], &signers[i]))
				met[r] = ok = any = true;
		if (ok)
			continue;
		roles[0] = '\0';
		for (k = 0, len = 0; k < PP_NROLES; k++)
			if (signers[i].roles & (1u << k))
				len += (size_t)snprintf(roles + len,
				    sizeof(roles) - len, "%s%s",
				    len > 0 ? ", " : "", pp_role_names[k]);
		snprintf(msg, sizeof(msg),
		    "the key of %.96s (roles: %s) is not entitled to sign a "
		    "%s event",
		    signers[i].party != NULL ? signers[i].party : "?",
		    len > 0 ? roles : "none", rule->name);
		return deny(err, "unexpected_signer", "", msg);
	}
	for (r = 0; r < rule->n_sign; r++) {
		if (met[r] || (rule->sign == PR_SIGN_ANY && any))
			continue;
		sr = &rule->sign_rules[r];
		party = rule_party(ev, sr);
		if (rule->sign == PR_SIGN_ANY)
			snprintf(msg, sizeof(msg),
			    "a %s event needs a signature by the %s or the "
			    "%s %.96s",
			    rule->name, pr_role_name(rule->sign_rules[0].role),
			    pr_role_name(rule->sign_rules[1].role),
			    party != NULL ? party : "");
		else
			snprintf(msg, sizeof(msg),
			    "a %s event needs a signature by the %s%s%.96s",
			    rule->name, pr_role_name(sr->role),
			    party != NULL ? " " : "",
			    party != NULL ? party : "");
		return deny(err, "missing_signer",
		    sr->pointer != NULL ? sr->pointer : "", msg);
	}
	return 0;
}
