/*
 * prove INDEX: an offline inclusion proof (C2SP tlog-proof) for one
 * entry, checked before it is handed out; export: entries as JSON lines.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "cli/source.h"
#include "proto/enc.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/evtime.h"
#include "proto/note.h"
#include "proto/tproof.h"

static int
parse_index(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0)
		return -1;
	*out = v;
	return 0;
}

/* The proof hashes of a JSON answer into proof[]; -1 if malformed. */
static int
json_proof(const json_t *arr, pr_hash *proof, size_t *n)
{
	const json_t *h;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) > PR_MERKLE_MAX_PROOF)
		return -1;
	json_array_foreach(arr, i, h)
	{
		const char *s = json_string_value(h);

		if (s == NULL || strlen(s) != 2 * PR_HASH_LEN ||
		    pr_hex_decode(s, strlen(s), proof[i], PR_HASH_LEN) != 0)
			return -1;
	}
	*n = json_array_size(arr);
	return 0;
}

/* Fetch entry index and hash it locally. */
static int
entry_leaf(struct cl_ctx *ctx, uint64_t index, pr_hash leaf)
{
	struct pr_buf raw = PR_BUF_INIT;
	char path[64];
	const char *b64;
	json_t *j;
	int ex;

	snprintf(
	    path, sizeof(path), "/v1/entries/%llu", (unsigned long long)index);
	if ((ex = cl_get_json(ctx, path, &j)) != 0)
		return ex;
	b64 = json_string_value(json_object_get(j, "entry"));
	if (b64 == NULL ||
	    pr_b64_decode(&raw, b64, strlen(b64), PR_B64_STD) != 0) {
		cl_errx("entry %llu: the server's answer has no valid entry",
		    (unsigned long long)index);
		ex = CL_EXIT_NET;
	} else
		pr_merkle_leaf_hash(raw.data, raw.len, leaf);
	pr_buf_free(&raw);
	json_decref(j);
	return ex;
}

static int
write_out(const char *path, const struct pr_buf *b)
{
	FILE *f;
	int rc = 0;

	if (path == NULL || strcmp(path, "-") == 0)
		return fwrite(b->data, 1, b->len, stdout) == b->len ? 0
		                                                    : PR_EIO;
	if ((f = fopen(path, "w")) == NULL)
		return pr_errmsg_set(
		    PR_EIO, "cannot create %s: %s", path, strerror(errno));
	if (fwrite(b->data, 1, b->len, f) != b->len)
		rc = PR_EIO;
	if (fclose(f) != 0)
		rc = PR_EIO;
	if (rc != 0)
		pr_errmsg_set(rc, "cannot write %s", path);
	return rc;
}

/*
 * prove --check FILE: verify a tlog-proof file with the log's verifier
 * key, for the leaf hash given with --leaf or of the entry the server
 * holds at the proof's index.
 */
static int
check_proof(struct cl_ctx *ctx, const struct cl_args *a, const char *path)
{
	struct pr_buf file = PR_BUF_INIT;
	struct pr_checkpoint cp;
	struct pr_tproof tp;
	struct pr_vkey vkey;
	const char *from, *leafhex = cl_opt(a, CL_O_LEAF);
	pr_hash leaf;
	int rc, ex;

	if ((rc = cl_vkey_find(a, &vkey, &from)) != 0) {
		if (rc != PR_ENOTFOUND)
			return cl_err_rc(rc, "%s", "");
		cl_errx("prove --check needs the log's verifier key (--vkey)");
		return CL_EXIT_USAGE;
	}
	if (leafhex != NULL &&
	    (strlen(leafhex) != 2 * PR_HASH_LEN ||
	        pr_hex_decode(leafhex, strlen(leafhex), leaf, PR_HASH_LEN) !=
	            0)) {
		cl_errx("prove: --leaf wants 64 hex digits");
		ex = CL_EXIT_USAGE;
		goto clear_vkey;
	}
	if ((rc = cl_read_file(path, PR_TPROOF_MAX_SIZE, &file)) != 0) {
		ex = cl_err_rc(rc, "%s", "");
		goto clear_vkey;
	}
	if ((rc = pr_tproof_parse((char *)file.data, file.len, &tp)) != 0) {
		ex = cl_err_rc(rc, "%s", path);
		ex = CL_EXIT_FAIL;
		goto free_file;
	}
	if (leafhex == NULL && (ex = entry_leaf(ctx, tp.index, leaf)) != 0)
		goto clear_tp;
	memset(&cp, 0, sizeof(cp));
	if ((rc = pr_tproof_verify(&tp, leaf, vkey.name, &vkey, 1, &cp)) != 0) {
		cl_errx("%s does not prove entry %llu: %s", path,
		    (unsigned long long)tp.index, pr_errmsg(rc));
		ex = CL_EXIT_FAIL;
		goto clear_tp;
	}
	printf("%s: entry %llu is in the tree of %llu entries of %s "
	       "(checkpoint signature ok, proof of %zu hashes ok)\n",
	    path, (unsigned long long)tp.index, (unsigned long long)cp.size,
	    cp.origin, tp.nproof);
	pr_checkpoint_clear(&cp);
	ex = CL_EXIT_OK;
clear_tp:
	pr_tproof_clear(&tp);
free_file:
	pr_buf_free(&file);
clear_vkey:
	pr_vkey_clear(&vkey);
	return ex;
}

