/*
 * keygen, sign, submit: the submitter's commands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "proto/dsse.h"
#include "proto/enc.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/event.h"
#include "proto/evtime.h"
#include "proto/key.h"
#include "proto/merkle.h"
#include "proto/note.h"

int
cmd_keygen(struct cl_ctx *ctx, const struct cl_args *a)
{
	static const struct cl_col cols[] = {
	    {"vkey", "vkey", 0, -1, 0},
	    {"keyid", "keyid", 0, -1, 0},
	};
	const char *name = cl_opt(a, CL_O_NAME), *out = cl_opt(a, CL_O_OUT);
	struct pr_buf vkey = PR_BUF_INIT, pub = PR_BUF_INIT;
	struct pr_key *k;
	int rc, ex = CL_EXIT_LOCAL;

	if (name == NULL || out == NULL) {
		cl_errx("keygen: --name NAME and --out FILE are required");
		return CL_EXIT_USAGE;
	}
	if (!pr_key_name_valid(name, strlen(name))) {
		cl_errx("keygen: '%s' is not a key name (no spaces, no '+', "
		        "no control characters)",
		    name);
		return CL_EXIT_USAGE;
	}
	if ((rc = pr_key_generate(&k)) != 0)
		return cl_err_rc(rc, "cannot generate a key");
	if ((rc = pr_key_vkey_format(k, name, &vkey)) != 0 ||
	    (rc = pr_b64_encode(&pub, pr_key_raw_public(k), PR_KEY_PUB_LEN)) !=
	        0) {
		ex = cl_err_rc(rc, "%s", name);
		goto free_key;
	}
	if ((rc = pr_key_save_private(k, out)) != 0) {
		if (rc == PR_EEXIST)
			cl_errx("%s exists; not overwriting it", out);
		else
			cl_err_rc(rc, "%s", out);
		goto free_vkey;
	}
	if (ctx->mode == CL_JSON) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", name,
		    "file", out, "vkey", (char *)vkey.data, "keyid",
		    pr_key_keyid(k), "public_key", (char *)pub.data);

		rc = j ? cl_json_print(j, stdout) : PR_ENOMEM;
		json_decref(j);
	} else if (ctx->mode == CL_CSV) {
		struct cl_table t;
		const char *row[3] = {
		    (char *)vkey.data, pr_key_keyid(k), (char *)pub.data};

		cl_table_init(&t, cols, 3);
		if ((rc = cl_table_add(&t, row)) == 0)
			rc = cl_table_print(&t, CL_CSV, stdout);
		cl_table_free(&t);
	} else
		/* The vkey alone on the first line, for scripts. */
		rc = printf("%s\nkeyid %s\npublicKey %s\n", (char *)vkey.data,
		         pr_key_keyid(k), (char *)pub.data) < 0
		    ? PR_EIO
		    : 0;
	ex = rc == 0 ? CL_EXIT_OK : cl_err_rc(rc, "output");
free_vkey:
	pr_buf_free(&pub);
	pr_buf_free(&vkey);
free_key:
	pr_key_free(k);
	return ex;
}

/*
 * Read and check EVENT.json, then sign it with every --key: *out
 * receives the envelope.  Prints its own errors; returns an exit status.
 */
