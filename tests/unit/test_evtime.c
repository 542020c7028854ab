/* Unit tests: proto/evtime.c (RFC 3339 UTC date-times). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/err.h"
#include "proto/evtime.h"

static int
parse(const char *s, int64_t *ms)
{
	return pr_time_parse(s, strlen(s), ms, NULL);
}

static void
test_good(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} t[] = {
	    {"1970-01-01T00:00:00Z", 0},
	    {"2025-03-05T05:00:00Z", 1741150800000LL},
	    {"2024-02-29T12:34:56Z", 1709210096000LL}, /* leap day */
	    {"2000-02-29T00:00:00Z", 951782400000LL}, /* 400-year leap */
	    {"2025-03-05T05:00:00.5Z", 1741150800500LL},
	    {"2025-03-05T05:00:00.123Z", 1741150800123LL},
	    {"2025-03-05T05:00:00.123456789Z", 1741150800123LL},
	    {"2025-12-31T23:59:59.999Z", 1767225599999LL},
	    {"9999-12-31T23:59:59Z", 253402300799000LL},
	};
	size_t i;
	int64_t ms;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ms = -1;
		if (parse(t[i].s, &ms) != 0)
			fail_msg("%s refused", t[i].s);
		assert_int_equal(ms, t[i].ms);
	}
}

static void
test_bad(void **state)
{
	static const char *const bad[] = {
	    "2025-02-29T00:00:00Z", /* not a leap year */
	    "2100-02-29T00:00:00Z", /* century, not a leap year */
	    "2025-04-31T00:00:00Z",
	    "2025-13-01T00:00:00Z",
	    "2025-00-01T00:00:00Z",
	    "2025-01-00T00:00:00Z",
	    "2025-03-05T24:00:00Z", /* 24:00 refused */
	    "2025-03-05T23:60:00Z",
	    "2016-12-31T23:59:60Z", /* leap second refused */
	    "2025-03-05T05:00:00+00:00",
	    "2025-03-05T10:00:00+05:00",
	    "2025-03-05T00:00:00-05:00",
	    "2025-03-05T05:00:00z",
	    "2025-03-05t05:00:00Z",
	    "2025-03-05 05:00:00Z",
	    "2025-03-05T05:00:00",
	    "2025-03-05T05:00Z",
	    "2025-03-05",
	    "2025-03-05T05:00:00.Z",
	    "2025-03-05T05:00:00.1234567891Z", /* 10 fraction digits */
	    "2025-03-05T05:00:00,5Z",
	    "2025-3-05T05:00:00Z",
	    "1969-12-31T23:59:59Z",
	    "+2025-03-05T05:00:00Z",
	    "2025-03-05T05:00:00ZZ",
	    "",
	};
	size_t i;
	const char *why = NULL;
	int64_t ms = 77;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (pr_time_parse(bad[i], strlen(bad[i]), &ms, &why) !=
		    PR_EFORMAT)
			fail_msg("%s accepted", bad[i]);
		assert_non_null(why);
		assert_int_equal(ms, 77);
	}
	/* The byte range is honoured: no reading up to a NUL. */
	assert_int_equal(
	    pr_time_parse("2025-03-05T05:00:00Zjunk", 20, &ms, NULL), 0);
}

static void
test_format(void **state)
{
	char buf[PR_TIME_STRLEN];
	int64_t ms, back;

	(void)state;
	assert_int_equal(pr_time_format(0, buf), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	assert_int_equal(pr_time_format(1709210096000LL, buf), 0);
	assert_string_equal(buf, "2024-02-29T12:34:56Z");
	assert_int_equal(pr_time_format(1741150800005LL, buf), 0);
	assert_string_equal(buf, "2025-03-05T05:00:00.005Z");
	assert_int_equal(pr_time_format(-1, buf), PR_ERANGE);
	assert_int_equal(pr_time_format(253402300800000LL, buf), PR_ERANGE);
	/* Round trip over 400 years in irregular steps. */
	for (ms = 0; ms < 253402300799000LL; ms += 86399999937LL) {
		assert_int_equal(pr_time_format(ms, buf), 0);
		assert_int_equal(parse(buf, &back), 0);
		assert_int_equal(back, ms);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
