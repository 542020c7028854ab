/*
 * Helpers shared by the red-flag engine's unit tests (test_flags.c,
 * test_flags_totals.c), which include daemon/flags_index.c for apply(),
 * and the stubs of the HTTP helpers their query handlers call.
 */
#ifndef FLAGS_TEST_H
#define FLAGS_TEST_H

/* Parse text as an event and apply it to f as entry idx with leaf hash
 * leaf; an event that does not parse fails the test, naming it. */
static void
fold_event(struct flags *f, uint64_t idx, const uint8_t *leaf,
    const char *text)
{
	struct pr_event_error err;
	struct pr_event *e;

	memset(&err, 0, sizeof(err));
	if (pr_event_parse((const uint8_t *)text, strlen(text), &e, &err) != 0)
		fail_msg("event %llu: %s at %s: %s\n%s",
		    (unsigned long long)idx, err.code, err.path, err.message,
		    text);
	assert_int_equal(apply(f, idx, leaf, e), 0);
	pr_event_free(e);
}

/* A leaf hash of its own for each entry index below 65,536. */
static void
leaf_of(uint64_t idx, uint8_t out[PR_HASH_LEN])
{
	memset(out, (int)(idx & 0xff), PR_HASH_LEN);
	out[0] = (uint8_t)(idx >> 8);
}

/* Fold the event text (printf format) into f as entry idx, as the
 * indexer does. */
static void ev(struct flags *f, uint64_t idx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
ev(struct flags *f, uint64_t idx, const char *fmt, ...)
{
	uint8_t leaf[PR_HASH_LEN];
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	leaf_of(idx, leaf);
	fold_event(f, idx, leaf, buf);
	f->indexed = idx + 1;
}

/* Stubs for daemon/http.c and daemon/query.c: the query handlers read
 * the query from q_names/q_values and reply into reply_status,
 * reply_code and reply_json. */

static const char *q_names[8], *q_values[8];
static size_t q_n;
static int reply_status;
static char reply_code[64];
static json_t *reply_json;

const char *
http_query_str(struct http_req *r, const char *name)
{
	size_t i;

	(void)r;
	for (i = 0; i < q_n; i++)
		if (strcmp(q_names[i], name) == 0)
			return q_values[i];
	return NULL;
}

int
http_query_u64(struct http_req *r, const char *name, uint64_t *out)
{
	const char *s = http_query_str(r, name);
	char *end;

	if (s == NULL)
		return PR_ENOTFOUND;
	*out = strtoull(s, &end, 10);
	return *end == '\0' && s[0] >= '0' && s[0] <= '9' ? 0 : PR_EFORMAT;
}

void
http_error(struct http_req *r, int status, const char *code, const char *field,
    const char *fmt, ...)
{
	(void)r;
	(void)field;
	(void)fmt;
	reply_status = status;
	snprintf(reply_code, sizeof(reply_code), "%s", code);
}

void
http_reply_json(struct http_req *r, int status, json_t *j)
{
	(void)r;
	reply_status = status;
	json_decref(reply_json);
	reply_json = j;
}

void
http_set_header(struct http_req *r, const char *name, const char *val)
{
	(void)r;
	(void)name;
	(void)val;
}

int
time_param(struct http_req *r, const char *name, int64_t *ms)
{
	const char *s = http_query_str(r, name);

	if (s == NULL)
		return PR_ENOTFOUND;
	return pr_time_parse(s, strlen(s), ms, NULL) == 0 ? 0 : PR_EFORMAT;
}

#endif
