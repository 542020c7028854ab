/*
 * log, get, search, prices, totals: the transparency questions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/merkle.h"
#include "proto/note.h"

/* A JSON member as text for a table cell: strings as they are, integers
 * in decimal, null and absent as NULL.  buf holds numbers. */
static const char *
cell(const json_t *o, const char *name, char *buf, size_t size)
{
	const json_t *v = json_object_get(o, name);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_true(v))
		return "true";
	if (json_is_false(v))
		return "false";
	return NULL;
}

/* Print a table in the context's mode (text or CSV) and free it. */
static int
emit_table(struct cl_ctx *ctx, struct cl_table *t)
{
	int rc;

	rc = cl_table_print(t, ctx->mode, stdout);
	cl_table_free(t);
	return rc ? cl_err_rc(rc, "output") : CL_EXIT_OK;
}

static int
emit_json(json_t *doc)
{
	int rc = cl_json_print(doc, stdout);

	return rc ? cl_err_rc(rc, "output") : CL_EXIT_OK;
}

int
cmd_log(struct cl_ctx *ctx, const struct cl_args *a)
{
	static const struct cl_col cols[] = {
	    {"origin", "origin", 0, -1, 0},
	    {"vkey", "vkey", 0, -1, 0},
	    {"tree_size", "tree size", CL_COL_NUMBER, -1, 0},
	    {"root_hash", "root hash", 0, -1, 0},
	    {"checkpoint_verified", "checkpoint", 0, -1, 0},
	};
	struct pr_checkpoint cp;
	struct pr_vkey vkey;
	struct cl_table t;
	const char *cps, *from, *row[5];
	char size[24], root[2 * PR_HASH_LEN + 1];
	json_t *j;
	json_int_t n;
	int rc, ex, have_vkey;

	memset(&vkey, 0, sizeof(vkey));
	if ((rc = cl_vkey_find(a, &vkey, &from)) != 0 && rc != PR_ENOTFOUND)
		return cl_err_rc(rc, "%s", "");
	have_vkey = rc == 0;
	if ((ex = cl_get_json(ctx, "/v1/log", &j)) != 0)
		goto clear_vkey;
	cps = json_string_value(json_object_get(j, "checkpoint"));
	n = json_integer_value(json_object_get(j, "tree_size"));
	if (cps == NULL) {
		cl_errx("the server's /v1/log has no checkpoint");
		ex = CL_EXIT_NET;
		goto free_j;
	}
	rc = have_vkey
	    ? pr_checkpoint_open(cps, strlen(cps), vkey.name, &vkey, 1, &cp)
	    : cl_checkpoint_unverified(cps, strlen(cps), &cp);
	if (rc != 0) {
		cl_errx("the log's checkpoint: %s", pr_errmsg(rc));
		ex = cl_exit_for(rc) == CL_EXIT_FAIL ? CL_EXIT_FAIL
		                                     : CL_EXIT_NET;
		goto free_j;
	}
	pr_hex_encode(cp.root, PR_HASH_LEN, root);
	if ((uint64_t)n != cp.size ||
	    strcmp(root,
	        json_string_value(json_object_get(j, "root_hash"))
	            ? json_string_value(json_object_get(j, "root_hash"))
	            : "") != 0) {
		/* The log may grow between the fields; say which is signed. */
		json_object_set_new(
		    j, "tree_size", json_integer((json_int_t)cp.size));
		json_object_set_new(j, "root_hash", json_string(root));
	}
	if (ctx->mode == CL_JSON) {
		json_object_set_new(
		    j, "checkpoint_verified", json_boolean(have_vkey));
		ex = emit_json(j);
		goto clear_cp;
	}
	snprintf(size, sizeof(size), "%llu", (unsigned long long)cp.size);
	row[0] = cp.origin;
	row[1] = json_string_value(json_object_get(j, "vkey"));
	row[2] = size;
	row[3] = root;
	row[4] =
	    have_vkey ? "signature ok" : "signature not checked (no --vkey)";
	cl_table_init(&t, cols, 5);
	t.vertical = 1;
	if ((rc = cl_table_add(&t, row)) != 0) {
		cl_table_free(&t);
		ex = cl_err_rc(rc, "%s", "");
	} else
		ex = emit_table(ctx, &t);
clear_cp:
	pr_checkpoint_clear(&cp);
free_j:
	json_decref(j);
clear_vkey:
	if (have_vkey)
		pr_vkey_clear(&vkey);
	return ex;
}

