/*
 * Identifiers of the event model: see ident.h.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "proto/ident.h"

/* ISO 3166-1 alpha-2 codes (iso-codes 4.x), sorted, two letters each. */
static const char countries[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBV"
    "BWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERES"
    "ETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIE"
    "ILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLY"
    "MAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNU"
    "NZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSM"
    "SNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVE"
    "VGVIVNVUWFWSYEYTZAZMZW";

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool
all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

/* [A-Za-z0-9._-] */
static bool
is_idchar(char c)
{
	return is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z') ||
	    c == '.' || c == '_' || c == '-';
}

bool
pr_country_valid(const char *cc, size_t len)
{
	size_t lo = 0, hi = (sizeof(countries) - 1) / 2, mid;
	int c;

	if (len != 2 || !is_upper(cc[0]) || !is_upper(cc[1]))
		return false;
	if (cc[0] == 'X' && (cc[1] == 'I' || cc[1] == 'M'))
		return true;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(cc, countries + 2 * mid, 2);
		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

const char *
pr_ocid_check(const char *s, size_t len)
{
	size_t i;

	if (len < 13 || memcmp(s, "ocds-", 5) != 0)
		return "an ocid starts with \"ocds-\", a 6-character prefix, "
		       "'-' and the process identifier";
	for (i = 5; i < 11; i++)
		if (!is_digit(s[i]) && !(s[i] >= 'a' && s[i] <= 'z'))
			return "the ocid prefix after \"ocds-\" is 6 "
			       "characters "
			       "[a-z0-9]";
	if (s[11] != '-')
		return "the 6-character ocid prefix is followed by '-'";
	if (len > PR_OCID_MAX)
		return "the process identifier after the ocid prefix is at "
		       "most 100 characters";
	for (i = 12; i < len; i++)
		if (!is_idchar(s[i]))
			return "the process identifier after the ocid prefix "
			       "uses only [A-Za-z0-9._-]";
	return NULL;
}

int
pr_bin_check_digit(const char *d11)
{
	static const int w2[11] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2};
	int i, s = 0;

	for (i = 0; i < 11; i++) {
		if (!is_digit(d11[i]))
			return -1;
		s += (i + 1) * (d11[i] - '0');
	}
	s %= 11;
	if (s != 10)
		return s;
	s = 0;
	for (i = 0; i < 11; i++)
		s += w2[i] * (d11[i] - '0');
	s %= 11;
	return s == 10 ? -1 : s;
}

bool
pr_bin_valid(const char *s, size_t len)
{
	int c;

	if (len != 12 || !all_digits(s, 12))
		return false;
	c = pr_bin_check_digit(s);
	return c >= 0 && c == s[11] - '0';
}

bool
pr_party_id_is_bin(const char *s, size_t len)
{
	size_t n = sizeof(PR_BIN_PREFIX) - 1;

	return len >= n && memcmp(s, PR_BIN_PREFIX, n) == 0;
}

const char *
pr_party_id_check(const char *s, size_t len)
{
	size_t i, j, n = sizeof(PR_BIN_PREFIX) - 1;

	if (pr_party_id_is_bin(s, len)) {
		if (len != n + 12 || !all_digits(s + n, 12))
			return "a BIN is \"KZ-BIN-\" and 12 digits";
		if (!pr_bin_valid(s + n, 12))
			return "the BIN's check digit is wrong";
		return NULL;
	}
	if (len > PR_PARTY_ID_MAX)
		return "a party identifier is at most 96 bytes";
	if (len < 3 || s[2] != '-' || !pr_country_valid(s, 2))
		return "a party identifier starts with an ISO 3166-1 alpha-2 "
		       "country code and '-', as \"KZ-BIN-...\"";
	for (i = 3; i < len && s[i] != '-'; i++)
		if (!is_digit(s[i]) && !is_upper(s[i]))
			return "the identifier scheme (\"BIN\" in \"KZ-BIN-\") "
			       "uses only [A-Z0-9]";
	if (i - 3 < 2 || i - 3 > 16 || i == len)
		return "a party identifier is \"<country>-<SCHEME>-<id>\" with "
		       "a 2 to 16 character scheme";
	if (len - i - 1 < 1 || len - i - 1 > 64)
		return "the registered identifier after the scheme is 1 to 64 "
		       "characters";
	for (j = i + 1; j < len; j++)
		if (!is_idchar(s[j]))
			return "the registered identifier uses only "
			       "[A-Za-z0-9._-]";
	return NULL;
}

bool
pr_gtin_valid(const char *s, size_t len)
{
	size_t i;
	int sum = 0, w = 3;

	if (len != 8 && len != 12 && len != 13 && len != 14)
		return false;
	if (!all_digits(s, len))
		return false;
	/* From the digit left of the check digit leftwards: 3, 1, 3, ... */
	for (i = len - 1; i > 0; i--) {
		sum += w * (s[i - 1] - '0');
		w = 4 - w;
	}
	return (10 - sum % 10) % 10 == s[len - 1] - '0';
}

bool
pr_atc_valid(const char *s, size_t len)
{
	if (len != 1 && len != 3 && len != 4 && len != 5 && len != 7)
		return false;
	if (strchr("ABCDGHJLMNPRSV", s[0]) == NULL || s[0] == '\0')
		return false;
	if (len >= 3 && (!is_digit(s[1]) || !is_digit(s[2])))
		return false;
	if (len >= 4 && !is_upper(s[3]))
		return false;
	if (len >= 5 && !is_upper(s[4]))
		return false;
	if (len == 7 && (!is_digit(s[5]) || !is_digit(s[6])))
		return false;
	return true;
}

bool
pr_gmdn_valid(const char *s, size_t len)
{
	return (len == 5 || len == 6) && s[0] != '0' && all_digits(s, len);
}

bool
pr_ktru_valid(const char *s, size_t len)
{
	return len == 17 && all_digits(s, 6) && s[6] == '.' &&
	    all_digits(s + 7, 3) && s[10] == '.' && all_digits(s + 11, 6);
}

bool
pr_unit_code_valid(const char *s, size_t len)
{
	size_t i;

	if (len != 2 && len != 3)
		return false;
	for (i = 0; i < len; i++)
		if (!is_digit(s[i]) && !is_upper(s[i]))
			return false;
	return true;
}
