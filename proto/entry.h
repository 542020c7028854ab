/*
 * The log entry: the bytes of one Merkle leaf.
 *
 *   u8      version (1)
 *   u64 BE  log_time, milliseconds since the Unix epoch (UTC)
 *   u16 BE  payloadType length, then payloadType bytes (UTF-8, non-empty)
 *   u16 BE  payload length, then payload bytes
 *   u8      signature count (1..16), then for each signature:
 *             u8 keyid length (0 = no keyid), keyid bytes (UTF-8)
 *             u16 BE sig length (non-zero), sig bytes
 *
 * An entry is at most PR_ENTRY_MAX bytes (entry bundles prefix each entry
 * with a uint16 length).  Everything after the 9-byte header is the
 * "envelope part"; its SHA-256 is the envelope hash used to recognise a
 * resubmitted envelope whatever its log time.
 */
#ifndef PR_ENTRY_H
#define PR_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/dsse.h"
#include "proto/merkle.h"

#define PR_ENTRY_VERSION 1
#define PR_ENTRY_MAX 65535
#define PR_ENTRY_HEADER 9
#define PR_ENTRY_MAX_SIGS 16

/* A decoded entry: pointers into the entry bytes, valid as long as they. */
struct pr_entry_sig {
	const char *keyid; /* not NUL-terminated; NULL when keyidlen is 0 */
	size_t keyidlen;
	const uint8_t *sig;
	size_t siglen;
};

struct pr_entry {
	uint64_t log_time; /* ms since the epoch */
	const char *payload_type;
	size_t payload_type_len;
	const uint8_t *payload;
	size_t payload_len;
	struct pr_entry_sig sigs[PR_ENTRY_MAX_SIGS];
	size_t nsigs;
	const uint8_t *envelope; /* the envelope part */
	size_t envelope_len;
};

/*
 * Append the entry for envelope e logged at log_time to out.
 * PR_ETOOBIG if it would exceed PR_ENTRY_MAX, PR_EINVAL for an envelope
 * without signatures or with more than 16, or fields out of range.
 */
int pr_entry_encode(
    const struct pr_dsse *e, uint64_t log_time, struct pr_buf *out);
/* Set the log time of encoded entry bytes (at least PR_ENTRY_HEADER):
 * an entry can be encoded before its time is known. */
void pr_entry_set_time(uint8_t *entry, uint64_t log_time);

/*
 * Decode p[0..len) without copying.  PR_EVERSION for another version,
 * PR_ETRUNC when a length runs past the end, PR_ETOOBIG above
 * PR_ENTRY_MAX, PR_EFORMAT for zero or more than 16 signatures, an empty
 * payloadType or sig, text that is not UTF-8 (or holds NUL), or trailing
 * bytes.
 */
int pr_entry_parse(const uint8_t *p, size_t len, struct pr_entry *out);

/* The envelope of a parsed entry as a DSSE envelope (copied). */
int pr_entry_to_dsse(const struct pr_entry *ent, struct pr_dsse **out);

/* pr_entry_parse() then pr_entry_to_dsse(); log_time may be NULL. */
int pr_entry_decode(
    const uint8_t *p, size_t len, uint64_t *log_time, struct pr_dsse **out);

/*
 * Envelope hash: SHA-256 of the entry bytes after the 9-byte header.  The
 * entry is not otherwise checked (PR_ETRUNC if shorter than the header).
 */
int pr_entry_envelope_hash(const uint8_t *p, size_t len, pr_hash out);
/* The same hash computed from an envelope, before any log time exists. */
int pr_entry_dsse_hash(const struct pr_dsse *e, pr_hash out);

#endif
