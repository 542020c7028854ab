/* Unit tests: proto/money.c (exact decimals, currencies, products). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/err.h"
#include "proto/money.h"

static int
dec(const char *s, unsigned scale, int64_t *v)
{
	return pr_decimal_parse(s, strlen(s), scale, v);
}

static void
test_decimal_parse(void **state)
{
	static const struct {
		const char *s;
		unsigned scale;
		int rc;
		int64_t v;
	} t[] = {
	    {"0", 2, 0, 0},
	    {"0.10", 2, 0, 10},
	    {"12345.67", 2, 0, 1234567},
	    {"12", 2, 0, 1200},
	    {"12.5", 2, 0, 1250},
	    {"1.234", 3, 0, 1234}, /* KWD */
	    {"1500", 0, 0, 1500}, /* JPY */
	    {"9223372036854775807", 0, 0, INT64_MAX},
	    {"92233720368547758.07", 2, 0, INT64_MAX},
	    {"9223372036854775.807", 3, 0, INT64_MAX},
	    {"9223372036854775808", 0, PR_ERANGE, 0}, /* one past */
	    {"92233720368547758.08", 2, PR_ERANGE, 0},
	    {"92233720368547759", 2, PR_ERANGE, 0},
	    {"99999999999999999999999", 0, PR_ERANGE, 0},
	    {"0.001", 2, PR_ETRUNC, 0}, /* KZT has 2 decimals */
	    {"1.000", 2, PR_ETRUNC, 0}, /* even when the digit is 0 */
	    {"1.5", 0, PR_ETRUNC, 0}, /* JPY */
	    {"-1", 2, PR_EFORMAT, 0},
	    {"-0", 2, PR_EFORMAT, 0},
	    {"+1", 2, PR_EFORMAT, 0},
	    {"1e3", 2, PR_EFORMAT, 0},
	    {"1E3", 2, PR_EFORMAT, 0},
	    {"01.0", 2, PR_EFORMAT, 0},
	    {"00", 2, PR_EFORMAT, 0},
	    {"1.", 2, PR_EFORMAT, 0},
	    {".5", 2, PR_EFORMAT, 0},
	    {"1..5", 2, PR_EFORMAT, 0},
	    {" 1", 2, PR_EFORMAT, 0},
	    {"1 ", 2, PR_EFORMAT, 0},
	    {"1,5", 2, PR_EFORMAT, 0},
	    {"0x10", 2, PR_EFORMAT, 0},
	    {"", 2, PR_EFORMAT, 0},
	    {"NaN", 2, PR_EFORMAT, 0},
	};
	size_t i;
	int64_t v;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = -42;
		rc = dec(t[i].s, t[i].scale, &v);
		if (rc != t[i].rc)
			fail_msg("\"%s\" scale %u: rc %d, want %d", t[i].s,
			    t[i].scale, rc, t[i].rc);
		assert_int_equal(v, rc == 0 ? t[i].v : -42);
	}
	/* The range is honoured, not the NUL. */
	assert_int_equal(pr_decimal_parse("12.345", 4, 2, &v), 0); /* "12.3" */
	assert_int_equal(v, 1230);
}

