/*
 * RFC 3339 timestamps of the event model, in UTC only.
 *
 *	date-time = YYYY "-" MM "-" DD "T" hh ":" mm ":" ss [ "." 1*9DIGIT ] "Z"
 *
 * Upper-case 'T' and 'Z' only; numeric offsets (even "+00:00") are
 * refused so one instant has one spelling up to its fraction.  Years
 * 1970 to 9999; hour 00-23 (no 24:00); second 00-59 (no leap second 60);
 * the day must exist in that month (29 February only in leap years).
 * Fraction digits beyond milliseconds are accepted and truncated.
 * Times are int64 milliseconds since 1970-01-01T00:00:00Z.
 */
#ifndef PR_EVTIME_H
#define PR_EVTIME_H

#include <stddef.h>
#include <stdint.h>

/* "YYYY-MM-DDThh:mm:ss.mmmZ" and a NUL. */
#define PR_TIME_STRLEN 25

/*
 * Parse s[0..len) into *ms.  Returns 0, or PR_EFORMAT with *why (if not
 * NULL) set to a static sentence saying what was wrong.  *ms is written
 * only on success.
 */
int pr_time_parse(const char *s, size_t len, int64_t *ms, const char **why);

/*
 * Format ms (>= 0, before year 10000) as RFC 3339 UTC, with ".mmm" only
 * when ms is not a whole second.  buf holds PR_TIME_STRLEN bytes.
 * Returns 0 or PR_ERANGE.
 */
int pr_time_format(int64_t ms, char buf[PR_TIME_STRLEN]);

#endif
