/* Unit tests: proto/ident.c (ocid, party ids, BIN, GTIN, ATC, codes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/ident.h"

#define S(s) (s), strlen(s)

/*
 * BIN vectors in the real format (YYMM, entity type, division, serial,
 * check digit), computed for this test; none is a real organization's.
 */
static void
test_bin_valid(void **state)
{
	static const char *const good[] = {
	    "090640001233", /* weights 1..11 */
	    "120340005670",
	    "151140002468",
	    "160740000214",
	    "051240003588",
	    "191040009875",
	    "130440000001", /* first pass gives 10: weights 3..11,1,2 */
	    "130440000013",
	    "130440000025",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!pr_bin_valid(S(good[i])))
			fail_msg("%s should be valid", good[i]);
		assert_int_equal(
		    pr_bin_check_digit(good[i]), good[i][11] - '0');
	}
}

static void
test_bin_invalid(void **state)
{
	static const char *const bad[] = {
	    "090640001234", /* wrong check digit */
	    "090640001230",
	    "130440000002",
	    "130440001900", /* both passes give 10: no digit is valid */
	    "130440001901",
	    "130440001909",
	    "09064000123", /* 11 digits */
	    "0906400012330", /* 13 digits */
	    "09064000123a",
	    "",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pr_bin_valid(S(bad[i])))
			fail_msg("%s should be invalid", bad[i]);
	assert_int_equal(pr_bin_check_digit("13044000190"), -1);
	assert_int_equal(pr_bin_check_digit("13044000271"), -1);
	assert_int_equal(pr_bin_check_digit("1304400019x"), -1);
	/* Length is checked on the byte range, not at a NUL. */
	assert_false(pr_bin_valid("0906400012334", 13));
	assert_true(pr_bin_valid("0906400012334", 12));
}

static void
test_party_ids(void **state)
{
	(void)state;
	assert_null(pr_party_id_check(S("KZ-BIN-090640001233")));
	assert_null(pr_party_id_check(S("RU-INN-7707083893")));
	assert_null(pr_party_id_check(S("XI-LEI-5493001KJTIIGC8Y1R12")));
	assert_null(pr_party_id_check(S("GB-COH-01234567")));
	assert_null(pr_party_id_check(S("KG-INN-02504200010178")));
	assert_true(pr_party_id_is_bin(S("KZ-BIN-1")));
	assert_false(pr_party_id_is_bin(S("KZ-BI")));
	assert_non_null(pr_party_id_check(S("KZ-BIN-090640001234")));
	assert_non_null(pr_party_id_check(S("KZ-BIN-0906400012330")));
	assert_non_null(pr_party_id_check(S("QQ-ABC-1"))); /* no country */
	assert_non_null(pr_party_id_check(S("kz-BIN-1")));
	assert_non_null(pr_party_id_check(S("KZ-B-1"))); /* scheme < 2 */
	assert_non_null(pr_party_id_check(S("KZ-Bin-1")));
	assert_non_null(pr_party_id_check(S("KZ-IIN-"))); /* empty id */
	assert_non_null(pr_party_id_check(S("KZ-IIN-a b"))); /* space */
	assert_non_null(pr_party_id_check(S("KZ-IIN-a/b")));
	assert_non_null(pr_party_id_check(S("KZ")));
	assert_non_null(pr_party_id_check(S("")));
	assert_non_null(
	    pr_party_id_check(S("KZ-ABCDEFGHIJKLMNOPQ-1"))); /* scheme > 16 */
	assert_true(pr_country_valid(S("KZ")));
	assert_true(pr_country_valid(S("AD")));
	assert_true(pr_country_valid(S("ZW")));
	assert_true(pr_country_valid(S("XM")));
	assert_false(pr_country_valid(S("XX")));
	assert_false(pr_country_valid(S("UK"))); /* GB is the code */
	assert_false(pr_country_valid(S("kz")));
}

