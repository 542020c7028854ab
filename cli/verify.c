/*
 * procurectl verify: the checkpoint, the state file, the run, the report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "cli/source.h"
#include "cli/verify.h"
#include "cli/vpool.h"
#include "proto/enc.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/note.h"

#define MAX_ADMINS 32

struct admins {
	struct pr_vkey v[MAX_ADMINS];
	const struct pr_key *k[MAX_ADMINS];
	size_t n;
};

/* --admin-key values, else "admin-key" lines of the configuration. */
static int
load_admins(const struct cl_args *a, struct admins *ad)
{
	char val[4096];
	const char *s;
	size_t i;
	int rc;

	for (i = 0;; i++) {
		if (i < cl_opt_count(a, CL_O_ADMIN))
			s = cl_opt_at(a, CL_O_ADMIN, i);
		else if (cl_opt_count(a, CL_O_ADMIN) == 0 &&
		    cl_config_get("admin-key", i, val, sizeof(val)) == 0)
			s = val;
		else
			break;
		if (ad->n == MAX_ADMINS)
			return pr_errmsg_set(
			    PR_ERANGE, "at most %d admin keys", MAX_ADMINS);
		if ((rc = cl_vkey_resolve(s, &ad->v[ad->n])) != 0)
			return cl_wrap(rc, "admin key");
		ad->k[ad->n] = ad->v[ad->n].key;
		ad->n++;
	}
	return 0;
}

static void
clear_admins(struct admins *ad)
{
	while (ad->n > 0)
		pr_vkey_clear(&ad->v[--ad->n]);
}

/*
 * The state from an earlier run must be of this log and hold a
 * checkpoint this log signed for the tree it describes.
 */
static int
check_state(
    const struct vf_state *st, const struct pr_vkey *vkey, const char *path)
{
	struct pr_checkpoint cp;
	int rc;

	if (strcmp(st->origin, vkey->name) != 0)
		return pr_errmsg_set(PR_ECONFIG,
		    "%s is the state of log '%s', not of '%s'", path,
		    st->origin, vkey->name);
	if ((rc = pr_checkpoint_open(
	         st->checkpoint, st->cplen, vkey->name, vkey, 1, &cp)) != 0)
		return pr_errmsg_set(PR_ECONFIG, "%s: %s", path,
		    "its checkpoint does not verify with the verifier key; "
		    "remove it to verify from scratch");
	if (cp.size != st->tree.stack.size ||
	    memcmp(cp.root, st->root, PR_HASH_LEN) != 0)
		rc = pr_errmsg_set(PR_ECORRUPT,
		    "%s: its tree is not the tree of its checkpoint", path);
	pr_checkpoint_clear(&cp);
	return rc;
}

/* Is the new checkpoint an extension of the state's tree? */
static int
check_consistency(
    struct vf_run *r, const struct pr_checkpoint *cp, uint64_t *old)
{
	pr_hash proof[PR_MERKLE_MAX_PROOF];
	uint64_t m = r->st->tree.stack.size;
	size_t n;
	int rc;

	*old = m;
	if (m == 0)
		return 0;
	if (cp->size < m)
		return vf_failf(&r->fail, VF_NO_ENTRY, "log_shrank",
		    "the checkpoint's tree has %llu entries, fewer than the "
		    "%llu verified before",
		    (unsigned long long)cp->size, (unsigned long long)m);
	if (cp->size == m) {
		if (memcmp(cp->root, r->st->root, PR_HASH_LEN) != 0)
			return vf_failf(&r->fail, VF_NO_ENTRY,
			    "inconsistent_checkpoint",
			    "the checkpoint of size %llu has another root than "
			    "the one verified before: the log forked",
			    (unsigned long long)m);
		return 0;
	}
	if ((rc = cl_src_consistency(r->src, m, cp->size, proof, &n)) != 0)
		return rc;
	if (pr_merkle_verify_consistency(
	        m, cp->size, proof, n, r->st->root, cp->root) != 0)
		return vf_failf(&r->fail, VF_NO_ENTRY,
		    "inconsistent_checkpoint",
		    "the checkpoint of size %llu is not consistent with the "
		    "one of size %llu verified before: the log rewrote its "
		    "history",
		    (unsigned long long)cp->size, (unsigned long long)m);
	return 0;
}

