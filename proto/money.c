/*
 * Exact decimal money and quantities: see money.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "proto/err.h"
#include "proto/money.h"

/*
 * ISO 4217 codes with their minor-unit exponents, sorted by code for
 * binary search.  Currencies a Central Asian health buyer meets, plus the
 * zero- and three-decimal currencies that exercise the exponent.
 */
static const struct pr_currency currencies[] = {
    {"AED", 2},
    {"AMD", 2},
    {"AUD", 2},
    {"AZN", 2},
    {"BHD", 3},
    {"BYN", 2},
    {"CAD", 2},
    {"CHF", 2},
    {"CLP", 0},
    {"CNY", 2},
    {"CZK", 2},
    {"DKK", 2},
    {"EUR", 2},
    {"GBP", 2},
    {"GEL", 2},
    {"HKD", 2},
    {"HUF", 2},
    {"IDR", 2},
    {"ILS", 2},
    {"INR", 2},
    {"IQD", 3},
    {"IRR", 2},
    {"ISK", 0},
    {"JOD", 3},
    {"JPY", 0},
    {"KGS", 2},
    {"KRW", 0},
    {"KWD", 3},
    {"KZT", 2},
    {"LYD", 3},
    {"MDL", 2},
    {"MNT", 2},
    {"NOK", 2},
    {"NZD", 2},
    {"OMR", 3},
    {"PKR", 2},
    {"PLN", 2},
    {"QAR", 2},
    {"RON", 2},
    {"RSD", 2},
    {"RUB", 2},
    {"SAR", 2},
    {"SEK", 2},
    {"SGD", 2},
    {"TJS", 2},
    {"TMT", 2},
    {"TND", 3},
    {"TRY", 2},
    {"UAH", 2},
    {"USD", 2},
    {"UZS", 2},
    {"VND", 0},
    {"XAF", 0},
    {"XOF", 0},
    {"ZAR", 2},
};

#define NCURRENCIES (sizeof(currencies) / sizeof(currencies[0]))

const struct pr_currency *
pr_currency_find(const char *code, size_t len)
{
	size_t lo = 0, hi = NCURRENCIES, mid;
	int c;

	if (len != 3)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(code, currencies[mid].code, 3);
		if (c == 0)
			return &currencies[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t
pr_currency_count(void)
{
	return NCURRENCIES;
}

const struct pr_currency *
pr_currency_at(size_t i)
{
	return i < NCURRENCIES ? &currencies[i] : NULL;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
pr_decimal_parse(const char *s, size_t len, unsigned scale, int64_t *out)
{
	size_t i = 0, intlen, fraclen = 0;
	uint64_t v = 0, lim = INT64_MAX;
	unsigned k;

	if (len == 0 || !is_digit(s[0]))
		return PR_EFORMAT;
	while (i < len && is_digit(s[i]))
		i++;
	intlen = i;
	if (intlen > 1 && s[0] == '0')
		return PR_EFORMAT;
	if (i < len) {
		if (s[i] != '.')
			return PR_EFORMAT;
		i++;
		while (i < len && is_digit(s[i]))
			i++;
		fraclen = i - intlen - 1;
		if (fraclen == 0 || i != len)
			return PR_EFORMAT;
	}
	if (fraclen > scale)
		return PR_ETRUNC;
	/* Accumulate every digit, then pad with zeros up to scale. */
	for (i = 0; i < len; i++) {
		if (s[i] == '.')
			continue;
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return PR_ERANGE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	for (k = (unsigned)fraclen; k < scale; k++) {
		if (v > lim / 10)
			return PR_ERANGE;
		v *= 10;
	}
	*out = (int64_t)v;
	return 0;
}

size_t
pr_decimal_format(int64_t v, unsigned scale, char *buf, size_t size)
{
	char tmp[PR_DECIMAL_STRLEN];
	uint64_t u;
	size_t n = 0, i, len;
	bool neg = v < 0;

	if (size == 0)
		return 0;
	if (scale > 18)
		scale = 18;
	u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	/* Digits in reverse, at least scale + 1 of them. */
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0 || n < scale + 1);
	len = 0;
	if (neg && len + 1 < size)
		buf[len++] = '-';
	for (i = n; i > 0; i--) {
		if (i == scale && scale > 0 && len + 1 < size)
			buf[len++] = '.';
		if (len + 1 < size)
			buf[len++] = tmp[i - 1];
	}
	buf[len] = '\0';
	return len;
}

int
pr_money_add(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return PR_ERANGE;
	*out = r;
	return 0;
}

int
pr_money_mul_qty(int64_t price, int64_t qty_milli, int64_t *out)
{
	int64_t qi, qf, ph, pl, whole, part, r;

	if (price < 0 || qty_milli < 0)
		return PR_EINVAL;
	/* price * (qi + qf / 1000) with price = ph * 1000 + pl. */
	qi = qty_milli / PR_QTY_SCALE;
	qf = qty_milli % PR_QTY_SCALE;
	ph = price / PR_QTY_SCALE;
	pl = price % PR_QTY_SCALE;
	if (__builtin_mul_overflow(qi, price, &whole) ||
	    __builtin_mul_overflow(qf, ph, &part) ||
	    __builtin_add_overflow(whole, part, &r) ||
	    __builtin_add_overflow(
	        r, (qf * pl + PR_QTY_SCALE / 2) / PR_QTY_SCALE, &r))
		return PR_ERANGE;
	*out = r;
	return 0;
}
