/*
 * The request target as procured reads it (http_parse_target(), see
 * daemon/http.h): kept apart from the server so the fuzz harness can
 * drive it without one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon/http.h"

#define MAX_QUERY_PARAMS 64

static int
target_fail(struct http_target_error *err, const char *code, const char *field,
    const char *msg)
{
	err->code = code;
	err->field = field;
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	return -1;
}

int
http_parse_target(const struct evhttp_uri *uri, char **path,
    struct evkeyvalq *query, struct http_target_error *err)
{
	const char *rawpath, *rawquery;
	struct evkeyval *a, *b;
	size_t plen, n = 0;
	char *p;

	*path = NULL;
	rawpath = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (rawpath == NULL || rawpath[0] != '/')
		return target_fail(err, "bad_request", "path",
		    "the request target must be an absolute path");
	if ((p = evhttp_uridecode(rawpath, 0, &plen)) == NULL ||
	    strlen(p) != plen) {
		free(p);
		return target_fail(err, "bad_request", "path",
		    "the request path holds a NUL byte or bad escape");
	}
	*path = p;
	rawquery = evhttp_uri_get_query(uri);
	if (rawquery != NULL && evhttp_parse_query_str(rawquery, query))
		return target_fail(
		    err, "bad_query", "query", "the query string is malformed");
	/* A parameter given twice is ambiguous: refuse it (and floods). */
	TAILQ_FOREACH(a, query, next)
	{
		if (++n > MAX_QUERY_PARAMS) {
			target_fail(err, "bad_query", "query", "");
			snprintf(err->msg, sizeof(err->msg),
			    "more than %d query parameters", MAX_QUERY_PARAMS);
			return -1;
		}
		for (b = TAILQ_NEXT(a, next); b != NULL;
		     b = TAILQ_NEXT(b, next))
			if (strcmp(a->key, b->key) == 0) {
				target_fail(err, "bad_query", a->key, "");
				snprintf(err->msg, sizeof(err->msg),
				    "query parameter '%.100s' is given more "
				    "than once",
				    a->key);
				return -1;
			}
	}
	return 0;
}