static void
report(struct cl_ctx *ctx, const struct vf_run *r,
    const struct pr_checkpoint *cp, const char *vkey_from, uint64_t old,
    int quiet)
{
	char root[2 * PR_HASH_LEN + 1];
	double rate = r->seconds > 0 ? (double)r->entries / r->seconds : 0;

	pr_hex_encode(cp->root, PR_HASH_LEN, root);
	if (ctx->mode == CL_JSON) {
		json_t *j = json_pack("{s:b, s:s, s:I, s:s, s:I, s:I, s:I, "
		                      "s:I, s:I, s:I, s:f, s:f}",
		    "ok", !r->failed, "origin", cp->origin, "tree_size",
		    (json_int_t)cp->size, "root_hash", root, "previous_size",
		    (json_int_t)old, "entries_checked", (json_int_t)r->entries,
		    "signatures_checked", (json_int_t)r->sigs, "entry_bytes",
		    (json_int_t)r->bytes, "entry_bundles",
		    (json_int_t)r->bundles, "hash_tiles",
		    (json_int_t)r->hash_tiles, "seconds", r->seconds,
		    "entries_per_second", rate);

		if (j != NULL) {
			json_object_set_new(j, "parents_checked",
			    json_integer((json_int_t)r->parents));
			json_object_set_new(j, "parent_bundles_read",
			    json_integer((json_int_t)r->parent_reads));
		}
		if (j != NULL && r->failed)
			json_object_set_new(j, "failure",
			    json_pack("{s:o, s:s, s:s}", "index",
			        r->fail.index == VF_NO_ENTRY
			            ? json_null()
			            : json_integer((json_int_t)r->fail.index),
			        "rule", r->fail.rule, "message", r->fail.msg));
		if (j != NULL)
			cl_json_print(j, stdout);
		json_decref(j);
		return;
	}
	if (quiet || r->failed)
		return;
	printf("log          %s (checkpoint signature ok, key from %s)\n",
	    cp->origin, vkey_from);
	printf("tree         %llu entries, root %s\n",
	    (unsigned long long)cp->size, root);
	if (old == 0)
		printf("consistency  no earlier checkpoint\n");
	else if (old == cp->size)
		printf("consistency  the same tree as verified before\n");
	else
		printf("consistency  extends the tree of %llu entries verified "
		       "before\n",
		    (unsigned long long)old);
	printf("checked      %llu entries, %llu signatures, %llu bytes\n",
	    (unsigned long long)r->entries, (unsigned long long)r->sigs,
	    (unsigned long long)r->bytes);
	printf("chains       %llu parent events checked, %llu entry bundles "
	       "read again for them\n",
	    (unsigned long long)r->parents,
	    (unsigned long long)r->parent_reads);
	printf("fetched      %llu entry bundles, %llu hash tiles\n",
	    (unsigned long long)r->bundles, (unsigned long long)r->hash_tiles);
	printf("time         %.2f s, %.0f entries/s, %u threads\n", r->seconds,
	    rate, vf_pool_threads(r->pool));
}

/* --json when the checkpoint itself failed: no tree to describe. */
static void
report_failure_json(const struct vf_run *r)
{
	json_t *j = json_pack("{s:b, s:{s:n, s:s, s:s}}", "ok", 0, "failure",
	    "index", "rule", r->fail.rule, "message", r->fail.msg);

	if (j != NULL)
		cl_json_print(j, stdout);
	json_decref(j);
}

