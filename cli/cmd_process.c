/*
 * process OCID: one procurement process as a tree (tender -> bids ->
 * award -> contract -> amendments, deliveries, payments) with signers,
 * log times and running totals.
 *
 * Totals are exact: amounts are parsed into minor units of their
 * currency and summed as integers.  A contract.amend's value is the
 * contract's new value.  Running totals follow the tree as printed
 * (children in log order).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/kv.h"
#include "proto/err.h"
#include "proto/money.h"

struct pnode {
	json_t *ev; /* the event object of the answer (borrowed) */
	const char *kind; /* from the answer */
	long parent; /* index into nodes, or -1 */
	long first_child, next_sibling, last_child;
	int64_t contracted; /* for a contract: its current value */
	int has_contracted;
};

struct ptotals {
	char cur[4];
	unsigned exp;
	int has_cur, mixed;
	int64_t contracted, paid, awarded;
	int any_contract, any_payment;
};

struct pwalk {
	struct ptotals tot;
	struct cl_table *t;
	json_t *parties; /* party id -> name */
	struct pnode *nodes;
	char prefix[512];
	size_t plen;
};

static void
add_party(json_t *parties, const json_t *p)
{
	const char *id = json_string_value(json_object_get(p, "id"));
	const char *name = json_string_value(json_object_get(p, "name"));

	if (id != NULL && name != NULL && json_object_get(parties, id) == NULL)
		json_object_set_new(parties, id, json_string(name));
}

/* Names of every party the events mention, by id. */
static void
collect_parties(json_t *parties, const json_t *events)
{
	static const char *const fields[] = {
	    "buyer", "supplier", "payer", "payee", "party"};
	const json_t *e, *ev, *s;
	size_t i, k, f;

	json_array_foreach(events, i, e)
	{
		ev = json_object_get(e, "event");
		for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
			add_party(parties, json_object_get(ev, fields[f]));
		json_array_foreach(json_object_get(ev, "suppliers"), k, s)
		    add_party(parties, s);
	}
}

/* "role+role: Name; ..." from the signers for a person (role first, so
 * a cut name keeps it); "id:role+role;..." for CSV. */
static int
signed_by(
    const json_t *signers, const json_t *parties, int csv, struct pr_buf *out)
{
	const json_t *s, *r;
	const char *party, *name;
	size_t i, k;
	int rc = 0;

	json_array_foreach(signers, i, s)
	{
		party = json_string_value(json_object_get(s, "party"));
		name = party
		    ? json_string_value(json_object_get(parties, party))
		    : NULL;
		if (i > 0)
			rc = pr_buf_append_str(out, csv ? ";" : "; ");
		if (rc == 0 && csv)
			rc = pr_buf_printf(out, "%s:", party ? party : "?");
		json_array_foreach(json_object_get(s, "roles"), k, r)
		{
			if (rc == 0)
				rc = pr_buf_printf(out, "%s%s", k ? "+" : "",
				    json_string_value(r) ? json_string_value(r)
				                         : "?");
		}
		if (rc == 0 && !csv)
			rc = pr_buf_printf(out, ": %s",
			    name        ? name
			        : party ? party
			                : "?");
	}
	return rc;
}

/* Add v (minor units in cur) to *sum when cur is the process currency. */
static int
same_currency(struct ptotals *tot, const char *cur, unsigned exp)
{
	if (!tot->has_cur) {
		memcpy(tot->cur, cur, 4);
		tot->exp = exp;
		tot->has_cur = 1;
	}
	if (strcmp(tot->cur, cur) != 0) {
		tot->mixed = 1;
		return 0;
	}
	return 1;
}

/* The contract this event belongs to (itself or an ancestor), or -1. */
static long
contract_of(const struct pnode *nodes, long i)
{
	for (; i >= 0; i = nodes[i].parent)
		if (strcmp(nodes[i].kind, "contract") == 0)
			return i;
	return -1;
}

/* Update the running totals with node i; fill its value cell. */
static int
account(struct pwalk *w, long i, char *value, size_t vsize)
{
	struct pnode *n = &w->nodes[i];
	const json_t *v =
	    json_object_get(json_object_get(n->ev, "event"), "value");
	struct ptotals *tot = &w->tot;
	char cur[4];
	unsigned exp;
	int64_t m, d;
	long c;

	value[0] = '\0';
	if (v == NULL || cl_money_get(v, &m, cur, &exp) != 0)
		return 0;
	cl_money_str(m, exp, value, vsize);
	if (!same_currency(tot, cur, exp))
		return 0;
	if (strcmp(n->kind, "award") == 0)
		return pr_money_add(tot->awarded, m, &tot->awarded);
	if (strcmp(n->kind, "contract") == 0) {
		n->contracted = m;
		n->has_contracted = 1;
		tot->any_contract = 1;
		return pr_money_add(tot->contracted, m, &tot->contracted);
	}
	if (strcmp(n->kind, "contract.amend") == 0 &&
	    (c = contract_of(w->nodes, n->parent)) >= 0 &&
	    w->nodes[c].has_contracted) {
		d = m - w->nodes[c].contracted;
		w->nodes[c].contracted = m;
		return pr_money_add(tot->contracted, d, &tot->contracted);
	}
	if (strcmp(n->kind, "payment") == 0) {
		tot->any_payment = 1;
		return pr_money_add(tot->paid, m, &tot->paid);
	}
	return 0;
}

