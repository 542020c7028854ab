#include "proto/utf8.h"

size_t
pr_utf8_next(const uint8_t *p, size_t len, uint32_t *cp)
{
	uint32_t c, min;
	size_t n, i;

	if (len == 0)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

int
pr_utf8_valid(const uint8_t *p, size_t len)
{
	size_t off = 0, n;
	uint32_t cp;

	while (off < len) {
		/* ASCII runs are the common case. */
		if (p[off] < 0x80) {
			off++;
			continue;
		}
		if ((n = pr_utf8_next(p + off, len - off, &cp)) == 0)
			return 0;
		off += n;
	}
	return 1;
}

int
pr_utf8_text_valid(const uint8_t *p, size_t len, int allow_nl)
{
	size_t off = 0, n;
	uint32_t cp;

	while (off < len) {
		if (p[off] < 0x80) {
			if (p[off] < 0x20 && !(allow_nl && p[off] == '\n'))
				return 0;
			off++;
			continue;
		}
		if ((n = pr_utf8_next(p + off, len - off, &cp)) == 0)
			return 0;
		off += n;
	}
	return 1;
}

int
pr_utf8_is_space(uint32_t cp)
{
	switch (cp) {
	case 0x09:
	case 0x0a:
	case 0x0b:
	case 0x0c:
	case 0x0d:
	case 0x20:
	case 0x85:
	case 0xa0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202f:
	case 0x205f:
	case 0x3000:
		return 1;
	default:
		return cp >= 0x2000 && cp <= 0x200a;
	}
}