static int
make_envelope(const struct cl_args *a, const char *path, struct pr_dsse **out)
{
	struct pr_event_error everr;
	struct pr_buf ev = PR_BUF_INIT;
	struct pr_event *parsed;
	struct pr_dsse *e;
	struct pr_key *k;
	size_t i, n = cl_opt_count(a, CL_O_KEY);
	int rc, ex = CL_EXIT_LOCAL;

	if (n == 0) {
		cl_errx("at least one --key FILE is required to sign");
		return CL_EXIT_USAGE;
	}
	if ((rc = cl_read_file(path, PR_EVENT_MAX_SIZE, &ev)) != 0)
		return cl_err_rc(rc, "%s", "");
	/* Refuse to sign what the log would refuse to read. */
	memset(&everr, 0, sizeof(everr));
	if ((rc = pr_event_parse(ev.data, ev.len, &parsed, &everr)) != 0) {
		cl_errx("%s: %s%s%s (%s)", path, everr.path,
		    everr.path[0] ? ": " : "",
		    everr.message[0] ? everr.message : pr_strerror(rc),
		    everr.code ? everr.code : pr_errname(rc));
		ex = CL_EXIT_LOCAL;
		goto free_ev;
	}
	pr_event_free(parsed);
	if ((rc = pr_dsse_new(PR_DSSE_PAYLOAD_TYPE, ev.data, ev.len, &e)) !=
	    0) {
		ex = cl_err_rc(rc, "%s", path);
		goto free_ev;
	}
	for (i = 0; i < n; i++) {
		const char *kf = cl_opt_at(a, CL_O_KEY, i);

		if ((rc = pr_key_load_private(kf, &k)) != 0) {
			ex = cl_err_rc(rc, "%s", kf);
			goto free_env;
		}
		rc = pr_dsse_sign(e, k);
		pr_key_free(k);
		if (rc != 0) {
			ex = cl_err_rc(rc, "signing with %s", kf);
			goto free_env;
		}
	}
	*out = e;
	pr_buf_free(&ev);
	return CL_EXIT_OK;
free_env:
	pr_dsse_free(e);
free_ev:
	pr_buf_free(&ev);
	return ex;
}