int
cmd_prove(struct cl_ctx *ctx, const struct cl_args *a)
{
	struct pr_buf note = PR_BUF_INIT, file = PR_BUF_INIT;
	struct pr_checkpoint cp;
	struct pr_tproof tp, back;
	struct pr_vkey vkey;
	struct cl_src *src;
	const char *from, *out = cl_opt(a, CL_O_OUT);
	char path[128], hex[2 * PR_HASH_LEN + 1];
	uint64_t index;
	pr_hash leaf;
	json_t *j;
	int rc, ex, have_vkey;

	if (cl_opt(a, CL_O_CHECK) != NULL) {
		if (a->npos != 0 || cl_opt(a, CL_O_OUT) != NULL) {
			cl_errx("prove: --check FILE takes no INDEX or --out");
			return CL_EXIT_USAGE;
		}
		return check_proof(ctx, a, cl_opt(a, CL_O_CHECK));
	}
	if (a->npos != 1 || cl_opt(a, CL_O_LEAF) != NULL) {
		cl_errx("prove: give INDEX, or --check FILE [--leaf HEX]");
		return CL_EXIT_USAGE;
	}
	if (parse_index(a->pos[0], &index) != 0) {
		cl_errx("prove: INDEX must be a number, not '%s'", a->pos[0]);
		return CL_EXIT_USAGE;
	}
	memset(&cp, 0, sizeof(cp));
	memset(&tp, 0, sizeof(tp));
	if ((rc = cl_vkey_find(a, &vkey, &from)) != 0 && rc != PR_ENOTFOUND)
		return cl_err_rc(rc, "%s", "");
	have_vkey = rc == 0;
	if ((rc = cl_src_server(ctx, &src)) != 0) {
		ex = ctx->server_exit;
		goto clear_vkey;
	}
	/* The checkpoint first, then the proof for its tree size. */
	if ((rc = cl_src_checkpoint(src, &note)) != 0) {
		cl_err_rc(rc, "%s", "");
		ex = CL_EXIT_NET;
		goto free_src;
	}
	rc = have_vkey
	    ? pr_checkpoint_open(
	          (char *)note.data, note.len, vkey.name, &vkey, 1, &cp)
	    : cl_checkpoint_unverified((char *)note.data, note.len, &cp);
	if (rc != 0) {
		ex = cl_err_rc(rc, "the log's checkpoint");
		ex = ex == CL_EXIT_FAIL ? ex : CL_EXIT_NET;
		goto free_src;
	}
	if (index >= cp.size) {
		cl_errx("entry %llu is not in the log's tree of %llu entries",
		    (unsigned long long)index, (unsigned long long)cp.size);
		ex = CL_EXIT_FAIL;
		goto clear_cp;
	}
	if ((ex = entry_leaf(ctx, index, leaf)) != 0)
		goto clear_cp;
	snprintf(path, sizeof(path),
	    "/v1/proof/inclusion?index=%llu&tree_size=%llu",
	    (unsigned long long)index, (unsigned long long)cp.size);
	if ((ex = cl_get_json(ctx, path, &j)) != 0)
		goto clear_cp;
	rc = json_proof(json_object_get(j, "proof"), tp.proof, &tp.nproof);
	json_decref(j);
	if (rc != 0) {
		cl_errx("the server's inclusion proof is malformed");
		ex = CL_EXIT_NET;
		goto clear_cp;
	}
	tp.index = index;
	tp.checkpoint = (char *)note.data;
	tp.checkpointlen = note.len;
	if ((rc = pr_tproof_format(&tp, &file)) != 0) {
		ex = cl_err_rc(rc, "%s", "");
		goto clear_cp;
	}
	/* Check the file as a reader of it would. */
	if ((rc = pr_tproof_parse((char *)file.data, file.len, &back)) != 0) {
		ex = cl_err_rc(rc, "the proof file");
		goto free_file;
	}
	if (have_vkey)
		rc = pr_tproof_verify(&back, leaf, vkey.name, &vkey, 1, NULL);
	else
		rc = pr_merkle_verify_inclusion(index, cp.size, leaf,
		    (const pr_hash *)back.proof, back.nproof, cp.root);
	pr_tproof_clear(&back);
	if (rc != 0) {
		pr_hex_encode(leaf, PR_HASH_LEN, hex);
		cl_errx("the inclusion proof of entry %llu (leaf %s) does not "
		        "verify against the checkpoint: %s",
		    (unsigned long long)index, hex, pr_errmsg(rc));
		ex = CL_EXIT_FAIL;
		goto free_file;
	}
	if ((rc = write_out(out, &file)) != 0) {
		ex = cl_err_rc(rc, "%s", "");
		goto free_file;
	}
	if (out != NULL && strcmp(out, "-") != 0) {
		pr_hex_encode(leaf, PR_HASH_LEN, hex);
		if (ctx->mode == CL_JSON) {
			json_t *d = json_pack("{s:I, s:s, s:I, s:I, s:b, s:s}",
			    "index", (json_int_t)index, "leaf_hash", hex,
			    "tree_size", (json_int_t)cp.size, "proof_hashes",
			    (json_int_t)tp.nproof, "checkpoint_verified",
			    have_vkey, "file", out);

			if (d != NULL)
				cl_json_print(d, stdout);
			json_decref(d);
		} else
			printf("entry %llu (leaf %s) is in the tree of %llu "
			       "entries: proof of %zu hashes verified, "
			       "checkpoint signature %s; written to %s\n",
			    (unsigned long long)index, hex,
			    (unsigned long long)cp.size, tp.nproof,
			    have_vkey ? "ok" : "not checked (no --vkey)", out);
	}
	ex = CL_EXIT_OK;
free_file:
	pr_buf_free(&file);
clear_cp:
	pr_checkpoint_clear(&cp);
free_src:
	cl_src_free(src);
clear_vkey:
	if (have_vkey)
		pr_vkey_clear(&vkey);
	pr_buf_free(&note);
	return ex;
}

