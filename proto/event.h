/*
 * The event model: the signed JSON payload of every DSSE envelope
 * (payloadType PR_EVENT_PAYLOAD_TYPE).  docs/EVENTS.md is the reader's
 * guide; docs/schema/ holds the JSON Schemas.
 *
 * pr_event_parse() turns payload bytes into a struct pr_event, checking
 * every rule that needs nothing but the payload: syntax (strict JSON, no
 * duplicate keys, no floats, depth and size limits), field names and
 * types, identifiers and check digits, dates, money, item codes, and the
 * arithmetic of totals.  Rules that need the log are the caller's: it
 * finds the parent by its leaf hash and applies pr_event_check_parent(),
 * judges deadlines (pr_event_deadline) by the log's clock, and maps the
 * envelope's keys to signers for pr_event_check_signers(); the kind table
 * (pr_kind_rule, pr_kind_parent_allowed) says what each kind needs.
 *
 * Errors: functions return 0 or a negative PR_E* code (proto/err.h) and,
 * where they take one, fill a struct pr_event_error with a stable code,
 * the JSON pointer of the offending field and a sentence for a person.
 */
#ifndef PR_EVENT_H
#define PR_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/money.h"

#define PR_EVENT_PAYLOAD_TYPE "application/vnd.procured.event+json; version=1"
#define PR_EVENT_SCHEMA 1 /* value of the optional "schema" field */
#define PR_EVENT_MAX_SIZE 65536 /* payload bytes */
#define PR_EVENT_MAX_DEPTH 16 /* nesting of objects and arrays */
#define PR_EVENT_HASH_LEN 32 /* leaf hashes, commitments, key ids */
#define PR_EVENT_NONCE_LEN 32
#define PR_EVENT_PUBKEY_LEN 32 /* raw Ed25519 public key */

/*
 * Kinds.  The numeric values are stored in indexes: append new kinds at
 * the end, never renumber.
 */
enum pr_kind {
	PR_KIND_KEY_GRANT = 0,
	PR_KIND_KEY_REVOKE,
	PR_KIND_PLAN,
	PR_KIND_TENDER,
	PR_KIND_TENDER_AMEND,
	PR_KIND_TENDER_CANCEL,
	PR_KIND_BID_COMMIT,
	PR_KIND_BID_REVEAL,
	PR_KIND_AWARD,
	PR_KIND_CONTRACT,
	PR_KIND_CONTRACT_AMEND,
	PR_KIND_CONTRACT_TERMINATE,
	PR_KIND_DELIVERY,
	PR_KIND_PAYMENT,
	PR_KIND_COUNT
};

/* Roles a key may be granted (key.grant "roles"); a bitmask. */
#define PR_ROLE_BUYER 0x1u
#define PR_ROLE_SUPPLIER 0x2u
#define PR_ROLE_PAYER 0x4u
#define PR_ROLE_ADMIN 0x8u
#define PR_ROLE_ALL 0xfu

/* Item classification schemes. */
enum pr_scheme {
	PR_SCHEME_NONE = 0,
	PR_SCHEME_ATC, /* WHO ATC code, "J01CA04" */
	PR_SCHEME_INN, /* WHO International Nonproprietary Name */
	PR_SCHEME_KTRU, /* Kazakhstan KTRU, "210230.400.000097" */
	PR_SCHEME_GMDN, /* GMDN term code, "35177" */
	PR_SCHEME_GTIN /* GS1 GTIN-8/12/13/14 */
};

/* Funding sources (docs/EVENTS.md). */
enum pr_funding {
	PR_FUNDING_NONE = 0,
	PR_FUNDING_OSMS, /* compulsory social health insurance fund */
	PR_FUNDING_GVFMC, /* guaranteed volume of free medical care */
	PR_FUNDING_REPUBLICAN, /* republican budget, other programmes */
	PR_FUNDING_LOCAL, /* local (akimat) budget */
	PR_FUNDING_OWN /* the buyer's own revenue */
};

/* OCDS method codelist (closed). */
enum pr_method {
	PR_METHOD_NONE = 0,
	PR_METHOD_OPEN,
	PR_METHOD_SELECTIVE,
	PR_METHOD_LIMITED,
	PR_METHOD_DIRECT
};

/* OCDS awardCriteria codelist, current codes. */
enum pr_criteria {
	PR_CRITERIA_NONE = 0,
	PR_CRITERIA_PRICE_ONLY,
	PR_CRITERIA_COST_ONLY,
	PR_CRITERIA_QUALITY_ONLY,
	PR_CRITERIA_RATED
};