/* "KZ-BIN-... (buyer, payer)" for each signer, joined by "; ". */
static int
signers_text(const json_t *signers, struct pr_buf *out)
{
	const json_t *s, *r;
	size_t i, k;
	int rc = 0;

	json_array_foreach(signers, i, s)
	{
		const char *party =
		    json_string_value(json_object_get(s, "party"));
		const char *kid =
		    json_string_value(json_object_get(s, "keyid"));

		if (i > 0)
			rc = pr_buf_append_str(out, "; ");
		if (rc == 0 && party != NULL)
			rc = pr_buf_append_str(out, party);
		else if (rc == 0)
			rc = pr_buf_printf(out, "key %.16s", kid ? kid : "?");
		json_array_foreach(json_object_get(s, "roles"), k, r)
		{
			if (rc == 0)
				rc = pr_buf_printf(out, "%s%s",
				    k == 0 ? " (" : ", ",
				    json_string_value(r) ? json_string_value(r)
				                         : "?");
		}
		if (rc == 0 && json_array_size(json_object_get(s, "roles")))
			rc = pr_buf_append_byte(out, ')');
	}
	return rc;
}

/* Append text with each line sanitized, and a final newline. */
static int
sanitize_lines(struct pr_buf *out, const char *text)
{
	const char *nl;
	int rc = 0;

	while (rc == 0 && *text != '\0') {
		nl = strchr(text, '\n');
		rc = cl_sanitize(
		    out, text, nl ? (size_t)(nl - text) : strlen(text));
		if (rc == 0)
			rc = pr_buf_append_byte(out, '\n');
		if (nl == NULL)
			break;
		text = nl + 1;
	}
	return rc;
}

