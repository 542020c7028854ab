/*
 * Field readers of the event parser: JSON pointers, error reports and the
 * scalar and small-object readers (strings, dates, hashes, enums, parties,
 * money, periods).  Arrays of items, lots, milestones and bids are in
 * event_items.c.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/enc.h"
#include "proto/err.h"
#include "proto/event_int.h"
#include "proto/evtime.h"
#include "proto/ident.h"
#include "proto/money.h"

/*
 * Length of the longest prefix of s[0..len) that is at most max bytes
 * and does not end inside a UTF-8 sequence.
 */
static size_t
utf8_clip(const char *s, size_t len, size_t max)
{
	size_t n, lead;
	unsigned char c;
	size_t need;

	if (len <= max)
		return len;
	n = max;
	/* Back up over continuation bytes to the sequence's lead byte. */
	lead = n;
	while (lead > 0 && lead > n - 4 &&
	    ((unsigned char)s[lead - 1] & 0xc0) == 0x80)
		lead--;
	if (lead == 0)
		return 0;
	c = (unsigned char)s[lead - 1];
	if (c < 0x80)
		return n;
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	return n - (lead - 1) >= need ? n : lead - 1;
}

int
pp_clip(const char *s, size_t max)
{
	return (int)utf8_clip(s, strlen(s), max);
}

size_t
pp_push(struct pr_parse *p, const char *key)
{
	size_t mark = p->plen, room = sizeof(p->path) - 1;
	const char *k;

	if (p->plen < room)
		p->path[p->plen++] = '/';
	for (k = key; *k != '\0' && p->plen < room; k++) {
		/* RFC 6901: '~' is "~0" and '/' is "~1". */
		if ((*k == '~' || *k == '/') && p->plen + 1 < room) {
			p->path[p->plen++] = '~';
			p->path[p->plen++] = *k == '~' ? '0' : '1';
		} else if (*k != '~' && *k != '/')
			p->path[p->plen++] = *k;
		else
			break;
	}
	p->path[p->plen] = '\0';
	return mark;
}

size_t
pp_push_index(struct pr_parse *p, size_t i)
{
	char num[24], *d = num + sizeof(num) - 1;

	*d = '\0';
	do {
		*--d = (char)('0' + i % 10);
		i /= 10;
	} while (i != 0);
	return pp_push(p, d);
}

void
pp_pop(struct pr_parse *p, size_t mark)
{
	p->plen = mark;
	p->path[mark] = '\0';
}

static int
vfail(struct pr_parse *p, const char *code, const char *fmt, va_list ap)
{
	struct pr_event_error *e = p->err;
	size_t n;
	int len;

	if (e == NULL)
		return PR_EEVENT;
	e->code = code;
	n = utf8_clip(p->path, p->plen, sizeof(e->path) - 1);
	memcpy(e->path, p->path, n);
	e->path[n] = '\0';
	len = vsnprintf(e->message, sizeof(e->message), fmt, ap);
	if (len >= (int)sizeof(e->message))
		e->message[utf8_clip(e->message, sizeof(e->message) - 1,
		    sizeof(e->message) - 1)] = '\0';
	return PR_EEVENT;
}

int
pp_fail(struct pr_parse *p, const char *code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(p, code, fmt, ap);
	va_end(ap);
	return rc;
}

int
pp_fail_at(
    struct pr_parse *p, const char *key, const char *code, const char *fmt, ...)
{
	va_list ap;
	size_t mark;
	int rc;

	mark = pp_push(p, key);
	va_start(ap, fmt);
	rc = vfail(p, code, fmt, ap);
	va_end(ap);
	pp_pop(p, mark);
	return rc;
}

int
pp_nomem(struct pr_parse *p)
{
	pp_fail(p, "no_memory", "out of memory while parsing the event");
	return PR_ENOMEM;
}

const char *
pp_typename(const struct pr_json *v)
{
	switch (pr_json_type(v)) {
	case PR_JSON_OBJECT:
		return "an object";
	case PR_JSON_ARRAY:
		return "an array";
	case PR_JSON_STRING:
		return "a string";
	case PR_JSON_INTEGER:
		return "an integer";
	case PR_JSON_REAL:
		return "a number with a fraction or exponent";
	case PR_JSON_TRUE:
	case PR_JSON_FALSE:
		return "a boolean";
	case PR_JSON_NULL:
		return "null";
	}
	return "an unknown value";
}

