/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF.  Used by the text formats (signed notes, key names, DSSE
 * payload types) that must be valid UTF-8.
 */
#ifndef PR_UTF8_H
#define PR_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode one code point from p[0..len).  Return its length in bytes (1-4)
 * and store the code point in *cp, or return 0 if the sequence is invalid
 * or truncated (len == 0 included).
 */
size_t pr_utf8_next(const uint8_t *p, size_t len, uint32_t *cp);

/* 1 if p[0..len) is valid UTF-8, else 0. */
int pr_utf8_valid(const uint8_t *p, size_t len);

/*
 * 1 if p[0..len) is valid UTF-8 without ASCII control characters (below
 * U+0020) other than, when allow_nl is set, the newline U+000A.
 */
int pr_utf8_text_valid(const uint8_t *p, size_t len, int allow_nl);

/* 1 if cp is a Unicode space (White_Space property). */
int pr_utf8_is_space(uint32_t cp);

#endif