int
cmd_get(struct cl_ctx *ctx, const struct cl_args *a)
{
	static const struct cl_col cols[] = {
	    {"index", "index", 0, -1, 0},
	    {"leaf_hash", "leaf hash", 0, -1, 0},
	    {"log_time", "log time", 0, -1, 0},
	    {"kind", "kind", 0, -1, 0},
	    {"ocid", "ocid", 0, -1, 0},
	    {"signers", "signers", 0, -1, 0},
	    {"event", "event", CL_COL_NOTEXT, -1, 0},
	};
	struct pr_buf path = PR_BUF_INIT, raw = PR_BUF_INIT, sig = PR_BUF_INIT;
	const char *b64, *lh, *row[7];
	char idx[24], hex[2 * PR_HASH_LEN + 1], *evjson = NULL;
	pr_hash leaf;
	struct cl_table t;
	json_t *j, *ev;
	char *end;
	unsigned long long i;
	int rc, ex;

	i = strtoull(a->pos[0], &end, 10);
	if (a->pos[0][0] < '0' || a->pos[0][0] > '9' || *end != '\0') {
		cl_errx("get: INDEX must be a number, not '%s'", a->pos[0]);
		return CL_EXIT_USAGE;
	}
	if ((rc = pr_buf_printf(&path, "/v1/entries/%llu", i)) != 0)
		return cl_err_rc(rc, "%s", "");
	ex = cl_get_json(ctx, (char *)path.data, &j);
	pr_buf_free(&path);
	if (ex != 0)
		return ex;
	/* The entry bytes must hash to the leaf hash the server claims. */
	b64 = json_string_value(json_object_get(j, "entry"));
	lh = json_string_value(json_object_get(j, "leaf_hash"));
	if (b64 == NULL || lh == NULL ||
	    pr_b64_decode(&raw, b64, strlen(b64), PR_B64_STD) != 0) {
		cl_errx(
		    "entry %llu: the server's answer has no valid entry", i);
		ex = CL_EXIT_NET;
		goto free_j;
	}
	pr_merkle_leaf_hash(raw.data, raw.len, leaf);
	pr_hex_encode(leaf, PR_HASH_LEN, hex);
	if (strcmp(hex, lh) != 0) {
		cl_errx("entry %llu: the entry bytes hash to %s, not to the "
		        "leaf hash %s the server gives",
		    i, hex, lh);
		ex = CL_EXIT_FAIL;
		goto free_raw;
	}
	if (ctx->mode == CL_JSON) {
		ex = emit_json(j);
		goto free_raw;
	}
	ev = json_object_get(j, "event");
	snprintf(idx, sizeof(idx), "%llu", i);
	if ((rc = signers_text(json_object_get(j, "signers"), &sig)) != 0 ||
	    (evjson = json_dumps(
	         ev, ctx->mode == CL_CSV ? JSON_COMPACT : JSON_INDENT(2))) ==
	        NULL) {
		ex = cl_err_rc(rc ? rc : PR_ENOMEM, "%s", "");
		goto free_sig;
	}
	row[0] = idx;
	row[1] = lh;
	row[2] = json_string_value(json_object_get(j, "log_time"));
	row[3] = json_string_value(json_object_get(ev, "kind"));
	row[4] = json_string_value(json_object_get(ev, "ocid"));
	row[5] = sig.data ? (char *)sig.data : "";
	row[6] = evjson;
	cl_table_init(&t, cols, 7);
	t.vertical = 1;
	if ((rc = cl_table_add(&t, row)) != 0) {
		cl_table_free(&t);
		ex = cl_err_rc(rc, "%s", "");
		goto free_sig;
	}
	if ((ex = emit_table(ctx, &t)) == 0 && ctx->mode == CL_TEXT) {
		struct pr_buf clean = PR_BUF_INIT;

		/* The event text comes from the log: sanitized line by line
		 * for the terminal. */
		if ((rc = pr_buf_append_str(&clean, "event\n")) != 0 ||
		    (rc = sanitize_lines(&clean, evjson)) != 0 ||
		    fwrite(clean.data, 1, clean.len, stdout) != clean.len)
			ex = cl_err_rc(rc ? rc : PR_EIO, "output");
		pr_buf_free(&clean);
	}
free_sig:
	free(evjson);
	pr_buf_free(&sig);
free_raw:
	pr_buf_free(&raw);
free_j:
	json_decref(j);
	return ex;
}

/* Append "&name=value" (percent-encoded) when value is not NULL. */
static int
query_param(struct pr_buf *q, const char *name, const char *value)
{
	int rc;

	if (value == NULL)
		return 0;
	if ((rc = pr_buf_printf(q,
	         "%c%s=", q->len && strchr((char *)q->data, '?') ? '&' : '?',
	         name)) != 0)
		return rc;
	return cl_url_escape(q, value);
}

/* A row of the search table from one result object. */
static int
search_row(struct cl_table *t, const json_t *r)
{
	char idx[24];
	const json_t *v = json_object_get(r, "value");
	const char *row[9];

	row[0] = cell(r, "index", idx, sizeof(idx));
	row[1] = cell(r, "log_time", NULL, 0);
	row[2] = cell(r, "kind", NULL, 0);
	row[3] = cell(r, "ocid", NULL, 0);
	row[4] = cell(r, "buyer", NULL, 0);
	row[5] = cell(r, "supplier", NULL, 0);
	row[6] = json_string_value(json_object_get(v, "amount"));
	row[7] = json_string_value(json_object_get(v, "currency"));
	row[8] = cell(r, "date", NULL, 0);
	return cl_table_add(t, row);
}

/*
 * Whether result r has member name equal to want (NULL: any).  Servers
 * may answer on the first criterion only; kind and ocid, which every
 * result carries, are checked here too.
 */
static int
matches(const json_t *r, const char *name, const char *want)
{
	const char *v;

	if (want == NULL)
		return 1;
	v = json_string_value(json_object_get(r, name));
	return v != NULL && strcmp(v, want) == 0;
}

