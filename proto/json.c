/*
 * Strict JSON parsing into an arena (proto/json.h).
 *
 * Recursive descent, bounded by the depth limit.  Members of an array or
 * object are collected on a scratch stack while they are parsed and
 * copied to the arena in one piece when the container closes, so each
 * container is one allocation.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/buf.h"
#include "proto/err.h"
#include "proto/json.h"
#include "proto/utf8.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define STACK0 128 /* members kept on the C stack before the heap */
#define NUMBER_MAX 400 /* longest number text accepted */

struct jp {
	const char *start, *p, *end;
	unsigned depth, maxdepth;
	pr_json_alloc_fn alloc;
	void *ctx;
	struct pr_json_error *err;
	struct pr_json *stk; /* scratch: members of open containers */
	size_t nstk, capstk;
	struct pr_json stk0[STACK0];
};

static void fail(struct jp *j, const char *at, enum pr_json_errcode code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
fail(struct jp *j, const char *at, enum pr_json_errcode code, const char *fmt,
    ...)
{
	struct pr_json_error *e = j->err;
	const char *q;
	va_list ap;

	if (e == NULL || e->code != 0)
		return;
	e->code = code;
	e->line = 1;
	e->column = 1;
	for (q = j->start; q < at && q < j->end; q++) {
		if (*q == '\n') {
			e->line++;
			e->column = 1;
		} else
			e->column++;
	}
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
}

static void *
jalloc(struct jp *j, size_t size)
{
	void *p;

	if ((p = j->alloc(j->ctx, size)) == NULL)
		fail(j, j->p, PR_JSON_ENOMEM, "out of memory");
	return p;
}

static void
skip_ws(struct jp *j)
{
	while (j->p < j->end &&
	    (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
push(struct jp *j, const struct pr_json *v)
{
	struct pr_json *n;
	size_t cap;

	if (j->nstk == j->capstk) {
		cap = j->capstk * 2;
		if (j->stk == j->stk0) {
			if ((n = malloc(cap * sizeof(*n))) != NULL)
				memcpy(n, j->stk0, sizeof(j->stk0));
		} else
			n = realloc(j->stk, cap * sizeof(*n));
		if (n == NULL) {
			fail(j, j->p, PR_JSON_ENOMEM, "out of memory");
			return -1;
		}
		j->stk = n;
		j->capstk = cap;
	}
	j->stk[j->nstk++] = *v;
	return 0;
}

static int
hex4(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (s[i] >= '0' && s[i] <= '9')
			v |= (uint32_t)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			v |= (uint32_t)(s[i] - 'a' + 10);
		else if (s[i] >= 'A' && s[i] <= 'F')
			v |= (uint32_t)(s[i] - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t
put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decode the escapes of raw[0..len), which the scan has checked apart
 * from \u values, into out (len + 1 bytes is enough). */
static int
unescape(struct jp *j, const char *raw, size_t len, char *out, size_t *outlen)
{
	const char *s = raw, *end = raw + len;
	uint32_t cp, lo;
	size_t n = 0;

	while (s < end) {
		if (*s != '\\') {
			out[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case '"':
		case '\\':
		case '/':
			out[n++] = *s++;
			continue;
		case 'b':
			out[n++] = '\b';
			s++;
			continue;
		case 'f':
			out[n++] = '\f';
			s++;
			continue;
		case 'n':
			out[n++] = '\n';
			s++;
			continue;
		case 'r':
			out[n++] = '\r';
			s++;
			continue;
		case 't':
			out[n++] = '\t';
			s++;
			continue;
		default: /* 'u', checked by the scan */
			break;
		}
		if (end - s < 5 || hex4(s + 1, &cp) != 0) {
			fail(j, s - 1, PR_JSON_ESYNTAX, "invalid \\u escape");
			return -1;
		}
		s += 5;
		if (cp >= 0xdc00 && cp <= 0xdfff) {
			fail(j, s - 6, PR_JSON_ESYNTAX,
			    "invalid Unicode '\\u%04X': a low surrogate "
			    "without a high one",
			    (unsigned)cp);
			return -1;
		}
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (end - s < 6 || s[0] != '\\' || s[1] != 'u' ||
			    hex4(s + 2, &lo) != 0 || lo < 0xdc00 ||
			    lo > 0xdfff) {
				fail(j, s - 6, PR_JSON_ESYNTAX,
				    "invalid Unicode '\\u%04X': a high "
				    "surrogate without a low one",
				    (unsigned)cp);
				return -1;
			}
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			s += 6;
		}
		if (cp == 0) {
			fail(j, s - 6, PR_JSON_ESYNTAX,
			    "\\u0000 is not allowed in a string");
			return -1;
		}
		n += put_utf8(out + n, cp);
	}
	*outlen = n;
	return 0;
}

/*
 * Skip p[0..end) while no byte is one a string's scan has to look at
 * ('"', '\\', a control character, a byte of a multibyte sequence);
 * return where the byte-wise scan goes on.  Sixteen bytes at a time with
 * SSE2, stopping exactly at the first such byte; then (or without SSE2)
 * eight in a word: a word may stop the skip early (a borrow's false
 * alarm), but is never passed over with such a byte in it.
 */
static const char *
plain_run(const char *p, const char *end)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t x, q, b;
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i ctl = _mm_set1_epi8(0x1f);
	__m128i v, m;
	int bits;

	while (end - p >= 16) {
		v = _mm_loadu_si128((const void *)p);
		m = _mm_or_si128(
		    _mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash));
		/* min(v, 0x1f) == v: below 0x20; v's high bit: 0x80 up */
		m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
		/* Exact: straight to the first such byte (a short string's
		 * closing quote is found in one step, not byte by byte). */
		if ((bits = _mm_movemask_epi8(_mm_or_si128(m, v))) != 0)
			return p + __builtin_ctz((unsigned)bits);
		p += 16;
	}
#endif
	while (end - p >= 8) {
		memcpy(&x, p, 8);
		q = x ^ (ones * '"');
		b = x ^ (ones * '\\');
		if (((x | ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) |
		         ((b - ones) & ~b)) &
		        high) != 0)
			break;
		p += 8;
	}
	return p;
}

/* A string starting at the quote under j->p: a NUL-terminated copy in
 * the arena. */
static int
string(struct jp *j, const char **out, uint32_t *outlen)
{
	const char *s = j->p + 1, *q;
	size_t len, n;
	uint32_t cp;
	int esc = 0;
	char *o;

	for (q = s; (q = plain_run(q, j->end)) < j->end; q++) {
		unsigned char c = (unsigned char)*q;

		if (c == '"')
			break;
		if (c == '\\') {
			if (q + 1 >= j->end)
				break;
			q++;
			if (strchr("\"\\/bfnrtu", *q) == NULL || *q == '\0') {
				fail(j, q - 1, PR_JSON_ESYNTAX,
				    "invalid escape '\\%c'",
				    (unsigned char)*q >= 0x20 &&
				            (unsigned char)*q < 0x7f
				        ? *q
				        : '?');
				return -1;
			}
			esc = 1;
		} else if (c < 0x20) {
			fail(j, q, PR_JSON_ESYNTAX,
			    "control character 0x%02x in a string", c);
			return -1;
		} else if (c >= 0x80) {
			if ((n = pr_utf8_next((const uint8_t *)q,
			         (size_t)(j->end - q), &cp)) == 0) {
				fail(j, q, PR_JSON_ESYNTAX,
				    "invalid UTF-8 in a string");
				return -1;
			}
			q += n - 1;
		}
	}
	if (q >= j->end) {
		fail(j, j->p, PR_JSON_ESYNTAX, "unterminated string");
		return -1;
	}
	len = (size_t)(q - s);
	if (len > UINT32_MAX - 1) {
		fail(j, j->p, PR_JSON_ESYNTAX, "string too long");
		return -1;
	}
	if ((o = jalloc(j, len + 1)) == NULL)
		return -1;
	if (!esc) {
		memcpy(o, s, len);
		n = len;
	} else if (unescape(j, s, len, o, &n) != 0)
		return -1;
	o[n] = '\0';
	*out = o;
	*outlen = (uint32_t)n;
	j->p = q + 1;
	return 0;
}

static int
number(struct jp *j, struct pr_json *v)
{
	const char *s = j->p, *q = s, *r;
	char buf[NUMBER_MAX + 1], *e;
	uint64_t mag = 0, d;
	int neg = 0, real = 0;
	double x;

	if (q < j->end && *q == '-') {
		neg = 1;
		q++;
	}
	if (q >= j->end || *q < '0' || *q > '9')
		goto bad;
	if (*q == '0') {
		q++;
		if (q < j->end && *q >= '0' && *q <= '9')
			goto bad;
	} else
		while (q < j->end && *q >= '0' && *q <= '9')
			q++;
	if (q < j->end && *q == '.') {
		real = 1;
		if (++q >= j->end || *q < '0' || *q > '9')
			goto bad;
		while (q < j->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < j->end && (*q == 'e' || *q == 'E')) {
		real = 1;
		q++;
		if (q < j->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= j->end || *q < '0' || *q > '9')
			goto bad;
		while (q < j->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (!real) {
		for (r = s + neg; r < q; r++) {
			d = (uint64_t)(*r - '0');
			if (mag > (UINT64_MAX - d) / 10)
				goto range;
			mag = mag * 10 + d;
		}
		if (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > INT64_MAX)
			goto range;
		v->type = PR_JSON_INTEGER;
		v->u.i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
		j->p = q;
		return 0;
	}
	if ((size_t)(q - s) > NUMBER_MAX) {
		fail(j, s, PR_JSON_ESYNTAX, "number too long");
		return -1;
	}
	memcpy(buf, s, (size_t)(q - s));
	buf[q - s] = '\0';
	errno = 0;
	x = strtod(buf, &e);
	if (*e != '\0' || !isfinite(x)) {
		fail(j, s, PR_JSON_ESYNTAX, "real number overflow");
		return -1;
	}
	v->type = PR_JSON_REAL;
	v->u.d = x;
	j->p = q;
	return 0;
range:
	fail(
	    j, s, PR_JSON_ESYNTAX, "too big %sinteger", neg ? "negative " : "");
	return -1;
bad:
	fail(j, s, PR_JSON_ESYNTAX, "invalid number");
	return -1;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct pr_json *x = *(const struct pr_json *const *)a;
	const struct pr_json *y = *(const struct pr_json *const *)b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c;

	if ((c = memcmp(x->key, y->key, n)) != 0)
		return c;
	return x->klen < y->klen ? -1 : x->klen > y->klen;
}

/* The first duplicate key among m[0..n), or NULL. */
static const struct pr_json *
duplicate(struct jp *j, const struct pr_json *m, size_t n)
{
	const struct pr_json **idx, *dup = NULL;
	size_t a, b;

	if (n <= 16) {
		for (a = 1; a < n; a++)
			for (b = 0; b < a; b++)
				if (m[a].klen == m[b].klen &&
				    memcmp(m[a].key, m[b].key, m[a].klen) == 0)
					return &m[a];
		return NULL;
	}
	if ((idx = malloc(n * sizeof(*idx))) == NULL) {
		fail(j, j->p, PR_JSON_ENOMEM, "out of memory");
		return m; /* reported as out of memory */
	}
	for (a = 0; a < n; a++)
		idx[a] = &m[a];
	qsort(idx, n, sizeof(*idx), key_cmp);
	for (a = 1; a < n && dup == NULL; a++)
		if (key_cmp(&idx[a - 1], &idx[a]) == 0)
			dup = idx[a];
	free(idx);
	return dup;
}

static int value(struct jp *j, struct pr_json *v);

/* An array or object whose opening bracket is under j->p. */
static int
container(struct jp *j, struct pr_json *v)
{
	int obj = *j->p == '{';
	char close = obj ? '}' : ']';
	const char *open = j->p;
	const struct pr_json *dup;
	struct pr_json m;
	const char *key = NULL;
	uint32_t klen = 0;
	size_t base = j->nstk, n;

	if (++j->depth > j->maxdepth) {
		fail(j, j->p, PR_JSON_EDEPTH,
		    "objects and arrays nest at most %u deep", j->maxdepth);
		return -1;
	}
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == close)
		j->p++;
	else
		for (;;) {
			if (obj) {
				if (j->p >= j->end || *j->p != '"') {
					fail(j, j->p, PR_JSON_ESYNTAX,
					    "string or '}' expected");
					return -1;
				}
				if (string(j, &key, &klen) != 0)
					return -1;
				skip_ws(j);
				if (j->p >= j->end || *j->p != ':') {
					fail(j, j->p, PR_JSON_ESYNTAX,
					    "':' expected");
					return -1;
				}
				j->p++;
			}
			memset(&m, 0, sizeof(m));
			if (value(j, &m) != 0)
				return -1;
			m.key = key;
			m.klen = klen;
			if (push(j, &m) != 0)
				return -1;
			skip_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				skip_ws(j);
				continue;
			}
			if (j->p < j->end && *j->p == close) {
				j->p++;
				break;
			}
			fail(j, j->p, PR_JSON_ESYNTAX, "',' or '%c' expected",
			    close);
			return -1;
		}
	n = j->nstk - base;
	if (n > UINT32_MAX) {
		fail(j, open, PR_JSON_ESYNTAX, "too many members");
		return -1;
	}
	v->type = obj ? PR_JSON_OBJECT : PR_JSON_ARRAY;
	v->n = (uint32_t)n;
	v->u.v = NULL;
	if (n > 0) {
		if ((v->u.v = jalloc(j, n * sizeof(*v->u.v))) == NULL)
			return -1;
		memcpy(v->u.v, j->stk + base, n * sizeof(*v->u.v));
	}
	j->nstk = base;
	j->depth--;
	if (obj && (dup = duplicate(j, v->u.v, n)) != NULL) {
		fail(j, open, PR_JSON_EDUPLICATE,
		    "duplicate object key \"%.*s\"",
		    dup->klen > 40 ? 40 : (int)dup->klen, dup->key);
		return -1;
	}
	return 0;
}

static int
literal(struct jp *j, const char *word, enum pr_json_type t, struct pr_json *v)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) {
		fail(j, j->p, PR_JSON_ESYNTAX, "invalid token");
		return -1;
	}
	j->p += n;
	v->type = (uint8_t)t;
	return 0;
}

static int
value(struct jp *j, struct pr_json *v)
{
	const char *s;
	uint32_t n;

	skip_ws(j);
	if (j->p >= j->end) {
		fail(j, j->p, PR_JSON_ESYNTAX, "unexpected end of input");
		return -1;
	}
	switch (*j->p) {
	case '{':
	case '[':
		return container(j, v);
	case '"':
		if (string(j, &s, &n) != 0)
			return -1;
		v->type = PR_JSON_STRING;
		v->n = n;
		v->u.s = s;
		return 0;
	case 't':
		return literal(j, "true", PR_JSON_TRUE, v);
	case 'f':
		return literal(j, "false", PR_JSON_FALSE, v);
	case 'n':
		return literal(j, "null", PR_JSON_NULL, v);
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return number(j, v);
		fail(j, j->p, PR_JSON_ESYNTAX, "invalid token");
		return -1;
	}
}

struct pr_json *
pr_json_parse(const char *text, size_t len, unsigned maxdepth,
    pr_json_alloc_fn alloc, void *ctx, struct pr_json_error *err)
{
	struct jp j;
	struct pr_json *root = NULL;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	memset(&j, 0, offsetof(struct jp, stk0));
	j.start = j.p = text;
	j.end = text + len;
	j.maxdepth = maxdepth;
	j.alloc = alloc;
	j.ctx = ctx;
	j.err = err;
	j.stk = j.stk0;
	j.capstk = STACK0;
	skip_ws(&j);
	if (j.p >= j.end || (*j.p != '{' && *j.p != '[')) {
		fail(&j, j.p, PR_JSON_ESYNTAX, "'[' or '{' expected");
		goto out;
	}
	if ((root = jalloc(&j, sizeof(*root))) == NULL)
		goto out;
	memset(root, 0, sizeof(*root));
	if (container(&j, root) != 0) {
		root = NULL;
		goto out;
	}
	skip_ws(&j);
	if (j.p != j.end) {
		fail(&j, j.p, PR_JSON_ESYNTAX, "end of file expected");
		root = NULL;
	}
out:
	if (j.stk != j.stk0)
		free(j.stk);
	return root;
}

int
pr_json_quote(struct pr_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *run = s;
	char esc[6];
	size_t n;
	int rc = 0;

	if (pr_buf_append_byte(b, '"') != 0)
		return PR_ENOMEM;
	for (; *s != '\0' && rc == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if ((rc = pr_buf_append(b, run, (size_t)(s - run))) != 0)
			break;
		run = s + 1;
		esc[0] = '\\';
		n = 2;
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
			break;
		}
		rc = pr_buf_append(b, esc, n);
	}
	if (rc == 0)
		rc = pr_buf_append(b, run, (size_t)(s - run));
	if (rc == 0)
		rc = pr_buf_append_byte(b, '"');
	return rc != 0 ? PR_ENOMEM : 0;
}
