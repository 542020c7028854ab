/*
 * Transparency queries over the store: entries, processes, search,
 * prices and totals (docs/API.md).  Each reads the store in short read
 * transactions; nothing is held across event-loop callbacks.
 */
#ifndef PROCURED_QUERY_H
#define PROCURED_QUERY_H

#include <stdint.h>

#include <jansson.h>

#include "proto/buf.h"
#include "proto/entry.h"
#include "proto/event.h"
#include "proto/merkle.h"
#include "proto/money.h"

struct procured;
struct http_req;

/* The JSON of GET /v1/entries/<index>; 0, PR_ENOTFOUND or an error. */
int query_entry_json(struct procured *d, uint64_t index, json_t **out);

/* Helpers shared by the query files. */
struct loaded {
	uint64_t index;
	struct pr_buf raw;
	struct pr_entry ent;
	struct pr_event *ev;
	pr_hash leaf;
};
/* Read entry index and parse its event. */
int load(struct procured *d, uint64_t index, struct loaded *l);
void loaded_free(struct loaded *l);
json_t *timej(int64_t ms);
json_t *moneyj(const struct pr_money *m);

/* An amount v scaled by 10^-exp as a JSON decimal string ("12.50"). */
static inline json_t *
amountj(int64_t v, unsigned exp)
{
	char s[PR_DECIMAL_STRLEN + 8];

	pr_decimal_format(v, exp, s, sizeof(s));
	return json_string(s);
}
/* Query parameter name as YYYY-MM-DD or RFC 3339 UTC, in ms; PR_ENOTFOUND
 * when absent, PR_EFORMAT when malformed. */
int time_param(struct http_req *r, const char *name, int64_t *ms);

void query_process(struct http_req *r, void *arg);
void query_search(struct http_req *r, void *arg);
void query_prices(struct http_req *r, void *arg);
void query_totals(struct http_req *r, void *arg);

#endif