static bool
in_list(const char *key, const char *const *list)
{
	if (list == NULL)
		return false;
	for (; *list != NULL; list++)
		if (strcmp(key, *list) == 0)
			return true;
	return false;
}

int
pp_fields(struct pr_parse *p, struct pr_json *obj, const char *const *allowed,
    const char *const *extra)
{
	const char *key, *const *l;
	struct pr_json *v;
	char names[200];
	size_t i, n = 0;
	int w;

	pr_json_object_foreach(obj, i, key, v)
	{
		(void)v;
		if (in_list(key, allowed) || in_list(key, extra))
			continue;
		names[0] = '\0';
		for (l = allowed; l != NULL && *l != NULL; l++) {
			w = snprintf(names + n, sizeof(names) - n, "%s%s",
			    n > 0 ? ", " : "", *l);
			if (w < 0 || (size_t)w >= sizeof(names) - n)
				break;
			n += (size_t)w;
		}
		for (l = extra; l != NULL && *l != NULL; l++) {
			w = snprintf(names + n, sizeof(names) - n, "%s%s",
			    n > 0 ? ", " : "", *l);
			if (w < 0 || (size_t)w >= sizeof(names) - n)
				break;
			n += (size_t)w;
		}
		return pp_fail_at(p, key, "unknown_field",
		    "unknown field \"%.*s\"; expected: %s", pp_clip(key, 40),
		    key, names);
	}
	return 0;
}

struct pr_json *
pp_get(struct pr_json *obj, const char *key)
{
	return pr_json_get(obj, key);
}

int
pp_missing(struct pr_parse *p, const char *key)
{
	return pp_fail_at(
	    p, key, "missing_field", "\"%s\" is required here", key);
}

static int
bad_type(
    struct pr_parse *p, const char *key, const char *want, struct pr_json *v)
{
	return pp_fail_at(
	    p, key, "bad_type", "expected %s, got %s", want, pp_typename(v));
}

int
pp_string(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, const char **out)
{
	struct pr_json *v = pr_json_get(obj, key);
	const unsigned char *s;
	size_t len, i, max;

	if (v == NULL) {
		if (flags & PP_REQ)
			return pp_missing(p, key);
		*out = NULL;
		return 0;
	}
	if (!pr_json_is_string(v))
		return bad_type(p, key, "a string", v);
	s = (const unsigned char *)pr_json_str(v);
	len = pr_json_len(v);
	if (len == 0)
		return pp_fail_at(p, key,
		    flags & PP_ID ? "bad_id" : "bad_string",
		    "must not be empty; leave the field out instead");
	if (flags & PP_ID) {
		if (len > PP_ID_MAX)
			return pp_fail_at(p, key, "bad_id",
			    "an identifier is at most %d bytes", PP_ID_MAX);
		for (i = 0; i < len; i++)
			if (s[i] < 0x21 || s[i] > 0x7e)
				return pp_fail_at(p, key, "bad_id",
				    "an identifier is printable ASCII "
				    "without spaces");
	} else {
		max = flags & PP_TEXT ? PP_TEXT_MAX : PP_NAME_MAX;
		if (len > max)
			return pp_fail_at(p, key, "bad_string",
			    "at most %zu bytes of UTF-8", max);
		for (i = 0; i < len; i++) {
			if (s[i] >= 0x20 && s[i] != 0x7f)
				continue;
			if ((flags & PP_TEXT) &&
			    (s[i] == '\n' || s[i] == '\t' || s[i] == '\r'))
				continue;
			return pp_fail_at(p, key, "bad_string",
			    "control characters are not allowed%s",
			    flags & PP_TEXT ? " (except tab and newline)" : "");
		}
	}
	*out = (const char *)s;
	return 0;
}

int
pp_object(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, struct pr_json **out)
{
	struct pr_json *v = pr_json_get(obj, key);

	if (v == NULL) {
		if (flags & PP_REQ)
			return pp_missing(p, key);
		*out = NULL;
		return 0;
	}
	if (!pr_json_is_object(v))
		return bad_type(p, key, "an object", v);
	*out = v;
	return 0;
}

int
pp_array(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, struct pr_json **out)
{
	struct pr_json *v = pr_json_get(obj, key);

	if (v == NULL) {
		if (flags & PP_REQ)
			return pp_missing(p, key);
		*out = NULL;
		return 0;
	}
	if (!pr_json_is_array(v))
		return bad_type(p, key, "an array", v);
	if (pr_json_size(v) == 0)
		return pp_fail_at(p, key, "empty_array",
		    "must have at least one element; leave the field out "
		    "instead");
	*out = v;
	return 0;
}

