#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/receipt.h"
#include "proto/enc.h"
#include "proto/entry.h"
#include "proto/err.h"
#include "proto/json.h"
#include "proto/note.h"
#include "store/store.h"

void
format_time_ms(uint64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char tmp[96];

	gmtime_r(&t, &tm);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (unsigned)(ms % 1000));
	snprintf(out, 32, "%.31s", tmp);
}

static int
hex_str(struct pr_buf *out, const uint8_t *h)
{
	char hex[2 * PR_HASH_LEN + 3];

	hex[0] = '"';
	pr_hex_encode(h, PR_HASH_LEN, hex + 1);
	hex[2 * PR_HASH_LEN + 1] = '"';
	return pr_buf_append(out, hex, 2 * PR_HASH_LEN + 2);
}

int
receipt_format(uint64_t index, const pr_hash leaf, const pr_hash envh,
    uint64_t log_time_ms, uint64_t tree_size, const char *note_json,
    const pr_hash *proof, size_t plen, struct pr_buf *out)
{
	size_t i, old = out->len;
	char when[32];
	int rc;

	format_time_ms(log_time_ms, when);
	/* The members in the order docs/API.md shows them. */
	rc = pr_buf_printf(
	    out, "{\"index\":%llu,\"leaf_hash\":", (unsigned long long)index);
	rc = rc ? rc : hex_str(out, leaf);
	rc = rc ? rc : pr_buf_append_str(out, ",\"envelope_hash\":");
	rc = rc ? rc : hex_str(out, envh);
	rc = rc ? rc
	        : pr_buf_printf(out,
	              ",\"log_time\":\"%s\",\"tree_size\":%llu,"
	              "\"checkpoint\":",
	              when, (unsigned long long)tree_size);
	rc = rc ? rc : pr_buf_append_str(out, note_json);
	rc = rc ? rc : pr_buf_append_str(out, ",\"inclusion_proof\":[");
	for (i = 0; rc == 0 && i < plen; i++) {
		if (i > 0)
			rc = pr_buf_append_byte(out, ',');
		rc = rc ? rc : hex_str(out, proof[i]);
	}
	rc = rc ? rc : pr_buf_append_str(out, "]}\n");
	if (rc != 0 && out->data != NULL) {
		out->len = old; /* as it was, NUL-terminated */
		out->data[old] = '\0';
	}
	return rc;
}

int
receipt_build(struct st_store *st, uint64_t index, uint64_t tree_size,
    const char *note, struct pr_buf *out)
{
	struct pr_buf entry = PR_BUF_INIT, nj = PR_BUF_INIT;
	pr_hash proof[PR_MERKLE_MAX_PROOF];
	struct pr_entry ent;
	pr_hash leaf, envh;
	size_t plen;
	int rc;

	if ((rc = st_inclusion_proof(st, index, tree_size, proof, &plen)) != 0)
		goto out;
	if ((rc = pr_json_quote(&nj, note)) != 0)
		goto out;
	if ((rc = st_entry(st, index, &entry)) != 0)
		goto out;
	if ((rc = pr_entry_parse(entry.data, entry.len, &ent)) != 0)
		goto out;
	pr_merkle_leaf_hash(entry.data, entry.len, leaf);
	if ((rc = pr_entry_envelope_hash(entry.data, entry.len, envh)) != 0)
		goto out;
	rc = receipt_format(index, leaf, envh, ent.log_time, tree_size,
	    (const char *)nj.data, (const pr_hash *)proof, plen, out);
out:
	pr_buf_free(&entry);
	pr_buf_free(&nj);
	return rc;
}

int
checkpoint_size(const char *note, size_t len, uint64_t *size)
{
	struct pr_note *n = NULL;
	struct pr_checkpoint cp;
	int rc;

	if ((rc = pr_note_parse(note, len, &n)) != 0)
		return rc;
	memset(&cp, 0, sizeof(cp));
	if ((rc = pr_checkpoint_parse(n->text, n->textlen, &cp)) == 0)
		*size = cp.size;
	pr_checkpoint_clear(&cp);
	pr_note_free(n);
	return rc;
}

int
receipt_for_envelope(
    struct st_store *st, const pr_hash env_hash, struct pr_buf *out)
{
	struct pr_buf note = PR_BUF_INIT;
	uint64_t index, size;
	int rc;

	if ((rc = st_find_envelope(st, env_hash, &index)) != 0)
		return rc;
	/* Prove inclusion in the tree the latest checkpoint names. */
	if ((rc = st_checkpoint(st, &note)) != 0)
		goto out;
	if ((rc = checkpoint_size((const char *)note.data, note.len, &size)))
		goto out;
	rc = receipt_build(st, index, size, (const char *)note.data, out);
out:
	pr_buf_free(&note);
	return rc;
}
