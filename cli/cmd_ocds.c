/*
 * export --ocds: the log as one OCDS 1.1 release package (docs/EVENTS.md,
 * "OCDS mapping"), written as it is read.  Every event of a process
 * becomes one release whose id is the entry's leaf hash; key grants and
 * revocations, which belong to no process, are left out.  Amounts become
 * JSON numbers only here, at this boundary (15 significant digits).
 *
 * Releases that touch a contract after it was signed (amendments,
 * deliveries, payments) must name its award; the exporter remembers
 * every contract's award from the start of the log, so --from skips
 * output but not that memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/source.h"
#include "proto/dsse.h"
#include "proto/enc.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/evtime.h"
#include "proto/merkle.h"
#include "proto/note.h"
#include "proto/tile.h"

#define DUMP_FLAGS                                                             \
	(JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

struct ocds {
	json_t *awards; /* "ocid\ncontractID" -> awardID */
	const char *only; /* --ocid */
	uint64_t first; /* --from */
	size_t nreleases;
	char last_time[PR_TIME_STRLEN];
};

static const char *
s(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void
set(json_t *o, const char *k, json_t *v)
{
	if (v != NULL)
		json_object_set_new(o, k, v);
}

static void
copy(json_t *to, const json_t *from, const char *k)
{
	json_t *v = json_object_get(from, k);

	if (v != NULL)
		json_object_set(to, k, v);
}

/* A decimal string ("12.50", or a JSON integer) as a JSON number. */
static json_t *
number(const json_t *v)
{
	const char *str = json_string_value(v);
	char *end;
	double d;

	if (json_is_integer(v))
		return json_integer(json_integer_value(v));
	if (str == NULL)
		return NULL;
	/* "12" and "12.00" are integers; "12.50" is not. */
	if (strspn(strchr(str, '.') ? strchr(str, '.') + 1 : "", "0") ==
	    strlen(strchr(str, '.') ? strchr(str, '.') + 1 : ""))
		return json_integer((json_int_t)strtoll(str, NULL, 10));
	errno = 0;
	d = strtod(str, &end);
	return *end == '\0' && errno == 0 ? json_real(d) : NULL;
}

static json_t *
value(const json_t *money)
{
	json_t *v;

	if (!json_is_object(money))
		return NULL;
	v = json_object();
	set(v, "amount", number(json_object_get(money, "amount")));
	copy(v, money, "currency");
	return v;
}

/* Party p with role, merged into the release's parties by id; returns
 * the organization reference {id, name}. */
static json_t *
party(json_t *parties, const json_t *p, const char *role)
{
	const char *id = s(p, "id"), *dash;
	json_t *o, *roles, *r, *ident;
	size_t i, j;

	if (id == NULL)
		return NULL;
	json_array_foreach(parties, i, o)
	{
		if (strcmp(s(o, "id"), id) != 0)
			continue;
		roles = json_object_get(o, "roles");
		json_array_foreach(roles, j, r)
		{
			if (strcmp(json_string_value(r), role) == 0)
				goto ref;
		}
		json_array_append_new(roles, json_string(role));
		goto ref;
	}
	o = json_object();
	set(o, "id", json_string(id));
	copy(o, p, "name");
	/* "KZ-BIN-090640001233": scheme KZ-BIN, id 090640001233. */
	if ((dash = strchr(id, '-')) != NULL &&
	    (dash = strchr(dash + 1, '-')) != NULL) {
		ident = json_object();
		set(ident, "scheme", json_stringn(id, (size_t)(dash - id)));
		set(ident, "id", json_string(dash + 1));
		copy(ident, p, "name");
		if (json_object_get(ident, "name") != NULL) {
			json_object_set(
			    ident, "legalName", json_object_get(ident, "name"));
			json_object_del(ident, "name");
		}
		set(o, "identifier", ident);
	}
	set(o, "roles", json_pack("[s]", role));
	json_array_append_new(parties, o);
ref:
	o = json_object();
	set(o, "id", json_string(id));
	copy(o, p, "name");
	return o;
}

static json_t *
period(const json_t *p)
{
	json_t *o;

	if (!json_is_object(p))
		return NULL;
	o = json_object();
	copy(o, p, "startDate");
	copy(o, p, "endDate");
	return o;
}

static json_t *
items(const json_t *list)
{
	json_t *a, *it, *o, *unit, *u;
	size_t i;

	if (!json_is_array(list))
		return NULL;
	a = json_array();
	json_array_foreach(list, i, it)
	{
		o = json_object();
		copy(o, it, "id");
		copy(o, it, "description");
		copy(o, it, "classification");
		copy(o, it, "additionalClassifications");
		set(o, "quantity", number(json_object_get(it, "quantity")));
		unit = json_object_get(it, "unit");
		if (unit != NULL || json_object_get(it, "unitPrice") != NULL) {
			u = json_object();
			if (unit != NULL) {
				set(u, "scheme", json_string("UNCEFACT"));
				json_object_set(
				    u, "id", json_object_get(unit, "code"));
				copy(u, unit, "name");
			}
			set(u, "value",
			    value(json_object_get(it, "unitPrice")));
			set(o, "unit", u);
		}
		copy(o, it, "relatedLot");
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
lots(const json_t *list)
{
	json_t *a, *l, *o;
	size_t i;

	if (!json_is_array(list))
		return NULL;
	a = json_array();
	json_array_foreach(list, i, l)
	{
		o = json_object();
		copy(o, l, "id");
		copy(o, l, "title");
		set(o, "value", value(json_object_get(l, "value")));
		json_array_append_new(a, o);
	}
	return a;
}

/* tender.id is the ocid in every release, so that they merge. */
static json_t *
tender_of(const json_t *ev, const char *status)
{
	json_t *t = json_object();

	copy(t, ev, "ocid");
	json_object_set(t, "id", json_object_get(ev, "ocid"));
	json_object_del(t, "ocid");
	if (status != NULL)
		set(t, "status", json_string(status));
	copy(t, ev, "title");
	copy(t, ev, "description");
	set(t, "items", items(json_object_get(ev, "items")));
	set(t, "value", value(json_object_get(ev, "value")));
	copy(t, ev, "procurementMethod");
	copy(t, ev, "procurementMethodDetails");
	copy(t, ev, "mainProcurementCategory");
	copy(t, ev, "awardCriteria");
	set(t, "tenderPeriod", period(json_object_get(ev, "tenderPeriod")));
	set(t, "lots", lots(json_object_get(ev, "lots")));
	return t;
}

static json_t *
amendment(const json_t *ev, const char *id)
{
	json_t *a = json_object();

	set(a, "id", json_string(id));
	copy(a, ev, "date");
	copy(a, ev, "rationale");
	return json_pack("[o]", a);
}

/* A bid in the bids extension; its id is the bidder, which has one
 * sealed bid a process. */
static json_t *
bid(json_t *parties, const json_t *ev, const json_t *supplier,
    const char *status)
{
	json_t *b = json_object();

	copy(b, supplier, "id");
	copy(b, ev, "date");
	set(b, "status", json_string(status));
	set(b, "tenderers",
	    json_pack("[o]", party(parties, supplier, "tenderer")));
	return b;
}

static json_t *
bids(json_t *details)
{
	return json_pack("{s:o}", "details", details);
}

/* A contract entry for a release that follows the signed contract. */
static json_t *
contract_ref(struct ocds *x, const json_t *ev)
{
	char key[600];
	json_t *c = json_object();

	snprintf(key, sizeof(key), "%s\n%s", s(ev, "ocid"),
	    s(ev, "contractID") ? s(ev, "contractID") : "");
	json_object_set(c, "id", json_object_get(ev, "contractID"));
	json_object_set(c, "awardID", json_object_get(x->awards, key));
	if (json_object_get(c, "awardID") == NULL)
		json_object_set(
		    c, "awardID", json_object_get(ev, "contractID"));
	return c;
}

static json_t *
contract_milestones(const json_t *list)
{
	json_t *a, *m, *o;
	size_t i;

	if (!json_is_array(list))
		return NULL;
	a = json_array();
	json_array_foreach(list, i, m)
	{
		o = json_object();
		copy(o, m, "id");
		copy(o, m, "title");
		copy(o, m, "type");
		copy(o, m, "dueDate");
		set(o, "status", json_string("scheduled"));
		set(o, "value", value(json_object_get(m, "value")));
		json_array_append_new(a, o);
	}
	return a;
}

/* The release for one event, or NULL for an event of no process. */
static json_t *
release(struct ocds *x, const json_t *ev, const char *leaf)
{
	const char *kind = s(ev, "kind"), *tag;
	json_t *r, *parties = json_array(), *o, *a, *v, *det;
	size_t i;

	if (s(ev, "ocid") == NULL || kind == NULL) {
		json_decref(parties);
		return NULL;
	}
	r = json_object();
	copy(r, ev, "ocid");
	set(r, "id", json_string(leaf));
	copy(r, ev, "date");
	set(r, "tag", json_array());
	set(r, "initiationType", json_string("tender"));
	set(r, "parties", parties);
	if ((v = json_object_get(ev, "buyer")) != NULL)
		set(r, "buyer", party(parties, v, "buyer"));
	if (strcmp(kind, "plan") == 0) {
		tag = "planning";
		o = json_object();
		copy(o, ev, "rationale");
		a = json_object();
		if (s(ev, "fundingSource") != NULL)
			copy(a, ev, "fundingSource");
		set(a, "description",
		    json_object_get(a, "fundingSource")
		        ? json_incref(json_object_get(a, "fundingSource"))
		        : NULL);
		json_object_del(a, "fundingSource");
		set(a, "amount", value(json_object_get(ev, "value")));
		set(o, "budget", a);
		set(r, "planning", o);
		o = tender_of(ev, "planning");
		json_object_del(o, "value");
		set(r, "tender", o);
	} else if (strcmp(kind, "tender") == 0) {
		tag = "tender";
		set(r, "tender", tender_of(ev, "active"));
	} else if (strcmp(kind, "tender.amend") == 0) {
		tag = "tenderAmendment";
		o = tender_of(ev, NULL);
		set(o, "amendments", amendment(ev, leaf));
		set(r, "tender", o);
	} else if (strcmp(kind, "tender.cancel") == 0) {
		tag = "tenderCancellation";
		o = json_pack("{s:O, s:s}", "id", json_object_get(ev, "ocid"),
		    "status", "cancelled");
		set(o, "amendments", amendment(ev, leaf));
		set(r, "tender", o);
	} else if (strcmp(kind, "bid.commit") == 0 ||
	    strcmp(kind, "bid.reveal") == 0) {
		tag = "tenderUpdate";
		det = bid(
		    parties, ev, json_object_get(ev, "supplier"), "pending");
		if (strcmp(kind, "bid.reveal") == 0) {
			set(det, "value", value(json_object_get(ev, "value")));
			set(det, "items", items(json_object_get(ev, "items")));
		}
		set(r, "tender",
		    json_pack("{s:O}", "id", json_object_get(ev, "ocid")));
		set(r, "bids", bids(json_pack("[o]", det)));
	} else if (strcmp(kind, "award") == 0) {
		tag = "award";
		o = json_object();
		copy(o, ev, "id");
		copy(o, ev, "title");
		copy(o, ev, "description");
		set(o, "status", json_string("active"));
		copy(o, ev, "date");
		set(o, "value", value(json_object_get(ev, "value")));
		a = json_array();
		json_array_foreach(json_object_get(ev, "suppliers"), i, v)
		    json_array_append_new(a, party(parties, v, "supplier"));
		set(o, "suppliers", a);
		set(o, "items", items(json_object_get(ev, "items")));
		set(r, "awards", json_pack("[o]", o));
		if (json_is_array(json_object_get(ev, "bids"))) {
			a = json_array();
			json_array_foreach(json_object_get(ev, "bids"), i, v)
			{
				det = bid(parties, ev,
				    json_object_get(v, "supplier"),
				    s(v, "status") ? s(v, "status") : "valid");
				set(det, "value",
				    value(json_object_get(v, "value")));
				copy(det, v, "rank");
				copy(det, v, "reason");
				json_array_append_new(a, det);
			}
			set(r, "bids", bids(a));
		}
	} else if (strcmp(kind, "contract") == 0) {
		tag = "contract";
		o = json_object();
		copy(o, ev, "id");
		copy(o, ev, "awardID");
		copy(o, ev, "title");
		copy(o, ev, "description");
		set(o, "status", json_string("active"));
		set(o, "period", period(json_object_get(ev, "period")));
		set(o, "value", value(json_object_get(ev, "value")));
		set(o, "items", items(json_object_get(ev, "items")));
		copy(o, ev, "dateSigned");
		set(o, "milestones",
		    contract_milestones(json_object_get(ev, "milestones")));
		copy(o, ev, "fundingSource");
		json_decref(party(
		    parties, json_object_get(ev, "supplier"), "supplier"));
		set(r, "contracts", json_pack("[o]", o));
	} else if (strcmp(kind, "contract.amend") == 0 ||
	    strcmp(kind, "contract.terminate") == 0) {
		int term = strcmp(kind, "contract.terminate") == 0;
		tag = term ? "contractTermination" : "contractAmendment";
		o = contract_ref(x, ev);
		if (term)
			set(o, "status", json_string("terminated"));
		set(o, "period", period(json_object_get(ev, "period")));
		set(o, "value", value(json_object_get(ev, "value")));
		set(o, "items", items(json_object_get(ev, "items")));
		set(o, "milestones",
		    contract_milestones(json_object_get(ev, "milestones")));
		set(o, "amendments", amendment(ev, leaf));
		json_decref(party(
		    parties, json_object_get(ev, "supplier"), "supplier"));
		set(r, "contracts", json_pack("[o]", o));
	} else if (strcmp(kind, "delivery") == 0) {
		tag = "implementation";
		o = contract_ref(x, ev);
		a = json_object();
		set(a, "id",
		    json_string(
		        s(ev, "milestoneID") ? s(ev, "milestoneID") : leaf));
		set(a, "type", json_string("delivery"));
		set(a, "status", json_string("met"));
		json_object_set(a, "dateMet",
		    json_object_get(ev,
		        json_object_get(ev, "deliveryDate") ? "deliveryDate"
		                                            : "date"));
		set(a, "deliveredItems", items(json_object_get(ev, "items")));
		set(o, "implementation", json_pack("{s:[o]}", "milestones", a));
		json_decref(party(
		    parties, json_object_get(ev, "supplier"), "supplier"));
		set(r, "contracts", json_pack("[o]", o));
	} else if (strcmp(kind, "payment") == 0) {
		tag = "implementation";
		o = contract_ref(x, ev);
		a = json_object();
		copy(a, ev, "id");
		copy(a, ev, "date");
		set(a, "value", value(json_object_get(ev, "value")));
		set(a, "payer",
		    party(parties, json_object_get(ev, "payer"), "payer"));
		set(a, "payee",
		    party(parties, json_object_get(ev, "payee"), "payee"));
		copy(a, ev, "fundingSource");
		set(o, "implementation",
		    json_pack("{s:[o]}", "transactions", a));
		set(r, "contracts", json_pack("[o]", o));
	} else {
		json_decref(r);
		return NULL;
	}
	json_array_append_new(json_object_get(r, "tag"), json_string(tag));
	return r;
}

/* Remember a contract's award; write the release of entry index. */
static int
entry(struct ocds *x, uint64_t index, const uint8_t *e, size_t len, int *sep)
{
	char hex[2 * PR_HASH_LEN + 1], key[600], *out;
	struct pr_dsse *d;
	uint64_t lt;
	pr_hash leaf;
	json_t *ev, *r;
	int rc = 0;

	if ((rc = pr_entry_decode(e, len, &lt, &d)) != 0)
		return pr_errmsg_set(rc, "entry %llu cannot be decoded: %s",
		    (unsigned long long)index, pr_strerror(rc));
	ev = json_loadb((char *)d->payload, d->payload_len, 0, NULL);
	pr_dsse_free(d);
	if (!json_is_object(ev)) {
		json_decref(ev);
		return pr_errmsg_set(PR_EPROTO,
		    "entry %llu holds no JSON event",
		    (unsigned long long)index);
	}
	if (s(ev, "kind") != NULL && strcmp(s(ev, "kind"), "contract") == 0 &&
	    s(ev, "id") != NULL && s(ev, "awardID") != NULL) {
		snprintf(
		    key, sizeof(key), "%s\n%s", s(ev, "ocid"), s(ev, "id"));
		json_object_set(x->awards, key, json_object_get(ev, "awardID"));
	}
	if (index < x->first || s(ev, "ocid") == NULL ||
	    (x->only != NULL && strcmp(s(ev, "ocid"), x->only) != 0)) {
		json_decref(ev);
		return 0;
	}
	pr_merkle_leaf_hash(e, len, leaf);
	pr_hex_encode(leaf, PR_HASH_LEN, hex);
	r = release(x, ev, hex);
	json_decref(ev);
	if (r == NULL)
		return 0;
	out = json_dumps(r, DUMP_FLAGS);
	json_decref(r);
	if (out == NULL)
		return PR_ENOMEM;
	if (printf("%s%s", *sep ? ",\n" : "\n", out) < 0)
		rc = PR_EIO;
	free(out);
	*sep = 1;
	x->nreleases++;
	pr_time_format((int64_t)lt, x->last_time);
	return rc;
}

/* The log time of the tree's last entry: the package's publishedDate. */
static int
last_time(struct cl_src *src, uint64_t size, char out[PR_TIME_STRLEN])
{
	struct pr_buf b = PR_BUF_INIT;
	struct pr_tile_bundle_iter it;
	struct pr_dsse *d;
	struct pr_tile t;
	const uint8_t *e = NULL, *p;
	size_t elen = 0, plen;
	uint64_t lt = 0;
	int rc;

	if (size == 0)
		return pr_errmsg_set(PR_ENOTFOUND, "the log is empty");
	t.level = PR_TILE_ENTRIES;
	t.index = (size - 1) / PR_TILE_WIDTH;
	t.width = pr_tile_width(PR_TILE_ENTRIES, t.index, size);
	if ((rc = cl_src_tile(src, &t, &b)) != 0)
		goto out;
	pr_tile_bundle_iter_init(&it, b.data, b.len);
	while (pr_tile_bundle_next(&it, &p, &plen) == 1) {
		e = p;
		elen = plen;
	}
	if (e == NULL)
		rc = pr_errmsg_set(PR_EPROTO, "the last entry bundle is empty");
	else if ((rc = pr_entry_decode(e, elen, &lt, &d)) == 0) {
		pr_dsse_free(d);
		rc = pr_time_format((int64_t)lt, out);
	}
out:
	pr_buf_free(&b);
	return rc;
}

/* The package up to the opening of its releases array. */
static int
header(struct cl_ctx *ctx, const char *dir, const struct pr_checkpoint *cp,
    const char *date)
{
	struct pr_buf uri = PR_BUF_INIT;
	char *h, full[4096];
	json_t *j;
	int rc;

	if (dir != NULL)
		rc = pr_buf_printf(
		    &uri, "file://%s", realpath(dir, full) ? full : dir);
	else
		rc = pr_buf_printf(&uri, "%s/v1/log#%llu", ctx->server,
		    (unsigned long long)cp->size);
	if (rc != 0)
		return rc;
	j = json_pack("{s:s, s:s, s:s, s:{s:s}}", "uri", (char *)uri.data,
	    "version", "1.1", "publishedDate", date, "publisher", "name",
	    cp->origin);
	pr_buf_free(&uri);
	h = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (h == NULL)
		return PR_ENOMEM;
	/* Everything but the closing brace, then the releases. */
	rc = printf("%.*s,\"releases\":[", (int)(strlen(h) - 1), h) < 0 ? PR_EIO
	                                                                : 0;
	free(h);
	return rc;
}

int
cl_export_ocds(struct cl_ctx *ctx, const struct cl_args *a)
{
	struct pr_buf note = PR_BUF_INIT, b = PR_BUF_INIT;
	struct pr_tile_bundle_iter it;
	struct pr_checkpoint cp;
	struct pr_tile t;
	struct cl_src *src;
	struct ocds x;
	const char *v, *dir = cl_opt(a, CL_O_DATADIR);
	const uint8_t *e;
	uint64_t limit = UINT64_MAX, end, i, n, k;
	size_t elen;
	char *endp, date[PR_TIME_STRLEN];
	int rc, ex = CL_EXIT_OK, sep = 0;

	memset(&x, 0, sizeof(x));
	x.only = cl_opt(a, CL_O_OCID);
	if ((v = cl_opt(a, CL_O_FROM)) != NULL)
		x.first = strtoull(v, &endp, 10);
	if ((v != NULL && (*v < '0' || *v > '9' || *endp != '\0')) ||
	    ((v = cl_opt(a, CL_O_LIMIT)) != NULL &&
	        ((limit = strtoull(v, &endp, 10)) == 0 || *endp != '\0'))) {
		cl_errx("export: --from and --limit want numbers");
		return CL_EXIT_USAGE;
	}
	rc = dir ? cl_src_datadir(dir, &src) : cl_src_server(ctx, &src);
	if (rc != 0)
		return dir ? cl_err_rc(rc, "%s", "") : ctx->server_exit;
	memset(&cp, 0, sizeof(cp));
	if ((rc = cl_src_checkpoint(src, &note)) != 0 ||
	    (rc = cl_checkpoint_unverified((char *)note.data, note.len, &cp)) !=
	        0) {
		ex = dir ? cl_err_rc(rc, "%s", "") : CL_EXIT_NET;
		goto free_src;
	}
	x.awards = json_object();
	end = limit < cp.size - (x.first < cp.size ? x.first : cp.size)
	    ? x.first + limit
	    : cp.size;
	if ((rc = last_time(src, cp.size, date)) != 0 ||
	    (rc = header(ctx, dir, &cp, date)) != 0) {
		ex = dir ? cl_err_rc(rc, "%s", "") : cl_err_rc(rc, "export");
		goto free_awards;
	}
	for (i = 0; i < end; i = (n + 1) * PR_TILE_WIDTH) {
		n = i / PR_TILE_WIDTH;
		t.level = PR_TILE_ENTRIES;
		t.index = n;
		t.width = pr_tile_width(PR_TILE_ENTRIES, n, cp.size);
		pr_buf_reset(&b);
		if ((rc = cl_src_tile(src, &t, &b)) != 0)
			break;
		pr_tile_bundle_iter_init(&it, b.data, b.len);
		for (k = n * PR_TILE_WIDTH; k < end; k++) {
			if (pr_tile_bundle_next(&it, &e, &elen) != 1) {
				rc = pr_errmsg_set(PR_EPROTO,
				    "entry bundle %llu is short",
				    (unsigned long long)n);
				break;
			}
			if ((rc = entry(&x, k, e, elen, &sep)) != 0)
				break;
			if (k % PR_TILE_WIDTH == PR_TILE_WIDTH - 1)
				break;
		}
		if (rc != 0)
			break;
	}
	if (printf("\n]}\n") < 0 || fflush(stdout) != 0)
		rc = rc ? rc : PR_EIO;
	if (rc == 0 && ferror(stdout))
		rc = PR_EIO;
	if (rc != 0)
		ex = dir ? cl_err_rc(rc, "%s", "") : cl_err_rc(rc, "export");
	else if (x.nreleases == 0) {
		cl_errx("export: no process events to export");
		ex = CL_EXIT_FAIL;
	}
free_awards:
	json_decref(x.awards);
	pr_checkpoint_clear(&cp);
free_src:
	cl_src_free(src);
	pr_buf_free(&b);
	pr_buf_free(&note);
	return ex;
}