int
cmd_search(struct cl_ctx *ctx, const struct cl_args *a)
{
	static const struct cl_col cols[] = {
	    {"index", "INDEX", CL_COL_RIGHT, -1, 0},
	    {"log_time", "LOG TIME", 0, -1, 0},
	    {"kind", "KIND", 0, -1, 0},
	    {"ocid", "OCID", 0, -1, 40},
	    {"buyer", "BUYER", 0, -1, 0},
	    {"supplier", "SUPPLIER", 0, -1, 0},
	    {"amount", "VALUE", CL_COL_NUMBER, 7, 0},
	    {"currency", "CURRENCY", CL_COL_NOTEXT, -1, 0},
	    {"date", "DATE", CL_COL_NOTEXT, -1, 0},
	};
	static const struct {
		enum cl_optid id;
		const char *name;
	} params[] = {
	    {CL_O_PARTY, "party"},
	    {CL_O_ITEM, "item"},
	    {CL_O_KIND, "kind"},
	    {CL_O_OCID, "ocid"},
	    {CL_O_FROM, "from"},
	    {CL_O_TO, "to"},
	};
	struct pr_buf base = PR_BUF_INIT, q = PR_BUF_INIT;
	struct cl_table t;
	struct cl_progress pg;
	const char *cursor = NULL, *lim = cl_opt(a, CL_O_LIMIT);
	char *end, *cur = NULL;
	unsigned long long limit = 0, got = 0, page;
	json_t *all, *j = NULL, *res, *r;
	size_t i, p;
	int rc = 0, ex = CL_EXIT_OK;

	if (cl_opt(a, CL_O_PARTY) == NULL && cl_opt(a, CL_O_ITEM) == NULL &&
	    cl_opt(a, CL_O_KIND) == NULL && cl_opt(a, CL_O_OCID) == NULL) {
		cl_errx("search: give at least one of --party, --item, --kind, "
		        "--ocid");
		return CL_EXIT_USAGE;
	}
	if (lim != NULL) {
		limit = strtoull(lim, &end, 10);
		if (*lim < '1' || *lim > '9' || *end != '\0') {
			cl_errx("search: --limit wants a positive number");
			return CL_EXIT_USAGE;
		}
	}
	for (p = 0; p < sizeof(params) / sizeof(params[0]) && rc == 0; p++)
		rc =
		    query_param(&base, params[p].name, cl_opt(a, params[p].id));
	if (rc != 0 || (all = json_array()) == NULL)
		return cl_err_rc(rc ? rc : PR_ENOMEM, "%s", "");
	cl_table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	/* Pages of a large search take a while: say how far it got. */
	cl_progress_start(ctx, &pg, "search: results");
	for (;;) {
		cl_progress_show(&pg, got, limit);
		page = limit && limit - got < 1000 ? limit - got : 1000;
		pr_buf_reset(&q);
		if ((rc = pr_buf_printf(&q, "/v1/search%s&limit=%llu",
		         (char *)base.data, page)) != 0 ||
		    (rc = query_param(&q, "cursor", cursor)) != 0) {
			ex = cl_err_rc(rc, "%s", "");
			break;
		}
		json_decref(j);
		j = NULL;
		if ((ex = cl_get_json(ctx, (char *)q.data, &j)) != 0)
			break;
		res = json_object_get(j, "results");
		if (!json_is_array(res)) {
			cl_errx("the server's search answer has no results");
			ex = CL_EXIT_NET;
			break;
		}
		json_array_foreach(res, i, r)
		{
			if (limit && got == limit)
				break;
			if (!matches(r, "kind", cl_opt(a, CL_O_KIND)) ||
			    !matches(r, "ocid", cl_opt(a, CL_O_OCID)))
				continue;
			if (json_array_append(all, r) != 0 ||
			    (ctx->mode != CL_JSON &&
			        (rc = search_row(&t, r)) != 0)) {
				ex = cl_err_rc(rc ? rc : PR_ENOMEM, "%s", "");
				goto out;
			}
			got++;
		}
		cursor = json_string_value(json_object_get(j, "next_cursor"));
		if (cursor == NULL || (limit && got >= limit) ||
		    json_array_size(res) == 0)
			break;
		free(cur);
		if ((cur = strdup(cursor)) == NULL) {
			ex = cl_err_rc(PR_ENOMEM, "%s", "");
			break;
		}
		cursor = cur;
	}
	cl_progress_end(&pg);
	if (ex == 0) {
		if (ctx->mode == CL_JSON) {
			json_t *doc = json_pack("{s:O, s:I}", "results", all,
			    "count", (json_int_t)got);

			ex = doc ? emit_json(doc)
			         : cl_err_rc(PR_ENOMEM, "%s", "");
			json_decref(doc);
		} else {
			ex = emit_table(ctx, &t);
			if (ctx->mode == CL_TEXT && ctx->out_tty)
				printf("%llu result%s\n", got,
				    got == 1 ? "" : "s");
		}
	}
out:
	cl_table_free(&t);
	free(cur);
	json_decref(j);
	json_decref(all);
	pr_buf_free(&q);
	pr_buf_free(&base);
	return ex;
}

