/*
 * C2SP tlog-proof files (c2sp.org/tlog-proof): an offline proof that an
 * entry is in a log.
 *
 *   c2sp.org/tlog-proof@v1
 *   extra <base64>            (optional, unauthenticated extra data)
 *   index <decimal>
 *   <base64 hash>             (zero or more: the RFC 6962 inclusion proof,
 *   ...                        from the leaf's sibling up)
 *   <empty line>
 *   <the signed checkpoint, verbatim>
 *
 * Parsing checks the layout strictly (each proof hash is standard base64
 * of exactly 32 bytes, at most PR_MERKLE_MAX_PROOF of them; decimals have
 * no leading zeros; the checkpoint is a well-formed signed note whose text
 * is a checkpoint).  Verification checks the checkpoint's signatures with
 * the given verifier keys, its origin, the proof length for the index and
 * tree size, and the inclusion of the leaf hash under the root hash.
 *
 * On failure functions return a negative PR_E* code and record a detail
 * message that pr_errmsg() (proto/errmsg.h) returns.
 */
#ifndef PR_TPROOF_H
#define PR_TPROOF_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/key.h"
#include "proto/merkle.h"
#include "proto/note.h"

#define PR_TPROOF_HEADER "c2sp.org/tlog-proof@v1"
#define PR_TPROOF_MAX_SIZE 262144
#define PR_TPROOF_MAX_EXTRA 65536

/*
 * A proof.  After pr_tproof_parse() the struct owns extra and checkpoint
 * and pr_tproof_clear() frees them.  To write a proof, fill the fields
 * with pointers of your own and call pr_tproof_format() (no clear).
 */
struct pr_tproof {
	uint64_t index;
	uint8_t *extra; /* NULL when absent */
	size_t extralen;
	pr_hash proof[PR_MERKLE_MAX_PROOF];
	size_t nproof;
	char *checkpoint; /* signed note text, NUL-terminated after parse */
	size_t checkpointlen;
};

/* Append the proof file for p to out. */
int pr_tproof_format(const struct pr_tproof *p, struct pr_buf *out);
/* Parse a proof file s[0..len) into *out. */
int pr_tproof_parse(const char *s, size_t len, struct pr_tproof *out);
void pr_tproof_clear(struct pr_tproof *p);

/*
 * Number of hashes in the inclusion proof of index in a tree of size
 * leaves (RFC 9162 section 2.1.3); index < size.
 */
size_t pr_tproof_proof_len(uint64_t index, uint64_t size);

/*
 * Verify that the entry with leaf hash leaf (pr_merkle_leaf_hash() of the
 * entry bytes) is at p->index in the log whose checkpoint p carries:
 * checkpoint signed by vkeys (as pr_note_verify()), origin equal to
 * origin when not NULL, index below the tree size, proof of the right
 * length and leading to the root.  PR_EPROOF when the proof fails.  If cp
 * is not NULL it receives the checkpoint (call pr_checkpoint_clear()).
 */
int pr_tproof_verify(const struct pr_tproof *p, const pr_hash leaf,
    const char *origin, const struct pr_vkey *vkeys, size_t nvkeys,
    struct pr_checkpoint *cp);

#endif