/* One JSON line for entry index. */
static int
export_entry(uint64_t index, const uint8_t *e, size_t len, struct pr_buf *out)
{
	struct pr_buf env = PR_BUF_INIT;
	struct pr_dsse *d;
	char hex[2 * PR_HASH_LEN + 1], t[PR_TIME_STRLEN];
	uint64_t lt;
	pr_hash leaf;
	json_t *j, *envj, *ev;
	char *s;
	int rc;

	pr_merkle_leaf_hash(e, len, leaf);
	pr_hex_encode(leaf, PR_HASH_LEN, hex);
	if ((rc = pr_entry_decode(e, len, &lt, &d)) != 0)
		return pr_errmsg_set(rc, "entry %llu cannot be decoded: %s",
		    (unsigned long long)index, pr_strerror(rc));
	if ((rc = pr_dsse_serialize(d, &env)) != 0 ||
	    (rc = pr_time_format((int64_t)lt, t)) != 0)
		goto free_d;
	envj = json_loadb((char *)env.data, env.len, 0, NULL);
	ev = json_loadb((char *)d->payload, d->payload_len, 0, NULL);
	j = json_pack("{s:I, s:s, s:s, s:o, s:o}", "index", (json_int_t)index,
	    "leaf_hash", hex, "log_time", t, "envelope",
	    envj ? envj : json_null(), "event", ev ? ev : json_null());
	if (j == NULL ||
	    (s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
		rc = PR_ENOMEM;
	} else {
		rc = pr_buf_append_str(out, s);
		if (rc == 0)
			rc = pr_buf_append_byte(out, '\n');
		free(s);
	}
	json_decref(j);
free_d:
	pr_buf_free(&env);
	pr_dsse_free(d);
	return rc;
}

int
cmd_export(struct cl_ctx *ctx, const struct cl_args *a)
{
	struct pr_buf note = PR_BUF_INIT, b = PR_BUF_INIT, out = PR_BUF_INIT;
	struct pr_tile_bundle_iter it;
	struct pr_checkpoint cp;
	struct cl_progress pg;
	struct pr_tile t;
	struct cl_src *src;
	const char *v, *dir = cl_opt(a, CL_O_DATADIR);
	const uint8_t *e;
	uint64_t first = 0, limit = UINT64_MAX, end, i, n;
	size_t elen;
	int rc, ex = CL_EXIT_OK;

	if (cl_opt(a, CL_O_OCDS) != NULL)
		return cl_export_ocds(ctx, a);
	if (((v = cl_opt(a, CL_O_FROM)) != NULL &&
	        parse_index(v, &first) != 0) ||
	    ((v = cl_opt(a, CL_O_LIMIT)) != NULL &&
	        parse_index(v, &limit) != 0)) {
		cl_errx("export: --from and --limit want numbers");
		return CL_EXIT_USAGE;
	}
	if (ctx->mode != CL_TEXT && ctx->mode != CL_JSON) {
		cl_errx("export writes JSON lines; --csv is not supported");
		return CL_EXIT_USAGE;
	}
	rc = dir ? cl_src_datadir(dir, &src) : cl_src_server(ctx, &src);
	if (rc != 0)
		return dir ? cl_err_rc(rc, "%s", "") : ctx->server_exit;
	memset(&cp, 0, sizeof(cp));
	if ((rc = cl_src_checkpoint(src, &note)) != 0 ||
	    (rc = cl_checkpoint_unverified((char *)note.data, note.len, &cp)) !=
	        0) {
		ex = cl_err_rc(rc, "%s", "");
		ex = dir ? ex : CL_EXIT_NET;
		goto free_src;
	}
	end = limit < cp.size - (first < cp.size ? first : cp.size)
	    ? first + limit
	    : cp.size;
	/* A progress line, unless the lines themselves go to the terminal. */
	cl_progress_start(ctx, &pg, "export: entries");
	pg.on = pg.on && !ctx->out_tty;
	for (i = first; i < end; i = (n + 1) * PR_TILE_WIDTH) {
		cl_progress_show(&pg, i - first, end - first);
		n = i / PR_TILE_WIDTH;
		t.level = PR_TILE_ENTRIES;
		t.index = n;
		t.width = pr_tile_width(PR_TILE_ENTRIES, n, cp.size);
		pr_buf_reset(&b);
		pr_buf_reset(&out);
		if ((rc = cl_src_tile(src, &t, &b)) != 0) {
			ex = cl_err_rc(rc, "%s", "");
			ex = dir ? ex : CL_EXIT_NET;
			break;
		}
		pr_tile_bundle_iter_init(&it, b.data, b.len);
		for (uint64_t k = n * PR_TILE_WIDTH; k < end; k++) {
			if (pr_tile_bundle_next(&it, &e, &elen) != 1) {
				rc = pr_errmsg_set(PR_EPROTO,
				    "entry bundle %llu is short",
				    (unsigned long long)n);
				break;
			}
			if (k >= i &&
			    (rc = export_entry(k, e, elen, &out)) != 0)
				break;
			if (k % PR_TILE_WIDTH == PR_TILE_WIDTH - 1)
				break;
		}
		if (rc == 0 && out.len > 0 &&
		    fwrite(out.data, 1, out.len, stdout) != out.len)
			rc = PR_EIO;
		if (rc != 0) {
			ex = cl_err_rc(rc, "%s", "");
			break;
		}
	}
	cl_progress_end(&pg);
	pr_checkpoint_clear(&cp);
free_src:
	cl_src_free(src);
	pr_buf_free(&out);
	pr_buf_free(&b);
	pr_buf_free(&note);
	return ex;
}