int
cmd_sign(struct cl_ctx *ctx, const struct cl_args *a)
{
	struct pr_buf out = PR_BUF_INIT;
	struct pr_dsse *e;
	int rc, ex;

	(void)ctx;
	if ((ex = make_envelope(a, a->pos[0], &e)) != 0)
		return ex;
	if ((rc = pr_dsse_serialize(e, &out)) == 0 &&
	    (rc = pr_buf_append_byte(&out, '\n')) == 0 &&
	    fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = PR_EIO;
	ex = rc ? cl_err_rc(rc, "output") : CL_EXIT_OK;
	pr_buf_free(&out);
	pr_dsse_free(e);
	return ex;
}

/* A hex hash member of a JSON object into h; 0 or -1. */
static int
json_hash(const json_t *o, const char *name, pr_hash h)
{
	const char *s = json_string_value(json_object_get(o, name));

	if (s == NULL || strlen(s) != 2 * PR_HASH_LEN)
		return -1;
	return pr_hex_decode(s, strlen(s), h, PR_HASH_LEN) == 0 ? 0 : -1;
}

/* Outcome of the receipt checks, for printing. */
struct receipt_check {
	uint64_t index, size;
	size_t nproof;
	int sig_checked;
	char origin[256];
	char why[512]; /* the failure, "" if none */
};

/*
 * Check a receipt against the envelope we sent: leaf hash of the entry
 * rebuilt from the envelope and the receipt's log time, envelope hash,
 * inclusion proof against the receipt's checkpoint, and the checkpoint's
 * signature when vkey is not NULL.
 */
static int
check_receipt(const json_t *r, const struct pr_dsse *e,
    const struct pr_vkey *vkey, struct receipt_check *rc_out)
{
	struct pr_checkpoint cp;
	struct pr_buf entry = PR_BUF_INIT;
	pr_hash leaf, want, envh, proof[PR_MERKLE_MAX_PROOF];
	const char *lt = json_string_value(json_object_get(r, "log_time"));
	const char *cps = json_string_value(json_object_get(r, "checkpoint"));
	json_t *pj = json_object_get(r, "inclusion_proof"), *h;
	json_int_t idx = json_integer_value(json_object_get(r, "index"));
	int64_t ms;
	size_t i;
	int rc;

	memset(&cp, 0, sizeof(cp));
	if (!json_is_integer(json_object_get(r, "index")) || idx < 0 ||
	    lt == NULL || cps == NULL || !json_is_array(pj) ||
	    json_array_size(pj) > PR_MERKLE_MAX_PROOF ||
	    json_hash(r, "leaf_hash", want) != 0) {
		snprintf(rc_out->why, sizeof(rc_out->why),
		    "the receipt lacks index, leaf_hash, log_time, checkpoint "
		    "or inclusion_proof");
		return PR_EPROTO;
	}
	rc_out->index = (uint64_t)idx;
	if (pr_time_parse(lt, strlen(lt), &ms, NULL) != 0 || ms < 0) {
		snprintf(rc_out->why, sizeof(rc_out->why),
		    "the receipt's log_time '%.64s' is not an RFC 3339 time",
		    lt);
		return PR_EPROTO;
	}
	if ((rc = pr_entry_encode(e, (uint64_t)ms, &entry)) != 0)
		return rc;
	pr_merkle_leaf_hash(entry.data, entry.len, leaf);
	pr_buf_free(&entry);
	if (memcmp(leaf, want, PR_HASH_LEN) != 0) {
		snprintf(rc_out->why, sizeof(rc_out->why),
		    "the receipt's leaf_hash is not the hash of our envelope "
		    "logged at %s",
		    lt);
		return PR_EPROOF;
	}
	if (json_hash(r, "envelope_hash", want) == 0 &&
	    pr_entry_dsse_hash(e, envh) == 0 &&
	    memcmp(envh, want, PR_HASH_LEN) != 0) {
		snprintf(rc_out->why, sizeof(rc_out->why),
		    "the receipt's envelope_hash is not our envelope's");
		return PR_EPROOF;
	}
	rc = vkey != NULL
	    ? pr_checkpoint_open(cps, strlen(cps), vkey->name, vkey, 1, &cp)
	    : cl_checkpoint_unverified(cps, strlen(cps), &cp);
	if (rc != 0) {
		snprintf(rc_out->why, sizeof(rc_out->why),
		    "the receipt's checkpoint: %s", pr_errmsg(rc));
		return rc;
	}
	rc_out->sig_checked = vkey != NULL;
	rc_out->size = cp.size;
	snprintf(rc_out->origin, sizeof(rc_out->origin), "%s", cp.origin);
	json_array_foreach(pj, i, h)
	{
		const char *s = json_string_value(h);

		if (s == NULL || strlen(s) != 2 * PR_HASH_LEN ||
		    pr_hex_decode(s, strlen(s), proof[i], PR_HASH_LEN) != 0) {
			snprintf(rc_out->why, sizeof(rc_out->why),
			    "inclusion_proof[%zu] is not a hex hash", i);
			rc = PR_EPROTO;
			goto clear_cp;
		}
	}
	rc_out->nproof = json_array_size(pj);
	if ((uint64_t)idx >= cp.size ||
	    (rc = pr_merkle_verify_inclusion((uint64_t)idx, cp.size, leaf,
	         proof, rc_out->nproof, cp.root)) != 0) {
		snprintf(rc_out->why, sizeof(rc_out->why),
		    "the inclusion proof of entry %lld does not lead to the "
		    "root of the receipt's checkpoint (size %llu)",
		    (long long)idx, (unsigned long long)cp.size);
		rc = PR_EPROOF;
	}
clear_cp:
	pr_checkpoint_clear(&cp);
	return rc;
}

static int
print_receipt(
    struct cl_ctx *ctx, json_t *r, int status, const struct receipt_check *c)
{
	static const struct cl_col cols[] = {
	    {"index", "index", 0, -1, 0},
	    {"leaf_hash", "leaf hash", 0, -1, 0},
	    {"log_time", "log time", 0, -1, 0},
	    {"tree_size", "tree size", 0, -1, 0},
	    {"status", "status", 0, -1, 0},
	    {"inclusion", "inclusion", 0, -1, 0},
	    {"checkpoint", "checkpoint", 0, -1, 0},
	};
	char idx[24], size[24], incl[64], cps[400];
	const char *row[7];
	struct cl_table t;
	int rc;

	if (ctx->mode == CL_JSON) {
		json_t *chk = json_pack("{s:b, s:b, s:b}", "leaf_hash", 1,
		    "inclusion_proof", 1, "checkpoint_signature",
		    c->sig_checked);

		if (chk == NULL ||
		    json_object_set_new(r, "already_logged",
		        json_boolean(status == 200)) != 0 ||
		    json_object_set_new(r, "checks", chk) != 0)
			return PR_ENOMEM;
		return cl_json_print(r, stdout);
	}
	snprintf(idx, sizeof(idx), "%llu", (unsigned long long)c->index);
	snprintf(size, sizeof(size), "%llu", (unsigned long long)c->size);
	snprintf(incl, sizeof(incl), "ok (%zu hashes)", c->nproof);
	if (c->sig_checked)
		snprintf(cps, sizeof(cps), "signature ok (%s)", c->origin);
	else
		snprintf(cps, sizeof(cps), "signature not checked (no --vkey)");
	row[0] = idx;
	row[1] = json_string_value(json_object_get(r, "leaf_hash"));
	row[2] = json_string_value(json_object_get(r, "log_time"));
	row[3] = size;
	row[4] = status == 200 ? "already logged" : "logged";
	row[5] = incl;
	row[6] = cps;
	cl_table_init(&t, cols, 7);
	t.vertical = 1;
	if ((rc = cl_table_add(&t, row)) == 0)
		rc = cl_table_print(&t, ctx->mode, stdout);
	cl_table_free(&t);
	return rc;
}

int
cmd_submit(struct cl_ctx *ctx, const struct cl_args *a)
{
	struct receipt_check chk;
	struct pr_dsse_error derr;
	struct pr_buf body = PR_BUF_INIT, file = PR_BUF_INIT;
	struct pr_vkey vkey;
	struct pr_dsse *e = NULL;
	const char *envf = cl_opt(a, CL_O_ENVELOPE), *from;
	json_t *r = NULL;
	int rc, ex, status, have_vkey;

	if ((envf != NULL) == (a->npos == 1) ||
	    (envf != NULL && cl_opt_count(a, CL_O_KEY) > 0)) {
		cl_errx("submit: give either --key FILE... EVENT.json or "
		        "--envelope FILE");
		return CL_EXIT_USAGE;
	}
	memset(&vkey, 0, sizeof(vkey));
	if ((rc = cl_vkey_find(a, &vkey, &from)) != 0 && rc != PR_ENOTFOUND)
		return cl_err_rc(rc, "%s", "");
	have_vkey = rc == 0;
	if (envf != NULL) {
		if ((rc = cl_read_file(envf, PR_DSSE_MAX_JSON, &file)) != 0) {
			ex = cl_err_rc(rc, "%s", "");
			goto clear_vkey;
		}
		if (pr_dsse_parse((char *)file.data, file.len, &e, &derr) !=
		    0) {
			cl_errx("%s: not a DSSE envelope: %s%s%s", envf,
			    derr.field, derr.field[0] ? ": " : "",
			    derr.message);
			ex = CL_EXIT_LOCAL;
			goto free_file;
		}
	} else if ((ex = make_envelope(a, a->pos[0], &e)) != 0)
		goto clear_vkey;
	if ((rc = pr_dsse_serialize(e, &body)) != 0) {
		ex = cl_err_rc(rc, "%s", "");
		goto free_env;
	}
	if ((ex = cl_call_json(ctx, "POST", "/v1/events", body.data, body.len,
	         &status, &r)) != 0)
		goto free_body;
	memset(&chk, 0, sizeof(chk));
	if ((rc = check_receipt(r, e, have_vkey ? &vkey : NULL, &chk)) != 0) {
		cl_errx("receipt check failed: %s",
		    chk.why[0] ? chk.why : pr_errmsg(rc));
		ex = rc == PR_EPROTO ? CL_EXIT_NET : CL_EXIT_FAIL;
		goto free_r;
	}
	rc = print_receipt(ctx, r, status, &chk);
	ex = rc ? cl_err_rc(rc, "output") : CL_EXIT_OK;
free_r:
	json_decref(r);
free_body:
	pr_buf_free(&body);
free_env:
	pr_dsse_free(e);
free_file:
	pr_buf_free(&file);
clear_vkey:
	if (have_vkey)
		pr_vkey_clear(&vkey);
	return ex;
}
