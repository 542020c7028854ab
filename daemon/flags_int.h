/*
 * Internals of the red-flag engine (daemon/flags_*.c): the aggregates it
 * maintains as the log grows, shared by the indexer (flags_index.c), the
 * reference price list (flags_ref.c) and the indicators (flags_eval.c).
 *
 * Everything below is guarded by struct flags.lock: the indexer thread
 * holds it while it applies a chunk of entries, a query while it reads.
 * Strings (party ids, item codes, units, currencies) are interned: an
 * fl_str is an index into flags.strs, valid for the life of the flags.
 * The aggregates live in flags.mem, a file-backed arena
 * (daemon/flags_mem.h), not on the heap: allocate them with fl_malloc()
 * and friends, and never free them one by one at the end (flags_free()
 * drops the arena whole).
 */
#ifndef PROCURED_FLAGS_INT_H
#define PROCURED_FLAGS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proto/event.h"
#include "proto/merkle.h"

struct hmap;
struct http_req;
struct procured;

typedef uint32_t fl_str;
#define FL_NONE UINT32_MAX /* no string */
#define FL_NOIDX UINT64_MAX /* no entry */
#define FL_MAX_CODES 4 /* item codes kept a line */
#define FL_MARK_CODE 0x1 /* a contracted item code, in flags.codes */

/* A growable array of pointers. */
struct fl_vec {
	void **v;
	size_t n, cap;
};

/* One supplier's sealed bid in a process. */
struct fl_bid {
	fl_str supplier;
	uint64_t commit; /* entry index of the bid.commit, or FL_NOIDX */
	uint64_t reveal; /* entry index of the bid.reveal, or FL_NOIDX */
	uint8_t reveal_leaf[PR_HASH_LEN];
	int64_t date; /* the reveal's date */
	fl_str currency;
	unsigned exponent;
	int64_t value; /* the revealed total */
};

/* One evaluated bid listed in an award. */
struct fl_result {
	fl_str supplier;
	enum pr_bid_status status;
	int64_t rank;
	bool has_value;
	int64_t value;
	bool has_reveal;
	uint8_t reveal[PR_HASH_LEN];
};

struct fl_award {
	uint64_t idx;
	int64_t date;
	char *id;
	fl_str currency;
	unsigned exponent;
	bool has_value;
	int64_t value;
	fl_str *winners;
	size_t nwinners;
	struct fl_result *results;
	size_t nresults;
};

/* A priced line of a contract's current version. */
struct fl_line {
	fl_str codes[FL_MAX_CODES]; /* classification first */
	size_t ncodes;
	fl_str unit;
	int64_t price; /* minor units */
	int64_t total; /* price x quantity, rounded */
};

struct fl_milestone {
	char *id;
	int64_t due;
	uint64_t src; /* entry that set the due date */
};

/* A late delivery, as recorded when it was logged. */
struct fl_late {
	uint64_t delivery;
	uint64_t src; /* entry that set the milestone's due date */
	int64_t date; /* the delivery event's date */
	int64_t late_ms;
	char *milestone;
};

struct fl_proc;

struct fl_contract {
	struct fl_proc *proc;
	char *id;
	char *award_id;
	uint64_t idx;
	int64_t date;
	fl_str buyer, supplier;
	fl_str currency;
	unsigned exponent;
	int64_t value0; /* as signed */
	int64_t value; /* after amendments */
	uint64_t price_src; /* entry holding the current lines */
	struct fl_line *lines;
	size_t nlines;
	uint64_t *amends;
	size_t namends;
	int64_t amend_date; /* the latest amendment's date */
	struct fl_milestone *ms;
	size_t nms;
	struct fl_late *late;
	size_t nlate;
	int64_t paid; /* in the contract's currency */
	uint64_t *payments;
	size_t npayments;
	int64_t pay_date; /* the latest payment's date */
	uint32_t gen; /* bumped when an amendment replaces the lines */
	bool terminated;
};