static void
test_decimal_format(void **state)
{
	char buf[PR_DECIMAL_STRLEN];

	(void)state;
	pr_decimal_format(1250, 2, buf, sizeof(buf));
	assert_string_equal(buf, "12.50");
	pr_decimal_format(5, 2, buf, sizeof(buf));
	assert_string_equal(buf, "0.05");
	pr_decimal_format(0, 2, buf, sizeof(buf));
	assert_string_equal(buf, "0.00");
	pr_decimal_format(0, 0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	pr_decimal_format(1234, 3, buf, sizeof(buf));
	assert_string_equal(buf, "1.234");
	pr_decimal_format(INT64_MAX, 2, buf, sizeof(buf));
	assert_string_equal(buf, "92233720368547758.07");
	pr_decimal_format(-5, 2, buf, sizeof(buf));
	assert_string_equal(buf, "-0.05");
	pr_decimal_format(INT64_MIN, 0, buf, sizeof(buf));
	assert_string_equal(buf, "-9223372036854775808");
	assert_int_equal(pr_decimal_format(123456, 2, buf, 5), 4);
	assert_string_equal(buf, "1234");
}

static void
test_currencies(void **state)
{
	const struct pr_currency *c;
	size_t i;

	(void)state;
	c = pr_currency_find("KZT", 3);
	assert_non_null(c);
	assert_int_equal(c->exponent, 2);
	assert_int_equal(pr_currency_find("JPY", 3)->exponent, 0);
	assert_int_equal(pr_currency_find("KWD", 3)->exponent, 3);
	assert_int_equal(pr_currency_find("RUB", 3)->exponent, 2);
	assert_int_equal(pr_currency_find("UZS", 3)->exponent, 2);
	assert_int_equal(pr_currency_find("KGS", 3)->exponent, 2);
	assert_int_equal(pr_currency_find("CNY", 3)->exponent, 2);
	assert_null(pr_currency_find("kzt", 3));
	assert_null(pr_currency_find("ABC", 3));
	assert_null(pr_currency_find("KZ", 2));
	assert_null(pr_currency_find("KZTT", 4));
	/* Sorted, so binary search finds every entry. */
	for (i = 0; i < pr_currency_count(); i++) {
		c = pr_currency_at(i);
		assert_ptr_equal(pr_currency_find(c->code, 3), c);
		if (i > 0)
			assert_true(
			    strcmp(pr_currency_at(i - 1)->code, c->code) < 0);
	}
	assert_null(pr_currency_at(pr_currency_count()));
}

static void
test_mul_qty(void **state)
{
	int64_t v = -1;

	(void)state;
	/* 27.50 x 2.5 = 68.75 */
	assert_int_equal(pr_money_mul_qty(2750, 2500, &v), 0);
	assert_int_equal(v, 6875);
	/* 2390.00 KZT x 250000 */
	assert_int_equal(pr_money_mul_qty(239000, 250000000LL, &v), 0);
	assert_int_equal(v, 59750000000LL);
	/* Half a tiyn rounds up, less than half rounds down. */
	assert_int_equal(pr_money_mul_qty(1, 500, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(pr_money_mul_qty(1, 499, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(pr_money_mul_qty(3, 1500, &v), 0); /* 4.5 */
	assert_int_equal(v, 5);
	assert_int_equal(pr_money_mul_qty(0, 1000, &v), 0);
	assert_int_equal(v, 0);
	/* Exact at the top of the range. */
	assert_int_equal(pr_money_mul_qty(INT64_MAX, 1000, &v), 0);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(pr_money_mul_qty(9000000000000000LL, 999, &v), 0);
	assert_int_equal(v, 8991000000000000LL);
	/* A product that only fits after dividing by 1000. */
	assert_int_equal(
	    pr_money_mul_qty(10000000000LL, 900000000000LL, &v), 0);
	assert_int_equal(v, 9000000000000000000LL);
	v = 7;
	assert_int_equal(pr_money_mul_qty(INT64_MAX, 1001, &v), PR_ERANGE);
	assert_int_equal(
	    pr_money_mul_qty(10000000000000000LL, 1000000000000LL, &v),
	    PR_ERANGE);
	assert_int_equal(pr_money_mul_qty(-1, 1000, &v), PR_EINVAL);
	assert_int_equal(pr_money_mul_qty(1, -1000, &v), PR_EINVAL);
	assert_int_equal(v, 7);
}

static void
test_add(void **state)
{
	int64_t v = 3;

	(void)state;
	assert_int_equal(pr_money_add(INT64_MAX - 1, 1, &v), 0);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(pr_money_add(INT64_MAX, 1, &v), PR_ERANGE);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(pr_money_add(INT64_MIN, -1, &v), PR_ERANGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decimal_parse),
	    cmocka_unit_test(test_decimal_format),
	    cmocka_unit_test(test_currencies),
	    cmocka_unit_test(test_mul_qty),
	    cmocka_unit_test(test_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