static int
parse_threads(const struct cl_args *a, unsigned *out)
{
	const char *v = cl_opt(a, CL_O_THREADS);
	char *end;
	unsigned long n;

	*out = 0;
	if (v == NULL)
		return 0;
	n = strtoul(v, &end, 10);
	if (*v < '1' || *v > '9' || *end != '\0' || n > 64)
		return -1;
	*out = (unsigned)n;
	return 0;
}

int
cmd_verify(struct cl_ctx *ctx, const struct cl_args *a)
{
	struct vf_outcome o;

	return vf_verify(ctx, a, &o);
}

int
vf_verify(struct cl_ctx *ctx, const struct cl_args *a, struct vf_outcome *o)
{
	struct pr_buf note = PR_BUF_INIT;
	struct pr_checkpoint cp;
	struct pr_vkey vkey;
	struct admins ad;
	struct vf_state st;
	struct vf_run r;
	const char *from, *state = cl_opt(a, CL_O_STATE);
	const char *dir = cl_opt(a, CL_O_DATADIR);
	unsigned threads;
	uint64_t old = 0;
	int rc, ex = CL_EXIT_LOCAL;

	if (parse_threads(a, &threads) != 0) {
		cl_errx("verify: --threads wants a number from 1 to 64");
		return CL_EXIT_USAGE;
	}
	memset(o, 0, sizeof(*o));
	memset(&ad, 0, sizeof(ad));
	memset(&cp, 0, sizeof(cp));
	memset(&r, 0, sizeof(r));
	if ((rc = cl_vkey_find(a, &vkey, &from)) != 0) {
		if (rc != PR_ENOTFOUND)
			return cl_err_rc(rc, "%s", "");
		cl_errx("verify needs the log's verifier key: --vkey VKEY, "
		        "PROCURECTL_VKEY, or 'vkey = ...' in %s",
		    cl_config_path() ? cl_config_path() : "the config file");
		return CL_EXIT_USAGE;
	}
	if ((rc = load_admins(a, &ad)) != 0) {
		ex = cl_err_rc(rc, "%s", "");
		goto clear_vkey;
	}
	if ((rc = vf_state_init(&st)) != 0) {
		ex = cl_err_rc(rc, "%s", "");
		goto clear_admins;
	}
	/* A state file we cannot trust is a local problem: exit 4. */
	if (state != NULL && (rc = vf_state_load(state, &st)) != 0 &&
	    rc != PR_ENOTFOUND) {
		cl_err_rc(rc, "%s", "");
		goto clear_state;
	}
	if (state != NULL && rc == 0 &&
	    (rc = check_state(&st, &vkey, state)) != 0) {
		cl_err_rc(rc, "%s", "");
		goto clear_state;
	}
	rc = dir ? cl_src_datadir(dir, &r.src) : cl_src_server(ctx, &r.src);
	if (rc != 0) {
		ex = dir ? cl_err_rc(rc, "%s", "") : ctx->server_exit;
		goto clear_state;
	}
	if ((rc = vf_pool_new(threads, &r.pool)) != 0) {
		ex = cl_err_rc(rc, "cannot start threads");
		goto free_src;
	}
	for (size_t i = 0; i < ad.n; i++)
		if ((rc = vf_state_add_key(
		         &st, pr_key_raw_public(ad.k[i]), NULL)) != 0) {
			ex = cl_err_rc(rc, "%s", "");
			goto free_pool;
		}
	r.ctx = ctx;
	r.st = &st;
	r.pol.state = &st;
	r.pol.admins = ad.k;
	r.pol.nadmins = ad.n;
	r.progress = ctx->err_tty;
	r.fail.index = VF_NO_ENTRY;

	if ((rc = cl_src_checkpoint(r.src, &note)) != 0) {
		ex = cl_err_rc(rc, "%s", "");
		ex = dir ? ex : CL_EXIT_NET;
		goto free_pool;
	}
	if ((rc = pr_checkpoint_open(
	         (char *)note.data, note.len, vkey.name, &vkey, 1, &cp)) != 0) {
		vf_failf(&r.fail, VF_NO_ENTRY, "checkpoint_signature",
		    "the checkpoint of %s does not verify with %s: %s",
		    cl_src_name(r.src), vkey.name, pr_errmsg(rc));
		r.failed = 1;
		goto done;
	}
	r.size = cp.size;
	memcpy(r.root, cp.root, PR_HASH_LEN);
	if ((rc = check_consistency(&r, &cp, &old)) == PR_ECORRUPT) {
		r.failed = 1;
		goto done;
	}
	if (rc != 0) {
		ex = cl_err_rc(rc, "%s", "");
		ex = ex == CL_EXIT_LOCAL && !dir ? CL_EXIT_NET : ex;
		goto clear_cp;
	}
	if ((rc = vf_run_entries(&r)) != 0 && rc != PR_ECORRUPT) {
		ex = cl_err_rc(rc, "%s", "");
		ex = ex == CL_EXIT_LOCAL && !dir ? CL_EXIT_NET : ex;
		goto clear_cp;
	}
	/* A data directory also holds what is not served: the tree's inner
	 * hashes, older checkpoints, indexes and state.  Check them too. */
	if (!r.failed && dir != NULL) {
		struct pr_buf m = PR_BUF_INIT;
		uint64_t bad = VF_NO_ENTRY;

		if ((rc = cl_src_deep_check(r.src, &bad, &m)) == PR_ECORRUPT) {
			vf_failf(&r.fail, bad, "store_damaged", "%s",
			    m.len ? (char *)m.data : "the store is damaged");
			r.failed = 1;
		}
		pr_buf_free(&m);
		if (rc != 0 && rc != PR_ECORRUPT) {
			ex = cl_err_rc(rc, "%s", "");
			goto clear_cp;
		}
	}
done:
	if (!r.failed && state != NULL) {
		free(st.origin);
		free(st.checkpoint);
		st.origin = strdup(vkey.name);
		st.checkpoint = malloc(note.len + 1);
		if (st.origin == NULL || st.checkpoint == NULL) {
			ex = cl_err_rc(PR_ENOMEM, "%s", "");
			goto clear_cp;
		}
		memcpy(st.checkpoint, note.data, note.len);
		st.checkpoint[note.len] = '\0';
		st.cplen = note.len;
		memcpy(st.root, cp.root, PR_HASH_LEN);
		if ((rc = vf_state_save(state, &st)) != 0) {
			ex = cl_err_rc(rc, "%s", "");
			goto clear_cp;
		}
	}
	if (r.failed) {
		if (r.fail.index != VF_NO_ENTRY)
			cl_errx("verify FAILED at entry %llu: %s: %s",
			    (unsigned long long)r.fail.index, r.fail.rule,
			    r.fail.msg);
		else
			cl_errx(
			    "verify FAILED: %s: %s", r.fail.rule, r.fail.msg);
	}
	if (cp.origin != NULL)
		report(ctx, &r, &cp, from, old, cl_opt(a, CL_O_QUIET) != NULL);
	else if (ctx->mode == CL_JSON)
		report_failure_json(&r);
	o->failed = r.failed;
	o->fail = r.fail;
	o->previous = old;
	o->size = cp.size;
	o->entries = r.entries;
	o->sigs = r.sigs;
	o->parents = r.parents;
	o->parent_reads = r.parent_reads;
	ex = r.failed ? CL_EXIT_FAIL : CL_EXIT_OK;
clear_cp:
	pr_checkpoint_clear(&cp);
free_pool:
	vf_pool_free(r.pool);
free_src:
	cl_src_free(r.src);
clear_state:
	vf_state_clear(&st);
clear_admins:
	clear_admins(&ad);
clear_vkey:
	pr_vkey_clear(&vkey);
	pr_buf_free(&note);
	return ex;
}
