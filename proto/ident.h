/*
 * Identifiers of the event model: process ids (ocid), party identifiers
 * (Kazakhstan BIN and org-id.guide schemes), item classification codes
 * (ATC, GTIN, GMDN, KTRU) and UN/CEFACT unit codes.
 *
 * The *_check functions return NULL when the input is valid, or a static
 * sentence saying what was expected, suitable for an error message.
 * Inputs are byte ranges; none needs to be NUL-terminated.
 */
#ifndef PR_IDENT_H
#define PR_IDENT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * ocid = "ocds-" prefix6 "-" local
 *   prefix6: 6 characters [a-z0-9] (the publisher's registered OCDS prefix)
 *   local:   1 to 100 characters [A-Za-z0-9._-]
 */
#define PR_OCID_MAX 112
const char *pr_ocid_check(const char *s, size_t len);

/*
 * Party identifier = CC "-" SCHEME "-" ID, as in org-id.guide:
 *   CC:     ISO 3166-1 alpha-2 code, or XI / XM (org-id.guide's codes
 *           for international and multilateral registers)
 *   SCHEME: 2 to 16 characters [A-Z0-9]
 *   ID:     1 to 64 characters [A-Za-z0-9._-]
 * "KZ-BIN-" must be followed by exactly 12 digits with a valid check
 * digit (pr_bin_valid).  At most PR_PARTY_ID_MAX bytes in all.
 */
#define PR_PARTY_ID_MAX 96
#define PR_BIN_PREFIX "KZ-BIN-"
const char *pr_party_id_check(const char *s, size_t len);
/* True if s starts with "KZ-BIN-" (so a failure is a BIN failure). */
bool pr_party_id_is_bin(const char *s, size_t len);

/* True for an ISO 3166-1 alpha-2 code (upper case) or XI / XM. */
bool pr_country_valid(const char *cc, size_t len);

/*
 * Kazakhstan BIN / IIN check digit of the first 11 digits: weights 1..11
 * mod 11; if that gives 10, weights 3..11,1,2 mod 11; if that also gives
 * 10 the number cannot be valid and -1 is returned.
 */
int pr_bin_check_digit(const char *d11);
/* Exactly 12 ASCII digits whose last is the check digit of the rest. */
bool pr_bin_valid(const char *s, size_t len);

/* GTIN-8, -12, -13 or -14 with a valid GS1 mod-10 check digit. */
bool pr_gtin_valid(const char *s, size_t len);

/*
 * WHO ATC code at any level: A (1), A10 (2), A10B (3), A10BA (4) or
 * A10BA02 (5); the first letter is one of the 14 anatomical main groups
 * A B C D G H J L M N P R S V; letters upper case.
 */
bool pr_atc_valid(const char *s, size_t len);

/* GMDN term code: 5 or 6 digits, no leading zero. */
bool pr_gmdn_valid(const char *s, size_t len);

/*
 * Kazakhstan KTRU (ex-ENS TRU) code: 6 digits (the KPVED product class),
 * '.', 3 digits, '.', 6 digits, as "210230.400.000097".
 */
bool pr_ktru_valid(const char *s, size_t len);

/* UN/CEFACT Recommendation 20 unit code shape: 2 or 3 of [A-Z0-9]. */
bool pr_unit_code_valid(const char *s, size_t len);

#endif
