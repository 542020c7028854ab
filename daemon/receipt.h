/*
 * Receipts: the JSON answer to POST /v1/events (docs/API.md), built from
 * the store so a resubmission gets the same facts as the first answer.
 */
#ifndef PROCURED_RECEIPT_H
#define PROCURED_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/merkle.h"

struct st_store;

/* Receipt for the entry at index in the tree of tree_size entries whose
 * signed checkpoint is note.  Appends JSON (and a newline) to out. */
int receipt_build(struct st_store *st, uint64_t index, uint64_t tree_size,
    const char *note, struct pr_buf *out);
/* The same receipt from facts the caller already holds (the sequencer,
 * right after its commit): the inclusion proof, and the note already
 * quoted as a JSON string (pr_json_quote()). */
int receipt_format(uint64_t index, const pr_hash leaf, const pr_hash envh,
    uint64_t log_time_ms, uint64_t tree_size, const char *note_json,
    const pr_hash *proof, size_t plen, struct pr_buf *out);
/* The receipt of an already logged envelope at the current tree size;
 * PR_ENOTFOUND if it was never logged. */
int receipt_for_envelope(
    struct st_store *st, const pr_hash env_hash, struct pr_buf *out);
/* RFC 3339 UTC with milliseconds: 24 characters and a NUL. */
void format_time_ms(uint64_t ms, char out[32]);
/* The tree size a signed checkpoint note names. */
int checkpoint_size(const char *note, size_t len, uint64_t *size);

#endif
