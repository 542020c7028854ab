/*
 * Exact decimal money and quantities.
 *
 * Amounts travel as decimal strings ("12345.67") and are held as int64
 * counts of the currency's minor unit (tiyn for KZT, cents for USD, yen
 * for JPY).  Quantities are held as int64 thousandths.  No binary floating
 * point is used anywhere: parsing, sums and unit price x quantity products
 * are exact integer arithmetic with overflow checks.
 *
 * Canonical decimal grammar (for amounts and string quantities):
 *
 *	decimal = int [ "." 1*DIGIT ]
 *	int     = "0" / ( %x31-39 *DIGIT )
 *
 * so no sign, no exponent, no leading zeros ("01"), no bare "." (".5",
 * "5."), no spaces.  A value with more fraction digits than the scale
 * allows is refused even if the extra digits are zeros ("1.000" KZT).
 */
#ifndef PR_MONEY_H
#define PR_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* Quantities: int64 thousandths (three decimal places). */
#define PR_QTY_DECIMALS 3
#define PR_QTY_SCALE 1000

/* Longest formatted amount: 19 digits, a point, a sign and a NUL. */
#define PR_DECIMAL_STRLEN 24

struct pr_currency {
	char code[4]; /* ISO 4217 alphabetic code, NUL-terminated */
	unsigned exponent; /* minor unit digits: 2 for KZT, 0 for JPY */
};

struct pr_money {
	int64_t amount; /* minor units, >= 0 */
	char currency[4]; /* ISO 4217 code, NUL-terminated */
	unsigned exponent;
};

/* The table entry for an ISO 4217 code of len bytes, or NULL if unknown. */
const struct pr_currency *pr_currency_find(const char *code, size_t len);

/* Number of currencies known and the i-th (sorted by code), for docs. */
size_t pr_currency_count(void);
const struct pr_currency *pr_currency_at(size_t i);

/*
 * Parse the canonical decimal s[0..len) scaled by 10^scale into *out.
 * Returns 0, PR_EFORMAT if s is not a canonical decimal, PR_ETRUNC if it
 * has more than scale fraction digits, or PR_ERANGE if the scaled value
 * exceeds INT64_MAX.  *out is written only on success.
 */
int pr_decimal_parse(const char *s, size_t len, unsigned scale, int64_t *out);

/*
 * Write v / 10^scale as a canonical decimal with exactly scale fraction
 * digits ("1250", 2 -> "12.50") into buf (at least PR_DECIMAL_STRLEN
 * bytes).  Negative values get a leading '-'.  Returns the length.
 */
size_t pr_decimal_format(int64_t v, unsigned scale, char *buf, size_t size);

/* *out = a + b; PR_ERANGE on int64 overflow (out untouched). */
int pr_money_add(int64_t a, int64_t b, int64_t *out);

/*
 * Line total of a unit price (minor units, >= 0) times a quantity
 * (thousandths, >= 0), rounded half up to a whole minor unit.  Exact for
 * every pair whose result fits; PR_ERANGE otherwise, PR_EINVAL for
 * negative inputs.
 */
int pr_money_mul_qty(int64_t price, int64_t qty_milli, int64_t *out);

#endif