/* OCDS procurementCategory codelist. */
enum pr_category {
	PR_CATEGORY_NONE = 0,
	PR_CATEGORY_GOODS,
	PR_CATEGORY_SERVICES,
	PR_CATEGORY_WORKS
};

enum pr_bid_status { PR_BID_VALID = 1, PR_BID_DISQUALIFIED };
enum pr_milestone_type { PR_MILESTONE_DELIVERY = 1, PR_MILESTONE_PAYMENT };

/*
 * All strings below point into the parsed event and stay valid until
 * pr_event_free(); they are NUL-terminated UTF-8 without NUL bytes.
 * An absent optional string is NULL.
 */
struct pr_party {
	const char *id; /* "KZ-BIN-090640001233"; NULL: absent */
	const char *name; /* optional */
};

struct pr_classification {
	enum pr_scheme scheme;
	const char *id;
	const char *description; /* optional */
};

struct pr_item {
	const char *id;
	const char *description; /* optional in some kinds */
	bool has_classification;
	struct pr_classification classification;
	struct pr_classification *additional;
	size_t n_additional;
	bool has_quantity;
	int64_t quantity; /* thousandths */
	const char *unit_code; /* UN/CEFACT rec 20, optional in some kinds */
	const char *unit_name;
	bool has_unit_price;
	struct pr_money unit_price;
	const char *related_lot; /* optional */
};

struct pr_period {
	bool has_start;
	int64_t start; /* ms since the epoch */
	bool has_end;
	int64_t end;
};

struct pr_lot {
	const char *id;
	const char *title;
	bool has_value;
	struct pr_money value;
};

/* award "bids": the evaluation of each revealed bid. */
struct pr_bid_result {
	struct pr_party supplier;
	enum pr_bid_status status;
	int64_t rank; /* >= 1 when valid; 0 when disqualified */
	const char *reason; /* required when disqualified */
	bool has_value;
	struct pr_money value;
	bool has_reveal;
	uint8_t reveal[PR_EVENT_HASH_LEN]; /* leaf hash of the bid.reveal */
};

struct pr_milestone {
	const char *id;
	const char *title;
	enum pr_milestone_type type;
	int64_t due_date;
	bool has_value;
	struct pr_money value;
	struct pr_item *items; /* delivery schedule: id and quantity */
	size_t n_items;
};

/*
 * A parsed event.  One struct for every kind: a field a kind does not
 * define stays zero / NULL / false (docs/EVENTS.md lists which kind sets
 * what).  Owned by the caller; release with pr_event_free().
 */
struct pr_event {
	enum pr_kind kind;
	int schema; /* PR_EVENT_SCHEMA */
	const char *ocid; /* NULL for key.grant / key.revoke */
	int64_t date; /* ms since the epoch */
	bool has_parent;
	uint8_t parent[PR_EVENT_HASH_LEN];

	const char *id; /* award, contract, tender (opt), payment */
	const char *title;
	const char *description;
	const char *rationale;
	const char *award_id; /* contract "awardID" */
	const char *contract_id; /* "contractID" */
	const char *milestone_id; /* "milestoneID" */

	struct pr_party buyer;
	struct pr_party supplier;
	struct pr_party payer;
	struct pr_party payee;
	struct pr_party party; /* key.grant: the party the key speaks for */
	struct pr_party *suppliers; /* award winners */
	size_t n_suppliers;

	struct pr_item *items;
	size_t n_items;
	struct pr_lot *lots;
	size_t n_lots;
	struct pr_bid_result *bids;
	size_t n_bids;
	struct pr_milestone *milestones;
	size_t n_milestones;

	bool has_value;
	struct pr_money value;
	enum pr_funding funding;
	enum pr_method method;
	const char *method_details;
	enum pr_criteria criteria;
	enum pr_category category;
	struct pr_period tender_period; /* tender, tender.amend */
	struct pr_period period; /* contract, contract.amend */
	bool has_date_signed;
	int64_t date_signed;
	bool has_delivery_date;
	int64_t delivery_date;

	bool has_commitment; /* bid.commit */
	uint8_t commitment[PR_EVENT_HASH_LEN];
	bool has_nonce; /* bid.reveal */
	uint8_t nonce[PR_EVENT_NONCE_LEN];