struct fl_proc {
	char *ocid;
	fl_str buyer;
	bool has_tender, cancelled;
	uint64_t tender; /* the tender's entry index */
	int64_t tender_date;
	uint64_t period_src; /* the tender.amend that set the period, or
	                        FL_NOIDX when the tender did */
	int64_t pstart, pend;
	enum pr_method method;
	enum pr_criteria criteria;
	struct fl_bid *bids;
	size_t nbids;
	struct fl_award *awards;
	size_t nawards;
	struct fl_contract **contracts;
	size_t ncontracts;
	fl_str *parties; /* every party the process is indexed under */
	size_t nparties;
	fl_str *items; /* every item code it is indexed under */
	size_t nitems;
};

/* One observed unit price: line `line` of contract c while its lines
 * are at generation gen (an amendment with items makes older
 * observations stale). */
struct fl_obs {
	struct fl_contract *c;
	uint32_t line, gen;
};

/* Unit prices of one item code (classification) in one unit and
 * currency: the price benchmark. */
struct fl_group {
	fl_str code, unit, currency;
	struct fl_obs *obs;
	size_t nobs;
	bool dirty; /* median to recompute */
	size_t nvalid;
	int64_t median;
};

/* One row of the reference price list. */
struct fl_ref {
	fl_str code, unit, currency;
	int64_t price;
};

/*
 * Spending totals (GET /v1/totals): one record a contract, keyed
 * "ocid/contractID", with every version of it that carried a value
 * (contract, contract.amend) and every payment against it, in log order.
 * A query folds the versions and payments dated in its period, so that
 * any period gives the figures a scan of those entries would.
 */
struct fl_tline { /* a priced item line of a version */
	fl_str code; /* "SCHEME:id" of the classification */
	fl_str currency;
	unsigned exponent;
	bool overflow; /* price x quantity did not fit */
	int64_t total;
};

struct fl_tver {
	int64_t date;
	int64_t value;
	fl_str buyer, supplier; /* FL_NONE when the event names none */
	fl_str currency;
	unsigned exponent;
	enum pr_funding funding;
	bool is_contract; /* the contract itself, not an amendment */
	bool has_items; /* the event listed items: its lines replace */
	uint32_t nlines;
	struct fl_tline *lines;
};

struct fl_tpay {
	int64_t date;
	int64_t value;
	fl_str buyer, payee, currency;
	unsigned exponent;
	enum pr_funding funding;
};

struct fl_tc {
	struct fl_tver *v;
	uint32_t nv;
	struct fl_tpay *p;
	uint32_t np;
	int64_t first, last; /* dates of its earliest and latest event */
};

/* Thresholds (procured.conf(5), docs/FLAGS.md). */
struct fl_conf {
	uint64_t min_bidders;
	uint64_t min_tender_days;
	uint64_t close_bid_percent;
	uint64_t discount_percent;
	uint64_t min_disqualified;
	uint64_t price_percent;
	uint64_t price_min_obs;
	uint64_t contract_percent;
	uint64_t amend_percent;
	uint64_t amendments;
	uint64_t late_days;
	uint64_t buyer_share_percent;
	uint64_t item_share_percent;
	uint64_t share_min_contracts;
	int64_t direct_threshold; /* minor units of direct_currency */
	char direct_currency[4];
	uint64_t direct_margin_percent;
};

struct flags {
	struct procured *d;
	struct fl_mem *mem; /* where the aggregates live */
	struct fl_conf conf;
	pthread_mutex_t lock;
	pthread_cond_t done; /* queries: a chunk was applied */
	pthread_t thread;
	bool thread_started, stop;
	struct fl_feed *feed; /* parsed events from the sequencer */

	uint64_t indexed; /* entries [0, indexed) are applied */
	uint64_t errors; /* entries that could not be read or parsed */
	uint64_t from_feed, from_store; /* where applied entries came from */
	uint64_t started_ms, caught_up_ms; /* indexing from 0 to the size
	                                      at start (for the log) */
	uint64_t start_size; /* the log's size when the engine started */

	struct hmap *strmap; /* string -> fl_str */
	char **strs;
	size_t nstrs, capstrs;

	struct hmap *procmap; /* ocid -> struct fl_proc * */
	struct fl_vec procs; /* in order of first appearance */
	struct fl_vec *by_party; /* [fl_str] -> struct fl_proc * */
	struct fl_vec *by_item; /* [fl_str] -> struct fl_proc * */
	uint8_t *mark; /* [fl_str] FL_MARK_* bits */
	struct fl_vec buyers; /* fl_str of every buyer, as (void *) */
	struct fl_vec codes; /* fl_str of every contracted item code */