static int
walk(struct pwalk *w, long i, int last, int depth, int csv)
{
	struct pnode *n = &w->nodes[i];
	struct pr_buf label = PR_BUF_INIT, sig = PR_BUF_INIT;
	char idx[24], value[PR_DECIMAL_STRLEN], con[PR_DECIMAL_STRLEN],
	    paid[PR_DECIMAL_STRLEN], dep[12], par[24];
	const char *row[11];
	const json_t *v;
	size_t save = w->plen;
	long c;
	int rc;

	if ((rc = account(w, i, value, sizeof(value))) != 0)
		return rc;
	if (!csv && depth > 0)
		rc = pr_buf_printf(&label, "%.*s%s", (int)w->plen, w->prefix,
		    last ? "\xe2\x94\x94\xe2\x94\x80 "
		         : "\xe2\x94\x9c\xe2\x94\x80 ");
	if (rc == 0)
		rc = pr_buf_append_str(&label, n->kind);
	if (rc == 0)
		rc = signed_by(
		    json_object_get(n->ev, "signers"), w->parties, csv, &sig);
	if (rc != 0)
		goto free_bufs;
	snprintf(idx, sizeof(idx), "%lld",
	    (long long)json_integer_value(json_object_get(n->ev, "index")));
	snprintf(dep, sizeof(dep), "%d", depth);
	v = n->parent >= 0 ? json_object_get(w->nodes[n->parent].ev, "index")
	                   : NULL;
	snprintf(par, sizeof(par), "%lld", (long long)json_integer_value(v));
	cl_money_str(w->tot.contracted, w->tot.exp, con, sizeof(con));
	cl_money_str(w->tot.paid, w->tot.exp, paid, sizeof(paid));
	row[0] = (char *)label.data;
	row[1] = idx;
	row[2] = json_string_value(json_object_get(n->ev, "log_time"));
	row[3] = sig.data ? (char *)sig.data : "";
	row[4] = value[0] ? value : NULL;
	row[5] = w->tot.any_contract ? con : NULL;
	row[6] = w->tot.any_payment ? paid : NULL;
	row[7] = w->tot.has_cur ? w->tot.cur : NULL;
	row[8] = dep;
	row[9] = v ? par : NULL;
	row[10] = json_string_value(json_object_get(n->ev, "leaf_hash"));
	if ((rc = cl_table_add(w->t, row)) != 0)
		goto free_bufs;
	/* Children are drawn under "│  " unless this node was the last. */
	if (depth > 0) {
		const char *add = last ? "   " : "\xe2\x94\x82  ";

		if (w->plen + strlen(add) >= sizeof(w->prefix)) {
			rc = PR_ETOOBIG;
			goto free_bufs;
		}
		memcpy(w->prefix + w->plen, add, strlen(add));
		w->plen += strlen(add);
	}
	for (c = n->first_child; c >= 0 && rc == 0;
	     c = w->nodes[c].next_sibling)
		rc = walk(w, c, w->nodes[c].next_sibling < 0, depth + 1, csv);
	w->plen = save;
free_bufs:
	pr_buf_free(&label);
	pr_buf_free(&sig);
	return rc;
}

