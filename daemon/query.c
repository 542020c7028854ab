#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/http.h"
#include "daemon/procured.h"
#include "daemon/query.h"
#include "daemon/receipt.h"
#include "proto/enc.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/event.h"
#include "proto/evtime.h"
#include "proto/money.h"
#include "proto/policy.h"
#include "store/store.h"

#define PROCESS_MAX 10000 /* events shown for one process */
#define SCAN_MAX 200000 /* entries one aggregate query may read */

void
loaded_free(struct loaded *l)
{
	pr_event_free(l->ev);
	pr_buf_free(&l->raw);
	memset(l, 0, sizeof(*l));
}

int
load(struct procured *d, uint64_t index, struct loaded *l)
{
	int rc;

	memset(l, 0, sizeof(*l));
	l->index = index;
	if ((rc = st_entry(d->store, index, &l->raw)) != 0)
		goto fail;
	if ((rc = pr_entry_parse(l->raw.data, l->raw.len, &l->ent)) != 0)
		goto fail;
	pr_merkle_leaf_hash(l->raw.data, l->raw.len, l->leaf);
	/* Every logged payload passed this parser when it was admitted. */
	if ((rc = pr_event_parse(
	         l->ent.payload, l->ent.payload_len, &l->ev, NULL)) != 0)
		goto fail;
	return 0;
fail:
	loaded_free(l);
	return rc;
}

static json_t *
hexj(const uint8_t *h, size_t len)
{
	char hex[129];

	pr_hex_encode(h, len, hex);
	return json_string(hex);
}

json_t *
timej(int64_t ms)
{
	char s[32];

	format_time_ms((uint64_t)ms, s);
	return json_string(s);
}

json_t *
moneyj(const struct pr_money *m)
{
	char s[PR_DECIMAL_STRLEN + 8];

	pr_decimal_format(m->amount, m->exponent, s, sizeof(s));
	return json_pack("{s:s, s:s}", "amount", s, "currency", m->currency);
}

static int
state_get(void *arg, const char *key, size_t klen, struct pr_buf *val)
{
	struct procured *d = arg;

	return st_state_get(d->store, key, klen, val);
}

static json_t *
signers_json(struct procured *d, const struct pr_entry *ent)
{
	struct pr_policy p;
	struct pr_policy_key k;
	char keyid[PR_DSSE_MAX_KEYID + 1];
	json_t *a = json_array(), *roles;
	size_t i, n;
	unsigned bit;

	memset(&p, 0, sizeof(p));
	p.get = state_get;
	p.ctx = d;
	p.admins = (const struct pr_key *const *)d->admin_keys;
	p.nadmins = d->nadmins;
	for (i = 0; a != NULL && i < ent->nsigs; i++) {
		n = ent->sigs[i].keyidlen;
		if (n > PR_DSSE_MAX_KEYID)
			n = PR_DSSE_MAX_KEYID;
		memcpy(keyid, ent->sigs[i].keyid ? ent->sigs[i].keyid : "", n);
		keyid[n] = '\0';
		if (pr_policy_key_get(&p, keyid, &k) != 0) {
			json_array_append_new(a,
			    json_pack("{s:s, s:n, s:[]}", "keyid", keyid,
			        "party", "roles"));
			continue;
		}
		roles = json_array();
		for (bit = 1; bit <= PR_ROLE_ALL; bit <<= 1)
			if (k.roles & bit)
				json_array_append_new(
				    roles, json_string(pr_role_name(bit)));
		json_array_append_new(a,
		    json_pack("{s:s, s:s, s:o}", "keyid", keyid, "party",
		        k.party, "roles", roles));
	}
	return a;
}

