/*
 * flags: the red flags a log raises (GET /v1/flags, docs/FLAGS.md), as
 * a table for people, CSV, or the server's JSON.
 *
 *	procurectl flags [INDICATOR] [--buyer ID] [--supplier ID]
 *	    [--item SCHEME:CODE] [--from TIME] [--to TIME] [--limit N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "proto/buf.h"
#include "proto/err.h"

const struct cl_optdef cl_flags_opts[] = {
    {"buyer", CL_O_BUYER, "ID", "flags of this buyer"},
    {"supplier", CL_O_SUPPLIER, "ID", "flags naming this supplier"},
    {"item", CL_O_ITEM, "SCHEME:CODE",
        "flags about this item code or its processes"},
    {"from", CL_O_FROM, "TIME", "flags dated from (RFC 3339 or YYYY-MM-DD)"},
    {"to", CL_O_TO, "TIME", "flags dated before"},
    {"limit", CL_O_LIMIT, "N", "at most N flags (1..10000, default 1000)"},
    {NULL, 0, NULL, NULL},
};

static int
param(struct pr_buf *q, const char *name, const char *value)
{
	int rc;

	if (value == NULL)
		return 0;
	if ((rc = pr_buf_printf(q,
	         "%c%s=", strchr((char *)q->data, '?') ? '&' : '?', name)) != 0)
		return rc;
	return cl_url_escape(q, value);
}

static const char *
str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* The entry indexes as "12 40 41". */
static int
entries(const json_t *f, struct pr_buf *out)
{
	const json_t *v;
	size_t i;
	int rc = 0;

	pr_buf_reset(out);
	json_array_foreach(json_object_get(f, "entries"), i, v)
	{
		if (rc == 0)
			rc = pr_buf_printf(out, "%s%lld", i ? " " : "",
			    (long long)json_integer_value(v));
	}
	return rc;
}

/* value and unit as one cell: "30.0 %", "45.0 days", "1 bids". */
static int
value_cell(const json_t *f, struct pr_buf *out)
{
	const char *v = str(f, "value"), *u = str(f, "unit");

	pr_buf_reset(out);
	if (v == NULL)
		return 0;
	if (u != NULL && strcmp(u, "percent") == 0)
		return pr_buf_printf(out, "%s%%", v);
	if (u != NULL && strcmp(u, "ratio") == 0)
		return pr_buf_printf(out, "x%s", v);
	if (u != NULL && strlen(u) == 3 && u[0] >= 'A' && u[0] <= 'Z')
		return cl_fmt_amount(out, v, u);
	return pr_buf_printf(out, "%s %s", v, u ? u : "");
}

int
cmd_flags(struct cl_ctx *ctx, const struct cl_args *a)
{
	static const struct cl_col cols[] = {
	    {"date", "DATE", 0, -1, 0},
	    {"indicator", "INDICATOR", 0, -1, 0},
	    {"ocid", "PROCESS", CL_COL_OPTIONAL, -1, 0},
	    {"buyer", "BUYER", CL_COL_OPTIONAL, -1, 0},
	    {"supplier", "SUPPLIER", CL_COL_OPTIONAL, -1, 0},
	    {"item", "ITEM", CL_COL_OPTIONAL, -1, 0},
	    {"value", "VALUE", CL_COL_RIGHT, -1, 0},
	    {"entries", "ENTRIES", 0, -1, 24},
	    {"explanation", "EXPLANATION", 0, -1, 0},
	};
	struct pr_buf q = PR_BUF_INIT, ent = PR_BUF_INIT, val = PR_BUF_INIT;
	const char *row[9];
	char day[11];
	struct cl_table t;
	json_t *j, *f;
	size_t i;
	int rc, ex;

	if ((rc = pr_buf_append_str(&q, "/v1/flags")) != 0 ||
	    (rc = param(&q, "indicator", a->npos ? a->pos[0] : NULL)) != 0 ||
	    (rc = param(&q, "buyer", cl_opt(a, CL_O_BUYER))) != 0 ||
	    (rc = param(&q, "supplier", cl_opt(a, CL_O_SUPPLIER))) != 0 ||
	    (rc = param(&q, "item", cl_opt(a, CL_O_ITEM))) != 0 ||
	    (rc = param(&q, "from", cl_opt(a, CL_O_FROM))) != 0 ||
	    (rc = param(&q, "to", cl_opt(a, CL_O_TO))) != 0 ||
	    (rc = param(&q, "limit", cl_opt(a, CL_O_LIMIT))) != 0) {
		pr_buf_free(&q);
		return cl_err_rc(rc, "flags");
	}
	ex = cl_get_json(ctx, (char *)q.data, &j);
	pr_buf_free(&q);
	if (ex != 0)
		return ex;
	if (ctx->mode == CL_JSON) {
		rc = cl_json_print(j, stdout);
		json_decref(j);
		return rc ? cl_err_rc(rc, "output") : CL_EXIT_OK;
	}
	cl_table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	rc = 0;
	json_array_foreach(json_object_get(j, "flags"), i, f)
	{
		if (rc == 0)
			rc = entries(f, &ent);
		if (rc == 0)
			rc = value_cell(f, &val);
		if (rc != 0)
			break;
		/* On a terminal the day is enough; CSV keeps the time. */
		row[0] = str(f, "date");
		if (ctx->mode == CL_TEXT && row[0] != NULL) {
			snprintf(day, sizeof(day), "%s", row[0]);
			row[0] = day;
		}
		row[1] = str(f, "indicator");
		row[2] = str(f, "ocid");
		row[3] = str(f, "buyer");
		row[4] = str(f, "supplier");
		row[5] = str(f, "item");
		row[6] = val.len ? (char *)val.data : NULL;
		row[7] = ent.len ? (char *)ent.data : NULL;
		row[8] = str(f, "explanation");
		rc = cl_table_add(&t, row);
	}
	if (rc == 0 && ctx->mode == CL_TEXT &&
	    json_is_true(json_object_get(j, "truncated")))
		fprintf(stderr,
		    "procurectl: showing %lld of %lld flags (raise --limit)\n",
		    (long long)json_integer_value(json_object_get(j, "count")),
		    (long long)json_integer_value(json_object_get(j, "total")));
	if (rc != 0) {
		cl_table_free(&t);
		ex = cl_err_rc(rc, "flags");
	} else {
		rc = cl_table_print(&t, ctx->mode, stdout);
		cl_table_free(&t);
		ex = rc ? cl_err_rc(rc, "output") : CL_EXIT_OK;
	}
	pr_buf_free(&ent);
	pr_buf_free(&val);
	json_decref(j);
	return ex;
}
