/*
 * Hex and base64 (RFC 4648) encodings.
 *
 * Decoders are strict: hex accepts upper and lower case but nothing else;
 * base64 requires canonical padding and rejects whitespace and non-zero
 * trailing bits.  PR_B64_URL selects the URL-safe alphabet ('-', '_'),
 * PR_B64_ANY accepts either alphabet (not mixed) as DSSE allows, and
 * PR_B64_NOPAD also accepts unpadded input.
 */
#ifndef PR_ENC_H
#define PR_ENC_H

#include <stddef.h>
#include <stdint.h>

#include "proto/buf.h"

#define PR_B64_STD 0
#define PR_B64_URL 1
#define PR_B64_ANY 2
#define PR_B64_NOPAD 4

/* Write 2*len lower-case hex digits and a NUL to out (2*len+1 bytes). */
void pr_hex_encode(const uint8_t *p, size_t len, char *out);
/* Decode exactly outlen bytes from 2*outlen hex digits in s[0..slen). */
int pr_hex_decode(const char *s, size_t slen, uint8_t *out, size_t outlen);

/* Length of the padded base64 encoding of len bytes (no NUL). */
size_t pr_b64_len(size_t len);
/* Append the standard padded base64 encoding of p to out. */
int pr_b64_encode(struct pr_buf *out, const uint8_t *p, size_t len);
/* Append the decoding of s[0..slen) to out; flags as above. */
int pr_b64_decode(struct pr_buf *out, const char *s, size_t slen, int flags);

#endif
