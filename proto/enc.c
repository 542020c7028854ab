#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "proto/enc.h"
#include "proto/err.h"

void
pr_hex_encode(const uint8_t *p, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
pr_hex_decode(const char *s, size_t slen, uint8_t *out, size_t outlen)
{
	size_t i;
	int hi, lo;

	if (slen != 2 * outlen)
		return PR_EFORMAT;
	for (i = 0; i < outlen; i++) {
		hi = hexval(s[2 * i]);
		lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return PR_EFORMAT;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

size_t
pr_b64_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

int
pr_b64_encode(struct pr_buf *out, const uint8_t *p, size_t len)
{
	size_t n = pr_b64_len(len), off = 0, chunk;
	int rc;

	if ((rc = pr_buf_reserve(out, n)) != 0)
		return rc;
	/* EVP_EncodeBlock takes an int length: encode in bounded chunks. */
	while (off < len) {
		chunk = len - off;
		if (chunk > 3 * (1u << 20))
			chunk = 3 * (1u << 20);
		out->len += (size_t)EVP_EncodeBlock(
		    out->data + out->len, p + off, (int)chunk);
		off += chunk;
	}
	out->data[out->len] = '\0';
	return 0;
}

static int
b64val(char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/* Decoding tables, standard [0] and URL-safe [1] alphabet: for each
 * position k of a quad, each byte's 6-bit value already shifted to its
 * place in the 24-bit group, or bit 31 set when the byte is not in the
 * alphabet (so one test of the OR of four lookups catches any). */
static uint32_t b64_d[2][4][256];
static pthread_once_t b64_once = PTHREAD_ONCE_INIT;

static void
b64_tables(void)
{
	int c;

	for (c = 0; c < 256; c++) {
		int v = b64val((char)c, 0), u = b64val((char)c, 1), k;

		for (k = 0; k < 4; k++) {
			b64_d[0][k][c] =
			    v < 0 ? 0x80000000u : (uint32_t)v << (18 - 6 * k);
			b64_d[1][k][c] =
			    u < 0 ? 0x80000000u : (uint32_t)u << (18 - 6 * k);
		}
	}
}

int
pr_b64_decode(struct pr_buf *out, const char *s, size_t slen, int flags)
{
	size_t i, pad = 0, body, nout;
	uint32_t acc = 0;
	int url, bits = 0, v, rc;
	size_t start = out->len;

	url = (flags & PR_B64_URL) != 0;
	if (flags & PR_B64_ANY)
		url = memchr(s, '-', slen) != NULL ||
		    memchr(s, '_', slen) != NULL;
	while (pad < 2 && pad < slen && s[slen - 1 - pad] == '=')
		pad++;
	body = slen - pad;
	if (pad > 0 && slen % 4 != 0)
		return PR_EFORMAT;
	if (pad == 0 && slen % 4 != 0 && !(flags & PR_B64_NOPAD))
		return PR_EFORMAT;
	if (body % 4 == 1)
		return PR_EFORMAT;
	if (pad > 0 && (body + pad) % 4 != 0)
		return PR_EFORMAT;
	nout = body / 4 * 3 + (body % 4 == 0 ? 0 : body % 4 - 1);
	if ((rc = pr_buf_reserve(out, nout)) != 0)
		return rc;
	pthread_once(&b64_once, b64_tables);
	/* Whole quads through the tables: four characters, three bytes,
	 * written through a local pointer (stores through out would make
	 * the compiler reload out->data and out->len after each byte). */
	{
		uint8_t *o = out->data + out->len;
		const uint8_t *u = (const uint8_t *)s;
		const uint32_t(*d)[256] = b64_d[url];

		for (i = 0; i + 4 <= body; i += 4, o += 3) {
			uint32_t q = d[0][u[i]] | d[1][u[i + 1]] |
			    d[2][u[i + 2]] | d[3][u[i + 3]];

			if (q & 0x80000000u)
				goto bad;
			o[0] = (uint8_t)(q >> 16);
			o[1] = (uint8_t)(q >> 8);
			o[2] = (uint8_t)q;
		}
		out->len = (size_t)(o - out->data);
	}
	for (; i < body; i++) {
		if ((v = b64val(s[i], url)) < 0)
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out->data[out->len++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Canonical encodings leave only zero bits behind. */
	if (acc != 0)
		goto bad;
	out->data[out->len] = '\0';
	return 0;
bad:
	out->len = start;
	out->data[out->len] = '\0';
	return PR_EFORMAT;
}