int
cmd_prices(struct cl_ctx *ctx, const struct cl_args *a)
{
	static const struct cl_col cols[] = {
	    {"group", "GROUP", 0, -1, 0},
	    {"party", "PARTY", 0, -1, 0},
	    {"count", "COUNT", CL_COL_NUMBER, -1, 0},
	    {"min", "MIN", CL_COL_NUMBER, 7, 0},
	    {"median", "MEDIAN", CL_COL_NUMBER, 7, 0},
	    {"max", "MAX", CL_COL_NUMBER, 7, 0},
	    {"median_ratio", "MEDIAN/REF", CL_COL_RIGHT, -1, 0},
	    {"currency", "CURRENCY", CL_COL_NOTEXT, -1, 0},
	    {"unit", "UNIT", 0, -1, 0},
	};
	static const char *const groups[] = {"by_buyer", "by_supplier"};
	struct pr_buf q = PR_BUF_INIT;
	struct cl_table t;
	const char *cur, *unit, *row[9];
	char n[24];
	json_t *j, *g, *r;
	size_t i, k;
	int rc, ex;

	if ((rc = pr_buf_append_str(&q, "/v1/prices")) != 0 ||
	    (rc = query_param(&q, "item", a->pos[0])) != 0 ||
	    (rc = query_param(&q, "reference", cl_opt(a, CL_O_REFERENCE))) !=
	        0 ||
	    (rc = query_param(&q, "unit", cl_opt(a, CL_O_UNIT))) != 0 ||
	    (rc = query_param(&q, "buyer", cl_opt(a, CL_O_BUYER))) != 0 ||
	    (rc = query_param(&q, "supplier", cl_opt(a, CL_O_SUPPLIER))) != 0 ||
	    (rc = query_param(&q, "from", cl_opt(a, CL_O_FROM))) != 0 ||
	    (rc = query_param(&q, "to", cl_opt(a, CL_O_TO))) != 0) {
		pr_buf_free(&q);
		return cl_err_rc(rc, "%s", "");
	}
	ex = cl_get_json(ctx, (char *)q.data, &j);
	pr_buf_free(&q);
	if (ex != 0)
		return ex;
	if (ctx->mode == CL_JSON) {
		ex = emit_json(j);
		json_decref(j);
		return ex;
	}
	cur = json_string_value(json_object_get(j, "currency"));
	unit = json_string_value(json_object_get(j, "unit"));
	cl_table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	row[0] = "all";
	row[1] = json_string_value(json_object_get(j, "item"));
	row[2] = cell(j, "count", n, sizeof(n));
	row[3] = cell(j, "min", NULL, 0);
	row[4] = cell(j, "median", NULL, 0);
	row[5] = cell(j, "max", NULL, 0);
	row[6] = cell(j, "median_ratio", NULL, 0);
	row[7] = cur;
	row[8] = unit;
	rc = cl_table_add(&t, row);
	for (k = 0; k < 2 && rc == 0; k++) {
		g = json_object_get(j, groups[k]);
		json_array_foreach(g, i, r)
		{
			row[0] = k == 0 ? "buyer" : "supplier";
			row[1] = cell(r, "party", NULL, 0);
			row[2] = cell(r, "count", n, sizeof(n));
			row[3] = cell(r, "min", NULL, 0);
			row[4] = cell(r, "median", NULL, 0);
			row[5] = cell(r, "max", NULL, 0);
			row[6] = NULL;
			if (rc == 0)
				rc = cl_table_add(&t, row);
		}
	}
	if (rc != 0) {
		cl_table_free(&t);
		ex = cl_err_rc(rc, "%s", "");
	} else {
		if (ctx->mode == CL_TEXT) {
			struct pr_buf ref = PR_BUF_INIT;

			cl_fmt_amount(&ref, cell(j, "reference", NULL, 0), cur);
			printf("%s%s%s\n\n",
			    "unit prices of awards and contracts",
			    ref.len ? ", reference " : "",
			    ref.len ? (char *)ref.data : "");
			pr_buf_free(&ref);
		}
		ex = emit_table(ctx, &t);
	}
	json_decref(j);
	return ex;
}

