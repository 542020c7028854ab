/*
 * Private to proto/event*.c: the parse context and the field readers
 * that every kind's parse function is built from.
 *
 * Every reader takes the parse context, a JSON object and a field name.
 * It extends the context's JSON pointer while it works, so an error it
 * reports names the exact field, and it returns 0 or PR_EEVENT (PR_ENOMEM
 * when the arena is exhausted) with the context's error filled in.
 */
#ifndef PR_EVENT_INT_H
#define PR_EVENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/event.h"
#include "proto/json.h"
#include "proto/log.h"

/* Limits on strings (bytes of UTF-8). */
#define PP_ID_MAX 64 /* local ids: items, lots, awards, contracts */
#define PP_NAME_MAX 1000 /* names, titles, short descriptions */
#define PP_TEXT_MAX 8000 /* descriptions, rationales, reasons */
#define PP_INN_MAX 200

struct pr_parse {
	struct pr_event_error *err;
	struct pr_event *ev;
	const char *currency; /* first currency met in the event */
	size_t plen;
	char path[512];
};

/* Flags for the readers. */
#define PP_REQ 0x01u /* the field must be present */
#define PP_TEXT 0x02u /* strings: allow newlines and tabs, PP_TEXT_MAX */
#define PP_ID 0x04u /* strings: printable ASCII, no spaces, PP_ID_MAX */

/* Item requirements (pp_items): which fields each item must have. */
#define IT_DESC 0x01u
#define IT_CLASS 0x02u
#define IT_QTY 0x04u
#define IT_UNIT 0x08u
#define IT_PRICE 0x10u
#define IT_FULL (IT_DESC | IT_CLASS | IT_QTY | IT_UNIT)
#define IT_PRICED (IT_FULL | IT_PRICE)

/* JSON pointer bookkeeping: push returns a mark for pop. */
size_t pp_push(struct pr_parse *p, const char *key);
size_t pp_push_index(struct pr_parse *p, size_t i);
void pp_pop(struct pr_parse *p, size_t mark);

/* Record an error at the current path; returns PR_EEVENT. */
int pp_fail(struct pr_parse *p, const char *code, const char *fmt, ...)
    PR_PRINTF(3, 4);
/* The same, at the current path extended by key. */
int pp_fail_at(struct pr_parse *p, const char *key, const char *code,
    const char *fmt, ...) PR_PRINTF(4, 5);
int pp_nomem(struct pr_parse *p);

/* Zeroed memory from the event's arena, freed with the event. */
void *pp_alloc(struct pr_parse *p, size_t size);

/*
 * Bytes of s to print with "%.*s" so that at most max bytes are shown and
 * no UTF-8 sequence is cut.
 */
int pp_clip(const char *s, size_t max);

/* What kind of JSON value v is, for messages ("a number", "null"). */
const char *pp_typename(const struct pr_json *v);

/*
 * Refuse any key of obj not in allowed (NULL-terminated) or extra (may
 * be NULL): "unknown_field".
 */
int pp_fields(struct pr_parse *p, struct pr_json *obj,
    const char *const *allowed, const char *const *extra);

/* A field that must be absent when req is set, else fetched. */
struct pr_json *pp_get(struct pr_json *obj, const char *key);
int pp_missing(struct pr_parse *p, const char *key);

int pp_string(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, const char **out);
int pp_object(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, struct pr_json **out);
/* A non-empty array ("empty_array" if []). */
int pp_array(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, struct pr_json **out);
int pp_date(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, bool *has, int64_t *out);
int pp_hash(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, bool *has, uint8_t out[PR_EVENT_HASH_LEN]);
/* One of names[1..] (names[0] is the "none" value, never accepted). */
int pp_enum(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, const char *const *names, size_t n, int *out);
/* A party object at the current path. */
int pp_party_value(struct pr_parse *p, struct pr_json *o, struct pr_party *out);
int pp_party(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, struct pr_party *out);
int pp_money(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, bool *has, struct pr_money *out);
int pp_period(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, bool need_start, struct pr_period *out);
int pp_funding(struct pr_parse *p, struct pr_json *obj, unsigned flags,
    enum pr_funding *out);
int pp_items(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, unsigned itflags, struct pr_item **out, size_t *n);
int pp_parties(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, struct pr_party **out, size_t *n);
int pp_lots(struct pr_parse *p, struct pr_json *obj, unsigned flags,
    struct pr_lot **out, size_t *n);
int pp_milestones(struct pr_parse *p, struct pr_json *obj, unsigned flags,
    struct pr_milestone **out, size_t *n);
int pp_bid_results(struct pr_parse *p, struct pr_json *obj, unsigned flags,
    struct pr_bid_result **out, size_t *n);

/* Cross-field checks shared by kinds. */
int pp_check_lot_refs(struct pr_parse *p, const struct pr_event *ev);
int pp_check_value(struct pr_parse *p, const struct pr_event *ev);
int pp_check_milestone_refs(struct pr_parse *p, const struct pr_event *ev);
/* Every award winner has a valid bid when bids are listed. */
int pp_check_winners(struct pr_parse *p, const struct pr_event *ev);

/* Enum names, index 0 being the "none" value. */
extern const char *const pp_scheme_names[];
extern const char *const pp_funding_names[];
extern const char *const pp_method_names[];
extern const char *const pp_criteria_names[];
extern const char *const pp_category_names[];
extern const char *const pp_role_names[];
#define PP_NSCHEMES 6
#define PP_NFUNDING 6
#define PP_NMETHODS 5
#define PP_NCRITERIA 5
#define PP_NCATEGORIES 4
#define PP_NROLES 4

/* Per-kind parse functions (event_kinds.c), one per table row. */
int pp_kind_key_grant(struct pr_parse *, struct pr_json *, struct pr_event *);
int pp_kind_key_revoke(struct pr_parse *, struct pr_json *, struct pr_event *);
int pp_kind_plan(struct pr_parse *, struct pr_json *, struct pr_event *);
int pp_kind_tender(struct pr_parse *, struct pr_json *, struct pr_event *);
int pp_kind_tender_amend(
    struct pr_parse *, struct pr_json *, struct pr_event *);
int pp_kind_tender_cancel(
    struct pr_parse *, struct pr_json *, struct pr_event *);
int pp_kind_bid_commit(struct pr_parse *, struct pr_json *, struct pr_event *);
int pp_kind_bid_reveal(struct pr_parse *, struct pr_json *, struct pr_event *);
int pp_kind_award(struct pr_parse *, struct pr_json *, struct pr_event *);
int pp_kind_contract(struct pr_parse *, struct pr_json *, struct pr_event *);
int pp_kind_contract_amend(
    struct pr_parse *, struct pr_json *, struct pr_event *);
int pp_kind_contract_terminate(
    struct pr_parse *, struct pr_json *, struct pr_event *);
int pp_kind_delivery(struct pr_parse *, struct pr_json *, struct pr_event *);
int pp_kind_payment(struct pr_parse *, struct pr_json *, struct pr_event *);

#endif
