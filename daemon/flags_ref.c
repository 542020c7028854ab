/*
 * The reference price list of the red-flag engine (flag-reference-prices):
 * a CSV file of unit price caps, such as a national formulary's maximum
 * prices, one row an item code and unit:
 *
 *	# comment
 *	item,unit,price,currency          (an optional header)
 *	ATC:J01CA04,H87,35.00,KZT
 *	INN:enoxaparin sodium,H87,1440.00,KZT
 *
 * item is SCHEME:CODE as in the log's item index; unit a UN/CEFACT code;
 * price a decimal with at most the currency's minor digits.  Fields are
 * separated by commas and trimmed of blanks; no quoting.  A row repeated
 * for the same item, unit and currency is an error.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/flags_int.h"
#include "daemon/hmap.h"
#include "proto/buf.h"
#include "proto/err.h"
#include "proto/log.h"
#include "proto/money.h"

#define REF_FIELDS 4

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
unit_ok(const char *u)
{
	size_t n = strlen(u), i;

	if (n < 2 || n > 3)
		return 0;
	for (i = 0; i < n; i++)
		if (!isupper((unsigned char)u[i]) &&
		    !isdigit((unsigned char)u[i]))
			return 0;
	return 1;
}

static int
code_ok(const char *c)
{
	const char *colon = strchr(c, ':');

	return colon != NULL && colon > c && colon[1] != '\0';
}

/* Parse one data line into f's map; a sentence in why on error. */
static int
ref_line(struct flags *f, char *line, const char **why)
{
	char *fld[REF_FIELDS], *p = line;
	const struct pr_currency *cur;
	struct fl_ref *r;
	fl_str key[3];
	int64_t price;
	size_t n = 0;
	void *old;

	while (n < REF_FIELDS) {
		fld[n++] = p;
		if ((p = strchr(p, ',')) == NULL)
			break;
		*p++ = '\0';
	}
	if (n != REF_FIELDS || p != NULL) {
		*why = "expected 4 fields: item,unit,price,currency";
		return PR_ECONFIG;
	}
	for (n = 0; n < REF_FIELDS; n++)
		fld[n] = trim(fld[n]);
	if (!code_ok(fld[0])) {
		*why = "item must be SCHEME:CODE, e.g. ATC:J01CA04";
		return PR_ECONFIG;
	}
	if (!unit_ok(fld[1])) {
		*why = "unit must be a UN/CEFACT code such as H87";
		return PR_ECONFIG;
	}
	if ((cur = pr_currency_find(fld[3], strlen(fld[3]))) == NULL) {
		*why = "unknown currency";
		return PR_ECONFIG;
	}
	if (pr_decimal_parse(fld[2], strlen(fld[2]), cur->exponent, &price) !=
	        0 ||
	    price <= 0) {
		*why = "price must be a positive decimal with at most the "
		       "currency's minor digits";
		return PR_ECONFIG;
	}
	key[0] = fl_intern(f, fld[0]);
	key[1] = fl_intern(f, fld[1]);
	key[2] = fl_intern(f, cur->code);
	if (key[0] == FL_NONE || key[1] == FL_NONE || key[2] == FL_NONE)
		return PR_ENOMEM;
	if (hmap_get(f->refmap, key, sizeof(key), NULL, NULL, &old)) {
		*why = "this item, unit and currency already have a price";
		return PR_ECONFIG;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return PR_ENOMEM;
	r->code = key[0];
	r->unit = key[1];
	r->currency = key[2];
	r->price = price;
	if (hmap_put(f->refmap, key, sizeof(key), NULL, 0, 0, r) != 0) {
		free(r);
		return PR_ENOMEM;
	}
	f->nrefs++;
	return 0;
}

int
fl_ref_parse(struct flags *f, const char *text, size_t len, const char *name)
{
	char line[1024], *s;
	const char *p = text, *end = text + len, *nl, *why = NULL;
	unsigned lineno = 0;
	size_t n;
	int rc = 0, first = 1;

	while (rc == 0 && p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		if (n >= sizeof(line)) {
			why = "line too long";
			rc = PR_ECONFIG;
			break;
		}
		if (memchr(p, '\0', n) != NULL) {
			why = "a NUL byte: not a text file";
			rc = PR_ECONFIG;
			break;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : end;
		if ((s = strchr(line, '#')) != NULL)
			*s = '\0';
		s = trim(line);
		if (*s == '\0')
			continue;
		if (first && strncmp(s, "item,", 5) == 0) {
			first = 0;
			continue;
		}
		first = 0;
		rc = ref_line(f, s, &why);
	}
	if (rc != 0) {
		log_warnx("flag-reference-prices %s:%u: %s", name, lineno,
		    why ? why : pr_strerror(rc));
		return rc;
	}
	return 0;
}

int
fl_ref_load(struct flags *f, const char *path)
{
	struct pr_buf b = PR_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *fp;
	int rc = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		log_warnx(
		    "flag-reference-prices %s: %s", path, strerror(errno));
		return PR_ECONFIG;
	}
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		rc = pr_buf_append(&b, chunk, n);
	if (rc == 0 && ferror(fp)) {
		log_warnx("flag-reference-prices %s: read error", path);
		rc = PR_ECONFIG;
	}
	fclose(fp);
	if (rc == 0)
		rc = fl_ref_parse(f, (const char *)b.data, b.len, path);
	pr_buf_free(&b);
	if (rc == 0)
		log_info("flags: %zu reference prices from %s", f->nrefs, path);
	return rc;
}

const struct fl_ref *
fl_ref_find(struct flags *f, fl_str code, fl_str unit, fl_str currency)
{
	fl_str key[3] = {code, unit, currency};
	void *ptr;

	if (f->nrefs == 0 ||
	    !hmap_get(f->refmap, key, sizeof(key), NULL, NULL, &ptr))
		return NULL;
	return ptr;
}

static int
ref_free(void *arg, const void *k, size_t klen, void *ptr)
{
	(void)arg;
	(void)k;
	(void)klen;
	free(ptr);
	return 0;
}

void
fl_ref_free(struct flags *f)
{
	if (f->refmap != NULL)
		hmap_walk(f->refmap, ref_free, NULL);
}
