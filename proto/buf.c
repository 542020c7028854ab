#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "proto/buf.h"
#include "proto/err.h"

int
pr_buf_reserve(struct pr_buf *b, size_t extra)
{
	size_t need, ncap;
	uint8_t *p;

	if (extra > SIZE_MAX - b->len - 1)
		return PR_ENOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2) {
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	if ((p = realloc(b->data, ncap)) == NULL)
		return PR_ENOMEM;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
pr_buf_append(struct pr_buf *b, const void *p, size_t len)
{
	int rc;

	if ((rc = pr_buf_reserve(b, len)) != 0)
		return rc;
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
pr_buf_append_str(struct pr_buf *b, const char *s)
{
	return pr_buf_append(b, s, strlen(s));
}

int
pr_buf_append_byte(struct pr_buf *b, uint8_t c)
{
	return pr_buf_append(b, &c, 1);
}

int
pr_buf_append_be16(struct pr_buf *b, uint16_t v)
{
	uint8_t p[2];

	pr_store_be16(p, v);
	return pr_buf_append(b, p, sizeof(p));
}

int
pr_buf_append_be32(struct pr_buf *b, uint32_t v)
{
	uint8_t p[4];

	pr_store_be32(p, v);
	return pr_buf_append(b, p, sizeof(p));
}

int
pr_buf_append_be64(struct pr_buf *b, uint64_t v)
{
	uint8_t p[8];

	pr_store_be64(p, v);
	return pr_buf_append(b, p, sizeof(p));
}

int
pr_buf_printf(struct pr_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;
	size_t room;

	room = b->cap > b->len ? b->cap - b->len : 0;
	va_start(ap, fmt);
	n = vsnprintf(room ? (char *)b->data + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return PR_EINVAL;
	if ((size_t)n >= room) {
		if ((rc = pr_buf_reserve(b, (size_t)n)) != 0) {
			if (b->data != NULL)
				b->data[b->len] = '\0';
			return rc;
		}
		va_start(ap, fmt);
		vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
	return 0;
}

void
pr_buf_reset(struct pr_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
pr_buf_free(struct pr_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
pr_buf_free_secure(struct pr_buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->cap);
	pr_buf_free(b);
}
