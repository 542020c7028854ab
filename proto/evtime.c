/*
 * RFC 3339 UTC timestamps: see evtime.h.
 */
#include <stdbool.h>
#include <stdint.h>

#include "proto/err.h"
#include "proto/evtime.h"

#define MS_PER_DAY 86400000LL
/* 10000-01-01T00:00:00Z */
#define MS_LIMIT 253402300800000LL

static bool
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int64_t y, int m)
{
	static const int days[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (civil algorithm). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* n digits at s into *v; false if any is not a digit. */
static bool
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

int
pr_time_parse(const char *s, size_t len, int64_t *ms, const char **why)
{
	const char *w = "expected an RFC 3339 UTC date-time such as "
	                "\"2025-03-01T09:30:00Z\"";
	int y, mo, d, h, mi, se, frac = 0;
	size_t i, nfrac;

	if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		goto bad;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
	    !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
	    !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
		goto bad;
	i = 19;
	if (s[i] == '.') {
		for (i++, nfrac = 0; i < len && s[i] >= '0' && s[i] <= '9';
		     i++, nfrac++)
			if (nfrac < 3)
				frac = frac * 10 + (s[i] - '0');
		if (nfrac == 0 || nfrac > 9) {
			w = "the fraction of a second has 1 to 9 digits";
			goto bad;
		}
		for (; nfrac < 3; nfrac++)
			frac *= 10;
	}
	if (i < len && (s[i] == '+' || s[i] == '-' || s[i] == 'z')) {
		w = "times are in UTC and end in 'Z'; offsets such as "
		    "\"+06:00\" are not accepted";
		goto bad;
	}
	if (i != len - 1 || s[i] != 'Z')
		goto bad;
	if (y < 1970) {
		w = "the year is 1970 to 9999";
		goto bad;
	}
	if (mo < 1 || mo > 12) {
		w = "the month is 01 to 12";
		goto bad;
	}
	if (d < 1 || d > month_days(y, mo)) {
		w = "that day does not exist in that month";
		goto bad;
	}
	if (h > 23) {
		w = "the hour is 00 to 23 (24:00 is not accepted)";
		goto bad;
	}
	if (mi > 59) {
		w = "the minute is 00 to 59";
		goto bad;
	}
	if (se > 59) {
		w = "the second is 00 to 59 (leap seconds are not accepted)";
		goto bad;
	}
	*ms = days_from_civil(y, mo, d) * MS_PER_DAY +
	    ((int64_t)h * 3600 + mi * 60 + se) * 1000 + frac;
	return 0;
bad:
	if (why != NULL)
		*why = w;
	return PR_EFORMAT;
}

/* Write v as n decimal digits (zero-padded) at p. */
static char *
put(char *p, int64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

int
pr_time_format(int64_t ms, char buf[PR_TIME_STRLEN])
{
	int64_t days, rem, y;
	int m, d;
	char *p = buf;

	if (ms < 0 || ms >= MS_LIMIT)
		return PR_ERANGE;
	days = ms / MS_PER_DAY;
	rem = ms % MS_PER_DAY;
	civil_from_days(days, &y, &m, &d);
	p = put(p, y, 4);
	*p++ = '-';
	p = put(p, m, 2);
	*p++ = '-';
	p = put(p, d, 2);
	*p++ = 'T';
	p = put(p, rem / 3600000, 2);
	*p++ = ':';
	p = put(p, rem / 60000 % 60, 2);
	*p++ = ':';
	p = put(p, rem / 1000 % 60, 2);
	if (rem % 1000 != 0) {
		*p++ = '.';
		p = put(p, rem % 1000, 3);
	}
	*p++ = 'Z';
	*p = '\0';
	return 0;
}
