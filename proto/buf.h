/*
 * A growable byte buffer.
 *
 * A zeroed struct pr_buf (PR_BUF_INIT) is an empty buffer.  The buffer owns
 * data; pr_buf_free() releases it.  After any append, data is followed by
 * a NUL byte that is not counted in len, so text can be used as a C string.
 * On PR_ENOMEM the buffer keeps its previous contents.
 */
#ifndef PR_BUF_H
#define PR_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "proto/log.h" /* PR_PRINTF */

struct pr_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

#define PR_BUF_INIT                                                            \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

/* Ensure room for extra more bytes (plus the trailing NUL). */
int pr_buf_reserve(struct pr_buf *b, size_t extra);
int pr_buf_append(struct pr_buf *b, const void *p, size_t len);
int pr_buf_append_str(struct pr_buf *b, const char *s);
int pr_buf_append_byte(struct pr_buf *b, uint8_t c);
int pr_buf_append_be16(struct pr_buf *b, uint16_t v);
int pr_buf_append_be32(struct pr_buf *b, uint32_t v);
int pr_buf_append_be64(struct pr_buf *b, uint64_t v);
int pr_buf_printf(struct pr_buf *b, const char *fmt, ...) PR_PRINTF(2, 3);

/* Empty the buffer, keeping its memory. */
void pr_buf_reset(struct pr_buf *b);
/* Release the memory; the buffer is empty and reusable afterwards. */
void pr_buf_free(struct pr_buf *b);
/* As pr_buf_free(), wiping the contents first (for secrets). */
void pr_buf_free_secure(struct pr_buf *b);

/* Big-endian loads and stores. */
static inline uint16_t
pr_load_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t
pr_load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
pr_load_be64(const uint8_t *p)
{
	return (uint64_t)pr_load_be32(p) << 32 | pr_load_be32(p + 4);
}

static inline void
pr_store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
pr_store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
pr_store_be64(uint8_t *p, uint64_t v)
{
	pr_store_be32(p, (uint32_t)(v >> 32));
	pr_store_be32(p + 4, (uint32_t)v);
}

#endif