/* Link each event to its parent (an earlier event of the answer). */
static int
link_nodes(struct pnode *nodes, size_t n, const json_t *events)
{
	struct cl_kv *byleaf;
	struct cl_kv_ent *e;
	const char *ph, *lh;
	size_t i, k;
	int rc = 0;

	if ((rc = cl_kv_new(&byleaf)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		nodes[i].ev = json_array_get(events, i);
		nodes[i].kind =
		    json_string_value(json_object_get(nodes[i].ev, "kind"));
		if (nodes[i].kind == NULL) {
			rc = PR_EPROTO;
			break;
		}
		nodes[i].parent = nodes[i].first_child = nodes[i].last_child =
		    nodes[i].next_sibling = -1;
		ph = json_string_value(json_object_get(nodes[i].ev, "parent"));
		lh = json_string_value(
		    json_object_get(nodes[i].ev, "leaf_hash"));
		e = ph ? cl_kv_find(byleaf, ph, strlen(ph)) : NULL;
		if (lh != NULL &&
		    (rc = cl_kv_put(
		         byleaf, lh, strlen(lh), &i, sizeof(i), NULL)) != 0)
			break;
		if (e == NULL)
			continue;
		memcpy(&k, e->val, sizeof(k));
		nodes[i].parent = (long)k;
		if (nodes[k].last_child < 0)
			nodes[k].first_child = (long)i;
		else
			nodes[nodes[k].last_child].next_sibling = (long)i;
		nodes[k].last_child = (long)i;
	}
	cl_kv_free(byleaf, NULL);
	return rc;
}

int
cmd_process(struct cl_ctx *ctx, const struct cl_args *a)
{
	static const struct cl_col cols[] = {
	    {"kind", "EVENT", 0, -1, 0},
	    {"index", "INDEX", CL_COL_RIGHT, -1, 0},
	    {"log_time", "LOG TIME", 0, -1, 0},
	    {"signers", "SIGNED BY", 0, -1, 64},
	    {"value", "VALUE", CL_COL_NUMBER, 7, 0},
	    {"contracted", "CONTRACTED", CL_COL_NUMBER, 7, 0},
	    {"paid", "PAID", CL_COL_NUMBER, 7, 0},
	    {"currency", "CURRENCY", CL_COL_NOTEXT, -1, 0},
	    {"depth", "DEPTH", CL_COL_NOTEXT, -1, 0},
	    {"parent_index", "PARENT", CL_COL_NOTEXT, -1, 0},
	    {"leaf_hash", "LEAF HASH", CL_COL_NOTEXT, -1, 0},
	};
	struct pr_buf path = PR_BUF_INIT;
	struct cl_table t;
	struct pwalk w;
	json_t *j, *events;
	size_t n, i;
	int rc, ex;

	if ((rc = pr_buf_append_str(&path, "/v1/processes/")) != 0 ||
	    (rc = cl_url_escape(&path, a->pos[0])) != 0) {
		pr_buf_free(&path);
		return cl_err_rc(rc, "%s", "");
	}
	ex = cl_get_json(ctx, (char *)path.data, &j);
	pr_buf_free(&path);
	if (ex != 0)
		return ex;
	events = json_object_get(j, "events");
	if (!json_is_array(events)) {
		cl_errx("the server's answer for %s has no events", a->pos[0]);
		json_decref(j);
		return CL_EXIT_NET;
	}
	n = json_array_size(events);
	memset(&w, 0, sizeof(w));
	cl_table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	w.t = &t;
	if ((w.nodes = calloc(n ? n : 1, sizeof(*w.nodes))) == NULL ||
	    (w.parties = json_object()) == NULL) {
		ex = cl_err_rc(PR_ENOMEM, "%s", "");
		goto free_all;
	}
	if ((rc = link_nodes(w.nodes, n, events)) != 0) {
		if (rc == PR_ENOMEM)
			cl_errx("%s", pr_strerror(rc));
		else
			cl_errx("the server's answer for %s has an event "
			        "without a kind",
			    a->pos[0]);
		ex = CL_EXIT_NET;
		goto free_all;
	}
	collect_parties(w.parties, events);
	for (i = 0, rc = 0; i < n && rc == 0; i++)
		if (w.nodes[i].parent < 0)
			rc = walk(&w, (long)i, 1, 0, ctx->mode != CL_TEXT);
	if (rc != 0) {
		ex = cl_err_rc(rc, "%s", "");
		goto free_all;
	}
	if (ctx->mode == CL_JSON) {
		/* The server's document, each event with the tree's depth,
		 * parent index and running totals, in tree order. */
		json_t *tree = json_array(), *doc;
		size_t r;

		for (r = 0; tree != NULL && r < t.nrows; r++) {
			char **c = &t.cells[r * t.ncols];
			json_t *o = json_pack(
			    "{s:I, s:s, s:s?, s:s?, s:s?, s:s?, s:I, s:s?}",
			    "index", (json_int_t)strtoll(c[1], NULL, 10),
			    "kind", c[0], "signers", c[3], "value", c[4],
			    "contracted", c[5], "paid", c[6], "depth",
			    (json_int_t)strtoll(c[8], NULL, 10), "parent_index",
			    c[9]);

			if (o == NULL || json_array_append_new(tree, o) != 0) {
				json_decref(tree);
				tree = NULL;
			}
		}
		doc = tree ? json_pack("{s:O, s:s?, s:o, s:O}", "ocid",
		                 json_object_get(j, "ocid"), "currency",
		                 w.tot.has_cur ? w.tot.cur : NULL, "tree", tree,
		                 "events", events)
		           : NULL;
		ex = doc ? cl_json_print(doc, stdout) : PR_ENOMEM;
		ex = ex ? cl_err_rc(ex, "output") : 0;
		json_decref(doc);
		goto free_all;
	}
	if (ctx->mode == CL_TEXT) {
		struct pr_buf title = PR_BUF_INIT;

		cl_sanitize(&title, a->pos[0], strlen(a->pos[0]));
		printf("%s: %zu event%s\n\n", (char *)title.data, n,
		    n == 1 ? "" : "s");
		pr_buf_free(&title);
	}
	rc = cl_table_print(&t, ctx->mode, stdout);
	ex = rc ? cl_err_rc(rc, "output") : CL_EXIT_OK;
	if (ex == 0 && w.tot.mixed)
		cl_errx("warning: %s has amounts in several currencies; totals "
		        "count %s only",
		    a->pos[0], w.tot.cur);
free_all:
	cl_table_free(&t);
	json_decref(w.parties);
	free(w.nodes);
	json_decref(j);
	return ex;
}