int
cmd_totals(struct cl_ctx *ctx, const struct cl_args *a)
{
	static const struct cl_col cols[] = {
	    {"key", "KEY", 0, -1, 0},
	    {"name", "NAME", CL_COL_OPTIONAL, -1, 48},
	    {"contracted", "CONTRACTED", CL_COL_NUMBER, 6, 0},
	    {"paid", "PAID", CL_COL_NUMBER, 6, 0},
	    {"contracts", "CONTRACTS", CL_COL_NUMBER, -1, 0},
	    {"payments", "PAYMENTS", CL_COL_NUMBER, -1, 0},
	    {"currency", "CURRENCY", CL_COL_NOTEXT, -1, 0},
	};
	static const char *const keys[] = {
	    "buyer", "supplier", "item", "funding", "month"};
	struct pr_buf q = PR_BUF_INIT;
	struct cl_table t;
	const char *by = cl_opt(a, CL_O_BY), *row[7];
	char n1[24], n2[24];
	json_t *j, *r;
	size_t i;
	int rc, ex;

	for (i = 0; by != NULL && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(by, keys[i]) == 0)
			break;
	if (by == NULL || i == sizeof(keys) / sizeof(keys[0])) {
		cl_errx(
		    "totals: --by must be buyer, supplier, item, funding or "
		    "month");
		return CL_EXIT_USAGE;
	}
	if ((rc = pr_buf_append_str(&q, "/v1/totals")) != 0 ||
	    (rc = query_param(&q, "by", by)) != 0 ||
	    (rc = query_param(&q, "party", cl_opt(a, CL_O_PARTY))) != 0 ||
	    (rc = query_param(&q, "item", cl_opt(a, CL_O_ITEM))) != 0 ||
	    (rc = query_param(&q, "from", cl_opt(a, CL_O_FROM))) != 0 ||
	    (rc = query_param(&q, "to", cl_opt(a, CL_O_TO))) != 0) {
		pr_buf_free(&q);
		return cl_err_rc(rc, "%s", "");
	}
	ex = cl_get_json(ctx, (char *)q.data, &j);
	pr_buf_free(&q);
	if (ex != 0)
		return ex;
	if (ctx->mode == CL_JSON) {
		ex = emit_json(j);
		json_decref(j);
		return ex;
	}
	cl_table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	rc = 0;
	json_array_foreach(json_object_get(j, "rows"), i, r)
	{
		row[0] = cell(r, "key", NULL, 0);
		row[1] = cell(r, "name", NULL, 0);
		row[2] = cell(r, "contracted", NULL, 0);
		row[3] = cell(r, "paid", NULL, 0);
		row[4] = cell(r, "contracts", n1, sizeof(n1));
		row[5] = cell(r, "payments", n2, sizeof(n2));
		row[6] = json_string_value(json_object_get(r, "currency"));
		if (row[6] == NULL)
			row[6] =
			    json_string_value(json_object_get(j, "currency"));
		if (rc == 0)
			rc = cl_table_add(&t, row);
	}
	if (rc != 0) {
		cl_table_free(&t);
		ex = cl_err_rc(rc, "%s", "");
	} else
		ex = emit_table(ctx, &t);
	json_decref(j);
	return ex;
}