int
query_entry_json(struct procured *d, uint64_t index, json_t **out)
{
	struct loaded l;
	struct pr_dsse *env = NULL;
	struct pr_buf b64 = PR_BUF_INIT, envjs = PR_BUF_INIT;
	pr_hash envh;
	json_t *j = NULL, *ev, *envj;
	int rc;

	memset(&l, 0, sizeof(l));
	l.index = index;
	if ((rc = st_entry(d->store, index, &l.raw)) != 0)
		return rc;
	if ((rc = pr_entry_parse(l.raw.data, l.raw.len, &l.ent)) != 0 ||
	    (rc = pr_entry_to_dsse(&l.ent, &env)) != 0 ||
	    (rc = pr_dsse_serialize(env, &envjs)) != 0 ||
	    (rc = pr_entry_envelope_hash(l.raw.data, l.raw.len, envh)) != 0 ||
	    (rc = pr_b64_encode(&b64, l.raw.data, l.raw.len)) != 0)
		goto out;
	pr_merkle_leaf_hash(l.raw.data, l.raw.len, l.leaf);
	ev = json_loadb((const char *)l.ent.payload, l.ent.payload_len,
	    JSON_REJECT_DUPLICATES, NULL);
	envj = json_loadb((const char *)envjs.data, envjs.len, 0, NULL);
	j = json_pack("{s:I, s:o, s:o, s:o, s:s, s:o*, s:o*, s:o}", "index",
	    (json_int_t)index, "leaf_hash", hexj(l.leaf, PR_HASH_LEN),
	    "envelope_hash", hexj(envh, PR_HASH_LEN), "log_time",
	    timej((int64_t)l.ent.log_time), "entry", (char *)b64.data,
	    "envelope", envj, "event", ev, "signers", signers_json(d, &l.ent));
	rc = j != NULL ? 0 : PR_ENOMEM;
out:
	pr_dsse_free(env);
	pr_buf_free(&b64);
	pr_buf_free(&envjs);
	pr_buf_free(&l.raw);
	if (rc == 0)
		*out = j;
	return rc;
}

/* A process event, as GET /v1/processes shows it. */
static json_t *
chain_json(struct procured *d, struct loaded *l)
{
	json_t *ev = json_loadb(
	    (const char *)l->ent.payload, l->ent.payload_len, 0, NULL);

	return json_pack("{s:I, s:o, s:o, s:s, s:o, s:o, s:o, s:o*}", "index",
	    (json_int_t)l->index, "leaf_hash", hexj(l->leaf, PR_HASH_LEN),
	    "parent",
	    l->ev->has_parent ? hexj(l->ev->parent, PR_HASH_LEN) : json_null(),
	    "kind", pr_kind_name(l->ev->kind), "date", timej(l->ev->date),
	    "log_time", timej((int64_t)l->ent.log_time), "signers",
	    signers_json(d, &l->ent), "event", ev);
}

void
query_process(struct http_req *r, void *arg)
{
	struct procured *d = arg;
	uint64_t *idx;
	size_t n = 0, i;
	struct loaded l;
	json_t *events;
	int rc;

	if (r->tail[0] == '\0' || strchr(r->tail, '/') != NULL) {
		http_error(
		    r, 400, "bad_ocid", "ocid", "use /v1/processes/<ocid>");
		return;
	}
	if (strlen(r->tail) > ST_KEY_MAX) {
		http_error(r, 400, "bad_ocid", "ocid",
		    "an ocid is at most %d bytes", ST_KEY_MAX);
		return;
	}
	if ((idx = calloc(PROCESS_MAX, sizeof(*idx))) == NULL) {
		http_error(r, 503, "overloaded", NULL, "out of memory");
		return;
	}
	rc = st_scan(d->store, ST_IDX_OCID, r->tail, ST_SCAN_START, PROCESS_MAX,
	    idx, &n);
	if (rc != 0 || n == 0) {
		free(idx);
		if (rc == 0 || rc == PR_ENOTFOUND)
			http_error(r, 404, "not_found", "ocid",
			    "no process %s in this log", r->tail);
		else
			http_error(
			    r, 500, "store_error", NULL, "%s", pr_strerror(rc));
		return;
	}
	events = json_array();
	for (i = 0; i < n; i++) {
		if (load(d, idx[i], &l) != 0)
			continue;
		json_array_append_new(events, chain_json(d, &l));
		loaded_free(&l);
	}
	free(idx);
	http_reply_json(
	    r, 200, json_pack("{s:s, s:o}", "ocid", r->tail, "events", events));
}

/* "2026-01-01" or RFC 3339 into ms; PR_ENOTFOUND when absent. */
int
time_param(struct http_req *r, const char *name, int64_t *ms)
{
	const char *s = http_query_str(r, name);
	char buf[40];

	if (s == NULL)
		return PR_ENOTFOUND;
	if (strlen(s) == 10) {
		snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
		s = buf;
	}
	return pr_time_parse(s, strlen(s), ms, NULL) == 0 ? 0 : PR_EFORMAT;
}

static const struct pr_party *
main_supplier(const struct pr_event *ev)
{
	if (ev->supplier.id != NULL)
		return &ev->supplier;
	if (ev->n_suppliers > 0)
		return &ev->suppliers[0];
	if (ev->payee.id != NULL)
		return &ev->payee;
	return NULL;
}