	/* key.grant: publicKey, roles, validity; key.revoke: keyid. */
	uint8_t public_key[PR_EVENT_PUBKEY_LEN];
	unsigned roles;
	bool has_valid_from;
	int64_t valid_from;
	bool has_valid_until;
	int64_t valid_until;
	uint8_t
	    keyid[PR_EVENT_HASH_LEN]; /* key.grant: derived; revoke: given */

	struct pr_event_mem *mem; /* private */
};

struct pr_event_error {
	const char *code; /* stable identifier, see docs/EVENTS.md */
	char path[128]; /* JSON pointer, "" for the whole payload */
	char message[256];
};

/*
 * Parse and validate payload[0..len).  On success *out receives a new
 * event and 0 is returned.  On failure err (which may be NULL) is filled
 * and the return is PR_ETOOBIG (over PR_EVENT_MAX_SIZE: HTTP 413),
 * PR_EFORMAT (not strict JSON: 400), PR_EEVENT (valid JSON breaking a
 * rule: 422) or PR_ENOMEM.
 */
int pr_event_parse(const uint8_t *payload, size_t len, struct pr_event **out,
    struct pr_event_error *err);
void pr_event_free(struct pr_event *ev);

/* --- The kind table ------------------------------------------------ */

enum pr_parent_rule {
	PR_PARENT_NONE, /* never has a parent (key.*, plan) */
	PR_PARENT_OPTIONAL, /* may start a process (tender) */
	PR_PARENT_REQUIRED
};

enum pr_sign_mode {
	PR_SIGN_ALL, /* every row must be matched by a signer */
	PR_SIGN_ANY /* at least one row must be matched */
};

#define PR_NO_PARTY ((size_t)-1)
#define PR_MAX_SIGN_RULES 2

struct pr_sign_rule {
	unsigned role; /* one PR_ROLE_* bit the signer's key must hold */
	const char *pointer; /* JSON pointer naming the party, NULL: any */
	size_t party_off; /* offsetof(struct pr_event, <party>), or
	                     PR_NO_PARTY when pointer is NULL */
};

struct pr_parse;
struct pr_json;

struct pr_kind_rule {
	enum pr_kind kind;
	const char *name; /* "contract.amend" */
	bool has_ocid;
	enum pr_parent_rule parent;
	uint32_t parents; /* allowed parent kinds: bit (1u << kind) */
	enum pr_sign_mode sign;
	size_t n_sign;
	struct pr_sign_rule sign_rules[PR_MAX_SIGN_RULES];
	const char *const *fields; /* kind-specific top-level field names */
	/* Checks the kind-specific fields; private to the parser. */
	int (*parse)(struct pr_parse *, struct pr_json *, struct pr_event *);
};

/* The row for kind, or NULL if kind is out of range. */
const struct pr_kind_rule *pr_kind_rule(enum pr_kind kind);
/* The kind named name[0..len) ("tender.amend"), or -1. */
int pr_kind_from_name(const char *name, size_t len);
/* "tender.amend", or "?" for a value out of range. */
const char *pr_kind_name(enum pr_kind kind);
/* True if an event of kind child may have an event of kind parent. */
bool pr_kind_parent_allowed(enum pr_kind parent, enum pr_kind child);

/* Names of enum values as they appear in JSON ("?" if out of range). */
const char *pr_scheme_name(enum pr_scheme s);
const char *pr_funding_name(enum pr_funding f);
const char *pr_method_name(enum pr_method m);
const char *pr_criteria_name(enum pr_criteria c);
const char *pr_category_name(enum pr_category c);
/* "buyer" for PR_ROLE_BUYER; a single bit only, else "?". */
const char *pr_role_name(unsigned role);

/* --- Chains --------------------------------------------------------- */

/*
 * Rules between ev and the event its "parent" names (found by the caller
 * from the leaf hash): the same ocid; an allowed parent kind; the same
 * buyer as the parent; a bid.reveal opens its bid.commit
 * (pr_event_reveal_matches); a contract's supplier is a winner of its
 * award and awardID is the award's id; along a contract's chain
 * (contract, contract.amend, delivery) contractID names the contract, the
 * supplier stays the same, a payment's payee is that supplier, and a
 * milestoneID exists when the parent is the contract itself.  Returns 0,
 * or PR_EEVENT with err code "parent_mismatch" (path of the field that
 * disagrees), "bad_parent_kind" (path "/parent"), "bad_reference" or
 * "commitment_mismatch".
 */