int
pp_date(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, bool *has, int64_t *out)
{
	struct pr_json *v = pr_json_get(obj, key);
	const char *why;

	if (v == NULL) {
		if (flags & PP_REQ)
			return pp_missing(p, key);
		if (has != NULL)
			*has = false;
		return 0;
	}
	if (!pr_json_is_string(v))
		return bad_type(p, key, "an RFC 3339 date-time string", v);
	if (pr_time_parse(pr_json_str(v), pr_json_len(v), out, &why) != 0)
		return pp_fail_at(p, key, "bad_date", "%s", why);
	if (has != NULL)
		*has = true;
	return 0;
}

int
pp_hash(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, bool *has, uint8_t out[PR_EVENT_HASH_LEN])
{
	struct pr_json *v = pr_json_get(obj, key);
	const char *s;
	size_t i;

	if (v == NULL) {
		if (flags & PP_REQ)
			return pp_missing(p, key);
		if (has != NULL)
			*has = false;
		return 0;
	}
	if (!pr_json_is_string(v))
		return bad_type(p, key, "a string of 64 hex digits", v);
	s = pr_json_str(v);
	if (pr_json_len(v) != 2 * PR_EVENT_HASH_LEN)
		goto bad;
	for (i = 0; i < 2 * PR_EVENT_HASH_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			goto bad;
	if (pr_hex_decode(s, 2 * PR_EVENT_HASH_LEN, out, PR_EVENT_HASH_LEN) !=
	    0)
		goto bad;
	if (has != NULL)
		*has = true;
	return 0;
bad:
	return pp_fail_at(
	    p, key, "bad_hex", "expected 64 lower-case hex digits (32 bytes)");
}

int
pp_enum(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, const char *const *names, size_t n, int *out)
{
	struct pr_json *v = pr_json_get(obj, key);
	const char *s;
	char list[160];
	size_t i, len = 0;
	int w;

	if (v == NULL) {
		if (flags & PP_REQ)
			return pp_missing(p, key);
		*out = 0;
		return 0;
	}
	if (!pr_json_is_string(v))
		return bad_type(p, key, "a string", v);
	s = pr_json_str(v);
	for (i = 1; i < n; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	list[0] = '\0';
	for (i = 1; i < n; i++) {
		w = snprintf(list + len, sizeof(list) - len, "%s\"%s\"",
		    i > 1 ? ", " : "", names[i]);
		if (w < 0 || (size_t)w >= sizeof(list) - len)
			break;
		len += (size_t)w;
	}
	return pp_fail_at(p, key, "bad_enum", "expected one of %s", list);
}

int
pp_party_value(struct pr_parse *p, struct pr_json *o, struct pr_party *out)
{
	static const char *const fields[] = {"id", "name", NULL};
	const char *id, *name, *why;
	int rc;

	if ((rc = pp_fields(p, o, fields, NULL)) != 0 ||
	    (rc = pp_string(p, o, "id", PP_REQ | PP_ID, &id)) != 0 ||
	    (rc = pp_string(p, o, "name", 0, &name)) != 0)
		return rc;
	if ((why = pr_party_id_check(id, strlen(id))) != NULL)
		return pp_fail_at(p, "id",
		    pr_party_id_is_bin(id, strlen(id)) ? "bad_bin"
		                                       : "bad_identifier",
		    "%s", why);
	out->id = id;
	out->name = name;
	return 0;
}

int
pp_party(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, struct pr_party *out)
{
	struct pr_json *o = NULL;
	size_t mark;
	int rc;

	if ((rc = pp_object(p, obj, key, flags, &o)) != 0)
		return rc;
	if (o == NULL) {
		out->id = out->name = NULL;
		return 0;
	}
	mark = pp_push(p, key);
	rc = pp_party_value(p, o, out);
	pp_pop(p, mark);
	return rc;
}

static int
money_amount(struct pr_parse *p, struct pr_json *o,
    const struct pr_currency *cur, int64_t *out)
{
	struct pr_json *v = pr_json_get(o, "amount");
	const char *s;
	int rc;

	s = pr_json_str(v);
	rc = pr_decimal_parse(s, pr_json_len(v), cur->exponent, out);
	if (rc == PR_ETRUNC)
		return pp_fail_at(p, "amount", "too_many_decimals",
		    "%s has %u decimal places; \"%.*s\" has more", cur->code,
		    cur->exponent, pp_clip(s, 40), s);
	if (rc == PR_ERANGE)
		return pp_fail_at(p, "amount", "money_overflow",
		    "the amount exceeds the largest representable value, "
		    "%" PRId64 " minor units",
		    INT64_MAX);
	if (rc != 0)
		return pp_fail_at(p, "amount", "bad_money",
		    s[0] == '-' ? "amounts are never negative"
		                : "expected a decimal string such as "
		                  "\"12345.67\": digits, an optional "
		                  "fraction, no sign, exponent or leading "
		                  "zeros");
	return 0;
}

int
pp_money(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, bool *has, struct pr_money *out)
{
	static const char *const fields[] = {"amount", "currency", NULL};
	const struct pr_currency *cur;
	struct pr_json *o = NULL, *a, *c;
	size_t mark;
	int rc;

	if ((rc = pp_object(p, obj, key, flags, &o)) != 0)
		return rc;
	if (o == NULL) {
		if (has != NULL)
			*has = false;
		return 0;
	}
	mark = pp_push(p, key);
	if ((rc = pp_fields(p, o, fields, NULL)) != 0)
		goto out;
	if ((a = pr_json_get(o, "amount")) == NULL) {
		rc = pp_missing(p, "amount");
		goto out;
	}
	if (pr_json_is_number(a)) {
		rc = pp_fail_at(p, "amount", "bad_money",
		    "amounts are decimal strings such as \"12345.67\", "
		    "never JSON numbers");
		goto out;
	}
	if (!pr_json_is_string(a)) {
		rc = bad_type(p, "amount", "a decimal string", a);
		goto out;
	}
	if ((c = pr_json_get(o, "currency")) == NULL) {
		rc = pp_missing(p, "currency");
		goto out;
	}
	if (!pr_json_is_string(c)) {
		rc = bad_type(p, "currency", "an ISO 4217 code", c);
		goto out;
	}
	cur = pr_currency_find(pr_json_str(c), pr_json_len(c));
	if (cur == NULL) {
		rc = pp_fail_at(p, "currency", "bad_currency",
		    "\"%.*s\" is not an ISO 4217 currency code this log "
		    "knows (such as KZT, RUB, USD, EUR)",
		    pp_clip(pr_json_str(c), 8), pr_json_str(c));
		goto out;
	}
	if (p->currency == NULL)
		p->currency = cur->code;
	else if (strcmp(p->currency, cur->code) != 0) {
		rc = pp_fail_at(p, "currency", "currency_mismatch",
		    "all amounts of an event are in one currency: %s here, "
		    "%s before",
		    cur->code, p->currency);
		goto out;
	}
	if ((rc = money_amount(p, o, cur, &out->amount)) != 0)
		goto out;
	memcpy(out->currency, cur->code, 4);
	out->exponent = cur->exponent;
	if (has != NULL)
		*has = true;
out:
	pp_pop(p, mark);
	return rc;
}

int
pp_period(struct pr_parse *p, struct pr_json *obj, const char *key,
    unsigned flags, bool need_start, struct pr_period *out)
{
	static const char *const fields[] = {"startDate", "endDate", NULL};
	struct pr_period per;
	struct pr_json *o = NULL;
	size_t mark;
	int rc;

	memset(&per, 0, sizeof(per));
	if ((rc = pp_object(p, obj, key, flags, &o)) != 0)
		return rc;
	if (o == NULL) {
		*out = per;
		return 0;
	}
	mark = pp_push(p, key);
	if ((rc = pp_fields(p, o, fields, NULL)) != 0 ||
	    (rc = pp_date(p, o, "startDate", need_start ? PP_REQ : 0,
	         &per.has_start, &per.start)) != 0 ||
	    (rc = pp_date(p, o, "endDate", PP_REQ, &per.has_end, &per.end)) !=
	        0)
		goto out;
	if (per.has_start && per.end <= per.start) {
		rc = pp_fail_at(p, "endDate", "bad_period",
		    "endDate must be after startDate");
		goto out;
	}
	*out = per;
out:
	pp_pop(p, mark);
	return rc;
}

int
pp_funding(struct pr_parse *p, struct pr_json *obj, unsigned flags,
    enum pr_funding *out)
{
	int v, rc;

	if ((rc = pp_enum(p, obj, "fundingSource", flags, pp_funding_names,
	         PP_NFUNDING, &v)) != 0)
		return rc;
	*out = (enum pr_funding)v;
	return 0;
}