static json_t *
summary_json(const struct loaded *l)
{
	const struct pr_event *ev = l->ev;
	const struct pr_party *sup = main_supplier(ev);

	return json_pack("{s:I, s:s?, s:s, s:o, s:o, s:s?, s:s?, s:o}", "index",
	    (json_int_t)l->index, "ocid", ev->ocid, "kind",
	    pr_kind_name(ev->kind), "log_time", timej((int64_t)l->ent.log_time),
	    "date", timej(ev->date), "buyer",
	    ev->buyer.id ? ev->buyer.id : ev->payer.id, "supplier",
	    sup ? sup->id : NULL, "value",
	    ev->has_value ? moneyj(&ev->value) : json_null());
}

void
query_search(struct http_req *r, void *arg)
{
	struct procured *d = arg;
	static const struct {
		const char *param;
		enum st_index idx;
	} keys[] = {{"ocid", ST_IDX_OCID}, {"party", ST_IDX_PARTY},
	    {"item", ST_IDX_ITEM}, {"kind", ST_IDX_KIND}};
	const char *key = NULL;
	enum st_index which = ST_IDX_KIND;
	uint64_t limit = 100, cursor = ST_SCAN_START, idx[256];
	int64_t from = 0, to = INT64_MAX;
	size_t i, n, got = 0;
	struct loaded l;
	json_t *res;
	int rc, more = 0;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((key = http_query_str(r, keys[i].param)) != NULL) {
			which = keys[i].idx;
			break;
		}
	if (key != NULL && (key[0] == '\0' || strlen(key) > ST_KEY_MAX)) {
		http_error(r, 400, "bad_query", keys[i].param,
		    "%s must be 1 to %d bytes", keys[i].param, ST_KEY_MAX);
		return;
	}
	if ((rc = http_query_u64(r, "limit", &limit)) == PR_EFORMAT ||
	    limit == 0 || limit > 1000) {
		http_error(
		    r, 400, "bad_query", "limit", "limit must be 1..1000");
		return;
	}
	if ((rc = http_query_u64(r, "cursor", &cursor)) == PR_EFORMAT) {
		http_error(r, 400, "bad_query", "cursor",
		    "cursor must be the next_cursor of a previous page");
		return;
	}
	if ((rc = time_param(r, "from", &from)) == PR_EFORMAT ||
	    (rc != 0 && rc != PR_ENOTFOUND)) {
		http_error(r, 400, "bad_query", "from",
		    "from must be YYYY-MM-DD or RFC 3339 UTC");
		return;
	}
	if ((rc = time_param(r, "to", &to)) != 0 && rc != PR_ENOTFOUND) {
		http_error(r, 400, "bad_query", "to",
		    "to must be YYYY-MM-DD or RFC 3339 UTC");
		return;
	}
	if (key == NULL && http_query_str(r, "from") == NULL) {
		http_error(r, 400, "bad_query", NULL,
		    "give party, item, kind, ocid or from/to");
		return;
	}
	res = json_array();
	while (got < limit) {
		n = 0;
		if (key != NULL)
			rc = st_scan(d->store, which, key, cursor,
			    sizeof(idx) / sizeof(idx[0]), idx, &n);
		else
			rc =
			    st_scan_time(d->store, (uint64_t)from, (uint64_t)to,
			        cursor, sizeof(idx) / sizeof(idx[0]), idx, &n);
		if (rc != 0 && rc != PR_ENOTFOUND) {
			json_decref(res);
			http_error(
			    r, 500, "store_error", NULL, "%s", pr_strerror(rc));
			return;
		}
		if (n == 0)
			break;
		for (i = 0; i < n && got < limit; i++) {
			cursor = idx[i];
			if (load(d, idx[i], &l) != 0)
				continue;
			if ((int64_t)l.ent.log_time >= from &&
			    (int64_t)l.ent.log_time < to) {
				json_array_append_new(res, summary_json(&l));
				got++;
			}
			loaded_free(&l);
		}
		if (got == limit) {
			more = 1;
			break;
		}
	}
	{
		char next[24];
		snprintf(
		    next, sizeof(next), "%llu", (unsigned long long)cursor);
		http_reply_json(r, 200,
		    json_pack("{s:o, s:s?}", "results", res, "next_cursor",
		        more ? next : NULL));
	}
}
