/*
 * DSSE v1 envelopes (secure-systems-lab/dsse protocol.md, envelope.md)
 * with Ed25519 signatures.
 *
 *   PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
 *
 * where LEN is the ASCII decimal byte length without leading zeros.  A
 * signature signs PAE(payloadType, payload); its keyid is the DSSE keyid
 * of proto/key.h (hex SHA-256 of the raw public key), an unauthenticated
 * hint.
 *
 * Parsing is strict: the text must be JSON as proto/json.h reads it
 * (RFC 8259, valid UTF-8, no \u0000, duplicate keys refused, nesting at
 * most 2048 deep, numbers of at most 400 bytes, nothing after the value)
 * and an object with exactly the members payloadType (non-empty string),
 * payload (base64 string) and signatures (non-empty array of at most
 * PR_DSSE_MAX_SIGS objects with members sig (non-empty base64 string) and
 * an optional keyid (string of at most 255 bytes; "" means absent)).
 * Base64 may be standard or URL-safe, padded.  The decoded envelope, as
 * measured by pr_dsse_size(), must not exceed PR_DSSE_MAX_SIZE, so that
 * every parsed envelope fits in one log entry (proto/entry.h).
 */
#ifndef PR_DSSE_H
#define PR_DSSE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"
#include "proto/key.h"

/* The payloadType of procured events. */
#define PR_DSSE_PAYLOAD_TYPE "application/vnd.procured.event+json; version=1"

#define PR_DSSE_MAX_SIGS 16
#define PR_DSSE_MAX_KEYID 255
/* Largest decoded envelope: a log entry (65,535 bytes) less its 9-byte
 * header of version and log time. */
#define PR_DSSE_MAX_SIZE (65535 - 9)
/* Largest JSON text accepted before decoding. */
#define PR_DSSE_MAX_JSON 262144

struct pr_dsse_sig {
	char *keyid; /* NUL-terminated, NULL when absent */
	uint8_t *sig;
	size_t siglen;
};

/*
 * An envelope.  Owns everything it points to; free with pr_dsse_free().
 * payload_type is NUL-terminated UTF-8 without NUL bytes; payload is
 * followed by a NUL byte not counted in payload_len.
 */
struct pr_dsse {
	char *payload_type;
	size_t payload_type_len;
	uint8_t *payload;
	size_t payload_len;
	struct pr_dsse_sig sigs[PR_DSSE_MAX_SIGS];
	size_t nsigs;
};

/*
 * Why a parse failed.  code is one of the stable strings "too_large",
 * "bad_json", "duplicate_key", "not_object", "unknown_field", "missing",
 * "wrong_type", "empty", "bad_base64", "bad_utf8", "too_many",
 * "too_long"; field names the offending member ("payloadType",
 * "signatures[1].sig", ...) or is "" for the document as a whole.
 */
struct pr_dsse_error {
	const char *code;
	char field[64];
	char message[160];
};

/*
 * Parse a JSON envelope json[0..len).  On failure return PR_ETOOBIG or
 * PR_EFORMAT (PR_ENOMEM aside) and, if err is not NULL, fill *err.  The
 * JSON is checked as a whole before its members, and a text with several
 * faults reports the first the parser meets (for bad_json with its line
 * and column).  The parse tree lives in one arena freed before return.
 */
int pr_dsse_parse(const char *json, size_t len, struct pr_dsse **out,
    struct pr_dsse_error *err);
/* A new unsigned envelope (copies its arguments). */
int pr_dsse_new(const char *payload_type, const uint8_t *payload, size_t len,
    struct pr_dsse **out);
void pr_dsse_free(struct pr_dsse *e);

/*
 * Add a signature by private key k with keyid pr_key_keyid(k).  Call once
 * per signer.  PR_ERANGE beyond PR_DSSE_MAX_SIGS, PR_ETOOBIG beyond
 * PR_DSSE_MAX_SIZE.
 */
int pr_dsse_sign(struct pr_dsse *e, const struct pr_key *k);
/*
 * Add an existing signature (copied); keyid may be NULL.  Used to rebuild
 * an envelope from a stored entry.  Same limits as pr_dsse_sign().
 */
int pr_dsse_add_sig(struct pr_dsse *e, const char *keyid, size_t keyidlen,
    const uint8_t *sig, size_t siglen);

/* Append the compact JSON envelope to out (standard padded base64). */
int pr_dsse_serialize(const struct pr_dsse *e, struct pr_buf *out);

/* Append PAE(type, body) to out. */
int pr_dsse_pae(const char *type, size_t typelen, const uint8_t *body,
    size_t bodylen, struct pr_buf *out);

/*
 * Verify signature i of e with key k: 0, PR_ESIG, PR_EINVAL when i is out
 * of range, PR_ENOMEM or PR_ECRYPTO.
 */
int pr_dsse_verify(const struct pr_dsse *e, size_t i, const struct pr_key *k);
/* Verify one raw signature over PAE(type, body) with k. */
int pr_dsse_verify_raw(const char *type, size_t typelen, const uint8_t *body,
    size_t bodylen, const uint8_t *sig, size_t siglen, const struct pr_key *k);

/*
 * Size of the decoded envelope: its encoding in a log entry after the
 * header (2 + type + 2 + payload + 1 + per signature 1 + keyid + 2 + sig).
 */
size_t pr_dsse_size(const struct pr_dsse *e);

#endif
