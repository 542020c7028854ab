/*
 * C2SP signed notes (c2sp.org/signed-note) and checkpoints
 * (c2sp.org/tlog-checkpoint).
 *
 * A signed note is a text ending in a newline, a blank line, then one or
 * more signature lines "— <name> <base64(key ID || signature)>\n" (the
 * dash is U+2014).  The whole note is valid UTF-8 with no control
 * character other than newline; the text is separated from the signatures
 * by the last blank line.  We accept at most PR_NOTE_MAX_SIGS signature
 * lines and PR_NOTE_MAX_SIZE bytes.  Signature lines of other algorithms
 * (witness cosignatures, ECDSA ...) are kept opaque and re-serialized
 * unchanged.
 *
 * Verification follows the spec: signatures whose (name, key ID) is not a
 * known verifier are ignored; a known verifier's signature that does not
 * verify rejects the whole note (PR_ESIG); a note with no verified known
 * signature is rejected (PR_EUNKNOWNKEY).
 *
 * A checkpoint is a note whose text is: origin line, tree size (decimal,
 * no leading zeros), root hash (base64 of 32 bytes), then optional
 * non-empty extension lines.
 *
 * On failure functions return a negative PR_E* code and record a detail
 * message that pr_errmsg() (proto/errmsg.h) returns.
 */
#ifndef PR_NOTE_H
#define PR_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/key.h"
#include "proto/merkle.h"

#define PR_NOTE_MAX_SIGS 16
#define PR_NOTE_MAX_SIZE 131072

/* One signature line.  sig excludes the 4-byte key ID. */
struct pr_note_sig {
	char *name; /* NUL-terminated */
	uint32_t id;
	uint8_t *sig;
	size_t siglen;
};

/*
 * A parsed note.  Owns everything it points to; free with pr_note_free().
 * Read the fields directly; change them only through the functions below.
 */
struct pr_note {
	char *text; /* NUL-terminated, ends with '\n' */
	size_t textlen;
	struct pr_note_sig sigs[PR_NOTE_MAX_SIGS];
	size_t nsigs;
};

/* Parse a signed note msg[0..len). */
int pr_note_parse(const char *msg, size_t len, struct pr_note **out);
/* An unsigned note with text[0..len) (valid UTF-8, no control character
 * but newline, ending with a newline). */
int pr_note_new(const char *text, size_t len, struct pr_note **out);
void pr_note_free(struct pr_note *n);

/*
 * Sign the text with a private key under name and add the signature line.
 * A line with the same name and key ID is replaced; otherwise the line is
 * appended (PR_ETOOBIG beyond PR_NOTE_MAX_SIGS).
 */
int pr_note_sign(struct pr_note *n, const char *name, const struct pr_key *k);

/* Append the note (text, blank line, signatures) to out; PR_EINVAL when
 * it has no signature. */
int pr_note_serialize(const struct pr_note *n, struct pr_buf *out);

/*
 * Verify n against vkeys[0..nvkeys).  0 when at least one known
 * signature verified and none failed; then, if verified is not NULL,
 * verified[i] is set to 1 for each vkeys[i] that signed and 0 otherwise.
 */
int pr_note_verify(const struct pr_note *n, const struct pr_vkey *vkeys,
    size_t nvkeys, unsigned char *verified);

/*
 * ASCII decimal p[0..len) without leading zeros ("0" itself allowed), as
 * checkpoints and tlog-proof files write sizes and indexes: PR_EFORMAT,
 * or PR_ERANGE at 2^64 and above.
 */
int pr_note_parse_decimal(const char *p, size_t len, uint64_t *out);

/*
 * A checkpoint body.  Owns origin and ext; pr_checkpoint_clear() releases
 * them.  ext holds the extension lines, each ending with '\n', or is NULL.
 */
struct pr_checkpoint {
	char *origin;
	uint64_t size;
	pr_hash root;
	char *ext;
	size_t extlen;
};

/* Parse a checkpoint note text[0..len) (the text, not the signatures). */
int pr_checkpoint_parse(
    const char *text, size_t len, struct pr_checkpoint *out);
/* Append the checkpoint's note text to out. */
int pr_checkpoint_format(const struct pr_checkpoint *cp, struct pr_buf *out);
void pr_checkpoint_clear(struct pr_checkpoint *cp);

/* Append the checkpoint signed by k under name (a signed note) to out. */
int pr_checkpoint_sign(const struct pr_checkpoint *cp, const char *name,
    const struct pr_key *k, struct pr_buf *out);
/*
 * Parse a signed checkpoint msg[0..len), verify it against vkeys as
 * pr_note_verify() does, and parse its text into *out.  If origin is not
 * NULL the checkpoint's origin must equal it (PR_EFORMAT otherwise).
 */
int pr_checkpoint_open(const char *msg, size_t len, const char *origin,
    const struct pr_vkey *vkeys, size_t nvkeys, struct pr_checkpoint *out);

#endif