static void
test_ocid(void **state)
{
	(void)state;
	assert_null(pr_ocid_check(S("ocds-pr0kz1-2025-MED-0001")));
	assert_null(pr_ocid_check(S("ocds-213czf-000-00001")));
	assert_null(pr_ocid_check(S("ocds-abcdef-a")));
	assert_non_null(pr_ocid_check(S("ocds-abcdef-")));
	assert_non_null(pr_ocid_check(S("ocds-abcde-1")));
	assert_non_null(pr_ocid_check(S("ocds-ABCDEF-1")));
	assert_non_null(pr_ocid_check(S("OCDS-abcdef-1")));
	assert_non_null(pr_ocid_check(S("ocds-abcdef_1")));
	assert_non_null(pr_ocid_check(S("ocds-abcdef-a/b")));
	assert_non_null(pr_ocid_check(S("ocds-abcdef-a b")));
	assert_non_null(pr_ocid_check(S("")));
}

static void
test_gtin(void **state)
{
	static const char *const good[] = {
	    "96385074", /* GTIN-8 */
	    "48701235", /* GTIN-8 */
	    "036000291452", /* GTIN-12 (UPC-A) */
	    "4006381333931", /* GTIN-13 */
	    "4870123450015", /* GTIN-13 */
	    "04870123456789", /* GTIN-14 */
	    "04601234567893", /* GTIN-14 */
	};
	static const char *const bad[] = {
	    "96385075", /* check digit */
	    "036000291453", /* check digit */
	    "4006381333932", /* check digit */
	    "04870123456788", /* check digit */
	    "4870123450", /* 10 digits */
	    "487012345001", /* a 12-digit number with a wrong check */
	    "04870123456789 ", /* trailing space */
	    "0487012345678X",
	    "",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!pr_gtin_valid(S(good[i])))
			fail_msg("%s should be valid", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pr_gtin_valid(S(bad[i])))
			fail_msg("%s should be invalid", bad[i]);
}

static void
test_atc(void **state)
{
	static const char *const good[] = {"J01CA04", "A10AE04", "A10BA02",
	    "B01AB05", "J", "J01", "J01C", "J01CA", "V03AB", "S01"};
	static const char *const bad[] = {"j01ca04", "J1CA04", "E01AA01",
	    "J01CA0", "J01CA045", "J01C4", "J0", "J01c", "Q01AA01", "J01CA0A",
	    ""};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!pr_atc_valid(S(good[i])))
			fail_msg("%s should be valid", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pr_atc_valid(S(bad[i])))
			fail_msg("%s should be invalid", bad[i]);
}

static void
test_other_codes(void **state)
{
	(void)state;
	assert_true(pr_gmdn_valid(S("35177")));
	assert_true(pr_gmdn_valid(S("123456")));
	assert_false(pr_gmdn_valid(S("01234")));
	assert_false(pr_gmdn_valid(S("1234")));
	assert_false(pr_gmdn_valid(S("1234567")));
	assert_false(pr_gmdn_valid(S("3517a")));
	assert_true(pr_ktru_valid(S("210230.400.000097")));
	assert_false(pr_ktru_valid(S("210230.400.00009")));
	assert_false(pr_ktru_valid(S("210230-400-000097")));
	assert_false(pr_ktru_valid(S("21023.4000.000097")));
	assert_false(pr_ktru_valid(S("210230.400.000097.1")));
	assert_true(pr_unit_code_valid(S("H87")));
	assert_true(pr_unit_code_valid(S("EA")));
	assert_true(pr_unit_code_valid(S("MGM")));
	assert_true(pr_unit_code_valid(S("C62")));
	assert_false(pr_unit_code_valid(S("ea")));
	assert_false(pr_unit_code_valid(S("E")));
	assert_false(pr_unit_code_valid(S("PIECE")));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bin_valid),
	    cmocka_unit_test(test_bin_invalid),
	    cmocka_unit_test(test_party_ids),
	    cmocka_unit_test(test_ocid),
	    cmocka_unit_test(test_gtin),
	    cmocka_unit_test(test_atc),
	    cmocka_unit_test(test_other_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
