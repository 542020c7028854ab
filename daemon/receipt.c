#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "daemon/receipt.h"
#include "proto/enc.h"
#include "proto/entry.h"
#include "proto/err.h"
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
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
	snprintf(out, 32, "%.31s", tmp);
}

static json_t *
hex_json(const uint8_t *h, size_t len)
{
	char hex[2 * 64 + 1];

	if (len > 64)
		return NULL;
	pr_hex_encode(h, len, hex);
	return json_string(hex);
}

int
receipt_build(struct st_store *st, uint64_t index, uint64_t tree_size,
    const char *note, struct pr_buf *out)
{
	struct pr_buf entry = PR_BUF_INIT;
	struct pr_entry ent;
	pr_hash leaf, envh, proof[PR_MERKLE_MAX_PROOF];
	size_t plen = 0, i;
	char when[32], *s = NULL;
	json_t *j = NULL, *arr;
	int rc;

	if ((rc = st_entry(st, index, &entry)) != 0)
		goto out;
	if ((rc = pr_entry_parse(entry.data, entry.len, &ent)) != 0)
		goto out;
	pr_merkle_leaf_hash(entry.data, entry.len, leaf);
	if ((rc = pr_entry_envelope_hash(entry.data, entry.len, envh)) != 0)
		goto out;
	if ((rc = st_inclusion_proof(st, index, tree_size, proof, &plen)) != 0)
		goto out;
	format_time_ms(ent.log_time, when);
	rc = PR_ENOMEM;
	if ((arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < plen; i++)
		json_array_append_new(arr, hex_json(proof[i], PR_HASH_LEN));
	j = json_pack("{s:I, s:o, s:o, s:s, s:I, s:s, s:o}", "index",
	    (json_int_t)index, "leaf_hash", hex_json(leaf, PR_HASH_LEN),
	    "envelope_hash", hex_json(envh, PR_HASH_LEN), "log_time", when,
	    "tree_size", (json_int_t)tree_size, "checkpoint", note,
	    "inclusion_proof", arr);
	if (j == NULL)
		goto out;
	if ((s = json_dumps(j, JSON_COMPACT)) == NULL)
		goto out;
	if ((rc = pr_buf_append_str(out, s)) == 0)
		rc = pr_buf_append_byte(out, '\n');
out:
	free(s);
	json_decref(j);
	pr_buf_free(&entry);
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
