/*
 * Fuzz the request target as procured reads it: libevent's URI parser
 * with the flags evhttp applies to a request line, then
 * http_parse_target() (percent-decoding, NUL bytes, query parameters,
 * repeats), then what the routes apply to the path and the query: tile
 * paths, decimal parameters, times and hashes.  The input is the target
 * up to its first NUL byte (a request line cannot hold one).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon/http.h"
#include "daemon/query.h"
#include "proto/enc.h"
#include "proto/merkle.h"
#include "proto/tile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const u64_params[] = {
    "index", "tree_size", "first", "second", "limit", "cursor"};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_target_error err;
	struct evhttp_uri *uri;
	struct http_req r;
	struct pr_tile t;
	pr_hash h;
	uint64_t v;
	int64_t ms;
	const char *s;
	char *target, *path = NULL;
	size_t i;

	if ((target = malloc(size + 1)) == NULL)
		return 0;
	memcpy(target, data, size);
	target[size] = '\0';
	memset(&r, 0, sizeof(r));
	memset(&err, 0, sizeof(err));
	TAILQ_INIT(&r.query);
	uri = evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT);
	if (uri != NULL && http_parse_target(uri, &path, &r.query, &err) == 0) {
		if (strlen(path) == 0 || path[0] != '/' || err.code != NULL)
			abort(); /* success means an absolute, NUL-free path */
		r.path = path;
		if (strncmp(path, "/tile/", 6) == 0 &&
		    pr_tile_parse(path + 1, strlen(path + 1), &t) == 0 &&
		    (t.width == 0 || t.width > 256))
			abort();
		for (i = 0; i < sizeof(u64_params) / sizeof(u64_params[0]); i++)
			(void)http_query_u64(&r, u64_params[i], &v);
		(void)time_param(&r, "from", &ms);
		(void)time_param(&r, "to", &ms);
		if ((s = http_query_str(&r, "leaf_hash")) != NULL)
			(void)pr_hex_decode(s, strlen(s), h, sizeof(h));
	}
	evhttp_clear_headers(&r.query);
	free(path);
	if (uri != NULL)
		evhttp_uri_free(uri);
	free(target);
	return 0;
}