int pr_event_check_parent(const struct pr_event *parent,
    const struct pr_event *ev, struct pr_event_error *err);

/* --- Authorization -------------------------------------------------- */

/* A verified signature's key, as the key registry knows it. */
struct pr_signer {
	const char *party; /* party id the key was granted for */
	unsigned roles; /* PR_ROLE_* bits granted (valid at log time) */
};

/*
 * Check that the signers entitle ev: under PR_SIGN_ALL every sign rule of
 * the kind is met by some signer (role bit held, party id equal to the
 * field the rule names); under PR_SIGN_ANY at least one is; and every
 * signer meets at least one rule (no bystanders).  Returns 0, or
 * PR_EDENIED with err naming the missing party ("missing_signer", path of
 * the party field) or the signer entitled to nothing
 * ("unexpected_signer").
 */
int pr_event_check_signers(const struct pr_event *ev,
    const struct pr_signer *signers, size_t n, struct pr_event_error *err);

/* --- Queries -------------------------------------------------------- */

/*
 * The bid deadline ev sets: tenderPeriod.endDate of a tender, or of a
 * tender.amend that changes it.  0 or PR_ENOTFOUND.
 */
int pr_event_deadline(const struct pr_event *ev, int64_t *ms);

enum pr_index_type {
	PR_INDEX_OCID = 1,
	PR_INDEX_KIND, /* the kind's name */
	PR_INDEX_PARTY, /* every party id the event names */
	PR_INDEX_ITEM /* "ATC:J01CA04", "GTIN:04601234567893", ... */
};

/*
 * Call fn once for each distinct index key of ev, in a stable order.  A
 * non-zero return from fn stops the walk and is returned.  key is valid
 * only during the call.
 */
typedef int (*pr_event_index_fn)(
    void *ctx, enum pr_index_type type, const char *key, size_t len);
int pr_event_index_keys(
    const struct pr_event *ev, pr_event_index_fn fn, void *ctx);

struct pr_event_totals {
	char currency[4]; /* "" if the event carries no money */
	unsigned exponent;
	bool has_value;
	int64_t value; /* the event's "value" (payment: amount paid) */
	bool items_priced; /* every item has a quantity and a unit price */
	int64_t items_total; /* sum of rounded line totals when priced */
	size_t n_items;
	int64_t quantity_total; /* thousandths, summed over items */
};

/* 0, or PR_ERANGE if a sum overflows (never for a parsed event). */
int pr_event_totals(const struct pr_event *ev, struct pr_event_totals *out);

/* --- Sealed bids ---------------------------------------------------- */

/*
 * The commitment a bid.commit publishes and the bid.reveal opens:
 *
 *	SHA-256( "procured.bid.v1" 0x00
 *	         str(ocid) str(supplier id)
 *	         currency[3] be64(value)
 *	         be32(n_items)
 *	         n_items x ( str(item id)
 *	                     be16(n_codes) n_codes x str(scheme ":" code)
 *	                     be64(quantity thousandths) be64(unit price) )
 *	         nonce[32] )
 *
 * where str(s) = be16(length) || bytes, integers are big-endian two's
 * complement, amounts are minor units of the value's currency, and items
 * are in the order the reveal lists them.  An item's codes are its
 * classification followed by its additionalClassifications, in order
 * ("ATC:J01CA04", "GTIN:4870123450022").  The nonce is 32 random bytes
 * the supplier keeps secret until the reveal.
 */
int pr_bid_commitment(const char *ocid, const char *supplier,
    const struct pr_money *value, const struct pr_item *items, size_t n_items,
    const uint8_t nonce[PR_EVENT_NONCE_LEN], uint8_t out[PR_EVENT_HASH_LEN]);

/*
 * Check that reveal (a bid.reveal) opens commit (a bid.commit): same ocid
 * and supplier, and the commitment recomputed from reveal equals
 * commit's.  0, PR_EINVAL (wrong kinds) or PR_EEVENT with err code
 * "commitment_mismatch".
 */
int pr_event_reveal_matches(const struct pr_event *reveal,
    const struct pr_event *commit, struct pr_event_error *err);

/* Key id of an Ed25519 public key: SHA-256 of its 32 raw bytes. */
int pr_event_keyid(
    const uint8_t pub[PR_EVENT_PUBKEY_LEN], uint8_t out[PR_EVENT_HASH_LEN]);

#endif