	struct hmap *groupmap; /* code|unit|currency -> struct fl_group * */

	struct hmap *tcmap; /* "ocid/contractID" -> struct fl_tc * */
	struct fl_vec tcs; /* every struct fl_tc, in order of creation */
	struct fl_vec *tc_by_party; /* [fl_str] -> struct fl_tc * naming it
	                               as buyer or supplier */
	struct fl_vec *tc_by_item; /* [fl_str] -> struct fl_tc * with a
	                              line of that item code */
	struct hmap *refmap; /* code|unit|currency -> struct fl_ref * */
	size_t nrefs;
};

/* flags_index.c */
/* The maps and arena of a new engine (dir: flags_mem.h); 0 or PR_ENOMEM. */
int fl_init(struct flags *f, const char *dir);
fl_str fl_intern(struct flags *f, const char *s);
/* The interned id of s, or FL_NONE if it was never interned. */
fl_str fl_lookup(const struct flags *f, const char *s);
const char *fl_s(const struct flags *f, fl_str id);
/* Heap vectors, for queries. */
int fl_vec_push(struct fl_vec *v, void *p);
void fl_vec_free(struct fl_vec *v);
/* Vectors of the aggregates, in f->mem. */
int fl_vec_add(struct flags *f, struct fl_vec *v, void *p);
int fl_grow(struct flags *f, void *pp, size_t n, size_t sz);
/*
 * Start a query on the aggregates for r: once the indexer has reached the
 * log's size (waiting a little for it), 0 with f->lock held (the caller
 * unlocks); otherwise -1 after answering r: 503 "unavailable" (f NULL),
 * 503 "indexing" with Retry-After, or 500.  what names the answer in
 * messages ("red flags").
 */
int fl_query_begin(
    struct flags *f, struct procured *d, struct http_req *r, const char *what);
/* ts = CLOCK_MONOTONIC now + ms (the clock of the engine's conditions). */
void fl_deadline(struct timespec *ts, unsigned ms);

/* The feed of parsed events (flags_feed.c). */
struct fl_feed *fl_feed_new(int (*cond_init)(pthread_cond_t *));
void fl_feed_free(struct fl_feed *q);
/* The indexer: wait up to ms for entries at or after from to be reported,
 * or for a kick. */
void fl_feed_wait(struct flags *f, uint64_t from, unsigned ms);
/* Wake the indexer now (to stop, or to look at the store). */
void fl_feed_kick(struct flags *f);
/*
 * Take up to max events of entries from, from + 1, ... off the feed into
 * ev[] (owned by the caller now) and leaf[], dropping any before from.
 * Returns how many; *next is the entry the feed holds next (UINT64_MAX
 * if it is empty), so a gap [from, *next) is for the store to fill;
 * *upto is one past the last entry the sequencer has reported (fed or
 * dropped): entries committed after it are still on their way.
 */
size_t fl_feed_take(struct flags *f, uint64_t from, size_t max,
    struct pr_event **ev, uint8_t (*leaf)[PR_HASH_LEN], uint64_t *next,
    uint64_t *upto);
struct fl_group *fl_group_get(
    struct flags *f, fl_str code, fl_str unit, fl_str currency);

/* flags_totals.c: fold a contract, contract.amend or payment into the
 * totals (other kinds are ignored); 0 or PR_ENOMEM. */
int fl_tot_apply(struct flags *f, const struct pr_event *ev);

/* flags_ref.c: the CSV reference price list (flag-reference-prices).
 * fl_ref_parse() reads text[0..len) (name for messages); both log the
 * line and reason of an error and return PR_ECONFIG (or PR_ENOMEM). */
int fl_ref_load(struct flags *f, const char *path);
int fl_ref_parse(
    struct flags *f, const char *text, size_t len, const char *name);
const struct fl_ref *fl_ref_find(
    struct flags *f, fl_str code, fl_str unit, fl_str currency);
void fl_ref_free(struct flags *f);

#endif
